//! goAML STR drafts: one `<report>` per case, in the element order of the goAML 5.0
//! schema's essentials, with the reporting entity and the code lists from a configuration
//! file ([`GoamlConfig`]).
//!
//! Each FIU customises the goAML schema and publishes its own code lists (conduction
//! types for `transmode_code`, funds types, report indicators, country and currency codes):
//! none is built in here. A draft is reviewed, completed and validated against the FIU's XSD
//! before it is filed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Location, Result};
use crate::model::{Case, CaseTxn};
use crate::output::CasesFile;

/// The longest text a free-text element gets (goAML's usual limit for `reason`).
const MAX_TEXT: usize = 4000;

/// A code list entry: one code or several.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Codes {
    /// One code.
    One(String),
    /// Several codes.
    Many(Vec<String>),
}

impl Codes {
    fn list(&self) -> Vec<String> {
        match self {
            Codes::One(s) => vec![s.clone()],
            Codes::Many(v) => v.clone(),
        }
    }
}

/// The person who files the report (`reporting_person`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportingPerson {
    /// Title (`Ms`, `Dr`).
    #[serde(default)]
    pub title: Option<String>,
    /// First name.
    pub first_name: String,
    /// Middle name.
    #[serde(default)]
    pub middle_name: Option<String>,
    /// Last name.
    pub last_name: String,
    /// E-mail.
    #[serde(default)]
    pub email: Option<String>,
    /// Occupation (`AML compliance officer`).
    #[serde(default)]
    pub occupation: Option<String>,
}

/// The reporting entity as the institution of its clients' accounts (the case's accounts).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Institution {
    /// `institution_name`.
    pub name: String,
    /// `swift` (BIC); give this or `code`.
    #[serde(default)]
    pub swift: Option<String>,
    /// `institution_code`, when there is no BIC.
    #[serde(default)]
    pub code: Option<String>,
    /// `personal_account_type` of client accounts, from the FIU's account type list.
    #[serde(default)]
    pub personal_account_type: Option<String>,
    /// `status_code` of client accounts, from the FIU's account status list.
    #[serde(default)]
    pub status_code: Option<String>,
    /// `non_bank_institution` of client accounts: `true` when the entity is not a bank
    /// (a payment or e-money institution, an exchange); `false` by default. Accounts at
    /// other institutions are written with `false`.
    #[serde(default)]
    pub non_bank_institution: bool,
}

/// `report_indicators`: codes by rule id and by typology; `default` when neither gives one.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Indicators {
    /// Rule id → code(s).
    #[serde(default)]
    pub rules: BTreeMap<String, Codes>,
    /// Typology → code(s).
    #[serde(default)]
    pub typologies: BTreeMap<String, Codes>,
    /// Used when no rule or typology of a case has a code.
    #[serde(default)]
    pub default: Option<Codes>,
}

/// The goAML settings of a reporting entity: `--goaml-config FILE` (YAML). See
/// `samples/goaml-config.yaml` for a documented example.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoamlConfig {
    /// Written as `schema_version` when set (`5.0.2`).
    #[serde(default)]
    pub schema_version: Option<String>,
    /// The reporting entity's id at the FIU (an integer, 1 or more).
    pub rentity_id: u64,
    /// Its branch.
    #[serde(default)]
    pub rentity_branch: Option<String>,
    /// `E` (electronic) by default.
    #[serde(default = "default_submission_code")]
    pub submission_code: String,
    /// `STR` by default.
    #[serde(default = "default_report_code")]
    pub report_code: String,
    /// `entity_reference` is this prefix and the case id.
    #[serde(default)]
    pub entity_reference_prefix: String,
    /// ISO 4217 code of the local currency: `amount_local` is in it.
    pub currency_code_local: String,
    /// Base currency → local currency, when they differ and a transaction is in neither.
    #[serde(default)]
    pub base_to_local_rate: Option<f64>,
    /// Who files.
    #[serde(default)]
    pub reporting_person: Option<ReportingPerson>,
    /// The reporting entity as account holder's institution.
    pub institution: Institution,
    /// Written as `action` when set (what the entity did: account restricted, ...).
    #[serde(default)]
    pub action: Option<String>,
    /// `transaction_location` when a transaction records no location country.
    pub transaction_location: String,
    /// Country code for a party whose country the data does not record.
    #[serde(default)]
    pub unknown_country_code: Option<String>,
    /// Channel → `transmode_code` (`default` for any other channel).
    pub transmode_codes: BTreeMap<String, String>,
    /// Channel → `from_funds_code` (`default` for any other channel).
    pub from_funds_codes: BTreeMap<String, String>,
    /// Channel → `to_funds_code` (`default` for any other channel).
    pub to_funds_codes: BTreeMap<String, String>,
    /// `report_indicators`.
    pub report_indicators: Indicators,
    /// The file it was read from.
    #[serde(skip)]
    pub source: PathBuf,
}

fn default_submission_code() -> String {
    "E".into()
}
fn default_report_code() -> String {
    "STR".into()
}

impl GoamlConfig {
    /// Reads and checks a configuration file.
    pub fn load(path: &Path) -> Result<GoamlConfig> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            action: "reading the goAML configuration",
            source,
        })?;
        GoamlConfig::from_yaml(&text, path)
    }

    /// Parses and checks a configuration; `path` names it in errors.
    pub fn from_yaml(text: &str, path: &Path) -> Result<GoamlConfig> {
        let at = |line: usize, column: usize| Location {
            file: path.to_path_buf(),
            line,
            column,
        };
        let mut cfg: GoamlConfig = serde_yaml_ng::from_str(text).map_err(|e| {
            let (l, c) = e.location().map(|l| (l.line(), l.column())).unwrap_or((0, 0));
            Error::GoamlConfig {
                location: at(l, c),
                message: e.to_string(),
            }
        })?;
        cfg.source = path.to_path_buf();
        let fail = |field: &str, message: &str| Error::GoamlConfig {
            location: at(line_of(text, field), 0),
            message: format!("`{field}`: {message}"),
        };
        if cfg.rentity_id == 0 {
            return Err(fail("rentity_id", "must be 1 or more"));
        }
        if cfg.currency_code_local.len() != 3 || !cfg.currency_code_local.chars().all(|c| c.is_ascii_uppercase()) {
            return Err(fail("currency_code_local", "give an ISO 4217 code such as KGS or USD"));
        }
        if cfg.institution.name.trim().is_empty() {
            return Err(fail("institution", "`name` must not be empty"));
        }
        if cfg.institution.swift.is_none() && cfg.institution.code.is_none() {
            return Err(fail("institution", "give `swift` (BIC) or `code`"));
        }
        if cfg.transaction_location.trim().is_empty() {
            return Err(fail("transaction_location", "must not be empty"));
        }
        if let Some(r) = cfg.base_to_local_rate {
            if !(r.is_finite() && r > 0.0) {
                return Err(fail("base_to_local_rate", "must be a positive number"));
            }
        }
        for (field, map) in [
            ("transmode_codes", &cfg.transmode_codes),
            ("from_funds_codes", &cfg.from_funds_codes),
            ("to_funds_codes", &cfg.to_funds_codes),
        ] {
            if map.is_empty() {
                return Err(fail(field, "give a code per channel, and `default` for the others"));
            }
        }
        Ok(cfg)
    }

    fn code(&self, field: &'static str, map: &BTreeMap<String, String>, channel: Option<&str>) -> Result<String> {
        let ch = channel.unwrap_or("");
        map.get(ch)
            .or_else(|| map.get("default"))
            .cloned()
            .ok_or_else(|| Error::GoamlConfig {
                location: Location {
                    file: self.source.clone(),
                    line: 0,
                    column: 0,
                },
                message: format!(
                    "`{field}` has no code for channel `{ch}` and no `default`; known: {}",
                    map.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            })
    }

    fn error(&self, message: String) -> Error {
        Error::GoamlConfig {
            location: Location {
                file: self.source.clone(),
                line: 0,
                column: 0,
            },
            message,
        }
    }
}

/// The 1-based line where `key:` first starts a line, 0 when absent.
fn line_of(text: &str, key: &str) -> usize {
    text.lines()
        .position(|l| l.trim_start().starts_with(&format!("{key}:")))
        .map(|i| i + 1)
        .unwrap_or(0)
}

/// A small XML writer: elements in the order written, text escaped, two-space indent.
struct Xml {
    s: String,
    stack: Vec<&'static str>,
}

impl Xml {
    fn new() -> Xml {
        Xml {
            s: String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"),
            stack: Vec::new(),
        }
    }
    fn indent(&mut self) {
        for _ in 0..self.stack.len() {
            self.s.push_str("  ");
        }
    }
    fn comment(&mut self, text: &str) {
        self.indent();
        self.s.push_str("<!-- ");
        let mut t: String = text.chars().filter(|c| !c.is_control()).collect();
        while t.contains("--") {
            t = t.replace("--", "- -");
        }
        self.s.push_str(t.trim_end_matches('-'));
        self.s.push_str(" -->\n");
    }
    fn open(&mut self, tag: &'static str) {
        self.indent();
        self.s.push('<');
        self.s.push_str(tag);
        self.s.push_str(">\n");
        self.stack.push(tag);
    }
    fn close(&mut self) {
        if let Some(tag) = self.stack.pop() {
            self.indent();
            self.s.push_str("</");
            self.s.push_str(tag);
            self.s.push_str(">\n");
        }
    }
    fn leaf(&mut self, tag: &str, text: &str) {
        self.indent();
        self.s.push('<');
        self.s.push_str(tag);
        self.s.push('>');
        self.s.push_str(&escape(text));
        self.s.push_str("</");
        self.s.push_str(tag);
        self.s.push_str(">\n");
    }
    fn opt(&mut self, tag: &str, text: Option<&str>) {
        if let Some(t) = text.filter(|t| !t.trim().is_empty()) {
            self.leaf(tag, t);
        }
    }
}

/// Escapes XML element text (`&`, `<`, `>`) and drops the characters XML 1.0 does not
/// allow. (No attribute is written, so quotes stay as they are.)
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => out.push(c),
        }
    }
    out
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(30)).collect();
        t.push_str(" … (see the case report)");
        t
    }
}

fn money(x: f64) -> String {
    format!("{x:.2}")
}

fn rate(x: f64) -> String {
    let s = format!("{x:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

/// `2025-03-11T09:37:54` from a manifest time such as `2025-03-11T09:37:54.123Z`.
fn goaml_date(ts: &str) -> String {
    ts.get(..19).unwrap_or(ts).to_string()
}

fn is_bic(s: &str) -> bool {
    (s.len() == 8 || s.len() == 11)
        && s.chars().all(|c| c.is_ascii_alphanumeric())
        && s[..6].chars().all(|c| c.is_ascii_alphabetic())
}

/// Splits a name as written into first and last name at the last space. goAML wants both;
/// the analyst checks them (name order differs between cultures).
fn split_name(name: &str) -> (String, String) {
    let n = name.trim();
    match n.rsplit_once(char::is_whitespace) {
        Some((first, last)) if !first.trim().is_empty() => (first.trim().to_string(), last.to_string()),
        _ => (n.to_string(), n.to_string()),
    }
}

#[derive(Clone, Copy)]
enum Dir {
    From,
    To,
}

impl Dir {
    fn p(self, s: &str) -> String {
        match self {
            Dir::From => format!("from_{s}"),
            Dir::To => format!("to_{s}"),
        }
    }
}

/// Renders the draft STR of one case.
pub fn goaml_report(cf: &CasesFile, case: &Case, cfg: &GoamlConfig) -> Result<String> {
    let m = &cf.manifest;
    let base = m.pack.base_currency.as_str();
    let own: BTreeSet<&str> = case.accounts.iter().map(String::as_str).collect();
    let mut x = Xml::new();
    x.comment(&format!(
        "Draft goAML STR for case {} (rank {}, score {:.2}, severity {}), from a screening with rule pack {} {}. \
Red flags are indicators for analysis, not proof. Review and complete this draft, then validate it against \
your FIU's goAML schema (XSD) before filing.",
        case.case_id, case.rank, case.score, case.severity, m.pack.id, m.pack.version
    ));
    x.open("report");
    x.opt("schema_version", cfg.schema_version.as_deref());
    x.leaf("rentity_id", &cfg.rentity_id.to_string());
    x.opt("rentity_branch", cfg.rentity_branch.as_deref());
    x.leaf("submission_code", &cfg.submission_code);
    x.leaf("report_code", &cfg.report_code);
    x.leaf(
        "entity_reference",
        &format!("{}{}", cfg.entity_reference_prefix, case.case_id),
    );
    x.leaf("submission_date", &goaml_date(&m.finished_at));
    x.leaf("currency_code_local", &cfg.currency_code_local);
    if let Some(p) = &cfg.reporting_person {
        x.open("reporting_person");
        x.opt("title", p.title.as_deref());
        x.leaf("first_name", &p.first_name);
        x.opt("middle_name", p.middle_name.as_deref());
        x.leaf("last_name", &p.last_name);
        x.opt("email", p.email.as_deref());
        x.opt("occupation", p.occupation.as_deref());
        x.close();
    }
    x.leaf("reason", &clip(&reason(cf, case), MAX_TEXT));
    x.opt("action", cfg.action.as_deref());
    for t in &case.transactions {
        transaction(&mut x, cf, case, t, cfg, &own, base)?;
    }
    x.open("report_indicators");
    for code in indicators(case, cfg)? {
        x.leaf("indicator", &code);
    }
    x.close();
    x.close();
    Ok(x.s)
}

fn reason(cf: &CasesFile, case: &Case) -> String {
    let mut s = case.summary.clone();
    if case.transactions.len() < case.txn_count {
        s.push_str(&format!(
            " This draft lists the first {} of the case's {} transactions, in time order.",
            case.transactions.len(),
            case.txn_count
        ));
    }
    s.push_str("\n\nRed flags:");
    for a in &case.alerts {
        let title = cf.rules.get(&a.rule_id).map(|r| r.title.as_str()).unwrap_or("");
        s.push_str(&format!(
            "\n- {} {} ({}, {} to {}): {}",
            a.rule_id, title, a.severity, a.window_start, a.window_end, a.explanation
        ));
    }
    let refs: Vec<String> = case
        .rule_ids
        .iter()
        .filter_map(|r| cf.rules.get(r).map(|d| (r, d)))
        .filter(|(_, d)| !d.references.is_empty())
        .map(|(r, d)| format!("{r}: {}", d.references.join("; ")))
        .collect();
    if !refs.is_empty() {
        s.push_str("\n\nSources: ");
        s.push_str(&refs.join(". "));
    }
    s
}

fn indicators(case: &Case, cfg: &GoamlConfig) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    let ind = &cfg.report_indicators;
    let lists = case
        .rule_ids
        .iter()
        .filter_map(|r| ind.rules.get(r))
        .chain(case.typologies.iter().filter_map(|t| ind.typologies.get(t)));
    for codes in lists {
        for c in codes.list() {
            if !out.contains(&c) {
                out.push(c);
            }
        }
    }
    if out.is_empty() {
        if let Some(d) = &ind.default {
            out = d.list();
        }
    }
    if out.is_empty() {
        return Err(cfg.error(format!(
            "`report_indicators` gives no code for case {} (rules {}; typologies {}) and has no `default`",
            case.case_id,
            case.rule_ids.join(", "),
            case.typologies.join(", ")
        )));
    }
    Ok(out)
}

fn amount_local(t: &CaseTxn, base: &str, cfg: &GoamlConfig) -> Result<f64> {
    let local = cfg.currency_code_local.as_str();
    if t.currency == local {
        Ok(t.amount)
    } else if base == local {
        Ok(t.amount_base)
    } else if let Some(r) = cfg.base_to_local_rate {
        Ok(t.amount_base * r)
    } else {
        Err(cfg.error(format!(
            "transaction {} is in {} (base currency {base}) and `currency_code_local` is {local}: give `base_to_local_rate`",
            t.txn_id,
            if t.currency.is_empty() { base } else { &t.currency }
        )))
    }
}

/// One `transaction` element: number, place, description, date, mode, local amount, its
/// two parties, and the red flags that name it.
#[allow(clippy::too_many_arguments)]
fn transaction(
    x: &mut Xml,
    cf: &CasesFile,
    case: &Case,
    t: &CaseTxn,
    cfg: &GoamlConfig,
    own: &BTreeSet<&str>,
    base: &str,
) -> Result<()> {
    let channel = t.channel.as_deref();
    let local = amount_local(t, base, cfg)?;
    x.open("transaction");
    x.leaf("transactionnumber", &t.txn_id);
    x.leaf(
        "transaction_location",
        t.loc_country
            .as_deref()
            .filter(|s| !s.is_empty())
            .unwrap_or(&cfg.transaction_location),
    );
    let description = match t.narrative.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(n) => n.to_string(),
        None => format!(
            "{} of {} {}",
            channel.unwrap_or("transaction"),
            crate::util::format::number(t.amount),
            if t.currency.is_empty() { base } else { &t.currency }
        ),
    };
    x.leaf("transaction_description", &clip(&description, MAX_TEXT));
    x.leaf("date_transaction", &t.ts);
    x.leaf(
        "transmode_code",
        &cfg.code("transmode_codes", &cfg.transmode_codes, channel)?,
    );
    x.leaf("transmode_comment", channel.unwrap_or("not recorded"));
    x.leaf("amount_local", &money(local));
    let foreign = (!t.currency.is_empty() && t.currency != cfg.currency_code_local && t.amount > 0.0)
        .then(|| (t.currency.clone(), t.amount, local / t.amount));
    for dir in [Dir::From, Dir::To] {
        party(x, case, t, cfg, own, dir, foreign.as_ref())?;
    }
    let flags: Vec<String> = t
        .rule_ids
        .iter()
        .map(|r| match cf.rules.get(r) {
            Some(d) => format!("{r} ({})", d.title),
            None => r.clone(),
        })
        .collect();
    if !flags.is_empty() {
        x.leaf("comments", &format!("Red flags: {}", flags.join("; ")));
    }
    x.close();
    Ok(())
}

/// One party of a transaction: its side, its account, name, country and bank as recorded
/// (empty values read as absent), and whether the account is one of the case's.
struct Party<'a> {
    dir: Dir,
    acc: Option<&'a str>,
    name: Option<&'a str>,
    country: Option<&'a str>,
    bank: Option<&'a str>,
    mine: bool,
}

/// One side of a transaction (`t_from`, `t_to` or the `_my_client` forms): funds code,
/// the foreign amount when the transaction is not in the local currency, the holder and
/// the country.
fn party(
    x: &mut Xml,
    case: &Case,
    t: &CaseTxn,
    cfg: &GoamlConfig,
    own: &BTreeSet<&str>,
    dir: Dir,
    foreign: Option<&(String, f64, f64)>,
) -> Result<()> {
    let channel = t.channel.as_deref();
    let (acc, name, country, bank, codes, field) = match dir {
        Dir::From => (
            &t.orig_account,
            &t.orig_name,
            &t.orig_country,
            &t.orig_bank,
            &cfg.from_funds_codes,
            "from_funds_codes",
        ),
        Dir::To => (
            &t.bene_account,
            &t.bene_name,
            &t.bene_country,
            &t.bene_bank,
            &cfg.to_funds_codes,
            "to_funds_codes",
        ),
    };
    let acc = acc.as_deref().filter(|s| !s.is_empty());
    let p = Party {
        dir,
        acc,
        name: name.as_deref().filter(|s| !s.is_empty()),
        country: country.as_deref().filter(|s| !s.is_empty()),
        bank: bank.as_deref().filter(|s| !s.is_empty()),
        mine: acc.is_some_and(|a| own.contains(a)),
    };
    x.open(match (dir, p.mine) {
        (Dir::From, true) => "t_from_my_client",
        (Dir::From, false) => "t_from",
        (Dir::To, true) => "t_to_my_client",
        (Dir::To, false) => "t_to",
    });
    x.leaf(&dir.p("funds_code"), &cfg.code(field, codes, channel)?);
    if let Some((cur, amt, r)) = foreign {
        x.open(match dir {
            Dir::From => "from_foreign_currency",
            Dir::To => "to_foreign_currency",
        });
        x.leaf("foreign_currency_code", cur);
        x.leaf("foreign_amount", &money(*amt));
        x.leaf("foreign_exchange_rate", &rate(*r));
        x.close();
    }
    party_holder(x, t, cfg, &p);
    let c = party_country(case, t, cfg, &p)?;
    x.leaf(&dir.p("country"), &c);
    x.close();
    Ok(())
}

/// The party's holder: its account (with the institution: ours when the account is one of
/// the case's, else the recorded bank), else a person by name, else an unrecorded entity.
fn party_holder(x: &mut Xml, t: &CaseTxn, cfg: &GoamlConfig, p: &Party) {
    let (dir, mine) = (p.dir, p.mine);
    match (p.acc, p.name) {
        (Some(a), name) => {
            x.open(match dir {
                Dir::From => "from_account",
                Dir::To => "to_account",
            });
            // t_account: institution_name, institution_code or swift, non_bank_institution
            // (mandatory), then the account.
            if mine {
                x.leaf("institution_name", &cfg.institution.name);
                match (&cfg.institution.swift, &cfg.institution.code) {
                    (Some(s), _) => x.leaf("swift", s),
                    (None, Some(c)) => x.leaf("institution_code", c),
                    (None, None) => x.leaf("institution_code", "not recorded"),
                }
                let non_bank = if cfg.institution.non_bank_institution {
                    "true"
                } else {
                    "false"
                };
                x.leaf("non_bank_institution", non_bank);
            } else {
                let b = p.bank;
                x.leaf("institution_name", b.unwrap_or("not recorded"));
                match b {
                    Some(b) if is_bic(b) => x.leaf("swift", b),
                    Some(b) => x.leaf("institution_code", b),
                    None => x.leaf("institution_code", "not recorded"),
                }
                x.leaf("non_bank_institution", "false");
            }
            x.leaf("account", a);
            x.opt("account_name", name);
            if mine {
                x.opt(
                    "personal_account_type",
                    cfg.institution.personal_account_type.as_deref(),
                );
                x.opt("status_code", cfg.institution.status_code.as_deref());
            }
            x.close();
        }
        (None, Some(n)) => {
            let (first, last) = split_name(n);
            x.open(match dir {
                Dir::From => "from_person",
                Dir::To => "to_person",
            });
            x.leaf("first_name", &first);
            x.leaf("last_name", &last);
            x.close();
        }
        (None, None) => {
            x.open(match dir {
                Dir::From => "from_entity",
                Dir::To => "to_entity",
            });
            x.leaf(
                "name",
                if super::is_cash(&t.channel) {
                    "not recorded (cash)"
                } else {
                    "not recorded"
                },
            );
            x.close();
        }
    }
}

/// The party's country: as recorded; for cash without an account, where the transaction
/// took place; else `unknown_country_code`; an error when none of these is given.
fn party_country(case: &Case, t: &CaseTxn, cfg: &GoamlConfig, p: &Party) -> Result<String> {
    p.country
        .or_else(|| {
            (p.acc.is_none() && super::is_cash(&t.channel))
                .then_some(t.loc_country.as_deref())
                .flatten()
                .filter(|s| !s.is_empty())
        })
        .map(str::to_string)
        .or_else(|| cfg.unknown_country_code.clone())
        .ok_or_else(|| {
            cfg.error(format!(
                "transaction {} of case {} records no country for its {} party: give `unknown_country_code`",
                t.txn_id,
                case.case_id,
                match p.dir {
                    Dir::From => "paying",
                    Dir::To => "receiving",
                }
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_text_is_escaped_and_cleaned() {
        assert_eq!(escape("a<b>&\"c'"), "a&lt;b&gt;&amp;\"c'");
        assert_eq!(escape("x\u{1}y\u{b}z\n"), "xyz\n");
        assert_eq!(escape("Гульнара"), "Гульнара");
    }

    #[test]
    fn names_split_at_the_last_space() {
        assert_eq!(split_name("Талант Петров"), ("Талант".into(), "Петров".into()));
        assert_eq!(split_name("Ali"), ("Ali".into(), "Ali".into()));
        assert_eq!(split_name("Anna Maria  Smith"), ("Anna Maria".into(), "Smith".into()));
    }

    #[test]
    fn bics_are_recognised() {
        assert!(is_bic("ISKLKG22"));
        assert!(is_bic("DEUTDEFF500"));
        assert!(!is_bic("BANK-1"));
        assert!(!is_bic("12345678"));
    }

    #[test]
    fn config_errors_name_the_field_and_line() {
        let text = "rentity_id: 0\ncurrency_code_local: KGS\ninstitution: {name: X, swift: XXXXKG22}\ntransaction_location: B\ntransmode_codes: {default: A}\nfrom_funds_codes: {default: A}\nto_funds_codes: {default: A}\nreport_indicators: {default: X}\n";
        let e = GoamlConfig::from_yaml(text, Path::new("g.yaml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("g.yaml:1") && e.contains("rentity_id"), "{e}");
        let e = GoamlConfig::from_yaml("rentity_id: 1\nbogus: 2\n", Path::new("g.yaml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("bogus"), "{e}");
        let ok = text.replace("rentity_id: 0", "rentity_id: 7");
        assert_eq!(GoamlConfig::from_yaml(&ok, Path::new("g.yaml")).unwrap().rentity_id, 7);
    }
}
