use actix_web::error::{InternalError, JsonPayloadError, QueryPayloadError};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde_json::json;

use crate::manage::ManageError;
use crate::recipe::FieldError;
use crate::store::StoreError;

/// Every API failure, answered as `{"error": "..."}` (plus `errors` per field for recipes).
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("missing or invalid bearer token")]
    Unauthorized,
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{message}")]
    Invalid {
        message: String,
        errors: Vec<FieldError>,
    },
    #[error("the store is unavailable")]
    Store(#[from] StoreError),
    /// A body or query string its extractor refused.
    #[error("{0}")]
    Request(actix_web::Error),
}

impl From<ManageError> for ApiError {
    fn from(error: ManageError) -> Self {
        match error {
            ManageError::NotFound(_) | ManageError::RevisionNotFound { .. } => {
                ApiError::NotFound(error.to_string())
            }
            ManageError::FileManaged { .. } => ApiError::Conflict(error.to_string()),
            ManageError::Invalid(ref invalid) => ApiError::Invalid {
                message: format!("invalid recipe: {invalid}"),
                errors: invalid.errors.clone(),
            },
            ManageError::Store(e) => ApiError::Store(e),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Request(error) => error.as_response_error().status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let ApiError::Store(error) = self {
            tracing::error!(%error, "API request failed in the store");
        }
        let mut body = json!({ "error": self.to_string() });
        if let ApiError::Invalid { errors, .. } = self {
            body["errors"] = json!(errors);
        }
        let mut response = HttpResponse::build(self.status_code());
        if matches!(self, ApiError::Unauthorized) {
            response.insert_header(("WWW-Authenticate", "Bearer"));
        }
        response.json(body)
    }
}

/// A malformed JSON body is answered like every other API error: `{"error": "..."}`, with the
/// status actix chose (400, or 413 when too large).
pub fn json_body_error(error: JsonPayloadError, _: &HttpRequest) -> actix_web::Error {
    let message = match &error {
        JsonPayloadError::ContentType => {
            "the body must be JSON (Content-Type: application/json)".to_owned()
        }
        other => format!("invalid JSON body: {other}"),
    };
    as_json_error(error.status_code(), message)
}

/// A bad query string on an API route (e.g. `limit=abc`) is answered as `{"error": "..."}`;
/// other routes (UI pages) keep actix's default answer.
pub fn query_error(error: QueryPayloadError, req: &HttpRequest) -> actix_web::Error {
    if !req.path().starts_with("/api/") {
        return error.into();
    }
    let message = format!("invalid query string `{}`: {error}", req.query_string());
    as_json_error(error.status_code(), message)
}

fn as_json_error(status: StatusCode, message: String) -> actix_web::Error {
    let response = HttpResponse::build(status).json(json!({ "error": &message }));
    InternalError::from_response(message, response).into()
}

/// Handlers take their body and query extractors as `Result` and call this after the
/// `ApiCaller` check: extractors run concurrently, so otherwise a caller with a wrong token and
/// a malformed body could get 400 (about its body) instead of 401.
pub fn extracted<T>(extracted: Result<T, actix_web::Error>) -> Result<T, ApiError> {
    extracted.map_err(ApiError::Request)
}
