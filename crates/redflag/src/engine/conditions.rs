//! Condition staging: the row masks of every condition of every rule, all rules of a
//! side in one pass over the transactions.

use std::collections::BTreeMap;

use polars::prelude::*;

#[allow(unused_imports)]
use super::*;
use crate::error::{Error, Result, RuleContext};
use crate::expr;
use crate::model::{Rule, Side};
use crate::schema;

/// Rows a condition over the side view is evaluated on at a time: only these rows'
/// text is decoded at once.
const CHUNK_ROWS: usize = 1 << 21;

/// The row masks of every condition of every rule (see [`Masks`]).
///
/// Stage 1 evaluates the first `AND` term of every condition, all of a side in one pass
/// over the transactions; stage 2 the other terms on the rows the first kept: those that
/// read only dictionary-encoded columns once per distinct value among those rows, the
/// others one at a time when the rows are few, else on every row. Each stage is exact: a
/// row is kept when every term is true. A term that names no side-view column reads the
/// same on both sides and is evaluated once; a term (or a whole condition) that several
/// rules share is evaluated once for all of them.
pub(crate) fn condition_masks(prep: &Prepared<'_>, runnable: &[&Rule]) -> Result<Masks> {
    // A condition is (rule, slot); a kind may need several, such as a sequence's events.
    // Its key on a side: its text, and the side unless it is side-free.
    type Key = (String, Option<Side>);
    // A condition being narrowed: its key, its first rule, its rows, its terms left.
    type Narrowing = (Key, usize, RowMask, Vec<String>);
    // A condition that compares `side` reads as it does on each side: both keep their
    // other terms, which may be shared with other conditions, or read the same on both.
    let key_of = |sql: &str, side: Side| -> Key {
        let sql = expr::on_side(sql, side.as_str());
        let free = expr::side_free(&sql);
        (sql, if free { None } else { Some(side) })
    };
    // Unique conditions: (key, the first rule using it, for errors).
    let mut unique: BTreeMap<Key, usize> = BTreeMap::new();
    let mut uses: Vec<((usize, usize, Side), Key)> = Vec::new();
    for (i, r) in runnable.iter().enumerate() {
        for (k, c) in r.conditions.iter().enumerate() {
            let Some(sql) = c.sql.as_deref() else { continue };
            for &side in c.side.sides() {
                let key = key_of(sql, side);
                unique.entry(key.clone()).or_insert(i);
                uses.push(((i, k, side), key));
            }
        }
    }
    let compile_for = |rule: usize, compiled: PolarsResult<Expr>| {
        compiled.rule_ctx(runnable[rule].id(), || "compiling a condition".into())
    };
    let terms: BTreeMap<&Key, Vec<String>> = unique.keys().map(|k| (k, expr::conjuncts(&k.0))).collect();
    // Stage 1: distinct first terms, side-free ones on the `out` pass.
    let mut first: BTreeMap<Key, (usize, Option<RowMask>)> = BTreeMap::new();
    for (key, &rule) in &unique {
        let Some(w) = terms[key].first() else { continue };
        let side = key.1.filter(|_| !expr::side_free(w));
        first.entry((w.clone(), side)).or_insert((rule, None));
    }
    for side in [Side::Out, Side::In] {
        let mut items = Vec::new();
        let mut names = Vec::new();
        for (k, (rule, _)) in &first {
            if k.1.unwrap_or(Side::Out) == side {
                items.push((*rule, compile_for(*rule, expr::compile(&k.0))?));
                names.push(k.clone());
            }
        }
        for (n, mask) in names.into_iter().zip(batch(prep, side, runnable, items)?) {
            if let Some(slot) = first.get_mut(&n) {
                slot.1 = Some(mask);
            }
        }
    }
    let mut done: BTreeMap<Key, RowMask> = BTreeMap::new();
    for (key, &rule) in &unique {
        let Some(w) = terms[key].first() else { continue };
        let side = key.1.filter(|_| !expr::side_free(w));
        if let Some((_, Some(m))) = first.get(&(w.clone(), side)) {
            done.insert(key.clone(), m.clone());
        } else {
            return Err(Error::Rule {
                rule_id: runnable[rule].id().to_string(),
                message: "the condition produced no column".into(),
            });
        }
    }
    // Stage 2: the other terms. Those that read only dictionary-encoded columns first, by
    // value, on the rows the first term kept; the rest on those rows when they are few,
    // else on every row, all conditions of a side in one pass.
    for side in [Side::Out, Side::In] {
        let mut slots: Vec<std::sync::Mutex<Option<(Key, usize, RowMask)>>> = Vec::new();
        for (key, &rule) in &unique {
            if key.1.unwrap_or(Side::Out) != side || terms[key].len() < 2 {
                continue;
            }
            if let Some(m) = done.remove(key) {
                slots.push(std::sync::Mutex::new(Some((key.clone(), rule, m))));
            }
        }
        let idx: Vec<usize> = (0..slots.len()).collect();
        let mut coded = run_parallel(&idx, |j| -> Result<Option<Narrowing>> {
            let Some((key, rule, mut mask)) = slots[j].lock().ok().and_then(|mut s| s.take()) else {
                return Ok(None);
            };
            let rule_id = runnable[rule].id();
            let mut left = Vec::new();
            for t in &terms[&key][1..] {
                let e = expr::compile(t).rule_ctx(rule_id, || format!("compiling the condition term `{t}`"))?;
                let applied = narrow_coded(prep, side, &e, &mut mask)
                    .rule_ctx(rule_id, || format!("evaluating the condition term `{t}` by value"))?;
                if !applied {
                    left.push(t.clone());
                }
            }
            Ok(Some((key, rule, mask, left)))
        });
        coded.sort_by_key(|(j, _)| *j);
        let mut items = Vec::new();
        let mut names = Vec::new();
        let mut few: Vec<Narrowing> = Vec::new();
        for (_, r) in coded {
            let Some((key, rule, mask, left)) = r? else { continue };
            if left.is_empty() {
                done.insert(key, mask);
            } else if mask.count() * 4 <= mask.len() {
                few.push((key, rule, mask, left));
            } else {
                items.push((rule, compile_for(rule, and_all(&left))?));
                names.push(key.clone());
                done.insert(key, mask);
            }
        }
        // Narrowed on the worker threads, each on its own rows.
        let slots: Vec<std::sync::Mutex<Option<Narrowing>>> =
            few.into_iter().map(|f| std::sync::Mutex::new(Some(f))).collect();
        let idx: Vec<usize> = (0..slots.len()).collect();
        let mut narrowed = run_parallel(&idx, |j| {
            let taken = slots[j].lock().ok().and_then(|mut s| s.take());
            taken.map(|(key, rule, mut mask, left)| {
                narrow(prep, runnable[rule], side, &left, &mut mask).map(|_| (key, mask))
            })
        });
        narrowed.sort_by_key(|(j, _)| *j);
        for (_, r) in narrowed {
            if let Some(r) = r {
                let (key, mask) = r?;
                done.insert(key, mask);
            }
        }
        for (n, more) in names.into_iter().zip(batch(prep, side, runnable, items)?) {
            if let Some(mask) = done.get_mut(&n) {
                mask.and_assign(&more);
            }
        }
    }
    let mut masks: Masks = BTreeMap::new();
    for (slot, key) in uses {
        if let Some(m) = done.get(&key) {
            masks.insert(slot, m.clone());
        }
    }
    Ok(masks)
}

/// Evaluates conditions of several rules over every transaction of one side, in one pass;
/// a null counts as false.
fn batch(prep: &Prepared<'_>, side: Side, runnable: &[&Rule], items: Vec<(usize, Expr)>) -> Result<Vec<RowMask>> {
    let n = prep.ds.transactions.height();
    let rule_idx_all: Vec<usize> = items.iter().map(|(i, _)| *i).collect();
    let mut masks = dictionary_masks(prep, side, &items).map_err(|e| rule_error(runnable, &rule_idx_all, e))?;
    let general: Vec<usize> = (0..items.len()).filter(|&k| masks[k].is_none()).collect();
    if !general.is_empty() {
        let rule_idx: Vec<usize> = general.iter().map(|&k| items[k].0).collect();
        let exprs: Vec<Expr> = general
            .iter()
            .map(|&k| items[k].1.clone().fill_null(lit(false)).alias(format!("c{k}")))
            .collect();
        let mut bools: Vec<Vec<bool>> = vec![Vec::with_capacity(n); general.len()];
        let mut off = 0usize;
        while off < n.max(1) {
            let len = CHUNK_ROWS.min(n - off.min(n));
            let res = prep
                .side_frame(side, exprs.clone(), None, Some((off as i64, len)), &[])
                .map_err(|e| rule_error(runnable, &rule_idx, e))?;
            for (j, &i) in rule_idx.iter().enumerate() {
                let c = res.select_at_idx(j).ok_or_else(|| Error::Rule {
                    rule_id: runnable[i].id().to_string(),
                    message: "the condition produced no column".into(),
                })?;
                let b = c.bool().map_err(|_| Error::Rule {
                    rule_id: runnable[i].id().to_string(),
                    message: format!("`where` must be true or false for each row; it gives {}", c.dtype()),
                })?;
                bools[j].extend(b.iter().map(|v| v.unwrap_or(false)));
            }
            off += CHUNK_ROWS;
        }
        for (j, &k) in general.iter().enumerate() {
            masks[k] = Some(RowMask::from_bools(std::mem::take(&mut bools[j])));
        }
    }
    Ok(masks
        .into_iter()
        .map(|m| m.unwrap_or_else(|| RowMask::from_bools(std::iter::repeat_n(false, n))))
        .collect())
}

/// The conditions that read a single dictionary-encoded column, each evaluated once for
/// each distinct value of the column and looked up for each row; `None` for the others.
fn dictionary_masks(prep: &Prepared<'_>, side: Side, items: &[(usize, Expr)]) -> PolarsResult<Vec<Option<RowMask>>> {
    let df = &prep.ds.transactions;
    let mut by_column: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut by_columns: BTreeMap<Vec<String>, Vec<usize>> = BTreeMap::new();
    for (k, (_, e)) in items.iter().enumerate() {
        let mut sources: Vec<String> = Vec::new();
        for name in e.clone().meta().root_names() {
            sources.extend(source_columns(name.as_str(), side));
        }
        sources.sort_unstable();
        sources.dedup();
        let coded = |c: &String| df.column(c).is_ok_and(|c| c.dtype().is_categorical());
        if sources.len() == 1 && coded(&sources[0]) {
            by_column.entry(sources[0].clone()).or_default().push(k);
        } else if (2..=MAX_COMBINED).contains(&sources.len()) && sources.iter().all(coded) {
            by_columns.entry(sources).or_default().push(k);
        }
    }
    let mut out: Vec<Option<RowMask>> = vec![None; items.len()];
    // Each column's codes, read once for all the conditions of this pass.
    let mut names: Vec<String> = by_column.keys().chain(by_columns.keys().flatten()).cloned().collect();
    names.sort_unstable();
    names.dedup();
    let idx: Vec<usize> = (0..names.len()).collect();
    let codes_of: BTreeMap<String, (Vec<u32>, Arc<CategoricalMapping>)> =
        run_parallel(&idx, |k| (names[k].clone(), code_vec(df, &names[k])))
            .into_iter()
            .filter_map(|(_, (n, r))| r.ok().map(|cm| (n, cm)))
            .collect();
    let exprs_of = |ks: &[usize]| -> Vec<Expr> {
        ks.iter()
            .enumerate()
            .map(|(j, &k)| items[k].1.clone().fill_null(lit(false)).alias(format!("m{j}")))
            .collect()
    };
    // Conditions over one such column: each distinct value once.
    let one = |src: &String, ks: &[usize]| -> PolarsResult<Vec<(usize, RowMask)>> {
        let mut found = Vec::new();
        let Some((codes, mapping)) = codes_of.get(src) else {
            return Ok(found);
        };
        // The distinct values present, in code order, and null when there is one.
        let mut seen = vec![false; mapping.num_cats_upper_bound()];
        let mut has_null = false;
        for &c in codes {
            if c == NULL_CODE {
                has_null = true;
                continue;
            }
            let c = c as usize;
            if c >= seen.len() {
                seen.resize(c + 1, false);
            }
            seen[c] = true;
        }
        let distinct: Vec<usize> = (0..seen.len()).filter(|&c| seen[c]).collect();
        let mut values: Vec<Option<&str>> = distinct.iter().map(|&c| mapping.cat_to_str(c as _)).collect();
        if has_null {
            values.push(None);
        }
        let small = DataFrame::new_infer_height(vec![Column::new(src.as_str().into(), values)])?;
        let side_cols = schema::side_exprs_for(side, small.schema());
        let res = small.lazy().with_columns(side_cols).select(exprs_of(ks)).collect()?;
        for (j, &k) in ks.iter().enumerate() {
            let b = res.select_at_idx(j).map(|c| c.bool().cloned()).transpose()?;
            let Some(b) = b else { continue };
            let mut table = vec![false; seen.len()];
            for (d, &c) in distinct.iter().enumerate() {
                table[c] = b.get(d).unwrap_or(false);
            }
            let null_value = has_null && b.get(distinct.len()).unwrap_or(false);
            found.push((
                k,
                RowMask::from_fn(codes.len(), |i| {
                    let c = codes[i];
                    if c == NULL_CODE {
                        null_value
                    } else {
                        table[c as usize]
                    }
                }),
            ));
        }
        Ok(found)
    };
    // Conditions over several such columns: each distinct combination of their values
    // once, unless the combinations are too many to gain from it.
    let limit = (df.height() / 8).max(1024);
    let many = |srcs: &[String], ks: &[usize]| -> PolarsResult<Vec<(usize, RowMask)>> {
        let mut cols: Vec<&(Vec<u32>, Arc<CategoricalMapping>)> = Vec::new();
        for c in srcs {
            let Some(cm) = codes_of.get(c) else {
                return Ok(Vec::new());
            };
            cols.push(cm);
        }
        let mut ids: PlHashMap<[u32; MAX_COMBINED], u32> = PlHashMap::new();
        let mut combos: Vec<[u32; MAX_COMBINED]> = Vec::new();
        let mut row_combo: Vec<u32> = Vec::with_capacity(df.height());
        for i in 0..df.height() {
            let mut key = [NULL_CODE; MAX_COMBINED];
            for (j, (codes, _)) in cols.iter().enumerate() {
                key[j] = codes[i];
            }
            let next = combos.len() as u32;
            let id = *ids.entry(key).or_insert_with(|| {
                combos.push(key);
                next
            });
            if combos.len() > limit {
                return Ok(Vec::new());
            }
            row_combo.push(id);
        }
        let mappings: Vec<&CategoricalMapping> = cols.iter().map(|c| c.1.as_ref()).collect();
        let res = eval_combos(side, srcs, &mappings, &combos, exprs_of(ks))?;
        let mut found = Vec::new();
        for (j, &k) in ks.iter().enumerate() {
            let b = res.select_at_idx(j).map(|c| c.bool().cloned()).transpose()?;
            let Some(b) = b else { continue };
            let table: Vec<bool> = b.iter().map(|v| v.unwrap_or(false)).collect();
            found.push((k, RowMask::from_fn(row_combo.len(), |i| table[row_combo[i] as usize])));
        }
        Ok(found)
    };
    // The column groups are independent: evaluated on the worker threads.
    let groups: Vec<(Vec<String>, Vec<usize>)> = by_column
        .into_iter()
        .map(|(c, ks)| (vec![c], ks))
        .chain(by_columns)
        .collect();
    let idx: Vec<usize> = (0..groups.len()).collect();
    let mut results = run_parallel(&idx, |g| {
        let (srcs, ks) = &groups[g];
        if srcs.len() == 1 {
            one(&srcs[0], ks)
        } else {
            many(srcs, ks)
        }
    });
    results.sort_by_key(|(g, _)| *g);
    for (_, r) in results {
        for (k, m) in r? {
            out[k] = Some(m);
        }
    }
    Ok(out)
}

/// Expressions over the side view evaluated on each distinct combination of the values of
/// dictionary-encoded columns (`sources`, coded by `mappings`; [`NULL_CODE`] for missing):
/// one row each.
fn eval_combos(
    side: Side,
    sources: &[String],
    mappings: &[&CategoricalMapping],
    combos: &[[u32; MAX_COMBINED]],
    exprs: Vec<Expr>,
) -> PolarsResult<DataFrame> {
    let small_cols: Vec<Column> = sources
        .iter()
        .zip(mappings)
        .enumerate()
        .map(|(j, (src, mapping))| {
            let values: Vec<Option<&str>> = combos
                .iter()
                .map(|key| (key[j] != NULL_CODE).then(|| mapping.cat_to_str(key[j])).flatten())
                .collect();
            Column::new(src.as_str().into(), values)
        })
        .collect();
    let small = DataFrame::new_infer_height(small_cols)?;
    let side_cols = schema::side_exprs_for(side, small.schema());
    small.lazy().with_columns(side_cols).select(exprs).collect()
}

/// At most this many dictionary-encoded columns are combined by [`dictionary_masks`].
const MAX_COMBINED: usize = 4;

/// The code of a missing value in [`code_vec`].
pub(super) const NULL_CODE: u32 = u32::MAX;

/// Applies a condition that reads only dictionary-encoded columns (at most
/// [`MAX_COMBINED`]) to the rows a mask holds, evaluating it once for each distinct
/// combination of their values among those rows; false, and the mask untouched, when the
/// condition reads anything else or the combinations are too many to gain from it.
fn narrow_coded(prep: &Prepared<'_>, side: Side, e: &Expr, mask: &mut RowMask) -> PolarsResult<bool> {
    let df = &prep.ds.transactions;
    let mut sources: Vec<String> = Vec::new();
    for name in e.clone().meta().root_names() {
        sources.extend(source_columns(name.as_str(), side));
    }
    sources.sort_unstable();
    sources.dedup();
    if sources.is_empty() || sources.len() > MAX_COMBINED {
        return Ok(false);
    }
    let mut cols = Vec::with_capacity(sources.len());
    for src in &sources {
        let Ok(column) = df.column(src) else {
            return Ok(false);
        };
        let DataType::Categorical(_, mapping) = column.dtype() else {
            return Ok(false);
        };
        let physical = column.to_physical_repr();
        cols.push((physical.u32()?.rechunk().into_owned(), mapping.clone()));
    }
    let arrays: Vec<_> = cols.iter().map(|(ca, _)| ca.downcast_as_array()).collect();
    let code = |j: usize, i: usize| {
        let arr = arrays[j];
        if arr.validity().is_none_or(|v| v.get_bit(i)) {
            arr.values()[i]
        } else {
            NULL_CODE
        }
    };
    let rows: Vec<usize> = mask.ones().collect();
    let limit = (rows.len() / 4).max(1024);
    // Each row's place among the distinct combinations its rows hold.
    let mut index: PlHashMap<[u32; MAX_COMBINED], u32> = PlHashMap::new();
    let mut combos: Vec<[u32; MAX_COMBINED]> = Vec::new();
    let mut at: Vec<u32> = Vec::with_capacity(rows.len());
    for &i in &rows {
        let mut key = [NULL_CODE; MAX_COMBINED];
        for (j, k) in key.iter_mut().enumerate().take(arrays.len()) {
            *k = code(j, i);
        }
        let k = *index.entry(key).or_insert_with(|| {
            combos.push(key);
            (combos.len() - 1) as u32
        });
        if combos.len() > limit {
            return Ok(false);
        }
        at.push(k);
    }
    let mappings: Vec<&CategoricalMapping> = cols.iter().map(|c| c.1.as_ref()).collect();
    let res = eval_combos(
        side,
        &sources,
        &mappings,
        &combos,
        vec![e.clone().fill_null(lit(false)).alias("m")],
    )?;
    let table: Vec<bool> = res.column("m")?.bool()?.iter().map(|v| v.unwrap_or(false)).collect();
    for (&i, &k) in rows.iter().zip(&at) {
        if !table[k as usize] {
            mask.set(i, false);
        }
    }
    Ok(true)
}

/// Applies the remaining terms of a condition to the rows a mask still holds, one term at
/// a time (exact: a row is kept when every term is true), those that read no text first,
/// so that the costlier terms see fewer rows.
fn narrow(prep: &Prepared<'_>, rule: &Rule, side: Side, rest: &[String], mask: &mut RowMask) -> Result<()> {
    let rerr = |m: String| Error::Rule {
        rule_id: rule.id().to_string(),
        message: m,
    };
    let df = &prep.ds.transactions;
    let mut terms: Vec<(usize, Expr)> = Vec::with_capacity(rest.len());
    for t in rest {
        let e = expr::compile(t).rule_ctx(rule.id(), || format!("compiling the condition term `{t}`"))?;
        let mut sources: Vec<String> = Vec::new();
        for name in e.clone().meta().root_names() {
            sources.extend(source_columns(name.as_str(), side));
        }
        sources.sort_unstable();
        sources.dedup();
        let text = sources
            .iter()
            .filter(|c| {
                df.column(c)
                    .is_ok_and(|c| matches!(c.dtype(), DataType::String | DataType::Categorical(..)))
            })
            .count();
        let lower = t.to_ascii_lowercase();
        let calls = ["regexp", "upper(", "lower(", "like"]
            .iter()
            .filter(|f| lower.contains(*f))
            .count();
        terms.push((text * 4 + calls, e));
    }
    terms.sort_by_key(|(cost, _)| *cost);
    for (_, cond) in terms {
        let rows: Vec<IdxSize> = mask.ones().map(|k| k as IdxSize).collect();
        if rows.is_empty() {
            return Ok(());
        }
        // Only the columns the term reads, for the rows left.
        let res = prep
            .side_frame(
                side,
                vec![cond.fill_null(lit(false)).alias("m")],
                Some(&rows),
                None,
                &[],
            )
            .rule_ctx(rule.id(), || "evaluating a condition term on the rows left".into())?;
        let b = res
            .column("m")
            .and_then(|c| c.bool().cloned())
            .map_err(|_| rerr("`where` must be true or false for each row".into()))?;
        for (k, v) in rows.iter().zip(b.iter()) {
            if v != Some(true) {
                mask.set(*k as usize, false);
            }
        }
    }
    Ok(())
}

/// The terms joined by AND.
fn and_all(terms: &[String]) -> PolarsResult<Expr> {
    let mut cond: Option<Expr> = None;
    for t in terms {
        let e = expr::compile(t)?;
        cond = Some(match cond {
            Some(c) => c.and(e),
            None => e,
        });
    }
    cond.ok_or_else(|| polars_err!(ComputeError: "empty condition"))
}

/// A polars error of a pass over several rules' conditions, naming all the rules of the pass.
fn rule_error(runnable: &[&Rule], idx: &[usize], e: PolarsError) -> Error {
    let ids: Vec<&str> = idx.iter().map(|i| runnable[*i].id()).collect();
    Error::RuleData {
        rule_id: ids.join(", "),
        context: "evaluating the conditions".into(),
        source: e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::Dataset;
    use crate::pack::Pack;
    use crate::run::missing_columns;

    /// Every condition of the shipped pack, evaluated in stages (first terms, terms read
    /// by value from dictionary-encoded columns, the rest one at a time on the rows left),
    /// keeps exactly the rows that evaluating it whole on every row keeps.
    #[test]
    fn staged_conditions_keep_what_whole_conditions_keep() {
        let cfg = redflag_synth::SynthConfig {
            seed: 5,
            transactions: 20_000,
            accounts: 1_500,
            days: 120,
            ..redflag_synth::SynthConfig::default()
        };
        let synth = redflag_synth::generate(&cfg).unwrap();
        // Some values missing, in a different pattern for each column.
        let holes: Vec<Expr> = [
            "orig_country",
            "bene_country",
            "channel",
            "loc_country",
            "orig_name",
            "mcc",
            "narrative",
        ]
        .iter()
        .enumerate()
        .map(|(j, c)| {
            when((col("__i") % lit(7 + j as u32)).eq(lit(3u32)))
                .then(lit(NULL).cast(DataType::String))
                .otherwise(col(*c))
                .alias(*c)
        })
        .collect();
        let df = synth
            .transactions
            .lazy()
            .with_row_index("__i", None)
            .with_columns(holes)
            .drop(by_name(["__i"], true, false))
            .collect()
            .unwrap();
        let ds = Dataset::from_frame(df, "t", &crate::IngestOptions::default()).unwrap();
        let pack = Pack::builtin().unwrap();
        let prep = Prepared::new(&ds).unwrap();
        let runnable: Vec<&Rule> = pack
            .rules
            .iter()
            .filter(|r| missing_columns(r, &ds.present).is_empty())
            .collect();
        let masks = condition_masks(&prep, &runnable).unwrap();
        let mut checked = 0;
        for ((i, k, side), mask) in &masks {
            let Some(sql) = runnable[*i].conditions[*k].sql.as_deref() else {
                continue;
            };
            let whole = expr::compile(sql).unwrap().fill_null(lit(false)).alias("m");
            let res = prep.side_frame(*side, vec![whole], None, None, &[]).unwrap();
            let expected: Vec<bool> = res
                .column("m")
                .unwrap()
                .bool()
                .unwrap()
                .iter()
                .map(|v| v.unwrap_or(false))
                .collect();
            let got: Vec<bool> = (0..mask.len()).map(|r| mask.get(r)).collect();
            assert_eq!(got, expected, "{} condition {k} on {side:?}: {sql}", runnable[*i].id());
            checked += 1;
        }
        assert!(checked > 40, "{checked}");
    }
}
