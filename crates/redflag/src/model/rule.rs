//! Rules: as written in a pack ([`RuleDef`]) and checked, ready to run ([`Rule`]).

use std::any::Any;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{ParamValue, Severity, SideSel};

/// A rule as written in the pack: the fields every rule has, and the fields of its kind
/// as written, which the kind reads (see [`crate::kinds::Kind::fields`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleDef {
    /// Stable id, such as `STR-01`; never reused.
    pub id: String,
    /// One line.
    pub title: String,
    /// The kind's name (`filter`, `aggregate`, ...).
    pub kind: String,
    /// Typology tags.
    #[serde(default)]
    pub typologies: Vec<String>,
    /// `low`, `medium`, `high`, `critical`.
    pub severity: Severity,
    /// Sources.
    #[serde(default)]
    pub references: Vec<String>,
    /// The pattern in plain language and its usual false positives.
    #[serde(default)]
    pub description: String,
    /// The explanation template.
    #[serde(default)]
    pub explain: String,
    /// Rule-level parameters (override the pack's).
    #[serde(default)]
    pub params: BTreeMap<String, ParamValue>,
    /// Old ids of this rule.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Columns the rule may run without: when the data lacks one, it reads as empty
    /// (NULL) and the manifest says so; any other column it reads makes it not applicable.
    #[serde(default)]
    pub optional_columns: Vec<String>,
    /// Screen only the transactions in alerts of these rules (ids; `STR-*` matches a
    /// prefix), on the same accounts: the rule adds weight to what others found.
    #[serde(default)]
    pub on_alerts_of: Vec<String>,
    /// The kind's own fields as written, by name; the kind checks them.
    #[serde(flatten)]
    pub fields: BTreeMap<String, serde_yaml_ng::Value>,
}

/// The typology tags a rule may carry.
pub const TYPOLOGIES: &[&str] = &[
    "money-laundering",
    "terrorist-financing",
    "drug-trafficking",
    "human-trafficking",
    "migrant-smuggling",
    "sanctions",
    "fraud-mule",
    "trade-based-ml",
    "virtual-assets",
];

/// A rule's kind with its checked content (the kind's spec), parameters and lists
/// substituted. Each kind defines its own spec type; the kind reads it back with
/// [`RuleKind::spec`].
#[derive(Clone)]
pub struct RuleKind {
    name: &'static str,
    spec: Arc<dyn Any + Send + Sync>,
    /// Compares two specs of this kind's type.
    same: fn(&(dyn Any + Send + Sync), &(dyn Any + Send + Sync)) -> bool,
    /// Writes the spec for `{:?}`.
    debug: fn(&(dyn Any + Send + Sync), &mut std::fmt::Formatter<'_>) -> std::fmt::Result,
}

impl RuleKind {
    /// A kind's name and its checked content.
    pub fn new<T: Any + Send + Sync + PartialEq + std::fmt::Debug>(name: &'static str, spec: T) -> RuleKind {
        RuleKind {
            name,
            spec: Arc::new(spec),
            same: |a, b| matches!((a.downcast_ref::<T>(), b.downcast_ref::<T>()), (Some(a), Some(b)) if a == b),
            debug: |a, f| match a.downcast_ref::<T>() {
                Some(a) => a.fmt(f),
                None => f.write_str(".."),
            },
        }
    }

    /// The kind's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The checked content, when it is of type `T`.
    pub fn spec<T: Any>(&self) -> Option<&T> {
        self.spec.downcast_ref::<T>()
    }
}

impl PartialEq for RuleKind {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && (self.same)(&*self.spec, &*other.spec)
    }
}

impl std::fmt::Debug for RuleKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}(", self.name)?;
        (self.debug)(&*self.spec, f)?;
        f.write_str(")")
    }
}

/// A row condition a rule needs: a `where` (or every row) on one or both sides.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// Sides the condition is evaluated on.
    pub side: SideSel,
    /// The SQL condition, parameters and lists substituted; `None` is every row.
    pub sql: Option<String>,
}

/// A checked rule, ready to run: parameters and lists are substituted in its SQL.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// The rule as written.
    pub def: RuleDef,
    /// Sides screened.
    pub side: SideSel,
    /// Kind-specific content.
    pub kind: RuleKind,
    /// The row conditions the kind evaluates (slot = position).
    pub conditions: Vec<Condition>,
    /// Parameters in force (pack's, then rule's, then overrides).
    pub params: BTreeMap<String, ParamValue>,
    /// Columns the rule reads (canonical or side-view names).
    pub columns: BTreeSet<String>,
    /// Lists the rule reads.
    pub lists: BTreeSet<String>,
    /// The names the rule's explanation may use beyond parameters and `window`,
    /// `account`, `side`, `rule_id`: its alerts' measures among them (what a weights
    /// file's `measures` may name).
    pub names: BTreeSet<String>,
}

impl Rule {
    /// The rule id.
    pub fn id(&self) -> &str {
        &self.def.id
    }
}

/// The `{name}` placeholders of an explanation template (`{name|one|many}` names `name`
/// and adds a noun that agrees with its value: `1 payment`, `3 payments`).
pub fn placeholders(t: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = t;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        match after.find('}') {
            Some(end) => {
                // `{n|payment|payments}`: the name, then the noun's singular and plural.
                let name = after[..end].split('|').next().unwrap_or("").trim();
                if !name.is_empty() {
                    out.push(name.to_string());
                }
                rest = &after[end + 1..];
            }
            None => break,
        }
    }
    out
}

/// An explanation template as it reads when the measures `dropped` are not there (see
/// docs/packs.md, "Explanations"): a clause in `[[ ... ]]` that names one of them is left
/// out, the other clauses lose their brackets, and any other `{name}` of a dropped
/// measure reads `n/a` (`{name|one|many}`: `n/a` and the plural). With nothing dropped,
/// only the brackets go.
pub fn explain_without(template: &str, dropped: &[String]) -> String {
    if !template.contains("[[") && dropped.is_empty() {
        return template.to_string();
    }
    let names_dropped = |t: &str| placeholders(t).iter().any(|p| dropped.contains(p));
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("[[") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("]]") else {
            out.push_str(after);
            rest = "";
            break;
        };
        let clause = &after[..end];
        if !names_dropped(clause) {
            out.push_str(clause);
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    if dropped.is_empty() {
        return out;
    }
    let mut filled = String::new();
    let mut rest = out.as_str();
    while let Some(start) = rest.find('{') {
        filled.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let Some(end) = after.find('}') else {
            filled.push_str(&rest[start..]);
            rest = "";
            break;
        };
        let inner = &after[..end];
        let mut parts = inner.split('|');
        let name = parts.next().unwrap_or("").trim();
        if dropped.iter().any(|d| d == name) {
            filled.push_str("n/a");
            if let (Some(_), Some(many)) = (parts.next(), parts.next()) {
                filled.push(' ');
                filled.push_str(many.trim());
            }
        } else {
            filled.push('{');
            filled.push_str(inner);
            filled.push('}');
        }
        rest = &after[end + 1..];
    }
    filled.push_str(rest);
    filled
}

/// What is wrong with the `[[ ... ]]` clauses of an explanation template, if anything:
/// each `[[` closed by a `]]` before the next `[[`, and no `]]` alone.
pub fn clause_problem(template: &str) -> Option<String> {
    let mut rest = template;
    loop {
        let open = rest.find("[[");
        let close = rest.find("]]");
        match (open, close) {
            (None, None) => return None,
            (Some(o), Some(c)) if o < c => {
                let inner = &rest[o + 2..c];
                if inner.contains("[[") {
                    return Some("a `[[` clause is not closed by `]]` before the next `[[`".into());
                }
                rest = &rest[c + 2..];
            }
            (Some(_), None) => return Some("a `[[` clause is not closed by `]]`".into()),
            _ => return Some("`]]` closes no `[[` clause".into()),
        }
    }
}

/// Whether a rule id matches one of the patterns (an id, or a prefix ending in `*`).
pub(crate) fn matches_any(id: &str, patterns: &[String]) -> bool {
    patterns.iter().any(|p| match p.strip_suffix('*') {
        Some(prefix) => id.to_uppercase().starts_with(&prefix.to_uppercase()),
        None => id.eq_ignore_ascii_case(p),
    })
}

/// Whether `s` is a plain identifier.
pub(crate) fn is_identifier(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some(ch) if ch.is_ascii_alphabetic() || ch == '_')
        && c.all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
}
