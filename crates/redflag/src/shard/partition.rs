//! The partition: the screened transactions split into shard files by account, the file
//! of the cross-account stage, the quarantine, and `partition.json`.

use std::path::Path;

use polars::prelude::*;

use super::{
    pack_fingerprint, parquet_bytes, plan, shard_file, shard_of, PartitionInfo, ReadWith, CROSS_FILE, HASH,
    PARTITION_FILE, QUARANTINE_FILE, ROW,
};
use crate::error::{Error, PolarsContext, Result};
use crate::ingest::Dataset;
use crate::pack::Pack;

/// The most shards a partition may have.
pub const MAX_SHARDS: u32 = 4096;

/// Writes the partition of screened data `data` into `dir` for screening with `pack` in
/// `shards` shards: `shard-NNNN.parquet` (the transactions of each shard's accounts, in
/// row order, with their row), `cross.parquet` (every transaction, with only the columns
/// of the cross-account stage's rules), `quarantine.parquet` and `partition.json`
/// (which records how the inputs were `read`); all of them, or none.
pub fn partition(data: &Dataset, pack: &Pack, shards: u32, read: &ReadWith, dir: &Path) -> Result<PartitionInfo> {
    if shards == 0 || shards > MAX_SHARDS {
        return Err(Error::Shard {
            path: dir.to_path_buf(),
            message: format!("{shards} shards: give a count from 1 to {MAX_SHARDS}"),
        });
    }
    let rows: Vec<u64> = (0..data.transactions.height() as u64).collect();
    let splitter = Splitter::new(data, &rows, pack, shards)?;
    // A folder is a partition once its `partition.json` is written, last: an earlier
    // partition's goes first, so that an interrupted partition is never taken for one.
    let marker = dir.join(PARTITION_FILE);
    if marker.exists() {
        std::fs::remove_file(&marker).map_err(|source| Error::Io {
            path: marker.clone(),
            action: "removing an earlier partition's description",
            source,
        })?;
    }
    // One file at a time, each written whole: only one shard's rows are copied at once.
    let mut digests = Vec::new();
    let mut write = |name: String, frame: DataFrame, text: bool| -> Result<u64> {
        let rows = frame.height() as u64;
        let bytes = if text {
            super::text_parquet_bytes(&frame)?
        } else {
            parquet_bytes(frame)?
        };
        digests.push(crate::util::hash::sha256_hex(&bytes));
        crate::output::write_files(dir, &[(name, bytes)], &[])?;
        Ok(rows)
    };
    let mut shard_rows = Vec::new();
    for i in 0..shards {
        shard_rows.push(write(shard_file(i), splitter.shard(i)?, true)?);
    }
    if let Some(cross) = splitter.cross()? {
        write(CROSS_FILE.into(), cross, true)?;
    }
    write(QUARANTINE_FILE.into(), data.quarantine.clone(), false)?;
    let id = crate::util::hash::sha256_hex(digests.concat().as_bytes());
    let info = PartitionInfo {
        format: 1,
        shards,
        hash: HASH.into(),
        pack: pack_fingerprint(pack),
        present: data.present.clone(),
        columns_read: data.columns_read.clone(),
        inputs: data.inputs.clone(),
        read: read.clone(),
        shard_rows,
        cross_rules: splitter.plan.cross.clone(),
        cross_columns: splitter.cross_columns.clone(),
        id,
    };
    let json = serde_json::to_vec_pretty(&info).map_err(|e| Error::Shard {
        path: dir.join(PARTITION_FILE),
        message: e.to_string(),
    })?;
    crate::output::write_files(dir, &[(PARTITION_FILE.into(), json)], &[])?;
    Ok(info)
}

/// Screened data split for a partition: each shard's transactions and the cross-account
/// stage's, with their rows (`_row`); [`super::text_parquet_bytes`] writes them.
#[derive(Debug, Clone)]
pub struct Parts {
    /// Each shard's transactions: those with an account of the shard on either side, in
    /// row order.
    pub shards: Vec<DataFrame>,
    /// Every transaction, with only the columns of the cross-account stage; none when
    /// the pack has no rule for it.
    pub cross: Option<DataFrame>,
    /// The cross-account stage's rules ([`super::Plan::cross`]).
    pub cross_rules: Vec<String>,
    /// The columns it reads.
    pub cross_columns: Vec<String>,
}

/// Splits screened data, whose rows are numbered `rows` (increasing: their places in the
/// whole input), into `shards` shards for `pack` and its cross-account stage.
pub fn split(data: &Dataset, rows: &[u64], pack: &Pack, shards: u32) -> Result<Parts> {
    let splitter = Splitter::new(data, rows, pack, shards)?;
    Ok(Parts {
        shards: (0..shards).map(|i| splitter.shard(i)).collect::<Result<_>>()?,
        cross: splitter.cross()?,
        cross_rules: splitter.plan.cross.clone(),
        cross_columns: splitter.cross_columns.clone(),
    })
}

/// Screened data with its rows numbered and each row's two shards worked out, giving a
/// shard's part, or the cross-account stage's, on demand.
struct Splitter {
    with_row: DataFrame,
    owners: [Vec<u32>; 2],
    plan: super::Plan,
    cross_columns: Vec<String>,
}

impl Splitter {
    fn new(data: &Dataset, rows: &[u64], pack: &Pack, shards: u32) -> Result<Splitter> {
        let df = &data.transactions;
        let plan = plan(pack);
        let mut with_row = df.clone();
        with_row
            .with_column(Column::new(ROW.into(), rows.to_vec()))
            .ctx(|| "numbering the rows".into())?;
        let owners = [
            account_shards(df, "orig_account", shards)?,
            account_shards(df, "bene_account", shards)?,
        ];
        let cross_columns = super::cross_columns(pack, &plan)?;
        Ok(Splitter {
            with_row,
            owners,
            plan,
            cross_columns,
        })
    }

    /// Shard `i`'s transactions: those with an account of the shard on either side.
    fn shard(&self, i: u32) -> Result<DataFrame> {
        let mask: BooleanChunked = self.owners[0]
            .iter()
            .zip(self.owners[1].iter())
            .map(|(&o, &b)| o == i || b == i)
            .collect();
        self.with_row
            .filter(&mask)
            .ctx(|| format!("selecting the rows of shard {i}"))
    }

    /// Every transaction with the cross-account stage's columns; none without its rules.
    fn cross(&self) -> Result<Option<DataFrame>> {
        if self.plan.cross.is_empty() {
            return Ok(None);
        }
        let mut cols: Vec<&str> = self.cross_columns.iter().map(String::as_str).collect();
        cols.push(ROW);
        let part = self
            .with_row
            .select(cols)
            .ctx(|| "selecting the columns of the cross-account stage".into())?;
        Ok(Some(part))
    }
}

/// Each row's shard by the account in column `name` (`u32::MAX` when it is empty); the
/// hash of each distinct account is worked out once.
fn account_shards(df: &DataFrame, name: &str, shards: u32) -> Result<Vec<u32>> {
    let c = df.column(name).ctx(|| format!("reading column `{name}`"))?;
    if let DataType::Categorical(_, mapping) = c.dtype() {
        let codes = c
            .to_physical_repr()
            .cast(&DataType::UInt32)
            .and_then(|p| p.u32().cloned())
            .ctx(|| format!("reading column `{name}`"))?;
        let mut cache: PlHashMap<u32, u32> = PlHashMap::new();
        return Ok(codes
            .iter()
            .map(|v| match v {
                Some(code) => *cache
                    .entry(code)
                    .or_insert_with(|| shard_of(mapping.cat_to_str(code).unwrap_or(""), shards)),
                None => u32::MAX,
            })
            .collect());
    }
    let ca = c
        .cast(&DataType::String)
        .and_then(|c| c.str().cloned())
        .ctx(|| format!("reading column `{name}`"))?;
    Ok(ca.iter().map(|v| v.map_or(u32::MAX, |a| shard_of(a, shards))).collect())
}
