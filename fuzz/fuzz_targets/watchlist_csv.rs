//! The plain CSV watch-list loader (`name, aliases, birth_date, country, list,
//! reference`): the input follows its header line. No panic; an error names the file; see
//! `check_watchlist`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use redflag::watchlist::ListFormat;
use redflag_fuzz::check_watchlist;

fuzz_target!(|data: &[u8]| {
    let mut bytes = b"name,aliases,birth_date,country,list,reference\n".to_vec();
    bytes.extend_from_slice(data);
    check_watchlist(&bytes, "watchlist.csv", ListFormat::PlainCsv);
});
