//! Searching a sorted list from a known place onward.

/// The index of the first element of `v` for which `pred` is false, searched from
/// `from` onward: `pred` must hold for every element before `from` and, as for
/// [`slice::partition_point`], be true then false along `v`. The search gallops (steps of
/// 1, 2, 4, ... then halves the last), so a run of searches for increasing keys costs
/// about the log of the distance each moves, not of the list's length, and reads memory
/// near the last answer.
pub fn partition_point_from<T>(v: &[T], from: usize, pred: impl Fn(&T) -> bool) -> usize {
    let from = from.min(v.len());
    let mut lo = from; // pred holds before `lo`
    let mut step = 1usize;
    let mut hi = from; // first index known to fail, or the end
    while hi < v.len() && pred(&v[hi]) {
        lo = hi + 1;
        hi = hi.saturating_add(step).min(v.len());
        step = step.saturating_mul(2);
    }
    lo + v[lo..hi].partition_point(&pred)
}

#[cfg(test)]
mod tests {
    use super::partition_point_from;

    /// From any place the predicate holds before, the answer is `partition_point`'s.
    #[test]
    fn galloping_finds_what_a_binary_search_finds() {
        let v: Vec<u32> = (0..500u32).map(|i| i / 3 * 2).collect();
        for key in [0u32, 1, 2, 3, 50, 331, 332, 333, 1000] {
            let want = v.partition_point(|x| *x <= key);
            for from in [0, 1, want / 2, want.saturating_sub(1), want] {
                assert_eq!(
                    partition_point_from(&v, from, |x| *x <= key),
                    want,
                    "key {key} from {from}"
                );
            }
        }
        assert_eq!(partition_point_from(&v, 10_000, |x| *x <= 5), v.len());
        let empty: [u32; 0] = [];
        assert_eq!(partition_point_from(&empty, 0, |x| *x <= 5), 0);
    }
}
