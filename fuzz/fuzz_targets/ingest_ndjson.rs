//! NDJSON ingest: no panic, no stack overflow, rows read = screened + quarantined, an
//! error names the file; what ingests, screens.
#![no_main]

use libfuzzer_sys::fuzz_target;
use redflag_fuzz::{check_ingest, check_screen, file, ingest_options};

fuzz_target!(|data: &[u8]| {
    let path = file("input.ndjson", data);
    if let Some(ds) = check_ingest(&path, &ingest_options(None)) {
        check_screen(&ds);
    }
});
