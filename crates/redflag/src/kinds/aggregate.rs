#![doc = include_str!("../../../../docs/kinds/aggregate.md")]

use std::collections::{BTreeMap, BTreeSet};

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::{Checker, Field, Kind};
use crate::engine::{
    dedup, display_value, fill, gather_rows, gather_rows_coded, json_value, make_alert, AlertParts, Scope, NO_ACCOUNT,
};
use crate::error::{suggestion, PolarsContext, Result, RuleContext};
use crate::expr::{self, ExprRole};
use crate::model::{is_identifier, Alert, Rule, RuleDef, RuleKind, Side, SideSel, Window, BUILTIN_MEASURES};
use crate::schema;

/// Checks named measures (SQL aggregates); returns them in name order.
pub(crate) fn check_measures(
    field: &str,
    measures: &BTreeMap<String, String>,
    cx: &mut Checker<'_>,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (name, sql) in measures {
        if !is_identifier(name) || schema::is_known_column(name) {
            cx.problem(
                &format!("{field}.{name}"),
                format!("measure name `{name}` must be a plain identifier that is not a column name"),
            );
            continue;
        }
        if let Some(s) = cx.expr(&format!("{field}.{name}"), sql, ExprRole::Measure) {
            out.push((name.clone(), s));
        }
    }
    out
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

/// One alternative of an aggregate rule: a window and a condition over the measures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WindowAlt {
    /// The trailing window.
    pub(crate) window: String,
    /// The condition over the measures.
    pub(crate) having: String,
}

/// An aggregate rule's own fields as written.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AggregateDef {
    /// The side screened.
    #[serde(default)]
    pub(crate) side: Option<SideSel>,
    /// The row condition.
    #[serde(default, rename = "where")]
    pub(crate) where_: Option<String>,
    /// The trailing window.
    #[serde(default)]
    pub(crate) window: Option<String>,
    /// Named measures.
    #[serde(default)]
    pub(crate) measures: BTreeMap<String, String>,
    /// The condition over the measures.
    #[serde(default)]
    pub(crate) having: Option<String>,
    /// Alternatives (window, having), any of which fires.
    #[serde(default)]
    pub(crate) any_of: Vec<WindowAlt>,
    /// Grouping columns (default: the account).
    #[serde(default)]
    pub(crate) group_by: Vec<String>,
}

/// Kind `aggregate`.
pub(crate) struct Aggregate;

impl Kind for Aggregate {
    fn sees_only_its_rows(&self) -> bool {
        true
    }
    fn name(&self) -> &'static str {
        "aggregate"
    }
    fn fields(&self) -> &'static [Field] {
        &[
            Field {
                name: "side",
                doc: "the side screened: `in`, `out` or `both` (each side on its own account)",
            },
            Field {
                name: "where",
                doc: "the rows counted",
            },
            Field {
                name: "group_by",
                doc: "grouping columns beside the account",
            },
            Field {
                name: "measures",
                doc: "named SQL aggregates over the window",
            },
            Field {
                name: "window",
                doc: "the trailing window, such as `7d`",
            },
            Field {
                name: "having",
                doc: "the condition over the measures",
            },
            Field {
                name: "any_of",
                doc: "alternatives (`window`, `having`), any of which fires",
            },
        ]
    }
    fn doc(&self) -> &'static str {
        include_str!("../../../../docs/kinds/aggregate.md")
    }
    fn written(&self, def: &RuleDef) -> serde_yaml_ng::Mapping {
        super::written_fields::<AggregateDef>(def)
    }
    fn check(&self, def: &RuleDef, cx: &mut Checker<'_>) -> RuleKind {
        RuleKind::new(self.name(), check(def, cx))
    }
    fn run(&self, rule: &Rule, scope: &Scope<'_, '_>) -> Result<Vec<Alert>> {
        run(rule, super::spec_of::<AggregateSpec>(rule)?, scope)
    }
    fn cost(&self, rule: &Rule) -> u8 {
        if rule.side == SideSel::Both {
            4
        } else {
            2
        }
    }
    fn describe(&self, rule: &Rule, out: &mut String) {
        if let Some(spec) = rule.kind.spec::<AggregateSpec>() {
            describe(rule, spec, out);
        }
    }
    fn first_condition_is_where(&self) -> bool {
        true
    }
}

fn check(def: &RuleDef, cx: &mut Checker<'_>) -> AggregateSpec {
    let d: AggregateDef = super::parse_fields(def, cx);
    cx.side = d.side.unwrap_or_default();
    cx.condition("where", d.side.unwrap_or_default(), d.where_.as_deref());
    if d.measures.is_empty() {
        cx.problem(
            "measures",
            "an aggregate rule needs at least one measure, such as `n: \"count(*)\"`",
        );
    }
    let raw_alts = written_alternatives(&d, cx);
    let (raw_alts, kept_measures) = degrade(&d, raw_alts, cx);
    let measures = check_measures("measures", &kept_measures, cx);
    let measure_names: Vec<String> = kept_measures.keys().cloned().collect();
    let mut alternatives = Vec::new();
    for (prefix, alt) in raw_alts {
        let window = cx.window(&format!("{prefix}window"), Some(&alt.window), "7d");
        // `having` reads measures, not columns.
        let before = cx.columns.clone();
        let having = cx.expr(
            &format!("{prefix}having"),
            &alt.having,
            ExprRole::Having(&measure_names),
        );
        cx.columns = before;
        if let (Some(w), Some(h)) = (window, having) {
            alternatives.push((w, h));
        }
    }
    for g in &d.group_by {
        if !schema::is_known_column(g) {
            cx.problem(
                "group_by",
                format!("unknown column `{g}`{}", suggestion(g, schema::all_columns())),
            );
        }
    }
    cx.columns.extend(d.group_by.iter().cloned());
    cx.placeholders(measures.iter().map(|(n, _)| n.clone()));
    cx.placeholders(BUILTIN_MEASURES.iter().copied());
    AggregateSpec {
        measures,
        alternatives,
        group_by: d.group_by.clone(),
    }
}

/// The alternatives as written, each with the prefix of its fields (`any_of[1].`, or none
/// for a single `window` and `having`).
fn written_alternatives(d: &AggregateDef, cx: &mut Checker<'_>) -> Vec<(String, WindowAlt)> {
    let mut raw_alts: Vec<(String, WindowAlt)> = Vec::new();
    match (&d.window, &d.having, d.any_of.is_empty()) {
        (Some(w), Some(h), true) => raw_alts.push((
            String::new(),
            WindowAlt {
                window: w.clone(),
                having: h.clone(),
            },
        )),
        (None, None, false) => {
            for (j, a) in d.any_of.iter().enumerate() {
                raw_alts.push((format!("any_of[{j}]."), a.clone()));
            }
        }
        (_, _, false) => cx.problem(
            "any_of",
            "give either `window` and `having`, or `any_of` with several of them, not both",
        ),
        (None, _, true) => cx.problem("window", "an aggregate rule needs a `window`, such as 7d (or `any_of`)"),
        (Some(_), None, true) => cx.problem("having", "an aggregate rule needs `having`, such as \"n >= 2\""),
    }
    raw_alts
}

/// On data that lacks columns (a rule checked again for data), drops the measures that
/// read one, with the alternatives of `any_of` whose `having` uses such a measure, as
/// long as an alternative is left; else drops nothing (the rule is not applicable).
/// Returns the alternatives and the measures kept.
fn degrade(
    d: &AggregateDef,
    alts: Vec<(String, WindowAlt)>,
    cx: &mut Checker<'_>,
) -> (Vec<(String, WindowAlt)>, BTreeMap<String, String>) {
    let lacking: BTreeMap<&String, Vec<String>> = d
        .measures
        .iter()
        .map(|(n, sql)| (n, cx.lacks(sql, ExprRole::Measure)))
        .filter(|(_, l)| !l.is_empty())
        .collect();
    if lacking.is_empty() {
        return (alts, d.measures.clone());
    }
    let lacks_of = |having: &str| -> Vec<String> {
        let mut cols = BTreeSet::new();
        for name in names_in(having) {
            if let Some((_, l)) = lacking.iter().find(|(m, _)| ***m == name) {
                cols.extend(l.iter().cloned());
            }
        }
        cols.into_iter().collect()
    };
    let (kept, gone): (Vec<_>, Vec<_>) = alts.into_iter().partition(|(_, a)| lacks_of(&a.having).is_empty());
    if kept.is_empty() {
        return (gone, d.measures.clone());
    }
    for (prefix, a) in &gone {
        let text = format!("within {}: {}", a.window, a.having);
        cx.drop_part(prefix.trim_end_matches('.'), &text, lacks_of(&a.having));
    }
    let mut measures = d.measures.clone();
    for (name, cols) in &lacking {
        measures.remove(*name);
        cx.drop_part(&format!("measures.{name}"), &d.measures[*name], cols.clone());
    }
    (kept, measures)
}

/// The plain names an expression as written uses (not `$parameters`, `@lists` or text in
/// quotes).
fn names_in(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut word = String::new();
    let mut quoted = false;
    let mut sigil = false;
    for c in text.chars().chain(std::iter::once(' ')) {
        if c == '\'' {
            quoted = !quoted;
        }
        if !quoted && (c.is_alphanumeric() || c == '_') {
            if word.is_empty() && sigil {
                word.push('$');
            }
            word.push(c);
            continue;
        }
        if !word.is_empty() && !word.starts_with('$') {
            out.insert(std::mem::take(&mut word));
        }
        word.clear();
        sigil = c == '$' || c == '@' || c == '~';
    }
    out
}

/// Episodes of an aggregate rule: merged firing windows per account.
struct Episode {
    group: u32,
    start: i64,
    end: i64,
    windows: BTreeSet<i64>,
}

fn run(rule: &Rule, spec: &AggregateSpec, scope: &Scope<'_, '_>) -> Result<Vec<Alert>> {
    // The rows, in (group, ts, row) order; side `both` screens an account's two sides
    // together. Windows never span accounts: the accounts are screened a slice at a time,
    // so that what a slice needs (its rows, columns and windows' measures) stays small.
    scope.per_account_slice(0, rule.side, |rows| run_rows(rule, spec, scope, rows))
}

/// The rows of one slice of accounts, gathered and ordered by group, then time: what the
/// stages of an aggregate rule share.
struct Grouped {
    /// The gathered columns, with `__grp` and `ts`, in (group, ts, row) order.
    data: DataFrame,
    /// Each row's group.
    grp: Vec<u32>,
    /// Each row's time.
    tss: Vec<i64>,
    /// Each row's transaction row.
    txn_rows: Vec<u32>,
    /// With `group_by`, each group's account.
    group_account: Vec<u32>,
}

fn run_rows(
    rule: &Rule,
    spec: &AggregateSpec,
    scope: &Scope<'_, '_>,
    mut rows: Vec<(u32, i64, u32, Side)>,
) -> Result<Vec<Alert>> {
    let prep = scope.data();
    prune_rows(spec, prep, &mut rows);
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let g = group_rows(rule, spec, prep, &rows)?;
    // Measures, compiled once.
    let measure_exprs: Vec<Expr> = spec
        .measures
        .iter()
        .map(|(name, sql)| expr::compile(sql).map(|e| e.alias(name.as_str())))
        .collect::<PolarsResult<_>>()
        .rule_ctx(rule.id(), || "compiling the measures".into())?;
    let intervals = firing_intervals(rule, spec, prep, &g, &measure_exprs)?;
    if intervals.is_empty() {
        return Ok(Vec::new());
    }
    let episodes = merge_episodes(intervals);
    episode_alerts(rule, spec, prep, &g, &measure_exprs, &episodes)
}

/// Without `group_by`, drops the rows that lie in no window that could fire, before
/// anything is gathered.
fn prune_rows(spec: &AggregateSpec, prep: &crate::engine::Prepared<'_>, rows: &mut Vec<(u32, i64, u32, Side)>) {
    let alt_bounds: Vec<expr::Bounds> = spec
        .alternatives
        .iter()
        .map(|(_, h)| expr::bounds(h, &spec.measures))
        .collect();
    if spec.group_by.is_empty() && !rows.is_empty() {
        let g: Vec<u32> = rows.iter().map(|r| r.0).collect();
        let t: Vec<i64> = rows.iter().map(|r| r.1).collect();
        let a: Vec<f64> = rows.iter().map(|r| prep.amount(r.2)).collect();
        let mut keep = vec![false; rows.len()];
        for ((w, _), b) in spec.alternatives.iter().zip(&alt_bounds) {
            match dense_rows(&g, &t, &a, w.ms, *b) {
                None => {
                    keep.iter_mut().for_each(|k| *k = true);
                    break;
                }
                Some(k) => k.into_iter().for_each(|i| keep[i] = true),
            }
        }
        let mut i = 0;
        rows.retain(|_| {
            i += 1;
            keep[i - 1]
        });
    }
}

/// Gathers the columns the measures read for the rows, keys each row's group (the
/// account, or the account and the `group_by` columns) and orders the rows by group,
/// then time.
fn group_rows(
    rule: &Rule,
    spec: &AggregateSpec,
    prep: &crate::engine::Prepared<'_>,
    rows: &[(u32, i64, u32, Side)],
) -> Result<Grouped> {
    // Columns the measures read, per side, gathered for these rows only.
    let cols = crate::engine::read_columns(rule, &["amount_base", "counterparty"]);
    // With measures that slide incrementally, text columns stay dictionary-encoded: a
    // column only counted is read as its codes, one read by a measure's argument alone
    // once for each of its values (`rolling`), any other decoded there. polars' rolling
    // windows read text.
    let coded: Vec<String> = match crate::engine::rolling::plan(&spec.measures) {
        Some(_) => cols
            .iter()
            .filter(|c| spec.group_by.iter().all(|g| g != *c))
            .cloned()
            .collect(),
        None => Vec::new(),
    };
    let data = gather_rows_coded(prep, rows, &cols, &coded)?;
    // Group key: the account, or the account and the group_by columns.
    let mut group_account: Vec<u32> = Vec::new();
    let groups: Vec<u32> = if spec.group_by.is_empty() {
        rows.iter().map(|r| r.0).collect()
    } else {
        let mut keyed: PlHashMap<(u32, String), u32> = PlHashMap::new();
        let gcols: Vec<Column> = spec
            .group_by
            .iter()
            .map(|g| data.column(g).cloned())
            .collect::<PolarsResult<_>>()
            .ctx(|| format!("rule {}: group_by", rule.id()))?;
        let mut out = Vec::with_capacity(rows.len());
        for (k, r) in rows.iter().enumerate() {
            let mut key = String::new();
            for c in &gcols {
                key.push_str(&display_value(&c.get(k).unwrap_or(AnyValue::Null)));
                key.push('\u{1f}');
            }
            let next = keyed.len() as u32;
            let g = *keyed.entry((r.0, key)).or_insert(next);
            if g == next {
                group_account.push(r.0);
            }
            out.push(g);
        }
        out
    };
    // With group_by the order must be (group, ts): sort a permutation.
    let mut perm: Vec<usize> = (0..rows.len()).collect();
    if !spec.group_by.is_empty() {
        perm.sort_by_key(|&k| (groups[k], rows[k].1, rows[k].2));
    }
    let data = if spec.group_by.is_empty() {
        data
    } else {
        data.take(&IdxCa::from_vec(
            "p".into(),
            perm.iter().map(|&k| k as IdxSize).collect(),
        ))
        .ctx(|| "ordering groups".into())?
    };
    let grp: Vec<u32> = perm.iter().map(|&k| groups[k]).collect();
    let tss: Vec<i64> = perm.iter().map(|&k| rows[k].1).collect();
    let txn_rows: Vec<u32> = perm.iter().map(|&k| rows[k].2).collect();
    let mut data = data;
    data.with_column(Column::new("__grp".into(), grp.clone()))
        .ctx(|| "grouping".into())?;
    let ts_series = Int64Chunked::from_vec("ts".into(), tss.clone())
        .into_datetime(TimeUnit::Milliseconds, None)
        .into_series();
    data.with_column(ts_series.into_column()).ctx(|| "time".into())?;
    Ok(Grouped {
        data,
        grp,
        tss,
        txn_rows,
        group_account,
    })
}

/// The firing windows of every alternative, as (group, start, end, window length).
fn firing_intervals(
    rule: &Rule,
    spec: &AggregateSpec,
    prep: &crate::engine::Prepared<'_>,
    g: &Grouped,
    measure_exprs: &[Expr],
) -> Result<Vec<(u32, i64, i64, i64)>> {
    let Grouped {
        data,
        grp,
        tss,
        txn_rows,
        ..
    } = g;
    // Measures slide incrementally where they can; else polars' rolling windows.
    let incremental = crate::engine::rolling::plan(&spec.measures);
    let bounds: Vec<expr::Bounds> = spec
        .alternatives
        .iter()
        .map(|(_, having)| expr::bounds(having, &spec.measures))
        .collect();
    // With one alternative and no `group_by`, `prune_rows` kept exactly the rows of the
    // windows that can fire: each window that can fire kept all its rows, so every row
    // kept is in one still, and a second pass would keep them all.
    let pruned = spec.alternatives.len() == 1 && spec.group_by.is_empty();
    let amts: Vec<f64> = if pruned {
        Vec::new()
    } else {
        txn_rows.iter().map(|r| prep.amount(*r)).collect()
    };
    let mut intervals: Vec<(u32, i64, i64, i64)> = Vec::new(); // (group, start, end, window)
    let mut done = vec![false; spec.alternatives.len()];
    for first in 0..spec.alternatives.len() {
        if done[first] {
            continue;
        }
        // Alternatives over one window share its measures: those whose windows that
        // cannot fire are the same, or, when the measures slide exactly (whatever rows
        // lie before a window), all of them, over the rows any of them may need.
        let window = spec.alternatives[first].0;
        let same: Vec<usize> = (first..spec.alternatives.len())
            .filter(|&k| {
                !done[k] && spec.alternatives[k].0 == window && (incremental.is_some() || bounds[k] == bounds[first])
            })
            .collect();
        let bound = same.iter().fold(bounds[first], |b, &k| expr::Bounds {
            rows: b.rows.min(bounds[k].rows),
            amount: b.amount.min(bounds[k].amount),
        });
        same.iter().for_each(|&k| done[k] = true);
        // Windows that cannot hold the rows or the amount `having` needs cannot fire.
        let keep = if pruned {
            None
        } else {
            dense_rows(grp, tss, &amts, window.ms, bound)
        };
        let (sub, sub_grp, sub_ts, back): (DataFrame, Vec<u32>, Vec<i64>, Vec<usize>) = match keep {
            None => (data.clone(), grp.clone(), tss.clone(), (0..grp.len()).collect()),
            Some(rows) => {
                if rows.is_empty() {
                    continue;
                }
                let idx = IdxCa::from_vec("k".into(), rows.iter().map(|&k| k as IdxSize).collect());
                let sub = data.take(&idx).ctx(|| format!("rule {}: pruning", rule.id()))?;
                let g = rows.iter().map(|&k| grp[k]).collect();
                let t = rows.iter().map(|&k| tss[k]).collect();
                (sub, g, t, rows)
            }
        };
        let per_window = window_measures(&sub, incremental.as_ref(), measure_exprs, window, &sub_grp, &sub_ts)
            .rule_ctx(rule.id(), || format!("evaluating the measures over {window}"))?;
        for k in same {
            let having = &spec.alternatives[k].1;
            let fire = having_holds(&per_window, having)
                .rule_ctx(rule.id(), || format!("evaluating `having` over {window}"))?;
            for (i, f) in fire.iter().enumerate() {
                if *f {
                    let j = back[i];
                    intervals.push((grp[j], tss[j].saturating_sub(window.ms), tss[j], window.ms));
                }
            }
        }
    }
    Ok(intervals)
}

/// Merges overlapping firing windows of a group into episodes.
fn merge_episodes(mut intervals: Vec<(u32, i64, i64, i64)>) -> Vec<Episode> {
    intervals.sort_unstable();
    let mut episodes: Vec<Episode> = Vec::new();
    for (g, s, e, w) in intervals {
        match episodes.last_mut() {
            Some(ep) if ep.group == g && s <= ep.end => {
                ep.end = ep.end.max(e);
                ep.windows.insert(w);
            }
            _ => episodes.push(Episode {
                group: g,
                start: s,
                end: e,
                windows: BTreeSet::from([w]),
            }),
        }
    }
    episodes
}

/// The rows of each episode, the measures over them, and one alert an episode.
fn episode_alerts(
    rule: &Rule,
    spec: &AggregateSpec,
    prep: &crate::engine::Prepared<'_>,
    g: &Grouped,
    measure_exprs: &[Expr],
    episodes: &[Episode],
) -> Result<Vec<Alert>> {
    let Grouped {
        data,
        grp,
        tss,
        txn_rows,
        group_account,
    } = g;
    // Rows of each episode (rows are sorted by group, then time).
    let mut ep_of_row: Vec<Option<u32>> = vec![None; grp.len()];
    let mut k = 0usize;
    for (ei, ep) in episodes.iter().enumerate() {
        while k < grp.len() && (grp[k] < ep.group || (grp[k] == ep.group && tss[k] < ep.start)) {
            k += 1;
        }
        let mut j = k;
        while j < grp.len() && grp[j] == ep.group && tss[j] <= ep.end {
            ep_of_row[j] = Some(ei as u32);
            j += 1;
        }
    }
    let sel: Vec<IdxSize> = (0..grp.len())
        .filter(|&j| ep_of_row[j].is_some())
        .map(|j| j as IdxSize)
        .collect();
    let ep_ids: Vec<u32> = sel.iter().filter_map(|&j| ep_of_row[j as usize]).collect();
    let mut ep_data = data
        .take(&IdxCa::from_vec("s".into(), sel.clone()))
        .ctx(|| "episode rows".into())?;
    // The measures read the episodes' few rows as text (distinct values count the same).
    let text: Vec<Expr> = ep_data
        .columns()
        .iter()
        .filter(|c| c.dtype().is_categorical())
        .map(|c| col(c.name().clone()).cast(DataType::String))
        .collect();
    if !text.is_empty() {
        ep_data = ep_data
            .lazy()
            .with_columns(text)
            .collect()
            .ctx(|| "episode rows".into())?;
    }
    ep_data
        .with_column(Column::new("__ep".into(), ep_ids.clone()))
        .ctx(|| "episode ids".into())?;
    let measured = episode_measures(ep_data, measure_exprs).rule_ctx(rule.id(), || "computing measures".into())?;
    let names: Vec<String> = spec
        .measures
        .iter()
        .map(|(n, _)| n.clone())
        .chain(BUILTIN_MEASURES.iter().map(|s| s.to_string()))
        .collect();
    // Rows per episode, in time order.
    let mut ep_rows: Vec<Vec<u32>> = vec![Vec::new(); episodes.len()];
    for (pos, &e) in sel.iter().zip(ep_ids.iter()) {
        ep_rows[e as usize].push(txn_rows[*pos as usize]);
    }
    let side_name = rule.side.as_str();
    let mut alerts = Vec::new();
    for (ei, ep) in episodes.iter().enumerate() {
        let rows_e = &ep_rows[ei];
        let acct = if spec.group_by.is_empty() {
            ep.group
        } else {
            group_account.get(ep.group as usize).copied().unwrap_or(NO_ACCOUNT)
        };
        let account = prep.account(acct).to_string();
        let mut measures = BTreeMap::new();
        let mut values = BTreeMap::new();
        for n in &names {
            let v = measured
                .column(n)
                .and_then(|c| c.get(ei))
                .ctx(|| format!("rule {}: measure `{n}`", rule.id()))?;
            values.insert(n.clone(), display_value(&v));
            measures.insert(n.clone(), json_value(&v));
        }
        let windows: Vec<String> = ep.windows.iter().map(|w| Window { ms: *w }.to_string()).collect();
        let explanation = fill(
            &rule.def.explain,
            rule,
            &values,
            &account,
            side_name,
            Some(&windows.join(" / ")),
        );
        alerts.push(make_alert(
            prep,
            rule,
            AlertParts {
                account,
                side: rule.side,
                rows: rows_e.clone(),
                measures,
                explanation,
                linked_accounts: Vec::new(),
            },
        )?);
    }
    Ok(dedup(alerts))
}

/// The rule's measures and the built-in ones over each episode's rows (`__ep`), one row
/// an episode in episode order.
fn episode_measures(ep_data: DataFrame, measure_exprs: &[Expr]) -> PolarsResult<DataFrame> {
    let mut aggs = measure_exprs.to_vec();
    aggs.push(len().cast(DataType::Float64).alias("n_txns"));
    aggs.push(col("amount_base").sum().alias("total_amount"));
    aggs.push(col("amount_base").min().alias("min_amount"));
    aggs.push(col("amount_base").max().alias("max_amount"));
    aggs.push(
        col("counterparty")
            .drop_nulls()
            .n_unique()
            .cast(DataType::Float64)
            .alias("n_counterparties"),
    );
    ep_data
        .lazy()
        .group_by_stable([col("__ep")])
        .agg(aggs)
        .sort(["__ep"], SortMultipleOptions::default())
        .collect()
}

/// The rows that lie in some window `[t - w, t]` holding at least `b.rows` rows and
/// `b.amount` in total, or `None` when there is no bound (rows sorted by group, then
/// time). Dropping the other rows changes no window that can fire: each such window keeps
/// all its rows, and every other window still holds too few rows or too little.
fn dense_rows(grp: &[u32], tss: &[i64], amt: &[f64], w: i64, b: expr::Bounds) -> Option<Vec<usize>> {
    if b.rows <= 1 && b.amount <= 0.0 {
        return None;
    }
    let n = grp.len();
    // Sums by prefix, each account's from zero (so that no value of one account, however
    // large, reaches another's sums); compared with a little slack so that rounding never
    // drops a window.
    let mut prefix = vec![0.0f64; n + 1];
    for i in 0..n {
        let before = if i == 0 || grp[i] != grp[i - 1] { 0.0 } else { prefix[i] };
        prefix[i + 1] = before + amt[i];
    }
    let need_amount = b.amount * (1.0 - 1e-9) - 1e-6;
    let mut keep = Vec::new();
    let mut start = 0usize;
    while start < n {
        let mut end = start;
        while end < n && grp[end] == grp[start] {
            end += 1;
        }
        let mut left = start;
        let mut right = start; // the last row with the time of row i: windows include equal times
        let mut covered = start; // rows below this are already kept
        for i in start..end {
            while tss[left] < tss[i].saturating_sub(w) {
                left += 1;
            }
            right = right.max(i);
            while right + 1 < end && tss[right + 1] == tss[i] {
                right += 1;
            }
            let rows = right + 1 - left;
            let total = prefix[right + 1] - if left == start { 0.0 } else { prefix[left] };
            // A total that is not a number keeps its rows: the measures decide.
            if rows >= b.rows && (total.is_nan() || total >= need_amount) {
                for k in covered.max(left)..=right {
                    keep.push(k);
                }
                covered = covered.max(right + 1);
            }
        }
        start = end;
    }
    if keep.len() == n {
        None
    } else {
        Some(keep)
    }
}

/// For each row (window end), whether `having` holds over the trailing window [ts - w, ts].
/// Measures slide incrementally when `plan` covers them; else polars' rolling windows
/// compute them.
fn firing(
    data: &DataFrame,
    plan: Option<&crate::engine::rolling::Plan>,
    measures: &[Expr],
    having: &str,
    window: Window,
    grp: &[u32],
    tss: &[i64],
) -> PolarsResult<(Vec<bool>, DataFrame)> {
    let per_window = window_measures(data, plan, measures, window, grp, tss)?;
    Ok((having_holds(&per_window, having)?, per_window))
}

/// The measures over each row's window `[ts - w, ts]`: slid incrementally with a plan,
/// else by polars' rolling windows.
fn window_measures(
    data: &DataFrame,
    plan: Option<&crate::engine::rolling::Plan>,
    measures: &[Expr],
    window: Window,
    grp: &[u32],
    tss: &[i64],
) -> PolarsResult<DataFrame> {
    match plan {
        Some(plan) => crate::engine::rolling::measures(plan, data, grp, tss, window.ms),
        None => rolling_measures(data, measures, window, grp, tss),
    }
}

/// Whether `having` holds over each row of the windows' measures (a null is false).
fn having_holds(per_window: &DataFrame, having: &str) -> PolarsResult<Vec<bool>> {
    let having = expr::compile(having)?;
    let out = per_window
        .clone()
        .lazy()
        .select([having.fill_null(lit(false)).alias("__fire")])
        .collect()?;
    let f = out.column("__fire")?;
    let f = f
        .bool()
        .map_err(|_| polars_err!(ComputeError: "`having` must be true or false; it gives {}", f.dtype()))?;
    Ok(f.iter().map(|v| v.unwrap_or(false)).collect())
}

/// For rows sorted by (account, ts, row), the measures over each row's trailing window
/// `[ts - w, ts]` and whether `having` holds there. `cols` are the columns the measures read.
pub(crate) fn trailing(
    prep: &crate::engine::Prepared<'_>,
    rule_id: &str,
    rows: &[(u32, i64, u32, Side)],
    cols: &[String],
    measures: &[(String, String)],
    window: Window,
    having: &str,
) -> Result<(Vec<bool>, DataFrame)> {
    let mut data = gather_rows(prep, rows, cols)?;
    let grp: Vec<u32> = rows.iter().map(|r| r.0).collect();
    let tss: Vec<i64> = rows.iter().map(|r| r.1).collect();
    let ts_series = Int64Chunked::from_vec("ts".into(), tss.clone())
        .into_datetime(TimeUnit::Milliseconds, None)
        .into_series();
    data.with_column(Column::new("__grp".into(), grp.clone()))
        .and_then(|d| d.with_column(ts_series.into_column()).map(|_| ()))
        .rule_ctx(rule_id, || "ordering rows into windows".into())?;
    let exprs: Vec<Expr> = measures
        .iter()
        .map(|(name, sql)| expr::compile(sql).map(|e| e.alias(name.as_str())))
        .collect::<PolarsResult<_>>()
        .rule_ctx(rule_id, || "compiling `measures`".into())?;
    let plan = crate::engine::rolling::plan(measures);
    firing(&data, plan.as_ref(), &exprs, having, window, &grp, &tss)
        .rule_ctx(rule_id, || "evaluating `measures` and `having` over each window".into())
}

/// The measures over each row's window [ts - w, ts], by polars' rolling windows.
fn rolling_measures(
    data: &DataFrame,
    measures: &[Expr],
    window: Window,
    grp: &[u32],
    tss: &[i64],
) -> PolarsResult<DataFrame> {
    let opts = RollingGroupOptions {
        index_column: "ts".into(),
        period: Duration::parse(&format!("{}ms", window.ms)),
        offset: Duration::parse(&format!("-{}ms", window.ms)),
        closed_window: ClosedWindow::Both,
    };
    let mut out = data
        .clone()
        .lazy()
        .rolling(col("ts"), [col("__grp")], opts)
        .agg(measures)
        .with_column(col("ts").cast(DataType::Int64))
        .collect()?;
    // The output must line up with the input rows; check rather than trust.
    let g = out.column("__grp")?.u32()?;
    let t = out.column("ts")?.i64()?;
    if out.height() != grp.len()
        || g.iter().zip(grp.iter()).any(|(a, b)| a != Some(*b))
        || t.iter().zip(tss.iter()).any(|(a, b)| a != Some(*b))
    {
        polars_bail!(ComputeError: "internal: rolling windows came back out of order");
    }
    out.drop_in_place("__grp")?;
    out.drop_in_place("ts")?;
    Ok(out)
}

/// `rules show`: the measures, and the window and condition (or the alternatives).
fn describe(rule: &Rule, spec: &AggregateSpec, o: &mut String) {
    use std::fmt::Write;
    let d: AggregateDef = super::read_fields(&rule.def);
    let _ = writeln!(o, "measures:");
    for (n, _) in &spec.measures {
        if let Some(src) = d.measures.get(n) {
            let _ = writeln!(o, "  {n} = {src}");
        }
    }
    if d.any_of.is_empty() {
        let _ = writeln!(
            o,
            "window:      {}\nhaving:      {}",
            d.window.as_deref().unwrap_or(""),
            d.having.as_deref().unwrap_or("")
        );
    } else {
        let _ = writeln!(o, "any of:");
        for alt in &d.any_of {
            let _ = writeln!(o, "  within {}: {}", alt.window, alt.having);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rows kept before gathering are exactly those of some window `[t - w, t]`
    /// (equal times included) that holds enough rows and amount, as a naive search finds
    /// them, with many equal times.
    #[test]
    fn dense_rows_are_the_rows_of_windows_that_can_fire() {
        let mut next = super::super::xorshift(0x9E37_79B9_7F4A_7C15);
        let mut rows: Vec<(u32, i64, f64)> = (0..3_000)
            .map(|_| ((next() % 40) as u32, (next() % 300) as i64, (next() % 100) as f64))
            .collect();
        rows.sort_by_key(|r| (r.0, r.1));
        let grp: Vec<u32> = rows.iter().map(|r| r.0).collect();
        let tss: Vec<i64> = rows.iter().map(|r| r.1).collect();
        let amt: Vec<f64> = rows.iter().map(|r| r.2).collect();
        for (w, min_rows, min_amount) in [(10, 4, 0.0), (20, 1, 400.0), (5, 3, 150.0), (50, 12, 900.0)] {
            let b = expr::Bounds {
                rows: min_rows,
                amount: min_amount,
            };
            let mut keep = vec![false; rows.len()];
            for i in 0..rows.len() {
                let inside: Vec<usize> = (0..rows.len())
                    .filter(|&j| grp[j] == grp[i] && tss[j] >= tss[i] - w && tss[j] <= tss[i])
                    .collect();
                let total: f64 = inside.iter().map(|&j| amt[j]).sum();
                if inside.len() >= min_rows && total >= min_amount {
                    inside.iter().for_each(|&j| keep[j] = true);
                }
            }
            let expected: Vec<usize> = (0..rows.len()).filter(|&j| keep[j]).collect();
            assert!(!expected.is_empty() && expected.len() < rows.len(), "{w} {min_rows}");
            assert_eq!(
                dense_rows(&grp, &tss, &amt, w, b),
                Some(expected.clone()),
                "{w} {min_rows} {min_amount}"
            );
            // A second pass over the rows kept keeps them all (what `firing_intervals`
            // relies on to skip it).
            let pick = |v: &[u32]| expected.iter().map(|&j| v[j]).collect::<Vec<u32>>();
            let (g2, t2): (Vec<u32>, Vec<i64>) = (pick(&grp), expected.iter().map(|&j| tss[j]).collect());
            let a2: Vec<f64> = expected.iter().map(|&j| amt[j]).collect();
            let again = dense_rows(&g2, &t2, &a2, w, b);
            assert!(
                again.as_ref().is_none_or(|k| k.len() == expected.len()),
                "{w} {min_rows} {min_amount}: a second pass dropped rows"
            );
        }
    }

    /// Measures per window from polars' rolling windows, the reference for the sliding ones.
    fn rolling(data: &DataFrame, measures: &[(String, String)], w: i64) -> DataFrame {
        let exprs: Vec<Expr> = measures
            .iter()
            .map(|(n, q)| expr::compile(q).unwrap().alias(n.as_str()))
            .collect();
        let names: Vec<Expr> = measures.iter().map(|(n, _)| col(n.as_str())).collect();
        let opts = RollingGroupOptions {
            index_column: "ts".into(),
            period: Duration::parse(&format!("{w}ms")),
            offset: Duration::parse(&format!("-{w}ms")),
            closed_window: ClosedWindow::Both,
        };
        data.clone()
            .lazy()
            .rolling(col("ts"), [col("__grp")], opts)
            .agg(exprs)
            .select(names)
            .collect()
            .unwrap()
    }

    #[test]
    fn sliding_measures_equal_polars_rolling_windows() {
        // A small deterministic generator: groups, times with ties, amounts, senders, nulls.
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = |m: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % m
        };
        let measures: Vec<(String, String)> = [
            ("n", "count(*)"),
            ("nn", "count(cp)"),
            ("senders", "count(DISTINCT cp)"),
            ("total", "sum(amount_base)"),
            ("cash", "sum(CASE WHEN ch = 'cash_in' THEN amount_base ELSE 0.0 END)"),
            ("mean", "avg(amount_base)"),
            ("lo", "min(amount_base)"),
            ("hi", "max(amount_base)"),
            ("med", "median(amount_base)"),
            (
                "pct",
                "100.0 * sum(CASE WHEN ch = 'cash_in' THEN amount_base ELSE 0.0 END) / sum(amount_base)",
            ),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        let plan = crate::engine::rolling::plan(&measures).unwrap();
        for round in 0..20 {
            let n = 50 + next(300) as usize;
            let mut rows: Vec<(u32, i64)> = (0..n)
                .map(|_| (next(6) as u32, (next(40) * 3_600_000) as i64))
                .collect();
            rows.sort();
            let grp: Vec<u32> = rows.iter().map(|r| r.0).collect();
            let tss: Vec<i64> = rows.iter().map(|r| r.1).collect();
            let amount: Vec<f64> = (0..n).map(|_| (next(100_000) as f64) / 100.0 + 0.01).collect();
            let cp: Vec<Option<String>> = (0..n)
                .map(|_| match next(8) {
                    0 => None,
                    k => Some(format!("S{k}")),
                })
                .collect();
            let ch: Vec<&str> = (0..n).map(|_| if next(3) == 0 { "cash_in" } else { "wire" }).collect();
            let ts = Int64Chunked::from_vec("ts".into(), tss.clone())
                .into_datetime(TimeUnit::Milliseconds, None)
                .into_series()
                .into_column();
            let data = DataFrame::new_infer_height(vec![
                Column::new("__grp".into(), grp.clone()),
                ts,
                Column::new("amount_base".into(), amount),
                Column::new("cp".into(), cp),
                Column::new("ch".into(), ch),
            ])
            .unwrap();
            let w = [3_600_000i64, 6 * 3_600_000, 24 * 3_600_000][round % 3];
            let want = rolling(&data, &measures, w);
            let got = crate::engine::rolling::measures(&plan, &data, &grp, &tss, w).unwrap();
            for (name, _) in &measures {
                let a = want.column(name).unwrap().cast(&DataType::Float64).unwrap();
                let b = got.column(name).unwrap().cast(&DataType::Float64).unwrap();
                for (k, (x, y)) in a.f64().unwrap().iter().zip(b.f64().unwrap().iter()).enumerate() {
                    let same = match (x, y) {
                        (Some(x), Some(y)) => (x - y).abs() <= 1e-6 * x.abs().max(1.0),
                        (None, None) => true,
                        _ => false,
                    };
                    assert!(
                        same,
                        "round {round}, measure {name}, row {k}: polars {x:?}, sliding {y:?}"
                    );
                }
            }
        }
    }
}
