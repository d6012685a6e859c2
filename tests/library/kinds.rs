//! The rule kinds: a hit, a near miss just past each threshold, a boundary value.

use crate::common::{alerts, one_rule, pack, tx, Tx};

const HR: (&str, &str) = ("hr.txt", "# test list\nKP\nIR\n");

fn near_threshold_rule() -> redflag::Pack {
    pack(
        &one_rule(
            r#"  - id: STR-T
    title: near-threshold cash
    kind: aggregate
    typologies: [money-laundering]
    severity: high
    side: in
    where: "channel = 'cash_in' AND amount_base >= 0.9 * $reporting_threshold AND amount_base < $reporting_threshold"
    window: 7d
    measures:
      n: "count(*)"
      total: "sum(amount_base)"
    having: "n >= 2"
    explain: "{n} deposits of {min_amount}-{max_amount} within {window}, total {total}"
"#,
        ),
        &[HR],
    )
}

fn cash(id: &str, ts: &str, amount: f64, acct: &str) -> Tx {
    tx(id, ts, amount, None, Some(acct), "cash_in")
}

#[test]
fn aggregate_fires_on_two_deposits_within_the_window() {
    let p = near_threshold_rule();
    let a = alerts(
        &p,
        &[
            cash("t1", "2026-01-01 10:00:00", 9500.0, "A"),
            cash("t2", "2026-01-03 10:00:00", 9800.0, "A"),
            cash("t3", "2026-01-03 11:00:00", 9800.0, "B"),
        ],
    );
    assert_eq!(a.len(), 1, "{a:?}");
    assert_eq!(a[0].account, "A");
    assert_eq!(a[0].txn_ids, ["t1", "t2"]);
    assert_eq!(a[0].side.as_str(), "in");
    assert_eq!(a[0].measures["n"], 2);
    assert_eq!(a[0].measures["total"], 19300);
    assert_eq!(
        a[0].explanation,
        "2 deposits of 9,500-9,800 within 7 days, total 19,300"
    );
    assert_eq!(a[0].window_start, "2026-01-01T10:00:00");
    assert_eq!(a[0].window_end, "2026-01-03T10:00:00");
}

#[test]
fn aggregate_window_boundary_is_inclusive_and_one_second_past_is_not() {
    let p = near_threshold_rule();
    // Exactly 7 days apart: inside the closed window.
    let hit = alerts(
        &p,
        &[
            cash("t1", "2026-01-01 10:00:00", 9500.0, "A"),
            cash("t2", "2026-01-08 10:00:00", 9500.0, "A"),
        ],
    );
    assert_eq!(hit.len(), 1);
    // One second more: outside.
    let miss = alerts(
        &p,
        &[
            cash("t1", "2026-01-01 10:00:00", 9500.0, "A"),
            cash("t2", "2026-01-08 10:00:01", 9500.0, "A"),
        ],
    );
    assert!(miss.is_empty(), "{miss:?}");
}

#[test]
fn aggregate_amount_boundaries() {
    let p = near_threshold_rule();
    // 9,000 is 0.9 T: in. 9,999.99 is under T: in.
    let hit = alerts(
        &p,
        &[
            cash("t1", "2026-01-01 10:00:00", 9000.0, "A"),
            cash("t2", "2026-01-02 10:00:00", 9999.99, "A"),
        ],
    );
    assert_eq!(hit.len(), 1);
    // 8,999.99 is under 0.9 T and 10,000 is not under T: neither counts.
    let miss = alerts(
        &p,
        &[
            cash("t1", "2026-01-01 10:00:00", 8999.99, "A"),
            cash("t2", "2026-01-02 10:00:00", 10000.0, "A"),
            cash("t3", "2026-01-03 10:00:00", 9500.0, "A"),
        ],
    );
    assert!(miss.is_empty(), "{miss:?}");
}

#[test]
fn aggregate_rule_reads_its_side_only() {
    let p = near_threshold_rule();
    // The same deposits paid *out* of A (A is orig) are not cash into A.
    let a = alerts(
        &p,
        &[
            tx("t1", "2026-01-01 10:00:00", 9500.0, Some("A"), Some("X"), "cash_in"),
            tx("t2", "2026-01-02 10:00:00", 9500.0, Some("A"), Some("Y"), "cash_in"),
        ],
    );
    assert!(a.iter().all(|x| x.account != "A"), "{a:?}");
}

#[test]
fn overlapping_windows_merge_into_one_episode() {
    let p = near_threshold_rule();
    // Day 0, 5 and 10: windows [0,5] and [5,10] overlap: one alert with three deposits.
    // Day 30 and 31: a second episode.
    let a = alerts(
        &p,
        &[
            cash("t1", "2026-01-01 10:00:00", 9500.0, "A"),
            cash("t2", "2026-01-06 10:00:00", 9500.0, "A"),
            cash("t3", "2026-01-11 10:00:00", 9500.0, "A"),
            cash("t4", "2026-01-31 10:00:00", 9500.0, "A"),
            cash("t5", "2026-02-01 10:00:00", 9500.0, "A"),
        ],
    );
    assert_eq!(a.len(), 2, "{a:?}");
    assert_eq!(a[0].txn_ids, ["t1", "t2", "t3"]);
    assert_eq!(a[0].measures["n"], 3);
    assert_eq!(a[1].txn_ids, ["t4", "t5"]);
    assert_ne!(a[0].alert_id, a[1].alert_id);
}

#[test]
fn any_of_alternatives_fire_on_either_window() {
    let p = pack(
        &one_rule(
            r#"  - id: ANY-T
    title: two in a week or three in a month
    kind: aggregate
    severity: medium
    side: in
    where: "channel = 'cash_in'"
    measures:
      n: "count(*)"
    any_of:
      - { window: 7d, having: "n >= 2" }
      - { window: 30d, having: "n >= 3" }
    explain: "{n} within {window}"
"#,
        ),
        &[HR],
    );
    // Three deposits 10 days apart: not two in a week, but three in 30 days (20 days span).
    let a = alerts(
        &p,
        &[
            cash("t1", "2026-01-01 00:00:00", 100.0, "A"),
            cash("t2", "2026-01-11 00:00:00", 100.0, "A"),
            cash("t3", "2026-01-21 00:00:00", 100.0, "A"),
        ],
    );
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].explanation, "3 within 30 days");
    // Two 10 days apart: neither.
    let none = alerts(
        &p,
        &[
            cash("t1", "2026-01-01 00:00:00", 100.0, "A"),
            cash("t2", "2026-01-11 00:00:00", 100.0, "A"),
        ],
    );
    assert!(none.is_empty());
}

#[test]
fn distinct_counterparties_median_and_share_measures() {
    let p = pack(
        &one_rule(
            r#"  - id: FAN-T
    title: fan-in
    kind: aggregate
    severity: medium
    side: in
    where: "counterparty IS NOT NULL"
    window: 7d
    measures:
      senders: "count(DISTINCT counterparty)"
      med: "median(amount_base)"
      round_share: "avg(CASE WHEN amount % 100 = 0 THEN 1.0 ELSE 0.0 END)"
    having: "senders >= 3 AND med < 500 AND round_share >= 0.5"
    explain: "{senders} senders, median {med}, {round_share} round"
"#,
        ),
        &[HR],
    );
    let mk = |i: usize, from: &str, amt: f64| {
        tx(
            &format!("t{i}"),
            &format!("2026-01-0{i} 09:00:00"),
            amt,
            Some(from),
            Some("Z"),
            "p2p",
        )
    };
    // Three senders, median 300, two of three round: fires.
    let a = alerts(&p, &[mk(1, "S1", 100.0), mk(2, "S2", 300.0), mk(3, "S3", 455.5)]);
    assert_eq!(a.len(), 1, "{a:?}");
    assert_eq!(a[0].measures["senders"], 3);
    assert_eq!(a[0].measures["med"], 300);
    // Same sender twice: only two distinct senders: near miss.
    let b = alerts(&p, &[mk(1, "S1", 100.0), mk(2, "S1", 300.0), mk(3, "S3", 400.0)]);
    assert!(b.is_empty(), "{b:?}");
    // Median at 500 exactly: not under 500.
    let c = alerts(&p, &[mk(1, "S1", 100.0), mk(2, "S2", 500.0), mk(3, "S3", 600.0)]);
    assert!(c.is_empty(), "{c:?}");
}

#[test]
fn side_both_screens_an_accounts_two_sides_together() {
    let p = busy_wires(3);
    // A receives two and sends one within a day: 3 on A; B and C and D have one each.
    let a = alerts(
        &p,
        &[
            tx("t1", "2026-01-01 09:00:00", 10.0, Some("B"), Some("A"), "wire"),
            tx("t2", "2026-01-01 10:00:00", 10.0, Some("C"), Some("A"), "wire"),
            tx("t3", "2026-01-01 11:00:00", 10.0, Some("A"), Some("D"), "wire"),
        ],
    );
    assert_eq!(a.len(), 1, "{a:?}");
    assert_eq!(a[0].account, "A");
    assert_eq!(a[0].side.as_str(), "both");
    assert_eq!(a[0].txn_ids, ["t1", "t2", "t3"]);
}

fn country_rule() -> redflag::Pack {
    pack(
        &one_rule(
            r#"  - id: GEO-T
    title: high-risk country
    kind: filter
    typologies: [money-laundering]
    severity: critical
    side: out
    where: "counterparty_country IN @hr AND amount_base >= 1000"
    explain: "{amount_base} to {counterparty_country}"
"#,
        ),
        &[HR],
    )
}

#[test]
fn filter_hit_near_miss_and_boundary() {
    let p = country_rule();
    let mut t1 = tx("t1", "2026-01-01 10:00:00", 1000.0, Some("A"), Some("X"), "wire");
    t1.bene_country = Some("IR".into());
    let mut t2 = tx("t2", "2026-01-01 11:00:00", 999.99, Some("A"), Some("X"), "wire");
    t2.bene_country = Some("IR".into());
    let mut t3 = tx("t3", "2026-01-01 12:00:00", 5000.0, Some("A"), Some("X"), "wire");
    t3.bene_country = Some("IQ".into());
    let a = alerts(&p, &[t1, t2, t3]);
    assert_eq!(a.len(), 1, "{a:?}");
    assert_eq!(a[0].txn_ids, ["t1"]);
    assert_eq!(a[0].account, "A");
    assert_eq!(a[0].explanation, "1,000 to IR");
    assert_eq!(a[0].kind, "filter");
}

#[test]
fn alert_ids_are_stable_and_depend_on_the_transactions() {
    let p = country_rule();
    let mut t1 = tx("t1", "2026-01-01 10:00:00", 2000.0, Some("A"), Some("X"), "wire");
    t1.bene_country = Some("KP".into());
    let a = alerts(&p, std::slice::from_ref(&t1));
    let b = alerts(&p, std::slice::from_ref(&t1));
    assert_eq!(a[0].alert_id, b[0].alert_id);
    assert_eq!(a[0].alert_id, redflag::alert_id("GEO-T", "A", &["t1".to_string()]));
    assert_ne!(a[0].alert_id, redflag::alert_id("GEO-T", "A", &["t2".to_string()]));
}

#[test]
fn cases_group_alerts_by_account_and_rank_by_score() {
    let p = pack(
        &one_rule(
            r#"  - id: HI
    title: high one
    kind: filter
    typologies: [money-laundering]
    severity: high
    side: in
    where: "amount_base > 100"
    explain: "big"
  - id: LO
    title: low one
    kind: filter
    typologies: [terrorist-financing]
    severity: low
    side: in
    where: "channel = 'mvts'"
    explain: "mvts"
"#,
        ),
        &[HR],
    );
    let ds = crate::common::dataset(&[
        tx("t1", "2026-01-01 10:00:00", 500.0, Some("X"), Some("A"), "mvts"),
        tx("t2", "2026-01-02 10:00:00", 50.0, Some("X"), Some("B"), "mvts"),
    ]);
    let r = redflag::screen(&p, &ds).unwrap();
    assert_eq!(r.cases.len(), 2);
    // A: high (6) + low (1), two typologies: 7 * 1.25.
    assert_eq!(r.cases[0].accounts, ["A"]);
    assert_eq!(r.cases[0].score, 8.75);
    assert_eq!(r.cases[0].rank, 1);
    assert_eq!(r.cases[0].rule_ids, ["HI", "LO"]);
    assert_eq!(r.cases[0].txn_count, 1);
    assert_eq!(r.cases[0].counterparties, ["X"]);
    assert_eq!(r.cases[1].accounts, ["B"]);
    assert_eq!(r.cases[1].score, 1.0);
    assert!(
        r.cases[0].summary.contains("Account A: 2 alerts from 2 rules"),
        "{}",
        r.cases[0].summary
    );
}

#[test]
fn side_both_counts_a_self_transfer_once() {
    let p = busy_wires(2);
    let one = alerts(
        &p,
        &[tx("t1", "2026-01-01 09:00:00", 10.0, Some("A"), Some("A"), "wire")],
    );
    assert!(one.is_empty(), "{one:?}");
    let two = alerts(
        &p,
        &[
            tx("t1", "2026-01-01 09:00:00", 10.0, Some("A"), Some("A"), "wire"),
            tx("t2", "2026-01-01 10:00:00", 10.0, Some("B"), Some("A"), "wire"),
        ],
    );
    assert_eq!(two.len(), 1);
    assert_eq!(two[0].txn_ids, ["t1", "t2"]);
    assert_eq!(two[0].measures["n"], 2);
}

/// Wires on both sides of an account within a day, at least `n` of them.
fn busy_wires(n: usize) -> redflag::Pack {
    pack(
        &one_rule(&format!(
            r#"  - id: BOTH-T
    title: busy wires
    kind: aggregate
    severity: low
    side: both
    where: "channel = 'wire'"
    window: 1d
    measures:
      n: "count(*)"
    having: "n >= {n}"
    explain: "{{n}} wires"
"#
        )),
        &[HR],
    )
}

/// A pack with an STR-like aggregate and a rule that screens only its alerts.
fn on_alerts_pack() -> redflag::Pack {
    pack(
        &one_rule(
            r#"  - id: STR-T
    title: split cash
    kind: aggregate
    severity: medium
    side: in
    where: "channel = 'cash_in'"
    window: 24h
    measures: {n: "count(*)"}
    having: "n >= 2"
  - id: DRG-T
    title: corridor on a structuring alert
    kind: filter
    severity: high
    typologies: [drug-trafficking]
    on_alerts_of: [STR-*]
    side: both
    where: "regexp_like(narrative, @~slang)"
    explain: "{narrative}"
  - id: ALL-T
    title: the same condition on every row
    kind: filter
    severity: low
    side: both
    where: "regexp_like(narrative, @~slang)"
"#,
        )
        .replace("  hr: hr.txt\n", "  hr: hr.txt\n  slang: slang.txt\n"),
        &[HR, ("slang.txt", "закладка  # FP: a bookmark\nклад\n")],
    )
}

#[test]
fn on_alerts_of_screens_only_the_other_rules_alerts() {
    let yaml_lists = on_alerts_pack();
    let with_narrative = |mut t: Tx, n: &str| {
        t.narrative = Some(n.into());
        t
    };
    let rows = vec![
        with_narrative(cash("c1", "2026-01-01 10:00:00", 500.0, "A"), "за закладку"),
        with_narrative(cash("c2", "2026-01-01 12:00:00", 500.0, "A"), "Zakladka 5g"),
        // Same words, but no structuring alert on B.
        with_narrative(cash("c3", "2026-01-01 12:00:00", 500.0, "B"), "закладка"),
    ];
    let a = alerts(&yaml_lists, &rows);
    let ids = |rule: &str| -> Vec<(String, Vec<String>)> {
        a.iter()
            .filter(|x| x.rule_id == rule)
            .map(|x| (x.account.clone(), x.txn_ids.clone()))
            .collect()
    };
    assert_eq!(
        ids("STR-T"),
        [("A".to_string(), vec!["c1".to_string(), "c2".to_string()])]
    );
    // Whole words only ("закладку" is another form), in either script; only on A's alert.
    assert_eq!(ids("DRG-T"), [("A".to_string(), vec!["c2".to_string()])]);
    // Without on_alerts_of the same condition finds B too.
    assert_eq!(ids("ALL-T").len(), 2, "{:?}", ids("ALL-T"));
}

#[test]
fn on_alerts_of_must_name_other_rules_one_level_deep() {
    let e = crate::common::try_pack(
        &one_rule(
            r#"  - id: A-1
    title: t
    kind: filter
    severity: low
    on_alerts_of: [NOPE-*]
    where: "amount > 1"
  - id: B-1
    title: t
    kind: filter
    severity: low
    on_alerts_of: [C-1]
    where: "amount > 1"
  - id: C-1
    title: t
    kind: filter
    severity: low
    on_alerts_of: [A-1]
    where: "amount > 1"
"#,
        ),
        &[HR],
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("`NOPE-*` names no other rule"), "{e}");
    assert!(
        e.contains("`C-1` names C-1, which itself screens other rules' alerts"),
        "{e}"
    );
}

#[test]
fn a_list_may_be_read_from_several_files() {
    let p = pack(
        "pack: test\nversion: \"1\"\nlists:\n  words: [a.txt, b.txt]\nrules:\n  - id: W-1\n    title: t\n    kind: filter\n    severity: low\n    where: \"channel IN @words\"\n",
        &[("a.txt", "# a\ncash_in  # FP: none\n"), ("b.txt", "wire\n")],
    );
    assert_eq!(p.lists["words"].values, ["cash_in", "wire"]);
    assert_eq!(p.lists["words"].source, "a.txt, b.txt");
}

#[test]
fn only_keeps_the_rules_an_on_alerts_of_rule_screens() {
    let p = on_alerts_pack().only(&["DRG-T".to_string()]).unwrap();
    let ids: Vec<&str> = p.rules.iter().map(|r| r.id()).collect();
    assert_eq!(ids, ["STR-T", "DRG-T"]);
}

#[test]
fn explanations_agree_in_number() {
    let p = pack(
        &one_rule(
            r#"  - id: N-T
    title: t
    kind: aggregate
    severity: low
    side: in
    where: "channel = 'cash_in'"
    window: 1d
    measures: {n: "count(*)"}
    having: "n >= 1"
    explain: "{n|cash deposit|cash deposits} of {min_amount}"
"#,
        ),
        &[HR],
    );
    let a = alerts(
        &p,
        &[
            cash("t1", "2026-01-01 10:00:00", 100.0, "A"),
            cash("t2", "2026-01-01 10:00:00", 100.0, "B"),
            cash("t3", "2026-01-01 11:00:00", 100.0, "B"),
        ],
    );
    assert_eq!(a[0].explanation, "1 cash deposit of 100");
    assert_eq!(a[1].explanation, "2 cash deposits of 100");
}
