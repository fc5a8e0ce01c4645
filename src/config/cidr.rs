//! Address ranges as operators write them: a CIDR range or one host. Shared by the recipe key
//! `allow_from` and the setting `SWITCHYARD_TRUSTED_PROXIES`.

use std::net::IpAddr;

use ipnet::IpNet;

/// A CIDR range (`192.0.2.0/24`) or a bare address (one host). Host bits must be clear:
/// `192.0.2.5/24` is refused as likely meaning either `192.0.2.0/24` or `192.0.2.5`.
pub fn parse_range(entry: &str) -> Result<IpNet, String> {
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Ok(unmapped(IpNet::from(ip)));
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
    Ok(unmapped(net))
}

/// An IPv4-mapped range (`::ffff:192.0.2.0/120`, RFC 4291 §2.5.5.2) as the IPv4 range it
/// names (`192.0.2.0/24`): callers' addresses are compared as IPv4, so a mapped entry kept as
/// IPv6 would match no one.
fn unmapped(net: IpNet) -> IpNet {
    match net {
        IpNet::V6(v6) if v6.prefix_len() >= 96 => match v6.addr().to_ipv4_mapped() {
            Some(v4) => IpNet::new(IpAddr::V4(v4), v6.prefix_len() - 96).unwrap_or(net),
            None => net,
        },
        other => other,
    }
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

    #[test]
    fn ipv4_mapped_entries_are_the_ipv4_ranges_they_name() {
        // Callers are compared as IPv4; a mapped entry kept as IPv6 would match no one.
        for (entry, expected) in [
            ("::ffff:192.0.2.0/120", "192.0.2.0/24"),
            ("::ffff:127.0.0.1", "127.0.0.1/32"),
            ("::ffff:0:0/96", "0.0.0.0/0"),
            ("2001:db8::/32", "2001:db8::/32"),
        ] {
            assert_eq!(parse_range(entry).unwrap().to_string(), expected, "{entry}");
        }
    }
}
