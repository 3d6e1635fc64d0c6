//! The organization tree: kinds, branch types, categories, and the structural rules of
//! domain-rules.md §3 (B1 2018, B2 2019).

use time::Date;

use crate::calendar::{add_years, days_between};
use crate::ruleset::OrgRuleSet;
use crate::{RuleViolation, RuleWarning, string_enum};

string_enum!(
    /// API.md org `kind`.
    OrgKind {
        Committee = "committee" / "党委",
        WorkingCommittee = "working_committee" / "党工委",
        GeneralBranch = "general_branch" / "党总支",
        Branch = "branch" / "党支部",
        Group = "group" / "党小组",
    }
);

string_enum!(
    /// A branch's type; `regular` for ordinary branches.
    BranchType {
        Regular = "regular" / "普通",
        Joint = "joint" / "联合党支部",
        Temporary = "temporary" / "临时党支部",
        Mobile = "mobile" / "流动党员党支部",
    }
);

string_enum!(
    /// The sector an organization sits in.
    OrgCategory {
        Government = "government" / "机关",
        Enterprise = "enterprise" / "企业",
        University = "university" / "高校",
        Institution = "institution" / "事业单位",
        Community = "community" / "社区",
        Rural = "rural" / "农村",
        Retired = "retired" / "离退休",
        Social = "social" / "社会组织",
        Other = "other" / "其他",
    }
);

string_enum!(
    /// Committee posts (支部委员会/党委 posts).
    CommitteePost {
        Secretary = "secretary" / "书记",
        DeputySecretary = "deputy_secretary" / "副书记",
        Organization = "organization" / "组织委员",
        Propaganda = "propaganda" / "宣传委员",
        Discipline = "discipline" / "纪检委员",
        Member = "member" / "委员",
        GroupLeader = "group_leader" / "党小组长",
    }
);

impl OrgKind {
    /// Whether an org of this kind may sit directly under `parent`.
    pub fn may_be_child_of(self, parent: OrgKind) -> bool {
        use OrgKind::*;
        match self {
            Committee | WorkingCommittee => matches!(parent, Committee | WorkingCommittee),
            GeneralBranch => matches!(parent, Committee | WorkingCommittee),
            Branch => matches!(parent, Committee | WorkingCommittee | GeneralBranch),
            Group => matches!(parent, Branch),
        }
    }
    /// Members are kept on branches (and their groups); upper levels hold none directly.
    pub fn holds_members(self) -> bool {
        matches!(self, OrgKind::Branch | OrgKind::Group)
    }
}

string_enum!(
    /// Acts a 临时党支部 may not perform (B1 2018; domain-rules §3, \[C\]).
    RestrictedAct {
        AdmitMember = "admit_member" / "接收党员",
        Discipline = "discipline" / "处分党员",
        CollectDues = "collect_dues" / "收缴党费",
        ElectDelegates = "elect_delegates" / "选举代表",
        HoldElection = "hold_election" / "换届选举",
    }
);

/// Size warnings for an organization (domain-rules §3; B1 2018, B2 第五至七条, all \[C\], all
/// warnings: the text says 一般 or allows exceptions with approval).
///
/// `formal` counts 正式党员, `members` 正式 and 预备党员 (for a 党总支 or 基层党委: of its whole
/// subtree). A branch of any type is judged alike; its type is passed on as the `branch_type`
/// argument so the message can name it.
/// - 党支部: fewer than `branch_min_formal` 正式党员 → `branch_too_few_formal` (`formal`, `min`);
///   more than `branch_normal_max_members` members → `branch_too_large` (`members`, `max`);
/// - 党总支: outside `general_branch_min_members..=general_branch_max_members` →
///   `general_branch_size` (`members`, `min`, `max`);
/// - 基层党委: fewer than `committee_min_members` → `committee_too_small` (`members`, `min`).
///
/// At exactly 100 members both a 党总支 and a 基层党委 are allowed.
///
/// A branch (not temporary: its leaders are appointed) with `committee_needs_formal` (7) or more
/// 正式党员 and fewer than `committee_size_min` 支委 in post (`committee_size`, distinct people,
/// 党小组长 not counted) → `committee_expected` (edge case 24: "7 without a committee → flagged").
pub fn structure_warnings(
    rs: &OrgRuleSet,
    kind: OrgKind,
    branch_type: Option<BranchType>,
    formal: u32,
    members: u32,
    committee_size: u32,
) -> Vec<RuleWarning> {
    let mut out = Vec::new();
    match kind {
        OrgKind::Branch => {
            let type_label = branch_type.unwrap_or(BranchType::Regular).label_zh();
            if branch_type != Some(BranchType::Temporary)
                && let Ok(ws) = check_committee_size(rs, formal, committee_size)
            {
                out.extend(ws.into_iter().filter(|w| w.code == "committee_expected"));
            }
            if formal < rs.branch_min_formal {
                out.push(
                    RuleWarning::new("branch_too_few_formal")
                        .arg("formal", formal)
                        .arg("min", rs.branch_min_formal)
                        .arg("branch_type", type_label),
                );
            }
            if members > rs.branch_normal_max_members {
                out.push(
                    RuleWarning::new("branch_too_large")
                        .arg("members", members)
                        .arg("max", rs.branch_normal_max_members)
                        .arg("branch_type", type_label),
                );
            }
        }
        OrgKind::GeneralBranch => {
            if members < rs.general_branch_min_members || members > rs.general_branch_max_members {
                out.push(
                    RuleWarning::new("general_branch_size")
                        .arg("members", members)
                        .arg("min", rs.general_branch_min_members)
                        .arg("max", rs.general_branch_max_members),
                );
            }
        }
        OrgKind::Committee => {
            if members < rs.committee_min_members {
                out.push(
                    RuleWarning::new("committee_too_small")
                        .arg("members", members)
                        .arg("min", rs.committee_min_members),
                );
            }
        }
        OrgKind::WorkingCommittee | OrgKind::Group => {}
    }
    out
}

/// The leadership a branch should have (B1 2018; domain-rules §3, \[C\]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommitteeShape {
    /// Fewer than `committee_needs_formal` 正式党员: a secretary, and one deputy if needed.
    SecretaryOnly,
    /// A 支部委员会 of `min`–`normal_max` members, at most `max`.
    Committee { min: u32, normal_max: u32, max: u32 },
}

/// Which leadership a branch with `formal` 正式党员 has: below `committee_needs_formal` (7) a
/// secretary only (one deputy if needed); from it a 支部委员会 of 3–5, normally ≤ 7 (B1 2018;
/// domain-rules §3, \[C\]).
pub fn committee_shape(rs: &OrgRuleSet, formal: u32) -> CommitteeShape {
    if formal < rs.committee_needs_formal {
        CommitteeShape::SecretaryOnly
    } else {
        CommitteeShape::Committee {
            min: rs.committee_size_min,
            normal_max: rs.committee_size_normal_max,
            max: rs.committee_size_max,
        }
    }
}

/// Checks the number of 支委 (`size`, the secretary included) of a branch with `formal`
/// 正式党员 (B1 2018; domain-rules §3 and edge case 24, \[C\]).
///
/// - Fewer than 7 正式党员: more than a secretary and one deputy (`secretary_only_max_size`) is
///   refused, `committee_not_allowed` (`formal`, `min_formal`, `max`).
/// - 7 or more: more than `committee_size_max` (7) is refused, `committee_size` (`size`, `min`,
///   `max`); 6–7 warns `committee_size_above_normal` (`size`, `normal_max`); fewer than
///   `committee_size_min` (3) means no committee at all, which is flagged, not refused
///   (edge case 24: "7 without a committee → flagged"), `committee_expected` (`formal`, `size`,
///   `min`).
pub fn check_committee_size(
    rs: &OrgRuleSet,
    formal: u32,
    size: u32,
) -> Result<Vec<RuleWarning>, RuleViolation> {
    match committee_shape(rs, formal) {
        CommitteeShape::SecretaryOnly => {
            if size > rs.secretary_only_max_size {
                return Err(RuleViolation::new("committee_not_allowed")
                    .arg("formal", formal)
                    .arg("min_formal", rs.committee_needs_formal)
                    .arg("max", rs.secretary_only_max_size));
            }
            Ok(Vec::new())
        }
        CommitteeShape::Committee { min, normal_max, max } => {
            if size > max {
                return Err(RuleViolation::new("committee_size")
                    .arg("size", size)
                    .arg("min", min)
                    .arg("max", max));
            }
            if size < min {
                return Ok(vec![
                    RuleWarning::new("committee_expected")
                        .arg("formal", formal)
                        .arg("size", size)
                        .arg("min", min),
                ]);
            }
            if size > normal_max {
                return Ok(vec![
                    RuleWarning::new("committee_size_above_normal")
                        .arg("size", size)
                        .arg("normal_max", normal_max),
                ]);
            }
            Ok(Vec::new())
        }
    }
}

/// A branch has one deputy secretary if needed, never two (B1 2018; domain-rules §3 and edge
/// case 24, \[C\]): more than `branch_max_deputies` → `too_many_deputies` (`deputies`, `max`).
pub fn check_deputy_count(rs: &OrgRuleSet, deputies: u32) -> Result<(), RuleViolation> {
    if deputies > rs.branch_max_deputies {
        return Err(RuleViolation::new("too_many_deputies")
            .arg("deputies", deputies)
            .arg("max", rs.branch_max_deputies));
    }
    Ok(())
}

/// Whether a branch of `branch_type` may perform `act`. A 临时党支部 studies, educates and manages,
/// but does not admit, discipline, collect dues, elect delegates or hold a 换届 (B1 2018;
/// domain-rules §3 and edge case 23, \[C\]) → `temporary_branch_forbidden` (`act`: the Chinese
/// label). Every other branch type (and `None`, an org that is not a typed branch) may.
///
/// This is the one check every feature performing a [`RestrictedAct`] calls.
pub fn temporary_branch_may(
    branch_type: Option<BranchType>,
    act: RestrictedAct,
) -> Result<(), RuleViolation> {
    if branch_type == Some(BranchType::Temporary) {
        return Err(RuleViolation::new("temporary_branch_forbidden").arg("act", act.label_zh()));
    }
    Ok(())
}

/// A 联合党支部 joins at most `joint_branch_max_units` (5) units (B1 2018; domain-rules §3 and edge
/// case 24, \[C\]) → `joint_branch_too_many_units` (`units`, `max`).
pub fn check_joint_units(rs: &OrgRuleSet, units: i64) -> Result<(), RuleViolation> {
    // a 联合党支部 joins units that each have too few 正式党员: two at least
    if units < 2 {
        return Err(RuleViolation::field("joint_branch_too_few_units", "joint_units").arg("units", units));
    }
    if units > i64::from(rs.joint_branch_max_units) {
        return Err(RuleViolation::field("joint_branch_too_many_units", "joint_units")
            .arg("units", units)
            .arg("max", rs.joint_branch_max_units));
    }
    Ok(())
}

/// A term of a 基层党组织 lasts 3 to 5 years (党章 2022; domain-rules §3, \[C\]) →
/// `term_years_range` on `term_years` (`years`, `min`, `max`).
pub fn check_term_years(rs: &OrgRuleSet, years: u32) -> Result<(), RuleViolation> {
    if years < rs.term_years_min || years > rs.term_years_max {
        return Err(RuleViolation::field("term_years_range", "term_years")
            .arg("years", years)
            .arg("min", rs.term_years_min)
            .arg("max", rs.term_years_max));
    }
    Ok(())
}

/// The day a term started on `start` completes `years` (届满): the same calendar day, Feb 29 →
/// Feb 28 (domain-rules "Dates and money"). A term from 2021-06-01 for 3 years ends 2024-06-01.
pub fn term_end(start: Date, years: u32) -> Date {
    add_years(start, i32::try_from(years).unwrap_or(i32::MAX))
}

/// Where a term stands on a given day (domain-rules §3 "Flag terms before end").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TermStatus {
    /// More than `term_warn_days` left.
    Active { ends_on: Date, days_left: i64 },
    /// 届满 within `term_warn_days`: prepare the 换届.
    EndingSoon { ends_on: Date, days_left: i64 },
    /// 届满 on `ends_on` or earlier; `days_over` is 0 on the day itself.
    Expired { ends_on: Date, days_over: i64 },
}

/// The status on `today` of a term started on `start` for `years` (domain-rules §3, flag): from
/// [`term_end`] on, expired; within `term_warn_days` before it, ending soon; otherwise active.
/// A postponement approved by the higher organization (E1 第三条) is a new end date the caller
/// passes instead.
pub fn term_status(rs: &OrgRuleSet, start: Date, years: u32, today: Date) -> TermStatus {
    let term = Term {
        started_on: Some(start),
        years: Some(years),
        extended_to: None,
    };
    let end = term_end(start, years);
    term_status_of(rs, &term, today).unwrap_or(TermStatus::Expired {
        ends_on: end,
        days_over: 0,
    })
}

/// A term as it stands, or as a PATCH would leave it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Term {
    pub started_on: Option<Date>,
    pub years: Option<u32>,
    /// A 换届 postponed to this day with the higher organization's approval.
    pub extended_to: Option<Date>,
}

impl Term {
    /// The day the term ends: its 届满, or the approved postponement.
    pub fn ends_on(&self) -> Option<Date> {
        let (start, years) = (self.started_on?, self.years?);
        Some(self.extended_to.unwrap_or_else(|| term_end(start, years)))
    }
}

/// A postponement asked for: the new end and the approval it rests on, and whether the one asking
/// acts for the higher organization (their grant covers the org's parent).
#[derive(Clone, Copy, Debug)]
pub struct Postponement<'a> {
    pub to: Date,
    pub approval: Option<&'a str>,
    pub by_higher_org: bool,
}

/// Checks a change of a term (domain-rules §3, E1 第三条, edge case 25). `before` is the term as
/// stored, `after` the term the change asks for (a new `started_on` is a 换届 held: a new term).
///
/// - Lengthening `years` of the same term once it is ending soon or over is postponing the 换届 →
///   `term_postpone_needs_approval` on `term_years` (`ends_on`): use a postponement instead.
/// - A postponement needs a term (`term_not_set` on `term_extended_to`), the approval named
///   (`term_extension_approval_required` on `term_extension_approval`), the higher organization
///   acting (`term_extension_by_higher_org` on `term_extended_to`), a day after the 届满
///   (`term_extension_not_later`, `ends_on`) and at most a year after it
///   (`term_extension_over_one_year`, `ends_on`, `max`).
pub fn check_term_change(
    rs: &OrgRuleSet,
    before: &Term,
    after: &Term,
    postponement: Option<&Postponement<'_>>,
    today: Date,
) -> Result<(), RuleViolation> {
    let same_term = before.started_on.is_some() && after.started_on == before.started_on;
    if same_term
        && let (Some(start), Some(old), Some(new)) = (before.started_on, before.years, after.years)
        && new > old
    {
        let ends_on = before.ends_on().unwrap_or_else(|| term_end(start, old));
        let current = Term {
            extended_to: Some(ends_on),
            ..*before
        };
        let due = !matches!(
            term_status_of(rs, &current, today),
            Some(TermStatus::Active { .. })
        );
        if due {
            return Err(
                RuleViolation::field("term_postpone_needs_approval", "term_years").arg("ends_on", ends_on)
            );
        }
    }
    let Some(p) = postponement else {
        return Ok(());
    };
    let (Some(start), Some(years)) = (after.started_on, after.years) else {
        return Err(RuleViolation::field("term_not_set", "term_extended_to"));
    };
    if p.approval.is_none_or(|a| a.trim().is_empty()) {
        return Err(RuleViolation::field(
            "term_extension_approval_required",
            "term_extension_approval",
        ));
    }
    if !p.by_higher_org {
        return Err(RuleViolation::field(
            "term_extension_by_higher_org",
            "term_extended_to",
        ));
    }
    let ends_on = term_end(start, years);
    if p.to <= ends_on {
        return Err(
            RuleViolation::field("term_extension_not_later", "term_extended_to").arg("ends_on", ends_on),
        );
    }
    let max = add_years(ends_on, i32::try_from(rs.term_postpone_max_years).unwrap_or(1));
    if p.to > max {
        return Err(
            RuleViolation::field("term_extension_over_one_year", "term_extended_to")
                .arg("ends_on", ends_on)
                .arg("max", max),
        );
    }
    Ok(())
}

/// [`term_status`] of a term with its postponement, if it has a start and a length.
pub fn term_status_of(rs: &OrgRuleSet, term: &Term, today: Date) -> Option<TermStatus> {
    let ends_on = term.ends_on()?;
    let days_left = days_between(today, ends_on);
    Some(if days_left <= 0 {
        TermStatus::Expired {
            ends_on,
            days_over: -days_left,
        }
    } else if days_left <= i64::from(rs.term_warn_days) {
        TermStatus::EndingSoon { ends_on, days_left }
    } else {
        TermStatus::Active { ends_on, days_left }
    })
}

/// A secretary normally has at least `secretary_min_party_years` (1) years of 党龄 (B1 第二十三条;
/// domain-rules §3, \[C\], warn) → `secretary_party_age` (`min_years`, and `since` when known).
///
/// `joined_on` is the day 党龄 counts from: the 转正 date, i.e. the end of probation (党章 第七条;
/// §1 step 24), not the 入党时间. Unknown → the warning, so the user confirms it.
pub fn secretary_warnings(rs: &OrgRuleSet, joined_on: Option<Date>, today: Date) -> Vec<RuleWarning> {
    let min_years = i32::try_from(rs.secretary_min_party_years).unwrap_or(i32::MAX);
    let warning = RuleWarning::new("secretary_party_age").arg("min_years", rs.secretary_min_party_years);
    match joined_on {
        None => vec![warning],
        Some(since) if add_years(since, min_years) > today => vec![warning.arg("since", since)],
        Some(_) => Vec::new(),
    }
}

/// A branch with fewer than `vote_min_formal` (3) 正式党员 cannot hold the 支部大会 that admits a
/// member or decides a 转正, nor borrow members of another branch (domain-rules §1 step 15 and
/// edge case 9, \[C2\]) → `branch_too_few_formal_to_vote` (`formal`, `min`). 预备党员 do not count.
pub fn may_hold_admission_vote(rs: &OrgRuleSet, formal: u32) -> Result<(), RuleViolation> {
    if formal < rs.vote_min_formal {
        return Err(RuleViolation::new("branch_too_few_formal_to_vote")
            .arg("formal", formal)
            .arg("min", rs.vote_min_formal));
    }
    Ok(())
}

/// Whether `a.person` may be appointed to `a.post` in an org of `a.kind` with `a.formal` 正式党员,
/// given the active posts `a.current` (person, post): one secretary; 党小组长 only in a 党小组 (one each);
/// in a branch at most one deputy and a committee only of the size its formal members allow
/// (B1 第十七条); a secretary normally with ≥ 1 year 党龄, counted from `appointee_regularized_on`
/// (warning). Refusals are errors; "normally" cases come back as warnings to confirm.
/// A post ends on or after the day it began: an end before the start → `post_end_before_start`
/// on `ended_on` (`started_on`).
pub fn check_post_end(started: Date, ended: Date) -> Result<(), RuleViolation> {
    if ended < started {
        return Err(RuleViolation::field("post_end_before_start", "ended_on").arg("started_on", started));
    }
    Ok(())
}

/// An appointment to check: see [`check_appointment`].
#[derive(Clone, Copy, Debug)]
pub struct Appointment<'a> {
    pub kind: OrgKind,
    /// The org's 正式党员 (subtree count).
    pub formal: u32,
    /// The active posts (person, post).
    pub current: &'a [(i64, CommitteePost)],
    pub person: i64,
    pub post: CommitteePost,
    /// 党龄 counts from the 转正 date.
    pub appointee_regularized_on: Option<Date>,
    /// Posts go to 正式党员 (B1 第十七条: the committee is elected from the branch's members; a
    /// 预备党员 has no right to stand) …
    pub appointee_formal: bool,
    /// … of this org: the person's record is in its subtree (a group's members are the branch's).
    pub appointee_in_org: bool,
}

pub fn check_appointment(
    rs: &OrgRuleSet,
    a: &Appointment<'_>,
    today: Date,
) -> Result<Vec<RuleWarning>, RuleViolation> {
    let Appointment {
        kind,
        formal,
        current,
        person,
        post,
        appointee_regularized_on,
        appointee_formal,
        appointee_in_org,
    } = *a;
    if !appointee_in_org {
        return Err(RuleViolation::field("post_holder_outside_org", "person_id").arg("kind", kind.label_zh()));
    }
    if !appointee_formal {
        return Err(RuleViolation::field("post_holder_not_formal", "person_id").arg("post", post.label_zh()));
    }
    let taken = |p: CommitteePost| current.iter().filter(|(_, q)| *q == p).count();
    if kind == OrgKind::Group {
        if post != CommitteePost::GroupLeader {
            return Err(RuleViolation::field("post_not_for_org_kind", "post")
                .arg("post", post.label_zh())
                .arg("kind", kind.label_zh()));
        }
        if taken(CommitteePost::GroupLeader) > 0 {
            return Err(RuleViolation::field("post_taken", "post").arg("post", post.label_zh()));
        }
        return Ok(Vec::new());
    }
    if post == CommitteePost::GroupLeader {
        return Err(RuleViolation::field("post_not_for_org_kind", "post")
            .arg("post", post.label_zh())
            .arg("kind", kind.label_zh()));
    }
    if current.iter().any(|(p, q)| *p == person && *q == post) {
        return Err(RuleViolation::field("post_taken", "post").arg("post", post.label_zh()));
    }
    if post == CommitteePost::Secretary && taken(CommitteePost::Secretary) > 0 {
        return Err(RuleViolation::field("post_taken", "post").arg("post", post.label_zh()));
    }
    let mut warnings = Vec::new();
    if kind == OrgKind::Branch {
        if post == CommitteePost::DeputySecretary {
            let deputies = u32::try_from(taken(CommitteePost::DeputySecretary)).unwrap_or(u32::MAX);
            check_deputy_count(rs, deputies.saturating_add(1))?;
        }
        let mut people: Vec<i64> = current.iter().map(|(p, _)| *p).collect();
        people.push(person);
        people.sort_unstable();
        people.dedup();
        let size = u32::try_from(people.len()).unwrap_or(u32::MAX);
        // below the minimum is what a committee looks like while it is being filled: no warning then
        warnings.extend(
            check_committee_size(rs, formal, size)?
                .into_iter()
                .filter(|w| w.code != "committee_expected"),
        );
    }
    if post == CommitteePost::Secretary {
        warnings.extend(secretary_warnings(rs, appointee_regularized_on, today));
    }
    Ok(warnings)
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;
    use crate::error::args;
    use crate::ruleset::ORG_RULE_SETS;

    fn rs() -> &'static OrgRuleSet {
        &ORG_RULE_SETS[0]
    }

    fn codes(ws: &[RuleWarning]) -> Vec<&'static str> {
        ws.iter().map(|w| w.code).collect()
    }

    #[test]
    fn a_branch_with_three_formal_members_and_fifty_members_gets_no_warning() {
        assert!(structure_warnings(rs(), OrgKind::Branch, None, 3, 50, 3).is_empty());
    }

    #[test]
    fn a_branch_with_two_formal_members_is_warned_with_the_numbers() {
        let ws = structure_warnings(rs(), OrgKind::Branch, Some(BranchType::Joint), 2, 5, 3);
        assert_eq!(codes(&ws), ["branch_too_few_formal"]);
        assert_eq!(
            ws[0].args,
            args(&[("formal", "2"), ("min", "3"), ("branch_type", "联合党支部")])
        );
    }

    #[test]
    fn a_branch_of_fifty_one_members_is_warned_as_too_large() {
        let ws = structure_warnings(rs(), OrgKind::Branch, Some(BranchType::Regular), 40, 51, 3);
        assert_eq!(codes(&ws), ["branch_too_large"]);
        assert_eq!(ws[0].args[..2], args(&[("members", "51"), ("max", "50")])[..]);
    }

    #[test]
    fn a_branch_can_get_both_branch_warnings_at_once() {
        let ws = structure_warnings(rs(), OrgKind::Branch, None, 1, 60, 3);
        assert_eq!(codes(&ws), ["branch_too_few_formal", "branch_too_large"]);
    }

    #[test]
    fn a_general_branch_between_fifty_and_one_hundred_members_gets_no_warning() {
        assert!(structure_warnings(rs(), OrgKind::GeneralBranch, None, 50, 50, 3).is_empty());
        assert!(structure_warnings(rs(), OrgKind::GeneralBranch, None, 80, 100, 3).is_empty());
    }

    #[test]
    fn a_general_branch_below_fifty_or_above_one_hundred_is_warned() {
        let small = structure_warnings(rs(), OrgKind::GeneralBranch, None, 40, 49, 3);
        assert_eq!(codes(&small), ["general_branch_size"]);
        assert_eq!(
            small[0].args,
            args(&[("members", "49"), ("min", "50"), ("max", "100")])
        );
        assert_eq!(
            codes(&structure_warnings(
                rs(),
                OrgKind::GeneralBranch,
                None,
                90,
                101,
                3
            )),
            ["general_branch_size"]
        );
    }

    #[test]
    fn a_committee_below_one_hundred_members_is_warned() {
        let ws = structure_warnings(rs(), OrgKind::Committee, None, 90, 99, 3);
        assert_eq!(codes(&ws), ["committee_too_small"]);
        assert_eq!(ws[0].args, args(&[("members", "99"), ("min", "100")]));
    }

    #[test]
    fn at_exactly_one_hundred_members_both_a_general_branch_and_a_committee_are_allowed() {
        assert!(structure_warnings(rs(), OrgKind::GeneralBranch, None, 100, 100, 3).is_empty());
        assert!(structure_warnings(rs(), OrgKind::Committee, None, 100, 100, 3).is_empty());
    }

    #[test]
    fn working_committees_and_groups_get_no_size_warnings() {
        assert!(structure_warnings(rs(), OrgKind::WorkingCommittee, None, 0, 0, 3).is_empty());
        assert!(structure_warnings(rs(), OrgKind::Group, None, 0, 0, 3).is_empty());
    }

    #[test]
    fn fewer_than_seven_formal_members_means_a_secretary_only() {
        assert_eq!(committee_shape(rs(), 6), CommitteeShape::SecretaryOnly);
        assert_eq!(committee_shape(rs(), 0), CommitteeShape::SecretaryOnly);
    }

    #[test]
    fn seven_formal_members_call_for_a_committee_of_three_to_five() {
        assert_eq!(
            committee_shape(rs(), 7),
            CommitteeShape::Committee {
                min: 3,
                normal_max: 5,
                max: 7
            }
        );
    }

    #[test]
    fn six_formal_members_may_not_elect_a_committee() {
        let err = check_committee_size(rs(), 6, 3).unwrap_err();
        assert_eq!(err.code, "committee_not_allowed");
        assert_eq!(err.args[0], ("formal", "6".to_string()));
    }

    #[test]
    fn six_formal_members_may_have_a_secretary_and_one_deputy() {
        assert_eq!(check_committee_size(rs(), 6, 1), Ok(vec![]));
        assert_eq!(check_committee_size(rs(), 6, 2), Ok(vec![]));
    }

    #[test]
    fn a_second_deputy_is_refused() {
        assert_eq!(check_deputy_count(rs(), 1), Ok(()));
        assert_eq!(check_deputy_count(rs(), 0), Ok(()));
        assert_eq!(check_deputy_count(rs(), 2).unwrap_err().code, "too_many_deputies");
    }

    #[test]
    fn seven_formal_members_without_a_committee_are_flagged_not_refused() {
        let ws = check_committee_size(rs(), 7, 1).unwrap();
        assert_eq!(codes(&ws), ["committee_expected"]);
        assert_eq!(
            codes(&check_committee_size(rs(), 7, 2).unwrap()),
            ["committee_expected"]
        );
    }

    #[test]
    fn a_committee_of_three_to_five_is_accepted_silently() {
        for size in 3..=5 {
            assert_eq!(check_committee_size(rs(), 20, size), Ok(vec![]));
        }
    }

    #[test]
    fn a_committee_of_six_or_seven_is_a_warning() {
        for size in 6..=7 {
            let ws = check_committee_size(rs(), 20, size).unwrap();
            assert_eq!(codes(&ws), ["committee_size_above_normal"]);
            assert_eq!(
                ws[0].args,
                vec![("size", size.to_string()), ("normal_max", "5".to_string())]
            );
        }
    }

    #[test]
    fn a_committee_of_eight_is_refused() {
        let err = check_committee_size(rs(), 20, 8).unwrap_err();
        assert_eq!(err.code, "committee_size");
        assert_eq!(err.args, args(&[("size", "8"), ("min", "3"), ("max", "7")]));
    }

    #[test]
    fn a_temporary_branch_may_do_none_of_the_restricted_acts() {
        for &act in RestrictedAct::ALL {
            let err = temporary_branch_may(Some(BranchType::Temporary), act).unwrap_err();
            assert_eq!(err.code, "temporary_branch_forbidden");
            assert_eq!(err.args, vec![("act", act.label_zh().to_string())]);
        }
    }

    #[test]
    fn other_branches_may_do_every_restricted_act() {
        for &act in RestrictedAct::ALL {
            for bt in [
                None,
                Some(BranchType::Regular),
                Some(BranchType::Joint),
                Some(BranchType::Mobile),
            ] {
                assert_eq!(temporary_branch_may(bt, act), Ok(()));
            }
        }
    }

    #[test]
    fn restricted_acts_carry_their_chinese_labels() {
        let labels: Vec<_> = RestrictedAct::ALL.iter().map(|a| a.label_zh()).collect();
        assert_eq!(
            labels,
            ["接收党员", "处分党员", "收缴党费", "选举代表", "换届选举"]
        );
        assert_eq!(
            RestrictedAct::parse_label("收缴党费"),
            Some(RestrictedAct::CollectDues)
        );
        for &act in RestrictedAct::ALL {
            assert_eq!(RestrictedAct::parse(act.as_str()), Some(act));
        }
    }

    #[test]
    fn a_joint_branch_of_five_units_is_accepted_and_six_refused() {
        assert_eq!(check_joint_units(rs(), 5), Ok(()));
        assert_eq!(check_joint_units(rs(), 2), Ok(()));
        let err = check_joint_units(rs(), 6).unwrap_err();
        assert_eq!(
            (err.code, err.field),
            ("joint_branch_too_many_units", Some("joint_units"))
        );
        // a negative count is not read as four thousand million units (issue #20)
        for few in [-1, 0, 1] {
            let err = check_joint_units(rs(), few).unwrap_err();
            assert_eq!(
                (err.code, err.field),
                ("joint_branch_too_few_units", Some("joint_units")),
                "{few}"
            );
        }
        assert_eq!(err.args, args(&[("units", "6"), ("max", "5")]));
    }

    #[test]
    fn terms_of_three_to_five_years_are_accepted() {
        for years in 3..=5 {
            assert_eq!(check_term_years(rs(), years), Ok(()));
        }
    }

    #[test]
    fn terms_of_two_or_six_years_are_refused_on_the_term_field() {
        for years in [0, 2, 6] {
            let err = check_term_years(rs(), years).unwrap_err();
            assert_eq!((err.code, err.field), ("term_years_range", Some("term_years")));
        }
    }

    #[test]
    fn a_term_ends_on_the_same_day_years_later() {
        assert_eq!(term_end(date!(2021 - 06 - 01), 3), date!(2024 - 06 - 01));
        assert_eq!(term_end(date!(2020 - 02 - 29), 5), date!(2025 - 02 - 28));
    }

    #[test]
    fn a_term_is_active_then_ending_soon_within_ninety_days_then_expired_from_its_end_day() {
        let ends_on = date!(2024 - 06 - 01);
        let active = |days_left| TermStatus::Active { ends_on, days_left };
        let ending_soon = |days_left| TermStatus::EndingSoon { ends_on, days_left };
        let expired = |days_over| TermStatus::Expired { ends_on, days_over };
        let cases = [
            (date!(2024 - 03 - 02), active(91)),
            (date!(2024 - 03 - 03), ending_soon(90)),
            (date!(2024 - 05 - 31), ending_soon(1)),
            (date!(2024 - 06 - 01), expired(0)),
            (date!(2024 - 06 - 11), expired(10)),
        ];
        for (today, status) in cases {
            assert_eq!(
                term_status(rs(), date!(2021 - 06 - 01), 3, today),
                status,
                "a three-year term from 2021-06-01, on {today}"
            );
        }
    }

    #[test]
    fn a_secretary_with_less_than_a_year_of_party_age_is_warned() {
        let ws = secretary_warnings(rs(), Some(date!(2024 - 06 - 15)), date!(2025 - 06 - 14));
        assert_eq!(codes(&ws), ["secretary_party_age"]);
        assert_eq!(ws[0].args, args(&[("min_years", "1"), ("since", "2024-06-15")]));
    }

    #[test]
    fn a_secretary_with_a_full_year_of_party_age_is_not_warned() {
        assert!(secretary_warnings(rs(), Some(date!(2024 - 06 - 15)), date!(2025 - 06 - 15)).is_empty());
    }

    #[test]
    fn a_secretary_with_unknown_party_age_is_warned() {
        assert_eq!(
            codes(&secretary_warnings(rs(), None, date!(2025 - 06 - 15))),
            ["secretary_party_age"]
        );
    }

    #[test]
    fn a_branch_of_two_formal_members_cannot_hold_an_admission_vote() {
        let err = may_hold_admission_vote(rs(), 2).unwrap_err();
        assert_eq!(err.code, "branch_too_few_formal_to_vote");
        assert_eq!(err.args, args(&[("formal", "2"), ("min", "3")]));
    }

    #[test]
    fn a_branch_of_three_formal_members_can_hold_an_admission_vote() {
        assert_eq!(may_hold_admission_vote(rs(), 3), Ok(()));
    }

    mod appointment {
        use super::super::*;
        use crate::ruleset::org_rules_on;
        use time::macros::date;

        const TODAY: Date = date!(2026 - 11 - 25);

        fn check(
            kind: OrgKind,
            formal: u32,
            current: &[(i64, CommitteePost)],
            person: i64,
            post: CommitteePost,
        ) -> Result<Vec<RuleWarning>, RuleViolation> {
            let a = Appointment {
                kind,
                formal,
                current,
                person,
                post,
                appointee_regularized_on: Some(date!(2010 - 01 - 01)),
                appointee_formal: true,
                appointee_in_org: true,
            };
            check_appointment(org_rules_on(TODAY), &a, TODAY)
        }

        #[test]
        fn a_second_secretary_is_refused() {
            let e = check(
                OrgKind::Branch,
                10,
                &[(1, CommitteePost::Secretary)],
                2,
                CommitteePost::Secretary,
            )
            .unwrap_err();
            assert_eq!(e.code, "post_taken");
        }

        #[test]
        fn a_small_branch_gets_a_secretary_and_one_deputy_but_no_committee() {
            assert!(
                check(OrgKind::Branch, 5, &[], 1, CommitteePost::Secretary)
                    .unwrap()
                    .is_empty()
            );
            assert!(
                check(
                    OrgKind::Branch,
                    5,
                    &[(1, CommitteePost::Secretary)],
                    2,
                    CommitteePost::DeputySecretary
                )
                .is_ok()
            );
            let e = check(
                OrgKind::Branch,
                5,
                &[(1, CommitteePost::Secretary), (2, CommitteePost::DeputySecretary)],
                3,
                CommitteePost::Organization,
            )
            .unwrap_err();
            assert_eq!(e.code, "committee_not_allowed");
        }

        #[test]
        fn a_committee_above_five_warns_and_above_seven_is_refused() {
            let five: Vec<(i64, CommitteePost)> = (1..=5).map(|p| (p, CommitteePost::Member)).collect();
            let w = check(OrgKind::Branch, 40, &five, 6, CommitteePost::Member).unwrap();
            assert_eq!(w[0].code, "committee_size_above_normal");
            let seven: Vec<(i64, CommitteePost)> = (1..=7).map(|p| (p, CommitteePost::Member)).collect();
            assert_eq!(
                check(OrgKind::Branch, 40, &seven, 8, CommitteePost::Member)
                    .unwrap_err()
                    .code,
                "committee_size"
            );
            // a second post for someone already on the committee does not grow it
            assert!(check(OrgKind::Branch, 40, &seven, 7, CommitteePost::Propaganda).is_ok());
        }

        #[test]
        fn group_leaders_only_in_groups() {
            assert!(check(OrgKind::Group, 0, &[], 1, CommitteePost::GroupLeader).is_ok());
            assert_eq!(
                check(OrgKind::Group, 0, &[], 1, CommitteePost::Secretary)
                    .unwrap_err()
                    .code,
                "post_not_for_org_kind"
            );
            assert_eq!(
                check(OrgKind::Branch, 9, &[], 1, CommitteePost::GroupLeader)
                    .unwrap_err()
                    .code,
                "post_not_for_org_kind"
            );
            assert_eq!(
                check(
                    OrgKind::Group,
                    0,
                    &[(1, CommitteePost::GroupLeader)],
                    2,
                    CommitteePost::GroupLeader
                )
                .unwrap_err()
                .code,
                "post_taken"
            );
        }

        #[test]
        fn a_secretary_without_a_year_of_full_membership_is_a_warning() {
            let a = Appointment {
                kind: OrgKind::Branch,
                formal: 9,
                current: &[],
                person: 1,
                post: CommitteePost::Secretary,
                appointee_regularized_on: Some(date!(2026 - 06 - 01)),
                appointee_formal: true,
                appointee_in_org: true,
            };
            let w = check_appointment(org_rules_on(TODAY), &a, TODAY).unwrap();
            assert_eq!(w[0].code, "secretary_party_age");
            // only a 正式党员 of the org holds a post (issue #20)
            for (formal, inside, code) in [
                (false, true, "post_holder_not_formal"),
                (true, false, "post_holder_outside_org"),
                (false, false, "post_holder_outside_org"),
            ] {
                let b = Appointment {
                    appointee_formal: formal,
                    appointee_in_org: inside,
                    ..a
                };
                let e = check_appointment(org_rules_on(TODAY), &b, TODAY).unwrap_err();
                assert_eq!((e.code, e.field), (code, Some("person_id")), "{formal} {inside}");
            }
        }
    }

    #[test]
    fn seven_formal_members_without_a_committee_are_flagged_but_not_a_temporary_branch() {
        let ws = structure_warnings(rs(), OrgKind::Branch, None, 7, 10, 1);
        assert_eq!(codes(&ws), ["committee_expected"]);
        assert!(structure_warnings(rs(), OrgKind::Branch, None, 7, 10, 3).is_empty());
        assert!(structure_warnings(rs(), OrgKind::Branch, None, 6, 10, 1).is_empty());
        assert!(structure_warnings(rs(), OrgKind::Branch, Some(BranchType::Temporary), 7, 10, 0).is_empty());
    }

    #[test]
    fn postponing_a_term_needs_the_higher_orgs_approval_for_at_most_a_year() {
        // edge case 25: a term from 2021-06-01 for 3 years ends 2024-06-01
        let term = Term {
            started_on: Some(date!(2021 - 06 - 01)),
            years: Some(3),
            extended_to: None,
        };
        let today = date!(2024 - 07 - 01);
        let longer = Term {
            years: Some(5),
            ..term
        };
        let err = check_term_change(rs(), &term, &longer, None, today).unwrap_err();
        assert_eq!(
            (err.code, err.field),
            ("term_postpone_needs_approval", Some("term_years"))
        );
        // far from its end, a longer term is a correction, within 3–5 years
        assert_eq!(
            check_term_change(rs(), &term, &longer, None, date!(2022 - 01 - 01)),
            Ok(())
        );
        // a new term (a 换届 held) is not a postponement
        let new = Term {
            started_on: Some(date!(2024 - 06 - 20)),
            years: Some(5),
            extended_to: None,
        };
        assert_eq!(check_term_change(rs(), &term, &new, None, today), Ok(()));
        let p = |to: Date, approval: Option<&'static str>, by_higher_org: bool| Postponement {
            to,
            approval,
            by_higher_org,
        };
        let ok = p(date!(2025 - 04 - 01), Some("区委组织部 组通〔2024〕12号"), true);
        assert_eq!(check_term_change(rs(), &term, &term, Some(&ok), today), Ok(()));
        let field = |p: Postponement<'_>| {
            let e = check_term_change(rs(), &term, &term, Some(&p), today).unwrap_err();
            (e.code, e.field)
        };
        assert_eq!(
            field(p(date!(2025 - 04 - 01), None, true)),
            (
                "term_extension_approval_required",
                Some("term_extension_approval")
            )
        );
        assert_eq!(
            field(p(date!(2025 - 04 - 01), Some(" "), true)),
            (
                "term_extension_approval_required",
                Some("term_extension_approval")
            )
        );
        assert_eq!(
            field(p(date!(2025 - 04 - 01), ok.approval, false)),
            ("term_extension_by_higher_org", Some("term_extended_to"))
        );
        assert_eq!(
            field(p(date!(2024 - 06 - 01), ok.approval, true)),
            ("term_extension_not_later", Some("term_extended_to"))
        );
        assert_eq!(
            check_term_change(
                rs(),
                &term,
                &term,
                Some(&p(date!(2025 - 06 - 01), ok.approval, true)),
                today
            ),
            Ok(())
        );
        assert_eq!(
            field(p(date!(2025 - 06 - 02), ok.approval, true)),
            ("term_extension_over_one_year", Some("term_extended_to"))
        );
        let none = Term {
            started_on: None,
            years: None,
            extended_to: None,
        };
        let e = check_term_change(rs(), &none, &none, Some(&ok), today).unwrap_err();
        assert_eq!(e.code, "term_not_set");
        // the postponed end is the one judged
        let postponed = Term {
            extended_to: Some(date!(2025 - 04 - 01)),
            ..term
        };
        assert_eq!(
            term_status_of(rs(), &postponed, today),
            Some(TermStatus::Active {
                ends_on: date!(2025 - 04 - 01),
                days_left: 274
            })
        );
    }
}
