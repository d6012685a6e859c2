//! Mappings from a source layout onto the canonical schema: the mapping file format, its
//! loader, and the presets, which are mapping files shipped in `crates/redflag/presets/`.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{suggestion, Error, Location, Result};
use crate::schema::{self, CANONICAL};

/// A text encoding for CSV input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Encoding {
    /// UTF-8 (a byte-order mark is skipped).
    #[default]
    #[serde(rename = "utf-8", alias = "utf8", alias = "UTF-8")]
    Utf8,
    /// Windows-1251 (Cyrillic).
    #[serde(rename = "windows-1251", alias = "cp1251", alias = "Windows-1251")]
    Windows1251,
}

/// Where a canonical column comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ColumnSource {
    /// A source column by name.
    Name(String),
    /// A source column or a constant, with parsing options.
    Spec(ColumnSpec),
}

/// A source column or a constant, with parsing options.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ColumnSpec {
    /// The source column.
    #[serde(default)]
    pub from: Option<String>,
    /// A constant for every row.
    #[serde(default)]
    pub value: Option<String>,
    /// Date or datetime format (chrono `strftime` syntax), for `ts` and `opened`.
    #[serde(default)]
    pub format: Option<String>,
    /// Value translation: source value → canonical value (e.g. payment formats to channels).
    /// Values not listed are kept as they are, unless `other` is given.
    #[serde(default)]
    pub values: BTreeMap<String, String>,
    /// The value for source values that `values` does not list.
    #[serde(default)]
    pub other: Option<String>,
    /// For `ts` and `opened` stored as whole numbers (Parquet or NDJSON integers without a
    /// timestamp type): the unit of the time since 1970-01-01 UTC, `s`, `ms`, `us` or
    /// `ns`. Without it the unit is told by the size of each value (see
    /// `docs/input-safety.md`).
    #[serde(default)]
    pub unit: Option<EpochUnit>,
}

/// The unit of a time given as a number since 1970-01-01 UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EpochUnit {
    /// Seconds.
    #[serde(rename = "s")]
    Seconds,
    /// Milliseconds.
    #[serde(rename = "ms")]
    Milliseconds,
    /// Microseconds.
    #[serde(rename = "us")]
    Microseconds,
    /// Nanoseconds.
    #[serde(rename = "ns")]
    Nanoseconds,
}

/// How the direction of a statement row is read: rows that mean money came in have their
/// `orig_*` and `bene_*` columns swapped (a statement maps its own account to `orig_account`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Direction {
    /// A source column holding a debit/credit mark.
    #[serde(default)]
    pub column: Option<String>,
    /// The marks that mean a credit (money in).
    #[serde(default)]
    pub credit: Vec<String>,
    /// `true`: a positive amount is a credit and a negative one a debit; amounts become positive.
    #[serde(default)]
    pub signed_amount: bool,
}

/// A mapping from a source layout onto the canonical schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// The mapping's name (a preset name or the file).
    #[serde(default)]
    pub name: String,
    /// CSV field delimiter (default `,`; `\t` for tab).
    #[serde(default)]
    pub delimiter: Option<String>,
    /// The CSV's first line names the columns (default). Without a header, columns are
    /// `column_1`, `column_2`, ... in the mapping.
    #[serde(default = "yes")]
    pub has_header: bool,
    /// CSV quote character (default `"`).
    #[serde(default)]
    pub quote: Option<String>,
    /// CSV text encoding.
    #[serde(default)]
    pub encoding: Encoding,
    /// Numbers are written with a decimal comma (`1234,56`).
    #[serde(default)]
    pub decimal_comma: bool,
    /// A thousands separator to remove from numbers (`" "`, `"."`, `"'"`).
    #[serde(default)]
    pub thousands_separator: Option<String>,
    /// Canonical column → source.
    #[serde(default)]
    pub columns: BTreeMap<String, ColumnSource>,
    /// How to read statement rows' direction.
    #[serde(default)]
    pub direction: Option<Direction>,
    /// A label column to keep (not read by rules).
    #[serde(default)]
    pub label: Option<String>,
    /// Keep canonical columns found under their own names in the file that `columns` does not map.
    #[serde(default = "yes")]
    pub passthrough: bool,
}

fn yes() -> bool {
    true
}

impl Default for Mapping {
    fn default() -> Self {
        Mapping {
            name: String::new(),
            delimiter: None,
            has_header: true,
            quote: None,
            encoding: Encoding::Utf8,
            decimal_comma: false,
            thousands_separator: None,
            columns: BTreeMap::new(),
            direction: None,
            label: None,
            passthrough: true,
        }
    }
}

/// Mapping presets shipped with redflag: name and the text of its mapping file, one line a
/// preset. Each is a mapping file in `crates/redflag/presets/`, parsed by the loader of
/// user mapping files ([`Mapping::parse`]).
pub const PRESETS: &[(&str, &str)] = &[
    ("canonical", include_str!("../../presets/canonical.yaml")),
    ("amlworld", include_str!("../../presets/amlworld.yaml")),
];

impl Mapping {
    /// A preset by name.
    pub fn preset(name: &str) -> Result<Mapping> {
        let names = || PRESETS.iter().map(|(n, _)| *n);
        match PRESETS.iter().find(|(n, _)| *n == name) {
            Some((n, text)) => Mapping::parse(text, Path::new(&format!("presets/{n}.yaml"))),
            None => Err(Error::Override {
                what: "preset",
                value: name.to_string(),
                message: format!(
                    "unknown preset{}; presets: {}; or describe the layout in a mapping file",
                    suggestion(name, names()),
                    names().collect::<Vec<_>>().join(", ")
                ),
            }),
        }
    }

    /// Reads a mapping file (YAML).
    pub fn load(path: impl AsRef<Path>) -> Result<Mapping> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            action: "reading the mapping",
            source,
        })?;
        Mapping::parse(&text, path)
    }

    /// Parses the text of a mapping file (YAML); `path` names it in errors, and is the
    /// mapping's name when the text gives none. Presets are parsed by the same loader.
    pub fn parse(text: &str, path: &Path) -> Result<Mapping> {
        let mut m: Mapping = serde_yaml_ng::from_str(text).map_err(|e| {
            let (line, column) = e.location().map(|l| (l.line(), l.column())).unwrap_or((0, 0));
            let msg = e.to_string();
            let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
            Error::Mapping {
                location: Location {
                    file: path.to_path_buf(),
                    line,
                    column,
                },
                message: msg,
            }
        })?;
        for k in m.columns.keys() {
            if schema::col_type(k).is_none() {
                let line = text
                    .lines()
                    .position(|l| l.trim_start().starts_with(&format!("{k}:")))
                    .map(|i| i + 1)
                    .unwrap_or(0);
                return Err(Error::Mapping {
                    location: Location {
                        file: path.to_path_buf(),
                        line,
                        column: 0,
                    },
                    message: format!(
                        "`{k}` is not a canonical column{}; canonical columns: {}",
                        suggestion(k, CANONICAL.iter().map(|(n, _)| *n)),
                        CANONICAL.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
                    ),
                });
            }
        }
        if let Some(t) = &m.thousands_separator {
            let decimal = if m.decimal_comma { "," } else { "." };
            let problem = if t.is_empty() {
                Some(
                    "`thousands_separator` is empty; remove it, or give the separator, such as \" \" or \"'\""
                        .to_string(),
                )
            } else if t == decimal {
                Some(format!(
                    "`thousands_separator` is `{t}`, which is also the decimal separator ({}); every number would lose its decimals: give another separator, or {}",
                    if m.decimal_comma { "decimal_comma: true" } else { "the default without decimal_comma" },
                    if m.decimal_comma { "remove decimal_comma" } else { "say decimal_comma: true if numbers are written 1.234,56" }
                ))
            } else {
                None
            };
            if let Some(message) = problem {
                let line = text
                    .lines()
                    .position(|l| l.trim_start().starts_with("thousands_separator"))
                    .map(|i| i + 1)
                    .unwrap_or(0);
                return Err(Error::Mapping {
                    location: Location {
                        file: path.to_path_buf(),
                        line,
                        column: 0,
                    },
                    message,
                });
            }
        }
        if m.name.is_empty() {
            m.name = path.display().to_string();
        }
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The AMLworld preset parsed from its file is the mapping the code built.
    #[test]
    fn amlworld_preset_file_is_the_built_mapping() {
        let text = include_str!("../../presets/amlworld.yaml");
        let parsed = Mapping::parse(text, Path::new("presets/amlworld.yaml")).unwrap();
        assert_eq!(parsed, amlworld_as_built());
        let text = include_str!("../../presets/canonical.yaml");
        let parsed = Mapping::parse(text, Path::new("presets/canonical.yaml")).unwrap();
        assert_eq!(
            parsed,
            Mapping {
                name: "canonical".into(),
                passthrough: true,
                ..Default::default()
            }
        );
        for (name, _) in PRESETS {
            assert_eq!(Mapping::preset(name).unwrap().name, *name);
        }
    }

    /// The AMLworld preset as the code built it before it became a mapping file.
    fn amlworld_as_built() -> Mapping {
        let mut cols = BTreeMap::new();
        let name = |s: &str| ColumnSource::Name(s.to_string());
        cols.insert(
            "ts".into(),
            ColumnSource::Spec(ColumnSpec {
                from: Some("Timestamp".into()),
                format: Some("%Y/%m/%d %H:%M".into()),
                ..Default::default()
            }),
        );
        cols.insert("orig_bank".into(), name("From Bank"));
        cols.insert("orig_account".into(), name("Account"));
        cols.insert("bene_bank".into(), name("To Bank"));
        cols.insert("bene_account".into(), name("Account.1"));
        cols.insert("amount".into(), name("Amount Paid"));
        let currencies: BTreeMap<String, String> = [
            ("US Dollar", "USD"),
            ("Euro", "EUR"),
            ("Yuan", "CNY"),
            ("Bitcoin", "XBT"),
            ("Ruble", "RUB"),
            ("Rupee", "INR"),
            ("Yen", "JPY"),
            ("UK Pound", "GBP"),
            ("Swiss Franc", "CHF"),
            ("Australian Dollar", "AUD"),
            ("Canadian Dollar", "CAD"),
            ("Brazil Real", "BRL"),
            ("Mexican Peso", "MXN"),
            ("Saudi Riyal", "SAR"),
            ("Shekel", "ILS"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        cols.insert(
            "currency".into(),
            ColumnSource::Spec(ColumnSpec {
                from: Some("Payment Currency".into()),
                values: currencies,
                ..Default::default()
            }),
        );
        let channels: BTreeMap<String, String> = [
            ("ACH", "wire"),
            ("Cash", "cash_in"),
            ("Cheque", "cheque"),
            ("Credit Card", "card"),
            ("Reinvestment", "internal"),
            ("Wire", "wire"),
            ("Bitcoin", "crypto"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        cols.insert(
            "channel".into(),
            ColumnSource::Spec(ColumnSpec {
                from: Some("Payment Format".into()),
                values: channels,
                other: Some("other".into()),
                ..Default::default()
            }),
        );
        Mapping {
            name: "amlworld".into(),
            columns: cols,
            label: Some("Is Laundering".into()),
            passthrough: false,
            ..Default::default()
        }
    }
}
