//! Watch-list files: the UN Security Council Consolidated List XML, OpenSanctions
//! `targets.simple.csv` and a plain CSV, told apart by their content.

use std::path::{Path, PathBuf};

use quick_xml::events::{BytesRef, BytesStart, Event};

use super::names::Name;
use super::{country_code, Alias, BirthDate, EntryKind, ListEntry, WatchList};
use crate::error::{Error, Result};

/// The formats a watch list may come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListFormat {
    /// UN Security Council Consolidated List XML (`CONSOLIDATED_LIST`).
    UnXml,
    /// OpenSanctions `targets.simple.csv` (read by header name).
    OpenSanctions,
    /// A plain CSV: `name, aliases, birth_date, country, list, reference`.
    PlainCsv,
}

impl ListFormat {
    /// A description for reports.
    pub fn describe(self) -> &'static str {
        match self {
            ListFormat::UnXml => "UN Security Council Consolidated List (XML)",
            ListFormat::OpenSanctions => "OpenSanctions targets.simple.csv",
            ListFormat::PlainCsv => "plain CSV (name, aliases, birth_date, country, list, reference)",
        }
    }
}

/// What a file's content looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detected {
    /// A watch list in one of the formats.
    WatchList(ListFormat),
    /// XML that is not a UN consolidated list (the loader says which root it found).
    OtherXml,
    /// CSV whose header has no `name` column.
    CsvWithoutName,
    /// One value a line: a reference list such as `rules/lists/conflict-zones.txt`.
    ValueList,
    /// Nothing but white space.
    Empty,
}

/// Tells a file's format by its content: XML by its first `<`, CSV by a header line
/// with a delimiter, OpenSanctions by its `id`, `schema` and `name` columns.
pub fn detect(bytes: &[u8]) -> Detected {
    let text = String::from_utf8_lossy(strip_bom(bytes));
    let t = text.trim_start();
    if t.is_empty() {
        return Detected::Empty;
    }
    if t.starts_with('<') {
        return if root_is_un_list(t) {
            Detected::WatchList(ListFormat::UnXml)
        } else {
            Detected::OtherXml
        };
    }
    let first = t
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .unwrap_or("");
    let delim = sniff_delimiter(first);
    let header: Vec<String> = split_simple(first, delim).iter().map(|h| norm_header(h)).collect();
    let has = |n: &str| header.iter().any(|h| h == n);
    if has("name") && has("id") && has("schema") {
        Detected::WatchList(ListFormat::OpenSanctions)
    } else if has("name") {
        Detected::WatchList(ListFormat::PlainCsv)
    } else if header.len() > 1 {
        Detected::CsvWithoutName
    } else {
        Detected::ValueList
    }
}

fn root_is_un_list(t: &str) -> bool {
    let mut r = quick_xml::Reader::from_str(t);
    loop {
        match r.read_event() {
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) => return e.local_name().as_ref() == b"CONSOLIDATED_LIST",
            Ok(Event::Eof) | Err(_) => return false,
            Ok(_) => {}
        }
    }
}

/// Something in a file that was not taken, or taken only in part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// Where: `line 14`, `line 120, INDIVIDUAL DATAID 6908555`.
    pub place: String,
    /// True when the whole entry was left out; false when only a value of it was.
    pub whole_entry: bool,
    /// Why.
    pub reason: String,
}

/// What one list file held.
#[derive(Debug, Clone, PartialEq)]
pub struct ListFile {
    /// The file.
    pub path: PathBuf,
    /// Its format.
    pub format: ListFormat,
    /// sha256 of its bytes.
    pub sha256: String,
    /// When the list says it was generated (UN `dateGenerated`), if it says.
    pub generated: Option<String>,
    /// Entries loaded.
    pub entries: usize,
    /// Of which persons.
    pub persons: usize,
    /// Of which organisations.
    pub organisations: usize,
    /// Aliases loaded, over all entries.
    pub aliases: usize,
    /// Entries with at least one birth date.
    pub with_birth_date: usize,
    /// Entries with at least one country.
    pub with_country: usize,
    /// Entries per list name, sorted by name.
    pub lists: Vec<(String, usize)>,
    /// What was skipped, and why.
    pub skipped: Vec<Skipped>,
}

pub(crate) fn parse(bytes: &[u8], path: &Path) -> Result<WatchList> {
    let err = |place: String, message: String| Error::WatchList {
        path: path.to_path_buf(),
        place,
        message,
    };
    let body = strip_bom(bytes);
    let text = std::str::from_utf8(body).map_err(|e| {
        let at = e.valid_up_to();
        let line = body[..at].iter().filter(|b| **b == b'\n').count() + 1;
        err(
            format!("line {line}"),
            format!("not UTF-8 text (byte {} of the file); save the list as UTF-8", at + 1),
        )
    })?;
    if text.trim().is_empty() {
        return Err(err(
            "line 1".into(),
            "the file is empty; a watch list is UN Consolidated List XML, OpenSanctions targets.simple.csv or a CSV \
             with a `name` column"
                .into(),
        ));
    }
    let mut skipped = Vec::new();
    let (format, generated, entries) = match detect(body) {
        Detected::WatchList(ListFormat::UnXml) => {
            let (generated, entries) = parse_un_xml(text, path, &mut skipped)?;
            (ListFormat::UnXml, generated, entries)
        }
        Detected::OtherXml => {
            let root = first_element(text).unwrap_or_default();
            return Err(err(
                format!(
                    "line {}, element <{root}>",
                    line_of(text, text.find(&format!("<{root}")).unwrap_or(0))
                ),
                format!(
                    "XML whose root is <{root}>, not the UN Security Council Consolidated List <CONSOLIDATED_LIST>"
                ),
            ));
        }
        Detected::WatchList(f) => (f, None, parse_csv_list(text, path, f, &mut skipped)?),
        Detected::CsvWithoutName | Detected::ValueList => {
            let header = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
            let line = text.lines().position(|l| !l.trim().is_empty()).unwrap_or(0) + 1;
            let delim = sniff_delimiter(header);
            let cols: Vec<String> = split_simple(header, delim)
                .iter()
                .map(|h| format!("`{}`", h.trim()))
                .collect();
            return Err(err(
                format!("line {line} (header)"),
                format!(
                    "no `name` column; the header has {}. A plain watch list needs `name` (and may have `aliases`, \
                     `birth_date`, `country`, `list`, `reference`); an OpenSanctions export has `id`, `schema`, \
                     `name`, ...",
                    cols.join(", ")
                ),
            ));
        }
        Detected::Empty => {
            return Err(err(
                "line 1".into(),
                "the file holds only white space; a watch list needs entries".into(),
            ))
        }
    };
    let mut lists = std::collections::BTreeMap::<String, usize>::new();
    for e in &entries {
        *lists.entry(e.list.clone()).or_default() += 1;
    }
    let file = ListFile {
        path: path.to_path_buf(),
        format,
        sha256: crate::util::hash::sha256_hex(bytes),
        generated,
        entries: entries.len(),
        persons: entries.iter().filter(|e| e.kind == EntryKind::Person).count(),
        organisations: entries.iter().filter(|e| e.kind == EntryKind::Organisation).count(),
        aliases: entries.iter().map(|e| e.aliases.len()).sum(),
        with_birth_date: entries.iter().filter(|e| !e.birth_dates.is_empty()).count(),
        with_country: entries.iter().filter(|e| !e.countries.is_empty()).count(),
        lists: lists.into_iter().collect(),
        skipped,
    };
    Ok(WatchList {
        entries,
        files: vec![file],
    })
}

fn strip_bom(b: &[u8]) -> &[u8] {
    b.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(b)
}

fn line_of(text: &str, offset: usize) -> usize {
    let offset = offset.min(text.len());
    text.as_bytes()[..offset].iter().filter(|b| **b == b'\n').count() + 1
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text.as_bytes()[..offset];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let start = before.iter().rposition(|b| *b == b'\n').map_or(0, |p| p + 1);
    let col = String::from_utf8_lossy(&before[start..]).chars().count() + 1;
    (line, col)
}

fn first_element(text: &str) -> Option<String> {
    let mut r = quick_xml::Reader::from_str(text);
    loop {
        match r.read_event() {
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) => {
                return Some(String::from_utf8_lossy(e.name().as_ref()).into_owned());
            }
            Ok(Event::Eof) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

/// Adds a country, as its alpha-2 code when it is one.
fn push_country(countries: &mut Vec<String>, value: &str, place: &str, skipped: &mut Vec<Skipped>) {
    let v = value.trim();
    if v.is_empty() {
        return;
    }
    let c = match country_code(v) {
        Some(c) => c.to_string(),
        None => {
            skipped.push(Skipped {
                place: place.to_string(),
                whole_entry: false,
                reason: format!("country `{v}` is not an ISO 3166 code or name; kept as written"),
            });
            v.to_uppercase()
        }
    };
    if !countries.contains(&c) {
        countries.push(c);
    }
}

fn push_birth_date(dates: &mut Vec<BirthDate>, value: &str, place: &str, skipped: &mut Vec<Skipped>) {
    let v = value.trim();
    if v.is_empty() {
        return;
    }
    match BirthDate::parse(v) {
        Some(d) => {
            if !dates.contains(&d) {
                dates.push(d);
            }
        }
        None => skipped.push(Skipped {
            place: place.to_string(),
            whole_entry: false,
            reason: format!("birth date `{v}` not understood (YYYY-MM-DD, YYYY-MM, YYYY or DD.MM.YYYY); left out"),
        }),
    }
}

/// An organisation when the list says so or a legal form in its name does.
fn infer_kind(kind: EntryKind, name: &str) -> EntryKind {
    if kind == EntryKind::Other && Name::parse(name).has_legal_form() {
        EntryKind::Organisation
    } else {
        kind
    }
}

// ---------------------------------------------------------------------------------------
// UN Security Council Consolidated List XML

#[derive(Default)]
struct UnRecord {
    kind: Option<EntryKind>,
    line: usize,
    dataid: String,
    names: [String; 4],
    list_type: String,
    reference: String,
    original_script: String,
    aliases: Vec<Alias>,
    birth_dates: Vec<BirthDate>,
    countries: Vec<String>,
}

#[derive(Default)]
struct UnAlias {
    quality: String,
    name: String,
}

#[derive(Default)]
struct UnDob {
    type_of_date: String,
    date: String,
    year: String,
    from_year: String,
    to_year: String,
}

/// Reads the UN Consolidated List XML: the list's date (`dateGenerated`) and its entries.
fn parse_un_xml(text: &str, path: &Path, skipped: &mut Vec<Skipped>) -> Result<(Option<String>, Vec<ListEntry>)> {
    let mut p = UnParser {
        text,
        path,
        file: path.display().to_string(),
        stack: Vec::new(),
        opened: Vec::new(),
        buf: String::new(),
        rec: None,
        alias: None,
        dob: None,
        generated: None,
        entries: Vec::new(),
        seen_root: false,
        skipped,
    };
    let mut reader = quick_xml::Reader::from_str(text);
    loop {
        let pos = reader.buffer_position() as usize;
        let ev = match reader.read_event() {
            Ok(ev) => ev,
            Err(e) => return Err(p.xml_err(&reader, format!("malformed XML: {e}"))),
        };
        match ev {
            Event::Start(e) => p.start(&e, pos)?,
            Event::Empty(e) if !p.seen_root => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                return Err(p.root_not_list(&name, pos));
            }
            Event::Text(t) => {
                let s = t
                    .xml10_content()
                    .map_err(|e| p.xml_err(&reader, format!("text not readable: {e}")))?;
                p.buf.push_str(&s);
            }
            Event::CData(t) => p.buf.push_str(&String::from_utf8_lossy(&t)),
            Event::GeneralRef(r) => {
                let resolved = p.general_ref(&reader, &r)?;
                p.buf.push_str(&resolved);
            }
            Event::End(_) => p.end(),
            Event::Eof => break,
            _ => {}
        }
    }
    p.finish()
}

/// The state of reading the UN list: the open elements, the text read since the last tag,
/// the record, alias and date of birth being read, and what has been read so far.
struct UnParser<'a> {
    text: &'a str,
    path: &'a Path,
    file: String,
    /// The names of the open elements, and where each opened.
    stack: Vec<String>,
    opened: Vec<usize>,
    buf: String,
    rec: Option<UnRecord>,
    alias: Option<UnAlias>,
    dob: Option<UnDob>,
    generated: Option<String>,
    entries: Vec<ListEntry>,
    seen_root: bool,
    skipped: &'a mut Vec<Skipped>,
}

impl UnParser<'_> {
    /// An XML error at the reader's error position, naming the innermost open element.
    fn xml_err(&self, reader: &quick_xml::Reader<&[u8]>, message: String) -> Error {
        let (line, col) = line_col(self.text, reader.error_position() as usize);
        let element = self
            .stack
            .last()
            .map(|e| format!(", element <{e}>"))
            .unwrap_or_default();
        Error::WatchList {
            path: self.path.to_path_buf(),
            place: format!("line {line}, column {col}{element}"),
            message,
        }
    }

    /// The error for a first element that is not `<CONSOLIDATED_LIST>`.
    fn root_not_list(&self, name: &str, pos: usize) -> Error {
        let (line, _) = line_col(self.text, pos);
        Error::WatchList {
            path: self.path.to_path_buf(),
            place: format!("line {line}, element <{name}>"),
            message: "the root element is not <CONSOLIDATED_LIST>".into(),
        }
    }

    /// An opening tag: checks the root (and reads its date), starts a record, an alias or
    /// a date of birth, and pushes the element.
    fn start(&mut self, e: &BytesStart, pos: usize) -> Result<()> {
        let text = self.text;
        let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
        if !self.seen_root {
            self.seen_root = true;
            if name != "CONSOLIDATED_LIST" {
                return Err(self.root_not_list(&name, pos));
            }
            for a in e.attributes().flatten() {
                if a.key.as_ref() == b"dateGenerated" {
                    self.generated = Some(String::from_utf8_lossy(&a.value).into_owned());
                }
            }
        }
        let parent = self.stack.last().map(String::as_str).unwrap_or("");
        match (parent, name.as_str()) {
            ("INDIVIDUALS", "INDIVIDUAL") | ("ENTITIES", "ENTITY") => {
                self.rec = Some(UnRecord {
                    kind: Some(if name == "INDIVIDUAL" {
                        EntryKind::Person
                    } else {
                        EntryKind::Organisation
                    }),
                    line: line_of(text, pos),
                    ..UnRecord::default()
                });
            }
            (_, "INDIVIDUAL_ALIAS") | (_, "ENTITY_ALIAS") if self.rec.is_some() => {
                self.alias = Some(UnAlias::default())
            }
            (_, "INDIVIDUAL_DATE_OF_BIRTH") if self.rec.is_some() => self.dob = Some(UnDob::default()),
            _ => {}
        }
        self.stack.push(name);
        self.opened.push(pos);
        self.buf.clear();
        Ok(())
    }

    /// An entity or character reference, resolved; an error for an unknown entity.
    fn general_ref(&self, reader: &quick_xml::Reader<&[u8]>, r: &BytesRef) -> Result<String> {
        Ok(match r.resolve_char_ref() {
            Ok(Some(c)) => c.to_string(),
            Ok(None) => {
                let name = r.decode().map(|c| c.into_owned()).unwrap_or_default();
                match name.as_str() {
                    "amp" => "&".into(),
                    "lt" => "<".into(),
                    "gt" => ">".into(),
                    "quot" => "\"".into(),
                    "apos" => "'".into(),
                    other => {
                        return Err(self.xml_err(reader, format!("unknown entity `&{other};`")));
                    }
                }
            }
            Err(e) => return Err(self.xml_err(reader, format!("bad character reference: {e}"))),
        })
    }

    /// A closing tag: pops the element and gives its trimmed text to the date of birth,
    /// the alias or the record being read, whichever is innermost.
    fn end(&mut self) {
        let name = self.stack.pop().unwrap_or_default();
        self.opened.pop();
        let value = self.buf.trim().to_string();
        self.buf.clear();
        if self.dob.is_some() {
            self.end_in_dob(&name, value);
        } else if self.alias.is_some() {
            self.end_in_alias(&name, value);
        } else {
            self.end_in_record(&name, value);
        }
    }

    /// A field of a date of birth; at its end, the date is added to the record.
    fn end_in_dob(&mut self, name: &str, value: String) {
        let Some(d) = self.dob.as_mut() else { return };
        match name {
            "TYPE_OF_DATE" => d.type_of_date = value,
            "DATE" => d.date = value,
            "YEAR" => d.year = value,
            "FROM_YEAR" => d.from_year = value,
            "TO_YEAR" => d.to_year = value,
            "INDIVIDUAL_DATE_OF_BIRTH" => {
                let d = self.dob.take().unwrap_or_default();
                if let Some(r) = self.rec.as_mut() {
                    let place = format!("line {}, INDIVIDUAL DATAID {}", r.line, r.dataid);
                    un_birth_date(&d, &mut r.birth_dates, &place, self.skipped);
                }
            }
            _ => {}
        }
    }

    /// A field of an alias; at its end, the alias (when named) is added to the record.
    fn end_in_alias(&mut self, name: &str, value: String) {
        let Some(a) = self.alias.as_mut() else { return };
        match name {
            "QUALITY" => a.quality = value,
            "ALIAS_NAME" => a.name = value,
            "INDIVIDUAL_ALIAS" | "ENTITY_ALIAS" => {
                let a = self.alias.take().unwrap_or_default();
                if let Some(r) = self.rec.as_mut() {
                    if !a.name.is_empty() {
                        r.aliases.push(Alias {
                            name: a.name,
                            low_quality: a.quality.eq_ignore_ascii_case("low"),
                        });
                    }
                }
            }
            _ => {}
        }
    }

    /// A field of the record being read; at the record's end, its entry is made.
    fn end_in_record(&mut self, name: &str, value: String) {
        let parent = self.stack.last().map(String::as_str).unwrap_or("");
        let Some(r) = self.rec.as_mut() else { return };
        match (parent, name) {
            (_, "DATAID") => r.dataid = value,
            (_, "FIRST_NAME") => r.names[0] = value,
            (_, "SECOND_NAME") => r.names[1] = value,
            (_, "THIRD_NAME") => r.names[2] = value,
            (_, "FOURTH_NAME") => r.names[3] = value,
            (_, "UN_LIST_TYPE") => r.list_type = value,
            (_, "REFERENCE_NUMBER") => r.reference = value,
            (_, "NAME_ORIGINAL_SCRIPT") => r.original_script = value,
            ("NATIONALITY", "VALUE")
            | ("INDIVIDUAL_ADDRESS", "COUNTRY")
            | ("ENTITY_ADDRESS", "COUNTRY")
            | ("INDIVIDUAL_PLACE_OF_BIRTH", "COUNTRY") => {
                let place = format!("line {}, DATAID {}", r.line, r.dataid);
                push_country(&mut r.countries, &value, &place, self.skipped);
            }
            (_, "INDIVIDUAL") | (_, "ENTITY") => {
                let r = self.rec.take().unwrap_or_default();
                un_entry(r, name, &self.file, self.skipped, &mut self.entries);
            }
            _ => {}
        }
    }

    /// The end of the file: an error when an element is still open or no element was
    /// found; else the list's date and its entries.
    fn finish(self) -> Result<(Option<String>, Vec<ListEntry>)> {
        let text = self.text;
        if let (Some(name), Some(&at)) = (self.stack.last(), self.opened.last()) {
            let (line, col) = line_col(text, at);
            return Err(Error::WatchList {
                path: self.path.to_path_buf(),
                place: format!("line {line}, column {col}, element <{name}>"),
                message: format!(
                    "the file ends before <{name}> is closed (line {} is the last); is it cut short?",
                    line_of(text, text.len())
                ),
            });
        }
        if !self.seen_root {
            return Err(Error::WatchList {
                path: self.path.to_path_buf(),
                place: "line 1".into(),
                message: "no XML element found".into(),
            });
        }
        Ok((self.generated, self.entries))
    }
}

fn un_birth_date(d: &UnDob, out: &mut Vec<BirthDate>, place: &str, skipped: &mut Vec<Skipped>) {
    let t = d.type_of_date.to_ascii_uppercase();
    if !d.from_year.is_empty() || !d.to_year.is_empty() {
        let from = if d.from_year.is_empty() {
            &d.to_year
        } else {
            &d.from_year
        };
        let to = if d.to_year.is_empty() { &d.from_year } else { &d.to_year };
        push_birth_date(out, &format!("{from}..{to}"), place, skipped);
    } else if !d.date.is_empty() {
        push_birth_date(out, &d.date, place, skipped);
    } else if !d.year.is_empty() {
        if t.starts_with("APPROX") {
            match d.year.trim().parse::<i32>() {
                Ok(y) => push_birth_date(out, &format!("{}..{}", y - 1, y + 1), place, skipped),
                Err(_) => push_birth_date(out, &d.year, place, skipped),
            }
        } else {
            push_birth_date(out, &d.year, place, skipped);
        }
    }
}

fn un_entry(r: UnRecord, element: &str, file: &str, skipped: &mut Vec<Skipped>, out: &mut Vec<ListEntry>) {
    let id = if r.dataid.is_empty() {
        String::new()
    } else {
        format!(" DATAID {}", r.dataid)
    };
    let place = format!("line {}, {element}{id}", r.line);
    let name = r
        .names
        .iter()
        .filter(|n| !n.is_empty())
        .cloned()
        .collect::<Vec<_>>()
        .join(" ");
    let mut aliases = r.aliases;
    if !r.original_script.is_empty() {
        aliases.push(Alias {
            name: r.original_script.clone(),
            low_quality: false,
        });
    }
    let name = if name.is_empty() {
        match aliases.iter().position(|a| !a.low_quality) {
            Some(i) => aliases.remove(i).name,
            None => {
                skipped.push(Skipped {
                    place,
                    whole_entry: true,
                    reason: "no name: FIRST_NAME to FOURTH_NAME, NAME_ORIGINAL_SCRIPT and good-quality aliases are \
                             all empty"
                        .into(),
                });
                return;
            }
        }
    } else {
        name
    };
    let reference = if !r.reference.is_empty() {
        r.reference
    } else if !r.dataid.is_empty() {
        format!("DATAID {}", r.dataid)
    } else {
        format!("line {}", r.line)
    };
    let list = if r.list_type.is_empty() {
        "UN Security Council".to_string()
    } else {
        format!("UN {}", r.list_type)
    };
    out.push(ListEntry {
        list,
        reference,
        kind: r.kind.unwrap_or(EntryKind::Other),
        name,
        aliases,
        birth_dates: r.birth_dates,
        countries: r.countries,
        source: format!("{file}: {place}"),
    });
}

// ---------------------------------------------------------------------------------------
// CSV lists

fn norm_header(h: &str) -> String {
    h.trim().trim_matches('"').trim().to_ascii_lowercase()
}

fn sniff_delimiter(header: &str) -> char {
    let mut best = (',', 0);
    for d in [',', ';', '\t', '|'] {
        let n = header.matches(d).count();
        if n > best.1 {
            best = (d, n);
        }
    }
    best.0
}

/// Splits one line at a delimiter outside quotes (for headers and detection).
fn split_simple(line: &str, delim: char) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut q = false;
    for c in line.chars() {
        if c == '"' {
            q = !q;
        } else if c == delim && !q {
            out.push(String::new());
        } else if let Some(last) = out.last_mut() {
            last.push(c);
        }
    }
    out
}

/// RFC 4180 records with the line each starts on. Quoted fields may hold delimiters,
/// doubled quotes and line breaks.
fn csv_records(text: &str, delim: char, path: &Path) -> Result<Vec<(usize, Vec<String>)>> {
    let mut records = Vec::new();
    let mut fields: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut in_quotes = false;
    let mut quote_line = 0;
    let mut line = 1;
    let mut rec_line = 1;
    let mut at_field_start = true;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if in_quotes {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push('"');
                } else {
                    in_quotes = false;
                }
            } else {
                if c == '\n' {
                    line += 1;
                }
                field.push(c);
            }
            continue;
        }
        match c {
            '"' if at_field_start => {
                in_quotes = true;
                quote_line = line;
                at_field_start = false;
            }
            c if c == delim => {
                fields.push(std::mem::take(&mut field));
                at_field_start = true;
            }
            '\r' => {}
            '\n' => {
                fields.push(std::mem::take(&mut field));
                if !(fields.len() == 1 && fields[0].trim().is_empty()) {
                    records.push((rec_line, std::mem::take(&mut fields)));
                }
                fields.clear();
                line += 1;
                rec_line = line;
                at_field_start = true;
            }
            c => {
                field.push(c);
                at_field_start = false;
            }
        }
    }
    if in_quotes {
        return Err(Error::WatchList {
            path: path.to_path_buf(),
            place: format!("line {quote_line}"),
            message: "a quoted field opened on this line is never closed (a `\"` is missing)".into(),
        });
    }
    if !field.is_empty() || !fields.is_empty() {
        fields.push(field);
        if !(fields.len() == 1 && fields[0].trim().is_empty()) {
            records.push((rec_line, fields));
        }
    }
    Ok(records)
}

fn split_multi(v: &str) -> impl Iterator<Item = &str> {
    v.split(';').map(str::trim).filter(|s| !s.is_empty())
}

fn parse_csv_list(text: &str, path: &Path, format: ListFormat, skipped: &mut Vec<Skipped>) -> Result<Vec<ListEntry>> {
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let delim = sniff_delimiter(first);
    let records = csv_records(text, delim, path)?;
    let Some(((header_line, header), rows)) = records.split_first() else {
        return Ok(Vec::new());
    };
    let header: Vec<String> = header.iter().map(|h| norm_header(h)).collect();
    let col = |n: &str| header.iter().position(|h| h == n);
    let file = path.display().to_string();
    let name_col = col("name").ok_or_else(|| Error::WatchList {
        path: path.to_path_buf(),
        place: format!("line {header_line} (header)"),
        message: "no `name` column".into(),
    })?;
    let (aliases_col, dob_col, country_col, list_col, ref_col, kind_col) = match format {
        ListFormat::OpenSanctions => (
            col("aliases"),
            col("birth_date"),
            col("countries"),
            col("dataset"),
            col("id"),
            col("schema"),
        ),
        _ => (
            col("aliases"),
            col("birth_date"),
            col("country").or_else(|| col("countries")),
            col("list"),
            col("reference"),
            col("kind").or_else(|| col("type")),
        ),
    };
    let default_list = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "watch list".into());
    let mut out = Vec::new();
    for (line, row) in rows {
        let place = format!("line {line}");
        if row.len() != header.len() {
            skipped.push(Skipped {
                place,
                whole_entry: true,
                reason: format!(
                    "{} field(s) where the header has {}; a field holding `{delim}` must be quoted",
                    row.len(),
                    header.len()
                ),
            });
            continue;
        }
        let get = |c: Option<usize>| c.map(|i| row[i].trim()).unwrap_or("");
        let name = row[name_col].trim();
        if name.is_empty() {
            skipped.push(Skipped {
                place,
                whole_entry: true,
                reason: "empty `name`".into(),
            });
            continue;
        }
        let kind_text = get(kind_col).to_ascii_lowercase();
        let kind = match kind_text.as_str() {
            "person" | "individual" => EntryKind::Person,
            "organization" | "organisation" | "company" | "legalentity" | "entity" | "publicbody" => {
                EntryKind::Organisation
            }
            _ => EntryKind::Other,
        };
        let aliases = split_multi(get(aliases_col))
            .filter(|a| *a != name)
            .map(|a| Alias {
                name: a.to_string(),
                low_quality: false,
            })
            .collect();
        let mut birth_dates = Vec::new();
        for d in split_multi(get(dob_col)) {
            push_birth_date(&mut birth_dates, d, &place, skipped);
        }
        let mut countries = Vec::new();
        for c in split_multi(get(country_col)) {
            push_country(&mut countries, c, &place, skipped);
        }
        let list = match get(list_col) {
            "" => default_list.clone(),
            l => l.to_string(),
        };
        let reference = match get(ref_col) {
            "" => format!("{default_list}:{line}"),
            r => r.to_string(),
        };
        out.push(ListEntry {
            list,
            reference,
            kind: infer_kind(kind, name),
            name: name.to_string(),
            aliases,
            birth_dates,
            countries,
            source: format!("{file}:{line}"),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(s: &str, name: &str) -> Result<WatchList> {
        parse(s.as_bytes(), Path::new(name))
    }

    const UN: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<CONSOLIDATED_LIST dateGenerated="2026-01-15T00:00:00">
  <INDIVIDUALS>
    <INDIVIDUAL>
      <DATAID>900001</DATAID>
      <FIRST_NAME>KURMANBEK</FIRST_NAME>
      <SECOND_NAME>TOKTOSUNOV</SECOND_NAME>
      <THIRD_NAME>ERKINBEKOVICH</THIRD_NAME>
      <UN_LIST_TYPE>Al-Qaida</UN_LIST_TYPE>
      <REFERENCE_NUMBER>QDi.901</REFERENCE_NUMBER>
      <NAME_ORIGINAL_SCRIPT>Токтосунов Курманбек Эркинбекович</NAME_ORIGINAL_SCRIPT>
      <NATIONALITY><VALUE>Kyrgyzstan</VALUE></NATIONALITY>
      <INDIVIDUAL_ALIAS><QUALITY>Good</QUALITY><ALIAS_NAME>Abu Kurman</ALIAS_NAME></INDIVIDUAL_ALIAS>
      <INDIVIDUAL_ALIAS><QUALITY>Low</QUALITY><ALIAS_NAME>Kurman &amp; Co</ALIAS_NAME></INDIVIDUAL_ALIAS>
      <INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>EXACT</TYPE_OF_DATE><DATE>1981-04-12</DATE></INDIVIDUAL_DATE_OF_BIRTH>
      <INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>APPROXIMATELY</TYPE_OF_DATE><YEAR>1980</YEAR></INDIVIDUAL_DATE_OF_BIRTH>
    </INDIVIDUAL>
    <INDIVIDUAL>
      <DATAID>900002</DATAID>
      <FIRST_NAME></FIRST_NAME>
      <UN_LIST_TYPE>Al-Qaida</UN_LIST_TYPE>
      <REFERENCE_NUMBER>QDi.902</REFERENCE_NUMBER>
    </INDIVIDUAL>
  </INDIVIDUALS>
  <ENTITIES>
    <ENTITY>
      <DATAID>900101</DATAID>
      <FIRST_NAME>SARYBEL RELIEF FOUNDATION</FIRST_NAME>
      <UN_LIST_TYPE>Al-Qaida</UN_LIST_TYPE>
      <REFERENCE_NUMBER>QDe.901</REFERENCE_NUMBER>
      <ENTITY_ALIAS><QUALITY>Good</QUALITY><ALIAS_NAME>Фонд Сарыбел</ALIAS_NAME></ENTITY_ALIAS>
      <ENTITY_ADDRESS><COUNTRY>Kyrgyzstan</COUNTRY></ENTITY_ADDRESS>
    </ENTITY>
  </ENTITIES>
</CONSOLIDATED_LIST>
"#;

    #[test]
    fn un_xml_individuals_entities_aliases_dates() {
        let wl = parse_str(UN, "un.xml").unwrap();
        let f = &wl.files[0];
        assert_eq!(f.format, ListFormat::UnXml);
        assert_eq!(f.generated.as_deref(), Some("2026-01-15T00:00:00"));
        assert_eq!((f.entries, f.persons, f.organisations), (2, 1, 1));
        assert_eq!(f.skipped.len(), 1);
        assert!(f.skipped[0].whole_entry);
        assert!(f.skipped[0].place.contains("DATAID 900002"), "{:?}", f.skipped);
        let e = &wl.entries[0];
        assert_eq!(e.name, "KURMANBEK TOKTOSUNOV ERKINBEKOVICH");
        assert_eq!(e.list, "UN Al-Qaida");
        assert_eq!(e.reference, "QDi.901");
        assert_eq!(e.countries, ["KG"]);
        assert_eq!(e.aliases.len(), 3);
        assert_eq!(e.aliases[1].name, "Kurman & Co");
        assert!(e.aliases[1].low_quality);
        assert_eq!(e.aliases[2].name, "Токтосунов Курманбек Эркинбекович");
        let dates: Vec<String> = e.birth_dates.iter().map(|d| d.to_string()).collect();
        assert_eq!(dates, ["1981-04-12", "1979..1981"]);
        assert!(
            e.source.starts_with("un.xml: line 4, INDIVIDUAL DATAID 900001"),
            "{}",
            e.source
        );
        assert_eq!(wl.entries[1].kind, EntryKind::Organisation);
        assert_eq!(wl.entries[1].countries, ["KG"]);
    }

    #[test]
    fn malformed_xml_names_line_and_element() {
        let bad = UN.replace("</SECOND_NAME>", "</SECOND>");
        let e = parse_str(&bad, "bad.xml").unwrap_err().to_string();
        assert!(e.starts_with("bad.xml: line 7"), "{e}");
        assert!(e.contains("SECOND"), "{e}");
        let cut = &UN[..UN.find("<ENTITIES>").unwrap()];
        let e = parse_str(cut, "cut.xml").unwrap_err().to_string();
        assert!(
            e.starts_with("cut.xml: line 2, column 1, element <CONSOLIDATED_LIST>"),
            "{e}"
        );
        let e = parse_str("<?xml version=\"1.0\"?>\n<sdnList></sdnList>", "ofac.xml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2, element <sdnList>"), "{e}");
    }

    #[test]
    fn plain_csv_and_opensanctions_by_header() {
        let plain = "name,aliases,birth_date,country,list,reference\n\
                     Токтосунов Курманбек,Kurmanbek Toktosunov;Abu Kurman,1981-04-12,KG,Test list,T-1\n\
                     \"Sarybel Relief, LLC\",,,kyrgyzstan,Test list,T-2\n\
                     ,,,,,\n\
                     Only,two\n\
                     Bad Date Person,,12/1981,Atlantis,,\n";
        let wl = parse_str(plain, "plain.csv").unwrap();
        let f = &wl.files[0];
        assert_eq!(f.format, ListFormat::PlainCsv);
        assert_eq!(f.entries, 3);
        assert_eq!(wl.entries[0].aliases.len(), 2);
        assert_eq!(wl.entries[1].name, "Sarybel Relief, LLC");
        assert_eq!(wl.entries[1].kind, EntryKind::Organisation);
        assert_eq!(wl.entries[1].countries, ["KG"]);
        assert_eq!(wl.entries[2].reference, "plain:6");
        assert_eq!(wl.entries[2].list, "plain");
        let places: Vec<(&str, bool)> = f.skipped.iter().map(|s| (s.place.as_str(), s.whole_entry)).collect();
        assert_eq!(
            places,
            [("line 4", true), ("line 5", true), ("line 6", false), ("line 6", false)]
        );

        let os = "id,schema,name,aliases,birth_date,countries,addresses,identifiers,sanctions,phones,emails,dataset,\
                  first_seen,last_seen,last_change,extra\n\
                  NK-x1,Person,Kurmanbek Toktosunov,Курманбек Токтосунов,1981-04-12;1980,kg;ru,,,,,,Example,,,,\n\
                  NK-x2,Company,Sarybel Trading,,,kg,,,,,,Example,,,,\n";
        let wl = parse_str(os, "targets.simple.csv").unwrap();
        assert_eq!(wl.files[0].format, ListFormat::OpenSanctions);
        assert_eq!(wl.entries[0].kind, EntryKind::Person);
        assert_eq!(wl.entries[0].reference, "NK-x1");
        assert_eq!(wl.entries[0].countries, ["KG", "RU"]);
        assert_eq!(wl.entries[0].birth_dates.len(), 2);
        assert_eq!(wl.entries[1].kind, EntryKind::Organisation);
    }

    #[test]
    fn bad_csv_files_name_the_line() {
        let e = parse_str("fullname,dob\nX,1980\n", "nocol.csv")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("nocol.csv: line 1 (header): no `name` column"), "{e}");
        assert!(e.contains("`fullname`, `dob`"), "{e}");
        let e = parse_str("  \n\n", "empty.csv").unwrap_err().to_string();
        assert!(e.starts_with("empty.csv: line 1: the file is empty"), "{e}");
        let e = parse_str("name,list\nA,L\n\"B,L\nC,L\n", "quote.csv")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("quote.csv: line 3: a quoted field"), "{e}");
        let e = parse(b"name\n\xff\xfe\n", Path::new("bin.csv"))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("bin.csv: line 2: not UTF-8"), "{e}");
    }

    #[test]
    fn detection_by_content() {
        assert_eq!(detect(b""), Detected::Empty);
        assert_eq!(
            detect(b"\xEF\xBB\xBF<CONSOLIDATED_LIST/>"),
            Detected::WatchList(ListFormat::UnXml)
        );
        assert_eq!(detect(b"<other/>"), Detected::OtherXml);
        assert_eq!(detect(b"# comment\nKP\nIR\n"), Detected::ValueList);
        assert_eq!(detect(b"name\nA\n"), Detected::WatchList(ListFormat::PlainCsv));
        assert_eq!(detect(b"a;b\n1;2\n"), Detected::CsvWithoutName);
    }
}
