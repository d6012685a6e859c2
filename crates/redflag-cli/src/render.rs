//! Terminal rendering.

use std::fmt::Write;
use std::path::Path;

use redflag::{format, Manifest, Pack, Rule, Screening};

fn trunc(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

pub fn rules_list(pack: &Pack) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<9} {:<10} {:<9} {:<44} TITLE",
        "ID", "KIND", "SEVERITY", "TYPOLOGIES"
    );
    for r in &pack.rules {
        let _ = writeln!(
            out,
            "{:<9} {:<10} {:<9} {:<44} {}",
            r.id(),
            r.kind.name(),
            r.def.severity,
            trunc(&r.def.typologies.join(","), 44),
            r.def.title
        );
    }
    out
}

pub fn rule_show(pack: &Pack, r: &Rule) -> String {
    let d = &r.def;
    let mut o = String::new();
    let _ = writeln!(o, "{}  {}", d.id, d.title);
    let _ = writeln!(o, "pack:        {} {}", pack.id, pack.version);
    let _ = writeln!(o, "kind:        {}", r.kind.name());
    let _ = writeln!(o, "severity:    {}", d.severity);
    let _ = writeln!(o, "typologies:  {}", d.typologies.join(", "));
    let _ = writeln!(o, "side:        {}", side_name(r));
    if !d.aliases.is_empty() {
        let _ = writeln!(o, "aliases:     {}", d.aliases.join(", "));
    }
    let _ = writeln!(o, "\n{}", d.description.trim());
    if let Some(w) = d.fields.get("where").and_then(|v| v.as_str()) {
        let _ = writeln!(o, "\nwhere:       {}", w.trim());
    }
    redflag::kinds::of(r).describe(r, &mut o);
    if !r.params.is_empty() {
        let _ = writeln!(o, "parameters in force:");
        for (k, v) in &r.params {
            let _ = writeln!(o, "  {k} = {}", v.display());
        }
    }
    if !r.lists.is_empty() {
        let _ = writeln!(o, "lists:");
        for l in &r.lists {
            if let Some(rl) = pack.lists.get(l) {
                let _ = writeln!(o, "  {l}: {} values ({})", rl.values.len(), rl.source);
            }
        }
    }
    let _ = writeln!(o, "explain:     {}", d.explain);
    let _ = writeln!(o, "references:");
    for s in &d.references {
        let _ = writeln!(o, "  - {s}");
    }
    o
}

fn side_name(r: &Rule) -> &'static str {
    match r.side {
        redflag::SideSel::In => "in (the receiving account)",
        redflag::SideSel::Out => "out (the paying account)",
        redflag::SideSel::Both => "both",
    }
}

/// Why a rule did not run, and for a watch list, how to bind one on the command line.
pub fn not_applicable_text(na: &redflag::NotApplicable) -> String {
    match &na.unbound_list {
        Some(name) => format!(
            "{} (no watch list bound as `{name}`; bind one with --list {name}=PATH)",
            na.rule_id
        ),
        None => format!("{} (the data lacks {})", na.rule_id, na.missing_columns.join(", ")),
    }
}

pub fn screen_summary(result: &Screening, m: &Manifest, out: &Path, top: usize) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{} rows read, {} screened, {} quarantined; {} accounts; pack {} {}",
        m.rows_read, m.rows_screened, m.rows_quarantined, result.accounts, m.pack.id, m.pack.version
    );
    let _ = writeln!(
        o,
        "{} rules run, {} alerts, {} cases",
        m.rules_run.len(),
        m.alerts,
        m.cases
    );
    for na in &m.rules_not_applicable {
        let _ = writeln!(o, "not applicable: {}", not_applicable_text(na));
    }
    for l in &m.search_limits {
        let _ = writeln!(o, "search cut short: {}: {}", l.rule_id, l.what);
    }
    for p in &m.rules_partial {
        if p.dropped.is_empty() {
            let _ = writeln!(
                o,
                "partial: {} ran without {} (absent, read as empty)",
                p.rule_id,
                p.absent_columns.join(", ")
            );
        } else {
            let _ = writeln!(o, "partial: {} ran in part: {}", p.rule_id, p.summary());
        }
    }
    if !result.cases.is_empty() {
        let _ = writeln!(
            o,
            "\n{:>4} {:<15} {:>7} {:<8} {:<22} {:>5} {:>14}  RULES",
            "RANK", "CASE", "SCORE", "SEVERITY", "ACCOUNT", "TXNS", "TOTAL"
        );
        for c in result.cases.iter().take(top) {
            let _ = writeln!(
                o,
                "{:>4} {:<15} {:>7.2} {:<8} {:<22} {:>5} {:>14}  {}",
                c.rank,
                c.case_id,
                c.score,
                c.severity,
                trunc(&c.accounts.join(","), 22),
                c.txn_count,
                format::number(c.total_amount_base),
                c.rule_ids.join(",")
            );
        }
        // The cases written, which a run whose cases are kept on disk does not hold.
        if m.cases > top {
            let _ = writeln!(o, "… and {} more cases", m.cases - top);
        }
    }
    let _ = writeln!(o, "\nwritten to {}", out.display());
    o
}

/// `--timings`: the steps in order, the total, then each rule, slowest first (rules run
/// side by side, so their times add up to more than the `rules` step).
pub fn timings(steps: &[(String, std::time::Duration)]) -> String {
    const STEPS: &[&str] = &["ingest", "run", "prepare", "conditions", "rules", "cases", "write"];
    let mut out = String::new();
    let secs = |d: &std::time::Duration| d.as_secs_f64();
    let total: f64 = steps
        .iter()
        .filter(|(n, _)| STEPS.contains(&n.as_str()))
        .map(|(_, d)| secs(d))
        .sum();
    let _ = writeln!(out, "{:<12} {:>8}", "step", "seconds");
    for (name, d) in steps.iter().filter(|(n, _)| STEPS.contains(&n.as_str())) {
        let _ = writeln!(out, "{name:<12} {:>8.3}", secs(d));
    }
    let mut rules: Vec<&(String, std::time::Duration)> =
        steps.iter().filter(|(n, _)| !STEPS.contains(&n.as_str())).collect();
    let _ = writeln!(out, "{:<12} {:>8.3}", "total", total);
    rules.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    for (name, d) in rules {
        let _ = writeln!(out, "  {name:<10} {:>8.3}", secs(d));
    }
    out
}
