//! Our wrappers over axum's extractors, so a bad body, path or query becomes AppError's shape
//! (400 malformed), and helpers that turn raw fields into domain values (422 naming the field).

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use dangjian_rules::RuleViolation;
use serde::de::DeserializeOwned;
use time::Date;
use time::macros::format_description;

use crate::error::{AppError, AppResult};

/// A JSON body. Not JSON, or a field of the wrong type → 400 `malformed_request`.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|_| AppError::TooLarge)?;
        let bytes = if bytes.is_empty() {
            Bytes::from_static(b"{}")
        } else {
            bytes
        };
        serde_json::from_slice(&bytes)
            .map(ApiJson)
            .map_err(|e| AppError::Malformed(None, e.to_string()))
    }
}

/// The most a login, password or token body may hold: a few hundred bytes are plenty.
pub const SMALL_BODY_LIMIT: usize = 8 * 1024;

/// A layer for routes whose bodies are small (login, password, tokens): a body over
/// [`SMALL_BODY_LIMIT`] is refused with 413 `too_large` as soon as it is known to be — from its
/// `Content-Length` before anything is read, else when the limit is passed — instead of reading
/// the whole of it (up to the global 16 MiB) and only then finding it malformed.
pub async fn small_body(req: Request, next: axum::middleware::Next) -> axum::response::Response {
    use axum::response::IntoResponse;
    let declared = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > SMALL_BODY_LIMIT as u64) {
        return AppError::TooLarge.into_response();
    }
    let (parts, body) = req.into_parts();
    match axum::body::to_bytes(body, SMALL_BODY_LIMIT).await {
        Ok(bytes) => {
            next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
                .await
        }
        Err(_) => AppError::TooLarge.into_response(),
    }
}

/// Path parameters; a non-numeric id is simply not found.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| ApiPath(p.0))
            .map_err(|_| AppError::NotFound)
    }
}

/// Query parameters; a value of the wrong type → 400 naming it.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| ApiQuery(q.0))
            .map_err(|e| AppError::Malformed(None, e.body_text()))
    }
}

/// `?limit=&offset=` (API.md: default 50, at most 500).
#[derive(Debug, Clone, Copy, serde::Deserialize)]
pub struct Page {
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

impl Page {
    pub fn limit(&self) -> i64 {
        self.limit.unwrap_or(50).clamp(1, 500)
    }
    pub fn offset(&self) -> i64 {
        self.offset.unwrap_or(0).max(0)
    }
}

pub fn required<T>(field: &'static str, v: Option<T>) -> AppResult<T> {
    v.ok_or_else(|| AppError::Invalid(RuleViolation::field("field_required", field)))
}

pub fn required_text(field: &'static str, v: Option<String>) -> AppResult<String> {
    match v.map(|s| s.trim().to_owned()) {
        Some(s) if !s.is_empty() => Ok(s),
        _ => Err(AppError::Invalid(RuleViolation::field("field_required", field))),
    }
}

/// Trims, refuses over-long values, turns "" into None.
pub fn optional_text(field: &'static str, v: Option<String>, max: usize) -> AppResult<Option<String>> {
    let v = v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    if let Some(s) = &v
        && s.chars().count() > max
    {
        return Err(AppError::Invalid(
            RuleViolation::field("text_too_long", field).arg("max", max),
        ));
    }
    Ok(v)
}

pub fn parse_date(field: &'static str, s: &str) -> AppResult<Date> {
    Date::parse(s.trim(), format_description!("[year]-[month]-[day]"))
        .map_err(|_| AppError::Invalid(RuleViolation::field("date_invalid", field)))
}

pub fn optional_date(field: &'static str, v: Option<String>) -> AppResult<Option<Date>> {
    match v.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => parse_date(field, s).map(Some),
    }
}

/// An enum value given as its API string (or Chinese label); unknown → 422 naming the field.
pub fn parse_enum<T>(field: &'static str, s: &str, parse: impl Fn(&str) -> Option<T>) -> AppResult<T> {
    parse(s.trim())
        .ok_or_else(|| AppError::Invalid(RuleViolation::field("value_unknown", field).arg("value", s)))
}

pub fn optional_enum<T>(
    field: &'static str,
    v: Option<String>,
    parse: impl Fn(&str) -> Option<T>,
) -> AppResult<Option<T>> {
    v.filter(|s| !s.trim().is_empty())
        .map(|s| parse_enum(field, &s, parse))
        .transpose()
}

/// `{"items":[…],"total":N}`.
pub fn list<T: serde::Serialize>(items: Vec<T>, total: i64) -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({"items": items, "total": total}))
}

/// `?year=`: a year, or this year when absent (parsed by the handler, as a wrong one is 422).
#[derive(Debug, Default, serde::Deserialize)]
pub struct YearQuery {
    pub year: Option<String>,
}

/// `?confirm=true`: the user confirms the warnings of a "normally" rule (API.md).
#[derive(Debug, Clone, Copy, Default, serde::Deserialize)]
pub struct ConfirmQuery {
    pub confirm: Option<bool>,
}

/// Warnings stop a request with 409 `confirmation_required` until it is sent again confirmed;
/// then their codes go into the audit record.
pub fn confirm_warnings(
    warnings: Vec<dangjian_rules::RuleWarning>,
    confirmed: bool,
) -> AppResult<Vec<&'static str>> {
    if warnings.is_empty() {
        return Ok(Vec::new());
    }
    if !confirmed {
        return Err(AppError::Confirm(warnings));
    }
    Ok(warnings.iter().map(|w| w.code).collect())
}
