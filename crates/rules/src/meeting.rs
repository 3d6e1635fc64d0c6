//! Meetings and attendance (API.md "Meetings and check-in"): the meeting kinds, check-in methods
//! and directions, and the pure attendance rule — from the expected people, invited guests,
//! approved leaves and the check-in events, each person's state and the counts.
//!
//! Decisions the contract leaves open, made here:
//! - "Last event" is by the device's time `at`; events with the same `at` keep the order they
//!   were received in (the caller passes them in sequence order).
//! - `left_early` needs the last event `out` strictly before the meeting's end; a last `out` at
//!   or after the end is `present` (they stayed to the end).
//! - Someone whose only event is an `out` (a presence sensor saw them leave) was there: judged
//!   by that `out` like anyone else.
//! - `late` is a flag on `present` people only (API.md): their first `in` after start + grace.

use std::collections::{BTreeMap, BTreeSet};

use time::{Duration, OffsetDateTime};

use crate::string_enum;

pub mod plan;

/// The deployment's default grace period after the start before a check-in counts as late.
pub const DEFAULT_GRACE_MINUTES: i64 = 5;

/// The deployment's default: check-ins are accepted from this long before a meeting's start.
pub const DEFAULT_WINDOW_OPENS_MINUTES: i64 = 120;
/// How far a device's clock may stray from the server's before the server's time decides.
pub const DEFAULT_DEVICE_CLOCK_TOLERANCE_SECONDS: i64 = 120;

/// Who posts a check-in: it decides which clock counts and how the check-in window applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Poster {
    /// A member checking themself in on their phone (a rotating QR code).
    Member,
    /// Meeting staff or a secretary at the door, or recording afterwards.
    Staff,
    /// A door device (RFID gate, presence sensor, kiosk) with its own clock.
    Device,
}

/// The check-in settings of a deployment (API.md "Meetings and check-in", revised 2026-12-03).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CheckinPolicy {
    /// After the start, before a first `in` counts as late.
    pub grace: Duration,
    /// The window opens this long before the start.
    pub opens_before: Duration,
    /// A device clock further than this from the receipt time is recorded but not believed.
    pub device_clock_tolerance: Duration,
}

impl Default for CheckinPolicy {
    fn default() -> Self {
        Self {
            grace: Duration::minutes(DEFAULT_GRACE_MINUTES),
            opens_before: Duration::minutes(DEFAULT_WINDOW_OPENS_MINUTES),
            device_clock_tolerance: Duration::seconds(DEFAULT_DEVICE_CLOCK_TOLERANCE_SECONDS),
        }
    }
}

/// Why a check-in is not taken as it stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WindowRefusal {
    /// Staff, secretary or a device before the window opens: stored once confirmed.
    Confirm(crate::RuleWarning),
    /// A member outside the window (before it opens or after the meeting's end).
    Refuse(crate::RuleViolation),
}

/// Whether a check-in received at `received` falls in the meeting's check-in window: from
/// `opens_before` before the start; for a member until the end, for staff and devices until
/// the meeting is closed (which the caller checks). The receipt time decides, never a clock the
/// poster sends.
pub fn check_window(
    policy: &CheckinPolicy,
    starts_at: OffsetDateTime,
    ends_at: OffsetDateTime,
    received: OffsetDateTime,
    poster: Poster,
    confirmed: bool,
) -> Result<(), WindowRefusal> {
    let opens = starts_at - policy.opens_before;
    let minutes = policy.opens_before.whole_minutes().to_string();
    let early = received < opens;
    match poster {
        Poster::Member if early || received > ends_at => Err(WindowRefusal::Refuse(
            crate::RuleViolation::field("checkin_outside_window", "qr_token").arg("minutes", minutes),
        )),
        Poster::Staff | Poster::Device if early && !confirmed => Err(WindowRefusal::Confirm(
            crate::RuleWarning::new("checkin_before_window").arg("minutes", minutes),
        )),
        _ => Ok(()),
    }
}

/// The time a check-in is judged by (late, last event): a member's is the server's receipt
/// (a phone's clock proves nothing); a device's its own clock while within the tolerance, else
/// the receipt; staff's what they enter (they may record a meeting afterwards), else the receipt.
pub fn counted_time(
    policy: &CheckinPolicy,
    poster: Poster,
    sent: Option<OffsetDateTime>,
    received: OffsetDateTime,
) -> OffsetDateTime {
    match (poster, sent) {
        (Poster::Staff, Some(t)) => t,
        (Poster::Device, Some(t)) if (t - received).abs() <= policy.device_clock_tolerance => t,
        _ => received,
    }
}

string_enum!(
    /// API.md meeting `kind`.
    MeetingKind {
        BranchCongress = "branch_congress" / "支部党员大会",
        Committee = "committee" / "支委会",
        Group = "group" / "党小组会",
        PartyLecture = "party_lecture" / "党课",
        ThemeDay = "theme_day" / "主题党日",
        LifeMeeting = "life_meeting" / "组织生活会",
        Evaluation = "evaluation" / "民主评议",
        Other = "other" / "其他",
    }
);

string_enum!(
    /// How a check-in was made (API.md `method`); `proxy` (代签到) needs a reason.
    CheckinMethod {
        Qr = "qr" / "扫码",
        Card = "card" / "刷卡",
        Manual = "manual" / "人工签到",
        Face = "face" / "人脸识别",
        Infrared = "infrared" / "红外感应",
        Proxy = "proxy" / "代签到",
    }
);

string_enum!(
    /// Someone invited to a meeting beyond those expected: not counted in 应到.
    InviteeRole {
        Guest = "guest" / "来宾",
        AttendeeExtra = "attendee_extra" / "列席",
    }
);

string_enum!(
    /// Entering or leaving the hall.
    Direction {
        In = "in" / "进场",
        Out = "out" / "离场",
    }
);

string_enum!(
    /// A person's attendance state (API.md).
    AttendanceState {
        Present = "present" / "出席",
        LeftEarly = "left_early" / "早退",
        Leave = "leave" / "请假",
        Absent = "absent" / "缺席",
    }
);

string_enum!(
    /// The stored lifecycle of a meeting; `open` is also shown once the start time has passed.
    MeetingStatus {
        Planned = "planned" / "未开始",
        Open = "open" / "进行中",
        Closed = "closed" / "已结束",
    }
);

/// Whether enough of those entitled to vote are present for the meeting's decisions to count
/// (domain-rules §3): a 支部党员大会 needs more than half of its voting (formal) members, a
/// 支委会 more than half of its committee. Other kinds decide nothing by vote: None.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Quorum {
    /// Expected people entitled to vote (probationary members are not).
    pub voting: u64,
    /// Of them, present (left-early people are not present at the end).
    pub present: u64,
    /// More than half: `voting / 2 + 1`.
    pub needed: u64,
    pub met: bool,
}

pub fn quorum(kind: MeetingKind, voting: u64, present: u64) -> Option<Quorum> {
    if !matches!(kind, MeetingKind::BranchCongress | MeetingKind::Committee) || voting == 0 {
        return None;
    }
    let needed = voting / 2 + 1;
    Some(Quorum {
        voting,
        present,
        needed,
        met: present >= needed,
    })
}

/// The status to show: a planned meeting whose start has passed is `open`.
pub fn shown_status(stored: MeetingStatus, starts_at: OffsetDateTime, now: OffsetDateTime) -> MeetingStatus {
    match stored {
        MeetingStatus::Planned if now >= starts_at => MeetingStatus::Open,
        s => s,
    }
}

string_enum!(
    /// A member's leave request: pending until the secretary approves or refuses it.
    LeaveRequestStatus {
        Pending = "pending" / "待审批",
        Approved = "approved" / "已批准",
        Refused = "refused" / "未批准",
    }
);

string_enum!(
    /// The status a meeting shows (API.md): the stored one, `open` once the start has passed,
    /// or `cancelled` for a cancelled meeting (stored `closed`, with its cancellation time).
    ShownStatus {
        Planned = "planned" / "未开始",
        Open = "open" / "进行中",
        Closed = "closed" / "已结束",
        Cancelled = "cancelled" / "已取消",
    }
);

/// What a meeting shows at `now`: a cancellation comes first, then [`shown_status`].
pub fn shown(
    stored: MeetingStatus,
    cancelled: bool,
    starts_at: OffsetDateTime,
    now: OffsetDateTime,
) -> ShownStatus {
    if cancelled {
        return ShownStatus::Cancelled;
    }
    match shown_status(stored, starts_at, now) {
        MeetingStatus::Planned => ShownStatus::Planned,
        MeetingStatus::Open => ShownStatus::Open,
        MeetingStatus::Closed => ShownStatus::Closed,
    }
}

/// Whether a check-in with this method must give a reason.
pub fn reason_required(method: CheckinMethod) -> bool {
    method == CheckinMethod::Proxy
}

/// One check-in or presence event of one person.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    pub direction: Direction,
    pub at: OffsetDateTime,
}

/// The meeting's times and the grace period.
#[derive(Clone, Copy, Debug)]
pub struct Window {
    pub starts_at: OffsetDateTime,
    pub ends_at: OffsetDateTime,
    pub grace: Duration,
}

impl Window {
    pub fn new(starts_at: OffsetDateTime, ends_at: OffsetDateTime) -> Self {
        Self {
            starts_at,
            ends_at,
            grace: Duration::minutes(DEFAULT_GRACE_MINUTES),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PersonAttendance {
    pub state: AttendanceState,
    pub late: bool,
}

/// One person's state from their events (in received order) and whether they have approved leave.
pub fn person_attendance(events: &[Event], on_leave: bool, w: &Window) -> PersonAttendance {
    // stable: events at the same device time keep their received order
    let last = events
        .iter()
        .enumerate()
        .max_by(|(i, a), (j, b)| a.at.cmp(&b.at).then(i.cmp(j)))
        .map(|(_, e)| e);
    let state = match last {
        None if on_leave => AttendanceState::Leave,
        None => AttendanceState::Absent,
        Some(e) if e.direction == Direction::Out && e.at < w.ends_at => AttendanceState::LeftEarly,
        Some(_) => AttendanceState::Present,
    };
    let first_in = events
        .iter()
        .filter(|e| e.direction == Direction::In)
        .map(|e| e.at)
        .min();
    let late = state == AttendanceState::Present && first_in.is_some_and(|t| t > w.starts_at + w.grace);
    PersonAttendance { state, late }
}

/// The counts over expected people; `present + leave + absent + left_early = expected`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub expected: u64,
    pub present: u64,
    pub leave: u64,
    pub absent: u64,
    pub left_early: u64,
}

impl Counts {
    pub fn add(&mut self, state: AttendanceState) {
        self.expected += 1;
        match state {
            AttendanceState::Present => self.present += 1,
            AttendanceState::Leave => self.leave += 1,
            AttendanceState::Absent => self.absent += 1,
            AttendanceState::LeftEarly => self.left_early += 1,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Line {
    pub person_id: i64,
    pub state: AttendanceState,
    pub late: bool,
    /// Invited, not expected: listed but not counted.
    pub guest: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sheet {
    /// Expected people in the order given, then guests in the order given.
    pub lines: Vec<Line>,
    pub counts: Counts,
}

/// The attendance of a meeting. A person counts once however many events; a guest who is also
/// expected is expected. Events of people neither expected nor invited are ignored.
pub fn attendance(
    expected: &[i64],
    guests: &[i64],
    leaves: &[i64],
    events: &[(i64, Event)],
    w: &Window,
) -> Sheet {
    let mut by_person: BTreeMap<i64, Vec<Event>> = BTreeMap::new();
    for (p, e) in events {
        by_person.entry(*p).or_default().push(*e);
    }
    let leaves: BTreeSet<i64> = leaves.iter().copied().collect();
    let mut seen = BTreeSet::new();
    let mut lines = Vec::with_capacity(expected.len() + guests.len());
    let mut counts = Counts::default();
    let line = |p: i64, guest: bool| {
        let evs = by_person.get(&p).map_or(&[][..], Vec::as_slice);
        let a = person_attendance(evs, leaves.contains(&p), w);
        Line {
            person_id: p,
            state: a.state,
            late: a.late,
            guest,
        }
    };
    for &p in expected {
        if seen.insert(p) {
            let l = line(p, false);
            counts.add(l.state);
            lines.push(l);
        }
    }
    for &p in guests {
        if seen.insert(p) {
            lines.push(line(p, true));
        }
    }
    Sheet { lines, counts }
}

/// Who a check-in names, as the store found them: a person id with whether they are expected at
/// or invited to the meeting, or a card with the expected or invited person holding it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckinWho {
    Person { id: i64, admitted: bool },
    Card { holder: Option<i64> },
}

/// What the check-in decision needs to know about one event, loaded by the store from the
/// meeting's roster (API.md "Meetings and check-in", steps a–f).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CheckinFacts {
    /// The meeting lies in the caller's scope.
    pub in_scope: bool,
    pub poster: Poster,
    /// The event id was stored before: `Some(true)` with the same body.
    pub stored: Option<bool>,
    /// The event id is on the meeting's unresolved-card list: `Some(true)` with the same card.
    pub unresolved: Option<bool>,
    /// The meeting is stored `closed` (cancelled meetings are too).
    pub closed: bool,
    pub starts_at: OffsetDateTime,
    pub ends_at: OffsetDateTime,
    /// The server's receipt time: it decides the window.
    pub received: OffsetDateTime,
    /// The clock the poster sent, if any.
    pub sent: Option<OffsetDateTime>,
    /// Staff or a device confirmed a check-in before the window opens.
    pub confirmed: bool,
    pub who: CheckinWho,
    pub method: CheckinMethod,
    pub has_reason: bool,
}

/// How one check-in is decided. Every refusal names its rule (the `RuleViolation` code).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckinOutcome {
    /// Not the caller's meeting: answered as if it did not exist (404).
    NotVisible,
    /// The same event again: the stored answer, nothing changes (200).
    Replay,
    /// A conflict with what is stored (409): `event_id_conflict`, `meeting_closed`.
    Conflict(crate::RuleViolation),
    /// Refused (422): `checkin_outside_window`, `not_expected`, `reason_required`, and
    /// `unknown_card` for an event id already on the unresolved list.
    Refuse(crate::RuleViolation),
    /// A card nobody expected or invited holds: kept on the unresolved list, refused (422
    /// `unknown_card`).
    UnknownCard(crate::RuleViolation),
    /// Before the window opens: to be confirmed (409 `confirmation_required`).
    Confirm(crate::RuleWarning),
    /// Stored for `person_id`, judged at `counted_at` ([`counted_time`]).
    Store {
        person_id: i64,
        counted_at: OffsetDateTime,
    },
}

/// Decides one check-in from its facts, in API.md's order: visibility, replay or conflict, the
/// unresolved list, closed, the window (by the receipt time), who, the proxy's reason.
pub fn decide_checkin(policy: &CheckinPolicy, f: &CheckinFacts) -> CheckinOutcome {
    use crate::RuleViolation as V;
    let person_admitted = match f.who {
        CheckinWho::Person { admitted, .. } => Some(admitted),
        CheckinWho::Card { .. } => None,
    };
    if !f.in_scope && f.poster != Poster::Member {
        return CheckinOutcome::NotVisible;
    }
    // someone checking themself in outside their grant's subtree must be expected or invited;
    // otherwise the meeting is none of theirs (404, as if it did not exist)
    if !f.in_scope && person_admitted == Some(false) {
        return CheckinOutcome::NotVisible;
    }
    // (a) replay or conflict
    match f.stored {
        Some(true) => return CheckinOutcome::Replay,
        Some(false) => return CheckinOutcome::Conflict(V::field("event_id_conflict", "event_id")),
        None => {}
    }
    match f.unresolved {
        Some(true) => return CheckinOutcome::Refuse(V::field("unknown_card", "card_uid")),
        Some(false) => return CheckinOutcome::Conflict(V::field("event_id_conflict", "event_id")),
        None => {}
    }
    // (b) closed, or outside the check-in window
    if f.closed {
        return CheckinOutcome::Conflict(V::new("meeting_closed"));
    }
    match check_window(policy, f.starts_at, f.ends_at, f.received, f.poster, f.confirmed) {
        Ok(()) => {}
        Err(WindowRefusal::Confirm(w)) => return CheckinOutcome::Confirm(w),
        Err(WindowRefusal::Refuse(v)) => return CheckinOutcome::Refuse(v),
    }
    // (c, d) who
    let person_id = match f.who {
        CheckinWho::Person { id, admitted: true } => id,
        CheckinWho::Person { admitted: false, .. } => {
            return CheckinOutcome::Refuse(V::field("not_expected", "person_id"));
        }
        CheckinWho::Card { holder: Some(id) } => id,
        CheckinWho::Card { holder: None } => {
            return CheckinOutcome::UnknownCard(V::field("unknown_card", "card_uid"));
        }
    };
    // (e) proxy needs a reason
    if reason_required(f.method) && !f.has_reason {
        return CheckinOutcome::Refuse(V::field("reason_required", "reason"));
    }
    // (f) judged by the time that counts
    CheckinOutcome::Store {
        person_id,
        counted_at: counted_time(policy, f.poster, f.sent, f.received),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use time::macros::datetime;

    use super::*;

    fn w() -> Window {
        Window::new(datetime!(2026-05-01 09:00 UTC), datetime!(2026-05-01 11:00 UTC))
    }
    fn ev(direction: Direction, hm: (u8, u8)) -> Event {
        Event {
            direction,
            at: datetime!(2026-05-01 00:00 UTC)
                + Duration::hours(hm.0.into())
                + Duration::minutes(hm.1.into()),
        }
    }
    use Direction::{In, Out};

    fn window(received: OffsetDateTime, poster: Poster, confirmed: bool) -> Result<(), WindowRefusal> {
        check_window(
            &CheckinPolicy::default(),
            datetime!(2026-05-01 09:00 UTC),
            datetime!(2026-05-01 11:00 UTC),
            received,
            poster,
            confirmed,
        )
    }

    #[test]
    fn the_window_opens_two_hours_before_the_start() {
        for poster in [Poster::Member, Poster::Staff, Poster::Device] {
            assert_eq!(window(datetime!(2026-05-01 07:00 UTC), poster, false), Ok(()));
            assert_eq!(window(datetime!(2026-05-01 10:59 UTC), poster, false), Ok(()));
        }
        let early = datetime!(2026-05-01 06:59 UTC);
        assert!(
            matches!(window(early, Poster::Member, true), Err(WindowRefusal::Refuse(v)) if v.code == "checkin_outside_window")
        );
        assert!(
            matches!(window(early, Poster::Staff, false), Err(WindowRefusal::Confirm(w)) if w.code == "checkin_before_window")
        );
        assert!(matches!(
            window(early, Poster::Device, false),
            Err(WindowRefusal::Confirm(_))
        ));
        assert_eq!(window(early, Poster::Staff, true), Ok(()));
    }

    #[test]
    fn a_member_cannot_check_in_after_the_end_staff_may_record_it() {
        let late = datetime!(2026-05-01 11:01 UTC);
        assert!(matches!(
            window(late, Poster::Member, false),
            Err(WindowRefusal::Refuse(_))
        ));
        assert_eq!(window(late, Poster::Staff, false), Ok(()));
        assert_eq!(window(late, Poster::Device, false), Ok(()));
    }

    #[test]
    fn the_counted_time_is_the_servers_unless_a_trusted_clock_says_otherwise() {
        let p = CheckinPolicy::default();
        let received = datetime!(2026-05-01 09:30 UTC);
        let claimed = datetime!(2026-05-01 08:55 UTC);
        assert_eq!(
            counted_time(&p, Poster::Member, Some(claimed), received),
            received
        );
        assert_eq!(counted_time(&p, Poster::Staff, Some(claimed), received), claimed);
        assert_eq!(
            counted_time(&p, Poster::Device, Some(claimed), received),
            received
        );
        let near = datetime!(2026-05-01 09:29 UTC);
        assert_eq!(counted_time(&p, Poster::Device, Some(near), received), near);
        assert_eq!(counted_time(&p, Poster::Device, None, received), received);
    }

    #[test]
    fn on_time_is_present_and_not_late() {
        let a = person_attendance(&[ev(In, (9, 5))], false, &w());
        assert_eq!(
            a,
            PersonAttendance {
                state: AttendanceState::Present,
                late: false
            }
        );
        let early = person_attendance(&[ev(In, (8, 40))], false, &w());
        assert!(!early.late);
    }

    #[test]
    fn after_the_grace_period_is_late() {
        let a = person_attendance(&[ev(In, (9, 10))], false, &w());
        assert_eq!(
            a,
            PersonAttendance {
                state: AttendanceState::Present,
                late: true
            }
        );
        let grace = Window {
            grace: Duration::minutes(15),
            ..w()
        };
        assert!(!person_attendance(&[ev(In, (9, 10))], false, &grace).late);
    }

    #[test]
    fn in_out_in_is_present_and_late_is_judged_on_the_first_in() {
        let a = person_attendance(&[ev(In, (8, 55)), ev(Out, (9, 30)), ev(In, (9, 45))], false, &w());
        assert_eq!(
            a,
            PersonAttendance {
                state: AttendanceState::Present,
                late: false
            }
        );
    }

    #[test]
    fn out_before_the_end_is_left_early_out_at_or_after_the_end_is_present() {
        let early = person_attendance(&[ev(In, (8, 55)), ev(Out, (10, 0))], false, &w());
        assert_eq!(early.state, AttendanceState::LeftEarly);
        assert!(!early.late, "late is a flag on present people");
        let at_end = person_attendance(&[ev(In, (8, 55)), ev(Out, (11, 0))], false, &w());
        assert_eq!(at_end.state, AttendanceState::Present);
    }

    #[test]
    fn events_are_ordered_by_device_time() {
        // the out arrived last but happened first
        let a = person_attendance(&[ev(In, (9, 30)), ev(Out, (9, 20))], false, &w());
        assert_eq!(a.state, AttendanceState::Present);
    }

    #[test]
    fn leave_without_events_is_leave_and_someone_on_leave_who_comes_is_present() {
        assert_eq!(person_attendance(&[], true, &w()).state, AttendanceState::Leave);
        assert_eq!(person_attendance(&[], false, &w()).state, AttendanceState::Absent);
        assert_eq!(
            person_attendance(&[ev(In, (9, 0))], true, &w()).state,
            AttendanceState::Present
        );
    }

    #[test]
    fn guests_are_listed_but_not_counted_and_people_count_once() {
        let events = [(1, ev(In, (9, 0))), (1, ev(In, (9, 1))), (9, ev(In, (9, 0)))];
        let s = attendance(&[1, 2, 3, 1], &[9, 2], &[3], &events, &w());
        assert_eq!(
            s.counts,
            Counts {
                expected: 3,
                present: 1,
                leave: 1,
                absent: 1,
                left_early: 0
            }
        );
        assert_eq!(s.lines.len(), 4);
        assert_eq!(
            s.lines[3],
            Line {
                person_id: 9,
                state: AttendanceState::Present,
                late: false,
                guest: true
            }
        );
    }

    #[test]
    fn a_planned_meeting_shows_open_once_started() {
        let t = datetime!(2026-05-01 09:00 UTC);
        assert_eq!(
            shown_status(MeetingStatus::Planned, t, t - Duration::minutes(1)),
            MeetingStatus::Planned
        );
        assert_eq!(shown_status(MeetingStatus::Planned, t, t), MeetingStatus::Open);
        assert_eq!(shown_status(MeetingStatus::Closed, t, t), MeetingStatus::Closed);
    }

    proptest! {
        #[test]
        fn the_counts_always_add_up(
            expected in proptest::collection::vec(0i64..30, 0..30),
            guests in proptest::collection::vec(0i64..40, 0..10),
            leaves in proptest::collection::vec(0i64..40, 0..10),
            events in proptest::collection::vec((0i64..40, any::<bool>(), 0i64..300), 0..80),
        ) {
            let start = datetime!(2026-05-01 09:00 UTC);
            let events: Vec<(i64, Event)> = events
                .into_iter()
                .map(|(p, inward, m)| (p, Event {
                    direction: if inward { In } else { Out },
                    at: start - Duration::minutes(60) + Duration::minutes(m),
                }))
                .collect();
            let s = attendance(&expected, &guests, &leaves, &events, &w());
            let c = s.counts;
            let distinct: BTreeSet<i64> = expected.iter().copied().collect();
            prop_assert_eq!(c.expected, distinct.len() as u64);
            prop_assert_eq!(c.present + c.leave + c.absent + c.left_early, c.expected);
            prop_assert!(s.lines.iter().all(|l| !l.late || l.state == AttendanceState::Present));
            prop_assert_eq!(s.lines.iter().filter(|l| !l.guest).count() as u64, c.expected);
        }
    }

    #[test]
    fn quorum_is_more_than_half_of_those_who_vote() {
        assert_eq!(
            quorum(MeetingKind::BranchCongress, 10, 5).map(|q| q.met),
            Some(false)
        );
        assert_eq!(
            quorum(MeetingKind::BranchCongress, 10, 6).map(|q| (q.needed, q.met)),
            Some((6, true))
        );
        assert_eq!(
            quorum(MeetingKind::Committee, 5, 3).map(|q| (q.needed, q.met)),
            Some((3, true))
        );
        assert_eq!(quorum(MeetingKind::Committee, 1, 1).map(|q| q.met), Some(true));
        assert_eq!(
            quorum(MeetingKind::ThemeDay, 10, 1),
            None,
            "no votes at a 主题党日"
        );
        assert_eq!(quorum(MeetingKind::BranchCongress, 0, 0), None, "nobody to vote");
    }

    /// An in-scope staff check-in of an expected person during the meeting, with no clock sent.
    fn facts() -> CheckinFacts {
        CheckinFacts {
            in_scope: true,
            poster: Poster::Staff,
            stored: None,
            unresolved: None,
            closed: false,
            starts_at: datetime!(2026-05-01 09:00 UTC),
            ends_at: datetime!(2026-05-01 11:00 UTC),
            received: datetime!(2026-05-01 09:03 UTC),
            sent: None,
            confirmed: false,
            who: CheckinWho::Person {
                id: 7,
                admitted: true,
            },
            method: CheckinMethod::Manual,
            has_reason: false,
        }
    }

    fn code(o: &CheckinOutcome) -> &'static str {
        match o {
            CheckinOutcome::NotVisible => "not_visible",
            CheckinOutcome::Replay => "replay",
            CheckinOutcome::Conflict(v) | CheckinOutcome::Refuse(v) | CheckinOutcome::UnknownCard(v) => {
                v.code
            }
            CheckinOutcome::Confirm(w) => w.code,
            CheckinOutcome::Store { .. } => "store",
        }
    }

    #[test]
    fn the_check_in_decision_follows_the_contract_in_order() {
        let p = CheckinPolicy::default();
        let early = datetime!(2026-05-01 06:00 UTC);
        let stranger = CheckinWho::Person {
            id: 8,
            admitted: false,
        };
        let cases: Vec<(&str, CheckinFacts, &str)> = vec![
            ("on time", facts(), "store"),
            (
                "outside the scope, staff",
                CheckinFacts {
                    in_scope: false,
                    ..facts()
                },
                "not_visible",
            ),
            (
                "outside the scope, a member not expected",
                CheckinFacts {
                    in_scope: false,
                    poster: Poster::Member,
                    who: stranger,
                    ..facts()
                },
                "not_visible",
            ),
            (
                "outside the scope, an invited member",
                CheckinFacts {
                    in_scope: false,
                    poster: Poster::Member,
                    ..facts()
                },
                "store",
            ),
            (
                "replay",
                CheckinFacts {
                    stored: Some(true),
                    closed: true,
                    ..facts()
                },
                "replay",
            ),
            (
                "same id, other body",
                CheckinFacts {
                    stored: Some(false),
                    ..facts()
                },
                "event_id_conflict",
            ),
            (
                "unresolved card again",
                CheckinFacts {
                    unresolved: Some(true),
                    ..facts()
                },
                "unknown_card",
            ),
            (
                "unresolved id, other body",
                CheckinFacts {
                    unresolved: Some(false),
                    ..facts()
                },
                "event_id_conflict",
            ),
            (
                "closed",
                CheckinFacts {
                    closed: true,
                    ..facts()
                },
                "meeting_closed",
            ),
            (
                "closed before the window",
                CheckinFacts {
                    closed: true,
                    received: early,
                    ..facts()
                },
                "meeting_closed",
            ),
            (
                "staff early",
                CheckinFacts {
                    received: early,
                    ..facts()
                },
                "checkin_before_window",
            ),
            (
                "staff early, confirmed",
                CheckinFacts {
                    received: early,
                    confirmed: true,
                    ..facts()
                },
                "store",
            ),
            (
                "member early",
                CheckinFacts {
                    poster: Poster::Member,
                    received: early,
                    ..facts()
                },
                "checkin_outside_window",
            ),
            (
                "member early, not expected: the window first",
                CheckinFacts {
                    poster: Poster::Member,
                    received: early,
                    who: stranger,
                    ..facts()
                },
                "checkin_outside_window",
            ),
            (
                "not expected",
                CheckinFacts {
                    who: stranger,
                    ..facts()
                },
                "not_expected",
            ),
            (
                "unknown card",
                CheckinFacts {
                    who: CheckinWho::Card { holder: None },
                    ..facts()
                },
                "unknown_card",
            ),
            (
                "known card",
                CheckinFacts {
                    who: CheckinWho::Card { holder: Some(9) },
                    ..facts()
                },
                "store",
            ),
            (
                "proxy without reason",
                CheckinFacts {
                    method: CheckinMethod::Proxy,
                    ..facts()
                },
                "reason_required",
            ),
            (
                "proxy without reason, not expected: who first",
                CheckinFacts {
                    method: CheckinMethod::Proxy,
                    who: stranger,
                    ..facts()
                },
                "not_expected",
            ),
            (
                "proxy with reason",
                CheckinFacts {
                    method: CheckinMethod::Proxy,
                    has_reason: true,
                    ..facts()
                },
                "store",
            ),
        ];
        for (name, f, want) in cases {
            assert_eq!(code(&decide_checkin(&p, &f)), want, "{name}");
        }
        assert!(matches!(
            decide_checkin(
                &p,
                &CheckinFacts {
                    who: CheckinWho::Card { holder: None },
                    ..facts()
                }
            ),
            CheckinOutcome::UnknownCard(_)
        ));
    }

    #[test]
    fn a_stored_check_in_is_judged_by_the_time_that_counts() {
        let p = CheckinPolicy::default();
        let sent = datetime!(2026-05-01 09:01 UTC);
        let far = datetime!(2026-05-01 08:00 UTC);
        let at = |f: CheckinFacts| match decide_checkin(&p, &f) {
            CheckinOutcome::Store {
                person_id,
                counted_at,
            } => Some((person_id, counted_at)),
            _ => None,
        };
        let received = facts().received;
        assert_eq!(
            at(CheckinFacts {
                sent: Some(sent),
                ..facts()
            }),
            Some((7, sent))
        );
        assert_eq!(
            at(CheckinFacts {
                poster: Poster::Member,
                sent: Some(sent),
                ..facts()
            }),
            Some((7, received))
        );
        assert_eq!(
            at(CheckinFacts {
                poster: Poster::Device,
                sent: Some(sent),
                ..facts()
            }),
            Some((7, sent))
        );
        assert_eq!(
            at(CheckinFacts {
                poster: Poster::Device,
                sent: Some(far),
                ..facts()
            }),
            Some((7, received))
        );
        assert_eq!(
            at(CheckinFacts {
                who: CheckinWho::Card { holder: Some(9) },
                ..facts()
            }),
            Some((9, received))
        );
    }
}
