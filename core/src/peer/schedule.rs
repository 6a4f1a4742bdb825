//! A channel's weekly peer round: a weekday and a time of day in a named time zone, with the
//! reminder lead, the no-show grace and the drill length. The next start is computed from a
//! `now` passed in; the wall clock of the zone decides, so a round at 18:00 stays at 18:00
//! local time across daylight-saving changes.

use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset,
    TimeZone, Utc, Weekday,
};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// A weekly round as an admin set it up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    pub weekday: Weekday,
    /// Wall-clock time in `zone`.
    pub time: NaiveTime,
    pub zone: Tz,
    /// How long before the start the opted-in members are reminded.
    pub remind_before_min: u32,
    /// How long after their thread opens a member may take to post before they count as a
    /// no-show and their partner is re-matched.
    pub no_show_after_min: u32,
    pub drill_length_s: u32,
    /// Scenario ids the round draws from for groups that did not ask for one; empty means
    /// any scenario.
    pub scenario_pool: Vec<String>,
}

/// Why a schedule could not be set up, in the admin's terms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("unknown weekday {0:?} (expected monday … sunday)")]
    Weekday(String),
    #[error("unreadable time {0:?} (expected HH:MM on a 24-hour clock, such as 18:30)")]
    Time(String),
    #[error("unknown time zone {0:?} (expected an IANA name such as Europe/Berlin)")]
    Zone(String),
}

impl Schedule {
    /// Reminder half an hour ahead, no-shows after ten minutes, fifteen-minute drills.
    pub const DEFAULT_REMIND_BEFORE_MIN: u32 = 30;
    pub const DEFAULT_NO_SHOW_AFTER_MIN: u32 = 10;
    pub const DEFAULT_DRILL_LENGTH_S: u32 = 15 * 60;

    /// A schedule from what an admin typed, with the default reminder, grace and length.
    pub fn parse(weekday: &str, time: &str, zone: &str) -> Result<Schedule, ScheduleError> {
        let weekday = weekday
            .trim()
            .parse::<Weekday>()
            .map_err(|_| ScheduleError::Weekday(weekday.to_string()))?;
        let time = NaiveTime::parse_from_str(time.trim(), "%H:%M")
            .map_err(|_| ScheduleError::Time(time.to_string()))?;
        let zone = zone
            .trim()
            .parse::<Tz>()
            .map_err(|_| ScheduleError::Zone(zone.to_string()))?;
        Ok(Schedule {
            weekday,
            time,
            zone,
            remind_before_min: Schedule::DEFAULT_REMIND_BEFORE_MIN,
            no_show_after_min: Schedule::DEFAULT_NO_SHOW_AFTER_MIN,
            drill_length_s: Schedule::DEFAULT_DRILL_LENGTH_S,
            scenario_pool: Vec::new(),
        })
    }

    /// The first start strictly after `now`.
    pub fn next_start(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let today = now.with_timezone(&self.zone).date_naive();
        // Eight days always hold the weekday once after today's, whatever today is.
        (0..=8)
            .filter_map(|d| today.checked_add_signed(Duration::days(d)))
            .filter(|date| date.weekday() == self.weekday)
            .map(|date| self.at(date))
            .find(|start| *start > now)
            .unwrap_or(now + Duration::weeks(1))
    }

    /// An instant as the channel's clock reads it, for reminders and listings.
    pub fn local(&self, at: DateTime<Utc>) -> DateTime<Tz> {
        at.with_timezone(&self.zone)
    }

    /// A scenario from the pool for a group that asked for none, other than those in
    /// `avoid` (what the group already drilled) while the pool has others. `salt` spreads
    /// groups of one round over the pool; `None` when the pool is empty.
    pub fn pick_scenario(&self, salt: u64, avoid: &[String]) -> Option<String> {
        let fresh: Vec<&String> = self
            .scenario_pool
            .iter()
            .filter(|s| !avoid.contains(s))
            .collect();
        let from: Vec<&String> = if fresh.is_empty() {
            self.scenario_pool.iter().collect()
        } else {
            fresh
        };
        let len = from.len() as u64;
        (len > 0).then(|| from[(salt % len) as usize].clone())
    }

    /// When the reminder for a round starting at `start` goes out.
    pub fn reminder_at(&self, start: DateTime<Utc>) -> DateTime<Utc> {
        start - Duration::minutes(i64::from(self.remind_before_min))
    }

    /// The instant this schedule's wall-clock time falls on `date`. A time the clocks skip
    /// (spring forward) is read with the offset from before the jump, so it lands as far
    /// past the jump as it was meant to be past its start; a time that happens twice (fall
    /// back) is its first occurrence.
    fn at(&self, date: NaiveDate) -> DateTime<Utc> {
        let local = NaiveDateTime::new(date, self.time);
        match self.zone.from_local_datetime(&local) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
            LocalResult::None => {
                let before = self
                    .zone
                    .offset_from_utc_datetime(&(local - Duration::days(1)));
                let offset = before.fix().local_minus_utc();
                Utc.from_utc_datetime(&(local - Duration::seconds(i64::from(offset))))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .expect("a valid instant")
            .with_timezone(&Utc)
    }

    #[test]
    fn the_next_start_is_the_coming_weekday_at_local_time() {
        let s = Schedule::parse("thursday", "18:30", "Europe/Berlin").expect("valid");
        // Monday 2025-01-06 noon UTC: Thursday 9 January, 18:30 CET = 17:30 UTC.
        let start = s.next_start(utc("2025-01-06T12:00:00Z"));
        assert_eq!(start, utc("2025-01-09T17:30:00Z"));
        assert_eq!(s.reminder_at(start), utc("2025-01-09T17:00:00Z"));
        // At the start itself, the next one is a week on.
        assert_eq!(s.next_start(start), utc("2025-01-16T17:30:00Z"));
        // Later the same Thursday (local time) also moves on a week.
        assert_eq!(
            s.next_start(utc("2025-01-09T22:00:00Z")),
            utc("2025-01-16T17:30:00Z")
        );
    }

    #[test]
    fn the_local_time_holds_across_a_daylight_saving_change() {
        // New York moves to EDT on Sunday 9 March 2025: Monday 18:00 is 23:00 UTC before
        // and 22:00 UTC after.
        let s = Schedule::parse("monday", "18:00", "America/New_York").expect("valid");
        let before = s.next_start(utc("2025-03-01T00:00:00Z"));
        assert_eq!(before, utc("2025-03-03T23:00:00Z"));
        let after = s.next_start(before);
        assert_eq!(after, utc("2025-03-10T22:00:00Z"));
        // A reminder 30 minutes ahead of a start is 30 real minutes, whatever the offset.
        assert_eq!(s.reminder_at(after), utc("2025-03-10T21:30:00Z"));
    }

    #[test]
    fn a_time_the_clocks_skip_or_repeat_still_gets_one_start() {
        // Berlin jumps from 02:00 to 03:00 on Sunday 30 March 2025: 02:30 does not exist
        // and the round starts at 03:30 CEST, an hour after 01:30 CET as the clock read.
        let spring = Schedule::parse("sunday", "02:30", "Europe/Berlin").expect("valid");
        assert_eq!(
            spring.next_start(utc("2025-03-29T00:00:00Z")),
            utc("2025-03-30T01:30:00Z")
        );
        // On Sunday 26 October 2025 02:30 happens twice; the first (CEST) is the start.
        assert_eq!(
            spring.next_start(utc("2025-10-25T00:00:00Z")),
            utc("2025-10-26T00:30:00Z")
        );
        // And the week after, 02:30 CET.
        assert_eq!(
            spring.next_start(utc("2025-10-26T00:30:00Z")),
            utc("2025-11-02T01:30:00Z")
        );
    }

    #[test]
    fn groups_without_a_wish_draw_from_the_pool_avoiding_what_they_drilled() {
        let mut s = Schedule::parse("friday", "12:00", "Asia/Kolkata").expect("valid");
        assert_eq!(s.pick_scenario(3, &[]), None);
        s.scenario_pool = vec!["a".into(), "b".into(), "c".into()];
        let picks: Vec<String> = (0..3).filter_map(|i| s.pick_scenario(i, &[])).collect();
        assert_eq!(picks, vec!["a", "b", "c"]);
        assert_eq!(
            s.pick_scenario(0, &["a".into(), "b".into()]).as_deref(),
            Some("c")
        );
        let all: Vec<String> = s.scenario_pool.clone();
        assert!(s.pick_scenario(5, &all).is_some());
        let start = s.next_start(utc("2025-06-02T00:00:00Z"));
        assert_eq!(
            s.local(start).format("%A %H:%M").to_string(),
            "Friday 12:00"
        );
    }

    #[test]
    fn unreadable_settings_are_named() {
        assert_eq!(
            Schedule::parse("someday", "18:00", "Europe/Berlin"),
            Err(ScheduleError::Weekday("someday".into()))
        );
        assert_eq!(
            Schedule::parse("mon", "6pm", "Europe/Berlin"),
            Err(ScheduleError::Time("6pm".into()))
        );
        assert_eq!(
            Schedule::parse("mon", "18:00", "Mars/Olympus"),
            Err(ScheduleError::Zone("Mars/Olympus".into()))
        );
        assert!(Schedule::parse(" Tuesday ", "07:05", "Asia/Kolkata").is_ok());
    }
}
