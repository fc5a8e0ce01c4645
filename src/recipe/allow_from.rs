//! `allow_from` under `[trigger.webhook]`: the address ranges a webhook accepts calls from,
//! for providers that publish theirs (Stripe, GitHub's `hooks`, Shopify). Which address a
//! request is judged by is `ingest::client_addr`'s business.

use ipnet::IpNet;

use super::error::FieldError;
use crate::config::cidr::parse_range;

/// The ranges of `allow_from`, each entry checked; `None` when the key is absent. An empty
/// list is refused: it would refuse every call, which is what disabling the recipe is for.
pub(super) fn allow_from(
    list: Option<&[String]>,
    errors: &mut Vec<FieldError>,
) -> Option<Vec<IpNet>> {
    let list = list?;
    if list.is_empty() {
        errors.push(FieldError::new(
            "trigger.webhook.allow_from",
            "is empty, which would refuse every call: list CIDR ranges (\"192.0.2.0/24\") or remove the key to accept any address",
        ));
        return None;
    }
    let mut ranges = Vec::with_capacity(list.len());
    for (i, entry) in list.iter().enumerate() {
        match parse_range(entry.trim()) {
            Ok(range) => ranges.push(range),
            Err(why) => errors.push(FieldError::new(
                format!("trigger.webhook.allow_from[{i}]"),
                format!("`{entry}`: {why}"),
            )),
        }
    }
    (ranges.len() == list.len()).then_some(ranges)
}
