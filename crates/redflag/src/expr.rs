//! Rule expressions: SQL expressions compiled by polars' own SQL support.
//!
//! Before compiling, `$name` is replaced by the parameter's value and `@name` by the
//! list's values as a parenthesised list of string literals, so `country IN @high_risk`
//! reads as `country IN ('KP', 'IR')`. The text is then parsed with `sqlparser` to check
//! column names, regular expressions and aggregates, and compiled with
//! [`polars::sql::sql_expr`].

use std::collections::{BTreeMap, BTreeSet};
use std::ops::ControlFlow;

use polars::prelude::{Expr, PolarsResult};
use sqlparser::ast::{self as sql, visit_expressions};
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::Parser;

use crate::error::suggestion;
use crate::model::{ParamValue, RefList};
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
    /// A condition over named values a kind computes (a sequence's `match`, a
    /// baseline's `threshold`): exactly the names given.
    Over(&'a [String]),
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
    /// Columns the data lacks: a term marked `optional(...)` that reads one is dropped.
    /// Empty when a pack is loaded, so that every term is kept and checked.
    pub absent: BTreeSet<String>,
    /// The terms dropped (filled in): each as written, with the absent columns it reads.
    pub dropped: Vec<(String, Vec<String>)>,
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
    check_size(text)?;
    let sqltext = substitute(text, ctx)?;
    let sqltext = resolve_optional(text, sqltext, role, ctx)?;
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
                    check_pattern(string_arg(f, 1), &mut problems);
                }
            }
            sql::Expr::BinaryOp { op, right, .. } => {
                use sql::BinaryOperator as B;
                if matches!(
                    op,
                    B::PGRegexMatch | B::PGRegexIMatch | B::PGRegexNotMatch | B::PGRegexNotIMatch
                ) {
                    check_pattern(literal_string(right), &mut problems);
                }
            }
            sql::Expr::RLike { pattern, .. } => check_pattern(literal_string(pattern), &mut problems),
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
    // Polars must accept it too (supported functions, argument counts), and its types
    // must agree (a text parameter compared with a number).
    let compiled =
        compile(&sqltext).map_err(|e| format!("cannot compile `{}`: {}", text.trim(), one_line(&e.to_string())))?;
    check_types(compiled, role).map_err(|e| {
        let text_params: Vec<String> = ctx
            .params
            .iter()
            .filter(|(n, v)| matches!(v, ParamValue::Text(_)) && text.contains(&format!("${n}")))
            .map(|(n, v)| format!("parameter `${n}` is text (`{}`)", v.display()))
            .collect();
        let hint = if text_params.is_empty() {
            String::new()
        } else {
            format!("; {}: give a number if it is used as one", text_params.join(", "))
        };
        format!("cannot evaluate `{}`: {}{hint}", text.trim(), one_line(&e.to_string()))
    })?;
    Ok(sqltext)
}

/// A problem if `pattern` is not a regular expression. Only parsed: polars compiles it
/// when the expression's types are checked ([`check_types`]), which finds a pattern too
/// big to compile; compiling it here too would double the cost of checking a pack.
fn check_pattern(pattern: Option<String>, problems: &mut Vec<String>) {
    let Some(p) = pattern else { return };
    if let Err(err) = regex_syntax::Parser::new().parse(&p) {
        problems.push(format!(
            "invalid regular expression `{p}`: {}",
            one_line(&err.to_string())
        ));
    }
}

/// Evaluates an expression on no rows of the columns its role reads, which is enough for
/// polars to check its types (a text compared with a number is an error here, not when
/// screening). Names a kind computes, and measures, are of no type here: only what is
/// wrong whatever their type is found.
fn check_types(e: Expr, role: ExprRole<'_>) -> PolarsResult<()> {
    use polars::prelude::*;
    let frame = match role {
        ExprRole::Row | ExprRole::Measure => {
            let cols: Vec<Column> = schema::CANONICAL
                .iter()
                .map(|(n, t)| Column::new_empty((*n).into(), &t.dtype()))
                .collect();
            DataFrame::new(0, cols)?
                .lazy()
                .with_columns(schema::side_exprs(crate::model::Side::Out))
        }
        ExprRole::Having(names) | ExprRole::Over(names) => {
            // A measure may be of any type (`first(channel)`): of none here, which
            // compares with anything; text in arithmetic is still an error.
            let cols: Vec<Column> = names
                .iter()
                .map(|n| Column::new_empty(n.as_str().into(), &DataType::Null))
                .collect();
            DataFrame::new(0, cols)?.lazy()
        }
    };
    frame.select([e.alias("__check")]).collect().map(|_| ())
}

/// The most operators (`AND`, `OR`, `NOT`, `WHEN`, comparisons, arithmetic) an
/// expression may hold: the shipped rules use at most about 20. Each operator is a level
/// of the parsed tree, which the parser, the checks and polars walk recursively.
pub const MAX_OPERATORS: usize = 256;

/// The deepest parentheses may nest in an expression.
pub const MAX_NESTING: usize = 32;

/// Checks, on the text as written and before any parser sees it, that an expression is
/// small enough to parse and compile without exhausting the stack: at most
/// [`MAX_OPERATORS`] operators and [`MAX_NESTING`] levels of parentheses (string literals
/// aside).
pub fn check_size(text: &str) -> Result<(), String> {
    let (mut ops, mut depth, mut deepest) = (0usize, 0usize, 0usize);
    let mut in_str = false;
    let mut word = String::new();
    let mut prev_op = false;
    for c in text.chars().chain(std::iter::once(' ')) {
        if c == '\'' {
            in_str = !in_str;
        }
        if in_str || c == '\'' {
            word.clear();
            prev_op = false;
            continue;
        }
        if c.is_ascii_alphanumeric() || c == '_' {
            word.push(c.to_ascii_uppercase());
            prev_op = false;
            continue;
        }
        if matches!(word.as_str(), "AND" | "OR" | "NOT" | "WHEN") {
            ops += 1;
        }
        word.clear();
        let is_op = "+-*/%=<>!|&^~".contains(c);
        if is_op && !prev_op {
            ops += 1;
        }
        prev_op = is_op;
        match c {
            '(' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    if deepest > MAX_NESTING {
        return Err(format!(
            "the expression nests parentheses {deepest} deep; at most {MAX_NESTING} levels are allowed: split it into simpler conditions or measures"
        ));
    }
    if ops > MAX_OPERATORS {
        return Err(format!(
            "the expression has {ops} operators; at most {MAX_OPERATORS} are allowed: for a long list of values use `IN @list` with a list file, or split the condition"
        ));
    }
    Ok(())
}

fn one_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Compiles prepared SQL to a polars expression; polars' error is returned whole.
pub fn compile(sqltext: &str) -> PolarsResult<Expr> {
    polars::sql::sql_expr(sqltext)
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
        ExprRole::Over(names) => {
            if !names.iter().any(|m| m == name) {
                problems.push(format!(
                    "unknown name `{name}`{}; this condition may use: {}",
                    suggestion(name, names.iter().map(String::as_str)),
                    names.join(", ")
                ));
            }
        }
        ExprRole::Having(measures) => {
            let builtin = crate::model::BUILTIN_MEASURES;
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

/// A list as a regular expression that finds any of its values as whole words, case
/// insensitive, with each Cyrillic value also in its Latin transliteration (ICAO Doc 9303)
/// and spaces inside a value matching any run of white space. A word ending in `*` is a
/// stem: it matches any word that starts with it (`хиджр*`: хиджра, хиджру).
pub fn word_pattern(values: &[String]) -> String {
    let mut alts: Vec<String> = Vec::new();
    for v in values {
        let lower = v.trim().to_lowercase();
        // (word, is a stem): `хиджр*` matches хиджра, хиджру, хиджры.
        let words: Vec<(&str, bool)> = lower
            .split_whitespace()
            .map(|w| match w.strip_suffix('*') {
                Some(stem) => (stem, true),
                None => (w, false),
            })
            .filter(|(w, _)| !w.is_empty())
            .collect();
        if words.is_empty() {
            continue;
        }
        let latin: Vec<(String, bool)> = words
            .iter()
            .map(|(w, star)| (crate::watchlist::names::transliterate(w), *star))
            .collect();
        let as_written: Vec<(String, bool)> = words.iter().map(|(w, star)| (w.to_string(), *star)).collect();
        for form in [as_written, latin] {
            if form.iter().any(|(w, _)| w.is_empty()) {
                continue;
            }
            let alt = form
                .iter()
                .map(|(w, star)| {
                    let mut a = regex::escape(w);
                    if *star {
                        a.push_str(r"[\p{L}\p{M}]*");
                    }
                    a
                })
                .collect::<Vec<_>>()
                .join(r"\s+");
            if !alts.contains(&alt) {
                alts.push(alt);
            }
        }
    }
    if alts.is_empty() {
        // Matches nothing.
        return r"[^\s\S]".to_string();
    }
    // Word edges as "start, or a character that is not a letter, digit or underscore",
    // rather than `\b`: the regex crate runs Unicode `\b` on its slow engines only, and
    // `regexp_like` only asks whether there is a match, so consuming the edge is fine.
    format!(
        r"(?i)(?:^|[^\p{{L}}\p{{M}}\p{{N}}_])(?:{})(?:$|[^\p{{L}}\p{{M}}\p{{N}}_])",
        alts.join("|")
    )
}

/// Replaces `$param`, `@list` and `@~list` (a word pattern, see [`word_pattern`]) outside
/// string literals.
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
        if !in_str && c == '@' && chars.get(i + 1) == Some(&'~') {
            let mut j = i + 2;
            while j < chars.len() && (chars[j].is_ascii_alphanumeric() || chars[j] == '_') {
                j += 1;
            }
            let name: String = chars[i + 2..j].iter().collect();
            let l = ctx.lists.get(&name).ok_or_else(|| {
                format!(
                    "unknown list `@~{name}`{}; declare it under `lists:` of the pack or bind a list under that name",
                    suggestion(&name, ctx.lists.keys().map(String::as_str))
                )
            })?;
            ctx.lists_used.insert(name.clone());
            out.push('\'');
            out.push_str(&word_pattern(&l.values).replace('\'', "''"));
            out.push('\'');
            i = j;
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
                        "unknown list `@{name}`{}; declare it under `lists:` of the pack or bind a list under that name",
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

/// Where a term sits in a condition: what joins it to its neighbours.
#[derive(Clone, Copy, PartialEq)]
enum Joined {
    /// The whole condition.
    Root,
    And,
    Or,
}

/// The text inside each `optional(...)` of a written condition, in the order written
/// (string literals aside).
fn optional_spans(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let mut in_str = false;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            in_str = !in_str;
        } else if !in_str
            && chars.len() >= i + 9
            && chars[i..i + 8]
                .iter()
                .collect::<String>()
                .eq_ignore_ascii_case("optional")
            && (i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '_'))
        {
            let mut j = i + 8;
            while j < chars.len() && chars[j].is_whitespace() {
                j += 1;
            }
            if chars.get(j) == Some(&'(') {
                let (mut depth, mut k, mut quoted) = (0usize, j, false);
                while k < chars.len() {
                    match chars[k] {
                        '\'' => quoted = !quoted,
                        '(' if !quoted => depth += 1,
                        ')' if !quoted => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    k += 1;
                }
                out.push(
                    chars[j + 1..k.min(chars.len())]
                        .iter()
                        .collect::<String>()
                        .trim()
                        .to_string(),
                );
                i = k;
            }
        }
        i += 1;
    }
    out
}

/// The single argument of an `optional(...)` call, or `None` when `e` is not one.
fn optional_arg(e: &sql::Expr) -> Option<Result<&sql::Expr, String>> {
    let sql::Expr::Function(f) = e else { return None };
    if !f.name.to_string().eq_ignore_ascii_case("optional") {
        return None;
    }
    Some(match &f.args {
        sql::FunctionArguments::List(l) if l.args.len() == 1 => match &l.args[0] {
            sql::FunctionArg::Unnamed(sql::FunctionArgExpr::Expr(a)) => Ok(a),
            _ => Err("`optional(...)` takes one condition".to_string()),
        },
        _ => Err("`optional(...)` takes one condition".to_string()),
    })
}

/// Whether an expression holds an `optional(...)` call anywhere.
fn holds_optional(e: &sql::Expr) -> bool {
    let mut found = false;
    let _ = visit_expressions(e, |x: &sql::Expr| {
        if optional_arg(x).is_some() {
            found = true;
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    });
    found
}

/// The operands of an AND (or OR) chain, through parentheses.
fn chain<'e>(e: &'e sql::Expr, op: &sql::BinaryOperator, out: &mut Vec<&'e sql::Expr>) {
    match e {
        sql::Expr::BinaryOp { left, op: o, right } if o == op => {
            chain(left, op, out);
            chain(right, op, out);
        }
        sql::Expr::Nested(inner) if matches!(&**inner, sql::Expr::BinaryOp { op: o, .. } if o == op) => {
            chain(inner, op, out)
        }
        other => out.push(other),
    }
}

/// What rewriting the `optional(...)` terms of a condition needs and finds.
struct Optional<'c> {
    /// The columns the data lacks.
    absent: &'c BTreeSet<String>,
    /// Drop the terms that read them (else keep every term).
    drop: bool,
    /// The written text of each term, in order.
    written: Vec<String>,
    /// How many terms were met so far.
    seen: usize,
    /// The terms dropped: their written text and the absent columns they read.
    dropped: Vec<(String, Vec<String>)>,
}

impl Optional<'_> {
    /// `e` with each `optional(x)` replaced by `(x)`, or, when `x` reads an absent column,
    /// by the value that leaves the terms joined to it alone (TRUE in an AND, FALSE in an
    /// OR); constants are then folded away.
    fn rewrite(&mut self, e: sql::Expr, joined: Joined) -> Result<sql::Expr, String> {
        use sql::BinaryOperator as B;
        if let Some(arg) = optional_arg(&e) {
            let arg = arg?.clone();
            if !matches!(joined, Joined::And | Joined::Or) {
                return Err(
                    "`optional(...)` marks a term joined to others by AND or OR; it cannot be the \
                            whole condition, nor sit under NOT, in a function, a comparison or a CASE"
                        .into(),
                );
            }
            if holds_optional(&arg) {
                return Err("`optional(...)` cannot hold another `optional(...)`".into());
            }
            let written = self.written.get(self.seen).cloned().unwrap_or_else(|| arg.to_string());
            self.seen += 1;
            let lacking: Vec<String> = referenced(&arg.to_string())
                .unwrap_or_default()
                .into_iter()
                .filter(|c| self.absent.contains(c))
                .collect();
            if self.drop && !lacking.is_empty() {
                self.dropped.push((written, lacking));
                return Ok(boolean(joined == Joined::And));
            }
            return Ok(sql::Expr::Nested(Box::new(arg)));
        }
        match e {
            sql::Expr::Nested(inner) => {
                let inner = self.rewrite(*inner, joined)?;
                Ok(match truth(&inner) {
                    Some(b) => boolean(b),
                    None => sql::Expr::Nested(Box::new(inner)),
                })
            }
            sql::Expr::BinaryOp { left, op, right } if matches!(op, B::And | B::Or) => {
                let and = op == B::And;
                if and && joined != Joined::And {
                    let mut terms = Vec::new();
                    chain(&left, &op, &mut terms);
                    chain(&right, &op, &mut terms);
                    if terms.iter().all(|t| optional_arg(t).is_some()) {
                        return Err("terms joined by AND need at least one that is not `optional(...)`: \
                                    dropping them all would let every row through"
                            .into());
                    }
                }
                let j = if and { Joined::And } else { Joined::Or };
                let l = self.rewrite(*left, j)?;
                let r = self.rewrite(*right, j)?;
                Ok(fold_connective(l, op, r))
            }
            other => {
                if holds_optional(&other) {
                    return Err(
                        "`optional(...)` marks a term joined to others by AND or OR; it cannot sit \
                                under NOT, in a function, a comparison or a CASE"
                            .into(),
                    );
                }
                Ok(other)
            }
        }
    }
}

/// Resolves the `optional(...)` terms of a row condition (docs/packs.md, "When the data
/// lacks a column"): each is kept as a plain term, or dropped when it reads a column of
/// `ctx.absent`, unless dropping would leave a condition that never holds (then the rule
/// cannot run, and every term is kept). Text without such a term is returned unchanged.
fn resolve_optional(
    written: &str,
    sqltext: String,
    role: ExprRole<'_>,
    ctx: &mut Context<'_>,
) -> Result<String, String> {
    let lower = sqltext.to_ascii_lowercase();
    if !lower.contains("optional") {
        return Ok(sqltext);
    }
    let Ok(ast) = Parser::new(&GenericDialect)
        .try_with_sql(&sqltext)
        .and_then(|mut p| p.parse_expr())
    else {
        return Ok(sqltext); // the caller reports the parse error
    };
    if !holds_optional(&ast) {
        return Ok(sqltext);
    }
    if !matches!(role, ExprRole::Row) {
        return Err("`optional(...)` marks a term of a row condition (`where`); it cannot be used here".into());
    }
    let mut o = Optional {
        absent: &ctx.absent,
        drop: !ctx.absent.is_empty(),
        written: optional_spans(written),
        seen: 0,
        dropped: Vec::new(),
    };
    let mut out = o.rewrite(ast.clone(), Joined::Root)?;
    if matches!(&out, sql::Expr::Value(v) if v.value == sql::Value::Boolean(false)) {
        // Nothing of the condition could hold: keep every term, so the rule is not applicable.
        o.drop = false;
        o.seen = 0;
        o.dropped.clear();
        out = o.rewrite(ast, Joined::Root)?;
    }
    let dropped = std::mem::take(&mut o.dropped);
    ctx.dropped.extend(dropped);
    while let sql::Expr::Nested(inner) = out {
        out = *inner;
    }
    Ok(out.to_string())
}

/// Whether a prepared condition reads the same on both sides of a transaction: it names
/// no side-view column (`account`, `counterparty`, ..., `side`). Unparsable text counts as
/// side-dependent.
pub fn side_free(sqltext: &str) -> bool {
    referenced(sqltext).is_some_and(|names| {
        !names
            .iter()
            .any(|n| n == "side" || schema::SIDE_COLUMNS.iter().any(|(c, _, _)| c == n))
    })
}

/// A condition as it reads on one side (`in` or `out`): each `side = '...'` and
/// `side <> '...'` becomes true or false, and what that decides is simplified away, so
/// that `(side = 'out' AND mcc IN (...)) OR (side = 'in' AND channel = 'cash_in')` reads
/// `mcc IN (...)` on the paying side. Unparsable text, and text that compares no `side`,
/// is returned as it is.
pub fn on_side(sqltext: &str, side: &str) -> String {
    let Ok(ast) = Parser::new(&GenericDialect)
        .try_with_sql(sqltext)
        .and_then(|mut p| p.parse_expr())
    else {
        return sqltext.to_string();
    };
    let mut changed = false;
    let mut out = fold_side(ast, side, &mut changed);
    // Parentheses around the whole say nothing, and would hide its terms.
    while let sql::Expr::Nested(inner) = out {
        out = *inner;
    }
    if changed {
        out.to_string()
    } else {
        sqltext.to_string()
    }
}

/// The value of a boolean literal; `None` for anything else.
fn truth(e: &sql::Expr) -> Option<bool> {
    match e {
        sql::Expr::Value(v) => match v.value {
            sql::Value::Boolean(b) => Some(b),
            _ => None,
        },
        _ => None,
    }
}

/// A boolean literal.
fn boolean(b: bool) -> sql::Expr {
    sql::Expr::Value(sql::Value::Boolean(b).into())
}

/// `l AND r` or `l OR r`, folded where a side is a boolean literal: FALSE AND x and
/// TRUE OR x are decided; TRUE AND x and FALSE OR x are x.
fn fold_connective(l: sql::Expr, op: sql::BinaryOperator, r: sql::Expr) -> sql::Expr {
    let and = op == sql::BinaryOperator::And;
    match (truth(&l), truth(&r)) {
        (Some(a), Some(b)) => boolean(if and { a && b } else { a || b }),
        (Some(a), None) if a != and => boolean(a),
        (Some(_), None) => r,
        (None, Some(b)) if b != and => boolean(b),
        (None, Some(_)) => l,
        (None, None) => sql::Expr::BinaryOp {
            left: Box::new(l),
            op,
            right: Box::new(r),
        },
    }
}

fn fold_side(e: sql::Expr, side: &str, changed: &mut bool) -> sql::Expr {
    use sql::BinaryOperator as B;
    let is_side = |e: &sql::Expr| matches!(e, sql::Expr::Identifier(i) if i.value == "side");
    let text = |e: &sql::Expr| match e {
        sql::Expr::Value(v) => match &v.value {
            sql::Value::SingleQuotedString(t) => Some(t.clone()),
            _ => None,
        },
        _ => None,
    };
    match e {
        sql::Expr::Nested(inner) => {
            let inner = fold_side(*inner, side, changed);
            match (truth(&inner), inner) {
                (Some(b), _) => boolean(b),
                (None, nested @ sql::Expr::Nested(_)) => nested,
                (None, inner) => sql::Expr::Nested(Box::new(inner)),
            }
        }
        sql::Expr::UnaryOp {
            op: sql::UnaryOperator::Not,
            expr,
        } => {
            let inner = fold_side(*expr, side, changed);
            match truth(&inner) {
                Some(b) => boolean(!b),
                None => sql::Expr::UnaryOp {
                    op: sql::UnaryOperator::Not,
                    expr: Box::new(inner),
                },
            }
        }
        sql::Expr::BinaryOp { left, op, right } => {
            let eq = match op {
                B::Eq => Some(true),
                B::NotEq => Some(false),
                _ => None,
            };
            if let Some(eq) = eq {
                let value = if is_side(&left) {
                    text(&right)
                } else if is_side(&right) {
                    text(&left)
                } else {
                    None
                };
                if let Some(v) = value {
                    *changed = true;
                    return boolean((v == side) == eq);
                }
            }
            if matches!(op, B::And | B::Or) {
                let l = fold_side(*left, side, changed);
                let r = fold_side(*right, side, changed);
                return fold_connective(l, op, r);
            }
            sql::Expr::BinaryOp { left, op, right }
        }
        other => other,
    }
}

/// The names an expression reads (columns, side-view columns), or `None` when it does
/// not parse.
pub fn referenced(sqltext: &str) -> Option<BTreeSet<String>> {
    let ast = Parser::new(&GenericDialect)
        .try_with_sql(sqltext)
        .and_then(|mut p| p.parse_expr())
        .ok()?;
    let mut names = BTreeSet::new();
    let _ = visit_expressions(&ast, |e: &sql::Expr| {
        match e {
            sql::Expr::Identifier(id) => {
                names.insert(id.value.clone());
            }
            sql::Expr::CompoundIdentifier(ids) => {
                if let Some(i) = ids.last() {
                    names.insert(i.value.clone());
                }
            }
            _ => {}
        }
        ControlFlow::<()>::Continue(())
    });
    Some(names)
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

/// What a window must hold for a `having` to be true: at least `rows` rows and at least
/// `amount` in `amount_base`, read from its top-level terms `m >= k` and `m > k`.
/// A measure bounds the rows when it counts them (`count(...)`, the built-in `n_txns` and
/// `n_counterparties`), and bounds the amount when it sums `amount_base` or a part of it
/// (`sum(amount_base)`, `sum(CASE WHEN c THEN amount_base ELSE 0 END)`, the built-in
/// `total_amount`): amounts are positive, so no such measure exceeds the window's total.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Bounds {
    /// Fewest rows.
    pub rows: usize,
    /// Least total `amount_base`.
    pub amount: f64,
}

#[derive(PartialEq)]
enum Bounded {
    Rows,
    Amount,
}

fn bounded_by(name: &str, measures: &[(String, String)]) -> Option<Bounded> {
    match name {
        "n_txns" | "n_counterparties" => return Some(Bounded::Rows),
        "total_amount" => return Some(Bounded::Amount),
        _ => {}
    }
    let (_, sqltext) = measures.iter().find(|(n, _)| n == name)?;
    let ast = Parser::new(&GenericDialect)
        .try_with_sql(sqltext)
        .and_then(|mut p| p.parse_expr())
        .ok()?;
    let sql::Expr::Function(f) = ast else {
        return None;
    };
    let fname = f.name.to_string().to_lowercase();
    if fname == "count" {
        return Some(Bounded::Rows);
    }
    if fname != "sum" || f.filter.is_some() {
        return None;
    }
    let sql::FunctionArguments::List(l) = &f.args else {
        return None;
    };
    if l.args.len() != 1 || l.duplicate_treatment.is_some() {
        return None;
    }
    let sql::FunctionArg::Unnamed(sql::FunctionArgExpr::Expr(arg)) = &l.args[0] else {
        return None;
    };
    let is_amount = |e: &sql::Expr| matches!(e, sql::Expr::Identifier(i) if i.value == "amount_base");
    let is_zero = |e: &sql::Expr| matches!(e, sql::Expr::Value(v) if matches!(&v.value, sql::Value::Number(n, _) if n.parse::<f64>() == Ok(0.0)));
    match arg {
        e if is_amount(e) => Some(Bounded::Amount),
        sql::Expr::Case {
            operand: None,
            conditions,
            else_result,
            ..
        } if conditions.iter().all(|c| is_amount(&c.result) || is_zero(&c.result))
            && else_result.as_deref().is_none_or(is_zero) =>
        {
            Some(Bounded::Amount)
        }
        _ => None,
    }
}

/// The value of a constant arithmetic expression (`2 * 10000`), if it is one.
fn constant(e: &sql::Expr) -> Option<f64> {
    use sql::BinaryOperator as B;
    match e {
        sql::Expr::Value(v) => match &v.value {
            sql::Value::Number(n, _) => n.parse().ok(),
            _ => None,
        },
        sql::Expr::Nested(inner) => constant(inner),
        sql::Expr::UnaryOp {
            op: sql::UnaryOperator::Minus,
            expr,
        } => constant(expr).map(|v| -v),
        sql::Expr::BinaryOp { left, op, right } => {
            let (a, b) = (constant(left)?, constant(right)?);
            match op {
                B::Plus => Some(a + b),
                B::Minus => Some(a - b),
                B::Multiply => Some(a * b),
                B::Divide if b != 0.0 => Some(a / b),
                _ => None,
            }
        }
        _ => None,
    }
}

/// The [`Bounds`] of a `having` over the given measures. Terms joined by `AND` each bound
/// the window, so the strongest bound holds; of terms joined by `OR`, only the weakest
/// bound holds for every window that can fire (`(a >= 5 AND total > 3000) OR total >= 4000`
/// needs 3000 in total, and no rows).
pub fn bounds(having: &str, measures: &[(String, String)]) -> Bounds {
    match Parser::new(&GenericDialect)
        .try_with_sql(having)
        .and_then(|mut p| p.parse_expr())
    {
        Ok(ast) => bounds_of(&ast, measures),
        Err(_) => Bounds::default(),
    }
}

fn bounds_of(e: &sql::Expr, measures: &[(String, String)]) -> Bounds {
    use sql::BinaryOperator as B;
    let (left, op, right) = match e {
        sql::Expr::Nested(inner) => return bounds_of(inner, measures),
        sql::Expr::BinaryOp { left, op, right } => (left, op, right),
        _ => return Bounds::default(),
    };
    match op {
        B::And => {
            let (a, b) = (bounds_of(left, measures), bounds_of(right, measures));
            return Bounds {
                rows: a.rows.max(b.rows),
                amount: a.amount.max(b.amount),
            };
        }
        B::Or => {
            let (a, b) = (bounds_of(left, measures), bounds_of(right, measures));
            return Bounds {
                rows: a.rows.min(b.rows),
                amount: a.amount.min(b.amount),
            };
        }
        _ => {}
    }
    let Some((m, k, strict)) = lower_bound(left, op, right) else {
        return Bounds::default();
    };
    match bounded_by(&m, measures) {
        Some(Bounded::Rows) => {
            let r = if strict { k.floor() + 1.0 } else { k.ceil() };
            Bounds {
                rows: r.max(0.0) as usize,
                amount: 0.0,
            }
        }
        // A strict bound on a sum is kept as the non-strict one: still true.
        Some(Bounded::Amount) => Bounds {
            rows: 0,
            amount: k.max(0.0),
        },
        None => Bounds::default(),
    }
}

/// The least value of `name` for which `cond` can be true, as `(k, strict)` (`name >= k`,
/// or `name > k` when strict), read from its terms `name >= k`, `name > k`, `k <= name`
/// and `k < name`: of terms joined by `AND`, the strongest; of terms joined by `OR`, the
/// weakest, and none when a side has none. `None` when `cond` bounds `name` nowhere.
pub fn least(cond: &str, name: &str) -> Option<(f64, bool)> {
    let ast = Parser::new(&GenericDialect)
        .try_with_sql(cond)
        .and_then(|mut p| p.parse_expr())
        .ok()?;
    least_of(&ast, name)
}

/// A term `m >= k`, `m > k`, `k <= m` or `k < m`, with `k` a finite constant, as
/// `(m, k, strict)`: the lower bound it sets on the name `m`.
fn lower_bound(left: &sql::Expr, op: &sql::BinaryOperator, right: &sql::Expr) -> Option<(String, f64, bool)> {
    use sql::BinaryOperator as B;
    let ident = |e: &sql::Expr| match e {
        sql::Expr::Identifier(i) => Some(i.value.clone()),
        _ => None,
    };
    let (m, k, strict) = match op {
        B::GtEq => (ident(left)?, constant(right)?, false),
        B::Gt => (ident(left)?, constant(right)?, true),
        B::LtEq => (ident(right)?, constant(left)?, false),
        B::Lt => (ident(right)?, constant(left)?, true),
        _ => return None,
    };
    k.is_finite().then_some((m, k, strict))
}

fn least_of(e: &sql::Expr, name: &str) -> Option<(f64, bool)> {
    use sql::BinaryOperator as B;
    let (left, op, right) = match e {
        sql::Expr::Nested(inner) => return least_of(inner, name),
        sql::Expr::BinaryOp { left, op, right } => (left, op, right),
        _ => return None,
    };
    // Of two bounds, the higher; on a tie, the strict one.
    let stronger = |a: (f64, bool), b: (f64, bool)| {
        if a.0 > b.0 || (a.0 == b.0 && a.1) {
            a
        } else {
            b
        }
    };
    match op {
        B::And => match (least_of(left, name), least_of(right, name)) {
            (Some(a), Some(b)) => Some(stronger(a, b)),
            (a, b) => a.or(b),
        },
        B::Or => {
            let (a, b) = (least_of(left, name)?, least_of(right, name)?);
            // The weaker of the two: the one that is not the stronger.
            Some(if stronger(a, b) == a { b } else { a })
        }
        _ => {
            let (m, k, strict) = lower_bound(left, op, right)?;
            (m == name).then_some((k, strict))
        }
    }
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
            absent: BTreeSet::new(),
            dropped: Vec::new(),
        }
    }

    /// `optional(...)` terms: kept as plain terms with every column, dropped as the
    /// neutral value of what joins them when a column is absent, and kept all when
    /// dropping would leave a condition that never holds.
    #[test]
    fn optional_terms_are_kept_or_dropped_by_the_columns_present() {
        let (params, lists) = (BTreeMap::new(), BTreeMap::new());
        let run = |text: &str, absent: &[&str]| {
            let mut c = ctx(&params, &lists);
            c.absent = absent.iter().map(|s| s.to_string()).collect();
            let out = prepare(text, ExprRole::Row, &mut c).unwrap();
            (out, c.dropped, c.columns)
        };
        let text = "channel = 'wire' AND (mcc = '1' OR optional(narrative = 'x')) AND optional(loc_country = 'KP')";
        let (out, dropped, cols) = run(text, &[]);
        assert_eq!(
            out,
            "channel = 'wire' AND (mcc = '1' OR (narrative = 'x')) AND (loc_country = 'KP')"
        );
        assert!(dropped.is_empty());
        assert!(cols.contains("narrative") && cols.contains("loc_country"));
        let (out, dropped, cols) = run(text, &["narrative", "loc_country"]);
        assert_eq!(out, "channel = 'wire' AND (mcc = '1')");
        assert_eq!(
            dropped,
            [
                ("narrative = 'x'".to_string(), vec!["narrative".to_string()]),
                ("loc_country = 'KP'".to_string(), vec!["loc_country".to_string()]),
            ]
        );
        assert!(!cols.contains("narrative") && !cols.contains("loc_country"));
        // Every alternative gone: nothing is dropped, the columns stay (not applicable).
        let (out, dropped, cols) = run(
            "optional(mcc = '1') OR optional(narrative = 'x')",
            &["mcc", "narrative"],
        );
        assert_eq!(out, "(mcc = '1') OR (narrative = 'x')");
        assert!(dropped.is_empty() && cols.contains("mcc"));
        // The word inside a string is not a term.
        let (out, _, _) = run("narrative = 'optional(x)'", &["mcc"]);
        assert_eq!(out, "narrative = 'optional(x)'");
    }

    #[test]
    fn conditions_read_on_one_side() {
        let ht = "(side = 'out' AND (mcc IN ('6513') OR narrative LIKE '%rent%')) OR (side = 'in' AND channel = 'cash_in' AND (hour >= 22 OR hour < 6))";
        assert_eq!(on_side(ht, "out"), "mcc IN ('6513') OR narrative LIKE '%rent%'");
        assert_eq!(on_side(ht, "in"), "channel = 'cash_in' AND (hour >= 22 OR hour < 6)");
        assert_eq!(on_side("side <> 'in' OR amount_base > 5", "out"), "true");
        assert_eq!(on_side("side <> 'in' OR amount_base > 5", "in"), "amount_base > 5");
        assert_eq!(on_side("NOT ('out' = side) AND x = 1", "out"), "false");
        // Nothing to decide: the text as it is.
        assert_eq!(on_side("channel = 'side'", "out"), "channel = 'side'");
        assert_eq!(on_side("side IN ('in')", "out"), "side IN ('in')");
        assert_eq!(on_side("not sql (", "in"), "not sql (");
    }

    #[test]
    fn side_free_conditions_name_no_side_column() {
        assert!(side_free("channel = 'cash_in' AND amount_base > 5"));
        assert!(side_free("regexp_like(narrative, 'x') AND hour >= 22"));
        assert!(!side_free("counterparty_country IN ('KP')"));
        assert!(!side_free("side = 'in'"));
    }

    #[test]
    fn word_patterns_match_whole_words_in_both_scripts() {
        let values: Vec<String> = ["закладка", "sadaqa", "for the  cause", "a.b"]
            .map(String::from)
            .to_vec();
        let p = word_pattern(&values);
        let re = regex::Regex::new(&p).unwrap();
        assert!(re.is_match("оплата ЗАКЛАДКА 5г"));
        assert!(re.is_match("zakladka"));
        assert!(re.is_match("Sadaqa for family"));
        assert!(re.is_match("money for the\tcause"));
        assert!(re.is_match("ref a.b"));
        assert!(!re.is_match("закладками"));
        assert!(!re.is_match("sadaqat"));
        assert!(!re.is_match("axb"));
        assert!(!regex::Regex::new(&word_pattern(&[])).unwrap().is_match("anything"));
        let stems = regex::Regex::new(&word_pattern(&["хиджр*".to_string(), "brothers in sham*".to_string()])).unwrap();
        assert!(stems.is_match("на хиджру"));
        // ICAO: х kh, дж dzh.
        assert!(stems.is_match("Khidzhra 2026"));
        assert!(stems.is_match("for brothers in Shams"));
        assert!(!stems.is_match("хидж"));
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
    fn regex_too_big_to_compile_is_reported() {
        // Parses, but compiles to more than the regex crate's size limit: found when
        // polars compiles it to check the expression's types.
        let p = BTreeMap::new();
        let l = BTreeMap::new();
        let e = prepare(
            r"regexp_like(narrative, '(\w{1000}){200}', 'i')",
            ExprRole::Row,
            &mut ctx(&p, &l),
        )
        .unwrap_err();
        assert!(e.contains("exceeds size limit"), "{e}");
        assert!(e.contains(r"(\w{1000}){200}"), "{e}");
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
    fn bounds_read_count_and_amount_terms() {
        let m = vec![
            ("n".to_string(), "count(*)".to_string()),
            ("senders".to_string(), "count(DISTINCT counterparty)".to_string()),
            ("total".to_string(), "sum(amount_base)".to_string()),
            (
                "cash".to_string(),
                "sum(CASE WHEN channel = 'cash_in' THEN amount_base ELSE 0.0 END)".to_string(),
            ),
            (
                "odd".to_string(),
                "sum(CASE WHEN channel = 'cash_in' THEN amount_base ELSE 1 END)".to_string(),
            ),
            ("med".to_string(), "median(amount_base)".to_string()),
        ];
        let b = |h: &str| bounds(h, &m);
        assert_eq!(b("n >= 2").rows, 2);
        assert_eq!(b("senders >= 10 AND med < 500").rows, 10);
        assert_eq!(b("n > 4.5 AND senders >= 3").rows, 5);
        assert_eq!(b("3 <= n").rows, 3);
        assert_eq!(b("total >= 100"), Bounds { rows: 0, amount: 100.0 });
        assert_eq!(
            b("cash >= 20000 AND n >= 2"),
            Bounds {
                rows: 2,
                amount: 20000.0
            }
        );
        let both = b("cash >= 2 * 10000 AND n > (1 + 1)");
        assert_eq!((both.rows, both.amount), (3, 20000.0));
        assert_eq!(b("odd >= 20000"), Bounds::default());
        assert_eq!(b("med >= 20000"), Bounds::default());
        assert_eq!(b("n >= 2 OR total >= 100"), Bounds::default());
        // Each branch of an OR needs at least the weaker of their bounds.
        assert_eq!(
            b("(n >= 2 AND total > 3000) OR (med > 0 AND total >= 4000 AND cash >= 2 * 2500)"),
            Bounds {
                rows: 0,
                amount: 3000.0
            }
        );
        assert_eq!(b("(n >= 3 AND total >= 10) OR n > 4"), Bounds { rows: 3, amount: 0.0 });
        assert_eq!(b("(n >= 3 AND total >= 10) OR med > 4"), Bounds::default());
        assert_eq!(b("NOT (n >= 3)"), Bounds::default());
    }

    #[test]
    fn least_reads_lower_bounds_of_one_name() {
        let l = |c: &str| least(c, "current");
        assert_eq!(l("current >= 5"), Some((5.0, false)));
        assert_eq!(l("current > 2 * 2"), Some((4.0, true)));
        assert_eq!(l("3 <= current"), Some((3.0, false)));
        assert_eq!(l("3 < current"), Some((3.0, true)));
        assert_eq!(
            l("current >= 5 AND current >= 2 * history_max AND (peer_median IS NULL OR current >= 4 * peer_median)"),
            Some((5.0, false))
        );
        // AND: the stronger; on a tie, the strict one.
        assert_eq!(l("current >= 5 AND current > 7"), Some((7.0, true)));
        assert_eq!(l("current >= 5 AND current > 5"), Some((5.0, true)));
        // OR: the weaker, or none when a branch has none.
        assert_eq!(l("(current >= 5 AND n > 1) OR current > 3"), Some((3.0, true)));
        assert_eq!(l("current > 5 OR current >= 5"), Some((5.0, false)));
        assert_eq!(l("current >= 5 OR ratio > 3"), None);
        // Not a lower bound of `current`.
        assert_eq!(l("current <= 5"), None);
        assert_eq!(l("NOT (current >= 5)"), None);
        assert_eq!(l("current >= history_max"), None);
        assert_eq!(l("currently >= 5"), None);
        assert_eq!(l("current >= 1e400"), None);
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

    /// Expressions too large or too deep to parse safely are refused before parsing;
    /// string literals do not count.
    #[test]
    fn oversized_expressions_are_refused_before_parsing() {
        let many_or = vec!["amount > 1"; 5000].join(" OR ");
        let e = check_size(&many_or).unwrap_err();
        assert!(e.contains("operators; at most 256"), "{e}");
        let deep = format!("{}amount > 1{}", "(".repeat(3000), ")".repeat(3000));
        assert!(check_size(&deep).unwrap_err().contains("nests parentheses 3000 deep"));
        let quoted = format!("narrative = '{}'", "((( OR AND -".repeat(1000));
        assert!(check_size(&quoted).is_ok());
        let fine = vec!["amount > 1"; 100].join(" OR ");
        assert!(check_size(&fine).is_ok());
        let (params, lists) = (BTreeMap::new(), BTreeMap::new());
        let mut c = ctx(&params, &lists);
        let e = prepare(&many_or, ExprRole::Row, &mut c).unwrap_err();
        assert!(e.contains("at most 256"), "{e}");
    }

    /// Types are checked on no rows: a text compared with a number is refused, with the
    /// text parameter named; measures of any type compare in `having`.
    #[test]
    fn types_are_checked_when_prepared() {
        let mut params = BTreeMap::new();
        params.insert("limit".to_string(), ParamValue::Text("10000".into()));
        params.insert("n_min".to_string(), ParamValue::Number(2.0));
        let lists = BTreeMap::new();
        let mut c = ctx(&params, &lists);
        let e = prepare("amount_base >= $limit", ExprRole::Row, &mut c).unwrap_err();
        assert!(e.contains("parameter `$limit` is text (`10000`)"), "{e}");
        assert!(prepare("channel = 'wire' AND hour < 6", ExprRole::Row, &mut c).is_ok());
        assert!(prepare("sum(amount_base)", ExprRole::Measure, &mut c).is_ok());
        let names = vec!["first_channel".to_string(), "n".to_string()];
        assert!(prepare(
            "first_channel = 'wire' AND n >= $n_min",
            ExprRole::Having(&names),
            &mut c
        )
        .is_ok());
    }
}
