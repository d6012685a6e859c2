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

use std::collections::HashMap;
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
        let values: Option<Series> = match &call.arg {
            None => None,
            Some(a) => {
                let e = expr::compile(a).map_err(|m| polars_err!(ComputeError: "{}", m))?;
                let s = data.clone().lazy().select([e.alias("v")]).collect()?;
                Some(s.column("v")?.as_materialized_series().clone())
            }
        };
        let out: Vec<Option<f64>> = match call.agg {
            Agg::Count => {
                let present: Vec<bool> = match &values {
                    None => vec![true; n],
                    Some(s) => s.is_not_null().iter().map(|v| v.unwrap_or(false)).collect(),
                };
                slide(grp, tss, w, Counter::default(), |c: &mut Counter, i, add| {
                    if present[i] {
                        if add {
                            c.n += 1
                        } else {
                            c.n -= 1
                        }
                    }
                })
            }
            Agg::CountDistinct => {
                let ids = distinct_ids(values.as_ref())?;
                slide(grp, tss, w, Distinct::default(), |d: &mut Distinct, i, add| {
                    if let Some(id) = ids[i] {
                        if add {
                            *d.counts.entry(id).or_insert(0) += 1;
                        } else if let Some(c) = d.counts.get_mut(&id) {
                            *c -= 1;
                            if *c == 0 {
                                d.counts.remove(&id);
                            }
                        }
                    }
                })
            }
            Agg::Sum | Agg::Avg => {
                let v = floats(values.as_ref(), n)?;
                let fixed: Vec<Option<i128>> = v.iter().map(|x| x.map(to_fixed)).collect();
                let avg = call.agg == Agg::Avg;
                let sums = slide(grp, tss, w, FixedSum::default(), |s: &mut FixedSum, i, add| {
                    if let Some(x) = fixed[i] {
                        if add {
                            s.total += x;
                            s.n += 1;
                        } else {
                            s.total -= x;
                            s.n -= 1;
                        }
                    }
                });
                // `slide` reports sums; averages divide by the count of values.
                if avg {
                    let counts = slide(grp, tss, w, Counter::default(), |c: &mut Counter, i, add| {
                        if fixed[i].is_some() {
                            if add {
                                c.n += 1
                            } else {
                                c.n -= 1
                            }
                        }
                    });
                    sums.iter()
                        .zip(counts.iter())
                        .map(|(s, c)| match (s, c) {
                            (Some(s), Some(c)) if *c > 0.0 => Some(s / c),
                            _ => None,
                        })
                        .collect()
                } else {
                    sums
                }
            }
            Agg::Min | Agg::Max | Agg::Median => {
                let v = floats(values.as_ref(), n)?;
                order_statistic(grp, tss, w, &v, call.agg)
            }
        };
        cols.push(Column::new(format!("__a{k}").into(), out));
    }
    let base = if cols.is_empty() {
        DataFrame::new_infer_height(vec![Column::new("__none".into(), vec![0u32; n])])?
    } else {
        DataFrame::new_infer_height(cols)?
    };
    let outer: Vec<Expr> = plan
        .outer
        .iter()
        .map(|(name, sqltext)| {
            expr::compile(sqltext)
                .map(|e| e.alias(name.as_str()))
                .map_err(|m| polars_err!(ComputeError: "{}", m))
        })
        .collect::<PolarsResult<_>>()?;
    base.lazy().select(outer).collect()
}

fn to_fixed(x: f64) -> i128 {
    (x * 1e6).round() as i128
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
    let s = s.cast(&DataType::String)?;
    let ca = s.str()?;
    let mut map: HashMap<&str, u32> = HashMap::new();
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

trait Acc {
    fn value(&self) -> Option<f64>;
}

#[derive(Default)]
struct Counter {
    n: i64,
}
impl Acc for Counter {
    fn value(&self) -> Option<f64> {
        Some(self.n as f64)
    }
}

#[derive(Default)]
struct Distinct {
    counts: HashMap<u32, u32>,
}
impl Acc for Distinct {
    fn value(&self) -> Option<f64> {
        Some(self.counts.len() as f64)
    }
}

#[derive(Default)]
struct FixedSum {
    total: i128,
    n: i64,
}
impl Acc for FixedSum {
    fn value(&self) -> Option<f64> {
        // SQL: the sum of no values is 0 here, as polars gives it.
        Some(self.total as f64 / 1e6)
    }
}

/// Slides an accumulator over each group: `step(acc, row, true)` adds a row entering the
/// window, `step(acc, row, false)` removes one leaving it.
fn slide<A: Acc + Default>(
    grp: &[u32],
    tss: &[i64],
    w: i64,
    _init: A,
    mut step: impl FnMut(&mut A, usize, bool),
) -> Vec<Option<f64>> {
    let n = grp.len();
    let mut out = vec![None; n];
    let mut start = 0;
    while start < n {
        let mut end = start;
        while end < n && grp[end] == grp[start] {
            end += 1;
        }
        let mut acc = A::default();
        let mut left = start;
        let mut right = start; // rows [left, right) are in the accumulator
        let mut i = start;
        while i < end {
            // The run of rows with this time shares one window.
            let mut run = i;
            while run + 1 < end && tss[run + 1] == tss[i] {
                run += 1;
            }
            while right <= run {
                step(&mut acc, right, true);
                right += 1;
            }
            while tss[left] < tss[i].saturating_sub(w) {
                step(&mut acc, left, false);
                left += 1;
            }
            let v = acc.value();
            for o in out.iter_mut().take(run + 1).skip(i) {
                *o = v;
            }
            i = run + 1;
        }
        start = end;
    }
    out
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
    let mut tree = Fenwick::new(sorted.len());
    let n = grp.len();
    let mut out = vec![None; n];
    let mut start = 0;
    while start < n {
        let mut end = start;
        while end < n && grp[end] == grp[start] {
            end += 1;
        }
        let mut left = start;
        let mut right = start;
        let mut i = start;
        while i < end {
            let mut run = i;
            while run + 1 < end && tss[run + 1] == tss[i] {
                run += 1;
            }
            while right <= run {
                if let Some(r) = rank[right] {
                    tree.add(r, 1);
                }
                right += 1;
            }
            while tss[left] < tss[i].saturating_sub(w) {
                if let Some(r) = rank[left] {
                    tree.add(r, -1);
                }
                left += 1;
            }
            let count = tree.total;
            let val = if count == 0 {
                None
            } else {
                match agg {
                    Agg::Min => Some(sorted[tree.kth(1)]),
                    Agg::Max => Some(sorted[tree.kth(count)]),
                    _ => {
                        let lo = sorted[tree.kth((count + 1) / 2)];
                        let hi = sorted[tree.kth(count / 2 + 1)];
                        Some(if count % 2 == 1 { lo } else { (lo + hi) / 2.0 })
                    }
                }
            };
            for o in out.iter_mut().take(run + 1).skip(i) {
                *o = val;
            }
            i = run + 1;
        }
        // Leave the tree empty for the next group.
        for r in rank.iter().take(right).skip(left).flatten() {
            tree.add(*r, -1);
        }
        start = end;
    }
    out
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
}
