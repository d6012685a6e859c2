//! Small utilities below everything else: number and time formatting, hashing, the
//! worker threads, the cancellation flag, sliding-window order statistics and sums,
//! searching a sorted list from a known place. They import nothing of the crate.

pub mod cancel;
pub mod format;
pub mod hash;
pub mod search;
pub mod threads;
pub mod window;
