//! Format detection: which reader reads a file.

use std::path::Path;

use super::csv::CsvReader;
use super::ndjson::NdjsonReader;
use super::parquet::ParquetReader;
use super::{Format, Reader};

/// The format of a file: by its extension, else by its first bytes, else CSV.
pub(super) fn detect_format(path: &Path, head: &[u8]) -> Format {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "parquet" | "pq" => Format::Parquet,
        "ndjson" | "jsonl" | "json" => Format::Ndjson,
        "csv" | "tsv" | "txt" => Format::Csv,
        _ if head.starts_with(b"PAR1") => Format::Parquet,
        _ if head.first() == Some(&b'{') => Format::Ndjson,
        _ => Format::Csv,
    }
}

/// The reader of a format (`None` for a frame handed to the library, which is no file).
pub(super) fn reader_for(format: Format) -> Option<&'static dyn Reader> {
    match format {
        Format::Csv => Some(&CsvReader),
        Format::Parquet => Some(&ParquetReader),
        Format::Ndjson => Some(&NdjsonReader),
        Format::Memory => None,
    }
}
