//! The catalogue of a rule pack, as Markdown: every rule grouped by typology family, with
//! what it finds, its usual false positives, its exact logic, its parameters and their
//! defaults, the lists and columns it reads, its explanation and its sources.
//!
//! `redflag rules doc --out rules/README.md` writes the shipped pack's catalogue; a test
//! fails when the committed file and the pack disagree.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use crate::model::{ParamValue, Rule, SideSel};
use crate::pack::Pack;

/// The typology families of the catalogue, in order, with the id prefixes of their rules
/// (the sections of the typology list the default pack implements). A rule whose prefix is
/// in none of them is listed under "Other rules".
pub const FAMILIES: &[(&str, &[&str])] = &[
    ("Structuring, smurfing, funnel accounts", &["STR"]),
    ("Flow-through, fan-in, fan-out, cycles, round amounts", &["FLW"]),
    ("Behaviour against the account's own history", &["BEH"]),
    ("Geography", &["GEO"]),
    ("Terrorist financing and foreign terrorist fighters", &["TF"]),
    ("Human trafficking and labour exploitation", &["HT"]),
    ("Drugs and cash-intensive business", &["DRG"]),
    ("Mules, virtual assets, wires, trade", &["MUL", "VA", "WIR", "TBML"]),
    ("Text and names", &["TXT", "SAN"]),
];

const OTHER: &str = "Other rules";

/// The marker that starts the false-positive part of a rule's description.
const FALSE_POSITIVES: &str = "Usual false positives:";

/// The family a rule id belongs to, and the rank of its prefix in that family.
pub fn family_of(id: &str) -> (&'static str, usize) {
    let prefix = id.split('-').next().unwrap_or(id);
    for (name, prefixes) in FAMILIES {
        if let Some(i) = prefixes.iter().position(|p| p.eq_ignore_ascii_case(prefix)) {
            return (name, i);
        }
    }
    (OTHER, 0)
}

/// The pack's catalogue as Markdown. The same pack gives the same bytes.
pub fn catalogue(pack: &Pack) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# Rule catalogue: `{}` {}\n", pack.id, pack.version);
    let _ = writeln!(
        o,
        "<!-- Generated from the pack by `redflag rules doc --out FILE`; do not edit by hand. -->\n"
    );
    if !pack.title.is_empty() {
        let _ = writeln!(o, "{}.\n", pack.title.trim_end_matches('.'));
    }
    if !pack.description.trim().is_empty() {
        let _ = writeln!(o, "{}\n", pack.description.trim());
    }
    let _ = writeln!(
        o,
        "{} rules. Amounts are in the base currency, {}. Red flags are signals to weigh, never \
         verdicts: each rule below says what usually sets it off legitimately. The numbers are \
         defaults to calibrate on your own data, not regulatory values, except where a source \
         names them; `--set NAME=VALUE` (pack-wide) or `--set RULE.NAME=VALUE` (one rule) \
         overrides a parameter and `--list NAME=PATH` replaces a list. In each rule's logic, \
         `$name` is a parameter and `@name` a list.\n",
        pack.rules.len(),
        pack.base_currency
    );

    let families = grouped(pack);
    let _ = writeln!(o, "## Contents\n");
    let _ = writeln!(o, "| family | id | title | kind | severity |\n|---|---|---|---|---|");
    for (family, rules) in &families {
        for r in rules {
            let _ = writeln!(
                o,
                "| {} | [{}](#{}) | {} | {} | {} |",
                family,
                r.id(),
                anchor(r.id()),
                cell(&r.def.title),
                r.kind.name(),
                r.def.severity
            );
        }
    }

    params_section(&mut o, pack);
    lists_section(&mut o, pack);

    for (family, rules) in &families {
        let _ = writeln!(o, "\n## {family}");
        for r in rules {
            rule_section(&mut o, pack, r);
        }
    }
    o
}

/// The rules grouped by family, families in catalogue order, rules by prefix rank then id.
fn grouped(pack: &Pack) -> Vec<(&'static str, Vec<&Rule>)> {
    let mut by: BTreeMap<usize, (&'static str, Vec<&Rule>)> = BTreeMap::new();
    for r in &pack.rules {
        let (family, _) = family_of(r.id());
        let pos = FAMILIES
            .iter()
            .position(|(f, _)| *f == family)
            .unwrap_or(FAMILIES.len());
        by.entry(pos).or_insert_with(|| (family, Vec::new())).1.push(r);
    }
    let mut out: Vec<(&'static str, Vec<&Rule>)> = by.into_values().collect();
    for (_, rules) in &mut out {
        rules.sort_by(|a, b| (family_of(a.id()).1, a.id()).cmp(&(family_of(b.id()).1, b.id())));
    }
    out
}

fn anchor(id: &str) -> String {
    id.to_lowercase()
}

/// A table cell: pipes escaped, lines joined.
fn cell(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ").replace('|', "\\|")
}

/// A default as it would be written after `--set NAME=`.
fn value(v: &ParamValue) -> String {
    match v {
        ParamValue::Number(_) => format!("`{}`", v.to_sql()),
        _ => format!("`{}`", v.display()),
    }
}

fn params_section(o: &mut String, pack: &Pack) {
    if pack.params.is_empty() {
        return;
    }
    let _ = writeln!(o, "\n## Pack-wide parameters\n");
    let _ = writeln!(o, "| parameter | default | used by |\n|---|---|---|");
    for (name, v) in &pack.params {
        let users: Vec<String> = pack
            .rules
            .iter()
            .filter(|r| params_named(r).contains(name))
            .map(|r| format!("[{}](#{})", r.id(), anchor(r.id())))
            .collect();
        let _ = writeln!(
            o,
            "| `{name}` | {} | {} |",
            value(v),
            if users.is_empty() {
                "—".into()
            } else {
                users.join(", ")
            }
        );
    }
}

fn lists_section(o: &mut String, pack: &Pack) {
    if pack.lists.is_empty() {
        return;
    }
    let _ = writeln!(o, "\n## Reference lists\n");
    let _ = writeln!(
        o,
        "Paths are relative to the pack file. Lists are compared as written in them.\n"
    );
    let _ = writeln!(o, "| list | file | values | used by |\n|---|---|---|---|");
    for (name, l) in &pack.lists {
        let users: Vec<String> = pack
            .rules
            .iter()
            .filter(|r| r.lists.contains(name))
            .map(|r| format!("[{}](#{})", r.id(), anchor(r.id())))
            .collect();
        let _ = writeln!(
            o,
            "| `{name}` | `{}` | {} | {} |",
            files(&l.source),
            list_values(&l.values),
            if users.is_empty() {
                "—".into()
            } else {
                users.join(", ")
            }
        );
    }
}

/// A list's files, those of a multi-file list shortened to `dir/name-{a,b}.txt`.
fn files(source: &str) -> String {
    let paths: Vec<&str> = source.split(", ").collect();
    if paths.len() < 2 {
        return source.to_string();
    }
    let common = |a: &str, b: &str, rev: bool| -> usize {
        let (x, y): (Vec<char>, Vec<char>) = if rev {
            (a.chars().rev().collect(), b.chars().rev().collect())
        } else {
            (a.chars().collect(), b.chars().collect())
        };
        x.iter().zip(&y).take_while(|(p, q)| p == q).count()
    };
    let pre = paths.iter().map(|p| common(paths[0], p, false)).min().unwrap_or(0);
    let suf = paths.iter().map(|p| common(paths[0], p, true)).min().unwrap_or(0);
    let shortest = paths.iter().map(|p| p.chars().count()).min().unwrap_or(0);
    if pre + suf >= shortest {
        return source.to_string();
    }
    let head: String = paths[0].chars().take(pre).collect();
    let tail: String = paths[0].chars().skip(paths[0].chars().count() - suf).collect();
    let mids: Vec<String> = paths
        .iter()
        .map(|p| {
            let n = p.chars().count();
            p.chars().skip(pre).take(n - pre - suf).collect()
        })
        .collect();
    format!("{head}{{{}}}{tail}", mids.join(","))
}

/// A list's values in a table cell: all of them when there are a few, else how many.
fn list_values(values: &[String]) -> String {
    if values.len() <= 12 {
        cell(&values.join(", "))
    } else {
        format!("{} values", values.len())
    }
}

/// The parameters a rule refers to: `$name` in its logic, `{name}` in its explanation,
/// and its own.
fn params_named(r: &Rule) -> BTreeSet<String> {
    let mut names: BTreeSet<String> = r.def.params.keys().cloned().collect();
    let logic = logic_yaml(r);
    let mut rest = logic.as_str();
    while let Some(i) = rest.find('$') {
        let tail = &rest[i + 1..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        if end > 0 {
            names.insert(tail[..end].to_string());
        }
        rest = &tail[end..];
    }
    for ph in crate::model::placeholders(&r.def.explain) {
        if r.params.contains_key(&ph) {
            names.insert(ph);
        }
    }
    names
}

/// The rule's kind-specific fields as written, in YAML: everything but the fields the
/// catalogue shows elsewhere, without empty ones.
fn logic_yaml(r: &Rule) -> String {
    let kind = crate::kinds::of(r);
    let mut m = kind.written(&r.def);
    if let Ok(v) = serde_yaml_ng::to_value(&r.def.on_alerts_of) {
        m.insert("on_alerts_of".into(), v);
    }
    // The logic: `on_alerts_of`, then the kind's own fields in the order the kind
    // declares them (the order it works), `side` aside (the header shows it).
    let mut order: Vec<&str> = vec!["on_alerts_of"];
    order.extend(kind.fields().iter().map(|f| f.name).filter(|f| *f != "side"));
    m.retain(|k, _| k.as_str().is_some_and(|k| order.contains(&k)));
    let rank = |k: &serde_yaml_ng::Value| {
        k.as_str()
            .and_then(|k| order.iter().position(|o| *o == k))
            .unwrap_or(order.len())
    };
    let mut fields: Vec<(serde_yaml_ng::Value, serde_yaml_ng::Value)> = m.into_iter().collect();
    fields.sort_by_key(|(k, _)| rank(k));
    let v = prune(serde_yaml_ng::Value::Mapping(fields.into_iter().collect()));
    match v {
        serde_yaml_ng::Value::Mapping(m) if m.is_empty() => String::new(),
        v => serde_yaml_ng::to_string(&v).unwrap_or_default(),
    }
}

/// Drops nulls, empty sequences and empty mappings, recursively.
fn prune(v: serde_yaml_ng::Value) -> serde_yaml_ng::Value {
    use serde_yaml_ng::Value;
    let empty = |v: &Value| match v {
        Value::Null => true,
        Value::Sequence(s) => s.is_empty(),
        Value::Mapping(m) => m.is_empty(),
        _ => false,
    };
    match v {
        Value::Mapping(m) => Value::Mapping(
            m.into_iter()
                .map(|(k, v)| (k, prune(v)))
                .filter(|(_, v)| !empty(v))
                .collect(),
        ),
        Value::Sequence(s) => Value::Sequence(s.into_iter().map(prune).filter(|v| !empty(v)).collect()),
        v => v,
    }
}

fn side_text(s: SideSel) -> &'static str {
    match s {
        SideSel::In => "in (the receiving account)",
        SideSel::Out => "out (the paying account)",
        SideSel::Both => "both (paying and receiving accounts)",
    }
}

fn rule_section(o: &mut String, pack: &Pack, r: &Rule) {
    let d = &r.def;
    let _ = writeln!(o, "\n<a id=\"{}\"></a>\n", anchor(r.id()));
    let _ = writeln!(o, "### {}: {}\n", d.id, d.title.trim());
    let _ = writeln!(o, "| kind | severity | typologies | side |\n|---|---|---|---|");
    let _ = writeln!(
        o,
        "| `{}` | {} | {} | {} |\n",
        r.kind.name(),
        d.severity,
        d.typologies.join(", "),
        crate::kinds::of(r).side_text(r).unwrap_or_else(|| side_text(r.side))
    );
    if !d.aliases.is_empty() {
        let _ = writeln!(
            o,
            "Formerly: {} (still accepted by `--only`, `--set` and `rules show`).\n",
            d.aliases
                .iter()
                .map(|a| format!("`{a}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }

    let desc = d.description.trim();
    let (finds, fps) = match desc.find(FALSE_POSITIVES) {
        Some(i) => (desc[..i].trim(), desc[i + FALSE_POSITIVES.len()..].trim()),
        None => (desc, ""),
    };
    if !finds.is_empty() {
        let _ = writeln!(o, "**What it finds.** {}\n", paragraphs(finds));
    }
    if !fps.is_empty() {
        let _ = writeln!(o, "**Usual false positives.** {}\n", capitalised(&paragraphs(fps)));
    }

    let logic = logic_yaml(r);
    if !logic.is_empty() {
        let _ = writeln!(o, "**Logic**, as written in the pack:\n\n```yaml\n{}```\n", logic);
    }

    let names = params_named(r);
    if !names.is_empty() {
        let _ = writeln!(o, "**Parameters**\n");
        let _ = writeln!(o, "| parameter | default | override |\n|---|---|---|");
        for name in &names {
            let (v, set) = match d.params.get(name) {
                Some(v) => (Some(v), format!("`--set {}.{name}=…`", d.id)),
                None => (pack.params.get(name), format!("`--set {name}=…` (pack-wide)")),
            };
            let shown = v.map(value).unwrap_or_else(|| "—".into());
            let _ = writeln!(o, "| `{name}` | {shown} | {set} |");
        }
        let _ = writeln!(o);
    }

    if !r.lists.is_empty() {
        let _ = writeln!(o, "**Lists**\n");
        for name in &r.lists {
            match pack.lists.get(name) {
                Some(l) => {
                    let _ = writeln!(o, "- `{name}` ({}): {}", files(&l.source), list_values(&l.values));
                }
                None => {
                    let _ = writeln!(o, "- `{name}`: bound at run time (`--list {name}=PATH`)");
                }
            }
        }
        let _ = writeln!(o);
    }

    let optional: BTreeSet<&String> = d.optional_columns.iter().collect();
    let needed: Vec<String> = r
        .columns
        .iter()
        .filter(|c| !optional.contains(c))
        .map(|c| format!("`{c}`"))
        .collect();
    if !needed.is_empty() || !optional.is_empty() {
        let _ = write!(o, "**Columns**: {}", needed.join(", "));
        if !optional.is_empty() {
            let opt: Vec<String> = optional.iter().map(|c| format!("`{c}`")).collect();
            let _ = write!(
                o,
                "{}optional (read as empty when the data lacks them): {}",
                if needed.is_empty() { "" } else { "; " },
                opt.join(", ")
            );
        }
        let _ = writeln!(o, ".\n");
    }
    degrades(o, pack, r, &optional);

    if !d.explain.trim().is_empty() {
        let _ = writeln!(o, "**Explanation**: `{}`\n", d.explain.trim().replace('`', "'"));
    }

    if !d.references.is_empty() {
        let _ = writeln!(o, "**Sources**\n");
        for s in &d.references {
            let _ = writeln!(o, "- {}", s.trim());
        }
    }
}

/// For each column the rule reads (not an optional one) whose lack only drops parts of
/// it, what the rule runs without then (docs/packs.md, "When the data lacks a column").
fn degrades(o: &mut String, pack: &Pack, r: &Rule, optional: &BTreeSet<&String>) {
    let may_lack = |c: &String| {
        let sources = crate::schema::sources_of(c);
        !sources.is_empty() && !sources.iter().any(|s| crate::schema::always_present(s))
    };
    let mut lines = Vec::new();
    for c in r.columns.iter().filter(|c| !optional.contains(c) && may_lack(c)) {
        let absent: BTreeSet<String> = std::iter::once(c.clone()).collect();
        if let Some((degraded, dropped)) = pack.degrade(r, &absent) {
            if !degraded.columns.contains(c) {
                let parts: Vec<String> = dropped.iter().map(|d| format!("`{}`", d.part)).collect();
                lines.push(format!("without `{c}`, it runs without {}", parts.join(", ")));
            }
        }
    }
    if !lines.is_empty() {
        let _ = writeln!(o, "**When the data lacks a column** (partial): {}.\n", lines.join("; "));
    }
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Description text: folded lines joined, paragraphs kept.
fn paragraphs(s: &str) -> String {
    s.split("\n\n")
        .flat_map(|p| p.split('\n'))
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_follow_the_id_prefix() {
        assert_eq!(family_of("STR-04").0, FAMILIES[0].0);
        assert_eq!(family_of("DRG-01P").0, "Drugs and cash-intensive business");
        assert_eq!(family_of("TBML-01"), ("Mules, virtual assets, wires, trade", 3));
        assert_eq!(family_of("X-1").0, OTHER);
    }

    #[test]
    fn multi_file_lists_are_shortened() {
        assert_eq!(files("lists/a.txt"), "lists/a.txt");
        assert_eq!(
            files("lists/lexicons/tf-en.txt, lists/lexicons/tf-ru.txt, lists/lexicons/tf-ky.txt"),
            "lists/lexicons/tf-{en,ru,ky}.txt"
        );
        assert_eq!(files("lists/a.txt, lists/ab.txt"), "lists/a.txt, lists/ab.txt");
    }

    #[test]
    fn empty_fields_are_pruned_from_the_logic() {
        use serde_yaml_ng::Value;
        let v: Value = serde_yaml_ng::from_str("a: null\nb: []\nc: {d: null, e: 1}\nf: {g: null}\n").unwrap();
        assert_eq!(serde_yaml_ng::to_string(&prune(v)).unwrap(), "c:\n  e: 1\n");
    }
}
