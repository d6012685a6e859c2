//! Gathering columns of the side view for chosen rows, decoded or as dictionary codes.

use polars::prelude::*;

#[allow(unused_imports)]
use super::*;
use crate::error::{PolarsContext, Result};
use crate::model::Side;

/// Gathers side-view columns for rows of either side, in the order given:
/// (account key, ts, transaction row, side).
pub(crate) fn gather_rows(prep: &Prepared<'_>, rows: &[(u32, i64, u32, Side)], cols: &[String]) -> Result<DataFrame> {
    gather_rows_coded(prep, rows, cols, &[])
}

/// [`gather_rows`], with the columns named in `coded` left dictionary-encoded (polars'
/// categorical type): for a column whose values are only counted or compared for
/// equality, decoding millions of rows into text would be wasted work and memory.
pub(crate) fn gather_rows_coded(
    prep: &Prepared<'_>,
    rows: &[(u32, i64, u32, Side)],
    cols: &[String],
    coded: &[String],
) -> Result<DataFrame> {
    let mut parts: Vec<DataFrame> = Vec::new();
    let mut offsets = [0u32; 2];
    let mut offset = 0u32;
    for (k, side) in [Side::Out, Side::In].into_iter().enumerate() {
        let idx: Vec<IdxSize> = rows.iter().filter(|r| r.3 == side).map(|r| r.2 as IdxSize).collect();
        offsets[k] = offset;
        if !idx.is_empty() {
            offset += idx.len() as u32;
            parts.push(gather_coded(prep, side, cols, &idx, coded)?);
        }
    }
    if parts.len() <= 1 {
        return match parts.pop() {
            Some(p) => Ok(p),
            None => gather_coded(prep, Side::Out, cols, &[], coded),
        };
    }
    // Interleave the two sides back into the given order.
    let mut pos = offsets;
    let order: Vec<IdxSize> = rows
        .iter()
        .map(|r| {
            let k = usize::from(r.3 == Side::In);
            pos[k] += 1;
            pos[k] - 1
        })
        .collect();
    let mut stacked = parts.remove(0);
    stacked.vstack_mut(&parts[0]).ctx(|| "stacking sides".into())?;
    stacked
        .take(&IdxCa::from_vec("o".into(), order))
        .ctx(|| "ordering sides".into())
}

/// Gathers side-view columns for the given transaction rows.
pub(crate) fn gather(prep: &Prepared<'_>, side: Side, cols: &[String], rows: &[IdxSize]) -> Result<DataFrame> {
    gather_coded(prep, side, cols, rows, &[])
}

fn gather_coded(
    prep: &Prepared<'_>,
    side: Side,
    cols: &[String],
    rows: &[IdxSize],
    coded: &[String],
) -> Result<DataFrame> {
    let exprs: Vec<Expr> = cols.iter().map(|c| col(c.as_str())).collect();
    prep.side_frame(side, exprs, Some(rows), None, coded)
        .ctx(|| "gathering columns".into())
}
