//! The client's address for the login limits. Behind the TLS proxy the deployment guide
//! describes, the TCP peer is the proxy: only a proxy the deployment names (`--trusted-proxy`) is
//! believed about who it forwards for, through `X-Forwarded-For`.

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;

/// One address or CIDR block (`10.0.0.5`, `10.0.0.0/8`, `::1`, `fd00::/8`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpBlock {
    addr: IpAddr,
    prefix: u8,
}

impl IpBlock {
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("{s:?} is not an IP address or CIDR block"))?;
        let addr = addr.to_canonical();
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{s:?}: the prefix length must be 0–{max}"))?,
        };
        Ok(Self { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => same_prefix(&net.octets(), &ip.octets(), self.prefix),
            (IpAddr::V6(net), IpAddr::V6(ip)) => same_prefix(&net.octets(), &ip.octets(), self.prefix),
            _ => false,
        }
    }
}

fn same_prefix(a: &[u8], b: &[u8], prefix: u8) -> bool {
    let full = usize::from(prefix / 8);
    let rest = prefix % 8;
    if a[..full] != b[..full] {
        return false;
    }
    if rest == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - rest);
    a[full] & mask == b[full] & mask
}

/// The proxies whose `X-Forwarded-For` is believed. Empty (the default): the peer address is the
/// client, whatever the headers say.
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(Vec<IpBlock>);

impl TrustedProxies {
    /// From the setting's values, each one address or block or several separated by commas.
    pub fn parse<S: AsRef<str>>(items: &[S]) -> Result<Self, String> {
        let mut out = Vec::new();
        for item in items {
            for part in item.as_ref().split(',').filter(|p| !p.trim().is_empty()) {
                out.push(IpBlock::parse(part)?);
            }
        }
        Ok(Self(out))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|b| b.contains(ip))
    }

    /// Who the client is: the peer, unless the peer is a trusted proxy; then `X-Forwarded-For`
    /// is read from the right (each proxy appends the address it got the request from), skipping
    /// trusted proxies, and the right-most address that is not one is the client — addresses to
    /// its left were written by the client itself and prove nothing. If every hop is trusted,
    /// the left-most is the client; an entry that is no address ends the walk at the last hop
    /// believed (so garbage cannot pick a bucket).
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = peer.to_canonical();
        if !self.trusts(client) {
            return client;
        }
        let hops: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .collect();
        for hop in hops.iter().rev() {
            let Some(ip) = parse_hop(hop) else {
                break;
            };
            client = ip;
            if !self.trusts(ip) {
                break;
            }
        }
        client
    }
}

/// One `X-Forwarded-For` entry: an address, possibly with a port (`1.2.3.4:5`, `[::1]:5`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn blocks_parse_and_contain() {
        let b = IpBlock::parse("10.1.0.0/16").unwrap();
        assert!(b.contains(ip("10.1.200.3")) && !b.contains(ip("10.2.0.1")));
        assert!(IpBlock::parse("10.1.2.3").unwrap().contains(ip("10.1.2.3")));
        assert!(!IpBlock::parse("10.1.2.3").unwrap().contains(ip("10.1.2.4")));
        assert!(
            IpBlock::parse("192.168.0.0/23")
                .unwrap()
                .contains(ip("192.168.1.255"))
        );
        assert!(
            !IpBlock::parse("192.168.0.0/23")
                .unwrap()
                .contains(ip("192.168.2.0"))
        );
        assert!(IpBlock::parse("fd00::/8").unwrap().contains(ip("fd12::1")));
        assert!(IpBlock::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        // an IPv4 peer seen on a dual-stack socket
        assert!(
            IpBlock::parse("127.0.0.1")
                .unwrap()
                .contains(ip("::ffff:127.0.0.1"))
        );
        for bad in ["", "10.0.0.0/33", "nonsense", "::/129", "10.0.0.0/x"] {
            assert!(IpBlock::parse(bad).is_err(), "{bad}");
        }
        let t = TrustedProxies::parse(&["127.0.0.1, 10.0.0.0/8", "::1"]).unwrap();
        assert_eq!(t.0.len(), 3);
    }

    #[test]
    fn the_right_most_untrusted_forwarded_address_is_the_client() {
        let t = TrustedProxies::parse(&["127.0.0.1", "10.0.0.0/8"]).unwrap();
        let peer = ip("127.0.0.1");
        assert_eq!(t.client_ip(peer, &headers(&["203.0.113.5"])), ip("203.0.113.5"));
        // the client wrote the left part itself: only the hop our proxies saw counts
        assert_eq!(
            t.client_ip(peer, &headers(&["1.1.1.1, 203.0.113.5, 10.0.0.7"])),
            ip("203.0.113.5")
        );
        assert_eq!(
            t.client_ip(peer, &headers(&["1.1.1.1", "203.0.113.5:4321"])),
            ip("203.0.113.5"),
            "several headers read as one list; a port is dropped"
        );
        assert_eq!(
            t.client_ip(peer, &headers(&["10.0.0.3, 10.0.0.7"])),
            ip("10.0.0.3")
        );
        assert_eq!(
            t.client_ip(peer, &headers(&[])),
            peer,
            "no header: the proxy itself"
        );
        assert_eq!(
            t.client_ip(peer, &headers(&["203.0.113.5, garbage"])),
            peer,
            "garbage ends the walk at the last hop believed"
        );
        // an untrusted peer's header is ignored
        let other = ip("198.51.100.9");
        assert_eq!(t.client_ip(other, &headers(&["203.0.113.5"])), other);
        assert_eq!(
            TrustedProxies::default().client_ip(peer, &headers(&["203.0.113.5"])),
            peer
        );
    }
}
