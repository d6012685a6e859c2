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
    fn read(&self, path: &Path, bytes: Vec<u8>, mapping: &Mapping, wanted: &Wanted) -> Result<Raw> {
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
        pages::check(&bytes, &meta, columns.as_deref())
            .map_err(|what| input_err(format!("cannot read as Parquet: the file is corrupt ({what})")))?;
        // Read from the file (memory-mapped), not from the bytes already hashed.
        drop(bytes);
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
    Ok(guarded(p, || {
        polars::prelude::ParquetReader::new(file)
            .with_columns(columns.map(<[String]>::to_vec))
            .with_slice(Some((off, len)))
            .finish()
    })?
    .map_err(|e| Error::Input {
        path: p.to_path_buf(),
        message: format!("cannot read as Parquet: {e}"),
    })?
    .lazy())
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
