//! A fixed list of jobs run on some number of threads, with the results in job order: the
//! work is cut the same way whatever the thread count, so the output never depends on it.

/// Runs `f` on every job, spreading the jobs round-robin over at most `threads` threads.
pub fn map<T, R, F>(jobs: Vec<T>, threads: usize, f: F) -> Vec<R>
where
    T: Send,
    R: Send,
    F: Fn(T) -> R + Sync,
{
    let n = jobs.len();
    let threads = threads.clamp(1, n.max(1));
    if threads == 1 {
        return jobs.into_iter().map(f).collect();
    }
    let mut lanes: Vec<Vec<(usize, T)>> = (0..threads).map(|_| Vec::new()).collect();
    for (i, job) in jobs.into_iter().enumerate() {
        lanes[i % threads].push((i, job));
    }
    let f = &f;
    let mut out: Vec<Option<R>> = (0..n).map(|_| None).collect();
    std::thread::scope(|sc| {
        let handles: Vec<_> = lanes
            .into_iter()
            .map(|lane| {
                sc.spawn(move || {
                    lane.into_iter()
                        .map(|(i, job)| (i, f(job)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            let done = h.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
            for (i, r) in done {
                out[i] = Some(r);
            }
        }
    });
    out.into_iter().flatten().collect()
}

/// The threads to use by default: the machine's cores, at most `cap`.
pub fn default_threads(cap: usize) -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, cap.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_job_order_for_any_thread_count() {
        let jobs: Vec<u32> = (0..11).collect();
        let one = map(jobs.clone(), 1, |j| j * j);
        for t in [2, 3, 8, 40] {
            assert_eq!(map(jobs.clone(), t, |j| j * j), one);
        }
        assert!(map(Vec::<u32>::new(), 4, |j| j).is_empty());
    }
}
