//! `SWITCHYARD_TRUSTED_PROXIES`: which peers' `X-Forwarded-For`/`Forwarded` headers are
//! believed (see `ingest::client_addr` for how they are read).

use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;

use super::cidr::parse_range;

/// `SWITCHYARD_TRUSTED_PROXIES`: the ranges whose forwarding headers are believed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&ip))
    }
}

impl FromStr for TrustedProxies {
    type Err = String;

    /// Comma-separated ranges (`10.0.0.0/8, 2001:db8::/32, 192.0.2.7`); empty: none.
    fn from_str(list: &str) -> Result<Self, String> {
        let entries = list.split(',').map(str::trim).filter(|e| !e.is_empty());
        entries
            .map(|entry| {
                parse_range(entry).map_err(|why| {
                    format!("invalid SWITCHYARD_TRUSTED_PROXIES entry `{entry}`: {why}")
                })
            })
            .collect::<Result<_, _>>()
            .map(TrustedProxies)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trusted(list: &str) -> TrustedProxies {
        list.parse().expect("valid list")
    }

    #[test]
    fn the_trusted_proxies_setting_names_the_bad_entry() {
        assert!(trusted("").is_empty());
        assert!(!trusted(" 10.0.0.0/8 , ::1 ").is_empty());
        let error = "10.0.0.0/8,10.0.0.0/33"
            .parse::<TrustedProxies>()
            .unwrap_err();
        assert!(
            error.starts_with("invalid SWITCHYARD_TRUSTED_PROXIES entry `10.0.0.0/33`: "),
            "{error}"
        );
    }
}
