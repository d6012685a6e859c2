//! `alerts.csv` (one row per alert and transaction) and `quarantine.csv` (the rows set
//! aside, with their reasons).
//!
//! Every text cell is neutralised against spreadsheet formula injection as OWASP
//! recommends ([`neutralise_cell`]): a cell that begins with `=`, `+`, `-`, `@`, a tab or a
//! carriage return gets a leading `'`. Numbers the tool writes (times, amounts, scores)
//! are written as numbers, and a text cell that is a plain number (`-12.5`) is left as it
//! is: a spreadsheet reads it as that number, never as a formula.

use std::borrow::Cow;
use std::io::Write;
use std::path::PathBuf;

use polars::prelude::*;

use crate::error::{Error, PolarsContext, Result};
use crate::ingest::Dataset;
use crate::model::{Alert, Case};

/// A text cell neutralised against spreadsheet formulas: a `'` before a cell that begins
/// with `=`, `+`, `-`, `@`, a tab or a carriage return (unless the cell is a plain number
/// such as `-12.5`), and before a cell that already begins with `'` followed by one of
/// those, so that removing one leading `'` from a cell that begins with `'`s followed by
/// one of them always gives the value back.
pub fn neutralise_cell(s: &str) -> Cow<'_, str> {
    let rest = s.trim_start_matches('\'');
    let trigger = matches!(rest.chars().next(), Some('=' | '+' | '-' | '@' | '\t' | '\r'));
    if trigger && (rest.len() < s.len() || !is_plain_number(s)) {
        Cow::Owned(format!("'{s}"))
    } else {
        Cow::Borrowed(s)
    }
}

/// `-12.5`, `+3`, `1e-5`: digits with a sign, a point and an exponent, nothing else.
fn is_plain_number(s: &str) -> bool {
    s.bytes().any(|b| b.is_ascii_digit())
        && s.bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E'))
        && s.parse::<f64>().is_ok()
}

/// A text cell as every CSV of the tool writes it: neutralised ([`neutralise_cell`]), then
/// quoted when it needs it.
pub fn csv_field(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    push_csv_field(&mut out, s);
    out
}

/// `alerts.csv`: one row per alert and transaction, in case rank order.
pub fn alerts_csv(cases: &[Case], ds: &Dataset) -> Result<String> {
    let mut out = Vec::new();
    write_alerts_csv(cases, ds, &mut out)?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// [`alerts_csv`], written to `w` as it is made (the whole file is never in memory).
pub fn write_alerts_csv(cases: &[Case], ds: &Dataset, w: &mut dyn std::io::Write) -> Result<()> {
    let io = |source| Error::Io {
        path: PathBuf::from("alerts.csv"),
        action: "writing",
        source,
    };
    let mut w = std::io::BufWriter::with_capacity(1 << 20, w);
    w.write_all(ALERTS_CSV_HEADER).map_err(io)?;
    write_alert_lines(cases, ds, &mut w)?;
    w.flush().map_err(io)?;
    Ok(())
}

/// The first line of `alerts.csv`.
pub(crate) const ALERTS_CSV_HEADER: &[u8] =
    b"case_id,alert_id,rule_id,severity,account,txn_id,ts,amount_base,explanation\n";

/// The lines of `alerts.csv` for `cases` (whose alerts' rows are rows of `ds`), without
/// the first line.
pub(crate) fn write_alert_lines(cases: &[Case], ds: &Dataset, w: &mut dyn std::io::Write) -> Result<()> {
    let (ts, ids) = row_keys(ds)?;
    let amount = ds
        .transactions
        .column("amount_base")
        .and_then(|c| c.f64().cloned())
        .ctx(|| "reading amount_base".into())?;
    let io = |source| Error::Io {
        path: PathBuf::from("alerts.csv"),
        action: "writing",
        source,
    };
    let amount = crate::cases::numbers(&amount);
    let mut line = String::new();
    for c in cases {
        for a in &c.alerts {
            let rows = alert_rows(a, &ts, &ids);
            // The fields the alert's rows share.
            let head = format!(
                "{},{},{},{},{},",
                csv_field(&c.case_id),
                csv_field(&a.alert_id),
                csv_field(&a.rule_id),
                a.severity.as_str(),
                csv_field(&a.account)
            );
            let tail = csv_field(&a.explanation);
            for (t, id, r) in rows {
                line.clear();
                line.push_str(&head);
                push_csv_field(&mut line, id.unwrap_or(""));
                line.push(',');
                if let Some(t) = t {
                    crate::util::format::push_timestamp(&mut line, t);
                }
                line.push(',');
                if let Some(v) = amount(r as usize) {
                    use std::fmt::Write as _;
                    let _ = write!(line, "{v:.2}");
                }
                line.push(',');
                line.push_str(&tail);
                line.push('\n');
                w.write_all(line.as_bytes()).map_err(io)?;
            }
        }
    }
    Ok(())
}

/// Each transaction's time (ms) and id: what orders an alert's rows.
fn row_keys(ds: &Dataset) -> Result<(Int64Chunked, StringChunked)> {
    let txns = &ds.transactions;
    let ts = txns
        .column("ts")
        .and_then(|c| c.cast(&DataType::Int64))
        .and_then(|c| c.i64().cloned())
        .ctx(|| "reading ts".into())?;
    let ids = txns
        .column("txn_id")
        .and_then(|c| c.str().cloned())
        .ctx(|| "reading txn_id".into())?;
    Ok((ts, ids))
}

/// An alert's rows in `alerts.csv` order: time, then transaction id; each row's key read
/// once.
fn alert_rows<'a>(a: &Alert, ts: &Int64Chunked, ids: &'a StringChunked) -> Vec<(Option<i64>, Option<&'a str>, u32)> {
    let ts = crate::cases::numbers(ts);
    let mut rows: Vec<(Option<i64>, Option<&str>, u32)> = a
        .rows
        .iter()
        .map(|&r| (ts(r as usize), ids.get(r as usize), r))
        .collect();
    rows.sort_by(|x, y| (x.0, x.1).cmp(&(y.0, y.1)));
    rows
}

/// The rows of `alerts.csv` as a frame, in the same order and with the same columns:
/// `case_id`, `alert_id`, `rule_id`, `severity`, `account`, `txn_id`, `ts` (the input's
/// datetime type), `amount_base` (not rounded) and `explanation`.
pub fn alerts_frame(cases: &[Case], ds: &Dataset) -> Result<DataFrame> {
    let txns = &ds.transactions;
    let (ts, ids) = row_keys(ds)?;
    let mut take: Vec<IdxSize> = Vec::new();
    let mut text: [Vec<&str>; 6] = Default::default();
    for c in cases {
        for a in &c.alerts {
            for (_, _, r) in alert_rows(a, &ts, &ids) {
                take.push(r as IdxSize);
                let fields = [
                    c.case_id.as_str(),
                    a.alert_id.as_str(),
                    a.rule_id.as_str(),
                    a.severity.as_str(),
                    a.account.as_str(),
                    a.explanation.as_str(),
                ];
                for (col, v) in text.iter_mut().zip(fields) {
                    col.push(v);
                }
            }
        }
    }
    let idx = IdxCa::from_vec("".into(), take);
    let picked = txns
        .select(["txn_id", "ts", "amount_base"])
        .and_then(|d| d.take(&idx))
        .ctx(|| "gathering the alerts' transactions".into())?;
    let names = ["case_id", "alert_id", "rule_id", "severity", "account", "explanation"];
    let mut cols: Vec<Column> = names
        .iter()
        .zip(&text)
        .map(|(n, v)| Column::new((*n).into(), v.as_slice()))
        .collect();
    let explanation = cols.pop();
    cols.extend(picked.into_columns());
    cols.extend(explanation);
    DataFrame::new_infer_height(cols).ctx(|| "building the alerts frame".into())
}

/// [`csv_field`], appended to `out`.
fn push_csv_field(out: &mut String, s: &str) {
    let s = neutralise_cell(s);
    if s.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&s.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(&s);
    }
}

/// `quarantine.csv`, or `None` when no row was set aside.
pub fn quarantine_csv(ds: &Dataset) -> Result<Option<String>> {
    if ds.quarantine.height() == 0 {
        return Ok(None);
    }
    frame_csv(&ds.quarantine).map(Some)
}

/// A frame as CSV text with a header, its text cells neutralised ([`neutralise_cell`]).
pub(crate) fn frame_csv(df: &DataFrame) -> Result<String> {
    let mut df = df.clone();
    let text: Vec<String> = df
        .columns()
        .iter()
        .filter(|c| c.dtype() == &DataType::String)
        .map(|c| c.name().to_string())
        .collect();
    for name in text {
        let ca = df
            .column(&name)
            .and_then(|c| c.str().cloned())
            .ctx(|| format!("writing quarantine.csv column `{name}`"))?;
        if ca
            .iter()
            .flatten()
            .all(|v| matches!(neutralise_cell(v), Cow::Borrowed(_)))
        {
            continue;
        }
        let safe: StringChunked = ca.iter().map(|v| v.map(neutralise_cell)).collect();
        df.with_column(safe.with_name(name.as_str().into()).into_column())
            .ctx(|| format!("writing quarantine.csv column `{name}`"))?;
    }
    let mut buf = Vec::new();
    CsvWriter::new(&mut buf)
        .include_header(true)
        .finish(&mut df)
        .ctx(|| "writing quarantine.csv".into())?;
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_that_a_spreadsheet_would_run_get_a_quote_mark() {
        for (cell, want) in [
            (
                "=HYPERLINK(\"http://x\",\"click\")",
                "'=HYPERLINK(\"http://x\",\"click\")",
            ),
            ("+A1", "'+A1"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("'=x", "''=x"),
            ("-", "'-"),
            ("-inf", "'-inf"),
            // Left as they are: plain numbers and everything else.
            ("-12.5", "-12.5"),
            ("+3", "+3"),
            ("-1e-5", "-1e-5"),
            ("'t Hooft", "'t Hooft"),
            ("ACC-1", "ACC-1"),
            ("", ""),
        ] {
            assert_eq!(neutralise_cell(cell), want, "{cell:?}");
        }
        assert_eq!(csv_field("=1,2"), "\"'=1,2\"");
    }
}
