//! The engine: the side view, shared by every rule, and the run of each rule.
//!
//! Accounts are encoded as integers once; each side's view is kept narrow (account key,
//! time, row index back into the transactions) and sorted once by (account, time, row).
//! Each rule's `where` runs over the transactions (all rules of a side in one pass), its
//! rows are picked out of the sorted view in order, and only the columns its measures read
//! are gathered for them. Wide columns are read back only for the rows that alert.

use std::collections::{BTreeMap, BTreeSet};

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, PolarsContext, Result};
use crate::expr;
use crate::format;
use crate::ingest::Dataset;
use crate::pack::{Pack, Rule, RuleKind, Severity, Side, SideSel, Window};
use crate::schema;

/// Measures every aggregate alert carries, usable in `having` and `explain`.
pub const BUILTIN_MEASURES: &[&str] = &["n_txns", "total_amount", "min_amount", "max_amount", "n_counterparties"];

const NO_ACCOUNT: u32 = u32::MAX;

/// One finding of one rule on one account: a transaction (filter) or an episode (aggregate).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Stable: a hash of the rule id, the account and the sorted transaction ids.
    pub alert_id: String,
    /// The rule.
    pub rule_id: String,
    /// The rule's kind.
    pub kind: String,
    /// The rule's severity.
    pub severity: Severity,
    /// The rule's typologies.
    pub typologies: Vec<String>,
    /// The account screened.
    pub account: String,
    /// `in`, `out` or `both`.
    pub side: String,
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
    /// Alert count per rule that ran.
    pub alerts_per_rule: BTreeMap<String, usize>,
}

/// One side's sorted, narrow view.
struct SideView {
    /// (account key, ts ms, transaction row), sorted.
    keys: Vec<(u32, i64, u32)>,
}

/// The prepared transactions: encoded accounts and the two sorted side views.
pub struct Prepared<'a> {
    ds: &'a Dataset,
    accounts: Vec<String>,
    ts: Vec<i64>,
    amount: Vec<f64>,
    views: [SideView; 2],
}

impl<'a> Prepared<'a> {
    /// Encodes accounts and sorts both side views.
    pub fn new(ds: &'a Dataset) -> Result<Prepared<'a>> {
        let df = &ds.transactions;
        let n = df.height();
        let orig = str_col(df, "orig_account")?;
        let bene = str_col(df, "bene_account")?;
        let ts = ts_col(df)?;
        let amount: Vec<f64> = df
            .column("amount_base")
            .and_then(|c| c.f64().cloned())
            .ctx(|| "reading column `amount_base`".into())?
            .iter()
            .map(|v| v.unwrap_or(0.0))
            .collect();
        let mut map: PlHashMap<&str, u32> = PlHashMap::with_capacity(n / 4 + 16);
        let mut accounts: Vec<String> = Vec::new();
        let mut encode = |ca: &'a StringChunked| -> Vec<u32> {
            let mut out = Vec::with_capacity(n);
            for v in ca.iter() {
                out.push(match v {
                    Some(s) => *map.entry(s).or_insert_with(|| {
                        accounts.push(s.to_string());
                        (accounts.len() - 1) as u32
                    }),
                    None => NO_ACCOUNT,
                });
            }
            out
        };
        let orig_key = encode(orig);
        let bene_key = encode(bene);
        let mk = |keys: &[u32]| {
            let mut v: Vec<(u32, i64, u32)> = keys
                .iter()
                .zip(ts.iter())
                .enumerate()
                .filter(|(_, (k, _))| **k != NO_ACCOUNT)
                .map(|(i, (k, t))| (*k, *t, i as u32))
                .collect();
            v.sort_unstable();
            SideView { keys: v }
        };
        // The two sides sort at once on two threads; the order is total, so the same.
        let views = std::thread::scope(|sc| {
            let out = sc.spawn(|| mk(&orig_key));
            let inn = mk(&bene_key);
            [out.join().unwrap_or_else(|_| mk(&orig_key)), inn]
        });
        Ok(Prepared {
            ds,
            accounts,
            ts,
            amount,
            views,
        })
    }

    fn view(&self, side: Side) -> &SideView {
        match side {
            Side::Out => &self.views[0],
            Side::In => &self.views[1],
        }
    }

    /// The number of distinct accounts.
    pub fn account_count(&self) -> usize {
        self.accounts.len()
    }

    /// Expressions over the side view of every transaction, evaluated in one pass.
    fn side_select(&self, side: Side, exprs: Vec<Expr>) -> PolarsResult<DataFrame> {
        self.ds
            .transactions
            .clone()
            .lazy()
            .with_columns(schema::side_exprs(side))
            .select(exprs)
            .collect()
    }

    fn txn_ids(&self, rows: &[u32]) -> Result<Vec<String>> {
        let ids = str_col(&self.ds.transactions, "txn_id")?;
        Ok(rows
            .iter()
            .map(|r| ids.get(*r as usize).unwrap_or("").to_string())
            .collect())
    }
}

fn str_col<'b>(df: &'b DataFrame, name: &str) -> Result<&'b StringChunked> {
    df.column(name)
        .and_then(|c| c.str())
        .ctx(|| format!("reading column `{name}`"))
}

fn ts_col(df: &DataFrame) -> Result<Vec<i64>> {
    let c = df
        .column("ts")
        .and_then(|c| c.cast(&DataType::Int64))
        .ctx(|| "reading column `ts`".into())?;
    let ca = c.i64().ctx(|| "reading column `ts`".into())?;
    Ok(ca.iter().map(|v| v.unwrap_or(i64::MIN)).collect())
}

/// The columns a rule reads that the data does not supply.
pub fn missing_columns(rule: &Rule, present: &[String]) -> Vec<String> {
    let has = |c: &str| present.iter().any(|p| p == c);
    let mut missing = BTreeSet::new();
    for c in &rule.columns {
        let sources = schema::sources_of(c);
        if !sources.is_empty() && !sources.iter().any(|s| has(s)) {
            if rule.def.optional_columns.iter().any(|o| o == c) {
                continue;
            }
            missing.insert(c.clone());
        }
    }
    missing.into_iter().collect()
}

/// Runs every rule of the pack over prepared data.
pub fn run(pack: &Pack, prep: &Prepared<'_>, progress: &dyn Fn(&str, usize, usize)) -> Result<RuleRun> {
    let mut out = RuleRun::default();
    let mut runnable: Vec<&Rule> = Vec::new();
    for r in &pack.rules {
        let missing = missing_columns(r, &prep.ds.present);
        if missing.is_empty() {
            runnable.push(r);
        } else {
            out.not_applicable.push(NotApplicable {
                rule_id: r.id().to_string(),
                missing_columns: missing,
            });
        }
    }
    // Row masks. Stage 1: the first term of every rule's `where`, all rules of a side in
    // one pass over the transactions. Stage 2: the other terms, only on the rows left.
    let terms: Vec<Vec<String>> = runnable
        .iter()
        .map(|r| r.where_sql.as_deref().map(expr::conjuncts).unwrap_or_default())
        .collect();
    let compile_for = |i: usize, sqltext: std::result::Result<Expr, String>| {
        sqltext.map_err(|m| Error::Rule {
            rule_id: runnable[i].id().to_string(),
            message: m,
        })
    };
    let mut masks: BTreeMap<(usize, Side), Vec<bool>> = BTreeMap::new();
    for side in [Side::Out, Side::In] {
        let mut items = Vec::new();
        for (i, r) in runnable.iter().enumerate() {
            if let (true, Some(w)) = (r.side.sides().contains(&side), terms[i].first()) {
                items.push((i, compile_for(i, expr::compile(w))?));
            }
        }
        for (i, mask) in batch(prep, side, &runnable, items)? {
            masks.insert((i, side), mask);
        }
    }
    // Stage 2: the other terms, on the rows the first one kept when they are few; else on
    // every row, all rules of a side in one pass.
    for side in [Side::Out, Side::In] {
        let mut items = Vec::new();
        for (i, r) in runnable.iter().enumerate() {
            let Some(mask) = masks.get_mut(&(i, side)) else {
                continue;
            };
            if terms[i].len() < 2 {
                continue;
            }
            let kept = mask.iter().filter(|m| **m).count();
            if kept * 4 <= mask.len() {
                narrow(prep, r, side, &terms[i][1..], mask)?;
            } else {
                items.push((i, compile_for(i, and_all(&terms[i][1..]))?));
            }
        }
        for (i, more) in batch(prep, side, &runnable, items)? {
            if let Some(mask) = masks.get_mut(&(i, side)) {
                for (m, v) in mask.iter_mut().zip(more) {
                    *m = *m && v;
                }
            }
        }
    }
    let total = runnable.len();
    for (i, r) in runnable.iter().enumerate() {
        progress(r.id(), i, total);
        let rule_alerts = match &r.kind {
            RuleKind::Filter => run_filter(r, i, prep, &masks)?,
            RuleKind::Aggregate(_) => run_aggregate(r, i, prep, &masks)?,
        };
        out.alerts_per_rule.insert(r.id().to_string(), rule_alerts.len());
        out.alerts.extend(rule_alerts);
        out.rules_run.push(r.id().to_string());
    }
    progress("", total, total);
    Ok(out)
}

/// Evaluates conditions of several rules over every transaction of one side, in one pass;
/// a null counts as false.
fn batch(
    prep: &Prepared<'_>,
    side: Side,
    runnable: &[&Rule],
    items: Vec<(usize, Expr)>,
) -> Result<Vec<(usize, Vec<bool>)>> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let idx: Vec<usize> = items.iter().map(|(i, _)| *i).collect();
    let exprs: Vec<Expr> = items
        .into_iter()
        .map(|(i, e)| e.fill_null(lit(false)).alias(format!("r{i}")))
        .collect();
    let res = prep
        .side_select(side, exprs)
        .map_err(|e| rule_error(runnable, &idx, e))?;
    idx.iter()
        .enumerate()
        .map(|(k, &i)| {
            let c = res.select_at_idx(k).ok_or_else(|| Error::Rule {
                rule_id: runnable[i].id().to_string(),
                message: "the condition produced no column".into(),
            })?;
            let b = c.bool().map_err(|_| Error::Rule {
                rule_id: runnable[i].id().to_string(),
                message: format!("`where` must be true or false for each row; it gives {}", c.dtype()),
            })?;
            Ok((i, b.iter().map(|v| v.unwrap_or(false)).collect()))
        })
        .collect()
}

/// Applies the remaining terms of a condition to the rows a mask still holds.
fn narrow(prep: &Prepared<'_>, rule: &Rule, side: Side, rest: &[String], mask: &mut [bool]) -> Result<()> {
    let rows: Vec<IdxSize> = (0..mask.len()).filter(|&k| mask[k]).map(|k| k as IdxSize).collect();
    if rows.is_empty() {
        return Ok(());
    }
    let rerr = |m: String| Error::Rule {
        rule_id: rule.id().to_string(),
        message: m,
    };
    let cond = and_all(rest).map_err(rerr)?;
    // Only the columns the rule reads, for the rows left.
    let mut cols: Vec<&str> = rule.columns.iter().flat_map(|c| schema::sources_of(c)).collect();
    cols.push("ts");
    cols.sort_unstable();
    cols.dedup();
    let sub = prep
        .ds
        .transactions
        .select(cols)
        .and_then(|d| d.take(&IdxCa::from_vec("rows".into(), rows.clone())))
        .map_err(|e| rerr(e.to_string()))?;
    let side_cols = schema::side_exprs_for(side, sub.schema());
    let res = sub
        .lazy()
        .with_columns(side_cols)
        .select([cond.fill_null(lit(false)).alias("m")])
        .collect()
        .map_err(|e| rerr(e.to_string().lines().next().unwrap_or("").to_string()))?;
    let b = res
        .column("m")
        .and_then(|c| c.bool().cloned())
        .map_err(|_| rerr("`where` must be true or false for each row".into()))?;
    for (k, v) in rows.iter().zip(b.iter()) {
        mask[*k as usize] = v.unwrap_or(false);
    }
    Ok(())
}

/// The terms joined by AND.
fn and_all(terms: &[String]) -> std::result::Result<Expr, String> {
    let mut cond: Option<Expr> = None;
    for t in terms {
        let e = expr::compile(t)?;
        cond = Some(match cond {
            Some(c) => c.and(e),
            None => e,
        });
    }
    cond.ok_or_else(|| "empty condition".to_string())
}

fn rule_error(runnable: &[&Rule], idx: &[usize], e: PolarsError) -> Error {
    // Name the rule when the message lets us; else all rules of the pass.
    let msg = e.to_string();
    let ids: Vec<&str> = idx.iter().map(|i| runnable[*i].id()).collect();
    Error::Rule {
        rule_id: ids.join(", "),
        message: msg.lines().next().unwrap_or("").to_string(),
    }
}

/// The rows a rule screens on one side, in (account, ts, row) order.
fn picked<'p>(
    prep: &'p Prepared<'_>,
    side: Side,
    mask: Option<&'p Vec<bool>>,
) -> impl Iterator<Item = (u32, i64, u32)> + 'p {
    prep.view(side)
        .keys
        .iter()
        .copied()
        .filter(move |(_, _, row)| mask.is_none_or(|m| m[*row as usize]))
}

fn run_filter(
    rule: &Rule,
    ri: usize,
    prep: &Prepared<'_>,
    masks: &BTreeMap<(usize, Side), Vec<bool>>,
) -> Result<Vec<Alert>> {
    let mut alerts = Vec::new();
    let placeholders = crate::pack::placeholders(&rule.def.explain);
    for &side in rule.side.sides() {
        let hits: Vec<(u32, i64, u32)> = picked(prep, side, masks.get(&(ri, side))).collect();
        if hits.is_empty() {
            continue;
        }
        let rows: Vec<IdxSize> = hits.iter().map(|h| h.2 as IdxSize).collect();
        let mut cols: Vec<String> = placeholders
            .iter()
            .filter(|p| schema::is_known_column(p))
            .cloned()
            .collect();
        for c in ["amount_base", "txn_id"] {
            if !cols.iter().any(|x| x == c) {
                cols.push(c.to_string());
            }
        }
        let df = gather(prep, side, &cols, &rows)?;
        for (k, (acct, ts, row)) in hits.iter().enumerate() {
            let mut measures = BTreeMap::new();
            let mut values: BTreeMap<String, String> = BTreeMap::new();
            for c in &cols {
                let v = df
                    .column(c)
                    .and_then(|s| s.get(k))
                    .ctx(|| format!("rule {}: reading `{c}`", rule.id()))?;
                values.insert(c.clone(), display_value(&v));
                if c == "amount_base" {
                    measures.insert(c.clone(), json_value(&v));
                }
            }
            let account = prep.accounts[*acct as usize].clone();
            let txn_ids = prep.txn_ids(&[*row])?;
            let explanation = fill(&rule.def.explain, rule, &values, &account, side.as_str(), None);
            alerts.push(Alert {
                alert_id: alert_id(rule.id(), &account, &txn_ids),
                rule_id: rule.id().to_string(),
                kind: rule.kind.name().to_string(),
                severity: rule.def.severity,
                typologies: rule.def.typologies.clone(),
                account,
                side: side.as_str().to_string(),
                window_start: format::timestamp(*ts),
                window_end: format::timestamp(*ts),
                txn_ids,
                measures,
                explanation,
                rows: vec![*row],
            });
        }
    }
    Ok(dedup(alerts))
}

/// Gathers side-view columns for the given transaction rows.
fn gather(prep: &Prepared<'_>, side: Side, cols: &[String], rows: &[IdxSize]) -> Result<DataFrame> {
    let exprs: Vec<Expr> = cols.iter().map(|c| col(c.as_str())).collect();
    let idx = IdxCa::from_vec("idx".into(), rows.to_vec());
    let df = prep.side_select(side, exprs).ctx(|| "gathering columns".into())?;
    df.take(&idx).ctx(|| "gathering rows".into())
}

/// Episodes of an aggregate rule: merged firing windows per account.
struct Episode {
    group: u32,
    start: i64,
    end: i64,
    windows: BTreeSet<i64>,
}

fn run_aggregate(
    rule: &Rule,
    ri: usize,
    prep: &Prepared<'_>,
    masks: &BTreeMap<(usize, Side), Vec<bool>>,
) -> Result<Vec<Alert>> {
    let RuleKind::Aggregate(spec) = &rule.kind else {
        return Ok(Vec::new());
    };
    let rerr = |m: String| Error::Rule {
        rule_id: rule.id().to_string(),
        message: m,
    };
    // The rows, in (group, ts, row) order; side `both` screens an account's two sides together.
    let mut rows: Vec<(u32, i64, u32, Side)> = Vec::new();
    for &side in rule.side.sides() {
        rows.extend(picked(prep, side, masks.get(&(ri, side))).map(|(a, t, r)| (a, t, r, side)));
    }
    if rule.side == SideSel::Both {
        rows.sort_unstable_by_key(|(a, t, r, s)| (*a, *t, *r, *s));
        // A transfer between an account and itself counts once on that account.
        rows.dedup_by_key(|(a, t, r, _)| (*a, *t, *r));
    }
    let alt_bounds: Vec<expr::Bounds> = spec
        .alternatives
        .iter()
        .map(|(_, h)| expr::bounds(h, &spec.measures))
        .collect();
    if spec.group_by.is_empty() && !rows.is_empty() {
        // Rows in no window that could fire are dropped before anything is gathered.
        let g: Vec<u32> = rows.iter().map(|r| r.0).collect();
        let t: Vec<i64> = rows.iter().map(|r| r.1).collect();
        let a: Vec<f64> = rows.iter().map(|r| prep.amount[r.2 as usize]).collect();
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
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    // Columns the measures read, per side, gathered for these rows only.
    let mut cols: Vec<String> = rule
        .columns
        .iter()
        .filter(|c| schema::is_known_column(c))
        .cloned()
        .collect();
    for c in ["amount_base", "counterparty"] {
        if !cols.iter().any(|x| x == c) {
            cols.push(c.to_string());
        }
    }
    let mut parts = Vec::new();
    for &side in rule.side.sides() {
        let idx: Vec<IdxSize> = rows.iter().filter(|r| r.3 == side).map(|r| r.2 as IdxSize).collect();
        if !idx.is_empty() {
            parts.push((side, gather(prep, side, &cols, &idx)?));
        }
    }
    let data = if parts.len() == 1 {
        parts.pop().map(|p| p.1).unwrap_or_default()
    } else {
        // Interleave the two sides back into the sorted order.
        let mut pos_out = 0u32;
        let mut pos_in = 0u32;
        let n_out = rows.iter().filter(|r| r.3 == Side::Out).count() as u32;
        let order: Vec<IdxSize> = rows
            .iter()
            .map(|r| match r.3 {
                Side::Out => {
                    pos_out += 1;
                    pos_out - 1
                }
                Side::In => {
                    pos_in += 1;
                    n_out + pos_in - 1
                }
            })
            .collect();
        let mut stacked = parts[0].1.clone();
        stacked.vstack_mut(&parts[1].1).ctx(|| "stacking sides".into())?;
        stacked
            .take(&IdxCa::from_vec("o".into(), order))
            .ctx(|| "ordering sides".into())?
    };
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
    // Measures, compiled once.
    let measure_exprs: Vec<Expr> = spec
        .measures
        .iter()
        .map(|(name, sql)| expr::compile(sql).map(|e| e.alias(name.as_str())))
        .collect::<std::result::Result<_, _>>()
        .map_err(&rerr)?;
    // Measures slide incrementally where they can; else polars' rolling windows.
    let incremental = crate::window::plan(&spec.measures);
    // Firing windows of every alternative.
    let mut intervals: Vec<(u32, i64, i64, i64)> = Vec::new(); // (group, start, end, window)
    for (window, having) in &spec.alternatives {
        // Windows that cannot hold the rows or the amount `having` needs cannot fire.
        let bound = expr::bounds(having, &spec.measures);
        let amts: Vec<f64> = txn_rows.iter().map(|r| prep.amount[*r as usize]).collect();
        let keep = dense_rows(&grp, &tss, &amts, window.ms, bound);
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
        let fire = firing(
            &sub,
            incremental.as_ref(),
            &measure_exprs,
            having,
            *window,
            &sub_grp,
            &sub_ts,
        )
        .map_err(|e| rerr(e.to_string()))?;
        for (k, f) in fire.iter().enumerate() {
            if *f {
                let j = back[k];
                intervals.push((grp[j], tss[j] - window.ms, tss[j], window.ms));
            }
        }
    }
    if intervals.is_empty() {
        return Ok(Vec::new());
    }
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
    ep_data
        .with_column(Column::new("__ep".into(), ep_ids.clone()))
        .ctx(|| "episode ids".into())?;
    let mut aggs = measure_exprs.clone();
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
    let measured = ep_data
        .lazy()
        .group_by_stable([col("__ep")])
        .agg(aggs)
        .sort(["__ep"], SortMultipleOptions::default())
        .collect()
        .map_err(|e| {
            rerr(format!(
                "computing measures: {}",
                e.to_string().lines().next().unwrap_or("")
            ))
        })?;
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
    let side_name = match rule.side {
        SideSel::Both => "both",
        SideSel::In => "in",
        SideSel::Out => "out",
    };
    let mut alerts = Vec::new();
    for (ei, ep) in episodes.iter().enumerate() {
        let rows_e = &ep_rows[ei];
        let acct = if spec.group_by.is_empty() {
            ep.group
        } else {
            group_account.get(ep.group as usize).copied().unwrap_or(NO_ACCOUNT)
        };
        let account = prep.accounts.get(acct as usize).cloned().unwrap_or_default();
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
        let txn_ids = prep.txn_ids(rows_e)?;
        let first_ts = rows_e.iter().map(|r| prep.ts[*r as usize]).min().unwrap_or(0);
        let last_ts = rows_e.iter().map(|r| prep.ts[*r as usize]).max().unwrap_or(0);
        alerts.push(Alert {
            alert_id: alert_id(rule.id(), &account, &txn_ids),
            rule_id: rule.id().to_string(),
            kind: rule.kind.name().to_string(),
            severity: rule.def.severity,
            typologies: rule.def.typologies.clone(),
            account,
            side: side_name.to_string(),
            window_start: format::timestamp(first_ts),
            window_end: format::timestamp(last_ts),
            txn_ids,
            measures,
            explanation,
            rows: rows_e.clone(),
        });
    }
    Ok(dedup(alerts))
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
    // Sums by prefix; compared with a little slack so that rounding never drops a window.
    let mut prefix = vec![0.0f64; n + 1];
    for i in 0..n {
        prefix[i + 1] = prefix[i] + amt[i];
    }
    let need_amount = b.amount * (1.0 - 1e-9) - 1e-6;
    let mut keep = Vec::new();
    let mut start = 0usize;
    while start < n {
        let mut end = start;
        while end < n && grp[end] == grp[start] {
            end += 1;
        }
        // The last row with the same time as row i: windows include equal times.
        let mut run_end = vec![0usize; end - start];
        for i in (start..end).rev() {
            run_end[i - start] = if i + 1 < end && tss[i + 1] == tss[i] {
                run_end[i + 1 - start]
            } else {
                i
            };
        }
        let mut left = start;
        let mut covered = start; // rows below this are already kept
        for i in start..end {
            while tss[left] < tss[i].saturating_sub(w) {
                left += 1;
            }
            let right = run_end[i - start];
            let rows = right + 1 - left;
            let total = prefix[right + 1] - prefix[left];
            if rows >= b.rows && total >= need_amount {
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
    plan: Option<&crate::window::Plan>,
    measures: &[Expr],
    having: &str,
    window: Window,
    grp: &[u32],
    tss: &[i64],
) -> PolarsResult<Vec<bool>> {
    let having = expr::compile(having).map_err(|m| polars_err!(ComputeError: "{}", m))?;
    let per_window = match plan {
        Some(plan) => crate::window::measures(plan, data, grp, tss, window.ms)?,
        None => rolling_measures(data, measures, window, grp, tss)?,
    };
    let out = per_window
        .lazy()
        .select([having.fill_null(lit(false)).alias("__fire")])
        .collect()?;
    let f = out.column("__fire")?;
    let f = f
        .bool()
        .map_err(|_| polars_err!(ComputeError: "`having` must be true or false; it gives {}", f.dtype()))?;
    Ok(f.iter().map(|v| v.unwrap_or(false)).collect())
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

fn dedup(mut alerts: Vec<Alert>) -> Vec<Alert> {
    let mut seen = BTreeSet::new();
    alerts.retain(|a| seen.insert(a.alert_id.clone()));
    alerts
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
    format!("A-{}", &crate::pack::sha256_hex(s.as_bytes())[..16])
}

/// Fills an explanation template.
fn fill(
    template: &str,
    rule: &Rule,
    values: &BTreeMap<String, String>,
    account: &str,
    side: &str,
    window: Option<&str>,
) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            rest = "";
            break;
        };
        let name = after[..end].trim();
        let v = match name {
            "account" => account.to_string(),
            "side" => side.to_string(),
            "rule_id" => rule.id().to_string(),
            "window" => window.unwrap_or("").to_string(),
            _ => values
                .get(name)
                .cloned()
                .or_else(|| rule.params.get(name).map(|p| p.display()))
                .unwrap_or_else(|| "—".into()),
        };
        out.push_str(&v);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

fn display_value(v: &AnyValue<'_>) -> String {
    match v {
        AnyValue::Null => "—".into(),
        AnyValue::Float64(f) => format::number(*f),
        AnyValue::Float32(f) => format::number(*f as f64),
        AnyValue::Int64(i) => format::number(*i as f64),
        AnyValue::Int32(i) => format::number(*i as f64),
        AnyValue::UInt32(i) => format::number(*i as f64),
        AnyValue::UInt64(i) => format::number(*i as f64),
        AnyValue::String(s) => s.to_string(),
        AnyValue::StringOwned(s) => s.to_string(),
        AnyValue::Boolean(b) => b.to_string(),
        AnyValue::Datetime(ms, TimeUnit::Milliseconds, _) => format::timestamp(*ms),
        other => other.to_string(),
    }
}

fn json_value(v: &AnyValue<'_>) -> serde_json::Value {
    let num = |f: f64| {
        if f.is_finite() {
            // Whole numbers as integers; others rounded to 6 decimals for stable output.
            if f.fract() == 0.0 && f.abs() < 9.0e15 {
                serde_json::Value::from(f as i64)
            } else {
                serde_json::Value::from((f * 1e6).round() / 1e6)
            }
        } else {
            serde_json::Value::Null
        }
    };
    match v {
        AnyValue::Null => serde_json::Value::Null,
        AnyValue::Float64(f) => num(*f),
        AnyValue::Float32(f) => num(*f as f64),
        AnyValue::Int64(i) => (*i).into(),
        AnyValue::Int32(i) => (*i).into(),
        AnyValue::UInt32(i) => (*i).into(),
        AnyValue::UInt64(i) => (*i).into(),
        AnyValue::Boolean(b) => (*b).into(),
        AnyValue::String(s) => (*s).into(),
        AnyValue::StringOwned(s) => s.to_string().into(),
        other => other.to_string().into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let plan = crate::window::plan(&measures).unwrap();
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
            let got = crate::window::measures(&plan, &data, &grp, &tss, w).unwrap();
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
