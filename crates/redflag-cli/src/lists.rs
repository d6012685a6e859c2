//! `redflag lists check PATH`: what a watch list or a reference list file holds, and what
//! was skipped and why. Parsing and printing only: the loaders are `redflag::watchlist`.

use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use redflag::watchlist::{detect, Detected, ListFile, WatchList};
use redflag::{Error, RefList};

use crate::CliError;

#[derive(Subcommand)]
pub enum ListsCmd {
    /// Load a list and report what it holds and what was skipped, and why. Watch lists:
    /// UN Security Council Consolidated List XML, OpenSanctions targets.simple.csv, or a
    /// CSV with `name, aliases, birth_date, country, list, reference`, told by content.
    /// Other files with one value a line are read as reference lists.
    Check {
        /// The list file.
        path: PathBuf,
    },
}

/// How many skipped items are listed one by one.
const SHOW_SKIPPED: usize = 50;

pub fn run(cmd: ListsCmd, out: &mut impl Write) -> Result<ExitCode, CliError> {
    match cmd {
        ListsCmd::Check { path } => {
            let bytes = std::fs::read(&path).map_err(|source| Error::Io {
                path: path.clone(),
                action: "reading the list",
                source,
            })?;
            let text = match detect(&bytes) {
                Detected::ValueList => {
                    let name = path
                        .file_stem()
                        .map(|s| s.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    let list = RefList::load(&name, &path)?;
                    reference_list(&list)
                }
                _ => {
                    let wl = WatchList::parse(&bytes, &path)?;
                    wl.files.iter().map(watch_list).collect()
                }
            };
            write!(out, "{text}")?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn reference_list(list: &RefList) -> String {
    let mut s = format!(
        "{}: reference list (one value a line), {} values, sha256 {}\n",
        list.source,
        list.values.len(),
        list.sha256
    );
    let first: Vec<&str> = list.values.iter().take(12).map(String::as_str).collect();
    if !first.is_empty() {
        let more = if list.values.len() > first.len() { ", ..." } else { "" };
        let _ = writeln!(s, "  values: {}{more}", first.join(", "));
    }
    s
}

fn watch_list(f: &ListFile) -> String {
    let mut s = format!("{}: {}", f.path.display(), f.format.describe());
    if let Some(g) = &f.generated {
        let _ = write!(s, ", generated {g}");
    }
    let _ = writeln!(s, ", sha256 {}", f.sha256);
    let other = f.entries - f.persons - f.organisations;
    let _ = writeln!(
        s,
        "  {} entries: {} persons, {} organisations, {} other; {} aliases; {} with a birth date, {} with a country",
        f.entries, f.persons, f.organisations, other, f.aliases, f.with_birth_date, f.with_country
    );
    if !f.lists.is_empty() {
        let lists: Vec<String> = f.lists.iter().map(|(l, n)| format!("{l} ({n})")).collect();
        let _ = writeln!(s, "  lists: {}", lists.join(", "));
    }
    if f.skipped.is_empty() {
        s.push_str("  skipped: none\n");
        return s;
    }
    let entries = f.skipped.iter().filter(|k| k.whole_entry).count();
    let _ = writeln!(
        s,
        "  skipped: {} entries, {} values",
        entries,
        f.skipped.len() - entries
    );
    for k in f.skipped.iter().take(SHOW_SKIPPED) {
        let what = if k.whole_entry {
            "entry skipped"
        } else {
            "value left out"
        };
        let _ = writeln!(s, "    {}: {what}: {}", k.place, k.reason);
    }
    if f.skipped.len() > SHOW_SKIPPED {
        let _ = writeln!(s, "    ... and {} more", f.skipped.len() - SHOW_SKIPPED);
    }
    s
}
