//! A streaming scan of one XML part, fed as it is inflated: it keeps no more than one start tag
//! (and only tags it checks), so a part costs no memory whatever its size. It counts nesting,
//! reads the attributes calamine would trust — shared-string counts, `<dimension ref>`, row and
//! cell references, relationship targets, content types — and refuses what is out of bounds.
//! Tags end as quick-xml ends them: at the first `>` outside quotes; comments, CDATA and
//! processing instructions are skipped; a DTD is refused (OOXML allows none).

use super::Refusal;
use super::limits::{Limits, MAX_TAG_BYTES, MIN_CELL_BYTES, MIN_SHARED_STRING_BYTES};

/// Names longer than this are no name the scan looks for.
const MAX_NAME_BYTES: usize = 256;

/// The part's role in the package, by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    ContentTypes,
    /// `_rels/.rels`: where the workbook part is named.
    PackageRels,
    Rels,
    Other,
}

/// What the package's parts told, gathered for the checks made once all are read.
#[derive(Debug, Default)]
pub(super) struct Package {
    /// `[Content_Types].xml` was read and its root is `<Types>`.
    pub content_types: bool,
    /// (extension, content type), lowercase.
    pub defaults: Vec<(String, String)>,
    /// (part name without the leading '/', content type), lowercase.
    pub overrides: Vec<(String, String)>,
    /// Targets of `officeDocument` relationships in `_rels/.rels`, decoded.
    pub workbook_targets: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Text,
    /// After `<`.
    Open,
    /// After `<!`, the bytes so far in `tag`: `--` starts a comment, `[CDATA[` a CDATA section.
    Bang,
    /// Inside a comment, with the run of `-` just seen.
    Comment {
        dashes: usize,
    },
    /// Inside CDATA, with the run of `]` just seen.
    Cdata {
        brackets: usize,
    },
    /// Inside `<? … ?>`; true right after a `?`.
    Pi {
        question: bool,
    },
    /// Inside a start tag: `quote` is the open quote (0 outside), `last` the last byte outside
    /// quotes that was no space (a `/` there makes the tag self-closing).
    Start {
        quote: u8,
        last: u8,
        name_done: bool,
    },
    End,
}

pub(super) struct Scan<'a> {
    part: &'a str,
    role: Role,
    limits: &'a Limits,
    state: State,
    depth: u32,
    in_sheet_data: bool,
    root_seen: bool,
    /// The current tag's name, then — for a tag that is checked — all of it.
    tag: Vec<u8>,
    keep: bool,
    /// The largest `uniqueCount` declared, checked against the part's size at the end.
    unique: u64,
    started: bool,
    /// The checked tag's attributes as (key, value) spans into `tag`; kept to be reused.
    spans: Vec<Span>,
}

/// Where a key and its value lie in a tag.
type Span = (std::ops::Range<usize>, std::ops::Range<usize>);

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn local(name: &[u8]) -> &[u8] {
    name.iter()
        .rposition(|b| *b == b':')
        .map_or(name, |i| &name[i + 1..])
}

impl<'a> Scan<'a> {
    pub(super) fn new(part: &'a str, role: Role, limits: &'a Limits) -> Self {
        Self {
            part,
            role,
            limits,
            state: State::Text,
            depth: 0,
            in_sheet_data: false,
            root_seen: false,
            tag: Vec::new(),
            keep: false,
            unique: 0,
            started: false,
            spans: Vec::new(),
        }
    }

    fn damaged(&self) -> Refusal {
        Refusal::Damaged {
            part: self.part.to_owned(),
        }
    }

    /// The next bytes of the part.
    pub(super) fn feed(&mut self, bytes: &[u8], package: &mut Package) -> Result<(), Refusal> {
        if !self.started && !bytes.is_empty() {
            self.started = true;
            if matches!(bytes, [0xFF | 0xFE, ..]) {
                // UTF-16: the names would read differently here than in a reader that decodes it
                return Err(self.damaged());
            }
        }
        let mut i = 0;
        while i < bytes.len() {
            if self.state == State::Text {
                match bytes[i..].iter().position(|b| *b == b'<') {
                    Some(p) => {
                        i += p + 1;
                        self.state = State::Open;
                    }
                    None => return Ok(()),
                }
                continue;
            }
            let b = bytes[i];
            i += 1;
            self.step(b, package)?;
        }
        Ok(())
    }

    fn step(&mut self, b: u8, package: &mut Package) -> Result<(), Refusal> {
        match self.state {
            State::Text => {
                if b == b'<' {
                    self.state = State::Open;
                }
            }
            State::Open => match b {
                b'!' => {
                    self.tag.clear();
                    self.state = State::Bang;
                }
                b'?' => self.state = State::Pi { question: false },
                b'/' => {
                    self.tag.clear();
                    self.state = State::End;
                }
                0 => return Err(self.damaged()),
                _ => {
                    self.tag.clear();
                    self.keep = false;
                    self.state = State::Start {
                        quote: 0,
                        last: 0,
                        name_done: false,
                    };
                    return self.step(b, package);
                }
            },
            State::Bang => {
                self.tag.push(b);
                if self.tag == b"--" {
                    self.state = State::Comment { dashes: 0 };
                } else if self.tag == b"[CDATA[" {
                    self.state = State::Cdata { brackets: 0 };
                } else if !b"--".starts_with(&self.tag) && !b"[CDATA[".starts_with(&self.tag) {
                    // <!DOCTYPE …> or worse
                    return Err(self.damaged());
                }
            }
            State::Comment { dashes } => {
                self.state = match b {
                    b'-' => State::Comment { dashes: dashes + 1 },
                    b'>' if dashes >= 2 => State::Text,
                    _ => State::Comment { dashes: 0 },
                };
            }
            State::Cdata { brackets } => {
                self.state = match b {
                    b']' => State::Cdata {
                        brackets: brackets + 1,
                    },
                    b'>' if brackets >= 2 => State::Text,
                    _ => State::Cdata { brackets: 0 },
                };
            }
            State::Pi { question } => {
                self.state = match b {
                    b'>' if question => State::Text,
                    b'?' => State::Pi { question: true },
                    _ => State::Pi { question: false },
                };
            }
            State::End => match b {
                b'>' => {
                    self.state = State::Text;
                    self.close()?;
                }
                0 => return Err(self.damaged()),
                _ => {
                    if self.tag.len() < MAX_NAME_BYTES && !is_space(b) {
                        self.tag.push(b);
                    }
                }
            },
            State::Start {
                quote,
                last,
                name_done,
            } => {
                if b == 0 {
                    return Err(self.damaged());
                }
                let mut name_done = name_done;
                if !name_done {
                    if is_space(b) || b == b'/' || b == b'>' {
                        name_done = true;
                        self.keep = self.checks(local(&self.tag));
                        if self.keep {
                            self.tag.push(b);
                        }
                    } else if self.tag.len() < MAX_NAME_BYTES {
                        self.tag.push(b);
                    } else {
                        // a name this long is none the scan looks for
                        name_done = true;
                    }
                } else if self.keep {
                    if self.tag.len() >= MAX_TAG_BYTES {
                        return Err(self.damaged());
                    }
                    self.tag.push(b);
                }
                let (quote, last) = match (quote, b) {
                    (0, b'"' | b'\'') => (b, b),
                    (0, b'>') => {
                        self.state = State::Text;
                        if self.keep && self.tag.last() == Some(&b'>') {
                            self.tag.pop();
                        }
                        return self.open(last == b'/', package);
                    }
                    (0, b) if is_space(b) => (0, last),
                    (0, b) => (0, b),
                    (q, b) if q == b => (0, b),
                    (q, _) => (q, last),
                };
                self.state = State::Start {
                    quote,
                    last,
                    name_done,
                };
            }
        }
        Ok(())
    }

    /// Whether a start tag of this local name has attributes to check.
    fn checks(&self, name: &[u8]) -> bool {
        match self.role {
            Role::ContentTypes => matches!(name, b"Types" | b"Default" | b"Override"),
            Role::PackageRels | Role::Rels => name == b"Relationship",
            Role::Other => {
                matches!(name, b"sst" | b"dimension" | b"sheetData")
                    || (self.in_sheet_data && matches!(name, b"row" | b"c"))
            }
        }
    }

    fn close(&mut self) -> Result<(), Refusal> {
        if self.depth == 0 {
            return Err(self.damaged());
        }
        self.depth -= 1;
        if local(&self.tag) == b"sheetData" {
            self.in_sheet_data = false;
        }
        Ok(())
    }

    fn open(&mut self, self_closing: bool, package: &mut Package) -> Result<(), Refusal> {
        let root = !self.root_seen;
        self.root_seen = true;
        if !self_closing {
            self.depth += 1;
            if self.depth > self.limits.depth {
                return Err(Refusal::TooDeep {
                    part: self.part.to_owned(),
                });
            }
        }
        if !self.keep {
            return Ok(());
        }
        let tag = std::mem::take(&mut self.tag);
        let mut spans = std::mem::take(&mut self.spans);
        let name_len = tag
            .iter()
            .position(|b| is_space(*b) || *b == b'/')
            .unwrap_or(tag.len());
        let name = local(&tag[..name_len]);
        let result = if attributes(&tag, name_len, &mut spans) {
            let attrs = Attrs {
                tag: &tag,
                spans: &spans,
            };
            self.check(name, root, self_closing, attrs, package)
        } else {
            Err(self.damaged())
        };
        self.tag = tag;
        self.spans = spans;
        result
    }

    fn check(
        &mut self,
        name: &[u8],
        root: bool,
        self_closing: bool,
        attrs: Attrs<'_>,
        package: &mut Package,
    ) -> Result<(), Refusal> {
        let get = |key: &'static [u8]| attrs.values(key);
        let text = |v: &[u8]| String::from_utf8_lossy(v).into_owned();
        match (self.role, name) {
            (Role::ContentTypes, b"Types") if root => package.content_types = true,
            (Role::ContentTypes, b"Default") => {
                for (ext, ct) in get(b"Extension").zip(get(b"ContentType")) {
                    package
                        .defaults
                        .push((decode(ext).to_ascii_lowercase(), decode(ct).to_ascii_lowercase()));
                }
            }
            (Role::ContentTypes, b"Override") => {
                for (p, ct) in get(b"PartName").zip(get(b"ContentType")) {
                    let p = decode(p).replace('\\', "/").to_ascii_lowercase();
                    package.overrides.push((
                        p.trim_start_matches('/').to_owned(),
                        decode(ct).to_ascii_lowercase(),
                    ));
                }
            }
            (Role::PackageRels | Role::Rels, b"Relationship") => {
                for (ty, target) in get(b"Type").zip(get(b"Target")) {
                    let kind = ty.rsplit(|b| *b == b'/').next().unwrap_or_default();
                    // calamine opens these targets as XML: they must be parts this scan reads
                    let read_as_xml = matches!(
                        kind,
                        b"officeDocument" | b"worksheet" | b"chartsheet" | b"dialogsheet"
                    );
                    if read_as_xml && !target.to_ascii_lowercase().ends_with(b".xml") {
                        return Err(Refusal::NotAWorkbook);
                    }
                    if self.role == Role::PackageRels && kind == b"officeDocument" {
                        package.workbook_targets.push(decode(target));
                    }
                }
            }
            (Role::Other, b"sst") => {
                for (key, max) in [
                    (&b"uniqueCount"[..], self.limits.shared_strings),
                    (&b"count"[..], self.limits.total_bytes / MIN_CELL_BYTES),
                ] {
                    for v in get(key) {
                        let refused = || Refusal::DeclaredCounts {
                            part: self.part.to_owned(),
                            attribute: text(key),
                            value: text(v),
                        };
                        let n = number(v).filter(|n| *n <= max).ok_or_else(refused)?;
                        if key == b"uniqueCount" {
                            self.unique = self.unique.max(n);
                        }
                    }
                }
            }
            (Role::Other, b"dimension") => {
                for v in get(b"ref") {
                    self.check_range(v)?;
                }
            }
            (Role::Other, b"sheetData") => self.in_sheet_data = !self_closing,
            (Role::Other, b"row") => {
                for v in get(b"r") {
                    match cell_ref(v, false) {
                        Ref::At { row, .. } if row <= self.limits.rows => {}
                        // the row's first cell, where calamine puts a cell without a reference
                        Ref::At { row, .. } => return Err(self.too_many_cells(format!("A{row}").as_bytes())),
                        Ref::Malformed => return Err(self.damaged()),
                        Ref::TooFar => return Err(self.too_many_cells(v)),
                    }
                }
            }
            (Role::Other, b"c") => {
                for v in get(b"r") {
                    self.check_cell(v)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn too_many_cells(&self, reference: &[u8]) -> Refusal {
        Refusal::TooManyCells {
            reference: String::from_utf8_lossy(reference).chars().take(40).collect(),
        }
    }

    fn check_cell(&self, v: &[u8]) -> Result<(u32, u32), Refusal> {
        match cell_ref(v, true) {
            Ref::At { row, col } if row <= self.limits.rows && col <= self.limits.columns => Ok((row, col)),
            Ref::Malformed => Err(self.damaged()),
            _ => Err(self.too_many_cells(v)),
        }
    }

    fn check_range(&self, v: &[u8]) -> Result<(), Refusal> {
        let mut ends = v.split(|b| *b == b':');
        let (Some(first), second, None) = (ends.next(), ends.next(), ends.next()) else {
            return Err(self.damaged());
        };
        let start = self.check_cell(first).map_err(|e| self.whole(e, v))?;
        if let Some(second) = second {
            let end = self.check_cell(second).map_err(|e| self.whole(e, v))?;
            // calamine subtracts start from end
            if end.0 < start.0 || end.1 < start.1 {
                return Err(self.damaged());
            }
        }
        Ok(())
    }

    /// A refusal of one end of a range names the whole range.
    fn whole(&self, e: Refusal, range: &[u8]) -> Refusal {
        match e {
            Refusal::TooManyCells { .. } => self.too_many_cells(range),
            e => e,
        }
    }

    /// The part has ended after `bytes` bytes.
    pub(super) fn finish(&self, bytes: u64) -> Result<(), Refusal> {
        if self.state != State::Text || self.depth != 0 {
            return Err(self.damaged());
        }
        if self.unique.saturating_mul(MIN_SHARED_STRING_BYTES) > bytes {
            return Err(Refusal::DeclaredCounts {
                part: self.part.to_owned(),
                attribute: "uniqueCount".into(),
                value: self.unique.to_string(),
            });
        }
        Ok(())
    }
}

/// A checked tag's attributes.
#[derive(Clone, Copy)]
struct Attrs<'t> {
    tag: &'t [u8],
    spans: &'t [Span],
}

impl<'t> Attrs<'t> {
    /// The values of attribute `key` (by local name; all of them, should it be there twice).
    fn values(self, key: &'static [u8]) -> impl Iterator<Item = &'t [u8]> {
        self.spans
            .iter()
            .filter(move |(k, _)| local(&self.tag[k.clone()]) == key)
            .map(move |(_, v)| &self.tag[v.clone()])
    }
}

/// Reads `name="value"` pairs (either quote) from `tag[from..]` into `out`; false when they are
/// no attributes.
fn attributes(tag: &[u8], from: usize, out: &mut Vec<Span>) -> bool {
    out.clear();
    let mut i = from;
    let skip_space = |mut i: usize| {
        while tag.get(i).is_some_and(|b| is_space(*b)) {
            i += 1;
        }
        i
    };
    loop {
        i = skip_space(i);
        match &tag[i.min(tag.len())..] {
            [] | [b'/'] => return true,
            _ => {}
        }
        let Some(key_len) = tag[i..].iter().position(|b| *b == b'=' || is_space(*b)) else {
            return false;
        };
        if key_len == 0 {
            return false;
        }
        let key = i..i + key_len;
        i = skip_space(i + key_len);
        if tag.get(i) != Some(&b'=') {
            return false;
        }
        i = skip_space(i + 1);
        let Some(q @ (b'"' | b'\'')) = tag.get(i).copied() else {
            return false;
        };
        let Some(len) = tag[i + 1..].iter().position(|b| *b == q) else {
            return false;
        };
        out.push((key, i + 1..i + 1 + len));
        i += len + 2;
    }
}

/// A decimal count as calamine reads one (digits only).
fn number(v: &[u8]) -> Option<u64> {
    if v.is_empty() {
        return None;
    }
    v.iter().try_fold(0u64, |n, b| {
        b.is_ascii_digit()
            .then(|| n.checked_mul(10)?.checked_add(u64::from(b - b'0')))
            .flatten()
    })
}

/// An attribute value with XML's five named entities and character references replaced, for
/// comparing names; anything else is kept as written.
fn decode(v: &[u8]) -> String {
    let s = String::from_utf8_lossy(v);
    if !s.contains('&') {
        return s.into_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = &*s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest.find(';') else { break };
        let entity = &rest[1..end];
        let c = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .map(|h| u32::from_str_radix(h, 16))
                .or_else(|| entity.strip_prefix('#').map(str::parse::<u32>))
                .and_then(Result::ok)
                .and_then(char::from_u32),
        };
        match c {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// A cell reference, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ref {
    At {
        row: u32,
        col: u32,
    },
    /// More letters or digits than Excel's last cell (XFD1048576) has: beyond every bound.
    TooFar,
    /// No reference (calamine would refuse it, or overflow reading it).
    Malformed,
}

/// `XFD1048576` → row 1,048,576, column 16,384. Letters as calamine reads them (either case);
/// a row reference (`<row r>`) may have none (`col` is then 0).
pub(crate) fn cell_ref(v: &[u8], need_column: bool) -> Ref {
    let letters = v.iter().take_while(|b| b.is_ascii_alphabetic()).count();
    let digits = &v[letters..];
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) || (need_column && letters == 0) {
        return Ref::Malformed;
    }
    let significant = digits.iter().skip_while(|b| **b == b'0').count();
    if letters > 3 || significant > 7 {
        return Ref::TooFar;
    }
    let col = v[..letters]
        .iter()
        .fold(0u32, |c, b| c * 26 + u32::from(b.to_ascii_uppercase() - b'A') + 1);
    let row = digits.iter().fold(0u32, |r, b| r * 10 + u32::from(b - b'0'));
    if row == 0 {
        return Ref::Malformed;
    }
    Ref::At { row, col }
}

/// Column 1 → `A`, 256 → `IV`, 16,384 → `XFD`.
pub(crate) fn column_name(mut col: u32) -> String {
    let mut out = Vec::new();
    while col > 0 {
        let rem = (col - 1) % 26;
        out.push(b'A' + rem as u8);
        col = (col - 1) / 26;
    }
    out.reverse();
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(xml: &str, role: Role) -> Result<Package, Refusal> {
        let limits = Limits::DEFAULT;
        let mut package = Package::default();
        let mut s = Scan::new("part.xml", role, &limits);
        // fed a byte at a time, so every state is crossed at a chunk's edge too
        for b in xml.as_bytes().chunks(1) {
            s.feed(b, &mut package)?;
        }
        s.finish(xml.len() as u64)?;
        Ok(package)
    }

    fn code(r: Result<Package, Refusal>) -> &'static str {
        r.map_or_else(|e| e.code(), |_| "ok")
    }

    #[test]
    fn references_are_read_as_calamine_reads_them() {
        assert_eq!(cell_ref(b"A1", true), Ref::At { row: 1, col: 1 });
        assert_eq!(
            cell_ref(b"xfd1048576", true),
            Ref::At {
                row: 1_048_576,
                col: 16_384
            }
        );
        assert_eq!(
            cell_ref(b"IV0300000", true),
            Ref::At {
                row: 300_000,
                col: 256
            }
        );
        assert_eq!(cell_ref(b"12", false), Ref::At { row: 12, col: 0 });
        assert_eq!(cell_ref(b"AAAAAAAA1", true), Ref::TooFar);
        assert_eq!(cell_ref(b"A99999999999", true), Ref::TooFar);
        for bad in [&b""[..], b"A", b"12", b"A0", b"A1 ", b"-1", b"A1B"] {
            assert_eq!(cell_ref(bad, true), Ref::Malformed, "{bad:?}");
        }
        assert_eq!(column_name(1), "A");
        assert_eq!(column_name(256), "IV");
        assert_eq!(column_name(16_384), "XFD");
    }

    #[test]
    fn a_well_formed_sheet_passes() {
        let xml = r#"<?xml version="1.0"?><!-- a <c r="XFD1"> in a comment --><worksheet xmlns:x="u">
            <dimension ref="A1:L3"/><sheetData><row r="1" spans="1:12"><c r="A1" t="s"><v>0</v></c>
            <c r='B1' t="inlineStr"><is><t><![CDATA[<c r="XFD9">]]></t></is></c></row>
            <x:row r="3"><x:c r="L3" s="1" t="a>b"/></x:row></sheetData>
            <mergeCells count="1"><mergeCell ref="A1:B1"/></mergeCells></worksheet>"#;
        assert_eq!(code(scan(xml, Role::Other)), "ok");
    }

    #[test]
    fn counts_references_and_depth_beyond_bounds_are_refused() {
        let cases = [
            (
                r#"<sst count="1" uniqueCount="1000000000000"><si><t>a</t></si></sst>"#,
                "xlsx_declared_counts",
            ),
            (
                r#"<sst count="99999999999999999999999"/>"#,
                "xlsx_declared_counts",
            ),
            (r#"<sst uniqueCount="-1"/>"#, "xlsx_declared_counts"),
            // more entries than 40 bytes can hold
            (r#"<sst uniqueCount="10"><si/></sst>"#, "xlsx_declared_counts"),
            (
                r#"<worksheet><dimension ref="A1:XFD1048576"/></worksheet>"#,
                "xlsx_too_many_cells",
            ),
            (
                r#"<worksheet><dimension ref="B2:A1"/></worksheet>"#,
                "xlsx_damaged",
            ),
            (
                r#"<worksheet><dimension ref="A1:B2:C3"/></worksheet>"#,
                "xlsx_damaged",
            ),
            (
                r#"<w><sheetData><row r="300001"/></sheetData></w>"#,
                "xlsx_too_many_cells",
            ),
            (
                r#"<w><sheetData><row><c r="IW1"/></row></sheetData></w>"#,
                "xlsx_too_many_cells",
            ),
            (
                r#"<w><sheetData><row><c r="A1" r="A9999999"/></row></sheetData></w>"#,
                "xlsx_too_many_cells",
            ),
            (
                r#"<w><sheetData><row><c r=A1/></row></sheetData></w>"#,
                "xlsx_damaged",
            ),
            (r#"<!DOCTYPE x [<!ENTITY a "b">]><x/>"#, "xlsx_damaged"),
            ("<a><b></a>", "xlsx_damaged"),
            ("<a></a></a>", "xlsx_damaged"),
            ("<a><b", "xlsx_damaged"),
            ("<a><!-- open", "xlsx_damaged"),
        ];
        for (xml, expected) in cases {
            assert_eq!(code(scan(xml, Role::Other)), expected, "{xml}");
        }
        let deep = format!("{}{}", "<a>".repeat(65), "</a>".repeat(65));
        assert_eq!(code(scan(&deep, Role::Other)), "xlsx_too_deep");
        let fine = format!("{}{}", "<a>".repeat(64), "</a>".repeat(64));
        assert_eq!(code(scan(&fine, Role::Other)), "ok");
        // outside sheetData a <c> is no cell (charts use the name)
        assert_eq!(code(scan(r#"<chart><c r="ZZZZ1"/></chart>"#, Role::Other)), "ok");
    }

    #[test]
    fn relationships_and_content_types_are_gathered() {
        let rels = r#"<Relationships><Relationship Id="rId1" Target="xl/work&amp;book.xml"
            Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/>
            <Relationship Id="rId2" Type="x/metadata/core-properties" Target="docProps/core.bin"/></Relationships>"#;
        let p = scan(rels, Role::PackageRels).unwrap_or_default();
        assert_eq!(p.workbook_targets, ["xl/work&book.xml"]);
        let sheet_elsewhere = r#"<Relationships><Relationship Id="rId1"
            Type="http://x/relationships/worksheet" Target="worksheets/sheet1.bin"/></Relationships>"#;
        assert_eq!(code(scan(sheet_elsewhere, Role::Rels)), "xlsx_not_a_workbook");
        let types = r#"<Types xmlns="u"><Default Extension="XML" ContentType="application/xml"/>
            <Override PartName="/xl/Workbook.xml" ContentType="A/B"/></Types>"#;
        let p = scan(types, Role::ContentTypes).unwrap_or_default();
        assert!(p.content_types);
        assert_eq!(p.defaults, [("xml".to_owned(), "application/xml".to_owned())]);
        assert_eq!(p.overrides, [("xl/workbook.xml".to_owned(), "a/b".to_owned())]);
        assert!(
            !scan("<Other/>", Role::ContentTypes)
                .unwrap_or_default()
                .content_types
        );
    }
}
