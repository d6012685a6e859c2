//! What a part of the screened data (a shard, holding every transaction of its accounts)
//! needs to know of the whole to screen as a run over the whole screens: where periods
//! start, and the statistics of peer groups over every account.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What a part of the screened data needs of the whole (docs/sharding.md). A partition
/// works it out and records it; each shard's dataset carries it
/// ([`crate::Dataset::whole`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Whole {
    /// The earliest transaction time (ms since the epoch) of the screened rows; `None`
    /// without one. Baselines count their periods from the midnight before it.
    pub first_time: Option<i64>,
    /// By rule (baselines with `peer_by`), the statistics of each peer group over every
    /// account, in (period start, value) order.
    pub peer_groups: BTreeMap<String, Vec<PeerGroup>>,
}

/// The statistics of one peer group of a baseline rule in one period: what each of its
/// accounts is compared with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeerGroup {
    /// The period's start (ms since the epoch).
    pub start: i64,
    /// The value of the rule's `peer_by` column the group shares.
    pub value: String,
    /// The median of the group's measures.
    #[serde(with = "exact")]
    pub median: Option<f64>,
    /// Their median absolute deviation.
    #[serde(with = "exact")]
    pub mad: Option<f64>,
    /// The number of measures (accounts with a value in the period).
    pub peers: u64,
}

/// A number as the shortest text that reads back as the same number, so that a
/// statistic goes through JSON bit for bit.
mod exact {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(x) => s.serialize_some(&x.to_string()),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|t| t.parse::<f64>().map_err(serde::de::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Statistics read back from JSON are the same bits, however many digits they need.
    #[test]
    fn a_peer_group_goes_through_json_bit_for_bit() {
        for x in [0.1 + 0.2, 1.0 / 3.0, 123_456.789_012_345_67, 5e-324, f64::MAX] {
            let g = PeerGroup {
                start: -86_400_000,
                value: "individual".into(),
                median: Some(x),
                mad: None,
                peers: 7,
            };
            let back: PeerGroup = serde_json::from_str(&serde_json::to_string(&g).unwrap()).unwrap();
            assert_eq!(back.median.map(f64::to_bits), Some(x.to_bits()));
            assert_eq!(back, g);
        }
    }
}
