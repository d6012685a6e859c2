//! The command line, end to end: `screen`, `rules`, bad input, determinism.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn redflag() -> Command {
    Command::new(env!("CARGO_BIN_EXE_redflag"))
}

fn run(args: &[&str]) -> Output {
    redflag().args(args).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn repo(p: &str) -> String {
    format!("{}/../../{p}", std::env::var("CARGO_MANIFEST_DIR").unwrap())
}

fn write(dir: &Path, name: &str, text: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Asserts a run failed with status 2, a message containing each of `needles`, no panic,
/// and wrote nothing into `out`.
fn assert_error(o: &Output, out: &Path, needles: &[&str]) {
    let e = stderr(o);
    assert_eq!(o.status.code(), Some(2), "stderr: {e}");
    assert!(!e.contains("panicked"), "{e}");
    for n in needles {
        assert!(e.contains(n), "expected `{n}` in: {e}");
    }
    assert!(
        !out.exists() || std::fs::read_dir(out).unwrap().next().is_none(),
        "output written on error"
    );
}

const SMALL: &[u8] = b"txn_id,ts,amount,orig_account,bene_account,channel,bene_country\n\
t1,2026-01-01 10:00:00,9500,,A,cash_in,\n\
t2,2026-01-03 10:00:00,9800,,A,cash_in,\n\
t3,2026-01-04 10:00:00,5000,A,X,wire,IR\n\
t4,2026-01-05 10:00:00,bad,A,X,wire,IR\n";

#[test]
fn screen_writes_cases_alerts_manifest_and_quarantine() {
    let d = tempfile::tempdir().unwrap();
    let input = write(d.path(), "in.csv", SMALL);
    let out = d.path().join("out");
    let o = run(&["screen", input.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let s = stdout(&o);
    assert!(s.contains("4 rows read, 3 screened, 1 quarantined"), "{s}");
    let cases: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("cases.json")).unwrap()).unwrap();
    assert_eq!(cases["schema_version"], "1.0");
    let c0 = &cases["cases"][0];
    assert_eq!(c0["accounts"][0], "A");
    let rules: Vec<&str> = c0["rule_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(rules.contains(&"STR-01") && rules.contains(&"GEO-01"), "{rules:?}");
    let m: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["rows_read"], 4);
    assert_eq!(m["rows_screened"], 3);
    assert_eq!(m["rows_quarantined"], 1);
    assert_eq!(m["pack"]["id"], "fatf-core");
    assert_eq!(m["inputs"][0]["sha256"].as_str().unwrap().len(), 64);
    let na: Vec<&str> = m["rules_not_applicable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["rule_id"].as_str().unwrap())
        .collect();
    assert!(
        na.contains(&"DRG-01") || na.contains(&"STR-03") || !na.is_empty(),
        "{m}"
    );
    let alerts = std::fs::read_to_string(out.join("alerts.csv")).unwrap();
    assert!(alerts.starts_with("case_id,alert_id,rule_id,severity,account,txn_id,ts,amount_base,explanation\n"));
    assert!(
        alerts.contains(",STR-01,high,A,t1,2026-01-01T10:00:00,9500.00,"),
        "{alerts}"
    );
    let q = std::fs::read_to_string(out.join("quarantine.csv")).unwrap();
    assert!(q.contains("unparsable amount `bad`"), "{q}");
    // No temporary files are left.
    for e in std::fs::read_dir(&out).unwrap() {
        let n = e.unwrap().file_name().to_string_lossy().to_string();
        assert!(!n.contains(".tmp-"), "{n}");
    }
}

#[test]
fn strict_turns_quarantine_into_an_error() {
    let d = tempfile::tempdir().unwrap();
    let input = write(d.path(), "in.csv", SMALL);
    let out = d.path().join("out");
    let o = run(&[
        "screen",
        input.to_str().unwrap(),
        "--strict",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_error(&o, &out, &["--strict", "row 4", "unparsable amount"]);
}

#[test]
fn fail_on_gives_status_1_only_when_asked() {
    let d = tempfile::tempdir().unwrap();
    let input = write(d.path(), "in.csv", SMALL);
    let out = d.path().join("out");
    let o = run(&[
        "screen",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--fail-on",
        "critical",
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stdout(&o).is_empty());
    let o = run(&[
        "screen",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--fail-on",
        "1000",
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn only_set_and_min_score() {
    let d = tempfile::tempdir().unwrap();
    let input = write(d.path(), "in.csv", SMALL);
    let out = d.path().join("out");
    let o = run(&[
        "screen",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--only",
        "STR-01",
        "--set",
        "reporting_threshold=9600",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let m: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["rules_run"], serde_json::json!(["STR-01"]));
    assert_eq!(m["params"]["reporting_threshold"], 9600.0);
    // Threshold 9,600: 9,800 is no longer under it, so one deposit only: no case.
    assert_eq!(m["cases"], 0);
    let o = run(&[
        "screen",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--min-score",
        "1000",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let m: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["cases"], 0);
}

#[test]
fn determinism_across_thread_counts() {
    let d = tempfile::tempdir().unwrap();
    let demo = repo("samples/demo.csv");
    let o1 = d.path().join("o1");
    let o2 = d.path().join("o2");
    let a = run(&["screen", &demo, "--threads", "1", "--out", o1.to_str().unwrap(), "-q"]);
    let b = run(&["screen", &demo, "--threads", "2", "--out", o2.to_str().unwrap(), "-q"]);
    assert_eq!(a.status.code(), Some(0), "{}", stderr(&a));
    assert_eq!(b.status.code(), Some(0), "{}", stderr(&b));
    let alerts1 = std::fs::read(o1.join("alerts.csv")).unwrap();
    let alerts2 = std::fs::read(o2.join("alerts.csv")).unwrap();
    assert!(alerts1.len() > 200, "the demo should alert");
    assert_eq!(alerts1, alerts2);
    let c1: serde_json::Value = serde_json::from_slice(&std::fs::read(o1.join("cases.json")).unwrap()).unwrap();
    let c2: serde_json::Value = serde_json::from_slice(&std::fs::read(o2.join("cases.json")).unwrap()).unwrap();
    assert_eq!(c1["cases"], c2["cases"]);
    assert!(c1["cases"].as_array().unwrap().len() >= 5);
}

#[test]
fn demo_sample_finds_several_kinds_of_case() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("o");
    // SAN-01 needs a watch list: the demo's invented one.
    let list = format!("sanctions={}", repo("samples/watchlist-demo.csv"));
    let o = run(&[
        "screen",
        &repo("samples/demo.csv"),
        "--list",
        &list,
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let m: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    let fired: Vec<String> = m["alerts_per_rule"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, v)| v.as_u64().unwrap() > 0)
        .map(|(k, _)| k.clone())
        .collect();
    assert!(fired.len() >= 8, "rules that fired: {fired:?}");
    assert_eq!(m["rows_quarantined"], 0);
    assert!(
        m["rules_not_applicable"].as_array().unwrap().is_empty(),
        "{}",
        m["rules_not_applicable"]
    );
}

#[test]
fn rules_list_show_check() {
    let o = run(&["rules", "list"]);
    assert_eq!(o.status.code(), Some(0));
    let s = stdout(&o);
    for id in ["STR-01", "FLW-05", "GEO-04", "WIR-01", "VA-01"] {
        assert!(s.contains(id), "{s}");
    }
    let o = run(&["rules", "show", "STR-01"]);
    let s = stdout(&o);
    assert!(s.contains("references:") && s.contains("FFIEC"), "{s}");
    let o = run(&["rules", "show", "STR-1"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("did you mean"), "{}", stderr(&o));
    let o = run(&["rules", "check", &repo("rules/fatf-core.yaml")]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("ok: pack fatf-core"));
}

#[test]
fn rules_check_reports_a_broken_pack() {
    let d = tempfile::tempdir().unwrap();
    let p = write(
        d.path(),
        "bad.yaml",
        b"pack: bad\nversion: \"1\"\nrules:\n  - id: B-1\n    title: t\n    kind: aggregate\n    severity: low\n    where: \"ammount > 1\"\n    window: 7x\n    measures: { n: \"count(*)\" }\n    having: \"n > 1\"\n",
    );
    let o = run(&["rules", "check", p.to_str().unwrap()]);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        e.contains("bad.yaml:8:5: rule B-1: field `rules[0].where`: unknown column `ammount`; did you mean `amount`?"),
        "{e}"
    );
    assert!(e.contains("bad.yaml:9:5") && e.contains("unknown unit `x`"), "{e}");
}

#[test]
fn bad_inputs_are_clear_errors_with_no_output() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("out");
    let o_s = out.to_str().unwrap();
    // A path that does not exist.
    let o = run(&["screen", "/nonexistent/x.csv", "--out", o_s]);
    assert_error(&o, &out, &["/nonexistent/x.csv"]);
    // An empty file.
    let empty = write(d.path(), "empty.csv", b"");
    let o = run(&["screen", empty.to_str().unwrap(), "--out", o_s]);
    assert_error(&o, &out, &["empty.csv", "empty"]);
    // A binary file.
    let bin = write(d.path(), "x.bin", &[0x7f, b'E', b'L', b'F', 0, 0, 1, 2, 3, 0, 0]);
    let o = run(&["screen", bin.to_str().unwrap(), "--out", o_s]);
    assert_error(&o, &out, &["x.bin", "binary"]);
    // A missing required column.
    let nocol = write(
        d.path(),
        "nocol.csv",
        b"txn_id,ts,amt,orig_account,bene_account\n1,2026-01-01,5,A,B\n",
    );
    let o = run(&["screen", nocol.to_str().unwrap(), "--out", o_s]);
    assert_error(
        &o,
        &out,
        &["nocol.csv", "required column `amount`", "the file has: txn_id, ts, amt"],
    );
    // Rule pack problems: unknown column, malformed YAML, unknown kind, bad window, bad regex.
    let input = write(d.path(), "in.csv", SMALL);
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "col.yaml",
            "pack: p\nversion: \"1\"\nrules:\n  - id: R-1\n    title: t\n    kind: filter\n    severity: low\n    where: \"bene_countyr = 'IR'\"\n",
            &["col.yaml:8:5", "R-1", "did you mean `bene_country`?"],
        ),
        ("yaml.yaml", "pack: p\nversion: \"1\"\nrules:\n  - id: R-1\n   title: [\n", &["yaml.yaml:"]),
        (
            "kind.yaml",
            "pack: p\nversion: \"1\"\nrules:\n  - id: R-1\n    title: t\n    kind: agregate\n    severity: low\n",
            &["kind.yaml:6:5", "unknown kind `agregate`; did you mean `aggregate`?"],
        ),
        (
            "window.yaml",
            "pack: p\nversion: \"1\"\nrules:\n  - id: R-1\n    title: t\n    kind: aggregate\n    severity: low\n    window: seven days\n    measures: { n: \"count(*)\" }\n    having: \"n > 1\"\n",
            &["window.yaml:8:5", "bad window `seven days`"],
        ),
        (
            "regex.yaml",
            "pack: p\nversion: \"1\"\nrules:\n  - id: R-1\n    title: t\n    kind: filter\n    severity: low\n    where: \"REGEXP_LIKE(narrative, '[a-')\"\n",
            &["regex.yaml:8:5", "invalid regular expression `[a-`"],
        ),
    ];
    for (name, text, needles) in cases {
        let p = write(d.path(), name, text.as_bytes());
        let o = run(&[
            "screen",
            input.to_str().unwrap(),
            "--rules",
            p.to_str().unwrap(),
            "--out",
            o_s,
        ]);
        assert_error(&o, &out, needles);
    }
}

#[test]
fn glob_inputs_and_amlworld_preset() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("out");
    let o = run(&[
        "screen",
        &repo("tests/data/amlworld-*.csv"),
        "--preset",
        "amlworld",
        "--fx",
        &repo("samples/fx-amlworld.csv"),
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let m: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["rows_read"], 500);
    assert_eq!(m["rows_quarantined"], 0, "{}", m);
    assert_eq!(m["mapping"], "amlworld");
}

/// `--timings` prints each step and each rule that ran, on stderr, and changes no output.
#[test]
fn timings_list_the_steps_and_every_rule() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    // Enough rows for the rules to take a measurable part of the run.
    let input = dir.path().join("t.csv");
    let g = run(&[
        "generate",
        "--rows",
        "20000",
        "--accounts",
        "2000",
        "--seed",
        "1",
        "--out",
        input.to_str().unwrap(),
    ]);
    assert!(g.status.success(), "{}", stderr(&g));
    let input = input.to_string_lossy().into_owned();
    let started = std::time::Instant::now();
    let with = run(&["screen", &input, "--out", a.to_str().unwrap(), "-q", "--timings"]);
    let wall = started.elapsed().as_secs_f64();
    let without = run(&["screen", &input, "--out", b.to_str().unwrap(), "-q"]);
    assert!(with.status.success() && without.status.success(), "{}", stderr(&with));
    let err = stderr(&with);
    let seconds = |step: &str| -> f64 {
        err.lines()
            .find(|l| l.starts_with(step))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no `{step}` line in:\n{err}"))
    };
    let steps = ["ingest", "prepare", "conditions", "rules", "cases", "write"];
    let sum: f64 = steps.iter().map(|s| seconds(s)).sum();
    // The steps follow one another: their total is the run's, counted once each.
    assert!((seconds("total") - sum).abs() < 0.01, "{err}");
    assert!(
        seconds("total") <= wall,
        "the steps add up to more than the run took:\n{err}"
    );
    let manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(a.join("manifest.json")).unwrap()).unwrap();
    for id in manifest["rules_run"].as_array().unwrap() {
        let id = id.as_str().unwrap();
        assert!(err.lines().any(|l| l.trim_start().starts_with(id)), "no line for {id}");
    }
    assert!(stderr(&without).is_empty());
    assert_eq!(
        std::fs::read(a.join("alerts.csv")).unwrap(),
        std::fs::read(b.join("alerts.csv")).unwrap()
    );
}

#[test]
fn kinds_lists_the_registry_and_shows_each_page() {
    let o = run(&["kinds"]);
    assert_eq!(o.status.code(), Some(0));
    let s = stdout(&o);
    for line in [
        "aggregate",
        "where, group_by, measures, window, having, any_of",
        "watchlist",
    ] {
        assert!(s.contains(line), "{s}");
    }
    let o = run(&["kinds", "network"]);
    assert_eq!(o.status.code(), Some(0));
    let s = stdout(&o);
    assert!(s.starts_with("# Kind `network`"), "{s}");
    assert!(s.contains("| `amount_tolerance` |"), "{s}");
    let o = run(&["kinds", "netwrk"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("did you mean `network`?"), "{}", stderr(&o));
}
