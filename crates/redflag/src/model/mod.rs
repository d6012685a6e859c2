//! The model: plain data that every layer reads. Rules as written and as checked, their
//! vocabulary (sides, severities, windows, parameters, lists), and what rules find
//! (alerts, cases). Nothing here reads data or runs a rule; it imports only the error type and
//! the utilities.

mod alert;
mod case;
mod lists;
mod params;
mod rule;
mod severity;
mod side;
mod weights;
mod whole;
pub(crate) mod window;

pub use alert::{alert_id, Alert, Degraded, Dropped, LimitNote, NotApplicable, RuleRun, SearchLimit, BUILTIN_MEASURES};
pub use case::{Case, CaseTxn, MAX_LISTED_TXNS};
pub use lists::RefList;
pub use params::{NumField, ParamOverride, ParamValue};
pub use rule::{clause_problem, explain_without, placeholders, Condition, Rule, RuleDef, RuleKind, TYPOLOGIES};
pub(crate) use rule::{is_identifier, matches_any};
pub use severity::Severity;
pub use side::{Side, SideSel};
pub use weights::{measure_factor, MeasurePart, ScorePart, ScoreWeights};
pub use whole::{PeerGroup, Whole};
pub use window::{Window, WindowError};
