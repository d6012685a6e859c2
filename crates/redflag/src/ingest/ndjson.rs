//! The NDJSON reader: one JSON object a line.

use std::io::Cursor;
use std::path::Path;

use polars::prelude::*;

use super::mapping::Mapping;
use super::{check_text, with_rows, Format, Raw, Reader, Wanted};
use crate::error::{Error, Result};

/// Reads one JSON object a line.
pub(super) struct NdjsonReader;

impl Reader for NdjsonReader {
    fn read(&self, path: &Path, bytes: Vec<u8>, _mapping: &Mapping, _wanted: &Wanted) -> Result<Raw> {
        check_text(path, &bytes)?;
        check_depth(&bytes).map_err(|message| Error::Input {
            path: path.to_path_buf(),
            message,
        })?;
        let df = JsonReader::new(Cursor::new(bytes))
            .with_json_format(JsonFormat::JsonLines)
            .infer_schema_len(None)
            .finish()
            .map_err(|e| Error::Input {
                path: path.to_path_buf(),
                message: format!("cannot read as NDJSON (one JSON object a line): {e}"),
            })?;
        with_rows(path, Format::Ndjson, df, None, Vec::new(), Vec::new())
    }
}

/// The deepest objects and arrays may nest in an NDJSON line. A transaction is one flat
/// object; a few levels leave room for nested details, which are not read as columns.
pub(super) const MAX_JSON_DEPTH: usize = 32;

/// Checks, before the JSON parser sees the text, that no line nests objects or arrays
/// deeper than [`MAX_JSON_DEPTH`] (a parser walks nesting recursively: very deep text
/// exhausts its stack, and moderately deep text takes minutes). A byte scan: strings and
/// their escapes respected.
pub(super) fn check_depth(bytes: &[u8]) -> std::result::Result<(), String> {
    let (mut depth, mut line) = (0usize, 1usize);
    let (mut in_str, mut escaped) = (false, false);
    for &b in bytes {
        if b == b'\n' {
            line += 1;
        }
        if in_str {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_str = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_JSON_DEPTH {
                    return Err(format!(
                        "line {line}: objects and arrays nest more than {MAX_JSON_DEPTH} levels deep; write one flat JSON object a line, a field a column"
                    ));
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deep nesting is refused with its line, before parsing; strings do not count.
    #[test]
    fn deep_nesting_is_refused_before_parsing() {
        let flat = b"{\"a\": \"[[[[{{{{\\\"\", \"b\": [1, {\"c\": 2}]}\n".repeat(3);
        assert!(check_depth(&flat).is_ok());
        let mut deep = b"{\"a\": 1}\n".to_vec();
        deep.extend(b"{\"a\": ".repeat(3000));
        let e = check_depth(&deep).unwrap_err();
        assert!(
            e.starts_with("line 2: objects and arrays nest more than 32 levels"),
            "{e}"
        );
        let ok = format!("{}1{}", "[".repeat(32), "]".repeat(32));
        assert!(check_depth(ok.as_bytes()).is_ok());
    }
}
