//! Redaction for training material: account numbers and party names become stable
//! pseudonyms.
//!
//! An account becomes `ACCT-` and a name `NAME-`, each followed by 12 upper-case hex digits of
//! sha256 over a key, the kind (`account` or `name`) and the value. The same key gives the
//! same pseudonym for the same account or name, in every file and every run;
//! [`DEFAULT_REDACT_KEY`] is the key unless another is given. Anyone who holds the key and can
//! guess an original can check the guess: use a secret key when that matters.
//!
//! Fields that hold an account or a name are replaced whole (a watch-list match's
//! `party_name` and `listed_name` measures included). In free
//! text (case summaries, alert explanations, narratives) every account and name that the
//! redacted cases hold, and every listed name a watch-list alert matched, is replaced where
//! it stands as a whole word; in a watch-list alert's explanation each name token it shows
//! (`Zhanybek=ZHANYBEK 1.00`, `listed, not given: ...`) is replaced by its own pseudonym. Other personal details written into a
//! narrative (a name the data does not hold as a party, a phone number) are not detected.
//! Case and alert ids are computed again from the pseudonyms, and the cases ranked again.
//! Placeholder values that stand for a missing name (`UNKNOWN`, `N/A`: the pack's
//! `placeholder_names` list) can be left as they are ([`Redactor::keeping_placeholders`]).

use std::collections::{BTreeMap, BTreeSet};

use aho_corasick::AhoCorasick;
use polars::prelude::*;

use crate::error::{PolarsContext, Result};
use crate::ingest::Dataset;
use crate::model::Case;
use crate::output::{frame_csv, CasesFile};
use crate::pack::Pack;
use crate::util::hash::sha256_hex;

/// The key of the pseudonyms unless another is given.
pub const DEFAULT_REDACT_KEY: &str = "redflag-redact-v1";

/// The pack list whose values stand for a missing name or account (`UNKNOWN`, `N/A`):
/// [`Redactor::keeping_placeholders`] leaves them as they are.
pub const PLACEHOLDER_LIST: &str = "placeholder_names";

/// Measures that hold a name whole (a watch-list match's party and list entry).
const NAME_MEASURES: [&str; 3] = ["party_name", "listed_name", "matched_name"];

/// Replaces account numbers and party names by pseudonyms (see the module docs).
#[derive(Debug, Clone)]
pub struct Redactor {
    key: String,
    /// Upper-cased values left as they are.
    keep: BTreeSet<String>,
}

impl Default for Redactor {
    fn default() -> Self {
        Redactor::new(DEFAULT_REDACT_KEY)
    }
}

impl Redactor {
    /// A redactor with this key.
    pub fn new(key: &str) -> Redactor {
        Redactor {
            key: key.to_string(),
            keep: BTreeSet::new(),
        }
    }

    /// Leaves the values of the pack's [`PLACEHOLDER_LIST`] as they are, whatever their case:
    /// `UNKNOWN` or `N/A` is nobody's name, and it is what a red flag on missing party
    /// information is about.
    pub fn keeping_placeholders(mut self, pack: &Pack) -> Redactor {
        if let Some(l) = pack.lists.get(PLACEHOLDER_LIST) {
            self.keep.extend(l.values.iter().map(|v| v.trim().to_uppercase()));
        }
        self
    }

    fn kept(&self, value: &str) -> bool {
        !self.keep.is_empty() && self.keep.contains(&value.trim().to_uppercase())
    }

    fn hash(&self, kind: &str, value: &str) -> String {
        let h = sha256_hex(format!("{}\u{1f}{kind}\u{1f}{value}", self.key).as_bytes());
        h[..12].to_uppercase()
    }

    /// The pseudonym of an account number (a kept placeholder stays as it is).
    pub fn account(&self, account: &str) -> String {
        if self.kept(account) {
            return account.to_string();
        }
        format!("ACCT-{}", self.hash("account", account))
    }

    /// The pseudonym of a party name (a kept placeholder stays as it is).
    pub fn name(&self, name: &str) -> String {
        if self.kept(name) {
            return name.to_string();
        }
        format!("NAME-{}", self.hash("name", name))
    }

    fn acc_opt(&self, a: &mut Option<String>) {
        if let Some(s) = a.as_mut().filter(|s| !s.is_empty()) {
            *s = self.account(s);
        }
    }

    fn name_opt(&self, n: &mut Option<String>) {
        if let Some(s) = n.as_mut().filter(|s| !s.is_empty()) {
            *s = self.name(s);
        }
    }

    /// Redacts cases in place, gives them ids from their pseudonyms and ranks them again.
    /// The alerts keep their rows into the screened frame, so
    /// [`alerts_csv`](crate::alerts_csv) still works on them.
    pub fn redact_cases(&self, cases: &mut [Case]) {
        let text = self.text_map(cases);
        let t = |s: &mut String| {
            if let Some(m) = &text {
                *s = m.apply(s);
            }
        };
        for c in cases.iter_mut() {
            for a in &mut c.accounts {
                *a = self.account(a);
            }
            c.accounts.sort();
            for cp in &mut c.counterparties {
                if cp != "cash" {
                    *cp = self.account(cp);
                }
            }
            c.counterparties.sort();
            c.counterparties.dedup();
            t(&mut c.summary);
            for tx in &mut c.transactions {
                self.acc_opt(&mut tx.orig_account);
                self.acc_opt(&mut tx.bene_account);
                self.name_opt(&mut tx.orig_name);
                self.name_opt(&mut tx.bene_name);
                if let Some(n) = &mut tx.narrative {
                    t(n);
                }
            }
            for a in &mut c.alerts {
                a.account = self.account(&a.account);
                for l in &mut a.linked_accounts {
                    *l = self.account(l);
                }
                // A watch-list match explains itself token by token: those tokens go too.
                let tokens = self.match_tokens(a);
                t(&mut a.explanation);
                if let Some(m) = &tokens {
                    a.explanation = m.apply(&a.explanation);
                }
                for (k, v) in a.measures.iter_mut() {
                    if let serde_json::Value::String(s) = v {
                        if NAME_MEASURES.contains(&k.as_str()) && !s.is_empty() {
                            *s = self.name(s);
                        } else {
                            t(s);
                            if let Some(m) = &tokens {
                                *s = m.apply(s);
                            }
                        }
                    }
                }
                a.alert_id = crate::model::alert_id(&a.rule_id, &a.account, &a.txn_ids);
            }
            c.case_id = format!("C-{}", &sha256_hex(c.accounts.join("\u{1f}").as_bytes())[..12]);
        }
        cases.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.case_id.cmp(&b.case_id)));
        for (i, c) in cases.iter_mut().enumerate() {
            c.rank = i + 1;
        }
    }

    /// Redacts a whole `cases.json` and marks its manifest as redacted.
    pub fn redact_file(&self, cf: &mut CasesFile) {
        self.redact_cases(&mut cf.cases);
        cf.manifest.redacted = true;
    }

    /// The quarantine frame with its account columns redacted.
    pub fn redact_quarantine(&self, df: &DataFrame) -> Result<DataFrame> {
        let mut df = df.clone();
        for name in ["orig_account", "bene_account"] {
            let Ok(col) = df.column(name) else { continue };
            let ca = col
                .cast(&DataType::String)
                .and_then(|c| c.str().cloned())
                .ctx(|| format!("redacting quarantine column `{name}`"))?;
            let red: StringChunked = ca
                .iter()
                .map(|v| v.map(|s| if s.is_empty() { String::new() } else { self.account(s) }))
                .collect();
            df.with_column(red.with_name(name.into()).into_column())
                .ctx(|| format!("redacting quarantine column `{name}`"))?;
        }
        Ok(df)
    }

    /// `quarantine.csv` with its accounts redacted, or `None` when no row was set aside.
    pub fn quarantine_csv(&self, ds: &Dataset) -> Result<Option<String>> {
        if ds.quarantine.height() == 0 {
            return Ok(None);
        }
        frame_csv(&self.redact_quarantine(&ds.quarantine)?).map(Some)
    }

    /// The name tokens a watch-list alert shows (in its explanation, its party name and
    /// its listed name), each to its pseudonym; `None` for other alerts.
    fn match_tokens(&self, a: &crate::model::Alert) -> Option<TextMap> {
        let names = ["party_name", "listed_name"].map(|k| a.measures.get(k).and_then(|v| v.as_str()).unwrap_or(""));
        if a.kind != "watchlist" && names.iter().all(|n| n.is_empty()) {
            return None;
        }
        let mut tokens = crate::watchlist::explained_name_tokens(&a.explanation);
        tokens.extend(names.iter().flat_map(|n| n.split_whitespace()).map(str::to_string));
        let pairs: BTreeMap<String, String> = tokens
            .into_iter()
            .filter(|t| t.chars().any(char::is_alphabetic) && !self.kept(t))
            .map(|t| {
                let p = self.name(&t);
                (t, p)
            })
            .collect();
        TextMap::new(pairs)
    }

    /// Replacements in free text: every account and name the cases hold, and the listed
    /// names their watch-list alerts matched.
    fn text_map(&self, cases: &[Case]) -> Option<TextMap> {
        let mut pairs: BTreeMap<String, String> = BTreeMap::new();
        for c in cases {
            for tx in &c.transactions {
                for n in [&tx.orig_name, &tx.bene_name].into_iter().flatten() {
                    if !n.trim().is_empty() && !self.kept(n) {
                        pairs.insert(n.clone(), self.name(n));
                    }
                }
            }
            let listed = c.alerts.iter().filter_map(|a| a.measures.get("listed_name")?.as_str());
            for n in listed {
                if !n.trim().is_empty() && !self.kept(n) {
                    pairs.insert(n.to_string(), self.name(n));
                }
            }
        }
        // Accounts win over a name written the same.
        for c in cases {
            let accounts = c
                .accounts
                .iter()
                .chain(c.counterparties.iter().filter(|x| *x != "cash"))
                .chain(c.alerts.iter().map(|a| &a.account))
                .chain(c.alerts.iter().flat_map(|a| &a.linked_accounts))
                .chain(
                    c.transactions
                        .iter()
                        .flat_map(|t| [&t.orig_account, &t.bene_account])
                        .flatten(),
                );
            for a in accounts {
                if !a.trim().is_empty() && !self.kept(a) {
                    pairs.insert(a.clone(), self.account(a));
                }
            }
        }
        TextMap::new(pairs)
    }
}

/// Whole-word replacement of many strings at once.
struct TextMap {
    ac: AhoCorasick,
    from: Vec<String>,
    to: Vec<String>,
}

impl TextMap {
    fn new(pairs: BTreeMap<String, String>) -> Option<TextMap> {
        if pairs.is_empty() {
            return None;
        }
        let (from, to): (Vec<String>, Vec<String>) = pairs.into_iter().unzip();
        let ac = AhoCorasick::new(&from).ok()?;
        Some(TextMap { ac, from, to })
    }

    fn apply(&self, text: &str) -> String {
        let word = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
        let mut hits: Vec<(usize, usize, usize)> = self
            .ac
            .find_overlapping_iter(text)
            .filter(|m| {
                let pat = &self.from[m.pattern().as_usize()];
                let before = text[..m.start()].chars().next_back();
                let after = text[m.end()..].chars().next();
                let first = pat.chars().next();
                let last = pat.chars().next_back();
                !(word(first) && word(before) || word(last) && word(after))
            })
            .map(|m| (m.start(), m.end(), m.pattern().as_usize()))
            .collect();
        if hits.is_empty() {
            return text.to_string();
        }
        hits.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        let mut out = String::with_capacity(text.len() + 16);
        let mut pos = 0;
        for (s, e, p) in hits {
            if s < pos {
                continue;
            }
            out.push_str(&text[pos..s]);
            out.push_str(&self.to[p]);
            pos = e;
        }
        out.push_str(&text[pos..]);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudonyms_are_stable_and_keyed() {
        let r = Redactor::default();
        assert_eq!(r.account("KG01ACC000001"), r.account("KG01ACC000001"));
        assert_ne!(r.account("KG01ACC000001"), r.account("KG01ACC000002"));
        assert!(r.account("X").starts_with("ACCT-") && r.account("X").len() == 17);
        assert!(r.name("Ali").starts_with("NAME-"));
        assert_ne!(Redactor::new("other").account("X"), r.account("X"));
    }

    #[test]
    fn text_is_replaced_on_word_boundaries_longest_first() {
        let mut pairs = BTreeMap::new();
        pairs.insert("A".to_string(), "ACCT-1".to_string());
        pairs.insert("Ali".to_string(), "NAME-1".to_string());
        pairs.insert("Ali Khan".to_string(), "NAME-2".to_string());
        let m = TextMap::new(pairs).unwrap();
        assert_eq!(
            m.apply("Account A: from Ali Khan and Ali, Alibek"),
            "Account ACCT-1: from NAME-2 and NAME-1, Alibek"
        );
        assert_eq!(m.apply("Гульнара"), "Гульнара");
    }
}
