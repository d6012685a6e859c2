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
