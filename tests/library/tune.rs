//! Score weights: the weights file's checks, the score and ranking with weights through
//! `RunSpec`, and `tune` on the demo data (the split by scheme, determinism).

use std::collections::BTreeSet;
use std::path::PathBuf;

use redflag::evaluate::{case_outcomes, Labels};
use redflag::tune::{split, tune, weights_yaml, MeasureFeatures, Part, TuneOptions};
use redflag::{Error, Pack, RunSpec};

fn sample(name: &str) -> PathBuf {
    PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap())
        .join("../../samples")
        .join(name)
}

fn weights_file(dir: &tempfile::TempDir, text: &str) -> PathBuf {
    let p = dir.path().join("weights.yaml");
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn a_weights_file_names_each_problem_with_its_line_and_rule() {
    let dir = tempfile::tempdir().unwrap();
    let text =
        "# comment\ndefault: 1\nrules:\n  FLW-02: 0.5\n  FLW-02X: 2\n  BEH-02: -1\n  TF-02: .nan\n  DRG-02: high\n";
    let path = weights_file(&dir, text);
    let err = Pack::builtin().unwrap().with_weights(&path).unwrap_err();
    let Error::Weights { file, problems } = &err else {
        panic!("not a weights error: {err}");
    };
    assert_eq!(file, &path);
    let got: Vec<(usize, Option<&str>)> = problems
        .iter()
        .map(|p| (p.location.line, p.rule_id.as_deref()))
        .collect();
    // The map is read in id order: BEH-02, DRG-02, FLW-02X, TF-02.
    assert_eq!(
        got,
        vec![
            (6, Some("BEH-02")),
            (8, Some("DRG-02")),
            (5, Some("FLW-02X")),
            (7, Some("TF-02"))
        ]
    );
    let text = err.to_string();
    assert!(text.contains("weights.yaml:5: rule FLW-02X"), "{text}");
    assert!(text.contains("did you mean `FLW-02`?"), "{text}");
    assert!(text.contains("negative"), "{text}");
    assert!(text.contains("not a finite number"), "{text}");
    assert!(text.contains("is a number"), "{text}");
    // An unknown field, with the closest one; a negative default.
    let path = weights_file(&dir, "rule:\n  FLW-02: 1\n");
    let err = Pack::builtin().unwrap().with_weights(&path).unwrap_err().to_string();
    assert!(err.contains("weights.yaml:1") && err.contains("`rules`"), "{err}");
    let path = weights_file(&dir, "default: -2\n");
    let err = Pack::builtin().unwrap().with_weights(&path).unwrap_err().to_string();
    assert!(err.contains("weights.yaml:1") && err.contains("`default`"), "{err}");
    // A good file: ids by alias or case are stored as the rule's id.
    let path = weights_file(&dir, "rules:\n  flw-02: 0.25\n");
    let pack = Pack::builtin().unwrap().with_weights(&path).unwrap();
    let w = pack.weights.as_ref().unwrap();
    assert_eq!(w.weight("FLW-02"), 0.25);
    assert_eq!(w.weight("STR-01"), 1.0);
    assert_eq!(w.sha256.len(), 64);
    // Measures: a rule and one of its measures, each problem on its line.
    let text = "measures:\n  FLW-06.lone_pairs: 2\n  FLW-06.lone_pair: 1\n  FLW-6.lone_pairs: 1\n  lone_pairs: 1\n  FLW-04.share: -1\n";
    let err = Pack::builtin()
        .unwrap()
        .with_weights(weights_file(&dir, text))
        .unwrap_err()
        .to_string();
    for want in [
        "weights.yaml:3: rule FLW-06",
        "no measure `lone_pair`; did you mean `lone_pairs`?",
        "weights.yaml:4: rule FLW-6",
        "did you mean `FLW-06`?",
        "weights.yaml:5",
        "such as `FLW-06.lone_pairs`",
        "weights.yaml:6: rule FLW-04",
        "negative",
    ] {
        assert!(err.contains(want), "missing {want:?} in:\n{err}");
    }
    let path = weights_file(&dir, "measures:\n  flw-06.lone_pairs: 2.5\n");
    let pack = Pack::builtin().unwrap().with_weights(&path).unwrap();
    let w = pack.weights.as_ref().unwrap();
    assert_eq!(w.measures["FLW-06"]["lone_pairs"], 2.5);
    assert_eq!(w.weight("FLW-06"), 1.0);
}

/// A measure's weight adds weight × the rule's part × ln(1 + the measure's highest value
/// among the rule's alerts in the case), shown in the case's score parts and reports.
#[test]
fn measure_weights_add_their_terms_and_explain_them() {
    let plain = screen_demo(&RunSpec::default());
    // The first case with a rule whose alerts hold a number over 0 in a measure.
    let (case, rule, measure) = plain
        .iter()
        .find_map(|c| {
            c.alerts.iter().find_map(|a| {
                a.measures
                    .iter()
                    .find(|(_, v)| v.as_f64().is_some_and(|x| x > 0.0))
                    .map(|(m, _)| (c, a.rule_id.clone(), m.clone()))
            })
        })
        .expect("a case with a measure over 0");
    let highest = case
        .alerts
        .iter()
        .filter(|a| a.rule_id == rule)
        .filter_map(|a| a.measures.get(&measure).and_then(|v| v.as_f64()))
        .fold(f64::MIN, f64::max);
    let dir = tempfile::tempdir().unwrap();
    let spec = RunSpec {
        weights: Some(weights_file(&dir, &format!("measures:\n  {rule}.{measure}: 2\n"))),
        ..RunSpec::default()
    };
    let weighted = screen_demo(&spec);
    let again = weighted.iter().find(|c| c.case_id == case.case_id).unwrap();
    let part = again.score_parts.iter().find(|p| p.rule_id == rule).unwrap();
    let base: f64 = redflag::base_parts(&case.alerts)[&rule];
    let term = 2.0 * base * highest.ln_1p();
    assert_eq!(part.measures.len(), 1);
    assert_eq!(part.measures[0].measure, measure);
    assert!((part.measures[0].contribution - term).abs() < 0.006, "{part:?} {term}");
    assert!((part.contribution - (base + term)).abs() < 0.006, "{part:?}");
    assert!(again.score > case.score);
    // The other rules' parts carry no measure; the total is the sum of the parts.
    assert!(again
        .score_parts
        .iter()
        .filter(|p| p.rule_id != rule)
        .all(|p| p.measures.is_empty()));
    let sum: f64 = again.score_parts.iter().map(|p| p.contribution).sum();
    assert!((sum - again.score).abs() < 0.01 * again.score_parts.len() as f64 + 1e-9);
}

/// Screens the demo data with a spec.
fn screen_demo(spec: &RunSpec) -> Vec<redflag::Case> {
    let pack = spec.pack().unwrap();
    let opts = spec.ingest_options(&pack).unwrap();
    let data = redflag::ingest(&[sample("demo.csv")], &opts).unwrap();
    redflag::screen(&pack, &data).unwrap().cases
}

#[test]
fn weights_reorder_the_cases_and_explain_the_score() {
    let plain = screen_demo(&RunSpec::default());
    assert!(plain.len() > 5);
    assert!(plain.iter().all(|c| c.score_parts.is_empty()));
    // A rule of the lowest case that the top case lacks, weighed up; every other rule of
    // the run weighed out.
    let last = plain.last().unwrap();
    let top_rules: BTreeSet<&String> = plain[0].rule_ids.iter().collect();
    let lifted = last
        .rule_ids
        .iter()
        .find(|r| !top_rules.contains(r))
        .expect("the lowest case has a rule the top case lacks")
        .clone();
    let fired: BTreeSet<&String> = plain.iter().flat_map(|c| &c.rule_ids).collect();
    let mut text = format!("default: 0\nrules:\n  {lifted}: 100\n");
    for r in fired.iter().filter(|r| ***r != lifted) {
        text.push_str(&format!("  {r}: 0\n"));
    }
    let dir = tempfile::tempdir().unwrap();
    let spec = RunSpec {
        weights: Some(weights_file(&dir, &text)),
        ..RunSpec::default()
    };
    let weighted = screen_demo(&spec);
    assert_eq!(weighted.len(), plain.len());
    assert!(weighted[0].rule_ids.contains(&lifted), "{:?}", weighted[0].rule_ids);
    for c in &weighted {
        let sum: f64 = c.score_parts.iter().map(|p| p.contribution).sum();
        assert!((sum - c.score).abs() < 0.01 * c.score_parts.len() as f64 + 1e-9);
        let lifted_part = c.score_parts.iter().find(|p| p.rule_id == lifted);
        assert_eq!(c.score > 0.0, lifted_part.is_some(), "{}", c.case_id);
    }
    // Weights of 1 leave every score and rank as it was.
    let spec = RunSpec {
        weights: Some(weights_file(&dir, "default: 1\n")),
        ..RunSpec::default()
    };
    let ones = screen_demo(&spec);
    let key =
        |cs: &[redflag::Case]| -> Vec<(String, f64)> { cs.iter().map(|c| (c.case_id.clone(), c.score)).collect() };
    assert_eq!(key(&ones), key(&plain));
}

#[test]
fn tune_on_the_demo_splits_by_scheme_and_is_deterministic() {
    let pack = Pack::builtin().unwrap();
    let spec = RunSpec::default();
    let data = redflag::ingest(&[sample("demo.csv")], &spec.ingest_options(&pack).unwrap()).unwrap();
    let labels = Labels::load(sample("demo-labels.csv")).unwrap();
    let opts = TuneOptions {
        test_share: 0.5,
        ..TuneOptions::default()
    };
    let a = tune(&pack, &data, &labels, &opts).unwrap();
    let b = tune(&pack, &data, &labels, &opts).unwrap();
    assert_eq!(weights_yaml(&a), weights_yaml(&b));
    assert!(a.tune_cases > 0 && a.test_cases > 0, "{a:?}");
    assert_eq!(a.after.cases, a.test_cases);
    assert!(a.rules.iter().all(|r| r.weight.is_finite() && r.weight >= 0.0));
    // The split of the cases the run builds: no scheme in both parts.
    let cases = redflag::screen(&pack, &data).unwrap().cases;
    let outcomes = case_outcomes(&data, &labels, &cases).unwrap();
    let ids: Vec<&str> = cases.iter().map(|c| c.case_id.as_str()).collect();
    let parts = split(&ids, &outcomes, 0.5);
    let schemes_of = |part: Part| -> BTreeSet<&String> {
        outcomes
            .iter()
            .zip(&parts)
            .filter(|(_, p)| **p == part)
            .flat_map(|(o, _)| &o.schemes)
            .collect()
    };
    let (tuned, tested) = (schemes_of(Part::Tune), schemes_of(Part::Test));
    assert!(!tuned.is_empty() && !tested.is_empty());
    assert!(tuned.is_disjoint(&tested));
    // The written file reads back as the weights found.
    let dir = tempfile::tempdir().unwrap();
    let path = weights_file(&dir, &weights_yaml(&a));
    let read = pack.with_weights(&path).unwrap();
    assert_eq!(read.weights.as_ref().unwrap().rules, a.weights().rules);
    assert!(a.measures.is_empty());
    // With the measures as features: deterministic, and read back with its measures.
    let opts = TuneOptions {
        measures: MeasureFeatures::All,
        ..opts
    };
    let m = tune(&pack, &data, &labels, &opts).unwrap();
    assert_eq!(
        weights_yaml(&m),
        weights_yaml(&tune(&pack, &data, &labels, &opts).unwrap())
    );
    assert!(!m.measures.is_empty());
    assert!(m.measures.iter().all(|w| w.weight.is_finite() && w.weight >= 0.0));
    let path = weights_file(&dir, &weights_yaml(&m));
    let read = pack.with_weights(&path).unwrap();
    assert_eq!(read.weights.as_ref().unwrap().rules, m.weights().rules);
    assert_eq!(read.weights.as_ref().unwrap().measures, m.weights().measures);
    // Only the measures listed.
    let opts = TuneOptions {
        measures: MeasureFeatures::Only(vec!["STR-01.n_txns".into()]),
        ..opts
    };
    let only = tune(&pack, &data, &labels, &opts).unwrap();
    assert!(only
        .measures
        .iter()
        .all(|w| w.rule_id == "STR-01" && w.measure == "n_txns"));
}
