//! One error type for the whole web layer, rendered as API.md's JSON envelope
//! `{"error":{"code","message","field","rows"?,"warnings"?}}` with a localized message.
//! Internal causes are logged once here and never sent to the client.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use dangjian_rules::{RuleViolation, RuleWarning};
use dangjian_store::StoreError;
use dangjian_store::error::RowError;
use serde_json::json;

use crate::i18n::{current_locale, t};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not logged in")]
    Unauthorized(&'static str),
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    #[error("not found")]
    NotFound,
    /// 400: not JSON, wrong type, unreadable parameter. The detail names what was wrong.
    #[error("malformed: {1}")]
    Malformed(Option<String>, String),
    #[error("{0}")]
    Invalid(RuleViolation),
    #[error("conflict: {0}")]
    Conflict(RuleViolation),
    #[error("confirmation required")]
    Confirm(Vec<RuleWarning>),
    /// A roster import refused (422 `import_rows_invalid`): every bad row, listed in `rows`.
    #[error("{} bad rows", .0.len())]
    Rows(Vec<RowError>),
    /// 429 `rate_limited` with `Retry-After`: failed logins over the limit.
    #[error("rate limited")]
    TooMany(RetryAfter),
    /// 503 `server_busy` with `Retry-After`: every password-hash slot stayed taken.
    #[error("busy")]
    Busy(RetryAfter),
    #[error("too large")]
    TooLarge,
    #[error("internal: {0:#}")]
    Internal(anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

/// When to try again: seconds from now (for `Retry-After`) and that instant in local time (for
/// the message).
#[derive(Debug, Clone)]
pub struct RetryAfter {
    pub seconds: i64,
    pub at: String,
}

impl RetryAfter {
    /// From an instant: whole seconds, rounded up, at least 1; the local time of day it names.
    pub fn until(now: time::OffsetDateTime, at: time::OffsetDateTime, offset: time::UtcOffset) -> Self {
        let left = at - now;
        let mut seconds = left.whole_seconds();
        if left.subsec_nanoseconds() > 0 {
            seconds += 1;
        }
        let at = (now + time::Duration::seconds(seconds.max(1)))
            .to_offset(offset)
            .format(time::macros::format_description!("[hour]:[minute]:[second]"))
            .unwrap_or_default();
        Self {
            seconds: seconds.max(1),
            at,
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Forbidden => AppError::Forbidden("forbidden"),
            StoreError::Rule(v) => AppError::Invalid(v),
            StoreError::Conflict(v) => AppError::Conflict(v),
            StoreError::ConfirmationRequired(w) => AppError::Confirm(w),
            StoreError::Rows(rows) => AppError::Rows(rows),
            StoreError::Db(e) => AppError::Internal(e.into()),
            StoreError::Internal(e) => AppError::Internal(e),
        }
    }
}

impl From<RuleViolation> for AppError {
    fn from(v: RuleViolation) -> Self {
        AppError::Invalid(v)
    }
}

impl From<anyhow::Error> for AppError {
    fn from(e: anyhow::Error) -> Self {
        AppError::Internal(e)
    }
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Malformed(..) => StatusCode::BAD_REQUEST,
            AppError::Invalid(_) | AppError::Rows(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Conflict(_) | AppError::Confirm(_) => StatusCode::CONFLICT,
            AppError::TooMany(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthorized(c) | AppError::Forbidden(c) => c,
            AppError::NotFound => "not_found",
            AppError::Malformed(..) => "malformed_request",
            AppError::Invalid(v) | AppError::Conflict(v) => v.code,
            AppError::Confirm(_) => "confirmation_required",
            AppError::Rows(_) => "import_rows_invalid",
            AppError::TooMany(_) => "rate_limited",
            AppError::Busy(_) => "server_busy",
            AppError::TooLarge => "too_large",
            AppError::Internal(_) => "internal_error",
        }
    }

    pub fn field(&self) -> Option<String> {
        match self {
            AppError::Invalid(v) | AppError::Conflict(v) => v.field.map(str::to_owned),
            AppError::Malformed(f, _) => f.clone(),
            _ => None,
        }
    }

    /// The message in the request's language.
    pub fn message(&self) -> String {
        let locale = current_locale();
        match self {
            AppError::Invalid(v) | AppError::Conflict(v) => {
                let mut args: Vec<(&str, String)> = v.args.iter().map(|(k, v)| (*k, v.clone())).collect();
                if let Some(f) = v.field {
                    args.push(("field", t(locale, &format!("field.{f}"), &[])));
                }
                t(locale, v.code, &args)
            }
            AppError::Malformed(_, detail) => t(locale, "malformed_request", &[("detail", detail.clone())]),
            AppError::Rows(rows) => {
                let bad_rows = rows
                    .iter()
                    .map(|r| r.row)
                    .collect::<std::collections::BTreeSet<_>>();
                t(
                    locale,
                    "import_rows_invalid",
                    &[
                        ("rows", bad_rows.len().to_string()),
                        ("errors", rows.len().to_string()),
                    ],
                )
            }
            AppError::TooMany(r) | AppError::Busy(r) => t(
                locale,
                self.code(),
                &[("seconds", r.seconds.to_string()), ("at", r.at.clone())],
            ),
            other => t(locale, other.code(), &[]),
        }
    }

    /// The `Retry-After` header of a 429 or 503.
    pub fn retry_after(&self) -> Option<axum::http::HeaderValue> {
        match self {
            AppError::TooMany(r) | AppError::Busy(r) => Some(axum::http::HeaderValue::from(r.seconds)),
            _ => None,
        }
    }

    pub fn body(&self) -> serde_json::Value {
        let mut err = json!({"code": self.code(), "message": self.message(), "field": self.field()});
        if let AppError::Confirm(ws) = self {
            let locale = current_locale();
            err["warnings"] = ws
                .iter()
                .map(|w| {
                    let args: Vec<(&str, String)> = w.args.iter().map(|(k, v)| (*k, v.clone())).collect();
                    json!({"code": w.code, "message": t(locale, w.code, &args)})
                })
                .collect();
        }
        if let AppError::Rows(rows) = self {
            let locale = current_locale();
            err["rows"] = rows
                .iter()
                .map(|r| {
                    let (column, message) = crate::member::roster::row_message(locale, r);
                    json!({"row": r.row, "column": column, "message": message})
                })
                .collect();
        }
        json!({ "error": err })
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Internal(e) = &self {
            tracing::error!(error = %format!("{e:#}"), "request failed with an internal error");
        }
        let retry = self.retry_after();
        let mut resp = (self.status(), axum::Json(self.body())).into_response();
        if let Some(v) = retry {
            resp.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
        }
        resp
    }
}
