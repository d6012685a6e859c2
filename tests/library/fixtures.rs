//! Rule fixtures: one folder a rule of the default pack, `tests/cases/<RULE-ID>/`.
//!
//! Each folder holds:
//!
//! - `transactions.csv`: a small, hand-written input in the canonical layout (only the
//!   columns the rule needs);
//! - `case.yaml`: what the rows are for. `groups` name the accounts of each row group and
//!   say whether the rule must fire on them: a `hit` must, a `near_miss` (just past a
//!   threshold) must not, a `boundary` (exactly at a threshold) says which with `fires`;
//!   an alert on an account that no firing group names is an error, so that the groups
//!   explain every alert of `expected.json`.
//!   Optional `set` (`NAME=VALUE` or `RULE.NAME=VALUE`, as `--set`) and `lists`
//!   (`NAME: file` in the folder, as `--list`) bind the rule's parameters and lists;
//!   `with` names rules to run beside it (a rule with `on_alerts_of` brings the rules it
//!   screens by itself); their own alerts are not recorded;
//! - `expected.json`: the alerts of the rule run alone (`--only RULE-ID`) over the file
//!   with the default pack: account, side, span, transactions, measures and explanation,
//!   sorted.
//!
//! The runner checks both: the groups' intent, then the exact alerts. A difference fails
//! with the case's name and a line diff. `REDFLAG_BLESS=1 cargo test -p redflag --test
//! library fixtures` rewrites `expected.json` from the alerts found, after the intent checks
//! have passed (a near miss that fires cannot be blessed). Read the diff before committing
//! a blessed file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use redflag::{Alert, IngestOptions, Pack, ParamOverride};
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    /// The rule the folder is for (its name, written out again for the reader).
    rule: String,
    /// What the case shows, in a few sentences.
    about: String,
    /// `--set` overrides.
    #[serde(default)]
    set: Vec<String>,
    /// `--list` bindings, paths relative to the folder.
    #[serde(default)]
    lists: BTreeMap<String, String>,
    /// Rules run beside it (those an `on_alerts_of` rule screens come along by
    /// themselves); their own alerts are not recorded.
    #[serde(default)]
    with: Vec<String>,
    /// The row groups.
    groups: Vec<Group>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Group {
    /// `hit`, `near_miss` or `boundary`.
    role: Role,
    /// The accounts the rule screens in this group.
    accounts: Vec<String>,
    /// Whether the rule fires on them (required for a boundary; implied otherwise).
    #[serde(default)]
    fires: Option<bool>,
    /// Which rows, and why they fire or not.
    note: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Role {
    Hit,
    NearMiss,
    Boundary,
}

/// An alert as the fixtures record it.
#[derive(Debug)]
struct Expected {
    account: String,
    side: String,
    window_start: String,
    window_end: String,
    txn_ids: Vec<String>,
    linked_accounts: Vec<String>,
    measures: BTreeMap<String, serde_json::Value>,
    explanation: String,
}

#[derive(Debug)]
struct ExpectedFile {
    rule: String,
    alerts: Vec<Expected>,
}

fn cases_dir() -> PathBuf {
    Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("../../tests/cases")
}

fn case_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .expect("tests/cases exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

fn bless() -> bool {
    std::env::var_os("REDFLAG_BLESS").is_some_and(|v| v != "0" && !v.is_empty())
}

/// Runs one case; `Err` says what is wrong.
fn run_case(dir: &Path, builtin: &Pack) -> Result<(), String> {
    let name = dir.file_name().unwrap().to_string_lossy().into_owned();
    let case_text = std::fs::read_to_string(dir.join("case.yaml")).map_err(|e| format!("case.yaml: {e}"))?;
    let case: Case = serde_yaml_ng::from_str(&case_text).map_err(|e| format!("case.yaml: {e}"))?;
    if case.rule != name {
        return Err(format!("case.yaml names rule `{}`, the folder `{name}`", case.rule));
    }
    if case.about.trim().is_empty() {
        return Err("case.yaml: `about` is empty".into());
    }
    check_groups(&case)?;

    let rule = builtin
        .rule(&name)
        .ok_or_else(|| format!("no rule `{name}` in the default pack"))?;
    if rule.id() != name {
        return Err(format!(
            "the folder names the alias `{name}` of {}: rename it",
            rule.id()
        ));
    }
    let sets = case
        .set
        .iter()
        .map(|s| s.parse::<ParamOverride>().map_err(|e| format!("set `{s}`: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    let lists: Vec<(String, PathBuf)> = case.lists.iter().map(|(n, p)| (n.clone(), dir.join(p))).collect();
    let mut ids = vec![name.clone()];
    ids.extend(case.with.iter().cloned());
    let pack = builtin
        .only(&ids)
        .and_then(|p| p.with_overrides(&sets, &lists))
        .map_err(|e| format!("pack: {e}"))?;

    let opts = IngestOptions {
        mapping: None,
        fx: None,
        base_currency: pack.base_currency.clone(),
        threads: None,
        columns: None,
    };
    let data = redflag::ingest(&[dir.join("transactions.csv")], &opts).map_err(|e| format!("ingest: {e}"))?;
    if let Some(q) = redflag::quarantine_csv(&data).map_err(|e| format!("quarantine: {e}"))? {
        return Err(format!("rows of transactions.csv quarantined:\n{q}"));
    }
    let result = redflag::screen(&pack, &data).map_err(|e| format!("screen: {e}"))?;
    if let Some(na) = result.run.not_applicable.iter().find(|n| n.rule_id == name) {
        return Err(format!(
            "the rule is not applicable: transactions.csv lacks {}",
            na.missing_columns.join(", ")
        ));
    }
    // Other rules run only when `with` names them or the rule screens their alerts
    // (`on_alerts_of`, which `only` follows); their alerts are not the case's.
    let alerts: Vec<&Alert> = result.alerts().filter(|a| a.rule_id == name).collect();

    // The intent, before any comparison (so that blessing cannot record a wrong outcome).
    let mut problems = Vec::new();
    for g in &case.groups {
        let fires = g.fires.unwrap_or(g.role == Role::Hit);
        for acct in &g.accounts {
            let as_subject = alerts.iter().any(|a| &a.account == acct);
            let linked = alerts.iter().any(|a| a.linked_accounts.contains(acct));
            if fires && !as_subject {
                problems.push(format!(
                    "{:?} account {acct} must fire and does not ({})",
                    g.role,
                    g.note.trim()
                ));
            }
            if !fires && (as_subject || linked) {
                problems.push(format!(
                    "{:?} account {acct} must not fire and is in an alert ({})",
                    g.role,
                    g.note.trim()
                ));
            }
        }
    }
    // Every alert is explained by the case: its account is in a group that fires.
    let firing: BTreeSet<&String> = case
        .groups
        .iter()
        .filter(|g| g.fires.unwrap_or(g.role == Role::Hit))
        .flat_map(|g| g.accounts.iter())
        .collect();
    for a in &alerts {
        if !firing.contains(&a.account) {
            problems.push(format!(
                "an alert on {} ({}), which no hit or firing boundary group names",
                a.account,
                a.txn_ids.join(", ")
            ));
        }
    }
    if !problems.is_empty() {
        return Err(format!(
            "{}\nalerts found:\n{}",
            problems.join("\n"),
            render(&expected_of(&name, &alerts))
        ));
    }

    let actual = render(&expected_of(&name, &alerts));
    let path = dir.join("expected.json");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed == actual {
        return Ok(());
    }
    if bless() {
        std::fs::write(&path, &actual).map_err(|e| format!("writing expected.json: {e}"))?;
        return Ok(());
    }
    if committed.is_empty() {
        return Err(format!("no expected.json; the alerts found:\n{actual}"));
    }
    Err(format!(
        "expected.json differs (- expected, + found):\n{}",
        line_diff(&committed, &actual)
    ))
}

/// A case needs a hit and a near miss; a boundary must say whether it fires; an account is
/// in one group only.
fn check_groups(case: &Case) -> Result<(), String> {
    let has = |r: Role| case.groups.iter().any(|g| g.role == r && !g.accounts.is_empty());
    if !has(Role::Hit) {
        return Err("case.yaml has no `hit` group".into());
    }
    if !has(Role::NearMiss) {
        return Err("case.yaml has no `near_miss` group".into());
    }
    let mut seen = BTreeSet::new();
    for g in &case.groups {
        if g.note.trim().is_empty() {
            return Err(format!("case.yaml: a {:?} group has no note", g.role));
        }
        match (g.role, g.fires) {
            (Role::Boundary, None) => return Err("case.yaml: a boundary group must say `fires: true|false`".into()),
            (Role::Hit, Some(false)) | (Role::NearMiss, Some(true)) => {
                return Err(format!("case.yaml: a {:?} group contradicts its `fires`", g.role))
            }
            _ => {}
        }
        for a in &g.accounts {
            if !seen.insert(a.clone()) {
                return Err(format!("case.yaml: account {a} is in two groups"));
            }
        }
    }
    Ok(())
}

fn expected_of(rule: &str, alerts: &[&Alert]) -> ExpectedFile {
    let mut out: Vec<Expected> = alerts
        .iter()
        .map(|a| Expected {
            account: a.account.clone(),
            side: a.side.as_str().to_string(),
            window_start: a.window_start.clone(),
            window_end: a.window_end.clone(),
            txn_ids: a.txn_ids.clone(),
            linked_accounts: a.linked_accounts.clone(),
            measures: a.measures.clone(),
            explanation: a.explanation.clone(),
        })
        .collect();
    out.sort_by(|x, y| (&x.account, &x.window_start, &x.txn_ids).cmp(&(&y.account, &y.window_start, &y.txn_ids)));
    ExpectedFile {
        rule: rule.to_string(),
        alerts: out,
    }
}

/// JSON with one line a field of an alert, so that a diff shows what changed.
fn render(e: &ExpectedFile) -> String {
    let mut s = format!(
        "{{\n  \"rule\": {},\n  \"alerts\": [",
        serde_json::to_string(&e.rule).unwrap()
    );
    for (i, a) in e.alerts.iter().enumerate() {
        s.push_str(if i == 0 { "\n    {\n" } else { ",\n    {\n" });
        let mut fields = vec![
            ("account", j(&a.account)),
            ("side", j(&a.side)),
            ("window_start", j(&a.window_start)),
            ("window_end", j(&a.window_end)),
            ("txn_ids", j(&a.txn_ids)),
        ];
        if !a.linked_accounts.is_empty() {
            fields.push(("linked_accounts", j(&a.linked_accounts)));
        }
        fields.push(("measures", j(&a.measures)));
        fields.push(("explanation", j(&a.explanation)));
        let lines: Vec<String> = fields.iter().map(|(k, v)| format!("      \"{k}\": {v}")).collect();
        s.push_str(&lines.join(",\n"));
        s.push_str("\n    }");
    }
    s.push_str(if e.alerts.is_empty() { "]\n}\n" } else { "\n  ]\n}\n" });
    s
}

/// A value as compact JSON.
fn j<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap()
}

/// A line diff (longest common subsequence), with two lines of context around changes.
fn line_diff(old: &str, new: &str) -> String {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let mut lcs = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut ops: Vec<(char, &str)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            ops.push((' ', a[i]));
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            ops.push(('-', a[i]));
            i += 1;
        } else {
            ops.push(('+', b[j]));
            j += 1;
        }
    }
    let near_change = |k: usize| {
        let lo = k.saturating_sub(2);
        let hi = (k + 3).min(ops.len());
        ops[lo..hi].iter().any(|(c, _)| *c != ' ')
    };
    let mut out = String::new();
    let mut skipped = false;
    for (k, (c, l)) in ops.iter().enumerate() {
        if near_change(k) {
            out.push_str(&format!("{c} {l}\n"));
            skipped = false;
        } else if !skipped {
            out.push_str("  ...\n");
            skipped = true;
        }
    }
    out
}

#[test]
fn fixtures_every_case_passes() {
    let pack = Pack::builtin().unwrap();
    let mut failures = Vec::new();
    let dirs = case_dirs();
    for dir in &dirs {
        if let Err(e) = run_case(dir, &pack) {
            let name = dir.file_name().unwrap().to_string_lossy().into_owned();
            failures.push(format!("case tests/cases/{name}: {e}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} fixture cases failed (REDFLAG_BLESS=1 rewrites expected.json once the intent checks pass):\n\n{}",
        failures.len(),
        dirs.len(),
        failures.join("\n\n")
    );
}

#[test]
fn fixtures_cover_every_rule_of_the_default_pack() {
    let pack = Pack::builtin().unwrap();
    let folders: BTreeSet<String> = case_dirs()
        .iter()
        .map(|d| d.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let ids: BTreeSet<String> = pack.rules.iter().map(|r| r.id().to_string()).collect();
    let missing: Vec<&String> = ids.difference(&folders).collect();
    let stray: Vec<&String> = folders.difference(&ids).collect();
    assert!(
        missing.is_empty(),
        "rules without a fixture under tests/cases/: {missing:?}; add a folder with transactions.csv, case.yaml and expected.json"
    );
    assert!(
        stray.is_empty(),
        "folders under tests/cases/ that name no rule of the default pack: {stray:?}"
    );
}

#[test]
fn fixtures_runner_diff_shows_the_changed_lines() {
    let d = line_diff("a\nb\nc\nd\ne\nf\ng\n", "a\nb\nc\nX\ne\nf\ng\n");
    assert_eq!(d, "  ...\n  b\n  c\n- d\n+ X\n  e\n  f\n  ...\n");
}

#[test]
fn fixtures_runner_rejects_a_case_without_a_near_miss() {
    let case: Case =
        serde_yaml_ng::from_str("rule: X-1\nabout: a\ngroups:\n  - role: hit\n    accounts: [A]\n    note: fires\n")
            .unwrap();
    assert!(check_groups(&case).unwrap_err().contains("near_miss"));
    let case: Case = serde_yaml_ng::from_str(
        "rule: X-1\nabout: a\ngroups:\n  - {role: hit, accounts: [A], note: n}\n  - {role: near_miss, accounts: [B], note: n}\n  - {role: boundary, accounts: [C], note: n}\n",
    )
    .unwrap();
    assert!(check_groups(&case).unwrap_err().contains("fires"));
}

#[test]
fn fixtures_runner_applies_a_cases_set_and_checks_the_intent() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("STR-01");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(
        dir.join("transactions.csv"),
        "txn_id,ts,amount,orig_account,bene_account,channel\n\
         h1,2026-03-02 10:00:00,9500,,HIT,cash_in\n\
         h2,2026-03-03 10:00:00,9600,,HIT,cash_in\n\
         m1,2026-03-02 10:00:00,8000,,MISS,cash_in\n",
    )
    .unwrap();
    let case = |set: &str| {
        format!(
            "rule: STR-01\nabout: two deposits in the band\nset: [{set}]\ngroups:\n  \
             - {{role: hit, accounts: [HIT], note: h1-h2}}\n  - {{role: near_miss, accounts: [MISS], note: m1}}\n"
        )
    };
    let pack = Pack::builtin().unwrap();
    // With three deposits needed in 7 days, the hit no longer fires: the intent check says so
    // before any expected.json is read, and nothing is written.
    std::fs::write(dir.join("case.yaml"), case("\"STR-01.min_deposits_7d=3\"")).unwrap();
    let e = run_case(&dir, &pack).unwrap_err();
    assert!(e.contains("Hit account HIT must fire and does not"), "{e}");
    assert!(!dir.join("expected.json").exists());
    // With the default, it fires, and a missing expected.json shows what was found.
    std::fs::write(dir.join("case.yaml"), case("")).unwrap();
    let e = run_case(&dir, &pack).unwrap_err();
    assert!(
        e.starts_with("no expected.json") && e.contains("\"account\": \"HIT\""),
        "{e}"
    );
    // A parameter the rule lacks is an error that names it.
    std::fs::write(dir.join("case.yaml"), case("\"STR-01.min_deposit=3\"")).unwrap();
    assert!(run_case(&dir, &pack).unwrap_err().contains("min_deposit"));
}
