//! The sides of a transaction: the paying account (`out`) and the receiving one (`in`).

use serde::{Deserialize, Serialize};

/// Which side of a transaction a rule screens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SideSel {
    /// The receiving account.
    In,
    /// The paying account.
    Out,
    /// Both, each side on its own account.
    #[default]
    Both,
}

impl SideSel {
    /// The sides this selection covers.
    pub fn sides(self) -> &'static [Side] {
        match self {
            SideSel::In => &[Side::In],
            SideSel::Out => &[Side::Out],
            SideSel::Both => &[Side::Out, Side::In],
        }
    }

    /// `in`, `out` or `both`.
    pub fn as_str(self) -> &'static str {
        match self {
            SideSel::In => "in",
            SideSel::Out => "out",
            SideSel::Both => "both",
        }
    }
}

impl From<Side> for SideSel {
    fn from(side: Side) -> SideSel {
        match side {
            Side::In => SideSel::In,
            Side::Out => SideSel::Out,
        }
    }
}

/// One side of a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// The receiving account (`bene_account`).
    In,
    /// The paying account (`orig_account`).
    Out,
}

impl Side {
    /// `in` or `out`.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::In => "in",
            Side::Out => "out",
        }
    }
}
