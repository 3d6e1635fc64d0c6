//! Member records: statuses, categories, and typed status-change events.

use time::Date;

use crate::calendar::{add_months, add_years};
use crate::ruleset::{OrgRuleSet, org_rules_on};
use crate::{RuleViolation, string_enum};

pub mod events;

string_enum!(
    /// API.md member `status`.
    MemberStatus {
        Formal = "formal" / "正式党员",
        Probationary = "probationary" / "预备党员",
        Applicant = "applicant" / "入党申请人",
        Activist = "activist" / "入党积极分子",
        Candidate = "candidate" / "发展对象",
        Left = "left" / "出党",
        Suspended = "suspended" / "停止党籍",
        Deceased = "deceased" / "死亡",
        TransferredOut = "transferred_out" / "已转出",
    }
);

string_enum!(
    /// 人员类别 — also the dues category (API.md dues `category`).
    PersonCategory {
        InService = "in_service" / "在职",
        Retired = "retired" / "离退休",
        Farmer = "farmer" / "农民",
        Student = "student" / "学生",
        Unemployed = "unemployed" / "下岗失业",
        Relief = "relief" / "依靠抚恤救济低保",
    }
);

string_enum!(
    Gender {
        Male = "male" / "男",
        Female = "female" / "女",
    }
);

string_enum!(
    /// A typed status change. The current status is derived from the sequence of these.
    EventKind {
        Register = "register" / "建档",
        Apply = "apply" / "递交入党申请",
        BecomeActivist = "become_activist" / "列为入党积极分子",
        BecomeCandidate = "become_candidate" / "列为发展对象",
        Admit = "admit" / "接收为预备党员",
        Regularize = "regularize" / "转为正式党员",
        ExtendProbation = "extend_probation" / "延长预备期",
        CancelProbation = "cancel_probation" / "取消预备党员资格",
        TransferOut = "transfer_out" / "转出组织关系",
        TransferIn = "transfer_in" / "转入组织关系",
        MoveWithin = "move_within" / "调整所在组织",
        Suspend = "suspend" / "停止党籍",
        Restore = "restore" / "恢复党籍",
        Leave = "leave" / "出党",
        Deceased = "deceased" / "去世",
    }
);

impl MemberStatus {
    /// Formal and probationary members: counted in the roster, expected at meetings.
    pub fn is_member(self) -> bool {
        matches!(self, MemberStatus::Formal | MemberStatus::Probationary)
    }
    pub fn in_pipeline(self) -> bool {
        matches!(
            self,
            MemberStatus::Applicant | MemberStatus::Activist | MemberStatus::Candidate
        )
    }
    /// Former members whose record is kept but who are no longer on the roster.
    pub fn is_former(self) -> bool {
        matches!(
            self,
            MemberStatus::Left
                | MemberStatus::Suspended
                | MemberStatus::Deceased
                | MemberStatus::TransferredOut
        )
    }
}

/// The status after `event`, for a person whose status is `current` (`None`: no record yet).
/// The typed state machine of member records (domain-rules §1, §6, §7 "Members are never
/// deleted. Every decrease is typed"):
///
/// | event | from | to |
/// |---|---|---|
/// | `Register` | no record | `target` (any; required) |
/// | `Apply` | no record, `Left` (re-applying) | `Applicant` |
/// | `BecomeActivist` | `Applicant` | `Activist` |
/// | `BecomeCandidate` | `Activist` | `Candidate` |
/// | `Admit` | `Candidate` | `Probationary` |
/// | `Regularize`, `ExtendProbation`, `CancelProbation` | `Probationary` | `Formal`, `Probationary`, `Left` |
/// | `TransferOut` | members and the pipeline | `TransferredOut` |
/// | `TransferIn` | no record, `TransferredOut` | `target` (required: a member or pipeline status) |
/// | `MoveWithin` | any status but the former ones | unchanged |
/// | `Suspend` | `Formal`, `Probationary` | `Suspended` |
/// | `Restore` | `Suspended` | `Formal` (the status held before, where the history says: [`events::decide_event`]) |
/// | `Leave` | `Formal`, `Suspended` (自行脱党 2 years after 停止党籍, §6; a probationer → `probationary_cannot_leave`) | `Left` |
/// | `Deceased` | any recorded status but `Deceased` | `Deceased` |
///
/// `target` is read only by `Register` and `TransferIn`. Refusals: a missing target →
/// `status_required` on `status`; a target `TransferIn` cannot bring → `status_not_allowed` on
/// `status` (`status`, `event`); any other pair → `status_transition_invalid` on `kind` (`from`:
/// the Chinese label or 无, `event`: the Chinese label). Other rules (dates, votes, approvals)
/// are checked by the features that record the event.
pub fn next_status(
    current: Option<MemberStatus>,
    event: EventKind,
    target: Option<MemberStatus>,
) -> Result<MemberStatus, RuleViolation> {
    use EventKind as E;
    use MemberStatus as S;
    let invalid = || {
        RuleViolation::field("status_transition_invalid", "kind")
            .arg("from", current.map_or("无", MemberStatus::label_zh))
            .arg("event", event.label_zh())
    };
    let required = || target.ok_or_else(|| RuleViolation::field("status_required", "status"));
    match (event, current) {
        (E::Register, None) => required(),
        (E::Apply, None | Some(S::Left)) => Ok(S::Applicant),
        (E::BecomeActivist, Some(S::Applicant)) => Ok(S::Activist),
        (E::BecomeCandidate, Some(S::Activist)) => Ok(S::Candidate),
        (E::Admit, Some(S::Candidate)) => Ok(S::Probationary),
        (E::Regularize, Some(S::Probationary)) => Ok(S::Formal),
        (E::ExtendProbation, Some(S::Probationary)) => Ok(S::Probationary),
        (E::CancelProbation, Some(S::Probationary)) => Ok(S::Left),
        (E::TransferOut, Some(s)) if s.is_member() || s.in_pipeline() => Ok(S::TransferredOut),
        (E::TransferIn, None | Some(S::TransferredOut)) => {
            let to = required()?;
            if to.is_member() || to.in_pipeline() {
                Ok(to)
            } else {
                Err(RuleViolation::field("status_not_allowed", "status")
                    .arg("status", to.label_zh())
                    .arg("event", event.label_zh()))
            }
        }
        (E::MoveWithin, Some(s)) if !s.is_former() => Ok(s),
        (E::Suspend, Some(S::Formal | S::Probationary)) => Ok(S::Suspended),
        (E::Restore, Some(S::Suspended)) => Ok(S::Formal),
        // a probationer is not 劝退: the 支部大会 cancels the probation (§1 step 23 [C2])
        (E::Leave, Some(S::Probationary)) => Err(RuleViolation::field("probationary_cannot_leave", "kind")),
        (E::Leave, Some(S::Formal | S::Suspended)) => Ok(S::Left),
        (E::Deceased, Some(s)) if s != S::Deceased => Ok(S::Deceased),
        _ => Err(invalid()),
    }
}

/// The last day of probation for a member admitted by the 支部大会 on `admitted_on`:
/// `probation_months` (1 year) from the resolution date, not the approval or the oath (党章 第七条;
/// 细则2014 第三十二条; domain-rules §1 and edge case 13, \[C\]); the anniversary is the default for
/// a \[U\] point (2024-06-15 → 2025-06-15). An extension runs on from that day (edge case 15).
pub fn probation_end(rs: &OrgRuleSet, admitted_on: Date, extension_months: u32) -> Date {
    let original = add_months(admitted_on, months_i32(rs.probation_months));
    add_months(original, months_i32(extension_months))
}

/// The 转正 date, from which 党龄 counts: the end of probation (of the extension, if any), not
/// the date of the 支部大会 vote or of the approval (党章 第七条; domain-rules §1 step 24 and edge
/// cases 14–15, \[C\]).
pub fn regularize_date(rs: &OrgRuleSet, admitted_on: Date, extension_months: u32) -> Date {
    probation_end(rs, admitted_on, extension_months)
}

/// Probation may be extended once only, by 6 to 12 months (党章 第七条; domain-rules §1 step 23
/// and edge case 15, \[C\]): a second extension → `probation_extended_once`; another length →
/// `probation_extension_range` on `months` (`months`, `min`, `max`).
pub fn check_extension(rs: &OrgRuleSet, months: u32, already_extended: bool) -> Result<(), RuleViolation> {
    if already_extended {
        return Err(RuleViolation::new("probation_extended_once"));
    }
    if months < rs.probation_extension_min_months || months > rs.probation_extension_max_months {
        return Err(RuleViolation::field("probation_extension_range", "months")
            .arg("months", months)
            .arg("min", rs.probation_extension_min_months)
            .arg("max", rs.probation_extension_max_months));
    }
    Ok(())
}

/// An applicant is 18 or older on the day of applying (细则2014 第五条; domain-rules §1 step 1 and
/// edge case 1, \[C\]): born 2007-09-01, an application of 2025-08-31 → `applicant_under_18` on
/// `date` (`min_age`, `adult_on`: the 18th birthday); one of 2025-09-01 is valid. Someone born on Feb 29
/// turns 18 on Feb 28 of a common year (domain-rules "Dates and money").
///
/// The age is `applicant_min_age_years` of the rule set in force on `applied_on`.
pub fn check_apply_age(birth: Date, applied_on: Date) -> Result<(), RuleViolation> {
    let min_age = org_rules_on(applied_on).applicant_min_age_years;
    let adult_on = add_years(birth, i32::try_from(min_age).unwrap_or(i32::MAX));
    if applied_on < adult_on {
        return Err(RuleViolation::field("applicant_under_18", "date")
            .arg("min_age", min_age)
            .arg("adult_on", adult_on));
    }
    Ok(())
}

/// The dates of a member record, judged on `today`: born in the past, joined neither in the
/// future nor before birth, regularized not before joining.
pub fn check_record_dates(
    birth: Date,
    joined: Option<Date>,
    regularized: Option<Date>,
    today: Date,
) -> Result<(), RuleViolation> {
    if birth > today {
        return Err(RuleViolation::field("birth_date_in_future", "birth_date"));
    }
    if let Some(j) = joined {
        if j > today {
            return Err(RuleViolation::field("date_in_future", "joined_on"));
        }
        if j < birth {
            return Err(RuleViolation::field("joined_before_birth", "joined_on"));
        }
        // 党章 第一条: 年满十八岁 — the 支部大会 admitting someone younger is not a valid date
        let adult_on = add_years(birth, 18);
        if j < adult_on {
            return Err(RuleViolation::field("joined_under_18", "joined_on").arg("adult_on", adult_on));
        }
    }
    if let (Some(r), Some(j)) = (regularized, joined)
        && r < j
    {
        return Err(RuleViolation::field(
            "regularized_before_joined",
            "regularized_on",
        ));
    }
    Ok(())
}

/// The gender a record gives must be the one the ID number carries (GB 11643: the 17th digit is
/// odd for men, even for women); `field` names the record's gender. One check for the API's
/// record and the roster import's row.
pub fn check_id_gender(id_is_male: bool, gender: Gender, field: &'static str) -> Result<(), RuleViolation> {
    let expected = if id_is_male { Gender::Male } else { Gender::Female };
    if gender == expected {
        return Ok(());
    }
    Err(RuleViolation::field("import_gender_mismatch", field)
        .arg("value", gender.label_zh())
        .arg("expected", expected.label_zh()))
}

/// A probationary member has no 转正 date yet (it is the end of probation, recorded by the
/// 转正 event); `field` names the record's date.
pub fn check_status_dates(
    status: MemberStatus,
    regularized: Option<Date>,
    field: &'static str,
) -> Result<(), RuleViolation> {
    if status == MemberStatus::Probationary && regularized.is_some() {
        return Err(RuleViolation::field("import_regularized_for_probationary", field));
    }
    Ok(())
}

/// The birth date a record gives must be the one the ID number carries (GB 11643 digits 7–14);
/// `field` is the one the caller changed.
pub fn check_id_birth(id_birth: Date, birth: Date, field: &'static str) -> Result<(), RuleViolation> {
    if id_birth == birth {
        Ok(())
    } else {
        Err(RuleViolation::field("id_number_birth_mismatch", field))
    }
}

/// Status events that must say why (a suspension, restoration, leaving, a cancelled or extended
/// probation).
pub fn reason_required(kind: EventKind) -> bool {
    matches!(
        kind,
        EventKind::Suspend
            | EventKind::Restore
            | EventKind::Leave
            | EventKind::CancelProbation
            | EventKind::ExtendProbation
    )
}

/// A status event is dated `today` at the latest (judged first, before the member is looked up).
pub fn check_event_date(date: Date, today: Date) -> Result<(), RuleViolation> {
    if date > today {
        return Err(RuleViolation::field("date_in_future", "date"));
    }
    Ok(())
}

/// A status event gives its reason where [`reason_required`] says so (judged after the
/// transition itself, [`next_status`]).
pub fn check_event_reason(kind: EventKind, reason: Option<&str>) -> Result<(), RuleViolation> {
    if reason_required(kind) && reason.is_none_or(|r| r.trim().is_empty()) {
        return Err(RuleViolation::field("reason_required", "reason"));
    }
    Ok(())
}

fn months_i32(months: u32) -> i32 {
    i32::try_from(months).unwrap_or(i32::MAX)
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;
    use crate::error::args;
    use crate::ruleset::ORG_RULE_SETS;
    use EventKind as E;
    use MemberStatus as S;

    fn rs() -> &'static OrgRuleSet {
        &ORG_RULE_SETS[0]
    }

    /// Members and the development pipeline: the records that can move between branches.
    const ON_RECORD: [MemberStatus; 5] = [
        S::Formal,
        S::Probationary,
        S::Applicant,
        S::Activist,
        S::Candidate,
    ];

    #[test]
    fn register_creates_a_record_with_the_given_status() {
        for &s in S::ALL {
            assert_eq!(next_status(None, E::Register, Some(s)), Ok(s));
        }
    }

    #[test]
    fn register_and_transfer_in_without_a_status_are_refused_on_the_status_field() {
        for event in [E::Register, E::TransferIn] {
            let err = next_status(None, event, None).unwrap_err();
            assert_eq!(
                (err.code, err.field),
                ("status_required", Some("status")),
                "{event:?}"
            );
        }
    }

    #[test]
    fn register_on_an_existing_record_is_refused() {
        let err = next_status(Some(S::Formal), E::Register, Some(S::Formal)).unwrap_err();
        assert_eq!(err.code, "status_transition_invalid");
    }

    #[test]
    fn a_record_applies_develops_is_admitted_regularized_extended_or_cancelled() {
        let cases = [
            // a new record, or a new application after leaving
            (None, E::Apply, S::Applicant),
            (Some(S::Left), E::Apply, S::Applicant),
            // the development pipeline: applicant, activist, candidate, probationary, formal
            (Some(S::Applicant), E::BecomeActivist, S::Activist),
            (Some(S::Activist), E::BecomeCandidate, S::Candidate),
            (Some(S::Candidate), E::Admit, S::Probationary),
            (Some(S::Probationary), E::Regularize, S::Formal),
            // an extension keeps the member probationary; a cancellation makes them left
            (Some(S::Probationary), E::ExtendProbation, S::Probationary),
            (Some(S::Probationary), E::CancelProbation, S::Left),
        ];
        for (from, event, to) in cases {
            assert_eq!(next_status(from, event, None), Ok(to), "{from:?} {event:?}");
        }
    }

    #[test]
    fn members_and_the_pipeline_can_be_transferred_out() {
        for s in ON_RECORD {
            assert_eq!(next_status(Some(s), E::TransferOut, None), Ok(S::TransferredOut));
        }
    }

    #[test]
    fn transfer_in_takes_a_member_or_pipeline_status_onto_a_new_or_transferred_record() {
        for from in [None, Some(S::TransferredOut)] {
            for to in ON_RECORD {
                assert_eq!(next_status(from, E::TransferIn, Some(to)), Ok(to));
            }
        }
    }

    #[test]
    fn transfer_in_as_a_former_member_is_refused() {
        for to in [S::Left, S::Suspended, S::Deceased, S::TransferredOut] {
            let err = next_status(None, E::TransferIn, Some(to)).unwrap_err();
            assert_eq!((err.code, err.field), ("status_not_allowed", Some("status")));
        }
    }

    #[test]
    fn moving_within_keeps_the_status_of_anyone_not_former() {
        for &s in S::ALL.iter().filter(|s| !s.is_former()) {
            assert_eq!(next_status(Some(s), E::MoveWithin, None), Ok(s));
        }
    }

    #[test]
    fn suspending_and_restoring_party_membership() {
        assert_eq!(next_status(Some(S::Formal), E::Suspend, None), Ok(S::Suspended));
        assert_eq!(
            next_status(Some(S::Probationary), E::Suspend, None),
            Ok(S::Suspended)
        );
        assert_eq!(next_status(Some(S::Suspended), E::Restore, None), Ok(S::Formal));
    }

    #[test]
    fn leaving_is_open_to_formal_members_and_to_the_suspended_not_to_a_probationer() {
        for s in [S::Formal, S::Suspended] {
            assert_eq!(next_status(Some(s), E::Leave, None), Ok(S::Left));
        }
        let e = next_status(Some(S::Probationary), E::Leave, None).unwrap_err();
        assert_eq!((e.code, e.field), ("probationary_cannot_leave", Some("kind")));
    }

    #[test]
    fn anyone_recorded_and_alive_can_be_recorded_as_deceased() {
        for &s in S::ALL.iter().filter(|&&s| s != S::Deceased) {
            assert_eq!(next_status(Some(s), E::Deceased, None), Ok(S::Deceased));
        }
    }

    #[test]
    fn invalid_transitions_are_refused_with_from_and_event_labels() {
        let table: &[(Option<MemberStatus>, EventKind)] = &[
            (None, E::BecomeActivist),
            (None, E::Regularize),
            (None, E::MoveWithin),
            (None, E::Deceased),
            (None, E::TransferOut),
            (Some(S::Formal), E::Apply),
            (Some(S::Applicant), E::Apply),
            (Some(S::Applicant), E::BecomeCandidate),
            (Some(S::Applicant), E::Admit),
            (Some(S::Activist), E::Admit),
            (Some(S::Candidate), E::Regularize),
            (Some(S::Formal), E::Regularize),
            (Some(S::Formal), E::ExtendProbation),
            (Some(S::Formal), E::CancelProbation),
            (Some(S::Candidate), E::CancelProbation),
            (Some(S::Left), E::TransferOut),
            (Some(S::Suspended), E::TransferOut),
            (Some(S::TransferredOut), E::TransferOut),
            (Some(S::Formal), E::TransferIn),
            (Some(S::Left), E::TransferIn),
            (Some(S::Left), E::MoveWithin),
            (Some(S::Suspended), E::MoveWithin),
            (Some(S::Deceased), E::MoveWithin),
            (Some(S::TransferredOut), E::MoveWithin),
            (Some(S::Applicant), E::Suspend),
            (Some(S::Suspended), E::Suspend),
            (Some(S::Formal), E::Restore),
            (Some(S::Left), E::Restore),
            (Some(S::Applicant), E::Leave),
            (Some(S::Left), E::Leave),
            (Some(S::Deceased), E::Deceased),
            (Some(S::Deceased), E::Apply),
        ];
        for &(from, event) in table {
            let err = next_status(from, event, Some(S::Formal)).unwrap_err();
            assert_eq!(
                (err.code, err.field),
                ("status_transition_invalid", Some("kind")),
                "{from:?} {event:?}"
            );
            let from_label = from.map_or("无", MemberStatus::label_zh).to_string();
            assert_eq!(
                err.args,
                vec![("from", from_label), ("event", event.label_zh().to_string())]
            );
        }
    }

    #[test]
    fn an_invalid_transition_from_no_record_names_it_as_none() {
        let err = next_status(None, E::Admit, None).unwrap_err();
        assert_eq!(err.args, args(&[("from", "无"), ("event", "接收为预备党员")]));
    }

    #[test]
    fn probation_is_one_year_from_the_branch_resolution_and_an_extension_runs_on_from_its_end() {
        let cases = [
            (date!(2024 - 06 - 15), 0, date!(2025 - 06 - 15)),
            (date!(2024 - 06 - 15), 6, date!(2025 - 12 - 15)),
            (date!(2024 - 06 - 15), 12, date!(2026 - 06 - 15)),
            (date!(2024 - 02 - 29), 6, date!(2025 - 08 - 28)),
        ];
        for (resolution, extension, end) in cases {
            assert_eq!(
                probation_end(rs(), resolution, extension),
                end,
                "resolution {resolution}, extended {extension} months"
            );
        }
    }

    #[test]
    fn the_regularization_date_is_the_end_of_probation_not_the_vote_or_approval() {
        // 支部大会 2024-06-15; 转正 voted 2025-06-20, approved 2025-08-01 (edge case 14)
        for (extension, end) in [(0, date!(2025 - 06 - 15)), (6, date!(2025 - 12 - 15))] {
            assert_eq!(
                regularize_date(rs(), date!(2024 - 06 - 15), extension),
                end,
                "extended {extension} months"
            );
        }
    }

    #[test]
    fn extensions_of_six_to_twelve_months_are_accepted() {
        for months in [6, 9, 12] {
            assert_eq!(check_extension(rs(), months, false), Ok(()));
        }
    }

    #[test]
    fn extensions_of_five_or_thirteen_months_are_refused() {
        for months in [0, 5, 13] {
            let err = check_extension(rs(), months, false).unwrap_err();
            assert_eq!(
                (err.code, err.field),
                ("probation_extension_range", Some("months"))
            );
            assert_eq!(err.args[1..], args(&[("min", "6"), ("max", "12")])[..]);
        }
    }

    #[test]
    fn a_second_extension_is_refused() {
        assert_eq!(
            check_extension(rs(), 6, true).unwrap_err().code,
            "probation_extended_once"
        );
    }

    #[test]
    fn an_application_the_day_before_the_eighteenth_birthday_is_refused() {
        let err = check_apply_age(date!(2007 - 09 - 01), date!(2025 - 08 - 31)).unwrap_err();
        assert_eq!((err.code, err.field), ("applicant_under_18", Some("date")));
        assert_eq!(err.args, args(&[("min_age", "18"), ("adult_on", "2025-09-01")]));
    }

    #[test]
    fn an_application_on_the_eighteenth_birthday_is_valid() {
        assert_eq!(
            check_apply_age(date!(2007 - 09 - 01), date!(2025 - 09 - 01)),
            Ok(())
        );
    }

    #[test]
    fn someone_born_on_february_29_turns_eighteen_on_february_28() {
        assert_eq!(
            check_apply_age(date!(2008 - 02 - 29), date!(2026 - 02 - 28)),
            Ok(())
        );
        assert!(check_apply_age(date!(2008 - 02 - 29), date!(2026 - 02 - 27)).is_err());
    }

    #[test]
    fn record_dates_are_judged_in_order() {
        let today = date!(2026 - 06 - 10);
        let birth = date!(1990 - 03 - 01);
        let code = |b, j, r| {
            check_record_dates(b, j, r, today)
                .err()
                .map(|v| (v.code, v.field))
        };
        let cases = [
            (birth, None, None, None),
            (
                birth,
                Some(date!(2015 - 07 - 01)),
                Some(date!(2016 - 07 - 01)),
                None,
            ),
            (
                date!(2026 - 06 - 11),
                None,
                None,
                Some(("birth_date_in_future", Some("birth_date"))),
            ),
            (
                birth,
                Some(date!(2026 - 06 - 11)),
                None,
                Some(("date_in_future", Some("joined_on"))),
            ),
            (
                birth,
                Some(date!(1989 - 01 - 01)),
                None,
                Some(("joined_before_birth", Some("joined_on"))),
            ),
            (
                birth,
                Some(date!(2015 - 07 - 01)),
                Some(date!(2015 - 06 - 30)),
                Some(("regularized_before_joined", Some("regularized_on"))),
            ),
            // a regularization date without a joining date is not judged here
            (birth, None, Some(date!(1980 - 01 - 01)), None),
        ];
        for (b, j, r, want) in cases {
            assert_eq!(code(b, j, r), want, "{b} {j:?} {r:?}");
        }
        assert!(check_id_birth(birth, birth, "birth_date").is_ok());
        assert_eq!(
            check_id_birth(birth, date!(1990 - 03 - 02), "id_number").map_err(|v| (v.code, v.field)),
            Err(("id_number_birth_mismatch", Some("id_number")))
        );
    }

    #[test]
    fn status_events_are_dated_and_give_their_reason() {
        let today = date!(2026 - 06 - 10);
        assert!(check_event_date(today, today).is_ok());
        assert_eq!(
            check_event_date(date!(2026 - 06 - 11), today).map_err(|v| (v.code, v.field)),
            Err(("date_in_future", Some("date")))
        );
        let code = |k, r| check_event_reason(k, r).err().map(|v| (v.code, v.field));
        assert_eq!(code(E::Regularize, None), None);
        for k in [
            E::Suspend,
            E::Restore,
            E::Leave,
            E::CancelProbation,
            E::ExtendProbation,
        ] {
            assert_eq!(code(k, None), Some(("reason_required", Some("reason"))), "{k}");
            assert_eq!(
                code(k, Some("  ")),
                Some(("reason_required", Some("reason"))),
                "{k}"
            );
            assert_eq!(code(k, Some("出国定居")), None, "{k}");
        }
        assert!(EventKind::ALL.iter().filter(|k| reason_required(**k)).count() == 5);
    }
}
