//! Inputs the fuzz targets (`fuzz/`, docs/fuzzing.md) found a defect with, each checked
//! for what must hold. The inputs are in `tests/data/fuzz/`.

use std::path::Path;

use redflag::watchlist::{EntryKind, ListEntry, Matcher, Party, WatchList};
use redflag::IngestOptions;

/// Where the fuzzer's inputs are kept.
fn input(name: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data/fuzz")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// A Parquet file whose footer has a thrift boolean field with an invalid value: polars'
/// metadata decoder panics on it. The library must return an error that names the file.
#[test]
fn parquet_with_a_corrupt_footer_is_an_error_naming_the_file_not_a_panic() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("corrupt-footer.parquet");
    std::fs::write(&p, input("parquet-corrupt-thrift-bool.parquet")).unwrap();
    let opts = IngestOptions {
        base_currency: "USD".into(),
        ..Default::default()
    };
    let err = redflag::ingest(&[p], &opts).expect_err("a corrupt Parquet file is an error");
    let msg = err.to_string();
    assert!(
        msg.contains("corrupt-footer.parquet"),
        "the error names the file: {msg}"
    );
    assert!(
        msg.contains("cannot read as Parquet"),
        "the error says what failed: {msg}"
    );
}

/// A Parquet file whose page makes polars' Arrow bitmap code fail an assertion while a
/// column is decoded (on a polars worker thread): an error naming the file, not a panic.
#[test]
fn parquet_with_a_corrupt_page_is_an_error_naming_the_file_not_a_panic() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("corrupt-page.parquet");
    std::fs::write(&p, input("parquet-corrupt-page-validity.parquet")).unwrap();
    let opts = IngestOptions {
        base_currency: "USD".into(),
        ..Default::default()
    };
    let err = redflag::ingest(&[p], &opts).expect_err("a corrupt Parquet file is an error");
    let msg = err.to_string();
    assert!(msg.contains("corrupt-page.parquet"), "the error names the file: {msg}");
    assert!(
        msg.contains("cannot read as Parquet"),
        "the error says what failed: {msg}"
    );
}

/// A Parquet file whose column chunk lies past the end of the file: polars slices out of
/// range on a worker thread. An error naming the file, not a panic.
#[test]
fn parquet_with_a_column_chunk_out_of_bounds_is_an_error_naming_the_file_not_a_panic() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("corrupt-chunk.parquet");
    std::fs::write(&p, input("parquet-corrupt-chunk-range.parquet")).unwrap();
    let opts = IngestOptions {
        base_currency: "USD".into(),
        ..Default::default()
    };
    let err = redflag::ingest(&[p], &opts).expect_err("a corrupt Parquet file is an error");
    let msg = err.to_string();
    assert!(msg.contains("corrupt-chunk.parquet"), "the error names the file: {msg}");
    assert!(
        msg.contains("cannot read as Parquet"),
        "the error says what failed: {msg}"
    );
}

/// A Parquet file of six rows whose footer is sound but one of whose data pages claims
/// -7 values: polars-parquet casts the count to `usize` and reserves a validity bitmap of
/// 2^61 bytes for the page; the failed allocation aborts the process, which
/// `catch_unwind` cannot turn into an error. The library must refuse the file before
/// polars decodes it: an error naming the file and the page.
#[test]
fn parquet_with_a_page_claiming_a_huge_size_is_an_error_naming_the_file_not_an_abort() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("corrupt-page-size.parquet");
    std::fs::write(&p, input("parquet-corrupt-page-huge-allocation.parquet")).unwrap();
    let opts = IngestOptions {
        base_currency: "USD".into(),
        ..Default::default()
    };
    let err = redflag::ingest(&[p], &opts).expect_err("a corrupt Parquet file is an error");
    let msg = err.to_string();
    assert!(
        msg.contains("corrupt-page-size.parquet"),
        "the error names the file: {msg}"
    );
    assert!(
        msg.contains("cannot read as Parquet"),
        "the error says what failed: {msg}"
    );
    // Refused for what polars would have aborted on: the data page of `orig_bank` whose
    // header claims -7 values.
    assert!(
        msg.contains("`orig_bank`") && msg.contains("claims -7 for `num_values`"),
        "the error says which page is corrupt and how: {msg}"
    );
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
