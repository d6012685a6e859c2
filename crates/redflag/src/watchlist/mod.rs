//! Sanctions and watch-list screening of party names, across scripts and spellings.
//!
//! Three parts:
//!
//! - [`WatchList`]: a list loaded from the UN Security Council Consolidated List XML, an
//!   OpenSanctions `targets.simple.csv`, or a plain CSV (`name, aliases, birth_date,
//!   country, list, reference`), the format told by the content. Every entry keeps its
//!   aliases, birth dates, countries, list name and reference; the [`LoadReport`] says
//!   what was loaded and what was skipped, and why.
//! - [`Name`]: a name normalized (NFKC, casefold, punctuation and honorifics removed),
//!   written in Latin letters (Cyrillic by ICAO Doc 9303 and the common variants), split
//!   into tokens classified as names, common words, legal forms, particles, patronymics
//!   and initials.
//! - [`Matcher`]: an index over a list. Candidates come from the rare tokens of a name
//!   (no all-pairs comparison); each candidate is scored from Jaro-Winkler similarities
//!   and token weights (rare tokens weigh more), corroborated by birth date and country,
//!   and explained token by token ([`Match`]).
//!
//! ```
//! use redflag::watchlist::{Matcher, Party, WatchList};
//!
//! let csv = "name,aliases,birth_date,country,list,reference\n\
//!            Нурматов Рустам Бахтиёрович,Rustam Nurmatov,1975-02-10,KG,Example list,EX-1\n";
//! let list = WatchList::parse(csv.as_bytes(), "example.csv".as_ref())?;
//! let matcher = Matcher::new(&list, 70.0);
//! let found = matcher.screen(&Party::new("NURMATOV RUSTAM").birth_date("1975-02-10"));
//! assert_eq!(found[0].reference, "EX-1");
//! println!("{}", found[0].explain());
//! # Ok::<(), redflag::Error>(())
//! ```
//!
//! A match is a reason to look, not a finding: names are shared, lists carry errors.

mod countries;
mod lists;
mod matcher;
pub(crate) mod names;

pub use lists::{detect, Detected, ListFile, ListFormat, Skipped};
pub use matcher::{explained_name_tokens, Corroboration, Match, Matcher, Party, TokenPair, MIN_TOKEN_SIMILARITY};
pub use names::{key_of, transliterate, Name, Token, TokenClass};

/// Whether a listed party is a person or an organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EntryKind {
    /// A natural person.
    Person,
    /// A company, an association, any legal person.
    Organisation,
    /// A vessel, an aircraft, or not said.
    Other,
}

impl EntryKind {
    /// `person`, `organisation` or `other`.
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Person => "person",
            EntryKind::Organisation => "organisation",
            EntryKind::Other => "other",
        }
    }
}

/// Another name of a listed party.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alias {
    /// The name.
    pub name: String,
    /// The list marks it as of low quality (UN `QUALITY` `Low`): a match on it counts less.
    pub low_quality: bool,
}

/// A birth date as a list gives it: a day, a month, a year, or a range of years.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct BirthDate {
    /// First possible year.
    pub from_year: i32,
    /// Last possible year (= `from_year` unless a range).
    pub to_year: i32,
    /// Month, when known.
    pub month: Option<u32>,
    /// Day, when known (only with a month).
    pub day: Option<u32>,
}

impl BirthDate {
    /// Reads `1975-02-10`, `1975-02`, `1975`, `10.02.1975`, `1975/02/10` and year ranges
    /// `1970-1975` or `1970..1975`.
    pub fn parse(s: &str) -> Option<BirthDate> {
        let s = s.trim();
        let s = if s.len() > 10 && s.as_bytes()[10] == b'T' {
            &s[..10]
        } else {
            s
        };
        let num = |p: &str| -> Option<u32> {
            (!p.is_empty() && p.len() <= 4 && p.bytes().all(|b| b.is_ascii_digit()))
                .then(|| p.parse().ok())
                .flatten()
        };
        let year = |y: u32| (1800..=2200).contains(&y).then_some(y as i32);
        if let Some((a, b)) = s.split_once("..") {
            let (a, b) = (year(num(a)?)?, year(num(b)?)?);
            return (a <= b).then_some(BirthDate {
                from_year: a,
                to_year: b,
                month: None,
                day: None,
            });
        }
        let parts: Vec<&str> = s.split(['-', '/', '.']).collect();
        let date = |y: i32, m: Option<u32>, d: Option<u32>| -> Option<BirthDate> {
            if let Some(m) = m {
                if !(1..=12).contains(&m) {
                    return None;
                }
            }
            if let Some(d) = d {
                if !(1..=31).contains(&d) {
                    return None;
                }
            }
            Some(BirthDate {
                from_year: y,
                to_year: y,
                month: m,
                day: d,
            })
        };
        match parts.as_slice() {
            [y] => date(year(num(y)?)?, None, None),
            [a, b] if a.len() == 4 && b.len() == 4 => {
                let (a, b) = (year(num(a)?)?, year(num(b)?)?);
                (a <= b).then_some(BirthDate {
                    from_year: a,
                    to_year: b,
                    month: None,
                    day: None,
                })
            }
            [y, m] if y.len() == 4 => date(year(num(y)?)?, Some(num(m)?), None),
            [y, m, d] if y.len() == 4 => date(year(num(y)?)?, Some(num(m)?), Some(num(d)?)),
            [d, m, y] if y.len() == 4 => date(year(num(y)?)?, Some(num(m)?), Some(num(d)?)),
            _ => None,
        }
    }

    /// True for a full date (year, month and day).
    pub fn is_exact(&self) -> bool {
        self.from_year == self.to_year && self.day.is_some()
    }
}

impl std::fmt::Display for BirthDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.from_year != self.to_year {
            return write!(f, "{}..{}", self.from_year, self.to_year);
        }
        write!(f, "{}", self.from_year)?;
        if let Some(m) = self.month {
            write!(f, "-{m:02}")?;
            if let Some(d) = self.day {
                write!(f, "-{d:02}")?;
            }
        }
        Ok(())
    }
}

/// One listed party.
#[derive(Debug, Clone, PartialEq)]
pub struct ListEntry {
    /// The list it is on (`UN 1267 Al-Qaida`, an OpenSanctions dataset, a plain CSV's `list`).
    pub list: String,
    /// Its reference on that list (UN `REFERENCE_NUMBER`, OpenSanctions `id`).
    pub reference: String,
    /// Person, organisation or other.
    pub kind: EntryKind,
    /// Its main name.
    pub name: String,
    /// Other names, original-script names included.
    pub aliases: Vec<Alias>,
    /// Birth dates (a list may give several).
    pub birth_dates: Vec<BirthDate>,
    /// Nationalities and countries, ISO 3166-1 alpha-2 where recognised, else as written.
    pub countries: Vec<String>,
    /// Where it was read: `file:line` or `file: element INDIVIDUAL DATAID 123`.
    pub source: String,
}

/// One or more lists loaded into one normalized list.
#[derive(Debug, Clone, Default)]
pub struct WatchList {
    /// The entries, in file order.
    pub entries: Vec<ListEntry>,
    /// What each file held.
    pub files: Vec<ListFile>,
}

impl WatchList {
    /// Reads a list file, telling its format by its content.
    pub fn load(path: &std::path::Path) -> crate::error::Result<WatchList> {
        let bytes = std::fs::read(path).map_err(|source| crate::error::Error::Io {
            path: path.to_path_buf(),
            action: "reading the watch list",
            source,
        })?;
        WatchList::parse(&bytes, path)
    }

    /// Reads several list files into one list.
    pub fn load_all(paths: &[std::path::PathBuf]) -> crate::error::Result<WatchList> {
        let mut all = WatchList::default();
        for p in paths {
            let one = WatchList::load(p)?;
            all.entries.extend(one.entries);
            all.files.extend(one.files);
        }
        Ok(all)
    }

    /// Parses a list from its bytes; `path` names it in errors and sources.
    pub fn parse(bytes: &[u8], path: &std::path::Path) -> crate::error::Result<WatchList> {
        lists::parse(bytes, path)
    }
}

/// A country as written in a list (`Kyrgyzstan`, `KGZ`, `kg`, `Российская Федерация`)
/// as its ISO 3166-1 alpha-2 code, when it is one.
pub fn country_code(s: &str) -> Option<&'static str> {
    let t = s.trim();
    if t.len() == 2 && t.is_ascii() {
        let up = t.to_ascii_uppercase();
        return countries::ALPHA2.iter().copied().find(|c| *c == up);
    }
    let lower = t.to_lowercase();
    countries::COUNTRY_NAMES
        .binary_search_by(|(n, _)| (*n).cmp(lower.as_str()))
        .ok()
        .map(|i| countries::COUNTRY_NAMES[i].1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn birth_dates_in_the_forms_lists_use() {
        let d = |s| BirthDate::parse(s).map(|d| d.to_string());
        assert_eq!(d("1975-02-10").as_deref(), Some("1975-02-10"));
        assert_eq!(d("10.02.1975").as_deref(), Some("1975-02-10"));
        assert_eq!(d("1975/02/10").as_deref(), Some("1975-02-10"));
        assert_eq!(d("1975-02").as_deref(), Some("1975-02"));
        assert_eq!(d("1975").as_deref(), Some("1975"));
        assert_eq!(d("1970-1975").as_deref(), Some("1970..1975"));
        assert_eq!(d("1975-02-10T00:00:00").as_deref(), Some("1975-02-10"));
        assert_eq!(d("1975-13-01"), None);
        assert_eq!(d("19xx"), None);
        assert_eq!(d(""), None);
        assert!(BirthDate::parse("1975-02-10").unwrap().is_exact());
        assert!(!BirthDate::parse("1975").unwrap().is_exact());
    }

    #[test]
    fn countries_by_code_name_and_alpha3() {
        assert_eq!(country_code("kg"), Some("KG"));
        assert_eq!(country_code("Kyrgyzstan"), Some("KG"));
        assert_eq!(country_code("KGZ"), Some("KG"));
        assert_eq!(country_code("Syrian Arab Republic"), Some("SY"));
        assert_eq!(country_code("Российская Федерация"), Some("RU"));
        assert_eq!(country_code("Atlantis"), None);
        assert_eq!(country_code("QQ"), None);
    }
}
