//! Named reference lists of a pack.

use std::collections::BTreeSet;
use std::path::Path;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::util::hash::sha256_hex;

/// A named reference list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RefList {
    /// Its name in the pack.
    pub name: String,
    /// Where it came from (`builtin:lists/x.txt` for the built-in pack).
    pub source: String,
    /// sha256 of its bytes.
    pub sha256: String,
    /// Its values, in file order, without duplicates.
    pub values: Vec<String>,
}

impl RefList {
    /// Parses a list: one value a line, `#` comment lines and blank lines skipped; a value
    /// may be followed by a note after ` #` (a space and a hash).
    pub fn parse(name: &str, source: &str, text: &str) -> RefList {
        let mut seen = BTreeSet::new();
        let values = text
            .lines()
            .map(|l| l.split(" #").next().unwrap_or("").trim())
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .filter(|l| seen.insert(l.to_string()))
            .map(str::to_string)
            .collect();
        RefList {
            name: name.to_string(),
            source: source.to_string(),
            sha256: sha256_hex(text.as_bytes()),
            values,
        }
    }

    /// A list of values given in code: trimmed, blanks and duplicates dropped; its sha256
    /// is that of the values one a line.
    pub fn from_values(name: &str, source: &str, values: &[String]) -> RefList {
        let mut seen = BTreeSet::new();
        let values: Vec<String> = values
            .iter()
            .map(|v| v.trim())
            .filter(|v| !v.is_empty() && seen.insert(v.to_string()))
            .map(str::to_string)
            .collect();
        let mut text = values.join("\n");
        text.push('\n');
        RefList {
            name: name.to_string(),
            source: source.to_string(),
            sha256: sha256_hex(text.as_bytes()),
            values,
        }
    }

    /// Reads a list file.
    pub fn load(name: &str, path: &Path) -> Result<RefList> {
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            action: "reading the list",
            source,
        })?;
        let text = String::from_utf8(bytes).map_err(|e| Error::List {
            name: name.to_string(),
            path: path.to_path_buf(),
            message: format!(
                "not UTF-8 text (first bad byte at offset {}); save the list as UTF-8, one value a line",
                e.utf8_error().valid_up_to()
            ),
        })?;
        Ok(RefList::parse(name, &path.display().to_string(), &text))
    }
}
