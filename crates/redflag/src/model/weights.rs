//! Score weights: a factor per rule that the case score multiplies each rule's part by,
//! as a weights file (a pack overlay, `screen --weights`) gives them. Loaded and checked
//! against a pack by [`crate::pack::Pack::with_weights`]; used by [`crate::cases`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Per-rule factors of the case score. A rule the file does not name weighs
/// [`ScoreWeights::default_weight`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreWeights {
    /// Where they came from (the path as given).
    pub source: String,
    /// sha256 of the file's bytes.
    pub sha256: String,
    /// The weight of a rule the file does not name (1 when the file does not say).
    pub default_weight: f64,
    /// The weight of each rule named, by rule id.
    pub rules: BTreeMap<String, f64>,
}

impl ScoreWeights {
    /// The weight of a rule.
    pub fn weight(&self, rule_id: &str) -> f64 {
        self.rules.get(rule_id).copied().unwrap_or(self.default_weight)
    }
}

/// One rule's part in a weighted case score: `contribution = weight × base`, where
/// `base` is what the rule adds to the score without weights (its alerts' severity
/// weights, halved for each repeat, times the typology bonus).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScorePart {
    /// The rule.
    pub rule_id: String,
    /// Its weight.
    pub weight: f64,
    /// Its part of the score without weights.
    pub base: f64,
    /// Its part of the score: `weight × base`, rounded to two decimals.
    pub contribution: f64,
}
