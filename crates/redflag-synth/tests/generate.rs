use std::collections::{BTreeMap, BTreeSet, HashMap};

use polars::prelude::*;
use redflag_synth::{generate, write, SynthConfig, SynthError, Synthetic, DECOY, PLANTED_TYPOLOGIES};

const DAY: i64 = 86_400_000;
const CANONICAL: [&str; 23] = [
    "txn_id",
    "ts",
    "amount",
    "currency",
    "amount_base",
    "channel",
    "orig_account",
    "bene_account",
    "orig_name",
    "bene_name",
    "orig_country",
    "bene_country",
    "orig_bank",
    "bene_bank",
    "narrative",
    "customer_type",
    "occupation",
    "opened",
    "expected_monthly_turnover",
    "loc_country",
    "loc_region",
    "branch_id",
    "mcc",
];

fn config(seed: u64) -> SynthConfig {
    SynthConfig {
        seed,
        transactions: 20_000,
        accounts: 2_000,
        days: 90,
        fraction: 0.02,
        ..SynthConfig::default()
    }
}

fn strs(df: &DataFrame, name: &str) -> Vec<Option<String>> {
    let col = df.column(name).expect("column exists");
    col.str()
        .expect("string column")
        .iter()
        .map(|v| v.map(str::to_string))
        .collect()
}

/// The transaction frame as plain vectors.
struct Rows {
    txn_id: Vec<String>,
    ts: Vec<i64>,
    amount: Vec<f64>,
    /// Opening date of the row's customer, days from the epoch.
    opened: Vec<Option<i32>>,
    turnover: Vec<Option<f64>>,
    cols: HashMap<&'static str, Vec<Option<String>>>,
}

impl Rows {
    fn new(df: &DataFrame) -> Rows {
        let ts = df.column("ts").expect("ts").datetime().expect("datetime");
        let amount = df.column("amount").expect("amount").f64().expect("f64");
        let mut cols = HashMap::new();
        for name in CANONICAL {
            if !matches!(
                name,
                "ts" | "amount" | "amount_base" | "opened" | "expected_monthly_turnover"
            ) {
                cols.insert(name, strs(df, name));
            }
        }
        Rows {
            txn_id: strs(df, "txn_id").into_iter().map(Option::unwrap_or_default).collect(),
            ts: ts.physical().iter().map(|v| v.expect("no null ts")).collect(),
            amount: amount.iter().map(|v| v.expect("no null amount")).collect(),
            opened: df
                .column("opened")
                .expect("opened")
                .date()
                .expect("date")
                .physical()
                .iter()
                .collect(),
            turnover: df
                .column("expected_monthly_turnover")
                .expect("turnover")
                .f64()
                .expect("f64")
                .iter()
                .collect(),
            cols,
        }
    }

    fn get(&self, col: &str, i: usize) -> Option<&str> {
        self.cols[col][i].as_deref()
    }

    fn s(&self, col: &str, i: usize) -> &str {
        self.get(col, i).unwrap_or("")
    }
}

/// A planted scheme as its labels tell it.
struct Scheme {
    typology: String,
    pattern: String,
    subject: String,
    /// Core transactions (row indices, in time order).
    core: Vec<usize>,
    /// Support transactions.
    support: Vec<usize>,
}

/// Each planted scheme, by id.
fn schemes(data: &Synthetic, rows: &Rows) -> BTreeMap<String, Scheme> {
    let by_id: HashMap<&str, usize> = rows.txn_id.iter().enumerate().map(|(i, t)| (t.as_str(), i)).collect();
    let l = &data.labels;
    let (txn, sid, typ, acct, role, pattern) = (
        strs(l, "txn_id"),
        strs(l, "scheme_id"),
        strs(l, "typology"),
        strs(l, "account"),
        strs(l, "role"),
        strs(l, "pattern"),
    );
    let mut out: BTreeMap<String, Scheme> = BTreeMap::new();
    for i in 0..l.height() {
        let t = txn[i].as_deref().expect("txn_id");
        let row = *by_id.get(t).expect("labelled txn exists");
        let e = out.entry(sid[i].clone().expect("scheme_id")).or_insert_with(|| Scheme {
            typology: typ[i].clone().expect("typology"),
            pattern: pattern[i].clone().expect("pattern"),
            subject: acct[i].clone().expect("account"),
            core: Vec::new(),
            support: Vec::new(),
        });
        if role[i].as_deref() == Some("core") {
            e.core.push(row);
        } else {
            e.support.push(row);
        }
    }
    for s in out.values_mut() {
        s.core.sort_unstable();
        s.support.sort_unstable();
    }
    out
}

fn span(rows: &Rows, ix: &[usize]) -> i64 {
    let min = ix.iter().map(|&i| rows.ts[i]).min().unwrap_or(0);
    let max = ix.iter().map(|&i| rows.ts[i]).max().unwrap_or(0);
    max - min
}

fn distinct<'a>(rows: &'a Rows, col: &str, ix: &[usize]) -> BTreeSet<&'a str> {
    ix.iter().filter_map(|&i| rows.get(col, i)).collect()
}

#[test]
fn same_seed_gives_identical_bytes() -> Result<(), SynthError> {
    let dir = tempfile::tempdir().map_err(|e| SynthError::Config(e.to_string()))?;
    let read = |name: &str| std::fs::read(dir.path().join(name)).expect("file written");
    for (i, seed) in [11u64, 11, 12].into_iter().enumerate() {
        let mut data = generate(&config(seed))?;
        write(&mut data.transactions, dir.path().join(format!("t{i}.csv")))?;
        write(&mut data.transactions, dir.path().join(format!("t{i}.parquet")))?;
        write(&mut data.labels, dir.path().join(format!("l{i}.csv")))?;
    }
    assert_eq!(read("t0.csv"), read("t1.csv"));
    assert_eq!(read("t0.parquet"), read("t1.parquet"));
    assert_eq!(read("l0.csv"), read("l1.csv"));
    assert_ne!(read("t0.csv"), read("t2.csv"));
    Ok(())
}

#[test]
fn layout_and_row_count() -> Result<(), SynthError> {
    let cfg = config(3);
    let data = generate(&cfg)?;
    let df = &data.transactions;
    assert_eq!(df.height(), cfg.transactions);
    let names: Vec<&str> = df.get_column_names().into_iter().map(|n| n.as_str()).collect();
    assert_eq!(names, CANONICAL);
    assert_eq!(
        df.column("ts")?.dtype(),
        &DataType::Datetime(TimeUnit::Milliseconds, None)
    );
    assert_eq!(df.column("amount")?.dtype(), &DataType::Float64);
    for c in ["txn_id", "ts", "amount", "amount_base", "currency", "channel"] {
        assert_eq!(df.column(c)?.null_count(), 0, "nulls in {c}");
    }

    let plain = generate(&SynthConfig {
        plant: false,
        ..config(3)
    })?;
    assert_eq!(plain.transactions.height(), cfg.transactions);
    assert_eq!(plain.labels.height(), 0);
    Ok(())
}

#[test]
fn rows_are_well_formed() -> Result<(), SynthError> {
    let cfg = config(5);
    let data = generate(&cfg)?;
    let rows = Rows::new(&data.transactions);
    let start = cfg
        .start
        .and_hms_opt(0, 0, 0)
        .map(|d| d.and_utc().timestamp_millis())
        .unwrap_or_default();
    let end = start + i64::from(cfg.days) * DAY;
    let channels = [
        "cash_in", "cash_out", "atm", "wire", "mvts", "card", "mobile", "p2p", "crypto", "cheque", "internal",
    ];
    let mut ids = BTreeSet::new();
    for i in 0..rows.ts.len() {
        assert!(ids.insert(rows.txn_id[i].as_str()), "duplicate txn_id");
        if i > 0 {
            assert!(
                (rows.ts[i - 1], &rows.txn_id[i - 1]) < (rows.ts[i], &rows.txn_id[i]),
                "not sorted at row {i}"
            );
        }
        assert!(rows.ts[i] >= start && rows.ts[i] < end, "ts out of the period");
        let a = rows.amount[i];
        assert!(a > 0.0);
        assert!(
            ((a * 100.0).round() - a * 100.0).abs() < 1e-6,
            "more than two decimals: {a}"
        );
        let ch = rows.s("channel", i);
        assert!(channels.contains(&ch), "channel {ch}");
        match ch {
            "cash_in" => {
                assert!(rows.get("orig_account", i).is_none());
                assert!(rows.get("bene_account", i).is_some());
                assert!(rows.get("branch_id", i).is_some());
            }
            "cash_out" | "atm" => {
                assert!(rows.get("bene_account", i).is_none());
                assert!(rows.get("orig_account", i).is_some());
                assert!(rows.get("loc_country", i).is_some());
            }
            _ => {
                assert!(
                    rows.get("orig_account", i).is_some(),
                    "row {i} {ch} without orig_account"
                );
                assert!(
                    rows.get("bene_account", i).is_some(),
                    "row {i} {ch} without bene_account"
                );
            }
        }
        if matches!(ch, "card" | "atm" | "crypto") {
            assert!(rows.get("mcc", i).is_some());
        }
        assert_eq!(rows.s("currency", i), "USD");
        assert!(matches!(
            rows.s("customer_type", i),
            "individual" | "organisation" | "npo" | "msb" | ""
        ));
    }
    Ok(())
}

#[test]
fn every_scheme_is_planted_and_labelled() -> Result<(), SynthError> {
    let data = generate(&config(7))?;
    let typologies: BTreeSet<String> = strs(&data.labels, "typology").into_iter().flatten().collect();
    let expected: BTreeSet<String> = PLANTED_TYPOLOGIES.iter().map(|s| s.to_string()).collect();
    assert_eq!(typologies, expected);
    let patterns: BTreeSet<String> = strs(&data.labels, "pattern").into_iter().flatten().collect();
    for p in [
        "fan-in",
        "fan-out",
        "cycle",
        "scatter-gather",
        "gather-scatter",
        "bipartite",
        "stack",
        "payroll",
        "cash-business",
        "large-cash",
        "charity",
        "currency-exchange",
        "family-remittance",
        "cash-then-crypto",
    ] {
        assert!(patterns.contains(p), "no {p} planted");
    }
    // Each scheme has a single subject account.
    let rows = Rows::new(&data.transactions);
    for (sid, sc) in schemes(&data, &rows) {
        assert!(!sc.core.is_empty(), "{sid} has no core transactions");
        assert!(!sc.subject.is_empty());
    }
    Ok(())
}

#[test]
fn planted_schemes_cross_their_thresholds() -> Result<(), SynthError> {
    for seed in [9, 21, 33] {
        check_thresholds(&generate(&config(seed))?);
    }
    // A small population, where counterparties are scarce.
    let small = SynthConfig {
        transactions: 6_000,
        accounts: 200,
        days: 45,
        ..config(4)
    };
    check_thresholds(&generate(&small)?);
    Ok(())
}

fn check_thresholds(data: &Synthetic) {
    let rows = Rows::new(&data.transactions);
    let conflict = ["SY", "IQ", "AF"];
    let mut seen = BTreeSet::new();
    for (sid, sc) in schemes(data, &rows) {
        let (typ, subject, ix) = (sc.typology.clone(), sc.subject.clone(), sc.core.clone());
        seen.insert(typ.clone());
        if check_new_shapes(&rows, &sid, &sc) {
            continue;
        }
        let n = ix.len();
        let amounts: Vec<f64> = ix.iter().map(|&i| rows.amount[i]).collect();
        let total: f64 = amounts.iter().sum();
        let all = |f: &dyn Fn(usize) -> bool| ix.iter().all(|&i| f(i));
        let ctx = format!("{sid} {typ}");
        match typ.as_str() {
            "STR-01" => {
                assert!(n >= 2, "{ctx}");
                assert!(amounts.iter().all(|a| (9_000.0..10_000.0).contains(a)), "{ctx}");
                assert!(
                    all(&|i| rows.s("channel", i) == "cash_in" && rows.s("bene_account", i) == subject),
                    "{ctx}"
                );
                assert!(span(&rows, &ix) < 7 * DAY, "{ctx}");
                let mut ts: Vec<i64> = ix.iter().map(|&i| rows.ts[i]).collect();
                ts.sort_unstable();
                assert!(
                    ts.windows(2).all(|w| w[1] - w[0] > DAY),
                    "{ctx}: two deposits within 24 h"
                );
            }
            "STR-02" => {
                assert!(n >= 2, "{ctx}");
                assert!(amounts.iter().all(|a| *a < 9_000.0), "{ctx}");
                assert!(total >= 10_000.0, "{ctx}");
                assert!(span(&rows, &ix) < DAY, "{ctx}");
                assert!(all(&|i| rows.s("channel", i) == "cash_in"), "{ctx}");
            }
            "STR-03" => {
                assert!(amounts.iter().all(|a| *a < 10_000.0), "{ctx}");
                assert!(total >= 5_000.0, "{ctx}");
                assert!(span(&rows, &ix) < 5 * DAY, "{ctx}");
                assert!(distinct(&rows, "branch_id", &ix).len() >= 3, "{ctx}");
                assert!(distinct(&rows, "loc_region", &ix).len() >= 2, "{ctx}");
            }
            "FLW-02" => {
                assert!(distinct(&rows, "orig_account", &ix).len() >= 10, "{ctx}");
                assert!(amounts.iter().all(|a| *a < 500.0), "{ctx}");
                assert!(span(&rows, &ix) < 7 * DAY, "{ctx}");
                assert!(all(&|i| rows.s("bene_account", i) == subject), "{ctx}");
            }
            "FLW-03" => {
                assert!(distinct(&rows, "bene_account", &ix).len() >= 10, "{ctx}");
                assert!(span(&rows, &ix) < 7 * DAY, "{ctx}");
                assert!(all(&|i| rows.s("orig_account", i) == subject), "{ctx}");
            }
            "FLW-05" => {
                assert!(n >= 5, "{ctx}");
                assert!(amounts.iter().all(|a| a % 1_000.0 == 0.0), "{ctx}");
                assert!(all(&|i| matches!(rows.s("channel", i), "wire" | "mvts")), "{ctx}");
                assert!(span(&rows, &ix) < 30 * DAY, "{ctx}");
            }
            "GEO-01" => assert!(
                all(&|i| rows.s("channel", i) == "wire"
                    && ["IR", "KP"]
                        .iter()
                        .any(|c| rows.s("orig_country", i) == *c || rows.s("bene_country", i) == *c)),
                "{ctx}"
            ),
            "GEO-02" => {
                assert!(
                    all(&|i| rows.s("channel", i) == "wire" && matches!(rows.s("bene_country", i), "VN" | "KE")),
                    "{ctx}"
                )
            }
            "GEO-03" => {
                assert!(n >= 3, "{ctx}");
                assert!(span(&rows, &ix) < 30 * DAY, "{ctx}");
                assert!(
                    all(&|i| matches!(rows.s("channel", i), "mvts" | "wire")
                        && rows.s("orig_account", i) == subject
                        && (conflict.contains(&rows.s("bene_country", i)) || rows.s("loc_region", i) == "TR-27")),
                    "{ctx}"
                );
            }
            "GEO-04" => {
                assert!(n >= 2, "{ctx}");
                assert!(
                    all(&|i| rows.s("channel", i) == "atm"
                        && (rows.s("loc_country", i) == "SY" || rows.s("loc_region", i) == "TR-79")),
                    "{ctx}"
                );
            }
            "WIR-01" => assert!(
                all(&|i| rows.s("channel", i) == "wire"
                    && rows.amount[i] >= 1_000.0
                    && rows.s("orig_country", i) != rows.s("bene_country", i)
                    && matches!(rows.s("orig_name", i), "" | "UNKNOWN")),
                "{ctx}"
            ),
            "DRG-01" => {
                // All credits into the subject, over the scheme's 30 days.
                let credits: Vec<usize> = (0..rows.ts.len())
                    .filter(|&i| rows.s("bene_account", i) == subject)
                    .collect();
                assert!(span(&rows, &credits) < 30 * DAY, "{ctx}");
                let cash: f64 = credits
                    .iter()
                    .filter(|&&i| rows.s("channel", i) == "cash_in")
                    .map(|&i| rows.amount[i])
                    .sum();
                let all_in: f64 = credits.iter().map(|&i| rows.amount[i]).sum();
                assert!(cash >= 20_000.0, "{ctx}: cash {cash}");
                assert!(cash >= 0.7 * all_in, "{ctx}: cash {cash} of {all_in}");
                assert!(
                    credits.iter().all(|&i| rows.s("customer_type", i) == "individual"),
                    "{ctx}"
                );
            }
            "VA-01" => {
                assert!(n >= 3, "{ctx}");
                assert!(amounts.iter().all(|a| (900.0..1_000.0).contains(a)), "{ctx}");
                assert!(
                    all(&|i| rows.s("channel", i) == "crypto" && rows.s("mcc", i) == "6051"),
                    "{ctx}"
                );
                assert!(span(&rows, &ix) < 7 * DAY, "{ctx}");
            }
            t if t == DECOY => {}
            other => panic!("unexpected typology {other}"),
        }
    }
    assert_eq!(seen.len(), PLANTED_TYPOLOGIES.len());
}

#[test]
fn background_stays_clear_of_planted_thresholds() -> Result<(), SynthError> {
    let data = generate(&config(13))?;
    let rows = Rows::new(&data.transactions);
    let labelled: BTreeSet<String> = strs(&data.labels, "txn_id").into_iter().flatten().collect();
    for i in 0..rows.ts.len() {
        if labelled.contains(&rows.txn_id[i]) {
            continue;
        }
        let a = rows.amount[i];
        match rows.s("channel", i) {
            "cash_in" => assert!(!(8_800.0..10_000.0).contains(&a), "background near-threshold cash {a}"),
            "crypto" => assert!(!(850.0..1_000.0).contains(&a), "background near-threshold crypto {a}"),
            _ => {}
        }
        for c in ["orig_country", "bene_country", "loc_country"] {
            assert!(
                !matches!(rows.s(c, i), "IR" | "KP" | "VN" | "KE" | "SY" | "IQ" | "AF"),
                "row {i}: {c}"
            );
        }
        assert!(!matches!(rows.s("loc_region", i), "TR-27" | "TR-79"));
        if rows.s("channel", i) != "cash_in" {
            assert!(
                !matches!(rows.s("orig_name", i), "" | "UNKNOWN"),
                "row {i} without originator name"
            );
        }
    }
    Ok(())
}

#[test]
fn invalid_configurations_are_refused() {
    let bad = [
        SynthConfig {
            transactions: 0,
            ..config(1)
        },
        SynthConfig {
            accounts: 10,
            ..config(1)
        },
        SynthConfig { days: 20, ..config(1) },
        SynthConfig {
            fraction: f64::NAN,
            ..config(1)
        },
        SynthConfig {
            accounts: 40,
            ..config(1)
        },
        SynthConfig {
            transactions: 100,
            ..config(1)
        },
    ];
    for cfg in bad {
        assert!(matches!(generate(&cfg), Err(SynthError::Config(_))), "{cfg:?} accepted");
    }
    // Without planting, short periods and small populations are fine.
    let ok = SynthConfig {
        days: 3,
        accounts: 40,
        plant: false,
        transactions: 500,
        ..config(1)
    };
    assert_eq!(generate(&ok).map(|d| d.transactions.height()).ok(), Some(500));
}

#[test]
fn parquet_round_trips() -> Result<(), SynthError> {
    let dir = tempfile::tempdir().map_err(|e| SynthError::Config(e.to_string()))?;
    let path = dir.path().join("t.parquet");
    let mut data = generate(&SynthConfig {
        transactions: 5_000,
        accounts: 500,
        ..config(17)
    })?;
    write(&mut data.transactions, &path)?;
    let file = std::fs::File::open(&path).map_err(|e| SynthError::Config(e.to_string()))?;
    let back = ParquetReader::new(file).finish()?;
    assert!(back.equals_missing(&data.transactions));
    assert!(!dir.path().join("t.parquet.tmp").exists());
    assert!(matches!(
        write(&mut data.labels, dir.path().join("l.txt")),
        Err(SynthError::Format { .. })
    ));
    Ok(())
}

/// Whether a row leaves the home countries (a party abroad).
fn abroad(rows: &Rows, i: usize) -> bool {
    let home = ["KG", "KZ", "UZ", "TJ"];
    let b = rows.s("bene_country", i);
    !b.is_empty() && !home.contains(&b)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        0.0
    } else {
        v[v.len() / 2]
    }
}

/// The shapes of the schemes for the rule families beyond the first thirteen rules, and
/// of the AMLworld patterns, against the logic of TYPOLOGIES.md. Returns whether the
/// scheme is one of them.
fn check_new_shapes(rows: &Rows, sid: &str, sc: &Scheme) -> bool {
    let ix = &sc.core;
    let subject = sc.subject.as_str();
    let ctx = format!("{sid} {} {}", sc.typology, sc.pattern);
    let amounts: Vec<f64> = ix.iter().map(|&i| rows.amount[i]).collect();
    let credits: Vec<usize> = ix
        .iter()
        .copied()
        .filter(|&i| rows.s("bene_account", i) == subject)
        .collect();
    let debits: Vec<usize> = ix
        .iter()
        .copied()
        .filter(|&i| rows.s("orig_account", i) == subject)
        .collect();
    let sum = |v: &[usize]| v.iter().map(|&i| rows.amount[i]).sum::<f64>();
    let within = |v: &[usize], days: i64| span(rows, v) <= days * DAY;
    match (sc.typology.as_str(), sc.pattern.as_str()) {
        ("STR-04", _) => {
            let cash: Vec<usize> = credits
                .iter()
                .copied()
                .filter(|&i| rows.s("channel", i) == "cash_in")
                .collect();
            assert!(cash.len() >= 6, "{ctx}");
            assert!(within(ix, 30), "{ctx}");
            assert!(distinct(rows, "loc_region", &cash).len() >= 2, "{ctx}");
            // Each deposit's money leaves abroad within 72 hours, 70-80 % of it.
            for &c in &cash {
                let out: f64 = debits
                    .iter()
                    .filter(|&&d| rows.ts[d] > rows.ts[c] && rows.ts[d] - rows.ts[c] <= 3 * DAY && abroad(rows, d))
                    .map(|&d| rows.amount[d])
                    .sum();
                assert!(
                    out >= 0.7 * rows.amount[c] && out < 0.8 * rows.amount[c] + 2_400.0,
                    "{ctx}"
                );
            }
            // No five days hold 5,000 of its cash (STR-03).
            for &a in &cash {
                let s: f64 = cash
                    .iter()
                    .filter(|&&b| rows.ts[b] >= rows.ts[a] && rows.ts[b] - rows.ts[a] <= 5 * DAY)
                    .map(|&b| rows.amount[b])
                    .sum();
                assert!(s < 5_000.0, "{ctx}: {s}");
            }
        }
        ("STR-05", _) => {
            let feeders = distinct(rows, "orig_account", &credits);
            assert!((4..10).contains(&feeders.len()), "{ctx}");
            assert!(credits.iter().all(|&i| rows.amount[i] < 3_000.0), "{ctx}");
            assert!(within(&credits, 7), "{ctx}");
            let out: Vec<usize> = debits.iter().copied().filter(|&i| abroad(rows, i)).collect();
            assert!(sum(&out) >= 0.8 * sum(&credits), "{ctx}");
            let last_in = credits.iter().map(|&i| rows.ts[i]).max().unwrap_or(0);
            assert!(out.iter().all(|&i| rows.ts[i] - last_in <= 14 * DAY), "{ctx}");
        }
        ("FLW-01", _) => {
            assert!(credits.len() >= 3, "{ctx}");
            for &c in &credits {
                assert!(rows.amount[c] >= 1_000.0, "{ctx}");
                let out: f64 = debits
                    .iter()
                    .filter(|&&d| rows.ts[d] >= rows.ts[c] && rows.ts[d] - rows.ts[c] <= DAY)
                    .map(|&d| rows.amount[d])
                    .sum();
                assert!(out >= 0.9 * rows.amount[c] && out <= rows.amount[c], "{ctx}");
            }
        }
        ("FLW-02", "fan-in") => {
            assert!(distinct(rows, "orig_account", &credits).len() >= 10, "{ctx}");
            assert_eq!(credits.len(), ix.len(), "{ctx}");
            assert!(within(ix, 7), "{ctx}");
        }
        ("FLW-03", "fan-out") => {
            assert!(distinct(rows, "bene_account", &debits).len() >= 10, "{ctx}");
            assert_eq!(debits.len(), ix.len(), "{ctx}");
            assert!(amounts.iter().all(|a| (1_000.0..=6_000.0).contains(a)), "{ctx}");
        }
        ("FLW-04", "cycle") => {
            assert!((3..=6).contains(&ix.len()), "{ctx}");
            assert_eq!(rows.s("orig_account", ix[0]), subject, "{ctx}");
            assert_eq!(rows.s("bene_account", ix[ix.len() - 1]), subject, "{ctx}");
            for w in ix.windows(2) {
                assert_eq!(
                    rows.s("bene_account", w[0]),
                    rows.s("orig_account", w[1]),
                    "{ctx}: broken chain"
                );
                let r = rows.amount[w[1]] / rows.amount[w[0]];
                assert!((0.9..=1.1).contains(&r), "{ctx}: hop ratio {r}");
            }
            assert!(rows.amount[ix[ix.len() - 1]] >= 0.8 * rows.amount[ix[0]], "{ctx}");
            assert!(within(ix, 30), "{ctx}");
        }
        ("FLW-06", "scatter-gather") => {
            let mids = distinct(rows, "bene_account", &debits);
            assert!(mids.len() >= 3, "{ctx}");
            let onward: Vec<usize> = ix.iter().copied().filter(|i| !debits.contains(i)).collect();
            assert_eq!(distinct(rows, "bene_account", &onward).len(), 1, "{ctx}: one sink");
            assert!(
                onward.iter().all(|&i| mids.contains(rows.s("orig_account", i))),
                "{ctx}"
            );
            assert!(within(ix, 10), "{ctx}");
        }
        ("FLW-06", "gather-scatter") => {
            assert!(distinct(rows, "orig_account", &credits).len() >= 3, "{ctx}");
            assert!(distinct(rows, "bene_account", &debits).len() >= 3, "{ctx}");
            assert_eq!(credits.len() + debits.len(), ix.len(), "{ctx}");
            assert!(within(ix, 10), "{ctx}");
            assert!(sum(&debits) <= sum(&credits), "{ctx}");
        }
        ("FLW-06", "bipartite") => {
            let from = distinct(rows, "orig_account", ix);
            let to = distinct(rows, "bene_account", ix);
            assert!(from.len() >= 3 && to.len() >= 3, "{ctx}");
            assert!(from.is_disjoint(&to), "{ctx}");
            assert_eq!(
                ix.len(),
                from.len() * to.len(),
                "{ctx}: every sender pays every receiver"
            );
            assert!(from.contains(subject), "{ctx}");
        }
        ("FLW-06", "stack") => {
            let first: Vec<usize> = ix
                .iter()
                .copied()
                .filter(|&i| rows.ts[i] < rows.ts[ix[0]] + 3 * DAY)
                .collect();
            let from = distinct(rows, "orig_account", ix);
            let to = distinct(rows, "bene_account", ix);
            // Three layers: the middle one both receives and pays.
            let middle: BTreeSet<&str> = from.intersection(&to).copied().collect();
            assert_eq!(middle.len(), 3, "{ctx}");
            assert_eq!(ix.len(), 18, "{ctx}");
            assert!(!first.is_empty() && from.contains(subject), "{ctx}");
        }
        ("BEH-01", _) => {
            assert!(sum(&credits) >= 18_000.0, "{ctx}");
            assert!(within(&credits, 30), "{ctx}");
            let history: Vec<f64> = sc
                .support
                .iter()
                .filter(|&&i| rows.s("bene_account", i) == subject)
                .map(|&i| rows.amount[i])
                .collect();
            assert!(!history.is_empty(), "{ctx}");
            assert!(sum(&credits) > 3.0 * median(history), "{ctx}");
        }
        ("BEH-02", _) => {
            assert!(sum(&credits) >= 3_500.0, "{ctx}");
            assert!(within(&credits, 30), "{ctx}");
            for &i in &credits {
                assert!(matches!(rows.s("occupation", i), "student" | "pensioner"), "{ctx}");
                assert_eq!(rows.turnover[i], Some(150.0), "{ctx}");
            }
        }
        ("BEH-03", _) => {
            let first = ix.iter().map(|&i| rows.ts[i]).min().unwrap_or(0);
            let before = sc.support.iter().map(|&i| rows.ts[i]).max().unwrap_or(0);
            assert!(!sc.support.is_empty(), "{ctx}");
            // Dormant for all but the first ten and the last fifteen days of the period.
            let days = (rows.ts[rows.ts.len() - 1] - rows.ts[0]) / DAY;
            assert!(
                first - before >= (days - 30) * DAY,
                "{ctx}: dormant {} days",
                (first - before) / DAY
            );
            assert!(within(ix, 10), "{ctx}");
            assert!(sum(&debits) >= 0.85 * sum(&credits), "{ctx}");
        }
        ("BEH-04", _) => {
            let opened = credits
                .iter()
                .filter_map(|&i| rows.opened[i])
                .min()
                .expect("opening date");
            let first = credits.iter().map(|&i| rows.ts[i]).min().unwrap_or(0);
            assert!(i64::from(opened) * DAY <= first, "{ctx}");
            assert!(first - i64::from(opened) * DAY <= 5 * DAY, "{ctx}");
            assert!(
                sum(&credits) >= 10_000.0 || distinct(rows, "orig_account", &credits).len() >= 20,
                "{ctx}"
            );
            assert!(within(&credits, 30), "{ctx}");
        }
        ("TF-01", _) => {
            let buy = ix[0];
            assert!(matches!(rows.s("mcc", buy), "4511" | "4722"), "{ctx}");
            let got: f64 = sc
                .support
                .iter()
                .filter(|&&i| rows.s("bene_account", i) == subject && rows.ts[buy] - rows.ts[i] <= 30 * DAY)
                .map(|&i| rows.amount[i])
                .sum();
            let out: f64 = ix[1..]
                .iter()
                .filter(|&&i| rows.ts[i] - rows.ts[buy] <= 21 * DAY)
                .map(|&i| rows.amount[i])
                .sum();
            assert!(out >= 0.9 * got, "{ctx}: {out} of {got}");
        }
        ("TF-02", _) => {
            let big = credits[0];
            let salaries: Vec<f64> = sc
                .support
                .iter()
                .filter(|&&i| rows.s("bene_account", i) == subject)
                .map(|&i| rows.amount[i])
                .collect();
            assert!(rows.amount[big] >= 3.0 * median(salaries), "{ctx}");
            let out: Vec<usize> = debits
                .iter()
                .copied()
                .filter(|&i| rows.ts[i] - rows.ts[big] <= 14 * DAY)
                .filter(|&i| rows.s("channel", i) == "cash_out" || abroad(rows, i))
                .collect();
            assert!(sum(&out) >= 0.8 * rows.amount[big], "{ctx}");
        }
        ("TF-03", _) => {
            assert!(credits.len() >= 30, "{ctx}");
            assert!(distinct(rows, "orig_account", &credits).len() >= 20, "{ctx}");
            assert!(within(&credits, 14), "{ctx}");
            assert!(
                median(credits.iter().map(|&i| rows.amount[i]).collect()) < 100.0,
                "{ctx}"
            );
            assert!(credits.iter().all(|&i| rows.s("customer_type", i) == "npo"), "{ctx}");
            let last_in = credits.iter().map(|&i| rows.ts[i]).max().unwrap_or(0);
            assert!(
                debits
                    .iter()
                    .all(|&i| abroad(rows, i) && rows.ts[i] - last_in <= 7 * DAY),
                "{ctx}"
            );
            assert!(sum(&debits) >= 0.7 * sum(&credits), "{ctx}");
        }
        ("HT-01", _) => {
            assert!(credits.len() >= 3, "{ctx}");
            assert!(within(&credits, 30), "{ctx}");
            for &i in &credits {
                let n = rows.s("narrative", i).to_lowercase();
                assert!(n.contains("salary") || n.contains("зарплата"), "{ctx}: {n}");
            }
            let payers = distinct(rows, "orig_account", &credits).len();
            let names = distinct(rows, "narrative", &credits).len();
            assert!(payers >= 3 || names >= 3, "{ctx}");
        }
        ("HT-02", _) => {
            assert!(ix.len() >= 8, "{ctx}");
            assert!(within(ix, 30), "{ctx}");
            assert!(
                ix.iter()
                    .all(|&i| matches!(rows.s("mcc", i), "7011" | "4121" | "7273" | "7297")),
                "{ctx}"
            );
            assert!(distinct(rows, "loc_region", ix).len() >= 3, "{ctx}");
        }
        ("HT-03", _) => {
            assert!(within(ix, 30), "{ctx}");
            let people: BTreeSet<String> = ix
                .iter()
                .map(|&i| {
                    let n = rows.s("narrative", i);
                    n.rsplit(" for ")
                        .next()
                        .unwrap_or(n)
                        .rsplit(" за ")
                        .next()
                        .unwrap_or(n)
                        .to_string()
                })
                .collect();
            assert!(people.len() >= 5, "{ctx}: {people:?}");
            assert!(debits.len() == ix.len(), "{ctx}");
        }
        ("HT-04", _) => {
            let cash: Vec<usize> = credits
                .iter()
                .copied()
                .filter(|&i| rows.s("channel", i) == "cash_in")
                .collect();
            assert!(!cash.is_empty(), "{ctx}");
            for &c in &cash {
                let out: f64 = debits
                    .iter()
                    .filter(|&&d| rows.ts[d] > rows.ts[c] && rows.ts[d] - rows.ts[c] <= 3 * DAY && abroad(rows, d))
                    .map(|&d| rows.amount[d])
                    .sum();
                assert!(out >= 0.8 * rows.amount[c] && out < 0.9 * rows.amount[c], "{ctx}");
            }
        }
        ("DRG-02", _) => {
            let slang = ["клад", "меф", "соль", "klad"];
            assert!(
                ix.iter()
                    .all(|&i| slang.iter().any(|w| rows.s("narrative", i).contains(w))),
                "{ctx}"
            );
            assert!(ix.len() >= 12, "{ctx}");
            assert!(within(ix, 6), "{ctx}");
        }
        ("MUL-01", _) => {
            assert!(ix.len() >= 30, "{ctx}");
            assert!(within(ix, 30), "{ctx}");
            let mut gaps = Vec::new();
            for &c in &credits {
                let next = debits.iter().map(|&d| rows.ts[d]).filter(|&t| t >= rows.ts[c]).min();
                gaps.push(next.map_or(f64::MAX, |t| (t - rows.ts[c]) as f64));
            }
            assert!(median(gaps) < 3_600_000.0, "{ctx}");
            assert!(credits.iter().all(|&i| rows.s("channel", i) == "p2p"), "{ctx}");
            assert!(credits.iter().all(|&i| rows.s("occupation", i) == "student"), "{ctx}");
        }
        ("TBML-01", _) => {
            assert!(ix.len() >= 3, "{ctx}");
            assert!(within(ix, 30), "{ctx}");
            assert_eq!(distinct(rows, "bene_account", ix).len(), 1, "{ctx}");
            assert!(amounts.iter().all(|a| *a == amounts[0] && a % 1_000.0 == 0.0), "{ctx}");
            assert!(
                ix.iter().all(|&i| {
                    let n = rows.s("narrative", i).to_lowercase();
                    n.contains("invoice") || n.contains("контракт")
                }),
                "{ctx}"
            );
        }
        ("TXT-01", _) => {
            let words = ["sham", "шам", "хиджр", "hijrah"];
            assert!(
                ix.iter().all(|&i| {
                    let n = rows.s("narrative", i).to_lowercase();
                    words.iter().any(|w| n.contains(w))
                }),
                "{ctx}"
            );
        }
        ("SAN-01", _) => {
            let written = [
                "Ташматов Рустам",
                "OLIMOV DZHAMSHID",
                "Сайфулло Худойбердиев",
                "ZARAFSHAN MOUNTAIN RELIEF FOUNDATION LTD",
                "Green Crescent General Trading FZE",
            ];
            assert!(
                ix.iter()
                    .all(|&i| written.contains(&rows.s("orig_name", i)) || written.contains(&rows.s("bene_name", i))),
                "{ctx}"
            );
        }
        ("SAN-02", _) => {
            assert!(
                ix.iter().all(|&i| ["orig_country", "bene_country", "loc_country"]
                    .iter()
                    .any(|c| matches!(rows.s(c, i), "SY" | "IR" | "KP"))),
                "{ctx}"
            );
        }
        ("VA-01", "cash-then-crypto") => {
            let cash: Vec<usize> = credits
                .iter()
                .copied()
                .filter(|&i| rows.s("channel", i) == "cash_in")
                .collect();
            assert!(!cash.is_empty(), "{ctx}");
            for &c in &cash {
                let bought: f64 = debits
                    .iter()
                    .filter(|&&d| rows.ts[d] > rows.ts[c] && rows.ts[d] - rows.ts[c] <= DAY)
                    .filter(|&&d| rows.s("channel", d) == "crypto" && rows.s("mcc", d) == "6051")
                    .map(|&d| rows.amount[d])
                    .sum();
                assert!(bought >= 0.5 * rows.amount[c] && bought < rows.amount[c], "{ctx}");
            }
        }
        ("decoy", "charity") => {
            assert!(credits.len() >= 30, "{ctx}");
            assert!(
                debits.iter().all(|&i| !abroad(rows, i)),
                "{ctx}: a real charity spends at home"
            );
        }
        ("decoy", "currency-exchange") => {
            assert!(credits.iter().all(|&i| rows.s("customer_type", i) == "msb"), "{ctx}");
            assert!(
                credits.iter().all(|&i| rows.amount[i] >= 10_000.0),
                "{ctx}: over the threshold, reported"
            );
        }
        ("decoy", "family-remittance") => {
            assert!(credits.len() == ix.len(), "{ctx}");
            assert!(credits.iter().all(|&i| rows.s("channel", i) == "mvts"), "{ctx}");
            assert!(amounts.iter().all(|a| a % 100.0 == 0.0 && *a <= 500.0), "{ctx}");
        }
        _ => return false,
    }
    true
}

#[test]
fn typologies_select_what_is_planted() -> Result<(), SynthError> {
    let data = generate(&SynthConfig {
        typologies: vec!["cycle".into(), "tf-03".into(), "decoy".into()],
        ..config(8)
    })?;
    let patterns: BTreeSet<String> = strs(&data.labels, "pattern").into_iter().flatten().collect();
    let typologies: BTreeSet<String> = strs(&data.labels, "typology").into_iter().flatten().collect();
    assert_eq!(
        typologies,
        ["FLW-04", "TF-03", DECOY]
            .iter()
            .map(|s| s.to_string())
            .collect::<BTreeSet<_>>()
    );
    assert!(
        patterns.contains("cycle") && patterns.contains("charity"),
        "{patterns:?}"
    );
    // FLW-06 selects all four of its patterns.
    let data = generate(&SynthConfig {
        typologies: vec!["FLW-06".into()],
        ..config(8)
    })?;
    let patterns: BTreeSet<String> = strs(&data.labels, "pattern").into_iter().flatten().collect();
    assert_eq!(patterns.len(), 4, "{patterns:?}");
    let bad = generate(&SynthConfig {
        typologies: vec!["FLW-99".into()],
        ..config(8)
    });
    assert!(matches!(bad, Err(SynthError::Config(m)) if m.contains("unknown typology `FLW-99`")));
    Ok(())
}

#[test]
fn profiles_countries_and_rhythm() -> Result<(), SynthError> {
    let cfg = SynthConfig {
        seed: 19,
        transactions: 60_000,
        accounts: 4_000,
        days: 365,
        fraction: 0.01,
        ..SynthConfig::default()
    };
    let data = generate(&cfg)?;
    let rows = Rows::new(&data.transactions);
    let labelled: BTreeSet<String> = strs(&data.labels, "txn_id").into_iter().flatten().collect();
    let start_day = cfg
        .start
        .and_hms_opt(0, 0, 0)
        .map(|d| d.and_utc().timestamp_millis() / DAY)
        .unwrap_or_default();
    let (mut dec, mut jan, mut sunday_cash, mut cash) = (0, 0, 0, 0);
    let mut tj_remittances = BTreeSet::new();
    for i in 0..rows.ts.len() {
        // A customer's profile is on every row that names one.
        let has_customer = !rows.s("customer_type", i).is_empty();
        assert_eq!(rows.opened[i].is_some(), has_customer, "row {i}");
        assert_eq!(rows.turnover[i].is_some(), has_customer, "row {i}");
        if let (Some(o), Some(t)) = (rows.opened[i], rows.turnover[i]) {
            assert!(
                i64::from(o) * DAY <= rows.ts[i],
                "row {i}: opened after the transaction"
            );
            assert!(t > 0.0, "row {i}: turnover {t}");
        }
        if labelled.contains(&rows.txn_id[i]) {
            continue;
        }
        // Background accounts were opened before the period.
        if let Some(o) = rows.opened[i] {
            assert!(
                i64::from(o) < start_day,
                "row {i}: a background account opened in the period"
            );
        }
        let day = (rows.ts[i] / DAY - start_day) as u32;
        let date = cfg.start + chrono::Days::new(u64::from(day));
        if rows.s("channel", i) == "card" {
            match chrono::Datelike::month(&date) {
                12 => dec += 1,
                1 => jan += 1,
                _ => {}
            }
        }
        if rows.s("channel", i) == "cash_in" && rows.s("narrative", i).is_empty() {
            cash += 1;
            if chrono::Datelike::weekday(&date) == chrono::Weekday::Sun {
                sunday_cash += 1;
            }
        }
        if rows.s("channel", i) == "mvts"
            && rows.s("bene_country", i) == "TJ"
            && matches!(rows.s("orig_country", i), "RU" | "KZ")
        {
            tj_remittances.insert(rows.s("orig_country", i).to_string());
        }
    }
    // Tajik households receive migrants' remittances from Russia and Kazakhstan.
    assert_eq!(tj_remittances.len(), 2, "{tj_remittances:?}");
    // Shops are busier in December than in January; branches are closed on Sundays.
    assert!(f64::from(dec) > 1.3 * f64::from(jan), "December {dec}, January {jan}");
    assert!(
        sunday_cash * 100 < cash,
        "{sunday_cash} of {cash} branch deposits on Sundays"
    );
    Ok(())
}
