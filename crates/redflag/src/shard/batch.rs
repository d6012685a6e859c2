//! A partition made batch by batch, where no process holds the whole input (a Spark job's
//! tasks): each batch is read and checked on its own, its rows numbered by their place in
//! the whole input, and split by shard; the batches' quarantines and counts are joined
//! afterwards.

use polars::prelude::*;

use super::partition::{split, Parts};
use super::{plan, PartitionInfo, ReadWith, HASH, ROW};
use crate::error::{Error, PolarsContext, Result};
use crate::ingest::{Dataset, Format, IngestOptions, InputSummary};
use crate::pack::Pack;

/// One batch read, checked and split.
#[derive(Debug, Clone)]
pub struct Batch {
    /// Its screened rows by shard, and for the cross-account stage.
    pub parts: Parts,
    /// Its quarantined rows, with their places in the whole input (`_row`).
    pub quarantine: DataFrame,
    /// The canonical columns the input supplies.
    pub present: Vec<String>,
    /// Rows read.
    pub rows_read: u64,
    /// The transaction ids of the screened rows (to find an id repeated across batches).
    pub txn_ids: Vec<String>,
    /// The earliest time of its screened rows (ms since the epoch); `None` without one.
    pub first_time: Option<i64>,
}

/// Reads a batch of the input, in its own layout (`opts.mapping`), whose `_row` column
/// gives each row's place in the whole input (counted from 0, consecutive: the input's
/// record numbers, as quarantine rows and generated transaction ids name them), and
/// splits it into `shards` shards for `pack`.
pub fn read_batch(frame: DataFrame, name: &str, opts: &IngestOptions, pack: &Pack, shards: u32) -> Result<Batch> {
    let src: Vec<u64> = frame
        .column(ROW)
        .and_then(|c| c.cast(&DataType::UInt64))
        .and_then(|c| c.u64().cloned())
        .map_err(|e| Error::Shard {
            path: name.into(),
            message: format!("the batch has no readable `{ROW}` column numbering its rows ({e})"),
        })?
        .into_no_null_iter()
        .collect();
    let records = src
        .iter()
        .map(|&r| u32::try_from(r + 1))
        .collect::<std::result::Result<Vec<u32>, _>>()
        .map_err(|_| Error::Shard {
            path: name.into(),
            message: "more than 4,294,967,295 rows: screen the input in parts".into(),
        })?;
    let frame = frame.drop(ROW).ctx(|| format!("{name}: reading the batch"))?;
    let data = Dataset::from_frame_records(frame, name, opts, records)?;
    // Each quarantined row's place in the batch, from its record number.
    let quarantined: Vec<usize> = data
        .quarantine
        .column("row")
        .and_then(|c| c.cast(&DataType::UInt64))
        .and_then(|c| c.u64().cloned())
        .ctx(|| format!("{name}: reading the quarantined rows"))?
        .iter()
        .map(|r| {
            src.binary_search(&r.unwrap_or(0).saturating_sub(1))
                .unwrap_or(usize::MAX)
        })
        .collect();
    let mut kept = vec![true; src.len()];
    for &r in &quarantined {
        if let Some(k) = kept.get_mut(r) {
            *k = false;
        }
    }
    let clean: Vec<u64> = src.iter().zip(&kept).filter(|(_, k)| **k).map(|(s, _)| *s).collect();
    if clean.len() != data.transactions.height() {
        return Err(Error::Shard {
            path: name.into(),
            message: "the batch's screened and quarantined rows do not add up to its rows".into(),
        });
    }
    let mut quarantine = data.quarantine.clone();
    quarantine
        .with_column(Column::new(
            ROW.into(),
            quarantined
                .iter()
                .map(|&r| src.get(r).copied().unwrap_or(0))
                .collect::<Vec<u64>>(),
        ))
        .ctx(|| format!("{name}: numbering the quarantined rows"))?;
    let txn_ids = data
        .transactions
        .column("txn_id")
        .and_then(|c| c.cast(&DataType::String))
        .and_then(|c| c.str().map(|s| s.iter().map(|v| v.unwrap_or("").to_string()).collect()))
        .ctx(|| format!("{name}: reading the transaction ids"))?;
    Ok(Batch {
        first_time: crate::schema::first_time(&data.transactions)?,
        parts: split(&data, &clean, pack, shards)?,
        quarantine,
        present: data.present.clone(),
        rows_read: src.len() as u64,
        txn_ids,
    })
}

/// The batches' quarantines as one, in the input's row order, without their `_row`.
pub fn joined_quarantine(frames: Vec<DataFrame>) -> Result<DataFrame> {
    let all = super::unit::concat_rows(frames)?;
    if all.width() == 0 {
        return Ok(all);
    }
    all.sort([ROW], SortMultipleOptions::default())
        .and_then(|d| d.drop(ROW))
        .ctx(|| "joining the batches' quarantines".into())
}

/// The description of a partition made batch by batch: the input named `name`, with
/// `rows_read` and `rows_quarantined` over every batch, `first_time` the earliest of
/// theirs ([`Batch::first_time`]), read as `read`; `id` names it.
#[allow(clippy::too_many_arguments)]
pub fn batches_partition(
    pack: &Pack,
    shards: u32,
    present: Vec<String>,
    name: &str,
    rows_read: u64,
    rows_quarantined: u64,
    first_time: Option<i64>,
    read: ReadWith,
    id: String,
) -> Result<PartitionInfo> {
    let plan = plan(pack);
    let cross_columns = super::cross_columns(pack, &plan)?;
    Ok(PartitionInfo {
        format: 1,
        shards,
        hash: HASH.into(),
        pack: super::pack_fingerprint(pack),
        present,
        columns_read: Some(crate::run::columns_read(pack)),
        inputs: vec![InputSummary {
            path: name.to_string(),
            format: Format::Memory,
            sha256: String::new(),
            rows_read,
            rows_screened: rows_read - rows_quarantined,
            rows_quarantined,
        }],
        read,
        shard_rows: Vec::new(),
        whole: crate::model::Whole {
            first_time,
            ..Default::default()
        },
        cross_rules: plan.cross,
        peer_rules: plan.peers,
        cross_columns,
        id,
    })
}

/// A part with no rows (a shard no transaction falls in), with the columns a part of
/// `pack`'s partitions has: a shard's, or the cross-account stage's.
pub fn empty_part(pack: &Pack, shards: u32, cross: bool) -> Result<DataFrame> {
    let cols: Vec<Column> = crate::schema::CANONICAL
        .iter()
        .map(|(n, _)| Column::new_empty((*n).into(), &DataType::String))
        .collect();
    let frame = DataFrame::new_infer_height(cols).ctx(|| "an empty part".into())?;
    let data = Dataset::from_frame(frame, "empty", &IngestOptions::default())?;
    let parts = split(&data, &[], pack, shards)?;
    Ok(if cross {
        parts.cross.unwrap_or_else(DataFrame::empty)
    } else {
        parts.shards.into_iter().next().unwrap_or_else(DataFrame::empty)
    })
}
