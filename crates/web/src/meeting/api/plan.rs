//! Planning meetings: the list, planning fields, notices, cancel and reschedule, series,
//! invitees, members' leave requests, and a member's own meetings (`/api/v1/me/meetings`).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use dangjian_rules::RuleViolation;
use dangjian_store::Cap;
use dangjian_store::meeting::plan::{Every, LeaveRequestRow, MeetingFilter, MyMeeting, PlanChange, PlanRow};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

use crate::AppState;
use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::extract::{
    ApiJson, ApiPath, ApiQuery, Page, optional_date, optional_text, parse_enum, required, required_text,
};
use crate::meeting::api::{parse_id, parse_time};

fn show(t: OffsetDateTime, offset: UtcOffset) -> String {
    t.to_offset(offset).format(&Rfc3339).unwrap_or_default()
}

pub fn plan_json(m: &PlanRow, now: OffsetDateTime, offset: UtcOffset) -> Value {
    json!({
        "id": m.id, "org_id": m.org_id, "kind": m.kind,
        "kind_label": m.kind.label_zh(),
        "title": m.title, "starts_at": show(m.starts_at, offset), "ends_at": show(m.ends_at, offset),
        "venue": m.venue, "status": m.shown_status(now),
        "closed_at": m.closed_at.map(|t| show(t, offset)), "created_at": show(m.created_at, offset),
        "host": m.host, "recorder": m.recorder, "agenda": m.agenda, "series_id": m.series_id,
        "cancelled_at": m.cancelled_at.map(|t| show(t, offset)), "cancel_reason": m.cancel_reason,
        "wall_title": m.wall_title, "wall_text": m.wall_text,
    })
}

fn leave_json(r: &LeaveRequestRow, offset: UtcOffset) -> Value {
    json!({
        "id": r.id, "meeting_id": r.meeting_id, "person_id": r.person_id, "name": r.name, "reason": r.reason,
        "status": r.status, "decision_note": r.decision_note, "decided_at": r.decided_at.map(|t| show(t, offset)),
        "created_at": show(r.created_at, offset),
    })
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
) -> AppResult<Json<Value>> {
    let scope = auth.scope(Cap::ReadOrg)?;
    let offset = state.store.local.offset;
    let day_start = |d: time::Date| d.midnight().assume_offset(offset);
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
    let (rows, total) = state.store.list_meetings(&scope, &f).await?;
    let now = state.store.now();
    Ok(crate::extract::list(
        rows.iter().map(|m| plan_json(m, now, offset)).collect(),
        total,
    ))
}

/// The meeting with its planning fields and invitees; leave requests for meeting staff.
pub async fn get_plan(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<Value>> {
    let scope = auth.scope(Cap::ReadOrg)?;
    let m = state.store.meeting_plan(&scope, id).await?;
    let offset = state.store.local.offset;
    let mut out = plan_json(&m, state.store.now(), offset);
    let invitees: Vec<Value> = state
        .store
        .invitees(&scope, id)
        .await?
        .iter()
        .map(|i| json!({"person_id": i.person_id, "name": i.name, "role": i.role}))
        .collect();
    out["invitees"] = json!(invitees);
    if let Ok(run) = auth.scope(Cap::RunMeetings)
        && run.contains_path(&m.org_path)
    {
        let reqs = state.store.leave_requests(&run, id).await?;
        out["leave_requests"] = json!(reqs.iter().map(|r| leave_json(r, offset)).collect::<Vec<_>>());
    }
    Ok(Json(out))
}

/// A text field of a PATCH body: absent → unchanged, null or "" → cleared.
fn patch_text(
    body: &Map<String, Value>,
    field: &'static str,
    max: usize,
) -> AppResult<Option<Option<String>>> {
    match body.get(field) {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::String(s)) => Ok(Some(optional_text(field, Some(s.clone()), max)?)),
        Some(_) => Err(AppError::Malformed(
            Some(field.into()),
            format!("{field}: not a text"),
        )),
    }
}

/// The longest text the wall shows (a report, the 选举办法, a list of names).
pub const WALL_TEXT_MAX: usize = 20_000;

/// Changes title, venue, host, recorder, agenda, wall_title, wall_text while not closed.
pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> AppResult<Json<Value>> {
    let scope = auth.scope(Cap::RunMeetings)?;
    let title = match patch_text(&body, "title", 100)? {
        None => None,
        Some(Some(t)) => Some(t),
        Some(None) => return Err(RuleViolation::field("field_required", "title").into()),
    };
    let change = PlanChange {
        title,
        venue: patch_text(&body, "venue", 200)?,
        host: patch_text(&body, "host", 100)?,
        recorder: patch_text(&body, "recorder", 100)?,
        agenda: patch_text(&body, "agenda", 4000)?,
        wall_title: patch_text(&body, "wall_title", 100)?,
        wall_text: patch_text(&body, "wall_text", WALL_TEXT_MAX)?,
    };
    let row = state.store.update_plan(&scope, &auth.actor(), id, change).await?;
    Ok(Json(plan_json(&row, state.store.now(), state.store.local.offset)))
}

/// Sends the meeting's notice to attendees who have none yet: `{"notices": n}`.
pub async fn notice(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<Value>> {
    let scope = auth.scope(Cap::RunMeetings)?;
    let n = state.store.send_notice(&scope, &auth.actor(), id).await?;
    Ok(Json(json!({"meeting_id": id, "notices": n})))
}

#[derive(Deserialize)]
pub struct CancelBody {
    reason: Option<String>,
}

pub async fn cancel(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<CancelBody>,
) -> AppResult<Json<Value>> {
    let scope = auth.scope(Cap::RunMeetings)?;
    let reason = optional_text("reason", b.reason, 200)?
        .ok_or_else(|| AppError::from(RuleViolation::field("cancel_reason_required", "reason")))?;
    let row = state
        .store
        .cancel_meeting(&scope, &auth.actor(), id, &reason)
        .await?;
    Ok(Json(plan_json(&row, state.store.now(), state.store.local.offset)))
}

#[derive(Deserialize)]
pub struct RescheduleBody {
    starts_at: Option<String>,
    ends_at: Option<String>,
    venue: Option<String>,
}

pub async fn reschedule(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<RescheduleBody>,
) -> AppResult<Json<Value>> {
    let scope = auth.scope(Cap::RunMeetings)?;
    let starts_at = parse_time("starts_at", &required_text("starts_at", b.starts_at)?)?;
    let ends_at = parse_time("ends_at", &required_text("ends_at", b.ends_at)?)?;
    let venue = match b.venue {
        None => None,
        v => Some(optional_text("venue", v, 200)?),
    };
    let row = state
        .store
        .reschedule_meeting(&scope, &auth.actor(), id, starts_at, ends_at, venue)
        .await?;
    Ok(Json(plan_json(&row, state.store.now(), state.store.local.offset)))
}

#[derive(Deserialize)]
pub struct SeriesBody {
    /// The first meeting, as `POST /api/v1/meetings` takes it.
    #[serde(flatten)]
    first: crate::meeting::api::MeetingBody,
    every: Option<String>,
    count: Option<i64>,
}

/// Plans a series: the first meeting's times, then every `week` or `month`, `count` meetings.
pub async fn create_series(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<SeriesBody>,
) -> AppResult<(StatusCode, Json<Value>)> {
    let scope = auth.scope(Cap::RunMeetings)?;
    let dangjian_store::meeting::NewMeeting {
        org_id,
        kind,
        title,
        starts_at,
        ends_at,
        venue,
    } = b.first.parse()?;
    let every = parse_enum("every", &required_text("every", b.every)?, Every::parse)?;
    let count = required("count", b.count)?;
    let (series_id, rows) = state
        .store
        .create_series(
            &scope,
            &auth.actor(),
            org_id,
            kind,
            &title,
            starts_at,
            ends_at,
            venue,
            every,
            count,
        )
        .await?;
    let now = state.store.now();
    let offset = state.store.local.offset;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "series_id": series_id, "every": every.as_str(),
            "meetings": rows.iter().map(|m| plan_json(m, now, offset)).collect::<Vec<_>>(),
        })),
    ))
}

#[derive(Deserialize)]
pub struct InviteBody {
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

pub async fn invitees(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<Value>> {
    let scope = auth.scope(Cap::ReadOrg)?;
    let rows = state.store.invitees(&scope, id).await?;
    let total = i64::try_from(rows.len()).unwrap_or(i64::MAX);
    Ok(crate::extract::list(
        rows.iter()
            .map(|i| json!({"person_id": i.person_id, "name": i.name, "role": i.role}))
            .collect(),
        total,
    ))
}

/// Invites a guest (`guest`, 来宾) or a 列席 person (`attendee_extra`); not counted in expected.
pub async fn invite(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<InviteBody>,
) -> AppResult<(StatusCode, Json<Value>)> {
    let scope = auth.scope(Cap::RunMeetings)?;
    let person_id = required("person_id", parse_id("person_id", b.person_id)?)?;
    let role = match b.role.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => parse_enum("role", s, parse_role)?,
        None => "guest",
    };
    state
        .store
        .invite(&scope, &auth.actor(), id, person_id, role)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"meeting_id": id, "person_id": person_id, "role": role})),
    ))
}

pub async fn uninvite(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((id, person_id)): ApiPath<(i64, i64)>,
) -> AppResult<StatusCode> {
    let scope = auth.scope(Cap::RunMeetings)?;
    state.store.uninvite(&scope, &auth.actor(), id, person_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct LeaveRequestBody {
    reason: Option<String>,
}

/// A member asks for leave from a meeting they are expected at (for themself only).
pub async fn request_leave(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<LeaveRequestBody>,
) -> AppResult<(StatusCode, Json<Value>)> {
    let person_id = auth.grants.person_id().ok_or(AppError::NotFound)?;
    let reason = optional_text("reason", b.reason, 200)?
        .ok_or_else(|| AppError::from(RuleViolation::field("leave_reason_required", "reason")))?;
    let rid = state
        .store
        .request_leave(&auth.actor(), person_id, id, &reason)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(
            json!({"id": rid, "meeting_id": id, "person_id": person_id, "reason": reason, "status": "pending"}),
        ),
    ))
}

pub async fn leave_requests(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<Value>> {
    let scope = auth.scope(Cap::RunMeetings)?;
    let rows = state.store.leave_requests(&scope, id).await?;
    let offset = state.store.local.offset;
    let total = i64::try_from(rows.len()).unwrap_or(i64::MAX);
    Ok(crate::extract::list(
        rows.iter().map(|r| leave_json(r, offset)).collect(),
        total,
    ))
}

#[derive(Deserialize, Default)]
pub struct DecideBody {
    note: Option<String>,
}

async fn decide(
    state: &AppState,
    auth: &Auth,
    rid: i64,
    approve: bool,
    note: Option<String>,
) -> AppResult<Json<Value>> {
    let scope = auth.scope(Cap::RunMeetings)?;
    let note = optional_text("note", note, 200)?;
    let row = state
        .store
        .decide_leave(&scope, &auth.actor(), rid, approve, note)
        .await?;
    Ok(Json(leave_json(&row, state.store.local.offset)))
}

pub async fn approve_leave(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(rid): ApiPath<i64>,
    ApiJson(b): ApiJson<DecideBody>,
) -> AppResult<Json<Value>> {
    decide(&state, &auth, rid, true, b.note).await
}

pub async fn refuse_leave(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(rid): ApiPath<i64>,
    ApiJson(b): ApiJson<DecideBody>,
) -> AppResult<Json<Value>> {
    decide(&state, &auth, rid, false, b.note).await
}

pub fn my_json(m: &MyMeeting, now: OffsetDateTime, offset: UtcOffset) -> Value {
    let mut v = plan_json(&m.meeting, now, offset);
    v["my_state"] = json!(m.state);
    v["my_late"] = json!(m.late);
    v["invited"] = json!(m.invited);
    v["leave_request"] = match &m.leave_request {
        Some((id, status)) => json!({"id": id, "status": status}),
        None => Value::Null,
    };
    v
}

/// Whether a meeting of the member's list is still ahead (or going on) rather than past.
pub fn is_upcoming(m: &PlanRow, now: OffsetDateTime) -> bool {
    m.ends_at > now && (m.cancelled_at.is_some() || !m.is_closed())
}

/// The caller's own meetings: `upcoming` (soonest first) and `past` (newest first), each with
/// `my_state`, `my_late` and `leave_request`; and their latest `notices`.
pub async fn my_meetings(State(state): State<AppState>, auth: Auth) -> AppResult<Json<Value>> {
    let Some(person_id) = auth.grants.person_id() else {
        return Ok(Json(json!({"upcoming": [], "past": [], "notices": []})));
    };
    let now = state.store.now();
    let offset = state.store.local.offset;
    let all = state.store.my_meetings(person_id).await?;
    let (mut upcoming, past): (Vec<&MyMeeting>, Vec<&MyMeeting>) =
        all.iter().partition(|m| is_upcoming(&m.meeting, now));
    upcoming.reverse();
    let notices: Vec<Value> = state
        .store
        .my_notices(person_id)
        .await?
        .iter()
        .map(|n| {
            json!({"id": n.id, "meeting_id": n.meeting_id, "title": n.title, "event": n.event,
                   "starts_at": show(n.starts_at, offset), "venue": n.venue, "reason": n.reason,
                   "created_at": show(n.created_at, offset)})
        })
        .collect();
    Ok(Json(json!({
        "upcoming": upcoming.iter().map(|m| my_json(m, now, offset)).collect::<Vec<_>>(),
        "past": past.iter().map(|m| my_json(m, now, offset)).collect::<Vec<_>>(),
        "notices": notices,
    })))
}
