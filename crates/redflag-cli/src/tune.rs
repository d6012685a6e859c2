//! `redflag tune`: score weights fitted on labelled outcomes, written as a weights file
//! that `screen --weights` and `evaluate --weights` apply. Parsing and printing only: the
//! fitting is `redflag::tune`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use redflag::tune::{MeasureFeatures, TuneOptions, TuneResult};

use crate::lab::LabelledData;
use crate::CliError;

#[derive(Args)]
pub struct TuneArgs {
    #[command(flatten)]
    data: LabelledData,
    /// The weights file to write (YAML; the figures in its header comments).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Also write the fit and the figures as JSON to this file.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// The L2 penalty on the scaled coefficients; default: chosen among 0.001, 0.01, 0.1, 1
    /// and 10 on the tuning cases alone (split again by scheme).
    #[arg(long, value_name = "X", value_parser = crate::finite_number)]
    l2: Option<f64>,
    /// Gradient steps of the fit.
    #[arg(long, default_value_t = TuneOptions::default().iterations, value_name = "N")]
    iterations: usize,
    /// The share of schemes put in the test part (0 to 1).
    #[arg(long, default_value_t = TuneOptions::default().test_share, value_name = "X", value_parser = crate::finite_number)]
    test_share: f64,
    /// The measures of the rules' alerts fitted besides the rules: `none` (one weight a
    /// rule), `all` (every measure that holds a number), or a list such as
    /// `FLW-06.lone_pairs,FLW-04.share`.
    #[arg(long, default_value = "none", value_name = "none|all|RULE.MEASURE,...")]
    measures: String,
    /// Print nothing but errors.
    #[arg(long, short)]
    quiet: bool,
}

/// `--measures` as the library takes it; a listed measure's rule by its id in the pack.
fn measure_features(text: &str, pack: &redflag::Pack) -> Result<MeasureFeatures, CliError> {
    match text.trim() {
        "all" => return Ok(MeasureFeatures::All),
        "none" | "" => return Ok(MeasureFeatures::None),
        _ => {}
    }
    let mut list = Vec::new();
    for item in text.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        match pack.rule_measure(item) {
            Ok((r, m)) => list.push(format!("{}.{m}", r.id())),
            Err((_, message)) => {
                return Err(CliError::Usage(format!(
                    "--measures {item}: {message} (or give `all` or `none`)"
                )))
            }
        }
    }
    Ok(MeasureFeatures::Only(list))
}

pub fn tune(args: TuneArgs, stdout: &mut impl Write) -> Result<ExitCode, CliError> {
    if args.l2.is_some_and(|x| x < 0.0) || !(0.0..=1.0).contains(&args.test_share) {
        return Err(CliError::Usage(format!(
            "--l2 {} --test-share {}: the penalty is at least 0 and the test share from 0 to 1",
            args.l2.map_or("(chosen)".to_string(), |x| x.to_string()),
            args.test_share
        )));
    }
    let (pack, data, labels, spinner) = args.data.read(None, args.quiet)?;
    if let Some(pb) = &spinner {
        pb.set_message("screening and fitting");
    }
    let options = TuneOptions {
        l2: args.l2,
        iterations: args.iterations,
        test_share: args.test_share,
        measures: measure_features(&args.measures, &pack)?,
    };
    let result = redflag::tune::tune(&pack, &data, &labels, &options)?;
    if let Some(pb) = &spinner {
        pb.finish_and_clear();
    }
    let mut files = vec![(args.out.clone(), redflag::tune::weights_yaml(&result).into_bytes())];
    if let Some(j) = &args.json {
        let mut bytes = serde_json::to_vec_pretty(&result).map_err(|e| CliError::Usage(e.to_string()))?;
        bytes.push(b'\n');
        files.push((j.clone(), bytes));
    }
    for (path, bytes) in files {
        write_one(&path, bytes)?;
    }
    if !args.quiet {
        write!(stdout, "{}", render(&result, &args.out))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes one file through the library's atomic writer.
fn write_one(path: &std::path::Path, bytes: Vec<u8>) -> Result<(), CliError> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), PathBuf::from);
    let name = path
        .file_name()
        .ok_or_else(|| CliError::Usage(format!("{}: give a file name", path.display())))?
        .to_string_lossy()
        .to_string();
    redflag::write_files(&dir, &[(name, bytes)], &[])?;
    Ok(())
}

/// The split, the weights and the figures before and after, for the terminal.
fn render(r: &TuneResult, out: &std::path::Path) -> String {
    use std::fmt::Write as _;
    let mut o = String::new();
    let _ = writeln!(o, "pack {}, labels {}", r.pack, r.labels);
    let _ = writeln!(
        o,
        "split by scheme: {} schemes to tune on, {} to test on; cases: {} tuned on ({} positive), {} tested on, {} left out",
        r.tune_schemes, r.test_schemes, r.tune_cases, r.tune_positive, r.test_cases, r.left_out_cases
    );
    for t in &r.l2_trials {
        let ap = t
            .average_precision
            .map_or("-".to_string(), |x| format!("{:.1}%", x * 100.0));
        let _ = writeln!(o, "L2 {:<6} validation average precision {ap}", t.l2);
    }
    let _ = writeln!(o, "L2 penalty used: {}", r.l2);
    let _ = writeln!(o, "\nrule        weight  tuning cases (positive)");
    for w in &r.rules {
        let _ = writeln!(
            o,
            "{:<10} {:>7}  {} ({})",
            crate::term::clean(&w.rule_id),
            w.weight,
            w.tune_cases,
            w.tune_positive
        );
    }
    let weighed: Vec<_> = r.measures.iter().filter(|m| m.weight > 0.0).collect();
    if !weighed.is_empty() {
        let _ = writeln!(
            o,
            "\nmeasure (of {} fitted, those over 0)   weight  tuning cases (positive)",
            r.measures.len()
        );
        for m in weighed {
            let _ = writeln!(
                o,
                "{:<36} {:>7}  {} ({})",
                crate::term::clean(&format!("{}.{}", m.rule_id, m.measure)),
                m.weight,
                m.tune_cases,
                m.tune_positive
            );
        }
    }
    let _ = writeln!(
        o,
        "\ntest cases: {} ({} positive)\n                      before    after",
        r.after.cases, r.after.positive_cases
    );
    for line in redflag::tune::figure_lines(&r.before, &r.after) {
        let _ = writeln!(o, "{line}");
    }
    let _ = writeln!(
        o,
        "\nweights written to {}",
        crate::term::clean(&out.display().to_string())
    );
    o
}
