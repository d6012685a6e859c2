//! Row masks: one bit a transaction row, whether a condition keeps it.

use std::collections::BTreeMap;

use crate::model::Side;

/// The row masks of every rule: (rule index, condition slot, side) → row kept.
pub type Masks = BTreeMap<(usize, usize, Side), RowMask>;

/// One bit a transaction row: whether a condition keeps it (an eighth of a `Vec<bool>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowMask {
    words: Vec<u64>,
    len: usize,
}

impl RowMask {
    /// A mask from one value a row.
    pub fn from_bools(values: impl IntoIterator<Item = bool>) -> RowMask {
        let mut words = Vec::new();
        let mut len = 0usize;
        for v in values {
            if len % 64 == 0 {
                words.push(0u64);
            }
            if v {
                words[len / 64] |= 1 << (len % 64);
            }
            len += 1;
        }
        RowMask { words, len }
    }

    /// A mask of `len` rows, row `i` kept when `keep(i)`.
    pub fn from_fn(len: usize, keep: impl Fn(usize) -> bool) -> RowMask {
        let mut words = vec![0u64; len.div_ceil(64)];
        for (w, word) in words.iter_mut().enumerate() {
            let base = w * 64;
            let mut bits = 0u64;
            for i in base..(base + 64).min(len) {
                bits |= u64::from(keep(i)) << (i - base);
            }
            *word = bits;
        }
        RowMask { words, len }
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether row `i` is kept.
    pub fn get(&self, i: usize) -> bool {
        i < self.len && self.words[i / 64] >> (i % 64) & 1 == 1
    }

    /// Keeps or drops row `i`.
    pub fn set(&mut self, i: usize, v: bool) {
        if i < self.len {
            if v {
                self.words[i / 64] |= 1 << (i % 64);
            } else {
                self.words[i / 64] &= !(1 << (i % 64));
            }
        }
    }

    /// The rows kept.
    pub fn count(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// The rows kept, in order.
    pub fn ones(&self) -> impl Iterator<Item = usize> + '_ {
        self.words.iter().enumerate().flat_map(|(w, &word)| {
            let mut bits = word;
            std::iter::from_fn(move || {
                (bits != 0).then(|| {
                    let b = bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    w * 64 + b
                })
            })
        })
    }

    /// Keeps only the rows that `other` keeps too.
    pub fn and_assign(&mut self, other: &RowMask) {
        for (a, b) in self.words.iter_mut().zip(&other.words) {
            *a &= *b;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RowMask;

    #[test]
    fn row_masks_keep_one_bit_a_row() {
        let bools: Vec<bool> = (0..200).map(|i| i % 3 == 0 || i == 64 || i == 199).collect();
        let mut m = RowMask::from_bools(bools.iter().copied());
        assert_eq!(m.len(), 200);
        assert!((0..200).all(|i| m.get(i) == bools[i]));
        assert!(!m.get(200), "past the end is not kept");
        assert_eq!(m.count(), bools.iter().filter(|b| **b).count());
        m.set(63, true);
        m.set(0, false);
        assert!(m.get(63) && !m.get(0));
        let other = RowMask::from_bools((0..200).map(|i| i < 100));
        m.and_assign(&other);
        let ones: Vec<usize> = m.ones().collect();
        assert!(ones
            .iter()
            .all(|&i| i < 100 && (i % 3 == 0 || i == 63 || i == 64) && i != 0));
        assert!(ones.contains(&63) && ones.contains(&64) && ones.contains(&99));
    }
}
