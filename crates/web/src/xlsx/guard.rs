//! The package check made before calamine sees a file: the zip is opened here, every part is
//! inflated once with a counter (the sizes a zip declares are not believed) and every XML part
//! scanned as it streams (`scan.rs`), so what calamine later reserves, reads or walks is bounded
//! by `Limits` — whatever the file declares.

use std::cell::Cell;
use std::io::{Cursor, Read, Seek, SeekFrom};
use std::rc::Rc;

use super::limits::Limits;
use super::scan::{Package, Role, Scan};
use super::{Deadline, Refusal};

/// The workbook part's content types: a workbook, a template, with macros, an add-in.
const WORKBOOK_TYPES: &[&str] = &[
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml",
    "application/vnd.ms-excel.sheet.macroenabled.main+xml",
    "application/vnd.ms-excel.template.macroenabled.main+xml",
    "application/vnd.ms-excel.addin.macroenabled.main+xml",
];

/// Inflated a chunk at a time: the deadline and the counters are checked between chunks.
const CHUNK: usize = 64 * 1024;

/// The file, counting the bytes the zip reader takes from it: the compressed bytes one part
/// consumed, however the zip describes itself.
struct Counted<'a> {
    inner: Cursor<&'a [u8]>,
    read: Rc<Cell<u64>>,
}

impl Read for Counted<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.set(self.read.get() + n as u64);
        Ok(n)
    }
}

impl Seek for Counted<'_> {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.inner.seek(pos)
    }
}

/// A part's name as calamine looks it up: `/` separators, lowercase, no leading `/`.
fn normalized(name: &str) -> String {
    name.replace('\\', "/")
        .trim_start_matches('/')
        .to_ascii_lowercase()
}

fn role(name: &str) -> Role {
    match name {
        "[content_types].xml" => Role::ContentTypes,
        "_rels/.rels" => Role::PackageRels,
        n if n.ends_with(".rels") => Role::Rels,
        _ => Role::Other,
    }
}

/// Whether the file ends in a complete end-of-central-directory record (APPNOTE 4.3.16): a zip
/// that lacks one was cut off.
fn has_end_record(bytes: &[u8]) -> bool {
    const LEN: usize = 22;
    let from = bytes.len().saturating_sub(LEN + usize::from(u16::MAX));
    (from..=bytes.len().saturating_sub(LEN)).rev().any(|i| {
        bytes.len() >= LEN
            && bytes[i..].starts_with(b"PK\x05\x06")
            && i + LEN + usize::from(u16::from_le_bytes([bytes[i + 20], bytes[i + 21]])) <= bytes.len()
    })
}

/// Whether the file starts with one whole local file header (30 bytes and its name): it was a
/// zip once, whatever happened to its end.
fn starts_as_zip(bytes: &[u8]) -> bool {
    bytes.len() >= 30
        && bytes.starts_with(b"PK\x03\x04")
        && bytes.len() >= 30 + usize::from(u16::from_le_bytes([bytes[26], bytes[27]]))
}

/// Counts `needle` in `bytes`.
fn occurrences(bytes: &[u8], needle: &[u8]) -> usize {
    bytes.windows(needle.len()).filter(|w| *w == needle).count()
}

/// Checks the package `bytes` within `limits`; Ok means calamine may open it.
pub fn check(bytes: &[u8], limits: &Limits, deadline: &Deadline) -> Result<(), Refusal> {
    if !bytes.starts_with(b"PK") {
        return Err(Refusal::NotXlsx);
    }
    // every entry needs a central directory header with its signature: this bounds what the zip
    // reader would index before it is asked to
    if occurrences(bytes, b"PK\x01\x02") > limits.parts {
        return Err(Refusal::TooManyParts);
    }
    let read = Rc::new(Cell::new(0u64));
    let file = Counted {
        inner: Cursor::new(bytes),
        read: read.clone(),
    };
    let mut zip = match zip::ZipArchive::new(file) {
        Ok(z) => z,
        Err(_) if has_end_record(bytes) => return Err(Refusal::Damaged { part: String::new() }),
        Err(_) if starts_as_zip(bytes) => return Err(Refusal::Truncated),
        Err(_) => return Err(Refusal::NotXlsx),
    };
    if zip.len() > limits.parts {
        return Err(Refusal::TooManyParts);
    }
    let mut package = Package::default();
    let mut names = Vec::with_capacity(zip.len());
    let mut total = 0u64;
    let mut buf = vec![0u8; CHUNK];
    for i in 0..zip.len() {
        deadline.check()?;
        let mut part = zip
            .by_index(i)
            .map_err(|_| Refusal::Damaged { part: String::new() })?;
        let name = part
            .name()
            .map(|n| n.into_owned())
            .map_err(|_| Refusal::Damaged { part: String::new() })?;
        let damaged = || Refusal::Damaged { part: name.clone() };
        let key = normalized(&name);
        let xml = key.ends_with(".xml") || key.ends_with(".rels");
        let mut scan = xml.then(|| Scan::new(&name, role(&key), limits));
        let start = read.get();
        let mut bytes_out = 0u64;
        loop {
            let n = part.read(&mut buf).map_err(|_| damaged())?;
            if n == 0 {
                break;
            }
            bytes_out += n as u64;
            total += n as u64;
            if bytes_out > limits.part_bytes {
                return Err(Refusal::PartTooLarge { part: name.clone() });
            }
            if total > limits.total_bytes {
                return Err(Refusal::TotalTooLarge);
            }
            // bytes read ahead count as consumed: the ratio is if anything too low
            let consumed = (read.get() - start).max(1);
            if bytes_out > limits.ratio_floor && bytes_out / consumed > limits.ratio {
                return Err(Refusal::Bomb { part: name.clone() });
            }
            if let Some(scan) = scan.as_mut() {
                scan.feed(&buf[..n], &mut package)?;
            }
            deadline.check()?;
        }
        if let Some(scan) = &scan {
            scan.finish(bytes_out)?;
        }
        drop(scan);
        names.push(key);
    }
    workbook_is_there(&package, &names)
}

/// `[Content_Types].xml` is there, `_rels/.rels` names a workbook part, the part is there and
/// its content type is a spreadsheet's (not a document renamed .xlsx).
fn workbook_is_there(package: &Package, names: &[String]) -> Result<(), Refusal> {
    if !package.content_types {
        return Err(Refusal::NotAWorkbook);
    }
    // calamine takes the last one
    let Some(target) = package.workbook_targets.last() else {
        return Err(Refusal::NotAWorkbook);
    };
    let target = normalized(target);
    if !names.contains(&target) {
        return Err(Refusal::NotAWorkbook);
    }
    let extension = target.rsplit_once('.').map_or("", |(_, e)| e);
    let content_type = package
        .overrides
        .iter()
        .find(|(p, _)| *p == target)
        .or_else(|| package.defaults.iter().find(|(e, _)| e == extension))
        .map(|(_, t)| t.as_str());
    match content_type {
        Some(t) if WORKBOOK_TYPES.contains(&t) => Ok(()),
        _ => Err(Refusal::NotAWorkbook),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zip(parts: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts =
            zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, body) in parts {
            w.start_file(*name, opts).unwrap_or_else(|e| panic!("{e}"));
            w.write_all(body).unwrap_or_else(|e| panic!("{e}"));
        }
        w.finish().unwrap_or_else(|e| panic!("{e}")).into_inner()
    }

    const TYPES: &[u8] = br#"<Types><Override PartName="/xl/workbook.xml"
        ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>"#;
    const RELS: &[u8] = br#"<Relationships><Relationship Id="rId1" Target="xl/workbook.xml"
        Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/></Relationships>"#;

    fn check_with(bytes: &[u8], limits: &Limits) -> &'static str {
        let deadline = Deadline::after(std::time::Duration::from_secs(60));
        check(bytes, limits, &deadline).map_or_else(|e| e.code(), |()| "ok")
    }

    #[test]
    fn a_minimal_package_passes_and_each_missing_piece_is_named() {
        let l = Limits::DEFAULT;
        let wb: &[u8] = b"<workbook/>";
        assert_eq!(
            check_with(
                &zip(&[
                    ("[Content_Types].xml", TYPES),
                    ("_rels/.rels", RELS),
                    ("xl/workbook.xml", wb)
                ]),
                &l
            ),
            "ok"
        );
        // names as calamine finds them: any case, either slash
        assert_eq!(
            check_with(
                &zip(&[
                    ("[Content_Types].xml", TYPES),
                    ("_rels/.rels", RELS),
                    ("XL\\Workbook.XML", wb)
                ]),
                &l
            ),
            "ok"
        );
        assert_eq!(
            check_with(&zip(&[("_rels/.rels", RELS), ("xl/workbook.xml", wb)]), &l),
            "xlsx_not_a_workbook"
        );
        assert_eq!(
            check_with(
                &zip(&[("[Content_Types].xml", TYPES), ("xl/workbook.xml", wb)]),
                &l
            ),
            "xlsx_not_a_workbook"
        );
        assert_eq!(
            check_with(&zip(&[("[Content_Types].xml", TYPES), ("_rels/.rels", RELS)]), &l),
            "xlsx_not_a_workbook"
        );
        let word = br#"<Types><Default Extension="xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#;
        assert_eq!(
            check_with(
                &zip(&[
                    ("[Content_Types].xml", word),
                    ("_rels/.rels", RELS),
                    ("xl/workbook.xml", wb)
                ]),
                &l
            ),
            "xlsx_not_a_workbook"
        );
    }

    #[test]
    fn sizes_are_counted_as_inflated() {
        let base = [
            ("[Content_Types].xml", TYPES),
            ("_rels/.rels", RELS),
            ("xl/workbook.xml", &b"<workbook/>"[..]),
        ];
        let big = vec![b' '; 3 * 1024 * 1024];
        let mut parts = base.to_vec();
        parts.push(("xl/media/blank.bin", &big));
        let file = zip(&parts);
        // spaces deflate about 1000 : 1
        assert_eq!(check_with(&file, &Limits::DEFAULT), "xlsx_bomb");
        let lenient = Limits {
            ratio: 10_000,
            ..Limits::DEFAULT
        };
        assert_eq!(check_with(&file, &lenient), "ok");
        assert_eq!(
            check_with(
                &file,
                &Limits {
                    part_bytes: 1024 * 1024,
                    ..lenient
                }
            ),
            "xlsx_too_large"
        );
        assert_eq!(
            check_with(
                &file,
                &Limits {
                    total_bytes: 2 * 1024 * 1024,
                    ..lenient
                }
            ),
            "xlsx_too_large_total"
        );
        assert_eq!(
            check_with(&file, &Limits { parts: 3, ..lenient }),
            "xlsx_too_many_parts"
        );
    }

    #[test]
    fn zips_that_are_cut_or_broken_are_told_apart() {
        let l = Limits::DEFAULT;
        let whole = zip(&[
            ("[Content_Types].xml", TYPES),
            ("_rels/.rels", RELS),
            ("xl/workbook.xml", b"<workbook/>"),
        ]);
        assert_eq!(check_with(&whole[..whole.len() / 2], &l), "xlsx_truncated");
        assert_eq!(check_with(&whole[..whole.len() - 1], &l), "xlsx_truncated");
        let mut flipped = whole.clone();
        // a byte of the first part's deflated data, after its local header, name and extra field
        let data = 30
            + usize::from(u16::from_le_bytes([whole[26], whole[27]]))
            + usize::from(u16::from_le_bytes([whole[28], whole[29]]));
        flipped[data + 2] ^= 0xFF;
        assert_eq!(check_with(&flipped, &l), "xlsx_damaged");
        for not_zip in [
            &b""[..],
            b"PK",
            b"PK\x03\x04 too short",
            b"\xD0\xCF\x11\xE0 an old .xls",
        ] {
            assert_eq!(check_with(not_zip, &l), "import_not_xlsx", "{not_zip:?}");
        }
    }

    #[test]
    fn the_deadline_is_kept() {
        let whole = zip(&[
            ("[Content_Types].xml", TYPES),
            ("_rels/.rels", RELS),
            ("xl/workbook.xml", b"<workbook/>"),
        ]);
        let past = Deadline::after(std::time::Duration::ZERO);
        assert_eq!(
            check(&whole, &Limits::DEFAULT, &past).map_err(|e| e.code()),
            Err("xlsx_too_slow")
        );
    }
}
