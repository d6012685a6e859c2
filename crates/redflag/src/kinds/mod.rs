//! The rule kinds, and their one registry. A rule is data; its kind is code.
//!
//! A kind is one file here and one line of [`KINDS`]. It implements [`Kind`]: its name,
//! the fields it owns (with their documentation), its page of documentation, `check`
//! (the rule as written → its checked spec, every problem reported through the
//! [`Checker`]) and `run` (the spec over the prepared data → alerts, through the narrow
//! [`Scope`] the engine hands it). Everything that lists kinds or fields derives from
//! the registry: the pack's accepted fields and its "unknown field" hints, `--set`
//! targets, the catalogue's layout, `rules show` and `redflag kinds`.
//!
//! See docs/ARCHITECTURE.md ("Adding a rule kind") for a walk through.

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::engine::Scope;
use crate::error::Result;
use crate::model::{Alert, Rule, RuleDef, RuleKind};

mod aggregate;
mod baseline;
mod checker;
mod filter;
mod network;
mod sequence;
mod watchlist;

pub use baseline::PeerTally;
pub use checker::Checker;
pub use network::{Pattern, PATTERNS};

/// A field a kind owns, beyond the fields every rule has ([`COMMON_FIELDS`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// Its name in a pack.
    pub name: &'static str,
    /// One line on what it holds.
    pub doc: &'static str,
}

/// Fields every rule may have, whatever its kind. The catalogue shows all but
/// `on_alerts_of` in a rule's header or its own sections.
pub const COMMON_FIELDS: &[Field] = &[
    Field {
        name: "id",
        doc: "stable id, such as `STR-01`; never reused",
    },
    Field {
        name: "title",
        doc: "one line",
    },
    Field {
        name: "kind",
        doc: "the rule kind",
    },
    Field {
        name: "typologies",
        doc: "typology tags",
    },
    Field {
        name: "severity",
        doc: "`low`, `medium`, `high` or `critical`",
    },
    Field {
        name: "references",
        doc: "sources",
    },
    Field {
        name: "description",
        doc: "the pattern in plain language and its usual false positives",
    },
    Field {
        name: "explain",
        doc: "the explanation template",
    },
    Field {
        name: "params",
        doc: "rule-level parameters (override the pack's)",
    },
    Field {
        name: "aliases",
        doc: "old ids of this rule",
    },
    Field {
        name: "optional_columns",
        doc: "columns the rule may run without (read as empty when absent)",
    },
    Field {
        name: "on_alerts_of",
        doc: "screen only the transactions in alerts of these rules",
    },
];

/// One rule kind: what it is called, what it owns, how a rule of it is checked and run.
pub trait Kind: Sync {
    /// The name a pack writes in `kind:`.
    fn name(&self) -> &'static str;
    /// The fields it owns beyond [`COMMON_FIELDS`], in the order it works: the
    /// catalogue lists a rule's logic in this order.
    fn fields(&self) -> &'static [Field];
    /// Its page of documentation (Markdown; also the module's rustdoc).
    fn doc(&self) -> &'static str;
    /// The rule's own fields as the kind's definition type writes them back (absent ones
    /// as null), for the catalogue.
    fn written(&self, def: &RuleDef) -> serde_yaml_ng::Mapping;
    /// Checks the kind-specific content of a rule, parameters and lists substituted.
    /// Problems go to the checker; the spec returned is then not used.
    fn check(&self, def: &RuleDef, cx: &mut Checker<'_>) -> RuleKind;
    /// Finds the alerts of a checked rule of this kind.
    fn run(&self, rule: &Rule, scope: &Scope<'_, '_>) -> Result<Vec<Alert>>;
    /// How heavy a rule of this kind usually is (0 light … 5 heavy): the heaviest start
    /// first.
    fn cost(&self, _rule: &Rule) -> u8 {
        0
    }
    /// Whether the rule holds what it works out for every account at once, rather than
    /// a slice of accounts at a time: two such rules are not run side by side, so that
    /// the peak memory of a run is one of them, not their sum.
    fn holds_every_account(&self, _rule: &Rule) -> bool {
        false
    }
    /// The watch list a rule of this kind needs bound, if any.
    fn watch_list<'r>(&self, _rule: &'r Rule) -> Option<&'r str> {
        None
    }
    /// Whether the rule's alerts on an account depend on that account's own transactions
    /// only (and, for a rule that compares accounts with their peers, on statistics of
    /// peer groups a partition works out beforehand: [`Kind::peer_values`]), so that a
    /// shard holding every transaction of its accounts finds them (docs/sharding.md);
    /// rules that follow payments through accounts run on the cross-account stage.
    fn per_account(&self, _rule: &Rule) -> bool {
        true
    }
    /// Whether the rule finds the same on the rows its conditions keep alone, given the
    /// history of the pairs of accounts those rows link over every row (network rules,
    /// whose measures of relations read it): the cross-account stage then holds those
    /// rows only (docs/sharding.md).
    fn kept_rows_suffice(&self, _rule: &Rule) -> bool {
        false
    }
    /// Whether the rule compares each account with statistics of groups of accounts
    /// (peers): a shard screens it with the statistics its partition worked out from
    /// every shard's [`Kind::peer_values`].
    fn compares_with_peers(&self, _rule: &Rule) -> bool {
        false
    }
    /// What the accounts the scope screens give to the statistics of the rule's peer
    /// groups, added to `tally`.
    fn peer_values(&self, _rule: &Rule, _scope: &Scope<'_, '_>, _tally: &mut PeerTally) -> Result<()> {
        Ok(())
    }
    /// Whether a rule of this kind reads nothing of the data but the rows its conditions
    /// keep: narrowed by `on_alerts_of` to other rules' alerts, it then runs the same on
    /// the transactions those alerts hold, which is where a sharded run's merge runs it.
    fn sees_only_its_rows(&self) -> bool {
        false
    }
    /// Whether the rule's alerts name other accounts (`linked_accounts`), whose cases
    /// they join.
    fn links_accounts(&self) -> bool {
        false
    }
    /// What the catalogue's header says of the side screened, when the rule's `side`
    /// does not say it.
    fn side_text(&self, _rule: &Rule) -> Option<&'static str> {
        None
    }
    /// Writes what `rules show` prints of the rule's logic after its `where`.
    fn describe(&self, _rule: &Rule, _out: &mut String) {}
    /// Whether the rule's first condition is its `where` on the rule's sides.
    fn first_condition_is_where(&self) -> bool {
        false
    }
}

/// The kinds this version runs: the one registry.
pub static KINDS: &[&dyn Kind] = &[
    &filter::Filter,
    &aggregate::Aggregate,
    &sequence::Sequence,
    &baseline::Baseline,
    &network::Network,
    &watchlist::Watchlist,
];

/// The kind of that name.
pub fn get(name: &str) -> Option<&'static dyn Kind> {
    KINDS.iter().copied().find(|k| k.name() == name)
}

/// The kind of a checked rule.
pub fn of(rule: &Rule) -> &'static dyn Kind {
    // A checked rule's kind is always in the registry: `check` made it.
    get(rule.kind.name()).unwrap_or(&filter::Filter)
}

/// The names of the kinds this version runs.
pub fn names() -> impl Iterator<Item = &'static str> {
    KINDS.iter().map(|k| k.name())
}

/// The kinds that own a field (none for a common field or an unknown one).
pub fn owners(field: &str) -> Vec<&'static str> {
    KINDS
        .iter()
        .filter(|k| k.fields().iter().any(|f| f.name == field))
        .map(|k| k.name())
        .collect()
}

/// Every field a rule may have: the common ones, then each kind's, without repeats.
pub fn all_fields() -> Vec<&'static str> {
    let mut out: Vec<&'static str> = COMMON_FIELDS.iter().map(|f| f.name).collect();
    for k in KINDS {
        for f in k.fields() {
            if !out.contains(&f.name) {
                out.push(f.name);
            }
        }
    }
    out
}

/// A kind's reference: its page, then the table of its own fields and the common ones,
/// from the registry (what `redflag kinds NAME` prints).
pub fn reference(kind: &dyn Kind) -> String {
    let mut out = kind.doc().trim_end().to_string();
    out.push_str("\n\n## Fields\n\n| field | what it holds |\n|---|---|\n");
    for f in kind.fields() {
        out.push_str(&format!("| `{}` | {} |\n", f.name, f.doc));
    }
    out.push_str("\nAnd the fields every rule has: ");
    let common: Vec<String> = COMMON_FIELDS.iter().map(|f| format!("`{}`", f.name)).collect();
    out.push_str(&common.join(", "));
    out.push_str(".\n");
    out
}

/// The kinds in one table: each name and its own fields (what `redflag kinds` prints).
pub fn summary() -> String {
    let mut out = String::new();
    let width = KINDS.iter().map(|k| k.name().len()).max().unwrap_or(0);
    for k in KINDS {
        let fields: Vec<&str> = k.fields().iter().map(|f| f.name).collect();
        out.push_str(&format!("{:width$}  {}\n", k.name(), fields.join(", ")));
    }
    out
}

/// Runs one rule.
pub(crate) fn run(rule: &Rule, scope: &Scope<'_, '_>) -> Result<Vec<Alert>> {
    of(rule).run(rule, scope)
}

/// Test data: a xorshift generator, the same numbers for the same seed (not zero).
#[cfg(test)]
pub(crate) fn xorshift(seed: u64) -> impl FnMut() -> u64 {
    let mut x = seed;
    move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    }
}

/// The checked content of a rule of the kind that reads it.
pub(crate) fn spec_of<T: std::any::Any>(rule: &Rule) -> Result<&T> {
    rule.kind.spec::<T>().ok_or_else(|| crate::error::Error::Rule {
        rule_id: rule.id().to_string(),
        message: format!("its checked content is not of kind `{}`", rule.kind.name()),
    })
}

/// A kind's own fields, read from a rule as written into the kind's definition type.
/// Each field is read alone first, so that a wrong value is reported on its own field;
/// with any problem, the default (every field absent) is returned.
pub(crate) fn parse_fields<T: DeserializeOwned + Default>(def: &RuleDef, cx: &mut Checker<'_>) -> T {
    let mut ok = true;
    for (name, value) in &def.fields {
        let mut one = serde_yaml_ng::Mapping::new();
        one.insert(serde_yaml_ng::Value::String(name.clone()), value.clone());
        if let Err(e) = serde_yaml_ng::from_value::<T>(serde_yaml_ng::Value::Mapping(one)) {
            cx.problem(name, crate::error::improve_serde_message(&e.to_string(), &[]));
            ok = false;
        }
    }
    if !ok {
        return T::default();
    }
    let all: serde_yaml_ng::Mapping = def
        .fields
        .iter()
        .map(|(k, v)| (serde_yaml_ng::Value::String(k.clone()), v.clone()))
        .collect();
    match serde_yaml_ng::from_value::<T>(serde_yaml_ng::Value::Mapping(all)) {
        Ok(d) => d,
        Err(e) => {
            cx.problem("", crate::error::improve_serde_message(&e.to_string(), &[]));
            T::default()
        }
    }
}

/// A kind's own fields of a rule, read into the kind's definition type without checks
/// (every field absent when they do not read): for what a kind shows of a checked rule.
pub(crate) fn read_fields<T: DeserializeOwned + Default>(def: &RuleDef) -> T {
    let all: serde_yaml_ng::Mapping = def
        .fields
        .iter()
        .map(|(k, v)| (serde_yaml_ng::Value::String(k.clone()), v.clone()))
        .collect();
    serde_yaml_ng::from_value::<T>(serde_yaml_ng::Value::Mapping(all)).unwrap_or_default()
}

/// A kind's own fields of a rule as its definition type writes them back (absent ones as
/// null): what the catalogue shows of a rule's logic.
pub(crate) fn written_fields<T: DeserializeOwned + Serialize>(def: &RuleDef) -> serde_yaml_ng::Mapping {
    let all: serde_yaml_ng::Mapping = def
        .fields
        .iter()
        .map(|(k, v)| (serde_yaml_ng::Value::String(k.clone()), v.clone()))
        .collect();
    serde_yaml_ng::from_value::<T>(serde_yaml_ng::Value::Mapping(all))
        .ok()
        .and_then(|d| serde_yaml_ng::to_value(d).ok())
        .and_then(|v| match v {
            serde_yaml_ng::Value::Mapping(m) => Some(m),
            _ => None,
        })
        .unwrap_or_default()
}
