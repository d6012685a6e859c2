//! `report.html`: one self-contained file (inline CSS, JavaScript and SVG; no network).
//!
//! The run and the overview are static HTML, printable and readable without JavaScript.
//! The case list is data (`rf-list`) that the page's script sorts, filters (severity,
//! typology, rule, text) and draws a page of 100 at a time, so that ten thousand cases open
//! as fast as a hundred. Each case's evidence (its transactions and alerts, one JSON line a
//! case in `rf-evidence`) comes last in the file: the list is drawn while the browser is
//! still reading it. Opening a case draws its explanations, a timeline and a money-flow
//! diagram as SVG, its transaction table and its sources; the text filter searches the
//! evidence too.
//!
//! In the address, `#CASE_ID` (or `#case=CASE_ID`) shows that case alone, opened;
//! `#selftest` makes the page check its sorting, filtering and drawing and write the
//! outcome into `<pre id="selftest">` (the browser test reads it). Before printing, the
//! listed cases (up to 300) are drawn in full.

use std::fmt::Write;

use serde_json::json;

use super::{names_of, Overview, DISCLAIMER, SEVERITIES};
use crate::model::Case;
use crate::model::Severity;
use crate::output::CasesFile;
use crate::util::format::number;

const CSS: &str = include_str!("report.css");
const JS: &str = include_str!("report.js");

/// HTML text: `& < > " '` escaped.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

/// JSON that is safe inside a `<script>` element.
fn script_json(v: &serde_json::Value) -> String {
    v.to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

fn sev_rank(s: Severity) -> u8 {
    match s {
        Severity::Low => 1,
        Severity::Medium => 2,
        Severity::High => 3,
        Severity::Critical => 4,
    }
}

fn sev_chip(s: Severity) -> String {
    format!("<span class=\"sev sev-{0}\">{0}</span>", s.as_str())
}

/// Renders `report.html`.
pub fn html(cf: &CasesFile) -> String {
    let ov = Overview::of(&cf.cases);
    let mut o = String::with_capacity(4096 + cf.cases.len() * 3000);
    head(&mut o, cf);
    run_facts(&mut o, cf, &ov);
    run_inputs(&mut o, cf);
    rules_not_run_in_full(&mut o, cf);
    params_in_force(&mut o, cf);
    overview(&mut o, cf, &ov);
    cases_heading_and_filters(&mut o, cf, &ov);
    case_table(&mut o, cf);
    footer(&mut o, cf);
    page_data(&mut o, cf);
    o
}

/// The document's head (title, styles) and the page header: title, disclaimer, and the
/// note on pseudonyms when the run was redacted.
fn head(o: &mut String, cf: &CasesFile) {
    let m = &cf.manifest;
    let title = format!(
        "redflag report: {} {}, {} case{}",
        m.pack.id,
        m.pack.version,
        number(cf.cases.len() as f64),
        if cf.cases.len() == 1 { "" } else { "s" }
    );
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n\
<meta name=\"generator\" content=\"redflag {}\">\n<title>{}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n",
        esc(&m.tool_version),
        esc(&title)
    );
    let _ = writeln!(o, "<a class=\"skip\" href=\"#cases\">Skip to the cases</a>");
    let _ = writeln!(o, "<header>\n<h1>{}</h1>", esc(&title));
    let _ = writeln!(
        o,
        "<p class=\"disclaimer\" role=\"note\"><strong>{}</strong></p>",
        esc(DISCLAIMER)
    );
    if m.redacted {
        let _ = writeln!(
            o,
            "<p class=\"redacted\" role=\"note\">Account numbers and party names are pseudonyms (<code>ACCT-…</code>, <code>NAME-…</code>): the same account or name has the same pseudonym throughout.</p>"
        );
    }
    let _ = writeln!(o, "</header>\n<main>");
}

/// The run section's heading and its table of facts: tool, pack, base currency, mapping,
/// FX rates, rows, rules and cases.
fn run_facts(o: &mut String, cf: &CasesFile, ov: &Overview) {
    let m = &cf.manifest;
    let base = &m.pack.base_currency;
    // The run.
    let _ = writeln!(
        o,
        "<section id=\"run\" aria-labelledby=\"h-run\">\n<h2 id=\"h-run\">The run</h2>\n<table class=\"facts\">"
    );
    let fact = |o: &mut String, k: &str, v: String| {
        let _ = writeln!(o, "<tr><th scope=\"row\">{k}</th><td>{v}</td></tr>");
    };
    fact(o, "Tool", esc(&format!("{} {}", m.tool, m.tool_version)));
    fact(
        o,
        "Rule pack",
        format!(
            "{} {} (<code>{}</code>, sha256 <code>{}</code>)",
            esc(&m.pack.id),
            esc(&m.pack.version),
            esc(&m.pack.source),
            esc(m.pack.sha256.get(..12).unwrap_or(&m.pack.sha256))
        ),
    );
    fact(o, "Base currency", esc(base));
    fact(o, "Mapping", esc(&m.mapping));
    if let Some((p, h)) = &m.fx {
        fact(
            o,
            "FX rates",
            format!("{} (sha256 <code>{}</code>)", esc(p), esc(h.get(..12).unwrap_or(h))),
        );
    }
    fact(
        o,
        "Rows",
        format!(
            "{} read, {} screened, {} quarantined",
            number(m.rows_read as f64),
            number(m.rows_screened as f64),
            number(m.rows_quarantined as f64)
        ),
    );
    fact(
        o,
        "Rules",
        format!(
            "{} run, {} not applicable, {} partial",
            m.rules_run.len(),
            m.rules_not_applicable.len(),
            m.rules_partial.len()
        ),
    );
    fact(
        o,
        "Cases",
        format!(
            "{} with {} alerts{}",
            number(cf.cases.len() as f64),
            number(ov.alerts as f64),
            if m.min_score > 0.0 {
                format!("; cases scoring under {} left out", number(m.min_score))
            } else {
                String::new()
            }
        ),
    );
    let _ = writeln!(o, "</table>");
}

/// The inputs table, and the pointer to `quarantine.csv` when rows were quarantined.
fn run_inputs(o: &mut String, cf: &CasesFile) {
    let m = &cf.manifest;
    let _ = writeln!(
        o,
        "<h3>Inputs</h3>\n<table class=\"grid\"><thead><tr><th scope=\"col\">file</th><th scope=\"col\">format</th><th scope=\"col\" class=\"n\">rows read</th><th scope=\"col\" class=\"n\">screened</th><th scope=\"col\" class=\"n\">quarantined</th><th scope=\"col\">sha256</th></tr></thead><tbody>"
    );
    for i in &m.inputs {
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td><code>{}</code></td></tr>",
            esc(&i.path),
            esc(&format!("{:?}", i.format).to_lowercase()),
            number(i.rows_read as f64),
            number(i.rows_screened as f64),
            number(i.rows_quarantined as f64),
            esc(i.sha256.get(..12).unwrap_or(&i.sha256))
        );
    }
    let _ = writeln!(o, "</tbody></table>");
    if m.rows_quarantined > 0 {
        let _ = writeln!(
            o,
            "<p>Rows that could not be screened are listed with their reasons in <code>quarantine.csv</code>.</p>"
        );
    }
}

/// The rules that did not run (missing columns) and those run without some optional
/// columns.
fn rules_not_run_in_full(o: &mut String, cf: &CasesFile) {
    let m = &cf.manifest;
    let _ = writeln!(o, "<h3>Rules not applicable</h3>");
    if m.rules_not_applicable.is_empty() {
        let _ = writeln!(o, "<p>None: every rule of the pack had the columns it needs.</p>");
    } else {
        let _ = writeln!(
            o,
            "<p>These rules did not run: the data lacks columns they read. Their red flags were not looked for.</p>\n<table class=\"grid\"><thead><tr><th scope=\"col\">rule</th><th scope=\"col\">title</th><th scope=\"col\">missing columns</th></tr></thead><tbody>"
        );
        for na in &m.rules_not_applicable {
            let _ = writeln!(
                o,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&na.rule_id),
                esc(&rule_title(cf, &na.rule_id)),
                esc(&na.missing_columns.join(", "))
            );
        }
        let _ = writeln!(o, "</tbody></table>");
    }
    if m.rules_partial.iter().any(|p| !p.absent_columns.is_empty()) {
        let _ = writeln!(
            o,
            "<h3>Rules run without some optional columns</h3>\n<table class=\"grid\"><thead><tr><th scope=\"col\">rule</th><th scope=\"col\">title</th><th scope=\"col\">absent columns (read as empty)</th></tr></thead><tbody>"
        );
        for p in m.rules_partial.iter().filter(|p| !p.absent_columns.is_empty()) {
            let _ = writeln!(
                o,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&p.rule_id),
                esc(&rule_title(cf, &p.rule_id)),
                esc(&p.absent_columns.join(", "))
            );
        }
        let _ = writeln!(o, "</tbody></table>");
    }
    if m.rules_partial.iter().any(|p| !p.dropped.is_empty()) {
        let _ = writeln!(
            o,
            "<h3>Rules run in part</h3>\n<p>These rules ran without parts that read columns the data lacks; what they look for is narrower.</p>\n<ul>"
        );
        for p in m.rules_partial.iter().filter(|p| !p.dropped.is_empty()) {
            let _ = writeln!(
                o,
                "<li>{} ({}): {}</li>",
                esc(&p.rule_id),
                esc(&rule_title(cf, &p.rule_id)),
                esc(&p.summary())
            );
        }
        let _ = writeln!(o, "</ul>");
    }
}

/// The parameters in force, pack-wide then per rule; closes the run section.
fn params_in_force(o: &mut String, cf: &CasesFile) {
    let m = &cf.manifest;
    let _ = writeln!(
        o,
        "<details class=\"params\"><summary>Parameters in force</summary><ul>"
    );
    for (k, v) in &m.params {
        let _ = writeln!(o, "<li><code>{}</code> = {}</li>", esc(k), esc(&v.display()));
    }
    for (r, p) in m.rule_params.iter().filter(|(_, p)| !p.is_empty()) {
        let _ = writeln!(
            o,
            "<li>{}: {}</li>",
            esc(r),
            p.iter()
                .map(|(k, v)| format!("<code>{}</code> = {}", esc(k), esc(&v.display())))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let _ = writeln!(o, "</ul></details>\n</section>");
}

/// The overview section: cases by severity (chart and table), by typology, and the rules
/// that fired.
fn overview(o: &mut String, cf: &CasesFile, ov: &Overview) {
    // Overview.
    let _ = writeln!(
        o,
        "<section id=\"overview\" aria-labelledby=\"h-overview\">\n<h2 id=\"h-overview\">Overview</h2>\n<div class=\"cols\">\n<div>\n<h3>Cases by severity</h3>"
    );
    o.push_str(&severity_chart(ov));
    let _ = writeln!(
        o,
        "<table class=\"grid\"><thead><tr><th scope=\"col\">severity</th><th scope=\"col\" class=\"n\">cases</th><th scope=\"col\" class=\"n\">alerts</th></tr></thead><tbody>"
    );
    for s in SEVERITIES {
        let (c, a) = ov.by_severity.get(&s).copied().unwrap_or_default();
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td class=\"n\">{c}</td><td class=\"n\">{a}</td></tr>",
            sev_chip(s)
        );
    }
    let _ = writeln!(o, "</tbody></table>\n</div>\n<div>\n<h3>Cases by typology</h3>");
    if ov.by_typology.is_empty() {
        let _ = writeln!(o, "<p>No cases.</p>");
    } else {
        let _ = writeln!(
            o,
            "<table class=\"grid\"><caption>A case counts under each of its typologies.</caption><thead><tr><th scope=\"col\">typology</th><th scope=\"col\" class=\"n\">cases</th><th scope=\"col\" class=\"n\">critical</th><th scope=\"col\" class=\"n\">high</th><th scope=\"col\" class=\"n\">medium</th><th scope=\"col\" class=\"n\">low</th></tr></thead><tbody>"
        );
        for (t, (per, all)) in ov.typologies_ranked() {
            let _ = writeln!(
                o,
                "<tr><td>{}</td><td class=\"n\">{all}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                esc(t),
                per[0],
                per[1],
                per[2],
                per[3]
            );
        }
        let _ = writeln!(o, "</tbody></table>");
    }
    let _ = writeln!(o, "</div>\n</div>\n<h3>Rules that fired</h3>");
    if ov.by_rule.is_empty() {
        let _ = writeln!(o, "<p>None.</p>");
    } else {
        let _ = writeln!(
            o,
            "<table class=\"grid\"><thead><tr><th scope=\"col\">rule</th><th scope=\"col\">title</th><th scope=\"col\">severity</th><th scope=\"col\" class=\"n\">alerts</th><th scope=\"col\" class=\"n\">cases</th></tr></thead><tbody>"
        );
        for (r, (a, c)) in &ov.by_rule {
            let sev = cf.rules.get(r).map(|x| sev_chip(x.severity)).unwrap_or_default();
            let _ = writeln!(
                o,
                "<tr><td>{}</td><td>{}</td><td>{sev}</td><td class=\"n\">{a}</td><td class=\"n\">{c}</td></tr>",
                esc(r),
                esc(&rule_title(cf, r))
            );
        }
        let _ = writeln!(o, "</tbody></table>");
    }
    let _ = writeln!(o, "</section>");
}

/// The cases section's heading and hints, and the filter form (severity, typology, rule,
/// text).
fn cases_heading_and_filters(o: &mut String, cf: &CasesFile, ov: &Overview) {
    // Cases.
    let _ = writeln!(
        o,
        "<section id=\"cases\" aria-labelledby=\"h-cases\">\n<h2 id=\"h-cases\">Cases</h2>"
    );
    if cf.cases.is_empty() {
        let _ = writeln!(o, "<p>No case: no rule fired on these transactions.</p>");
    }
    let _ = writeln!(
        o,
        "<p class=\"hint\">Ranked by score (see the README for how it is computed), then by case id. Open a case for its explanations, timeline, money flow, transactions and sources. Column headings sort the list.</p>"
    );
    let _ = writeln!(
        o,
        "<noscript><p class=\"hint\">The case details need JavaScript; <code>report.md</code> holds them all.</p></noscript>"
    );
    // Filters.
    let _ = writeln!(
        o,
        "<form id=\"filters\" class=\"controls\" role=\"search\" aria-label=\"Filter the cases\">"
    );
    let _ = writeln!(
        o,
        "<label>Severity <select id=\"f-sev\"><option value=\"0\">any</option><option value=\"4\">critical</option><option value=\"3\">high or above</option><option value=\"2\">medium or above</option></select></label>"
    );
    let _ = write!(
        o,
        "<label>Typology <select id=\"f-typ\"><option value=\"\">any</option>"
    );
    for (t, (_, n)) in ov.typologies_ranked() {
        let _ = write!(o, "<option value=\"{0}\">{0} ({n})</option>", esc(t));
    }
    let _ = writeln!(o, "</select></label>");
    let _ = write!(o, "<label>Rule <select id=\"f-rule\"><option value=\"\">any</option>");
    for (r, (_, c)) in &ov.by_rule {
        let t = rule_title(cf, r);
        let _ = write!(
            o,
            "<option value=\"{}\">{}{} ({c})</option>",
            esc(r),
            esc(r),
            if t.is_empty() {
                String::new()
            } else {
                format!(": {}", esc(&trunc(&t, 48)))
            }
        );
    }
    let _ = writeln!(o, "</select></label>");
    let _ = writeln!(
        o,
        "<label>Text <input id=\"f-text\" type=\"search\" placeholder=\"account, name, narrative…\" autocomplete=\"off\"></label>\n\
<button type=\"button\" id=\"f-reset\">Reset</button>\n\
<button type=\"button\" id=\"open-all\">Open shown</button>\n\
<button type=\"button\" id=\"close-all\">Close all</button>\n\
<output id=\"f-count\" aria-live=\"polite\">{} of {} cases</output>\n</form>",
        cf.cases.len(),
        cf.cases.len()
    );
}

/// The case table's head (the rows are drawn by the page's script from `rf-list`, a page
/// at a time) and the "show more" buttons; closes the cases section and `main`.
fn case_table(o: &mut String, cf: &CasesFile) {
    let m = &cf.manifest;
    let base = &m.pack.base_currency;
    // The list: drawn by the page's script from `rf-list`, a page at a time.
    let _ = writeln!(
        o,
        "<table id=\"case-table\" class=\"cases\" data-base=\"{}\"><caption class=\"vh\">Cases, ranked</caption>\n<thead><tr>",
        esc(base)
    );
    for (key, label, class, sorted) in [
        ("rank", "Rank", "n", true),
        ("case", "Case", "", false),
        ("score", "Score", "n", false),
        ("sev", "Severity", "", false),
        ("acc", "Accounts", "", false),
        ("", "Typologies", "", false),
        ("", "Rules", "", false),
        ("txns", "Txns", "n", false),
        ("total", &format!("Total {}", esc(base)), "n", false),
        ("first", "Period", "", false),
    ] {
        if key.is_empty() {
            let _ = write!(o, "<th scope=\"col\">{label}</th>");
        } else {
            let _ = write!(
                o,
                "<th scope=\"col\" class=\"{class}\"{}><button type=\"button\" data-key=\"{key}\">{label}</button></th>",
                if sorted { " aria-sort=\"ascending\"" } else { "" }
            );
        }
    }
    let _ = writeln!(o, "</tr></thead>\n</table>");
    let _ = writeln!(
        o,
        "<p class=\"more\"><button type=\"button\" id=\"more\" hidden>Show more</button> <button type=\"button\" id=\"all\" hidden>Show all</button></p>\n</section>\n</main>"
    );
}

/// The page footer: tool and pack.
fn footer(o: &mut String, cf: &CasesFile) {
    let m = &cf.manifest;
    let _ = writeln!(
        o,
        "<footer><p>{} {}; rule pack {} {}. Red flags are indicators for analysis, not proof.</p></footer>",
        esc(&m.tool),
        esc(&m.tool_version),
        esc(&m.pack.id),
        esc(&m.pack.version)
    );
}

/// The data for the page's script: the rules and the case list, the script itself, then
/// each case's evidence, one line a case; closes the document.
fn page_data(o: &mut String, cf: &CasesFile) {
    // Rules and the list, then the script, then each case's evidence: the list is drawn
    // while the evidence is still being read.
    let rules: serde_json::Map<String, serde_json::Value> = cf
        .rules
        .iter()
        .map(|(id, r)| {
            (
                id.clone(),
                json!([r.title, r.severity.as_str(), r.references, r.description]),
            )
        })
        .collect();
    let _ = writeln!(
        o,
        "<script type=\"application/json\" id=\"rf-rules\">{}</script>",
        script_json(&serde_json::Value::Object(rules))
    );
    let list: Vec<serde_json::Value> = cf.cases.iter().map(list_json).collect();
    let _ = writeln!(
        o,
        "<script type=\"application/json\" id=\"rf-list\">{}</script>",
        script_json(&serde_json::Value::Array(list))
    );
    let _ = writeln!(o, "<pre id=\"selftest\" hidden></pre>\n<script>\n{JS}</script>");
    // One line a case, in list order: `CASE_ID<tab>JSON`.
    o.push_str("<script type=\"text/plain\" id=\"rf-evidence\">");
    for (i, c) in cf.cases.iter().enumerate() {
        if i > 0 {
            o.push('\n');
        }
        o.push_str(&c.case_id.replace(['\t', '\n', '<'], " "));
        o.push('\t');
        o.push_str(&script_json(&case_json(c)));
    }
    o.push_str("</script>\n</body>\n</html>\n");
}

fn rule_title(cf: &CasesFile, id: &str) -> String {
    cf.rules.get(id).map(|r| r.title.clone()).unwrap_or_default()
}

pub(crate) fn trunc(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// A case's line in the list: id, rank, score, severity (1 to 4), accounts, the first
/// account's name, typologies, rules, transactions, total, first and last time.
fn list_json(c: &Case) -> serde_json::Value {
    let names = names_of(c);
    let name = c
        .accounts
        .first()
        .and_then(|a| names.get(a))
        .and_then(|n| n.first())
        .cloned()
        .unwrap_or_default();
    json!([
        c.case_id,
        c.rank,
        c.score,
        sev_rank(c.severity),
        c.accounts.join(" "),
        name,
        c.typologies.join(" "),
        c.rule_ids.join(" "),
        c.txn_count,
        c.total_amount_base,
        c.first_ts,
        c.last_ts
    ])
}

/// A case's evidence for the page's script: compact arrays, empty strings for absent values.
fn case_json(c: &Case) -> serde_json::Value {
    let s = |v: &Option<String>| v.clone().unwrap_or_default();
    let tx: Vec<serde_json::Value> = c
        .transactions
        .iter()
        .map(|t| {
            json!([
                t.txn_id,
                t.ts,
                t.amount,
                t.currency,
                t.amount_base,
                s(&t.channel),
                s(&t.orig_account),
                s(&t.bene_account),
                s(&t.orig_name),
                s(&t.bene_name),
                s(&t.orig_country),
                s(&t.bene_country),
                s(&t.loc_country),
                s(&t.narrative),
                t.rule_ids.join(" ")
            ])
        })
        .collect();
    let al: Vec<serde_json::Value> = c
        .alerts
        .iter()
        .map(|a| {
            json!([
                a.rule_id,
                a.severity.as_str(),
                a.side,
                a.window_start,
                a.window_end,
                a.txn_ids.len(),
                a.explanation
            ])
        })
        .collect();
    // With weights, the score's parts follow the summary.
    let summary = match super::score_parts_line(c) {
        Some(line) => format!("{} {line}", c.summary),
        None => c.summary.clone(),
    };
    json!({
        "s": summary,
        "acc": c.accounts,
        "typ": c.typologies,
        "rules": c.rule_ids,
        "ctry": c.countries,
        "first": c.first_ts,
        "last": c.last_ts,
        "n": c.txn_count,
        "total": c.total_amount_base,
        "tx": tx,
        "al": al,
    })
}

/// Horizontal bars of cases per severity, drawn as SVG.
fn severity_chart(ov: &Overview) -> String {
    let max = ov.by_severity.values().map(|v| v.0).max().unwrap_or(0).max(1) as f64;
    let (w, row, label) = (360.0, 26.0, 80.0);
    let h = row * 4.0 + 8.0;
    let mut s = String::new();
    let desc: Vec<String> = SEVERITIES
        .iter()
        .map(|sv| format!("{} {}", ov.by_severity.get(sv).map(|v| v.0).unwrap_or(0), sv.as_str()))
        .collect();
    let _ = write!(
        s,
        "<svg class=\"chart\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" aria-label=\"Cases by severity: {}\">",
        desc.join(", ")
    );
    for (i, sv) in SEVERITIES.iter().enumerate() {
        let n = ov.by_severity.get(sv).map(|v| v.0).unwrap_or(0);
        let y = 4.0 + i as f64 * row;
        let bw = ((w - label - 60.0) * n as f64 / max).max(if n > 0 { 2.0 } else { 0.0 });
        let _ = write!(
            s,
            "<text x=\"{:.0}\" y=\"{:.0}\" text-anchor=\"end\">{}</text><rect class=\"bar-{}\" x=\"{label}\" y=\"{:.0}\" width=\"{bw:.1}\" height=\"{:.0}\" rx=\"3\"></rect><text x=\"{:.1}\" y=\"{:.0}\">{n}</text>",
            label - 8.0,
            y + row * 0.62,
            sv.as_str(),
            sv.as_str(),
            y + 3.0,
            row - 8.0,
            label + bw + 6.0,
            y + row * 0.62,
        );
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_and_script_text_are_escaped() {
        assert_eq!(esc("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
        let v = json!({"n": "</script><!-- & x"});
        let s = script_json(&v);
        assert!(!s.contains('<') && !s.contains('>') && !s.contains('&'), "{s}");
        let back: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(back, v);
    }
}
