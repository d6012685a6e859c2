//! Parquet ingest: a corrupt file is a clean error naming the file, never a panic out of
//! the library; rows read = screened + quarantined; what ingests, screens.
#![no_main]

use std::sync::Once;

use libfuzzer_sys::fuzz_target;
use redflag_fuzz::{check_ingest, check_screen, file, ingest_options};

/// polars' Parquet reader panics on some corrupt files (a footer, a page, a column chunk
/// out of the file's bounds), on the calling thread or on a polars worker thread whose
/// panic reaches the caller; the library catches those panics and returns an error naming
/// the file. libFuzzer's panic hook aborts on every panic, caught or not, so panics raised
/// in polars' code or on its worker threads are let through here. One the library does
/// not catch still aborts the run: libfuzzer-sys aborts when a panic leaves the target.
fn let_caught_reader_panics_through() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let fuzzer_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let in_polars = info.location().is_some_and(|l| l.file().contains("polars-"))
                || std::thread::current().name().is_some_and(|n| n.starts_with("polars-"));
            if !in_polars {
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
