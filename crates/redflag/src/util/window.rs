//! Order statistics and sums over a window that slides along a list of values: the
//! window's `k`-th smallest value and its sum, each in logarithmic or constant time, with
//! the results a plain computation over the window's values would give.

/// Ranks of a fixed list of values, for a window that slides along it: values enter
/// and leave by their index, and [`SlidingRanks::kth`] gives the window's `k`-th
/// smallest in `O(log n)` (a Fenwick tree of counts over the values' sorted order).
pub struct SlidingRanks {
    /// The distinct values, in `total_cmp` order.
    sorted: Vec<f64>,
    /// Each value's position in `sorted`.
    rank: Vec<usize>,
    /// Fenwick tree of counts by rank (1-based).
    tree: Vec<u32>,
    len: usize,
}

impl SlidingRanks {
    /// Ranks for `values`; the window starts empty.
    pub fn new(values: &[f64]) -> SlidingRanks {
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        sorted.dedup_by(|a, b| a.total_cmp(b).is_eq());
        let rank = values
            .iter()
            .map(|v| sorted.partition_point(|x| x.total_cmp(v).is_lt()))
            .collect();
        let tree = vec![0; sorted.len() + 1];
        SlidingRanks {
            sorted,
            rank,
            tree,
            len: 0,
        }
    }

    fn add(&mut self, i: usize, delta: i32) {
        let mut p = self.rank[i] + 1;
        while p < self.tree.len() {
            self.tree[p] = self.tree[p].wrapping_add_signed(delta);
            p += p & p.wrapping_neg();
        }
    }

    /// Value `i` enters the window.
    pub fn insert(&mut self, i: usize) {
        self.add(i, 1);
        self.len += 1;
    }

    /// Value `i`, in the window, leaves it.
    pub fn remove(&mut self, i: usize) {
        self.add(i, -1);
        self.len -= 1;
    }

    /// How many values the window holds.
    pub fn len(&self) -> usize {
        self.len
    }

    /// The window's `k`-th smallest value (0-based; `k < len()`).
    pub fn kth(&self, k: usize) -> f64 {
        // Fenwick descent: the smallest rank whose running count passes k.
        let mut pos = 0usize;
        let mut rest = k as u32;
        let mut step = (self.tree.len() - 1).next_power_of_two();
        while step > 0 {
            let next = pos + step;
            if next < self.tree.len() && self.tree[next] <= rest {
                pos = next;
                rest -= self.tree[next];
            }
            step >>= 1;
        }
        self.sorted[pos.min(self.sorted.len() - 1)]
    }

    /// The window's median: the middle value, or the mean of the two middle ones.
    pub fn median(&self) -> f64 {
        let k = self.len;
        if k % 2 == 1 {
            self.kth(k / 2)
        } else {
            (self.kth(k / 2 - 1) + self.kth(k / 2)) / 2.0
        }
    }
}

/// Windows up to this many values are summed value by value, in order; longer ones from
/// compensated prefix sums (see [`window_sum`]).
pub const PLAIN_SUM_MAX: usize = 1024;

/// Prefix sums of a list of values, each kept as a sum and its rounding error
/// (Neumaier's compensated summation), so that a long window's sum is found in constant
/// time, to within an ulp or so of its exact value.
pub struct PrefixSums {
    hi: Vec<f64>,
    lo: Vec<f64>,
}

impl PrefixSums {
    /// The prefix sums of `values`.
    pub fn new(values: &[f64]) -> PrefixSums {
        let mut hi = Vec::with_capacity(values.len() + 1);
        let mut lo = Vec::with_capacity(values.len() + 1);
        let (mut s, mut c) = (0.0f64, 0.0f64);
        hi.push(s);
        lo.push(c);
        for &v in values {
            let t = s + v;
            c += if s.abs() >= v.abs() { (s - t) + v } else { (v - t) + s };
            s = t;
            hi.push(s);
            lo.push(c);
        }
        PrefixSums { hi, lo }
    }

    /// The sum of `values[from..to]`.
    pub fn range(&self, from: usize, to: usize) -> f64 {
        (self.hi[to] - self.hi[from]) + (self.lo[to] - self.lo[from])
    }
}

/// The sum of `values[from..to]`: value by value in order for a window of up to
/// [`PLAIN_SUM_MAX`] values (what a plain sum gives, to the bit), from the compensated
/// prefix sums for a longer one.
pub fn window_sum(values: &[f64], prefix: &PrefixSums, from: usize, to: usize) -> f64 {
    if to - from <= PLAIN_SUM_MAX {
        values[from..to].iter().sum()
    } else {
        prefix.range(from, to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_give_what_sorting_the_window_gives() {
        let values: Vec<f64> = (0..400).map(|i| ((i * 7919) % 97) as f64 / 4.0 - 3.0).collect();
        let mut r = SlidingRanks::new(&values);
        let mut left = 0;
        for i in 0..values.len() {
            r.insert(i);
            while i - left >= 37 {
                r.remove(left);
                left += 1;
            }
            let mut w = values[left..=i].to_vec();
            w.sort_by(f64::total_cmp);
            assert_eq!(r.len(), w.len());
            for (k, v) in w.iter().enumerate() {
                assert_eq!(r.kth(k).to_bits(), v.to_bits(), "window {left}..={i}, k {k}");
            }
            let k = w.len();
            let median = if k % 2 == 1 {
                w[k / 2]
            } else {
                (w[k / 2 - 1] + w[k / 2]) / 2.0
            };
            assert_eq!(r.median().to_bits(), median.to_bits());
        }
    }

    #[test]
    fn long_windows_sum_to_within_an_ulp_of_the_exact_sum() {
        let values: Vec<f64> = (0..5000)
            .map(|i| 0.01 * ((i * 31) % 1000) as f64 + 1e6 * ((i % 3) as f64))
            .collect();
        let p = PrefixSums::new(&values);
        for (from, to) in [(0, 5000), (17, 4000), (1200, 3300), (10, 20)] {
            let exact: f64 = {
                // Sum in cents as integers: exact for these values.
                let cents: i128 = values[from..to].iter().map(|v| (v * 100.0).round() as i128).sum();
                cents as f64 / 100.0
            };
            let got = window_sum(&values, &p, from, to);
            assert!(
                (got - exact).abs() <= exact.abs() * 4.0 * f64::EPSILON,
                "{from}..{to}: {got} vs {exact}"
            );
        }
        assert_eq!(
            window_sum(&values, &p, 10, 20).to_bits(),
            values[10..20].iter().sum::<f64>().to_bits()
        );
    }
}
