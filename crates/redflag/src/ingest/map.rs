//! Mapping one source frame onto the canonical columns, in stages: each column's source,
//! its value translation and type, the label, the direction of statement rows.

use std::collections::BTreeSet;
use std::path::PathBuf;

use polars::prelude::*;

use super::mapping::{ColumnSource, ColumnSpec, EpochUnit, Mapping};
use super::parse::{parse_datetime, parse_number, translate};
use crate::error::{suggestion, Error, Location, PolarsContext, Result};
use crate::schema::{self, ColType, CANONICAL, LABEL, REQUIRED};

/// One source frame mapped onto the canonical columns.
pub(super) struct Mapped {
    pub(super) lf: LazyFrame,
}

/// Text columns where an empty value means a missing one, whatever the format.
pub(super) const KEY_TEXT: &[&str] = &[
    "txn_id",
    "orig_account",
    "bene_account",
    "currency",
    "channel",
    "orig_country",
    "bene_country",
    "loc_country",
    "customer_type",
];

/// The canonical columns a run reads ([`super::IngestOptions::columns`] and
/// [`schema::ALWAYS_READ`]); `None`: all of them.
#[derive(Debug, Clone, Default)]
pub(super) struct Wanted(Option<BTreeSet<String>>);

impl Wanted {
    /// The columns chosen, with those every run reads; `None`: all.
    pub(super) fn new(columns: &Option<Vec<String>>) -> Wanted {
        Wanted(columns.as_ref().map(|cols| {
            cols.iter()
                .cloned()
                .chain(schema::ALWAYS_READ.iter().map(|c| c.to_string()))
                .collect()
        }))
    }

    /// Whether the canonical column `canon` is read with its values.
    pub(super) fn has(&self, canon: &str) -> bool {
        self.0.as_ref().is_none_or(|w| w.contains(canon))
    }

    /// The canonical columns read, when not all of them are.
    pub(super) fn chosen(&self) -> Option<Vec<String>> {
        self.0.as_ref().map(|w| {
            CANONICAL
                .iter()
                .map(|(n, _)| n.to_string())
                .filter(|n| w.contains(n))
                .collect()
        })
    }
}

/// Where a canonical column comes from: the mapping's entry, else the column under its
/// own name when the mapping passes canonical columns through and the source (whose
/// columns `has_source` tells) has it.
fn spec_for(mapping: &Mapping, has_source: impl Fn(&str) -> bool, canon: &str) -> Option<ColumnSpec> {
    match mapping.columns.get(canon) {
        Some(ColumnSource::Name(n)) => Some(ColumnSpec {
            from: Some(n.clone()),
            ..Default::default()
        }),
        Some(ColumnSource::Spec(s)) => Some(s.clone()),
        None if mapping.passthrough && has_source(canon) => Some(ColumnSpec {
            from: Some(canon.to_string()),
            ..Default::default()
        }),
        None => None,
    }
}

/// The columns of a source (named `names`, in file order) that the wanted canonical
/// columns are read from, with the label and the debit/credit mark; `None` when every
/// canonical column is wanted (the reader reads the whole source).
pub(super) fn source_columns(mapping: &Mapping, names: &[String], wanted: &Wanted) -> Option<Vec<String>> {
    wanted.0.as_ref()?;
    let has = |c: &str| names.iter().any(|n| n == c);
    let mut keep: BTreeSet<&str> = BTreeSet::new();
    for (canon, _) in CANONICAL.iter().filter(|(c, _)| wanted.has(c)) {
        if let Some(ColumnSpec { from: Some(f), .. }) = spec_for(mapping, has, canon) {
            if let Some(n) = names.iter().find(|n| **n == f) {
                keep.insert(n);
            }
        }
    }
    for extra in [
        mapping.label.as_ref(),
        mapping.direction.as_ref().and_then(|d| d.column.as_ref()),
    ] {
        keep.extend(extra.and_then(|e| names.iter().find(|n| *n == e)).map(String::as_str));
    }
    Some(names.iter().filter(|n| keep.contains(n.as_str())).cloned().collect())
}

/// A source column read straight into the compact type (`parquet::coded`): typed text
/// that one wanted compact column takes as it is stored.
#[derive(Debug, Clone)]
pub(super) struct CodedColumn {
    /// The source column.
    pub(super) name: String,
    /// An empty value is a missing one: the canonical column is one of [`KEY_TEXT`].
    pub(super) blank_is_null: bool,
}

/// The source columns that can be read straight into the compact type: text columns
/// (`text` tells which, by name) that exactly one wanted canonical column reads, a compact
/// one other than the accounts (encoded together once all rows are read) and `currency`
/// (which the FX stage reads as text), with no value translation; never the label or the
/// debit/credit mark.
pub(super) fn coded_sources(
    mapping: &Mapping,
    names: &[String],
    text: impl Fn(&str) -> bool,
    wanted: &Wanted,
) -> Vec<CodedColumn> {
    let has = |c: &str| names.iter().any(|n| n == c);
    // Each source column read by a wanted canonical column, and by which.
    let mut readers: Vec<(String, Option<&str>)> = Vec::new();
    for (canon, _) in CANONICAL.iter().filter(|(c, _)| wanted.has(c)) {
        if let Some(spec) = spec_for(mapping, has, canon) {
            let as_stored = spec.values.is_empty() && spec.other.is_none();
            let codable = schema::is_compact(canon) && !schema::is_account(canon) && *canon != "currency";
            if let Some(f) = spec.from {
                readers.push((f, (as_stored && codable).then_some(*canon)));
            }
        }
    }
    for extra in [
        mapping.label.as_ref(),
        mapping.direction.as_ref().and_then(|d| d.column.as_ref()),
    ] {
        readers.extend(extra.map(|e| (e.clone(), None)));
    }
    names
        .iter()
        .filter(|n| text(n))
        .filter_map(
            |n| match readers.iter().filter(|(f, _)| f == n).collect::<Vec<_>>()[..] {
                [(_, Some(canon))] => Some(CodedColumn {
                    name: n.clone(),
                    blank_is_null: KEY_TEXT.contains(canon),
                }),
                _ => None,
            },
        )
        .collect()
}

/// The source frame being mapped: its path, columns and the mapping read onto it.
struct Source<'a> {
    path: &'a str,
    mapping: &'a Mapping,
    schema: &'a Schema,
    /// The source column names, in file order.
    available: Vec<String>,
}

impl Source<'_> {
    /// The error for a source column the mapping names but the file lacks.
    fn missing_col(&self, canon: &str, src: &str) -> Error {
        Error::MissingColumn {
            path: PathBuf::from(self.path),
            column: canon.to_string(),
            available: self.available.clone(),
            hint: format!(
                " (mapping `{}` reads it from `{src}`{})",
                self.mapping.name,
                suggestion(src, self.available.iter().map(String::as_str))
            ),
        }
    }

    /// Where a canonical column comes from (see [`spec_for`]).
    fn spec_of(&self, canon: &str) -> Option<ColumnSpec> {
        spec_for(self.mapping, |c| self.available.iter().any(|a| a == c), canon)
    }

    /// A canonical column that is not read ([`Wanted`]): its source is checked as when
    /// it is read, and it is held as nulls of its type.
    fn unread(&self, canon: &str, ty: &ColType, spec: &ColumnSpec) -> Result<Expr> {
        if let Some(f) = &spec.from {
            if !self.available.iter().any(|a| a == f) {
                return Err(self.missing_col(canon, f));
            }
        } else {
            let _constant = self.base_of(canon, spec)?;
        }
        Ok(lit(NULL).cast(ty.dtype()).alias(canon))
    }

    /// A canonical column no source supplies: an error for a required one, nothing for
    /// the generated ones (`txn_id`, `amount_base`), else a null column.
    fn absent(&self, canon: &str, ty: &ColType) -> Result<Option<Expr>> {
        if canon == "txn_id" || canon == "amount_base" {
            return Ok(None); // generated later
        }
        if REQUIRED.contains(&canon) {
            return Err(Error::MissingColumn {
                path: PathBuf::from(self.path),
                column: canon.to_string(),
                available: self.available.clone(),
                hint: if self.mapping.passthrough {
                    format!(
                        "{}; map it with a mapping file or a preset (such as `amlworld`)",
                        suggestion(canon, self.available.iter().map(String::as_str))
                    )
                } else {
                    String::new()
                },
            });
        }
        Ok(Some(lit(NULL).cast(ty.dtype()).alias(canon)))
    }

    /// The source expression of a canonical column and the source's type: a source
    /// column or a constant.
    fn base_of(&self, canon: &str, spec: &ColumnSpec) -> Result<(Expr, DataType)> {
        match (&spec.from, &spec.value) {
            (Some(f), _) => {
                let dt = self
                    .schema
                    .get(f.as_str())
                    .cloned()
                    .ok_or_else(|| self.missing_col(canon, f))?;
                Ok((col(f.as_str()), dt))
            }
            (None, Some(v)) => Ok((lit(v.clone()), DataType::String)),
            (None, None) => Err(Error::Mapping {
                location: Location {
                    file: PathBuf::from(&self.mapping.name),
                    ..Default::default()
                },
                message: format!("column `{canon}` needs `from` (a source column) or `value` (a constant)"),
            }),
        }
    }

    /// The direction stage, first part: a `__credit` column from the mapping's
    /// debit/credit mark column, if it has one.
    fn credit_mark(&self, exprs: &mut Vec<Expr>) -> Result<Option<Expr>> {
        let Some(d) = &self.mapping.direction else {
            return Ok(None);
        };
        let Some(c) = &d.column else {
            return Ok(None);
        };
        if !self.schema.contains(c) {
            return Err(self.missing_col("direction", c));
        }
        let text = col(c.as_str()).cast(DataType::String).str().strip_chars(lit(NULL));
        let is_credit = d
            .credit
            .iter()
            .fold(lit(false), |acc, m| acc.or(text.clone().eq(lit(m.clone()))));
        exprs.push(is_credit.fill_null(lit(false)).alias("__credit"));
        Ok(Some(col("__credit")))
    }
}

/// The value translation stage: `values` and `other` of a column spec, when given.
fn translate_values(e: Expr, spec: &ColumnSpec) -> Expr {
    if spec.values.is_empty() && spec.other.is_none() {
        return e;
    }
    let text = e.cast(DataType::String).str().strip_chars(lit(NULL));
    let default = match &spec.other {
        Some(o) => lit(o.clone()),
        None => text.clone(),
    };
    translate(text, &spec.values, default)
}

/// The typing stage: a source expression converted to its canonical column's type
/// (text trimmed, numbers and dates parsed from text, typed sources cast).
fn to_canonical_type(
    e: Expr,
    ty: &ColType,
    src_dtype: &DataType,
    spec: &ColumnSpec,
    mapping: &Mapping,
    trim: bool,
) -> Expr {
    match ty {
        ColType::Text => {
            // A float column of whole numbers (pandas keeps an integer column with gaps
            // as floats) reads as those integers: `5411`, not `5411.0`.
            let e = if matches!(src_dtype, DataType::Float32 | DataType::Float64) {
                let whole = e.clone().eq(e.clone().floor()).and(e.clone().abs().lt(lit(1e15)));
                when(whole)
                    .then(e.clone().cast(DataType::Int64).cast(DataType::String))
                    .otherwise(e.cast(DataType::String))
            } else {
                e
            };
            if trim || *src_dtype != DataType::String {
                let t = e.cast(DataType::String).str().strip_chars(lit(NULL));
                when(t.clone().str().len_bytes().eq(lit(0)))
                    .then(lit(NULL).cast(DataType::String))
                    .otherwise(t)
            } else {
                // Typed text is kept as stored: no copy of a large column.
                e
            }
        }
        ColType::Float => match src_dtype {
            DataType::String => parse_number(e, mapping),
            _ => e.cast(DataType::Float64),
        },
        ColType::Datetime | ColType::Date => {
            let dt = match src_dtype {
                DataType::String => parse_datetime(e.str().strip_chars(lit(NULL)), spec.format.as_deref()),
                DataType::Datetime(_, _) | DataType::Date => e.cast(DataType::Datetime(TimeUnit::Milliseconds, None)),
                // Numbers: time since the epoch, in the mapping's unit or told by size.
                _ => epoch_millis(e.cast(DataType::Int64), spec.unit)
                    .cast(DataType::Datetime(TimeUnit::Milliseconds, None)),
            };
            if *ty == ColType::Date {
                dt.cast(DataType::Date)
            } else {
                dt
            }
        }
    }
}

/// Below this many seconds since 1970 (about the year 5138) a whole number is taken as
/// seconds; the same in milliseconds is 1973-03-03, before which no screened payment is
/// expected. Each further factor of 1,000 makes the next unit.
const EPOCH_SECONDS_BELOW: i64 = 100_000_000_000;

/// A whole number of time since 1970-01-01 UTC as milliseconds: in `unit` when the
/// mapping gives one, else told by its size: below 1e11 seconds, below 1e14
/// milliseconds, below 1e17 microseconds, else nanoseconds. Decided value by value, so
/// the answer never depends on which rows are read together.
fn epoch_millis(v: Expr, unit: Option<EpochUnit>) -> Expr {
    let scaled = |u: EpochUnit| match u {
        EpochUnit::Seconds => v.clone() * lit(1000i64),
        EpochUnit::Milliseconds => v.clone(),
        EpochUnit::Microseconds => v.clone() / lit(1000i64),
        EpochUnit::Nanoseconds => v.clone() / lit(1_000_000i64),
    };
    if let Some(u) = unit {
        return scaled(u);
    }
    let below = |limit: i64| v.clone().gt(lit(-limit)).and(v.clone().lt(lit(limit)));
    when(below(EPOCH_SECONDS_BELOW))
        .then(scaled(EpochUnit::Seconds))
        .when(below(EPOCH_SECONDS_BELOW * 1000))
        .then(scaled(EpochUnit::Milliseconds))
        .when(below(EPOCH_SECONDS_BELOW * 1_000_000))
        .then(scaled(EpochUnit::Microseconds))
        .otherwise(scaled(EpochUnit::Nanoseconds))
}

/// The direction stage, second part: with `signed_amount`, a positive amount is a credit
/// and amounts become positive; credit rows then have their `orig_*` and `bene_*`
/// account columns swapped.
fn apply_direction(mut lf: LazyFrame, mapping: &Mapping, mut credit: Option<Expr>) -> LazyFrame {
    if let Some(d) = &mapping.direction {
        if d.signed_amount {
            lf = lf.with_column(col("amount").gt(lit(0.0)).fill_null(lit(false)).alias("__credit"));
            lf = lf.with_column(col("amount").abs().alias("amount"));
            credit = Some(col("__credit"));
        }
    }
    if let Some(c) = credit {
        let mut swaps = Vec::new();
        for (_, o, i) in schema::SIDE_COLUMNS.iter().filter(|(n, _, _)| n.starts_with("account")) {
            swaps.push(when(c.clone()).then(col(*i)).otherwise(col(*o)).alias(*o));
            swaps.push(when(c.clone()).then(col(*o)).otherwise(col(*i)).alias(*i));
        }
        lf = lf.with_columns(swaps).drop(by_name(["__credit"], true, false));
    }
    lf
}

/// Maps one source frame onto raw canonical columns plus the `__raw_*` text of the required
/// ones (for quarantine reasons). Stages: each canonical column's source ([`Source::spec_of`],
/// [`Source::base_of`]), its value translation ([`translate_values`]) and type
/// ([`to_canonical_type`]); the label; the direction of statement rows
/// ([`Source::credit_mark`], [`apply_direction`]).
///
/// `trim`: strip spaces around text values (text formats, where padding is common; typed
/// formats keep their values as stored). `source` is the path, the source's columns (empty:
/// the frame's) and those read as codes ([`coded_sources`]), taken as they are.
pub(super) fn map_frame(
    lf: LazyFrame,
    source: (&str, &[String], &[CodedColumn]),
    mapping: &Mapping,
    trim: bool,
    wanted: &Wanted,
    present: &mut Vec<String>,
) -> Result<Mapped> {
    let (path, names, coded) = source;
    let mut lf = lf;
    let src_schema = lf.collect_schema().ctx(|| format!("{path}: reading the columns"))?;
    let src = Source {
        path,
        mapping,
        schema: &src_schema,
        available: if names.is_empty() {
            src_schema.iter_names().map(|s| s.to_string()).collect()
        } else {
            names.to_vec()
        },
    };
    let mut exprs: Vec<Expr> = Vec::new();
    let mut supplied: Vec<String> = Vec::new();
    for (canon, ty) in CANONICAL {
        let Some(spec) = src.spec_of(canon) else {
            exprs.extend(src.absent(canon, ty)?);
            continue;
        };
        if !wanted.has(canon) {
            exprs.push(src.unread(canon, ty, &spec)?);
            supplied.push(canon.to_string());
            continue;
        }
        let (base, src_dtype) = src.base_of(canon, &spec)?;
        supplied.push(canon.to_string());
        if coded.iter().any(|c| spec.from.as_ref() == Some(&c.name)) {
            exprs.push(base.alias(*canon));
            continue;
        }
        // Raw text of the columns whose parsing can fail (text sources only; a typed
        // source is either a value or null): quarantine reasons quote it.
        if matches!(*canon, "ts" | "amount" | "amount_base") && src_dtype == DataType::String {
            exprs.push(base.clone().alias(format!("__raw_{canon}")));
        }
        let e = translate_values(base.clone(), &spec);
        let mut typed = to_canonical_type(e, ty, &src_dtype, &spec, mapping, trim);
        if *canon == "amount_base" && src_dtype == DataType::String {
            // A given amount_base that does not read is not recomputed: it becomes NaN,
            // which the checks quarantine. An empty one is computed from the FX table.
            let given = base.str().strip_chars(lit(NULL)).str().len_bytes().gt(lit(0));
            typed = when(typed.clone().is_null().and(given.fill_null(lit(false))))
                .then(lit(f64::NAN))
                .otherwise(typed);
        }
        exprs.push(typed.alias(*canon));
    }
    if let Some(l) = &mapping.label {
        if src_schema.contains(l) {
            exprs.push(col(l.as_str()).cast(DataType::String).alias(LABEL));
        }
    }
    let credit = src.credit_mark(&mut exprs)?;
    lf = lf.select(exprs);
    lf = apply_direction(lf, mapping, credit);
    for s in supplied {
        if !present.contains(&s) {
            present.push(s);
        }
    }
    Ok(Mapped { lf })
}
