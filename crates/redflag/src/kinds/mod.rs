//! The rule kinds. One kind is one module: a rule is data, its kind is code.
//!
//! A kind module has two entry points:
//!
//! - `check(def, &mut Checker) -> Option<KindSpec>`: turns the rule as written into its
//!   checked content, parameters and lists substituted. It reports every problem through
//!   the [`Checker`] (field path and message; the pack adds file, line and column) and
//!   records the row conditions it needs with [`Checker::condition`]: each is a `where`
//!   on one or both sides, evaluated by the engine for all rules at once.
//! - `run(rule, spec, &Scope) -> Result<Vec<Alert>>`: finds the alerts over the prepared
//!   data. [`Scope::rows`] gives each condition's rows in (account, time, row) order;
//!   the helpers of [`crate::engine`] gather columns, fill explanations and make ids.
//!   A kind that screens each account on its own runs over [`Scope::per_account_slice`],
//!   which hands it a slice of whole accounts at a time, so that memory stays bounded.
//!
//! A kind declares the fields it owns in `FIELDS`; the pack rejects a field set on a rule
//! whose kind does not own it. Adding a kind: a module here, a variant of
//! [`crate::pack::RuleKind`], its fields in [`crate::pack::RuleDef`], one arm in
//! [`check`] and in [`run`], a doc section in the README, and fixtures in `tests/`.

use std::collections::{BTreeMap, BTreeSet};

use crate::engine::{Alert, Prepared};
use crate::error::Result;
use crate::expr::{self, ExprRole};
use crate::pack::{ParamValue, RefList, Rule, RuleDef, RuleKind, Side, SideSel, Window};

pub mod aggregate;
pub mod baseline;
pub mod filter;
pub mod network;
pub mod sequence;
pub mod watchlist;

/// The kinds this version runs, with the fields each owns beyond the common ones.
pub const KINDS: &[(&str, &[&str])] = &[
    ("filter", filter::FIELDS),
    ("aggregate", aggregate::FIELDS),
    ("sequence", sequence::FIELDS),
    ("baseline", baseline::FIELDS),
    ("network", network::FIELDS),
    ("watchlist", watchlist::FIELDS),
];

/// Kinds that are part of the design but not in this version.
pub const PLANNED_KINDS: &[&str] = &[];

/// The names of the kinds this version runs.
pub fn names() -> impl Iterator<Item = &'static str> {
    KINDS.iter().map(|(k, _)| *k)
}

/// A row condition a rule needs: a `where` (or every row) on one or both sides.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// Sides the condition is evaluated on.
    pub side: SideSel,
    /// The SQL condition, parameters and lists substituted; `None` is every row.
    pub sql: Option<String>,
}

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
        }
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
        };
        match expr::prepare(sql, role, &mut ctx) {
            Ok(s) => {
                self.columns.extend(ctx.columns);
                self.lists_used.extend(ctx.lists_used);
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
                Err(m) => {
                    self.problem(field, m);
                    None
                }
            },
        }
    }

    /// Checks a row condition and registers it; returns its slot for [`Scope::rows`].
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

/// Checks the kind-specific content of a rule. `None` when the kind is not known here.
pub(crate) fn check(d: &RuleDef, cx: &mut Checker<'_>) -> Option<RuleKind> {
    Some(match d.kind.as_str() {
        "filter" => filter::check(d, cx),
        "aggregate" => RuleKind::Aggregate(aggregate::check(d, cx)),
        "sequence" => RuleKind::Sequence(sequence::check(d, cx)),
        "baseline" => RuleKind::Baseline(baseline::check(d, cx)),
        "network" => RuleKind::Network(network::check(d, cx)),
        "watchlist" => RuleKind::Watchlist(watchlist::check(d, cx)),
        _ => return None,
    })
}

/// The row masks of every rule: (rule index, condition slot, side) → row kept.
pub type Masks = BTreeMap<(usize, usize, Side), RowMask>;

/// One bit a transaction row: whether a condition keeps it (an eighth of a `Vec<bool>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowMask {
    words: Vec<u64>,
    len: usize,
}

impl RowMask {
    /// A mask from one value a row.
    pub fn from_bools(values: impl IntoIterator<Item = bool>) -> RowMask {
        let mut words = Vec::new();
        let mut len = 0usize;
        for v in values {
            if len % 64 == 0 {
                words.push(0u64);
            }
            if v {
                words[len / 64] |= 1 << (len % 64);
            }
            len += 1;
        }
        RowMask { words, len }
    }

    /// A mask of `len` rows, row `i` kept when `keep(i)`.
    pub fn from_fn(len: usize, keep: impl Fn(usize) -> bool) -> RowMask {
        let mut words = vec![0u64; len.div_ceil(64)];
        for (w, word) in words.iter_mut().enumerate() {
            let base = w * 64;
            let mut bits = 0u64;
            for i in base..(base + 64).min(len) {
                bits |= u64::from(keep(i)) << (i - base);
            }
            *word = bits;
        }
        RowMask { words, len }
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the mask has no rows.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether row `i` is kept.
    pub fn get(&self, i: usize) -> bool {
        i < self.len && self.words[i / 64] >> (i % 64) & 1 == 1
    }

    /// Keeps or drops row `i`.
    pub fn set(&mut self, i: usize, v: bool) {
        if i < self.len {
            if v {
                self.words[i / 64] |= 1 << (i % 64);
            } else {
                self.words[i / 64] &= !(1 << (i % 64));
            }
        }
    }

    /// The rows kept.
    pub fn count(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// The rows kept, in order.
    pub fn ones(&self) -> impl Iterator<Item = usize> + '_ {
        self.words.iter().enumerate().flat_map(|(w, &word)| {
            let mut bits = word;
            std::iter::from_fn(move || {
                (bits != 0).then(|| {
                    let b = bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    w * 64 + b
                })
            })
        })
    }

    /// Keeps only the rows that `other` keeps too.
    pub fn and_assign(&mut self, other: &RowMask) {
        for (a, b) in self.words.iter_mut().zip(&other.words) {
            *a &= *b;
        }
    }
}

/// What a kind's `run` reads: the prepared data and the rule's row masks.
pub struct Scope<'p, 'a> {
    pub(crate) prep: &'p Prepared<'a>,
    pub(crate) masks: &'p Masks,
    pub(crate) rule_index: usize,
    /// With `on_alerts_of`: the (account key, row) pairs of the other rules' alerts; only
    /// these are screened.
    pub(crate) allowed: Option<&'p std::collections::HashSet<(u32, u32)>>,
}

impl<'p, 'a> Scope<'p, 'a> {
    /// The rows a condition keeps on one side, as (account key, ts, row), in that order.
    pub(crate) fn rows(&self, slot: usize, side: Side) -> Vec<(u32, i64, u32)> {
        let mask = self.masks.get(&(self.rule_index, slot, side));
        self.prep
            .view(side)
            .keys
            .iter()
            .copied()
            .filter(|(_, _, row)| mask.is_none_or(|m| m.get(*row as usize)))
            .filter(|(acct, _, row)| self.allowed.is_none_or(|a| a.contains(&(*acct, *row))))
            .collect()
    }

    /// The rows a condition keeps on the sides selected, as (account key, ts, row, side),
    /// sorted by (account, ts, row); with both sides, a transfer between an account and
    /// itself counts once on that account.
    pub(crate) fn side_rows(&self, slot: usize, sel: SideSel) -> Vec<(u32, i64, u32, Side)> {
        self.side_rows_of(slot, sel, 0, u32::MAX)
    }

    /// [`Scope::side_rows`] of the accounts whose keys lie in `[from, to)`.
    fn side_rows_of(&self, slot: usize, sel: SideSel, from: u32, to: u32) -> Vec<(u32, i64, u32, Side)> {
        // Each side's rows, in (account, ts, row) order as its view holds them.
        let mut runs: Vec<Vec<(u32, i64, u32, Side)>> = Vec::with_capacity(2);
        for &s in sel.sides() {
            let mask = self.masks.get(&(self.rule_index, slot, s));
            let keys = &self.prep.view(s).keys;
            let lo = keys.partition_point(|k| k.0 < from);
            let hi = keys.partition_point(|k| k.0 < to);
            let mut run = Vec::with_capacity(hi - lo);
            run.extend(
                keys[lo..hi]
                    .iter()
                    .filter(|(_, _, row)| mask.is_none_or(|m| m.get(*row as usize)))
                    .filter(|(acct, _, row)| self.allowed.is_none_or(|a| a.contains(&(*acct, *row))))
                    .map(|&(a, t, r)| (a, t, r, s)),
            );
            runs.push(run);
        }
        if runs.len() < 2 {
            return runs.pop().unwrap_or_default();
        }
        // Both sides: the two sorted runs merged, in (account, ts, row, side) order; a
        // transfer between an account and itself is kept once, on its first side.
        let (a, b) = (&runs[0], &runs[1]);
        let mut rows = Vec::with_capacity(a.len() + b.len());
        let (mut i, mut j) = (0, 0);
        let key = |x: &(u32, i64, u32, Side)| (x.0, x.1, x.2, x.3);
        while i < a.len() || j < b.len() {
            let next = match (a.get(i), b.get(j)) {
                (Some(x), Some(y)) if key(x) <= key(y) => {
                    i += 1;
                    *x
                }
                (_, Some(y)) => {
                    j += 1;
                    *y
                }
                (Some(x), None) => {
                    i += 1;
                    *x
                }
                (None, None) => break,
            };
            if rows
                .last()
                .is_none_or(|l: &(u32, i64, u32, Side)| (l.0, l.1, l.2) != (next.0, next.1, next.2))
            {
                rows.push(next);
            }
        }
        rows
    }

    /// The alerts of `run` over the rows of each slice of accounts of
    /// [`Scope::side_rows_sliced`] (the prepared data's slice size), joined and
    /// deduplicated: for kinds that screen each account on its own.
    pub(crate) fn per_account_slice(
        &self,
        slot: usize,
        sel: SideSel,
        mut run: impl FnMut(Vec<(u32, i64, u32, Side)>) -> Result<Vec<Alert>>,
    ) -> Result<Vec<Alert>> {
        let mut alerts = Vec::new();
        for part in self.side_rows_sliced(slot, sel, self.prep.slice_rows) {
            if !part.is_empty() {
                alerts.extend(run(part)?);
            }
        }
        Ok(crate::engine::dedup(alerts))
    }

    /// [`Scope::side_rows`] a slice of accounts at a time: each slice holds the rows of
    /// whole accounts, about `size` of them (all the rows an account has on the sides
    /// selected, whatever the condition keeps), in account order. Kinds that screen each
    /// account on its own use it to bound what they hold at once.
    fn side_rows_sliced(
        &self,
        slot: usize,
        sel: SideSel,
        size: usize,
    ) -> impl Iterator<Item = Vec<(u32, i64, u32, Side)>> + '_ {
        // Cut points: account keys where the running count of rows passes `size`.
        let mut per_account = vec![0u32; self.prep.accounts.len()];
        for &s in sel.sides() {
            for (a, _, _) in &self.prep.view(s).keys {
                per_account[*a as usize] += 1;
            }
        }
        let mut cuts: Vec<u32> = vec![0];
        let mut run = 0usize;
        for (a, n) in per_account.iter().enumerate() {
            if run >= size.max(1) {
                cuts.push(a as u32);
                run = 0;
            }
            run += *n as usize;
        }
        cuts.push(u32::MAX);
        (0..cuts.len() - 1).map(move |k| self.side_rows_of(slot, sel, cuts[k], cuts[k + 1]))
    }
}

/// The columns of the side view a rule reads (in name order), then those of `extra` it
/// does not: what a kind gathers for its rows.
pub(crate) fn read_columns(rule: &Rule, extra: &[&str]) -> Vec<String> {
    let mut cols: Vec<String> = rule
        .columns
        .iter()
        .filter(|c| crate::schema::is_known_column(c))
        .cloned()
        .collect();
    for c in extra {
        if !cols.iter().any(|x| x == c) {
            cols.push(c.to_string());
        }
    }
    cols
}

/// Runs one rule.
pub(crate) fn run(rule: &Rule, scope: &Scope<'_, '_>) -> Result<Vec<Alert>> {
    match &rule.kind {
        RuleKind::Filter => filter::run(rule, scope),
        RuleKind::Aggregate(spec) => aggregate::run(rule, spec, scope),
        RuleKind::Sequence(spec) => sequence::run(rule, spec, scope),
        RuleKind::Baseline(spec) => baseline::run(rule, spec, scope),
        RuleKind::Network(spec) => network::run(rule, spec, scope),
        RuleKind::Watchlist(spec) => watchlist::run(rule, spec, scope),
    }
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

#[cfg(test)]
mod tests {
    use super::RowMask;

    #[test]
    fn row_masks_keep_one_bit_a_row() {
        let bools: Vec<bool> = (0..200).map(|i| i % 3 == 0 || i == 64 || i == 199).collect();
        let mut m = RowMask::from_bools(bools.iter().copied());
        assert_eq!(m.len(), 200);
        assert!((0..200).all(|i| m.get(i) == bools[i]));
        assert!(!m.get(200), "past the end is not kept");
        assert_eq!(m.count(), bools.iter().filter(|b| **b).count());
        m.set(63, true);
        m.set(0, false);
        assert!(m.get(63) && !m.get(0));
        let other = RowMask::from_bools((0..200).map(|i| i < 100));
        m.and_assign(&other);
        let ones: Vec<usize> = m.ones().collect();
        assert!(ones
            .iter()
            .all(|&i| i < 100 && (i % 3 == 0 || i == 63 || i == 64) && i != 0));
        assert!(ones.contains(&63) && ones.contains(&64) && ones.contains(&99));
    }
}
