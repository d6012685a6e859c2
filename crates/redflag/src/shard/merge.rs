//! The merge: the shards' alerts joined and their cases built once, as a single run
//! builds them.

use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::unit::{concat_rows, ShardAlert, ShardInfo, ALERTS_FILE, SHARD_FILE, TXNS_FILE};
use super::{pack_fingerprint, read_json, read_parquet, shard_dataset, PartitionInfo, QUARANTINE_FILE, ROW};
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
    let infos: Vec<ShardInfo> = outputs
        .iter()
        .map(|d| read_json(&d.join(SHARD_FILE), "shard output"))
        .collect::<Result<_>>()?;
    let partition = check_complete(outputs, &infos, pack)?;
    crate::util::threads::with_threads(threads, || {
        let mut alerts: Vec<ShardAlert> = Vec::new();
        let mut frames = Vec::new();
        for d in outputs {
            alerts.extend(read_json::<Vec<ShardAlert>>(
                &d.join(ALERTS_FILE),
                "shard output's alerts",
            )?);
            frames.push(read_parquet(&d.join(TXNS_FILE))?);
        }
        let zero = infos.iter().position(|i| i.index == 0).unwrap_or(0);
        let quarantine = read_parquet(&outputs[zero].join(QUARANTINE_FILE))?;
        let (mut data, rows) = held_rows(frames, &partition, threads)?;
        data.quarantine = quarantine;
        let alerts = renumber(alerts, &rows);
        let run = merged_run(pack, &infos);
        let cases = crate::cases::build(alerts, &data.transactions, pack)?;
        Ok(Merged {
            cases,
            run,
            accounts: infos.iter().map(|i| i.accounts as usize).sum(),
            data,
            partition: partition.clone(),
        })
    })
}

/// The outputs must be of one partition made for this pack, each shard exactly once.
fn check_complete(outputs: &[PathBuf], infos: &[ShardInfo], pack: &Pack) -> Result<PartitionInfo> {
    let problem = |path: &Path, message: String| Error::Shard {
        path: path.to_path_buf(),
        message,
    };
    let Some(first) = infos.first() else {
        return Err(problem(Path::new("."), "no shard outputs to merge".into()));
    };
    let n = first.partition.shards;
    let mut seen: Vec<Option<&PathBuf>> = vec![None; n as usize];
    for (dir, info) in outputs.iter().zip(infos) {
        if info.partition.id != first.partition.id {
            return Err(problem(
                dir,
                format!(
                    "a shard of another partition than {}'s: merge the outputs of one partition",
                    outputs[0].display()
                ),
            ));
        }
        match seen.get_mut(info.index as usize) {
            Some(Some(other)) => {
                return Err(problem(
                    dir,
                    format!(
                        "shard {} is also in {}: give each shard once",
                        info.index,
                        other.display()
                    ),
                ))
            }
            Some(slot) => *slot = Some(dir),
            None => return Err(problem(dir, format!("shard {} of {n}", info.index))),
        }
    }
    let missing: Vec<String> = (0..n)
        .filter(|&i| seen[i as usize].is_none())
        .map(|i| i.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(problem(
            &outputs[0],
            format!(
                "the partition has {n} shards; missing: shard {} (redflag screen PARTITION --shard I/{n})",
                missing.join(", ")
            ),
        ));
    }
    if first.partition.pack != pack_fingerprint(pack) {
        return Err(problem(
            &outputs[0],
            "the shards were screened with another pack, parameters, lists or rule selection: merge \
             with the --rules, --set, --list, --only and --weights they were screened with"
                .into(),
        ));
    }
    Ok(first.partition.clone())
}

/// The transactions the alerts hold, each once, in the single run's order, as a dataset
/// described as the partition's inputs; and their rows in the single run.
fn held_rows(frames: Vec<DataFrame>, partition: &PartitionInfo, threads: Option<usize>) -> Result<(Dataset, Vec<u32>)> {
    let all = concat_rows(frames)?;
    let rows: Vec<u32> = all
        .column(ROW)
        .and_then(|c| c.u32().cloned())
        .ctx(|| "reading the shards' alerting rows".into())?
        .into_no_null_iter()
        .collect();
    // Each row once, in the single run's order.
    let mut order: Vec<u32> = (0..rows.len() as u32).collect();
    order.sort_by_key(|&i| rows[i as usize]);
    order.dedup_by_key(|i| rows[*i as usize]);
    let idx = IdxCa::from_vec("idx".into(), order.into_iter().map(|i| i as IdxSize).collect());
    let unique = all.take(&idx).ctx(|| "joining the shards' alerting rows".into())?;
    shard_dataset(unique, partition, "merge", threads)
}

/// Alerts with their rows numbered as in the held transactions (`rows`: the single run's
/// row of each).
fn renumber(alerts: Vec<ShardAlert>, rows: &[u32]) -> Vec<Alert> {
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
fn merged_run(pack: &Pack, infos: &[ShardInfo]) -> RuleRun {
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
