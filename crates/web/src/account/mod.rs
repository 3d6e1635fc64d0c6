//! Logins and grants (账号与权限): accounts, grants, resets, tokens of others, bulk logins for a subtree (a job when large).

pub mod api;
mod bulk_pages;
mod pages;

use crate::routes::Routes;

/// The feature's API routes (with their documentation) and pages.
pub(crate) fn routes(r: Routes) -> Routes {
    use axum::routing::{delete, get, post};
    let r = r
    .api(
        "post",
        "/api/v1/orgs/{id}/accounts",
        "accounts",
        "Create logins for all members of the subtree without one: 201 with the logins for a small batch, else 202 with a job",
        post(api::bulk_create),
    )
    .answers::<api::BulkAnswer>()
    .api(
        "get",
        "/api/v1/jobs/{id}",
        "accounts",
        "A background job's progress and, once, its answer (only for the login that started it)",
        get(api::job),
    )
    .answers::<api::JobView>()
    // accounts
    .api(
        "get",
        "/api/v1/users",
        "accounts",
        "Logins in the caller's subtree",
        get(api::list),
    )
    .answers_list::<api::UserView>()
    .api(
        "post",
        "/api/v1/users",
        "accounts",
        "Create a login with grants",
        post(api::create),
    )
    .takes::<api::UserBody>().answers::<api::LoginWithPassword>()
    .api(
        "post",
        "/api/v1/users/{id}/reset-password",
        "accounts",
        "Reset a password (forced change at next login)",
        post(api::reset_password),
    )
    .answers::<api::LoginWithPassword>()
    .api(
        "post",
        "/api/v1/users/{id}/disable",
        "accounts",
        "Disable a login",
        post(api::disable),
    )
    .answers::<api::LoginState>()
    .api(
        "post",
        "/api/v1/users/{id}/enable",
        "accounts",
        "Enable a login again",
        post(api::enable),
    )
    .answers::<api::LoginState>()
    .api(
        "post",
        "/api/v1/users/{id}/grants",
        "accounts",
        "Grant a role on an org subtree",
        post(api::add_grant),
    )
    .takes::<api::GrantBody>().answers::<api::GrantMade>()
    .api(
        "get",
        "/api/v1/users/{id}/tokens",
        "accounts",
        "The tokens of a login one may manage (admin, org_admin)",
        get(api::user_tokens),
    )
    .answers_list::<crate::session::api::TokenView>()
    .api(
        "delete",
        "/api/v1/grants/{id}",
        "accounts",
        "Revoke a grant",
        delete(api::remove_grant),
    )
    .answers::<crate::contract::Done>();
    r.page("/orgs/{id}/accounts", post(bulk_pages::bulk_accounts))
        .page("/accounts", get(pages::list))
        .page("/accounts/new", get(pages::new_form).post(pages::create))
        .page("/accounts/jobs/{id}", get(bulk_pages::job))
        .page("/accounts/{id}", get(pages::show))
        .page("/accounts/{id}/reset", post(pages::reset))
        .page("/accounts/{id}/disable", post(pages::disable))
        .page("/accounts/{id}/enable", post(pages::enable))
        .page("/accounts/{id}/grants", post(pages::add_grant))
        .page("/accounts/grants/{grant_id}/revoke", post(pages::revoke))
}
