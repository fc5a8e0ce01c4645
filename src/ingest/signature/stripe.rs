//! Stripe: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>...]`, HMAC-SHA256 of `{t}.{body}`.
//! Several `v1` appear while a signing secret is being rolled; any one may match.

use super::{Inbound, Refusal, check_fresh, decode_hex, malformed, signed_by_any};

const HEADER: &str = "stripe-signature";

pub fn check(keys: &[Vec<u8>], inbound: &Inbound<'_>) -> Result<(), Refusal> {
    let value = inbound.header(HEADER)?;
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for item in value.split(',') {
        match item.trim().split_once('=') {
            Some(("t", t)) if timestamp.is_none() => timestamp = Some(t),
            Some(("v1", signature)) => signatures.push(signature),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or_else(|| malformed(HEADER, "no `t=` timestamp"))?;
    if signatures.is_empty() {
        return Err(malformed(HEADER, "no `v1=` signature"));
    }
    check_fresh(HEADER, timestamp, inbound.now)?;
    let parts: [&[u8]; 3] = [timestamp.as_bytes(), b".", inbound.body];
    let matched = signatures
        .iter()
        .filter_map(|s| decode_hex(s))
        .any(|signature| signed_by_any(keys, &parts, &signature));
    if matched {
        Ok(())
    } else {
        Err(Refusal::Mismatch(HEADER.into()))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    const SECRET: &[u8] = b"whsec_test_stripe";
    const NOW: i64 = 1_700_000_000;

    fn header_for(t: i64, body: &[u8], key: &[u8]) -> String {
        let stamp = t.to_string();
        format!(
            "t={t},v1={}",
            hex(&mac(key, &[stamp.as_bytes(), b".", body]))
        )
    }

    fn run(value: Option<&str>, body: &[u8], keys: &[&[u8]]) -> Result<(), Refusal> {
        let pairs: Vec<(&str, &str)> = value.map(|v| ("Stripe-Signature", v)).into_iter().collect();
        let headers = headers(&pairs);
        let keys: Vec<Vec<u8>> = keys.iter().map(|k| k.to_vec()).collect();
        check(&keys, &inbound(&headers, body, NOW))
    }

    #[test]
    fn a_signed_body_verifies_and_any_v1_may_match() {
        let signed = header_for(NOW, BODY, SECRET);
        assert_eq!(run(Some(&signed), BODY, &[SECRET]), Ok(()));
        let other = hex(&mac(b"old", &[NOW.to_string().as_bytes(), b".", BODY]));
        let both = format!(
            "t={NOW},v1={other},{},v0=deadbeef",
            &signed[signed.find("v1=").unwrap()..]
        );
        assert_eq!(run(Some(&both), BODY, &[SECRET]), Ok(()));
        assert_eq!(run(Some(&both), BODY, &[b"old"]), Ok(()));
    }

    #[test]
    fn flipped_bytes_reserialised_bodies_and_missing_headers_are_refused() {
        let signed = header_for(NOW, BODY, SECRET);
        let mismatch = Err(Refusal::Mismatch(HEADER.into()));
        assert_eq!(run(Some(&signed), &flipped(BODY), &[SECRET]), mismatch);
        assert_eq!(run(Some(&signed), RESERIALISED, &[SECRET]), mismatch);
        let last = signed.len() - 1;
        let mut bad_sig = signed.clone();
        bad_sig.replace_range(last.., if signed.ends_with('0') { "1" } else { "0" });
        assert_eq!(run(Some(&bad_sig), BODY, &[SECRET]), mismatch);
        assert_eq!(
            run(None, BODY, &[SECRET]),
            Err(Refusal::MissingHeader(HEADER.into()))
        );
    }

    #[test]
    fn timestamps_301_seconds_off_either_way_are_refused() {
        let old = header_for(NOW - 301, BODY, SECRET);
        assert_eq!(
            run(Some(&old), BODY, &[SECRET]),
            Err(Refusal::Stale(HEADER.into(), 301))
        );
        let ahead = header_for(NOW + 301, BODY, SECRET);
        assert_eq!(
            run(Some(&ahead), BODY, &[SECRET]),
            Err(Refusal::Future(HEADER.into(), 301))
        );
        assert_eq!(
            run(Some(&header_for(NOW - 300, BODY, SECRET)), BODY, &[SECRET]),
            Ok(())
        );
    }

    #[test]
    fn empty_truncated_and_incomplete_headers_are_refused() {
        let signed = header_for(NOW, BODY, SECRET);
        let truncated = &signed[..signed.len() - 2];
        let no_t = &signed[signed.find(',').unwrap() + 1..];
        for value in [
            format!("t={NOW},v1="),
            truncated.to_owned(),
            no_t.to_owned(),
            format!("t={NOW}"),
        ] {
            assert!(
                run(Some(&value), BODY, &[SECRET]).is_err(),
                "{value:?} was accepted"
            );
        }
    }
}
