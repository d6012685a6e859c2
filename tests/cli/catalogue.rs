//! The rule catalogue through the command line: `redflag rules doc` writes the same
//! catalogue to a file and to stdout, and every red flag of the typology list is in the pack.

use std::path::PathBuf;
use std::process::Command;

use redflag::Pack;

fn repo(p: &str) -> PathBuf {
    PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap())
        .join("../..")
        .join(p)
}

/// The red flags of the typology list the default pack implements: every id of
/// TYPOLOGIES.md.
const TYPOLOGY_IDS: &[&str] = &[
    "STR-01", "STR-02", "STR-03", "STR-04", "STR-05", "FLW-01", "FLW-02", "FLW-03", "FLW-04", "FLW-05", "FLW-06",
    "BEH-01", "BEH-02", "BEH-03", "BEH-04", "GEO-01", "GEO-02", "GEO-03", "GEO-04", "TF-01", "TF-02", "TF-03", "HT-01",
    "HT-02", "HT-03", "HT-04", "DRG-01", "DRG-02", "MUL-01", "VA-01", "WIR-01", "TBML-01", "TXT-01", "SAN-01",
    "SAN-02",
];

#[test]
fn catalogue_rules_doc_writes_the_same_to_a_file_and_to_stdout() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("catalogue.md");
    let bin = env!("CARGO_BIN_EXE_redflag");
    let o = Command::new(bin)
        .args(["rules", "doc", "--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(o.stdout.is_empty());
    let o = Command::new(bin).args(["rules", "doc"]).output().unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), o.stdout);
    assert_eq!(
        String::from_utf8(o.stdout).unwrap(),
        redflag::catalogue(&Pack::builtin().unwrap())
    );
    // The pack file gives the same catalogue as the built-in copy of it.
    let o = Command::new(bin)
        .args(["rules", "doc", repo("rules/fatf-core.yaml").to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(o.stdout).unwrap(),
        std::fs::read_to_string(&out).unwrap()
    );
}

#[test]
fn catalogue_rules_list_and_show_cover_the_typology_list() {
    let bin = env!("CARGO_BIN_EXE_redflag");
    let o = Command::new(bin).args(["rules", "list"]).output().unwrap();
    let list = String::from_utf8(o.stdout).unwrap();
    let listed: Vec<&str> = list
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    for id in TYPOLOGY_IDS {
        assert!(listed.contains(id), "`redflag rules list` lacks {id}:\n{list}");
        let o = Command::new(bin).args(["rules", "show", id]).output().unwrap();
        assert_eq!(o.status.code(), Some(0), "rules show {id}");
        let show = String::from_utf8(o.stdout).unwrap();
        let refs = &show[show
            .find("references:")
            .unwrap_or_else(|| panic!("{id}: no references"))..];
        assert!(
            refs.lines().filter(|l| l.trim_start().starts_with("- ")).count() >= 1,
            "{id}: {show}"
        );
    }
}
