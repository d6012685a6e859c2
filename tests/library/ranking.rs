//! The case ranking's figures in `evaluate`: precision at k cases and average precision,
//! on hand-made rankings and on a hand-made dataset whose case scores are known.

use polars::prelude::*;
use redflag::evaluate::{evaluate, ranking_metrics, Labels, RANKING_KS};

use crate::common::{dataset, pack, tx, Tx};

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-12)
}

/// Ranks 1..=12, positives at 2, 3, 7 and 12 (P = 4):
/// precision at 2 = 1/2, at 5 = 2/5, at 10 = 3/10, at 20 = 4/12 (fewer cases than k);
/// AP = (1/2 + 2/3 + 3/7 + 4/12) / 4 = (42 + 56 + 36 + 28) / 84 / 4 = 162/336 = 27/56.
#[test]
fn precision_at_k_and_average_precision_by_hand() {
    let mut positive = vec![false; 12];
    for r in [2, 3, 7, 12] {
        positive[r - 1] = true;
    }
    let r = ranking_metrics(&positive, &[2, 5, 10, 20]);
    assert_eq!(r.cases, 12);
    assert_eq!(r.positive_cases, 4);
    let got: Vec<(u64, u64, u64)> = r.precision_at.iter().map(|p| (p.k, p.cases, p.positive)).collect();
    assert_eq!(got, vec![(2, 2, 1), (5, 5, 2), (10, 10, 3), (20, 12, 4)]);
    for (p, want) in r.precision_at.iter().zip([0.5, 0.4, 0.3, 4.0 / 12.0]) {
        assert!(close(p.precision, want), "at {}: {:?}", p.k, p.precision);
    }
    assert!(close(r.average_precision, 27.0 / 56.0), "{:?}", r.average_precision);
}

/// A perfect ranking has AP 1 whatever follows its positives; no positive, no AP; no
/// case, no precision.
#[test]
fn ranking_edges() {
    let r = ranking_metrics(&[true, true, false, false, false], &[1, 4]);
    assert!(close(r.average_precision, 1.0));
    assert!(close(r.precision_at[1].precision, 0.5));
    let none = ranking_metrics(&[false, false], &[1]);
    assert_eq!(none.average_precision, None);
    assert!(close(none.precision_at[0].precision, 0.0));
    let empty = ranking_metrics(&[], &[10]);
    assert_eq!((empty.cases, empty.precision_at[0].precision), (0, None));
}

const PACK: &str = r#"pack: test
version: "1"
base_currency: USD
rules:
  - id: R-HI
    title: large credit
    kind: filter
    severity: critical
    side: in
    where: "amount_base >= 5000"
  - id: R-LO
    title: middling credit
    kind: filter
    severity: low
    side: in
    where: "amount_base >= 1000 AND amount_base < 5000"
"#;

/// Credits to six accounts; each credit is one alert on the receiving account, and each
/// account one case. A case's score (crate::cases): 10 for a critical alert, 1 for a low
/// one, each repeat of a rule half the one before:
///
/// | account | credits | score | labels | positive |
/// |---|---|---|---|---|
/// | B5 | 3 × 8,000 | 10 + 5 + 2.5 = 17.5 | decoy | no |
/// | B2 | 2 × 7,000 | 10 + 5 = 15 | none | no |
/// | B1 | 1 × 6,000 | 10 | S1 (core) | yes |
/// | B6 | 3 × 2,000 | 1 + 0.5 + 0.25 = 1.75 | S2 (one of three, support) | yes |
/// | B4 | 2 × 3,000 | 1.5 | none | no |
/// | B3 | 1 × 2,000 | 1 | S3 | yes |
///
/// Ranked: F F T T F T. Precision at 10, 50 and 100: 3 of the 6 cases = 0.5. AP =
/// (1/3 + 2/4 + 3/6) / 3 = 4/9. S1 is FLW-02, S2 FLW-06, S3 FLW-04.
#[test]
fn evaluate_ranks_hand_made_cases() {
    let mut rows: Vec<Tx> = Vec::new();
    let mut credit = |id: &str, day: u32, amount: f64, to: &str| {
        let payer = format!("P{id}");
        rows.push(tx(
            id,
            &format!("2026-03-{day:02} 10:00:00"),
            amount,
            Some(&payer),
            Some(to),
            "wire",
        ));
    };
    for (i, d) in [1, 2, 3].iter().enumerate() {
        credit(&format!("b5{i}"), *d, 8_000.0, "B5");
        credit(&format!("b6{i}"), *d, 2_000.0, "B6");
    }
    for (i, d) in [4, 5].iter().enumerate() {
        credit(&format!("b2{i}"), *d, 7_000.0, "B2");
        credit(&format!("b4{i}"), *d, 3_000.0, "B4");
    }
    credit("b10", 6, 6_000.0, "B1");
    credit("b30", 7, 2_000.0, "B3");
    let labels = df!(
        "txn_id" => ["b50", "b51", "b52", "b10", "b61", "b30"],
        "scheme_id" => ["S9", "S9", "S9", "S1", "S2", "S3"],
        "typology" => ["decoy", "decoy", "decoy", "FLW-02", "FLW-06", "FLW-04"],
        "role" => ["core", "core", "core", "core", "support", "core"],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let labels = Labels::from_frame(&labels, "labels").unwrap_or_else(|e| panic!("{e}"));
    let ev = evaluate(&pack(PACK, &[]), &dataset(&rows), &labels).unwrap_or_else(|e| panic!("{e}"));
    let r = &ev.ranking;
    assert_eq!((r.cases, r.positive_cases), (6, 3));
    let ks: Vec<u64> = r.precision_at.iter().map(|p| p.k).collect();
    assert_eq!(ks, RANKING_KS.to_vec());
    for p in &r.precision_at {
        assert_eq!((p.cases, p.positive), (6, 3), "at {}", p.k);
        assert!(close(p.precision, 0.5));
    }
    assert!(close(r.average_precision, 4.0 / 9.0), "{:?}", r.average_precision);
    // By typology: FLW-02's one case (B1) ranks third, FLW-06's (B6) fourth, FLW-04's
    // (B3) sixth, the decoy's (B5) first: AP 1/3, 1/4, 1/6 and 1; precision at 10 of
    // the six cases 1/6 each.
    for (name, ap) in [
        ("FLW-02", 1.0 / 3.0),
        ("FLW-06", 0.25),
        ("FLW-04", 1.0 / 6.0),
        ("decoy", 1.0),
    ] {
        let t = ev.typologies.iter().find(|t| t.typology == name).expect("typology");
        let tr = t.ranking.as_ref().expect("ranked");
        assert!(close(tr.average_precision, ap), "{name}: {:?}", tr.average_precision);
        assert!(close(tr.precision_at[0].precision, 1.0 / 6.0), "{name}");
    }
    // The JSON carries it.
    let json = serde_json::to_value(&ev).unwrap_or_default();
    assert_eq!(json["ranking"]["positive_cases"], 3);
}
