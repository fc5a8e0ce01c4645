//! Scripts compile and run on a thread of their own with a large stack.
//!
//! Rhai parses, evaluates, clones, compares, measures and drops values by plain recursion and
//! never looks at the native stack, and a Rust stack overflow aborts the whole process (rhai
//! issue #880). The limits bound how deep that recursion can go: at most
//! [`MAX_EXPR_DEPTH`](super::limits::MAX_EXPR_DEPTH) levels of nesting in the source, at most
//! [`MAX_CALL_LEVELS`](super::limits::MAX_CALL_LEVELS) nested calls, and values no deeper than
//! the size limits and the wall time let a script build. [`STACK_SIZE`] holds the deepest of
//! those with room to spare even in an unoptimised build, whatever thread calls in (tokio's
//! blocking threads and actix's workers have 2 MiB).
//!
//! A thread per run costs some tens of microseconds: small next to a script run, and the
//! stack is only reserved address space until the script actually uses it.

use std::thread;

/// Native stack of a script thread. The worst case the ceilings allow (64 nested calls, each
/// nested as deep as a function body may be, through native calls) needs between 16 and
/// 32 MiB in a debug build and far less optimised; 64 MiB leaves at least twice that.
/// `nesting_tests.rs` runs that worst case in a child process.
pub const STACK_SIZE: usize = 64 * 1024 * 1024;

/// Runs `work` on a fresh script thread and waits for it. `Err` carries a message when the
/// thread could not start or `work` panicked.
pub(crate) fn on_script_stack<T: Send>(work: impl FnOnce() -> T + Send) -> Result<T, String> {
    thread::scope(|scope| {
        let handle = thread::Builder::new()
            .name("switchyard-script".into())
            .stack_size(STACK_SIZE)
            .spawn_scoped(scope, work)
            .map_err(|err| format!("could not start a script thread: {err}"))?;
        handle
            .join()
            .map_err(|_| "the script engine failed unexpectedly (panic)".to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_on_a_named_thread_and_returns_the_value() {
        let name = on_script_stack(|| thread::current().name().map(str::to_owned)).unwrap();
        assert_eq!(name.as_deref(), Some("switchyard-script"));
        let borrowed = [1, 2, 3];
        assert_eq!(on_script_stack(|| borrowed.iter().sum::<i32>()), Ok(6));
    }

    #[test]
    fn a_panic_becomes_an_error() {
        let result = on_script_stack(|| -> u8 { panic!("boom") });
        assert_eq!(
            result,
            Err("the script engine failed unexpectedly (panic)".into())
        );
    }
}
