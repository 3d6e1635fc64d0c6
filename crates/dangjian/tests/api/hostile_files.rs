//! Hostile .xlsx files (issue 11): a few kilobytes that declare a trillion strings, a cell at
//! XFD1048576, a zip bomb, XML nested a hundred thousand deep, a package that is no workbook, a
//! truncated zip. Every import refuses each with its own 422 code before it costs memory or time,
//! and the server goes on answering. The files are built here, byte by byte where a zip library
//! would not write them.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers: a failed step should stop the test at once"
)]

use std::io::{Cursor, Write};

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{Client, TestApp, code, field, refused};

const MAIN: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml";
const NS: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
const REL: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

/// Row 1: the roster's headers and the payroll sheet's base column, so one file suits both
/// imports (each ignores the columns it does not know).
static HEADERS: std::sync::LazyLock<Vec<&str>> =
    std::sync::LazyLock::new(|| [crate::members::roster::HEADERS.as_slice(), &["计算基数（元）"]].concat());

/// The parts of a small, valid workbook: [Content_Types].xml, the relationships, the workbook,
/// shared strings holding the headers, and a sheet with the header row only.
fn parts() -> Vec<(String, Vec<u8>)> {
    let strings: String = HEADERS.iter().map(|h| format!("<si><t>{h}</t></si>")).collect();
    let header: String = (0..HEADERS.len())
        .map(|i| format!("<c r=\"{}1\" t=\"s\"><v>{i}</v></c>", char::from(b'A' + i as u8)))
        .collect();
    vec![
        ("[Content_Types].xml".into(), content_types(MAIN).into_bytes()),
        (
            "_rels/.rels".into(),
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
                 <Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
                 <Relationship Id=\"rId1\" Type=\"{REL}/officeDocument\" Target=\"xl/workbook.xml\"/>\
                 </Relationships>"
            )
            .into_bytes(),
        ),
        (
            "xl/workbook.xml".into(),
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
                 <workbook xmlns=\"{NS}\" xmlns:r=\"{REL}\"><sheets>\
                 <sheet name=\"党员名册\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>"
            )
            .into_bytes(),
        ),
        (
            "xl/_rels/workbook.xml.rels".into(),
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
                 <Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
                 <Relationship Id=\"rId1\" Type=\"{REL}/worksheet\" Target=\"worksheets/sheet1.xml\"/>\
                 <Relationship Id=\"rId2\" Type=\"{REL}/sharedStrings\" Target=\"sharedStrings.xml\"/>\
                 </Relationships>"
            )
            .into_bytes(),
        ),
        (
            "xl/sharedStrings.xml".into(),
            shared_strings(&HEADERS.len().to_string(), &strings).into_bytes(),
        ),
        (
            "xl/worksheets/sheet1.xml".into(),
            sheet("A1:M1", &header, "").into_bytes(),
        ),
    ]
}

fn content_types(main: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
         <Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
         <Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>\
         <Default Extension=\"xml\" ContentType=\"application/xml\"/>\
         <Override PartName=\"/xl/workbook.xml\" ContentType=\"{main}\"/>\
         <Override PartName=\"/xl/worksheets/sheet1.xml\" \
          ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/>\
         <Override PartName=\"/xl/sharedStrings.xml\" \
          ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml\"/>\
         </Types>"
    )
}

fn shared_strings(count: &str, items: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
         <sst xmlns=\"{NS}\" count=\"{count}\" uniqueCount=\"{count}\">{items}</sst>"
    )
}

/// A worksheet: its `<dimension>`, the header row's cells, and whatever follows row 1.
fn sheet(dimension: &str, header: &str, more: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
         <worksheet xmlns=\"{NS}\"><dimension ref=\"{dimension}\"/><sheetData>\
         <row r=\"1\">{header}</row>{more}</sheetData></worksheet>"
    )
}

/// The workbook with one part replaced (or added).
fn with(name: &str, body: impl Into<Vec<u8>>) -> Vec<(String, Vec<u8>)> {
    let mut p = parts();
    let body = body.into();
    match p.iter_mut().find(|(n, _)| n == name) {
        Some(part) => part.1 = body,
        None => p.push((name.to_owned(), body)),
    }
    p
}

fn without(name: &str) -> Vec<(String, Vec<u8>)> {
    parts().into_iter().filter(|(n, _)| n != name).collect()
}

/// A zip of `parts`, deflated, as Excel writes one.
fn zip(parts: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, body) in parts {
        w.start_file(name.as_str(), opts).unwrap();
        w.write_all(body).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// The header cells of row 1 (as in `parts`).
fn header_cells() -> String {
    (0..HEADERS.len())
        .map(|i| format!("<c r=\"{}1\" t=\"s\"><v>{i}</v></c>", char::from(b'A' + i as u8)))
        .collect()
}

// ---- a zip written by hand, for what a zip library will not write ----

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for b in data {
        crc ^= u32::from(*b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// One entry: its name, method (0 stored, 8 deflated), CRC-32, sizes and the bytes as stored.
struct Raw {
    name: String,
    method: u16,
    crc: u32,
    size: u32,
    data: Vec<u8>,
}

fn stored(name: &str, body: &[u8]) -> Raw {
    Raw {
        name: name.to_owned(),
        method: 0,
        crc: crc32(body),
        size: body.len() as u32,
        data: body.to_vec(),
    }
}

/// Local headers, data, central directory and its end record (APPNOTE 4.3).
fn raw_zip(entries: &[Raw]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for e in entries {
        let offset = out.len() as u32;
        let common = |v: &mut Vec<u8>| {
            v.extend_from_slice(&20u16.to_le_bytes()); // version needed
            v.extend_from_slice(&0u16.to_le_bytes()); // flags
            v.extend_from_slice(&e.method.to_le_bytes());
            v.extend_from_slice(&0u16.to_le_bytes()); // time
            v.extend_from_slice(&0x21u16.to_le_bytes()); // date: 1980-01-01
            v.extend_from_slice(&e.crc.to_le_bytes());
            v.extend_from_slice(&(e.data.len() as u32).to_le_bytes());
            v.extend_from_slice(&e.size.to_le_bytes());
            v.extend_from_slice(&(e.name.len() as u16).to_le_bytes());
            v.extend_from_slice(&0u16.to_le_bytes()); // extra length
        };
        out.extend_from_slice(b"PK\x03\x04");
        common(&mut out);
        out.extend_from_slice(e.name.as_bytes());
        out.extend_from_slice(&e.data);
        central.extend_from_slice(b"PK\x01\x02");
        central.extend_from_slice(&20u16.to_le_bytes()); // version made by
        common(&mut central);
        central.extend_from_slice(&[0; 8]); // comment length, disk, internal and external attributes
        central.extend_from_slice(&[0; 2]);
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(e.name.as_bytes());
    }
    let cd_offset = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(b"PK\x05\x06");
    out.extend_from_slice(&[0; 4]); // disk numbers
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

/// Bits written least significant first (RFC 1951 3.1.1).
#[derive(Default)]
struct Bits {
    out: Vec<u8>,
    acc: u64,
    n: u32,
}

impl Bits {
    fn value(&mut self, v: u32, n: u32) {
        self.acc |= u64::from(v) << self.n;
        self.n += n;
        while self.n >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }
    /// A Huffman code goes most significant bit first.
    fn code(&mut self, code: u32, len: u32) {
        for i in (0..len).rev() {
            self.value((code >> i) & 1, 1);
        }
    }
    fn finish(mut self) -> Vec<u8> {
        if self.n > 0 {
            self.out.push(self.acc as u8);
        }
        self.out
    }
}

/// A deflate stream of `1 + 258 × pairs` zero bytes in one dynamic-Huffman block whose codes
/// are a literal 0, then "copy 258 bytes from 1 back" at one bit for the length and one for the
/// distance — the best ratio deflate has (about 1:1032).
fn zeros_deflated(pairs: usize) -> Vec<u8> {
    let mut b = Bits::default();
    b.value(1, 1); // last block
    b.value(2, 2); // dynamic Huffman
    b.value(29, 5); // 286 literal/length codes
    b.value(0, 5); // 1 distance code
    b.value(14, 4); // 18 code-length codes
    // code-length code lengths, in the order 16 17 18 0 8 7 9 6 10 5 11 4 12 3 13 2 14 1
    for len in [0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 2] {
        b.value(len, 3);
    }
    // code-length codes: 18 → 0, 1 → 10, 2 → 11
    let (cl18, cl1, cl2) = ((0, 1), (0b10, 2), (0b11, 2));
    b.code(cl2.0, cl2.1); // literal 0: length 2
    b.code(cl18.0, cl18.1);
    b.value(127, 7); // 138 zeros (literals 1..=138)
    b.code(cl18.0, cl18.1);
    b.value(106, 7); // 117 zeros (139..=255)
    b.code(cl2.0, cl2.1); // 256 (end of block): length 2
    b.code(cl18.0, cl18.1);
    b.value(17, 7); // 28 zeros (257..=284)
    b.code(cl1.0, cl1.1); // 285 (length 258): length 1
    b.code(cl1.0, cl1.1); // distance code 0 (distance 1): length 1
    // literal/length codes: 285 → 0, 0 → 10, 256 → 11; distance 0 → 0
    b.code(0b10, 2);
    for _ in 0..pairs {
        b.code(0, 1);
        b.code(0, 1);
    }
    b.code(0b11, 2);
    b.finish()
}

/// The workbook whose sheet is `mib` MiB of zeros, deflated to about a thousandth of that.
/// The CRC is not that of the zeros: nothing should read far enough to check it.
fn zip_bomb(mib: usize) -> Vec<u8> {
    let pairs = mib * 1024 * 1024 / 258;
    let mut entries: Vec<Raw> = without("xl/worksheets/sheet1.xml")
        .iter()
        .map(|(n, b)| stored(n, b))
        .collect();
    entries.push(Raw {
        name: "xl/worksheets/sheet1.xml".into(),
        method: 8,
        crc: 0,
        size: (1 + 258 * pairs) as u32,
        data: zeros_deflated(pairs),
    });
    raw_zip(&entries)
}

// ---- the uploads ----

async fn multipart(c: &Client, path: &str, fields: &[(&str, &str)], file: &[u8]) -> (StatusCode, Value) {
    c.multipart(path, fields, "file.xlsx", file).await
}

/// Sends `file` to the roster import (dry run and for real) and to the dues-base import; each
/// must answer 422 `expected` on the `file` field with a Chinese message; then the server must
/// still be up. Returns the roster's message.
async fn refused_everywhere(app: &TestApp, file: &[u8], expected: &str) -> String {
    let sec = app.login("sec").await;
    let org = app.tree.branch_a.to_string();
    let mut message = String::new();
    for path in ["/api/v1/members/import?dry_run=true", "/api/v1/members/import"] {
        let (s, b) = multipart(&sec, path, &[("org", &org)], file).await;
        assert_eq!(
            (s, code(&b)),
            (StatusCode::UNPROCESSABLE_ENTITY, expected),
            "{path}: {b}"
        );
        assert_eq!(field(&b), "file", "{b}");
        message = b["error"]["message"].as_str().unwrap().to_owned();
        assert!(
            message.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "a Chinese message: {message}"
        );
        assert!(!message.contains(expected), "the message is no code: {message}");
    }
    let path = format!("/api/v1/orgs/{org}/dues-bases/import?year=2026&dry_run=true");
    let (s, b) = multipart(&sec, &path, &[], file).await;
    assert_eq!(
        (s, code(&b)),
        (StatusCode::UNPROCESSABLE_ENTITY, expected),
        "dues: {b}"
    );
    assert_eq!(field(&b), "file", "{b}");
    let health = sec.raw_get("/healthz").await;
    assert_eq!(health.status(), StatusCode::OK);
    message
}

#[tokio::test]
async fn the_hand_built_workbook_is_read_like_any_other() {
    // the hostile files below differ from this one in one part only
    let (app, sec) = TestApp::spawn_as("sec").await;
    let org = app.tree.branch_a.to_string();
    let file = zip(&parts());
    let (s, b) = multipart(
        &sec,
        "/api/v1/members/import?dry_run=true",
        &[("org", &org)],
        &file,
    )
    .await;
    refused(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "import_no_rows");
    let path = format!("/api/v1/orgs/{org}/dues-bases/import?year=2026&dry_run=true");
    let (s, b) = multipart(&sec, &path, &[], &file).await;
    refused(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "import_no_rows");
}

#[tokio::test]
async fn shared_strings_declaring_a_trillion_entries_are_refused_before_any_is_reserved() {
    let app = TestApp::spawn().await;
    let strings: String = HEADERS.iter().map(|h| format!("<si><t>{h}</t></si>")).collect();
    let file = zip(&with(
        "xl/sharedStrings.xml",
        shared_strings("1000000000000", &strings),
    ));
    assert!(file.len() < 5 * 1024, "a small file: {} bytes", file.len());
    let message = refused_everywhere(&app, &file, "xlsx_declared_counts").await;
    assert!(message.contains("1000000000000"), "{message}");
    // a count that is no number at all is refused the same way
    let file = zip(&with("xl/sharedStrings.xml", shared_strings("-1", &strings)));
    refused_everywhere(&app, &file, "xlsx_declared_counts").await;
}

#[tokio::test]
async fn a_cell_at_xfd1048576_is_refused_not_allocated() {
    let app = TestApp::spawn().await;
    let far = "<row r=\"1048576\"><c r=\"XFD1048576\" t=\"inlineStr\"><is><t>x</t></is></c></row>";
    // the dimension says so
    let file = zip(&with(
        "xl/worksheets/sheet1.xml",
        sheet("A1:XFD1048576", &header_cells(), far),
    ));
    let message = refused_everywhere(&app, &file, "xlsx_too_many_cells").await;
    assert!(message.contains("XFD1048576"), "{message}");
    // the dimension lies: the cell itself is refused
    let file = zip(&with(
        "xl/worksheets/sheet1.xml",
        sheet("A1:M1", &header_cells(), far),
    ));
    refused_everywhere(&app, &file, "xlsx_too_many_cells").await;
    // no dimension, and the far cell placed by its row alone
    let body = sheet(
        "A1",
        &header_cells(),
        "<row r=\"1048576\"><c t=\"inlineStr\"><is><t>x</t></is></c></row>",
    )
    .replace("<dimension ref=\"A1\"/>", "");
    refused_everywhere(
        &app,
        &zip(&with("xl/worksheets/sheet1.xml", body)),
        "xlsx_too_many_cells",
    )
    .await;
    // a column far to the right on an ordinary row
    let wide = "<row r=\"2\"><c r=\"XFD2\" t=\"inlineStr\"><is><t>x</t></is></c></row>";
    let file = zip(&with(
        "xl/worksheets/sheet1.xml",
        sheet("A1:M1", &header_cells(), wide),
    ));
    refused_everywhere(&app, &file, "xlsx_too_many_cells").await;
}

#[tokio::test]
async fn a_zip_bomb_is_refused_after_a_few_megabytes() {
    let app = TestApp::spawn().await;
    let file = zip_bomb(300);
    assert!(file.len() < 400 * 1024, "hundreds of MiB in {} bytes", file.len());
    let started = std::time::Instant::now();
    refused_everywhere(&app, &file, "xlsx_bomb").await;
    // the server gave up early, not after inflating 300 MiB three times over
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
}

#[tokio::test]
async fn xml_nested_a_hundred_thousand_deep_is_refused() {
    let app = TestApp::spawn().await;
    let deep = format!("{}{}", "<a>".repeat(100_000), "</a>".repeat(100_000));
    let file = zip(&with(
        "xl/worksheets/sheet1.xml",
        sheet("A1:M1", &header_cells(), &deep),
    ));
    refused_everywhere(&app, &file, "xlsx_too_deep").await;
}

#[tokio::test]
async fn a_package_that_is_no_workbook_is_refused() {
    let app = TestApp::spawn().await;
    // a Word document renamed .xlsx says so in its content types
    let word = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml";
    let file = zip(&with("[Content_Types].xml", content_types(word)));
    refused_everywhere(&app, &file, "xlsx_not_a_workbook").await;
    // no content types at all
    refused_everywhere(&app, &zip(&without("[Content_Types].xml")), "xlsx_not_a_workbook").await;
    // the package points to a workbook part that is not there
    refused_everywhere(&app, &zip(&without("xl/workbook.xml")), "xlsx_not_a_workbook").await;
    // no package relationships, so no workbook either
    refused_everywhere(&app, &zip(&without("_rels/.rels")), "xlsx_not_a_workbook").await;
}

#[tokio::test]
async fn a_truncated_workbook_is_refused() {
    let app = TestApp::spawn().await;
    let whole = zip(&parts());
    for cut in [whole.len() / 2, whole.len() - 10] {
        refused_everywhere(&app, &whole[..cut], "xlsx_truncated").await;
    }
}

#[tokio::test]
async fn bytes_that_are_no_zip_are_refused_as_before() {
    let app = TestApp::spawn().await;
    for file in [
        &b"name,id\n"[..],
        b"PK\x03\x04not really a zip",
        &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0],
    ] {
        refused_everywhere(&app, file, "import_not_xlsx").await;
    }
}

#[tokio::test]
async fn a_package_of_thousands_of_parts_is_refused() {
    let app = TestApp::spawn().await;
    let mut p = parts();
    for i in 0..2000 {
        p.push((format!("customXml/item{i}.xml"), b"<a/>".to_vec()));
    }
    refused_everywhere(&app, &zip(&p), "xlsx_too_many_parts").await;
}
