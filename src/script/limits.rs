use std::time::Duration;

/// Scripted functions a script may define (not configurable).
pub const MAX_FUNCTIONS: usize = 100;
/// Variables alive at once, including `event`, `headers` and `meta` (not configurable).
pub const MAX_VARIABLES: usize = 1000;

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
/// As in Rhai, 0 means "no limit" for `max_operations`, `max_expr_depth` and the three
/// size limits; `max_call_levels` 0 forbids calling script functions.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ScriptLimits {
    /// Operations (roughly: evaluated expressions and statements) per run. Default 1_000_000.
    pub max_operations: u64,
    /// Depth of nested function calls. Default 32.
    pub max_call_levels: usize,
    /// Nesting depth of expressions, checked when compiling. Default 64 (32 inside functions).
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
    pub(crate) fn max_function_expr_depth(&self) -> usize {
        (self.max_expr_depth / 2).max(1)
    }
}
