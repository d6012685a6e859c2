//! The engine: the side view, shared by every rule, and the run of each rule.
//!
//! Accounts are encoded as integers once; each side's view is kept narrow (account key,
//! time, row index back into the transactions) and sorted once by (account, time, row).
//! Each rule's `where` runs over the transactions (all rules of a side in one pass; a term
//! that reads only dictionary-encoded text once per distinct value), its rows are picked
//! out of the sorted view in order, and only the columns its measures read are gathered
//! (and decoded) for them. Wide columns are read back only for the rows that alert. Rules
//! run side by side on the worker threads ([`worker_threads`]); each writes to its own
//! slot, so the result does not depend on the thread count.

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
    /// Wall time of each step: `prepare`, `conditions`, `rules` (all of them, on several
    /// threads), each rule by id, `cases`. For
    /// tuning a pack; never part of an output file, which must not change between runs.
    pub timings: Vec<(String, std::time::Duration)>,
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
    /// Rows a slice of accounts holds (see [`crate::kinds::Scope::side_rows_sliced`]).
    pub(crate) slice_rows: usize,
}

impl<'a> Prepared<'a> {
    /// Encodes accounts and sorts both side views.
    pub fn new(ds: &'a Dataset) -> Result<Prepared<'a>> {
        let df = &ds.transactions;
        let n = df.height();
        let ts = ts_col(df)?;
        let amount: Vec<f64> = df
            .column("amount_base")
            .and_then(|c| c.f64().cloned())
            .ctx(|| "reading column `amount_base`".into())?
            .iter()
            .map(|v| v.unwrap_or(0.0))
            .collect();
        let mut accounts: Vec<String> = Vec::new();
        let orig_key;
        let bene_key;
        if df
            .column("orig_account")
            .map(|c| c.dtype().is_categorical())
            .unwrap_or(false)
        {
            // Dictionary codes: each distinct account is looked up once, and keys are
            // given in order of first appearance, as with text.
            let (o, mapping) = cat_codes(df, "orig_account")?;
            let (b, _) = cat_codes(df, "bene_account")?;
            let mut key_of: Vec<u32> = vec![NO_ACCOUNT; mapping.num_cats_upper_bound()];
            let mut encode = |codes: &UInt32Chunked| -> Vec<u32> {
                let mut out = Vec::with_capacity(n);
                for v in codes.iter() {
                    out.push(match v {
                        Some(c) => {
                            let c = c as usize;
                            if c >= key_of.len() {
                                key_of.resize(c + 1, NO_ACCOUNT);
                            }
                            if key_of[c] == NO_ACCOUNT {
                                accounts.push(mapping.cat_to_str(c as _).unwrap_or("").to_string());
                                key_of[c] = (accounts.len() - 1) as u32;
                            }
                            key_of[c]
                        }
                        None => NO_ACCOUNT,
                    });
                }
                out
            };
            orig_key = encode(&o);
            bene_key = encode(&b);
        } else {
            let orig = str_col(df, "orig_account")?;
            let bene = str_col(df, "bene_account")?;
            let mut map: PlHashMap<&str, u32> = PlHashMap::with_capacity(n / 4 + 16);
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
            orig_key = encode(orig);
            bene_key = encode(bene);
        }
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
            slice_rows: SLICE_ROWS,
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

    /// The rows of the side view for the given transaction rows (all rows when `None`),
    /// with the columns the expressions read, as text, and the expressions evaluated.
    /// Side-view names in `coded` keep their dictionary codes (see [`gather_rows_coded`]).
    fn side_frame(
        &self,
        side: Side,
        exprs: Vec<Expr>,
        rows: Option<&[IdxSize]>,
        slice: Option<(i64, usize)>,
        coded: &[String],
    ) -> PolarsResult<DataFrame> {
        let mut sources: Vec<String> = Vec::new();
        for e in &exprs {
            for name in e.clone().meta().root_names() {
                sources.extend(source_columns(name.as_str(), side));
            }
        }
        // `ts` keeps the frame's height when the expressions read no column.
        sources.push("ts".into());
        sources.sort_unstable();
        sources.dedup();
        let df = &self.ds.transactions;
        sources.retain(|c| df.schema().contains(c));
        let mut sub = df.select(sources)?;
        if let Some(rows) = rows {
            sub = sub.take(&IdxCa::from_vec("rows".into(), rows.to_vec()))?;
        }
        if let Some((off, len)) = slice {
            sub = sub.slice(off, len);
        }
        let keep: Vec<String> = coded.iter().flat_map(|c| source_columns(c, side)).collect();
        let decode: Vec<Expr> = schema::text_exprs(sub.schema())
            .into_iter()
            .filter(|e| {
                !e.clone()
                    .meta()
                    .root_names()
                    .iter()
                    .any(|n| keep.iter().any(|k| k == n.as_str()))
            })
            .collect();
        let sub = if decode.is_empty() {
            sub
        } else {
            sub.lazy().with_columns(decode).collect()?
        };
        let side_cols = schema::side_exprs_for(side, sub.schema());
        sub.lazy().with_columns(side_cols).select(exprs).collect()
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

/// The canonical columns a name of the side view stands on, on one side.
fn source_columns(name: &str, side: Side) -> Vec<String> {
    if let Some((_, o, i)) = schema::SIDE_COLUMNS.iter().find(|(n, _, _)| *n == name) {
        return vec![match side {
            Side::Out => o.to_string(),
            Side::In => i.to_string(),
        }];
    }
    match name {
        "side" => vec![],
        "hour" => vec!["ts".into()],
        "days_since_opened" => vec!["ts".into(), "opened".into()],
        _ => vec![name.to_string()],
    }
}

/// Rows a condition over the side view is evaluated on at a time: only these rows'
/// text is decoded at once.
const CHUNK_ROWS: usize = 1 << 21;

/// The conditions that read a single dictionary-encoded column, each evaluated once for
/// each distinct value of the column and looked up for each row; `None` for the others.
fn dictionary_masks(prep: &Prepared<'_>, side: Side, items: &[(usize, Expr)]) -> PolarsResult<Vec<Option<RowMask>>> {
    let df = &prep.ds.transactions;
    let mut by_column: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut by_columns: BTreeMap<Vec<String>, Vec<usize>> = BTreeMap::new();
    for (k, (_, e)) in items.iter().enumerate() {
        let mut sources: Vec<String> = Vec::new();
        for name in e.clone().meta().root_names() {
            sources.extend(source_columns(name.as_str(), side));
        }
        sources.sort_unstable();
        sources.dedup();
        let coded = |c: &String| df.column(c).is_ok_and(|c| c.dtype().is_categorical());
        if sources.len() == 1 && coded(&sources[0]) {
            by_column.entry(sources[0].clone()).or_default().push(k);
        } else if (2..=MAX_COMBINED).contains(&sources.len()) && sources.iter().all(coded) {
            by_columns.entry(sources).or_default().push(k);
        }
    }
    let mut out: Vec<Option<RowMask>> = vec![None; items.len()];
    // Each column's codes, read once for all the conditions of this pass.
    let mut names: Vec<String> = by_column.keys().chain(by_columns.keys().flatten()).cloned().collect();
    names.sort_unstable();
    names.dedup();
    let idx: Vec<usize> = (0..names.len()).collect();
    let codes_of: BTreeMap<String, (Vec<u32>, Arc<CategoricalMapping>)> =
        run_parallel(&idx, |k| (names[k].clone(), code_vec(df, &names[k])))
            .into_iter()
            .filter_map(|(_, (n, r))| r.ok().map(|cm| (n, cm)))
            .collect();
    let exprs_of = |ks: &[usize]| -> Vec<Expr> {
        ks.iter()
            .enumerate()
            .map(|(j, &k)| items[k].1.clone().fill_null(lit(false)).alias(format!("m{j}")))
            .collect()
    };
    // Conditions over one such column: each distinct value once.
    let one = |src: &String, ks: &[usize]| -> PolarsResult<Vec<(usize, RowMask)>> {
        let mut found = Vec::new();
        let Some((codes, mapping)) = codes_of.get(src) else {
            return Ok(found);
        };
        // The distinct values present, in code order, and null when there is one.
        let mut seen = vec![false; mapping.num_cats_upper_bound()];
        let mut has_null = false;
        for &c in codes {
            if c == NULL_CODE {
                has_null = true;
                continue;
            }
            let c = c as usize;
            if c >= seen.len() {
                seen.resize(c + 1, false);
            }
            seen[c] = true;
        }
        let distinct: Vec<usize> = (0..seen.len()).filter(|&c| seen[c]).collect();
        let mut values: Vec<Option<&str>> = distinct.iter().map(|&c| mapping.cat_to_str(c as _)).collect();
        if has_null {
            values.push(None);
        }
        let small = DataFrame::new_infer_height(vec![Column::new(src.as_str().into(), values)])?;
        let side_cols = schema::side_exprs_for(side, small.schema());
        let res = small.lazy().with_columns(side_cols).select(exprs_of(ks)).collect()?;
        for (j, &k) in ks.iter().enumerate() {
            let b = res.select_at_idx(j).map(|c| c.bool().cloned()).transpose()?;
            let Some(b) = b else { continue };
            let mut table = vec![false; seen.len()];
            for (d, &c) in distinct.iter().enumerate() {
                table[c] = b.get(d).unwrap_or(false);
            }
            let null_value = has_null && b.get(distinct.len()).unwrap_or(false);
            found.push((
                k,
                RowMask::from_fn(codes.len(), |i| {
                    let c = codes[i];
                    if c == NULL_CODE {
                        null_value
                    } else {
                        table[c as usize]
                    }
                }),
            ));
        }
        Ok(found)
    };
    // Conditions over several such columns: each distinct combination of their values
    // once, unless the combinations are too many to gain from it.
    let limit = (df.height() / 8).max(1024);
    let many = |srcs: &[String], ks: &[usize]| -> PolarsResult<Vec<(usize, RowMask)>> {
        let mut cols: Vec<&(Vec<u32>, Arc<CategoricalMapping>)> = Vec::new();
        for c in srcs {
            let Some(cm) = codes_of.get(c) else {
                return Ok(Vec::new());
            };
            cols.push(cm);
        }
        let mut ids: PlHashMap<[u32; MAX_COMBINED], u32> = PlHashMap::new();
        let mut combos: Vec<[u32; MAX_COMBINED]> = Vec::new();
        let mut row_combo: Vec<u32> = Vec::with_capacity(df.height());
        for i in 0..df.height() {
            let mut key = [NULL_CODE; MAX_COMBINED];
            for (j, (codes, _)) in cols.iter().enumerate() {
                key[j] = codes[i];
            }
            let next = combos.len() as u32;
            let id = *ids.entry(key).or_insert_with(|| {
                combos.push(key);
                next
            });
            if combos.len() > limit {
                return Ok(Vec::new());
            }
            row_combo.push(id);
        }
        let mappings: Vec<&CategoricalMapping> = cols.iter().map(|c| c.1.as_ref()).collect();
        let res = eval_combos(side, srcs, &mappings, &combos, exprs_of(ks))?;
        let mut found = Vec::new();
        for (j, &k) in ks.iter().enumerate() {
            let b = res.select_at_idx(j).map(|c| c.bool().cloned()).transpose()?;
            let Some(b) = b else { continue };
            let table: Vec<bool> = b.iter().map(|v| v.unwrap_or(false)).collect();
            found.push((k, RowMask::from_fn(row_combo.len(), |i| table[row_combo[i] as usize])));
        }
        Ok(found)
    };
    // The column groups are independent: evaluated on the worker threads.
    let groups: Vec<(Vec<String>, Vec<usize>)> = by_column
        .into_iter()
        .map(|(c, ks)| (vec![c], ks))
        .chain(by_columns)
        .collect();
    let idx: Vec<usize> = (0..groups.len()).collect();
    let mut results = run_parallel(&idx, |g| {
        let (srcs, ks) = &groups[g];
        if srcs.len() == 1 {
            one(&srcs[0], ks)
        } else {
            many(srcs, ks)
        }
    });
    results.sort_by_key(|(g, _)| *g);
    for (_, r) in results {
        for (k, m) in r? {
            out[k] = Some(m);
        }
    }
    Ok(out)
}

/// Expressions over the side view evaluated on each distinct combination of the values of
/// dictionary-encoded columns (`sources`, coded by `mappings`; [`NULL_CODE`] for missing):
/// one row each.
fn eval_combos(
    side: Side,
    sources: &[String],
    mappings: &[&CategoricalMapping],
    combos: &[[u32; MAX_COMBINED]],
    exprs: Vec<Expr>,
) -> PolarsResult<DataFrame> {
    let small_cols: Vec<Column> = sources
        .iter()
        .zip(mappings)
        .enumerate()
        .map(|(j, (src, mapping))| {
            let values: Vec<Option<&str>> = combos
                .iter()
                .map(|key| (key[j] != NULL_CODE).then(|| mapping.cat_to_str(key[j])).flatten())
                .collect();
            Column::new(src.as_str().into(), values)
        })
        .collect();
    let small = DataFrame::new_infer_height(small_cols)?;
    let side_cols = schema::side_exprs_for(side, small.schema());
    small.lazy().with_columns(side_cols).select(exprs).collect()
}

/// At most this many dictionary-encoded columns are combined by [`dictionary_masks`].
const MAX_COMBINED: usize = 4;

/// The code of a missing value in [`code_vec`].
const NULL_CODE: u32 = u32::MAX;

/// A dictionary-encoded column's codes as one flat vector ([`NULL_CODE`] for a missing
/// value), and its dictionary.
fn code_vec(df: &DataFrame, name: &str) -> Result<(Vec<u32>, Arc<CategoricalMapping>)> {
    let (ca, mapping) = cat_codes(df, name)?;
    let mut out = Vec::with_capacity(ca.len());
    for arr in ca.downcast_iter() {
        if arr.validity().is_none_or(|v| v.unset_bits() == 0) {
            out.extend_from_slice(arr.values().as_slice());
        } else {
            out.extend(arr.iter().map(|v| v.copied().unwrap_or(NULL_CODE)));
        }
    }
    Ok((out, mapping))
}

/// A dictionary-encoded column's codes and its dictionary.
pub(crate) fn cat_codes(df: &DataFrame, name: &str) -> Result<(UInt32Chunked, Arc<CategoricalMapping>)> {
    let c = df.column(name).ctx(|| format!("reading column `{name}`"))?;
    let DataType::Categorical(_, mapping) = c.dtype() else {
        return Err(Error::Rule {
            rule_id: String::new(),
            message: format!("column `{name}` is not dictionary-encoded"),
        });
    };
    let mapping = mapping.clone();
    let codes = c
        .to_physical_repr()
        .cast(&DataType::UInt32)
        .and_then(|p| p.u32().cloned())
        .ctx(|| format!("reading column `{name}`"))?;
    Ok((codes, mapping))
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
pub fn run(pack: &Pack, prep: &Prepared<'_>, progress: &(dyn Fn(&str, usize, usize) + Sync)) -> Result<RuleRun> {
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
    let t_conditions = std::time::Instant::now();
    let masks = condition_masks(prep, &runnable)?;
    out.timings.push(("conditions".into(), t_conditions.elapsed()));
    let total = runnable.len();
    // Rules that screen other rules' alerts (`on_alerts_of`) run after all the others.
    let (first, after): (Vec<usize>, Vec<usize>) =
        (0..runnable.len()).partition(|&i| runnable[i].def.on_alerts_of.is_empty());
    type Outcome = Result<(Vec<Alert>, std::time::Duration)>;
    let mut per_rule: Vec<Option<Outcome>> = (0..runnable.len()).map(|_| None).collect();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let run_one = |i: usize, allowed: Option<&std::collections::HashSet<(u32, u32)>>| {
        let r = runnable[i];
        let scope = crate::kinds::Scope {
            prep,
            masks: &masks,
            rule_index: i,
            allowed,
        };
        let t_rule = std::time::Instant::now();
        let res = crate::kinds::run(r, &scope).map(|a| (a, t_rule.elapsed()));
        let n = done.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        progress(r.id(), n, total);
        res
    };
    // The rules are independent: they run on the worker threads, the heaviest kinds
    // first; each result goes to its rule's slot, so the output does not depend on the
    // order in which they finish.
    let t_rules = std::time::Instant::now();
    let mut queue = first.clone();
    queue.sort_by_key(|&i| (std::cmp::Reverse(cost_rank(runnable[i])), i));
    for (i, res) in run_parallel(&queue, |i| run_one(i, None)) {
        per_rule[i] = Some(res);
    }
    // The first error in pack order, whichever thread met it first.
    if let Some(&i) = first.iter().find(|&&i| matches!(per_rule[i], Some(Err(_)))) {
        if let Some(Err(e)) = per_rule[i].take() {
            return Err(e);
        }
    }
    if !after.is_empty() {
        let keys: PlHashMap<&str, u32> = prep
            .accounts
            .iter()
            .enumerate()
            .map(|(k, a)| (a.as_str(), k as u32))
            .collect();
        for &i in &after {
            let r = runnable[i];
            let mut set = std::collections::HashSet::new();
            for &j in &first {
                if !crate::pack::matches_any(runnable[j].id(), &r.def.on_alerts_of) {
                    continue;
                }
                let Some(Ok((alerts, _))) = &per_rule[j] else { continue };
                for a in alerts {
                    for acct in std::iter::once(&a.account).chain(a.linked_accounts.iter()) {
                        if let Some(&k) = keys.get(acct.as_str()) {
                            set.extend(a.rows.iter().map(|row| (k, *row)));
                        }
                    }
                }
            }
            per_rule[i] = Some(run_one(i, Some(&set)));
        }
    }
    out.timings.push(("rules".into(), t_rules.elapsed()));
    for (i, r) in runnable.iter().enumerate() {
        let (mut alerts, took) = match per_rule[i].take() {
            Some(res) => res?,
            None => (Vec::new(), std::time::Duration::ZERO),
        };
        out.timings.push((r.id().to_string(), took));
        out.alerts_per_rule.insert(r.id().to_string(), alerts.len());
        out.alerts.append(&mut alerts);
        out.rules_run.push(r.id().to_string());
    }
    progress("", total, total);
    Ok(out)
}

/// Rows a kind that works account by account holds at a time (see
/// [`crate::kinds::Scope::side_rows_sliced`]).
pub(crate) const SLICE_ROWS: usize = 1 << 20;

/// How heavy a rule's kind usually is, to start the heaviest first.
fn cost_rank(r: &Rule) -> u8 {
    use crate::pack::RuleKind;
    match &r.kind {
        RuleKind::Baseline(_) => 5,
        RuleKind::Aggregate(_) if r.side == SideSel::Both => 4,
        RuleKind::Network(_) => 3,
        RuleKind::Aggregate(_) => 2,
        RuleKind::Sequence(_) => 1,
        RuleKind::Filter | RuleKind::Watchlist(_) => 0,
    }
}

/// The number of worker threads: polars' setting (`POLARS_MAX_THREADS`, which
/// `--threads` sets), else the machine's cores.
pub(crate) fn worker_threads() -> usize {
    std::env::var("POLARS_MAX_THREADS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1))
}

/// Runs `f` on each item on the worker threads, each taking the next item when it is
/// free; returns (item, result) pairs in no particular order.
pub(crate) fn run_parallel<T: Send>(items: &[usize], f: impl Fn(usize) -> T + Sync) -> Vec<(usize, T)> {
    let workers = worker_threads().min(items.len()).max(1);
    if workers == 1 {
        return items.iter().map(|&i| (i, f(i))).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let work = || {
        let mut got = Vec::new();
        loop {
            let k = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let Some(&i) = items.get(k) else { break };
            got.push((i, f(i)));
        }
        got
    };
    std::thread::scope(|sc| {
        let handles: Vec<_> = (1..workers).map(|_| sc.spawn(work)).collect();
        let mut all = work();
        for h in handles {
            match h.join() {
                Ok(v) => all.extend(v),
                Err(p) => std::panic::resume_unwind(p),
            }
        }
        all
    })
}

/// The row masks of every condition of every rule (see [`Masks`]).
///
/// Stage 1 evaluates the first `AND` term of every condition, all of a side in one pass
/// over the transactions; stage 2 the other terms on the rows the first kept: those that
/// read only dictionary-encoded columns once per distinct value among those rows, the
/// others one at a time when the rows are few, else on every row. Each stage is exact: a
/// row is kept when every term is true. A term that names no side-view column reads the
/// same on both sides and is evaluated once; a term (or a whole condition) that several
/// rules share is evaluated once for all of them.
fn condition_masks(prep: &Prepared<'_>, runnable: &[&Rule]) -> Result<Masks> {
    // A condition is (rule, slot); a kind may need several, such as a sequence's events.
    // Its key on a side: its text, and the side unless it is side-free.
    type Key = (String, Option<Side>);
    // A condition being narrowed: its key, its first rule, its rows, its terms left.
    type Narrowing = (Key, usize, RowMask, Vec<String>);
    // A condition that compares `side` reads as it does on each side: both keep their
    // other terms, which may be shared with other conditions, or read the same on both.
    let key_of = |sql: &str, side: Side| -> Key {
        let sql = expr::on_side(sql, side.as_str());
        let free = expr::side_free(&sql);
        (sql, if free { None } else { Some(side) })
    };
    // Unique conditions: (key, the first rule using it, for errors).
    let mut unique: BTreeMap<Key, usize> = BTreeMap::new();
    let mut uses: Vec<((usize, usize, Side), Key)> = Vec::new();
    for (i, r) in runnable.iter().enumerate() {
        for (k, c) in r.conditions.iter().enumerate() {
            let Some(sql) = c.sql.as_deref() else { continue };
            for &side in c.side.sides() {
                let key = key_of(sql, side);
                unique.entry(key.clone()).or_insert(i);
                uses.push(((i, k, side), key));
            }
        }
    }
    let compile_for = |rule: usize, sqltext: std::result::Result<Expr, String>| {
        sqltext.map_err(|m| Error::Rule {
            rule_id: runnable[rule].id().to_string(),
            message: m,
        })
    };
    let terms: BTreeMap<&Key, Vec<String>> = unique.keys().map(|k| (k, expr::conjuncts(&k.0))).collect();
    // Stage 1: distinct first terms, side-free ones on the `out` pass.
    let mut first: BTreeMap<Key, (usize, Option<RowMask>)> = BTreeMap::new();
    for (key, &rule) in &unique {
        let Some(w) = terms[key].first() else { continue };
        let side = key.1.filter(|_| !expr::side_free(w));
        first.entry((w.clone(), side)).or_insert((rule, None));
    }
    for side in [Side::Out, Side::In] {
        let mut items = Vec::new();
        let mut names = Vec::new();
        for (k, (rule, _)) in &first {
            if k.1.unwrap_or(Side::Out) == side {
                items.push((*rule, compile_for(*rule, expr::compile(&k.0))?));
                names.push(k.clone());
            }
        }
        for (n, mask) in names.into_iter().zip(batch(prep, side, runnable, items)?) {
            if let Some(slot) = first.get_mut(&n) {
                slot.1 = Some(mask);
            }
        }
    }
    let mut done: BTreeMap<Key, RowMask> = BTreeMap::new();
    for (key, &rule) in &unique {
        let Some(w) = terms[key].first() else { continue };
        let side = key.1.filter(|_| !expr::side_free(w));
        if let Some((_, Some(m))) = first.get(&(w.clone(), side)) {
            done.insert(key.clone(), m.clone());
        } else {
            return Err(Error::Rule {
                rule_id: runnable[rule].id().to_string(),
                message: "the condition produced no column".into(),
            });
        }
    }
    // Stage 2: the other terms. Those that read only dictionary-encoded columns first, by
    // value, on the rows the first term kept; the rest on those rows when they are few,
    // else on every row, all conditions of a side in one pass.
    for side in [Side::Out, Side::In] {
        let mut slots: Vec<std::sync::Mutex<Option<(Key, usize, RowMask)>>> = Vec::new();
        for (key, &rule) in &unique {
            if key.1.unwrap_or(Side::Out) != side || terms[key].len() < 2 {
                continue;
            }
            if let Some(m) = done.remove(key) {
                slots.push(std::sync::Mutex::new(Some((key.clone(), rule, m))));
            }
        }
        let idx: Vec<usize> = (0..slots.len()).collect();
        let mut coded = run_parallel(&idx, |j| -> Result<Option<Narrowing>> {
            let Some((key, rule, mut mask)) = slots[j].lock().ok().and_then(|mut s| s.take()) else {
                return Ok(None);
            };
            let rerr = |m: String| Error::Rule {
                rule_id: runnable[rule].id().to_string(),
                message: m,
            };
            let mut left = Vec::new();
            for t in &terms[&key][1..] {
                let e = expr::compile(t).map_err(rerr)?;
                let applied = narrow_coded(prep, side, &e, &mut mask)
                    .map_err(|e| rerr(e.to_string().lines().next().unwrap_or("").to_string()))?;
                if !applied {
                    left.push(t.clone());
                }
            }
            Ok(Some((key, rule, mask, left)))
        });
        coded.sort_by_key(|(j, _)| *j);
        let mut items = Vec::new();
        let mut names = Vec::new();
        let mut few: Vec<Narrowing> = Vec::new();
        for (_, r) in coded {
            let Some((key, rule, mask, left)) = r? else { continue };
            if left.is_empty() {
                done.insert(key, mask);
            } else if mask.count() * 4 <= mask.len() {
                few.push((key, rule, mask, left));
            } else {
                items.push((rule, compile_for(rule, and_all(&left))?));
                names.push(key.clone());
                done.insert(key, mask);
            }
        }
        // Narrowed on the worker threads, each on its own rows.
        let slots: Vec<std::sync::Mutex<Option<Narrowing>>> =
            few.into_iter().map(|f| std::sync::Mutex::new(Some(f))).collect();
        let idx: Vec<usize> = (0..slots.len()).collect();
        let mut narrowed = run_parallel(&idx, |j| {
            let taken = slots[j].lock().ok().and_then(|mut s| s.take());
            taken.map(|(key, rule, mut mask, left)| {
                narrow(prep, runnable[rule], side, &left, &mut mask).map(|_| (key, mask))
            })
        });
        narrowed.sort_by_key(|(j, _)| *j);
        for (_, r) in narrowed {
            if let Some(r) = r {
                let (key, mask) = r?;
                done.insert(key, mask);
            }
        }
        for (n, more) in names.into_iter().zip(batch(prep, side, runnable, items)?) {
            if let Some(mask) = done.get_mut(&n) {
                mask.and_assign(&more);
            }
        }
    }
    let mut masks: Masks = BTreeMap::new();
    for (slot, key) in uses {
        if let Some(m) = done.get(&key) {
            masks.insert(slot, m.clone());
        }
    }
    Ok(masks)
}

/// Evaluates conditions of several rules over every transaction of one side, in one pass;
/// a null counts as false.
fn batch(prep: &Prepared<'_>, side: Side, runnable: &[&Rule], items: Vec<(usize, Expr)>) -> Result<Vec<RowMask>> {
    let n = prep.ds.transactions.height();
    let rule_idx_all: Vec<usize> = items.iter().map(|(i, _)| *i).collect();
    let mut masks = dictionary_masks(prep, side, &items).map_err(|e| rule_error(runnable, &rule_idx_all, e))?;
    let general: Vec<usize> = (0..items.len()).filter(|&k| masks[k].is_none()).collect();
    if !general.is_empty() {
        let rule_idx: Vec<usize> = general.iter().map(|&k| items[k].0).collect();
        let exprs: Vec<Expr> = general
            .iter()
            .map(|&k| items[k].1.clone().fill_null(lit(false)).alias(format!("c{k}")))
            .collect();
        let mut bools: Vec<Vec<bool>> = vec![Vec::with_capacity(n); general.len()];
        let mut off = 0usize;
        while off < n.max(1) {
            let len = CHUNK_ROWS.min(n - off.min(n));
            let res = prep
                .side_frame(side, exprs.clone(), None, Some((off as i64, len)), &[])
                .map_err(|e| rule_error(runnable, &rule_idx, e))?;
            for (j, &i) in rule_idx.iter().enumerate() {
                let c = res.select_at_idx(j).ok_or_else(|| Error::Rule {
                    rule_id: runnable[i].id().to_string(),
                    message: "the condition produced no column".into(),
                })?;
                let b = c.bool().map_err(|_| Error::Rule {
                    rule_id: runnable[i].id().to_string(),
                    message: format!("`where` must be true or false for each row; it gives {}", c.dtype()),
                })?;
                bools[j].extend(b.iter().map(|v| v.unwrap_or(false)));
            }
            off += CHUNK_ROWS;
        }
        for (j, &k) in general.iter().enumerate() {
            masks[k] = Some(RowMask::from_bools(std::mem::take(&mut bools[j])));
        }
    }
    Ok(masks
        .into_iter()
        .map(|m| m.unwrap_or_else(|| RowMask::from_bools(std::iter::repeat_n(false, n))))
        .collect())
}

/// Applies a condition that reads only dictionary-encoded columns (at most
/// [`MAX_COMBINED`]) to the rows a mask holds, evaluating it once for each distinct
/// combination of their values among those rows; false, and the mask untouched, when the
/// condition reads anything else or the combinations are too many to gain from it.
fn narrow_coded(prep: &Prepared<'_>, side: Side, e: &Expr, mask: &mut RowMask) -> PolarsResult<bool> {
    let df = &prep.ds.transactions;
    let mut sources: Vec<String> = Vec::new();
    for name in e.clone().meta().root_names() {
        sources.extend(source_columns(name.as_str(), side));
    }
    sources.sort_unstable();
    sources.dedup();
    if sources.is_empty() || sources.len() > MAX_COMBINED {
        return Ok(false);
    }
    let mut cols = Vec::with_capacity(sources.len());
    for src in &sources {
        let Ok(column) = df.column(src) else {
            return Ok(false);
        };
        let DataType::Categorical(_, mapping) = column.dtype() else {
            return Ok(false);
        };
        let physical = column.to_physical_repr();
        cols.push((physical.u32()?.rechunk().into_owned(), mapping.clone()));
    }
    let arrays: Vec<_> = cols.iter().map(|(ca, _)| ca.downcast_as_array()).collect();
    let code = |j: usize, i: usize| {
        let arr = arrays[j];
        if arr.validity().is_none_or(|v| v.get_bit(i)) {
            arr.values()[i]
        } else {
            NULL_CODE
        }
    };
    let rows: Vec<usize> = mask.ones().collect();
    let limit = (rows.len() / 4).max(1024);
    // Each row's place among the distinct combinations its rows hold.
    let mut index: PlHashMap<[u32; MAX_COMBINED], u32> = PlHashMap::new();
    let mut combos: Vec<[u32; MAX_COMBINED]> = Vec::new();
    let mut at: Vec<u32> = Vec::with_capacity(rows.len());
    for &i in &rows {
        let mut key = [NULL_CODE; MAX_COMBINED];
        for (j, k) in key.iter_mut().enumerate().take(arrays.len()) {
            *k = code(j, i);
        }
        let k = *index.entry(key).or_insert_with(|| {
            combos.push(key);
            (combos.len() - 1) as u32
        });
        if combos.len() > limit {
            return Ok(false);
        }
        at.push(k);
    }
    let mappings: Vec<&CategoricalMapping> = cols.iter().map(|c| c.1.as_ref()).collect();
    let res = eval_combos(
        side,
        &sources,
        &mappings,
        &combos,
        vec![e.clone().fill_null(lit(false)).alias("m")],
    )?;
    let table: Vec<bool> = res.column("m")?.bool()?.iter().map(|v| v.unwrap_or(false)).collect();
    for (&i, &k) in rows.iter().zip(&at) {
        if !table[k as usize] {
            mask.set(i, false);
        }
    }
    Ok(true)
}

/// Applies the remaining terms of a condition to the rows a mask still holds, one term at
/// a time (exact: a row is kept when every term is true), those that read no text first,
/// so that the costlier terms see fewer rows.
fn narrow(prep: &Prepared<'_>, rule: &Rule, side: Side, rest: &[String], mask: &mut RowMask) -> Result<()> {
    let rerr = |m: String| Error::Rule {
        rule_id: rule.id().to_string(),
        message: m,
    };
    let df = &prep.ds.transactions;
    let mut terms: Vec<(usize, Expr)> = Vec::with_capacity(rest.len());
    for t in rest {
        let e = expr::compile(t).map_err(rerr)?;
        let mut sources: Vec<String> = Vec::new();
        for name in e.clone().meta().root_names() {
            sources.extend(source_columns(name.as_str(), side));
        }
        sources.sort_unstable();
        sources.dedup();
        let text = sources
            .iter()
            .filter(|c| {
                df.column(c)
                    .is_ok_and(|c| matches!(c.dtype(), DataType::String | DataType::Categorical(..)))
            })
            .count();
        let lower = t.to_ascii_lowercase();
        let calls = ["regexp", "upper(", "lower(", "like"]
            .iter()
            .filter(|f| lower.contains(*f))
            .count();
        terms.push((text * 4 + calls, e));
    }
    terms.sort_by_key(|(cost, _)| *cost);
    for (_, cond) in terms {
        let rows: Vec<IdxSize> = mask.ones().map(|k| k as IdxSize).collect();
        if rows.is_empty() {
            return Ok(());
        }
        // Only the columns the term reads, for the rows left.
        let res = prep
            .side_frame(
                side,
                vec![cond.fill_null(lit(false)).alias("m")],
                Some(&rows),
                None,
                &[],
            )
            .map_err(|e| rerr(e.to_string().lines().next().unwrap_or("").to_string()))?;
        let b = res
            .column("m")
            .and_then(|c| c.bool().cloned())
            .map_err(|_| rerr("`where` must be true or false for each row".into()))?;
        for (k, v) in rows.iter().zip(b.iter()) {
            if v != Some(true) {
                mask.set(*k as usize, false);
            }
        }
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
    gather_rows_coded(prep, rows, cols, &[])
}

/// [`gather_rows`], with the columns named in `coded` left dictionary-encoded (polars'
/// categorical type): for a column whose values are only counted or compared for
/// equality, decoding millions of rows into text would be wasted work and memory.
pub(crate) fn gather_rows_coded(
    prep: &Prepared<'_>,
    rows: &[(u32, i64, u32, Side)],
    cols: &[String],
    coded: &[String],
) -> Result<DataFrame> {
    let mut parts: Vec<DataFrame> = Vec::new();
    let mut offsets = [0u32; 2];
    let mut offset = 0u32;
    for (k, side) in [Side::Out, Side::In].into_iter().enumerate() {
        let idx: Vec<IdxSize> = rows.iter().filter(|r| r.3 == side).map(|r| r.2 as IdxSize).collect();
        offsets[k] = offset;
        if !idx.is_empty() {
            offset += idx.len() as u32;
            parts.push(gather_coded(prep, side, cols, &idx, coded)?);
        }
    }
    if parts.len() <= 1 {
        return match parts.pop() {
            Some(p) => Ok(p),
            None => gather_coded(prep, Side::Out, cols, &[], coded),
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
    gather_coded(prep, side, cols, rows, &[])
}

fn gather_coded(
    prep: &Prepared<'_>,
    side: Side,
    cols: &[String],
    rows: &[IdxSize],
    coded: &[String],
) -> Result<DataFrame> {
    let exprs: Vec<Expr> = cols.iter().map(|c| col(c.as_str())).collect();
    prep.side_frame(side, exprs, Some(rows), None, coded)
        .ctx(|| "gathering columns".into())
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every condition of the shipped pack, evaluated in stages (first terms, terms read
    /// by value from dictionary-encoded columns, the rest one at a time on the rows left),
    /// keeps exactly the rows that evaluating it whole on every row keeps.
    #[test]
    fn staged_conditions_keep_what_whole_conditions_keep() {
        let cfg = redflag_synth::SynthConfig {
            seed: 5,
            transactions: 20_000,
            accounts: 1_500,
            days: 120,
            ..redflag_synth::SynthConfig::default()
        };
        let synth = redflag_synth::generate(&cfg).unwrap();
        // Some values missing, in a different pattern for each column.
        let holes: Vec<Expr> = [
            "orig_country",
            "bene_country",
            "channel",
            "loc_country",
            "orig_name",
            "mcc",
            "narrative",
        ]
        .iter()
        .enumerate()
        .map(|(j, c)| {
            when((col("__i") % lit(7 + j as u32)).eq(lit(3u32)))
                .then(lit(NULL).cast(DataType::String))
                .otherwise(col(*c))
                .alias(*c)
        })
        .collect();
        let df = synth
            .transactions
            .lazy()
            .with_row_index("__i", None)
            .with_columns(holes)
            .drop(by_name(["__i"], true, false))
            .collect()
            .unwrap();
        let ds = Dataset::from_frame(df, "t", &crate::IngestOptions::default()).unwrap();
        let pack = Pack::builtin().unwrap();
        let prep = Prepared::new(&ds).unwrap();
        let runnable: Vec<&Rule> = pack
            .rules
            .iter()
            .filter(|r| missing_columns(r, &ds.present).is_empty())
            .collect();
        let masks = condition_masks(&prep, &runnable).unwrap();
        let mut checked = 0;
        for ((i, k, side), mask) in &masks {
            let Some(sql) = runnable[*i].conditions[*k].sql.as_deref() else {
                continue;
            };
            let whole = expr::compile(sql).unwrap().fill_null(lit(false)).alias("m");
            let res = prep.side_frame(*side, vec![whole], None, None, &[]).unwrap();
            let expected: Vec<bool> = res
                .column("m")
                .unwrap()
                .bool()
                .unwrap()
                .iter()
                .map(|v| v.unwrap_or(false))
                .collect();
            let got: Vec<bool> = (0..mask.len()).map(|r| mask.get(r)).collect();
            assert_eq!(got, expected, "{} condition {k} on {side:?}: {sql}", runnable[*i].id());
            checked += 1;
        }
        assert!(checked > 40, "{checked}");
    }

    /// Screening a slice of accounts at a time finds exactly what screening them all at
    /// once finds, whatever the slice size (aggregate and baseline rules slice).
    #[test]
    fn account_slices_change_no_alert() {
        let cfg = redflag_synth::SynthConfig {
            seed: 11,
            transactions: 30_000,
            accounts: 2_000,
            days: 200,
            ..redflag_synth::SynthConfig::default()
        };
        let synth = redflag_synth::generate(&cfg).unwrap();
        let ds = Dataset::from_frame(synth.transactions, "t", &crate::IngestOptions::default()).unwrap();
        let pack = Pack::builtin().unwrap();
        let whole = {
            let prep = Prepared::new(&ds).unwrap();
            run(&pack, &prep, &|_, _, _| {}).unwrap()
        };
        assert!(whole.alerts.len() > 50, "{}", whole.alerts.len());
        for size in [50, 700, 5_000] {
            let mut prep = Prepared::new(&ds).unwrap();
            prep.slice_rows = size;
            let sliced = run(&pack, &prep, &|_, _, _| {}).unwrap();
            assert_eq!(sliced.alerts_per_rule, whole.alerts_per_rule, "slices of {size}");
            assert_eq!(sliced.alerts, whole.alerts, "slices of {size}");
        }
    }
}
