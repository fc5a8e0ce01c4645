//! Address ranges (`10.0.0.0/8`, `fc00::/7`) for the SSRF guard's rules and allowlist.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// An address range, e.g. `10.0.0.0/8` or `fc00::/7`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    net: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub(super) const fn v4(a: u8, b: u8, c: u8, d: u8, prefix: u8) -> Self {
        let net = IpAddr::V4(Ipv4Addr::new(a, b, c, d));
        Cidr { net, prefix }
    }

    pub(super) const fn v6(s: [u16; 8], prefix: u8) -> Self {
        let net = Ipv6Addr::new(s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]);
        Cidr {
            net: IpAddr::V6(net),
            prefix,
        }
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let bits = |width: u32, net: u128, ip: u128| {
            let shift = width - u32::from(self.prefix);
            shift >= width || (net >> shift) == (ip >> shift)
        };
        match (self.net, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                bits(32, u32::from(net).into(), u32::from(ip).into())
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => bits(128, net.into(), ip.into()),
            _ => false,
        }
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.net, self.prefix)
    }
}

impl FromStr for Cidr {
    type Err = String;

    /// `addr/prefix`, or a bare address (one host). Host bits are cleared: `10.1.2.3/24` is
    /// `10.1.2.0/24`.
    fn from_str(text: &str) -> Result<Self, String> {
        let (addr, prefix) = match text.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text, None),
        };
        let net: IpAddr = addr
            .parse()
            .map_err(|_| format!("`{addr}` is not an IP address"))?;
        let width: u8 = if net.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => width,
            Some(p) => match p.parse::<u8>() {
                Ok(p) if p <= width => p,
                _ => return Err(format!("the prefix length must be 0 to {width}, not `{p}`")),
            },
        };
        let keep = |bits: u128, width: u8| {
            let shift = u32::from(width - prefix);
            if shift >= 128 {
                0
            } else {
                (bits >> shift) << shift
            }
        };
        let net = match net {
            IpAddr::V4(v4) => IpAddr::V4(Ipv4Addr::from(keep(u32::from(v4).into(), 32) as u32)),
            IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(keep(v6.into(), 128))),
        };
        Ok(Cidr { net, prefix })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs_parse_clear_host_bits_and_match_their_family_only() {
        let net: Cidr = "10.1.2.3/24".parse().unwrap();
        assert_eq!(net.to_string(), "10.1.2.0/24");
        assert!(net.contains("10.1.2.255".parse().unwrap()));
        assert!(!net.contains("10.1.3.0".parse().unwrap()));
        assert!(!net.contains("::ffff:10.1.2.3".parse().unwrap()));
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("255.1.2.3".parse().unwrap()));
        assert!(!all.contains("::1".parse().unwrap()));
        let one: Cidr = "2001:db8::1".parse().unwrap();
        assert_eq!(one.to_string(), "2001:db8::1/128");
        let v6: Cidr = "2001:db8:ffff::/33".parse().unwrap();
        assert_eq!(v6.to_string(), "2001:db8:8000::/33");
        assert!(
            "::/0"
                .parse::<Cidr>()
                .unwrap()
                .contains("ff::".parse().unwrap())
        );
    }
}
