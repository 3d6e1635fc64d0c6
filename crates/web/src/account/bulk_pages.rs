//! The bulk-accounts action from the branch page: creates the logins and shows the initial
//! passwords once, as a printable list to cut into slips. A large subtree runs as a job
//! (`jobs.rs`): its page shows the progress, then the slips — once.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use crate::AppState;
use crate::account::api::{BulkAccounts, CreatedAccount, start_member_accounts};
use crate::error::AppError;
use crate::jobs::{self, JobState};
use crate::page::{CsrfForm, Shell, error_page, render};
use crate::page::{PageForm, PageUser};

#[derive(Template)]
#[template(path = "account/created.html")]
struct AccountsPage {
    shell: Shell,
    org_name: String,
    accounts: Vec<CreatedAccount>,
}

#[derive(Template)]
#[template(path = "account/job.html")]
struct JobPage {
    shell: Shell,
    org_name: String,
    running: bool,
    total: usize,
    hashed: usize,
    created: usize,
    percent: usize,
}

pub async fn bulk_accounts(
    State(state): State<AppState>,
    Path(org_id): Path<i64>,
    PageForm(a, _f): PageForm<CsrfForm>,
) -> Response {
    match start_member_accounts(&state, &a, org_id).await {
        Ok(BulkAccounts::Made { org_name, accounts }) => render(
            &AccountsPage {
                shell: Shell::of(&a),
                org_name,
                accounts,
            },
            StatusCode::OK,
        ),
        Ok(BulkAccounts::Started { job_id, .. }) => {
            Redirect::to(&format!("/accounts/jobs/{job_id}")).into_response()
        }
        Err(e) => error_page(Shell::of(&a), &e),
    }
}

/// A bulk job's page for the login that started it: progress (reloading itself) while it runs,
/// then the slips, once; afterwards only that they were shown.
pub async fn job(State(state): State<AppState>, PageUser(a): PageUser, Path(id): Path<String>) -> Response {
    let Some(job) = state.jobs.get(&id, a.principal.user_id) else {
        return error_page(Shell::of(&a), &AppError::NotFound);
    };
    let mut j = jobs::lock(&job);
    let running = j.state == JobState::Running;
    if !running && let Some(accounts) = j.take_result() {
        let shell = match &j.error {
            Some((_, message)) => Shell::of(&a).with_error(message.clone()),
            None => Shell::of(&a),
        };
        return render(
            &AccountsPage {
                shell,
                org_name: j.org_name.clone(),
                accounts,
            },
            StatusCode::OK,
        );
    }
    let percent = (j.hashed + j.created) * 100 / (2 * j.total.max(1));
    render(
        &JobPage {
            shell: Shell::of(&a),
            org_name: j.org_name.clone(),
            running,
            total: j.total,
            hashed: j.hashed,
            created: j.created,
            percent,
        },
        StatusCode::OK,
    )
}
