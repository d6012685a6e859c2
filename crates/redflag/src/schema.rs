//! The canonical transaction schema and the side view.

use polars::prelude::*;

use crate::model::Side;

/// The type of a canonical column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColType {
    /// UTF-8 text.
    Text,
    /// 64-bit float.
    Float,
    /// Milliseconds since the epoch, UTC, no zone attached.
    Datetime,
    /// A calendar date.
    Date,
}

impl ColType {
    /// The polars data type.
    pub fn dtype(self) -> DataType {
        match self {
            ColType::Text => DataType::String,
            ColType::Float => DataType::Float64,
            ColType::Datetime => DataType::Datetime(TimeUnit::Milliseconds, None),
            ColType::Date => DataType::Date,
        }
    }
}

/// The canonical columns, in output order, with their types.
pub const CANONICAL: &[(&str, ColType)] = &[
    ("txn_id", ColType::Text),
    ("ts", ColType::Datetime),
    ("amount", ColType::Float),
    ("currency", ColType::Text),
    ("amount_base", ColType::Float),
    ("orig_account", ColType::Text),
    ("bene_account", ColType::Text),
    ("channel", ColType::Text),
    ("orig_name", ColType::Text),
    ("bene_name", ColType::Text),
    ("orig_country", ColType::Text),
    ("bene_country", ColType::Text),
    ("orig_bank", ColType::Text),
    ("bene_bank", ColType::Text),
    ("narrative", ColType::Text),
    ("customer_id", ColType::Text),
    ("customer_type", ColType::Text),
    ("occupation", ColType::Text),
    ("opened", ColType::Date),
    ("expected_monthly_turnover", ColType::Float),
    ("loc_country", ColType::Text),
    ("loc_region", ColType::Text),
    ("branch_id", ColType::Text),
    ("mcc", ColType::Text),
];

/// The canonical columns every screening reads with their values, whatever its rules
/// read: those each row is checked on (id, time, amounts, currency, accounts) and those a
/// case shows of its transactions (`cases.json`, the reports). Ingest may leave the others
/// unread ([`crate::IngestOptions::columns`]).
pub const ALWAYS_READ: &[&str] = &[
    "txn_id",
    "ts",
    "amount",
    "currency",
    "amount_base",
    "orig_account",
    "bene_account",
    "channel",
    "orig_name",
    "bene_name",
    "orig_country",
    "bene_country",
    "orig_bank",
    "bene_bank",
    "loc_country",
    "narrative",
];

/// Columns ingest makes when an input lacks them (an id from the row number, the base
/// currency, the amount converted): with [`REQUIRED`], the columns every dataset has.
pub const GENERATED: &[&str] = &["txn_id", "amount_base", "currency"];

/// Whether every dataset has column `c`: it is required or made when ingesting.
pub fn always_present(c: &str) -> bool {
    REQUIRED.contains(&c) || GENERATED.contains(&c)
}

/// Columns every input must have (after mapping).
pub const REQUIRED: &[&str] = &["ts", "amount", "orig_account", "bene_account"];

/// The channels the schema names.
pub const CHANNELS: &[&str] = &[
    "cash_in", "cash_out", "atm", "wire", "mvts", "card", "mobile", "p2p", "crypto", "cheque", "internal", "other",
];

/// Side-view columns: name, the `out` side's source, the `in` side's source.
pub const SIDE_COLUMNS: &[(&str, &str, &str)] = &[
    ("account", "orig_account", "bene_account"),
    ("counterparty", "bene_account", "orig_account"),
    ("account_country", "orig_country", "bene_country"),
    ("counterparty_country", "bene_country", "orig_country"),
    ("account_name", "orig_name", "bene_name"),
    ("counterparty_name", "bene_name", "orig_name"),
    ("account_bank", "orig_bank", "bene_bank"),
    ("counterparty_bank", "bene_bank", "orig_bank"),
];

/// Derived side-view columns: `side`, `hour` (0–23, of `ts`) and `days_since_opened`
/// (from `opened` to `ts`, in days, fractional; empty without `opened`).
pub const DERIVED: &[&str] = &["side", "hour", "days_since_opened"];

/// The label column that some presets keep (AMLworld's `Is Laundering`); no rule reads it.
pub const LABEL: &str = "label";

/// Every name a rule may use in `where` or a measure.
pub fn all_columns() -> impl Iterator<Item = &'static str> {
    CANONICAL
        .iter()
        .map(|(n, _)| *n)
        .chain(SIDE_COLUMNS.iter().map(|(n, _, _)| *n))
        .chain(DERIVED.iter().copied())
}

/// Whether `name` is a column a rule may use.
pub fn is_known_column(name: &str) -> bool {
    all_columns().any(|c| c == name)
}

/// The type of a canonical column.
pub fn col_type(name: &str) -> Option<ColType> {
    CANONICAL.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// The canonical columns whose presence decides whether the data has the column `name`
/// of a rule (a side column stands on two: it is there when either is). See also
/// [`inputs_of`], what evaluating it reads.
pub fn sources_of(name: &str) -> Vec<&'static str> {
    if let Some((_, o, i)) = SIDE_COLUMNS.iter().find(|(n, _, _)| *n == name) {
        return vec![o, i];
    }
    match name {
        "side" => vec![],
        "hour" => vec!["ts"],
        "days_since_opened" => vec!["opened"],
        _ => CANONICAL
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(n, _)| vec![*n])
            .unwrap_or_default(),
    }
}

/// The canonical columns the side-view column `name` is computed from on one side: what
/// to read to evaluate it. It differs from [`sources_of`], which tells whether the data
/// has the column at all: `days_since_opened` reads `ts` and `opened`, but only `opened`
/// can be absent (`ts` is required), so only `opened` decides.
pub fn inputs_of(name: &str, side: Side) -> Vec<String> {
    if let Some((_, o, i)) = SIDE_COLUMNS.iter().find(|(n, _, _)| *n == name) {
        return vec![match side {
            Side::Out => o.to_string(),
            Side::In => i.to_string(),
        }];
    }
    match name {
        "side" => vec![],
        "hour" => vec!["ts".into()],
        "days_since_opened" => vec!["ts".into(), "opened".into()],
        _ => vec![name.to_string()],
    }
}

/// The side-view columns for one side whose sources a frame has.
pub fn side_exprs_for(side: Side, schema: &Schema) -> Vec<Expr> {
    let mut v: Vec<Expr> = SIDE_COLUMNS
        .iter()
        .filter_map(|(name, out_src, in_src)| {
            let src = match side {
                Side::Out => *out_src,
                Side::In => *in_src,
            };
            schema.contains(src).then(|| col(src).alias(*name))
        })
        .collect();
    v.push(lit(side.as_str()).alias("side"));
    if schema.contains("ts") {
        v.push(col("ts").dt().hour().cast(DataType::Int32).alias("hour"));
        if schema.contains("opened") {
            v.push(days_since_opened());
        }
    }
    v
}

/// Days from the account's opening to the transaction.
fn days_since_opened() -> Expr {
    let ms = |e: Expr| {
        e.cast(DataType::Datetime(TimeUnit::Milliseconds, None))
            .cast(DataType::Int64)
    };
    ((ms(col("ts")) - ms(col("opened"))).cast(DataType::Float64) / lit(86_400_000.0)).alias("days_since_opened")
}

/// The expressions that add the side-view columns for one side.
pub fn side_exprs(side: Side) -> Vec<Expr> {
    let mut v: Vec<Expr> = SIDE_COLUMNS
        .iter()
        .map(|(name, out_src, in_src)| {
            let src = match side {
                Side::Out => *out_src,
                Side::In => *in_src,
            };
            col(src).alias(*name)
        })
        .collect();
    v.push(lit(side.as_str()).alias("side"));
    v.push(col("ts").dt().hour().cast(DataType::Int32).alias("hour"));
    v.push(days_since_opened());
    v
}

/// Whether a canonical column is kept dictionary-encoded in memory: every text column but
/// `txn_id` (which is unique). A text column costs 16 bytes a row as polars text and 4 as
/// a code into its distinct values, which is what lets ten million rows fit in a few GB.
pub fn is_compact(name: &str) -> bool {
    col_type(name) == Some(ColType::Text) && name != "txn_id"
}

/// The in-memory type of a compact column: polars' categorical type over the process's
/// global categories (so that columns and input files share one code space).
pub fn compact_dtype() -> DataType {
    DataType::from_categories(Categories::global())
}

/// Dictionary-encodes the compact text columns, one column at a time (the text of each
/// is freed before the next is encoded). The account columns are left as text: see
/// [`encode_accounts`].
pub fn compact(df: &mut DataFrame) -> PolarsResult<()> {
    let names: Vec<PlSmallStr> = df
        .columns()
        .iter()
        .filter(|c| c.dtype() == &DataType::String && is_compact(c.name()) && !is_account(c.name()))
        .map(|c| c.name().clone())
        .collect();
    let to = compact_dtype();
    // As many columns at a time as there are worker threads.
    let workers = crate::util::threads::worker_threads().max(1);
    for group in names.chunks(workers) {
        let idx: Vec<usize> = (0..group.len()).collect();
        let cols: Vec<&Column> = group.iter().map(|n| df.column(n)).collect::<PolarsResult<_>>()?;
        let mut coded = crate::util::threads::run_parallel(&idx, |k| encode_column(cols[k].str()?, &to));
        coded.sort_by_key(|(k, _)| *k);
        for (k, c) in coded {
            df.replace(&group[k], c?)?;
        }
    }
    Ok(())
}

/// A text column as a column of the compact type `to`, with the same name and nulls.
///
/// The same as a cast, with the distinct values of the column kept in a small table of
/// its own: a cast looks every row up in the global categories, shared and much larger,
/// and that took a third of the ingest with low-cardinality columns such as `currency`.
///
/// Each row is first looked up by its 16-byte view (the value itself when it is short,
/// else its length, prefix and place in the array's buffers): equal views are equal
/// values, and a Parquet reader gives every row of a dictionary value the same view, so
/// most rows are found without hashing their text. Only a view not seen before hashes
/// the text. When views seldom repeat (text read row by row, as from CSV), long values
/// skip the view table.
pub(crate) fn encode_column(text: &StringChunked, to: &DataType) -> PolarsResult<Column> {
    let DataType::Categorical(_, mapping) = to else {
        polars_bail!(ComputeError: "the compact type {to} is not categorical");
    };
    if text.null_count() == text.len() {
        return Ok(Column::full_null(text.name().clone(), text.len(), to));
    }
    let mut by_text: PlHashMap<&str, CatSize> = PlHashMap::new();
    let mut cats: Vec<CatSize> = Vec::with_capacity(text.len());
    let validity = text.rechunk_validity();
    let mut row = 0;
    for arr in text.downcast_iter() {
        let mut coder = ViewCoder::default();
        for (i, view) in arr.views().iter().enumerate() {
            row += 1;
            if validity.as_ref().is_some_and(|v| !v.get_bit(row - 1)) {
                cats.push(0);
                continue;
            }
            let v = view.as_u128();
            let cat = match coder.recent(v) {
                Some(c) => c,
                // The text is read only when its view is not known yet.
                None => coder.code(v, view.length, || {
                    let value = arr.value(i);
                    match by_text.get(value) {
                        Some(c) => Ok(*c),
                        None => {
                            let c = mapping.insert_cat(value)?;
                            by_text.insert(value, c);
                            Ok(c)
                        }
                    }
                })?,
            };
            cats.push(cat);
        }
    }
    Ok(coded_column(text.name().clone(), cats, validity, to))
}

/// A column of the compact type `to` from its codes (each given by `to`'s categories) and
/// which rows have one.
pub(crate) fn coded_column(
    name: PlSmallStr,
    codes: Vec<CatSize>,
    validity: Option<polars_arrow::bitmap::Bitmap>,
    to: &DataType,
) -> Column {
    let phys = UInt32Chunked::from_vec_validity(name, codes, validity);
    CategoricalChunked::<Categorical32Type>::from_cats_and_dtype(phys, to.clone())
        .into_series()
        .into_column()
}

/// The longest value a view holds in itself.
const INLINE_VIEW: u32 = 12;

/// Codes by view, for one array (a view names a place in its own array's buffers).
struct ViewCoder {
    /// The views met last, one a slot chosen by a hash of the view: a column of a few
    /// distinct values finds nearly every row here, with one comparison.
    recent: Vec<(u128, CatSize)>,
    by_view: PlHashMap<u128, CatSize>,
    /// Long values looked up by view, and those found so.
    long_tried: u32,
    long_found: u32,
}

impl Default for ViewCoder {
    fn default() -> ViewCoder {
        ViewCoder {
            recent: vec![(0, Self::NO_CODE); Self::RECENT],
            by_view: PlHashMap::new(),
            long_tried: 0,
            long_found: 0,
        }
    }
}

impl ViewCoder {
    /// Long values looked up by view before deciding whether views repeat.
    const TRIAL: u32 = 4096;
    /// Slots of `recent`: a power of two.
    const RECENT: usize = 256;
    /// What an empty slot of `recent` holds as its code.
    const NO_CODE: CatSize = CatSize::MAX;

    /// The slot of `recent` a view goes in.
    fn slot(view: u128) -> usize {
        let mixed = ((view as u64) ^ ((view >> 64) as u64)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        (mixed >> 56) as usize % Self::RECENT
    }

    /// The code of this view when it is in its slot of recent views.
    #[inline]
    fn recent(&self, view: u128) -> Option<CatSize> {
        let (seen, code) = self.recent[Self::slot(view)];
        (seen == view && code != Self::NO_CODE).then_some(code)
    }

    /// The code of the value with this view, not in its slot of recent views ([`Self::recent`]):
    /// from the view table, else from `by_value`; put in its slot.
    fn code(
        &mut self,
        view: u128,
        len: u32,
        by_value: impl FnOnce() -> PolarsResult<CatSize>,
    ) -> PolarsResult<CatSize> {
        let code = self.code_slowly(view, len, by_value)?;
        self.recent[Self::slot(view)] = (view, code);
        Ok(code)
    }

    /// [`Self::code`] but for the slot.
    fn code_slowly(
        &mut self,
        view: u128,
        len: u32,
        by_value: impl FnOnce() -> PolarsResult<CatSize>,
    ) -> PolarsResult<CatSize> {
        let long = len > INLINE_VIEW;
        if long {
            // After the trial, views that seldom repeat are not worth a table.
            if self.long_tried >= Self::TRIAL && self.long_found * 2 < self.long_tried {
                return by_value();
            }
            self.long_tried += 1;
        }
        if let Some(c) = self.by_view.get(&view) {
            if long {
                self.long_found += 1;
            }
            return Ok(*c);
        }
        let c = by_value()?;
        self.by_view.insert(view, c);
        Ok(c)
    }
}

/// The account columns, which share their values and have about as many distinct values
/// as there are accounts.
pub const ACCOUNT_COLUMNS: [&str; 2] = ["orig_account", "bene_account"];

/// Whether a column is one of [`ACCOUNT_COLUMNS`].
pub fn is_account(name: &str) -> bool {
    ACCOUNT_COLUMNS.contains(&name)
}

/// Dictionary-encodes the account columns of a frame that holds them as text, once all
/// its rows are read, together, into the compact type.
///
/// A cast looks each value up in polars' global categories, a table too large for the
/// processor's cache: a few cache misses a row, which at ten million rows and a million
/// accounts made up most of the ingest. Here the values are first split by hash into
/// parts of a few thousand distinct values each, and each part is numbered with a table
/// that stays in the cache; the global categories are then consulted once per distinct
/// value, in an order that does not depend on the thread count.
pub fn encode_accounts(df: &mut DataFrame) -> PolarsResult<()> {
    let names: Vec<&str> = ACCOUNT_COLUMNS
        .iter()
        .copied()
        .filter(|n| df.column(n).map(|c| c.dtype() == &DataType::String).unwrap_or(false))
        .collect();
    if names.is_empty() {
        return Ok(());
    }
    let texts: Vec<&StringChunked> = names.iter().map(|n| df.column(n)?.str()).collect::<PolarsResult<_>>()?;
    let coded = encode_together(&texts)?;
    for (n, c) in names.iter().zip(coded) {
        df.replace(n, c)?;
    }
    Ok(())
}

/// Text columns that share values as categorical columns of the compact type (see
/// [`encode_accounts`]), with the same names and nulls.
fn encode_together(texts: &[&StringChunked]) -> PolarsResult<Vec<Column>> {
    use std::hash::BuildHasher;
    use std::sync::Mutex;
    /// Parts the values are split into by hash: a power of two.
    const PARTS: usize = 256;
    /// One part's values, as a column's rows are split: their rows and their bytes, which
    /// are copied so that numbering them reads memory in order.
    #[derive(Default)]
    struct Split {
        rows: Vec<u32>,
        ends: Vec<u32>,
        bytes: Vec<u8>,
    }
    /// One part's distinct values, numbered in the order met.
    #[derive(Default)]
    struct Part {
        table: hashbrown::HashTable<(u64, u32)>,
        distinct: Vec<PlSmallStr>,
    }
    let state = PlFixedStateQuality::default();
    let workers = crate::util::threads::worker_threads().max(1);
    let parts: Vec<Mutex<Part>> = (0..PARTS).map(|_| Mutex::default()).collect();
    let part_ids: Vec<usize> = (0..PARTS).collect();
    // For each column, and each part, the rows and their numbers within the part.
    let mut numbered: Vec<Vec<(Vec<u32>, Vec<u32>)>> = Vec::with_capacity(texts.len());
    for text in texts {
        let n = text.len();
        // The column in blocks, one per worker, each split into parts.
        let block = n.div_ceil(workers).max(1);
        let blocks: Vec<usize> = (0..n.div_ceil(block)).collect();
        let mut split = crate::util::threads::run_parallel(&blocks, |b| {
            let mut out: Vec<Split> = (0..PARTS).map(|_| Split::default()).collect();
            let from = b * block;
            for (r, v) in text.slice(from as i64, block).iter().enumerate() {
                let Some(s) = v else { continue };
                let r = from + r;
                // The part: middle bits of the hash, which the part's table uses neither
                // for its slots (low bits) nor for its tags (high bits).
                let part = &mut out[(state.hash_one(s.as_bytes()) >> 32) as usize % PARTS];
                part.rows.push(r as u32);
                part.bytes.extend_from_slice(s.as_bytes());
                part.ends.push(part.bytes.len() as u32);
            }
            out
        });
        split.sort_by_key(|(b, _)| *b);
        let split: Vec<Vec<Split>> = split.into_iter().map(|(_, s)| s).collect();
        // Each part numbered on its own, with the values met in earlier columns.
        let mut done = crate::util::threads::run_parallel(&part_ids, |p| -> PolarsResult<(Vec<u32>, Vec<u32>)> {
            let mut guard = parts[p].lock().unwrap_or_else(|e| e.into_inner());
            let Part { table, distinct } = &mut *guard;
            let mut rows = Vec::new();
            let mut nums = Vec::new();
            for blk in &split {
                let sp = &blk[p];
                rows.extend_from_slice(&sp.rows);
                let mut start = 0usize;
                for &end in &sp.ends {
                    let b = &sp.bytes[start..end as usize];
                    start = end as usize;
                    let h = state.hash_one(b);
                    let k = match table.find(h, |&(hh, k)| hh == h && distinct[k as usize].as_bytes() == b) {
                        Some(&(_, k)) => k,
                        None => {
                            let k = distinct.len() as u32;
                            let s = std::str::from_utf8(b).map_err(|e| polars_err!(ComputeError: "{e}"))?;
                            distinct.push(PlSmallStr::from_str(s));
                            table.insert_unique(h, (h, k), |e| e.0);
                            k
                        }
                    };
                    nums.push(k);
                }
            }
            Ok((rows, nums))
        });
        done.sort_by_key(|(p, _)| *p);
        numbered.push(done.into_iter().map(|(_, r)| r).collect::<PolarsResult<_>>()?);
    }
    // The distinct values, part after part, coded once into the global categories.
    let parts: Vec<Part> = parts
        .into_iter()
        .map(|m| m.into_inner().unwrap_or_else(|e| e.into_inner()))
        .collect();
    let mut first = Vec::with_capacity(PARTS);
    let mut n_distinct = 0usize;
    for part in &parts {
        first.push(n_distinct as IdxSize);
        n_distinct += part.distinct.len();
    }
    if n_distinct > IdxSize::MAX as usize {
        polars_bail!(ComputeError: "too many distinct accounts: {n_distinct}");
    }
    let dict = CategoricalChunked::<Categorical32Type>::from_str_iter(
        PlSmallStr::from_static("account"),
        compact_dtype(),
        parts.iter().flat_map(|p| p.distinct.iter().map(|s| Some(s.as_str()))),
    )?
    .into_series();
    drop(parts);
    // Each row's place in that dictionary, and its value through it.
    let cols: Vec<usize> = (0..texts.len()).collect();
    let mut out = crate::util::threads::run_parallel(&cols, |c| {
        let mut at = vec![0 as IdxSize; texts[c].len()];
        for (p, (rows, nums)) in numbered[c].iter().enumerate() {
            for (&r, &k) in rows.iter().zip(nums) {
                at[r as usize] = first[p] + k as IdxSize;
            }
        }
        let at = IdxCa::from_vec_validity(PlSmallStr::EMPTY, at, texts[c].rechunk_validity());
        dict.take(&at)
            .map(|s| s.with_name(texts[c].name().clone()).into_column())
    });
    out.sort_by_key(|(c, _)| *c);
    out.into_iter().map(|(_, c)| c).collect()
}

/// The rows of `df` that `mask` keeps, their text in buffers of their own. A filtered text
/// column shares the buffers of the column it was filtered from: the text of every row
/// read, kept or not, would live as long as the rows kept.
pub fn filter_compact(df: &DataFrame, mask: &BooleanChunked) -> PolarsResult<DataFrame> {
    if !mask.any() {
        // Filtering every row out still goes through every chunk of every column.
        return Ok(df.clear());
    }
    let kept = df.filter(mask)?;
    let height = kept.height();
    let columns = kept
        .into_columns()
        .into_iter()
        .map(|c| match c.dtype() {
            DataType::String => {
                let ca = c.str()?;
                let own = StringChunked::from_chunk_iter(ca.name().clone(), ca.downcast_iter().map(|a| a.clone().gc()));
                Ok(own.into_column())
            }
            _ => Ok(c),
        })
        .collect::<PolarsResult<Vec<Column>>>()?;
    DataFrame::new(height, columns)
}

/// The expressions that turn dictionary-encoded columns of a frame back into text (same
/// names); rules and reports read text.
pub fn text_exprs(schema: &Schema) -> Vec<Expr> {
    schema
        .iter()
        .filter(|(_, t)| t.is_categorical())
        .map(|(n, _)| col(n.clone()).cast(DataType::String))
        .collect()
}

/// A frame with its dictionary-encoded columns turned back into text.
pub fn as_text(df: DataFrame) -> PolarsResult<DataFrame> {
    let exprs = text_exprs(df.schema());
    if exprs.is_empty() {
        return Ok(df);
    }
    df.lazy().with_columns(exprs).collect()
}

/// The earliest transaction time (`ts`, ms since the epoch) of screened rows; `None`
/// without a row.
pub fn first_time(df: &DataFrame) -> crate::error::Result<Option<i64>> {
    use crate::error::PolarsContext;
    let ts = df
        .column("ts")
        .and_then(|c| c.cast(&DataType::Int64))
        .ctx(|| "reading column `ts`".into())?;
    Ok(ts.i64().ctx(|| "reading column `ts`".into())?.min())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rows kept hold their own text only, not the text of the rows filtered out.
    #[test]
    fn filtered_rows_hold_their_own_text_only() {
        let text: StringChunked = (0..10_000)
            .map(|i| (i % 7 != 0).then(|| format!("an account name long enough {i}")))
            .collect();
        let df = DataFrame::new(
            10_000,
            vec![
                text.with_name("name".into()).into_column(),
                Column::new("n".into(), (0..10_000).collect::<Vec<u32>>()),
            ],
        )
        .unwrap();
        let mask: BooleanChunked = (0..10_000).map(|i| i % 1000 == 1).collect();
        let buffers = |d: &DataFrame| -> usize {
            d.column("name")
                .unwrap()
                .str()
                .unwrap()
                .downcast_iter()
                .map(|a| a.total_buffer_len())
                .sum()
        };
        let shared = df.filter(&mask).unwrap();
        let own = filter_compact(&df, &mask).unwrap();
        assert_eq!(own, shared);
        // Ten names of 30-odd bytes, against the 300 kB of every name read.
        assert!(buffers(&shared) > 100_000, "{}", buffers(&shared));
        assert!(buffers(&own) < 1_000, "{}", buffers(&own));
        // No row kept, or only nulls in the mask: no row, the same columns.
        for none in [vec![Some(false); 10_000], vec![None; 10_000]] {
            let none: BooleanChunked = none.into_iter().collect();
            let empty = filter_compact(&df, &none).unwrap();
            assert_eq!(empty, df.filter(&none).unwrap());
            assert_eq!((empty.height(), empty.schema()), (0, df.schema()));
        }
    }

    /// A text column coded per batch holds what a cast gives: values, nulls, name.
    #[test]
    fn a_column_is_coded_as_a_cast_codes_it() {
        let text: StringChunked = (0..2_000)
            .map(|i| match i % 5 {
                0 => None,
                1 => Some("wire".to_string()),
                2 => Some(format!("долгий текст номер {}", i % 17)),
                _ => Some(format!("c{}", i % 301)),
            })
            .collect::<StringChunked>()
            .with_name("channel".into());
        let coded = encode_column(&text, &compact_dtype()).unwrap();
        assert_eq!(coded.name().as_str(), "channel");
        assert_eq!(coded.null_count(), 400);
        let cast = text.clone().into_column().cast(&compact_dtype()).unwrap();
        assert!(coded.equals_missing(&cast));
        let back = coded.cast(&DataType::String).unwrap();
        assert!(back.as_materialized_series().equals_missing(&text.into_series()));
    }

    /// Rows that share views (as a Parquet reader's dictionary values do, and as a
    /// gather gives) and long values that never repeat (past the trial of the view
    /// table) are coded as a cast codes them, over several chunks.
    #[test]
    fn shared_and_unshared_views_are_coded_as_a_cast_codes_them() {
        let distinct: StringChunked = (0..9_000)
            .map(|i| match i % 3 {
                0 => Some(format!("a long value that is not inline, number {i}")),
                1 => Some(format!("s{}", i % 50)),
                _ => Some(format!("наименование получателя {}", i % 97)),
            })
            .collect::<StringChunked>()
            .with_name("narrative".into());
        // The same values again, gathered: every row's view repeats an earlier one.
        let idx: Vec<IdxSize> = (0..20_000u32).map(|i| (i * 7919) % 9_000).collect();
        let gathered = distinct.take(&IdxCa::from_vec("i".into(), idx)).unwrap();
        let mut text = distinct.clone();
        text.append(&gathered).unwrap();
        assert!(text.chunks().len() >= 2);
        let coded = encode_column(&text, &compact_dtype()).unwrap();
        let back = coded.cast(&DataType::String).unwrap();
        assert!(back
            .as_materialized_series()
            .equals_missing(&text.clone().into_series()));
        let cast = text.into_column().cast(&compact_dtype()).unwrap();
        assert!(coded.equals_missing(&cast));
    }

    /// The account columns coded together hold the values, nulls and names a cast gives,
    /// share codes for the same value, and hold long and non-ASCII values, over more rows
    /// than there are parts and across several chunks.
    #[test]
    fn accounts_are_coded_as_a_cast_codes_them() {
        let value = |i: usize| -> Option<String> {
            match i % 7 {
                0 => None,
                1 => Some(format!("a very long account number that is not inlined {}", i % 40)),
                2 => Some(format!("счёт-{}", i % 13)),
                _ => Some(format!("AC{}", (i * 31) % 1_000)),
            }
        };
        let orig: StringChunked = (0..3_000)
            .map(value)
            .collect::<StringChunked>()
            .with_name("orig_account".into());
        let mut bene: StringChunked = (0..1_500)
            .map(|i| value(i * 3 + 1))
            .collect::<StringChunked>()
            .with_name("bene_account".into());
        bene.append(&(1_500..3_000).map(value).collect::<StringChunked>())
            .unwrap();
        assert!(bene.chunks().len() > 1);
        let mut df = DataFrame::new_infer_height(vec![
            orig.clone().into_column(),
            bene.clone().into_column(),
            Column::new("channel".into(), vec!["wire"; 3_000]),
        ])
        .unwrap();
        encode_accounts(&mut df).unwrap();
        for (name, text) in [("orig_account", &orig), ("bene_account", &bene)] {
            let coded = df.column(name).unwrap();
            assert_eq!(coded.dtype(), &compact_dtype(), "{name}");
            let back = coded.cast(&DataType::String).unwrap();
            assert!(
                back.as_materialized_series()
                    .equals_missing(&text.clone().into_series()),
                "{name}"
            );
            let cast = text.clone().into_column().cast(&compact_dtype()).unwrap();
            assert!(coded.equals_missing(&cast), "{name}");
        }
        // A value in both columns has one code.
        let o = df.column("orig_account").unwrap().to_physical_repr();
        let b = df.column("bene_account").unwrap().to_physical_repr();
        let (o, b) = (o.u32().unwrap(), b.u32().unwrap());
        for i in 0..3_000 {
            if orig.get(i) == bene.get(i) && orig.get(i).is_some() {
                assert_eq!(o.get(i), b.get(i));
            }
        }
        // Other columns are left alone.
        assert_eq!(df.column("channel").unwrap().dtype(), &DataType::String);
    }
}
