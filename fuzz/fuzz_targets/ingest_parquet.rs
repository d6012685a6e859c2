//! Parquet ingest: a corrupt file is a clean error naming the file, never a panic; rows
//! read = screened + quarantined; what ingests, screens.
#![no_main]

use libfuzzer_sys::fuzz_target;
use redflag_fuzz::{check_ingest, check_screen, file, ingest_options};

fuzz_target!(|data: &[u8]| {
    let path = file("input.parquet", data);
    if let Some(ds) = check_ingest(&path, &ingest_options(None)) {
        check_screen(&ds);
    }
});
