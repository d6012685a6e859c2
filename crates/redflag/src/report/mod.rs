//! Readable reports rendered from a run's cases: `report.md`, a self-contained
//! `report.html`, goAML STR drafts (`goaml/CASE_ID.xml`), and redaction of account numbers
//! and party names for training material.
//!
//! Everything renders from a [`CasesFile`] alone, so `redflag report --from DIR` renders
//! again from `cases.json` without screening again, and the same `cases.json` gives the same
//! bytes. The reports leave out the run's start and end times; a goAML draft's
//! `submission_date` is the run's end time.
//!
//! ```
//! use redflag::report::{render, ReportOptions};
//! # fn demo(cases: &redflag::CasesFile) -> redflag::Result<()> {
//! let files = render(cases, &ReportOptions { markdown: true, html: true, ..Default::default() })?;
//! for (name, bytes) in &files {
//!     println!("{name}: {} bytes", bytes.len());
//! }
//! # Ok(()) }
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::model::Severity;
use crate::model::{Case, CaseTxn};
use crate::output::CasesFile;

mod clip;
mod goaml;
mod html;
mod markdown;
mod redact;

pub(crate) use clip::{clip_in_place, restore};
pub use clip::{MAX_EXPLANATION, MAX_NAME, MAX_NARRATIVE};
pub use goaml::{goaml_report, GoamlConfig, Indicators, Institution, ReportingPerson};
pub use html::html;
pub use markdown::markdown;
pub use redact::{Redactor, DEFAULT_REDACT_KEY, PLACEHOLDER_LIST};

/// The reminder every report carries.
pub const DISCLAIMER: &str = "Red flags are indicators for analysis, not proof. A case below \
means that transactions match patterns that FATF and supervisors describe as worth a closer \
look; it is not a finding of money laundering, terrorist financing or any other offence. \
Check the transactions, the customer's profile and their explanations before drawing a \
conclusion or filing a report.";

/// Which reports to render.
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    /// `report.md`.
    pub markdown: bool,
    /// `report.html`.
    pub html: bool,
    /// `goaml/CASE_ID.xml` for each case, with this configuration.
    pub goaml: Option<GoamlConfig>,
    /// Leave out cases scoring under this (in every report).
    pub min_score: f64,
}

/// Renders the reports asked for: `(file name relative to the output folder, bytes)`.
pub fn render(cf: &CasesFile, opts: &ReportOptions) -> Result<Vec<(String, Vec<u8>)>> {
    let filtered;
    let cf = if opts.min_score > cf.manifest.min_score {
        let mut c = cf.clone();
        c.cases.retain(|k| k.score >= opts.min_score);
        c.manifest.min_score = opts.min_score;
        filtered = c;
        &filtered
    } else {
        cf
    };
    crate::output::check_case_ids(&cf.cases).map_err(|message| Error::Results {
        path: PathBuf::from("cases.json"),
        message,
    })?;
    // Very long text from the data is clipped in the reports, never in the data outputs.
    let clipped = clip::for_reports(cf);
    let cf: &CasesFile = &clipped;
    let mut files = Vec::new();
    if opts.markdown {
        files.push(("report.md".to_string(), markdown(cf).into_bytes()));
    }
    if opts.html {
        files.push(("report.html".to_string(), html(cf).into_bytes()));
    }
    if let Some(g) = &opts.goaml {
        for case in &cf.cases {
            files.push((
                format!("goaml/{}.xml", case.case_id),
                goaml_report(cf, case, g)?.into_bytes(),
            ));
        }
    }
    Ok(files)
}

/// goAML drafts of an earlier run in `dir` that `files` does not write again: pass them to
/// [`write_files`](crate::write_files) as files to remove, so that a folder never holds a
/// draft for a case the run no longer has.
pub fn stale_goaml(dir: &Path, files: &[(String, Vec<u8>)]) -> Vec<String> {
    let keep: BTreeSet<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    let Ok(rd) = std::fs::read_dir(dir.join("goaml")) else {
        return Vec::new();
    };
    let mut out: Vec<String> = rd
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.strip_suffix(".xml").is_some_and(crate::output::is_case_id))
        .map(|n| format!("goaml/{n}"))
        .filter(|n| !keep.contains(n.as_str()))
        .collect();
    out.sort();
    out
}

const SEVERITIES: [Severity; 4] = [Severity::Critical, Severity::High, Severity::Medium, Severity::Low];

/// Counts over the cases that the Markdown and HTML overviews share.
pub(crate) struct Overview {
    /// severity → (cases, alerts)
    pub by_severity: BTreeMap<Severity, (usize, usize)>,
    /// typology → cases per severity (critical, high, medium, low) and in all
    pub by_typology: BTreeMap<String, ([usize; 4], usize)>,
    /// rule → (alerts, cases)
    pub by_rule: BTreeMap<String, (usize, usize)>,
    pub alerts: usize,
}

impl Overview {
    pub fn of(cases: &[Case]) -> Overview {
        let mut by_severity: BTreeMap<Severity, (usize, usize)> = SEVERITIES.iter().map(|s| (*s, (0, 0))).collect();
        let mut by_typology: BTreeMap<String, ([usize; 4], usize)> = BTreeMap::new();
        let mut by_rule: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        let mut alerts = 0;
        for c in cases {
            let e = by_severity.entry(c.severity).or_default();
            e.0 += 1;
            e.1 += c.alerts.len();
            alerts += c.alerts.len();
            let si = severity_index(c.severity);
            for t in &c.typologies {
                let e = by_typology.entry(t.clone()).or_default();
                e.0[si] += 1;
                e.1 += 1;
            }
            for r in &c.rule_ids {
                by_rule.entry(r.clone()).or_default().1 += 1;
            }
            for a in &c.alerts {
                by_rule.entry(a.rule_id.clone()).or_default().0 += 1;
            }
        }
        Overview {
            by_severity,
            by_typology,
            by_rule,
            alerts,
        }
    }

    /// Typologies by number of cases (most first), then name.
    pub fn typologies_ranked(&self) -> Vec<(&String, &([usize; 4], usize))> {
        let mut v: Vec<_> = self.by_typology.iter().collect();
        v.sort_by(|a, b| b.1 .1.cmp(&a.1 .1).then(a.0.cmp(b.0)));
        v
    }
}

fn severity_index(s: Severity) -> usize {
    match s {
        Severity::Critical => 0,
        Severity::High => 1,
        Severity::Medium => 2,
        Severity::Low => 3,
    }
}

/// The score's parts in one line, when the case was scored with weights: each rule's
/// weight × its part without weights = its contribution, highest first.
pub(crate) fn score_parts_line(case: &Case) -> Option<String> {
    if case.score_parts.is_empty() {
        return None;
    }
    let parts: Vec<String> = case
        .score_parts
        .iter()
        .map(|p| {
            let measures: String = p
                .measures
                .iter()
                .map(|m| {
                    format!(
                        " + {} {} × {} × ln(1 + {})",
                        m.measure,
                        m.weight,
                        crate::util::format::number(p.base),
                        m.value
                    )
                })
                .collect();
            format!(
                "{} {} × {}{measures} = {}",
                p.rule_id,
                p.weight,
                crate::util::format::number(p.base),
                crate::util::format::number(p.contribution)
            )
        })
        .collect();
    Some(format!(
        "Score {} with weights (rule: weight × part without weights = contribution): {}.",
        crate::util::format::number(case.score),
        parts.join("; ")
    ))
}

/// The party names seen for each account in a case's transactions (most frequent first).
pub(crate) fn names_of(case: &Case) -> BTreeMap<String, Vec<String>> {
    let mut counts: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    for t in &case.transactions {
        for (acc, name) in [(&t.orig_account, &t.orig_name), (&t.bene_account, &t.bene_name)] {
            if let (Some(a), Some(n)) = (acc, name) {
                if !a.is_empty() && !n.is_empty() {
                    *counts.entry(a.clone()).or_default().entry(n.clone()).or_default() += 1;
                }
            }
        }
    }
    counts
        .into_iter()
        .map(|(a, m)| {
            let mut v: Vec<(String, usize)> = m.into_iter().collect();
            v.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
            (a, v.into_iter().map(|(n, _)| n).collect())
        })
        .collect()
}

/// How a party of a transaction reads: `name (account)`, the account, the name, or `cash`.
pub(crate) fn party(account: &Option<String>, name: &Option<String>, channel: &Option<String>) -> String {
    let a = account.as_deref().filter(|s| !s.is_empty());
    let n = name.as_deref().filter(|s| !s.is_empty());
    match (n, a) {
        (Some(n), Some(a)) => format!("{n} ({a})"),
        (None, Some(a)) => a.to_string(),
        (Some(n), None) if is_cash(channel) => format!("{n} (cash)"),
        (Some(n), None) => n.to_string(),
        (None, None) if is_cash(channel) => "cash".to_string(),
        (None, None) => "not recorded".to_string(),
    }
}

pub(crate) fn is_cash(channel: &Option<String>) -> bool {
    matches!(channel.as_deref(), Some("cash_in" | "cash_out" | "atm"))
}

/// Counterparties of a case with the money that went each way, largest total first:
/// `(label, into the case's accounts, out of them, transactions)`.
pub(crate) fn counterparty_flows(case: &Case) -> Vec<(String, f64, f64, usize)> {
    let own: BTreeSet<&str> = case.accounts.iter().map(String::as_str).collect();
    let mut m: BTreeMap<String, (f64, f64, usize)> = BTreeMap::new();
    for t in &case.transactions {
        let o_own = t.orig_account.as_deref().is_some_and(|a| own.contains(a));
        let b_own = t.bene_account.as_deref().is_some_and(|a| own.contains(a));
        if o_own && b_own {
            continue;
        }
        let (label, inflow) = if b_own {
            (party(&t.orig_account, &t.orig_name, &t.channel), true)
        } else {
            (party(&t.bene_account, &t.bene_name, &t.channel), false)
        };
        let e = m.entry(label).or_default();
        if inflow {
            e.0 += t.amount_base;
        } else {
            e.1 += t.amount_base;
        }
        e.2 += 1;
    }
    let mut v: Vec<(String, f64, f64, usize)> = m.into_iter().map(|(k, (i, o, n))| (k, i, o, n)).collect();
    v.sort_by(|a, b| (b.1 + b.2).total_cmp(&(a.1 + a.2)).then(a.0.cmp(&b.0)));
    v
}

/// The countries of a transaction, `from → to` and where it took place.
pub(crate) fn countries_of(t: &CaseTxn) -> String {
    let o = t.orig_country.as_deref().unwrap_or("");
    let b = t.bene_country.as_deref().unwrap_or("");
    let mut s = match (o.is_empty(), b.is_empty()) {
        (true, true) => String::new(),
        (false, true) => format!("{o} →"),
        (true, false) => format!("→ {b}"),
        (false, false) => format!("{o} → {b}"),
    };
    if let Some(l) = t.loc_country.as_deref().filter(|s| !s.is_empty()) {
        if !s.is_empty() {
            s.push(' ');
        }
        s.push_str(&format!("(at {l})"));
    }
    s
}

/// `2025-03-11T09:37:54` as `2025-03-11 09:37`.
pub(crate) fn short_ts(ts: &str) -> String {
    let t = ts.replacen('T', " ", 1);
    if t.len() >= 16 {
        t[..16].to_string()
    } else {
        t
    }
}

/// Amount with its currency, and the base amount when the currency differs.
pub(crate) fn amount_text(t: &CaseTxn, base: &str) -> String {
    let cur = if t.currency.is_empty() { base } else { &t.currency };
    crate::util::format::number(t.amount) + " " + cur
}
