//! The pack loader and `rules check` (`Pack::load`, YAML or TOML by the first byte, with a
//! list file beside it): no panic, no stack overflow; every problem names the pack file
//! and says what is wrong; a pack that passes the check screens a small dataset without
//! a panic or an error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use redflag::{Error, Pack};
use redflag_fuzz::{assert_names_place, check_pack_runs, file, scratch};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let dir = scratch().join("lists");
    if !dir.exists() {
        std::fs::create_dir_all(&dir).expect("lists folder");
        std::fs::write(dir.join("codes.txt"), "KP\nIR\n# comment\nMM\n").expect("list");
    }
    let name = if pick & 1 == 0 { "pack.yaml" } else { "pack.toml" };
    let path = file(name, rest);
    match Pack::load(&path) {
        Ok(pack) => check_pack_runs(&pack),
        Err(Error::Pack { file, problems }) => {
            assert_eq!(file, path, "the pack error names the pack");
            assert!(!problems.is_empty(), "a pack error with no problem");
            for p in &problems {
                assert!(!p.message.trim().is_empty(), "a problem without a message: {p:?}");
                assert_eq!(p.location.file, path, "a problem located in another file: {p:?}");
            }
        }
        Err(e) => assert_names_place(&e, &path),
    }
});
