//! 党费: the monthly amount the rules in force on a date give (domain-rules §2). Any logged-in
//! user may ask. Bases per member and year, monthly bills for a subtree, and a member's year.

pub mod import;
pub mod ledger;
pub mod payments;
pub mod provider;
pub mod reports;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use dangjian_rules::dues;
use dangjian_rules::member::PersonCategory;
use dangjian_rules::{RuleViolation, dues_rules_on};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery, optional_date, parse_enum, required_text};
use dangjian_store::Cap;

/// The query, taken as text so each bad value becomes a 422 naming its field.
#[derive(Deserialize)]
pub struct QuoteQuery {
    category: Option<String>,
    base_fen: Option<String>,
    date: Option<String>,
}

/// `base_fen` as a whole number of 分; "" is absent, anything else not an integer → 422
/// `base_fen_invalid` (the sign is left to the rules: negative → `base_negative`).
fn parse_base_fen(v: Option<String>) -> AppResult<Option<i64>> {
    match v.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => s.parse::<i64>().map(Some).map_err(|_| {
            AppError::Invalid(RuleViolation::field("base_fen_invalid", "base_fen").arg("value", s))
        }),
    }
}

/// `GET /api/v1/dues/quote?category=…&base_fen=…[&date=YYYY-MM-DD]`: `{"monthly_fen":N}`, plus
/// `max_fen` where the rules give a range, and the rate, rule and rule set applied.
pub async fn quote(
    State(state): State<AppState>,
    _auth: Auth,
    ApiQuery(q): ApiQuery<QuoteQuery>,
) -> AppResult<Json<Value>> {
    let category = parse_enum(
        "category",
        &required_text("category", q.category)?,
        PersonCategory::parse,
    )?;
    let base_fen = parse_base_fen(q.base_fen)?;
    let date = optional_date("date", q.date)?.unwrap_or_else(|| state.store.today());
    let rs = dues_rules_on(date)?;
    let quote = dues::quote(rs, category, base_fen, state.store.settings().dues_rounding)?;
    let locale = crate::i18n::current_locale();
    let mut out = json!({
        "monthly_fen": quote.monthly_fen,
        "category": category,
        "rule": quote.rule,
        "rule_set": rs.version,
        "date": date.to_string(),
        "basis": crate::i18n::t(locale, quote.basis, &[]),
    });
    if let Some(max) = quote.max_fen {
        out["max_fen"] = json!(max);
    }
    if let Some(rate) = quote.rate_bp {
        out["rate_bp"] = json!(rate);
    }
    Ok(Json(out))
}

/// A year from the path or query: 2008..=2100, else 422 `year_invalid` naming `year`.
pub(crate) fn parse_year(v: Option<&str>) -> AppResult<i64> {
    let s = v.map(str::trim).unwrap_or_default();
    if s.is_empty() {
        return Err(AppError::Invalid(RuleViolation::field("field_required", "year")));
    }
    match s.parse::<i64>() {
        Ok(y) if (2008..=2100).contains(&y) => Ok(y),
        _ => Err(AppError::Invalid(
            RuleViolation::field("year_invalid", "year").arg("value", s),
        )),
    }
}

/// A whole number of 分 from JSON: absent or null → None; not an integer → 422 `{code}`;
/// negative → 422 `base_negative`.
pub(crate) fn json_fen(field: &'static str, code: &'static str, v: Option<&Value>) -> AppResult<Option<i64>> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_i64() {
            Some(n) if n >= 0 => Ok(Some(n)),
            Some(n) => Err(AppError::Invalid(
                RuleViolation::field("base_negative", field).arg("value", n),
            )),
            None => Err(AppError::Invalid(
                RuleViolation::field(code, field).arg("value", v.to_string()),
            )),
        },
    }
}

/// A JSON integer in `range`, required: else 422 naming `field`.
pub(crate) fn json_int(
    field: &'static str,
    code: &'static str,
    v: Option<&Value>,
    range: std::ops::RangeInclusive<i64>,
) -> AppResult<i64> {
    match v {
        None | Some(Value::Null) => Err(AppError::Invalid(RuleViolation::field("field_required", field))),
        Some(v) => match v.as_i64() {
            Some(n) if range.contains(&n) => Ok(n),
            _ => Err(AppError::Invalid(
                RuleViolation::field(code, field).arg("value", v.to_string()),
            )),
        },
    }
}

/// `PUT /api/v1/members/{id}/dues-base/{year}` {"category","base_fen","monthly_fen"?,"reason"?}:
/// sets the member's base for the year; `monthly_fen` overrides the quote and needs a reason.
pub async fn set_base(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((id, year)): ApiPath<(i64, String)>,
    ApiQuery(cq): ApiQuery<crate::extract::ConfirmQuery>,
    ApiJson(b): ApiJson<serde_json::Map<String, Value>>,
) -> AppResult<Json<Value>> {
    let scope = auth.scope(Cap::WriteMembers)?;
    let year = parse_year(Some(&year))?;
    let category = match b.get("category") {
        Some(Value::String(s)) => parse_enum(
            "category",
            &required_text("category", Some(s.clone()))?,
            PersonCategory::parse,
        )?,
        Some(Value::Null) | None => {
            return Err(AppError::Invalid(RuleViolation::field(
                "field_required",
                "category",
            )));
        }
        Some(v) => parse_enum("category", &v.to_string(), PersonCategory::parse)?,
    };
    let base_fen = json_fen("base_fen", "base_fen_invalid", b.get("base_fen"))?;
    let monthly = json_fen("monthly_fen", "monthly_fen_invalid", b.get("monthly_fen"))?;
    let reason = match b.get("reason") {
        Some(Value::String(s)) => s.trim().to_owned(),
        _ => String::new(),
    };
    if monthly.is_some() && reason.is_empty() {
        return Err(AppError::Invalid(RuleViolation::field(
            "reason_required",
            "reason",
        )));
    }
    let base = state
        .store
        .set_dues_base(
            &scope,
            &auth.actor(),
            dangjian_store::dues::NewDuesBase {
                person_id: id,
                year,
                category,
                base_fen,
                override_monthly: monthly.map(|m| (m, reason)),
                confirmed: cq.confirm.unwrap_or(false)
                    || b.get("confirm").and_then(Value::as_bool).unwrap_or(false),
            },
        )
        .await?;
    Ok(Json(serde_json::to_value(base).unwrap_or_default()))
}

/// `POST /api/v1/orgs/{id}/dues-bills` {"year","month"?}: the month's bills, or the whole
/// year's without `month`; 201 {"created":N,"digest"} (one audit row for the batch).
pub async fn generate_bills(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<serde_json::Map<String, Value>>,
) -> AppResult<(StatusCode, Json<Value>)> {
    let scope = auth.scope(Cap::CollectDues)?;
    let year = json_int("year", "year_invalid", b.get("year"), 2008..=2100)?;
    let month = match b.get("month") {
        None | Some(Value::Null) => None,
        v => Some(json_int("month", "month_invalid", v, 1..=12)?),
    };
    let g = state
        .store
        .generate_dues_bills(&scope, &auth.actor(), id, year, month)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"created": g.created, "digest": g.digest, "year": year, "month": month})),
    ))
}

/// The year in `?year=`, else this year.
pub(crate) fn year_or_now(state: &AppState, v: Option<&str>) -> AppResult<i64> {
    match v.map(str::trim) {
        None | Some("") => Ok(i64::from(state.store.today().year())),
        Some(s) => parse_year(Some(s)),
    }
}

#[derive(Deserialize)]
pub struct YearQuery {
    year: Option<String>,
}

/// `GET /api/v1/members/{id}/dues?year=`: the base and the 12 months with owed and paid totals.
/// A member sees their own.
pub async fn member_dues(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<YearQuery>,
) -> AppResult<Json<Value>> {
    let scope = auth.scope(Cap::ReadMembers)?;
    let year = match q.year.as_deref().map(str::trim) {
        None | Some("") => i64::from(state.store.today().year()),
        Some(s) => parse_year(Some(s))?,
    };
    let d = state.store.member_dues(&scope, id, year).await?;
    Ok(Json(serde_json::to_value(d).unwrap_or_default()))
}
