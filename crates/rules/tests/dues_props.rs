//! Property tests of the dues brackets (domain-rules §2): one rate on the whole base, rounded
//! once, exactly as an i128 reference computes it; boundaries as the rules write them.

use dangjian_rules::dues::{DUES_RULE_SETS, DuesRuleSet, apply_rate, bracket_for, quote};
use dangjian_rules::member::PersonCategory;
use dangjian_rules::{Quote, Rounding};
use proptest::prelude::*;

fn d1() -> &'static DuesRuleSet {
    &DUES_RULE_SETS[0]
}

fn rounding() -> impl Strategy<Value = Rounding> {
    prop_oneof![
        Just(Rounding::HalfUpFen),
        Just(Rounding::HalfUpJiao),
        Just(Rounding::DownFen)
    ]
}

fn percentage_category() -> impl Strategy<Value = PersonCategory> {
    prop_oneof![Just(PersonCategory::InService), Just(PersonCategory::Retired)]
}

fn fixed_category() -> impl Strategy<Value = PersonCategory> {
    prop_oneof![
        Just(PersonCategory::Farmer),
        Just(PersonCategory::Student),
        Just(PersonCategory::Unemployed),
        Just(PersonCategory::Relief)
    ]
}

/// Bases around the bracket boundaries as often as anywhere else, and some huge ones.
fn base() -> impl Strategy<Value = i64> {
    prop_oneof![
        0i64..2_000_000,
        (-3i64..=3).prop_map(|d| 300_000 + d),
        (-3i64..=3).prop_map(|d| 500_000 + d),
        (-3i64..=3).prop_map(|d| 1_000_000 + d),
        0i64..=i64::MAX,
    ]
}

/// The reference: the rate the rules give for a category and base, written from the text.
fn reference_rate(category: PersonCategory, base: i64) -> u32 {
    match category {
        PersonCategory::Retired if base <= 500_000 => 50,
        PersonCategory::Retired => 100,
        _ if base <= 300_000 => 50,
        _ if base <= 500_000 => 100,
        _ if base <= 1_000_000 => 150,
        _ => 200,
    }
}

/// The reference rounding of `base × bp / 10000` in i128, by remainder.
fn reference_amount(base: i64, bp: u32, rounding: Rounding) -> i128 {
    let n = i128::from(base) * i128::from(bp);
    match rounding {
        Rounding::DownFen => n / 10_000,
        Rounding::HalfUpFen => {
            let (q, r) = (n / 10_000, n % 10_000);
            if r * 2 >= 10_000 { q + 1 } else { q }
        }
        Rounding::HalfUpJiao => {
            let (q, r) = (n / 100_000, n % 100_000);
            (if r * 2 >= 100_000 { q + 1 } else { q }) * 10
        }
    }
}

fn q(category: PersonCategory, base: i64, rounding: Rounding) -> Quote {
    quote(d1(), category, Some(base), rounding).unwrap_or_else(|e| panic!("{category} {base}: {e}"))
}

proptest! {
    #[test]
    fn the_amount_is_fen_exact_against_an_i128_reference(
        c in percentage_category(), b in base(), r in rounding()
    ) {
        let got = q(c, b, r);
        let rate = reference_rate(c, b);
        prop_assert_eq!(got.rate_bp, Some(rate));
        prop_assert_eq!(i128::from(got.monthly_fen), reference_amount(b, rate, r));
    }

    #[test]
    fn one_rate_applies_to_the_whole_base(c in percentage_category(), b in base(), r in rounding()) {
        let got = q(c, b, r);
        let rate = got.rate_bp.unwrap();
        prop_assert_eq!(got.monthly_fen, apply_rate(b, rate, r));
        let brackets = if c == PersonCategory::Retired { d1().retired } else { d1().in_service };
        prop_assert_eq!(bracket_for(brackets, b).map(|x| x.rate_bp), Some(rate));
    }

    #[test]
    fn a_bigger_base_never_pays_less_within_a_bracket(
        c in percentage_category(), a in base(), d in 0i64..1_000_000, r in rounding()
    ) {
        let b = a.saturating_add(d);
        let (lo, hi) = (q(c, a, r), q(c, b, r));
        if lo.rate_bp == hi.rate_bp {
            prop_assert!(hi.monthly_fen >= lo.monthly_fen, "{a}: {lo:?}, {b}: {hi:?}");
        } else {
            prop_assert!(hi.rate_bp > lo.rate_bp, "a bigger base never falls in a lower bracket");
        }
    }

    #[test]
    fn the_amount_is_never_negative_nor_above_the_base(
        c in percentage_category(), b in base(), r in rounding()
    ) {
        let got = q(c, b, r);
        prop_assert!(got.monthly_fen >= 0);
        prop_assert!(got.monthly_fen <= b.saturating_add(10));
    }

    #[test]
    fn a_negative_base_is_always_refused(c in percentage_category(), b in i64::MIN..0, r in rounding()) {
        let err = quote(d1(), c, Some(b), r).unwrap_err();
        prop_assert_eq!((err.code, err.field), ("base_negative", Some("base_fen")));
    }

    #[test]
    fn fixed_categories_do_not_depend_on_the_base(
        c in fixed_category(), b in proptest::option::of(any::<i64>()), r in rounding()
    ) {
        let got = quote(d1(), c, b, r).unwrap();
        prop_assert_eq!(got, quote(d1(), c, None, Rounding::HalfUpFen).unwrap());
        prop_assert_eq!(got.monthly_fen, 20);
        prop_assert_eq!(got.max_fen, (c == PersonCategory::Farmer).then_some(100));
        prop_assert_eq!(got.rate_bp, None);
    }
}

#[test]
fn boundaries_are_exactly_as_the_rules_write_them() {
    let cases: &[(PersonCategory, i64, u32)] = &[
        (PersonCategory::InService, 0, 50),
        (PersonCategory::InService, 1, 50),
        (PersonCategory::InService, 299_999, 50),
        (PersonCategory::InService, 300_000, 50),
        (PersonCategory::InService, 300_001, 100),
        (PersonCategory::InService, 500_000, 100),
        (PersonCategory::InService, 500_001, 150),
        (PersonCategory::InService, 1_000_000, 150),
        (PersonCategory::InService, 1_000_001, 200),
        (PersonCategory::Retired, 0, 50),
        (PersonCategory::Retired, 500_000, 50),
        (PersonCategory::Retired, 500_001, 100),
    ];
    for &(c, b, rate) in cases {
        assert_eq!(q(c, b, Rounding::HalfUpFen).rate_bp, Some(rate), "{c} {b}");
    }
}
