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
use dangjian_rules::meeting::{CheckinMethod, Direction, MeetingKind, Poster};
use dangjian_store::meeting::{MeetingRow, NewCheckin, NewMeeting, Who};
use dangjian_store::{Cap, Role, Scope};
use serde::Deserialize;
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime, UtcOffset};

use crate::AppState;
use crate::auth::{self, Auth};
use crate::error::{AppError, AppResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery, optional_text, parse_enum, required, required_text};

fn show(t: OffsetDateTime, offset: UtcOffset) -> String {
    t.to_offset(offset).format(&Rfc3339).unwrap_or_default()
}

pub fn meeting_json(m: &MeetingRow, now: OffsetDateTime, offset: UtcOffset) -> Value {
    json!({
        "id": m.id, "org_id": m.org_id, "kind": m.kind,
        "kind_label": m.kind.label_zh(),
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
    pub(crate) org_id: Option<Value>,
    kind: Option<String>,
    title: Option<String>,
    starts_at: Option<String>,
    ends_at: Option<String>,
    venue: Option<String>,
}

impl MeetingBody {
    /// The meeting as planned, each field checked (one meeting or the first of a series).
    pub(crate) fn parse(self) -> AppResult<NewMeeting> {
        let org_id = required("org_id", parse_id("org_id", self.org_id)?)?;
        let kind = parse_enum(
            "kind",
            &required_text("kind", self.kind)?,
            MeetingKind::parse_label,
        )?;
        let title = required_text("title", self.title)?;
        if title.chars().count() > 100 {
            return Err(RuleViolation::field("text_too_long", "title")
                .arg("max", 100)
                .into());
        }
        let starts_at = parse_time("starts_at", &required_text("starts_at", self.starts_at)?)?;
        let ends_at = parse_time("ends_at", &required_text("ends_at", self.ends_at)?)?;
        if ends_at <= starts_at {
            return Err(RuleViolation::field("meeting_ends_before_start", "ends_at").into());
        }
        Ok(NewMeeting {
            org_id,
            kind,
            title,
            starts_at,
            ends_at,
            venue: optional_text("venue", self.venue, 200)?,
        })
    }
}

pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<MeetingBody>,
) -> AppResult<(StatusCode, Json<Value>)> {
    let scope = auth.scope(Cap::RunMeetings)?;
    let new = b.parse()?;
    let row = state.store.create_meeting(&scope, &auth.actor(), new).await?;
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
    // read before the attendance: a stream opened `?after=last_seq` misses nothing
    let last_seq = state.store.last_checkin_seq(id).await?;
    let a = state.store.attendance(&scope, id).await?;
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
    let m = state.store.meeting(&scope, id).await?;
    let mut body = json!({
        "expected": c.expected, "present": c.present, "leave": c.leave, "absent": c.absent,
        "left_early": c.left_early, "people": people, "last_seq": last_seq,
    });
    // a 支部党员大会 or 支委会: whether more than half of those who vote are here
    if let Some(q) = state.store.quorum_of(m.kind, &a).await? {
        body["quorum"] = json!(q);
    }
    Ok(Json(body))
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
    /// A member's personal QR code as scanned by staff (`GET /api/v1/me/qr`).
    person_token: Option<String>,
    method: Option<String>,
    direction: Option<String>,
    at: Option<String>,
    reason: Option<String>,
    /// Staff and devices confirm a check-in before the window opens (`checkin_before_window`).
    confirm: Option<bool>,
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
        (Some(scope), Some((own_scope, p))) => match state.store.meeting(&scope, id).await {
            Ok(_) => Ok((scope, None)),
            Err(dangjian_store::StoreError::NotFound) => Ok((own_scope, Some(p))),
            Err(e) => Err(e.into()),
        },
        (None, None) => Err(AppError::Forbidden("forbidden")),
    }
}

pub async fn checkin(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<crate::extract::ConfirmQuery>,
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
    let person_token = optional_text("person_token", b.person_token, 4096)?;
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
        Some(token) if self_only.is_none() => Some(verify_person_qr(&state, token)?),
        Some(_) => return Err(AppError::Forbidden("checkin_self_only")),
        None => person_id,
    };
    let who = match (person_id, card_uid, &qr_token) {
        (Some(p), _, _) => Who::Person(p),
        (None, Some(c), _) => Who::Card(c),
        (None, None, Some(token)) => {
            // a phone retrying after its token's window passed is a replay, not a new scan: the
            // stored event decides (same body → the same answer, another body → 409)
            if let Err(e) = verify_qr(&state, id, token)
                && !state.store.checkin_seen(&scope, id, &event_id).await?
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
    let method = match b.method.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => parse_enum("method", s, CheckinMethod::parse)?,
        None if qr_token.is_some() || person_token.is_some() => CheckinMethod::Qr,
        None if matches!(who, Who::Card(_)) => CheckinMethod::Card,
        None => CheckinMethod::Manual,
    };
    if qr_token.is_some() && method != CheckinMethod::Qr {
        return Err(RuleViolation::field("qr_method_only", "method").into());
    }
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
            // a meeting that is none of the caller's stays invisible (404, not 403)
            if !state.store.meeting_concerns(&scope, id, own).await? {
                return Err(AppError::NotFound);
            }
            return Err(AppError::Forbidden("checkin_self_only"));
        }
        // a member proves presence with the hall's rotating code; their own id proves nothing
        if qr_token.is_none() {
            if !state.store.meeting_concerns(&scope, id, own).await? {
                return Err(AppError::NotFound);
            }
            return Err(RuleViolation::field("checkin_needs_qr", "qr_token").into());
        }
    }
    let poster = match self_only {
        Some(_) => Poster::Member,
        None if auth.grants.has_role(Role::Device) => Poster::Device,
        None => Poster::Staff,
    };
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
                poster,
                confirmed: b.confirm.unwrap_or(false) || q.confirm.unwrap_or(false),
            },
        )
        .await?;
    let status = if answer.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(answer.body)))
}

/// A QR token is valid for its window of this many seconds and the next one (clock skew).
const QR_WINDOW_SECONDS: i64 = 15;
const QR_PURPOSE: &str = "meeting-qr";

fn qr_window(now: OffsetDateTime) -> i64 {
    now.unix_timestamp().div_euclid(QR_WINDOW_SECONDS)
}

/// base64url(meeting_id ‖ window ‖ HMAC tag), ids as 8 big-endian bytes each.
fn qr_token(state: &AppState, meeting_id: i64, window: i64) -> String {
    use base64::Engine as _;
    let mut msg = Vec::with_capacity(48);
    msg.extend_from_slice(&meeting_id.to_be_bytes());
    msg.extend_from_slice(&window.to_be_bytes());
    let tag = state.store.keys.sign(QR_PURPOSE, &msg);
    msg.extend_from_slice(&tag);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(msg)
}

/// Checks a QR token by its signature and the clock alone (no database read): it must be for
/// this meeting and of the current or the previous window.
fn verify_qr(state: &AppState, meeting_id: i64, token: &str) -> AppResult<()> {
    use base64::Engine as _;
    let invalid = || AppError::from(RuleViolation::field("qr_token_invalid", "qr_token"));
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.trim())
        .map_err(|_| invalid())?;
    if raw.len() != 48 {
        return Err(invalid());
    }
    let (msg, tag) = raw.split_at(16);
    if !state.store.keys.verify(QR_PURPOSE, msg, tag) {
        return Err(invalid());
    }
    let (m, w) = msg.split_at(8);
    let m = i64::from_be_bytes(m.try_into().map_err(|_| invalid())?);
    let w = i64::from_be_bytes(w.try_into().map_err(|_| invalid())?);
    if m != meeting_id {
        return Err(invalid());
    }
    let now = qr_window(state.store.now());
    if w > now {
        return Err(invalid());
    }
    if now - w > 1 {
        return Err(RuleViolation::field("qr_token_expired", "qr_token").into());
    }
    Ok(())
}

/// A personal code is valid for its window of this many seconds and the next one: long enough
/// to show the phone at the door, short enough that a photo of it is soon useless.
const PERSON_QR_WINDOW_SECONDS: i64 = 60;
const PERSON_QR_PURPOSE: &str = "person-qr";

/// base64url(person_id ‖ window ‖ HMAC tag), like the meeting's token but for a person.
fn person_qr_token(state: &AppState, person_id: i64, window: i64) -> String {
    use base64::Engine as _;
    let mut msg = Vec::with_capacity(48);
    msg.extend_from_slice(&person_id.to_be_bytes());
    msg.extend_from_slice(&window.to_be_bytes());
    let tag = state.store.keys.sign(PERSON_QR_PURPOSE, &msg);
    msg.extend_from_slice(&tag);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(msg)
}

/// The person a scanned personal code stands for, checked by signature and clock alone.
fn verify_person_qr(state: &AppState, token: &str) -> AppResult<i64> {
    use base64::Engine as _;
    let invalid = || AppError::from(RuleViolation::field("person_token_invalid", "person_token"));
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.trim())
        .map_err(|_| invalid())?;
    if raw.len() != 48 {
        return Err(invalid());
    }
    let (msg, tag) = raw.split_at(16);
    if !state.store.keys.verify(PERSON_QR_PURPOSE, msg, tag) {
        return Err(invalid());
    }
    let (p, w) = msg.split_at(8);
    let p = i64::from_be_bytes(p.try_into().map_err(|_| invalid())?);
    let w = i64::from_be_bytes(w.try_into().map_err(|_| invalid())?);
    let now = state
        .store
        .now()
        .unix_timestamp()
        .div_euclid(PERSON_QR_WINDOW_SECONDS);
    if w > now {
        return Err(invalid());
    }
    if now - w > 1 {
        return Err(RuleViolation::field("person_token_expired", "person_token").into());
    }
    Ok(p)
}

/// The caller's personal QR code (`{"token","expires_at","window_seconds"}`), for their phone:
/// staff scan it at the door and post it as `person_token`. Only logins of a person have one.
pub async fn my_qr(State(state): State<AppState>, auth: Auth) -> AppResult<Json<Value>> {
    let person = auth
        .grants
        .person_id()
        .ok_or(AppError::Forbidden("no_person_record"))?;
    let window = state
        .store
        .now()
        .unix_timestamp()
        .div_euclid(PERSON_QR_WINDOW_SECONDS);
    let expires = OffsetDateTime::from_unix_timestamp((window + 1) * PERSON_QR_WINDOW_SECONDS)
        .map_err(|e| AppError::Internal(e.into()))?;
    Ok(Json(json!({
        "token": person_qr_token(&state, person, window),
        "expires_at": show(expires, state.store.local.offset),
        "window_seconds": PERSON_QR_WINDOW_SECONDS,
    })))
}

/// The meeting's current QR token, for the screen at the door: `{"token","expires_at",
/// "window_seconds"}`; `expires_at` is when the next token is due (this one is still accepted
/// during the next window).
pub async fn qr(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<Value>> {
    let scope = auth.scope(Cap::RunMeetings)?;
    let m = state.store.meeting(&scope, id).await?;
    let window = qr_window(state.store.now());
    let expires = OffsetDateTime::from_unix_timestamp((window + 1) * QR_WINDOW_SECONDS)
        .map_err(|e| AppError::Internal(e.into()))?;
    Ok(Json(json!({
        "token": qr_token(&state, m.id, window),
        "expires_at": show(expires, state.store.local.offset),
        "window_seconds": QR_WINDOW_SECONDS,
    })))
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
    state.store.meeting(&scope, id).await?;
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
        let (events, counts) = state
            .store
            .live_checkins(&scope, id, n, None)
            .await?;
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
        Ok(scope) => state.store.meeting(&scope, id).await.is_ok(),
        Err(_) => false,
    }
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
