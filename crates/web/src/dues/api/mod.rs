//! 党费: the monthly amount the rules in force on a date give (domain-rules §2). Any logged-in
//! user may ask. Bases per member and year, monthly bills for a subtree, and a member's year.

mod fields;
pub mod import;
pub mod ledger;
pub mod payments;
pub mod provider;
pub mod reports;
pub mod views;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use dangjian_rules::dues;
use dangjian_rules::member::PersonCategory;
use dangjian_rules::{RuleViolation, dues_rules_on};
use dangjian_store::Cap;
use dangjian_store::dues::NewDuesBase;
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::extract::{
    ApiJson, ApiPath, ApiQuery, ConfirmQuery, YearQuery, optional_date, parse_enum, required_text,
};
use fields::Loose;
use views::{BaseSetView, GeneratedView, MemberDuesView, QuoteView};

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
) -> AppResult<Json<QuoteView>> {
    let category = parse_enum(
        "category",
        &required_text("category", q.category)?,
        PersonCategory::parse,
    )?;
    let base_fen = parse_base_fen(q.base_fen)?;
    let date = optional_date("date", q.date)?.unwrap_or_else(|| state.store.today());
    let rs = dues_rules_on(date)?;
    let quote = dues::quote(rs, category, base_fen, state.store.settings().dues_rounding)?;
    Ok(Json(QuoteView {
        monthly_fen: quote.monthly_fen,
        max_fen: quote.max_fen,
        rate_bp: quote.rate_bp,
        category: category.as_str(),
        rule: quote.rule,
        rule_set: rs.version,
        date: crate::contract::date(date),
        basis: crate::i18n::t(crate::i18n::current_locale(), quote.basis, &[]),
    }))
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

/// A member's base for a year: `category` (required), `base_fen` (分; required for in-service
/// and retired members), `monthly_fen` to override the quote, with its `reason`; `confirm` goes
/// ahead past "normally at most 1000 元 a month". Wrongly typed values are 422 naming the field.
#[derive(Deserialize, ToSchema)]
pub struct BaseBody {
    /// `in_service`, `retired`, `farmer`, `student`, `unemployed`, `relief`
    #[schema(value_type = String)]
    category: Loose,
    #[schema(value_type = Option<i64>)]
    base_fen: Loose,
    #[schema(value_type = Option<i64>)]
    monthly_fen: Loose,
    #[schema(value_type = Option<String>)]
    reason: Loose,
    #[schema(value_type = Option<bool>)]
    confirm: Loose,
}

impl BaseBody {
    fn parse(self, person_id: i64, year: i64, confirm_query: ConfirmQuery) -> AppResult<NewDuesBase> {
        let category = match self.category {
            Some(Value::String(s)) => parse_enum(
                "category",
                &required_text("category", Some(s))?,
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
        let base_fen = fields::fen("base_fen", "base_fen_invalid", &self.base_fen)?;
        let monthly = fields::fen("monthly_fen", "monthly_fen_invalid", &self.monthly_fen)?;
        // a reason that is not text is no reason
        let reason = match self.reason {
            Some(Value::String(s)) => s.trim().to_owned(),
            _ => String::new(),
        };
        if monthly.is_some() && reason.is_empty() {
            return Err(AppError::Invalid(RuleViolation::field(
                "reason_required",
                "reason",
            )));
        }
        Ok(NewDuesBase {
            person_id,
            year,
            category,
            base_fen,
            change_reason: (!reason.is_empty()).then(|| reason.clone()),
            override_monthly: monthly.map(|m| (m, reason)),
            confirmed: confirm_query.confirm.unwrap_or(false) || fields::confirmed(&self.confirm),
        })
    }
}

/// `PUT /api/v1/members/{id}/dues-base/{year}`: sets the member's base for the year.
pub async fn set_base(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((id, year)): ApiPath<(i64, String)>,
    ApiQuery(cq): ApiQuery<ConfirmQuery>,
    ApiJson(body): ApiJson<BaseBody>,
) -> AppResult<Json<BaseSetView>> {
    let scope = auth.scope(Cap::WriteMembers)?;
    let year = parse_year(Some(&year))?;
    let new = body.parse(id, year, cq)?;
    let set = state
        .store
        .dues()
        .set_dues_base(&scope, &auth.actor(), new)
        .await?;
    Ok(Json(set.into()))
}

/// A year (2008..=2100) and, optionally, one of its months: the bills to generate, the period
/// a remittance covers.
#[derive(Debug, Clone, Copy)]
pub struct Period {
    pub year: i64,
    pub month: Option<i64>,
}

impl Period {
    fn parse(year: &Loose, month: &Loose) -> AppResult<Self> {
        Ok(Self {
            year: fields::required_int("year", "year_invalid", year, 2008..=2100)?,
            month: fields::int_in("month", "month_invalid", month, 1..=12)?,
        })
    }
}

/// The bills of `year`'s `month`, or of the whole year without `month`.
#[derive(Deserialize, ToSchema)]
pub struct BillsBody {
    #[schema(value_type = i64)]
    year: Loose,
    #[schema(value_type = Option<i64>)]
    month: Loose,
}

impl TryFrom<BillsBody> for Period {
    type Error = AppError;
    fn try_from(b: BillsBody) -> AppResult<Self> {
        Period::parse(&b.year, &b.month)
    }
}

/// `POST /api/v1/orgs/{id}/dues-bills`: the month's bills, or the whole year's; 201 with the
/// count and the batch's digest (one audit row for the batch).
pub async fn generate_bills(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<BillsBody>,
) -> AppResult<(StatusCode, Json<GeneratedView>)> {
    let scope = auth.scope(Cap::CollectDues)?;
    let Period { year, month } = body.try_into()?;
    let g = state
        .store
        .dues()
        .generate_dues_bills(&scope, &auth.actor(), id, year, month)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(GeneratedView {
            created: g.created,
            digest: g.digest,
            year,
            month,
        }),
    ))
}

/// The year in `?year=`, else this year.
pub(crate) fn year_or_now(state: &AppState, v: Option<&str>) -> AppResult<i64> {
    match v.map(str::trim) {
        None | Some("") => Ok(i64::from(state.store.today().year())),
        Some(s) => parse_year(Some(s)),
    }
}

/// `GET /api/v1/members/{id}/dues?year=`: the base and the 12 months with owed and paid totals.
/// A member sees their own; otherwise only those who collect dues: the base is a salary figure
/// and the monthly amounts give it back (domain-rules §8), so meeting staff do not see them.
pub async fn member_dues(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<YearQuery>,
) -> AppResult<Json<MemberDuesView>> {
    let scope = payments::own_or_collector(&auth, id)?;
    let year = year_or_now(&state, q.year.as_deref())?;
    let d = state.store.dues().member_dues(&scope, id, year).await?;
    Ok(Json(d.into()))
}
