//! Login, logout, who am I, bearer tokens, password change. Failed logins are counted per
//! username and per client address in one-minute windows shared by all nodes.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use dangjian_rules::RuleViolation;
use serde::Deserialize;
use serde_json::{Value, json};
use time::macros::format_description;

use crate::AppState;
use crate::auth::{self, Auth, SESSION_COOKIE};
use crate::error::{AppError, AppResult};
use crate::extract::{ApiJson, required_text};

#[derive(Deserialize)]
pub struct LoginBody {
    username: Option<String>,
    password: Option<String>,
}

fn minute_key(state: &AppState) -> String {
    state
        .store
        .now()
        .format(format_description!("[year]-[month]-[day]T[hour]:[minute]"))
        .unwrap_or_default()
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

/// Checks the credentials and the rate limit; returns the user id on success.
pub async fn check_credentials(
    state: &AppState,
    addr: SocketAddr,
    username: &str,
    password: &str,
) -> AppResult<i64> {
    let minute = minute_key(state);
    let user_bucket = format!("u:{username}");
    let addr_bucket = format!("a:{}", addr.ip());
    let buckets = [user_bucket.as_str(), addr_bucket.as_str()];
    if state.store.login_failures(&buckets, &minute).await? >= state.cfg.login_failures_per_minute {
        return Err(AppError::TooMany);
    }
    let user = state.store.user_by_name(username).await?;
    let ok = match &user {
        Some(u) if !u.disabled => {
            auth::verify_password_blocking(password.to_owned(), u.password_hash.clone()).await
        }
        // spend the same time whether or not the user exists
        _ => {
            let _ = auth::verify_password_blocking(password.to_owned(), dummy_hash().to_owned()).await;
            false
        }
    };
    match user {
        Some(u) if ok => Ok(u.id),
        _ => {
            state.store.record_login_failure(&buckets, &minute).await?;
            Err(AppError::Unauthorized("bad_credentials"))
        }
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
        .create_session(user_id, &token, &csrf, state.cfg.session_ttl)
        .await?;
    Ok((
        session_cookie(state, headers, &token, state.cfg.session_ttl.whole_seconds()),
        csrf,
    ))
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
    let user_id = check_credentials(&state, addr, &username, &password).await?;
    let (cookie, csrf) = start_session(&state, &headers, user_id).await?;
    let user = state.store.user_by_id(user_id).await?.ok_or(AppError::NotFound)?;
    let body = json!({"csrf_token": csrf, "username": user.username, "must_change_password": user.must_change_password});
    Ok(([(header::SET_COOKIE, cookie)], Json(body)).into_response())
}

pub async fn logout(State(state): State<AppState>, headers: HeaderMap, _auth: Auth) -> AppResult<Response> {
    if let Some(token) = auth::cookie_value(&headers, SESSION_COOKIE) {
        state.store.delete_session(&token).await?;
    }
    let cookie = session_cookie(&state, &headers, "", 0);
    Ok((
        StatusCode::OK,
        [(header::SET_COOKIE, cookie)],
        Json(json!({"ok": true})),
    )
        .into_response())
}

pub async fn me(auth: Auth) -> Json<Value> {
    Json(json!({
        "username": auth.principal.username,
        "person_id": auth.principal.person_id,
        "csrf_token": auth.principal.csrf_token,
        "must_change_password": auth.principal.must_change_password,
        "locale": auth.principal.locale,
        "grants": auth.grants.list().iter().map(|g| json!({"id": g.id, "role": g.role, "org_id": g.org_id})).collect::<Vec<_>>(),
    }))
}

#[derive(Deserialize)]
pub struct TokenBody {
    name: Option<String>,
}

pub async fn create_token(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<TokenBody>,
) -> AppResult<(StatusCode, Json<Value>)> {
    let name = required_text("name", body.name)?;
    let token = auth::new_token();
    let id = state
        .store
        .create_api_token(&auth.actor(), auth.principal.user_id, &name, &token)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": id, "name": name, "token": token})),
    ))
}

#[derive(Deserialize)]
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
    if check_credentials(&state, addr, &auth.principal.username, &old)
        .await
        .is_err()
    {
        return Err(RuleViolation::field("password_wrong", "old_password").into());
    }
    let hash = auth::hash_password_blocking(new).await?;
    state
        .store
        .set_password(&auth.actor(), auth.principal.user_id, &hash, false)
        .await?;
    // every session was ended; give this browser a fresh one
    if auth.principal.csrf_token.is_some() {
        let (cookie, csrf) = start_session(&state, &headers, auth.principal.user_id).await?;
        return Ok((
            [(header::SET_COOKIE, cookie)],
            Json(json!({"ok": true, "csrf_token": csrf})),
        )
            .into_response());
    }
    Ok(Json(json!({"ok": true})).into_response())
}
