//! How condition rows combine: the one rule both the compiled Rhai (`runtime.rs`) and the
//! direct evaluator (`recipe::conditions::eval`) follow. It does not depend on the rows'
//! order (README "Condition rows"):
//! - `all`: any row not held → not held (even when another row could not be decided);
//!   else the first row that could not be decided → that error; else held.
//! - `any`: any row held → held; else the first error; else not held.
//!
//! Groups, and the top level (the `when` rows, then at least one group), combine the same way.

/// One row's (or one list's) outcome; `E` is the error (a message, or one naming the row).
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome<E> {
    Held,
    NotHeld,
    /// The row could not be decided (a missing field for `gt`, text for `is_true`...).
    Error(E),
}

impl<E> Outcome<E> {
    /// A decided row (`Ok(held)`) or one that could not be decided.
    pub fn from_result(result: Result<bool, E>) -> Self {
        match result {
            Ok(true) => Outcome::Held,
            Ok(false) => Outcome::NotHeld,
            Err(error) => Outcome::Error(error),
        }
    }

    /// Combines outcomes: `all` (AND) or not (`any`, OR), as the module docs say.
    pub fn combine(all: bool, outcomes: impl IntoIterator<Item = Self>) -> Self {
        let mut error = None;
        for outcome in outcomes {
            match outcome {
                Outcome::NotHeld if all => return Outcome::NotHeld,
                Outcome::Held if !all => return Outcome::Held,
                Outcome::Error(e) => {
                    error.get_or_insert(e);
                }
                _ => {}
            }
        }
        match (error, all) {
            (Some(e), _) => Outcome::Error(e),
            (None, true) => Outcome::Held,
            (None, false) => Outcome::NotHeld,
        }
    }

    /// `Ok(held)`, or the error.
    pub fn into_result(self) -> Result<bool, E> {
        match self {
            Outcome::Held => Ok(true),
            Outcome::NotHeld => Ok(false),
            Outcome::Error(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Outcome::{self, Error, Held, NotHeld};

    fn all(items: Vec<Outcome<&str>>) -> Outcome<&str> {
        Outcome::combine(true, items)
    }
    fn any(items: Vec<Outcome<&str>>) -> Outcome<&str> {
        Outcome::combine(false, items)
    }

    #[test]
    fn under_all_a_false_row_decides_over_an_error_in_either_order() {
        assert_eq!(all(vec![Error("missing"), NotHeld]), NotHeld);
        assert_eq!(all(vec![NotHeld, Error("missing")]), NotHeld);
        assert_eq!(all(vec![Held, Error("missing")]), Error("missing"));
        assert_eq!(all(vec![Error("missing"), Held]), Error("missing"));
        assert_eq!(all(vec![Held, Held]), Held);
        assert_eq!(all(vec![]), Held);
        assert_eq!(all(vec![Error("a"), Error("b")]), Error("a"));
    }

    #[test]
    fn under_any_a_held_row_decides_over_an_error_in_either_order() {
        assert_eq!(any(vec![Error("missing"), Held]), Held);
        assert_eq!(any(vec![Held, Error("missing")]), Held);
        assert_eq!(any(vec![NotHeld, Error("missing")]), Error("missing"));
        assert_eq!(any(vec![Error("missing"), NotHeld]), Error("missing"));
        assert_eq!(any(vec![NotHeld, NotHeld]), NotHeld);
        assert_eq!(any(vec![]), NotHeld);
    }
}
