//! Helpers shared by the tests.
#![allow(dead_code)]

use std::path::Path;

use polars::prelude::*;
use redflag::{Alert, Dataset, IngestOptions, Pack};

/// One transaction for a test.
#[derive(Clone, Debug)]
pub struct Tx {
    pub id: String,
    pub ts: String,
    pub amount: f64,
    pub orig: Option<String>,
    pub bene: Option<String>,
    pub channel: String,
    pub bene_country: Option<String>,
    /// Optional columns: present in the dataset only when some row sets them.
    pub loc_region: Option<String>,
    pub narrative: Option<String>,
}

pub fn tx(id: &str, ts: &str, amount: f64, orig: Option<&str>, bene: Option<&str>, channel: &str) -> Tx {
    Tx {
        id: id.into(),
        ts: ts.into(),
        amount,
        orig: orig.map(str::to_string),
        bene: bene.map(str::to_string),
        channel: channel.into(),
        bene_country: None,
        loc_region: None,
        narrative: None,
    }
}

/// A canonical dataset from test rows (columns: txn_id, ts, amount, accounts, channel, bene_country).
pub fn dataset(rows: &[Tx]) -> Dataset {
    let ts = Series::new("ts".into(), rows.iter().map(|r| r.ts.clone()).collect::<Vec<_>>())
        .str()
        .unwrap()
        .as_datetime(
            Some("%Y-%m-%d %H:%M:%S"),
            TimeUnit::Milliseconds,
            false,
            false,
            None,
            &StringChunked::from_iter([Some("raise")]),
        )
        .unwrap()
        .into_series();
    let df = DataFrame::new_infer_height(vec![
        Column::new("txn_id".into(), rows.iter().map(|r| r.id.clone()).collect::<Vec<_>>()),
        ts.into(),
        Column::new("amount".into(), rows.iter().map(|r| r.amount).collect::<Vec<_>>()),
        Column::new(
            "orig_account".into(),
            rows.iter().map(|r| r.orig.clone()).collect::<Vec<_>>(),
        ),
        Column::new(
            "bene_account".into(),
            rows.iter().map(|r| r.bene.clone()).collect::<Vec<_>>(),
        ),
        Column::new(
            "channel".into(),
            rows.iter().map(|r| r.channel.clone()).collect::<Vec<_>>(),
        ),
        Column::new(
            "bene_country".into(),
            rows.iter().map(|r| r.bene_country.clone()).collect::<Vec<_>>(),
        ),
    ])
    .unwrap();
    let mut df = df;
    for (name, values) in [
        (
            "loc_region",
            rows.iter().map(|r| r.loc_region.clone()).collect::<Vec<_>>(),
        ),
        (
            "narrative",
            rows.iter().map(|r| r.narrative.clone()).collect::<Vec<_>>(),
        ),
    ] {
        if values.iter().any(Option::is_some) {
            df.with_column(Column::new(name.into(), values)).unwrap();
        }
    }
    Dataset::from_frame(df, "test", &IngestOptions::default()).unwrap()
}

/// A pack from YAML text, with lists given inline.
pub fn pack(yaml: &str, lists: &[(&str, &str)]) -> Pack {
    try_pack(yaml, lists).unwrap_or_else(|e| panic!("{e}"))
}

pub fn try_pack(yaml: &str, lists: &[(&str, &str)]) -> redflag::Result<Pack> {
    let lists: Vec<(String, String)> = lists.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
    Pack::parse(yaml, Path::new("test.yaml"), "test.yaml", false, |rel| {
        lists
            .iter()
            .find(|(p, _)| p == rel)
            .map(|(_, t)| t.clone())
            .ok_or_else(|| format!("no list {rel}"))
    })
}

/// Screens and returns the alerts, sorted by rule, account, start.
pub fn alerts(pack: &Pack, rows: &[Tx]) -> Vec<Alert> {
    let ds = dataset(rows);
    let mut a: Vec<Alert> = redflag::screen(pack, &ds).unwrap().alerts().cloned().collect();
    a.sort_by(|x, y| (&x.rule_id, &x.account, &x.window_start).cmp(&(&y.rule_id, &y.account, &y.window_start)));
    a
}

/// The header of a one-rule test pack.
pub fn one_rule(rule: &str) -> String {
    format!(
        "pack: test\nversion: \"1\"\nbase_currency: USD\nparams:\n  reporting_threshold: 10000\nlists:\n  hr: hr.txt\nrules:\n{rule}"
    )
}
