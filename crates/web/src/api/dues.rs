//! 党费: the monthly amount the rules in force on a date give (domain-rules §2). Any logged-in
//! user may ask; nothing is read from or written to the database.

use axum::Json;
use axum::extract::State;
use dangjian_rules::dues::{self, Rounding};
use dangjian_rules::member::PersonCategory;
use dangjian_rules::{RuleViolation, dues_rules_on};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::extract::{ApiQuery, optional_date, parse_enum, required_text};

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
    let quote = dues::quote(rs, category, base_fen, Rounding::default())?;
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
