//! The payroll sheet of dues bases: `POST /api/v1/orgs/{id}/dues-bases/import?year=&dry_run=&confirm=`
//! (multipart `file`). First sheet, header row 1: 姓名, 身份证号, 计算基数（元）, optional 人员类别.
//! Money is read exactly: a text cell or a number cell's shortest decimal form, at most two
//! decimals, as 分. Every bad row is listed (422 `import_rows_invalid`), nothing is stored.

use std::io::Cursor;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::multipart::{Multipart, MultipartRejection};
use calamine::{Data, Reader, Xlsx};
use dangjian_rules::member::PersonCategory;
use dangjian_rules::{IdNumber, RuleViolation};
use dangjian_store::Cap;
use dangjian_store::dues::import::BaseRow;
use dangjian_store::error::RowError;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::parse_year;
use crate::AppState;
use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::extract::{ApiPath, ApiQuery};

/// At most this many rows a file.
const MAX_ROWS: usize = 20_000;

fn file_error(code: &'static str) -> AppError {
    AppError::Invalid(RuleViolation::field(code, "file"))
}

/// `"4500.5"` → 450050: digits with at most two decimals; a leading '-' → `base_negative`.
pub(crate) fn parse_yuan(field: &'static str, s: &str) -> Result<i64, RuleViolation> {
    let t = s.trim().trim_end_matches('元').replace(',', "");
    let bad = || RuleViolation::field("dues_yuan_invalid", field).arg("value", s.trim());
    if t.starts_with('-') {
        return Err(RuleViolation::field("base_negative", field));
    }
    let (whole, frac) = t.split_once('.').unwrap_or((t.as_str(), ""));
    if whole.is_empty() || frac.len() > 2 || !whole.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let w: i64 = whole.parse().map_err(|_| bad())?;
    let f: i64 = format!("{frac:0<2}").parse().map_err(|_| bad())?;
    w.checked_mul(100).and_then(|v| v.checked_add(f)).ok_or_else(bad)
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
    name: Option<usize>,
    id_number: Option<usize>,
    base: Option<usize>,
    category: Option<usize>,
}

fn columns(header: &[Data]) -> Result<Columns, Vec<RowError>> {
    let mut c = Columns::default();
    for (i, h) in header.iter().enumerate() {
        let h = text(h).replace(['（', '）', '(', ')', ' '], "");
        match h.as_str() {
            "姓名" => c.name = Some(i),
            "身份证号" | "公民身份号码" => c.id_number = Some(i),
            "计算基数元" | "计算基数" | "党费计算基数" | "党费计算基数元" => {
                c.base = Some(i)
            }
            "人员类别" => c.category = Some(i),
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

/// Reads the sheet: the good rows and every error of the bad ones.
pub(crate) fn parse(bytes: &[u8]) -> AppResult<(Vec<BaseRow>, Vec<RowError>)> {
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|_| file_error("import_not_xlsx"))?;
    let range = book
        .worksheet_range_at(0)
        .ok_or_else(|| file_error("import_not_xlsx"))?
        .map_err(|_| file_error("import_not_xlsx"))?;
    let mut rows = range.rows();
    let header = rows.next().ok_or_else(|| file_error("import_no_rows"))?;
    let cols = match columns(header) {
        Ok(c) => c,
        Err(errors) => return Ok((Vec::new(), errors)),
    };
    let (mut good, mut errors) = (Vec::new(), Vec::new());
    for (n, cells) in (2u32..).zip(rows) {
        let get = |i: Option<usize>| i.and_then(|i| cells.get(i)).unwrap_or(&Data::Empty);
        if cells.iter().all(|c| text(c).is_empty()) {
            continue;
        }
        if good.len() + errors.len() >= MAX_ROWS {
            return Err(AppError::Invalid(
                RuleViolation::field("import_too_many_rows", "file").arg("max", MAX_ROWS),
            ));
        }
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
            good.push(BaseRow {
                row: n,
                name,
                id_number: id,
                category,
                base_fen,
            });
        }
    }
    if good.is_empty() && errors.is_empty() {
        return Err(file_error("import_no_rows"));
    }
    Ok((good, errors))
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
) -> AppResult<Json<Value>> {
    let scope = auth.scope(Cap::WriteMembers)?;
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
    let (rows, mut errors) = parse(&file)?;
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.row);
        return Err(AppError::Rows(errors));
    }
    let dry_run = q.dry_run.unwrap_or(false);
    let out = state
        .store
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
    Ok(Json(if out.written {
        json!({"imported": out.count, "year": year})
    } else {
        json!({"valid": out.count, "year": year})
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

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
