//! How well a pack finds what is known: precision and recall of each rule and each
//! typology against labelled transactions, and threshold sweeps.
//!
//! Labels come from a file (`txn_id,scheme_id,typology[,account,role]`, as `redflag
//! generate` writes them) or from a column of the input that is true for laundering rows
//! (AMLworld's `Is Laundering`). A label's `typology` is the id of the rule its scheme is
//! built to trip, or `decoy` for a look-alike that no rule should find; `role` is `core`
//! for the transactions that make the pattern and `support` for those around it (missing:
//! `core`).
//!
//! Definitions (a transaction is *flagged* by a rule when it is in one of its alerts):
//!
//! - **precision of a rule**: flagged transactions that belong to a non-decoy scheme (any
//!   role) / all transactions it flagged. A rule that flags nothing has no precision.
//! - **recall of a typology**: core transactions of its schemes flagged by any rule / all
//!   its core transactions; **own-rule recall**: the same, flagged by the typology's own
//!   rules: the rule whose id is the typology and its variants with a letter suffix
//!   (VA-01C and VA-01 for VA-01). A typology with no such rule in the pack has no own-rule
//!   figures and no precision: what other rules catch of it still counts in its recall.
//! - **schemes detected**: schemes with at least one transaction (any role) in an alert.
//! - **decoys** are reported apart: how many of their transactions and schemes were
//!   flagged (each one a false alarm); they never count as hits.
//!
//! - **the case ranking**: the alerts grouped into cases and ranked as `redflag screen`
//!   ranks them ([`crate::cases`]); a case is *positive* when one of its alerts holds a
//!   transaction of a non-decoy scheme (any role; with a label column, a true row).
//!   **Precision at k**: positive cases among the first k, over k (over all the cases
//!   when there are fewer than k), for k = 10, 50 and 100. **Average precision**: the
//!   mean, over the positive cases, of the precision at each one's rank,
//!   `AP = (1/P) Σ_{i positive} (positives in ranks 1..=i) / i`, with P the positive
//!   cases of the ranking: the area under the precision-recall curve of the ranking,
//!   recall counted in positive cases (ties in score are broken by case id, as the
//!   ranking does). It measures the order of what was found, not how much was found:
//!   the recall tables say that.
//!
//! With a label column there are no schemes: every true row is one core transaction of
//! the typology named after the column, and scheme counts are left out.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::engine::Prepared;
use crate::error::{Error, PolarsContext, Result};
use crate::ingest::Dataset;
use crate::model::Case;
use crate::model::{ParamOverride, ParamValue, Rule, RuleRun};
use crate::pack::Pack;

/// The typology of look-alikes that no rule should find.
pub const DECOY: &str = "decoy";

const NONE: u32 = u32::MAX;

/// One labelled transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Label {
    scheme: u32,
    typology: u32,
    core: bool,
    /// The pattern within the typology (`NONE`: none named, or the typology itself).
    pattern: u32,
}

/// Labelled transactions: which scheme and typology each belongs to.
#[derive(Debug, Clone, Default)]
pub struct Labels {
    /// Where they came from (a path or `column NAME`).
    pub source: String,
    by_txn: HashMap<String, Label>,
    schemes: Vec<String>,
    typologies: Vec<String>,
    /// (typology, pattern) pairs named in a `pattern` column.
    patterns: Vec<(u32, String)>,
    /// Whether scheme ids are real (a labels file) or absent (a label column).
    has_schemes: bool,
}

impl Labels {
    /// Reads a labels file: CSV or Parquet with columns `txn_id`, `scheme_id`, `typology`
    /// and optionally `role` (`core` or `support`) and `pattern` (such as AMLworld's
    /// `scatter-gather` within FLW-06: reported apart); other columns are ignored.
    pub fn load(path: impl AsRef<Path>) -> Result<Labels> {
        let path = path.as_ref();
        if !path.exists() {
            return Err(Error::Input {
                path: path.to_path_buf(),
                message: "labels file not found".into(),
            });
        }
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        let df = match ext.as_str() {
            "parquet" | "pq" => {
                let f = std::fs::File::open(path).map_err(|source| Error::Io {
                    path: path.to_path_buf(),
                    action: "reading",
                    source,
                })?;
                ParquetReader::new(f)
                    .finish()
                    .ctx(|| format!("{}: reading the labels", path.display()))?
            }
            _ => CsvReadOptions::default()
                .with_has_header(true)
                .with_infer_schema_length(Some(0))
                .try_into_reader_with_file_path(Some(path.to_path_buf()))
                .and_then(|r| r.finish())
                .ctx(|| format!("{}: reading the labels as CSV", path.display()))?,
        };
        Labels::from_frame(&df, &path.display().to_string())
    }

    /// Labels from a frame with columns `txn_id`, `scheme_id`, `typology` and optionally
    /// `role`. `source` names it in errors.
    pub fn from_frame(df: &DataFrame, source: &str) -> Result<Labels> {
        let available: Vec<String> = df.get_column_names().iter().map(|c| c.to_string()).collect();
        let text = |name: &str| -> Result<Option<StringChunked>> {
            match df.column(name) {
                Ok(c) => Ok(Some(
                    c.cast(&DataType::String)
                        .and_then(|c| c.str().cloned())
                        .ctx(|| format!("{source}: reading column `{name}`"))?,
                )),
                Err(_) => Ok(None),
            }
        };
        let need = |name: &str| -> Result<StringChunked> {
            text(name)?.ok_or_else(|| Error::MissingColumn {
                path: source.into(),
                column: name.into(),
                available: available.clone(),
                hint: " (a labels file has txn_id,scheme_id,typology[,account,role])".into(),
            })
        };
        let txn = need("txn_id")?;
        let scheme = need("scheme_id")?;
        let typology = need("typology")?;
        let role = text("role")?;
        let pattern = text("pattern")?;
        let mut pattern_ix: HashMap<(u32, String), u32> = HashMap::new();
        let mut out = Labels {
            source: source.to_string(),
            has_schemes: true,
            ..Labels::default()
        };
        let mut scheme_ix: HashMap<String, u32> = HashMap::new();
        let mut typ_ix: HashMap<String, u32> = HashMap::new();
        for i in 0..df.height() {
            let line = i + 2;
            let bad = |what: &str| Error::Input {
                path: source.into(),
                message: format!("line {line}: empty `{what}`"),
            };
            let t = txn
                .get(i)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .ok_or_else(|| bad("txn_id"))?;
            let s = scheme
                .get(i)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .ok_or_else(|| bad("scheme_id"))?;
            let y = typology
                .get(i)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .ok_or_else(|| bad("typology"))?;
            let core = match role.as_ref().and_then(|r| r.get(i)).map(str::trim) {
                None | Some("") | Some("core") => true,
                Some("support") => false,
                Some(other) => {
                    return Err(Error::Input {
                        path: source.into(),
                        message: format!("line {line}: role `{other}`: write `core` or `support`"),
                    })
                }
            };
            let sx = *scheme_ix.entry(s.to_string()).or_insert_with(|| {
                out.schemes.push(s.to_string());
                (out.schemes.len() - 1) as u32
            });
            let yx = *typ_ix.entry(y.to_string()).or_insert_with(|| {
                out.typologies.push(y.to_string());
                (out.typologies.len() - 1) as u32
            });
            let px = match pattern.as_ref().and_then(|p| p.get(i)).map(str::trim) {
                Some(p) if !p.is_empty() && p != y => *pattern_ix.entry((yx, p.to_string())).or_insert_with(|| {
                    out.patterns.push((yx, p.to_string()));
                    (out.patterns.len() - 1) as u32
                }),
                _ => NONE,
            };
            let label = Label {
                scheme: sx,
                typology: yx,
                core,
                pattern: px,
            };
            if let Some(prev) = out.by_txn.insert(t.to_string(), label.clone()) {
                if prev != label {
                    return Err(Error::Input {
                        path: source.into(),
                        message: format!("line {line}: transaction `{t}` is labelled twice, differently"),
                    });
                }
            }
        }
        Ok(out)
    }

    /// Labels from the dataset's `label` column (kept by ingest when the mapping names
    /// one, as the `amlworld` preset does with `Is Laundering`): rows whose value is `1`,
    /// `true`, `yes`, `y` or `t` (any case), or a non-zero number, are laundering.
    /// `column` names the source column in the result and in errors.
    pub fn from_column(data: &Dataset, column: &str) -> Result<Labels> {
        let df = &data.transactions;
        let c = df.column(crate::schema::LABEL).map_err(|_| Error::Input {
            path: data.inputs.first().map(|i| i.path.clone()).unwrap_or_default().into(),
            message: format!("no label column `{column}` in the input"),
        })?;
        let vals = c
            .cast(&DataType::String)
            .and_then(|c| c.str().cloned())
            .ctx(|| format!("reading the label column `{column}`"))?;
        let ids = df
            .column("txn_id")
            .and_then(|c| c.str().cloned())
            .ctx(|| "reading column `txn_id`".into())?;
        let mut out = Labels {
            source: format!("column {column}"),
            typologies: vec![column.to_string()],
            has_schemes: false,
            ..Labels::default()
        };
        for (i, v) in vals.iter().enumerate() {
            if v.is_some_and(truthy) {
                if let Some(t) = ids.get(i) {
                    out.by_txn.insert(
                        t.to_string(),
                        Label {
                            scheme: NONE,
                            typology: 0,
                            core: true,
                            pattern: NONE,
                        },
                    );
                }
            }
        }
        Ok(out)
    }

    /// Number of labelled transactions.
    pub fn len(&self) -> usize {
        self.by_txn.len()
    }

    /// Whether no transaction is labelled.
    pub fn is_empty(&self) -> bool {
        self.by_txn.is_empty()
    }

    /// The typologies named, in order of first appearance.
    pub fn typologies(&self) -> &[String] {
        &self.typologies
    }
}

fn truthy(v: &str) -> bool {
    let v = v.trim();
    if let Ok(x) = v.parse::<f64>() {
        return x != 0.0;
    }
    matches!(v.to_ascii_lowercase().as_str(), "true" | "yes" | "y" | "t")
}

/// The labels lined up with the dataset's rows.
struct Truth<'l> {
    labels: &'l Labels,
    /// Per row: the label, if any.
    row: Vec<Option<&'l Label>>,
    decoy: Option<u32>,
    /// Labelled transactions not in the data.
    missing: u64,
}

impl<'l> Truth<'l> {
    fn new(labels: &'l Labels, data: &Dataset) -> Result<Truth<'l>> {
        let ids = data
            .transactions
            .column("txn_id")
            .and_then(|c| c.str().cloned())
            .ctx(|| "reading column `txn_id`".into())?;
        let mut row = Vec::with_capacity(ids.len());
        let mut found = 0u64;
        for v in ids.iter() {
            let l = v.and_then(|t| labels.by_txn.get(t));
            found += u64::from(l.is_some());
            row.push(l);
        }
        let decoy = labels.typologies.iter().position(|t| t == DECOY).map(|p| p as u32);
        Ok(Truth {
            labels,
            row,
            decoy,
            missing: labels.by_txn.len() as u64 - found,
        })
    }

    fn is_hit(&self, r: u32) -> bool {
        self.row[r as usize].is_some_and(|l| Some(l.typology) != self.decoy)
    }

    fn is_decoy(&self, r: u32) -> bool {
        self.row[r as usize].is_some_and(|l| Some(l.typology) == self.decoy)
    }

    fn typology_of(&self, r: u32) -> Option<u32> {
        self.row[r as usize].map(|l| l.typology)
    }

    fn typology_ix(&self, name: &str) -> Option<u32> {
        self.labels.typologies.iter().position(|t| t == name).map(|p| p as u32)
    }
}

/// What one rule found, scored against the labels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleScore {
    /// The rule.
    pub rule_id: String,
    /// Alerts.
    pub alerts: u64,
    /// Distinct transactions in its alerts.
    pub flagged_txns: u64,
    /// Of those, transactions of non-decoy schemes.
    pub labelled_txns: u64,
    /// Of those, transactions of decoys.
    pub decoy_txns: u64,
    /// `labelled_txns / flagged_txns`; `None` when it flagged nothing.
    pub precision: Option<f64>,
    /// Alerts with at least one transaction of a non-decoy scheme.
    pub alerts_on_schemes: u64,
    /// `alerts_on_schemes / alerts`: precision counted in alerts, which an analyst
    /// reviews, rather than in transactions (a hub account's one long episode lists
    /// thousands of transactions).
    pub alert_precision: Option<f64>,
    /// Core transactions of the rule's typology (its id, or its id without a variant
    /// letter such as the C of VA-01C; 0: none planted).
    pub own_core_txns: u64,
    /// Of those, flagged by this rule.
    pub own_core_flagged: u64,
    /// `own_core_flagged / own_core_txns`; `None` when no transaction has its typology.
    pub recall: Option<f64>,
    /// Schemes of its typology (`None` without scheme ids).
    pub own_schemes: Option<u64>,
    /// Of those, with a transaction in one of its alerts.
    pub own_schemes_detected: Option<u64>,
    /// Flagged labelled transactions by typology (other typologies included).
    pub hits_by_typology: BTreeMap<String, u64>,
}

/// How well one typology was found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TypologyScore {
    /// The typology (a rule id, `decoy`, or the label column's name).
    pub typology: String,
    /// Schemes planted (`None` without scheme ids).
    pub schemes: Option<u64>,
    /// Core transactions.
    pub core_txns: u64,
    /// All its transactions (core and support).
    pub txns: u64,
    /// Core transactions flagged by any rule.
    pub core_flagged: u64,
    /// `core_flagged / core_txns`.
    pub recall: Option<f64>,
    /// Schemes with a transaction (any role) in any alert.
    pub schemes_detected: Option<u64>,
    /// The rules of the pack for the typology: the one whose id it is, and its variants
    /// with a letter suffix (VA-01C for VA-01); empty when the pack has none.
    pub own_rules: Vec<String>,
    /// Core transactions flagged by those rules.
    pub own_rule_core_flagged: Option<u64>,
    /// `own_rule_core_flagged / core_txns`.
    pub own_rule_recall: Option<f64>,
    /// Schemes with a transaction in an alert of those rules.
    pub own_rule_schemes_detected: Option<u64>,
    /// The precision of those rules together (their flagged transactions as one set).
    pub precision: Option<f64>,
    /// Rules that flagged any of its transactions, with how many.
    pub flagged_by: BTreeMap<String, u64>,
    /// The case ranking, a case positive when it holds a transaction (any role) of the
    /// typology (for `decoy`: the share of cases on look-alikes); `None` without cases.
    #[serde(default)]
    pub ranking: Option<Ranking>,
}

/// How well one named pattern within a typology was found (AMLworld's patterns, the
/// decoys' kinds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatternScore {
    /// The typology.
    pub typology: String,
    /// The pattern.
    pub pattern: String,
    /// Schemes planted.
    pub schemes: u64,
    /// Core transactions.
    pub core_txns: u64,
    /// Core transactions flagged by any rule.
    pub core_flagged: u64,
    /// `core_flagged / core_txns`.
    pub recall: Option<f64>,
    /// Schemes with a transaction (any role) in any alert.
    pub schemes_detected: u64,
    /// Core transactions flagged by the typology's own rules (`None`: the pack has none).
    pub own_rule_core_flagged: Option<u64>,
    /// `own_rule_core_flagged / core_txns`.
    pub own_rule_recall: Option<f64>,
    /// Schemes with a transaction in an alert of that rule.
    pub own_rule_schemes_detected: Option<u64>,
    /// The case ranking, a case positive when it holds a transaction (any role) of the
    /// pattern; `None` without cases.
    #[serde(default)]
    pub ranking: Option<Ranking>,
}

/// The whole evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// The pack id and version.
    pub pack: String,
    /// The score weights the cases were ranked with (`--weights`): the file, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights: Option<String>,
    /// Where the labels came from.
    pub labels: String,
    /// Transactions screened.
    pub rows: u64,
    /// Transactions of non-decoy schemes found in the data.
    pub labelled_txns: u64,
    /// Decoy transactions found in the data.
    pub decoy_txns: u64,
    /// Labelled transaction ids that are not in the data (quarantined or absent).
    pub labels_not_in_data: u64,
    /// Rules that could not run on this data, with the columns they lack.
    pub not_applicable: Vec<crate::model::NotApplicable>,
    /// All rules together, as one.
    pub overall: RuleScore,
    /// One line per rule that ran, in pack order.
    pub rules: Vec<RuleScore>,
    /// One line per labelled typology, decoys last.
    pub typologies: Vec<TypologyScore>,
    /// One line per named pattern (from a labels file's `pattern` column), in the order
    /// of the typologies.
    pub patterns: Vec<PatternScore>,
    /// How well the cases are ranked: precision at 10, 50 and 100 cases and average
    /// precision (see the module docs).
    #[serde(default)]
    pub ranking: Ranking,
}

/// The ranks at which [`Ranking::precision_at`] is measured.
pub const RANKING_KS: [u64; 3] = [10, 50, 100];

/// Precision among the first `k` cases.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrecisionAtK {
    /// The rank cut.
    pub k: u64,
    /// Cases among the first `k` (fewer than `k` when there are fewer cases).
    pub cases: u64,
    /// Of those, positive: holding a transaction of a non-decoy scheme.
    pub positive: u64,
    /// `positive / cases`; `None` when there is no case.
    pub precision: Option<f64>,
}

/// How well the case ranking puts the cases that hold labelled transactions first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Ranking {
    /// Cases.
    pub cases: u64,
    /// Cases holding a transaction of a non-decoy scheme.
    pub positive_cases: u64,
    /// Precision at each k of [`RANKING_KS`] (or of the ks asked of [`ranking_metrics`]).
    pub precision_at: Vec<PrecisionAtK>,
    /// Average precision over the ranking, `(1/P) Σ_{i positive} precision at i`;
    /// `None` when no case is positive.
    pub average_precision: Option<f64>,
}

/// The ranking figures of a ranking given as, for each case in rank order, whether it is
/// positive: precision at each of `ks` and average precision.
///
/// ```
/// use redflag::evaluate::ranking_metrics;
/// // Positives at ranks 1 and 3 of 4: AP = (1/1 + 2/3) / 2.
/// let r = ranking_metrics(&[true, false, true, false], &[2]);
/// assert_eq!(r.precision_at[0].precision, Some(0.5));
/// assert!((r.average_precision.unwrap() - 5.0 / 6.0).abs() < 1e-12);
/// ```
pub fn ranking_metrics(positive: &[bool], ks: &[u64]) -> Ranking {
    let mut hits = 0u64;
    let mut sum = 0.0;
    for (i, &p) in positive.iter().enumerate() {
        if p {
            hits += 1;
            sum += hits as f64 / (i + 1) as f64;
        }
    }
    let precision_at = ks
        .iter()
        .map(|&k| {
            let cases = k.min(positive.len() as u64);
            let pos = positive.iter().take(cases as usize).filter(|p| **p).count() as u64;
            PrecisionAtK {
                k,
                cases,
                positive: pos,
                precision: ratio(pos, cases),
            }
        })
        .collect();
    Ranking {
        cases: positive.len() as u64,
        positive_cases: hits,
        precision_at,
        average_precision: (hits > 0).then(|| sum / hits as f64),
    }
}

/// Each typology's and each pattern's ranking figures: the case ranking with a case
/// positive when it holds a transaction of that typology or pattern.
fn rank_by_label(truth: &Truth<'_>, cases: &[Case], typologies: &mut [TypologyScore], patterns: &mut [PatternScore]) {
    if cases.is_empty() {
        return;
    }
    // For each case, in rank order: the typologies and the patterns it holds.
    let held: Vec<(HashSet<u32>, HashSet<u32>)> = cases
        .iter()
        .map(|c| {
            let labels = c
                .alerts
                .iter()
                .flat_map(|a| a.rows.iter())
                .filter_map(|&r| truth.row[r as usize]);
            let mut out = (HashSet::new(), HashSet::new());
            for l in labels {
                out.0.insert(l.typology);
                if l.pattern != NONE {
                    out.1.insert(l.pattern);
                }
            }
            out
        })
        .collect();
    for t in typologies.iter_mut() {
        if let Some(y) = truth.typology_ix(&t.typology) {
            let positive: Vec<bool> = held.iter().map(|h| h.0.contains(&y)).collect();
            t.ranking = Some(ranking_metrics(&positive, &RANKING_KS));
        }
    }
    let labels = truth.labels;
    for p in patterns.iter_mut() {
        let ix = labels
            .patterns
            .iter()
            .position(|(y, name)| labels.typologies[*y as usize] == p.typology && *name == p.pattern);
        if let Some(ix) = ix {
            let positive: Vec<bool> = held.iter().map(|h| h.1.contains(&(ix as u32))).collect();
            p.ranking = Some(ranking_metrics(&positive, &RANKING_KS));
        }
    }
}

/// Whether a case is positive: one of its alerts holds a transaction of a non-decoy
/// scheme (with a label column, a true row).
fn is_positive(truth: &Truth<'_>, case: &Case) -> bool {
    case.alerts.iter().any(|a| a.rows.iter().any(|&r| truth.is_hit(r)))
}

/// The ranking figures of `cases` (in rank order) against the labels.
fn rank_score(truth: &Truth<'_>, cases: &[Case]) -> Ranking {
    let positive: Vec<bool> = cases.iter().map(|c| is_positive(truth, c)).collect();
    ranking_metrics(&positive, &RANKING_KS)
}

/// What the labels say of one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseOutcome {
    /// Positive as the case ranking counts it: the case holds a transaction of a
    /// non-decoy scheme (with a label column, a true row).
    pub positive: bool,
    /// The scheme ids of the labelled transactions its alerts hold, decoys included,
    /// sorted (none with a label column).
    pub schemes: Vec<String>,
}

/// Each case's outcome against the labels, in the order of `cases`.
pub fn case_outcomes(data: &Dataset, labels: &Labels, cases: &[Case]) -> Result<Vec<CaseOutcome>> {
    let truth = Truth::new(labels, data)?;
    Ok(cases
        .iter()
        .map(|c| {
            let schemes: std::collections::BTreeSet<&str> = c
                .alerts
                .iter()
                .flat_map(|a| a.rows.iter())
                .filter_map(|&r| truth.row[r as usize])
                .filter(|l| l.scheme != NONE)
                .map(|l| labels.schemes[l.scheme as usize].as_str())
                .collect();
            CaseOutcome {
                positive: is_positive(&truth, c),
                schemes: schemes.into_iter().map(str::to_string).collect(),
            }
        })
        .collect())
}

/// The typology a rule id belongs to: the id itself, or the id without a variant letter
/// suffix (`VA-01C` and `DRG-01P` are forms of VA-01 and DRG-01).
///
/// ```
/// use redflag::evaluate::typology_of_rule;
/// assert_eq!(typology_of_rule("VA-01C"), "VA-01");
/// assert_eq!(typology_of_rule("DRG-01P"), "DRG-01");
/// assert_eq!(typology_of_rule("TBML-01"), "TBML-01");
/// assert_eq!(typology_of_rule("B-X"), "B-X");
/// ```
pub fn typology_of_rule(rule_id: &str) -> &str {
    let base = rule_id.trim_end_matches(|c: char| c.is_ascii_uppercase());
    if base.len() < rule_id.len() && base.ends_with(|c: char| c.is_ascii_digit()) {
        base
    } else {
        rule_id
    }
}

fn ratio(a: u64, b: u64) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

/// What one rule (or every rule) flagged.
#[derive(Default)]
struct Flagged {
    rule_id: String,
    alerts: u64,
    /// Alerts with a transaction of a non-decoy scheme.
    alerts_on_schemes: u64,
    rows: HashSet<u32>,
}

/// Rows flagged per rule, from a run, and by any rule.
fn flagged_rows(run: &RuleRun, truth: &Truth<'_>) -> (Vec<Flagged>, Flagged) {
    let mut per: Vec<Flagged> = run
        .rules_run
        .iter()
        .map(|r| Flagged {
            rule_id: r.clone(),
            ..Flagged::default()
        })
        .collect();
    let pos: HashMap<&str, usize> = run.rules_run.iter().enumerate().map(|(i, r)| (r.as_str(), i)).collect();
    let mut any = Flagged {
        rule_id: "all rules".into(),
        ..Flagged::default()
    };
    for a in &run.alerts {
        let Some(&i) = pos.get(a.rule_id.as_str()) else {
            continue;
        };
        let on_scheme = u64::from(a.rows.iter().any(|&r| truth.is_hit(r)));
        for f in [&mut per[i], &mut any] {
            f.alerts += 1;
            f.alerts_on_schemes += on_scheme;
            f.rows.extend(a.rows.iter().copied());
        }
    }
    (per, any)
}

/// Per typology: its core rows, all its rows, and its schemes.
struct TypologyRows {
    core: Vec<Vec<u32>>,
    all: Vec<Vec<u32>>,
    schemes: Vec<HashSet<u32>>,
    /// The same, per named pattern.
    pattern_core: Vec<Vec<u32>>,
    pattern_all: Vec<Vec<u32>>,
    pattern_schemes: Vec<HashSet<u32>>,
}

fn typology_rows(truth: &Truth<'_>) -> TypologyRows {
    let n = truth.labels.typologies.len();
    let m = truth.labels.patterns.len();
    let mut t = TypologyRows {
        core: vec![Vec::new(); n],
        all: vec![Vec::new(); n],
        schemes: vec![HashSet::new(); n],
        pattern_core: vec![Vec::new(); m],
        pattern_all: vec![Vec::new(); m],
        pattern_schemes: vec![HashSet::new(); m],
    };
    for (r, l) in truth.row.iter().enumerate() {
        if let Some(l) = l {
            let y = l.typology as usize;
            t.all[y].push(r as u32);
            if l.core {
                t.core[y].push(r as u32);
            }
            if l.scheme != NONE {
                t.schemes[y].insert(l.scheme);
            }
            if l.pattern != NONE {
                let p = l.pattern as usize;
                t.pattern_all[p].push(r as u32);
                if l.core {
                    t.pattern_core[p].push(r as u32);
                }
                if l.scheme != NONE {
                    t.pattern_schemes[p].insert(l.scheme);
                }
            }
        }
    }
    t
}

fn schemes_hit(truth: &Truth<'_>, rows: &[u32], flagged: &HashSet<u32>) -> u64 {
    let hit: HashSet<u32> = rows
        .iter()
        .filter(|r| flagged.contains(r))
        .filter_map(|r| truth.row[*r as usize].map(|l| l.scheme))
        .collect();
    hit.len() as u64
}

fn score_rule(truth: &Truth<'_>, trows: &TypologyRows, target: Option<u32>, f: &Flagged) -> RuleScore {
    let flagged = &f.rows;
    let mut hits_by_typology = BTreeMap::new();
    let (mut labelled, mut decoy) = (0u64, 0u64);
    for &r in flagged {
        if truth.is_hit(r) {
            labelled += 1;
        } else if truth.is_decoy(r) {
            decoy += 1;
        }
        if let Some(y) = truth.typology_of(r) {
            *hits_by_typology
                .entry(truth.labels.typologies[y as usize].clone())
                .or_insert(0) += 1;
        }
    }
    let has_schemes = truth.labels.has_schemes;
    let (own_core, own_flagged, own_schemes, own_detected) = match target {
        Some(y) => {
            let core = &trows.core[y as usize];
            let f = core.iter().filter(|r| flagged.contains(r)).count() as u64;
            let s = trows.schemes[y as usize].len() as u64;
            let d = schemes_hit(truth, &trows.all[y as usize], flagged);
            (core.len() as u64, f, s, d)
        }
        None => (0, 0, 0, 0),
    };
    RuleScore {
        rule_id: f.rule_id.clone(),
        alerts: f.alerts,
        flagged_txns: flagged.len() as u64,
        labelled_txns: labelled,
        decoy_txns: decoy,
        precision: ratio(labelled, flagged.len() as u64),
        alerts_on_schemes: f.alerts_on_schemes,
        alert_precision: ratio(f.alerts_on_schemes, f.alerts),
        own_core_txns: own_core,
        own_core_flagged: own_flagged,
        recall: ratio(own_flagged, own_core),
        own_schemes: has_schemes.then_some(own_schemes),
        own_schemes_detected: has_schemes.then_some(own_detected),
        hits_by_typology,
    }
}

/// Every non-decoy core transaction as one target: its count, how many `flagged` holds,
/// and (with scheme ids) the schemes and those detected.
fn all_labelled(truth: &Truth<'_>, trows: &TypologyRows, flagged: &HashSet<u32>, s: &mut RuleScore) {
    let keep = |y: &usize| Some(*y as u32) != truth.decoy;
    let (mut all, mut hit) = (0u64, 0u64);
    for (_, rows) in trows.core.iter().enumerate().filter(|(y, _)| keep(y)) {
        all += rows.len() as u64;
        hit += rows.iter().filter(|r| flagged.contains(r)).count() as u64;
    }
    s.own_core_txns = all;
    s.own_core_flagged = hit;
    s.recall = ratio(hit, all);
    if truth.labels.has_schemes {
        let ys: Vec<usize> = (0..trows.all.len()).filter(keep).collect();
        s.own_schemes = Some(ys.iter().map(|&y| trows.schemes[y].len() as u64).sum());
        s.own_schemes_detected = Some(ys.iter().map(|&y| schemes_hit(truth, &trows.all[y], flagged)).sum());
    }
}

fn label_txn_count(truth: &Truth<'_>) -> (u64, u64) {
    let mut hit = 0;
    let mut decoy = 0;
    for r in 0..truth.row.len() as u32 {
        hit += u64::from(truth.is_hit(r));
        decoy += u64::from(truth.is_decoy(r));
    }
    (hit, decoy)
}

/// Scores a finished run, and the cases built from it, against the labels.
fn score(pack: &Pack, data: &Dataset, labels: &Labels, run: &RuleRun, cases: &[Case]) -> Result<Evaluation> {
    let truth = Truth::new(labels, data)?;
    let trows = typology_rows(&truth);
    let (per, any) = flagged_rows(run, &truth);
    let mut rules = Vec::with_capacity(per.len());
    for f in &per {
        rules.push(score_rule(
            &truth,
            &trows,
            truth.typology_ix(typology_of_rule(&f.rule_id)),
            f,
        ));
    }
    // Each typology's own rules, their flagged rows as one set.
    let own_of = |name: &str| -> Option<Flagged> {
        let mine: Vec<&Flagged> = per.iter().filter(|f| typology_of_rule(&f.rule_id) == name).collect();
        if mine.is_empty() {
            return None;
        }
        let mut u = Flagged {
            rule_id: mine.iter().map(|f| f.rule_id.as_str()).collect::<Vec<_>>().join("+"),
            ..Flagged::default()
        };
        for f in mine {
            u.alerts += f.alerts;
            u.alerts_on_schemes += f.alerts_on_schemes;
            u.rows.extend(f.rows.iter().copied());
        }
        Some(u)
    };
    // Overall: every rule as one; its recall covers every non-decoy core transaction.
    let mut overall = score_rule(&truth, &trows, None, &any);
    all_labelled(&truth, &trows, &any.rows, &mut overall);
    let any = any.rows;

    let mut order: Vec<usize> = (0..labels.typologies.len()).collect();
    order.sort_by(|a, b| {
        let key = |i: usize| (Some(i as u32) == truth.decoy, labels.typologies[i].clone());
        key(*a).cmp(&key(*b))
    });
    let mut typologies = Vec::with_capacity(order.len());
    for y in order {
        let name = &labels.typologies[y];
        let core = &trows.core[y];
        let all = &trows.all[y];
        let core_hit = core.iter().filter(|r| any.contains(r)).count() as u64;
        let mut flagged_by = BTreeMap::new();
        for f in &per {
            let n = all.iter().filter(|r| f.rows.contains(r)).count() as u64;
            if n > 0 {
                flagged_by.insert(f.rule_id.clone(), n);
            }
        }
        let own = own_of(name);
        let own_score = own.as_ref().map(|f| score_rule(&truth, &trows, Some(y as u32), f));
        let has = labels.has_schemes;
        let is_decoy = Some(y as u32) == truth.decoy;
        typologies.push(TypologyScore {
            typology: name.clone(),
            schemes: has.then_some(trows.schemes[y].len() as u64),
            core_txns: core.len() as u64,
            txns: all.len() as u64,
            core_flagged: core_hit,
            recall: ratio(core_hit, core.len() as u64),
            schemes_detected: has.then(|| schemes_hit(&truth, all, &any)),
            own_rules: per
                .iter()
                .filter(|f| typology_of_rule(&f.rule_id) == name)
                .map(|f| f.rule_id.clone())
                .collect(),
            own_rule_core_flagged: own_score.as_ref().map(|s| s.own_core_flagged),
            own_rule_recall: own_score.as_ref().and_then(|s| s.recall),
            own_rule_schemes_detected: own_score.as_ref().and_then(|s| s.own_schemes_detected),
            precision: if is_decoy {
                None
            } else {
                own_score.as_ref().and_then(|s| s.precision)
            },
            flagged_by,
            ranking: None,
        });
    }
    let mut patterns = Vec::with_capacity(labels.patterns.len());
    for (p, (y, name)) in labels.patterns.iter().enumerate() {
        let typology = &labels.typologies[*y as usize];
        let core = &trows.pattern_core[p];
        let all = &trows.pattern_all[p];
        let core_hit = core.iter().filter(|r| any.contains(r)).count() as u64;
        let own = own_of(typology);
        let own = own.as_ref();
        let own_hit = own.map(|f| core.iter().filter(|r| f.rows.contains(r)).count() as u64);
        patterns.push(PatternScore {
            typology: typology.clone(),
            pattern: name.clone(),
            schemes: trows.pattern_schemes[p].len() as u64,
            core_txns: core.len() as u64,
            core_flagged: core_hit,
            recall: ratio(core_hit, core.len() as u64),
            schemes_detected: schemes_hit(&truth, all, &any),
            own_rule_core_flagged: own_hit,
            own_rule_recall: own_hit.and_then(|h| ratio(h, core.len() as u64)),
            own_rule_schemes_detected: own.map(|f| schemes_hit(&truth, all, &f.rows)),
            ranking: None,
        });
    }
    let rank: HashMap<&str, usize> = typologies
        .iter()
        .enumerate()
        .map(|(i, t)| (t.typology.as_str(), i))
        .collect();
    patterns.sort_by(|a, b| {
        let key = |p: &PatternScore| (rank.get(p.typology.as_str()).copied(), p.pattern.clone());
        key(a).cmp(&key(b))
    });
    rank_by_label(&truth, cases, &mut typologies, &mut patterns);
    let (labelled_txns, decoy_txns) = label_txn_count(&truth);
    Ok(Evaluation {
        pack: format!("{} {}", pack.id, pack.version),
        weights: pack.weights.as_ref().map(|w| w.source.clone()),
        labels: labels.source.clone(),
        rows: data.transactions.height() as u64,
        labelled_txns,
        decoy_txns,
        labels_not_in_data: truth.missing,
        not_applicable: run.not_applicable.clone(),
        overall,
        rules,
        typologies,
        patterns,
        ranking: rank_score(&truth, cases),
    })
}

/// Runs every rule of the pack over the data and scores what fired against the labels.
pub fn evaluate(pack: &Pack, data: &Dataset, labels: &Labels) -> Result<Evaluation> {
    let prep = Prepared::new(data)?;
    let run = crate::run::run(pack, &prep, &|_, _, _| {}, &crate::util::cancel::Cancel::new())?;
    drop(prep);
    let cases = crate::cases::build(run.alerts.clone(), &data.transactions, pack)?;
    score(pack, data, labels, &run, &cases)
}

/// A parameter range to sweep: `RULE.PARAM=START..END:STEP`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sweep {
    /// The rule swept.
    pub rule: String,
    /// Its parameter (a rule parameter or a pack parameter in force for the rule).
    pub param: String,
    /// The values, in order.
    pub values: Vec<f64>,
}

/// At most this many values in one sweep.
pub const MAX_SWEEP_VALUES: usize = 1_000;

impl std::str::FromStr for Sweep {
    type Err = Error;
    fn from_str(s: &str) -> Result<Sweep> {
        let bad = |m: &str| Error::Override {
            what: "parameter sweep",
            value: s.to_string(),
            message: m.to_string(),
        };
        let form = "write RULE.PARAM=START..END:STEP, such as STR-01.min_deposits_7d=2..5:1";
        let (key, range) = s.split_once('=').ok_or_else(|| bad(form))?;
        let (rule, param) = key.trim().rsplit_once('.').ok_or_else(|| bad(form))?;
        if rule.is_empty() || param.is_empty() {
            return Err(bad(form));
        }
        let (span, step) = range.split_once(':').ok_or_else(|| bad(form))?;
        let (start, end) = span.split_once("..").ok_or_else(|| bad(form))?;
        let num = |t: &str, what: &str| -> Result<f64> {
            t.trim()
                .replace('_', "")
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| bad(&format!("{what} `{}` is not a number; {form}", t.trim())))
        };
        let (start, end, step) = (num(start, "START")?, num(end, "END")?, num(step, "STEP")?);
        if step <= 0.0 {
            return Err(bad("STEP must be greater than 0"));
        }
        if end < start {
            return Err(bad("END must not be less than START"));
        }
        let count = ((end - start) / step + 1e-9).floor() as usize + 1;
        if count > MAX_SWEEP_VALUES {
            return Err(bad(&format!(
                "{count} values; a sweep takes at most {MAX_SWEEP_VALUES}: raise STEP"
            )));
        }
        // Values from an integer count of steps, rounded to the step's decimals, so that
        // 0.1 steps do not drift.
        let decimals = [start, step]
            .iter()
            .map(|x| {
                let t = format!("{x}");
                t.split_once('.').map_or(0, |(_, f)| f.len())
            })
            .max()
            .unwrap_or(0) as i32;
        let scale = 10f64.powi(decimals);
        let values = (0..count)
            .map(|i| ((start + step * i as f64) * scale).round() / scale)
            .collect();
        Ok(Sweep {
            rule: rule.to_string(),
            param: param.to_string(),
            values,
        })
    }
}

/// One value of a sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepPoint {
    /// The parameter's value.
    pub value: f64,
    /// The rule's score at that value (recall: of its own typology, see [`SweepResult`]).
    pub score: RuleScore,
}

/// A sweep's results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepResult {
    /// The rule swept (its id).
    pub rule: String,
    /// The parameter.
    pub param: String,
    /// Its value in the pack.
    pub default: Option<f64>,
    /// What recall is measured on: the rule's typology (its id, or its id without a
    /// variant letter) when the labels have it, otherwise every non-decoy labelled
    /// transaction (`all labelled`).
    pub recall_of: String,
    /// How many times the rule ran: values that leave the compiled rule unchanged share
    /// a run (1 when the parameter changes nothing the rule computes).
    pub runs: u64,
    /// One point per value.
    pub points: Vec<SweepPoint>,
}

/// Runs one rule over a range of one parameter's values. The data is ingested and
/// prepared once (accounts encoded, the side views sorted) and the labels lined up once;
/// each value re-runs only the swept rule on that shared preparation, and a value that
/// leaves the compiled rule as an earlier one left it reuses that run.
pub fn sweep(
    pack: &Pack,
    data: &Dataset,
    labels: &Labels,
    spec: &Sweep,
    progress: &dyn Fn(usize, usize),
) -> Result<SweepResult> {
    let rule = pack.rule(&spec.rule).ok_or_else(|| Error::Override {
        what: "parameter sweep",
        value: spec.rule.clone(),
        message: format!(
            "no rule `{}` in pack {}{}",
            spec.rule,
            pack.id,
            crate::error::did_you_mean(&spec.rule, pack.rules.iter().map(|r| r.id()))
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default()
        ),
    })?;
    let rule_id = rule.id().to_string();
    let default = match rule.params.get(&spec.param) {
        Some(ParamValue::Number(n)) => Some(*n),
        Some(other) => {
            return Err(Error::Override {
                what: "parameter sweep",
                value: format!("{rule_id}.{}", spec.param),
                message: format!("the parameter is `{}`, not a number", other.display()),
            })
        }
        None => None,
    };
    let only = pack.only(std::slice::from_ref(&rule_id))?;
    let prep = Prepared::new(data)?;
    let truth = Truth::new(labels, data)?;
    let trows = typology_rows(&truth);
    let own = truth.typology_ix(typology_of_rule(&rule_id));
    let recall_of = match own {
        Some(_) => typology_of_rule(&rule_id).to_string(),
        None => "all labelled".to_string(),
    };
    let mut points = Vec::with_capacity(spec.values.len());
    // Runs by the rule as compiled, parameters left out: a value that does not change
    // what the rule computes (a parameter read only by `explain`, or one the rule does not
    // read) reuses the run of an earlier value.
    let mut runs: Vec<(Rule, RuleScore)> = Vec::new();
    for (i, v) in spec.values.iter().enumerate() {
        let set = ParamOverride {
            rule: Some(rule_id.clone()),
            name: spec.param.clone(),
            value: ParamValue::Number(*v),
        };
        let p = only.with_overrides(&[set], &[])?;
        let mut compiled = p.rules.first().cloned().ok_or_else(|| Error::Rule {
            rule_id: rule_id.clone(),
            message: "the rule is not in the pack after the override".into(),
        })?;
        compiled.params.clear();
        if let Some((_, s)) = runs.iter().find(|(r, _)| *r == compiled) {
            points.push(SweepPoint {
                value: *v,
                score: s.clone(),
            });
            progress(i + 1, spec.values.len());
            continue;
        }
        let run = crate::run::run(&p, &prep, &|_, _, _| {}, &crate::util::cancel::Cancel::new())?;
        if let Some(na) = run.not_applicable.first() {
            return Err(Error::Rule {
                rule_id: na.rule_id.clone(),
                message: format!(
                    "not applicable to this data: it needs {}",
                    na.missing_columns.join(", ")
                ),
            });
        }
        let (mut per, _) = flagged_rows(&run, &truth);
        let f = per.pop().unwrap_or_else(|| Flagged {
            rule_id: rule_id.clone(),
            ..Flagged::default()
        });
        let mut s = score_rule(&truth, &trows, own, &f);
        if own.is_none() {
            all_labelled(&truth, &trows, &f.rows, &mut s);
        }
        runs.push((compiled, s.clone()));
        points.push(SweepPoint { value: *v, score: s });
        progress(i + 1, spec.values.len());
    }
    Ok(SweepResult {
        rule: rule_id,
        param: spec.param.clone(),
        default,
        recall_of,
        runs: runs.len() as u64,
        points,
    })
}
