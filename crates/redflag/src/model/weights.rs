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
    /// The weights of measures, by rule id, then measure: a measure's term in the score
    /// is `weight × the rule's part without weights × ln(1 + value)`, the value the
    /// highest among the rule's alerts in the case (docs/cases.md, "Weights"). A measure
    /// not named weighs 0.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub measures: BTreeMap<String, BTreeMap<String, f64>>,
}

impl ScoreWeights {
    /// The weight of a rule.
    pub fn weight(&self, rule_id: &str) -> f64 {
        self.rules.get(rule_id).copied().unwrap_or(self.default_weight)
    }
}

/// One rule's part in a weighted case score: `contribution = weight × base` plus its
/// measures' terms, where `base` is what the rule adds to the score without weights (its
/// alerts' severity weights, halved for each repeat, times the typology bonus).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScorePart {
    /// The rule.
    pub rule_id: String,
    /// Its weight.
    pub weight: f64,
    /// Its part of the score without weights.
    pub base: f64,
    /// Its part of the score: `weight × base` and its measures' terms, rounded to two
    /// decimals.
    pub contribution: f64,
    /// The terms of the rule's weighted measures, when the weights name any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub measures: Vec<MeasurePart>,
}

/// A weighted measure's term in a rule's part of the score: `weight × base × ln(1 +
/// value)`, `value` the highest of the measure among the rule's alerts in the case (0
/// when none is a number, or under 0).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeasurePart {
    /// The measure.
    pub measure: String,
    /// Its weight.
    pub weight: f64,
    /// Its value, rounded to four decimals.
    pub value: f64,
    /// The term, rounded to two decimals.
    pub contribution: f64,
}

/// What a measure's value adds to the score, per unit of weight and of its rule's part:
/// `ln(1 + value)`, 0 for a value under 0.
pub fn measure_factor(value: f64) -> f64 {
    value.max(0.0).ln_1p()
}
