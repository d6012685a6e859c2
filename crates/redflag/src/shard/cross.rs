//! The cross-account stage's transactions when each of its rules finds the same on the
//! rows its conditions keep ([`crate::kinds::Kind::kept_rows_suffice`]: network rules):
//! only those rows are held, read a slice at a time, with the history of the pairs of
//! accounts they link over every row. With the default pack, FLW-04 and FLW-06 keep the
//! payments of 500 or more: a seventh of the rows of the generated data.

use polars::prelude::*;

use super::{frame_dataset, part_changed, set_part_info, PartData, PartitionInfo};
use crate::engine::{pair_key, PairHistory, Prepared, NO_ACCOUNT};
use crate::error::{PolarsContext, Result};
use crate::ingest::{Dataset, IngestOptions};
use crate::pack::Pack;

/// Whether each rule of `pack` finds the same on the rows its conditions keep.
pub(super) fn kept_rows_suffice(pack: &Pack) -> bool {
    !pack.rules.is_empty() && pack.rules.iter().all(|r| crate::kinds::of(r).kept_rows_suffice(r))
}

/// The rows of `data` some condition of `pack`'s rules keeps (read with `columns`, a
/// slice at a time, each slice's conditions worked out on its own), as a dataset
/// described as the partition `info` describes the whole, and their rows. Each slice is
/// read into a dataset of its own (its text coded as every dataset codes it, into the
/// process's categories, so that the slices' codes agree), whose kept rows are kept: the
/// text of a slice is never held beyond it.
pub(super) fn kept_dataset(
    data: &PartData,
    info: &PartitionInfo,
    name: &str,
    opts: &IngestOptions,
    pack: &Pack,
) -> Result<(Dataset, Vec<u64>)> {
    let columns = opts.columns.clone().unwrap_or_default();
    let unread = held_as_nulls(pack, opts.columns.as_deref());
    let mut kept: Vec<DataFrame> = Vec::new();
    let mut rows: Vec<u64> = Vec::new();
    let mut first: Option<Dataset> = None;
    data.each_slice(&columns, name, &mut |slice| {
        let (mut ds, slice_rows) = frame_dataset(slice.clone(), name, opts)?;
        if ds.transactions.height() != slice.height() {
            return Err(part_changed(name));
        }
        set_part_info(&mut ds, info);
        let keep: Vec<bool> = {
            let prep = Prepared::new(&ds)?;
            crate::run::kept_rows(pack, &prep)?.unwrap_or_else(|| vec![true; slice.height()])
        };
        rows.extend(slice_rows.iter().zip(&keep).filter(|(_, &k)| k).map(|(r, _)| *r));
        let mask: BooleanChunked = keep.into_iter().collect();
        kept.push(
            crate::schema::filter_compact(&ds.transactions.drop_many(unread.iter().cloned()), &mask)
                .ctx(|| format!("{name}: keeping the rows its rules read"))?,
        );
        if first.is_none() {
            ds.transactions = ds.transactions.clear();
            first = Some(ds);
        }
        Ok(())
    })?;
    let mut ds = match first {
        Some(ds) => ds,
        None => {
            let (mut ds, _) = frame_dataset(data.no_rows(&columns, name)?, name, opts)?;
            set_part_info(&mut ds, info);
            ds
        }
    };
    let template = ds.transactions.clear();
    let mut joined = template.drop_many(unread.iter().cloned());
    for k in kept {
        joined
            .vstack_mut_owned(k)
            .ctx(|| format!("{name}: joining the rows its rules read"))?;
    }
    joined.rechunk_mut();
    ds.transactions = with_nulls(joined, &template).ctx(|| format!("{name}: joining the rows its rules read"))?;
    // Each slice kept all its rows (above); the counts of quarantined rows are now the
    // partition's, not this dataset's.
    if ds.transactions.height() != rows.len() {
        return Err(part_changed(name));
    }
    Ok((ds, rows))
}

/// The columns the stage holds as nulls, which take no memory a row: those every
/// dataset reads for what cases show (names, banks, countries, narrative) that no rule
/// of `pack` reads, the merge reading them for the rows its alerts hold; and the columns
/// left unread (`columns` are those read; none means all), which a dataset holds as
/// nulls already but which would take four bytes or more a row once the slices' kept
/// rows are joined.
fn held_as_nulls(pack: &Pack, columns: Option<&[String]>) -> Vec<PlSmallStr> {
    let read: std::collections::BTreeSet<&str> = pack
        .rules
        .iter()
        .flat_map(|r| r.columns.iter().flat_map(|c| crate::schema::sources_of(c)))
        .collect();
    let shown_only = |c: &str| {
        crate::schema::ALWAYS_READ.contains(&c)
            // Those every dataset has, and the channel (small), are kept.
            && !crate::schema::always_present(c)
            && c != "channel"
            && !read.contains(c)
    };
    crate::schema::CANONICAL
        .iter()
        .map(|(c, _)| *c)
        .filter(|c| shown_only(c) || columns.is_some_and(|cols| !cols.iter().any(|r| r == c)))
        .map(PlSmallStr::from)
        .collect()
}

/// `df` with the columns of `template` it lacks, as nulls of their type (which take no
/// memory a row), in `template`'s order.
fn with_nulls(df: DataFrame, template: &DataFrame) -> PolarsResult<DataFrame> {
    let height = df.height();
    let cols = template
        .columns()
        .iter()
        .map(|c| match df.column(c.name()) {
            Ok(have) => have.clone(),
            Err(_) => Column::full_null(c.name().clone(), height, c.dtype()),
        })
        .collect();
    DataFrame::new_infer_height(cols)
}

/// The history of the pairs of accounts that the transfers of `prep` (some rows of
/// `data`) link, over every row of `data`: each pair's first transfer, either way, and
/// its number of transfers; read a slice at a time, accounts and times only.
pub(super) fn pair_history(data: &PartData, prep: &Prepared<'_>, name: &str) -> Result<PairHistory> {
    let mut history = PairHistory::default();
    for r in 0..prep.times().len() as u32 {
        let (a, b) = (prep.payer(r), prep.receiver(r));
        if a != NO_ACCOUNT && b != NO_ACCOUNT && a != b {
            history.insert(pair_key(a, b), (i64::MAX, 0));
        }
    }
    if history.is_empty() {
        return Ok(history);
    }
    let key_of = prep.account_keys();
    let cols = ["orig_account", "bene_account", "ts"].map(String::from);
    data.each_slice(&cols, name, &mut |df| {
        let text = |c: &str| {
            df.column(c)
                .and_then(|c| c.cast(&DataType::String))
                .ctx(|| format!("{name}: reading column `{c}`"))
        };
        let (orig, bene) = (text("orig_account")?, text("bene_account")?);
        let ts = df
            .column("ts")
            .and_then(|c| c.cast(&DataType::Int64))
            .ctx(|| format!("{name}: reading column `ts`"))?;
        let (orig, bene) = (orig.str().ctx(|| name.into())?, bene.str().ctx(|| name.into())?);
        let ts = ts.i64().ctx(|| name.into())?;
        for ((o, b), t) in orig.iter().zip(bene.iter()).zip(ts.iter()) {
            let (Some(o), Some(b), Some(t)) = (o, b, t) else {
                continue;
            };
            let (Some(&ka), Some(&kb)) = (key_of.get(o), key_of.get(b)) else {
                continue;
            };
            if ka == kb {
                continue;
            }
            if let Some(s) = history.get_mut(&pair_key(ka, kb)) {
                s.0 = s.0.min(t);
                s.1 += 1;
            }
        }
        Ok(())
    })?;
    Ok(history)
}
