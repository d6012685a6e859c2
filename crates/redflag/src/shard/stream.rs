//! The partition made as the inputs are read: the screened rows are never held at once
//! ([`crate::ingest::ingest_streamed`]); each group of rows is split by shard and
//! appended to the shard files, whose memory is a group's.

use std::fs::File;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::partition::{check_shard_count, Splitter};
use super::{
    cross_columns, pack_fingerprint, parquet_bytes, plan, shard_file, PartData, PartitionInfo, ReadWith, CROSS_FILE,
    HASH, PARTITION_FILE, QUARANTINE_FILE,
};
use crate::error::{Error, Result};
use crate::ingest::{Dataset, IngestOptions};
use crate::output::Staged;
use crate::pack::Pack;

/// Rows read, checked and split at a time: a group's memory bounds the partition's.
pub const GROUP_ROWS: usize = 1 << 21;

/// Rows turned to text and written at a time.
const TEXT_ROWS: usize = 1 << 19;

/// Reads `inputs` as `opts` says, `group_rows` rows at a time (at least;
/// [`GROUP_ROWS`] bounds memory well), and writes their partition into `dir` for
/// screening with `pack` in `shards` shards: `shard-NNNN.parquet` (the transactions of
/// each shard's accounts, in row order, with their row: their place among the screened
/// rows), `cross.parquet` (every transaction, with only the columns of the cross-account
/// stage's rules), `quarantine.parquet` and `partition.json`. `accept` sees the ingest's
/// outcome (counts, quarantine; no transactions) before any file is placed, and may refuse
/// it (strict mode). All files, or none. Returns the partition and the ingest's outcome.
pub fn partition_inputs(
    inputs: &[PathBuf],
    opts: &IngestOptions,
    pack: &Pack,
    shards: u32,
    dir: &Path,
    group_rows: usize,
    accept: &dyn Fn(&Dataset) -> Result<()>,
) -> Result<(PartitionInfo, Dataset)> {
    check_shard_count(shards, dir)?;
    let plan = plan(pack);
    let mut files = PartFiles {
        staged: Staged::new(dir)?,
        writers: (0..=shards).map(|_| None).collect(),
        rows: vec![0; shards as usize + 1],
        templates: [None, None],
        shards,
    };
    let mut next_row = 0u64;
    let mut first_time: Option<i64> = None;
    let mut sink = |group: DataFrame| -> Result<()> {
        let group = group.drop(crate::schema::LABEL).unwrap_or(group);
        first_time = first_time.into_iter().chain(crate::schema::first_time(&group)?).min();
        let h = group.height() as u64;
        let rows: Vec<u64> = (next_row..next_row + h).collect();
        next_row += h;
        let splitter = Splitter::new(&group, &rows, pack, shards)?;
        drop(group);
        for i in 0..shards {
            files.append(i as usize, splitter.shard(i)?)?;
        }
        if let Some(cross) = splitter.cross()? {
            files.append(shards as usize, cross)?;
        }
        Ok(())
    };
    let data = crate::ingest::ingest_streamed(inputs, opts, group_rows, &mut sink)?;
    accept(&data)?;
    let cross = !plan.cross.is_empty();
    let (mut staged, shard_rows, mut digests) = files.finish(cross)?;
    let quarantine = parquet_bytes(data.quarantine.clone())?;
    digests.push(crate::util::hash::sha256_hex(&quarantine));
    write_all(&mut staged, QUARANTINE_FILE, &quarantine)?;
    let mut info = PartitionInfo {
        format: 1,
        shards,
        hash: HASH.into(),
        pack: pack_fingerprint(pack),
        present: data.present.clone(),
        columns_read: data.columns_read.clone(),
        inputs: data.inputs.clone(),
        read: ReadWith::of(opts),
        shard_rows,
        whole: crate::model::Whole {
            first_time,
            ..Default::default()
        },
        cross_columns: cross_columns(pack, &plan)?,
        cross_rules: plan.cross,
        peer_rules: plan.peers,
        id: crate::util::hash::sha256_hex(digests.concat().as_bytes()),
    };
    add_peer_groups(&mut info, &staged, pack, opts.threads)?;
    let json = serde_json::to_vec_pretty(&info).map_err(|e| Error::Shard {
        path: dir.join(PARTITION_FILE),
        message: e.to_string(),
    })?;
    write_all(&mut staged, PARTITION_FILE, &json)?;
    super::partition::remove_marker(dir)?;
    staged.commit(&[])?;
    Ok((info, data))
}

/// Records in `info` the statistics of its peer groups, from every shard file staged.
fn add_peer_groups(info: &mut PartitionInfo, staged: &Staged, pack: &Pack, threads: Option<usize>) -> Result<()> {
    if info.peer_rules.is_empty() {
        return Ok(());
    }
    let mut tally = super::PeerTally::default();
    for i in 0..info.shards {
        let data = PartData::File(staged.staged(&shard_file(i)));
        tally.join(super::peer_tally(info, i, &data, pack, threads)?);
    }
    super::set_peer_groups(info, &tally);
    Ok(())
}

/// Writes `bytes` as the staged file `name`.
fn write_all(staged: &mut Staged, name: &str, bytes: &[u8]) -> Result<()> {
    let mut file = staged.create(name)?;
    std::io::Write::write_all(&mut file, bytes).map_err(|source| Error::Io {
        path: staged.staged(name),
        action: "writing",
        source,
    })
}

/// The shard files and the cross-account stage's (the last), written as groups come.
struct PartFiles {
    staged: Staged,
    /// Each file's writer, once a row was written to it.
    writers: Vec<Option<polars::io::parquet::write::BatchedWriter<File>>>,
    /// Rows written to each file.
    rows: Vec<u64>,
    /// A part with no rows, as text: the columns of the shard files, then of the
    /// cross-account stage's.
    templates: [Option<DataFrame>; 2],
    shards: u32,
}

impl PartFiles {
    /// The file `k`'s name: a shard's, or the cross-account stage's.
    fn name(&self, k: usize) -> String {
        if k == self.shards as usize {
            CROSS_FILE.to_string()
        } else {
            shard_file(k as u32)
        }
    }

    /// Appends `part` to file `k`, its text columns as text, a slice of rows at a time.
    fn append(&mut self, k: usize, part: DataFrame) -> Result<()> {
        let name = self.name(k);
        let path = self.staged.staged(&name);
        let failed = |e: PolarsError| Error::Shard {
            path: path.clone(),
            message: format!("writing a shard file: {e}"),
        };
        let kind = usize::from(k == self.shards as usize);
        if self.templates[kind].is_none() {
            self.templates[kind] = Some(crate::schema::as_text(part.clear()).map_err(failed)?);
        }
        for start in (0..part.height()).step_by(TEXT_ROWS) {
            let text = crate::schema::as_text(part.slice(start as i64, TEXT_ROWS)).map_err(failed)?;
            if self.writers[k].is_none() {
                let file = self.staged.create(&name)?;
                let w = ParquetWriter::new(file)
                    .with_compression(ParquetCompression::Zstd(None))
                    .batched(text.schema())
                    .map_err(failed)?;
                self.writers[k] = Some(w);
            }
            if let Some(w) = self.writers[k].as_mut() {
                w.write_batch(&text).map_err(failed)?;
            }
            self.rows[k] += text.height() as u64;
        }
        Ok(())
    }

    /// Closes the files, writing those no row reached with the columns of the others
    /// (the cross-account stage's only when `cross`). Returns the staging folder, the rows
    /// of each shard, and the sha256 of each file, shards first.
    fn finish(mut self, cross: bool) -> Result<(Staged, Vec<u64>, Vec<String>)> {
        let last = if cross {
            self.shards as usize
        } else {
            self.shards as usize - 1
        };
        let mut digests = Vec::new();
        for k in 0..=last {
            let name = self.name(k);
            let path = self.staged.staged(&name);
            let failed = |e: PolarsError| Error::Shard {
                path: path.clone(),
                message: format!("writing a shard file: {e}"),
            };
            match self.writers[k].take() {
                Some(w) => {
                    w.finish().map_err(failed)?;
                }
                None => {
                    let mut empty = self.empty_part(k)?;
                    let file = self.staged.create(&name)?;
                    ParquetWriter::new(file)
                        .with_compression(ParquetCompression::Zstd(None))
                        .finish(&mut empty)
                        .map_err(failed)?;
                }
            }
            let path = self.staged.staged(&name);
            digests.push(crate::util::hash::sha256_file(&path).map_err(|source| Error::Io {
                path,
                action: "reading a shard file back",
                source,
            })?);
        }
        let shard_rows = self.rows[..self.shards as usize].to_vec();
        Ok((self.staged, shard_rows, digests))
    }

    /// A part with no rows for file `k`.
    fn empty_part(&self, k: usize) -> Result<DataFrame> {
        let Some(t) = &self.templates[usize::from(k == self.shards as usize)] else {
            return Err(Error::Shard {
                path: self.staged.staged(&self.name(k)),
                message: "no group of rows was read".into(),
            });
        };
        Ok(t.clone())
    }
}
