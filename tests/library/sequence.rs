//! Kind `sequence`: a hit, near misses past each threshold, boundaries, time order,
//! overlapping sequences, windowed first events, prior context, repeats, and a property
//! test against a naive reference.

use std::collections::BTreeSet;

use proptest::prelude::*;

use crate::common::{alerts, one_rule, pack, try_pack, tx, Tx};

const HR: (&str, &str) = ("hr.txt", "KP\n");

fn rule(body: &str) -> redflag::Pack {
    pack(
        &one_rule(&format!(
            "  - id: SEQ-T\n    title: t\n    kind: sequence\n    typologies: [money-laundering]\n    severity: high\n{body}"
        )),
        &[HR],
    )
}

fn pass_through() -> redflag::Pack {
    rule(
        r#"    first: {side: in, where: "amount_base >= 1000"}
    then: {side: out}
    within: 24h
    match: "then.total >= 0.9 * first.amount"
    explain: "{first_amount} in on {first_time}, {then_total} out ({then_pct}%) within {dwell}, {n_sequences} sequence(s)"
"#,
    )
}

fn credit(id: &str, ts: &str, amount: f64, acct: &str) -> Tx {
    tx(id, ts, amount, Some("SRC"), Some(acct), "wire")
}

fn debit(id: &str, ts: &str, amount: f64, acct: &str) -> Tx {
    tx(id, ts, amount, Some(acct), Some("DST"), "wire")
}

#[test]
fn pass_through_fires_when_the_debits_reach_the_share() {
    let a = alerts(
        &pass_through(),
        &[
            credit("c1", "2026-01-01 10:00:00", 5000.0, "A"),
            debit("d1", "2026-01-01 12:00:00", 2000.0, "A"),
            debit("d2", "2026-01-01 15:00:00", 2600.0, "A"),
            debit("d3", "2026-01-01 16:00:00", 100.0, "A"),
        ],
    );
    assert_eq!(a.len(), 1, "{a:?}");
    assert_eq!(a[0].account, "A");
    assert_eq!(a[0].kind, "sequence");
    // The sequence stops at the debit where the share is reached.
    assert_eq!(a[0].txn_ids, ["c1", "d1", "d2"]);
    assert_eq!(a[0].measures["then_total"], 4600);
    assert_eq!(a[0].measures["then_count"], 2);
    assert_eq!(a[0].measures["dwell_hours"], 5);
    assert_eq!(a[0].side.as_str(), "both");
    assert_eq!(
        a[0].explanation,
        "5,000 in on 2026-01-01T10:00:00, 4,600 out (92%) within 5 h, 1 sequence(s)"
    );
}

#[test]
fn pass_through_near_miss_and_boundary_on_the_amount() {
    let rows = |d2: f64| {
        vec![
            credit("c1", "2026-01-01 10:00:00", 5000.0, "A"),
            debit("d1", "2026-01-01 12:00:00", 2000.0, "A"),
            debit("d2", "2026-01-01 15:00:00", d2, "A"),
        ]
    };
    assert!(alerts(&pass_through(), &rows(2499.99)).is_empty());
    assert_eq!(alerts(&pass_through(), &rows(2500.0)).len(), 1);
    // The first event's own threshold: a credit just under 1,000 starts nothing.
    let small = [
        credit("c1", "2026-01-01 10:00:00", 999.99, "A"),
        debit("d1", "2026-01-01 12:00:00", 999.99, "A"),
    ];
    assert!(alerts(&pass_through(), &small).is_empty());
}

#[test]
fn pass_through_within_is_inclusive_and_one_second_past_is_not() {
    let rows = |ts: &str| {
        vec![
            credit("c1", "2026-01-01 10:00:00", 5000.0, "A"),
            debit("d1", ts, 4500.0, "A"),
        ]
    };
    let hit = alerts(&pass_through(), &rows("2026-01-02 10:00:00"));
    assert_eq!(hit.len(), 1);
    assert_eq!(hit[0].measures["dwell_hours"], 24);
    assert!(alerts(&pass_through(), &rows("2026-01-02 10:00:01")).is_empty());
}

#[test]
fn time_order_violated_does_not_fire() {
    // The debits come before the credit.
    let a = alerts(
        &pass_through(),
        &[
            debit("d1", "2026-01-01 08:00:00", 2500.0, "A"),
            debit("d2", "2026-01-01 09:00:00", 2500.0, "A"),
            credit("c1", "2026-01-01 10:00:00", 5000.0, "A"),
        ],
    );
    assert!(a.is_empty(), "{a:?}");
    // At the same time, the file order decides: a debit listed before the credit is
    // not after it.
    let before = alerts(
        &pass_through(),
        &[
            debit("d1", "2026-01-01 10:00:00", 5000.0, "A"),
            credit("c1", "2026-01-01 10:00:00", 5000.0, "A"),
        ],
    );
    assert!(before.is_empty(), "{before:?}");
    let after = alerts(
        &pass_through(),
        &[
            credit("c1", "2026-01-01 10:00:00", 5000.0, "A"),
            debit("d1", "2026-01-01 10:00:00", 5000.0, "A"),
        ],
    );
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].measures["dwell_minutes"], 0);
}

#[test]
fn other_accounts_do_not_mix() {
    let a = alerts(
        &pass_through(),
        &[
            credit("c1", "2026-01-01 10:00:00", 5000.0, "A"),
            debit("d1", "2026-01-01 12:00:00", 5000.0, "B"),
        ],
    );
    assert!(a.is_empty(), "{a:?}");
}

#[test]
fn overlapping_sequences_merge_into_one_alert() {
    let a = alerts(
        &pass_through(),
        &[
            credit("c1", "2026-01-01 10:00:00", 5000.0, "A"),
            credit("c2", "2026-01-01 10:30:00", 3000.0, "A"),
            debit("d1", "2026-01-01 11:00:00", 4600.0, "A"),
            // A later, separate sequence.
            credit("c3", "2026-01-03 10:00:00", 2000.0, "A"),
            debit("d2", "2026-01-03 10:20:00", 1900.0, "A"),
        ],
    );
    assert_eq!(a.len(), 2, "{a:?}");
    assert_eq!(a[0].txn_ids, ["c1", "c2", "d1"]);
    assert_eq!(a[0].measures["n_sequences"], 2);
    // The earliest sequence's values.
    assert_eq!(a[0].measures["first_amount"], 5000);
    assert_eq!(a[1].txn_ids, ["c3", "d2"]);
    assert_eq!(a[1].measures["n_sequences"], 1);
}

#[test]
fn windowed_first_event_is_the_end_of_a_firing_window() {
    let p = rule(
        r#"    first:
      side: in
      window: 2d
      measures:
        n: "count(*)"
        senders: "count(DISTINCT counterparty)"
        total: "sum(amount_base)"
      having: "n >= 3 AND senders >= 3"
    then: {side: out, where: "channel = 'cash_out'"}
    within: 1d
    match: "then.total >= 0.7 * first.total"
    explain: "{first_n} credits from {first_senders} senders, {first_total}; {then_total} out"
"#,
    );
    let rows = |out: f64| {
        vec![
            tx("c1", "2026-01-01 10:00:00", 100.0, Some("S1"), Some("A"), "p2p"),
            tx("c2", "2026-01-01 11:00:00", 100.0, Some("S2"), Some("A"), "p2p"),
            tx("c3", "2026-01-02 09:00:00", 100.0, Some("S3"), Some("A"), "p2p"),
            tx("d1", "2026-01-02 20:00:00", out, Some("A"), None, "cash_out"),
        ]
    };
    let a = alerts(&p, &rows(210.0));
    assert_eq!(a.len(), 1, "{a:?}");
    assert_eq!(a[0].txn_ids, ["c1", "c2", "c3", "d1"]);
    assert_eq!(a[0].explanation, "3 credits from 3 senders, 300; 210 out");
    assert!(alerts(&p, &rows(209.0)).is_empty());
    // Two senders only: the window never fires, so there is no first event.
    let mut two = rows(300.0);
    two[2].orig = Some("S1".into());
    assert!(alerts(&p, &two).is_empty());
}

#[test]
fn prior_context_is_the_window_before_the_first_event() {
    let p = rule(
        r#"    first: {side: out, where: "channel = 'card'"}
    then: {side: out, where: "channel = 'cash_out'"}
    prior: {side: in, window: 30d}
    within: 21d
    match: "prior.total > 0 AND then.total >= 0.9 * prior.total"
    explain: "{prior_total} received before; {then_total} taken out"
"#,
    );
    let rows = |out: f64| {
        vec![
            // 40 days before: outside the prior window.
            credit("c0", "2025-11-22 10:00:00", 9000.0, "A"),
            credit("c1", "2025-12-10 10:00:00", 1000.0, "A"),
            credit("c2", "2025-12-20 10:00:00", 2000.0, "A"),
            tx("t1", "2026-01-01 10:00:00", 400.0, Some("A"), Some("AIRLINE"), "card"),
            tx("d1", "2026-01-05 10:00:00", out, Some("A"), None, "cash_out"),
        ]
    };
    let a = alerts(&p, &rows(2700.0));
    assert_eq!(a.len(), 1, "{a:?}");
    assert_eq!(a[0].measures["prior_total"], 3000);
    assert_eq!(a[0].txn_ids, ["t1", "d1"]);
    assert!(alerts(&p, &rows(2699.0)).is_empty());
}

#[test]
fn repeat_needs_enough_sequences_in_the_window() {
    let p = rule(
        r#"    first: {side: in}
    then: {side: out}
    within: 24h
    match: "then.total >= 0.5 * first.amount"
    repeat:
      window: 10d
      having: "n_sequences >= 3 AND median_dwell_minutes < 60"
    explain: "{n_sequences} passed on, median {median_dwell_minutes} min"
"#,
    );
    let mut rows = Vec::new();
    // Three quick pass-throughs on days 1, 4 and 8 (30, 20 and 90 minutes).
    for (k, (day, dwell)) in [(1, 30), (4, 20), (8, 90)].iter().enumerate() {
        rows.push(credit(
            &format!("c{k}"),
            &format!("2026-01-{day:02} 10:00:00"),
            100.0,
            "A",
        ));
        rows.push(debit(
            &format!("d{k}"),
            &format!("2026-01-{day:02} {:02}:{:02}:00", 10 + dwell / 60, dwell % 60),
            100.0,
            "A",
        ));
    }
    let a = alerts(&p, &rows);
    assert_eq!(a.len(), 1, "{a:?}");
    assert_eq!(a[0].measures["n_sequences"], 3);
    assert_eq!(a[0].measures["median_dwell_minutes"], 30);
    assert_eq!(a[0].txn_ids.len(), 6);
    // Two only: no alert.
    assert!(alerts(&p, &rows[..4]).is_empty());
}

#[test]
fn pack_errors_name_the_field_and_the_near_name() {
    let e = try_pack(
        &one_rule(
            r#"  - id: SEQ-T
    title: t
    kind: sequence
    severity: high
    first: {side: in, having: "n > 1"}
    then: {side: out, window: 2d}
    within: 24x
    match: "then.totl >= first.amount"
"#,
        ),
        &[HR],
    )
    .unwrap_err()
    .to_string();
    for want in [
        "a windowed `first` needs `window`, `measures` and `having` together",
        "`then` takes no `window`",
        "within",
        "unknown name `then_totl`; did you mean `then_total`?",
    ] {
        assert!(e.contains(want), "missing {want:?} in:\n{e}");
    }
}

#[derive(Debug, Clone)]
struct Row {
    orig: u8,
    bene: u8,
    minute: i64,
    amount: u32,
}

/// The reference: each credit of at least 100 starts a sequence; the account's debits
/// after it (by time, then file order; never the same transaction) within `w` minutes
/// accumulate, and it fires at the first at which they reach 90% of the credit.
/// Overlapping fired sequences of an account merge.
fn reference(rows: &[Row], w: i64) -> BTreeSet<(String, Vec<String>)> {
    let mut out = BTreeSet::new();
    for acct in 0u8..3 {
        let mut fired: Vec<(i64, i64, Vec<usize>)> = Vec::new();
        let mut debits: Vec<(i64, usize)> = rows
            .iter()
            .enumerate()
            .filter(|(_, r)| r.orig == acct)
            .map(|(i, r)| (r.minute, i))
            .collect();
        debits.sort();
        for (i, r) in rows.iter().enumerate() {
            if r.bene != acct || r.amount < 100 {
                continue;
            }
            let mut total = 0.0;
            let mut txns = vec![i];
            for &(m, j) in &debits {
                if (m, j) <= (r.minute, i) || j == i {
                    continue;
                }
                if m > r.minute + w {
                    break;
                }
                total += rows[j].amount as f64;
                txns.push(j);
                if total >= 0.9 * r.amount as f64 {
                    fired.push((r.minute, m, txns.clone()));
                    break;
                }
            }
        }
        fired.sort();
        let mut merged: Vec<(i64, i64, BTreeSet<usize>)> = Vec::new();
        for (s, e, t) in fired {
            match merged.last_mut() {
                Some(m) if s <= m.1 => {
                    m.1 = m.1.max(e);
                    m.2.extend(t);
                }
                _ => merged.push((s, e, t.into_iter().collect())),
            }
        }
        for (_, _, t) in merged {
            let mut ids: Vec<(i64, usize)> = t.iter().map(|&i| (rows[i].minute, i)).collect();
            ids.sort();
            out.insert((
                format!("A{acct}"),
                ids.iter().map(|(_, i)| format!("t{i:03}")).collect(),
            ));
        }
    }
    out
}

fn to_txs(rows: &[Row]) -> Vec<Tx> {
    let base = chrono::NaiveDate::from_ymd_opt(2026, 1, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    rows.iter()
        .enumerate()
        .map(|(i, r)| {
            let ts = (base + chrono::Duration::minutes(r.minute))
                .format("%Y-%m-%d %H:%M:%S")
                .to_string();
            tx(
                &format!("t{i:03}"),
                &ts,
                r.amount as f64,
                Some(&format!("A{}", r.orig)),
                Some(&format!("A{}", r.bene)),
                "wire",
            )
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    #[test]
    fn sequences_match_a_naive_reference(
        rows in prop::collection::vec(
            (0u8..3, 0u8..3, 0i64..600, 1u32..400).prop_map(|(orig, bene, minute, amount)| Row { orig, bene, minute, amount }),
            1..60,
        ),
        w in prop::sample::select(vec![30i64, 120, 360]),
    ) {
        let p = rule(&format!(
            "    first: {{side: in, where: \"amount_base >= 100\"}}\n    then: {{side: out}}\n    within: {w}m\n    match: \"then.total >= 0.9 * first.amount\"\n"
        ));
        let got: BTreeSet<(String, Vec<String>)> = alerts(&p, &to_txs(&rows))
            .into_iter()
            .map(|a| (a.account, a.txn_ids))
            .collect();
        prop_assert_eq!(got, reference(&rows, w));
    }
}

#[test]
fn repeat_measures_read_the_first_events_in_the_window() {
    // Funnel: cash paid in at several regions, each mostly moved on within 72 hours.
    let p = rule(
        r#"    first: {side: in, where: "channel = 'cash_in'"}
    then: {side: out}
    within: 72h
    match: "then.total >= 0.7 * first.amount"
    repeat:
      window: 30d
      measures:
        regions: "count(DISTINCT loc_region)"
      having: "n_sequences >= 3 AND regions >= 3"
    optional_columns: [loc_region]
    explain: "{n_sequences} deposits in {regions} regions"
"#,
    );
    let rows = |regions: [&str; 3]| -> Vec<Tx> {
        let mut v = Vec::new();
        for (k, region) in regions.iter().enumerate() {
            let day = 1 + 5 * k;
            let mut c = tx(
                &format!("c{k}"),
                &format!("2026-01-{day:02} 10:00:00"),
                1000.0,
                None,
                Some("A"),
                "cash_in",
            );
            c.loc_region = Some(region.to_string());
            v.push(c);
            v.push(debit(
                &format!("d{k}"),
                &format!("2026-01-{:02} 10:00:00", day + 2),
                800.0,
                "A",
            ));
        }
        v
    };
    let a = alerts(&p, &rows(["KG-B", "KG-C", "KG-J"]));
    assert_eq!(a.len(), 1, "{a:?}");
    assert_eq!(a[0].measures["regions"], 3);
    assert_eq!(a[0].explanation, "3 deposits in 3 regions");
    assert_eq!(a[0].txn_ids.len(), 6);
    // Two regions only.
    assert!(alerts(&p, &rows(["KG-B", "KG-C", "KG-B"])).is_empty());
}

#[test]
fn an_event_in_its_context_needs_no_then() {
    // The first transfer to a payee country the account has not paid in the prior 90 days.
    let p = rule(
        r#"    first: {side: out, where: "bene_country = 'SY'"}
    prior: {side: out, where: "bene_country = 'SY'", window: 90d}
    match: "prior.count = 0"
    explain: "first transfer there in 90 days: {first_amount}"
"#,
    );
    let to_sy = |id: &str, ts: &str| {
        let mut t = debit(id, ts, 500.0, "A");
        t.bene_country = Some("SY".into());
        t
    };
    let a = alerts(
        &p,
        &[
            to_sy("s1", "2026-01-01 10:00:00"),
            to_sy("s2", "2026-02-01 10:00:00"),
            // 91 days after s2: new again.
            to_sy("s3", "2026-05-03 10:00:00"),
        ],
    );
    let ids: Vec<Vec<String>> = a.iter().map(|x| x.txn_ids.clone()).collect();
    assert_eq!(ids, [vec!["s1".to_string()], vec!["s3".to_string()]], "{a:?}");
    assert_eq!(a[0].explanation, "first transfer there in 90 days: 500");
    assert!(!a[0].measures.contains_key("then_total"));
    // `then` names without `then` events are an error.
    let e = try_pack(
        &one_rule(
            "  - id: SEQ-T\n    title: t\n    kind: sequence\n    severity: low\n    first: {side: out}\n    prior: {side: out, window: 30d}\n    within: 1d\n    match: \"then.total > 1\"\n",
        ),
        &[HR],
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("`then_total` needs `then` events"), "{e}");
    assert!(e.contains("`within` goes with `then`"), "{e}");
}
