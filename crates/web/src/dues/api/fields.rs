//! The dues bodies' fields are typed loosely (`Loose`, any JSON value) and converted here, so a
//! value of the wrong type is a 422 naming its field — as the API answered before its bodies
//! were typed — rather than serde's 400.

use dangjian_rules::RuleViolation;
use dangjian_rules::dues::ledger::parse_ym;
use serde_json::Value;
use time::Date;

use crate::error::{AppError, AppResult};
use crate::extract::parse_date;

/// A body field as the client sent it: absent, null, or any JSON value.
pub type Loose = Option<Value>;

fn invalid(code: &'static str, field: &'static str, value: impl ToString) -> AppError {
    AppError::Invalid(RuleViolation::field(code, field).arg("value", value.to_string()))
}

fn missing(field: &'static str) -> AppError {
    AppError::Invalid(RuleViolation::field("field_required", field))
}

/// A whole number of 分: absent or null → None; not an integer → 422 `code`; negative → 422
/// `base_negative`.
pub fn fen(field: &'static str, code: &'static str, v: &Loose) -> AppResult<Option<i64>> {
    if let Some(n) = v.as_ref().and_then(Value::as_i64).filter(|n| *n < 0) {
        return Err(invalid("base_negative", field, n));
    }
    int_in(field, code, v, 0..=i64::MAX)
}

/// An integer in `range`: absent or null → None; anything else → 422 `code`.
pub fn int_in(
    field: &'static str,
    code: &'static str,
    v: &Loose,
    range: std::ops::RangeInclusive<i64>,
) -> AppResult<Option<i64>> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_i64() {
            Some(n) if range.contains(&n) => Ok(Some(n)),
            _ => Err(invalid(code, field, v)),
        },
    }
}

/// `int_in`, required.
pub fn required_int(
    field: &'static str,
    code: &'static str,
    v: &Loose,
    range: std::ops::RangeInclusive<i64>,
) -> AppResult<i64> {
    int_in(field, code, v, range)?.ok_or_else(|| missing(field))
}

/// A string, trimmed: absent, null or blank → None; longer than `max` → 422 `text_too_long`;
/// not a string → 422 `value_unknown`.
pub fn text(field: &'static str, v: &Loose, max: usize) -> AppResult<Option<String>> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => {
            let s = s.trim();
            if s.chars().count() > max {
                return Err(AppError::Invalid(
                    RuleViolation::field("text_too_long", field).arg("max", max),
                ));
            }
            Ok((!s.is_empty()).then(|| s.to_owned()))
        }
        Some(other) => Err(invalid("value_unknown", field, other)),
    }
}

/// `text`, required.
pub fn required_text(field: &'static str, v: &Loose, max: usize) -> AppResult<String> {
    text(field, v, max)?.ok_or_else(|| missing(field))
}

/// A date `YYYY-MM-DD`: absent, null or blank → None.
pub fn date(field: &'static str, v: &Loose) -> AppResult<Option<Date>> {
    text(field, v, 10)?.map(|s| parse_date(field, &s)).transpose()
}

/// A month `YYYY-MM`, required, as its `yyyymm` key.
pub fn month(field: &'static str, v: &Loose) -> AppResult<i64> {
    parse_ym(field, &required_text(field, v, 10)?).map_err(AppError::Invalid)
}

/// `"months": ["2026-01", …]` → month keys (absent or null: none); a bad one → 422 naming
/// `months`.
pub fn months(v: &Loose) -> AppResult<Vec<i64>> {
    let bad = |v: &Value| invalid("dues_month_invalid", "months", v);
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => a
            .iter()
            .map(|m| match m {
                Value::String(s) => parse_ym("months", s).map_err(AppError::Invalid),
                other => Err(bad(other)),
            })
            .collect(),
        Some(other) => Err(bad(other)),
    }
}

/// A yes or no, required: anything but `true` or `false` → 422 `field_required`.
pub fn required_bool(field: &'static str, v: &Loose) -> AppResult<bool> {
    v.as_ref().and_then(Value::as_bool).ok_or_else(|| missing(field))
}

/// `"confirm": true`; any other value is no.
pub fn confirmed(v: &Loose) -> bool {
    v.as_ref().and_then(Value::as_bool).unwrap_or(false)
}

/// A person id: absent or null → None; not an integer → 422 `value_unknown`.
pub fn id(field: &'static str, v: &Loose) -> AppResult<Option<i64>> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| invalid("value_unknown", field, v)),
    }
}
