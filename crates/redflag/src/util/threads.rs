//! The worker threads.
//!
//! The count is configuration of the library's API (`threads` of the ingest and screen
//! options): an entry point runs its work inside [`with_threads`], and every
//! [`run_parallel`] below it, on that calling thread, uses that many workers. Results
//! come back by item, so nothing that is written depends on the count.

use std::cell::Cell;

thread_local! {
    /// The count in force on this thread (0: the machine's cores).
    static THREADS: Cell<usize> = const { Cell::new(0) };
}

/// The most worker threads a run uses: a larger count is taken as this one (the CLI
/// refuses it). Work is split by the count, so thousands of threads on a few cores spend
/// their time starting and splitting rather than working.
pub const MAX_THREADS: usize = 256;

/// Runs `f` with `threads` workers for every [`run_parallel`] it makes on this thread
/// (`None` or 0: the machine's cores), then restores the count in force before.
pub(crate) fn with_threads<R>(threads: Option<usize>, f: impl FnOnce() -> R) -> R {
    let before = THREADS.with(|t| t.replace(threads.unwrap_or(0).min(MAX_THREADS)));
    struct Restore(usize);
    impl Drop for Restore {
        fn drop(&mut self) {
            THREADS.with(|t| t.set(self.0));
        }
    }
    let _restore = Restore(before);
    f()
}

/// The number of worker threads in force: the count set by [`with_threads`], else the
/// machine's cores.
pub(crate) fn worker_threads() -> usize {
    match THREADS.with(Cell::get) {
        0 => std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .min(MAX_THREADS),
        n => n,
    }
}

/// Runs `f` on each item on the worker threads, each taking the next item when it is
/// free; returns (item, result) pairs in no particular order.
pub(crate) fn run_parallel<T: Send>(items: &[usize], f: impl Fn(usize) -> T + Sync) -> Vec<(usize, T)> {
    let workers = worker_threads().min(items.len()).max(1);
    if workers == 1 {
        return items.iter().map(|&i| (i, f(i))).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let work = || {
        let mut got = Vec::new();
        loop {
            let k = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let Some(&i) = items.get(k) else { break };
            got.push((i, f(i)));
        }
        got
    };
    std::thread::scope(|sc| {
        let handles: Vec<_> = (1..workers).map(|_| sc.spawn(work)).collect();
        let mut all = work();
        for h in handles {
            match h.join() {
                Ok(v) => all.extend(v),
                Err(p) => std::panic::resume_unwind(p),
            }
        }
        all
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_count_is_scoped_and_results_come_back_by_item() {
        let items: Vec<usize> = (0..100).collect();
        let one = with_threads(Some(1), || {
            assert_eq!(worker_threads(), 1);
            let mut r = run_parallel(&items, |i| i * i);
            r.sort_unstable();
            r
        });
        let four = with_threads(Some(4), || {
            assert_eq!(worker_threads(), 4);
            let inner = with_threads(Some(2), worker_threads);
            assert_eq!(inner, 2, "nested scopes set their own count");
            assert_eq!(worker_threads(), 4, "and restore the outer one");
            let mut r = run_parallel(&items, |i| i * i);
            r.sort_unstable();
            r
        });
        assert_eq!(one, four);
        assert_eq!(one.len(), 100);
    }

    /// A count above the limit is taken as the limit.
    #[test]
    fn the_count_is_capped() {
        with_threads(Some(10_000), || assert_eq!(worker_threads(), MAX_THREADS));
    }
}
