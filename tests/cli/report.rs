//! Reports: Markdown and goAML snapshots on a fixed case set, goAML structure, `report
//! --from`, redaction, and the HTML report in headless Chromium.
//!
//! The fixed case set is `tests/data/report/cases.json`: `tests/data/report/input.csv`
//! screened with the built-in pack, with the run's start and end times fixed.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn redflag() -> Command {
    Command::new(env!("CARGO_BIN_EXE_redflag"))
}

fn run(args: &[&str]) -> Output {
    redflag().args(args).output().unwrap()
}

fn ok(o: &Output) {
    assert_eq!(
        o.status.code(),
        Some(0),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

fn repo(p: &str) -> PathBuf {
    Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap())
        .join("../..")
        .join(p)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// A folder holding the fixed case set's cases.json.
fn fixture_dir() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::copy(repo("tests/data/report/cases.json"), d.path().join("cases.json")).unwrap();
    d
}

fn goaml_config() -> PathBuf {
    repo("samples/goaml-config.yaml")
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

fn case_ids(cases_json: &Path) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(&read(cases_json)).unwrap();
    v["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["case_id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn markdown_report_snapshot() {
    let d = fixture_dir();
    let out = d.path().join("out");
    ok(&run(&[
        "report",
        "--from",
        s(d.path()),
        "--format",
        "md",
        "--out",
        s(&out),
    ]));
    let md = read(&out.join("report.md"));
    insta::assert_snapshot!("report_md", md);
}

#[test]
fn goaml_drafts_snapshot() {
    let d = fixture_dir();
    let out = d.path().join("out");
    ok(&run(&[
        "report",
        "--from",
        s(d.path()),
        "--format",
        "goaml",
        "--goaml-config",
        s(&goaml_config()),
        "--out",
        s(&out),
    ]));
    let ids = case_ids(&d.path().join("cases.json"));
    let drafts: Vec<PathBuf> = files_under(&out.join("goaml"));
    assert_eq!(drafts.len(), ids.len(), "one draft a case");
    // The top case (cash structuring, then a wire to Iran) and a wire in euros with a
    // placeholder originator.
    insta::assert_snapshot!("goaml_rank_1", read(&out.join(format!("goaml/{}.xml", ids[0]))));
    let eur = drafts
        .iter()
        .map(|p| read(p))
        .find(|x| x.contains("<foreign_currency_code>EUR</foreign_currency_code>"))
        .expect("a draft with a transaction in EUR");
    insta::assert_snapshot!("goaml_foreign_currency", eur);
}

/// Element names, in document order, of the children of every element named `parent`.
fn children(xml: &str, parent: &str) -> Vec<Vec<String>> {
    use quick_xml::events::Event;
    let mut r = quick_xml::Reader::from_str(xml);
    let mut stack: Vec<String> = Vec::new();
    let mut out: Vec<Vec<String>> = Vec::new();
    let mut open_idx: Vec<Option<usize>> = Vec::new();
    loop {
        match r.read_event().unwrap_or_else(|e| panic!("not well-formed: {e}\n{xml}")) {
            Event::Start(e) => {
                let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                if stack.last().map(String::as_str) == Some(parent) {
                    if let Some(Some(i)) = open_idx.last() {
                        out[*i].push(name.clone());
                    }
                }
                if name == parent {
                    out.push(Vec::new());
                    open_idx.push(Some(out.len() - 1));
                } else {
                    open_idx.push(None);
                }
                stack.push(name);
            }
            Event::Empty(e) => {
                let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                if stack.last().map(String::as_str) == Some(parent) {
                    if let Some(Some(i)) = open_idx.last() {
                        out[*i].push(name);
                    }
                }
            }
            Event::End(_) => {
                stack.pop();
                open_idx.pop();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert!(stack.is_empty(), "unclosed elements: {stack:?}");
    out
}

/// Asserts `seen` follows `order` (entries may repeat or be left out), and holds `required`.
fn assert_order(seen: &[String], order: &[&[&str]], required: &[&[&str]], what: &str) {
    let pos = |n: &str| {
        order
            .iter()
            .position(|alts| alts.contains(&n))
            .unwrap_or_else(|| panic!("{what}: unexpected element <{n}> in {seen:?}"))
    };
    let idx: Vec<usize> = seen.iter().map(|n| pos(n)).collect();
    assert!(
        idx.windows(2).all(|w| w[0] <= w[1]),
        "{what}: elements out of order: {seen:?}"
    );
    for alts in required {
        let n = seen.iter().filter(|x| alts.contains(&x.as_str())).count();
        assert!(n >= 1, "{what}: missing one of {alts:?} in {seen:?}");
    }
}

fn text_of(xml: &str, tag: &str) -> Vec<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    xml.match_indices(&open)
        .map(|(i, _)| {
            let rest = &xml[i + open.len()..];
            rest[..rest.find(&close).unwrap()].to_string()
        })
        .collect()
}

#[test]
fn goaml_drafts_are_well_formed_and_carry_the_essentials_in_order() {
    // Screened end to end, so the drafts come from a real run (the demo sample).
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("out");
    ok(&run(&[
        "screen",
        s(&repo("samples/demo.csv")),
        "--out",
        s(&out),
        "--format",
        "json,goaml",
        "--goaml-config",
        s(&goaml_config()),
        "--min-score",
        "3",
        "-q",
    ]));
    let ids = case_ids(&out.join("cases.json"));
    let drafts = files_under(&out.join("goaml"));
    assert!(!ids.is_empty());
    assert_eq!(
        drafts
            .iter()
            .map(|p| p.file_stem().unwrap().to_str().unwrap().to_string())
            .collect::<BTreeSet<_>>(),
        ids.iter().cloned().collect::<BTreeSet<_>>(),
        "one draft for each case at or over --min-score"
    );
    let report_order: &[&[&str]] = &[
        &["schema_version"],
        &["rentity_id"],
        &["rentity_branch"],
        &["submission_code"],
        &["report_code"],
        &["entity_reference"],
        &["fiu_ref_number"],
        &["submission_date", "report_date"],
        &["currency_code_local"],
        &["reporting_person"],
        &["location"],
        &["reason"],
        &["action"],
        &["transaction"],
        &["report_indicators"],
    ];
    let report_required: &[&[&str]] = &[
        &["rentity_id"],
        &["submission_code"],
        &["report_code"],
        &["entity_reference"],
        &["submission_date", "report_date"],
        &["currency_code_local"],
        &["transaction"],
        &["report_indicators"],
    ];
    let txn_order: &[&[&str]] = &[
        &["transactionnumber"],
        &["internal_ref_number"],
        &["transaction_location"],
        &["transaction_description"],
        &["date_transaction"],
        &["teller"],
        &["authorized"],
        &["value_date"],
        &["transmode_code"],
        &["transmode_comment"],
        &["amount_local"],
        &["t_from_my_client", "t_from"],
        &["t_to_my_client", "t_to"],
        &["goods_services"],
        &["comments"],
    ];
    let txn_required: &[&[&str]] = &[
        &["transactionnumber"],
        &["transaction_location"],
        &["transaction_description"],
        &["date_transaction"],
        &["transmode_code"],
        &["transmode_comment"],
        &["amount_local"],
        &["t_from_my_client", "t_from"],
        &["t_to_my_client", "t_to"],
    ];
    let date = regex::Regex::new(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$").unwrap();
    for p in &drafts {
        let xml = read(p);
        let what = p.display().to_string();
        let reports = children(&xml, "report");
        assert_eq!(reports.len(), 1, "{what}: one <report>");
        assert_order(&reports[0], report_order, report_required, &what);
        assert_eq!(reports[0].iter().filter(|n| *n == "report_code").count(), 1);
        let rentity: u64 = text_of(&xml, "rentity_id")[0].parse().unwrap();
        assert!(rentity >= 1);
        assert_eq!(text_of(&xml, "submission_code"), ["E"]);
        assert_eq!(text_of(&xml, "report_code"), ["STR"]);
        for d in text_of(&xml, "submission_date")
            .into_iter()
            .chain(text_of(&xml, "date_transaction"))
        {
            assert!(date.is_match(&d), "{what}: date `{d}`");
        }
        let txns = children(&xml, "transaction");
        assert!(!txns.is_empty());
        for t in &txns {
            assert_order(t, txn_order, txn_required, &what);
            assert_eq!(
                t.iter().filter(|n| n.starts_with("t_from")).count(),
                1,
                "{what}: one from party"
            );
            assert_eq!(
                t.iter().filter(|n| n.starts_with("t_to")).count(),
                1,
                "{what}: one to party"
            );
        }
        for (side, parents) in [
            ("from", ["t_from_my_client", "t_from"]),
            ("to", ["t_to_my_client", "t_to"]),
        ] {
            let order_owned: Vec<Vec<String>> = vec![
                vec![format!("{side}_funds_code")],
                vec![format!("{side}_funds_comment")],
                vec![format!("{side}_foreign_currency")],
                vec!["t_conductor".into()],
                vec![
                    format!("{side}_account"),
                    format!("{side}_person"),
                    format!("{side}_entity"),
                ],
                vec![format!("{side}_country")],
            ];
            let order: Vec<Vec<&str>> = order_owned
                .iter()
                .map(|v| v.iter().map(String::as_str).collect())
                .collect();
            let order: Vec<&[&str]> = order.iter().map(Vec::as_slice).collect();
            let required = [order[0], order[4], order[5]];
            for parent in parents {
                for kids in children(&xml, parent) {
                    assert_order(&kids, &order, &required, &format!("{what} <{parent}>"));
                    assert_eq!(
                        kids.iter().filter(|k| order[4].contains(&k.as_str())).count(),
                        1,
                        "{what}: one party element in <{parent}>"
                    );
                }
            }
        }
        let ind = children(&xml, "report_indicators");
        assert!(
            !ind[0].is_empty() && ind[0].iter().all(|n| n == "indicator"),
            "{what}: indicators {ind:?}"
        );
        for amt in text_of(&xml, "amount_local") {
            assert!(amt.parse::<f64>().unwrap() > 0.0, "{what}: amount_local {amt}");
        }
    }
}

#[test]
fn screen_writes_the_reports_and_report_renders_the_same_bytes() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("out");
    let o = run(&[
        "screen",
        s(&repo("tests/data/report/input.csv")),
        "--out",
        s(&out),
        "--format",
        "json,csv,md,html,goaml",
        "--goaml-config",
        s(&goaml_config()),
        "-q",
    ]);
    ok(&o);
    for f in [
        "cases.json",
        "alerts.csv",
        "manifest.json",
        "quarantine.csv",
        "report.md",
        "report.html",
    ] {
        assert!(out.join(f).is_file(), "{f} written");
    }
    let ids = case_ids(&out.join("cases.json"));
    for id in &ids {
        assert!(out.join(format!("goaml/{id}.xml")).is_file(), "draft for {id}");
    }
    let md = read(&out.join("report.md"));
    assert!(md.contains("Red flags are indicators for analysis, not proof"));
    assert!(md.contains("FATF Recommendation 19"), "sources in the report");
    let html = read(&out.join("report.html"));
    assert!(!html.contains("http://") && !html.contains("https://"), "no network");
    // Again from cases.json alone: the same bytes.
    let again = d.path().join("again");
    let o = run(&[
        "report",
        "--from",
        s(&out),
        "--format",
        "md,html,goaml",
        "--goaml-config",
        s(&goaml_config()),
        "--out",
        s(&again),
    ]);
    ok(&o);
    let said = String::from_utf8_lossy(&o.stdout);
    assert!(said.contains(&format!("{} cases", ids.len())), "{said}");
    for f in files_under(&again) {
        let rel = f.strip_prefix(&again).unwrap();
        assert_eq!(read(&f), read(&out.join(rel)), "{} differs", rel.display());
    }
    assert_eq!(files_under(&again).len(), 2 + ids.len());
    // A higher --min-score leaves cases out, and removes their drafts.
    let o = run(&[
        "report",
        "--from",
        s(&out),
        "--format",
        "md,goaml",
        "--goaml-config",
        s(&goaml_config()),
        "--out",
        s(&again),
        "--min-score",
        "20",
    ]);
    ok(&o);
    let cases: serde_json::Value = serde_json::from_str(&read(&out.join("cases.json"))).unwrap();
    let scores: Vec<f64> = cases["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["score"].as_f64().unwrap())
        .collect();
    let over = scores.iter().filter(|s| **s >= 20.0).count();
    assert!(
        over >= 1 && over < scores.len(),
        "the data should have cases on both sides of 20: {scores:?}"
    );
    let left = files_under(&again.join("goaml"));
    assert_eq!(left.len(), over, "{left:?}");
    assert!(read(&again.join("report.md")).contains("cases scoring under 20 left out"));
}

#[test]
fn report_errors_are_clear() {
    let d = tempfile::tempdir().unwrap();
    let empty = d.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let o = run(&["report", "--from", s(&empty)]);
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("cases.json") && !e.contains("panicked"), "{e}");

    let f = fixture_dir();
    let o = run(&["report", "--from", s(f.path()), "--format", "goaml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--goaml-config"));

    let o = run(&["report", "--from", s(f.path()), "--format", "pdf"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("md, html, goaml"));

    let o = run(&["report", "--from", s(f.path()), "--redact"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--out"));

    let bad = d.path().join("bad.yaml");
    std::fs::write(&bad, "rentity_id: 1\ncurrency_code_local: KGS\nbogus: 1\n").unwrap();
    let o = run(&[
        "report",
        "--from",
        s(f.path()),
        "--format",
        "goaml",
        "--goaml-config",
        s(&bad),
        "--out",
        s(&d.path().join("o")),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("bad.yaml") && e.contains("bogus"), "{e}");

    let broken = d.path().join("broken");
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::write(broken.join("cases.json"), "{\"schema_version\": \"1.0\"").unwrap();
    let o = run(&["report", "--from", s(&broken)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a cases.json"));
}

/// Account numbers and party names of a canonical CSV, without the placeholders that stand
/// for a missing one (`UNKNOWN`: nobody's name, and what a red flag is about).
fn originals(csv: &Path) -> BTreeSet<String> {
    let placeholders: BTreeSet<String> = read(&repo("rules/lists/placeholder-names.txt"))
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_uppercase)
        .collect();
    let text = read(csv);
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let cols: Vec<usize> = ["orig_account", "bene_account", "orig_name", "bene_name"]
        .iter()
        .filter_map(|c| header.iter().position(|h| h == c))
        .collect();
    let mut out = BTreeSet::new();
    for l in lines {
        let fields = split_csv(l);
        for &c in &cols {
            if let Some(v) = fields.get(c) {
                if !v.trim().is_empty() && !placeholders.contains(&v.trim().to_uppercase()) {
                    out.insert(v.clone());
                }
            }
        }
    }
    out
}

fn split_csv(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut cur)),
            (c, _) => cur.push(c),
        }
    }
    out.push(cur);
    out
}

fn assert_no_originals(dir: &Path, stdout: &str, originals: &BTreeSet<String>) {
    let files = files_under(dir);
    assert!(files.len() >= 3, "{files:?}");
    for f in &files {
        let text = read(f);
        for o in originals {
            assert!(!text.contains(o.as_str()), "{} still holds `{o}`", f.display());
        }
    }
    for o in originals {
        assert!(!stdout.contains(o.as_str()), "the terminal output holds `{o}`");
    }
}

#[test]
fn a_redacted_run_leaves_no_account_number_or_name_in_any_output() {
    for input in ["tests/data/report/input.csv", "samples/demo.csv"] {
        let input = repo(input);
        let originals = originals(&input);
        assert!(originals.len() > 5);
        let d = tempfile::tempdir().unwrap();
        let out = d.path().join("out");
        let o = run(&[
            "screen",
            s(&input),
            "--out",
            s(&out),
            "--format",
            "json,csv,md,html,goaml",
            "--goaml-config",
            s(&goaml_config()),
            "--redact",
        ]);
        ok(&o);
        let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
        assert_no_originals(&out, &stdout, &originals);
        let md = read(&out.join("report.md"));
        assert!(md.contains("ACCT-") && md.contains("NAME-"), "pseudonyms in the report");
        assert!(md.contains("are pseudonyms"));
        let m: serde_json::Value = serde_json::from_str(&read(&out.join("manifest.json"))).unwrap();
        assert_eq!(m["redacted"], true);

        // Stable: the same pseudonyms and case ids from a second run, and from
        // `report --redact` over the unredacted cases.
        let out2 = d.path().join("out2");
        ok(&run(&["screen", s(&input), "--out", s(&out2), "--redact", "-q"]));
        assert_eq!(case_ids(&out.join("cases.json")), case_ids(&out2.join("cases.json")));
        let plain = d.path().join("plain");
        ok(&run(&[
            "screen",
            s(&input),
            "--out",
            s(&plain),
            "--format",
            "json",
            "-q",
        ]));
        let red = d.path().join("red");
        let o = run(&[
            "report",
            "--from",
            s(&plain),
            "--out",
            s(&red),
            "--format",
            "md,html,goaml",
            "--goaml-config",
            s(&goaml_config()),
            "--redact",
        ]);
        ok(&o);
        assert_no_originals(&red, &String::from_utf8_lossy(&o.stdout), &originals);
        let ids = case_ids(&out.join("cases.json"));
        for id in &ids {
            assert!(red.join(format!("goaml/{id}.xml")).is_file(), "same case id {id}");
        }
    }
}

// ---- headless Chromium ----

/// The browser, or `None` when REDFLAG_SKIP_BROWSER is set. `.ci/run` installs Debian's
/// `chromium`.
fn chromium() -> Option<PathBuf> {
    if std::env::var_os("REDFLAG_SKIP_BROWSER").is_some() {
        eprintln!("REDFLAG_SKIP_BROWSER is set: browser test skipped");
        return None;
    }
    let candidates = [
        std::env::var_os("REDFLAG_CHROMIUM").map(PathBuf::from),
        Some(PathBuf::from("/usr/bin/chromium")),
        Some(PathBuf::from("/usr/bin/chromium-browser")),
    ];
    for c in candidates.into_iter().flatten() {
        if c.is_file() {
            return Some(c);
        }
    }
    panic!("headless Chromium is needed: `apt-get install -y chromium` (or set REDFLAG_CHROMIUM, or REDFLAG_SKIP_BROWSER=1)");
}

struct Browser {
    stdout: String,
    stderr: String,
    wall: Duration,
}

fn browse(chrome: &Path, args: &[&str], url: &str) -> Browser {
    let profile = tempfile::tempdir().unwrap();
    let start = Instant::now();
    let mut child = Command::new(chrome)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read both pipes on threads so that a large DOM cannot block the browser.
    let mut so = child.stdout.take().unwrap();
    let mut se = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut so, &mut s).ok();
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut se, &mut s).ok();
        s
    });
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if start.elapsed() > Duration::from_secs(180) {
            child.kill().ok();
            child.wait().ok();
            panic!("chromium did not finish within 180 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let wall = start.elapsed();
    Browser {
        stdout: t_out.join().unwrap(),
        stderr: t_err.join().unwrap(),
        wall,
    }
}

fn file_url(p: &Path, hash: &str) -> String {
    format!("file://{}#{hash}", std::fs::canonicalize(p).unwrap().display())
}

/// Loads the report with `#selftest` and returns the page's verdict; fails on any console
/// message or script error.
fn selftest(chrome: &Path, html: &Path) -> (serde_json::Value, Duration) {
    let b = browse(chrome, &["--dump-dom"], &file_url(html, "selftest"));
    let console: Vec<&str> = b.stderr.lines().filter(|l| l.contains(":CONSOLE")).collect();
    assert!(console.is_empty(), "console messages: {console:#?}");
    let start = b
        .stdout
        .find("<pre id=\"selftest\">")
        .unwrap_or_else(|| panic!("no self-test result: the page's script did not run to the end"));
    let rest = &b.stdout[start + "<pre id=\"selftest\">".len()..];
    let text = &rest[..rest.find("</pre>").unwrap()];
    let text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("self-test output `{text}`: {e}"));
    assert_eq!(v["errors"], serde_json::json!([]), "script errors: {v}");
    assert_eq!(v["ok"], true, "self-test failed: {v}");
    (v, b.wall)
}

#[test]
fn html_report_works_in_headless_chromium() {
    let Some(chrome) = chromium() else { return };
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("out");
    ok(&run(&[
        "screen",
        s(&repo("samples/demo.csv")),
        "--out",
        s(&out),
        "--format",
        "json,html",
        "-q",
    ]));
    let html = out.join("report.html");
    let (v, _) = selftest(&chrome, &html);
    let c = &v["checks"];
    for k in [
        "list_drawn",
        "sorted_ascending",
        "sort_changed_list",
        "severity_filter",
        "severity_filter_changed_list",
        "typology_filter",
        "rule_filter",
        "text_filter",
        "text_filter_reads_evidence",
        "details_drawn",
        "details_transactions",
        "keyboard_controls",
    ] {
        assert_eq!(c[k], true, "{k}: {v}");
    }
    // A screenshot of the top case, opened.
    let ids = case_ids(&out.join("cases.json"));
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-screenshot.png");
    let _ = std::fs::remove_file(&shot);
    let b = browse(
        &chrome,
        &[&format!("--screenshot={}", shot.display()), "--window-size=1280,900"],
        &file_url(&html, &format!("case={}", ids[0])),
    );
    let console: Vec<&str> = b.stderr.lines().filter(|l| l.contains(":CONSOLE")).collect();
    assert!(console.is_empty(), "console messages: {console:#?}");
    let png = std::fs::read(&shot).unwrap_or_else(|e| panic!("no screenshot at {}: {e}", shot.display()));
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "screenshot {} bytes",
        png.len()
    );
    eprintln!("screenshot: {}", shot.display());
}

/// Ten thousand cases: the demo's cases again and again under other ids, accounts and
/// scores. Prints how long the page takes; asserts only that it works.
#[test]
fn html_report_of_ten_thousand_cases_in_headless_chromium() {
    let Some(chrome) = chromium() else { return };
    let d = tempfile::tempdir().unwrap();
    let demo = d.path().join("demo");
    ok(&run(&[
        "screen",
        s(&repo("samples/demo.csv")),
        "--out",
        s(&demo),
        "--format",
        "json",
        "-q",
    ]));
    let mut cf: serde_json::Value = serde_json::from_str(&read(&demo.join("cases.json"))).unwrap();
    let base: Vec<serde_json::Value> = cf["cases"].as_array().unwrap().clone();
    let mut cases: Vec<serde_json::Value> = (0..10_000usize)
        .map(|i| {
            let mut c = base[i % base.len()].clone();
            c["case_id"] = format!("C-{i:012x}").into();
            let score = c["score"].as_f64().unwrap() * (1.0 + ((i * 7919) % 1000) as f64 / 1000.0);
            c["score"] = ((score * 100.0).round() / 100.0).into();
            let accounts: Vec<serde_json::Value> = c["accounts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| format!("{}-{i}", a.as_str().unwrap()).into())
                .collect();
            c["accounts"] = accounts.into();
            c
        })
        .collect();
    cases.sort_by(|a, b| {
        b["score"]
            .as_f64()
            .unwrap()
            .total_cmp(&a["score"].as_f64().unwrap())
            .then(a["case_id"].as_str().cmp(&b["case_id"].as_str()))
    });
    for (i, c) in cases.iter_mut().enumerate() {
        c["rank"] = (i + 1).into();
    }
    cf["cases"] = cases.into();
    let big = d.path().join("big");
    std::fs::create_dir_all(&big).unwrap();
    std::fs::write(big.join("cases.json"), serde_json::to_vec(&cf).unwrap()).unwrap();
    let t = Instant::now();
    ok(&run(&["report", "--from", s(&big), "--format", "html", "-q"]));
    let render = t.elapsed();
    let html = big.join("report.html");
    let size = std::fs::metadata(&html).unwrap().len();
    let (v, wall) = selftest(&chrome, &html);
    assert_eq!(v["cases"], 10_000);
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-10k-screenshot.png");
    let b = browse(
        &chrome,
        &[&format!("--screenshot={}", shot.display()), "--window-size=1280,900"],
        &file_url(&html, ""),
    );
    let empty = d.path().join("empty.html");
    std::fs::write(&empty, "<!DOCTYPE html><html><body><p>empty</p></body></html>").unwrap();
    let e = browse(
        &chrome,
        &[
            &format!("--screenshot={}", d.path().join("e.png").display()),
            "--window-size=1280,900",
        ],
        &file_url(&empty, ""),
    );
    eprintln!(
        "10,000 cases: report.html {:.1} MB written in {:.2} s; in the page: list drawn and laid out at {} ms, first frame at {} ms, all evidence read at {} ms after navigation start; chromium --screenshot {:.2} s (an empty page {:.2} s); --dump-dom with the self-test {:.2} s; checks {}",
        size as f64 / 1e6,
        render.as_secs_f64(),
        v["ready_ms"],
        v["frame_ms"],
        v["evidence_ms"],
        b.wall.as_secs_f64(),
        e.wall.as_secs_f64(),
        wall.as_secs_f64(),
        v["checks"]
    );
}
