//! Pure domain rules of Party grassroots work. Nothing here does IO or reads the clock:
//! callers pass the date an act is judged on, so every time limit is testable.
#![deny(clippy::float_arithmetic)]

pub mod cadence;
pub mod calendar;
pub mod dues;
pub mod enums;
pub mod error;
pub mod id_number;
pub mod mask;
pub mod meeting;
pub mod member;
pub mod org;
pub mod pinyin;
pub mod ruleset;

pub use calendar::{add_months, add_years, days_between};
pub use dues::{DUES_RULE_SETS, DuesRuleSet, Quote, Rounding, dues_rules_on};
pub use error::{RuleViolation, RuleWarning};
pub use id_number::{IdNumber, mask_id_number};
pub use mask::mask_phone;
pub use meeting::{AttendanceState, CheckinMethod, Direction, MeetingKind, MeetingStatus};
pub use member::{
    EventKind, MemberStatus, check_apply_age, check_extension, next_status, probation_end, regularize_date,
};
pub use org::{
    BranchType, CommitteeShape, OrgKind, Postponement, RestrictedAct, Term, TermStatus, check_committee_size,
    check_deputy_count, check_joint_units, check_term_change, check_term_years, committee_shape,
    may_hold_admission_vote, secretary_warnings, structure_warnings, temporary_branch_may, term_end,
    term_status, term_status_of,
};
pub use ruleset::{ORG_RULE_SETS, OrgRuleSet, org_rules_on};
