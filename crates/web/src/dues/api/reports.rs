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
use time::Date;
use utoipa::ToSchema;

use super::fields::{self, Loose};
use super::views::{BillView, PaidThroughView, RemittanceView, ReportView};
use super::{Period, year_or_now};
use crate::AppState;
use crate::auth::Auth;
use crate::contract::List;
use crate::error::{AppError, AppResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
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
    Ok(state.store.dues().dues_report(&scope, id, year, month).await?)
}

/// `GET /api/v1/orgs/{id}/dues-report?year=&month=`: billed, collected, outstanding, waived (in
/// total and by category), voluntary and 大额党费, 上缴.
pub async fn report(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<PeriodQuery>,
) -> AppResult<Json<ReportView>> {
    Ok(Json(load_report(&state, &auth, id, &q).await?.into()))
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
) -> AppResult<Json<List<BillView>>> {
    let scope = auth.scope(Cap::CollectDues)?;
    let year = year_or_now(&state, q.year.as_deref())?;
    let month = parse_month(q.month.as_deref())?
        .ok_or_else(|| AppError::Invalid(RuleViolation::field("field_required", "month")))?;
    let items = state.store.dues().dues_bills(&scope, id, year, month).await?;
    Ok(Json(List::of(items)))
}

/// 上缴 to the level above: the period (`year`, optional `month`), `amount_fen` (> 0), of it
/// `large_fen` 大额党费, `remitted_on` (default today), `note`.
#[derive(Deserialize, ToSchema)]
pub struct RemittanceBody {
    #[schema(value_type = i64)]
    year: Loose,
    #[schema(value_type = Option<i64>)]
    month: Loose,
    #[schema(value_type = i64)]
    amount_fen: Loose,
    #[schema(value_type = Option<i64>)]
    large_fen: Loose,
    #[schema(value_type = Option<String>, format = Date)]
    remitted_on: Loose,
    #[schema(value_type = Option<String>)]
    note: Loose,
}

impl RemittanceBody {
    fn parse(self, org_id: i64, today: Date) -> AppResult<NewRemittance> {
        let Period { year, month } = Period::parse(&self.year, &self.month)?;
        let amount = |field, v, least| fields::int_in(field, "amount_fen_invalid", v, least..=i64::MAX);
        let amount_fen = amount("amount_fen", &self.amount_fen, 1)?
            .ok_or_else(|| AppError::Invalid(RuleViolation::field("field_required", "amount_fen")))?;
        Ok(NewRemittance {
            org_id,
            year,
            month,
            amount_fen,
            large_fen: amount("large_fen", &self.large_fen, 0)?.unwrap_or(0),
            remitted_on: fields::date("remitted_on", &self.remitted_on)?.unwrap_or(today),
            note: fields::text("note", &self.note, 500)?,
        })
    }
}

/// `POST /api/v1/orgs/{id}/dues-remittances`: 上缴 to the level above → 201.
pub async fn remit(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<RemittanceBody>,
) -> AppResult<(StatusCode, Json<RemittanceView>)> {
    let scope = auth.scope(Cap::CollectDues)?;
    let new = body.parse(id, state.store.today())?;
    let r = state
        .store
        .dues()
        .record_dues_remittance(&scope, &auth.actor(), new)
        .await?;
    Ok((StatusCode::CREATED, Json(r.into())))
}

/// `GET /api/v1/members/{id}/dues-paid-through`: 党费交至 (`YYYY-MM` or null).
pub async fn paid_through(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<PaidThroughView>> {
    let scope = auth.scope(Cap::ReadMembers)?;
    let paid_through = state.store.dues().dues_paid_through(&scope, id).await?;
    Ok(Json(PaidThroughView {
        person_id: id,
        paid_through,
    }))
}
