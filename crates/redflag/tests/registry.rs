//! The kind registry is the one source of the fields a rule may have: each kind's
//! declared fields are exactly those its definition type reads, every field is accepted
//! on its own kind, and rejected on every other kind with a message that names its owner.

use std::collections::BTreeMap;
use std::path::Path;

use redflag::kinds::{self, COMMON_FIELDS, KINDS};
use redflag::{Error, Pack, RuleDef, Severity};

fn empty_def(kind: &str) -> RuleDef {
    RuleDef {
        id: "X-1".into(),
        title: "x".into(),
        kind: kind.into(),
        typologies: vec![],
        severity: Severity::Low,
        references: vec![],
        description: String::new(),
        explain: String::new(),
        params: BTreeMap::new(),
        aliases: vec![],
        optional_columns: vec![],
        on_alerts_of: vec![],
        fields: BTreeMap::new(),
    }
}

#[test]
fn each_kind_declares_exactly_the_fields_its_definition_reads() {
    for k in KINDS {
        let written: Vec<String> = k
            .written(&empty_def(k.name()))
            .keys()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect();
        let mut declared: Vec<String> = k.fields().iter().map(|f| f.name.to_string()).collect();
        let mut read = written.clone();
        declared.sort();
        read.sort();
        assert_eq!(
            declared,
            read,
            "kind `{}`: declared fields and its definition type differ",
            k.name()
        );
        for f in k.fields() {
            assert!(!f.doc.is_empty(), "kind `{}`: field `{}` has no doc", k.name(), f.name);
            assert!(
                !COMMON_FIELDS.iter().any(|c| c.name == f.name),
                "kind `{}` declares the common field `{}`",
                k.name(),
                f.name
            );
        }
        assert!(
            k.doc().starts_with(&format!("# Kind `{}`", k.name())),
            "kind `{}`: doc page",
            k.name()
        );
    }
}

/// A value of `field` as the shipped pack writes it (or a plain word).
fn sample_value(field: &str) -> String {
    let pack = Pack::builtin().unwrap();
    for r in &pack.rules {
        if let Some(v) = r.def.fields.get(field) {
            return serde_json::to_string(v).unwrap();
        }
    }
    "\"x\"".into()
}

/// The problems of a one-rule pack: a rule of `kind` with `field` set.
fn problems_of(kind: &str, field: &str) -> Vec<String> {
    let yaml = format!(
        "pack: t\nversion: \"1\"\nrules:\n  - id: X-1\n    title: x\n    kind: {kind}\n    severity: low\n    {field}: {}\n",
        sample_value(field)
    );
    match Pack::parse(&yaml, Path::new("t.yaml"), "t.yaml", false, |_| Err("no lists".into())) {
        Ok(_) => vec![],
        Err(Error::Pack { problems, .. }) => problems.iter().map(|p| p.to_string()).collect(),
        Err(e) => vec![e.to_string()],
    }
}

#[test]
fn every_field_is_accepted_on_its_kind_and_rejected_on_the_others_naming_the_owner() {
    let mut checked = 0;
    for owner in KINDS {
        for f in owner.fields() {
            let owners = kinds::owners(f.name);
            for k in KINDS {
                let problems = problems_of(k.name(), f.name);
                let foreign: Vec<&String> = problems.iter().filter(|p| p.contains("is not used by kind")).collect();
                if owners.contains(&k.name()) {
                    assert!(
                        foreign.is_empty(),
                        "`{}` on its kind `{}`: {foreign:?}",
                        f.name,
                        k.name()
                    );
                    assert!(
                        !problems.iter().any(|p| p.contains("unknown field")),
                        "`{}` on `{}`: {problems:?}",
                        f.name,
                        k.name()
                    );
                } else {
                    let expected = format!("field `{}` is not used by kind `{}`", f.name, k.name());
                    let hit = problems.iter().find(|p| p.contains(&expected));
                    let hit =
                        hit.unwrap_or_else(|| panic!("`{}` on `{}` not rejected: {problems:?}", f.name, k.name()));
                    assert!(hit.contains(&format!("`{}`", owner.name())), "no owner named: {hit}");
                    assert!(hit.contains(&format!("rules[0].{}", f.name)), "no field path: {hit}");
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 6 * 20, "{checked}");
}

#[test]
fn a_field_no_kind_has_is_unknown_with_its_near_name() {
    let problems = problems_of("aggregate", "mesures");
    assert!(
        problems
            .iter()
            .any(|p| p.contains("unknown field `mesures`; did you mean `measures`?")),
        "{problems:?}"
    );
}

#[test]
fn a_stray_watch_list_field_on_an_aggregate_rule_is_reported() {
    let problems = problems_of("aggregate", "min_score");
    assert!(
        problems
            .iter()
            .any(|p| p.contains("field `min_score` is not used by kind `aggregate`; remove it or use kind `watchlist`")),
        "{problems:?}"
    );
}
