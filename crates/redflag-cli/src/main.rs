//! `redflag`: the command line. It parses, calls the library, renders; no rule logic here.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use redflag::report::{GoamlConfig, Redactor, ReportOptions};
use redflag::{Case, CasesFile, Error, Formats, ListSource, Outputs, Pack, RunSpec, Severity};

mod heap;
mod lab;
mod lists;
mod render;
mod shards;
mod term;
mod tune;

#[derive(Parser)]
#[command(
    name = "redflag",
    version,
    about = "Screen transaction exports against FATF-style money-laundering and terrorist-financing red flags",
    long_about = "Screen transaction exports (CSV, Parquet, NDJSON) against FATF-style money-laundering and \
terrorist-financing red-flag rules, offline, and get ranked, explained cases.\n\n\
Exit status: 0 success, 1 success with cases at or over --fail-on, 2 error."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Screen input files and write cases, alerts, a manifest and the quarantine.
    Screen(Box<ScreenArgs>),
    /// List, show and check rule packs.
    #[command(subcommand)]
    Rules(RulesCmd),
    /// Render the reports again from an earlier run's cases.json, without screening again.
    Report(ReportArgs),
    /// Generate synthetic transactions with planted, labelled schemes.
    Generate(Box<lab::GenerateArgs>),
    /// Precision and recall of a pack against labelled transactions; threshold sweeps.
    Evaluate(Box<lab::EvaluateArgs>),
    /// Fit per-rule score weights on labelled outcomes; write them as a weights file for --weights.
    Tune(Box<tune::TuneArgs>),
    /// Partition inputs into shards by account, for `screen DIR --shard I/N` on a cluster.
    Partition(Box<shards::PartitionArgs>),
    /// Merge the outputs of every shard of a partition into the outputs of a single run.
    Merge(Box<shards::MergeArgs>),
    /// Check a watch list or a reference list: what it holds, what was skipped and why.
    #[command(subcommand)]
    Lists(lists::ListsCmd),
    /// The rule kinds and their fields; with a name, that kind's reference page.
    Kinds {
        /// A kind, such as `aggregate`.
        name: Option<String>,
    },
}

#[derive(Args)]
struct ScreenArgs {
    /// Input files (CSV, Parquet, NDJSON) or glob patterns such as 'exports/*.csv'; with
    /// --shard, the folder `redflag partition` wrote.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    #[command(flatten)]
    pack: PackArgs,
    #[command(flatten)]
    read: ReadArgs,
    #[command(flatten)]
    output: OutputArgs,
    /// Screen out of core in N shards, one at a time (or `auto`: N from the inputs' size
    /// and the memory available); the output is the same as without.
    #[arg(long, value_name = "N|auto", conflicts_with = "shard")]
    shards: Option<String>,
    /// With --shards auto: the memory to stay under, such as 6G or 512M (default: half
    /// of the memory available).
    #[arg(long, value_name = "SIZE")]
    memory_limit: Option<String>,
    /// Screen shard I of the N of a partition folder (`redflag partition`) into --out,
    /// for `redflag merge`; shard 0 also runs the cross-account rules.
    #[arg(long, value_name = "I/N")]
    shard: Option<String>,
}

/// The pack of a run: packs, overrides, lists, rule selection, weights.
#[derive(Args, Clone)]
pub(crate) struct PackArgs {
    /// A rule pack (YAML or TOML); default: the built-in fatf-core pack. Repeat to run several.
    #[arg(long = "rules", value_name = "PACK")]
    rules: Vec<PathBuf>,
    /// Override a parameter: NAME=VALUE (pack-wide) or RULE.NAME=VALUE.
    #[arg(long = "set", value_name = "NAME=VALUE")]
    set: Vec<String>,
    /// Bind or replace a reference list: NAME=PATH.
    #[arg(long = "list", value_name = "NAME=PATH")]
    list: Vec<String>,
    /// Run only these rules (ids or aliases, comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "ID,...")]
    only: Vec<String>,
    /// Score weights laid over the pack (YAML, as `redflag tune` writes them): per-rule
    /// factors of the case score; the cases then list each rule's part in the score.
    #[arg(long, value_name = "FILE")]
    weights: Option<PathBuf>,
}

/// The inputs' layout and FX rates.
#[derive(Args, Clone, Default)]
pub(crate) struct LayoutArgs {
    /// A mapping preset: canonical, amlworld.
    #[arg(long, conflicts_with = "mapping")]
    pub(crate) preset: Option<String>,
    /// A mapping file (YAML) for any other layout.
    #[arg(long, value_name = "FILE")]
    pub(crate) mapping: Option<PathBuf>,
    /// FX rates into the base currency: `currency,rate_to_base[,date]`.
    #[arg(long, value_name = "FILE")]
    pub(crate) fx: Option<PathBuf>,
}

/// How inputs are read: their layout, FX, strictness and threads.
#[derive(Args, Clone)]
pub(crate) struct ReadArgs {
    #[command(flatten)]
    layout: LayoutArgs,
    /// Treat any quarantined row as an error.
    #[arg(long)]
    strict: bool,
    /// Worker threads (default: all cores). Output is the same whatever the count.
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
}

/// What a run writes and prints.
#[derive(Args, Clone)]
pub(crate) struct OutputArgs {
    /// Output folder.
    #[arg(long, default_value = "redflag-out", value_name = "DIR")]
    out: PathBuf,
    /// Output formats: json (cases.json), csv (alerts.csv), md (report.md), html (report.html),
    /// goaml (goaml/CASE_ID.xml, needs --goaml-config).
    #[arg(long, value_delimiter = ',', default_value = "json,csv")]
    format: Vec<String>,
    /// Leave out cases scoring under N (in every output, goAML drafts included).
    #[arg(long, default_value_t = 0.0, value_name = "N", value_parser = finite_number)]
    min_score: f64,
    /// The reporting entity and code lists for goAML drafts (YAML; see samples/goaml-config.yaml).
    #[arg(long, value_name = "FILE")]
    goaml_config: Option<PathBuf>,
    /// Replace account numbers and party names by stable pseudonyms in every output
    /// (key: $REDFLAG_REDACT_KEY, or a fixed default).
    #[arg(long)]
    redact: bool,
    /// Exit with status 1 when a case is at or over this severity (low, medium, high, critical) or score.
    #[arg(long, value_name = "SEVERITY|SCORE")]
    fail_on: Option<String>,
    /// Print nothing but errors.
    #[arg(long, short)]
    quiet: bool,
    /// Print on stderr how long each step and each rule took (slowest rules first).
    #[arg(long)]
    timings: bool,
    /// How many cases the terminal table shows.
    #[arg(long, default_value_t = 20, value_name = "N")]
    top: usize,
}

#[derive(Args)]
struct ReportArgs {
    /// The output folder of an earlier `redflag screen` (or its cases.json).
    #[arg(long = "from", value_name = "DIR")]
    from: PathBuf,
    /// Reports: md (report.md), html (report.html), goaml (goaml/CASE_ID.xml, needs --goaml-config).
    #[arg(long, value_delimiter = ',', default_value = "md,html")]
    format: Vec<String>,
    /// Output folder; default: the --from folder.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Leave out cases scoring under N.
    #[arg(long, default_value_t = 0.0, value_name = "N", value_parser = finite_number)]
    min_score: f64,
    /// The reporting entity and code lists for goAML drafts (YAML; see samples/goaml-config.yaml).
    #[arg(long, value_name = "FILE")]
    goaml_config: Option<PathBuf>,
    /// Replace account numbers and party names by stable pseudonyms (key: $REDFLAG_REDACT_KEY,
    /// or a fixed default); needs an --out folder other than --from.
    #[arg(long)]
    redact: bool,
    /// Print nothing but errors.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Subcommand)]
enum RulesCmd {
    /// One line a rule: id, kind, severity, typologies, title.
    List {
        /// A rule pack; default: the built-in one.
        #[arg(long = "rules", value_name = "PACK")]
        rules: Option<PathBuf>,
    },
    /// Everything about one rule, with its sources.
    Show {
        /// Rule id (or an old alias).
        id: String,
        /// A rule pack; default: the built-in one.
        #[arg(long = "rules", value_name = "PACK")]
        rules: Option<PathBuf>,
    },
    /// Check a pack and report every problem.
    Check {
        /// The pack file; default: the built-in one.
        pack: Option<PathBuf>,
    },
    /// Write the pack's catalogue as Markdown (the shipped one is rules/README.md).
    Doc {
        /// The pack file; default: the built-in one.
        pack: Option<PathBuf>,
        /// Write it to this file (whole or not at all) instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            let mut msg = format!("error: {e}");
            let mut src = std::error::Error::source(&e);
            while let Some(s) = src {
                msg.push_str(&format!("\n  caused by: {s}"));
                src = s.source();
            }
            if let Some(hint) = flag_hint(&e) {
                msg.push_str(&format!("\n  hint: {hint}"));
            }
            eprintln!("{}", term::clean(&msg));
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(e: &CliError) -> bool {
    matches!(e, CliError::Write(io) if io.kind() == std::io::ErrorKind::BrokenPipe)
}

/// The flag behind a library error, for the errors that come from one.
fn flag_hint(e: &CliError) -> Option<&'static str> {
    match e {
        CliError::Lib(Error::Override { what, .. }) => match *what {
            "parameter override" => Some("overrides are given with --set NAME=VALUE or --set RULE.NAME=VALUE"),
            "list binding" => Some("lists are bound with --list NAME=PATH"),
            "rule selection" => Some("rules are selected with --only ID,..."),
            "preset" => Some("a preset is named with --preset NAME; another layout is described with --mapping FILE"),
            "parameter sweep" => Some("a sweep is given with --sweep RULE.PARAM=START..END:STEP"),
            _ => None,
        },
        CliError::Lib(Error::MissingColumn { .. }) => {
            Some("a mapping file is given with --mapping FILE, a preset with --preset NAME")
        }
        CliError::Lib(Error::OutputOverInput { .. } | Error::Output { .. }) => {
            Some("the output folder is given with --out DIR")
        }
        CliError::Lib(Error::Strict { .. }) => {
            Some("--strict is on; run without --strict to screen the other rows and see every reason")
        }
        _ => None,
    }
}

#[derive(Debug)]
pub(crate) enum CliError {
    Lib(Error),
    Write(std::io::Error),
    Usage(String),
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CliError::Lib(e) => write!(f, "{e}"),
            CliError::Write(e) => write!(f, "writing to the terminal: {e}"),
            CliError::Usage(m) => write!(f, "{m}"),
        }
    }
}

impl std::error::Error for CliError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CliError::Lib(e) => std::error::Error::source(e),
            _ => None,
        }
    }
}

impl From<Error> for CliError {
    fn from(e: Error) -> Self {
        CliError::Lib(e)
    }
}
impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        CliError::Write(e)
    }
}

/// `--list NAME=PATH` bindings, as the library takes them.
pub(crate) fn list_bindings(lists: &[String]) -> Result<Vec<(String, ListSource)>, Error> {
    lists
        .iter()
        .map(|l| redflag::parse_binding(l).map(|(n, p)| (n, ListSource::Path(p))))
        .collect()
}

fn load_pack(p: Option<&PathBuf>) -> Result<Pack, Error> {
    match p {
        Some(p) => Pack::load(p),
        None => Pack::builtin(),
    }
}

fn run(cli: Cli) -> Result<ExitCode, CliError> {
    // Data never drives the terminal: control characters are printed as escapes.
    let mut stdout = term::Clean::new(std::io::stdout().lock());
    match cli.command {
        Command::Rules(RulesCmd::List { rules }) => {
            let pack = load_pack(rules.as_ref())?;
            write!(stdout, "{}", render::rules_list(&pack))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Rules(RulesCmd::Show { id, rules }) => {
            let pack = load_pack(rules.as_ref())?;
            let rule = pack.rule(&id).ok_or_else(|| {
                CliError::Usage(format!(
                    "no rule `{id}` in pack {}{}",
                    pack.id,
                    redflag::did_you_mean(&id, pack.rules.iter().map(|r| r.id()))
                        .map(|s| format!("; did you mean `{s}`?"))
                        .unwrap_or_default()
                ))
            })?;
            write!(stdout, "{}", render::rule_show(&pack, rule))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Rules(RulesCmd::Check { pack }) => {
            let p = load_pack(pack.as_ref())?;
            writeln!(
                stdout,
                "ok: pack {} {} ({}): {} rules, {} lists, no problems",
                p.id,
                p.version,
                p.source,
                p.rules.len(),
                p.lists.len()
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Rules(RulesCmd::Doc { pack, out }) => {
            let p = load_pack(pack.as_ref())?;
            let doc = redflag::catalogue(&p);
            match out {
                Some(file) => {
                    let name = file.file_name().ok_or_else(|| {
                        CliError::Usage(format!("--out {}: name a file, not a folder", file.display()))
                    })?;
                    let dir = file
                        .parent()
                        .filter(|d| !d.as_os_str().is_empty())
                        .unwrap_or(std::path::Path::new("."));
                    redflag::write_files(dir, &[(name.to_string_lossy().into_owned(), doc.into_bytes())], &[])?;
                }
                None => write!(stdout, "{doc}")?,
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Screen(args) => screen(*args, &mut stdout),
        Command::Report(args) => report(args, &mut stdout),
        Command::Generate(args) => lab::generate(*args, &mut stdout),
        Command::Evaluate(args) => lab::evaluate(*args, &mut stdout),
        Command::Tune(args) => tune::tune(*args, &mut stdout),
        Command::Partition(args) => shards::partition(*args, &mut stdout),
        Command::Merge(args) => shards::merge(*args, &mut stdout),
        Command::Lists(cmd) => lists::run(cmd, &mut stdout),
        Command::Kinds { name } => kinds(name.as_deref(), &mut stdout),
    }
}

/// `redflag kinds [NAME]`.
fn kinds(name: Option<&str>, stdout: &mut impl Write) -> Result<ExitCode, CliError> {
    match name {
        None => write!(stdout, "{}", redflag::kinds::summary())?,
        Some(n) => {
            let kind = redflag::kinds::get(n).ok_or_else(|| {
                CliError::Usage(format!(
                    "no kind `{n}`{}; the kinds: {}",
                    redflag::did_you_mean(n, redflag::kinds::names())
                        .map(|s| format!("; did you mean `{s}`?"))
                        .unwrap_or_default(),
                    redflag::kinds::names().collect::<Vec<_>>().join(", ")
                ))
            })?;
            write!(stdout, "{}", redflag::kinds::reference(kind))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn parse_formats(asked: &[String], allowed: &[&str]) -> Result<Formats, CliError> {
    let mut f = Formats::default();
    for a in asked {
        let a = a.trim();
        if !allowed.contains(&a) {
            return Err(CliError::Usage(format!(
                "--format {a}: unknown; formats: {}",
                allowed.join(", ")
            )));
        }
        f.set(a);
    }
    Ok(f)
}

fn goaml_config(f: &Formats, path: Option<&PathBuf>) -> Result<Option<GoamlConfig>, CliError> {
    if !f.goaml {
        return Ok(None);
    }
    match path {
        Some(p) => Ok(Some(GoamlConfig::load(p)?)),
        None => Err(CliError::Usage(
            "--format goaml needs --goaml-config FILE: the reporting entity and the FIU's code lists \
(see samples/goaml-config.yaml)"
                .into(),
        )),
    }
}

/// The redactor: key from $REDFLAG_REDACT_KEY; the pack's placeholder names kept.
fn redactor(pack: &Pack) -> Redactor {
    let r = match std::env::var("REDFLAG_REDACT_KEY") {
        Ok(k) if !k.is_empty() => Redactor::new(&k),
        _ => Redactor::default(),
    };
    r.keeping_placeholders(pack)
}

fn report(args: ReportArgs, stdout: &mut impl Write) -> Result<ExitCode, CliError> {
    let formats = parse_formats(&args.format, &["md", "html", "goaml"])?;
    let goaml = goaml_config(&formats, args.goaml_config.as_ref())?;
    let from_dir = if args.from.is_file() {
        args.from.parent().map(PathBuf::from).unwrap_or_default()
    } else {
        args.from.clone()
    };
    let out = args.out.clone().unwrap_or_else(|| from_dir.clone());
    if args.redact {
        let same = match (std::fs::canonicalize(&out), std::fs::canonicalize(&from_dir)) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        };
        if same {
            return Err(CliError::Usage(
                "--redact: give an --out folder other than --from, so that redacted reports are not mixed \
with the unredacted cases.json"
                    .into(),
            ));
        }
    }
    let mut cf = CasesFile::load(&args.from)?;
    if args.redact {
        // The run's pack is not at hand: the built-in pack's placeholder list is.
        redactor(&Pack::builtin()?).redact_file(&mut cf);
    }
    let names = redflag::write_reports(
        &cf,
        &out,
        &ReportOptions {
            markdown: formats.md,
            html: formats.html,
            goaml,
            min_score: args.min_score,
        },
    )?;
    if !args.quiet {
        let drafts = names.iter().filter(|n| n.starts_with("goaml/")).count();
        let mut names: Vec<String> = names.into_iter().filter(|n| !n.starts_with("goaml/")).collect();
        if formats.goaml {
            names.push(format!(
                "{drafts} goAML draft{} in goaml/",
                if drafts == 1 { "" } else { "s" }
            ));
        }
        let shown = cf.cases.iter().filter(|c| c.score >= args.min_score).count();
        writeln!(
            stdout,
            "{shown} case{} from {}: wrote {} into {}",
            if shown == 1 { "" } else { "s" },
            args.from.display(),
            names.join(", "),
            out.display()
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

fn screen(args: ScreenArgs, stdout: &mut impl Write) -> Result<ExitCode, CliError> {
    let started = redflag::now_utc();
    set_threads(args.read.threads)?;
    let spec = run_spec(&args.pack, &args.read)?;
    let pack = spec.pack()?;
    if let Some(shard) = &args.shard {
        return shards::screen_shard(&args, shard, &pack, stdout);
    }
    let finish = Finish::new(&args.output)?;
    let opts = spec.ingest_options(&pack)?;
    let show = !args.output.quiet && std::io::stderr().is_terminal();
    let t_ingest = std::time::Instant::now();
    // The time the input took to read: for shards, that of the whole sharded run, whose
    // steps overlap.
    let (mut result, data, sharding, ingest_time) = match &args.shards {
        Some(n) => {
            let n = shards::shard_count(n, args.memory_limit.as_deref(), &args.inputs)?;
            let plain = finish.outputs(&args.output, &pack);
            if plain.case_by_case() {
                let outputs = Outputs {
                    mapping: opts.mapping.as_ref().map(|m| m.name.clone()).unwrap_or_default(),
                    fx: opts.fx.as_ref().map(|f| (f.source.clone(), f.sha256.clone())),
                    started_at: started,
                    ..plain
                };
                return shards::screen_sharded_bounded(&args, &opts, &pack, n, &finish, outputs, stdout);
            }
            let (result, data, sharding) = shards::screen_sharded(&args, &opts, &pack, n, show)?;
            (result, data, sharding, t_ingest.elapsed())
        }
        None => {
            let data = ingest_shown(&args.inputs, &opts, show)?;
            let ingest_time = t_ingest.elapsed();
            check_strict(args.read.strict, &data)?;
            let result = screen_shown(&pack, &data, args.read.threads, show)?;
            (result, data, None, ingest_time)
        }
    };
    let outputs = Outputs {
        mapping: opts.mapping.as_ref().map(|m| m.name.clone()).unwrap_or_default(),
        fx: opts.fx.as_ref().map(|f| (f.source.clone(), f.sha256.clone())),
        started_at: started,
        sharding,
        ..finish.outputs(&args.output, &pack)
    };
    finish.write(&args.output, &pack, &mut result, data, &outputs, ingest_time, stdout)
}

/// Sets the worker threads for polars and the library, or says why not.
pub(crate) fn set_threads(threads: Option<usize>) -> Result<(), CliError> {
    if let Some(n) = threads {
        if n == 0 || n > redflag::MAX_THREADS {
            return Err(CliError::Usage(format!(
                "--threads {n}: give a count from 1 to {}; without --threads all cores are used",
                redflag::MAX_THREADS
            )));
        }
        // Read by polars when its thread pool starts, which is after this point.
        std::env::set_var("POLARS_MAX_THREADS", n.to_string());
    }
    Ok(())
}

/// The run's set-up from the pack and read flags.
pub(crate) fn run_spec(pack: &PackArgs, read: &ReadArgs) -> Result<RunSpec, CliError> {
    Ok(RunSpec {
        packs: pack.rules.clone(),
        sets: pack.set.clone(),
        lists: list_bindings(&pack.list)?,
        only: pack.only.clone(),
        preset: read.layout.preset.clone(),
        mapping: read.layout.mapping.clone(),
        fx: read.layout.fx.clone(),
        threads: read.threads,
        weights: pack.weights.clone(),
    })
}

/// `--strict`: any quarantined row is an error.
pub(crate) fn check_strict(strict: bool, data: &redflag::Dataset) -> Result<(), CliError> {
    data.check_strict(strict).map_err(CliError::Lib)
}

/// Reads the inputs, with a spinner on a terminal.
pub(crate) fn ingest_shown(
    inputs: &[PathBuf],
    opts: &redflag::IngestOptions,
    show: bool,
) -> Result<redflag::Dataset, CliError> {
    let spinner = show.then(|| term::spinner("reading inputs"));
    let data = heap::reading(|| redflag::ingest(inputs, opts))?;
    heap::release_free_memory();
    drop(spinner);
    Ok(data)
}

/// Screens the data, with a bar of rules on a terminal.
fn screen_shown(
    pack: &Pack,
    data: &redflag::Dataset,
    threads: Option<usize>,
    show: bool,
) -> Result<redflag::Screening, CliError> {
    let bar = show.then(|| term::bar(pack.rules.len() as u64, "rules"));
    let progress = |id: &str, done: usize, _total: usize| {
        // What the rule freed goes back to the system before the next one allocates.
        heap::release_free_memory();
        if let Some(b) = &bar {
            b.set_position(done as u64);
            b.set_message(term::clean(id).into_owned());
        }
    };
    let options = redflag::ScreenOptions {
        threads,
        ..Default::default()
    };
    let result = redflag::screen_with(pack, data, &options, &progress)?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    Ok(result)
}

/// The last stage of a screen or merge: the outputs written, timings and summary printed,
/// the exit status.
pub(crate) struct Finish {
    formats: Formats,
    goaml: Option<GoamlConfig>,
    fail_on: Option<FailOn>,
}

impl Finish {
    /// The output flags checked before any work.
    pub(crate) fn new(o: &OutputArgs) -> Result<Finish, CliError> {
        let formats = parse_formats(&o.format, &["json", "csv", "md", "html", "goaml"])?;
        let goaml = goaml_config(&formats, o.goaml_config.as_ref())?;
        let fail_on = o.fail_on.as_deref().map(parse_fail_on).transpose()?;
        Ok(Finish {
            formats,
            goaml,
            fail_on,
        })
    }

    /// What is written, but how the inputs were read and when the run started.
    pub(crate) fn outputs(&self, o: &OutputArgs, pack: &Pack) -> Outputs {
        Outputs {
            formats: self.formats,
            min_score: o.min_score,
            redactor: o.redact.then(|| redactor(pack)),
            goaml: self.goaml.clone(),
            ..Default::default()
        }
    }

    /// Writes the outputs, prints the timings and the summary, and gives the exit status.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn write(
        &self,
        o: &OutputArgs,
        pack: &Pack,
        result: &mut redflag::Screening,
        data: redflag::Dataset,
        outputs: &Outputs,
        ingest_time: std::time::Duration,
        stdout: &mut impl Write,
    ) -> Result<ExitCode, CliError> {
        let t_write = std::time::Instant::now();
        let manifest = result.write(pack, &data, &o.out, outputs)?;
        if o.timings {
            let mut steps = vec![("ingest".to_string(), ingest_time)];
            steps.extend(result.run.timings.iter().cloned());
            steps.push(("write".into(), t_write.elapsed()));
            eprint!("{}", term::clean(&render::timings(&steps)));
        }
        if !o.quiet {
            write!(stdout, "{}", render::screen_summary(result, &manifest, &o.out, o.top))?;
        }
        let failing = self.fail_on.is_some_and(|f| result.cases.iter().any(|c| f.hit(c)));
        // The process ends here: freeing millions of rows and alerts one by one would only
        // delay the exit (a tenth of a second a million rows), so they are left to the OS.
        std::mem::forget(std::mem::take(&mut result.cases));
        std::mem::forget(data);
        Ok(if failing { ExitCode::from(1) } else { ExitCode::SUCCESS })
    }
}

impl Finish {
    /// [`Finish::write`] for cases kept on disk ([`redflag::shard::CaseStore`]).
    pub(crate) fn write_store(
        &self,
        o: &OutputArgs,
        pack: &Pack,
        store: &redflag::shard::CaseStore,
        outputs: &Outputs,
        run_time: std::time::Duration,
        stdout: &mut impl Write,
    ) -> Result<ExitCode, CliError> {
        let t_write = std::time::Instant::now();
        let manifest = redflag::write_case_store(store, pack, &o.out, outputs)?;
        if o.timings {
            let steps = vec![("run".to_string(), run_time), ("write".into(), t_write.elapsed())];
            eprint!("{}", term::clean(&render::timings(&steps)));
        }
        if !o.quiet {
            let shown = redflag::Screening {
                cases: store.top(o.top, o.min_score)?,
                run: store.run.clone(),
                accounts: store.accounts,
            };
            write!(stdout, "{}", render::screen_summary(&shown, &manifest, &o.out, o.top))?;
        }
        let failing = self.fail_on.is_some_and(|f| {
            store
                .entries()
                .iter()
                .any(|e| e.score >= o.min_score && f.hit_parts(e.severity, e.score))
        });
        Ok(if failing { ExitCode::from(1) } else { ExitCode::SUCCESS })
    }
}

#[derive(Clone, Copy)]
pub(crate) enum FailOn {
    Severity(Severity),
    Score(f64),
}

impl FailOn {
    fn hit(self, c: &Case) -> bool {
        self.hit_parts(c.severity, c.score)
    }

    fn hit_parts(self, severity: Severity, score: f64) -> bool {
        match self {
            FailOn::Severity(s) => severity >= s,
            FailOn::Score(n) => score >= n,
        }
    }
}

/// A number option's value: a finite number (`NaN` and `inf` compare with nothing).
pub(crate) fn finite_number(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(n) if n.is_finite() => Ok(n),
        Ok(_) => Err(format!("`{s}` is not a finite number; give one such as 40")),
        Err(_) => Err(format!("`{s}` is not a number; give one such as 40")),
    }
}

fn parse_fail_on(s: &str) -> Result<FailOn, CliError> {
    if let Ok(n) = s.parse::<f64>() {
        if !n.is_finite() {
            return Err(CliError::Usage(format!(
                "--fail-on {s}: a score must be a finite number, such as 50"
            )));
        }
        return Ok(FailOn::Score(n));
    }
    match s {
        "low" => Ok(FailOn::Severity(Severity::Low)),
        "medium" => Ok(FailOn::Severity(Severity::Medium)),
        "high" => Ok(FailOn::Severity(Severity::High)),
        "critical" => Ok(FailOn::Severity(Severity::Critical)),
        other => Err(CliError::Usage(format!(
            "--fail-on {other}: give a severity (low, medium, high, critical) or a score"
        ))),
    }
}
