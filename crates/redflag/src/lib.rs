//! redflag screens financial transactions against money-laundering and
//! terrorist-financing red-flag rules in the style of the FATF Recommendations, and turns
//! what fires into ranked, explained cases.
//!
//! Load a rule pack, bring transactions onto the canonical schema, screen them, read the
//! cases:
//!
//! ```
//! use polars::prelude::*;
//! use redflag::{Dataset, IngestOptions, Pack};
//!
//! // The default pack, built into the library with its lists.
//! let pack = Pack::builtin()?;
//!
//! // Two near-threshold cash deposits into one account within a week. Text dates are
//! // parsed as ingest parses files; a Datetime column is taken as it is.
//! let df = DataFrame::new_infer_height(vec![
//!     Column::new("txn_id".into(), ["t1", "t2"]),
//!     Column::new("ts".into(), ["2026-03-02 10:00:00", "2026-03-05 15:30:00"]),
//!     Column::new("amount".into(), [9_500.0, 9_800.0]),
//!     Column::new("orig_account".into(), [None::<&str>, None]),
//!     Column::new("bene_account".into(), ["ACC-1", "ACC-1"]),
//!     Column::new("channel".into(), ["cash_in", "cash_in"]),
//! ])?;
//! let data = Dataset::from_frame(df, "example", &IngestOptions::default())?;
//!
//! let result = redflag::screen(&pack, &data)?;
//! let case = &result.cases[0];
//! assert_eq!(case.accounts, ["ACC-1"]);
//! assert!(case.rule_ids.contains(&"STR-01".to_string()));
//! println!("{}", case.summary);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The library never prints; errors are one [`Error`] enum whose variants name the file,
//! line, column, rule or field the user touched.
#![deny(missing_docs)]

mod cases;
pub mod catalogue;
mod engine;
mod error;
pub mod evaluate;
mod expr;
mod ingest;
pub mod kinds;
mod model;
mod output;
mod pack;
pub mod report;
mod run;
pub mod schema;
mod setup;
pub mod shard;
pub mod tune;
mod util;
pub mod watchlist;

use std::path::{Path, PathBuf};

pub use util::cancel::Cancel;
pub use util::format;

pub use cases::{base_parts, measure_term, score, severity_weight, weighted_score, Case, CaseTxn, MAX_LISTED_TXNS};
pub use catalogue::catalogue;
pub use error::{did_you_mean, Error, Location, PackProblem, Result};
pub use ingest::{
    ingest, ingest_streamed, ColumnSource, ColumnSpec, Dataset, Direction, Encoding, EpochUnit, Format, FxTable,
    IngestOptions, InputSummary, Mapping, PRESETS,
};
pub use kinds::PeerTally;
pub use model::{
    alert_id, placeholders, Alert, Condition, Degraded, Dropped, LimitNote, NotApplicable, NumField, ParamOverride,
    ParamValue, PeerGroup, RefList, Rule, RuleDef, RuleKind, RuleRun, ScorePart, ScoreWeights, SearchLimit, Severity,
    Side, SideSel, Whole, Window, WindowError, BUILTIN_MEASURES, TYPOLOGIES,
};
pub use output::{
    alerts_csv, alerts_frame, csv_field, is_case_id, neutralise_cell, now_utc, quarantine_csv, write_alerts_csv,
    write_files, write_outputs, CasesFile, FileBody, Formats, ListInfo, Manifest, PackInfo, Partial, RuleRef, Sharding,
    SCHEMA_VERSION, STAGING_PREFIX,
};
pub use pack::{parse_binding, ListSource, Pack};
pub use run::{applicability, columns_read, missing_columns, Applicability};
pub use setup::RunSpec;
pub use util::hash::sha256_hex;
pub use util::threads::MAX_THREADS;

/// What a screening found.
#[derive(Debug, Clone)]
pub struct Screening {
    /// Ranked cases.
    pub cases: Vec<Case>,
    /// The rules' run: rules run, rules not applicable, alerts per rule. Its `alerts` are
    /// empty here: they live in the cases (see [`Screening::alerts`]).
    pub run: RuleRun,
    /// Distinct accounts seen.
    pub accounts: usize,
}

impl Screening {
    /// Every alert, case by case.
    pub fn alerts(&self) -> impl Iterator<Item = &Alert> {
        self.cases.iter().flat_map(|c| c.alerts.iter())
    }

    /// Writes the run's files into `dir`, whole or not at all, and returns its manifest.
    /// Cases scoring under `outputs.min_score` are dropped from the screening first, and
    /// the rest redacted when `outputs.redactor` is given: the screening then holds the
    /// cases as written. Fails, writing nothing, when a file would overwrite an input.
    pub fn write(&mut self, pack: &Pack, data: &Dataset, dir: &Path, outputs: &Outputs) -> Result<Manifest> {
        self.cases.retain(|c| c.score >= outputs.min_score);
        if let Some(r) = &outputs.redactor {
            r.redact_cases(&mut self.cases);
        }
        let manifest = self.manifest(pack, data, outputs);
        output::check_inputs_kept(dir, data)?;
        // The cases move into the file's struct and back: no copy of a large result.
        let mut cf = CasesFile::new(manifest.clone(), std::mem::take(&mut self.cases), pack);
        let written = write_run_files(&mut cf, data, dir, outputs);
        self.cases = cf.cases;
        written.map(|_| manifest)
    }
}

impl Screening {
    /// The run's manifest as [`Screening::write`] writes it for these cases, finished now
    /// (the cases are taken as they are: `outputs.min_score` is recorded, not applied).
    pub fn manifest(&self, pack: &Pack, data: &Dataset, outputs: &Outputs) -> Manifest {
        let mut manifest = Manifest::new(
            pack,
            data,
            &self.run,
            &self.cases,
            &outputs.mapping,
            outputs.fx.clone(),
            outputs.min_score,
            outputs.started_at.clone(),
        );
        manifest.redacted = outputs.redactor.is_some();
        manifest.sharding = outputs.sharding.clone();
        manifest.finished_at = now_utc();
        manifest
    }
}

/// What a screen run writes, and how ([`Screening::write`]).
#[derive(Debug, Clone, Default)]
pub struct Outputs {
    /// The files to write besides `manifest.json` and `quarantine.csv`, which are always
    /// written.
    pub formats: Formats,
    /// Cases scoring under this are left out of every file.
    pub min_score: f64,
    /// Account numbers and party names replaced by pseudonyms in every file.
    pub redactor: Option<report::Redactor>,
    /// The reporting entity and code lists for goAML drafts (with `formats.goaml`).
    pub goaml: Option<report::GoamlConfig>,
    /// The name of the mapping the inputs were read with.
    pub mapping: String,
    /// The FX table, when one was given: path and sha256.
    pub fx: Option<(String, String)>,
    /// When the run started (UTC, RFC 3339; see [`now_utc`]).
    pub started_at: String,
    /// The run was made in shards ([`screen_sharded`], [`merge_shards`]).
    pub sharding: Option<Sharding>,
}

impl Outputs {
    /// Whether these outputs can be written one case at a time, from cases kept on disk
    /// ([`write_case_store`]): `cases.json`, `alerts.csv`, the manifest and the
    /// quarantine, with or without a least score. Reports and redaction read every case
    /// at once.
    pub fn case_by_case(&self) -> bool {
        !self.formats.md && !self.formats.html && !self.formats.goaml && self.redactor.is_none()
    }
}

/// Renders the reports `opts` asks for from an earlier run's cases and writes them into
/// `dir`, whole or not at all; with goAML drafts, drafts of an earlier run for cases no
/// longer present are removed. Returns the names written, relative to `dir`.
pub fn write_reports(cf: &CasesFile, dir: &Path, opts: &report::ReportOptions) -> Result<Vec<String>> {
    let files = report::render(cf, opts)?;
    let stale = if opts.goaml.is_some() {
        report::stale_goaml(dir, &files)
    } else {
        Vec::new()
    };
    let remove: Vec<&str> = stale.iter().map(String::as_str).collect();
    write_files(dir, &files, &remove)?;
    Ok(files.into_iter().map(|(n, _)| n).collect())
}

/// The stage of [`Screening::write`] that renders the quarantine and the reports and
/// writes every file.
fn write_run_files(cf: &mut CasesFile, data: &Dataset, dir: &Path, outputs: &Outputs) -> Result<Vec<PathBuf>> {
    let quarantine = match &outputs.redactor {
        Some(r) => r.quarantine_csv(data)?,
        None => quarantine_csv(data)?,
    };
    let goaml = outputs.goaml.clone().filter(|_| outputs.formats.goaml);
    let with_goaml = goaml.is_some();
    let reports = if outputs.formats.md || outputs.formats.html || with_goaml {
        // The reports' long text is clipped in the cases that have some, then put back
        // for the data outputs.
        let originals = report::clip_in_place(cf);
        let reports = report::render(
            cf,
            &report::ReportOptions {
                markdown: outputs.formats.md,
                html: outputs.formats.html,
                goaml,
                min_score: 0.0,
            },
        );
        report::restore(cf, originals);
        reports?
    } else {
        Vec::new()
    };
    let stale = if with_goaml {
        report::stale_goaml(dir, &reports)
    } else {
        Vec::new()
    };
    let run_files = output::RunFiles {
        quarantine,
        reports,
        stale,
    };
    output::write_run(dir, cf, data, outputs.formats, run_files)
}

/// How a screening runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScreenOptions {
    /// Worker threads (`None`: the machine's cores). The result is the same whatever the
    /// count.
    pub threads: Option<usize>,
    /// Set from another thread, stops the run before its next step or rule with
    /// [`Error::Cancelled`].
    pub cancel: Cancel,
}

/// Screens a dataset with a pack.
pub fn screen(pack: &Pack, data: &Dataset) -> Result<Screening> {
    screen_with(pack, data, &ScreenOptions::default(), &|_, _, _| {})
}

/// Screens a dataset with a pack, calling `progress(rule_id, done, total)` as rules finish
/// (rules run on several threads, so the calls may come from any of them).
pub fn screen_with_progress(
    pack: &Pack,
    data: &Dataset,
    progress: &(dyn Fn(&str, usize, usize) + Sync),
) -> Result<Screening> {
    screen_with(pack, data, &ScreenOptions::default(), progress)
}

/// Screens a dataset with a pack and options, calling `progress(rule_id, done, total)`
/// as rules finish.
pub fn screen_with(
    pack: &Pack,
    data: &Dataset,
    options: &ScreenOptions,
    progress: &(dyn Fn(&str, usize, usize) + Sync),
) -> Result<Screening> {
    util::threads::with_threads(options.threads, || screen_in(pack, data, progress, &options.cancel))
}

/// The stages of a screening: prepare the side views, run the rules, build the cases.
fn screen_in(
    pack: &Pack,
    data: &Dataset,
    progress: &(dyn Fn(&str, usize, usize) + Sync),
    cancel: &Cancel,
) -> Result<Screening> {
    let stop = || {
        if cancel.is_cancelled() {
            Err(Error::Cancelled)
        } else {
            Ok(())
        }
    };
    stop()?;
    let t_prepare = std::time::Instant::now();
    let prep = engine::Prepared::new(data)?;
    let prepare = t_prepare.elapsed();
    stop()?;
    let mut rule_run = run::run(pack, &prep, progress, cancel)?;
    rule_run.timings.insert(0, ("prepare".into(), prepare));
    // The side views are no longer needed: freed before the cases are built.
    let accounts = prep.account_count();
    drop(prep);
    let t_cases = std::time::Instant::now();
    let alerts = std::mem::take(&mut rule_run.alerts);
    stop()?;
    let cases = cases::build(alerts, &data.transactions, pack)?;
    rule_run.timings.push(("cases".into(), t_cases.elapsed()));
    Ok(Screening {
        cases,
        accounts,
        run: rule_run,
    })
}

/// Merges the outputs of every shard of one partition ([`shard::screen_shard`]) with the
/// pack the partition was made for: the screening a single run of the same inputs and
/// pack gives; its data as [`Screening::write`] takes it (the inputs, the quarantine, the
/// transactions the alerts hold); and the partition.
pub fn merge_shards(
    outputs: &[PathBuf],
    pack: &Pack,
    threads: Option<usize>,
) -> Result<(Screening, Dataset, shard::PartitionInfo)> {
    let merged = shard::merge(outputs, pack, threads)?;
    let screening = Screening {
        cases: merged.cases,
        run: merged.run,
        accounts: merged.accounts,
    };
    Ok((screening, merged.data, merged.partition))
}

/// [`merge_shards`] in bounded memory ([`shard::merge_bounded`]): the cases kept on disk in
/// a working folder made in the output folder `out` (`.redflag-merge-` and random
/// letters), removed with the store. For outputs written one case at a time
/// ([`Outputs::case_by_case`], [`write_case_store`]).
pub fn merge_shards_bounded(
    outputs: &[PathBuf],
    pack: &Pack,
    threads: Option<usize>,
    out: &Path,
) -> Result<shard::CaseStore> {
    let work = working_folder(out, ".redflag-merge-")?;
    let store = shard::merge_bounded(outputs, pack, threads, work.path(), shard::BATCH_ROWS)?;
    Ok(store.kept_in(work))
}

/// Writes the files of a run whose cases are kept on disk into `dir`, whole or not at
/// all, as [`Screening::write`] writes a run's, and returns the manifest. Only
/// `cases.json`, `alerts.csv`, `manifest.json` and `quarantine.csv`: reports and
/// redaction read every case at once ([`Outputs::case_by_case`]).
pub fn write_case_store(store: &shard::CaseStore, pack: &Pack, dir: &Path, outputs: &Outputs) -> Result<Manifest> {
    let mut manifest = Manifest::new(
        pack,
        &store.data,
        &store.run,
        &[],
        &outputs.mapping,
        outputs.fx.clone(),
        outputs.min_score,
        outputs.started_at.clone(),
    );
    (manifest.cases, manifest.alerts) = store.counts(outputs.min_score);
    manifest.sharding = outputs.sharding.clone();
    manifest.finished_at = now_utc();
    store.write(pack, dir, &manifest, outputs.formats)?;
    Ok(manifest)
}

/// A new folder in the output folder `out` (made when missing), removed when dropped.
fn working_folder(out: &Path, prefix: &str) -> Result<tempfile::TempDir> {
    let io = |action: &'static str| {
        move |source| Error::Io {
            path: out.to_path_buf(),
            action,
            source,
        }
    };
    std::fs::create_dir_all(out).map_err(io("creating the output folder"))?;
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in(out)
        .map_err(io("creating a working folder in the output folder"))
}

/// Screens `inputs` in `shards` shards, one at a time, through a working folder it makes
/// in the output folder `out` and removes (`.redflag-shards-` and random letters): ingest,
/// [`shard::partition_inputs`], [`shard::screen_shard`] for each shard, [`merge_shards`]. The
/// same screening as a single run; while screening, only one shard's transactions (or
/// the cross-account stage's) are held at a time. `progress(done, total)` is called as
/// each of the shards and the cross-account stage finishes.
pub fn screen_sharded(
    inputs: &[PathBuf],
    ingest_options: &IngestOptions,
    pack: &Pack,
    shards: u32,
    out: &Path,
    options: &ScreenOptions,
    progress: &dyn Fn(u32, u32),
) -> Result<(Screening, Dataset, shard::PartitionInfo)> {
    let (_work, outs) = screen_units(inputs, ingest_options, pack, shards, out, options, progress)?;
    merge_shards(&outs, pack, options.threads)
}

/// [`screen_sharded`] with the merge in bounded memory ([`merge_shards_bounded`]), the
/// cases kept in the working folder until the store is dropped.
pub fn screen_sharded_bounded(
    inputs: &[PathBuf],
    ingest_options: &IngestOptions,
    pack: &Pack,
    shards: u32,
    out: &Path,
    options: &ScreenOptions,
    progress: &dyn Fn(u32, u32),
) -> Result<shard::CaseStore> {
    let (work, outs) = screen_units(inputs, ingest_options, pack, shards, out, options, progress)?;
    let spill = work.path().join("merge");
    std::fs::create_dir(&spill).map_err(|source| Error::Io {
        path: spill.clone(),
        action: "creating a working folder for the merge",
        source,
    })?;
    let store = shard::merge_bounded(&outs, pack, options.threads, &spill, shard::BATCH_ROWS)?;
    for dir in &outs {
        remove_folder(dir)?;
    }
    Ok(store.kept_in(work))
}

fn remove_folder(dir: &Path) -> Result<()> {
    std::fs::remove_dir_all(dir).map_err(|source| Error::Io {
        path: dir.to_path_buf(),
        action: "removing a working folder",
        source,
    })
}

/// The stages of [`screen_sharded`] before the merge: the working folder and the units'
/// outputs in it. The partition is removed once every unit is screened.
fn screen_units(
    inputs: &[PathBuf],
    ingest_options: &IngestOptions,
    pack: &Pack,
    shards: u32,
    out: &Path,
    options: &ScreenOptions,
    progress: &dyn Fn(u32, u32),
) -> Result<(tempfile::TempDir, Vec<PathBuf>)> {
    let work = working_folder(out, ".redflag-shards-")?;
    let parts = work.path().join("partition");
    shard::partition_inputs(inputs, ingest_options, pack, shards, &parts, shard::GROUP_ROWS, &|_| {
        Ok(())
    })?;
    // Each shard alone, then the cross-account stage alone: only one unit's
    // transactions are held at a time.
    let mut units: Vec<shard::Unit> = (0..shards)
        .map(|index| shard::Unit::Shard { index, cross: false })
        .collect();
    if !shard::plan(pack).cross.is_empty() {
        units.push(shard::Unit::Cross);
    }
    let total = units.len() as u32;
    let mut outs = Vec::new();
    for (done, unit) in units.into_iter().enumerate() {
        if options.cancel.is_cancelled() {
            return Err(Error::Cancelled);
        }
        let dir = work.path().join(format!("unit-{done:04}"));
        shard::screen_unit(&parts, unit, pack, options.threads, &options.cancel)?.write(&dir)?;
        outs.push(dir);
        progress(done as u32 + 1, total);
    }
    remove_folder(&parts)?;
    Ok((work, outs))
}
