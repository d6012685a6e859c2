//! Output files: `cases.json`, `alerts.csv`, `manifest.json`, `quarantine.csv`.
//!
//! Every file is written to a temporary name first; when all are written they are renamed
//! into place, so a failed run leaves no partial file.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::cases::Case;
use crate::error::{Error, PolarsContext, Result};
use crate::ingest::{Dataset, InputSummary};
use crate::model::{NotApplicable, ParamValue, Severity};
use crate::pack::Pack;

/// The version of the `cases.json` layout.
pub const SCHEMA_VERSION: &str = "1.0";

/// The pack a run used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PackInfo {
    /// Pack id.
    pub id: String,
    /// Pack version.
    pub version: String,
    /// Where it came from.
    pub source: String,
    /// sha256 of the pack file.
    pub sha256: String,
    /// The base currency.
    pub base_currency: String,
}

/// A list a run used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListInfo {
    /// Its name.
    pub name: String,
    /// Where it came from.
    pub source: String,
    /// sha256 of the file.
    pub sha256: String,
    /// How many values it holds.
    pub values: usize,
}

/// A rule that ran without some optional columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Partial {
    /// The rule.
    pub rule_id: String,
    /// Optional columns the data lacks (read as empty).
    pub absent_columns: Vec<String>,
}

/// What reproduces a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// `redflag`.
    pub tool: String,
    /// Its version.
    pub tool_version: String,
    /// The pack.
    pub pack: PackInfo,
    /// Pack-wide parameters in force.
    pub params: BTreeMap<String, ParamValue>,
    /// Each rule's parameters in force.
    pub rule_params: BTreeMap<String, BTreeMap<String, ParamValue>>,
    /// Lists.
    pub lists: Vec<ListInfo>,
    /// The mapping used.
    pub mapping: String,
    /// The FX table, when one was given: path and sha256.
    pub fx: Option<(String, String)>,
    /// Each input.
    pub inputs: Vec<InputSummary>,
    /// Rows read, all inputs.
    pub rows_read: u64,
    /// Rows screened.
    pub rows_screened: u64,
    /// Rows quarantined.
    pub rows_quarantined: u64,
    /// Rules that ran.
    pub rules_run: Vec<String>,
    /// Rules that did not, and the columns they lacked.
    pub rules_not_applicable: Vec<NotApplicable>,
    /// Rules that ran without some optional columns.
    pub rules_partial: Vec<Partial>,
    /// Alerts per rule.
    pub alerts_per_rule: BTreeMap<String, usize>,
    /// Cases written.
    pub cases: usize,
    /// Alerts written.
    pub alerts: usize,
    /// Cases under this score are left out.
    pub min_score: f64,
    /// Start time (UTC, RFC 3339).
    pub started_at: String,
    /// End time.
    pub finished_at: String,
    /// Account numbers and party names in the outputs are pseudonyms (`--redact`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub redacted: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Manifest {
    /// Describes a run.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        pack: &Pack,
        ds: &Dataset,
        run: &crate::model::RuleRun,
        cases: &[Case],
        mapping: &str,
        fx: Option<(String, String)>,
        min_score: f64,
        started_at: String,
    ) -> Manifest {
        let rules_partial = pack
            .rules
            .iter()
            .filter(|r| run.rules_run.iter().any(|x| x == r.id()))
            .filter_map(|r| {
                let absent: Vec<String> = r
                    .def
                    .optional_columns
                    .iter()
                    .filter(|c| {
                        let s = crate::schema::sources_of(c);
                        !s.is_empty() && !s.iter().any(|x| ds.present.iter().any(|p| p == x))
                    })
                    .cloned()
                    .collect();
                (!absent.is_empty()).then(|| Partial {
                    rule_id: r.id().to_string(),
                    absent_columns: absent,
                })
            })
            .collect();
        Manifest {
            tool: "redflag".into(),
            tool_version: env!("CARGO_PKG_VERSION").into(),
            pack: PackInfo {
                id: pack.id.clone(),
                version: pack.version.clone(),
                source: pack.source.clone(),
                sha256: pack.sha256.clone(),
                base_currency: pack.base_currency.clone(),
            },
            params: pack.params.clone(),
            rule_params: pack
                .rules
                .iter()
                .map(|r| {
                    (
                        r.id().to_string(),
                        r.params
                            .iter()
                            .filter(|(k, v)| pack.params.get(*k) != Some(*v) || r.def.params.contains_key(*k))
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect(),
                    )
                })
                .collect(),
            lists: pack
                .lists
                .values()
                .map(|l| ListInfo {
                    name: l.name.clone(),
                    source: l.source.clone(),
                    sha256: l.sha256.clone(),
                    values: l.values.len(),
                })
                .collect(),
            mapping: mapping.to_string(),
            fx,
            inputs: ds.inputs.clone(),
            rows_read: ds.inputs.iter().map(|i| i.rows_read).sum(),
            rows_screened: ds.rows_screened(),
            rows_quarantined: ds.rows_quarantined(),
            rules_run: run.rules_run.clone(),
            rules_not_applicable: run.not_applicable.clone(),
            rules_partial,
            alerts_per_rule: run.alerts_per_rule.clone(),
            cases: cases.len(),
            alerts: cases.iter().map(|c| c.alerts.len()).sum(),
            min_score,
            started_at,
            finished_at: String::new(),
            redacted: false,
        }
    }
}

/// What a report says about a rule: written into `cases.json` so that the reports render
/// from that file alone (`redflag report --from DIR`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleRef {
    /// One line.
    pub title: String,
    /// The rule's kind.
    pub kind: String,
    /// The rule's severity.
    pub severity: Severity,
    /// Typology tags.
    #[serde(default)]
    pub typologies: Vec<String>,
    /// The pattern in plain language and its usual false positives.
    #[serde(default)]
    pub description: String,
    /// Sources.
    #[serde(default)]
    pub references: Vec<String>,
}

impl RuleRef {
    /// Every rule of a pack, by id.
    pub fn of_pack(pack: &Pack) -> BTreeMap<String, RuleRef> {
        pack.rules
            .iter()
            .map(|r| {
                (
                    r.id().to_string(),
                    RuleRef {
                        title: r.def.title.clone(),
                        kind: r.kind.name().to_string(),
                        severity: r.def.severity,
                        typologies: r.def.typologies.clone(),
                        description: r.def.description.trim().to_string(),
                        references: r.def.references.clone(),
                    },
                )
            })
            .collect()
    }
}

/// The content of `cases.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CasesFile {
    /// [`SCHEMA_VERSION`].
    pub schema_version: String,
    /// The run.
    pub manifest: Manifest,
    /// The pack's rules: title, kind, severity, typologies, description, references.
    /// Absent from files written before reports existed.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub rules: BTreeMap<String, RuleRef>,
    /// Ranked cases.
    pub cases: Vec<Case>,
}

impl CasesFile {
    /// The file for a run's cases, with the pack's rule references.
    pub fn new(manifest: Manifest, cases: Vec<Case>, pack: &Pack) -> CasesFile {
        CasesFile {
            schema_version: SCHEMA_VERSION.into(),
            manifest,
            rules: RuleRef::of_pack(pack),
            cases,
        }
    }

    /// Reads `cases.json`, or the `cases.json` in a folder.
    pub fn load(path: &Path) -> Result<CasesFile> {
        let file = if path.is_dir() {
            path.join("cases.json")
        } else {
            path.to_path_buf()
        };
        let bytes = std::fs::read(&file).map_err(|source| Error::Io {
            path: file.clone(),
            action: "reading the cases of an earlier run",
            source,
        })?;
        let cf: CasesFile = serde_json::from_slice(&bytes).map_err(|e| Error::Results {
            path: file.clone(),
            message: format!(
                "not a cases.json written by `redflag screen`: {e} (line {}, column {})",
                e.line(),
                e.column()
            ),
        })?;
        let major = |v: &str| v.split('.').next().unwrap_or("").to_string();
        if major(&cf.schema_version) != major(SCHEMA_VERSION) {
            return Err(Error::Results {
                path: file,
                message: format!(
                    "schema version {} is not readable by this version (it reads {}.x); screen again",
                    cf.schema_version,
                    major(SCHEMA_VERSION)
                ),
            });
        }
        Ok(cf)
    }
}

/// Quotes a CSV field when it needs it.
pub fn csv_field(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    push_csv_field(&mut out, s);
    out
}

/// `alerts.csv`: one row per alert and transaction, in case rank order.
pub fn alerts_csv(cases: &[Case], ds: &Dataset) -> Result<String> {
    let mut out = Vec::new();
    write_alerts_csv(cases, ds, &mut out)?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// [`alerts_csv`], written to `w` as it is made (the whole file is never in memory).
pub fn write_alerts_csv(cases: &[Case], ds: &Dataset, w: &mut dyn std::io::Write) -> Result<()> {
    let txns = &ds.transactions;
    let ts = txns
        .column("ts")
        .and_then(|c| c.cast(&DataType::Int64))
        .and_then(|c| c.i64().cloned())
        .ctx(|| "reading ts".into())?;
    let amount = txns
        .column("amount_base")
        .and_then(|c| c.f64().cloned())
        .ctx(|| "reading amount_base".into())?;
    let ids = txns
        .column("txn_id")
        .and_then(|c| c.str().cloned())
        .ctx(|| "reading txn_id".into())?;
    let io = |source| Error::Io {
        path: PathBuf::from("alerts.csv"),
        action: "writing",
        source,
    };
    let mut w = std::io::BufWriter::with_capacity(1 << 20, w);
    w.write_all(b"case_id,alert_id,rule_id,severity,account,txn_id,ts,amount_base,explanation\n")
        .map_err(io)?;
    let mut line = String::new();
    for c in cases {
        for a in &c.alerts {
            // In time order, then by id; each row's key read once.
            let mut rows: Vec<(Option<i64>, Option<&str>, u32)> = a
                .rows
                .iter()
                .map(|&r| (ts.get(r as usize), ids.get(r as usize), r))
                .collect();
            rows.sort_by(|x, y| (x.0, x.1).cmp(&(y.0, y.1)));
            // The fields the alert's rows share.
            let head = format!(
                "{},{},{},{},{},",
                csv_field(&c.case_id),
                csv_field(&a.alert_id),
                csv_field(&a.rule_id),
                a.severity.as_str(),
                csv_field(&a.account)
            );
            let tail = csv_field(&a.explanation);
            for (t, id, r) in rows {
                line.clear();
                line.push_str(&head);
                push_csv_field(&mut line, id.unwrap_or(""));
                line.push(',');
                if let Some(t) = t {
                    crate::util::format::push_timestamp(&mut line, t);
                }
                line.push(',');
                if let Some(v) = amount.get(r as usize) {
                    use std::fmt::Write as _;
                    let _ = write!(line, "{v:.2}");
                }
                line.push(',');
                line.push_str(&tail);
                line.push('\n');
                w.write_all(line.as_bytes()).map_err(io)?;
            }
        }
    }
    w.flush().map_err(io)?;
    Ok(())
}

/// [`csv_field`], appended to `out`.
fn push_csv_field(out: &mut String, s: &str) {
    if s.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&s.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(s);
    }
}

/// `quarantine.csv`, or `None` when no row was set aside.
pub fn quarantine_csv(ds: &Dataset) -> Result<Option<String>> {
    if ds.quarantine.height() == 0 {
        return Ok(None);
    }
    frame_csv(&ds.quarantine).map(Some)
}

/// A frame as CSV text with a header.
pub(crate) fn frame_csv(df: &DataFrame) -> Result<String> {
    let mut df = df.clone();
    let mut buf = Vec::new();
    CsvWriter::new(&mut buf)
        .include_header(true)
        .finish(&mut df)
        .ctx(|| "writing quarantine.csv".into())?;
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

/// A function that writes a file's content to the writer it is given.
pub type WriteFn<'a> = Box<dyn FnOnce(&mut dyn std::io::Write) -> Result<()> + Send + 'a>;

/// What an output file holds: bytes, or a function that writes them.
pub enum FileBody<'a> {
    /// The whole content.
    Bytes(Cow<'a, [u8]>),
    /// Writes the content as it is made: large files are never whole in memory.
    Writer(WriteFn<'a>),
}

/// [`write_files`] with bodies that may be written as they are made; the writers run side
/// by side, each to its own temporary file. All or nothing, as `write_files`.
pub fn write_outputs(dir: &Path, files: Vec<(String, FileBody<'_>)>, remove: &[&str]) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        path: dir.to_path_buf(),
        action: "creating the output folder",
        source,
    })?;
    let mut jobs = Vec::new();
    for (name, body) in files {
        let target = dir.join(&name);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|source| Error::Io {
                path: parent.to_path_buf(),
                action: "creating the output folder",
                source,
            })?;
        }
        let tmp = dir.join(format!("{name}.tmp-{}", std::process::id()));
        jobs.push((tmp, target, body));
    }
    let write_one = |tmp: &Path, body: FileBody<'_>| -> Result<()> {
        let io = |source| Error::Io {
            path: tmp.to_path_buf(),
            action: "writing",
            source,
        };
        match body {
            FileBody::Bytes(b) => std::fs::write(tmp, b).map_err(io),
            FileBody::Writer(f) => {
                let mut file = std::fs::File::create(tmp).map_err(io)?;
                f(&mut file)
            }
        }
    };
    let mut paths = Vec::new();
    let results: Vec<Result<()>> = std::thread::scope(|sc| {
        let mut handles = Vec::new();
        let mut done = Vec::new();
        for (tmp, target, body) in jobs {
            paths.push((tmp.clone(), target));
            match body {
                FileBody::Writer(_) => {
                    let write_one = &write_one;
                    handles.push(sc.spawn(move || write_one(&tmp, body)));
                }
                bytes => done.push(write_one(&tmp, bytes)),
            }
        }
        for h in handles {
            done.push(h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
        }
        done
    });
    if let Some(e) = results.into_iter().find_map(|r| r.err()) {
        for (t, _) in &paths {
            let _ = std::fs::remove_file(t);
        }
        return Err(e);
    }
    let mut written = Vec::new();
    for (tmp, target) in paths {
        std::fs::rename(&tmp, &target).map_err(|source| Error::Io {
            path: target.clone(),
            action: "renaming into place",
            source,
        })?;
        written.push(target);
    }
    for r in remove {
        let p = dir.join(r);
        if p.exists() {
            let _ = std::fs::remove_file(p);
        }
    }
    Ok(written)
}

/// Writes files into `dir` all or nothing: temporary names first, then renames.
/// `remove` names files of an earlier run that this run does not produce.
pub fn write_files(dir: &Path, files: &[(String, Vec<u8>)], remove: &[&str]) -> Result<Vec<PathBuf>> {
    let bodies = files
        .iter()
        .map(|(name, bytes)| (name.clone(), FileBody::Bytes(Cow::Borrowed(bytes.as_slice()))))
        .collect();
    write_outputs(dir, bodies, remove)
}
