//! Generates synthetic transactions with planted schemes.
//!
//! ```text
//! cargo run --release -p redflag-synth --example generate -- \
//!     --seed 7 --transactions 1000000 --accounts 100000 --days 180 \
//!     --out /tmp/x.parquet [--labels /tmp/labels.csv]
//! ```
//!
//! The format follows the file name: `.csv` or `.parquet`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use chrono::NaiveDate;
use redflag_synth::{generate, write, Format, SynthConfig};

const USAGE: &str = "\
usage: generate --out FILE [options]

  --out FILE             transactions, .csv or .parquet (required)
  --labels FILE          labels of the planted transactions, .csv or .parquet
  --seed N               seed (default 1)
  --transactions N       number of transactions (default 100000)
  --accounts N           number of customer accounts (default 10000)
  --days N               length of the period in days (default 180)
  --start YYYY-MM-DD     first day (default 2025-01-01)
  --fraction X           share of accounts that are subjects of planted schemes (default 0.01)
  --no-plant             background traffic only
  -h, --help             this help";

struct Args {
    cfg: SynthConfig,
    out: PathBuf,
    labels: Option<PathBuf>,
}

fn parse_args() -> Result<Option<Args>, String> {
    let mut cfg = SynthConfig::default();
    let mut out = None;
    let mut labels = None;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "-h" || flag == "--help" {
            return Ok(None);
        }
        if flag == "--no-plant" {
            cfg.plant = false;
            continue;
        }
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let bad = |what: &str| format!("{flag}: `{value}` is not {what}");
        match flag.as_str() {
            "--out" => out = Some(PathBuf::from(&value)),
            "--labels" => labels = Some(PathBuf::from(&value)),
            "--seed" => cfg.seed = value.parse().map_err(|_| bad("a whole number"))?,
            "--transactions" => cfg.transactions = value.parse().map_err(|_| bad("a whole number"))?,
            "--accounts" => cfg.accounts = value.parse().map_err(|_| bad("a whole number"))?,
            "--days" => cfg.days = value.parse().map_err(|_| bad("a whole number"))?,
            "--fraction" => cfg.fraction = value.parse().map_err(|_| bad("a number"))?,
            "--start" => {
                cfg.start = NaiveDate::parse_from_str(&value, "%Y-%m-%d").map_err(|_| bad("a date (YYYY-MM-DD)"))?
            }
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    let out = out.ok_or("--out FILE is required")?;
    for p in std::iter::once(&out).chain(labels.as_ref()) {
        if Format::from_path(p).is_none() {
            return Err(format!("{}: use a .csv or .parquet file name", p.display()));
        }
    }
    Ok(Some(Args { cfg, out, labels }))
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(Some(a)) => a,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("error: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let t0 = Instant::now();
    let mut data = match generate(&args.cfg) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let t_gen = t0.elapsed();
    let t1 = Instant::now();
    if let Err(e) = write(&mut data.transactions, &args.out) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    if let Some(path) = &args.labels {
        if let Err(e) = write(&mut data.labels, path) {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    }
    let schemes = data.labels.column("scheme_id").and_then(|c| c.n_unique()).unwrap_or(0);
    eprintln!(
        "{} transactions ({} planted, {} schemes) generated in {:.2?}, written in {:.2?} to {}",
        data.transactions.height(),
        data.labels.height(),
        schemes,
        t_gen,
        t1.elapsed(),
        args.out.display()
    );
    ExitCode::SUCCESS
}
