//! `allow_from`: a webhook refuses calls from addresses outside its ranges with 403, before
//! the rate limit and the body, storing nothing. The address judged is
//! [`client_addr::client`](super::client_addr::client)'s.

use actix_web::HttpRequest;

use super::client_addr::{self, Client, ForwardedError, TrustedProxies};
use super::error::IngestError;
use crate::recipe::WebhookTrigger;

/// Why a call was refused by `allow_from`. The messages name the address seen and the reason,
/// never the allowed ranges.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AddressRefusal {
    #[error("calls from {0} are not accepted by this webhook (its allow_from)")]
    NotAllowed(std::net::IpAddr),
    #[error(
        "the client address is not known ({0}), and this webhook accepts listed addresses only"
    )]
    Unknown(String),
    #[error("{0}")]
    Forwarded(#[from] ForwardedError),
}

impl AddressRefusal {
    /// The metrics label (`switchyard_webhooks_refused_total{reason=...}`).
    pub fn kind(&self) -> &'static str {
        match self {
            AddressRefusal::NotAllowed(_) => "address_not_allowed",
            AddressRefusal::Unknown(_) => "address_unknown",
            AddressRefusal::Forwarded(_) => "malformed_forwarded",
        }
    }
}

impl From<AddressRefusal> for IngestError {
    fn from(refusal: AddressRefusal) -> Self {
        match refusal {
            AddressRefusal::Forwarded(error) => IngestError::MalformedForwarded(error.to_string()),
            other => IngestError::AddressRefused(other.to_string()),
        }
    }
}

/// Passes when the hook has no `allow_from` or the client is inside one of its ranges.
pub(super) fn check(
    webhook: &WebhookTrigger,
    req: &HttpRequest,
    trusted: &TrustedProxies,
) -> Result<(), AddressRefusal> {
    let Some(ranges) = &webhook.allow_from else {
        return Ok(());
    };
    match client_addr::client(req.peer_addr(), req.headers(), trusted)? {
        Client::Ip(ip) if ranges.iter().any(|range| range.contains(&ip)) => Ok(()),
        Client::Ip(ip) => Err(AddressRefusal::NotAllowed(ip)),
        Client::Unknown(what) => Err(AddressRefusal::Unknown(what)),
    }
}
