//! What the fuzz targets share: a scratch folder for the files they feed the library, and
//! the properties every input must keep (see docs/fuzzing.md).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use redflag::{Dataset, IngestOptions, Pack, ScreenOptions};

/// A folder that lives as long as the fuzzing process.
pub fn scratch() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        tempfile::Builder::new()
            .prefix("redflag-fuzz")
            .tempdir()
            .expect("scratch folder")
    })
    .path()
}

/// Writes `bytes` to the scratch file `name` and returns its path.
pub fn file(name: &str, bytes: &[u8]) -> PathBuf {
    let p = scratch().join(name);
    std::fs::write(&p, bytes).expect("writing a scratch file");
    p
}

/// An error must name its place: a message that is not empty and names the file.
pub fn assert_names_place(err: &redflag::Error, path: &Path) {
    let msg = err.to_string();
    assert!(!msg.trim().is_empty(), "an error without a message: {err:?}");
    let name = path.file_name().expect("a file name").to_string_lossy();
    assert!(
        msg.contains(name.as_ref()),
        "the error does not name the file `{name}`: {msg}"
    );
}

/// The ingest options of a plain run: base currency USD, one thread.
pub fn ingest_options(mapping: Option<redflag::Mapping>) -> IngestOptions {
    IngestOptions {
        mapping,
        base_currency: "USD".into(),
        threads: Some(1),
        ..Default::default()
    }
}

/// The built-in pack, loaded once.
pub fn builtin() -> &'static Pack {
    static PACK: OnceLock<Pack> = OnceLock::new();
    PACK.get_or_init(|| Pack::builtin().expect("the built-in pack loads"))
}

/// Ingests one file and checks what must hold: every record read is screened or
/// quarantined, the frames hold what the counts say, and an error names the file. A
/// dataset that ingests is then screened with the built-in pack, which must not fail.
/// Returns the dataset when ingest succeeded.
pub fn check_ingest(path: &Path, opts: &IngestOptions) -> Option<Dataset> {
    match redflag::ingest(&[path.to_path_buf()], opts) {
        Ok(ds) => {
            check_counts(&ds);
            Some(ds)
        }
        Err(e) => {
            assert_names_place(&e, path);
            None
        }
    }
}

/// Rows read = screened + quarantined, input by input and for the frames.
pub fn check_counts(ds: &Dataset) {
    assert_eq!(ds.inputs.len(), 1, "one input file, one summary");
    for i in &ds.inputs {
        assert_eq!(
            i.rows_read,
            i.rows_screened + i.rows_quarantined,
            "rows read must be rows screened + rows quarantined: {i:?}"
        );
    }
    assert_eq!(
        ds.transactions.height() as u64,
        ds.rows_screened(),
        "the transactions frame holds the rows screened"
    );
    assert_eq!(
        ds.quarantine.height() as u64,
        ds.rows_quarantined(),
        "the quarantine frame holds the rows quarantined"
    );
}

/// Screens a dataset with the built-in pack on one thread: a dataset that ingested must
/// screen, and every alert must name a transaction of the dataset's size.
pub fn check_screen(ds: &Dataset) {
    let opts = ScreenOptions {
        threads: Some(1),
        ..Default::default()
    };
    match redflag::screen_with(builtin(), ds, &opts, &|_, _, _| {}) {
        Ok(s) => {
            for c in &s.cases {
                assert!(c.score.is_finite(), "a case score is not finite: {}", c.score);
            }
        }
        Err(e) => panic!("a dataset that ingested does not screen: {e}"),
    }
}

/// A fixed CSV of a few well-formed rows (the demo's first rows).
pub const SAMPLE_CSV: &str = "txn_id,ts,amount,currency,amount_base,channel,orig_account,bene_account,orig_name,bene_name,orig_country,bene_country,narrative\n\
T1,2025-01-01T09:15:10,230.00,USD,230.00,p2p,A1,B1,Kanykei Esenova,Feruza Bekova,KG,KG,rent\n\
T2,2025-01-01T10:03:03,499.43,USD,499.43,wire,A2,B2,Oil Ak-Bulak,Ruslan Kuznetsov,KG,KZ,salary\n\
T3,2025-01-02T11:00:00,9500,USD,9500,cash,A1,B2,Kanykei Esenova,Ruslan Kuznetsov,KG,KZ,cash deposit\n";

/// The sample CSV ingested once.
pub fn sample_dataset() -> &'static Dataset {
    static DS: OnceLock<Dataset> = OnceLock::new();
    DS.get_or_init(|| {
        let p = scratch().join("sample-fixed.csv");
        std::fs::write(&p, SAMPLE_CSV).expect("writing the sample");
        redflag::ingest(&[p], &ingest_options(None)).expect("the sample ingests")
    })
}

/// A pack that loads (what `rules check` accepts) must screen: no panic, no error, on a
/// small dataset.
pub fn check_pack_runs(pack: &Pack) {
    let opts = ScreenOptions {
        threads: Some(1),
        ..Default::default()
    };
    if let Err(e) = redflag::screen_with(pack, sample_dataset(), &opts, &|_, _, _| {}) {
        panic!("a pack that passed `rules check` fails to screen: {e}");
    }
}

/// Parses a watch list from `bytes` as the file `name` and checks what must hold: no
/// panic; an error names the file; a list that loads says it was read in `format`, every
/// entry has a name and says where it was read, the entry count adds up, and a matcher
/// built over it screens each entry's own name without a panic, finding the entry itself
/// whenever the name is distinctive (see [`distinctive`]) and losing no match to its
/// shortcuts (see [`check_bounds_lose_nothing`]).
pub fn check_watchlist(bytes: &[u8], name: &str, format: redflag::watchlist::ListFormat) {
    use redflag::watchlist::{EntryKind, Matcher, Party, WatchList};
    let path = scratch().join(name);
    match WatchList::parse(bytes, &path) {
        Ok(list) => {
            assert_eq!(list.files.len(), 1, "one file, one summary");
            let f = &list.files[0];
            assert_eq!(f.format, format, "read in another format");
            assert_eq!(f.entries, list.entries.len(), "the file's entry count");
            for e in &list.entries {
                assert!(!e.name.trim().is_empty(), "an entry without a name: {e:?}");
                assert!(
                    e.source.contains(name),
                    "an entry's source does not name the file: {e:?}"
                );
            }
            let m = Matcher::new(&list, 80.0);
            let exhaustive = Matcher::new(&list, 0.0);
            for (i, e) in list.entries.iter().enumerate().take(8) {
                let party = Party::new(&e.name).organisation(e.kind == EntryKind::Organisation);
                let found = m.screen(&party);
                check_bounds_lose_nothing(&found, &exhaustive, &party, 80.0);
                for hit in &found {
                    assert!(
                        hit.score.is_finite() && hit.name_score.is_finite(),
                        "a score that is not finite"
                    );
                    assert!(hit.entry < list.entries.len(), "a match on no entry");
                }
                if distinctive(&e.name) {
                    assert!(
                        found
                            .iter()
                            .any(|h| h.entry == i || list.entries[h.entry].name == e.name),
                        "entry {i} `{}` is not found by its own name",
                        e.name
                    );
                }
            }
        }
        Err(e) => assert_names_place(&e, &path),
    }
}

/// A name the matcher must find when it is screened exactly as listed: two or more
/// distinct ordinary name tokens (not common given names or business words, legal forms,
/// particles, patronymics or initials), and no initial. A common word or a single name on
/// its own is, by design, never a match (see `watchlist/matcher.rs`); an initial matches
/// even itself only weakly, so a name of many initials falls under the threshold.
pub fn distinctive(name: &str) -> bool {
    use redflag::watchlist::{Name, TokenClass};
    let parsed = Name::parse(name);
    if parsed.tokens.iter().any(|t| t.class == TokenClass::Initial) {
        return false;
    }
    let mut keys: Vec<&str> = parsed
        .tokens
        .iter()
        .filter(|t| t.class == TokenClass::Name)
        .map(|t| t.key.as_str())
        .collect();
    keys.sort_unstable();
    keys.dedup();
    keys.len() >= 2
}

/// The matcher's candidate index and early bounds only set aside names that cannot reach
/// its minimum score: `found`, a screening of `party` at `min_score`, holds every entry
/// that an exhaustive screening (at 0) scores at `min_score` or over, with the same score,
/// and nothing else. The party has no birth date or country, so its score is its name
/// score; a margin of 0.001 leaves out scores on the edge of `min_score`.
pub fn check_bounds_lose_nothing(
    found: &[redflag::watchlist::Match],
    exhaustive: &redflag::watchlist::Matcher,
    party: &redflag::watchlist::Party<'_>,
    min_score: f64,
) {
    let all = exhaustive.screen(party);
    for m in found {
        assert!(m.score >= min_score, "a match under the minimum score: {}", m.explain());
        let same = all.iter().find(|a| a.entry == m.entry);
        assert!(
            same.is_some_and(|a| a.score == m.score),
            "`{}`: a match the exhaustive screening scores otherwise: {} / {:?}",
            party.name,
            m.explain(),
            same.map(|a| a.explain())
        );
    }
    for a in all.iter().filter(|a| a.score >= min_score + 0.001) {
        assert!(
            found.iter().any(|m| m.entry == a.entry),
            "`{}`: the screening at {min_score} loses a match the exhaustive one finds: {}",
            party.name,
            a.explain()
        );
    }
}
