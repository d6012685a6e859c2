#![doc = include_str!("../../../../docs/kinds/filter.md")]

use std::collections::BTreeMap;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::{Checker, Field, Kind};
use crate::engine::{dedup, display_value, fill, gather, json_value, make_alert, AlertParts, Scope};
use crate::error::{PolarsContext, Result};
use crate::model::{Alert, Rule, RuleDef, RuleKind, SideSel};
use crate::schema;

/// A filter rule's own fields as written.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FilterDef {
    /// The side screened.
    #[serde(default)]
    pub(crate) side: Option<SideSel>,
    /// The row condition.
    #[serde(default, rename = "where")]
    pub(crate) where_: Option<String>,
}

/// Kind `filter`.
pub(crate) struct Filter;

impl Kind for Filter {
    fn sees_only_its_rows(&self) -> bool {
        true
    }
    fn name(&self) -> &'static str {
        "filter"
    }
    fn fields(&self) -> &'static [Field] {
        &[
            Field {
                name: "side",
                doc: "the side screened: `in`, `out` or `both` (default)",
            },
            Field {
                name: "where",
                doc: "the condition a transaction must meet",
            },
        ]
    }
    fn doc(&self) -> &'static str {
        include_str!("../../../../docs/kinds/filter.md")
    }
    fn written(&self, def: &RuleDef) -> serde_yaml_ng::Mapping {
        super::written_fields::<FilterDef>(def)
    }
    fn check(&self, def: &RuleDef, cx: &mut Checker<'_>) -> RuleKind {
        check(def, cx)
    }
    fn run(&self, rule: &Rule, scope: &Scope<'_, '_>) -> Result<Vec<Alert>> {
        run(rule, scope)
    }
    fn first_condition_is_where(&self) -> bool {
        true
    }
}

fn check(def: &RuleDef, cx: &mut Checker<'_>) -> RuleKind {
    let d: FilterDef = super::parse_fields(def, cx);
    cx.side = d.side.unwrap_or_default();
    if d.where_.is_none() {
        cx.problem(
            "where",
            "a filter rule needs `where`, the condition a transaction must meet",
        );
    }
    cx.condition("where", d.side.unwrap_or_default(), d.where_.as_deref());
    // An explanation may print any column of the side view: read the ones it names.
    cx.placeholders(schema::all_columns());
    for ph in crate::model::placeholders(&def.explain) {
        if schema::is_known_column(&ph) {
            cx.columns.insert(ph);
        }
    }
    RuleKind::new("filter", ())
}

fn run(rule: &Rule, scope: &Scope<'_, '_>) -> Result<Vec<Alert>> {
    let prep = scope.data();
    let mut alerts = Vec::new();
    let placeholders = crate::model::placeholders(&rule.def.explain);
    for &side in rule.side.sides() {
        let hits = scope.rows(0, side);
        if hits.is_empty() {
            continue;
        }
        let rows: Vec<IdxSize> = hits.iter().map(|h| h.2 as IdxSize).collect();
        let mut cols: Vec<String> = placeholders
            .iter()
            .filter(|p| schema::is_known_column(p))
            .cloned()
            .collect();
        for c in ["amount_base", "txn_id"] {
            if !cols.iter().any(|x| x == c) {
                cols.push(c.to_string());
            }
        }
        let df = gather(prep, side, &cols, &rows)?;
        for (k, (acct, _, row)) in hits.iter().enumerate() {
            let mut measures = BTreeMap::new();
            let mut values: BTreeMap<String, String> = BTreeMap::new();
            for c in &cols {
                let v = df
                    .column(c)
                    .and_then(|s| s.get(k))
                    .ctx(|| format!("rule {}: reading `{c}`", rule.id()))?;
                values.insert(c.clone(), display_value(&v));
                if c == "amount_base" {
                    measures.insert(c.clone(), json_value(&v));
                }
            }
            let account = prep.account(*acct).to_string();
            let explanation = fill(&rule.def.explain, rule, &values, &account, side.as_str(), None);
            let parts = AlertParts {
                account,
                side: side.into(),
                rows: vec![*row],
                measures,
                explanation,
                linked_accounts: Vec::new(),
            };
            alerts.push(make_alert(prep, rule, parts)?);
        }
    }
    Ok(dedup(alerts))
}
