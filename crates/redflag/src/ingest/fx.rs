//! FX: the rate table (`--fx`) and the conversion of amounts into the base currency.

use std::collections::BTreeMap;
use std::path::Path;

use polars::prelude::*;

use super::parse::translate;
use crate::error::{Error, PolarsContext, Result};
use crate::util::hash::sha256_hex;

/// An FX table: currency → rates by date (`None`: undated).
#[derive(Debug, Clone, Default)]
pub struct FxTable {
    /// Where it came from.
    pub source: String,
    /// sha256 of the file.
    pub sha256: String,
    rates: BTreeMap<String, Vec<(Option<i64>, f64)>>,
}

impl FxTable {
    /// Reads `currency,rate_to_base[,date]` (a header line is required; dates `YYYY-MM-DD`).
    pub fn load(path: impl AsRef<Path>) -> Result<FxTable> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            action: "reading the FX table",
            source,
        })?;
        let text = String::from_utf8_lossy(&bytes);
        let fx_err = |line: usize, message: String| Error::Fx {
            path: path.to_path_buf(),
            line,
            message,
        };
        let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
        let Some((_, header)) = lines.next() else {
            return Err(fx_err(
                1,
                "the file is empty; write a header `currency,rate_to_base[,date]` and one rate a line".into(),
            ));
        };
        let cols: Vec<String> = header.split(',').map(|s| s.trim().to_lowercase()).collect();
        let ci = cols.iter().position(|c| c == "currency");
        let ri = cols.iter().position(|c| c == "rate_to_base");
        let di = cols.iter().position(|c| c == "date");
        let (Some(ci), Some(ri)) = (ci, ri) else {
            return Err(fx_err(
                1,
                format!("the header must name `currency` and `rate_to_base` (and optionally `date`); it has: {header}"),
            ));
        };
        let mut rates: BTreeMap<String, Vec<(Option<i64>, f64)>> = BTreeMap::new();
        // The line of each currency's rate for each date (or none): a second one is an error.
        let mut first_line: BTreeMap<(String, Option<i64>), usize> = BTreeMap::new();
        for (i, l) in lines {
            let f: Vec<&str> = l.split(',').map(str::trim).collect();
            let cur = f.get(ci).copied().unwrap_or("").to_uppercase();
            if cur.is_empty() {
                return Err(fx_err(i + 1, "the currency is empty".into()));
            }
            let rate_s = f.get(ri).copied().unwrap_or("");
            let rate: f64 = rate_s
                .parse()
                .ok()
                .filter(|r: &f64| r.is_finite() && *r > 0.0)
                .ok_or_else(|| fx_err(i + 1, format!("rate `{rate_s}` is not a positive number")))?;
            let date = match di.and_then(|d| f.get(d)).filter(|s| !s.is_empty()) {
                Some(d) => Some(
                    chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                        .map_err(|_| fx_err(i + 1, format!("date `{d}` is not YYYY-MM-DD")))?
                        .and_hms_opt(0, 0, 0)
                        .map(|t| t.and_utc().timestamp_millis())
                        .unwrap_or(0),
                ),
                None => None,
            };
            if let Some(earlier) = first_line.insert((cur.clone(), date), i + 1) {
                let when = match di.and_then(|d| f.get(d)).filter(|s| !s.is_empty()) {
                    Some(d) => format!("dated {d}"),
                    None => "with no date".to_string(),
                };
                return Err(fx_err(
                    i + 1,
                    format!(
                        "a second rate for {cur} {when}; line {earlier} gives one too: keep one of lines {earlier} and {}",
                        i + 1
                    ),
                ));
            }
            rates.entry(cur).or_default().push((date, rate));
        }
        for v in rates.values_mut() {
            v.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
        }
        Ok(FxTable {
            source: path.display().to_string(),
            sha256: sha256_hex(&bytes),
            rates,
        })
    }

    /// The rate for `currency` at `ts` (ms): the latest dated rate on or before it, else an undated one.
    pub fn rate(&self, currency: &str, ts: i64) -> Option<f64> {
        let v = self.rates.get(currency)?;
        let mut undated = None;
        let mut best = None;
        for (d, r) in v {
            match d {
                None => undated = Some(*r),
                Some(d) if *d <= ts => best = Some(*r),
                Some(_) => {}
            }
        }
        best.or(undated)
    }
}

/// The FX stage: currency codes upper-cased (empty means the base currency) and
/// `amount_base` computed where the input does not give it (one rate a currency as an
/// expression, dated rates row by row).
pub(super) fn apply_fx(df: DataFrame, base: &str, fx: Option<&FxTable>, has_currency: bool) -> Result<DataFrame> {
    let n = df.height();
    let mut df = df;
    if !has_currency {
        df.with_column(Column::new_scalar(
            "currency".into(),
            Scalar::from(PlSmallStr::from(base)),
            n,
        ))
        .ctx(|| "setting the currency".into())?;
    }
    // Upper-case currency codes; empty means base. Done on the distinct values, which are few.
    let distinct: Vec<Option<String>> = df
        .column("currency")
        .and_then(|c| c.unique())
        .and_then(|c| c.str().map(|s| s.iter().map(|v| v.map(str::to_string)).collect()))
        .ctx(|| "reading the currencies".into())?;
    let norm = |v: &Option<String>| -> String {
        v.as_deref()
            .map(|s| s.trim().to_uppercase())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| base.to_string())
    };
    let clean = distinct.iter().all(|v| v.as_deref() == Some(norm(v).as_str()));
    if !clean {
        let map: BTreeMap<String, String> = distinct
            .iter()
            .filter_map(|v| v.as_ref().map(|s| (s.clone(), norm(v))))
            .collect();
        df = df
            .lazy()
            .with_column(
                translate(col("currency"), &map, lit(base.to_string()))
                    .fill_null(lit(base.to_string()))
                    .alias("currency"),
            )
            .collect()
            .ctx(|| "reading the currencies".into())?;
    }
    let codes: std::collections::BTreeSet<String> = distinct.iter().map(norm).collect();
    let given = df.schema().get("amount_base").is_some_and(|d| d.is_float());
    let dated = fx.is_some_and(|f| f.rates.values().flatten().any(|(d, _)| d.is_some()));
    if !dated {
        // One rate a currency: a lookup expression.
        let mut rates: BTreeMap<String, String> = BTreeMap::new();
        if let Some(f) = fx {
            for (c, v) in &f.rates {
                if let Some((_, r)) = v.last() {
                    rates.insert(c.clone(), format!("{r}"));
                }
            }
        }
        rates.insert(base.to_string(), "1".into());
        rates.retain(|c, _| codes.contains(c));
        let computed = if codes.len() == 1 && codes.contains(base) {
            col("amount")
        } else {
            col("amount") * translate(col("currency"), &rates, lit(NULL).cast(DataType::String)).cast(DataType::Float64)
        };
        let e = if given {
            col("amount_base").fill_null(computed)
        } else {
            computed
        };
        return df
            .lazy()
            .with_column(e.alias("amount_base"))
            .collect()
            .ctx(|| "converting into the base currency".into());
    }
    // Dated rates: row by row.
    let cur = df
        .column("currency")
        .and_then(|c| c.str().cloned())
        .ctx(|| "currency".into())?;
    let amount = df
        .column("amount")
        .and_then(|c| c.f64().cloned())
        .ctx(|| "amount".into())?;
    let ts = df
        .column("ts")
        .and_then(|c| c.cast(&DataType::Int64))
        .and_then(|c| c.i64().cloned())
        .ctx(|| "ts".into())?;
    let existing = if given {
        df.column("amount_base").and_then(|c| c.f64().cloned()).ok()
    } else {
        None
    };
    let mut out: Vec<Option<f64>> = Vec::with_capacity(n);
    for i in 0..n {
        let given = existing.as_ref().and_then(|e| e.get(i));
        let v = match (amount.get(i), cur.get(i)) {
            _ if given.is_some() => given,
            (Some(a), Some(c)) if c == base => Some(a),
            (Some(a), Some(c)) => fx.and_then(|f| f.rate(c, ts.get(i).unwrap_or(0))).map(|r| a * r),
            _ => None,
        };
        out.push(v);
    }
    df.with_column(Column::new("amount_base".into(), out))
        .ctx(|| "amount_base".into())?;
    Ok(df)
}
