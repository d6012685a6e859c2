//! `redflag._redflag`: the native part of the `redflag` Python package. The Python
//! modules (`python/redflag/`) give the public API; this module assembles runs through
//! the library (`RunSpec`, `screen_with`, `Screening::write`), moves frames across the
//! Arrow C stream interface ([`arrow`]), and turns library errors into Python exceptions
//! ([`errors`]). Screening runs on a thread of its own with the GIL released; the calling
//! thread watches for Ctrl-C and stops the run through its `Cancel` flag.

mod arrow;
mod errors;
mod spark;

use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

use polars::prelude::*;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use redflag::report::{GoamlConfig, ReportOptions};
use redflag::{Cancel, CasesFile, Dataset, Formats, ListSource, Manifest, Outputs, Pack, RunSpec, Screening};

use crate::arrow::ArrowStream;
use crate::errors::to_py;

/// The data of a run: input files (paths or glob patterns), or a frame read through
/// the Arrow C stream interface, named `name` in the manifest.
enum Input {
    Paths(Vec<PathBuf>),
    Frame(DataFrame, String),
}

impl Input {
    fn from_args(paths: Option<Vec<PathBuf>>, frame: Option<&Bound<'_, PyAny>>, name: String) -> PyResult<Input> {
        match (paths, frame) {
            (Some(p), None) => Ok(Input::Paths(p)),
            (None, Some(f)) => Ok(Input::Frame(arrow::frame_from_py(f)?, name)),
            _ => Err(PyValueError::new_err("give input paths or a frame, one of them")),
        }
    }

    fn read(self, opts: &redflag::IngestOptions) -> redflag::Result<Dataset> {
        match self {
            Input::Paths(p) => redflag::ingest(&p, opts),
            Input::Frame(df, name) => Dataset::from_frame(df, &name, opts),
        }
    }
}

/// The arguments that assemble a run, as the Python functions pass them.
#[allow(clippy::too_many_arguments)]
fn run_spec(
    rules: Vec<PathBuf>,
    preset: Option<String>,
    mapping: Option<PathBuf>,
    fx: Option<PathBuf>,
    sets: Vec<String>,
    lists: Vec<(String, Option<PathBuf>, Option<Vec<String>>)>,
    only: Vec<String>,
    threads: Option<usize>,
) -> PyResult<RunSpec> {
    if threads == Some(0) {
        return Err(PyValueError::new_err("threads must be at least 1"));
    }
    let lists = lists
        .into_iter()
        .map(|(name, path, values)| match (path, values) {
            (Some(p), _) => (name, ListSource::Path(p)),
            (None, v) => (name, ListSource::Values(v.unwrap_or_default())),
        })
        .collect();
    Ok(RunSpec {
        packs: rules,
        sets,
        lists,
        only,
        preset,
        mapping,
        fx,
        threads,
        weights: None,
    })
}

/// Runs `job` on a thread of its own with the GIL released; every tenth of a second the
/// calling thread takes the GIL back to run Python's signal handlers. A Ctrl-C sets
/// `cancel`, waits for the job to stop at its next step or rule, and raises the
/// KeyboardInterrupt.
fn run_interruptible<T: Send>(
    py: Python<'_>,
    cancel: &Cancel,
    job: impl FnOnce() -> redflag::Result<T> + Send,
) -> PyResult<T> {
    std::thread::scope(|s| {
        let (tx, rx) = mpsc::channel();
        // Shared with the closures that wait with the GIL released.
        let rx = std::sync::Mutex::new(rx);
        let wait = |timeout: Option<Duration>| {
            let rx = rx.lock().unwrap_or_else(|p| p.into_inner());
            match timeout {
                Some(t) => rx.recv_timeout(t),
                None => rx.recv().map_err(|_| mpsc::RecvTimeoutError::Disconnected),
            }
        };
        let worker = std::thread::Builder::new()
            .name("redflag".into())
            // The CLI runs on the main thread's stack; this thread gets as much.
            .stack_size(8 << 20)
            .spawn_scoped(s, move || {
                let _ = tx.send(job());
            })
            .map_err(|e| PyValueError::new_err(format!("starting the screening thread: {e}")))?;
        loop {
            match py.detach(|| wait(Some(Duration::from_millis(25)))) {
                Ok(res) => return res.map_err(to_py),
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    // The job panicked: joining resumes the panic, which PyO3 raises.
                    if let Err(p) = worker.join() {
                        std::panic::resume_unwind(p);
                    }
                    return Err(PyValueError::new_err("the screening thread ended without a result"));
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if let Err(interrupt) = py.check_signals() {
                        cancel.cancel();
                        let _ = py.detach(|| wait(None));
                        return Err(interrupt);
                    }
                }
            }
        }
    })
}

/// The result of a screening: the pack, the data, the cases, and what `write` needs to
/// write the CLI's files.
#[pyclass(module = "redflag._redflag")]
struct Screen {
    pack: Pack,
    data: Dataset,
    screening: Screening,
    outputs: Outputs,
    manifest: Manifest,
}

#[pymethods]
impl Screen {
    /// `alerts.csv`'s rows as a frame.
    fn alerts(&self) -> PyResult<ArrowStream> {
        let df = redflag::alerts_frame(&self.screening.cases, &self.data).map_err(to_py)?;
        Ok(ArrowStream::new(df))
    }

    /// The rows that could not be screened, with their reasons.
    fn quarantine(&self) -> ArrowStream {
        ArrowStream::new(self.data.quarantine.clone())
    }

    /// The cases as `cases.json` holds them: a JSON array.
    fn cases_json(&self) -> PyResult<String> {
        serde_json::to_string(&self.screening.cases).map_err(|e| PyValueError::new_err(e.to_string()))
    }

    /// The manifest as `manifest.json` holds it.
    fn manifest_json(&self) -> PyResult<String> {
        serde_json::to_string(&self.manifest).map_err(|e| PyValueError::new_err(e.to_string()))
    }

    /// How many cases.
    fn case_count(&self) -> usize {
        self.screening.cases.len()
    }

    /// Writes the CLI's files into `out_dir`, whole or not at all; returns the manifest
    /// written, as JSON.
    #[pyo3(signature = (out_dir, formats, goaml_config=None))]
    fn write(
        &mut self,
        py: Python<'_>,
        out_dir: PathBuf,
        formats: Vec<String>,
        goaml_config: Option<PathBuf>,
    ) -> PyResult<String> {
        let mut f = Formats::default();
        for name in &formats {
            if !f.set(name.trim()) {
                return Err(PyValueError::new_err(format!(
                    "format `{name}`: unknown; formats: json, csv, md, html, goaml"
                )));
            }
        }
        let goaml = match (f.goaml, goaml_config) {
            (false, _) => None,
            (true, Some(p)) => Some(GoamlConfig::load(&p).map_err(to_py)?),
            (true, None) => {
                return Err(PyValueError::new_err(
                    "the goaml format needs goaml_config: the reporting entity and the FIU's code lists \
                     (see samples/goaml-config.yaml)",
                ))
            }
        };
        let outputs = Outputs {
            formats: f,
            goaml,
            ..self.outputs.clone()
        };
        let Screen {
            pack, data, screening, ..
        } = self;
        let manifest = py
            .detach(|| screening.write(pack, data, &out_dir, &outputs))
            .map_err(to_py)?;
        serde_json::to_string(&manifest).map_err(|e| PyValueError::new_err(e.to_string()))
    }

    /// A report (`report.html` or `report.md`) as text, rendered as `write` writes it.
    fn report(&self, py: Python<'_>, format: &str) -> PyResult<String> {
        let (opts, name) = match format {
            "html" => (
                ReportOptions {
                    html: true,
                    ..Default::default()
                },
                "report.html",
            ),
            "md" => (
                ReportOptions {
                    markdown: true,
                    ..Default::default()
                },
                "report.md",
            ),
            other => return Err(PyValueError::new_err(format!("report `{other}`: give html or md"))),
        };
        let cf = CasesFile::new(self.manifest.clone(), self.screening.cases.clone(), &self.pack);
        let files = py.detach(|| redflag::report::render(&cf, &opts)).map_err(to_py)?;
        files
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, b)| String::from_utf8_lossy(&b).into_owned())
            .ok_or_else(|| PyValueError::new_err(format!("{name} was not rendered")))
    }
}

/// Screens paths or a frame; see `redflag.screen`.
#[pyfunction]
#[pyo3(signature = (paths, frame, name, pack, rules, preset, mapping, fx, sets, lists, only, min_score, threads, weights=None))]
#[allow(clippy::too_many_arguments)]
fn screen(
    py: Python<'_>,
    paths: Option<Vec<PathBuf>>,
    frame: Option<Bound<'_, PyAny>>,
    name: String,
    pack: Option<PyRef<'_, PyPack>>,
    rules: Vec<PathBuf>,
    preset: Option<String>,
    mapping: Option<PathBuf>,
    fx: Option<PathBuf>,
    sets: Vec<String>,
    lists: Vec<(String, Option<PathBuf>, Option<Vec<String>>)>,
    only: Vec<String>,
    min_score: f64,
    threads: Option<usize>,
    weights: Option<PathBuf>,
) -> PyResult<Screen> {
    let started = redflag::now_utc();
    let mut spec = run_spec(rules, preset, mapping, fx, sets, lists, only, threads)?;
    spec.weights = weights;
    let input = Input::from_args(paths, frame.as_ref(), name)?;
    let base = pack.map(|p| p.pack.clone());
    let cancel = Cancel::new();
    let options = redflag::ScreenOptions {
        threads,
        cancel: cancel.clone(),
    };
    run_interruptible(py, &cancel, move || {
        let pack = match base {
            Some(p) => spec.apply(p)?,
            None => spec.pack()?,
        };
        let opts = spec.ingest_options(&pack)?;
        let data = input.read(&opts)?;
        let mut screening = redflag::screen_with(&pack, &data, &options, &|_, _, _| {})?;
        screening.cases.retain(|c| c.score >= min_score);
        let outputs = Outputs {
            min_score,
            mapping: opts.mapping.as_ref().map(|m| m.name.clone()).unwrap_or_default(),
            fx: opts.fx.as_ref().map(|f| (f.source.clone(), f.sha256.clone())),
            started_at: started,
            ..Default::default()
        };
        let manifest = screening.manifest(&pack, &data, &outputs);
        Ok(Screen {
            pack,
            data,
            screening,
            outputs,
            manifest,
        })
    })
}

/// A rule pack.
#[pyclass(module = "redflag._redflag", name = "Pack")]
struct PyPack {
    pack: Pack,
}

#[pymethods]
impl PyPack {
    /// The built-in `fatf-core` pack.
    #[staticmethod]
    fn builtin() -> PyResult<PyPack> {
        Pack::builtin().map(|pack| PyPack { pack }).map_err(to_py)
    }

    /// A pack file (YAML or TOML), checked.
    #[staticmethod]
    fn load(path: PathBuf) -> PyResult<PyPack> {
        Pack::load(&path).map(|pack| PyPack { pack }).map_err(to_py)
    }

    /// The pack with parameter overrides, list bindings and a rule selection applied.
    #[pyo3(signature = (sets, lists, only))]
    fn configured(
        &self,
        sets: Vec<String>,
        lists: Vec<(String, Option<PathBuf>, Option<Vec<String>>)>,
        only: Vec<String>,
    ) -> PyResult<PyPack> {
        let spec = run_spec(Vec::new(), None, None, None, sets, lists, only, None)?;
        spec.apply(self.pack.clone()).map(|pack| PyPack { pack }).map_err(to_py)
    }

    #[getter]
    fn id(&self) -> String {
        self.pack.id.clone()
    }

    #[getter]
    fn version(&self) -> String {
        self.pack.version.clone()
    }

    #[getter]
    fn title(&self) -> String {
        self.pack.title.clone()
    }

    #[getter]
    fn base_currency(&self) -> String {
        self.pack.base_currency.clone()
    }

    #[getter]
    fn source(&self) -> String {
        self.pack.source.clone()
    }

    /// Pack-wide parameters and their values, as JSON.
    fn params_json(&self) -> PyResult<String> {
        serde_json::to_string(&self.pack.params).map_err(|e| PyValueError::new_err(e.to_string()))
    }

    /// One row a rule: id, kind, severity, typologies, title (as `redflag rules list`).
    fn rules(&self) -> PyResult<ArrowStream> {
        let rules = &self.pack.rules;
        let typologies: Vec<Series> = rules
            .iter()
            .map(|r| Series::new("".into(), r.def.typologies.as_slice()))
            .collect();
        let mut typ = Series::new("typologies".into(), typologies);
        if rules.is_empty() {
            typ = Series::new_empty("typologies".into(), &DataType::List(Box::new(DataType::String)));
        }
        let df = DataFrame::new_infer_height(vec![
            Column::new(
                "id".into(),
                rules.iter().map(|r| r.id().to_string()).collect::<Vec<_>>(),
            ),
            Column::new(
                "kind".into(),
                rules.iter().map(|r| r.kind.name().to_string()).collect::<Vec<_>>(),
            ),
            Column::new(
                "severity".into(),
                rules
                    .iter()
                    .map(|r| r.def.severity.as_str().to_string())
                    .collect::<Vec<_>>(),
            ),
            typ.into(),
            Column::new(
                "title".into(),
                rules.iter().map(|r| r.def.title.clone()).collect::<Vec<_>>(),
            ),
        ])
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
        Ok(ArrowStream::new(df))
    }

    /// The pack's catalogue in Markdown, as `redflag rules doc` writes it.
    fn catalogue(&self) -> String {
        redflag::catalogue(&self.pack)
    }

    fn __len__(&self) -> usize {
        self.pack.rules.len()
    }
}

/// Precision and recall against labels; see `redflag.evaluate`. Returns JSON.
#[pyfunction]
#[pyo3(signature = (paths, frame, name, labels_path, labels_frame, label_column, rules, preset, mapping, fx, sets, lists, only, sweep, weights=None))]
#[allow(clippy::too_many_arguments)]
fn evaluate(
    py: Python<'_>,
    paths: Option<Vec<PathBuf>>,
    frame: Option<Bound<'_, PyAny>>,
    name: String,
    labels_path: Option<PathBuf>,
    labels_frame: Option<Bound<'_, PyAny>>,
    label_column: Option<String>,
    rules: Vec<PathBuf>,
    preset: Option<String>,
    mapping: Option<PathBuf>,
    fx: Option<PathBuf>,
    sets: Vec<String>,
    lists: Vec<(String, Option<PathBuf>, Option<Vec<String>>)>,
    only: Vec<String>,
    sweep: Option<String>,
    weights: Option<PathBuf>,
) -> PyResult<String> {
    use redflag::evaluate::{Labels, Sweep};
    if labels_path.is_none() && labels_frame.is_none() && label_column.is_none() {
        return Err(PyValueError::new_err(
            "give labels (a labels file or frame: txn_id,scheme_id,typology[,account,role,pattern]) or label_column",
        ));
    }
    let mut spec = run_spec(rules, preset, mapping, fx, sets, lists, only, None)?;
    spec.weights = weights;
    let input = Input::from_args(paths, frame.as_ref(), name)?;
    let labels_df = labels_frame.as_ref().map(arrow::frame_from_py).transpose()?;
    let cancel = Cancel::new();
    run_interruptible(py, &cancel, move || {
        let sweep: Option<Sweep> = sweep.as_deref().map(str::parse).transpose()?;
        let pack = spec.pack()?;
        let file_labels = match (&labels_path, &labels_df) {
            (Some(p), _) => Some(Labels::load(p)?),
            (None, Some(df)) => Some(Labels::from_frame(df, "labels")?),
            (None, None) => None,
        };
        let mut opts = spec.ingest_options(&pack)?;
        if let (Some(c), Some(m)) = (&label_column, opts.mapping.as_mut()) {
            m.label = Some(c.clone());
        }
        let data = input.read(&opts)?;
        let labels = match (file_labels, &label_column) {
            (Some(l), _) => l,
            (None, Some(c)) => Labels::from_column(&data, c)?,
            (None, None) => {
                return Err(redflag::Error::Override {
                    what: "labels",
                    value: String::new(),
                    message: "give labels (a path or a frame) or label_column".into(),
                })
            }
        };
        let json = match &sweep {
            Some(spec) => serde_json::to_string(&redflag::evaluate::sweep(&pack, &data, &labels, spec, &|_, _| {})?),
            None => serde_json::to_string(&redflag::evaluate::evaluate(&pack, &data, &labels)?),
        };
        json.map_err(|e| redflag::Error::Results {
            path: "evaluation".into(),
            message: e.to_string(),
        })
    })
}

/// Synthetic transactions with planted, labelled schemes; see `redflag.generate`.
#[pyfunction]
#[pyo3(signature = (rows, accounts, days, seed, start, fraction, typologies, profile))]
#[allow(clippy::too_many_arguments)]
fn generate(
    py: Python<'_>,
    rows: usize,
    accounts: usize,
    days: u32,
    seed: u64,
    start: &str,
    fraction: f64,
    typologies: Option<Vec<String>>,
    profile: &str,
) -> PyResult<(ArrowStream, ArrowStream)> {
    let start = chrono::NaiveDate::parse_from_str(start, "%Y-%m-%d")
        .map_err(|_| PyValueError::new_err(format!("start `{start}`: write a date as YYYY-MM-DD")))?;
    let profile: redflag_synth::Profile = profile
        .parse()
        .map_err(|e: redflag_synth::SynthError| PyValueError::new_err(format!("profile: {e}")))?;
    let none = typologies.as_ref().is_some_and(|t| t.is_empty());
    let cfg = redflag_synth::SynthConfig {
        seed,
        transactions: rows,
        accounts,
        days,
        start,
        plant: !none,
        fraction,
        typologies: typologies.unwrap_or_default(),
        profile,
    };
    let data = py
        .detach(|| redflag_synth::generate(&cfg))
        .map_err(|e| errors::RedflagError::new_err(format!("generate: {e}")))?;
    Ok((ArrowStream::new(data.transactions), ArrowStream::new(data.labels)))
}

/// The native module.
#[pymodule]
fn _redflag(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(screen, m)?)?;
    m.add_function(wrap_pyfunction!(evaluate, m)?)?;
    m.add_function(wrap_pyfunction!(generate, m)?)?;
    m.add_function(wrap_pyfunction!(spark::shard_batch, m)?)?;
    m.add_function(wrap_pyfunction!(spark::shard_partition, m)?)?;
    m.add_function(wrap_pyfunction!(spark::shard_run, m)?)?;
    m.add_function(wrap_pyfunction!(spark::shard_peer_tally, m)?)?;
    m.add_function(wrap_pyfunction!(spark::shard_peer_groups, m)?)?;
    m.add_function(wrap_pyfunction!(spark::shard_merge, m)?)?;
    m.add_class::<Screen>()?;
    m.add_class::<PyPack>()?;
    m.add_class::<ArrowStream>()?;
    errors::register(m)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
