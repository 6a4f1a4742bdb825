//! Scenarios as data: the TOML schema of `prompts/scenarios/*.toml`, its validation with
//! messages that name the file, line and field, and the library that merges the embedded
//! scenarios with a user's own.

use crate::phrases::PhraseSet;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::str::FromStr;
use toml::Spanned;

/// The interview round a scenario trains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Round {
    Collaboration,
    ProductSense,
    ResearchDeepDive,
    MlDesign,
}

impl Round {
    pub fn label(self) -> &'static str {
        match self {
            Round::Collaboration => "collaboration",
            Round::ProductSense => "product sense",
            Round::ResearchDeepDive => "research deep-dive",
            Round::MlDesign => "ML design",
        }
    }
}

/// How hard the antagonist pushes and how much it takes to move them.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Difficulty {
    Gentle,
    #[default]
    Standard,
    Hostile,
}

impl Difficulty {
    pub const ALL: [Difficulty; 3] = [
        Difficulty::Gentle,
        Difficulty::Standard,
        Difficulty::Hostile,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Difficulty::Gentle => "gentle",
            Difficulty::Standard => "standard",
            Difficulty::Hostile => "hostile",
        }
    }
}

impl fmt::Display for Difficulty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown difficulty {0:?} (expected gentle, standard or hostile)")]
pub struct UnknownDifficulty(pub String);

impl FromStr for Difficulty {
    type Err = UnknownDifficulty;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "gentle" => Ok(Difficulty::Gentle),
            "standard" => Ok(Difficulty::Standard),
            "hostile" => Ok(Difficulty::Hostile),
            _ => Err(UnknownDifficulty(s.to_string())),
        }
    }
}

/// The senior person the candidate disagrees with, as the candidate meets them.
#[derive(Debug, Clone, PartialEq)]
pub struct Persona {
    pub name: String,
    pub role: String,
    pub stance: String,
    pub style: String,
    pub tactics: Vec<String>,
}

/// Someone the scenario names besides the persona: whose call a decision could be, or whom the
/// candidate might bring in. The scorer reads an appeal to a person `above` the candidate
/// ("let's get Arun to decide") as escalation, and one to a peer as nothing of the kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub name: String,
    /// Their job, as the scenario describes it ("VP of Applied AI").
    pub role: String,
    /// Senior to the candidate, or outside the conversation with authority over it.
    pub above: bool,
}

/// A specific move or piece of evidence that would genuinely change the antagonist's mind.
#[derive(Debug, Clone, PartialEq)]
pub struct ConcedeWhen {
    /// A short stable name, used in logs and the drill's record of what moved them.
    pub id: String,
    /// What the candidate must do or show, in words an LLM antagonist is given.
    pub condition: String,
    /// Phrases that tell the scripted antagonist the candidate made this move; any one
    /// occurring (as whole words, in any case) counts.
    pub cues: PhraseSet,
    /// What the antagonist says when moved, and only as far as this item goes.
    pub concession: String,
}

/// What only the antagonist knows.
#[derive(Debug, Clone, PartialEq)]
pub struct Brief {
    pub motives: Vec<String>,
    pub constraints: Vec<String>,
    /// Pieces of the brief the antagonist gives away, one at a time, when asked a genuine
    /// question about their reasoning.
    pub reveals: Vec<String>,
    pub concede_when: Vec<ConcedeWhen>,
}

/// How one difficulty level changes the antagonist.
#[derive(Debug, Clone, PartialEq)]
pub struct DifficultyVariant {
    /// Instructions for an LLM antagonist at this level.
    pub behaviour: String,
    /// How many distinct `concede_when` items the candidate must hit before the
    /// antagonist agrees to the candidate's way forward.
    pub concede_after: usize,
    /// Extra lines the antagonist uses at this level, mixed into its pushback.
    pub pushback: Vec<String>,
}

/// The scripted antagonist's lines for one scenario, by the kind of move they answer.
/// Any kind left out falls back to the shared lines in `prompts/antagonist/scripted.toml`.
pub type Lines = BTreeMap<String, Vec<String>>;

/// A validated scenario. Every text field is non-empty.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    pub id: String,
    pub title: String,
    pub round: Round,
    pub setting: String,
    pub goal: String,
    pub persona: Persona,
    /// The other people the scenario names, from `people = [{ name, role, above }]`.
    pub people: Vec<Person>,
    pub brief: Brief,
    pub difficulty: BTreeMap<Difficulty, DifficultyVariant>,
    pub time_limit_s: u32,
    pub opening: Vec<String>,
    pub debrief: String,
    pub lines: Lines,
    /// Where the scenario came from: `embedded:NAME.toml` or a file path.
    pub source: String,
}

impl Scenario {
    pub fn variant(&self, difficulty: Difficulty) -> &DifficultyVariant {
        // Validation guarantees all three levels exist.
        &self.difficulty[&difficulty]
    }
}

/// One problem in a scenario file, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioIssue {
    pub file: String,
    pub line: usize,
    /// The dotted path of the field, or empty when the problem is the file as a whole.
    pub field: String,
    pub message: String,
}

impl fmt::Display for ScenarioIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "{}:{}: {}", self.file, self.line, self.message)
        } else {
            write!(
                f,
                "{}:{}: `{}`: {}",
                self.file, self.line, self.field, self.message
            )
        }
    }
}

/// Everything wrong with a set of scenario files, each issue on its own line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ScenarioErrors(pub Vec<ScenarioIssue>);

impl fmt::Display for ScenarioErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, issue) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{issue}")?;
        }
        Ok(())
    }
}

// The raw file shape. Spans let validation point at the line of an offending value.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    id: Spanned<String>,
    title: Spanned<String>,
    round: Spanned<Round>,
    setting: Spanned<String>,
    goal: Spanned<String>,
    time_limit: Spanned<String>,
    opening: Spanned<Vec<Spanned<String>>>,
    debrief: Spanned<String>,
    persona: RawPersona,
    #[serde(default)]
    people: Vec<RawPerson>,
    brief: RawBrief,
    difficulty: Spanned<BTreeMap<Spanned<String>, RawVariant>>,
    #[serde(default)]
    lines: BTreeMap<Spanned<String>, Spanned<Vec<Spanned<String>>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPersona {
    name: Spanned<String>,
    role: Spanned<String>,
    stance: Spanned<String>,
    style: Spanned<String>,
    tactics: Spanned<Vec<Spanned<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPerson {
    name: Spanned<String>,
    role: Spanned<String>,
    #[serde(default)]
    above: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBrief {
    motives: Spanned<Vec<Spanned<String>>>,
    #[serde(default)]
    constraints: Vec<Spanned<String>>,
    reveals: Spanned<Vec<Spanned<String>>>,
    concede_when: Spanned<Vec<RawConcede>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConcede {
    id: Spanned<String>,
    condition: Spanned<String>,
    cues: Spanned<Vec<Spanned<String>>>,
    concession: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVariant {
    behaviour: Spanned<String>,
    concede_after: Spanned<i64>,
    #[serde(default)]
    pushback: Vec<Spanned<String>>,
}

/// The move kinds the scripted antagonist has lines for. A scenario's `[lines]` table may
/// only use these keys, so a typo is caught instead of silently ignored.
pub const LINE_KINDS: &[&str] = &[
    "escalation",
    "methodology",
    "reveal_lead",
    "vague",
    "pushback",
    "defensive",
    "personal",
    "dismissive",
    "capitulation",
    "hijack",
    "softening",
    "agreement",
    "empty",
];

struct Checker<'a> {
    file: &'a str,
    source: &'a str,
    issues: Vec<ScenarioIssue>,
}

impl Checker<'_> {
    fn line_of(&self, span: &Range<usize>) -> usize {
        let end = span.start.min(self.source.len());
        self.source.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }

    fn push(&mut self, span: &Range<usize>, field: &str, message: impl Into<String>) {
        let line = self.line_of(span);
        self.issues.push(ScenarioIssue {
            file: self.file.to_string(),
            line,
            field: field.to_string(),
            message: message.into(),
        });
    }

    fn text(&mut self, value: Spanned<String>, field: &str) -> String {
        let span = value.span();
        let text = value.into_inner().trim().to_string();
        if text.is_empty() {
            self.push(&span, field, "must not be empty");
        }
        text
    }

    fn texts(&mut self, values: Vec<Spanned<String>>, field: &str) -> Vec<String> {
        values
            .into_iter()
            .enumerate()
            .map(|(i, v)| self.text(v, &format!("{field}[{i}]")))
            .collect()
    }

    fn non_empty_texts(
        &mut self,
        values: Spanned<Vec<Spanned<String>>>,
        field: &str,
    ) -> Vec<String> {
        let span = values.span();
        let values = values.into_inner();
        if values.is_empty() {
            self.push(&span, field, "must list at least one entry");
        }
        self.texts(values, field)
    }

    /// A non-empty list of phrases, compiled for matching; a phrase that cannot be matched is
    /// reported at its own line.
    fn phrases(&mut self, values: Spanned<Vec<Spanned<String>>>, field: &str) -> PhraseSet {
        let spans: Vec<Range<usize>> = values.get_ref().iter().map(Spanned::span).collect();
        let texts = self.non_empty_texts(values, field);
        if texts.iter().any(String::is_empty) {
            // Reported already; compiling would only report it again.
            return PhraseSet::default();
        }
        PhraseSet::new(&texts).unwrap_or_else(|e| {
            let at = format!("{field}[{}]", e.position);
            self.push(&spans[e.position], &at, e.to_string());
            PhraseSet::default()
        })
    }
}

/// Parses `"8m"`, `"90s"`, `"1m30s"` or `"10 min"` into seconds.
pub fn parse_duration(text: &str) -> Option<u32> {
    let mut total: u32 = 0;
    let mut number = String::new();
    let mut seen_unit = false;
    let mut chars = text.trim().chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            number.push(c);
        } else if c.is_whitespace() {
            continue;
        } else {
            let mut unit = String::from(c);
            while let Some(&n) = chars.peek() {
                if n.is_ascii_alphabetic() {
                    unit.push(n);
                    chars.next();
                } else {
                    break;
                }
            }
            let n: u32 = number.parse().ok()?;
            number.clear();
            let factor = match unit.as_str() {
                "s" | "sec" | "secs" => 1,
                "m" | "min" | "mins" => 60,
                "h" => 3600,
                _ => return None,
            };
            total = total.checked_add(n.checked_mul(factor)?)?;
            seen_unit = true;
        }
    }
    if !number.is_empty() || !seen_unit || total == 0 {
        None
    } else {
        Some(total)
    }
}

impl Scenario {
    /// Parses and validates one scenario file. `file` is how messages name it.
    pub fn parse(file: &str, source: &str) -> Result<Scenario, ScenarioErrors> {
        let raw: RawScenario = toml::from_str(source).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            let mut checker = Checker {
                file,
                source,
                issues: Vec::new(),
            };
            let (field, message) = describe_toml_error(e.message(), source, &span);
            checker.push(&span, &field, message);
            ScenarioErrors(checker.issues)
        })?;
        let mut c = Checker {
            file,
            source,
            issues: Vec::new(),
        };

        let id_span = raw.id.span();
        let id = c.text(raw.id, "id");
        if !id.is_empty()
            && !id
                .chars()
                .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-')
        {
            c.push(
                &id_span,
                "id",
                "must use only lowercase letters, digits and hyphens",
            );
        }
        let title = c.text(raw.title, "title");
        let round = raw.round.into_inner();
        let setting = c.text(raw.setting, "setting");
        let goal = c.text(raw.goal, "goal");
        let limit_span = raw.time_limit.span();
        let limit_text = raw.time_limit.into_inner();
        let time_limit_s = match parse_duration(&limit_text) {
            Some(s) if (60..=3600).contains(&s) => s,
            Some(_) => {
                c.push(&limit_span, "time_limit", "must be between 1m and 60m");
                0
            }
            None => {
                c.push(
                    &limit_span,
                    "time_limit",
                    format!("{limit_text:?} is not a duration like \"8m\" or \"90s\""),
                );
                0
            }
        };
        let opening = c.non_empty_texts(raw.opening, "opening");
        let debrief = c.text(raw.debrief, "debrief");

        let persona = Persona {
            name: c.text(raw.persona.name, "persona.name"),
            role: c.text(raw.persona.role, "persona.role"),
            stance: c.text(raw.persona.stance, "persona.stance"),
            style: c.text(raw.persona.style, "persona.style"),
            tactics: c.non_empty_texts(raw.persona.tactics, "persona.tactics"),
        };

        let mut people: Vec<Person> = Vec::new();
        for (i, raw_person) in raw.people.into_iter().enumerate() {
            let field = format!("people[{i}]");
            let name_span = raw_person.name.span();
            let name = c.text(raw_person.name, &format!("{field}.name"));
            let role = c.text(raw_person.role, &format!("{field}.role"));
            if name.is_empty() {
                continue;
            }
            if name.eq_ignore_ascii_case(&persona.name) {
                c.push(
                    &name_span,
                    &format!("{field}.name"),
                    "names the persona, who is the other side of the conversation; list only the other people",
                );
            } else if people.iter().any(|p| p.name.eq_ignore_ascii_case(&name)) {
                c.push(
                    &name_span,
                    &format!("{field}.name"),
                    format!("{name:?} is listed twice"),
                );
            } else if !name.chars().any(char::is_alphanumeric) {
                c.push(
                    &name_span,
                    &format!("{field}.name"),
                    "must contain a letter",
                );
            }
            people.push(Person {
                name,
                role,
                above: raw_person.above,
            });
        }

        let concede_span = raw.brief.concede_when.span();
        let raw_concede = raw.brief.concede_when.into_inner();
        if raw_concede.is_empty() {
            c.push(
                &concede_span,
                "brief.concede_when",
                "must list at least one move that would change their mind",
            );
        }
        let mut concede_when = Vec::new();
        let mut concede_ids: BTreeMap<String, ()> = BTreeMap::new();
        for (i, item) in raw_concede.into_iter().enumerate() {
            let field = format!("brief.concede_when[{i}]");
            let item_span = item.id.span();
            let cid = c.text(item.id, &format!("{field}.id"));
            if concede_ids.insert(cid.clone(), ()).is_some() {
                c.push(
                    &item_span,
                    &format!("{field}.id"),
                    format!("duplicate concede_when id {cid:?}"),
                );
            }
            concede_when.push(ConcedeWhen {
                id: cid,
                condition: c.text(item.condition, &format!("{field}.condition")),
                cues: c.phrases(item.cues, &format!("{field}.cues")),
                concession: c.text(item.concession, &format!("{field}.concession")),
            });
        }
        let brief = Brief {
            motives: c.non_empty_texts(raw.brief.motives, "brief.motives"),
            constraints: c.texts(raw.brief.constraints, "brief.constraints"),
            reveals: c.non_empty_texts(raw.brief.reveals, "brief.reveals"),
            concede_when,
        };

        let difficulty_span = raw.difficulty.span();
        let mut difficulty = BTreeMap::new();
        for (name, variant) in raw.difficulty.into_inner() {
            let name_span = name.span();
            let name = name.into_inner();
            let Ok(level) = name.parse::<Difficulty>() else {
                c.push(
                    &name_span,
                    &format!("difficulty.{name}"),
                    format!("bad difficulty {name:?} (expected gentle, standard or hostile)"),
                );
                continue;
            };
            let field = format!("difficulty.{name}");
            let after_span = variant.concede_after.span();
            let after = variant.concede_after.into_inner();
            let max = brief.concede_when.len() as i64;
            if after < 1 || after > max.max(1) {
                c.push(
                    &after_span,
                    &format!("{field}.concede_after"),
                    format!("must be between 1 and the number of concede_when items ({max})"),
                );
            }
            difficulty.insert(
                level,
                DifficultyVariant {
                    behaviour: c.text(variant.behaviour, &format!("{field}.behaviour")),
                    concede_after: after.max(1) as usize,
                    pushback: c.texts(variant.pushback, &format!("{field}.pushback")),
                },
            );
        }
        for level in Difficulty::ALL {
            if !difficulty.contains_key(&level) {
                c.push(
                    &difficulty_span,
                    &format!("difficulty.{level}"),
                    "is missing; every scenario defines gentle, standard and hostile",
                );
            }
        }

        let mut lines = Lines::new();
        for (kind, list) in raw.lines {
            let kind_span = kind.span();
            let kind = kind.into_inner();
            if !LINE_KINDS.contains(&kind.as_str()) {
                c.push(
                    &kind_span,
                    &format!("lines.{kind}"),
                    format!(
                        "unknown line kind (expected one of: {})",
                        LINE_KINDS.join(", ")
                    ),
                );
                continue;
            }
            let texts = c.non_empty_texts(list, &format!("lines.{kind}"));
            lines.insert(kind, texts);
        }

        if !c.issues.is_empty() {
            return Err(ScenarioErrors(c.issues));
        }
        Ok(Scenario {
            id,
            title,
            round,
            setting,
            goal,
            persona,
            people,
            brief,
            difficulty,
            time_limit_s,
            opening,
            debrief,
            lines,
            source: file.to_string(),
        })
    }
}

/// Turns toml's messages into one sentence naming the field where it can be found.
fn describe_toml_error(message: &str, source: &str, span: &Range<usize>) -> (String, String) {
    let message = message.trim().replace('\n', " ");
    // "missing field `x`" and "unknown field `x`, expected ..." carry the field name.
    let field = message
        .split('`')
        .nth(1)
        .filter(|_| message.contains("field"))
        .map(str::to_string)
        .or_else(|| {
            // Otherwise use the key on the offending line, if there is one.
            let start = source[..span.start.min(source.len())]
                .rfind('\n')
                .map_or(0, |i| i + 1);
            let line = source[start..].lines().next().unwrap_or("");
            line.split_once('=').map(|(k, _)| k.trim().to_string())
        })
        .unwrap_or_default();
    (field, message)
}

/// All scenarios available to a drill: the embedded ones, overridden or extended by a
/// user's directory.
#[derive(Debug, Clone, Default)]
pub struct ScenarioLibrary {
    scenarios: BTreeMap<String, Scenario>,
}

impl ScenarioLibrary {
    /// Builds a library from `(file name, text)` pairs, reporting every problem in every
    /// file, including ids used twice within the set.
    pub fn from_sources<'a>(
        sources: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, ScenarioErrors> {
        let mut library = ScenarioLibrary::default();
        library.add_sources(sources)?;
        Ok(library)
    }

    /// Adds a set of files that override scenarios already present by id. Within the set,
    /// an id may appear only once.
    pub fn add_sources<'a>(
        &mut self,
        sources: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<(), ScenarioErrors> {
        let mut issues = Vec::new();
        let mut batch: BTreeMap<String, Scenario> = BTreeMap::new();
        for (file, text) in sources {
            match Scenario::parse(file, text) {
                Ok(s) => {
                    if let Some(first) = batch.get(&s.id) {
                        let line = text
                            .lines()
                            .position(|l| l.trim_start().starts_with("id"))
                            .map_or(1, |i| i + 1);
                        issues.push(ScenarioIssue {
                            file: file.to_string(),
                            line,
                            field: "id".into(),
                            message: format!(
                                "duplicate id {:?}, also used by {}",
                                s.id, first.source
                            ),
                        });
                    } else {
                        batch.insert(s.id.clone(), s);
                    }
                }
                Err(ScenarioErrors(mut e)) => issues.append(&mut e),
            }
        }
        if !issues.is_empty() {
            return Err(ScenarioErrors(issues));
        }
        self.scenarios.extend(batch);
        Ok(())
    }

    /// The scenarios compiled into Spar from `prompts/scenarios/`.
    pub fn embedded() -> Result<Self, ScenarioErrors> {
        Self::from_sources(
            crate::embedded::SCENARIOS
                .iter()
                .map(|(name, text)| (*name, *text)),
        )
    }

    pub fn get(&self, id: &str) -> Option<&Scenario> {
        self.scenarios.get(id)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Scenario> {
        self.scenarios.values()
    }

    pub fn len(&self) -> usize {
        self.scenarios.len()
    }

    pub fn is_empty(&self) -> bool {
        self.scenarios.is_empty()
    }

    pub fn ids(&self) -> Vec<&str> {
        self.scenarios.keys().map(String::as_str).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn latency() -> &'static str {
        crate::embedded::prompt("scenarios/latency-regression.toml").expect("embedded")
    }

    #[test]
    fn the_embedded_library_validates() {
        let library = ScenarioLibrary::embedded().unwrap_or_else(|e| panic!("{e}"));
        assert!(library.get("latency-regression").is_some());
    }

    #[test]
    fn every_embedded_scenario_is_complete() {
        let library = ScenarioLibrary::embedded().unwrap_or_else(|e| panic!("{e}"));
        assert!(
            library.len() >= 9,
            "expected at least 9 scenarios, found {:?}",
            library.ids()
        );
        for id in [
            "latency-regression",
            "publication-vs-launch",
            "bleu-vs-latency",
            "metric-selection",
            "talent-allocation",
            "product-priority",
            "research-deep-dive",
            "ml-design-pressure",
            "inference-cost-downstream",
        ] {
            assert!(library.get(id).is_some(), "missing scenario {id}");
        }
        for s in library.iter() {
            assert!(
                s.brief.concede_when.len() >= 3,
                "{}: needs at least 3 concede_when items",
                s.id
            );
            assert!(
                s.brief.reveals.len() >= 3,
                "{}: needs at least 3 reveals",
                s.id
            );
        }
    }

    #[test]
    fn a_scenario_names_its_people_and_who_is_above_the_candidate() {
        let library = ScenarioLibrary::embedded().unwrap_or_else(|e| panic!("{e}"));
        let talent = library.get("talent-allocation").expect("embedded");
        let leila = talent.people.iter().find(|p| p.name == "Leila Haddad");
        assert!(leila.is_some_and(|p| p.above), "{:?}", talent.people);
        assert!(talent.people.iter().any(|p| p.name == "Ravi" && !p.above));
        // A person is a peer unless the file says otherwise.
        let text = latency().replacen(
            "people = [",
            "people = [\n  { name = \"Sam\", role = \"Staff engineer\" },",
            1,
        );
        let parsed = Scenario::parse("people.toml", &text).unwrap_or_else(|e| panic!("{e}"));
        assert!(parsed.people.iter().any(|p| p.name == "Sam" && !p.above));
    }

    #[test]
    fn a_person_without_a_role_or_named_twice_or_as_the_persona_is_rejected() {
        let cases = [
            (
                "{ name = \"Sam\", role = \" \", above = true },",
                "`people[0].role`: must not be empty",
            ),
            (
                "{ name = \"Mehdi\", role = \"Engineer\" },",
                "\"Mehdi\" is listed twice",
            ),
            (
                "{ name = \"Dr. Priya Raman\", role = \"Research lead\" },",
                "names the persona",
            ),
            ("{ name = \"Sam\" },", "missing field `role`"),
        ];
        for (entry, message) in cases {
            let text = latency().replacen("people = [", &format!("people = [\n  {entry}"), 1);
            let e = Scenario::parse("people.toml", &text)
                .unwrap_err()
                .to_string();
            assert!(e.contains(message), "{entry}: {e}");
        }
    }

    #[test]
    fn durations_parse_in_minutes_and_seconds() {
        assert_eq!(parse_duration("8m"), Some(480));
        assert_eq!(parse_duration("1m30s"), Some(90));
        assert_eq!(parse_duration("10 min"), Some(600));
        assert_eq!(parse_duration("8"), None);
        assert_eq!(parse_duration("8 fortnights"), None);
    }

    fn issue_for(text: &str) -> ScenarioIssue {
        let e = Scenario::parse("broken.toml", text).expect_err("must be rejected");
        e.0.into_iter().next().expect("at least one issue")
    }

    #[test]
    fn an_unknown_field_is_named_with_its_line() {
        let text = latency().replacen("title =", "colour = \"red\"\ntitle =", 1);
        let issue = issue_for(&text);
        assert_eq!(issue.field, "colour");
        assert_eq!(issue.line, 2);
        assert!(issue.message.contains("unknown field"), "{issue}");
    }

    #[test]
    fn a_missing_field_is_named() {
        let text = latency().replacen("goal = ", "not_goal = ", 1);
        let e = Scenario::parse("broken.toml", &text)
            .unwrap_err()
            .to_string();
        assert!(e.contains("not_goal") || e.contains("goal"), "{e}");
    }

    #[test]
    fn an_empty_text_names_file_line_and_field() {
        let text = latency().replacen("name = \"Dr. Priya Raman\"", "name = \"  \"", 1);
        let line = text.lines().position(|l| l.starts_with("name = ")).unwrap() + 1;
        let issue = issue_for(&text);
        assert_eq!(
            (issue.file.as_str(), issue.line, issue.field.as_str()),
            ("broken.toml", line, "persona.name")
        );
        assert_eq!(
            issue.to_string(),
            format!("broken.toml:{line}: `persona.name`: must not be empty")
        );
    }

    #[test]
    fn a_cue_that_cannot_be_matched_names_its_line_and_field() {
        let text = latency().replacen("\"canary\", ", "\"canary-*\", ", 1);
        let line = text.lines().position(|l| l.contains("canary-*")).unwrap() + 1;
        let issue = issue_for(&text);
        assert_eq!(
            (issue.line, issue.field.as_str()),
            (line, "brief.concede_when[2].cues[0]")
        );
        assert!(issue.message.contains("must touch a letter"), "{issue}");
    }

    #[test]
    fn a_bad_difficulty_is_rejected() {
        let text = latency().replacen("[difficulty.hostile]", "[difficulty.brutal]", 1);
        let e = Scenario::parse("broken.toml", &text)
            .unwrap_err()
            .to_string();
        assert!(e.contains("`difficulty.brutal`: bad difficulty"), "{e}");
        assert!(
            e.contains("difficulty.hostile"),
            "a missing level is reported too: {e}"
        );
    }

    #[test]
    fn a_duplicate_id_in_one_set_is_rejected() {
        let e = ScenarioLibrary::from_sources([("a.toml", latency()), ("b.toml", latency())])
            .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("b.toml:1: `id`: duplicate id \"latency-regression\""),
            "{e}"
        );
    }

    #[test]
    fn a_user_scenario_overrides_an_embedded_one() {
        let mut library = ScenarioLibrary::embedded().unwrap();
        let text = latency().replacen("The 40% latency regression", "My own take", 1);
        library.add_sources([("mine.toml", text.as_str())]).unwrap();
        assert_eq!(
            library.get("latency-regression").unwrap().title,
            "My own take"
        );
    }
}

/// How many ids `closest` suggests at most.
const MOST_SUGGESTIONS: usize = 3;

/// How alike (0 to 1, by edit distance) an id must be to a mistyped one to be suggested.
const SUGGEST_SIMILARITY: f64 = 0.6;

/// So alike that it is surely what was meant: a typo or two in a long id.
const TYPO_SIMILARITY: f64 = 0.85;

impl ScenarioLibrary {
    /// The ids most like `id`, best first and at most three: an id a typo away alone when
    /// there is one; otherwise ids it is part of, or that share a word with it, and ids a few
    /// edits away. Empty when nothing is close. What a command suggests after an unknown
    /// scenario id.
    pub fn closest(&self, id: &str) -> Vec<&str> {
        let wanted = id.trim().to_lowercase();
        if wanted.is_empty() {
            return Vec::new();
        }
        let words: Vec<&str> = wanted
            .split(['-', ' ', '_'])
            .filter(|w| w.len() > 2)
            .collect();
        let mut scored: Vec<(bool, f64, &str)> = self
            .scenarios
            .keys()
            .filter_map(|known| {
                let similarity = strsim::normalized_damerau_levenshtein(&wanted, known);
                let contains = known.contains(&wanted)
                    || wanted.contains(known.as_str())
                    || known.split('-').any(|w| words.contains(&w));
                (contains || similarity >= SUGGEST_SIMILARITY).then_some((
                    contains,
                    similarity,
                    known.as_str(),
                ))
            })
            .collect();
        if scored.iter().any(|s| s.1 >= TYPO_SIMILARITY) {
            scored.retain(|s| s.1 >= TYPO_SIMILARITY);
        }
        // Closer spelling first; an id that contains what was typed ranks with the closest.
        scored.sort_by(|a, b| {
            let rank = |s: &(bool, f64, &str)| {
                if s.0 {
                    s.1.max(SUGGEST_SIMILARITY)
                } else {
                    s.1
                }
            };
            rank(b).total_cmp(&rank(a)).then(a.2.cmp(b.2))
        });
        scored
            .into_iter()
            .take(MOST_SUGGESTIONS)
            .map(|(_, _, id)| id)
            .collect()
    }
}

#[cfg(test)]
mod closest_tests {
    use super::ScenarioLibrary;

    #[test]
    fn a_typo_or_part_of_an_id_suggests_the_ids_meant() {
        let library = ScenarioLibrary::embedded().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            library.closest("latency-regresion")[0],
            "latency-regression"
        );
        assert_eq!(
            library.closest("Latency-Regression")[0],
            "latency-regression"
        );
        let latency = library.closest("latency");
        assert!(latency.contains(&"latency-regression"), "{latency:?}");
        assert!(latency.contains(&"bleu-vs-latency"), "{latency:?}");
        assert_eq!(library.closest("talent"), ["talent-allocation"]);
        assert!(
            library
                .closest("reserch-deep-dive")
                .starts_with(&["research-deep-dive"])
        );
        assert!(library.closest("xyzzy").is_empty());
        assert!(library.closest("").is_empty());
        assert!(library.closest("e").len() <= 3);
    }
}
