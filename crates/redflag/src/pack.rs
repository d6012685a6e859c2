//! Rule packs: loading, validation, parameters, lists and overrides.
//!
//! A pack is a YAML file (TOML accepted) as described in the README. Loading checks
//! everything at once and reports every problem with its file, line, column, rule id
//! and field, and the near name where a name is unknown.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{did_you_mean, suggestion, Error, Location, PackProblem, Result};
use crate::schema;

/// The default pack's source, built into the library with its lists.
const BUILTIN_PACK: &str = include_str!("../../../rules/fatf-core.yaml");
const BUILTIN_PACK_NAME: &str = "rules/fatf-core.yaml";
/// The default pack's lists, by path relative to the pack.
const BUILTIN_LISTS: &[(&str, &str)] = &[
    (
        "lists/lexicons/donation-ar.txt",
        include_str!("../../../rules/lists/lexicons/donation-ar.txt"),
    ),
    (
        "lists/lexicons/donation-en.txt",
        include_str!("../../../rules/lists/lexicons/donation-en.txt"),
    ),
    (
        "lists/lexicons/donation-kk.txt",
        include_str!("../../../rules/lists/lexicons/donation-kk.txt"),
    ),
    (
        "lists/lexicons/donation-ky.txt",
        include_str!("../../../rules/lists/lexicons/donation-ky.txt"),
    ),
    (
        "lists/lexicons/donation-ru.txt",
        include_str!("../../../rules/lists/lexicons/donation-ru.txt"),
    ),
    (
        "lists/lexicons/donation-tr.txt",
        include_str!("../../../rules/lists/lexicons/donation-tr.txt"),
    ),
    (
        "lists/lexicons/donation-uz.txt",
        include_str!("../../../rules/lists/lexicons/donation-uz.txt"),
    ),
    (
        "lists/lexicons/drg-ar.txt",
        include_str!("../../../rules/lists/lexicons/drg-ar.txt"),
    ),
    (
        "lists/lexicons/drg-en.txt",
        include_str!("../../../rules/lists/lexicons/drg-en.txt"),
    ),
    (
        "lists/lexicons/drg-kk.txt",
        include_str!("../../../rules/lists/lexicons/drg-kk.txt"),
    ),
    (
        "lists/lexicons/drg-ky.txt",
        include_str!("../../../rules/lists/lexicons/drg-ky.txt"),
    ),
    (
        "lists/lexicons/drg-ru.txt",
        include_str!("../../../rules/lists/lexicons/drg-ru.txt"),
    ),
    (
        "lists/lexicons/drg-tr.txt",
        include_str!("../../../rules/lists/lexicons/drg-tr.txt"),
    ),
    (
        "lists/lexicons/drg-uz.txt",
        include_str!("../../../rules/lists/lexicons/drg-uz.txt"),
    ),
    (
        "lists/lexicons/ht-ar.txt",
        include_str!("../../../rules/lists/lexicons/ht-ar.txt"),
    ),
    (
        "lists/lexicons/ht-en.txt",
        include_str!("../../../rules/lists/lexicons/ht-en.txt"),
    ),
    (
        "lists/lexicons/ht-kk.txt",
        include_str!("../../../rules/lists/lexicons/ht-kk.txt"),
    ),
    (
        "lists/lexicons/ht-ky.txt",
        include_str!("../../../rules/lists/lexicons/ht-ky.txt"),
    ),
    (
        "lists/lexicons/ht-ru.txt",
        include_str!("../../../rules/lists/lexicons/ht-ru.txt"),
    ),
    (
        "lists/lexicons/ht-tr.txt",
        include_str!("../../../rules/lists/lexicons/ht-tr.txt"),
    ),
    (
        "lists/lexicons/ht-uz.txt",
        include_str!("../../../rules/lists/lexicons/ht-uz.txt"),
    ),
    (
        "lists/lexicons/tf-ar.txt",
        include_str!("../../../rules/lists/lexicons/tf-ar.txt"),
    ),
    (
        "lists/lexicons/tf-en.txt",
        include_str!("../../../rules/lists/lexicons/tf-en.txt"),
    ),
    (
        "lists/lexicons/tf-kk.txt",
        include_str!("../../../rules/lists/lexicons/tf-kk.txt"),
    ),
    (
        "lists/lexicons/tf-ky.txt",
        include_str!("../../../rules/lists/lexicons/tf-ky.txt"),
    ),
    (
        "lists/lexicons/tf-ru.txt",
        include_str!("../../../rules/lists/lexicons/tf-ru.txt"),
    ),
    (
        "lists/lexicons/tf-tr.txt",
        include_str!("../../../rules/lists/lexicons/tf-tr.txt"),
    ),
    (
        "lists/lexicons/tf-uz.txt",
        include_str!("../../../rules/lists/lexicons/tf-uz.txt"),
    ),
    (
        "lists/northern-route.txt",
        include_str!("../../../rules/lists/northern-route.txt"),
    ),
    (
        "lists/low-income-occupations.txt",
        include_str!("../../../rules/lists/low-income-occupations.txt"),
    ),
    (
        "lists/fatf-call-for-action.txt",
        include_str!("../../../rules/lists/fatf-call-for-action.txt"),
    ),
    (
        "lists/fatf-increased-monitoring.txt",
        include_str!("../../../rules/lists/fatf-increased-monitoring.txt"),
    ),
    (
        "lists/conflict-zones.txt",
        include_str!("../../../rules/lists/conflict-zones.txt"),
    ),
    (
        "lists/conflict-border-regions.txt",
        include_str!("../../../rules/lists/conflict-border-regions.txt"),
    ),
    (
        "lists/unknown-country-codes.txt",
        include_str!("../../../rules/lists/unknown-country-codes.txt"),
    ),
    (
        "lists/cash-intensive-customer-types.txt",
        include_str!("../../../rules/lists/cash-intensive-customer-types.txt"),
    ),
    (
        "lists/placeholder-names.txt",
        include_str!("../../../rules/lists/placeholder-names.txt"),
    ),
    (
        "lists/embargoed.txt",
        include_str!("../../../rules/lists/embargoed.txt"),
    ),
];

/// How serious a rule's finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Weighs a case; not worth a look alone.
    Low,
    /// Worth a look.
    Medium,
    /// Look soon.
    High,
    /// Look first.
    Critical,
}

impl Severity {
    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// Which side of a transaction a rule screens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SideSel {
    /// The receiving account.
    In,
    /// The paying account.
    Out,
    /// Both, each side on its own account.
    #[default]
    Both,
}

impl SideSel {
    /// The sides this selection covers.
    pub fn sides(self) -> &'static [Side] {
        match self {
            SideSel::In => &[Side::In],
            SideSel::Out => &[Side::Out],
            SideSel::Both => &[Side::Out, Side::In],
        }
    }

    /// `in`, `out` or `both`.
    pub fn as_str(self) -> &'static str {
        match self {
            SideSel::In => "in",
            SideSel::Out => "out",
            SideSel::Both => "both",
        }
    }
}

/// One side of a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// The receiving account (`bene_account`).
    In,
    /// The paying account (`orig_account`).
    Out,
}

impl Side {
    /// `in` or `out`.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::In => "in",
            Side::Out => "out",
        }
    }
}

/// A parameter value: a number, a string or a boolean.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ParamValue {
    /// A number.
    Number(f64),
    /// A boolean.
    Bool(bool),
    /// A string.
    Text(String),
}

impl ParamValue {
    /// Parses a command-line value: a number when it reads as one, `true`/`false`, else text.
    pub fn parse(s: &str) -> ParamValue {
        if let Ok(n) = s.trim().replace('_', "").parse::<f64>() {
            if n.is_finite() {
                return ParamValue::Number(n);
            }
        }
        match s.trim() {
            "true" => ParamValue::Bool(true),
            "false" => ParamValue::Bool(false),
            other => ParamValue::Text(other.to_string()),
        }
    }

    /// The value as a SQL literal.
    pub fn to_sql(&self) -> String {
        match self {
            ParamValue::Number(n) => format_sql_number(*n),
            ParamValue::Bool(b) => b.to_string().to_uppercase(),
            ParamValue::Text(s) => format!("'{}'", s.replace('\'', "''")),
        }
    }

    /// The value as an analyst reads it in an explanation.
    pub fn display(&self) -> String {
        match self {
            ParamValue::Number(n) => crate::format::number(*n),
            ParamValue::Bool(b) => b.to_string(),
            ParamValue::Text(s) => s.clone(),
        }
    }
}

fn format_sql_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// A trailing time window, such as `7d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Window {
    /// Length in milliseconds.
    pub ms: i64,
}

impl Window {
    /// Parses `30s`, `15m`, `24h`, `7d`, `2w`.
    pub fn parse(s: &str) -> std::result::Result<Window, String> {
        let t = s.trim();
        let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        let n: i64 = num
            .parse()
            .map_err(|_| format!("bad window `{s}`: write a whole number and a unit, such as 30m, 24h, 7d or 2w"))?;
        let unit_ms = match unit.trim() {
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "w" => 7 * 86_400_000,
            other => {
                return Err(format!(
                    "bad window `{s}`: unknown unit `{other}`; use s (seconds), m (minutes), h (hours), d (days) or w (weeks), such as 7d"
                ))
            }
        };
        if n <= 0 {
            return Err(format!("bad window `{s}`: it must be longer than zero"));
        }
        Ok(Window { ms: n * unit_ms })
    }
}

impl std::fmt::Display for Window {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ms = self.ms;
        for (unit, len, word) in [
            ("d", 86_400_000, "day"),
            ("h", 3_600_000, "hour"),
            ("m", 60_000, "minute"),
            ("s", 1_000, "second"),
        ] {
            if ms % len == 0 {
                let n = ms / len;
                let _ = unit;
                return write!(f, "{n} {word}{}", if n == 1 { "" } else { "s" });
            }
        }
        write!(f, "{ms} ms")
    }
}

/// One alternative of an aggregate rule: a window and a condition over the measures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowAlt {
    /// The trailing window.
    pub window: String,
    /// The condition over the measures.
    pub having: String,
}

/// A rule as written in the pack. Kind-specific fields are checked against the kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleDef {
    /// Stable id, such as `STR-01`; never reused.
    pub id: String,
    /// One line.
    pub title: String,
    /// `filter` or `aggregate`.
    pub kind: String,
    /// Typology tags.
    #[serde(default)]
    pub typologies: Vec<String>,
    /// `low`, `medium`, `high`, `critical`.
    pub severity: Severity,
    /// Sources.
    #[serde(default)]
    pub references: Vec<String>,
    /// The pattern in plain language and its usual false positives.
    #[serde(default)]
    pub description: String,
    /// The explanation template.
    #[serde(default)]
    pub explain: String,
    /// Rule-level parameters (override the pack's).
    #[serde(default)]
    pub params: BTreeMap<String, ParamValue>,
    /// Old ids of this rule.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Which side to screen.
    #[serde(default)]
    pub side: Option<SideSel>,
    /// The row condition.
    #[serde(default, rename = "where")]
    pub where_: Option<String>,
    /// Aggregate: the trailing window.
    #[serde(default)]
    pub window: Option<String>,
    /// Aggregate: named measures.
    #[serde(default)]
    pub measures: BTreeMap<String, String>,
    /// Aggregate: the condition over the measures.
    #[serde(default)]
    pub having: Option<String>,
    /// Aggregate: alternatives (window, having), any of which fires.
    #[serde(default)]
    pub any_of: Vec<WindowAlt>,
    /// Aggregate: grouping columns (default: the account).
    #[serde(default)]
    pub group_by: Vec<String>,
    /// Columns the rule may run without: when the data lacks one, it reads as empty
    /// (NULL) and the manifest says so; any other column it reads makes it not applicable.
    #[serde(default)]
    pub optional_columns: Vec<String>,
    /// Sequence: the first event.
    #[serde(default)]
    pub first: Option<EventDef>,
    /// Sequence: the events that follow it.
    #[serde(default)]
    pub then: Option<EventDef>,
    /// Sequence: how long after the first event the others may come.
    #[serde(default)]
    pub within: Option<String>,
    /// Sequence: the relation between the first event and what follows.
    #[serde(default, rename = "match")]
    pub match_: Option<String>,
    /// Sequence: the account's activity before the first event, as context.
    #[serde(default)]
    pub prior: Option<EventDef>,
    /// Sequence: the pattern must repeat: a window over the sequences, measures over
    /// their first events, and a condition.
    #[serde(default)]
    pub repeat: Option<RepeatDef>,
    /// Baseline: the measure compared with the account's history (an SQL aggregate).
    #[serde(default)]
    pub measure: Option<String>,
    /// Baseline: how far back the history reaches.
    #[serde(default)]
    pub history: Option<String>,
    /// Baseline: how long an account must have existed before it is compared.
    #[serde(default)]
    pub min_history: Option<String>,
    /// Baseline: the condition over the period's measure and its history.
    #[serde(default)]
    pub threshold: Option<String>,
    /// Baseline: the silence after which activity is a reactivation.
    #[serde(default)]
    pub dormant_for: Option<String>,
    /// Baseline: the column that forms peer groups.
    #[serde(default)]
    pub peer_by: Option<String>,
    /// Network: the pattern, or a list of patterns.
    #[serde(default)]
    pub pattern: Option<crate::kinds::network::PatternField>,
    /// Network: the most hops of a cycle or a branch.
    #[serde(default)]
    pub max_hops: Option<NumField>,
    /// Network: the fewest hops of a cycle or a branch.
    #[serde(default)]
    pub min_hops: Option<NumField>,
    /// Network: how far each hop's amount may be from the previous one's, as a ratio.
    #[serde(default)]
    pub amount_tolerance: Option<NumField>,
    /// Network: the fewest distinct branches of a fan or a scatter.
    #[serde(default)]
    pub min_branches: Option<NumField>,
    /// Screen only the transactions in alerts of these rules (ids; `STR-*` matches a
    /// prefix), on the same accounts: the rule adds weight to what others found.
    #[serde(default)]
    pub on_alerts_of: Vec<String>,
    /// Watchlist: the name the watch list is bound under (`--list NAME=PATH`).
    #[serde(default)]
    pub list: Option<String>,
    /// Watchlist: the party name columns screened (`orig_name`, `bene_name`).
    #[serde(default)]
    pub fields: Vec<String>,
    /// Watchlist: the score a match needs, a number or `$parameter`.
    #[serde(default)]
    pub min_score: Option<serde_yaml::Value>,
}

/// A number in a rule's own field: written out, or a `$param` of the pack or the rule.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum NumField {
    /// A number.
    Value(f64),
    /// `$name`: a parameter.
    Param(String),
}

impl Serialize for NumField {
    /// As written: a whole number without a decimal point, a parameter as `$name`.
    fn serialize<S: serde::Serializer>(&self, ser: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            NumField::Value(v) if v.fract() == 0.0 && v.abs() < 9.0e15 => ser.serialize_i64(*v as i64),
            NumField::Value(v) => ser.serialize_f64(*v),
            NumField::Param(p) => ser.serialize_str(p),
        }
    }
}

impl NumField {
    /// The number, the parameter looked up.
    pub fn resolve(&self, params: &BTreeMap<String, ParamValue>) -> std::result::Result<f64, String> {
        match self {
            NumField::Value(v) => Ok(*v),
            NumField::Param(p) => {
                let name = p
                    .trim()
                    .strip_prefix('$')
                    .ok_or_else(|| format!("`{p}` is neither a number nor a parameter (write a number, or `$name`)"))?;
                match params.get(name) {
                    Some(ParamValue::Number(v)) => Ok(*v),
                    Some(other) => Err(format!("parameter `${name}` is `{}`, not a number", other.display())),
                    None => Err(format!(
                        "unknown parameter `${name}`{}; define it under `params:` of the pack or of the rule",
                        suggestion(name, params.keys().map(String::as_str))
                    )),
                }
            }
        }
    }
}

/// A sequence rule's `repeat`: a trailing window over the sequences' first events,
/// optional measures over those events, and the condition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepeatDef {
    /// The trailing window.
    pub window: String,
    /// SQL aggregates over the first events of the sequences in the window.
    #[serde(default)]
    pub measures: BTreeMap<String, String>,
    /// The condition.
    pub having: String,
}

/// An event of a sequence rule: a condition on one side, optionally over a window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventDef {
    /// The side the event is on (default: the rule's).
    #[serde(default)]
    pub side: Option<SideSel>,
    /// The row condition.
    #[serde(default, rename = "where")]
    pub where_: Option<String>,
    /// `first` as an episode, or `prior`: the trailing window.
    #[serde(default)]
    pub window: Option<String>,
    /// `first` as an episode: named measures over its window.
    #[serde(default)]
    pub measures: BTreeMap<String, String>,
    /// `first` as an episode: the condition over its measures.
    #[serde(default)]
    pub having: Option<String>,
}

const RULE_FIELDS: &[&str] = &[
    "id",
    "title",
    "kind",
    "typologies",
    "severity",
    "references",
    "description",
    "explain",
    "params",
    "aliases",
    "side",
    "where",
    "window",
    "measures",
    "having",
    "any_of",
    "group_by",
    "optional_columns",
    "first",
    "then",
    "within",
    "match",
    "prior",
    "repeat",
    "measure",
    "history",
    "min_history",
    "threshold",
    "dormant_for",
    "peer_by",
    "pattern",
    "max_hops",
    "min_hops",
    "amount_tolerance",
    "min_branches",
    "on_alerts_of",
];

/// Fields every rule may have, whatever its kind.
const COMMON_FIELDS: &[&str] = &[
    "id",
    "title",
    "kind",
    "typologies",
    "severity",
    "references",
    "description",
    "explain",
    "params",
    "aliases",
    "optional_columns",
    "on_alerts_of",
];

/// The typology tags a rule may carry.
pub const TYPOLOGIES: &[&str] = &[
    "money-laundering",
    "terrorist-financing",
    "drug-trafficking",
    "human-trafficking",
    "migrant-smuggling",
    "sanctions",
    "fraud-mule",
    "trade-based-ml",
    "virtual-assets",
];

/// A rule kind with its checked content.
#[derive(Debug, Clone, PartialEq)]
pub enum RuleKind {
    /// Single transactions.
    Filter,
    /// Per account over trailing windows.
    Aggregate(AggregateSpec),
    /// An event, then others on the same account within a time.
    Sequence(crate::kinds::sequence::SequenceSpec),
    /// Against the account's own history, its peers, or a dormancy.
    Baseline(crate::kinds::baseline::BaselineSpec),
    /// Time-respecting patterns over the transfer graph.
    Network(crate::kinds::network::NetworkSpec),
    /// Party names against a sanctions or watch list.
    Watchlist(crate::kinds::watchlist::WatchlistSpec),
}

impl RuleKind {
    /// The kind's name.
    pub fn name(&self) -> &'static str {
        match self {
            RuleKind::Filter => "filter",
            RuleKind::Aggregate(_) => "aggregate",
            RuleKind::Sequence(_) => "sequence",
            RuleKind::Baseline(_) => "baseline",
            RuleKind::Network(_) => "network",
            RuleKind::Watchlist(_) => "watchlist",
        }
    }
}

/// The checked content of an aggregate rule, parameters and lists substituted.
#[derive(Debug, Clone, PartialEq)]
pub struct AggregateSpec {
    /// Named measures (SQL aggregates), in name order.
    pub measures: Vec<(String, String)>,
    /// The alternatives: window and condition.
    pub alternatives: Vec<(Window, String)>,
    /// Extra grouping columns beside the account.
    pub group_by: Vec<String>,
}

/// A checked rule, ready to run: parameters and lists are substituted in its SQL.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// The rule as written.
    pub def: RuleDef,
    /// Sides screened.
    pub side: SideSel,
    /// The row condition with parameters and lists substituted (`None`: every row).
    pub where_sql: Option<String>,
    /// Kind-specific content.
    pub kind: RuleKind,
    /// The row conditions the kind evaluates (slot = position).
    pub conditions: Vec<crate::kinds::Condition>,
    /// Parameters in force (pack's, then rule's, then overrides).
    pub params: BTreeMap<String, ParamValue>,
    /// Columns the rule reads (canonical or side-view names).
    pub columns: BTreeSet<String>,
    /// Lists the rule reads.
    pub lists: BTreeSet<String>,
}

impl Rule {
    /// The rule id.
    pub fn id(&self) -> &str {
        &self.def.id
    }
}

/// A named reference list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RefList {
    /// Its name in the pack.
    pub name: String,
    /// Where it came from (`builtin:lists/x.txt` for the built-in pack).
    pub source: String,
    /// sha256 of its bytes.
    pub sha256: String,
    /// Its values, in file order, without duplicates.
    pub values: Vec<String>,
}

impl RefList {
    /// Parses a list: one value a line, `#` comment lines and blank lines skipped; a value
    /// may be followed by a note after ` #` (a space and a hash).
    pub fn parse(name: &str, source: &str, text: &str) -> RefList {
        let mut seen = BTreeSet::new();
        let values = text
            .lines()
            .map(|l| l.split(" #").next().unwrap_or("").trim())
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .filter(|l| seen.insert(l.to_string()))
            .map(str::to_string)
            .collect();
        RefList {
            name: name.to_string(),
            source: source.to_string(),
            sha256: sha256_hex(text.as_bytes()),
            values,
        }
    }

    /// Reads a list file.
    pub fn load(name: &str, path: &Path) -> Result<RefList> {
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            action: "reading the list",
            source,
        })?;
        let text = String::from_utf8(bytes).map_err(|e| Error::List {
            name: name.to_string(),
            path: path.to_path_buf(),
            message: format!(
                "not UTF-8 text (first bad byte at offset {}); save the list as UTF-8, one value a line",
                e.utf8_error().valid_up_to()
            ),
        })?;
        Ok(RefList::parse(name, &path.display().to_string(), &text))
    }
}

/// A parameter override: `NAME=VALUE` (pack-wide) or `RULE.NAME=VALUE` (one rule).
#[derive(Debug, Clone, PartialEq)]
pub struct ParamOverride {
    /// The rule id, for a rule-level override.
    pub rule: Option<String>,
    /// The parameter.
    pub name: String,
    /// The value.
    pub value: ParamValue,
}

impl std::str::FromStr for ParamOverride {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let (key, value) = s.split_once('=').ok_or_else(|| Error::Override {
            what: "--set",
            value: s.to_string(),
            message: "write NAME=VALUE or RULE.NAME=VALUE, such as reporting_threshold=15000".into(),
        })?;
        let key = key.trim();
        // Rule ids contain dashes and digits, parameter names do not contain dots.
        let (rule, name) = match key.rsplit_once('.') {
            Some((r, n)) => (Some(r.to_string()), n.to_string()),
            None => (None, key.to_string()),
        };
        if name.is_empty() {
            return Err(Error::Override {
                what: "--set",
                value: s.to_string(),
                message: "the parameter name is empty".into(),
            });
        }
        Ok(ParamOverride {
            rule,
            name,
            value: ParamValue::parse(value),
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PackFile {
    pack: String,
    version: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default = "default_base")]
    base_currency: String,
    #[serde(default)]
    params: BTreeMap<String, ParamValue>,
    #[serde(default)]
    lists: BTreeMap<String, ListSource>,
    #[serde(default)]
    rules: Vec<serde_yaml::Value>,
}

/// A list's file, or several files read as one list (such as a lexicon in several
/// languages).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum ListSource {
    One(String),
    Many(Vec<String>),
}

impl ListSource {
    fn paths(&self) -> Vec<&str> {
        match self {
            ListSource::One(p) => vec![p.as_str()],
            ListSource::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

fn default_base() -> String {
    "USD".into()
}

/// A checked rule pack.
#[derive(Debug, Clone)]
pub struct Pack {
    /// The pack id.
    pub id: String,
    /// Its version.
    pub version: String,
    /// One line.
    pub title: String,
    /// Longer text.
    pub description: String,
    /// The currency of `amount_base`.
    pub base_currency: String,
    /// Where it came from (a path, or `builtin:rules/fatf-core.yaml`).
    pub source: String,
    /// sha256 of the pack file's bytes.
    pub sha256: String,
    /// Pack-wide parameters in force.
    pub params: BTreeMap<String, ParamValue>,
    /// Lists, by name.
    pub lists: BTreeMap<String, RefList>,
    /// The rules, in pack order.
    pub rules: Vec<Rule>,
    /// Watch lists bound for `watchlist` rules, by name (`--list NAME=PATH` with a UN
    /// XML, OpenSanctions or plain watch-list CSV file).
    pub watch_lists: BTreeMap<String, std::sync::Arc<crate::watchlist::WatchList>>,
    /// The source text, for locating problems.
    text: String,
    file: PathBuf,
    is_toml: bool,
}

impl Pack {
    /// The default pack that ships with redflag, with its lists.
    pub fn builtin() -> Result<Pack> {
        let lists = BUILTIN_LISTS
            .iter()
            .map(|(p, t)| (p.to_string(), t.to_string()))
            .collect::<BTreeMap<_, _>>();
        Pack::parse(
            BUILTIN_PACK,
            Path::new(BUILTIN_PACK_NAME),
            &format!("builtin:{BUILTIN_PACK_NAME}"),
            false,
            |rel| {
                lists
                    .get(rel)
                    .cloned()
                    .ok_or_else(|| format!("no built-in list file `{rel}`"))
            },
        )
    }

    /// Loads a pack file (`.yaml`, `.yml` or `.toml`); lists are read relative to it.
    pub fn load(path: impl AsRef<Path>) -> Result<Pack> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            action: "reading the rule pack",
            source,
        })?;
        let text = String::from_utf8(bytes).map_err(|e| Error::Pack {
            file: path.to_path_buf(),
            problems: vec![PackProblem {
                location: Location {
                    file: path.to_path_buf(),
                    ..Default::default()
                },
                rule_id: None,
                field: String::new(),
                message: format!(
                    "not UTF-8 text (first bad byte at offset {}); save the pack as UTF-8",
                    e.utf8_error().valid_up_to()
                ),
            }],
        })?;
        let is_toml = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("toml"));
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Pack::parse(&text, path, &path.display().to_string(), is_toml, |rel| {
            let p = dir.join(rel);
            std::fs::read_to_string(&p).map_err(|e| format!("cannot read `{}`: {e}", p.display()))
        })
    }

    /// Parses a pack from text. `read_list` reads a list file by its path relative to the pack.
    pub fn parse(
        text: &str,
        file: &Path,
        source: &str,
        is_toml: bool,
        read_list: impl Fn(&str) -> std::result::Result<String, String>,
    ) -> Result<Pack> {
        let loc = |line: usize, column: usize| Location {
            file: file.to_path_buf(),
            line,
            column,
        };
        let fail = |problems: Vec<PackProblem>| Error::Pack {
            file: file.to_path_buf(),
            problems,
        };
        if text.trim().is_empty() {
            return Err(fail(vec![PackProblem {
                location: loc(0, 0),
                rule_id: None,
                field: String::new(),
                message: "the pack is empty; a pack needs `pack`, `version` and `rules`".into(),
            }]));
        }
        let parsed: std::result::Result<PackFile, (Location, String)> = if is_toml {
            toml::from_str::<PackFile>(text).map_err(|e| {
                let (line, col) = e.span().map(|s| line_col(text, s.start)).unwrap_or((0, 0));
                (loc(line, col), improve_serde_message(e.message(), PACK_FIELDS))
            })
        } else {
            serde_yaml::from_str::<PackFile>(text).map_err(|e| {
                let (line, col) = e.location().map(|l| (l.line(), l.column())).unwrap_or((0, 0));
                let msg = e.to_string();
                // serde_yaml appends " at line L column C"; the location says it already.
                let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
                (loc(line, col), improve_serde_message(&msg, PACK_FIELDS))
            })
        };
        let pf = parsed.map_err(|(location, message)| {
            fail(vec![PackProblem {
                location,
                rule_id: None,
                field: String::new(),
                message,
            }])
        })?;

        let mut problems = Vec::new();
        let mut lists = BTreeMap::new();
        for (name, src) in &pf.lists {
            let mut texts = Vec::new();
            for rel in src.paths() {
                match read_list(rel) {
                    Ok(t) => texts.push(t),
                    Err(msg) => problems.push(PackProblem {
                        location: locate_key(text, None, name, is_toml, file),
                        rule_id: None,
                        field: format!("lists.{name}"),
                        message: format!("{msg}; list paths are relative to the pack file"),
                    }),
                }
            }
            if texts.len() == src.paths().len() {
                let source = src.paths().join(", ");
                lists.insert(name.clone(), RefList::parse(name, &source, &texts.join("\n")));
            }
        }
        let mut defs = Vec::new();
        for (i, v) in pf.rules.iter().enumerate() {
            let id_guess = v.get("id").and_then(|x| x.as_str()).map(str::to_string);
            match serde_yaml::from_value::<RuleDef>(v.clone()) {
                Ok(d) => defs.push(d),
                Err(e) => {
                    let msg = improve_serde_message(&e.to_string(), RULE_FIELDS);
                    let field = unknown_field_in(&e.to_string()).unwrap_or_default();
                    let location = match &id_guess {
                        Some(id) if !field.is_empty() => locate_key(text, Some(id), &field, is_toml, file),
                        Some(id) => locate_key(text, Some(id), "id", is_toml, file),
                        None => loc(0, 0),
                    };
                    problems.push(PackProblem {
                        location,
                        rule_id: id_guess.clone(),
                        field: if field.is_empty() {
                            format!("rules[{i}]")
                        } else {
                            format!("rules[{i}].{field}")
                        },
                        message: msg,
                    });
                }
            }
        }
        let mut pack = Pack {
            id: pf.pack,
            version: pf.version,
            title: pf.title,
            description: pf.description,
            base_currency: pf.base_currency,
            source: source.to_string(),
            sha256: sha256_hex(text.as_bytes()),
            params: pf.params,
            lists,
            rules: Vec::new(),
            watch_lists: BTreeMap::new(),
            text: text.to_string(),
            file: file.to_path_buf(),
            is_toml,
        };
        let (rules, more) = pack.check_rules(&defs, &[]);
        problems.extend(more);
        if !problems.is_empty() {
            return Err(fail(problems));
        }
        pack.rules = rules;
        Ok(pack)
    }

    /// Applies `--set` overrides and `--list` bindings and checks the pack again.
    pub fn with_overrides(&self, sets: &[ParamOverride], lists: &[(String, PathBuf)]) -> Result<Pack> {
        let mut pack = self.clone();
        for (name, path) in lists {
            // A watch list (UN XML, OpenSanctions or plain watch-list CSV) is told by its
            // content; anything else is a reference list, one value a line.
            let bytes = std::fs::read(path).map_err(|source| Error::Io {
                path: path.clone(),
                action: "reading the list",
                source,
            })?;
            let for_watchlist_rule = self
                .rules
                .iter()
                .any(|r| matches!(&r.kind, RuleKind::Watchlist(spec) if spec.list == *name));
            let looks_like_watch_list = matches!(
                crate::watchlist::detect(&bytes),
                crate::watchlist::Detected::WatchList(_) | crate::watchlist::Detected::OtherXml
            );
            if for_watchlist_rule || looks_like_watch_list {
                let wl = crate::watchlist::WatchList::parse(&bytes, path)?;
                pack.bind_watch_list(name, wl, &path.display().to_string());
            } else {
                let l = RefList::load(name, path)?;
                pack.lists.insert(name.clone(), l);
            }
        }
        let ids: Vec<&str> = self.rules.iter().map(|r| r.id()).collect();
        for s in sets {
            if let Some(r) = &s.rule {
                let rule = self.rule(r).ok_or_else(|| Error::Override {
                    what: "--set",
                    value: format!("{r}.{}", s.name),
                    message: format!(
                        "no rule `{r}` in pack {}{}",
                        self.id,
                        suggestion(r, ids.iter().copied())
                    ),
                })?;
                if !rule.params.contains_key(&s.name) {
                    return Err(Error::Override {
                        what: "--set",
                        value: format!("{r}.{}", s.name),
                        message: format!(
                            "rule {} has no parameter `{}`{}; its parameters: {}",
                            rule.id(),
                            s.name,
                            suggestion(&s.name, rule.params.keys().map(String::as_str)),
                            rule.params.keys().cloned().collect::<Vec<_>>().join(", ")
                        ),
                    });
                }
            } else if !self.params.contains_key(&s.name) {
                let rule_level: Vec<&str> = self
                    .rules
                    .iter()
                    .filter(|r| r.def.params.contains_key(&s.name))
                    .map(|r| r.id())
                    .collect();
                let hint = if rule_level.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; it is a rule parameter of {}: write RULE.{}=VALUE",
                        rule_level.join(", "),
                        s.name
                    )
                };
                return Err(Error::Override {
                    what: "--set",
                    value: s.name.clone(),
                    message: format!(
                        "pack {} has no parameter `{}`{}{hint}; its parameters: {}",
                        self.id,
                        s.name,
                        suggestion(&s.name, self.params.keys().map(String::as_str)),
                        self.params.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                });
            }
        }
        for s in sets.iter().filter(|s| s.rule.is_none()) {
            pack.params.insert(s.name.clone(), s.value.clone());
        }
        let defs: Vec<RuleDef> = self.rules.iter().map(|r| r.def.clone()).collect();
        let (rules, problems) = pack.check_rules(&defs, sets);
        if !problems.is_empty() {
            return Err(Error::Pack {
                file: pack.file.clone(),
                problems,
            });
        }
        pack.rules = rules;
        pack.bind_watch_lists();
        Ok(pack)
    }

    /// Binds a watch list under a name for the `watchlist` rules that read it (the API's
    /// `--list NAME=PATH`).
    pub fn with_watch_list(&self, name: &str, list: crate::watchlist::WatchList) -> Pack {
        let mut pack = self.clone();
        let source = list
            .files
            .first()
            .map(|f| f.path.display().to_string())
            .unwrap_or_else(|| "api".into());
        pack.bind_watch_list(name, list, &source);
        pack.bind_watch_lists();
        pack
    }

    fn bind_watch_list(&mut self, name: &str, list: crate::watchlist::WatchList, source: &str) {
        // Recorded with the reference lists, so that the manifest names it with its sha256.
        let sha = if list.files.len() == 1 {
            list.files[0].sha256.clone()
        } else {
            sha256_hex(
                list.files
                    .iter()
                    .map(|f| f.sha256.as_str())
                    .collect::<Vec<_>>()
                    .join("\n")
                    .as_bytes(),
            )
        };
        self.lists.insert(
            name.to_string(),
            RefList {
                name: name.to_string(),
                source: source.to_string(),
                sha256: sha,
                values: Vec::new(),
            },
        );
        self.watch_lists.insert(name.to_string(), std::sync::Arc::new(list));
    }

    fn bind_watch_lists(&mut self) {
        for r in &mut self.rules {
            if let RuleKind::Watchlist(spec) = &mut r.kind {
                spec.bound = self.watch_lists.get(&spec.list).cloned();
            }
        }
    }

    /// Keeps only the rules named (ids or aliases). A rule that screens other rules' alerts
    /// (`on_alerts_of`) keeps those rules too.
    pub fn only(&self, ids: &[String]) -> Result<Pack> {
        let mut pack = self.clone();
        let mut keep = BTreeSet::new();
        for id in ids {
            let r = self.rule(id).ok_or_else(|| Error::Override {
                what: "--only",
                value: id.clone(),
                message: format!(
                    "no rule `{id}` in pack {}{}",
                    self.id,
                    suggestion(id, self.rules.iter().map(|r| r.id()))
                ),
            })?;
            keep.insert(r.id().to_string());
            // A rule that screens other rules' alerts brings them along: it has nothing
            // to screen without them.
            for other in &self.rules {
                if matches_any(other.id(), &r.def.on_alerts_of) && other.id() != r.id() {
                    keep.insert(other.id().to_string());
                }
            }
        }
        pack.rules.retain(|r| keep.contains(r.id()));
        Ok(pack)
    }

    /// A rule by id or alias.
    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules
            .iter()
            .find(|r| r.def.id.eq_ignore_ascii_case(id))
            .or_else(|| {
                self.rules
                    .iter()
                    .find(|r| r.def.aliases.iter().any(|a| a.eq_ignore_ascii_case(id)))
            })
    }

    /// The location of a rule field in the pack file.
    pub fn locate(&self, rule_id: Option<&str>, field: &str) -> Location {
        locate_key(&self.text, rule_id, field, self.is_toml, &self.file)
    }

    fn check_rules(&self, defs: &[RuleDef], sets: &[ParamOverride]) -> (Vec<Rule>, Vec<PackProblem>) {
        let mut problems = Vec::new();
        let mut rules = Vec::new();
        let mut seen_ids: BTreeMap<String, usize> = BTreeMap::new();
        for (i, d) in defs.iter().enumerate() {
            let mut p = |field: &str, message: String| {
                problems.push(PackProblem {
                    location: self.locate(Some(&d.id), field.split(['.', '[']).next().unwrap_or(field)),
                    rule_id: Some(d.id.clone()),
                    field: format!("rules[{i}].{field}"),
                    message,
                })
            };
            for name in std::iter::once(&d.id).chain(d.aliases.iter()) {
                if let Some(prev) = seen_ids.insert(name.to_uppercase(), i) {
                    p(
                        "id",
                        format!("id `{name}` is already used by rules[{prev}]; ids are never reused"),
                    );
                }
            }
            if d.id.trim().is_empty() {
                p("id", "the id is empty".into());
            }
            if d.title.trim().is_empty() {
                p("title", "the title is empty".into());
            }
            for t in &d.typologies {
                if !TYPOLOGIES.contains(&t.as_str()) {
                    p(
                        "typologies",
                        format!(
                            "unknown typology `{t}`{}; known: {}",
                            suggestion(t, TYPOLOGIES.iter().copied()),
                            TYPOLOGIES.join(", ")
                        ),
                    );
                }
            }
            for c in &d.optional_columns {
                if !schema::is_known_column(c) {
                    p(
                        "optional_columns",
                        format!("unknown column `{c}`{}", suggestion(c, schema::all_columns())),
                    );
                }
            }
            // Parameters in force: pack, rule, rule overrides.
            let mut params = self.params.clone();
            params.extend(d.params.clone());
            for s in sets {
                if let Some(r) = &s.rule {
                    let matches = d.id.eq_ignore_ascii_case(r) || d.aliases.iter().any(|a| a.eq_ignore_ascii_case(r));
                    if matches {
                        params.insert(s.name.clone(), s.value.clone());
                    }
                }
            }
            let kind_name = d.kind.as_str();
            let mut cx = crate::kinds::Checker::new(&params, &self.lists);
            let Some(kind) = crate::kinds::check(d, &mut cx) else {
                let known: Vec<&str> = crate::kinds::names().collect();
                let msg = if crate::kinds::PLANNED_KINDS.contains(&kind_name) {
                    format!(
                        "kind `{kind_name}` is not available in this version; available kinds: {}",
                        known.join(", ")
                    )
                } else {
                    format!(
                        "unknown kind `{kind_name}`{}; available kinds: {}",
                        suggestion(
                            kind_name,
                            known.iter().copied().chain(crate::kinds::PLANNED_KINDS.iter().copied())
                        ),
                        known.join(", ")
                    )
                };
                p("kind", msg);
                continue;
            };
            // Fields the kind does not own.
            let owned = crate::kinds::KINDS
                .iter()
                .find(|(k, _)| *k == kind_name)
                .map(|(_, f)| *f)
                .unwrap_or(&[]);
            for f in set_fields(d) {
                if !COMMON_FIELDS.contains(&f) && !owned.contains(&f) {
                    let owners: Vec<&str> = crate::kinds::KINDS
                        .iter()
                        .filter(|(_, fs)| fs.contains(&f))
                        .map(|(k, _)| *k)
                        .collect();
                    p(
                        f,
                        format!(
                            "field `{f}` is not used by kind `{kind_name}`; remove it{}",
                            if owners.is_empty() {
                                String::new()
                            } else {
                                format!(" or use kind `{}`", owners.join("` or `"))
                            }
                        ),
                    );
                }
            }
            // Explanation placeholders.
            let mut known: Vec<String> = params.keys().cloned().collect();
            known.extend(["window", "account", "side", "rule_id"].map(String::from));
            known.extend(cx.placeholders.iter().cloned());
            for ph in placeholders(&d.explain) {
                if !known.iter().any(|k| k == &ph) {
                    p(
                        "explain",
                        format!(
                            "unknown placeholder `{{{ph}}}`{}",
                            suggestion(&ph, known.iter().map(String::as_str))
                        ),
                    );
                }
            }
            let problems_of_kind = std::mem::take(&mut cx.problems);
            for (field, message) in problems_of_kind {
                p(&field, message);
            }
            let where_sql = match &kind {
                RuleKind::Filter | RuleKind::Aggregate(_) | RuleKind::Baseline(_) => {
                    cx.conditions.first().and_then(|c| c.sql.clone())
                }
                _ => None,
            };
            rules.push(Rule {
                def: d.clone(),
                side: d.side.unwrap_or_default(),
                where_sql,
                kind,
                params: params.clone(),
                columns: cx.columns,
                lists: cx.lists_used,
                conditions: cx.conditions,
            });
        }
        // `on_alerts_of`: each pattern names other rules, which do not screen alerts
        // themselves (one level, so the order of the run is fixed).
        for (i, d) in defs.iter().enumerate() {
            for pat in &d.on_alerts_of {
                let targets: Vec<&RuleDef> = defs
                    .iter()
                    .filter(|o| o.id != d.id && matches_any(&o.id, std::slice::from_ref(pat)))
                    .collect();
                let message = if targets.is_empty() {
                    Some(format!(
                        "`{pat}` names no other rule of the pack{}",
                        suggestion(pat, defs.iter().map(|o| o.id.as_str()))
                    ))
                } else {
                    targets.iter().find(|t| !t.on_alerts_of.is_empty()).map(|t| {
                        format!(
                            "`{pat}` names {}, which itself screens other rules' alerts; only one level is allowed",
                            t.id
                        )
                    })
                };
                if let Some(message) = message {
                    problems.push(PackProblem {
                        location: self.locate(Some(&d.id), "on_alerts_of"),
                        rule_id: Some(d.id.clone()),
                        field: format!("rules[{i}].on_alerts_of"),
                        message,
                    });
                }
            }
        }
        (rules, problems)
    }
}

const PACK_FIELDS: &[&str] = &[
    "pack",
    "version",
    "title",
    "description",
    "base_currency",
    "params",
    "lists",
    "rules",
];

/// The `{name}` placeholders of an explanation template (`{name|one|many}` names `name`
/// and adds a noun that agrees with its value: `1 payment`, `3 payments`).
pub fn placeholders(t: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = t;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        match after.find('}') {
            Some(end) => {
                // `{n|payment|payments}`: the name, then the noun's singular and plural.
                let name = after[..end].split('|').next().unwrap_or("").trim();
                if !name.is_empty() {
                    out.push(name.to_string());
                }
                rest = &after[end + 1..];
            }
            None => break,
        }
    }
    out
}

/// Whether a rule id matches one of the patterns (an id, or a prefix ending in `*`).
pub(crate) fn matches_any(id: &str, patterns: &[String]) -> bool {
    patterns.iter().any(|p| match p.strip_suffix('*') {
        Some(prefix) => id.to_uppercase().starts_with(&prefix.to_uppercase()),
        None => id.eq_ignore_ascii_case(p),
    })
}

/// The fields a rule sets beyond id, title, kind and severity.
fn set_fields(d: &RuleDef) -> Vec<&'static str> {
    [
        ("side", d.side.is_some()),
        ("where", d.where_.is_some()),
        ("window", d.window.is_some()),
        ("measures", !d.measures.is_empty()),
        ("having", d.having.is_some()),
        ("any_of", !d.any_of.is_empty()),
        ("group_by", !d.group_by.is_empty()),
        ("on_alerts_of", !d.on_alerts_of.is_empty()),
        ("first", d.first.is_some()),
        ("then", d.then.is_some()),
        ("within", d.within.is_some()),
        ("match", d.match_.is_some()),
        ("prior", d.prior.is_some()),
        ("repeat", d.repeat.is_some()),
        ("measure", d.measure.is_some()),
        ("history", d.history.is_some()),
        ("min_history", d.min_history.is_some()),
        ("threshold", d.threshold.is_some()),
        ("dormant_for", d.dormant_for.is_some()),
        ("peer_by", d.peer_by.is_some()),
        ("pattern", d.pattern.is_some()),
        ("max_hops", d.max_hops.is_some()),
        ("min_hops", d.min_hops.is_some()),
        ("amount_tolerance", d.amount_tolerance.is_some()),
        ("min_branches", d.min_branches.is_some()),
    ]
    .into_iter()
    .filter(|(_, set)| *set)
    .map(|(f, _)| f)
    .collect()
}

/// Whether `s` is a plain identifier.
pub(crate) fn is_identifier(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some(ch) if ch.is_ascii_alphabetic() || ch == '_')
        && c.all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
}

fn unknown_field_in(msg: &str) -> Option<String> {
    let start = msg.find("unknown field `")? + "unknown field `".len();
    let end = msg[start..].find('`')?;
    Some(msg[start..start + end].to_string())
}

fn improve_serde_message(msg: &str, fields: &[&str]) -> String {
    let msg = msg.trim().to_string();
    if let Some(f) = unknown_field_in(&msg) {
        return format!(
            "unknown field `{f}`{}; known fields: {}",
            suggestion(&f, fields.iter().copied()),
            fields.join(", ")
        );
    }
    if msg.contains("unknown variant") {
        if let Some(v) = unknown_variant_in(&msg) {
            let options: Vec<&str> = ["low", "medium", "high", "critical", "in", "out", "both"]
                .into_iter()
                .collect();
            if let Some(s) = did_you_mean(&v, options) {
                return format!("{msg}; did you mean `{s}`?");
            }
        }
    }
    msg
}

fn unknown_variant_in(msg: &str) -> Option<String> {
    let start = msg.find("unknown variant `")? + "unknown variant `".len();
    let end = msg[start..].find('`')?;
    Some(msg[start..start + end].to_string())
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map(|l| l.chars().count()).unwrap_or(0) + 1;
    (line, col)
}

/// Finds `field` of the rule `rule_id` (or a top-level key when `rule_id` is `None`) in a
/// pack's text, by scanning lines: rules start at their `id:` line.
fn locate_key(text: &str, rule_id: Option<&str>, field: &str, is_toml: bool, file: &Path) -> Location {
    let lines: Vec<&str> = text.lines().collect();
    let key_at = |line: &str, key: &str| -> Option<usize> {
        let trimmed = line.trim_start();
        let (trimmed, extra) = match trimmed.strip_prefix("- ") {
            Some(t) => (t.trim_start(), line.len() - t.trim_start().len()),
            None => (trimmed, line.len() - trimmed.len()),
        };
        let k = trimmed.strip_prefix(key)?;
        let k = k.trim_start();
        if k.starts_with(':') || (is_toml && k.starts_with('=')) {
            Some(extra + 1)
        } else {
            None
        }
    };
    let value_is = |line: &str, id: &str| -> bool {
        let v = line.trim_start().trim_start_matches("- ").trim_start();
        let v = v.strip_prefix("id").map(str::trim_start);
        match v.and_then(|v| v.strip_prefix(':').or_else(|| v.strip_prefix('='))) {
            Some(rest) => rest.trim().trim_matches(|c| c == '"' || c == '\'') == id,
            None => false,
        }
    };
    let mk = |line: usize, column: usize| Location {
        file: file.to_path_buf(),
        line,
        column,
    };
    match rule_id {
        None => {
            for (i, l) in lines.iter().enumerate() {
                if let Some(c) = key_at(l, field) {
                    return mk(i + 1, c);
                }
            }
            mk(0, 0)
        }
        Some(id) => {
            let Some(start) = lines.iter().position(|l| value_is(l, id)) else {
                return mk(0, 0);
            };
            let end = lines[start + 1..]
                .iter()
                .position(|l| key_at(l, "id").is_some() && l.trim_start().starts_with('-') || l.trim() == "[[rules]]")
                .map(|e| e + start + 1)
                .unwrap_or(lines.len());
            // The rule block begins at its `- ` line, which may be before the id line.
            let block_start = (0..=start)
                .rev()
                .find(|&i| lines[i].trim_start().starts_with("- ") || lines[i].trim() == "[[rules]]")
                .unwrap_or(start);
            for (i, l) in lines.iter().enumerate().take(end).skip(block_start) {
                if let Some(c) = key_at(l, field) {
                    return mk(i + 1, c);
                }
            }
            mk(start + 1, 1)
        }
    }
}

/// Lower-case hex sha256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let d = Sha256::digest(bytes);
    d.iter().map(|b| format!("{b:02x}")).collect()
}
