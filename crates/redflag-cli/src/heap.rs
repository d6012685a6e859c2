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

/// Makes the C allocator give every block of [`LARGE_BLOCK`] or more its own pages and
/// hand them back when the block is freed (glibc's `mallopt(M_MMAP_THRESHOLD)`, which also
/// stops glibc from raising that size as it goes); does nothing elsewhere. Runs in shards
/// take it: their units read and drop one part of the data after another, whose freed
/// blocks would otherwise stay with the process between blocks that live on. Measured at
/// 10M rows, `screen --shards 4` peaks at 2.8 GB instead of 4.2 GB, for about a fifth
/// more time (docs/performance.md, "In shards").
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn return_large_blocks() {
    /// glibc's `M_MMAP_THRESHOLD`.
    const M_MMAP_THRESHOLD: std::os::raw::c_int = -3;
    extern "C" {
        fn mallopt(param: std::os::raw::c_int, value: std::os::raw::c_int) -> std::os::raw::c_int;
    }
    // SAFETY: mallopt takes no pointer; it changes how later allocations are served.
    unsafe {
        mallopt(M_MMAP_THRESHOLD, LARGE_BLOCK as std::os::raw::c_int);
    }
}

/// Blocks are served as the platform's allocator serves them; nothing to change here.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn return_large_blocks() {}
