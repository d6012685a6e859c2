//! Reading only the columns a pack reads (`IngestOptions::columns`, `columns_read`): every
//! rule finds on the columns it reads exactly what it finds on all of them.

use std::path::{Path, PathBuf};

use redflag::{columns_read, Dataset, IngestOptions, Mapping, Pack};

fn repo(p: &str) -> PathBuf {
    PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap())
        .join("../..")
        .join(p)
}

fn read(path: &Path, mapping: Mapping, columns: Option<Vec<String>>) -> Dataset {
    let fx = redflag::FxTable::load(repo("samples/fx-amlworld.csv")).unwrap();
    let opts = IngestOptions {
        mapping: Some(mapping),
        fx: Some(fx),
        base_currency: "USD".into(),
        threads: Some(2),
        columns,
    };
    redflag::ingest(&[path.to_path_buf()], &opts).unwrap()
}

/// For each rule of the built-in pack alone: the data read with only the columns that
/// rule reads gives the same cases, alerts and rows as the data read whole, and the same
/// columns count as present.
fn each_rule_alone_agrees(path: &Path, mapping: Mapping) {
    let whole = read(path, mapping.clone(), None);
    assert!(whole.columns_read.is_none());
    let builtin = Pack::builtin().unwrap();
    let mut narrowed_somewhere = false;
    for rule in &builtin.rules {
        let pack = builtin.only(&[rule.id().to_string()]).unwrap();
        let cols = columns_read(&pack);
        narrowed_somewhere |= cols.len() < redflag::schema::CANONICAL.len();
        let part = read(path, mapping.clone(), Some(cols.clone()));
        assert_eq!(part.columns_read.as_ref(), Some(&cols));
        assert_eq!(part.present, whole.present, "{}", rule.id());
        assert_eq!(part.inputs, whole.inputs, "{}", rule.id());
        assert_eq!(part.transactions.height(), whole.transactions.height());
        let a = redflag::screen(&pack, &whole).unwrap();
        let b = redflag::screen(&pack, &part).unwrap();
        assert_eq!(a.cases, b.cases, "{}: cases differ", rule.id());
        assert_eq!(a.run.not_applicable, b.run.not_applicable, "{}", rule.id());
    }
    assert!(narrowed_somewhere, "no rule read fewer columns than all");
}

#[test]
fn every_rule_finds_the_same_on_the_columns_it_reads_csv() {
    each_rule_alone_agrees(&repo("samples/demo.csv"), Mapping::preset("canonical").unwrap());
}

#[test]
fn every_rule_finds_the_same_on_the_columns_it_reads_parquet() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = redflag_synth::SynthConfig {
        seed: 11,
        transactions: 20_000,
        accounts: 1_500,
        days: 120,
        ..redflag_synth::SynthConfig::default()
    };
    let mut synth = redflag_synth::generate(&cfg).unwrap();
    let p = dir.path().join("t.parquet");
    redflag_synth::write(&mut synth.transactions, &p).unwrap();
    each_rule_alone_agrees(&p, Mapping::preset("canonical").unwrap());
}

#[test]
fn every_rule_finds_the_same_on_the_columns_it_reads_through_a_preset() {
    each_rule_alone_agrees(
        &repo("tests/data/amlworld-head.csv"),
        Mapping::preset("amlworld").unwrap(),
    );
}

/// A column left unread is held as nulls but still counts as present; a rule that reads
/// it is refused, by name, rather than run on nulls.
#[test]
fn a_rule_reading_a_column_left_unread_is_refused() {
    let builtin = Pack::builtin().unwrap();
    let str01 = builtin.only(&["STR-01".to_string()]).unwrap();
    let cols = columns_read(&str01);
    assert!(!cols.iter().any(|c| c == "occupation"), "{cols:?}");
    let data = read(
        &repo("samples/demo.csv"),
        Mapping::preset("canonical").unwrap(),
        Some(cols),
    );
    assert!(data.present.iter().any(|c| c == "occupation"));
    let occupation = data.transactions.column("occupation").unwrap();
    assert_eq!(occupation.null_count(), occupation.len());
    // A rule that reads `occupation` (or another column STR-01 does not read).
    let reader = builtin
        .rules
        .iter()
        .find(|r| {
            r.columns
                .iter()
                .any(|c| c == "occupation" || c == "expected_monthly_turnover")
        })
        .expect("a rule of the pack reads a profile column");
    let other = builtin.only(&[reader.id().to_string()]).unwrap();
    let err = redflag::screen(&other, &data).expect_err("a rule on unread columns must not run");
    let msg = err.to_string();
    assert!(msg.contains(reader.id()), "{msg}");
    assert!(msg.contains("read without"), "{msg}");
}
