//! The deployment's settings: the thresholds the rules take as parameters rather than as
//! regulation data (domain-rules tags them [U]/[L]; the versioned [C]/[C2] values stay in
//! `rules::ruleset`). Built once from the flags (`dangjian serve`), given to the store at open
//! ([`crate::Store::open_with`]) and read from it — never a static, so two stores in one process
//! (two test servers) keep their own.

mod subtree;

use dangjian_rules::cadence::InquoratePolicy;
use dangjian_rules::meeting::CheckinPolicy;
use dangjian_rules::{Rounding, RuleViolation};
use time::Duration;

use crate::scope::Cap;

pub use subtree::{SettingInForce, SettingsUnder};

/// Bounds the flags are clamped to (as `serve` always did).
const GRACE_MAX_MINUTES: i64 = 24 * 60;
const WINDOW_OPENS_MAX_MINUTES: i64 = 7 * 24 * 60;
const DEVICE_TOLERANCE_MAX_SECONDS: i64 = 24 * 3600;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Late grace, when the check-in window opens, how far a device's clock is believed
    /// (`--late-grace-minutes`, `--checkin-opens-minutes`, `--device-clock-tolerance-seconds`).
    pub checkin: CheckinPolicy,
    /// How a dues amount is rounded (domain-rules §2: not set nationally [U]; default half up
    /// to the 分).
    pub dues_rounding: Rounding,
    /// After how many unpaid months in a row a member is listed for a reminder (1–5; at 6 the
    /// 支部大会 case applies anyway) [L].
    pub dues_reminder_months: i64,
    /// Whether a branch is reminded of a 党课 every quarter: a custom, not a regulation
    /// (domain-rules §3 [L]; default on).
    pub branch_lecture_quarterly: bool,
    /// Whether a 支部党员大会 without its quorum counts for the cadence: the rules do not say
    /// (domain-rules §3); default counts, flagged.
    pub inquorate_congress: InquoratePolicy,
    /// Whether each time a user is shown full records (ID number, phone, birth date) leaves an
    /// audit row — who, which, when, how (domain-rules §8 [U]; default on, `--audit-full-reads`).
    pub audit_full_reads: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            checkin: CheckinPolicy::default(),
            dues_rounding: Rounding::default(),
            dues_reminder_months: dangjian_rules::dues::ledger::DEFAULT_REMINDER_MONTHS,
            branch_lecture_quarterly: true,
            inquorate_congress: InquoratePolicy::CountsFlagged,
            audit_full_reads: true,
        }
    }
}

/// A setting an org may set for its subtree; the nearest org up the tree that sets it wins,
/// else the deployment's value (`Store::settings_at`). A module with [U]/[L] thresholds adds
/// its keys here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubtreeKey {
    /// `checkin.late_grace_minutes` (0–1440): when a first check-in counts as late.
    LateGraceMinutes,
    /// `dues.rounding`: how a monthly amount is rounded (`half_up_fen`, `half_up_jiao`, `down_fen`).
    DuesRounding,
    /// `dues.reminder_months` (1–5): the arrears reminder.
    DuesReminderMonths,
    /// `cadence.branch_lecture_quarterly` (`true`/`false`): the quarterly branch 党课 line of
    /// the 三会一课 cadence.
    BranchLectureQuarterly,
    /// `cadence.inquorate_congress` (`counts_flagged`/`not_counted`): whether a 支部党员大会
    /// without its quorum counts for the cadence.
    InquorateCongress,
}

impl SubtreeKey {
    pub const ALL: &'static [SubtreeKey] = &[
        SubtreeKey::LateGraceMinutes,
        SubtreeKey::DuesRounding,
        SubtreeKey::DuesReminderMonths,
        SubtreeKey::BranchLectureQuarterly,
        SubtreeKey::InquorateCongress,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SubtreeKey::LateGraceMinutes => "checkin.late_grace_minutes",
            SubtreeKey::DuesRounding => "dues.rounding",
            SubtreeKey::DuesReminderMonths => "dues.reminder_months",
            SubtreeKey::BranchLectureQuarterly => "cadence.branch_lecture_quarterly",
            SubtreeKey::InquorateCongress => "cadence.inquorate_congress",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.as_str() == s)
    }

    /// Who may set it: those who run the feature it tunes.
    pub fn cap(self) -> Cap {
        match self {
            SubtreeKey::LateGraceMinutes
            | SubtreeKey::BranchLectureQuarterly
            | SubtreeKey::InquorateCongress => Cap::WriteOrg,
            SubtreeKey::DuesRounding | SubtreeKey::DuesReminderMonths => Cap::CollectDues,
        }
    }

    /// The value in force in `s`, as stored and answered (`"5"`, `"half_up_fen"`).
    pub fn value_in(self, s: &Settings) -> String {
        match self {
            SubtreeKey::LateGraceMinutes => s.grace().whole_minutes().to_string(),
            SubtreeKey::DuesRounding => s.dues_rounding.as_str().to_owned(),
            SubtreeKey::DuesReminderMonths => s.dues_reminder_months.to_string(),
            SubtreeKey::BranchLectureQuarterly => s.branch_lecture_quarterly.to_string(),
            SubtreeKey::InquorateCongress => s.inquorate_congress.as_str().to_owned(),
        }
    }

    /// The values of a key that has a fixed set (empty: a number within bounds).
    pub fn choices(self) -> &'static [&'static str] {
        const ON_OFF: &[&str] = &["true", "false"];
        const ROUNDINGS: &[&str] = &["half_up_fen", "half_up_jiao", "down_fen"];
        const INQUORATE: &[&str] = &["counts_flagged", "not_counted"];
        match self {
            SubtreeKey::DuesRounding => ROUNDINGS,
            SubtreeKey::InquorateCongress => INQUORATE,
            SubtreeKey::BranchLectureQuarterly => ON_OFF,
            SubtreeKey::LateGraceMinutes | SubtreeKey::DuesReminderMonths => &[],
        }
    }

    /// `s` with this key set to `value`, or the refusal naming the key and its bounds.
    pub fn apply(self, s: &mut Settings, value: &str) -> Result<(), RuleViolation> {
        let bad = || RuleViolation::field("setting_invalid", self.as_str()).arg("value", value);
        let int = |lo: i64, hi: i64| {
            value
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|n| (lo..=hi).contains(n))
                .ok_or_else(|| bad().arg("min", lo).arg("max", hi))
        };
        match self {
            SubtreeKey::LateGraceMinutes => {
                s.checkin.grace = Duration::minutes(int(0, GRACE_MAX_MINUTES)?);
            }
            SubtreeKey::DuesRounding => {
                s.dues_rounding = Rounding::parse(value.trim()).ok_or_else(bad)?;
            }
            SubtreeKey::DuesReminderMonths => s.dues_reminder_months = int(1, 5)?,
            SubtreeKey::BranchLectureQuarterly => {
                s.branch_lecture_quarterly = value.trim().parse::<bool>().map_err(|_| bad())?;
            }
            SubtreeKey::InquorateCongress => {
                s.inquorate_congress = InquoratePolicy::parse(value.trim()).ok_or_else(bad)?;
            }
        }
        Ok(())
    }
}

impl Settings {
    /// The check-in settings from the flags' values, clamped to sane bounds.
    #[must_use]
    pub fn with_checkin(mut self, grace_minutes: i64, opens_minutes: i64, tolerance_seconds: i64) -> Self {
        self.checkin = CheckinPolicy {
            grace: Duration::minutes(grace_minutes.clamp(0, GRACE_MAX_MINUTES)),
            opens_before: Duration::minutes(opens_minutes.clamp(0, WINDOW_OPENS_MAX_MINUTES)),
            device_clock_tolerance: Duration::seconds(
                tolerance_seconds.clamp(0, DEVICE_TOLERANCE_MAX_SECONDS),
            ),
        };
        self
    }

    /// After the start, before a first check-in counts as late.
    pub fn grace(&self) -> Duration {
        self.checkin.grace
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subtree_keys_round_trip_and_refuse_out_of_bounds() {
        for k in SubtreeKey::ALL {
            assert_eq!(SubtreeKey::parse(k.as_str()), Some(*k));
            let mut s = Settings::default();
            let v = k.value_in(&s);
            k.apply(&mut s, &v).unwrap();
            assert_eq!(
                s,
                Settings::default(),
                "{k:?}: the default's own value changes nothing"
            );
        }
        let mut s = Settings::default();
        SubtreeKey::LateGraceMinutes.apply(&mut s, "15").unwrap();
        assert_eq!(s.grace(), Duration::minutes(15));
        SubtreeKey::DuesRounding.apply(&mut s, "half_up_jiao").unwrap();
        assert_eq!(s.dues_rounding, Rounding::HalfUpJiao);
        SubtreeKey::BranchLectureQuarterly.apply(&mut s, "false").unwrap();
        assert!(!s.branch_lecture_quarterly);
        // every fixed choice is accepted, and the roundings are the rules' own
        for k in SubtreeKey::ALL {
            for c in k.choices() {
                k.apply(&mut Settings::default(), c).unwrap();
            }
        }
        let names: Vec<_> = Rounding::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(SubtreeKey::DuesRounding.choices(), names);
        let names: Vec<_> = InquoratePolicy::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(SubtreeKey::InquorateCongress.choices(), names);
        for (k, v) in [
            (SubtreeKey::LateGraceMinutes, "-1"),
            (SubtreeKey::LateGraceMinutes, "1441"),
            (SubtreeKey::LateGraceMinutes, "5.5"),
            (SubtreeKey::DuesReminderMonths, "0"),
            (SubtreeKey::DuesReminderMonths, "6"),
            (SubtreeKey::DuesRounding, "up"),
            (SubtreeKey::BranchLectureQuarterly, "yes"),
        ] {
            let e = k.apply(&mut s, v).unwrap_err();
            assert_eq!((e.code, e.field), ("setting_invalid", Some(k.as_str())), "{v}");
        }
    }

    #[test]
    fn defaults_are_the_rules_defaults_and_flags_are_clamped() {
        let d = Settings::default();
        assert_eq!(d.grace(), Duration::minutes(5));
        assert_eq!(d.checkin.opens_before, Duration::minutes(120));
        assert_eq!(d.checkin.device_clock_tolerance, Duration::seconds(120));
        assert_eq!(d.dues_rounding, Rounding::HalfUpFen);
        assert_eq!(d.dues_reminder_months, 3);
        assert_eq!(Settings::default().with_checkin(5, 120, 120), d);
        let s = Settings::default().with_checkin(-3, 10 * 24 * 60, 1);
        assert_eq!(
            (
                s.grace(),
                s.checkin.opens_before,
                s.checkin.device_clock_tolerance
            ),
            (
                Duration::ZERO,
                Duration::minutes(7 * 24 * 60),
                Duration::seconds(1)
            )
        );
    }
}
