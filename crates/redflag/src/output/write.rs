//! The one atomic writer. Every file of a run is first written into a fresh staging
//! folder inside the output folder (`.redflag-tmp-` and random letters, created
//! exclusively, readable by its owner only), each file created anew there, never through
//! a link. Then every target is checked (no folder or non-folder in the way, no name
//! leaving the output folder), and the files are renamed into place, `manifest.json`
//! last; a file they replace is first moved into the staging folder. When any step fails,
//! the renames done are undone, the replaced files put back, and the staging folder
//! removed: the folder holds all the files of the run, or the files it held before.

use std::borrow::Cow;
use std::path::{Component, Path, PathBuf};

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

/// The prefix of the staging folder a run writes into before its files are renamed into
/// place. A folder of this name is left behind only when the process is killed.
pub const STAGING_PREFIX: &str = ".redflag-tmp-";

/// [`write_files`] with bodies that may be written as they are made; the writers run side
/// by side, each to its own file in the staging folder. All or nothing, as `write_files`.
pub fn write_outputs(dir: &Path, files: Vec<(String, FileBody<'_>)>, remove: &[&str]) -> Result<Vec<PathBuf>> {
    let names: Vec<String> = files.iter().map(|(n, _)| n.clone()).collect();
    let staging = staging_folder(dir)?;
    let plan = Plan::new(dir, &names, remove)?;
    stage(staging.path(), files)?;
    plan.commit(staging.path(), &|from, to| std::fs::rename(from, to))?;
    // The staging folder, with the files replaced, goes when `staging` is dropped.
    Ok(names.iter().map(|n| dir.join(n)).collect())
}

/// A new staging folder (an unpredictable name) in the output folder `dir`, made first.
fn staging_folder(dir: &Path) -> Result<tempfile::TempDir> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        path: dir.to_path_buf(),
        action: "creating the output folder",
        source,
    })?;
    tempfile::Builder::new()
        .prefix(STAGING_PREFIX)
        .tempdir_in(dir)
        .map_err(|source| Error::Io {
            path: dir.to_path_buf(),
            action: "creating a staging folder in the output folder",
            source,
        })
}

/// Files too large to hold whole, written by their maker into a staging folder in the
/// output folder and then renamed into place all together, or none of them, as
/// [`write_outputs`] places its files ([`Staged::commit`]).
pub struct Staged {
    dir: PathBuf,
    staging: tempfile::TempDir,
    names: Vec<String>,
}

impl Staged {
    /// A staging folder in `dir` (created when missing).
    pub fn new(dir: &Path) -> Result<Staged> {
        Ok(Staged {
            dir: dir.to_path_buf(),
            staging: staging_folder(dir)?,
            names: Vec::new(),
        })
    }

    /// Creates the staged file `name` (a new file, never through a link), to be placed
    /// at `name` in the output folder.
    pub fn create(&mut self, name: &str) -> Result<std::fs::File> {
        check_name(&self.dir, name)?;
        let path = self.staged(name);
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|source| Error::Io {
                path: path.clone(),
                action: "writing",
                source,
            })?;
        self.names.push(name.to_string());
        Ok(file)
    }

    /// Where the staged file `name` is, until the commit.
    pub fn staged(&self, name: &str) -> PathBuf {
        self.staging.path().join(name)
    }

    /// Renames every staged file into place, in the order they were created, and removes
    /// the files of an earlier run named in `remove`; on a failure, undoes every step.
    pub fn commit(self, remove: &[&str]) -> Result<Vec<PathBuf>> {
        let plan = Plan::new(&self.dir, &self.names, remove)?;
        plan.commit(self.staging.path(), &|from, to| std::fs::rename(from, to))?;
        Ok(self.names.iter().map(|n| self.dir.join(n)).collect())
    }
}

/// Writes every body into its own new file under `staging`, side by side.
fn stage(staging: &Path, files: Vec<(String, FileBody<'_>)>) -> Result<()> {
    let write_one = |name: &str, body: FileBody<'_>| -> Result<()> {
        let path = staging.join(name);
        let io = |source| Error::Io {
            path: path.clone(),
            action: "writing",
            source,
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(io)?;
        match body {
            FileBody::Bytes(b) => std::io::Write::write_all(&mut file, &b).map_err(io),
            FileBody::Writer(f) => f(&mut file),
        }
    };
    let results: Vec<Result<()>> = std::thread::scope(|sc| {
        let mut handles = Vec::new();
        let mut done = Vec::new();
        for (name, body) in files {
            match body {
                FileBody::Writer(_) => {
                    let write_one = &write_one;
                    handles.push(sc.spawn(move || write_one(&name, body)));
                }
                bytes => done.push(write_one(&name, bytes)),
            }
        }
        for h in handles {
            done.push(h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
        }
        done
    });
    results.into_iter().collect()
}

/// Checks that `name` is a relative path of plain names that stays inside the output
/// folder: no `..`, no root, no empty part, no control character, not the staging prefix.
pub(crate) fn check_name(dir: &Path, name: &str) -> Result<()> {
    let bad = |why: &str| Error::Output {
        path: dir.join(name),
        message: format!(
            "`{}` is not a file name the output folder can hold ({why})",
            name.escape_debug()
        ),
    };
    if name.is_empty() || name.chars().any(char::is_control) || name.contains('\\') {
        return Err(bad("empty, or a control character or backslash in it"));
    }
    for c in Path::new(name).components() {
        match c {
            Component::Normal(part) if !part.to_string_lossy().starts_with(STAGING_PREFIX) => {}
            _ => return Err(bad("it would leave the folder, or take the name of a staging folder")),
        }
    }
    Ok(())
}

/// What a write will do in the output folder, checked before anything is changed there.
struct Plan {
    /// Folders to create, parents first.
    create: Vec<PathBuf>,
    /// (name relative to the output folder, target), `manifest.json` last.
    place: Vec<(String, PathBuf)>,
    /// Files of an earlier run to remove (present now).
    remove: Vec<PathBuf>,
}

/// One change made in the output folder, undone in reverse order when a later one fails.
enum Step {
    Created(PathBuf),
    MovedAway { target: PathBuf, backup: PathBuf },
    Placed(PathBuf),
}

impl Plan {
    fn new(dir: &Path, names: &[String], remove: &[&str]) -> Result<Plan> {
        let mut create: Vec<PathBuf> = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        let mut place = Vec::new();
        for name in names {
            check_name(dir, name)?;
            if !seen.insert(name.as_str()) {
                return Err(Error::Output {
                    path: dir.join(name),
                    message: "two files of this name in one run; each file is written once (are two cases given the same id?)".into(),
                });
            }
            let target = dir.join(name);
            for folder in folders_between(dir, name) {
                match std::fs::symlink_metadata(&folder) {
                    Ok(m) if m.is_dir() => {}
                    Ok(_) => {
                        return Err(Error::Output {
                            path: folder,
                            message: "a file or link stands where the run writes a folder: move it away, or choose another output folder".into(),
                        })
                    }
                    Err(_) if !create.contains(&folder) => create.push(folder),
                    Err(_) => {}
                }
            }
            check_replaceable(&target)?;
            place.push((name.to_string(), target));
        }
        // The manifest (or a partition's description) last: a reader that finds it
        // finds the files it describes.
        place.sort_by_key(|(n, _)| n == "manifest.json" || n == "partition.json");
        let mut gone = Vec::new();
        for r in remove {
            check_name(dir, r)?;
            let p = dir.join(r);
            if std::fs::symlink_metadata(&p).is_ok() {
                check_replaceable(&p)?;
                gone.push(p);
            }
        }
        Ok(Plan {
            create,
            place,
            remove: gone,
        })
    }

    /// Renames the staged files into place (replaced files moved into `staging`), then
    /// moves the files to remove there too; on a failure undoes every step.
    fn commit(&self, staging: &Path, rename: &dyn Fn(&Path, &Path) -> std::io::Result<()>) -> Result<()> {
        let backups = staging.join(format!("{STAGING_PREFIX}replaced"));
        let mut steps: Vec<Step> = Vec::new();
        let result = self.apply(staging, &backups, rename, &mut steps);
        if result.is_err() {
            for step in steps.into_iter().rev() {
                // Best effort: each undo is independent of the others' success.
                let _ = match step {
                    Step::Placed(target) => std::fs::remove_file(target),
                    Step::MovedAway { target, backup } => rename(&backup, &target),
                    Step::Created(folder) => std::fs::remove_dir(folder),
                };
            }
        }
        result
    }

    fn apply(
        &self,
        staging: &Path,
        backups: &Path,
        rename: &dyn Fn(&Path, &Path) -> std::io::Result<()>,
        steps: &mut Vec<Step>,
    ) -> Result<()> {
        let io = |path: &Path, action: &'static str| {
            let path = path.to_path_buf();
            move |source| Error::Io { path, action, source }
        };
        std::fs::create_dir(backups).map_err(io(backups, "creating a staging folder"))?;
        for folder in &self.create {
            std::fs::create_dir(folder).map_err(io(folder, "creating the output folder"))?;
            steps.push(Step::Created(folder.clone()));
        }
        let mut n = 0;
        let mut move_away = |target: &Path, steps: &mut Vec<Step>| -> Result<()> {
            if std::fs::symlink_metadata(target).is_ok() {
                n += 1;
                let backup = backups.join(n.to_string());
                rename(target, &backup).map_err(io(target, "moving the earlier file aside"))?;
                steps.push(Step::MovedAway {
                    target: target.to_path_buf(),
                    backup,
                });
            }
            Ok(())
        };
        for (name, target) in &self.place {
            move_away(target, steps)?;
            rename(&staging.join(name), target).map_err(io(target, "renaming into place"))?;
            steps.push(Step::Placed(target.clone()));
        }
        for p in &self.remove {
            move_away(p, steps)?;
        }
        Ok(())
    }
}

/// The folders between `dir` and the file `name` (`goaml` for `goaml/C-1.xml`).
fn folders_between(dir: &Path, name: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut p = dir.to_path_buf();
    let parts: Vec<Component> = Path::new(name).components().collect();
    for c in parts.iter().take(parts.len().saturating_sub(1)) {
        p.push(c);
        out.push(p.clone());
    }
    out
}

/// A file a run replaces must be a file or a link (the link itself is replaced, never
/// what it points to), not a folder.
fn check_replaceable(target: &Path) -> Result<()> {
    match std::fs::symlink_metadata(target) {
        Ok(m) if m.is_dir() => Err(Error::Output {
            path: target.to_path_buf(),
            message: "a folder stands where the run writes a file: move it away, or choose another output folder; nothing was written".into(),
        }),
        _ => Ok(()),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rename_failing_half_way_undoes_the_renames_before_it() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path();
        std::fs::write(dir.join("a.csv"), "old a").unwrap();
        std::fs::write(dir.join("manifest.json"), "old manifest").unwrap();
        std::fs::write(dir.join("stale.xml"), "stale").unwrap();
        let names = vec![
            "manifest.json".to_string(),
            "a.csv".into(),
            "goaml/b.xml".into(),
            "c.md".into(),
        ];
        let plan = Plan::new(dir, &names, &["stale.xml"]).unwrap();
        assert_eq!(plan.place.last().unwrap().0, "manifest.json", "the manifest last");
        let staging = tempfile::Builder::new().prefix(STAGING_PREFIX).tempdir_in(dir).unwrap();
        let bodies = names
            .iter()
            .map(|n| (n.clone(), FileBody::Bytes(Cow::Owned(b"new".to_vec()))))
            .collect();
        stage(staging.path(), bodies).unwrap();
        // The fourth rename (c.md into place) fails.
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let rename = |a: &Path, b: &Path| {
            if calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 3 {
                return Err(std::io::Error::other("disk on fire"));
            }
            std::fs::rename(a, b)
        };
        let e = plan.commit(staging.path(), &rename).unwrap_err().to_string();
        assert!(e.contains("c.md") && e.contains("disk on fire"), "{e}");
        drop(staging);
        let mut left: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["a.csv", "manifest.json", "stale.xml"]);
        assert_eq!(std::fs::read_to_string(dir.join("a.csv")).unwrap(), "old a");
        assert_eq!(
            std::fs::read_to_string(dir.join("manifest.json")).unwrap(),
            "old manifest"
        );
    }

    #[test]
    fn names_must_stay_inside_the_output_folder() {
        let d = Path::new("out");
        for bad in ["../x", "/etc/x", "a/../../x", "", "a\nb", ".redflag-tmp-x", "a\\..\\x"] {
            assert!(check_name(d, bad).is_err(), "{bad:?}");
        }
        for good in ["report.md", "goaml/C-0123456789ab.xml", ".hidden.md", "my weights.yaml"] {
            assert!(check_name(d, good).is_ok(), "{good:?}");
        }
    }
}
