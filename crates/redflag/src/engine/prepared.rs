//! The prepared transactions: accounts encoded as integers once, and each side's view
//! kept narrow (account key, time, row) and sorted by (account, time, row).

use polars::prelude::*;
use polars_buffer::Buffer;

#[allow(unused_imports)]
use super::*;
use crate::error::{Error, PolarsContext, Result};
use crate::ingest::Dataset;
use crate::model::Side;
use crate::schema;

pub(crate) const NO_ACCOUNT: u32 = u32::MAX;

/// Rows a kind that works account by account holds at a time (see
/// [`crate::engine::Scope::side_rows_sliced`]).
pub(crate) const SLICE_ROWS: usize = 1 << 20;

/// One side's sorted, narrow view.
pub(crate) struct SideView {
    /// (account key, ts ms, transaction row), sorted.
    pub(crate) keys: Vec<(u32, i64, u32)>,
    /// For each entry of `keys`, the account on the other side of its transaction (the
    /// receiver on the paying side, the payer on the receiving side; `NO_ACCOUNT` for
    /// none): read here in view order, it needs no lookup by row, which in account order
    /// would jump all over the transactions.
    pub(crate) other: Vec<u32>,
}

impl SideView {
    /// The view of one side: `keys` holds each row's account on that side (`ts` its
    /// time, `other` the account on the other side), `n_accounts` bounds the keys, and
    /// only the rows whose account is `screened` are in it. Sorted by account, time and
    /// row.
    ///
    /// The rows are first put in account order by counting (each account's rows in row
    /// order); an account's rows are then sorted by time only when they are not in time
    /// order already, which is rare in exports sorted by time. A sort of every row by
    /// account, time and row gives the same order, which is total.
    fn sorted(keys: &[u32], other: &[u32], ts: &[i64], n_accounts: usize, screened: &dyn Fn(u32) -> bool) -> SideView {
        // Where each account's rows start.
        let mut start = vec![0u32; n_accounts + 1];
        for &k in keys.iter().filter(|&&k| screened(k)) {
            start[k as usize + 1] += 1;
        }
        for a in 0..n_accounts {
            start[a + 1] += start[a];
        }
        let mut next = start.clone();
        let len = start[n_accounts] as usize;
        let mut v = vec![(0u32, 0i64, 0u32); len];
        let mut o = vec![NO_ACCOUNT; len];
        for (row, ((&k, &t), &b)) in keys.iter().zip(ts).zip(other).enumerate() {
            if screened(k) {
                let at = &mut next[k as usize];
                v[*at as usize] = (k, t, row as u32);
                o[*at as usize] = b;
                *at += 1;
            }
        }
        for a in 0..n_accounts {
            let range = start[a] as usize..start[a + 1] as usize;
            if !v[range.clone()].is_sorted() {
                let mut both: Vec<((u32, i64, u32), u32)> = v[range.clone()]
                    .iter()
                    .copied()
                    .zip(o[range.clone()].iter().copied())
                    .collect();
                both.sort_unstable_by_key(|e| e.0);
                for (i, (key, b)) in range.zip(both) {
                    v[i] = key;
                    o[i] = b;
                }
            }
        }
        SideView { keys: v, other: o }
    }
}

/// The prepared transactions: encoded accounts and the two sorted side views.
///
/// Kinds read it through its methods only: account names by key, each row's time,
/// amount and receiving account, and each side's sorted view. Its fields are the
/// engine's own.
pub struct Prepared<'a> {
    pub(super) ds: &'a Dataset,
    pub(super) accounts: Vec<String>,
    /// The accounts the side views hold: all of them, or those [`Prepared::owned`] kept.
    screened_accounts: usize,
    /// Each row's time, shared with the dataset's column when it has one chunk and no
    /// missing value ([`dense`]).
    pub(super) ts: Buffer<i64>,
    /// Each row's amount in the base currency, shared likewise.
    pub(super) amount: Buffer<f64>,
    /// Each transaction's paying account key (`NO_ACCOUNT` when empty).
    pub(super) orig_key: Vec<u32>,
    /// Each transaction's receiving account key (`NO_ACCOUNT` when empty).
    pub(super) bene_key: Vec<u32>,
    views: [SideView; 2],
    /// Rows a slice of accounts holds (see [`crate::engine::Scope::side_rows_sliced`]).
    pub(super) slice_rows: usize,
    /// The earliest transaction time of the screened data (see [`Prepared::first_time`]).
    first_time: i64,
    /// When the rows are some of the data's only, the history of the pairs of accounts
    /// they link over all of it (see [`Prepared::pair_history`]).
    pair_history: Option<PairHistory>,
}

/// For unordered pairs of account keys (lower key first): the time of their first
/// transfer either way and the number of their transfers, over every transaction of the
/// screened data.
pub(crate) type PairHistory = PlHashMap<(u32, u32), (i64, u32)>;

/// The key of an unordered pair of accounts: the lower key first.
pub(crate) fn pair_key(a: u32, b: u32) -> (u32, u32) {
    (a.min(b), a.max(b))
}

impl<'a> Prepared<'a> {
    /// Encodes accounts and sorts both side views.
    pub fn new(ds: &'a Dataset) -> Result<Prepared<'a>> {
        Prepared::build(ds, None)
    }

    /// As [`Prepared::new`], with the side views holding only the accounts `owns` keeps:
    /// the rules then screen those accounts only, the others being a shard's
    /// counterparties (their transactions there are not all of theirs).
    pub(crate) fn owned(ds: &'a Dataset, owns: &dyn Fn(&str) -> bool) -> Result<Prepared<'a>> {
        Prepared::build(ds, Some(owns))
    }

    fn build(ds: &'a Dataset, owns: Option<&dyn Fn(&str) -> bool>) -> Result<Prepared<'a>> {
        let df = &ds.transactions;
        let n = df.height();
        let ts = ts_col(df)?;
        let amount = df
            .column("amount_base")
            .and_then(|c| c.f64().map(|ca| dense(ca, 0.0)))
            .ctx(|| "reading column `amount_base`".into())?;
        let mut accounts: Vec<String> = Vec::new();
        let orig_key;
        let bene_key;
        if df
            .column("orig_account")
            .map(|c| c.dtype().is_categorical())
            .unwrap_or(false)
        {
            // Dictionary codes: each distinct account is looked up once, and keys are
            // given in order of first appearance, as with text.
            let (o, mapping) = cat_codes(df, "orig_account")?;
            let (b, _) = cat_codes(df, "bene_account")?;
            let mut key_of: Vec<u32> = vec![NO_ACCOUNT; mapping.num_cats_upper_bound()];
            let mut encode = |codes: &UInt32Chunked| -> Vec<u32> {
                let mut out = Vec::with_capacity(n);
                for v in codes.iter() {
                    out.push(match v {
                        Some(c) => {
                            let c = c as usize;
                            if c >= key_of.len() {
                                key_of.resize(c + 1, NO_ACCOUNT);
                            }
                            if key_of[c] == NO_ACCOUNT {
                                accounts.push(mapping.cat_to_str(c as _).unwrap_or("").to_string());
                                key_of[c] = (accounts.len() - 1) as u32;
                            }
                            key_of[c]
                        }
                        None => NO_ACCOUNT,
                    });
                }
                out
            };
            orig_key = encode(&o);
            bene_key = encode(&b);
        } else {
            let orig = str_col(df, "orig_account")?;
            let bene = str_col(df, "bene_account")?;
            let mut map: PlHashMap<&str, u32> = PlHashMap::with_capacity(n / 4 + 16);
            let mut encode = |ca: &'a StringChunked| -> Vec<u32> {
                let mut out = Vec::with_capacity(n);
                for v in ca.iter() {
                    out.push(match v {
                        Some(s) => *map.entry(s).or_insert_with(|| {
                            accounts.push(s.to_string());
                            (accounts.len() - 1) as u32
                        }),
                        None => NO_ACCOUNT,
                    });
                }
                out
            };
            orig_key = encode(orig);
            bene_key = encode(bene);
        }
        let owned: Option<Vec<bool>> = owns.map(|f| accounts.iter().map(|a| f(a)).collect());
        let screened = |k: u32| k != NO_ACCOUNT && owned.as_ref().is_none_or(|o| o[k as usize]);
        let mk = |keys: &[u32], other: &[u32]| SideView::sorted(keys, other, &ts, accounts.len(), &screened);
        // The two sides sort at once on two threads; the order is total, so the same.
        let views = std::thread::scope(|sc| {
            let out = sc.spawn(|| mk(&orig_key, &bene_key));
            let inn = mk(&bene_key, &orig_key);
            [out.join().unwrap_or_else(|_| mk(&orig_key, &bene_key)), inn]
        });
        let screened_accounts = owned.map_or(accounts.len(), |o| o.iter().filter(|&&b| b).count());
        let first_time = ds
            .whole
            .as_ref()
            .and_then(|w| w.first_time)
            .or_else(|| ts.iter().copied().filter(|t| *t != i64::MIN).min())
            .unwrap_or(0);
        Ok(Prepared {
            first_time,
            pair_history: None,
            ds,
            screened_accounts,
            accounts,
            ts,
            amount,
            orig_key,
            bene_key,
            views,
            slice_rows: SLICE_ROWS,
        })
    }

    pub(super) fn view(&self, side: Side) -> &SideView {
        match side {
            Side::Out => &self.views[0],
            Side::In => &self.views[1],
        }
    }

    /// The number of accounts screened: all of them, or those [`Prepared::owned`] kept.
    pub(crate) fn screened_accounts(&self) -> usize {
        self.screened_accounts
    }

    /// The number of distinct accounts; account keys run from 0 to this, exclusive.
    pub fn account_count(&self) -> usize {
        self.accounts.len()
    }

    /// The account of a key.
    pub(crate) fn account(&self, key: u32) -> &str {
        self.accounts.get(key as usize).map_or("", String::as_str)
    }

    /// Each account's key, by name.
    pub(crate) fn account_keys(&self) -> PlHashMap<&str, u32> {
        self.accounts
            .iter()
            .enumerate()
            .map(|(k, a)| (a.as_str(), k as u32))
            .collect()
    }

    /// A transaction row's time (ms since the epoch).
    #[inline]
    pub(crate) fn ts(&self, row: u32) -> i64 {
        self.ts[row as usize]
    }

    /// Every row's time (ms since the epoch; `i64::MIN` when it has none), by row.
    pub(crate) fn times(&self) -> &[i64] {
        &self.ts
    }

    /// The earliest transaction time (ms since the epoch) of the screened data, whose
    /// part this may be ([`crate::model::Whole::first_time`]); 0 without a row.
    pub(crate) fn first_time(&self) -> i64 {
        self.first_time
    }

    /// The prepared rows with the history of the pairs of accounts they link over the
    /// whole screened data, of which they are some rows only.
    pub(crate) fn with_pair_history(mut self, history: PairHistory) -> Self {
        self.pair_history = Some(history);
        self
    }

    /// The history of pairs of accounts over the whole screened data, when these rows
    /// are some of it only ([`Prepared::with_pair_history`]); `None`: they are all of it.
    pub(crate) fn pair_history(&self) -> Option<&PairHistory> {
        self.pair_history.as_ref()
    }

    /// What the data needs of the whole when it is a part of the screened data (a
    /// shard's); `None` when it is the whole.
    pub(crate) fn whole(&self) -> Option<&crate::model::Whole> {
        self.ds.whole.as_ref()
    }

    /// A transaction row's amount in the base currency.
    #[inline]
    pub(crate) fn amount(&self, row: u32) -> f64 {
        self.amount[row as usize]
    }

    /// Every row's amount in the base currency, by row.
    pub(crate) fn amounts(&self) -> &[f64] {
        &self.amount
    }

    /// A transaction row's receiving account key ([`NO_ACCOUNT`] when it has none).
    #[inline]
    pub(crate) fn receiver(&self, row: u32) -> u32 {
        self.bene_key[row as usize]
    }

    /// A transaction row's paying account key (`NO_ACCOUNT` when empty).
    #[inline]
    pub(crate) fn payer(&self, row: u32) -> u32 {
        self.orig_key[row as usize]
    }

    /// One side's rows as (account key, ts, row), sorted.
    pub(crate) fn side_keys(&self, side: Side) -> &[(u32, i64, u32)] {
        &self.view(side).keys
    }

    /// For each row of [`Prepared::side_keys`], the account on the other side of its
    /// transaction (`NO_ACCOUNT` for none).
    pub(crate) fn side_others(&self, side: Side) -> &[u32] {
        &self.view(side).other
    }

    /// Whether the input had the column (rather than it being filled in as empty).
    pub(crate) fn has_column(&self, name: &str) -> bool {
        self.ds.present.iter().any(|p| p == name)
    }

    /// The columns the input had.
    pub(crate) fn present_columns(&self) -> &[String] {
        &self.ds.present
    }

    /// The canonical columns read with their values, when ingest read only some.
    pub(crate) fn columns_read(&self) -> Option<&[String]> {
        self.ds.columns_read.as_deref()
    }

    /// How many rows a kind that works account by account holds at a time (see
    /// [`crate::engine::Scope::side_rows_sliced`]); kinds that must see every account at
    /// once use it to bound what they gather at a time.
    pub(crate) fn slice_rows(&self) -> usize {
        self.slice_rows
    }

    /// Sets how many rows a slice of accounts holds (tests: to force several slices).
    #[cfg(test)]
    pub(crate) fn set_slice_rows(&mut self, rows: usize) {
        self.slice_rows = rows;
    }

    /// The rows of the side view for the given transaction rows (all rows when `None`),
    /// with the columns the expressions read, as text, and the expressions evaluated.
    /// Side-view names in `coded` keep their dictionary codes (see [`gather_rows_coded`]).
    pub(super) fn side_frame(
        &self,
        side: Side,
        exprs: Vec<Expr>,
        rows: Option<&[IdxSize]>,
        slice: Option<(i64, usize)>,
        coded: &[String],
    ) -> PolarsResult<DataFrame> {
        let mut sources: Vec<String> = Vec::new();
        for e in &exprs {
            for name in e.clone().meta().root_names() {
                sources.extend(source_columns(name.as_str(), side));
            }
        }
        // `ts` keeps the frame's height when the expressions read no column.
        sources.push("ts".into());
        sources.sort_unstable();
        sources.dedup();
        let df = &self.ds.transactions;
        sources.retain(|c| df.schema().contains(c));
        let mut sub = df.select(sources)?;
        if let Some(rows) = rows {
            sub = sub.take(&IdxCa::from_vec("rows".into(), rows.to_vec()))?;
        }
        if let Some((off, len)) = slice {
            sub = sub.slice(off, len);
        }
        let keep: Vec<String> = coded.iter().flat_map(|c| source_columns(c, side)).collect();
        let decode: Vec<Expr> = schema::text_exprs(sub.schema())
            .into_iter()
            .filter(|e| {
                !e.clone()
                    .meta()
                    .root_names()
                    .iter()
                    .any(|n| keep.iter().any(|k| k == n.as_str()))
            })
            .collect();
        let sub = if decode.is_empty() {
            sub
        } else {
            sub.lazy().with_columns(decode).collect()?
        };
        let side_cols = schema::side_exprs_for(side, sub.schema());
        sub.lazy().with_columns(side_cols).select(exprs).collect()
    }

    pub(crate) fn txn_ids(&self, rows: &[u32]) -> Result<Vec<String>> {
        let ids = str_col(&self.ds.transactions, "txn_id")?;
        Ok(rows
            .iter()
            .map(|r| ids.get(*r as usize).unwrap_or("").to_string())
            .collect())
    }
}

pub(crate) fn str_col<'b>(df: &'b DataFrame, name: &str) -> Result<&'b StringChunked> {
    df.column(name)
        .and_then(|c| c.str())
        .ctx(|| format!("reading column `{name}`"))
}

/// A dictionary-encoded column's codes as one flat vector ([`NULL_CODE`] for a missing
/// value), and its dictionary.
pub(super) fn code_vec(df: &DataFrame, name: &str) -> Result<(Vec<u32>, Arc<CategoricalMapping>)> {
    let (ca, mapping) = cat_codes(df, name)?;
    let mut out = Vec::with_capacity(ca.len());
    for arr in ca.downcast_iter() {
        if arr.validity().is_none_or(|v| v.unset_bits() == 0) {
            out.extend_from_slice(arr.values().as_slice());
        } else {
            out.extend(arr.iter().map(|v| v.copied().unwrap_or(NULL_CODE)));
        }
    }
    Ok((out, mapping))
}

/// A dictionary-encoded column's codes and its dictionary.
pub(crate) fn cat_codes(df: &DataFrame, name: &str) -> Result<(UInt32Chunked, Arc<CategoricalMapping>)> {
    let c = df.column(name).ctx(|| format!("reading column `{name}`"))?;
    let DataType::Categorical(_, mapping) = c.dtype() else {
        return Err(Error::Rule {
            rule_id: String::new(),
            message: format!("column `{name}` is not dictionary-encoded"),
        });
    };
    let mapping = mapping.clone();
    let codes = c
        .to_physical_repr()
        .cast(&DataType::UInt32)
        .and_then(|p| p.u32().cloned())
        .ctx(|| format!("reading column `{name}`"))?;
    Ok((codes, mapping))
}

/// Each row's time in ms since the epoch (`i64::MIN` when it has none).
pub(super) fn ts_col(df: &DataFrame) -> Result<Buffer<i64>> {
    let c = df
        .column("ts")
        .and_then(|c| c.cast(&DataType::Int64))
        .ctx(|| "reading column `ts`".into())?;
    let ca = c.i64().ctx(|| "reading column `ts`".into())?;
    Ok(dense(ca, i64::MIN))
}

/// A numeric column's values by row, `missing` for a missing one: the column's own buffer,
/// shared rather than copied, when it is one chunk without missing values (as ingest
/// leaves the screened columns); else a copy.
fn dense<T: PolarsNumericType>(ca: &ChunkedArray<T>, missing: T::Native) -> Buffer<T::Native> {
    if ca.null_count() == 0 && ca.chunks().len() == 1 {
        if let Some(arr) = ca.downcast_iter().next() {
            return arr.values().clone();
        }
    }
    ca.iter().map(|v| v.unwrap_or(missing)).collect::<Vec<_>>().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A side view sorted by counting gives what a sort of every row gives: rows of
    /// accounts out of time order, rows with no account, accounts not screened.
    #[test]
    fn side_views_are_in_account_time_and_row_order() {
        let n_accounts = 50;
        let mut random = crate::kinds::xorshift(0x2545_f491_4f6c_dd1d);
        let mut next = |m: u64| random() % m;
        let rows = 5_000;
        let keys: Vec<u32> = (0..rows)
            .map(|_| match next(20) {
                0 => NO_ACCOUNT,
                _ => next(n_accounts as u64) as u32,
            })
            .collect();
        // Times mostly rising, some out of order, some equal.
        let ts: Vec<i64> = (0..rows)
            .map(|i| i as i64 / 3 + if next(10) == 0 { -(next(500) as i64) } else { 0 })
            .collect();
        // The other side's account: some none, each row's its own.
        let other: Vec<u32> = (0..rows)
            .map(|i| if i % 11 == 0 { NO_ACCOUNT } else { (i * 7 % 997) as u32 })
            .collect();
        let screened = |k: u32| k != NO_ACCOUNT && k % 7 != 3;
        let view = SideView::sorted(&keys, &other, &ts, n_accounts, &screened);
        let mut expected: Vec<(u32, i64, u32)> = keys
            .iter()
            .zip(&ts)
            .enumerate()
            .filter(|(_, (k, _))| screened(**k))
            .map(|(i, (k, t))| (*k, *t, i as u32))
            .collect();
        expected.sort_unstable();
        assert!(expected.len() > 3_000);
        assert_eq!(view.keys, expected);
        let others: Vec<u32> = expected.iter().map(|e| other[e.2 as usize]).collect();
        assert_eq!(view.other, others, "each row keeps its own other account");
        let empty = SideView::sorted(&[], &[], &[], 0, &screened);
        assert!(empty.keys.is_empty() && empty.other.is_empty());
    }
}
