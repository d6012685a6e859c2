//! `redflag tune` end to end: the weights file it writes, then `screen --weights` and
//! `evaluate --weights` with it; a bad weights file.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_redflag"))
        .args(args)
        .output()
        .expect("redflag runs")
}

fn repo(rel: &str) -> String {
    Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap())
        .join("../..")
        .join(rel)
        .to_string_lossy()
        .into_owned()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `tune` on the demo data and its labels, half of the schemes held out for testing, the
/// weights file to `out`, with `extra` arguments.
fn tune_demo(out: &Path, extra: &[&str]) -> Output {
    let (demo, labels) = (repo("samples/demo.csv"), repo("samples/demo-labels.csv"));
    let mut args = vec!["tune", &demo, "--labels", &labels, "--test-share", "0.5", "--out"];
    args.push(out.to_str().unwrap());
    args.extend_from_slice(extra);
    run(&args)
}

/// `screen INPUT --weights WEIGHTS --format json,md --out OUT`, which must succeed.
fn screen_weighted(input: &str, weights: &Path, out: &Path) {
    let o = run(&[
        "screen",
        input,
        "--weights",
        weights.to_str().unwrap(),
        "--format",
        "json,md",
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
}

#[test]
fn tune_writes_weights_that_screen_and_evaluate_apply() {
    let dir = tempfile::tempdir().unwrap();
    let w = dir.path().join("w.yaml");
    let j = dir.path().join("w.json");
    let (demo, labels) = (repo("samples/demo.csv"), repo("samples/demo-labels.csv"));
    let o = tune_demo(&w, &["--json", j.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(
        out.contains("split by scheme") && out.contains("average precision"),
        "{out}"
    );
    let yaml = std::fs::read_to_string(&w).unwrap();
    assert!(
        yaml.contains("# precision at 10") && yaml.contains("\nrules:\n"),
        "{yaml}"
    );
    let fit: Value = serde_json::from_slice(&std::fs::read(&j).unwrap()).unwrap();
    assert!(fit["rules"].as_array().is_some_and(|r| !r.is_empty()), "{fit}");
    // The same run, the same bytes.
    let w2 = dir.path().join("w2.yaml");
    assert!(tune_demo(&w2, &[]).status.success());
    assert_eq!(std::fs::read(&w2).unwrap(), yaml.as_bytes());

    // screen --weights: every case lists its score's parts; the manifest names the file.
    let out_dir = dir.path().join("out");
    screen_weighted(&demo, &w, &out_dir);
    let cases: Value = serde_json::from_slice(&std::fs::read(out_dir.join("cases.json")).unwrap()).unwrap();
    let list = cases["cases"].as_array().unwrap();
    assert!(!list.is_empty());
    for c in list {
        let parts = c["score_parts"].as_array().expect("score_parts");
        let sum: f64 = parts.iter().map(|p| p["contribution"].as_f64().unwrap()).sum();
        let score = c["score"].as_f64().unwrap();
        assert!((sum - score).abs() <= 0.01 * parts.len() as f64 + 1e-9, "{c}");
    }
    let manifest: Value = serde_json::from_slice(&std::fs::read(out_dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["weights"][0].as_str(), w.to_str());
    assert_eq!(manifest["weights"][1].as_str().map(str::len), Some(64));
    let md = std::fs::read_to_string(out_dir.join("report.md")).unwrap();
    assert!(md.contains("with weights (rule: weight × part without weights = contribution)"));

    // evaluate --weights says so and ranks with them.
    let o = run(&["evaluate", &demo, "--labels", &labels, "--weights", w.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("with score weights"), "{}", text(&o.stdout));
}

#[test]
fn screen_without_weights_writes_no_score_parts_and_a_bad_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let demo = repo("samples/demo.csv");
    let out_dir = dir.path().join("out");
    let o = run(&["screen", &demo, "--out", out_dir.to_str().unwrap(), "-q"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let cases = std::fs::read_to_string(out_dir.join("cases.json")).unwrap();
    assert!(!cases.contains("score_parts"));
    let manifest = std::fs::read_to_string(out_dir.join("manifest.json")).unwrap();
    assert!(!manifest.contains("\"weights\""));
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "rules:\n  STR-01: 2\n  STR-0l: 1\n").unwrap();
    let o = run(&[
        "screen",
        &demo,
        "--weights",
        bad.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    let err = text(&o.stderr);
    assert!(
        err.contains("bad.yaml:3") && err.contains("STR-0l") && err.contains("did you mean"),
        "{err}"
    );
}

#[test]
fn tune_with_measures_writes_their_weights_and_the_report_explains_their_terms() {
    let dir = tempfile::tempdir().unwrap();
    let w = dir.path().join("w.yaml");
    let (demo, labels) = (repo("samples/demo.csv"), repo("samples/demo-labels.csv"));
    let o = tune_demo(&w, &["--measures", "all"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let yaml = std::fs::read_to_string(&w).unwrap();
    assert!(yaml.contains("\nmeasures:\n"), "{yaml}");
    assert!(text(&o.stdout).contains("measure (of "), "{}", text(&o.stdout));
    // A weights file with one measure: its term in the Markdown report's score line.
    let one = dir.path().join("one.yaml");
    std::fs::write(&one, "measures:\n  STR-01.n_txns: 2\n").unwrap();
    let out_dir = dir.path().join("out");
    screen_weighted(&demo, &one, &out_dir);
    let md = std::fs::read_to_string(out_dir.join("report.md")).unwrap();
    assert!(md.contains(" + n_txns 2 × "), "no measure term in the report");
    // A measure the rule lacks, or a bad list, is refused with the rule named.
    let o = run(&[
        "tune",
        &demo,
        "--labels",
        &labels,
        "--measures",
        "STR-01.n_txn",
        "--out",
        w.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(
        text(&o.stderr).contains("--measures STR-01.n_txn"),
        "{}",
        text(&o.stderr)
    );
}
