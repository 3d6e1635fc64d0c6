//! Planning meetings: the list, planning fields, notices, cancel and reschedule, series,
//! invitees, members' leave requests, and a member's own meetings (`/api/v1/me/meetings`).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use dangjian_rules::RuleViolation;
use dangjian_store::Cap;
use dangjian_store::meeting::NewMeeting;
use dangjian_store::meeting::plan::{
    Every, InviteeRow, LeaveRequestRow, MeetingFilter, MyMeeting, MyNotice, PlanChange, PlanRow,
};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Auth;
use crate::contract::List;
use crate::contract::row_view;
use crate::error::{AppError, AppResult};
use crate::extract::{
    ApiJson, ApiPath, ApiQuery, Page, optional_date, optional_text, parse_enum, required, required_text,
};
use crate::meeting::api::records::RecordMeetingView;
use crate::meeting::api::{Clock, LeaveView, MeetingBody, ViewOf, listed, parse_id, required_time};

/// A meeting with its planning fields, as the planning routes answer it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlanView {
    #[serde(flatten)]
    pub meeting: RecordMeetingView,
    #[schema(format = DateTime)]
    pub created_at: String,
    pub series_id: Option<i64>,
    #[schema(format = DateTime)]
    pub cancelled_at: Option<String>,
    pub cancel_reason: Option<String>,
    pub wall_title: Option<String>,
    pub wall_text: Option<String>,
}

impl PlanView {
    pub fn new(m: &PlanRow, clock: Clock) -> Self {
        Self {
            meeting: RecordMeetingView::new(m, clock),
            created_at: clock.time(m.created_at),
            series_id: m.series_id,
            cancelled_at: clock.time_opt(m.cancelled_at),
            cancel_reason: m.cancel_reason.clone(),
            wall_title: m.wall_title.clone(),
            wall_text: m.wall_text.clone(),
        }
    }
}

/// A member's leave request and its decision.
#[derive(Debug, Serialize, ToSchema)]
pub struct LeaveRequestView {
    pub id: i64,
    pub meeting_id: i64,
    pub person_id: i64,
    pub name: String,
    pub reason: String,
    /// `pending`, `approved`, `refused`
    pub status: String,
    pub decision_note: Option<String>,
    #[schema(format = DateTime)]
    pub decided_at: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl ViewOf<LeaveRequestRow> for LeaveRequestView {
    fn view(r: &LeaveRequestRow, clock: Clock) -> Self {
        Self {
            id: r.id,
            meeting_id: r.meeting_id,
            person_id: r.person_id,
            name: r.name.clone(),
            reason: r.reason.clone(),
            status: r.status.to_string(),
            decision_note: r.decision_note.clone(),
            decided_at: clock.time_opt(r.decided_at),
            created_at: clock.time(r.created_at),
        }
    }
}

row_view! {
    /// An invited guest or 列席 person.
    #[derive(Debug, Serialize, ToSchema)]
    pub struct InviteeView from &InviteeRow as i {
        pub person_id: i64,
        pub name: String = i.name.clone(),
        /// `guest` (来宾) or `attendee_extra` (列席)
        pub role: String = i.role.to_string(),
    }
}

#[derive(Deserialize)]
pub struct ListQuery {
    org: Option<i64>,
    subtree: Option<bool>,
    from: Option<String>,
    to: Option<String>,
    status: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

const STATUSES: &[&str] = &["planned", "open", "closed", "cancelled"];

/// `?org=&subtree=&from=&to=&status=`: `from`/`to` are local dates (both included).
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Json<List<PlanView>>> {
    let scope = auth.scope(Cap::ReadOrg)?;
    let clock = Clock::of(&state);
    let day_start = |d: time::Date| d.midnight().assume_offset(clock.offset);
    let from = optional_date("from", q.from)?.map(day_start);
    let to = optional_date("to", q.to)?
        .and_then(|d| d.next_day())
        .map(day_start);
    let status = q
        .status
        .filter(|s| !s.trim().is_empty())
        .map(|s| {
            parse_enum("status", &s, |v| {
                STATUSES.iter().find(|x| **x == v).map(|x| (*x).to_owned())
            })
        })
        .transpose()?;
    let page = Page {
        limit: q.limit,
        offset: q.offset,
    };
    let f = MeetingFilter {
        org_id: q.org,
        subtree: q.subtree.unwrap_or(false),
        from,
        to,
        status,
        limit: page.limit(),
        offset: page.offset(),
    };
    let (rows, total) = state.store.meetings().list_meetings(&scope, &f).await?;
    Ok(Json(List {
        items: rows.iter().map(|m| PlanView::new(m, clock)).collect(),
        total,
    }))
}

/// The meeting with its invitees, and its leave requests for meeting staff.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlanDetailView {
    #[serde(flatten)]
    pub meeting: PlanView,
    pub invitees: Vec<InviteeView>,
    /// Only for those who run the meeting.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub leave_requests: Option<Vec<LeaveRequestView>>,
}

/// The meeting with its planning fields and invitees; leave requests for meeting staff.
pub async fn get_plan(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<PlanDetailView>> {
    let scope = auth.scope(Cap::ReadOrg)?;
    let m = state.store.meetings().meeting_plan(&scope, id).await?;
    let clock = Clock::of(&state);
    let invitees = state.store.meetings().invitees(&scope, id).await?;
    let mut leave_requests = None;
    if let Ok(run) = auth.scope(Cap::RunMeetings)
        && run.contains_path(&m.org_path)
    {
        let reqs = state.store.meetings().leave_requests(&run, id).await?;
        leave_requests = Some(reqs.iter().map(|r| LeaveRequestView::view(r, clock)).collect());
    }
    Ok(Json(PlanDetailView {
        meeting: PlanView::new(&m, clock),
        invitees: invitees.iter().map(InviteeView::from).collect(),
        leave_requests,
    }))
}

/// A text field of a PATCH body as sent: absent (the default), `null`, or a value (a text, checked
/// when parsed: anything else → 400 naming the field).
#[derive(Debug, Default, Serialize)]
pub(crate) struct PatchText(Option<Value>);

impl<'de> Deserialize<'de> for PatchText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Value::deserialize(d).map(|v| PatchText(Some(v)))
    }
}

impl utoipa::PartialSchema for PatchText {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        <Option<String> as utoipa::PartialSchema>::schema()
    }
}

impl ToSchema for PatchText {}

impl From<String> for PatchText {
    /// A form's field: always there ("" clears).
    fn from(s: String) -> Self {
        PatchText(Some(Value::String(s)))
    }
}

/// A change to the planning fields: an absent field stays, `null` or "" clears it (the title
/// cannot be cleared).
#[derive(Deserialize, Default, ToSchema)]
#[serde(default)]
pub struct PlanPatchBody {
    pub(crate) title: PatchText,
    pub(crate) venue: PatchText,
    pub(crate) host: PatchText,
    pub(crate) recorder: PatchText,
    pub(crate) agenda: PatchText,
    pub(crate) wall_title: PatchText,
    pub(crate) wall_text: PatchText,
}

/// A text field of a PATCH body: absent → unchanged, null or "" → cleared.
fn patch_text(field: &'static str, v: PatchText, max: usize) -> AppResult<Option<Option<String>>> {
    match v.0 {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::String(s)) => Ok(Some(optional_text(field, Some(s), max)?)),
        Some(_) => Err(AppError::Malformed(
            Some(field.into()),
            format!("{field}: not a text"),
        )),
    }
}

/// The longest text the wall shows (a report, the 选举办法, a list of names).
pub const WALL_TEXT_MAX: usize = 20_000;

impl TryFrom<PlanPatchBody> for PlanChange {
    type Error = AppError;

    fn try_from(b: PlanPatchBody) -> AppResult<PlanChange> {
        let title = match patch_text("title", b.title, super::TITLE_MAX)? {
            None => None,
            Some(Some(t)) => Some(t),
            Some(None) => return Err(RuleViolation::field("field_required", "title").into()),
        };
        Ok(PlanChange {
            title,
            venue: patch_text("venue", b.venue, 200)?,
            host: patch_text("host", b.host, 100)?,
            recorder: patch_text("recorder", b.recorder, 100)?,
            agenda: patch_text("agenda", b.agenda, 4000)?,
            wall_title: patch_text("wall_title", b.wall_title, 100)?,
            wall_text: patch_text("wall_text", b.wall_text, WALL_TEXT_MAX)?,
        })
    }
}

/// Changes title, venue, host, recorder, agenda, wall_title, wall_text while not closed.
pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<PlanPatchBody>,
) -> AppResult<Json<PlanView>> {
    let scope = auth.scope(Cap::RunMeetings)?;
    let change = PlanChange::try_from(b)?;
    let row = state
        .store
        .meetings()
        .update_plan(&scope, &auth.actor(), id, change)
        .await?;
    Ok(Json(PlanView::new(&row, Clock::of(&state))))
}

/// How many notices went out.
#[derive(Debug, Serialize, ToSchema)]
pub struct NoticesSent {
    pub meeting_id: i64,
    pub notices: u64,
}

/// Sends the meeting's notice to attendees who have none yet.
pub async fn notice(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<NoticesSent>> {
    let scope = auth.scope(Cap::RunMeetings)?;
    let n = state
        .store
        .meetings()
        .send_notice(&scope, &auth.actor(), id)
        .await?;
    Ok(Json(NoticesSent {
        meeting_id: id,
        notices: n,
    }))
}

/// Why the meeting is cancelled (required; attendees are told).
#[derive(Deserialize, ToSchema)]
pub struct CancelBody {
    reason: Option<String>,
}

/// A reason a rule requires (a cancellation's, a leave request's): trimmed, at most 200
/// characters, `code` when empty.
pub(crate) fn required_reason(v: Option<String>, code: &'static str) -> AppResult<String> {
    optional_text("reason", v, 200)?.ok_or_else(|| AppError::from(RuleViolation::field(code, "reason")))
}

pub async fn cancel(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<CancelBody>,
) -> AppResult<Json<PlanView>> {
    let scope = auth.scope(Cap::RunMeetings)?;
    let reason = required_reason(b.reason, "cancel_reason_required")?;
    let row = state
        .store
        .meetings()
        .cancel_meeting(&scope, &auth.actor(), id, &reason)
        .await?;
    Ok(Json(PlanView::new(&row, Clock::of(&state))))
}

/// The new times (RFC 3339) and, when given, the new venue ("" or null clears it).
#[derive(Deserialize, ToSchema)]
pub struct RescheduleBody {
    #[schema(format = DateTime)]
    starts_at: Option<String>,
    #[schema(format = DateTime)]
    ends_at: Option<String>,
    venue: Option<String>,
}

/// A meeting moved: its times, and its venue when one was given (`Some(None)` clears it).
pub struct Reschedule {
    pub starts_at: OffsetDateTime,
    pub ends_at: OffsetDateTime,
    pub venue: Option<Option<String>>,
}

impl TryFrom<RescheduleBody> for Reschedule {
    type Error = AppError;

    fn try_from(b: RescheduleBody) -> AppResult<Reschedule> {
        Ok(Reschedule {
            starts_at: required_time("starts_at", b.starts_at)?,
            ends_at: required_time("ends_at", b.ends_at)?,
            venue: match b.venue {
                None => None,
                v => Some(optional_text("venue", v, 200)?),
            },
        })
    }
}

pub async fn reschedule(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<RescheduleBody>,
) -> AppResult<Json<PlanView>> {
    let scope = auth.scope(Cap::RunMeetings)?;
    let r = Reschedule::try_from(b)?;
    let row = state
        .store
        .meetings()
        .reschedule_meeting(&scope, &auth.actor(), id, r.starts_at, r.ends_at, r.venue)
        .await?;
    Ok(Json(PlanView::new(&row, Clock::of(&state))))
}

/// A series: the first meeting as `POST /api/v1/meetings` takes it, then every `week` or
/// `month`, `count` meetings (2–24).
#[derive(Deserialize, ToSchema)]
pub struct SeriesBody {
    #[serde(flatten)]
    first: MeetingBody,
    /// `week` or `month`
    every: Option<String>,
    count: Option<i64>,
}

/// A series to plan: its first meeting, how often, how many.
pub struct NewSeries {
    pub first: NewMeeting,
    pub every: Every,
    pub count: i64,
}

impl TryFrom<SeriesBody> for NewSeries {
    type Error = AppError;

    fn try_from(b: SeriesBody) -> AppResult<NewSeries> {
        Ok(NewSeries {
            first: NewMeeting::try_from(b.first)?,
            every: parse_enum("every", &required_text("every", b.every)?, Every::parse)?,
            count: required("count", b.count)?,
        })
    }
}

/// The series planned and its meetings.
#[derive(Debug, Serialize, ToSchema)]
pub struct SeriesView {
    pub series_id: i64,
    /// `week` or `month`
    pub every: &'static str,
    pub meetings: Vec<PlanView>,
}

/// Plans a series: the first meeting's times, then every `week` or `month`, `count` meetings.
pub async fn create_series(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<SeriesBody>,
) -> AppResult<(StatusCode, Json<SeriesView>)> {
    let scope = auth.scope(Cap::RunMeetings)?;
    let NewSeries { first, every, count } = b.try_into()?;
    let (series_id, rows) = state
        .store
        .meetings()
        .create_series(
            &scope,
            &auth.actor(),
            first.org_id,
            first.kind,
            &first.title,
            first.starts_at,
            first.ends_at,
            first.venue,
            every,
            count,
        )
        .await?;
    let clock = Clock::of(&state);
    Ok((
        StatusCode::CREATED,
        Json(SeriesView {
            series_id,
            every: every.as_str(),
            meetings: rows.iter().map(|m| PlanView::new(m, clock)).collect(),
        }),
    ))
}

/// A person to invite: `guest` (来宾, the default) or `attendee_extra` (列席).
#[derive(Deserialize, ToSchema)]
pub struct InviteBody {
    #[schema(value_type = Option<i64>)]
    person_id: Option<Value>,
    role: Option<String>,
}

fn parse_role(s: &str) -> Option<&'static str> {
    match s {
        "guest" | "来宾" => Some("guest"),
        "attendee_extra" | "列席" => Some("attendee_extra"),
        _ => None,
    }
}

/// An invitation: who, and as what.
pub struct Invitation {
    pub person_id: i64,
    pub role: &'static str,
}

impl TryFrom<InviteBody> for Invitation {
    type Error = AppError;

    fn try_from(b: InviteBody) -> AppResult<Invitation> {
        Ok(Invitation {
            person_id: required("person_id", parse_id("person_id", b.person_id)?)?,
            role: match b.role.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                Some(s) => parse_enum("role", s, parse_role)?,
                None => "guest",
            },
        })
    }
}

/// An invitation as made.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationView {
    pub meeting_id: i64,
    pub person_id: i64,
    pub role: &'static str,
}

pub async fn invitees(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<List<InviteeView>>> {
    let scope = auth.scope(Cap::ReadOrg)?;
    let rows = state.store.meetings().invitees(&scope, id).await?;
    Ok(Json(List::of(&rows)))
}

/// Invites a guest (`guest`, 来宾) or a 列席 person (`attendee_extra`); not counted in expected.
pub async fn invite(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<InviteBody>,
) -> AppResult<(StatusCode, Json<InvitationView>)> {
    let scope = auth.scope(Cap::RunMeetings)?;
    let Invitation { person_id, role } = b.try_into()?;
    state
        .store
        .meetings()
        .invite(&scope, &auth.actor(), id, person_id, role)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(InvitationView {
            meeting_id: id,
            person_id,
            role,
        }),
    ))
}

/// `204 No Content`: done, and nothing in the body.
#[derive(Debug, ToSchema)]
pub struct NoContent;

pub async fn uninvite(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((id, person_id)): ApiPath<(i64, i64)>,
) -> AppResult<StatusCode> {
    let scope = auth.scope(Cap::RunMeetings)?;
    state
        .store
        .meetings()
        .uninvite(&scope, &auth.actor(), id, person_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Why the member cannot come (required).
#[derive(Deserialize, ToSchema)]
pub struct LeaveRequestBody {
    reason: Option<String>,
}

/// A member asks for leave from a meeting they are expected at (for themself only).
pub async fn request_leave(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<LeaveRequestBody>,
) -> AppResult<(StatusCode, Json<LeaveView>)> {
    let person_id = auth.grants.person_id().ok_or(AppError::NotFound)?;
    let reason = required_reason(b.reason, "leave_reason_required")?;
    let rid = state
        .store
        .meetings()
        .request_leave(&auth.actor(), person_id, id, &reason)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(LeaveView {
            id: rid,
            meeting_id: id,
            person_id,
            reason: Some(reason),
            status: "pending",
        }),
    ))
}

pub async fn leave_requests(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<List<LeaveRequestView>>> {
    let scope = auth.scope(Cap::RunMeetings)?;
    let rows = state.store.meetings().leave_requests(&scope, id).await?;
    Ok(listed(&rows, Clock::of(&state)))
}

/// A note on the decision (optional, at most 200 characters).
#[derive(Deserialize, Default, ToSchema)]
pub struct DecideBody {
    note: Option<String>,
}

async fn decide(
    state: &AppState,
    auth: &Auth,
    rid: i64,
    approve: bool,
    b: DecideBody,
) -> AppResult<Json<LeaveRequestView>> {
    let scope = auth.scope(Cap::RunMeetings)?;
    let note = optional_text("note", b.note, 200)?;
    let row = state
        .store
        .meetings()
        .decide_leave(&scope, &auth.actor(), rid, approve, note)
        .await?;
    Ok(Json(LeaveRequestView::view(&row, Clock::of(state))))
}

pub async fn approve_leave(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(rid): ApiPath<i64>,
    ApiJson(b): ApiJson<DecideBody>,
) -> AppResult<Json<LeaveRequestView>> {
    decide(&state, &auth, rid, true, b).await
}

pub async fn refuse_leave(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(rid): ApiPath<i64>,
    ApiJson(b): ApiJson<DecideBody>,
) -> AppResult<Json<LeaveRequestView>> {
    decide(&state, &auth, rid, false, b).await
}

/// The member's own leave request at a meeting.
#[derive(Debug, Serialize, ToSchema)]
pub struct OwnLeaveRequest {
    pub id: i64,
    pub status: String,
}

/// One of the caller's meetings, with their own state there.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyMeetingView {
    #[serde(flatten)]
    pub meeting: PlanView,
    /// `present`, `left_early`, `leave`, `absent`
    pub my_state: &'static str,
    pub my_late: bool,
    pub invited: bool,
    pub leave_request: Option<OwnLeaveRequest>,
}

impl MyMeetingView {
    fn new(m: &MyMeeting, clock: Clock) -> Self {
        Self {
            meeting: PlanView::new(&m.meeting, clock),
            my_state: m.state,
            my_late: m.late,
            invited: m.invited,
            leave_request: m.leave_request.as_ref().map(|(id, status)| OwnLeaveRequest {
                id: *id,
                status: status.to_string(),
            }),
        }
    }
}

/// A notice the member was sent (planned, cancelled, moved).
#[derive(Debug, Serialize, ToSchema)]
pub struct MyNoticeView {
    pub id: i64,
    pub meeting_id: i64,
    pub title: String,
    pub event: String,
    #[schema(format = DateTime)]
    pub starts_at: String,
    pub venue: Option<String>,
    pub reason: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl MyNoticeView {
    fn new(n: &MyNotice, clock: Clock) -> Self {
        Self {
            id: n.id,
            meeting_id: n.meeting_id,
            title: n.title.clone(),
            event: n.event.to_string(),
            starts_at: clock.time(n.starts_at),
            venue: n.venue.clone(),
            reason: n.reason.clone(),
            created_at: clock.time(n.created_at),
        }
    }
}

/// The caller's meetings: upcoming (soonest first), past (newest first), and notices.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct MyMeetingsView {
    pub upcoming: Vec<MyMeetingView>,
    pub past: Vec<MyMeetingView>,
    pub notices: Vec<MyNoticeView>,
}

/// Whether a meeting of the member's list is still ahead (or going on) rather than past.
pub fn is_upcoming(m: &PlanRow, now: OffsetDateTime) -> bool {
    m.ends_at > now && (m.cancelled_at.is_some() || !m.is_closed())
}

/// A member's meetings, split: upcoming (soonest first) and past (newest first).
pub fn split_upcoming(all: &[MyMeeting], now: OffsetDateTime) -> (Vec<&MyMeeting>, Vec<&MyMeeting>) {
    let (mut upcoming, past): (Vec<&MyMeeting>, Vec<&MyMeeting>) =
        all.iter().partition(|m| is_upcoming(&m.meeting, now));
    upcoming.reverse();
    (upcoming, past)
}

/// The caller's own meetings: `upcoming` (soonest first) and `past` (newest first), each with
/// `my_state`, `my_late` and `leave_request`; and their latest `notices`.
pub async fn my_meetings(State(state): State<AppState>, auth: Auth) -> AppResult<Json<MyMeetingsView>> {
    let Some(person_id) = auth.grants.person_id() else {
        return Ok(Json(MyMeetingsView::default()));
    };
    let clock = Clock::of(&state);
    let all = state.store.meetings().my_meetings(person_id).await?;
    let (upcoming, past) = split_upcoming(&all, clock.now);
    let notices = state.store.meetings().my_notices(person_id).await?;
    let views = |ms: Vec<&MyMeeting>| ms.into_iter().map(|m| MyMeetingView::new(m, clock)).collect();
    Ok(Json(MyMeetingsView {
        upcoming: views(upcoming),
        past: views(past),
        notices: notices.iter().map(|n| MyNoticeView::new(n, clock)).collect(),
    }))
}
