//! The matcher: a blocking index over a list, scores that rank, explanations token by
//! token.
//!
//! **Weights.** A token weighs by how rare it is in the list: `ln((N + 1000) / (df + 0.5))
//! / ln(N + 1000)` for a token found in `df` of `N` entries (the 1000 keeps a small list
//! from making every token rare), between 0.1 and 1. Common given names and generic words
//! (`Muhammad`, `Emma`, `relief`, `trading`) weigh a fifth of that, initials 0.1, legal
//! forms and particles nothing. In a person's name with a surname (`-ov`, `-ev`, `-ova`,
//! `-eva`, `-skii`, `-enko`) the other plain tokens are given names and weigh half. A
//! party token that is a near spelling of a list token weighs no more than it.
//!
//! **Token pairs.** Two tokens are similar when the Jaro-Winkler similarity of their
//! matching keys is at least 0.85 (less a penalty when their lengths differ by more than
//! a quarter). The pair earns a *credit*: 1 for the same key, 0.93 for one edit in a word
//! of five letters or more (a typo), otherwise `(JW − 0.5) / 0.5` but at most 0.65 for two
//! edits and 0.35 for more, so that a different surname one syllable away counts for
//! little. An initial meets a token it begins with at 0.9. Two patronymics also meet by
//! their roots (`Bakhtiyor o'g'li` and `Bakhtiyorovich`).
//!
//! **Score.** Party and listed tokens are paired one to one, best credit first. With `w`
//! the lesser weight of a pair and `W` the greater:
//!
//! - agreement `A = Σ credit·w / (Σ W + Σ unmatched weights)`, where a missing patronymic
//!   counts a tenth of its weight and an initial never costs more than leaving it out;
//! - evidence `I = Σ credit·w`, the matched rare-token mass;
//! - name score `100 · A · (1 − 2^−(1 + 3·I))`, times 0.85 when a person is matched with
//!   an organisation, times 0.9 on a low-quality alias.
//!
//! A match needs at least one pair with Jaro-Winkler at least 0.88 and `w ≥ 0.3`: shared
//! common tokens alone never match. The score adds corroboration where both sides have the
//! data: the same birth date +10, the same year (or a year within the listed range) +5, a
//! year two or more from every listed date −15; a country among the listed ones +5, a
//! country not among them 0 (sanctioned parties bank abroad). The score does not stop at
//! 100: a longer, rarer, corroborated match scores higher, so scores rank. A match is
//! reported when both its name score and its score reach the matcher's `min_score`:
//! corroboration ranks and can sink a match, it cannot make one of a name that does not
//! match.
//!
//! **Candidates.** No name is compared with the whole list. List tokens are found in
//! buckets by the first three letters of the matching key and by its first three
//! consonants, then compared (letter counts bound Jaro-Winkler before it is computed);
//! this is done once per distinct party token. Each listed name is indexed under its
//! heaviest tokens only: those without one of which it could not reach the agreement
//! `min_score` needs (prefix filtering), each with the least credit it needs there. A
//! party token that must match well for the party to reach `min_score` brings candidates
//! only through good enough list tokens. The blocking is a choice, not exact: a token
//! whose first three letters and first three consonants both differ from its list
//! spelling is not found (a typo in the first letters of a short name).

use std::collections::HashMap;

use super::names::FastHash;

use super::names::{Name, Token, TokenClass};
use super::{country_code, BirthDate, EntryKind, ListEntry, WatchList};

/// Jaro-Winkler similarity at which two tokens count as the same.
pub const MIN_TOKEN_SIMILARITY: f64 = 0.85;
/// Similarity a distinctive pair needs for a match, and a list token to bring candidates.
const GATE_SIMILARITY: f64 = 0.88;
/// Weight a token needs to bring candidates and to carry a match.
const DISTINCTIVE: f64 = 0.3;
const COMMON_FACTOR: f64 = 0.2;
const INITIAL_WEIGHT: f64 = 0.1;
const INITIAL_SIMILARITY: f64 = 0.9;
const PATRONYMIC_MISS: f64 = 0.1;
const LOW_QUALITY_ALIAS: f64 = 0.9;
const KIND_MISMATCH: f64 = 0.85;
const GIVEN_FACTOR: f64 = 0.5;
const RARITY_PRIOR: f64 = 1000.0;
const DOB_EXACT: f64 = 10.0;
const DOB_YEAR: f64 = 5.0;
const DOB_CONFLICT: f64 = -15.0;
const COUNTRY_MATCH: f64 = 5.0;

/// A party to screen: a name and, when the data has them, a birth date and a country.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Party<'a> {
    /// The name as written, any script.
    pub name: &'a str,
    /// Birth date (`1975-02-10`, `10.02.1975`, `1975`).
    pub birth_date: Option<&'a str>,
    /// Country: ISO 3166-1 alpha-2, or a name.
    pub country: Option<&'a str>,
    /// Known to be an organisation (`Some(true)`) or a person (`Some(false)`); else told
    /// by a legal form in the name.
    pub organisation: Option<bool>,
}

impl<'a> Party<'a> {
    /// A party with a name only.
    pub fn new(name: &'a str) -> Self {
        Party {
            name,
            ..Party::default()
        }
    }
    /// With a birth date.
    pub fn birth_date(mut self, d: &'a str) -> Self {
        self.birth_date = Some(d);
        self
    }
    /// With a country.
    pub fn country(mut self, c: &'a str) -> Self {
        self.country = Some(c);
        self
    }
    /// Known to be an organisation or a person.
    pub fn organisation(mut self, yes: bool) -> Self {
        self.organisation = Some(yes);
        self
    }
}

/// One party token met one listed token.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenPair {
    /// The party's token, as written.
    pub party: String,
    /// The listed token, as written.
    pub listed: String,
    /// Jaro-Winkler similarity of their matching keys (1.0: same key).
    pub similarity: f64,
    /// The weight the pair carries (0–1: rare tokens near 1, common ones 0.2 or less).
    pub weight: f64,
    /// The listed token's class.
    pub class: TokenClass,
}

/// Birth date or country evidence for or against a match.
#[derive(Debug, Clone, PartialEq)]
pub struct Corroboration {
    /// `birth date` or `country`.
    pub what: &'static str,
    /// The party's value.
    pub party: String,
    /// The listed values.
    pub listed: String,
    /// Points added to the score (negative: against).
    pub points: f64,
}

/// A party name matched to a list entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    /// Index of the entry in [`WatchList::entries`].
    pub entry: usize,
    /// The list the entry is on.
    pub list: String,
    /// The entry's reference on its list.
    pub reference: String,
    /// The entry's main name.
    pub listed_name: String,
    /// The name or alias that matched.
    pub matched_name: String,
    /// True when the match is on an alias.
    pub via_alias: bool,
    /// Person or organisation.
    pub kind: EntryKind,
    /// The score: name score plus corroboration. Not capped.
    pub score: f64,
    /// The name score, 0–100.
    pub name_score: f64,
    /// Weighted token agreement, 0–1.
    pub agreement: f64,
    /// Matched rare-token mass.
    pub evidence: f64,
    /// Which party token met which listed token, how closely.
    pub pairs: Vec<TokenPair>,
    /// Party tokens that met nothing (legal forms and particles left out).
    pub unmatched_party: Vec<String>,
    /// Listed tokens that met nothing, with their class.
    pub unmatched_listed: Vec<(String, TokenClass)>,
    /// Birth date and country evidence.
    pub corroboration: Vec<Corroboration>,
    /// Honorifics removed from the party's name.
    pub honorifics: Vec<String>,
}

impl Match {
    /// True when a birth date or a country supports the match (and none speaks against it).
    pub fn corroborated(&self) -> bool {
        self.corroboration.iter().any(|c| c.points > 0.0) && self.corroboration.iter().all(|c| c.points >= 0.0)
    }

    /// The match in one line: the list entry, the score, token by token, corroboration.
    pub fn explain(&self) -> String {
        format!(
            "{} {} \"{}\"{}: score {:.1} (name {:.1}); {}",
            self.list,
            self.reference,
            self.matched_name,
            if self.via_alias { " (alias)" } else { "" },
            self.score,
            self.name_score,
            self.explain_tokens()
        )
    }

    /// Token by token, then corroboration: `NURMATOV=Нурматов 1.00, RUSTAM=Рустам 1.00
    /// common; listed, not given: Бахтиёрович (patronymic); country KG matches KG (+5)`.
    pub fn explain_tokens(&self) -> String {
        let mut s = String::new();
        let pairs: Vec<String> = self
            .pairs
            .iter()
            .map(|p| {
                let note = match p.class {
                    TokenClass::Common => " common",
                    TokenClass::Initial => " initial",
                    TokenClass::Patronymic => " patronymic",
                    _ => "",
                };
                format!("{}={} {:.2}{note}", p.party, p.listed, p.similarity)
            })
            .collect();
        s.push_str(&pairs.join(", "));
        if !self.unmatched_listed.is_empty() {
            let v: Vec<String> = self
                .unmatched_listed
                .iter()
                .map(|(t, c)| match c {
                    TokenClass::Patronymic => format!("{t} (patronymic)"),
                    _ => t.clone(),
                })
                .collect();
            s.push_str(&format!("; listed, not given: {}", v.join(", ")));
        }
        if !self.unmatched_party.is_empty() {
            s.push_str(&format!("; given, not listed: {}", self.unmatched_party.join(", ")));
        }
        for c in &self.corroboration {
            let rel = if c.points > 0.0 {
                "matches"
            } else if c.points < 0.0 {
                "conflicts with"
            } else {
                "not in"
            };
            s.push_str(&format!("; {} {} {rel} {} ({:+})", c.what, c.party, c.listed, c.points));
        }
        s
    }
}

/// The name tokens that [`Match::explain_tokens`] writes into a text (`P=L 0.94` pairs,
/// `listed, not given: ...`, `given, not listed: ...`), for redaction: the text may have
/// passed through `cases.json`, where the match itself is no longer at hand.
pub fn explained_name_tokens(text: &str) -> Vec<String> {
    static PAIR: std::sync::LazyLock<regex::Regex> =
        std::sync::LazyLock::new(|| regex::Regex::new(r"([^\s=,;:]+)=([^\s=,;]+) \d+\.\d\d").expect("a valid regex"));
    static LISTS: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"(?:listed, not given|given, not listed): ([^;]*)").expect("a valid regex")
    });
    let mut out: Vec<String> = Vec::new();
    for c in PAIR.captures_iter(text) {
        out.extend([c[1].to_string(), c[2].to_string()]);
    }
    for c in LISTS.captures_iter(text) {
        for t in c[1].split(", ") {
            let t = t.trim().trim_end_matches(" (patronymic)").trim();
            if !t.is_empty() {
                out.push(t.to_string());
            }
        }
    }
    out.retain(|t| t.chars().any(char::is_alphabetic));
    out.sort();
    out.dedup();
    out
}

/// Letter counts of a key: `a`–`z`, digits, and one slot for anything else; a count
/// stops at 255 (see [`similarity_bound`]).
type Hist = [u8; 28];

fn hist(key: &[char]) -> Hist {
    let mut h = [0u8; 28];
    for &c in key {
        let i = match c {
            'a'..='z' => c as usize - 'a' as usize,
            '0'..='9' => 26,
            _ => 27,
        };
        h[i] = h[i].saturating_add(1);
    }
    h
}

/// An upper bound of [`similarity`] from letter counts and the common prefix: Jaro
/// cannot match more letters than the two keys share. When both keys hold a letter 255
/// times or more, its shared count is not known: no bound (1.0).
fn similarity_bound(a: &[char], ha: &Hist, b: &[char], hb: &Hist) -> f64 {
    if a == b {
        return 1.0;
    }
    if ha.iter().zip(hb).any(|(x, y)| *x == u8::MAX && *y == u8::MAX) {
        return 1.0;
    }
    let m: u32 = ha.iter().zip(hb).map(|(x, y)| (*x).min(*y) as u32).sum();
    if m == 0 {
        return 0.0;
    }
    let (la, lb) = (a.len() as f64, b.len() as f64);
    let m = m as f64;
    let j = (m / la + m / lb + 1.0) / 3.0;
    let prefix = a.iter().zip(b).take(4).take_while(|(x, y)| x == y).count() as f64;
    let jw = if j > 0.7 { j + prefix * 0.1 * (1.0 - j) } else { j };
    let ratio = la.min(lb) / la.max(lb).max(1.0);
    if ratio < 0.75 {
        jw - (0.75 - ratio) * 0.5
    } else {
        jw
    }
}

/// A token of the list's vocabulary.
struct Vocab {
    key: Vec<char>,
    alt: Option<Vec<char>>,
    hist: Hist,
    alt_hist: Option<Hist>,
    df: u32,
    weight: f64,
}

struct VTok {
    vocab: u32,
    class: TokenClass,
    weight: f64,
    original: String,
    /// A patronymic's root (`bahtior` of `bahtiorovich`); empty for other tokens.
    root: Vec<char>,
}

/// One name of an entry (the main name or an alias).
struct Variant {
    entry: u32,
    name: String,
    via_alias: bool,
    low_quality: bool,
    tokens: Vec<VTok>,
}

/// A party's name tokens with their weights.
struct PTok<'t> {
    tok: &'t Token,
    weight: f64,
}

/// The index over a list.
pub struct Matcher {
    entries: Vec<ListEntry>,
    vocab: Vec<Vocab>,
    by_key: HashMap<String, u32, FastHash>,
    buckets: HashMap<Block, Vec<u32>, FastHash>,
    postings: Vec<Vec<(u32, f32)>>,
    variants: Vec<Variant>,
    n_entries: f64,
    min_score: f64,
}

/// A blocking key: the first three letters of a matching key (tag 0), or its first
/// three consonants (tag 1), so that a different vowel or a typo late in the word still
/// meets its list token.
type Block = (u8, [char; 3]);

fn prefix3(key: &[char]) -> Block {
    let mut b = [' '; 3];
    for (i, c) in key.iter().take(3).enumerate() {
        b[i] = *c;
    }
    (0, b)
}

fn skeleton3(key: &[char]) -> Block {
    let mut b = [' '; 3];
    let cons = key.iter().filter(|c| !matches!(c, 'a' | 'e' | 'i' | 'o' | 'u'));
    for (i, c) in cons.take(3).enumerate() {
        b[i] = *c;
    }
    (1, b)
}

fn class_factor(class: TokenClass) -> f64 {
    match class {
        TokenClass::Name | TokenClass::Patronymic => 1.0,
        TokenClass::Common => COMMON_FACTOR,
        TokenClass::Initial => INITIAL_WEIGHT,
        TokenClass::LegalForm | TokenClass::Particle => 0.0,
    }
}

fn weighted(class: TokenClass) -> bool {
    !matches!(class, TokenClass::LegalForm | TokenClass::Particle)
}

/// Jaro-Winkler of two keys, less when their lengths differ by more than a quarter.
fn similarity(a: &[char], b: &[char]) -> f64 {
    if a == b {
        return 1.0;
    }
    let (la, lb) = (a.len() as f64, b.len() as f64);
    let ratio = la.min(lb) / la.max(lb).max(1.0);
    let jw = strsim::generic_jaro_winkler(&Chars(a), &Chars(b));
    if ratio < 0.75 {
        jw - (0.75 - ratio) * 0.5
    } else {
        jw
    }
}

/// A key as strsim's generic functions take it.
struct Chars<'a>(&'a [char]);

impl<'a> IntoIterator for &Chars<'a> {
    type Item = char;
    type IntoIter = std::iter::Copied<std::slice::Iter<'a, char>>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().copied()
    }
}

fn pair_similarity(a: &[char], a_alt: Option<&[char]>, b: &[char], b_alt: Option<&[char]>) -> f64 {
    let mut best = similarity(a, b);
    if let Some(x) = a_alt {
        best = best.max(similarity(x, b));
        if let Some(y) = b_alt {
            best = best.max(similarity(x, y));
        }
    }
    if let Some(y) = b_alt {
        best = best.max(similarity(a, y));
    }
    best
}

/// Runs `f` over `items` on all cores; results in input order.
fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads <= 1 || items.len() < 256 {
        return items.iter().map(&f).collect();
    }
    let chunk = items.len().div_ceil(threads * 8);
    let f = &f;
    let next = std::sync::atomic::AtomicUsize::new(0);
    let chunks: Vec<&[T]> = items.chunks(chunk).collect();
    let mut results: Vec<Option<Vec<R>>> = (0..chunks.len()).map(|_| None).collect();
    let slots = std::sync::Mutex::new(&mut results);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= chunks.len() {
                    break;
                }
                let out: Vec<R> = chunks[i].iter().map(f).collect();
                if let Ok(mut slots) = slots.lock() {
                    slots[i] = Some(out);
                }
            });
        }
    });
    results.into_iter().flat_map(|r| r.unwrap_or_default()).collect()
}

impl Matcher {
    /// Builds the index over a list for screening at `min_score`: [`Matcher::screen`]
    /// returns the matches that score at least that much.
    ///
    /// Each name of an entry is indexed under its heaviest tokens only: those without
    /// which it could not reach the agreement that `min_score` needs (prefix filtering).
    pub fn new(list: &WatchList, min_score: f64) -> Matcher {
        let (mut vocab, by_key, parsed) = vocabulary(list);
        let n_entries = list.entries.len() as f64;
        weigh_vocabulary(&mut vocab, n_entries);
        let (variants, postings) = index_variants(list, &vocab, &by_key, parsed, min_score);
        let buckets = blocking_buckets(&vocab);
        Matcher {
            entries: list.entries.clone(),
            vocab,
            by_key,
            buckets,
            postings,
            variants,
            n_entries,
            min_score,
        }
    }

    /// The score this index screens at.
    pub fn min_score(&self) -> f64 {
        self.min_score
    }

    /// Number of entries indexed.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the list is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Number of distinct list tokens.
    pub fn vocabulary(&self) -> usize {
        self.vocab.len()
    }

    /// The list entries.
    pub fn entries(&self) -> &[ListEntry] {
        &self.entries
    }

    /// List tokens similar to a key (sorted by vocabulary id).
    fn token_hits(&self, key: &str, alt: Option<&str>) -> Vec<(u32, f32, f32)> {
        let k: Vec<char> = key.chars().collect();
        let a: Option<Vec<char>> = alt.map(|s| s.chars().collect());
        let mut cands: Vec<u32> = Vec::new();
        let mut add = |b: Block| {
            if let Some(ids) = self.buckets.get(&b) {
                cands.extend_from_slice(ids);
            }
        };
        add(prefix3(&k));
        add(skeleton3(&k));
        if let Some(a) = &a {
            add(prefix3(a));
            add(skeleton3(a));
        }
        cands.sort_unstable();
        cands.dedup();
        let hk = hist(&k);
        let ha = a.as_deref().map(hist);
        let mut hits = Vec::new();
        for id in cands {
            let v = &self.vocab[id as usize];
            let (la, lb) = (k.len() as f64, v.key.len() as f64);
            if la.min(lb) / la.max(lb) < 0.45 {
                continue;
            }
            let mut bound = similarity_bound(&k, &hk, &v.key, &v.hist);
            if let (Some(x), Some(hx)) = (&a, &ha) {
                bound = bound.max(similarity_bound(x, hx, &v.key, &v.hist));
                if let (Some(y), Some(hy)) = (&v.alt, &v.alt_hist) {
                    bound = bound.max(similarity_bound(x, hx, y, hy));
                }
            }
            if let (Some(y), Some(hy)) = (&v.alt, &v.alt_hist) {
                bound = bound.max(similarity_bound(&k, &hk, y, hy));
            }
            if bound < MIN_TOKEN_SIMILARITY {
                continue;
            }
            let s = pair_similarity(&k, a.as_deref(), &v.key, v.alt.as_deref());
            if s >= MIN_TOKEN_SIMILARITY {
                let edits = edit_distance(&k, a.as_deref(), &v.key, v.alt.as_deref());
                // One edit in a word of five letters or more is a typo: Jaro-Winkler
                // undervalues a swapped vowel in the middle of a long name.
                let c = if edits == 1 && k.len().min(v.key.len()) >= 5 {
                    credit(1.0, 1)
                } else {
                    credit(s, edits)
                };
                hits.push((id, s as f32, c as f32));
            }
        }
        hits
    }

    fn party_weight(&self, t: &Token) -> f64 {
        let df = |k: &str| self.by_key.get(k).map_or(0, |id| self.vocab[*id as usize].df);
        let df = df(&t.key).max(t.alt.as_deref().map_or(0, df));
        match t.class {
            TokenClass::Initial => INITIAL_WEIGHT,
            c => rarity(self.n_entries, df) * class_factor(c),
        }
    }

    /// Screens one party; the matches scoring at least [`Matcher::min_score`], best first.
    pub fn screen(&self, party: &Party<'_>) -> Vec<Match> {
        let name = Name::parse(party.name);
        let hits: Vec<Vec<(u32, f32, f32)>> = name
            .tokens
            .iter()
            .map(|t| {
                if matches!(t.class, TokenClass::Name | TokenClass::Patronymic | TokenClass::Common) {
                    self.token_hits(&t.key, t.alt.as_deref())
                } else {
                    Vec::new()
                }
            })
            .collect();
        let refs: Vec<&[(u32, f32, f32)]> = hits.iter().map(Vec::as_slice).collect();
        self.screen_parsed(party, &name, &refs)
    }

    /// Screens many parties on all cores; for each, its matches at [`Matcher::min_score`]
    /// or over, best first. The token comparisons are made once per distinct token.
    pub fn screen_all(&self, parties: &[Party<'_>]) -> Vec<Vec<Match>> {
        let names: Vec<Name> = parallel_map(parties, |p| Name::parse(p.name));
        let mut distinct: HashMap<(&str, Option<&str>), u32, FastHash> = HashMap::default();
        let mut order: Vec<(&str, Option<&str>)> = Vec::new();
        let mut ids: Vec<Vec<u32>> = Vec::with_capacity(names.len());
        for n in &names {
            let mut v = Vec::with_capacity(n.tokens.len());
            for t in &n.tokens {
                if matches!(t.class, TokenClass::Name | TokenClass::Patronymic | TokenClass::Common) {
                    let k = (t.key.as_str(), t.alt.as_deref());
                    let id = *distinct.entry(k).or_insert_with(|| {
                        order.push(k);
                        (order.len() - 1) as u32
                    });
                    v.push(id);
                } else {
                    v.push(u32::MAX);
                }
            }
            ids.push(v);
        }
        let hits: Vec<Vec<(u32, f32, f32)>> = parallel_map(&order, |(k, a)| self.token_hits(k, *a));
        let work: Vec<usize> = (0..parties.len()).collect();
        parallel_map(&work, |&i| {
            let refs: Vec<&[(u32, f32, f32)]> = ids[i]
                .iter()
                .map(|&id| {
                    if id == u32::MAX {
                        &[][..]
                    } else {
                        hits[id as usize].as_slice()
                    }
                })
                .collect();
            self.screen_parsed(&parties[i], &names[i], &refs)
        })
    }

    fn screen_parsed(&self, party: &Party<'_>, name: &Name, hits: &[&[(u32, f32, f32)]]) -> Vec<Match> {
        let ptoks: Vec<(usize, PTok<'_>)> = name
            .tokens
            .iter()
            .enumerate()
            .filter(|(_, t)| weighted(t.class))
            .map(|(i, t)| {
                (
                    i,
                    PTok {
                        tok: t,
                        weight: self.party_weight(t),
                    },
                )
            })
            .collect();
        let mut ptoks = ptoks;
        if party.organisation != Some(true) && !name.has_legal_form() {
            let keys: Vec<&str> = ptoks.iter().map(|(_, p)| p.tok.key.as_str()).collect();
            let classes: Vec<TokenClass> = ptoks.iter().map(|(_, p)| p.tok.class).collect();
            for (i, f) in given_name_factors(&classes, &keys).into_iter().enumerate() {
                ptoks[i].1.weight *= f;
            }
        }
        // A party token that is a near spelling of a list token weighs no more than it:
        // `Sherzot` is as common as `Sherzod`.
        for (ti, p) in ptoks.iter_mut() {
            let strong = hits[*ti]
                .iter()
                .filter(|h| h.2 >= 0.9)
                .map(|h| self.vocab[h.0 as usize].weight)
                .fold(f64::NEG_INFINITY, f64::max);
            if strong.is_finite() {
                p.weight = p.weight.min(strong);
            }
        }
        if !ptoks.iter().any(|(_, p)| p.weight >= DISTINCTIVE) {
            return Vec::new();
        }
        // Candidates: the names indexed under a list token that a party token meets.
        // A party token met with credit c leaves at most (W − w) + c·w of agreement, and
        // the denominator is at least the party's own weight: tokens that must match well
        // bring candidates only through hits that are good enough.
        let tau = (self.min_score / 100.0).max(0.0);
        let w_all: f64 = ptoks.iter().map(|(_, p)| p.weight).sum();
        let w_den: f64 = ptoks.iter().map(|(_, p)| miss_weight(p.tok.class, p.weight)).sum();
        let mut cands: Vec<u32> = Vec::new();
        for (ti, pt) in &ptoks {
            let floor = if pt.weight > 0.0 {
                (tau * w_den - (w_all - pt.weight)) / pt.weight
            } else {
                0.0
            };
            for &(vid, _, c) in hits[*ti] {
                if (c as f64) < floor {
                    continue;
                }
                cands.extend(self.postings[vid as usize].iter().filter(|p| p.1 <= c).map(|p| p.0));
            }
        }
        cands.sort_unstable();
        cands.dedup();
        let party_org = party.organisation.unwrap_or_else(|| name.has_legal_form());
        let mut best: Vec<(f64, u32, Scored)> = Vec::new();
        let mut scratch = Scratch::default();
        for var in cands {
            let Some(sc) = self.score_variant(party, &ptoks, hits, var, party_org, &mut scratch) else {
                continue;
            };
            if sc.score < self.min_score {
                continue;
            }
            let entry = self.variants[var as usize].entry;
            match best.iter_mut().find(|b| self.variants[b.1 as usize].entry == entry) {
                Some(b) if sc.score > b.0 => *b = (sc.score, var, sc),
                Some(_) => {}
                None => best.push((sc.score, var, sc)),
            }
        }
        let mut out: Vec<Match> = best
            .into_iter()
            .map(|(_, var, sc)| self.materialize(party, name, &ptoks, var, sc))
            .collect();
        out.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.entry.cmp(&b.entry)));
        out
    }

    /// Pairs the party's tokens with a name's, most similar first, and scores the match;
    /// `None` when no distinctive pair carries it.
    fn score_variant(
        &self,
        party: &Party<'_>,
        ptoks: &[(usize, PTok<'_>)],
        hits: &[&[(u32, f32, f32)]],
        var: u32,
        party_org: bool,
        scratch: &mut Scratch,
    ) -> Option<Scored> {
        let v = &self.variants[var as usize];
        self.pair_candidates(ptoks, hits, v, &mut scratch.cands);
        if self.bound_below_min(ptoks, v, scratch) {
            return None;
        }
        let (num, den) = pair_greedily(ptoks, v, scratch)?;
        let agreement = if den > 0.0 { (num / den).min(1.0) } else { 0.0 };
        let entry = &self.entries[v.entry as usize];
        let factor = name_factor(party, entry, v, party_org);
        let name_score = 100.0 * agreement * evidence_factor(num) * factor;
        if name_score < self.min_score {
            return None;
        }
        let corroboration = corroborate(party, entry);
        let score = name_score + corroboration.iter().map(|c| c.points).sum::<f64>();
        Some(Scored {
            score: round4(score),
            name_score: round4(name_score),
            agreement: round4(agreement),
            evidence: round4(num),
            pairs: scratch.pairs.clone(),
            p_used: scratch.p_used.clone(),
            l_used: scratch.l_used.clone(),
            corroboration,
        })
    }

    /// Every pair of a party token and a token of the name that is similar enough, into
    /// `cands` (cleared first): initials against their letter, other tokens through the
    /// party token's hits, patronymics through their roots.
    fn pair_candidates(
        &self,
        ptoks: &[(usize, PTok<'_>)],
        hits: &[&[(u32, f32, f32)]],
        v: &Variant,
        cands: &mut Vec<PairCand>,
    ) {
        cands.clear();
        for (pi, (ti, pt)) in ptoks.iter().enumerate() {
            for (li, lt) in v.tokens.iter().enumerate() {
                let initial = pt.tok.class == TokenClass::Initial || lt.class == TokenClass::Initial;
                let (s, c) = if initial {
                    self.initial_similarity(pt, lt)
                } else {
                    let hit = hits[*ti]
                        .binary_search_by_key(&lt.vocab, |h| h.0)
                        .ok()
                        .map(|k| hits[*ti][k]);
                    match hit {
                        Some((_, s, c)) => (s as f64, c as f64),
                        None if pt.tok.class == TokenClass::Patronymic && lt.class == TokenClass::Patronymic => {
                            // `Bakhtiyor o'g'li` and `Bakhtiyorovich`: the father's name.
                            let pr: Vec<char> = patronymic_root(&pt.tok.key).chars().collect();
                            let s = similarity(&pr, &lt.root);
                            (s, credit(s, usize::from(s < 1.0)))
                        }
                        None => (0.0, 0.0),
                    }
                };
                if s >= MIN_TOKEN_SIMILARITY {
                    cands.push(PairCand {
                        s,
                        c,
                        w: pt.weight.min(lt.weight),
                        pi,
                        li,
                        initial,
                    });
                }
            }
        }
    }

    /// Similarity and credit of a pair where one side is an initial: full when the keys
    /// are equal, [`INITIAL_SIMILARITY`] when an initial is the other's first letter.
    fn initial_similarity(&self, pt: &PTok<'_>, lt: &VTok) -> (f64, f64) {
        let vk = &self.vocab[lt.vocab as usize].key;
        let mut pk = pt.tok.key.chars();
        let first = pk.next();
        let p_len = 1 + pk.count();
        if pt.tok.key.chars().eq(vk.iter().copied()) {
            (1.0, 1.0)
        } else if first == vk.first().copied() && (p_len == 1 || vk.len() == 1) {
            (INITIAL_SIMILARITY, INITIAL_SIMILARITY)
        } else {
            (0.0, 0.0)
        }
    }

    /// An upper bound first: each party token and each listed token at its best pair,
    /// over the least the denominator can be. True when even that stays under the
    /// minimum score (most candidates stop here). Every token counts, however many the
    /// names have: a bound that left some out would turn away a name that matches.
    fn bound_below_min(&self, ptoks: &[(usize, PTok<'_>)], v: &Variant, scratch: &mut Scratch) -> bool {
        let (by_p, by_l) = (&mut scratch.best_p, &mut scratch.best_l);
        by_p.clear();
        by_p.resize(ptoks.len(), 0.0);
        by_l.clear();
        by_l.resize(v.tokens.len(), 0.0);
        for pc in &scratch.cands {
            let x = pc.c * pc.w;
            by_p[pc.pi] = by_p[pc.pi].max(x);
            by_l[pc.li] = by_l[pc.li].max(x);
        }
        let num_ub = by_p.iter().sum::<f64>().min(by_l.iter().sum::<f64>());
        let den_lb = ptoks
            .iter()
            .map(|(_, p)| miss_weight(p.tok.class, p.weight))
            .sum::<f64>()
            .max(v.tokens.iter().map(|t| miss_weight(t.class, t.weight)).sum::<f64>());
        if den_lb > 0.0 {
            let ub = 100.0 * (num_ub / den_lb).min(1.0) * evidence_factor(num_ub);
            if ub < self.min_score {
                return true;
            }
        }
        false
    }

    fn materialize(&self, party: &Party<'_>, name: &Name, ptoks: &[(usize, PTok<'_>)], var: u32, sc: Scored) -> Match {
        let _ = party;
        let v = &self.variants[var as usize];
        let entry = &self.entries[v.entry as usize];
        let pairs = sc
            .pairs
            .iter()
            .map(|&(pi, li, s, w)| TokenPair {
                party: ptoks[pi].1.tok.original.clone(),
                listed: v.tokens[li].original.clone(),
                similarity: round4(s),
                weight: round4(w),
                class: v.tokens[li].class,
            })
            .collect();
        let unmatched_party = ptoks
            .iter()
            .enumerate()
            .filter(|(pi, _)| !sc.p_used[*pi])
            .map(|(_, (_, pt))| pt.tok.original.clone())
            .collect();
        let unmatched_listed = v
            .tokens
            .iter()
            .enumerate()
            .filter(|(li, _)| !sc.l_used[*li])
            .map(|(_, lt)| (lt.original.clone(), lt.class))
            .collect();
        Match {
            entry: v.entry as usize,
            list: entry.list.clone(),
            reference: entry.reference.clone(),
            listed_name: entry.name.clone(),
            matched_name: v.name.clone(),
            via_alias: v.via_alias,
            kind: entry.kind,
            score: sc.score,
            name_score: sc.name_score,
            agreement: sc.agreement,
            evidence: sc.evidence,
            pairs,
            unmatched_party,
            unmatched_listed,
            corroboration: sc.corroboration,
            honorifics: name.honorifics.clone(),
        }
    }
}

/// A name of a list entry, parsed: the entry's index, the name as written, whether it is
/// an alias, whether the alias is of low quality, and its tokens.
type ParsedName = (u32, String, bool, bool, Name);

/// Parses every name of every entry (the main name, then each alias not already seen),
/// and gathers the vocabulary of weighted token keys with their document frequencies
/// (the number of entries that use them).
fn vocabulary(list: &WatchList) -> (Vec<Vocab>, HashMap<String, u32, FastHash>, Vec<ParsedName>) {
    let mut vocab: Vec<Vocab> = Vec::new();
    let mut by_key: HashMap<String, u32, FastHash> = HashMap::default();
    let mut last_entry_of_vocab: Vec<u32> = Vec::new();
    let mut parsed: Vec<ParsedName> = Vec::new();
    for (ei, e) in list.entries.iter().enumerate() {
        let ei = ei as u32;
        let mut names = vec![(e.name.clone(), false, false)];
        for a in &e.aliases {
            if !names.iter().any(|(n, _, _)| n == &a.name) {
                names.push((a.name.clone(), true, a.low_quality));
            }
        }
        for (n, via_alias, low) in names {
            let parsed_name = Name::parse(&n);
            for t in parsed_name.tokens.iter().filter(|t| weighted(t.class)) {
                let id = *by_key.entry(t.key.clone()).or_insert_with(|| {
                    let key: Vec<char> = t.key.chars().collect();
                    let alt: Option<Vec<char>> = t.alt.as_ref().map(|a| a.chars().collect());
                    vocab.push(Vocab {
                        hist: hist(&key),
                        alt_hist: alt.as_deref().map(hist),
                        key,
                        alt,
                        df: 0,
                        weight: 0.0,
                    });
                    last_entry_of_vocab.push(u32::MAX);
                    (vocab.len() - 1) as u32
                });
                if last_entry_of_vocab[id as usize] != ei {
                    last_entry_of_vocab[id as usize] = ei;
                    vocab[id as usize].df += 1;
                }
            }
            parsed.push((ei, n, via_alias, low, parsed_name));
        }
    }
    (vocab, by_key, parsed)
}

/// Each key's weight: its rarity over the list's entries, less for common names.
fn weigh_vocabulary(vocab: &mut [Vocab], n_entries: f64) {
    let lex = super::names::lexicons();
    for v in vocab {
        let key: String = v.key.iter().collect();
        let factor = if lex.common.contains(&key) { COMMON_FACTOR } else { 1.0 };
        v.weight = rarity(n_entries, v.df) * factor;
    }
}

/// The names as indexed variants, and the postings: each key's list of the variants
/// indexed under it, with the least credit a match through it needs. A name without
/// weighted tokens, or with the same tokens as an earlier name of its entry, is left out.
fn index_variants(
    list: &WatchList,
    vocab: &[Vocab],
    by_key: &HashMap<String, u32, FastHash>,
    parsed: Vec<ParsedName>,
    min_score: f64,
) -> (Vec<Variant>, Vec<Vec<(u32, f32)>>) {
    let mut variants: Vec<Variant> = Vec::new();
    let mut postings: Vec<Vec<(u32, f32)>> = vec![Vec::new(); vocab.len()];
    let mut seen_ids: Vec<(u32, Vec<u32>)> = Vec::new();
    for (ei, n, via_alias, low_quality, name) in parsed {
        let vi = variants.len() as u32;
        let tokens = variant_tokens(&name, vocab, by_key);
        if tokens.is_empty() {
            continue;
        }
        // An alias that is the main name in another script (UN NAME_ORIGINAL_SCRIPT)
        // has the same tokens: one is enough.
        let mut ids: Vec<u32> = tokens.iter().map(|t| t.vocab).collect();
        ids.sort_unstable();
        if seen_ids.iter().any(|(e, other)| *e == ei && *other == ids) {
            continue;
        }
        seen_ids.retain(|(e, _)| *e == ei);
        seen_ids.push((ei, ids));
        let mut tokens = tokens;
        if list.entries[ei as usize].kind != EntryKind::Organisation && !name.has_legal_form() {
            let keys: Vec<String> = tokens
                .iter()
                .map(|t| vocab[t.vocab as usize].key.iter().collect())
                .collect();
            let classes: Vec<TokenClass> = tokens.iter().map(|t| t.class).collect();
            for (i, f) in given_name_factors(&classes, &keys).into_iter().enumerate() {
                tokens[i].weight *= f;
            }
        }
        post_prefix_tokens(&tokens, vi, min_score, &mut postings);
        variants.push(Variant {
            entry: ei,
            name: n,
            via_alias,
            low_quality,
            tokens,
        });
    }
    (variants, postings)
}

/// A name's weighted tokens as a variant holds them: vocabulary id, class, weight (an
/// initial's fixed weight, a common name's weight capped), and a patronymic's root.
fn variant_tokens(name: &Name, vocab: &[Vocab], by_key: &HashMap<String, u32, FastHash>) -> Vec<VTok> {
    name.tokens
        .iter()
        .filter(|t| weighted(t.class))
        .map(|t| {
            let id = by_key[&t.key];
            let v = &vocab[id as usize];
            let weight = match t.class {
                TokenClass::Initial => INITIAL_WEIGHT,
                TokenClass::Common => v.weight.min(COMMON_FACTOR),
                _ => v.weight,
            };
            VTok {
                vocab: id,
                class: t.class,
                weight,
                original: t.original.clone(),
                root: if t.class == TokenClass::Patronymic {
                    patronymic_root(&t.key).chars().collect()
                } else {
                    Vec::new()
                },
            }
        })
        .collect()
}

/// Posts variant `vi` under its heaviest tokens, until the tokens left could not reach
/// the agreement `min_score` needs, each with the least credit that can still carry it.
fn post_prefix_tokens(tokens: &[VTok], vi: u32, min_score: f64, postings: &mut [Vec<(u32, f32)>]) {
    // The name score is at most 100·A with A = Σ c·w / den, den ≥ min_den: a name
    // needs Σ c·w ≥ need. Without one of its prefix tokens it cannot get there, and
    // a prefix token met with less credit than `c_min` cannot carry it either.
    let min_den: f64 = tokens.iter().map(|t| miss_weight(t.class, t.weight)).sum();
    let need = (min_score / 100.0).max(0.0) * min_den;
    let total: f64 = tokens.iter().map(|t| t.weight).sum();
    let mut order: Vec<usize> = (0..tokens.len()).collect();
    order.sort_by(|a, b| tokens[*b].weight.total_cmp(&tokens[*a].weight).then(a.cmp(b)));
    let mut rest = total;
    for i in order {
        let t = &tokens[i];
        let c_min = if t.weight > 0.0 {
            ((need - (total - t.weight)) / t.weight).max(0.0)
        } else {
            0.0
        };
        let p = &mut postings[t.vocab as usize];
        match p.last_mut() {
            Some(last) if last.0 == vi => last.1 = last.1.min(c_min as f32),
            _ => p.push((vi, c_min as f32)),
        }
        rest -= t.weight;
        if rest < need {
            break;
        }
    }
}

/// The blocking buckets: each key (and its alternative spelling) under its first three
/// letters and its first three consonants.
fn blocking_buckets(vocab: &[Vocab]) -> HashMap<Block, Vec<u32>, FastHash> {
    let mut buckets: HashMap<Block, Vec<u32>, FastHash> = HashMap::default();
    for (id, v) in vocab.iter().enumerate() {
        let id = id as u32;
        let mut keys = vec![prefix3(&v.key), skeleton3(&v.key)];
        if let Some(a) = &v.alt {
            keys.push(prefix3(a));
            keys.push(skeleton3(a));
        }
        keys.sort_unstable();
        keys.dedup();
        for b in keys {
            buckets.entry(b).or_default().push(id);
        }
    }
    buckets
}

/// Pairs the candidates best first, each token at most once, into `scratch.pairs`
/// (`p_used` and `l_used` mark the paired tokens): the agreement's numerator and
/// denominator, the tokens left unpaired counted in the denominator. `None` when no pair
/// is both similar and distinctive enough to carry a match.
fn pair_greedily(ptoks: &[(usize, PTok<'_>)], v: &Variant, scratch: &mut Scratch) -> Option<(f64, f64)> {
    let cands = &mut scratch.cands;
    cands.sort_by(|a, b| {
        b.c.total_cmp(&a.c)
            .then(b.s.total_cmp(&a.s))
            .then(b.w.total_cmp(&a.w))
            .then(a.pi.cmp(&b.pi))
            .then(a.li.cmp(&b.li))
    });
    let p_used = &mut scratch.p_used;
    p_used.clear();
    p_used.resize(ptoks.len(), false);
    let l_used = &mut scratch.l_used;
    l_used.clear();
    l_used.resize(v.tokens.len(), false);
    let pairs = &mut scratch.pairs;
    pairs.clear();
    let (mut num, mut den) = (0.0, 0.0);
    let mut gate = false;
    for pc in cands.iter() {
        let (pi, li) = (pc.pi, pc.li);
        if p_used[pi] || l_used[li] {
            continue;
        }
        p_used[pi] = true;
        l_used[li] = true;
        let (pt, lt) = (&ptoks[pi].1, &v.tokens[li]);
        num += pc.c * pc.w;
        den += if pc.initial {
            // An initial adds a little; it never costs more than leaving both out.
            miss_weight(pt.tok.class, pt.weight) + miss_weight(lt.class, lt.weight)
        } else {
            pt.weight.max(lt.weight)
        };
        gate |= pc.s >= GATE_SIMILARITY && pc.w >= DISTINCTIVE;
        pairs.push((pi, li, pc.s, pc.w));
    }
    if !gate {
        return None;
    }
    for (pi, (_, pt)) in ptoks.iter().enumerate() {
        if !p_used[pi] {
            den += miss_weight(pt.tok.class, pt.weight);
        }
    }
    for (li, lt) in v.tokens.iter().enumerate() {
        if !l_used[li] {
            den += miss_weight(lt.class, lt.weight);
        }
    }
    Some((num, den))
}

/// The factor on a name's score: less when a person meets an organisation (or the
/// reverse), less for a low-quality alias.
fn name_factor(party: &Party<'_>, entry: &ListEntry, v: &Variant, party_org: bool) -> f64 {
    let mut factor = 1.0;
    let person_vs_org = match entry.kind {
        EntryKind::Person => party_org,
        EntryKind::Organisation => party.organisation == Some(false),
        EntryKind::Other => false,
    };
    if person_vs_org {
        factor *= KIND_MISMATCH;
    }
    if v.low_quality {
        factor *= LOW_QUALITY_ALIAS;
    }
    factor
}

/// A possible pair of a party token and a listed token.
struct PairCand {
    s: f64,
    c: f64,
    w: f64,
    pi: usize,
    li: usize,
    initial: bool,
}

/// Buffers reused from one candidate to the next.
#[derive(Default)]
struct Scratch {
    cands: Vec<PairCand>,
    p_used: Vec<bool>,
    l_used: Vec<bool>,
    pairs: Vec<(usize, usize, f64, f64)>,
    /// The best credited weight of each party token, then of each listed token, for the
    /// upper bound.
    best_p: Vec<f64>,
    best_l: Vec<f64>,
}

/// A scored name before it becomes a [`Match`].
struct Scored {
    score: f64,
    name_score: f64,
    agreement: f64,
    evidence: f64,
    pairs: Vec<(usize, usize, f64, f64)>,
    p_used: Vec<bool>,
    l_used: Vec<bool>,
    corroboration: Vec<Corroboration>,
}

/// The credit a pair earns from its Jaro-Winkler similarity: 1 for the same key, falling
/// to 0.5 at the 0.85 floor, so that a near miss (a different surname one letter away)
/// counts for much less than an exact transliteration.
fn credit(s: f64, edits: usize) -> f64 {
    let by_edits = match edits {
        0 => 1.0,
        1 => 0.93,
        2 => 0.65,
        _ => 0.35,
    };
    ((s - 0.5) / 0.5).clamp(0.0, 1.0).min(by_edits)
}

/// The fewest edits between two keys, over their alternative forms.
fn edit_distance(a: &[char], a_alt: Option<&[char]>, b: &[char], b_alt: Option<&[char]>) -> usize {
    let lev = |x: &[char], y: &[char]| strsim::generic_levenshtein(&Chars(x), &Chars(y));
    let mut best = lev(a, b);
    if let Some(x) = a_alt {
        best = best.min(lev(x, b));
        if let Some(y) = b_alt {
            best = best.min(lev(x, y));
        }
    }
    if let Some(y) = b_alt {
        best = best.min(lev(a, y));
    }
    best
}

fn rarity(n: f64, df: u32) -> f64 {
    let total = n + RARITY_PRIOR;
    ((total / (df as f64 + 0.5)).ln() / total.ln()).clamp(0.1, 1.0)
}

fn miss_weight(class: TokenClass, w: f64) -> f64 {
    if class == TokenClass::Patronymic {
        w * PATRONYMIC_MISS
    } else {
        w
    }
}

fn evidence_factor(info: f64) -> f64 {
    1.0 - (-(1.0 + 3.0 * info)).exp2()
}

/// In a person's name with a surname (`-ov`, `-ev`, `-ova`, `-eva`, `-skii`, `-enko`),
/// the other plain name tokens are given names: they weigh half, since a given name
/// identifies less than a family name.
fn given_name_factors<K: AsRef<str>>(classes: &[TokenClass], keys: &[K]) -> Vec<f64> {
    const SURNAME: &[&str] = &["ov", "ev", "ova", "eva", "skii", "skaia", "enko"];
    let surname = |k: &str| k.chars().count() >= 5 && SURNAME.iter().any(|e| k.ends_with(e));
    let has = classes
        .iter()
        .zip(keys)
        .any(|(c, k)| *c == TokenClass::Name && surname(k.as_ref()));
    classes
        .iter()
        .zip(keys)
        .map(|(c, k)| {
            if has && *c == TokenClass::Name && !surname(k.as_ref()) {
                GIVEN_FACTOR
            } else {
                1.0
            }
        })
        .collect()
}

/// A patronymic without its ending: `bahtiorovich`, `bahtior` (before `ogli`) → `bahtior`.
fn patronymic_root(key: &str) -> &str {
    const ENDINGS: &[&str] = &["ovich", "evich", "ovna", "evna", "ichna", "uli", "kizi", "ogli", "ugli"];
    ENDINGS
        .iter()
        .find_map(|e| key.strip_suffix(e).filter(|r| r.chars().count() >= 3))
        .unwrap_or(key)
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

fn corroborate(party: &Party<'_>, entry: &ListEntry) -> Vec<Corroboration> {
    let mut out = Vec::new();
    if let Some(d) = party.birth_date.and_then(BirthDate::parse) {
        if !entry.birth_dates.is_empty() {
            let listed: Vec<String> = entry.birth_dates.iter().map(|b| b.to_string()).collect();
            let points = entry
                .birth_dates
                .iter()
                .map(|b| dob_points(&d, b))
                .fold(f64::NEG_INFINITY, f64::max);
            out.push(Corroboration {
                what: "birth date",
                party: d.to_string(),
                listed: listed.join(" or "),
                points,
            });
        }
    }
    if let Some(c) = party.country.map(str::trim).filter(|c| !c.is_empty()) {
        if !entry.countries.is_empty() {
            let code = country_code(c).map(str::to_string).unwrap_or_else(|| c.to_uppercase());
            let points = if entry.countries.contains(&code) {
                COUNTRY_MATCH
            } else {
                0.0
            };
            out.push(Corroboration {
                what: "country",
                party: code,
                listed: entry.countries.join(", "),
                points,
            });
        }
    }
    out
}

fn dob_points(party: &BirthDate, listed: &BirthDate) -> f64 {
    if party.is_exact() && listed.is_exact() && party == listed {
        return DOB_EXACT;
    }
    let overlap = party.from_year <= listed.to_year && listed.from_year <= party.to_year;
    if overlap {
        return DOB_YEAR;
    }
    let gap = (party.from_year - listed.to_year).max(listed.from_year - party.to_year);
    if gap >= 2 {
        DOB_CONFLICT
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::watchlist::{Alias, ListEntry};

    #[test]
    fn the_tokens_an_explanation_shows_are_found_again() {
        let text = "X (orig_name) matches L R \"A B\", score 87.2: Zhanybek=ZHANYBEK 1.00 common, \
                    Toktosonov=TOKTOSUNOV 0.94; listed, not given: ERKINBEKOVICH (patronymic), Ali; \
                    given, not listed: Фонд; country KG matches KG (+5)";
        assert_eq!(
            explained_name_tokens(text),
            [
                "Ali",
                "ERKINBEKOVICH",
                "TOKTOSUNOV",
                "Toktosonov",
                "ZHANYBEK",
                "Zhanybek",
                "Фонд"
            ]
        );
        assert!(explained_name_tokens("score 87.2, 3 payments").is_empty());
    }

    fn entry(name: &str, aliases: &[&str], dob: &[&str], countries: &[&str], kind: EntryKind) -> ListEntry {
        ListEntry {
            list: "Test".into(),
            reference: format!("T-{name}"),
            kind,
            name: name.into(),
            aliases: aliases
                .iter()
                .map(|a| Alias {
                    name: a.to_string(),
                    low_quality: false,
                })
                .collect(),
            birth_dates: dob.iter().filter_map(|d| BirthDate::parse(d)).collect(),
            countries: countries.iter().map(|c| c.to_string()).collect(),
            source: "test".into(),
        }
    }

    fn list() -> WatchList {
        WatchList {
            entries: vec![
                entry(
                    "Нурматов Рустам Бахтиёрович",
                    &[],
                    &["1975-02-10"],
                    &["KG"],
                    EntryKind::Person,
                ),
                entry("Emma Daniels", &[], &[], &[], EntryKind::Person),
                entry(
                    "Sarybel Relief Foundation",
                    &["Фонд Сарыбел"],
                    &[],
                    &[],
                    EntryKind::Organisation,
                ),
                entry("Toktosunov Kurmanbek", &[], &["1981"], &["KG"], EntryKind::Person),
            ],
            files: Vec::new(),
        }
    }

    #[test]
    fn across_scripts_orders_and_patronymics() {
        let m = Matcher::new(&list(), 0.0);
        let r = m.screen(&Party::new("RUSTAM NURMATOV"));
        assert_eq!(r[0].entry, 0);
        assert!(r[0].score > 80.0, "{}", r[0].explain());
        assert_eq!(
            r[0].unmatched_listed,
            [("Бахтиёрович".to_string(), TokenClass::Patronymic)]
        );
        let e = r[0].explain();
        assert!(e.contains("NURMATOV=Нурматов 1.00"), "{e}");
        assert!(e.contains("Бахтиёрович (patronymic)"), "{e}");
    }

    #[test]
    fn common_tokens_alone_never_match() {
        let m = Matcher::new(&list(), 0.0);
        assert!(m.screen(&Party::new("EMMA LLC")).is_empty());
        assert!(m.screen(&Party::new("Relief Trading Foundation")).is_empty());
        assert!(m.screen(&Party::new("Rustam")).is_empty());
        let r = m.screen(&Party::new("Emma Daniels"));
        assert_eq!(r[0].entry, 1);
    }

    #[test]
    fn scores_rank_and_corroboration_counts() {
        let m = Matcher::new(&list(), 0.0);
        let plain = m.screen(&Party::new("Nurmatov Rustam"))[0].score;
        let full = m.screen(&Party::new("Nurmatov Rustam Bakhtiyorovich"))[0].score;
        let dob = m.screen(&Party::new("Nurmatov Rustam").birth_date("10.02.1975"))[0].clone();
        let both = m.screen(&Party::new("Nurmatov Rustam").birth_date("1975-02-10").country("KG"))[0].score;
        let all = m.screen(
            &Party::new("Nurmatov Rustam Bakhtiyorovich")
                .birth_date("1975-02-10")
                .country("KG"),
        )[0]
        .score;
        let wrong = m.screen(&Party::new("Nurmatov Rustam").birth_date("1990-01-01"))[0].score;
        let typo = m.screen(&Party::new("Nurmatof Rustam"))[0].score;
        assert!(full > plain && dob.score > plain && both > dob.score && wrong < plain && typo < plain);
        assert!(all > 100.0 && all > both, "no cap at 100: {all}");
        assert!(dob.corroborated());
        assert_eq!(dob.corroboration[0].points, DOB_EXACT);
    }

    #[test]
    fn organisations_and_aliases() {
        let m = Matcher::new(&list(), 0.0);
        let r = m.screen(&Party::new("ОО Фонд «Сарыбел»"));
        assert_eq!(r[0].entry, 2);
        let r = m.screen(&Party::new("Sarybel Relief"));
        assert_eq!(r[0].entry, 2);
        // A company named like a listed person scores lower than the person would.
        let p = m.screen(&Party::new("Toktosunov Kurmanbek"))[0].score;
        let c = m.screen(&Party::new("Toktosunov Kurmanbek LLC"))[0].score;
        assert!(c < p);
    }

    #[test]
    fn batch_equals_one_by_one() {
        let m = Matcher::new(&list(), 0.0);
        let names = [
            "Rustam Nurmatov",
            "EMMA LLC",
            "Курманбек Токтосунов",
            "Sarybel",
            "Nobody Else",
        ];
        let parties: Vec<Party> = names.iter().map(|n| Party::new(n)).collect();
        let all = m.screen_all(&parties);
        for (p, got) in parties.iter().zip(&all) {
            assert_eq!(&m.screen(p), got);
        }
    }
}
