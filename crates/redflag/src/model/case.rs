//! Cases as the outputs hold them: the alerts on one account (or on accounts a pattern
//! links), with the transactions they name. Built, scored and ranked by
//! [`crate::cases`].

use serde::{Deserialize, Serialize};

use super::{Alert, ScorePart, Severity};

/// At most this many transactions are listed with their details in a case.
pub const MAX_LISTED_TXNS: usize = 1000;

/// One transaction of a case, as evidence: enough to read and report it without the input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseTxn {
    /// Transaction id.
    pub txn_id: String,
    /// When (`YYYY-MM-DDTHH:MM:SS`).
    pub ts: String,
    /// Amount in `currency`.
    pub amount: f64,
    /// ISO 4217.
    pub currency: String,
    /// Amount in the base currency.
    pub amount_base: f64,
    /// Channel.
    pub channel: Option<String>,
    /// Paying account.
    pub orig_account: Option<String>,
    /// Receiving account.
    pub bene_account: Option<String>,
    /// Paying party's name.
    pub orig_name: Option<String>,
    /// Receiving party's name.
    pub bene_name: Option<String>,
    /// Paying party's country.
    pub orig_country: Option<String>,
    /// Receiving party's country.
    pub bene_country: Option<String>,
    /// Paying party's institution.
    #[serde(default)]
    pub orig_bank: Option<String>,
    /// Receiving party's institution.
    #[serde(default)]
    pub bene_bank: Option<String>,
    /// Where it took place.
    pub loc_country: Option<String>,
    /// Free text.
    pub narrative: Option<String>,
    /// The rules whose alerts list it.
    pub rule_ids: Vec<String>,
}

/// A case: the alerts on one account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    /// Stable: `C-` and 12 hex digits of sha256 of the sorted accounts.
    pub case_id: String,
    /// 1 for the highest score.
    pub rank: usize,
    /// The accounts.
    pub accounts: Vec<String>,
    /// See [`crate::cases`].
    pub score: f64,
    /// The highest alert severity.
    pub severity: Severity,
    /// Distinct typologies of the alerts.
    pub typologies: Vec<String>,
    /// Distinct rules that fired.
    pub rule_ids: Vec<String>,
    /// First transaction's time.
    pub first_ts: String,
    /// Last transaction's time.
    pub last_ts: String,
    /// Distinct transactions in the alerts.
    pub txn_count: usize,
    /// Their total in the base currency.
    pub total_amount_base: f64,
    /// The other parties of those transactions (`cash` for a cash side).
    pub counterparties: Vec<String>,
    /// Countries involved (parties' and locations').
    pub countries: Vec<String>,
    /// Plain language.
    pub summary: String,
    /// The transactions of its alerts, in time order: all of them up to
    /// [`MAX_LISTED_TXNS`], else the first that many (`txn_count` counts them all; the
    /// alerts and `alerts.csv` name every one).
    pub transactions: Vec<CaseTxn>,
    /// The alerts, by rule then time.
    pub alerts: Vec<Alert>,
    /// Each rule's part in the score, highest first: present only when score weights
    /// were given (`--weights`); without them the file leaves the field out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub score_parts: Vec<ScorePart>,
}
