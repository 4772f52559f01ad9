//! Where a webhook may point (SSRF): a webhook is an admin-chosen URL the service
//! POSTs to from inside the network, and its delivery log shows status codes and
//! connection errors, so an unchecked URL probes (and reaches) what the network hides:
//! cloud metadata at 169.254.169.254, databases on 10.x, the admin port on loopback.
//!
//! A target is refused when its host is an address that is not globally reachable —
//! unspecified, loopback, private, shared (CGNAT), link-local, unique- and site-local,
//! multicast, broadcast, documentation, benchmarking and other reserved ranges — in
//! IPv4 or IPv6, an IPv6 address carrying such an IPv4 one (v4-mapped, v4-compatible,
//! v4-translated, NAT64) included; or when it is a name that can only be internal
//! (`localhost` and `*.localhost`, `*.internal`, `*.local`, `*.home.arpa`, a name
//! with no dot, which the local search domains complete).
//!
//! Numeric spellings (`2852039166`, `0xA9FEA9FE`, `0251.0376.0251.0376`) need no
//! care here: the `url` crate's WHATWG host parser reads them as the IPv4 address they
//! spell, which is what a client would connect to.
//!
//! Two exceptions: loopback while the service itself listens on loopback (development
//! and tests, as `PROFILES_AUTH=auto` decides), and what `PROFILES_WEBHOOK_ALLOW_PRIVATE`
//! names. The URL is checked when a webhook is saved ([`Targets::refusal`]), and again
//! at each delivery, where [`GuardedResolver`] checks every address a name resolves to
//! (a name may resolve elsewhere by then: DNS rebinding).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// An exception to the rules, as `PROFILES_WEBHOOK_ALLOW_PRIVATE` names it: a network
/// (`10.0.0.0/8`), an address (`10.1.2.3`) or a host name (`hooks.internal`, exactly;
/// whatever it resolves to is then trusted).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AllowedTarget {
    Network(IpNet),
    Host(String),
}

impl std::str::FromStr for AllowedTarget {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        if let Ok(network) = text.parse::<IpNet>() {
            return Ok(AllowedTarget::Network(network.trunc()));
        }
        if let Ok(address) = text.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
            return Ok(AllowedTarget::Network(IpNet::from(address)));
        }
        // The URL host parser, so that an exception reads as a URL's host would.
        match url::Host::parse(text) {
            Ok(url::Host::Domain(name)) => Ok(AllowedTarget::Host(bare(&name).to_owned())),
            Ok(url::Host::Ipv4(address)) => Ok(AllowedTarget::Network(IpNet::from(IpAddr::V4(address)))),
            Ok(url::Host::Ipv6(address)) => Ok(AllowedTarget::Network(IpNet::from(IpAddr::V6(address)))),
            _ => Err(format!("`{text}` is not a network (10.0.0.0/8), an address or a host name")),
        }
    }
}

/// `PROFILES_WEBHOOK_ALLOW_PRIVATE`: the exceptions, comma-separated; blank (a variable
/// set to nothing, as templates leave it) is none.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AllowList(pub Arc<[AllowedTarget]>);

impl std::str::FromStr for AllowList {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let items = text.split(',').map(str::trim).filter(|item| !item.is_empty());
        Ok(AllowList(items.map(str::parse).collect::<Result<_, _>>()?))
    }
}

/// What makes an address unfit for a webhook.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Unspecified,
    Loopback,
    Private,
    Shared,
    LinkLocal,
    UniqueLocal,
    SiteLocal,
    Multicast,
    Broadcast,
    Documentation,
    Reserved,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Unspecified => "an unspecified address",
            Kind::Loopback => "a loopback address",
            Kind::Private => "a private address",
            Kind::Shared => "a shared (carrier-grade NAT) address",
            Kind::LinkLocal => "a link-local address",
            Kind::UniqueLocal => "a unique-local address",
            Kind::SiteLocal => "a site-local address",
            Kind::Multicast => "a multicast address",
            Kind::Broadcast => "the broadcast address",
            Kind::Documentation => "a documentation address",
            Kind::Reserved => "a reserved address",
        })
    }
}

const fn v4(a: u8, b: u8, c: u8, d: u8, len: u8) -> Ipv4Net {
    Ipv4Net::new_assert(Ipv4Addr::new(a, b, c, d), len)
}

const fn v6(segments: [u16; 8], len: u8) -> Ipv6Net {
    let [a, b, c, d, e, f, g, h] = segments;
    Ipv6Net::new_assert(Ipv6Addr::new(a, b, c, d, e, f, g, h), len)
}

/// The IPv4 ranges that are not globally reachable (IANA's special-purpose registry),
/// the narrower first: the first that holds an address says what it is.
const V4_RANGES: [(Ipv4Net, Kind); 17] = [
    (v4(0, 0, 0, 0, 32), Kind::Unspecified),
    (v4(255, 255, 255, 255, 32), Kind::Broadcast),
    (v4(0, 0, 0, 0, 8), Kind::Reserved), // "this network"
    (v4(10, 0, 0, 0, 8), Kind::Private),
    (v4(100, 64, 0, 0, 10), Kind::Shared),
    (v4(127, 0, 0, 0, 8), Kind::Loopback),
    (v4(169, 254, 0, 0, 16), Kind::LinkLocal),
    (v4(172, 16, 0, 0, 12), Kind::Private),
    (v4(192, 0, 0, 0, 24), Kind::Reserved), // IETF protocol assignments
    (v4(192, 0, 2, 0, 24), Kind::Documentation),
    (v4(192, 88, 99, 0, 24), Kind::Reserved), // 6to4 relays
    (v4(192, 168, 0, 0, 16), Kind::Private),
    (v4(198, 18, 0, 0, 15), Kind::Reserved), // benchmarking
    (v4(198, 51, 100, 0, 24), Kind::Documentation),
    (v4(203, 0, 113, 0, 24), Kind::Documentation),
    (v4(224, 0, 0, 0, 4), Kind::Multicast),
    (v4(240, 0, 0, 0, 4), Kind::Reserved),
];

/// The IPv6 ranges that are not globally reachable, once the forms that carry an
/// IPv4 address have been read as it ([`carried_v4`]).
const V6_RANGES: [(Ipv6Net, Kind); 13] = [
    (v6([0, 0, 0, 0, 0, 0, 0, 0], 128), Kind::Unspecified),
    (v6([0, 0, 0, 0, 0, 0, 0, 1], 128), Kind::Loopback),
    (v6([0x64, 0xff9b, 1, 0, 0, 0, 0, 0], 48), Kind::Reserved), // local-use NAT64
    (v6([0x100, 0, 0, 0, 0, 0, 0, 0], 64), Kind::Reserved),     // discard-only
    (v6([0x2001, 0, 0, 0, 0, 0, 0, 0], 23), Kind::Reserved),    // IETF protocol assignments, Teredo
    (v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32), Kind::Documentation),
    (v6([0x2002, 0, 0, 0, 0, 0, 0, 0], 16), Kind::Reserved), // 6to4: an IPv4 address inside
    (v6([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20), Kind::Documentation),
    (v6([0x5f00, 0, 0, 0, 0, 0, 0, 0], 16), Kind::Reserved), // segment routing
    (v6([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7), Kind::UniqueLocal),
    (v6([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10), Kind::LinkLocal),
    (v6([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10), Kind::SiteLocal),
    (v6([0xff00, 0, 0, 0, 0, 0, 0, 0], 8), Kind::Multicast),
];

/// The IPv4 address an IPv6 one stands for: v4-mapped (`::ffff:a.b.c.d`),
/// v4-translated (`::ffff:0:a.b.c.d`), v4-compatible (`::a.b.c.d`, but not `::` and
/// `::1`) and NAT64 (`64:ff9b::a.b.c.d`) each reach the IPv4 host they carry.
fn carried_v4(address: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = address.segments();
    let carries = matches!(s[..6], [0, 0, 0, 0, 0, 0xffff] | [0, 0, 0, 0, 0xffff, 0] | [0x64, 0xff9b, 0, 0, 0, 0])
        || (s[..6] == [0; 6] && address.to_bits() > 1);
    carries.then(|| Ipv4Addr::from_bits(address.to_bits() as u32))
}

/// The address as a connection would reach it: an IPv6 address carrying an IPv4 one is
/// that IPv4 address.
fn reached(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => carried_v4(v6).map_or(address, IpAddr::V4),
        v4 => v4,
    }
}

/// What keeps `address` from being a target, if anything.
fn kind(address: IpAddr) -> Option<Kind> {
    match reached(address) {
        IpAddr::V4(v4) => V4_RANGES.iter().find(|(range, _)| range.contains(&v4)).map(|(_, kind)| *kind),
        IpAddr::V6(v6) => V6_RANGES.iter().find(|(range, _)| range.contains(&v6)).map(|(_, kind)| *kind),
    }
}

/// A host name without the trailing dot of a fully qualified one.
fn bare(name: &str) -> &str {
    name.strip_suffix('.').unwrap_or(name)
}

/// The suffixes of names reserved for private networks: none resolves on the internet.
const PRIVATE_SUFFIXES: [&str; 3] = [".internal", ".local", ".home.arpa"];

/// Whether `host` is this machine: a loopback address in any spelling (`::ffff:127.0.0.1`
/// too), or `localhost` and the names under it.
pub(crate) fn is_loopback(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(name) => is_loopback_name(&bare(name).to_ascii_lowercase()),
        url::Host::Ipv4(address) => kind(IpAddr::V4(*address)) == Some(Kind::Loopback),
        url::Host::Ipv6(address) => kind(IpAddr::V6(*address)) == Some(Kind::Loopback),
    }
}

/// Whether the lower-case `name` is `localhost` or a name under it.
fn is_loopback_name(name: &str) -> bool {
    name == "localhost" || name.ends_with(".localhost")
}

/// The rules a webhook's target must follow: the settings' exceptions, and whether
/// the service listens on loopback.
#[derive(Clone, Debug, Default)]
pub(crate) struct Targets {
    loopback: bool,
    /// Shared with the settings: each delivery's check copies a pointer, not the list.
    allowed: Arc<[AllowedTarget]>,
}

impl Targets {
    /// Loopback allowed when `loopback`, and the exceptions `allowed`.
    pub(crate) fn new(loopback: bool, allowed: &AllowList) -> Targets {
        Targets { loopback, allowed: allowed.0.clone() }
    }

    /// Why `url`'s host may not be a webhook's target, if it may not.
    pub(crate) fn refusal(&self, url: &url::Url) -> Option<Refused> {
        let address = match url.host()? {
            url::Host::Domain(name) => return self.name_refusal(bare(name)).map(Refused),
            url::Host::Ipv4(address) => IpAddr::V4(address),
            url::Host::Ipv6(address) => IpAddr::V6(address),
        };
        self.refused(address).map(|kind| Refused(format!("{address} is {kind}")))
    }

    /// What keeps a connection to `address` from being made, if anything does.
    fn refused(&self, address: IpAddr) -> Option<Kind> {
        let kind = kind(address)?;
        let allowed = (kind == Kind::Loopback && self.loopback)
            || self.allowed.iter().any(|allowed| match allowed {
                AllowedTarget::Network(network) => network.contains(&address) || network.contains(&reached(address)),
                AllowedTarget::Host(_) => false,
            });
        (!allowed).then_some(kind)
    }

    /// Whether `name` is an exception by name.
    fn names(&self, name: &str) -> bool {
        self.allowed
            .iter()
            .any(|allowed| matches!(allowed, AllowedTarget::Host(host) if host.eq_ignore_ascii_case(name)))
    }

    /// Why the host name `name` is refused, before anything resolves it.
    fn name_refusal(&self, name: &str) -> Option<String> {
        let name = name.to_ascii_lowercase();
        if self.names(&name) {
            return None;
        }
        if is_loopback_name(&name) {
            return (!self.loopback).then(|| format!("{name} is a loopback name"));
        }
        if !name.contains('.') {
            return Some(format!("{name} has no dot: the local search domains would complete it"));
        }
        PRIVATE_SUFFIXES
            .iter()
            .any(|suffix| name.ends_with(suffix))
            .then(|| format!("{name} is a name reserved for private networks"))
    }

    /// Why a name that resolved to `addresses` is refused: any one refused address
    /// refuses it (a name given as an exception is trusted whatever it resolves to).
    fn resolved_refusal(&self, name: &str, addresses: &[SocketAddr]) -> Option<Refused> {
        if self.names(bare(name)) {
            return None;
        }
        addresses.iter().find_map(|address| {
            let ip = address.ip();
            self.refused(ip).map(|kind| Refused(format!("{name} resolves to {ip}, {kind}")))
        })
    }
}

/// Why a target is refused, as a user error or the delivery log says it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Refused(String);

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: webhooks may not reach inside the network (PROFILES_WEBHOOK_ALLOW_PRIVATE names exceptions)",
            self.0
        )
    }
}

impl std::error::Error for Refused {}

/// The system's resolver (`getaddrinfo`, on a blocking thread).
pub struct SystemResolver;

impl Resolve for SystemResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            Ok(Box::new(addresses.into_iter()) as Addrs)
        })
    }
}

/// The delivery client's resolver: resolves with `inner` (the system's, or a test's)
/// and refuses a name any of whose addresses is refused, so no connection is made to
/// it. Addresses written in the URL are not resolved: the worker checks them with
/// [`Targets::refusal`] before sending.
pub(crate) struct GuardedResolver {
    inner: Arc<dyn Resolve>,
    targets: Arc<Targets>,
}

impl GuardedResolver {
    pub(crate) fn new(inner: Arc<dyn Resolve>, targets: Targets) -> GuardedResolver {
        GuardedResolver { inner, targets: Arc::new(targets) }
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        let targets = self.targets.clone();
        let resolving = self.inner.resolve(name);
        Box::pin(async move {
            let addresses: Vec<SocketAddr> = resolving.await?.collect();
            if let Some(refused) = targets.resolved_refusal(&host, &addresses) {
                return Err(Box::new(refused) as _);
            }
            Ok(Box::new(addresses.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(targets: &Targets, url: &str) -> Option<String> {
        targets.refusal(&url::Url::parse(url).expect("a URL")).map(|refused| refused.0)
    }

    #[test]
    fn addresses_inside_the_network_are_refused_in_every_spelling() {
        let targets = Targets::new(false, &AllowList::default());
        for url in [
            "https://169.254.169.254/latest/meta-data/",
            "https://2852039166/",
            "https://0xA9FEA9FE/",
            "https://0251.0376.0251.0376/",
            "https://169.254.43518/",
            "https://[::ffff:169.254.169.254]/",
            "https://[::ffff:0:a9fe:a9fe]/",
            "https://[::169.254.169.254]/",
            "https://[64:ff9b::a9fe:a9fe]/",
            "https://10.0.0.5/hook",
            "https://172.31.255.255/",
            "https://192.168.1.1/hook",
            "https://100.64.0.1/",
            "https://127.0.0.1/",
            "https://127.1/",
            "https://0/",
            "https://0.0.0.0/",
            "https://255.255.255.255/",
            "https://224.0.0.1/",
            "https://240.0.0.1/",
            "https://192.0.2.1/",
            "https://198.18.0.1/",
            "https://[::]/",
            "https://[::1]/",
            "https://[fd00::1]/",
            "https://[fe80::1]/",
            "https://[fec0::1]/",
            "https://[ff02::1]/",
            "https://[2001:db8::1]/",
            "https://[2002:a9fe:a9fe::1]/",
            "https://[2001::1]/",
            "https://localhost/",
            "https://LOCALHOST./",
            "https://api.localhost/",
            "https://metadata.google.internal/computeMetadata/v1/",
            "https://printer.local/",
            "https://router.home.arpa/",
            "https://metadata/",
        ] {
            assert!(refusal(&targets, url).is_some(), "{url} must be refused");
        }
    }

    #[test]
    fn public_targets_pass() {
        let targets = Targets::new(false, &AllowList::default());
        for url in [
            "https://example.com/hook",
            "https://hooks.example.com./x",
            "https://8.8.8.8/",
            "https://[2606:4700::1111]/",
            "https://[::ffff:8.8.8.8]/",
            "https://[64:ff9b::808:808]/",
            "https://172.32.0.1/",
            "https://internal.example.com/",
        ] {
            assert_eq!(refusal(&targets, url), None, "{url}");
        }
    }

    #[test]
    fn loopback_passes_while_the_service_listens_on_it() {
        let targets = Targets::new(true, &AllowList::default());
        for url in ["http://127.0.0.1:9/hook", "http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://localhost/"] {
            assert_eq!(refusal(&targets, url), None, "{url}");
        }
        assert!(refusal(&targets, "https://10.0.0.5/").is_some());
    }

    #[test]
    fn the_allow_list_names_networks_addresses_and_hosts() {
        let allowed: AllowList = "10.0.0.0/8, 192.168.1.7,hooks.internal,[fd00::1],".parse().expect("exceptions");
        assert_eq!(allowed.0.len(), 4);
        let targets = Targets::new(false, &allowed);
        for url in [
            "https://10.0.0.5/hook",
            "https://[::ffff:10.0.0.5]/",
            "https://192.168.1.7/",
            "https://HOOKS.internal./x",
            "https://[fd00::1]/",
        ] {
            assert_eq!(refusal(&targets, url), None, "{url}");
        }
        for url in ["https://192.168.1.8/", "https://other.internal/", "https://127.0.0.1/", "https://[fd00::2]/"] {
            assert!(refusal(&targets, url).is_some(), "{url}");
        }
        let resolved = ["10.9.9.9:0".parse().expect("an address")];
        assert_eq!(targets.resolved_refusal("hooks.example.com", &resolved), None);
        let metadata = ["169.254.169.254:0".parse().expect("an address")];
        assert_eq!(targets.resolved_refusal("hooks.internal.", &metadata), None, "a named host is trusted");
        assert!(targets.resolved_refusal("hooks.example.com", &metadata).is_some());
        assert!("10.0.0.0/33".parse::<AllowList>().is_err());
        assert!("".parse::<AllowedTarget>().is_err());
        assert_eq!(" ".parse::<AllowList>(), Ok(AllowList::default()), "blank is none");
    }

    #[test]
    fn a_name_is_refused_when_any_address_it_resolves_to_is() {
        let targets = Targets::new(true, &AllowList::default());
        let mixed: Vec<SocketAddr> =
            ["127.0.0.1:0", "10.0.0.5:0"].iter().map(|a| a.parse().expect("an address")).collect();
        let refused = targets.resolved_refusal("hooks.example.com", &mixed).expect("refused");
        assert_eq!(refused.0, "hooks.example.com resolves to 10.0.0.5, a private address");
    }
}
