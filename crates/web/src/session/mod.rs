//! Sessions and tokens: log in and out, the caller, bearer tokens, password changes, the
//! language setting.

pub mod api;
mod pages;

use api::{
    LoginAnswer, LoginBody, MeView, NewToken, PasswordBody, PasswordChanged, Revoked, TokenBody, TokenView,
};
use axum::middleware::from_fn;

use crate::contract::Done;
use crate::extract::small_body;
use crate::routes::Routes;

/// The feature's API routes (with their documentation and contracts) and pages.
#[rustfmt::skip]
pub(crate) fn routes(r: Routes) -> Routes {
    use axum::routing::{delete, get, post};
    r.api("post", "/api/v1/login", "auth", "Log in; sets the session cookie, returns csrf_token",
          post(api::login).layer(from_fn(small_body)))
        .takes::<LoginBody>().answers::<LoginAnswer>()
    .api("post", "/api/v1/logout", "auth", "End the session", post(api::logout))
        .answers::<Done>()
    .api("get", "/api/v1/me", "auth", "The caller: username, person_id, csrf_token, grants", get(api::me))
        .answers::<MeView>()
    .api("post", "/api/v1/tokens", "auth",
         "Create a bearer token for the caller (expires after the deployment's token lifetime; not for devices)",
         post(api::create_token).layer(from_fn(small_body)))
        .takes::<TokenBody>().answers::<NewToken>()
    .api("get", "/api/v1/tokens", "auth",
         "The caller's tokens that are not revoked: id, name, created_at, expires_at, last_used_at (never the secret)",
         get(api::list_tokens))
        .answers_list::<TokenView>()
    .api("delete", "/api/v1/tokens/{id}", "auth",
         "Revoke a token: one's own, or (admin, org_admin) one of a login one may manage",
         delete(api::revoke_token))
        .answers::<Revoked>()
    .api("post", "/api/v1/password", "auth", "Change one's own password",
         post(api::change_password).layer(from_fn(small_body)))
        .takes::<PasswordBody>().answers::<PasswordChanged>()
    // pages
    .page("/login", get(pages::login_form).post(pages::login_submit).layer(from_fn(small_body)))
    .page("/logout", post(pages::logout_submit))
    .page("/password", get(pages::password_form).post(pages::password_submit).layer(from_fn(small_body)))
    .page("/settings/language", post(pages::set_language))
}
