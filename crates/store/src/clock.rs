//! Time comes from an injected clock so every time limit and reminder is testable.

use std::sync::Mutex;

use time::{Date, OffsetDateTime, UtcOffset};

pub trait Clock: Send + Sync {
    fn now_utc(&self) -> OffsetDateTime;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now_utc(&self) -> OffsetDateTime {
        #[expect(
            clippy::disallowed_methods,
            reason = "the one place that reads the system clock"
        )]
        OffsetDateTime::now_utc()
    }
}

/// A clock tests set by hand.
pub struct FixedClock(Mutex<OffsetDateTime>);

impl FixedClock {
    pub fn new(t: OffsetDateTime) -> Self {
        Self(Mutex::new(t))
    }
    pub fn set(&self, t: OffsetDateTime) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = t;
    }
}

impl Clock for FixedClock {
    fn now_utc(&self) -> OffsetDateTime {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Stored times are UTC with microsecond precision (PostgreSQL keeps no more), so a value
/// reads back exactly as written — the audit hash depends on it.
pub fn truncate_micros(t: OffsetDateTime) -> OffsetDateTime {
    let micros = t.microsecond();
    t.replace_nanosecond(micros * 1000)
        .unwrap_or(t)
        .to_offset(UtcOffset::UTC)
}

/// The deployment's local calendar (default Asia/Shanghai, UTC+8, no daylight saving): it decides
/// what "today", a month and a quarter are.
#[derive(Clone, Copy, Debug)]
pub struct LocalTime {
    pub offset: UtcOffset,
}

impl Default for LocalTime {
    fn default() -> Self {
        Self {
            offset: UtcOffset::from_hms(8, 0, 0).unwrap_or(UtcOffset::UTC),
        }
    }
}

impl LocalTime {
    pub fn today(&self, clock: &dyn Clock) -> Date {
        clock.now_utc().to_offset(self.offset).date()
    }
}
