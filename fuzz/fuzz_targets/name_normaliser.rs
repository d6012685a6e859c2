//! The name normaliser of the watch-list matcher (`Name::parse`, `transliterate`,
//! `key_of`) and the matcher over it: no panic on any text; parsing is deterministic;
//! every token has a non-empty matching key without white space, which is the key of its
//! Latin form; and a name put on a list is found when the same name is screened, whenever
//! it is distinctive (two distinct ordinary name tokens; see `redflag_fuzz::distinctive`),
//! and the matcher's shortcuts lose no match (`redflag_fuzz::check_bounds_lose_nothing`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use redflag::watchlist::{key_of, EntryKind, ListEntry, Matcher, Name, Party, WatchList};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let name = Name::parse(text);
    assert_eq!(name, Name::parse(text), "parsing is not deterministic");
    for t in &name.tokens {
        assert!(!t.key.is_empty(), "a token with an empty key: {t:?}");
        assert!(!t.key.chars().any(char::is_whitespace), "a key with white space: {t:?}");
        assert_eq!(key_of(&t.latin), t.key, "a key that is not its Latin form's: {t:?}");
    }
    if !redflag_fuzz::distinctive(text) {
        return;
    }
    let list = WatchList {
        entries: vec![ListEntry {
            list: "fuzz".into(),
            reference: "F-1".into(),
            kind: EntryKind::Person,
            name: text.to_string(),
            aliases: Vec::new(),
            birth_dates: Vec::new(),
            countries: Vec::new(),
            source: "fuzz:1".into(),
        }],
        files: Vec::new(),
    };
    let m = Matcher::new(&list, 80.0);
    let hits = m.screen(&Party::new(text));
    redflag_fuzz::check_bounds_lose_nothing(&hits, &Matcher::new(&list, 0.0), &Party::new(text), 80.0);
    assert!(
        hits.iter().any(|h| h.entry == 0),
        "a listed name is not found by itself: {text:?} ({:?})",
        name.tokens.iter().map(|t| (&t.key, t.class)).collect::<Vec<_>>()
    );
    for h in &hits {
        assert!(h.score.is_finite(), "a score that is not finite");
    }
});
