//! Address ranges as operators write them: a CIDR range or one host. Shared by the recipe key
//! `allow_from` and the setting `SWITCHYARD_TRUSTED_PROXIES`.

use std::net::IpAddr;

use ipnet::IpNet;

/// A CIDR range (`192.0.2.0/24`) or a bare address (one host). Host bits must be clear:
/// `192.0.2.5/24` is refused as likely meaning either `192.0.2.0/24` or `192.0.2.5`.
pub fn parse_range(entry: &str) -> Result<IpNet, String> {
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Ok(IpNet::from(ip));
    }
    let Some((addr, prefix)) = entry.split_once('/') else {
        return Err("not an IP address or CIDR range (e.g. 192.0.2.0/24)".into());
    };
    let ip: IpAddr = addr
        .parse()
        .map_err(|_| format!("`{addr}` is not an IP address"))?;
    let width = if ip.is_ipv4() { 32 } else { 128 };
    let net = prefix
        .parse::<u8>()
        .ok()
        .and_then(|p| IpNet::new(ip, p).ok())
        .ok_or_else(|| format!("the prefix length must be 0 to {width}, not `{prefix}`"))?;
    if net.trunc() != net {
        return Err(format!(
            "host bits are set: write {} for the range or {ip} for the one host",
            net.trunc()
        ));
    }
    Ok(net)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse_as_cidr_or_single_hosts_and_errors_name_the_problem() {
        assert_eq!(
            parse_range("192.0.2.0/24").unwrap().to_string(),
            "192.0.2.0/24"
        );
        assert_eq!(
            parse_range("203.0.113.7").unwrap().to_string(),
            "203.0.113.7/32"
        );
        assert_eq!(
            parse_range("2001:db8::/32").unwrap().to_string(),
            "2001:db8::/32"
        );
        assert_eq!(parse_range("::1").unwrap().to_string(), "::1/128");
        let cases = [
            (
                "192.0.2.0/33",
                "the prefix length must be 0 to 32, not `33`",
            ),
            ("2001:db8::/129", "0 to 128"),
            ("192.0.2.0/x", "not `x`"),
            ("192.0.2.5/24", "host bits are set: write 192.0.2.0/24"),
            ("example.com", "not an IP address or CIDR range"),
            ("300.1.1.1/8", "`300.1.1.1` is not an IP address"),
            ("", "not an IP address"),
        ];
        for (entry, expected) in cases {
            let error = parse_range(entry).unwrap_err();
            assert!(error.contains(expected), "{entry}: {error}");
        }
    }
}
