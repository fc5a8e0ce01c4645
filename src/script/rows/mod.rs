//! Condition rows at run time: the operators ([`Op`]), what each decides for each kind of
//! value ([`compare`]) and the Rhai functions compiled rows call (`runtime.rs`):
//! `field(root, ["data", "items", 0])` reads a field (a missing one is remembered, not an
//! error), and one function per operator decides a row, e.g. `gt(field(..), 1000)`,
//! `contains(field(..), "abc", true)` (`true`: ignore case), `is_in(field(..), [1, 2])`.

pub mod compare;
mod op;
mod outcome;
mod runtime;

pub use op::Op;
pub use outcome::Outcome;
pub use runtime::register;
