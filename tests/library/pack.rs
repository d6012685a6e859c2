//! Rule pack loading and validation: every problem, with its place and a hint.

use crate::common::{one_rule, pack, try_pack};

const HR: (&str, &str) = ("hr.txt", "KP\nIR\n");

fn problems(yaml: &str) -> String {
    match try_pack(yaml, &[HR]) {
        Ok(_) => panic!("pack should be rejected"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn the_builtin_pack_loads_with_every_required_rule() {
    let p = redflag::Pack::builtin().unwrap();
    for id in [
        "STR-01", "STR-02", "STR-03", "FLW-02", "FLW-03", "FLW-05", "GEO-01", "GEO-02", "GEO-03", "GEO-04", "WIR-01",
        "DRG-01", "VA-01",
    ] {
        let r = p.rule(id).unwrap_or_else(|| panic!("missing {id}"));
        assert!(!r.def.references.is_empty(), "{id} cites no source");
        assert!(
            r.def.description.to_lowercase().contains("false positive"),
            "{id} does not name its usual false positives"
        );
        assert!(!r.def.explain.is_empty(), "{id} has no explanation");
    }
}

#[test]
fn unknown_column_names_rule_field_line_and_near_name() {
    let e = problems(&one_rule(
        r#"  - id: X-1
    title: t
    kind: filter
    severity: low
    where: "ammount > 5"
"#,
    ));
    assert!(e.contains("test.yaml:13:5"), "{e}");
    assert!(e.contains("rule X-1"), "{e}");
    assert!(e.contains("rules[0].where"), "{e}");
    assert!(e.contains("did you mean `amount`?"), "{e}");
}

#[test]
fn every_problem_is_reported_in_one_pass() {
    let e = problems(&one_rule(
        r#"  - id: X-1
    title: t
    kind: aggregate
    severity: low
    where: "channel = 'cash_in'"
    window: 7 days
    measures:
      n: "count(*)"
    having: "m >= 2"
  - id: X-2
    title: t
    kind: filtr
    severity: low
    where: "REGEXP_LIKE(narrative, '(unclosed')"
  - id: X-3
    title: t
    kind: filter
    severity: low
    where: "REGEXP_LIKE(narrative, '(unclosed')"
"#,
    ));
    assert!(e.starts_with("4 problem(s)"), "{e}");
    assert!(e.contains("bad window `7 days`"), "{e}");
    assert!(e.contains("unknown measure `m`"), "{e}");
    assert!(e.contains("unknown kind `filtr`; did you mean `filter`?"), "{e}");
    assert!(e.contains("invalid regular expression `(unclosed`"), "{e}");
}

#[test]
fn unknown_field_suggests_the_near_name() {
    let e = problems(&one_rule(
        r#"  - id: X-1
    title: t
    kind: filter
    severity: low
    wher: "amount > 5"
"#,
    ));
    assert!(e.contains("unknown field `wher`; did you mean `where`?"), "{e}");
    assert!(e.contains("test.yaml:13:5"), "{e}");
}

#[test]
fn malformed_yaml_gives_line_and_column() {
    let e = problems("pack: x\nversion: \"1\"\nrules:\n  - id: [unclosed\n");
    assert!(e.contains("test.yaml:"), "{e}");
    assert!(e.contains(":5:") || e.contains(":4:"), "{e}");
}

#[test]
fn unknown_top_level_field() {
    let e = problems("pack: x\nversion: \"1\"\nparmas: {}\nrules: []\n");
    assert!(e.contains("did you mean `params`?"), "{e}");
    assert!(e.contains("test.yaml:3"), "{e}");
}

#[test]
fn sequence_rule_without_its_fields_names_each() {
    let e = problems(&one_rule(
        "  - id: X-1\n    title: t\n    kind: sequence\n    severity: low\n    window: 7d\n",
    ));
    for want in [
        "a sequence rule needs `first`",
        "a sequence rule needs `then`",
        "a sequence rule needs `match`",
        "field `window` is not used by kind `sequence`",
    ] {
        assert!(e.contains(want), "missing {want:?} in:\n{e}");
    }
}

#[test]
fn set_overrides_pack_and_rule_parameters() {
    let p = pack(
        &one_rule(
            r#"  - id: X-1
    title: t
    kind: filter
    severity: low
    params: { floor: 5 }
    where: "amount_base > $floor AND amount_base < $reporting_threshold"
"#,
        ),
        &[HR],
    );
    let sets: Vec<redflag::ParamOverride> = ["reporting_threshold=15000", "X-1.floor=7"]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
    let q = p.with_overrides(&sets, &[]).unwrap();
    let r = q.rule("X-1").unwrap();
    assert_eq!(
        r.conditions[0].sql.as_deref(),
        Some("amount_base > 7 AND amount_base < 15000")
    );
    let bad: Vec<redflag::ParamOverride> = vec!["reporting_treshold=1".parse().unwrap()];
    let e = p.with_overrides(&bad, &[]).unwrap_err().to_string();
    assert!(e.contains("did you mean `reporting_threshold`"), "{e}");
    let bad: Vec<redflag::ParamOverride> = vec!["floor=1".parse().unwrap()];
    let e = p.with_overrides(&bad, &[]).unwrap_err().to_string();
    assert!(e.contains("write RULE.floor=VALUE"), "{e}");
}

#[test]
fn aliases_find_renamed_rules_and_ids_are_never_reused() {
    let p = pack(
        &one_rule("  - id: NEW-1\n    title: t\n    kind: filter\n    severity: low\n    aliases: [OLD-1]\n    where: \"amount > 1\"\n"),
        &[HR],
    );
    assert_eq!(p.rule("OLD-1").map(|r| r.id()), Some("NEW-1"));
    let e = problems(&one_rule(
        "  - id: A-1\n    title: t\n    kind: filter\n    severity: low\n    where: \"amount > 1\"\n  - id: B-1\n    title: t\n    kind: filter\n    severity: low\n    aliases: [A-1]\n    where: \"amount > 1\"\n",
    ));
    assert!(e.contains("already used"), "{e}");
}

#[test]
fn toml_packs_are_accepted() {
    let toml = r#"pack = "t"
version = "1"
[params]
reporting_threshold = 10000
[[rules]]
id = "X-1"
title = "t"
kind = "filter"
severity = "low"
where = "amount_base >= $reporting_threshold"
"#;
    let p = redflag::Pack::parse(toml, std::path::Path::new("t.toml"), "t.toml", true, |_| {
        Err("none".into())
    })
    .unwrap();
    assert_eq!(p.rules[0].conditions[0].sql.as_deref(), Some("amount_base >= 10000"));
}
