//! The roster import page: upload an Excel file into a branch or group, check it first (dry run),
//! see every bad row with its Excel row number, column and reason, then import — all or nothing.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use dangjian_store::Cap;
use serde::Deserialize;

use crate::AppState;
use crate::auth::Auth;
use crate::error::AppError;
use crate::i18n::current_locale;
use crate::page::{PageUpload, PageUser};
use crate::page::{Shell, error_page, render};

#[derive(Template)]
#[template(path = "member/import.html")]
struct ImportPage {
    shell: Shell,
    org: (i64, String),
    /// Some(n): the last run passed (a dry run found n valid rows).
    checked: Option<usize>,
    /// (row, column, message)
    rows: Vec<(u32, String, String)>,
    dry_run: bool,
}

#[derive(Deserialize)]
pub struct OrgQuery {
    org: i64,
}

async fn target(state: &AppState, a: &Auth, org_id: i64) -> Result<(i64, String), AppError> {
    let scope = a.scope(Cap::WriteMembers)?;
    let org = crate::member::roster::import::target_org(&state.store, &scope, org_id).await?;
    Ok((org.id, org.name))
}

pub async fn form(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Query(q): Query<OrgQuery>,
) -> Response {
    match target(&state, &a, q.org).await {
        Ok(org) => render(
            &ImportPage {
                shell: Shell::of(&a),
                org,
                checked: None,
                rows: Vec::new(),
                dry_run: true,
            },
            StatusCode::OK,
        ),
        Err(e) => error_page(Shell::of(&a), &e),
    }
}

pub async fn submit(State(state): State<AppState>, PageUpload(a, form): PageUpload) -> Response {
    let org_id: Option<i64> = form.text("org").parse().ok();
    let dry_run = form.text("dry_run") == "true";
    let org = match target(&state, &a, org_id.unwrap_or(-1)).await {
        Ok(org) => org,
        Err(e) => return error_page(Shell::of(&a), &e),
    };
    let file = form.file_bytes().unwrap_or_default();
    let result = async {
        let scope = a.scope(Cap::WriteMembers)?;
        crate::member::roster::import::run(&state.store, &scope, &a.actor(), org.0, file, dry_run).await
    }
    .await;
    let page = |shell: Shell, checked, rows, status| {
        render(
            &ImportPage {
                shell,
                org: org.clone(),
                checked,
                rows,
                dry_run,
            },
            status,
        )
    };
    match result {
        Ok(n) if dry_run => page(Shell::of(&a), Some(n), Vec::new(), StatusCode::OK),
        Ok(n) => {
            let _ = n;
            Redirect::to(&format!("/members?org={}&subtree=true&imported={n}", org.0)).into_response()
        }
        Err(e @ AppError::Rows(_)) => {
            let summary = e.message();
            let AppError::Rows(errors) = e else {
                unreachable!("matched above")
            };
            let locale = current_locale();
            let rows = errors
                .iter()
                .map(|e| {
                    let (column, message) = crate::member::roster::row_message(locale, e);
                    (e.row, column, message)
                })
                .collect();
            let shell = Shell::of(&a).with_error(summary);
            page(shell, None, rows, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e @ (AppError::Invalid(_) | AppError::TooLarge)) => page(
            Shell::of(&a).with_error(e.message()),
            None,
            Vec::new(),
            e.status(),
        ),
        Err(e) => error_page(Shell::of(&a), &e),
    }
}
