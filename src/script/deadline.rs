//! Wall-clock deadline for the script running on the current thread.
//!
//! The engine is shared by all threads, so the deadline cannot live in it; each run sets
//! a thread-local that the engine's progress callback reads.

use std::cell::Cell;
use std::time::Instant;

use rhai::Dynamic;

/// The token the progress callback terminates a script with when its time is up.
pub(crate) const WALL_TIME_TOKEN: &str = "switchyard:wall-time";

/// Reading the clock on every operation would cost a noticeable share of the run time.
const CHECK_EVERY_OPS: u64 = 128;

thread_local! {
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// Sets the deadline for this thread until dropped, then restores the previous one.
pub(crate) struct DeadlineGuard {
    previous: Option<Instant>,
}

impl DeadlineGuard {
    pub(crate) fn set(deadline: Instant) -> Self {
        let previous = DEADLINE.with(|d| d.replace(Some(deadline)));
        Self { previous }
    }
}

impl Drop for DeadlineGuard {
    fn drop(&mut self) {
        DEADLINE.with(|d| d.set(self.previous));
    }
}

/// The engine's `on_progress` callback: `Some(token)` terminates the script.
pub(crate) fn on_progress(ops: u64) -> Option<Dynamic> {
    if !ops.is_multiple_of(CHECK_EVERY_OPS) {
        return None;
    }
    let deadline = DEADLINE.with(Cell::get)?;
    (Instant::now() >= deadline).then(|| Dynamic::from(WALL_TIME_TOKEN))
}
