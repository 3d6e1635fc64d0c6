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

/// The system clock moved to another starting instant: time passes as it does, but began at
/// `start`. `serve --demo --today` and `demo --today` run on it, so a demo (and the browser tests
/// against it) is the same whatever the real date, and any date can be tried.
pub struct ShiftedClock {
    offset: time::Duration,
}

impl ShiftedClock {
    pub fn starting_at(start: OffsetDateTime) -> Self {
        Self {
            offset: start - SystemClock.now_utc(),
        }
    }
}

impl Clock for ShiftedClock {
    fn now_utc(&self) -> OffsetDateTime {
        SystemClock.now_utc() + self.offset
    }
}

/// Parses a starting instant given as `YYYY-MM-DD` (10:00 that day, local time: an ordinary
/// working morning) or as RFC 3339 with an offset (to try an exact moment, such as just before
/// midnight).
pub fn parse_start(raw: &str, local: LocalTime) -> Result<OffsetDateTime, String> {
    use time::format_description::well_known::Rfc3339;
    let raw = raw.trim();
    if let Ok(t) = OffsetDateTime::parse(raw, &Rfc3339) {
        return Ok(t.to_offset(UtcOffset::UTC));
    }
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    let day = Date::parse(raw, &fmt)
        .map_err(|_| format!("{raw:?} is neither YYYY-MM-DD nor an RFC 3339 time with an offset"))?;
    let ten = time::Time::from_hms(10, 0, 0).map_err(|e| e.to_string())?;
    Ok(day
        .with_time(ten)
        .assume_offset(local.offset)
        .to_offset(UtcOffset::UTC))
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

    /// The local midnight that starts `d`, as a UTC time: the form every stored time has, so a
    /// range bound compares right on SQLite too (which compares the text, offset and all).
    /// The local calendar day of an instant.
    pub fn date_of(&self, t: OffsetDateTime) -> Date {
        t.to_offset(self.offset).date()
    }

    pub fn midnight(&self, d: Date) -> OffsetDateTime {
        d.midnight().assume_offset(self.offset).to_offset(UtcOffset::UTC)
    }
}
