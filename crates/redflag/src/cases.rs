//! Cases: the alerts on one account, scored, explained and ranked.
//!
//! # The score
//!
//! Deterministic, from the alerts alone:
//!
//! - each alert weighs by its severity: low 1, medium 3, high 6, critical 10;
//! - the same rule firing again on the case adds half of what its previous alert added
//!   (1, ½, ¼, …), so a rule that fires a hundred times weighs at most twice what it weighs once;
//! - the sum is multiplied by 1 + 0.25 for each distinct typology beyond the first, since
//!   independent red flags corroborate each other;
//! - rounded to two decimals.
//!
//! The case's severity is the highest of its alerts'. Cases are ranked by score
//! (highest first), then by case id.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use polars::prelude::*;

use crate::error::{PolarsContext, Result};
use crate::model::{measure_factor, Alert, MeasurePart, ScorePart, ScoreWeights, Severity};
pub use crate::model::{Case, CaseTxn, MAX_LISTED_TXNS};
use crate::pack::Pack;
use crate::util::format;

/// The weight of one alert of a severity.
pub fn severity_weight(s: Severity) -> f64 {
    match s {
        Severity::Low => 1.0,
        Severity::Medium => 3.0,
        Severity::High => 6.0,
        Severity::Critical => 10.0,
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Scores a set of alerts (see the module docs).
pub fn score(alerts: &[Alert]) -> f64 {
    let mut per_rule: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for a in alerts {
        per_rule
            .entry(&a.rule_id)
            .or_default()
            .push(severity_weight(a.severity));
    }
    let mut sum = 0.0;
    for ws in per_rule.values() {
        let mut ws = ws.clone();
        ws.sort_by(|a, b| b.total_cmp(a));
        let mut factor = 1.0;
        for w in ws {
            sum += w * factor;
            factor *= 0.5;
        }
    }
    let typ: BTreeSet<&str> = alerts
        .iter()
        .flat_map(|a| a.typologies.iter().map(String::as_str))
        .collect();
    let bonus = 1.0 + 0.25 * (typ.len().saturating_sub(1)) as f64;
    round2(sum * bonus)
}

/// Each rule's part of the score before the typology bonus (its alerts' severity
/// weights, halved for each repeat), and the bonus.
fn rule_parts(alerts: &[Alert]) -> (BTreeMap<&str, f64>, f64) {
    let mut per_rule: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for a in alerts {
        per_rule
            .entry(&a.rule_id)
            .or_default()
            .push(severity_weight(a.severity));
    }
    let mut parts = BTreeMap::new();
    for (rule, ws) in per_rule {
        let mut ws = ws;
        ws.sort_by(|a, b| b.total_cmp(a));
        let mut factor = 1.0;
        let mut sum = 0.0;
        for w in ws {
            sum += w * factor;
            factor *= 0.5;
        }
        parts.insert(rule, sum);
    }
    let typ: BTreeSet<&str> = alerts
        .iter()
        .flat_map(|a| a.typologies.iter().map(String::as_str))
        .collect();
    let bonus = 1.0 + 0.25 * (typ.len().saturating_sub(1)) as f64;
    (parts, bonus)
}

/// Each rule's part of the score without weights: its alerts' severity weights, halved
/// for each repeat, times the typology bonus; by rule id. These are the features
/// `redflag tune` weighs.
pub fn base_parts(alerts: &[Alert]) -> BTreeMap<String, f64> {
    let (parts, bonus) = rule_parts(alerts);
    parts.into_iter().map(|(r, p)| (r.to_string(), p * bonus)).collect()
}

/// The score with weights, and each rule's part in it (highest contribution first, then
/// by rule id): the sum over the rules of weight × the rule's part without weights
/// ([`base_parts`]) and of its weighted measures' terms (weight × the rule's part ×
/// ln(1 + the measure's highest value among the rule's alerts)), rounded to two
/// decimals.
pub fn weighted_score(alerts: &[Alert], weights: &ScoreWeights) -> (f64, Vec<ScorePart>) {
    let mut sum = 0.0;
    let mut parts: Vec<ScorePart> = base_parts(alerts)
        .into_iter()
        .map(|(rule_id, base)| {
            let weight = weights.weight(&rule_id);
            let mut part = weight * base;
            let measures: Vec<MeasurePart> = weights
                .measures
                .get(&rule_id)
                .into_iter()
                .flatten()
                .map(|(measure, &w)| {
                    let (value, unweighted) = measure_term(alerts, &rule_id, measure, base);
                    let term = w * unweighted;
                    part += term;
                    MeasurePart {
                        measure: measure.clone(),
                        weight: w,
                        value: (value * 10_000.0).round() / 10_000.0,
                        contribution: round2(term),
                    }
                })
                .collect();
            sum += part;
            ScorePart {
                contribution: round2(part),
                base: round2(base),
                weight,
                rule_id,
                measures,
            }
        })
        .collect();
    parts.sort_by(|a, b| {
        b.contribution
            .total_cmp(&a.contribution)
            .then(a.rule_id.cmp(&b.rule_id))
    });
    (round2(sum), parts)
}

/// A measure's value in a case, the highest among the alerts of `rule_id` (0 when none
/// holds a number), and its term in the score before its weight: the rule's part
/// without weights `base` × ln(1 + value). What a weight multiplies, and what `tune`
/// fits it on.
pub fn measure_term(alerts: &[Alert], rule_id: &str, measure: &str, base: f64) -> (f64, f64) {
    let value = alerts
        .iter()
        .filter(|a| a.rule_id == rule_id)
        .filter_map(|a| a.measures.get(measure).and_then(serde_json::Value::as_f64))
        .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))))
        .unwrap_or(0.0);
    (value, base * measure_factor(value))
}

/// A text column's codes into the global categories, read in place by row.
struct CodeCol {
    codes: UInt32Chunked,
    mapping: Arc<CategoricalMapping>,
}

impl CodeCol {
    fn new(df: &DataFrame, name: &str) -> Result<CodeCol> {
        let c = df.column(name).ctx(|| format!("reading column `{name}`"))?;
        let c = if c.dtype().is_categorical() {
            c.clone()
        } else {
            c.cast(&crate::schema::compact_dtype())
                .ctx(|| format!("reading column `{name}`"))?
        };
        let DataType::Categorical(_, mapping) = c.dtype() else {
            return Err(crate::error::Error::Polars {
                context: format!("reading column `{name}`"),
                source: polars_err!(ComputeError: "the column is not dictionary-encoded"),
            });
        };
        let codes = c
            .to_physical_repr()
            .cast(&DataType::UInt32)
            .and_then(|p| p.u32().map(|ca| ca.rechunk().into_owned()))
            .ctx(|| format!("reading column `{name}`"))?;
        Ok(CodeCol {
            codes,
            mapping: mapping.clone(),
        })
    }

    /// Each row's code, `None` for a missing value.
    fn reader(&self) -> Box<dyn Fn(usize) -> Option<u32> + '_> {
        numbers(&self.codes)
    }

    fn text(&self, code: u32) -> &str {
        self.mapping.cat_to_str(code).unwrap_or("")
    }

    /// Row `i`'s text, `None` for a missing value or a row past the end.
    fn value(&self, i: usize) -> Option<&str> {
        if i >= self.codes.len() {
            return None;
        }
        let code = match self.codes.chunks().len() {
            // One chunk, as made: read in place.
            1 => {
                let arr = self.codes.downcast_as_array();
                arr.validity().is_none_or(|v| v.get_bit(i)).then(|| arr.value(i))
            }
            _ => self.codes.get(i),
        };
        code.map(|c| self.text(c))
    }
}

/// Each row's number (or dictionary code), `None` for a missing one: read from the values
/// in place when the column is one chunk, as the screened transactions' columns are.
pub(crate) fn numbers<T: PolarsNumericType>(ca: &ChunkedArray<T>) -> Box<dyn Fn(usize) -> Option<T::Native> + '_> {
    if ca.chunks().len() != 1 {
        return Box::new(|i| ca.get(i));
    }
    let arr = ca.downcast_as_array();
    let values = arr.values().as_slice();
    let valid = arr.validity();
    Box::new(move |i| valid.is_none_or(|v| v.get_bit(i)).then(|| values[i]))
}

/// The rows a case lists: all of them when they are at most [`MAX_LISTED_TXNS`], else
/// the first that many in (time, transaction id, row) order.
fn first_listed(mut rows: Vec<u32>, ts: &Int64Chunked, ids: &StringChunked) -> BTreeSet<u32> {
    rows.sort_unstable();
    rows.dedup();
    if rows.len() <= MAX_LISTED_TXNS {
        return rows.into_iter().collect();
    }
    // Those no later than the last time among the first by (time, row), ordered in full.
    let mut by_time: Vec<(i64, u32)> = rows
        .iter()
        .map(|&r| (ts.get(r as usize).unwrap_or(i64::MAX), r))
        .collect();
    by_time.select_nth_unstable(MAX_LISTED_TXNS - 1);
    let cut = by_time[MAX_LISTED_TXNS - 1].0;
    let mut head: Vec<(i64, &str, u32)> = by_time
        .iter()
        .filter(|x| x.0 <= cut)
        .map(|&(t, r)| (t, ids.get(r as usize).unwrap_or(""), r))
        .collect();
    head.sort_unstable();
    head.iter().take(MAX_LISTED_TXNS).map(|x| x.2).collect()
}

/// Groups alerts into ranked cases.
pub fn build(alerts: Vec<Alert>, txns: &DataFrame, pack: &Pack) -> Result<Vec<Case>> {
    // Every alerting row's part in its case is read in place, by row; only the rows a
    // case lists in detail are gathered, as text.
    let cols = RowCols::read(txns)?;
    let groups = group_by_accounts(alerts);
    // The transactions each case lists in detail: the first ones in time order.
    let listed: Vec<BTreeSet<u32>> = groups
        .iter()
        .map(|(_, alerts)| {
            first_listed(
                alerts.iter().flat_map(|a| a.rows.iter().copied()).collect(),
                &cols.ts,
                &cols.ids,
            )
        })
        .collect();
    let detail = Detail::gather(txns, &listed)?;
    let ctx = CaseContext {
        cols: &cols,
        detail: &detail,
        titles: pack.rules.iter().map(|r| (r.id(), r.def.title.as_str())).collect(),
        base_currency: &pack.base_currency,
        weights: pack.weights.as_deref(),
    };
    // Cases are independent: built on the worker threads, then put in order.
    type Group = (Vec<String>, Vec<Alert>);
    let groups: Vec<std::sync::Mutex<Option<Group>>> =
        groups.into_iter().map(|g| std::sync::Mutex::new(Some(g))).collect();
    let order: Vec<usize> = (0..groups.len()).collect();
    let mut built = crate::util::threads::run_parallel(&order, |g| {
        let taken = groups[g].lock().ok().and_then(|mut slot| slot.take());
        taken.map(|(accounts, alerts)| ctx.make(accounts, alerts, &listed[g]))
    });
    built.sort_by_key(|(g, _)| *g);
    let mut cases: Vec<Case> = built.into_iter().filter_map(|(_, c)| c).collect();
    rank(&mut cases);
    Ok(cases)
}

/// Orders each case's transactions by time and id, then ranks the cases by score
/// (highest first), then by case id.
fn rank(cases: &mut [Case]) {
    for c in cases.iter_mut() {
        c.transactions
            .sort_by(|a, b| a.ts.cmp(&b.ts).then(a.txn_id.cmp(&b.txn_id)));
    }
    cases.sort_by(|a, b| rank_order((a.score, &a.case_id), (b.score, &b.case_id)));
    for (i, c) in cases.iter_mut().enumerate() {
        c.rank = i + 1;
    }
}

/// The order of two cases given by their score and id: the higher score first, then the
/// lower id.
pub(crate) fn rank_order(a: (f64, &str), b: (f64, &str)) -> std::cmp::Ordering {
    b.0.total_cmp(&a.0).then(a.1.cmp(b.1))
}

/// The columns of the screened transactions that every alerting row is read from, in
/// place: ids, the accounts and countries as codes of one dictionary, amounts and times.
struct RowCols {
    ids: StringChunked,
    orig: CodeCol,
    bene: CodeCol,
    oc: CodeCol,
    bc: CodeCol,
    lc: CodeCol,
    amount: Float64Chunked,
    ts: Int64Chunked,
}

impl RowCols {
    /// Reads the columns; an error when the text columns are not coded in one dictionary.
    fn read(txns: &DataFrame) -> Result<RowCols> {
        let ids = txns
            .column("txn_id")
            .and_then(|c| c.str().cloned())
            .ctx(|| "reading column `txn_id`".into())?;
        let orig = CodeCol::new(txns, "orig_account")?;
        let bene = CodeCol::new(txns, "bene_account")?;
        let oc = CodeCol::new(txns, "orig_country")?;
        let bc = CodeCol::new(txns, "bene_country")?;
        let lc = CodeCol::new(txns, "loc_country")?;
        // One code space for all of them: the global categories.
        for c in [&bene, &oc, &bc, &lc] {
            if !Arc::ptr_eq(&c.mapping, &orig.mapping) {
                return Err(crate::error::Error::Polars {
                    context: "building the cases".into(),
                    source: polars_err!(ComputeError: "text columns coded in different dictionaries"),
                });
            }
        }
        let amount = txns
            .column("amount_base")
            .and_then(|c| c.f64().cloned())
            .ctx(|| "reading column `amount_base`".into())?;
        let ts = txns
            .column("ts")
            .and_then(|c| c.cast(&DataType::Int64))
            .and_then(|c| c.i64().cloned())
            .ctx(|| "reading column `ts`".into())?;
        Ok(RowCols {
            ids,
            orig,
            bene,
            oc,
            bc,
            lc,
            amount,
            ts,
        })
    }
}

/// The details of the transactions the cases list, gathered once (text columns as their
/// codes, turned into text for each transaction listed); `spos` gives a row's place among
/// them.
struct Detail {
    spos: PlHashMap<IdxSize, usize>,
    channel: CodeCol,
    ids: StringChunked,
    currency: CodeCol,
    on: CodeCol,
    bn: CodeCol,
    narrative: CodeCol,
    orig: CodeCol,
    bene: CodeCol,
    oc: CodeCol,
    bc: CodeCol,
    lc: CodeCol,
    ob: CodeCol,
    bb: CodeCol,
    amount_orig: Float64Chunked,
    amount: Float64Chunked,
    ts: Int64Chunked,
}

impl Detail {
    /// Gathers the rows listed by any case, in row order.
    fn gather(txns: &DataFrame, listed: &[BTreeSet<u32>]) -> Result<Detail> {
        let shown: Vec<IdxSize> = listed
            .iter()
            .flatten()
            .copied()
            .collect::<BTreeSet<u32>>()
            .into_iter()
            .map(|r| r as IdxSize)
            .collect();
        let spos: PlHashMap<IdxSize, usize> = shown.iter().enumerate().map(|(i, r)| (*r, i)).collect();
        let detail = txns
            .take(&IdxCa::from_vec("rows".into(), shown))
            .ctx(|| "gathering the listed transactions".into())?;
        let detail = &detail;
        let coded = |name: &str| CodeCol::new(detail, name);
        let number = |name: &str| -> Result<Float64Chunked> {
            detail
                .column(name)
                .and_then(|c| c.f64().map(|c| c.rechunk().into_owned()))
                .ctx(|| format!("reading column `{name}`"))
        };
        Ok(Detail {
            spos,
            channel: coded("channel")?,
            ids: detail
                .column("txn_id")
                .and_then(|c| c.cast(&DataType::String))
                .and_then(|c| c.str().map(|c| c.rechunk().into_owned()))
                .ctx(|| "reading column `txn_id`".into())?,
            currency: coded("currency")?,
            on: coded("orig_name")?,
            bn: coded("bene_name")?,
            narrative: coded("narrative")?,
            orig: coded("orig_account")?,
            bene: coded("bene_account")?,
            oc: coded("orig_country")?,
            bc: coded("bene_country")?,
            lc: coded("loc_country")?,
            ob: coded("orig_bank")?,
            bb: coded("bene_bank")?,
            amount_orig: number("amount")?,
            amount: number("amount_base")?,
            ts: detail
                .column("ts")
                .and_then(|c| c.cast(&DataType::Int64))
                .and_then(|c| c.i64().map(|c| c.rechunk().into_owned()))
                .ctx(|| "reading column `ts`".into())?,
        })
    }

    /// Row `r` of the input as a case lists it, with the rules that flagged it.
    fn txn(&self, r: u32, rule_ids: Vec<String>) -> CaseTxn {
        let r = self.spos.get(&r).copied().unwrap_or(usize::MAX);
        let own = |c: &CodeCol| c.value(r).map(str::to_string);
        CaseTxn {
            txn_id: self.ids.get(r).unwrap_or("").to_string(),
            ts: self.ts.get(r).map(format::timestamp).unwrap_or_default(),
            amount: self.amount_orig.get(r).unwrap_or(0.0),
            currency: self.currency.value(r).unwrap_or("").to_string(),
            amount_base: self.amount.get(r).unwrap_or(0.0),
            channel: own(&self.channel),
            orig_account: own(&self.orig),
            bene_account: own(&self.bene),
            orig_name: own(&self.on),
            bene_name: own(&self.bn),
            orig_country: own(&self.oc),
            bene_country: own(&self.bc),
            orig_bank: own(&self.ob),
            bene_bank: own(&self.bb),
            loc_country: own(&self.lc),
            narrative: own(&self.narrative),
            rule_ids,
        }
    }
}

/// What a case's rows add up to: its counterparties (`cash` for none) and countries,
/// sorted, its total in the base currency, and its first and last times.
struct Tally {
    counterparties: Vec<String>,
    countries: Vec<String>,
    total: f64,
    first: i64,
    last: i64,
}

/// What every case is built from: the row columns, the listed details, the rules' titles
/// and the base currency.
struct CaseContext<'a> {
    cols: &'a RowCols,
    detail: &'a Detail,
    titles: BTreeMap<&'a str, &'a str>,
    base_currency: &'a str,
    weights: Option<&'a ScoreWeights>,
}

impl CaseContext<'_> {
    /// One case from its accounts, its alerts and the rows it lists: alerts sorted by rule,
    /// time and id, the rows tallied, the listed transactions, scored and summarised.
    fn make(&self, accounts: Vec<String>, mut alerts: Vec<Alert>, listed: &BTreeSet<u32>) -> Case {
        alerts.sort_by(|a, b| {
            a.rule_id
                .cmp(&b.rule_id)
                .then(a.window_start.cmp(&b.window_start))
                .then(a.alert_id.cmp(&b.alert_id))
        });
        let mut rows: Vec<u32> = alerts.iter().flat_map(|a| a.rows.iter().copied()).collect();
        rows.sort_unstable();
        rows.dedup();
        let tally = self.tally(&accounts, &rows);
        let transactions = self.listed_txns(&alerts, listed, rows.len());
        let severity = alerts.iter().map(|a| a.severity).max().unwrap_or(Severity::Low);
        let typologies: Vec<String> = alerts
            .iter()
            .flat_map(|a| a.typologies.iter().cloned())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let rule_ids: Vec<String> = alerts
            .iter()
            .map(|a| a.rule_id.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let (score, score_parts) = match self.weights {
            Some(w) => weighted_score(&alerts, w),
            None => (score(&alerts), Vec::new()),
        };
        let summary = self.summary(&accounts, &alerts, &rule_ids, &typologies, &tally, rows.len());
        let case_id = format!(
            "C-{}",
            &crate::util::hash::sha256_hex(accounts.join("\u{1f}").as_bytes())[..12]
        );
        Case {
            case_id,
            rank: 0,
            accounts,
            score,
            severity,
            typologies,
            rule_ids,
            first_ts: format::timestamp(tally.first),
            last_ts: format::timestamp(tally.last),
            txn_count: rows.len(),
            total_amount_base: round2(tally.total),
            counterparties: tally.counterparties,
            countries: tally.countries,
            summary,
            transactions,
            alerts,
            score_parts,
        }
    }

    /// Reads each of the case's rows in place: its counterparties (the other side of a
    /// single account's transactions; for several accounts, the outside side of a
    /// transfer), its countries, total, first and last times.
    fn tally(&self, accounts: &[String], rows: &[u32]) -> Tally {
        let RowCols {
            orig,
            bene,
            oc,
            bc,
            lc,
            amount,
            ts,
            ..
        } = self.cols;
        // Distinct codes first (`None`: cash), turned into text and sorted once at the end.
        let (o_code, b_code) = (orig.reader(), bene.reader());
        let country_codes = [oc.reader(), bc.reader(), lc.reader()];
        let case_codes: PlHashSet<u32> = accounts.iter().filter_map(|a| orig.mapping.get_cat(a)).collect();
        let single = (accounts.len() == 1).then(|| case_codes.iter().next().copied());
        let mut counterparties: PlHashSet<Option<u32>> = PlHashSet::new();
        let mut countries: PlHashSet<u32> = PlHashSet::new();
        let (amount, ts) = (numbers(amount), numbers(ts));
        let mut total = 0.0;
        let mut first = i64::MAX;
        let mut last = i64::MIN;
        for &r in rows {
            let p = r as usize;
            let o = o_code(p);
            let b = b_code(p);
            if let Some(me) = single {
                let other = if me.is_some() && o == me { b } else { o };
                counterparties.insert(other);
            } else {
                // A transfer between two of the case's accounts has no outside party.
                let inside = |x: Option<u32>| x.is_some_and(|x| case_codes.contains(&x));
                for (x, y) in [(o, b), (b, o)] {
                    if inside(x) && !inside(y) {
                        counterparties.insert(y);
                    }
                }
            }
            for c in country_codes.iter().filter_map(|read| read(p)) {
                countries.insert(c);
            }
            total += amount(p).unwrap_or(0.0);
            if let Some(t) = ts(p) {
                first = first.min(t);
                last = last.max(t);
            }
        }
        let sorted = |texts: Vec<&str>| -> Vec<String> {
            let mut v: Vec<String> = texts.into_iter().map(str::to_string).collect();
            v.sort_unstable();
            v.dedup();
            v
        };
        Tally {
            counterparties: sorted(
                counterparties
                    .into_iter()
                    .map(|c| c.map(|c| orig.text(c)).unwrap_or("cash"))
                    .collect(),
            ),
            countries: sorted(countries.into_iter().map(|c| oc.text(c)).collect()),
            total,
            first,
            last,
        }
    }

    /// The transactions the case lists, in row order, each with the rules that flagged it.
    fn listed_txns(&self, alerts: &[Alert], listed: &BTreeSet<u32>, n_rows: usize) -> Vec<CaseTxn> {
        let mut rules_by_row: BTreeMap<u32, BTreeSet<&str>> = BTreeMap::new();
        for a in alerts {
            for r in a.rows.iter().filter(|r| listed.contains(r)) {
                rules_by_row.entry(*r).or_default().insert(a.rule_id.as_str());
            }
        }
        let mut transactions = Vec::with_capacity(n_rows.min(MAX_LISTED_TXNS));
        for &r in listed {
            let rules_of: Vec<String> = rules_by_row
                .get(&r)
                .map(|s| s.iter().map(|x| x.to_string()).collect())
                .unwrap_or_default();
            transactions.push(self.detail.txn(r, rules_of));
        }
        transactions
    }

    /// The case's summary: accounts, alerts and rules (with their titles), period, rows,
    /// total, countries and typologies.
    fn summary(
        &self,
        accounts: &[String],
        alerts: &[Alert],
        rule_ids: &[String],
        typologies: &[String],
        tally: &Tally,
        n_rows: usize,
    ) -> String {
        let account = accounts.join(", ");
        let rule_words: Vec<String> = rule_ids
            .iter()
            .map(|id| {
                let n = alerts.iter().filter(|a| &a.rule_id == id).count();
                let t = self.titles.get(id.as_str()).copied().unwrap_or("");
                if n > 1 {
                    format!("{id} {} ({n}×)", t.to_lowercase())
                } else {
                    format!("{id} {}", t.to_lowercase())
                }
            })
            .collect();
        format!(
            "Account{} {account}: {} alert{} from {} rule{} ({}) between {} and {}, over {} transaction{} totalling {} {}{}. Typologies: {}. Red flags are signals to weigh, not findings of wrongdoing.",
            plural(accounts.len()),
            alerts.len(),
            plural(alerts.len()),
            rule_ids.len(),
            plural(rule_ids.len()),
            rule_words.join("; "),
            format::date(tally.first),
            format::date(tally.last),
            n_rows,
            plural(n_rows),
            format::number(tally.total),
            self.base_currency,
            if tally.countries.is_empty() {
                String::new()
            } else {
                format!(", involving {}", tally.countries.join(", "))
            },
            typologies.join(", ")
        )
    }
}

/// Groups alerts into cases: the alerts on one account, and through network alerts the
/// alerts on every account they link, transitively. Each group's accounts are sorted, and
/// groups come in the order of their first account.
fn group_by_accounts(alerts: Vec<Alert>) -> Vec<(Vec<String>, Vec<Alert>)> {
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    for a in &alerts {
        for acc in std::iter::once(&a.account).chain(&a.linked_accounts) {
            let next = index.len();
            index.entry(acc.clone()).or_insert(next);
        }
    }
    let mut parent: Vec<usize> = (0..index.len()).collect();
    fn find(parent: &mut [usize], mut x: usize) -> usize {
        while parent[x] != x {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        x
    }
    for a in &alerts {
        let root = index[a.account.as_str()];
        for l in &a.linked_accounts {
            let (x, y) = (find(&mut parent, root), find(&mut parent, index[l.as_str()]));
            if x != y {
                parent[x.max(y)] = x.min(y);
            }
        }
    }
    let mut members: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for (acc, i) in &index {
        members.entry(find(&mut parent, *i)).or_default().push(acc.clone());
    }
    let mut groups: BTreeMap<usize, Vec<Alert>> = BTreeMap::new();
    for a in alerts {
        let root = find(&mut parent, index[a.account.as_str()]);
        groups.entry(root).or_default().push(a);
    }
    let mut out: Vec<(Vec<String>, Vec<Alert>)> = groups
        .into_iter()
        .map(|(root, alerts)| (members.remove(&root).unwrap_or_default(), alerts))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(rule: &str, sev: Severity, typ: &[&str]) -> Alert {
        Alert {
            alert_id: format!("A-{rule}"),
            rule_id: rule.into(),
            kind: "filter".into(),
            severity: sev,
            typologies: typ.iter().map(|s| s.to_string()).collect(),
            account: "X".into(),
            side: crate::model::SideSel::In,
            window_start: String::new(),
            window_end: String::new(),
            txn_ids: vec![],
            measures: BTreeMap::new(),
            explanation: String::new(),
            linked_accounts: Vec::new(),
            rows: vec![],
        }
    }

    /// A case lists the first transactions by time, then id, ties at the cut included.
    #[test]
    fn a_case_lists_the_first_transactions() {
        let n = 5_000u32;
        // Few distinct times: many ties, also at the cut; ids out of row order.
        let ts: Int64Chunked = (0..n).map(|r| Some(((r * 7_919) % 13) as i64)).collect();
        let ids: StringChunked = (0..n)
            .map(|r| Some(format!("T{:05}", (r * 104_729) % 99_991)))
            .collect();
        let rows: Vec<u32> = (0..n).rev().chain(0..100).collect();
        let mut all: Vec<(i64, String, u32)> = (0..n)
            .map(|r| (ts.get(r as usize).unwrap(), ids.get(r as usize).unwrap().to_string(), r))
            .collect();
        all.sort();
        let expected: BTreeSet<u32> = all.iter().take(MAX_LISTED_TXNS).map(|x| x.2).collect();
        assert_eq!(first_listed(rows, &ts, &ids), expected);
        let few: Vec<u32> = vec![9, 3, 3, 7];
        assert_eq!(first_listed(few, &ts, &ids), BTreeSet::from([3, 7, 9]));
    }

    #[test]
    fn repeats_weigh_less_and_typologies_more() {
        let one = score(&[alert("A", Severity::High, &["money-laundering"])]);
        assert_eq!(one, 6.0);
        let twice = score(&[
            alert("A", Severity::High, &["money-laundering"]),
            alert("A", Severity::High, &["money-laundering"]),
        ]);
        assert_eq!(twice, 9.0);
        let many: Vec<Alert> = (0..50)
            .map(|_| alert("A", Severity::High, &["money-laundering"]))
            .collect();
        assert!(score(&many) <= 12.0 && score(&many) > 11.9);
        let two_typ = score(&[
            alert("A", Severity::High, &["money-laundering"]),
            alert("B", Severity::Low, &["terrorist-financing"]),
        ]);
        assert_eq!(two_typ, 8.75);
    }
}
