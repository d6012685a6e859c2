//! The one atomic writer: every file is written to a temporary name first; when all are
//! written they are renamed into place, so a failed run leaves no partial file.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::ingest::Dataset;

/// A function that writes a file's content to the writer it is given.
pub type WriteFn<'a> = Box<dyn FnOnce(&mut dyn std::io::Write) -> Result<()> + Send + 'a>;

/// What an output file holds: bytes, or a function that writes them.
pub enum FileBody<'a> {
    /// The whole content.
    Bytes(Cow<'a, [u8]>),
    /// Writes the content as it is made: large files are never whole in memory.
    Writer(WriteFn<'a>),
}

/// [`write_files`] with bodies that may be written as they are made; the writers run side
/// by side, each to its own temporary file. All or nothing, as `write_files`.
pub fn write_outputs(dir: &Path, files: Vec<(String, FileBody<'_>)>, remove: &[&str]) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        path: dir.to_path_buf(),
        action: "creating the output folder",
        source,
    })?;
    let mut jobs = Vec::new();
    for (name, body) in files {
        let target = dir.join(&name);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|source| Error::Io {
                path: parent.to_path_buf(),
                action: "creating the output folder",
                source,
            })?;
        }
        let tmp = dir.join(format!("{name}.tmp-{}", std::process::id()));
        jobs.push((tmp, target, body));
    }
    let write_one = |tmp: &Path, body: FileBody<'_>| -> Result<()> {
        let io = |source| Error::Io {
            path: tmp.to_path_buf(),
            action: "writing",
            source,
        };
        match body {
            FileBody::Bytes(b) => std::fs::write(tmp, b).map_err(io),
            FileBody::Writer(f) => {
                let mut file = std::fs::File::create(tmp).map_err(io)?;
                f(&mut file)
            }
        }
    };
    let mut paths = Vec::new();
    let results: Vec<Result<()>> = std::thread::scope(|sc| {
        let mut handles = Vec::new();
        let mut done = Vec::new();
        for (tmp, target, body) in jobs {
            paths.push((tmp.clone(), target));
            match body {
                FileBody::Writer(_) => {
                    let write_one = &write_one;
                    handles.push(sc.spawn(move || write_one(&tmp, body)));
                }
                bytes => done.push(write_one(&tmp, bytes)),
            }
        }
        for h in handles {
            done.push(h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
        }
        done
    });
    if let Some(e) = results.into_iter().find_map(|r| r.err()) {
        for (t, _) in &paths {
            let _ = std::fs::remove_file(t);
        }
        return Err(e);
    }
    let mut written = Vec::new();
    for (tmp, target) in paths {
        std::fs::rename(&tmp, &target).map_err(|source| Error::Io {
            path: target.clone(),
            action: "renaming into place",
            source,
        })?;
        written.push(target);
    }
    for r in remove {
        let p = dir.join(r);
        if p.exists() {
            let _ = std::fs::remove_file(p);
        }
    }
    Ok(written)
}

/// Writes files into `dir` all or nothing: temporary names first, then renames.
/// `remove` names files of an earlier run that this run does not produce.
pub fn write_files(dir: &Path, files: &[(String, Vec<u8>)], remove: &[&str]) -> Result<Vec<PathBuf>> {
    let bodies = files
        .iter()
        .map(|(name, bytes)| (name.clone(), FileBody::Bytes(Cow::Borrowed(bytes.as_slice()))))
        .collect();
    write_outputs(dir, bodies, remove)
}

/// The files a screen run may write over; an input among them is an error.
const RUN_FILES: [&str; 6] = [
    "cases.json",
    "alerts.csv",
    "manifest.json",
    "quarantine.csv",
    "report.md",
    "report.html",
];

/// Fails when writing a run's files into `dir` would overwrite one of its inputs.
pub(crate) fn check_inputs_kept(dir: &Path, ds: &Dataset) -> Result<()> {
    let out_canon = std::fs::canonicalize(dir).ok();
    for i in &ds.inputs {
        if let (Some(o), Ok(ip)) = (&out_canon, std::fs::canonicalize(&i.path)) {
            if RUN_FILES.iter().any(|name| o.join(name) == ip) {
                return Err(Error::OutputOverInput {
                    path: PathBuf::from(&i.path),
                });
            }
        }
    }
    Ok(())
}
