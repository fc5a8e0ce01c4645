//! Who may call what: API callers present a bearer token (`SWITCHYARD_API_TOKEN` or one created
//! in the UI); browsers carry a session cookie, and every form a CSRF token. Passwords are
//! argon2 hashes; session ids and API tokens are stored as SHA-256 hashes.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use subtle::ConstantTimeEq;

use super::api::error::ApiError;
use crate::store::Session;
use crate::web::state::AppState;

pub const SESSION_COOKIE: &str = "switchyard_session";
pub const SESSION_DAYS: i64 = 7;

pub fn hash_password(password: &str) -> Result<String, String> {
    let mut bytes = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    let salt = SaltString::encode_b64(&bytes).map_err(|e| format!("cannot make a salt: {e}"))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| format!("cannot hash the password: {e}"))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

pub use crate::ids::hash_token;

pub fn constant_time_eq(a: &str, b: &str) -> bool {
    bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// The token of an `Authorization: Bearer <token>` value; the scheme name is case-insensitive
/// (RFC 9110).
pub fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// An authenticated API caller: `author` names it on the revisions it makes ("token NAME";
/// "token SWITCHYARD_API_TOKEN" for the configured one).
pub struct ApiCaller {
    pub author: String,
}

impl FromRequest for ApiCaller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let presented = req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(bearer_token)
            .map(str::to_owned);
        Box::pin(async move {
            let (Some(state), Some(token)) = (state, presented) else {
                return Err(ApiError::Unauthorized);
            };
            if let Some(expected) = &state.settings.api_token
                && constant_time_eq(expected, &token)
            {
                return Ok(ApiCaller {
                    author: "token SWITCHYARD_API_TOKEN".to_owned(),
                });
            }
            if let Some(name) = state.store.api_token_name(&hash_token(&token)).await? {
                return Ok(ApiCaller {
                    author: format!("token {name}"),
                });
            }
            Err(ApiError::Unauthorized)
        })
    }
}

/// A logged-in browser session (UI pages). Without one, UI handlers redirect to the login page.
pub struct UiSession {
    pub session: Session,
}

impl UiSession {
    /// Forms carry the session's CSRF token; a mismatch is refused (403).
    pub fn check_csrf(&self, presented: &str) -> bool {
        constant_time_eq(&self.session.csrf_token, presented)
    }

    pub fn csrf(&self) -> &str {
        &self.session.csrf_token
    }

    /// Who makes a change through the UI, as revisions name it: "user NAME".
    pub fn author(&self) -> String {
        format!("user {}", self.session.username)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("login required")]
pub struct LoginRequired {
    pub next: String,
}

impl actix_web::ResponseError for LoginRequired {
    fn status_code(&self) -> actix_web::http::StatusCode {
        actix_web::http::StatusCode::SEE_OTHER
    }

    fn error_response(&self) -> actix_web::HttpResponse {
        let next: String = serde_urlencoded::to_string([("next", &self.next)]).unwrap_or_default();
        actix_web::HttpResponse::SeeOther()
            .insert_header(("Location", format!("/login?{next}")))
            .finish()
    }
}

impl FromRequest for UiSession {
    type Error = LoginRequired;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let cookie = req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned());
        let next = req
            .uri()
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_default();
        Box::pin(async move {
            let required = || LoginRequired { next: next.clone() };
            let (Some(state), Some(cookie)) = (state, cookie) else {
                return Err(required());
            };
            match state.store.get_session(&hash_token(&cookie)).await {
                Ok(Some(session)) => Ok(UiSession { session }),
                _ => Err(required()),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_against_their_own_hash() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2"));
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("wrong horse", &hash));
        assert!(!verify_password("correct horse", "not a hash"));
    }

    #[test]
    fn the_bearer_scheme_is_case_insensitive_and_needs_a_token() {
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
        assert_eq!(bearer_token("bearer abc"), Some("abc"));
        assert_eq!(bearer_token("BEARER  abc "), Some("abc"));
        assert_eq!(bearer_token("Bearer "), None);
        assert_eq!(bearer_token("Basic abc"), None);
        assert_eq!(bearer_token("abc"), None);
    }

    #[test]
    fn token_hashes_are_stable_hex() {
        assert_eq!(
            hash_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
