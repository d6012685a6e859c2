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
    on_workers(workers, work)
}

/// Runs `work` on `workers` threads (this one among them) and joins what each returns; a
/// panic on a worker is resumed here.
fn on_workers<T: Send>(workers: usize, work: impl Fn() -> Vec<T> + Sync) -> Vec<T> {
    std::thread::scope(|sc| {
        let handles: Vec<_> = (1..workers).map(|_| sc.spawn(&work)).collect();
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

/// As [`run_parallel`], but no two items `apart` says are apart run at the same time: a
/// worker free while one runs takes the next item that is not apart, or waits for it to
/// end. Items start in the order given otherwise.
pub(crate) fn run_parallel_apart<T: Send>(
    items: &[usize],
    apart: impl Fn(usize) -> bool + Sync,
    f: impl Fn(usize) -> T + Sync,
) -> Vec<(usize, T)> {
    use std::sync::{Condvar, Mutex};
    /// Which items are taken, and whether an item apart is running.
    struct Queue {
        taken: Vec<bool>,
        apart_running: bool,
    }
    let queue = Mutex::new(Queue {
        taken: vec![false; items.len()],
        apart_running: false,
    });
    let ended = Condvar::new();
    let lock = || queue.lock().unwrap_or_else(|p| p.into_inner());
    // The next item this worker may start (and whether it is apart), waiting while only
    // items apart are left and one of them runs; none when every item is taken.
    let next = || -> Option<(usize, bool)> {
        let mut q = lock();
        loop {
            let free = (0..items.len()).filter(|&k| !q.taken[k]);
            let mut any = false;
            let mut pick = None;
            for k in free {
                any = true;
                let is_apart = apart(items[k]);
                if !(is_apart && q.apart_running) {
                    pick = Some((k, is_apart));
                    break;
                }
            }
            match pick {
                Some((k, is_apart)) => {
                    q.taken[k] = true;
                    q.apart_running |= is_apart;
                    return Some((items[k], is_apart));
                }
                None if !any => return None,
                None => q = ended.wait(q).unwrap_or_else(|p| p.into_inner()),
            }
        }
    };
    /// Ends the item apart that runs when dropped, even by a panic, so that no worker
    /// waits for it forever.
    struct Ending<'a>(&'a Mutex<Queue>, &'a Condvar);
    impl Drop for Ending<'_> {
        fn drop(&mut self) {
            self.0.lock().unwrap_or_else(|p| p.into_inner()).apart_running = false;
            self.1.notify_all();
        }
    }
    let work = || {
        let mut got = Vec::new();
        while let Some((i, is_apart)) = next() {
            let _ending = is_apart.then(|| Ending(&queue, &ended));
            got.push((i, f(i)));
        }
        got
    };
    let workers = worker_threads().min(items.len()).max(1);
    on_workers(workers, work)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Items apart never overlap, every item runs once, and the others run beside them.
    #[test]
    fn items_apart_run_one_at_a_time() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let items: Vec<usize> = (0..40).collect();
        let running = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        let got = with_threads(Some(4), || {
            run_parallel_apart(
                &items,
                |i| i % 3 == 0,
                |i| {
                    if i % 3 == 0 {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        std::thread::sleep(std::time::Duration::from_millis(2));
                        running.fetch_sub(1, Ordering::SeqCst);
                    }
                    i * 2
                },
            )
        });
        let mut got = got;
        got.sort_unstable();
        assert_eq!(got, items.iter().map(|&i| (i, i * 2)).collect::<Vec<_>>());
        assert_eq!(most.load(Ordering::SeqCst), 1, "two items apart ran together");
    }

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
