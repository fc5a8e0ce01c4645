//! Numbers that keep the sender's exact digits.
//!
//! A JSON number whose text an `i64` or `f64` gives back unchanged becomes a plain Rhai
//! integer or float (the fast path: nearly every payload). Any other number (integers beyond
//! 64 bits such as `12591154125385152738`, long decimals such as `0.1000000000000000055511`,
//! `-0`, `1e400`, `1.50`) becomes an [`ExactNumber`] holding the text as sent: it prints and
//! serialises as that text, compares exactly by decimal value with any number, and refuses
//! arithmetic (which would round) with a message saying so; `to_float()` rounds on purpose.

use std::cmp::Ordering;

use rhai::{Dynamic, Engine, EvalAltResult, FLOAT, INT};

use super::translate::fault;

/// Rhai's name for [`ExactNumber`] in `type_of()` and messages.
pub const TYPE_NAME: &str = "exact number";

/// The function a number literal that `i64`/`f64` cannot hold is rewritten to before compiling
/// (`12591154125385152738` → `_exact_literal("12591154125385152738")`, see `rewrite.rs`).
pub const LITERAL_FN: &str = "_exact_literal";

/// A JSON number kept as its original text (valid JSON number grammar, RFC 8259 §6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExactNumber(pub String);

/// The script value for a JSON number: INT or FLOAT when they give back the same text,
/// otherwise an [`ExactNumber`].
pub fn to_dynamic(number: &serde_json::Number) -> Dynamic {
    let text = number.to_string();
    if let Ok(int) = text.parse::<INT>()
        && int.to_string() == text
    {
        return Dynamic::from_int(int);
    }
    if let Ok(float) = text.parse::<FLOAT>()
        && float.is_finite()
        && serde_json::Number::from_f64(float).is_some_and(|n| n.to_string() == text)
        // Rhai writes some floats its own way (`1e100` where serde_json writes `1e+100`, `0.0`
        // for `-0.0`): those stay exact, so `${n}` in a script gives the text that was sent.
        && Dynamic::from_float(float).to_string() == text
    {
        return Dynamic::from_float(float);
    }
    Dynamic::from(ExactNumber(text))
}

/// The JSON number for an exact number (its text, unchanged).
pub fn to_json(number: &ExactNumber) -> Option<serde_json::Number> {
    number.0.parse().ok()
}

/// A decimal as sign, significant digits (no leading or trailing zeros) and the exponent of
/// the first digit's place plus one: `123.4` is `(false, "1234", 3)`, zero is `(false, "", 0)`.
#[derive(Debug, PartialEq)]
struct Decimal {
    negative: bool,
    digits: String,
    exponent: i64,
}

fn decimal(text: &str) -> Option<Decimal> {
    let (negative, rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exp) = match rest.find(['e', 'E']) {
        Some(at) => {
            let exp = &rest[at + 1..];
            (
                &rest[..at],
                exp.strip_prefix('+').unwrap_or(exp).parse::<i64>().ok()?,
            )
        }
        None => (rest, 0),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int_part.is_empty()
        || !(int_part.bytes().chain(frac_part.bytes())).all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let all = format!("{int_part}{frac_part}");
    let leading = all.len() - all.trim_start_matches('0').len();
    let digits = all.trim_matches('0').to_string();
    if digits.is_empty() {
        return Some(Decimal {
            negative: false,
            digits,
            exponent: 0,
        });
    }
    Some(Decimal {
        negative,
        digits,
        exponent: exp.saturating_add(int_part.len() as i64 - leading as i64),
    })
}

/// Whether two decimal texts (JSON number grammar, exponent sign optional) have the same value.
pub fn same_value(a: &str, b: &str) -> bool {
    match (decimal(a), decimal(b)) {
        (Some(a), Some(b)) => compare_decimals(&a, &b) == Ordering::Equal,
        _ => false,
    }
}

fn compare_decimals(a: &Decimal, b: &Decimal) -> Ordering {
    let sign = |d: &Decimal| match (d.digits.is_empty(), d.negative) {
        (true, _) => 0,
        (false, true) => -1,
        (false, false) => 1,
    };
    match sign(a).cmp(&sign(b)) {
        Ordering::Equal if sign(a) == 0 => Ordering::Equal,
        Ordering::Equal => {
            let magnitude = a
                .exponent
                .cmp(&b.exponent)
                .then_with(|| a.digits.cmp(&b.digits));
            if a.negative {
                magnitude.reverse()
            } else {
                magnitude
            }
        }
        other => other,
    }
}

/// The exact order of two numbers written as text (JSON number grammar, RFC 8259 §6, or
/// the wider `decimal` grammar: leading zeros allowed); `None` when either is not a number.
pub fn compare_text(a: &str, b: &str) -> Option<Ordering> {
    Some(compare_decimals(&decimal(a)?, &decimal(b)?))
}

/// A number operand as a decimal; `Err` for infinities and NaN, which have none.
fn operand(value: &Dynamic) -> Option<Result<Decimal, FLOAT>> {
    if let Ok(int) = value.as_int() {
        return decimal(&int.to_string()).map(Ok);
    }
    if let Ok(float) = value.as_float() {
        // `{:e}` prints the shortest text that reads back as the same float.
        return Some(if float.is_finite() {
            decimal(&format!("{float:e}")).ok_or(float)
        } else {
            Err(float)
        });
    }
    value
        .read_lock::<ExactNumber>()
        .and_then(|n| decimal(&n.0))
        .map(Ok)
}

/// Exact order of two numbers (INT, FLOAT or exact); `None` when NaN is involved or a value
/// is not a number.
pub fn compare(a: &Dynamic, b: &Dynamic) -> Option<Ordering> {
    let infinite = |f: FLOAT| if f.is_nan() { None } else { Some(f > 0.0) };
    match (operand(a)?, operand(b)?) {
        (Ok(a), Ok(b)) => Some(compare_decimals(&a, &b)),
        (Err(a), Err(b)) => a.partial_cmp(&b),
        (Err(a), Ok(_)) => Some(if infinite(a)? {
            Ordering::Greater
        } else {
            Ordering::Less
        }),
        (Ok(_), Err(b)) => Some(if infinite(b)? {
            Ordering::Less
        } else {
            Ordering::Greater
        }),
    }
}

type Fallible<T> = Result<T, Box<EvalAltResult>>;

fn arithmetic_error(op: &str, a: &Dynamic, b: &Dynamic) -> Box<EvalAltResult> {
    let shown = |v: &Dynamic| match v.read_lock::<ExactNumber>() {
        Some(n) => n.0.clone(),
        None => v.to_string(),
    };
    fault(format!(
        "cannot compute {} {op} {}: {} keeps the exact digits it was sent with, and \
         script arithmetic would round it; use to_float() to round on purpose, or keep \
         it unchanged",
        shown(a),
        shown(b),
        [a, b]
            .into_iter()
            .find_map(|v| v.read_lock::<ExactNumber>().map(|n| n.0.clone()))
            .unwrap_or_default()
    ))
}

/// Registers the exact number type: printing, exact comparisons with every number type,
/// loud arithmetic, `to_float()` and `to_int()`.
pub fn register(engine: &mut Engine) {
    engine
        .register_type_with_name::<ExactNumber>(TYPE_NAME)
        .register_fn(LITERAL_FN, |text: &str| -> Fallible<ExactNumber> {
            match text.parse::<serde_json::Number>() {
                Ok(_) => Ok(ExactNumber(text.to_string())),
                Err(_) => Err(fault(format!("{text} is not a number"))),
            }
        })
        .register_fn("to_string", |n: &mut ExactNumber| n.0.clone())
        .register_fn("to_debug", |n: &mut ExactNumber| n.0.clone())
        .register_fn("to_float", |n: &mut ExactNumber| -> Fallible<FLOAT> {
            n.0.parse::<FLOAT>()
                .map_err(|_| fault(format!("{} cannot become a float", n.0)))
        })
        .register_fn("to_int", |n: &mut ExactNumber| -> Fallible<INT> {
            n.0.parse::<INT>()
                .map_err(|_| fault(format!("{} is not an integer that fits in 64 bits", n.0)))
        })
        .register_fn("-", |n: ExactNumber| match n.0.strip_prefix('-') {
            Some(positive) => ExactNumber(positive.to_string()),
            None => ExactNumber(format!("-{}", n.0)),
        });

    macro_rules! each_pair {
        ($register:ident) => {
            $register!(ExactNumber, ExactNumber);
            $register!(ExactNumber, INT);
            $register!(INT, ExactNumber);
            $register!(ExactNumber, FLOAT);
            $register!(FLOAT, ExactNumber);
        };
    }
    macro_rules! comparisons {
        ($a:ty, $b:ty) => {
            engine
                .register_fn("==", |a: $a, b: $b| {
                    compare(&Dynamic::from(a), &Dynamic::from(b)) == Some(Ordering::Equal)
                })
                .register_fn("!=", |a: $a, b: $b| {
                    compare(&Dynamic::from(a), &Dynamic::from(b)) != Some(Ordering::Equal)
                })
                .register_fn("<", |a: $a, b: $b| {
                    compare(&Dynamic::from(a), &Dynamic::from(b)) == Some(Ordering::Less)
                })
                .register_fn(">", |a: $a, b: $b| {
                    compare(&Dynamic::from(a), &Dynamic::from(b)) == Some(Ordering::Greater)
                })
                .register_fn("<=", |a: $a, b: $b| {
                    matches!(
                        compare(&Dynamic::from(a), &Dynamic::from(b)),
                        Some(Ordering::Less | Ordering::Equal)
                    )
                })
                .register_fn(">=", |a: $a, b: $b| {
                    matches!(
                        compare(&Dynamic::from(a), &Dynamic::from(b)),
                        Some(Ordering::Greater | Ordering::Equal)
                    )
                });
        };
    }
    macro_rules! arithmetic {
        ($a:ty, $b:ty) => {
            for op in ["+", "-", "*", "/", "%", "**"] {
                engine.register_fn(op, move |a: $a, b: $b| -> Fallible<Dynamic> {
                    Err(arithmetic_error(op, &Dynamic::from(a), &Dynamic::from(b)))
                });
            }
        };
    }
    each_pair!(comparisons);
    each_pair!(arithmetic);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(text: &str) -> serde_json::Number {
        text.parse().unwrap()
    }

    #[test]
    fn numbers_that_round_trip_stay_plain_and_others_stay_exact() {
        assert!(to_dynamic(&number("42")).is_int());
        assert!(to_dynamic(&number("-9223372036854775808")).is_int());
        assert!(to_dynamic(&number("1.5")).is_float());
        assert!(to_dynamic(&number("0.1")).is_float());
        for text in [
            "-0.0",
            "1e+100",
            "12591154125385152738",
            "0.1000000000000000055511",
            "-0",
            "1e400",
            "1.50",
            "1E3",
            "1e+20",
        ] {
            let value = to_dynamic(&number(text));
            let exact = value.read_lock::<ExactNumber>().map(|n| n.0.clone());
            // serde_json writes an exponent with its sign (`1e+400`): the same digits.
            assert_eq!(exact, Some(number(text).to_string()), "{text}");
        }
    }

    #[test]
    fn decimals_compare_by_value() {
        let cmp = |a: &str, b: &str| compare_decimals(&decimal(a).unwrap(), &decimal(b).unwrap());
        assert_eq!(
            cmp("12591154125385152738", "12591154125385152739"),
            Ordering::Less
        );
        assert_eq!(cmp("-0", "0"), Ordering::Equal);
        assert_eq!(cmp("1.50", "1.5"), Ordering::Equal);
        assert_eq!(cmp("1e3", "1000"), Ordering::Equal);
        assert_eq!(cmp("0.001", "1e-3"), Ordering::Equal);
        assert_eq!(cmp("1e400", "9e399"), Ordering::Greater);
        assert_eq!(cmp("-2", "-10"), Ordering::Greater);
        assert_eq!(cmp("-0.5", "0.25"), Ordering::Less);
        assert_eq!(cmp("0.1000000000000000055511", "0.1"), Ordering::Greater);
        assert_eq!(cmp("099", "100"), Ordering::Less);
    }

    #[test]
    fn floats_and_infinities_compare_with_exact_numbers() {
        let exact = |t: &str| Dynamic::from(ExactNumber(t.into()));
        let huge = exact("1e400");
        assert_eq!(
            compare(&huge, &Dynamic::from_float(f64::MAX)),
            Some(Ordering::Greater)
        );
        assert_eq!(
            compare(&huge, &Dynamic::from_float(f64::INFINITY)),
            Some(Ordering::Less)
        );
        assert_eq!(
            compare(&exact("-0"), &Dynamic::from_int(0)),
            Some(Ordering::Equal)
        );
        assert_eq!(
            compare(&exact("1.50"), &Dynamic::from_float(1.5)),
            Some(Ordering::Equal)
        );
        assert_eq!(compare(&exact("1"), &Dynamic::from_float(f64::NAN)), None);
    }
}
