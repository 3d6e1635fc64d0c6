//! Property tests of the rules that take arbitrary input: ID numbers, masks, calendar months and
//! the member status state machine.

use dangjian_rules::id_number::check_char;
use dangjian_rules::{
    EventKind, IdNumber, MemberStatus, add_months, mask_id_number, mask_phone, next_status,
};
use proptest::prelude::*;
use time::{Date, Month};

const CHECK_CHARS: &[u8] = b"0123456789X";

fn date_parts_valid(b: &[u8]) -> bool {
    let text = |r: std::ops::Range<usize>| {
        std::str::from_utf8(&b[r])
            .ok()
            .and_then(|s| s.parse::<u32>().ok())
    };
    let (Some(year), Some(month), Some(day)) = (text(6..10), text(10..12), text(12..14)) else {
        return false;
    };
    let (Ok(year), Ok(month), Ok(day)) = (i32::try_from(year), u8::try_from(month), u8::try_from(day)) else {
        return false;
    };
    year >= 1900 && Month::try_from(month).is_ok_and(|m| Date::from_calendar_date(year, m, day).is_ok())
}

/// 17 digits with a real birth date between 1900 and 2025, and their check character.
fn valid_id() -> impl Strategy<Value = Vec<u8>> {
    (
        proptest::collection::vec(0u8..10, 6),
        1900i32..=2025,
        1u8..=12,
        1u8..=31,
        proptest::collection::vec(0u8..10, 3),
    )
        .prop_map(|(area, year, month, day, seq)| {
            let month = Month::try_from(month).unwrap_or(Month::January);
            let day = day.min(month.length(year));
            let mut b: Vec<u8> = area.iter().map(|d| b'0' + d).collect();
            b.extend(format!("{year:04}{:02}{day:02}", u8::from(month)).bytes());
            b.extend(seq.iter().map(|d| b'0' + d));
            b.push(check_char(&b));
            b
        })
}

fn any_date() -> impl Strategy<Value = Date> {
    (Date::MIN.to_julian_day()..=Date::MAX.to_julian_day())
        .prop_map(|jd| Date::from_julian_day(jd).unwrap_or(Date::MIN))
}

fn status() -> impl Strategy<Value = Option<MemberStatus>> {
    proptest::option::of(proptest::sample::select(MemberStatus::ALL))
}

proptest! {
    #[test]
    fn any_17_digits_with_a_real_birth_date_and_their_check_char_parse(b in valid_id()) {
        let s = String::from_utf8(b).unwrap();
        let id = IdNumber::parse(&s);
        prop_assert!(id.is_ok(), "{s}: {id:?}");
        let id = id.unwrap();
        prop_assert_eq!(id.as_str(), s.as_str());
    }

    #[test]
    fn changing_one_of_the_first_17_digits_makes_parse_fail(
        b in valid_id(), pos in 0usize..17, shift in 1u8..10,
    ) {
        let mut changed = b.clone();
        changed[pos] = b'0' + (b[pos] - b'0' + shift) % 10;
        let s = String::from_utf8(changed.clone()).unwrap();
        let err = IdNumber::parse(&s).unwrap_err();
        if date_parts_valid(&changed) {
            prop_assert_eq!(err.code, "id_number_checksum");
        }
    }

    #[test]
    fn changing_the_check_char_makes_parse_fail(b in valid_id(), other in proptest::sample::select(CHECK_CHARS)) {
        prop_assume!(other != b[17]);
        let mut changed = b.clone();
        changed[17] = other;
        let s = String::from_utf8(changed).unwrap();
        prop_assert_eq!(IdNumber::parse(&s).unwrap_err().code, "id_number_checksum");
    }

    #[test]
    fn masking_an_id_keeps_its_length_area_code_and_last_four(b in valid_id()) {
        let s = String::from_utf8(b).unwrap();
        for masked in [mask_id_number(&s), IdNumber::parse(&s).unwrap().masked()] {
            prop_assert_eq!(masked.len(), 18);
            prop_assert_eq!(&masked[..6], &s[..6]);
            prop_assert_eq!(&masked[14..], &s[14..]);
            prop_assert!(masked[6..14].bytes().all(|c| c == b'*'));
        }
    }

    #[test]
    fn mask_phone_keeps_the_length_and_shows_at_most_7_characters(s in "\\PC{0,40}") {
        let masked = mask_phone(&s);
        let original: Vec<char> = s.chars().collect();
        let out: Vec<char> = masked.chars().collect();
        prop_assert_eq!(out.len(), original.len());
        let mut shown = 0;
        for (o, c) in out.iter().zip(&original) {
            if *o != '*' {
                prop_assert_eq!(o, c);
                shown += 1;
            }
        }
        prop_assert!(shown <= 7, "{s} → {masked}");
    }

    #[test]
    fn mask_phone_shows_at_most_7_digits_of_a_mobile_number(s in "1[0-9]{10}") {
        let masked = mask_phone(&s);
        prop_assert_eq!(masked.chars().filter(|&c| c != '*').count(), 7);
        prop_assert_eq!(&masked[..3], &s[..3]);
        prop_assert_eq!(&masked[7..], &s[7..]);
    }

    #[test]
    fn add_months_never_panics(d in any_date(), n in any::<i32>()) {
        let _ = add_months(d, n);
    }

    #[test]
    fn add_months_lands_in_the_right_month_on_a_day_no_later(
        d in (1000i32..=8000).prop_flat_map(|y| (Just(y), 1u8..=12, 1u8..=31)),
        n in -12_000i32..=12_000,
    ) {
        let (year, month, day) = d;
        let month = Month::try_from(month).unwrap();
        let d = Date::from_calendar_date(year, month, day.min(month.length(year))).unwrap();
        let got = add_months(d, n);
        let index = i64::from(d.year()) * 12 + i64::from(u8::from(d.month())) - 1 + i64::from(n);
        prop_assert_eq!(i64::from(got.year()), index.div_euclid(12));
        prop_assert_eq!(i64::from(u8::from(got.month())) - 1, index.rem_euclid(12));
        prop_assert!(got.day() <= d.day());
        prop_assert!(got.day() == d.day() || got.day() == got.month().length(got.year()));
    }

    #[test]
    fn next_status_never_panics(
        current in status(),
        event in proptest::sample::select(EventKind::ALL),
        target in status(),
    ) {
        match next_status(current, event, target) {
            Ok(_) => {}
            Err(e) => prop_assert!(
                ["status_transition_invalid", "status_required", "status_not_allowed", "probationary_cannot_leave"].contains(&e.code)
            ),
        }
    }
}
