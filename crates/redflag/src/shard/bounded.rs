//! The merge in bounded memory ([`merge_bounded`]): the shards' alerts grouped into
//! cases by their accounts alone, then the cases built a batch of groups at a time and
//! kept on disk ([`CaseStore`]), to be written in rank order. What it writes is what
//! [`super::merge`] and a single run write.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::merge::{check_complete, held_rows, late_rules, merged_run, renumber};
use super::store::{CaseStore, Spill};
use super::unit::{ShardAlert, ShardInfo, ALERTS_FILE, SHARD_FILE, TXNS_FILE};
use super::{plan, read_json, read_parquet, PartitionInfo, QUARANTINE_FILE, ROW};
use crate::error::{Error, PolarsContext, Result};
use crate::pack::Pack;

/// The alerts' rows (an alert's transactions, counted once per alert) a batch of cases
/// holds at most, unless one case holds more: with 10M generated transactions, a batch
/// of cases then holds about 1 GB.
pub const BATCH_ROWS: usize = 1 << 20;

/// A shard run's output folder and its description.
struct RunDir {
    dir: PathBuf,
    info: ShardInfo,
}

impl RunDir {
    fn open(dir: &Path) -> Result<RunDir> {
        Ok(RunDir {
            dir: dir.to_path_buf(),
            info: read_json(&dir.join(SHARD_FILE), "shard output")?,
        })
    }
}

/// Merges the outputs of every shard of one partition, as [`super::merge`] does, holding
/// the alerts and transactions of at most `batch_rows` alert rows' cases at a time (and
/// the accounts the alerts name); the cases go, compressed, to files in `work` (a folder
/// the caller removes after writing).
pub fn merge_bounded(
    outputs: &[PathBuf],
    pack: &Pack,
    threads: Option<usize>,
    work: &Path,
    batch_rows: usize,
) -> Result<CaseStore> {
    let runs: Vec<RunDir> = outputs.iter().map(|d| RunDir::open(d)).collect::<Result<_>>()?;
    let names: Vec<String> = outputs.iter().map(|d| d.display().to_string()).collect();
    let infos: Vec<&ShardInfo> = runs.iter().map(|r| &r.info).collect();
    let partition = check_complete(&names, &infos, pack)?;
    let accounts = infos.iter().map(|i| i.accounts as usize).sum();
    // The merge's own rules see the rows of the alerts on or linking an account, which
    // are in that account's case; others than those of one account at a time would need
    // every case at once.
    let batch_rows = if late_rules_per_account(pack) {
        batch_rows
    } else {
        usize::MAX
    };
    crate::util::threads::with_threads(threads, || {
        let groups = Groups::index(&runs)?;
        let batches = groups.batches(batch_rows);
        let routed = route(&runs, &groups, &batches, work)?;
        let mut built = build(&runs, &routed, pack, &partition, threads, work)?;
        let mut infos: Vec<ShardInfo> = runs.iter().map(|r| r.info.clone()).collect();
        infos.append(&mut built.late);
        let run = merged_run(pack, &infos.iter().collect::<Vec<_>>());
        built.store.finish(run, accounts, partition)
    })
}

/// Whether every rule the merge runs finds on an account from that account's rows alone.
fn late_rules_per_account(pack: &Pack) -> bool {
    let late = plan(pack).late;
    pack.rules
        .iter()
        .filter(|r| late.iter().any(|id| id == r.id()))
        .all(|r| {
            let kind = crate::kinds::of(r);
            kind.per_account(r) && !kind.compares_with_peers(r)
        })
}

/// The accounts the alerts name, each with the alert rows on it, joined into groups
/// (the future cases) through the accounts network alerts link.
struct Groups {
    ids: HashMap<String, u32>,
    parent: Vec<u32>,
    rows: Vec<u64>,
}

impl Groups {
    /// Reads every run's alerts once.
    fn index(runs: &[RunDir]) -> Result<Groups> {
        let mut g = Groups {
            ids: HashMap::new(),
            parent: Vec::new(),
            rows: Vec::new(),
        };
        for run in runs {
            each_alert(&run.dir.join(ALERTS_FILE), |a: AlertKeys, _| {
                let id = g.id(&a.account);
                g.rows[id as usize] += a.global_rows.len() as u64;
                for l in &a.linked_accounts {
                    let other = g.id(l);
                    g.join(id, other);
                }
                Ok(())
            })?;
        }
        Ok(g)
    }

    fn id(&mut self, account: &str) -> u32 {
        if let Some(&id) = self.ids.get(account) {
            return id;
        }
        let id = self.parent.len() as u32;
        self.ids.insert(account.to_string(), id);
        self.parent.push(id);
        self.rows.push(0);
        id
    }

    fn root(&self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            x = self.parent[x as usize];
        }
        x
    }

    fn join(&mut self, a: u32, b: u32) {
        let (x, y) = (self.root(a), self.root(b));
        if x != y {
            self.parent[x.max(y) as usize] = x.min(y);
        }
        // Paths stay short: every account points at its group's least account.
        self.parent[a as usize] = x.min(y);
        self.parent[b as usize] = x.min(y);
    }

    /// The batch of each account's group, groups in the order of their least account,
    /// a batch closed once it holds `batch_rows` alert rows.
    fn batches(&self, batch_rows: usize) -> Batches {
        let n = self.parent.len();
        let roots: Vec<u32> = (0..n as u32).map(|x| self.root(x)).collect();
        let mut weight = vec![0u64; n];
        for x in 0..n {
            weight[roots[x] as usize] += self.rows[x];
        }
        let mut of_root = vec![0u32; n];
        let (mut batch, mut held, mut count) = (0u32, 0u64, 0usize);
        for r in (0..n).filter(|&x| roots[x] as usize == x) {
            if count > 0 && held + weight[r] > batch_rows as u64 {
                batch += 1;
                held = 0;
                count = 0;
            }
            of_root[r] = batch;
            held += weight[r];
            count += 1;
        }
        Batches {
            of_account: roots.iter().map(|&r| of_root[r as usize]).collect(),
            count: batch as usize + 1,
        }
    }

    /// The batch of the case of an alert on `account`.
    fn batch_of(&self, batches: &Batches, account: &str) -> u32 {
        self.ids.get(account).map_or(0, |&id| batches.of_account[id as usize])
    }
}

/// What the grouping reads of an alert of a shard output: its account, the accounts it
/// links and its rows (the rest of the alert is skipped, not kept).
#[derive(serde::Deserialize)]
struct AlertKeys {
    account: String,
    #[serde(default)]
    linked_accounts: Vec<String>,
    global_rows: Vec<u64>,
}

/// Groups in batches.
struct Batches {
    /// The batch of each account's group.
    of_account: Vec<u32>,
    count: usize,
}

/// Calls `f` with each alert of a shard output's `alerts.json` (what `T` reads of it) and
/// its text, holding the file and one alert at a time.
fn each_alert<T: serde::de::DeserializeOwned>(path: &Path, mut f: impl FnMut(T, &[u8]) -> Result<()>) -> Result<()> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        action: "reading a shard output",
        source,
    })?;
    let bad = |what: &dyn std::fmt::Display| Error::Shard {
        path: path.to_path_buf(),
        message: format!("not a readable shard output ({what}); was it written by this version of redflag?"),
    };
    let skip = |mut i: usize| {
        while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        i
    };
    let mut i = skip(0);
    if bytes.get(i) != Some(&b'[') {
        return Err(bad(&"not a list of alerts"));
    }
    i = skip(i + 1);
    let mut first = true;
    while bytes.get(i) != Some(&b']') {
        if !first {
            if bytes.get(i) != Some(&b',') {
                return Err(bad(&format!("a list cut short at byte {i}")));
            }
            i = skip(i + 1);
        }
        first = false;
        let mut it = serde_json::Deserializer::from_slice(&bytes[i..]).into_iter::<T>();
        let alert = match it.next() {
            Some(Ok(a)) => a,
            Some(Err(e)) => return Err(bad(&e)),
            None => return Err(bad(&"a list cut short")),
        };
        let end = i + it.byte_offset();
        f(alert, &bytes[i..end])?;
        i = skip(end);
    }
    if skip(i + 1) != bytes.len() {
        return Err(bad(&"text after the list of alerts"));
    }
    Ok(())
}

/// What [`route`] wrote: each batch's alerts (a JSON list) and, by run, the transactions
/// they hold.
struct Routed {
    batches: usize,
    /// Which runs wrote transactions for a batch.
    txns: Vec<Vec<bool>>,
    /// The held transactions' columns, without rows.
    template: DataFrame,
}

fn alerts_path(work: &Path, b: usize) -> PathBuf {
    work.join(format!("alerts-{b:05}.json"))
}

fn txns_path(work: &Path, b: usize, run: usize) -> PathBuf {
    work.join(format!("txns-{b:05}-{run:05}.parquet"))
}

/// Writes each alert, as its run wrote it, into its batch's file, and each run's held
/// transactions into the files of the batches whose alerts hold them.
fn route(runs: &[RunDir], groups: &Groups, batches: &Batches, work: &Path) -> Result<Routed> {
    let io = |path: PathBuf| {
        move |source| Error::Io {
            path,
            action: "writing the merge's working files",
            source,
        }
    };
    let mut files = Vec::with_capacity(batches.count);
    for b in 0..batches.count {
        let path = alerts_path(work, b);
        let file = std::fs::File::create(&path).map_err(io(path))?;
        files.push((std::io::BufWriter::with_capacity(1 << 16, file), true));
    }
    // (row, batch): the batches holding each row.
    let mut held: Vec<(u64, u32)> = Vec::new();
    for run in runs {
        each_alert(&run.dir.join(ALERTS_FILE), |a: AlertKeys, text| {
            let b = groups.batch_of(batches, &a.account);
            let (w, first) = &mut files[b as usize];
            let sep: &[u8] = if *first { b"[" } else { b"," };
            *first = false;
            w.write_all(sep)
                .and_then(|_| w.write_all(text))
                .map_err(io(alerts_path(work, b as usize)))?;
            held.extend(a.global_rows.iter().map(|&g| (g, b)));
            Ok(())
        })?;
    }
    for (b, (mut w, first)) in files.into_iter().enumerate() {
        let end: &[u8] = if first { b"[]" } else { b"]" };
        w.write_all(end)
            .and_then(|_| w.flush())
            .map_err(io(alerts_path(work, b)))?;
    }
    held.sort_unstable();
    held.dedup();
    route_txns(runs, &held, batches.count, work)
}

/// Each run's held transactions into the files of the batches that hold them.
fn route_txns(runs: &[RunDir], held: &[(u64, u32)], batches: usize, work: &Path) -> Result<Routed> {
    let mut txns = vec![vec![false; runs.len()]; batches];
    let mut template = DataFrame::empty();
    for (r, run) in runs.iter().enumerate() {
        let path = run.dir.join(TXNS_FILE);
        let frame = read_parquet(&path)?;
        let rows = frame
            .column(ROW)
            .and_then(|c| c.cast(&DataType::UInt64))
            .and_then(|c| c.u64().cloned())
            .ctx(|| format!("{}: reading the alerting rows", path.display()))?;
        let mut take: Vec<Vec<IdxSize>> = vec![Vec::new(); batches];
        for (i, row) in rows.into_no_null_iter().enumerate() {
            let from = held.partition_point(|p| p.0 < row);
            for p in held[from..].iter().take_while(|p| p.0 == row) {
                take[p.1 as usize].push(i as IdxSize);
            }
        }
        for (b, idx) in take.into_iter().enumerate().filter(|(_, idx)| !idx.is_empty()) {
            let part = frame
                .take(&IdxCa::from_vec("idx".into(), idx))
                .ctx(|| format!("{}: routing the alerting rows", path.display()))?;
            let out = txns_path(work, b, r);
            std::fs::write(&out, super::parquet_bytes(part)?).map_err(|source| Error::Io {
                path: out,
                action: "writing the merge's working files",
                source,
            })?;
            txns[b][r] = true;
        }
        if r == 0 {
            template = frame.clear();
        }
    }
    Ok(Routed {
        batches,
        txns,
        template,
    })
}

/// What [`build`] made: the cases, and what the merge's own rules ran, batch by batch.
struct Built {
    store: Spill,
    late: Vec<ShardInfo>,
}

/// Builds each batch's cases, as a single run builds them, into the spill; each batch's
/// working files are removed once read.
fn build(
    runs: &[RunDir],
    routed: &Routed,
    pack: &Pack,
    partition: &PartitionInfo,
    threads: Option<usize>,
    work: &Path,
) -> Result<Built> {
    let mut store = Spill::new(work)?;
    let mut late = Vec::new();
    for b in 0..routed.batches {
        let path = alerts_path(work, b);
        let bytes = std::fs::read(&path).map_err(|source| Error::Io {
            path: path.clone(),
            action: "reading the merge's working files",
            source,
        })?;
        let alerts: Vec<ShardAlert> = serde_json::from_slice(&bytes).map_err(|e| Error::Shard {
            path: path.clone(),
            message: format!("a working file of the merge was changed while it ran ({e})"),
        })?;
        drop(bytes);
        let mut frames = Vec::new();
        for r in (0..runs.len()).filter(|&r| routed.txns[b][r]) {
            let p = txns_path(work, b, r);
            frames.push(read_parquet(&p)?);
            remove(&p)?;
        }
        if frames.is_empty() {
            frames.push(routed.template.clone());
        }
        remove(&path)?;
        let (data, rows) = held_rows(frames, partition, threads)?;
        let mut alerts = renumber(alerts, &rows);
        let found = late_rules(pack, partition, &data, &alerts)?;
        alerts.extend(found.alerts);
        late.push(found.info);
        let cases = crate::cases::build(alerts, &data.transactions, pack)?;
        store.add(cases, &data)?;
    }
    let quarantine = runs
        .iter()
        .map(|r| r.dir.join(QUARANTINE_FILE))
        .find(|p| p.exists())
        .ok_or_else(|| Error::Shard {
            path: runs.first().map_or_else(PathBuf::new, |r| r.dir.clone()),
            message: "no shard run carries the partition's quarantine (shard 0's does)".into(),
        })?;
    store.set_quarantine(read_parquet(&quarantine)?);
    Ok(Built { store, late })
}

fn remove(path: &Path) -> Result<()> {
    std::fs::remove_file(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        action: "removing the merge's working files",
        source,
    })
}
