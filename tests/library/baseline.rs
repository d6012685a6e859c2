//! Kind `baseline`: history, peers and dormancy — hits, near misses, boundaries, and a
//! property test of the history mode against a naive reference.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;

use crate::common::{alerts, one_rule, pack, try_pack, tx, Tx};

const HR: (&str, &str) = ("hr.txt", "KP\n");

fn rule(body: &str) -> redflag::Pack {
    pack(
        &one_rule(&format!(
            "  - id: BSL-T\n    title: t\n    kind: baseline\n    typologies: [money-laundering]\n    severity: medium\n{body}"
        )),
        &[HR],
    )
}

fn spike() -> redflag::Pack {
    rule(
        r#"    side: in
    measure: "sum(amount_base)"
    window: 30d
    history: 90d
    min_history: 60d
    threshold: "current > 3 * median AND current >= 1000"
    explain: "{current} in the 30 days from {period_start} against a median of {median} over {periods} periods"
"#,
    )
}

/// A credit to `acct` on day `day` (from 2026-01-01) at 10:00.
fn credit_on(id: &str, day: i64, amount: f64, acct: &str) -> Tx {
    let d = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap() + chrono::Duration::days(day);
    tx(
        id,
        &format!("{} 10:00:00", d.format("%Y-%m-%d")),
        amount,
        Some("SRC"),
        Some(acct),
        "wire",
    )
}

#[test]
fn spike_fires_above_three_times_the_median() {
    let rows = |last: f64| {
        vec![
            credit_on("h0", 0, 500.0, "A"),
            credit_on("h1", 30, 400.0, "A"),
            credit_on("h2", 60, 600.0, "A"),
            credit_on("s1", 90, last / 2.0, "A"),
            credit_on("s2", 100, last / 2.0, "A"),
        ]
    };
    let a = alerts(&spike(), &rows(2000.0));
    assert_eq!(a.len(), 1, "{a:?}");
    assert_eq!(a[0].account, "A");
    assert_eq!(a[0].kind, "baseline");
    assert_eq!(a[0].txn_ids, ["s1", "s2"]);
    assert_eq!(a[0].measures["median"], 500);
    assert_eq!(a[0].measures["periods"], 3);
    assert_eq!(a[0].measures["ratio"], 4);
    assert_eq!(
        a[0].explanation,
        "2,000 in the 30 days from 2026-04-01T00:00:00 against a median of 500 over 3 periods"
    );
    // Exactly three times: not above.
    assert!(alerts(&spike(), &rows(1500.0)).is_empty());
    assert_eq!(alerts(&spike(), &rows(1500.02)).len(), 1);
}

#[test]
fn empty_prior_periods_count_as_zero_for_a_sum() {
    let a = alerts(
        &spike(),
        &[credit_on("h0", 0, 900.0, "A"), credit_on("s1", 90, 1000.0, "A")],
    );
    assert_eq!(a.len(), 1, "{a:?}");
    assert_eq!(a[0].measures["median"], 0);
    // The ratio over a zero median is empty, not infinite.
    assert_eq!(a[0].measures["ratio"], serde_json::Value::Null);
}

#[test]
fn new_accounts_are_not_compared() {
    // B is first seen on day 70; its period starts on day 90; 60 days are needed.
    let a = alerts(
        &spike(),
        &[
            credit_on("h0", 0, 500.0, "A"),
            credit_on("b0", 70, 10.0, "B"),
            credit_on("b1", 95, 5000.0, "B"),
        ],
    );
    assert!(a.iter().all(|x| x.account != "B"), "{a:?}");
    // Seen on day 29 (before day 30): compared.
    let a = alerts(
        &spike(),
        &[
            credit_on("h0", 0, 500.0, "A"),
            credit_on("b0", 29, 10.0, "B"),
            credit_on("b1", 95, 5000.0, "B"),
        ],
    );
    assert!(a.iter().any(|x| x.account == "B"), "{a:?}");
}

fn dormant() -> redflag::Pack {
    rule(
        r#"    side: both
    measure: "sum(amount_base)"
    window: 30d
    dormant_for: 180d
    threshold: "n >= 3"
    explain: "silent {gap_days} days, then {n} transactions ({current})"
"#,
    )
}

#[test]
fn dormant_account_reactivated() {
    let rows = |wake: i64| {
        vec![
            credit_on("a0", 0, 100.0, "D"),
            credit_on("a1", wake, 100.0, "D"),
            credit_on("a2", wake + 10, 100.0, "D"),
            credit_on("a3", wake + 30, 100.0, "D"),
            // Outside the 30 days after waking.
            credit_on("a4", wake + 31, 100.0, "D"),
        ]
    };
    let a: Vec<_> = alerts(&dormant(), &rows(180))
        .into_iter()
        .filter(|x| x.account == "D")
        .collect();
    assert_eq!(a.len(), 1, "{a:?}");
    assert_eq!(a[0].txn_ids, ["a1", "a2", "a3"]);
    assert_eq!(a[0].measures["gap_days"], 180);
    assert_eq!(a[0].explanation, "silent 180 days, then 3 transactions (300)");
    // One day short of the silence.
    assert!(alerts(&dormant(), &rows(179)).iter().all(|x| x.account != "D"));
}

#[test]
fn a_new_account_is_not_dormant() {
    let a = alerts(
        &dormant(),
        &[
            credit_on("x0", 0, 100.0, "OTHER"),
            credit_on("a1", 200, 100.0, "N"),
            credit_on("a2", 201, 100.0, "N"),
            credit_on("a3", 202, 100.0, "N"),
        ],
    );
    assert!(a.iter().all(|x| x.account != "N"), "{a:?}");
}

#[test]
fn peers_compare_accounts_of_the_same_group_in_the_same_period() {
    let p = rule(
        r#"    side: in
    measure: "sum(amount_base)"
    window: 30d
    peer_by: bene_country
    threshold: "peer_z > 3 AND peers >= 5"
    explain: "{current} against a peer median of {peer_median} ({peers} peers)"
"#,
    );
    let mut rows = Vec::new();
    for (k, amount) in [1000.0, 1100.0, 900.0, 1050.0, 950.0, 10_000.0].iter().enumerate() {
        let mut t = credit_on(&format!("k{k}"), 3, *amount, &format!("P{k}"));
        t.bene_country = Some("KG".into());
        rows.push(t);
    }
    // Another group: not peers of the KG accounts.
    for k in 0..3 {
        let mut t = credit_on(&format!("u{k}"), 3, 50_000.0, &format!("U{k}"));
        t.bene_country = Some("UZ".into());
        rows.push(t);
    }
    let a = alerts(&p, &rows);
    assert_eq!(a.len(), 1, "{a:?}");
    assert_eq!(a[0].account, "P5");
    assert_eq!(a[0].measures["peers"], 6);
    assert_eq!(a[0].measures["peer_median"], 1025);
    // Four peers only: the group is too small.
    let small: Vec<Tx> = rows.into_iter().filter(|t| t.id != "k0" && t.id != "k1").collect();
    assert!(alerts(&p, &small).is_empty());
}

#[test]
fn pack_errors_name_the_field() {
    let e = try_pack(
        &one_rule(
            r#"  - id: BSL-T
    title: t
    kind: baseline
    severity: low
    measure: "amount_base"
    window: 30d
    history: 45d
    threshold: "ratoi > 3"
"#,
        ),
        &[HR],
    )
    .unwrap_err()
    .to_string();
    for want in [
        "does not aggregate",
        "must be a whole number of periods",
        "unknown name `ratoi`; did you mean `ratio`?",
    ] {
        assert!(e.contains(want), "missing {want:?} in:\n{e}");
    }
    let e = try_pack(
        &one_rule("  - id: BSL-T\n    title: t\n    kind: baseline\n    severity: low\n    measure: \"count(*)\"\n    window: 30d\n    threshold: \"n > 1\"\n"),
        &[HR],
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("give `history`"), "{e}");
    let with = |fields: &str| {
        try_pack(
            &one_rule(&format!(
                "  - id: BSL-T\n    title: t\n    kind: baseline\n    severity: low\n    measure: \"count(*)\"\n    window: 7d\n{fields}    threshold: \"n > 1\"\n"
            )),
            &[HR],
        )
        .unwrap_err()
        .to_string()
    };
    let e = with("    step: 2d\n    history: 28d\n");
    assert!(
        e.contains("rules[0].step") && e.contains("must divide `window` (7 days) into whole parts"),
        "{e}"
    );
    let e = with("    step: 14d\n    history: 28d\n");
    assert!(e.contains("rules[0].step"), "{e}");
    let e = with("    step: 1d\n    dormant_for: 90d\n");
    assert!(
        e.contains("rules[0].step") && e.contains("starts at the reactivation"),
        "{e}"
    );
}

#[derive(Debug, Clone)]
struct Row {
    acct: u8,
    day: i64,
    amount: u32,
}

/// The reference for history mode (window 20 days, 3 prior periods, 20 days of history
/// needed, fires when the period's sum is over twice the median of the prior ones):
/// periods aligned on the first day of the data, and with a step of `step` days, on each
/// later day a whole number of steps after it within the first window (a grid each); a
/// prior period before the account's first transaction is not counted; an empty one
/// counts as 0. Of an account's firing periods, the highest sum is kept (the first grid,
/// then the earliest, on a tie), then the next highest that overlaps none kept, and so on.
fn reference(rows: &[Row], step: i64) -> BTreeSet<(String, Vec<String>)> {
    let w = 20i64;
    let first = rows.iter().map(|r| r.day).min().unwrap_or(0);
    let mut out = BTreeSet::new();
    for acct in 0u8..3 {
        // (sum, grid, start day, transaction ids) of each firing period.
        let mut fired: Vec<(f64, i64, i64, Vec<String>)> = Vec::new();
        for grid in 0..w / step {
            for (current, start, ids) in fired_periods(rows, acct, first + grid * step) {
                fired.push((current, grid, start, ids));
            }
        }
        fired.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        let mut kept: Vec<i64> = Vec::new();
        for (_, _, start, ids) in fired {
            if kept.iter().all(|k| start + w <= *k || k + w <= start) {
                kept.push(start);
                out.insert((format!("A{acct}"), ids));
            }
        }
    }
    out
}

/// The periods of `acct` counted from `origin` (a day) that fire: (sum, start day, ids).
fn fired_periods(rows: &[Row], acct: u8, origin: i64) -> Vec<(f64, i64, Vec<String>)> {
    let w = 20i64;
    let mut out = Vec::new();
    let mine: Vec<(usize, &Row)> = rows.iter().enumerate().filter(|(_, r)| r.acct == acct).collect();
    let Some(seen) = mine.iter().map(|(_, r)| r.day).min() else {
        return out;
    };
    // Transactions are at 10:00, so "seen" is day + 10 h; in days: seen + 0.4.
    let seen_ms = seen * 24 + 10; // hours
    let mut periods: BTreeMap<i64, (f64, Vec<usize>)> = BTreeMap::new();
    for (i, r) in &mine {
        let p = (r.day - origin).div_euclid(w);
        let e = periods.entry(p).or_default();
        e.0 += r.amount as f64;
        e.1.push(*i);
    }
    for (&p, (current, ids)) in &periods {
        let start_h = (origin + p * w) * 24;
        if seen_ms > start_h - 20 * 24 {
            continue;
        }
        let mut hist = Vec::new();
        for k in 1..=3 {
            let s = start_h - k * w * 24;
            if s + w * 24 <= seen_ms {
                break;
            }
            hist.push(periods.get(&(p - k)).map(|x| x.0).unwrap_or(0.0));
        }
        if hist.is_empty() {
            continue;
        }
        hist.sort_by(f64::total_cmp);
        let n = hist.len();
        let median = if n % 2 == 1 {
            hist[n / 2]
        } else {
            (hist[n / 2 - 1] + hist[n / 2]) / 2.0
        };
        if *current > 2.0 * median {
            let mut ids = ids.clone();
            ids.sort_by_key(|i| (rows[*i].day, *i));
            out.push((
                *current,
                origin + p * w,
                ids.iter().map(|i| format!("t{i:03}")).collect(),
            ));
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    #[test]
    fn history_mode_matches_a_naive_reference(
        rows in prop::collection::vec(
            (0u8..3, 0i64..150, 1u32..500).prop_map(|(acct, day, amount)| Row { acct, day, amount }),
            1..50,
        ),
        step in prop::sample::select(vec![0i64, 20, 10, 5, 4]),
    ) {
        // Step 0: no `step` field, one grid, as a step of the whole window.
        let step_field = if step == 0 { String::new() } else { format!("    step: {step}d\n") };
        let p = rule(&format!(
            "    side: in\n    measure: \"sum(amount_base)\"\n    window: 20d\n{step_field}    history: 60d\n    min_history: 20d\n    threshold: \"current > 2 * median\"\n",
        ));
        let txs: Vec<Tx> = rows
            .iter()
            .enumerate()
            .map(|(i, r)| credit_on(&format!("t{i:03}"), r.day, r.amount as f64, &format!("A{}", r.acct)))
            .collect();
        let got: BTreeSet<(String, Vec<String>)> = alerts(&p, &txs)
            .into_iter()
            .map(|a| (a.account, a.txn_ids))
            .collect();
        prop_assert_eq!(got, reference(&rows, if step == 0 { 20 } else { step }));
    }
}
