//! The worker's messages waiting for the page to apply them, in groups: the progress of
//! reading and of downloads a few times a second, a download to save at once, anything
//! else at the next frame.

use crate::protocol::{FromWorker, Received};

/// Progress is applied at most this often, in milliseconds.
pub const PROGRESS_EVERY: f64 = 250.0;

/// What a message says, as far as its urgency goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A file was added (it is being read).
    Added,
    /// A file's reading went on, or its size came; or a download's writing went on.
    Progress,
    /// A file was read, or could not be.
    Ended,
    /// A download the user asked for, made: saved at once, as the answer to a click.
    Saved,
    /// Anything else: results, errors.
    Other,
}

impl Kind {
    /// The kind of a worker's message.
    pub fn of(msg: &FromWorker) -> Kind {
        match msg {
            FromWorker::FileAdded { .. } => Kind::Added,
            // A download written in parts tells of each part: drawn each time, the page
            // took a core's time from the workers writing them.
            FromWorker::Progress { .. } | FromWorker::Parts { .. } | FromWorker::Writing { .. } => {
                Kind::Progress
            }
            FromWorker::FileRead { .. } | FromWorker::FileFailed { .. } => Kind::Ended,
            FromWorker::File { .. } => Kind::Saved,
            _ => Kind::Other,
        }
    }
}

/// When the page should apply what waits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Apply {
    /// Now, with everything that waits before it.
    Now,
    /// At the next frame.
    NextFrame,
    /// After this many milliseconds.
    After(f64),
}

/// Messages in the order they came, and what is already scheduled to apply them.
pub struct Waiting<T> {
    messages: Vec<(Kind, T)>,
    frame: bool,
    timer: bool,
    /// When messages were last applied.
    last: f64,
}

impl<T> Default for Waiting<T> {
    fn default() -> Self {
        Waiting {
            messages: Vec::new(),
            frame: false,
            timer: false,
            last: f64::NEG_INFINITY,
        }
    }
}

/// The page's inbox.
pub type Inbox = Waiting<Received<FromWorker>>;

impl Inbox {
    /// Keeps a worker's message; see [`Waiting::keep`].
    pub fn push(
        &mut self,
        received: Received<FromWorker>,
        reading: usize,
        now: f64,
    ) -> Option<Apply> {
        let kind = Kind::of(&received.msg);
        self.keep(kind, received, reading, now)
    }
}

impl<T> Waiting<T> {
    /// Keeps a message; `reading` is the number of files the page shows as being read.
    /// Returns when to apply the messages if that is not scheduled yet. Progress can
    /// wait, but not the end of reading (the zones are built then), nor any other message;
    /// a download to save does not wait for a frame (up to one frame's time after the
    /// click that asked for it).
    pub fn keep(&mut self, kind: Kind, message: T, reading: usize, now: f64) -> Option<Apply> {
        self.messages.push((kind, message));
        if kind == Kind::Saved {
            return Some(Apply::Now);
        }
        if self.frame {
            return None;
        }
        let count = |k: Kind| self.messages.iter().filter(|(m, _)| *m == k).count();
        let ended = count(Kind::Ended);
        let reading_ends = ended > 0 && reading + count(Kind::Added) <= ended;
        if kind == Kind::Other || reading_ends || now - self.last >= PROGRESS_EVERY {
            self.frame = true;
            return Some(Apply::NextFrame);
        }
        if self.timer {
            return None;
        }
        self.timer = true;
        Some(Apply::After(self.last + PROGRESS_EVERY - now))
    }

    /// The messages to apply now, in the order they came.
    pub fn take(&mut self, now: f64) -> Vec<T> {
        self.frame = false;
        self.timer = false;
        if !self.messages.is_empty() {
            self.last = now;
        }
        std::mem::take(&mut self.messages)
            .into_iter()
            .map(|(_, m)| m)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_progress_of_downloads_waits_as_reading_progress_does() {
        let parts = FromWorker::Parts { done: 1, total: 9 };
        let writing = FromWorker::Writing {
            name: "customer_landing.jsonl".into(),
            done: 0,
            total: 9,
        };
        assert_eq!(Kind::of(&parts), Kind::Progress);
        assert_eq!(Kind::of(&writing), Kind::Progress);
        let failed = FromWorker::Failed {
            message: "no".into(),
        };
        assert_eq!(Kind::of(&failed), Kind::Other);
        let file = FromWorker::File {
            name: "machine_learning_curated.csv".into(),
            made: crate::protocol::Made {
                bytes: 1,
                millis: None,
                parts: 1,
                workers: 1,
            },
        };
        assert_eq!(Kind::of(&file), Kind::Saved);
    }

    #[test]
    fn a_download_to_save_goes_at_once_with_what_waits_before_it() {
        let mut w = Waiting::default();
        assert_eq!(w.keep(Kind::Other, 1, 0, 0.0), Some(Apply::NextFrame));
        assert_eq!(w.keep(Kind::Progress, 2, 0, 1.0), None);
        // The frame is asked for already; the download does not wait for it.
        assert_eq!(w.keep(Kind::Saved, 3, 0, 2.0), Some(Apply::Now));
        assert_eq!(w.take(2.0), vec![1, 2, 3]);
        // The frame asked for before finds nothing left; the next message asks again.
        assert!(w.take(16.0).is_empty());
        assert_eq!(w.keep(Kind::Other, 4, 0, 20.0), Some(Apply::NextFrame));
        assert_eq!(w.keep(Kind::Saved, 5, 0, 21.0), Some(Apply::Now));
        assert_eq!(w.take(21.0), vec![4, 5]);
    }

    #[test]
    fn progress_waits_but_results_and_the_end_of_reading_do_not() {
        let mut w = Waiting::default();
        // Nothing applied yet: the first message goes at the next frame.
        assert_eq!(w.keep(Kind::Added, 1, 0, 0.0), Some(Apply::NextFrame));
        assert_eq!(w.keep(Kind::Progress, 2, 0, 1.0), None);
        assert_eq!(w.take(10.0), vec![1, 2]);
        // Soon after, progress waits for the rest of the interval, with one timer.
        assert_eq!(
            w.keep(Kind::Progress, 3, 2, 60.0),
            Some(Apply::After(PROGRESS_EVERY - 50.0))
        );
        assert_eq!(w.keep(Kind::Ended, 4, 2, 70.0), None);
        // The second of two files read: reading ends, so the next frame.
        assert_eq!(w.keep(Kind::Ended, 5, 2, 80.0), Some(Apply::NextFrame));
        assert_eq!(w.keep(Kind::Other, 6, 2, 81.0), None);
        assert_eq!(w.take(90.0), vec![3, 4, 5, 6]);
        // A result never waits.
        assert_eq!(w.keep(Kind::Other, 7, 0, 95.0), Some(Apply::NextFrame));
        assert_eq!(w.take(100.0), vec![7]);
        // A file added in the same group is still being read.
        assert_eq!(
            w.keep(Kind::Added, 8, 1, 110.0),
            Some(Apply::After(PROGRESS_EVERY - 10.0))
        );
        assert_eq!(w.keep(Kind::Ended, 9, 1, 120.0), None);
        assert_eq!(w.keep(Kind::Ended, 10, 1, 130.0), Some(Apply::NextFrame));
        assert_eq!(w.take(140.0), vec![8, 9, 10]);
        // Progress long after the last group goes at once.
        assert_eq!(w.keep(Kind::Progress, 11, 1, 500.0), Some(Apply::NextFrame));
        assert!(w.take(510.0) == vec![11] && w.take(520.0).is_empty());
    }
}
