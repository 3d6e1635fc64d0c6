//! Planning a meeting: its times, a series of them, and which changes its state still allows —
//! editing, notices, invitations, leave, cancelling and moving. The store loads the facts
//! (`PlanFacts` and what the act adds), these functions decide, the store writes.

use time::{Date, OffsetDateTime, UtcOffset};

use super::{LeaveRequestStatus, MeetingStatus};
use crate::RuleViolation;

/// Why a planning act is refused: invalid input (422), a conflict with what is stored (409), or
/// a meeting that is not the caller's (404, as if it did not exist).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlanRefusal {
    Invalid(RuleViolation),
    Conflict(RuleViolation),
    NotFound,
}

/// The most meetings one series plans at once.
pub const SERIES_MAX: i64 = 24;

/// A meeting ends after it starts: an end at or before the start is refused on `ends_at`.
pub fn check_times(starts_at: OffsetDateTime, ends_at: OffsetDateTime) -> Result<(), PlanRefusal> {
    if ends_at <= starts_at {
        return Err(PlanRefusal::Invalid(RuleViolation::field(
            "meeting_ends_before_start",
            "ends_at",
        )));
    }
    Ok(())
}

/// A meeting is held by an org that exists: one starting (local date `starts_on`) before the
/// org's founding day is refused on `starts_at` (`established_on`). An org without a recorded
/// founding day is not judged.
pub fn check_org_existed(starts_on: Date, established_on: Option<Date>) -> Result<(), PlanRefusal> {
    match established_on {
        Some(e) if starts_on < e => Err(PlanRefusal::Invalid(
            RuleViolation::field("meeting_before_org_established", "starts_at").arg("established_on", e),
        )),
        _ => Ok(()),
    }
}

/// A series: its first meeting's times, then 2 to [`SERIES_MAX`] meetings.
pub fn check_series(
    first_start: OffsetDateTime,
    first_end: OffsetDateTime,
    count: i64,
) -> Result<(), PlanRefusal> {
    check_times(first_start, first_end)?;
    if !(2..=SERIES_MAX).contains(&count) {
        return Err(PlanRefusal::Invalid(
            RuleViolation::field("series_count_range", "count").arg("max", SERIES_MAX),
        ));
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Every {
    Week,
    Month,
}

impl Every {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "week" | "每周" => Some(Every::Week),
            "month" | "每月" => Some(Every::Month),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Every::Week => "week",
            Every::Month => "month",
        }
    }
}

/// The start of the `i`-th meeting of a series: the same local time of day, every week or every
/// month on the same day (the month's last day when it is shorter: 31 January → 28 or 29
/// February). None past the calendar's range.
pub fn series_start(
    first: OffsetDateTime,
    every: Every,
    i: i64,
    offset: UtcOffset,
) -> Option<OffsetDateTime> {
    let local = first.to_offset(offset);
    let date = match every {
        Every::Week => local.date().checked_add(time::Duration::weeks(i))?,
        Every::Month => Some(crate::calendar::add_months(local.date(), i32::try_from(i).ok()?))
            .filter(|d| *d != Date::MIN && *d != Date::MAX)?,
    };
    Some(
        date.with_time(local.time())
            .assume_offset(offset)
            .to_offset(UtcOffset::UTC),
    )
}

/// What every planning act needs to know about the meeting, as stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlanFacts {
    pub status: MeetingStatus,
    pub cancelled: bool,
    /// Check-ins stored for the meeting.
    pub checkins: i64,
}

/// The plan may still change (edit, notices, invitations, leave requests and decisions) until
/// the meeting is cancelled (409 `meeting_cancelled`) or closed (409 `meeting_closed`).
pub fn may_change(m: &PlanFacts) -> Result<(), PlanRefusal> {
    if m.cancelled {
        return Err(PlanRefusal::Conflict(RuleViolation::new("meeting_cancelled")));
    }
    if m.status == MeetingStatus::Closed {
        return Err(PlanRefusal::Conflict(RuleViolation::new("meeting_closed")));
    }
    Ok(())
}

/// Cancelling or moving a meeting: only while it may change and nobody has checked in (409
/// `meeting_has_checkins`).
pub fn may_cancel_or_move(m: &PlanFacts) -> Result<(), PlanRefusal> {
    may_change(m)?;
    if m.checkins > 0 {
        return Err(PlanRefusal::Conflict(RuleViolation::new("meeting_has_checkins")));
    }
    Ok(())
}

/// The person an invitation names, as the store found them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Invitee {
    /// The caller's scope sees them.
    pub visible: bool,
    /// They are expected at the meeting anyway.
    pub expected: bool,
    pub invited_before: bool,
}

/// Inviting a guest or 列席 person: the plan may change, the person exists and is visible
/// (422 `person_unknown`), and is neither expected (409 `already_expected`) nor invited already
/// (409 `already_invited`).
pub fn may_invite(m: &PlanFacts, person: Option<Invitee>) -> Result<(), PlanRefusal> {
    may_change(m)?;
    let p = person
        .filter(|p| p.visible)
        .ok_or_else(|| PlanRefusal::Invalid(RuleViolation::field("person_unknown", "person_id")))?;
    if p.expected {
        return Err(PlanRefusal::Conflict(RuleViolation::field(
            "already_expected",
            "person_id",
        )));
    }
    if p.invited_before {
        return Err(PlanRefusal::Conflict(RuleViolation::field(
            "already_invited",
            "person_id",
        )));
    }
    Ok(())
}

/// Withdrawing an invitation: the plan may change, and the invitee has not checked in (409
/// `invitee_checked_in`); no such invitation → 404.
pub fn may_uninvite(m: &PlanFacts, invited: bool, checked_in: bool) -> Result<(), PlanRefusal> {
    may_change(m)?;
    if checked_in {
        return Err(PlanRefusal::Conflict(RuleViolation::field(
            "invitee_checked_in",
            "person_id",
        )));
    }
    if !invited {
        return Err(PlanRefusal::NotFound);
    }
    Ok(())
}

/// A member asks for leave: a meeting they are not expected at is not theirs (404); the plan
/// may change; one open or approved request or recorded leave per meeting (409
/// `leave_already_requested`).
pub fn may_request_leave(m: &PlanFacts, expected: bool, earlier: i64) -> Result<(), PlanRefusal> {
    if !expected {
        return Err(PlanRefusal::NotFound);
    }
    may_change(m)?;
    if earlier > 0 {
        return Err(PlanRefusal::Conflict(RuleViolation::new(
            "leave_already_requested",
        )));
    }
    Ok(())
}

/// The secretary approves or refuses a request: once (409 `leave_request_decided`), while the
/// plan may change.
pub fn may_decide_leave(m: &PlanFacts, request: LeaveRequestStatus) -> Result<(), PlanRefusal> {
    if request != LeaveRequestStatus::Pending {
        return Err(PlanRefusal::Conflict(RuleViolation::new("leave_request_decided")));
    }
    may_change(m)
}

/// A leave recorded directly: not once the meeting is closed (cancelled ones are stored closed:
/// 409 `meeting_closed`), only for someone expected (422 `not_expected`), once (409
/// `leave_already_recorded`).
pub fn may_record_leave(status: MeetingStatus, expected: bool, recorded: bool) -> Result<(), PlanRefusal> {
    if status == MeetingStatus::Closed {
        return Err(PlanRefusal::Conflict(RuleViolation::new("meeting_closed")));
    }
    if !expected {
        return Err(PlanRefusal::Invalid(RuleViolation::field(
            "not_expected",
            "person_id",
        )));
    }
    if recorded {
        return Err(PlanRefusal::Conflict(RuleViolation::field(
            "leave_already_recorded",
            "person_id",
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use time::macros::{date, datetime};

    use super::*;

    #[test]
    fn a_meeting_before_the_org_was_founded_is_refused() {
        use time::macros::date;
        let founded = Some(date!(2020 - 05 - 01));
        assert!(check_org_existed(date!(2020 - 05 - 01), founded).is_ok());
        assert!(check_org_existed(date!(1990 - 01 - 01), None).is_ok());
        match check_org_existed(date!(1990 - 01 - 01), founded) {
            Err(PlanRefusal::Invalid(v)) => {
                assert_eq!(
                    (v.code, v.field),
                    ("meeting_before_org_established", Some("starts_at"))
                );
            }
            other => panic!("{other:?}"),
        }
    }

    const CST: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
        Ok(o) => o,
        Err(_) => UtcOffset::UTC,
    };

    fn planned() -> PlanFacts {
        PlanFacts {
            status: MeetingStatus::Planned,
            cancelled: false,
            checkins: 0,
        }
    }

    fn code(r: Result<(), PlanRefusal>) -> Option<(&'static str, &'static str)> {
        match r {
            Ok(()) => None,
            Err(PlanRefusal::Invalid(v)) => Some(("422", v.code)),
            Err(PlanRefusal::Conflict(v)) => Some(("409", v.code)),
            Err(PlanRefusal::NotFound) => Some(("404", "")),
        }
    }

    #[test]
    fn a_meeting_ends_after_it_starts() {
        let t = datetime!(2026-05-01 09:00 UTC);
        assert_eq!(check_times(t, t + time::Duration::SECOND), Ok(()));
        assert_eq!(
            code(check_times(t, t)),
            Some(("422", "meeting_ends_before_start"))
        );
        assert_eq!(
            code(check_times(t, t - time::Duration::HOUR)),
            Some(("422", "meeting_ends_before_start"))
        );
        let Err(PlanRefusal::Invalid(v)) = check_times(t, t) else {
            panic!("an equal start and end is refused")
        };
        assert_eq!(v.field, Some("ends_at"));
    }

    #[test]
    fn a_series_has_two_to_the_maximum_meetings_and_valid_times_first() {
        let t = datetime!(2026-05-01 09:00 UTC);
        let end = t + time::Duration::HOUR;
        assert_eq!(check_series(t, end, 2), Ok(()));
        assert_eq!(check_series(t, end, SERIES_MAX), Ok(()));
        for n in [0, 1, SERIES_MAX + 1] {
            let Err(PlanRefusal::Invalid(v)) = check_series(t, end, n) else {
                panic!("{n} meetings are refused")
            };
            assert_eq!((v.code, v.field), ("series_count_range", Some("count")));
            assert_eq!(v.args, vec![("max", SERIES_MAX.to_string())]);
        }
        assert_eq!(
            code(check_series(t, t, 1)),
            Some(("422", "meeting_ends_before_start"))
        );
    }

    #[test]
    fn a_monthly_series_keeps_the_day_or_takes_the_months_last() {
        let first = datetime!(2026-01-31 09:00 +8);
        let got: Vec<String> = (0..3)
            .filter_map(|i| series_start(first, Every::Month, i, CST))
            .map(|t| t.to_offset(CST).to_string())
            .collect();
        assert_eq!(
            got,
            vec![
                "2026-01-31 9:00:00.0 +08:00:00",
                "2026-02-28 9:00:00.0 +08:00:00",
                "2026-03-31 9:00:00.0 +08:00:00"
            ]
        );
        let w = series_start(first, Every::Week, 2, CST).map(|t| t.to_offset(CST).date());
        assert_eq!(w, Some(date!(2026 - 02 - 14)));
    }

    #[test]
    fn a_series_from_31_january_of_a_leap_year_meets_on_29_february() {
        let first = datetime!(2028-01-31 19:30 +8);
        let feb = series_start(first, Every::Month, 1, CST).map(|t| t.to_offset(CST));
        assert_eq!(feb, Some(datetime!(2028-02-29 19:30 +8)));
        // the local day decides, not the UTC one (09:00+08 is 01:00 UTC the same day; 07:00+08
        // is the day before in UTC)
        let early = datetime!(2027-01-31 07:00 +8);
        let feb = series_start(early, Every::Month, 1, CST);
        assert_eq!(feb, Some(datetime!(2027-02-27 23:00 UTC)));
        // after a short month the day comes back
        let mar = series_start(first, Every::Month, 2, CST).map(|t| t.to_offset(CST).date());
        assert_eq!(mar, Some(date!(2028 - 03 - 31)));
        assert_eq!(series_start(first, Every::Month, i64::MAX, CST), None);
    }

    #[test]
    fn a_cancelled_or_closed_meeting_cannot_change_and_one_with_checkins_cannot_move() {
        assert_eq!(may_change(&planned()), Ok(()));
        let open = PlanFacts {
            status: MeetingStatus::Open,
            ..planned()
        };
        assert_eq!(may_change(&open), Ok(()));
        let closed = PlanFacts {
            status: MeetingStatus::Closed,
            ..planned()
        };
        assert_eq!(code(may_change(&closed)), Some(("409", "meeting_closed")));
        // a cancelled meeting is stored closed: the cancellation is named
        let cancelled = PlanFacts {
            cancelled: true,
            ..closed
        };
        assert_eq!(code(may_change(&cancelled)), Some(("409", "meeting_cancelled")));
        let started = PlanFacts { checkins: 1, ..open };
        assert_eq!(may_change(&started), Ok(()));
        assert_eq!(
            code(may_cancel_or_move(&started)),
            Some(("409", "meeting_has_checkins"))
        );
        assert_eq!(
            code(may_cancel_or_move(&cancelled)),
            Some(("409", "meeting_cancelled"))
        );
        assert_eq!(may_cancel_or_move(&open), Ok(()));
    }

    #[test]
    fn who_may_be_invited() {
        let m = planned();
        let person = |visible, expected, invited_before| {
            Some(Invitee {
                visible,
                expected,
                invited_before,
            })
        };
        let cases = [
            (person(true, false, false), None),
            (None, Some(("422", "person_unknown"))),
            // someone outside the scope is as unknown as nobody, expected there or not
            (person(false, false, false), Some(("422", "person_unknown"))),
            (person(false, true, false), Some(("422", "person_unknown"))),
            (person(true, true, false), Some(("409", "already_expected"))),
            (person(true, false, true), Some(("409", "already_invited"))),
        ];
        for (p, want) in cases {
            assert_eq!(code(may_invite(&m, p)), want, "{p:?}");
        }
        let closed = PlanFacts {
            status: MeetingStatus::Closed,
            ..m
        };
        assert_eq!(code(may_invite(&closed, None)), Some(("409", "meeting_closed")));
    }

    #[test]
    fn an_invitation_is_withdrawn_before_its_guest_checks_in() {
        let m = planned();
        assert_eq!(may_uninvite(&m, true, false), Ok(()));
        assert_eq!(
            code(may_uninvite(&m, true, true)),
            Some(("409", "invitee_checked_in"))
        );
        assert_eq!(code(may_uninvite(&m, false, false)), Some(("404", "")));
        // checked in without an invitation (an expected member): still refused as checked in
        assert_eq!(
            code(may_uninvite(&m, false, true)),
            Some(("409", "invitee_checked_in"))
        );
    }

    #[test]
    fn leave_is_asked_once_by_those_expected_and_decided_once() {
        let m = planned();
        assert_eq!(may_request_leave(&m, true, 0), Ok(()));
        assert_eq!(code(may_request_leave(&m, false, 0)), Some(("404", "")));
        assert_eq!(
            code(may_request_leave(&m, true, 1)),
            Some(("409", "leave_already_requested"))
        );
        let cancelled = PlanFacts {
            status: MeetingStatus::Closed,
            cancelled: true,
            checkins: 0,
        };
        // not expected comes first: the meeting is not theirs whatever its state
        assert_eq!(code(may_request_leave(&cancelled, false, 0)), Some(("404", "")));
        assert_eq!(
            code(may_request_leave(&cancelled, true, 0)),
            Some(("409", "meeting_cancelled"))
        );

        assert_eq!(may_decide_leave(&m, LeaveRequestStatus::Pending), Ok(()));
        for decided in [LeaveRequestStatus::Approved, LeaveRequestStatus::Refused] {
            assert_eq!(
                code(may_decide_leave(&m, decided)),
                Some(("409", "leave_request_decided"))
            );
        }
        assert_eq!(
            code(may_decide_leave(&cancelled, LeaveRequestStatus::Pending)),
            Some(("409", "meeting_cancelled"))
        );
    }

    #[test]
    fn a_leave_is_recorded_once_for_someone_expected_before_close() {
        use MeetingStatus::*;
        assert_eq!(may_record_leave(Planned, true, false), Ok(()));
        assert_eq!(may_record_leave(Open, true, false), Ok(()));
        assert_eq!(
            code(may_record_leave(Closed, true, false)),
            Some(("409", "meeting_closed"))
        );
        assert_eq!(
            code(may_record_leave(Open, false, false)),
            Some(("422", "not_expected"))
        );
        assert_eq!(
            code(may_record_leave(Open, true, true)),
            Some(("409", "leave_already_recorded"))
        );
    }
}
