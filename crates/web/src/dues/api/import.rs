//! The payroll sheet of dues bases: `POST /api/v1/orgs/{id}/dues-bases/import?year=&dry_run=&confirm=`
//! (multipart `file`). First sheet, header row 1: 姓名, 身份证号, 计算基数（元）, optional 人员类别.
//! Money is read exactly: a text cell or a number cell's shortest decimal form, at most two
//! decimals, as 分. Every bad row is listed (422 `import_rows_invalid`), nothing is stored.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::multipart::{Multipart, MultipartRejection};
use calamine::{Data, DataRef};
use dangjian_rules::member::PersonCategory;
use dangjian_rules::{IdNumber, RuleViolation};
use dangjian_store::Cap;
use dangjian_store::dues::import::BaseRow;
use dangjian_store::error::RowError;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::parse_year;
use super::views::BaseImportAnswer;
use crate::AppState;
use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::extract::{ApiPath, ApiQuery};
use crate::xlsx::{Deadline, Workbook};

/// At most this many rows a file.
const MAX_ROWS: usize = 20_000;

fn file_error(code: &'static str) -> AppError {
    AppError::Invalid(RuleViolation::field(code, "file"))
}

/// `"4500.5"` → 450050: digits with at most two decimals, read exactly (no floating point);
/// anything else → None.
pub(crate) fn yuan_digits_to_fen(t: &str) -> Option<i64> {
    let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
    if whole.is_empty() || frac.len() > 2 || !whole.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let w: i64 = whole.parse().ok()?;
    let f: i64 = format!("{frac:0<2}").parse().ok()?;
    w.checked_mul(100)?.checked_add(f)
}

/// A sheet's amount in 元 (`"3,000.01元"`) as 分; a leading '-' → `base_negative`.
pub(crate) fn parse_yuan(field: &'static str, s: &str) -> Result<i64, RuleViolation> {
    let t = s.trim().trim_end_matches('元').replace(',', "");
    if t.starts_with('-') {
        return Err(RuleViolation::field("base_negative", field));
    }
    yuan_digits_to_fen(&t)
        .ok_or_else(|| RuleViolation::field("dues_yuan_invalid", field).arg("value", s.trim()))
}

fn text(d: &Data) -> String {
    match d {
        Data::String(s) => s.trim().to_owned(),
        Data::Empty => String::new(),
        other => other.to_string(),
    }
}

#[derive(Default)]
struct Columns {
    name: Option<u32>,
    id_number: Option<u32>,
    base: Option<u32>,
    category: Option<u32>,
}

/// One row's cells by column; empty cells are not there (as in a dense range, which has them
/// as `Data::Empty`).
type Row = BTreeMap<u32, Data>;

fn columns(header: &Row) -> Result<Columns, Vec<RowError>> {
    let mut c = Columns::default();
    for (i, h) in header {
        let i = Some(*i);
        let h = text(h).replace(['（', '）', '(', ')', ' '], "");
        match h.as_str() {
            "姓名" => c.name = i,
            "身份证号" | "公民身份号码" => c.id_number = i,
            "计算基数元" | "计算基数" | "党费计算基数" | "党费计算基数元" => c.base = i,
            "人员类别" => c.category = i,
            _ => {}
        }
    }
    let mut errors = Vec::new();
    for (found, field) in [
        (c.name, "name"),
        (c.id_number, "id_number"),
        (c.base, "base_yuan"),
    ] {
        if found.is_none() {
            errors.push(RowError {
                row: 1,
                violation: RuleViolation::field("import_header_missing", field),
            });
        }
    }
    if errors.is_empty() { Ok(c) } else { Err(errors) }
}

/// The sheet as it is read: the header is the first row with a cell in it (its row counts as
/// row 1), then one person a row.
#[derive(Default)]
struct Sheet {
    header_row: Option<u32>,
    cols: Columns,
    good: Vec<BaseRow>,
    errors: Vec<RowError>,
}

impl Sheet {
    /// Row `r` (0-based) is complete. Errs with the header's errors, which end the reading.
    fn row(&mut self, r: u32, cells: &Row) -> AppResult<Result<(), Vec<RowError>>> {
        if cells.is_empty() {
            return Ok(Ok(()));
        }
        let Some(header_row) = self.header_row else {
            self.header_row = Some(r);
            match columns(cells) {
                Ok(c) => self.cols = c,
                Err(errors) => return Ok(Err(errors)),
            }
            return Ok(Ok(()));
        };
        if cells.values().all(|c| text(c).is_empty()) {
            return Ok(Ok(()));
        }
        if self.good.len() + self.errors.len() >= MAX_ROWS {
            return Err(AppError::Invalid(
                RuleViolation::field("import_too_many_rows", "file").arg("max", MAX_ROWS),
            ));
        }
        // rows come in order; a row above the header (a file out of order) would not underflow
        let n = r.saturating_sub(header_row) + 1;
        let cols = &self.cols;
        let get = |i: Option<u32>| i.and_then(|i| cells.get(&i)).unwrap_or(&Data::Empty);
        let errors = &mut self.errors;
        let mut err = |v: RuleViolation| errors.push(RowError { row: n, violation: v });
        let name = text(get(cols.name));
        if name.is_empty() {
            err(RuleViolation::field("field_required", "name"));
        }
        let id = match get(cols.id_number) {
            Data::Float(_) | Data::Int(_) => {
                err(RuleViolation::field("import_id_not_text", "id_number"));
                None
            }
            d => IdNumber::parse(&text(d)).map_err(&mut err).ok(),
        };
        let category = match text(get(cols.category)).as_str() {
            "" => Some(PersonCategory::InService),
            s => PersonCategory::parse_label(s).or_else(|| {
                err(RuleViolation::field("value_unknown", "category").arg("value", s));
                None
            }),
        };
        let base = match get(cols.base) {
            Data::Empty => Ok(None),
            Data::Int(i) => i
                .checked_mul(100)
                .filter(|v| *v >= 0)
                .map(Some)
                .ok_or_else(|| RuleViolation::field("base_negative", "base_yuan")),
            Data::Float(f) => parse_yuan("base_yuan", &format!("{f}")).map(Some),
            d => {
                let s = text(d);
                if s.is_empty() {
                    Ok(None)
                } else {
                    parse_yuan("base_yuan", &s).map(Some)
                }
            }
        };
        let base = base.map_err(&mut err).ok();
        if let (Some(id), Some(category), Some(base_fen), false) = (id, category, base, name.is_empty()) {
            self.good.push(BaseRow {
                row: n,
                name,
                id_number: id,
                category,
                base_fen,
            });
        }
        Ok(Ok(()))
    }
}

/// Reads the sheet: the good rows and every error of the bad ones. The file goes through the
/// guard first (`crate::xlsx`); the sheet is read cell by cell and the parse gives up after
/// `xlsx::limits::PARSE_TIME_LIMIT`.
pub fn parse(bytes: &[u8]) -> AppResult<(Vec<BaseRow>, Vec<RowError>)> {
    parse_within(bytes, Deadline::for_import())
}

/// `parse`, giving up at `deadline`.
pub fn parse_within(bytes: &[u8], deadline: Deadline) -> AppResult<(Vec<BaseRow>, Vec<RowError>)> {
    let mut book = Workbook::open(bytes, deadline)?;
    // a chart sheet first reads as an empty sheet
    let Some(mut cells) = book.first_sheet()? else {
        return Err(file_error("import_no_rows"));
    };
    let mut sheet = Sheet::default();
    let mut current: Option<u32> = None;
    let mut row = Row::new();
    loop {
        let next = cells.next_cell()?;
        let pos = next.as_ref().map(|c| c.get_position());
        if let Some(r) = current
            && pos.is_none_or(|(p, _)| p != r)
        {
            if let Err(header) = sheet.row(r, &row)? {
                return Ok((Vec::new(), header));
            }
            row.clear();
        }
        let Some(cell) = next else { break };
        let ((r, c), value) = (cell.get_position(), cell.get_value());
        current = Some(r);
        // a later cell at the same place wins, as in a dense range
        if !matches!(value, DataRef::Empty) {
            row.insert(c, Data::from(value.clone()));
        }
    }
    if sheet.header_row.is_none() || (sheet.good.is_empty() && sheet.errors.is_empty()) {
        return Err(file_error("import_no_rows"));
    }
    Ok((sheet.good, sheet.errors))
}

/// `parse` on a blocking thread: reading a sheet is CPU work, kept off the async workers.
pub async fn parse_file(file: Bytes) -> AppResult<(Vec<BaseRow>, Vec<RowError>)> {
    tokio::task::spawn_blocking(move || parse(&file))
        .await
        .map_err(|e| AppError::Internal(e.into()))?
}

#[derive(Deserialize)]
pub struct ImportQuery {
    year: Option<String>,
    dry_run: Option<bool>,
    confirm: Option<bool>,
}

/// `POST /api/v1/orgs/{id}/dues-bases/import?year=&dry_run=&confirm=` → 200 `{"imported":N}` (dry
/// run: `{"valid":N}`); 422 with `rows`; 409 `confirmation_required` above 1000 元 a month.
pub async fn handler(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(org_id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<ImportQuery>,
    multipart: Result<Multipart, MultipartRejection>,
) -> AppResult<Json<BaseImportAnswer>> {
    let scope = auth.scope(Cap::WriteMembers)?;
    // an org the caller does not see does not exist for them, whatever the file or year
    state.store.orgs().org(&scope, org_id).await?;
    let year = parse_year(q.year.as_deref())?;
    let mut multipart = multipart.map_err(|e| AppError::Malformed(None, e.body_text()))?;
    let mut file: Option<Bytes> = None;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| AppError::Malformed(None, e.body_text()))?
    {
        if field.name() == Some("file") {
            file = Some(
                field
                    .bytes()
                    .await
                    .map_err(|e| AppError::Malformed(None, e.body_text()))?,
            );
        }
    }
    let file = file.ok_or_else(|| AppError::Invalid(RuleViolation::field("field_required", "file")))?;
    let sha256 = hex::encode(Sha256::digest(&file));
    let (rows, mut errors) = parse_file(file).await?;
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.row);
        return Err(AppError::Rows(errors));
    }
    let dry_run = q.dry_run.unwrap_or(false);
    let out = state
        .store
        .dues()
        .import_dues_bases(
            &scope,
            &auth.actor(),
            org_id,
            year,
            rows,
            &sha256,
            dry_run,
            q.confirm.unwrap_or(false),
        )
        .await?;
    tracing::info!(org_id, rows = out.count, dry_run, "dues base import");
    let (imported, valid) = if out.written {
        (Some(out.count), None)
    } else {
        (None, Some(out.count))
    };
    Ok(Json(BaseImportAnswer {
        valid,
        imported,
        year,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{Reader, Xlsx};
    use rust_xlsxwriter::Workbook as Writer;

    /// The reading this import had before it went cell by cell (a dense range, which allocated
    /// rows × columns of the sheet's extent), kept to show the two agree on good files.
    fn dense(bytes: &[u8]) -> AppResult<(Vec<BaseRow>, Vec<RowError>)> {
        let mut book: Xlsx<_> =
            Xlsx::new(std::io::Cursor::new(bytes)).map_err(|_| file_error("import_not_xlsx"))?;
        let range = book
            .worksheet_range_at(0)
            .ok_or_else(|| file_error("import_not_xlsx"))?
            .map_err(|_| file_error("import_not_xlsx"))?;
        let mut rows = range.rows();
        let header = rows.next().ok_or_else(|| file_error("import_no_rows"))?;
        let header: Row = (0u32..).zip(header.iter().cloned()).collect();
        let cols = match columns(&header) {
            Ok(c) => c,
            Err(errors) => return Ok((Vec::new(), errors)),
        };
        let mut sheet = Sheet {
            header_row: Some(0),
            cols,
            ..Sheet::default()
        };
        for (r, cells) in (1u32..).zip(rows) {
            let cells: Row = (0u32..).zip(cells.iter().cloned()).collect();
            if let Err(e) = sheet.row(r, &cells)? {
                return Ok((Vec::new(), e));
            }
        }
        if sheet.good.is_empty() && sheet.errors.is_empty() {
            return Err(file_error("import_no_rows"));
        }
        Ok((sheet.good, sheet.errors))
    }

    enum V {
        T(&'static str),
        N(f64),
    }

    /// A sheet with `rows` starting at (`row0`, `col0`).
    fn book(row0: u32, col0: u16, rows: &[Vec<V>]) -> Vec<u8> {
        let mut w = Writer::new();
        let ws = w.add_worksheet();
        for (r, row) in (row0..).zip(rows) {
            for (c, v) in (col0..).zip(row) {
                match v {
                    V::T(s) => ws.write_string(r, c, *s).map(|_| ()),
                    V::N(n) => ws.write_number(r, c, *n).map(|_| ()),
                }
                .unwrap_or_else(|e| panic!("{e}"));
            }
        }
        w.save_to_buffer().unwrap_or_else(|e| panic!("{e}"))
    }

    fn outcome(r: AppResult<(Vec<BaseRow>, Vec<RowError>)>) -> String {
        match r {
            Ok((good, errors)) => format!("{good:?} {errors:?}"),
            Err(e) => e.code().to_owned(),
        }
    }

    #[test]
    fn cell_by_cell_reads_what_the_dense_range_read() {
        use V::{N, T};
        let header = || vec![T("姓名"), T("身份证号"), T("计算基数（元）"), T("人员类别")];
        let sheets = [
            book(
                0,
                0,
                &[header(), vec![T("张三"), T("11010519491231002X"), T("4500")]],
            ),
            // rows with errors, a blank row, a row of spaces, a number where text belongs
            book(
                0,
                0,
                &[
                    header(),
                    vec![T("张三"), T("110105194912310021"), N(2000.5)],
                    vec![],
                    vec![T("  "), T(" ")],
                    vec![T(""), N(110_105_199_002_030_220.0), T("12.345"), T("工人")],
                    vec![T("李四"), T("11010519491231002X"), N(-3.0)],
                ],
            ),
            // the sheet starts lower and further right: its first row with a cell is the header
            book(
                2,
                3,
                &[header(), vec![T("王五"), T("11010519491231002X"), T("abc")]],
            ),
            // a header twice (the right-hand one counts), and one missing
            book(0, 0, &[vec![T("姓名"), T("身份证号"), T("姓名")], vec![T("x")]]),
            book(0, 0, &[header()]),
            book(0, 0, &[]),
        ];
        for (i, bytes) in sheets.iter().enumerate() {
            assert_eq!(outcome(parse(bytes)), outcome(dense(bytes)), "sheet {i}");
        }
    }

    #[test]
    fn a_parse_past_its_deadline_gives_up() {
        let bytes = book(0, 0, &[vec![V::T("姓名")]]);
        let past = Deadline::after(std::time::Duration::ZERO);
        assert_eq!(outcome(parse_within(&bytes, past)), "xlsx_too_slow");
    }

    #[test]
    fn yuan_are_read_exactly_to_the_fen() {
        assert_eq!(parse_yuan("b", "4500"), Ok(450_000));
        assert_eq!(parse_yuan("b", "4500.5"), Ok(450_050));
        assert_eq!(parse_yuan("b", " 3,000.01元 "), Ok(300_001));
        assert_eq!(parse_yuan("b", &format!("{}", 3000.01_f64)), Ok(300_001));
        assert!(parse_yuan("b", "1.234").is_err());
        assert!(parse_yuan("b", "abc").is_err());
        assert_eq!(parse_yuan("b", "-5").map_err(|v| v.code), Err("base_negative"));
    }
}
