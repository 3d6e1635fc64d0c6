//! Login, logout, who am I, bearer tokens, password change. Failed logins are counted per
//! username and per client address in one-minute windows shared by all nodes, before the
//! password is checked, and a username that keeps failing waits longer and longer.

use std::net::{IpAddr, SocketAddr};

use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use dangjian_rules::RuleViolation;
use dangjian_store::Cap;
use dangjian_store::account::ApiTokenRow;
use dangjian_store::account::{LoginAttempt, LoginLimits};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::{self, Auth, SESSION_COOKIE};
use crate::contract::row_view;
use crate::contract::{Done, List, rfc3339};
use crate::error::{AppError, AppResult, RetryAfter};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Page, required_text};

/// A username and password.
#[derive(Deserialize, ToSchema)]
pub struct LoginBody {
    username: Option<String>,
    password: Option<String>,
}

pub fn session_cookie(state: &AppState, headers: &HeaderMap, token: &str, max_age: i64) -> HeaderValue {
    let secure = state.cfg.cookie_secure
        || headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()) == Some("https");
    let value = format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{}",
        if secure { "; Secure" } else { "" }
    );
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The client's address: the peer, or behind a trusted proxy the address it forwards for.
pub fn client_ip(state: &AppState, peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
    state.cfg.trusted_proxies.client_ip(peer.ip(), headers)
}

/// Checks the credentials under the limits; returns the user id on success. In this order: a
/// cheap read refuses (429) what is plainly over the limit; a password-hash slot is taken (503
/// if none frees up in time); the attempt is recorded as failed in one transaction that decides
/// the limits (429 if over — so parallel attempts cannot all pass); only then is the password
/// verified, and a success takes the attempt back and resets the username's backoff.
pub async fn check_credentials(
    state: &AppState,
    client: IpAddr,
    username: &str,
    password: &str,
) -> AppResult<i64> {
    let user_bucket = format!("u:{username}");
    let addr_bucket = format!("a:{client}");
    let limits = LoginLimits {
        per_minute: state.cfg.login_failures_per_minute,
        backoff_after: state.cfg.login_backoff_after,
        backoff_max: state.cfg.login_backoff_max,
    };
    let too_many = |at| AppError::TooMany(RetryAfter::until(state.store.now(), at, state.store.local.offset));
    if let Some(at) = state
        .store
        .accounts()
        .login_refused_until(&user_bucket, &addr_bucket, &limits)
        .await?
    {
        return Err(too_many(at));
    }
    let permit = auth::password_permit(state).await?;
    let ticket = match state
        .store
        .accounts()
        .begin_login_attempt(&user_bucket, &addr_bucket, &limits)
        .await?
    {
        LoginAttempt::Admitted(ticket) => ticket,
        LoginAttempt::Refused { retry_at } => return Err(too_many(retry_at)),
    };
    let user = state.store.accounts().user_by_name(username).await?;
    let ok = match &user {
        Some(u) if !u.disabled => {
            auth::verify_password_blocking(permit, password.to_owned(), u.password_hash.clone()).await
        }
        // spend the same time whether or not the user exists
        _ => {
            let _ =
                auth::verify_password_blocking(permit, password.to_owned(), dummy_hash().to_owned()).await;
            false
        }
    };
    match user {
        Some(u) if ok => {
            state.store.accounts().login_succeeded(ticket).await?;
            Ok(u.id)
        }
        _ => Err(AppError::Unauthorized("bad_credentials")),
    }
}

/// The hash of a random password nobody knows: checking an unknown username against it costs
/// what a real check costs, so response times do not reveal which usernames exist.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| auth::hash_password(&auth::new_token()).unwrap_or_default())
}

/// Starts a session; returns the cookie header value and the CSRF token.
pub async fn start_session(
    state: &AppState,
    headers: &HeaderMap,
    user_id: i64,
) -> AppResult<(HeaderValue, String)> {
    let token = auth::new_token();
    let csrf = auth::new_token();
    state
        .store
        .accounts()
        .create_session(user_id, &token, &csrf, state.cfg.session_ttl)
        .await?;
    Ok((
        session_cookie(state, headers, &token, state.cfg.session_ttl.whole_seconds()),
        csrf,
    ))
}

/// A new session (its cookie is set): the CSRF token unsafe requests must echo.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginAnswer {
    pub csrf_token: String,
    pub username: String,
    /// The login has an initial or reset password: change it first (`POST /api/v1/password`).
    pub must_change_password: bool,
}

pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<LoginBody>,
) -> AppResult<Response> {
    let username = required_text("username", body.username)?;
    let password = body
        .password
        .filter(|p| !p.is_empty())
        .ok_or(RuleViolation::field("field_required", "password"))?;
    let client = client_ip(&state, addr, &headers);
    let user_id = check_credentials(&state, client, &username, &password).await?;
    let (cookie, csrf) = start_session(&state, &headers, user_id).await?;
    let user = state
        .store
        .accounts()
        .user_by_id(user_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let body = LoginAnswer {
        csrf_token: csrf,
        username: user.username,
        must_change_password: user.must_change_password,
    };
    Ok(([(header::SET_COOKIE, cookie)], Json(body)).into_response())
}

pub async fn logout(State(state): State<AppState>, headers: HeaderMap, _auth: Auth) -> AppResult<Response> {
    if let Some(token) = auth::cookie_value(&headers, SESSION_COOKIE) {
        state.store.accounts().delete_session(&token).await?;
    }
    let cookie = session_cookie(&state, &headers, "", 0);
    Ok((StatusCode::OK, [(header::SET_COOKIE, cookie)], Json(Done::YES)).into_response())
}

/// The caller.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeView {
    pub username: String,
    /// The caller's own member record, if the login has one.
    pub person_id: Option<i64>,
    /// None for a bearer token (no CSRF needed).
    pub csrf_token: Option<String>,
    pub must_change_password: bool,
    /// `zh-CN` or `en`.
    pub locale: String,
    pub grants: Vec<GrantView>,
}

/// A role on an org's subtree.
#[derive(Debug, Serialize, ToSchema)]
pub struct GrantView {
    pub id: i64,
    /// `admin`, `org_admin`, `secretary`, `committee`, `staff`, `member`, `device`
    pub role: &'static str,
    pub org_id: i64,
}

pub async fn me(auth: Auth) -> Json<MeView> {
    let grants = auth
        .grants
        .list()
        .iter()
        .map(|g| GrantView {
            id: g.id,
            role: g.role.as_str(),
            org_id: g.org_id,
        })
        .collect();
    Json(MeView {
        username: auth.principal.username,
        person_id: auth.principal.person_id,
        csrf_token: auth.principal.csrf_token,
        must_change_password: auth.principal.must_change_password,
        locale: auth.principal.locale,
        grants,
    })
}

/// What the token is for (shown in the list), e.g. the device or script using it.
#[derive(Deserialize, ToSchema)]
pub struct TokenBody {
    name: Option<String>,
}

/// A bearer token for the caller, living `WebConfig::token_ttl` — no longer than the token the
/// request came with, if any, so a token cannot outlive itself through its children. A device
/// may not mint tokens (403 `device_cannot_create_tokens`): its one token is bound to it.
pub async fn create_token(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<TokenBody>,
) -> AppResult<(StatusCode, Json<NewToken>)> {
    if auth.principal.device_id.is_some() {
        return Err(AppError::Forbidden("device_cannot_create_tokens"));
    }
    let name = required_text("name", body.name)?;
    if name.chars().count() > 100 {
        return Err(RuleViolation::field("text_too_long", "name")
            .arg("max", 100)
            .into());
    }
    let mut expires_at = state.store.now() + state.cfg.token_ttl;
    if let Some(parent) = auth.principal.token.as_ref().and_then(|t| t.expires_at) {
        expires_at = expires_at.min(parent);
    }
    let token = auth::new_token();
    let id = state
        .store
        .accounts()
        .create_api_token(
            &auth.actor(),
            auth.principal.user_id,
            &name,
            &token,
            Some(expires_at),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(NewToken {
            id,
            name,
            token,
            expires_at: rfc3339(expires_at),
        }),
    ))
}

/// A new bearer token: the secret is in this answer only.
#[derive(Debug, Serialize, ToSchema)]
pub struct NewToken {
    pub id: i64,
    pub name: String,
    pub token: String,
    #[schema(format = DateTime)]
    pub expires_at: String,
}

row_view! {
    /// A token as its owner (or an admin) sees it: never the secret.
    #[derive(Debug, Serialize, ToSchema)]
    pub struct TokenView from ApiTokenRow as t {
        pub id: i64,
        pub name: String,
        #[schema(format = DateTime)]
        pub created_at: String = rfc3339(t.created_at),
        /// None: a device's token, valid until revoked.
        #[schema(format = DateTime)]
        pub expires_at: Option<String> = t.expires_at.map(rfc3339),
        /// To about ten minutes.
        #[schema(format = DateTime)]
        pub last_used_at: Option<String> = t.last_used_at.map(rfc3339),
    }
}

/// `{"id", "revoked": true}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Revoked {
    pub id: i64,
    pub revoked: bool,
}

/// The caller's own tokens that are not revoked (never the secret).
pub async fn list_tokens(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(page): ApiQuery<Page>,
) -> AppResult<Json<List<TokenView>>> {
    let (rows, total) = state
        .store
        .accounts()
        .api_tokens(auth.principal.user_id, page.limit(), page.offset())
        .await?;
    Ok(Json(List::page(rows, total)))
}

/// Revokes a token: one's own, or (admin, org_admin) one of a login the caller may manage
/// (`api::account::managed_login` with `Cap::ManageTokens`). Anyone else's is not found.
pub async fn revoke_token(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<Revoked>> {
    let owner = state
        .store
        .accounts()
        .api_token_owner(id)
        .await?
        .ok_or(AppError::NotFound)?;
    if owner != auth.principal.user_id {
        if auth.grants.scope(Cap::ManageTokens).is_err() {
            return Err(AppError::NotFound);
        }
        crate::account::api::managed_login(&state, &auth, Cap::ManageTokens, owner).await?;
    }
    state.store.accounts().revoke_api_token(&auth.actor(), id).await?;
    Ok(Json(Revoked { id, revoked: true }))
}

/// The current password and the new one (8+ characters, letters and digits).
#[derive(Deserialize, ToSchema)]
pub struct PasswordBody {
    old_password: Option<String>,
    new_password: Option<String>,
}

/// Minimum password rules: 8+ characters with letters and digits.
pub fn check_new_password(pw: &str) -> AppResult<()> {
    let long_enough = pw.chars().count() >= 8;
    let letters = pw.chars().any(|c| c.is_alphabetic());
    let digits = pw.chars().any(|c| c.is_ascii_digit());
    if long_enough && letters && digits {
        Ok(())
    } else {
        Err(RuleViolation::field("password_too_weak", "new_password").into())
    }
}

/// Changed; every session ended, and a browser gets a fresh one with this CSRF token.
#[derive(Debug, Serialize, ToSchema)]
pub struct PasswordChanged {
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csrf_token: Option<String>,
}

pub async fn change_password(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    auth: Auth,
    ApiJson(body): ApiJson<PasswordBody>,
) -> AppResult<Response> {
    let old = body.old_password.unwrap_or_default();
    let new = required_text("new_password", body.new_password)?;
    check_new_password(&new)?;
    if old == new {
        return Err(RuleViolation::field("password_unchanged", "new_password").into());
    }
    let client = client_ip(&state, addr, &headers);
    match check_credentials(&state, client, &auth.principal.username, &old).await {
        Ok(_) => {}
        // over the limit or busy: said as such, not as a wrong password
        Err(e @ (AppError::TooMany(_) | AppError::Busy(_))) => return Err(e),
        Err(_) => return Err(RuleViolation::field("password_wrong", "old_password").into()),
    }
    let hash = auth::hash_password_blocking(&state, new).await?;
    state
        .store
        .accounts()
        .set_password(&auth.actor(), auth.principal.user_id, &hash, false)
        .await?;
    // every session was ended; give this browser a fresh one
    if auth.principal.csrf_token.is_some() {
        let (cookie, csrf) = start_session(&state, &headers, auth.principal.user_id).await?;
        return Ok((
            [(header::SET_COOKIE, cookie)],
            Json(PasswordChanged {
                ok: true,
                csrf_token: Some(csrf),
            }),
        )
            .into_response());
    }
    Ok(Json(PasswordChanged {
        ok: true,
        csrf_token: None,
    })
    .into_response())
}
