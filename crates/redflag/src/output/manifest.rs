//! `manifest.json`: what reproduces a run (pack, parameters, lists, inputs, rows, the
//! rules run, not applicable and partial, times), and building it from a run.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ingest::{Dataset, InputSummary};
use crate::model::{Case, Dropped, LimitNote, NotApplicable, ParamValue, RuleRun, SearchLimit};
use crate::pack::Pack;

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

/// A rule that ran in part: without some optional columns, or with some parts dropped
/// because they read columns the data lacks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Partial {
    /// The rule.
    pub rule_id: String,
    /// Optional columns the data lacks (read as empty).
    pub absent_columns: Vec<String>,
    /// The parts dropped, each with the columns that caused it (none: not written).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dropped: Vec<Dropped>,
}

impl Partial {
    /// One line on what the rule ran without: `any_of[1] (within 30d: n_countries >=
    /// $min_countries), measures.n_countries (count(DISTINCT counterparty_country))
    /// dropped, the data lacks counterparty_country; loc_region absent, read as empty`.
    pub fn summary(&self) -> String {
        let mut out = Vec::new();
        if !self.dropped.is_empty() {
            let parts: Vec<String> = self
                .dropped
                .iter()
                .map(|d| format!("{} ({})", d.part, d.text))
                .collect();
            let mut cols: Vec<&str> = self
                .dropped
                .iter()
                .flat_map(|d| d.missing_columns.iter().map(String::as_str))
                .collect();
            cols.sort_unstable();
            cols.dedup();
            out.push(format!(
                "dropped {}: the data lacks {}",
                parts.join(", "),
                cols.join(", ")
            ));
        }
        if !self.absent_columns.is_empty() {
            out.push(format!("{} absent, read as empty", self.absent_columns.join(", ")));
        }
        out.join("; ")
    }
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
    /// The score weights, when a weights file was given (`--weights`): path and sha256.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights: Option<(String, String)>,
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
    /// Rules whose search a limit on the work per account cut short somewhere.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub search_limits: Vec<SearchLimit>,
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
    /// The run was made in shards: how many, and how accounts were given their shard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sharding: Option<Sharding>,
    /// Account numbers and party names in the outputs are pseudonyms (`--redact`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub redacted: bool,
}

/// How a run in shards was split (docs/sharding.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sharding {
    /// The number of shards.
    pub shards: u32,
    /// How an account's shard is found.
    pub hash: String,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Manifest {
    /// Describes a run: its pack, parameters and lists, its inputs and rows, the rules
    /// run, not applicable and partial, its cases and alerts. `finished_at` is left
    /// empty and `redacted` off, for the caller to set.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        pack: &Pack,
        ds: &Dataset,
        run: &RuleRun,
        cases: &[Case],
        mapping: &str,
        fx: Option<(String, String)>,
        min_score: f64,
        started_at: String,
    ) -> Manifest {
        let rules_partial = partial_rules(pack, ds, run);
        Manifest {
            tool: "redflag".into(),
            tool_version: env!("CARGO_PKG_VERSION").into(),
            pack: PackInfo::of(pack),
            params: pack.params.clone(),
            rule_params: rule_params(pack),
            lists: list_infos(pack),
            mapping: mapping.to_string(),
            fx,
            weights: pack.weights.as_ref().map(|w| (w.source.clone(), w.sha256.clone())),
            inputs: ds.inputs.clone(),
            rows_read: ds.inputs.iter().map(|i| i.rows_read).sum(),
            rows_screened: ds.rows_screened(),
            rows_quarantined: ds.rows_quarantined(),
            rules_run: run.rules_run.clone(),
            rules_not_applicable: run.not_applicable.clone(),
            rules_partial,
            search_limits: run.search_limits.iter().map(LimitNote::search_limit).collect(),
            alerts_per_rule: run.alerts_per_rule.clone(),
            cases: cases.len(),
            alerts: cases.iter().map(|c| c.alerts.len()).sum(),
            min_score,
            started_at,
            finished_at: String::new(),
            sharding: None,
            redacted: false,
        }
    }
}

impl PackInfo {
    /// The pack's id, version, source, sha256 and base currency.
    fn of(pack: &Pack) -> PackInfo {
        PackInfo {
            id: pack.id.clone(),
            version: pack.version.clone(),
            source: pack.source.clone(),
            sha256: pack.sha256.clone(),
            base_currency: pack.base_currency.clone(),
        }
    }
}

/// What decides a pack's alerts and cases, as JSON text: the manifest's pack, parameters,
/// rule parameters, lists and weights, with the rules' ids and the watch lists bound.
pub(crate) fn pack_identity(pack: &Pack) -> String {
    let watch: Vec<(&String, String)> = pack
        .watch_lists
        .iter()
        .map(|(name, list)| (name, format!("{:?} {}", list.files, list.entries.len())))
        .collect();
    serde_json::json!({
        "pack": PackInfo::of(pack),
        "params": pack.params,
        "rule_params": rule_params(pack),
        "lists": list_infos(pack),
        "weights": pack.weights.as_ref().map(|w| (w.source.clone(), w.sha256.clone())),
        "rules": pack.rules.iter().map(|r| r.id()).collect::<Vec<_>>(),
        "watch_lists": watch,
    })
    .to_string()
}

/// Each rule's parameters that differ from the pack-wide ones or that the rule sets
/// itself, by rule id.
fn rule_params(pack: &Pack) -> BTreeMap<String, BTreeMap<String, ParamValue>> {
    pack.rules
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
        .collect()
}

/// The pack's lists: name, source, sha256 and how many values each holds.
fn list_infos(pack: &Pack) -> Vec<ListInfo> {
    pack.lists
        .values()
        .map(|l| ListInfo {
            name: l.name.clone(),
            source: l.source.clone(),
            sha256: l.sha256.clone(),
            values: l.values.len(),
        })
        .collect()
}

/// The rules that ran in part, in pack order: without some of their optional columns
/// (those the data lacks), or with parts dropped (the run's `degraded`).
fn partial_rules(pack: &Pack, ds: &Dataset, run: &RuleRun) -> Vec<Partial> {
    pack.rules
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
            let dropped: Vec<Dropped> = run
                .degraded
                .iter()
                .filter(|d| d.rule_id == r.id())
                .flat_map(|d| d.dropped.iter().cloned())
                .collect();
            (!absent.is_empty() || !dropped.is_empty()).then(|| Partial {
                rule_id: r.id().to_string(),
                absent_columns: absent,
                dropped,
            })
        })
        .collect()
}

/// The time now (UTC, RFC 3339, milliseconds), as the manifest's times are written.
pub fn now_utc() -> String {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    format!("{}Z", crate::util::format::timestamp(d))
}
