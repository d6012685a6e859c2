//! Sliding-window measures computed incrementally.
//!
//! A measure such as `100.0 * sum(CASE WHEN channel = 'cash_in' THEN amount_base ELSE 0 END)
//! / sum(amount_base)` is split into its aggregate calls (`sum(...)`, `count(DISTINCT x)`,
//! `median(x)`, ...) and an outer expression over them. Each call's argument is evaluated
//! once per row by polars; the call itself slides over the rows of each account, adding the
//! rows that enter the window and removing those that leave, so a window costs O(log n)
//! instead of O(window). The outer expressions and `having` are then evaluated by polars
//! over one row per window. A hub account with a hundred thousand rows in a week costs no
//! more per row than a quiet one.
//!
//! Sums are kept exactly in fixed point (millionths), so a threshold such as
//! `total >= 20000` is never missed by rounding. Measures that use other aggregates fall
//! back to polars' rolling windows.

use std::ops::ControlFlow;

use polars::prelude::*;
use sqlparser::ast::{self as sql, visit_expressions_mut};
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::Parser;

use crate::expr;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Agg {
    Count,
    CountDistinct,
    Sum,
    Avg,
    Min,
    Max,
    Median,
}

#[derive(Debug, Clone)]
struct Call {
    agg: Agg,
    /// The argument's SQL; `None` for `count(*)`.
    arg: Option<String>,
}

/// Measures split into aggregate calls and outer expressions.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    calls: Vec<Call>,
    /// (measure name, SQL over `__a0`, `__a1`, ...)
    outer: Vec<(String, String)>,
}

impl Plan {
    /// Whether every aggregate only counts (rows, or distinct values): its value does not
    /// depend on the order in which rows are added up.
    pub(crate) fn counts_only(&self) -> bool {
        self.calls
            .iter()
            .all(|c| matches!(c.agg, Agg::Count | Agg::CountDistinct))
    }

    /// Whether the measures read `column` only to count its distinct values: then its
    /// dictionary codes serve as well as its text.
    pub(crate) fn counts_distinct_only(&self, column: &str) -> bool {
        self.calls.iter().all(|c| match c.arg.as_deref().map(str::trim) {
            Some(a) if a == column => c.agg == Agg::CountDistinct,
            Some(a) => !crate::expr::referenced(a).is_some_and(|names| names.contains(column)),
            None => true,
        })
    }
}

/// Splits measures into incremental calls, or `None` when one uses an aggregate this module
/// does not slide (then polars' rolling windows compute them).
pub(crate) fn plan(measures: &[(String, String)]) -> Option<Plan> {
    let mut calls: Vec<Call> = Vec::new();
    let mut keys: Vec<String> = Vec::new();
    let mut outer = Vec::new();
    for (name, text) in measures {
        let mut ast = Parser::new(&GenericDialect)
            .try_with_sql(text)
            .and_then(|mut p| p.parse_expr())
            .ok()?;
        let mut ok = true;
        let _ = visit_expressions_mut(&mut ast, |e: &mut sql::Expr| {
            if let sql::Expr::Function(f) = e {
                let fname = f.name.to_string().to_lowercase();
                let agg = match fname.as_str() {
                    "count" => Some(Agg::Count),
                    "sum" => Some(Agg::Sum),
                    "avg" | "mean" => Some(Agg::Avg),
                    "min" => Some(Agg::Min),
                    "max" => Some(Agg::Max),
                    "median" => Some(Agg::Median),
                    _ => None,
                };
                let Some(mut agg) = agg else {
                    return ControlFlow::<()>::Continue(());
                };
                let sql::FunctionArguments::List(l) = &f.args else {
                    ok = false;
                    return ControlFlow::Continue(());
                };
                if f.filter.is_some() || f.over.is_some() || !l.clauses.is_empty() || l.args.len() != 1 {
                    ok = false;
                    return ControlFlow::Continue(());
                }
                if matches!(l.duplicate_treatment, Some(sql::DuplicateTreatment::Distinct)) {
                    if agg == Agg::Count {
                        agg = Agg::CountDistinct;
                    } else {
                        ok = false;
                        return ControlFlow::Continue(());
                    }
                }
                let arg = match &l.args[0] {
                    sql::FunctionArg::Unnamed(sql::FunctionArgExpr::Wildcard) if agg == Agg::Count => None,
                    sql::FunctionArg::Unnamed(sql::FunctionArgExpr::Expr(a)) => {
                        // count(1) and the like count rows.
                        if agg == Agg::Count && matches!(a, sql::Expr::Value(_)) {
                            None
                        } else {
                            Some(a.to_string())
                        }
                    }
                    _ => {
                        ok = false;
                        return ControlFlow::Continue(());
                    }
                };
                let key = format!("{agg:?}|{arg:?}");
                let k = match keys.iter().position(|x| *x == key) {
                    Some(k) => k,
                    None => {
                        keys.push(key);
                        calls.push(Call { agg, arg });
                        calls.len() - 1
                    }
                };
                *e = sql::Expr::Identifier(sql::Ident::new(format!("__a{k}")));
            }
            ControlFlow::Continue(())
        });
        // What is left outside the calls may only combine them.
        let _ = sqlparser::ast::visit_expressions(&ast, |e: &sql::Expr| {
            match e {
                sql::Expr::Identifier(i) if !i.value.starts_with("__a") => ok = false,
                sql::Expr::CompoundIdentifier(_) | sql::Expr::Function(_) => ok = false,
                _ => {}
            }
            ControlFlow::<()>::Continue(())
        });
        if !ok {
            return None;
        }
        let outer_sql = ast.to_string();
        if expr::compile(&outer_sql).is_err() {
            return None;
        }
        outer.push((name.clone(), outer_sql));
    }
    Some(Plan { calls, outer })
}

/// For each row (window end), the measures over its window `[t - w, t]` (rows sorted by
/// group, then time; a window holds every row of its group in that span, later rows of the
/// same time included), as a frame with one column per measure.
pub(crate) fn measures(plan: &Plan, data: &DataFrame, grp: &[u32], tss: &[i64], w: i64) -> PolarsResult<DataFrame> {
    let n = grp.len();
    let mut cols: Vec<Column> = Vec::with_capacity(plan.calls.len());
    for (k, call) in plan.calls.iter().enumerate() {
        let values = call_values(call, data)?;
        let out: Vec<Option<f64>> = match call.agg {
            Agg::Count => {
                let present = presence(values.as_ref(), n);
                slide(
                    grp,
                    tss,
                    w,
                    0i64,
                    |c, i, d| {
                        if present[i] {
                            *c += d
                        }
                    },
                    |c| Some(*c as f64),
                )
            }
            Agg::CountDistinct => {
                let ids = distinct_ids(values.as_ref())?;
                slide(
                    grp,
                    tss,
                    w,
                    PlHashMap::<u32, i64>::new(),
                    |m, i, d| {
                        if let Some(id) = ids[i] {
                            let c = m.entry(id).or_insert(0);
                            *c += d;
                            if *c == 0 {
                                m.remove(&id);
                            }
                        }
                    },
                    |m| Some(m.len() as f64),
                )
            }
            Agg::Sum | Agg::Avg => {
                let fixed: Vec<Option<Fixed>> = floats(values.as_ref(), n)?.iter().map(|x| x.map(to_fixed)).collect();
                let avg = call.agg == Agg::Avg;
                slide(
                    grp,
                    tss,
                    w,
                    Total::default(),
                    |s, i, d| {
                        if let Some(x) = fixed[i] {
                            s.step(x, d);
                        }
                    },
                    |s| {
                        let total = s.value();
                        match (avg, s.count) {
                            // SQL: the sum of no values is 0 here, as polars gives it.
                            (false, _) => Some(total),
                            (true, 0) => None,
                            (true, c) => Some(total / c as f64),
                        }
                    },
                )
            }
            Agg::Min | Agg::Max => {
                let v = floats(values.as_ref(), n)?;
                extreme(grp, tss, w, &v, call.agg == Agg::Max)
            }
            Agg::Median => {
                let v = floats(values.as_ref(), n)?;
                order_statistic(grp, tss, w, &v, call.agg)
            }
        };
        cols.push(Column::new(format!("__a{k}").into(), out));
    }
    outer_measures(plan, cols, n)
}

/// The plan's outer expressions over its calls' columns (`__a0`, `__a1`, ...), `n` rows.
fn outer_measures(plan: &Plan, cols: Vec<Column>, n: usize) -> PolarsResult<DataFrame> {
    let base = if cols.is_empty() {
        DataFrame::new_infer_height(vec![Column::new("__none".into(), vec![0u32; n])])?
    } else {
        DataFrame::new_infer_height(cols)?
    };
    let outer: Vec<Expr> = plan
        .outer
        .iter()
        .map(|(name, sqltext)| expr::compile(sqltext).map(|e| e.alias(name.as_str())))
        .collect::<PolarsResult<_>>()?;
    base.lazy().select(outer).collect()
}

/// A call's argument evaluated over each row of `data` (`None` for `count(*)`).
///
/// Columns of `data` may be dictionary-encoded: a column counted by its distinct values
/// (`count(DISTINCT x)`, `count(x)`) is read as its codes; an argument over one such
/// column and nothing else is evaluated once for each of its distinct values
/// ([`by_value`]); anywhere else, the column is read as its text.
fn call_values(call: &Call, data: &DataFrame) -> PolarsResult<Option<Series>> {
    let Some(a) = &call.arg else {
        return Ok(None);
    };
    let e = expr::compile(a)?;
    let roots: Vec<PlSmallStr> = e.clone().meta().root_names();
    let coded: Vec<&PlSmallStr> = roots
        .iter()
        .filter(|r| data.column(r.as_str()).is_ok_and(|c| c.dtype().is_categorical()))
        .collect();
    let bare = roots.len() == 1 && a.trim() == roots[0].as_str();
    let counted = matches!(call.agg, Agg::Count | Agg::CountDistinct);
    let s = if coded.is_empty() || (bare && counted) {
        data.clone().lazy().select([e.alias("v")]).collect()?
    } else if roots.len() == 1 {
        return by_value(e, data, roots[0].as_str()).map(Some);
    } else {
        let text: Vec<Expr> = coded.iter().map(|c| col(c.as_str()).cast(DataType::String)).collect();
        data.clone()
            .lazy()
            .with_columns(text)
            .select([e.alias("v")])
            .collect()?
    };
    Ok(Some(s.column("v")?.as_materialized_series().clone()))
}

/// An expression that reads one dictionary-encoded column of `data`, `name`, and nothing
/// else, evaluated over the column's text once for each distinct value present (and
/// once for a missing one) and given to each row by its code: what evaluating it on every
/// row's text gives, without decoding every row.
fn by_value(e: Expr, data: &DataFrame, name: &str) -> PolarsResult<Series> {
    let c = data.column(name)?;
    let DataType::Categorical(_, mapping) = c.dtype() else {
        polars_bail!(ComputeError: "column `{name}` is not dictionary-encoded");
    };
    let codes = c.to_physical_repr().cast(&DataType::UInt32)?;
    // Value 0 is the missing one; the others in order of first appearance.
    let mut values: Vec<Option<&str>> = vec![None];
    let mut index: PlHashMap<u32, IdxSize> = PlHashMap::new();
    let idx: Vec<IdxSize> = codes
        .u32()?
        .iter()
        .map(|code| match code {
            None => 0,
            Some(code) => *index.entry(code).or_insert_with(|| {
                values.push(mapping.cat_to_str(code));
                (values.len() - 1) as IdxSize
            }),
        })
        .collect();
    let small = DataFrame::new_infer_height(vec![Column::new(name.into(), values)])?;
    let evaluated = small.lazy().select([e.alias("v")]).collect()?;
    evaluated
        .column("v")?
        .as_materialized_series()
        .take(&IdxCa::from_vec("i".into(), idx))
}

/// Whether each of `n` rows has a value (every row, for `count(*)`).
fn presence(values: Option<&Series>, n: usize) -> Vec<bool> {
    match values {
        None => vec![true; n],
        Some(s) => s.is_not_null().iter().map(|v| v.unwrap_or(false)).collect(),
    }
}

/// What the calls of a plan that only counts ([`Plan::counts_only`]) read of each row:
/// whether it has a value, or its value's id (equal values, equal ids). Runs of these
/// rows are then measured by walking them ([`Counted::measures`]), which gives what
/// polars gives grouping the same rows, without a frame to group.
pub(crate) struct Counted {
    calls: Vec<CountedCall>,
}

enum CountedCall {
    /// `count(*)` or `count(x)`: which rows count.
    Present(Vec<bool>),
    /// `count(DISTINCT x)`: each row's value id.
    Distinct(Vec<Option<u32>>),
}

impl Counted {
    /// What the plan's calls read of the `n` rows of `data` (which has no column when the
    /// calls read none); `None` when the plan does not only count.
    pub(crate) fn of(plan: &Plan, data: &DataFrame, n: usize) -> PolarsResult<Option<Counted>> {
        if !plan.counts_only() {
            return Ok(None);
        }
        let mut calls = Vec::with_capacity(plan.calls.len());
        for call in &plan.calls {
            let values = call_values(call, data)?;
            calls.push(match call.agg {
                Agg::CountDistinct => CountedCall::Distinct(distinct_ids(values.as_ref())?),
                _ => CountedCall::Present(presence(values.as_ref(), n)),
            });
        }
        Ok(Some(Counted { calls }))
    }

    /// The rows of `other` (of the same plan) put after these. The ids of a text value
    /// are those of its own part: runs measured must not span two parts (a part of whole
    /// accounts, a run within one account, as units are). Dictionary codes are the same
    /// in every part.
    pub(crate) fn append(&mut self, other: Counted) -> PolarsResult<()> {
        if self.calls.len() != other.calls.len() {
            polars_bail!(ComputeError: "counted rows of two plans joined");
        }
        for (mine, theirs) in self.calls.iter_mut().zip(other.calls) {
            match (mine, theirs) {
                (CountedCall::Present(a), CountedCall::Present(b)) => a.extend(b),
                (CountedCall::Distinct(a), CountedCall::Distinct(b)) => a.extend(b),
                _ => polars_bail!(ComputeError: "counted rows of two plans joined"),
            }
        }
        Ok(())
    }

    /// The plan's measures over each run of rows (`runs`: row ranges), one row a run.
    /// Counts have polars' own type, so the outer expressions read what a grouped
    /// aggregation would give them.
    pub(crate) fn measures(&self, plan: &Plan, runs: &[std::ops::Range<usize>]) -> PolarsResult<DataFrame> {
        let mut scratch: Vec<u32> = Vec::new();
        let cols: Vec<Column> = self
            .calls
            .iter()
            .enumerate()
            .map(|(k, call)| {
                let counts: Vec<IdxSize> = runs
                    .iter()
                    .map(|r| match call {
                        CountedCall::Present(p) => p[r.clone()].iter().filter(|x| **x).count() as IdxSize,
                        CountedCall::Distinct(ids) => {
                            scratch.clear();
                            scratch.extend(ids[r.clone()].iter().flatten());
                            scratch.sort_unstable();
                            scratch.dedup();
                            scratch.len() as IdxSize
                        }
                    })
                    .collect();
                IdxCa::from_vec(format!("__a{k}").into(), counts).into_column()
            })
            .collect();
        outer_measures(plan, cols, runs.len())
    }
}

/// A value of a sum: in millionths, exact to add and take away again; or, beyond
/// `FIXED_LIMIT` or not a number, one of the values that decide the sum alone.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Fixed {
    Millionths(i128),
    Nan,
    Up,
    Down,
}

/// The largest magnitude summed in millionths: at most 1e24 a value, so that no window
/// of rows (at most 2^32 of them) can overflow the 128-bit total (about 1.7e38).
const FIXED_LIMIT: f64 = 1e18;

fn to_fixed(x: f64) -> Fixed {
    if x.is_nan() {
        Fixed::Nan
    } else if x >= FIXED_LIMIT {
        Fixed::Up
    } else if x <= -FIXED_LIMIT {
        Fixed::Down
    } else {
        Fixed::Millionths((x * 1e6).round() as i128)
    }
}

/// A window's sum: the total in millionths, the values counted, and how many values in
/// the window are beyond the limit or not a number. A value leaves the window as it came,
/// so one window's values never reach another's sum.
#[derive(Debug, Default)]
struct Total {
    millionths: i128,
    count: i64,
    nan: i64,
    up: i64,
    down: i64,
}

impl Total {
    fn step(&mut self, x: Fixed, d: i64) {
        match x {
            Fixed::Millionths(m) => self.millionths += m * d as i128,
            Fixed::Nan => self.nan += d,
            Fixed::Up => self.up += d,
            Fixed::Down => self.down += d,
        }
        self.count += d;
    }

    /// The sum: not a number when a value is not one (or values beyond the limit of both
    /// signs meet), infinite when values beyond the limit are of one sign.
    fn value(&self) -> f64 {
        match (self.nan > 0, self.up > 0, self.down > 0) {
            (true, _, _) | (false, true, true) => f64::NAN,
            (false, true, false) => f64::INFINITY,
            (false, false, true) => f64::NEG_INFINITY,
            (false, false, false) => self.millionths as f64 / 1e6,
        }
    }
}

fn floats(values: Option<&Series>, n: usize) -> PolarsResult<Vec<Option<f64>>> {
    match values {
        None => Ok(vec![Some(1.0); n]),
        Some(s) => {
            let f = s.cast(&DataType::Float64)?;
            Ok(f.f64()?.iter().collect())
        }
    }
}

/// Each value as a small integer id (equal values, equal ids); nulls as `None`.
fn distinct_ids(values: Option<&Series>) -> PolarsResult<Vec<Option<u32>>> {
    let Some(s) = values else {
        return Err(polars_err!(ComputeError: "count(DISTINCT *) is not supported"));
    };
    if s.dtype().is_categorical() {
        // Equal values have equal codes.
        let codes = s.to_physical_repr().cast(&DataType::UInt32)?;
        return Ok(codes.u32()?.iter().collect());
    }
    let s = s.cast(&DataType::String)?;
    let ca = s.str()?;
    let mut map: PlHashMap<&str, u32> = PlHashMap::new();
    Ok(ca
        .iter()
        .map(|v| {
            v.map(|x| {
                let next = map.len() as u32;
                *map.entry(x).or_insert(next)
            })
        })
        .collect())
}

/// Slides a state over each group's rows: `step(state, row, 1)` adds a row entering the
/// window, `step(state, row, -1)` removes one leaving it; `value` reads the window. Each
/// group ends with its rows removed, so the next one starts from an empty state.
fn slide<S>(
    grp: &[u32],
    tss: &[i64],
    w: i64,
    mut state: S,
    mut step: impl FnMut(&mut S, usize, i64),
    value: impl Fn(&S) -> Option<f64>,
) -> Vec<Option<f64>> {
    let n = grp.len();
    let mut out = vec![None; n];
    let mut start = 0;
    while start < n {
        let mut end = start;
        while end < n && grp[end] == grp[start] {
            end += 1;
        }
        let mut left = start;
        let mut right = start; // rows [left, right) are in the state
        let mut i = start;
        while i < end {
            // The run of rows with this time shares one window.
            let mut run = i;
            while run + 1 < end && tss[run + 1] == tss[i] {
                run += 1;
            }
            while right <= run {
                step(&mut state, right, 1);
                right += 1;
            }
            while tss[left] < tss[i].saturating_sub(w) {
                step(&mut state, left, -1);
                left += 1;
            }
            let v = value(&state);
            for o in out.iter_mut().take(run + 1).skip(i) {
                *o = v;
            }
            i = run + 1;
        }
        for r in left..right {
            step(&mut state, r, -1);
        }
        start = end;
    }
    out
}

/// Min or max over sliding windows, with a queue of the rows that may still be the
/// window's extreme (each later row's value below it, for a max): O(1) a row. It gives
/// what [`order_statistic`] gives: values compared in `total_cmp` order, missing and
/// not-a-number values left out, and, as there, a `0.0` left out where a `-0.0` is among
/// the values (the two are one value there, and `-0.0` comes first).
fn extreme(grp: &[u32], tss: &[i64], w: i64, v: &[Option<f64>], max: bool) -> Vec<Option<f64>> {
    let any_negative_zero = v.iter().flatten().any(|x| *x == 0.0 && x.is_sign_negative());
    let positive_zero = |x: f64| x == 0.0 && x.is_sign_positive();
    let counted = |x: f64| !(x.is_nan() || (any_negative_zero && positive_zero(x)));
    let value: Vec<Option<f64>> = v.iter().map(|x| x.filter(|x| counted(*x))).collect();
    // `a` gives way to `b` (a later row) when `b` is as extreme or more.
    let gives_way = |a: f64, b: f64| {
        let o = a.total_cmp(&b);
        if max {
            o.is_le()
        } else {
            o.is_ge()
        }
    };
    slide(
        grp,
        tss,
        w,
        std::collections::VecDeque::<usize>::new(),
        |q, i, d| {
            let Some(x) = value[i] else { return };
            if d > 0 {
                while q.back().is_some_and(|&b| value[b].is_some_and(|y| gives_way(y, x))) {
                    q.pop_back();
                }
                q.push_back(i);
            } else if q.front() == Some(&i) {
                q.pop_front();
            }
        },
        |q| q.front().and_then(|&i| value[i]),
    )
}

/// Min, max or median over sliding windows, with a Fenwick tree over value ranks.
fn order_statistic(grp: &[u32], tss: &[i64], w: i64, v: &[Option<f64>], agg: Agg) -> Vec<Option<f64>> {
    let mut sorted: Vec<f64> = v.iter().flatten().copied().filter(|x| !x.is_nan()).collect();
    sorted.sort_by(|a, b| a.total_cmp(b));
    sorted.dedup();
    let rank: Vec<Option<usize>> = v
        .iter()
        .map(|x| {
            x.filter(|x| !x.is_nan())
                .and_then(|x| sorted.binary_search_by(|p| p.total_cmp(&x)).ok())
        })
        .collect();
    slide(
        grp,
        tss,
        w,
        Fenwick::new(sorted.len()),
        |t, i, d| {
            if let Some(r) = rank[i] {
                t.add(r, d)
            }
        },
        |t| {
            let count = t.total;
            (count > 0).then(|| match agg {
                Agg::Min => sorted[t.kth(1)],
                Agg::Max => sorted[t.kth(count)],
                _ => {
                    let lo = sorted[t.kth((count + 1) / 2)];
                    let hi = sorted[t.kth(count / 2 + 1)];
                    if count % 2 == 1 {
                        lo
                    } else {
                        (lo + hi) / 2.0
                    }
                }
            })
        },
    )
}

struct Fenwick {
    tree: Vec<i64>,
    total: i64,
    top: usize,
}

impl Fenwick {
    fn new(n: usize) -> Fenwick {
        let mut top = 1;
        while top * 2 <= n {
            top *= 2;
        }
        Fenwick {
            tree: vec![0; n + 1],
            total: 0,
            top,
        }
    }

    fn add(&mut self, rank: usize, d: i64) {
        self.total += d;
        let mut i = rank + 1;
        while i < self.tree.len() {
            self.tree[i] += d;
            i += i & i.wrapping_neg();
        }
    }

    /// The rank of the k-th smallest value (1-based k).
    fn kth(&self, k: i64) -> usize {
        let mut pos = 0;
        let mut rem = k;
        let mut step = self.top;
        while step > 0 {
            let next = pos + step;
            if next < self.tree.len() && self.tree[next] < rem {
                pos = next;
                rem -= self.tree[next];
            }
            step /= 2;
        }
        pos // 0-based rank: position pos+1 in the tree
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_split_measures_into_calls() {
        let m = vec![
            ("n".to_string(), "count(*)".to_string()),
            (
                "pct".to_string(),
                "100.0 * sum(CASE WHEN x > 1 THEN amount_base ELSE 0.0 END) / sum(amount_base)".to_string(),
            ),
            ("total".to_string(), "sum(amount_base)".to_string()),
            ("senders".to_string(), "count(DISTINCT counterparty)".to_string()),
        ];
        let p = plan(&m).unwrap();
        assert_eq!(p.calls.len(), 4, "{p:?}");
        assert_eq!(p.outer[2].1, "__a2");
        assert!(plan(&[("s".to_string(), "stddev(amount_base)".to_string())]).is_none());
        assert!(plan(&[("s".to_string(), "sum(DISTINCT amount_base)".to_string())]).is_none());
    }

    /// Measures as (name, SQL).
    fn named(measures: &[(&str, &str)]) -> Vec<(String, String)> {
        measures.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    /// Runs measured by walking their rows give what polars gives grouping them: the same
    /// values and types, whatever the outer expression, with nulls, text and encoded
    /// values, and with the rows counted in two parts.
    #[test]
    fn counted_runs_are_grouped_as_polars_groups_them() {
        let m = named(&[
            ("n", "count(*)"),
            ("with_x", "count(x)"),
            ("xs", "count(DISTINCT x)"),
            ("ys", "count(DISTINCT upper(y))"),
            ("share", "count(DISTINCT x) / count(*)"),
            ("more", "count(DISTINCT x) + 1"),
            ("pct", "100.0 * count(x) / count(*)"),
        ]);
        let p = plan(&m).unwrap();
        let x = [
            Some("a"),
            None,
            Some("b"),
            Some("a"),
            None,
            None,
            Some("c"),
            Some("c"),
            Some("a"),
        ];
        let y = [
            Some("p"),
            Some("P"),
            None,
            Some("q"),
            Some("q"),
            None,
            Some("r"),
            Some("R"),
            None,
        ];
        let unit = [0u32, 0, 0, 0, 1, 2, 2, 3, 3];
        let data = df!("x" => x, "y" => y)
            .unwrap()
            .lazy()
            .with_column(col("x").cast(DataType::from_categories(Categories::global())))
            .collect()
            .unwrap();
        let runs = [0..4, 4..5, 5..7, 7..9];
        // Counted in two parts, cut between runs.
        let mut counted = Counted::of(&p, &data.slice(0, 5), 5).unwrap().unwrap();
        counted
            .append(Counted::of(&p, &data.slice(5, 4), 4).unwrap().unwrap())
            .unwrap();
        let got = counted.measures(&p, &runs).unwrap();
        let aggs: Vec<Expr> = m
            .iter()
            .map(|(name, text)| expr::compile(text).unwrap().alias(name.as_str()))
            .collect();
        let want = data
            .clone()
            .lazy()
            .with_column(lit(Series::new("__u".into(), unit)))
            .group_by([col("__u")])
            .agg(aggs)
            .sort(["__u"], SortMultipleOptions::default())
            .drop(Selector::ByName {
                names: Arc::new([PlSmallStr::from("__u")]),
                strict: true,
            })
            .collect()
            .unwrap();
        assert_eq!(got, want, "{got}\n{want}");
        let xs: Vec<Option<IdxSize>> = got.column("xs").unwrap().idx().unwrap().iter().collect();
        assert_eq!(xs, [Some(2), Some(0), Some(1), Some(2)]);
        let sum = plan(&[("t".to_string(), "sum(amount_base)".to_string())]).unwrap();
        assert!(Counted::of(&sum, &data, 9).unwrap().is_none());
    }

    /// Measures over dictionary-encoded columns equal those over their text: counted by
    /// code, evaluated once a value, or decoded beside other columns.
    #[test]
    fn encoded_columns_measure_as_their_text() {
        let m = named(&[
            ("xs", "count(DISTINCT x)"),
            ("with_x", "count(x)"),
            ("listed", "sum(CASE WHEN lower(x) IN ('a', 'b') THEN 1 ELSE 0 END)"),
            ("loud", "count(DISTINCT upper(x))"),
            ("same", "sum(CASE WHEN x = y THEN amount_base ELSE 0.0 END)"),
            ("either", "count(DISTINCT coalesce(x, y))"),
        ]);
        let p = plan(&m).unwrap();
        let x = [
            Some("a"),
            None,
            Some("B"),
            Some("a"),
            Some("c"),
            None,
            Some("b"),
            Some("A"),
        ];
        let y = [
            Some("a"),
            Some("q"),
            Some("B"),
            None,
            Some("d"),
            Some("q"),
            Some("b"),
            Some("a"),
        ];
        let amount = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0];
        let text = df!("x" => x, "y" => y, "amount_base" => amount).unwrap();
        let coded = text
            .clone()
            .lazy()
            .with_columns([
                col("x").cast(DataType::from_categories(Categories::global())),
                col("y").cast(DataType::from_categories(Categories::global())),
            ])
            .collect()
            .unwrap();
        let grp = [0u32, 0, 0, 0, 1, 1, 1, 1];
        let tss = [0i64, 1, 2, 3, 0, 5, 6, 20];
        let want = measures(&p, &text, &grp, &tss, 10).unwrap();
        let got = measures(&p, &coded, &grp, &tss, 10).unwrap();
        assert_eq!(got, want, "{got}\n{want}");
        let listed: Vec<Option<f64>> = got.column("listed").unwrap().f64().unwrap().iter().collect();
        assert_eq!(listed, [1.0, 1.0, 2.0, 3.0, 0.0, 0.0, 1.0, 1.0].map(Some));
    }

    /// The queue's min and max are the Fenwick tree's, bit for bit: with missing and
    /// not-a-number values, infinities, repeated values, both zeros, and windows that
    /// empty.
    #[test]
    fn extremes_by_queue_equal_the_order_statistics() {
        let mut random = crate::kinds::xorshift(0x9E37_79B9_7F4A_7C15);
        let mut next = |m: u64| random() % m;
        let pool = [
            Some(1.5),
            Some(-2.0),
            None,
            Some(f64::NAN),
            Some(0.0),
            Some(-0.0),
            Some(f64::INFINITY),
            Some(f64::NEG_INFINITY),
            Some(7.25),
            Some(1.5),
        ];
        for with_negative_zero in [true, false] {
            let n = 2_000;
            let grp: Vec<u32> = (0..n).map(|i| (i / 150) as u32).collect();
            let mut tss: Vec<i64> = (0..n).map(|_| next(400) as i64).collect();
            for g in tss.chunks_mut(150) {
                g.sort_unstable();
            }
            let v: Vec<Option<f64>> = (0..n)
                .map(|_| pool[next(pool.len() as u64) as usize])
                .map(|x| x.filter(|x| with_negative_zero || !(*x == 0.0 && x.is_sign_negative())))
                .collect();
            for w in [0, 5, 60] {
                for (max, agg) in [(true, Agg::Max), (false, Agg::Min)] {
                    let want = order_statistic(&grp, &tss, w, &v, agg);
                    let got = extreme(&grp, &tss, w, &v, max);
                    let bits = |r: &[Option<f64>]| r.iter().map(|x| x.map(f64::to_bits)).collect::<Vec<_>>();
                    assert_eq!(
                        bits(&got),
                        bits(&want),
                        "{agg:?} over {w}, -0.0 present: {with_negative_zero}"
                    );
                }
            }
        }
    }

    #[test]
    fn fenwick_order_statistics() {
        let mut f = Fenwick::new(5);
        for r in [0, 2, 2, 4] {
            f.add(r, 1);
        }
        assert_eq!((f.kth(1), f.kth(2), f.kth(3), f.kth(4)), (0, 2, 2, 4));
        f.add(2, -1);
        assert_eq!((f.kth(2), f.kth(3)), (2, 4));
    }

    /// Values that are not numbers or beyond any amount decide only the sums of the
    /// windows that hold them: the next group's sums are exact again, and the sums stay
    /// finite for any count of values within the limit.
    #[test]
    fn sum_is_not_poisoned_by_one_value() {
        let m = vec![("total".to_string(), "sum(amount_base)".to_string())];
        let p = plan(&m).unwrap();
        let v = [1.5, f64::NAN, 2.0, f64::INFINITY, 1e300, 3.0, 9.9e17, 9.9e17];
        let data = df!("amount_base" => v).unwrap();
        let grp = [0u32, 1, 1, 2, 2, 3, 4, 4];
        let tss = [0i64, 0, 1, 0, 1, 0, 0, 1];
        let got = measures(&p, &data, &grp, &tss, 10).unwrap();
        let t: Vec<Option<f64>> = got.column("total").unwrap().f64().unwrap().iter().collect();
        assert_eq!(t[0], Some(1.5));
        assert!(t[1].unwrap().is_nan() && t[2].unwrap().is_nan());
        assert_eq!((t[3], t[4]), (Some(f64::INFINITY), Some(f64::INFINITY)));
        assert_eq!(t[5], Some(3.0));
        assert!((t[7].unwrap() - 1.98e18).abs() < 1e6, "{t:?}");
    }
}
