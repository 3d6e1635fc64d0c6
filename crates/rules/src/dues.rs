//! 党费: the monthly dues the rules give (domain-rules §2; D1 = 中组发〔2008〕3号《关于中国共产党党费
//! 收缴、使用和管理的规定》, in force from 2008-04-01).
//!
//! Money is integer 分 (fen) and rates are basis points (0.5% = 50): the amount is
//! `base_fen × rate_bp / 10000`, computed exactly and rounded once ([`Rounding`]). The brackets
//! are versioned data ([`DUES_RULE_SETS`]); an act is judged by the set in force on its date, and
//! a date before the first known set is refused (no older rules are known to the product).

use time::Date;
use time::macros::date;

use crate::member::PersonCategory;
use crate::ruleset::{Versioned, in_force_on};
use crate::{RuleViolation, RuleWarning, string_enum};

string_enum!(
    /// A month's bill (API.md member dues `status`).
    BillStatus {
        Due = "due" / "待缴",
        Paid = "paid" / "已缴",
        Waived = "waived" / "免缴",
    }
);

string_enum!(
    /// An online payment order.
    OrderStatus {
        Pending = "pending" / "待支付",
        Paid = "paid" / "已支付",
    }
);

string_enum!(
    /// A hardship application: the member applies, the branch discusses, the higher 党委 decides.
    HardshipStatus {
        Applied = "applied" / "已申请",
        Discussed = "discussed" / "支部已讨论",
        Approved = "approved" / "已批准",
        Rejected = "rejected" / "未批准",
    }
);

string_enum!(
    /// A case of six months unpaid (D1 第十三条).
    ArrearsStatus {
        Open = "open" / "待处理",
        Justified = "justified" / "有正当理由",
        RemovalProposed = "removal_proposed" / "建议除名",
        Kept = "kept" / "保留",
    }
);

string_enum!(
    /// How money came in. Payroll deduction (扣缴) and 垫交 are not methods: the rules forbid them.
    PayMethod {
        Cash = "cash" / "现金",
        Transfer = "transfer" / "转账",
        Online = "online" / "在线支付",
    }
);

string_enum!(
    /// What a payment is for: months' regular dues, or a voluntary extra (自愿多交).
    PaymentKind {
        Regular = "regular" / "按月交纳",
        Voluntary = "voluntary" / "自愿多交",
    }
);

string_enum!(
    /// What an approved hardship application does to the months it covers.
    HardshipMode {
        Waive = "waive" / "免交",
        Reduce = "reduce" / "减交",
    }
);

pub mod ledger;

/// Basis points in one whole (100% = 10000 bp).
const BP_PER_WHOLE: i128 = 10_000;

/// One bracket of a percentage scale: bases up to and including `up_to_fen` pay `rate_bp` on the
/// whole base (not marginal). `None` has no upper bound (the last bracket).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bracket {
    pub up_to_fen: Option<i64>,
    pub rate_bp: u32,
}

/// How the exact amount is rounded, once. Not set nationally (domain-rules §2, \[U\]): the default
/// is half up to the 分; a deployment may choose another.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Rounding {
    /// Half up to the 分 (1500.5 分 → 1501 分).
    #[default]
    HalfUpFen,
    /// Half up to the 角 (1505 分 → 1510 分, 1504.9 分 → 1500 分).
    HalfUpJiao,
    /// Down to the 分 (1500.9 分 → 1500 分).
    DownFen,
}

impl Rounding {
    pub const ALL: &'static [Rounding] = &[Rounding::HalfUpFen, Rounding::HalfUpJiao, Rounding::DownFen];

    pub fn as_str(self) -> &'static str {
        match self {
            Rounding::HalfUpFen => "half_up_fen",
            Rounding::HalfUpJiao => "half_up_jiao",
            Rounding::DownFen => "down_fen",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|r| r.as_str() == s)
    }

    /// Rounds the non-negative exact amount `numerator / 10000` 分.
    fn apply(self, numerator: i128) -> i128 {
        match self {
            Rounding::HalfUpFen => (numerator + BP_PER_WHOLE / 2) / BP_PER_WHOLE,
            Rounding::HalfUpJiao => (numerator + BP_PER_WHOLE * 5) / (BP_PER_WHOLE * 10) * 10,
            Rounding::DownFen => numerator / BP_PER_WHOLE,
        }
    }
}

/// One version of the dues rules. Each value names its source (domain-rules §2, \[C D1\]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DuesRuleSet {
    /// Short version key, stored with every amount set under this set.
    pub version: &'static str,
    /// The regulation this set transcribes.
    pub source: &'static str,
    /// The first day amounts are set by this set.
    pub effective_from: Date,
    /// 在职 (monthly after-tax pay): one rate on the whole base (D1 第二条).
    pub in_service: &'static [Bracket],
    pub in_service_rule: &'static str,
    /// 离退休 (pension actually received): one rate on the whole base (D1 第五条).
    pub retired: &'static [Bracket],
    pub retired_rule: &'static str,
    /// 农民党员: 0.2–1 元 a month (D1 第六条).
    pub farmer_min_fen: i64,
    pub farmer_max_fen: i64,
    /// 学生、下岗失业、依靠抚恤或救济生活、领取低保: 0.2 元 a month (D1 第六条).
    pub fixed_fen: i64,
    pub fixed_rule: &'static str,
    /// The monthly amount is normally at most this (D1 第十一条; warn, never cap).
    pub normal_monthly_max_fen: i64,
    pub normal_monthly_max_rule: &'static str,
    /// A one-off voluntary payment of at least this goes entirely to 中央 (大额党费, D1 第十一条).
    pub large_voluntary_min_fen: i64,
    /// 补交 normally covers at most this many months (D1 第十二条; warn).
    pub back_pay_normal_max_months: i64,
    pub back_pay_rule: &'static str,
    /// This many consecutive months unpaid without 正当理由 is 自行脱党, for the 支部大会 to decide
    /// (党章 第九条, D1 第十三条; propose only).
    pub lapse_months: i64,
    pub lapse_rule: &'static str,
}

/// Every version, oldest first. Effective dates are increasing. Rules before the first set are
/// not known: such dates are refused ([`dues_rules_on`]).
pub static DUES_RULE_SETS: &[DuesRuleSet] = &[DuesRuleSet {
    version: "d1-2008",
    source: "中组发〔2008〕3号《关于中国共产党党费收缴、使用和管理的规定》",
    effective_from: D1_EFFECTIVE,
    in_service: &[
        Bracket {
            up_to_fen: Some(300_000),
            rate_bp: 50,
        },
        Bracket {
            up_to_fen: Some(500_000),
            rate_bp: 100,
        },
        Bracket {
            up_to_fen: Some(1_000_000),
            rate_bp: 150,
        },
        Bracket {
            up_to_fen: None,
            rate_bp: 200,
        },
    ],
    in_service_rule: "D1 2008 第二条",
    retired: &[
        Bracket {
            up_to_fen: Some(500_000),
            rate_bp: 50,
        },
        Bracket {
            up_to_fen: None,
            rate_bp: 100,
        },
    ],
    retired_rule: "D1 2008 第五条",
    farmer_min_fen: 20,
    farmer_max_fen: 100,
    fixed_fen: 20,
    fixed_rule: "D1 2008 第六条",
    normal_monthly_max_fen: 100_000,
    normal_monthly_max_rule: "D1 2008 第十一条",
    large_voluntary_min_fen: 100_000,
    back_pay_normal_max_months: 6,
    back_pay_rule: "D1 2008 第十二条",
    lapse_months: 6,
    lapse_rule: "党章 第九条；D1 2008 第十三条",
}];

/// D1 (中组发〔2008〕3号) applies from 2008-04-01.
const D1_EFFECTIVE: Date = date!(2008 - 04 - 01);

impl Versioned for DuesRuleSet {
    fn effective_from(&self) -> Date {
        self.effective_from
    }
}

/// The set in force on `date`: the latest whose `effective_from` is not after it. Before the
/// first set → 422 `dues_rules_not_in_force` on `date` (the older rules are not known).
pub fn dues_rules_on(date: Date) -> Result<&'static DuesRuleSet, RuleViolation> {
    in_force_on(DUES_RULE_SETS, date).ok_or_else(|| {
        let first = DUES_RULE_SETS.first().map(|s| s.effective_from.to_string());
        RuleViolation::field("dues_rules_not_in_force", "date")
            .arg("date", date)
            .arg("from", first.unwrap_or_default())
    })
}

/// The monthly dues the rules give.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quote {
    /// The amount, or the minimum where the rules give a range.
    pub monthly_fen: i64,
    /// The maximum where the rules give a range (农民党员), else `None`.
    pub max_fen: Option<i64>,
    /// The rate applied to the whole base (percentage categories only).
    pub rate_bp: Option<u32>,
    /// The rule applied, e.g. "D1 2008 第二条".
    pub rule: &'static str,
    /// The message key describing the bracket or fixed amount applied (`dues_basis_…`).
    pub basis: &'static str,
}

/// The bracket of `brackets` a base falls in (boundaries inclusive, as the rules write them).
pub fn bracket_for(brackets: &'static [Bracket], base_fen: i64) -> Option<&'static Bracket> {
    brackets
        .iter()
        .find(|b| b.up_to_fen.is_none_or(|up| base_fen <= up))
}

/// `base_fen × rate_bp / 10000`, exact, rounded once. `base_fen` must not be negative.
pub fn apply_rate(base_fen: i64, rate_bp: u32, rounding: Rounding) -> i64 {
    let exact = i128::from(base_fen.max(0)) * i128::from(rate_bp);
    // at most base × rate / 10000 + 10 fen, so it fits for any rate up to 100%
    i64::try_from(rounding.apply(exact)).unwrap_or(i64::MAX)
}

/// The monthly dues for `category` under `rs`. `base_fen` (monthly pay or pension, in 分) is
/// required for `in_service` and `retired` (422 `field_required`), must not be negative (422
/// `base_negative`), and is ignored for the fixed categories.
pub fn quote(
    rs: &DuesRuleSet,
    category: PersonCategory,
    base_fen: Option<i64>,
    rounding: Rounding,
) -> Result<Quote, RuleViolation> {
    let (brackets, rule) = match category {
        PersonCategory::InService => (rs.in_service, rs.in_service_rule),
        PersonCategory::Retired => (rs.retired, rs.retired_rule),
        PersonCategory::Farmer => {
            return Ok(Quote {
                monthly_fen: rs.farmer_min_fen,
                max_fen: Some(rs.farmer_max_fen),
                rate_bp: None,
                rule: rs.fixed_rule,
                basis: "dues_basis_farmer",
            });
        }
        PersonCategory::Student | PersonCategory::Unemployed | PersonCategory::Relief => {
            return Ok(Quote {
                monthly_fen: rs.fixed_fen,
                max_fen: None,
                rate_bp: None,
                rule: rs.fixed_rule,
                basis: match category {
                    PersonCategory::Student => "dues_basis_student",
                    PersonCategory::Unemployed => "dues_basis_unemployed",
                    _ => "dues_basis_relief",
                },
            });
        }
    };
    let base = base_fen.ok_or_else(|| RuleViolation::field("field_required", "base_fen"))?;
    if base < 0 {
        return Err(RuleViolation::field("base_negative", "base_fen").arg("value", base));
    }
    let Some(bracket) = bracket_for(brackets, base) else {
        // a rule set's last bracket is open-ended; a set without one is a data error
        return Err(RuleViolation::field("dues_rules_not_in_force", "base_fen"));
    };
    Ok(Quote {
        monthly_fen: apply_rate(base, bracket.rate_bp, rounding),
        max_fen: None,
        rate_bp: Some(bracket.rate_bp),
        rule,
        basis: basis_key(category, bracket.rate_bp),
    })
}

/// The message key of a percentage bracket.
fn basis_key(category: PersonCategory, rate_bp: u32) -> &'static str {
    match (category, rate_bp) {
        (PersonCategory::Retired, 50) => "dues_basis_retired_50",
        (PersonCategory::Retired, _) => "dues_basis_retired_100",
        (_, 50) => "dues_basis_in_service_50",
        (_, 100) => "dues_basis_in_service_100",
        (_, 150) => "dues_basis_in_service_150",
        _ => "dues_basis_in_service_200",
    }
}

/// An amount set by hand stays where the rules put a fixed category: a 农民党员 pays 0.2 to 1 元
/// a month (D1 第五条), a student, an unemployed member or one on relief the fixed amount; outside
/// it → `dues_override_out_of_range` on `monthly_fen` (`min`, `max` in 元). Salaried categories may
/// be set by hand (a reasoned adjustment or a voluntary amount, warned above the usual cap).
pub fn check_override(
    rs: &DuesRuleSet,
    category: PersonCategory,
    monthly_fen: i64,
) -> Result<(), RuleViolation> {
    let (min, max) = match category {
        PersonCategory::InService | PersonCategory::Retired => return Ok(()),
        PersonCategory::Farmer => (rs.farmer_min_fen, rs.farmer_max_fen),
        PersonCategory::Student | PersonCategory::Unemployed | PersonCategory::Relief => {
            (rs.fixed_fen, rs.fixed_fen)
        }
    };
    if (min..=max).contains(&monthly_fen) {
        return Ok(());
    }
    Err(RuleViolation::field("dues_override_out_of_range", "monthly_fen")
        .arg("category", category.label_zh())
        .arg("amount", yuan(monthly_fen))
        .arg("min", yuan(min))
        .arg("max", yuan(max)))
}

/// The year's base, as it stands or as a change would set it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct YearBase {
    pub category: PersonCategory,
    pub base_fen: Option<i64>,
    pub monthly_fen: i64,
}

/// The base is fixed for the year (D2; edge case 20: a raise in March leaves 2025 at the January
/// amount): once bills of the year were issued, changing it is a correction, which needs a reason
/// → `dues_base_change_needs_reason` on `reason` (`bills`, `old`, `new` in 元). Unpaid bills then
/// take the new amount; paid and waived ones stay as they are.
pub fn check_base_change(
    before: Option<&YearBase>,
    after: &YearBase,
    issued_bills: u64,
    reason: Option<&str>,
) -> Result<(), RuleViolation> {
    let Some(before) = before else {
        return Ok(());
    };
    if issued_bills == 0 || before == after || reason.is_some_and(|r| !r.trim().is_empty()) {
        return Ok(());
    }
    Err(RuleViolation::field("dues_base_change_needs_reason", "reason")
        .arg("bills", issued_bills)
        .arg("old", yuan(before.monthly_fen))
        .arg("new", yuan(after.monthly_fen)))
}

/// A salaried member's base of 0 makes every bill 0: possible (no income that month) but not
/// what one means by accident — a warning to confirm, naming the rule.
pub fn zero_base(category: PersonCategory, base_fen: Option<i64>) -> Option<RuleWarning> {
    (matches!(category, PersonCategory::InService | PersonCategory::Retired) && base_fen == Some(0))
        .then(|| RuleWarning::new("dues_base_zero").arg("category", category.label_zh()))
}

/// A monthly amount above the usual maximum (1000 元, D1 第十一条) is allowed — more is voluntary —
/// but "normally" not asked for: a warning to confirm, never a cap.
pub fn above_normal_cap(rs: &DuesRuleSet, monthly_fen: i64) -> Option<RuleWarning> {
    (monthly_fen > rs.normal_monthly_max_fen).then(|| {
        RuleWarning::new("dues_above_normal_cap")
            .arg("amount", yuan(monthly_fen))
            .arg("max", yuan(rs.normal_monthly_max_fen))
    })
}

/// 分 as 元 with two decimals, e.g. 300050 → "3000.50", -5 → "-0.05".
pub fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let abs = fen.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_stay_in_the_range_of_a_fixed_category_and_a_zero_base_is_confirmed() {
        let rs = &DUES_RULE_SETS[0];
        for (category, fen, ok) in [
            (PersonCategory::Farmer, 20, true),
            (PersonCategory::Farmer, 100, true),
            (PersonCategory::Farmer, 10, false),
            (PersonCategory::Farmer, 150, false),
            (PersonCategory::Student, 20, true),
            (PersonCategory::Student, 50, false),
            (PersonCategory::InService, 5, true),
        ] {
            let r = check_override(rs, category, fen);
            assert_eq!(r.is_ok(), ok, "{category:?} {fen}: {r:?}");
            if let Err(e) = r {
                assert_eq!(
                    (e.code, e.field),
                    ("dues_override_out_of_range", Some("monthly_fen"))
                );
            }
        }
        assert!(zero_base(PersonCategory::InService, Some(0)).is_some());
        assert!(zero_base(PersonCategory::InService, Some(1)).is_none());
        assert!(zero_base(PersonCategory::Farmer, None).is_none());
    }

    fn d1() -> &'static DuesRuleSet {
        &DUES_RULE_SETS[0]
    }

    fn in_service(base: i64) -> Quote {
        quote(d1(), PersonCategory::InService, Some(base), Rounding::HalfUpFen).unwrap()
    }

    fn retired(base: i64) -> Quote {
        quote(d1(), PersonCategory::Retired, Some(base), Rounding::HalfUpFen).unwrap()
    }

    #[test]
    fn rule_sets_are_ordered_by_effective_date() {
        assert!(crate::ruleset::ordered_by_effective_date(DUES_RULE_SETS));
    }

    #[test]
    fn the_d1_set_is_in_force_from_2008_04_01() {
        assert_eq!(dues_rules_on(date!(2008 - 04 - 01)).unwrap().version, "d1-2008");
        assert_eq!(dues_rules_on(date!(2010 - 01 - 01)).unwrap().version, "d1-2008");
        assert_eq!(dues_rules_on(date!(2026 - 12 - 31)).unwrap().version, "d1-2008");
    }

    #[test]
    fn a_date_before_the_first_set_is_refused_naming_the_date() {
        let err = dues_rules_on(date!(2008 - 03 - 31)).unwrap_err();
        assert_eq!(err.code, "dues_rules_not_in_force");
        assert_eq!(err.field, Some("date"));
        assert!(err.args.contains(&("from", "2008-04-01".to_owned())));
        assert!(dues_rules_on(date!(2000 - 01 - 01)).is_err());
    }

    #[test]
    fn every_last_bracket_is_open_ended_and_bounds_increase() {
        for rs in DUES_RULE_SETS {
            for scale in [rs.in_service, rs.retired] {
                assert_eq!(scale.last().and_then(|b| b.up_to_fen), None);
                let bounds: Vec<i64> = scale.iter().filter_map(|b| b.up_to_fen).collect();
                assert!(bounds.windows(2).all(|w| w[0] < w[1]));
                assert_eq!(bounds.len() + 1, scale.len());
            }
        }
    }

    #[test]
    fn a_zero_base_pays_nothing() {
        assert_eq!(in_service(0).monthly_fen, 0);
        assert_eq!(in_service(0).rate_bp, Some(50));
    }

    #[test]
    fn sub_yuan_bases_round_to_the_fen() {
        assert_eq!(in_service(1).monthly_fen, 0, "0.005 fen");
        assert_eq!(in_service(99).monthly_fen, 0, "0.495 fen");
        assert_eq!(in_service(100).monthly_fen, 1, "0.5 fen rounds up");
        assert_eq!(in_service(199).monthly_fen, 1, "0.995 fen");
    }

    #[test]
    fn exactly_3000_yuan_is_still_half_a_percent() {
        assert_eq!(in_service(299_999).rate_bp, Some(50));
        assert_eq!(in_service(299_999).monthly_fen, 1500, "1499.995 fen");
        assert_eq!(in_service(300_000).rate_bp, Some(50));
        assert_eq!(in_service(300_000).monthly_fen, 1500);
    }

    #[test]
    fn one_fen_above_3000_yuan_pays_one_percent_on_the_whole_base() {
        let q = in_service(300_001);
        assert_eq!(q.rate_bp, Some(100));
        assert_eq!(q.monthly_fen, 3000, "3000.01 fen");
    }

    #[test]
    fn exactly_5000_yuan_is_one_percent_and_one_fen_more_is_one_and_a_half() {
        assert_eq!(in_service(500_000).rate_bp, Some(100));
        assert_eq!(in_service(500_000).monthly_fen, 5000);
        assert_eq!(in_service(500_001).rate_bp, Some(150));
        assert_eq!(in_service(500_001).monthly_fen, 7500, "7500.015 fen");
    }

    #[test]
    fn exactly_10000_yuan_is_one_and_a_half_percent_and_one_fen_more_is_two() {
        assert_eq!(in_service(1_000_000).rate_bp, Some(150));
        assert_eq!(in_service(1_000_000).monthly_fen, 15_000);
        assert_eq!(in_service(1_000_001).rate_bp, Some(200));
        assert_eq!(in_service(1_000_001).monthly_fen, 20_000, "20000.02 fen");
    }

    #[test]
    fn the_rate_is_not_marginal() {
        // marginal would be 3000×0.5% + 2000×1% = 35 元; the rules take 1% of the whole 50 元
        assert_eq!(in_service(500_000).monthly_fen, 5000);
    }

    #[test]
    fn in_service_quotes_name_the_rule_and_carry_no_range() {
        let q = in_service(400_000);
        assert_eq!(q.rule, "D1 2008 第二条");
        assert_eq!(q.max_fen, None);
        assert_eq!(q.basis, "dues_basis_in_service_100");
    }

    #[test]
    fn retired_members_pay_half_a_percent_up_to_5000_yuan_and_one_percent_above() {
        assert_eq!(retired(500_000).rate_bp, Some(50));
        assert_eq!(retired(500_000).monthly_fen, 2500);
        assert_eq!(retired(500_001).rate_bp, Some(100));
        assert_eq!(retired(500_001).monthly_fen, 5000, "5000.01 fen");
        assert_eq!(retired(400_000).monthly_fen, 2000, "not the in-service 1%");
        assert_eq!(retired(0).monthly_fen, 0);
        assert_eq!(retired(500_000).rule, "D1 2008 第五条");
    }

    #[test]
    fn an_exact_half_fen_rounds_up() {
        // 300100 × 50 / 10000 = 1500.5
        assert_eq!(in_service(300_100).monthly_fen, 3001, "1% bracket: 3001 exact");
        let q = quote(
            d1(),
            PersonCategory::InService,
            Some(300_100),
            Rounding::HalfUpFen,
        )
        .unwrap();
        assert_eq!(q.monthly_fen, 3001);
        assert_eq!(apply_rate(300_100, 50, Rounding::HalfUpFen), 1501);
        assert_eq!(retired(300_100).monthly_fen, 1501, "1500.5 fen → 1501");
        assert_eq!(retired(300_099).monthly_fen, 1500, "1500.495 fen → 1500");
    }

    #[test]
    fn rounding_down_drops_the_fraction() {
        assert_eq!(apply_rate(300_100, 50, Rounding::DownFen), 1500);
        assert_eq!(apply_rate(299_999, 50, Rounding::DownFen), 1499);
        assert_eq!(apply_rate(99, 50, Rounding::DownFen), 0);
    }

    #[test]
    fn rounding_to_the_jiao_rounds_half_up_to_ten_fen() {
        assert_eq!(apply_rate(300_000, 50, Rounding::HalfUpJiao), 1500);
        assert_eq!(apply_rate(301_000, 50, Rounding::HalfUpJiao), 1510, "1505 → 1510");
        assert_eq!(
            apply_rate(300_999, 50, Rounding::HalfUpJiao),
            1500,
            "1504.995 → 1500"
        );
        assert_eq!(apply_rate(999, 50, Rounding::HalfUpJiao), 0, "4.995 fen → 0");
        assert_eq!(apply_rate(1000, 50, Rounding::HalfUpJiao), 10, "5 fen → 1 角");
        let q = quote(d1(), PersonCategory::Retired, Some(301_000), Rounding::HalfUpJiao).unwrap();
        assert_eq!(q.monthly_fen, 1510);
    }

    #[test]
    fn huge_bases_do_not_overflow() {
        let q = in_service(i64::MAX);
        assert_eq!(
            i128::from(q.monthly_fen),
            (i128::from(i64::MAX) * 200 + 5000) / 10_000
        );
    }

    #[test]
    fn farmers_pay_between_20_fen_and_one_yuan() {
        let q = quote(d1(), PersonCategory::Farmer, None, Rounding::HalfUpFen).unwrap();
        assert_eq!((q.monthly_fen, q.max_fen, q.rate_bp), (20, Some(100), None));
        assert_eq!(q.rule, "D1 2008 第六条");
    }

    #[test]
    fn students_the_unemployed_and_those_on_relief_pay_20_fen_whatever_the_base() {
        for c in [
            PersonCategory::Student,
            PersonCategory::Unemployed,
            PersonCategory::Relief,
        ] {
            for base in [None, Some(0), Some(-5), Some(2_000_000)] {
                let q = quote(d1(), c, base, Rounding::HalfUpJiao).unwrap();
                assert_eq!((q.monthly_fen, q.max_fen, q.rate_bp), (20, None, None), "{c}");
            }
        }
    }

    #[test]
    fn a_percentage_category_without_a_base_is_refused_naming_base_fen() {
        for c in [PersonCategory::InService, PersonCategory::Retired] {
            let err = quote(d1(), c, None, Rounding::HalfUpFen).unwrap_err();
            assert_eq!((err.code, err.field), ("field_required", Some("base_fen")));
        }
    }

    #[test]
    fn a_negative_base_is_refused() {
        let err = quote(d1(), PersonCategory::InService, Some(-1), Rounding::HalfUpFen).unwrap_err();
        assert_eq!((err.code, err.field), ("base_negative", Some("base_fen")));
        let err = quote(d1(), PersonCategory::Retired, Some(-100), Rounding::HalfUpFen).unwrap_err();
        assert_eq!(err.code, "base_negative");
    }

    #[test]
    fn more_than_1000_yuan_a_month_is_warned_never_capped() {
        assert_eq!(above_normal_cap(d1(), 100_000), None);
        let w = above_normal_cap(d1(), 100_001).unwrap();
        assert_eq!(w.code, "dues_above_normal_cap");
        assert!(w.args.contains(&("max", "1000.00".to_owned())));
        assert_eq!(in_service(6_000_000).monthly_fen, 120_000, "not capped");
    }

    #[test]
    fn yuan_prints_two_decimals() {
        assert_eq!(yuan(300_050), "3000.50");
        assert_eq!(yuan(5), "0.05");
        assert_eq!(yuan(-5), "-0.05");
        assert_eq!(yuan(0), "0.00");
    }

    #[test]
    fn a_base_changed_after_bills_were_issued_needs_a_reason() {
        let jan = YearBase {
            category: PersonCategory::InService,
            base_fen: Some(280_000),
            monthly_fen: 1400,
        };
        let march = YearBase {
            base_fen: Some(350_000),
            monthly_fen: 1750,
            ..jan
        };
        // no bills yet, or the same base: nothing to explain
        assert_eq!(check_base_change(Some(&jan), &march, 0, None), Ok(()));
        assert_eq!(check_base_change(Some(&jan), &jan, 3, None), Ok(()));
        assert_eq!(check_base_change(None, &march, 3, None), Ok(()));
        let err = check_base_change(Some(&jan), &march, 3, Some("  ")).unwrap_err();
        assert_eq!(
            (err.code, err.field),
            ("dues_base_change_needs_reason", Some("reason"))
        );
        assert_eq!(
            check_base_change(Some(&jan), &march, 3, Some("录入错误更正")),
            Ok(())
        );
    }
}
