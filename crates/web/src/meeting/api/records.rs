//! What a meeting leaves behind (issue 5 "After the meeting"): minutes with 决议 items,
//! attachments, amendments after close, the detailed attendance, a member's attendance history
//! and an organization's yearly ledger list. The Excel export is in `records_xlsx.rs`.
//!
//! Attachments: at most [`ATTACHMENT_MAX_BYTES`] (larger → 413), and only PDF, PNG, JPEG, DOCX,
//! XLSX or UTF-8 text, decided by the content (the name and the declared type are not trusted;
//! anything else → 422 `attachment_type_unsupported`). They are stored in the database.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::multipart::{Multipart, MultipartError, MultipartRejection};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use dangjian_rules::RuleViolation;
use dangjian_rules::meeting::AttendanceState;
use dangjian_store::Cap;
use dangjian_store::meeting::minutes::{AttachmentRow, Minutes, NewAttachment};
use dangjian_store::meeting::plan::PlanRow;
use dangjian_store::meeting::records::{AmendmentRow, DetailLine};
use serde::Deserialize;
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

use crate::AppState;
use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery, parse_enum, required, required_text};

/// The largest attachment accepted (10 MiB).
pub const ATTACHMENT_MAX_BYTES: usize = 10 * 1024 * 1024;
/// Minutes text and decisions limits.
const MINUTES_MAX_CHARS: usize = 20_000;
const DECISIONS_MAX: usize = 50;
const DECISION_MAX_CHARS: usize = 500;

pub(crate) fn show_time(t: OffsetDateTime, offset: UtcOffset) -> String {
    t.to_offset(offset).format(&Rfc3339).unwrap_or_default()
}

pub(crate) fn plan_json(m: &PlanRow, now: OffsetDateTime, offset: UtcOffset) -> Value {
    json!({
        "id": m.id, "org_id": m.org_id, "kind": m.kind,
        "kind_label": m.kind.label_zh(),
        "title": m.title, "starts_at": show_time(m.starts_at, offset), "ends_at": show_time(m.ends_at, offset),
        "venue": m.venue, "host": m.host, "recorder": m.recorder, "agenda": m.agenda,
        "status": m.shown_status(now), "closed_at": m.closed_at.map(|t| show_time(t, offset)),
    })
}

fn minutes_json(m: &Minutes, offset: UtcOffset) -> Value {
    json!({
        "minutes": m.minutes, "decisions": m.decisions,
        "updated_at": m.updated_at.map(|t| show_time(t, offset)),
    })
}

fn attachment_json(a: &AttachmentRow, offset: UtcOffset) -> Value {
    json!({
        "id": a.id, "file_name": a.file_name, "content_type": a.content_type, "size_bytes": a.size_bytes,
        "sha256": a.sha256, "created_at": show_time(a.created_at, offset),
        "url": format!("/api/v1/meetings/{}/attachments/{}", a.meeting_id, a.id),
    })
}

fn amendment_json(a: &AmendmentRow, offset: UtcOffset) -> Value {
    json!({
        "id": a.id, "target": a.target, "person_id": a.person_id,
        "before": serde_json::from_str::<Value>(&a.before_json).unwrap_or_default(),
        "after": serde_json::from_str::<Value>(&a.after_json).unwrap_or_default(),
        "reason": a.reason, "created_at": show_time(a.created_at, offset),
    })
}

pub async fn get_minutes(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<Value>> {
    let scope = auth.scope(Cap::RunMeetings)?;
    let m = state.store.meeting_plan(&scope, id).await?;
    let minutes = state.store.minutes(&scope, id).await?;
    let attachments = state.store.attachments(&scope, id).await?;
    let offset = state.store.local.offset;
    let mut out = minutes_json(&minutes, offset);
    out["meeting"] = plan_json(&m, state.store.now(), offset);
    out["editable"] = json!(!m.is_closed());
    out["attachments"] = attachments.iter().map(|a| attachment_json(a, offset)).collect();
    Ok(Json(out))
}

#[derive(Deserialize)]
pub struct MinutesBody {
    minutes: Option<String>,
    decisions: Option<Vec<String>>,
}

/// Minutes text (may be empty) and the non-empty decision items, within their limits.
fn parse_minutes(
    minutes: Option<String>,
    decisions: Option<Vec<String>>,
) -> AppResult<(String, Vec<String>)> {
    let minutes = minutes.map(|s| s.trim().to_owned()).unwrap_or_default();
    if minutes.chars().count() > MINUTES_MAX_CHARS {
        return Err(RuleViolation::field("text_too_long", "minutes")
            .arg("max", MINUTES_MAX_CHARS)
            .into());
    }
    let decisions: Vec<String> = decisions
        .unwrap_or_default()
        .into_iter()
        .map(|d| d.trim().to_owned())
        .filter(|d| !d.is_empty())
        .collect();
    if decisions.len() > DECISIONS_MAX {
        return Err(RuleViolation::field("decisions_too_many", "decisions")
            .arg("max", DECISIONS_MAX)
            .into());
    }
    if let Some(i) = decisions
        .iter()
        .position(|d| d.chars().count() > DECISION_MAX_CHARS)
    {
        return Err(RuleViolation::field("decision_too_long", "decisions")
            .arg("item", i + 1)
            .arg("max", DECISION_MAX_CHARS)
            .into());
    }
    Ok((minutes, decisions))
}

pub async fn put_minutes(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<MinutesBody>,
) -> AppResult<Json<Value>> {
    let scope = auth.scope(Cap::RunMeetings)?;
    let (minutes, decisions) = parse_minutes(b.minutes, b.decisions)?;
    let saved = state
        .store
        .set_minutes(&scope, &auth.actor(), id, &minutes, &decisions)
        .await?;
    Ok(Json(minutes_json(&saved, state.store.local.offset)))
}

pub async fn list_amendments(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<Value>> {
    let scope = auth.scope(Cap::RunMeetings)?;
    let rows = state.store.amendments(&scope, id).await?;
    let offset = state.store.local.offset;
    let items: Vec<Value> = rows.iter().map(|a| amendment_json(a, offset)).collect();
    let total = i64::try_from(items.len()).unwrap_or(i64::MAX);
    Ok(crate::extract::list(items, total))
}

#[derive(Deserialize)]
pub struct AmendBody {
    target: Option<String>,
    reason: Option<String>,
    minutes: Option<String>,
    decisions: Option<Vec<String>>,
    person_id: Option<Value>,
    state: Option<String>,
    late: Option<bool>,
}

/// Corrections after close are for those who may change the organization's records
/// (secretary and above), not meeting staff.
pub async fn amend(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<AmendBody>,
) -> AppResult<(StatusCode, Json<Value>)> {
    let scope = auth.scope(Cap::WriteOrg)?;
    let target = required_text("target", b.target)?;
    let reason = required_text("reason", b.reason)?;
    if reason.chars().count() > 500 {
        return Err(RuleViolation::field("text_too_long", "reason")
            .arg("max", 500)
            .into());
    }
    let actor = auth.actor();
    let amendment = match target.as_str() {
        "minutes" => {
            let (minutes, decisions) = parse_minutes(b.minutes, b.decisions)?;
            state
                .store
                .amend_minutes(&scope, &actor, id, &minutes, &decisions, &reason)
                .await?
        }
        "attendance" => {
            let person_id = required("person_id", super::parse_id("person_id", b.person_id)?)?;
            let st = parse_enum("state", &required_text("state", b.state)?, AttendanceState::parse)?;
            state
                .store
                .amend_attendance(
                    &scope,
                    &actor,
                    id,
                    person_id,
                    st,
                    b.late.unwrap_or(false),
                    &reason
                )
                .await?
        }
        other => {
            return Err(RuleViolation::field("value_unknown", "target")
                .arg("value", other)
                .into());
        }
    };
    let rows = state.store.amendments(&scope, id).await?;
    let row = rows
        .iter()
        .find(|a| a.id == amendment)
        .ok_or(AppError::NotFound)?;
    Ok((
        StatusCode::CREATED,
        Json(amendment_json(row, state.store.local.offset)),
    ))
}

pub async fn list_attachments(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<Value>> {
    let scope = auth.scope(Cap::RunMeetings)?;
    let rows = state.store.attachments(&scope, id).await?;
    let offset = state.store.local.offset;
    let items: Vec<Value> = rows.iter().map(|a| attachment_json(a, offset)).collect();
    let total = i64::try_from(items.len()).unwrap_or(i64::MAX);
    Ok(crate::extract::list(items, total))
}

/// The type of an upload, by its content: (content type, extension), or None.
pub fn sniff(data: &[u8]) -> Option<(&'static str, &'static str)> {
    let contains = |needle: &[u8]| data.windows(needle.len()).any(|w| w == needle);
    if data.starts_with(b"%PDF-") {
        Some(("application/pdf", "pdf"))
    } else if data.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(("image/png", "png"))
    } else if data.starts_with(b"\xFF\xD8\xFF") {
        Some(("image/jpeg", "jpg"))
    } else if data.starts_with(b"PK\x03\x04") && contains(b"[Content_Types].xml") {
        // Office Open XML: a zip whose parts name the application
        if contains(b"word/") {
            Some((
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                "docx",
            ))
        } else if contains(b"xl/") {
            Some((crate::member::roster::XLSX_CONTENT_TYPE, "xlsx"))
        } else {
            None
        }
    } else if !data.is_empty()
        && std::str::from_utf8(data).is_ok_and(|s| {
            s.chars()
                .all(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t' | '\u{c}'))
        })
    {
        Some(("text/plain; charset=utf-8", "txt"))
    } else {
        None
    }
}

/// The uploaded name without any directory part, at most 200 characters; a name from the
/// type when none was given.
pub(crate) fn clean_name(name: Option<&str>, ext: &str) -> String {
    let base = name
        .map(|n| n.rsplit(['/', '\\']).next().unwrap_or(n).trim())
        .filter(|n| !n.is_empty())
        .map(|n| {
            n.chars()
                .filter(|c| !c.is_control())
                .take(200)
                .collect::<String>()
        });
    base.unwrap_or_else(|| format!("附件.{ext}"))
}

pub async fn upload(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    multipart: Result<Multipart, MultipartRejection>,
) -> AppResult<(StatusCode, Json<Value>)> {
    let scope = auth.scope(Cap::RunMeetings)?;
    let mut multipart = multipart.map_err(|e| AppError::Malformed(None, e.body_text()))?;
    let field_error = |e: MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::TooLarge
        } else {
            AppError::Malformed(None, e.body_text())
        }
    };
    let mut file: Option<(Option<String>, Bytes)> = None;
    while let Some(field) = multipart.next_field().await.map_err(field_error)? {
        if field.name() == Some("file") {
            let name = field.file_name().map(str::to_owned);
            file = Some((name, field.bytes().await.map_err(field_error)?));
        }
    }
    let Some((name, data)) = file else {
        return Err(RuleViolation::field("field_required", "file").into());
    };
    if data.len() > ATTACHMENT_MAX_BYTES {
        return Err(AppError::TooLarge);
    }
    let Some((content_type, ext)) = sniff(&data) else {
        return Err(RuleViolation::field("attachment_type_unsupported", "file").into());
    };
    let row = state
        .store
        .add_attachment(
            &scope,
            &auth.actor(),
            id,
            NewAttachment {
                file_name: clean_name(name.as_deref(), ext),
                content_type,
                data: data.to_vec(),
            },
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(attachment_json(&row, state.store.local.offset)),
    ))
}

pub async fn download(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((id, attachment_id)): ApiPath<(i64, i64)>,
) -> AppResult<Response> {
    let scope = auth.scope(Cap::RunMeetings)?;
    let (row, data) = state.store.attachment(&scope, id, attachment_id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, row.content_type.clone()),
            (
                header::CONTENT_DISPOSITION,
                crate::member::roster::content_disposition("attachment", &row.file_name),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        ],
        data,
    )
        .into_response())
}

pub async fn remove(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((id, attachment_id)): ApiPath<(i64, i64)>,
) -> AppResult<StatusCode> {
    let scope = auth.scope(Cap::RunMeetings)?;
    state
        .store
        .remove_attachment(&scope, &auth.actor(), id, attachment_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) fn detail_line_json(l: &DetailLine, offset: UtcOffset) -> Value {
    json!({
        "person_id": l.person_id, "name": l.name, "org": l.org_name, "guest": l.guest,
        "state": l.state.as_str(), "late": l.late,
        "checked_in_at": l.first_in.map(|t| show_time(t, offset)), "method": l.method,
        "left_at": l.last_out.map(|t| show_time(t, offset)), "leave_reason": l.leave_reason,
        "amended": l.amended.as_ref().map(|a| json!({"reason": a.reason, "at": show_time(a.amended_at, offset)})),
    })
}

pub async fn detail(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<Value>> {
    let scope = auth.scope(Cap::RunMeetings)?;
    let d = state
        .store
        .attendance_detail(&scope, id)
        .await?;
    let offset = state.store.local.offset;
    let c = d.counts;
    Ok(Json(json!({
        "meeting": plan_json(&d.meeting, state.store.now(), offset),
        "expected": c.expected, "present": c.present, "leave": c.leave, "absent": c.absent, "left_early": c.left_early,
        "people": d.lines.iter().map(|l| detail_line_json(l, offset)).collect::<Vec<_>>(),
    })))
}

#[derive(Deserialize)]
pub struct YearQuery {
    year: Option<String>,
}

pub(crate) fn parse_year(v: Option<String>, default: i32) -> AppResult<i32> {
    match v.as_deref().map(str::trim) {
        None | Some("") => Ok(default),
        Some(s) => s
            .parse::<i32>()
            .ok()
            .filter(|y| (1921..=9999).contains(y))
            .ok_or_else(|| {
                RuleViolation::field("value_unknown", "year")
                    .arg("value", s)
                    .into()
            }),
    }
}

pub async fn ledger(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<YearQuery>,
) -> AppResult<Json<Value>> {
    let scope = auth.scope(Cap::RunMeetings)?;
    let year = parse_year(q.year, state.store.today().year())?;
    let items = state
        .store
        .ledger_list(&scope, id, year)
        .await?;
    let (now, offset) = (state.store.now(), state.store.local.offset);
    let items: Vec<Value> = items
        .iter()
        .map(|i| {
            let mut m = plan_json(&i.meeting, now, offset);
            let c = i.counts;
            m["counts"] = json!({"expected": c.expected, "present": c.present, "leave": c.leave,
                                 "absent": c.absent, "left_early": c.left_early});
            m
        })
        .collect();
    let total = i64::try_from(items.len()).unwrap_or(i64::MAX);
    Ok(crate::extract::list(items, total))
}

pub async fn member_history(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<Value>> {
    let scope = auth.scope(Cap::ReadMembers)?;
    let (_, rows) = state
        .store
        .member_attendance(&scope, id)
        .await?;
    let offset = state.store.local.offset;
    let items: Vec<Value> = rows
        .iter()
        .map(|h| {
            json!({
                "meeting_id": h.meeting_id, "kind": h.kind, "title": h.title,
                "starts_at": show_time(h.starts_at, offset), "state": h.state.as_str(), "late": h.late,
                "amended": h.amended,
            })
        })
        .collect();
    let total = i64::try_from(items.len()).unwrap_or(i64::MAX);
    Ok(crate::extract::list(items, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploads_are_typed_by_their_content() {
        assert_eq!(sniff(b"%PDF-1.7\n...").map(|t| t.1), Some("pdf"));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0").map(|t| t.1), Some("png"));
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE0..").map(|t| t.1), Some("jpg"));
        assert_eq!(
            sniff(b"PK\x03\x04....[Content_Types].xml....word/document.xml").map(|t| t.1),
            Some("docx")
        );
        assert_eq!(
            sniff(b"PK\x03\x04....[Content_Types].xml....xl/workbook.xml").map(|t| t.1),
            Some("xlsx")
        );
        assert_eq!(sniff("会议纪要\r\n一、…\t".as_bytes()).map(|t| t.1), Some("txt"));
        // a plain zip, an executable, binary noise, an empty file
        assert_eq!(sniff(b"PK\x03\x04 just a zip"), None);
        assert_eq!(sniff(b"MZ\x90\0\x03\0"), None);
        assert_eq!(sniff(b"\0\x01\x02"), None);
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn upload_names_lose_their_directories() {
        assert_eq!(clean_name(Some("C:\\docs\\纪要.pdf"), "pdf"), "纪要.pdf");
        assert_eq!(clean_name(Some("../../etc/passwd"), "txt"), "passwd");
        assert_eq!(clean_name(None, "png"), "附件.png");
        assert_eq!(clean_name(Some("  "), "png"), "附件.png");
    }
}
