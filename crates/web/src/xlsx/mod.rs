//! Every uploaded .xlsx is read through here (issue 11: a 5 KB file declaring a trillion shared
//! strings, or one cell at XFD1048576, made calamine reserve terabytes and abort the process).
//!
//! - `guard.rs` checks the package before calamine sees it: a real zip, not too many parts, each
//!   part's *inflated* size and compression ratio, `[Content_Types].xml` and the workbook part,
//!   and in every XML part (`scan.rs`, streaming) the nesting depth, the shared-string counts
//!   and every `<dimension>`, row and cell reference — all within `limits.rs`.
//! - `Workbook` then opens the file with calamine and `Cells` reads a sheet cell by cell (never
//!   as a dense range), refusing any cell beyond the row and column bounds and giving up when
//!   the deadline passes, so a parse on a blocking thread ends by itself.
//!
//! Each refusal is a `Refusal`, answered 422 with its own code on the field `file`.

mod guard;
pub mod limits;
mod scan;

use std::io::Cursor;
use std::time::{Duration, Instant};

use calamine::{Cell, DataRef, Reader, Xlsx, XlsxCellReader, XlsxError};
use dangjian_rules::RuleViolation;

use crate::error::AppError;
pub use guard::check;
pub use limits::Limits;

/// When a parse must give up. Checked between chunks and cells: a blocking thread cannot be
/// cancelled, so the work stops itself.
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    start: Instant,
    limit: Duration,
}

impl Deadline {
    pub fn after(limit: Duration) -> Self {
        Self {
            start: Instant::now(),
            limit,
        }
    }

    /// The deadline of one import's parse (`limits::PARSE_TIME_LIMIT` from now).
    pub fn for_import() -> Self {
        Self::after(limits::PARSE_TIME_LIMIT)
    }

    pub fn check(&self) -> Result<(), Refusal> {
        if self.start.elapsed() > self.limit {
            return Err(Refusal::TooSlow {
                seconds: self.limit.as_secs(),
            });
        }
        Ok(())
    }
}

/// Why a file is refused. Part names are the file's own (shortened for messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Not a zip at all (or empty, or an old .xls), or calamine cannot read it.
    NotXlsx,
    /// A zip whose end (the central directory) is missing.
    Truncated,
    /// A zip or XML part that cannot be read.
    Damaged {
        part: String,
    },
    TooManyParts,
    PartTooLarge {
        part: String,
    },
    TotalTooLarge,
    Bomb {
        part: String,
    },
    /// No `[Content_Types].xml`, no workbook part, or not a spreadsheet's.
    NotAWorkbook,
    DeclaredCounts {
        part: String,
        attribute: String,
        value: String,
    },
    TooManyCells {
        reference: String,
    },
    TooDeep {
        part: String,
    },
    TooSlow {
        seconds: u64,
    },
}

/// A name from the file, as a message shows it.
fn shown(s: &str) -> String {
    let mut out: String = s.chars().filter(|c| !c.is_control()).take(80).collect();
    if s.chars().count() > 80 {
        out.push('…');
    }
    out
}

impl Refusal {
    pub fn code(&self) -> &'static str {
        self.violation().code
    }

    /// The refusal as the API answers it (422 on `file`; the message names the problem).
    pub fn violation(&self) -> RuleViolation {
        const FIELD: &str = "file";
        let mib = |b: u64| b / (1024 * 1024);
        match self {
            Refusal::NotXlsx => RuleViolation::field("import_not_xlsx", FIELD),
            Refusal::Truncated => RuleViolation::field("xlsx_truncated", FIELD),
            Refusal::Damaged { part } if part.is_empty() => RuleViolation::field("xlsx_damaged_zip", FIELD),
            Refusal::Damaged { part } => RuleViolation::field("xlsx_damaged", FIELD).arg("part", shown(part)),
            Refusal::TooManyParts => {
                RuleViolation::field("xlsx_too_many_parts", FIELD).arg("max", limits::MAX_PARTS)
            }
            Refusal::PartTooLarge { part } => RuleViolation::field("xlsx_too_large", FIELD)
                .arg("part", shown(part))
                .arg("max_mib", mib(limits::MAX_PART_BYTES)),
            Refusal::TotalTooLarge => RuleViolation::field("xlsx_too_large_total", FIELD)
                .arg("max_mib", mib(limits::MAX_TOTAL_BYTES)),
            Refusal::Bomb { part } => RuleViolation::field("xlsx_bomb", FIELD)
                .arg("part", shown(part))
                .arg("max", limits::MAX_RATIO),
            Refusal::NotAWorkbook => RuleViolation::field("xlsx_not_a_workbook", FIELD),
            Refusal::DeclaredCounts {
                part,
                attribute,
                value,
            } => RuleViolation::field("xlsx_declared_counts", FIELD)
                .arg("part", shown(part))
                .arg("attribute", shown(attribute))
                .arg("value", shown(value)),
            Refusal::TooManyCells { reference } => RuleViolation::field("xlsx_too_many_cells", FIELD)
                .arg("reference", shown(reference))
                .arg("rows", limits::MAX_SHEET_ROWS)
                .arg("columns", limits::MAX_SHEET_COLUMNS)
                .arg(
                    "last",
                    format!(
                        "{}{}",
                        scan::column_name(limits::MAX_SHEET_COLUMNS),
                        limits::MAX_SHEET_ROWS
                    ),
                ),
            Refusal::TooDeep { part } => RuleViolation::field("xlsx_too_deep", FIELD)
                .arg("part", shown(part))
                .arg("max", limits::MAX_XML_DEPTH),
            Refusal::TooSlow { seconds } => {
                RuleViolation::field("xlsx_too_slow", FIELD).arg("seconds", seconds)
            }
        }
    }
}

impl From<Refusal> for AppError {
    fn from(r: Refusal) -> Self {
        AppError::Invalid(r.violation())
    }
}

/// A checked workbook, open in calamine.
pub struct Workbook<'b> {
    book: Xlsx<Cursor<&'b [u8]>>,
    deadline: Deadline,
    limits: Limits,
}

impl<'b> Workbook<'b> {
    /// Checks the package (`guard::check`) and opens it.
    pub fn open(bytes: &'b [u8], deadline: Deadline) -> Result<Self, Refusal> {
        Self::open_within(bytes, Limits::DEFAULT, deadline)
    }

    pub fn open_within(bytes: &'b [u8], limits: Limits, deadline: Deadline) -> Result<Self, Refusal> {
        check(bytes, &limits, &deadline)?;
        let book = Xlsx::new(Cursor::new(bytes)).map_err(|_| Refusal::NotXlsx)?;
        deadline.check()?;
        Ok(Self {
            book,
            deadline,
            limits,
        })
    }

    /// The cells of the first sheet; None when it is no worksheet (a chart sheet). A workbook
    /// without sheets is no .xlsx an import can read.
    pub fn first_sheet(&mut self) -> Result<Option<Cells<'_, 'b>>, Refusal> {
        let Some(name) = self.book.sheet_names().into_iter().next() else {
            return Err(Refusal::NotXlsx);
        };
        match self.book.worksheet_cells_reader(&name) {
            Ok(reader) => Ok(Some(Cells {
                reader,
                deadline: self.deadline,
                limits: self.limits,
                read: 0,
            })),
            Err(XlsxError::NotAWorksheet(_)) => Ok(None),
            Err(_) => Err(Refusal::NotXlsx),
        }
    }
}

/// A sheet, cell by cell in the file's order (rows top down, each row's cells left to right in
/// what Excel writes); positions are 0-based (row, column) as calamine gives them.
pub struct Cells<'a, 'b> {
    reader: XlsxCellReader<'a, Cursor<&'b [u8]>>,
    deadline: Deadline,
    limits: Limits,
    read: u64,
}

impl<'a> Cells<'a, '_> {
    pub fn next_cell(&mut self) -> Result<Option<Cell<DataRef<'a>>>, Refusal> {
        self.read += 1;
        if self.read.is_multiple_of(256) {
            self.deadline.check()?;
        }
        let Some(cell) = self.reader.next_cell().map_err(|_| Refusal::NotXlsx)? else {
            return Ok(None);
        };
        let (row, col) = cell.get_position();
        // the guard saw every written reference; a cell without one is placed by counting
        if row >= self.limits.rows || col >= self.limits.columns {
            return Err(Refusal::TooManyCells {
                reference: format!(
                    "{}{}",
                    scan::column_name(col.saturating_add(1)),
                    u64::from(row) + 1
                ),
            });
        }
        Ok(Some(cell))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::{EN, Locale, ZH_CN, parse_catalog, t};

    fn all() -> Vec<Refusal> {
        let part = || "xl/worksheets/sheet1.xml".to_owned();
        vec![
            Refusal::NotXlsx,
            Refusal::Truncated,
            Refusal::Damaged { part: String::new() },
            Refusal::Damaged { part: part() },
            Refusal::TooManyParts,
            Refusal::PartTooLarge { part: part() },
            Refusal::TotalTooLarge,
            Refusal::Bomb { part: part() },
            Refusal::NotAWorkbook,
            Refusal::DeclaredCounts {
                part: part(),
                attribute: "uniqueCount".into(),
                value: "1000000000000".into(),
            },
            Refusal::TooManyCells {
                reference: "XFD1048576".into(),
            },
            Refusal::TooDeep { part: part() },
            Refusal::TooSlow { seconds: 10 },
        ]
    }

    #[test]
    fn every_refusal_has_a_message_in_both_languages_with_its_values_filled() {
        let (zh, en) = (parse_catalog(ZH_CN), parse_catalog(EN));
        for r in all() {
            let v = r.violation();
            assert!(zh.contains_key(v.code) && en.contains_key(v.code), "{}", v.code);
            for locale in [Locale::ZhCn, Locale::En] {
                let args: Vec<(&str, String)> = v.args.iter().map(|(k, v)| (*k, v.clone())).collect();
                let m = t(locale, v.code, &args);
                assert!(!m.contains('{'), "{}: {m}", v.code);
                for (_, value) in &v.args {
                    assert!(m.contains(value.as_str()), "{} does not say {value}: {m}", v.code);
                }
            }
        }
    }

    #[test]
    fn a_too_many_cells_message_names_the_bounds() {
        let v = Refusal::TooManyCells {
            reference: "XFD1048576".into(),
        }
        .violation();
        let args: Vec<(&str, String)> = v.args.iter().map(|(k, v)| (*k, v.clone())).collect();
        let m = t(Locale::ZhCn, v.code, &args);
        assert!(
            m.contains("XFD1048576") && m.contains("300000") && m.contains("IV300000"),
            "{m}"
        );
    }

    #[test]
    fn names_from_the_file_are_shortened_for_messages() {
        assert_eq!(shown("xl/a.xml"), "xl/a.xml");
        assert_eq!(shown(&"x".repeat(200)).chars().count(), 81);
        assert_eq!(shown("a\u{0}\nb"), "ab");
    }
}
