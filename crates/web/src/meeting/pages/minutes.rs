//! `/meetings/{id}/minutes`: write the minutes and 决议 items and upload attachments while the
//! meeting is open; after close the record is read-only and corrections are amendments with a
//! reason (minutes, or one person's attendance), listed under it. Same store calls as the API.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use dangjian_rules::RuleViolation;
use dangjian_rules::meeting::AttendanceState;
use dangjian_store::Cap;
use dangjian_store::meeting::minutes::AttachmentRow;
use dangjian_store::meeting::plan::PlanRow;
use serde::Deserialize;

use super::local;
use crate::AppState;
use crate::auth::Auth;
use crate::error::AppError;
use crate::meeting::api::records::{
    AMEND_REASON_MAX, Amendment, Correction, MinutesText, amend_with, new_attachment,
};
use crate::meeting::api::required_text_max;
use crate::page::{PageForm, PageUpload, PageUser};
use crate::page::{Shell, error_page, render};

pub(crate) struct AmendLine {
    pub at: String,
    pub target: String,
    pub reason: String,
}

#[derive(Template)]
#[template(path = "meeting/ledger_minutes.html")]
struct MinutesPage {
    shell: Shell,
    m: PlanRow,
    editable: bool,
    can_amend: bool,
    minutes: String,
    decisions: String,
    attachments: Vec<AttachmentRow>,
    people: Vec<(i64, String, &'static str)>,
    amendments: Vec<AmendLine>,
    states: Vec<(&'static str, &'static str)>,
}

async fn minutes_page(
    state: &AppState,
    a: &Auth,
    id: i64,
    shell: Shell,
    status: StatusCode,
) -> Result<Response, AppError> {
    let scope = a.scope(Cap::RunMeetings)?;
    let m = state.store.meetings().meeting_plan(&scope, id).await?;
    let minutes = state.store.meetings().minutes(&scope, id).await?;
    let attachments = state.store.meetings().attachments(&scope, id).await?;
    let amendments = state.store.meetings().amendments(&scope, id).await?;
    let sheet = state.store.meetings().attendance(&scope, id).await?;
    let offset = state.store.local.offset;
    let page = MinutesPage {
        editable: !m.is_closed(),
        can_amend: m.is_closed() && a.scope(Cap::WriteOrg).is_ok_and(|s| s.contains_path(&m.org_path)),
        minutes: minutes.minutes,
        decisions: minutes.decisions.join("\n"),
        attachments,
        people: sheet
            .lines
            .iter()
            .map(|l| (l.line.person_id, l.name.clone(), l.line.state.label_zh()))
            .collect(),
        amendments: amendments
            .iter()
            .map(|x| AmendLine {
                at: local(x.created_at, offset),
                target: x.target.clone(),
                reason: x.reason.clone(),
            })
            .collect(),
        states: AttendanceState::ALL
            .iter()
            .map(|s| (s.as_str(), s.label_zh()))
            .collect(),
        m,
        shell,
    };
    Ok(render(&page, status))
}

pub async fn page(State(state): State<AppState>, PageUser(a): PageUser, Path(id): Path<i64>) -> Response {
    minutes_page(&state, &a, id, Shell::of(&a), StatusCode::OK)
        .await
        .unwrap_or_else(|e| error_page(Shell::of(&a), &e))
}

#[derive(Deserialize)]
pub struct MinutesForm {
    action: String,
    minutes: Option<String>,
    decisions: Option<String>,
    reason: Option<String>,
    person_id: Option<String>,
    state: Option<String>,
    late: Option<String>,
    attachment_id: Option<String>,
}

fn lines(s: Option<&str>) -> Vec<String> {
    s.unwrap_or("")
        .lines()
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect()
}

async fn apply(state: &AppState, a: &Auth, id: i64, f: MinutesForm) -> Result<(), AppError> {
    let reason = || required_text_max("reason", f.reason.clone(), AMEND_REASON_MAX);
    let correction = match f.action.as_str() {
        "save" | "amend_minutes" => {
            let text = MinutesText {
                minutes: f.minutes.clone().unwrap_or_default().trim().to_owned(),
                decisions: lines(f.decisions.as_deref()),
            };
            if f.action == "save" {
                let scope = a.scope(Cap::RunMeetings)?;
                state
                    .store
                    .meetings()
                    .set_minutes(&scope, &a.actor(), id, &text.minutes, &text.decisions)
                    .await?;
                return Ok(());
            }
            a.scope(Cap::WriteOrg)?;
            Correction::Minutes(text)
        }
        "amend_attendance" => {
            a.scope(Cap::WriteOrg)?;
            let person_id: i64 = f
                .person_id
                .as_deref()
                .and_then(|p| p.trim().parse().ok())
                .ok_or_else(|| AppError::from(RuleViolation::field("field_required", "person_id")))?;
            Correction::Attendance {
                person_id,
                state: crate::extract::parse_enum(
                    "state",
                    f.state.as_deref().unwrap_or(""),
                    AttendanceState::parse,
                )?,
                late: f.late.is_some(),
            }
        }
        "delete_attachment" => {
            let scope = a.scope(Cap::RunMeetings)?;
            let aid: i64 = f
                .attachment_id
                .as_deref()
                .and_then(|x| x.parse().ok())
                .ok_or(AppError::NotFound)?;
            state
                .store
                .meetings()
                .remove_attachment(&scope, &a.actor(), id, aid)
                .await?;
            return Ok(());
        }
        _ => return Err(AppError::NotFound),
    };
    let amendment = Amendment {
        correction,
        reason: reason()?,
    };
    amend_with(state, a, id, amendment).await?;
    Ok(())
}

/// Back to the minutes page, or the page again with the refusal on top.
async fn after(state: &AppState, a: &Auth, id: i64, result: Result<(), AppError>) -> Response {
    match result {
        Ok(()) => Redirect::to(&format!("/meetings/{id}/minutes")).into_response(),
        Err(AppError::NotFound) => error_page(Shell::of(a), &AppError::NotFound),
        Err(e) => {
            let status = e.status();
            let shell = Shell::of(a).with_error(e.message());
            minutes_page(state, a, id, shell, status)
                .await
                .unwrap_or_else(|e2| error_page(Shell::of(a), &e2))
        }
    }
}

pub async fn submit(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    PageForm(a, f): PageForm<MinutesForm>,
) -> Response {
    let result = apply(&state, &a, id, f).await;
    after(&state, &a, id, result).await
}

/// The upload form (multipart `csrf_token`, `file`).
pub async fn upload(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    PageUpload(a, form): PageUpload,
) -> Response {
    let file = form.file.map(|(name, bytes)| (name, bytes.to_vec()));
    let result: Result<(), AppError> = async {
        let scope = a.scope(Cap::RunMeetings)?;
        let (name, data) = file
            .filter(|f| !f.1.is_empty())
            .ok_or_else(|| AppError::from(RuleViolation::field("field_required", "file")))?;
        let new = new_attachment(name.as_deref(), data)?;
        state
            .store
            .meetings()
            .add_attachment(&scope, &a.actor(), id, new)
            .await?;
        Ok(())
    }
    .await;
    after(&state, &a, id, result).await
}
