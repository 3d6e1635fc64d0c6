//! Rule sets: every threshold and period of the organization and membership rules as versioned
//! data (domain-rules.md "How the rules are applied": "Rules are versioned data … An act is
//! judged by the set in force on its date"). A new regulation adds a set to [`ORG_RULE_SETS`];
//! code never holds these numbers.

use time::Date;
use time::macros::date;

use crate::org::{OrgCategory, OrgKind};

/// One version of the organization and membership rules. Each field names its source as
/// domain-rules.md tags it (\[C\] confirmed, \[C2\] secondary material).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrgRuleSet {
    /// Short version key, stored with every judgement made under this set.
    pub version: &'static str,
    /// The regulations this set transcribes.
    pub source: &'static str,
    /// The first day acts are judged by this set.
    pub effective_from: Date,

    /// 正式党员 from which a 党支部 must be formed, and below which a branch is flagged
    /// (B1 2018; domain-rules §3, \[C\]).
    pub branch_min_formal: u32,
    /// A 党支部 normally has at most this many members (B1 2018; §3, \[C\], warn).
    pub branch_normal_max_members: u32,
    /// A 党总支 is set up from this many members (B2 第五至七条: 50–100; §3, \[C\], warn).
    pub general_branch_min_members: u32,
    /// A 党总支 is set up up to this many members (B2 第五至七条; §3, \[C\], warn). At exactly
    /// this number a 基层党委 is also allowed.
    pub general_branch_max_members: u32,
    /// A 基层党委 is set up from this many members (B2 第五至七条: ≥ 100; §3, \[C\], warn).
    pub committee_min_members: u32,
    /// 正式党员 from which a branch has a 支部委员会; below it a secretary only (B1 2018; §3, \[C\]).
    pub committee_needs_formal: u32,
    /// Leaders a branch without a committee may have: the secretary and one deputy if needed
    /// (B1 2018; §3, \[C\]).
    pub secretary_only_max_size: u32,
    /// Smallest 支部委员会 (B1 2018 "3至5人"; §3, \[C\]).
    pub committee_size_min: u32,
    /// Usual largest 支部委员会 (B1 2018 "3至5人"; §3, \[C\]); above it a warning.
    pub committee_size_normal_max: u32,
    /// Largest 支部委员会 (B1 2018 "一般不超过7人"; §3, \[C\]).
    pub committee_size_max: u32,
    /// Deputy secretaries a branch may have: "one deputy if needed" (B1 2018; §3, \[C\]).
    pub branch_max_deputies: u32,
    /// Units a 联合党支部 may join (B1 2018; §3, \[C\]); more are refused.
    pub joint_branch_max_units: u32,
    /// Shortest term of a 基层党组织 (党章 2022 "每届任期三年至五年"; §3, \[C\]).
    pub term_years_min: u32,
    /// Longest term of a 基层党组织 (党章 2022; §3, \[C\]).
    pub term_years_max: u32,
    /// Usual term of a 基层党委 (B2; §3, \[C\]).
    pub term_years_committee: u32,
    /// Usual term of a 党总支 (B2; §3, \[C\]).
    pub term_years_general_branch: u32,
    /// Usual term of a 党支部 (B2; §3, \[C\]).
    pub term_years_branch: u32,
    /// Usual term of any 基层党组织 of a 村 or 社区 (domain-rules §3, \[C2\]).
    pub term_years_village_community: u32,
    /// How far the higher organization may postpone a 换届 (E1 第三条; §3, \[C\]).
    pub term_postpone_max_years: u32,
    /// Days before 届满 from which a term is flagged (domain-rules §3 "Flag terms before end";
    /// the period itself is a deployment default).
    pub term_warn_days: u32,
    /// A secretary normally has at least this many years of 党龄 (B1 第二十三条; §3, \[C\], warn).
    pub secretary_min_party_years: u32,
    /// 正式党员 a branch needs to hold the 支部大会 that admits or regularizes; no borrowing
    /// members (domain-rules §1 step 15, \[C2\]).
    pub vote_min_formal: u32,
    /// 预备期, counted from the 支部大会 resolution (党章 第七条; 细则2014 第三十二条; §1, \[C\]).
    pub probation_months: u32,
    /// Shortest extension of probation, allowed once (党章 第七条; §1 step 23, \[C\]).
    pub probation_extension_min_months: u32,
    /// Longest extension of probation (党章 第七条; §1 step 23, \[C\]).
    pub probation_extension_max_months: u32,
    /// Minimum age on the day of applying (细则2014 第五条; §1 step 1, \[C\]).
    pub applicant_min_age_years: u32,
}

impl OrgRuleSet {
    /// The usual term for an organization of `kind` in `category` (B2; domain-rules §3): 基层党委
    /// 5, 党总支 and 党支部 3, any of them in a 村 or 社区 5 \[C2\]. `None` for a 党工委 (a body sent
    /// by the higher 党委, appointed, not elected) and a 党小组 (its leader is appointed or
    /// recommended), which have no elected term.
    pub fn default_term_years(&self, kind: OrgKind, category: OrgCategory) -> Option<u32> {
        let village = matches!(category, OrgCategory::Rural | OrgCategory::Community);
        match kind {
            OrgKind::WorkingCommittee | OrgKind::Group => None,
            _ if village => Some(self.term_years_village_community),
            OrgKind::Committee => Some(self.term_years_committee),
            OrgKind::GeneralBranch => Some(self.term_years_general_branch),
            OrgKind::Branch => Some(self.term_years_branch),
        }
    }
}

/// Every version, oldest first. Effective dates are increasing.
pub static ORG_RULE_SETS: &[OrgRuleSet] = &[OrgRuleSet {
    version: "b1-2018",
    source: "中国共产党支部工作条例（试行）2018；党和国家机关基层组织工作条例 2019；党章 2022；发展党员工作细则 2014",
    effective_from: B1_EFFECTIVE,
    branch_min_formal: 3,
    branch_normal_max_members: 50,
    general_branch_min_members: 50,
    general_branch_max_members: 100,
    committee_min_members: 100,
    committee_needs_formal: 7,
    secretary_only_max_size: 2,
    committee_size_min: 3,
    committee_size_normal_max: 5,
    committee_size_max: 7,
    branch_max_deputies: 1,
    joint_branch_max_units: 5,
    term_years_min: 3,
    term_years_max: 5,
    term_years_committee: 5,
    term_years_general_branch: 3,
    term_years_branch: 3,
    term_years_village_community: 5,
    term_postpone_max_years: 1,
    term_warn_days: 90,
    secretary_min_party_years: 1,
    vote_min_formal: 3,
    probation_months: 12,
    probation_extension_min_months: 6,
    probation_extension_max_months: 12,
    applicant_min_age_years: 18,
}];

/// B1 (支部工作条例（试行）) was issued on 2018-10-28.
const B1_EFFECTIVE: Date = date!(2018 - 10 - 28);

/// A versioned set of rules: in force from its `effective_from` until the next set's.
pub trait Versioned {
    fn effective_from(&self) -> Date;
}

/// The set of `sets` (ordered by effective date) in force on `date`: the latest whose
/// `effective_from` is not after it; None before the first.
pub fn in_force_on<T: Versioned>(sets: &[T], date: Date) -> Option<&T> {
    sets.iter().rev().find(|set| set.effective_from() <= date)
}

/// Whether `sets` are strictly ordered by effective date, as [`in_force_on`] needs.
pub fn ordered_by_effective_date<T: Versioned>(sets: &[T]) -> bool {
    sets.windows(2)
        .all(|w| w[0].effective_from() < w[1].effective_from())
}

impl Versioned for OrgRuleSet {
    fn effective_from(&self) -> Date {
        self.effective_from
    }
}

/// The set in force on `date`: the latest whose `effective_from` is not after it. Acts dated
/// before the first set are judged by the first (there is no older data to apply).
pub fn org_rules_on(date: Date) -> &'static OrgRuleSet {
    in_force_on(ORG_RULE_SETS, date).unwrap_or(&ORG_RULE_SETS[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_sets_are_ordered_by_effective_date() {
        assert!(ordered_by_effective_date(ORG_RULE_SETS));
    }

    #[test]
    fn the_b1_set_is_in_force_from_2018_10_28() {
        let rs = org_rules_on(date!(2018 - 10 - 28));
        assert_eq!(rs.version, "b1-2018");
        assert_eq!(rs.effective_from, date!(2018 - 10 - 28));
        assert_eq!(org_rules_on(date!(2025 - 01 - 01)).version, "b1-2018");
    }

    #[test]
    fn an_act_before_the_first_set_is_judged_by_the_first() {
        assert_eq!(org_rules_on(date!(2000 - 01 - 01)), &ORG_RULE_SETS[0]);
    }

    #[test]
    fn the_b1_set_carries_the_regulation_values() {
        let rs = &ORG_RULE_SETS[0];
        assert_eq!((rs.branch_min_formal, rs.branch_normal_max_members), (3, 50));
        assert_eq!(
            (rs.general_branch_min_members, rs.committee_min_members),
            (50, 100)
        );
        assert_eq!(rs.committee_needs_formal, 7);
        assert_eq!(
            (
                rs.committee_size_min,
                rs.committee_size_normal_max,
                rs.committee_size_max
            ),
            (3, 5, 7)
        );
        assert_eq!(rs.joint_branch_max_units, 5);
        assert_eq!(
            (rs.term_years_min, rs.term_years_max, rs.term_warn_days),
            (3, 5, 90)
        );
        assert_eq!(rs.secretary_min_party_years, 1);
        assert_eq!(
            (
                rs.probation_months,
                rs.probation_extension_min_months,
                rs.probation_extension_max_months
            ),
            (12, 6, 12)
        );
    }

    #[test]
    fn default_terms_are_five_years_for_a_committee_and_three_below() {
        let rs = &ORG_RULE_SETS[0];
        assert_eq!(
            rs.default_term_years(OrgKind::Committee, OrgCategory::Other),
            Some(5)
        );
        assert_eq!(
            rs.default_term_years(OrgKind::GeneralBranch, OrgCategory::Other),
            Some(3)
        );
        assert_eq!(
            rs.default_term_years(OrgKind::Branch, OrgCategory::Enterprise),
            Some(3)
        );
        assert_eq!(
            rs.default_term_years(OrgKind::Branch, OrgCategory::Rural),
            Some(5)
        );
        assert_eq!(
            rs.default_term_years(OrgKind::GeneralBranch, OrgCategory::Community),
            Some(5)
        );
        assert_eq!(rs.default_term_years(OrgKind::Group, OrgCategory::Rural), None);
        assert_eq!(rs.default_term_years(OrgKind::Group, OrgCategory::Other), None);
        assert_eq!(
            rs.default_term_years(OrgKind::WorkingCommittee, OrgCategory::Other),
            None
        );
    }
}
