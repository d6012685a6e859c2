//! Output safety against hostile data and hostile output folders (issue 15): case ids
//! that would leave the output folder, links planted where the writer works, a run
//! that fails half way, spreadsheet formulas in CSV cells, names left by redaction,
//! control characters printed to the terminal, goAML structure and clipped report text.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_redflag")).args(args).output().unwrap()
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

fn failed(o: &Output) -> String {
    assert_eq!(
        o.status.code(),
        Some(2),
        "expected an error\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stderr).into_owned()
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

/// Every file and folder under `dir` with the bytes of each file (folders as `None`).
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let m = std::fs::symlink_metadata(&p).unwrap();
        if m.is_dir() {
            out.insert(p.clone(), None);
            out.extend(snapshot(&p));
        } else if m.file_type().is_symlink() {
            out.insert(
                p.clone(),
                Some(std::fs::read_link(&p).unwrap().into_os_string().into_encoded_bytes()),
            );
        } else {
            out.insert(p.clone(), Some(std::fs::read(&p).unwrap()));
        }
    }
    out
}

fn goaml_config() -> PathBuf {
    repo("samples/goaml-config.yaml")
}

/// A screen run of the small report input into `out` with every format.
fn screen_all(out: &Path) -> Output {
    run(&[
        "screen",
        s(&repo("tests/data/report/input.csv")),
        "--out",
        s(out),
        "--format",
        "json,csv,md,html,goaml",
        "--goaml-config",
        s(&goaml_config()),
        "-q",
    ])
}

/// A copy of the fixed case set's cases.json with its cases edited.
fn edited_cases(dir: &Path, edit: impl FnOnce(&mut Vec<serde_json::Value>)) -> PathBuf {
    let mut v: serde_json::Value = serde_json::from_str(&read(&repo("tests/data/report/cases.json"))).unwrap();
    edit(v["cases"].as_array_mut().unwrap());
    let from = dir.join("from");
    std::fs::create_dir_all(&from).unwrap();
    std::fs::write(from.join("cases.json"), serde_json::to_vec_pretty(&v).unwrap()).unwrap();
    from
}

// ---- 3. path traversal through case ids ----

#[test]
fn case_ids_that_leave_the_output_folder_are_refused() {
    for bad in [
        "../../escaped",
        "/tmp/escaped",
        "C-0000/../../escaped",
        "C-000000000000\n",
    ] {
        let d = tempfile::tempdir().unwrap();
        let from = edited_cases(d.path(), |cases| cases[0]["case_id"] = bad.into());
        let out = d.path().join("a/b/out");
        let o = run(&[
            "report",
            "--from",
            s(&from),
            "--out",
            s(&out),
            "--format",
            "goaml",
            "--goaml-config",
            s(&goaml_config()),
        ]);
        let err = failed(&o);
        assert!(err.contains("cases.json") && err.contains("case 1"), "{err}");
        assert!(err.contains(&bad.escape_debug().to_string()), "{err}");
        assert!(!d.path().join("escaped.xml").exists() && !d.path().join("a/escaped.xml").exists());
        assert!(!out.join("goaml").exists(), "nothing written");
    }
}

#[test]
fn duplicate_case_ids_are_an_error_before_anything_is_written() {
    let d = tempfile::tempdir().unwrap();
    let from = edited_cases(d.path(), |cases| {
        let id = cases[0]["case_id"].clone();
        cases[1]["case_id"] = id;
    });
    let out = d.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("report.md"), "old report\n").unwrap();
    let before = snapshot(&out);
    let o = run(&[
        "report",
        "--from",
        s(&from),
        "--out",
        s(&out),
        "--format",
        "md,html,goaml",
        "--goaml-config",
        s(&goaml_config()),
    ]);
    let err = failed(&o);
    assert!(err.contains("given twice"), "{err}");
    assert_eq!(snapshot(&out), before, "the output folder is as it was");
}

// ---- 7. links planted where the writer works ----

#[cfg(unix)]
#[test]
fn outputs_never_write_through_a_planted_link() {
    let d = tempfile::tempdir().unwrap();
    let victim = d.path().join("victim.txt");
    std::fs::write(&victim, "precious\n").unwrap();
    let out = d.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    // At the temporary names the writer once used (NAME.tmp-PID of this process), and at
    // the target itself.
    let pid = std::process::id();
    for name in ["report.md", "cases.json"] {
        std::os::unix::fs::symlink(&victim, out.join(format!("{name}.tmp-{pid}"))).unwrap();
    }
    std::os::unix::fs::symlink(&victim, out.join("report.md")).unwrap();
    redflag::write_files(
        &out,
        &[
            ("report.md".into(), b"new report\n".to_vec()),
            ("cases.json".into(), b"{}\n".to_vec()),
        ],
        &[],
    )
    .unwrap();
    assert_eq!(read(&victim), "precious\n");
    let m = std::fs::symlink_metadata(out.join("report.md")).unwrap();
    assert!(m.is_file(), "the link itself is replaced by the file");
    assert_eq!(read(&out.join("report.md")), "new report\n");
    let left: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(redflag::STAGING_PREFIX))
        .collect();
    assert!(left.is_empty(), "no staging folder left: {left:?}");
}

#[cfg(unix)]
#[test]
fn a_linked_goaml_folder_is_refused_not_followed() {
    let d = tempfile::tempdir().unwrap();
    let elsewhere = d.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let out = d.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::os::unix::fs::symlink(&elsewhere, out.join("goaml")).unwrap();
    let err = failed(&screen_all(&out));
    assert!(err.contains("goaml") && err.contains("move it away"), "{err}");
    assert_eq!(
        std::fs::read_dir(&elsewhere).unwrap().count(),
        0,
        "nothing written through the link"
    );
    assert!(!out.join("alerts.csv").exists(), "nothing written at all");
}

// ---- 8. all files of a run, or none ----

#[test]
fn a_run_that_cannot_replace_a_file_leaves_the_earlier_run_intact() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("out");
    ok(&screen_all(&out));
    // The earlier run, with report.md replaced by a folder and alerts.csv edited.
    std::fs::remove_file(out.join("report.md")).unwrap();
    std::fs::create_dir(out.join("report.md")).unwrap();
    std::fs::write(out.join("alerts.csv"), "old alerts\n").unwrap();
    let before = snapshot(&out);
    let err = failed(&screen_all(&out));
    assert!(err.contains("report.md") && err.contains("folder"), "{err}");
    assert_eq!(
        snapshot(&out),
        before,
        "the output folder is as it was: no new file, no temporary"
    );
}

#[test]
fn report_from_that_cannot_replace_a_file_writes_nothing() {
    let d = tempfile::tempdir().unwrap();
    let from = edited_cases(d.path(), |_| {});
    let out = d.path().join("out");
    std::fs::create_dir_all(out.join("report.html")).unwrap();
    let before = snapshot(&out);
    let o = run(&[
        "report",
        "--from",
        s(&from),
        "--out",
        s(&out),
        "--format",
        "md,html,goaml",
        "--goaml-config",
        s(&goaml_config()),
    ]);
    let err = failed(&o);
    assert!(err.contains("report.html"), "{err}");
    assert_eq!(snapshot(&out), before);
}

// ---- 9. spreadsheet formulas in CSV cells ----

/// Reads CSV text as a spreadsheet import does: records of fields, quotes undone.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    rows
}

/// The value of a neutralised cell: one leading `'` removed when `'`s and then one of
/// `= + - @ tab CR` begin it.
fn unneutralise(cell: &str) -> &str {
    let rest = cell.trim_start_matches('\'');
    if rest.len() < cell.len() && rest.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        &cell[1..]
    } else {
        cell
    }
}

fn starts_live(cell: &str) -> bool {
    cell.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

#[test]
fn csv_cells_from_data_never_start_a_formula_and_round_trip() {
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("in.csv");
    let link = "=HYPERLINK(\"http://x\",\"click\")";
    std::fs::write(
        &input,
        format!(
            "txn_id,ts,amount,orig_account,bene_account,channel\n\
             @t1,2026-03-02 10:00:00,9500,,\"{q}\",cash_in\n\
             -t2,2026-03-05 15:30:00,9800,,\"{q}\",cash_in\n\
             =1+1,2026-03-06 10:00:00,-12.5,+A,-B,wire\n\
             '=t4,bad date,5,'=A,B,wire\n",
            q = link.replace('"', "\"\"")
        ),
    )
    .unwrap();
    let out = d.path().join("out");
    ok(&run(&["screen", s(&input), "--out", s(&out), "-q"]));
    let alerts = parse_csv(&read(&out.join("alerts.csv")));
    let quarantine = parse_csv(&read(&out.join("quarantine.csv")));
    assert!(alerts.len() > 1 && quarantine.len() == 3, "{alerts:?}\n{quarantine:?}");
    for row in alerts.iter().chain(&quarantine) {
        for cell in row {
            // A plain number the tool or the data wrote stays a number.
            let number = cell.parse::<f64>().is_ok() && !cell.contains(char::is_alphabetic);
            assert!(number || !starts_live(cell), "a live cell: {cell:?}");
        }
    }
    let col = |rows: &[Vec<String>], name: &str| -> Vec<String> {
        let i = rows[0].iter().position(|h| h == name).unwrap();
        rows[1..].iter().map(|r| unneutralise(&r[i]).to_string()).collect()
    };
    assert!(col(&alerts, "account").iter().all(|a| a == link), "{alerts:?}");
    let ids = col(&alerts, "txn_id");
    assert!(
        ids.contains(&"@t1".to_string()) && ids.contains(&"-t2".to_string()),
        "{ids:?}"
    );
    assert_eq!(col(&quarantine, "txn_id"), ["=1+1", "'=t4"]);
    assert_eq!(col(&quarantine, "orig_account"), ["+A", "'=A"]);
    assert_eq!(col(&quarantine, "bene_account"), ["-B", "B"]);
    // The negative amount is written as the number it is.
    let amounts: Vec<String> = {
        let i = quarantine[0].iter().position(|h| h == "amount").unwrap();
        quarantine[1..].iter().map(|r| r[i].clone()).collect()
    };
    assert_eq!(amounts[0], "-12.5");
}

// ---- 10. redaction of watch-list matches ----

#[test]
fn redaction_leaves_no_name_token_of_a_watch_list_match() {
    let case = repo("tests/cases/SAN-01");
    // Every word of the party names of the data and of the list's names and aliases.
    let mut words = std::collections::BTreeSet::new();
    for (file, cols) in [
        ("transactions.csv", &["orig_name", "bene_name"][..]),
        ("watchlist.csv", &["name", "aliases"][..]),
    ] {
        let rows = parse_csv(&read(&case.join(file)));
        for c in cols {
            let i = rows[0].iter().position(|h| h == c).unwrap();
            for r in &rows[1..] {
                for w in r[i].split(|c: char| !c.is_alphanumeric()) {
                    if w.chars().count() >= 4 {
                        words.insert(w.to_string());
                    }
                }
            }
        }
    }
    // The filer named in the goAML configuration is no party.
    let config = read(&goaml_config());
    words.retain(|w| !config.contains(w.as_str()));
    assert!(words.contains("Toktosunov") && words.contains("ERKINBEKOVICH"));
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("out");
    ok(&run(&[
        "screen",
        s(&case.join("transactions.csv")),
        "--list",
        &format!("sanctions={}", s(&case.join("watchlist.csv"))),
        "--only",
        "SAN-01",
        "--out",
        s(&out),
        "--format",
        "json,csv,md,html,goaml",
        "--goaml-config",
        s(&goaml_config()),
        "--redact",
        "-q",
    ]));
    // And `report --redact` over the unredacted cases of the same run.
    let plain = d.path().join("plain");
    ok(&run(&[
        "screen",
        s(&case.join("transactions.csv")),
        "--list",
        &format!("sanctions={}", s(&case.join("watchlist.csv"))),
        "--only",
        "SAN-01",
        "--out",
        s(&plain),
        "--format",
        "json",
        "-q",
    ]));
    assert!(read(&plain.join("cases.json")).contains("Toktosunov"), "unredacted");
    let red = d.path().join("red");
    ok(&run(&[
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
    ]));
    for dir in [&out, &red] {
        let files: Vec<PathBuf> = snapshot(dir)
            .into_iter()
            .filter(|(_, b)| b.is_some())
            .map(|(p, _)| p)
            .collect();
        assert!(
            files.iter().any(|f| f.ends_with("report.html")) && files.len() > 4,
            "{files:?}"
        );
        for f in &files {
            let text = read(f);
            for w in &words {
                assert!(!text.contains(w.as_str()), "{} still shows `{w}`", f.display());
            }
        }
    }
    let cases = read(&out.join("cases.json"));
    assert!(
        cases.contains("\"listed_name\": \"NAME-"),
        "the listed name is a pseudonym"
    );
}

// ---- 17. control characters printed to the terminal ----

fn assert_no_control(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    let bad: Vec<char> = text
        .chars()
        .filter(|&c| (c.is_control() && c != '\n' && c != '\t') || ('\u{80}'..='\u{9f}').contains(&c))
        .collect();
    assert!(bad.is_empty(), "{what} holds control characters {bad:?}:\n{text}");
}

#[test]
fn terminal_output_carries_no_control_character_from_the_data() {
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("in.csv");
    let evil = "ACC\u{1b}[2J\u{1b}]0;pwned\u{7}\u{9b}31m\u{7f}";
    std::fs::write(
        &input,
        format!(
            "txn_id,ts,amount,orig_account,bene_account,channel\n\
             t1,2026-03-02 10:00:00,9500,,{evil},cash_in\n\
             t2,2026-03-05 15:30:00,9800,,{evil},cash_in\n\
             t3\u{1b}[1m,bad date,5,A,B,wire\n"
        ),
    )
    .unwrap();
    let out = d.path().join("out");
    let o = run(&["screen", s(&input), "--out", s(&out)]);
    ok(&o);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("ACC\\u{1b}[2J"),
        "the account shown, escaped:\n{stdout}"
    );
    assert_no_control("screen's stdout", &o.stdout);
    assert_no_control("screen's stderr", &o.stderr);
    // Errors that quote the data: a column name, with --strict a quarantined row.
    let o = run(&["screen", s(&input), "--out", s(&out), "--strict"]);
    failed(&o);
    assert_no_control("the --strict error", &o.stderr);
    let bad_header = d.path().join("header.csv");
    std::fs::write(
        &bad_header,
        "txn_id,ts,\u{1b}[31mamount\u{1b}[0m\nt1,2026-03-02 10:00:00,5\n",
    )
    .unwrap();
    let o = run(&["screen", s(&bad_header), "--out", s(&out)]);
    failed(&o);
    assert_no_control("the missing column error", &o.stderr);
    let o = run(&["inspect", s(&input)]);
    assert_no_control("inspect", &o.stdout);
    assert_no_control("inspect's stderr", &o.stderr);
}

// ---- 18. goAML t_account structure ----

/// The child element names of every `parent` element, in order.
fn children(xml: &str, parent: &str) -> Vec<Vec<String>> {
    use quick_xml::events::Event;
    let mut r = quick_xml::Reader::from_str(xml);
    let mut stack: Vec<(String, Option<usize>)> = Vec::new();
    let mut out: Vec<Vec<String>> = Vec::new();
    loop {
        match r.read_event().unwrap_or_else(|e| panic!("not well-formed: {e}")) {
            Event::Start(e) => {
                let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                if let Some((_, Some(i))) = stack.last() {
                    out[*i].push(name.clone());
                }
                let idx = (name == parent).then(|| {
                    out.push(Vec::new());
                    out.len() - 1
                });
                stack.push((name, idx));
            }
            Event::End(_) => {
                stack.pop();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    out
}

#[test]
fn goaml_accounts_follow_the_t_account_sequence_with_non_bank_institution() {
    // goAML 5.0.2 t_account (and t_account_my_client), in this order.
    let order = [
        "institution_name",
        "institution_code|swift",
        "non_bank_institution",
        "branch",
        "account",
        "currency_code",
        "account_name",
        "iban",
        "client_number",
        "personal_account_type",
        "t_entity",
        "signatory",
        "opened",
        "closed",
        "balance",
        "date_balance",
        "status_code",
        "beneficiary",
        "beneficiary_comment",
        "comments",
    ];
    let required = [
        "institution_name",
        "institution_code|swift",
        "non_bank_institution",
        "account",
    ];
    let pos = |n: &str| order.iter().position(|o| o.split('|').any(|a| a == n));
    let d = tempfile::tempdir().unwrap();
    let config = d.path().join("goaml.yaml");
    let text = read(&goaml_config()).replace("non_bank_institution: false", "non_bank_institution: true");
    assert!(text.contains("non_bank_institution: true"));
    std::fs::write(&config, text).unwrap();
    let out = d.path().join("out");
    ok(&run(&[
        "screen",
        s(&repo("tests/data/report/input.csv")),
        "--out",
        s(&out),
        "--format",
        "goaml",
        "--goaml-config",
        s(&config),
        "-q",
    ]));
    let mut accounts = 0;
    for (p, _) in snapshot(&out.join("goaml")) {
        let xml = read(&p);
        for tag in ["from_account", "to_account"] {
            for kids in children(&xml, tag) {
                accounts += 1;
                let idx: Vec<usize> = kids
                    .iter()
                    .map(|k| pos(k).unwrap_or_else(|| panic!("{}: <{k}> is no t_account element", p.display())))
                    .collect();
                assert!(
                    idx.windows(2).all(|w| w[0] < w[1]),
                    "{}: out of order {kids:?}",
                    p.display()
                );
                for r in required {
                    assert!(
                        kids.iter().any(|k| r.split('|').any(|a| a == k)),
                        "{}: <{tag}> lacks {r}: {kids:?}",
                        p.display()
                    );
                }
            }
        }
        // The entity's own accounts carry the configured value, others `false`.
        let ours = xml
            .matches("<institution_name>Example Commercial Bank</institution_name>")
            .count();
        let all = xml.matches("<institution_name>").count();
        assert_eq!(
            xml.matches("<non_bank_institution>true</non_bank_institution>").count(),
            ours
        );
        assert_eq!(
            xml.matches("<non_bank_institution>false</non_bank_institution>")
                .count(),
            all - ours
        );
    }
    assert!(accounts > 3, "{accounts} accounts checked");
}

// ---- report field size ----

#[test]
fn very_long_text_is_clipped_in_reports_not_in_the_data() {
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("in.csv");
    let narrative = "pipe ".repeat(40_000);
    let name = "Long".repeat(2_000);
    std::fs::write(
        &input,
        format!(
            "txn_id,ts,amount,orig_account,bene_account,orig_name,channel,narrative\n\
             t1,2026-03-02 10:00:00,9500,,ACC-1,{name},cash_in,{narrative}\n\
             t2,2026-03-05 15:30:00,9800,,ACC-1,{name},cash_in,{narrative}\n"
        ),
    )
    .unwrap();
    let out = d.path().join("out");
    ok(&run(&[
        "screen",
        s(&input),
        "--out",
        s(&out),
        "--format",
        "json,csv,md,html,goaml",
        "--goaml-config",
        s(&goaml_config()),
        "-q",
    ]));
    let cases = read(&out.join("cases.json"));
    assert!(
        cases.contains(narrative.trim_end()) && cases.contains(&name),
        "the data keeps every character"
    );
    let mut reports: Vec<PathBuf> = vec![out.join("report.md"), out.join("report.html")];
    reports.extend(snapshot(&out.join("goaml")).into_keys());
    assert!(reports.len() >= 3);
    for r in &reports {
        let text = read(r);
        assert!(text.contains("[…clipped: "), "{}: a visible marker", r.display());
        assert!(
            !text.contains(&narrative[..5_000]),
            "{}: the narrative is clipped",
            r.display()
        );
        assert!(!text.contains(&name), "{}: the name is clipped", r.display());
        assert!(text.len() < 200_000, "{}: {} bytes", r.display(), text.len());
    }
}
