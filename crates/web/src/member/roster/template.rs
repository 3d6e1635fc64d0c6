//! The import template: the roster sheet's header (required columns in red), 身份证号 and 手机号
//! formatted as text so Excel keeps every digit, date columns as dates, drop-down lists for
//! 性别, 学历, 人员类别 and 党员状态; and a 填写说明 sheet describing every column and the rules.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use rust_xlsxwriter::{Color, DataValidation, DataValidationErrorStyle, Format, Workbook, XlsxError};

use super::export::{date_format, roster_header, text_format};
use super::{
    BIRTH_DATE, CATEGORY, COLUMNS, EDUCATION, GENDER, HELP_SHEET, ID_NUMBER, JOINED_ON, PHONE,
    REGULARIZED_ON, STATUS, STATUS_LABELS, XLSX_CONTENT_TYPE, category_labels, content_disposition,
};
use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::i18n::{Locale, current_locale, t};

/// The last sheet row the drop-down lists and formats cover (Excel's last row).
const LAST_ROW: u32 = 1_048_575;

/// The numbered import rules on the 填写说明 sheet (message keys).
const NOTES: &[&str] = &[
    "template.note.header",
    "template.note.dates",
    "template.note.text",
    "template.note.all_or_nothing",
    "template.note.duplicates",
    "template.note.dry_run",
    "template.note.org",
];

/// The template workbook, with its instructions in `locale` (headers are always Chinese).
pub fn build(locale: Locale) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let header = Format::new()
        .set_bold()
        .set_background_color(Color::RGB(0x00DD_EBF7));
    let required = header.clone().set_font_color(Color::RGB(0x00C0_0000));
    let text = text_format();
    let date = date_format();

    let sheet = book.add_worksheet();
    roster_header(sheet, &header, Some(&required))?;
    for col in [ID_NUMBER, PHONE] {
        sheet.set_column_format(col as u16, &text)?;
    }
    for col in [BIRTH_DATE, JOINED_ON, REGULARIZED_ON] {
        sheet.set_column_format(col as u16, &date)?;
    }
    let list = |items: &[&str], strict: bool| -> Result<DataValidation, XlsxError> {
        let v = DataValidation::new()
            .allow_list_strings(items)?
            .set_input_title(t(locale, "template.list_title", &[]))?
            .set_input_message(t(
                locale,
                "template.list_message",
                &[("values", items.join("、"))],
            ))?;
        Ok(if strict {
            v.set_error_style(DataValidationErrorStyle::Stop)
        } else {
            v.set_error_style(DataValidationErrorStyle::Information)
        })
    };
    let categories = category_labels();
    let validations: [(usize, DataValidation); 4] = [
        (GENDER, list(&["男", "女"], true)?),
        (EDUCATION, list(super::EDUCATION_LEVELS, false)?),
        (CATEGORY, list(&categories, true)?),
        (STATUS, list(STATUS_LABELS, true)?),
    ];
    for (col, v) in &validations {
        sheet.add_data_validation(1, *col as u16, LAST_ROW, *col as u16, v)?;
    }

    let help = book.add_worksheet();
    help.set_name(HELP_SHEET)?;
    help.set_column_width(0, 16.0)?;
    help.set_column_width(1, 10.0)?;
    help.set_column_width(2, 90.0)?;
    let wrap = Format::new().set_text_wrap();
    help.write_string_with_format(0, 0, t(locale, "template.col_header", &[]), &header)?;
    help.write_string_with_format(0, 1, t(locale, "template.col_required", &[]), &header)?;
    help.write_string_with_format(0, 2, t(locale, "template.col_rules", &[]), &header)?;
    let cat_list = categories.join("、");
    for (i, col) in COLUMNS.iter().enumerate() {
        let row = i as u32 + 1;
        let req = if col.required {
            "template.required"
        } else {
            "template.optional"
        };
        help.write_string(row, 0, col.header)?;
        help.write_string(row, 1, t(locale, req, &[]))?;
        let rule = t(
            locale,
            &format!("template.rule.{}", col.field),
            &[
                ("categories", cat_list.clone()),
                ("levels", super::EDUCATION_LEVELS.join("、")),
            ],
        );
        help.write_string_with_format(row, 2, rule, &wrap)?;
    }
    let mut row = COLUMNS.len() as u32 + 2;
    help.write_string_with_format(row, 0, t(locale, "template.notes_title", &[]), &header)?;
    for (n, key) in NOTES.iter().enumerate() {
        row += 1;
        help.write_string(row, 0, format!("{}", n + 1))?;
        help.merge_range(row, 1, row, 2, &t(locale, key, &[]), &wrap)?;
    }
    book.save_to_buffer()
}

/// `GET /api/v1/members/import-template`: any logged-in user (it holds no personal data).
pub async fn handler(_auth: Auth) -> AppResult<Response> {
    let locale = current_locale();
    let bytes = tokio::task::spawn_blocking(move || build(locale))
        .await
        .map_err(|e| AppError::Internal(e.into()))?
        .map_err(|e| AppError::Internal(anyhow::anyhow!("writing the template: {e}")))?;
    let name = t(locale, "template.file_name", &[]);
    Ok((
        [
            (header::CONTENT_TYPE, XLSX_CONTENT_TYPE.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                content_disposition("roster-template.xlsx", &name),
            ),
        ],
        bytes,
    )
        .into_response())
}
