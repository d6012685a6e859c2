//! A small, fast, seedable pseudo-random generator (xoshiro256**, seeded
//! through SplitMix64) and the handful of distributions the generator needs.
//!
//! The sequence depends only on the seed, never on the platform, so that the
//! same configuration always gives the same data.

/// SplitMix64 step: used to expand a seed into generator state and to derive
/// independent streams.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// xoshiro256** generator.
#[derive(Debug, Clone)]
pub(crate) struct Rng {
    s: [u64; 4],
}

impl Rng {
    /// A generator for `seed`, on the independent stream `stream`.
    pub(crate) fn new(seed: u64, stream: u64) -> Self {
        let mut sm = seed ^ stream.wrapping_mul(0xD134_2543_DE82_EF95);
        let mut s = [0u64; 4];
        for v in &mut s {
            *v = splitmix64(&mut sm);
        }
        if s == [0; 4] {
            s[0] = 1;
        }
        Rng { s }
    }

    #[inline]
    pub(crate) fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in [0, 1).
    #[inline]
    pub(crate) fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform integer in [0, n); 0 when n is 0.
    #[inline]
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        // Lemire's multiply-shift; the tiny bias is irrelevant here.
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform index into a collection of length `n`.
    #[inline]
    pub(crate) fn index(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }

    /// Uniform integer in [lo, hi] (inclusive).
    #[inline]
    pub(crate) fn int(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        lo + self.below((hi - lo + 1) as u64) as i64
    }

    /// Uniform in [lo, hi).
    #[inline]
    pub(crate) fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.f64()
    }

    /// True with probability `p`.
    #[inline]
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }

    /// Standard normal deviate (Box-Muller, one of the pair).
    pub(crate) fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.f64();
        let u2 = self.f64();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Log-normal deviate with the given median and log-scale sigma.
    pub(crate) fn lognormal(&mut self, median: f64, sigma: f64) -> f64 {
        median * (sigma * self.normal()).exp()
    }

    /// Log-normal deviate redrawn until it falls in [min, max] (clamped
    /// after a few tries), so that the bounds do not pile up values.
    pub(crate) fn lognormal_in(&mut self, median: f64, sigma: f64, min: f64, max: f64) -> f64 {
        let mut x = self.lognormal(median, sigma);
        for _ in 0..8 {
            if (min..=max).contains(&x) {
                return x;
            }
            x = self.lognormal(median, sigma);
        }
        x.clamp(min, max)
    }

    /// A uniformly chosen element of a non-empty slice.
    #[inline]
    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.index(items.len())]
    }

    /// Index chosen with probability proportional to `weights`.
    pub(crate) fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut x = self.f64() * total;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len().saturating_sub(1)
    }

    /// Fisher-Yates shuffle.
    pub(crate) fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.index(i + 1);
            items.swap(i, j);
        }
    }
}

/// Weighted sampling over a fixed population in constant time (Walker's
/// alias method, Vose's construction): one slot per item, each holding the
/// probability of keeping it and the item to take otherwise.
#[derive(Debug, Clone, Default)]
pub(crate) struct Weighted {
    slots: Vec<(f64, u32)>,
}

impl Weighted {
    pub(crate) fn new(weights: impl IntoIterator<Item = f64>) -> Self {
        let w: Vec<f64> = weights
            .into_iter()
            .map(|x| if x.is_finite() { x.max(0.0) } else { 0.0 })
            .collect();
        let n = w.len();
        let total: f64 = w.iter().sum();
        if n == 0 || total <= 0.0 {
            return Weighted { slots: Vec::new() };
        }
        let scale = n as f64 / total;
        let mut p: Vec<f64> = w.iter().map(|x| x * scale).collect();
        let mut slots: Vec<(f64, u32)> = (0..n as u32).map(|i| (1.0, i)).collect();
        let (mut small, mut large): (Vec<u32>, Vec<u32>) = (0..n as u32).partition(|&i| p[i as usize] < 1.0);
        while let (Some(&s), Some(&l)) = (small.last(), large.last()) {
            small.pop();
            slots[s as usize] = (p[s as usize], l);
            p[l as usize] -= 1.0 - p[s as usize];
            if p[l as usize] < 1.0 {
                large.pop();
                small.push(l);
            }
        }
        // What remains (rounding) keeps itself.
        for i in small.into_iter().chain(large) {
            slots[i as usize] = (1.0, i);
        }
        Weighted { slots }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// A position in [0, len); 0 for an empty population.
    #[inline]
    pub(crate) fn sample(&self, rng: &mut Rng) -> usize {
        if self.slots.is_empty() {
            return 0;
        }
        let i = rng.index(self.slots.len());
        let (keep, alias) = self.slots[i];
        if rng.f64() < keep {
            i
        } else {
            alias as usize
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream() {
        let mut a = Rng::new(7, 1);
        let mut b = Rng::new(7, 1);
        let mut c = Rng::new(7, 2);
        let va: Vec<u64> = (0..8).map(|_| a.next_u64()).collect();
        let vb: Vec<u64> = (0..8).map(|_| b.next_u64()).collect();
        let vc: Vec<u64> = (0..8).map(|_| c.next_u64()).collect();
        assert_eq!(va, vb);
        assert_ne!(va, vc);
    }

    #[test]
    fn ranges_hold() {
        let mut r = Rng::new(1, 0);
        for _ in 0..10_000 {
            let x = r.f64();
            assert!((0.0..1.0).contains(&x));
            let k = r.int(3, 5);
            assert!((3..=5).contains(&k));
            assert!(r.below(10) < 10);
        }
    }

    #[test]
    fn weighted_respects_weights() {
        let mut r = Rng::new(3, 0);
        let c = Weighted::new([0.0, 1.0, 0.0, 3.0]);
        let mut hits = [0usize; 4];
        for _ in 0..10_000 {
            hits[c.sample(&mut r)] += 1;
        }
        assert_eq!(hits[0], 0);
        assert_eq!(hits[2], 0);
        assert!(hits[3] > 2 * hits[1] && hits[3] < 4 * hits[1], "{hits:?}");
        assert!(Weighted::new([0.0, 0.0]).is_empty());
    }
}
