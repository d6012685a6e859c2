//! What rules find: alerts, and the record of a run of the rules.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Severity, SideSel};

/// Measures every aggregate alert carries, usable in `having` and `explain`.
pub const BUILTIN_MEASURES: &[&str] = &["n_txns", "total_amount", "min_amount", "max_amount", "n_counterparties"];

/// One finding of one rule on one account: a transaction (filter) or an episode (aggregate).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Stable: a hash of the rule id, the account and the sorted transaction ids.
    pub alert_id: String,
    /// The rule.
    pub rule_id: String,
    /// The rule's kind: its name in the kind registry (a name, not an enum, so that a
    /// new kind is one file and one registry line).
    pub kind: String,
    /// The rule's severity.
    pub severity: Severity,
    /// The rule's typologies.
    pub typologies: Vec<String>,
    /// The account screened.
    pub account: String,
    /// The side screened: `in`, `out` or `both`.
    pub side: SideSel,
    /// First transaction's time (`YYYY-MM-DDTHH:MM:SS`).
    pub window_start: String,
    /// Last transaction's time.
    pub window_end: String,
    /// The transactions, in time order.
    pub txn_ids: Vec<String>,
    /// Measure name → value, over the whole episode.
    pub measures: BTreeMap<String, serde_json::Value>,
    /// The rule's `explain` text, filled in.
    pub explanation: String,
    /// The other accounts of a network pattern, sorted; their case joins them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub linked_accounts: Vec<String>,
    /// Rows of the screened transactions frame (not serialised).
    #[serde(skip)]
    pub rows: Vec<u32>,
}

/// A rule that could not run on this data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotApplicable {
    /// The rule.
    pub rule_id: String,
    /// The columns it needs that the data lacks.
    pub missing_columns: Vec<String>,
    /// The watch list it needs that no list is bound under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unbound_list: Option<String>,
}

/// A part of a rule left out because it reads a column the data lacks: an alternative of
/// `any_of`, a measure that only an explanation or a dropped alternative uses, or a
/// condition term marked `optional(...)` (see docs/packs.md, "When the data lacks a
/// column").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dropped {
    /// Where it is in the rule, as a field path: `any_of[1]`, `measures.n_countries`,
    /// `where`, `then.where`.
    pub part: String,
    /// What was dropped, as written (a condition term, a measure, a window and its
    /// `having`).
    pub text: String,
    /// The columns it reads that the data lacks.
    pub missing_columns: Vec<String>,
}

/// A rule that ran with some of its parts dropped (see [`Dropped`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Degraded {
    /// The rule.
    pub rule_id: String,
    /// What it ran without, in the order of the rule's fields.
    pub dropped: Vec<Dropped>,
}

/// A rule whose search for its pattern was cut short on some accounts by a limit on the
/// work per account (see docs/input-safety.md): its alerts there may be incomplete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchLimit {
    /// The rule.
    pub rule_id: String,
    /// What was cut short, and how often.
    pub what: String,
}

/// A limit on the work per account met by a rule: how often, and what, said of one and
/// of several. Notes of one rule and text add up ([`LimitNote::add`]): a sharded run
/// sums its shards' notes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitNote {
    /// The rule.
    pub rule_id: String,
    /// How often the limit was met.
    pub count: u64,
    /// What was cut short, said of one.
    pub one: String,
    /// What was cut short, said of several.
    pub many: String,
}

impl LimitNote {
    /// The note as the manifest states it.
    pub fn search_limit(&self) -> SearchLimit {
        SearchLimit {
            rule_id: self.rule_id.clone(),
            what: format!(
                "{} {}",
                self.count,
                if self.count == 1 { &self.one } else { &self.many }
            ),
        }
    }

    /// Adds `other` to the notes: to the note of the same rule and text, else as a new one.
    pub fn add(notes: &mut Vec<LimitNote>, other: LimitNote) {
        match notes
            .iter_mut()
            .find(|n| n.rule_id == other.rule_id && n.one == other.one && n.many == other.many)
        {
            Some(n) => n.count += other.count,
            None => notes.push(other),
        }
    }
}

/// What the rules found.
#[derive(Debug, Clone, Default)]
pub struct RuleRun {
    /// Alerts, ordered by rule (pack order), account, start, id.
    pub alerts: Vec<Alert>,
    /// Rules that ran.
    pub rules_run: Vec<String>,
    /// Rules that did not run, and why.
    pub not_applicable: Vec<NotApplicable>,
    /// Rules that ran with some parts dropped, in pack order: each is also in `rules_run`.
    pub degraded: Vec<Degraded>,
    /// Alert count per rule that ran.
    pub alerts_per_rule: BTreeMap<String, usize>,
    /// Rules whose search was cut short somewhere, in pack order.
    pub search_limits: Vec<LimitNote>,
    /// Wall time of each step: `prepare`, `conditions`, `rules` (all of them, on several
    /// threads), each rule by id, `cases`. For
    /// tuning a pack; never part of an output file, which must not change between runs.
    pub timings: Vec<(String, std::time::Duration)>,
}

/// `A-` and 16 hex digits of sha256(rule id, account, sorted transaction ids).
pub fn alert_id(rule_id: &str, account: &str, txn_ids: &[String]) -> String {
    let mut ids: Vec<&str> = txn_ids.iter().map(String::as_str).collect();
    ids.sort_unstable();
    let mut s = String::new();
    s.push_str(rule_id);
    s.push('\u{1f}');
    s.push_str(account);
    for i in ids {
        s.push('\u{1f}');
        s.push_str(i);
    }
    format!("A-{}", &crate::util::hash::sha256_hex(s.as_bytes())[..16])
}
