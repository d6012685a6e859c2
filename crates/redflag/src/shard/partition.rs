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
use crate::schema;

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
    let df = &data.transactions;
    let rows: Vec<u64> = (0..df.height() as u64).collect();
    let parts = split(data, &rows, pack, shards)?;
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut shard_rows = Vec::new();
    for (i, part) in parts.shards.into_iter().enumerate() {
        shard_rows.push(part.height() as u64);
        files.push((shard_file(i as u32), parquet_bytes(part)?));
    }
    if let Some(cross) = parts.cross {
        files.push((CROSS_FILE.into(), parquet_bytes(cross)?));
    }
    files.push((QUARANTINE_FILE.into(), parquet_bytes(data.quarantine.clone())?));
    let id = crate::util::hash::sha256_hex(
        files
            .iter()
            .map(|(_, b)| crate::util::hash::sha256_hex(b))
            .collect::<Vec<_>>()
            .concat()
            .as_bytes(),
    );
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
        cross_rules: parts.cross_rules,
        cross_columns: parts.cross_columns,
        id,
    };
    let json = serde_json::to_vec_pretty(&info).map_err(|e| Error::Shard {
        path: dir.join(PARTITION_FILE),
        message: e.to_string(),
    })?;
    files.push((PARTITION_FILE.into(), json));
    crate::output::write_files(dir, &files, &[])?;
    Ok(info)
}

/// Screened data split for a partition: each shard's transactions and the cross-account
/// stage's, as text with their rows (`_row`).
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
    let mut parts = Vec::new();
    for i in 0..shards {
        let mask: BooleanChunked = owners[0]
            .iter()
            .zip(owners[1].iter())
            .map(|(&o, &b)| o == i || b == i)
            .collect();
        let part = with_row
            .filter(&mask)
            .ctx(|| format!("selecting the rows of shard {i}"))?;
        parts.push(text(part)?);
    }
    let cross_columns = if plan.cross.is_empty() {
        Vec::new()
    } else {
        crate::run::columns_read(&pack.only(&plan.cross_run)?)
    };
    let cross = if plan.cross.is_empty() {
        None
    } else {
        let mut cols: Vec<&str> = cross_columns.iter().map(String::as_str).collect();
        cols.push(ROW);
        let part = with_row
            .select(cols)
            .ctx(|| "selecting the columns of the cross-account stage".into())?;
        Some(text(part)?)
    };
    Ok(Parts {
        shards: parts,
        cross,
        cross_rules: plan.cross,
        cross_columns,
    })
}

/// A frame's dictionary-encoded columns as text, as a shard file holds them.
fn text(df: DataFrame) -> Result<DataFrame> {
    schema::as_text(df).ctx(|| "turning a shard's columns to text".into())
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
