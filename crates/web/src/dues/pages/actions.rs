//! The collector's page actions beyond payments: the branch's discussion and the 党委's decision
//! on hardship applications, and arrears cases for the 支部大会.

use axum::extract::{Path, State};
use axum::response::Response;
use dangjian_rules::RuleViolation;
use dangjian_store::Cap;
use dangjian_store::dues::arrears::CaseOutcome;
use serde::Deserialize;

use super::after_collector_post;
use crate::AppState;
use crate::auth::Auth;
use crate::error::AppError;
use crate::extract::parse_date;
use crate::page::{PageForm, PageUpload};

/// Where the form came from, to go back to it.
#[derive(Deserialize)]
pub struct ActionForm {
    org: i64,
    year: i64,
    month: i64,
    /// "1" yes, anything else no (discussion, decision).
    yes: Option<String>,
    meeting_on: Option<String>,
    note: Option<String>,
    outcome: Option<String>,
    person_id: Option<i64>,
}

impl ActionForm {
    fn meeting_on(&self) -> Result<Option<time::Date>, AppError> {
        match self
            .meeting_on
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(s) => parse_date("meeting_on", s).map(Some),
            None => Ok(None),
        }
    }
    fn note(&self) -> Option<String> {
        self.note.clone().filter(|n| !n.trim().is_empty())
    }
}

enum Action {
    Discuss(i64),
    Decide(i64),
    OpenCase,
    DecideCase(i64),
}

async fn act(state: AppState, a: Auth, f: ActionForm, action: Action) -> Response {
    let result = async {
        let scope = a.scope(Cap::CollectDues)?;
        let actor = a.actor();
        let yes = f.yes.as_deref() == Some("1");
        match action {
            Action::Discuss(id) => {
                let on = f
                    .meeting_on()?
                    .ok_or_else(|| AppError::Invalid(RuleViolation::field("field_required", "meeting_on")))?;
                state
                    .store
                    .dues()
                    .discuss_dues_hardship(&scope, &actor, id, yes, on, f.note())
                    .await?;
            }
            Action::Decide(id) => {
                state
                    .store
                    .dues()
                    .decide_dues_hardship(&scope, &actor, id, yes, f.note())
                    .await?;
            }
            Action::OpenCase => {
                let person = f
                    .person_id
                    .ok_or_else(|| AppError::Invalid(RuleViolation::field("field_required", "person_id")))?;
                state
                    .store
                    .dues()
                    .open_arrears_case(&scope, &actor, person)
                    .await?;
            }
            Action::DecideCase(id) => {
                let outcome =
                    f.outcome.as_deref().and_then(CaseOutcome::parse).ok_or_else(|| {
                        AppError::Invalid(RuleViolation::field("field_required", "outcome"))
                    })?;
                state
                    .store
                    .dues()
                    .decide_arrears_case(&scope, &actor, id, outcome, f.meeting_on()?, f.note())
                    .await?;
            }
        }
        Ok::<_, AppError>(())
    }
    .await;
    after_collector_post(&state, &a, (f.org, f.year, f.month), result).await
}

/// `POST /dues/hardships/{id}/discuss`.
pub async fn discuss(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    PageForm(a, f): PageForm<ActionForm>,
) -> Response {
    act(state, a, f, Action::Discuss(id)).await
}

/// `POST /dues/hardships/{id}/decide`.
pub async fn decide(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    PageForm(a, f): PageForm<ActionForm>,
) -> Response {
    act(state, a, f, Action::Decide(id)).await
}

/// `POST /dues/cases`.
pub async fn open_case(State(state): State<AppState>, PageForm(a, f): PageForm<ActionForm>) -> Response {
    act(state, a, f, Action::OpenCase).await
}

/// `POST /dues/cases/{id}/decide`.
pub async fn decide_case(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    PageForm(a, f): PageForm<ActionForm>,
) -> Response {
    act(state, a, f, Action::DecideCase(id)).await
}

/// `POST /dues/bases/import` (multipart: csrf_token, org, year, month, file, confirm): the
/// payroll sheet of bases from the collector's page; bad rows are listed on the page.
pub async fn import_bases(State(state): State<AppState>, PageUpload(a, form): PageUpload) -> Response {
    let get = |k: &str| form.text(k).to_owned();
    let num = |k: &str| get(k).trim().parse::<i64>().unwrap_or(0);
    let (org, year, month) = (num("org"), num("year"), num("month"));
    let result = async {
        let scope = a.scope(Cap::WriteMembers)?;
        let file = form
            .file_bytes()
            .ok_or_else(|| AppError::Invalid(RuleViolation::field("field_required", "file")))?;
        let (rows, mut errors) = crate::dues::api::import::parse_file(file.clone()).await?;
        if !errors.is_empty() {
            errors.sort_by_key(|e| e.row);
            return Err(AppError::Rows(errors));
        }
        let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&file));
        let confirmed = form.fields.contains_key("confirm");
        state
            .store
            .dues()
            .import_dues_bases(&scope, &a.actor(), org, year, rows, &sha, false, confirmed)
            .await?;
        Ok::<_, AppError>(())
    }
    .await;
    let result = result.map_err(|e| match e {
        AppError::Rows(rows) => {
            let locale = crate::i18n::current_locale();
            let lines: Vec<String> = rows
                .iter()
                .map(|r| {
                    let (column, message) = crate::member::roster::row_message(locale, r);
                    crate::i18n::t(
                        locale,
                        "dues.page.row_line",
                        &[
                            ("row", r.row.to_string()),
                            ("column", column),
                            ("message", message),
                        ],
                    )
                })
                .collect();
            AppError::Conflict(RuleViolation::new("dues_page_rows").arg("rows", lines.join("；")))
        }
        e => super::unconfirmed_as_refusal(e),
    });
    after_collector_post(&state, &a, (org, year, month), result).await
}
