//! Work spread over threads with results kept in input order, so that what is written
//! never depends on the number of threads. Native only: the browser has no threads.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// `f` applied to every item on up to `threads` threads (each takes the next item not yet
/// taken); the results come back in the order of `items`. One thread, or one item, runs
/// on the calling thread.
pub fn map_in_order<T: Send, R: Send>(
    items: Vec<T>,
    threads: usize,
    f: impl Fn(usize, T) -> R + Sync,
) -> Vec<R> {
    let mut results = Vec::with_capacity(items.len());
    each_in_order(items, threads, f, |r| results.push(r));
    results
}

/// [`map_in_order`], handing each result to `each` on the calling thread as soon as it and
/// all those before it are done: the caller works on the first results while the threads
/// make the next ones.
pub fn each_in_order<T: Send, R: Send>(
    items: Vec<T>,
    threads: usize,
    f: impl Fn(usize, T) -> R + Sync,
    mut each: impl FnMut(R),
) {
    if threads <= 1 || items.len() <= 1 {
        for (i, t) in items.into_iter().enumerate() {
            each(f(i, t));
        }
        return;
    }
    let count = items.len();
    let items: Vec<Mutex<Option<T>>> = items.into_iter().map(|t| Mutex::new(Some(t))).collect();
    let next = AtomicUsize::new(0);
    let (done, results) = std::sync::mpsc::channel::<(usize, R)>();
    std::thread::scope(|scope| {
        for _ in 0..threads.min(count) {
            let (done, items, next, f) = (done.clone(), &items, &next, &f);
            scope.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(slot) = items.get(i) else { break };
                let item = slot
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .take()
                    .expect("each item is taken once");
                if done.send((i, f(i, item))).is_err() {
                    break;
                }
            });
        }
        drop(done);
        // Results that came before those ahead of them.
        let mut early = std::collections::BTreeMap::new();
        let mut due = 0;
        for (i, r) in results {
            early.insert(i, r);
            while let Some(r) = early.remove(&due) {
                each(r);
                due += 1;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_the_order_of_the_items_whatever_the_threads() {
        let items: Vec<u64> = (0..100).collect();
        for threads in [1, 2, 7, 200] {
            let out = map_in_order(items.clone(), threads, |i, v| (i as u64) * 1000 + v * v);
            assert_eq!(
                out,
                (0..100u64).map(|v| v * 1000 + v * v).collect::<Vec<_>>()
            );
        }
        assert!(map_in_order(Vec::<u8>::new(), 4, |_, v| v).is_empty());
    }

    #[test]
    fn each_result_is_handed_on_in_order_while_later_ones_are_made() {
        for threads in [1, 2, 7] {
            let mut seen = Vec::new();
            // Early items take longest, so later ones are done first and must wait.
            each_in_order(
                (0..40u64).collect(),
                threads,
                |i, v| {
                    std::thread::sleep(std::time::Duration::from_micros(40 - i as u64));
                    v * 3
                },
                |r| seen.push(r),
            );
            assert_eq!(seen, (0..40u64).map(|v| v * 3).collect::<Vec<_>>());
        }
    }
}
