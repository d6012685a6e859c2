//! `cases.json` for `report --from`: `CasesFile::load` then the reports (Markdown, HTML,
//! goAML drafts with the sample configuration). No panic; an error names the file; a file
//! that loads renders, only to the report names and `goaml/CASE_ID.xml` with a valid case
//! id (nothing outside the output folder), and every goAML draft is well-formed XML.
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use redflag::report::{GoamlConfig, ReportOptions};
use redflag::{is_case_id, CasesFile};
use redflag_fuzz::{assert_names_place, file};

fn goaml() -> &'static GoamlConfig {
    static G: OnceLock<GoamlConfig> = OnceLock::new();
    G.get_or_init(|| {
        GoamlConfig::from_yaml(
            include_str!("../../samples/goaml-config.yaml"),
            Path::new("goaml-config.yaml"),
        )
        .expect("the sample goAML configuration")
    })
}

fn well_formed(name: &str, xml: &[u8]) {
    let mut r = quick_xml::Reader::from_reader(xml);
    let mut buf = Vec::new();
    let mut depth = 0i64;
    loop {
        match r.read_event_into(&mut buf) {
            Ok(quick_xml::events::Event::Start(_)) => depth += 1,
            Ok(quick_xml::events::Event::End(_)) => depth -= 1,
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("{name} is not well-formed XML: {e}"),
        }
        assert!(depth >= 0, "{name}: an end tag with no start");
        buf.clear();
    }
    assert_eq!(depth, 0, "{name}: unclosed elements");
}

fuzz_target!(|data: &[u8]| {
    let path = file("cases.json", data);
    let cf = match CasesFile::load(&path) {
        Ok(cf) => cf,
        Err(e) => return assert_names_place(&e, &path),
    };
    let opts = ReportOptions {
        markdown: true,
        html: true,
        goaml: Some(goaml().clone()),
        min_score: 0.0,
    };
    match redflag::report::render(&cf, &opts) {
        Ok(files) => {
            for (name, body) in &files {
                match name.as_str() {
                    "report.md" | "report.html" => {}
                    n => {
                        let id = n
                            .strip_prefix("goaml/")
                            .and_then(|r| r.strip_suffix(".xml"))
                            .unwrap_or_else(|| panic!("an unexpected file name `{n}`"));
                        assert!(is_case_id(id), "a goAML draft named from an invalid case id `{n}`");
                        well_formed(n, body);
                    }
                }
            }
        }
        Err(e) => {
            let msg = e.to_string();
            assert!(!msg.trim().is_empty(), "an error without a message");
            assert!(
                msg.contains("cases.json"),
                "a render error that does not name the file: {msg}"
            );
        }
    }
});
