//! Standard Webhooks: `webhook-signature: v1,<base64> [v1,<base64> ...]`, HMAC-SHA256 of
//! `{webhook-id}.{webhook-timestamp}.{body}`. Keys arrive decoded from `whsec_<base64>`.

use super::{Inbound, Refusal, check_fresh, decode_base64, signed_by_any};

const ID: &str = "webhook-id";
const TIMESTAMP: &str = "webhook-timestamp";
const SIGNATURE: &str = "webhook-signature";

pub fn check(keys: &[Vec<u8>], inbound: &Inbound<'_>) -> Result<(), Refusal> {
    let id = inbound.header(ID)?;
    let timestamp = inbound.header(TIMESTAMP)?;
    let signatures = inbound.header(SIGNATURE)?;
    check_fresh(TIMESTAMP, timestamp, inbound.now)?;
    let parts: [&[u8]; 5] = [
        id.as_bytes(),
        b".",
        timestamp.as_bytes(),
        b".",
        inbound.body,
    ];
    // Other versions (v1a: asymmetric) are skipped; an empty `v1,` decodes to nothing and fails.
    let matched = signatures
        .split_whitespace()
        .filter_map(|entry| entry.strip_prefix("v1,"))
        .filter_map(decode_base64)
        .any(|signature| signed_by_any(keys, &parts, &signature));
    if matched {
        Ok(())
    } else {
        Err(Refusal::Mismatch(SIGNATURE.into()))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::deliver::sign::{secret_key, sign};

    // The example of the Standard Webhooks specification.
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const MSG_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TS: i64 = 1614265330;
    const BODY: &[u8] = br#"{"test": 2432232314}"#;
    const VECTOR: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    fn run(
        id: Option<&str>,
        ts: Option<i64>,
        signature: Option<&str>,
        body: &[u8],
        now: i64,
    ) -> Result<(), Refusal> {
        let stamp = ts.map(|t| t.to_string());
        let mut pairs = Vec::new();
        pairs.extend(id.map(|id| ("webhook-id", id)));
        pairs.extend(stamp.as_deref().map(|t| ("webhook-timestamp", t)));
        pairs.extend(signature.map(|s| ("webhook-signature", s)));
        let headers = headers(&pairs);
        check(
            &[secret_key(SECRET).unwrap()],
            &inbound(&headers, body, now),
        )
    }

    #[test]
    fn spec_example_verifies_with_the_clock_at_its_timestamp() {
        assert_eq!(run(Some(MSG_ID), Some(TS), Some(VECTOR), BODY, TS), Ok(()));
        let listed = format!("v1a,abcd v1,bm90IHRoaXMgb25l {VECTOR}");
        assert_eq!(run(Some(MSG_ID), Some(TS), Some(&listed), BODY, TS), Ok(()));
    }

    #[test]
    fn flipped_bytes_reserialised_bodies_and_missing_headers_are_refused() {
        let mismatch = Err(Refusal::Mismatch(SIGNATURE.into()));
        assert_eq!(
            run(Some(MSG_ID), Some(TS), Some(VECTOR), &flipped(BODY), TS),
            mismatch
        );
        assert_eq!(
            run(
                Some(MSG_ID),
                Some(TS),
                Some(VECTOR),
                br#"{"test":2432232314}"#,
                TS
            ),
            mismatch
        );
        assert_eq!(
            run(Some("msg_other"), Some(TS), Some(VECTOR), BODY, TS),
            mismatch
        );
        let flipped_sig = VECTOR.replace("g0hM", "g0hN");
        assert_eq!(
            run(Some(MSG_ID), Some(TS), Some(&flipped_sig), BODY, TS),
            mismatch
        );
        let missing = |h: &str| Err(Refusal::MissingHeader(h.into()));
        assert_eq!(run(None, Some(TS), Some(VECTOR), BODY, TS), missing(ID));
        assert_eq!(
            run(Some(MSG_ID), None, Some(VECTOR), BODY, TS),
            missing(TIMESTAMP)
        );
        assert_eq!(
            run(Some(MSG_ID), Some(TS), None, BODY, TS),
            missing(SIGNATURE)
        );
    }

    #[test]
    fn timestamps_301_seconds_off_either_way_are_refused() {
        for (ts, expected) in [
            (TS - 301, Refusal::Stale(TIMESTAMP.into(), 301)),
            (TS + 301, Refusal::Future(TIMESTAMP.into(), 301)),
        ] {
            let signed = sign(SECRET, MSG_ID, ts, BODY).unwrap();
            assert_eq!(
                run(Some(MSG_ID), Some(ts), Some(&signed), BODY, TS),
                Err(expected)
            );
        }
        let signed = sign(SECRET, MSG_ID, TS + 300, BODY).unwrap();
        assert_eq!(
            run(Some(MSG_ID), Some(TS + 300), Some(&signed), BODY, TS),
            Ok(())
        );
    }

    #[test]
    fn empty_and_truncated_signatures_are_refused() {
        // svix-webhooks PR #1190: its Rust verifier once accepted a bare `v1,`.
        let truncated = &VECTOR[..VECTOR.len() - 4];
        for value in [
            "v1,",
            "v1",
            "v1, v1,",
            truncated,
            "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        ] {
            let result = run(Some(MSG_ID), Some(TS), Some(value), BODY, TS);
            assert!(result.is_err(), "{value:?} was accepted");
        }
    }
}
