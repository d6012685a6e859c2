//! The canonical transaction schema and the side view.

use polars::prelude::*;

use crate::pack::Side;

/// The type of a canonical column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColType {
    /// UTF-8 text.
    Text,
    /// 64-bit float.
    Float,
    /// Milliseconds since the epoch, UTC, no zone attached.
    Datetime,
    /// A calendar date.
    Date,
}

impl ColType {
    /// The polars data type.
    pub fn dtype(self) -> DataType {
        match self {
            ColType::Text => DataType::String,
            ColType::Float => DataType::Float64,
            ColType::Datetime => DataType::Datetime(TimeUnit::Milliseconds, None),
            ColType::Date => DataType::Date,
        }
    }
}

/// The canonical columns, in output order, with their types.
pub const CANONICAL: &[(&str, ColType)] = &[
    ("txn_id", ColType::Text),
    ("ts", ColType::Datetime),
    ("amount", ColType::Float),
    ("currency", ColType::Text),
    ("amount_base", ColType::Float),
    ("orig_account", ColType::Text),
    ("bene_account", ColType::Text),
    ("channel", ColType::Text),
    ("orig_name", ColType::Text),
    ("bene_name", ColType::Text),
    ("orig_country", ColType::Text),
    ("bene_country", ColType::Text),
    ("orig_bank", ColType::Text),
    ("bene_bank", ColType::Text),
    ("narrative", ColType::Text),
    ("customer_id", ColType::Text),
    ("customer_type", ColType::Text),
    ("occupation", ColType::Text),
    ("opened", ColType::Date),
    ("expected_monthly_turnover", ColType::Float),
    ("loc_country", ColType::Text),
    ("loc_region", ColType::Text),
    ("branch_id", ColType::Text),
    ("mcc", ColType::Text),
];

/// Columns every input must have (after mapping).
pub const REQUIRED: &[&str] = &["ts", "amount", "orig_account", "bene_account"];

/// The channels the schema names.
pub const CHANNELS: &[&str] = &[
    "cash_in", "cash_out", "atm", "wire", "mvts", "card", "mobile", "p2p", "crypto", "cheque", "internal", "other",
];

/// Side-view columns: name, the `out` side's source, the `in` side's source.
pub const SIDE_COLUMNS: &[(&str, &str, &str)] = &[
    ("account", "orig_account", "bene_account"),
    ("counterparty", "bene_account", "orig_account"),
    ("account_country", "orig_country", "bene_country"),
    ("counterparty_country", "bene_country", "orig_country"),
    ("account_name", "orig_name", "bene_name"),
    ("counterparty_name", "bene_name", "orig_name"),
    ("account_bank", "orig_bank", "bene_bank"),
    ("counterparty_bank", "bene_bank", "orig_bank"),
];

/// Derived side-view columns: `side`, `hour` (0–23, of `ts`) and `days_since_opened`
/// (from `opened` to `ts`, in days, fractional; empty without `opened`).
pub const DERIVED: &[&str] = &["side", "hour", "days_since_opened"];

/// The label column that some presets keep (AMLworld's `Is Laundering`); no rule reads it.
pub const LABEL: &str = "label";

/// Every name a rule may use in `where` or a measure.
pub fn all_columns() -> impl Iterator<Item = &'static str> {
    CANONICAL
        .iter()
        .map(|(n, _)| *n)
        .chain(SIDE_COLUMNS.iter().map(|(n, _, _)| *n))
        .chain(DERIVED.iter().copied())
}

/// Whether `name` is a column a rule may use.
pub fn is_known_column(name: &str) -> bool {
    all_columns().any(|c| c == name)
}

/// The type of a canonical column.
pub fn col_type(name: &str) -> Option<ColType> {
    CANONICAL.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// The canonical columns a rule column stands on (a side column stands on two).
pub fn sources_of(name: &str) -> Vec<&'static str> {
    if let Some((_, o, i)) = SIDE_COLUMNS.iter().find(|(n, _, _)| *n == name) {
        return vec![o, i];
    }
    match name {
        "side" => vec![],
        "hour" => vec!["ts"],
        "days_since_opened" => vec!["opened"],
        _ => CANONICAL
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(n, _)| vec![*n])
            .unwrap_or_default(),
    }
}

/// The side-view columns for one side whose sources a frame has.
pub fn side_exprs_for(side: Side, schema: &Schema) -> Vec<Expr> {
    let mut v: Vec<Expr> = SIDE_COLUMNS
        .iter()
        .filter_map(|(name, out_src, in_src)| {
            let src = match side {
                Side::Out => *out_src,
                Side::In => *in_src,
            };
            schema.contains(src).then(|| col(src).alias(*name))
        })
        .collect();
    v.push(lit(side.as_str()).alias("side"));
    if schema.contains("ts") {
        v.push(col("ts").dt().hour().cast(DataType::Int32).alias("hour"));
        if schema.contains("opened") {
            v.push(days_since_opened());
        }
    }
    v
}

/// Days from the account's opening to the transaction.
fn days_since_opened() -> Expr {
    let ms = |e: Expr| {
        e.cast(DataType::Datetime(TimeUnit::Milliseconds, None))
            .cast(DataType::Int64)
    };
    ((ms(col("ts")) - ms(col("opened"))).cast(DataType::Float64) / lit(86_400_000.0)).alias("days_since_opened")
}

/// The expressions that add the side-view columns for one side.
pub fn side_exprs(side: Side) -> Vec<Expr> {
    let mut v: Vec<Expr> = SIDE_COLUMNS
        .iter()
        .map(|(name, out_src, in_src)| {
            let src = match side {
                Side::Out => *out_src,
                Side::In => *in_src,
            };
            col(src).alias(*name)
        })
        .collect();
    v.push(lit(side.as_str()).alias("side"));
    v.push(col("ts").dt().hour().cast(DataType::Int32).alias("hour"));
    v.push(days_since_opened());
    v
}

/// Whether a canonical column is kept dictionary-encoded in memory: every text column but
/// `txn_id` (which is unique). A text column costs 16 bytes a row as polars text and 4 as
/// a code into its distinct values, which is what lets ten million rows fit in a few GB.
pub fn is_compact(name: &str) -> bool {
    col_type(name) == Some(ColType::Text) && name != "txn_id"
}

/// The in-memory type of a compact column: polars' categorical type over the process's
/// global categories (so that columns and input files share one code space).
pub fn compact_dtype() -> DataType {
    DataType::from_categories(Categories::global())
}

/// Dictionary-encodes the compact text columns, one column at a time (the text of each
/// is freed before the next is encoded).
pub fn compact(df: &mut DataFrame) -> PolarsResult<()> {
    let names: Vec<PlSmallStr> = df
        .columns()
        .iter()
        .filter(|c| c.dtype() == &DataType::String && is_compact(c.name()))
        .map(|c| c.name().clone())
        .collect();
    let to = compact_dtype();
    // As many columns at a time as there are worker threads.
    let workers = crate::engine::worker_threads().max(1);
    for group in names.chunks(workers) {
        let idx: Vec<usize> = (0..group.len()).collect();
        let cols: Vec<&Column> = group.iter().map(|n| df.column(n)).collect::<PolarsResult<_>>()?;
        let mut coded = crate::engine::run_parallel(&idx, |k| cols[k].cast(&to));
        coded.sort_by_key(|(k, _)| *k);
        for (k, c) in coded {
            df.replace(&group[k], c?)?;
        }
    }
    Ok(())
}

/// The expressions that turn dictionary-encoded columns of a frame back into text (same
/// names); rules and reports read text.
pub fn text_exprs(schema: &Schema) -> Vec<Expr> {
    schema
        .iter()
        .filter(|(_, t)| t.is_categorical())
        .map(|(n, _)| col(n.clone()).cast(DataType::String))
        .collect()
}

/// A frame with its dictionary-encoded columns turned back into text.
pub fn as_text(df: DataFrame) -> PolarsResult<DataFrame> {
    let exprs = text_exprs(df.schema());
    if exprs.is_empty() {
        return Ok(df);
    }
    df.lazy().with_columns(exprs).collect()
}
