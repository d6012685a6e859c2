//! What a kind's `check` works with: the parameters and lists in force; it collects the
//! problems, columns, lists, row conditions and explanation placeholders a rule has.

use std::collections::{BTreeMap, BTreeSet};

use crate::expr::{self, ExprRole};
use crate::model::{Condition, Dropped, ParamValue, RefList, SideSel, Window};

/// What a kind's `check` works with: the parameters and lists in force, and the
/// problems, columns and lists it finds.
pub struct Checker<'a> {
    pub(crate) params: &'a BTreeMap<String, ParamValue>,
    pub(crate) lists: &'a BTreeMap<String, RefList>,
    pub(crate) columns: BTreeSet<String>,
    pub(crate) lists_used: BTreeSet<String>,
    pub(crate) problems: Vec<(String, String)>,
    pub(crate) conditions: Vec<Condition>,
    pub(crate) placeholders: Vec<String>,
    /// The sides the rule screens (its `side`, for the kinds that have one).
    pub(crate) side: SideSel,
    /// Columns the data lacks, when a rule is checked again for data (see
    /// `Pack::degrade`): the parts that read one and may be dropped are dropped. Empty
    /// when a pack is loaded.
    pub(crate) absent: BTreeSet<String>,
    /// The parts dropped.
    pub(crate) dropped: Vec<Dropped>,
}

impl<'a> Checker<'a> {
    pub(crate) fn new(params: &'a BTreeMap<String, ParamValue>, lists: &'a BTreeMap<String, RefList>) -> Self {
        Checker {
            params,
            lists,
            columns: BTreeSet::new(),
            lists_used: BTreeSet::new(),
            problems: Vec::new(),
            conditions: Vec::new(),
            placeholders: Vec::new(),
            side: SideSel::Both,
            absent: BTreeSet::new(),
            dropped: Vec::new(),
        }
    }

    /// The columns an expression reads that the data lacks, in name order: always none
    /// when a pack is loaded, some only when a rule is checked again for data.
    pub fn lacks(&self, sql: &str, role: ExprRole<'_>) -> Vec<String> {
        if self.absent.is_empty() {
            return Vec::new();
        }
        let mut ctx = expr::Context {
            params: self.params,
            lists: self.lists,
            columns: BTreeSet::new(),
            lists_used: BTreeSet::new(),
            absent: BTreeSet::new(),
            dropped: Vec::new(),
        };
        // The columns are recorded as they are read; a problem is reported by `expr`.
        let _ = expr::prepare(sql, role, &mut ctx);
        ctx.columns.into_iter().filter(|c| self.absent.contains(c)).collect()
    }

    /// Records a part dropped because it reads columns the data lacks.
    pub fn drop_part(&mut self, part: &str, text: &str, missing: Vec<String>) {
        self.dropped.push(Dropped {
            part: part.to_string(),
            text: text.split_whitespace().collect::<Vec<_>>().join(" "),
            missing_columns: missing,
        });
    }

    /// Reports a problem with a field (a path such as `first.where`).
    pub fn problem(&mut self, field: &str, message: impl Into<String>) {
        self.problems.push((field.to_string(), message.into()));
    }

    /// Checks an expression and substitutes its parameters and lists; records the
    /// columns and lists it reads. `None` when it has a problem (reported).
    pub fn expr(&mut self, field: &str, sql: &str, role: ExprRole<'_>) -> Option<String> {
        let mut ctx = expr::Context {
            params: self.params,
            lists: self.lists,
            columns: BTreeSet::new(),
            lists_used: BTreeSet::new(),
            absent: self.absent.clone(),
            dropped: Vec::new(),
        };
        match expr::prepare(sql, role, &mut ctx) {
            Ok(s) => {
                self.columns.extend(ctx.columns);
                self.lists_used.extend(ctx.lists_used);
                for (text, missing) in ctx.dropped {
                    self.drop_part(field, &text, missing);
                }
                Some(s)
            }
            Err(m) => {
                self.problem(field, m);
                None
            }
        }
    }

    /// Parses a window or duration field (`7d`, `24h`, `30m`).
    pub fn window(&mut self, field: &str, text: Option<&str>, example: &str) -> Option<Window> {
        match text {
            None => {
                self.problem(field, format!("this kind needs `{field}`, such as {example}"));
                None
            }
            Some(t) => match Window::parse(t) {
                Ok(w) => Some(w),
                Err(e) => {
                    self.problem(field, e.to_string());
                    None
                }
            },
        }
    }

    /// Checks a row condition and registers it; returns its slot for `Scope::rows`.
    pub fn condition(&mut self, field: &str, side: SideSel, sql: Option<&str>) -> usize {
        let sql = sql.and_then(|s| self.expr(field, s, ExprRole::Row));
        self.conditions.push(Condition { side, sql });
        self.conditions.len() - 1
    }

    /// Names an explanation may use beyond the parameters and `window`, `account`,
    /// `side`, `rule_id`.
    pub fn placeholders<I: IntoIterator<Item = S>, S: Into<String>>(&mut self, names: I) {
        self.placeholders.extend(names.into_iter().map(Into::into));
    }
}
