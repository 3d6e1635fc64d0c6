//! The import parse fed what a hostile or broken upload may be (issue 11): random bytes, real
//! workbooks (the template, an export, sheets with shared strings) with bytes flipped, inserted
//! or cut, and the XML inside valid zips changed — counts, references, names, nesting. Whatever
//! the file, the parse answers (a result or a refusal), never panics, never aborts, and never
//! holds more than `PEAK_BOUND` bytes.
//!
//! Its own test binary: the allocator below counts every allocation of the process, and the
//! cases run one at a time so a new peak belongs to the case that set it.

use std::io::{Cursor, Read, Write};
use std::sync::Mutex;

use cap::Cap;
use dangjian_rules::id_number::check_char;
use dangjian_store::person::PersonView;
use dangjian_web::dues::api::import as dues_import;
use dangjian_web::i18n::Locale;
use dangjian_web::member::roster::{COLUMNS, export, import, template};
use dangjian_web::xlsx;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

#[global_allocator]
static ALLOC: Cap<std::alloc::System> = Cap::new(std::alloc::System, usize::MAX);

/// Live bytes no case may exceed (the whole process's, so a little of it is the harness).
const PEAK_BOUND: usize = 256 * 1024 * 1024;

/// Allocations beyond this fail (an abort with the size), so a runaway case stops the test
/// before it takes the machine.
const HARD_LIMIT: usize = 1024 * 1024 * 1024;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn today() -> time::Date {
    time::macros::date!(2026 - 06 - 10)
}

/// Runs every parse on `bytes` and checks the peak. `what` names the case in a failure.
fn parse_all(bytes: &[u8], what: &str) -> Result<(), TestCaseError> {
    let _serial = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if ALLOC.limit() == usize::MAX {
        let _ = ALLOC.set_limit(HARD_LIMIT);
    }
    let deadline = xlsx::Deadline::after(std::time::Duration::from_secs(60));
    let _ = xlsx::check(bytes, &xlsx::Limits::DEFAULT, &deadline);
    let roster = import::parse(bytes, 1, today());
    let dues = dues_import::parse(bytes);
    let peak = ALLOC.max_allocated();
    prop_assert!(
        peak < PEAK_BOUND,
        "{what}: {peak} bytes live at the peak (roster: {:?}, dues: {:?})",
        roster.as_ref().map(|p| p.rows.len()).map_err(|e| e.code()),
        dues.as_ref().map(|(g, _)| g.len()).map_err(|e| e.code())
    );
    // an internal error would be a bug: every problem of a file has its own code
    for code in [roster.err().map(|e| e.code()), dues.err().map(|e| e.code())]
        .into_iter()
        .flatten()
    {
        prop_assert_ne!(code, "internal_error", "{}", what);
    }
    Ok(())
}

fn id_number(seq: u32) -> String {
    let first17 = format!("11010519800101{:03}", seq % 1000);
    let c = char::from(check_char(first17.as_bytes()));
    format!("{first17}{c}")
}

fn person(i: u32) -> PersonView {
    PersonView {
        id: i64::from(i),
        org_id: 1,
        org_name: "第一党支部".into(),
        name: format!("党员{i}"),
        gender: if i.is_multiple_of(2) {
            dangjian_rules::member::Gender::Female
        } else {
            dangjian_rules::member::Gender::Male
        },
        ethnicity: Some("汉族".into()),
        birth_date: Some(time::macros::date!(1980 - 01 - 01)),
        birth_year: 1980,
        id_number: id_number(i),
        phone: Some(format!("1391234{i:04}")),
        education: Some("大学本科".into()),
        category: dangjian_rules::member::PersonCategory::InService,
        status: dangjian_rules::MemberStatus::Formal,
        joined_on: Some(time::macros::date!(2005 - 07 - 01)),
        regularized_on: Some(time::macros::date!(2006 - 07 - 01)),
        probation_ends_on: None,
        work_unit: Some("测试单位 科员".into()),
        card_uid: None,
        version: 1,
        full_identity: true,
    }
}

/// Real workbooks: the template, an export (inline strings), a roster and a payroll sheet with
/// shared strings, numbers and dates as Excel writes them.
fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    static SEEDS: std::sync::OnceLock<Vec<(&'static str, Vec<u8>)>> = std::sync::OnceLock::new();
    SEEDS.get_or_init(write_seeds).clone()
}

fn write_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let mut out = Vec::new();
    out.push(("template", template::build(Locale::ZhCn).unwrap_or_default()));
    let export = export::ExportWriter::new().and_then(|mut w| {
        for i in 0..4 {
            w.write(&person(i))?;
        }
        w.finish()
    });
    out.push(("export", export.unwrap_or_default()));
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet();
    let date = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
    let mut write = || -> Result<(), rust_xlsxwriter::XlsxError> {
        for (c, col) in (0u16..).zip(COLUMNS.iter()) {
            ws.write_string(0, c, col.header)?;
        }
        for r in 1..4u32 {
            let p = person(r);
            ws.write_string(r, 0, &p.name)?;
            ws.write_string(r, 1, if r.is_multiple_of(2) { "女" } else { "男" })?;
            ws.write_string(r, 4, &p.id_number)?;
            ws.write_number(r, 5, 13_912_345_678.0)?;
            ws.write_string(r, 8, "正式党员")?;
            ws.write_date_with_format(r, 9, rust_xlsxwriter::ExcelDateTime::from_ymd(2005, 7, 1)?, &date)?;
        }
        Ok(())
    };
    if write().is_ok() {
        out.push(("roster", book.save_to_buffer().unwrap_or_default()));
    }
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet();
    let mut write = || -> Result<(), rust_xlsxwriter::XlsxError> {
        for (c, h) in (0u16..).zip(["姓名", "身份证号", "计算基数（元）", "人员类别"]) {
            ws.write_string(0, c, h)?;
        }
        for r in 1..4u32 {
            ws.write_string(r, 0, format!("党员{r}"))?;
            ws.write_string(r, 1, id_number(r))?;
            ws.write_number(r, 2, 4500.5)?;
            ws.write_string(r, 3, "在职")?;
        }
        Ok(())
    };
    if write().is_ok() {
        out.push(("payroll", book.save_to_buffer().unwrap_or_default()));
    }
    assert!(out.iter().all(|(_, b)| !b.is_empty()), "every seed was written");
    out
}

/// The parts of a zip, in order.
fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let Ok(mut zip) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        return Vec::new();
    };
    (0..zip.len())
        .filter_map(|i| {
            let mut f = zip.by_index(i).ok()?;
            let mut body = Vec::new();
            f.read_to_end(&mut body).ok()?;
            Some((f.name().ok()?.into_owned(), body))
        })
        .collect()
}

fn rezip(parts: &[(String, Vec<u8>)], deflate: bool) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let method = if deflate {
        zip::CompressionMethod::Deflated
    } else {
        zip::CompressionMethod::Stored
    };
    let opts = zip::write::SimpleFileOptions::default().compression_method(method);
    for (name, body) in parts {
        if w.start_file(name.as_str(), opts).is_err() || w.write_all(body).is_err() {
            return Vec::new();
        }
    }
    w.finish().map(Cursor::into_inner).unwrap_or_default()
}

/// One change to a file's bytes.
#[derive(Debug, Clone)]
enum ByteEdit {
    Flip(usize, u8),
    Insert(usize, Vec<u8>),
    Truncate(usize),
    Remove(usize, usize),
}

fn byte_edit() -> impl Strategy<Value = ByteEdit> {
    prop_oneof![
        (any::<usize>(), 1u8..=255).prop_map(|(i, x)| ByteEdit::Flip(i, x)),
        (any::<usize>(), proptest::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(i, b)| ByteEdit::Insert(i, b)),
        any::<usize>().prop_map(ByteEdit::Truncate),
        (any::<usize>(), 1usize..64).prop_map(|(i, n)| ByteEdit::Remove(i, n)),
    ]
}

fn apply(bytes: &mut Vec<u8>, e: &ByteEdit) {
    let len = bytes.len().max(1);
    match e {
        ByteEdit::Flip(i, x) => {
            if let Some(b) = bytes.get_mut(i % len) {
                *b ^= x;
            }
        }
        ByteEdit::Insert(i, more) => {
            let at = i % (bytes.len() + 1);
            bytes.splice(at..at, more.iter().copied());
        }
        ByteEdit::Truncate(i) => bytes.truncate(i % len),
        ByteEdit::Remove(i, n) => {
            let at = i % len;
            let end = (at + n).min(bytes.len());
            if at < end {
                bytes.drain(at..end);
            }
        }
    }
}

/// Numbers that break readers: zero, the edges of 32 and 64 bits, a trillion, negatives.
const NUMBERS: &[&str] = &[
    "0",
    "1",
    "-1",
    "65536",
    "1048576",
    "1048577",
    "2147483648",
    "4294967295",
    "4294967296",
    "1000000000000",
    "18446744073709551615",
    "99999999999999999999999",
    "1e9",
    "",
];

/// References that break readers: Excel's last cell, overflowing letters or digits, reversed
/// ranges, lowercase, nothing.
const REFERENCES: &[&str] = &[
    "XFD1048576",
    "A1:XFD1048576",
    "IV300000",
    "IW1",
    "A300001",
    "AAAAAAAAAAAA1",
    "A99999999999",
    "B2:A1",
    "A1:B2:C3",
    "a1",
    "A0",
    "1",
    "A",
    "",
    "A1 ",
];

/// One change to the XML of a part inside a valid zip.
#[derive(Debug, Clone)]
enum XmlEdit {
    /// The n-th quoted attribute value that is a number becomes one of `NUMBERS`.
    Number(usize, usize),
    /// The n-th `r="…"` or `ref="…"` becomes one of `REFERENCES`.
    Reference(usize, usize),
    /// A run of nested elements is put in at a tag's end.
    Nest(usize, usize),
    /// A byte of the XML is changed.
    Byte(usize, u8),
    /// The part is cut.
    Cut(usize),
}

fn xml_edit() -> impl Strategy<Value = XmlEdit> {
    prop_oneof![
        (any::<usize>(), 0..NUMBERS.len()).prop_map(|(n, v)| XmlEdit::Number(n, v)),
        (any::<usize>(), 0..REFERENCES.len()).prop_map(|(n, v)| XmlEdit::Reference(n, v)),
        (any::<usize>(), 1usize..200).prop_map(|(n, d)| XmlEdit::Nest(n, d)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| XmlEdit::Byte(i, b)),
        any::<usize>().prop_map(XmlEdit::Cut),
    ]
}

/// Spans of the quoted values after `="` whose value matches `pick`.
fn values(xml: &[u8], pick: impl Fn(&[u8], &[u8]) -> bool) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(p) = xml[i..].windows(2).position(|w| w == b"=\"") {
        let start = i + p + 2;
        let Some(len) = xml[start..].iter().position(|b| *b == b'"') else {
            break;
        };
        let name_start = xml[..i + p]
            .iter()
            .rposition(|b| b.is_ascii_whitespace())
            .map_or(0, |s| s + 1);
        if pick(&xml[name_start..i + p], &xml[start..start + len]) {
            out.push((start, start + len));
        }
        i = start + len;
    }
    out
}

fn edit_xml(xml: &mut Vec<u8>, e: &XmlEdit) {
    let replace = |xml: &mut Vec<u8>, spans: Vec<(usize, usize)>, n: usize, with: &str| {
        if let Some((a, b)) = spans.get(n % spans.len().max(1)).copied() {
            xml.splice(a..b, with.bytes());
        }
    };
    match e {
        XmlEdit::Number(n, v) => {
            let spans = values(xml, |_, v| !v.is_empty() && v.iter().all(u8::is_ascii_digit));
            replace(xml, spans, *n, NUMBERS[*v]);
        }
        XmlEdit::Reference(n, v) => {
            let spans = values(xml, |name, _| name == b"r" || name == b"ref");
            replace(xml, spans, *n, REFERENCES[*v]);
        }
        XmlEdit::Nest(n, depth) => {
            let ends: Vec<usize> = xml
                .iter()
                .enumerate()
                .filter(|(_, b)| **b == b'>')
                .map(|(i, _)| i + 1)
                .collect();
            if let Some(at) = ends.get(n % ends.len().max(1)).copied() {
                let nest = format!("{}{}", "<x>".repeat(*depth), "</x>".repeat(*depth));
                xml.splice(at..at, nest.bytes());
            }
        }
        XmlEdit::Byte(i, b) => {
            let len = xml.len().max(1);
            if let Some(x) = xml.get_mut(i % len) {
                *x = *b;
            }
        }
        XmlEdit::Cut(i) => {
            let len = xml.len().max(1);
            xml.truncate(i % len);
        }
    }
}

proptest! {
    // 48 cases keep a debug run to a few seconds; PROPTEST_CASES=5000 searches longer
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(48),
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_bytes_are_refused_without_a_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..2048),
        zip_like in any::<bool>(),
    ) {
        let mut bytes = bytes;
        if zip_like {
            // past the first check: a local header's signature, perhaps an end record too
            bytes.splice(0..0, b"PK\x03\x04".iter().copied());
            bytes.extend_from_slice(b"PK\x05\x06\0\0\0\0\x01\0\x01\0\x2e\0\0\0\0\0\0\0\0\0");
        }
        parse_all(&bytes, "random bytes")?;
    }

    #[test]
    fn real_workbooks_with_bytes_changed_are_refused_or_read(
        seed in 0usize..4,
        edits in proptest::collection::vec(byte_edit(), 1..4),
    ) {
        let (name, mut bytes) = seeds().swap_remove(seed % 4);
        for e in &edits {
            apply(&mut bytes, e);
        }
        parse_all(&bytes, &format!("{name} with {edits:?}"))?;
    }

    #[test]
    fn valid_zips_with_their_xml_changed_are_refused_or_read(
        seed in 0usize..4,
        part in any::<usize>(),
        edits in proptest::collection::vec(xml_edit(), 1..4),
        deflate in any::<bool>(),
    ) {
        let (name, bytes) = seeds().swap_remove(seed % 4);
        let mut parts = unzip(&bytes);
        let xml: Vec<usize> = (0..parts.len()).filter(|i| parts[*i].0.ends_with(".xml") || parts[*i].0.ends_with(".rels")).collect();
        prop_assume!(!xml.is_empty());
        let i = xml[part % xml.len()];
        for e in &edits {
            edit_xml(&mut parts[i].1, e);
        }
        let file = rezip(&parts, deflate);
        parse_all(&file, &format!("{name}: {} with {edits:?}", parts[i].0))?;
    }
}

#[test]
fn the_seeds_themselves_are_read() {
    for (name, bytes) in seeds() {
        let roster = import::parse(&bytes, 1, today());
        let dues = dues_import::parse(&bytes);
        // each reads as a roster or a payroll sheet, or is refused only for its rows
        let fine = |code: &str| matches!(code, "import_no_rows" | "import_rows_invalid");
        assert!(
            roster.as_ref().map_or_else(|e| fine(e.code()), |_| true),
            "{name}"
        );
        assert!(dues.as_ref().map_or_else(|e| fine(e.code()), |_| true), "{name}");
        if let Err(e) = parse_all(&bytes, name) {
            panic!("{e}");
        }
    }
}

#[test]
fn every_number_and_reference_reaches_every_part_of_the_seeds() {
    // not left to chance: every part calamine reads gets each kind of edit, and every value of
    // NUMBERS and REFERENCES lands in some part of each seed (four a part, in turn, so the test
    // stays quick in a debug build)
    for (name, bytes) in seeds() {
        let parts = unzip(&bytes);
        let mut turn = 0;
        for i in 0..parts.len() {
            if parts[i].0.starts_with("docProps/") {
                continue;
            }
            let mut edits = vec![XmlEdit::Nest(3, 70), XmlEdit::Cut(parts[i].1.len() / 2)];
            for _ in 0..4 {
                edits.push(XmlEdit::Number(turn, turn % NUMBERS.len()));
                edits.push(XmlEdit::Reference(turn, turn % REFERENCES.len()));
                turn += 1;
            }
            for e in edits {
                let mut p = parts.clone();
                edit_xml(&mut p[i].1, &e);
                let what = format!("{name}: {} with {e:?}", p[i].0);
                if let Err(e) = parse_all(&rezip(&p, true), &what) {
                    panic!("{e}");
                }
            }
        }
    }
}
