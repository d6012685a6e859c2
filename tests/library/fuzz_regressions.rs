//! Inputs the fuzz targets (`fuzz/`, docs/fuzzing.md) found a defect with, each checked
//! for what must hold. The inputs are in `tests/data/fuzz/`.

use std::path::Path;

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
