//! The Excel roster (API.md "Roster import template"): import (`import.rs`, read with calamine,
//! all or nothing), export (`export.rs`, written page by page with rust_xlsxwriter) and the
//! import template (`template.rs`). One column list serves all three, so the export re-imports.

pub mod export;
pub mod import;
pub mod template;

use dangjian_rules::member::PersonCategory;
use dangjian_store::error::RowError;

use crate::i18n::{Locale, t};

/// A roster column: its header (as in the file, the contract), the API field name its errors
/// carry, and whether a person row must fill it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub header: &'static str,
    pub field: &'static str,
    pub required: bool,
}

const fn col(header: &'static str, field: &'static str, required: bool) -> Column {
    Column {
        header,
        field,
        required,
    }
}

/// The columns in the template's order (API.md).
pub const COLUMNS: [Column; 12] = [
    col("姓名", "name", true),
    col("性别", "gender", true),
    col("民族", "ethnicity", false),
    col("出生日期", "birth_date", false),
    col("身份证号", "id_number", true),
    col("手机号", "phone", false),
    col("学历", "education", false),
    col("人员类别", "category", false),
    col("党员状态", "status", true),
    col("入党日期", "joined_on", true),
    col("转正日期", "regularized_on", false),
    col("工作单位及职务", "work_unit", false),
];

// positions in COLUMNS
pub(crate) const NAME: usize = 0;
pub(crate) const GENDER: usize = 1;
pub(crate) const ETHNICITY: usize = 2;
pub(crate) const BIRTH_DATE: usize = 3;
pub(crate) const ID_NUMBER: usize = 4;
pub(crate) const PHONE: usize = 5;
pub(crate) const EDUCATION: usize = 6;
pub(crate) const CATEGORY: usize = 7;
pub(crate) const STATUS: usize = 8;
pub(crate) const JOINED_ON: usize = 9;
pub(crate) const REGULARIZED_ON: usize = 10;
pub(crate) const WORK_UNIT: usize = 11;

/// The name of the roster sheet (first sheet of the template and of an export).
pub const ROSTER_SHEET: &str = "党员名册";
/// The name of the template's instructions sheet.
pub const HELP_SHEET: &str = "填写说明";

/// The 学历 values the template offers (others are accepted too).
pub const EDUCATION_LEVELS: &[&str] = &[
    "博士研究生",
    "硕士研究生",
    "大学本科",
    "大学专科",
    "中专",
    "高中",
    "初中及以下",
];

/// The statuses an import accepts, as written in the file.
pub const STATUS_LABELS: &[&str] = &["正式党员", "预备党员"];

pub fn category_labels() -> Vec<&'static str> {
    PersonCategory::ALL.iter().map(|c| c.label_zh()).collect()
}

/// The column of an API field name (errors carry field names; the file has headers).
pub fn column_of(field: &str) -> Option<usize> {
    COLUMNS.iter().position(|c| c.field == field)
}

/// A row error as shown to the user: the column's header and the message in `locale`, which
/// names the rule (the header fills the message's `{field}`).
pub fn row_message(locale: Locale, e: &RowError) -> (String, String) {
    let header = e
        .violation
        .field
        .map(|f| {
            column_of(f).map_or_else(
                || t(locale, &format!("field.{f}"), &[]),
                |i| COLUMNS[i].header.to_owned(),
            )
        })
        .unwrap_or_default();
    let mut args: Vec<(&str, String)> = e.violation.args.iter().map(|(k, v)| (*k, v.clone())).collect();
    args.push(("field", header.clone()));
    (header, t(locale, e.violation.code, &args))
}

/// Sorts row errors by row, then by column order, so a list reads like the sheet.
pub fn sort_errors(errors: &mut [RowError]) {
    errors.sort_by_key(|e| (e.row, e.violation.field.and_then(column_of).unwrap_or(usize::MAX)));
}

/// `Content-Disposition` for a download named `name` (RFC 6266/5987: an ASCII fallback and
/// the UTF-8 name percent-encoded).
pub fn content_disposition(fallback: &str, name: &str) -> String {
    let mut enc = String::with_capacity(name.len() * 3);
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            enc.push(char::from(b));
        } else {
            enc.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{enc}")
}

pub const XLSX_CONTENT_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

#[cfg(test)]
mod tests {
    use super::*;
    use dangjian_rules::RuleViolation;

    #[test]
    fn a_disposition_carries_the_chinese_name_percent_encoded() {
        assert_eq!(
            content_disposition("roster.xlsx", "第一支部 1.xlsx"),
            "attachment; filename=\"roster.xlsx\"; filename*=UTF-8''%E7%AC%AC%E4%B8%80%E6%94%AF%E9%83%A8%201.xlsx"
        );
    }

    #[test]
    fn a_row_message_names_the_column() {
        let e = RowError {
            row: 3,
            violation: RuleViolation::field("field_required", "joined_on"),
        };
        assert_eq!(
            row_message(Locale::ZhCn, &e),
            ("入党日期".to_owned(), "请填写“入党日期”".to_owned())
        );
    }
}
