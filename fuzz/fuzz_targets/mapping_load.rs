//! The mapping loader (`Mapping::load`): no panic; an error names the mapping file; a
//! mapping that loads ingests a small CSV keeping rows read = screened + quarantined, and
//! an ingest error then names the mapping or the data file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use redflag::Mapping;
use redflag_fuzz::{assert_names_place, check_counts, file, ingest_options, SAMPLE_CSV};

/// The sample again, with `;`, decimal commas and a header in other words, so that more
/// mappings find their columns.
const OTHER_CSV: &str = "Дата;Сумма;Счёт;Корр;Type;Д/К\n\
01.03.2026 10:15;1 234,56;40817;40702;SWIFT;Д\n\
02.03.2026 11:00;9 500,00;40817;40703;Cash deposit;К\n";

fuzz_target!(|data: &[u8]| {
    let mpath = file("mapping.yaml", data);
    match Mapping::load(&mpath) {
        Ok(m) => {
            for (name, csv) in [("m1.csv", SAMPLE_CSV), ("m2.csv", OTHER_CSV)] {
                let dpath = file(name, csv.as_bytes());
                match redflag::ingest(&[dpath.clone()], &ingest_options(Some(m.clone()))) {
                    Ok(ds) => check_counts(&ds),
                    Err(e) => {
                        let msg = e.to_string();
                        assert!(
                            msg.contains("mapping.yaml") || msg.contains(name),
                            "an ingest error names neither the mapping nor the file: {msg}"
                        );
                    }
                }
            }
        }
        Err(e) => assert_names_place(&e, &mpath),
    }
});
