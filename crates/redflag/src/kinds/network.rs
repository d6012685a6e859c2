#![doc = include_str!("../../../../docs/kinds/network.md")]

use std::collections::BTreeMap;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::sequence::EventDef;
use super::{Checker, Field, Kind};
use crate::engine::{dedup, fill, json_value, make_alert, pair_key, AlertParts, Prepared, Scope, NO_ACCOUNT};
use crate::error::{Error, Result, RuleContext};
use crate::expr::{self, ExprRole};
use crate::model::{Alert, NumField, Rule, RuleDef, RuleKind, Side, SideSel, Window};
use crate::util::format;

/// The patterns, by name.
pub const PATTERNS: &[&str] = &["cycle", "scatter_gather", "gather_scatter", "fan_in", "fan_out"];

/// The most hops a rule may ask for.
pub const MAX_HOPS_LIMIT: u32 = 12;

/// Edges a search from one transaction may examine.
pub const SEARCH_BUDGET: usize = 10_000;

/// Paths a search from one transaction may keep.
pub const MAX_PATHS_PER_ROOT: usize = 1_000;

/// Next hops a search follows from one account it reaches: the earliest (backward: the
/// latest) that many. Bounds the work at hubs.
pub const MAX_NEXT_HOPS: usize = 256;

/// Payments an account reached may have in the time left for a search to go on through
/// it: a busier account (a payment processor, a payroll or exchange account) is not
/// searched through, and the manifest says how many searches stopped at one.
pub const MAX_WINDOW_EDGES: usize = 4096;

/// Episodes whose `match` is evaluated at once.
const CHUNK: usize = 1 << 16;

/// A pattern of the transfer graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pattern {
    /// A → … → A.
    Cycle,
    /// One account → several intermediaries → one account.
    ScatterGather,
    /// Several accounts → one account → several accounts.
    GatherScatter,
    /// Several accounts → (intermediaries) → one account.
    FanIn,
    /// One account → (intermediaries) → several accounts.
    FanOut,
}

impl Pattern {
    fn parse(s: &str) -> Option<Pattern> {
        Some(match s {
            "cycle" => Pattern::Cycle,
            "scatter_gather" => Pattern::ScatterGather,
            "gather_scatter" => Pattern::GatherScatter,
            "fan_in" => Pattern::FanIn,
            "fan_out" => Pattern::FanOut,
            _ => return None,
        })
    }

    /// The pattern's name.
    pub fn name(self) -> &'static str {
        match self {
            Pattern::Cycle => "cycle",
            Pattern::ScatterGather => "scatter_gather",
            Pattern::GatherScatter => "gather_scatter",
            Pattern::FanIn => "fan_in",
            Pattern::FanOut => "fan_out",
        }
    }

    /// Default (min_hops, max_hops).
    fn default_hops(self) -> (u32, u32) {
        match self {
            Pattern::Cycle => (2, 6),
            Pattern::ScatterGather => (2, 2),
            Pattern::GatherScatter => (2, 2),
            Pattern::FanIn | Pattern::FanOut => (1, 2),
        }
    }
}

impl NetworkSpec {
    /// Whether the rule finds fans-in of one hop only, with no measure of relations: its
    /// episodes at an account read the payments into it (and, with `then`, out of it)
    /// and nothing else, so it runs account by account ([`Kind::per_account`]).
    fn one_hop_fan_in(&self) -> bool {
        self.patterns == [Pattern::FanIn] && self.max_hops <= 1 && !self.relations
    }
}

/// The checked content of a network rule.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkSpec {
    /// The patterns the rule finds.
    pub patterns: Vec<Pattern>,
    /// The engine's condition slot of `where` (paying side).
    pub slot: usize,
    /// Fewest hops of a cycle or branch.
    pub min_hops: usize,
    /// Most hops of a cycle or branch.
    pub max_hops: usize,
    /// The whole pattern lies within this of its first transaction.
    pub within: Window,
    /// Each hop's amount within this ratio of the previous one's.
    pub tolerance: Option<f64>,
    /// Fewest distinct branches.
    pub min_branches: usize,
    /// `then`: its condition slot (paying side) and window.
    pub then: Option<(usize, Window)>,
    /// The condition over [`NetworkSpec::names`].
    pub match_sql: Option<String>,
    /// The measures, in order.
    pub names: Vec<String>,
    /// Whether the alerts carry [`RELATION_NAMES`]: the rule's `match` or `explain`
    /// names one of them.
    pub relations: bool,
}

const NAMES: &[&str] = &[
    "n_accounts",
    "n_txns",
    "total",
    "hops",
    "branches",
    "start_total",
    "end_total",
    "share",
    "span_hours",
];
const THEN_NAMES: &[&str] = &["then_total", "then_count", "then_share"];
/// How new the pattern's pairs of accounts are: measured only for a rule whose `match`
/// or `explain` names one of them.
const RELATION_NAMES: &[&str] = &["new_pairs", "lone_pairs"];

/// `pattern` of a network rule as written: one name or a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub(crate) enum PatternField {
    /// One pattern.
    One(String),
    /// Several; the rule finds each.
    Many(Vec<String>),
}

/// A network rule's own fields as written.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NetworkDef {
    /// The row condition.
    #[serde(default, rename = "where")]
    pub(crate) where_: Option<String>,
    /// The pattern, or a list of patterns.
    #[serde(default)]
    pub(crate) pattern: Option<PatternField>,
    /// The most hops of a cycle or a branch.
    #[serde(default)]
    pub(crate) max_hops: Option<NumField>,
    /// The fewest hops of a cycle or a branch.
    #[serde(default)]
    pub(crate) min_hops: Option<NumField>,
    /// How long the whole pattern may take.
    #[serde(default)]
    pub(crate) within: Option<String>,
    /// How far each hop's amount may be from the previous one's, as a ratio.
    #[serde(default)]
    pub(crate) amount_tolerance: Option<NumField>,
    /// The fewest distinct branches of a fan or a scatter.
    #[serde(default)]
    pub(crate) min_branches: Option<NumField>,
    /// What the last account does next.
    #[serde(default)]
    pub(crate) then: Option<EventDef>,
    /// The relation the pattern's measures must meet.
    #[serde(default, rename = "match")]
    pub(crate) match_: Option<String>,
}

/// Kind `network`.
pub(crate) struct Network;

impl Kind for Network {
    fn name(&self) -> &'static str {
        "network"
    }
    fn fields(&self) -> &'static [Field] {
        &[
            Field {
                name: "pattern",
                doc: "the pattern, or a list of patterns",
            },
            Field {
                name: "where",
                doc: "the transfers that count as edges",
            },
            Field {
                name: "max_hops",
                doc: "the most hops of a cycle or a branch",
            },
            Field {
                name: "min_hops",
                doc: "the fewest hops of a cycle or a branch",
            },
            Field {
                name: "min_branches",
                doc: "the fewest distinct branches of a fan or a scatter",
            },
            Field {
                name: "amount_tolerance",
                doc: "how far each hop's amount may be from the previous one's, as a ratio",
            },
            Field {
                name: "within",
                doc: "how long the whole pattern may take",
            },
            Field {
                name: "then",
                doc: "what the last account does next, and within what time",
            },
            Field {
                name: "match",
                doc: "the relation the pattern's measures must meet",
            },
        ]
    }
    fn doc(&self) -> &'static str {
        include_str!("../../../../docs/kinds/network.md")
    }
    fn written(&self, def: &RuleDef) -> serde_yaml_ng::Mapping {
        super::written_fields::<NetworkDef>(def)
    }
    fn check(&self, def: &RuleDef, cx: &mut Checker<'_>) -> RuleKind {
        RuleKind::new(self.name(), check(def, cx))
    }
    fn run(&self, rule: &Rule, scope: &Scope<'_, '_>) -> Result<Vec<Alert>> {
        run(rule, super::spec_of::<NetworkSpec>(rule)?, scope)
    }
    fn cost(&self, _rule: &Rule) -> u8 {
        3
    }
    /// A fan-in of one hop, with no measure of the accounts' relations over the whole
    /// data, is found from the payments into its account alone.
    fn per_account(&self, rule: &Rule) -> bool {
        rule.kind.spec::<NetworkSpec>().is_some_and(NetworkSpec::one_hop_fan_in)
    }
    fn links_accounts(&self) -> bool {
        true
    }
    /// A path search holds the graph of every account's payments, both ways, at once. A
    /// fan-in of one hop holds the payments in only, about half as much, and runs beside
    /// other rules.
    fn holds_every_account(&self, rule: &Rule) -> bool {
        !self.per_account(rule)
    }
    /// Its edges are the rows `where` keeps; the measures of relations read the history
    /// of each pair of accounts, which [`crate::engine::Prepared::pair_history`] gives.
    fn kept_rows_suffice(&self, _rule: &Rule) -> bool {
        true
    }
    fn side_text(&self, _rule: &Rule) -> Option<&'static str> {
        Some("the transfer graph (payer to payee)")
    }
    fn describe(&self, rule: &Rule, out: &mut String) {
        if let Some(spec) = rule.kind.spec::<NetworkSpec>() {
            describe(rule, spec, out);
        }
    }
}

fn check(def: &RuleDef, cx: &mut Checker<'_>) -> NetworkSpec {
    let d: NetworkDef = super::parse_fields(def, cx);
    let patterns = check_patterns(&d, cx);
    let slot = cx.condition("where", SideSel::Out, d.where_.as_deref());
    let within = check_within(d.within.as_deref(), cx);
    let numbers = written_numbers(&d, cx);
    let (min_hops, max_hops) = check_hops(&d, cx, &patterns, &numbers);
    let (tolerance, min_branches) = check_amounts_and_branches(cx, &patterns, &numbers);
    let then = check_then(&d, cx, &patterns);
    let mut names: Vec<String> = NAMES.iter().map(|s| s.to_string()).collect();
    if d.then.is_some() {
        names.extend(THEN_NAMES.iter().map(|s| s.to_string()));
    }
    let relations = RELATION_NAMES
        .iter()
        .any(|n| d.match_.as_deref().is_some_and(|m| names_word(m, n)) || names_word(&def.explain, &format!("{{{n}")));
    let allowed: Vec<String> = names
        .iter()
        .cloned()
        .chain(RELATION_NAMES.iter().map(|s| s.to_string()))
        .collect();
    if relations {
        names = allowed.clone();
    }
    let match_sql = d.match_.as_ref().and_then(|m| {
        let before = cx.columns.clone();
        let out = cx.expr("match", m, ExprRole::Over(&allowed));
        cx.columns = before;
        out
    });
    cx.placeholders(allowed.iter().cloned());
    cx.placeholders(["path", "accounts", "first_time", "last_time", "pattern"]);
    cx.columns.insert("amount_base".into());
    NetworkSpec {
        patterns,
        slot,
        min_hops: min_hops as usize,
        max_hops: max_hops as usize,
        within: within.unwrap_or(Window { ms: 1 }),
        tolerance,
        min_branches,
        then,
        match_sql,
        names,
        relations,
    }
}

/// Whether `text` holds `word` as a whole name (not inside a longer one).
fn names_word(text: &str, word: &str) -> bool {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    text.match_indices(word).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + word.len()..].chars().next();
        !before.is_some_and(|c| ident(c) && !word.starts_with('{')) && !after.is_some_and(ident)
    })
}

/// `within`: a window (`21d`), or `$name`, a parameter holding a whole number of days,
/// so that `--set` and `--sweep` reach it.
fn check_within(text: Option<&str>, cx: &mut Checker<'_>) -> Option<Window> {
    let t = text.map(str::trim);
    if !t.is_some_and(|t| t.starts_with('$')) {
        return cx.window("within", t, "30d");
    }
    match NumField::Param(t.unwrap_or_default().to_string()).resolve(cx.params) {
        Ok(days) if days >= 1.0 && days.fract() == 0.0 && days <= crate::model::window::MAX_WINDOW_DAYS as f64 => {
            Some(Window {
                ms: days as i64 * 86_400_000,
            })
        }
        Ok(days) => {
            cx.problem(
                "within",
                format!(
                    "`within` from a parameter is a whole number of days from 1 to {}; the parameter is {days}",
                    crate::model::window::MAX_WINDOW_DAYS
                ),
            );
            None
        }
        Err(m) => {
            cx.problem("within", m);
            None
        }
    }
}

/// The patterns named in `pattern`, each once; unknown, repeated or missing ones are
/// problems.
fn check_patterns(d: &NetworkDef, cx: &mut Checker<'_>) -> Vec<Pattern> {
    let names_given: Vec<String> = match &d.pattern {
        None => {
            cx.problem(
                "pattern",
                format!("a network rule needs `pattern`: one of {}", PATTERNS.join(", ")),
            );
            Vec::new()
        }
        Some(PatternField::One(p)) => vec![p.clone()],
        Some(PatternField::Many(ps)) => ps.clone(),
    };
    let mut patterns = Vec::new();
    for p in &names_given {
        match Pattern::parse(p.trim()) {
            Some(x) if !patterns.contains(&x) => patterns.push(x),
            Some(_) => cx.problem("pattern", format!("pattern `{p}` is listed twice")),
            None => cx.problem(
                "pattern",
                format!(
                    "unknown pattern `{p}`{}; patterns: {}",
                    crate::error::suggestion(p, PATTERNS.iter().copied()),
                    PATTERNS.join(", ")
                ),
            ),
        }
    }
    if d.pattern.is_some() && names_given.is_empty() {
        cx.problem(
            "pattern",
            format!("the list is empty; patterns: {}", PATTERNS.join(", ")),
        );
    }
    patterns
}

/// The numbers a network rule may write out or take from `$params`, as written.
struct Numbers {
    min_hops: Option<u32>,
    max_hops: Option<u32>,
    min_branches: Option<u32>,
    tolerance: Option<f64>,
}

/// Resolves the written numbers; those that are no number, or no whole number where one
/// is needed, are problems.
fn written_numbers(d: &NetworkDef, cx: &mut Checker<'_>) -> Numbers {
    // Numbers may be written out or be `$params`.
    let number = |cx: &mut Checker<'_>, field: &str, v: Option<&crate::model::NumField>| -> Option<f64> {
        match v.map(|n| n.resolve(cx.params)) {
            Some(Ok(x)) => Some(x),
            Some(Err(m)) => {
                cx.problem(field, m);
                None
            }
            None => None,
        }
    };
    let whole = |cx: &mut Checker<'_>, field: &str, v: Option<f64>| -> Option<u32> {
        match v {
            Some(x) if x >= 0.0 && x.fract() == 0.0 && x <= f64::from(u32::MAX) => Some(x as u32),
            Some(x) => {
                cx.problem(field, format!("{x} is not a whole number"));
                None
            }
            None => None,
        }
    };
    let min_hops = {
        let v = number(cx, "min_hops", d.min_hops.as_ref());
        whole(cx, "min_hops", v)
    };
    let max_hops = {
        let v = number(cx, "max_hops", d.max_hops.as_ref());
        whole(cx, "max_hops", v)
    };
    let min_branches = {
        let v = number(cx, "min_branches", d.min_branches.as_ref());
        whole(cx, "min_branches", v)
    };
    let tolerance = number(cx, "amount_tolerance", d.amount_tolerance.as_ref());
    Numbers {
        min_hops,
        max_hops,
        min_branches,
        tolerance,
    }
}

/// The fewest and most hops: the first pattern's defaults unless written; hops over the
/// limit, too few for a pattern, or in the wrong order are problems.
fn check_hops(d: &NetworkDef, cx: &mut Checker<'_>, patterns: &[Pattern], numbers: &Numbers) -> (u32, u32) {
    let has = |p: Pattern| patterns.contains(&p);
    // Hops: defaults of the first pattern; the limits of all.
    let (dmin, dmax) = patterns.first().map(|p| p.default_hops()).unwrap_or((1, 2));
    let min_hops = numbers.min_hops.unwrap_or(dmin);
    let max_hops = numbers.max_hops.unwrap_or(dmax.max(min_hops));
    if has(Pattern::GatherScatter) && patterns.len() == 1 {
        for (f, set) in [("max_hops", d.max_hops.is_some()), ("min_hops", d.min_hops.is_some())] {
            if set {
                cx.problem(
                    f,
                    "pattern `gather_scatter` has two hops by definition; remove this field",
                );
            }
        }
    }
    if max_hops > MAX_HOPS_LIMIT {
        cx.problem(
            "max_hops",
            format!("{max_hops} hops is over the limit of {MAX_HOPS_LIMIT}; longer chains are rarely one scheme and cost much to search"),
        );
    }
    if min_hops == 0 {
        cx.problem("min_hops", "a pattern has at least one hop");
    }
    if min_hops > max_hops {
        cx.problem(
            if d.min_hops.is_some() { "min_hops" } else { "max_hops" },
            format!("`min_hops` ({min_hops}) is more than `max_hops` ({max_hops})"),
        );
    }
    for p in patterns {
        let least = match p {
            Pattern::Cycle | Pattern::ScatterGather => 2,
            _ => 1,
        };
        if (*p == Pattern::Cycle || *p == Pattern::ScatterGather) && min_hops < least {
            cx.problem(
                "min_hops",
                format!("pattern `{}` needs at least {least} hops", p.name()),
            );
        }
    }
    (min_hops, max_hops)
}

/// The amount tolerance (a ratio from 0 to under 1) and the fewest branches (3 unless
/// written; at least 2; none for a cycle alone).
fn check_amounts_and_branches(cx: &mut Checker<'_>, patterns: &[Pattern], numbers: &Numbers) -> (Option<f64>, usize) {
    let tolerance = match numbers.tolerance {
        Some(t) if !(0.0..1.0).contains(&t) || t.is_nan() => {
            cx.problem(
                "amount_tolerance",
                format!("{t} is not a ratio from 0 to under 1; write 0.1 for ±10%"),
            );
            None
        }
        t => t,
    };
    let min_branches = match numbers.min_branches {
        Some(_) if patterns == [Pattern::Cycle] => {
            cx.problem("min_branches", "pattern `cycle` has no branches; remove this field");
            0
        }
        Some(0) | Some(1) => {
            cx.problem("min_branches", "a fan or a scatter needs at least 2 branches");
            2
        }
        Some(n) => n as usize,
        None => 3,
    };
    (tolerance, min_branches)
}

/// `then`: its condition slot (paying side) and window, for patterns that end on one
/// account.
fn check_then(d: &NetworkDef, cx: &mut Checker<'_>, patterns: &[Pattern]) -> Option<(usize, Window)> {
    let ev = d.then.as_ref()?;
    for p in patterns {
        if matches!(p, Pattern::GatherScatter | Pattern::FanOut) {
            cx.problem(
                "then",
                format!(
                    "pattern `{}` ends on many accounts; `then` follows patterns that end on one (cycle, scatter_gather, fan_in)",
                    p.name()
                ),
            );
        }
    }
    if ev.side.is_some_and(|s| s != SideSel::Out) {
        cx.problem(
            "then.side",
            "`then` is what the pattern's last account pays: its side is `out`",
        );
    }
    for (f, set) in [("measures", !ev.measures.is_empty()), ("having", ev.having.is_some())] {
        if set {
            cx.problem(&format!("then.{f}"), format!("`then` of a network rule takes no `{f}`"));
        }
    }
    let s = cx.condition("then.where", SideSel::Out, ev.where_.as_deref());
    cx.window("then.window", ev.window.as_deref(), "14d").map(|w| (s, w))
}

/// Adjacency of one direction, grouped by node and sorted by (ts, row) within a node.
struct Adj {
    /// Where each node's edges start (a row number bounds the edges: u32 suffices).
    off: Vec<u32>,
    other: Vec<u32>,
    ts: Vec<i64>,
    row: Vec<u32>,
    amt: Vec<f64>,
    /// Positions within each node's range, sorted by amount (with a tolerance only).
    by_amt: Vec<u32>,
}

impl Adj {
    /// From edges (node, other, ts, row, amount) sorted by (node, ts, row).
    fn new(n_nodes: usize, edges: &[(u32, u32, i64, u32)], amount: &[f64], with_amounts: bool) -> Adj {
        let mut off = vec![0u32; n_nodes + 1];
        for e in edges {
            off[e.0 as usize + 1] += 1;
        }
        for i in 0..n_nodes {
            off[i + 1] += off[i];
        }
        let other = edges.iter().map(|e| e.1).collect();
        let ts = edges.iter().map(|e| e.2).collect();
        let row: Vec<u32> = edges.iter().map(|e| e.3).collect();
        let amt: Vec<f64> = row.iter().map(|r| amount[*r as usize]).collect();
        let mut by_amt: Vec<u32> = Vec::new();
        if with_amounts {
            by_amt = (0..edges.len() as u32).collect();
            for v in 0..n_nodes {
                let (s, e) = (off[v] as usize, off[v + 1] as usize);
                if e - s > 1 {
                    by_amt[s..e].sort_by(|a, b| amt[*a as usize].total_cmp(&amt[*b as usize]).then(a.cmp(b)));
                }
            }
        }
        Adj {
            off,
            other,
            ts,
            row,
            amt,
            by_amt,
        }
    }

    fn range(&self, v: u32) -> (usize, usize) {
        (self.off[v as usize] as usize, self.off[v as usize + 1] as usize)
    }

    /// How many edges of `v` have (ts, row) in `[lo, hi)`.
    fn count_in(&self, v: u32, lo: (i64, u32), hi: (i64, u32)) -> usize {
        let (s, e) = self.range(v);
        let i0 = partition(s, e, |i| (self.ts[i], self.row[i]) < lo);
        let i1 = partition(s, e, |i| (self.ts[i], self.row[i]) < hi);
        i1.saturating_sub(i0)
    }

    /// The edges after which the account reached pays again within `within` and, with a
    /// tolerance, within it of the edge's amount: the only ones a cycle can go on by.
    /// An account with many candidates counts as paying again without a full check.
    fn live(&self, within: i64, tol: Option<f64>, amount: &[f64]) -> Adj {
        let mut keep: Vec<(u32, u32, i64, u32)> = Vec::new();
        let mut c = Vec::new();
        for v in 0..self.off.len() - 1 {
            let (s, end) = self.range(v as u32);
            for e in s..end {
                let lo = (self.ts[e], self.row[e].saturating_add(1));
                let hi = (self.ts[e].saturating_add(within).saturating_add(1), 0);
                let band = tol.map(|t| (self.amt[e] * (1.0 - t), self.amt[e] * (1.0 + t)));
                let mut budget = 64;
                let done = self.scan(self.other[e], lo, hi, band, &mut budget, &mut c);
                if !done || !c.is_empty() {
                    keep.push((v as u32, self.other[e], self.ts[e], self.row[e]));
                }
            }
        }
        Adj::new(self.off.len() - 1, &keep, amount, tol.is_some())
    }

    /// Whether `v` has an edge with (ts, row) in `[lo, hi)`: two binary searches.
    fn any_in(&self, v: u32, lo: (i64, u32), hi: (i64, u32)) -> bool {
        let (s, e) = self.range(v);
        if s == e || (self.ts[e - 1], self.row[e - 1]) < lo || (self.ts[s], self.row[s]) >= hi {
            return false;
        }
        let i = s + partition(s, e, |i| (self.ts[i], self.row[i]) < lo);
        i < e && (self.ts[i], self.row[i]) < hi
    }

    /// The edges of `v` with (ts, row) in `[lo, hi)` and, when given, amount in `amt`
    /// (inclusive), into `out`. Spends the budget on each edge examined; false when it ran out.
    fn scan(
        &self,
        v: u32,
        lo: (i64, u32),
        hi: (i64, u32),
        amt: Option<(f64, f64)>,
        budget: &mut usize,
        out: &mut Vec<usize>,
    ) -> bool {
        out.clear();
        let (s, e) = self.range(v);
        let key = |i: usize| (self.ts[i], self.row[i]);
        let i0 = s + partition(s, e, |i| key(i) < lo);
        let i1 = s + partition(s, e, |i| key(i) < hi);
        if i1 <= i0 {
            return true;
        }
        match amt {
            Some((a_lo, a_hi)) if !self.by_amt.is_empty() && i1 - i0 > 16 => {
                let at = |k: usize| self.amt[self.by_amt[k] as usize];
                let j0 = s + partition(s, e, |k| at(k) < a_lo);
                let j1 = s + partition(s, e, |k| at(k) <= a_hi);
                if j1.saturating_sub(j0) < i1 - i0 {
                    for k in j0..j1 {
                        if *budget == 0 {
                            return false;
                        }
                        *budget -= 1;
                        let i = self.by_amt[k] as usize;
                        let kk = key(i);
                        if kk >= lo && kk < hi {
                            out.push(i);
                        }
                    }
                    out.sort_unstable();
                    return true;
                }
                self.scan_time(i0, i1, amt, budget, out)
            }
            _ => self.scan_time(i0, i1, amt, budget, out),
        }
    }

    fn scan_time(
        &self,
        i0: usize,
        i1: usize,
        amt: Option<(f64, f64)>,
        budget: &mut usize,
        out: &mut Vec<usize>,
    ) -> bool {
        for i in i0..i1 {
            if *budget == 0 {
                return false;
            }
            *budget -= 1;
            if amt.is_none_or(|(a, b)| self.amt[i] >= a && self.amt[i] <= b) {
                out.push(i);
            }
        }
        true
    }
}

/// The count of positions in `[s, e)` for which `pred` holds, `pred` true then false.
fn partition(s: usize, e: usize, pred: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (s, e);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if pred(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo - s
}

/// A path found: the group it counts in, its branch key, its time span and its edges
/// (transaction rows, in time order) and accounts (in path order).
struct PathRec {
    group: u32,
    branch: u32,
    start: i64,
    end: i64,
    rows: Vec<u32>,
    nodes: Vec<u32>,
}

/// A pattern episode before `then` and `match`.
struct Episode {
    pattern: Pattern,
    anchor: u32,
    /// The account `then` follows.
    last: u32,
    start: i64,
    end: i64,
    /// Rows, accounts, first and last rows of the paths: each sorted, without repeats.
    rows: Vec<u32>,
    nodes: Vec<u32>,
    first_rows: Vec<u32>,
    last_rows: Vec<u32>,
    branches: usize,
    hops: usize,
    path: String,
    then_rows: Vec<u32>,
    values: Vec<f64>,
}

/// What the searches share.
struct Search<'g> {
    fwd: &'g Adj,
    /// Cycles: the edges after which a next hop exists (in time and amount), to go on by.
    live: Option<&'g Adj>,
    /// Cycles: the edges into each account, to find the closing hop from the other end.
    bwd: Option<&'g Adj>,
    tol: Option<f64>,
    min_hops: usize,
    max_hops: usize,
    within: i64,
    /// Searches that stopped at an account with over [`MAX_WINDOW_EDGES`] payments.
    cut: std::cell::Cell<usize>,
}

/// One hop of a path: its transaction row, time, amount and the account it reaches.
#[derive(Clone, Copy)]
struct Hop {
    row: u32,
    ts: i64,
    amt: f64,
    to: u32,
}

impl Search<'_> {
    /// Whether account `v` has more than [`MAX_WINDOW_EDGES`] edges in `[lo, hi)`: the
    /// search does not go on through it, and the cut is counted.
    fn too_busy(&self, adj: &Adj, v: u32, lo: (i64, u32), hi: (i64, u32)) -> bool {
        let busy = adj.count_in(v, lo, hi) > MAX_WINDOW_EDGES;
        if busy {
            self.cut.set(self.cut.get() + 1);
        }
        busy
    }

    /// The amounts a hop may have after a hop of `a`.
    fn next_band(&self, a: f64) -> Option<(f64, f64)> {
        self.tol.map(|t| (a * (1.0 - t), a * (1.0 + t)))
    }

    /// The amounts a hop may have before a hop of `a`.
    fn prev_band(&self, a: f64) -> Option<(f64, f64)> {
        self.tol.map(|t| (a / (1.0 + t), a / (1.0 - t)))
    }

    /// Time-respecting paths forward from edge `root` of the forward adjacency, as
    /// transaction rows. `close`: only cycles back to `origin` are recorded; otherwise
    /// every path of `min_hops..=max_hops` hops.
    fn forward(&self, root: usize, origin: u32, close: bool, out: &mut Vec<Vec<u32>>) {
        let f = self.fwd;
        let hop = Hop {
            row: f.row[root],
            ts: f.ts[root],
            amt: f.amt[root],
            to: f.other[root],
        };
        let deadline = hop.ts.saturating_add(self.within);
        let mut nodes = vec![origin, hop.to];
        let mut hops = vec![hop];
        let mut budget = SEARCH_BUDGET;
        if !close && self.min_hops <= 1 {
            out.push(vec![hop.row]);
        }
        self.forward_from(deadline, close, &mut nodes, &mut hops, &mut budget, out);
    }

    fn forward_from(
        &self,
        deadline: i64,
        close: bool,
        nodes: &mut Vec<u32>,
        hops: &mut Vec<Hop>,
        budget: &mut usize,
        out: &mut Vec<Vec<u32>>,
    ) {
        let depth = hops.len();
        if depth >= self.max_hops || out.len() >= MAX_PATHS_PER_ROOT {
            return;
        }
        let last = hops[depth - 1];
        let v = last.to;
        let lo = (last.ts, last.row.saturating_add(1));
        let hi = (deadline.saturating_add(1), 0);
        let band = self.next_band(last.amt);
        let origin = nodes[0];
        let rows = |hops: &[Hop], more: u32| hops.iter().map(|h| h.row).chain(std::iter::once(more)).collect();
        if close && depth + 1 >= self.min_hops {
            for row in self.closing(v, origin, lo, hi, band, budget) {
                if out.len() >= MAX_PATHS_PER_ROOT {
                    return;
                }
                out.push(rows(hops, row));
            }
        }
        // A cycle goes on only when a hop is left to close it.
        if close && depth + 1 >= self.max_hops {
            return;
        }
        let adj = if close { self.live.unwrap_or(self.fwd) } else { self.fwd };
        if self.too_busy(adj, v, lo, hi) {
            return;
        }
        let mut cands = Vec::new();
        adj.scan(v, lo, hi, band, budget, &mut cands);
        cands.truncate(MAX_NEXT_HOPS);
        for e in cands {
            if out.len() >= MAX_PATHS_PER_ROOT {
                return;
            }
            let w = adj.other[e];
            if w == origin || nodes.contains(&w) {
                continue;
            }
            let hop = Hop {
                row: adj.row[e],
                ts: adj.ts[e],
                amt: adj.amt[e],
                to: w,
            };
            if !close && depth + 1 >= self.min_hops {
                out.push(rows(hops, hop.row));
            }
            // Go on only from an account that pays again in time.
            if depth + 1 < self.max_hops && self.fwd.any_in(w, (hop.ts, hop.row.saturating_add(1)), hi) {
                nodes.push(w);
                hops.push(hop);
                self.forward_from(deadline, close, nodes, hops, budget, out);
                hops.pop();
                nodes.pop();
            }
        }
    }

    /// The rows of the hops from `v` back to `origin` with (ts, row) in `[lo, hi)` and the
    /// amount in `band`: from `v`'s payments or from `origin`'s receipts, whichever are fewer.
    fn closing(
        &self,
        v: u32,
        origin: u32,
        lo: (i64, u32),
        hi: (i64, u32),
        band: Option<(f64, f64)>,
        budget: &mut usize,
    ) -> Vec<u32> {
        let mut c = Vec::new();
        match self.bwd {
            Some(b) if b.count_in(origin, lo, hi) < self.fwd.count_in(v, lo, hi) => {
                b.scan(origin, lo, hi, band, budget, &mut c);
                c.into_iter().filter(|i| b.other[*i] == v).map(|i| b.row[i]).collect()
            }
            _ => {
                self.fwd.scan(v, lo, hi, band, budget, &mut c);
                c.into_iter()
                    .filter(|i| self.fwd.other[*i] == origin)
                    .map(|i| self.fwd.row[i])
                    .collect()
            }
        }
    }

    /// Time-respecting paths backward from edge `root` of the backward adjacency (edges
    /// into a node), recorded from `min_hops` to `max_hops` hops; edges of `bwd`.
    fn backward(&self, bwd: &Adj, root: usize, target: u32, out: &mut Vec<Vec<usize>>) {
        let floor = bwd.ts[root] - self.within;
        let mut nodes = vec![target, bwd.other[root]];
        let mut edges = vec![root];
        let mut budget = SEARCH_BUDGET;
        if self.min_hops <= 1 {
            out.push(edges.clone());
        }
        self.backward_from(bwd, floor, &mut nodes, &mut edges, &mut budget, out);
    }

    fn backward_from(
        &self,
        bwd: &Adj,
        floor: i64,
        nodes: &mut Vec<u32>,
        edges: &mut Vec<usize>,
        budget: &mut usize,
        out: &mut Vec<Vec<usize>>,
    ) {
        let depth = edges.len();
        if depth >= self.max_hops || out.len() >= MAX_PATHS_PER_ROOT {
            return;
        }
        let earliest = edges[depth - 1];
        let v = bwd.other[earliest];
        let lo = (floor, 0);
        let hi = (bwd.ts[earliest], bwd.row[earliest]);
        if self.too_busy(bwd, v, lo, hi) {
            return;
        }
        let mut cands = Vec::new();
        bwd.scan(v, lo, hi, self.prev_band(bwd.amt[earliest]), budget, &mut cands);
        if cands.len() > MAX_NEXT_HOPS {
            cands.drain(..cands.len() - MAX_NEXT_HOPS);
        }
        for e in cands {
            if out.len() >= MAX_PATHS_PER_ROOT {
                return;
            }
            let w = bwd.other[e];
            if nodes.contains(&w) {
                continue;
            }
            nodes.push(w);
            edges.push(e);
            if depth + 1 >= self.min_hops {
                out.push(edges.clone());
            }
            self.backward_from(bwd, floor, nodes, edges, budget, out);
            edges.pop();
            nodes.pop();
        }
    }
}

fn run(rule: &Rule, spec: &NetworkSpec, scope: &Scope<'_, '_>) -> Result<Vec<Alert>> {
    let prep = scope.data();
    let n_nodes = prep.account_count();
    let edges = edges_of(spec, scope);
    if edges.is_empty() {
        return Ok(Vec::new());
    }
    let with_amounts = spec.tolerance.is_some();
    // A fan-in of one hop reads the payments in only: no forward adjacency.
    let needs_bwd = spec
        .patterns
        .iter()
        .any(|p| matches!(p, Pattern::FanIn | Pattern::GatherScatter | Pattern::Cycle));
    // The backward adjacency first: the edges, their reordered copy and the forward
    // adjacency are then never held at once.
    let bwd = needs_bwd.then(|| backward_adj(prep, &edges, with_amounts));
    let forward: &[(u32, u32, i64, u32)] = if spec.one_hop_fan_in() { &[] } else { &edges };
    let fwd = Adj::new(n_nodes, forward, prep.amounts(), with_amounts);
    drop(edges);
    let (mut episodes, cut) = find_episodes(spec, prep, &fwd, bwd.as_ref());
    if cut > 0 {
        let rest = format!("at an account with more than {MAX_WINDOW_EDGES} payments in the time left");
        scope.note_limit(
            cut,
            format!("path search stopped {rest}"),
            format!("path searches stopped {rest}"),
        );
    }
    if episodes.is_empty() {
        return Ok(Vec::new());
    }
    measure_episodes(spec, scope, &mut episodes);
    if let Some(m) = &spec.match_sql {
        let compiled = expr::compile(m).rule_ctx(rule.id(), || "compiling `match`".into())?;
        let mut keep = Vec::with_capacity(episodes.len());
        for chunk in episodes.chunks(CHUNK) {
            keep.extend(eval_match(rule.id(), &spec.names, chunk, &compiled)?);
        }
        let mut k = keep.into_iter();
        episodes.retain(|_| k.next().unwrap_or(false));
    }
    episodes.sort_by_key(|e| (e.anchor, e.start, e.end, e.pattern as u8));
    let mut alerts = Vec::with_capacity(episodes.len());
    for ep in episodes {
        alerts.push(episode_alert(rule, spec, prep, ep)?);
    }
    Ok(dedup(alerts))
}

/// The edges `where` keeps: (paying account, receiving account, ts, row), sorted by
/// (paying, ts, row); payments to no account or to the payer itself are left out. A fan-in
/// of one hop takes the payments into the accounts screened instead, whoever paid them,
/// in (receiving, ts, row) order: on a shard, those of the accounts it owns.
fn edges_of(spec: &NetworkSpec, scope: &Scope<'_, '_>) -> Vec<(u32, u32, i64, u32)> {
    if spec.one_hop_fan_in() {
        return scope.transfers_in(spec.slot);
    }
    scope.transfers_out(spec.slot)
}

/// The adjacency by receiving account: edges counted into place by receiving account,
/// then each account's edges put in time order.
fn backward_adj(prep: &Prepared<'_>, edges: &[(u32, u32, i64, u32)], with_amounts: bool) -> Adj {
    let n_nodes = prep.account_count();
    let mut at = vec![0usize; n_nodes + 1];
    for e in edges {
        at[e.1 as usize + 1] += 1;
    }
    for i in 0..n_nodes {
        at[i + 1] += at[i];
    }
    let bounds = at.clone();
    let mut rev: Vec<(u32, u32, i64, u32)> = vec![(0, 0, 0, 0); edges.len()];
    for e in edges {
        let k = &mut at[e.1 as usize];
        rev[*k] = (e.1, e.0, e.2, e.3);
        *k += 1;
    }
    for w in bounds.windows(2) {
        if w[1] - w[0] > 1 {
            rev[w[0]..w[1]].sort_unstable_by_key(|e| (e.2, e.3));
        }
    }
    Adj::new(n_nodes, &rev, prep.amounts(), with_amounts)
}

/// The episodes of every pattern of the rule, and how many searches stopped at a busy
/// account (see [`MAX_WINDOW_EDGES`]).
fn find_episodes(spec: &NetworkSpec, prep: &Prepared<'_>, fwd: &Adj, bwd: Option<&Adj>) -> (Vec<Episode>, usize) {
    let live = spec
        .patterns
        .contains(&Pattern::Cycle)
        .then(|| fwd.live(spec.within.ms, spec.tolerance, prep.amounts()));
    let search = Search {
        fwd,
        live: live.as_ref(),
        bwd,
        tol: spec.tolerance,
        min_hops: spec.min_hops,
        max_hops: spec.max_hops,
        within: spec.within.ms,
        cut: std::cell::Cell::new(0),
    };
    let mut episodes: Vec<Episode> = Vec::new();
    for p in &spec.patterns {
        match p {
            Pattern::Cycle => cycles(&search, prep, &mut episodes),
            Pattern::ScatterGather | Pattern::FanOut => fans_out(&search, prep, *p, spec.min_branches, &mut episodes),
            Pattern::FanIn => {
                if let Some(b) = bwd {
                    fans_in(&search, b, prep, spec.min_branches, &mut episodes)
                }
            }
            Pattern::GatherScatter => {
                if let Some(b) = bwd {
                    gather_scatter(&search, b, prep, spec.min_branches, &mut episodes)
                }
            }
        }
    }
    (episodes, search.cut.get())
}

/// Sets each episode's measures; with `then`, adds the last account's payments from the
/// pattern's start to `window` after its end.
fn measure_episodes(spec: &NetworkSpec, scope: &Scope<'_, '_>, episodes: &mut [Episode]) {
    let prep = scope.data();
    let then_rows = spec.then.map(|(slot, w)| (scope.rows(slot, Side::Out), w));
    for ep in episodes.iter_mut() {
        let mut v = values(prep, ep);
        if let Some((rows, w)) = &then_rows {
            let lo = rows.partition_point(|r| (r.0, r.1) <= (ep.last, ep.start));
            let mut total = 0.0;
            let mut count = 0.0;
            for r in rows[lo..]
                .iter()
                .take_while(|r| r.0 == ep.last && r.1 <= ep.end.saturating_add(w.ms))
            {
                if ep.rows.binary_search(&r.2).is_ok() {
                    continue;
                }
                total += prep.amount(r.2);
                count += 1.0;
                ep.then_rows.push(r.2);
            }
            let end_total = v[6];
            v.extend([total, count, if end_total > 0.0 { total / end_total } else { f64::NAN }]);
        }
        ep.values = v;
    }
    if spec.relations {
        relations(prep, episodes);
    }
}

/// Adds [`RELATION_NAMES`] to each episode's measures: of the pattern's transfers, the
/// share between two accounts with no transfer between them (either way) before the
/// pattern's first transaction (`new_pairs`), and the share between two accounts with
/// no transfer between them anywhere in the data outside the pattern (`lone_pairs`).
/// Every transfer of the data counts, whatever the rule's `where`.
fn relations(prep: &Prepared<'_>, episodes: &mut [Episode]) {
    // Looked up only, never walked in order: polars' fast hash maps.
    let wanted: PlHashSet<u32> = episodes.iter().flat_map(|e| e.rows.iter().copied()).collect();
    let pair_of = |r: u32| {
        let a = prep.payer(r);
        (a != NO_ACCOUNT).then(|| pair_key(a, prep.receiver(r)))
    };
    // Each pair of the episodes: its first transfer's time and its number of transfers.
    let mut seen: PlHashMap<(u32, u32), (i64, u32)> = wanted
        .iter()
        .filter_map(|r| pair_of(*r))
        .map(|p| (p, (i64::MAX, 0)))
        .collect();
    match prep.pair_history() {
        Some(history) => {
            for (p, s) in seen.iter_mut() {
                *s = history.get(p).copied().unwrap_or((i64::MAX, 0));
            }
        }
        None => {
            // The receivers read in view order, beside the payers: no lookup by row.
            for (&(a, t, _), &b) in prep.side_keys(Side::Out).iter().zip(prep.side_others(Side::Out)) {
                if b == NO_ACCOUNT || b == a {
                    continue;
                }
                if let Some(s) = seen.get_mut(&pair_key(a, b)) {
                    s.0 = s.0.min(t);
                    s.1 += 1;
                }
            }
        }
    }
    for ep in episodes.iter_mut() {
        let mut inside: PlHashMap<(u32, u32), u32> = PlHashMap::new();
        for p in ep.rows.iter().filter_map(|r| pair_of(*r)) {
            *inside.entry(p).or_default() += 1;
        }
        let (mut new, mut lone, mut n) = (0usize, 0usize, 0usize);
        for p in ep.rows.iter().filter_map(|r| pair_of(*r)) {
            let (first, count) = seen.get(&p).copied().unwrap_or((i64::MAX, 0));
            n += 1;
            new += usize::from(first >= ep.start);
            lone += usize::from(count <= inside.get(&p).copied().unwrap_or(0));
        }
        let share = |k: usize| if n == 0 { f64::NAN } else { k as f64 / n as f64 };
        ep.values.extend([share(new), share(lone)]);
    }
}

/// The alert of one episode: its rows, the accounts it links, its measures and path.
fn episode_alert(rule: &Rule, spec: &NetworkSpec, prep: &Prepared<'_>, ep: Episode) -> Result<Alert> {
    let mut rows: Vec<u32> = ep.rows.iter().copied().chain(ep.then_rows.iter().copied()).collect();
    rows.sort_unstable_by_key(|r| (prep.ts(*r), *r));
    rows.dedup();
    let account = prep.account(ep.anchor).to_string();
    let mut linked: Vec<String> = ep
        .nodes
        .iter()
        .filter(|n| **n != ep.anchor)
        .map(|n| prep.account(*n).to_string())
        .collect();
    linked.sort();
    let mut measures = BTreeMap::new();
    let mut texts = BTreeMap::new();
    for (name, v) in spec.names.iter().zip(&ep.values) {
        let av = if v.is_nan() {
            AnyValue::Null
        } else {
            AnyValue::Float64(*v)
        };
        measures.insert(name.clone(), json_value(&av));
        texts.insert(name.clone(), crate::engine::display_value(&av));
    }
    measures.insert("pattern".into(), serde_json::Value::from(ep.pattern.name()));
    texts.insert("pattern".into(), ep.pattern.name().replace('_', "-"));
    texts.insert("path".into(), ep.path.clone());
    let mut all: Vec<&str> = std::iter::once(account.as_str())
        .chain(linked.iter().map(String::as_str))
        .collect();
    all.truncate(20);
    texts.insert("accounts".into(), all.join(", "));
    texts.insert("first_time".into(), format::timestamp(ep.start));
    texts.insert("last_time".into(), format::timestamp(ep.end));
    let explanation = fill(
        &rule.def.explain,
        rule,
        &texts,
        &account,
        "both",
        Some(&spec.within.to_string()),
    );
    make_alert(
        prep,
        rule,
        AlertParts {
            account,
            side: SideSel::Both,
            rows,
            measures,
            explanation,
            linked_accounts: linked,
        },
    )
}

/// The measures of an episode, in the order of [`NAMES`].
fn values(prep: &Prepared<'_>, ep: &Episode) -> Vec<f64> {
    let sum = |rows: &[u32]| rows.iter().map(|r| prep.amount(*r)).sum::<f64>();
    let total = sum(&ep.rows);
    let start_total = sum(&ep.first_rows);
    let end_total = sum(&ep.last_rows);
    vec![
        ep.nodes.len() as f64,
        ep.rows.len() as f64,
        total,
        ep.hops as f64,
        ep.branches as f64,
        start_total,
        end_total,
        if start_total > 0.0 {
            end_total / start_total
        } else {
            f64::NAN
        },
        (ep.end - ep.start) as f64 / 3_600_000.0,
    ]
}

/// `a → b → c`, with at most `max` names.
fn path_text(prep: &Prepared<'_>, nodes: &[u32]) -> String {
    nodes.iter().map(|n| prep.account(*n)).collect::<Vec<_>>().join(" → ")
}

/// Values sorted, without repeats.
fn set(mut v: Vec<u32>) -> Vec<u32> {
    v.sort_unstable();
    v.dedup();
    v
}

/// Builds an episode from paths of one group (forward or backward edges already turned
/// into transaction rows and accounts).
fn episode_of(prep: &Prepared<'_>, pattern: Pattern, anchor: u32, last: u32, paths: &[&PathRec]) -> Episode {
    let mut rows = Vec::new();
    let mut nodes = Vec::new();
    let mut first_rows = Vec::with_capacity(paths.len());
    let mut last_rows = Vec::with_capacity(paths.len());
    let mut branches = Vec::with_capacity(paths.len());
    let mut hops = 0;
    let (mut start, mut end) = (i64::MAX, i64::MIN);
    for p in paths {
        rows.extend(p.rows.iter().copied());
        nodes.extend(p.nodes.iter().copied());
        first_rows.extend(p.rows.first().copied());
        last_rows.extend(p.rows.last().copied());
        branches.push(p.branch);
        hops = hops.max(p.rows.len());
        start = start.min(p.start);
        end = end.max(p.end);
    }
    let [rows, nodes, first_rows, last_rows, branches] = [rows, nodes, first_rows, last_rows, branches].map(set);
    let path = match pattern {
        Pattern::Cycle => path_text(prep, &paths[0].nodes),
        Pattern::ScatterGather => format!(
            "{} → {} intermediaries → {}",
            prep.account(anchor),
            branches.len(),
            prep.account(last)
        ),
        Pattern::FanIn => format!("{} accounts → {}", branches.len(), prep.account(anchor)),
        Pattern::FanOut | Pattern::GatherScatter => {
            format!("{} → {} accounts", prep.account(anchor), branches.len())
        }
    };
    Episode {
        pattern,
        anchor,
        last,
        start,
        end,
        rows,
        nodes,
        first_rows,
        last_rows,
        branches: if pattern == Pattern::Cycle {
            paths.len()
        } else {
            branches.len()
        },
        hops,
        path,
        then_rows: Vec::new(),
        values: Vec::new(),
    }
}

/// Every time-respecting cycle, found from its first transaction; the cycles of an account
/// that overlap in time merge.
fn cycles(s: &Search<'_>, prep: &Prepared<'_>, out: &mut Vec<Episode>) {
    let fwd = s.fwd;
    let Some(bwd) = s.bwd else { return };
    let mut found: Vec<Vec<u32>> = Vec::new();
    for a in 0..fwd.off.len() - 1 {
        let (lo, hi) = fwd.range(a as u32);
        if lo == hi {
            continue;
        }
        let mut recs: Vec<PathRec> = Vec::new();
        for root in lo..hi {
            // A cycle needs a payment back into its first account, later and in time.
            let after = (fwd.ts[root], fwd.row[root].saturating_add(1));
            if !bwd.any_in(a as u32, after, (fwd.ts[root].saturating_add(s.within + 1), 0)) {
                continue;
            }
            found.clear();
            s.forward(root, a as u32, true, &mut found);
            for rows in found.drain(..) {
                recs.push(path_rec(prep, a as u32, a as u32, recs.len() as u32, rows));
            }
        }
        // Overlapping cycles of this account merge, in start order.
        recs.sort_by_key(|r| (r.start, r.end, r.rows.clone()));
        let mut i = 0;
        while i < recs.len() {
            let mut j = i + 1;
            let mut end = recs[i].end;
            while j < recs.len() && recs[j].start <= end {
                end = end.max(recs[j].end);
                j += 1;
            }
            let group: Vec<&PathRec> = recs[i..j].iter().collect();
            out.push(episode_of(prep, Pattern::Cycle, a as u32, a as u32, &group));
            i = j;
        }
    }
}

/// A path from its transaction rows: its accounts from `origin` on, its span.
fn path_rec(prep: &Prepared<'_>, origin: u32, group: u32, branch: u32, rows: Vec<u32>) -> PathRec {
    let mut nodes = vec![origin];
    nodes.extend(rows.iter().map(|r| prep.receiver(*r)));
    PathRec {
        group,
        branch,
        start: prep.ts(rows[0]),
        end: prep.ts(rows[rows.len() - 1]),
        rows,
        nodes,
    }
}

/// Scatter-gather (grouped by the account reached, branches: first intermediaries) and
/// fan-out (branches: accounts reached), from each paying account.
fn fans_out(s: &Search<'_>, prep: &Prepared<'_>, pattern: Pattern, min_branches: usize, out: &mut Vec<Episode>) {
    let fwd = s.fwd;
    let mut found: Vec<Vec<u32>> = Vec::new();
    for a in 0..fwd.off.len() - 1 {
        let (lo, hi) = fwd.range(a as u32);
        // A fan needs at least as many payments out as branches when it has one hop.
        if hi - lo
            < if pattern == Pattern::ScatterGather {
                min_branches
            } else {
                1
            }
        {
            continue;
        }
        let mut recs: Vec<PathRec> = Vec::new();
        for root in lo..hi {
            found.clear();
            s.forward(root, a as u32, false, &mut found);
            for rows in found.drain(..) {
                let end_node = prep.receiver(*rows.last().unwrap_or(&0));
                let first = prep.receiver(rows[0]);
                let (group, branch) = match pattern {
                    Pattern::ScatterGather => (end_node, first),
                    _ => (a as u32, end_node),
                };
                recs.push(path_rec(prep, a as u32, group, branch, rows));
            }
        }
        recs.sort_by_key(|r| (r.group, r.start, r.end));
        for grp in recs.chunk_by(|x, y| x.group == y.group) {
            for ep in windows(&spans(grp), s.within, min_branches) {
                let paths: Vec<&PathRec> = ep.iter().map(|i| &grp[*i]).collect();
                out.push(episode_of(prep, pattern, a as u32, grp[0].group, &paths));
            }
        }
    }
}

/// (start, end, branch) of each path.
fn spans(paths: &[PathRec]) -> Vec<(i64, i64, u32)> {
    paths.iter().map(|p| (p.start, p.end, p.branch)).collect()
}

/// Fan-in: paths into each account, searched backward from each payment it receives.
fn fans_in(s: &Search<'_>, bwd: &Adj, prep: &Prepared<'_>, min_branches: usize, out: &mut Vec<Episode>) {
    if s.max_hops <= 1 {
        if s.min_hops <= 1 {
            fans_in_direct(s.within, bwd, prep, min_branches, out);
        }
        return;
    }
    fans_in_searched(s, bwd, prep, min_branches, out)
}

/// Fan-in by a backward search from each payment in.
fn fans_in_searched(s: &Search<'_>, bwd: &Adj, prep: &Prepared<'_>, min_branches: usize, out: &mut Vec<Episode>) {
    let mut found: Vec<Vec<usize>> = Vec::new();
    for t in 0..bwd.off.len() - 1 {
        let (lo, hi) = bwd.range(t as u32);
        if lo == hi {
            continue;
        }
        let mut recs: Vec<PathRec> = Vec::new();
        for root in lo..hi {
            found.clear();
            s.backward(bwd, root, t as u32, &mut found);
            for edges in &found {
                // Edges run backward in time: reverse them into time order.
                let rows: Vec<u32> = edges.iter().rev().map(|e| bwd.row[*e]).collect();
                let mut nodes: Vec<u32> = edges.iter().rev().map(|e| bwd.other[*e]).collect();
                nodes.push(t as u32);
                recs.push(PathRec {
                    group: t as u32,
                    branch: nodes[0],
                    start: bwd.ts[*edges.last().unwrap_or(&root)],
                    end: bwd.ts[edges[0]],
                    rows,
                    nodes,
                });
            }
        }
        recs.sort_by_key(|r| (r.start, r.end));
        for ep in windows(&spans(&recs), s.within, min_branches) {
            let paths: Vec<&PathRec> = ep.iter().map(|i| &recs[*i]).collect();
            out.push(episode_of(prep, Pattern::FanIn, t as u32, t as u32, &paths));
        }
    }
}

/// Fan-in of one hop: each payment into an account is a path, in time order already.
/// An account none of whose windows holds `min_branches` payments is passed over.
fn fans_in_direct(within: i64, bwd: &Adj, prep: &Prepared<'_>, min_branches: usize, out: &mut Vec<Episode>) {
    for t in 0..bwd.off.len() - 1 {
        let (lo, hi) = bwd.range(t as u32);
        if hi - lo < min_branches.max(1) {
            continue;
        }
        let ts = &bwd.ts[lo..hi];
        let mut first = 0;
        let dense = (0..ts.len()).any(|i| {
            while ts[i] - ts[first] > within {
                first += 1;
            }
            i + 1 - first >= min_branches
        });
        if !dense {
            continue;
        }
        let paths: Vec<(i64, i64, u32)> = (lo..hi).map(|e| (bwd.ts[e], bwd.ts[e], bwd.other[e])).collect();
        for ep in windows(&paths, within, min_branches) {
            let recs: Vec<PathRec> = ep
                .iter()
                .map(|i| {
                    let e = lo + i;
                    PathRec {
                        group: t as u32,
                        branch: bwd.other[e],
                        start: bwd.ts[e],
                        end: bwd.ts[e],
                        rows: vec![bwd.row[e]],
                        nodes: vec![bwd.other[e], t as u32],
                    }
                })
                .collect();
            let refs: Vec<&PathRec> = recs.iter().collect();
            out.push(episode_of(prep, Pattern::FanIn, t as u32, t as u32, &refs));
        }
    }
}

/// Windows of `within` over one group's paths, given as (start, end, branch), each path
/// inside a window from its start to its end, where the distinct branches reach
/// `min_branches`; windows that fire and overlap merge. Returns, for each episode, the
/// paths it holds (each path in one at most).
fn windows(paths: &[(i64, i64, u32)], within: i64, min_branches: usize) -> Vec<Vec<usize>> {
    let n = paths.len();
    let mut by_start: Vec<usize> = (0..n).collect();
    by_start.sort_by_key(|i| (paths[*i].0, paths[*i].1, *i));
    let mut by_end: Vec<usize> = (0..n).collect();
    by_end.sort_by_key(|i| (paths[*i].1, paths[*i].0, *i));
    let mut added = vec![false; n];
    let mut gone = vec![false; n];
    let mut counts: PlHashMap<u32, usize> = PlHashMap::new();
    let mut pending: Vec<usize> = Vec::new();
    let mut episodes: Vec<(i64, Vec<usize>)> = Vec::new();
    let (mut s_ptr, mut e_ptr) = (0usize, 0usize);
    let mut prev_start = None;
    for &anchor in &by_start {
        let s = paths[anchor].0;
        if prev_start == Some(s) {
            continue;
        }
        prev_start = Some(s);
        let bound = s.saturating_add(within);
        while s_ptr < n && paths[by_start[s_ptr]].0 < s {
            let p = by_start[s_ptr];
            gone[p] = true;
            if added[p] {
                added[p] = false;
                let c = counts.entry(paths[p].2).or_insert(1);
                *c -= 1;
                if *c == 0 {
                    counts.remove(&paths[p].2);
                }
            }
            s_ptr += 1;
        }
        while e_ptr < n && paths[by_end[e_ptr]].1 <= bound {
            let p = by_end[e_ptr];
            if !gone[p] {
                added[p] = true;
                *counts.entry(paths[p].2).or_insert(0) += 1;
                pending.push(p);
            }
            e_ptr += 1;
        }
        if counts.len() >= min_branches {
            let fresh: Vec<usize> = pending.drain(..).filter(|p| added[*p]).collect();
            match episodes.last_mut() {
                Some((b, ps)) if s <= *b => {
                    *b = bound;
                    ps.extend(fresh);
                }
                _ => episodes.push((bound, fresh)),
            }
        } else if pending.len() > 64 && pending.len() > 2 * counts.values().sum::<usize>() {
            pending.retain(|p| added[*p]);
        }
    }
    episodes.into_iter().map(|(_, ps)| ps).collect()
}

/// Gather-scatter at each account: for each payment out (the first of the scatter), the
/// payments in during `within` before it, and the payments out from it to `within` after
/// the first of those.
fn gather_scatter(s: &Search<'_>, bwd: &Adj, prep: &Prepared<'_>, min_branches: usize, out: &mut Vec<Episode>) {
    let fwd = s.fwd;
    for h in 0..fwd.off.len() - 1 {
        let (o_lo, o_hi) = fwd.range(h as u32);
        let (i_lo, i_hi) = bwd.range(h as u32);
        if o_hi - o_lo < min_branches || i_hi - i_lo < min_branches {
            continue;
        }
        let in_key = |i: usize| (bwd.ts[i], bwd.row[i]);
        let out_key = |i: usize| (fwd.ts[i], fwd.row[i]);
        // Gather window: in-edges [g_lo, g_hi); scatter window: out-edges [m, s_hi).
        let (mut g_lo, mut g_hi, mut s_hi) = (i_lo, i_lo, o_lo);
        let mut senders: BTreeMap<u32, usize> = BTreeMap::new();
        let mut payees: BTreeMap<u32, usize> = BTreeMap::new();
        let (mut g_total, mut s_total) = (0.0f64, 0.0f64);
        let mut in_pending: Vec<usize> = Vec::new();
        let mut out_pending: Vec<usize> = Vec::new();
        // Episodes: (bound, gather edges, scatter edges).
        let mut eps: Vec<(i64, Vec<usize>, Vec<usize>)> = Vec::new();
        let dec = |m: &mut BTreeMap<u32, usize>, k: u32| {
            if let Some(c) = m.get_mut(&k) {
                *c -= 1;
                if *c == 0 {
                    m.remove(&k);
                }
            }
        };
        for m in o_lo..o_hi {
            let mk = out_key(m);
            // Payments in before m, at most `within` before it.
            while g_hi < i_hi && in_key(g_hi) < mk {
                *senders.entry(bwd.other[g_hi]).or_insert(0) += 1;
                g_total += bwd.amt[g_hi];
                in_pending.push(g_hi);
                g_hi += 1;
            }
            while g_lo < g_hi && bwd.ts[g_lo] < mk.0 - s.within {
                dec(&mut senders, bwd.other[g_lo]);
                g_total -= bwd.amt[g_lo];
                g_lo += 1;
            }
            // The scatter starts at m.
            if m > o_lo {
                let p = m - 1;
                if p < s_hi {
                    dec(&mut payees, fwd.other[p]);
                    s_total -= fwd.amt[p];
                }
            }
            if s_hi < m {
                s_hi = m;
            }
            if g_lo == g_hi {
                continue;
            }
            let bound = bwd.ts[g_lo].saturating_add(s.within);
            while s_hi < o_hi && fwd.ts[s_hi] <= bound {
                *payees.entry(fwd.other[s_hi]).or_insert(0) += 1;
                s_total += fwd.amt[s_hi];
                out_pending.push(s_hi);
                s_hi += 1;
            }
            let amounts_ok = s.tol.is_none_or(|t| (s_total - g_total).abs() <= t * g_total + 1e-9);
            if senders.len() >= min_branches && payees.len() >= min_branches && amounts_ok {
                let g: Vec<usize> = in_pending.drain(..).filter(|i| *i >= g_lo && *i < g_hi).collect();
                let o: Vec<usize> = out_pending.drain(..).filter(|i| *i >= m && *i < s_hi).collect();
                let start = bwd.ts[g_lo];
                match eps.last_mut() {
                    Some((b, gs, os)) if start <= *b => {
                        *b = (*b).max(bound);
                        gs.extend(g);
                        os.extend(o);
                    }
                    _ => eps.push((bound, g, o)),
                }
            } else {
                if in_pending.len() > 64 && in_pending.len() > 2 * (g_hi - g_lo) {
                    in_pending.retain(|i| *i >= g_lo);
                }
                if out_pending.len() > 64 && out_pending.len() > 2 * (s_hi - m) {
                    out_pending.retain(|i| *i >= m);
                }
            }
        }
        for (_, g, o) in eps {
            let mut rows = Vec::with_capacity(g.len() + o.len());
            let mut nodes = vec![h as u32];
            let mut start = i64::MAX;
            let mut end = i64::MIN;
            let mut snd = Vec::with_capacity(g.len());
            let mut pay = Vec::with_capacity(o.len());
            for &i in &g {
                rows.push(bwd.row[i]);
                nodes.push(bwd.other[i]);
                snd.push(bwd.other[i]);
                start = start.min(bwd.ts[i]);
                end = end.max(bwd.ts[i]);
            }
            for &i in &o {
                rows.push(fwd.row[i]);
                nodes.push(fwd.other[i]);
                pay.push(fwd.other[i]);
                start = start.min(fwd.ts[i]);
                end = end.max(fwd.ts[i]);
            }
            let first_rows = set(g.iter().map(|i| bwd.row[*i]).collect());
            let last_rows = set(o.iter().map(|i| fwd.row[*i]).collect());
            let [rows, nodes, snd, pay] = [rows, nodes, snd, pay].map(set);
            out.push(Episode {
                pattern: Pattern::GatherScatter,
                anchor: h as u32,
                last: h as u32,
                start,
                end,
                rows,
                nodes,
                first_rows,
                last_rows,
                branches: snd.len().min(pay.len()),
                hops: 2,
                path: format!(
                    "{} senders → {} → {} payees",
                    snd.len(),
                    prep.account(h as u32),
                    pay.len()
                ),
                then_rows: Vec::new(),
                values: Vec::new(),
            });
        }
    }
}

/// Evaluates `match` for each episode.
fn eval_match(rule_id: &str, names: &[String], eps: &[Episode], compiled: &Expr) -> Result<Vec<bool>> {
    let cols: Vec<Column> = names
        .iter()
        .enumerate()
        .map(|(k, n)| {
            Float64Chunked::from_iter_options(
                n.as_str().into(),
                eps.iter().map(|e| e.values.get(k).copied().filter(|x| !x.is_nan())),
            )
            .into_series()
            .into_column()
        })
        .collect();
    let out = DataFrame::new_infer_height(cols)
        .and_then(|df| {
            df.lazy()
                .select([compiled.clone().fill_null(lit(false)).alias("m")])
                .collect()
        })
        .rule_ctx(rule_id, || "evaluating `match`".into())?;
    let m = out.column("m").rule_ctx(rule_id, || "reading `match`".into())?;
    let b = m.bool().map_err(|_| Error::Rule {
        rule_id: rule_id.to_string(),
        message: format!("`match` must be true or false; it gives {}", m.dtype()),
    })?;
    Ok(b.iter().map(|v| v.unwrap_or(false)).collect())
}

/// `rules show`: the patterns, hops, time, amounts, branches and what follows.
fn describe(rule: &Rule, n: &NetworkSpec, o: &mut String) {
    use std::fmt::Write;
    let d: NetworkDef = super::read_fields(&rule.def);
    let names: Vec<&str> = n.patterns.iter().map(|p| p.name()).collect();
    let _ = writeln!(o, "pattern:     {}", names.join(", "));
    let _ = writeln!(o, "hops:        {} to {}", n.min_hops, n.max_hops);
    let _ = writeln!(o, "within:      {}", n.within);
    if let Some(t) = n.tolerance {
        let _ = writeln!(o, "amounts:     each hop within {}% of the previous one", t * 100.0);
    }
    if !names.iter().all(|p| *p == "cycle") {
        let _ = writeln!(o, "branches:    at least {}", n.min_branches);
    }
    if let Some(t) = &d.then {
        let _ = writeln!(
            o,
            "then:        {} within {}",
            t.where_.as_deref().unwrap_or("any payment").trim(),
            t.window.as_deref().unwrap_or("")
        );
    }
    if let Some(m) = &d.match_ {
        let _ = writeln!(o, "match:       {}", m.trim());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `match` that polars rejects while it runs (it names a measure the episodes do
    /// not have) fails the rule with polars' error as the cause.
    #[test]
    fn a_match_failing_on_data_keeps_the_polars_error_as_its_cause() {
        let names = vec!["n_hops".to_string()];
        let compiled = expr::compile("no_such_measure > 1").expect("compiles");
        let err = eval_match("r1", &names, &[], &compiled).expect_err("fails on data");
        assert!(
            matches!(&err, Error::RuleData { rule_id, context, .. } if rule_id == "r1" && context == "evaluating `match`")
        );
        assert_eq!(err.to_string(), "rule r1: evaluating `match`");
        let source = std::error::Error::source(&err).expect("a cause");
        let polars = source.downcast_ref::<PolarsError>().expect("the polars error");
        assert!(polars.to_string().contains("no_such_measure"), "{polars}");
    }

    fn path(branch: u32, start: i64, end: i64) -> (i64, i64, u32) {
        (start, end, branch)
    }

    #[test]
    fn windows_fire_on_distinct_branches_inside_one_window() {
        // Three branches within 10: one episode holding all three.
        let p = vec![path(1, 0, 2), path(2, 1, 5), path(3, 4, 10)];
        assert_eq!(windows(&p, 10, 3), vec![vec![0, 1, 2]]);
        // The third ends past the window of the first: no window holds three.
        let p = vec![path(1, 0, 2), path(2, 1, 5), path(3, 4, 11)];
        assert!(windows(&p, 10, 3).is_empty());
        // Two paths of one branch count once.
        let p = vec![path(1, 0, 2), path(1, 1, 5), path(3, 4, 9)];
        assert!(windows(&p, 10, 3).is_empty());
        // Two bursts far apart: two episodes; overlapping firing windows merge.
        let p = vec![
            path(1, 0, 1),
            path(2, 1, 2),
            path(3, 2, 3),
            path(4, 100, 101),
            path(5, 101, 102),
            path(6, 105, 106),
            path(7, 112, 113),
        ];
        // The last is in no window of three branches.
        assert_eq!(windows(&p, 10, 3), vec![vec![0, 1, 2], vec![3, 4, 5]]);
        let mut p = p;
        p.push(path(8, 108, 109));
        // Now the window from 105 holds three, and overlaps the one from 100.
        assert_eq!(windows(&p, 10, 3), vec![vec![0, 1, 2], vec![3, 4, 5, 7, 6]]);
    }

    /// The amount index and the time scan find the same edges.
    #[test]
    fn scan_by_amount_agrees_with_scan_by_time() {
        let mut next = super::super::xorshift(88172645463325252);
        let n = 500u32;
        let mut edges: Vec<(u32, u32, i64, u32)> = (0..n).map(|r| (0, 1 + r % 7, (next() % 1000) as i64, r)).collect();
        edges.sort_unstable_by_key(|e| (e.0, e.2, e.3));
        let amount: Vec<f64> = (0..n).map(|_| (next() % 10_000) as f64).collect();
        let with = Adj::new(8, &edges, &amount, true);
        let without = Adj::new(8, &edges, &amount, false);
        for _ in 0..200 {
            let t0 = (next() % 1000) as i64;
            let t1 = t0 + (next() % 600) as i64;
            let a = (next() % 10_000) as f64;
            let band = Some((a * 0.9, a * 1.1));
            let (mut b1, mut b2) = (usize::MAX, usize::MAX);
            let (mut c1, mut c2) = (Vec::new(), Vec::new());
            assert!(with.scan(0, (t0, 0), (t1, 0), band, &mut b1, &mut c1));
            assert!(without.scan(0, (t0, 0), (t1, 0), band, &mut b2, &mut c2));
            assert_eq!(c1, c2);
            assert!(c1.iter().all(|i| with.amt[*i] >= a * 0.9 && with.amt[*i] <= a * 1.1));
            assert_eq!(with.count_in(0, (t0, 0), (t1, 0)) > 0, with.any_in(0, (t0, 0), (t1, 0)));
        }
    }

    /// One-hop fan-in read straight from the payments in finds the episodes the
    /// backward search finds, on random payments among a few accounts.
    #[test]
    fn direct_fan_in_agrees_with_the_search() {
        let mut next = super::super::xorshift(0x2545F4914F6CDD1D);
        let n = 3_000usize;
        let hour = 3_600_000i64;
        let mut rows: Vec<(i64, String, String)> = (0..n)
            .map(|_| {
                let a = next() % 60;
                let b = if next() % 3 == 0 { next() % 8 } else { 8 + next() % 400 };
                ((next() % 2_000) as i64 * hour, format!("A{a}"), format!("A{b}"))
            })
            .collect();
        rows.sort();
        let df = df!(
            "ts" => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            "amount" => vec![10.0; n],
            "orig_account" => rows.iter().map(|r| r.1.clone()).collect::<Vec<_>>(),
            "bene_account" => rows.iter().map(|r| r.2.clone()).collect::<Vec<_>>(),
        )
        .unwrap()
        .lazy()
        .with_column(col("ts").cast(DataType::Datetime(TimeUnit::Milliseconds, None)))
        .collect()
        .unwrap();
        let ds = crate::ingest::Dataset::from_frame(df, "test", &Default::default()).unwrap();
        let prep = Prepared::new(&ds).unwrap();
        let n_nodes = prep.account_count();
        let mut edges: Vec<(u32, u32, i64, u32)> = Vec::new();
        let orig: Vec<u32> = (0..n as u32).map(|r| prep.payer(r)).collect();
        for r in 0..n as u32 {
            let (a, b) = (orig[r as usize], prep.receiver(r));
            if a != b {
                edges.push((b, a, prep.ts(r), r));
            }
        }
        edges.sort_unstable_by_key(|e| (e.0, e.2, e.3));
        let bwd = Adj::new(n_nodes, &edges, prep.amounts(), false);
        let fwd = Adj::new(n_nodes, &[], prep.amounts(), false);
        for (within, min_branches) in [(100 * hour, 2), (300 * hour, 3), (24 * hour, 4), (500 * hour, 5)] {
            let search = Search {
                fwd: &fwd,
                live: None,
                bwd: Some(&bwd),
                tol: None,
                min_hops: 1,
                max_hops: 1,
                within,
                cut: std::cell::Cell::new(0),
            };
            let (mut direct, mut searched) = (Vec::new(), Vec::new());
            fans_in(&search, &bwd, &prep, min_branches, &mut direct);
            fans_in_searched(&search, &bwd, &prep, min_branches, &mut searched);
            assert!(!direct.is_empty(), "{within} {min_branches}");
            let key = |e: &Episode| {
                (
                    e.anchor,
                    e.start,
                    e.end,
                    e.rows.clone(),
                    e.nodes.clone(),
                    e.branches,
                    e.path.clone(),
                )
            };
            let a: Vec<_> = direct.iter().map(key).collect();
            let b: Vec<_> = searched.iter().map(key).collect();
            assert_eq!(a, b, "{within} {min_branches}");
        }
    }

    #[test]
    fn a_search_stops_at_its_budget() {
        let edges: Vec<(u32, u32, i64, u32)> = (0..100).map(|r| (0, 1, r as i64, r)).collect();
        let amount = vec![1.0; 100];
        let adj = Adj::new(2, &edges, &amount, false);
        let mut budget = 10;
        let mut c = Vec::new();
        assert!(!adj.scan(0, (0, 0), (1000, 0), None, &mut budget, &mut c));
        assert_eq!(c.len(), 10);
    }
}
