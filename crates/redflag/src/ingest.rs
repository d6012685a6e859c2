//! Ingest: CSV, Parquet and NDJSON files onto the canonical schema, with mapping presets,
//! mapping files, FX conversion, and quarantine of the rows that cannot be screened.
//!
//! Every row read is either screened or quarantined with its reason; the counts are kept
//! per input file ([`InputSummary`]).

use std::collections::BTreeMap;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{suggestion, Error, Location, PolarsContext, Result};
use crate::schema::{self, ColType, CANONICAL, LABEL, REQUIRED};
use crate::util::hash::sha256_hex;

/// A file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Delimited text.
    Csv,
    /// Apache Parquet.
    Parquet,
    /// One JSON object a line.
    Ndjson,
    /// A frame handed to the library.
    Memory,
}

/// A text encoding for CSV input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Encoding {
    /// UTF-8 (a byte-order mark is skipped).
    #[default]
    #[serde(rename = "utf-8", alias = "utf8", alias = "UTF-8")]
    Utf8,
    /// Windows-1251 (Cyrillic).
    #[serde(rename = "windows-1251", alias = "cp1251", alias = "Windows-1251")]
    Windows1251,
}

/// Where a canonical column comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ColumnSource {
    /// A source column by name.
    Name(String),
    /// A source column or a constant, with parsing options.
    Spec(ColumnSpec),
}

/// A source column or a constant, with parsing options.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ColumnSpec {
    /// The source column.
    #[serde(default)]
    pub from: Option<String>,
    /// A constant for every row.
    #[serde(default)]
    pub value: Option<String>,
    /// Date or datetime format (chrono `strftime` syntax), for `ts` and `opened`.
    #[serde(default)]
    pub format: Option<String>,
    /// Value translation: source value → canonical value (e.g. payment formats to channels).
    /// Values not listed are kept as they are, unless `other` is given.
    #[serde(default)]
    pub values: BTreeMap<String, String>,
    /// The value for source values that `values` does not list.
    #[serde(default)]
    pub other: Option<String>,
}

/// How the direction of a statement row is read: rows that mean money came in have their
/// `orig_*` and `bene_*` columns swapped (a statement maps its own account to `orig_account`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Direction {
    /// A source column holding a debit/credit mark.
    #[serde(default)]
    pub column: Option<String>,
    /// The marks that mean a credit (money in).
    #[serde(default)]
    pub credit: Vec<String>,
    /// `true`: a positive amount is a credit and a negative one a debit; amounts become positive.
    #[serde(default)]
    pub signed_amount: bool,
}

/// A mapping from a source layout onto the canonical schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// The mapping's name (a preset name or the file).
    #[serde(default)]
    pub name: String,
    /// CSV field delimiter (default `,`; `\t` for tab).
    #[serde(default)]
    pub delimiter: Option<String>,
    /// The CSV's first line names the columns (default). Without a header, columns are
    /// `column_1`, `column_2`, ... in the mapping.
    #[serde(default = "yes")]
    pub has_header: bool,
    /// CSV quote character (default `"`).
    #[serde(default)]
    pub quote: Option<String>,
    /// CSV text encoding.
    #[serde(default)]
    pub encoding: Encoding,
    /// Numbers are written with a decimal comma (`1234,56`).
    #[serde(default)]
    pub decimal_comma: bool,
    /// A thousands separator to remove from numbers (`" "`, `"."`, `"'"`).
    #[serde(default)]
    pub thousands_separator: Option<String>,
    /// Canonical column → source.
    #[serde(default)]
    pub columns: BTreeMap<String, ColumnSource>,
    /// How to read statement rows' direction.
    #[serde(default)]
    pub direction: Option<Direction>,
    /// A label column to keep (not read by rules).
    #[serde(default)]
    pub label: Option<String>,
    /// Keep canonical columns found under their own names in the file that `columns` does not map.
    #[serde(default = "yes")]
    pub passthrough: bool,
}

fn yes() -> bool {
    true
}

impl Default for Mapping {
    fn default() -> Self {
        Mapping {
            name: String::new(),
            delimiter: None,
            has_header: true,
            quote: None,
            encoding: Encoding::Utf8,
            decimal_comma: false,
            thousands_separator: None,
            columns: BTreeMap::new(),
            direction: None,
            label: None,
            passthrough: true,
        }
    }
}

/// Mapping presets shipped with redflag.
pub const PRESETS: &[&str] = &["canonical", "amlworld"];

impl Mapping {
    /// A preset by name.
    pub fn preset(name: &str) -> Result<Mapping> {
        match name {
            "canonical" => Ok(Mapping {
                name: "canonical".into(),
                passthrough: true,
                ..Default::default()
            }),
            "amlworld" => Ok(amlworld()),
            other => Err(Error::Override {
                what: "--preset",
                value: other.to_string(),
                message: format!(
                    "unknown preset{}; presets: {}; or describe the layout in a mapping file (--mapping FILE)",
                    suggestion(other, PRESETS.iter().copied()),
                    PRESETS.join(", ")
                ),
            }),
        }
    }

    /// Reads a mapping file (YAML).
    pub fn load(path: impl AsRef<Path>) -> Result<Mapping> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            action: "reading the mapping",
            source,
        })?;
        let mut m: Mapping = serde_yaml_ng::from_str(&text).map_err(|e| {
            let (line, column) = e.location().map(|l| (l.line(), l.column())).unwrap_or((0, 0));
            let msg = e.to_string();
            let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
            Error::Mapping {
                location: Location {
                    file: path.to_path_buf(),
                    line,
                    column,
                },
                message: msg,
            }
        })?;
        for k in m.columns.keys() {
            if schema::col_type(k).is_none() {
                let line = text
                    .lines()
                    .position(|l| l.trim_start().starts_with(&format!("{k}:")))
                    .map(|i| i + 1)
                    .unwrap_or(0);
                return Err(Error::Mapping {
                    location: Location {
                        file: path.to_path_buf(),
                        line,
                        column: 0,
                    },
                    message: format!(
                        "`{k}` is not a canonical column{}; canonical columns: {}",
                        suggestion(k, CANONICAL.iter().map(|(n, _)| *n)),
                        CANONICAL.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
                    ),
                });
            }
        }
        if m.name.is_empty() {
            m.name = path.display().to_string();
        }
        Ok(m)
    }
}

fn amlworld() -> Mapping {
    let mut cols = BTreeMap::new();
    let name = |s: &str| ColumnSource::Name(s.to_string());
    cols.insert(
        "ts".into(),
        ColumnSource::Spec(ColumnSpec {
            from: Some("Timestamp".into()),
            format: Some("%Y/%m/%d %H:%M".into()),
            ..Default::default()
        }),
    );
    cols.insert("orig_bank".into(), name("From Bank"));
    cols.insert("orig_account".into(), name("Account"));
    cols.insert("bene_bank".into(), name("To Bank"));
    cols.insert("bene_account".into(), name("Account.1"));
    cols.insert("amount".into(), name("Amount Paid"));
    let currencies: BTreeMap<String, String> = [
        ("US Dollar", "USD"),
        ("Euro", "EUR"),
        ("Yuan", "CNY"),
        ("Bitcoin", "XBT"),
        ("Ruble", "RUB"),
        ("Rupee", "INR"),
        ("Yen", "JPY"),
        ("UK Pound", "GBP"),
        ("Swiss Franc", "CHF"),
        ("Australian Dollar", "AUD"),
        ("Canadian Dollar", "CAD"),
        ("Brazil Real", "BRL"),
        ("Mexican Peso", "MXN"),
        ("Saudi Riyal", "SAR"),
        ("Shekel", "ILS"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    cols.insert(
        "currency".into(),
        ColumnSource::Spec(ColumnSpec {
            from: Some("Payment Currency".into()),
            values: currencies,
            ..Default::default()
        }),
    );
    let channels: BTreeMap<String, String> = [
        ("ACH", "wire"),
        ("Cash", "cash_in"),
        ("Cheque", "cheque"),
        ("Credit Card", "card"),
        ("Reinvestment", "internal"),
        ("Wire", "wire"),
        ("Bitcoin", "crypto"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    cols.insert(
        "channel".into(),
        ColumnSource::Spec(ColumnSpec {
            from: Some("Payment Format".into()),
            values: channels,
            other: Some("other".into()),
            ..Default::default()
        }),
    );
    Mapping {
        name: "amlworld".into(),
        columns: cols,
        label: Some("Is Laundering".into()),
        passthrough: false,
        ..Default::default()
    }
}

/// An FX table: currency → rates by date (`None`: undated).
#[derive(Debug, Clone, Default)]
pub struct FxTable {
    /// Where it came from.
    pub source: String,
    /// sha256 of the file.
    pub sha256: String,
    rates: BTreeMap<String, Vec<(Option<i64>, f64)>>,
}

impl FxTable {
    /// Reads `currency,rate_to_base[,date]` (a header line is required; dates `YYYY-MM-DD`).
    pub fn load(path: impl AsRef<Path>) -> Result<FxTable> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            action: "reading the FX table",
            source,
        })?;
        let text = String::from_utf8_lossy(&bytes);
        let fx_err = |line: usize, message: String| Error::Fx {
            path: path.to_path_buf(),
            line,
            message,
        };
        let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
        let Some((_, header)) = lines.next() else {
            return Err(fx_err(
                1,
                "the file is empty; write a header `currency,rate_to_base[,date]` and one rate a line".into(),
            ));
        };
        let cols: Vec<String> = header.split(',').map(|s| s.trim().to_lowercase()).collect();
        let ci = cols.iter().position(|c| c == "currency");
        let ri = cols.iter().position(|c| c == "rate_to_base");
        let di = cols.iter().position(|c| c == "date");
        let (Some(ci), Some(ri)) = (ci, ri) else {
            return Err(fx_err(
                1,
                format!("the header must name `currency` and `rate_to_base` (and optionally `date`); it has: {header}"),
            ));
        };
        let mut rates: BTreeMap<String, Vec<(Option<i64>, f64)>> = BTreeMap::new();
        for (i, l) in lines {
            let f: Vec<&str> = l.split(',').map(str::trim).collect();
            let cur = f.get(ci).copied().unwrap_or("").to_uppercase();
            if cur.is_empty() {
                return Err(fx_err(i + 1, "the currency is empty".into()));
            }
            let rate_s = f.get(ri).copied().unwrap_or("");
            let rate: f64 = rate_s
                .parse()
                .ok()
                .filter(|r: &f64| r.is_finite() && *r > 0.0)
                .ok_or_else(|| fx_err(i + 1, format!("rate `{rate_s}` is not a positive number")))?;
            let date = match di.and_then(|d| f.get(d)).filter(|s| !s.is_empty()) {
                Some(d) => Some(
                    chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                        .map_err(|_| fx_err(i + 1, format!("date `{d}` is not YYYY-MM-DD")))?
                        .and_hms_opt(0, 0, 0)
                        .map(|t| t.and_utc().timestamp_millis())
                        .unwrap_or(0),
                ),
                None => None,
            };
            rates.entry(cur).or_default().push((date, rate));
        }
        for v in rates.values_mut() {
            v.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
        }
        Ok(FxTable {
            source: path.display().to_string(),
            sha256: sha256_hex(&bytes),
            rates,
        })
    }

    /// The rate for `currency` at `ts` (ms): the latest dated rate on or before it, else an undated one.
    pub fn rate(&self, currency: &str, ts: i64) -> Option<f64> {
        let v = self.rates.get(currency)?;
        let mut undated = None;
        let mut best = None;
        for (d, r) in v {
            match d {
                None => undated = Some(*r),
                Some(d) if *d <= ts => best = Some(*r),
                Some(_) => {}
            }
        }
        best.or(undated)
    }
}

/// What happened to one input file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputSummary {
    /// The path as given.
    pub path: String,
    /// Its format.
    pub format: Format,
    /// sha256 of its bytes.
    pub sha256: String,
    /// Data rows read.
    pub rows_read: u64,
    /// Rows that go to the rules.
    pub rows_screened: u64,
    /// Rows set aside, with their reasons in the quarantine.
    pub rows_quarantined: u64,
}

/// Options for ingest.
#[derive(Debug, Clone, Default)]
pub struct IngestOptions {
    /// The mapping (default: the canonical preset).
    pub mapping: Option<Mapping>,
    /// FX rates.
    pub fx: Option<FxTable>,
    /// The base currency (from the pack).
    pub base_currency: String,
    /// Worker threads (`None`: the machine's cores). The result is the same whatever
    /// the count.
    pub threads: Option<usize>,
}

/// Canonical transactions ready to screen, and the rows that could not be screened.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Canonical columns (all of them, absent ones as nulls), `label` when kept. The text
    /// columns but `txn_id` are dictionary-encoded (polars' categorical type, see
    /// [`schema::is_compact`]); [`schema::as_text`] turns a frame of them back into text.
    pub transactions: DataFrame,
    /// The canonical columns the inputs supplied.
    pub present: Vec<String>,
    /// `file, row, reason` and the raw key fields of each quarantined row.
    pub quarantine: DataFrame,
    /// One summary per input file.
    pub inputs: Vec<InputSummary>,
}

impl Dataset {
    /// Rows screened.
    pub fn rows_screened(&self) -> u64 {
        self.inputs.iter().map(|i| i.rows_screened).sum()
    }
    /// Rows quarantined.
    pub fn rows_quarantined(&self) -> u64 {
        self.inputs.iter().map(|i| i.rows_quarantined).sum()
    }

    /// Wraps a frame that is already canonical (the library path: no files, no quarantine
    /// beyond the checks). Columns the frame lacks are added as nulls; `amount_base`
    /// defaults to `amount`.
    pub fn from_frame(df: DataFrame, name: &str, opts: &IngestOptions) -> Result<Dataset> {
        crate::util::threads::with_threads(opts.threads, || Dataset::from_frame_in(df, name, opts))
    }

    fn from_frame_in(df: DataFrame, name: &str, opts: &IngestOptions) -> Result<Dataset> {
        let lf = df.lazy();
        let mut mapping = opts.mapping.clone().unwrap_or_else(|| Mapping {
            name: "canonical".into(),
            passthrough: true,
            ..Default::default()
        });
        mapping.passthrough = true;
        finish_inputs(
            vec![Raw {
                lf,
                path: name.to_string(),
                format: Format::Memory,
                sha: String::new(),
                rows: None,
                rejected: Vec::new(),
                parquet: None,
            }],
            &mapping,
            opts,
        )
    }
}

/// Reads the input files (paths or glob patterns) onto the canonical schema.
pub fn ingest(inputs: &[PathBuf], opts: &IngestOptions) -> Result<Dataset> {
    crate::util::threads::with_threads(opts.threads, || ingest_files(inputs, opts))
}

fn ingest_files(inputs: &[PathBuf], opts: &IngestOptions) -> Result<Dataset> {
    let mapping = opts.mapping.clone().unwrap_or_else(|| Mapping {
        name: "canonical".into(),
        passthrough: true,
        ..Default::default()
    });
    let mut files = Vec::new();
    for p in inputs {
        let s = p.to_string_lossy();
        if s.contains(['*', '?', '[']) && !p.exists() {
            let mut matched: Vec<PathBuf> = glob::glob(&s)
                .map_err(|e| Error::Input {
                    path: p.clone(),
                    message: format!("bad glob pattern: {e}"),
                })?
                .filter_map(|r| r.ok())
                .filter(|p| p.is_file())
                .collect();
            matched.sort();
            if matched.is_empty() {
                return Err(Error::Input {
                    path: p.clone(),
                    message: "the pattern matches no file".into(),
                });
            }
            files.extend(matched);
        } else {
            files.push(p.clone());
        }
    }
    if files.is_empty() {
        return Err(Error::Input {
            path: PathBuf::from("-"),
            message: "no input file given".into(),
        });
    }
    let mut frames = Vec::new();
    for f in &files {
        frames.push(read_file(f, &mapping)?);
    }
    finish_inputs(frames, &mapping, opts)
}

/// One input file, read but not yet mapped.
struct Raw {
    lf: LazyFrame,
    path: String,
    format: Format,
    sha: String,
    /// Record numbers of the rows read, when records were set aside before parsing.
    rows: Option<Vec<u32>>,
    /// Records that could not be parsed: record number and reason.
    rejected: Vec<(u32, String)>,
    /// A Parquet file and its row count: read a batch of rows at a time.
    parquet: Option<(PathBuf, usize)>,
}

fn detect_format(path: &Path, head: &[u8]) -> Format {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "parquet" | "pq" => Format::Parquet,
        "ndjson" | "jsonl" | "json" => Format::Ndjson,
        "csv" | "tsv" | "txt" => Format::Csv,
        _ if head.starts_with(b"PAR1") => Format::Parquet,
        _ if head.first() == Some(&b'{') => Format::Ndjson,
        _ => Format::Csv,
    }
}

fn read_file(path: &Path, mapping: &Mapping) -> Result<Raw> {
    let meta = std::fs::metadata(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        action: "opening the input",
        source,
    })?;
    if meta.is_dir() {
        return Err(Error::Input {
            path: path.to_path_buf(),
            message: "this is a folder; name the files in it, or a glob such as 'exports/*.csv'".into(),
        });
    }
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        action: "reading the input",
        source,
    })?;
    let sha = sha256_hex(&bytes);
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(Error::Input {
            path: path.to_path_buf(),
            message: "the file is empty; it needs a header line and at least one transaction".into(),
        });
    }
    let format = detect_format(path, &bytes[..bytes.len().min(8)]);
    let input_err = |message: String| Error::Input {
        path: path.to_path_buf(),
        message,
    };
    let mut rows = None;
    let mut rejected = Vec::new();
    let df = match format {
        Format::Parquet => {
            // Read from the file (memory-mapped), not from the bytes already hashed.
            drop(bytes);
            let file = std::fs::File::open(path).map_err(|source| Error::Io {
                path: path.to_path_buf(),
                action: "opening the input",
                source,
            })?;
            // Checked now (a clear error for a file that is not Parquet), read later a
            // batch of rows at a time.
            let rows = ParquetReader::new(file)
                .num_rows()
                .map_err(|e| input_err(format!("cannot read as Parquet: {e}")))?;
            if rows == 0 {
                return Err(input_err("the file has a header but no transactions".into()));
            }
            return Ok(Raw {
                lf: DataFrame::empty().lazy(),
                path: path.display().to_string(),
                format,
                sha,
                rows: None,
                rejected,
                parquet: Some((path.to_path_buf(), rows)),
            });
        }
        Format::Ndjson => {
            check_text(path, &bytes)?;
            JsonReader::new(Cursor::new(bytes))
                .with_json_format(JsonFormat::JsonLines)
                .infer_schema_len(None)
                .finish()
                .map_err(|e| input_err(format!("cannot read as NDJSON (one JSON object a line): {e}")))?
        }
        Format::Csv => {
            let (df, r, rej) = read_csv(path, bytes, mapping)?;
            rows = r;
            rejected = rej;
            df
        }
        Format::Memory => return Err(input_err("not a file format".into())),
    };
    if df.height() == 0 && rejected.is_empty() {
        return Err(input_err("the file has a header but no transactions".into()));
    }
    Ok(Raw {
        lf: df.lazy(),
        path: path.display().to_string(),
        format,
        sha,
        rows,
        rejected,
        parquet: None,
    })
}

fn check_text(path: &Path, bytes: &[u8]) -> Result<()> {
    let head = &bytes[..bytes.len().min(8192)];
    if head.contains(&0) {
        return Err(Error::Input {
            path: path.to_path_buf(),
            message:
                "this is a binary file, not CSV or NDJSON text; give a CSV, Parquet (.parquet) or NDJSON (.ndjson) file"
                    .into(),
        });
    }
    Ok(())
}

/// Record numbers kept, and records set aside with their reasons.
type Kept = (Option<Vec<u32>>, Vec<(u32, String)>);
type CsvRead = (DataFrame, Option<Vec<u32>>, Vec<(u32, String)>);
type Split = (Vec<u8>, Kept);

fn read_csv(path: &Path, bytes: Vec<u8>, mapping: &Mapping) -> Result<CsvRead> {
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
                        "line {line}: not valid UTF-8 (byte offset {at}); if the file is Windows-1251, say `encoding: windows-1251` in a mapping file (--mapping)"
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
    let df = CsvReadOptions::default()
        .with_has_header(true)
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
    if df.width() == names.len() {
        df.set_column_names(&names.iter().map(|s| s.as_str()).collect::<Vec<_>>())
            .ctx(|| format!("{}: naming the columns", path.display()))?;
    }
    Ok((df, rows, rejected))
}

/// Scans CSV records (quotes respected, blank lines skipped). When some record has another
/// field count than the header, returns the text without those records, the record numbers
/// of the rest, and the set-aside records with their reasons.
fn split_ragged(text: Vec<u8>, sep: u8, quote: Option<u8>, n_fields: usize) -> Split {
    // (start, end, first line, fields)
    let mut records: Vec<(usize, usize, usize, usize)> = Vec::new();
    let mut start = 0usize;
    let mut line = 1usize;
    let mut rec_line = 1usize;
    let mut fields = 1usize;
    let mut in_q = false;
    let mut blank = true;
    let mut i = 0usize;
    while i < text.len() {
        let b = text[i];
        if Some(b) == quote {
            in_q = !in_q;
            blank = false;
        } else if b == b'\n' {
            line += 1;
            if !in_q {
                if !blank {
                    records.push((start, i + 1, rec_line, fields));
                }
                start = i + 1;
                rec_line = line;
                fields = 1;
                blank = true;
            }
        } else if b == sep && !in_q {
            fields += 1;
            blank = false;
        } else if b != b'\r' {
            blank = false;
        }
        i += 1;
    }
    if !blank && start < text.len() {
        records.push((start, text.len(), rec_line, fields));
    }
    if records.iter().skip(1).all(|r| r.3 == n_fields) && !in_q {
        return (text, (None, Vec::new()));
    }
    let mut out = Vec::with_capacity(text.len());
    let mut rows = Vec::new();
    let mut rejected = Vec::new();
    let last = records.len().saturating_sub(1);
    for (k, (s, e, l, f)) in records.iter().enumerate() {
        if k == 0 {
            out.extend_from_slice(&text[*s..*e]);
            if !out.ends_with(b"\n") {
                out.push(b'\n');
            }
            continue;
        }
        let rec = k as u32;
        if k == last && in_q {
            rejected.push((rec, format!("line {l}: a quoted field is never closed")));
        } else if *f != n_fields {
            rejected.push((rec, format!("line {l}: {f} fields where the header has {n_fields}")));
        } else {
            out.extend_from_slice(&text[*s..*e]);
            if !out.ends_with(b"\n") {
                out.push(b'\n');
            }
            rows.push(rec);
        }
    }
    (out, (Some(rows), rejected))
}

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

const TS_FORMATS: &[&str] = &[
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
];
const DATE_FORMATS: &[&str] = &["%Y-%m-%d", "%Y/%m/%d", "%d.%m.%Y"];

fn strptime(e: Expr, fmt: &str, date_only: bool) -> Expr {
    let opts = StrptimeOptions {
        format: Some(fmt.into()),
        strict: false,
        exact: true,
        cache: true,
    };
    if date_only {
        e.str()
            .to_date(opts)
            .cast(DataType::Datetime(TimeUnit::Milliseconds, None))
    } else {
        e.str()
            .to_datetime(Some(TimeUnit::Milliseconds), None, opts, lit("raise"))
    }
}

/// Parses a text column to datetime (ms) with the given format or a list of common ones.
fn parse_datetime(e: Expr, format: Option<&str>) -> Expr {
    let e = e.str().strip_suffix(lit("Z"));
    match format {
        Some(f) => {
            let date_only = !f.contains("%H") && !f.contains("%T") && !f.contains("%R");
            strptime(e, f, date_only)
        }
        None => {
            let mut tries: Vec<Expr> = TS_FORMATS.iter().map(|f| strptime(e.clone(), f, false)).collect();
            tries.extend(DATE_FORMATS.iter().map(|f| strptime(e.clone(), f, true)));
            coalesce(&tries)
        }
    }
}

fn parse_number(e: Expr, mapping: &Mapping) -> Expr {
    let mut e = e.str().strip_chars(lit(NULL));
    if let Some(t) = &mapping.thousands_separator {
        e = e.str().replace_all(lit(t.clone()), lit(""), true);
    }
    if mapping.decimal_comma {
        e = e.str().replace_all(lit(","), lit("."), true);
    }
    e.cast(DataType::Float64)
}

/// `source value → canonical value`, others to `default`.
fn translate(text: Expr, values: &BTreeMap<String, String>, default: Expr) -> Expr {
    values.iter().rev().fold(default, |acc, (k, v)| {
        when(text.clone().eq(lit(k.clone())))
            .then(lit(v.clone()))
            .otherwise(acc)
    })
}

struct Mapped {
    lf: LazyFrame,
}

/// Text columns where an empty value means a missing one, whatever the format.
const KEY_TEXT: &[&str] = &[
    "txn_id",
    "orig_account",
    "bene_account",
    "currency",
    "channel",
    "orig_country",
    "bene_country",
    "loc_country",
    "customer_type",
];

/// The source frame being mapped: its path, columns and the mapping read onto it.
struct Source<'a> {
    path: &'a str,
    mapping: &'a Mapping,
    schema: &'a Schema,
    /// The source column names, in file order.
    available: Vec<String>,
}

impl Source<'_> {
    /// The error for a source column the mapping names but the file lacks.
    fn missing_col(&self, canon: &str, src: &str) -> Error {
        Error::MissingColumn {
            path: PathBuf::from(self.path),
            column: canon.to_string(),
            available: self.available.clone(),
            hint: format!(
                " (mapping `{}` reads it from `{src}`{})",
                self.mapping.name,
                suggestion(src, self.available.iter().map(String::as_str))
            ),
        }
    }

    /// Where a canonical column comes from: the mapping's entry, else the column under its
    /// own name when the mapping passes canonical columns through.
    fn spec_of(&self, canon: &str) -> Option<ColumnSpec> {
        match self.mapping.columns.get(canon) {
            Some(ColumnSource::Name(n)) => Some(ColumnSpec {
                from: Some(n.clone()),
                ..Default::default()
            }),
            Some(ColumnSource::Spec(s)) => Some(s.clone()),
            None if self.mapping.passthrough && self.schema.contains(canon) => Some(ColumnSpec {
                from: Some(canon.to_string()),
                ..Default::default()
            }),
            None => None,
        }
    }

    /// A canonical column no source supplies: an error for a required one, nothing for
    /// the generated ones (`txn_id`, `amount_base`), else a null column.
    fn absent(&self, canon: &str, ty: &ColType) -> Result<Option<Expr>> {
        if canon == "txn_id" || canon == "amount_base" {
            return Ok(None); // generated later
        }
        if REQUIRED.contains(&canon) {
            return Err(Error::MissingColumn {
                path: PathBuf::from(self.path),
                column: canon.to_string(),
                available: self.available.clone(),
                hint: if self.mapping.passthrough {
                    format!(
                        "{}; map it with a mapping file (--mapping) or a preset (--preset amlworld)",
                        suggestion(canon, self.available.iter().map(String::as_str))
                    )
                } else {
                    String::new()
                },
            });
        }
        Ok(Some(lit(NULL).cast(ty.dtype()).alias(canon)))
    }

    /// The source expression of a canonical column and the source's type: a source
    /// column or a constant.
    fn base_of(&self, canon: &str, spec: &ColumnSpec) -> Result<(Expr, DataType)> {
        match (&spec.from, &spec.value) {
            (Some(f), _) => {
                let dt = self
                    .schema
                    .get(f.as_str())
                    .cloned()
                    .ok_or_else(|| self.missing_col(canon, f))?;
                Ok((col(f.as_str()), dt))
            }
            (None, Some(v)) => Ok((lit(v.clone()), DataType::String)),
            (None, None) => Err(Error::Mapping {
                location: Location {
                    file: PathBuf::from(&self.mapping.name),
                    ..Default::default()
                },
                message: format!("column `{canon}` needs `from` (a source column) or `value` (a constant)"),
            }),
        }
    }

    /// The direction stage, first part: a `__credit` column from the mapping's
    /// debit/credit mark column, if it has one.
    fn credit_mark(&self, exprs: &mut Vec<Expr>) -> Result<Option<Expr>> {
        let Some(d) = &self.mapping.direction else {
            return Ok(None);
        };
        let Some(c) = &d.column else {
            return Ok(None);
        };
        if !self.schema.contains(c) {
            return Err(self.missing_col("direction", c));
        }
        let text = col(c.as_str()).cast(DataType::String).str().strip_chars(lit(NULL));
        let is_credit = d
            .credit
            .iter()
            .fold(lit(false), |acc, m| acc.or(text.clone().eq(lit(m.clone()))));
        exprs.push(is_credit.fill_null(lit(false)).alias("__credit"));
        Ok(Some(col("__credit")))
    }
}

/// The value translation stage: `values` and `other` of a column spec, when given.
fn translate_values(e: Expr, spec: &ColumnSpec) -> Expr {
    if spec.values.is_empty() && spec.other.is_none() {
        return e;
    }
    let text = e.cast(DataType::String).str().strip_chars(lit(NULL));
    let default = match &spec.other {
        Some(o) => lit(o.clone()),
        None => text.clone(),
    };
    translate(text, &spec.values, default)
}

/// The typing stage: a source expression converted to its canonical column's type
/// (text trimmed, numbers and dates parsed from text, typed sources cast).
fn to_canonical_type(
    e: Expr,
    ty: &ColType,
    src_dtype: &DataType,
    spec: &ColumnSpec,
    mapping: &Mapping,
    trim: bool,
) -> Expr {
    match ty {
        ColType::Text => {
            if trim || *src_dtype != DataType::String {
                let t = e.cast(DataType::String).str().strip_chars(lit(NULL));
                when(t.clone().str().len_bytes().eq(lit(0)))
                    .then(lit(NULL).cast(DataType::String))
                    .otherwise(t)
            } else {
                // Typed text is kept as stored: no copy of a large column.
                e
            }
        }
        ColType::Float => match src_dtype {
            DataType::String => parse_number(e, mapping),
            _ => e.cast(DataType::Float64),
        },
        ColType::Datetime | ColType::Date => {
            let dt = match src_dtype {
                DataType::String => parse_datetime(e.str().strip_chars(lit(NULL)), spec.format.as_deref()),
                DataType::Datetime(_, _) | DataType::Date => e.cast(DataType::Datetime(TimeUnit::Milliseconds, None)),
                // Integers: milliseconds since the epoch.
                _ => e
                    .cast(DataType::Int64)
                    .cast(DataType::Datetime(TimeUnit::Milliseconds, None)),
            };
            if *ty == ColType::Date {
                dt.cast(DataType::Date)
            } else {
                dt
            }
        }
    }
}

/// The direction stage, second part: with `signed_amount`, a positive amount is a credit
/// and amounts become positive; credit rows then have their `orig_*` and `bene_*`
/// account columns swapped.
fn apply_direction(mut lf: LazyFrame, mapping: &Mapping, mut credit: Option<Expr>) -> LazyFrame {
    if let Some(d) = &mapping.direction {
        if d.signed_amount {
            lf = lf.with_column(col("amount").gt(lit(0.0)).fill_null(lit(false)).alias("__credit"));
            lf = lf.with_column(col("amount").abs().alias("amount"));
            credit = Some(col("__credit"));
        }
    }
    if let Some(c) = credit {
        let mut swaps = Vec::new();
        for (_, o, i) in schema::SIDE_COLUMNS.iter().filter(|(n, _, _)| n.starts_with("account")) {
            swaps.push(when(c.clone()).then(col(*i)).otherwise(col(*o)).alias(*o));
            swaps.push(when(c.clone()).then(col(*o)).otherwise(col(*i)).alias(*i));
        }
        lf = lf.with_columns(swaps).drop(by_name(["__credit"], true, false));
    }
    lf
}

/// Maps one source frame onto raw canonical columns plus the `__raw_*` text of the required
/// ones (for quarantine reasons). Stages: each canonical column's source ([`Source::spec_of`],
/// [`Source::base_of`]), its value translation ([`translate_values`]) and type
/// ([`to_canonical_type`]); the label; the direction of statement rows
/// ([`Source::credit_mark`], [`apply_direction`]).
///
/// `trim`: strip spaces around text values (text formats, where padding is common; typed
/// formats keep their values as stored).
fn map_frame(lf: LazyFrame, path: &str, mapping: &Mapping, trim: bool, present: &mut Vec<String>) -> Result<Mapped> {
    let mut lf = lf;
    let src_schema = lf.collect_schema().ctx(|| format!("{path}: reading the columns"))?;
    let src = Source {
        path,
        mapping,
        schema: &src_schema,
        available: src_schema.iter_names().map(|s| s.to_string()).collect(),
    };
    let mut exprs: Vec<Expr> = Vec::new();
    let mut supplied: Vec<String> = Vec::new();
    for (canon, ty) in CANONICAL {
        let Some(spec) = src.spec_of(canon) else {
            exprs.extend(src.absent(canon, ty)?);
            continue;
        };
        let (base, src_dtype) = src.base_of(canon, &spec)?;
        supplied.push(canon.to_string());
        // Raw text of the columns whose parsing can fail (text sources only; a typed
        // source is either a value or null): quarantine reasons quote it.
        if matches!(*canon, "ts" | "amount") && src_dtype == DataType::String {
            exprs.push(base.clone().alias(format!("__raw_{canon}")));
        }
        let e = translate_values(base, &spec);
        exprs.push(to_canonical_type(e, ty, &src_dtype, &spec, mapping, trim).alias(*canon));
    }
    if let Some(l) = &mapping.label {
        if src_schema.contains(l) {
            exprs.push(col(l.as_str()).cast(DataType::String).alias(LABEL));
        }
    }
    let credit = src.credit_mark(&mut exprs)?;
    lf = lf.select(exprs);
    lf = apply_direction(lf, mapping, credit);
    for s in supplied {
        if !present.contains(&s) {
            present.push(s);
        }
    }
    Ok(Mapped { lf })
}

/// Rows read, mapped, checked and dictionary-encoded at a time: only one batch's text is
/// held as polars text at once, so a file of ten million rows never needs the 16 bytes a
/// row and text column that polars' text takes.
pub const BATCH_ROWS: usize = 1 << 19;

fn finish_inputs(frames: Vec<Raw>, mapping: &Mapping, opts: &IngestOptions) -> Result<Dataset> {
    finish_inputs_in(frames, mapping, opts, BATCH_ROWS)
}

/// One input file as read: path, format, sha256 and rows read.
type FileMeta = (String, Format, String, u64);

/// Records that could not be parsed: file index, record number and reason.
type Rejected = Vec<(u32, u32, String)>;

/// The base currency of the run (upper case; `USD` when none is given).
fn base_currency(opts: &IngestOptions) -> String {
    if opts.base_currency.is_empty() {
        "USD".to_string()
    } else {
        opts.base_currency.to_uppercase()
    }
}

/// Rows in an input: the Parquet file's count, else the frame's.
fn frame_height(lf: &LazyFrame, parquet: &Option<(PathBuf, usize)>, path: &str) -> Result<usize> {
    Ok(match parquet {
        Some((_, n)) => *n,
        None => {
            let counted = lf
                .clone()
                .select([len().cast(DataType::UInt64).alias("n")])
                .collect()
                .ctx(|| format!("{path}: reading the rows"))?;
            counted.column("n").ok().and_then(|c| c.u64().ok()?.get(0)).unwrap_or(0) as usize
        }
    })
}

/// One input file, cut into batches: what each batch's stages read.
struct FileBatches<'a> {
    lf: LazyFrame,
    path: &'a str,
    format: Format,
    /// Record numbers of the rows read, when records were set aside before parsing.
    rows: &'a Option<Vec<u32>>,
    parquet: &'a Option<(PathBuf, usize)>,
    height: usize,
    batch_rows: usize,
    /// The file's index among the inputs.
    fi: usize,
    /// The prefix of generated transaction ids (the file's stem, when there are several).
    id_prefix: String,
    mapping: &'a Mapping,
    opts: &'a IngestOptions,
    base: &'a str,
}

impl FileBatches<'_> {
    /// The read stage: the batch's rows as read, from the Parquet file or the frame.
    fn read(&self, off: usize, len: usize) -> Result<LazyFrame> {
        Ok(match self.parquet {
            Some((p, _)) => {
                let file = std::fs::File::open(p).map_err(|source| Error::Io {
                    path: p.clone(),
                    action: "opening the input",
                    source,
                })?;
                ParquetReader::new(file)
                    .with_slice(Some((off, len)))
                    .finish()
                    .map_err(|e| Error::Input {
                        path: p.clone(),
                        message: format!("cannot read as Parquet: {e}"),
                    })?
                    .lazy()
            }
            None => self.lf.clone().slice(off as i64, len as IdxSize),
        })
    }

    /// Whether the mapped batch has a transaction id column (else one is generated).
    fn has_txn_id(&self, m: &Mapped) -> bool {
        self.mapping.columns.contains_key("txn_id")
            || (self.mapping.passthrough
                && m.lf
                    .clone()
                    .collect_schema()
                    .map(|s| s.contains("txn_id"))
                    .unwrap_or(false))
    }

    /// The numbering stage: `__row`, the record number of each row (counted from the
    /// batch's offset, or taken from the records kept when some were set aside).
    fn number(&self, lf: LazyFrame, off: usize) -> Result<DataFrame> {
        let path = self.path;
        let numbered_lf = lf.with_row_index("__row", Some((off + 1) as IdxSize));
        let mut numbered = numbered_lf.collect().ctx(|| format!("{path}: reading the rows"))?;
        if let Some(rows) = self.rows {
            let mine: Vec<u32> = rows.iter().skip(off).take(numbered.height()).copied().collect();
            numbered
                .with_column(Column::new("__row".into(), mine))
                .ctx(|| format!("{path}: numbering the rows"))?;
        }
        Ok(numbered)
    }

    /// The key stage: typed text keeps its values; an empty key is still a missing one
    /// (an empty account is the cash side). Checked first, so that a clean column is not
    /// copied.
    fn blank_keys_to_null(&self, numbered: &mut DataFrame) -> Result<()> {
        let path = self.path;
        for c in KEY_TEXT {
            let fixed = match numbered.column(c).and_then(|col| col.str().cloned()) {
                Ok(ca) if ca.iter().any(|v| v == Some("")) => Some(
                    ca.iter()
                        .map(|v| v.filter(|s| !s.is_empty()))
                        .collect::<StringChunked>()
                        .with_name((*c).into()),
                ),
                _ => None,
            };
            if let Some(f) = fixed {
                numbered
                    .with_column(f.into_column())
                    .ctx(|| format!("{path}: reading column `{c}`"))?;
            }
        }
        Ok(())
    }

    /// One batch through every stage: read, mapped, numbered, keys cleaned, ids
    /// generated, file marked, converted into the base currency, checked (reason codes)
    /// and dictionary-encoded. Returns the frame and the canonical columns supplied.
    fn batch(&self, off: usize) -> Result<(DataFrame, Vec<String>)> {
        let path = self.path;
        let len = self.batch_rows.min(self.height - off);
        let raw_batch = self.read(off, len)?;
        let mut supplied = Vec::new();
        let m = map_frame(raw_batch, path, self.mapping, self.format == Format::Csv, &mut supplied)?;
        let has_currency = supplied.iter().any(|c| c == "currency");
        let has_txn_id = self.has_txn_id(&m);
        let mut numbered = self.number(m.lf, off)?;
        self.blank_keys_to_null(&mut numbered)?;
        let mut lf = numbered.lazy();
        if !has_txn_id {
            // Generated from the row number (and the file, when there are several).
            lf = lf.with_column(
                concat_str(
                    [lit(self.id_prefix.clone()), col("__row").cast(DataType::String)],
                    "",
                    false,
                )
                .alias("txn_id"),
            );
        }
        let mut df = lf.collect().ctx(|| format!("{path}: reading the rows"))?;
        let h = df.height();
        df.with_column(Column::new("__file".into(), vec![self.fi as u32; h]))
            .ctx(|| format!("{path}: numbering the rows"))?;
        // Currency and amount in base currency.
        let mut df = apply_fx(df, self.base, self.opts.fx.as_ref(), has_currency)?;
        df.with_column(row_codes(&df).ctx(|| format!("{path}: checking the rows"))?)
            .ctx(|| format!("{path}: checking the rows"))?;
        schema::compact(&mut df).ctx(|| format!("{path}: encoding the text columns"))?;
        Ok((df, supplied))
    }
}

/// What the files read so far add up to.
struct Gathered {
    /// The canonical columns the inputs supplied, in the order first seen.
    present: Vec<String>,
    /// The batches, in file and row order.
    parts: Vec<DataFrame>,
    meta: Vec<FileMeta>,
    rejected_rows: Rejected,
}

/// The file stage: one input's batches, each read, mapped, checked and encoded on its own
/// on the worker threads, then joined in file order into `out`.
fn read_input(
    fi: usize,
    raw: Raw,
    n_files: usize,
    ctx: (&Mapping, &IngestOptions, &str, usize),
    out: &mut Gathered,
) -> Result<()> {
    let (mapping, opts, base, batch_rows) = ctx;
    let Raw {
        lf,
        path,
        format,
        sha,
        rows,
        rejected,
        parquet,
    } = raw;
    let stem = Path::new(&path)
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_else(|| "input".into());
    let height = frame_height(&lf, &parquet, &path)?;
    let batch_rows = batch_rows.max(1);
    let starts: Vec<usize> = if height == 0 {
        vec![0]
    } else {
        (0..height).step_by(batch_rows).collect()
    };
    let file = FileBatches {
        lf,
        path: &path,
        format,
        rows: &rows,
        parquet: &parquet,
        height,
        batch_rows,
        fi,
        id_prefix: if n_files > 1 { format!("{stem}:") } else { String::new() },
        mapping,
        opts,
        base,
    };
    let idx: Vec<usize> = (0..starts.len()).collect();
    let mut done = crate::util::threads::run_parallel(&idx, |k| file.batch(starts[k]));
    done.sort_by_key(|(k, _)| *k);
    let mut read = 0u64;
    for (_, res) in done {
        let (df, supplied) = res?;
        for c in supplied {
            if !out.present.contains(&c) {
                out.present.push(c);
            }
        }
        read += df.height() as u64;
        out.parts.push(df);
    }
    drop(file);
    let n_rejected = rejected.len() as u64;
    out.rejected_rows
        .extend(rejected.into_iter().map(|(r, why)| (fi as u32, r, why)));
    out.meta.push((path, format, sha, read + n_rejected));
    Ok(())
}

/// The join stage: every batch with the same columns in the same order (missing ones as
/// nulls, a missing `__raw_*` as its column's text), concatenated.
fn join_parts(parts: Vec<DataFrame>) -> Result<DataFrame> {
    let mut cols: Vec<String> = parts[0].get_column_names().iter().map(|s| s.to_string()).collect();
    for p in &parts[1..] {
        for c in p.get_column_names() {
            if !cols.iter().any(|x| x == c.as_str()) {
                cols.push(c.to_string());
            }
        }
    }
    let mut aligned = Vec::new();
    for p in parts {
        let schema = p.schema().clone();
        let exprs: Vec<Expr> = cols
            .iter()
            .map(|c| {
                if schema.contains(c) {
                    col(c.as_str())
                } else if let Some(canon) = c.strip_prefix("__raw_") {
                    col(canon).cast(DataType::String).alias(c.as_str())
                } else {
                    let ty = if schema::is_compact(c) && !schema::is_account(c) {
                        schema::compact_dtype()
                    } else {
                        schema::col_type(c).map(|t| t.dtype()).unwrap_or(DataType::String)
                    };
                    lit(NULL).cast(ty).alias(c.as_str())
                }
            })
            .collect();
        aligned.push(p.lazy().select(exprs));
    }
    concat(aligned, UnionArgs::default())
        .ctx(|| "joining the input files".into())?
        .collect()
        .ctx(|| "joining the input files".into())
}

/// The duplicate stage: a transaction id seen on an earlier row, of any file, is a
/// duplicate (code 9) when the row has no other reason.
fn mark_repeated_ids(all: DataFrame) -> Result<DataFrame> {
    let repeated = all
        .column("txn_id")
        .and_then(|c| c.str().map(repeated_ids))
        .ctx(|| "checking the transaction ids".into())?;
    if repeated.is_empty() {
        return Ok(all);
    }
    let mut mask = vec![false; all.height()];
    for r in repeated {
        mask[r as usize] = true;
    }
    all.lazy()
        .with_column(
            when(col("__code").eq(lit(0u32)).and(lit(Series::new("__rep".into(), mask))))
                .then(lit(9u32))
                .otherwise(col("__code"))
                .alias("__code"),
        )
        .collect()
        .ctx(|| "checking the rows".into())
}

/// A column's text as read: its `__raw_*` copy when the frame has one.
fn raw_text(schema: &Schema, c: &str) -> Expr {
    if schema.contains(&format!("__raw_{c}")) {
        col(format!("__raw_{c}"))
    } else {
        col(c).cast(DataType::String)
    }
}

/// The words of each reason code.
fn reason_expr(schema: &Schema) -> Expr {
    let quote = |e: Expr| concat_str([lit("`"), e.fill_null(lit("")), lit("`")], "", false);
    let is = |n: u32| col("__code").eq(lit(n));
    when(is(1))
        .then(lit("missing date (ts)"))
        .when(is(2))
        .then(concat_str(
            [lit("unparsable date (ts) "), quote(raw_text(schema, "ts"))],
            "",
            false,
        ))
        .when(is(3))
        .then(lit("missing amount"))
        .when(is(4))
        .then(concat_str(
            [lit("unparsable amount "), quote(raw_text(schema, "amount"))],
            "",
            false,
        ))
        .when(is(5))
        .then(concat_str(
            [lit("non-positive amount "), quote(raw_text(schema, "amount"))],
            "",
            false,
        ))
        .when(is(6))
        .then(lit("missing account: both orig_account and bene_account are empty"))
        .when(is(7))
        .then(lit("missing txn_id"))
        .when(is(8))
        .then(concat_str(
            [
                lit("no FX rate for currency "),
                quote(col("currency").cast(DataType::String)),
                lit(" into the base currency; give one with --fx"),
            ],
            "",
            false,
        ))
        .otherwise(concat_str([lit("duplicate txn_id "), quote(col("txn_id"))], "", false))
        .alias("__reason")
}

/// The quarantine stage: a reason code for every row (cheap), the words only for the rows
/// set aside. Returns the rows to screen and the rows set aside.
fn split_quarantine(all: DataFrame) -> Result<(DataFrame, DataFrame)> {
    let schema_all = all.schema().clone();
    let bad_mask = all
        .column("__code")
        .and_then(|c| c.as_materialized_series().not_equal(0u32))
        .ctx(|| "checking the rows".into())?;
    let bad = all
        .filter(&bad_mask)
        .ctx(|| "checking the rows".into())?
        .lazy()
        .with_columns([
            reason_expr(&schema_all),
            raw_text(&schema_all, "ts").alias("__raw_ts"),
            raw_text(&schema_all, "amount").alias("__raw_amount"),
        ])
        .collect()
        .ctx(|| "checking the rows".into())?;
    let good = if bad.height() == 0 {
        all
    } else {
        let good = all.filter(&!&bad_mask).ctx(|| "checking the rows".into())?;
        drop(all);
        good
    };
    Ok((good, bad))
}

/// The count stage: each file's rows read, screened and quarantined.
fn input_summaries(
    meta: &[FileMeta],
    good: &DataFrame,
    bad: &DataFrame,
    rejected_rows: &Rejected,
) -> Vec<InputSummary> {
    let file_col = |df: &DataFrame| -> Vec<u64> {
        let mut v = vec![0u64; meta.len()];
        if let Ok(c) = df.column("__file").and_then(|c| c.u32().cloned()) {
            for f in c.into_no_null_iter() {
                v[f as usize] += 1;
            }
        }
        v
    };
    let good_n = file_col(good);
    let bad_n = file_col(bad);
    meta.iter()
        .enumerate()
        .map(|(i, (path, format, sha, n))| InputSummary {
            path: path.clone(),
            format: *format,
            sha256: sha.clone(),
            rows_read: *n,
            rows_screened: good_n[i],
            rows_quarantined: bad_n[i] + rejected_rows.iter().filter(|r| r.0 as usize == i).count() as u64,
        })
        .collect()
}

/// The quarantine listing: records that could not be parsed, then rows with a bad value,
/// in file and row order, with the raw key fields.
fn quarantine_frame(bad: DataFrame, rejected_rows: &Rejected, meta: &[FileMeta]) -> Result<DataFrame> {
    let file_names: Vec<String> = meta.iter().map(|m| m.0.clone()).collect();
    let unparsed = DataFrame::new_infer_height(vec![
        Column::new("__file".into(), rejected_rows.iter().map(|r| r.0).collect::<Vec<u32>>()),
        Column::new("__row".into(), rejected_rows.iter().map(|r| r.1).collect::<Vec<u32>>()),
        Column::new(
            "__reason".into(),
            rejected_rows.iter().map(|r| r.2.clone()).collect::<Vec<String>>(),
        ),
    ])
    .ctx(|| "listing the unparsed records".into())?;
    let bad = concat(
        [bad.lazy().select([col("*")]), unparsed.lazy()],
        UnionArgs {
            diagonal: true,
            ..Default::default()
        },
    )
    .ctx(|| "listing the quarantined rows".into())?
    .sort(["__file", "__row"], SortMultipleOptions::default())
    .collect()
    .ctx(|| "listing the quarantined rows".into())?;
    bad.lazy()
        .select([
            translate(
                col("__file").cast(DataType::String),
                &file_names
                    .iter()
                    .enumerate()
                    .map(|(i, n)| (i.to_string(), n.clone()))
                    .collect(),
                lit(NULL).cast(DataType::String),
            )
            .alias("file"),
            col("__row").alias("row"),
            col("__reason").alias("reason"),
            col("txn_id"),
            col("__raw_ts").alias("ts"),
            col("__raw_amount").alias("amount"),
            col("currency").cast(DataType::String),
            col("orig_account").cast(DataType::String),
            col("bene_account").cast(DataType::String),
        ])
        .collect()
        .ctx(|| "listing the quarantined rows".into())
}

/// The screened transactions: canonical columns, then the label; accounts encoded, one
/// chunk per column.
fn canonical_frame(good: DataFrame) -> Result<DataFrame> {
    let mut keep: Vec<Expr> = CANONICAL.iter().map(|(n, _)| col(*n)).collect();
    if good.schema().contains(LABEL) {
        keep.push(col(LABEL));
    }
    let mut transactions = good
        .lazy()
        .select(keep)
        .collect()
        .ctx(|| "building the canonical frame".into())?;
    schema::encode_accounts(&mut transactions).ctx(|| "encoding the account columns".into())?;
    // One chunk per column: the rules read rows in account order, scattered over the
    // file, and a row of a single chunk is found without a search through the batches.
    transactions.rechunk_mut_par();
    Ok(transactions)
}

/// Every input through the stages: each file's batches ([`read_input`]), the generated
/// columns counted as present, the batches joined ([`join_parts`]), duplicate ids marked
/// ([`mark_repeated_ids`]), rows set aside ([`split_quarantine`]), the counts
/// ([`input_summaries`]), the quarantine listing ([`quarantine_frame`]) and the screened
/// frame ([`canonical_frame`]).
fn finish_inputs_in(frames: Vec<Raw>, mapping: &Mapping, opts: &IngestOptions, batch_rows: usize) -> Result<Dataset> {
    let base = base_currency(opts);
    let n_files = frames.len();
    let mut got = Gathered {
        present: Vec::new(),
        parts: Vec::new(),
        meta: Vec::new(),
        rejected_rows: Vec::new(),
    };
    for (fi, raw) in frames.into_iter().enumerate() {
        read_input(fi, raw, n_files, (mapping, opts, &base, batch_rows), &mut got)?;
    }
    let Gathered {
        mut present,
        parts,
        meta,
        rejected_rows,
    } = got;
    for generated in ["txn_id", "amount_base", "currency"] {
        if !present.iter().any(|p| p == generated) {
            present.push(generated.into());
        }
    }
    let all = join_parts(parts)?;
    let all = mark_repeated_ids(all)?;
    let (good, bad) = split_quarantine(all)?;
    let inputs = input_summaries(&meta, &good, &bad, &rejected_rows);
    let quarantine = quarantine_frame(bad, &rejected_rows, &meta)?;
    let transactions = canonical_frame(good)?;
    Ok(Dataset {
        transactions,
        present,
        quarantine,
        inputs,
    })
}

/// The rows whose transaction id an earlier row holds, in row order (a null id is never
/// repeated). The ids are split by hash into parts, in row order within each, and each
/// part is searched for repeats on its own, with a table small enough for the processor's
/// cache; the answer does not depend on the thread count.
fn repeated_ids(ids: &StringChunked) -> Vec<u32> {
    use std::hash::BuildHasher;
    /// Parts the ids are split into: a power of two.
    const PARTS: usize = 256;
    let ids = ids.rechunk();
    let arr = ids.downcast_as_array();
    let n = ids.len();
    let state = PlFixedStateQuality::default();
    let workers = crate::util::threads::worker_threads().max(1);
    // Hashes and rows, by part, a block of rows per thread.
    let block = n.div_ceil(workers).max(1);
    let blocks: Vec<usize> = (0..n.div_ceil(block)).collect();
    let mut split = crate::util::threads::run_parallel(&blocks, |b| {
        let mut parts: Vec<Vec<(u64, u32)>> = vec![Vec::new(); PARTS];
        let from = b * block;
        for (r, v) in ids.slice(from as i64, block).iter().enumerate() {
            if let Some(s) = v {
                let h = state.hash_one(s);
                // The part: middle bits of the hash, which the table uses neither for its
                // slots (low bits) nor for its tags (high bits).
                parts[(h >> 32) as usize % PARTS].push((h, (from + r) as u32));
            }
        }
        parts
    });
    split.sort_by_key(|(b, _)| *b);
    let split: Vec<Vec<Vec<(u64, u32)>>> = split.into_iter().map(|(_, p)| p).collect();
    let parts: Vec<usize> = (0..PARTS).collect();
    let found = crate::util::threads::run_parallel(&parts, |p| {
        let mut seen: hashbrown::HashTable<(u64, u32)> = hashbrown::HashTable::new();
        let mut repeats = Vec::new();
        for blk in &split {
            for &(h, r) in &blk[p] {
                // The text is compared only when the whole hash is equal.
                let same = |&(hh, rr): &(u64, u32)| hh == h && arr.value(rr as usize) == arr.value(r as usize);
                if seen.find(h, same).is_some() {
                    repeats.push(r);
                } else {
                    seen.insert_unique(h, (h, r), |e| e.0);
                }
            }
        }
        repeats
    });
    let mut all: Vec<u32> = found.into_iter().flat_map(|(_, r)| r).collect();
    all.sort_unstable();
    all
}

/// Each row's quarantine reason code, 0 for a row that can be screened (a duplicate
/// transaction id, code 9, is found once all rows are read).
fn row_codes(df: &DataFrame) -> PolarsResult<Column> {
    let schema = df.schema().clone();
    let has_raw = |c: &str| schema.contains(&format!("__raw_{c}"));
    let blank = |e: Expr| {
        e.clone()
            .is_null()
            .or(e.str().strip_chars(lit(NULL)).str().len_bytes().eq(lit(0)))
    };
    let missing = |c: &str| {
        if has_raw(c) {
            blank(col(format!("__raw_{c}")))
        } else {
            col(c).is_null()
        }
    };
    let code = when(missing("ts"))
        .then(lit(1u32))
        .when(col("ts").is_null())
        .then(lit(2u32))
        .when(missing("amount"))
        .then(lit(3u32))
        .when(col("amount").is_null())
        .then(lit(4u32))
        .when(col("amount").lt_eq(lit(0.0)))
        .then(lit(5u32))
        .when(col("orig_account").is_null().and(col("bene_account").is_null()))
        .then(lit(6u32))
        .when(col("txn_id").is_null())
        .then(lit(7u32))
        .when(col("amount_base").is_null())
        .then(lit(8u32))
        .otherwise(lit(0u32))
        .alias("__code");
    let out = df.clone().lazy().select([code]).collect()?;
    Ok(out.column("__code")?.clone())
}

fn apply_fx(df: DataFrame, base: &str, fx: Option<&FxTable>, has_currency: bool) -> Result<DataFrame> {
    let n = df.height();
    let mut df = df;
    if !has_currency {
        df.with_column(Column::new_scalar(
            "currency".into(),
            Scalar::from(PlSmallStr::from(base)),
            n,
        ))
        .ctx(|| "setting the currency".into())?;
    }
    // Upper-case currency codes; empty means base. Done on the distinct values, which are few.
    let distinct: Vec<Option<String>> = df
        .column("currency")
        .and_then(|c| c.unique())
        .and_then(|c| c.str().map(|s| s.iter().map(|v| v.map(str::to_string)).collect()))
        .ctx(|| "reading the currencies".into())?;
    let norm = |v: &Option<String>| -> String {
        v.as_deref()
            .map(|s| s.trim().to_uppercase())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| base.to_string())
    };
    let clean = distinct.iter().all(|v| v.as_deref() == Some(norm(v).as_str()));
    if !clean {
        let map: BTreeMap<String, String> = distinct
            .iter()
            .filter_map(|v| v.as_ref().map(|s| (s.clone(), norm(v))))
            .collect();
        df = df
            .lazy()
            .with_column(
                translate(col("currency"), &map, lit(base.to_string()))
                    .fill_null(lit(base.to_string()))
                    .alias("currency"),
            )
            .collect()
            .ctx(|| "reading the currencies".into())?;
    }
    let codes: std::collections::BTreeSet<String> = distinct.iter().map(norm).collect();
    let given = df.schema().get("amount_base").is_some_and(|d| d.is_float());
    let dated = fx.is_some_and(|f| f.rates.values().flatten().any(|(d, _)| d.is_some()));
    if !dated {
        // One rate a currency: a lookup expression.
        let mut rates: BTreeMap<String, String> = BTreeMap::new();
        if let Some(f) = fx {
            for (c, v) in &f.rates {
                if let Some((_, r)) = v.last() {
                    rates.insert(c.clone(), format!("{r}"));
                }
            }
        }
        rates.insert(base.to_string(), "1".into());
        rates.retain(|c, _| codes.contains(c));
        let computed = if codes.len() == 1 && codes.contains(base) {
            col("amount")
        } else {
            col("amount") * translate(col("currency"), &rates, lit(NULL).cast(DataType::String)).cast(DataType::Float64)
        };
        let e = if given {
            col("amount_base").fill_null(computed)
        } else {
            computed
        };
        return df
            .lazy()
            .with_column(e.alias("amount_base"))
            .collect()
            .ctx(|| "converting into the base currency".into());
    }
    // Dated rates: row by row.
    let cur = df
        .column("currency")
        .and_then(|c| c.str().cloned())
        .ctx(|| "currency".into())?;
    let amount = df
        .column("amount")
        .and_then(|c| c.f64().cloned())
        .ctx(|| "amount".into())?;
    let ts = df
        .column("ts")
        .and_then(|c| c.cast(&DataType::Int64))
        .and_then(|c| c.i64().cloned())
        .ctx(|| "ts".into())?;
    let existing = if given {
        df.column("amount_base").and_then(|c| c.f64().cloned()).ok()
    } else {
        None
    };
    let mut out: Vec<Option<f64>> = Vec::with_capacity(n);
    for i in 0..n {
        let given = existing.as_ref().and_then(|e| e.get(i));
        let v = match (amount.get(i), cur.get(i)) {
            _ if given.is_some() => given,
            (Some(a), Some(c)) if c == base => Some(a),
            (Some(a), Some(c)) => fx.and_then(|f| f.rate(c, ts.get(i).unwrap_or(0))).map(|r| a * r),
            _ => None,
        };
        out.push(v);
    }
    df.with_column(Column::new("amount_base".into(), out))
        .ctx(|| "amount_base".into())?;
    Ok(df)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The repeated ids are the rows whose id an earlier row holds, as a row-by-row
    /// search finds them.
    #[test]
    fn repeated_ids_are_the_later_uses() {
        let ids: StringChunked = (0..5_000u32)
            .map(|i| match i % 11 {
                0 => None,
                3 => Some(format!("T{}", i % 97)),
                _ => Some(format!("T{i}")),
            })
            .collect();
        let mut seen = std::collections::HashSet::new();
        let expected: Vec<u32> = ids
            .iter()
            .enumerate()
            .filter(|(_, v)| v.is_some_and(|v| !seen.insert(v.to_string())))
            .map(|(r, _)| r as u32)
            .collect();
        assert!(expected.len() > 100);
        assert_eq!(repeated_ids(&ids), expected);
    }

    /// Reading a batch of rows at a time gives the same rows, row numbers, quarantine and
    /// counts as reading everything at once, for text and Parquet inputs, with a
    /// duplicate transaction id whose first use is in an earlier batch and file.
    #[test]
    fn batches_of_any_size_give_the_same_dataset() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("a.csv");
        std::fs::write(
            &csv,
            "txn_id,ts,amount,currency,orig_account,bene_account,channel\n\
             t1,2026-01-01 10:00:00,100,usd,A,B,wire\n\
             t2,not a date,100,USD,A,B,wire\n\
             t3,2026-01-01 11:00:00,-5,USD,A,B,cash_in\n\
             t4,2026-01-02 10:00:00,50,EUR,,C,cash_in\n\
             t5,2026-01-02 11:00:00,70,,C,,cash_out\n\
             t1,2026-01-03 10:00:00,100,USD,A,B,wire\n\
             t7,2026-01-03 12:00:00,20,USD,,,wire\n",
        )
        .unwrap();
        let pq = dir.path().join("b.parquet");
        let mut df = df!(
            "txn_id" => ["p1", "p2", "t4", "p4", "p5"],
            "ts" => ["2026-02-01 10:00:00", "2026-02-01 11:00:00", "2026-02-02 10:00:00", "2026-02-03 10:00:00", "2026-02-04 10:00:00"],
            "amount" => [10.0, 20.0, 30.0, 40.0, 50.0],
            "orig_account" => [Some("A"), Some(""), Some("B"), None, Some("D")],
            "bene_account" => [Some("B"), Some("C"), Some("A"), Some("E"), None],
            "narrative" => [Some("rent"), None, Some("x"), Some("rent"), Some("y")],
        )
        .unwrap();
        ParquetWriter::new(std::fs::File::create(&pq).unwrap())
            .finish(&mut df)
            .unwrap();
        let mapping = Mapping {
            name: "canonical".into(),
            passthrough: true,
            ..Default::default()
        };
        let fx = dir.path().join("fx.csv");
        std::fs::write(&fx, "currency,rate_to_base\nEUR,1.1\n").unwrap();
        let opts = IngestOptions {
            mapping: Some(mapping.clone()),
            fx: Some(FxTable::load(&fx).unwrap()),
            base_currency: "USD".into(),
            threads: None,
        };
        let read = |batch: usize| {
            let frames = vec![read_file(&csv, &mapping).unwrap(), read_file(&pq, &mapping).unwrap()];
            finish_inputs_in(frames, &mapping, &opts, batch).unwrap()
        };
        let whole = read(BATCH_ROWS);
        assert_eq!(whole.rows_screened(), 7, "{:?}", whole.quarantine);
        for batch in [1, 2, 3] {
            let part = read(batch);
            let text = |d: &Dataset| schema::as_text(d.transactions.clone()).unwrap();
            assert!(text(&part).equals_missing(&text(&whole)), "batch {batch}");
            assert!(part.quarantine.equals_missing(&whole.quarantine), "batch {batch}");
            assert_eq!(part.inputs, whole.inputs);
        }
        let reasons: Vec<String> = whole
            .quarantine
            .column("reason")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .flatten()
            .map(String::from)
            .collect();
        assert!(
            reasons.iter().filter(|r| r.starts_with("duplicate txn_id")).count() == 2,
            "{reasons:?}"
        );
    }
}
