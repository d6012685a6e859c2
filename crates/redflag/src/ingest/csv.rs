//! The CSV reader: encodings, delimiter sniffing, header names, and records whose field
//! count differs from the header's set aside with their line.

use std::collections::BTreeMap;
use std::io::Cursor;
use std::path::Path;

use polars::prelude::*;

use super::map::source_columns;
use super::mapping::{Encoding, Mapping};
use super::records;
use super::{check_text, with_rows, Format, Raw, Reader, Wanted};
use crate::error::{Error, PolarsContext, Result};

/// Reads delimited text.
pub(super) struct CsvReader;

impl Reader for CsvReader {
    fn read(&self, path: &Path, bytes: Vec<u8>, mapping: &Mapping, wanted: &Wanted) -> Result<Raw> {
        let (df, rows, rejected, names) = read_csv(path, bytes, mapping, wanted)?;
        with_rows(path, Format::Csv, df, rows, rejected, names)
    }
}

/// Record numbers kept, and records set aside with their reasons.
type Kept = (Option<Vec<u32>>, Vec<(u32, String)>);
/// The frame read, the records kept and set aside, and the file's column names (the frame
/// holds only those a wanted column reads).
type CsvRead = (DataFrame, Option<Vec<u32>>, Vec<(u32, String)>, Vec<String>);
type Split = (Vec<u8>, Kept);

/// Decodes, sniffs the delimiter, names the columns (a header made up when the file has
/// none; repeated names made unique) and reads every field as text; ragged records are set
/// aside first. Only the columns that wanted canonical columns are read from are kept.
fn read_csv(path: &Path, bytes: Vec<u8>, mapping: &Mapping, wanted: &Wanted) -> Result<CsvRead> {
    check_text(path, &bytes)?;
    let text: Vec<u8> = match mapping.encoding {
        Encoding::Utf8 => {
            let body = bytes.strip_prefix(b"\xEF\xBB\xBF").map(<[u8]>::to_vec).unwrap_or(bytes);
            if let Err(e) = std::str::from_utf8(&body) {
                let at = e.valid_up_to();
                let line = body[..at].iter().filter(|b| **b == b'\n').count() + 1;
                return Err(Error::Input {
                    path: path.to_path_buf(),
                    message: format!(
                        "line {line}: not valid UTF-8 (byte offset {at}); if the file is Windows-1251, say `encoding: windows-1251` in a mapping file"
                    ),
                });
            }
            body
        }
        Encoding::Windows1251 => {
            let (s, _, _) = encoding_rs::WINDOWS_1251.decode(&bytes);
            s.into_owned().into_bytes()
        }
    };
    let sep = match mapping.delimiter.as_deref() {
        None => {
            // Sniff: the most frequent of , ; \t | in the header line.
            let header = text.split(|b| *b == b'\n').next().unwrap_or(&[]);
            [b',', b';', b'\t', b'|']
                .into_iter()
                .max_by_key(|c| (header.iter().filter(|b| *b == c).count(), *c == b','))
                .unwrap_or(b',')
        }
        Some("\\t") | Some("\t") => b'\t',
        Some(s) if s.len() == 1 => s.as_bytes()[0],
        Some(s) => {
            return Err(Error::Input {
                path: path.to_path_buf(),
                message: format!("delimiter `{s}` must be one character"),
            })
        }
    };
    let quote = match mapping.quote.as_deref() {
        None => Some(b'"'),
        Some("") => None,
        Some(s) => Some(s.as_bytes()[0]),
    };
    let text = if mapping.has_header {
        text
    } else {
        let first = text.split(|b| *b == b'\n').next().unwrap_or(&[]);
        let n = split_header(&String::from_utf8_lossy(first), sep as char, quote.map(|q| q as char)).len();
        let mut t: Vec<u8> = (1..=n)
            .map(|i| format!("column_{i}"))
            .collect::<Vec<_>>()
            .join(&(sep as char).to_string())
            .into_bytes();
        t.push(b'\n');
        t.extend_from_slice(&text);
        t
    };
    // Header names, made unique the way pandas does (`Account`, `Account.1`).
    let header_line = text.split(|b| *b == b'\n').next().unwrap_or(&[]);
    let header_str = String::from_utf8_lossy(header_line);
    let raw_names = split_header(header_str.trim_end_matches('\r'), sep as char, quote.map(|q| q as char));
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let names: Vec<String> = raw_names
        .iter()
        .map(|n| {
            let c = seen.entry(n.clone()).or_insert(0);
            let out = if *c == 0 { n.clone() } else { format!("{n}.{c}") };
            *c += 1;
            out
        })
        .collect();
    // Records whose field count differs from the header's are set aside with their line.
    let (text, (rows, rejected)) = split_ragged(text, sep, quote, names.len());
    // The columns kept, by position (names repeated in the header are told apart by it).
    let kept: Vec<usize> = match source_columns(mapping, &names, wanted) {
        Some(cols) => (0..names.len()).filter(|&i| cols.contains(&names[i])).collect(),
        None => (0..names.len()).collect(),
    };
    let df = CsvReadOptions::default()
        .with_has_header(true)
        .with_projection((kept.len() < names.len()).then(|| Arc::new(kept.clone())))
        .with_infer_schema_length(Some(0))
        .with_raise_if_empty(false)
        .map_parse_options(|p| p.with_separator(sep).with_quote_char(quote).with_missing_is_null(true))
        .into_reader_with_file_handle(Cursor::new(text))
        .finish()
        .map_err(|e| Error::Input {
            path: path.to_path_buf(),
            message: format!(
                "cannot read as CSV (delimiter `{}`): {}; check the delimiter and quoting, or describe them in a mapping file",
                sep as char,
                e
            ),
        })?;
    let mut df = df;
    if df.width() == kept.len() {
        df.set_column_names(&kept.iter().map(|&i| names[i].as_str()).collect::<Vec<_>>())
            .ctx(|| format!("{}: naming the columns", path.display()))?;
    }
    Ok((df, rows, rejected, names))
}

/// Sets aside the records whose quoting is broken beyond their own line or whose field
/// count differs from the header's ([`records::sort_records`]). Returns the text to read
/// (unchanged when every record is well formed), the record numbers of the records kept,
/// and those set aside with their reasons.
fn split_ragged(text: Vec<u8>, sep: u8, quote: Option<u8>, n_fields: usize) -> Split {
    match records::sort_records(&text, sep, quote, n_fields) {
        None => (text, (None, Vec::new())),
        Some(s) => (s.text, (Some(s.rows), s.rejected)),
    }
}

/// The fields of a header line, trimmed.
fn split_header(line: &str, sep: char, quote: Option<char>) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_q = false;
    for c in line.chars() {
        if Some(c) == quote {
            in_q = !in_q;
        } else if c == sep && !in_q {
            out.push(cur.trim().to_string());
            cur.clear();
        } else {
            cur.push(c);
        }
    }
    out.push(cur.trim().to_string());
    out
}
