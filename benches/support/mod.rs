//! Timing shared by the micro-benchmarks: run a closure many times and report the
//! spread, so one slow run (a page fault, the scheduler) does not read as the cost.

use std::time::Instant;

/// The run times in `unit`s per call (1e3 for ms, 1e9 for ns), sorted, of `runs` runs
/// of `batch` calls each.
pub fn times(runs: usize, batch: usize, unit: f64, mut f: impl FnMut()) -> Vec<f64> {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        for _ in 0..batch {
            f();
        }
        times.push(start.elapsed().as_secs_f64() * unit / batch as f64);
    }
    times.sort_by(f64::total_cmp);
    times
}

/// The `p`th quantile (0–1) of sorted times.
pub fn pct(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p) as usize]
}
