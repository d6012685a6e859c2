//! The Parquet reader: the file is checked when read and its rows are read a batch at a
//! time later, from the file (memory-mapped).

use std::path::Path;

use polars::prelude::*;

mod coded;
mod pages;

use super::map::{coded_sources, source_columns};
use super::mapping::Mapping;
use super::{Format, ParquetSource, Raw, Reader, Wanted};
use crate::error::{Error, Result};

/// Reads Apache Parquet.
pub(super) struct ParquetReader;

impl Reader for ParquetReader {
    fn read(&self, path: &Path, _bytes: Vec<u8>, mapping: &Mapping, wanted: &Wanted) -> Result<Raw> {
        let input_err = |message: String| Error::Input {
            path: path.to_path_buf(),
            message,
        };
        let file = std::fs::File::open(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            action: "opening the input",
            source,
        })?;
        // Checked now (a clear error for a file that is not Parquet), read later a
        // batch of rows at a time.
        let (rows, (names, text), meta) = guarded(path, || {
            let mut reader = polars::prelude::ParquetReader::new(file);
            let columns: (Vec<String>, Vec<String>) = reader
                .schema()?
                .iter()
                .map(|(name, field)| {
                    let text = matches!(
                        field.dtype(),
                        ArrowDataType::Utf8View | ArrowDataType::Utf8 | ArrowDataType::LargeUtf8
                    );
                    (name.to_string(), if text { name.to_string() } else { String::new() })
                })
                .unzip();
            let meta = reader.get_metadata()?.clone();
            Ok::<_, PolarsError>((reader.num_rows()?, columns, meta))
        })?
        .map_err(|e| input_err(format!("cannot read as Parquet: {e}")))?;
        if rows == 0 {
            return Err(input_err("the file has a header but no transactions".into()));
        }
        let columns = source_columns(mapping, &names, wanted).unwrap_or_else(|| names.clone());
        let coded = coded_sources(mapping, &names, |c| text.iter().any(|t| t == c), wanted);
        // The sizes and counts of the column chunks and pages to be read, before polars
        // decodes a page: a corrupt count can make polars abort the process (`pages`).
        pages::check_file(path, &meta, Some(&columns))
            .map_err(|what| input_err(format!("cannot read as Parquet: the file is corrupt ({what})")))?;
        Ok(Raw {
            lf: DataFrame::empty().lazy(),
            path: path.display().to_string(),
            format: Format::Parquet,
            sha: String::new(),
            rows: None,
            rejected: Vec::new(),
            names,
            parquet: Some(ParquetSource {
                path: path.to_path_buf(),
                meta,
                rows,
                columns,
                coded,
            }),
        })
    }
}

/// `len` rows of a Parquet input from row `off`: the columns it reads (all when it names
/// none), in file order, those it reads as codes in the compact type (`coded`).
pub(super) fn read_slice(source: &ParquetSource, off: usize, len: usize) -> Result<LazyFrame> {
    let p = source.path.as_path();
    let open = || {
        std::fs::File::open(p).map_err(|source| Error::Io {
            path: p.to_path_buf(),
            action: "opening the input",
            source,
        })
    };
    let corrupt = |e: PolarsError| Error::Input {
        path: p.to_path_buf(),
        message: format!("cannot read as Parquet: {e}"),
    };
    let is_coded = |c: &str| source.coded.iter().any(|k| k.name == c);
    let order = &source.columns;
    let as_text: Vec<String> = order.iter().filter(|c| !is_coded(c)).cloned().collect();
    let file = open()?;
    let mut df = guarded(p, || {
        polars::prelude::ParquetReader::new(file)
            .with_columns(Some(as_text))
            .with_slice(Some((off, len)))
            .finish()
    })?
    .map_err(corrupt)?;
    let mut file = open()?;
    for column in &source.coded {
        let codes =
            guarded(p, || coded::read_coded(&mut file, &source.meta, column, off..off + len))?.map_err(corrupt)?;
        if codes.len() != df.height() {
            return Err(corrupt(polars_err!(ComputeError:
                "the file is corrupt (column `{}` has {} rows where the others have {})",
                column.name, codes.len(), df.height()
            )));
        }
        df.with_column(codes).map_err(corrupt)?;
    }
    let df = df.select(order.iter().map(String::as_str)).map_err(corrupt)?;
    Ok(representable_times(df))
}

/// The slice, with the values of its time columns that no date or time can hold read as
/// no value: a timestamp or date outside chrono's years (about 262,000 years either side
/// of year 0), a time of day outside the day. Parquet stores a timestamp in
/// milliseconds or microseconds, and a date in days, as integers that reach far past
/// that range, and polars panics (on a worker thread, in the middle of a query) when it
/// turns such a value into text or a date. A `ts` read as no value is quarantined as a
/// missing date.
fn representable_times(df: DataFrame) -> LazyFrame {
    use chrono::{DateTime, NaiveDate, NaiveDateTime};
    let (first, last) = (NaiveDateTime::MIN.and_utc(), NaiveDateTime::MAX.and_utc());
    let days = |d: NaiveDate| d.signed_duration_since(DateTime::UNIX_EPOCH.date_naive()).num_days();
    // The physical values each time type can hold, inclusive.
    let bounds = |dtype: &DataType| match dtype {
        DataType::Datetime(TimeUnit::Milliseconds, _) => {
            Some((first.timestamp_millis(), last.timestamp_millis(), DataType::Int64))
        }
        DataType::Datetime(TimeUnit::Microseconds, _) => {
            Some((first.timestamp_micros(), last.timestamp_micros(), DataType::Int64))
        }
        DataType::Date => Some((days(NaiveDate::MIN), days(NaiveDate::MAX), DataType::Int32)),
        DataType::Time => Some((0, 86_400_000_000_000 - 1, DataType::Int64)),
        // Nanoseconds in an i64 span 292 years either side of 1970: always a time.
        _ => None,
    };
    let fixes: Vec<Expr> = df
        .schema()
        .iter()
        .filter_map(|(name, dtype)| {
            let (lo, hi, physical) = bounds(dtype)?;
            let v = col(name.clone()).cast(physical);
            Some(
                when(v.clone().lt(lit(lo)).or(v.gt(lit(hi))))
                    .then(lit(NULL).cast(dtype.clone()))
                    .otherwise(col(name.clone()))
                    .alias(name.clone()),
            )
        })
        .collect();
    if fixes.is_empty() {
        df.lazy()
    } else {
        df.lazy().with_columns(fixes)
    }
}

/// Runs a call of the Parquet reader, turning a panic in it into an error that names the
/// file: polars' Parquet reader panics on some corrupt files instead of returning an error
/// (a thrift boolean field with an invalid value in the footer; a page whose validity
/// bitmap is shorter than its values; a column chunk past the end of the file; the last
/// two on a worker thread, whose panic reaches the caller).
fn guarded<T>(path: &Path, read: impl FnOnce() -> T) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(read)).map_err(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic".into());
        Error::Input {
            path: path.to_path_buf(),
            message: format!("cannot read as Parquet: the file is corrupt (the Parquet reader failed: {what})"),
        }
    })
}
