//! `redflag generate` and `redflag evaluate`: synthetic data with planted schemes, and a
//! pack's precision and recall against labels. Parsing and printing only: the generator
//! is `redflag-synth`, the scoring `redflag::evaluate`.

use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;
use redflag::evaluate::{Evaluation, Labels, Ranking, RuleScore, Sweep, SweepResult};
use redflag::RunSpec;

use crate::CliError;

#[derive(Args)]
pub struct GenerateArgs {
    /// Transactions file to write: .csv or .parquet, in the canonical layout.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Labels file to write (.csv or .parquet): txn_id,scheme_id,typology,account,role,pattern.
    #[arg(long, value_name = "FILE")]
    labels: Option<PathBuf>,
    /// Seed: the same seed and options give the same bytes.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Number of transactions, planted ones included.
    #[arg(long, default_value_t = 100_000, value_name = "N")]
    rows: usize,
    /// Number of customer accounts.
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    accounts: usize,
    /// Length of the period in days.
    #[arg(long, default_value_t = 180, value_name = "N")]
    days: u32,
    /// First day of the period.
    #[arg(long, default_value = "2025-01-01", value_name = "YYYY-MM-DD")]
    start: String,
    /// Share of the accounts that are subjects of planted schemes (at least one of each); with
    /// `--profile realistic`, laundering patterns per account.
    #[arg(long, default_value_t = 0.01, value_name = "X")]
    fraction: f64,
    /// Plant only these typologies (comma-separated rule ids, AMLworld pattern names or
    /// `decoy`); default: all. `--typologies none` plants nothing.
    #[arg(long, value_delimiter = ',', value_name = "ID,...")]
    typologies: Vec<String>,
    /// What to plant: `easy` (one scheme for each rule of the catalogue, with a few decoys)
    /// or `realistic` (the AMLworld shapes among ordinary look-alikes of the same shapes).
    #[arg(long, default_value = "easy", value_name = "NAME")]
    profile: String,
    /// Print nothing but errors.
    #[arg(long, short)]
    quiet: bool,
}

pub fn generate(args: GenerateArgs, stdout: &mut impl Write) -> Result<ExitCode, CliError> {
    let start = chrono::NaiveDate::parse_from_str(&args.start, "%Y-%m-%d")
        .map_err(|_| CliError::Usage(format!("--start `{}`: write a date as YYYY-MM-DD", args.start)))?;
    for p in std::iter::once(&args.out).chain(args.labels.as_ref()) {
        if redflag_synth::Format::from_path(p).is_none() {
            return Err(CliError::Usage(format!(
                "{}: use a .csv or .parquet file name",
                p.display()
            )));
        }
    }
    let none = args.typologies.iter().any(|t| t.eq_ignore_ascii_case("none"));
    let profile: redflag_synth::Profile = args
        .profile
        .parse()
        .map_err(|e: redflag_synth::SynthError| CliError::Usage(format!("--profile: {e}")))?;
    let cfg = redflag_synth::SynthConfig {
        seed: args.seed,
        transactions: args.rows,
        accounts: args.accounts,
        days: args.days,
        start,
        plant: !none,
        fraction: args.fraction,
        typologies: if none { Vec::new() } else { args.typologies.clone() },
        profile,
    };
    let t0 = Instant::now();
    let mut data = redflag_synth::generate(&cfg).map_err(synth_err)?;
    redflag_synth::write(&mut data.transactions, &args.out).map_err(synth_err)?;
    if let Some(l) = &args.labels {
        redflag_synth::write(&mut data.labels, l).map_err(synth_err)?;
    }
    if !args.quiet {
        let schemes = data.labels.column("scheme_id").and_then(|c| c.n_unique()).unwrap_or(0);
        writeln!(
            stdout,
            "{} transactions ({} planted in {} schemes) written to {}{} in {:.1} s",
            data.transactions.height(),
            data.labels.height(),
            schemes,
            args.out.display(),
            args.labels
                .as_ref()
                .map(|l| format!(", labels to {}", l.display()))
                .unwrap_or_default(),
            t0.elapsed().as_secs_f64()
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

fn synth_err(e: redflag_synth::SynthError) -> CliError {
    let mut m = format!("generate: {e}");
    let mut src = std::error::Error::source(&e);
    while let Some(s) = src {
        m.push_str(&format!("\n  caused by: {s}"));
        src = s.source();
    }
    CliError::Usage(m)
}

/// The labelled data `evaluate` and `tune` read, and how: inputs, labels, pack, mapping.
#[derive(Args)]
pub struct LabelledData {
    /// Input files (CSV, Parquet, NDJSON) or glob patterns.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Labels file (CSV or Parquet): txn_id,scheme_id,typology[,account,role,pattern], as `redflag generate`
    /// writes it.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with = "label_column",
        required_unless_present = "label_column"
    )]
    labels: Option<PathBuf>,
    /// A column of the input that is true (1, true, yes) for laundering rows, such as AMLworld's `Is Laundering`
    /// (no schemes: `tune` then splits by case).
    #[arg(long, value_name = "NAME")]
    label_column: Option<String>,
    /// A rule pack; default: the built-in fatf-core pack.
    #[arg(long = "rules", value_name = "PACK")]
    rules: Option<PathBuf>,
    #[command(flatten)]
    layout: crate::LayoutArgs,
    /// Override a parameter: NAME=VALUE or RULE.NAME=VALUE.
    #[arg(long = "set", value_name = "NAME=VALUE")]
    set: Vec<String>,
    /// Bind or replace a reference list: NAME=PATH.
    #[arg(long = "list", value_name = "NAME=PATH")]
    list: Vec<String>,
    /// Run only these rules (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "ID,...")]
    only: Vec<String>,
}

impl LabelledData {
    /// Reads the pack (with `weights` laid over it), the labels and the inputs, with a
    /// spinner on a terminal unless `quiet`; the spinner is returned still turning.
    pub fn read(
        &self,
        weights: Option<PathBuf>,
        quiet: bool,
    ) -> Result<(redflag::Pack, redflag::Dataset, Labels, Option<indicatif::ProgressBar>), CliError> {
        let spec = RunSpec {
            packs: self.rules.iter().cloned().collect(),
            sets: self.set.clone(),
            lists: crate::list_bindings(&self.list)?,
            only: self.only.clone(),
            preset: self.layout.preset.clone(),
            mapping: self.layout.mapping.clone(),
            fx: self.layout.fx.clone(),
            threads: None,
            weights,
        };
        let pack = spec.pack()?;
        // Read the labels first: a bad labels file fails before the data is read.
        let file_labels = self.labels.as_ref().map(Labels::load).transpose()?;
        let mut opts = spec.ingest_options(&pack)?;
        if let (Some(c), Some(m)) = (&self.label_column, opts.mapping.as_mut()) {
            m.label = Some(c.clone());
        }
        let show = !quiet && std::io::stderr().is_terminal();
        let spinner = show.then(|| {
            let pb = indicatif::ProgressBar::new_spinner();
            pb.set_message("reading inputs");
            pb.enable_steady_tick(std::time::Duration::from_millis(120));
            pb
        });
        let data = redflag::ingest(&self.inputs, &opts)?;
        let labels = match (file_labels, &self.label_column) {
            (Some(l), _) => l,
            (None, Some(c)) => Labels::from_column(&data, c)?,
            (None, None) => return Err(CliError::Usage("give --labels FILE or --label-column NAME".into())),
        };
        Ok((pack, data, labels, spinner))
    }
}

#[derive(Args)]
pub struct EvaluateArgs {
    #[command(flatten)]
    data: LabelledData,
    /// Score weights laid over the pack (YAML, as `redflag tune` writes them): the case
    /// ranking is measured with them.
    #[arg(long, value_name = "FILE")]
    weights: Option<PathBuf>,
    /// Re-run one rule over a range of one parameter: RULE.PARAM=START..END:STEP.
    #[arg(long, value_name = "RULE.PARAM=START..END:STEP")]
    sweep: Option<String>,
    /// Write the results as JSON to this file.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Print nothing but errors.
    #[arg(long, short)]
    quiet: bool,
}

pub fn evaluate(args: EvaluateArgs, stdout: &mut impl Write) -> Result<ExitCode, CliError> {
    let sweep: Option<Sweep> = args.sweep.as_deref().map(str::parse).transpose()?;
    let (pack, data, labels, spinner) = args.data.read(args.weights.clone(), args.quiet)?;
    if let Some(pb) = &spinner {
        pb.set_message(if sweep.is_some() { "sweeping" } else { "screening" });
    }
    let json = match &sweep {
        Some(spec) => {
            let progress = |done: usize, total: usize| {
                if let Some(pb) = &spinner {
                    pb.set_message(format!("sweeping: {done}/{total} values"));
                }
            };
            let res = redflag::evaluate::sweep(&pack, &data, &labels, spec, &progress)?;
            if let Some(pb) = &spinner {
                pb.finish_and_clear();
            }
            if !args.quiet {
                write!(stdout, "{}", render_sweep(&res))?;
            }
            to_json(&res)?
        }
        None => {
            let ev = redflag::evaluate::evaluate(&pack, &data, &labels)?;
            if let Some(pb) = &spinner {
                pb.finish_and_clear();
            }
            if !args.quiet {
                write!(stdout, "{}", render_evaluation(&ev))?;
            }
            to_json(&ev)?
        }
    };
    if let Some(out) = &args.out {
        let dir = out
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), PathBuf::from);
        let name = out
            .file_name()
            .ok_or_else(|| CliError::Usage(format!("--out {}: give a file name", out.display())))?
            .to_string_lossy()
            .to_string();
        redflag::write_files(&dir, &[(name, json)], &[])?;
    }
    Ok(ExitCode::SUCCESS)
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<Vec<u8>, CliError> {
    let mut out = serde_json::to_vec_pretty(v).map_err(|e| CliError::Usage(format!("serialising the results: {e}")))?;
    out.push(b'\n');
    Ok(out)
}

fn pct(x: Option<f64>) -> String {
    x.map_or_else(|| "-".into(), |v| format!("{:.1}%", v * 100.0))
}

fn opt(x: Option<u64>) -> String {
    x.map_or_else(|| "-".into(), |v| v.to_string())
}

fn of(a: Option<u64>, b: Option<u64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) => format!("{a}/{b}"),
        _ => "-".into(),
    }
}

fn rule_line(o: &mut String, r: &RuleScore) {
    let _ = writeln!(
        o,
        "{:<10} {:>7} {:>8} {:>8} {:>6} {:>9} {:>9} {:>9} {:>8}",
        r.rule_id,
        r.alerts,
        r.flagged_txns,
        r.labelled_txns,
        r.decoy_txns,
        pct(r.precision),
        pct(r.alert_precision),
        pct(r.recall),
        of(r.own_schemes_detected, r.own_schemes),
    );
}

/// The evaluation as terminal tables.
pub fn render_evaluation(ev: &Evaluation) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "pack {}{}; labels {}: {} rows, {} labelled transactions, {} decoy transactions{}",
        ev.pack,
        ev.weights
            .as_ref()
            .map(|w| format!(" with score weights {}", crate::term::clean(w)))
            .unwrap_or_default(),
        ev.labels,
        ev.rows,
        ev.labelled_txns,
        ev.decoy_txns,
        if ev.labels_not_in_data > 0 {
            format!(", {} labelled ids not in the data", ev.labels_not_in_data)
        } else {
            String::new()
        }
    );
    for na in &ev.not_applicable {
        let _ = writeln!(o, "not applicable: {}", crate::render::not_applicable_text(na));
    }
    let _ = writeln!(
        o,
        "\nper rule (precision: of flagged transactions, and of alerts; recall and schemes: of the rule's typology)"
    );
    let _ = writeln!(
        o,
        "{:<10} {:>7} {:>8} {:>8} {:>6} {:>9} {:>9} {:>9} {:>8}",
        "RULE", "ALERTS", "FLAGGED", "LABELLED", "DECOY", "PRECISION", "ALERTPREC", "RECALL", "SCHEMES"
    );
    for r in &ev.rules {
        rule_line(&mut o, r);
    }
    rule_line(&mut o, &ev.overall);
    let _ = writeln!(
        o,
        "\nper typology (recall: core transactions flagged by any rule; own rule: by the rule of that id and its variants;\n\
         P@100 and AP: of the case ranking, a case counting when it holds one of the typology's transactions)"
    );
    let _ = writeln!(
        o,
        "{:<12} {:>7} {:>6} {:>7} {:>8} {:>9} {:>9} {:>9} {:>7} {:>7}  FLAGGED BY",
        "TYPOLOGY", "SCHEMES", "CORE", "FLAGGED", "RECALL", "DETECTED", "OWN RULE", "PRECISION", "P@100", "AP"
    );
    for t in &ev.typologies {
        let by: Vec<String> = t.flagged_by.iter().map(|(k, v)| format!("{k}:{v}")).collect();
        let _ = writeln!(
            o,
            "{:<12} {:>7} {:>6} {:>7} {:>8} {:>9} {:>9} {:>9} {:>7} {:>7}  {}",
            t.typology,
            opt(t.schemes),
            t.core_txns,
            t.core_flagged,
            pct(t.recall),
            of(t.schemes_detected, t.schemes),
            if t.own_rules.is_empty() {
                "no rule".into()
            } else {
                pct(t.own_rule_recall)
            },
            pct(t.precision),
            pct(at_100(t.ranking.as_ref())),
            pct(t.ranking.as_ref().and_then(|r| r.average_precision)),
            by.join(" ")
        );
    }
    if !ev.patterns.is_empty() {
        let _ = writeln!(o, "\nper pattern");
        let _ = writeln!(
            o,
            "{:<12} {:<18} {:>7} {:>6} {:>7} {:>8} {:>9} {:>9} {:>9} {:>7} {:>7}",
            "TYPOLOGY",
            "PATTERN",
            "SCHEMES",
            "CORE",
            "FLAGGED",
            "RECALL",
            "DETECTED",
            "OWN RULE",
            "OWN DET",
            "P@100",
            "AP"
        );
        for p in &ev.patterns {
            let _ = writeln!(
                o,
                "{:<12} {:<18} {:>7} {:>6} {:>7} {:>8} {:>9} {:>9} {:>9} {:>7} {:>7}",
                p.typology,
                p.pattern,
                p.schemes,
                p.core_txns,
                p.core_flagged,
                pct(p.recall),
                format!("{}/{}", p.schemes_detected, p.schemes),
                if p.own_rule_core_flagged.is_some() {
                    pct(p.own_rule_recall)
                } else {
                    "no rule".into()
                },
                of(p.own_rule_schemes_detected, Some(p.schemes)),
                pct(at_100(p.ranking.as_ref())),
                pct(p.ranking.as_ref().and_then(|r| r.average_precision)),
            );
        }
    }
    ranking_lines(&mut o, &ev.ranking);
    o
}

/// Precision among the first 100 cases.
fn at_100(r: Option<&Ranking>) -> Option<f64> {
    r?.precision_at.iter().find(|p| p.k == 100).and_then(|p| p.precision)
}

/// The case ranking: cases, positive ones, precision at each k and average precision.
fn ranking_lines(o: &mut String, r: &Ranking) {
    let _ = writeln!(
        o,
        "\ncase ranking: {} cases, {} holding a labelled transaction",
        r.cases, r.positive_cases
    );
    for p in &r.precision_at {
        let _ = writeln!(
            o,
            "precision at {:<4} {:>7} ({}/{})",
            p.k,
            pct(p.precision),
            p.positive,
            p.cases
        );
    }
    let _ = writeln!(o, "average precision {:>7}", pct(r.average_precision));
}

/// A sweep as a terminal table, with a bar of alert volume.
pub fn render_sweep(s: &SweepResult) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "sweep {}.{} (in the pack: {}); recall of {}",
        s.rule,
        s.param,
        s.default.map_or_else(|| "-".into(), redflag::format::number),
        s.recall_of
    );
    if s.runs == 1 && s.points.len() > 1 {
        let _ = writeln!(
            o,
            "note: {} does not change what {} computes: every value gives the same alerts",
            s.param, s.rule
        );
    }
    let _ = writeln!(
        o,
        "{:>10} {:>7} {:>8} {:>9} {:>9} {:>9} {:>8}  ALERTS",
        "VALUE", "ALERTS", "FLAGGED", "PRECISION", "ALERTPREC", "RECALL", "SCHEMES"
    );
    let max = s.points.iter().map(|p| p.score.alerts).max().unwrap_or(0).max(1);
    for p in &s.points {
        let bar = "#".repeat(((p.score.alerts as f64 / max as f64) * 30.0).round() as usize);
        let mark = if s.default == Some(p.value) { " <" } else { "" };
        let _ = writeln!(
            o,
            "{:>10} {:>7} {:>8} {:>9} {:>9} {:>9} {:>8}  {bar}{mark}",
            redflag::format::number(p.value),
            p.score.alerts,
            p.score.flagged_txns,
            pct(p.score.precision),
            pct(p.score.alert_precision),
            pct(p.score.recall),
            of(p.score.own_schemes_detected, p.score.own_schemes),
        );
    }
    o
}
