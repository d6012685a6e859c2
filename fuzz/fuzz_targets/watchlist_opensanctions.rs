//! The OpenSanctions `targets.simple.csv` loader: the input follows its header line. No
//! panic; an error names the file; see `check_watchlist`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use redflag::watchlist::ListFormat;
use redflag_fuzz::check_watchlist;

fuzz_target!(|data: &[u8]| {
    let mut bytes = b"id,schema,name,aliases,birth_date,countries,addresses,identifiers,sanctions,phones,emails,dataset,first_seen,last_seen,last_change\n".to_vec();
    bytes.extend_from_slice(data);
    check_watchlist(&bytes, "targets.simple.csv", ListFormat::OpenSanctions);
});
