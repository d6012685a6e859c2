//! `report.md`: the run, an overview, then each case in rank order.

use std::fmt::Write;

use super::{
    amount_text, counterparty_flows, countries_of, names_of, party, short_ts, Overview, DISCLAIMER, SEVERITIES,
};
use crate::model::Case;
use crate::output::CasesFile;
use crate::util::format::number;

/// How many counterparties a case lists before "and N more".
const MAX_COUNTERPARTIES: usize = 15;

/// Text for a Markdown line or table cell: characters that mean something to Markdown are
/// escaped, line breaks become spaces, and `|` cannot end a table cell.
pub fn md(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len() + 8);
    for (i, &c) in chars.iter().enumerate() {
        let prev = i.checked_sub(1).map(|j| chars[j]);
        let next = chars.get(i + 1).copied();
        match c {
            '\\' | '`' | '*' | '[' | ']' | '<' | '>' | '|' | '~' => {
                out.push('\\');
                out.push(c);
            }
            // Inside a word (`cash_in`) an underscore is no emphasis.
            '_' if prev.is_some_and(char::is_alphanumeric) && next.is_some_and(char::is_alphanumeric) => out.push(c),
            '_' => out.push_str("\\_"),
            // `&copy;` or `&#169;` would become a character.
            '&' if looks_like_entity(&chars[i + 1..]) => out.push_str("\\&"),
            '#' if i == 0 => out.push_str("\\#"),
            '\r' => {}
            '\n' | '\t' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Whether the text after a `&` reads as a character reference (`copy;`, `#169;`).
fn looks_like_entity(rest: &[char]) -> bool {
    let body: Vec<&char> = rest
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || **c == '#')
        .collect();
    !body.is_empty() && body.len() <= 32 && rest.get(body.len()) == Some(&';')
}

/// Renders `report.md`.
pub fn markdown(cf: &CasesFile) -> String {
    let ov = Overview::of(&cf.cases);
    let mut o = String::new();
    header(&mut o, cf);
    run_facts(&mut o, cf, &ov);
    run_inputs(&mut o, cf);
    rules_not_run_in_full(&mut o, cf);
    params_in_force(&mut o, cf);
    overview(&mut o, cf, &ov);
    cases(&mut o, cf);
    o
}

/// The title, the disclaimer, and the note on pseudonyms when the run was redacted.
fn header(o: &mut String, cf: &CasesFile) {
    let m = &cf.manifest;
    let _ = writeln!(o, "# redflag report: {} {}\n", md(&m.pack.id), md(&m.pack.version));
    let _ = writeln!(o, "> **{DISCLAIMER}**\n");
    if m.redacted {
        let _ = writeln!(
            o,
            "Account numbers and party names in this report are pseudonyms (`ACCT-…`, `NAME-…`): the same account or name has the same pseudonym throughout.\n"
        );
    }
}

/// The run section's heading and its table of facts: tool, pack, base currency, mapping,
/// FX rates, rows, rules and cases.
fn run_facts(o: &mut String, cf: &CasesFile, ov: &Overview) {
    let m = &cf.manifest;
    let base = &m.pack.base_currency;
    // The run.
    let _ = writeln!(o, "## The run\n");
    let _ = writeln!(o, "| | |\n|---|---|");
    let _ = writeln!(o, "| Tool | {} {} |", md(&m.tool), md(&m.tool_version));
    let _ = writeln!(
        o,
        "| Rule pack | {} {} (`{}`, sha256 `{}`) |",
        md(&m.pack.id),
        md(&m.pack.version),
        m.pack.source.replace('`', "'"),
        short_hash(&m.pack.sha256)
    );
    let _ = writeln!(o, "| Base currency | {} |", md(base));
    let _ = writeln!(o, "| Mapping | {} |", md(&m.mapping));
    if let Some((p, h)) = &m.fx {
        let _ = writeln!(o, "| FX rates | {} (sha256 `{}`) |", md(p), short_hash(h));
    }
    let _ = writeln!(
        o,
        "| Rows | {} read, {} screened, {} quarantined |",
        number(m.rows_read as f64),
        number(m.rows_screened as f64),
        number(m.rows_quarantined as f64)
    );
    let _ = writeln!(
        o,
        "| Rules | {} run, {} not applicable, {} partial |",
        m.rules_run.len(),
        m.rules_not_applicable.len(),
        m.rules_partial.len()
    );
    let _ = writeln!(
        o,
        "| Cases | {} with {} alerts{} |",
        number(cf.cases.len() as f64),
        number(ov.alerts as f64),
        if m.min_score > 0.0 {
            format!("; cases scoring under {} left out", number(m.min_score))
        } else {
            String::new()
        }
    );
}

/// The inputs table, and the pointer to `quarantine.csv` when rows were quarantined.
fn run_inputs(o: &mut String, cf: &CasesFile) {
    let m = &cf.manifest;
    let _ = writeln!(o, "\n### Inputs\n");
    let _ = writeln!(
        o,
        "| file | format | rows read | screened | quarantined | sha256 |\n|---|---|--:|--:|--:|---|"
    );
    for i in &m.inputs {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | `{}` |",
            md(&i.path),
            md(&format!("{:?}", i.format).to_lowercase()),
            number(i.rows_read as f64),
            number(i.rows_screened as f64),
            number(i.rows_quarantined as f64),
            short_hash(&i.sha256)
        );
    }
    if m.rows_quarantined > 0 {
        let _ = writeln!(
            o,
            "\nRows that could not be screened are listed with their reasons in `quarantine.csv`."
        );
    }
}

/// The rules that did not run (missing columns) and those run without some optional
/// columns.
fn rules_not_run_in_full(o: &mut String, cf: &CasesFile) {
    let m = &cf.manifest;
    let _ = writeln!(o, "\n### Rules not applicable\n");
    if m.rules_not_applicable.is_empty() {
        let _ = writeln!(o, "None: every rule of the pack had the columns it needs.");
    } else {
        let _ = writeln!(
            o,
            "These rules did not run: the data lacks columns they read. Their red flags were not looked for.\n"
        );
        let _ = writeln!(o, "| rule | title | missing columns |\n|---|---|---|");
        for na in &m.rules_not_applicable {
            let _ = writeln!(
                o,
                "| {} | {} | {} |",
                md(&na.rule_id),
                md(&rule_title(cf, &na.rule_id)),
                md(&na.missing_columns.join(", "))
            );
        }
    }
    if m.rules_partial.iter().any(|p| !p.absent_columns.is_empty()) {
        let _ = writeln!(o, "\n### Rules run without some optional columns\n");
        let _ = writeln!(o, "| rule | title | absent columns (read as empty) |\n|---|---|---|");
        for p in m.rules_partial.iter().filter(|p| !p.absent_columns.is_empty()) {
            let _ = writeln!(
                o,
                "| {} | {} | {} |",
                md(&p.rule_id),
                md(&rule_title(cf, &p.rule_id)),
                md(&p.absent_columns.join(", "))
            );
        }
    }
    if m.rules_partial.iter().any(|p| !p.dropped.is_empty()) {
        let _ = writeln!(o, "\n### Rules run in part\n");
        let _ = writeln!(
            o,
            "These rules ran without parts that read columns the data lacks; what they look for is narrower.\n"
        );
        for p in m.rules_partial.iter().filter(|p| !p.dropped.is_empty()) {
            let _ = writeln!(
                o,
                "- {} ({}): {}",
                md(&p.rule_id),
                md(&rule_title(cf, &p.rule_id)),
                md(&p.summary())
            );
        }
    }
}

/// The parameters in force: pack-wide, then rule-level.
fn params_in_force(o: &mut String, cf: &CasesFile) {
    let m = &cf.manifest;
    let _ = writeln!(o, "\n### Parameters in force\n");
    let params: Vec<String> = m
        .params
        .iter()
        .map(|(k, v)| format!("`{k}` = {}", md(&v.display())))
        .collect();
    let _ = writeln!(
        o,
        "Pack-wide: {}.",
        if params.is_empty() {
            "none".to_string()
        } else {
            params.join(", ")
        }
    );
    let own: Vec<String> = m
        .rule_params
        .iter()
        .filter(|(_, p)| !p.is_empty())
        .map(|(r, p)| {
            format!(
                "{}: {}",
                md(r),
                p.iter()
                    .map(|(k, v)| format!("`{k}` = {}", md(&v.display())))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
        .collect();
    if !own.is_empty() {
        let _ = writeln!(o, "Rule-level: {}.", own.join("; "));
    }
}

/// The overview: cases by severity, by typology, and the rules that fired.
fn overview(o: &mut String, cf: &CasesFile, ov: &Overview) {
    // Overview.
    let _ = writeln!(o, "\n## Overview\n");
    let _ = writeln!(o, "### Cases by severity\n");
    let _ = writeln!(o, "| severity | cases | alerts |\n|---|--:|--:|");
    for s in SEVERITIES {
        let (c, a) = ov.by_severity.get(&s).copied().unwrap_or_default();
        let _ = writeln!(o, "| {s} | {c} | {a} |");
    }
    let _ = writeln!(o, "\n### Cases by typology\n");
    if ov.by_typology.is_empty() {
        let _ = writeln!(o, "No cases.");
    } else {
        let _ = writeln!(
            o,
            "A case counts under each of its typologies.\n\n| typology | cases | critical | high | medium | low |\n|---|--:|--:|--:|--:|--:|"
        );
        for (t, (per, all)) in ov.typologies_ranked() {
            let _ = writeln!(
                o,
                "| {} | {all} | {} | {} | {} | {} |",
                md(t),
                per[0],
                per[1],
                per[2],
                per[3]
            );
        }
    }
    let _ = writeln!(o, "\n### Rules that fired\n");
    if ov.by_rule.is_empty() {
        let _ = writeln!(o, "None.");
    } else {
        let _ = writeln!(o, "| rule | title | severity | alerts | cases |\n|---|---|---|--:|--:|");
        for (r, (a, c)) in &ov.by_rule {
            let sev = cf.rules.get(r).map(|x| x.severity.as_str()).unwrap_or("");
            let _ = writeln!(o, "| {} | {} | {sev} | {a} | {c} |", md(r), md(&rule_title(cf, r)));
        }
    }
}

/// The cases: the ranked table, then one section a case.
fn cases(o: &mut String, cf: &CasesFile) {
    // Cases.
    let _ = writeln!(o, "\n## Cases\n");
    if cf.cases.is_empty() {
        let _ = writeln!(o, "No case: no rule fired on these transactions.");
        return;
    }
    let _ = writeln!(
        o,
        "In rank order: by score (see the README for how it is computed), then by case id.\n"
    );
    let _ = writeln!(
        o,
        "| rank | case | score | severity | accounts | typologies | rules |\n|--:|---|--:|---|---|---|---|"
    );
    for c in &cf.cases {
        let _ = writeln!(
            o,
            "| {} | [{}](#{}) | {:.2} | {} | {} | {} | {} |",
            c.rank,
            c.case_id,
            c.case_id.to_lowercase(),
            c.score,
            c.severity,
            md(&c.accounts.join(", ")),
            md(&c.typologies.join(", ")),
            md(&c.rule_ids.join(", "))
        );
    }
    for c in &cf.cases {
        case_section(o, cf, c);
    }
}

fn short_hash(h: &str) -> &str {
    h.get(..12).unwrap_or(h)
}

fn rule_title(cf: &CasesFile, id: &str) -> String {
    cf.rules.get(id).map(|r| r.title.clone()).unwrap_or_default()
}

fn case_section(o: &mut String, cf: &CasesFile, c: &Case) {
    let base = &cf.manifest.pack.base_currency;
    let _ = writeln!(
        o,
        "\n### <a id=\"{}\"></a>{}. Case {}: {}, score {:.2}\n",
        c.case_id.to_lowercase(),
        c.rank,
        c.case_id,
        c.severity,
        c.score
    );
    let _ = writeln!(o, "{}\n", md(&c.summary));
    if let Some(line) = super::score_parts_line(c) {
        let _ = writeln!(o, "{}\n", md(&line));
    }
    let names = names_of(c);
    let accounts: Vec<String> = c
        .accounts
        .iter()
        .map(|a| match names.get(a) {
            Some(n) if !n.is_empty() => format!("{} ({})", md(a), md(&n.join("; "))),
            _ => md(a),
        })
        .collect();
    let _ = writeln!(o, "- **Accounts:** {}", accounts.join(", "));
    let _ = writeln!(o, "- **Period:** {} to {}", short_ts(&c.first_ts), short_ts(&c.last_ts));
    let _ = writeln!(
        o,
        "- **Transactions:** {}, totalling {} {}",
        c.txn_count,
        number(c.total_amount_base),
        md(base)
    );
    let _ = writeln!(o, "- **Typologies:** {}", md(&c.typologies.join(", ")));
    if !c.countries.is_empty() {
        let _ = writeln!(o, "- **Countries:** {}", md(&c.countries.join(", ")));
    }
    let flows = counterparty_flows(c);
    if !flows.is_empty() {
        let shown: Vec<String> = flows
            .iter()
            .take(MAX_COUNTERPARTIES)
            .map(|(p, i, out, _)| {
                let mut parts = Vec::new();
                if *i > 0.0 {
                    parts.push(format!("{} in", number(*i)));
                }
                if *out > 0.0 {
                    parts.push(format!("{} out", number(*out)));
                }
                format!("{} ({})", md(p), parts.join(", "))
            })
            .collect();
        let more = if flows.len() > MAX_COUNTERPARTIES {
            format!("; and {} more", flows.len() - MAX_COUNTERPARTIES)
        } else {
            String::new()
        };
        let _ = writeln!(o, "- **Counterparties ({}):** {}{more}", flows.len(), shown.join("; "));
    }

    let _ = writeln!(o, "\n#### Why\n");
    for a in &c.alerts {
        let title = rule_title(cf, &a.rule_id);
        let when = if a.window_start == a.window_end {
            short_ts(&a.window_start)
        } else {
            format!("{} to {}", short_ts(&a.window_start), short_ts(&a.window_end))
        };
        let _ = writeln!(
            o,
            "- **{}**{} ({}; {} side; {}; {} transaction{}): {}",
            md(&a.rule_id),
            if title.is_empty() {
                String::new()
            } else {
                format!(" {}", md(&title))
            },
            a.severity,
            md(a.side.as_str()),
            when,
            a.txn_ids.len(),
            if a.txn_ids.len() == 1 { "" } else { "s" },
            md(&a.explanation)
        );
    }

    let _ = writeln!(o, "\n#### Transactions\n");
    if c.transactions.len() < c.txn_count {
        let _ = writeln!(
            o,
            "The first {} of the case's {} transactions, in time order; `alerts.csv` names every one.\n",
            number(c.transactions.len() as f64),
            number(c.txn_count as f64)
        );
    }
    let _ = writeln!(
        o,
        "| time | transaction | channel | from | to | amount | {} | countries | narrative | rules |\n|---|---|---|---|---|--:|--:|---|---|---|",
        md(base)
    );
    for t in &c.transactions {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            short_ts(&t.ts),
            md(&t.txn_id),
            md(t.channel.as_deref().unwrap_or("")),
            md(&party(&t.orig_account, &t.orig_name, &t.channel)),
            md(&party(&t.bene_account, &t.bene_name, &t.channel)),
            md(&amount_text(t, base)),
            number(t.amount_base),
            md(&countries_of(t)),
            md(t.narrative.as_deref().unwrap_or("")),
            md(&t.rule_ids.join(", "))
        );
    }

    let _ = writeln!(o, "\n#### Sources\n");
    for r in &c.rule_ids {
        match cf.rules.get(r) {
            Some(def) => {
                let refs = if def.references.is_empty() {
                    "no source recorded in the pack".to_string()
                } else {
                    def.references.iter().map(|x| md(x)).collect::<Vec<_>>().join("; ")
                };
                let _ = writeln!(o, "- **{}** {}: {}", md(r), md(&def.title), refs);
                if !def.description.is_empty() {
                    let _ = writeln!(o, "  {}", md(&def.description));
                }
            }
            None => {
                let _ = writeln!(
                    o,
                    "- **{}**: the sources are not in this cases.json (written before reports existed); see `redflag rules show {}`",
                    md(r),
                    md(r)
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::md;

    #[test]
    fn markdown_text_is_escaped() {
        assert_eq!(md("a|b"), "a\\|b");
        assert_eq!(md("cash_in"), "cash_in");
        assert_eq!(md("_x_"), "\\_x\\_");
        assert_eq!(md("*bold* <b>"), "\\*bold\\* \\<b\\>");
        assert_eq!(md("line\nbreak"), "line break");
        assert_eq!(md("AT&T &amp; &#169; & co"), "AT&T \\&amp; \\&#169; & co");
        assert_eq!(md("# not a heading"), "\\# not a heading");
        assert_eq!(md("[link](x)"), "\\[link\\](x)");
    }
}
