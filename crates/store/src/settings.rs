//! The deployment's settings: the thresholds the rules take as parameters rather than as
//! regulation data (domain-rules tags them [U]/[L]; the versioned [C]/[C2] values stay in
//! `rules::ruleset`). Built once from the flags (`dangjian serve`), given to the store at open
//! ([`crate::Store::open_with`]) and read from it — never a static, so two stores in one process
//! (two test servers) keep their own.

use dangjian_rules::Rounding;
use dangjian_rules::meeting::CheckinPolicy;
use time::Duration;

/// Bounds the flags are clamped to (as `serve` always did).
const GRACE_MAX_MINUTES: i64 = 24 * 60;
const WINDOW_OPENS_MAX_MINUTES: i64 = 7 * 24 * 60;
const DEVICE_TOLERANCE_MAX_SECONDS: i64 = 24 * 3600;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Settings {
    /// Late grace, when the check-in window opens, how far a device's clock is believed
    /// (`--late-grace-minutes`, `--checkin-opens-minutes`, `--device-clock-tolerance-seconds`).
    pub checkin: CheckinPolicy,
    /// How a dues amount is rounded (domain-rules §2: not set nationally [U]; default half up
    /// to the 分).
    pub dues_rounding: Rounding,
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
    fn defaults_are_the_rules_defaults_and_flags_are_clamped() {
        let d = Settings::default();
        assert_eq!(d.grace(), Duration::minutes(5));
        assert_eq!(d.checkin.opens_before, Duration::minutes(120));
        assert_eq!(d.checkin.device_clock_tolerance, Duration::seconds(120));
        assert_eq!(d.dues_rounding, Rounding::HalfUpFen);
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
