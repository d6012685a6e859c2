//! Handing freed heap memory back to the operating system.
//!
//! Reading a large file leaves the C allocator's heaps full of freed blocks (the batches a
//! file is read in, once they are joined into one column each) between blocks that live
//! on, and each rule leaves more. The allocator keeps them for reuse, but later work often
//! asks for larger blocks, which do not fit: the process would hold them all the run
//! long. After reading, and after each rule, the free memory is returned once it passes
//! [`KEEP_FREE`]; below that it is kept, for reuse without a page fault.

/// Free heap memory kept for reuse (bytes); more is returned to the system.
pub const KEEP_FREE: usize = 256 << 20;

/// Returns the heap's free pages to the system when it holds more than [`KEEP_FREE`] of
/// them (glibc's `mallinfo2` and `malloc_trim`); does nothing elsewhere.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn release_free_memory() {
    /// glibc's `struct mallinfo2`.
    #[repr(C)]
    struct MallInfo2 {
        arena: usize,
        ordblks: usize,
        smblks: usize,
        hblks: usize,
        hblkhd: usize,
        usmblks: usize,
        fsmblks: usize,
        uordblks: usize,
        fordblks: usize,
        keepcost: usize,
    }
    extern "C" {
        fn mallinfo2() -> MallInfo2;
        fn malloc_trim(pad: usize) -> std::os::raw::c_int;
    }
    // SAFETY: both take no pointer and may be called at any time from any thread;
    // mallinfo2 returns a struct by value (glibc 2.33 and later), and malloc_trim only
    // releases pages the allocator holds free.
    unsafe {
        if mallinfo2().fordblks > KEEP_FREE {
            malloc_trim(0);
        }
    }
}

/// Returns the heap's free pages to the system; does nothing on this platform.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn release_free_memory() {}

/// Blocks from this size up are given their own pages, handed back to the system when
/// freed ([`return_large_blocks`]).
pub const LARGE_BLOCK: usize = 1 << 20;

/// Blocks from this size up get their own pages while the inputs are read ([`reading`]).
/// A batch's columns are blocks of 2 MiB and more: once the batches are joined into one
/// column each they go back to the system, where they would otherwise stay with the
/// process, free, beside the joined columns. Measured at 10M rows (three rules), the peak
/// is 2.26–2.28 GB instead of 2.96–3.08 GB (docs/performance.md, "Against DuckDB").
pub const READ_BLOCK: usize = 2 << 20;

/// glibc's largest threshold for blocks of their own, where its threshold settles as a
/// run frees large blocks (`DEFAULT_MMAP_THRESHOLD_MAX` on 64-bit systems).
const SETTLED_BLOCK: usize = 32 << 20;

/// The threshold a run set for good ([`return_large_blocks`]); 0 when none was.
static SET_FOR_RUN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Makes the C allocator give every block of [`LARGE_BLOCK`] or more its own pages and
/// hand them back when the block is freed (glibc's `mallopt(M_MMAP_THRESHOLD)`, which also
/// stops glibc from raising that size as it goes); does nothing elsewhere. Runs in shards
/// take it: their units read and drop one part of the data after another, whose freed
/// blocks would otherwise stay with the process between blocks that live on. Measured at
/// 10M rows, `screen --shards 4` peaks at 2.8 GB instead of 4.2 GB, for about a fifth
/// more time (docs/performance.md, "In shards").
pub fn return_large_blocks() {
    SET_FOR_RUN.store(LARGE_BLOCK, std::sync::atomic::Ordering::Relaxed);
    own_pages_from(LARGE_BLOCK);
}

/// Runs `read` (the reading of the inputs) with blocks of [`READ_BLOCK`] or more on pages
/// of their own, unless the run set a smaller size; then restores the run's size, or
/// glibc's settled one ([`SETTLED_BLOCK`]).
pub fn reading<T>(read: impl FnOnce() -> T) -> T {
    let before = SET_FOR_RUN.load(std::sync::atomic::Ordering::Relaxed);
    if before != 0 && before <= READ_BLOCK {
        return read();
    }
    own_pages_from(READ_BLOCK);
    let out = read();
    own_pages_from(if before == 0 { SETTLED_BLOCK } else { before });
    out
}

/// Blocks of `size` bytes or more served on pages of their own (glibc's
/// `mallopt(M_MMAP_THRESHOLD)`).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn own_pages_from(size: usize) {
    /// glibc's `M_MMAP_THRESHOLD`.
    const M_MMAP_THRESHOLD: std::os::raw::c_int = -3;
    extern "C" {
        fn mallopt(param: std::os::raw::c_int, value: std::os::raw::c_int) -> std::os::raw::c_int;
    }
    // SAFETY: mallopt takes no pointer; it changes how later allocations are served.
    unsafe {
        mallopt(M_MMAP_THRESHOLD, size as std::os::raw::c_int);
    }
}

/// Blocks are served as the platform's allocator serves them; nothing to change here.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn own_pages_from(_size: usize) {}
