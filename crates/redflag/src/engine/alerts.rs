//! The alert builder every kind uses: explanations filled in, measures as JSON values,
//! ids, and duplicates merged.

use std::collections::{BTreeMap, BTreeSet};

use polars::prelude::*;

#[allow(unused_imports)]
use super::*;
use crate::error::Result;
use crate::model::{alert_id, Alert, Rule, SideSel};
use crate::util::format;

/// What an alert holds beyond what its rule and rows give.
pub(crate) struct AlertParts {
    /// The account screened.
    pub(crate) account: String,
    /// The side screened.
    pub(crate) side: SideSel,
    /// The transaction rows, in time order.
    pub(crate) rows: Vec<u32>,
    /// Measure name → value.
    pub(crate) measures: BTreeMap<String, serde_json::Value>,
    /// The filled-in explanation.
    pub(crate) explanation: String,
    /// The other accounts of the pattern.
    pub(crate) linked_accounts: Vec<String>,
}

/// An alert of a rule: the transaction ids, the span and the stable id come from the rows.
/// The transactions are listed by time, then id: the same whatever the rows' order in
/// the input.
pub(crate) fn make_alert(prep: &Prepared<'_>, rule: &Rule, mut parts: AlertParts) -> Result<Alert> {
    let mut txn_ids = prep.txn_ids(&parts.rows)?;
    let ordered = (1..parts.rows.len()).all(|i| {
        let (a, b) = (prep.ts(parts.rows[i - 1]), prep.ts(parts.rows[i]));
        a < b || (a == b && txn_ids[i - 1] <= txn_ids[i])
    });
    if !ordered {
        let mut order: Vec<usize> = (0..parts.rows.len()).collect();
        order.sort_by(|&a, &b| {
            prep.ts(parts.rows[a])
                .cmp(&prep.ts(parts.rows[b]))
                .then_with(|| txn_ids[a].cmp(&txn_ids[b]))
        });
        parts.rows = order.iter().map(|&i| parts.rows[i]).collect();
        txn_ids = order.iter().map(|&i| std::mem::take(&mut txn_ids[i])).collect();
    }
    let first_ts = parts.rows.iter().map(|r| prep.ts(*r)).min().unwrap_or(0);
    let last_ts = parts.rows.iter().map(|r| prep.ts(*r)).max().unwrap_or(0);
    Ok(Alert {
        alert_id: alert_id(rule.id(), &parts.account, &txn_ids),
        rule_id: rule.id().to_string(),
        kind: rule.kind.name().to_string(),
        severity: rule.def.severity,
        typologies: rule.def.typologies.clone(),
        account: parts.account,
        side: parts.side,
        window_start: format::timestamp(first_ts),
        window_end: format::timestamp(last_ts),
        txn_ids,
        measures: parts.measures,
        explanation: parts.explanation,
        linked_accounts: parts.linked_accounts,
        rows: parts.rows,
    })
}

pub(crate) fn dedup(mut alerts: Vec<Alert>) -> Vec<Alert> {
    let mut seen = BTreeSet::new();
    alerts.retain(|a| seen.insert(a.alert_id.clone()));
    alerts
}

/// Fills an explanation template.
pub(crate) fn fill(
    template: &str,
    rule: &Rule,
    values: &BTreeMap<String, String>,
    account: &str,
    side: &str,
    window: Option<&str>,
) -> String {
    // `[[ ... ]]` marks a clause left out when a measure it names is dropped; here,
    // with the rule's measures all there, only the brackets go.
    let unbracketed;
    let template = if template.contains("[[") {
        unbracketed = crate::model::explain_without(template, &[]);
        unbracketed.as_str()
    } else {
        template
    };
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            rest = "";
            break;
        };
        let mut parts = after[..end].split('|');
        let name = parts.next().unwrap_or("").trim();
        let noun: Option<(&str, &str)> = match (parts.next(), parts.next()) {
            (Some(one), Some(many)) => Some((one.trim(), many.trim())),
            _ => None,
        };
        let v = match name {
            "account" => account.to_string(),
            "side" => side.to_string(),
            "rule_id" => rule.id().to_string(),
            "window" => window.unwrap_or("").to_string(),
            _ => values
                .get(name)
                .cloned()
                .or_else(|| rule.params.get(name).map(|p| p.display()))
                .unwrap_or_else(|| "—".into()),
        };
        out.push_str(&v);
        if let Some((one, many)) = noun {
            out.push(' ');
            out.push_str(if v == "1" { one } else { many });
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

pub(crate) fn display_value(v: &AnyValue<'_>) -> String {
    match v {
        AnyValue::Null => "—".into(),
        AnyValue::Float64(f) => format::number(*f),
        AnyValue::Float32(f) => format::number(*f as f64),
        AnyValue::Int64(i) => format::number(*i as f64),
        AnyValue::Int32(i) => format::number(*i as f64),
        AnyValue::UInt32(i) => format::number(*i as f64),
        AnyValue::UInt64(i) => format::number(*i as f64),
        AnyValue::String(s) => s.to_string(),
        AnyValue::StringOwned(s) => s.to_string(),
        AnyValue::Boolean(b) => b.to_string(),
        AnyValue::Datetime(ms, TimeUnit::Milliseconds, _) => format::timestamp(*ms),
        other => other.to_string(),
    }
}

pub(crate) fn json_value(v: &AnyValue<'_>) -> serde_json::Value {
    let num = |f: f64| {
        if f.is_finite() {
            // Whole numbers as integers; others rounded to 6 decimals for stable output.
            if f.fract() == 0.0 && f.abs() < 9.0e15 {
                serde_json::Value::from(f as i64)
            } else {
                serde_json::Value::from((f * 1e6).round() / 1e6)
            }
        } else {
            serde_json::Value::Null
        }
    };
    match v {
        AnyValue::Null => serde_json::Value::Null,
        AnyValue::Float64(f) => num(*f),
        AnyValue::Float32(f) => num(*f as f64),
        AnyValue::Int64(i) => (*i).into(),
        AnyValue::Int32(i) => (*i).into(),
        AnyValue::UInt32(i) => (*i).into(),
        AnyValue::UInt64(i) => (*i).into(),
        AnyValue::Boolean(b) => (*b).into(),
        AnyValue::String(s) => (*s).into(),
        AnyValue::StringOwned(s) => s.to_string().into(),
        other => other.to_string().into(),
    }
}
