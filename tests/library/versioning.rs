//! Pack versioning: the shipped pack's changelog covers its version and its rules.
//! Old ids through `--only`, `--set` and `rules show`: `tests/cli`.

use std::path::PathBuf;

use redflag::Pack;

fn repo(p: &str) -> PathBuf {
    PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap())
        .join("../..")
        .join(p)
}

#[test]
fn versioning_changelog_has_the_pack_version_and_every_rule() {
    let pack = Pack::builtin().unwrap();
    let log = std::fs::read_to_string(repo("rules/CHANGELOG.md")).unwrap();
    let heading = format!("\n## {}\n", pack.version);
    assert!(
        log.contains(&heading),
        "rules/CHANGELOG.md has no entry `## {}` for the pack's version",
        pack.version
    );
    let missing: Vec<&str> = pack
        .rules
        .iter()
        .map(|r| r.id())
        .filter(|id| !log.contains(id))
        .collect();
    assert!(
        missing.is_empty(),
        "rules/CHANGELOG.md does not mention {missing:?}: a rule added to the pack needs a changelog entry"
    );
}
