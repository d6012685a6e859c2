//! Hostile input, the command line's side: no crash, clear errors, bad numbers refused.
//! One test a point of the input side of issue 15; `docs/input-safety.md` says what these
//! guard.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_redflag")).args(args).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A one-rule pack file around `rule` (YAML, indented as an item of `rules:`).
fn pack_file(dir: &Path, rule: &str) -> PathBuf {
    let text = format!(
        "pack: test\nversion: \"1\"\nbase_currency: USD\nparams:\n  reporting_threshold: 10000\nrules:\n{rule}"
    );
    write(dir, "pack.yaml", text.as_bytes())
}

/// Asserts a run failed cleanly (status 2, no panic, no abort) with each of `needles`
/// in its message.
fn assert_clean_error(o: &Output, needles: &[&str]) {
    let e = stderr(o);
    assert_eq!(o.status.code(), Some(2), "stderr: {e}");
    assert!(!e.contains("panicked") && !e.contains("overflow"), "{e}");
    for n in needles {
        assert!(e.contains(n), "expected `{n}` in: {e}");
    }
}

/// Point 5: a condition of 5,000 `OR` terms is refused by `rules check` with the rule and
/// the field, not a stack overflow.
#[test]
fn huge_expression_is_refused_not_a_stack_overflow() {
    let d = tempfile::tempdir().unwrap();
    let cond = vec!["amount_base > 1"; 5000].join(" OR ");
    let rule = format!(
        "  - id: BIG-01\n    title: big\n    kind: filter\n    severity: low\n    side: out\n    where: \"{cond}\"\n    explain: \"x\"\n"
    );
    let p = pack_file(d.path(), &rule);
    let o = run(&["rules", "check", p.to_str().unwrap()]);
    assert_clean_error(&o, &["BIG-01", "where", "operators; at most 256"]);
    let deep = format!("{}amount_base > 1{}", "(".repeat(5000), ")".repeat(5000));
    let rule = rule.replace(&cond, &deep);
    let p = pack_file(d.path(), &rule);
    let o = run(&["rules", "check", p.to_str().unwrap()]);
    assert_clean_error(&o, &["BIG-01", "where", "nests parentheses 5000 deep"]);
}

/// Point 5: NDJSON nested 3,000 levels (a stack overflow) or 700 (minutes of parsing) is
/// refused at once, with its file and line.
#[test]
fn deeply_nested_ndjson_is_refused_quickly() {
    let d = tempfile::tempdir().unwrap();
    for depth in [700, 3000] {
        let mut text = b"{\"txn_id\": \"t1\", \"ts\": \"2026-01-01 10:00:00\", \"amount\": 5, \"orig_account\": \"A\", \"bene_account\": \"B\"}\n".to_vec();
        text.extend(
            format!(
                "{{\"txn_id\": \"t2\", \"x\": {}1{}}}\n",
                "[".repeat(depth),
                "]".repeat(depth)
            )
            .bytes(),
        );
        let p = write(d.path(), &format!("deep{depth}.ndjson"), &text);
        let started = std::time::Instant::now();
        let out = d.path().join(format!("out{depth}"));
        let o = run(&["screen", p.to_str().unwrap(), "--out", out.to_str().unwrap()]);
        assert_clean_error(
            &o,
            &[&format!("deep{depth}.ndjson"), "line 2", "nest more than 32 levels"],
        );
        assert!(started.elapsed().as_secs() < 20, "{:?}", started.elapsed());
    }
}

/// Point 6: a window or `within` too long to compute with (`106751991168d`,
/// `9223372036854776s`) fails `rules check` with the rule and the field, instead of a
/// panic when screening or a silent absence of alerts.
#[test]
fn absurd_window_and_within_fail_rules_check() {
    let d = tempfile::tempdir().unwrap();
    let aggregate = "  - id: AGG-01\n    title: t\n    kind: aggregate\n    severity: low\n    side: in\n    window: WINDOW\n    measures:\n      n: \"count(*)\"\n    having: \"n >= 2\"\n    explain: \"x\"\n";
    let sequence = "  - id: SEQ-01\n    title: t\n    kind: sequence\n    severity: low\n    first:\n      side: in\n      where: \"amount_base > 0\"\n    then:\n      side: out\n    within: WINDOW\n    match: \"then.total >= first.amount\"\n    explain: \"x\"\n";
    for (rule, id, field) in [(aggregate, "AGG-01", "window"), (sequence, "SEQ-01", "within")] {
        for w in ["106751991168d", "9223372036854776s", "3661d"] {
            let p = pack_file(d.path(), &rule.replace("WINDOW", w));
            let o = run(&["rules", "check", p.to_str().unwrap()]);
            assert_clean_error(&o, &[id, field, w, "ten years"]);
        }
    }
    // The longest allowed screens without a panic, and a sequence still alerts.
    let rules =
        aggregate.replace("WINDOW", "3660d").replace("n >= 2", "n >= 20") + &sequence.replace("WINDOW", "3660d");
    let pack = redflag::Pack::load(pack_file(d.path(), &rules)).unwrap();
    let ds = redflag::ingest(&[repo("samples/demo.csv")], &opts(None)).unwrap();
    let s = redflag::screen(&pack, &ds).unwrap();
    assert!(s.alerts().any(|a| a.rule_id == "SEQ-01"));
    assert!(s.alerts().any(|a| a.rule_id == "AGG-01"));
}

/// Point 13: `NaN` (and `inf`) is refused wherever a number is given on the command line.
#[test]
fn nan_is_refused_wherever_a_number_is_given() {
    let d = tempfile::tempdir().unwrap();
    let input = repo("samples/demo.csv");
    let out = d.path().join("out");
    let (input, out) = (input.to_str().unwrap(), out.to_str().unwrap());
    for (args, needle) in [
        (vec!["--min-score", "NaN"], "`NaN` is not a finite number"),
        (vec!["--min-score", "inf"], "`inf` is not a finite number"),
        (
            vec!["--fail-on", "NaN"],
            "--fail-on NaN: a score must be a finite number",
        ),
        (vec!["--set", "reporting_threshold=NaN"], "`NaN` is not a finite number"),
        (
            vec!["--set", "STR-01.reporting_threshold=inf"],
            "`inf` is not a finite number",
        ),
        (
            vec!["--set", "reporting_threshold=abc"],
            "parameter `reporting_threshold` is a number in the pack",
        ),
    ] {
        let mut all = vec!["screen", input, "--out", out];
        all.extend(args);
        let o = run(&all);
        assert_clean_error(&o, &[needle]);
        assert!(!Path::new(out).exists(), "{all:?} wrote outputs");
    }
    let o = run(&["report", "--from", out, "--min-score", "NaN"]);
    assert_clean_error(&o, &["`NaN` is not a finite number"]);
}

/// Point 13: a parameter whose value names another (`$param` cycles), one that is not a
/// finite number, and a text parameter compared with a number are caught by
/// `rules check`, naming the rule and the parameter.
#[test]
fn param_cycles_and_text_numbers_fail_rules_check() {
    let d = tempfile::tempdir().unwrap();
    let rule = "  - id: THR-01\n    title: t\n    kind: filter\n    severity: low\n    side: in\n    params:\n      PARAMS\n    where: \"amount_base >= $limit\"\n    explain: \"x\"\n";
    for (params, needles) in [
        (
            "limit: $other\n      other: $limit",
            vec!["THR-01", "params.limit", "cannot name another parameter"],
        ),
        ("limit: .nan", vec!["THR-01", "params.limit", "not a finite number"]),
        (
            "limit: \"10000\"",
            vec!["THR-01", "where", "parameter `$limit` is text (`10000`)"],
        ),
    ] {
        let p = pack_file(d.path(), &rule.replace("PARAMS", params));
        let o = run(&["rules", "check", p.to_str().unwrap()]);
        assert_clean_error(&o, &needles);
    }
    // In a sequence's `match`, over values the kind computes.
    let seq = "  - id: SEQ-01\n    title: t\n    kind: sequence\n    severity: low\n    params:\n      share: \"0.9\"\n    first:\n      side: in\n      where: \"amount_base > 0\"\n    then:\n      side: out\n    within: 24h\n    match: \"then.total >= $share * first.amount\"\n    explain: \"x\"\n";
    let o = run(&["rules", "check", pack_file(d.path(), seq).to_str().unwrap()]);
    assert_clean_error(&o, &["SEQ-01", "match", "parameter `$share` is text (`0.9`)"]);
    // At pack level too.
    let text = "pack: test\nversion: \"1\"\nbase_currency: USD\nparams:\n  limit: $limit\nrules:\n".to_string()
        + &rule.replace("    params:\n      PARAMS\n", "");
    let p = write(d.path(), "pack.yaml", text.as_bytes());
    let o = run(&["rules", "check", p.to_str().unwrap()]);
    assert_clean_error(&o, &["params.limit", "cannot name another parameter"]);
}

/// Point 14: a thread count beyond the limit is refused at once with the range.
#[test]
fn absurd_thread_count_is_refused() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("out");
    let started = std::time::Instant::now();
    let o = run(&[
        "screen",
        repo("samples/demo.csv").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--threads",
        "10000",
    ]);
    assert_clean_error(&o, &["--threads 10000", "from 1 to 256"]);
    assert!(started.elapsed().as_secs() < 10);
    // The library takes a larger count as the limit.
    let opts = IngestOptions {
        threads: Some(10_000),
        ..opts(None)
    };
    let ds = redflag::ingest(&[repo("samples/demo.csv")], &opts).unwrap();
    assert_eq!(ds.rows_screened(), 4000);
}
