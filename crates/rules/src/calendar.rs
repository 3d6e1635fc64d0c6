//! Calendar arithmetic for the rules' time limits.
//!
//! domain-rules.md "Dates and money": "within N months" counts calendar months; no source fixes
//! the end day \[U\], so the default is the same day of month N months later, clamped to the end
//! of that month (2024-01-31 + 1 month → 2024-02-29). Years are twelve months, so Feb 29 plus one
//! year is Feb 28.

use time::{Date, Month};

/// The same day of month `n` calendar months after `d` (before it for negative `n`), clamped to
/// the last day of the target month (domain-rules "Dates and money", default for a \[U\] point).
///
/// Never panics: a result outside the range `time` can represent saturates to
/// [`Date::MIN`] or [`Date::MAX`].
pub fn add_months(d: Date, n: i32) -> Date {
    shift_months(d, i64::from(n))
}

/// The same day `n` years after `d`, clamped like [`add_months`]: Feb 29 → Feb 28 in a common
/// year (domain-rules "Dates and money"). Saturates instead of panicking.
pub fn add_years(d: Date, n: i32) -> Date {
    shift_months(d, i64::from(n) * 12)
}

/// Whole days from `from` to `to` (negative when `to` is earlier).
pub fn days_between(from: Date, to: Date) -> i64 {
    (to - from).whole_days()
}

fn shift_months(d: Date, n: i64) -> Date {
    // Months since year 0, January; i64 cannot overflow for any Date and any i32·12 shift.
    let index = i64::from(d.year()) * 12 + i64::from(u8::from(d.month())) - 1 + n;
    let year = index.div_euclid(12);
    let month0 = index.rem_euclid(12);
    let Ok(year) = i32::try_from(year) else {
        return if n < 0 { Date::MIN } else { Date::MAX };
    };
    // rem_euclid(12) is in 0..12: the cast is lossless.
    let month = Month::January.nth_next(month0 as u8);
    let day = d.day().min(month.length(year));
    Date::from_calendar_date(year, month, day).unwrap_or(if n < 0 { Date::MIN } else { Date::MAX })
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    #[test]
    fn adding_months_keeps_the_day_of_month_clamped_to_the_target_month() {
        let cases = [
            // the same day of month
            (date!(2024 - 06 - 15), 12, date!(2025 - 06 - 15)),
            (date!(2025 - 03 - 03), 1, date!(2025 - 04 - 03)),
            // clamped to the end of a shorter month
            (date!(2024 - 01 - 31), 1, date!(2024 - 02 - 29)),
            (date!(2025 - 01 - 31), 1, date!(2025 - 02 - 28)),
            (date!(2025 - 08 - 31), 1, date!(2025 - 09 - 30)),
            // across year boundaries both ways
            (date!(2024 - 11 - 30), 3, date!(2025 - 02 - 28)),
            (date!(2025 - 01 - 15), -1, date!(2024 - 12 - 15)),
            (date!(2025 - 03 - 31), -13, date!(2024 - 02 - 29)),
            // zero months change nothing
            (date!(2024 - 02 - 29), 0, date!(2024 - 02 - 29)),
            // beyond the representable range: saturated
            (date!(2024 - 01 - 01), i32::MAX, Date::MAX),
            (date!(2024 - 01 - 01), i32::MIN, Date::MIN),
        ];
        for (from, months, to) in cases {
            assert_eq!(add_months(from, months), to, "{from} + {months} months");
        }
    }

    #[test]
    fn adding_a_year_to_february_29_gives_february_28() {
        let cases = [
            (date!(2024 - 02 - 29), 1, date!(2025 - 02 - 28)),
            (date!(2024 - 02 - 29), 4, date!(2028 - 02 - 29)),
            (date!(2007 - 09 - 01), 18, date!(2025 - 09 - 01)),
            // beyond the representable range: saturated
            (Date::MAX, 1, Date::MAX),
            (Date::MIN, -1, Date::MIN),
        ];
        for (from, years, to) in cases {
            assert_eq!(add_years(from, years), to, "{from} + {years} years");
        }
    }

    #[test]
    fn days_between_counts_whole_days_with_a_sign() {
        assert_eq!(days_between(date!(2024 - 06 - 01), date!(2024 - 06 - 11)), 10);
        assert_eq!(days_between(date!(2024 - 06 - 11), date!(2024 - 06 - 01)), -10);
    }
}
