//! The rule catalogue: `rules/README.md` is the default pack's catalogue, and it
//! documents every rule in its family. `redflag rules doc` and the typology list: `tests/cli`.

use std::path::PathBuf;

use redflag::catalogue::FAMILIES;
use redflag::Pack;

fn repo(p: &str) -> PathBuf {
    PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap())
        .join("../..")
        .join(p)
}

#[test]
fn catalogue_committed_is_the_default_packs() {
    let doc = redflag::catalogue(&Pack::builtin().unwrap());
    let path = repo("rules/README.md");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed == doc {
        return;
    }
    if std::env::var_os("REDFLAG_BLESS").is_some_and(|v| v != "0" && !v.is_empty()) {
        std::fs::write(&path, &doc).unwrap();
        return;
    }
    let line = committed
        .lines()
        .zip(doc.lines())
        .position(|(a, b)| a != b)
        .unwrap_or_else(|| committed.lines().count().min(doc.lines().count()));
    panic!(
        "rules/README.md is not the catalogue of rules/fatf-core.yaml (first difference at line {}:\n  \
         committed: {:?}\n  generated: {:?});\nregenerate it with `cargo run -p redflag-cli -- rules doc --out \
         rules/README.md` (or REDFLAG_BLESS=1 cargo test -p redflag --test library catalogue) and commit it",
        line + 1,
        committed.lines().nth(line).unwrap_or("(end of file)"),
        doc.lines().nth(line).unwrap_or("(end of file)"),
    );
}

#[test]
fn catalogue_documents_every_rule_in_its_family() {
    let pack = Pack::builtin().unwrap();
    let doc = redflag::catalogue(&pack);
    for r in &pack.rules {
        let heading = format!("### {}: {}", r.id(), r.def.title.trim());
        let at = doc.find(&heading).unwrap_or_else(|| panic!("no section `{heading}`"));
        let section = &doc[at..];
        let section = &section[..section[4..].find("\n### ").map_or(section.len(), |i| i + 4)];
        // Its family is the last family heading before it.
        let (family, _) = redflag::catalogue::family_of(r.id());
        let before = &doc[..at];
        let last_family = before.rfind("\n## ").map(|i| &before[i + 4..]).unwrap();
        assert!(last_family.starts_with(family), "{} is not under `## {family}`", r.id());
        for s in &r.def.references {
            assert!(section.contains(s.trim()), "{}: source `{s}` missing", r.id());
        }
        for p in r.def.params.keys() {
            assert!(
                section.contains(&format!("| `{p}` |")),
                "{}: parameter `{p}` missing from its table",
                r.id()
            );
        }
        assert!(section.contains("**What it finds.**"), "{}", r.id());
        assert!(
            section.contains("**Usual false positives.**"),
            "{}: no false positives",
            r.id()
        );
        assert!(section.contains("**Logic**"), "{}: no logic", r.id());
        assert!(doc.contains(&format!("<a id=\"{}\"></a>", r.id().to_lowercase())));
    }
    // The families appear in the order of the typology list.
    let mut last = 0;
    for (family, _) in FAMILIES {
        if let Some(i) = doc.find(&format!("\n## {family}\n")) {
            assert!(i > last, "family `{family}` out of order");
            last = i;
        }
    }
}

#[test]
fn catalogue_shows_the_exact_logic_and_the_parameter_defaults() {
    let doc = redflag::catalogue(&Pack::builtin().unwrap());
    let str01 = &doc[doc.find("### STR-01:").unwrap()..doc.find("### STR-02:").unwrap()];
    assert!(
        str01.contains("where: channel = 'cash_in' AND amount_base >= $near_threshold_ratio * $reporting_threshold"),
        "{str01}"
    );
    assert!(
        str01.contains("- window: 7d\n  having: n >= $min_deposits_7d"),
        "{str01}"
    );
    assert!(
        str01.contains("| `min_deposits_7d` | `2` | `--set STR-01.min_deposits_7d=…` |"),
        "{str01}"
    );
    assert!(
        str01.contains("| `reporting_threshold` | `10000` | `--set reporting_threshold=…` (pack-wide) |"),
        "{str01}"
    );
    let geo01 = &doc[doc.find("### GEO-01:").unwrap()..doc.find("### GEO-02:").unwrap()];
    assert!(
        geo01.contains("- `fatf_call_for_action` (lists/fatf-call-for-action.txt): KP, IR, MM"),
        "{geo01}"
    );
}
