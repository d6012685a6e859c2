//! Watch lists through the command line: `redflag lists check` on good and bad list
//! files, and SAN-01 with and without a bound list. Every name here is invented.

use std::path::Path;
use std::process::{Command, Output};

fn redflag(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_redflag")).args(args).output().unwrap()
}

#[test]
fn lists_check_reports_what_it_loaded() {
    let root = format!("{}/../../samples", std::env::var("CARGO_MANIFEST_DIR").unwrap());
    for (file, format) in [
        ("watchlist-un.xml", "UN Security Council Consolidated List"),
        ("watchlist-opensanctions.csv", "OpenSanctions"),
        ("watchlist.csv", "plain CSV"),
    ] {
        let o = redflag(&["lists", "check", &format!("{root}/{file}")]);
        let out = String::from_utf8_lossy(&o.stdout);
        assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
        assert!(out.contains(format), "{out}");
        assert!(out.contains("12 entries"), "{out}");
        assert!(out.contains("skipped: none"), "{out}");
    }
    // A plain reference list is told apart and counted.
    let o = redflag(&["lists", "check", &format!("{root}/../rules/lists/conflict-zones.txt")]);
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).contains("reference list"));
}

#[test]
fn lists_check_reports_what_it_skipped_and_why() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("partial.csv");
    std::fs::write(
        &p,
        "name,aliases,birth_date,country,list,reference\nGood Name,,1980,KG,L,R1\n,,,,L,R2\nBad Date,,19x0,KG,L,R3\n",
    )
    .unwrap();
    let o = redflag(&["lists", "check", p.to_str().unwrap()]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0));
    assert!(out.contains("2 entries"), "{out}");
    assert!(out.contains("line 3: entry skipped: empty `name`"), "{out}");
    assert!(out.contains("line 4: value left out: birth date `19x0`"), "{out}");
}

/// Bad list files: status 2, the file and the line or element named, no panic.
#[test]
fn bad_list_files_give_clear_errors() {
    let d = tempfile::tempdir().unwrap();
    let cases: &[(&str, &[u8], &[&str])] = &[
        (
            "malformed.xml",
            b"<?xml version=\"1.0\"?>\n<CONSOLIDATED_LIST>\n <INDIVIDUALS>\n  <INDIVIDUAL>\n   <FIRST_NAME>A</SECOND_NAME>\n",
            &["malformed.xml: line 5", "FIRST_NAME", "malformed XML"],
        ),
        (
            "cut.xml",
            b"<CONSOLIDATED_LIST>\n <INDIVIDUALS>\n  <INDIVIDUAL>\n   <FIRST_NAME>A</FIRST_NAME>\n",
            &["cut.xml: line 3, column 3, element <INDIVIDUAL>", "ends before"],
        ),
        (
            "other.xml",
            b"<?xml version=\"1.0\"?>\n<sdnList/>\n",
            &["other.xml: line 2, element <sdnList>", "CONSOLIDATED_LIST"],
        ),
        (
            "columns.csv",
            b"full_name,dob,nationality\nA B,1980,KG\n",
            &["columns.csv: line 1 (header): no `name` column", "`full_name`, `dob`, `nationality`"],
        ),
        ("empty.csv", b"", &["empty.csv: line 1: the file is empty"]),
        (
            "quote.csv",
            b"name,list\nA,L\n\"B,L\nC,L\n",
            &["quote.csv: line 3", "never closed"],
        ),
        ("latin1.csv", b"name\nM\xfcller\n", &["latin1.csv: line 2: not UTF-8"]),
    ];
    for (name, bytes, needles) in cases {
        let p = d.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        let o = redflag(&["lists", "check", p.to_str().unwrap()]);
        let e = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{name}: {e}");
        assert!(!e.contains("panicked"), "{e}");
        for n in *needles {
            assert!(e.contains(n), "{name}: expected `{n}` in: {e}");
        }
    }
    let o = redflag(&["lists", "check", d.path().join("missing.csv").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("missing.csv"));
}

/// SAN-01 without a list is not applicable and says how to give one; with one it runs,
/// keeps its severity when the country corroborates and drops a step when only the
/// name matches; a bad list file is an error naming the file and the line.
#[test]
fn san01_needs_a_bound_list_and_escalates_only_with_corroboration() {
    let case = Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("../../tests/cases/SAN-01");
    let input = case.join("transactions.csv");
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("without");
    let o = redflag(&[
        "screen",
        input.to_str().unwrap(),
        "--only",
        "SAN-01",
        "--out",
        out.to_str().unwrap(),
    ]);
    let s = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(s.contains("not applicable: SAN-01"), "{s}");
    assert!(s.contains("--list sanctions=PATH"), "{s}");

    let out = d.path().join("with");
    let list = case.join("watchlist.csv");
    let list_arg = format!("sanctions={}", list.display());
    let o = redflag(&[
        "screen",
        input.to_str().unwrap(),
        "--only",
        "SAN-01",
        "--list",
        &list_arg,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let cases: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("cases.json")).unwrap()).unwrap();
    let mut severity = std::collections::BTreeMap::new();
    for c in cases["cases"].as_array().unwrap() {
        for a in c["alerts"].as_array().unwrap() {
            severity.insert(
                a["account"].as_str().unwrap().to_string(),
                a["severity"].as_str().unwrap().to_string(),
            );
        }
    }
    assert_eq!(
        severity.get("HIT-PAYER").map(String::as_str),
        Some("critical"),
        "{severity:?}"
    );
    assert_eq!(
        severity.get("HIT-PAYEE").map(String::as_str),
        Some("high"),
        "{severity:?}"
    );
    let manifest = std::fs::read_to_string(out.join("manifest.json")).unwrap();
    assert!(manifest.contains("\"sanctions\""), "{manifest}");

    let bad = d.path().join("bad-list.csv");
    std::fs::write(&bad, "full_name,dob\nA B,1980\n").unwrap();
    let bad_arg = format!("sanctions={}", bad.display());
    let o = redflag(&[
        "screen",
        input.to_str().unwrap(),
        "--list",
        &bad_arg,
        "--out",
        d.path().join("bad").to_str().unwrap(),
    ]);
    let e = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(e.contains("bad-list.csv: line 1 (header): no `name` column"), "{e}");
    assert!(!e.contains("panicked"), "{e}");
}
