//! Administration pages: logins and grants (`/accounts`), the audit log viewer (`/audit`), and
//! the offline API reference (`/api/docs`). They call the same shared functions as the JSON API
//! (`api::account`, `api::audit`), so a rule holds on both.

pub(super) mod accounts;
pub(super) mod api_docs;
pub(super) mod audit;

use crate::i18n::{Locale, t};

/// Checks the form's CSRF token against the session's.
/// `key`'s text, or None when the catalogue has no such key (`t` returns the key itself).
fn t_opt(locale: Locale, key: &str) -> Option<String> {
    let text = t(locale, key, &[]);
    (text != key).then_some(text)
}
