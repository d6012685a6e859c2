//! Kind `network`: cycles at every allowed length, scatter-gather, gather-scatter, fans
//! through intermediaries and smurf consolidation; time order, tolerance and window near
//! misses; overlapping patterns that share accounts; a hub with 100k edges.

use crate::common::{alerts, dataset, one_rule, pack, try_pack, tx, Tx};

const HR: (&str, &str) = ("hr.txt", "KP\nIR\n");

fn rule(body: &str) -> redflag::Pack {
    pack(
        &one_rule(&format!(
            "  - id: NET-T\n    title: network test\n    kind: network\n    typologies: [money-laundering]\n    severity: high\n{body}"
        )),
        &[HR],
    )
}

fn cycle_rule() -> redflag::Pack {
    rule(
        r#"    pattern: cycle
    max_hops: 6
    within: 30d
    amount_tolerance: 0.1
    where: "channel = 'wire'"
    match: "share >= 0.8"
    explain: "{hops}-hop cycle {path} within {window}: {end_total} of {start_total} returned"
"#,
    )
}

fn wire(id: &str, day: u32, hour: u32, amount: f64, from: &str, to: &str) -> Tx {
    tx(
        id,
        &format!("2026-01-{day:02} {hour:02}:00:00"),
        amount,
        Some(from),
        Some(to),
        "wire",
    )
}

/// A cycle of `n` hops through accounts A, B1, …: one hop a day, 2% lost each hop.
fn cycle_of(n: usize, prefix: &str) -> Vec<Tx> {
    let mut names = vec![format!("{prefix}A")];
    names.extend((1..n).map(|k| format!("{prefix}B{k}")));
    let mut amount = 10_000.0;
    (0..n)
        .map(|k| {
            let t = wire(
                &format!("{prefix}t{k}"),
                1 + k as u32,
                10,
                amount,
                &names[k],
                &names[(k + 1) % n],
            );
            amount *= 0.98;
            t
        })
        .collect()
}

#[test]
fn cycles_fire_at_every_allowed_length_and_not_beyond() {
    let p = cycle_rule();
    for n in 2..=6 {
        let a = alerts(&p, &cycle_of(n, "x"));
        assert_eq!(a.len(), 1, "{n} hops: {a:?}");
        assert_eq!(a[0].account, "xA");
        assert_eq!(a[0].kind, "network");
        assert_eq!(a[0].txn_ids.len(), n);
        assert_eq!(a[0].linked_accounts.len(), n - 1);
        assert_eq!(a[0].measures["hops"], n as u64);
        assert_eq!(a[0].measures["pattern"], "cycle");
        let path = a[0].explanation.split(" within").next().unwrap().to_string();
        assert!(path.starts_with(&format!("{n}-hop cycle xA → ")), "{path}");
        assert!(path.ends_with("→ xA"), "{path}");
    }
    // Seven hops is past max_hops.
    assert!(alerts(&p, &cycle_of(7, "x")).is_empty());
    // So is a cycle of one hop: a transfer to oneself is no edge.
    assert!(alerts(&p, &[wire("s", 1, 10, 100.0, "A", "A")]).is_empty());
}

#[test]
fn cycle_out_of_time_order_does_not_fire() {
    let p = cycle_rule();
    // A→B on day 2, B→C on day 1, C→A on day 3: no hop order returns to its start.
    let a = alerts(
        &p,
        &[
            wire("t1", 2, 10, 10_000.0, "A", "B"),
            wire("t2", 1, 10, 10_000.0, "B", "C"),
            wire("t3", 3, 10, 10_000.0, "C", "A"),
        ],
    );
    assert!(a.is_empty(), "{a:?}");
    // The same hops in order fire.
    let a = alerts(
        &p,
        &[
            wire("t1", 1, 10, 10_000.0, "A", "B"),
            wire("t2", 2, 10, 10_000.0, "B", "C"),
            wire("t3", 3, 10, 10_000.0, "C", "A"),
        ],
    );
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].txn_ids, ["t1", "t2", "t3"]);
    assert_eq!(a[0].linked_accounts, ["B", "C"]);
}

#[test]
fn cycle_amounts_outside_the_tolerance_do_not_fire() {
    let p = cycle_rule();
    // 10% less on the second hop is the boundary: in.
    let hit = alerts(
        &p,
        &[
            wire("t1", 1, 10, 10_000.0, "A", "B"),
            wire("t2", 2, 10, 9_000.0, "B", "C"),
            wire("t3", 3, 10, 8_500.0, "C", "A"),
        ],
    );
    assert_eq!(hit.len(), 1, "{hit:?}");
    // 10.1% less: out.
    let miss = alerts(
        &p,
        &[
            wire("t1", 1, 10, 10_000.0, "A", "B"),
            wire("t2", 2, 10, 8_990.0, "B", "C"),
            wire("t3", 3, 10, 8_500.0, "C", "A"),
        ],
    );
    assert!(miss.is_empty(), "{miss:?}");
    // More back than out, past the tolerance: out too.
    let miss = alerts(
        &p,
        &[
            wire("t1", 1, 10, 10_000.0, "A", "B"),
            wire("t2", 2, 10, 11_500.0, "B", "A"),
        ],
    );
    assert!(miss.is_empty(), "{miss:?}");
    // Each hop within 10% but under 80% returned: `match` holds it back.
    let miss = alerts(
        &p,
        &[
            wire("t1", 1, 10, 10_000.0, "A", "B"),
            wire("t2", 2, 10, 9_000.0, "B", "C"),
            wire("t3", 3, 10, 8_100.0, "C", "D"),
            wire("t4", 4, 10, 7_290.0, "D", "A"),
        ],
    );
    assert!(miss.is_empty(), "{miss:?}");
}

#[test]
fn cycle_longer_than_within_does_not_fire() {
    let p = cycle_rule();
    let close = |day: u32, hour: u32| {
        vec![
            wire("t1", 1, 10, 10_000.0, "A", "B"),
            wire("t2", 10, 10, 10_000.0, "B", "C"),
            wire("t3", day, hour, 10_000.0, "C", "A"),
        ]
    };
    // Day 31 10:00 is exactly 30 days after the first hop: in.
    assert_eq!(alerts(&p, &close(31, 10)).len(), 1);
    assert!(alerts(&p, &close(31, 11)).is_empty());
}

#[test]
fn the_wrong_transactions_make_no_edges() {
    let p = cycle_rule();
    // Cash has no counterparty account; a card payment fails `where`.
    let mut rows = cycle_of(3, "x");
    rows[1].channel = "card".into();
    assert!(alerts(&p, &rows).is_empty());
}

#[test]
fn overlapping_cycles_share_accounts_and_join_one_case() {
    let p = cycle_rule();
    let rows = vec![
        // Two cycles from A that overlap in time: one alert on A.
        wire("a1", 1, 10, 5_000.0, "A", "B"),
        wire("a2", 2, 10, 5_000.0, "B", "A"),
        wire("a3", 1, 12, 7_000.0, "A", "C"),
        wire("a4", 3, 10, 7_000.0, "C", "A"),
        // A cycle from D through B, weeks later: its own alert, on D.
        wire("d1", 20, 10, 3_000.0, "D", "B"),
        wire("d2", 21, 10, 3_000.0, "B", "E"),
        wire("d3", 22, 10, 3_000.0, "E", "D"),
        // Unrelated cycle: its own case.
        wire("z1", 5, 10, 1_000.0, "Y", "Z"),
        wire("z2", 6, 10, 1_000.0, "Z", "Y"),
    ];
    let a = alerts(&p, &rows);
    assert_eq!(a.len(), 3, "{a:?}");
    assert_eq!(a[0].account, "A");
    assert_eq!(a[0].txn_ids, ["a1", "a3", "a2", "a4"]);
    assert_eq!(a[0].linked_accounts, ["B", "C"]);
    assert_eq!(a[0].measures["branches"], 2);
    assert_eq!(a[1].account, "D");
    assert_eq!(a[1].linked_accounts, ["B", "E"]);
    assert_eq!(a[2].account, "Y");
    let res = redflag::screen(&p, &dataset(&rows)).unwrap();
    assert_eq!(res.cases.len(), 2, "{:?}", res.cases);
    let big = res.cases.iter().find(|c| c.accounts.len() > 2).unwrap();
    assert_eq!(big.accounts, ["A", "B", "C", "D", "E"]);
    assert_eq!(big.alerts.len(), 2);
    assert_eq!(big.txn_count, 7);
    assert!(
        big.summary.starts_with("Accounts A, B, C, D, E: 2 alerts"),
        "{}",
        big.summary
    );
    // No transfer between two of the case's accounts is a counterparty.
    assert!(big.counterparties.is_empty(), "{:?}", big.counterparties);
    let small = res.cases.iter().find(|c| c.accounts.len() == 2).unwrap();
    assert_eq!(small.accounts, ["Y", "Z"]);
    // Case ids depend on the accounts only: the same with the rows in another order.
    let mut rev = rows.clone();
    rev.reverse();
    let res2 = redflag::screen(&p, &dataset(&rev)).unwrap();
    let ids = |r: &redflag::Screening| r.cases.iter().map(|c| c.case_id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&res), ids(&res2));
}

fn scatter_rule(extra: &str) -> redflag::Pack {
    rule(&format!(
        r#"    pattern: scatter_gather
    within: 10d
    amount_tolerance: 0.1
    min_branches: 3
    explain: "{{path}}: {{start_total}} out, {{end_total}} gathered"
{extra}"#
    ))
}

/// S pays `n` intermediaries, each pays T a day later (5% fee).
fn scatter(n: usize) -> Vec<Tx> {
    let mut rows = Vec::new();
    for k in 0..n {
        rows.push(wire(&format!("s{k}"), 1, 10 + k as u32, 3_000.0, "S", &format!("I{k}")));
        rows.push(wire(&format!("g{k}"), 2, 10 + k as u32, 2_850.0, &format!("I{k}"), "T"));
    }
    rows
}

#[test]
fn scatter_gather_needs_min_branches_in_order_and_in_tolerance() {
    let p = scatter_rule("");
    let a = alerts(&p, &scatter(3));
    assert_eq!(a.len(), 1, "{a:?}");
    assert_eq!(a[0].account, "S");
    assert_eq!(a[0].linked_accounts, ["I0", "I1", "I2", "T"]);
    assert_eq!(a[0].explanation, "S → 3 intermediaries → T: 9,000 out, 8,550 gathered");
    assert_eq!(a[0].measures["branches"], 3);
    // Two branches: no.
    assert!(alerts(&p, &scatter(2)).is_empty());
    // A branch whose payment on comes before the one in: it does not count.
    let mut rows = scatter(3);
    rows[5].ts = "2026-01-01 09:00:00".into();
    assert!(alerts(&p, &rows).is_empty());
    // A branch that passes on 20% less: outside the tolerance.
    let mut rows = scatter(3);
    rows[5].amount = 2_400.0;
    assert!(alerts(&p, &rows).is_empty());
    // A branch that arrives 11 days after the scatter began: outside `within`.
    let mut rows = scatter(3);
    rows[5].ts = "2026-01-12 10:00:00".into();
    assert!(alerts(&p, &rows).is_empty());
}

#[test]
fn scatter_gather_through_longer_branches() {
    let p = scatter_rule("    max_hops: 3\n");
    let mut rows = scatter(2);
    rows.push(wire("s9", 1, 20, 3_000.0, "S", "J1"));
    rows.push(wire("m9", 2, 20, 2_950.0, "J1", "J2"));
    rows.push(wire("g9", 3, 20, 2_900.0, "J2", "T"));
    let a = alerts(&p, &rows);
    assert_eq!(a.len(), 1, "{a:?}");
    assert_eq!(a[0].measures["hops"], 3);
    assert_eq!(a[0].txn_ids.len(), 7);
    // With two hops at most, that branch does not reach T.
    assert!(alerts(&scatter_rule(""), &rows).is_empty());
}

fn gather_rule() -> redflag::Pack {
    rule(
        r#"    pattern: gather_scatter
    within: 10d
    amount_tolerance: 0.1
    min_branches: 3
    explain: "{path}"
"#,
    )
}

/// `n` senders pay H on day 1, H pays `m` payees on day 3.
fn gather(n: usize, m: usize, out_day: u32) -> Vec<Tx> {
    let mut rows = Vec::new();
    let each_in = 9_000.0 / n as f64;
    let each_out = 8_800.0 / m as f64;
    for k in 0..n {
        rows.push(wire(&format!("i{k}"), 1, 10 + k as u32, each_in, &format!("F{k}"), "H"));
    }
    for k in 0..m {
        rows.push(wire(
            &format!("o{k}"),
            out_day,
            10 + k as u32,
            each_out,
            "H",
            &format!("P{k}"),
        ));
    }
    rows
}

#[test]
fn gather_scatter_fires_and_its_near_misses_do_not() {
    let p = gather_rule();
    let a = alerts(&p, &gather(3, 4, 3));
    assert_eq!(a.len(), 1, "{a:?}");
    assert_eq!(a[0].account, "H");
    assert_eq!(a[0].explanation, "3 senders → H → 4 payees");
    assert_eq!(a[0].txn_ids.len(), 7);
    assert_eq!(a[0].linked_accounts.len(), 7);
    // Too few senders, too few payees.
    assert!(alerts(&p, &gather(2, 4, 3)).is_empty());
    assert!(alerts(&p, &gather(3, 2, 3)).is_empty());
    // The payments out before the payments in: not a gather-scatter.
    let mut rows = gather(3, 4, 3);
    for r in rows.iter_mut().filter(|r| r.id.starts_with('o')) {
        r.ts = r.ts.replace("2026-01-03", "2025-12-31");
    }
    assert!(alerts(&p, &rows).is_empty());
    // Out more than 10% under what came in (7,000 of 9,000), whatever payments count.
    let mut rows = gather(3, 4, 3);
    for r in rows.iter_mut().filter(|r| r.id.starts_with('o')) {
        r.amount = 1_750.0;
    }
    assert!(alerts(&p, &rows).is_empty());
    // At 8,100 out, just 10% under: in.
    for r in rows.iter_mut().filter(|r| r.id.starts_with('o')) {
        r.amount = 2_025.0;
    }
    assert_eq!(alerts(&p, &rows).len(), 1);
    // Out after `within`.
    assert!(alerts(&p, &gather(3, 4, 12)).is_empty());
}

#[test]
fn fan_in_and_fan_out_through_intermediaries() {
    let fan_in = rule(
        r#"    pattern: fan_in
    min_hops: 2
    max_hops: 2
    within: 7d
    amount_tolerance: 0.1
    min_branches: 3
    explain: "{path}"
"#,
    );
    let mut rows = Vec::new();
    for k in 0..3 {
        rows.push(wire(
            &format!("a{k}"),
            1,
            10,
            1_000.0,
            &format!("O{k}"),
            &format!("M{k}"),
        ));
        rows.push(wire(&format!("b{k}"), 2, 10, 990.0, &format!("M{k}"), "T"));
    }
    let a = alerts(&fan_in, &rows);
    assert_eq!(a.len(), 1, "{a:?}");
    assert_eq!(a[0].account, "T");
    assert_eq!(a[0].explanation, "3 accounts → T");
    assert_eq!(a[0].linked_accounts, ["M0", "M1", "M2", "O0", "O1", "O2"]);
    // Direct payments do not count when min_hops is 2.
    let direct: Vec<Tx> = (0..3)
        .map(|k| wire(&format!("d{k}"), 2, 10, 990.0, &format!("O{k}"), "T"))
        .collect();
    assert!(alerts(&fan_in, &direct).is_empty());
    let fan_out = rule(
        r#"    pattern: fan_out
    min_hops: 2
    max_hops: 2
    within: 7d
    amount_tolerance: 0.1
    min_branches: 3
    explain: "{path}"
"#,
    );
    let rows: Vec<Tx> = (0..3)
        .flat_map(|k| {
            [
                wire(&format!("a{k}"), 1, 10, 1_000.0, "S", &format!("M{k}")),
                wire(&format!("b{k}"), 2, 10, 990.0, &format!("M{k}"), &format!("E{k}")),
            ]
        })
        .collect();
    let a = alerts(&fan_out, &rows);
    assert_eq!(a.len(), 1, "{a:?}");
    assert_eq!(a[0].account, "S");
    assert_eq!(a[0].explanation, "S → 3 accounts");
}

fn smurf_rule() -> redflag::Pack {
    rule(
        r#"    pattern: fan_in
    max_hops: 1
    min_branches: 4
    within: 7d
    where: "amount_base < 3000"
    then:
      where: "coalesce(bene_country, 'US') <> 'US'"
      window: 14d
    match: "then_share >= 0.8"
    explain: "{branches} feeders paid {end_total} into {account}; {then_total} ({then_share}) sent abroad"
"#,
    )
}

fn smurfs(abroad: f64) -> Vec<Tx> {
    let mut rows: Vec<Tx> = (0..4)
        .map(|k| wire(&format!("f{k}"), 1 + k, 10, 2_500.0, &format!("F{k}"), "H"))
        .collect();
    let mut out = wire("x1", 10, 10, abroad, "H", "FOREIGN");
    out.bene_country = Some("AE".into());
    rows.push(out);
    rows
}

#[test]
fn smurf_consolidation_then_abroad() {
    let p = smurf_rule();
    let a = alerts(&p, &smurfs(8_000.0));
    assert_eq!(a.len(), 1, "{a:?}");
    assert_eq!(a[0].account, "H");
    assert_eq!(a[0].txn_ids, ["f0", "f1", "f2", "f3", "x1"]);
    assert_eq!(a[0].linked_accounts, ["F0", "F1", "F2", "F3"]);
    assert_eq!(
        a[0].explanation,
        "4 feeders paid 10,000 into H; 8,000 (0.80) sent abroad"
    );
    // 79% abroad: no.
    assert!(alerts(&p, &smurfs(7_900.0)).is_empty());
    // Three feeders: no.
    let mut rows = smurfs(8_000.0);
    rows.remove(0);
    assert!(alerts(&p, &rows).is_empty());
    // A feeder of 3,000 or more is no smurf.
    let mut rows = smurfs(8_000.0);
    rows[0].amount = 3_000.0;
    assert!(alerts(&p, &rows).is_empty());
    // Sent abroad more than 14 days after the last feeder: no.
    let mut rows = smurfs(8_000.0);
    rows[4].ts = "2026-01-19 10:00:01".into();
    assert!(alerts(&p, &rows).is_empty());
}

#[test]
fn a_bad_network_rule_is_a_clear_error() {
    let bad = |body: &str| {
        try_pack(
            &one_rule(&format!(
                "  - id: NET-B\n    title: bad\n    kind: network\n    severity: low\n    within: 7d\n{body}"
            )),
            &[HR],
        )
        .unwrap_err()
        .to_string()
    };
    let e = bad("    pattern: cycel\n");
    assert!(
        e.contains("rules[0].pattern") && e.contains("did you mean `cycle`?"),
        "{e}"
    );
    let e = bad("    pattern: cycle\n    max_hops: 13\n");
    assert!(e.contains("rules[0].max_hops") && e.contains("limit of 12"), "{e}");
    let e = bad("    pattern: cycle\n    min_branches: 3\n");
    assert!(e.contains("rules[0].min_branches"), "{e}");
    let e = bad("    pattern: fan_out\n    then: { where: \"amount > 1\", window: 7d }\n");
    assert!(
        e.contains("rules[0].then") && e.contains("ends on many accounts"),
        "{e}"
    );
    let e = bad("    pattern: cycle\n    amount_tolerance: 1.5\n");
    assert!(e.contains("rules[0].amount_tolerance"), "{e}");
    let e = bad("    pattern: cycle\n    match: \"shares > 1\"\n");
    assert!(e.contains("rules[0].match") && e.contains("`shares`"), "{e}");
    let e = bad("    pattern: cycle\n    window: 7d\n");
    assert!(e.contains("not used by kind `network`"), "{e}");
}

/// A hub with 50,000 payments in from distinct accounts and 50,000 out to distinct
/// accounts over 30 days, amounts spread from 10 to 100,000, and one cycle through it.
#[test]
fn a_hub_with_100k_edges_finds_the_cycle_through_it() {
    let p = cycle_rule();
    let mut rows = Vec::with_capacity(100_003);
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let ts = |sec: u64| {
        let day = 1 + sec / 86_400;
        let rem = sec % 86_400;
        format!(
            "2026-01-{day:02} {:02}:{:02}:{:02}",
            rem / 3600,
            (rem % 3600) / 60,
            rem % 60
        )
    };
    for k in 0..50_000u64 {
        let amount = (10f64 * 10f64.powf((next() % 10_000) as f64 / 2_500.0)).round();
        rows.push(tx(
            &format!("i{k}"),
            &ts(next() % (30 * 86_400)),
            amount,
            Some(&format!("X{k}")),
            Some("HUB"),
            "wire",
        ));
        let amount = (10f64 * 10f64.powf((next() % 10_000) as f64 / 2_500.0)).round();
        rows.push(tx(
            &format!("o{k}"),
            &ts(next() % (30 * 86_400)),
            amount,
            Some("HUB"),
            Some(&format!("Y{k}")),
            "wire",
        ));
    }
    rows.push(wire("c1", 10, 10, 4_321.0, "A", "HUB"));
    rows.push(wire("c2", 11, 10, 4_300.0, "HUB", "B"));
    rows.push(wire("c3", 12, 10, 4_250.0, "B", "A"));
    let a = alerts(&p, &rows);
    assert_eq!(a.len(), 1, "{:?}", a.iter().map(|x| &x.explanation).collect::<Vec<_>>());
    assert_eq!(a[0].account, "A");
    assert_eq!(a[0].txn_ids, ["c1", "c2", "c3"]);
    assert_eq!(a[0].linked_accounts, ["B", "HUB"]);
}

/// The AMLworld layout (its published sample, with a cycle and a scatter-gather added in
/// that layout) loads with the preset and screens with the default pack's network rules.
#[test]
fn amlworld_data_screens_with_the_network_rules() {
    let head = std::fs::read_to_string(format!(
        "{}/../../tests/data/amlworld-head.csv",
        std::env::var("CARGO_MANIFEST_DIR").unwrap()
    ))
    .unwrap();
    let mut text = head.trim_end().to_string();
    let mut add = |ts: &str, from: &str, to: &str, amount: f64| {
        text.push_str(&format!(
            "\n{ts},0011,{from},0022,{to},{amount:.2},US Dollar,{amount:.2},US Dollar,Wire,1"
        ));
    };
    add("2022/09/01 10:00", "CYC-A", "CYC-B", 25_000.0);
    add("2022/09/02 10:00", "CYC-B", "CYC-C", 24_500.0);
    add("2022/09/03 10:00", "CYC-C", "CYC-A", 24_000.0);
    for k in 0..3 {
        add("2022/09/01 12:00", "SG-S", &format!("SG-I{k}"), 4_000.0);
        add("2022/09/02 12:00", &format!("SG-I{k}"), "SG-T", 3_900.0);
    }
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("aml.csv");
    std::fs::write(&p, text + "\n").unwrap();
    let opts = redflag::IngestOptions {
        mapping: Some(redflag::Mapping::preset("amlworld").unwrap()),
        fx: None,
        base_currency: "USD".into(),
        threads: None,
        columns: None,
    };
    let ds = redflag::ingest(&[p], &opts).unwrap();
    assert_eq!(ds.rows_screened() + ds.rows_quarantined(), 509);
    let pack = redflag::Pack::builtin()
        .unwrap()
        .only(&["FLW-04".into(), "FLW-06".into(), "STR-05".into()])
        .unwrap();
    let res = redflag::screen(&pack, &ds).unwrap();
    let mut a: Vec<&redflag::Alert> = res.alerts().collect();
    a.sort_by(|x, y| x.rule_id.cmp(&y.rule_id));
    assert_eq!(a.len(), 2, "{a:?}");
    assert_eq!((a[0].rule_id.as_str(), a[0].account.as_str()), ("FLW-04", "CYC-A"));
    assert_eq!(a[0].linked_accounts, ["CYC-B", "CYC-C"]);
    assert_eq!((a[1].rule_id.as_str(), a[1].account.as_str()), ("FLW-06", "SG-S"));
    assert_eq!(a[1].measures["pattern"], "scatter_gather");
    // STR-05 needs countries, which AMLworld files do not have.
    assert_eq!(res.run.not_applicable.len(), 1);
    assert_eq!(res.run.not_applicable[0].rule_id, "STR-05");
}

/// Every time-respecting cycle, by brute force, merged per first account as the kind
/// merges them: (account, sorted transaction ids) of each episode.
fn naive_cycles(rows: &[Tx], max_hops: usize, within_ms: i64, tol: f64) -> Vec<(String, Vec<String>)> {
    let key = |i: usize| {
        let t = chrono::NaiveDateTime::parse_from_str(&rows[i].ts, "%Y-%m-%d %H:%M:%S").unwrap();
        (t.and_utc().timestamp_millis(), i)
    };
    let n = rows.len();
    let mut found: Vec<(String, i64, i64, Vec<usize>)> = Vec::new();
    fn go(
        rows: &[Tx],
        key: &dyn Fn(usize) -> (i64, usize),
        path: &mut Vec<usize>,
        found: &mut Vec<(String, i64, i64, Vec<usize>)>,
        max_hops: usize,
        within_ms: i64,
        tol: f64,
    ) {
        let first = path[0];
        let last = *path.last().unwrap();
        let origin = rows[first].orig.clone().unwrap();
        for e in 0..rows.len() {
            let r = &rows[e];
            if r.orig != rows[last].bene || key(e) <= key(last) || key(e).0 > key(first).0 + within_ms {
                continue;
            }
            let prev = rows[last].amount;
            if (r.amount - prev).abs() > tol * prev + 1e-9 {
                continue;
            }
            let to = r.bene.clone().unwrap();
            path.push(e);
            if to == origin {
                found.push((origin.clone(), key(first).0, key(e).0, path.clone()));
            } else if path.len() < max_hops && !path.iter().any(|p| rows[*p].orig.as_deref() == Some(to.as_str())) {
                go(rows, key, path, found, max_hops, within_ms, tol);
            }
            path.pop();
        }
    }
    for e in 0..n {
        if rows[e].orig != rows[e].bene {
            go(rows, &key, &mut vec![e], &mut found, max_hops, within_ms, tol);
        }
    }
    found.sort_by(|a, b| (&a.0, a.1, a.2, &a.3).cmp(&(&b.0, b.1, b.2, &b.3)));
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    let mut i = 0;
    while i < found.len() {
        let mut end = found[i].2;
        let mut ids: std::collections::BTreeSet<String> = found[i].3.iter().map(|e| rows[*e].id.clone()).collect();
        let mut j = i + 1;
        while j < found.len() && found[j].0 == found[i].0 && found[j].1 <= end {
            end = end.max(found[j].2);
            ids.extend(found[j].3.iter().map(|e| rows[*e].id.clone()));
            j += 1;
        }
        out.push((found[i].0.clone(), ids.into_iter().collect()));
        i = j;
    }
    out.sort();
    out
}

#[test]
fn cycles_match_a_brute_force_search_on_random_graphs() {
    let p = rule(
        r#"    pattern: cycle
    max_hops: 4
    within: 3d
    amount_tolerance: 0.2
    explain: "{path}"
"#,
    );
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut total = 0;
    for case in 0..60 {
        let accounts = 3 + (next() % 5) as usize;
        let n = 10 + (next() % 30) as usize;
        let rows: Vec<Tx> = (0..n)
            .map(|k| {
                let a = next() % accounts as u64;
                let b = next() % accounts as u64;
                let amount = [100.0, 110.0, 125.0, 90.0, 300.0][(next() % 5) as usize];
                // Hours over six days; some at the same time.
                let h = next() % 144;
                tx(
                    &format!("c{case}t{k}"),
                    &format!("2026-01-{:02} {:02}:00:00", 1 + h / 24, h % 24),
                    amount,
                    Some(&format!("N{a}")),
                    Some(&format!("N{b}")),
                    "wire",
                )
            })
            .collect();
        let want = naive_cycles(&rows, 4, 3 * 86_400_000, 0.2);
        let mut got: Vec<(String, Vec<String>)> = alerts(&p, &rows)
            .into_iter()
            .map(|a| {
                let mut ids = a.txn_ids.clone();
                ids.sort();
                (a.account, ids)
            })
            .collect();
        got.sort();
        assert_eq!(got, want, "case {case}");
        total += want.len();
    }
    // The cases are not empty ones.
    assert!(total > 50, "{total}");
}

/// The default pack's smurf rules: STR-05 for any country abroad, STR-05H as well when it
/// is a conflict zone or on a FATF list.
#[test]
fn default_pack_smurf_rules_by_destination() {
    use polars::prelude::*;
    let pack = redflag::Pack::builtin()
        .unwrap()
        .only(&["STR-05".into(), "STR-05H".into()])
        .unwrap();
    let screen = |dest: &str, channel: &str| {
        let mut ids = vec![];
        let mut ts = vec![];
        let mut amount = vec![];
        let mut orig = vec![];
        let mut bene = vec![];
        let mut chan = vec![];
        let mut oc = vec![];
        let mut bc = vec![];
        for k in 0..4 {
            ids.push(format!("f{k}"));
            ts.push(format!("2026-03-0{} 10:00:00", 1 + k));
            amount.push(2_400.0);
            orig.push(format!("F{k}"));
            bene.push("H".to_string());
            chan.push(channel.to_string());
            oc.push("KG".to_string());
            bc.push("KG".to_string());
        }
        ids.push("x".into());
        ts.push("2026-03-10 10:00:00".into());
        amount.push(8_500.0);
        orig.push("H".into());
        bene.push("ABROAD".into());
        chan.push("wire".into());
        oc.push("KG".into());
        bc.push(dest.to_string());
        let df = DataFrame::new_infer_height(vec![
            Column::new("txn_id".into(), ids),
            Column::new("ts".into(), ts),
            Column::new("amount".into(), amount),
            Column::new("orig_account".into(), orig),
            Column::new("bene_account".into(), bene),
            Column::new("channel".into(), chan),
            Column::new("orig_country".into(), oc),
            Column::new("bene_country".into(), bc),
        ])
        .unwrap();
        let ds = redflag::Dataset::from_frame(df, "t", &redflag::IngestOptions::default()).unwrap();
        let res = redflag::screen(&pack, &ds).unwrap();
        let mut fired: Vec<String> = res.alerts().map(|a| a.rule_id.clone()).collect();
        fired.sort();
        fired
    };
    assert_eq!(screen("AF", "p2p"), ["STR-05", "STR-05H"]);
    assert_eq!(screen("KZ", "p2p"), ["STR-05"]);
    assert!(screen("KG", "p2p").is_empty());
    // Card payments are customers paying a merchant, not smurfs.
    assert!(screen("AF", "card").is_empty());
}

#[test]
fn hop_limits_and_tolerances_may_be_parameters() {
    let p = pack(
        &one_rule(
            r#"  - id: NET-T
    title: network test
    kind: network
    severity: high
    params: {hops: 3, tol: 0.1}
    pattern: cycle
    max_hops: $hops
    within: 30d
    amount_tolerance: $tol
    where: "channel = 'wire'"
    match: "share >= 0.8"
"#,
        ),
        &[HR],
    );
    let four = cycle_of(4, "P");
    assert!(alerts(&p, &four).is_empty(), "4 hops over a limit of 3");
    let wider = p.with_overrides(&["NET-T.hops=4".parse().unwrap()], &[]).unwrap();
    assert_eq!(alerts(&wider, &four).len(), 1);
    let e = try_pack(
        &one_rule(
            "  - id: NET-T\n    title: t\n    kind: network\n    severity: low\n    pattern: cycle\n    max_hops: $hop\n    within: 30d\n    params: {hops: 3}\n",
        ),
        &[HR],
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("unknown parameter `$hop`; did you mean `hops`?"), "{e}");
}

/// A cycle rule whose span is a parameter and whose `match` asks for transfers between
/// accounts that deal with each other nowhere else.
fn lone_cycle_rule(days: &str) -> redflag::Pack {
    rule(&format!(
        r#"    params:
      days: {days}
      min_lone: 0.5
    pattern: cycle
    max_hops: 6
    within: $days
    amount_tolerance: 0.5
    where: "channel = 'wire' AND amount_base >= 1000"
    match: "lone_pairs >= $min_lone"
    explain: "{{path}}: new {{new_pairs}}, lone {{lone_pairs}}"
"#
    ))
}

#[test]
fn within_from_a_parameter_is_a_number_of_days() {
    let p = lone_cycle_rule("21");
    let close = |day: u32, hour: u32| {
        vec![
            wire("t1", 1, 10, 10_000.0, "A", "B"),
            wire("t2", 10, 10, 6_000.0, "B", "C"),
            wire("t3", day, hour, 8_000.0, "C", "A"),
        ]
    };
    // Day 22 10:00 is exactly 21 days after the first hop: in; an hour later, out.
    assert_eq!(alerts(&p, &close(22, 10)).len(), 1);
    assert!(alerts(&p, &close(22, 11)).is_empty());
    // A longer span, set through the parameter, takes the late cycle in.
    assert_eq!(alerts(&lone_cycle_rule("28"), &close(22, 11)).len(), 1);
    // A parameter that is no whole number of days, or none at all, is refused by name.
    for (days, says) in [("1.5", "whole number of days"), ("0", "whole number of days")] {
        let e = try_pack(
            &one_rule(&format!(
                "  - id: NET-T\n    title: t\n    kind: network\n    typologies: [money-laundering]\n    severity: high\n    params:\n      days: {days}\n    pattern: cycle\n    within: $days\n    explain: x\n"
            )),
            &[HR],
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("within") && e.contains(says), "{e}");
    }
    let e = try_pack(
        &one_rule("  - id: NET-T\n    title: t\n    kind: network\n    typologies: [money-laundering]\n    severity: high\n    pattern: cycle\n    within: $dayz\n    explain: x\n"),
        &[HR],
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("NET-T") && e.contains("$dayz"), "{e}");
}

#[test]
fn lone_and_new_pairs_measure_the_relations_outside_the_pattern() {
    let p = lone_cycle_rule("21");
    let cycle = || {
        vec![
            wire("c1", 10, 10, 10_000.0, "A", "B"),
            wire("c2", 12, 10, 7_000.0, "B", "C"),
            wire("c3", 14, 10, 9_000.0, "C", "A"),
        ]
    };
    // Strangers: every transfer is between accounts that meet only in the cycle.
    let a = alerts(&p, &cycle());
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].measures["lone_pairs"], serde_json::json!(1));
    assert_eq!(a[0].measures["new_pairs"], serde_json::json!(1));
    assert!(a[0].explanation.ends_with("new 1, lone 1"), "{}", a[0].explanation);
    // B paid A a small sum before (any transfer counts, whatever `where`): one pair of
    // three is known, so new and lone are both 2/3.
    let mut rows = cycle();
    rows.push(tx("k1", "2026-01-02 10:00:00", 50.0, Some("B"), Some("A"), "p2p"));
    let a = alerts(&p, &rows);
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].measures["new_pairs"], serde_json::json!(0.666667));
    assert_eq!(a[0].measures["lone_pairs"], serde_json::json!(0.666667));
    // C paid B after the cycle too: the pair is not new before it, but it is not lone;
    // two of three known leaves lone at 1/3, under the rule's 0.5.
    rows.push(tx("k2", "2026-01-25 10:00:00", 80.0, Some("C"), Some("B"), "p2p"));
    assert!(alerts(&p, &rows).is_empty());
    let free = rule(
        "    pattern: cycle\n    within: 21d\n    amount_tolerance: 0.5\n    where: \"channel = 'wire'\"\n    match: \"new_pairs > 0.5\"\n    explain: \"{path}\"\n",
    );
    let a = alerts(&free, &rows);
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].measures["new_pairs"], serde_json::json!(0.666667));
    assert_eq!(a[0].measures["lone_pairs"], serde_json::json!(0.333333));
}

#[test]
fn relation_measures_only_for_rules_that_name_them() {
    let plain = cycle_rule();
    let a = alerts(&plain, &cycle_of(3, "x"));
    assert_eq!(a.len(), 1);
    assert!(!a[0].measures.contains_key("lone_pairs") && !a[0].measures.contains_key("new_pairs"));
    // A name that only contains a relation measure's name does not count.
    let e = try_pack(
        &one_rule("  - id: NET-T\n    title: t\n    kind: network\n    typologies: [money-laundering]\n    severity: high\n    pattern: cycle\n    within: 30d\n    match: \"xlone_pairs > 0\"\n    explain: x\n"),
        &[HR],
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("xlone_pairs"), "{e}");
}
