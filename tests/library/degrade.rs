//! Rules degrade, they do not vanish (docs/packs.md, "When the data lacks a column"): the
//! parts of a rule that read a column the data lacks are dropped where that is safe, the
//! rule runs on the rest and is reported partial; it is not applicable only when its core
//! cannot run.

use std::path::PathBuf;

use redflag::{Alert, Applicability, Dataset, IngestOptions, Pack, Screening};

use crate::common::{one_rule, try_pack};

/// A canonical CSV with the columns given (a header line and rows), ingested.
fn data(csv: &str) -> Dataset {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("t.csv");
    std::fs::write(&p, csv).unwrap();
    redflag::ingest(&[p], &IngestOptions::default()).unwrap()
}

fn pack_of(rule: &str) -> Pack {
    try_pack(&one_rule(rule), &[("hr.txt", "KP\n")]).unwrap_or_else(|e| panic!("{e}"))
}

fn screen(pack: &Pack, ds: &Dataset) -> (Screening, Vec<Alert>) {
    let res = redflag::screen(pack, ds).unwrap();
    let mut alerts: Vec<Alert> = res.alerts().cloned().collect();
    alerts.sort_by(|a, b| (&a.account, &a.window_start).cmp(&(&b.account, &b.window_start)));
    (res, alerts)
}

/// A fan-out rule like FLW-03: payees within 2 days, or countries within 10 days.
const FAN_OUT: &str = r#"
  - id: FAN
    title: Fan-out
    kind: aggregate
    severity: medium
    side: out
    where: "counterparty IS NOT NULL"
    measures:
      n: "count(*)"
      n_payees: "count(DISTINCT counterparty)"
      n_countries: "count(DISTINCT counterparty_country)"
    any_of:
      - { window: 2d, having: "n_payees >= 3" }
      - { window: 10d, having: "n_countries >= 2" }
    explain: "{n|payment|payments} to {n_payees|payee|payees}[[ in {n_countries|country|countries}]] within {window}"
"#;

/// PAYS pays three payees in a day; GLOBE pays two payees in two countries a week apart.
fn fan_rows(with_country: bool) -> String {
    let rows = [
        ("p1", "2026-03-01 09:00:00", "PAYS", "A1", "KG"),
        ("p2", "2026-03-01 10:00:00", "PAYS", "A2", "KG"),
        ("p3", "2026-03-01 11:00:00", "PAYS", "A3", "KG"),
        ("g1", "2026-03-01 09:00:00", "GLOBE", "B1", "KZ"),
        ("g2", "2026-03-08 09:00:00", "GLOBE", "B2", "TR"),
    ];
    let mut csv = String::from(if with_country {
        "txn_id,ts,amount,orig_account,bene_account,bene_country\n"
    } else {
        "txn_id,ts,amount,orig_account,bene_account\n"
    });
    for (id, ts, from, to, c) in rows {
        csv.push_str(&format!("{id},{ts},1500,{from},{to}"));
        if with_country {
            csv.push_str(&format!(",{c}"));
        }
        csv.push('\n');
    }
    csv
}

#[test]
fn an_any_of_alternative_over_a_missing_column_is_dropped_and_the_rest_runs() {
    let pack = pack_of(FAN_OUT);
    let (res, alerts) = screen(&pack, &data(&fan_rows(false)));
    assert_eq!(res.run.rules_run, ["FAN"]);
    assert!(res.run.not_applicable.is_empty(), "{:?}", res.run.not_applicable);
    let accounts: Vec<&str> = alerts.iter().map(|a| a.account.as_str()).collect();
    assert_eq!(accounts, ["PAYS"], "only the payee alternative can fire: {alerts:?}");
    assert_eq!(alerts[0].explanation, "3 payments to 3 payees within 2 days");
    assert!(
        !alerts[0].measures.contains_key("n_countries"),
        "{:?}",
        alerts[0].measures
    );
    assert_eq!(res.run.degraded.len(), 1);
    let d = &res.run.degraded[0];
    assert_eq!(d.rule_id, "FAN");
    let parts: Vec<(&str, &str, Vec<String>)> = d
        .dropped
        .iter()
        .map(|x| (x.part.as_str(), x.text.as_str(), x.missing_columns.clone()))
        .collect();
    assert_eq!(
        parts,
        [
            (
                "any_of[1]",
                "within 10d: n_countries >= 2",
                vec!["counterparty_country".to_string()]
            ),
            (
                "measures.n_countries",
                "count(DISTINCT counterparty_country)",
                vec!["counterparty_country".to_string()]
            ),
        ]
    );
}

#[test]
fn with_every_column_the_rule_runs_whole() {
    let pack = pack_of(FAN_OUT);
    let (res, alerts) = screen(&pack, &data(&fan_rows(true)));
    assert!(res.run.degraded.is_empty(), "{:?}", res.run.degraded);
    let got: Vec<(&str, &str)> = alerts
        .iter()
        .map(|a| (a.account.as_str(), a.explanation.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("GLOBE", "2 payments to 2 payees in 2 countries within 10 days"),
            ("PAYS", "3 payments to 3 payees in 1 country within 2 days"),
        ]
    );
}

#[test]
fn a_measure_only_the_explanation_uses_is_dropped_and_prints_n_a() {
    let rule = r#"
  - id: EXP
    title: Payees
    kind: aggregate
    severity: low
    side: out
    measures:
      n_payees: "count(DISTINCT counterparty)"
      n_countries: "count(DISTINCT counterparty_country)"
    window: 2d
    having: "n_payees >= 3"
    explain: "{n_payees} payees in {n_countries|country|countries}, {n_countries} of them"
"#;
    let pack = pack_of(rule);
    let (res, alerts) = screen(&pack, &data(&fan_rows(false)));
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0].explanation, "3 payees in n/a countries, n/a of them");
    assert_eq!(res.run.degraded[0].dropped.len(), 1);
    assert_eq!(res.run.degraded[0].dropped[0].part, "measures.n_countries");
    // With the column, the same rule is whole.
    let (res, alerts) = screen(&pack, &data(&fan_rows(true)));
    assert!(res.run.degraded.is_empty());
    assert_eq!(alerts[0].explanation, "3 payees in 1 country, 1 of them");
}

/// Cash withdrawals, or transfers to a listed country (optional): CASH withdraws, KPX
/// wires to KP, SAL is paid a salary.
const OR_RULE: &str = r#"
  - id: ORT
    title: Cash or listed country
    kind: filter
    severity: low
    side: out
    where: "channel = 'cash_out' OR optional(counterparty_country IN @hr)"
    explain: "{channel} of {amount_base}"
"#;

fn channel_rows(country: bool, narrative: bool) -> String {
    let mut head = String::from("txn_id,ts,amount,orig_account,bene_account,channel");
    if country {
        head.push_str(",bene_country");
    }
    if narrative {
        head.push_str(",narrative");
    }
    let mut csv = head + "\n";
    for (id, from, to, ch, c, n) in [
        ("c1", "CASH", "", "cash_out", "", "atm"),
        ("k1", "KPX", "PY", "wire", "KP", "goods"),
        ("s1", "EMPLOYER", "SAL", "wire", "KG", "salary"),
    ] {
        csv.push_str(&format!("{id},2026-03-01 09:00:00,2000,{from},{to},{ch}"));
        if country {
            csv.push_str(&format!(",{c}"));
        }
        if narrative {
            csv.push_str(&format!(",{n}"));
        }
        csv.push('\n');
    }
    csv
}

fn accounts(alerts: &[Alert]) -> Vec<&str> {
    alerts.iter().map(|a| a.account.as_str()).collect()
}

#[test]
fn an_optional_or_term_is_dropped_and_the_rule_narrows() {
    let pack = pack_of(OR_RULE);
    let (res, alerts) = screen(&pack, &data(&channel_rows(true, false)));
    assert_eq!(accounts(&alerts), ["CASH", "KPX"]);
    assert!(res.run.degraded.is_empty());
    let (res, alerts) = screen(&pack, &data(&channel_rows(false, false)));
    assert_eq!(accounts(&alerts), ["CASH"]);
    let d = &res.run.degraded[0].dropped;
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].part, "where");
    assert_eq!(d[0].text, "counterparty_country IN @hr");
    assert_eq!(d[0].missing_columns, ["counterparty_country"]);
}

#[test]
fn an_optional_and_term_is_dropped_and_the_rule_widens_as_written() {
    let rule = r#"
  - id: ANDT
    title: Wires not for salaries
    kind: filter
    severity: low
    side: out
    where: "channel = 'wire' AND optional(coalesce(narrative, '') <> 'salary')"
    explain: "{channel}"
"#;
    let pack = pack_of(rule);
    let (_, alerts) = screen(&pack, &data(&channel_rows(false, true)));
    assert_eq!(accounts(&alerts), ["KPX"], "the salary is left out");
    let (res, alerts) = screen(&pack, &data(&channel_rows(false, false)));
    assert_eq!(
        accounts(&alerts),
        ["EMPLOYER", "KPX"],
        "without narratives it cannot be left out"
    );
    assert_eq!(res.run.degraded[0].dropped[0].missing_columns, ["narrative"]);
}

#[test]
fn a_rule_whose_core_lacks_a_column_is_not_applicable() {
    let cases = [
        // A single window whose `having` needs the missing measure.
        r#"
  - id: CORE
    title: Countries
    kind: aggregate
    severity: low
    side: out
    measures: { n_countries: "count(DISTINCT counterparty_country)" }
    window: 10d
    having: "n_countries >= 2"
"#,
        // Every alternative of `any_of` needs it.
        r#"
  - id: CORE
    title: Countries
    kind: aggregate
    severity: low
    side: out
    measures: { n_countries: "count(DISTINCT counterparty_country)" }
    any_of:
      - { window: 10d, having: "n_countries >= 2" }
      - { window: 30d, having: "n_countries >= 3" }
"#,
        // A `where` term not marked optional.
        r#"
  - id: CORE
    title: Listed
    kind: filter
    severity: low
    where: "channel = 'wire' AND counterparty_country IN @hr"
"#,
        // Every alternative of the `where` is optional and dropped.
        r#"
  - id: CORE
    title: Listed
    kind: filter
    severity: low
    where: "optional(counterparty_country IN @hr) OR optional(loc_country IN @hr)"
"#,
    ];
    for rule in cases {
        let pack = pack_of(rule);
        let (res, alerts) = screen(&pack, &data(&channel_rows(false, false)));
        assert!(alerts.is_empty(), "{rule}");
        assert!(res.run.rules_run.is_empty(), "{rule}");
        assert!(res.run.degraded.is_empty(), "{rule}");
        assert_eq!(res.run.not_applicable.len(), 1, "{rule}");
        let missing = &res.run.not_applicable[0].missing_columns;
        assert!(
            missing.contains(&"counterparty_country".to_string()),
            "{rule}: {missing:?}"
        );
    }
}

#[test]
fn applicability_says_full_partial_or_not_applicable() {
    let pack = pack_of(FAN_OUT);
    let rule = &pack.rules[0];
    let cols = |c: &[&str]| -> Vec<String> { c.iter().map(|s| s.to_string()).collect() };
    let base = [
        "ts",
        "amount",
        "orig_account",
        "bene_account",
        "amount_base",
        "currency",
    ];
    assert!(matches!(
        redflag::applicability(
            &pack,
            rule,
            &cols(&[&base[..], &["orig_country", "bene_country"]].concat())
        ),
        Applicability::Full
    ));
    // One of the two sources of counterparty_country is enough.
    assert!(matches!(
        redflag::applicability(&pack, rule, &cols(&[&base[..], &["bene_country"]].concat())),
        Applicability::Full
    ));
    match redflag::applicability(&pack, rule, &cols(&base)) {
        Applicability::Partial(degraded, dropped) => {
            assert_eq!(dropped.len(), 2);
            assert!(
                !degraded.columns.contains("counterparty_country"),
                "{:?}",
                degraded.columns
            );
            assert!(redflag::missing_columns(&degraded, &cols(&base)).is_empty());
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn misplaced_optional_terms_and_clauses_are_refused_with_rule_and_field() {
    let bad = [
        ("where: \"optional(channel = 'wire')\"", "whole condition"),
        (
            "where: \"optional(channel = 'wire') AND optional(amount > 5)\"",
            "at least one",
        ),
        ("where: \"NOT optional(channel = 'wire') AND amount > 5\"", "under NOT"),
        (
            "where: \"amount > 5 AND optional(optional(channel = 'wire') OR amount > 9)\"",
            "another",
        ),
        (
            "where: \"amount > 5\"\n    explain: \"{amount}[[ in {channel}\"",
            "not closed",
        ),
        (
            "where: \"amount > 5\"\n    explain: \"{amount} in {channel}]]\"",
            "closes no",
        ),
    ];
    for (field, expect) in bad {
        let rule = format!("  - id: BAD-1\n    title: Bad\n    kind: filter\n    severity: low\n    {field}\n");
        let e = try_pack(&one_rule(&rule), &[("hr.txt", "KP\n")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("BAD-1"), "{e}");
        assert!(e.contains("where") || e.contains("explain"), "{e}");
        assert!(e.contains(expect), "{field}: {e}");
    }
    // A measure cannot be optional.
    let rule = "  - id: BAD-2\n    title: Bad\n    kind: aggregate\n    severity: low\n    measures: { n: \"count(*)\", m: \"sum(CASE WHEN optional(amount > 1) AND amount > 2 THEN 1 ELSE 0 END)\" }\n    window: 1d\n    having: \"n >= 1\"\n";
    let e = try_pack(&one_rule(rule), &[("hr.txt", "KP\n")])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("BAD-2") && e.contains("measures.m") && e.contains("row condition"),
        "{e}"
    );
}

fn repo(p: &str) -> PathBuf {
    PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap())
        .join("../..")
        .join(p)
}

/// FLW-03 on AMLworld-layout data (no countries): it runs its payee alternative, fires on
/// the fan-out of twelve payees, not on nine payees nor on card purchases, and is partial.
#[test]
fn flw03_runs_its_payee_alternative_on_amlworld_layout_data() {
    let opts = IngestOptions {
        mapping: Some(redflag::Mapping::preset("amlworld").unwrap()),
        ..IngestOptions::default()
    };
    let ds = redflag::ingest(&[repo("tests/data/degrade/flw03-amlworld.csv")], &opts).unwrap();
    assert_eq!(ds.rows_quarantined(), 0);
    let pack = Pack::builtin().unwrap().only(&["FLW-03".into()]).unwrap();
    let (res, alerts) = screen(&pack, &ds);
    assert_eq!(res.run.rules_run, ["FLW-03"]);
    assert_eq!(accounts(&alerts), ["FANOUT-HIT"], "{alerts:?}");
    let a = &alerts[0];
    assert_eq!(a.txn_ids.len(), 12);
    assert_eq!(a.measures["n_payees"], 12.0);
    assert!(
        a.explanation
            .starts_with("12 payments to 12 different payees within 7 days, total "),
        "{}",
        a.explanation
    );
    let parts: Vec<&str> = res.run.degraded[0].dropped.iter().map(|d| d.part.as_str()).collect();
    assert_eq!(parts, ["any_of[1]", "measures.n_countries"]);
    // The manifest names the rule partial, with what was dropped and why.
    let m = res.manifest(&pack, &ds, &redflag::Outputs::default());
    assert_eq!(m.rules_partial.len(), 1);
    assert_eq!(m.rules_partial[0].rule_id, "FLW-03");
    assert!(m.rules_partial[0].absent_columns.is_empty());
    assert_eq!(m.rules_partial[0].dropped[0].missing_columns, ["counterparty_country"]);
    let json = serde_json::to_value(&m).unwrap();
    assert_eq!(json["rules_partial"][0]["dropped"][1]["part"], "measures.n_countries");
}

/// BEH-02 without an occupation column: its turnover alternative runs alone; without the
/// turnover either, it is not applicable (it could never fire).
#[test]
fn beh02_runs_on_the_declared_turnover_alone() {
    let pack = Pack::builtin().unwrap().only(&["BEH-02".into()]).unwrap();
    let csv = "txn_id,ts,amount,orig_account,bene_account,expected_monthly_turnover\n\
               t1,2026-03-01 09:00:00,6000,PAYER,CUST,1000\n\
               t2,2026-03-10 09:00:00,6000,PAYER,CUST,1000\n\
               t3,2026-03-01 09:00:00,2000,PAYER,LOW,1000\n";
    let (res, alerts) = screen(&pack, &data(csv));
    assert_eq!(accounts(&alerts), ["CUST"], "{alerts:?}");
    assert!(
        alerts[0].explanation.contains("expected monthly turnover 1,000"),
        "{}",
        alerts[0].explanation
    );
    let d = &res.run.degraded[0].dropped;
    let parts: Vec<&str> = d.iter().map(|x| x.part.as_str()).collect();
    assert_eq!(parts, ["any_of[0]", "measures.low_income"]);
    assert_eq!(d[0].missing_columns, ["occupation"]);
    let csv = "txn_id,ts,amount,orig_account,bene_account\nt1,2026-03-01 09:00:00,6000,PAYER,CUST\n";
    let (res, _) = screen(&pack, &data(csv));
    assert_eq!(res.run.not_applicable.len(), 1);
    assert_eq!(
        res.run.not_applicable[0].missing_columns,
        ["expected_monthly_turnover", "occupation"]
    );
}

/// FLW-02B and FLW-03B on data without `customer_type`: each account is compared with its
/// own history alone, the rule is partial and names the column; with the column, the
/// organisation whose peers have two counterparties each does not fire.
#[test]
fn fan_by_behaviour_runs_on_own_history_without_customer_types() {
    for rule in ["FLW-02B", "FLW-03B"] {
        let csv = std::fs::read_to_string(repo(&format!("tests/cases/{rule}/transactions.csv"))).unwrap();
        let pack = Pack::builtin().unwrap().only(&[rule.into()]).unwrap();
        let (res, full) = screen(&pack, &data(&csv));
        assert!(res.run.degraded.is_empty(), "{rule}");
        assert_eq!(accounts(&full), ["EDGE-MIN", "EDGE-RATIO", "HIT", "STRADDLE"], "{rule}");
        // The same rows without the customer_type column (the last one).
        let cut: String = csv
            .lines()
            .map(|l| format!("{}\n", &l[..l.rfind(',').unwrap()]))
            .collect();
        assert!(!cut.contains("individual") && cut.starts_with("txn_id,ts,amount,orig_account,bene_account,channel\n"));
        let (res, alerts) = screen(&pack, &data(&cut));
        assert_eq!(res.run.rules_run, [rule]);
        assert_eq!(
            accounts(&alerts),
            ["EDGE-MIN", "EDGE-RATIO", "HIT", "MISS-PEERS", "STRADDLE"],
            "{rule}"
        );
        assert!(alerts.iter().all(|a| a.measures["peer_median"].is_null()), "{rule}");
        let m = res.manifest(&pack, &data(&cut), &redflag::Outputs::default());
        assert_eq!(m.rules_partial.len(), 1);
        assert_eq!(m.rules_partial[0].absent_columns, ["customer_type"]);
    }
}

/// The fixture `tests/cases/RULE/transactions.csv` without the columns `drop`.
fn fixture_without(rule: &str, drop: &[&str]) -> Dataset {
    let csv = std::fs::read_to_string(repo(&format!("tests/cases/{rule}/transactions.csv"))).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let keep: Vec<usize> = (0..header.len()).filter(|i| !drop.contains(&header[*i])).collect();
    assert_eq!(
        keep.len() + drop.len(),
        header.len(),
        "{rule}: a dropped column is not in the fixture"
    );
    let mut out = String::new();
    for line in csv.lines() {
        // The fixtures' fields hold no commas.
        let fields: Vec<&str> = line.split(',').collect();
        assert_eq!(fields.len(), header.len(), "{line}");
        out.push_str(&keep.iter().map(|i| fields[*i]).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    data(&out)
}

/// The parts the rule ran without, by field path.
fn dropped_parts(res: &Screening) -> Vec<&str> {
    res.run
        .degraded
        .iter()
        .flat_map(|d| d.dropped.iter().map(|x| x.part.as_str()))
        .collect()
}

/// HT-02's three patterns each run on the columns they read: without merchant codes and
/// narratives, the night cash of businesses alone; without those and customer types, it
/// could never fire, so it is not applicable (it was reported partial).
#[test]
fn ht02_runs_each_pattern_on_its_own_columns() {
    let pack = Pack::builtin().unwrap().only(&["HT-02".into()]).unwrap();
    let (res, all) = screen(&pack, &fixture_without("HT-02", &[]));
    assert!(res.run.degraded.is_empty());
    assert_eq!(accounts(&all), ["EDGE-NIGHT", "HIT-NIGHT", "HIT-RENT", "HIT-SERVICES"]);
    let (res, alerts) = screen(&pack, &fixture_without("HT-02", &["mcc", "loc_region"]));
    assert_eq!(accounts(&alerts), ["EDGE-NIGHT", "HIT-NIGHT", "HIT-RENT"]);
    assert_eq!(
        dropped_parts(&res),
        ["where", "any_of[0]", "measures.cities", "measures.services"]
    );
    let (res, alerts) = screen(&pack, &fixture_without("HT-02", &["mcc", "loc_region", "narrative"]));
    assert_eq!(accounts(&alerts), ["EDGE-NIGHT", "HIT-NIGHT"]);
    assert!(dropped_parts(&res).contains(&"any_of[1]"), "{:?}", dropped_parts(&res));
    assert!(
        alerts[0]
            .explanation
            .starts_with("within 30 days: 3 night cash deposits"),
        "{}",
        alerts[0].explanation
    );
    let (res, alerts) = screen(
        &pack,
        &fixture_without("HT-02", &["mcc", "loc_region", "narrative", "customer_type"]),
    );
    assert!(alerts.is_empty());
    assert!(res.run.degraded.is_empty() && res.run.rules_run.is_empty());
    assert_eq!(res.run.not_applicable[0].rule_id, "HT-02");
}

/// HT-03 without narratives counts the payees of travel merchants; without merchant
/// codes it reads the narratives; without either it is not applicable.
#[test]
fn ht03_runs_on_merchant_codes_or_narratives() {
    let pack = Pack::builtin().unwrap().only(&["HT-03".into()]).unwrap();
    let (res, all) = screen(&pack, &fixture_without("HT-03", &[]));
    assert!(res.run.degraded.is_empty());
    let (res, alerts) = screen(&pack, &fixture_without("HT-03", &["mcc"]));
    assert!(dropped_parts(&res).contains(&"any_of[1]"), "{:?}", dropped_parts(&res));
    assert!(!alerts.is_empty() && alerts.len() < all.len(), "{alerts:?}");
    let (res, alerts) = screen(&pack, &fixture_without("HT-03", &["narrative"]));
    assert!(dropped_parts(&res).contains(&"any_of[0]"), "{:?}", dropped_parts(&res));
    // One agency paid for five named travellers is one payee without the names.
    assert_eq!(accounts(&alerts), ["HIT-AGENCIES"]);
    assert!(
        alerts[0]
            .explanation
            .starts_with("5 payments for travel, visas or work permits within 30 days, total "),
        "{}",
        alerts[0].explanation
    );
    let (res, alerts) = screen(&pack, &fixture_without("HT-03", &["mcc", "narrative"]));
    assert!(alerts.is_empty());
    assert_eq!(res.run.not_applicable[0].rule_id, "HT-03");
}
