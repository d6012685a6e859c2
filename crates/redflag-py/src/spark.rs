//! The native steps of `redflag.spark`: a batch of a Spark partition read and split by
//! shard on an executor, a shard screened on an executor, and the merge on the driver.
//! Frames travel between them as Parquet bytes, which Spark moves as binary cells; the
//! library does the work (`redflag::shard`), this module only converts.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Mutex, OnceLock};

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use redflag::shard::{self, PartData, PartitionInfo, ShardRun, Work};
use redflag::{Cancel, IngestOptions, Outputs, Pack, RunSpec, Sharding};

use crate::errors::to_py;
use crate::{run_spec, Screen};

/// A run's set-up as `redflag.spark` passes it: JSON of the arguments of `screen`.
#[derive(serde::Deserialize)]
struct SpecArgs {
    rules: Vec<std::path::PathBuf>,
    preset: Option<String>,
    mapping: Option<std::path::PathBuf>,
    fx: Option<std::path::PathBuf>,
    sets: Vec<String>,
    lists: Vec<(String, Option<std::path::PathBuf>, Option<Vec<String>>)>,
    only: Vec<String>,
    threads: Option<usize>,
    #[serde(default)]
    weights: Option<std::path::PathBuf>,
}

/// The pack and ingest options of a set-up, built once a process (an executor screens
/// many batches with the same one).
fn assembled(spec: &str) -> PyResult<(Pack, IngestOptions)> {
    static BUILT: OnceLock<Mutex<HashMap<String, (Pack, IngestOptions)>>> = OnceLock::new();
    let cache = BUILT.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(hit) = cache.lock().ok().and_then(|c| c.get(spec).cloned()) {
        return Ok(hit);
    }
    let a: SpecArgs = serde_json::from_str(spec).map_err(|e| PyValueError::new_err(format!("spark spec: {e}")))?;
    let mut spec_run: RunSpec = run_spec(a.rules, a.preset, a.mapping, a.fx, a.sets, a.lists, a.only, a.threads)?;
    spec_run.weights = a.weights;
    let pack = spec_run.pack().map_err(to_py)?;
    let opts = spec_run.ingest_options(&pack).map_err(to_py)?;
    if let Ok(mut c) = cache.lock() {
        c.insert(spec.to_string(), (pack.clone(), opts.clone()));
    }
    Ok((pack, opts))
}

/// The most rows a part's binary cell holds.
const CELL_ROWS: usize = 50_000;

fn bytes<'py>(py: Python<'py>, b: &[u8]) -> Bound<'py, PyBytes> {
    PyBytes::new(py, b)
}

/// What a batch gives: its parts by shard (the cross-account stage's as shard `shards`),
/// its quarantine, the ids of its screened rows, the columns present, rows read and
/// quarantined.
type BatchOut<'py> = (
    Vec<(u32, Bound<'py, PyBytes>)>,
    Bound<'py, PyBytes>,
    Vec<String>,
    Vec<String>,
    u64,
    u64,
    Option<i64>,
);

/// Reads a batch (an Arrow table with a `_row` column numbering its rows in the whole
/// input) and splits it by shard.
#[pyfunction]
pub(crate) fn shard_batch<'py>(
    py: Python<'py>,
    frame: Bound<'py, PyAny>,
    spec: &str,
    shards: u32,
    name: String,
) -> PyResult<BatchOut<'py>> {
    let df = crate::arrow::frame_from_py(&frame)?;
    let (pack, opts) = assembled(spec)?;
    let (batch, parts, quarantine) = py
        .detach(|| -> redflag::Result<_> {
            let batch = shard::read_batch(df, &name, &opts, &pack, shards)?;
            let mut parts = Vec::new();
            let units = batch.parts.shards.iter().enumerate().map(|(i, p)| (i as u32, p));
            for (unit, p) in units.chain(batch.parts.cross.iter().map(|c| (shards, c))) {
                // Cells of a few MB: Spark copies each binary cell whole, on its heap.
                for start in (0..p.height()).step_by(CELL_ROWS) {
                    parts.push((unit, shard::text_parquet_bytes(&p.slice(start as i64, CELL_ROWS))?));
                }
            }
            let quarantine = shard::parquet_bytes(batch.quarantine.clone())?;
            Ok((batch, parts, quarantine))
        })
        .map_err(to_py)?;
    let rows_quarantined = batch.quarantine.height() as u64;
    Ok((
        parts.iter().map(|(i, b)| (*i, bytes(py, b))).collect(),
        bytes(py, &quarantine),
        batch.txn_ids,
        batch.present,
        batch.rows_read,
        rows_quarantined,
        batch.first_time,
    ))
}

/// The description of the partition the batches make, as JSON.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
pub(crate) fn shard_partition(
    spec: &str,
    shards: u32,
    present: Vec<String>,
    name: &str,
    rows_read: u64,
    rows_quarantined: u64,
    first_time: Option<i64>,
    id: String,
) -> PyResult<String> {
    let (pack, opts) = assembled(spec)?;
    let info = shard::batches_partition(
        &pack,
        shards,
        present,
        name,
        rows_read,
        rows_quarantined,
        first_time,
        shard::ReadWith::of(&opts),
        id,
    )
    .map_err(to_py)?;
    serde_json::to_string(&info).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// A shard's rows as a part: its cells, or no row.
fn part_data(raw: Vec<Vec<u8>>, pack: &Pack, shards: u32, cross: bool) -> redflag::Result<PartData> {
    if raw.is_empty() {
        Ok(PartData::Frame(shard::empty_part(pack, shards, cross)?))
    } else {
        Ok(PartData::Cells(raw))
    }
}

/// What shard `unit`'s accounts give to the statistics of the partition's peer groups,
/// as JSON; `parts` are the Parquet bytes of its rows from every batch.
#[pyfunction]
pub(crate) fn shard_peer_tally(
    py: Python<'_>,
    parts: Vec<Bound<'_, PyBytes>>,
    spec: &str,
    partition: &str,
    unit: u32,
) -> PyResult<String> {
    let info = partition_info(partition)?;
    let (pack, opts) = assembled(spec)?;
    let raw: Vec<Vec<u8>> = parts.iter().map(|b| b.as_bytes().to_vec()).collect();
    let tally = py
        .detach(|| -> redflag::Result<_> {
            let rows = part_data(raw, &pack, info.shards, false)?;
            shard::peer_tally(&info, unit, &rows, &pack, opts.threads)
        })
        .map_err(to_py)?;
    serde_json::to_string(&tally).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// The partition's description with the statistics of its peer groups, from every
/// shard's tally (as `shard_peer_tally` returns them).
#[pyfunction]
pub(crate) fn shard_peer_groups(partition: &str, tallies: Vec<String>) -> PyResult<String> {
    let mut info = partition_info(partition)?;
    let mut tally = redflag::PeerTally::default();
    for t in &tallies {
        tally.join(serde_json::from_str(t).map_err(|e| PyValueError::new_err(format!("peer tally: {e}")))?);
    }
    shard::set_peer_groups(&mut info, &tally);
    serde_json::to_string(&info).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// A partition's description from its JSON.
fn partition_info(partition: &str) -> PyResult<PartitionInfo> {
    serde_json::from_str(partition).map_err(|e| PyValueError::new_err(format!("partition: {e}")))
}

/// Screens one unit of the partition: shard `unit`'s accounts, or, when `unit` is the
/// shard count, the cross-account stage; `parts` are the Parquet bytes of its rows from
/// every batch. Returns the run as named files.
#[pyfunction]
pub(crate) fn shard_run<'py>(
    py: Python<'py>,
    parts: Vec<Bound<'py, PyBytes>>,
    spec: &str,
    partition: &str,
    unit: u32,
) -> PyResult<Vec<(String, Bound<'py, PyBytes>)>> {
    let info = partition_info(partition)?;
    let (pack, opts) = assembled(spec)?;
    let raw: Vec<Vec<u8>> = parts.iter().map(|b| b.as_bytes().to_vec()).collect();
    let files = py
        .detach(|| -> redflag::Result<_> {
            let cross = unit == info.shards;
            let rows = part_data(raw, &pack, info.shards, cross)?;
            let work = if cross {
                Work {
                    cross: Some(rows),
                    ..Work::default()
                }
            } else {
                Work {
                    local: Some((unit, rows)),
                    ..Work::default()
                }
            };
            shard::screen_work(&info, work, &pack, opts.threads, &Cancel::new())?.files()
        })
        .map_err(to_py)?;
    Ok(files.iter().map(|(n, b)| (n.clone(), bytes(py, b))).collect())
}

/// Merges the runs of every unit (as `shard_run` returns them) and the batches'
/// quarantines into the result of a screening.
#[pyfunction]
pub(crate) fn shard_merge(
    py: Python<'_>,
    runs: Vec<Vec<(String, Bound<'_, PyBytes>)>>,
    quarantines: Vec<Bound<'_, PyBytes>>,
    spec: &str,
    min_score: f64,
    started_at: String,
) -> PyResult<Screen> {
    let (pack, opts) = assembled(spec)?;
    let runs: Vec<Vec<(String, Vec<u8>)>> = runs
        .iter()
        .map(|files| files.iter().map(|(n, b)| (n.clone(), b.as_bytes().to_vec())).collect())
        .collect();
    let quarantines: Vec<Vec<u8>> = quarantines.iter().map(|b| b.as_bytes().to_vec()).collect();
    py.detach(|| -> redflag::Result<Screen> {
        let mut parsed = runs
            .iter()
            .map(|files| ShardRun::from_files(files, Path::new("spark")))
            .collect::<redflag::Result<Vec<_>>>()?;
        let frames = quarantines
            .iter()
            .map(|b| shard::from_parquet_bytes(b, "a batch's quarantine"))
            .collect::<redflag::Result<Vec<_>>>()?;
        if let Some(first) = parsed.first_mut() {
            first.quarantine = Some(shard::joined_quarantine(frames)?);
        }
        let names: Vec<String> = parsed
            .iter()
            .map(|r| match r.info.index {
                Some(i) => format!("spark shard {i}"),
                None => "spark cross-account stage".to_string(),
            })
            .collect();
        let merged = shard::merge_runs(parsed, &names, &pack, opts.threads)?;
        let mut screening = redflag::Screening {
            cases: merged.cases,
            run: merged.run,
            accounts: merged.accounts,
        };
        screening.cases.retain(|c| c.score >= min_score);
        let outputs = Outputs {
            min_score,
            mapping: merged.partition.read.mapping.clone(),
            fx: merged.partition.read.fx.clone(),
            started_at,
            sharding: Some(Sharding {
                shards: merged.partition.shards,
                hash: merged.partition.hash.clone(),
            }),
            ..Default::default()
        };
        let manifest = screening.manifest(&pack, &merged.data, &outputs);
        Ok(Screen {
            pack,
            data: merged.data,
            screening,
            outputs,
            manifest,
        })
    })
    .map_err(to_py)
}
