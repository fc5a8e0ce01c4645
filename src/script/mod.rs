//! Rhai scripts (dedupe expressions, filters, transforms): compiled once, run under limits.
//!
//! One [`ScriptEngine`] serves the whole process. Scripts see three variables: `event` (the
//! payload), `headers` (lower-case names to strings) and `meta` (`recipe`, `trigger`,
//! `received_at`); the value of the last expression is the result. `eval`, `import` and
//! `sleep` are refused, and `print`/`debug` output goes nowhere. Scripts compile and run on a
//! thread with a large stack of its own (`stack.rs`), so no script can overflow the stack of
//! the thread that calls in.

#[cfg(test)]
mod compare_tests;
mod convert;
mod deadline;
mod errors;
#[cfg(test)]
mod limit_tests;
mod limits;
#[cfg(test)]
mod nesting_tests;
pub mod number;
mod rewrite;
#[cfg(test)]
mod rewrite_tests;
pub mod rows;
mod stack;
mod strict;
#[cfg(test)]
mod strict_tests;
#[cfg(test)]
mod tests;
mod translate;
#[cfg(test)]
mod translate_tests;

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::Instant;

use rhai::module_resolvers::DummyModuleResolver;
use rhai::{AST, Dynamic, Engine, EvalAltResult, Scope};

pub use limits::{
    MAX_CALL_LEVELS, MAX_EXPR_DEPTH, MAX_FUNCTIONS, MAX_RESULT_DEPTH, MAX_VARIABLES, ScriptLimits,
};
pub use stack::STACK_SIZE;

/// The variables every script sees, in the order they are pushed.
pub(crate) const VARIABLES: [&str; 3] = ["event", "headers", "meta"];

/// What kind of script, used in messages ("filter script, line 3, column 5: ...").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScriptKind {
    Dedupe,
    Filter,
    Transform,
    /// An action's `when_script`: also sees `output`, the transform's output.
    Condition,
}

impl fmt::Display for ScriptKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ScriptKind::Dedupe => "dedupe expression",
            ScriptKind::Filter => "filter script",
            ScriptKind::Transform => "transform script",
            ScriptKind::Condition => "action condition (when_script)",
        })
    }
}

/// A script that does not compile. `line` and `column` start at 1; 0 means unknown.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
#[error("{kind}, line {line}, column {column}: {message}")]
pub struct CompileError {
    pub kind: ScriptKind,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum ScriptError {
    /// A limit stopped the script (operations, wall time, sizes, call depth...), e.g.
    /// "filter script stopped: exceeded the wall-time limit of 1s (line 1, column 8)".
    #[error("{0}")]
    Limit(String),
    /// The script threw or failed at run time, with line and column when Rhai gives them,
    /// e.g. "transform script, line 2, column 5: Runtime error: boom".
    #[error("{0}")]
    Runtime(String),
    /// Wrong result type, e.g. "filter script must return a bool, got string".
    #[error("{0}")]
    WrongType(String),
}

/// The variables a script sees. `event`: the payload (a JSON object becomes a Rhai map,
/// null becomes `()`, numbers as in [`number`]: `i64`, `f64` or an exact number that keeps
/// the digits as sent); `headers`: object of lower-case header name to string; `meta`: object
/// with `recipe`, `trigger`, `received_at`.
pub struct ScriptInput<'a> {
    pub event: &'a serde_json::Value,
    pub headers: &'a serde_json::Value,
    pub meta: &'a serde_json::Value,
}

/// A compiled script: cheap to clone, Send + Sync.
#[derive(Clone, Debug)]
pub struct CompiledScript {
    kind: ScriptKind,
    ast: Arc<AST>,
    /// The source as written, for messages that quote the path a script read.
    source: Arc<str>,
    /// Where the rewrite before compiling (see `rewrite.rs`) moved text.
    rewrites: Arc<rewrite::Rewrites>,
}

impl CompiledScript {
    pub fn kind(&self) -> ScriptKind {
        self.kind
    }
}

/// The process-wide script engine (building a Rhai engine costs ≈ 420 µs: build one and
/// share it). Clones share the same engine.
#[derive(Clone)]
pub struct ScriptEngine {
    inner: Arc<Inner>,
}

struct Inner {
    engine: Engine,
    limits: ScriptLimits,
}

impl fmt::Debug for ScriptEngine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScriptEngine")
            .field("limits", &self.inner.limits)
            .finish_non_exhaustive()
    }
}

impl ScriptEngine {
    pub fn new(limits: ScriptLimits) -> Self {
        let mut engine = Engine::new();
        engine
            .set_max_operations(limits.max_operations)
            .set_max_call_levels(limits.effective_call_levels())
            .set_max_expr_depths(
                limits.effective_expr_depth(),
                limits.max_function_expr_depth(),
            )
            .set_max_string_size(limits.max_string_size)
            .set_max_array_size(limits.max_array_size)
            .set_max_map_size(limits.max_map_size)
            .set_max_variables(MAX_VARIABLES)
            .set_max_functions(MAX_FUNCTIONS)
            .set_max_modules(0)
            .set_strict_variables(true)
            .set_fail_on_invalid_map_property(true)
            .set_module_resolver(DummyModuleResolver::new())
            .disable_symbol("eval")
            .disable_symbol("import")
            .on_print(|_| {})
            .on_debug(|_, _, _| {})
            .on_progress(deadline::on_progress);
        // The standard library's `sleep` blocks the thread where no deadline can stop it;
        // functions registered on the engine take precedence over the packaged ones.
        engine
            .register_fn("sleep", |_: rhai::INT| -> Result<(), Box<EvalAltResult>> {
                Err("sleep is not available in scripts".into())
            })
            .register_fn(
                "sleep",
                |_: rhai::FLOAT| -> Result<(), Box<EvalAltResult>> {
                    Err("sleep is not available in scripts".into())
                },
            );
        number::register(&mut engine);
        strict::register(&mut engine);
        rows::register(&mut engine);
        Self {
            inner: Arc::new(Inner { engine, limits }),
        }
    }

    pub fn limits(&self) -> &ScriptLimits {
        &self.inner.limits
    }

    /// Compiles with strict variables: only `event`, `headers`, `meta` and the script's own
    /// `let`s are known, so a typo such as `evnt.x` is a compile error with line and column.
    /// Reads and comparisons are strict at run time (see `strict.rs`).
    pub fn compile(&self, kind: ScriptKind, source: &str) -> Result<CompiledScript, CompileError> {
        stack::on_script_stack(|| self.compile_here(kind, source)).unwrap_or_else(|message| {
            Err(CompileError {
                kind,
                line: 0,
                column: 0,
                message,
            })
        })
    }

    fn compile_here(&self, kind: ScriptKind, source: &str) -> Result<CompiledScript, CompileError> {
        let mut scope = Scope::new();
        for name in VARIABLES {
            // Variables, not constants: the optimizer would fold constants' dummy values.
            scope.push_dynamic(name, Dynamic::UNIT);
        }
        if kind == ScriptKind::Condition {
            scope.push_dynamic("output", Dynamic::UNIT);
        }
        let (rewritten, rewrites) = rewrite::rewrite(source).map_err(|at| CompileError {
            kind,
            line: at.line,
            column: at.column,
            message: rewrite::QuotedInterpolation::MESSAGE.to_string(),
        })?;
        let ast = self
            .inner
            .engine
            .compile_with_scope(&scope, &rewritten)
            .map_err(|err| errors::compile_error(kind, &err, &rewrites))?;
        Ok(CompiledScript {
            kind,
            ast: Arc::new(ast),
            source: source.into(),
            rewrites: Arc::new(rewrites),
        })
    }

    /// Runs the script and returns its value as JSON (`()` becomes null). Blocking: call it
    /// inside `tokio::task::spawn_blocking`.
    pub fn eval_json(
        &self,
        script: &CompiledScript,
        input: &ScriptInput,
    ) -> Result<serde_json::Value, ScriptError> {
        self.on_script_stack(script, input, None, |value| {
            errors::check_result_depth(script.kind, &value)?;
            convert::to_json(&value).ok_or_else(|| {
                let part =
                    errors::non_json_part(&value).unwrap_or_else(|| errors::type_name(&value));
                ScriptError::WrongType(format!(
                    "{} must return data that has a JSON form, got a value holding {part}",
                    script.kind
                ))
            })
        })
    }

    /// Runs the script, which must evaluate to a bool. Blocking, like [`Self::eval_json`].
    pub fn eval_bool(
        &self,
        script: &CompiledScript,
        input: &ScriptInput,
    ) -> Result<bool, ScriptError> {
        self.eval_bool_after(script, input, None)
    }

    /// [`Self::eval_bool`] for an action condition ([`ScriptKind::Condition`]), which also
    /// sees `output`: the transform's output.
    pub fn eval_bool_after(
        &self,
        script: &CompiledScript,
        input: &ScriptInput,
        output: Option<&serde_json::Value>,
    ) -> Result<bool, ScriptError> {
        self.on_script_stack(script, input, output, |value| {
            value.as_bool().map_err(|_| {
                ScriptError::WrongType(format!(
                    "{} must return a bool (true or false), got {}",
                    script.kind,
                    strict::shown(&value)
                ))
            })
        })
    }

    /// Runs the script on a script thread; the value is checked and converted there too, so
    /// that nothing deeply nested is walked or dropped on the caller's stack.
    fn on_script_stack<T: Send>(
        &self,
        script: &CompiledScript,
        input: &ScriptInput,
        output: Option<&serde_json::Value>,
        finish: impl FnOnce(Dynamic) -> Result<T, ScriptError> + Send,
    ) -> Result<T, ScriptError> {
        stack::on_script_stack(|| self.eval(script, input, output).and_then(finish)).unwrap_or_else(
            |message| Err(ScriptError::Runtime(format!("{}: {message}", script.kind))),
        )
    }

    fn eval(
        &self,
        script: &CompiledScript,
        input: &ScriptInput,
        output: Option<&serde_json::Value>,
    ) -> Result<Dynamic, ScriptError> {
        let Inner { engine, limits } = &*self.inner;
        let mut scope = Scope::new();
        for (name, value) in VARIABLES
            .into_iter()
            .zip([input.event, input.headers, input.meta])
        {
            scope.push_dynamic(name, convert::to_dynamic(value));
        }
        if script.kind == ScriptKind::Condition {
            let output = output.unwrap_or(&serde_json::Value::Null);
            scope.push_dynamic("output", convert::to_dynamic(output));
        }

        let deadline = Instant::now().checked_add(limits.wall_time);
        let _guard = deadline.map(deadline::DeadlineGuard::set);
        // Rhai should not panic, but if it does, fail this run rather than the caller.
        let result = catch_unwind(AssertUnwindSafe(|| {
            engine.eval_ast_with_scope::<Dynamic>(&mut scope, &script.ast)
        }));
        match result {
            Ok(Ok(value)) => {
                errors::check_result_size(script.kind, limits, &value)?;
                Ok(value)
            }
            Ok(Err(err)) => Err(errors::runtime_error(
                &errors::Context {
                    kind: script.kind,
                    limits,
                    source: &script.source,
                    rewrites: &script.rewrites,
                    input,
                },
                *err,
            )),
            Err(_) => Err(ScriptError::Runtime(format!(
                "{}: the script engine failed unexpectedly (panic)",
                script.kind
            ))),
        }
    }
}
