//! A rule that runs in part on data lacking a column: the terminal line, the manifest and
//! the reports (docs/packs.md, "When the data lacks a column").

use std::process::Command;

fn repo(p: &str) -> String {
    format!("{}/../../{p}", std::env::var("CARGO_MANIFEST_DIR").unwrap())
}

/// FLW-03 on AMLworld-layout data, which has no countries: the terminal says what was
/// dropped and why, the manifest (and `cases.json`, which holds it) lists it, and both
/// reports have a line for it.
#[test]
fn partial_rule_on_the_terminal_in_the_manifest_and_the_reports() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("out");
    let o = Command::new(env!("CARGO_BIN_EXE_redflag"))
        .args([
            "screen",
            &repo("tests/data/degrade/flw03-amlworld.csv"),
            "--preset",
            "amlworld",
            "--only",
            "FLW-03",
            "--format",
            "json,md,html",
            "--out",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    let lines: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("partial:") || l.starts_with("not applicable:"))
        .collect();
    insta::assert_snapshot!("degrade_terminal", lines.join("\n"));

    let m: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["rules_run"], serde_json::json!(["FLW-03"]));
    assert_eq!(m["alerts_per_rule"]["FLW-03"], 1);
    let p = &m["rules_partial"][0];
    assert_eq!(p["rule_id"], "FLW-03");
    assert_eq!(p["dropped"][0]["part"], "any_of[1]");
    assert_eq!(
        p["dropped"][0]["missing_columns"],
        serde_json::json!(["counterparty_country"])
    );
    let cases: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("cases.json")).unwrap()).unwrap();
    assert_eq!(cases["manifest"]["rules_partial"], m["rules_partial"]);

    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    let line = md
        .lines()
        .find(|l| l.starts_with("- FLW-03 ("))
        .unwrap_or_else(|| panic!("{md}"));
    assert!(
        line.contains("dropped any_of\\[1\\]") || line.contains("dropped any_of[1]"),
        "{line}"
    );
    assert!(
        line.contains("counterparty\\_country") || line.contains("counterparty_country"),
        "{line}"
    );
    assert!(md.contains("### Rules run in part"), "{md}");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("<h3>Rules run in part</h3>"));
    assert!(html.contains("<li>FLW-03 (Fan-out, one account paying many payees or many countries): dropped any_of[1]"));
}
