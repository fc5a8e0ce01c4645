//! HMAC-SHA256 of the body alone, in one header: GitHub (`X-Hub-Signature-256: sha256=<hex>`),
//! Shopify (`X-Shopify-Hmac-Sha256: <base64>`) and the configurable `hmac-sha256`.

use super::{Inbound, Refusal, decode_base64, decode_hex, malformed, signed_by_any};
use crate::recipe::{HmacHeader, SignatureEncoding};

pub fn github() -> HmacHeader {
    HmacHeader {
        name: "x-hub-signature-256".into(),
        encoding: SignatureEncoding::Hex,
        prefix: "sha256=".into(),
    }
}

pub fn shopify() -> HmacHeader {
    HmacHeader {
        name: "x-shopify-hmac-sha256".into(),
        encoding: SignatureEncoding::Base64,
        prefix: String::new(),
    }
}

pub fn check(header: &HmacHeader, keys: &[Vec<u8>], inbound: &Inbound<'_>) -> Result<(), Refusal> {
    let name = header.name.as_str();
    let value = inbound.header(name)?;
    let encoded = value
        .strip_prefix(header.prefix.as_str())
        .ok_or_else(|| malformed(name, "does not start with the expected prefix"))?;
    if encoded.is_empty() {
        return Err(malformed(name, "the signature is empty"));
    }
    let signature = match header.encoding {
        SignatureEncoding::Hex => decode_hex(encoded).ok_or_else(|| malformed(name, "not hex"))?,
        SignatureEncoding::Base64 => {
            decode_base64(encoded).ok_or_else(|| malformed(name, "not base64"))?
        }
    };
    if signed_by_any(keys, &[inbound.body], &signature) {
        Ok(())
    } else {
        Err(Refusal::Mismatch(name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    const GITHUB_SECRET: &[u8] = b"It's a Secret to Everybody";
    const GITHUB_VECTOR: &str =
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

    fn run(
        header: &HmacHeader,
        pairs: &[(&str, &str)],
        body: &[u8],
        keys: &[&[u8]],
    ) -> Result<(), Refusal> {
        let headers = headers(pairs);
        let keys: Vec<Vec<u8>> = keys.iter().map(|k| k.to_vec()).collect();
        check(header, &keys, &inbound(&headers, body, 0))
    }

    #[test]
    fn github_documented_vector_verifies() {
        let pairs = [("X-Hub-Signature-256", GITHUB_VECTOR)];
        assert_eq!(
            run(&github(), &pairs, b"Hello, World!", &[GITHUB_SECRET]),
            Ok(())
        );
    }

    #[test]
    fn github_refuses_a_flipped_byte_a_reserialised_body_and_a_missing_header() {
        let pairs = [("X-Hub-Signature-256", GITHUB_VECTOR)];
        let mismatch = Err(Refusal::Mismatch("x-hub-signature-256".into()));
        assert_eq!(
            run(
                &github(),
                &pairs,
                &flipped(b"Hello, World!"),
                &[GITHUB_SECRET]
            ),
            mismatch
        );
        let mut sig = GITHUB_VECTOR.to_owned();
        sig.replace_range(10..11, "f");
        let flipped_sig = [("X-Hub-Signature-256", sig.as_str())];
        assert_eq!(
            run(&github(), &flipped_sig, b"Hello, World!", &[GITHUB_SECRET]),
            mismatch
        );

        let signed = format!("sha256={}", hex(&mac(b"k", &[BODY])));
        let pairs = [("X-Hub-Signature-256", signed.as_str())];
        assert_eq!(run(&github(), &pairs, BODY, &[b"k"]), Ok(()));
        assert_eq!(run(&github(), &pairs, RESERIALISED, &[b"k"]), mismatch);
        assert_eq!(
            run(&github(), &[], BODY, &[b"k"]),
            Err(Refusal::MissingHeader("x-hub-signature-256".into()))
        );
    }

    #[test]
    fn github_refuses_a_bare_prefix_a_truncated_and_an_unprefixed_signature() {
        let truncated = &GITHUB_VECTOR[..GITHUB_VECTOR.len() - 2];
        let unprefixed = &GITHUB_VECTOR["sha256=".len()..];
        for value in ["sha256=", "sha256", truncated, unprefixed, "sha256=xyz1"] {
            let result = run(
                &github(),
                &[("X-Hub-Signature-256", value)],
                b"Hello, World!",
                &[GITHUB_SECRET],
            );
            assert!(result.is_err(), "{value:?} was accepted");
        }
    }

    #[test]
    fn either_the_current_or_the_previous_secret_verifies() {
        let pairs = [("X-Hub-Signature-256", GITHUB_VECTOR)];
        let keys: [&[u8]; 2] = [b"new secret", GITHUB_SECRET];
        assert_eq!(run(&github(), &pairs, b"Hello, World!", &keys), Ok(()));
        assert!(run(&github(), &pairs, b"Hello, World!", &[b"new secret"]).is_err());
    }

    #[test]
    fn shopify_takes_base64_of_the_body_mac() {
        let signed = base64(&mac(b"shpss", &[BODY]));
        let pairs = [("X-Shopify-Hmac-Sha256", signed.as_str())];
        assert_eq!(run(&shopify(), &pairs, BODY, &[b"shpss"]), Ok(()));
        let mismatch = Err(Refusal::Mismatch("x-shopify-hmac-sha256".into()));
        assert_eq!(
            run(&shopify(), &pairs, &flipped(BODY), &[b"shpss"]),
            mismatch
        );
        assert_eq!(run(&shopify(), &pairs, RESERIALISED, &[b"shpss"]), mismatch);
        assert!(matches!(
            run(&shopify(), &[], BODY, &[b"shpss"]),
            Err(Refusal::MissingHeader(_))
        ));
        let truncated = [("X-Shopify-Hmac-Sha256", &signed[..20])];
        assert!(run(&shopify(), &truncated, BODY, &[b"shpss"]).is_err());
    }

    #[test]
    fn generic_hmac_reads_its_configured_header_prefix_and_encoding() {
        let config = HmacHeader {
            name: "x-signature".into(),
            encoding: SignatureEncoding::Base64,
            prefix: "hmac ".into(),
        };
        let signed = format!("hmac {}", base64(&mac(b"k", &[BODY])));
        let pairs = [("X-Signature", signed.as_str())];
        assert_eq!(run(&config, &pairs, BODY, &[b"k"]), Ok(()));
        assert!(run(&config, &pairs, RESERIALISED, &[b"k"]).is_err());
        let hex_config = HmacHeader {
            encoding: SignatureEncoding::Hex,
            prefix: String::new(),
            ..config.clone()
        };
        let signed = hex(&mac(b"k", &[BODY]));
        assert_eq!(
            run(&hex_config, &[("X-Signature", &signed)], BODY, &[b"k"]),
            Ok(())
        );
        assert!(run(&config, &[("X-Signature", "hmac ")], BODY, &[b"k"]).is_err());
    }
}
