//! Runs in shards from the command line: `screen --shards`, and `partition`, `screen DIR
//! --shard I/N`, `merge` as a cluster would run them (docs/sharding.md).

use std::path::Path;
use std::process::{Command, Output};

fn repo(p: &str) -> String {
    format!("{}/../../{p}", std::env::var("CARGO_MANIFEST_DIR").unwrap())
}

fn redflag(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_redflag")).args(args).output().unwrap()
}

fn ok(o: &Output) {
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
}

fn read(dir: &Path, file: &str) -> Vec<u8> {
    std::fs::read(dir.join(file)).unwrap()
}

/// The parts of a run's output folder that do not hold its time: `alerts.csv`, the cases
/// of `cases.json`, `report.md` but its header, and the manifest's counts.
fn same_outputs(a: &Path, b: &Path) {
    assert!(read(a, "alerts.csv") == read(b, "alerts.csv"), "alerts.csv differs");
    let cases = |d: &Path| -> serde_json::Value {
        serde_json::from_slice::<serde_json::Value>(&read(d, "cases.json")).unwrap()["cases"].clone()
    };
    assert!(cases(a) == cases(b), "the cases differ");
    let m = |d: &Path| -> serde_json::Value { serde_json::from_slice(&read(d, "manifest.json")).unwrap() };
    let (ma, mb) = (m(a), m(b));
    for k in [
        "rows_read",
        "rows_screened",
        "rows_quarantined",
        "rules_run",
        "rules_not_applicable",
        "rules_partial",
        "alerts_per_rule",
        "cases",
        "alerts",
        "inputs",
        "pack",
        "mapping",
    ] {
        assert_eq!(ma[k], mb[k], "manifest {k}");
    }
    let quarantine = |d: &Path| std::fs::read(d.join("quarantine.csv")).ok();
    assert!(quarantine(a) == quarantine(b), "quarantine.csv differs");
}

/// The names in a folder, sorted.
fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A demo file with two rows that cannot be screened, so that the quarantine is carried
/// through the shards too.
fn demo_with_bad_rows(dir: &Path) -> String {
    let text = std::fs::read_to_string(repo("samples/demo.csv")).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let broken = lines[5].replacen(",", ",not-a-date-", 2);
    lines.insert(6, broken);
    let p = dir.join("demo-bad.csv");
    std::fs::write(&p, lines.join("\n") + "\n").unwrap();
    p.to_str().unwrap().to_string()
}

#[test]
fn partition_shards_and_merge_give_the_single_run() {
    let d = tempfile::tempdir().unwrap();
    let p = |s: &str| d.path().join(s).to_str().unwrap().to_string();
    let input = demo_with_bad_rows(d.path());
    let list = format!("sanctions={}", repo("samples/watchlist-demo.csv"));
    let common = ["--list", list.as_str(), "--quiet"];
    let single = redflag(&[&["screen", input.as_str(), "--out", &p("single")][..], &common].concat());
    ok(&single);
    let part = redflag(
        &[
            &["partition", input.as_str(), "--shards", "3", "--out", &p("part")][..],
            &common,
        ]
        .concat(),
    );
    ok(&part);
    let mut outs = Vec::new();
    for i in [2, 0, 1] {
        let shard = format!("{i}/3");
        let out = p(&format!("o{i}"));
        ok(&redflag(
            &[&["screen", &p("part"), "--shard", &shard, "--out", &out][..], &common].concat(),
        ));
        outs.push(out);
    }
    let merged = p("merged");
    let merge_args: Vec<&str> = ["merge"]
        .into_iter()
        .chain(outs.iter().map(String::as_str))
        .chain(["--out", merged.as_str()])
        .chain(common)
        .collect();
    ok(&redflag(&merge_args));
    same_outputs(&d.path().join("single"), &d.path().join("merged"));
    let m: serde_json::Value = serde_json::from_slice(&read(&d.path().join("merged"), "manifest.json")).unwrap();
    assert_eq!(m["sharding"]["shards"], 3);
    assert!(m["sharding"]["hash"].as_str().unwrap().starts_with("fnv1a-64"));
    assert_eq!(m["rows_quarantined"], 1);
}

/// `screen --shards N` and `--shards auto` give the single run, and leave nothing in the
/// output folder but the run's files.
#[test]
fn screen_with_shards_gives_the_single_run_and_leaves_no_working_files() {
    let d = tempfile::tempdir().unwrap();
    let p = |s: &str| d.path().join(s).to_str().unwrap().to_string();
    let input = repo("samples/demo.csv");
    ok(&redflag(&[
        "screen",
        &input,
        "--out",
        &p("single"),
        "--quiet",
        "--format",
        "json,csv,md",
    ]));
    for (shards, out) in [("2", "two"), ("auto", "auto")] {
        let o = redflag(&[
            "screen",
            &input,
            "--out",
            &p(out),
            "--quiet",
            "--format",
            "json,csv,md",
            "--shards",
            shards,
        ]);
        ok(&o);
        same_outputs(&d.path().join("single"), &d.path().join(out));
        assert_eq!(
            names_in(&d.path().join(out)),
            ["alerts.csv", "cases.json", "manifest.json", "report.md"],
            "--shards {shards}"
        );
    }
}

/// Without reports, `screen --shards` merges in bounded memory (the cases kept on disk):
/// the same files, the same summary and exit status with `--fail-on`, and no working
/// files left.
#[test]
fn screen_with_shards_and_no_reports_merges_from_disk() {
    let d = tempfile::tempdir().unwrap();
    let p = |s: &str| d.path().join(s).to_str().unwrap().to_string();
    let input = repo("samples/demo.csv");
    let run = |out: &str, more: &[&str]| {
        let o = redflag(
            &[
                &["screen", input.as_str(), "--out", &p(out), "--fail-on", "high"][..],
                more,
            ]
            .concat(),
        );
        assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
        // The case table: the lines after the header line.
        let text = String::from_utf8(o.stdout).unwrap();
        let table: Vec<String> = text
            .lines()
            .skip_while(|l| !l.contains("RANK"))
            .take_while(|l| !l.starts_with("written to"))
            .map(str::to_string)
            .collect();
        assert!(table.len() > 3, "{text}");
        table
    };
    let single = run("single", &[]);
    for (shards, out) in [("3", "three"), ("1", "one")] {
        assert_eq!(run(out, &["--shards", shards]), single, "--shards {shards}");
        same_outputs(&d.path().join("single"), &d.path().join(out));
        assert_eq!(
            names_in(&d.path().join(out)),
            ["alerts.csv", "cases.json", "manifest.json"],
            "--shards {shards}"
        );
    }
}

#[test]
fn shard_flags_are_checked() {
    let d = tempfile::tempdir().unwrap();
    let p = |s: &str| d.path().join(s).to_str().unwrap().to_string();
    let input = repo("samples/demo.csv");
    let err = |o: Output| {
        assert_eq!(o.status.code(), Some(2));
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    let e = err(redflag(&["screen", &input, "--shards", "0", "--out", &p("x")]));
    assert!(e.contains("--shards 0: give a count from 1 to 4096, or auto"), "{e}");
    let e = err(redflag(&[
        "screen",
        &input,
        "--shards",
        "auto",
        "--memory-limit",
        "lots",
        "--out",
        &p("x"),
    ]));
    assert!(e.contains("--memory-limit lots: give a size such as 6G"), "{e}");
    let e = err(redflag(&["screen", &input, "--shard", "0/2", "--out", &p("x")]));
    assert!(e.contains("is not a partition folder"), "{e}");
    ok(&redflag(&[
        "partition",
        &input,
        "--shards",
        "2",
        "--out",
        &p("part"),
        "--quiet",
    ]));
    let e = err(redflag(&["screen", &p("part"), "--shard", "2/2", "--out", &p("x")]));
    assert!(e.contains("--shard 2/2: give I/N"), "{e}");
    let e = err(redflag(&["screen", &p("part"), "--shard", "1/3", "--out", &p("x")]));
    assert!(e.contains("partitioned in 2 shards; give --shard 1/2"), "{e}");
    let e = err(redflag(&[
        "screen",
        &p("part"),
        "--shard",
        "0/2",
        "--only",
        "STR-01",
        "--out",
        &p("x"),
    ]));
    assert!(e.contains("made for another pack"), "{e}");
    ok(&redflag(&[
        "screen",
        &p("part"),
        "--shard",
        "0/2",
        "--out",
        &p("o0"),
        "--quiet",
    ]));
    let e = err(redflag(&["merge", &p("o0"), "--out", &p("m")]));
    assert!(e.contains("missing: shard 1"), "{e}");
    assert!(
        !d.path().join("m").join("cases.json").exists(),
        "nothing written after an error"
    );
}

/// `partition --strict` with a row that cannot be screened is an error naming it, and
/// leaves no partition behind: the folder holds nothing a shard could take for one.
#[test]
fn a_strict_partition_refused_writes_nothing() {
    let d = tempfile::tempdir().unwrap();
    let input = demo_with_bad_rows(d.path());
    let part = d.path().join("part");
    let o = redflag(&[
        "partition",
        &input,
        "--shards",
        "2",
        "--strict",
        "--out",
        part.to_str().unwrap(),
    ]);
    assert_ne!(o.status.code(), Some(0));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("strict mode is on") && e.contains("demo-bad.csv row"), "{e}");
    let left: Vec<String> = std::fs::read_dir(&part)
        .map(|r| {
            r.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    assert!(left.is_empty(), "{left:?}");
}
