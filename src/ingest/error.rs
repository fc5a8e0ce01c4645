use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

/// Why a webhook was not accepted. Every variant changes nothing in the store.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("no enabled recipe has this webhook URL")]
    UnknownHook,
    /// `allow` is the `Allow` header value: what this hook does accept.
    #[error("this webhook does not accept {method} requests; it accepts {allow}")]
    MethodNotAllowed { method: String, allow: &'static str },
    #[error("request body is larger than the limit of {limit} bytes")]
    TooLarge { limit: usize },
    #[error("request body is not valid JSON: {0}")]
    MalformedJson(String),
    #[error("request body is not valid form data: {0}")]
    MalformedForm(String),
    /// A `Content-Encoding` this server cannot undo (415 with `Accept-Encoding`).
    #[error(
        "content encoding `{0}` is not supported; send the body as is or with {accepted}",
        accepted = super::encoding::ACCEPTED
    )]
    UnsupportedEncoding(String),
    #[error("request body is not valid {coding}: {problem}")]
    MalformedEncoding {
        coding: &'static str,
        problem: String,
    },
    #[error("could not read the request body: {0}")]
    BodyRead(String),
    /// The body did not arrive within the body timeout (a trickling or stalled sender).
    #[error("the request body did not arrive within {}", humantime::format_duration(*.0))]
    BodyTimeout(std::time::Duration),
    /// The recipe's webhook is over its rate limit; `retry_after` is in whole seconds.
    #[error("too many requests for this webhook; retry after {retry_after} s")]
    RateLimited { retry_after: u64 },
    /// The client address is outside the hook's `allow_from` (403, nothing stored).
    #[error("{0}")]
    AddressRefused(String),
    /// A trusted proxy's `X-Forwarded-For`/`Forwarded` cannot be read (400, nothing stored).
    #[error("{0}")]
    MalformedForwarded(String),
    /// The request failed its recipe's `verify` check.
    #[error("{0}")]
    Refused(super::signature::Refusal),
    #[error("{0}")]
    ScriptFailed(String),
    /// A GET to a hook that takes GET only for its provider's handshake, without its parameters.
    #[error(
        "GET on this webhook answers the {0} verification request only; events come by POST or PUT (allow_get = true takes events by GET too)"
    )]
    GetOnlyForHandshake(&'static str),
    /// A provider's verification request that is malformed (400).
    #[error("{0}")]
    Handshake(String),
    /// A verification request with the wrong verify token (403, as Meta documents).
    #[error("{0}")]
    HandshakeRefused(String),
    /// `split` names no list in the payload (422, nothing stored).
    #[error("split = \"{pointer}\": {problem}")]
    SplitNotList { pointer: String, problem: String },
    /// A `[trigger.webhook.response]` template that cannot be rendered for this request (422,
    /// nothing stored).
    #[error("trigger.webhook.response: {0}")]
    Response(String),
    #[error("the event could not be stored; retry later")]
    StoreUnavailable(#[source] crate::store::StoreError),
    #[error("recipe is misconfigured: {0}")]
    Misconfigured(String),
}

impl ResponseError for IngestError {
    fn status_code(&self) -> StatusCode {
        match self {
            IngestError::UnknownHook => StatusCode::NOT_FOUND,
            IngestError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            IngestError::UnsupportedEncoding(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            IngestError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            IngestError::MalformedJson(_)
            | IngestError::MalformedForm(_)
            | IngestError::MalformedEncoding { .. }
            | IngestError::BodyRead(_)
            | IngestError::MalformedForwarded(_) => StatusCode::BAD_REQUEST,
            IngestError::BodyTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            IngestError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            IngestError::Refused(_) => StatusCode::UNAUTHORIZED,
            IngestError::ScriptFailed(_)
            | IngestError::SplitNotList { .. }
            | IngestError::Response(_) => StatusCode::UNPROCESSABLE_ENTITY,
            IngestError::GetOnlyForHandshake(_) | IngestError::Handshake(_) => {
                StatusCode::BAD_REQUEST
            }
            IngestError::HandshakeRefused(_) | IngestError::AddressRefused(_) => {
                StatusCode::FORBIDDEN
            }
            IngestError::StoreUnavailable(_) | IngestError::Misconfigured(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let IngestError::StoreUnavailable(source) = self {
            tracing::error!(error = %source, "webhook refused: store unavailable");
        }
        // The details (which secret is missing, ...) are for the operator, not the caller.
        let public_message = match self {
            IngestError::Misconfigured(detail) => {
                tracing::warn!(%detail, "webhook refused: recipe misconfigured");
                "this webhook's recipe is misconfigured; the server log says why".to_owned()
            }
            other => other.to_string(),
        };
        let mut response = HttpResponse::build(self.status_code());
        if self.status_code() == StatusCode::SERVICE_UNAVAILABLE {
            response.insert_header(("Retry-After", "5"));
        }
        if let IngestError::RateLimited { retry_after } = self {
            response.insert_header(("Retry-After", retry_after.to_string()));
        }
        if let IngestError::MethodNotAllowed { allow, .. } = self {
            response.insert_header(("Allow", *allow));
        }
        if let IngestError::UnsupportedEncoding(_) = self {
            response.insert_header(("Accept-Encoding", super::encoding::ACCEPTED));
        }
        if let IngestError::BodyTimeout(_) = self {
            // The rest of the body may still be on its way: this connection is done.
            response.force_close();
        }
        response.json(serde_json::json!({ "error": public_message }))
    }
}
