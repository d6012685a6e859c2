//! Hostile input, the library's side: rows never lost, no silent misreading. One test a
//! point of the input side of issue 15; `docs/input-safety.md` says what these guard.

use std::path::{Path, PathBuf};

use polars::prelude::*;
use redflag::{IngestOptions, Mapping};

fn write(dir: &Path, name: &str, text: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn repo(p: &str) -> PathBuf {
    PathBuf::from(format!("{}/../../{p}", std::env::var("CARGO_MANIFEST_DIR").unwrap()))
}

fn opts(mapping: Option<Mapping>) -> IngestOptions {
    IngestOptions {
        mapping,
        fx: None,
        base_currency: "USD".into(),
        threads: None,
        columns: None,
    }
}

/// The non-null values of a text column.
fn strings(df: &DataFrame, name: &str) -> Vec<String> {
    df.column(name)
        .unwrap()
        .cast(&DataType::String)
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .flatten()
        .map(String::from)
        .collect()
}

/// The demo dataset with line `line` (1-based, the header is line 1) edited by `edit`.
fn demo_with(line: usize, edit: impl Fn(&str) -> String) -> String {
    let text = std::fs::read_to_string(repo("samples/demo.csv")).unwrap();
    text.lines()
        .enumerate()
        .map(|(i, l)| if i + 1 == line { edit(l) } else { l.to_string() })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// Replaces field `k` (0-based) of a plain CSV line.
fn set_field(line: &str, k: usize, value: &str) -> String {
    let mut f: Vec<&str> = line.split(',').collect();
    f[k] = value;
    f.join(",")
}

/// Point 1: a stray quote inside an unquoted field (`pipe 12" long`) is a character; the
/// row is read and screened, and every other row of the file too.
#[test]
fn stray_quote_in_unquoted_field_loses_no_row() {
    let d = tempfile::tempdir().unwrap();
    let text = demo_with(11, |l| set_field(l, 14, "pipe 12\" long"));
    let p = write(d.path(), "demo.csv", text.as_bytes());
    let ds = redflag::ingest(&[p], &opts(None)).unwrap();
    assert_eq!(ds.inputs[0].rows_read, 4000);
    assert_eq!(ds.inputs[0].rows_screened, 4000, "{:?}", ds.quarantine);
    let t = redflag::schema::as_text(ds.transactions.clone()).unwrap();
    assert!(strings(&t, "narrative").iter().any(|n| n == "pipe 12\" long"));
}

/// Point 1: a quote that opens a field and is never closed, or is closed by a stray quote
/// lines later, costs its own record only, set aside with its line.
#[test]
fn broken_quote_costs_only_its_own_record() {
    let d = tempfile::tempdir().unwrap();
    // Line 11 opens a quote that line 21's stray quote closes; the last line opens one
    // that nothing closes.
    let text: String = demo_with(0, str::to_string)
        .lines()
        .enumerate()
        .map(|(i, l)| match i + 1 {
            11 => set_field(l, 14, "\"opens"),
            21 => set_field(l, 14, "pipe 12\" long"),
            4001 => set_field(l, 14, "\"never"),
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    let p = write(d.path(), "demo.csv", text.as_bytes());
    let ds = redflag::ingest(std::slice::from_ref(&p), &opts(None)).unwrap();
    let s = &ds.inputs[0];
    assert_eq!(s.rows_read, 4000, "{:?}", ds.quarantine);
    assert_eq!(s.rows_quarantined, 2, "{:?}", ds.quarantine);
    assert_eq!(s.rows_screened, 3998);
    let reasons = strings(&ds.quarantine, "reason");
    assert!(
        reasons[0].starts_with("line 11: a quote opened on this line runs on to line 21"),
        "{reasons:?}"
    );
    assert!(
        reasons[1].starts_with("line 4001: a quoted field is never closed"),
        "{reasons:?}"
    );
    let files = strings(&ds.quarantine, "file");
    assert!(files.iter().all(|f| f == &p.display().to_string()));
}

/// The alerts of a screening with the builtin pack, as (rule, account, transactions),
/// leaving out those that touch the given accounts or transaction.
fn alerts_apart_from(ds: &redflag::Dataset, accounts: &[&str], txn: &str) -> Vec<(String, String, Vec<String>)> {
    let pack = redflag::Pack::builtin().unwrap();
    let s = redflag::screen(&pack, ds).unwrap();
    let mut out: Vec<_> = s
        .alerts()
        .filter(|a| {
            !accounts.contains(&a.account.as_str())
                && !a.linked_accounts.iter().any(|l| accounts.contains(&l.as_str()))
                && !a.txn_ids.iter().any(|t| t == txn)
        })
        .map(|a| (a.rule_id.clone(), a.account.clone(), a.txn_ids.clone()))
        .collect();
    out.sort();
    out
}

/// Point 2: `NaN`, `inf`, `1e309` and amounts of 1e15 and more are quarantined with a
/// reason; so is an `amount_base` that is not above 0, not finite, too large, or does not
/// read (it is not recomputed).
#[test]
fn non_finite_and_absurd_amounts_are_quarantined() {
    let d = tempfile::tempdir().unwrap();
    let p = write(
        d.path(),
        "t.csv",
        b"txn_id,ts,amount,amount_base,orig_account,bene_account\n\
t1,2026-01-01 10:00:00,100,,A,B\n\
t2,2026-01-01 10:00:00,NaN,,A,B\n\
t3,2026-01-01 10:00:00,inf,,A,B\n\
t4,2026-01-01 10:00:00,1e309,,A,B\n\
t5,2026-01-01 10:00:00,1e20,,A,B\n\
t6,2026-01-01 10:00:00,1e15,,A,B\n\
t7,2026-01-01 10:00:00,100,-5,A,B\n\
t8,2026-01-01 10:00:00,100,0,A,B\n\
t9,2026-01-01 10:00:00,100,inf,A,B\n\
t10,2026-01-01 10:00:00,100,NaN,A,B\n\
t11,2026-01-01 10:00:00,100,abc,A,B\n\
t12,2026-01-01 10:00:00,100,99.5,A,B\n\
t13,2026-01-01 10:00:00,999999999999999,,A,B\n",
    );
    let ds = redflag::ingest(&[p], &opts(None)).unwrap();
    assert_eq!(ds.inputs[0].rows_read, 13);
    assert_eq!(ds.inputs[0].rows_screened, 3, "{:?}", ds.quarantine);
    assert_eq!(
        strings(&ds.quarantine, "reason"),
        [
            "amount `NaN` is not a finite number below 1e15",
            "amount `inf` is not a finite number below 1e15",
            "amount `1e309` is not a finite number below 1e15",
            "amount `1e20` is not a finite number below 1e15",
            "amount `1e15` is not a finite number below 1e15",
            "amount_base `-5` is not a number above 0 and below 1e15 (given, or amount × the FX rate)",
            "amount_base `0` is not a number above 0 and below 1e15 (given, or amount × the FX rate)",
            "amount_base `inf` is not a number above 0 and below 1e15 (given, or amount × the FX rate)",
            "amount_base `NaN` is not a number above 0 and below 1e15 (given, or amount × the FX rate)",
            "amount_base `abc` is not a number above 0 and below 1e15 (given, or amount × the FX rate)",
        ]
    );
    let t = redflag::schema::as_text(ds.transactions.clone()).unwrap();
    assert_eq!(strings(&t, "txn_id"), ["t1", "t12", "t13"]);
}

/// Point 2: one `NaN` amount in the demo dataset changes no alert on other accounts.
#[test]
fn nan_amount_does_not_blind_rules_on_other_accounts() {
    let d = tempfile::tempdir().unwrap();
    let clean = redflag::ingest(&[repo("samples/demo.csv")], &opts(None)).unwrap();
    let line = std::fs::read_to_string(repo("samples/demo.csv"))
        .unwrap()
        .lines()
        .nth(10)
        .unwrap()
        .to_string();
    let f: Vec<&str> = line.split(',').collect();
    let (txn, orig, bene) = (f[0], f[6], f[7]);
    let text = demo_with(11, |l| set_field(&set_field(l, 2, "NaN"), 4, "NaN"));
    let p = write(d.path(), "demo.csv", text.as_bytes());
    let bad = redflag::ingest(&[p], &opts(None)).unwrap();
    assert_eq!((bad.inputs[0].rows_screened, bad.inputs[0].rows_quarantined), (3999, 1));
    let before = alerts_apart_from(&clean, &[orig, bene], txn);
    let after = alerts_apart_from(&bad, &[orig, bene], txn);
    assert!(before.len() > 150, "{}", before.len());
    assert_eq!(before, after);
}

/// SAN-01's alerts on one payment whose payer is named `name`, with a one-entry list.
fn san01_references(name: &str) -> Vec<String> {
    let list = "name,aliases,birth_date,country,list,reference\n\
                TOKTOSUNOV ZHANYBEK ERKINBEKOVICH,,,,Test,T-01\n";
    let wl = redflag::watchlist::WatchList::parse(list.as_bytes(), Path::new("list.csv")).unwrap();
    let pack = redflag::Pack::builtin()
        .unwrap()
        .only(&["SAN-01".to_string()])
        .unwrap()
        .with_watch_list("sanctions", wl);
    let df = DataFrame::new_infer_height(vec![
        Column::new("txn_id".into(), ["t1"]),
        Column::new("ts".into(), ["2026-05-01 10:00:00"]),
        Column::new("amount".into(), [700.0]),
        Column::new("orig_account".into(), ["PAYER"]),
        Column::new("bene_account".into(), ["PAYEE"]),
        Column::new("orig_name".into(), [name]),
        Column::new("bene_name".into(), ["Asel Bekova"]),
        Column::new("channel".into(), ["wire"]),
    ])
    .unwrap();
    let data = redflag::Dataset::from_frame(df, "api", &IngestOptions::default()).unwrap();
    let result = redflag::screen(&pack, &data).unwrap();
    result
        .alerts()
        .filter(|a| a.rule_id == "SAN-01")
        .map(|a| a.measures["reference"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Point 4: an invisible character inside a listed name still matches SAN-01.
macro_rules! san01_sees_through {
    ($($test:ident: $c:literal,)*) => {$(
        #[test]
        fn $test() {
            let name = format!("Toktosu{c}nov Zhany{c}bek Erkin{c}bekovich", c = $c);
            assert_eq!(san01_references(&name), ["T-01"], "{name:?}");
        }
    )*};
}

san01_sees_through! {
    san01_matches_through_zero_width_space: '\u{200B}',
    san01_matches_through_zero_width_non_joiner: '\u{200C}',
    san01_matches_through_zero_width_joiner: '\u{200D}',
    san01_matches_through_soft_hyphen: '\u{00AD}',
    san01_matches_through_word_joiner: '\u{2060}',
    san01_matches_through_byte_order_mark: '\u{FEFF}',
    san01_matches_through_mongolian_vowel_separator: '\u{180E}',
    san01_matches_through_combining_grapheme_joiner: '\u{034F}',
    san01_matches_through_arabic_letter_mark: '\u{061C}',
    san01_matches_through_variation_selector: '\u{FE0F}',
    san01_matches_through_tag_character: '\u{E0041}',
}

/// The `ts` of each row screened, as text.
fn times(ds: &redflag::Dataset) -> Vec<String> {
    let t = redflag::schema::as_text(ds.transactions.clone()).unwrap();
    strings(&t, "ts")
}

/// Point 12: a Parquet `ts` of whole numbers is read in the unit its size tells
/// (seconds, milliseconds, microseconds or nanoseconds since 1970), or in the unit a
/// mapping declares; a timestamp type is read in its own unit.
#[test]
fn parquet_epoch_seconds_are_not_read_as_milliseconds() {
    let d = tempfile::tempdir().unwrap();
    let secs: i64 = 1_767_261_600; // 2026-01-01 10:00:00 UTC
    let ts = [secs, secs * 1000, secs * 1_000_000, secs * 1_000_000_000];
    let mut df = df!(
        "txn_id" => ["s", "ms", "us", "ns"],
        "ts" => ts,
        "amount" => [1.0, 2.0, 3.0, 4.0],
        "orig_account" => ["A", "A", "A", "A"],
        "bene_account" => ["B", "B", "B", "B"],
    )
    .unwrap();
    let p = d.path().join("epoch.parquet");
    ParquetWriter::new(std::fs::File::create(&p).unwrap())
        .finish(&mut df)
        .unwrap();
    let ds = redflag::ingest(std::slice::from_ref(&p), &opts(None)).unwrap();
    assert_eq!(ds.rows_screened(), 4);
    for t in times(&ds) {
        assert!(t.starts_with("2026-01-01 10:00:00"), "{t}");
    }
    // A mapping that declares the unit is followed.
    let m = Mapping::parse("columns:\n  ts:\n    from: ts\n    unit: ms\n", Path::new("m.yaml")).unwrap();
    let mut df = df!(
        "txn_id" => ["a"], "ts" => [secs * 1000], "amount" => [1.0], "orig_account" => ["A"], "bene_account" => ["B"],
    )
    .unwrap();
    ParquetWriter::new(std::fs::File::create(&p).unwrap())
        .finish(&mut df)
        .unwrap();
    let ds = redflag::ingest(std::slice::from_ref(&p), &opts(Some(m))).unwrap();
    assert!(times(&ds)[0].starts_with("2026-01-01 10:00:00"), "{:?}", times(&ds));
    // A timestamp type keeps its own unit.
    let stamp = Series::new("ts".into(), [secs * 1_000_000])
        .cast(&DataType::Datetime(TimeUnit::Microseconds, None))
        .unwrap();
    let mut df = df!(
        "txn_id" => ["a"], "amount" => [1.0], "orig_account" => ["A"], "bene_account" => ["B"],
    )
    .unwrap();
    df.with_column(stamp.into_column()).unwrap();
    ParquetWriter::new(std::fs::File::create(&p).unwrap())
        .finish(&mut df)
        .unwrap();
    let ds = redflag::ingest(std::slice::from_ref(&p), &opts(None)).unwrap();
    assert!(times(&ds)[0].starts_with("2026-01-01 10:00:00"), "{:?}", times(&ds));
    let bad = Mapping::parse(
        "columns:\n  ts:\n    from: ts\n    unit: minutes\n",
        Path::new("m.yaml"),
    )
    .unwrap_err();
    assert!(bad.to_string().contains("m.yaml"), "{bad}");
}

/// Point 15: two rates for one currency and date (or both undated) are an error naming
/// the file and both lines, not a silent choice.
#[test]
fn duplicate_fx_rates_are_an_error_naming_both_lines() {
    let d = tempfile::tempdir().unwrap();
    let p = write(
        d.path(),
        "fx.csv",
        b"currency,rate_to_base\nEUR,1.1\nGBP,1.3\neur,1.2\n",
    );
    let e = redflag::FxTable::load(&p).unwrap_err().to_string();
    assert!(e.contains("fx.csv: line 4:"), "{e}");
    assert!(
        e.contains("a second rate for EUR with no date; line 2 gives one too"),
        "{e}"
    );
    let p = write(
        d.path(),
        "fx-dated.csv",
        b"currency,rate_to_base,date\nEUR,1.1,2026-01-01\nEUR,1.2,2026-01-02\nEUR,1.3,2026-01-01\n",
    );
    let e = redflag::FxTable::load(&p).unwrap_err().to_string();
    assert!(
        e.contains("fx-dated.csv: line 4: a second rate for EUR dated 2026-01-01; line 2"),
        "{e}"
    );
    let ok = write(
        d.path(),
        "fx-ok.csv",
        b"currency,rate_to_base,date\nEUR,1.1,2026-01-01\nEUR,1.2,\nEUR,1.3,2026-01-02\n",
    );
    assert!(redflag::FxTable::load(&ok).is_ok());
}

/// Point 16: a mapping whose thousands separator is its decimal separator is an error at
/// load, naming the file, the line and the field.
#[test]
fn thousands_separator_equal_to_decimal_separator_is_refused() {
    let d = tempfile::tempdir().unwrap();
    for text in [
        "name: bank\ndecimal_comma: true\nthousands_separator: \",\"\n",
        "name: bank\nthousands_separator: \".\"\n",
        "name: bank\nthousands_separator: \"\"\n",
    ] {
        let p = write(d.path(), "bank.yaml", text.as_bytes());
        let e = Mapping::load(&p).unwrap_err().to_string();
        let line = if text.contains("decimal_comma") { 3 } else { 2 };
        assert!(e.contains(&format!("bank.yaml:{line}")), "{e}");
        assert!(e.contains("`thousands_separator`"), "{e}");
    }
    let p = write(
        d.path(),
        "ok.yaml",
        b"decimal_comma: true\nthousands_separator: \".\"\n",
    );
    assert!(Mapping::load(&p).is_ok());
}
