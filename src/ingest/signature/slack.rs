//! Slack: `X-Slack-Signature: v0=<hex>`, HMAC-SHA256 of `v0:{X-Slack-Request-Timestamp}:{body}`.

use super::{Inbound, Refusal, check_fresh, decode_hex, malformed, signed_by_any};

const SIGNATURE: &str = "x-slack-signature";
const TIMESTAMP: &str = "x-slack-request-timestamp";

pub fn check(keys: &[Vec<u8>], inbound: &Inbound<'_>) -> Result<(), Refusal> {
    let value = inbound.header(SIGNATURE)?;
    let timestamp = inbound.header(TIMESTAMP)?;
    let encoded = value
        .strip_prefix("v0=")
        .ok_or_else(|| malformed(SIGNATURE, "expected `v0=<hex>`"))?;
    let signature = decode_hex(encoded)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| malformed(SIGNATURE, "expected `v0=<hex>`"))?;
    check_fresh(TIMESTAMP, timestamp, inbound.now)?;
    let parts: [&[u8]; 4] = [b"v0:", timestamp.as_bytes(), b":", inbound.body];
    if signed_by_any(keys, &parts, &signature) {
        Ok(())
    } else {
        Err(Refusal::Mismatch(SIGNATURE.into()))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    // Slack's documented example ("Verifying requests from Slack").
    const SECRET: &[u8] = b"8f742231b10e8888abcd99yyyzzz85a5";
    const TIMESTAMP_VALUE: i64 = 1531420618;
    const BODY: &[u8] = b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    const VECTOR: &str = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

    fn run(
        signature: Option<&str>,
        timestamp: Option<i64>,
        body: &[u8],
        now: i64,
    ) -> Result<(), Refusal> {
        let stamp = timestamp.map(|t| t.to_string());
        let mut pairs = Vec::new();
        if let Some(signature) = signature {
            pairs.push(("X-Slack-Signature", signature));
        }
        if let Some(stamp) = &stamp {
            pairs.push(("X-Slack-Request-Timestamp", stamp.as_str()));
        }
        let headers = headers(&pairs);
        check(&[SECRET.to_vec()], &inbound(&headers, body, now))
    }

    fn sign(timestamp: i64, body: &[u8]) -> String {
        let stamp = timestamp.to_string();
        format!(
            "v0={}",
            hex(&mac(SECRET, &[b"v0:", stamp.as_bytes(), b":", body]))
        )
    }

    #[test]
    fn slack_documented_example_verifies_with_the_clock_at_its_timestamp() {
        assert_eq!(
            run(Some(VECTOR), Some(TIMESTAMP_VALUE), BODY, TIMESTAMP_VALUE),
            Ok(())
        );
    }

    #[test]
    fn flipped_bytes_reserialised_bodies_and_missing_headers_are_refused() {
        let (t, now) = (TIMESTAMP_VALUE, TIMESTAMP_VALUE);
        let mismatch = Err(Refusal::Mismatch(SIGNATURE.into()));
        assert_eq!(run(Some(VECTOR), Some(t), &flipped(BODY), now), mismatch);
        assert_eq!(
            run(Some(VECTOR), Some(t + 1), BODY, now),
            mismatch,
            "timestamp is signed"
        );
        let json = super::super::testing::BODY;
        let signed = sign(t, json);
        assert_eq!(run(Some(&signed), Some(t), json, now), Ok(()));
        assert_eq!(run(Some(&signed), Some(t), RESERIALISED, now), mismatch);
        assert_eq!(
            run(None, Some(t), BODY, now),
            Err(Refusal::MissingHeader(SIGNATURE.into()))
        );
        assert_eq!(
            run(Some(VECTOR), None, BODY, now),
            Err(Refusal::MissingHeader(TIMESTAMP.into()))
        );
    }

    #[test]
    fn timestamps_301_seconds_off_either_way_are_refused() {
        let now = TIMESTAMP_VALUE;
        let (old, ahead) = (now - 301, now + 301);
        assert_eq!(
            run(Some(&sign(old, BODY)), Some(old), BODY, now),
            Err(Refusal::Stale(TIMESTAMP.into(), 301))
        );
        assert_eq!(
            run(Some(&sign(ahead, BODY)), Some(ahead), BODY, now),
            Err(Refusal::Future(TIMESTAMP.into(), 301))
        );
        assert_eq!(
            run(Some(VECTOR), Some(TIMESTAMP_VALUE), BODY, now + 301),
            Err(Refusal::Stale(TIMESTAMP.into(), 301))
        );
    }

    #[test]
    fn empty_and_truncated_signatures_are_refused() {
        let truncated = &VECTOR[..VECTOR.len() - 2];
        for value in ["v0=", "v0", truncated, &VECTOR[3..]] {
            let result = run(Some(value), Some(TIMESTAMP_VALUE), BODY, TIMESTAMP_VALUE);
            assert!(result.is_err(), "{value:?} was accepted");
        }
    }
}
