//! Inputs the fuzz targets (`fuzz/`, docs/fuzzing.md) found a defect with, each checked
//! for what must hold. The inputs are in `tests/data/fuzz/`.

use std::path::Path;

use polars::prelude::*;
use redflag::watchlist::{EntryKind, ListEntry, Matcher, Party, WatchList};
use redflag::IngestOptions;

/// Where the fuzzer's inputs are kept.
fn input(name: &str) -> Vec<u8> {
    let p = Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap())
        .join("../../tests/data/fuzz")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Ingests the fuzz input `name`, saved as `saved_as`: the error it must give names the
/// file and says it cannot be read as Parquet. Returns the message.
fn corrupt_parquet_error(name: &str, saved_as: &str) -> String {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join(saved_as);
    std::fs::write(&p, input(name)).unwrap();
    let opts = IngestOptions {
        base_currency: "USD".into(),
        ..Default::default()
    };
    let err = redflag::ingest(&[p], &opts).expect_err("a corrupt Parquet file is an error");
    let msg = err.to_string();
    assert!(msg.contains(saved_as), "the error names the file: {msg}");
    assert!(
        msg.contains("cannot read as Parquet"),
        "the error says what failed: {msg}"
    );
    msg
}

/// A Parquet file whose footer has a thrift boolean field with an invalid value: polars'
/// metadata decoder panics on it. The library must return an error that names the file.
#[test]
fn parquet_with_a_corrupt_footer_is_an_error_naming_the_file_not_a_panic() {
    corrupt_parquet_error("parquet-corrupt-thrift-bool.parquet", "corrupt-footer.parquet");
}

/// A Parquet file whose page makes polars' Arrow bitmap code fail an assertion while a
/// column is decoded (on a polars worker thread): an error naming the file, not a panic.
#[test]
fn parquet_with_a_corrupt_page_is_an_error_naming_the_file_not_a_panic() {
    corrupt_parquet_error("parquet-corrupt-page-validity.parquet", "corrupt-page.parquet");
}

/// A Parquet file whose column chunk lies past the end of the file: polars slices out of
/// range on a worker thread. An error naming the file, not a panic.
#[test]
fn parquet_with_a_column_chunk_out_of_bounds_is_an_error_naming_the_file_not_a_panic() {
    corrupt_parquet_error("parquet-corrupt-chunk-range.parquet", "corrupt-chunk.parquet");
}

/// A Parquet file of six rows whose footer is sound but one of whose data pages claims
/// -7 values: polars-parquet casts the count to `usize` and reserves a validity bitmap of
/// 2^61 bytes for the page; the failed allocation aborts the process, which
/// `catch_unwind` cannot turn into an error. The library must refuse the file before
/// polars decodes it: an error naming the file and the page.
#[test]
fn parquet_with_a_page_claiming_a_huge_size_is_an_error_naming_the_file_not_an_abort() {
    let msg = corrupt_parquet_error(
        "parquet-corrupt-page-huge-allocation.parquet",
        "corrupt-page-size.parquet",
    );
    // Refused for what polars would have aborted on: the data page of `orig_bank` whose
    // header claims -7 values.
    assert!(
        msg.contains("`orig_bank`") && msg.contains("claims -7 for `num_values`"),
        "the error says which page is corrupt and how: {msg}"
    );
}

/// The non-null values of a column, as text.
fn texts(df: &DataFrame, name: &str) -> Vec<String> {
    let c = df.column(name).unwrap().cast(&DataType::String).unwrap();
    c.str().unwrap().iter().flatten().map(String::from).collect()
}

/// The Parquet file `p` ingested: four rows read, each screened or quarantined.
fn ingest_four_rows(p: std::path::PathBuf) -> redflag::Dataset {
    let opts = IngestOptions {
        base_currency: "USD".into(),
        ..Default::default()
    };
    let ds = redflag::ingest(&[p], &opts).expect("the file ingests");
    let s = &ds.inputs[0];
    assert_eq!(s.rows_read, 4);
    assert_eq!(s.rows_read, s.rows_screened + s.rows_quarantined);
    ds
}

/// The `ingest_parquet` target's finding: a Parquet file whose `ts` (a timestamp in
/// milliseconds) holds 34,058,880,757,634,160 in its third row, a time about a million
/// years on, past any date chrono can hold: polars panicked on a worker thread when the
/// ingest turned it into text. The row is quarantined as a missing date.
#[test]
fn parquet_with_a_timestamp_past_any_date_is_quarantined_not_a_panic() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("far-time.parquet");
    std::fs::write(&p, input("parquet-timestamp-out-of-range.parquet")).unwrap();
    let ds = ingest_four_rows(p);
    // The fuzzer's file lost its transaction ids too: the third row is the one whose
    // date is gone.
    assert_eq!(
        texts(&ds.quarantine, "reason"),
        [
            "missing txn_id",
            "missing txn_id",
            "missing date (ts)",
            "missing txn_id"
        ]
    );
}

/// Timestamps in milliseconds and microseconds, dates and times of day that no date or
/// time can hold, in a Parquet file's typed columns (`ts`, `txn_id`, `opened` and an
/// extra column): each is read as no value, never a panic, and the rows still add up.
#[test]
fn parquet_time_values_past_any_date_are_read_as_no_value() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("times.parquet");
    let ok_ms = 1_767_261_600_000i64; // 2026-01-01 10:00:00 UTC
    let typed =
        |name: &str, v: Vec<i64>, dtype: DataType| Series::new(name.into(), v).cast(&dtype).unwrap().into_column();
    let mut df = df!(
        "amount" => [1.0, 2.0, 3.0, 4.0],
        "orig_account" => ["A", "A", "A", "A"],
        "bene_account" => ["B", "B", "B", "B"],
    )
    .unwrap();
    let ms = DataType::Datetime(TimeUnit::Milliseconds, None);
    let us = DataType::Datetime(TimeUnit::Microseconds, None);
    df.with_column(typed("ts", vec![ok_ms, i64::MAX, i64::MIN, ok_ms + 1], ms))
        .unwrap();
    df.with_column(typed("txn_id", vec![ok_ms * 1000, 1, 2, i64::MAX], us))
        .unwrap();
    let days = Series::new("opened".into(), [i32::MAX, 1, 20_000, i32::MIN])
        .cast(&DataType::Date)
        .unwrap();
    df.with_column(days.into_column()).unwrap();
    df.with_column(typed(
        "at",
        vec![-1, 0, 86_400_000_000_000, 3_600_000_000_000],
        DataType::Time,
    ))
    .unwrap();
    ParquetWriter::new(std::fs::File::create(&p).unwrap())
        .finish(&mut df)
        .unwrap();
    let ds = ingest_four_rows(p);
    let s = &ds.inputs[0];
    // Rows 2 and 3: no date; row 4: no transaction id; row 1, whose date of opening and
    // time of day are past any, is screened without them.
    assert_eq!(
        texts(&ds.quarantine, "reason"),
        ["missing date (ts)", "missing date (ts)", "missing txn_id"]
    );
    assert_eq!(s.rows_screened, 1);
    let t = redflag::schema::as_text(ds.transactions.clone()).unwrap();
    assert_eq!(texts(&t, "ts").len(), 1);
    assert!(texts(&t, "ts")[0].starts_with("2026-01-01 10:00:00"), "{t:?}");
    assert!(texts(&t, "opened").is_empty(), "{t:?}");
}

/// A list of one person, `name`.
fn one_person(name: &str) -> WatchList {
    WatchList {
        entries: vec![ListEntry {
            list: "fuzz".into(),
            reference: "F-1".into(),
            kind: EntryKind::Person,
            name: name.to_string(),
            aliases: Vec::new(),
            birth_dates: Vec::new(),
            countries: Vec::new(),
            source: "fuzz:1".into(),
        }],
        files: Vec::new(),
    }
}

/// The `name_normaliser` target's finding: a name of 20 weighted tokens, most of them
/// repeated (`an6 ba hd` three times over, with control characters between), put on a
/// list and screened as it is listed. The matcher's early bound counted the best pairs
/// of the first 16 tokens only, over the weight of all 20, and turned the name away.
#[test]
fn a_listed_name_of_many_repeated_tokens_is_found_by_itself() {
    let bytes = input("name-many-repeated-tokens.txt");
    let name = std::str::from_utf8(&bytes).expect("the input is UTF-8");
    let parsed = redflag::watchlist::Name::parse(name);
    assert!(
        parsed.weighted_tokens().count() > 16,
        "the input still has the length that found the defect: {:?}",
        parsed.tokens
    );
    let m = Matcher::new(&one_person(name), 80.0);
    let found = m.screen(&Party::new(name));
    assert_eq!(found.len(), 1, "the listed name is found by itself: {name:?}");
    assert_eq!(found[0].entry, 0);
    assert!(found[0].name_score >= 99.0, "{}", found[0].explain());
    assert!(found[0].unmatched_party.is_empty() && found[0].unmatched_listed.is_empty());
}

/// The `watchlist_csv` target's finding: a quoted name running over two lines of a plain
/// watch-list CSV (`TRADING`, `LLC`, Cyrillic, guillemets: more than 16 weighted
/// tokens), screened as it is listed, as the same kind, is found.
#[test]
fn a_long_listed_name_over_two_lines_is_found_by_itself() {
    let mut bytes = b"name,aliases,birth_date,country,list,reference\n".to_vec();
    bytes.extend(input("watchlist-long-name-over-two-lines.csv"));
    let list = WatchList::parse(&bytes, Path::new("watchlist.csv")).expect("the list loads");
    let long = &list.entries[0];
    assert!(long.name.contains('\n'), "{:?}", long.name);
    let tokens = redflag::watchlist::Name::parse(&long.name).weighted_tokens().count();
    assert!(
        tokens > 16,
        "the input still has the length that found the defect: {tokens}"
    );
    let m = Matcher::new(&list, 80.0);
    let party = Party::new(&long.name).organisation(long.kind == EntryKind::Organisation);
    let found = m.screen(&party);
    assert!(
        found.iter().any(|h| h.entry == 0),
        "`{}` is not found by its own name: {found:?}",
        long.name
    );
}
