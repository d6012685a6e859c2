//! Screened rows split by shard: each shard's transactions (those of its accounts, on
//! either side) and the cross-account stage's; the partition's files are written from
//! them ([`super::partition_inputs`]).

use std::path::Path;

use polars::prelude::*;

use super::{plan, shard_of, PARTITION_FILE, ROW};
use crate::error::{Error, PolarsContext, Result};
use crate::ingest::Dataset;
use crate::pack::Pack;

/// The most shards a partition may have.
pub const MAX_SHARDS: u32 = 4096;

/// Removes the description of an earlier partition in `dir`, if any, before files of a
/// new one are placed: a partition interrupted half way is never taken for one.
pub(super) fn remove_marker(dir: &Path) -> Result<()> {
    let marker = dir.join(PARTITION_FILE);
    if marker.exists() {
        std::fs::remove_file(&marker).map_err(|source| Error::Io {
            path: marker.clone(),
            action: "removing an earlier partition's description",
            source,
        })?;
    }
    Ok(())
}

/// Fails unless `shards` is a shard count a partition may have.
pub(super) fn check_shard_count(shards: u32, dir: &Path) -> Result<()> {
    if shards == 0 || shards > MAX_SHARDS {
        return Err(Error::Shard {
            path: dir.to_path_buf(),
            message: format!("{shards} shards: give a count from 1 to {MAX_SHARDS}"),
        });
    }
    Ok(())
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
    let splitter = Splitter::new(&data.transactions, rows, pack, shards)?;
    Ok(Parts {
        shards: (0..shards).map(|i| splitter.shard(i)).collect::<Result<_>>()?,
        cross: splitter.cross()?,
        cross_rules: splitter.plan.cross.clone(),
        cross_columns: splitter.cross_columns.clone(),
    })
}

/// Screened data with its rows numbered and each row's two shards worked out, giving a
/// shard's part, or the cross-account stage's, on demand.
pub(super) struct Splitter {
    with_row: DataFrame,
    owners: [Vec<u32>; 2],
    plan: super::Plan,
    cross_columns: Vec<String>,
}

impl Splitter {
    pub(super) fn new(df: &DataFrame, rows: &[u64], pack: &Pack, shards: u32) -> Result<Splitter> {
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
    pub(super) fn shard(&self, i: u32) -> Result<DataFrame> {
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
    pub(super) fn cross(&self) -> Result<Option<DataFrame>> {
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
