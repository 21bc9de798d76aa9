//! The CPU thread count candle's matrix products use, fixed once at start-up.
//!
//! candle works the count out again at every matrix product, and on Linux machines without
//! per-CPU capacities that means reading `/proc/cpuinfo` (which makes the kernel query every
//! CPU's clock): about a fifth of a millisecond, hundreds of times per image embedding. candle
//! takes `RAYON_NUM_THREADS` first when it is set, so setting it to the count candle would
//! have chosen keeps its choice and skips the work.

/// Sets `RAYON_NUM_THREADS` to candle's own count unless the user set it. Call it first in
/// `main`, before any other thread exists (the environment is not safe to change later).
pub fn fix_thread_count() {
    #[cfg(any(feature = "zimage", feature = "sam"))]
    if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        let n = candle_core::utils::get_num_threads();
        std::env::set_var("RAYON_NUM_THREADS", n.to_string());
    }
}
