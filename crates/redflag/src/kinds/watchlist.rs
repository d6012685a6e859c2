#![doc = include_str!("../../../../docs/kinds/watchlist.md")]

use std::collections::BTreeMap;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::{Checker, Field, Kind};
use crate::engine::{dedup, fill, gather, make_alert, AlertParts, Scope};
use crate::error::{did_you_mean, PolarsContext, Result};
use crate::model::{Alert, ParamValue, Rule, RuleDef, RuleKind, Severity, Side, SideSel};
use crate::watchlist::{Match, Matcher, Party};

/// The party name columns a rule may screen: (name column, side of its account, the
/// country column of that party).
pub const NAME_FIELDS: &[(&str, Side, &str)] = &[
    ("orig_name", Side::Out, "orig_country"),
    ("bene_name", Side::In, "bene_country"),
];

/// Score a match needs when the rule does not say.
pub const DEFAULT_MIN_SCORE: f64 = 80.0;

/// A watchlist rule's checked content.
#[derive(Debug, Clone, PartialEq)]
pub struct WatchlistSpec {
    /// The name the list is bound under (`sanctions`).
    pub list: String,
    /// The name columns screened, with their sides and country columns.
    pub fields: Vec<(String, Side, String)>,
    /// The score a match needs (name score and score both).
    pub min_score: f64,
}

/// The placeholders an explanation may use.
pub const PLACEHOLDERS: &[&str] = &[
    "party",
    "field",
    "listed",
    "matched_name",
    "list",
    "reference",
    "score",
    "name_score",
    "match",
    "corroboration",
    "n_txns",
];

/// A watchlist rule's own fields as written.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WatchlistDef {
    /// The row condition.
    #[serde(default, rename = "where")]
    pub(crate) where_: Option<String>,
    /// The name the watch list is bound under (`--list NAME=PATH`).
    #[serde(default)]
    pub(crate) list: Option<String>,
    /// The party name columns screened (`orig_name`, `bene_name`).
    #[serde(default)]
    pub(crate) fields: Vec<String>,
    /// The score a match needs, a number or `$parameter`.
    #[serde(default)]
    pub(crate) min_score: Option<serde_yaml_ng::Value>,
}

/// Kind `watchlist`.
pub(crate) struct Watchlist;

impl Kind for Watchlist {
    fn name(&self) -> &'static str {
        "watchlist"
    }
    fn fields(&self) -> &'static [Field] {
        &[
            Field {
                name: "list",
                doc: "the name the watch list is bound under",
            },
            Field {
                name: "fields",
                doc: "the party name columns screened (`orig_name`, `bene_name`)",
            },
            Field {
                name: "where",
                doc: "the transactions whose names are screened",
            },
            Field {
                name: "min_score",
                doc: "the score a match needs, a number or `$parameter`",
            },
        ]
    }
    fn doc(&self) -> &'static str {
        include_str!("../../../../docs/kinds/watchlist.md")
    }
    fn written(&self, def: &RuleDef) -> serde_yaml_ng::Mapping {
        super::written_fields::<WatchlistDef>(def)
    }
    fn check(&self, def: &RuleDef, cx: &mut Checker<'_>) -> RuleKind {
        RuleKind::new(self.name(), check(def, cx))
    }
    fn run(&self, rule: &Rule, scope: &Scope<'_, '_>) -> Result<Vec<Alert>> {
        run(rule, super::spec_of::<WatchlistSpec>(rule)?, scope)
    }
    fn side_text(&self, _rule: &Rule) -> Option<&'static str> {
        Some("the side of each name's account")
    }
    fn watch_list<'r>(&self, rule: &'r Rule) -> Option<&'r str> {
        rule.kind.spec::<WatchlistSpec>().map(|s| s.list.as_str())
    }
    fn links_accounts(&self) -> bool {
        true
    }
}

fn check(def: &RuleDef, cx: &mut Checker<'_>) -> WatchlistSpec {
    let d: WatchlistDef = super::parse_fields(def, cx);
    let list = match d.list.as_deref().map(str::trim) {
        Some(l) if !l.is_empty() => l.to_string(),
        _ => {
            cx.problem(
                "list",
                "a watchlist rule needs `list`, the name its watch list is bound under when screening",
            );
            String::new()
        }
    };
    if d.fields.is_empty() {
        cx.problem(
            "fields",
            "a watchlist rule needs `fields`, the party name columns to screen: orig_name, bene_name",
        );
    }
    let mut fields = Vec::new();
    for (i, f) in d.fields.iter().enumerate() {
        match NAME_FIELDS.iter().find(|(n, _, _)| n == f) {
            Some((n, side, country)) => {
                if fields.iter().any(|(x, _, _): &(String, Side, String)| x == n) {
                    cx.problem(&format!("fields[{i}]"), format!("`{n}` is named twice"));
                    continue;
                }
                cx.columns.insert(n.to_string());
                fields.push((n.to_string(), *side, country.to_string()));
            }
            None => {
                let hint = did_you_mean(f, NAME_FIELDS.iter().map(|(n, _, _)| *n))
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_default();
                cx.problem(
                    &format!("fields[{i}]"),
                    format!("`{f}` is not a party name column{hint}; a watchlist rule screens orig_name, bene_name"),
                );
            }
        }
    }
    let min_score = match &d.min_score {
        None => DEFAULT_MIN_SCORE,
        Some(v) => match score_value(v, cx) {
            Ok(s) => s,
            Err(m) => {
                cx.problem("min_score", m);
                DEFAULT_MIN_SCORE
            }
        },
    };
    // One row condition a field, on that field's side: slot i is fields[i].
    for (_, side, _) in &fields {
        let sel = match side {
            Side::Out => SideSel::Out,
            Side::In => SideSel::In,
        };
        cx.condition("where", sel, d.where_.as_deref());
    }
    cx.placeholders(PLACEHOLDERS.iter().copied());
    WatchlistSpec {
        list,
        fields,
        min_score,
    }
}

/// `min_score`: a number, or `$name` of a parameter holding one.
fn score_value(v: &serde_yaml_ng::Value, cx: &Checker<'_>) -> std::result::Result<f64, String> {
    let num = match v {
        serde_yaml_ng::Value::Number(n) => n.as_f64(),
        serde_yaml_ng::Value::String(s) => match s.trim().strip_prefix('$') {
            Some(name) => match cx.params.get(name) {
                Some(ParamValue::Number(n)) => Some(*n),
                Some(other) => return Err(format!("parameter `{name}` is {other:?}, not a number")),
                None => {
                    let known: Vec<&str> = cx.params.keys().map(String::as_str).collect();
                    return Err(format!(
                        "no parameter `{name}`{}",
                        did_you_mean(name, known.iter().copied())
                            .map(|s| format!("; did you mean `{s}`?"))
                            .unwrap_or_default()
                    ));
                }
            },
            None => s.trim().parse().ok(),
        },
        _ => None,
    };
    match num {
        Some(n) if n.is_finite() && n >= 0.0 => Ok(n),
        _ => Err("`min_score` is a number of 0 or more (80 by default), or `$parameter`".into()),
    }
}

/// The severity one step lower.
fn lower(s: Severity) -> Severity {
    match s {
        Severity::Critical => Severity::High,
        Severity::High => Severity::Medium,
        Severity::Medium | Severity::Low => Severity::Low,
    }
}

fn str_values(df: &DataFrame, c: &str, rule: &Rule) -> Result<Vec<Option<String>>> {
    let s = df.column(c).ctx(|| format!("rule {}: reading `{c}`", rule.id()))?;
    let s = s
        .cast(&DataType::String)
        .ctx(|| format!("rule {}: reading `{c}` as text", rule.id()))?;
    let ca = s.str().ctx(|| format!("rule {}: reading `{c}`", rule.id()))?;
    Ok(ca.iter().map(|v| v.map(str::to_string)).collect())
}

/// The rows of one (account, entry): their (time, row), the best match of the names
/// seen, its party name, and the counterparties of the rows.
type Group = (Vec<(i64, u32)>, Match, String, std::collections::BTreeSet<String>);

fn run(rule: &Rule, spec: &WatchlistSpec, scope: &Scope<'_, '_>) -> Result<Vec<Alert>> {
    let Some(list) = scope.watch_list(&spec.list) else {
        // The engine reports the rule as not applicable before it gets here.
        return Ok(Vec::new());
    };
    let prep = scope.data();
    let matcher = Matcher::new(list, spec.min_score);
    let mut alerts = Vec::new();
    for (slot, (field, side, country_col)) in spec.fields.iter().enumerate() {
        let hits = scope.rows(slot, *side);
        if hits.is_empty() {
            continue;
        }
        let values = field_values(rule, prep, field, *side, country_col, &hits)?;
        let (parties, of_row) = distinct_parties(&values.names, &values.countries);
        let found = matcher.screen_all(&parties);
        let groups = group_matches(&hits, &of_row, &found, &parties, &values.counterparties);
        for ((acct, _), group) in groups {
            alerts.push(match_alert(rule, prep, field, *side, acct, group)?);
        }
    }
    Ok(order_alerts(alerts))
}

/// The columns read of the rows hit, as text.
struct FieldValues {
    /// The screened name of each row.
    names: Vec<Option<String>>,
    /// The counterparty of each row.
    counterparties: Vec<Option<String>>,
    /// The country of each row, when its column is present.
    countries: Vec<Option<String>>,
}

/// The screened name, the counterparty and (when present) the country of each row hit.
fn field_values(
    rule: &Rule,
    prep: &crate::engine::Prepared<'_>,
    field: &str,
    side: Side,
    country_col: &str,
    hits: &[(u32, i64, u32)],
) -> Result<FieldValues> {
    let present = |c: &str| prep.has_column(c);
    let rows: Vec<IdxSize> = hits.iter().map(|h| h.2 as IdxSize).collect();
    let mut cols = vec![field.to_string(), "counterparty".to_string()];
    let with_country = present(country_col);
    if with_country {
        cols.push(country_col.to_string());
    }
    let df = gather(prep, side, &cols, &rows)?;
    let names = str_values(&df, field, rule)?;
    let counterparties = str_values(&df, "counterparty", rule)?;
    let countries = if with_country {
        str_values(&df, country_col, rule)?
    } else {
        vec![None; names.len()]
    };
    Ok(FieldValues {
        names,
        counterparties,
        countries,
    })
}

/// Each distinct (name, country) once, as a party to screen, and each row's party (none
/// for an empty name).
fn distinct_parties<'a>(
    names: &'a [Option<String>],
    countries: &'a [Option<String>],
) -> (Vec<Party<'a>>, Vec<Option<usize>>) {
    let mut distinct: BTreeMap<(&str, Option<&str>), usize> = BTreeMap::new();
    let mut of_row: Vec<Option<usize>> = Vec::with_capacity(names.len());
    for (n, c) in names.iter().zip(countries) {
        match n.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
            Some(n) => {
                let k = (n, c.as_deref().map(str::trim).filter(|c| !c.is_empty()));
                let next = distinct.len();
                of_row.push(Some(*distinct.entry(k).or_insert(next)));
            }
            None => of_row.push(None),
        }
    }
    let mut keys: Vec<((&str, Option<&str>), usize)> = distinct.into_iter().collect();
    keys.sort_by_key(|(_, i)| *i);
    let parties: Vec<Party<'_>> = keys
        .iter()
        .map(|((n, c), _)| Party {
            name: n,
            birth_date: None,
            country: *c,
            organisation: None,
        })
        .collect();
    (parties, of_row)
}

/// The matches by (account, entry): the rows, and the best match of the names seen.
fn group_matches(
    hits: &[(u32, i64, u32)],
    of_row: &[Option<usize>],
    found: &[Vec<Match>],
    parties: &[Party<'_>],
    counterparties: &[Option<String>],
) -> BTreeMap<(u32, usize), Group> {
    let mut groups: BTreeMap<(u32, usize), Group> = BTreeMap::new();
    for (k, (acct, ts, row)) in hits.iter().enumerate() {
        let Some(pi) = of_row[k] else { continue };
        for m in &found[pi] {
            let g = groups.entry((*acct, m.entry)).or_insert_with(|| {
                (
                    Vec::new(),
                    m.clone(),
                    parties[pi].name.to_string(),
                    std::collections::BTreeSet::new(),
                )
            });
            g.0.push((*ts, *row));
            if let Some(cp) = counterparties[k].as_deref().filter(|c| !c.is_empty()) {
                g.3.insert(cp.to_string());
            }
            if m.score > g.1.score {
                g.1 = m.clone();
                g.2 = parties[pi].name.to_string();
            }
        }
    }
    groups
}

/// The alert of one (account, entry): the match explained, its severity lowered when
/// nothing corroborates it, the counterparties as linked accounts.
fn match_alert(
    rule: &Rule,
    prep: &crate::engine::Prepared<'_>,
    field: &str,
    side: Side,
    acct: u32,
    group: Group,
) -> Result<Alert> {
    let (mut txns, m, party, linked) = group;
    txns.sort_unstable();
    let rows: Vec<u32> = txns.iter().map(|t| t.1).collect();
    let account = prep.account(acct).to_string();
    let corroboration: Vec<String> = m
        .corroboration
        .iter()
        .map(|c| format!("{} {} vs {} ({:+})", c.what, c.party, c.listed, c.points))
        .collect();
    let mut values: BTreeMap<String, String> = BTreeMap::new();
    values.insert("party".into(), party.clone());
    values.insert("field".into(), field.to_string());
    values.insert("listed".into(), m.listed_name.clone());
    values.insert("matched_name".into(), m.matched_name.clone());
    values.insert("list".into(), m.list.clone());
    values.insert("reference".into(), m.reference.clone());
    values.insert("score".into(), format!("{:.1}", m.score));
    values.insert("name_score".into(), format!("{:.1}", m.name_score));
    values.insert("match".into(), m.explain_tokens());
    values.insert(
        "corroboration".into(),
        if corroboration.is_empty() {
            "none".into()
        } else {
            corroboration.join("; ")
        },
    );
    values.insert("n_txns".into(), rows.len().to_string());
    let mut measures = BTreeMap::new();
    measures.insert("score".to_string(), serde_json::json!(m.score));
    measures.insert("name_score".to_string(), serde_json::json!(m.name_score));
    measures.insert("list".to_string(), serde_json::json!(m.list));
    measures.insert("reference".to_string(), serde_json::json!(m.reference));
    measures.insert("listed_name".to_string(), serde_json::json!(m.listed_name));
    measures.insert("party_name".to_string(), serde_json::json!(party));
    measures.insert("corroborated".to_string(), serde_json::json!(m.corroborated()));
    let explanation = fill(&rule.def.explain, rule, &values, &account, side.as_str(), None);
    let severity = if m.corroborated() {
        rule.def.severity
    } else {
        lower(rule.def.severity)
    };
    let parts = AlertParts {
        side: side.into(),
        rows,
        measures,
        explanation,
        // The accounts that dealt with the named party join its case.
        linked_accounts: linked.into_iter().filter(|a| *a != account).collect(),
        account,
    };
    let mut alert = make_alert(prep, rule, parts)?;
    alert.severity = severity;
    Ok(alert)
}

/// One name meeting two entries on the same transactions makes one alert: the best
/// scored entry's. Then the order of the other kinds: account, start, id.
fn order_alerts(mut alerts: Vec<Alert>) -> Vec<Alert> {
    let score = |a: &Alert| a.measures.get("score").and_then(|v| v.as_f64()).unwrap_or(0.0);
    alerts.sort_by(|a, b| {
        a.alert_id
            .cmp(&b.alert_id)
            .then(score(b).total_cmp(&score(a)))
            .then(a.explanation.cmp(&b.explanation))
    });
    let mut alerts = dedup(alerts);
    alerts.sort_by(|a, b| {
        a.account
            .cmp(&b.account)
            .then(a.window_start.cmp(&b.window_start))
            .then(a.alert_id.cmp(&b.alert_id))
    });
    alerts
}
