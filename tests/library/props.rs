//! Aggregate windows against a naive row-by-row reference, on random data.

use std::collections::BTreeSet;

use proptest::prelude::*;

use crate::common::{one_rule, pack, tx, Tx};

#[derive(Debug, Clone)]
struct Row {
    acct: u8,
    other: u8,
    minute: i64,
    amount: u32,
}

/// The reference: for every qualifying row, the window [t - w, t] of its account's
/// qualifying rows; windows whose measures pass are merged when they overlap; an episode
/// lists every qualifying row of the account inside the merged span.
fn reference(
    rows: &[Row],
    window_min: i64,
    min_n: usize,
    min_total: f64,
    min_distinct: usize,
) -> BTreeSet<(String, Vec<String>)> {
    let mut out = BTreeSet::new();
    for acct in 0u8..4 {
        let mut mine: Vec<(i64, usize)> = rows
            .iter()
            .enumerate()
            .filter(|(_, r)| r.acct == acct && r.amount >= 100)
            .map(|(i, r)| (r.minute, i))
            .collect();
        mine.sort();
        let mut spans: Vec<(i64, i64)> = Vec::new();
        for &(t, _) in &mine {
            let inside: Vec<usize> = mine
                .iter()
                .filter(|(u, _)| *u >= t - window_min && *u <= t)
                .map(|(_, i)| *i)
                .collect();
            let n = inside.len();
            let total: f64 = inside.iter().map(|i| rows[*i].amount as f64).sum();
            let distinct: BTreeSet<u8> = inside.iter().map(|i| rows[*i].other).collect();
            if n >= min_n && total >= min_total && distinct.len() >= min_distinct {
                spans.push((t - window_min, t));
            }
        }
        spans.sort();
        let mut merged: Vec<(i64, i64)> = Vec::new();
        for (s, e) in spans {
            match merged.last_mut() {
                Some(m) if s <= m.1 => m.1 = m.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        for (s, e) in merged {
            let mut ids: Vec<(i64, String)> = mine
                .iter()
                .filter(|(u, _)| *u >= s && *u <= e)
                .map(|(u, i)| (*u, format!("t{i:03}")))
                .collect();
            ids.sort();
            out.insert((format!("A{acct}"), ids.into_iter().map(|x| x.1).collect()));
        }
    }
    out
}

fn to_tx(rows: &[Row]) -> Vec<Tx> {
    let base = chrono::NaiveDate::from_ymd_opt(2026, 1, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    rows.iter()
        .enumerate()
        .map(|(i, r)| {
            let t = base + chrono::Duration::minutes(r.minute);
            tx(
                &format!("t{i:03}"),
                &t.format("%Y-%m-%d %H:%M:%S").to_string(),
                r.amount as f64,
                Some(&format!("S{}", r.other)),
                Some(&format!("A{}", r.acct)),
                "wire",
            )
        })
        .collect()
}

fn row() -> impl Strategy<Value = Row> {
    (0u8..4, 0u8..6, 0i64..(20 * 24 * 60), 1u32..2000).prop_map(|(acct, other, minute, amount)| Row {
        acct,
        other,
        // Coarse minutes so that equal timestamps happen.
        minute: minute / 180 * 180,
        amount,
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]
    #[test]
    fn aggregate_matches_naive_reference(
        rows in proptest::collection::vec(row(), 1..60),
        window_h in prop_oneof![Just(6i64), Just(24), Just(72), Just(168)],
        min_n in 1usize..5,
        min_total in prop_oneof![Just(0.0f64), Just(1500.0), Just(4000.0)],
        min_distinct in 1usize..4,
    ) {
        let rule = format!(
            r#"  - id: P
    title: property
    kind: aggregate
    severity: low
    side: in
    where: "amount_base >= 100"
    window: {window_h}h
    measures:
      n: "count(*)"
      total: "sum(amount_base)"
      senders: "count(DISTINCT counterparty)"
    having: "n >= {min_n} AND total >= {min_total} AND senders >= {min_distinct}"
    explain: "{{n}}"
"#
        );
        let p = pack(&one_rule(&rule), &[("hr.txt", "KP\n")]);
        let ds = crate::common::dataset(&to_tx(&rows));
        let got: BTreeSet<(String, Vec<String>)> = redflag::screen(&p, &ds)
            .unwrap()
            .alerts()
            .cloned()
            .map(|a| (a.account, a.txn_ids))
            .collect();
        let want = reference(&rows, window_h * 60, min_n, min_total, min_distinct);
        prop_assert_eq!(got, want);
    }
}
