#![doc = include_str!("../../../../docs/kinds/sequence.md")]

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::{aggregate, Checker, Field, Kind};
use crate::engine::{dedup, fill, gather_rows, make_alert, AlertParts, Prepared, Scope};
use crate::error::{Error, Result, RuleContext};
use crate::expr::{self, ExprRole};
use crate::model::{Alert, Rule, RuleDef, RuleKind, Side, SideSel, Window};
use crate::util::format;
use crate::util::search::partition_point_from;
use crate::util::window::{window_sum, PrefixSums, SlidingRanks};

/// Pairs (first event, then event) evaluated at once; bounds memory on busy accounts.
const CHUNK: usize = 1 << 20;

/// One event of a sequence, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct EventSpec {
    /// Sides the event is on.
    pub side: SideSel,
    /// The engine's condition slot.
    pub slot: usize,
    /// `first` only: the trailing window, its measures and condition.
    pub episode: Option<Episode>,
}

/// A windowed `first`: the trailing window, its measures and its condition.
#[derive(Debug, Clone, PartialEq)]
pub struct Episode {
    /// The window.
    pub window: Window,
    /// Named measures.
    pub measures: Vec<(String, String)>,
    /// The condition over them.
    pub having: String,
}

/// The checked content of a sequence rule.
#[derive(Debug, Clone, PartialEq)]
pub struct SequenceSpec {
    /// The first event.
    pub first: EventSpec,
    /// The events that follow; without them (`has_then` false) the rule is an event in
    /// its context (`prior`), and `then` is unused.
    pub then: EventSpec,
    /// Whether the rule has `then` events.
    pub has_then: bool,
    /// Context before the first event, and its window.
    pub prior: Option<(EventSpec, Window)>,
    /// How long after the first event the others may come.
    pub within: Window,
    /// The condition, over [`SequenceSpec::names`].
    pub match_sql: String,
    /// The names `match` may use.
    pub names: Vec<String>,
    /// The pattern must repeat: a trailing window over the sequences' first events, and a
    /// condition over [`REPEAT_NAMES`].
    pub repeat: Option<Repeat>,
}

/// A sequence rule's `repeat`, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Repeat {
    /// The trailing window over the first events.
    pub window: Window,
    /// Measures over the first events in the window (SQL aggregates).
    pub measures: Vec<(String, String)>,
    /// The condition over [`REPEAT_NAMES`] and the measures.
    pub having: String,
}

/// Names `repeat.having` may use: over the sequences whose first event lies in the window.
pub const REPEAT_NAMES: &[&str] = &[
    "n_sequences",
    "median_dwell_minutes",
    "max_dwell_minutes",
    "sum_first_amount",
    "sum_then_total",
];

const THEN_NAMES: &[&str] = &[
    "then_total",
    "then_count",
    "then_min",
    "then_max",
    "then_amount",
    "then_counterparties",
    "then_pct",
    "dwell_minutes",
    "dwell_hours",
];

/// `first.amount` → `first_amount` (outside string literals).
fn flatten_dots(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_str = false;
    let b = text.as_bytes();
    let mut i = 0;
    while i < text.len() {
        let c = b[i];
        if c == b'\'' {
            in_str = !in_str;
        }
        if !in_str && c == b'.' && i > 0 {
            let before = &text[..i];
            let word_start = before
                .rfind(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
                .map(|k| k + 1)
                .unwrap_or(0);
            let word = &before[word_start..];
            let next_is_ident = b.get(i + 1).is_some_and(|n| n.is_ascii_alphabetic() || *n == b'_');
            if matches!(word, "first" | "then" | "prior") && next_is_ident {
                out.push('_');
                i += 1;
                continue;
            }
        }
        out.push(c as char);
        i += 1;
    }
    out
}

fn check_event(
    name: &str,
    ev: Option<&EventDef>,
    cx: &mut Checker<'_>,
    windowed: bool,
    example: &str,
) -> Option<EventSpec> {
    let Some(ev) = ev else {
        cx.problem(name, format!("a sequence rule needs `{name}`, such as {example}"));
        return None;
    };
    let side = ev.side.unwrap_or(SideSel::Both);
    let slot = cx.condition(&format!("{name}.where"), side, ev.where_.as_deref());
    let mut episode = None;
    match name {
        "first" => {
            let any = ev.window.is_some() || !ev.measures.is_empty() || ev.having.is_some();
            if any {
                if ev.measures.is_empty() || ev.having.is_none() || ev.window.is_none() {
                    cx.problem(
                        name,
                        "a windowed `first` needs `window`, `measures` and `having` together, as an aggregate rule does",
                    );
                } else {
                    let measures = aggregate::check_measures("first.measures", &ev.measures, cx);
                    let names: Vec<String> = ev.measures.keys().cloned().collect();
                    let before = cx.columns.clone();
                    let having = cx.expr(
                        "first.having",
                        ev.having.as_deref().unwrap_or(""),
                        ExprRole::Having(&names),
                    );
                    cx.columns = before;
                    let window = cx.window("first.window", ev.window.as_deref(), "14d");
                    if let (Some(w), Some(h)) = (window, having) {
                        episode = Some(Episode {
                            window: w,
                            measures,
                            having: h,
                        });
                    }
                }
            }
        }
        _ => {
            for (f, set) in [
                ("measures", !ev.measures.is_empty()),
                ("having", ev.having.is_some()),
                ("window", ev.window.is_some() && !windowed),
            ] {
                if set {
                    cx.problem(
                        &format!("{name}.{f}"),
                        format!("`{name}` takes no `{f}`; only `first` does"),
                    );
                }
            }
        }
    }
    Some(EventSpec { side, slot, episode })
}

/// A sequence rule's `repeat`: a trailing window over the sequences' first events,
/// optional measures over those events, and the condition.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RepeatDef {
    /// The trailing window.
    pub(crate) window: String,
    /// SQL aggregates over the first events of the sequences in the window.
    #[serde(default)]
    pub(crate) measures: BTreeMap<String, String>,
    /// The condition.
    pub(crate) having: String,
}

/// An event of a sequence rule: a condition on one side, optionally over a window.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EventDef {
    /// The side the event is on (default: the rule's).
    #[serde(default)]
    pub(crate) side: Option<SideSel>,
    /// The row condition.
    #[serde(default, rename = "where")]
    pub(crate) where_: Option<String>,
    /// `first` as an episode, or `prior`: the trailing window.
    #[serde(default)]
    pub(crate) window: Option<String>,
    /// `first` as an episode: named measures over its window.
    #[serde(default)]
    pub(crate) measures: BTreeMap<String, String>,
    /// `first` as an episode: the condition over its measures.
    #[serde(default)]
    pub(crate) having: Option<String>,
}

/// A sequence rule's own fields as written.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SequenceDef {
    /// The first event.
    #[serde(default)]
    pub(crate) first: Option<EventDef>,
    /// The events that follow it.
    #[serde(default)]
    pub(crate) then: Option<EventDef>,
    /// How long after the first event the others may come.
    #[serde(default)]
    pub(crate) within: Option<String>,
    /// The relation between the first event and what follows.
    #[serde(default, rename = "match")]
    pub(crate) match_: Option<String>,
    /// The account's activity before the first event, as context.
    #[serde(default)]
    pub(crate) prior: Option<EventDef>,
    /// The pattern must repeat: a window over the sequences, measures over their first events, and a condition.
    #[serde(default)]
    pub(crate) repeat: Option<RepeatDef>,
}

/// Kind `sequence`.
pub(crate) struct Sequence;

impl Kind for Sequence {
    fn name(&self) -> &'static str {
        "sequence"
    }
    fn fields(&self) -> &'static [Field] {
        &[
            Field {
                name: "first",
                doc: "the first event: a condition on one side, or an episode over a window",
            },
            Field {
                name: "within",
                doc: "how long after the first event the others may come",
            },
            Field {
                name: "then",
                doc: "the events that follow it",
            },
            Field {
                name: "prior",
                doc: "the account's activity before the first event, as context",
            },
            Field {
                name: "match",
                doc: "the relation between the first event and what follows",
            },
            Field {
                name: "repeat",
                doc: "the pattern must repeat: a window over the sequences, measures and a condition",
            },
        ]
    }
    fn doc(&self) -> &'static str {
        include_str!("../../../../docs/kinds/sequence.md")
    }
    fn written(&self, def: &RuleDef) -> serde_yaml_ng::Mapping {
        super::written_fields::<SequenceDef>(def)
    }
    fn check(&self, def: &RuleDef, cx: &mut Checker<'_>) -> RuleKind {
        RuleKind::new(self.name(), check(def, cx))
    }
    fn run(&self, rule: &Rule, scope: &Scope<'_, '_>) -> Result<Vec<Alert>> {
        run(rule, super::spec_of::<SequenceSpec>(rule)?, scope)
    }
    fn cost(&self, _rule: &Rule) -> u8 {
        1
    }
    fn side_text(&self, _rule: &Rule) -> Option<&'static str> {
        Some("per event (`first`, `then`)")
    }
}

fn check(def: &RuleDef, cx: &mut Checker<'_>) -> SequenceSpec {
    let d: SequenceDef = super::parse_fields(def, cx);
    let first = check_event(
        "first",
        d.first.as_ref(),
        cx,
        false,
        "{side: in, where: \"amount_base >= 1000\"}",
    );
    // Without `then`, the rule is an event in its context: `first`, `prior` and `match`.
    let has_then = d.then.is_some();
    let then = if has_then {
        check_event(
            "then",
            d.then.as_ref(),
            cx,
            false,
            "{side: out, where: \"channel IN ('wire', 'cash_out')\"}",
        )
    } else {
        if d.prior.is_none() {
            cx.problem(
                "then",
                "a sequence rule needs `then` (the events that follow), or `prior` (the context of a single event)",
            );
        }
        Some(EventSpec {
            side: SideSel::Both,
            slot: usize::MAX,
            episode: None,
        })
    };
    let prior = match &d.prior {
        Some(p) => {
            let ev = check_event("prior", Some(p), cx, true, "");
            let w = cx.window("prior.window", p.window.as_deref(), "30d");
            ev.zip(w)
        }
        None => None,
    };
    let within = if has_then {
        cx.window("within", d.within.as_deref(), "24h")
    } else {
        if d.within.is_some() {
            cx.problem("within", "`within` goes with `then`; this rule has no `then`");
        }
        Some(Window { ms: 0 })
    };
    let mut names: Vec<String> = vec!["first_amount".into(), "first_count".into()];
    if let Some(ep) = first.as_ref().and_then(|f| f.episode.as_ref()) {
        names.extend(ep.measures.iter().map(|(n, _)| format!("first_{n}")));
    }
    names.extend(THEN_NAMES.iter().map(|s| s.to_string()));
    if prior.is_some() {
        names.extend(["prior_total".to_string(), "prior_count".to_string()]);
    }
    let match_sql = match &d.match_ {
        None => {
            cx.problem(
                "match",
                "a sequence rule needs `match`, such as \"then.total >= 0.9 * first.amount\"",
            );
            None
        }
        Some(m) => {
            let before = cx.columns.clone();
            let flat = flatten_dots(m);
            let out = cx.expr("match", &flat, ExprRole::Over(&names));
            cx.columns = before;
            if !has_then {
                if let Some(n) = THEN_NAMES.iter().find(|n| names_identifier(&flat, n)) {
                    cx.problem("match", format!("`{n}` needs `then` events; this rule has none"));
                }
            }
            out
        }
    };
    let mut repeat_names: Vec<String> = Vec::new();
    let repeat = d.repeat.as_ref().and_then(|r| {
        let w = cx.window("repeat.window", Some(&r.window), "30d");
        let measures = aggregate::check_measures("repeat.measures", &r.measures, cx);
        repeat_names = REPEAT_NAMES.iter().map(|s| s.to_string()).collect();
        for (m, _) in &measures {
            if REPEAT_NAMES.contains(&m.as_str()) {
                cx.problem(
                    &format!("repeat.measures.{m}"),
                    format!("`{m}` is a built-in name; call the measure otherwise"),
                );
            }
        }
        repeat_names.extend(measures.iter().map(|(n, _)| n.clone()));
        let before = cx.columns.clone();
        let h = cx.expr("repeat.having", &r.having, ExprRole::Over(&repeat_names));
        cx.columns = before;
        Some(Repeat {
            window: w?,
            measures,
            having: h?,
        })
    });
    cx.placeholders(repeat_names.iter().cloned());
    cx.placeholders(names.iter().cloned());
    cx.placeholders(["first_time", "then_time", "dwell", "n_sequences"]);
    // What run() reads beside the conditions' columns.
    cx.columns.insert("amount_base".into());
    match (first, then, within, match_sql) {
        (Some(first), Some(then), Some(within), Some(match_sql)) => SequenceSpec {
            first,
            then,
            has_then,
            prior,
            within,
            match_sql,
            names,
            repeat,
        },
        // Problems are reported; the spec is never run.
        _ => SequenceSpec {
            first: EventSpec {
                side: SideSel::Both,
                slot: 0,
                episode: None,
            },
            then: EventSpec {
                side: SideSel::Both,
                slot: 0,
                episode: None,
            },
            has_then: false,
            prior: None,
            within: Window { ms: 0 },
            match_sql: "false".into(),
            names,
            repeat: None,
        },
    }
}

/// A first event: its anchor row, the rows it stands for, and its values.
struct Candidate {
    account: u32,
    ts: i64,
    row: u32,
    side: Side,
    start_ts: i64,
    /// The rows of its window (`first.episode`); empty when it stands for its own row
    /// only, as most do, which then needs no list of its own ([`Candidate::rows`]).
    window_rows: Vec<u32>,
    /// Its total and count, then its window's measures (`first.episode`).
    total: f64,
    count: f64,
    measures: Vec<f64>,
}

impl Candidate {
    /// The rows it stands for.
    fn rows(&self) -> &[u32] {
        if self.window_rows.is_empty() {
            std::slice::from_ref(&self.row)
        } else {
            &self.window_rows
        }
    }

    /// How many values it has: total, count, then the window's measures.
    fn n_values(&self) -> usize {
        2 + self.measures.len()
    }

    /// Its values: total, count, then the window's measures.
    fn values(&self) -> impl Iterator<Item = f64> + '_ {
        [self.total, self.count]
            .into_iter()
            .chain(self.measures.iter().copied())
    }
}

/// The then-events' running values at one step.
#[derive(Clone, Copy)]
struct Step {
    cand: u32,
    upto: u32,
    total: f64,
    count: f64,
    min: f64,
    max: f64,
    last: f64,
    cps: f64,
    dwell_ms: i64,
    ts: i64,
}

impl Step {
    /// A first event alone, for a rule with no `then`.
    fn alone(ci: usize, c: &Candidate) -> Step {
        Step {
            cand: ci as u32,
            upto: u32::MAX,
            total: f64::NAN,
            count: f64::NAN,
            min: f64::NAN,
            max: f64::NAN,
            last: f64::NAN,
            cps: f64::NAN,
            dwell_ms: 0,
            ts: c.ts,
        }
    }
}

struct Fired {
    account: u32,
    anchor: (u32, Side),
    start: i64,
    end: i64,
    rows: Vec<u32>,
    values: BTreeMap<String, f64>,
    first_ts: i64,
    then_ts: i64,
}

/// A sequence rule's first events and what its stages read of them: the then-events,
/// the prior context and the then-events' counterparties.
struct Walk<'a> {
    spec: &'a SequenceSpec,
    prep: &'a Prepared<'a>,
    /// The first events that can fire.
    cands: Vec<Candidate>,
    /// The then-events, in (account, ts, row) order.
    then_rows: Vec<(u32, i64, u32, Side)>,
    /// With `prior`, each first event's prior total and count.
    prior_vals: Option<Vec<(f64, f64)>>,
    /// Whether the rule reads `then_counterparties`.
    wants_cps: bool,
    /// Each then-event's counterparty as an integer (`u32::MAX` for none or unread).
    cp_keys: Vec<u32>,
}

/// The rule's alerts, a slice of accounts at a time (about
/// [`crate::engine::Prepared::slice_rows`] rows of both sides): a sequence lies within one
/// account, so the slices' alerts, in account order, are the whole's, and a slice's events
/// are all that is held at once.
fn run(rule: &Rule, spec: &SequenceSpec, scope: &Scope<'_, '_>) -> Result<Vec<Alert>> {
    let mut compiled: Option<Expr> = None;
    let mut alerts = Vec::new();
    let mut cut = 0;
    for slice in scope.account_slices(SideSel::Both, scope.data().slice_rows()) {
        let Some(walk) = first_events(rule, spec, scope, slice)? else {
            continue;
        };
        let compiled = match &mut compiled {
            Some(c) => c,
            empty => empty.insert(expr::compile(&spec.match_sql).rule_ctx(rule.id(), || "compiling `match`".into())?),
        };
        let (hit, slice_cut) = first_hits(rule, &walk, compiled)?;
        cut += slice_cut;
        let fired = fired_sequences(&walk, &hit);
        let fired = match &spec.repeat {
            None => fired,
            Some(rep) => repeated(walk.prep, rule, fired, rep)?,
        };
        let episodes = merge_sequences(spec, fired);
        alerts.extend(sequence_alerts(rule, spec, walk.prep, episodes)?);
    }
    if cut > 0 {
        let rest = format!(
            "more than {MAX_WALK} then-events within {}; each was followed through its first {MAX_WALK}",
            spec.within
        );
        scope.note_limit(
            cut,
            format!("first event had {rest}"),
            format!("first events had {rest}"),
        );
    }
    Ok(dedup(alerts))
}

/// The first events that can fire (on accounts with then-events, when there are
/// then-events), with their prior context and the then-events' counterparties; `None`
/// when nothing can fire.
fn first_events<'a>(
    rule: &Rule,
    spec: &'a SequenceSpec,
    scope: &'a Scope<'a, '_>,
    slice: (u32, u32),
) -> Result<Option<Walk<'a>>> {
    let prep = scope.data();
    let first_rows = scope.side_rows_in(spec.first.slot, spec.first.side, slice);
    let then_rows = if spec.has_then {
        scope.side_rows_in(spec.then.slot, spec.then.side, slice)
    } else {
        Vec::new()
    };
    if first_rows.is_empty() || (spec.has_then && then_rows.is_empty()) {
        return Ok(None);
    }
    let mut cands = candidates(prep, rule, spec, &first_rows)?;
    if spec.has_then {
        // Only firsts on accounts that have then-events can fire.
        let then_accounts: BTreeSet<u32> = then_rows.iter().map(|r| r.0).collect();
        cands.retain(|c| then_accounts.contains(&c.account));
    }
    if cands.is_empty() {
        return Ok(None);
    }
    let prior_vals = prior_values(spec, scope, &cands, slice);
    // Counterparties of the then-events, as integers, when the rule reads them.
    let wants_cps = names_identifier(&spec.match_sql, "then_counterparties")
        || crate::model::placeholders(&rule.def.explain)
            .iter()
            .any(|p| p == "then_counterparties");
    let cp_keys: Vec<u32> = if !wants_cps {
        vec![u32::MAX; then_rows.len()]
    } else {
        let df = gather_rows(prep, &then_rows, &["counterparty".to_string()])?;
        let ca = df
            .column("counterparty")
            .and_then(|c| c.str().cloned())
            .rule_ctx(rule.id(), || "reading the counterparties".into())?;
        let mut map: PlHashMap<String, u32> = PlHashMap::new();
        ca.iter()
            .map(|v| match v {
                Some(s) => {
                    let next = map.len() as u32;
                    *map.entry(s.to_string()).or_insert(next)
                }
                None => u32::MAX,
            })
            .collect()
    };
    Ok(Some(Walk {
        spec,
        prep,
        cands,
        then_rows,
        prior_vals,
        wants_cps,
        cp_keys,
    }))
}

/// With `prior`, each first event's context: the total and count in `[t - w, t)`, by
/// prefix sums over the prior rows.
fn prior_values(
    spec: &SequenceSpec,
    scope: &Scope<'_, '_>,
    cands: &[Candidate],
    slice: (u32, u32),
) -> Option<Vec<(f64, f64)>> {
    let prep = scope.data();
    let (ev, w) = spec.prior.as_ref()?;
    let rows = scope.side_rows_in(ev.slot, ev.side, slice);
    // Each account's sums from zero, so that no amount of one account reaches another's.
    let mut prefix = vec![0.0f64; rows.len() + 1];
    for (i, r) in rows.iter().enumerate() {
        let before = if i == 0 || rows[i - 1].0 != r.0 { 0.0 } else { prefix[i] };
        prefix[i + 1] = before + prep.amount(r.2);
    }
    // Candidates come in (account, ts) order: each search goes on from the last one's
    // (from the top, should one come before).
    let (mut lo_from, mut hi_from) = (0usize, 0usize);
    let mut last = (0u32, i64::MIN);
    Some(
        cands
            .iter()
            .map(|c| {
                if (c.account, c.ts) < last {
                    (lo_from, hi_from) = (0, 0);
                }
                last = (c.account, c.ts);
                let lo = partition_point_from(&rows, lo_from, |r| (r.0, r.1) < (c.account, c.ts.saturating_sub(w.ms)));
                let hi = partition_point_from(&rows, hi_from, |r| (r.0, r.1) < (c.account, c.ts));
                (lo_from, hi_from) = (lo, hi);
                // The account's total of the rows before row k.
                let sum_to = |k: usize| {
                    if k == 0 || rows[k - 1].0 != c.account {
                        0.0
                    } else {
                        prefix[k]
                    }
                };
                (sum_to(hi) - sum_to(lo), (hi - lo) as f64)
            })
            .collect(),
    )
}

/// Then-events a first event's walk takes in the first round; each later round takes
/// four times as many (see [`first_hits`]).
const FIRST_ROUND_STEPS: usize = 16;

/// The most then-events a first event's walk follows: on an account busier than that
/// within `within` (a payment processor, a payroll account), the walk stops there and
/// the manifest says how many walks were cut short.
pub(crate) const MAX_WALK: usize = 4096;

/// Where a first event's walk over its then-events stands: the next then-event and the
/// running then-values so far.
struct Walker {
    cand: u32,
    j: usize,
    /// Then-events taken so far.
    taken: usize,
    total: f64,
    count: f64,
    min: f64,
    max: f64,
    seen_cp: BTreeSet<u32>,
}

impl Walker {
    /// The walk of candidate `ci` from its first then-event, searched from `from` on
    /// (every then-event before `from` is at or before the candidate).
    fn start(ci: usize, c: &Candidate, then_rows: &[(u32, i64, u32, Side)], from: usize) -> Walker {
        Walker {
            cand: ci as u32,
            j: partition_point_from(then_rows, from, |r| (r.0, r.1, r.2) <= (c.account, c.ts, c.row)),
            taken: 0,
            total: 0.0,
            count: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            seen_cp: BTreeSet::new(),
        }
    }

    /// Pushes the steps of up to `budget` more then-events (same account, within the
    /// window, after the first event; at most [`MAX_WALK`] in all); whether there are
    /// more.
    fn advance(&mut self, walk: &Walk<'_>, c: &Candidate, budget: usize, steps: &mut Vec<Step>) -> bool {
        let then_rows = &walk.then_rows;
        let end_ts = c.ts.saturating_add(walk.spec.within.ms);
        let stop = self.taken.saturating_add(budget).min(MAX_WALK);
        while self.j < then_rows.len() && then_rows[self.j].0 == c.account && then_rows[self.j].1 <= end_ts {
            if self.taken == stop {
                return true;
            }
            let r = then_rows[self.j];
            if r.2 != c.row {
                let a = walk.prep.amount(r.2);
                self.total += a;
                self.count += 1.0;
                self.min = self.min.min(a);
                self.max = self.max.max(a);
                if walk.cp_keys[self.j] != u32::MAX {
                    self.seen_cp.insert(walk.cp_keys[self.j]);
                }
                steps.push(Step {
                    cand: self.cand,
                    upto: self.j as u32,
                    total: self.total,
                    count: self.count,
                    min: self.min,
                    max: self.max,
                    last: a,
                    cps: if walk.wants_cps {
                        self.seen_cp.len() as f64
                    } else {
                        f64::NAN
                    },
                    dwell_ms: r.1 - c.ts,
                    ts: r.1,
                });
                self.taken += 1;
            }
            self.j += 1;
        }
        false
    }
}

/// For each first event, the first step (itself alone, or a then-event after it within
/// the window, with the running then-values) at which `match` holds, if any.
///
/// Steps are evaluated a chunk at a time, in rounds: every first event's walk takes its
/// first [`FIRST_ROUND_STEPS`] then-events; only the walks that have not yet fired and
/// have more then-events go on to the next round, with four times the budget. A first
/// event on a busy account (a payment processor paying out a thousand times a day)
/// usually fires within a few then-events, and its walk then stops there instead of
/// evaluating every then-event of its window. The step found is the same: a walk's
/// steps are evaluated in order and the first that holds is kept. A walk stops after
/// [`MAX_WALK`] then-events; the count of walks cut short is returned with the hits.
fn first_hits(rule: &Rule, walk: &Walk<'_>, compiled: &Expr) -> Result<(Vec<Option<Step>>, usize)> {
    let cands = &walk.cands;
    let n_first = cands.first().map(Candidate::n_values).unwrap_or(0);
    let mut hit: Vec<Option<Step>> = vec![None; cands.len()];
    let mut steps: Vec<Step> = Vec::new();
    let evaluate = |steps: &mut Vec<Step>, hit: &mut Vec<Option<Step>>| -> Result<()> {
        if steps.is_empty() {
            return Ok(());
        }
        let fired = eval_steps(
            rule.id(),
            walk.spec,
            cands,
            walk.prior_vals.as_deref(),
            n_first,
            steps,
            compiled,
        )?;
        for (s, f) in steps.iter().zip(fired) {
            if f && hit[s.cand as usize].is_none() {
                hit[s.cand as usize] = Some(*s);
            }
        }
        steps.clear();
        Ok(())
    };
    if !walk.spec.has_then {
        // An event in its context: one step each, with no then-values.
        for (ci, c) in cands.iter().enumerate() {
            steps.push(Step::alone(ci, c));
            if steps.len() >= CHUNK {
                evaluate(&mut steps, &mut hit)?;
            }
        }
        evaluate(&mut steps, &mut hit)?;
        return Ok((hit, 0));
    }
    let mut pending: Vec<Walker> = Vec::new();
    let mut budget = FIRST_ROUND_STEPS;
    // Candidates come in (account, ts, row) order, as the then-events do: each search for
    // a walk's start goes on from the last one's (from the top, should one come before).
    let mut from = 0usize;
    let mut last = (0u32, i64::MIN, 0u32);
    for (ci, c) in cands.iter().enumerate() {
        let key = (c.account, c.ts, c.row);
        if key < last {
            from = 0;
        }
        last = key;
        let mut w = Walker::start(ci, c, &walk.then_rows, from);
        from = w.j;
        if w.advance(walk, c, budget, &mut steps) {
            pending.push(w);
        }
        if steps.len() >= CHUNK {
            evaluate(&mut steps, &mut hit)?;
        }
    }
    evaluate(&mut steps, &mut hit)?;
    let mut cut = 0usize;
    while !pending.is_empty() {
        pending.retain(|w| hit[w.cand as usize].is_none());
        let before = pending.len();
        pending.retain(|w| w.taken < MAX_WALK);
        cut += before - pending.len();
        budget = budget.saturating_mul(4);
        let mut next = Vec::new();
        for mut w in pending {
            if w.advance(walk, &cands[w.cand as usize], budget, &mut steps) {
                next.push(w);
            }
            if steps.len() >= CHUNK {
                evaluate(&mut steps, &mut hit)?;
            }
        }
        evaluate(&mut steps, &mut hit)?;
        pending = next;
    }
    Ok((hit, cut))
}

/// The sequences that fired, with their rows and values, in (account, start, end) order.
fn fired_sequences(walk: &Walk<'_>, hit: &[Option<Step>]) -> Vec<Fired> {
    let Walk {
        spec,
        cands,
        then_rows,
        prior_vals,
        ..
    } = walk;
    let n_first = cands.first().map(Candidate::n_values).unwrap_or(0);
    let mut fired: Vec<Fired> = Vec::new();
    for (ci, h) in hit.iter().enumerate() {
        let Some(s) = h else { continue };
        let c = &cands[ci];
        let mut rows = c.rows().to_vec();
        if spec.has_then {
            let lo = then_rows.partition_point(|r| (r.0, r.1, r.2) <= (c.account, c.ts, c.row));
            rows.extend(
                then_rows[lo..=s.upto as usize]
                    .iter()
                    .filter(|r| r.2 != c.row)
                    .map(|r| r.2),
            );
        }
        let mut values = BTreeMap::new();
        step_values(c, prior_vals.as_ref().map(|p| p[ci]), n_first, s, &mut |k, v| {
            values.insert(spec.names[k].clone(), v);
        });
        fired.push(Fired {
            account: c.account,
            anchor: (c.row, c.side),
            start: c.start_ts,
            end: s.ts,
            rows,
            values,
            first_ts: c.ts,
            then_ts: s.ts,
        });
    }
    fired.sort_by_key(|f| (f.account, f.start, f.end));
    fired
}

/// Overlapping sequences of one account merge into one episode (with `repeat`, the
/// sequences of overlapping firing windows), each with how many sequences it holds.
fn merge_sequences(spec: &SequenceSpec, fired: Vec<Fired>) -> Vec<(Fired, usize)> {
    let mut episodes: Vec<(Fired, usize)> = Vec::new();
    for f in fired {
        match episodes.last_mut() {
            Some((ep, n)) if ep.account == f.account && f.start <= ep.end => {
                ep.end = ep.end.max(f.end);
                ep.rows.extend(f.rows);
                for (k, v) in f.values {
                    let of_repeat = spec
                        .repeat
                        .as_ref()
                        .is_some_and(|r| REPEAT_NAMES.contains(&k.as_str()) || r.measures.iter().any(|(m, _)| *m == k));
                    if of_repeat {
                        ep.values.insert(k, v);
                    }
                }
                *n += 1;
            }
            _ => episodes.push((f, 1)),
        }
    }
    episodes
}

/// One alert an episode, with its values, times and dwell.
fn sequence_alerts(
    rule: &Rule,
    spec: &SequenceSpec,
    prep: &Prepared<'_>,
    episodes: Vec<(Fired, usize)>,
) -> Result<Vec<Alert>> {
    let side = if spec.first.side == spec.then.side {
        spec.first.side
    } else {
        SideSel::Both
    };
    let side_name = side.as_str();
    let mut alerts = Vec::new();
    for (mut ep, n) in episodes {
        ep.rows.sort_unstable_by_key(|r| (prep.ts(*r), *r));
        ep.rows.dedup();
        let account = prep.account(ep.account).to_string();
        let mut measures = BTreeMap::new();
        let mut texts = BTreeMap::new();
        for (name, v) in &ep.values {
            if !spec.has_then && v.is_nan() && THEN_NAMES.contains(&name.as_str()) {
                continue;
            }
            measures.insert(name.clone(), crate::engine::json_value(&AnyValue::Float64(*v)));
            texts.insert(name.clone(), format::number(*v));
        }
        if spec.repeat.is_none() {
            measures.insert("n_sequences".into(), serde_json::Value::from(n as u64));
            texts.insert("n_sequences".into(), n.to_string());
        }
        texts.insert("first_time".into(), format::timestamp(ep.first_ts));
        texts.insert("then_time".into(), format::timestamp(ep.then_ts));
        texts.insert("dwell".into(), duration_text(ep.then_ts - ep.first_ts));
        let explanation = fill(
            &rule.def.explain,
            rule,
            &texts,
            &account,
            side_name,
            Some(&spec.within.to_string()),
        );
        alerts.push(make_alert(
            prep,
            rule,
            AlertParts {
                account,
                side,
                rows: ep.rows,
                measures,
                explanation,
                linked_accounts: Vec::new(),
            },
        )?);
    }
    Ok(dedup(alerts))
}

/// With `repeat`: the sequences that lie in a trailing window (by their first event) in
/// which `having` holds over the sequences there. Each kept sequence's span becomes its
/// window's, so that sequences of overlapping firing windows merge into one episode, and
/// it carries the window's repeat measures (the last firing window's win on merging).
fn repeated(prep: &Prepared<'_>, rule: &Rule, mut fired: Vec<Fired>, rep: &Repeat) -> Result<Vec<Fired>> {
    let rerr = |message: String| Error::Rule {
        rule_id: rule.id().to_string(),
        message,
    };
    let w = rep.window;
    fired.sort_by_key(|f| (f.account, f.first_ts, f.anchor.0));
    let n = fired.len();
    let get = |f: &Fired, name: &str| f.values.get(name).copied().unwrap_or(0.0);
    let dwell: Vec<f64> = fired
        .iter()
        .map(|f| (f.then_ts - f.first_ts) as f64 / 60_000.0)
        .collect();
    let first_amount: Vec<f64> = fired.iter().map(|f| get(f, "first_amount")).collect();
    let then_total: Vec<f64> = fired.iter().map(|f| get(f, "then_total")).collect();
    let mut left = 0usize;
    let mut windows: Vec<(usize, usize)> = Vec::with_capacity(n);
    let mut cols: Vec<Vec<f64>> = vec![Vec::with_capacity(n); REPEAT_NAMES.len()];
    // The window's dwell times, ranked as it slides; its sums.
    let mut ranks = SlidingRanks::new(&dwell);
    let (first_prefix, then_prefix) = (PrefixSums::new(&first_amount), PrefixSums::new(&then_total));
    for i in 0..n {
        while fired[left].account != fired[i].account || fired[left].first_ts < fired[i].first_ts.saturating_sub(w.ms) {
            ranks.remove(left);
            left += 1;
        }
        ranks.insert(i);
        let vals = [
            ranks.len() as f64,
            ranks.median(),
            ranks.kth(ranks.len() - 1),
            window_sum(&first_amount, &first_prefix, left, i + 1),
            window_sum(&then_total, &then_prefix, left, i + 1),
        ];
        for (c, v) in cols.iter_mut().zip(vals) {
            c.push(v);
        }
        windows.push((left, i));
    }
    // Measures over the first events in each window.
    let mut names: Vec<String> = REPEAT_NAMES.iter().map(|s| s.to_string()).collect();
    if !rep.measures.is_empty() {
        let rows: Vec<(u32, i64, u32, Side)> = fired
            .iter()
            .map(|f| (f.account, f.first_ts, f.anchor.0, f.anchor.1))
            .collect();
        let (_, per_window) =
            aggregate::trailing(prep, rule.id(), &rows, &read_columns(rule), &rep.measures, w, "true")?;
        for (m, _) in &rep.measures {
            let c = per_window
                .column(m)
                .and_then(|c| c.cast(&DataType::Float64))
                .rule_ctx(rule.id(), || format!("reading `repeat.measures.{m}`"))?;
            let c = c
                .f64()
                .rule_ctx(rule.id(), || format!("reading `repeat.measures.{m}`"))?;
            cols.push(c.iter().map(|v| v.unwrap_or(f64::NAN)).collect());
            names.push(m.clone());
        }
    }
    let columns: Vec<Column> = names
        .iter()
        .zip(cols.iter())
        .map(|(name, v)| {
            Float64Chunked::from_iter_options(
                name.as_str().into(),
                v.iter().map(|x| if x.is_nan() { None } else { Some(*x) }),
            )
            .into_series()
            .into_column()
        })
        .collect();
    let compiled = expr::compile(&rep.having).rule_ctx(rule.id(), || "compiling `repeat.having`".into())?;
    let out = DataFrame::new_infer_height(columns)
        .and_then(|df| df.lazy().select([compiled.fill_null(lit(false)).alias("f")]).collect())
        .rule_ctx(rule.id(), || "evaluating `repeat.having`".into())?;
    let f = out
        .column("f")
        .rule_ctx(rule.id(), || "reading `repeat.having`".into())?;
    let f = f
        .bool()
        .map_err(|_| rerr(format!("`repeat.having` must be true or false; it gives {}", f.dtype())))?;
    let fires: Vec<bool> = (0..n).map(|i| f.get(i) == Some(true)).collect();
    let starts: Vec<i64> = fired.iter().map(|x| x.first_ts.saturating_sub(w.ms)).collect();
    let ends: Vec<i64> = fired.iter().map(|x| x.end).collect();
    let lefts: Vec<usize> = windows.iter().map(|(l, _)| *l).collect();
    let keep = firing_spans(&lefts, &starts, &ends, &fires);
    let mut out = Vec::new();
    for (i, mut fd) in fired.into_iter().enumerate() {
        if let Some((s, e, win)) = keep[i] {
            fd.start = s;
            fd.end = e;
            for (name, c) in names.iter().zip(&cols) {
                fd.values.insert(name.clone(), c[win]);
            }
            out.push(fd);
        }
    }
    out.sort_by_key(|f| (f.account, f.start, f.end));
    Ok(out)
}

/// For each sequence `j`, the span of the firing windows it lies in (the earliest start,
/// the latest end of the sequences in any of them) and the last of those windows; `None`
/// when it lies in none. Window `i` holds the sequences `lefts[i]..=i` (`lefts`
/// nondecreasing, within one account), starts at `starts[i]` (nondecreasing within an
/// account) and `fires[i]` says whether `having` holds there. Linear time: both ends of
/// the windows only move forward, so running maxima are kept in monotone queues.
fn firing_spans(lefts: &[usize], starts: &[i64], ends: &[i64], fires: &[bool]) -> Vec<Option<(i64, i64, usize)>> {
    let n = lefts.len();
    // The latest end within each window.
    let mut window_end = vec![0i64; n];
    let mut q: VecDeque<usize> = VecDeque::new();
    for i in 0..n {
        while q.back().is_some_and(|&b| ends[b] <= ends[i]) {
            q.pop_back();
        }
        q.push_back(i);
        while q.front().is_some_and(|&f| f < lefts[i]) {
            q.pop_front();
        }
        window_end[i] = q.front().map_or(0, |&f| ends[f]);
    }
    // Sequence j lies in windows j..=hi (those whose left end is at most j); of the
    // firing ones: the first (earliest start), the last, and the latest window end.
    let mut next_firing = vec![usize::MAX; n + 1];
    for i in (0..n).rev() {
        next_firing[i] = if fires[i] { i } else { next_firing[i + 1] };
    }
    let mut keep = vec![None; n];
    let mut q: VecDeque<usize> = VecDeque::new();
    let mut hi = 0usize; // windows below `hi` have been queued
    let mut last_firing: Option<usize> = None;
    for j in 0..n {
        while hi < n && lefts[hi] <= j {
            if fires[hi] {
                while q.back().is_some_and(|&b| window_end[b] <= window_end[hi]) {
                    q.pop_back();
                }
                q.push_back(hi);
                last_firing = Some(hi);
            }
            hi += 1;
        }
        while q.front().is_some_and(|&f| f < j) {
            q.pop_front();
        }
        let first = next_firing[j];
        if let (Some(&top), Some(last)) = (q.front(), last_firing) {
            if first < hi && last >= j {
                keep[j] = Some((starts[first], window_end[top], last));
            }
        }
    }
    keep
}

/// The columns a rule's measures may read, for gathering.
fn read_columns(rule: &Rule) -> Vec<String> {
    crate::engine::read_columns(rule, &["amount_base", "counterparty"])
}

/// The first events: every row of `first`, or, when it is windowed, the rows where its
/// window's condition holds.
fn candidates(
    prep: &Prepared<'_>,
    rule: &Rule,
    spec: &SequenceSpec,
    rows: &[(u32, i64, u32, Side)],
) -> Result<Vec<Candidate>> {
    let Some(Episode {
        window,
        measures,
        having,
    }) = &spec.first.episode
    else {
        return Ok(rows
            .iter()
            .map(|r| Candidate {
                account: r.0,
                ts: r.1,
                row: r.2,
                side: r.3,
                start_ts: r.1,
                window_rows: Vec::new(),
                total: prep.amount(r.2),
                count: 1.0,
                measures: Vec::new(),
            })
            .collect());
    };
    let (fire, per_window) =
        aggregate::trailing(prep, rule.id(), rows, &read_columns(rule), measures, *window, having)?;
    let mcols: Vec<Float64Chunked> = measures
        .iter()
        .map(|(n, _)| {
            per_window
                .column(n)
                .and_then(|c| c.cast(&DataType::Float64))
                .and_then(|c| c.f64().cloned())
                .rule_ctx(rule.id(), || format!("reading `first.measures.{n}`"))
        })
        .collect::<Result<_>>()?;
    let mut out = Vec::new();
    let mut left = 0usize;
    for (i, r) in rows.iter().enumerate() {
        while rows[left].0 != r.0 || rows[left].1 < r.1.saturating_sub(window.ms) {
            left += 1;
        }
        if !fire[i] {
            continue;
        }
        let in_window: Vec<u32> = rows[left..=i].iter().map(|x| x.2).collect();
        let total: f64 = in_window.iter().map(|x| prep.amount(*x)).sum();
        out.push(Candidate {
            account: r.0,
            ts: r.1,
            row: r.2,
            side: r.3,
            start_ts: rows[left].1,
            count: in_window.len() as f64,
            window_rows: in_window,
            total,
            measures: mcols.iter().map(|c| c.get(i).unwrap_or(f64::NAN)).collect(),
        });
    }
    Ok(out)
}

/// The values of a step, in the order of [`SequenceSpec::names`], given to `out`.
fn step_values(c: &Candidate, prior: Option<(f64, f64)>, n_first: usize, s: &Step, out: &mut impl FnMut(usize, f64)) {
    for (k, v) in c.values().take(n_first).enumerate() {
        out(k, v);
    }
    let share = if c.total > 0.0 {
        100.0 * s.total / c.total
    } else {
        f64::NAN
    };
    let then = [
        s.total,
        s.count,
        s.min,
        s.max,
        s.last,
        s.cps,
        share,
        s.dwell_ms as f64 / 60_000.0,
        s.dwell_ms as f64 / 3_600_000.0,
    ];
    for (k, v) in then.into_iter().enumerate() {
        out(n_first + k, v);
    }
    if let Some((t, n)) = prior {
        out(n_first + then.len(), t);
        out(n_first + then.len() + 1, n);
    }
}

/// Whether an SQL text names an identifier (outside string literals).
fn names_identifier(sql: &str, name: &str) -> bool {
    let mut in_str = false;
    let mut word = String::new();
    for ch in sql.chars().chain(std::iter::once(' ')) {
        if ch == '\'' {
            in_str = !in_str;
            word.clear();
            continue;
        }
        if !in_str && (ch.is_ascii_alphanumeric() || ch == '_') {
            word.push(ch);
        } else {
            if word == name {
                return true;
            }
            word.clear();
        }
    }
    false
}

/// Evaluates `match` for each step; only the names it reads are built.
fn eval_steps(
    rule_id: &str,
    spec: &SequenceSpec,
    cands: &[Candidate],
    prior: Option<&[(f64, f64)]>,
    n_first: usize,
    steps: &[Step],
    compiled: &Expr,
) -> Result<Vec<bool>> {
    let used: Vec<bool> = spec
        .names
        .iter()
        .map(|n| names_identifier(&spec.match_sql, n))
        .collect();
    let mut columns: Vec<Vec<f64>> = used
        .iter()
        .map(|u| {
            if *u {
                Vec::with_capacity(steps.len())
            } else {
                Vec::new()
            }
        })
        .collect();
    for s in steps {
        let c = &cands[s.cand as usize];
        step_values(c, prior.map(|p| p[s.cand as usize]), n_first, s, &mut |k, v| {
            if used[k] {
                columns[k].push(v)
            }
        });
    }
    let mut cols: Vec<Column> = spec
        .names
        .iter()
        .zip(columns)
        .zip(&used)
        .filter(|(_, u)| **u)
        .map(|((n, v), _)| {
            let ca = Float64Chunked::from_iter_options(
                n.as_str().into(),
                v.into_iter().map(|x| if x.is_nan() { None } else { Some(x) }),
            );
            ca.into_series().into_column()
        })
        .collect();
    if cols.is_empty() {
        // A condition over constants only: one column for the height.
        cols.push(Column::new("__n".into(), vec![false; steps.len()]));
    }
    let df = DataFrame::new_infer_height(cols).rule_ctx(rule_id, || "building the steps' values".into())?;
    let out = df
        .lazy()
        .select([compiled.clone().fill_null(lit(false)).alias("m")])
        .collect()
        .rule_ctx(rule_id, || "evaluating `match`".into())?;
    let m = out.column("m").rule_ctx(rule_id, || "reading `match`".into())?;
    let b = m.bool().map_err(|_| Error::Rule {
        rule_id: rule_id.to_string(),
        message: format!("`match` must be true or false; it gives {}", m.dtype()),
    })?;
    let mut fired: Vec<bool> = b.iter().map(|v| v.unwrap_or(false)).collect();
    // A constant condition gives one value: it holds for every step or none.
    if fired.len() == 1 && steps.len() > 1 {
        fired = vec![fired[0]; steps.len()];
    }
    Ok(fired)
}

/// A duration in words: `35 min`, `2 h 15 min`, `1 day`, `3 days 4 h`.
pub(crate) fn duration_text(ms: i64) -> String {
    let min = ms / 60_000;
    if min < 60 {
        format!("{min} min")
    } else if min < 24 * 60 {
        match min % 60 {
            0 => format!("{} h", min / 60),
            m => format!("{} h {m} min", min / 60),
        }
    } else {
        let days = min / 1440;
        let unit = if days == 1 { "day" } else { "days" };
        match (min / 60) % 24 {
            0 => format!("{days} {unit}"),
            h => format!("{days} {unit} {h} h"),
        }
    }
}

#[cfg(test)]
mod tests {
    /// [`firing_spans`] as the plain loop over every window and every sequence in it.
    fn firing_spans_naive(
        lefts: &[usize],
        starts: &[i64],
        ends: &[i64],
        fires: &[bool],
    ) -> Vec<Option<(i64, i64, usize)>> {
        let mut keep: Vec<Option<(i64, i64, usize)>> = vec![None; lefts.len()];
        for i in 0..lefts.len() {
            if !fires[i] {
                continue;
            }
            let span = (starts[i], ends[lefts[i]..=i].iter().copied().max().unwrap_or(0));
            for slot in keep.iter_mut().take(i + 1).skip(lefts[i]) {
                *slot = Some(match *slot {
                    Some((s, e, _)) => (s.min(span.0), e.max(span.1), i),
                    None => (span.0, span.1, i),
                });
            }
        }
        keep
    }

    #[test]
    fn firing_spans_equal_the_plain_loop() {
        let mut state = 12345u64;
        let mut rnd = |m: u64| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) % m
        };
        for _ in 0..200 {
            let n = 1 + rnd(60) as usize;
            // Accounts in runs; each window reaches back a few sequences within its account.
            let mut lefts = Vec::new();
            let mut starts = Vec::new();
            let mut ends = Vec::new();
            let mut fires = Vec::new();
            let (mut acct_start, mut t) = (0usize, 0i64);
            for i in 0..n {
                if i > 0 && rnd(8) == 0 {
                    acct_start = i;
                    t = 0;
                }
                t += rnd(5) as i64;
                let prev_left = if i == acct_start { i } else { lefts[i - 1] };
                let left = (prev_left + rnd(3) as usize).min(i).max(acct_start);
                lefts.push(left);
                starts.push(t - 10);
                ends.push(t + rnd(20) as i64);
                fires.push(rnd(3) == 0);
            }
            assert_eq!(
                firing_spans(&lefts, &starts, &ends, &fires),
                firing_spans_naive(&lefts, &starts, &ends, &fires),
                "lefts {lefts:?} fires {fires:?}"
            );
        }
    }

    use super::*;

    #[test]
    fn dots_become_underscores_outside_strings() {
        assert_eq!(
            flatten_dots("then.total >= 0.9 * first.amount AND x = 'first.y'"),
            "then_total >= 0.9 * first_amount AND x = 'first.y'"
        );
        assert_eq!(flatten_dots("prior.total > 1.5"), "prior_total > 1.5");
    }

    #[test]
    fn identifiers_are_found_outside_strings_only() {
        assert!(names_identifier("then_total >= 0.9 * first_amount", "first_amount"));
        assert!(!names_identifier("then_total >= 0.9 * first_amount", "then_count"));
        assert!(!names_identifier("x = 'then_count'", "then_count"));
        assert!(!names_identifier("then_counterparties > 2", "then_count"));
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(duration_text(35 * 60_000), "35 min");
        assert_eq!(duration_text(135 * 60_000), "2 h 15 min");
        assert_eq!(duration_text(3 * 86_400_000 + 4 * 3_600_000), "3 days 4 h");
        assert_eq!(duration_text(86_400_000), "1 day");
    }
}
