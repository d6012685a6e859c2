//! Ingest: CSV, Parquet and NDJSON files onto the canonical schema, with mapping presets,
//! mapping files, FX conversion, and quarantine of the rows that cannot be screened.
//!
//! Every row read is either screened or quarantined with its reason; the counts are kept
//! per input file ([`InputSummary`]).
//!
//! The stages, and where they are:
//!
//! 1. **Read** (`detect`, `csv`, `records`, `parquet`, `ndjson`): each file's format is
//!    detected and its reader (`trait Reader`) reads it as it is written, text formats as
//!    text; CSV records as a CSV reader counts them, those with another field count than
//!    the header or a quote that breaks them set aside (a broken quote costs its own line
//!    only); NDJSON nested too deep refused before parsing.
//! 2. **Map** (`map`, `parse`, `mapping`): each batch of rows is mapped onto the canonical
//!    columns by a preset or a mapping file: sources, value translations, dates and
//!    numbers parsed, direction of statement rows.
//! 3. **Finish** (`finish`, `fx`): batches numbered, converted into the base currency,
//!    checked and encoded on the worker threads; joined; duplicate ids marked; rows that
//!    cannot be screened set aside with their reasons; counts per file.

use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::util::hash::sha256_hex;

mod csv;
mod detect;
mod finish;
mod fx;
mod map;
mod mapping;
mod ndjson;
mod parquet;
mod parse;
mod records;

pub use fx::FxTable;
pub use mapping::{ColumnSource, ColumnSpec, Direction, Encoding, EpochUnit, Mapping, PRESETS};

use finish::finish_inputs;
use map::Wanted;

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
    /// Read only these canonical columns, with those every screening reads
    /// ([`crate::schema::ALWAYS_READ`]); `None`: all of them. A run sets it to what its pack
    /// reads ([`crate::columns_read`]), so that a run of a few rules does not decode
    /// columns no rule reads. The columns left unread are still checked against the
    /// mapping and counted as present ([`Dataset::present`]), but held as nulls
    /// ([`Dataset::columns_read`]).
    pub columns: Option<Vec<String>>,
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
    /// The canonical columns read with their values, when ingest read only some
    /// ([`IngestOptions::columns`]); the others are nulls. `None`: all of them. Screening
    /// with a rule that reads a column left unread is an error.
    pub columns_read: Option<Vec<String>>,
    /// When this dataset is a part of the screened data (a shard's), what it needs of
    /// the whole to be screened as a run over the whole screens it; `None`: it is the
    /// whole.
    pub whole: Option<crate::model::Whole>,
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

    /// With `strict`, fails when a row was quarantined ([`Error::Strict`], naming the
    /// first one by file, row and reason).
    pub fn check_strict(&self, strict: bool) -> Result<()> {
        if !strict || self.rows_quarantined() == 0 {
            return Ok(());
        }
        let q = &self.quarantine;
        let get = |c: &str| {
            q.column(c)
                .ok()
                .and_then(|s| s.get(0).ok())
                .map(|v| v.to_string().trim_matches('"').to_string())
                .unwrap_or_default()
        };
        Err(Error::Strict {
            count: self.rows_quarantined(),
            first: format!("{} row {}: {}", get("file"), get("row"), get("reason")),
        })
    }

    /// Wraps a frame that is already canonical (the library path: no files, no quarantine
    /// beyond the checks). Columns the frame lacks are added as nulls; `amount_base`
    /// defaults to `amount`.
    pub fn from_frame(df: DataFrame, name: &str, opts: &IngestOptions) -> Result<Dataset> {
        crate::util::threads::with_threads(opts.threads, || Dataset::from_frame_in(df, name, opts))
    }

    /// As [`Dataset::from_frame`], for a frame that is a part of a larger input: its rows
    /// are the input's records `records` (counted from 1), as quarantine rows and
    /// generated transaction ids name them.
    pub fn from_frame_records(df: DataFrame, name: &str, opts: &IngestOptions, records: Vec<u32>) -> Result<Dataset> {
        if records.len() != df.height() {
            return Err(Error::Input {
                path: name.into(),
                message: format!("{} record numbers for {} rows", records.len(), df.height()),
            });
        }
        crate::util::threads::with_threads(opts.threads, || {
            Dataset::from_frame_numbered(df, name, opts, Some(records))
        })
    }

    /// As [`Dataset::from_frame`], for the `n` frames `frame(i)` one after the other,
    /// each made when the one before it is done: only one is held whole at a time.
    pub fn from_frames(
        n: usize,
        frame: &mut dyn FnMut(usize) -> Result<DataFrame>,
        name: &str,
        opts: &IngestOptions,
    ) -> Result<Dataset> {
        crate::util::threads::with_threads(opts.threads, || {
            let mapping = frame_mapping(opts);
            let mut read = |i: usize| Ok(memory_raw(frame(i)?, name, None));
            finish::finish_inputs_each(n, &mut read, &mapping, opts)
        })
    }

    fn from_frame_in(df: DataFrame, name: &str, opts: &IngestOptions) -> Result<Dataset> {
        Dataset::from_frame_numbered(df, name, opts, None)
    }

    fn from_frame_numbered(df: DataFrame, name: &str, opts: &IngestOptions, rows: Option<Vec<u32>>) -> Result<Dataset> {
        finish_inputs(vec![memory_raw(df, name, rows)], &frame_mapping(opts), opts)
    }
}

/// The mapping of a frame handed to the library: the options', passing through the
/// canonical columns it already has.
fn frame_mapping(opts: &IngestOptions) -> Mapping {
    let mut mapping = input_mapping(opts);
    mapping.passthrough = true;
    mapping
}

/// A frame handed to the library as an input, its rows the records `rows` (else counted
/// from 1).
fn memory_raw(df: DataFrame, name: &str, rows: Option<Vec<u32>>) -> Raw {
    Raw {
        lf: df.lazy(),
        path: name.to_string(),
        format: Format::Memory,
        sha: String::new(),
        rows,
        rejected: Vec::new(),
        names: Vec::new(),
        parquet: None,
    }
}

/// Reads the input files (paths or glob patterns) onto the canonical schema.
pub fn ingest(inputs: &[PathBuf], opts: &IngestOptions) -> Result<Dataset> {
    crate::util::threads::with_threads(opts.threads, || ingest_files(inputs, opts))
}

/// As [`ingest`], but the screened transactions are never held at once: they are handed
/// to `sink` a group of at least `group_rows` rows at a time (in input order; encoded as
/// [`Dataset::transactions`]; a group may have none), each input file read only when the
/// one before it is done. Quarantine and counts are those [`ingest`] gives, and so are
/// the transactions, group after group, but for the duplicate-id check across groups,
/// which compares 128-bit fingerprints of the ids rather than their text (see
/// `docs/sharding.md`). The dataset returned holds no transactions (its columns only).
/// Parquet inputs are read a slice of rows at a time; a CSV or NDJSON file is parsed whole
/// before its groups are.
pub fn ingest_streamed(
    inputs: &[PathBuf],
    opts: &IngestOptions,
    group_rows: usize,
    sink: &mut dyn FnMut(DataFrame) -> Result<()>,
) -> Result<Dataset> {
    crate::util::threads::with_threads(opts.threads, || {
        let mapping = input_mapping(opts);
        let files = input_files(inputs)?;
        let wanted = Wanted::new(&opts.columns);
        let mut read = |i: usize| read_file(&files[i], &mapping, &wanted);
        finish::finish_inputs_streamed(files.len(), &mut read, &mapping, opts, group_rows, sink)
    })
}

/// The mapping inputs are read with: the options', else the canonical layout.
fn input_mapping(opts: &IngestOptions) -> Mapping {
    opts.mapping.clone().unwrap_or_else(|| Mapping {
        name: "canonical".into(),
        passthrough: true,
        ..Default::default()
    })
}

fn ingest_files(inputs: &[PathBuf], opts: &IngestOptions) -> Result<Dataset> {
    let mapping = input_mapping(opts);
    let files = input_files(inputs)?;
    let wanted = Wanted::new(&opts.columns);
    let mut frames = Vec::new();
    for f in &files {
        frames.push(read_file(f, &mapping, &wanted)?);
    }
    finish_inputs(frames, &mapping, opts)
}

/// The input files: the paths given, glob patterns expanded (in name order).
fn input_files(inputs: &[PathBuf]) -> Result<Vec<PathBuf>> {
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
    Ok(files)
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
    /// The source's columns, in file order, when the frame holds only some of them (see
    /// [`map::source_columns`]); empty: the frame's own.
    names: Vec<String>,
    /// A Parquet file, read a batch of rows at a time.
    parquet: Option<ParquetSource>,
}

/// A Parquet input: its path, metadata and row count, the columns to read, in file order,
/// and those of them read as codes.
struct ParquetSource {
    path: PathBuf,
    meta: polars::io::parquet::metadata::FileMetadataRef,
    rows: usize,
    columns: Vec<String>,
    coded: Vec<map::CodedColumn>,
}

/// A reader of one file format: the file's bytes into its rows as read (all text for the
/// text formats), not yet mapped. Formats are chosen by [`detect::detect_format`] and
/// [`detect::reader_for`].
trait Reader {
    /// Reads the file at `path`, whose bytes are `bytes` (none for Parquet, read from the
    /// file), with the mapping's reading options (delimiter, encoding, header); a reader may leave out the source columns
    /// that no wanted canonical column is read from (see [`map::source_columns`]).
    fn read(&self, path: &Path, bytes: Vec<u8>, mapping: &Mapping, wanted: &Wanted) -> Result<Raw>;
}

/// A frame read from a text format as a [`Raw`] input; a file with a header but no
/// records is an error.
fn with_rows(
    path: &Path,
    format: Format,
    df: DataFrame,
    rows: Option<Vec<u32>>,
    rejected: Vec<(u32, String)>,
    names: Vec<String>,
) -> Result<Raw> {
    if df.height() == 0 && rejected.is_empty() {
        return Err(Error::Input {
            path: path.to_path_buf(),
            message: "the file has a header but no transactions".into(),
        });
    }
    Ok(Raw {
        lf: df.lazy(),
        path: path.display().to_string(),
        format,
        sha: String::new(),
        rows,
        rejected,
        names,
        parquet: None,
    })
}

/// Reads one input file with the reader of its format.
fn read_file(path: &Path, mapping: &Mapping, wanted: &Wanted) -> Result<Raw> {
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
    let read_err = |source| Error::Io {
        path: path.to_path_buf(),
        action: "reading the input",
        source,
    };
    let mut head = [0u8; 8];
    let got = std::io::Read::read(&mut std::fs::File::open(path).map_err(read_err)?, &mut head).map_err(read_err)?;
    let format = detect::detect_format(path, &head[..got]);
    // A Parquet file is read from the file, never held whole, and hashed from the file
    // while its pages are checked; a text file is read whole, and its bytes hashed.
    if format == Format::Parquet && meta.len() > 0 {
        let reader = detect::reader_for(format).ok_or_else(|| not_a_format(path))?;
        return std::thread::scope(|s| {
            let hashing = s.spawn(|| crate::util::hash::sha256_file(path));
            let raw = reader.read(path, Vec::new(), mapping, wanted);
            let sha = hashing.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
            let mut raw = raw?;
            raw.sha = sha.map_err(read_err)?;
            Ok(raw)
        });
    }
    let bytes = std::fs::read(path).map_err(read_err)?;
    let sha = sha256_hex(&bytes);
    if bytes.iter().all(|b| b.is_ascii_whitespace()) || meta.len() == 0 {
        return Err(Error::Input {
            path: path.to_path_buf(),
            message: "the file is empty; it needs a header line and at least one transaction".into(),
        });
    }
    let reader = detect::reader_for(format).ok_or_else(|| not_a_format(path))?;
    let mut raw = reader.read(path, bytes, mapping, wanted)?;
    raw.sha = sha;
    Ok(raw)
}

/// The error for a file of no format redflag reads.
fn not_a_format(path: &Path) -> Error {
    Error::Input {
        path: path.to_path_buf(),
        message: "not a file format".into(),
    }
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
