//! Rule expressions: SQL expressions compiled by polars' own SQL support.
//!
//! Before compiling, `$name` is replaced by the parameter's value and `@name` by the
//! list's values as a parenthesised list of string literals, so `country IN @high_risk`
//! reads as `country IN ('KP', 'IR')`. The text is then parsed with `sqlparser` to check
//! column names, regular expressions and aggregates, and compiled with
//! [`polars::sql::sql_expr`].

use std::collections::{BTreeMap, BTreeSet};
use std::ops::ControlFlow;

use polars::prelude::Expr;
use sqlparser::ast::{self as sql, visit_expressions};
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::Parser;

use crate::error::suggestion;
use crate::pack::{ParamValue, RefList};
use crate::schema;

/// What an expression is for; it decides which names it may use.
#[derive(Debug, Clone, Copy)]
pub enum ExprRole<'a> {
    /// A row condition (`where`): columns of the side view.
    Row,
    /// A measure: an aggregate over columns of the side view.
    Measure,
    /// A condition over measures (`having`): the measure names given.
    Having(&'a [String]),
}

/// What an expression may refer to, and what it did refer to.
pub struct Context<'a> {
    /// Parameters in force.
    pub params: &'a BTreeMap<String, ParamValue>,
    /// Lists.
    pub lists: &'a BTreeMap<String, RefList>,
    /// Columns read (filled in).
    pub columns: BTreeSet<String>,
    /// Lists read (filled in).
    pub lists_used: BTreeSet<String>,
}

const AGGREGATES: &[&str] = &[
    "count",
    "sum",
    "min",
    "max",
    "avg",
    "mean",
    "median",
    "stddev",
    "stddev_samp",
    "variance",
    "var_samp",
    "first",
    "last",
    "array_agg",
    "string_agg",
    "quantile_cont",
    "quantile_disc",
    "bool_and",
    "bool_or",
];

/// Substitutes parameters and lists, checks names, and returns the SQL to compile.
pub fn prepare(text: &str, role: ExprRole<'_>, ctx: &mut Context<'_>) -> Result<String, String> {
    if text.trim().is_empty() {
        return Err("the expression is empty".into());
    }
    let sqltext = substitute(text, ctx)?;
    let ast = Parser::new(&GenericDialect)
        .try_with_sql(&sqltext)
        .and_then(|mut p| p.parse_expr())
        .map_err(|e| format!("cannot parse `{}`: {e}", text.trim()))?;
    let mut problems: Vec<String> = Vec::new();
    let mut has_aggregate = false;
    let _ = visit_expressions(&ast, |e: &sql::Expr| {
        match e {
            sql::Expr::Identifier(id) => check_name(&id.value, role, ctx, &mut problems),
            sql::Expr::CompoundIdentifier(ids) => {
                let name = ids.iter().map(|i| i.value.as_str()).collect::<Vec<_>>().join(".");
                check_name(&name, role, ctx, &mut problems)
            }
            sql::Expr::Function(f) => {
                let name = f.name.to_string().to_lowercase();
                if AGGREGATES.contains(&name.as_str()) {
                    has_aggregate = true;
                }
                if name == "regexp_like" || name == "regexp_match" || name == "rlike" {
                    if let Some(p) = string_arg(f, 1) {
                        if let Err(err) = regex::Regex::new(&p) {
                            problems.push(format!(
                                "invalid regular expression `{p}`: {}",
                                one_line(&err.to_string())
                            ));
                        }
                    }
                }
            }
            sql::Expr::BinaryOp { op, right, .. } => {
                use sql::BinaryOperator as B;
                if matches!(
                    op,
                    B::PGRegexMatch | B::PGRegexIMatch | B::PGRegexNotMatch | B::PGRegexNotIMatch
                ) {
                    if let Some(p) = literal_string(right) {
                        if let Err(err) = regex::Regex::new(&p) {
                            problems.push(format!(
                                "invalid regular expression `{p}`: {}",
                                one_line(&err.to_string())
                            ));
                        }
                    }
                }
            }
            sql::Expr::RLike { pattern, .. } => {
                if let Some(p) = literal_string(pattern) {
                    if let Err(err) = regex::Regex::new(&p) {
                        problems.push(format!(
                            "invalid regular expression `{p}`: {}",
                            one_line(&err.to_string())
                        ));
                    }
                }
            }
            _ => {}
        }
        ControlFlow::<()>::Continue(())
    });
    if let ExprRole::Measure = role {
        if !has_aggregate {
            problems.push(format!(
                "measure `{}` does not aggregate; use count(*), sum(x), min(x), max(x), avg(x), median(x) or count(DISTINCT x)",
                text.trim()
            ));
        }
    }
    if let Some(p) = problems.into_iter().next() {
        return Err(p);
    }
    // Polars must accept it too (supported functions, argument counts).
    let _ = compile(&sqltext).map_err(|e| format!("cannot compile `{}`: {e}", text.trim()))?;
    Ok(sqltext)
}

fn one_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Compiles prepared SQL to a polars expression.
pub fn compile(sqltext: &str) -> Result<Expr, String> {
    polars::sql::sql_expr(sqltext).map_err(|e| one_line(&e.to_string()))
}

fn check_name(name: &str, role: ExprRole<'_>, ctx: &mut Context<'_>, problems: &mut Vec<String>) {
    match role {
        ExprRole::Row | ExprRole::Measure => {
            if schema::is_known_column(name) {
                ctx.columns.insert(name.to_string());
            } else {
                problems.push(format!(
                    "unknown column `{name}`{}",
                    suggestion(name, schema::all_columns())
                ));
            }
        }
        ExprRole::Having(measures) => {
            let builtin = crate::engine::BUILTIN_MEASURES;
            if !measures.iter().any(|m| m == name) && !builtin.contains(&name) {
                let all: Vec<&str> = measures
                    .iter()
                    .map(String::as_str)
                    .chain(builtin.iter().copied())
                    .collect();
                let hint = if schema::is_known_column(name) {
                    format!("; `having` compares measures, and `{name}` is a column: define a measure over it")
                } else {
                    String::new()
                };
                problems.push(format!(
                    "unknown measure `{name}`{}{hint}; measures: {}",
                    suggestion(name, all.iter().copied()),
                    all.join(", ")
                ));
            }
        }
    }
}

fn literal_string(e: &sql::Expr) -> Option<String> {
    match e {
        sql::Expr::Value(v) => match &v.value {
            sql::Value::SingleQuotedString(s) => Some(s.clone()),
            _ => None,
        },
        _ => None,
    }
}

fn string_arg(f: &sql::Function, i: usize) -> Option<String> {
    match &f.args {
        sql::FunctionArguments::List(l) => match l.args.get(i)? {
            sql::FunctionArg::Unnamed(sql::FunctionArgExpr::Expr(e)) => literal_string(e),
            _ => None,
        },
        _ => None,
    }
}

/// Replaces `$param` and `@list` outside string literals.
fn substitute(text: &str, ctx: &mut Context<'_>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let mut in_str = false;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            in_str = !in_str;
            out.push(c);
            i += 1;
            continue;
        }
        if !in_str
            && (c == '$' || c == '@')
            && i + 1 < chars.len()
            && (chars[i + 1].is_ascii_alphabetic() || chars[i + 1] == '_')
        {
            let mut j = i + 1;
            while j < chars.len() && (chars[j].is_ascii_alphanumeric() || chars[j] == '_') {
                j += 1;
            }
            let name: String = chars[i + 1..j].iter().collect();
            if c == '$' {
                let v = ctx.params.get(&name).ok_or_else(|| {
                    format!(
                        "unknown parameter `${name}`{}; define it under `params:` of the pack or of the rule",
                        suggestion(&name, ctx.params.keys().map(String::as_str))
                    )
                })?;
                out.push_str(&v.to_sql());
            } else {
                let l = ctx.lists.get(&name).ok_or_else(|| {
                    format!(
                        "unknown list `@{name}`{}; declare it under `lists:` of the pack or bind it with --list {name}=PATH",
                        suggestion(&name, ctx.lists.keys().map(String::as_str))
                    )
                })?;
                ctx.lists_used.insert(name.clone());
                if l.values.is_empty() {
                    out.push_str("(NULL)");
                } else {
                    out.push('(');
                    for (k, v) in l.values.iter().enumerate() {
                        if k > 0 {
                            out.push_str(", ");
                        }
                        out.push('\'');
                        out.push_str(&v.replace('\'', "''"));
                        out.push('\'');
                    }
                    out.push(')');
                }
            }
            i = j;
            continue;
        }
        out.push(c);
        i += 1;
    }
    if in_str {
        return Err(format!("unclosed string literal in `{}`: close it with '", text.trim()));
    }
    Ok(out)
}

/// The top-level `AND` terms of an expression, as SQL text, in the order written. An
/// expression that is not a conjunction is one term.
pub fn conjuncts(sqltext: &str) -> Vec<String> {
    fn walk(e: &sql::Expr, out: &mut Vec<String>) {
        match e {
            sql::Expr::BinaryOp {
                left,
                op: sql::BinaryOperator::And,
                right,
            } => {
                walk(left, out);
                walk(right, out);
            }
            other => out.push(other.to_string()),
        }
    }
    match Parser::new(&GenericDialect)
        .try_with_sql(sqltext)
        .and_then(|mut p| p.parse_expr())
    {
        Ok(ast) => {
            let mut out = Vec::new();
            walk(&ast, &mut out);
            // Every term must compile on its own; else keep the whole.
            if out.iter().all(|t| compile(t).is_ok()) {
                out
            } else {
                vec![sqltext.to_string()]
            }
        }
        Err(_) => vec![sqltext.to_string()],
    }
}

/// The fewest rows a window must hold for `having` to be true, read from its top-level
/// terms `m >= k` and `m > k` where the measure `m` counts rows (`count(...)`, or the
/// built-in `n_txns` and `n_counterparties`): no count of a window exceeds its rows.
/// 0 when nothing bounds it.
pub fn min_rows(having: &str, measures: &[(String, String)]) -> usize {
    let counts_rows = |name: &str| -> bool {
        if name == "n_txns" || name == "n_counterparties" {
            return true;
        }
        let Some((_, sqltext)) = measures.iter().find(|(n, _)| n == name) else {
            return false;
        };
        match Parser::new(&GenericDialect)
            .try_with_sql(sqltext)
            .and_then(|mut p| p.parse_expr())
        {
            Ok(sql::Expr::Function(f)) => f.name.to_string().eq_ignore_ascii_case("count"),
            _ => false,
        }
    };
    let number = |e: &sql::Expr| -> Option<f64> {
        match e {
            sql::Expr::Value(v) => match &v.value {
                sql::Value::Number(n, _) => n.parse().ok(),
                _ => None,
            },
            _ => None,
        }
    };
    let ident = |e: &sql::Expr| -> Option<String> {
        match e {
            sql::Expr::Identifier(i) => Some(i.value.clone()),
            _ => None,
        }
    };
    let mut best = 0usize;
    for term in conjuncts(having) {
        let Ok(sql::Expr::BinaryOp { left, op, right }) = Parser::new(&GenericDialect)
            .try_with_sql(&term)
            .and_then(|mut p| p.parse_expr())
        else {
            continue;
        };
        use sql::BinaryOperator as B;
        let bound = match (ident(&left), &op, number(&right), ident(&right), number(&left)) {
            (Some(m), B::GtEq, Some(k), _, _) if counts_rows(&m) => k.ceil(),
            (Some(m), B::Gt, Some(k), _, _) if counts_rows(&m) => k.floor() + 1.0,
            (_, B::LtEq, _, Some(m), Some(k)) if counts_rows(&m) => k.ceil(),
            (_, B::Lt, _, Some(m), Some(k)) if counts_rows(&m) => k.floor() + 1.0,
            _ => continue,
        };
        if bound.is_finite() && bound > best as f64 {
            best = bound as usize;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx<'a>(params: &'a BTreeMap<String, ParamValue>, lists: &'a BTreeMap<String, RefList>) -> Context<'a> {
        Context {
            params,
            lists,
            columns: BTreeSet::new(),
            lists_used: BTreeSet::new(),
        }
    }

    #[test]
    fn substitutes_params_and_lists_outside_strings() {
        let mut p = BTreeMap::new();
        p.insert("t".to_string(), ParamValue::Number(10000.0));
        let mut l = BTreeMap::new();
        l.insert("hr".to_string(), RefList::parse("hr", "x", "# c\nKP\nIR\n"));
        let mut c = ctx(&p, &l);
        let s = prepare(
            "amount_base < $t AND bene_country IN @hr AND narrative <> '$t'",
            ExprRole::Row,
            &mut c,
        )
        .unwrap();
        assert_eq!(
            s,
            "amount_base < 10000 AND bene_country IN ('KP', 'IR') AND narrative <> '$t'"
        );
        assert!(c.columns.contains("amount_base") && c.columns.contains("bene_country"));
    }

    #[test]
    fn unknown_column_suggests_near_name() {
        let p = BTreeMap::new();
        let l = BTreeMap::new();
        let e = prepare("ammount > 5", ExprRole::Row, &mut ctx(&p, &l)).unwrap_err();
        assert!(e.contains("unknown column `ammount`; did you mean `amount`?"), "{e}");
    }

    #[test]
    fn invalid_regex_is_reported() {
        let p = BTreeMap::new();
        let l = BTreeMap::new();
        let e = prepare("REGEXP_LIKE(narrative, 'a(b')", ExprRole::Row, &mut ctx(&p, &l)).unwrap_err();
        assert!(e.contains("invalid regular expression `a(b`"), "{e}");
    }

    #[test]
    fn measure_must_aggregate_and_having_names_measures() {
        let p = BTreeMap::new();
        let l = BTreeMap::new();
        let e = prepare("amount_base", ExprRole::Measure, &mut ctx(&p, &l)).unwrap_err();
        assert!(e.contains("does not aggregate"), "{e}");
        let m = vec!["n".to_string(), "total".to_string()];
        let e = prepare("tota > 5", ExprRole::Having(&m), &mut ctx(&p, &l)).unwrap_err();
        assert!(e.contains("did you mean `total`"), "{e}");
    }

    #[test]
    fn conjuncts_split_top_level_and_only() {
        assert_eq!(
            conjuncts("channel = 'wire' AND (a = 1 OR b = 2) AND amount_base >= 1000"),
            ["channel = 'wire'", "(a = 1 OR b = 2)", "amount_base >= 1000"]
        );
        assert_eq!(conjuncts("a = 1 OR b = 2"), ["a = 1 OR b = 2"]);
    }

    #[test]
    fn min_rows_reads_count_bounds() {
        let m = vec![
            ("n".to_string(), "count(*)".to_string()),
            ("senders".to_string(), "count(DISTINCT counterparty)".to_string()),
            ("total".to_string(), "sum(amount_base)".to_string()),
        ];
        assert_eq!(min_rows("n >= 2", &m), 2);
        assert_eq!(min_rows("senders >= 10 AND total > 5", &m), 10);
        assert_eq!(min_rows("n > 4.5 AND senders >= 3", &m), 5);
        assert_eq!(min_rows("3 <= n", &m), 3);
        assert_eq!(min_rows("total >= 100", &m), 0);
        assert_eq!(min_rows("n >= 2 OR total >= 100", &m), 0);
    }

    #[test]
    fn unknown_parameter_and_list() {
        let mut p = BTreeMap::new();
        p.insert("reporting_threshold".to_string(), ParamValue::Number(1.0));
        let l = BTreeMap::new();
        let e = prepare("amount < $reporting_treshold", ExprRole::Row, &mut ctx(&p, &l)).unwrap_err();
        assert!(e.contains("did you mean `reporting_threshold`"), "{e}");
        let e = prepare("bene_country IN @nolist", ExprRole::Row, &mut ctx(&p, &l)).unwrap_err();
        assert!(e.contains("unknown list `@nolist`"), "{e}");
    }
}
