//! Roster export: the template's columns, one person a row in the order they were recorded, read
//! from the database a page at a time (keyset pagination on the id) and written as they come into a constant-memory worksheet on a
//! blocking thread, so a roster of any size never sits in memory whole. ID numbers and phones
//! are text cells, shown as the caller may see them (full or masked per their grants); dates are
//! Excel dates.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use dangjian_rules::member::{MemberStatus, PersonCategory};
use dangjian_store::person::{PersonFilter, PersonView};
use dangjian_store::{Cap, Scope, Store};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, Worksheet, XlsxError};
use serde::Deserialize;
use time::Date;

use super::{COLUMNS, ROSTER_SHEET, XLSX_CONTENT_TYPE, content_disposition};
use crate::AppState;
use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::extract::{ApiQuery, optional_enum, parse_enum};

/// People read from the database per page.
pub const PAGE: i64 = 5000;

/// Column widths (characters) in COLUMNS order; shared with the template.
pub const WIDTHS: [f64; 12] = [
    10.0, 6.0, 8.0, 12.0, 21.0, 14.0, 12.0, 10.0, 10.0, 12.0, 12.0, 30.0,
];

fn xlsx_error(e: XlsxError) -> AppError {
    AppError::Internal(anyhow::anyhow!("writing an xlsx file: {e}"))
}

/// Writes the roster sheet row by row.
pub struct ExportWriter {
    book: Workbook,
    row: u32,
    date: Format,
    text: Format,
}

/// The header row, widths and column formats of a roster sheet (export and template).
pub fn roster_header(
    sheet: &mut Worksheet,
    header: &Format,
    required: Option<&Format>,
) -> Result<(), XlsxError> {
    sheet.set_name(ROSTER_SHEET)?;
    for (i, col) in COLUMNS.iter().enumerate() {
        let c = i as u16;
        sheet.set_column_width(c, WIDTHS[i])?;
        let f = match required {
            Some(req) if col.required => req,
            _ => header,
        };
        sheet.write_string_with_format(0, c, col.header, f)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    Ok(())
}

/// An Excel date cell's value; None for dates Excel cannot hold (before 1900).
pub fn excel_date(d: Date) -> Option<ExcelDateTime> {
    let year = u16::try_from(d.year()).ok()?;
    ExcelDateTime::from_ymd(year, u8::from(d.month()), d.day()).ok()
}

pub fn date_format() -> Format {
    Format::new().set_num_format("yyyy-mm-dd")
}

pub fn text_format() -> Format {
    Format::new().set_num_format("@")
}

impl ExportWriter {
    pub fn new() -> Result<Self, XlsxError> {
        let mut book = Workbook::new();
        let sheet = book.add_worksheet_with_constant_memory()?;
        roster_header(sheet, &Format::new().set_bold(), None)?;
        Ok(Self {
            book,
            row: 1,
            date: date_format(),
            text: text_format(),
        })
    }

    pub fn write(&mut self, p: &PersonView) -> Result<(), XlsxError> {
        let row = self.row;
        let sheet = self.book.worksheet_from_index(0)?;
        let mut text = |col: u16, v: &str| -> Result<(), XlsxError> {
            if !v.is_empty() {
                sheet.write_string(row, col, v)?;
            }
            Ok(())
        };
        text(0, &p.name)?;
        text(1, p.gender.label_zh())?;
        text(2, p.ethnicity.as_deref().unwrap_or(""))?;
        text(6, p.education.as_deref().unwrap_or(""))?;
        text(7, p.category.label_zh())?;
        text(8, p.status.label_zh())?;
        text(11, p.work_unit.as_deref().unwrap_or(""))?;
        sheet.write_string_with_format(row, 4, &p.id_number, &self.text)?;
        if let Some(phone) = p.phone.as_deref().filter(|s| !s.is_empty()) {
            sheet.write_string_with_format(row, 5, phone, &self.text)?;
        }
        if p.birth_date.is_none() {
            // masked: the year only, as text (the date would give the ID number back)
            sheet.write_string_with_format(row, 3, p.birth_year.to_string(), &self.text)?;
        }
        for (col, d) in [(3u16, p.birth_date), (9, p.joined_on), (10, p.regularized_on)] {
            match d.map(|d| (d, excel_date(d))) {
                Some((_, Some(x))) => {
                    sheet.write_date_with_format(row, col, x, &self.date)?;
                }
                Some((d, None)) => {
                    sheet.write_string(row, col, d.to_string())?;
                }
                None => {}
            }
        }
        self.row += 1;
        Ok(())
    }

    /// The number of people written.
    pub fn count(&self) -> usize {
        (self.row - 1) as usize
    }

    pub fn finish(mut self) -> Result<Vec<u8>, XlsxError> {
        self.book.save_to_buffer()
    }
}

/// The roster of `filter` (its limit and offset are not read) as an .xlsx file, and the number
/// of people in it. Pages are read here and written on a blocking thread as they arrive.
pub async fn export(
    store: &Store,
    scope: &Scope,
    filter: &PersonFilter,
) -> AppResult<(Vec<u8>, usize, Vec<(i64, bool)>)> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<PersonView>>(2);
    let writer = tokio::task::spawn_blocking(move || -> Result<(Vec<u8>, usize), XlsxError> {
        let mut w = ExportWriter::new()?;
        while let Some(page) = rx.blocking_recv() {
            for p in &page {
                w.write(p)?;
            }
        }
        let n = w.count();
        Ok((w.finish()?, n))
    });
    let mut after = None;
    // who was exported in full, for the audit row of the export
    let mut shown: Vec<(i64, bool)> = Vec::new();
    let read = async {
        loop {
            let page = store.members().people_page(scope, filter, after, PAGE).await?;
            let full = page.len() as i64 == PAGE;
            let Some(last) = page.last() else { break };
            after = Some(last.id);
            shown.extend(page.iter().map(|p| (p.id, p.full_identity)));
            if tx.send(page).await.is_err() {
                // the writer stopped: its error is reported below
                break;
            }
            if !full {
                break;
            }
        }
        Ok::<(), AppError>(())
    }
    .await;
    drop(tx);
    let written = writer.await.map_err(|e| AppError::Internal(e.into()))?;
    read?;
    let (bytes, n) = written.map_err(xlsx_error)?;
    Ok((bytes, n, shown))
}

#[derive(Deserialize)]
pub struct ExportQuery {
    org: Option<i64>,
    subtree: Option<bool>,
    status: Option<String>,
    category: Option<String>,
    q: Option<String>,
}

/// The filter of an export: like the member search; the statuses default to the members
/// (正式党员 and 预备党员), the people an import takes.
pub fn filter(
    org: i64,
    subtree: bool,
    status: Option<&str>,
    category: Option<String>,
    q: Option<String>,
) -> AppResult<PersonFilter> {
    let statuses = match status.map(str::trim).filter(|s| !s.is_empty()) {
        None => vec![MemberStatus::Formal, MemberStatus::Probationary],
        Some(list) => list
            .split(',')
            .map(|s| parse_enum("status", s, MemberStatus::parse_label))
            .collect::<AppResult<Vec<_>>>()?,
    };
    Ok(PersonFilter {
        org_id: Some(org),
        subtree,
        statuses,
        category: optional_enum("category", category, PersonCategory::parse_label)?,
        q,
        limit: PAGE,
        offset: 0,
    })
}

/// The download's file name: `<org>-党员名册-<date>.xlsx`, without characters file systems refuse.
pub fn file_name(org_name: &str, today: Date) -> String {
    let safe: String = org_name
        .chars()
        .map(|c| {
            if "/\\:*?\"<>|".contains(c) || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    format!("{safe}-{ROSTER_SHEET}-{today}.xlsx")
}

/// `GET /api/v1/members/export?org=&subtree=&status=&category=&q=`.
pub async fn handler(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> AppResult<Response> {
    let scope = auth.scope(Cap::ReadMembers)?;
    let org_id = crate::extract::required("org", q.org)?;
    let f = filter(
        org_id,
        q.subtree.unwrap_or(false),
        q.status.as_deref(),
        q.category,
        q.q,
    )?;
    // the org must be visible (else 404, like the search)
    let org = state.store.orgs().org(&scope, org_id).await?;
    let (bytes, n, shown) = export(&state.store, &scope, &f).await?;
    state
        .store
        .members()
        .audit_full_reads(
            &scope,
            &auth.actor(),
            "export",
            shown,
            serde_json::json!({"org": org_id, "subtree": f.subtree, "q": f.q, "rows": n}),
        )
        .await?;
    tracing::info!(org_id, rows = n, "roster export");
    let name = file_name(&org.name, state.store.today());
    Ok((
        [
            (header::CONTENT_TYPE, XLSX_CONTENT_TYPE.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                content_disposition("roster.xlsx", &name),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        bytes,
    )
        .into_response())
}
