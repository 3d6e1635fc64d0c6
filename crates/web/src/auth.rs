//! Who is asking: a session cookie (browser; unsafe methods must carry the CSRF token) or a
//! bearer token (devices, integrators; no CSRF). `Auth` is the permission guard's input: its
//! `scope` turns the caller's grants into the visible subtree for one capability.

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use dangjian_store::account::Principal;
use dangjian_store::{Actor, Cap, Grants, Scope};

use crate::AppState;
use crate::error::{AppError, AppResult};

pub const SESSION_COOKIE: &str = "dj_session";

/// A fresh random token (256 bits, URL-safe).
pub fn new_token() -> String {
    URL_SAFE_NO_PAD.encode(dangjian_store::keys::random_bytes::<32>())
}

pub fn hash_password(password: &str) -> AppResult<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(anyhow::anyhow!("hashing a password: {e}")))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// A slot to compute one password hash: at most `WebConfig::password_hashes` run at once, so a
/// burst of logins cannot take every core and all the memory (19 MiB each). One waits up to
/// `password_hash_wait` for a slot, then gets 503 `server_busy` with a `Retry-After`.
pub async fn password_permit(state: &AppState) -> AppResult<tokio::sync::OwnedSemaphorePermit> {
    match slot_within(&state.hash_permits, state.cfg.password_hash_wait).await {
        Some(permit) => Ok(permit),
        None => {
            let now = state.store.now();
            Err(AppError::Busy(crate::error::RetryAfter::until(
                now,
                now + time::Duration::seconds(1),
                state.store.local.offset,
            )))
        }
    }
}

/// A permit of `slots` if one frees up within `wait` (a free one is taken even with no wait).
async fn slot_within(
    slots: &std::sync::Arc<tokio::sync::Semaphore>,
    wait: std::time::Duration,
) -> Option<tokio::sync::OwnedSemaphorePermit> {
    tokio::time::timeout(wait, slots.clone().acquire_owned())
        .await
        .ok()
        .and_then(Result::ok)
}

/// Hashes off the async workers, holding `permit` until the hash is done (even if the request
/// is dropped meanwhile, the slot stays taken while the CPU works).
pub async fn hash_with(permit: tokio::sync::OwnedSemaphorePermit, password: String) -> AppResult<String> {
    tokio::task::spawn_blocking(move || {
        let _slot = permit;
        hash_password(&password)
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))?
}

/// Hashing costs tens of milliseconds of CPU: keep it off the async workers, in a slot.
pub async fn hash_password_blocking(state: &AppState, password: String) -> AppResult<String> {
    let permit = password_permit(state).await?;
    hash_with(permit, password).await
}

/// Verifies off the async workers, holding `permit` until done.
pub async fn verify_password_blocking(
    permit: tokio::sync::OwnedSemaphorePermit,
    password: String,
    hash: String,
) -> bool {
    tokio::task::spawn_blocking(move || {
        let _slot = permit;
        verify_password(&password, &hash)
    })
    .await
    .unwrap_or(false)
}

/// Compares two secrets in a time that does not depend on where they first differ, so a
/// guesser cannot learn a token byte by byte from response times. (Lengths are not secret: our
/// tokens all have one length.)
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a
        .iter()
        .zip(b)
        .fold(0u8, |acc, (x, y)| std::hint::black_box(acc | (x ^ y)));
    diff == 0
}

/// Whether `sent` is the session's CSRF token `expected` (constant time).
pub fn csrf_matches(expected: Option<&str>, sent: Option<&str>) -> bool {
    match (expected, sent) {
        (Some(e), Some(s)) => constant_time_eq(e.as_bytes(), s.as_bytes()),
        _ => false,
    }
}

pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// A logged-in caller with their grants.
#[derive(Clone, Debug)]
pub struct Auth {
    pub principal: Principal,
    pub grants: Grants,
}

impl Auth {
    /// The permission guard: the scope this caller has for `cap` (403 when no grant carries it).
    pub fn scope(&self, cap: Cap) -> AppResult<Scope> {
        Ok(self.grants.scope(cap)?)
    }
    pub fn actor(&self) -> Actor {
        Actor {
            user_id: Some(self.principal.user_id),
            name: self.principal.username.clone(),
        }
    }
    /// An administrator of the whole deployment (admin over every top-level organization), not
    /// of one subtree: may create top-level organizations and see audit rows tied to none.
    pub async fn is_global_admin(&self, state: &AppState) -> AppResult<bool> {
        Ok(state.store.orgs().is_global_admin(&self.grants).await?)
    }
}

/// Finds the caller from the request, without enforcing anything.
pub async fn identify(state: &AppState, headers: &HeaderMap) -> AppResult<Option<Auth>> {
    let principal = if let Some(token) = bearer(headers) {
        return match state.store.accounts().token_auth(token).await? {
            Some((principal, grants)) => Ok(Some(Auth { principal, grants })),
            None => Err(AppError::Unauthorized("invalid_token")),
        };
    } else if let Some(token) = cookie_value(headers, SESSION_COOKIE) {
        state.store.accounts().session_principal(&token).await?
    } else {
        None
    };
    let Some(principal) = principal else {
        return Ok(None);
    };
    let grants = state
        .store
        .accounts()
        .grants(principal.user_id, principal.person_id)
        .await?;
    Ok(Some(Auth { principal, grants }))
}

/// Paths a user who must change their password may still use.
const ALLOWED_BEFORE_PASSWORD_CHANGE: &[&str] = &["/api/v1/me", "/api/v1/logout", "/api/v1/password"];

impl FromRequestParts<AppState> for Auth {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let auth = identify(state, &parts.headers)
            .await?
            .ok_or(AppError::Unauthorized("not_logged_in"))?;
        let unsafe_method = !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if unsafe_method && let Some(expected) = &auth.principal.csrf_token {
            let sent = parts.headers.get("x-csrf-token").and_then(|v| v.to_str().ok());
            if !csrf_matches(Some(expected), sent) {
                return Err(AppError::Forbidden("csrf_token_invalid"));
            }
        }
        if auth.principal.must_change_password && !ALLOWED_BEFORE_PASSWORD_CHANGE.contains(&parts.uri.path())
        {
            return Err(AppError::Forbidden("password_change_required"));
        }
        Ok(auth)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_password_hash_waits_for_a_free_slot_only_so_long() {
        let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(1));
        let wait = std::time::Duration::from_millis(50);
        let first = slot_within(&slots, std::time::Duration::ZERO).await;
        assert!(first.is_some(), "a free slot is taken at once");
        assert!(
            slot_within(&slots, wait).await.is_none(),
            "all taken: refused after the wait"
        );
        let waiter = tokio::spawn({
            let slots = slots.clone();
            async move {
                slot_within(&slots, std::time::Duration::from_secs(10))
                    .await
                    .is_some()
            }
        });
        drop(first);
        assert!(waiter.await.unwrap(), "a slot freed during the wait is taken");
    }

    #[test]
    fn csrf_tokens_compare_equal_only_when_identical() {
        let t = new_token();
        assert!(csrf_matches(Some(&t), Some(&t.clone())));
        let mut other = t.clone().into_bytes();
        other[42] ^= 1;
        assert!(!csrf_matches(Some(&t), std::str::from_utf8(&other).ok()));
        assert!(!csrf_matches(Some(&t), Some(&t[..42])), "a prefix");
        assert!(!csrf_matches(Some(&t), None));
        assert!(
            !csrf_matches(None, Some(&t)),
            "a bearer caller has no CSRF token to match"
        );
        assert!(!csrf_matches(None, None));
        assert!(constant_time_eq(b"", b""));
    }
}
