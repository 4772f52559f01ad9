//! The places of WebSocket connections: a socket waits for its `connection_init` in
//! one of few places (in all, and per client address unless the peer is a trusted
//! proxy), and only once authenticated takes one of `PROFILES_MAX_WEBSOCKETS`. Each
//! place is an owned guard, freed when dropped with its connection.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::{WebSocketLimits, lock};

/// The places of WebSocket connections: those waiting for `connection_init` (in all
/// and per client address) and those admitted.
pub struct Places {
    admitted: Arc<Semaphore>,
    waiting: Arc<Semaphore>,
    waiting_by_client: Arc<Mutex<HashMap<IpAddr, usize>>>,
    max_waiting_per_client: usize,
    /// Peers that stand for many clients: counted only in all.
    trusted_proxies: Vec<IpAddr>,
}

impl Places {
    pub fn new(limits: &WebSocketLimits, trusted_proxies: &[IpAddr]) -> Places {
        Places {
            admitted: Arc::new(Semaphore::new(limits.max)),
            waiting: Arc::new(Semaphore::new(limits.max_pending)),
            waiting_by_client: Arc::default(),
            max_waiting_per_client: limits.max_pending_per_client,
            trusted_proxies: trusted_proxies.iter().map(IpAddr::to_canonical).collect(),
        }
    }

    /// Resolves once an admitted place is free (tests wait on it).
    pub async fn admitted_place_freed(&self) {
        let _ = self.admitted.acquire().await;
    }

    pub(super) fn full(&self) -> bool {
        self.admitted.available_permits() == 0
    }

    pub(super) fn admit(&self) -> Option<OwnedSemaphorePermit> {
        self.admitted.clone().try_acquire_owned().ok()
    }

    /// A place to wait for `connection_init` in, for a socket from `peer`; none when
    /// they are all taken, or all of `peer`'s.
    pub(super) fn wait(&self, peer: Option<IpAddr>) -> Option<Waiting> {
        let all = self.waiting.clone().try_acquire_owned().ok()?;
        let client = match peer.map(|peer| peer.to_canonical()) {
            Some(address) if !self.trusted_proxies.contains(&address) => Some(self.wait_as(client_of(address))?),
            _ => None,
        };
        Some(Waiting { _all: all, _client: client })
    }

    fn wait_as(&self, address: IpAddr) -> Option<ClientPlace> {
        let mut counts = lock(&self.waiting_by_client);
        let count = counts.entry(address).or_default();
        if *count >= self.max_waiting_per_client {
            return None;
        }
        *count += 1;
        Some(ClientPlace { address, counts: self.waiting_by_client.clone() })
    }
}

/// A socket's place among those waiting for `connection_init`: freed when dropped.
pub(super) struct Waiting {
    _all: OwnedSemaphorePermit,
    _client: Option<ClientPlace>,
}

/// One of a client address's waiting places.
struct ClientPlace {
    address: IpAddr,
    counts: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl Drop for ClientPlace {
    fn drop(&mut self) {
        let mut counts = lock(&self.counts);
        if let Some(count) = counts.get_mut(&self.address) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                counts.remove(&self.address);
            }
        }
    }
}

/// The client an address counts as: an IPv4 address itself, an IPv6 address its /64
/// (one host is commonly given a whole /64, and could otherwise take every place).
fn client_of(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(_) => address,
        IpAddr::V6(v6) => IpAddr::V6(std::net::Ipv6Addr::from(u128::from(v6) & !u128::from(u64::MAX))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_client_is_its_64_and_an_ipv4_client_its_address() {
        let ip = |text: &str| text.parse::<IpAddr>().expect("an address");
        assert_eq!(client_of(ip("2001:db8:1:2:aaaa::1")), client_of(ip("2001:db8:1:2:bbbb::9")));
        assert_ne!(client_of(ip("2001:db8:1:2::1")), client_of(ip("2001:db8:1:3::1")));
        assert_eq!(client_of(ip("2001:db8:1:2:aaaa::1")), ip("2001:db8:1:2::"));
        assert_eq!(client_of(ip("192.0.2.7")), ip("192.0.2.7"));
    }
}
