//! The realistic profile: determinism, every laundering shape planted, look-alikes of
//! the same shapes, amounts that change hop to hop, spans and sizes, account numbers
//! that say nothing; and the default profile left as it was.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;

use polars::prelude::*;
use redflag_synth::{generate, write_csv, Profile, SynthConfig, SynthError, Synthetic, DECOY};

const DAY: i64 = 86_400_000;
const SHAPES: [&str; 7] = [
    "fan-in",
    "fan-out",
    "cycle",
    "scatter-gather",
    "gather-scatter",
    "stack",
    "bipartite",
];

fn config(seed: u64) -> SynthConfig {
    SynthConfig {
        seed,
        transactions: 40_000,
        accounts: 3_000,
        days: 120,
        fraction: 0.01,
        profile: Profile::Realistic,
        ..SynthConfig::default()
    }
}

fn strs(df: &DataFrame, name: &str) -> Vec<String> {
    df.column(name)
        .expect("column exists")
        .str()
        .expect("string column")
        .iter()
        .map(|v| v.unwrap_or_default().to_string())
        .collect()
}

/// One transfer of a pattern.
#[derive(Debug, Clone)]
struct Hop {
    ts: i64,
    amount: f64,
    from: String,
    to: String,
}

/// A planted pattern as its labels tell it.
struct Pattern {
    typology: String,
    name: String,
    hops: Vec<Hop>,
}

/// Every planted pattern, by scheme id, its transfers in time order.
fn patterns(data: &Synthetic) -> BTreeMap<String, Pattern> {
    let df = &data.transactions;
    let ids = strs(df, "txn_id");
    let (orig, bene) = (strs(df, "orig_account"), strs(df, "bene_account"));
    let ts: Vec<i64> = df
        .column("ts")
        .expect("ts")
        .datetime()
        .expect("datetime")
        .physical()
        .iter()
        .map(|v| v.expect("ts"))
        .collect();
    let amount: Vec<f64> = df
        .column("amount")
        .expect("amount")
        .f64()
        .expect("f64")
        .iter()
        .map(|v| v.expect("amount"))
        .collect();
    let row: HashMap<&str, usize> = ids.iter().enumerate().map(|(i, t)| (t.as_str(), i)).collect();
    let l = &data.labels;
    let (txn, sid, typ, pat) = (
        strs(l, "txn_id"),
        strs(l, "scheme_id"),
        strs(l, "typology"),
        strs(l, "pattern"),
    );
    let mut out: BTreeMap<String, Pattern> = BTreeMap::new();
    for i in 0..l.height() {
        let r = row[txn[i].as_str()];
        let p = out.entry(sid[i].clone()).or_insert_with(|| Pattern {
            typology: typ[i].clone(),
            name: pat[i].clone(),
            hops: Vec::new(),
        });
        p.hops.push(Hop {
            ts: ts[r],
            amount: amount[r],
            from: orig[r].clone(),
            to: bene[r].clone(),
        });
    }
    for p in out.values_mut() {
        p.hops.sort_by_key(|h| h.ts);
    }
    out
}

/// The shape of a set of transfers, read from the graph alone: who only pays, who only
/// receives, who does both, and how they connect.
fn shape_of(hops: &[Hop]) -> Option<&'static str> {
    let edges: BTreeSet<(&str, &str)> = hops.iter().map(|h| (h.from.as_str(), h.to.as_str())).collect();
    let mut outs: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut ins: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for &(a, b) in &edges {
        outs.entry(a).or_default().insert(b);
        ins.entry(b).or_default().insert(a);
    }
    let nodes: BTreeSet<&str> = outs.keys().chain(ins.keys()).copied().collect();
    let deg = |m: &BTreeMap<&str, BTreeSet<&str>>, n: &str| m.get(n).map_or(0, BTreeSet::len);
    let payers: Vec<&str> = nodes.iter().copied().filter(|n| deg(&ins, n) == 0).collect();
    let payees: Vec<&str> = nodes.iter().copied().filter(|n| deg(&outs, n) == 0).collect();
    let middle: Vec<&str> = nodes
        .iter()
        .copied()
        .filter(|n| deg(&ins, n) > 0 && deg(&outs, n) > 0)
        .collect();
    let complete = |a: &[&str], b: &[&str]| a.iter().all(|x| b.iter().all(|y| edges.contains(&(*x, *y))));
    match (payers.len(), middle.len(), payees.len()) {
        (0, n, 0) if n == edges.len() && nodes.iter().all(|x| deg(&ins, x) == 1 && deg(&outs, x) == 1) => Some("cycle"),
        (p, 0, 1) if p >= 4 && edges.len() == p => Some("fan-in"),
        (1, 0, p) if p >= 4 && edges.len() == p => Some("fan-out"),
        (1, m, 1) if m >= 4 && edges.len() == 2 * m => Some("scatter-gather"),
        (p, 1, q) if p >= 2 && q >= 2 && edges.len() == p + q => Some("gather-scatter"),
        (p, m, q) if p >= 2 && m >= 2 && q >= 2 && complete(&payers, &middle) && complete(&middle, &payees) => {
            (edges.len() == p * m + m * q).then_some("stack")
        }
        (p, 0, q) if p >= 2 && q >= 2 && complete(&payers, &payees) => Some("bipartite"),
        _ => None,
    }
}

/// The shape each look-alike imitates.
fn imitates(lookalike: &str) -> &'static str {
    match lookalike {
        "shop-sales" | "rent-collection" => "fan-in",
        "payroll" | "supplier-run" => "fan-out",
        "family-cycle" => "cycle",
        "branch-supplier" => "scatter-gather",
        "cooperative" => "gather-scatter",
        "supply-chain" => "stack",
        "trade-group" => "bipartite",
        other => panic!("unknown look-alike {other}"),
    }
}

/// The transfers of one occurrence of a look-alike: those within its first 24 days (a
/// monthly look-alike comes back 28-32 days later; a shop's customers change).
fn first_occurrence(hops: &[Hop]) -> Vec<Hop> {
    let t0 = hops.first().map_or(0, |h| h.ts);
    hops.iter().filter(|h| h.ts - t0 < 24 * DAY).cloned().collect()
}

#[test]
fn same_seed_same_data_other_seed_other_data() -> Result<(), SynthError> {
    let a = generate(&config(5))?;
    let b = generate(&config(5))?;
    assert!(a.transactions.equals_missing(&b.transactions));
    assert!(a.labels.equals_missing(&b.labels));
    let c = generate(&config(6))?;
    assert!(!a.labels.equals_missing(&c.labels));
    Ok(())
}

#[test]
fn every_shape_is_planted_under_its_rule_and_in_its_shape() -> Result<(), SynthError> {
    let data = generate(&config(11))?;
    let pats = patterns(&data);
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for (sid, p) in pats.iter().filter(|(_, p)| p.typology != DECOY) {
        let want = match p.name.as_str() {
            "fan-in" => "FLW-02",
            "fan-out" => "FLW-03",
            "cycle" => "FLW-04",
            _ => "FLW-06",
        };
        assert_eq!(p.typology, want, "{sid} {}", p.name);
        assert_eq!(shape_of(&p.hops), Some(p.name.as_str()), "{sid}: {:?}", p.hops);
        *seen
            .entry(SHAPES.iter().find(|s| **s == p.name).copied().unwrap_or("?"))
            .or_default() += 1;
    }
    for s in SHAPES {
        assert!(seen.get(s).copied().unwrap_or(0) >= 2, "{s}: {seen:?}");
    }
    Ok(())
}

#[test]
fn lookalikes_of_every_shape_exist_in_that_shape() -> Result<(), SynthError> {
    let data = generate(&config(12))?;
    let pats = patterns(&data);
    let laundering = pats.values().filter(|p| p.typology != DECOY).count();
    let decoys: Vec<&Pattern> = pats.values().filter(|p| p.typology == DECOY).collect();
    assert!(
        decoys.len() >= 2 * laundering,
        "{} look-alikes for {laundering}",
        decoys.len()
    );
    let mut shapes: BTreeSet<&str> = BTreeSet::new();
    for p in &decoys {
        let want = imitates(&p.name);
        assert_eq!(
            shape_of(&first_occurrence(&p.hops)),
            Some(want),
            "{}: {:?}",
            p.name,
            p.hops
        );
        shapes.insert(want);
    }
    assert_eq!(shapes.len(), SHAPES.len(), "{shapes:?}");
    // Look-alike transactions outnumber laundering ones: they recur month after month.
    let n = |decoy: bool| {
        pats.values()
            .filter(|p| (p.typology == DECOY) == decoy)
            .map(|p| p.hops.len())
            .sum::<usize>()
    };
    assert!(
        n(true) > 3 * n(false),
        "{} look-alike, {} laundering",
        n(true),
        n(false)
    );
    Ok(())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[test]
fn amounts_change_hop_to_hop_and_share_their_range() -> Result<(), SynthError> {
    let data = generate(&config(13))?;
    let pats = patterns(&data);
    let mut ratios = Vec::new();
    for p in pats.values().filter(|p| p.name == "cycle") {
        for w in p.hops.windows(2) {
            assert_eq!(w[0].to, w[1].from, "a cycle passes the money on");
            ratios.push(w[1].amount / w[0].amount);
        }
    }
    assert!(!ratios.is_empty());
    for r in &ratios {
        assert!((0.49..=1.51).contains(r), "a hop changes by at most half: {r}");
    }
    let changed = ratios.iter().filter(|r| !(0.9..=1.1).contains(*r)).count();
    assert!(
        changed * 2 > ratios.len(),
        "{changed} of {} hops change by more than 10 %",
        ratios.len()
    );
    let amounts = |decoy: bool| -> Vec<f64> {
        pats.values()
            .filter(|p| (p.typology == DECOY) == decoy)
            .flat_map(|p| p.hops.iter().map(|h| h.amount))
            .collect()
    };
    let (l, o) = (median(amounts(false)), median(amounts(true)));
    for m in [l, o] {
        assert!((1_000.0..20_000.0).contains(&m), "median {m}");
    }
    assert!(l / o < 3.0 && o / l < 3.0, "laundering median {l}, look-alikes {o}");
    Ok(())
}

#[test]
fn laundering_spans_one_to_three_weeks_with_four_to_seventeen_accounts() -> Result<(), SynthError> {
    let data = generate(&config(14))?;
    for (sid, p) in patterns(&data).iter().filter(|(_, p)| p.typology != DECOY) {
        let span = p.hops.last().map_or(0, |h| h.ts) - p.hops.first().map_or(0, |h| h.ts);
        assert!(span < 21 * DAY, "{sid} {} spans {} days", p.name, span / DAY);
        let accounts: BTreeSet<&str> = p.hops.iter().flat_map(|h| [h.from.as_str(), h.to.as_str()]).collect();
        assert!(
            (4..=17).contains(&accounts.len()),
            "{sid} {}: {}",
            p.name,
            accounts.len()
        );
    }
    Ok(())
}

#[test]
fn account_numbers_say_nothing_of_the_role() -> Result<(), SynthError> {
    let data = generate(&config(15))?;
    let df = &data.transactions;
    let mut all: BTreeSet<String> = BTreeSet::new();
    for c in ["orig_account", "bene_account"] {
        all.extend(strs(df, c).into_iter().filter(|a| !a.is_empty()));
    }
    // One form for every account: country, two digits of bank, then digits only.
    for a in &all {
        let (country, rest) = a.split_at(2);
        assert!(country.chars().all(|c| c.is_ascii_uppercase()), "{a}");
        assert!(rest.len() >= 10 && rest.chars().all(|c| c.is_ascii_digit()), "{a}");
    }
    // Laundering accounts are spread over the numbers as the others are: about half
    // of them in the lower half of the sorted numbers.
    let numbers: Vec<u64> = all.iter().map(|a| a[4..].parse().unwrap_or(0)).collect();
    let mid = median(numbers.iter().map(|n| *n as f64).collect());
    let mut laundering: BTreeSet<&str> = BTreeSet::new();
    let pats = patterns(&data);
    for p in pats.values().filter(|p| p.typology != DECOY) {
        laundering.extend(p.hops.iter().flat_map(|h| [h.from.as_str(), h.to.as_str()]));
    }
    let low = laundering
        .iter()
        .filter(|a| (a[4..].parse::<u64>().unwrap_or(0) as f64) < mid)
        .count();
    let share = low as f64 / laundering.len() as f64;
    assert!(
        (0.35..0.65).contains(&share),
        "{low} of {} below the median",
        laundering.len()
    );
    Ok(())
}

#[test]
fn selection_and_limits() -> Result<(), SynthError> {
    let only = generate(&SynthConfig {
        typologies: vec!["cycle".into()],
        ..config(16)
    })?;
    let names: BTreeSet<String> = patterns(&only).values().map(|p| p.name.clone()).collect();
    assert_eq!(names, BTreeSet::from(["cycle".to_string()]));
    for bad in [
        SynthConfig {
            typologies: vec!["STR-01".into()],
            ..config(1)
        },
        SynthConfig { days: 20, ..config(1) },
        SynthConfig {
            accounts: 100,
            ..config(1)
        },
    ] {
        let e = generate(&bad).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("realistic"), "{e}");
    }
    assert!("realistic".parse::<Profile>().is_ok_and(|p| p == Profile::Realistic));
    assert!("hard".parse::<Profile>().is_err());
    Ok(())
}

/// The default profile is what it was: the demo sample, regenerated with the command of
/// samples/README.md, is the same bytes.
#[test]
fn default_profile_regenerates_the_demo_sample() -> Result<(), SynthError> {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("../../samples");
    let mut data = generate(&SynthConfig {
        seed: 7,
        transactions: 4_000,
        accounts: 300,
        days: 210,
        fraction: 0.08,
        ..SynthConfig::default()
    })?;
    let dir = tempfile::tempdir().map_err(|source| SynthError::Io {
        path: std::env::temp_dir(),
        source,
    })?;
    write_csv(&mut data.transactions, dir.path().join("demo.csv"))?;
    write_csv(&mut data.labels, dir.path().join("demo-labels.csv"))?;
    for f in ["demo.csv", "demo-labels.csv"] {
        let made = std::fs::read(dir.path().join(f)).expect("written");
        let kept = std::fs::read(root.join(f)).expect("the sample exists");
        assert!(made == kept, "{f} differs from samples/{f}");
    }
    Ok(())
}
