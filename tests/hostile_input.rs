//! Hostile input: rows never lost, no crash, no silent misreading. One test a point of
//! the input side of issue 15; `docs/input-safety.md` says what these guard.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use polars::prelude::*;
use redflag::{IngestOptions, Mapping};

fn write(dir: &Path, name: &str, text: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn repo(p: &str) -> PathBuf {
    PathBuf::from(format!("{}/../../{p}", env!("CARGO_MANIFEST_DIR")))
}

fn opts(mapping: Option<Mapping>) -> IngestOptions {
    IngestOptions {
        mapping,
        fx: None,
        base_currency: "USD".into(),
        threads: None,
    }
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_redflag")).args(args).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The non-null values of a text column.
fn strings(df: &DataFrame, name: &str) -> Vec<String> {
    df.column(name)
        .unwrap()
        .cast(&DataType::String)
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .flatten()
        .map(String::from)
        .collect()
}

/// The demo dataset with line `line` (1-based, the header is line 1) edited by `edit`.
fn demo_with(line: usize, edit: impl Fn(&str) -> String) -> String {
    let text = std::fs::read_to_string(repo("samples/demo.csv")).unwrap();
    text.lines()
        .enumerate()
        .map(|(i, l)| if i + 1 == line { edit(l) } else { l.to_string() })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// Replaces field `k` (0-based) of a plain CSV line.
fn set_field(line: &str, k: usize, value: &str) -> String {
    let mut f: Vec<&str> = line.split(',').collect();
    f[k] = value;
    f.join(",")
}

/// Point 1: a stray quote inside an unquoted field (`pipe 12" long`) is a character; the
/// row is read and screened, and every other row of the file too.
#[test]
fn stray_quote_in_unquoted_field_loses_no_row() {
    let d = tempfile::tempdir().unwrap();
    let text = demo_with(11, |l| set_field(l, 14, "pipe 12\" long"));
    let p = write(d.path(), "demo.csv", text.as_bytes());
    let ds = redflag::ingest(&[p], &opts(None)).unwrap();
    assert_eq!(ds.inputs[0].rows_read, 4000);
    assert_eq!(ds.inputs[0].rows_screened, 4000, "{:?}", ds.quarantine);
    let t = redflag::schema::as_text(ds.transactions.clone()).unwrap();
    assert!(strings(&t, "narrative").iter().any(|n| n == "pipe 12\" long"));
}

/// Point 1: a quote that opens a field and is never closed, or is closed by a stray quote
/// lines later, costs its own record only, set aside with its line.
#[test]
fn broken_quote_costs_only_its_own_record() {
    let d = tempfile::tempdir().unwrap();
    // Line 11 opens a quote that line 21's stray quote closes; the last line opens one
    // that nothing closes.
    let text: String = demo_with(0, str::to_string)
        .lines()
        .enumerate()
        .map(|(i, l)| match i + 1 {
            11 => set_field(l, 14, "\"opens"),
            21 => set_field(l, 14, "pipe 12\" long"),
            4001 => set_field(l, 14, "\"never"),
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    let p = write(d.path(), "demo.csv", text.as_bytes());
    let ds = redflag::ingest(&[p.clone()], &opts(None)).unwrap();
    let s = &ds.inputs[0];
    assert_eq!(s.rows_read, 4000, "{:?}", ds.quarantine);
    assert_eq!(s.rows_quarantined, 2, "{:?}", ds.quarantine);
    assert_eq!(s.rows_screened, 3998);
    let reasons = strings(&ds.quarantine, "reason");
    assert!(
        reasons[0].starts_with("line 11: a quote opened on this line runs on to line 21"),
        "{reasons:?}"
    );
    assert!(
        reasons[1].starts_with("line 4001: a quoted field is never closed"),
        "{reasons:?}"
    );
    let files = strings(&ds.quarantine, "file");
    assert!(files.iter().all(|f| f == &p.display().to_string()));
}
