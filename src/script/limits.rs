use std::time::Duration;

/// Scripted functions a script may define (not configurable).
pub const MAX_FUNCTIONS: usize = 100;
/// Variables alive at once, including `event`, `headers` and `meta` (not configurable).
pub const MAX_VARIABLES: usize = 1000;
/// Ceiling of `max_call_levels`: deeper settings are lowered to it, so that recursion cannot
/// outgrow the script thread's stack (see `stack.rs`).
pub const MAX_CALL_LEVELS: usize = 64;
/// Ceiling of `max_expr_depth` (0, "no limit", also means this): Rhai's parser recurses once
/// per nesting level before any other limit applies, so this is what makes 10,000 nested
/// parentheses a compile error instead of a stack overflow.
pub const MAX_EXPR_DEPTH: usize = 128;
/// Deepest nesting of arrays and maps in a script's result, below what JSON readers accept
/// (serde_json stops before 128 levels), so that every stored result can be read back.
pub const MAX_RESULT_DEPTH: usize = 100;

/// Limits every script runs under.
///
/// Rhai counts the size limits over a whole value, nested parts included (a map holding
/// two maps of 3 entries counts 8 entries), and it checks values that come from the input
/// too: an `event` larger than these limits fails the script as soon as it is used as a
/// whole (passed to a function, a method called on it, assigned whole).
///
/// Also fixed (not configurable): at most [`MAX_FUNCTIONS`] script functions,
/// [`MAX_VARIABLES`] variables, no modules, and a nesting depth of half of
/// `max_expr_depth` inside function bodies.
///
/// As in Rhai, 0 means "no limit" for `max_operations` and the three size limits;
/// `max_call_levels` 0 forbids calling script functions. Nesting has ceilings that no setting
/// lifts: [`MAX_CALL_LEVELS`] calls and [`MAX_EXPR_DEPTH`] levels of expressions (0 means the
/// ceiling).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ScriptLimits {
    /// Operations (roughly: evaluated expressions and statements) per run. Default 1_000_000.
    pub max_operations: u64,
    /// Depth of nested function calls. Default 32, at most [`MAX_CALL_LEVELS`].
    pub max_call_levels: usize,
    /// Nesting depth of expressions, checked when compiling. Default 64 (32 inside
    /// functions), at most [`MAX_EXPR_DEPTH`].
    pub max_expr_depth: usize,
    /// Bytes of string data in one value. Default 1 MiB (1_048_576).
    pub max_string_size: usize,
    /// Items of array data in one value. Default 10_000.
    pub max_array_size: usize,
    /// Entries of object-map data in one value. Default 10_000.
    pub max_map_size: usize,
    /// Wall-clock time per run. Default 1 second.
    pub wall_time: Duration,
}

impl Default for ScriptLimits {
    fn default() -> Self {
        Self {
            max_operations: 1_000_000,
            max_call_levels: 32,
            max_expr_depth: 64,
            max_string_size: 1_048_576,
            max_array_size: 10_000,
            max_map_size: 10_000,
            wall_time: Duration::from_secs(1),
        }
    }
}

impl ScriptLimits {
    /// The call depth the engine enforces: the setting, lowered to [`MAX_CALL_LEVELS`].
    pub fn effective_call_levels(&self) -> usize {
        self.max_call_levels.min(MAX_CALL_LEVELS)
    }

    /// The expression depth the engine enforces: the setting, lowered to [`MAX_EXPR_DEPTH`].
    pub fn effective_expr_depth(&self) -> usize {
        match self.max_expr_depth {
            0 => MAX_EXPR_DEPTH,
            depth => depth.min(MAX_EXPR_DEPTH),
        }
    }

    pub(crate) fn max_function_expr_depth(&self) -> usize {
        (self.effective_expr_depth() / 2).max(1)
    }
}
