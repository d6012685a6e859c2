//! Pack versioning: a renamed rule keeps its old id as an alias, which `--only`, `--set`
//! and `rules show` accept. The shipped pack's changelog: `tests/library`.

use std::path::Path;
use std::process::{Command, Output};

use redflag::Pack;

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_redflag")).args(args).output().unwrap()
}

/// A pack whose rule NEW-1 was called OLD-1, and a rule that was never renamed.
const PACK: &str = r#"pack: renamed
version: "2"
base_currency: USD
rules:
  - id: NEW-1
    title: Large transfers
    kind: filter
    severity: medium
    aliases: [OLD-1]
    description: Transfers of at least the floor.
    references: [a source]
    params: { floor: 1000 }
    where: "amount_base >= $floor"
    explain: "{amount_base} at or over {floor}"
  - id: OTHER-1
    title: Any cash
    kind: filter
    severity: low
    where: "channel = 'cash_in'"
"#;

const DATA: &str = "txn_id,ts,amount,orig_account,bene_account,channel\n\
t1,2026-01-05 10:00:00,500,A,B,wire\n\
t2,2026-01-06 10:00:00,1500,A,C,wire\n\
t3,2026-01-07 10:00:00,200,,D,cash_in\n";

fn setup(dir: &Path) -> (String, String) {
    let pack = dir.join("renamed.yaml");
    std::fs::write(&pack, PACK).unwrap();
    let data = dir.join("in.csv");
    std::fs::write(&data, DATA).unwrap();
    (pack.display().to_string(), data.display().to_string())
}

/// The `rule_id, txn_id` pairs of a screening's alerts.csv, sorted and deduplicated.
fn fired(out: &Path) -> Vec<String> {
    let csv = std::fs::read_to_string(out.join("alerts.csv")).unwrap();
    let mut header = csv.lines().next().unwrap().split(',');
    let rule = header.clone().position(|c| c == "rule_id").unwrap();
    let txn = header.position(|c| c == "txn_id").unwrap();
    let mut v: Vec<String> = csv
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            format!("{} {}", f[rule], f[txn])
        })
        .collect();
    v.sort();
    v.dedup();
    v
}

#[test]
fn versioning_only_accepts_an_old_id() {
    let d = tempfile::tempdir().unwrap();
    let (pack, data) = setup(d.path());
    let out = d.path().join("out");
    let o = run(&[
        "screen",
        &data,
        "--rules",
        &pack,
        "--only",
        "old-1",
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    // Only the renamed rule ran, under its new id; OTHER-1 (the cash deposit) did not.
    assert_eq!(fired(&out), ["NEW-1 t2"]);
    let manifest = std::fs::read_to_string(out.join("manifest.json")).unwrap();
    assert!(
        manifest.contains("NEW-1") && !manifest.contains("OTHER-1"),
        "{manifest}"
    );
}

#[test]
fn versioning_set_accepts_an_old_id() {
    let d = tempfile::tempdir().unwrap();
    let (pack, data) = setup(d.path());
    let out = d.path().join("out");
    let o = run(&[
        "screen",
        &data,
        "--rules",
        &pack,
        "--only",
        "NEW-1",
        "--set",
        "OLD-1.floor=400",
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(fired(&out), ["NEW-1 t1", "NEW-1 t2"]);
    // The library does the same, and names the rule by its new id.
    let p = Pack::load(&pack).unwrap();
    let sets = ["OLD-1.floor=400".parse().unwrap()];
    let q = p.with_overrides(&sets, &[]).unwrap();
    assert_eq!(
        q.rule("NEW-1").unwrap().conditions[0].sql.as_deref(),
        Some("amount_base >= 400")
    );
    assert_eq!(q.only(&["OLD-1".into()]).unwrap().rules.len(), 1);
    // A parameter the rule lacks is still an error under the old id.
    let bad = ["OLD-1.flor=1".parse().unwrap()];
    let e = p.with_overrides(&bad, &[]).unwrap_err().to_string();
    assert!(
        e.contains("rule NEW-1 has no parameter `flor`") && e.contains("`floor`"),
        "{e}"
    );
}

#[test]
fn versioning_rules_show_accepts_an_old_id() {
    let d = tempfile::tempdir().unwrap();
    let (pack, _) = setup(d.path());
    let o = run(&["rules", "show", "OLD-1", "--rules", &pack]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let s = String::from_utf8(o.stdout).unwrap();
    assert!(s.starts_with("NEW-1  Large transfers"), "{s}");
    assert!(s.contains("aliases:     OLD-1"), "{s}");
    // The catalogue names the old id too.
    let o = run(&["rules", "doc", &pack]);
    let doc = String::from_utf8(o.stdout).unwrap();
    assert!(doc.contains("Formerly: `OLD-1`"), "{doc}");
    // An id that is neither is an error.
    let o = run(&["rules", "show", "OLD-2", "--rules", &pack]);
    assert_eq!(o.status.code(), Some(2));
}
