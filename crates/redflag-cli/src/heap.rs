//! Handing freed heap memory back to the operating system.
//!
//! Reading a large file leaves the C allocator's heaps full of freed blocks (the batches a
//! file is read in, once they are joined into one column each) between blocks that live
//! on. The allocator keeps them for reuse, but the rules allocate larger blocks, which do
//! not fit: the process's memory would count them all the run long. After reading, they
//! are returned.

/// Returns the heap's free pages to the system (glibc's `malloc_trim`); nothing elsewhere.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn release_free_memory() {
    extern "C" {
        fn malloc_trim(pad: usize) -> std::os::raw::c_int;
    }
    // SAFETY: malloc_trim takes no pointer, may be called at any time from any thread, and
    // only releases pages the allocator holds free.
    unsafe {
        malloc_trim(0);
    }
}

/// Returns the heap's free pages to the system (glibc's `malloc_trim`); nothing elsewhere.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn release_free_memory() {}
