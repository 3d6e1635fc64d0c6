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
use dangjian_rules::meeting::{AttendanceState, CheckinMethod};
use dangjian_store::Cap;
use dangjian_store::meeting::minutes::{AttachmentRow, Minutes, NewAttachment};
use dangjian_store::meeting::plan::PlanRow;
use dangjian_store::meeting::records::{AmendmentRow, DetailLine, HistoryLine, LedgerItem};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::{Clock, CountsView, MeetingCore, ViewOf, listed, parse_id, required_text_max};
use crate::AppState;
use crate::auth::Auth;
use crate::contract::List;
use crate::error::{AppError, AppResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery, YearQuery, parse_enum, required, required_text};

/// The largest attachment accepted (10 MiB).
pub const ATTACHMENT_MAX_BYTES: usize = 10 * 1024 * 1024;
/// Minutes text and decisions limits.
const MINUTES_MAX_CHARS: usize = 20_000;
const DECISIONS_MAX: usize = 50;
const DECISION_MAX_CHARS: usize = 500;
/// The longest reason for an amendment.
pub(crate) const AMEND_REASON_MAX: usize = 500;

/// A meeting as its records show it: the core and who led and recorded it, to what agenda.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordMeetingView {
    #[serde(flatten)]
    pub meeting: MeetingCore,
    pub host: Option<String>,
    pub recorder: Option<String>,
    pub agenda: Option<String>,
}

impl RecordMeetingView {
    pub(crate) fn new(m: &PlanRow, clock: Clock) -> Self {
        Self {
            meeting: MeetingCore::of_plan(m, clock),
            host: m.host.clone(),
            recorder: m.recorder.clone(),
            agenda: m.agenda.clone(),
        }
    }
}

/// The minutes text and the 决议 items.
#[derive(Debug, Serialize, ToSchema)]
pub struct MinutesView {
    pub minutes: String,
    pub decisions: Vec<String>,
    #[schema(format = DateTime)]
    pub updated_at: Option<String>,
}

impl MinutesView {
    fn new(m: &Minutes, clock: Clock) -> Self {
        Self {
            minutes: m.minutes.clone(),
            decisions: m.decisions.clone(),
            updated_at: clock.time_opt(m.updated_at),
        }
    }
}

/// An attachment and where to download it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentView {
    pub id: i64,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    pub url: String,
}

impl ViewOf<AttachmentRow> for AttachmentView {
    fn view(a: &AttachmentRow, clock: Clock) -> Self {
        Self {
            id: a.id,
            file_name: a.file_name.clone(),
            content_type: a.content_type.clone(),
            size_bytes: a.size_bytes,
            sha256: a.sha256.clone(),
            created_at: clock.time(a.created_at),
            url: format!("/api/v1/meetings/{}/attachments/{}", a.meeting_id, a.id),
        }
    }
}

/// A correction after close: of the minutes, or of one person's attendance.
#[derive(Debug, Serialize, ToSchema)]
pub struct AmendmentView {
    pub id: i64,
    /// `minutes` or `attendance`
    pub target: String,
    pub person_id: Option<i64>,
    /// What it was and what it became (the minutes and decisions, or a state and lateness).
    #[schema(value_type = Object)]
    pub before: Value,
    #[schema(value_type = Object)]
    pub after: Value,
    pub reason: String,
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl ViewOf<AmendmentRow> for AmendmentView {
    fn view(a: &AmendmentRow, clock: Clock) -> Self {
        Self {
            id: a.id,
            target: a.target.to_string(),
            person_id: a.person_id,
            before: serde_json::from_str(&a.before_json).unwrap_or_default(),
            after: serde_json::from_str(&a.after_json).unwrap_or_default(),
            reason: a.reason.clone(),
            created_at: clock.time(a.created_at),
        }
    }
}

/// The minutes with the meeting, whether they may still be written, and the attachments.
#[derive(Debug, Serialize, ToSchema)]
pub struct MinutesPageView {
    #[serde(flatten)]
    pub minutes: MinutesView,
    pub meeting: RecordMeetingView,
    /// Until close; afterwards corrections are amendments.
    pub editable: bool,
    pub attachments: Vec<AttachmentView>,
}

pub async fn get_minutes(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<MinutesPageView>> {
    let scope = auth.scope(Cap::RunMeetings)?;
    let m = state.store.meetings().meeting_plan(&scope, id).await?;
    let minutes = state.store.meetings().minutes(&scope, id).await?;
    let attachments = state.store.meetings().attachments(&scope, id).await?;
    let clock = Clock::of(&state);
    Ok(Json(MinutesPageView {
        minutes: MinutesView::new(&minutes, clock),
        meeting: RecordMeetingView::new(&m, clock),
        editable: !m.is_closed(),
        attachments: attachments
            .iter()
            .map(|a| AttachmentView::view(a, clock))
            .collect(),
    }))
}

/// The minutes text (may be empty) and the 决议 items (empty ones are dropped).
#[derive(Deserialize, ToSchema)]
pub struct MinutesBody {
    minutes: Option<String>,
    decisions: Option<Vec<String>>,
}

/// Minutes as written: the text and the non-empty decision items, within their limits.
pub(crate) struct MinutesText {
    pub minutes: String,
    pub decisions: Vec<String>,
}

impl MinutesText {
    /// Checks the text and the items (as the API and the minutes form send them).
    pub(crate) fn parse(minutes: Option<String>, decisions: Vec<String>) -> AppResult<Self> {
        let minutes = minutes.map(|s| s.trim().to_owned()).unwrap_or_default();
        if minutes.chars().count() > MINUTES_MAX_CHARS {
            return Err(RuleViolation::field("text_too_long", "minutes")
                .arg("max", MINUTES_MAX_CHARS)
                .into());
        }
        let decisions: Vec<String> = decisions
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
        Ok(Self { minutes, decisions })
    }
}

impl TryFrom<MinutesBody> for MinutesText {
    type Error = AppError;

    fn try_from(b: MinutesBody) -> AppResult<MinutesText> {
        MinutesText::parse(b.minutes, b.decisions.unwrap_or_default())
    }
}

pub async fn put_minutes(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<MinutesBody>,
) -> AppResult<Json<MinutesView>> {
    let scope = auth.scope(Cap::RunMeetings)?;
    let m = MinutesText::try_from(b)?;
    let saved = state
        .store
        .meetings()
        .set_minutes(&scope, &auth.actor(), id, &m.minutes, &m.decisions)
        .await?;
    Ok(Json(MinutesView::new(&saved, Clock::of(&state))))
}

pub async fn list_amendments(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<List<AmendmentView>>> {
    let scope = auth.scope(Cap::RunMeetings)?;
    let rows = state.store.meetings().amendments(&scope, id).await?;
    Ok(listed(&rows, Clock::of(&state)))
}

/// A correction after close, with its reason (required): `target` `minutes` (`minutes`,
/// `decisions`) or `attendance` (`person_id`, `state`, `late`).
#[derive(Deserialize, ToSchema)]
pub struct AmendBody {
    target: Option<String>,
    reason: Option<String>,
    minutes: Option<String>,
    decisions: Option<Vec<String>>,
    #[schema(value_type = Option<i64>)]
    person_id: Option<Value>,
    /// `present`, `left_early`, `leave`, `absent`
    state: Option<String>,
    late: Option<bool>,
}

/// What an amendment corrects.
pub(crate) enum Correction {
    Minutes(MinutesText),
    Attendance {
        person_id: i64,
        state: AttendanceState,
        late: bool,
    },
}

/// An amendment: what it corrects and why.
pub(crate) struct Amendment {
    pub correction: Correction,
    pub reason: String,
}

impl TryFrom<AmendBody> for Amendment {
    type Error = AppError;

    fn try_from(b: AmendBody) -> AppResult<Amendment> {
        let target = required_text("target", b.target)?;
        let reason = required_text_max("reason", b.reason, AMEND_REASON_MAX)?;
        let correction = match target.as_str() {
            "minutes" => Correction::Minutes(MinutesText::parse(b.minutes, b.decisions.unwrap_or_default())?),
            "attendance" => Correction::Attendance {
                person_id: required("person_id", parse_id("person_id", b.person_id)?)?,
                state: parse_enum("state", &required_text("state", b.state)?, AttendanceState::parse)?,
                late: b.late.unwrap_or(false),
            },
            other => {
                return Err(RuleViolation::field("value_unknown", "target")
                    .arg("value", other)
                    .into());
            }
        };
        Ok(Amendment { correction, reason })
    }
}

/// Stores an amendment (the API's and the minutes page's): its id.
pub(crate) async fn amend_with(
    state: &AppState,
    auth: &Auth,
    id: i64,
    Amendment { correction, reason }: Amendment,
) -> AppResult<i64> {
    let scope = auth.scope(Cap::WriteOrg)?;
    let actor = auth.actor();
    Ok(match correction {
        Correction::Minutes(m) => {
            state
                .store
                .meetings()
                .amend_minutes(&scope, &actor, id, &m.minutes, &m.decisions, &reason)
                .await?
        }
        Correction::Attendance {
            person_id,
            state: st,
            late,
        } => {
            state
                .store
                .meetings()
                .amend_attendance(&scope, &actor, id, person_id, st, late, &reason)
                .await?
        }
    })
}

/// Corrections after close are for those who may change the organization's records
/// (secretary and above), not meeting staff.
pub async fn amend(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<AmendBody>,
) -> AppResult<(StatusCode, Json<AmendmentView>)> {
    let scope = auth.scope(Cap::WriteOrg)?;
    let amendment = amend_with(&state, &auth, id, b.try_into()?).await?;
    let rows = state.store.meetings().amendments(&scope, id).await?;
    let row = rows
        .iter()
        .find(|a| a.id == amendment)
        .ok_or(AppError::NotFound)?;
    Ok((
        StatusCode::CREATED,
        Json(AmendmentView::view(row, Clock::of(&state))),
    ))
}

pub async fn list_attachments(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<List<AttachmentView>>> {
    let scope = auth.scope(Cap::RunMeetings)?;
    let rows = state.store.meetings().attachments(&scope, id).await?;
    Ok(listed(&rows, Clock::of(&state)))
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

/// An upload checked: at most [`ATTACHMENT_MAX_BYTES`] (413), a type known by its content
/// (422 `attachment_type_unsupported`), its name cleaned (the API's and the minutes page's).
pub(crate) fn new_attachment(name: Option<&str>, data: Vec<u8>) -> AppResult<NewAttachment> {
    if data.len() > ATTACHMENT_MAX_BYTES {
        return Err(AppError::TooLarge);
    }
    let Some((content_type, ext)) = sniff(&data) else {
        return Err(RuleViolation::field("attachment_type_unsupported", "file").into());
    };
    Ok(NewAttachment {
        file_name: clean_name(name, ext),
        content_type,
        data,
    })
}

pub async fn upload(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    multipart: Result<Multipart, MultipartRejection>,
) -> AppResult<(StatusCode, Json<AttachmentView>)> {
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
    let new = new_attachment(name.as_deref(), data.to_vec())?;
    let row = state
        .store
        .meetings()
        .add_attachment(&scope, &auth.actor(), id, new)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(AttachmentView::view(&row, Clock::of(&state))),
    ))
}

/// Any file (an attachment is served with the type it was stored with).
pub const ANY_FILE: &str = "application/octet-stream";

pub async fn download(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((id, attachment_id)): ApiPath<(i64, i64)>,
) -> AppResult<Response> {
    let scope = auth.scope(Cap::RunMeetings)?;
    let (row, data) = state
        .store
        .meetings()
        .attachment(&scope, id, attachment_id)
        .await?;
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
        .meetings()
        .remove_attachment(&scope, &auth.actor(), id, attachment_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// When an attendance was corrected after close, and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct AmendedMark {
    pub reason: String,
    #[schema(format = DateTime)]
    pub at: String,
}

/// One person's attendance in detail.
#[derive(Debug, Serialize, ToSchema)]
pub struct DetailLineView {
    pub person_id: i64,
    pub name: String,
    pub org: String,
    pub guest: bool,
    /// `present`, `left_early`, `leave`, `absent`
    pub state: &'static str,
    pub late: bool,
    #[schema(format = DateTime)]
    pub checked_in_at: Option<String>,
    pub method: Option<&'static str>,
    #[schema(format = DateTime)]
    pub left_at: Option<String>,
    pub leave_reason: Option<String>,
    pub amended: Option<AmendedMark>,
}

impl DetailLineView {
    fn new(l: &DetailLine, clock: Clock) -> Self {
        Self {
            person_id: l.person_id,
            name: l.name.clone(),
            org: l.org_name.clone(),
            guest: l.guest,
            state: l.state.as_str(),
            late: l.late,
            checked_in_at: clock.time_opt(l.first_in),
            method: l.method.map(CheckinMethod::as_str),
            left_at: clock.time_opt(l.last_out),
            leave_reason: l.leave_reason.clone(),
            amended: l.amended.as_ref().map(|a| AmendedMark {
                reason: a.reason.clone(),
                at: clock.time(a.amended_at),
            }),
        }
    }
}

/// The meeting, its counts and each person's attendance in detail.
#[derive(Debug, Serialize, ToSchema)]
pub struct DetailView {
    pub meeting: RecordMeetingView,
    #[serde(flatten)]
    pub counts: CountsView,
    pub people: Vec<DetailLineView>,
}

pub async fn detail(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<DetailView>> {
    let scope = auth.scope(Cap::RunMeetings)?;
    let d = state.store.meetings().attendance_detail(&scope, id).await?;
    let clock = Clock::of(&state);
    Ok(Json(DetailView {
        meeting: RecordMeetingView::new(&d.meeting, clock),
        counts: d.counts.into(),
        people: d.lines.iter().map(|l| DetailLineView::new(l, clock)).collect(),
    }))
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

/// `?year=` (default this year).
pub(crate) async fn ledger_of_year(
    state: &AppState,
    auth: &Auth,
    id: i64,
    year: Option<String>,
) -> AppResult<(dangjian_store::Scope, i32, Vec<LedgerItem>)> {
    let scope = auth.scope(Cap::RunMeetings)?;
    let year = parse_year(year, state.store.today().year())?;
    let items = state.store.meetings().ledger_list(&scope, id, year).await?;
    Ok((scope, year, items))
}

/// One meeting of the register with its counts.
#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerItemView {
    #[serde(flatten)]
    pub meeting: RecordMeetingView,
    pub counts: CountsView,
}

pub async fn ledger(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<YearQuery>,
) -> AppResult<Json<List<LedgerItemView>>> {
    let (_, _, items) = ledger_of_year(&state, &auth, id, q.year).await?;
    let clock = Clock::of(&state);
    Ok(Json(List::all(
        items
            .iter()
            .map(|i| LedgerItemView {
                meeting: RecordMeetingView::new(&i.meeting, clock),
                counts: i.counts.into(),
            })
            .collect(),
    )))
}

/// A meeting of a member's history and their attendance there.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryView {
    pub meeting_id: i64,
    pub kind: &'static str,
    pub title: String,
    #[schema(format = DateTime)]
    pub starts_at: String,
    /// `present`, `left_early`, `leave`, `absent`
    pub state: &'static str,
    pub late: bool,
    pub amended: bool,
}

impl ViewOf<HistoryLine> for HistoryView {
    fn view(h: &HistoryLine, clock: Clock) -> Self {
        Self {
            meeting_id: h.meeting_id,
            kind: h.kind.as_str(),
            title: h.title.clone(),
            starts_at: clock.time(h.starts_at),
            state: h.state.as_str(),
            late: h.late,
            amended: h.amended,
        }
    }
}

pub async fn member_history(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<List<HistoryView>>> {
    let scope = auth.scope(Cap::ReadMembers)?;
    let (_, rows) = state.store.meetings().member_attendance(&scope, id).await?;
    Ok(listed(&rows, Clock::of(&state)))
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
