//! The bulk-accounts action from the branch page: creates the logins and shows the initial
//! passwords once, as a printable list to cut into slips.

use askama::Template;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use dangjian_store::Cap;

use super::{CsrfForm, Shell, error_page, form_auth, render};
use crate::AppState;
use crate::api::account::{CreatedAccount, create_member_accounts};
use crate::error::AppError;

#[derive(Template)]
#[template(path = "accounts_created.html")]
struct AccountsPage {
    shell: Shell,
    org_name: String,
    accounts: Vec<CreatedAccount>,
}

pub async fn bulk_accounts(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(org_id): Path<i64>,
    Form(f): Form<CsrfForm>,
) -> Response {
    let a = match form_auth(&state, &headers, &f.csrf_token).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let result = async {
        let scope = a.scope(Cap::ManageAccounts)?;
        let org = state.store.org(&scope, org_id).await?;
        let accounts = create_member_accounts(&state, &a, org_id).await?;
        Ok::<_, AppError>((org.name, accounts))
    }
    .await;
    match result {
        Ok((org_name, accounts)) => render(
            &AccountsPage {
                shell: Shell::of(&a),
                org_name,
                accounts,
            },
            StatusCode::OK,
        ),
        Err(e) => error_page(Shell::of(&a), &e),
    }
}
