//! Names as the matcher sees them: NFKC, casefold, punctuation and honorifics removed,
//! Cyrillic written in Latin letters, every token classified.
//!
//! Two Latin forms are kept for each token:
//!
//! - `latin`, the transliteration of ICAO Doc 9303 (Cyrillic `х` → `kh`, `ж` → `zh`,
//!   `ю` → `iu`, `я` → `ia`, `й` → `i`, `ц` → `ts`, `щ` → `shch`), with the Kazakh,
//!   Kyrgyz, Uzbek and Tajik letters (`ә ғ қ ң ө ұ ү һ і ў ҳ ҷ`) written as the plain
//!   Latin letter they sound closest to: this is what explanations show;
//! - `key`, the matching key, in which the common spellings of one Cyrillic letter
//!   fall together: `kh`, `h` and Uzbek `x` → `h`; `zh`, `j`, `dzh`, `dj` → `j`;
//!   `y` → `i` (so `yu`, `iu` → `iu` and `ya`, `ia` → `ia`); `ye`, `yo` → `e`;
//!   `shch`, `sch` → `sh`; `q` → `k`; `gh` → `g`; `w` → `v`; doubled letters once.
//!   A Latin token with a `j` (which may stand for `ж` or for `й`, as in `Jusupov` for
//!   `Юсупов`) also gets an alternative key with `j` read as `i`.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

use unicode_normalization::UnicodeNormalization;

/// What a token of a name is, for matching.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TokenClass {
    /// An ordinary name part: full weight, scaled by how rare it is in the list.
    Name,
    /// A common given name or a generic business word (`Muhammad`, `Emma`, `relief`,
    /// `trading`): little weight, and never a match on its own.
    Common,
    /// A legal-form word (`LLC`, `Ltd`, `JSC`, `ООО`, `ТОО`, `ОсОО`, `АО`): no weight;
    /// marks the name as an organisation's.
    LegalForm,
    /// A particle or connector (`al`, `bin`, `uulu`, `kyzy`, `ogli`, `of`, `and`): no weight.
    Particle,
    /// A patronymic (`-ovich`, `-ovna`, `-uly`, `-kyzy`, or the name before `uulu`,
    /// `kyzy`, `ogli`): optional, so a missing one costs little.
    Patronymic,
    /// A single letter: an initial. It matches a token that starts with it, weakly.
    Initial,
}

impl TokenClass {
    /// The class's name in explanations.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenClass::Name => "name",
            TokenClass::Common => "common",
            TokenClass::LegalForm => "legal form",
            TokenClass::Particle => "particle",
            TokenClass::Patronymic => "patronymic",
            TokenClass::Initial => "initial",
        }
    }
}

/// One token of a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// As written (after NFKC), e.g. `Нурматов`.
    pub original: String,
    /// Lower-case Latin transliteration (ICAO Doc 9303), e.g. `nurmatov`.
    pub latin: String,
    /// The matching key (see the module docs).
    pub key: String,
    /// A second key for Latin tokens with a `j` (`jusupov` → `iusupov`).
    pub alt: Option<String>,
    /// What it is.
    pub class: TokenClass,
}

/// A name split into classified tokens.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Name {
    /// The name as given.
    pub original: String,
    /// Its tokens in written order, honorifics left out.
    pub tokens: Vec<Token>,
    /// Honorifics and titles that were removed (`Mr`, `Dr`, `Haji`, `господин`).
    pub honorifics: Vec<String>,
}

impl Name {
    /// Normalizes and tokenizes a name.
    /// Default-ignorable code points (zero-width space and joiners, soft hyphen, word
    /// joiner, byte-order mark, Mongolian vowel separator, variation selectors, bidi
    /// controls...) are removed first: they are invisible, so a name holding one looks
    /// the same to an analyst and must match the same.
    pub fn parse(text: &str) -> Name {
        let visible: std::borrow::Cow<'_, str> = if text.chars().any(is_default_ignorable) {
            std::borrow::Cow::Owned(text.chars().filter(|c| !is_default_ignorable(*c)).collect())
        } else {
            std::borrow::Cow::Borrowed(text)
        };
        let nfkc: std::borrow::Cow<'_, str> =
            if unicode_normalization::is_nfkc_quick(visible.chars()) == unicode_normalization::IsNormalized::Yes {
                visible
            } else {
                std::borrow::Cow::Owned(visible.nfkc().collect())
            };
        let mut tokens: Vec<Token> = Vec::new();
        let mut honorifics = Vec::new();
        for word in split_words(&nfkc) {
            push_word(&word, &mut tokens, &mut honorifics);
        }
        Name {
            original: text.to_string(),
            tokens,
            honorifics,
        }
    }

    /// True when a legal-form word marks the name as an organisation's.
    pub fn has_legal_form(&self) -> bool {
        self.tokens.iter().any(|t| t.class == TokenClass::LegalForm)
    }

    /// The tokens that can carry matching weight (not legal forms, not particles).
    pub fn weighted_tokens(&self) -> impl Iterator<Item = &Token> {
        self.tokens
            .iter()
            .filter(|t| !matches!(t.class, TokenClass::LegalForm | TokenClass::Particle))
    }
}

/// Unicode's `Default_Ignorable_Code_Point` property (DerivedCoreProperties.txt,
/// Unicode 16.0): code points that are invisible unless a renderer supports them.
pub fn is_default_ignorable(c: char) -> bool {
    matches!(
        c as u32,
        0x00AD
            | 0x034F
            | 0x061C
            | 0x115F..=0x1160
            | 0x17B4..=0x17B5
            | 0x180B..=0x180F
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x206F
            | 0x3164
            | 0xFE00..=0xFE0F
            | 0xFEFF
            | 0xFFA0
            | 0xFFF0..=0xFFF8
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0000..=0xE0FFF
    )
}

/// Splits NFKC text into words: runs of letters, digits, hyphens, dots and apostrophes.
fn split_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    for c in text.chars() {
        if c.is_alphanumeric() || is_hyphen(c) || is_apostrophe(c) || c == '.' || is_combining(c) {
            cur.push(c);
        } else if !cur.is_empty() {
            words.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

fn is_hyphen(c: char) -> bool {
    matches!(
        c,
        '-' | '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}' | '\u{2014}' | '\u{2212}'
    )
}

fn is_apostrophe(c: char) -> bool {
    matches!(
        c,
        '\'' | '`' | '\u{00B4}' | '\u{2018}' | '\u{2019}' | '\u{02BB}' | '\u{02BC}' | '\u{02BD}' | '\u{02B9}'
    )
}

fn is_combining(c: char) -> bool {
    matches!(c as u32, 0x0300..=0x036F)
}

/// Classifies one written word (which may hold hyphens and dots) into tokens.
fn push_word(word: &str, tokens: &mut Vec<Token>, honorifics: &mut Vec<String>) {
    let lower: String = word
        .chars()
        .flat_map(char::to_lowercase)
        .filter(|c| !is_apostrophe(*c))
        .collect();
    let lower = lower.trim_matches(|c: char| c == '.' || is_hyphen(c)).to_string();
    if lower.is_empty() {
        return;
    }
    // Dotted abbreviations: `L.L.C.` is a legal form, `A.K.` two initials.
    if lower.contains('.') {
        let segments: Vec<&str> = lower.split('.').filter(|s| !s.is_empty()).collect();
        if segments.len() > 1 && segments.iter().all(|s| s.chars().count() <= 2) {
            let joined: String = segments.concat();
            let latin = transliterate(&joined);
            let key = key_of(&latin);
            if lexicons().legal.contains(&key) {
                tokens.push(make_token(word.to_string(), latin, key, TokenClass::LegalForm));
                return;
            }
        }
        for seg in segments {
            push_word(seg, tokens, honorifics);
        }
        return;
    }
    // A hyphenated honorific (`г-н`, `г-жа`) as a whole; other words piece by piece.
    if lower.contains(is_hyphen) && lexicons().honorific.contains(&key_of(&transliterate(&lower))) {
        honorifics.push(word.trim_matches(|c: char| c == '.' || is_hyphen(c)).to_string());
        return;
    }
    let originals: Vec<&str> = word
        .split(is_hyphen)
        .map(|s| s.trim_matches('.'))
        .filter(|s| !s.is_empty())
        .collect();
    let pieces: Vec<&str> = lower.split(is_hyphen).filter(|s| !s.is_empty()).collect();
    for (i, piece) in pieces.iter().enumerate() {
        let original = if originals.len() == pieces.len() {
            originals[i].to_string()
        } else {
            piece.to_string()
        };
        let latin = transliterate(piece);
        if latin.is_empty() {
            continue;
        }
        let key = key_of(&latin);
        let lex = lexicons();
        if lex.honorific.contains(&key) {
            honorifics.push(original);
            continue;
        }
        let class = if lex.legal.contains(&key) {
            TokenClass::LegalForm
        } else if lex.patronymic_connector.contains(&key) {
            // `Bakyt uulu`, `Rustam o'g'li`: the name before is the father's.
            if let Some(prev) = tokens.last_mut() {
                if matches!(prev.class, TokenClass::Name | TokenClass::Common) {
                    prev.class = TokenClass::Patronymic;
                }
            }
            TokenClass::Particle
        } else if lex.particle.contains(&key) {
            TokenClass::Particle
        } else if key.chars().count() == 1 {
            TokenClass::Initial
        } else if is_patronymic(&key) {
            TokenClass::Patronymic
        } else if lex.common.contains(&key) {
            TokenClass::Common
        } else {
            TokenClass::Name
        };
        tokens.push(make_token(original, latin, key, class));
    }
}

fn make_token(original: String, latin: String, key: String, class: TokenClass) -> Token {
    let from_latin = original.chars().any(|c| c.is_ascii_alphabetic()) && !original.chars().any(is_cyrillic);
    let alt = if from_latin && key.contains('j') {
        let a = collapse(&key.replace('j', "i"));
        (a != key).then_some(a)
    } else {
        None
    };
    Token {
        original,
        latin,
        key,
        alt,
        class,
    }
}

fn is_cyrillic(c: char) -> bool {
    matches!(c as u32, 0x0400..=0x052F)
}

/// Patronymic by its ending: Russian `-ovich`/`-evna`, Kazakh `-uly`/`-kyzy`, Uzbek
/// `-ogli`/`-qizi` written as one word. Only on tokens long enough to have a root.
fn is_patronymic(key: &str) -> bool {
    let n = key.chars().count();
    const MALE: &[&str] = &["ovich", "evich"];
    const FEMALE: &[&str] = &["ovna", "evna", "ichna"];
    const TURKIC: &[&str] = &["uli", "kizi", "ogli", "ugli"];
    n >= 7 && MALE.iter().chain(FEMALE).chain(TURKIC).any(|s| key.ends_with(s))
}

/// Lower-case text to Latin: Cyrillic by ICAO Doc 9303 (with the Central Asian letters),
/// Latin diacritics removed, other scripts kept as they are. Digits stay; anything else
/// that is not a letter is dropped.
pub fn transliterate(lower: &str) -> String {
    let mut out = String::with_capacity(lower.len());
    for c in lower.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
            continue;
        }
        if let Some(s) = cyrillic(c) {
            out.push_str(s);
            continue;
        }
        if let Some(s) = latin_special(c) {
            out.push_str(s);
            continue;
        }
        if !c.is_alphanumeric() {
            continue;
        }
        // Latin letters with diacritics: the base letter.
        let mut base = String::new();
        for d in std::iter::once(c).nfd() {
            if d.is_ascii_alphanumeric() || (!is_combining(d) && !d.is_ascii()) {
                base.push(d);
            }
        }
        if base.chars().all(|b| b.is_ascii_alphanumeric()) && !base.is_empty() {
            out.push_str(&base);
        } else {
            // Another script: kept as written (lower case).
            out.push(c);
        }
    }
    out
}

fn cyrillic(c: char) -> Option<&'static str> {
    Some(match c {
        'а' => "a",
        'б' => "b",
        'в' => "v",
        'г' => "g",
        'д' => "d",
        'е' => "e",
        'ё' => "e",
        'ж' => "zh",
        'з' => "z",
        'и' => "i",
        'й' => "i",
        'к' => "k",
        'л' => "l",
        'м' => "m",
        'н' => "n",
        'о' => "o",
        'п' => "p",
        'р' => "r",
        'с' => "s",
        'т' => "t",
        'у' => "u",
        'ф' => "f",
        'х' => "kh",
        'ц' => "ts",
        'ч' => "ch",
        'ш' => "sh",
        'щ' => "shch",
        'ъ' => "ie",
        'ы' => "y",
        'ь' => "",
        'э' => "e",
        'ю' => "iu",
        'я' => "ia",
        // Ukrainian and Belarusian.
        'є' => "ie",
        'і' => "i",
        'ї' => "i",
        'ґ' => "g",
        // Kazakh, Kyrgyz, Uzbek, Tajik, Bashkir, Tatar.
        'ә' => "a",
        'ғ' => "g",
        'қ' => "k",
        'ң' => "n",
        'ө' => "o",
        'ұ' => "u",
        'ү' => "u",
        'һ' => "h",
        'ў' => "u",
        'ҳ' => "h",
        'ҷ' => "j",
        'ӣ' => "i",
        'ӯ' => "u",
        'ҙ' => "z",
        'ҫ' => "s",
        'ӊ' => "n",
        'ҡ' => "k",
        'җ' => "zh",
        _ => return None,
    })
}

fn latin_special(c: char) -> Option<&'static str> {
    Some(match c {
        'ß' => "ss",
        'ø' => "o",
        'æ' => "ae",
        'œ' => "oe",
        'ł' => "l",
        'đ' | 'ð' => "d",
        'þ' => "th",
        'ı' => "i",
        'ş' | 'ș' => "sh",
        'ç' => "ch",
        'ə' => "a",
        'ŋ' => "n",
        _ => return None,
    })
}

/// The matching key of a Latin token (see the module docs).
pub fn key_of(latin: &str) -> String {
    let b: Vec<char> = latin.chars().collect();
    let mut out = String::with_capacity(b.len());
    let mut i = 0;
    let at = |i: usize, s: &str| -> bool { s.chars().enumerate().all(|(k, ch)| b.get(i + k) == Some(&ch)) };
    while i < b.len() {
        let (rep, n) = if at(i, "shch") {
            ("sh", 4)
        } else if at(i, "sch") {
            ("sh", 3)
        } else if at(i, "dzh") {
            ("j", 3)
        } else if at(i, "dj") || at(i, "zh") {
            ("j", 2)
        } else if at(i, "kh") {
            ("h", 2)
        } else if at(i, "gh") {
            ("g", 2)
        } else if at(i, "ph") {
            ("f", 2)
        } else if at(i, "tz") {
            ("ts", 2)
        } else if at(i, "ye") || at(i, "yo") {
            ("e", 2)
        } else {
            let r = match b[i] {
                'x' => "h",
                'q' => "k",
                'w' => "v",
                'y' => "i",
                _ => "",
            };
            if r.is_empty() {
                out.push(b[i]);
                i += 1;
                continue;
            }
            (r, 1)
        };
        out.push_str(rep);
        i += n;
    }
    collapse(&out)
}

/// Doubled letters once.
fn collapse(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev = None;
    for c in s.chars() {
        if Some(c) != prev || c.is_ascii_digit() {
            out.push(c);
        }
        prev = Some(c);
    }
    out
}

/// FNV-1a: a fast, deterministic hash for the short keys of names (the keys are the
/// list's and the screened data's own name tokens).
#[derive(Default, Clone, Copy)]
pub(crate) struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 { 0xcbf2_9ce4_8422_2325 } else { self.0 };
        for b in bytes {
            h ^= *b as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.0 = h;
    }
}

/// A hash set or map keyed by name keys.
pub(crate) type FastHash = BuildHasherDefault<Fnv>;

/// The word lists, by matching key.
pub(crate) struct Lexicons {
    pub legal: HashSet<String, FastHash>,
    pub honorific: HashSet<String, FastHash>,
    pub particle: HashSet<String, FastHash>,
    pub patronymic_connector: HashSet<String, FastHash>,
    pub common: HashSet<String, FastHash>,
}

fn keys(words: &[&str]) -> HashSet<String, FastHash> {
    words
        .iter()
        .map(|w| {
            let lower: String = w.chars().flat_map(char::to_lowercase).collect();
            key_of(&transliterate(&lower))
        })
        .collect()
}

/// Legal-form words, in Latin and Cyrillic, with the words of the spelled-out forms
/// (`общество с ограниченной ответственностью`, `mas'uliyati cheklangan jamiyat`).
pub const LEGAL_FORMS: &[&str] = &[
    "llc",
    "partnership",
    "ltd",
    "limited",
    "liability",
    "inc",
    "incorporated",
    "corp",
    "corporation",
    "co",
    "company",
    "plc",
    "llp",
    "lp",
    "jsc",
    "ojsc",
    "cjsc",
    "pjsc",
    "gmbh",
    "ag",
    "sa",
    "sarl",
    "sas",
    "bv",
    "nv",
    "spa",
    "srl",
    "fze",
    "fzco",
    "fzc",
    "fzllc",
    "dmcc",
    "pte",
    "pty",
    "gmbh",
    "oy",
    "aps",
    "doo",
    "sro",
    "ooo",
    "оао",
    "ооо",
    "зао",
    "пао",
    "ао",
    "тоо",
    "осоо",
    "ип",
    "чп",
    "тов",
    "пт",
    "oao",
    "zao",
    "pao",
    "too",
    "osoo",
    "mchj",
    "мчж",
    "xk",
    "хк",
    "ajk",
    "ажк",
    "jshs",
    "жшс",
    "jchk",
    "жчк",
    "ук",
    "нко",
    "ано",
    "фгуп",
    "гуп",
    "муп",
    "пк",
    "тд",
    "общество",
    "ограниченной",
    "ответственностью",
    "товарищество",
    "акционерное",
    "закрытое",
    "открытое",
    "публичное",
    "obshchestvo",
    "ogranichennoi",
    "otvetstvennostiu",
    "tovarishchestvo",
    "aktsionernoe",
    "mas'uliyati",
    "masuliyati",
    "cheklangan",
    "jamiyati",
    "jamiyat",
    "жауапкершілігі",
    "шектеулі",
    "серіктестік",
    "жоопкерчилиги",
    "чектелген",
    "коому",
    "коом",
    "акционердик",
    "акционерлік",
    "ответственности",
    "joint",
    "stock",
];

/// Honorifics and titles, removed from names.
pub const HONORIFICS: &[&str] = &[
    "mr",
    "mrs",
    "ms",
    "miss",
    "mister",
    "madam",
    "mme",
    "mlle",
    "dr",
    "prof",
    "professor",
    "sir",
    "dame",
    "lord",
    "lady",
    "herr",
    "frau",
    "haji",
    "hajji",
    "hadji",
    "hajj",
    "alhaj",
    "alhaji",
    "alhajji",
    "sheikh",
    "shaikh",
    "shaykh",
    "sheik",
    "mullah",
    "mulla",
    "mawlawi",
    "maulawi",
    "maulvi",
    "mawlana",
    "maulana",
    "qari",
    "hafiz",
    "ustaz",
    "ustadh",
    "col",
    "colonel",
    "capt",
    "captain",
    "господин",
    "госпожа",
    "гражданин",
    "гражданка",
    "г-н",
    "г-жа",
    "мырза",
    "ханым",
    "мулла",
    "хаджи",
    "шейх",
];

/// Particles and small words that carry no weight.
pub const PARTICLES: &[&str] = &[
    "al", "el", "ad", "ud", "ul", "as", "at", "bin", "ibn", "bint", "ben", "van", "von", "der", "den", "de", "da",
    "di", "du", "la", "le", "the", "of", "and", "for", "et", "und", "va", "ва", "и", "по", "в", "на", "с",
];

/// Turkic patronymic connectors: the name before them is the father's.
pub const PATRONYMIC_CONNECTORS: &[&str] = &[
    "uulu", "уулу", "kyzy", "кызы", "qizi", "kizi", "қызы", "ogli", "ogly", "o'g'li", "ugli", "угли", "оглы", "ўғли",
    "uly", "ұлы", "улы", "oglu", "оглу", "gizi", "гызы",
];

/// Common given names and generic words: they weigh little and never match alone.
pub const COMMON: &[&str] = &[
    // Given names common across Central Asia, Russia and the Arabic-speaking world.
    "muhammad",
    "muhammed",
    "mohammad",
    "mohammed",
    "mohamed",
    "muhamed",
    "mukhammad",
    "mukhammed",
    "magomed",
    "ahmad",
    "ahmed",
    "akhmad",
    "akhmed",
    "ali",
    "abdul",
    "abdulla",
    "abdullah",
    "abdullo",
    "abdulaziz",
    "abdurahman",
    "abdurakhmon",
    "abdurrahman",
    "abu",
    "umar",
    "omar",
    "usman",
    "osman",
    "hasan",
    "hassan",
    "husain",
    "hussain",
    "hussein",
    "husan",
    "ibrahim",
    "ismail",
    "yusuf",
    "yusup",
    "iusuf",
    "musa",
    "isa",
    "said",
    "saeed",
    "khalid",
    "hamid",
    "mahmud",
    "makhmud",
    "mansur",
    "murat",
    "murad",
    "rustam",
    "timur",
    "azamat",
    "aibek",
    "nurlan",
    "ruslan",
    "erlan",
    "bakyt",
    "almaz",
    "daniyar",
    "askar",
    "arman",
    "marat",
    "alisher",
    "jamshid",
    "sherzod",
    "bekzod",
    "otabek",
    "rashid",
    "farhod",
    "farkhod",
    "dilshod",
    "ulugbek",
    "aziz",
    "akmal",
    "bahrom",
    "shukhrat",
    "shuhrat",
    "islam",
    "aidar",
    "kairat",
    "serik",
    "bolat",
    "bulat",
    "nurbek",
    "talant",
    "emil",
    "adilet",
    "bakhtiyor",
    "bakhtiyar",
    "sardor",
    "anvar",
    "rustem",
    "ilias",
    "iliyas",
    "zhanibek",
    "asan",
    "usen",
    "aigerim",
    "aizhan",
    "gulnara",
    "gulnaz",
    "dinara",
    "nargiza",
    "dilnoza",
    "madina",
    "aliya",
    "zarina",
    "kamila",
    "asel",
    "ainura",
    "saltanat",
    "fatima",
    "aisha",
    "maryam",
    "zainab",
    "khadija",
    "nodira",
    "malika",
    "gulmira",
    "aida",
    "zhanna",
    "elmira",
    "nazira",
    "aliia",
    "aleksandr",
    "alexander",
    "sergei",
    "sergey",
    "andrei",
    "andrey",
    "dmitrii",
    "dmitry",
    "ivan",
    "vladimir",
    "nikolai",
    "mikhail",
    "aleksei",
    "alexey",
    "evgenii",
    "yevgeny",
    "iurii",
    "yuri",
    "oleg",
    "igor",
    "viktor",
    "pavel",
    "anna",
    "olga",
    "elena",
    "tatiana",
    "natalia",
    "irina",
    "svetlana",
    "mariia",
    "maria",
    "ekaterina",
    "iuliia",
    "yulia",
    "john",
    "james",
    "michael",
    "david",
    "robert",
    "william",
    "richard",
    "joseph",
    "thomas",
    "charles",
    "daniel",
    "mary",
    "emma",
    "sarah",
    "peter",
    "paul",
    "mark",
    "george",
    "anne",
    "jane",
    "elizabeth",
    "linda",
    "susan",
    "karen",
    "lisa",
    "nancy",
    "laura",
    "emily",
    "olivia",
    "sophia",
    "jose",
    "juan",
    "carlos",
    "luis",
    "ana",
    // Generic words in organisation names, in English, Russian and the region's languages.
    "relief",
    "trading",
    "trade",
    "traders",
    "group",
    "international",
    "intl",
    "holding",
    "holdings",
    "global",
    "foundation",
    "fund",
    "charity",
    "charitable",
    "humanitarian",
    "aid",
    "welfare",
    "islamic",
    "muslim",
    "society",
    "association",
    "organization",
    "organisation",
    "committee",
    "center",
    "centre",
    "services",
    "service",
    "industries",
    "industry",
    "industrial",
    "enterprise",
    "enterprises",
    "investment",
    "investments",
    "invest",
    "capital",
    "finance",
    "financial",
    "bank",
    "exchange",
    "import",
    "export",
    "logistics",
    "transport",
    "construction",
    "consulting",
    "partners",
    "media",
    "network",
    "national",
    "united",
    "world",
    "development",
    "agro",
    "food",
    "textile",
    "market",
    "shop",
    "store",
    "plus",
    "new",
    "east",
    "west",
    "north",
    "south",
    "asia",
    "central",
    "eurasia",
    "general",
    "commercial",
    "business",
    "solutions",
    "systems",
    "technologies",
    "tech",
    "energy",
    "oil",
    "gas",
    "mining",
    "travel",
    "tour",
    "express",
    "cargo",
    "auto",
    "motors",
    "pharm",
    "pharma",
    "medical",
    "education",
    "institute",
    "union",
    "alliance",
    "council",
    "agency",
    "office",
    "bureau",
    "branch",
    "трейдинг",
    "трейд",
    "групп",
    "группа",
    "интернешнл",
    "холдинг",
    "инвест",
    "строй",
    "сервис",
    "торговый",
    "торговля",
    "дом",
    "фонд",
    "центр",
    "благотворительный",
    "помощь",
    "компания",
    "агро",
    "транс",
    "логистик",
    "импорт",
    "экспорт",
    "маркет",
    "азия",
    "евразия",
    "плюс",
    "мир",
    "союз",
    "ассоциация",
    "общественный",
    "объединение",
    "исламский",
    "международный",
    "гуманитарный",
    "коммерческий",
    "производственный",
    "savdo",
    "qurilish",
    "xizmat",
    "hayriya",
    "jamgarma",
    "kor",
    "коопер",
];

pub(crate) fn lexicons() -> &'static Lexicons {
    static LEX: OnceLock<Lexicons> = OnceLock::new();
    LEX.get_or_init(|| Lexicons {
        legal: keys(LEGAL_FORMS),
        honorific: keys(HONORIFICS),
        particle: keys(PARTICLES),
        patronymic_connector: keys(PATRONYMIC_CONNECTORS),
        common: keys(COMMON),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys_of(s: &str) -> Vec<String> {
        Name::parse(s).tokens.iter().map(|t| t.key.clone()).collect()
    }

    #[test]
    fn icao_transliteration_of_russian_and_central_asian_letters() {
        assert_eq!(transliterate("юсупов"), "iusupov");
        assert_eq!(transliterate("хасанов"), "khasanov");
        assert_eq!(transliterate("жанибек"), "zhanibek");
        assert_eq!(transliterate("щукин"), "shchukin");
        assert_eq!(transliterate("әлиұлы"), "aliuly");
        assert_eq!(transliterate("ғқңөүһі"), "gknouhi");
    }

    #[test]
    fn spelling_variants_share_a_key() {
        for group in [
            &["Юсупов", "Yusupov", "Iusupov"][..],
            &["Хасанов", "Khasanov", "Hasanov", "Xasanov"],
            &["Жанибек", "Zhanibek", "Janibek"],
            &["Джамшид", "Dzhamshid", "Djamshid", "Jamshid"],
            &["Яковлев", "Yakovlev", "Iakovlev"],
            &["Юрий", "Yuriy", "Iurii", "Yuri"],
            &["Алиев", "Aliyev", "Aliev"],
            &["Қасымов", "Kasymov", "Qasimov"],
        ] {
            let k: Vec<String> = group.iter().map(|w| keys_of(w)[0].clone()).collect();
            assert!(k.iter().all(|x| x == &k[0]), "{group:?} → {k:?}");
        }
        // `Jusupov` reads `j` as `ж` first, and as `й` in its alternative key.
        let t = &Name::parse("Jusupov").tokens[0];
        assert_eq!(t.key, "jusupov");
        assert_eq!(t.alt.as_deref(), Some("iusupov"));
        assert_eq!(Name::parse("Жусупов").tokens[0].alt, None);
    }

    #[test]
    fn nfkc_casefold_and_punctuation() {
        // Full-width letters and a ligature fold to plain ones; quotes and commas split.
        assert_eq!(keys_of("ＮＵＲＭＡＴＯＶ, «Rustam»"), ["nurmatov", "rustam"]);
        assert_eq!(keys_of("O‘ktam G‘ofurov"), ["oktam", "gofurov"]);
        assert_eq!(keys_of("Müller-Łukasz"), ["muler", "lukasz"]);
    }

    #[test]
    fn honorifics_are_removed_and_legal_forms_marked() {
        let n = Name::parse("Dr. Haji Rustam NURMATOV");
        assert_eq!(n.honorifics, ["Dr", "Haji"]);
        assert_eq!(n.tokens.len(), 2);
        let n = Name::parse("ТОО «Алтын Жол Трейдинг»");
        assert!(n.has_legal_form());
        let classes: Vec<TokenClass> = n.tokens.iter().map(|t| t.class).collect();
        assert_eq!(
            classes,
            [
                TokenClass::LegalForm,
                TokenClass::Name,
                TokenClass::Name,
                TokenClass::Common
            ]
        );
        for s in [
            "EMMA L.L.C.",
            "Emma LLC",
            "ОсОО Эмма",
            "ООО Эмма",
            "Emma Trading Co., Ltd.",
        ] {
            assert!(Name::parse(s).has_legal_form(), "{s}");
        }
        assert!(!Name::parse("Emma Daniels").has_legal_form());
        let n = Name::parse("Общество с ограниченной ответственностью «Кок-Жар»");
        let names: Vec<&str> = n.weighted_tokens().map(|t| t.key.as_str()).collect();
        assert_eq!(names, ["kok", "jar"]);
    }

    #[test]
    fn patronymics_are_recognised() {
        let n = Name::parse("Нурматов Рустам Бахтиёрович");
        assert_eq!(n.tokens[2].class, TokenClass::Patronymic);
        let n = Name::parse("Azamat Bakyt uulu");
        assert_eq!(n.tokens[1].class, TokenClass::Patronymic);
        assert_eq!(n.tokens[2].class, TokenClass::Particle);
        let n = Name::parse("Ерлан Нұрланұлы");
        assert_eq!(n.tokens[1].class, TokenClass::Patronymic);
        let n = Name::parse("A.K. Nurmatov");
        assert_eq!(n.tokens[0].class, TokenClass::Initial);
        assert_eq!(n.tokens[1].class, TokenClass::Initial);
    }

    /// Every default-ignorable code point inside a word leaves its keys as they were.
    #[test]
    fn default_ignorable_code_points_are_removed() {
        let plain = keys_of("Toktosunov Zhanybek");
        let ranges: &[(u32, u32)] = &[
            (0x00AD, 0x00AD),
            (0x034F, 0x034F),
            (0x061C, 0x061C),
            (0x115F, 0x1160),
            (0x17B4, 0x17B5),
            (0x180B, 0x180F),
            (0x200B, 0x200F),
            (0x202A, 0x202E),
            (0x2060, 0x206F),
            (0x3164, 0x3164),
            (0xFE00, 0xFE0F),
            (0xFEFF, 0xFEFF),
            (0xFFA0, 0xFFA0),
            (0xFFF0, 0xFFF8),
            (0x1BCA0, 0x1BCA3),
            (0x1D173, 0x1D17A),
            (0xE0000, 0xE0FFF),
        ];
        for &(a, b) in ranges {
            for u in a..=b {
                let Some(c) = char::from_u32(u) else { continue };
                assert!(is_default_ignorable(c));
                let name = format!("{c}Tok{c}tosunov Zhany{c}bek{c}");
                assert_eq!(keys_of(&name), plain, "U+{u:04X}");
            }
        }
        assert!(!is_default_ignorable('a') && !is_default_ignorable(' ') && !is_default_ignorable('\u{00A0}'));
    }
}
