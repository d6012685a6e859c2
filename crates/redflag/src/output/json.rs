//! `cases.json` (the cases with the run's manifest and the pack's rule references) and
//! `manifest.json`, as pretty JSON.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::manifest::Manifest;
use crate::error::{Error, Result};
use crate::model::Case;
use crate::model::Severity;
use crate::pack::Pack;

/// The version of the `cases.json` layout.
pub const SCHEMA_VERSION: &str = "1.0";

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
        check_case_ids(&cf.cases).map_err(|message| Error::Results { path: file, message })?;
        Ok(cf)
    }
}

/// Whether `id` is a case id as the tool makes it: `C-` and 12 lower-case hex digits.
/// Only such ids become file names (`goaml/CASE_ID.xml`).
pub fn is_case_id(id: &str) -> bool {
    id.len() == 14 && id.starts_with("C-") && id[2..].bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Every case id as the tool makes it ([`is_case_id`]), none twice; else what is wrong,
/// naming the case.
pub(crate) fn check_case_ids(cases: &[Case]) -> std::result::Result<(), String> {
    let mut seen = std::collections::BTreeSet::new();
    for (i, c) in cases.iter().enumerate() {
        if !is_case_id(&c.case_id) {
            return Err(format!(
                "case {} of the file has id `{}`, not one `redflag screen` makes (`C-` and 12 hex digits); \
                 the file was edited or is not from redflag: screen again",
                i + 1,
                c.case_id.escape_debug()
            ));
        }
        if !seen.insert(c.case_id.as_str()) {
            return Err(format!(
                "case id `{}` is given twice (the second time as case {}); each case has its own id: \
                 screen again, or remove the duplicate",
                c.case_id,
                i + 1
            ));
        }
    }
    Ok(())
}

/// A value as pretty JSON with a final newline, as `manifest.json` is written.
pub(crate) fn json_bytes<T: Serialize>(name: &str, v: &T) -> Result<Vec<u8>> {
    let mut out = serde_json::to_vec_pretty(v).map_err(|e| Error::Results {
        path: PathBuf::from(name),
        message: format!("serialising the results: {e}"),
    })?;
    out.push(b'\n');
    Ok(out)
}

/// `cases.json`, written to `w` as it is serialised (the whole text is never in memory).
pub(crate) fn write_cases_json(cf: &CasesFile, w: &mut dyn Write) -> Result<()> {
    let io = |source| Error::Io {
        path: PathBuf::from("cases.json"),
        action: "writing",
        source,
    };
    let mut buf = std::io::BufWriter::with_capacity(1 << 20, w);
    serde_json::to_writer_pretty(&mut buf, cf).map_err(|e| io(e.into()))?;
    buf.write_all(b"\n").and_then(|_| buf.flush()).map_err(io)
}
