//! Cases kept on disk ([`CaseStore`]): each case's part of `cases.json` and of
//! `alerts.csv`, compressed, written in rank order when the outputs are written.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::PartitionInfo;
use crate::error::{Error, Result};
use crate::ingest::Dataset;
use crate::model::{Case, RuleRun, Severity};
use crate::output::{self, CasesFile, FileBody, Manifest};
use crate::pack::Pack;

const CASES_FILE: &str = "cases.spill";
const ALERTS_FILE: &str = "alerts.spill";

/// Where a case's bytes are in a spill file.
#[derive(Debug, Clone, Copy)]
struct Span {
    off: u64,
    len: usize,
}

/// A case in the store: what ranks it and what the outputs count of it.
#[derive(Debug, Clone)]
pub struct CaseEntry {
    /// The case's id.
    pub case_id: String,
    /// Its score.
    pub score: f64,
    /// Its highest alert severity.
    pub severity: Severity,
    /// Its alerts.
    pub alerts: usize,
    json: Span,
    csv: Span,
}

/// The cases as they are built ([`Spill::add`]), before they are ranked.
pub(super) struct Spill {
    dir: PathBuf,
    json: (std::io::BufWriter<std::fs::File>, u64),
    csv: (std::io::BufWriter<std::fs::File>, u64),
    entries: Vec<CaseEntry>,
    data: Option<Dataset>,
}

fn io_error(path: &Path, action: &'static str) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.to_path_buf();
    move |source| Error::Io { path, action, source }
}

/// The place of the rank in a case's JSON as [`Spill::add`] writes it, before it is set.
const NO_RANK: &[u8] = b"\"rank\": 0,";

impl Spill {
    pub(super) fn new(dir: &Path) -> Result<Spill> {
        let open = |name: &str| -> Result<(std::io::BufWriter<std::fs::File>, u64)> {
            let path = dir.join(name);
            let f = std::fs::File::create(&path).map_err(io_error(&path, "writing the merge's working files"))?;
            Ok((std::io::BufWriter::with_capacity(1 << 20, f), 0))
        };
        Ok(Spill {
            dir: dir.to_path_buf(),
            json: open(CASES_FILE)?,
            csv: open(ALERTS_FILE)?,
            entries: Vec::new(),
            data: None,
        })
    }

    /// Adds a batch's cases, whose alerts' rows are rows of `data`: each case as
    /// `cases.json` holds it (its rank left at 0, set when written) and its lines of
    /// `alerts.csv`.
    pub(super) fn add(&mut self, mut cases: Vec<Case>, data: &Dataset) -> Result<()> {
        for c in &mut cases {
            c.rank = 0;
        }
        let order: Vec<usize> = (0..cases.len()).collect();
        let mut made = crate::util::threads::run_parallel(&order, |i| case_bytes(&cases[i], data));
        made.sort_by_key(|(i, _)| *i);
        for (i, bytes) in made {
            let (json, csv) = bytes?;
            let c = &cases[i];
            let json = append(&mut self.json, &json, &self.dir.join(CASES_FILE))?;
            let csv = append(&mut self.csv, &csv, &self.dir.join(ALERTS_FILE))?;
            self.entries.push(CaseEntry {
                case_id: c.case_id.clone(),
                score: c.score,
                severity: c.severity,
                alerts: c.alerts.len(),
                json,
                csv,
            });
        }
        if self.data.is_none() {
            let mut described = data.clone();
            described.transactions = data.transactions.clear();
            self.data = Some(described);
        }
        Ok(())
    }

    /// Sets the partition's quarantine.
    pub(super) fn set_quarantine(&mut self, quarantine: DataFrame) {
        if let Some(d) = &mut self.data {
            d.quarantine = quarantine;
        }
    }

    /// The cases ranked, as a single run ranks them: by score, highest first, then by id.
    pub(super) fn finish(mut self, run: RuleRun, accounts: usize, partition: PartitionInfo) -> Result<CaseStore> {
        for (w, name) in [(&mut self.json.0, CASES_FILE), (&mut self.csv.0, ALERTS_FILE)] {
            w.flush()
                .map_err(io_error(&self.dir.join(name), "writing the merge's working files"))?;
        }
        self.entries
            .sort_by(|a, b| crate::cases::rank_order((a.score, &a.case_id), (b.score, &b.case_id)));
        let data = self.data.ok_or_else(|| Error::Shard {
            path: self.dir.clone(),
            message: "the merge built no batch of cases".into(),
        })?;
        Ok(CaseStore {
            dir: self.dir,
            folder: None,
            entries: self.entries,
            run,
            accounts,
            data,
            partition,
        })
    }
}

/// A case's text in `cases.json` (indented as an item of its list) and its lines of
/// `alerts.csv`, each compressed as it is made.
fn case_bytes(case: &Case, data: &Dataset) -> Result<(Vec<u8>, Vec<u8>)> {
    let mut json = Indented {
        inner: encoder()?,
        at_line_start: true,
    };
    serde_json::to_writer_pretty(&mut json, case).map_err(|e| Error::Results {
        path: PathBuf::from("cases.json"),
        message: format!("serialising the results: {e}"),
    })?;
    let mut csv = encoder()?;
    output::write_alert_lines(std::slice::from_ref(case), data, &mut csv)?;
    let done = |e: zstd::stream::write::Encoder<'static, Vec<u8>>| {
        e.finish()
            .map_err(io_error(Path::new(CASES_FILE), "compressing a case"))
    };
    Ok((done(json.inner)?, done(csv)?))
}

fn encoder() -> Result<zstd::stream::write::Encoder<'static, Vec<u8>>> {
    zstd::stream::write::Encoder::new(Vec::new(), 1).map_err(io_error(Path::new(CASES_FILE), "compressing a case"))
}

/// Writes pretty JSON as an item of a list two levels in (four more spaces a line): JSON
/// text holds no raw line breaks but between its tokens.
struct Indented<W: Write> {
    inner: W,
    at_line_start: bool,
}

impl<W: Write> Write for Indented<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        for line in buf.split_inclusive(|&b| b == b'\n') {
            if self.at_line_start {
                self.inner.write_all(b"    ")?;
            }
            self.inner.write_all(line)?;
            self.at_line_start = line.ends_with(b"\n");
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn append(w: &mut (std::io::BufWriter<std::fs::File>, u64), bytes: &[u8], path: &Path) -> Result<Span> {
    w.0.write_all(bytes)
        .map_err(io_error(path, "writing the merge's working files"))?;
    let span = Span {
        off: w.1,
        len: bytes.len(),
    };
    w.1 += bytes.len() as u64;
    Ok(span)
}

/// The cases of a merge ([`super::merge_bounded`]), ranked, on disk; and what the
/// outputs say of the run.
#[derive(Debug)]
pub struct CaseStore {
    dir: PathBuf,
    /// The working folder the store is in, removed with it.
    folder: Option<tempfile::TempDir>,
    entries: Vec<CaseEntry>,
    /// The rules' run.
    pub run: RuleRun,
    /// Distinct accounts seen.
    pub accounts: usize,
    /// The inputs as the manifest describes them, and the quarantine (no transactions).
    pub data: Dataset,
    /// The partition.
    pub partition: PartitionInfo,
}

/// Reads the cases of a store in rank order, one at a time.
struct Reader {
    file: std::fs::File,
    path: PathBuf,
}

impl Reader {
    fn open(path: PathBuf) -> Result<Reader> {
        let file = std::fs::File::open(&path).map_err(io_error(&path, "reading the merge's working files"))?;
        Ok(Reader { file, path })
    }

    /// The bytes at `span`, uncompressed, into `w` (the file `out`); with `rank`, the
    /// case's rank set.
    fn copy(&mut self, span: Span, rank: Option<usize>, w: &mut dyn Write, out: &str) -> Result<()> {
        self.file
            .seek(SeekFrom::Start(span.off))
            .map_err(io_error(&self.path, "reading the merge's working files"))?;
        let path = &self.path;
        let changed = || Error::Shard {
            path: path.clone(),
            message: "a working file of the merge was changed while it ran".into(),
        };
        let written = |source| Error::Io {
            path: PathBuf::from(out),
            action: "writing",
            source,
        };
        let packed = (&mut self.file).take(span.len as u64);
        let mut d = zstd::stream::read::Decoder::new(packed).map_err(|_| changed())?;
        let mut buf = vec![0u8; 1 << 16];
        // The rank is the case's second field, in its first line or two.
        let mut first = rank.is_some();
        loop {
            let mut got = 0;
            while got < buf.len() {
                match d.read(&mut buf[got..]).map_err(|_| changed())? {
                    0 => break,
                    n => got += n,
                }
            }
            if got == 0 {
                return Ok(());
            }
            match (first, rank) {
                (true, Some(rank)) => w.write_all(&ranked(buf[..got].to_vec(), rank)),
                _ => w.write_all(&buf[..got]),
            }
            .map_err(written)?;
            first = false;
        }
    }
}

fn write_error(source: std::io::Error) -> Error {
    Error::Io {
        path: PathBuf::from("cases.json"),
        action: "writing",
        source,
    }
}

impl CaseStore {
    /// The store, removing `folder` (which holds it) when it is dropped.
    pub fn kept_in(mut self, folder: tempfile::TempDir) -> CaseStore {
        self.folder = Some(folder);
        self
    }

    /// Every case, in rank order.
    pub fn entries(&self) -> &[CaseEntry] {
        &self.entries
    }

    /// The cases scoring `min_score` or more, with their ranks (1 for the first).
    fn shown(&self, min_score: f64) -> impl Iterator<Item = (usize, &CaseEntry)> + '_ {
        self.entries
            .iter()
            .enumerate()
            .map(|(i, e)| (i + 1, e))
            .filter(move |(_, e)| e.score >= min_score)
    }

    /// The first `n` cases scoring `min_score` or more, as `cases.json` holds them.
    pub fn top(&self, n: usize, min_score: f64) -> Result<Vec<Case>> {
        let mut r = Reader::open(self.dir.join(CASES_FILE))?;
        let mut out = Vec::new();
        for (rank, e) in self.shown(min_score).take(n) {
            let mut text = Vec::new();
            r.copy(e.json, Some(rank), &mut text, "cases.json")?;
            out.push(serde_json::from_slice(&text).map_err(|e| Error::Shard {
                path: r.path.clone(),
                message: format!("a working file of the merge was changed while it ran ({e})"),
            })?);
        }
        Ok(out)
    }

    /// The cases scoring `min_score` or more, and their alerts.
    pub fn counts(&self, min_score: f64) -> (usize, usize) {
        self.shown(min_score)
            .fold((0, 0), |(c, a), (_, e)| (c + 1, a + e.alerts))
    }

    /// Writes the run's files into `dir`, whole or not at all, with `manifest` (whose
    /// least score picks the cases written): `cases.json` and `alerts.csv` as `formats`
    /// asks, `manifest.json` and `quarantine.csv` (`redflag::write_case_store`).
    pub fn write(&self, pack: &Pack, dir: &Path, manifest: &Manifest, formats: output::Formats) -> Result<()> {
        output::check_inputs_kept(dir, &self.data)?;
        let head = cases_head(manifest, pack)?;
        let min = manifest.min_score;
        let cases_json = formats
            .json
            .then(|| FileBody::Writer(Box::new(move |w: &mut dyn Write| self.write_cases(&head, min, w))));
        let alerts_csv = formats
            .csv
            .then(|| FileBody::Writer(Box::new(move |w: &mut dyn Write| self.write_alerts(min, w))));
        let run_files = output::RunFiles {
            quarantine: output::quarantine_csv(&self.data)?,
            reports: Vec::new(),
            stale: Vec::new(),
        };
        output::write_run_bodies(dir, manifest, cases_json, alerts_csv, run_files)?;
        Ok(())
    }

    /// `cases.json`: `head`, then each case in rank order.
    fn write_cases(&self, head: &[u8], min_score: f64, w: &mut dyn Write) -> Result<()> {
        let mut w = std::io::BufWriter::with_capacity(1 << 20, w);
        let mut r = Reader::open(self.dir.join(CASES_FILE))?;
        w.write_all(head).map_err(write_error)?;
        let mut any = false;
        for (rank, e) in self.shown(min_score) {
            w.write_all(if any { b",\n" } else { b"\n" }).map_err(write_error)?;
            r.copy(e.json, Some(rank), &mut w, "cases.json")?;
            any = true;
        }
        let tail: &[u8] = if any { b"\n  ]\n}\n" } else { b"]\n}\n" };
        w.write_all(tail).and_then(|_| w.flush()).map_err(write_error)
    }

    /// `alerts.csv`: its first line, then each case's lines in rank order.
    fn write_alerts(&self, min_score: f64, w: &mut dyn Write) -> Result<()> {
        let csv_error = io_error(Path::new("alerts.csv"), "writing");
        let mut w = std::io::BufWriter::with_capacity(1 << 20, w);
        let mut r = Reader::open(self.dir.join(ALERTS_FILE))?;
        if let Err(e) = w.write_all(output::ALERTS_CSV_HEADER) {
            return Err(csv_error(e));
        }
        for (_, e) in self.shown(min_score) {
            r.copy(e.csv, None, &mut w, "alerts.csv")?;
        }
        w.flush().map_err(csv_error)
    }
}

/// A case's text with its rank set.
fn ranked(text: Vec<u8>, rank: usize) -> Vec<u8> {
    match text.windows(NO_RANK.len()).position(|w| w == NO_RANK) {
        Some(at) => {
            let mut out = Vec::with_capacity(text.len() + 8);
            out.extend_from_slice(&text[..at]);
            out.extend_from_slice(format!("\"rank\": {rank},").as_bytes());
            out.extend_from_slice(&text[at + NO_RANK.len()..]);
            out
        }
        None => text,
    }
}

/// The text of `cases.json` up to its list of cases, opened: the file of no cases, cut
/// before the list's end.
fn cases_head(manifest: &Manifest, pack: &Pack) -> Result<Vec<u8>> {
    let empty = CasesFile::new(manifest.clone(), Vec::new(), pack);
    let mut text = output::json_bytes("cases.json", &empty)?;
    const NO_CASES: &[u8] = b"\"cases\": []\n}\n";
    if !text.ends_with(NO_CASES) {
        return Err(Error::Results {
            path: PathBuf::from("cases.json"),
            message: "the list of cases is not the file's last field".into(),
        });
    }
    text.truncate(text.len() - b"]\n}\n".len());
    Ok(text)
}
