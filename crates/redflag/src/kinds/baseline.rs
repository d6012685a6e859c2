#![doc = include_str!("../../../../docs/kinds/baseline.md")]

use std::collections::BTreeMap;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::{Checker, Field, Kind};
use crate::engine::{
    cat_codes, dedup, display_value, fill, gather_rows_coded, json_value, make_alert, rolling, AlertParts, Prepared,
    Scope,
};
use crate::error::{suggestion, Error, Result, RuleContext};
use crate::expr::{self, ExprRole};
use crate::model::{Alert, PeerGroup, Rule, RuleDef, RuleKind, Side, SideSel, Window};
use crate::schema;
use crate::util::format;

/// How a baseline rule compares.
#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    /// Against prior periods: how many, and the account age needed.
    History {
        /// Prior periods compared.
        periods: u32,
        /// The account's first transaction must be this long before the period.
        min_history: Window,
    },
    /// After a silence this long.
    Dormancy(Window),
    /// Against peers only.
    Peers,
}

/// The checked content of a baseline rule.
#[derive(Debug, Clone, PartialEq)]
pub struct BaselineSpec {
    /// The measure (an SQL aggregate).
    pub measure: String,
    /// The period.
    pub window: Window,
    /// How far apart periods start: `window` unless the rule slides its periods
    /// (`step`), a whole fraction of `window`.
    pub step: Window,
    /// The mode.
    pub mode: Mode,
    /// The peer column.
    pub peer_by: Option<String>,
    /// The condition over [`BaselineSpec::names`].
    pub threshold: String,
    /// The names `threshold` may use.
    pub names: Vec<String>,
}

/// A baseline rule's own fields as written.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BaselineDef {
    /// The side screened.
    #[serde(default)]
    pub(crate) side: Option<SideSel>,
    /// The row condition.
    #[serde(default, rename = "where")]
    pub(crate) where_: Option<String>,
    /// The measure compared with the account's history (an SQL aggregate).
    #[serde(default)]
    pub(crate) measure: Option<String>,
    /// The period measured.
    #[serde(default)]
    pub(crate) window: Option<String>,
    /// How far apart periods start.
    #[serde(default)]
    pub(crate) step: Option<String>,
    /// How far back the history reaches.
    #[serde(default)]
    pub(crate) history: Option<String>,
    /// How long an account must have existed before it is compared.
    #[serde(default)]
    pub(crate) min_history: Option<String>,
    /// The condition over the period's measure and its history.
    #[serde(default)]
    pub(crate) threshold: Option<String>,
    /// The silence after which activity is a reactivation.
    #[serde(default)]
    pub(crate) dormant_for: Option<String>,
    /// The column that forms peer groups.
    #[serde(default)]
    pub(crate) peer_by: Option<String>,
}

/// Kind `baseline`.
pub(crate) struct Baseline;

impl Kind for Baseline {
    fn name(&self) -> &'static str {
        "baseline"
    }
    fn fields(&self) -> &'static [Field] {
        &[
            Field {
                name: "side",
                doc: "the side screened",
            },
            Field {
                name: "where",
                doc: "the rows the measure reads",
            },
            Field {
                name: "measure",
                doc: "the measure compared with the account's history (an SQL aggregate)",
            },
            Field {
                name: "window",
                doc: "the period measured, such as `30d`",
            },
            Field {
                name: "step",
                doc: "how far apart periods start, a whole fraction of `window` (default: `window`)",
            },
            Field {
                name: "history",
                doc: "how far back the history reaches",
            },
            Field {
                name: "min_history",
                doc: "how long an account must have existed before it is compared",
            },
            Field {
                name: "peer_by",
                doc: "the column that forms peer groups",
            },
            Field {
                name: "dormant_for",
                doc: "the silence after which activity is a reactivation",
            },
            Field {
                name: "threshold",
                doc: "the condition over the period's measure and its history",
            },
        ]
    }
    fn doc(&self) -> &'static str {
        include_str!("../../../../docs/kinds/baseline.md")
    }
    fn written(&self, def: &RuleDef) -> serde_yaml_ng::Mapping {
        super::written_fields::<BaselineDef>(def)
    }
    fn check(&self, def: &RuleDef, cx: &mut Checker<'_>) -> RuleKind {
        RuleKind::new(self.name(), check(def, cx))
    }
    fn run(&self, rule: &Rule, scope: &Scope<'_, '_>) -> Result<Vec<Alert>> {
        run(rule, super::spec_of::<BaselineSpec>(rule)?, scope)
    }
    fn cost(&self, _rule: &Rule) -> u8 {
        5
    }
    /// Compared with its peers, every account's units are worked out at once.
    fn holds_every_account(&self, rule: &Rule) -> bool {
        rule.kind.spec::<BaselineSpec>().is_some_and(|s| s.peer_by.is_some())
    }
    /// Compared with its peers, an account's alerts depend on theirs through the
    /// statistics of its peer group only.
    fn compares_with_peers(&self, rule: &Rule) -> bool {
        rule.kind.spec::<BaselineSpec>().is_some_and(|s| s.peer_by.is_some())
    }
    fn peer_values(&self, rule: &Rule, scope: &Scope<'_, '_>, tally: &mut PeerTally) -> Result<()> {
        peer_values(rule, super::spec_of::<BaselineSpec>(rule)?, scope, tally)
    }
    fn first_condition_is_where(&self) -> bool {
        true
    }
}

fn check(def: &RuleDef, cx: &mut Checker<'_>) -> BaselineSpec {
    let d: BaselineDef = super::parse_fields(def, cx);
    cx.side = d.side.unwrap_or_default();
    cx.condition("where", d.side.unwrap_or_default(), d.where_.as_deref());
    let measure = match &d.measure {
        None => {
            cx.problem(
                "measure",
                "a baseline rule needs `measure`, such as \"sum(amount_base)\"",
            );
            None
        }
        Some(m) => cx.expr("measure", m, ExprRole::Measure),
    };
    let window = cx.window("window", d.window.as_deref(), "30d");
    let mut names: Vec<String> = vec!["current".into(), "n".into()];
    let mode = match (&d.history, &d.dormant_for) {
        (Some(_), Some(_)) => {
            cx.problem(
                "dormant_for",
                "give `history` (compare with prior periods) or `dormant_for` (a silence, then activity), not both",
            );
            None
        }
        (Some(h), None) => {
            let h = cx.window("history", Some(h), "180d");
            let min = match &d.min_history {
                Some(m) => cx.window("min_history", Some(m), "90d"),
                None => h,
            };
            names.extend(
                ["median", "mad", "ratio", "robust_z", "periods", "history_max"]
                    .iter()
                    .map(|s| s.to_string()),
            );
            match (h, window, min) {
                (Some(h), Some(w), Some(min)) if w.ms > 0 => {
                    if h.ms % w.ms != 0 || h.ms < w.ms {
                        cx.problem(
                            "history",
                            format!("`history` ({h}) must be a whole number of periods of `window` ({w})"),
                        );
                        None
                    } else {
                        Some(Mode::History {
                            periods: (h.ms / w.ms) as u32,
                            min_history: min,
                        })
                    }
                }
                _ => None,
            }
        }
        (None, Some(g)) => {
            if d.min_history.is_some() {
                cx.problem(
                    "min_history",
                    "`min_history` goes with `history`, not with `dormant_for`",
                );
            }
            names.push("gap_days".into());
            cx.window("dormant_for", Some(g), "180d").map(Mode::Dormancy)
        }
        (None, None) => {
            if d.min_history.is_some() {
                cx.problem("min_history", "`min_history` goes with `history`");
            }
            if d.peer_by.is_none() {
                cx.problem(
                    "history",
                    "a baseline rule compares with something: give `history` (its own past), `peer_by` (its peers) or `dormant_for` (a silence)",
                );
                None
            } else {
                Some(Mode::Peers)
            }
        }
    };
    if let Some(p) = &d.peer_by {
        if !schema::is_known_column(p) {
            cx.problem(
                "peer_by",
                format!("unknown column `{p}`{}", suggestion(p, schema::all_columns())),
            );
        } else if matches!(mode, Some(Mode::Dormancy(_))) {
            cx.problem(
                "peer_by",
                "`peer_by` goes with `history` or alone, not with `dormant_for`",
            );
        } else {
            cx.columns.insert(p.clone());
            names.extend(
                ["peer_median", "peer_mad", "peer_ratio", "peer_z", "peers"]
                    .iter()
                    .map(|s| s.to_string()),
            );
        }
    }
    let threshold = match &d.threshold {
        None => {
            cx.problem(
                "threshold",
                "a baseline rule needs `threshold`, such as \"ratio > 3 AND current >= 10000\"",
            );
            None
        }
        Some(t) => {
            let before = cx.columns.clone();
            let out = cx.expr("threshold", t, ExprRole::Over(&names));
            cx.columns = before;
            out
        }
    };
    let step = check_step(&d, cx, window, mode.as_ref());
    cx.placeholders(names.iter().cloned());
    cx.placeholders(["period_start", "period_end"]);
    cx.columns.insert("amount_base".into());
    match (measure, window, mode, threshold, step) {
        (Some(measure), Some(window), Some(mode), Some(threshold), Some(step)) => BaselineSpec {
            measure,
            window,
            step,
            mode,
            peer_by: d.peer_by.clone(),
            threshold,
            names,
        },
        // Problems are reported; the spec is never run.
        _ => BaselineSpec {
            measure: "count(*)".into(),
            window: Window { ms: 1 },
            step: Window { ms: 1 },
            mode: Mode::Peers,
            peer_by: None,
            threshold: "false".into(),
            names,
        },
    }
}

/// How far apart periods start: `window` without `step`; a step must divide the window
/// into whole parts and cannot go with `dormant_for` (a reactivation's window starts at
/// the reactivation).
fn check_step(d: &BaselineDef, cx: &mut Checker<'_>, window: Option<Window>, mode: Option<&Mode>) -> Option<Window> {
    let Some(text) = &d.step else {
        return window;
    };
    let step = cx.window("step", Some(text), "1d")?;
    if matches!(mode, Some(Mode::Dormancy(_))) {
        cx.problem(
            "step",
            "`step` goes with `history` or `peer_by`; with `dormant_for` the window starts at the reactivation",
        );
        return None;
    }
    let w = window?;
    if step.ms <= 0 || step.ms > w.ms || w.ms % step.ms != 0 {
        cx.problem(
            "step",
            format!("`step` ({step}) must divide `window` ({w}) into whole parts, such as `1d` for a `7d` window"),
        );
        return None;
    }
    Some(step)
}

/// One account's period (or reactivation window). Its rows are a run of the rows
/// screened (sorted by account and time): `rows[first..first + count]`.
struct Unit {
    account: u32,
    start: i64,
    end: i64,
    first: u32,
    count: u32,
}

/// The units compared (with a history, a gap or peers) and their values, `stride` (the
/// rule's names) a unit, in one array: millions of units need no allocation each.
struct Compared {
    units: Vec<usize>,
    values: Vec<Option<f64>>,
    stride: usize,
}

impl Compared {
    fn of(&self, k: usize) -> &[Option<f64>] {
        &self.values[k * self.stride..(k + 1) * self.stride]
    }
}

/// Peer values, each kept once: a unit holds the index of its own.
#[derive(Default)]
struct PeerValues {
    names: Vec<String>,
    index: PlHashMap<String, u32>,
}

impl PeerValues {
    fn intern(&mut self, v: &str) -> u32 {
        if let Some(i) = self.index.get(v) {
            return *i;
        }
        let i = self.names.len() as u32;
        self.names.push(v.to_string());
        self.index.insert(v.to_string(), i);
        i
    }
}

/// The measure of an empty period: 0 for a measure that is one `sum(...)` or
/// `count(...)`, else none (the period is left out). SQL gives NULL for the sum of no
/// rows; for a history of amounts a month without any is a month of 0.
fn empty_value(measure: &str) -> Option<f64> {
    let t = measure.trim().to_lowercase();
    let open = t.find('(')?;
    let name = t[..open].trim();
    if !(name == "sum" || name == "count") || !t.ends_with(')') {
        return None;
    }
    // The call's own closing parenthesis must be the last character.
    let mut depth = 0i32;
    for (i, c) in t.char_indices().skip(open) {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return (i == t.len() - 1).then_some(0.0);
                }
            }
            _ => {}
        }
    }
    None
}

/// The median of some numbers (sorted in place); `None` when there are none.
fn median(v: &mut [f64]) -> Option<f64> {
    let n = v.len();
    if n == 0 {
        return None;
    }
    // The middle value as a sort would place it, and, for an even count, the one just
    // below: the highest of those before it.
    let (below, mid, _) = v.select_nth_unstable_by(n / 2, f64::total_cmp);
    let mid = *mid;
    if n % 2 == 1 {
        return Some(mid);
    }
    let below = below.iter().copied().max_by(f64::total_cmp).unwrap_or(mid);
    Some((below + mid) / 2.0)
}

/// Median and median absolute deviation.
fn median_mad(values: &[f64]) -> (Option<f64>, Option<f64>) {
    let mut v = values.to_vec();
    let Some(m) = median(&mut v) else {
        return (None, None);
    };
    let mut dev: Vec<f64> = values.iter().map(|x| (x - m).abs()).collect();
    (Some(m), median(&mut dev))
}

fn ratio(a: f64, b: Option<f64>) -> Option<f64> {
    b.filter(|b| *b != 0.0).map(|b| a / b)
}

fn robust_z(x: f64, m: Option<f64>, mad: Option<f64>) -> Option<f64> {
    match (m, mad) {
        (Some(m), Some(d)) if d > 0.0 => Some((x - m) / (1.4826 * d)),
        _ => None,
    }
}

fn run(rule: &Rule, spec: &BaselineSpec, scope: &Scope<'_, '_>) -> Result<Vec<Alert>> {
    let prep = scope.data();
    if prep.times().is_empty() {
        return Ok(Vec::new());
    }
    // What every slice reads of all the accounts, worked out once.
    let shared = Shared {
        origin: origin(prep),
        first_seen: match spec.mode {
            Mode::History { .. } => first_seen(prep),
            _ => Vec::new(),
        },
        reactivations: match &spec.mode {
            Mode::Dormancy(silence) => reactivations(prep, silence.ms),
            _ => (Vec::new(), Vec::new()),
        },
    };
    match (&spec.peer_by, prep.whole()) {
        // Peers over the data's accounts: all of them at once.
        (Some(_), None) => run_rows(rule, spec, scope, (&shared, None), scope.side_rows(0, rule.side)),
        // A part of the data, with its peer groups worked out over every account: a slice
        // of accounts at a time, as with an account's own past only.
        (Some(_), Some(whole)) => {
            let groups = whole.peer_groups.get(rule.id()).ok_or_else(|| Error::Rule {
                rule_id: rule.id().to_string(),
                message: "a part of the data was given without the statistics of this rule's peer groups: \
                          partition the inputs again with this pack"
                    .into(),
            })?;
            let given = Some(groups.as_slice());
            scope.per_account_slice(0, rule.side, |rows| run_rows(rule, spec, scope, (&shared, given), rows))
        }
        (None, _) => scope.per_account_slice(0, rule.side, |rows| run_rows(rule, spec, scope, (&shared, None), rows)),
    }
}

/// Midnight before the screened data's first transaction: periods are counted from it.
fn origin(prep: &Prepared<'_>) -> i64 {
    let day = 86_400_000i64;
    prep.first_time().div_euclid(day) * day
}

/// What the statistics of a baseline's peer groups are worked out from: by rule, by
/// (period start, peer value), how many of the accounts' units have each measure. Parts
/// of the data (shards) each add their own accounts'; the groups' statistics are the same
/// as over all the accounts at once. Measures that count (distinct counterparties) take a
/// few values each, so a hundred million units tally in a few thousand entries.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PeerTally {
    /// Rule → period start → peer value → the group's counts.
    rules: BTreeMap<String, BTreeMap<i64, BTreeMap<String, Counts>>>,
}

/// A peer group's measures, as bits (a tally goes through JSON between a cluster's
/// tasks unchanged), each with the number of units that have it.
type Counts = BTreeMap<u64, u64>;

impl PeerTally {
    /// Adds `rule`'s measure `value` of a unit in the period from `start`, whose peer
    /// value is `peer`. The rule is recorded even with no unit.
    fn add(&mut self, rule: &str, unit: Option<(i64, &str, f64)>) {
        let groups = self.rules.entry(rule.to_string()).or_default();
        if let Some((start, peer, value)) = unit {
            // Bits: a tally goes through JSON between a cluster's tasks unchanged.
            let period = groups.entry(start).or_default();
            let counts = match period.get_mut(peer) {
                Some(counts) => counts,
                None => period.entry(peer.to_string()).or_default(),
            };
            *counts.entry(value.to_bits()).or_insert(0) += 1;
        }
    }

    /// Joins another part's tally to this one.
    pub fn join(&mut self, other: PeerTally) {
        for (rule, periods) in other.rules {
            let mine = self.rules.entry(rule).or_default();
            for (start, groups) in periods {
                let period = mine.entry(start).or_default();
                for (peer, counts) in groups {
                    let have = period.entry(peer).or_default();
                    for (bits, n) in counts {
                        *have.entry(bits).or_insert(0) += n;
                    }
                }
            }
        }
    }

    /// The statistics of every rule's peer groups.
    pub fn groups(&self) -> BTreeMap<String, Vec<PeerGroup>> {
        self.rules
            .iter()
            .map(|(rule, periods)| {
                let stats = periods
                    .iter()
                    .flat_map(|(start, groups)| groups.iter().map(move |g| (start, g)))
                    .map(|(start, (value, counts))| {
                        // The group's measures, one a unit, held for this group only.
                        let v: Vec<f64> = counts
                            .iter()
                            .flat_map(|(bits, n)| std::iter::repeat_n(f64::from_bits(*bits), *n as usize))
                            .collect();
                        let (median, mad) = median_mad(&v);
                        PeerGroup {
                            start: *start,
                            value: value.clone(),
                            median,
                            mad,
                            peers: v.len() as u64,
                        }
                    })
                    .collect();
                (rule.clone(), stats)
            })
            .collect()
    }
}

/// Adds to `tally` the units of the accounts the scope screens, with their peer values
/// and measures, a slice of accounts at a time.
fn peer_values(rule: &Rule, spec: &BaselineSpec, scope: &Scope<'_, '_>, tally: &mut PeerTally) -> Result<()> {
    tally.add(rule.id(), None);
    let prep = scope.data();
    if spec.peer_by.is_none() || prep.times().is_empty() {
        return Ok(());
    }
    // Units need the origin only: no account's history or silence is compared here.
    let shared = Shared {
        origin: origin(prep),
        first_seen: Vec::new(),
        reactivations: (Vec::new(), Vec::new()),
    };
    for rows in scope.side_rows_sliced(0, rule.side, prep.slice_rows()) {
        for origin in origins(spec, &shared) {
            let (unit_of_row, units, _) = units_of_rows(spec, &shared, origin, &rows);
            if units.is_empty() {
                continue;
            }
            let (current, peer_value, peers) = unit_measures(rule, spec, prep, &rows, &unit_of_row, units.len())?;
            for (u, unit) in units.iter().enumerate() {
                if let (Some(v), Some(c)) = (peer_value[u], current[u]) {
                    tally.add(rule.id(), Some((unit.start, &peers.names[v as usize], c)));
                }
            }
        }
    }
    Ok(())
}

/// Where the periods are counted from: the data's origin, and with `step`, that origin
/// moved on by a step at a time within one window (each a grid of periods of its own).
fn origins(spec: &BaselineSpec, shared: &Shared) -> impl Iterator<Item = i64> {
    // A dormancy rule has no `step`: its step is its window, one grid.
    let step = spec.step.ms.max(1);
    let grids = (spec.window.ms / step).max(1);
    let origin = shared.origin;
    (0..grids).map(move |k| origin + k * step)
}

/// What [`run_rows`] reads of all the accounts, whatever slice it screens.
struct Shared {
    /// Midnight before the first transaction: periods are counted from it.
    origin: i64,
    /// Each account's first transaction time (history mode).
    first_seen: Vec<i64>,
    /// Each account's reactivations (dormancy mode), as [`reactivations`] gives them.
    reactivations: (Vec<usize>, Vec<(i64, i64)>),
}

/// The alerts of the units of `rows`; with `peer_by`, their peers' statistics are
/// `given` (a part of the data's: over every account), or else worked out from `rows`.
/// With `step`, each grid of periods is screened and an account's overlapping periods
/// that fire are thinned to those that stand apart ([`apart`]).
fn run_rows(
    rule: &Rule,
    spec: &BaselineSpec,
    scope: &Scope<'_, '_>,
    (shared, given): (&Shared, Option<&[PeerGroup]>),
    rows: Vec<(u32, i64, u32, Side)>,
) -> Result<Vec<Alert>> {
    let prep = scope.data();
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let counted = CountedRows::of(rule, spec, prep, &rows)?;
    let mut fired = Vec::new();
    for (grid, origin) in origins(spec, shared).enumerate() {
        let mut of_grid = fire_grid(rule, spec, prep, (shared, given), &rows, counted.as_ref(), origin)?;
        of_grid.iter_mut().for_each(|f| f.grid = grid);
        fired.extend(of_grid);
    }
    if spec.step.ms < spec.window.ms {
        fired = apart(fired);
    }
    unit_alerts(rule, spec, prep, &fired)
}

/// A period that fires: its account, span, rows and the values its threshold read.
struct Fired {
    grid: usize,
    account: u32,
    start: i64,
    end: i64,
    rows: Vec<u32>,
    values: Vec<Option<f64>>,
}

/// The periods of one grid (counted from `origin`) that fire, in unit order.
fn fire_grid(
    rule: &Rule,
    spec: &BaselineSpec,
    prep: &Prepared<'_>,
    (shared, given): (&Shared, Option<&[PeerGroup]>),
    rows: &[(u32, i64, u32, Side)],
    counted: Option<&CountedRows>,
    origin: i64,
) -> Result<Vec<Fired>> {
    let (unit_of_row, units, gaps) = units_of_rows(spec, shared, origin, rows);
    if units.is_empty() {
        return Ok(Vec::new());
    }
    let (current, peer_value, peers) = match counted {
        Some(counted) => counted
            .unit_measures(&units)
            .rule_ctx(rule.id(), || "computing `measure`".into())?,
        None => unit_measures(rule, spec, prep, rows, &unit_of_row, units.len())?,
    };
    drop(unit_of_row);
    let peer_stats = match given {
        Some(groups) => given_stats(groups, &peers),
        None => peer_stats(spec, &units, &current, &peer_value),
    };
    // Units compared and tested a slice at a time, on what the threshold reads; only
    // those that fire are kept, with every name.
    let mut firing = Vec::new();
    let step = prep.slice_rows().max(1);
    let tested = Tested::of(spec);
    let all: Vec<usize> = (0..spec.names.len()).collect();
    let measured = Measured {
        current: &current,
        peer_value: &peer_value,
        peer_stats: &peer_stats,
        spread: tested.spread,
        keep: &tested.names,
        least: tested.least,
    };
    let whole = Measured {
        spread: true,
        keep: &all,
        ..measured
    };
    let lean = !tested.spread || tested.names.len() < all.len();
    for from in (0..units.len()).step_by(step) {
        let range = from..(from + step).min(units.len());
        let compared = compare_units(spec, shared, (&units, range), &measured, &gaps);
        let Some(fired) = threshold(rule, spec, &compared, &tested.names)? else {
            continue;
        };
        for (k, _) in fired.iter().enumerate().filter(|(_, f)| **f) {
            let u = compared.units[k];
            let unit = &units[u];
            let run = unit.first as usize..(unit.first + unit.count) as usize;
            let values = if !lean {
                compared.of(k).to_vec()
            } else {
                compare_units(spec, shared, (&units, u..u + 1), &whole, &gaps).values
            };
            firing.push(Fired {
                grid: 0,
                account: unit.account,
                start: unit.start,
                end: unit.end,
                rows: rows[run].iter().map(|r| r.2).collect(),
                values,
            });
        }
    }
    Ok(firing)
}

/// What testing the threshold needs of each unit.
struct Tested {
    /// The names it reads, and `current`, which gives its frame a height (indices into
    /// the rule's names).
    names: Vec<usize>,
    /// Whether it reads the history's median or spread (`median`, `mad`, `ratio`,
    /// `robust_z`).
    spread: bool,
    /// The least measure it needs, `(k, strict)` ([`expr::least`]).
    least: Option<(f64, bool)>,
}

impl Tested {
    fn of(spec: &BaselineSpec) -> Tested {
        let read = expr::referenced(&spec.threshold);
        let reads = |n: &str| read.as_ref().is_none_or(|r| r.contains(n));
        Tested {
            names: (0..spec.names.len())
                .filter(|&k| k == 0 || reads(&spec.names[k]))
                .collect(),
            spread: ["median", "mad", "ratio", "robust_z"].iter().any(|n| reads(n)),
            least: expr::least(&spec.threshold, "current"),
        }
    }
}

/// An account's firing periods of several grids overlap: keeps, account by account, the
/// period with the highest measure (on a tie, that of the first grid, the one aligned on
/// the data's origin, then the earliest), then the next highest that overlaps none kept,
/// and so on; in (account, start) order.
fn apart(mut fired: Vec<Fired>) -> Vec<Fired> {
    fired.sort_by_key(|f| (f.account, f.start));
    let current = |f: &Fired| f.values.first().copied().flatten().unwrap_or(f64::NEG_INFINITY);
    let mut keep = vec![false; fired.len()];
    let mut from = 0;
    while from < fired.len() {
        let account = fired[from].account;
        let to = from + fired[from..].iter().take_while(|f| f.account == account).count();
        let mut order: Vec<usize> = (from..to).collect();
        order.sort_by(|&a, &b| {
            current(&fired[b])
                .total_cmp(&current(&fired[a]))
                .then(fired[a].grid.cmp(&fired[b].grid))
                .then(fired[a].start.cmp(&fired[b].start))
        });
        let mut kept: Vec<(i64, i64)> = Vec::new();
        for i in order {
            let f = &fired[i];
            if kept.iter().all(|&(s, e)| f.end < s || e < f.start) {
                kept.push((f.start, f.end));
                keep[i] = true;
            }
        }
        from = to;
    }
    fired
        .into_iter()
        .zip(keep)
        .filter_map(|(f, k)| k.then_some(f))
        .collect()
}

/// The units the rows fall in: (account, period), or (account, reactivation) in dormancy
/// mode, each with its rows; each row's unit (`u32::MAX` for none) and, in dormancy mode,
/// each unit's gap in days.
fn units_of_rows(
    spec: &BaselineSpec,
    shared: &Shared,
    origin: i64,
    rows: &[(u32, i64, u32, Side)],
) -> (Vec<u32>, Vec<Unit>, Vec<f64>) {
    let day = 86_400_000i64;
    let w = spec.window.ms.max(1);
    let mut unit_of_row: Vec<u32> = Vec::with_capacity(rows.len());
    let mut units: Vec<Unit> = Vec::new();
    let mut gaps: Vec<f64> = Vec::new();
    match &spec.mode {
        Mode::Dormancy(_) => {
            let (offsets, reacts) = (&shared.reactivations.0, &shared.reactivations.1);
            for (i, r) in rows.iter().enumerate() {
                // The reactivation this row falls in, if any: the latest one at or before
                // it, no more than `window` before it.
                let mine = &reacts[offsets[r.0 as usize]..offsets[r.0 as usize + 1]];
                let upto = mine.partition_point(|(t, _)| *t <= r.1);
                let found = upto.checked_sub(1).map(|k| mine[k]).filter(|(t, _)| *t >= r.1 - w);
                let Some((start, gap)) = found else {
                    unit_of_row.push(u32::MAX);
                    continue;
                };
                match units.last() {
                    Some(u) if u.account == r.0 && u.start == start => {}
                    _ => {
                        units.push(Unit {
                            account: r.0,
                            start,
                            end: start + w,
                            first: i as u32,
                            count: 0,
                        });
                        gaps.push(gap as f64 / day as f64);
                    }
                }
                let ui = units.len() - 1;
                add_row(&mut units[ui], i);
                unit_of_row.push(ui as u32);
            }
        }
        _ => {
            for (i, r) in rows.iter().enumerate() {
                let p = (r.1 - origin).div_euclid(w);
                let start = origin + p * w;
                match units.last() {
                    Some(u) if u.account == r.0 && u.start == start => {}
                    _ => units.push(Unit {
                        account: r.0,
                        start,
                        end: start + w - 1,
                        first: i as u32,
                        count: 0,
                    }),
                }
                let ui = units.len() - 1;
                add_row(&mut units[ui], i);
                unit_of_row.push(ui as u32);
            }
        }
    }
    (unit_of_row, units, gaps)
}

/// Adds row `i` of the rows screened to `unit`, whose rows are the run just before it.
fn add_row(unit: &mut Unit, i: usize) {
    debug_assert_eq!(
        unit.first as usize + unit.count as usize,
        i,
        "a unit's rows are one run"
    );
    unit.count += 1;
}

/// What every grid of periods reads of the rows when the measure only counts (rows,
/// values, distinct values), read once: each row's counted values, and its peer value.
/// Units are then measured by walking their rows ([`rolling::Counted`]), which gives
/// what grouping them in polars gives.
struct CountedRows {
    plan: rolling::Plan,
    counted: rolling::Counted,
    /// Each row's peer value as a dictionary code, and the dictionary (with `peer_by`).
    peer: Option<(Vec<Option<u32>>, Arc<CategoricalMapping>)>,
}

impl CountedRows {
    /// The counted values and peer values of `rows` (sorted by account), read a slice of
    /// whole accounts at a time; `None` when the measure does more than count, or the
    /// peer column is not dictionary-encoded (then [`unit_measures`] groups the rows).
    fn of(
        rule: &Rule,
        spec: &BaselineSpec,
        prep: &Prepared<'_>,
        rows: &[(u32, i64, u32, Side)],
    ) -> Result<Option<Self>> {
        let Some(plan) = rolling::plan(&[("current".to_string(), spec.measure.clone())]).filter(|p| p.counts_only())
        else {
            return Ok(None);
        };
        let mut cols: Vec<String> = expr::referenced(&spec.measure)
            .unwrap_or_default()
            .into_iter()
            .collect();
        cols.extend(spec.peer_by.clone());
        cols.sort();
        cols.dedup();
        // Columns only counted, and the peer column, stay encoded.
        let coded: Vec<String> = cols
            .iter()
            .filter(|c| plan.counts_distinct_only(c) || spec.peer_by.as_ref() == Some(*c))
            .cloned()
            .collect();
        let mut counted: Option<rolling::Counted> = None;
        let mut peer: Option<(Vec<Option<u32>>, Arc<CategoricalMapping>)> = None;
        let mut from = 0;
        while from < rows.len() {
            let mut to = (from + prep.slice_rows().max(1)).min(rows.len());
            while to < rows.len() && rows[to].0 == rows[to - 1].0 {
                to += 1;
            }
            let data = gather_rows_coded(prep, &rows[from..to], &cols, &coded)?;
            if let Some(p) = spec.peer_by.as_deref() {
                if !data.column(p).is_ok_and(|c| c.dtype().is_categorical()) {
                    return Ok(None);
                }
                let (codes, mapping) = cat_codes(&data, p)?;
                peer.get_or_insert_with(|| (Vec::with_capacity(rows.len()), mapping))
                    .0
                    .extend(codes.iter());
            }
            let Some(part) =
                rolling::Counted::of(&plan, &data, to - from).rule_ctx(rule.id(), || "reading `measure`".into())?
            else {
                return Ok(None);
            };
            match &mut counted {
                Some(c) => c.append(part).rule_ctx(rule.id(), || "reading `measure`".into())?,
                None => counted = Some(part),
            }
            from = to;
        }
        Ok(counted.map(|counted| CountedRows { plan, counted, peer }))
    }

    /// Each unit's measure and peer value, as [`unit_measures`] gives them.
    fn unit_measures(&self, units: &[Unit]) -> PolarsResult<PerUnit> {
        let runs: Vec<std::ops::Range<usize>> = units
            .iter()
            .map(|u| u.first as usize..(u.first + u.count) as usize)
            .collect();
        let measured = self.counted.measures(&self.plan, &runs)?;
        let current: Vec<Option<f64>> = measured
            .column("current")?
            .cast(&DataType::Float64)?
            .f64()?
            .iter()
            .collect();
        let mut peers = PeerValues::default();
        let mut ids: PlHashMap<u32, u32> = PlHashMap::new();
        let peer_value = match &self.peer {
            None => vec![None; units.len()],
            Some((codes, mapping)) => units
                .iter()
                .map(|u| {
                    let code = codes[u.first as usize]?;
                    let text = mapping.cat_to_str(code)?;
                    Some(*ids.entry(code).or_insert_with(|| peers.intern(text)))
                })
                .collect(),
        };
        Ok((current, peer_value, peers))
    }
}

/// Each unit's measure and peer value.
type PerUnit = (Vec<Option<f64>>, Vec<Option<u32>>, PeerValues);

/// The measure of each unit (`None` for a unit with no value) and, with `peer_by`, each
/// unit's peer value.
fn unit_measures(
    rule: &Rule,
    spec: &BaselineSpec,
    prep: &Prepared<'_>,
    rows: &[(u32, i64, u32, Side)],
    unit_of_row: &[u32],
    n_units: usize,
) -> Result<PerUnit> {
    let keep: Vec<usize> = (0..rows.len()).filter(|&i| unit_of_row[i] != u32::MAX).collect();
    let cols = crate::engine::read_columns(rule, &[]);
    // Columns the measure only counts the distinct values of (`count(DISTINCT
    // counterparty)`), and the peer column, which is read once a unit, stay
    // dictionary-encoded: decoding millions of rows into text would take gigabytes.
    let measure_plan = crate::engine::rolling::plan(&[("current".to_string(), spec.measure.clone())]);
    let counted_only = |c: &str| measure_plan.as_ref().is_some_and(|p| p.counts_distinct_only(c));
    let coded: Vec<String> = cols.iter().filter(|c| counted_only(c)).cloned().collect();
    let columns = (&cols[..], &coded[..]);
    // A measure that only counts gives the same value however its unit's rows are
    // grouped; sums are grouped as they always were, so their last bits do not move.
    let runs = measure_plan.as_ref().is_some_and(|p| p.counts_only());
    let mut current: Vec<Option<f64>> = vec![None; n_units];
    let mut peer_value: Vec<Option<u32>> = vec![None; n_units];
    let mut peers = PeerValues::default();
    // Whole units, a slice's rows at a time (a unit's rows are one run, and units are
    // numbered in row order): what is gathered and grouped stays small even when every
    // account is screened at once (peers).
    let mut from = 0;
    while from < keep.len() {
        let mut to = (from + prep.slice_rows().max(1)).min(keep.len());
        while to < keep.len() && unit_of_row[keep[to]] == unit_of_row[keep[to - 1]] {
            to += 1;
        }
        let part: Vec<(u32, i64, u32, Side)> = keep[from..to].iter().map(|&i| rows[i]).collect();
        let units: Vec<u32> = keep[from..to].iter().map(|&i| unit_of_row[i]).collect();
        let per_unit = measure_units(rule, spec, prep, &part, (units, runs), columns)?;
        let uid = per_unit
            .column("__u")
            .and_then(|c| c.u32().cloned())
            .rule_ctx(rule.id(), || "reading the units".into())?;
        let cur = per_unit
            .column("current")
            .and_then(|c| c.f64().cloned())
            .rule_ctx(rule.id(), || "reading `measure`".into())?;
        let pv = match spec.peer_by {
            Some(_) => Some(
                per_unit
                    .column("__peer")
                    .and_then(|c| c.str().cloned())
                    .rule_ctx(rule.id(), || "reading `peer_by`".into())?,
            ),
            None => None,
        };
        for k in 0..per_unit.height() {
            if let Some(u) = uid.get(k) {
                current[u as usize] = cur.get(k);
                if let Some(pv) = &pv {
                    peer_value[u as usize] = pv.get(k).map(|v| peers.intern(v));
                }
            }
        }
        from = to;
    }
    Ok((current, peer_value, peers))
}

/// The measure (and, with `peer_by`, the peer value) of the units of `rows`, whose unit
/// each is `units`: a frame of `__u`, `current` (and `__peer`), in unit order. `columns`:
/// the columns gathered, and those of them kept encoded.
fn measure_units(
    rule: &Rule,
    spec: &BaselineSpec,
    prep: &Prepared<'_>,
    rows: &[(u32, i64, u32, Side)],
    (units, runs): (Vec<u32>, bool),
    (cols, coded): (&[String], &[String]),
) -> Result<DataFrame> {
    let mut data = gather_rows_coded(prep, rows, cols, coded)?;
    // Units are numbered in row order, so `__u` never goes down: marked sorted (`runs`),
    // it is grouped by cutting it into runs rather than by hashing.
    debug_assert!(units.windows(2).all(|w| w[0] <= w[1]), "units in row order");
    let mut units = UInt32Chunked::from_vec("__u".into(), units);
    if runs {
        units.set_sorted_flag(polars::series::IsSorted::Ascending);
    }
    data.with_column(units.into_column())
        .rule_ctx(rule.id(), || "numbering the units".into())?;
    let m = expr::compile(&spec.measure).rule_ctx(rule.id(), || "compiling `measure`".into())?;
    let mut aggs = vec![m.cast(DataType::Float64).alias("current")];
    if let Some(p) = spec.peer_by.as_deref() {
        aggs.push(col(p).first().cast(DataType::String).alias("__peer"));
    }
    data.lazy()
        .group_by([col("__u")])
        .agg(aggs)
        .sort(["__u"], SortMultipleOptions::default())
        .collect()
        .rule_ctx(rule.id(), || "computing `measure`".into())
}

/// (median, MAD, size) of a peer group.
type Stats = (Option<f64>, Option<f64>, usize);

/// Each unit's measure and peer value, and the peer groups' statistics: what comparing a
/// unit reads.
struct Measured<'a> {
    current: &'a [Option<f64>],
    peer_value: &'a [Option<u32>],
    peer_stats: &'a BTreeMap<(i64, u32), Stats>,
    /// Whether the history's median and spread are worked out (`median`, `mad`, `ratio`,
    /// `robust_z`); left empty while testing a threshold that reads none of them, and
    /// worked out for the units that fire.
    spread: bool,
    /// The names kept of each unit compared, by index into the rule's names: those the
    /// threshold reads while testing it, every one for the units that fire.
    keep: &'a [usize],
    /// The least measure the threshold needs, `(k, strict)` ([`expr::least`]): units
    /// below it are not compared.
    least: Option<(f64, bool)>,
}

/// With `peer_by`, the statistics of each peer group: (period start, value) → the
/// measures of its units.
fn peer_stats(
    spec: &BaselineSpec,
    units: &[Unit],
    current: &[Option<f64>],
    peer_value: &[Option<u32>],
) -> BTreeMap<(i64, u32), Stats> {
    let mut peer_stats: BTreeMap<(i64, u32), Stats> = BTreeMap::new();
    if spec.peer_by.is_some() {
        // Few groups, millions of units: each group's measures in a list of its own.
        let mut group_of: PlHashMap<(i64, u32), usize> = PlHashMap::new();
        let mut groups: Vec<Vec<f64>> = Vec::new();
        for (u, unit) in units.iter().enumerate() {
            if let (Some(v), Some(c)) = (peer_value[u], current[u]) {
                let g = *group_of.entry((unit.start, v)).or_insert_with(|| {
                    groups.push(Vec::new());
                    groups.len() - 1
                });
                groups[g].push(c);
            }
        }
        for (k, g) in group_of {
            let v = &groups[g];
            let (m, d) = median_mad(v);
            peer_stats.insert(k, (m, d, v.len()));
        }
    }
    peer_stats
}

/// The statistics of the peer groups `groups` whose values the units hold, keyed as
/// [`peer_stats`] keys them.
fn given_stats(groups: &[PeerGroup], peers: &PeerValues) -> BTreeMap<(i64, u32), Stats> {
    groups
        .iter()
        .filter_map(|g| {
            let v = peers.index.get(&g.value)?;
            Some(((g.start, *v), (g.median, g.mad, g.peers as usize)))
        })
        .collect()
}

/// Compares the units of `range` with their history, their gap or their peers: the
/// comparable units and the values `threshold` reads (the history reaches back to units
/// before the range).
fn compare_units(
    spec: &BaselineSpec,
    shared: &Shared,
    (units, range): (&[Unit], std::ops::Range<usize>),
    measured: &Measured<'_>,
    gaps: &[f64],
) -> Compared {
    let (current, peer_value, peer_stats) = (measured.current, measured.peer_value, measured.peer_stats);
    // A measure below the least the threshold needs cannot fire (`NaN` is kept).
    let below = |c: f64| match measured.least {
        Some((k, false)) => c < k,
        Some((k, true)) => c <= k,
        None => false,
    };
    let w = spec.window.ms.max(1);
    let empty_value = empty_value(&spec.measure);
    let peer_col = spec.peer_by.as_deref();
    // First activity per account, for the history's start.
    let first_seen = &shared.first_seen;
    // Units are in (account, start) order: an account's prior periods lie just before
    // its current one, found by stepping back.
    let mut compared = Compared {
        units: Vec::new(),
        values: Vec::new(),
        stride: measured.keep.len(),
    };
    let mut vals: Vec<Option<f64>> = Vec::new();
    let mut hist: Vec<f64> = Vec::new();
    for u in range {
        let Some(c) = current[u].filter(|c| !below(*c)) else {
            continue;
        };
        let unit = &units[u];
        vals.clear();
        vals.extend([Some(c), Some(unit.count as f64)]);
        let mut comparable = true;
        match &spec.mode {
            Mode::History { periods, min_history } => {
                let seen = first_seen.get(unit.account as usize).copied().unwrap_or(unit.start);
                if seen > unit.start.saturating_sub(min_history.ms) {
                    // Too young an account: not compared.
                    continue;
                }
                hist.clear();
                let mut j = u;
                for k in 1..=*periods as i64 {
                    let s = unit.start - k * w;
                    if s + w <= seen {
                        break; // before the account's first transaction
                    }
                    while j > 0 && units[j - 1].account == unit.account && units[j - 1].start > s {
                        j -= 1;
                    }
                    let prior = (j > 0 && units[j - 1].account == unit.account && units[j - 1].start == s)
                        .then(|| current[j - 1]);
                    match prior {
                        Some(v) => hist.extend(v),
                        None => hist.extend(empty_value),
                    }
                }
                if hist.is_empty() {
                    comparable = false;
                }
                let (m, d) = if measured.spread {
                    median_mad(&hist)
                } else {
                    (None, None)
                };
                let hmax = hist
                    .iter()
                    .copied()
                    .fold(None, |a: Option<f64>, x| Some(a.map_or(x, |a| a.max(x))));
                vals.extend([m, d, ratio(c, m), robust_z(c, m, d), Some(hist.len() as f64), hmax]);
            }
            Mode::Dormancy(_) => vals.push(Some(gaps[u])),
            Mode::Peers => {}
        }
        if peer_col.is_some() {
            let st = peer_value[u].and_then(|v| peer_stats.get(&(unit.start, v))).copied();
            match st {
                Some((m, d, n)) => vals.extend([m, d, ratio(c, m), robust_z(c, m, d), Some(n as f64)]),
                None => vals.extend([None, None, None, None, Some(0.0)]),
            }
        }
        if comparable {
            // Every unit gives the rule's names, in order; the names kept go in.
            vals.resize(spec.names.len(), None);
            compared.units.push(u);
            compared.values.extend(measured.keep.iter().map(|&k| vals[k]));
        }
    }
    compared
}

/// The threshold over the units compared: whether each fires, or `None` when none was
/// compared. A unit's threshold reads its own values only.
/// `compared` holds the names `kept` (indices into the rule's names) of each unit: those
/// the threshold reads, and `current`.
fn threshold(rule: &Rule, spec: &BaselineSpec, compared: &Compared, kept: &[usize]) -> Result<Option<Vec<bool>>> {
    let comparable = &compared.units;
    if comparable.is_empty() {
        return Ok(None);
    }
    let columns: Vec<Column> = kept
        .iter()
        .enumerate()
        .map(|(j, &k)| {
            Float64Chunked::from_iter_options(
                spec.names[k].as_str().into(),
                (0..comparable.len()).map(|i| compared.of(i)[j]),
            )
            .into_series()
            .into_column()
        })
        .collect();
    let thr = expr::compile(&spec.threshold).rule_ctx(rule.id(), || "compiling `threshold`".into())?;
    let fired = DataFrame::new_infer_height(columns)
        .and_then(|df| df.lazy().select([thr.fill_null(lit(false)).alias("f")]).collect())
        .rule_ctx(rule.id(), || "evaluating `threshold`".into())?;
    let f = fired.column("f").rule_ctx(rule.id(), || "reading `threshold`".into())?;
    let f = f.bool().map_err(|_| Error::Rule {
        rule_id: rule.id().to_string(),
        message: format!("`threshold` must be true or false; it gives {}", f.dtype()),
    })?;
    let fires = (0..comparable.len()).map(|k| f.get(k) == Some(true)).collect();
    Ok(Some(fires))
}

/// One alert a firing period, with its values and span.
fn unit_alerts(rule: &Rule, spec: &BaselineSpec, prep: &Prepared<'_>, firing: &[Fired]) -> Result<Vec<Alert>> {
    let mut alerts = Vec::new();
    for unit in firing {
        let mut rows_u = unit.rows.clone();
        rows_u.sort_unstable_by_key(|r| (prep.ts(*r), *r));
        let account = prep.account(unit.account).to_string();
        let mut measures = BTreeMap::new();
        let mut texts = BTreeMap::new();
        for (name, v) in spec.names.iter().zip(&unit.values) {
            let av = v.map(AnyValue::Float64).unwrap_or(AnyValue::Null);
            measures.insert(name.clone(), json_value(&av));
            texts.insert(name.clone(), display_value(&av));
        }
        texts.insert("period_start".into(), format::timestamp(unit.start));
        texts.insert("period_end".into(), format::timestamp(unit.end));
        let explanation = fill(
            &rule.def.explain,
            rule,
            &texts,
            &account,
            rule.side.as_str(),
            Some(&spec.window.to_string()),
        );
        alerts.push(make_alert(
            prep,
            rule,
            AlertParts {
                account,
                side: rule.side,
                rows: rows_u,
                measures,
                explanation,
                linked_accounts: Vec::new(),
            },
        )?);
    }
    Ok(dedup(alerts))
}

/// Each account's first transaction time, either side.
fn first_seen(prep: &Prepared<'_>) -> Vec<i64> {
    let mut out = vec![i64::MAX; prep.account_count()];
    for side in [Side::Out, Side::In] {
        for (a, t, _) in prep.side_keys(side) {
            let v = &mut out[*a as usize];
            if *t < *v {
                *v = *t;
            }
        }
    }
    out
}

/// Each account's reactivations: the times of its transactions (either side) that come
/// at least `silence` after its previous one, with that gap; by account (offsets into
/// one flat list), in time order.
fn reactivations(prep: &Prepared<'_>, silence: i64) -> (Vec<usize>, Vec<(i64, i64)>) {
    let out_v = prep.side_keys(Side::Out);
    let in_v = prep.side_keys(Side::In);
    let n = prep.account_count();
    let mut offsets = Vec::with_capacity(n + 1);
    let mut reacts = Vec::new();
    let (mut i, mut j) = (0usize, 0usize);
    offsets.push(0);
    for acct in 0..n as u32 {
        // Both views are sorted by (account, time): merge this account's two runs.
        let mut prev: Option<i64> = None;
        loop {
            let a = out_v.get(i).filter(|k| k.0 == acct).map(|k| k.1);
            let b = in_v.get(j).filter(|k| k.0 == acct).map(|k| k.1);
            let t = match (a, b) {
                (Some(x), Some(y)) if x <= y => {
                    i += 1;
                    x
                }
                (_, Some(y)) => {
                    j += 1;
                    y
                }
                (Some(x), None) => {
                    i += 1;
                    x
                }
                (None, None) => break,
            };
            if let Some(p) = prev {
                if t - p >= silence {
                    reacts.push((t, t - p));
                }
            }
            prev = Some(t);
        }
        offsets.push(reacts.len());
    }
    (offsets, reacts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_periods_are_zero_for_sums_and_counts_only() {
        assert_eq!(empty_value("sum(amount_base)"), Some(0.0));
        assert_eq!(empty_value(" COUNT(DISTINCT counterparty) "), Some(0.0));
        assert_eq!(
            empty_value("sum(CASE WHEN channel = 'cash_in' THEN amount_base ELSE 0 END)"),
            Some(0.0)
        );
        assert_eq!(empty_value("sum(a) / count(*)"), None);
        assert_eq!(empty_value("max(amount_base)"), None);
    }

    #[test]
    fn median_and_mad() {
        assert_eq!(median_mad(&[1.0, 2.0, 3.0, 4.0, 100.0]), (Some(3.0), Some(1.0)));
        assert_eq!(median_mad(&[2.0, 4.0]), (Some(3.0), Some(1.0)));
        // As a sort would give them, whatever the order.
        let values = [7.0, -1.0, 3.5, 0.0, -0.0, 12.0, 3.5, 2.0, f64::INFINITY, 5.0];
        for n in 1..=values.len() {
            let mut sorted = values[..n].to_vec();
            sorted.sort_by(f64::total_cmp);
            let want = if n % 2 == 1 {
                sorted[n / 2]
            } else {
                (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
            };
            let mut v: Vec<f64> = values[..n].iter().rev().copied().collect();
            assert_eq!(median(&mut v).map(f64::to_bits), Some(want.to_bits()), "{n} values");
        }
        assert_eq!(median_mad(&[]), (None, None));
        assert_eq!(robust_z(10.0, Some(3.0), Some(0.0)), None);
        assert_eq!(ratio(10.0, Some(0.0)), None);
    }

    /// Tallies counted in parts, joined and sent through JSON give the statistics of
    /// every unit's measure listed at once.
    #[test]
    fn a_tally_in_parts_gives_the_statistics_of_all_units() {
        let values: Vec<f64> = (0..500)
            .map(|i| ((i * 37) % 11) as f64 + if i % 50 == 0 { 0.5 } else { 0.0 })
            .collect();
        let mut parts = [PeerTally::default(), PeerTally::default(), PeerTally::default()];
        for (i, v) in values.iter().enumerate() {
            let peer = if i % 4 == 0 { "business" } else { "individual" };
            parts[i % 3].add("R", Some((0, peer, *v)));
        }
        let mut whole = PeerTally::default();
        for part in parts {
            let sent: PeerTally = serde_json::from_str(&serde_json::to_string(&part).unwrap()).unwrap();
            whole.join(sent);
        }
        let groups = whole.groups();
        for (peer, keep) in [("business", 0usize), ("individual", 1)] {
            let listed: Vec<f64> = values
                .iter()
                .enumerate()
                .filter(|(i, _)| usize::from(i % 4 != 0) == keep)
                .map(|(_, v)| *v)
                .collect();
            let (median, mad) = median_mad(&listed);
            let g = groups["R"].iter().find(|g| g.value == peer).unwrap();
            assert_eq!((g.median, g.mad, g.peers), (median, mad, listed.len() as u64), "{peer}");
        }
        // Two groups of at most 22 values (eleven, and each with a half), not 500 entries.
        let entries: usize = whole.rules["R"][&0].values().map(|c| c.len()).sum();
        assert!(entries <= 44, "{entries}");
    }
}
