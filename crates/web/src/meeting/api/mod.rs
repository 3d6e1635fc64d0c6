//! Meetings, leaves, check-in, attendance and devices (API.md "Meetings and check-in").
//!
//! Check-ins go to the node's check-in writer (`store::meeting::writer`), which answers after the
//! batch holding them commits; then they go to the meeting's live stream (`live.rs`). Members
//! check themselves in only with the hall's rotating QR token (`qr`, verified by its signature
//! alone), inside the check-in window and on the server's clock (`rules::meeting::Poster`).

pub mod cadence;
pub mod plan;
pub mod records;
pub mod records_xlsx;
pub mod seats;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use dangjian_rules::RuleViolation;
use dangjian_rules::meeting::{CheckinMethod, Counts, Direction, MeetingKind, Poster, Quorum};
use dangjian_store::meeting::{MeetingRow, NewCheckin, NewMeeting, Who};
use dangjian_store::{Cap, Role, Scope};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime, UtcOffset};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::{self, Auth};
use crate::contract::List;
use crate::contract::row_view;
use crate::error::{AppError, AppResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery, optional_text, parse_enum, required, required_text};

/// What views need to show times: the deployment's offset, and now (a meeting's shown status).
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    pub now: OffsetDateTime,
    pub offset: UtcOffset,
}

impl Clock {
    pub fn of(state: &AppState) -> Self {
        Self {
            now: state.store.now(),
            offset: state.store.local.offset,
        }
    }

    /// RFC 3339 in the deployment's offset, as every meeting answer writes times.
    pub fn time(self, t: OffsetDateTime) -> String {
        t.to_offset(self.offset).format(&Rfc3339).unwrap_or_default()
    }

    pub fn time_opt(self, t: Option<OffsetDateTime>) -> Option<String> {
        t.map(|t| self.time(t))
    }
}

/// The fields every meeting answer starts with.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeetingCore {
    pub id: i64,
    pub org_id: i64,
    /// `branch_congress`, `committee`, `group_meeting`, `party_lecture`, …
    pub kind: &'static str,
    pub kind_label: &'static str,
    pub title: String,
    #[schema(format = DateTime)]
    pub starts_at: String,
    #[schema(format = DateTime)]
    pub ends_at: String,
    pub venue: Option<String>,
    /// `planned`, `open`, `closed`, `cancelled`
    pub status: &'static str,
    #[schema(format = DateTime)]
    pub closed_at: Option<String>,
}

/// A `MeetingRow` and a `PlanRow` hold the same columns: one core from either.
macro_rules! meeting_core {
    ($m:expr, $clock:expr) => {{
        let (m, clock) = ($m, $clock);
        MeetingCore {
            id: m.id,
            org_id: m.org_id,
            kind: m.kind.as_str(),
            kind_label: m.kind.label_zh(),
            title: m.title.clone(),
            starts_at: clock.time(m.starts_at),
            ends_at: clock.time(m.ends_at),
            venue: m.venue.clone(),
            status: dangjian_rules::meeting::shown(
                m.status,
                m.cancelled_at.is_some(),
                m.starts_at,
                clock.now,
            )
            .as_str(),
            closed_at: clock.time_opt(m.closed_at),
        }
    }};
}

impl MeetingCore {
    pub fn of_meeting(m: &MeetingRow, clock: Clock) -> Self {
        meeting_core!(m, clock)
    }

    pub fn of_plan(m: &dangjian_store::meeting::plan::PlanRow, clock: Clock) -> Self {
        meeting_core!(m, clock)
    }
}

/// A view of a stored row, its times shown by the clock.
pub trait ViewOf<R> {
    fn view(row: &R, clock: Clock) -> Self;
}

/// A whole list answer, each row as its view.
pub fn listed<R, V: ViewOf<R>>(rows: &[R], clock: Clock) -> Json<List<V>> {
    Json(List::all(rows.iter().map(|r| V::view(r, clock)).collect()))
}

/// A meeting as `POST /api/v1/meetings`, `GET /api/v1/meetings/{id}` and close answer it.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeetingView {
    #[serde(flatten)]
    pub meeting: MeetingCore,
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl MeetingView {
    pub fn new(m: &MeetingRow, clock: Clock) -> Self {
        Self {
            meeting: MeetingCore::of_meeting(m, clock),
            created_at: clock.time(m.created_at),
        }
    }
}

row_view! {
    /// The attendance counts (guests are listed, not counted).
    #[derive(Debug, Clone, Copy, Serialize, ToSchema)]
    pub struct CountsView from Counts as c {
        pub expected: u64,
        pub present: u64,
        pub leave: u64,
        pub absent: u64,
        pub left_early: u64,
    }
}

/// An RFC 3339 time with offset; anything else → 422 naming the field.
fn parse_time(field: &'static str, s: &str) -> AppResult<OffsetDateTime> {
    OffsetDateTime::parse(s.trim(), &Rfc3339)
        .map_err(|_| AppError::Invalid(RuleViolation::field("datetime_invalid", field)))
}

/// A required RFC 3339 time (`field_required`, then `datetime_invalid`).
pub(crate) fn required_time(field: &'static str, v: Option<String>) -> AppResult<OffsetDateTime> {
    parse_time(field, &required_text(field, v)?)
}

/// A text of at most `max` characters, required.
pub(crate) fn required_text_max(field: &'static str, v: Option<String>, max: usize) -> AppResult<String> {
    let s = required_text(field, v)?;
    if s.chars().count() > max {
        return Err(RuleViolation::field("text_too_long", field)
            .arg("max", max)
            .into());
    }
    Ok(s)
}

/// An opaque id sent as a JSON integer or a string of digits.
fn parse_id(field: &'static str, v: Option<Value>) -> AppResult<Option<i64>> {
    let not_an_id = || AppError::Malformed(Some(field.into()), format!("{field}: not an id"));
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(not_an_id),
        Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| not_an_id()),
        Some(_) => Err(not_an_id()),
    }
}

/// A meeting to plan (one meeting, or the first of a series). Times are RFC 3339 with offset.
#[derive(Deserialize, ToSchema)]
pub struct MeetingBody {
    /// An id, as a number or a string of digits.
    #[schema(value_type = Option<i64>)]
    pub(crate) org_id: Option<Value>,
    /// `branch_congress`, `committee`, … or the Chinese name (支部党员大会 …)
    kind: Option<String>,
    title: Option<String>,
    #[schema(format = DateTime)]
    starts_at: Option<String>,
    #[schema(format = DateTime)]
    ends_at: Option<String>,
    venue: Option<String>,
}

/// The longest meeting title (API and plan form).
pub(crate) const TITLE_MAX: usize = 100;

impl TryFrom<MeetingBody> for NewMeeting {
    type Error = AppError;

    /// The meeting as planned, each field checked.
    fn try_from(b: MeetingBody) -> AppResult<NewMeeting> {
        let org_id = required("org_id", parse_id("org_id", b.org_id)?)?;
        let kind = parse_enum("kind", &required_text("kind", b.kind)?, MeetingKind::parse_label)?;
        let title = required_text_max("title", b.title, TITLE_MAX)?;
        let starts_at = required_time("starts_at", b.starts_at)?;
        let ends_at = required_time("ends_at", b.ends_at)?;
        if ends_at <= starts_at {
            return Err(RuleViolation::field("meeting_ends_before_start", "ends_at").into());
        }
        Ok(NewMeeting {
            org_id,
            kind,
            title,
            starts_at,
            ends_at,
            venue: optional_text("venue", b.venue, 200)?,
        })
    }
}

pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<MeetingBody>,
) -> AppResult<(StatusCode, Json<MeetingView>)> {
    let scope = auth.scope(Cap::RunMeetings)?;
    let new = NewMeeting::try_from(b)?;
    let row = state
        .store
        .meetings()
        .create_meeting(&scope, &auth.actor(), new)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(MeetingView::new(&row, Clock::of(&state))),
    ))
}

pub async fn get_one(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<MeetingView>> {
    let scope = auth.scope(Cap::ReadOrg)?;
    let row = state.store.meetings().meeting(&scope, id).await?;
    Ok(Json(MeetingView::new(&row, Clock::of(&state))))
}

/// An approved leave the secretary records: who, and why.
#[derive(Deserialize, ToSchema)]
pub struct LeaveBody {
    #[schema(value_type = Option<i64>)]
    person_id: Option<Value>,
    reason: Option<String>,
}

/// A leave as recorded: `person_id` and the optional reason.
pub struct NewLeave {
    pub person_id: i64,
    pub reason: Option<String>,
}

impl TryFrom<LeaveBody> for NewLeave {
    type Error = AppError;

    fn try_from(b: LeaveBody) -> AppResult<NewLeave> {
        Ok(NewLeave {
            person_id: required("person_id", parse_id("person_id", b.person_id)?)?,
            reason: optional_text("reason", b.reason, 200)?,
        })
    }
}

/// A leave recorded by staff (`approved`) or asked for by the member (`pending`).
#[derive(Debug, Serialize, ToSchema)]
pub struct LeaveView {
    pub id: i64,
    pub meeting_id: i64,
    pub person_id: i64,
    pub reason: Option<String>,
    /// `approved` (recorded by staff) or `pending` (asked by the member)
    pub status: &'static str,
}

pub async fn record_leave(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<LeaveBody>,
) -> AppResult<(StatusCode, Json<LeaveView>)> {
    let scope = auth.scope(Cap::RunMeetings)?;
    let NewLeave { person_id, reason } = b.try_into()?;
    let leave_id = state
        .store
        .meetings()
        .record_leave(&scope, &auth.actor(), id, person_id, reason.clone())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(LeaveView {
            id: leave_id,
            meeting_id: id,
            person_id,
            reason,
            status: "approved",
        }),
    ))
}

pub async fn close(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<MeetingView>> {
    let scope = auth.scope(Cap::RunMeetings)?;
    let row = state
        .store
        .meetings()
        .close_meeting(&scope, &auth.actor(), id)
        .await?;
    Ok(Json(MeetingView::new(&row, Clock::of(&state))))
}

/// One expected (or invited) person's state at the meeting.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttendancePerson {
    pub person_id: i64,
    pub name: String,
    /// `present`, `left_early`, `leave`, `absent`
    pub state: &'static str,
    pub late: bool,
    /// Present (and true) only for invited guests and 列席 people, who are not counted.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub guest: bool,
}

row_view! {
    /// Whether more than half of those who vote are here (支部党员大会, 支委会).
    #[derive(Debug, Serialize, ToSchema)]
    pub struct QuorumView from Quorum as q {
        pub voting: u64,
        pub present: u64,
        pub needed: u64,
        pub met: bool,
    }
}

/// The counts, each person's state, and the stream's cursor (`?after=last_seq` misses nothing).
#[derive(Debug, Serialize, ToSchema)]
pub struct AttendanceView {
    #[serde(flatten)]
    pub counts: CountsView,
    pub people: Vec<AttendancePerson>,
    pub last_seq: i64,
    /// Only for a 支部党员大会 or 支委会.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quorum: Option<QuorumView>,
}

pub async fn attendance(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<AttendanceView>> {
    let scope = auth.scope(Cap::RunMeetings)?;
    // read before the attendance: a stream opened `?after=last_seq` misses nothing
    let last_seq = state.store.meetings().last_checkin_seq(id).await?;
    let a = state.store.meetings().attendance(&scope, id).await?;
    let people = a
        .lines
        .iter()
        .map(|l| AttendancePerson {
            person_id: l.line.person_id,
            name: l.name.clone(),
            state: l.line.state.as_str(),
            late: l.line.late,
            guest: l.line.guest,
        })
        .collect();
    let m = state.store.meetings().meeting(&scope, id).await?;
    // a 支部党员大会 or 支委会: whether more than half of those who vote are here
    let quorum = state
        .store
        .meetings()
        .quorum_of(m.kind, &a)
        .await?
        .map(QuorumView::from);
    Ok(Json(AttendanceView {
        counts: a.counts.into(),
        people,
        last_seq,
        quorum,
    }))
}

/// A card read at the door that matched nobody expected or invited.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnresolvedCardView {
    pub event_id: String,
    pub card_uid: String,
    #[schema(format = DateTime)]
    pub at: String,
}

/// Cards read at the door that matched nobody expected or invited, for staff to sort out.
pub async fn unresolved_cards(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<List<UnresolvedCardView>>> {
    let scope = auth.scope(Cap::RunMeetings)?;
    let rows = state.store.meetings().unresolved_cards(&scope, id).await?;
    let clock = Clock::of(&state);
    Ok(Json(List::all(
        rows.into_iter()
            .map(|(event_id, card_uid, at)| UnresolvedCardView {
                event_id,
                card_uid,
                at: clock.time(at),
            })
            .collect(),
    )))
}

/// One check-in or presence event: `event_id` and exactly one of `person_id`, `card_uid`,
/// `qr_token` (the hall's rotating code: the caller checks themself in) or `person_token`.
#[derive(Deserialize, ToSchema)]
pub struct CheckinBody {
    /// The client's id for the event (at most 64 characters): a retry with the same body is a
    /// replay, answered the same.
    event_id: Option<String>,
    #[schema(value_type = Option<i64>)]
    person_id: Option<Value>,
    card_uid: Option<String>,
    qr_token: Option<String>,
    /// A member's personal QR code as scanned by staff (`GET /api/v1/me/qr`).
    person_token: Option<String>,
    /// `qr`, `card`, `manual`, `proxy`, `face`, `presence`
    method: Option<String>,
    /// `in` (default) or `out`
    direction: Option<String>,
    /// The device's clock (RFC 3339); the server's receipt time when absent.
    #[schema(format = DateTime)]
    at: Option<String>,
    reason: Option<String>,
    /// Staff and devices confirm a check-in before the window opens (`checkin_before_window`).
    confirm: Option<bool>,
}

/// What a check-in body is read against: who posts it and for which meeting.
struct CheckinContext<'a> {
    state: &'a AppState,
    auth: &'a Auth,
    scope: &'a Scope,
    meeting_id: i64,
    /// A member checking themself in (their person id), else staff or a device.
    self_only: Option<i64>,
    confirmed_by_query: bool,
}

impl CheckinBody {
    /// The check-in to store. The tokens are checked here (by signature and the clock), in the
    /// order the fields are read; a member may only check themself in, with the hall's code.
    async fn parse(self, cx: CheckinContext<'_>) -> AppResult<NewCheckin> {
        let CheckinContext {
            state,
            auth,
            scope,
            meeting_id: id,
            self_only,
            confirmed_by_query,
        } = cx;
        let event_id = required_text_max("event_id", self.event_id, 64)?;
        let person_id = parse_id("person_id", self.person_id)?;
        let card_uid = optional_text("card_uid", self.card_uid, 64)?;
        let qr_token = optional_text("qr_token", self.qr_token, 4096)?;
        let person_token = optional_text("person_token", self.person_token, 4096)?;
        let given = usize::from(person_id.is_some())
            + usize::from(card_uid.is_some())
            + usize::from(qr_token.is_some())
            + usize::from(person_token.is_some());
        if given == 0 {
            return Err(RuleViolation::field("field_required", "person_id").into());
        }
        if given > 1 {
            return Err(RuleViolation::field("checkin_one_identity", "person_id").into());
        }
        // a scanned personal code stands for its person (staff and devices only)
        let person_id = match &person_token {
            Some(token) if self_only.is_none() => Some(verify_person_qr(state, token)?),
            Some(_) => return Err(AppError::Forbidden("checkin_self_only")),
            None => person_id,
        };
        let who = match (person_id, card_uid, &qr_token) {
            (Some(p), _, _) => Who::Person(p),
            (None, Some(c), _) => Who::Card(c),
            (None, None, Some(token)) => {
                // a phone retrying after its token's window passed is a replay, not a new scan:
                // the stored event decides (same body → the same answer, another body → 409)
                if let Err(e) = verify_qr(state, id, token)
                    && !state.store.meetings().checkin_seen(scope, id, &event_id).await?
                {
                    return Err(e);
                }
                // the QR code shows the meeting; who checks in is the caller
                let own = auth
                    .grants
                    .person_id()
                    .ok_or_else(|| AppError::from(RuleViolation::field("not_expected", "qr_token")))?;
                Who::Person(own)
            }
            (None, None, None) => return Err(RuleViolation::field("field_required", "person_id").into()),
        };
        let method = match self.method.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) => parse_enum("method", s, CheckinMethod::parse)?,
            None if qr_token.is_some() || person_token.is_some() => CheckinMethod::Qr,
            None if matches!(who, Who::Card(_)) => CheckinMethod::Card,
            None => CheckinMethod::Manual,
        };
        if qr_token.is_some() && method != CheckinMethod::Qr {
            return Err(RuleViolation::field("qr_method_only", "method").into());
        }
        let direction = match self.direction.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) => parse_enum("direction", s, Direction::parse)?,
            None => Direction::In,
        };
        let at = match self.at.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) => Some(parse_time("at", s)?),
            None => None,
        };
        let reason = optional_text("reason", self.reason, 200)?;
        if let Some(own) = self_only {
            let own_person = matches!(who, Who::Person(p) if p == own);
            let refusal = if !own_person || !matches!(method, CheckinMethod::Qr | CheckinMethod::Manual) {
                Some(AppError::Forbidden("checkin_self_only"))
            } else if qr_token.is_none() {
                // a member proves presence with the hall's rotating code; their own id proves
                // nothing
                Some(RuleViolation::field("checkin_needs_qr", "qr_token").into())
            } else {
                None
            };
            if let Some(refusal) = refusal {
                // a meeting that is none of the caller's stays invisible (404, not 403)
                if !state.store.meetings().meeting_concerns(scope, id, own).await? {
                    return Err(AppError::NotFound);
                }
                return Err(refusal);
            }
        }
        let poster = match self_only {
            Some(_) => Poster::Member,
            None if auth.grants.has_role(Role::Device) => Poster::Device,
            None => Poster::Staff,
        };
        Ok(NewCheckin {
            event_id,
            who,
            method,
            direction,
            at,
            reason,
            poster,
            confirmed: self.confirm.unwrap_or(false) || confirmed_by_query,
        })
    }
}

/// Who may check in at this meeting, and how: meeting staff (RunMeetings) and devices (CheckIn)
/// for anyone expected, within their subtree; a member only themself (`self_only`). Whether the
/// meeting is inside the scope is checked by the check-in writer (404 outside), so the hot path
/// reads the meeting only for a caller who is both staff somewhere and a member.
async fn checkin_scope(state: &AppState, auth: &Auth, id: i64) -> AppResult<(Scope, Option<i64>)> {
    let staff = [Cap::RunMeetings, Cap::CheckIn]
        .into_iter()
        .find_map(|cap| auth.scope(cap).ok());
    let own = auth
        .grants
        .person_id()
        .and_then(|p| auth.scope(Cap::ReadOrg).ok().map(|s| (s, p)));
    match (staff, own) {
        (Some(scope), None) => Ok((scope, None)),
        (None, Some((scope, p))) => Ok((scope, Some(p))),
        (Some(scope), Some((own_scope, p))) => match state.store.meetings().meeting(&scope, id).await {
            Ok(_) => Ok((scope, None)),
            Err(dangjian_store::StoreError::NotFound) => Ok((own_scope, Some(p))),
            Err(e) => Err(e.into()),
        },
        (None, None) => Err(AppError::Forbidden("forbidden")),
    }
}

/// A check-in's answer as the check-in writer stored it: a replay answers the stored body
/// verbatim (API.md: the same answer), so it is passed on as stored, not rebuilt.
#[derive(Debug, Serialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = CheckinAnswer)]
pub struct CheckinView(Value);

/// The shape of a check-in's answer (`CheckinView`).
#[derive(ToSchema)]
#[expect(dead_code, reason = "documents the stored answer's shape")]
pub struct CheckinAnswer {
    event_id: String,
    person_id: i64,
    /// The person's state after this event: `present`, `left_early`, …
    state: String,
    late: bool,
    /// Their seat's label, if seats are assigned.
    seat: Option<String>,
}

pub async fn checkin(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<crate::extract::ConfirmQuery>,
    ApiJson(b): ApiJson<CheckinBody>,
) -> AppResult<(StatusCode, Json<CheckinView>)> {
    let (scope, self_only) = checkin_scope(&state, &auth, id).await?;
    let new = b
        .parse(CheckinContext {
            state: &state,
            auth: &auth,
            scope: &scope,
            meeting_id: id,
            self_only,
            confirmed_by_query: q.confirm.unwrap_or(false),
        })
        .await?;
    let answer = state
        .store
        .meetings()
        .checkin(&scope, &auth.actor(), id, new)
        .await?;
    let status = if answer.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(CheckinView(answer.body))))
}

/// A code that rotates: base64url(id ‖ window ‖ HMAC tag), ids as 8 big-endian bytes each,
/// valid for its window of `seconds` and the next one (clock skew, the time to show it).
struct RotatingCode {
    purpose: &'static str,
    seconds: i64,
    field: &'static str,
    invalid: &'static str,
    expired: &'static str,
}

/// The hall's code for a meeting: 15-second windows.
const MEETING_CODE: RotatingCode = RotatingCode {
    purpose: "meeting-qr",
    seconds: 15,
    field: "qr_token",
    invalid: "qr_token_invalid",
    expired: "qr_token_expired",
};

/// A member's personal code: long enough to show the phone at the door, short enough that a
/// photo of it is soon useless.
const PERSON_CODE: RotatingCode = RotatingCode {
    purpose: "person-qr",
    seconds: 60,
    field: "person_token",
    invalid: "person_token_invalid",
    expired: "person_token_expired",
};

impl RotatingCode {
    fn window(&self, now: OffsetDateTime) -> i64 {
        now.unix_timestamp().div_euclid(self.seconds)
    }

    fn token(&self, state: &AppState, id: i64, window: i64) -> String {
        use base64::Engine as _;
        let mut msg = Vec::with_capacity(48);
        msg.extend_from_slice(&id.to_be_bytes());
        msg.extend_from_slice(&window.to_be_bytes());
        let tag = state.store.keys.sign(self.purpose, &msg);
        msg.extend_from_slice(&tag);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(msg)
    }

    /// The id a token stands for, checked by its signature and the clock alone (no database
    /// read); with `expected`, it must be that id.
    fn verify(&self, state: &AppState, token: &str, expected: Option<i64>) -> AppResult<i64> {
        use base64::Engine as _;
        let invalid = || AppError::from(RuleViolation::field(self.invalid, self.field));
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token.trim())
            .map_err(|_| invalid())?;
        if raw.len() != 48 {
            return Err(invalid());
        }
        let (msg, tag) = raw.split_at(16);
        if !state.store.keys.verify(self.purpose, msg, tag) {
            return Err(invalid());
        }
        let (id, w) = msg.split_at(8);
        let id = i64::from_be_bytes(id.try_into().map_err(|_| invalid())?);
        let w = i64::from_be_bytes(w.try_into().map_err(|_| invalid())?);
        if expected.is_some_and(|e| e != id) {
            return Err(invalid());
        }
        let now = self.window(state.store.now());
        if w > now {
            return Err(invalid());
        }
        if now - w > 1 {
            return Err(RuleViolation::field(self.expired, self.field).into());
        }
        Ok(id)
    }

    /// The current code for `id`, and when the next one is due.
    fn current(&self, state: &AppState, id: i64) -> AppResult<QrView> {
        let window = self.window(state.store.now());
        let expires = OffsetDateTime::from_unix_timestamp((window + 1) * self.seconds)
            .map_err(|e| AppError::Internal(e.into()))?;
        Ok(QrView {
            token: self.token(state, id, window),
            expires_at: Clock::of(state).time(expires),
            window_seconds: self.seconds,
        })
    }
}

/// Checks a meeting's QR token: for this meeting, of the current or the previous window.
fn verify_qr(state: &AppState, meeting_id: i64, token: &str) -> AppResult<()> {
    MEETING_CODE.verify(state, token, Some(meeting_id)).map(|_| ())
}

/// The person a scanned personal code stands for.
fn verify_person_qr(state: &AppState, token: &str) -> AppResult<i64> {
    PERSON_CODE.verify(state, token, None)
}

/// A rotating code and when the next one is due (this one is still accepted during the next
/// window).
#[derive(Debug, Serialize, ToSchema)]
pub struct QrView {
    pub token: String,
    #[schema(format = DateTime)]
    pub expires_at: String,
    pub window_seconds: i64,
}

/// The caller's personal QR code, for their phone: staff scan it at the door and post it as
/// `person_token`. Only logins of a person have one.
pub async fn my_qr(State(state): State<AppState>, auth: Auth) -> AppResult<Json<QrView>> {
    let person = auth
        .grants
        .person_id()
        .ok_or(AppError::Forbidden("no_person_record"))?;
    Ok(Json(PERSON_CODE.current(&state, person)?))
}

/// The meeting's current QR token, for the screen at the door.
pub async fn qr(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<QrView>> {
    let scope = auth.scope(Cap::RunMeetings)?;
    let m = state.store.meetings().meeting(&scope, id).await?;
    Ok(Json(MEETING_CODE.current(&state, m.id)?))
}

/// The live check-in stream (Server-Sent Events): `event: checkin`, `id: <seq>`, the `data:` of
/// `live::event_data`. With `Last-Event-ID: N`, first every committed event with seq > N, then the
/// live ones; a `: keep-alive` comment every 15 s.
pub async fn stream(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<StreamQuery>,
    headers: axum::http::HeaderMap,
) -> AppResult<Sse<impl futures_util::Stream<Item = Result<SseEvent, std::convert::Infallible>>>> {
    let scope = auth.scope(Cap::RunMeetings)?;
    state.store.meetings().meeting(&scope, id).await?;
    let slot = state
        .live
        .open_stream(auth.principal.user_id, state.cfg.max_streams_per_user)
        .ok_or_else(|| {
            let now = state.store.now();
            AppError::TooMany(crate::error::RetryAfter::until(
                now,
                now + Duration::seconds(30),
                state.store.local.offset,
            ))
        })?;
    // subscribe before reading the backlog: nothing committed in between is lost
    let rx = state.live.subscribe(id);
    // a reconnect's Last-Event-ID, else the page's cursor (`?after=`, what it already shows)
    let last = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.trim().parse::<i64>().ok())
        .or(q.after);
    let mut backlog = Vec::new();
    let mut high = 0;
    if let Some(n) = last {
        high = n;
        let (events, counts) = state.store.meetings().live_checkins(&scope, id, n, None).await?;
        for e in events {
            high = high.max(e.seq);
            let data = crate::meeting::live::event_data(&e, &counts, state.store.local.offset);
            backlog.push(std::sync::Arc::new(crate::meeting::live::LiveEvent {
                seq: e.seq,
                data,
            }));
        }
    }
    // names keep flowing only while the session (or token) and the grant hold: checked again
    // every `stream_recheck`, the stream ends when either is gone
    let every = state.cfg.stream_recheck;
    let recheck = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    let watcher = (state.clone(), headers.clone());
    let events = futures_util::stream::unfold(
        (backlog.into_iter(), rx, recheck, slot, watcher),
        move |(mut backlog, mut rx, mut recheck, slot, watcher)| async move {
            let ev = match backlog.next() {
                Some(ev) => ev,
                None => loop {
                    tokio::select! {
                        r = rx.recv() => match r {
                            Ok(ev) if ev.seq <= high => {}
                            Ok(ev) => break ev,
                            // fell behind or the hub went away: end; the client reconnects with
                            // Last-Event-ID and is replayed what it missed
                            Err(_) => return None,
                        },
                        _ = recheck.tick() => {
                            if !still_watching(&watcher.0, &watcher.1, id).await {
                                return None;
                            }
                        }
                    }
                },
            };
            let out = SseEvent::default()
                .event("checkin")
                .id(ev.seq.to_string())
                .data(ev.data.as_str());
            Some((Ok(out), (backlog, rx, recheck, slot, watcher)))
        },
    );
    Ok(Sse::new(events).keep_alive(
        KeepAlive::new()
            .interval(std::time::Duration::from_secs(15))
            .text("keep-alive"),
    ))
}

#[derive(Deserialize)]
pub struct StreamQuery {
    after: Option<i64>,
}

/// Whether the stream's caller may still watch the meeting: logged in (session not ended,
/// token not revoked) and still holding a grant that shows it.
async fn still_watching(state: &AppState, headers: &axum::http::HeaderMap, id: i64) -> bool {
    let Ok(Some(auth)) = auth::identify(state, headers).await else {
        return false;
    };
    match auth.scope(Cap::RunMeetings) {
        Ok(scope) => state.store.meetings().meeting(&scope, id).await.is_ok(),
        Err(_) => false,
    }
}

/// A door device to register: its name, kind and the org whose meetings it serves.
#[derive(Deserialize, ToSchema)]
pub struct DeviceBody {
    name: Option<String>,
    /// `rfid_gate`, `presence`, `kiosk`
    kind: Option<String>,
    #[schema(value_type = Option<i64>)]
    org_id: Option<Value>,
}

const DEVICE_KINDS: &[&str] = &["rfid_gate", "presence", "kiosk"];

/// A device as registered.
pub struct NewDevice {
    pub name: String,
    pub kind: &'static str,
    pub org_id: i64,
}

impl TryFrom<DeviceBody> for NewDevice {
    type Error = AppError;

    fn try_from(b: DeviceBody) -> AppResult<NewDevice> {
        Ok(NewDevice {
            name: required_text_max("name", b.name, 100)?,
            kind: parse_enum("kind", &required_text("kind", b.kind)?, |s| {
                DEVICE_KINDS.iter().copied().find(|k| *k == s)
            })?,
            org_id: required("org_id", parse_id("org_id", b.org_id)?)?,
        })
    }
}

/// A registered device and its bearer token (shown this once).
#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceView {
    pub id: i64,
    pub name: String,
    pub kind: &'static str,
    pub org_id: i64,
    pub token: String,
}

/// Registers a door device: the bearer token may post check-ins for the meetings of the org's
/// subtree and nothing else (role `device`).
pub async fn create_device(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<DeviceBody>,
) -> AppResult<(StatusCode, Json<DeviceView>)> {
    let scope = auth.scope(Cap::ManageAccounts)?;
    let NewDevice { name, kind, org_id } = b.try_into()?;
    let token = auth::new_token();
    let id = state
        .store
        .meetings()
        .create_device(&scope, &auth.actor(), &name, kind, org_id, &token)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(DeviceView {
            id,
            name,
            kind,
            org_id,
            token,
        }),
    ))
}
