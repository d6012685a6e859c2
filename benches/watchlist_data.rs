//! Fictional names for the watch-list benchmarks: a list of Central Asian style persons
//! and firms, and party names drawn from the same syllables, some of them copies of
//! listed names in another script, spelling or order. Deterministic for a seed; every
//! name is made up from syllables: 600 given names and 40,000 surnames by default.

#![allow(dead_code)]

use std::collections::HashSet;

use redflag::watchlist::{Alias, BirthDate, EntryKind, ListEntry, WatchList};

/// splitmix64.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
    pub fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len())]
    }
}

/// Syllables as (Latin, Cyrillic).
const ONSETS: &[(&str, &str)] = &[
    ("a", "а"),
    ("ba", "ба"),
    ("be", "бе"),
    ("bo", "бо"),
    ("da", "да"),
    ("dzhu", "джу"),
    ("e", "е"),
    ("ga", "га"),
    ("gu", "гу"),
    ("i", "и"),
    ("ka", "ка"),
    ("ke", "ке"),
    ("ko", "ко"),
    ("ku", "ку"),
    ("kha", "ха"),
    ("khu", "ху"),
    ("ma", "ма"),
    ("mu", "му"),
    ("na", "на"),
    ("nu", "ну"),
    ("o", "о"),
    ("ra", "ра"),
    ("ru", "ру"),
    ("sa", "са"),
    ("se", "се"),
    ("sha", "ша"),
    ("shu", "шу"),
    ("ta", "та"),
    ("to", "то"),
    ("tu", "ту"),
    ("u", "у"),
    ("ya", "я"),
    ("yu", "ю"),
    ("za", "за"),
    ("zha", "жа"),
    ("zhu", "жу"),
    ("cho", "чо"),
    ("dil", "дил"),
    ("er", "ер"),
    ("ay", "ай"),
];
const MIDDLES: &[(&str, &str)] = &[
    ("bak", "бак"),
    ("bek", "бек"),
    ("dar", "дар"),
    ("gul", "гул"),
    ("kan", "кан"),
    ("kur", "кур"),
    ("lan", "лан"),
    ("man", "ман"),
    ("mat", "мат"),
    ("mir", "мир"),
    ("nar", "нар"),
    ("nur", "нур"),
    ("rat", "рат"),
    ("sal", "сал"),
    ("san", "сан"),
    ("sul", "сул"),
    ("tay", "тай"),
    ("tur", "тур"),
    ("zal", "зал"),
    ("zar", "зар"),
    ("khan", "хан"),
    ("zhan", "жан"),
    ("shar", "шар"),
    ("yul", "юл"),
    ("dos", "дос"),
    ("gaz", "газ"),
    ("kel", "кел"),
    ("bol", "бол"),
    ("mur", "мур"),
    ("tal", "тал"),
];
const ENDS: &[(&str, &str)] = &[
    ("bek", "бек"),
    ("bay", "бай"),
    ("gul", "гул"),
    ("an", "ан"),
    ("at", "ат"),
    ("ir", "ир"),
    ("in", "ин"),
    ("on", "он"),
    ("ur", "ур"),
    ("ash", "аш"),
    ("et", "ет"),
    ("im", "им"),
    ("ul", "ул"),
    ("khan", "хан"),
    ("zhan", "жан"),
    ("ali", "али"),
    ("ara", "ара"),
    ("uza", "уза"),
];
const SURNAME_SUFFIXES: &[(&str, &str)] = &[
    ("ov", "ов"),
    ("ev", "ев"),
    ("bekov", "беков"),
    ("baev", "баев"),
    ("ova", "ова"),
    ("eva", "ева"),
    ("aliev", "алиев"),
    ("kulov", "кулов"),
];
const FIRM_WORDS: &[(&str, &str)] = &[
    ("Trading", "Трейдинг"),
    ("Group", "Групп"),
    ("Invest", "Инвест"),
    ("Stroy", "Строй"),
    ("Service", "Сервис"),
    ("Agro", "Агро"),
    ("Relief", "Помощь"),
    ("Logistics", "Логистик"),
    ("Export", "Экспорт"),
];
const LEGAL: &[(&str, &str)] = &[
    ("LLC", "ОсОО"),
    ("LLP", "ТОО"),
    ("JSC", "АО"),
    ("Ltd", "ООО"),
    ("MChJ", "МЧЖ"),
];

/// A name in both scripts.
#[derive(Clone)]
pub struct Both {
    pub latin: String,
    pub cyrillic: String,
}

fn word(rng: &mut Rng, parts: usize) -> Both {
    let mut l = String::new();
    let mut c = String::new();
    let (a, b) = *rng.pick(ONSETS);
    l.push_str(a);
    c.push_str(b);
    for _ in 1..parts {
        let (a, b) = *rng.pick(MIDDLES);
        l.push_str(a);
        c.push_str(b);
    }
    let (a, b) = *rng.pick(ENDS);
    l.push_str(a);
    c.push_str(b);
    Both {
        latin: capitalise(&l),
        cyrillic: capitalise(&c),
    }
}

fn capitalise(s: &str) -> String {
    let mut cs = s.chars();
    match cs.next() {
        Some(f) => f.to_uppercase().chain(cs).collect(),
        None => String::new(),
    }
}

fn given(rng: &mut Rng) -> Both {
    let parts = 1 + rng.below(2);
    word(rng, parts)
}

fn surname(rng: &mut Rng) -> Both {
    let parts = 1 + rng.below(2);
    let root = word(rng, parts);
    let (a, b) = *rng.pick(SURNAME_SUFFIXES);
    Both {
        latin: format!("{}{a}", root.latin),
        cyrillic: format!("{}{b}", root.cyrillic),
    }
}

fn patronymic(rng: &mut Rng) -> Both {
    let root = word(rng, 1);
    Both {
        latin: format!("{}ovich", root.latin),
        cyrillic: format!("{}ович", root.cyrillic),
    }
}

/// Pools of names drawn once per seed: given names and surnames are reused as in real
/// data, where a million customers share a few hundred given names and tens of
/// thousands of surnames.
pub struct Pools {
    pub given: Vec<Both>,
    pub surnames: Vec<Both>,
}

impl Pools {
    pub fn new(seed: u64, given: usize, surnames: usize) -> Pools {
        let mut rng = Rng::new(seed ^ 0x5EED);
        let mut seen = HashSet::new();
        let mut g = Vec::with_capacity(given);
        while g.len() < given {
            let b = self::given(&mut rng);
            if seen.insert(b.latin.clone()) {
                g.push(b);
            }
        }
        let mut s = Vec::with_capacity(surnames);
        while s.len() < surnames {
            let b = surname(&mut rng);
            if seen.insert(b.latin.clone()) {
                s.push(b);
            }
        }
        Pools { given: g, surnames: s }
    }

    /// Skewed toward the first names of a pool, as real name frequencies are.
    fn skewed<'a>(rng: &mut Rng, v: &'a [Both]) -> &'a Both {
        let u = (rng.next() >> 11) as f64 / (1u64 << 53) as f64;
        &v[((u * u) * v.len() as f64) as usize % v.len()]
    }
}

/// A fictional list of `n` entries: four in five persons (surname, given name, often a
/// patronymic, a Cyrillic alias, a birth date), the others firms with a legal form.
pub fn list(n: usize, seed: u64, pools: &Pools) -> WatchList {
    let mut rng = Rng::new(seed);
    let mut entries = Vec::with_capacity(n);
    for i in 0..n {
        if rng.chance(0.8) {
            // Half the listed surnames are also common in the traffic, half are not.
            let s = if rng.chance(0.5) {
                Pools::skewed(&mut rng, &pools.surnames).clone()
            } else {
                surname(&mut rng)
            };
            let g = Pools::skewed(&mut rng, &pools.given).clone();
            let p = rng.chance(0.6).then(|| patronymic(&mut rng));
            let mut latin = format!("{} {}", s.latin.to_uppercase(), g.latin.to_uppercase());
            let mut cyr = format!("{} {}", s.cyrillic, g.cyrillic);
            if let Some(p) = &p {
                latin.push(' ');
                latin.push_str(&p.latin.to_uppercase());
                cyr.push(' ');
                cyr.push_str(&p.cyrillic);
            }
            let dob = BirthDate::parse(&format!(
                "{}-{:02}-{:02}",
                1950 + rng.below(50),
                1 + rng.below(12),
                1 + rng.below(28)
            ));
            entries.push(ListEntry {
                list: "Bench list".into(),
                reference: format!("B-{i:05}"),
                kind: EntryKind::Person,
                name: latin,
                aliases: vec![Alias {
                    name: cyr,
                    low_quality: false,
                }],
                birth_dates: dob.into_iter().collect(),
                countries: vec![rng.pick(&["KG", "KZ", "UZ", "TJ", "RU"]).to_string()],
                source: "bench".into(),
            });
        } else {
            let w = word(&mut rng, 2);
            let (fl, fc) = *rng.pick(FIRM_WORDS);
            let (ll, lc) = *rng.pick(LEGAL);
            entries.push(ListEntry {
                list: "Bench list".into(),
                reference: format!("B-{i:05}"),
                kind: EntryKind::Organisation,
                name: format!("{} {fl} {ll}", w.latin),
                aliases: vec![Alias {
                    name: format!("{lc} «{} {fc}»", w.cyrillic),
                    low_quality: false,
                }],
                birth_dates: Vec::new(),
                countries: Vec::new(),
                source: "bench".into(),
            });
        }
    }
    WatchList {
        entries,
        files: Vec::new(),
    }
}

/// Another common Latin spelling of a name: `zh` → `j`, `kh` → `h`, `yu` → `ju`,
/// `ya` → `ja`.
fn respell(s: &str) -> String {
    s.replace("zh", "j")
        .replace("Zh", "J")
        .replace("kh", "h")
        .replace("Kh", "H")
        .replace("yu", "ju")
        .replace("Yu", "Ju")
        .replace("ya", "ja")
        .replace("Ya", "Ja")
}

/// `n` distinct party names: persons and firms from the same syllables, and, one in
/// `1 / planted_every`, a listed name in Cyrillic, respelled, or reordered.
pub fn party_names(n: usize, seed: u64, list: &WatchList, pools: &Pools, planted_every: usize) -> Vec<String> {
    let mut rng = Rng::new(seed);
    let mut seen = HashSet::with_capacity(n);
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let name = if planted_every > 0 && out.len() % planted_every == 0 && !list.entries.is_empty() {
            let e = rng.pick(&list.entries);
            match rng.below(3) {
                0 => e.aliases.first().map_or_else(|| e.name.clone(), |a| a.name.clone()),
                1 => respell(&e.name.to_lowercase()),
                _ => {
                    let mut t: Vec<&str> = e.name.split(' ').collect();
                    t.reverse();
                    t.join(" ")
                }
            }
        } else if rng.chance(0.85) {
            let s = Pools::skewed(&mut rng, &pools.surnames);
            let g = Pools::skewed(&mut rng, &pools.given);
            let p = rng.chance(0.3).then(|| Pools::skewed(&mut rng, &pools.given));
            match (rng.chance(0.5), p) {
                (true, None) => format!("{} {}", g.latin, s.latin),
                (true, Some(p)) => format!("{} {} {}ovich", s.latin, g.latin, p.latin),
                (false, None) => format!("{} {}", s.cyrillic, g.cyrillic),
                (false, Some(p)) => format!("{} {} {}ович", s.cyrillic, g.cyrillic, p.cyrillic),
            }
        } else {
            let w = word(&mut rng, 2);
            let (fl, _) = *rng.pick(FIRM_WORDS);
            let (ll, _) = *rng.pick(LEGAL);
            format!("{ll} {} {fl}", w.latin)
        };
        if seen.insert(name.clone()) {
            out.push(name);
        }
    }
    out
}
