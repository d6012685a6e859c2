//! A run's set-up through `RunSpec` (what the CLI and the Python package build), lists
//! bound from values, cancellation, and frames with typed columns.

use std::path::PathBuf;

use polars::prelude::*;
use redflag::{Cancel, Dataset, Error, IngestOptions, ListSource, RunSpec, ScreenOptions};

fn demo() -> PathBuf {
    PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("../../samples/demo.csv")
}

#[test]
fn a_spec_assembles_the_pack_as_the_flags_do() {
    let spec = RunSpec {
        sets: vec![
            "reporting_threshold=15000".into(),
            "STR-01.near_threshold_ratio=0.8".into(),
        ],
        only: vec!["STR-01".into()],
        ..RunSpec::default()
    };
    let pack = spec.pack().unwrap();
    assert_eq!(pack.rules.len(), 1);
    assert_eq!(pack.params["reporting_threshold"], redflag::ParamValue::Number(15000.0));
    let by_hand = redflag::Pack::builtin()
        .unwrap()
        .with_overrides(
            &[
                "reporting_threshold=15000".parse().unwrap(),
                "STR-01.near_threshold_ratio=0.8".parse().unwrap(),
            ],
            &[],
        )
        .unwrap()
        .only(&["STR-01".to_string()])
        .unwrap();
    assert_eq!(pack.rules[0].params, by_hand.rules[0].params);
    let opts = spec.ingest_options(&pack).unwrap();
    assert_eq!(opts.mapping.unwrap().name, "canonical");
}

#[test]
fn a_preset_and_a_mapping_file_together_are_refused() {
    let spec = RunSpec {
        preset: Some("amlworld".into()),
        mapping: Some("m.yaml".into()),
        ..RunSpec::default()
    };
    let e = spec.mapping().unwrap_err().to_string();
    assert!(e.contains("give one of them"), "{e}");
    let bad = RunSpec {
        sets: vec!["reporting_treshold=1".into()],
        ..RunSpec::default()
    };
    let e = bad.pack().unwrap_err().to_string();
    assert!(e.contains("did you mean `reporting_threshold`"), "{e}");
}

#[test]
fn a_list_bound_from_values_is_a_reference_list() {
    let pack = redflag::Pack::builtin().unwrap();
    let name = pack.lists.keys().next().unwrap().clone();
    let values = vec!["XX".to_string(), " YY ".into(), "XX".into(), "".into()];
    let bound = pack
        .with_bindings(&[], &[(name.clone(), ListSource::Values(values))])
        .unwrap();
    let l = &bound.lists[&name];
    assert_eq!(l.values, ["XX", "YY"]);
    assert_eq!(l.source, "(values)");
    assert_eq!(l.sha256, redflag::sha256_hex(b"XX\nYY\n"));
    // A watch list is read from a file, never from values.
    let e = pack
        .with_bindings(&[], &[("sanctions".into(), ListSource::Values(vec!["A".into()]))])
        .unwrap_err();
    assert!(matches!(e, Error::List { .. }), "{e}");
}

#[test]
fn a_cancelled_run_stops_with_cancelled() {
    let spec = RunSpec::default();
    let pack = spec.pack().unwrap();
    let data = redflag::ingest(&[demo()], &spec.ingest_options(&pack).unwrap()).unwrap();
    let cancel = Cancel::new();
    let options = ScreenOptions {
        threads: Some(2),
        cancel: cancel.clone(),
    };
    // Cancelled as the first rule finishes: the rules not yet started do not run.
    let started = std::sync::atomic::AtomicUsize::new(0);
    let progress = |_: &str, _: usize, _: usize| {
        started.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        cancel.cancel();
    };
    let e = redflag::screen_with(&pack, &data, &options, &progress).unwrap_err();
    assert!(matches!(e, Error::Cancelled), "{e}");
    let ran = started.load(std::sync::atomic::Ordering::SeqCst);
    assert!(ran < pack.rules.len() / 2, "{ran} rules ran");
    // A fresh flag: the whole run.
    let whole = redflag::screen_with(&pack, &data, &ScreenOptions::default(), &|_, _, _| {}).unwrap();
    assert!(!whole.cases.is_empty());
}

#[test]
fn a_float_column_of_whole_numbers_reads_as_integers_where_text_is_expected() {
    let df = DataFrame::new_infer_height(vec![
        Column::new("txn_id".into(), ["t1", "t2", "t3"]),
        Column::new(
            "ts".into(),
            ["2026-03-02 10:00:00", "2026-03-05 15:30:00", "2026-03-06 15:30:00"],
        ),
        Column::new("amount".into(), [9_500.0, 9_800.0, 100.0]),
        Column::new("orig_account".into(), [Some(1001.0), Some(1002.5), None]),
        Column::new("bene_account".into(), ["ACC-1", "ACC-1", "ACC-2"]),
        Column::new("channel".into(), ["cash_in", "cash_in", "card"]),
        Column::new("mcc".into(), [Some(5411.0), None, Some(7995.0)]),
    ])
    .unwrap();
    let data = Dataset::from_frame(df, "frame", &IngestOptions::default()).unwrap();
    let text = |c: &str| -> Vec<Option<String>> {
        let col = data.transactions.column(c).unwrap().cast(&DataType::String).unwrap();
        col.str().unwrap().iter().map(|v| v.map(str::to_string)).collect()
    };
    assert_eq!(text("mcc"), [Some("5411".into()), None, Some("7995".into())]);
    assert_eq!(text("orig_account"), [Some("1001".into()), Some("1002.5".into()), None]);
}
