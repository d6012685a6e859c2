//! Score weights learnt from outcomes (`redflag tune`): per-rule factors of the case score
//! fitted on labelled cases, and measured on cases of other schemes.
//!
//! - **Features.** One per rule: the rule's part of the case score without weights
//!   ([`crate::cases::base_parts`]: its alerts' severity weights, halved for each repeat,
//!   times the typology bonus), 0 when the rule did not fire in the case; and, with
//!   [`TuneOptions::measures`], one per measure of a rule: the rule's part × ln(1 + the
//!   measure's highest value among the rule's alerts in the case). The score with
//!   weights is the sum of weight × feature, so the fitted model *is* the score.
//! - **Outcome.** A case is positive when it holds a transaction of a non-decoy scheme,
//!   as the case ranking of `evaluate` counts it ([`crate::evaluate::case_outcomes`]).
//! - **Split.** Each scheme id goes, by sha256 of the id, to the test part (about
//!   [`TuneOptions::test_share`] of them) or to the tuning part; a case goes with its
//!   schemes, a case with no scheme by sha256 of its case id, and a case holding schemes
//!   of both parts is left out of both: tuning and testing never share a scheme.
//! - **Model.** Logistic regression with an intercept and an L2 penalty (given, or chosen
//!   by [`choose_l2`] on the tuning cases alone) on the coefficients of the features
//!   scaled to unit root mean square, the coefficients held
//!   at 0 or more (a red flag does not make a case less likely), fitted by a fixed number
//!   of accelerated projected gradient steps (FISTA) from zero: no randomness, the same
//!   input gives the same weights, to the bit.
//! - **Weights.** The coefficients on the features' own scale, multiplied by one factor so
//!   that the tuning cases' scores add up to what they add up to without weights, rounded
//!   to four decimals. A rule that never fired in a tuning case is not written and keeps
//!   the default weight 1; a measure is written when its weight is over 0.
//! - **Figures.** Precision at 10, 50 and 100 cases and average precision of the test
//!   cases, ranked by the score without weights (before) and with them (after).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::evaluate::{ranking_metrics, CaseOutcome, Labels, Ranking, RANKING_KS};
use crate::ingest::Dataset;
use crate::model::{Case, ScoreWeights};
use crate::pack::Pack;

/// How the weights are fitted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TuneOptions {
    /// The L2 penalty on the scaled coefficients (per case, as the mean loss is); `None`:
    /// chosen from [`L2_GRID`] on the tuning cases alone ([`choose_l2`]).
    pub l2: Option<f64>,
    /// Gradient steps.
    pub iterations: usize,
    /// The share of schemes (and of cases without a scheme) put in the test part.
    pub test_share: f64,
    /// The measures fitted as features besides the rules.
    #[serde(default)]
    pub measures: MeasureFeatures,
}

impl Default for TuneOptions {
    fn default() -> TuneOptions {
        TuneOptions {
            l2: None,
            iterations: 3000,
            test_share: 0.3,
            measures: MeasureFeatures::default(),
        }
    }
}

/// Which measures of the rules' alerts are fitted as features.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MeasureFeatures {
    /// None: one weight per rule.
    #[default]
    None,
    /// Every measure that holds a number in a rule's alerts.
    All,
    /// These measures, as `RULE.MEASURE` (the rule by its id).
    Only(Vec<String>),
}

impl MeasureFeatures {
    fn includes(&self, rule_id: &str, measure: &str) -> bool {
        match self {
            MeasureFeatures::None => false,
            MeasureFeatures::All => true,
            MeasureFeatures::Only(list) => list.iter().any(|k| k.split_once('.') == Some((rule_id, measure))),
        }
    }
}

/// A feature: a rule's part of the score, or a measure's term of a rule's part.
type FeatureKey = (String, Option<String>);

/// A case's features (those over 0): each rule's part without weights, and each chosen
/// measure's term, the rule's part × ln(1 + its highest value among the rule's alerts).
fn case_features(case: &Case, measures: &MeasureFeatures) -> BTreeMap<FeatureKey, f64> {
    let mut out = BTreeMap::new();
    for (rule_id, base) in crate::cases::base_parts(&case.alerts) {
        let names: std::collections::BTreeSet<&String> = case
            .alerts
            .iter()
            .filter(|a| a.rule_id == rule_id)
            .flat_map(|a| a.measures.iter().filter(|(_, v)| v.is_number()).map(|(k, _)| k))
            .collect();
        for m in names.into_iter().filter(|m| measures.includes(&rule_id, m)) {
            let (_, f) = crate::cases::measure_term(&case.alerts, &rule_id, m, base);
            if f > 0.0 {
                out.insert((rule_id.clone(), Some(m.clone())), f);
            }
        }
        out.insert((rule_id, None), base);
    }
    out
}

/// The penalties tried when none is given.
pub const L2_GRID: [f64; 5] = [0.001, 0.01, 0.1, 1.0, 10.0];

/// One penalty tried: the average precision of the validation cases ranked by the model
/// fitted on the others.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct L2Trial {
    /// The penalty.
    pub l2: f64,
    /// The validation cases' average precision (`None`: no positive among them).
    pub average_precision: Option<f64>,
}

/// Chooses the penalty on the tuning cases alone: they are split again by scheme (keys
/// prefixed with `validate:`, the same share), each penalty of [`L2_GRID`] is fitted on
/// one part and ranks the other; the best average precision wins, the larger penalty on
/// a tie. `rows`, `y` and `ids` are the tuning cases'.
pub fn choose_l2(
    rows: &[Vec<(usize, f64)>],
    y: &[bool],
    ids: &[&str],
    outcomes: &[&CaseOutcome],
    n_features: usize,
    opts: &TuneOptions,
) -> (f64, Vec<L2Trial>) {
    let salted: Vec<CaseOutcome> = outcomes
        .iter()
        .map(|o| CaseOutcome {
            positive: o.positive,
            schemes: o.schemes.iter().map(|s| format!("validate:{s}")).collect(),
        })
        .collect();
    let salted_ids: Vec<String> = ids.iter().map(|i| format!("validate:{i}")).collect();
    let salted_refs: Vec<&str> = salted_ids.iter().map(String::as_str).collect();
    let parts = split(&salted_refs, &salted, opts.test_share);
    let pick = |part: Part| -> Vec<usize> { (0..rows.len()).filter(|&i| parts[i] == part).collect() };
    let (fit_ix, check_ix) = (pick(Part::Tune), pick(Part::Test));
    let fit_rows: Vec<Vec<(usize, f64)>> = fit_ix.iter().map(|&i| rows[i].clone()).collect();
    let fit_y: Vec<bool> = fit_ix.iter().map(|&i| y[i]).collect();
    let mut trials = Vec::new();
    for l2 in L2_GRID {
        let m = fit_logistic(&fit_rows, &fit_y, n_features, l2, opts.iterations);
        let mut scored: Vec<(f64, &str, bool)> = check_ix
            .iter()
            .map(|&i| (rows[i].iter().map(|&(j, v)| m.coef[j] * v).sum(), ids[i], y[i]))
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
        let positive: Vec<bool> = scored.iter().map(|x| x.2).collect();
        trials.push(L2Trial {
            l2,
            average_precision: ranking_metrics(&positive, &[]).average_precision,
        });
    }
    let best = trials
        .iter()
        .filter_map(|t| t.average_precision.map(|ap| (ap, t.l2)))
        .fold(None, |acc: Option<(f64, f64)>, x| match acc {
            Some(a) if a.0 > x.0 => Some(a),
            _ => Some(x),
        })
        .map_or(0.01, |b| b.1);
    (best, trials)
}

/// Where a case goes in the split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    /// Fitted on.
    Tune,
    /// Measured on.
    Test,
    /// Holding schemes of both parts: in neither.
    Neither,
}

/// Whether a key (a scheme id, or a case id) falls in the test part: the first eight
/// bytes of its sha256 as a fraction of 2^64, under `test_share`.
pub fn in_test(key: &str, test_share: f64) -> bool {
    let h = crate::util::hash::sha256_hex(key.as_bytes());
    let x = u64::from_str_radix(&h[..16], 16).unwrap_or(0);
    (x as f64 / 18_446_744_073_709_551_616.0) < test_share
}

/// Each case's part: with its schemes (all in one part), by its case id when it has
/// none, in neither when its schemes are in both parts.
pub fn split(case_ids: &[&str], outcomes: &[CaseOutcome], test_share: f64) -> Vec<Part> {
    case_ids
        .iter()
        .zip(outcomes)
        .map(|(id, o)| {
            if o.schemes.is_empty() {
                return if in_test(id, test_share) {
                    Part::Test
                } else {
                    Part::Tune
                };
            }
            let tests = o.schemes.iter().filter(|s| in_test(s, test_share)).count();
            match tests {
                0 => Part::Tune,
                t if t == o.schemes.len() => Part::Test,
                _ => Part::Neither,
            }
        })
        .collect()
}

/// A fitted logistic regression: `p = σ(intercept + Σ coef[j] × x[j])`.
#[derive(Debug, Clone, PartialEq)]
pub struct Logistic {
    /// The intercept.
    pub intercept: f64,
    /// One coefficient per feature, each at least 0, on the features' own scale.
    pub coef: Vec<f64>,
    /// The penalised mean loss at the end.
    pub loss: f64,
}

/// Fits an L2-regularised logistic regression with coefficients held at 0 or more, on
/// sparse rows (`(feature, value)` pairs) of `n_features` features: the features scaled
/// to unit root mean square, then `iterations` FISTA steps from zero with the step
/// 1 / (a bound on the loss's curvature). Deterministic.
pub fn fit_logistic(rows: &[Vec<(usize, f64)>], y: &[bool], n_features: usize, l2: f64, iterations: usize) -> Logistic {
    let n = rows.len().max(1) as f64;
    // Each feature's root mean square: the scale the penalty is put on.
    let mut scale = vec![0.0; n_features];
    for row in rows {
        for &(j, v) in row {
            scale[j] += v * v;
        }
    }
    for s in scale.iter_mut() {
        *s = if *s > 0.0 { (*s / n).sqrt() } else { 1.0 };
    }
    let scaled: Vec<Vec<(usize, f64)>> = rows
        .iter()
        .map(|r| r.iter().map(|&(j, v)| (j, v / scale[j])).collect())
        .collect();
    // The Hessian of the mean loss is at most ¼ XᵀX/n, whose largest eigenvalue is at
    // most its trace: 1 for the intercept, at most 1 for each scaled feature.
    let step = 1.0 / (0.25 * (1.0 + n_features as f64) + l2);
    // θ[0] is the intercept, θ[1 + j] feature j's coefficient.
    let mut theta = vec![0.0; n_features + 1];
    let mut prev = theta.clone();
    let mut look = theta.clone();
    let mut t = 1.0f64;
    for _ in 0..iterations {
        let grad = gradient(&scaled, y, &look, l2);
        prev.clone_from(&theta);
        for k in 0..theta.len() {
            let v = look[k] - step * grad[k];
            theta[k] = if k == 0 { v } else { v.max(0.0) };
        }
        let t_next = (1.0 + (1.0 + 4.0 * t * t).sqrt()) / 2.0;
        let m = (t - 1.0) / t_next;
        for k in 0..theta.len() {
            look[k] = theta[k] + m * (theta[k] - prev[k]);
        }
        t = t_next;
    }
    let loss = penalised_loss(&scaled, y, &theta, l2);
    Logistic {
        intercept: theta[0],
        coef: (0..n_features).map(|j| theta[j + 1] / scale[j]).collect(),
        loss,
    }
}

/// `intercept + Σ θ x` of one row.
fn linear(row: &[(usize, f64)], theta: &[f64]) -> f64 {
    theta[0] + row.iter().map(|&(j, v)| theta[j + 1] * v).sum::<f64>()
}

/// log(1 + e^z), without overflow.
fn softplus(z: f64) -> f64 {
    if z > 0.0 {
        z + (-z).exp().ln_1p()
    } else {
        z.exp().ln_1p()
    }
}

fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// The gradient of the penalised mean loss (the intercept unpenalised).
fn gradient(rows: &[Vec<(usize, f64)>], y: &[bool], theta: &[f64], l2: f64) -> Vec<f64> {
    let n = rows.len().max(1) as f64;
    let mut g = vec![0.0; theta.len()];
    for (row, &yi) in rows.iter().zip(y) {
        let r = sigmoid(linear(row, theta)) - f64::from(u8::from(yi));
        g[0] += r;
        for &(j, v) in row {
            g[j + 1] += r * v;
        }
    }
    for (k, gk) in g.iter_mut().enumerate() {
        *gk /= n;
        if k > 0 {
            *gk += l2 * theta[k];
        }
    }
    g
}

/// The penalised mean loss.
fn penalised_loss(rows: &[Vec<(usize, f64)>], y: &[bool], theta: &[f64], l2: f64) -> f64 {
    let n = rows.len().max(1) as f64;
    let data: f64 = rows
        .iter()
        .zip(y)
        .map(|(row, &yi)| {
            let z = linear(row, theta);
            softplus(z) - if yi { z } else { 0.0 }
        })
        .sum();
    data / n + 0.5 * l2 * theta[1..].iter().map(|c| c * c).sum::<f64>()
}

/// One rule's line in the result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleWeight {
    /// The rule.
    pub rule_id: String,
    /// Its weight.
    pub weight: f64,
    /// Tuning cases in which it fired.
    pub tune_cases: u64,
    /// Of those, positive.
    pub tune_positive: u64,
}

/// One measure's line in the result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeasureWeight {
    /// The rule.
    pub rule_id: String,
    /// Its measure.
    pub measure: String,
    /// Its weight.
    pub weight: f64,
    /// Tuning cases in which the term was over 0.
    pub tune_cases: u64,
    /// Of those, positive.
    pub tune_positive: u64,
}

/// What `redflag tune` found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TuneResult {
    /// The pack id and version.
    pub pack: String,
    /// Where the labels came from.
    pub labels: String,
    /// How the weights were fitted.
    pub options: TuneOptions,
    /// The penalty used: the one given, or the one chosen.
    pub l2: f64,
    /// The penalties tried when none was given, with their validation figures.
    pub l2_trials: Vec<L2Trial>,
    /// Schemes in the tuning part and in the test part.
    pub tune_schemes: u64,
    /// Schemes in the test part.
    pub test_schemes: u64,
    /// Cases fitted on, and of those positive.
    pub tune_cases: u64,
    /// Positive tuning cases.
    pub tune_positive: u64,
    /// Cases measured on.
    pub test_cases: u64,
    /// Cases left out: holding schemes of both parts.
    pub left_out_cases: u64,
    /// The intercept of the fitted model.
    pub intercept: f64,
    /// The weights of the rules that fired in a tuning case, in pack order.
    pub rules: Vec<RuleWeight>,
    /// The weights of the measures fitted, in pack order of their rules, then by name.
    #[serde(default)]
    pub measures: Vec<MeasureWeight>,
    /// The test cases ranked by the score without weights.
    pub before: Ranking,
    /// The test cases ranked by the score with the weights.
    pub after: Ranking,
}

impl TuneResult {
    /// The weights as [`Pack::with_weights`] reads them (the figures not included).
    pub fn weights(&self) -> ScoreWeights {
        let mut measures: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
        for m in self.measures.iter().filter(|m| m.weight > 0.0) {
            measures
                .entry(m.rule_id.clone())
                .or_default()
                .insert(m.measure.clone(), m.weight);
        }
        ScoreWeights {
            source: String::new(),
            sha256: String::new(),
            default_weight: 1.0,
            rules: self.rules.iter().map(|r| (r.rule_id.clone(), r.weight)).collect(),
            measures,
        }
    }
}

/// Screens the data with the pack, builds the cases, splits them by scheme, fits the
/// weights on the tuning part and measures the test part before and after.
pub fn tune(pack: &Pack, data: &Dataset, labels: &Labels, opts: &TuneOptions) -> Result<TuneResult> {
    let mut plain = pack.clone();
    plain.weights = None;
    let prep = crate::engine::Prepared::new(data)?;
    let run = crate::run::run(&plain, &prep, &|_, _, _| {}, &crate::util::cancel::Cancel::new())?;
    drop(prep);
    let cases = crate::cases::build(run.alerts, &data.transactions, &plain)?;
    let outcomes = crate::evaluate::case_outcomes(data, labels, &cases)?;
    let mut result = tune_cases(&plain, &cases, &outcomes, opts);
    result.labels = labels.source.clone();
    Ok(result)
}

/// The fit and the figures on built cases (in rank order) and their outcomes.
pub fn tune_cases(pack: &Pack, cases: &[Case], outcomes: &[CaseOutcome], opts: &TuneOptions) -> TuneResult {
    let ids: Vec<&str> = cases.iter().map(|c| c.case_id.as_str()).collect();
    let parts = split(&ids, outcomes, opts.test_share);
    let features: Vec<BTreeMap<FeatureKey, f64>> = cases.iter().map(|c| case_features(c, &opts.measures)).collect();
    // The features of the tuning cases: each rule in pack order (then any other id), its
    // measures after it by name.
    let mut fired: Vec<FeatureKey> = features
        .iter()
        .zip(&parts)
        .filter(|(_, p)| **p == Part::Tune)
        .flat_map(|(f, _)| f.keys().cloned())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let order = |id: &String| pack.rules.iter().position(|r| r.id() == id).unwrap_or(usize::MAX);
    fired.sort_by(|a, b| order(&a.0).cmp(&order(&b.0)).then(a.cmp(b)));
    let index: BTreeMap<&FeatureKey, usize> = fired.iter().enumerate().map(|(i, k)| (k, i)).collect();
    let tune_ix: Vec<usize> = (0..cases.len()).filter(|&i| parts[i] == Part::Tune).collect();
    let rows: Vec<Vec<(usize, f64)>> = tune_ix
        .iter()
        .map(|&i| features[i].iter().map(|(k, v)| (index[k], *v)).collect())
        .collect();
    let y: Vec<bool> = tune_ix.iter().map(|&i| outcomes[i].positive).collect();
    let (l2, l2_trials) = match opts.l2 {
        Some(l2) => (l2, Vec::new()),
        None => {
            let tune_ids: Vec<&str> = tune_ix.iter().map(|&i| ids[i]).collect();
            let tune_outcomes: Vec<&CaseOutcome> = tune_ix.iter().map(|&i| &outcomes[i]).collect();
            choose_l2(&rows, &y, &tune_ids, &tune_outcomes, fired.len(), opts)
        }
    };
    let model = fit_logistic(&rows, &y, fired.len(), l2, opts.iterations);
    // One factor so that the tuning cases' scores keep their sum (that of the rules'
    // parts: the score without weights).
    let plain_sum: f64 = rows
        .iter()
        .flatten()
        .filter(|x| fired[x.0].1.is_none())
        .map(|x| x.1)
        .sum();
    let fitted_sum: f64 = rows.iter().flatten().map(|&(j, v)| model.coef[j] * v).sum();
    let factor = if fitted_sum > 0.0 { plain_sum / fitted_sum } else { 1.0 };
    let mut rules: Vec<RuleWeight> = Vec::new();
    let mut measures: Vec<MeasureWeight> = Vec::new();
    for (j, key) in fired.iter().enumerate() {
        let fires: Vec<usize> = tune_ix
            .iter()
            .copied()
            .filter(|&i| features[i].contains_key(key))
            .collect();
        let tune_positive = fires.iter().filter(|&&i| outcomes[i].positive).count() as u64;
        match &key.1 {
            None => rules.push(RuleWeight {
                rule_id: key.0.clone(),
                weight: round4(if fitted_sum > 0.0 { model.coef[j] * factor } else { 1.0 }),
                tune_cases: fires.len() as u64,
                tune_positive,
            }),
            Some(m) => measures.push(MeasureWeight {
                rule_id: key.0.clone(),
                measure: m.clone(),
                weight: round4(if fitted_sum > 0.0 { model.coef[j] * factor } else { 0.0 }),
                tune_cases: fires.len() as u64,
                tune_positive,
            }),
        }
    }
    let mut result = TuneResult {
        pack: format!("{} {}", pack.id, pack.version),
        labels: String::new(),
        options: opts.clone(),
        l2,
        l2_trials,
        tune_schemes: 0,
        test_schemes: 0,
        tune_cases: tune_ix.len() as u64,
        tune_positive: y.iter().filter(|p| **p).count() as u64,
        test_cases: parts.iter().filter(|p| **p == Part::Test).count() as u64,
        left_out_cases: parts.iter().filter(|p| **p == Part::Neither).count() as u64,
        intercept: model.intercept,
        rules,
        measures,
        before: Ranking::default(),
        after: Ranking::default(),
    };
    (result.tune_schemes, result.test_schemes) = scheme_counts(outcomes, opts.test_share);
    let test: Vec<usize> = (0..cases.len()).filter(|&i| parts[i] == Part::Test).collect();
    (result.before, result.after) = before_after(cases, outcomes, &test, &result.weights());
    result
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// Distinct schemes found in the cases, in the tuning part and in the test part.
fn scheme_counts(outcomes: &[CaseOutcome], test_share: f64) -> (u64, u64) {
    let all: std::collections::BTreeSet<&str> = outcomes
        .iter()
        .flat_map(|o| o.schemes.iter().map(String::as_str))
        .collect();
    let test = all.iter().filter(|s| in_test(s, test_share)).count() as u64;
    (all.len() as u64 - test, test)
}

/// The ranking figures of the cases `chosen` (indices into `cases`, in rank order)
/// without weights and with `weights`, as `screen` would rank them.
pub fn before_after(
    cases: &[Case],
    outcomes: &[CaseOutcome],
    chosen: &[usize],
    weights: &ScoreWeights,
) -> (Ranking, Ranking) {
    let before: Vec<bool> = chosen.iter().map(|&i| outcomes[i].positive).collect();
    let mut rescored: Vec<(f64, &str, bool)> = chosen
        .iter()
        .map(|&i| {
            let (score, _) = crate::cases::weighted_score(&cases[i].alerts, weights);
            (score, cases[i].case_id.as_str(), outcomes[i].positive)
        })
        .collect();
    rescored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    let after: Vec<bool> = rescored.iter().map(|x| x.2).collect();
    (
        ranking_metrics(&before, &RANKING_KS),
        ranking_metrics(&after, &RANKING_KS),
    )
}

/// The weights file `redflag tune` writes: the figures as comments, then `default` and
/// `rules` (docs/cases.md, "Weights").
pub fn weights_yaml(r: &TuneResult) -> String {
    use std::fmt::Write as _;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "# Score weights for the case ranking, fitted by `redflag tune` (docs/cases.md, \"Weights\")."
    );
    let _ = writeln!(o, "# pack: {}; labels: {}", r.pack, r.labels);
    let _ = writeln!(
        o,
        "# model: logistic regression, coefficients at least 0, L2 {} on scaled features{}, {} FISTA steps; intercept {:.4}",
        r.l2,
        if r.l2_trials.is_empty() { "" } else { " (chosen on the tuning cases)" },
        r.options.iterations,
        r.intercept
    );
    let _ = writeln!(
        o,
        "# split by scheme id (sha256): {} schemes to tune on, {} to test on; cases: {} tuned on ({} positive), {} tested on, {} left out (schemes of both parts)",
        r.tune_schemes, r.test_schemes, r.tune_cases, r.tune_positive, r.test_cases, r.left_out_cases
    );
    for t in &r.l2_trials {
        let ap = t
            .average_precision
            .map_or("-".to_string(), |x| format!("{:.1}%", x * 100.0));
        let _ = writeln!(
            o,
            "# L2 {}: average precision {ap} on validation cases (tuning cases split again by scheme)",
            t.l2
        );
    }
    let _ = writeln!(
        o,
        "# test cases: {} ({} positive)",
        r.after.cases, r.after.positive_cases
    );
    let _ = writeln!(o, "#                       before    after");
    for line in figure_lines(&r.before, &r.after) {
        let _ = writeln!(o, "# {line}");
    }
    let _ = writeln!(o, "default: 1");
    let _ = writeln!(o, "rules:");
    for w in &r.rules {
        let _ = writeln!(
            o,
            "  {}: {}    # tuning cases it fired in: {}, positive: {}",
            w.rule_id, w.weight, w.tune_cases, w.tune_positive
        );
    }
    let weighed: Vec<&MeasureWeight> = r.measures.iter().filter(|m| m.weight > 0.0).collect();
    if !weighed.is_empty() {
        let _ = writeln!(
            o,
            "# measures: weight × the rule's part × ln(1 + the measure's highest value in the case); {} fitted, those over 0 written",
            r.measures.len()
        );
        let _ = writeln!(o, "measures:");
        for m in weighed {
            let _ = writeln!(
                o,
                "  {}.{}: {}    # tuning cases: {}, positive: {}",
                m.rule_id, m.measure, m.weight, m.tune_cases, m.tune_positive
            );
        }
    }
    o
}

/// `precision at K   before   after` lines, then average precision.
pub fn figure_lines(before: &Ranking, after: &Ranking) -> Vec<String> {
    let pct = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{:.1}%", v * 100.0));
    let mut out: Vec<String> = before
        .precision_at
        .iter()
        .zip(&after.precision_at)
        .map(|(b, a)| {
            format!(
                "precision at {:<4} {:>9} {:>8}",
                b.k,
                pct(b.precision),
                pct(a.precision)
            )
        })
        .collect();
    out.push(format!(
        "average precision {:>9} {:>8}",
        pct(before.average_precision),
        pct(after.average_precision)
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(positive: bool, schemes: &[&str]) -> CaseOutcome {
        CaseOutcome {
            positive,
            schemes: schemes.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// Rule 0 fires in every positive case and in no negative one; rule 1 fires in
    /// half the cases of each; rule 2 fires only in negative ones.
    fn separable() -> (Vec<Vec<(usize, f64)>>, Vec<bool>) {
        let mut rows = Vec::new();
        let mut y = Vec::new();
        for i in 0..40 {
            let positive = i % 4 == 0;
            let mut row = Vec::new();
            if positive {
                row.push((0, 3.0));
            }
            if i % 2 == 0 {
                row.push((1, 6.0));
            }
            if !positive && i % 3 == 0 {
                row.push((2, 1.0));
            }
            rows.push(row);
            y.push(positive);
        }
        (rows, y)
    }

    #[test]
    fn the_separating_rule_weighs_most_and_a_rule_of_negatives_nothing() {
        let (rows, y) = separable();
        let m = fit_logistic(&rows, &y, 3, 0.01, 3000);
        assert!(m.coef[0] > 0.0);
        assert!(m.coef[0] > 3.0 * m.coef[1], "{:?}", m.coef);
        assert_eq!(m.coef[2], 0.0, "{:?}", m.coef);
        assert!(m.coef.iter().all(|c| *c >= 0.0));
        // The fit ranks every positive case above every negative one.
        let z = |r: &Vec<(usize, f64)>| r.iter().map(|&(j, v)| m.coef[j] * v).sum::<f64>();
        let lowest_pos = rows
            .iter()
            .zip(&y)
            .filter(|x| *x.1)
            .map(|x| z(x.0))
            .fold(f64::MAX, f64::min);
        let highest_neg = rows
            .iter()
            .zip(&y)
            .filter(|x| !*x.1)
            .map(|x| z(x.0))
            .fold(f64::MIN, f64::max);
        assert!(lowest_pos > highest_neg, "{lowest_pos} <= {highest_neg}");
    }

    #[test]
    fn more_penalty_smaller_coefficients_and_the_loss_goes_down() {
        let (rows, y) = separable();
        let loose = fit_logistic(&rows, &y, 3, 0.001, 3000);
        let tight = fit_logistic(&rows, &y, 3, 1.0, 3000);
        assert!(tight.coef[0] < loose.coef[0]);
        let few = fit_logistic(&rows, &y, 3, 0.01, 5);
        let many = fit_logistic(&rows, &y, 3, 0.01, 3000);
        assert!(many.loss < few.loss, "{} >= {}", many.loss, few.loss);
    }

    #[test]
    fn the_fit_is_deterministic_to_the_bit() {
        let (rows, y) = separable();
        let a = fit_logistic(&rows, &y, 3, 0.01, 500);
        let b = fit_logistic(&rows, &y, 3, 0.01, 500);
        let bits = |m: &Logistic| -> Vec<u64> {
            std::iter::once(m.intercept)
                .chain(m.coef.iter().copied())
                .map(f64::to_bits)
                .collect()
        };
        assert_eq!(bits(&a), bits(&b));
    }

    /// On data that one rule separates, every penalty ranks the validation cases
    /// perfectly: the tie goes to the largest penalty.
    #[test]
    fn the_penalty_is_chosen_on_validation_cases_the_larger_on_a_tie() {
        let (rows, y) = separable();
        let ids: Vec<String> = (0..rows.len()).map(|i| format!("C-{i:04}")).collect();
        let outcomes: Vec<CaseOutcome> = y
            .iter()
            .enumerate()
            .map(|(i, &p)| {
                if p {
                    outcome(true, &[&format!("S{i}")])
                } else {
                    outcome(false, &[])
                }
            })
            .collect();
        let id_refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let o_refs: Vec<&CaseOutcome> = outcomes.iter().collect();
        let (l2, trials) = choose_l2(&rows, &y, &id_refs, &o_refs, 3, &TuneOptions::default());
        assert_eq!(trials.iter().map(|t| t.l2).collect::<Vec<_>>(), L2_GRID.to_vec());
        assert!(trials.iter().all(|t| t.average_precision == Some(1.0)), "{trials:?}");
        assert_eq!(l2, 10.0);
    }

    #[test]
    fn the_split_never_puts_one_scheme_in_both_parts() {
        let schemes: Vec<String> = (0..200).map(|i| format!("S{i:04}")).collect();
        let ids: Vec<String> = (0..600).map(|i| format!("C-{i:012}")).collect();
        // Each case holds one to three schemes (or none), overlapping between cases.
        let outcomes: Vec<CaseOutcome> = (0..600)
            .map(|i| {
                let held: Vec<&str> = (0..i % 4).map(|k| schemes[(i * 7 + k * 13) % 200].as_str()).collect();
                outcome(!held.is_empty(), &held)
            })
            .collect();
        let id_refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let parts = split(&id_refs, &outcomes, 0.3);
        let mut seen: BTreeMap<&str, Part> = BTreeMap::new();
        for (o, p) in outcomes.iter().zip(&parts) {
            if *p == Part::Neither {
                let t = o.schemes.iter().filter(|s| in_test(s, 0.3)).count();
                assert!(t > 0 && t < o.schemes.len(), "left out without a reason: {o:?}");
                continue;
            }
            for s in &o.schemes {
                let before = seen.insert(s.as_str(), *p);
                assert!(before.is_none_or(|b| b == *p), "scheme {s} in both parts");
            }
        }
        let test = parts.iter().filter(|p| **p == Part::Test).count();
        let tune = parts.iter().filter(|p| **p == Part::Tune).count();
        assert!(test > 60 && tune > 200, "test {test}, tune {tune}");
        // The same input, the same split.
        assert_eq!(split(&id_refs, &outcomes, 0.3), parts);
        // No test share: everything is tuned on.
        assert!(split(&id_refs, &outcomes, 0.0).iter().all(|p| *p == Part::Tune));
    }
}
