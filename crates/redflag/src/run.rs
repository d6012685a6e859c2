//! The run of every rule of a pack over the prepared data: which rules can run on the
//! columns present, their row conditions, and each rule on the worker threads, heaviest
//! first; each writes to its own slot, so the result does not depend on the thread count.

use std::collections::BTreeSet;

use polars::prelude::*;

use crate::engine::{condition_masks, Prepared, Scope};
use crate::error::{Error, Result};
use crate::model::{Alert, Degraded, Dropped, LimitNote, NotApplicable, Rule, RuleRun};
use crate::pack::Pack;
use crate::schema;
use crate::util::cancel::Cancel;
use crate::util::threads::run_parallel_apart;

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

/// The canonical columns a screening with `pack` reads: the columns its rules read, by
/// their conditions, measures, explanations and kinds, with those every screening reads
/// ([`schema::ALWAYS_READ`]). What [`crate::IngestOptions::columns`] takes, so that ingest
/// decodes nothing the pack does not read.
pub fn columns_read(pack: &Pack) -> Vec<String> {
    let mut read: BTreeSet<&str> = schema::ALWAYS_READ.iter().copied().collect();
    for r in &pack.rules {
        for c in &r.columns {
            read.extend(schema::sources_of(c));
            if schema::col_type(c).is_some() {
                read.extend(schema::CANONICAL.iter().map(|(n, _)| *n).filter(|n| n == c));
            }
        }
    }
    schema::CANONICAL
        .iter()
        .map(|(n, _)| *n)
        .filter(|n| read.contains(n))
        .map(str::to_string)
        .collect()
}

/// The first rule of `rules` that reads a column the data holds as nulls because ingest
/// left it unread ([`crate::Dataset::columns_read`]), and that column.
fn unread_column<'r>(rules: &[&'r Rule], prep: &Prepared<'_>) -> Option<(&'r Rule, String)> {
    let read = prep.columns_read()?;
    rules.iter().find_map(|r| {
        r.columns
            .iter()
            .flat_map(|c| schema::sources_of(c))
            .find(|s| prep.present_columns().iter().any(|p| p == s) && !read.iter().any(|x| x == s))
            .map(|s| (*r, s.to_string()))
    })
}

/// What a rule can do on the data's columns.
#[derive(Debug, Clone)]
pub enum Applicability {
    /// It runs as written.
    Full,
    /// It runs without some of its parts, which read columns the data lacks: the rule as
    /// it runs, and what was dropped.
    Partial(Box<Rule>, Vec<Dropped>),
    /// It cannot run: its core reads a column the data lacks, or its watch list is not bound.
    NotApplicable(NotApplicable),
}

/// What a rule can do on data with the canonical columns `present`: the one place that
/// decides it (docs/packs.md, "When the data lacks a column"). A rule runs as written
/// when the data has every column it reads (those of `optional_columns` may be absent:
/// they read as empty). Otherwise the parts that read a missing column and may be
/// dropped are dropped (an alternative of `any_of`, a measure that only the explanation
/// or a dropped alternative uses, a `where` term marked `optional(...)`) and the rule is
/// partial; when what is left still reads a missing column, or nothing may be dropped,
/// it is not applicable, with the columns its core lacks.
pub fn applicability(pack: &Pack, rule: &Rule, present: &[String]) -> Applicability {
    if let Some(list) = crate::kinds::of(rule).watch_list(rule) {
        if !pack.watch_lists.contains_key(list) {
            return Applicability::NotApplicable(NotApplicable {
                rule_id: rule.id().to_string(),
                missing_columns: vec![format!(
                    "a watch list bound as `{0}` (UN Consolidated List XML, OpenSanctions \
                     targets.simple.csv or a CSV with name, aliases, birth_date, country, list, reference)",
                    list
                )],
                unbound_list: Some(list.to_string()),
            });
        }
    }
    let missing = missing_columns(rule, present);
    if missing.is_empty() {
        return Applicability::Full;
    }
    let not_applicable = |missing_columns: Vec<String>| {
        Applicability::NotApplicable(NotApplicable {
            rule_id: rule.id().to_string(),
            missing_columns,
            unbound_list: None,
        })
    };
    match pack.degrade(rule, &missing.iter().cloned().collect()) {
        Some((degraded, dropped)) => {
            let core = missing_columns(&degraded, present);
            if core.is_empty() {
                Applicability::Partial(Box::new(degraded), dropped)
            } else {
                not_applicable(core)
            }
        }
        None => not_applicable(missing),
    }
}

/// Runs every rule of the pack over prepared data; a rule not yet started when `cancel`
/// is set does not start, and the run ends with [`Error::Cancelled`].
pub fn run(
    pack: &Pack,
    prep: &Prepared<'_>,
    progress: &(dyn Fn(&str, usize, usize) + Sync),
    cancel: &Cancel,
) -> Result<RuleRun> {
    run_in(pack, prep, progress, cancel, None)
}

/// Runs the rules of `pack`, each of which screens other rules' alerts (`on_alerts_of`),
/// on `sources`: alerts found before on the same transactions, their rows numbered as in
/// `prep` (a sharded run's merge runs them so, on the transactions the alerts hold).
pub(crate) fn run_on_alerts(pack: &Pack, prep: &Prepared<'_>, sources: &[Alert], cancel: &Cancel) -> Result<RuleRun> {
    run_in(pack, prep, &|_, _, _| {}, cancel, Some(sources))
}

/// The (account key, row) pairs a rule screening `alerts` may see: each alert's rows, on
/// its account and on the accounts it links.
fn allowed_rows<'a>(
    keys: &PlHashMap<&str, u32>,
    alerts: impl Iterator<Item = &'a Alert>,
) -> std::collections::HashSet<(u32, u32)> {
    let mut set = std::collections::HashSet::new();
    for a in alerts {
        for acct in std::iter::once(&a.account).chain(a.linked_accounts.iter()) {
            if let Some(&k) = keys.get(acct.as_str()) {
                set.extend(a.rows.iter().map(|row| (k, *row)));
            }
        }
    }
    set
}

/// What the rules of `pack` that compare accounts with their peers take from the
/// accounts `prep` screens for the statistics of their peer groups
/// ([`crate::kinds::Kind::peer_values`]); a partition adds up every shard's.
pub(crate) fn peer_tally(pack: &Pack, prep: &Prepared<'_>) -> Result<crate::kinds::PeerTally> {
    let mut tally = crate::kinds::PeerTally::default();
    let plans = applicabilities(pack, prep, &mut RuleRun::default());
    let runnable = runnable_rules(pack, &plans, prep)?;
    let peers: Vec<usize> = (0..runnable.len())
        .filter(|&i| crate::kinds::of(runnable[i]).compares_with_peers(runnable[i]))
        .collect();
    if peers.is_empty() {
        return Ok(tally);
    }
    let masks = condition_masks(prep, &runnable)?;
    for i in peers {
        let scope = Scope::new(prep, &masks, i, None, &pack.watch_lists);
        crate::kinds::of(runnable[i]).peer_values(runnable[i], &scope, &mut tally)?;
    }
    Ok(tally)
}

/// Whether some condition of a rule of `pack` keeps each row of `prep`, on any side;
/// `None` when a rule reads every row (a condition-free slot).
pub(crate) fn kept_rows(pack: &Pack, prep: &Prepared<'_>) -> Result<Option<Vec<bool>>> {
    let plans = applicabilities(pack, prep, &mut RuleRun::default());
    let runnable = runnable_rules(pack, &plans, prep)?;
    let every_row = |r: &&Rule| r.conditions.is_empty() || r.conditions.iter().any(|c| c.sql.is_none());
    if runnable.iter().any(every_row) {
        return Ok(None);
    }
    let masks = condition_masks(prep, &runnable)?;
    let mut keep = vec![false; prep.times().len()];
    for m in masks.values() {
        for (i, k) in keep.iter_mut().enumerate() {
            *k = *k || m.get(i);
        }
    }
    Ok(Some(keep))
}

/// What each rule of `pack` can do on the columns `prep` has; those run in part and
/// those that cannot run are recorded in `out`.
fn applicabilities(pack: &Pack, prep: &Prepared<'_>, out: &mut RuleRun) -> Vec<Applicability> {
    let plans: Vec<Applicability> = pack
        .rules
        .iter()
        .map(|r| applicability(pack, r, prep.present_columns()))
        .collect();
    for (r, plan) in pack.rules.iter().zip(&plans) {
        match plan {
            Applicability::Full => {}
            Applicability::Partial(_, dropped) => out.degraded.push(Degraded {
                rule_id: r.id().to_string(),
                dropped: dropped.clone(),
            }),
            Applicability::NotApplicable(na) => out.not_applicable.push(na.clone()),
        }
    }
    plans
}

/// The rules of `pack` that run, as they run (`plans`: [`applicabilities`]); fails when
/// one reads a column the data was read without.
fn runnable_rules<'p>(pack: &'p Pack, plans: &'p [Applicability], prep: &Prepared<'_>) -> Result<Vec<&'p Rule>> {
    let mut runnable: Vec<&Rule> = Vec::new();
    for (r, plan) in pack.rules.iter().zip(plans) {
        match plan {
            Applicability::Full => runnable.push(r),
            Applicability::Partial(degraded, _) => runnable.push(degraded),
            Applicability::NotApplicable(_) => {}
        }
    }
    if let Some((rule, column)) = unread_column(&runnable, prep) {
        return Err(Error::Rule {
            rule_id: rule.id().to_string(),
            message: format!(
                "it reads column `{column}`, which the data was read without: ingest with \
                 `IngestOptions::columns` set to `redflag::columns_read` of this pack, or with all columns"
            ),
        });
    }
    Ok(runnable)
}

fn run_in(
    pack: &Pack,
    prep: &Prepared<'_>,
    progress: &(dyn Fn(&str, usize, usize) + Sync),
    cancel: &Cancel,
    sources: Option<&[Alert]>,
) -> Result<RuleRun> {
    let mut out = RuleRun::default();
    let plans = applicabilities(pack, prep, &mut out);
    let runnable = runnable_rules(pack, &plans, prep)?;
    let t_conditions = std::time::Instant::now();
    let masks = condition_masks(prep, &runnable)?;
    if cancel.is_cancelled() {
        return Err(Error::Cancelled);
    }
    out.timings.push(("conditions".into(), t_conditions.elapsed()));
    let total = runnable.len();
    // Rules that screen other rules' alerts (`on_alerts_of`) run after all the others.
    let (first, after): (Vec<usize>, Vec<usize>) =
        (0..runnable.len()).partition(|&i| runnable[i].def.on_alerts_of.is_empty());
    type Outcome = Result<(Vec<Alert>, std::time::Duration, Vec<(u64, String, String)>)>;
    let mut per_rule: Vec<Option<Outcome>> = (0..runnable.len()).map(|_| None).collect();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let run_one = |i: usize, allowed: Option<&std::collections::HashSet<(u32, u32)>>| {
        let r = runnable[i];
        if cancel.is_cancelled() {
            return Err(Error::Cancelled);
        }
        let scope = Scope::new(prep, &masks, i, allowed, &pack.watch_lists);
        let t_rule = std::time::Instant::now();
        let res = crate::kinds::run(r, &scope).map(|a| (a, t_rule.elapsed(), scope.take_limits()));
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
    // Rules that hold every account at once run one at a time, beside the others.
    let apart = |i: usize| crate::kinds::of(runnable[i]).holds_every_account(runnable[i]);
    for (i, res) in run_parallel_apart(&queue, apart, |i| run_one(i, None)) {
        per_rule[i] = Some(res);
    }
    // The first error in pack order, whichever thread met it first.
    if let Some(&i) = first.iter().find(|&&i| matches!(per_rule[i], Some(Err(_)))) {
        if let Some(Err(e)) = per_rule[i].take() {
            return Err(e);
        }
    }
    if !after.is_empty() {
        let keys = prep.account_keys();
        for &i in &after {
            let r = runnable[i];
            let screened = |id: &str| crate::model::matches_any(id, &r.def.on_alerts_of);
            let set = match sources {
                Some(given) => allowed_rows(&keys, given.iter().filter(|a| screened(&a.rule_id))),
                None => allowed_rows(
                    &keys,
                    first
                        .iter()
                        .filter(|&&j| screened(runnable[j].id()))
                        .filter_map(|&j| match &per_rule[j] {
                            Some(Ok((alerts, _, _))) => Some(alerts.iter()),
                            _ => None,
                        })
                        .flatten(),
                ),
            };
            per_rule[i] = Some(run_one(i, Some(&set)));
        }
    }
    out.timings.push(("rules".into(), t_rules.elapsed()));
    for (i, r) in runnable.iter().enumerate() {
        let (mut alerts, took, limits) = match per_rule[i].take() {
            Some(res) => res?,
            None => (Vec::new(), std::time::Duration::ZERO, Vec::new()),
        };
        out.search_limits
            .extend(limits.into_iter().map(|(count, one, many)| LimitNote {
                rule_id: r.id().to_string(),
                count,
                one,
                many,
            }));
        out.timings.push((r.id().to_string(), took));
        out.alerts_per_rule.insert(r.id().to_string(), alerts.len());
        out.alerts.append(&mut alerts);
        out.rules_run.push(r.id().to_string());
    }
    progress("", total, total);
    Ok(out)
}

/// How heavy a rule's kind usually is, to start the heaviest first.
fn cost_rank(r: &Rule) -> u8 {
    crate::kinds::of(r).cost(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Prepared;
    use crate::ingest::Dataset;

    /// Screening a slice of accounts at a time finds exactly what screening them all at
    /// once finds, whatever the slice size (aggregate and baseline rules slice; baseline
    /// rules with peers measure their units a slice's rows at a time).
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
            run(&pack, &prep, &|_, _, _| {}, &Cancel::new()).unwrap()
        };
        assert!(whole.alerts.len() > 50, "{}", whole.alerts.len());
        for size in [50, 700, 5_000] {
            let mut prep = Prepared::new(&ds).unwrap();
            prep.set_slice_rows(size);
            let sliced = run(&pack, &prep, &|_, _, _| {}, &Cancel::new()).unwrap();
            assert_eq!(sliced.alerts_per_rule, whole.alerts_per_rule, "slices of {size}");
            assert_eq!(sliced.alerts, whole.alerts, "slices of {size}");
        }
    }
}
