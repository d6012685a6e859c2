//! Every input through the stages that follow reading: batches mapped, numbered, converted
//! and checked on the worker threads; the batches joined; duplicate ids marked; rows set
//! aside with their reasons; counts per file; the screened frame.

use std::path::Path;

use polars::prelude::*;

use super::fx::apply_fx;
use super::map::{map_frame, Mapped, Wanted, KEY_TEXT};
use super::mapping::Mapping;
use super::parquet::read_slice;
use super::parse::translate;
use super::{Dataset, Format, IngestOptions, InputSummary, ParquetSource, Raw};
use crate::error::{PolarsContext, Result};
use crate::schema::{self, CANONICAL, LABEL};

/// Rows read, mapped, checked and dictionary-encoded at a time: only one batch's text is
/// held as polars text at once, so a file of ten million rows never needs the 16 bytes a
/// row and text column that polars' text takes.
pub const BATCH_ROWS: usize = 1 << 19;

pub(super) fn finish_inputs(frames: Vec<Raw>, mapping: &Mapping, opts: &IngestOptions) -> Result<Dataset> {
    let n = frames.len();
    let mut frames: Vec<Option<Raw>> = frames.into_iter().map(Some).collect();
    let mut read = |i: usize| {
        frames[i].take().ok_or_else(|| crate::error::Error::Input {
            path: format!("input {i}").into(),
            message: "read twice".into(),
        })
    };
    finish_inputs_in(n, &mut read, mapping, opts, BATCH_ROWS)
}

/// As [`finish_inputs`], the inputs read one after the other: `read(i)` gives input `i`
/// of `n_files`, once, when the one before it is done.
pub(super) fn finish_inputs_each(
    n_files: usize,
    read: &mut dyn FnMut(usize) -> Result<Raw>,
    mapping: &Mapping,
    opts: &IngestOptions,
) -> Result<Dataset> {
    finish_inputs_in(n_files, read, mapping, opts, BATCH_ROWS)
}

/// One input file as read: path, format, sha256 and rows read.
type FileMeta = (String, Format, String, u64);

/// Records that could not be parsed: file index, record number and reason.
type Rejected = Vec<(u32, u32, String)>;

/// The base currency of the run (upper case; `USD` when none is given).
fn base_currency(opts: &IngestOptions) -> String {
    if opts.base_currency.is_empty() {
        "USD".to_string()
    } else {
        opts.base_currency.to_uppercase()
    }
}

/// Rows in an input: the Parquet file's count, else the frame's.
fn frame_height(lf: &LazyFrame, parquet: &Option<ParquetSource>, path: &str) -> Result<usize> {
    Ok(match parquet {
        Some(p) => p.rows,
        None => {
            let counted = lf
                .clone()
                .select([len().cast(DataType::UInt64).alias("n")])
                .collect()
                .ctx(|| format!("{path}: reading the rows"))?;
            counted.column("n").ok().and_then(|c| c.u64().ok()?.get(0)).unwrap_or(0) as usize
        }
    })
}

/// One input file, cut into batches: what each batch's stages read.
struct FileBatches<'a> {
    lf: LazyFrame,
    path: &'a str,
    format: Format,
    /// Record numbers of the rows read, when records were set aside before parsing.
    rows: &'a Option<Vec<u32>>,
    parquet: &'a Option<ParquetSource>,
    /// The source's columns (empty: the frame's own).
    names: &'a [String],
    height: usize,
    batch_rows: usize,
    /// The file's index among the inputs.
    fi: usize,
    /// The prefix of generated transaction ids (the file's stem, when there are several).
    id_prefix: String,
    mapping: &'a Mapping,
    opts: &'a IngestOptions,
    wanted: &'a Wanted,
    base: &'a str,
}

impl FileBatches<'_> {
    /// The read stage: the batch's rows as read, from the Parquet file or the frame.
    fn read(&self, off: usize, len: usize) -> Result<LazyFrame> {
        Ok(match self.parquet {
            Some(p) => read_slice(p, off, len)?,
            None => self.lf.clone().slice(off as i64, len as IdxSize),
        })
    }

    /// Whether the mapped batch has a transaction id column (else one is generated).
    fn has_txn_id(&self, m: &Mapped) -> bool {
        self.mapping.columns.contains_key("txn_id")
            || (self.mapping.passthrough
                && m.lf
                    .clone()
                    .collect_schema()
                    .map(|s| s.contains("txn_id"))
                    .unwrap_or(false))
    }

    /// The numbering stage: `__row`, the record number of each row (counted from the
    /// batch's offset, or taken from the records kept when some were set aside).
    fn number(&self, lf: LazyFrame, off: usize) -> Result<DataFrame> {
        let path = self.path;
        let numbered_lf = lf.with_row_index("__row", Some((off + 1) as IdxSize));
        let mut numbered = numbered_lf.collect().ctx(|| format!("{path}: reading the rows"))?;
        if let Some(rows) = self.rows {
            let mine: Vec<u32> = rows.iter().skip(off).take(numbered.height()).copied().collect();
            numbered
                .with_column(Column::new("__row".into(), mine))
                .ctx(|| format!("{path}: numbering the rows"))?;
        }
        Ok(numbered)
    }

    /// The key stage: typed text keeps its values; an empty key is still a missing one
    /// (an empty account is the cash side). Checked first, so that a clean column is not
    /// copied.
    fn blank_keys_to_null(&self, numbered: &mut DataFrame) -> Result<()> {
        let path = self.path;
        for c in KEY_TEXT {
            let fixed = match numbered.column(c).and_then(|col| col.str().cloned()) {
                Ok(ca) => blanks_as_missing(&ca),
                _ => None,
            };
            if let Some(f) = fixed {
                numbered
                    .with_column(f.into_column())
                    .ctx(|| format!("{path}: reading column `{c}`"))?;
            }
        }
        Ok(())
    }

    /// One batch through every stage: read, mapped, numbered, keys cleaned, ids
    /// generated, file marked, converted into the base currency, checked (reason codes)
    /// and dictionary-encoded. Returns the frame and the canonical columns supplied.
    fn batch(&self, off: usize) -> Result<(DataFrame, Vec<String>)> {
        let path = self.path;
        let len = self.batch_rows.min(self.height - off);
        let raw_batch = self.read(off, len)?;
        let mut supplied = Vec::new();
        let m = map_frame(
            raw_batch,
            (path, self.names, self.parquet.as_ref().map_or(&[][..], |p| &p.coded)),
            self.mapping,
            self.format == Format::Csv,
            self.wanted,
            &mut supplied,
        )?;
        let has_currency = supplied.iter().any(|c| c == "currency");
        let has_txn_id = self.has_txn_id(&m);
        let mut numbered = self.number(m.lf, off)?;
        self.blank_keys_to_null(&mut numbered)?;
        let mut lf = numbered.lazy();
        if !has_txn_id {
            // Generated from the row number (and the file, when there are several).
            lf = lf.with_column(
                concat_str(
                    [lit(self.id_prefix.clone()), col("__row").cast(DataType::String)],
                    "",
                    false,
                )
                .alias("txn_id"),
            );
        }
        let mut df = lf.collect().ctx(|| format!("{path}: reading the rows"))?;
        let h = df.height();
        df.with_column(Column::new("__file".into(), vec![self.fi as u32; h]))
            .ctx(|| format!("{path}: numbering the rows"))?;
        // Currency and amount in base currency.
        let mut df = apply_fx(df, self.base, self.opts.fx.as_ref(), has_currency)?;
        df.with_column(row_codes(&df).ctx(|| format!("{path}: checking the rows"))?)
            .ctx(|| format!("{path}: checking the rows"))?;
        schema::compact(&mut df).ctx(|| format!("{path}: encoding the text columns"))?;
        Ok((df, supplied))
    }
}

/// The text column with its empty values as missing ones; `None` when it has none (the
/// column is then not copied).
pub(super) fn blanks_as_missing(ca: &StringChunked) -> Option<StringChunked> {
    has_empty(ca).then(|| {
        ca.iter()
            .map(|v| v.filter(|s| !s.is_empty()))
            .collect::<StringChunked>()
            .with_name(ca.name().clone())
    })
}

/// Whether a text column holds an empty value (not a missing one), read from the length
/// each row's view holds: the text itself is not read.
fn has_empty(ca: &StringChunked) -> bool {
    let validity = ca.rechunk_validity();
    let mut row = 0;
    ca.downcast_iter().any(|arr| {
        let from = row;
        row += arr.len();
        arr.views()
            .iter()
            .enumerate()
            .any(|(i, v)| v.length == 0 && validity.as_ref().is_none_or(|b| b.get_bit(from + i)))
    })
}

/// What the files read so far add up to.
struct Gathered {
    /// The canonical columns the inputs supplied, in the order first seen.
    present: Vec<String>,
    /// The batches, in file and row order.
    parts: Vec<DataFrame>,
    meta: Vec<FileMeta>,
    rejected_rows: Rejected,
}

/// What takes a group's batches.
type GroupFn<'a> = dyn FnMut(&mut Gathered) -> Result<()> + 'a;

/// Every input through the file stage ([`read_input`]), one after the other: `read(i)`
/// gives input `i` of `n_files`; `on_group` takes each group of batches read.
fn read_inputs(
    n_files: usize,
    read: &mut dyn FnMut(usize) -> Result<Raw>,
    ctx: (&Mapping, &IngestOptions, &Wanted, &str, usize),
    on_group: &mut OnGroup<'_>,
) -> Result<Gathered> {
    let mut got = Gathered {
        present: Vec::new(),
        parts: Vec::new(),
        meta: Vec::new(),
        rejected_rows: Vec::new(),
    };
    for fi in 0..n_files {
        let raw = read(fi)?;
        read_input(fi, raw, n_files, ctx, &mut got, on_group)?;
    }
    Ok(got)
}

/// What is done with each group of batches read: `batches` batches of a file are read side
/// by side, then `call` (when given) takes them from [`Gathered::parts`].
struct OnGroup<'a> {
    batches: usize,
    call: Option<&'a mut GroupFn<'a>>,
}

/// The file stage: one input's batches, each read, mapped, checked and encoded on its own
/// on the worker threads, then joined in file order into `out`.
fn read_input(
    fi: usize,
    raw: Raw,
    n_files: usize,
    ctx: (&Mapping, &IngestOptions, &Wanted, &str, usize),
    out: &mut Gathered,
    on_group: &mut OnGroup<'_>,
) -> Result<()> {
    let (mapping, opts, wanted, base, batch_rows) = ctx;
    let Raw {
        lf,
        path,
        format,
        sha,
        rows,
        rejected,
        names,
        parquet,
    } = raw;
    let stem = Path::new(&path)
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_else(|| "input".into());
    let height = frame_height(&lf, &parquet, &path)?;
    let batch_rows = batch_rows.max(1);
    let starts: Vec<usize> = if height == 0 {
        vec![0]
    } else {
        (0..height).step_by(batch_rows).collect()
    };
    let file = FileBatches {
        lf,
        path: &path,
        format,
        rows: &rows,
        parquet: &parquet,
        names: &names,
        height,
        batch_rows,
        fi,
        id_prefix: if n_files > 1 { format!("{stem}:") } else { String::new() },
        mapping,
        opts,
        wanted,
        base,
    };
    let mut read = 0u64;
    for group in starts.chunks(on_group.batches.max(1)) {
        let idx: Vec<usize> = (0..group.len()).collect();
        let mut done = crate::util::threads::run_parallel(&idx, |k| file.batch(group[k]));
        done.sort_by_key(|(k, _)| *k);
        for (_, res) in done {
            let (df, supplied) = res?;
            for c in supplied {
                if !out.present.contains(&c) {
                    out.present.push(c);
                }
            }
            read += df.height() as u64;
            out.parts.push(df);
        }
        if let Some(f) = on_group.call.as_mut() {
            f(out)?;
        }
    }
    drop(file);
    let n_rejected = rejected.len() as u64;
    out.rejected_rows
        .extend(rejected.into_iter().map(|(r, why)| (fi as u32, r, why)));
    out.meta.push((path, format, sha, read + n_rejected));
    Ok(())
}

/// The join stage: every batch with the same columns in the same order (missing ones as
/// nulls, a missing `__raw_*` as its column's text), concatenated.
fn join_parts(parts: Vec<DataFrame>) -> Result<DataFrame> {
    let mut cols: Vec<String> = parts[0].get_column_names().iter().map(|s| s.to_string()).collect();
    for p in &parts[1..] {
        for c in p.get_column_names() {
            if !cols.iter().any(|x| x == c.as_str()) {
                cols.push(c.to_string());
            }
        }
    }
    let mut aligned = Vec::new();
    for p in parts {
        let schema = p.schema().clone();
        let exprs: Vec<Expr> = cols
            .iter()
            .map(|c| {
                if schema.contains(c) {
                    col(c.as_str())
                } else if let Some(canon) = c.strip_prefix("__raw_") {
                    col(canon).cast(DataType::String).alias(c.as_str())
                } else {
                    let ty = if schema::is_compact(c) && !schema::is_account(c) {
                        schema::compact_dtype()
                    } else {
                        schema::col_type(c).map(|t| t.dtype()).unwrap_or(DataType::String)
                    };
                    lit(NULL).cast(ty).alias(c.as_str())
                }
            })
            .collect();
        aligned.push(p.lazy().select(exprs));
    }
    concat(aligned, UnionArgs::default())
        .ctx(|| "joining the input files".into())?
        .collect()
        .ctx(|| "joining the input files".into())
}

/// The duplicate stage: a transaction id seen on an earlier row, of any file, is a
/// duplicate (code 9) when the row has no other reason.
fn mark_repeated_ids(all: DataFrame) -> Result<DataFrame> {
    let repeated = all
        .column("txn_id")
        .and_then(|c| c.str().map(repeated_ids))
        .ctx(|| "checking the transaction ids".into())?;
    mark_repeated(all, repeated)
}

/// Rows `repeated` (increasing) marked as duplicates (code 9) when they have no other
/// reason.
fn mark_repeated(all: DataFrame, repeated: Vec<u32>) -> Result<DataFrame> {
    if repeated.is_empty() {
        return Ok(all);
    }
    let mut mask = vec![false; all.height()];
    for r in repeated {
        mask[r as usize] = true;
    }
    all.lazy()
        .with_column(
            when(col("__code").eq(lit(0u32)).and(lit(Series::new("__rep".into(), mask))))
                .then(lit(9u32))
                .otherwise(col("__code"))
                .alias("__code"),
        )
        .collect()
        .ctx(|| "checking the rows".into())
}

/// A column's text as read: its `__raw_*` copy when the frame has one.
fn raw_text(schema: &Schema, c: &str) -> Expr {
    if schema.contains(&format!("__raw_{c}")) {
        col(format!("__raw_{c}"))
    } else {
        col(c).cast(DataType::String)
    }
}

/// A column's text as read when there is some, else its value as text (a value computed
/// where the input gave none).
fn given_text(schema: &Schema, c: &str) -> Expr {
    let value = col(c).cast(DataType::String);
    if schema.contains(&format!("__raw_{c}")) {
        let raw = col(format!("__raw_{c}"));
        when(raw.clone().str().strip_chars(lit(NULL)).str().len_bytes().gt(lit(0)))
            .then(raw)
            .otherwise(value)
    } else {
        value
    }
}

/// The words of each reason code.
fn reason_expr(schema: &Schema) -> Expr {
    let quote = |e: Expr| concat_str([lit("`"), e.fill_null(lit("")), lit("`")], "", false);
    let is = |n: u32| col("__code").eq(lit(n));
    when(is(1))
        .then(lit("missing date (ts)"))
        .when(is(2))
        .then(concat_str(
            [lit("unparsable date (ts) "), quote(raw_text(schema, "ts"))],
            "",
            false,
        ))
        .when(is(3))
        .then(lit("missing amount"))
        .when(is(4))
        .then(concat_str(
            [lit("unparsable amount "), quote(raw_text(schema, "amount"))],
            "",
            false,
        ))
        .when(is(5))
        .then(concat_str(
            [lit("non-positive amount "), quote(raw_text(schema, "amount"))],
            "",
            false,
        ))
        .when(is(6))
        .then(lit("missing account: both orig_account and bene_account are empty"))
        .when(is(7))
        .then(lit("missing txn_id"))
        .when(is(8))
        .then(concat_str(
            [
                lit("no FX rate for currency "),
                quote(col("currency").cast(DataType::String)),
                lit(" into the base currency; add its rate to the FX rates"),
            ],
            "",
            false,
        ))
        .when(is(10))
        .then(concat_str(
            [
                lit("amount "),
                quote(raw_text(schema, "amount")),
                lit(" is not a finite number below 1e15"),
            ],
            "",
            false,
        ))
        .when(is(11))
        .then(concat_str(
            [
                lit("amount_base "),
                quote(given_text(schema, "amount_base")),
                lit(" is not a number above 0 and below 1e15 (given, or amount × the FX rate)"),
            ],
            "",
            false,
        ))
        .otherwise(concat_str([lit("duplicate txn_id "), quote(col("txn_id"))], "", false))
        .alias("__reason")
}

/// The quarantine stage: a reason code for every row (cheap), the words only for the rows
/// set aside. Returns the rows to screen and the rows set aside.
fn split_quarantine(all: DataFrame) -> Result<(DataFrame, DataFrame)> {
    let schema_all = all.schema().clone();
    let bad_mask = all
        .column("__code")
        .and_then(|c| c.as_materialized_series().not_equal(0u32))
        .ctx(|| "checking the rows".into())?;
    // Their text copied out: the rows set aside are kept to the end of the run, and
    // would otherwise keep the text of every row read.
    let bad = crate::schema::filter_compact(&all, &bad_mask)
        .ctx(|| "checking the rows".into())?
        .lazy()
        .with_columns([
            reason_expr(&schema_all),
            raw_text(&schema_all, "ts").alias("__raw_ts"),
            raw_text(&schema_all, "amount").alias("__raw_amount"),
        ])
        .collect()
        .ctx(|| "checking the rows".into())?;
    let good = if bad.height() == 0 {
        all
    } else {
        let good = all.filter(&!&bad_mask).ctx(|| "checking the rows".into())?;
        drop(all);
        good
    };
    Ok((good, bad))
}

/// The count stage: each file's rows read, screened and quarantined.
fn input_summaries(meta: &[FileMeta], good_n: &[u64], bad_n: &[u64], rejected_rows: &Rejected) -> Vec<InputSummary> {
    meta.iter()
        .enumerate()
        .map(|(i, (path, format, sha, n))| InputSummary {
            path: path.clone(),
            format: *format,
            sha256: sha.clone(),
            rows_read: *n,
            rows_screened: good_n[i],
            rows_quarantined: bad_n[i] + rejected_rows.iter().filter(|r| r.0 as usize == i).count() as u64,
        })
        .collect()
}

/// Adds the rows of `df` of each file (by `__file`) to `counts`.
fn count_by_file(df: &DataFrame, counts: &mut [u64]) {
    if let Ok(c) = df.column("__file").and_then(|c| c.u32().cloned()) {
        for f in c.into_no_null_iter() {
            if let Some(n) = counts.get_mut(f as usize) {
                *n += 1;
            }
        }
    }
}

/// The quarantine listing: records that could not be parsed, then rows with a bad value,
/// in file and row order, with the raw key fields.
fn quarantine_frame(bad: DataFrame, rejected_rows: &Rejected, meta: &[FileMeta]) -> Result<DataFrame> {
    let file_names: Vec<String> = meta.iter().map(|m| m.0.clone()).collect();
    let unparsed = DataFrame::new_infer_height(vec![
        Column::new("__file".into(), rejected_rows.iter().map(|r| r.0).collect::<Vec<u32>>()),
        Column::new("__row".into(), rejected_rows.iter().map(|r| r.1).collect::<Vec<u32>>()),
        Column::new(
            "__reason".into(),
            rejected_rows.iter().map(|r| r.2.clone()).collect::<Vec<String>>(),
        ),
    ])
    .ctx(|| "listing the unparsed records".into())?;
    let bad = concat(
        [bad.lazy().select([col("*")]), unparsed.lazy()],
        UnionArgs {
            diagonal: true,
            ..Default::default()
        },
    )
    .ctx(|| "listing the quarantined rows".into())?
    .sort(["__file", "__row"], SortMultipleOptions::default())
    .collect()
    .ctx(|| "listing the quarantined rows".into())?;
    bad.lazy()
        .select([
            translate(
                col("__file").cast(DataType::String),
                &file_names
                    .iter()
                    .enumerate()
                    .map(|(i, n)| (i.to_string(), n.clone()))
                    .collect(),
                lit(NULL).cast(DataType::String),
            )
            .alias("file"),
            col("__row").alias("row"),
            col("__reason").alias("reason"),
            col("txn_id"),
            col("__raw_ts").alias("ts"),
            col("__raw_amount").alias("amount"),
            col("currency").cast(DataType::String),
            col("orig_account").cast(DataType::String),
            col("bene_account").cast(DataType::String),
        ])
        .collect()
        .ctx(|| "listing the quarantined rows".into())
}

/// The screened transactions: canonical columns, then the label; accounts encoded, one
/// chunk per column.
fn canonical_frame(good: DataFrame) -> Result<DataFrame> {
    let mut keep: Vec<Expr> = CANONICAL.iter().map(|(n, _)| col(*n)).collect();
    if good.schema().contains(LABEL) {
        keep.push(col(LABEL));
    }
    let mut transactions = good
        .lazy()
        .select(keep)
        .collect()
        .ctx(|| "building the canonical frame".into())?;
    schema::encode_accounts(&mut transactions).ctx(|| "encoding the account columns".into())?;
    // One chunk per column: the rules read rows in account order, scattered over the
    // file, and a row of a single chunk is found without a search through the batches.
    transactions.rechunk_mut_par();
    Ok(transactions)
}

/// Every input through the stages: each file's batches ([`read_input`]), the generated
/// columns counted as present, the batches joined ([`join_parts`]), duplicate ids marked
/// ([`mark_repeated_ids`]), rows set aside ([`split_quarantine`]), the counts
/// ([`input_summaries`]), the quarantine listing ([`quarantine_frame`]) and the screened
/// frame ([`canonical_frame`]).
pub(super) fn finish_inputs_in(
    n_files: usize,
    read: &mut dyn FnMut(usize) -> Result<Raw>,
    mapping: &Mapping,
    opts: &IngestOptions,
    batch_rows: usize,
) -> Result<Dataset> {
    let base = base_currency(opts);
    let wanted = Wanted::new(&opts.columns);
    let mut whole = OnGroup {
        batches: usize::MAX,
        call: None,
    };
    let ctx = (mapping, opts, &wanted, base.as_str(), batch_rows);
    let got = read_inputs(n_files, read, ctx, &mut whole)?;
    let Gathered {
        mut present,
        parts,
        meta,
        rejected_rows,
    } = got;
    with_generated(&mut present);
    let all = join_parts(parts)?;
    let all = mark_repeated_ids(all)?;
    let (good, bad) = split_quarantine(all)?;
    let (mut good_n, mut bad_n) = (vec![0; n_files], vec![0; n_files]);
    count_by_file(&good, &mut good_n);
    count_by_file(&bad, &mut bad_n);
    let inputs = input_summaries(&meta, &good_n, &bad_n, &rejected_rows);
    let quarantine = quarantine_frame(bad, &rejected_rows, &meta)?;
    let transactions = canonical_frame(good)?;
    Ok(Dataset {
        transactions,
        present,
        quarantine,
        inputs,
        columns_read: wanted.chosen(),
        whole: None,
    })
}

/// The columns every dataset has, generated when no input supplies them, counted as
/// present.
fn with_generated(present: &mut Vec<String>) {
    for generated in schema::GENERATED {
        if !present.iter().any(|p| p == generated) {
            present.push(generated.to_string());
        }
    }
}

/// As [`finish_inputs`], but the screened rows are never held at once: the inputs, read
/// one after the other (`read(i)` gives input `i` of `n_files`), go through the stages a
/// group of at least `group_rows` rows at a time, and each group's screened transactions
/// (canonical, encoded, in input order; a group may have none) are handed to `sink`. A
/// transaction id is a duplicate when an earlier row of its group holds it, or a row of
/// an earlier group ([`SeenIds`]). The dataset returned holds no transactions.
pub(super) fn finish_inputs_streamed(
    n_files: usize,
    read: &mut dyn FnMut(usize) -> Result<Raw>,
    mapping: &Mapping,
    opts: &IngestOptions,
    group_rows: usize,
    sink: &mut dyn FnMut(DataFrame) -> Result<()>,
) -> Result<Dataset> {
    let base = base_currency(opts);
    let wanted = Wanted::new(&opts.columns);
    let mut seen = SeenIds::default();
    let (mut good_n, mut bad_n) = (vec![0u64; n_files], vec![0u64; n_files]);
    let mut bad_parts = Vec::new();
    let mut last = DataFrame::empty();
    let mut group = |got: &mut Gathered| -> Result<()> {
        let parts = std::mem::take(&mut got.parts);
        if parts.is_empty() {
            return Ok(());
        }
        let all = join_parts(parts)?;
        let repeated = all
            .column("txn_id")
            .and_then(|c| c.str().map(|ids| seen.repeated(ids)))
            .ctx(|| "checking the transaction ids".into())?;
        let all = mark_repeated(all, repeated)?;
        let (good, bad) = split_quarantine(all)?;
        count_by_file(&good, &mut good_n);
        count_by_file(&bad, &mut bad_n);
        // The first group's, even empty: the listing's columns.
        if bad.height() > 0 || bad_parts.is_empty() {
            bad_parts.push(bad);
        }
        let transactions = canonical_frame(good)?;
        last = transactions.clear();
        sink(transactions)
    };
    // Batches of a group's rows or fewer, as many a group as there are workers or more.
    let batch_rows = BATCH_ROWS.min(group_rows.max(1));
    let mut on_group = OnGroup {
        batches: group_rows
            .div_ceil(batch_rows)
            .max(crate::util::threads::worker_threads()),
        call: Some(&mut group),
    };
    let ctx = (mapping, opts, &wanted, base.as_str(), batch_rows);
    let Gathered {
        mut present,
        meta,
        rejected_rows,
        ..
    } = read_inputs(n_files, read, ctx, &mut on_group)?;
    with_generated(&mut present);
    let inputs = input_summaries(&meta, &good_n, &bad_n, &rejected_rows);
    let bad = join_parts(bad_parts)?;
    let quarantine = quarantine_frame(bad, &rejected_rows, &meta)?;
    Ok(Dataset {
        transactions: last,
        present,
        quarantine,
        inputs,
        columns_read: wanted.chosen(),
        whole: None,
    })
}

/// The transaction ids seen in earlier groups of a streamed ingest, as 128-bit
/// fingerprints (two 64-bit hashes with fixed seeds): 16 bytes an id, whatever its
/// length, in tables split by the fingerprint's first byte, so that a table that grows
/// copies a 256th of them. Two different ids share a fingerprint with a probability of
/// about n²/2¹²⁹, one in 10²² for a hundred million ids.
struct SeenIds {
    seen: Vec<hashbrown::HashSet<u128, PlFixedStateQuality>>,
}

impl Default for SeenIds {
    fn default() -> SeenIds {
        SeenIds {
            seen: (0..256).map(|_| hashbrown::HashSet::default()).collect(),
        }
    }
}

impl SeenIds {
    /// The rows of a group whose id an earlier row of the group holds, or an earlier
    /// group, in row order; the group's ids are then seen.
    fn repeated(&mut self, ids: &StringChunked) -> Vec<u32> {
        use std::hash::BuildHasher;
        let within = repeated_ids(ids);
        let (a, b) = (
            PlFixedStateQuality::with_seed(0x5ee1_d5a1),
            PlFixedStateQuality::with_seed(0x0dd1_d5b2),
        );
        let mut out = Vec::with_capacity(within.len());
        let mut w = within.iter().peekable();
        for (r, v) in ids.iter().enumerate() {
            let r = r as u32;
            if w.peek() == Some(&&r) {
                w.next();
                out.push(r);
                continue;
            }
            if let Some(s) = v {
                let fp = (u128::from(a.hash_one(s)) << 64) | u128::from(b.hash_one(s));
                if !self.seen[(fp >> 120) as usize].insert(fp) {
                    out.push(r);
                }
            }
        }
        out
    }
}

/// The rows whose transaction id an earlier row holds, in row order (a null id is never
/// repeated). The ids are split by hash into parts, in row order within each, and each
/// part is searched for repeats on its own, with a table small enough for the processor's
/// cache; the answer does not depend on the thread count.
fn repeated_ids(ids: &StringChunked) -> Vec<u32> {
    use std::hash::BuildHasher;
    /// Parts the ids are split into: a power of two.
    const PARTS: usize = 256;
    let ids = ids.rechunk();
    let arr = ids.downcast_as_array();
    let n = ids.len();
    let state = PlFixedStateQuality::default();
    let workers = crate::util::threads::worker_threads().max(1);
    // Hashes and rows, by part, a block of rows per thread.
    let block = n.div_ceil(workers).max(1);
    let blocks: Vec<usize> = (0..n.div_ceil(block)).collect();
    let mut split = crate::util::threads::run_parallel(&blocks, |b| {
        let mut parts: Vec<Vec<(u64, u32)>> = vec![Vec::new(); PARTS];
        let from = b * block;
        for (r, v) in ids.slice(from as i64, block).iter().enumerate() {
            if let Some(s) = v {
                let h = state.hash_one(s);
                // The part: middle bits of the hash, which the table uses neither for its
                // slots (low bits) nor for its tags (high bits).
                parts[(h >> 32) as usize % PARTS].push((h, (from + r) as u32));
            }
        }
        parts
    });
    split.sort_by_key(|(b, _)| *b);
    let split: Vec<Vec<Vec<(u64, u32)>>> = split.into_iter().map(|(_, p)| p).collect();
    let parts: Vec<usize> = (0..PARTS).collect();
    let found = crate::util::threads::run_parallel(&parts, |p| {
        let mut seen: hashbrown::HashTable<(u64, u32)> = hashbrown::HashTable::new();
        let mut repeats = Vec::new();
        for blk in &split {
            for &(h, r) in &blk[p] {
                // The text is compared only when the whole hash is equal.
                let same = |&(hh, rr): &(u64, u32)| hh == h && arr.value(rr as usize) == arr.value(r as usize);
                if seen.find(h, same).is_some() {
                    repeats.push(r);
                } else {
                    seen.insert_unique(h, (h, r), |e| e.0);
                }
            }
        }
        repeats
    });
    let mut all: Vec<u32> = found.into_iter().flat_map(|(_, r)| r).collect();
    all.sort_unstable();
    all
}

/// The largest amount screened, exclusive: 1e15 (a thousand trillion) of any currency is
/// beyond any single payment, and below it every sum of a rule's window stays exact to
/// the cent in the engine's fixed-point totals. Amounts and `amount_base` at or above it,
/// or not finite (`NaN`, `inf`, `1e309`), are quarantined.
pub const MAX_AMOUNT: f64 = 1e15;

/// Each row's quarantine reason code, 0 for a row that can be screened (a duplicate
/// transaction id, code 9, is found once all rows are read): the first that applies, in
/// the order below; [`reason_expr`] gives each its words. One pass over the rows, where a
/// chain of `when`/`then` expressions evaluated every condition for every row.
fn row_codes(df: &DataFrame) -> PolarsResult<Column> {
    let missing_ts = missing(df, "ts")?;
    let missing_amount = missing(df, "amount")?;
    let [no_ts, no_amount, no_orig, no_bene, no_id, no_base] =
        ["ts", "amount", "orig_account", "bene_account", "txn_id", "amount_base"].map(|c| nulls(df, c));
    let number = |c: &str| -> PolarsResult<Vec<f64>> {
        let values = df.column(c)?.cast(&DataType::Float64)?;
        // A null is tested before the value is; NaN stands for it here.
        Ok(values.f64()?.iter().map(|v| v.unwrap_or(f64::NAN)).collect())
    };
    let (amount, base) = (number("amount")?, number("amount_base")?);
    let (no_ts, no_amount, no_orig, no_bene, no_id, no_base) =
        (no_ts?, no_amount?, no_orig?, no_bene?, no_id?, no_base?);
    let beyond = |v: f64| v.is_nan() || v >= MAX_AMOUNT;
    let codes: Vec<u32> = (0..df.height())
        .map(|i| {
            if missing_ts[i] {
                1
            } else if no_ts[i] {
                2
            } else if missing_amount[i] {
                3
            } else if no_amount[i] {
                4
            } else if amount[i] <= 0.0 {
                5
            } else if beyond(amount[i]) {
                10
            } else if no_orig[i] && no_bene[i] {
                6
            } else if no_id[i] {
                7
            } else if no_base[i] {
                8
            } else if beyond(base[i]) || base[i] <= 0.0 {
                11
            } else {
                0
            }
        })
        .collect();
    Ok(Column::new("__code".into(), codes))
}

/// Which rows of column `c` have no value.
fn nulls(df: &DataFrame, c: &str) -> PolarsResult<Vec<bool>> {
    let col = df.column(c)?;
    Ok(match col.null_count() {
        0 => vec![false; col.len()],
        _ => col.is_null().iter().map(|b| b == Some(true)).collect(),
    })
}

/// Which rows have no value for `c`: when its text was parsed (`__raw_c`), a text that is
/// missing or blank; else no value.
fn missing(df: &DataFrame, c: &str) -> PolarsResult<Vec<bool>> {
    let raw = format!("__raw_{c}");
    if !df.schema().contains(&raw) {
        return nulls(df, c);
    }
    Ok(df
        .column(&raw)?
        .str()?
        .iter()
        .map(|v| v.is_none_or(|t| t.trim().is_empty()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reason codes as a chain of expressions: what [`row_codes`] computes in one pass.
    fn row_codes_by_expressions(df: &DataFrame) -> Column {
        let schema = df.schema().clone();
        let has_raw = |c: &str| schema.contains(&format!("__raw_{c}"));
        let blank = |e: Expr| {
            e.clone()
                .is_null()
                .or(e.str().strip_chars(lit(NULL)).str().len_bytes().eq(lit(0)))
        };
        let missing = |c: &str| {
            if has_raw(c) {
                blank(col(format!("__raw_{c}")))
            } else {
                col(c).is_null()
            }
        };
        let out_of_range = |e: Expr| e.clone().is_nan().or(e.gt_eq(lit(MAX_AMOUNT))).fill_null(lit(false));
        let code = when(missing("ts"))
            .then(lit(1u32))
            .when(col("ts").is_null())
            .then(lit(2u32))
            .when(missing("amount"))
            .then(lit(3u32))
            .when(col("amount").is_null())
            .then(lit(4u32))
            .when(col("amount").lt_eq(lit(0.0)))
            .then(lit(5u32))
            .when(out_of_range(col("amount")))
            .then(lit(10u32))
            .when(col("orig_account").is_null().and(col("bene_account").is_null()))
            .then(lit(6u32))
            .when(col("txn_id").is_null())
            .then(lit(7u32))
            .when(col("amount_base").is_null())
            .then(lit(8u32))
            .when(out_of_range(col("amount_base")).or(col("amount_base").lt_eq(lit(0.0))))
            .then(lit(11u32))
            .otherwise(lit(0u32))
            .alias("__code");
        let out = df.clone().lazy().select([code]).collect().unwrap();
        out.column("__code").unwrap().clone()
    }

    #[test]
    fn empty_values_are_found_by_their_views() {
        let ca = |v: &[Option<&str>]| v.iter().copied().collect::<StringChunked>();
        assert!(!has_empty(&ca(&[
            Some("a"),
            None,
            Some("a long value past twelve bytes")
        ])));
        assert!(has_empty(&ca(&[Some("a"), None, Some("")])));
        assert!(!has_empty(&ca(&[None, None])));
        let mut two = ca(&[Some("a"), None]);
        two.append(&ca(&[Some("b"), Some("")])).unwrap();
        assert!(has_empty(&two));
        let mut two = ca(&[Some(""), None]);
        two.append(&ca(&[None, Some("b")])).unwrap();
        assert!(has_empty(&two));
    }

    #[test]
    fn row_codes_are_those_of_the_expressions() {
        // Every code, and rows where several apply, with and without the parsed texts:
        // ts, amount, amount_base, orig and bene accounts, txn_id, the texts of ts and
        // amount, and the codes without and with those texts.
        type Row = (
            Option<i64>,
            Option<f64>,
            Option<f64>,
            bool,
            bool,
            bool,
            &'static str,
            Option<&'static str>,
            u32,
            u32,
        );
        let nan = f64::NAN;
        let rows: [Row; 16] = [
            (None, Some(1.0), Some(1.0), true, true, true, " ", Some("1"), 1, 1),
            (Some(1), Some(1.0), Some(1.0), false, true, true, "x", Some("1"), 0, 0),
            (Some(1), None, None, true, true, true, "x", Some("\t"), 3, 3),
            (Some(1), None, None, true, true, true, "x", Some("x"), 3, 4),
            (Some(1), Some(0.0), Some(0.0), true, true, true, "x", Some("0"), 5, 5),
            (Some(1), Some(-3.0), Some(-3.0), true, true, true, "x", Some("-3"), 5, 5),
            (Some(1), Some(nan), Some(nan), true, true, true, "x", None, 10, 3),
            (
                Some(1),
                Some(f64::INFINITY),
                Some(1.0),
                true,
                true,
                true,
                "x",
                Some("inf"),
                10,
                10,
            ),
            (
                Some(1),
                Some(1e15),
                Some(1.0),
                true,
                true,
                true,
                "x",
                Some("1e15"),
                10,
                10,
            ),
            (Some(1), Some(5.0), Some(5.0), false, false, true, "x", Some("5"), 6, 6),
            (Some(1), Some(5.0), Some(5.0), true, true, false, "x", Some("5"), 7, 7),
            (Some(1), Some(5.0), None, true, true, true, "x", Some("5"), 8, 8),
            (Some(1), Some(5.0), Some(nan), true, true, true, "x", Some("5"), 11, 11),
            (
                Some(1),
                Some(5.0),
                Some(2e15),
                false,
                true,
                true,
                "x",
                Some("5"),
                11,
                11,
            ),
            (Some(1), Some(5.0), Some(0.0), true, true, true, "x", Some("5"), 11, 11),
            (
                None,
                Some(f64::NEG_INFINITY),
                Some(1.0),
                true,
                true,
                false,
                "bad",
                Some("-inf"),
                1,
                2,
            ),
        ];
        let text = |f: fn(&(usize, &Row)) -> Option<String>| rows.iter().enumerate().map(|r| f(&r)).collect::<Vec<_>>();
        let ts: Vec<Option<i64>> = rows.iter().map(|r| r.0).collect();
        let amount: Vec<Option<f64>> = rows.iter().map(|r| r.1).collect();
        let base: Vec<Option<f64>> = rows.iter().map(|r| r.2).collect();
        let orig = text(|(_, r)| r.3.then(|| "a".to_string()));
        let bene = text(|(_, r)| r.4.then(|| "b".to_string()));
        let ids = text(|(i, r)| r.5.then(|| i.to_string()));
        let raw_ts = text(|(_, r)| Some(r.6.to_string()));
        let raw_amount = text(|(_, r)| r.7.map(String::from));
        let mut df = DataFrame::new_infer_height(vec![
            Column::new("ts".into(), ts),
            Column::new("amount".into(), amount),
            Column::new("amount_base".into(), base),
            Column::new("orig_account".into(), orig),
            Column::new("bene_account".into(), bene),
            Column::new("txn_id".into(), ids),
        ])
        .unwrap();
        let plain = row_codes(&df).unwrap();
        assert_eq!(plain, row_codes_by_expressions(&df));
        let codes: Vec<u32> = plain.u32().unwrap().into_no_null_iter().collect();
        assert_eq!(codes, rows.iter().map(|r| r.8).collect::<Vec<_>>());
        df.with_column(Column::new("__raw_ts".into(), raw_ts)).unwrap();
        df.with_column(Column::new("__raw_amount".into(), raw_amount)).unwrap();
        let parsed = row_codes(&df).unwrap();
        assert_eq!(parsed, row_codes_by_expressions(&df));
        let codes: Vec<u32> = parsed.u32().unwrap().into_no_null_iter().collect();
        assert_eq!(codes, rows.iter().map(|r| r.9).collect::<Vec<_>>());
    }
    use crate::ingest::{read_file, FxTable};

    /// The repeated ids are the rows whose id an earlier row holds, as a row-by-row
    /// search finds them.
    #[test]
    fn repeated_ids_are_the_later_uses() {
        let ids: StringChunked = (0..5_000u32)
            .map(|i| match i % 11 {
                0 => None,
                3 => Some(format!("T{}", i % 97)),
                _ => Some(format!("T{i}")),
            })
            .collect();
        let mut seen = std::collections::HashSet::new();
        let expected: Vec<u32> = ids
            .iter()
            .enumerate()
            .filter(|(_, v)| v.is_some_and(|v| !seen.insert(v.to_string())))
            .map(|(r, _)| r as u32)
            .collect();
        assert!(expected.len() > 100);
        assert_eq!(repeated_ids(&ids), expected);
    }

    /// Reading a batch of rows at a time gives the same rows, row numbers, quarantine and
    /// counts as reading everything at once, for text and Parquet inputs, with a
    /// duplicate transaction id whose first use is in an earlier batch and file.
    #[test]
    fn batches_of_any_size_give_the_same_dataset() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("a.csv");
        std::fs::write(
            &csv,
            "txn_id,ts,amount,currency,orig_account,bene_account,channel\n\
             t1,2026-01-01 10:00:00,100,usd,A,B,wire\n\
             t2,not a date,100,USD,A,B,wire\n\
             t3,2026-01-01 11:00:00,-5,USD,A,B,cash_in\n\
             t4,2026-01-02 10:00:00,50,EUR,,C,cash_in\n\
             t5,2026-01-02 11:00:00,70,,C,,cash_out\n\
             t1,2026-01-03 10:00:00,100,USD,A,B,wire\n\
             t7,2026-01-03 12:00:00,20,USD,,,wire\n",
        )
        .unwrap();
        let pq = dir.path().join("b.parquet");
        let mut df = df!(
            "txn_id" => ["p1", "p2", "t4", "p4", "p5"],
            "ts" => ["2026-02-01 10:00:00", "2026-02-01 11:00:00", "2026-02-02 10:00:00", "2026-02-03 10:00:00", "2026-02-04 10:00:00"],
            "amount" => [10.0, 20.0, 30.0, 40.0, 50.0],
            "orig_account" => [Some("A"), Some(""), Some("B"), None, Some("D")],
            "bene_account" => [Some("B"), Some("C"), Some("A"), Some("E"), None],
            "narrative" => [Some("rent"), None, Some("x"), Some("rent"), Some("y")],
        )
        .unwrap();
        ParquetWriter::new(std::fs::File::create(&pq).unwrap())
            .finish(&mut df)
            .unwrap();
        let mapping = Mapping {
            name: "canonical".into(),
            passthrough: true,
            ..Default::default()
        };
        let fx = dir.path().join("fx.csv");
        std::fs::write(&fx, "currency,rate_to_base\nEUR,1.1\n").unwrap();
        let opts = IngestOptions {
            mapping: Some(mapping.clone()),
            fx: Some(FxTable::load(&fx).unwrap()),
            base_currency: "USD".into(),
            threads: None,
            columns: None,
        };
        let read = |batch: usize| {
            let all = Wanted::default();
            let files = [&csv, &pq];
            let mut read = |i: usize| read_file(files[i], &mapping, &all);
            finish_inputs_in(2, &mut read, &mapping, &opts, batch).unwrap()
        };
        let whole = read(BATCH_ROWS);
        assert_eq!(whole.rows_screened(), 7, "{:?}", whole.quarantine);
        for batch in [1, 2, 3] {
            let part = read(batch);
            let text = |d: &Dataset| schema::as_text(d.transactions.clone()).unwrap();
            assert!(text(&part).equals_missing(&text(&whole)), "batch {batch}");
            assert!(part.quarantine.equals_missing(&whole.quarantine), "batch {batch}");
            assert_eq!(part.inputs, whole.inputs);
        }
        let reasons: Vec<String> = whole
            .quarantine
            .column("reason")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .flatten()
            .map(String::from)
            .collect();
        assert!(
            reasons.iter().filter(|r| r.starts_with("duplicate txn_id")).count() == 2,
            "{reasons:?}"
        );
    }
}
