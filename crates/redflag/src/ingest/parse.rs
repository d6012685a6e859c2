//! Parsing text values: dates and datetimes, numbers, value translations.

use std::collections::BTreeMap;

use polars::prelude::*;

use super::mapping::Mapping;

const TS_FORMATS: &[&str] = &[
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
];
const DATE_FORMATS: &[&str] = &["%Y-%m-%d", "%Y/%m/%d", "%d.%m.%Y"];

fn strptime(e: Expr, fmt: &str, date_only: bool) -> Expr {
    let opts = StrptimeOptions {
        format: Some(fmt.into()),
        strict: false,
        exact: true,
        cache: true,
    };
    if date_only {
        e.str()
            .to_date(opts)
            .cast(DataType::Datetime(TimeUnit::Milliseconds, None))
    } else {
        e.str()
            .to_datetime(Some(TimeUnit::Milliseconds), None, opts, lit("raise"))
    }
}

/// Parses a text column to datetime (ms) with the given format or a list of common ones.
pub(super) fn parse_datetime(e: Expr, format: Option<&str>) -> Expr {
    let e = e.str().strip_suffix(lit("Z"));
    match format {
        Some(f) => {
            let date_only = !f.contains("%H") && !f.contains("%T") && !f.contains("%R");
            strptime(e, f, date_only)
        }
        None => {
            let mut tries: Vec<Expr> = TS_FORMATS.iter().map(|f| strptime(e.clone(), f, false)).collect();
            tries.extend(DATE_FORMATS.iter().map(|f| strptime(e.clone(), f, true)));
            coalesce(&tries)
        }
    }
}

/// Parses a text column to a number, with the mapping's thousands separator and decimal comma.
pub(super) fn parse_number(e: Expr, mapping: &Mapping) -> Expr {
    let mut e = e.str().strip_chars(lit(NULL));
    if let Some(t) = &mapping.thousands_separator {
        e = e.str().replace_all(lit(t.clone()), lit(""), true);
    }
    if mapping.decimal_comma {
        e = e.str().replace_all(lit(","), lit("."), true);
    }
    e.cast(DataType::Float64)
}

/// `source value → canonical value`, others to `default`.
pub(super) fn translate(text: Expr, values: &BTreeMap<String, String>, default: Expr) -> Expr {
    values.iter().rev().fold(default, |acc, (k, v)| {
        when(text.clone().eq(lit(k.clone())))
            .then(lit(v.clone()))
            .otherwise(acc)
    })
}
