use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
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
}

impl From<ManageError> for ApiError {
    fn from(error: ManageError) -> Self {
        match error {
            ManageError::NotFound(_) => ApiError::NotFound(error.to_string()),
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
