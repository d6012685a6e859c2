//! The merge: the shards' alerts joined and their cases built once, as a single run
//! builds them.

use std::path::PathBuf;

use polars::prelude::*;

use super::unit::{concat_rows, ShardAlert, ShardInfo, ShardRun};
use super::{pack_fingerprint, shard_dataset, PartitionInfo, ROW};
use crate::cases::Case;
use crate::error::{Error, PolarsContext, Result};
use crate::ingest::Dataset;
use crate::model::{Alert, LimitNote, RuleRun};
use crate::pack::Pack;

/// What the merge of a partition's shard runs found: what a single run of the same
/// inputs and pack finds.
#[derive(Debug, Clone)]
pub struct Merged {
    /// Ranked cases.
    pub cases: Vec<Case>,
    /// The rules' run, its alerts moved into the cases.
    pub run: RuleRun,
    /// Distinct accounts seen.
    pub accounts: usize,
    /// The inputs as the manifest describes them, the quarantine, and the transactions
    /// the alerts hold.
    pub data: Dataset,
    /// The partition.
    pub partition: PartitionInfo,
}

/// Merges the outputs of every shard of one partition (`redflag screen DIR --shard I/N`,
/// in any order) with `pack`, the pack the partition was made for.
pub fn merge(outputs: &[PathBuf], pack: &Pack, threads: Option<usize>) -> Result<Merged> {
    let runs: Vec<ShardRun> = outputs.iter().map(|d| ShardRun::read(d)).collect::<Result<_>>()?;
    let names: Vec<String> = outputs.iter().map(|d| d.display().to_string()).collect();
    merge_runs(runs, &names, pack, threads)
}

/// Merges the runs of every part of one partition ([`super::screen_work`]), named by
/// `names` in errors, with `pack`, the pack the partition was made for.
pub fn merge_runs(runs: Vec<ShardRun>, names: &[String], pack: &Pack, threads: Option<usize>) -> Result<Merged> {
    let infos: Vec<&ShardInfo> = runs.iter().map(|r| &r.info).collect();
    let partition = check_complete(names, &infos, pack)?;
    let accounts = infos.iter().map(|i| i.accounts as usize).sum();
    let mut infos: Vec<ShardInfo> = infos.into_iter().cloned().collect();
    crate::util::threads::with_threads(threads, || {
        let mut alerts: Vec<ShardAlert> = Vec::new();
        let mut frames = Vec::new();
        let mut quarantine = None;
        for r in runs {
            alerts.extend(r.alerts);
            frames.push(r.transactions);
            quarantine = quarantine.or(r.quarantine);
        }
        let (mut data, rows) = held_rows(frames, &partition, threads)?;
        data.quarantine = quarantine.ok_or_else(|| Error::Shard {
            path: PathBuf::from(names.first().map_or("", String::as_str)),
            message: "no shard run carries the partition's quarantine (shard 0's does)".into(),
        })?;
        let mut alerts = renumber(alerts, &rows);
        let late = late_rules(pack, &partition, &data, &alerts)?;
        alerts.extend(late.alerts.iter().cloned());
        infos.push(late.info);
        let run = merged_run(pack, &infos.iter().collect::<Vec<_>>());
        let cases = crate::cases::build(alerts, &data.transactions, pack)?;
        Ok(Merged {
            cases,
            run,
            accounts,
            data,
            partition,
        })
    })
}

/// What the merge's own rules found.
pub(super) struct Late {
    pub(super) alerts: Vec<Alert>,
    pub(super) info: ShardInfo,
}

/// The rules that screen other rules' alerts and read only the rows those hold
/// ([`super::Plan::late`]), run on the transactions every alert holds, as a single run
/// runs them after the others.
pub(super) fn late_rules(pack: &Pack, partition: &PartitionInfo, data: &Dataset, alerts: &[Alert]) -> Result<Late> {
    let plan = super::plan(pack);
    let mut late = pack.clone();
    late.rules.retain(|r| plan.late.iter().any(|id| id == r.id()));
    let run = if late.rules.is_empty() {
        RuleRun::default()
    } else {
        let prep = crate::engine::Prepared::new(data)?;
        crate::run::run_on_alerts(&late, &prep, alerts, &crate::util::cancel::Cancel::new())?
    };
    Ok(Late {
        info: ShardInfo {
            partition: partition.clone(),
            index: None,
            cross: false,
            accounts: 0,
            rules_run: run.rules_run,
            not_applicable: run.not_applicable,
            degraded: run.degraded,
            alerts_per_rule: run.alerts_per_rule,
            search_limits: run.search_limits,
        },
        alerts: run.alerts,
    })
}

/// The runs must be of one partition made for this pack: each shard exactly once, the
/// cross-account stage once when the pack has rules for it.
pub(super) fn check_complete(names: &[String], infos: &[&ShardInfo], pack: &Pack) -> Result<PartitionInfo> {
    let problem = |name: &str, message: String| Error::Shard {
        path: PathBuf::from(name),
        message,
    };
    let Some(first) = infos.first() else {
        return Err(problem(".", "no shard outputs to merge".into()));
    };
    let n = first.partition.shards;
    let mut seen: Vec<Option<&str>> = vec![None; n as usize];
    let mut cross: Option<&str> = None;
    for (name, info) in names.iter().zip(infos) {
        if info.partition.id != first.partition.id {
            return Err(problem(
                name,
                format!(
                    "a shard of another partition than {}'s: merge the outputs of one partition",
                    names[0]
                ),
            ));
        }
        if info.cross {
            if let Some(other) = cross.replace(name) {
                return Err(problem(
                    name,
                    format!("the cross-account stage is also in {other}: give it once"),
                ));
            }
        }
        let Some(index) = info.index else { continue };
        match seen.get_mut(index as usize) {
            Some(Some(other)) => {
                return Err(problem(
                    name,
                    format!("shard {index} is also in {other}: give each shard once"),
                ))
            }
            Some(slot) => *slot = Some(name),
            None => return Err(problem(name, format!("shard {index} of {n}"))),
        }
    }
    let missing: Vec<String> = (0..n)
        .filter(|&i| seen[i as usize].is_none())
        .map(|i| i.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(problem(
            &names[0],
            format!(
                "the partition has {n} shards; missing: shard {} (redflag screen PARTITION --shard I/{n})",
                missing.join(", ")
            ),
        ));
    }
    if cross.is_none() && !first.partition.cross_rules.is_empty() {
        return Err(problem(
            &names[0],
            "the cross-account stage's run is missing (shard 0 runs it)".into(),
        ));
    }
    if first.partition.pack != pack_fingerprint(pack) {
        return Err(problem(
            &names[0],
            "the shards were screened with another pack, parameters, lists or rule selection: merge \
             with the --rules, --set, --list, --only and --weights they were screened with"
                .into(),
        ));
    }
    Ok(first.partition.clone())
}

/// The transactions the alerts hold, each once, in the single run's order, as a dataset
/// described as the partition's inputs; and their rows in the single run.
pub(super) fn held_rows(
    frames: Vec<DataFrame>,
    partition: &PartitionInfo,
    threads: Option<usize>,
) -> Result<(Dataset, Vec<u64>)> {
    let all = concat_rows(frames)?;
    let rows: Vec<u64> = all
        .column(ROW)
        .and_then(|c| c.cast(&DataType::UInt64))
        .and_then(|c| c.u64().cloned())
        .ctx(|| "reading the shards' alerting rows".into())?
        .into_no_null_iter()
        .collect();
    // Each row once, in the single run's order.
    let mut order: Vec<u32> = (0..rows.len() as u32).collect();
    order.sort_by_key(|&i| rows[i as usize]);
    order.dedup_by_key(|i| rows[*i as usize]);
    let idx = IdxCa::from_vec("idx".into(), order.into_iter().map(|i| i as IdxSize).collect());
    let unique = all.take(&idx).ctx(|| "joining the shards' alerting rows".into())?;
    shard_dataset(&super::PartData::Frame(unique), partition, "merge", threads, None)
}

/// Alerts with their rows numbered as in the held transactions (`rows`: the single run's
/// row of each).
pub(super) fn renumber(alerts: Vec<ShardAlert>, rows: &[u64]) -> Vec<Alert> {
    alerts
        .into_iter()
        .map(|mut s| {
            s.alert.rows = s
                .global_rows
                .iter()
                .filter_map(|g| rows.binary_search(g).ok().map(|i| i as u32))
                .collect();
            s.alert
        })
        .collect()
}

/// The shards' runs as one, in pack order: rules run, not applicable and partial once
/// each, alerts and limits added up.
pub(super) fn merged_run(pack: &Pack, infos: &[&ShardInfo]) -> RuleRun {
    let mut run = RuleRun::default();
    for r in &pack.rules {
        let id = r.id();
        if infos.iter().any(|i| i.rules_run.iter().any(|x| x == id)) {
            run.rules_run.push(id.to_string());
        }
        if let Some(na) = infos.iter().flat_map(|i| &i.not_applicable).find(|n| n.rule_id == id) {
            run.not_applicable.push(na.clone());
        }
        if let Some(d) = infos.iter().flat_map(|i| &i.degraded).find(|d| d.rule_id == id) {
            run.degraded.push(d.clone());
        }
        for i in infos {
            if let Some(n) = i.alerts_per_rule.get(id) {
                *run.alerts_per_rule.entry(id.to_string()).or_default() += n;
            }
        }
        let mut notes: Vec<&LimitNote> = infos
            .iter()
            .flat_map(|i| &i.search_limits)
            .filter(|l| l.rule_id == id)
            .collect();
        notes.sort_by_key(|l| (&l.one, &l.many));
        for n in notes {
            LimitNote::add(&mut run.search_limits, n.clone());
        }
    }
    run
}
