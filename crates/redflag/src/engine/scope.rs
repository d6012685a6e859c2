//! The scope a kind's `run` reads: the rows each of its conditions keeps, by side, in
//! (account, time, row) order, whole accounts a slice at a time.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};

use super::{alerts::dedup, Masks, Prepared};
use crate::error::Result;
use crate::model::{Alert, Rule, Side, SideSel};
use crate::watchlist::WatchList;

/// What a kind's `run` sees, and all it sees: the prepared data (read through its
/// methods), the rows each of the rule's conditions keeps (already narrowed to the other
/// rules' alerts under `on_alerts_of`), and the watch lists bound. The rule's parameters
/// are in its checked spec; the thread pool is [`crate::util::threads::run_parallel`].
pub struct Scope<'p, 'a> {
    prep: &'p Prepared<'a>,
    masks: &'p Masks,
    rule_index: usize,
    /// With `on_alerts_of`: the (account key, row) pairs of the other rules' alerts; only
    /// these are screened.
    allowed: Option<&'p HashSet<(u32, u32)>>,
    /// The watch lists bound, by name.
    watch_lists: &'p BTreeMap<String, Arc<WatchList>>,
    /// What a search limit cut short (see [`Scope::note_limit`]).
    limits: Mutex<Vec<(u64, String, String)>>,
}

impl<'p, 'a> Scope<'p, 'a> {
    /// The scope of the rule at `rule_index` of the pack.
    pub(crate) fn new(
        prep: &'p Prepared<'a>,
        masks: &'p Masks,
        rule_index: usize,
        allowed: Option<&'p HashSet<(u32, u32)>>,
        watch_lists: &'p BTreeMap<String, Arc<WatchList>>,
    ) -> Self {
        Scope {
            prep,
            masks,
            rule_index,
            allowed,
            watch_lists,
            limits: Mutex::new(Vec::new()),
        }
    }

    /// Records that a limit on the work per account cut the rule's search short: how
    /// often, and what, said of one and of several (the run reports it in the manifest).
    pub(crate) fn note_limit(&self, count: usize, one: String, many: String) {
        if let Ok(mut l) = self.limits.lock() {
            l.push((count as u64, one, many));
        }
    }

    /// What [`Scope::note_limit`] recorded.
    pub(crate) fn take_limits(&self) -> Vec<(u64, String, String)> {
        self.limits
            .lock()
            .map(|mut l| std::mem::take(&mut *l))
            .unwrap_or_default()
    }

    /// The prepared data.
    pub(crate) fn data(&self) -> &'p Prepared<'a> {
        self.prep
    }

    /// The watch list bound under `name`.
    pub(crate) fn watch_list(&self, name: &str) -> Option<&'p WatchList> {
        self.watch_lists.get(name).map(|w| &**w)
    }

    /// The transfers a condition of the paying side keeps, as (paying account key,
    /// receiving account key, ts, row), found from the receiving side: every transfer
    /// into the accounts screened, whoever paid it (on a shard, payers of other shards
    /// too), in (receiving account, ts, row) order. Transfers with no payer or to the
    /// payer itself are left out.
    pub(crate) fn transfers_in(&self, slot: usize) -> Vec<(u32, u32, i64, u32)> {
        self.transfers(slot, Side::In)
    }

    /// The transfers out of the accounts screened that a condition keeps: (paying account
    /// key, receiving account key, ts, row), in (paying account, ts, row) order. Transfers
    /// to no account or to the payer itself are left out.
    pub(crate) fn transfers_out(&self, slot: usize) -> Vec<(u32, u32, i64, u32)> {
        self.transfers(slot, Side::Out)
    }

    /// The transfers the paying side's condition `slot` keeps, found from `side`'s view
    /// (its accounts, and the account on the other side of each row, read in view order):
    /// (paying account key, receiving account key, ts, row), in that view's order.
    fn transfers(&self, slot: usize, side: Side) -> Vec<(u32, u32, i64, u32)> {
        let mask = self.masks.get(&(self.rule_index, slot, Side::Out));
        let none = super::prepared::NO_ACCOUNT;
        self.prep
            .side_keys(side)
            .iter()
            .zip(self.prep.side_others(side))
            .map(|(&(k, t, row), &other)| match side {
                Side::Out => (k, other, t, row),
                Side::In => (other, k, t, row),
            })
            .filter(|&(a, b, _, _)| a != none && b != none && a != b)
            .filter(|(_, _, _, row)| mask.is_none_or(|m| m.get(*row as usize)))
            .filter(|(a, _, _, row)| self.allowed.is_none_or(|al| al.contains(&(*a, *row))))
            .collect()
    }

    /// The rows a condition keeps on one side, as (account key, ts, row), in that order.
    pub(crate) fn rows(&self, slot: usize, side: Side) -> Vec<(u32, i64, u32)> {
        let mask = self.masks.get(&(self.rule_index, slot, side));
        self.prep
            .side_keys(side)
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
        self.side_rows_in(slot, sel, (0, u32::MAX))
    }

    /// [`Scope::side_rows`] of the accounts whose keys lie in `[from, to)` (a slice of
    /// [`Scope::account_slices`]).
    pub(crate) fn side_rows_in(&self, slot: usize, sel: SideSel, (from, to): (u32, u32)) -> Vec<(u32, i64, u32, Side)> {
        // Each side's rows, in (account, ts, row) order as its view holds them.
        let kept = |s: Side| {
            let mask = self.masks.get(&(self.rule_index, slot, s));
            let keys = self.prep.side_keys(s);
            let lo = keys.partition_point(|k| k.0 < from);
            let hi = keys.partition_point(|k| k.0 < to);
            let rows = keys[lo..hi]
                .iter()
                .filter(move |(_, _, row)| mask.is_none_or(|m| m.get(*row as usize)))
                .filter(|(acct, _, row)| self.allowed.is_none_or(|a| a.contains(&(*acct, *row))))
                .map(move |&(a, t, r)| (a, t, r, s));
            (hi - lo, rows)
        };
        match sel.sides() {
            [s] => {
                let (most, rows) = kept(*s);
                let mut run = Vec::with_capacity(most);
                run.extend(rows);
                run
            }
            [s, t] => {
                let ((most_s, a), (most_t, b)) = (kept(*s), kept(*t));
                merge_sides(a, b, most_s + most_t)
            }
            _ => Vec::new(),
        }
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
        Ok(dedup(alerts))
    }

    /// [`Scope::side_rows`] a slice of accounts at a time: each slice holds the rows of
    /// whole accounts, about `size` of them (all the rows an account has on the sides
    /// selected, whatever the condition keeps), in account order. Kinds that screen each
    /// account on its own use it to bound what they hold at once.
    pub(crate) fn side_rows_sliced(
        &self,
        slot: usize,
        sel: SideSel,
        size: usize,
    ) -> impl Iterator<Item = Vec<(u32, i64, u32, Side)>> + '_ {
        self.account_slices(sel, size)
            .into_iter()
            .map(move |slice| self.side_rows_in(slot, sel, slice))
    }

    /// The slices of accounts of [`Scope::side_rows_sliced`], as ranges of account keys
    /// `[from, to)`: cut where the running count of rows on the sides `sel` passes `size`.
    /// A kind that reads several events of each account reads each slice's with
    /// [`Scope::side_rows_in`].
    pub(crate) fn account_slices(&self, sel: SideSel, size: usize) -> Vec<(u32, u32)> {
        let mut per_account = vec![0u32; self.prep.accounts.len()];
        for &s in sel.sides() {
            for (a, _, _) in self.prep.side_keys(s) {
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
        cuts.windows(2).map(|w| (w[0], w[1])).collect()
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

/// Two sides' rows, each sorted, merged in (account, ts, row, side) order, as they are
/// read (no side is held on its own); a transfer between an account and itself is kept
/// once, on its first side. `most`: at most how many there are.
fn merge_sides(
    a: impl Iterator<Item = (u32, i64, u32, Side)>,
    b: impl Iterator<Item = (u32, i64, u32, Side)>,
    most: usize,
) -> Vec<(u32, i64, u32, Side)> {
    let (mut a, mut b) = (a.peekable(), b.peekable());
    let mut rows: Vec<(u32, i64, u32, Side)> = Vec::with_capacity(most);
    loop {
        let next = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) if x <= y => a.next(),
            (_, Some(_)) => b.next(),
            (Some(_), None) => a.next(),
            (None, None) => break,
        };
        let Some(next) = next else { break };
        if rows.last().is_none_or(|l| (l.0, l.1, l.2) != (next.0, next.1, next.2)) {
            rows.push(next);
        }
    }
    rows
}
