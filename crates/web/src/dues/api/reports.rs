//! Dues reports (JSON and Excel), the bills of a month, 上缴 records and 党费交至.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use dangjian_rules::RuleViolation;
use dangjian_rules::dues::yuan;
use dangjian_store::Cap;
use dangjian_store::dues::report::{DuesReport, NewRemittance};
use rust_xlsxwriter::{Format, Workbook, XlsxError};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::payments::json_text;
use super::{json_int, year_or_now};
use crate::AppState;
use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery, parse_date};
use crate::i18n::{current_locale, enum_label, t};
use crate::member::roster::{XLSX_CONTENT_TYPE, content_disposition};

#[derive(Deserialize)]
pub struct PeriodQuery {
    year: Option<String>,
    month: Option<String>,
}

fn parse_month(v: Option<&str>) -> AppResult<Option<i64>> {
    match v.map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => match s.parse::<i64>() {
            Ok(m) if (1..=12).contains(&m) => Ok(Some(m)),
            _ => Err(AppError::Invalid(
                RuleViolation::field("month_invalid", "month").arg("value", s),
            )),
        },
    }
}

async fn load_report(state: &AppState, auth: &Auth, id: i64, q: &PeriodQuery) -> AppResult<DuesReport> {
    let scope = auth.scope(Cap::CollectDues)?;
    let year = year_or_now(state, q.year.as_deref())?;
    let month = parse_month(q.month.as_deref())?;
    Ok(state.store.dues_report(&scope, id, year, month).await?)
}

/// `GET /api/v1/orgs/{id}/dues-report?year=&month=`: billed, collected, outstanding, waived (in
/// total and by category), voluntary and 大额党费, 上缴.
pub async fn report(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<PeriodQuery>,
) -> AppResult<Json<Value>> {
    let r = load_report(&state, &auth, id, &q).await?;
    Ok(Json(serde_json::to_value(r).unwrap_or_default()))
}

fn xlsx_error(e: XlsxError) -> AppError {
    AppError::Internal(anyhow::anyhow!("writing the dues report: {e}"))
}

/// The report as a workbook: the summary by category, then the 上缴 records.
fn report_xlsx(r: &DuesReport) -> Result<Vec<u8>, XlsxError> {
    let locale = current_locale();
    let tr = |k: &str| t(locale, k, &[]);
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let sheet = book.add_worksheet();
    sheet.set_name(tr("dues.report.sheet"))?;
    let period = match r.month {
        Some(m) => format!("{}-{m:02}", r.year),
        None => r.year.to_string(),
    };
    sheet.write_string_with_format(0, 0, format!("{} {period}", r.org_name), &bold)?;
    let heads = [
        "dues.report.category",
        "dues.report.bills",
        "dues.report.billed",
        "dues.report.collected",
        "dues.report.outstanding",
        "dues.report.waived",
    ];
    for (i, h) in (0u16..).zip(heads) {
        sheet.write_string_with_format(2, i, tr(h), &bold)?;
        sheet.set_column_width(i, 14)?;
    }
    let mut row = 3u32;
    let mut line = |sheet: &mut rust_xlsxwriter::Worksheet,
                    label: String,
                    f: &dangjian_store::dues::report::DuesFigures| {
        let cells = [
            f.bills.to_string(),
            yuan(f.billed_fen),
            yuan(f.collected_fen),
            yuan(f.outstanding_fen),
            yuan(f.waived_fen),
        ];
        let r0 = row;
        row += 1;
        sheet.write_string(r0, 0, label)?;
        for (i, c) in (1u16..).zip(cells) {
            // money as text in 元 with two decimals: exact, no floating point
            sheet.write_string(r0, i, c)?;
        }
        Ok::<(), XlsxError>(())
    };
    for c in &r.by_category {
        let label = enum_label(locale, "person_category", c.category.map_or("", |c| c.as_str()));
        line(sheet, label, c)?;
    }
    line(sheet, tr("dues.report.total"), &r.total)?;
    let extras = [
        ("dues.report.voluntary", yuan(r.voluntary_fen)),
        ("dues.report.large", yuan(r.large_fen)),
        ("dues.report.remitted", yuan(r.remitted_fen)),
    ];
    for (at, (k, v)) in (row + 1..).zip(extras) {
        sheet.write_string(at, 0, tr(k))?;
        sheet.write_string(at, 1, v)?;
    }
    book.save_to_buffer()
}

/// `GET /api/v1/orgs/{id}/dues-report.xlsx?year=&month=`.
pub async fn report_export(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<PeriodQuery>,
) -> AppResult<Response> {
    let r = load_report(&state, &auth, id, &q).await?;
    let bytes = report_xlsx(&r).map_err(xlsx_error)?;
    let name = format!(
        "{}-党费-{}.xlsx",
        r.org_name.replace(['/', '\\', '"'], "_"),
        r.year
    );
    Ok((
        [
            (header::CONTENT_TYPE, XLSX_CONTENT_TYPE.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                content_disposition("dues.xlsx", &name),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        bytes,
    )
        .into_response())
}

/// `GET /api/v1/orgs/{id}/dues-bills?year=&month=`: the month's bills with their payments.
pub async fn bills(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<PeriodQuery>,
) -> AppResult<Json<Value>> {
    let scope = auth.scope(Cap::CollectDues)?;
    let year = year_or_now(&state, q.year.as_deref())?;
    let month = parse_month(q.month.as_deref())?
        .ok_or_else(|| AppError::Invalid(RuleViolation::field("field_required", "month")))?;
    let items = state.store.dues_bills(&scope, id, year, month).await?;
    let n = i64::try_from(items.len()).unwrap_or(0);
    Ok(crate::extract::list(items, n))
}

/// `POST /api/v1/orgs/{id}/dues-remittances` {"year","month"?,"amount_fen","large_fen"?,
/// "remitted_on","note"?}: 上缴 to the level above → 201.
pub async fn remit(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<Map<String, Value>>,
) -> AppResult<(StatusCode, Json<Value>)> {
    let scope = auth.scope(Cap::CollectDues)?;
    let year = json_int("year", "year_invalid", b.get("year"), 2008..=2100)?;
    let month = match b.get("month") {
        None | Some(Value::Null) => None,
        v => Some(json_int("month", "month_invalid", v, 1..=12)?),
    };
    let amount_fen = json_int(
        "amount_fen",
        "amount_fen_invalid",
        b.get("amount_fen"),
        1..=i64::MAX,
    )?;
    let large_fen = match b.get("large_fen") {
        None | Some(Value::Null) => 0,
        v => json_int("large_fen", "amount_fen_invalid", v, 0..=i64::MAX)?,
    };
    let remitted_on = match json_text(&b, "remitted_on", 10)? {
        Some(s) => parse_date("remitted_on", &s)?,
        None => state.store.today(),
    };
    let r = state
        .store
        .record_dues_remittance(
            &scope,
            &auth.actor(),
            NewRemittance {
                org_id: id,
                year,
                month,
                amount_fen,
                large_fen,
                remitted_on,
                note: json_text(&b, "note", 500)?,
            },
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::to_value(r).unwrap_or_default()),
    ))
}

/// `GET /api/v1/members/{id}/dues-paid-through`: {"paid_through":"YYYY-MM"|null} (党费交至).
pub async fn paid_through(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<Value>> {
    let scope = auth.scope(Cap::ReadMembers)?;
    let p = state.store.dues_paid_through(&scope, id).await?;
    Ok(Json(json!({"person_id": id, "paid_through": p})))
}
