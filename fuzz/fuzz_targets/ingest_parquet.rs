//! Parquet ingest: a corrupt file is a clean error naming the file, never a panic out of
//! the library; rows read = screened + quarantined; what ingests, screens.
#![no_main]

use std::sync::Once;

use libfuzzer_sys::fuzz_target;
use redflag_fuzz::{check_ingest, check_screen, file, ingest_options};

/// polars' Parquet reader panics on some corrupt files (a footer, a page); the library
/// catches those panics and returns an error naming the file. libFuzzer's panic hook
/// aborts on every panic, caught or not, so panics raised inside polars' Parquet and Arrow
/// code are let through here: one the library did not catch still aborts the run when it
/// leaves the target.
fn let_caught_reader_panics_through() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let fuzzer_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let in_reader = info
                .location()
                .is_some_and(|l| ["polars-parquet", "polars-arrow"].iter().any(|c| l.file().contains(c)));
            if !in_reader {
                fuzzer_hook(info);
            }
        }));
    });
}

fuzz_target!(|data: &[u8]| {
    let_caught_reader_panics_through();
    let path = file("input.parquet", data);
    if let Some(ds) = check_ingest(&path, &ingest_options(None)) {
        check_screen(&ds);
    }
});
