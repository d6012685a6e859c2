//! The NDJSON reader: one JSON object a line.

use std::io::Cursor;
use std::path::Path;

use polars::prelude::*;

use super::mapping::Mapping;
use super::{check_text, with_rows, Format, Raw, Reader};
use crate::error::{Error, Result};

/// Reads one JSON object a line.
pub(super) struct NdjsonReader;

impl Reader for NdjsonReader {
    fn read(&self, path: &Path, bytes: Vec<u8>, _mapping: &Mapping) -> Result<Raw> {
        check_text(path, &bytes)?;
        let df = JsonReader::new(Cursor::new(bytes))
            .with_json_format(JsonFormat::JsonLines)
            .infer_schema_len(None)
            .finish()
            .map_err(|e| Error::Input {
                path: path.to_path_buf(),
                message: format!("cannot read as NDJSON (one JSON object a line): {e}"),
            })?;
        with_rows(path, Format::Ndjson, df, None, Vec::new())
    }
}
