//! Runs in shards: `screen --shards N|auto`, `partition`, `screen DIR --shard I/N`, `merge`.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use redflag::{Outputs, Pack, Sharding};

use crate::{check_strict, run_spec, set_threads, term, CliError, Finish, OutputArgs, PackArgs, ReadArgs, ScreenArgs};

/// `redflag partition`.
#[derive(Args)]
pub(crate) struct PartitionArgs {
    /// Input files (CSV, Parquet, NDJSON) or glob patterns.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// The number of shards.
    #[arg(long, value_name = "N")]
    shards: u32,
    /// The partition folder.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    #[command(flatten)]
    pack: PackArgs,
    #[command(flatten)]
    read: ReadArgs,
    /// Print nothing but errors.
    #[arg(long, short)]
    quiet: bool,
}

/// `redflag merge`.
#[derive(Args)]
pub(crate) struct MergeArgs {
    /// The output folder of every shard (`redflag screen DIR --shard I/N --out OUT_I`).
    #[arg(required = true)]
    outputs: Vec<PathBuf>,
    #[command(flatten)]
    pack: PackArgs,
    #[command(flatten)]
    output: OutputArgs,
    /// Worker threads (default: all cores). Output is the same whatever the count.
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
}

/// `redflag partition INPUT... --shards N --out DIR`.
pub(crate) fn partition(args: PartitionArgs, stdout: &mut impl Write) -> Result<ExitCode, CliError> {
    crate::heap::return_large_blocks();
    set_threads(args.read.threads)?;
    let spec = run_spec(&args.pack, &args.read)?;
    let pack = spec.pack()?;
    let opts = spec.ingest_options(&pack)?;
    let show = !args.quiet && std::io::stderr().is_terminal();
    let spinner = show.then(|| term::spinner("reading and partitioning the inputs"));
    let strict = args.read.strict;
    let (info, data) = redflag::shard::partition_inputs(
        &args.inputs,
        &opts,
        &pack,
        args.shards,
        &args.out,
        redflag::shard::GROUP_ROWS,
        &|d| d.check_strict(strict),
    )?;
    drop(spinner);
    if !args.quiet {
        let (lo, hi) = (
            info.shard_rows.iter().min().copied().unwrap_or(0),
            info.shard_rows.iter().max().copied().unwrap_or(0),
        );
        writeln!(
            stdout,
            "{} rows screened into {} shards of {}–{} rows; the cross-account stage (on shard 0): {}",
            data.rows_screened(),
            info.shards,
            lo,
            hi,
            if info.cross_rules.is_empty() {
                "none".to_string()
            } else {
                info.cross_rules.join(", ")
            }
        )?;
        writeln!(
            stdout,
            "partition in {}; next: redflag screen {} --shard I/{} --out OUT_I, for I from 0 to {}",
            args.out.display(),
            args.out.display(),
            info.shards,
            info.shards - 1
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `redflag screen DIR --shard I/N --out OUT_I`.
pub(crate) fn screen_shard(
    args: &ScreenArgs,
    shard: &str,
    pack: &Pack,
    stdout: &mut impl Write,
) -> Result<ExitCode, CliError> {
    crate::heap::return_large_blocks();
    let (index, count) = parse_shard(shard)?;
    let [dir] = args.inputs.as_slice() else {
        return Err(CliError::Usage(format!(
            "--shard {shard}: give one input, the folder `redflag partition` wrote"
        )));
    };
    if !dir.join("partition.json").is_file() {
        return Err(CliError::Usage(format!(
            "--shard {shard}: {} is not a partition folder (it has no partition.json); make one with \
             redflag partition INPUT... --shards {count} --out DIR",
            dir.display()
        )));
    }
    let run = redflag::shard::screen_shard(dir, index, pack, args.read.threads, &redflag::Cancel::new())?;
    if run.info.partition.shards != count {
        return Err(CliError::Usage(format!(
            "--shard {shard}: {} was partitioned in {} shards; give --shard {index}/{}",
            dir.display(),
            run.info.partition.shards,
            run.info.partition.shards
        )));
    }
    run.write(&args.output.out)?;
    if !args.output.quiet {
        writeln!(
            stdout,
            "shard {index}/{count}: {} accounts, {} alerts{}; output in {} (next: redflag merge)",
            run.info.accounts,
            run.alerts.len(),
            if run.info.cross {
                ", the cross-account stage included"
            } else {
                ""
            },
            args.output.out.display()
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `redflag merge OUT_0 ... --out OUT`.
pub(crate) fn merge(args: MergeArgs, stdout: &mut impl Write) -> Result<ExitCode, CliError> {
    crate::heap::return_large_blocks();
    let started = redflag::now_utc();
    set_threads(args.threads)?;
    let read = ReadArgs {
        layout: crate::LayoutArgs::default(),
        strict: false,
        threads: args.threads,
    };
    let pack = run_spec(&args.pack, &read)?.pack()?;
    let finish = Finish::new(&args.output)?;
    let t = std::time::Instant::now();
    let plain = finish.outputs(&args.output, &pack);
    let with_partition = |partition: &redflag::shard::PartitionInfo, plain: Outputs| Outputs {
        mapping: partition.read.mapping.clone(),
        fx: partition.read.fx.clone(),
        started_at: started.clone(),
        sharding: Some(sharding(partition)),
        ..plain
    };
    if plain.case_by_case() {
        let store = redflag::merge_shards_bounded(&args.outputs, &pack, args.threads, &args.output.out)?;
        let outputs = with_partition(&store.partition, plain);
        return finish.write_store(&args.output, &pack, &store, &outputs, t.elapsed(), stdout);
    }
    let (mut result, data, partition) = redflag::merge_shards(&args.outputs, &pack, args.threads)?;
    let outputs = with_partition(&partition, plain);
    finish.write(&args.output, &pack, &mut result, data, &outputs, t.elapsed(), stdout)
}

/// `screen --shards N` when the outputs are written case by case
/// ([`Outputs::case_by_case`]): the run in shards, one after the other, on this machine,
/// the merge in bounded memory; writes the outputs.
pub(crate) fn screen_sharded_bounded(
    args: &ScreenArgs,
    opts: &redflag::IngestOptions,
    pack: &Pack,
    shards: u32,
    finish: &Finish,
    outputs: Outputs,
    stdout: &mut impl Write,
) -> Result<ExitCode, CliError> {
    let show = !args.output.quiet && std::io::stderr().is_terminal();
    let t = std::time::Instant::now();
    let store = with_progress(args, shards, show, |options, progress| {
        redflag::screen_sharded_bounded(&args.inputs, opts, pack, shards, &args.output.out, options, progress)
    })?;
    check_strict(args.read.strict, &store.data)?;
    let outputs = Outputs {
        sharding: Some(sharding(&store.partition)),
        ..outputs
    };
    finish.write_store(&args.output, pack, &store, &outputs, t.elapsed(), stdout)
}

/// `screen --shards N`: the run in shards, one after the other, on this machine.
pub(crate) fn screen_sharded(
    args: &ScreenArgs,
    opts: &redflag::IngestOptions,
    pack: &Pack,
    shards: u32,
    show: bool,
) -> Result<(redflag::Screening, redflag::Dataset, Option<Sharding>), CliError> {
    let (result, data, partition) = with_progress(args, shards, show, |options, progress| {
        redflag::screen_sharded(&args.inputs, opts, pack, shards, &args.output.out, options, progress)
    })?;
    check_strict(args.read.strict, &data)?;
    Ok((result, data, Some(sharding(&partition))))
}

/// Runs `run` (a screening in shards on this machine) with the options of `args` and a
/// progress bar of its units when `show`; large blocks are handed back to the system.
fn with_progress<T>(
    args: &ScreenArgs,
    shards: u32,
    show: bool,
    run: impl FnOnce(&redflag::ScreenOptions, &dyn Fn(u32, u32)) -> redflag::Result<T>,
) -> Result<T, CliError> {
    crate::heap::return_large_blocks();
    let bar = show.then(|| term::bar(u64::from(shards) + 1, "units"));
    let progress = |done: u32, total: u32| {
        crate::heap::release_free_memory();
        if let Some(b) = &bar {
            b.set_length(u64::from(total));
            b.set_position(u64::from(done));
        }
    };
    let options = redflag::ScreenOptions {
        threads: args.read.threads,
        ..Default::default()
    };
    let out = run(&options, &progress)?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    Ok(out)
}

fn sharding(p: &redflag::shard::PartitionInfo) -> Sharding {
    Sharding {
        shards: p.shards,
        hash: p.hash.clone(),
    }
}

/// `--shard I/N`.
fn parse_shard(s: &str) -> Result<(u32, u32), CliError> {
    let bad = || CliError::Usage(format!("--shard {s}: give I/N, such as 0/4, with I from 0 to N-1"));
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let (i, n): (u32, u32) = (
        i.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    if n == 0 || i >= n {
        return Err(bad());
    }
    Ok((i, n))
}

/// `--shards N|auto`: N as given, or worked out from the inputs' size and the memory
/// to stay under (`--memory-limit`, else half the memory available).
pub(crate) fn shard_count(given: &str, memory_limit: Option<&str>, inputs: &[PathBuf]) -> Result<u32, CliError> {
    let max = redflag::shard::MAX_SHARDS;
    if given != "auto" {
        return match given.trim().parse::<u32>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(CliError::Usage(format!(
                "--shards {given}: give a count from 1 to {max}, or auto"
            ))),
        };
    }
    let budget = match memory_limit {
        Some(m) => parse_size(m)?,
        None => available_memory().unwrap_or(4 << 30) / 2,
    };
    // What screening holds in memory for each byte of input (measured on the generated
    // data: a Parquet byte becomes about 12, a CSV or NDJSON byte about 3), for the two
    // shards' worth of transactions a shard holds at most.
    let held: u64 = inputs
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok().map(|m| (p, m.len())))
        .map(|(p, len)| {
            let parquet = p.extension().is_some_and(|e| e.eq_ignore_ascii_case("parquet"));
            len.saturating_mul(if parquet { 12 } else { 3 })
        })
        .sum();
    Ok((held.saturating_mul(2).div_ceil(budget.max(1))).clamp(1, u64::from(max)) as u32)
}

/// `6G`, `512M`, `800000K` or bytes.
fn parse_size(s: &str) -> Result<u64, CliError> {
    let t = s.trim();
    let (num, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let scale: u64 = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" => 1 << 10,
        "M" | "MB" => 1 << 20,
        "G" | "GB" => 1 << 30,
        _ => 0,
    };
    match num.parse::<u64>() {
        Ok(n) if n > 0 && scale > 0 => Ok(n.saturating_mul(scale)),
        _ => Err(CliError::Usage(format!(
            "--memory-limit {s}: give a size such as 6G, 512M or 800000K"
        ))),
    }
}

/// The memory available now (Linux: `MemAvailable` of /proc/meminfo), in bytes.
fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
