//! Which methods a hook URL accepts, per RFC 9110 §9: POST and PUT deliver an event; GET does
//! too where the recipe says `allow_get`, and then HEAD (§9.3.2: allowed wherever GET is, GET
//! without content) goes through what GET does: the rate limit (a HEAD counts like a GET, so
//! probing cannot outrun it), the recipe's `verify` check (a refusal is a 401, counted like any
//! other) and the parsing of the query; where GET would store the event, HEAD answers 200 with
//! no body and stores nothing (§9.2.1, safe methods). `respond = "result"` scripts do not run
//! for a HEAD. OPTIONS answers 204 with `Allow` (§9.3.7). Any other method is a 405 whose
//! `Allow` lists exactly what this hook accepts (§15.5.6). An unknown token is a 404 whatever
//! the method: the caller learns nothing about hooks that do not exist.

use actix_web::http::Method;

use super::error::IngestError;

/// What the handler does with a request to an existing hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handling {
    /// Read, verify and store the event.
    Receive,
    /// Checked like a GET, then 200 with no body; nothing stored.
    Head,
    /// 204 with `Allow`.
    Options,
}

/// The `Allow` value of a hook URL (RFC 9110 §10.2.1).
pub fn allow(allow_get: bool) -> &'static str {
    if allow_get {
        "GET, HEAD, POST, PUT, OPTIONS"
    } else {
        "POST, PUT, OPTIONS"
    }
}

/// How a request with `method` to a hook with `allow_get` is handled, or its 405.
pub fn handling(method: &Method, allow_get: bool) -> Result<Handling, IngestError> {
    match *method {
        Method::POST | Method::PUT => Ok(Handling::Receive),
        Method::GET if allow_get => Ok(Handling::Receive),
        Method::HEAD if allow_get => Ok(Handling::Head),
        Method::OPTIONS => Ok(Handling::Options),
        _ => Err(IngestError::MethodNotAllowed {
            method: method.to_string(),
            allow: allow(allow_get),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_method_answers_what_the_hook_accepts() {
        use Handling::*;
        let cases: [(&str, Option<Handling>, Option<Handling>); 8] = [
            // method, without allow_get, with allow_get
            ("POST", Some(Receive), Some(Receive)),
            ("PUT", Some(Receive), Some(Receive)),
            ("GET", None, Some(Receive)),
            ("HEAD", None, Some(Head)),
            ("OPTIONS", Some(Options), Some(Options)),
            ("DELETE", None, None),
            ("PATCH", None, None),
            ("TRACE", None, None),
        ];
        for (name, without, with) in cases {
            let method = Method::from_bytes(name.as_bytes()).unwrap();
            for (allow_get, expected) in [(false, without), (true, with)] {
                match (handling(&method, allow_get), expected) {
                    (Ok(got), Some(want)) => assert_eq!(got, want, "{name} {allow_get}"),
                    (Err(IngestError::MethodNotAllowed { allow: listed, .. }), None) => {
                        assert_eq!(listed, allow(allow_get));
                    }
                    (got, want) => panic!("{name} allow_get={allow_get}: {got:?}, want {want:?}"),
                }
            }
        }
    }
}
