//! The SSRF guard: with `[fetch] allow_private_networks = false`, no request leaves for this machine or a
//! private network, whatever a config, a feed or a redirect names.
//!
//! A feedmill that fetches URLs other people choose (a shared config, a hosted planet) must not become a
//! way into the network it runs in: the cloud metadata service at 169.254.169.254, an admin page on
//! 127.0.0.1, a router on 192.168.0.1. The rule is on addresses, not on URLs, because any name can
//! resolve to any address. It is enforced where the address is known:
//!
//! * a URL whose host is an IP literal is checked before each hop (the first request and every
//!   redirect, which `http.rs` follows by hand), since the client connects to a literal without
//!   resolving it;
//! * a host name goes through [`Resolver`], the client's DNS resolver: it drops refused addresses and
//!   fails when none is left, so the client only ever connects to an address that passed — no window
//!   between the check and the connection for a DNS rebinding to slip through. `localhost` and
//!   `*.localhost` are refused by name (RFC 6761: they are this machine, whatever DNS says).
//!
//! The default is to allow (local files and local servers are common sources). With an HTTP proxy set in
//! the environment, names are resolved by the proxy and this guard sees only the proxy's address.

use std::error::Error as StdError;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// Why a target was refused: "127.0.0.1 is a loopback address". Travels inside reqwest's error when the
/// resolver refuses, and is found again there by [`Refused::find`].
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(super) struct Refused(pub String);

impl Refused {
    /// The refusal somewhere in `error`'s chain of sources, if the guard caused it.
    pub(super) fn find<'e>(error: &'e (dyn StdError + 'static)) -> Option<&'e Refused> {
        super::causes(error).find_map(|e| e.downcast_ref::<Refused>())
    }
}

/// What kind of address `ip` is, when it is one the guard refuses; `None` for a public address.
pub(super) fn refusal(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => refusal_v4(v4),
        IpAddr::V6(v6) => refusal_v6(v6),
    }
}

fn refusal_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    Some(if ip.is_loopback() {
        "a loopback address"
    } else if ip.is_private() {
        "a private address"
    } else if ip.is_link_local() {
        "a link-local address"
    } else if a == 100 && b & 0xc0 == 64 {
        "a shared (carrier-grade NAT) address"
    } else if a == 0 {
        // 0.0.0.0 reaches this machine on Linux; the rest of 0/8 is "this network".
        "an unspecified address"
    } else if ip.is_broadcast() {
        "the broadcast address"
    } else if ip.is_multicast() {
        "a multicast address"
    } else {
        return None;
    })
}

fn refusal_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let first = ip.segments()[0];
    Some(if ip.is_loopback() {
        "a loopback address"
    } else if ip.is_unspecified() {
        "an unspecified address"
    } else if let Some(v4) = ip.to_ipv4_mapped() {
        // `::ffff:127.0.0.1` connects to 127.0.0.1.
        return refusal_v4(v4);
    } else if ip.is_multicast() {
        "a multicast address"
    } else if first & 0xffc0 == 0xfe80 {
        "a link-local address"
    } else if first & 0xfe00 == 0xfc00 {
        "a unique local (private) address"
    } else {
        return None;
    })
}

/// The rules, and the addresses tests let through.
#[derive(Debug, Clone, Default)]
pub(super) struct Guard {
    /// Refused addresses let through anyway: only tests set it, to reach the test server on 127.0.0.1.
    pub exempt: Vec<IpAddr>,
}

impl Guard {
    /// What kind of refused address `ip` is, unless it is exempt.
    fn refused(&self, ip: IpAddr) -> Option<&'static str> {
        refusal(ip).filter(|_| !self.exempt.contains(&ip))
    }

    /// Refuses a URL whose host is a refused IP literal. Names pass here; the resolver checks them.
    pub(super) fn check_url(&self, url: &Url) -> Result<(), Refused> {
        let ip: IpAddr = match url.host() {
            Some(Host::Ipv4(ip)) => ip.into(),
            Some(Host::Ipv6(ip)) => ip.into(),
            Some(Host::Domain(_)) | None => return Ok(()),
        };
        match self.refused(ip) {
            Some(what) => Err(Refused(format!("{ip} is {what}"))),
            None => Ok(()),
        }
    }

    /// Refuses the names of this machine, before DNS is asked about them.
    fn check_name(&self, name: &str) -> Result<(), Refused> {
        let lower = name.trim_end_matches('.').to_ascii_lowercase();
        if lower == "localhost" || lower.ends_with(".localhost") {
            return Err(Refused(format!("{name} is this machine")));
        }
        Ok(())
    }

    /// The addresses `name` resolved to that may be reached; when none may, the refusal names the first.
    fn filter(&self, name: &str, addrs: impl IntoIterator<Item = SocketAddr>) -> Result<Vec<SocketAddr>, Refused> {
        let mut first_refused = None;
        let kept: Vec<SocketAddr> = addrs
            .into_iter()
            .filter(|a| match self.refused(a.ip()) {
                Some(what) => {
                    first_refused.get_or_insert_with(|| format!("{}, {what}", a.ip()));
                    false
                }
                None => true,
            })
            .collect();
        match first_refused {
            Some(why) if kept.is_empty() => Err(Refused(format!("{name} resolves to {why}"))),
            _ => Ok(kept),
        }
    }
}

/// A name that can never resolve: under `.invalid` (RFC 6761 §6.4 asks resolvers to answer "no such
/// name" for it at once rather than ask DNS).
#[derive(Debug, thiserror::Error)]
#[error("{0}: no such host (names under .invalid never resolve, RFC 6761)")]
pub(super) struct NeverResolves(pub String);

impl NeverResolves {
    fn check(name: &str) -> Result<(), NeverResolves> {
        let lower = name.trim_end_matches('.').to_ascii_lowercase();
        if lower == "invalid" || lower.ends_with(".invalid") {
            return Err(NeverResolves(name.to_owned()));
        }
        Ok(())
    }

    /// Whether `error`'s chain holds one: asking again cannot help.
    pub(super) fn in_chain(error: &(dyn StdError + 'static)) -> bool {
        super::causes(error).any(|e| e.is::<NeverResolves>())
    }
}

/// The client's DNS resolver: `.invalid` names fail without a query; the others go to the system
/// resolver and then, when the guard is on, through [`Guard`]'s filter.
pub(super) struct Resolver(pub Option<Arc<Guard>>);

impl Resolve for Resolver {
    fn resolve(&self, name: Name) -> Resolving {
        let guard = self.0.clone();
        Box::pin(async move {
            let name = name.as_str();
            NeverResolves::check(name)?;
            if let Some(guard) = &guard {
                guard.check_name(name)?;
            }
            let resolved = tokio::net::lookup_host((name, 0)).await?;
            let kept = match &guard {
                Some(guard) => guard.filter(name, resolved)?,
                None => resolved.collect(),
            };
            Ok(Box::new(kept.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_addresses() {
        let refused = [
            ("127.0.0.1", "a loopback address"),
            ("127.255.0.9", "a loopback address"),
            ("10.1.2.3", "a private address"),
            ("172.16.0.1", "a private address"),
            ("172.31.255.255", "a private address"),
            ("192.168.1.1", "a private address"),
            ("169.254.169.254", "a link-local address"),
            ("100.64.0.1", "a shared (carrier-grade NAT) address"),
            ("100.127.255.255", "a shared (carrier-grade NAT) address"),
            ("0.0.0.0", "an unspecified address"),
            ("0.1.2.3", "an unspecified address"),
            ("255.255.255.255", "the broadcast address"),
            ("224.0.0.1", "a multicast address"),
            ("::1", "a loopback address"),
            ("::", "an unspecified address"),
            ("fe80::1", "a link-local address"),
            ("febf::1", "a link-local address"),
            ("fc00::1", "a unique local (private) address"),
            ("fd12:3456::1", "a unique local (private) address"),
            ("ff02::1", "a multicast address"),
            ("::ffff:127.0.0.1", "a loopback address"),
            ("::ffff:10.0.0.1", "a private address"),
            ("::ffff:169.254.169.254", "a link-local address"),
        ];
        for (ip, what) in refused {
            assert_eq!(refusal(ip.parse().unwrap()), Some(what), "{ip}");
        }
        let allowed = [
            "93.184.216.34",
            "8.8.8.8",
            "172.15.255.255",
            "172.32.0.1",
            "100.63.255.255",
            "100.128.0.1",
            "169.253.1.1",
            "11.0.0.1",
            "2606:4700::1111",
            "2001:db8::1",
            "fec0::1",
            "::ffff:93.184.216.34",
        ];
        for ip in allowed {
            assert_eq!(refusal(ip.parse().unwrap()), None, "{ip}");
        }
    }

    #[test]
    fn literal_hosts_are_checked_and_names_left_to_the_resolver() {
        let guard = Guard::default();
        let check = |u: &str| guard.check_url(&Url::parse(u).unwrap()).map_err(|r| r.0);
        assert_eq!(check("http://127.0.0.1:8080/feed"), Err("127.0.0.1 is a loopback address".to_owned()));
        assert_eq!(check("http://[::ffff:a00:1]/"), Err("::ffff:10.0.0.1 is a private address".to_owned()));
        // The URL parser reads the old numeric forms as IPv4, as browsers and the client do.
        assert_eq!(check("http://2130706433/"), Err("127.0.0.1 is a loopback address".to_owned()));
        assert_eq!(check("http://0x7f.1/"), Err("127.0.0.1 is a loopback address".to_owned()));
        assert_eq!(check("https://93.184.216.34/"), Ok(()));
        assert_eq!(check("http://localhost/"), Ok(()), "names are the resolver's");
        let exempt = Guard { exempt: vec!["127.0.0.1".parse().unwrap()] };
        assert!(exempt.check_url(&Url::parse("http://127.0.0.1/").unwrap()).is_ok());
        assert!(exempt.check_url(&Url::parse("http://127.0.0.2/").unwrap()).is_err());
    }

    #[test]
    fn resolved_addresses_are_filtered() {
        let guard = Guard::default();
        let addr = |s: &str| SocketAddr::new(s.parse().unwrap(), 0);
        let kept = guard.filter("mixed.example", [addr("10.0.0.5"), addr("93.184.216.34")]).unwrap();
        assert_eq!(kept, [addr("93.184.216.34")]);
        let err = guard.filter("intranet.example", [addr("10.0.0.5"), addr("fd00::5")]).unwrap_err();
        assert_eq!(err.0, "intranet.example resolves to 10.0.0.5, a private address");
        assert!(guard.filter("nothing.example", []).unwrap().is_empty(), "no answer is DNS's error, not ours");
        assert_eq!(guard.check_name("LocalHost.").unwrap_err().0, "LocalHost. is this machine");
        assert!(guard.check_name("feeds.localhost").is_err());
        assert!(guard.check_name("localhost.example").is_ok());
    }

    #[test]
    fn invalid_names_never_resolve() {
        for name in ["feed.invalid", "a.b.INVALID.", "invalid"] {
            assert!(NeverResolves::check(name).is_err(), "{name}");
        }
        for name in ["invalid.example", "example.org", "notinvalid"] {
            assert!(NeverResolves::check(name).is_ok(), "{name}");
        }
    }
}
