//! One shard's screening: its accounts with the per-account rules and, on shard 0, the
//! cross-account stage; what it found, with the transactions its alerts hold.

use std::collections::BTreeMap;
use std::path::Path;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::{
    pack_fingerprint, parquet_bytes, plan, read_json, read_parquet, shard_dataset, shard_file, shard_of, PartData,
    PartitionInfo, CROSS_FILE, PARTITION_FILE, QUARANTINE_FILE, ROW,
};
use crate::engine::Prepared;
use crate::error::{Error, PolarsContext, Result};
use crate::model::{Alert, Degraded, LimitNote, NotApplicable};
use crate::pack::Pack;
use crate::util::cancel::Cancel;

/// The file of a shard output that describes it.
pub(super) const SHARD_FILE: &str = "shard.json";
/// The alerts of a shard output.
pub(super) const ALERTS_FILE: &str = "alerts.json";
/// The transactions the alerts of a shard output hold.
pub(super) const TXNS_FILE: &str = "transactions.parquet";

/// What a shard's run found, as its output folder holds it ([`ShardRun::write`]).
#[derive(Debug, Clone)]
pub struct ShardRun {
    /// What the run was and what it found, but the alerts.
    pub info: ShardInfo,
    /// Its alerts, each with the rows (in the single run's numbering) it holds.
    pub alerts: Vec<ShardAlert>,
    /// The transactions its alerts hold, as text, with their rows (`_row`).
    pub transactions: DataFrame,
    /// The partition's quarantine (shard 0 only).
    pub quarantine: Option<DataFrame>,
}

/// A shard run's description (`shard.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardInfo {
    /// The partition it screened.
    pub partition: PartitionInfo,
    /// The shard whose accounts it screened (none: the cross-account stage alone).
    pub index: Option<u32>,
    /// Whether it ran the cross-account stage (shard 0 does, or a run of its own).
    pub cross: bool,
    /// The accounts it screened.
    pub accounts: u64,
    /// The rules it ran, in pack order.
    pub rules_run: Vec<String>,
    /// The rules it could not run.
    pub not_applicable: Vec<NotApplicable>,
    /// The rules it ran in part.
    pub degraded: Vec<Degraded>,
    /// Its alerts per rule.
    pub alerts_per_rule: BTreeMap<String, usize>,
    /// The limits its rules met.
    pub search_limits: Vec<LimitNote>,
}

/// An alert of a shard run, with the rows it holds in the single run's numbering.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardAlert {
    /// The alert.
    #[serde(flatten)]
    pub alert: Alert,
    /// Its transactions' rows.
    pub global_rows: Vec<u64>,
}

/// Screens shard `index` of the partition in `dir` with `pack` (the pack the partition
/// was made for): the shard's own accounts with the per-account rules and, on shard 0,
/// the cross-account stage.
pub fn screen_shard(dir: &Path, index: u32, pack: &Pack, threads: Option<usize>, cancel: &Cancel) -> Result<ShardRun> {
    let unit = Unit::Shard {
        index,
        cross: index == 0,
    };
    screen_unit(dir, unit, pack, threads, cancel)
}

/// What one run of a partition screens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A shard's own accounts, with the cross-account stage when `cross` (shard 0 of a
    /// partition whose stages run with it).
    Shard {
        /// The shard.
        index: u32,
        /// Whether the cross-account stage runs too.
        cross: bool,
    },
    /// The cross-account stage alone.
    Cross,
}

/// Screens one unit of the partition in `dir` with `pack` (the pack the partition was
/// made for). The merge takes each shard once and the cross-account stage once, whether
/// alone or with a shard; shard 0 carries the quarantine.
pub fn screen_unit(dir: &Path, unit: Unit, pack: &Pack, threads: Option<usize>, cancel: &Cancel) -> Result<ShardRun> {
    let info: PartitionInfo = read_json(&dir.join(PARTITION_FILE), "partition description")?;
    let (index, cross) = match unit {
        Unit::Shard { index, cross } => (Some(index), cross),
        Unit::Cross => (None, true),
    };
    check_partition(&info, dir, index.unwrap_or(0), pack)?;
    let work = Work {
        local: index.map(|i| (i, PartData::File(dir.join(shard_file(i))))),
        cross: (cross && !info.cross_rules.is_empty()).then(|| PartData::File(dir.join(CROSS_FILE))),
        quarantine: (index == Some(0))
            .then(|| read_parquet(&dir.join(QUARANTINE_FILE)))
            .transpose()?,
    };
    screen_work(&info, work, pack, threads, cancel)
}

/// What one shard run screens: a shard's transactions (text, with their rows), the
/// cross-account stage's, or both; and the quarantine it carries to the merge.
#[derive(Debug, Clone, Default)]
pub struct Work {
    /// A shard and its transactions (those of its accounts, both sides).
    pub local: Option<(u32, PartData)>,
    /// Every transaction, with the columns of the cross-account stage.
    pub cross: Option<PartData>,
    /// The partition's quarantine (one run of a partition carries it).
    pub quarantine: Option<DataFrame>,
}

/// Screens `work`, a part of the partition `info`, with `pack` (the pack `info` was made
/// for): the shard's own accounts with the per-account rules, and the cross-account
/// stage's rules on every account.
pub fn screen_work(
    info: &PartitionInfo,
    work: Work,
    pack: &Pack,
    threads: Option<usize>,
    cancel: &Cancel,
) -> Result<ShardRun> {
    let plan = plan(pack);
    let held = super::held_columns(pack, &plan);
    crate::util::threads::with_threads(threads, || {
        let mut out = Found::default();
        let index = work.local.as_ref().map(|(i, _)| *i);
        if let Some((index, frame)) = work.local {
            let shards = info.shards;
            let owns = |a: &str| shard_of(a, shards) == index;
            let name = format!("shard {index}");
            let part = Part {
                name: &name,
                ids: &plan.local,
                owns: Some(&owns),
                held: &held,
            };
            out.add(screen_part(frame, &part, info, pack, threads, cancel)?);
        }
        let cross = work.cross.is_some();
        if let Some(frame) = work.cross {
            let part = Part {
                name: "the cross-account stage",
                ids: &plan.cross_run,
                owns: None,
                held: &held,
            };
            let found = screen_part(frame, &part, info, pack, threads, cancel)?;
            out.add(found.keep(&plan.cross));
        }
        Ok(ShardRun {
            info: ShardInfo {
                partition: info.clone(),
                index,
                cross,
                accounts: out.accounts,
                rules_run: out.rules_run,
                not_applicable: out.not_applicable,
                degraded: out.degraded,
                alerts_per_rule: out.alerts_per_rule,
                search_limits: out.search_limits,
            },
            alerts: out.alerts,
            transactions: concat_rows(out.transactions)?,
            quarantine: work.quarantine,
        })
    })
}

impl ShardRun {
    /// Writes the run into `dir` ([`ShardRun::files`]); all of them, or none.
    pub fn write(&self, dir: &Path) -> Result<()> {
        crate::output::write_files(dir, &self.files()?, &[]).map(|_| ())
    }

    /// The run as files: `shard.json`, `alerts.json`, `transactions.parquet`, and on
    /// the run that carries it `quarantine.parquet`.
    pub fn files(&self) -> Result<Vec<(String, Vec<u8>)>> {
        let json = |v: &dyn erased::Json, name: &str| -> Result<Vec<u8>> {
            v.to_vec().map_err(|e| Error::Shard {
                path: name.into(),
                message: e.to_string(),
            })
        };
        let mut files = vec![
            (SHARD_FILE.to_string(), json(&self.info, SHARD_FILE)?),
            (ALERTS_FILE.to_string(), json(&self.alerts, ALERTS_FILE)?),
            (TXNS_FILE.to_string(), parquet_bytes(self.transactions.clone())?),
        ];
        if let Some(q) = &self.quarantine {
            files.push((QUARANTINE_FILE.to_string(), parquet_bytes(q.clone())?));
        }
        Ok(files)
    }

    /// A run from its files ([`ShardRun::files`]); `place` names where they come from.
    pub fn from_files(files: &[(String, Vec<u8>)], place: &Path) -> Result<ShardRun> {
        let file = |name: &str| -> Result<&[u8]> {
            files
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, b)| b.as_slice())
                .ok_or_else(|| Error::Shard {
                    path: place.join(name),
                    message: "missing from the shard output: screen the shard again".into(),
                })
        };
        let unreadable = |name: &str, e: &dyn std::fmt::Display| Error::Shard {
            path: place.join(name),
            message: format!("not a readable shard output ({e}); was it written by this version of redflag?"),
        };
        let parquet = |name: &str, bytes: &[u8]| {
            ParquetReader::new(std::io::Cursor::new(bytes))
                .finish()
                .map_err(|e| unreadable(name, &e))
        };
        let quarantine = match files.iter().find(|(n, _)| n == QUARANTINE_FILE) {
            Some((_, b)) => Some(parquet(QUARANTINE_FILE, b)?),
            None => None,
        };
        Ok(ShardRun {
            info: serde_json::from_slice(file(SHARD_FILE)?).map_err(|e| unreadable(SHARD_FILE, &e))?,
            alerts: serde_json::from_slice(file(ALERTS_FILE)?).map_err(|e| unreadable(ALERTS_FILE, &e))?,
            transactions: parquet(TXNS_FILE, file(TXNS_FILE)?)?,
            quarantine,
        })
    }

    /// Reads a shard run's output folder ([`ShardRun::write`]).
    pub fn read(dir: &Path) -> Result<ShardRun> {
        let mut files = Vec::new();
        for name in [SHARD_FILE, ALERTS_FILE, TXNS_FILE, QUARANTINE_FILE] {
            let path = dir.join(name);
            match std::fs::read(&path) {
                Ok(b) => files.push((name.to_string(), b)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && name == QUARANTINE_FILE => {}
                Err(source) => {
                    return Err(Error::Io {
                        path,
                        action: "reading a shard output",
                        source,
                    })
                }
            }
        }
        ShardRun::from_files(&files, dir)
    }
}

/// JSON for the two kinds of value a shard output holds.
mod erased {
    pub(super) trait Json {
        fn to_vec(&self) -> serde_json::Result<Vec<u8>>;
    }
    impl<T: serde::Serialize> Json for T {
        fn to_vec(&self) -> serde_json::Result<Vec<u8>> {
            serde_json::to_vec(self)
        }
    }
}

/// The partition must be whole, of this format, and made for this pack; the shard one of
/// its shards.
fn check_partition(info: &PartitionInfo, dir: &Path, index: u32, pack: &Pack) -> Result<()> {
    let problem = |message: String| {
        Err(Error::Shard {
            path: dir.to_path_buf(),
            message,
        })
    };
    if info.format != 1 {
        return problem(format!(
            "a partition of format {}, which this version does not read: partition the inputs again",
            info.format
        ));
    }
    if index >= info.shards {
        return problem(format!(
            "shard {index} of a partition in {} shards: give --shard I/{} with I from 0 to {}",
            info.shards,
            info.shards,
            info.shards - 1
        ));
    }
    if info.pack != pack_fingerprint(pack) {
        return problem(
            "the partition was made for another pack, parameters, lists or rule selection: screen \
             with the --rules, --set, --list, --only and --weights the partition was made with"
                .into(),
        );
    }
    Ok(())
}

/// What one part of a shard's run found.
#[derive(Default)]
struct Found {
    accounts: u64,
    rules_run: Vec<String>,
    not_applicable: Vec<NotApplicable>,
    degraded: Vec<Degraded>,
    alerts_per_rule: BTreeMap<String, usize>,
    search_limits: Vec<LimitNote>,
    alerts: Vec<ShardAlert>,
    transactions: Vec<DataFrame>,
}

impl Found {
    fn add(&mut self, other: Found) {
        self.accounts += other.accounts;
        self.rules_run.extend(other.rules_run);
        self.not_applicable.extend(other.not_applicable);
        self.degraded.extend(other.degraded);
        self.alerts_per_rule.extend(other.alerts_per_rule);
        self.search_limits.extend(other.search_limits);
        self.alerts.extend(other.alerts);
        self.transactions.extend(other.transactions);
    }

    /// Only what the rules `ids` found and how they ran (the cross-account stage runs the
    /// rules its rules screen the alerts of, and reports its own only).
    fn keep(mut self, ids: &[String]) -> Found {
        let kept = |id: &str| ids.iter().any(|x| x == id);
        self.accounts = 0;
        self.rules_run.retain(|r| kept(r));
        self.not_applicable.retain(|r| kept(&r.rule_id));
        self.degraded.retain(|r| kept(&r.rule_id));
        self.alerts_per_rule.retain(|r, _| kept(r));
        self.search_limits.retain(|r| kept(&r.rule_id));
        self.alerts.retain(|a| kept(&a.alert.rule_id));
        self
    }
}

/// One part of a shard run: its name in errors, the rules it runs, the accounts it
/// screens (all of them when `None`), and the columns kept of its alerts' transactions.
struct Part<'a> {
    name: &'a str,
    ids: &'a [String],
    owns: Option<&'a dyn Fn(&str) -> bool>,
    held: &'a [String],
}

/// Screens the transactions of one part of a partition with its rules, on its accounts.
fn screen_part(
    frame: PartData,
    part: &Part<'_>,
    info: &PartitionInfo,
    pack: &Pack,
    threads: Option<usize>,
    cancel: &Cancel,
) -> Result<Found> {
    let (name, ids) = (part.name, part.ids);
    let sub = pack.only(ids)?;
    // Only the columns the rules read: those the cases show are fetched afterwards for
    // the rows the alerts hold.
    // The cross-account stage holds only the rows its rules' conditions keep, when
    // that is all they read (with the history of the pairs of accounts they link).
    let kept = part.owns.is_none() && super::cross::kept_rows_suffice(&sub);
    let (ds, rows) = read_part(&frame, info, name, threads, (&sub, kept))?;
    let prep = match part.owns {
        Some(f) => Prepared::owned(&ds, f)?,
        None if kept => {
            let prep = Prepared::new(&ds)?;
            let history = super::cross::pair_history(&frame, &prep, name)?;
            prep.with_pair_history(history)
        }
        None => Prepared::new(&ds)?,
    };
    let accounts = prep.screened_accounts() as u64;
    if ids.is_empty() {
        return Ok(Found {
            accounts,
            transactions: vec![held_rows(&[], &frame, info, part, threads)?],
            ..Found::default()
        });
    }
    let run = crate::run::run(&sub, &prep, &|_, _, _| {}, cancel)?;
    drop(prep);
    drop(ds);
    let alerts: Vec<ShardAlert> = run
        .alerts
        .into_iter()
        .map(|a| ShardAlert {
            global_rows: a.rows.iter().map(|&r| rows[r as usize]).collect(),
            alert: a,
        })
        .collect();
    let held = held_rows(&alerts, &frame, info, part, threads)?;
    Ok(Found {
        accounts,
        rules_run: run.rules_run,
        not_applicable: run.not_applicable,
        degraded: run.degraded,
        alerts_per_rule: run.alerts_per_rule,
        search_limits: run.search_limits,
        alerts,
        transactions: vec![held],
    })
}

/// A part's transactions with the columns `sub`'s rules read, and their rows: those its
/// rules' conditions keep only when `kept`.
fn read_part(
    frame: &PartData,
    info: &PartitionInfo,
    name: &str,
    threads: Option<usize>,
    (sub, kept): (&Pack, bool),
) -> Result<(crate::ingest::Dataset, Vec<u64>)> {
    let columns = Some(crate::run::columns_read(sub));
    if !kept {
        return shard_dataset(frame, info, name, threads, columns);
    }
    let opts = crate::ingest::IngestOptions {
        threads,
        columns,
        ..Default::default()
    };
    super::cross::kept_dataset(frame, info, name, &opts, sub)
}

/// The transactions the alerts hold, as text, with their rows in the single run: the
/// part's `held` columns (what cases read, and the merge's rules), fetched from the part
/// for those rows and read as the screened data reads them.
fn held_rows(
    alerts: &[ShardAlert],
    data: &PartData,
    info: &PartitionInfo,
    part: &Part<'_>,
    threads: Option<usize>,
) -> Result<DataFrame> {
    let name = part.name;
    let mut wanted: Vec<u64> = alerts.iter().flat_map(|a| a.global_rows.iter().copied()).collect();
    wanted.sort_unstable();
    wanted.dedup();
    let fetched = data.rows_among(&wanted, part.held, name)?;
    let (ds, rows) = shard_dataset(&PartData::Frame(fetched), info, name, threads, None)?;
    let cols: Vec<&str> = part
        .held
        .iter()
        .map(String::as_str)
        .filter(|c| ds.transactions.column(c).is_ok())
        .collect();
    let mut held = ds
        .transactions
        .select(cols)
        .ctx(|| format!("{name}: gathering alerting rows"))?;
    held.with_column(Column::new(ROW.into(), rows))
        .ctx(|| format!("{name}: numbering alerting rows"))?;
    crate::schema::as_text(held).ctx(|| format!("{name}: alerting rows as text"))
}

/// Frames of the same columns one after the other (an empty frame when there are none).
pub(super) fn concat_rows(frames: Vec<DataFrame>) -> Result<DataFrame> {
    let mut it = frames.into_iter();
    let Some(mut first) = it.next() else {
        return Ok(DataFrame::empty());
    };
    for f in it {
        let f = f
            .select(first.get_column_names_owned())
            .ctx(|| "joining alerting rows".into())?;
        first.vstack_mut(&f).ctx(|| "joining alerting rows".into())?;
    }
    Ok(first)
}
