use std::collections::{BTreeMap, BTreeSet, HashMap};

use polars::prelude::*;
use redflag_synth::{generate, write, SynthConfig, SynthError, Synthetic, DECOY, PLANTED_TYPOLOGIES};

const DAY: i64 = 86_400_000;
const CANONICAL: [&str; 21] = [
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
    cols: HashMap<&'static str, Vec<Option<String>>>,
}

impl Rows {
    fn new(df: &DataFrame) -> Rows {
        let ts = df.column("ts").expect("ts").datetime().expect("datetime");
        let amount = df.column("amount").expect("amount").f64().expect("f64");
        let mut cols = HashMap::new();
        for name in CANONICAL {
            if !matches!(name, "ts" | "amount" | "amount_base") {
                cols.insert(name, strs(df, name));
            }
        }
        Rows {
            txn_id: strs(df, "txn_id").into_iter().map(Option::unwrap_or_default).collect(),
            ts: ts.physical().iter().map(|v| v.expect("no null ts")).collect(),
            amount: amount.iter().map(|v| v.expect("no null amount")).collect(),
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

/// Core transactions of each planted scheme: (typology, subject account,
/// row indices).
fn schemes(data: &Synthetic, rows: &Rows) -> BTreeMap<String, (String, String, Vec<usize>)> {
    let by_id: HashMap<&str, usize> = rows.txn_id.iter().enumerate().map(|(i, t)| (t.as_str(), i)).collect();
    let l = &data.labels;
    let (txn, sid, typ, acct, role) = (
        strs(l, "txn_id"),
        strs(l, "scheme_id"),
        strs(l, "typology"),
        strs(l, "account"),
        strs(l, "role"),
    );
    let mut out: BTreeMap<String, (String, String, Vec<usize>)> = BTreeMap::new();
    for i in 0..l.height() {
        let t = txn[i].as_deref().expect("txn_id");
        let row = *by_id.get(t).expect("labelled txn exists");
        let e = out.entry(sid[i].clone().expect("scheme_id")).or_insert_with(|| {
            (
                typ[i].clone().expect("typology"),
                acct[i].clone().expect("account"),
                Vec::new(),
            )
        });
        if role[i].as_deref() == Some("core") {
            e.2.push(row);
        }
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
    // Each scheme has a single subject account.
    let rows = Rows::new(&data.transactions);
    for (sid, (_, account, core)) in schemes(&data, &rows) {
        assert!(!core.is_empty(), "{sid} has no core transactions");
        assert!(!account.is_empty());
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
        transactions: 3_000,
        accounts: 100,
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
    for (sid, (typ, subject, ix)) in schemes(data, &rows) {
        seen.insert(typ.clone());
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
