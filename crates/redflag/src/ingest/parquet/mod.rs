//! The Parquet reader: the file is checked when read and its rows are read a batch at a
//! time later, from the file (memory-mapped).

use std::path::Path;

use polars::prelude::*;

mod pages;

use super::map::source_columns;
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
        let (rows, names, meta) = guarded(path, || {
            let mut reader = polars::prelude::ParquetReader::new(file);
            let names: Vec<String> = reader.schema()?.iter_names().map(|n| n.to_string()).collect();
            let meta = reader.get_metadata()?.clone();
            Ok::<_, PolarsError>((reader.num_rows()?, names, meta))
        })?
        .map_err(|e| input_err(format!("cannot read as Parquet: {e}")))?;
        if rows == 0 {
            return Err(input_err("the file has a header but no transactions".into()));
        }
        let columns = source_columns(mapping, &names, wanted);
        // The sizes and counts of the column chunks and pages to be read, before polars
        // decodes a page: a corrupt count can make polars abort the process (`pages`).
        pages::check_file(path, &meta, columns.as_deref())
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
                rows,
                columns,
            }),
        })
    }
}

/// `len` rows of a Parquet file from row `off`: the columns named, or all.
pub(super) fn read_slice(p: &Path, off: usize, len: usize, columns: Option<&[String]>) -> Result<LazyFrame> {
    let file = std::fs::File::open(p).map_err(|source| Error::Io {
        path: p.to_path_buf(),
        action: "opening the input",
        source,
    })?;
    let df = guarded(p, || {
        polars::prelude::ParquetReader::new(file)
            .with_columns(columns.map(<[String]>::to_vec))
            .with_slice(Some((off, len)))
            .finish()
    })?
    .map_err(|e| Error::Input {
        path: p.to_path_buf(),
        message: format!("cannot read as Parquet: {e}"),
    })?;
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
