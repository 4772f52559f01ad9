//! `/metrics` on a listener of its own: never open to anyone when tokens are
//! required. Prometheus scrapes without tokens, so the metrics are kept off the main
//! router and served where only the operator reaches: loopback by default.

use std::net::SocketAddr;
use std::str::FromStr;

use axum::Router;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use metrics_exporter_prometheus::PrometheusHandle;

use crate::service::runtime::Services;
use crate::telemetry;

/// Where `/metrics` is served: an address, or `off` for nowhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MetricsListen(pub Option<SocketAddr>);

impl FromStr for MetricsListen {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.trim().eq_ignore_ascii_case("off") {
            return Ok(MetricsListen(None));
        }
        text.trim()
            .parse()
            .map(|address| MetricsListen(Some(address)))
            .map_err(|_| format!("`{text}` is neither an address and port (127.0.0.1:9464) nor `off`"))
    }
}

/// The metrics listener's only route.
pub fn router(services: Services, metrics: PrometheusHandle) -> Router {
    Router::new().route("/metrics", get(scrape)).with_state((services, metrics))
}

/// The metrics, with the webhook backlog read at the scrape.
async fn scrape(State((services, metrics)): State<(Services, PrometheusHandle)>) -> impl IntoResponse {
    if let Err(error) = crate::service::events::delivery::observe_backlog(&services.db, services.clock.now()).await {
        tracing::warn!(%error, "cannot read the webhook backlog");
    }
    telemetry::scrape(State((services.db, metrics))).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_listen_setting_is_an_address_or_off() {
        assert_eq!("OFF".parse(), Ok(MetricsListen(None)));
        let address: SocketAddr = "127.0.0.1:9464".parse().expect("an address");
        assert_eq!("127.0.0.1:9464".parse(), Ok(MetricsListen(Some(address))));
        assert!("9464".parse::<MetricsListen>().is_err());
    }
}
