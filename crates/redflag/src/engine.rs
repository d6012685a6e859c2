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
use crate::kinds::{Masks, RowMask};
use crate::pack::{Pack, Rule, Severity, Side, SideSel};
use crate::schema;

/// Measures every aggregate alert carries, usable in `having` and `explain`.
pub const BUILTIN_MEASURES: &[&str] = &["n_txns", "total_amount", "min_amount", "max_amount", "n_counterparties"];

pub(crate) const NO_ACCOUNT: u32 = u32::MAX;

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
pub(crate) struct SideView {
    /// (account key, ts ms, transaction row), sorted.
    pub(crate) keys: Vec<(u32, i64, u32)>,
}

/// The prepared transactions: encoded accounts and the two sorted side views.
pub struct Prepared<'a> {
    pub(crate) ds: &'a Dataset,
    pub(crate) accounts: Vec<String>,
    pub(crate) ts: Vec<i64>,
    pub(crate) amount: Vec<f64>,
    /// Each transaction's receiving account key (`NO_ACCOUNT` when empty).
    pub(crate) bene_key: Vec<u32>,
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
            bene_key,
            views,
        })
    }

    pub(crate) fn view(&self, side: Side) -> &SideView {
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
    pub(crate) fn side_select(&self, side: Side, exprs: Vec<Expr>) -> PolarsResult<DataFrame> {
        self.ds
            .transactions
            .clone()
            .lazy()
            .with_columns(schema::side_exprs(side))
            .select(exprs)
            .collect()
    }

    pub(crate) fn txn_ids(&self, rows: &[u32]) -> Result<Vec<String>> {
        let ids = str_col(&self.ds.transactions, "txn_id")?;
        Ok(rows
            .iter()
            .map(|r| ids.get(*r as usize).unwrap_or("").to_string())
            .collect())
    }
}

pub(crate) fn str_col<'b>(df: &'b DataFrame, name: &str) -> Result<&'b StringChunked> {
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
        if let crate::pack::RuleKind::Watchlist(spec) = &r.kind {
            if spec.bound.is_none() {
                out.not_applicable.push(NotApplicable {
                    rule_id: r.id().to_string(),
                    missing_columns: vec![format!(
                        "a watch list `{0}` (give one with --list {0}=PATH: UN Consolidated List XML, \
                         OpenSanctions targets.simple.csv or a CSV with name, aliases, birth_date, country, list, \
                         reference)",
                        spec.list
                    )],
                });
                continue;
            }
        }
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
    // Row masks. Stage 1: the first term of every condition, all conditions of a side in
    // one pass over the transactions. Stage 2: the other terms, only on the rows left.
    // A condition is (rule, slot); a kind may need several, such as a sequence's events.
    let conds: Vec<(usize, usize, &crate::kinds::Condition)> = runnable
        .iter()
        .enumerate()
        .flat_map(|(i, r)| r.conditions.iter().enumerate().map(move |(k, c)| (i, k, c)))
        .collect();
    let terms: Vec<Vec<String>> = conds
        .iter()
        .map(|(_, _, c)| c.sql.as_deref().map(expr::conjuncts).unwrap_or_default())
        .collect();
    let compile_for = |ci: usize, sqltext: std::result::Result<Expr, String>| {
        sqltext.map_err(|m| Error::Rule {
            rule_id: runnable[conds[ci].0].id().to_string(),
            message: m,
        })
    };
    let mut masks: Masks = BTreeMap::new();
    // A condition on both sides that names no side-view column reads the same on both:
    // it is evaluated on the `out` side and copied.
    let shared: Vec<bool> = conds
        .iter()
        .map(|(_, _, c)| c.side == SideSel::Both && c.sql.as_deref().is_some_and(expr::side_free))
        .collect();
    for side in [Side::Out, Side::In] {
        let mut items = Vec::new();
        for (ci, (_, _, c)) in conds.iter().enumerate() {
            if side == Side::In && shared[ci] {
                continue;
            }
            if let (true, Some(w)) = (c.side.sides().contains(&side), terms[ci].first()) {
                items.push((ci, compile_for(ci, expr::compile(w))?));
            }
        }
        for (ci, mask) in batch(prep, side, &runnable, &conds, items)? {
            masks.insert((conds[ci].0, conds[ci].1, side), mask);
        }
    }
    // Stage 2: the other terms, on the rows the first one kept when they are few; else on
    // every row, all conditions of a side in one pass.
    for side in [Side::Out, Side::In] {
        let mut items = Vec::new();
        for (ci, (i, k, _)) in conds.iter().enumerate() {
            if side == Side::In && shared[ci] {
                continue;
            }
            let Some(mask) = masks.get_mut(&(*i, *k, side)) else {
                continue;
            };
            if terms[ci].len() < 2 {
                continue;
            }
            let kept = mask.count();
            if kept * 4 <= mask.len() {
                narrow(prep, runnable[*i], side, &terms[ci][1..], mask)?;
            } else {
                items.push((ci, compile_for(ci, and_all(&terms[ci][1..]))?));
            }
        }
        for (ci, more) in batch(prep, side, &runnable, &conds, items)? {
            if let Some(mask) = masks.get_mut(&(conds[ci].0, conds[ci].1, side)) {
                mask.and_assign(&more);
            }
        }
    }
    for (ci, (i, k, _)) in conds.iter().enumerate() {
        if shared[ci] {
            if let Some(m) = masks.get(&(*i, *k, Side::Out)).cloned() {
                masks.insert((*i, *k, Side::In), m);
            }
        }
    }
    let total = runnable.len();
    // Rules that screen other rules' alerts (`on_alerts_of`) run after all the others.
    let mut order: Vec<usize> = (0..runnable.len())
        .filter(|&i| runnable[i].def.on_alerts_of.is_empty())
        .collect();
    order.extend((0..runnable.len()).filter(|&i| !runnable[i].def.on_alerts_of.is_empty()));
    let mut per_rule: Vec<Vec<Alert>> = vec![Vec::new(); runnable.len()];
    let mut keys: Option<PlHashMap<&str, u32>> = None;
    for (done, &i) in order.iter().enumerate() {
        let r = runnable[i];
        progress(r.id(), done, total);
        let allowed = if r.def.on_alerts_of.is_empty() {
            None
        } else {
            let keys = keys.get_or_insert_with(|| {
                prep.accounts
                    .iter()
                    .enumerate()
                    .map(|(k, a)| (a.as_str(), k as u32))
                    .collect()
            });
            let mut set = std::collections::HashSet::new();
            for (j, alerts) in per_rule.iter().enumerate() {
                if !crate::pack::matches_any(runnable[j].id(), &r.def.on_alerts_of) {
                    continue;
                }
                for a in alerts {
                    for acct in std::iter::once(&a.account).chain(a.linked_accounts.iter()) {
                        if let Some(&k) = keys.get(acct.as_str()) {
                            set.extend(a.rows.iter().map(|row| (k, *row)));
                        }
                    }
                }
            }
            Some(set)
        };
        let scope = crate::kinds::Scope {
            prep,
            masks: &masks,
            rule_index: i,
            allowed: allowed.as_ref(),
        };
        per_rule[i] = crate::kinds::run(r, &scope)?;
    }
    for (i, r) in runnable.iter().enumerate() {
        out.alerts_per_rule.insert(r.id().to_string(), per_rule[i].len());
        out.alerts.append(&mut per_rule[i]);
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
    conds: &[(usize, usize, &crate::kinds::Condition)],
    items: Vec<(usize, Expr)>,
) -> Result<Vec<(usize, RowMask)>> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let idx: Vec<usize> = items.iter().map(|(i, _)| *i).collect();
    let exprs: Vec<Expr> = items
        .into_iter()
        .map(|(i, e)| e.fill_null(lit(false)).alias(format!("r{i}")))
        .collect();
    let rule_idx: Vec<usize> = idx.iter().map(|ci| conds[*ci].0).collect();
    let res = prep
        .side_select(side, exprs)
        .map_err(|e| rule_error(runnable, &rule_idx, e))?;
    idx.iter()
        .enumerate()
        .map(|(k, &i)| {
            let c = res.select_at_idx(k).ok_or_else(|| Error::Rule {
                rule_id: runnable[conds[i].0].id().to_string(),
                message: "the condition produced no column".into(),
            })?;
            let b = c.bool().map_err(|_| Error::Rule {
                rule_id: runnable[conds[i].0].id().to_string(),
                message: format!("`where` must be true or false for each row; it gives {}", c.dtype()),
            })?;
            Ok((i, RowMask::from_bools(b.iter().map(|v| v.unwrap_or(false)))))
        })
        .collect()
}

/// Applies the remaining terms of a condition to the rows a mask still holds.
fn narrow(prep: &Prepared<'_>, rule: &Rule, side: Side, rest: &[String], mask: &mut RowMask) -> Result<()> {
    let rows: Vec<IdxSize> = mask.ones().map(|k| k as IdxSize).collect();
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
        mask.set(*k as usize, v.unwrap_or(false));
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

/// Gathers side-view columns for rows of either side, in the order given:
/// (account key, ts, transaction row, side).
pub(crate) fn gather_rows(prep: &Prepared<'_>, rows: &[(u32, i64, u32, Side)], cols: &[String]) -> Result<DataFrame> {
    let mut parts: Vec<DataFrame> = Vec::new();
    let mut offsets = [0u32; 2];
    let mut offset = 0u32;
    for (k, side) in [Side::Out, Side::In].into_iter().enumerate() {
        let idx: Vec<IdxSize> = rows.iter().filter(|r| r.3 == side).map(|r| r.2 as IdxSize).collect();
        offsets[k] = offset;
        if !idx.is_empty() {
            offset += idx.len() as u32;
            parts.push(gather(prep, side, cols, &idx)?);
        }
    }
    if parts.len() <= 1 {
        return match parts.pop() {
            Some(p) => Ok(p),
            None => gather(prep, Side::Out, cols, &[]),
        };
    }
    // Interleave the two sides back into the given order.
    let mut pos = offsets;
    let order: Vec<IdxSize> = rows
        .iter()
        .map(|r| {
            let k = usize::from(r.3 == Side::In);
            pos[k] += 1;
            pos[k] - 1
        })
        .collect();
    let mut stacked = parts.remove(0);
    stacked.vstack_mut(&parts[0]).ctx(|| "stacking sides".into())?;
    stacked
        .take(&IdxCa::from_vec("o".into(), order))
        .ctx(|| "ordering sides".into())
}

/// Gathers side-view columns for the given transaction rows.
pub(crate) fn gather(prep: &Prepared<'_>, side: Side, cols: &[String], rows: &[IdxSize]) -> Result<DataFrame> {
    let exprs: Vec<Expr> = cols.iter().map(|c| col(c.as_str())).collect();
    let idx = IdxCa::from_vec("idx".into(), rows.to_vec());
    let df = prep.side_select(side, exprs).ctx(|| "gathering columns".into())?;
    df.take(&idx).ctx(|| "gathering rows".into())
}

pub(crate) fn dedup(mut alerts: Vec<Alert>) -> Vec<Alert> {
    let mut seen = BTreeSet::new();
    alerts.retain(|a| seen.insert(a.alert_id.clone()));
    alerts
}

/// What an alert holds beyond what its rule and rows give.
pub(crate) struct AlertParts {
    /// The account screened.
    pub(crate) account: String,
    /// `in`, `out` or `both`.
    pub(crate) side: String,
    /// The transaction rows, in time order.
    pub(crate) rows: Vec<u32>,
    /// Measure name → value.
    pub(crate) measures: BTreeMap<String, serde_json::Value>,
    /// The filled-in explanation.
    pub(crate) explanation: String,
    /// The other accounts of the pattern.
    pub(crate) linked_accounts: Vec<String>,
}

/// An alert of a rule: the transaction ids, the span and the stable id come from the rows.
pub(crate) fn make_alert(prep: &Prepared<'_>, rule: &Rule, parts: AlertParts) -> Result<Alert> {
    let txn_ids = prep.txn_ids(&parts.rows)?;
    let first_ts = parts.rows.iter().map(|r| prep.ts[*r as usize]).min().unwrap_or(0);
    let last_ts = parts.rows.iter().map(|r| prep.ts[*r as usize]).max().unwrap_or(0);
    Ok(Alert {
        alert_id: alert_id(rule.id(), &parts.account, &txn_ids),
        rule_id: rule.id().to_string(),
        kind: rule.kind.name().to_string(),
        severity: rule.def.severity,
        typologies: rule.def.typologies.clone(),
        account: parts.account,
        side: parts.side,
        window_start: format::timestamp(first_ts),
        window_end: format::timestamp(last_ts),
        txn_ids,
        measures: parts.measures,
        explanation: parts.explanation,
        linked_accounts: parts.linked_accounts,
        rows: parts.rows,
    })
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
pub(crate) fn fill(
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
        let mut parts = after[..end].split('|');
        let name = parts.next().unwrap_or("").trim();
        let noun: Option<(&str, &str)> = match (parts.next(), parts.next()) {
            (Some(one), Some(many)) => Some((one.trim(), many.trim())),
            _ => None,
        };
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
        if let Some((one, many)) = noun {
            out.push(' ');
            out.push_str(if v == "1" { one } else { many });
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

pub(crate) fn display_value(v: &AnyValue<'_>) -> String {
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

pub(crate) fn json_value(v: &AnyValue<'_>) -> serde_json::Value {
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
