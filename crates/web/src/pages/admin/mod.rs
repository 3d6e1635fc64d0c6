//! Administration pages: logins and grants (`/accounts`), the audit log viewer (`/audit`), and
//! the offline API reference (`/api/docs`). They call the same shared functions as the JSON API
//! (`api::account`, `api::audit`), so a rule holds on both.

pub(super) mod accounts;
pub(super) mod api_docs;
pub(super) mod audit;

use crate::auth::Auth;
use crate::error::AppError;
use crate::i18n::{Locale, t};

/// Checks the form's CSRF token against the session's.
fn csrf_ok(a: &Auth, sent: &str) -> Result<(), AppError> {
    if a.principal.csrf_token.as_deref() == Some(sent) {
        Ok(())
    } else {
        Err(AppError::Forbidden("csrf_token_invalid"))
    }
}

/// `key`'s text, or None when the catalogue has no such key (`t` returns the key itself).
fn t_opt(locale: Locale, key: &str) -> Option<String> {
    let text = t(locale, key, &[]);
    (text != key).then_some(text)
}

/// Percent-encodes a query-string value.
fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
