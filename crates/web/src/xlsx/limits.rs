//! What an uploaded workbook may be, in one place. Every import reads through these bounds, so a
//! file's cost in memory and time is bounded by them, not by what the file declares.
//!
//! Reference points: the roster import takes at most 200,000 people a file
//! (`roster::import::MAX_ROWS`); such a file as the export writes it is 10.7 MiB, its sheet part
//! 134 MB of XML deflated 12.6 : 1; no part of the template or of an export nests deeper than 8.

use std::time::Duration;

/// Parts (zip entries) in one package. A workbook from Excel has 10–30; many sheets, pictures
/// and charts stay in the hundreds.
pub const MAX_PARTS: usize = 1_000;

/// The decompressed size of any one part, counted while inflating (never the size the zip
/// declares). Twice the sheet of the largest roster a file may hold.
pub const MAX_PART_BYTES: u64 = 256 * 1024 * 1024;

/// The decompressed size of all parts together: the largest roster's sheet and shared strings
/// with room to spare, and a bound on the time one file can cost (each part is inflated twice:
/// by the guard, then by calamine for the parts it reads).
pub const MAX_TOTAL_BYTES: u64 = 384 * 1024 * 1024;

/// Decompressed : compressed bytes beyond which a part is a zip bomb, judged once a part has
/// produced `RATIO_FLOOR` bytes (small parts compress as they like). XML from Excel deflates
/// 3–15 : 1; deflate's own limit is about 1032 : 1. 100 : 1 is also Apache POI's default.
pub const MAX_RATIO: u64 = 100;

/// See `MAX_RATIO`.
pub const RATIO_FLOOR: u64 = 1024 * 1024;

/// Entries `<si>` the shared-strings part may declare (`uniqueCount`): calamine reserves that
/// many strings (24 bytes each) before reading one. A roster of 200,000 people has well under
/// a million distinct texts; 2,000,000 reserve 48 MB at most.
pub const MAX_SHARED_STRINGS: u64 = 2_000_000;

/// Bytes of XML the smallest shared string takes (`<si/>`): a part cannot hold more entries
/// than its size divided by this, whatever it declares.
pub const MIN_SHARED_STRING_BYTES: u64 = 5;

/// Bytes of XML the smallest cell that refers to a shared string takes (`<c t="s"><v>0</v></c>`
/// is 21): the references a package can hold (the `count` it declares) are at most
/// `MAX_TOTAL_BYTES` divided by this.
pub const MIN_CELL_BYTES: u64 = 16;

/// Rows a sheet may reach (Excel row numbers, header included): the most people a roster file
/// may hold, with room for blank rows. Excel itself goes to 1,048,576.
pub const MAX_SHEET_ROWS: u32 = 300_000;

/// Columns a sheet may reach: A to IV (Excel 2003's limit). The roster has 12 columns; a payroll
/// sheet given to the dues-base import may have many more. Excel itself goes to XFD (16,384).
pub const MAX_SHEET_COLUMNS: u32 = 256;

/// Elements open at once in any XML part. Spreadsheet parts nest 3–8 deep, drawings a little
/// more; the XML reader keeps every open element's name, so depth costs memory.
pub const MAX_XML_DEPTH: u32 = 64;

/// Bytes of one start tag whose attributes are checked (a cell, a row, a relationship): Excel's
/// are under a few hundred.
pub const MAX_TAG_BYTES: usize = 64 * 1024;

/// Time the guard and the reading of one file may take, checked as they go (a blocking thread
/// cannot be cancelled, so the parse gives up itself). The largest roster a file may hold takes
/// about 2 s in a release build.
pub const PARSE_TIME_LIMIT: Duration = Duration::from_secs(10);

/// The bounds as one value, so tests can use small ones; imports use `Limits::DEFAULT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub parts: usize,
    pub part_bytes: u64,
    pub total_bytes: u64,
    pub ratio: u64,
    pub ratio_floor: u64,
    pub shared_strings: u64,
    pub rows: u32,
    pub columns: u32,
    pub depth: u32,
}

impl Limits {
    pub const DEFAULT: Limits = Limits {
        parts: MAX_PARTS,
        part_bytes: MAX_PART_BYTES,
        total_bytes: MAX_TOTAL_BYTES,
        ratio: MAX_RATIO,
        ratio_floor: RATIO_FLOOR,
        shared_strings: MAX_SHARED_STRINGS,
        rows: MAX_SHEET_ROWS,
        columns: MAX_SHEET_COLUMNS,
        depth: MAX_XML_DEPTH,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}
