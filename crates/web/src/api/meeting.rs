//! Meetings, leaves, check-in, attendance and devices (API.md "Meetings and check-in").
//!
//! First increment: each check-in is one plain transaction in the store. Not yet here: the
//! batching writer, the live stream, QR tokens (`qr_token` → 422 `qr_not_supported_yet`), seats.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use dangjian_rules::RuleViolation;
use dangjian_rules::meeting::{CheckinMethod, DEFAULT_GRACE_MINUTES, Direction, MeetingKind};
use dangjian_store::meeting::{MeetingRow, NewCheckin, NewMeeting, Who};
use dangjian_store::{Cap, Scope};
use serde::Deserialize;
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime, UtcOffset};

use crate::AppState;
use crate::auth::{self, Auth};
use crate::error::{AppError, AppResult};
use crate::extract::{ApiJson, ApiPath, optional_text, parse_enum, required, required_text};

/// The deployment's grace period before a check-in counts as late.
fn grace() -> Duration {
    Duration::minutes(DEFAULT_GRACE_MINUTES)
}

fn show(t: OffsetDateTime, offset: UtcOffset) -> String {
    t.to_offset(offset).format(&Rfc3339).unwrap_or_default()
}

pub fn meeting_json(m: &MeetingRow, now: OffsetDateTime, offset: UtcOffset) -> Value {
    json!({
        "id": m.id, "org_id": m.org_id, "kind": m.kind,
        "kind_label": MeetingKind::parse(&m.kind).map(MeetingKind::label_zh),
        "title": m.title, "starts_at": show(m.starts_at, offset), "ends_at": show(m.ends_at, offset),
        "venue": m.venue, "status": m.shown_status(now).as_str(),
        "closed_at": m.closed_at.map(|t| show(t, offset)), "created_at": show(m.created_at, offset),
    })
}

/// An RFC 3339 time with offset; anything else → 422 naming the field.
fn parse_time(field: &'static str, s: &str) -> AppResult<OffsetDateTime> {
    OffsetDateTime::parse(s.trim(), &Rfc3339)
        .map_err(|_| AppError::Invalid(RuleViolation::field("datetime_invalid", field)))
}

/// An opaque id sent as a JSON integer or a string of digits.
fn parse_id(field: &'static str, v: Option<Value>) -> AppResult<Option<i64>> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| AppError::Malformed(Some(field.into()), format!("{field}: not an id"))),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| AppError::Malformed(Some(field.into()), format!("{field}: not an id"))),
        Some(_) => Err(AppError::Malformed(
            Some(field.into()),
            format!("{field}: not an id"),
        )),
    }
}

#[derive(Deserialize)]
pub struct MeetingBody {
    org_id: Option<Value>,
    kind: Option<String>,
    title: Option<String>,
    starts_at: Option<String>,
    ends_at: Option<String>,
    venue: Option<String>,
}

pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<MeetingBody>,
) -> AppResult<(StatusCode, Json<Value>)> {
    let scope = auth.scope(Cap::RunMeetings)?;
    let org_id = required("org_id", parse_id("org_id", b.org_id)?)?;
    let kind = parse_enum("kind", &required_text("kind", b.kind)?, MeetingKind::parse_label)?;
    let title = required_text("title", b.title)?;
    if title.chars().count() > 100 {
        return Err(RuleViolation::field("text_too_long", "title")
            .arg("max", 100)
            .into());
    }
    let starts_at = parse_time("starts_at", &required_text("starts_at", b.starts_at)?)?;
    let ends_at = parse_time("ends_at", &required_text("ends_at", b.ends_at)?)?;
    if ends_at <= starts_at {
        return Err(RuleViolation::field("meeting_ends_before_start", "ends_at").into());
    }
    let venue = optional_text("venue", b.venue, 200)?;
    let row = state
        .store
        .create_meeting(
            &scope,
            &auth.actor(),
            NewMeeting {
                org_id,
                kind,
                title,
                starts_at,
                ends_at,
                venue,
            },
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(meeting_json(&row, state.store.now(), state.store.local.offset)),
    ))
}

pub async fn get_one(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<Value>> {
    let scope = auth.scope(Cap::ReadOrg)?;
    let row = state.store.meeting(&scope, id).await?;
    Ok(Json(meeting_json(
        &row,
        state.store.now(),
        state.store.local.offset,
    )))
}

#[derive(Deserialize)]
pub struct LeaveBody {
    person_id: Option<Value>,
    reason: Option<String>,
}

pub async fn record_leave(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<LeaveBody>,
) -> AppResult<(StatusCode, Json<Value>)> {
    let scope = auth.scope(Cap::RunMeetings)?;
    let person_id = required("person_id", parse_id("person_id", b.person_id)?)?;
    let reason = optional_text("reason", b.reason, 200)?;
    let leave_id = state
        .store
        .record_leave(&scope, &auth.actor(), id, person_id, reason.clone())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(
            json!({"id": leave_id, "meeting_id": id, "person_id": person_id, "reason": reason, "status": "approved"}),
        ),
    ))
}

pub async fn close(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<Value>> {
    let scope = auth.scope(Cap::RunMeetings)?;
    let row = state.store.close_meeting(&scope, &auth.actor(), id).await?;
    Ok(Json(meeting_json(
        &row,
        state.store.now(),
        state.store.local.offset,
    )))
}

pub async fn attendance(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<Value>> {
    let scope = auth.scope(Cap::RunMeetings)?;
    let a = state.store.attendance(&scope, id, grace()).await?;
    let people: Vec<Value> = a
        .lines
        .iter()
        .map(|l| {
            let mut p = json!({"person_id": l.line.person_id, "name": l.name, "state": l.line.state.as_str(), "late": l.line.late});
            if l.line.guest {
                p["guest"] = json!(true);
            }
            p
        })
        .collect();
    let c = a.counts;
    Ok(Json(json!({
        "expected": c.expected, "present": c.present, "leave": c.leave, "absent": c.absent,
        "left_early": c.left_early, "people": people,
    })))
}

/// Cards read at the door that matched nobody expected or invited, for staff to sort out.
pub async fn unresolved_cards(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<Value>> {
    let scope = auth.scope(Cap::RunMeetings)?;
    let rows = state.store.unresolved_cards(&scope, id).await?;
    let offset = state.store.local.offset;
    let items: Vec<Value> = rows
        .into_iter()
        .map(|(event_id, card_uid, at)| json!({"event_id": event_id, "card_uid": card_uid, "at": show(at, offset)}))
        .collect();
    let total = i64::try_from(items.len()).unwrap_or(i64::MAX);
    Ok(crate::extract::list(items, total))
}

#[derive(Deserialize)]
pub struct CheckinBody {
    event_id: Option<String>,
    person_id: Option<Value>,
    card_uid: Option<String>,
    qr_token: Option<String>,
    method: Option<String>,
    direction: Option<String>,
    at: Option<String>,
    reason: Option<String>,
}

/// Who may check in at this meeting, and how: meeting staff (RunMeetings) and devices (CheckIn)
/// for anyone expected, within their subtree; a member only themself (`self_only`).
async fn checkin_scope(state: &AppState, auth: &Auth, id: i64) -> AppResult<(Scope, Option<i64>)> {
    let mut any = false;
    for cap in [Cap::RunMeetings, Cap::CheckIn] {
        if let Ok(scope) = auth.scope(cap) {
            any = true;
            match state.store.meeting(&scope, id).await {
                Ok(_) => return Ok((scope, None)),
                Err(dangjian_store::StoreError::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    if let Some(own) = auth.grants.person_id()
        && let Ok(scope) = auth.scope(Cap::ReadOrg)
    {
        any = true;
        match state.store.meeting(&scope, id).await {
            Ok(_) => return Ok((scope, Some(own))),
            Err(dangjian_store::StoreError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
    }
    if any {
        Err(AppError::NotFound)
    } else {
        Err(AppError::Forbidden("forbidden"))
    }
}

pub async fn checkin(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<CheckinBody>,
) -> AppResult<(StatusCode, Json<Value>)> {
    let (scope, self_only) = checkin_scope(&state, &auth, id).await?;
    let event_id = required_text("event_id", b.event_id)?;
    if event_id.chars().count() > 64 {
        return Err(RuleViolation::field("text_too_long", "event_id")
            .arg("max", 64)
            .into());
    }
    let person_id = parse_id("person_id", b.person_id)?;
    let card_uid = optional_text("card_uid", b.card_uid, 64)?;
    let qr_token = optional_text("qr_token", b.qr_token, 4096)?;
    let given =
        usize::from(person_id.is_some()) + usize::from(card_uid.is_some()) + usize::from(qr_token.is_some());
    if given == 0 {
        return Err(RuleViolation::field("field_required", "person_id").into());
    }
    if given > 1 {
        return Err(RuleViolation::field("checkin_one_identity", "person_id").into());
    }
    if qr_token.is_some() {
        return Err(RuleViolation::field("qr_not_supported_yet", "qr_token").into());
    }
    let who = match (person_id, card_uid) {
        (Some(p), _) => Who::Person(p),
        (None, Some(c)) => Who::Card(c),
        (None, None) => return Err(RuleViolation::field("field_required", "person_id").into()),
    };
    let method = match b.method.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => parse_enum("method", s, CheckinMethod::parse)?,
        None if matches!(who, Who::Card(_)) => CheckinMethod::Card,
        None => CheckinMethod::Manual,
    };
    let direction = match b.direction.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => parse_enum("direction", s, Direction::parse)?,
        None => Direction::In,
    };
    let at = match b.at.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => Some(parse_time("at", s)?),
        None => None,
    };
    let reason = optional_text("reason", b.reason, 200)?;
    if let Some(own) = self_only {
        let own_person = matches!(who, Who::Person(p) if p == own);
        if !own_person || !matches!(method, CheckinMethod::Qr | CheckinMethod::Manual) {
            return Err(AppError::Forbidden("checkin_self_only"));
        }
    }
    let answer = state
        .store
        .checkin(
            &scope,
            &auth.actor(),
            id,
            NewCheckin {
                event_id,
                who,
                method,
                direction,
                at,
                reason,
            },
            grace(),
        )
        .await?;
    let status = if answer.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(answer.body)))
}

#[derive(Deserialize)]
pub struct DeviceBody {
    name: Option<String>,
    kind: Option<String>,
    org_id: Option<Value>,
}

const DEVICE_KINDS: &[&str] = &["rfid_gate", "presence", "kiosk"];

/// Registers a door device: 201 `{"id","token"}`; the bearer token may post check-ins for the
/// meetings of the org's subtree and nothing else (role `device`).
pub async fn create_device(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<DeviceBody>,
) -> AppResult<(StatusCode, Json<Value>)> {
    let scope = auth.scope(Cap::ManageAccounts)?;
    let name = required_text("name", b.name)?;
    if name.chars().count() > 100 {
        return Err(RuleViolation::field("text_too_long", "name")
            .arg("max", 100)
            .into());
    }
    let kind = parse_enum("kind", &required_text("kind", b.kind)?, |s| {
        DEVICE_KINDS.iter().copied().find(|k| *k == s)
    })?;
    let org_id = required("org_id", parse_id("org_id", b.org_id)?)?;
    let token = auth::new_token();
    let id = state
        .store
        .create_device(&scope, &auth.actor(), &name, kind, org_id, &token)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": id, "name": name, "kind": kind, "org_id": org_id, "token": token})),
    ))
}
