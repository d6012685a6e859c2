//! Watch-list screening: a labelled table of name pairs across scripts,
//! transliterations, orders, patronymics and legal forms, with precision and recall;
//! the sample lists in every format. `redflag lists check` and SAN-01 through the
//! command line: `tests/cli`.
//! Every name here is invented.

use std::path::Path;

use redflag::watchlist::{Matcher, Party, WatchList};

/// The score SAN-01 screens at.
const MIN_SCORE: f64 = 80.0;

const LIST: &str = "name,aliases,birth_date,country,list,reference
TOKTOSUNOV ZHANYBEK ERKINBEKOVICH,Токтосунов Жаныбек Эркинбекович,1979-03-14,KG,Test,T-01
ABDUKHALILOV SHERZOD BAKHTIYOROVICH,,1990,UZ,Test,T-02
NURLANULY YERZHAN,,1983-07-21,KZ,Test,T-03
ZHUMAGULOVA AIDANA TALGATOVNA,,1995,KZ,Test,T-04
KADYRBEK UULU ALMAZBEK,,,KG,Test,T-05
YUSUPDZHANOV KHAMIDULLO,,,TJ,Test,T-06
Emma Daniels,,,,Test,T-07
SARYBEL RELIEF FOUNDATION,Фонд «Сарыбел»,,KG,Test,T-08
ALTYN KERBEN TRADING LLP,ТОО «Алтын Кербен Трейдинг»,,KZ,Test,T-09
RAKHMATULLAEVA DILFUZA,,1991-05-30,UZ,Test,T-10
IVANOV SERGEI PETROVICH,,,RU,Test,T-11
OMUREKOV TALANTBEK,,,KG,Test,T-12
";

/// (what the pair tests, party name, birth date, country, the entry it is: None for a
/// name that must not match).
type Pair = (
    &'static str,
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
);

const PAIRS: &[Pair] = &[
    // Same person across scripts, transliterations, orders, patronymics.
    (
        "cyrillic, no patronymic",
        "Токтосунов Жаныбек",
        None,
        None,
        Some("T-01"),
    ),
    (
        "latin, given name first",
        "Zhanybek Toktosunov",
        None,
        None,
        Some("T-01"),
    ),
    ("zh written j", "TOKTOSUNOV JANYBEK", None, None, Some("T-01")),
    (
        "full name",
        "Toktosunov Zhanybek Erkinbekovich",
        None,
        None,
        Some("T-01"),
    ),
    (
        "cyrillic, patronymic in the middle",
        "Жаныбек Эркинбекович Токтосунов",
        None,
        None,
        Some("T-01"),
    ),
    ("honorific", "Mr. Zhanybek TOKTOSUNOV", None, None, Some("T-01")),
    ("one-letter typo", "Toktosonov Zhanybek", None, None, Some("T-01")),
    (
        "with birth date and country",
        "Toktosunov Zhanybek",
        Some("14.03.1979"),
        Some("KG"),
        Some("T-01"),
    ),
    ("cyrillic to latin kh", "Абдухалилов Шерзод", None, None, Some("T-02")),
    ("uzbek latin x", "Sherzod Abduxalilov", None, None, Some("T-02")),
    ("h for kh, initial", "ABDUHALILOV SHERZOD B.", None, None, Some("T-02")),
    (
        "uzbek patronymic form",
        "Abdukhalilov Sherzod Bakhtiyor o'g'li",
        None,
        None,
        Some("T-02"),
    ),
    ("typo d/t", "Abdukhalilov Sherzot", None, None, Some("T-02")),
    ("kazakh letters", "Нұрланұлы Ержан", None, None, Some("T-03")),
    ("kazakh name in latin", "Yerzhan Nurlanuly", None, None, Some("T-03")),
    ("ye/e and y/i", "Erzhan Nurlanuli", None, None, Some("T-03")),
    (
        "female surname, cyrillic",
        "Жумагулова Айдана",
        None,
        None,
        Some("T-04"),
    ),
    ("female surname, latin", "Aidana Zhumagulova", None, None, Some("T-04")),
    ("ay/ai and j", "Aydana Jumagulova", None, None, Some("T-04")),
    ("kyrgyz uulu", "Алмазбек Кадырбек уулу", None, None, Some("T-05")),
    ("kyrgyz uulu, latin", "Almazbek Kadyrbek uulu", None, None, Some("T-05")),
    ("tajik name, cyrillic", "Юсупджанов Хамидулло", None, None, Some("T-06")),
    ("dzh/j, kh/h", "Hamidullo Yusupjanov", None, None, Some("T-06")),
    ("icao iu", "KHAMIDULLO IUSUPDZHANOV", None, None, Some("T-06")),
    ("plain latin", "Emma Daniels", None, None, Some("T-07")),
    ("comma and order", "DANIELS, EMMA", None, None, Some("T-07")),
    (
        "organisation, cyrillic alias",
        "Фонд «Сарыбел»",
        None,
        None,
        Some("T-08"),
    ),
    (
        "organisation, legal form added",
        "Sarybel Relief Foundation LLC",
        None,
        None,
        Some("T-08"),
    ),
    (
        "organisation without legal form",
        "Altyn Kerben Trading",
        None,
        None,
        Some("T-09"),
    ),
    (
        "organisation, cyrillic legal form",
        "ТОО Алтын Кербен",
        None,
        None,
        Some("T-09"),
    ),
    ("organisation, hyphen", "Altyn-Kerben LLP", None, None, Some("T-09")),
    (
        "transliterated trading",
        "Altyn Kerben Treiding",
        None,
        None,
        Some("T-09"),
    ),
    (
        "cyrillic female surname",
        "Рахматуллаева Дилфуза",
        None,
        None,
        Some("T-10"),
    ),
    ("kh/h, ye/e", "Dilfuza Rahmatullayeva", None, None, Some("T-10")),
    ("russian name", "Иванов Сергей Петрович", None, None, Some("T-11")),
    (
        "russian name, latin, no patronymic",
        "Sergey Ivanov",
        None,
        None,
        Some("T-11"),
    ),
    ("kyrgyz name", "Talantbek Omurekov", None, None, Some("T-12")),
    // Shared common tokens only, legal forms, near misses: no match.
    ("common given name and legal form", "EMMA LLC", None, None, None),
    ("common given name, generic words", "Emma Trading LLC", None, None, None),
    (
        "generic words only",
        "Relief International Foundation",
        None,
        None,
        None,
    ),
    ("generic words and legal form", "Global Trading LLP", None, None, None),
    ("common given names only", "Muhammad Ali", None, None, None),
    (
        "honorific, common name, generic word",
        "Haji Muhammad Trading LLC",
        None,
        None,
        None,
    ),
    ("given name only, common", "Zhanybek Kurmanov", None, None, None),
    ("given name only, rare", "Aidana Sultanova", None, None, None),
    ("given name only, uzbek", "Sherzod Abdullaev", None, None, None),
    ("one rare word of an organisation", "Kerben Stroy LLC", None, None, None),
    ("rare word, other generic word", "Sarybel Trading", None, None, None),
    ("surname as given name", "Nurlan Yerzhanov", None, None, None),
    ("patronymic as surname", "Sergei Petrov", None, None, None),
    ("female form, other given name", "Иванова Анна", None, None, None),
    (
        "different surname, same given name",
        "Toktogulov Zhanybek",
        None,
        None,
        None,
    ),
    ("different surname, one syllable", "Talantbek Omurov", None, None, None),
    ("unrelated person", "Aigerim Bekova", None, None, None),
    (
        "same name, birth date far off",
        "Toktosunov Zhanybek",
        Some("1961-01-01"),
        None,
        None,
    ),
    // Written after the scoring was tuned on the pairs above and left as they came out,
    // except that they showed `partnership` missing from the legal forms (added). The
    // misses are known: a surname with initials only, a surname formed from the father's
    // name.
    (
        "full cyrillic with patronymic",
        "Жумагулова Айдана Талгатовна",
        None,
        None,
        Some("T-04"),
    ),
    ("surname and initials", "ZHUMAGULOVA A.T.", None, None, Some("T-04")),
    (
        "patronymic the list lacks",
        "Rakhmatullaeva Dilfuza Bakhtiyorovna",
        None,
        None,
        Some("T-10"),
    ),
    (
        "surname made of the father's name",
        "Kadyrbekov Almazbek",
        None,
        None,
        Some("T-05"),
    ),
    (
        "j for zh, with patronymic",
        "Toktosunov Janybek Erkinbekovich",
        None,
        None,
        Some("T-01"),
    ),
    (
        "legal form spelled out",
        "ALTYN KERBEN TRADING LIMITED LIABILITY PARTNERSHIP",
        None,
        None,
        Some("T-09"),
    ),
    ("cyrillic surname and initials", "Иванов С.П.", None, None, Some("T-11")),
    ("listed surname as a firm", "Daniels Trading LLC", None, None, None),
    ("female relative", "Toktosunova Aigerim", None, None, None),
    (
        "female form, other given name, latin",
        "Ivanova Irina",
        None,
        None,
        None,
    ),
    ("first word of a firm", "Altyn Dala LLP", None, None, None),
    (
        "rare word, other generic word, cyrillic",
        "ОсОО Сарыбел Агро",
        None,
        None,
        None,
    ),
];

#[test]
fn labelled_pairs_precision_and_recall() {
    let list = WatchList::parse(LIST.as_bytes(), Path::new("pairs.csv")).unwrap();
    let matcher = Matcher::new(&list, MIN_SCORE);
    assert!(PAIRS.len() >= 40);
    let (mut tp, mut fp, mut fn_, mut tn) = (0, 0, 0, 0);
    let mut table = String::new();
    for (what, name, dob, country, expected) in PAIRS {
        let party = Party {
            name,
            birth_date: *dob,
            country: *country,
            organisation: None,
        };
        let found = matcher.screen(&party);
        let top = found.first();
        let got = top.map(|m| m.reference.as_str());
        let verdict = match (expected, got) {
            (Some(e), Some(g)) if e == &g => {
                tp += 1;
                "TP"
            }
            (Some(_), Some(_)) => {
                fp += 1;
                fn_ += 1;
                "FP+FN"
            }
            (Some(_), None) => {
                fn_ += 1;
                "FN"
            }
            (None, Some(_)) => {
                fp += 1;
                "FP"
            }
            (None, None) => {
                tn += 1;
                "TN"
            }
        };
        table.push_str(&format!(
            "{verdict:5} {:<42} {:<38} {:>6} {:<5} {}\n",
            what,
            name,
            top.map_or("-".into(), |m| format!("{:.1}", m.score)),
            got.unwrap_or("-"),
            top.map_or(String::new(), |m| m.explain())
        ));
    }
    let precision = tp as f64 / (tp + fp).max(1) as f64;
    let recall = tp as f64 / (tp + fn_).max(1) as f64;
    println!("{table}");
    println!(
        "{} pairs at min score {MIN_SCORE}: TP {tp}, FP {fp}, FN {fn_}, TN {tn}; precision {precision:.3}, recall {recall:.3}",
        PAIRS.len()
    );
    assert!(precision >= 0.97, "precision {precision:.3}\n{table}");
    assert!(recall >= 0.9, "recall {recall:.3}\n{table}");
}

#[test]
fn shared_common_tokens_alone_never_match_at_any_score() {
    let list = WatchList::parse(LIST.as_bytes(), Path::new("pairs.csv")).unwrap();
    let matcher = Matcher::new(&list, 0.0);
    for name in [
        "EMMA LLC",
        "Emma Trading LLC",
        "Relief International Foundation",
        "Global Trading LLP",
        "Muhammad Ali",
        "Sergei",
        "ТОО «Трейдинг»",
        "ОсОО Фонд",
    ] {
        let found = matcher.screen(&Party::new(name));
        assert!(found.is_empty(), "{name}: {}", found[0].explain());
    }
}

#[test]
fn scores_rank_rather_than_saturate() {
    let list = WatchList::parse(LIST.as_bytes(), Path::new("pairs.csv")).unwrap();
    let matcher = Matcher::new(&list, 0.0);
    let score = |p: Party| matcher.screen(&p).first().map_or(0.0, |m| m.score);
    let two = score(Party::new("Toktosunov Zhanybek"));
    let three = score(Party::new("Toktosunov Zhanybek Erkinbekovich"));
    let typo = score(Party::new("Toktosonov Zhanybek"));
    let dob = score(Party::new("Toktosunov Zhanybek").birth_date("1979-03-14"));
    let all = score(
        Party::new("Toktosunov Zhanybek Erkinbekovich")
            .birth_date("1979-03-14")
            .country("KG"),
    );
    let far = score(Party::new("Toktosunov Zhanybek").birth_date("1961-01-01"));
    println!("typo {typo:.2} < two {two:.2} < three {three:.2}, dob {dob:.2} < all {all:.2}; far {far:.2}");
    // More evidence ranks higher: a typo below the exact name, a patronymic or a birth
    // date above it, everything above both.
    assert!(typo < two && two < three && two < dob, "{typo} {two} {three} {dob}");
    assert!(three < all && dob < all, "{three} {dob} {all}");
    assert!(all > 100.0, "scores are not capped at 100: {all}");
    assert!(far < MIN_SCORE && far < two);
}

#[test]
fn the_sample_lists_hold_the_same_entries_in_every_format() {
    let root = Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("../../samples");
    let load = |f: &str| WatchList::load(&root.join(f)).unwrap_or_else(|e| panic!("{e}"));
    let un = load("watchlist-un.xml");
    let os = load("watchlist-opensanctions.csv");
    let plain = load("watchlist.csv");
    for wl in [&un, &os, &plain] {
        assert_eq!(wl.entries.len(), 12, "{:?}", wl.files[0].path);
        assert!(wl.files[0].skipped.is_empty(), "{:?}", wl.files[0].skipped);
    }
    let refs = |wl: &WatchList| {
        let mut r: Vec<String> = wl.entries.iter().map(|e| e.reference.clone()).collect();
        r.sort();
        r
    };
    assert_eq!(refs(&un), refs(&plain));
    assert_eq!(os.entries[0].reference, "ex-exi-901");
    // The same party meets the same entry in each.
    for wl in [&un, &os, &plain] {
        let m = Matcher::new(wl, MIN_SCORE);
        let found = m.screen(&Party::new("Токтосунов Жаныбек").birth_date("1979-03-14"));
        assert_eq!(found.len(), 1, "{:?}", wl.files[0].path);
        assert!(found[0].reference.ends_with("901"), "{}", found[0].explain());
        assert!(found[0].corroborated());
    }
}

/// Through the library: a list bound with `Pack::with_watch_list`; one name that meets
/// two entries on the same transaction gives one alert, the better scored entry's.
#[test]
fn san01_through_the_api_keeps_the_best_entry_for_a_name() {
    use polars::prelude::*;
    let list = "name,aliases,birth_date,country,list,reference\n\
                TOKTOSUNOV ZHANYBEK,,,,Test,T-SHORT\n\
                TOKTOSUNOV ZHANYBEK ERKINBEKOVICH,,,,Test,T-FULL\n";
    let wl = WatchList::parse(list.as_bytes(), Path::new("two.csv")).unwrap();
    let pack = redflag::Pack::builtin()
        .unwrap()
        .only(&["SAN-01".to_string()])
        .unwrap()
        .with_watch_list("sanctions", wl);
    let df = DataFrame::new_infer_height(vec![
        Column::new("txn_id".into(), ["t1"]),
        Column::new("ts".into(), ["2026-05-01 10:00:00"]),
        Column::new("amount".into(), [700.0]),
        Column::new("orig_account".into(), ["PAYER"]),
        Column::new("bene_account".into(), ["PAYEE"]),
        Column::new("orig_name".into(), ["Toktosunov Zhanybek Erkinbekovich"]),
        Column::new("bene_name".into(), ["Asel Bekova"]),
        Column::new("channel".into(), ["wire"]),
    ])
    .unwrap();
    let data = redflag::Dataset::from_frame(df, "api", &redflag::IngestOptions::default()).unwrap();
    let result = redflag::screen(&pack, &data).unwrap();
    let alerts: Vec<&redflag::Alert> = result.alerts().filter(|a| a.rule_id == "SAN-01").collect();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0].account, "PAYER");
    assert_eq!(alerts[0].measures["reference"], "T-FULL", "{}", alerts[0].explanation);
    assert_eq!(alerts[0].linked_accounts, ["PAYEE"]);
}

/// Names of any length, with or without repeated tokens, as a long organisation name or
/// a long chain of personal names can be: each listed name is found when it is screened
/// as listed, and screening at SAN-01's score finds exactly what a screening at 0 finds
/// at that score or over (the matcher's candidate index and early bounds only skip names
/// that cannot reach it, however many tokens the names have).
#[test]
fn names_of_any_length_are_found_by_themselves_and_the_bounds_lose_nothing() {
    const WORDS: &[&str] = &[
        "Toktogulov",
        "Sarybaev",
        "Nurmatov",
        "Esenova",
        "Kuznetsov",
        "Bekmuratova",
        "Asanaliev",
        "Osmonkulov",
        "Abdrakhmanov",
        "Karimova",
        "Usenbaev",
        "Tashmatov",
        "Zhoroev",
        "Kalybekova",
        "Imanaliev",
        "Dzhumabekov",
        "Orozbaeva",
        "Sadykov",
    ];
    let name = |len: usize, step: usize, cycle: usize| -> String {
        let words: Vec<&str> = (0..len).map(|i| WORDS[(i * step) % cycle]).collect();
        words.join(" ")
    };
    let mut names: Vec<String> = Vec::new();
    for len in [2, 5, 15, 16, 17, 20, 24, 33, 40] {
        names.push(name(len, 1, WORDS.len())); // distinct up to 18 tokens, then repeated
        names.push(name(len, 5, 3)); // three names, repeated
        names.push(name(len, 7, 11));
    }
    names.sort();
    names.dedup();
    let rows: Vec<String> = names
        .iter()
        .enumerate()
        .map(|(i, n)| format!("{n},,,,Test,L-{i}"))
        .collect();
    let csv = format!("name,aliases,birth_date,country,list,reference\n{}\n", rows.join("\n"));
    let list = WatchList::parse(csv.as_bytes(), Path::new("long.csv")).unwrap();
    assert_eq!(list.entries.len(), names.len());
    let at_min = Matcher::new(&list, MIN_SCORE);
    let all = Matcher::new(&list, 0.0);
    let mut parties: Vec<String> = names.clone();
    // Parts and mixes of the listed names: the bounds must keep their matches too.
    parties.extend(names.iter().map(|n| n.split(' ').skip(1).collect::<Vec<_>>().join(" ")));
    parties.extend(names.windows(2).map(|w| format!("{} {}", w[0], w[1])));
    for (i, n) in names.iter().enumerate() {
        let found = at_min.screen(&Party::new(n));
        assert!(
            found.iter().any(|m| m.entry == i),
            "`{n}` ({} tokens) is not found by itself: {found:?}",
            n.split(' ').count()
        );
    }
    for p in &parties {
        let got = at_min.screen(&Party::new(p));
        let mut want = all.screen(&Party::new(p));
        want.retain(|m| m.score >= MIN_SCORE);
        let ids = |v: &[redflag::watchlist::Match]| v.iter().map(|m| (m.entry, m.score)).collect::<Vec<_>>();
        assert_eq!(ids(&got), ids(&want), "`{p}`");
    }
}

/// A token holding one letter 255 times or more (a key's letter counts stop there): a
/// one-letter typo in it is still the near spelling it is, as in a short token. The
/// shortcut that compares letter counts before Jaro-Winkler must not turn it away.
#[test]
fn a_typo_in_a_very_long_token_is_still_a_near_spelling() {
    let long = "ab".repeat(1000);
    let csv = format!("name,aliases,birth_date,country,list,reference\n{long}c Nurmatov,,,,Test,T-1\n");
    let list = WatchList::parse(csv.as_bytes(), Path::new("long-token.csv")).unwrap();
    let m = Matcher::new(&list, MIN_SCORE);
    let found = m.screen(&Party::new(&format!("{long}d Nurmatov")));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].pairs.len(), 2, "{}", found[0].explain());
    assert!(m.screen(&Party::new("Abab Nurmatov")).is_empty());
}
