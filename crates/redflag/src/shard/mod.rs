//! Screening in shards, for data larger than one machine's memory or spread over a
//! cluster (docs/sharding.md). The screened transactions are partitioned by a stable hash
//! of the account: a transaction goes to the shard of each of its two accounts, so a
//! shard holds every transaction of the accounts it owns. Each shard screens its own
//! accounts with the rules whose alerts on an account depend on that account alone;
//! the rules that compare accounts or follow payments through them (network patterns,
//! peer baselines, and the rules that screen their alerts) run once, on the
//! cross-account stage, over every transaction but only the columns they read. The merge
//! joins the shards' alerts and builds the cases once, as a single run builds them: the
//! same alerts, cases, ids and scores.
//!
//! The three stages are [`partition_inputs`], [`screen_shard`] (shard 0 also runs the
//! cross-account stage) and [`merge()`]; `redflag screen --shards N` runs them one after
//! the other on one machine, and the Python package's `redflag.spark` on a cluster.

mod batch;
mod bounded;
mod cross;
mod merge;
mod partition;
mod peers;
mod store;
mod stream;
mod unit;

use std::collections::BTreeSet;
use std::path::Path;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::ingest::{Dataset, IngestOptions, InputSummary};
use crate::kinds::PeerTally;
use crate::model::matches_any;
use crate::pack::Pack;

pub use batch::{batches_partition, empty_part, joined_quarantine, read_batch, Batch};
pub use bounded::{merge_bounded, BATCH_ROWS};
pub use merge::{merge, merge_runs, Merged};
pub use partition::{split, Parts, MAX_SHARDS};
pub use peers::{peer_tally, set_peer_groups};
pub use store::{CaseEntry, CaseStore};
pub use stream::{partition_inputs, GROUP_ROWS};
pub use unit::{screen_shard, screen_unit, screen_work, ShardAlert, ShardInfo, ShardRun, Unit, Work};

/// How an account's shard is found, as the manifest records it: stable across versions,
/// platforms and thread counts.
pub const HASH: &str = "fnv1a-64 of the account's UTF-8 bytes, modulo the shard count";

/// The name of the column that carries a transaction's row in the screened data (its
/// place in a single run; any increasing number will do) through shards and merge.
pub const ROW: &str = "_row";

/// The shard of an account among `shards` ([`HASH`]).
pub fn shard_of(account: &str, shards: u32) -> u32 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in account.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h % u64::from(shards.max(1))) as u32
}

/// Which rules of a pack run where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Rules each shard runs on its own accounts, in pack order.
    pub local: Vec<String>,
    /// Those of them that compare accounts with their peers: the partition works out the
    /// statistics of their peer groups over every shard first
    /// ([`crate::kinds::Kind::compares_with_peers`]).
    pub peers: Vec<String>,
    /// Rules the cross-account stage reports, in pack order.
    pub cross: Vec<String>,
    /// What the cross-account stage runs: its rules and the rules whose alerts they
    /// screen (`on_alerts_of`), in pack order.
    pub cross_run: Vec<String>,
    /// Rules the merge runs: those that screen other rules' alerts and whose kind reads
    /// nothing but the rows those alerts hold ([`crate::kinds::Kind::sees_only_its_rows`]),
    /// in pack order.
    pub late: Vec<String>,
}

/// Splits a pack's rules between the shards, the cross-account stage and the merge. A
/// rule that screens other rules' alerts and reads only the rows they hold runs at the
/// merge, on the transactions every alert holds. Otherwise a rule goes to the
/// cross-account stage when its kind says its alerts on an account depend on other
/// accounts ([`crate::kinds::Kind::per_account`]), or when it screens the alerts
/// (`on_alerts_of`) of such a rule or of a rule whose alerts name other accounts.
pub fn plan(pack: &Pack) -> Plan {
    let late: BTreeSet<usize> = (0..pack.rules.len())
        .filter(|&i| {
            let r = &pack.rules[i];
            !r.def.on_alerts_of.is_empty() && crate::kinds::of(r).sees_only_its_rows()
        })
        .collect();
    let sources = |r: &crate::model::Rule| -> Vec<usize> {
        if r.def.on_alerts_of.is_empty() {
            return Vec::new();
        }
        (0..pack.rules.len())
            .filter(|&j| pack.rules[j].id() != r.id() && matches_any(pack.rules[j].id(), &r.def.on_alerts_of))
            .collect()
    };
    let mut cross: BTreeSet<usize> = (0..pack.rules.len())
        .filter(|&i| !crate::kinds::of(&pack.rules[i]).per_account(&pack.rules[i]))
        .collect();
    loop {
        let more: Vec<usize> = (0..pack.rules.len())
            .filter(|i| !cross.contains(i) && !late.contains(i))
            .filter(|&i| {
                sources(&pack.rules[i])
                    .into_iter()
                    .any(|j| cross.contains(&j) || crate::kinds::of(&pack.rules[j]).links_accounts())
            })
            .collect();
        if more.is_empty() {
            break;
        }
        cross.extend(more);
    }
    let mut run = cross.clone();
    for &i in &cross {
        run.extend(sources(&pack.rules[i]));
    }
    let ids = |set: &dyn Fn(usize) -> bool| -> Vec<String> {
        (0..pack.rules.len())
            .filter(|&i| set(i))
            .map(|i| pack.rules[i].id().to_string())
            .collect()
    };
    let local = |i: usize| !cross.contains(&i) && !late.contains(&i);
    Plan {
        local: ids(&|i| local(i)),
        peers: ids(&|i| local(i) && crate::kinds::of(&pack.rules[i]).compares_with_peers(&pack.rules[i])),
        cross: ids(&|i| cross.contains(&i)),
        cross_run: ids(&|i| run.contains(&i)),
        late: ids(&|i| late.contains(&i)),
    }
}

/// The columns the merge reads of the transactions alerts hold: those cases read, and
/// those of the rules it runs ([`Plan::late`]).
pub fn held_columns(pack: &Pack, plan: &Plan) -> Vec<String> {
    let mut late = pack.clone();
    late.rules.retain(|r| plan.late.iter().any(|id| id == r.id()));
    crate::run::columns_read(&late)
}

/// What the cross-account stage reads: the columns of the rules it runs, and those the
/// merge reads of the transactions its alerts hold; none without its rules.
fn cross_columns(pack: &Pack, plan: &Plan) -> Result<Vec<String>> {
    if plan.cross.is_empty() {
        return Ok(Vec::new());
    }
    let mut cols = crate::run::columns_read(&pack.only(&plan.cross_run)?);
    cols.extend(held_columns(pack, plan));
    Ok(crate::schema::CANONICAL
        .iter()
        .map(|(n, _)| n.to_string())
        .filter(|n| cols.contains(n))
        .collect())
}

/// How the inputs were read, as the manifest states it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReadWith {
    /// The mapping's name.
    pub mapping: String,
    /// The FX table, when one was given: path and sha256.
    pub fx: Option<(String, String)>,
}

impl ReadWith {
    /// How `opts` reads inputs.
    pub fn of(opts: &IngestOptions) -> ReadWith {
        ReadWith {
            mapping: opts
                .mapping
                .as_ref()
                .map(|m| m.name.clone())
                .unwrap_or_else(|| "canonical".into()),
            fx: opts.fx.as_ref().map(|f| (f.source.clone(), f.sha256.clone())),
        }
    }
}

/// What a partition holds, written as `partition.json` in its folder and copied into
/// each shard's output: enough to screen a shard and to merge, with no other file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartitionInfo {
    /// The layout of partition folders and shard outputs (1).
    pub format: u32,
    /// The number of shards.
    pub shards: u32,
    /// How accounts are given their shard ([`HASH`]).
    pub hash: String,
    /// The pack the partition was made for ([`pack_fingerprint`]): shards and merge run
    /// with the same one.
    pub pack: String,
    /// The canonical columns the inputs supplied.
    pub present: Vec<String>,
    /// The canonical columns read ([`crate::Dataset::columns_read`]).
    pub columns_read: Option<Vec<String>>,
    /// The inputs, with their rows read, screened and quarantined.
    pub inputs: Vec<InputSummary>,
    /// How they were read.
    pub read: ReadWith,
    /// Rows each shard holds.
    pub shard_rows: Vec<u64>,
    /// What every shard needs of the whole to screen as the single run screens: the
    /// earliest transaction time, and the statistics of the peer groups of baselines.
    pub whole: crate::model::Whole,
    /// The rules of the cross-account stage ([`Plan::cross`]).
    pub cross_rules: Vec<String>,
    /// The rules whose peer groups the partition worked out ([`Plan::peers`]).
    pub peer_rules: Vec<String>,
    /// What the cross-account stage reads: the columns of its rules.
    pub cross_columns: Vec<String>,
    /// sha256 of the partition's shard files, in shard order, then the cross-account
    /// file: a shard output names the partition it came from.
    pub id: String,
}

/// A digest of what decides a pack's alerts and cases: its id, version, source and
/// sha256, base currency, parameters in force, rules (with their own parameters), lists
/// and weights. A partition records it; shards and merge refuse another pack.
pub fn pack_fingerprint(pack: &Pack) -> String {
    let manifest_part = crate::output::pack_identity(pack);
    crate::util::hash::sha256_hex(manifest_part.as_bytes())
}

/// The file of shard `index` in a partition folder.
fn shard_file(index: u32) -> String {
    format!("shard-{index:04}.parquet")
}

/// The file of the cross-account stage in a partition folder.
const CROSS_FILE: &str = "cross.parquet";
/// The rows quarantined at partition, in a partition folder and shard 0's output.
const QUARANTINE_FILE: &str = "quarantine.parquet";
/// The partition's description.
const PARTITION_FILE: &str = "partition.json";

/// Reads a JSON file of a partition or shard output.
fn read_json<T: serde::de::DeserializeOwned>(path: &Path, what: &str) -> Result<T> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        action: "reading a partition or shard file",
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|e| Error::Shard {
        path: path.to_path_buf(),
        message: format!("not a readable {what} ({e}); was it written by this version of redflag?"),
    })
}

/// A part of a partition ([`Parts`]) as the bytes of a Parquet file, its
/// dictionary-encoded columns turned to text a slice of rows at a time (through Parquet,
/// dictionary codes would not keep an empty text apart from a missing one; and the text
/// of all rows at once would be a copy of the whole part).
pub fn text_parquet_bytes(df: &DataFrame) -> Result<Vec<u8>> {
    const SLICE: usize = 1 << 19;
    let failed = |e: PolarsError| Error::Shard {
        path: ROW.into(),
        message: format!("writing a shard file: {e}"),
    };
    let text = |start: usize| crate::schema::as_text(df.slice(start as i64, SLICE)).map_err(failed);
    let mut buf = Vec::new();
    {
        let first = text(0)?;
        let mut w = ParquetWriter::new(&mut buf)
            .with_compression(ParquetCompression::Zstd(None))
            .batched(first.schema())
            .map_err(failed)?;
        w.write_batch(&first).map_err(failed)?;
        drop(first);
        for start in (SLICE..df.height()).step_by(SLICE) {
            w.write_batch(&text(start)?).map_err(failed)?;
        }
        w.finish().map_err(failed)?;
    }
    Ok(buf)
}

/// A frame from the bytes of a Parquet file ([`parquet_bytes`]); `name` says where they
/// come from.
pub fn from_parquet_bytes(bytes: &[u8], name: &str) -> Result<DataFrame> {
    ParquetReader::new(std::io::Cursor::new(bytes))
        .finish()
        .map_err(|e| Error::Shard {
            path: name.into(),
            message: format!("not a readable shard file ({e})"),
        })
}

/// Frames of the same columns one after the other, in the order of their rows
/// (`_row`): a shard's transactions from the batches that hold them.
pub fn rows_in_order(frames: Vec<DataFrame>) -> Result<DataFrame> {
    let all = unit::concat_rows(frames)?;
    if all.width() == 0 {
        return Ok(all);
    }
    all.sort([ROW], SortMultipleOptions::default())
        .map_err(|e| Error::Shard {
            path: ROW.into(),
            message: format!("ordering a shard's rows: {e}"),
        })
}

/// Reads a Parquet file of a partition or shard output.
fn read_parquet(path: &Path) -> Result<DataFrame> {
    ParquetReader::new(open_part(path)?).finish().map_err(|e| Error::Shard {
        path: path.to_path_buf(),
        message: format!("not a readable shard file ({e})"),
    })
}

/// A frame as the bytes of a Parquet file, as partitions and shard outputs hold frames.
pub fn parquet_bytes(mut df: DataFrame) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    ParquetWriter::new(&mut buf)
        .with_compression(ParquetCompression::Zstd(None))
        .finish(&mut df)
        .map_err(|e| Error::Shard {
            path: ROW.into(),
            message: format!("writing a shard file: {e}"),
        })?;
    Ok(buf)
}

/// A part's transactions (text, with their rows) as a partition holds them.
#[derive(Debug, Clone)]
pub enum PartData {
    /// In memory (a cluster's task, the library).
    Frame(DataFrame),
    /// A file of a partition folder, read a batch of rows at a time: its text is never
    /// held whole.
    File(std::path::PathBuf),
    /// Parquet files' bytes ([`text_parquet_bytes`]), each a run of rows, in any order
    /// (a cluster's cells: a part of one batch of the input); read one at a time when
    /// their rows do not overlap, so that only one cell's text is held at once.
    Cells(Vec<Vec<u8>>),
}

/// The transactions of a part as a [`Dataset`] whose description is the partition's,
/// and each row's place in the single run: text columns coded as the screened data codes
/// them, the `_row` column taken out.
fn shard_dataset(
    data: &PartData,
    info: &PartitionInfo,
    name: &str,
    threads: Option<usize>,
    columns: Option<Vec<String>>,
) -> Result<(Dataset, Vec<u64>)> {
    let opts = IngestOptions {
        threads,
        columns,
        ..IngestOptions::default()
    };
    let (mut ds, rows) = match data {
        PartData::Frame(df) => frame_dataset(df.clone(), name, &opts)?,
        PartData::File(path) => file_dataset(path, name, &opts)?,
        PartData::Cells(cells) => cells_dataset(cells, name, &opts)?,
    };
    if ds.rows_quarantined() > 0 || ds.transactions.height() != rows.len() {
        return Err(part_changed(name));
    }
    set_part_info(&mut ds, info);
    Ok((ds, rows))
}

/// The error of a part whose rows no longer pass the checks they passed at partition.
fn part_changed(name: &str) -> Error {
    Error::Shard {
        path: name.into(),
        message: "rows of the shard file no longer pass the checks they passed at partition: \
                  the file was changed; partition the inputs again"
            .into(),
    }
}

/// Describes a part's dataset as the partition `info` describes the whole: its columns,
/// inputs, and what it needs of the whole.
fn set_part_info(ds: &mut Dataset, info: &PartitionInfo) {
    ds.present = info.present.clone();
    ds.columns_read = info.columns_read.clone();
    ds.inputs = info.inputs.clone();
    ds.whole = Some(info.whole.clone());
}

/// A part's file read as an input in the canonical layout, a batch of rows at a time
/// (its `_row` column, not canonical, is left out), and its rows.
fn file_dataset(path: &Path, name: &str, opts: &IngestOptions) -> Result<(Dataset, Vec<u64>)> {
    let rows = rows_of(open_part(path)?, path, name)?;
    if rows.is_empty() {
        return frame_dataset(read_parquet(path)?, name, opts);
    }
    Ok((crate::ingest::ingest(&[path.to_path_buf()], opts)?, rows))
}

/// The `_row` column of a part's Parquet file (`place` names it), read alone.
fn rows_of<R: polars::io::mmap::MmapBytesReader>(source: R, place: &Path, name: &str) -> Result<Vec<u64>> {
    ParquetReader::new(source)
        .with_columns(Some(vec![ROW.to_string()]))
        .finish()
        .map_err(|e| Error::Shard {
            path: place.to_path_buf(),
            message: format!("not a readable shard file ({e})"),
        })
        .and_then(|df| row_numbers(&df, name))
}

/// Cells of a part as a dataset, and its rows: read one at a time, in the order of their
/// rows, when no two cells' rows interleave; else all at once, their rows sorted.
fn cells_dataset(cells: &[Vec<u8>], name: &str, opts: &IngestOptions) -> Result<(Dataset, Vec<u64>)> {
    let mut numbered = Vec::new();
    for cell in cells {
        let rows = rows_of(std::io::Cursor::new(cell.as_slice()), Path::new(name), name)?;
        numbered.push((rows, cell));
    }
    numbered.sort_by_key(|(rows, _)| rows.first().copied());
    let filled: Vec<&Vec<u64>> = numbered.iter().map(|(r, _)| r).filter(|r| !r.is_empty()).collect();
    let in_order = filled.iter().all(|r| r.windows(2).all(|w| w[0] < w[1]))
        && filled.windows(2).all(|w| w[0].last() < w[1].first());
    if filled.is_empty() || !in_order {
        let frames = numbered
            .iter()
            .map(|(_, cell)| from_parquet_bytes(cell, name))
            .collect::<Result<Vec<_>>>()?;
        return frame_dataset(rows_in_order(frames)?, name, opts);
    }
    let rows: Vec<u64> = numbered.iter().flat_map(|(r, _)| r.iter().copied()).collect();
    let mut frame = |i: usize| -> Result<DataFrame> {
        from_parquet_bytes(numbered[i].1, name)?
            .drop(ROW)
            .map_err(|e| Error::Shard {
                path: name.into(),
                message: e.to_string(),
            })
    };
    let ds = Dataset::from_frames(numbered.len(), &mut frame, name, opts)?;
    Ok((ds, rows))
}

/// The `_row` column of a part.
fn row_numbers(df: &DataFrame, name: &str) -> Result<Vec<u64>> {
    Ok(df
        .column(ROW)
        .and_then(|c| c.cast(&DataType::UInt64))
        .map_err(|e| Error::Shard {
            path: name.into(),
            message: format!("the `{ROW}` column is missing or unreadable ({e})"),
        })?
        .u64()
        .map_err(|e| Error::Shard {
            path: name.into(),
            message: format!("the `{ROW}` column is unreadable ({e})"),
        })?
        .into_no_null_iter()
        .collect())
}

/// A part in memory as a dataset, and its rows.
fn frame_dataset(df: DataFrame, name: &str, opts: &IngestOptions) -> Result<(Dataset, Vec<u64>)> {
    let rows = row_numbers(&df, name)?;
    let df = df.drop(ROW).map_err(|e| Error::Shard {
        path: name.into(),
        message: e.to_string(),
    })?;
    Ok((Dataset::from_frame(df, name, opts)?, rows))
}

impl PartData {
    /// The part's rows a slice (or a cell) at a time, as text, with the columns `cols`
    /// (those it has) and `_row`, each handed to `f`: a file or frame gives at least one
    /// slice, even with no row.
    fn each_slice(&self, cols: &[String], name: &str, f: &mut dyn FnMut(DataFrame) -> Result<()>) -> Result<()> {
        const SLICE: usize = 1 << 19;
        let select = |df: &DataFrame| select_part_columns(df, cols, name);
        match self {
            PartData::Frame(df) => {
                for off in (0..df.height().max(1)).step_by(SLICE) {
                    f(select(&df.slice(off as i64, SLICE))?)?;
                }
            }
            PartData::Cells(cells) => {
                for cell in cells {
                    f(select(&from_parquet_bytes(cell, name)?)?)?;
                }
            }
            PartData::File(path) => {
                let (file_rows, names) = parquet_shape(path)?;
                let read: Vec<String> = names.into_iter().filter(|n| n == ROW || cols.contains(n)).collect();
                for off in (0..file_rows.max(1)).step_by(SLICE) {
                    f(read_parquet_slice(path, off, SLICE, &read)?)?;
                }
            }
        }
        Ok(())
    }

    /// No row of the part, with the columns `cols` (those it has) and `_row`.
    fn no_rows(&self, cols: &[String], name: &str) -> Result<DataFrame> {
        match self {
            PartData::Frame(df) => select_part_columns(&df.clear(), cols, name),
            PartData::Cells(cells) => match cells.first() {
                Some(cell) => select_part_columns(&from_parquet_bytes(cell, name)?.clear(), cols, name),
                None => Ok(DataFrame::empty()),
            },
            PartData::File(path) => {
                let (_, names) = parquet_shape(path)?;
                let read: Vec<String> = names.into_iter().filter(|n| n == ROW || cols.contains(n)).collect();
                read_parquet_slice(path, 0, 0, &read)
            }
        }
    }

    /// The part's rows whose `_row` is among `wanted` (increasing), with the columns
    /// `cols` (those it has) and `_row`, as text, in row order: read a slice of rows (or
    /// a cell) at a time, keeping only the rows wanted.
    fn rows_among(&self, wanted: &[u64], cols: &[String], name: &str) -> Result<DataFrame> {
        if wanted.is_empty() {
            return self.no_rows(cols, name);
        }
        let mut found = Vec::new();
        self.each_slice(cols, name, &mut |df| {
            let mask: BooleanChunked = row_numbers(&df, name)?
                .iter()
                .map(|r| wanted.binary_search(r).is_ok())
                .collect();
            found.push(crate::schema::filter_compact(&df, &mask).map_err(|e| Error::Shard {
                path: name.into(),
                message: format!("gathering alerting rows: {e}"),
            })?);
            Ok(())
        })?;
        rows_in_order(found)
    }
}

/// The columns `cols` of a part's frame (those it has), and `_row`.
fn select_part_columns(df: &DataFrame, cols: &[String], name: &str) -> Result<DataFrame> {
    let keep: Vec<&str> = cols
        .iter()
        .map(String::as_str)
        .chain([ROW])
        .filter(|c| df.column(c).is_ok())
        .collect();
    df.select(keep).map_err(|e| Error::Shard {
        path: name.into(),
        message: format!("reading a part's rows: {e}"),
    })
}

/// The number of rows and the columns of a Parquet file of a partition.
fn parquet_shape(path: &Path) -> Result<(usize, Vec<String>)> {
    let mut reader = ParquetReader::new(open_part(path)?);
    let unreadable = |e: PolarsError| Error::Shard {
        path: path.to_path_buf(),
        message: format!("not a readable shard file ({e})"),
    };
    let names = reader
        .schema()
        .map_err(unreadable)?
        .iter_names()
        .map(|n| n.to_string())
        .collect();
    Ok((reader.num_rows().map_err(unreadable)?, names))
}

/// `len` rows from row `off` of a Parquet file of a partition, columns `cols`.
fn read_parquet_slice(path: &Path, off: usize, len: usize, cols: &[String]) -> Result<DataFrame> {
    ParquetReader::new(open_part(path)?)
        .with_columns(Some(cols.to_vec()))
        .with_slice(Some((off, len)))
        .finish()
        .map_err(|e| Error::Shard {
            path: path.to_path_buf(),
            message: format!("not a readable shard file ({e})"),
        })
}

/// Opens a file of a partition.
fn open_part(path: &Path) -> Result<std::fs::File> {
    std::fs::File::open(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        action: "reading a partition file",
        source,
    })
}
