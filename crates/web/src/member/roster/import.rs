//! Roster import: the first sheet of an .xlsx, header in row 1 (found by name, any order), one
//! person a row. All or nothing: every bad row is listed (Excel's row number, the column's
//! header, the rule) and nothing is stored while any row is bad.
//!
//! Two phases, both used by the API, the CLI and the benchmark: `parse` (synchronous, CPU, run on
//! a blocking thread: the package is checked by `crate::xlsx`, then the sheet is streamed cell
//! by cell, each row checked and turned into a `NewPerson`) and `store`
//! (the database checks — duplicates on record — and the one-transaction insert).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::multipart::{Multipart, MultipartRejection};
use calamine::DataRef;
use dangjian_rules::member::{self, Gender, MemberStatus, PersonCategory};
use dangjian_rules::{IdNumber, RuleViolation};
use dangjian_store::error::RowError;
use dangjian_store::person::{ImportRow, NewPerson};
use dangjian_store::{Actor, Cap, Scope, Store};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use time::Date;

use super::{
    BIRTH_DATE, CATEGORY, COLUMNS, EDUCATION, ETHNICITY, GENDER, ID_NUMBER, JOINED_ON, NAME, PHONE,
    REGULARIZED_ON, STATUS, STATUS_LABELS, WORK_UNIT, category_labels, sort_errors,
};
use crate::AppState;
use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::extract::ApiQuery;
use crate::xlsx::{Deadline, Workbook};

/// The most people one file may hold (memory stays bounded; larger rosters go in batches).
pub const MAX_ROWS: usize = 200_000;

/// A cell's value as the checks need it.
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Empty,
    Text(String),
    /// A number cell (not date-formatted), as Excel stored it.
    Number(f64),
    Int(i64),
    Bool(bool),
    /// A date-formatted number cell; None when it is no calendar date (e.g. 1900-02-29).
    Date(Option<Date>),
    /// An error value such as `#N/A`.
    Error(String),
}

impl Cell {
    fn from_data(v: DataRef<'_>) -> Cell {
        match v {
            DataRef::Empty => Cell::Empty,
            DataRef::String(s) => Cell::Text(s),
            DataRef::SharedString(s) => Cell::Text(s.to_owned()),
            DataRef::Float(f) => Cell::Number(f),
            DataRef::Int(i) => Cell::Int(i),
            DataRef::Bool(b) => Cell::Bool(b),
            DataRef::DateTime(dt) if dt.is_datetime() => {
                let (y, m, d, ..) = dt.to_ymd_hms_milli();
                let date = time::Month::try_from(m)
                    .ok()
                    .and_then(|m| Date::from_calendar_date(i32::from(y), m, d).ok());
                Cell::Date(date)
            }
            DataRef::DateTime(dt) => Cell::Number(dt.as_f64()),
            DataRef::DateTimeIso(s) => match parse_text_date(s.get(..10).unwrap_or(&s)) {
                Some(d) => Cell::Date(Some(d)),
                None => Cell::Text(s),
            },
            DataRef::DurationIso(s) => Cell::Text(s),
            DataRef::Error(e) => Cell::Error(e.to_string()),
        }
    }

    fn is_blank(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(s) => s.trim().is_empty(),
            _ => false,
        }
    }

    /// The cell as the user sees it, for messages and text columns.
    fn display(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) => s.trim().to_owned(),
            Cell::Number(f) => format!("{f}"),
            Cell::Int(i) => i.to_string(),
            Cell::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_owned(),
            Cell::Date(Some(d)) => d.to_string(),
            Cell::Date(None) => "（无效日期）".to_owned(),
            Cell::Error(e) => e.clone(),
        }
    }
}

/// `YYYY-MM-DD`, `YYYY/MM/DD` or `YYYY.MM.DD` (month and day may have one digit).
pub fn parse_text_date(s: &str) -> Option<Date> {
    let s = s.trim();
    let sep = s.chars().find(|c| matches!(c, '-' | '/' | '.'))?;
    let mut parts = s.split(sep);
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some()
        || y.len() != 4
        || !(1..=2).contains(&m.len())
        || !(1..=2).contains(&d.len())
        || ![y, m, d].iter().all(|p| p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let month = time::Month::try_from(m.parse::<u8>().ok()?).ok()?;
    Date::from_calendar_date(y.parse().ok()?, month, d.parse().ok()?).ok()
}

/// What `parse` found: the good rows, ready to store, and every error of the bad ones.
#[derive(Debug, Default)]
pub struct Parsed {
    pub rows: Vec<ImportRow>,
    pub errors: Vec<RowError>,
    /// SHA-256 of the file, for the audit record.
    pub sha256: String,
}

/// A file-level refusal (not a row's): not an xlsx, no sheet, no people, too many.
fn file_error(code: &'static str) -> AppError {
    AppError::Invalid(RuleViolation::field(code, "file"))
}

/// Reads and checks the file's first sheet. The import goes into `org_id`; `today` is the date
/// the rows are judged on. File-level problems are errors; row problems are in `errors`. The
/// file goes through the guard first (`crate::xlsx`), and the parse gives up after
/// `xlsx::limits::PARSE_TIME_LIMIT`.
pub fn parse(bytes: &[u8], org_id: i64, today: Date) -> AppResult<Parsed> {
    parse_within(bytes, org_id, today, Deadline::for_import())
}

/// `parse`, giving up at `deadline`.
pub fn parse_within(bytes: &[u8], org_id: i64, today: Date, deadline: Deadline) -> AppResult<Parsed> {
    let sha256 = hex::encode(Sha256::digest(bytes));
    let mut book = Workbook::open(bytes, deadline)?;
    let Some(mut cells) = book.first_sheet()? else {
        return Err(file_error("import_not_xlsx"));
    };
    let mut out = Parsed {
        sha256,
        ..Parsed::default()
    };
    // the sheet's column index → position in COLUMNS, from the header row
    let mut header: Vec<(u32, String)> = Vec::new();
    let mut map: Vec<Option<usize>> = Vec::new();
    let mut current: Option<u32> = None;
    let mut row = vec![Cell::Empty; COLUMNS.len()];
    let mut people = 0usize;
    loop {
        let next = cells.next_cell()?;
        let pos = next.as_ref().map(|c| c.get_position());
        let row_changed = match (current, pos) {
            (Some(r), Some((p, _))) => p != r,
            (Some(_), None) => true,
            _ => false,
        };
        if row_changed && let Some(r) = current {
            if r > 0 && !map.is_empty() && !row.iter().all(Cell::is_blank) {
                people += 1;
                if people > MAX_ROWS {
                    return Err(AppError::Invalid(
                        RuleViolation::field("import_too_many_rows", "file").arg("max", MAX_ROWS),
                    ));
                }
                check_row(r + 1, &row, org_id, today, &mut out);
            }
            row.iter_mut().for_each(|c| *c = Cell::Empty);
        }
        let Some(cell) = next else { break };
        let (r, c) = cell.get_position();
        if r == 0 {
            header.push((c, Cell::from_data(cell.get_value().clone()).display()));
        } else {
            if map.is_empty() {
                // the first cell after the header row: the header is complete
                map = header_map(&header, &mut out.errors);
                if !out.errors.is_empty() {
                    return Ok(out);
                }
            }
            if let Some(Some(i)) = map.get(c as usize) {
                row[*i] = Cell::from_data(cell.get_value().clone());
            }
        }
        current = Some(r);
    }
    if map.is_empty() {
        if header.iter().all(|(_, h)| h.is_empty()) {
            return Err(file_error("import_no_rows"));
        }
        // nothing below the header: check the header anyway, so its errors come first
        map = header_map(&header, &mut out.errors);
        if out.errors.is_empty() && !map.is_empty() {
            return Err(file_error("import_no_rows"));
        }
    }
    if out.rows.is_empty() && out.errors.is_empty() {
        return Err(file_error("import_no_rows"));
    }
    sort_errors(&mut out.errors);
    Ok(out)
}

/// The header row: each known header's column. A required header missing, or a header twice,
/// is an error of row 1. The result has an entry per sheet column up to the last known one.
fn header_map(header: &[(u32, String)], errors: &mut Vec<RowError>) -> Vec<Option<usize>> {
    let mut map: Vec<Option<usize>> = Vec::new();
    let mut found = [false; COLUMNS.len()];
    for (c, text) in header {
        // tolerate a required-marker star and stray spaces
        let name: String = text
            .trim()
            .trim_end_matches(['*', '＊'])
            .chars()
            .filter(|ch| !ch.is_whitespace())
            .collect();
        let Some(i) = COLUMNS.iter().position(|col| col.header == name) else {
            continue;
        };
        if found[i] {
            errors.push(RowError {
                row: 1,
                violation: RuleViolation::field("import_header_duplicate", COLUMNS[i].field),
            });
            continue;
        }
        found[i] = true;
        let c = *c as usize;
        if map.len() <= c {
            map.resize(c + 1, None);
        }
        map[c] = Some(i);
    }
    for (i, col) in COLUMNS.iter().enumerate() {
        if col.required && !found[i] {
            errors.push(RowError {
                row: 1,
                violation: RuleViolation::field("import_header_missing", col.field),
            });
        }
    }
    if map.is_empty() {
        // no known header at all: still a map, so the rows are not read as headers
        map.push(None);
    }
    map
}

/// Checks one person row (Excel row number `row`); a good row becomes an `ImportRow`.
fn check_row(row: u32, cells: &[Cell], org_id: i64, today: Date, out: &mut Parsed) {
    // error values (#N/A, #VALUE!…) first: what else the row says cannot be judged without them
    let mut broken = false;
    for (i, c) in cells.iter().enumerate() {
        if let Cell::Error(e) = c {
            broken = true;
            out.errors.push(RowError {
                row,
                violation: RuleViolation::field("import_cell_error", COLUMNS[i].field).arg("value", e),
            });
        }
    }
    if broken {
        return;
    }
    let before = out.errors.len();
    let mut err = |v: RuleViolation| out.errors.push(RowError { row, violation: v });
    let field = |i: usize| COLUMNS[i].field;

    let name = required_text(NAME, &cells[NAME], 50, &mut err);
    let ethnicity = optional_text(ETHNICITY, &cells[ETHNICITY], 20, &mut err);
    let education = optional_text(EDUCATION, &cells[EDUCATION], 50, &mut err);
    let work_unit = optional_text(WORK_UNIT, &cells[WORK_UNIT], 200, &mut err);

    let id_number = match &cells[ID_NUMBER] {
        c if c.is_blank() => {
            err(RuleViolation::field("field_required", field(ID_NUMBER)));
            None
        }
        Cell::Text(s) if !looks_scientific(s) => match IdNumber::parse_on(s, today) {
            Ok(id) => Some(id),
            Err(v) => {
                err(v.on(field(ID_NUMBER)));
                None
            }
        },
        // a number cell keeps 15 significant digits: the rest of the number is gone
        _ => {
            err(RuleViolation::field("import_id_not_text", field(ID_NUMBER)));
            None
        }
    };

    let gender = match &cells[GENDER] {
        c if c.is_blank() => {
            err(RuleViolation::field("field_required", field(GENDER)));
            None
        }
        c => {
            let v = c.display();
            match Gender::parse_label(&v) {
                Some(g) => {
                    if let Some(Err(e)) = id_number
                        .as_ref()
                        .map(|id| member::check_id_gender(id.is_male(), g, field(GENDER)))
                    {
                        err(e);
                    }
                    Some(g)
                }
                None => {
                    err(RuleViolation::field("import_value_unknown", field(GENDER))
                        .arg("value", &v)
                        .arg("accepted", "男、女"));
                    None
                }
            }
        }
    };

    let status = match &cells[STATUS] {
        c if c.is_blank() => {
            err(RuleViolation::field("field_required", field(STATUS)));
            None
        }
        c => {
            let v = c.display();
            match MemberStatus::parse_label(&v).filter(|s| s.is_member()) {
                Some(s) => Some(s),
                None => {
                    err(RuleViolation::field("import_status_unknown", field(STATUS))
                        .arg("value", &v)
                        .arg("accepted", STATUS_LABELS.join("、")));
                    None
                }
            }
        }
    };

    let category = match &cells[CATEGORY] {
        c if c.is_blank() => Some(PersonCategory::InService),
        c => {
            let v = c.display();
            let found = PersonCategory::parse_label(&v);
            if found.is_none() {
                err(RuleViolation::field("import_value_unknown", field(CATEGORY))
                    .arg("value", &v)
                    .arg("accepted", category_labels().join("、")));
            }
            found
        }
    };

    let phone = match &cells[PHONE] {
        c if c.is_blank() => Some(None),
        Cell::Text(s) if !looks_scientific(s) => match crate::member::api::parse_phone(Some(s.clone())) {
            Ok(p) => Some(p),
            Err(_) => {
                err(RuleViolation::field("phone_invalid", field(PHONE)));
                None
            }
        },
        // an 11-digit mobile number survives a number cell; anything else lost digits
        // (a leading 0, or the tail under scientific notation)
        c @ (Cell::Number(_) | Cell::Int(_)) => {
            let digits = c.display();
            let intact = digits.len() == 11
                && digits.starts_with('1')
                && digits.bytes().all(|b| b.is_ascii_digit())
                && !digits.ends_with("0000");
            if intact {
                Some(Some(digits))
            } else {
                err(RuleViolation::field("import_phone_not_text", field(PHONE)));
                None
            }
        }
        _ => {
            err(RuleViolation::field("import_phone_not_text", field(PHONE)));
            None
        }
    };

    let birth_date = optional_date(BIRTH_DATE, &cells[BIRTH_DATE], &mut err);
    let joined_on = match &cells[JOINED_ON] {
        c if c.is_blank() => {
            err(RuleViolation::field("field_required", field(JOINED_ON)));
            None
        }
        _ => optional_date(JOINED_ON, &cells[JOINED_ON], &mut err).flatten(),
    };
    let regularized_on = optional_date(REGULARIZED_ON, &cells[REGULARIZED_ON], &mut err);
    if let Some(Some(r)) = regularized_on {
        if let Some(Err(e)) = status.map(|s| member::check_status_dates(s, Some(r), field(REGULARIZED_ON))) {
            err(e);
        } else if r > today {
            err(RuleViolation::field("date_in_future", field(REGULARIZED_ON)));
        }
    }

    if out.errors.len() > before {
        return;
    }
    let (
        Some(name),
        Some(ethnicity),
        Some(education),
        Some(work_unit),
        Some(id_number),
        Some(gender),
        Some(status),
        Some(category),
        Some(phone),
        Some(birth_date),
        Some(joined_on),
        Some(regularized_on),
    ) = (
        name,
        ethnicity,
        education,
        work_unit,
        id_number,
        gender,
        status,
        category,
        phone,
        birth_date,
        joined_on,
        regularized_on,
    )
    else {
        return;
    };
    out.rows.push(ImportRow {
        row,
        person: NewPerson {
            org_id,
            name,
            gender,
            ethnicity,
            birth_date: birth_date.unwrap_or_else(|| id_number.birth_date()),
            id_number,
            phone,
            education,
            category,
            status,
            joined_on: Some(joined_on),
            regularized_on,
            work_unit,
            recorded_on: None,
            history: Vec::new(),
        },
    });
}

/// Text such as `1.10105E+17`: a number Excel showed in scientific notation, copied as text.
fn looks_scientific(s: &str) -> bool {
    let s = s.trim().to_ascii_uppercase();
    s.contains("E+") && s.bytes().all(|b| b.is_ascii_digit() || b".E+".contains(&b))
}

fn text_of(i: usize, cell: &Cell, max: usize, err: &mut impl FnMut(RuleViolation)) -> Option<String> {
    let v = cell.display();
    if v.chars().count() > max {
        err(RuleViolation::field("text_too_long", COLUMNS[i].field).arg("max", max));
        return None;
    }
    Some(v)
}

fn required_text(i: usize, cell: &Cell, max: usize, err: &mut impl FnMut(RuleViolation)) -> Option<String> {
    if cell.is_blank() {
        err(RuleViolation::field("field_required", COLUMNS[i].field));
        return None;
    }
    text_of(i, cell, max, err)
}

/// `Some(None)` for a blank cell, `Some(Some(text))` for a good one, `None` after an error.
fn optional_text(
    i: usize,
    cell: &Cell,
    max: usize,
    err: &mut impl FnMut(RuleViolation),
) -> Option<Option<String>> {
    if cell.is_blank() {
        return Some(None);
    }
    text_of(i, cell, max, err).map(Some)
}

/// A date cell or date text; `Some(None)` for a blank cell, `None` after an error.
fn optional_date(i: usize, cell: &Cell, err: &mut impl FnMut(RuleViolation)) -> Option<Option<Date>> {
    let date = match cell {
        c if c.is_blank() => return Some(None),
        Cell::Date(Some(d)) => Some(*d),
        Cell::Text(s) => parse_text_date(s),
        _ => None,
    };
    if date.is_none() {
        err(RuleViolation::field("import_date_invalid", COLUMNS[i].field).arg("value", cell.display()));
        return None;
    }
    Some(date)
}

/// Stores what `parse` found, or lists every bad row: the rows' own errors and, for the good
/// rows, the rules that need the database (dates, duplicates in the file and on record). A dry
/// run checks everything and stores nothing. Returns the number of people (to be) imported.
pub async fn store(
    store: &Store,
    scope: &Scope,
    actor: &Actor,
    org_id: i64,
    parsed: Parsed,
    dry_run: bool,
) -> AppResult<usize> {
    let Parsed {
        rows,
        mut errors,
        sha256,
    } = parsed;
    if dry_run || !errors.is_empty() {
        let checked = store.members().check_import(scope, org_id, &rows).await?;
        // numbers on record elsewhere: refused without saying where, and the try audited
        let on_record: Vec<String> = checked
            .iter()
            .filter(|e| e.violation.code == "id_number_duplicate")
            .filter_map(|e| rows.iter().find(|r| r.row == e.row))
            .map(|r| r.person.id_number.masked())
            .collect();
        if !on_record.is_empty() {
            let path = store.orgs().org(scope, org_id).await?.path;
            store
                .members()
                .audit_id_probe(actor, &path, &on_record, "import_check")
                .await?;
        }
        errors.extend(checked);
        if !errors.is_empty() {
            sort_errors(&mut errors);
            return Err(AppError::Rows(errors));
        }
        return Ok(rows.len());
    }
    let summary = store
        .members()
        .import_people(scope, actor, org_id, &rows, Some(&sha256))
        .await?;
    Ok(summary.count)
}

/// The org an import goes into: in the scope (else 404) and a branch or group (else 422
/// `org_holds_no_members` on `org`). Checked before the file is read.
pub async fn target_org(st: &Store, scope: &Scope, org_id: i64) -> AppResult<dangjian_store::org::OrgRow> {
    let target = st.orgs().org(scope, org_id).await?;
    if !target.kind().holds_members() {
        return Err(RuleViolation::field("org_holds_no_members", "org")
            .arg("kind", target.kind().label_zh())
            .into());
    }
    Ok(target)
}

/// The whole import: parse off the async workers, then store (or only check, for a dry run).
pub async fn run(
    st: &Store,
    scope: &Scope,
    actor: &Actor,
    org_id: i64,
    file: Bytes,
    dry_run: bool,
) -> AppResult<usize> {
    let today = st.today();
    let parsed = tokio::task::spawn_blocking(move || parse(&file, org_id, today))
        .await
        .map_err(|e| AppError::Internal(e.into()))??;
    store(st, scope, actor, org_id, parsed, dry_run).await
}

#[derive(Deserialize)]
pub struct ImportQuery {
    dry_run: Option<bool>,
}

/// `POST /api/v1/members/import` (multipart `file`, `org`; `?dry_run=true`).
pub async fn handler(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<ImportQuery>,
    multipart: Result<Multipart, MultipartRejection>,
) -> AppResult<Json<ImportAnswer>> {
    let scope = auth.scope(Cap::WriteMembers)?;
    let mut multipart = multipart.map_err(|e| AppError::Malformed(None, e.body_text()))?;
    let mut file: Option<Bytes> = None;
    let mut org: Option<String> = None;
    let mut dry_run = q.dry_run.unwrap_or(false);
    let field_error = |e: axum::extract::multipart::MultipartError| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            AppError::TooLarge
        } else {
            AppError::Malformed(None, e.body_text())
        }
    };
    while let Some(field) = multipart.next_field().await.map_err(field_error)? {
        match field.name() {
            Some("file") => file = Some(field.bytes().await.map_err(field_error)?),
            Some("org") => org = Some(field.text().await.map_err(field_error)?),
            Some("dry_run") => dry_run |= field.text().await.map_err(field_error)?.trim() == "true",
            _ => {}
        }
    }
    let org = org.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    let Some(org) = org else {
        return Err(RuleViolation::field("field_required", "org").into());
    };
    // an id that is no number names no org the caller can see
    let org_id: i64 = org.parse().map_err(|_| AppError::NotFound)?;
    target_org(&state.store, &scope, org_id).await?;
    let file = match file {
        Some(f) if !f.is_empty() => f,
        Some(_) => return Err(file_error("import_not_xlsx")),
        None => return Err(RuleViolation::field("field_required", "file").into()),
    };
    let n = run(&state.store, &scope, &auth.actor(), org_id, file, dry_run).await?;
    tracing::info!(org_id, rows = n, dry_run, "roster import");
    Ok(Json(if dry_run {
        ImportAnswer {
            valid: Some(n),
            imported: None,
        }
    } else {
        ImportAnswer {
            valid: None,
            imported: Some(n),
        }
    }))
}

/// What an import did: `{"valid": n}` after a dry run, `{"imported": n}` after the real one.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ImportAnswer {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub imported: Option<usize>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_dates_take_three_separators() {
        let d = time::macros::date!(2015 - 07 - 01);
        for s in [
            "2015-07-01",
            "2015/07/01",
            "2015.07.01",
            "2015-7-1",
            " 2015/7/01 ",
        ] {
            assert_eq!(parse_text_date(s), Some(d), "{s}");
        }
        for s in [
            "2015-13-01",
            "15-07-01",
            "2015-07",
            "2015-07/01",
            "2015年7月1日",
            "20150701",
        ] {
            assert_eq!(parse_text_date(s), None, "{s}");
        }
    }

    #[test]
    fn scientific_notation_is_recognized() {
        assert!(looks_scientific("1.10105E+17"));
        assert!(looks_scientific("1.38123e+10"));
        assert!(!looks_scientific("11010519491231002X"));
    }

    #[test]
    fn the_template_passes_the_guard_and_a_late_parse_gives_up() {
        let today = time::macros::date!(2026 - 11 - 25);
        let template = crate::member::roster::template::build(crate::i18n::Locale::ZhCn).unwrap_or_default();
        assert_eq!(parse(&template, 1, today).unwrap_err().code(), "import_no_rows");
        let past = Deadline::after(std::time::Duration::ZERO);
        assert_eq!(
            parse_within(&template, 1, today, past).unwrap_err().code(),
            "xlsx_too_slow"
        );
    }

    #[test]
    fn a_file_that_is_no_xlsx_is_refused() {
        let today = time::macros::date!(2026 - 11 - 25);
        for bytes in [&b""[..], b"not a spreadsheet", b"PK\x03\x04garbage"] {
            let e = parse(bytes, 1, today).unwrap_err();
            assert_eq!(e.code(), "import_not_xlsx");
        }
    }
}
