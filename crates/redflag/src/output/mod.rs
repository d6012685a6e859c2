//! The files a run writes: `cases.json` and `manifest.json` ([`json`]), `alerts.csv` and
//! `quarantine.csv` ([`csv`]), the manifest itself ([`manifest`]), and the one atomic
//! writer ([`write`]): a staging folder inside the output folder, every target checked,
//! then renames with the manifest last, undone on failure, so the folder holds all the
//! files of a run or the files it held before. The reports (Markdown, HTML, goAML) are
//! rendered by `report` and written through the same writer.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::ingest::Dataset;

mod csv;
mod json;
mod manifest;
mod write;

pub use csv::{alerts_csv, alerts_frame, csv_field, neutralise_cell, quarantine_csv, write_alerts_csv};
pub(crate) use csv::{frame_csv, write_alert_lines, ALERTS_CSV_HEADER};
pub(crate) use json::{check_case_ids, json_bytes};
pub use json::{is_case_id, CasesFile, RuleRef, SCHEMA_VERSION};
pub(crate) use manifest::pack_identity;
pub use manifest::{now_utc, ListInfo, Manifest, PackInfo, Partial, Sharding};
pub(crate) use write::check_inputs_kept;
pub use write::{write_files, write_outputs, FileBody, Staged, STAGING_PREFIX};

/// The formats a run writes, or that reports are rendered in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Formats {
    /// `cases.json`.
    pub json: bool,
    /// `alerts.csv`.
    pub csv: bool,
    /// `report.md`.
    pub md: bool,
    /// `report.html`.
    pub html: bool,
    /// `goaml/CASE_ID.xml`, one draft a case.
    pub goaml: bool,
}

impl Formats {
    /// Turns on a format by its name (`json`, `csv`, `md`, `html`, `goaml`); false for an
    /// unknown name.
    pub fn set(&mut self, name: &str) -> bool {
        match name {
            "json" => self.json = true,
            "csv" => self.csv = true,
            "md" => self.md = true,
            "html" => self.html = true,
            "goaml" => self.goaml = true,
            _ => return false,
        }
        true
    }
}

/// The files of a screen run besides `cases.json` and `alerts.csv`, made beforehand.
pub(crate) struct RunFiles {
    /// `quarantine.csv`, or `None` when no row was set aside (an earlier one is removed).
    pub quarantine: Option<String>,
    /// The rendered reports: (name relative to the output folder, bytes).
    pub reports: Vec<(String, Vec<u8>)>,
    /// Files of an earlier run to remove (goAML drafts of cases the run no longer has).
    pub stale: Vec<String>,
}

/// Writes a screen run's files into `dir`, whole or not at all: `cases.json` and
/// `alerts.csv` (as `formats` asks) written as they are made, side by side;
/// `manifest.json`, `quarantine.csv` and the reports as bytes.
pub(crate) fn write_run(
    dir: &Path,
    cf: &CasesFile,
    ds: &Dataset,
    formats: Formats,
    run_files: RunFiles,
) -> Result<Vec<PathBuf>> {
    let cases_json: Option<FileBody<'_>> = formats
        .json
        .then(|| FileBody::Writer(Box::new(move |w: &mut dyn Write| json::write_cases_json(cf, w))));
    let cases = &cf.cases;
    let alerts: Option<FileBody<'_>> = formats
        .csv
        .then(|| FileBody::Writer(Box::new(move |w: &mut dyn Write| write_alerts_csv(cases, ds, w))));
    write_run_bodies(dir, &cf.manifest, cases_json, alerts, run_files)
}

/// [`write_run`] with `cases.json` and `alerts.csv` made by the caller (`None`: not
/// written).
pub(crate) fn write_run_bodies<'a>(
    dir: &Path,
    manifest: &Manifest,
    cases_json: Option<FileBody<'a>>,
    alerts_csv: Option<FileBody<'a>>,
    run_files: RunFiles,
) -> Result<Vec<PathBuf>> {
    let RunFiles {
        quarantine,
        reports,
        stale,
    } = run_files;
    let mut files: Vec<(String, Vec<u8>)> =
        vec![("manifest.json".into(), json::json_bytes("manifest.json", manifest)?)];
    let mut remove: Vec<String> = Vec::new();
    match quarantine {
        Some(q) => files.push(("quarantine.csv".into(), q.into_bytes())),
        None => remove.push("quarantine.csv".into()),
    }
    files.extend(reports);
    remove.extend(stale);
    let remove: Vec<&str> = remove.iter().map(String::as_str).collect();
    // The two large files are written as they are made, side by side.
    let mut outputs: Vec<(String, FileBody<'_>)> = Vec::new();
    if let Some(body) = cases_json {
        outputs.push(("cases.json".into(), body));
    }
    if let Some(body) = alerts_csv {
        outputs.push(("alerts.csv".into(), body));
    }
    outputs.extend(files.into_iter().map(|(n, b)| (n, FileBody::Bytes(b.into()))));
    write_outputs(dir, outputs, &remove)
}
