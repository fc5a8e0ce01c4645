//! `Content-Encoding` of webhook bodies (RFC 9110 §8.4): `gzip` (and `x-gzip`), `deflate`
//! (zlib-wrapped per RFC 9110 §8.4.1.2, and raw deflate, which many senders send instead) and
//! `identity`. Codings are listed in the order they were applied and undone in reverse, so a
//! stacked `gzip, gzip` decodes. Anything else is a 415 naming what is accepted.
//!
//! The body limit applies to the decoded size: decoding stops one byte past the limit, so a
//! decompression bomb costs at most `limit` bytes of memory before its 413.
//!
//! Zero bytes on the wire decode to zero bytes whatever the `Content-Encoding` says: an empty
//! body is the empty event (see [`super::payload`]), never a 400 or a 415. (A compressor's
//! output for empty input is not empty, but senders that send no body keep the header.)

use std::io::Read;

use actix_web::http::header::{CONTENT_ENCODING, HeaderMap};
use flate2::read::{DeflateDecoder, MultiGzDecoder, ZlibDecoder};

use super::error::IngestError;

/// What a 415 answers in `Accept-Encoding` (RFC 9110 §12.5.3).
pub const ACCEPTED: &str = "gzip, deflate";

/// One content coding this server can undo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    Gzip,
    Deflate,
}

/// The codings of the request, in the order the sender applied them (`identity` dropped).
/// Several `Content-Encoding` fields are one list (RFC 9110 §5.3).
pub fn codings(headers: &HeaderMap) -> Result<Vec<Coding>, IngestError> {
    let mut codings = Vec::new();
    for value in headers.get_all(CONTENT_ENCODING) {
        let value = value
            .to_str()
            .map_err(|_| IngestError::UnsupportedEncoding("(not visible ASCII)".into()))?;
        for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match name.to_ascii_lowercase().as_str() {
                "gzip" | "x-gzip" => codings.push(Coding::Gzip),
                "deflate" => codings.push(Coding::Deflate),
                "identity" => {}
                _ => return Err(IngestError::UnsupportedEncoding(name.to_owned())),
            }
        }
    }
    Ok(codings)
}

/// The decoded body of `wire`, or `None` when there is nothing to undo (no coding, or an
/// empty body). `codings` is what [`codings`] made of the headers: its error only counts for
/// a body that is not empty.
pub fn decode_wire(
    wire: &[u8],
    codings: Result<Vec<Coding>, IngestError>,
    limit: usize,
) -> Result<Option<Vec<u8>>, IngestError> {
    if wire.is_empty() {
        return Ok(None);
    }
    let codings = codings?;
    if codings.is_empty() {
        return Ok(None);
    }
    decode(wire, &codings, limit).map(Some)
}

/// Undoes `codings` (last applied first); the result is at most `limit` bytes.
pub fn decode(body: &[u8], codings: &[Coding], limit: usize) -> Result<Vec<u8>, IngestError> {
    let mut bytes = body.to_vec();
    for coding in codings.iter().rev() {
        bytes = decode_one(&bytes, *coding, limit)?;
    }
    Ok(bytes)
}

fn decode_one(bytes: &[u8], coding: Coding, limit: usize) -> Result<Vec<u8>, IngestError> {
    let cap = limit as u64 + 1;
    let mut decoded = Vec::new();
    let read = match coding {
        Coding::Gzip => MultiGzDecoder::new(bytes)
            .take(cap)
            .read_to_end(&mut decoded),
        Coding::Deflate if is_zlib(bytes) => {
            ZlibDecoder::new(bytes).take(cap).read_to_end(&mut decoded)
        }
        Coding::Deflate => DeflateDecoder::new(bytes)
            .take(cap)
            .read_to_end(&mut decoded),
    };
    read.map_err(|e| IngestError::MalformedEncoding {
        coding: coding.name(),
        problem: e.to_string(),
    })?;
    if decoded.len() > limit {
        return Err(IngestError::TooLarge { limit });
    }
    Ok(decoded)
}

impl Coding {
    pub fn name(self) -> &'static str {
        match self {
            Coding::Gzip => "gzip",
            Coding::Deflate => "deflate",
        }
    }
}

/// A zlib header (RFC 1950 §2.2): method 8 (deflate) and a check value divisible by 31.
fn is_zlib(bytes: &[u8]) -> bool {
    match bytes {
        [cmf, flg, ..] => cmf & 0x0f == 8 && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;
    use flate2::Compression;
    use flate2::write::{DeflateEncoder, GzEncoder, ZlibEncoder};
    use std::io::Write;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    fn parse(value: &str) -> Result<Vec<Coding>, IngestError> {
        let req = TestRequest::default()
            .insert_header(("content-encoding", value))
            .to_http_request();
        codings(req.headers())
    }

    #[test]
    fn gzip_zlib_and_raw_deflate_bodies_decode() {
        let body = br#"{"a": 1}"#;
        let mut zlib = ZlibEncoder::new(Vec::new(), Compression::default());
        zlib.write_all(body).unwrap();
        let mut raw = DeflateEncoder::new(Vec::new(), Compression::default());
        raw.write_all(body).unwrap();
        for (coding, encoded) in [
            (Coding::Gzip, gzip(body)),
            (Coding::Deflate, zlib.finish().unwrap()),
            (Coding::Deflate, raw.finish().unwrap()),
        ] {
            assert_eq!(
                decode(&encoded, &[coding], 1024).unwrap(),
                body,
                "{coding:?}"
            );
        }
    }

    #[test]
    fn stacked_codings_are_undone_last_first() {
        let twice = gzip(&gzip(b"hello"));
        assert_eq!(parse("gzip, GZIP").unwrap(), [Coding::Gzip, Coding::Gzip]);
        assert_eq!(
            decode(&twice, &[Coding::Gzip, Coding::Gzip], 64).unwrap(),
            b"hello"
        );
        assert_eq!(parse("identity").unwrap(), []);
        assert_eq!(parse("x-gzip").unwrap(), [Coding::Gzip]);
    }

    #[test]
    fn unknown_codings_are_named_in_the_refusal() {
        for name in ["br", "zstd", "compress"] {
            let error = parse(&format!("gzip, {name}")).unwrap_err();
            assert!(matches!(&error, IngestError::UnsupportedEncoding(n) if n == name));
        }
    }

    #[test]
    fn the_limit_applies_to_the_decoded_size() {
        let bomb = gzip(&vec![0u8; 10 * 1024 * 1024]);
        assert!(bomb.len() < 64 * 1024, "{}", bomb.len());
        let error = decode(&bomb, &[Coding::Gzip], 1024 * 1024).unwrap_err();
        assert!(matches!(error, IngestError::TooLarge { limit: 1_048_576 }));
        let exact = gzip(&[7u8; 100]);
        assert_eq!(decode(&exact, &[Coding::Gzip], 100).unwrap().len(), 100);
    }

    #[test]
    fn an_empty_body_decodes_to_nothing_whatever_the_coding() {
        for value in [
            "gzip",
            "x-gzip",
            "deflate",
            "gzip, deflate",
            "identity",
            "br",
            "zstd",
        ] {
            assert_eq!(decode_wire(b"", parse(value), 64).unwrap(), None, "{value}");
        }
        assert!(matches!(
            decode_wire(b"x", parse("br"), 64),
            Err(IngestError::UnsupportedEncoding(_))
        ));
        assert_eq!(decode_wire(b"x", parse("identity"), 64).unwrap(), None);
        assert_eq!(
            decode_wire(&gzip(b""), parse("gzip"), 64).unwrap(),
            Some(Vec::new())
        );
    }

    #[test]
    fn corrupt_compressed_bodies_name_the_coding() {
        let error = decode(b"not gzip at all", &[Coding::Gzip], 64).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("request body is not valid gzip"),
            "{error}"
        );
    }
}
