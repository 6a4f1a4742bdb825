//! Peer drills in chat. A channel's queue (`/spar join`, `/spar leave`) is paired with
//! `spar_core::peer` (`/spar pair`) into groups, each in its own private thread: the
//! candidate reads the setting and goal there, the member playing the antagonist is sent
//! the persona and hidden brief privately, an observer's messages are notes. After the
//! scorecard everyone rates the candidate, and the combined debrief follows; "Swap roles"
//! starts the mirror drill. Weekly rounds (`/spar rounds`) are stored state machines the
//! clock loop fires: reminders, the opening, no-shows and re-matching.

use super::commands::same_person;
use super::runtime::{Failure, Handled, Pending, thread_title, unknown_scenario};
use super::{
    Action, BriefView, Button, ChatSurface, Invocation, Reply, RoundsCommand, Runtime, SurfaceError,
};
use crate::engine::Sender;
use chrono::{DateTime, Utc};
use spar_core::drill::{DrillSettings, Event, Mode, Phase};
use spar_core::peer::ratings::parse_dimension;
use spar_core::peer::{
    self, AntagonistBrief, CombinedDebrief, Entry, Group, History, LeftOut, OddOneOut, PeerText,
    Preference, Rating, Roster, RoundEffect, RoundEvent, RoundPhase, Schedule, ScheduledRound,
};
use spar_core::scenario::{Difficulty, Scenario};
use spar_core::scoring::{DimensionName, Scorecard};
use spar_core::store::{
    ChatPlace, DrillId, EpochMillis, EventKey, LoadedDrill, NewDrill, Participant, PersonRef,
    RoundRecord, ScheduleRecord, StoreError, StoredRating, Waiting, WorkspaceRef,
};
use spar_core::transcript::Role;
use std::collections::HashMap;

/// How long a claimed round timer stays with the instance that claimed it.
const ROUND_LEASE_MS: i64 = 120_000;
/// How many due rounds one sweep takes on.
const ROUND_BATCH: u32 = 16;
/// How often a round's change is retried when another instance changed it first.
const ROUND_ATTEMPTS: usize = 8;
/// The longest drill a round may set.
const MAX_DRILL_MINUTES: u32 = 120;

/// A group about to open: its members, what they drill, and where.
struct Opening<'a> {
    workspace: &'a WorkspaceRef,
    channel: &'a str,
    group: &'a Group,
    people: &'a HashMap<String, PersonRef>,
    scenario: &'a Scenario,
    difficulty: Difficulty,
    /// A round's drill length, else the runtime's or the scenario's.
    time_limit_s: Option<u32>,
    /// The thread to drill in (the mirror drill stays in its group's thread); else a new
    /// one opens.
    place: Option<ChatPlace>,
    public: bool,
}

/// Chance for pairing and scenario choice; the core takes it as a seed.
fn random_seed() -> u64 {
    uuid::Uuid::new_v4().as_u64_pair().0
}

fn utc(at: EpochMillis) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(at).unwrap_or_default()
}

/// The channel a command's queue or round belongs to: a thread's parent, else the channel.
fn home(inv: &Invocation) -> &str {
    inv.parent_channel.as_deref().unwrap_or(&inv.channel)
}

/// A channel as a place to tell someone something outside any drill.
fn channel_place(channel: &str) -> ChatPlace {
    ChatPlace {
        channel: channel.to_string(),
        thread: channel.to_string(),
    }
}

fn private(text: impl Into<String>) -> Result<Handled, Failure> {
    Ok(Handled::reply(Reply::private(text)))
}

/// Waiting members by platform user id, the names pairing uses.
fn people_of(waiting: &[Waiting]) -> HashMap<String, PersonRef> {
    waiting
        .iter()
        .map(|w| (w.person.platform_user_id.clone(), w.person.clone()))
        .collect()
}

/// A drill's participants by platform user id.
fn people_in(loaded: &LoadedDrill) -> HashMap<String, PersonRef> {
    loaded
        .participants
        .iter()
        .map(|m| (m.person.platform_user_id.clone(), m.person.clone()))
        .collect()
}

/// A drill's group, by platform user id.
fn group_of(loaded: &LoadedDrill) -> Option<Group> {
    let id = |role: Role| {
        loaded
            .member(role)
            .map(|m| m.person.platform_user_id.clone())
    };
    Some(Group::new(
        id(Role::Candidate)?,
        id(Role::Antagonist),
        id(Role::Observer),
    ))
}

/// The group with display names, for lines people read.
fn named(group: &Group, people: &HashMap<String, PersonRef>) -> Group {
    let name = |m: &str| {
        people
            .get(m)
            .map_or(m.to_string(), |p| p.display_name.clone())
    };
    Group {
        candidate: name(&group.candidate),
        antagonist: group.antagonist.as_deref().map(name),
        observer: group.observer.as_deref().map(name),
        ..group.clone()
    }
}

impl Runtime {
    pub(super) fn peer_text(&self) -> Result<&PeerText, Failure> {
        if let Some(text) = self.peer_text.get() {
            return Ok(text);
        }
        let text = PeerText::embedded().map_err(|e| Failure::Other(e.to_string()))?;
        Ok(self.peer_text.get_or_init(|| text))
    }

    fn surface_of(&self, platform: &str) -> Result<std::sync::Arc<dyn ChatSurface>, Failure> {
        self.surface(platform)
            .cloned()
            .ok_or_else(|| Failure::Other(format!("no {platform} surface is running")))
    }

    /// A scenario from the library other than `avoid`, spread by `salt`.
    fn any_scenario(&self, salt: u64, avoid: &str) -> Result<&Scenario, Failure> {
        let others: Vec<&Scenario> = self.library.iter().filter(|s| s.id != avoid).collect();
        let from = if others.is_empty() {
            self.library.iter().collect()
        } else {
            others
        };
        if from.is_empty() {
            return Err(Failure::Other("no scenarios are loaded".into()));
        }
        Ok(from[(salt % from.len() as u64) as usize])
    }

    /// The group's scenario, or one from the library when it has none.
    fn scenario_for(&self, group: &Group, salt: u64) -> Result<&Scenario, Failure> {
        match group
            .scenario
            .as_deref()
            .and_then(|id| self.library.get(id))
        {
            Some(scenario) => Ok(scenario),
            None => self.any_scenario(salt, ""),
        }
    }

    /// A channel's pairing history, replayed from the store.
    async fn pairing_history(
        &self,
        workspace: &WorkspaceRef,
        channel: &str,
    ) -> Result<History, Failure> {
        let mut history = History::new();
        for groups in self
            .engine
            .store()
            .peer()
            .pairing_history(workspace, channel)
            .await?
        {
            history.record(&groups);
        }
        Ok(history)
    }

    // ----- the queue -----

    pub(super) async fn join(
        &self,
        inv: &Invocation,
        scenario: Option<&str>,
        difficulty: Option<&str>,
        solo_if_alone: bool,
    ) -> Result<Handled, Failure> {
        let scenario = match scenario.map(str::trim).filter(|s| !s.is_empty()) {
            Some(id) if self.library.get(id).is_none() => {
                return private(unknown_scenario(id, &self.library));
            }
            other => other.map(str::to_string),
        };
        let difficulty = match difficulty.map(str::trim).filter(|d| !d.is_empty()) {
            Some(d) => match d.parse::<Difficulty>() {
                Ok(d) => Some(d),
                Err(e) => return private(format!("{e}.")),
            },
            None => None,
        };
        let entry = Entry {
            member: inv.person.platform_user_id.clone(),
            scenario,
            difficulty,
            preference: if solo_if_alone {
                Preference::SoloIfNoPartner
            } else {
                Preference::PeerOnly
            },
        };
        let channel = home(inv);
        let config = self.engine.store().workspace_config(&inv.workspace).await?;
        if let Some(drill_channel) = config.drill_channel.as_deref().filter(|c| *c != channel) {
            let surface = self.surface_of(&inv.workspace.platform)?;
            return private(format!(
                "Drills on this server start in {}; join the queue there.",
                surface.link(&inv.workspace.external_id, &channel_place(drill_channel))
            ));
        }
        let store = self.engine.store().peer();
        let added = store
            .join_queue(
                &inv.workspace,
                channel,
                &inv.person,
                &entry,
                self.clock.now(),
            )
            .await?;
        let waiting = store.queue(&inv.workspace, channel).await?.len();
        private(format!(
            "{} this channel's peer queue ({waiting} waiting). `/spar pair` pairs everyone waiting{}; `/spar leave` takes you out.",
            if added {
                "You joined"
            } else {
                "Your wishes are updated in"
            },
            if solo_if_alone {
                ", and you get a solo drill if nobody else is there"
            } else {
                ""
            }
        ))
    }

    pub(super) async fn leave(&self, inv: &Invocation) -> Result<Handled, Failure> {
        let left = self
            .engine
            .store()
            .peer()
            .leave_queue(&inv.workspace, home(inv), &inv.person)
            .await?;
        private(if left {
            "You left this channel's peer queue."
        } else {
            "You were not in this channel's peer queue."
        })
    }

    /// Pairs the channel's queue: a thread and a drill per group, and a word to whoever
    /// was left out saying why. Grouped members leave the queue; the left out stay.
    pub(super) async fn pair(&self, inv: &Invocation) -> Result<Handled, Failure> {
        let channel = home(inv).to_string();
        let surface = self.surface_of(&inv.workspace.platform)?;
        let store = self.engine.store();
        let queue = store.peer().queue(&inv.workspace, &channel).await?;
        if queue.is_empty() {
            return private("Nobody is waiting here. `/spar join` puts you in the queue.");
        }
        if !self.first_time(inv).await? {
            return private("That command was already handled.");
        }
        // A member still in a drill is not paired into another; they keep their place.
        let mut ready = Vec::with_capacity(queue.len());
        let mut drilling = Vec::new();
        for waiting in &queue {
            match store.live_drill_of(&inv.workspace, &waiting.person).await? {
                Some(live) => drilling.push((waiting.person.clone(), live)),
                None => ready.push(waiting.clone()),
            }
        }
        let history = self.pairing_history(&inv.workspace, &channel).await?;
        let entries: Vec<Entry> = ready.iter().map(|w| w.entry.clone()).collect();
        let people = people_of(&queue);
        let seed = random_seed();
        let mut pairing = peer::pair(&entries, &history, seed, OddOneOut::Trio);
        for (i, group) in pairing.groups.iter_mut().enumerate() {
            if group.scenario.is_none() {
                let salt = seed.wrapping_add(i as u64);
                group.scenario = Some(self.any_scenario(salt, "")?.id.clone());
            }
        }
        match store
            .peer()
            .record_pairing(
                &inv.workspace,
                &channel,
                &pairing.groups,
                true,
                self.clock.now(),
            )
            .await
        {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) => {
                return private(
                    "Someone paired this queue at the same moment; `/spar pair` again pairs whoever is still waiting.",
                );
            }
            Err(e) => return Err(e.into()),
        }
        let config = store.workspace_config(&inv.workspace).await?;
        let text = self.peer_text()?;
        let mut lines = Vec::new();
        for (i, group) in pairing.groups.iter().enumerate() {
            let scenario = self.scenario_for(group, seed.wrapping_add(i as u64))?;
            let opening = Opening {
                workspace: &inv.workspace,
                channel: &channel,
                group,
                people: &people,
                scenario,
                difficulty: group
                    .difficulty
                    .or(config.default_difficulty)
                    .unwrap_or_default(),
                time_limit_s: None,
                place: None,
                public: config.public_threads,
            };
            let line = text.group_line(&named(group, &people));
            match self.open_group(surface.as_ref(), &opening).await {
                Ok((pending, place)) => {
                    lines.push(format!(
                        "• {}: {line}",
                        surface.link(&inv.workspace.external_id, &place)
                    ));
                    self.perform(pending).await;
                }
                Err(Failure::Surface(
                    refused @ (SurfaceError::Refused(_) | SurfaceError::MissingPermission(_)),
                )) => {
                    // The platform would not open the thread (the bot not invited, a
                    // permission or scope missing): nobody drilled, so the group's members
                    // keep their places for a pairing once it is fixed.
                    tracing::warn!(error = %refused, "the platform refused a peer group's thread");
                    for member in group.members() {
                        if let Some(w) = ready.iter().find(|w| w.entry.member == member) {
                            store
                                .peer()
                                .join_queue(
                                    &inv.workspace,
                                    &channel,
                                    &w.person,
                                    &w.entry,
                                    self.clock.now(),
                                )
                                .await?;
                        }
                    }
                    lines.push(format!(
                        "• {line}: the thread could not be opened. {refused} They keep their places in the queue."
                    ));
                }
                Err(e) => {
                    tracing::error!(error = %e, "could not open a peer group's drill");
                    lines.push(format!("• {line}: the thread could not be opened ({e})"));
                }
            }
        }
        for left in &pairing.left_out {
            let Some(person) = people.get(&left.member) else {
                continue;
            };
            let told = LeftOut {
                member: person.display_name.clone(),
                reason: left.reason,
            };
            lines.push(format!("• {}", text.left_out(&told)));
            if let Err(e) = surface
                .tell(person, &channel_place(&channel), &text.left_out(&told))
                .await
            {
                tracing::warn!(error = %e, "a member left out could not be told why");
            }
        }
        for (person, live) in &drilling {
            let link = live
                .place
                .as_ref()
                .map(|p| surface.link(&inv.workspace.external_id, p))
                .unwrap_or_default();
            let line = format!(
                "{} is still in a drill ({link}) and keeps their place for the next pairing.",
                person.display_name
            );
            lines.push(format!("• {line}"));
            if let Err(e) = surface.tell(person, &channel_place(&channel), &line).await {
                tracing::warn!(error = %e, "a member still drilling could not be told");
            }
        }
        private(format!(
            "Paired {} group{}:\n{}",
            pairing.groups.len(),
            if pairing.groups.len() == 1 { "" } else { "s" },
            lines.join("\n")
        ))
    }

    /// Opens a group's drill: the thread (unless it has one), the brief for the candidate
    /// in it, the roles, the hidden brief privately to the antagonist player, and the
    /// clock. A group without an antagonist player drills solo against the engine.
    async fn open_group(
        &self,
        surface: &dyn ChatSurface,
        o: &Opening<'_>,
    ) -> Result<(Pending, ChatPlace), Failure> {
        let person = |id: &str| {
            o.people.get(id).cloned().unwrap_or_else(|| PersonRef {
                platform: o.workspace.platform.clone(),
                platform_user_id: id.to_string(),
                display_name: id.to_string(),
            })
        };
        let seats: Vec<(PersonRef, Role)> = o
            .group
            .seats()
            .into_iter()
            .map(|(member, role)| (person(member), role))
            .collect();
        let candidate = person(&o.group.candidate);
        let place = match &o.place {
            Some(place) => place.clone(),
            None => {
                let members: Vec<PersonRef> = seats.iter().map(|(p, _)| p.clone()).collect();
                let names: Vec<&str> = members.iter().map(|p| p.display_name.as_str()).collect();
                let title = thread_title(&o.scenario.title, &names.join(", "));
                surface
                    .open_thread(o.channel, &title, o.public, &members)
                    .await?
                    .place
            }
        };
        let time_limit_s = o
            .time_limit_s
            .or(self.options.time_limit_s)
            .unwrap_or(o.scenario.time_limit_s);
        let new = NewDrill {
            id: DrillId(uuid::Uuid::new_v4().to_string()),
            workspace: o.workspace.clone(),
            settings: DrillSettings {
                scenario_id: o.scenario.id.clone(),
                difficulty: o.difficulty,
                mode: if o.group.is_solo() {
                    Mode::Solo
                } else {
                    Mode::Peer
                },
                time_limit_s,
                max_turns: self.options.max_turns,
            },
            seed: Some(random_seed() as i64),
            created_at: self.clock.now(),
            participants: seats
                .iter()
                .map(|(person, role)| Participant {
                    person: person.clone(),
                    role: *role,
                })
                .collect(),
            place: Some(place.clone()),
        };
        let record = self.engine.start_drill(&new).await?;
        surface
            .post_brief(
                &place,
                BriefView {
                    scenario: o.scenario,
                    difficulty: o.difficulty,
                    time_limit_s,
                    candidate: &candidate,
                },
            )
            .await?;
        if let Some(antagonist) = o.group.antagonist.as_deref().map(person) {
            let text = self.peer_text()?;
            let observer = o.group.observer.as_deref().map(person);
            let roles = text.roles(
                &candidate.display_name,
                &antagonist.display_name,
                &o.scenario.persona.name,
                observer.as_ref().map(|p| p.display_name.as_str()),
            );
            let again = [Button {
                label: text.brief_button(),
                action: Action::Brief(record.id.clone()),
                danger: false,
            }];
            surface.post_buttons(&place, &roles, &again).await?;
            let brief = text.antagonist_brief(&AntagonistBrief {
                scenario: o.scenario,
                difficulty: o.difficulty,
                candidate: &candidate.display_name,
            });
            if let Err(e) = surface.tell_secret(&antagonist, &place, &brief).await {
                // The button under the roles shows it to them instead, only to them.
                tracing::info!(error = %e, "the hidden brief could not be sent privately");
            }
        }
        tracing::info!(drill = %record.id, scenario = %o.scenario.id, mode = new.settings.mode.as_str(), "a peer group's drill opened");
        let effects = self
            .engine
            .handle(
                &record.id,
                None,
                Sender::System,
                Event::Start,
                self.clock.now(),
            )
            .await?;
        Ok((
            Pending {
                drill: record,
                effects,
                sender: None,
                current: None,
            },
            place,
        ))
    }

    // ----- after the drill -----

    /// After a peer drill's scorecard: asks everyone to rate, and offers the mirror drill.
    pub(super) async fn request_ratings(
        &self,
        surface: &dyn ChatSurface,
        loaded: &LoadedDrill,
        place: &ChatPlace,
    ) -> Result<(), Failure> {
        let text = self.peer_text()?;
        let Some(candidate) = loaded.candidate() else {
            return Ok(());
        };
        let raters: Vec<&str> = loaded
            .participants
            .iter()
            .filter(|m| m.role != Role::Candidate)
            .map(|m| m.person.display_name.as_str())
            .collect();
        let drill = &loaded.record.id;
        let buttons = [
            Button {
                label: text.rate_button(),
                action: Action::Rate(drill.clone()),
                danger: false,
            },
            Button {
                label: text.swap_button(),
                action: Action::SwapRoles(drill.clone()),
                danger: false,
            },
        ];
        surface
            .post_buttons(
                place,
                &text.rate_request(&candidate.display_name, &raters),
                &buttons,
            )
            .await?;
        Ok(())
    }

    /// The Rate button, where a surface has no form for it: how to rate, in words.
    pub(super) async fn rating_help(
        &self,
        inv: &Invocation,
        drill: &DrillId,
    ) -> Result<Handled, Failure> {
        let _ = (inv, drill);
        let names: Vec<&str> = DimensionName::ALL
            .iter()
            .map(|d| self.debriefer.scorer().dimension_label(*d))
            .collect();
        private(format!(
            "Rate each dimension from 0 to 4: {}.",
            names.join(", ")
        ))
    }

    /// A rating from a surface's form: scores 0–4 by dimension name, and an optional
    /// sentence. Once everyone in the drill has rated, the combined debrief is posted in
    /// its thread.
    pub async fn rate(
        &self,
        inv: &Invocation,
        drill: &DrillId,
        scores: &[(String, u8)],
        sentence: Option<&str>,
    ) -> Handled {
        let outcome = self.save_rating(inv, drill, scores, sentence).await;
        self.answer_failure(outcome)
    }

    async fn save_rating(
        &self,
        inv: &Invocation,
        drill: &DrillId,
        scores: &[(String, u8)],
        sentence: Option<&str>,
    ) -> Result<Handled, Failure> {
        let store = self.engine.store();
        let loaded = match store.load_drill(drill).await {
            Ok(loaded) => loaded,
            Err(StoreError::NotFound(_)) => return private("That drill no longer exists."),
            Err(e) => return Err(e.into()),
        };
        let Some(member) = loaded
            .participants
            .iter()
            .find(|m| same_person(&m.person, &inv.person))
        else {
            return private("Only the people in a drill rate it.");
        };
        if loaded.record.settings.mode != Mode::Peer {
            return private("Only peer drills are rated by peers.");
        }
        if loaded.record.phase != Phase::Debriefed {
            return private("A drill is rated once its scorecard is out.");
        }
        let mut parsed = Vec::with_capacity(scores.len());
        for (name, score) in scores {
            match parse_dimension(name) {
                Ok(dimension) => parsed.push((dimension, *score)),
                Err(e) => return private(format!("{e}.")),
            }
        }
        let rating = match Rating::new(
            inv.person.display_name.clone(),
            member.role,
            parsed,
            sentence,
        ) {
            Ok(rating) => rating,
            Err(e) => return private(format!("{e}.")),
        };
        let now = self.clock.now();
        store
            .peer()
            .save_rating(
                drill,
                &StoredRating {
                    rater: inv.person.clone(),
                    role: member.role,
                    scores: rating
                        .scores()
                        .iter()
                        .map(|(d, s)| (d.as_str().to_string(), *s))
                        .collect(),
                    sentence: rating.sentence().map(str::to_string),
                    at: now,
                },
            )
            .await?;
        let ratings = store.peer().ratings(drill).await?;
        let missing: Vec<&str> = loaded
            .participants
            .iter()
            .filter(|m| !ratings.iter().any(|r| same_person(&r.rater, &m.person)))
            .map(|m| m.person.display_name.as_str())
            .collect();
        if !missing.is_empty() {
            return private(format!(
                "Thanks, your rating is saved. The combined debrief follows once {} {} rated.",
                missing.join(" and "),
                if missing.len() == 1 { "has" } else { "have" }
            ));
        }
        // Everyone has rated: the combined debrief goes out once, whoever rated last.
        let first = store
            .mark_event_processed(
                &EventKey {
                    platform: loaded.record.platform.clone(),
                    event_id: format!("combined:{drill}"),
                },
                now,
            )
            .await?;
        if first {
            self.post_combined(&loaded, &ratings).await?;
        }
        private(
            "Thanks, your rating is saved. Everyone has rated: the combined debrief is in the thread.",
        )
    }

    async fn post_combined(
        &self,
        loaded: &LoadedDrill,
        ratings: &[StoredRating],
    ) -> Result<(), Failure> {
        let surface = self.surface_of(&loaded.record.platform)?;
        let (Some(place), Some(card)) = (&loaded.record.place, &loaded.scorecard) else {
            return Ok(());
        };
        let scorecard: Scorecard = serde_json::from_value(card.json.clone())
            .map_err(|e| Failure::Other(format!("reading the stored scorecard: {e}")))?;
        let mut rated = Vec::with_capacity(ratings.len());
        for r in ratings {
            let scores: Vec<(DimensionName, u8)> = r
                .scores
                .iter()
                .filter_map(|(name, s)| parse_dimension(name).ok().map(|d| (d, *s)))
                .collect();
            match Rating::new(
                r.rater.display_name.clone(),
                r.role,
                scores,
                r.sentence.as_deref(),
            ) {
                Ok(rating) => rated.push(rating),
                Err(e) => tracing::warn!(error = %e, "a stored rating was left out"),
            }
        }
        let text = self.peer_text()?;
        let body =
            CombinedDebrief::new(scorecard, rated).render_text(self.debriefer.scorer(), text);
        surface.post(place, &text.combined_heading()).await?;
        // Kept in fixed width, so the ratings table lines up.
        let limit = surface.message_limit().saturating_sub(8).max(100);
        for piece in super::text::split(&body, limit) {
            surface.post(place, &format!("```\n{piece}\n```")).await?;
        }
        Ok(())
    }

    /// The mirror drill: the same group in the same thread, roles swapped, another
    /// scenario (from the round's pool when a round opened the drill). One click starts it.
    pub(super) async fn swap_roles(
        &self,
        inv: &Invocation,
        drill: &DrillId,
    ) -> Result<Handled, Failure> {
        let store = self.engine.store();
        let loaded = match store.load_drill(drill).await {
            Ok(loaded) => loaded,
            Err(StoreError::NotFound(_)) => return private("That drill no longer exists."),
            Err(e) => return Err(e.into()),
        };
        if !loaded
            .participants
            .iter()
            .any(|m| same_person(&m.person, &inv.person))
        {
            return private("Only the people in a drill can swap its roles.");
        }
        let record = &loaded.record;
        if !record.phase.is_over() {
            return private("Finish this drill first: `/spar end` ends it.");
        }
        let (Some(mirror), Some(place)) = (
            group_of(&loaded).and_then(|g| g.swapped()),
            record.place.clone(),
        ) else {
            return private("A solo drill has no roles to swap.");
        };
        let surface = self.surface_of(&record.platform)?;
        let first = store
            .mark_event_processed(
                &EventKey {
                    platform: record.platform.clone(),
                    event_id: format!("swap:{drill}"),
                },
                self.clock.now(),
            )
            .await?;
        if !first {
            return private("The mirror drill has already started in this thread.");
        }
        let drilled = &record.settings.scenario_id;
        let salt = random_seed();
        let from_pool = store
            .peer()
            .round_of_drill(drill)
            .await?
            .and_then(|r| {
                r.round
                    .schedule()
                    .pick_scenario(salt, std::slice::from_ref(drilled))
            })
            .filter(|id| id != drilled);
        let scenario = match from_pool.as_deref().and_then(|id| self.library.get(id)) {
            Some(scenario) => scenario,
            None => self.any_scenario(salt, drilled)?,
        };
        let people = people_in(&loaded);
        let channel = place.channel.clone();
        let opening = Opening {
            workspace: &inv.workspace,
            channel: &channel,
            group: &mirror,
            people: &people,
            scenario,
            difficulty: record.settings.difficulty,
            time_limit_s: Some(record.settings.time_limit_s),
            place: Some(place),
            public: false,
        };
        let (pending, _) = self.open_group(surface.as_ref(), &opening).await?;
        let names = named(&mirror, &people);
        Ok(Handled {
            reply: Reply::private(format!(
                "Roles swapped: {} practises \"{}\" now, against {}.",
                names.candidate,
                scenario.title,
                names.antagonist.unwrap_or_default()
            )),
            then: Some(pending),
        })
    }

    /// The antagonist player's brief again, only to them.
    pub(super) async fn show_brief(
        &self,
        inv: &Invocation,
        drill: &DrillId,
    ) -> Result<Handled, Failure> {
        let loaded = match self.engine.store().load_drill(drill).await {
            Ok(loaded) => loaded,
            Err(StoreError::NotFound(_)) => return private("That drill no longer exists."),
            Err(e) => return Err(e.into()),
        };
        let plays_it = loaded
            .participants
            .iter()
            .any(|m| m.role == Role::Antagonist && same_person(&m.person, &inv.person));
        if !plays_it {
            return private("Only the member playing the antagonist can read the hidden brief.");
        }
        let scenario = self.scenario_of(&loaded.record)?;
        let candidate = loaded
            .candidate()
            .map(|p| p.display_name.clone())
            .unwrap_or_default();
        private(self.peer_text()?.antagonist_brief(&AntagonistBrief {
            scenario,
            difficulty: loaded.record.settings.difficulty,
            candidate: &candidate,
        }))
    }

    // ----- weekly rounds: commands -----

    pub(super) async fn rounds(
        &self,
        inv: &Invocation,
        command: RoundsCommand,
    ) -> Result<Handled, Failure> {
        let for_admins = matches!(
            command,
            RoundsCommand::Create { .. }
                | RoundsCommand::Pause { .. }
                | RoundsCommand::Resume { .. }
                | RoundsCommand::Delete { .. }
                | RoundsCommand::Preview { .. }
        );
        if for_admins && !inv.admin {
            return private(
                "Only members who can manage this server can set up, change or preview rounds.",
            );
        }
        match command {
            RoundsCommand::Create {
                weekday,
                time,
                zone,
                drill_minutes,
                pool,
            } => {
                self.create_schedule(inv, &weekday, &time, &zone, drill_minutes, pool.as_deref())
                    .await
            }
            RoundsCommand::List => self.list_schedules(inv).await,
            RoundsCommand::Pause { id } => self.pause_schedule(inv, id, true).await,
            RoundsCommand::Resume { id } => self.pause_schedule(inv, id, false).await,
            RoundsCommand::Delete { id } => self.delete_schedule(inv, id).await,
            RoundsCommand::Preview { id } => self.preview_round(inv, id).await,
            RoundsCommand::OptIn {
                id,
                difficulty,
                solo_if_alone,
            } => {
                self.opt_in(inv, id, difficulty.as_deref(), solo_if_alone)
                    .await
            }
            RoundsCommand::OptOut { id } => self.opt_out(inv, id).await,
        }
    }

    /// The schedule named by `id` on this server, or the one meeting in this channel.
    async fn schedule_for(
        &self,
        inv: &Invocation,
        id: Option<i64>,
    ) -> Result<Result<ScheduleRecord, String>, Failure> {
        let store = self.engine.store().peer();
        let ours = |s: &ScheduleRecord| {
            s.workspace.platform == inv.workspace.platform
                && s.workspace.external_id == inv.workspace.external_id
        };
        match id {
            Some(id) => match store.schedule(id).await {
                Ok(s) if ours(&s) => Ok(Ok(s)),
                Ok(_) | Err(StoreError::NotFound(_)) => Ok(Err(format!(
                    "There is no round {id} on this server; `/spar rounds list` shows them."
                ))),
                Err(e) => Err(e.into()),
            },
            None => {
                let mut here: Vec<ScheduleRecord> = store
                    .schedules(&inv.workspace)
                    .await?
                    .into_iter()
                    .filter(|s| s.channel == home(inv))
                    .collect();
                Ok(match here.len() {
                    1 => Ok(here.remove(0)),
                    0 => Err("No round meets in this channel; `/spar rounds list` shows this server's.".into()),
                    _ => Err("Several rounds meet in this channel; name one by its id (`/spar rounds list`).".into()),
                })
            }
        }
    }

    /// Sets up the schedule's next round after `after`; it is fired at once, and arms its
    /// own timer for the reminder.
    async fn next_round(
        &self,
        schedule: &ScheduleRecord,
        after: EpochMillis,
    ) -> Result<RoundRecord, Failure> {
        let start = schedule.schedule.next_start(utc(after));
        let round = ScheduledRound::new(&schedule.schedule, start, random_seed());
        Ok(self
            .engine
            .store()
            .peer()
            .add_round(schedule.id, &round, Some(self.clock.now()))
            .await?)
    }

    /// The round of a schedule that has not ended yet, if any.
    async fn pending_round(&self, schedule: i64) -> Result<Option<RoundRecord>, Failure> {
        Ok(self
            .engine
            .store()
            .peer()
            .rounds_of(schedule)
            .await?
            .into_iter()
            .find(|r| !r.round.phase().is_over()))
    }

    fn when(schedule: &Schedule, at: DateTime<Utc>) -> String {
        format!(
            "{} ({})",
            schedule.local(at).format("%A %-d %B %H:%M"),
            schedule.zone.name()
        )
    }

    async fn create_schedule(
        &self,
        inv: &Invocation,
        weekday: &str,
        time: &str,
        zone: &str,
        drill_minutes: Option<u32>,
        pool: Option<&str>,
    ) -> Result<Handled, Failure> {
        let mut schedule = match Schedule::parse(weekday, time, zone) {
            Ok(schedule) => schedule,
            Err(e) => return private(format!("{e}.")),
        };
        if let Some(minutes) = drill_minutes {
            if minutes == 0 || minutes > MAX_DRILL_MINUTES {
                return private(format!(
                    "A drill lasts from 1 to {MAX_DRILL_MINUTES} minutes."
                ));
            }
            schedule.drill_length_s = minutes * 60;
        }
        for id in pool
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            if self.library.get(id).is_none() {
                return private(unknown_scenario(id, &self.library));
            }
            schedule.scenario_pool.push(id.to_string());
        }
        let channel = home(inv);
        let record = self
            .engine
            .store()
            .peer()
            .create_schedule(&inv.workspace, channel, &schedule, self.clock.now())
            .await?;
        let round = self.next_round(&record, self.clock.now()).await?;
        let surface = self.surface_of(&inv.workspace.platform)?;
        private(format!(
            "Round {} is set: every {} at {} ({}) in {}, {}-minute drills, scenarios: {}. The next one starts {}. Members opt in with `/spar rounds optin` and are reminded {} minutes ahead.",
            record.id,
            schedule.local(round.round.start()).format("%A"),
            schedule.time.format("%H:%M"),
            schedule.zone.name(),
            surface.link(&inv.workspace.external_id, &channel_place(channel)),
            schedule.drill_length_s / 60,
            if schedule.scenario_pool.is_empty() {
                "any".to_string()
            } else {
                schedule.scenario_pool.join(", ")
            },
            Self::when(&schedule, round.round.start()),
            schedule.remind_before_min,
        ))
    }

    async fn list_schedules(&self, inv: &Invocation) -> Result<Handled, Failure> {
        let store = self.engine.store().peer();
        let schedules = store.schedules(&inv.workspace).await?;
        if schedules.is_empty() {
            return private(
                "No rounds are set up here. An admin sets one up with `/spar rounds create`.",
            );
        }
        let surface = self.surface_of(&inv.workspace.platform)?;
        let mut out = String::from("Rounds on this server:\n");
        for s in &schedules {
            let opted = store.opted_in(s.id).await?.len();
            let next = match self.pending_round(s.id).await? {
                Some(r) if !s.paused => format!(
                    "next {}, {}",
                    Self::when(&s.schedule, r.round.start()),
                    r.round.phase().as_str()
                ),
                _ if s.paused => "paused".to_string(),
                _ => "no round pending".to_string(),
            };
            out.push_str(&format!(
                "• **{}** · {} · every {} {} ({}) · {opted} opted in · {next}\n",
                s.id,
                surface.link(&inv.workspace.external_id, &channel_place(&s.channel)),
                s.schedule.weekday,
                s.schedule.time.format("%H:%M"),
                s.schedule.zone.name(),
            ));
        }
        private(out)
    }

    async fn pause_schedule(
        &self,
        inv: &Invocation,
        id: i64,
        paused: bool,
    ) -> Result<Handled, Failure> {
        let schedule = match self.schedule_for(inv, Some(id)).await? {
            Ok(s) => s,
            Err(why) => return private(why),
        };
        let store = self.engine.store().peer();
        store.set_schedule_paused(id, paused).await?;
        if paused {
            if let Some(round) = self.pending_round(id).await? {
                self.step_round(round, RoundEvent::Cancel).await?;
            }
            private(format!(
                "Round {id} is paused; nothing opens until `/spar rounds resume`."
            ))
        } else {
            let round = match self.pending_round(id).await? {
                Some(round) => round,
                None => self.next_round(&schedule, self.clock.now()).await?,
            };
            private(format!(
                "Round {id} is back on: the next one starts {}.",
                Self::when(&schedule.schedule, round.round.start())
            ))
        }
    }

    async fn delete_schedule(&self, inv: &Invocation, id: i64) -> Result<Handled, Failure> {
        if let Err(why) = self.schedule_for(inv, Some(id)).await? {
            return private(why);
        }
        self.engine.store().peer().delete_schedule(id).await?;
        private(format!(
            "Round {id} is deleted with its opt-ins; drills it opened are kept."
        ))
    }

    /// The groups the next round would open now, without opening anything.
    async fn preview_round(&self, inv: &Invocation, id: Option<i64>) -> Result<Handled, Failure> {
        let schedule = match self.schedule_for(inv, id).await? {
            Ok(s) => s,
            Err(why) => return private(why),
        };
        let store = self.engine.store().peer();
        let round = match self.pending_round(schedule.id).await? {
            Some(r) => r.round,
            None => ScheduledRound::new(
                &schedule.schedule,
                schedule.schedule.next_start(utc(self.clock.now())),
                random_seed(),
            ),
        };
        let opted = store.opted_in(schedule.id).await?;
        let entries: Vec<Entry> = opted.iter().map(|w| w.entry.clone()).collect();
        let history = self
            .pairing_history(&schedule.workspace, &schedule.channel)
            .await?;
        let pairing = round.preview(&Roster {
            opted_in: &entries,
            history: &history,
        });
        let people = people_of(&opted);
        let text = self.peer_text()?;
        let mut out = format!(
            "Round {} on {}, with the {} members opted in now (nothing is opened):\n",
            schedule.id,
            Self::when(&schedule.schedule, round.start()),
            opted.len()
        );
        for group in &pairing.groups {
            let scenario = group
                .scenario
                .as_deref()
                .unwrap_or("a scenario of the library");
            out.push_str(&format!(
                "• {} · {scenario}\n",
                text.group_line(&named(group, &people))
            ));
        }
        for left in &pairing.left_out {
            let name = people
                .get(&left.member)
                .map_or(left.member.clone(), |p| p.display_name.clone());
            out.push_str(&format!(
                "• {}\n",
                text.left_out(&LeftOut {
                    member: name,
                    reason: left.reason
                })
            ));
        }
        if pairing.groups.is_empty() && pairing.left_out.is_empty() {
            out.push_str("• nobody is opted in yet\n");
        }
        private(out)
    }

    async fn opt_in(
        &self,
        inv: &Invocation,
        id: Option<i64>,
        difficulty: Option<&str>,
        solo_if_alone: bool,
    ) -> Result<Handled, Failure> {
        let difficulty = match difficulty.map(str::trim).filter(|d| !d.is_empty()) {
            Some(d) => match d.parse::<Difficulty>() {
                Ok(d) => Some(d),
                Err(e) => return private(format!("{e}.")),
            },
            None => None,
        };
        let schedule = match self.schedule_for(inv, id).await? {
            Ok(s) => s,
            Err(why) => return private(why),
        };
        // The round's pool chooses the scenario; the member chooses how hard and what happens
        // if the round leaves them without a partner.
        let entry = Entry {
            member: inv.person.platform_user_id.clone(),
            scenario: None,
            difficulty,
            preference: if solo_if_alone {
                Preference::SoloIfNoPartner
            } else {
                Preference::PeerOnly
            },
        };
        self.engine
            .store()
            .peer()
            .opt_in(schedule.id, &inv.person, &entry, self.clock.now())
            .await?;
        let next = self
            .pending_round(schedule.id)
            .await?
            .map(|r| {
                format!(
                    " The next starts {}.",
                    Self::when(&schedule.schedule, r.round.start())
                )
            })
            .unwrap_or_default();
        let stranded = if solo_if_alone {
            "If nobody is left to pair you with, you get a solo drill."
        } else {
            "If nobody is left to pair you with, you are told so and can join the queue."
        };
        private(format!(
            "You are in round {}: you are reminded {} minutes ahead and paired when it starts.{next} {stranded}",
            schedule.id, schedule.schedule.remind_before_min
        ))
    }

    async fn opt_out(&self, inv: &Invocation, id: Option<i64>) -> Result<Handled, Failure> {
        let schedule = match self.schedule_for(inv, id).await? {
            Ok(s) => s,
            Err(why) => return private(why),
        };
        let was = self
            .engine
            .store()
            .peer()
            .opt_out(schedule.id, &inv.person)
            .await?;
        private(if was {
            format!("You are out of round {}.", schedule.id)
        } else {
            format!("You were not in round {}.", schedule.id)
        })
    }

    // ----- weekly rounds: the scheduler -----

    /// Fires the rounds whose timer is due: reminders, the opening, no-shows and
    /// re-matching. The clock loop calls it every tick; tests call it with their clock.
    pub async fn fire_rounds(&self) {
        let now = self.clock.now();
        let platforms: Vec<String> = self
            .surfaces
            .iter()
            .map(|s| s.platform().to_string())
            .collect();
        let store = self.engine.store().peer();
        let owner = self.engine.owner();
        let due = match store
            .claim_due_rounds(owner, &platforms, now, ROUND_LEASE_MS, ROUND_BATCH)
            .await
        {
            Ok(due) => due,
            Err(e) => {
                tracing::error!(error = %e, "could not claim due rounds");
                return;
            }
        };
        for record in due {
            let id = record.id;
            if let Err(e) = self.step_round(record, RoundEvent::Tick).await {
                tracing::error!(round = id, error = %e, "a round could not be fired");
            }
            if let Err(e) = store.release_round(id, owner).await {
                tracing::warn!(round = id, error = %e, "could not release a round's claim");
            }
        }
    }

    /// A member wrote in a peer drill's thread: if a round opened the drill and is still
    /// waiting for its members, they are there.
    pub(super) async fn posted_in_round(&self, drill: &DrillId, author: &PersonRef) {
        match self.engine.store().peer().round_of_drill(drill).await {
            Ok(Some(record)) if record.round.phase() == RoundPhase::Open => {
                let event = RoundEvent::Posted {
                    member: author.platform_user_id.clone(),
                };
                if let Err(e) = self.step_round(record, event).await {
                    tracing::error!(error = %e, "a post could not be counted for its round");
                }
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "could not look up a drill's round"),
        }
    }

    /// Applies one event to a stored round, commits its new state (retrying on a
    /// conflict), then performs what it asks; an ended round makes way for the next.
    async fn step_round(&self, mut record: RoundRecord, event: RoundEvent) -> Result<(), Failure> {
        let store = self.engine.store().peer();
        let schedule = match store.schedule(record.schedule_id).await {
            Ok(schedule) => schedule,
            Err(StoreError::NotFound(_)) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        let opted = store.opted_in(schedule.id).await?;
        let entries: Vec<Entry> = opted.iter().map(|w| w.entry.clone()).collect();
        let history = self
            .pairing_history(&schedule.workspace, &schedule.channel)
            .await?;
        let roster = Roster {
            opted_in: &entries,
            history: &history,
        };
        for _ in 0..ROUND_ATTEMPTS {
            let now = self.clock.now();
            let mut round = record.round.clone();
            let effects = round.handle(event.clone(), utc(now), &roster);
            // A post changes the state (who is there) without asking for anything.
            if effects.is_empty() && round == record.round {
                return Ok(());
            }
            let armed = effects.iter().rev().find_map(|e| match e {
                RoundEffect::ArmTimer { at } => Some(at.timestamp_millis()),
                _ => None,
            });
            let next_due = match armed {
                Some(at) => Some(at),
                None if round.phase().is_over() => None,
                None => record.next_due_at,
            };
            match store
                .update_round(record.id, record.version, &round, next_due)
                .await
            {
                Ok(_) => {
                    self.perform_round(&schedule, record.id, &opted, effects)
                        .await;
                    if round.phase().is_over() && !schedule.paused && event != RoundEvent::Cancel {
                        self.next_round(&schedule, now.max(round.start().timestamp_millis()))
                            .await?;
                    }
                    return Ok(());
                }
                Err(StoreError::Conflict(_)) => record = store.round(record.id).await?,
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Performs a round's effects in order; one that fails is logged and the rest go on.
    async fn perform_round(
        &self,
        schedule: &ScheduleRecord,
        round: i64,
        opted: &[Waiting],
        effects: Vec<RoundEffect>,
    ) {
        for effect in effects {
            if let Err(e) = self.round_effect(schedule, round, opted, effect).await {
                tracing::error!(round, error = %e, "a round's effect failed");
            }
        }
    }

    async fn round_effect(
        &self,
        schedule: &ScheduleRecord,
        round: i64,
        opted: &[Waiting],
        effect: RoundEffect,
    ) -> Result<(), Failure> {
        let surface = self.surface_of(&schedule.workspace.platform)?;
        let text = self.peer_text()?;
        let people = people_of(opted);
        let outside = channel_place(&schedule.channel);
        let name = |m: &str| {
            people
                .get(m)
                .map_or(m.to_string(), |p| p.display_name.clone())
        };
        match effect {
            RoundEffect::Remind { members, start } => {
                let when = schedule.schedule.local(start).format("%H:%M").to_string();
                let notice = text.reminder(&when, schedule.schedule.zone.name());
                for member in members {
                    if let Some(person) = people.get(&member) {
                        surface.tell(person, &outside, &notice).await?;
                    }
                }
            }
            RoundEffect::Open(pairing) => {
                for group in &pairing.groups {
                    self.open_round_group(surface.as_ref(), schedule, round, group, &people, None)
                        .await?;
                }
                for left in &pairing.left_out {
                    if let Some(person) = people.get(&left.member) {
                        let told = LeftOut {
                            member: person.display_name.clone(),
                            reason: left.reason,
                        };
                        surface
                            .tell(person, &outside, &text.left_out(&told))
                            .await?;
                    }
                }
            }
            RoundEffect::NoShow { member } => {
                let Some(loaded) = self.round_drill_with(round, &[member.as_str()]).await? else {
                    return Ok(());
                };
                if let Some(place) = &loaded.record.place {
                    let notice = text.no_show(&name(&member), schedule.schedule.no_show_after_min);
                    surface.post(place, &notice).await?;
                }
                let broken = loaded
                    .participants
                    .iter()
                    .any(|m| m.person.platform_user_id == member && m.role != Role::Observer);
                if broken && !loaded.record.phase.is_over() {
                    // The group is re-matched: this drill cannot go on without them.
                    self.abandon(&loaded.record).await;
                }
            }
            RoundEffect::Rematch(groups) => {
                for group in groups {
                    let members: Vec<&str> = group.members().collect();
                    let together = self.round_drill_with(round, &members).await?;
                    match together
                        .as_ref()
                        .and_then(|l| l.record.place.clone().map(|p| (l, p)))
                    {
                        // A trio closing up: the observer steps into the empty seat.
                        Some((old, place)) => {
                            let absent: Vec<String> = old
                                .participants
                                .iter()
                                .filter(|m| !members.contains(&m.person.platform_user_id.as_str()))
                                .map(|m| m.person.display_name.clone())
                                .collect();
                            if let Some(observer) = old.member(Role::Observer) {
                                let id = observer.person.platform_user_id.as_str();
                                if let Some(role) = group.role_of(id) {
                                    let notice = text.observer_steps_in(
                                        &absent.join(" and "),
                                        &observer.person.display_name,
                                        role,
                                    );
                                    surface.post(&place, &notice).await?;
                                }
                            }
                            self.open_round_group(
                                surface.as_ref(),
                                schedule,
                                round,
                                &group,
                                &people,
                                Some(place),
                            )
                            .await?;
                        }
                        None => {
                            self.open_round_group(
                                surface.as_ref(),
                                schedule,
                                round,
                                &group,
                                &people,
                                None,
                            )
                            .await?;
                            for member in group.members() {
                                let partners: Vec<String> =
                                    group.members().filter(|m| *m != member).map(name).collect();
                                if let Some(person) = people.get(member) {
                                    surface
                                        .tell(
                                            person,
                                            &outside,
                                            &text.rematched(&partners.join(" and ")),
                                        )
                                        .await?;
                                }
                            }
                        }
                    }
                }
            }
            RoundEffect::OfferSolo { member } => {
                if let Some(person) = people.get(&member) {
                    surface.tell(person, &outside, &text.solo_offer()).await?;
                }
            }
            RoundEffect::Record(groups) => {
                self.engine
                    .store()
                    .peer()
                    .record_pairing(
                        &schedule.workspace,
                        &schedule.channel,
                        &groups,
                        false,
                        self.clock.now(),
                    )
                    .await?;
            }
            RoundEffect::PersistPhase(_) | RoundEffect::ArmTimer { .. } => {}
        }
        Ok(())
    }

    /// Opens one of a round's groups and notes the drill as the round's.
    async fn open_round_group(
        &self,
        surface: &dyn ChatSurface,
        schedule: &ScheduleRecord,
        round: i64,
        group: &Group,
        people: &HashMap<String, PersonRef>,
        place: Option<ChatPlace>,
    ) -> Result<(), Failure> {
        let config = self
            .engine
            .store()
            .workspace_config(&schedule.workspace)
            .await?;
        let scenario = self.scenario_for(group, random_seed())?;
        let opening = Opening {
            workspace: &schedule.workspace,
            channel: &schedule.channel,
            group,
            people,
            scenario,
            difficulty: group
                .difficulty
                .or(config.default_difficulty)
                .unwrap_or_default(),
            time_limit_s: Some(schedule.schedule.drill_length_s),
            place,
            public: config.public_threads,
        };
        let (pending, _) = self.open_group(surface, &opening).await?;
        self.engine
            .store()
            .peer()
            .link_round_drill(round, &pending.drill.id)
            .await?;
        self.perform(pending).await;
        Ok(())
    }

    /// The latest drill of a round with all of `members` in it.
    async fn round_drill_with(
        &self,
        round: i64,
        members: &[&str],
    ) -> Result<Option<LoadedDrill>, Failure> {
        let store = self.engine.store();
        let mut found = None;
        for id in store.peer().round_drills(round).await? {
            let loaded = store.load_drill(&id).await?;
            let all_in = members.iter().all(|m| {
                loaded
                    .participants
                    .iter()
                    .any(|p| p.person.platform_user_id == *m)
            });
            if all_in {
                found = Some(loaded);
            }
        }
        Ok(found)
    }
}
