//! Ingest: formats, presets, mapping files, FX, quarantine and row accounting.

use std::path::{Path, PathBuf};

use polars::prelude::*;
use redflag::{FxTable, IngestOptions, Mapping};

fn write(dir: &Path, name: &str, text: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
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

fn opts(mapping: Option<Mapping>) -> IngestOptions {
    IngestOptions {
        mapping,
        fx: None,
        base_currency: "USD".into(),
        threads: None,
        columns: None,
    }
}

#[test]
fn bad_rows_are_quarantined_with_reasons_and_counted() {
    let d = tempfile::tempdir().unwrap();
    let p = write(
        d.path(),
        "t.csv",
        b"txn_id,ts,amount,orig_account,bene_account\n\
t1,2026-01-01 10:00:00,100,A,B\n\
t2,not a date,100,A,B\n\
t3,2026-01-01 10:00:00,-5,A,B\n\
t4,2026-01-01 10:00:00,,A,B\n\
t5,2026-01-01 10:00:00,12x,A,B\n\
t6,2026-01-01 10:00:00,10,,\n\
t1,2026-01-02 10:00:00,100,A,B\n",
    );
    let ds = redflag::ingest(&[p], &opts(None)).unwrap();
    assert_eq!(ds.inputs[0].rows_read, 7);
    assert_eq!(ds.inputs[0].rows_screened, 1);
    assert_eq!(ds.inputs[0].rows_quarantined, 6);
    assert_eq!(ds.transactions.height(), 1);
    let reasons: Vec<String> = strings(&ds.quarantine, "reason");
    assert_eq!(
        reasons,
        [
            "unparsable date (ts) `not a date`",
            "non-positive amount `-5`",
            "missing amount",
            "unparsable amount `12x`",
            "missing account: both orig_account and bene_account are empty",
            "duplicate txn_id `t1`",
        ]
    );
    let rows: Vec<u32> = ds
        .quarantine
        .column("row")
        .unwrap()
        .u32()
        .unwrap()
        .iter()
        .flatten()
        .collect();
    assert_eq!(rows, [2, 3, 4, 5, 6, 7]);
}

#[test]
fn missing_required_column_names_it_and_lists_the_columns() {
    let d = tempfile::tempdir().unwrap();
    let p = write(
        d.path(),
        "t.csv",
        b"id,when,sum,orig_account,bene_account\n1,2026-01-01,5,A,B\n",
    );
    let e = redflag::ingest(&[p], &opts(None)).unwrap_err().to_string();
    assert!(e.contains("required column `ts` is missing"), "{e}");
    assert!(
        e.contains("the file has: id, when, sum, orig_account, bene_account"),
        "{e}"
    );
}

#[test]
fn amlworld_preset_reads_the_published_layout() {
    let p = PathBuf::from(format!(
        "{}/../../tests/data/amlworld-head.csv",
        std::env::var("CARGO_MANIFEST_DIR").unwrap()
    ));
    let ds = redflag::ingest(&[p], &opts(Some(Mapping::preset("amlworld").unwrap()))).unwrap();
    let read = ds.inputs[0].rows_read;
    assert_eq!(read, 500);
    assert_eq!(ds.rows_screened() + ds.rows_quarantined(), read);
    // Text columns are dictionary-encoded in memory; read them as text.
    let t = &redflag::schema::as_text(ds.transactions.clone()).unwrap();
    // The second `Account` header is the payee's.
    let first_orig = t
        .column("orig_account")
        .unwrap()
        .str()
        .unwrap()
        .get(1)
        .unwrap()
        .to_string();
    let first_bene = t
        .column("bene_account")
        .unwrap()
        .str()
        .unwrap()
        .get(1)
        .unwrap()
        .to_string();
    assert_eq!((first_orig.as_str(), first_bene.as_str()), ("8000F4580", "8000F5340"));
    let chans: Vec<String> = strings(t, "channel");
    assert!(
        chans.iter().all(|c| redflag::schema::CHANNELS.contains(&c.as_str())),
        "{chans:?}"
    );
    assert!(chans.iter().any(|c| c == "internal"));
    assert!(t.schema().contains("label"));
    // Non-USD rows have no rate without --fx: quarantined, never converted at 1.0.
    let q = &ds.quarantine;
    if q.height() > 0 {
        let r = q.column("reason").unwrap().str().unwrap().get(0).unwrap().to_string();
        assert!(r.starts_with("no FX rate for currency"), "{r}");
    }
}

#[test]
fn fx_rates_fill_amount_base_by_date() {
    let d = tempfile::tempdir().unwrap();
    let data = write(
        d.path(),
        "t.csv",
        b"txn_id,ts,amount,currency,orig_account,bene_account\n\
a,2026-01-01 10:00:00,100,EUR,A,B\n\
b,2026-02-01 10:00:00,100,eur,A,B\n\
c,2026-02-01 10:00:00,100,KZT,A,B\n\
d,2026-02-01 10:00:00,100,,A,B\n",
    );
    let fx = write(
        d.path(),
        "fx.csv",
        b"currency,rate_to_base,date\nEUR,1.10,2026-01-01\nEUR,1.20,2026-01-15\n",
    );
    let mut o = opts(None);
    o.fx = Some(FxTable::load(&fx).unwrap());
    let ds = redflag::ingest(&[data], &o).unwrap();
    let base: Vec<f64> = ds
        .transactions
        .column("amount_base")
        .unwrap()
        .f64()
        .unwrap()
        .iter()
        .flatten()
        .collect();
    assert_eq!(base.len(), 3);
    assert!((base[0] - 110.0).abs() < 1e-9 && (base[1] - 120.0).abs() < 1e-9 && (base[2] - 100.0).abs() < 1e-9);
    let r = ds
        .quarantine
        .column("reason")
        .unwrap()
        .str()
        .unwrap()
        .get(0)
        .unwrap()
        .to_string();
    assert!(r.contains("no FX rate for currency `KZT`"), "{r}");
}

#[test]
fn mapping_file_with_windows_1251_decimal_comma_and_credit_marks() {
    let d = tempfile::tempdir().unwrap();
    let text = "Дата;Сумма;Счёт;Корр;Д/К;Назначение\n\
01.03.2026 10:15;1 234,50;40817;40702;Д;оплата\n\
02.03.2026 11:00;9 500,00;40817;;К;взнос наличными\n";
    let (bytes, _, _) = encoding_rs::WINDOWS_1251.encode(text);
    let data = write(d.path(), "st.csv", &bytes);
    let mapping = write(
        d.path(),
        "m.yaml",
        "encoding: windows-1251\ndelimiter: \";\"\ndecimal_comma: true\nthousands_separator: \" \"\ncolumns:\n  ts: { from: \"Дата\", format: \"%d.%m.%Y %H:%M\" }\n  amount: \"Сумма\"\n  orig_account: \"Счёт\"\n  bene_account: \"Корр\"\n  narrative: \"Назначение\"\n  currency: { value: RUB }\ndirection:\n  column: \"Д/К\"\n  credit: [\"К\"]\n"
            .as_bytes(),
    );
    let m = Mapping::load(&mapping).unwrap();
    let mut o = opts(Some(m));
    o.base_currency = "RUB".into();
    let ds = redflag::ingest(&[data], &o).unwrap();
    assert_eq!(ds.rows_quarantined(), 0, "{:?}", ds.quarantine);
    // Text columns are dictionary-encoded in memory; read them as text.
    let t = &redflag::schema::as_text(ds.transactions.clone()).unwrap();
    let amounts: Vec<f64> = t.column("amount").unwrap().f64().unwrap().iter().flatten().collect();
    assert_eq!(amounts, [1234.5, 9500.0]);
    // The credit row: money came into 40817 from an empty (cash) counterparty.
    let orig: Vec<Option<&str>> = t.column("orig_account").unwrap().str().unwrap().iter().collect();
    let bene: Vec<Option<&str>> = t.column("bene_account").unwrap().str().unwrap().iter().collect();
    assert_eq!(orig, [Some("40817"), None]);
    assert_eq!(bene, [Some("40702"), Some("40817")]);
    let narr = t
        .column("narrative")
        .unwrap()
        .str()
        .unwrap()
        .get(1)
        .unwrap()
        .to_string();
    assert_eq!(narr, "взнос наличными");
}

#[test]
fn parquet_and_ndjson_inputs_and_several_files() {
    let d = tempfile::tempdir().unwrap();
    let mut df = df!(
        "txn_id" => ["p1", "p2"],
        "ts" => ["2026-01-01 10:00:00", "2026-01-02 10:00:00"],
        "amount" => [10.0, 20.0],
        "orig_account" => ["A", "B"],
        "bene_account" => ["B", "A"],
    )
    .unwrap();
    let pq = d.path().join("x.parquet");
    ParquetWriter::new(std::fs::File::create(&pq).unwrap())
        .finish(&mut df)
        .unwrap();
    let nd = write(
        d.path(),
        "y.ndjson",
        b"{\"txn_id\":\"n1\",\"ts\":\"2026-01-03T10:00:00\",\"amount\":5,\"orig_account\":\"A\",\"bene_account\":\"C\"}\n",
    );
    let ds = redflag::ingest(&[pq, nd], &opts(None)).unwrap();
    assert_eq!(ds.transactions.height(), 3);
    assert_eq!(ds.inputs.len(), 2);
    assert_eq!(ds.inputs[1].format, redflag::Format::Ndjson);
}

#[test]
fn empty_binary_and_missing_files_are_errors_naming_the_file() {
    let d = tempfile::tempdir().unwrap();
    let empty = write(d.path(), "empty.csv", b"");
    let e = redflag::ingest(&[empty], &opts(None)).unwrap_err().to_string();
    assert!(e.contains("empty.csv") && e.contains("empty"), "{e}");
    let bin = write(d.path(), "bin.csv", &[0u8, 1, 2, 3, 0, 255, 0, 0]);
    let e = redflag::ingest(&[bin], &opts(None)).unwrap_err().to_string();
    assert!(e.contains("bin.csv") && e.contains("binary"), "{e}");
    let e = redflag::ingest(&[d.path().join("nope.csv")], &opts(None))
        .unwrap_err()
        .to_string();
    assert!(e.contains("nope.csv"), "{e}");
}

#[test]
fn ragged_and_unclosed_records_are_quarantined_with_their_line() {
    let d = tempfile::tempdir().unwrap();
    let p = write(
        d.path(),
        "rag.csv",
        b"txn_id,ts,amount,orig_account,bene_account\n\
t1,2026-01-01 10:00:00,100,A,B\n\
t2,2026-01-01 10:00:00,100,A,B,EXTRA\n\
\n\
t3,2026-01-01 10:00:00,100,A\n\
t4,\"2026-01-01 10:00:00\",\"1,5\",A,B\n\
\"t5,2026-01-01 10:00:00,100,A,B\n",
    );
    let ds = redflag::ingest(&[p], &opts(None)).unwrap();
    assert_eq!(ds.inputs[0].rows_read, 5);
    assert_eq!(ds.inputs[0].rows_screened, 1);
    assert_eq!(ds.inputs[0].rows_quarantined, 4);
    let reasons: Vec<String> = strings(&ds.quarantine, "reason");
    assert_eq!(
        reasons,
        [
            "line 3: 6 fields where the header has 5",
            "line 5: 4 fields where the header has 5",
            "unparsable amount `1,5`",
            "line 7: a quoted field is never closed",
        ]
    );
    let rows: Vec<u32> = ds
        .quarantine
        .column("row")
        .unwrap()
        .u32()
        .unwrap()
        .iter()
        .flatten()
        .collect();
    assert_eq!(rows, [2, 3, 4, 5]);
}

#[test]
fn headerless_csv_maps_columns_by_position() {
    let d = tempfile::tempdir().unwrap();
    let data = write(
        d.path(),
        "nh.csv",
        b"2026-01-01 10:00:00|100|A|B\n2026-01-02 10:00:00|200|B|A\n",
    );
    let mapping = write(
        d.path(),
        "m.yaml",
        b"has_header: false\ndelimiter: \"|\"\ncolumns:\n  ts: column_1\n  amount: column_2\n  orig_account: column_3\n  bene_account: column_4\n",
    );
    let ds = redflag::ingest(&[data], &opts(Some(Mapping::load(&mapping).unwrap()))).unwrap();
    assert_eq!(ds.inputs[0].rows_read, 2);
    assert_eq!(ds.rows_screened(), 2);
    let ids: Vec<String> = strings(&ds.transactions, "txn_id");
    assert_eq!(ids, ["1", "2"]);
}

#[test]
fn empty_keys_in_typed_inputs_are_missing() {
    let d = tempfile::tempdir().unwrap();
    let mut df = df!(
        "txn_id" => ["p1", "p2"],
        "ts" => ["2026-01-01 10:00:00", "2026-01-02 10:00:00"],
        "amount" => [10.0, 20.0],
        "orig_account" => ["", "B"],
        "bene_account" => ["A", ""],
        "narrative" => ["", "x"],
    )
    .unwrap();
    let pq = d.path().join("e.parquet");
    ParquetWriter::new(std::fs::File::create(&pq).unwrap())
        .finish(&mut df)
        .unwrap();
    let ds = redflag::ingest(&[pq], &opts(None)).unwrap();
    // Text columns are dictionary-encoded in memory; read them as text.
    let t = &redflag::schema::as_text(ds.transactions.clone()).unwrap();
    assert_eq!(t.column("orig_account").unwrap().null_count(), 1);
    assert_eq!(t.column("bene_account").unwrap().null_count(), 1);
    // Free text keeps what was stored.
    assert_eq!(t.column("narrative").unwrap().null_count(), 0);
}

/// Text columns are dictionary-encoded in memory (all but `txn_id`), and screening the
/// same rows as plain text finds exactly the same cases: the engine's two paths (codes
/// looked up once per distinct value, and text) agree.
#[test]
fn dictionary_encoded_and_plain_text_columns_screen_the_same() {
    let p = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("../../samples/demo.csv");
    let ds = redflag::ingest(&[p], &opts(None)).unwrap();
    for c in ["channel", "orig_account", "bene_country", "narrative", "occupation"] {
        assert!(ds.transactions.column(c).unwrap().dtype().is_categorical(), "{c}");
    }
    assert_eq!(ds.transactions.column("txn_id").unwrap().dtype(), &DataType::String);
    let pack = redflag::Pack::builtin().unwrap();
    let coded = redflag::screen(&pack, &ds).unwrap();
    let mut plain = ds.clone();
    plain.transactions = redflag::schema::as_text(plain.transactions).unwrap();
    assert_eq!(plain.transactions.column("channel").unwrap().dtype(), &DataType::String);
    let text = redflag::screen(&pack, &plain).unwrap();
    assert!(coded.alerts().count() > 100, "the demo raises alerts of many rules");
    assert_eq!(coded.run.alerts_per_rule, text.run.alerts_per_rule);
    assert_eq!(coded.cases, text.cases);
}
