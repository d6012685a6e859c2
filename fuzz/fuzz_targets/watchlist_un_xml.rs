//! The UN Consolidated List XML loader: the input is the content of a
//! `CONSOLIDATED_LIST` root (so that the loader, not the detector, reads it). No panic, no
//! entity expansion; an error names the file; see `check_watchlist`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use redflag::watchlist::ListFormat;
use redflag_fuzz::check_watchlist;

fuzz_target!(|data: &[u8]| {
    let mut bytes =
        b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CONSOLIDATED_LIST dateGenerated=\"2026-11-01T00:00:00\">\n"
            .to_vec();
    bytes.extend_from_slice(data);
    check_watchlist(&bytes, "un-list.xml", ListFormat::UnXml);
});
