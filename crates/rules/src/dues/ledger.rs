//! The dues ledger's rules (domain-rules §2): months as `yyyymm` keys, hardship relief, 补交 and
//! 大额党费, consecutive unpaid months (arrears) and the 党费交至 month. Pure functions over what
//! the store reads; no clock — the caller passes the current month.

use super::DuesRuleSet;
use crate::{RuleViolation, RuleWarning};

/// The default of the arrears reminder: after this many consecutive unpaid months the member is
/// on the collector's reminder list. Local practice \[L\], a per-subtree setting.
pub const DEFAULT_REMINDER_MONTHS: i64 = 3;

/// A calendar month as `year × 100 + month` (202603 = March 2026): sortable, one integer.
pub fn ym(year: i64, month: i64) -> i64 {
    year * 100 + month
}

/// `(year, month)` of a key.
pub fn split_ym(key: i64) -> (i64, i64) {
    (key / 100, key % 100)
}

/// The key `n` months after `key` (n may be negative).
pub fn add_months(key: i64, n: i64) -> i64 {
    let (y, m) = split_ym(key);
    let idx = y * 12 + (m - 1) + n;
    ym(idx.div_euclid(12), idx.rem_euclid(12) + 1)
}

/// Months from `a` to `b` (b − a; 202603 − 202601 = 2).
pub fn months_between(a: i64, b: i64) -> i64 {
    let (ya, ma) = split_ym(a);
    let (yb, mb) = split_ym(b);
    (yb * 12 + mb) - (ya * 12 + ma)
}

/// `"2026-03"` → 202603; anything else → 422 `dues_month_invalid` naming `field`.
pub fn parse_ym(field: &'static str, s: &str) -> Result<i64, RuleViolation> {
    let bad = || RuleViolation::field("dues_month_invalid", field).arg("value", s.trim());
    let (y, m) = s.trim().split_once('-').ok_or_else(bad)?;
    let (y, m) = (
        y.parse::<i64>().map_err(|_| bad())?,
        m.parse::<i64>().map_err(|_| bad())?,
    );
    if !(2008..=2100).contains(&y) || !(1..=12).contains(&m) {
        return Err(bad());
    }
    Ok(ym(y, m))
}

/// `202603` → `"2026-03"`.
pub fn format_ym(key: i64) -> String {
    let (y, m) = split_ym(key);
    format!("{y}-{m:02}")
}

/// What a hardship decision takes off a month's bill: all of it (waive), or what is above the
/// reduced amount (reduce); never more than the bill, never negative.
pub fn hardship_relief(amount_fen: i64, reduced_to_fen: Option<i64>) -> i64 {
    match reduced_to_fen {
        None => amount_fen.max(0),
        Some(r) => (amount_fen - r.max(0)).clamp(0, amount_fen.max(0)),
    }
}

/// A one-off voluntary payment of 1000 元 or more goes entirely to 中央 (大额党费).
pub fn is_large_voluntary(rs: &DuesRuleSet, amount_fen: i64) -> bool {
    amount_fen >= rs.large_voluntary_min_fen
}

/// How far ahead dues may be paid: a year (bills are made a year at a time, and paying the
/// year in advance is common).
pub const PREPAY_MAX_MONTHS: i64 = 12;

/// The first month a member transferred in is billed by the receiving branch (domain-rules §2):
/// the month after the letter's 党费交至 month — the months before belong to the sending
/// organization — or, when the letter states none, the month of the transfer. A 党费交至 more than
/// [`PREPAY_MAX_MONTHS`] after the transfer → `dues_paid_through_range` on `dues_paid_through`
/// (`month`, `max`).
pub fn billed_from_after_transfer(
    transfer_month: i64,
    paid_through: Option<i64>,
) -> Result<i64, RuleViolation> {
    let Some(paid) = paid_through else {
        return Ok(transfer_month);
    };
    let max = add_months(transfer_month, PREPAY_MAX_MONTHS);
    if paid > max {
        return Err(
            RuleViolation::field("dues_paid_through_range", "dues_paid_through")
                .arg("month", format_ym(paid))
                .arg("max", format_ym(max)),
        );
    }
    Ok(add_months(paid, 1))
}

/// When a payment may be dated (months as `yyyymm` keys): not after `today` (`date_in_future`
/// on `paid_on`), and for months paid not more than [`PREPAY_MAX_MONTHS`] before the oldest of
/// them (`dues_paid_on_too_early` on `paid_on`, `month`, `earliest`).
pub fn check_paid_on(
    paid_on: (i64, i64),
    today: (i64, i64),
    oldest_month: Option<i64>,
) -> Result<(), RuleViolation> {
    // dates as comparable (yyyymm, day) pairs: no calendar needed here
    if paid_on > today {
        return Err(RuleViolation::field("date_in_future", "paid_on"));
    }
    if let Some(oldest) = oldest_month {
        let earliest = add_months(oldest, -PREPAY_MAX_MONTHS);
        if paid_on.0 < earliest {
            return Err(RuleViolation::field("dues_paid_on_too_early", "paid_on")
                .arg("month", format_ym(oldest))
                .arg("earliest", format_ym(earliest)));
        }
    }
    Ok(())
}

/// 补交 of months more than six back from `current` is "normally" not done: a warning to confirm.
pub fn back_pay_warning(rs: &DuesRuleSet, current: i64, oldest: i64) -> Option<RuleWarning> {
    let back = months_between(oldest, current);
    (back > rs.back_pay_normal_max_months).then(|| {
        RuleWarning::new("dues_back_pay_over_limit")
            .arg("months", back)
            .arg("max", rs.back_pay_normal_max_months)
            .arg("rule", rs.back_pay_rule)
    })
}

/// One month of a member's bills as the arrears rules see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LedgerMonth {
    pub ym: i64,
    /// Owed and not paid (a bill due with something left after relief).
    pub unpaid: bool,
    /// Settled: paid, or waived in full on an approved hardship application.
    pub settled: bool,
}

/// The run of consecutive unpaid months ending with the month before `current` (the current
/// month can still be paid on time): its length and first month. A month without a bill, or
/// settled (paid or waived: waived months are not unpaid), ends the run. `months` in any order.
pub fn unpaid_run(months: &[LedgerMonth], current: i64) -> (i64, Option<i64>) {
    let mut count = 0;
    let mut first = None;
    let mut key = add_months(current, -1);
    loop {
        match months.iter().find(|m| m.ym == key) {
            Some(m) if m.unpaid => {
                count += 1;
                first = Some(key);
                key = add_months(key, -1);
            }
            _ => return (count, first),
        }
    }
}

/// Where a member stands on arrears.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArrearsStage {
    /// Fewer unpaid months than the reminder setting.
    None,
    /// At or past the reminder setting: remind.
    Reminder,
    /// At the rules' lapse months: a case for the 支部大会 to decide (never automatic).
    Case,
}

impl ArrearsStage {
    pub fn as_str(self) -> &'static str {
        match self {
            ArrearsStage::None => "none",
            ArrearsStage::Reminder => "reminder",
            ArrearsStage::Case => "case",
        }
    }
}

/// The stage of a run of `unpaid` months under `rs` and the local reminder setting.
pub fn arrears_stage(rs: &DuesRuleSet, reminder_months: i64, unpaid: i64) -> ArrearsStage {
    if unpaid >= rs.lapse_months {
        ArrearsStage::Case
    } else if unpaid >= reminder_months {
        ArrearsStage::Reminder
    } else {
        ArrearsStage::None
    }
}

/// 党费交至: the last month up to which every billed month is settled — the month before the
/// first unsettled bill, or the last bill when all are settled; `None` when nothing is settled.
pub fn paid_through(months: &[LedgerMonth]) -> Option<i64> {
    let mut sorted: Vec<&LedgerMonth> = months.iter().collect();
    sorted.sort_by_key(|m| m.ym);
    let mut through = None;
    for m in sorted {
        if !m.settled {
            return through;
        }
        through = Some(m.ym);
    }
    through
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payment_is_dated_neither_ahead_of_today_nor_years_before_its_months() {
        let today = (202611, 25);
        assert!(check_paid_on((202611, 25), today, Some(202611)).is_ok());
        // the whole next year paid in advance
        assert!(check_paid_on((202601, 5), today, Some(202612)).is_ok());
        let e = check_paid_on((203001, 1), today, Some(202611)).unwrap_err();
        assert_eq!((e.code, e.field), ("date_in_future", Some("paid_on")));
        let e = check_paid_on((202611, 26), today, None).unwrap_err();
        assert_eq!(e.code, "date_in_future");
        let e = check_paid_on((202001, 1), today, Some(202611)).unwrap_err();
        assert_eq!((e.code, e.field), ("dues_paid_on_too_early", Some("paid_on")));
    }
    use crate::dues::DUES_RULE_SETS;

    fn unpaid(ym: i64) -> LedgerMonth {
        LedgerMonth {
            ym,
            unpaid: true,
            settled: false,
        }
    }
    fn paid(ym: i64) -> LedgerMonth {
        LedgerMonth {
            ym,
            unpaid: false,
            settled: true,
        }
    }

    #[test]
    fn month_keys_add_across_years() {
        assert_eq!(add_months(202601, -1), 202512);
        assert_eq!(add_months(202612, 1), 202701);
        assert_eq!(add_months(202603, -15), 202412);
        assert_eq!(months_between(202511, 202602), 3);
        assert_eq!(parse_ym("m", "2026-03"), Ok(202603));
        assert!(parse_ym("m", "2026-13").is_err());
        assert!(parse_ym("m", "2026/03").is_err());
        assert_eq!(format_ym(202603), "2026-03");
    }

    #[test]
    fn relief_never_exceeds_the_bill() {
        assert_eq!(hardship_relief(4500, None), 4500);
        assert_eq!(hardship_relief(4500, Some(1000)), 3500);
        assert_eq!(hardship_relief(4500, Some(9000)), 0);
        assert_eq!(hardship_relief(4500, Some(-1)), 4500);
    }

    #[test]
    fn one_thousand_yuan_voluntary_is_large_and_one_fen_less_is_not() {
        let rs = &DUES_RULE_SETS[0];
        assert!(is_large_voluntary(rs, 100_000));
        assert!(!is_large_voluntary(rs, 99_999));
    }

    #[test]
    fn back_pay_beyond_six_months_is_warned() {
        let rs = &DUES_RULE_SETS[0];
        assert_eq!(back_pay_warning(rs, 202607, 202601), None);
        assert!(back_pay_warning(rs, 202607, 202512).is_some());
    }

    #[test]
    fn six_unpaid_months_are_a_case_and_five_are_not() {
        let rs = &DUES_RULE_SETS[0];
        let months: Vec<_> = (1..=6).map(|m| unpaid(ym(2026, m))).collect();
        assert_eq!(unpaid_run(&months, 202607), (6, Some(202601)));
        assert_eq!(arrears_stage(rs, 3, 6), ArrearsStage::Case);
        assert_eq!(unpaid_run(&months[1..], 202607), (5, Some(202602)));
        assert_eq!(arrears_stage(rs, 3, 5), ArrearsStage::Reminder);
        assert_eq!(arrears_stage(rs, 3, 2), ArrearsStage::None);
    }

    #[test]
    fn a_settled_month_or_a_missing_bill_ends_the_run_and_the_current_month_is_not_late() {
        let mut months: Vec<_> = (1..=7).map(|m| unpaid(ym(2026, m))).collect();
        months[2] = paid(202603);
        assert_eq!(unpaid_run(&months, 202607), (3, Some(202604)));
        assert_eq!(unpaid_run(&months, 202609), (0, None), "no August bill");
    }

    #[test]
    fn paid_through_is_the_month_before_the_first_unsettled_bill() {
        assert_eq!(paid_through(&[]), None);
        assert_eq!(paid_through(&[unpaid(202601)]), None);
        assert_eq!(
            paid_through(&[paid(202602), paid(202601), unpaid(202603), paid(202604)]),
            Some(202602)
        );
        assert_eq!(paid_through(&[paid(202601), paid(202602)]), Some(202602));
    }

    #[test]
    fn a_member_transferred_in_is_billed_from_the_month_after_the_letters_paid_through() {
        assert_eq!(billed_from_after_transfer(202610, Some(202609)), Ok(202610));
        assert_eq!(billed_from_after_transfer(202610, Some(202612)), Ok(202701));
        assert_eq!(billed_from_after_transfer(202610, Some(202512)), Ok(202601));
        assert_eq!(billed_from_after_transfer(202610, None), Ok(202610));
        assert_eq!(billed_from_after_transfer(202610, Some(202710)), Ok(202711));
        let e = billed_from_after_transfer(202610, Some(202711)).unwrap_err();
        assert_eq!(
            (e.code, e.field),
            ("dues_paid_through_range", Some("dues_paid_through"))
        );
    }
}
