//! What an operator's tools talk to while `spar serve` runs: `/metrics` in the Prometheus
//! text format, `/healthz` (the process is up) and `/readyz` (the database answers and every
//! chat surface is connected), and the signals that stop the process cleanly.

use crate::metrics::Metrics;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use spar_core::store::{EventKey, Store};
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// A check `/readyz` runs: its name, and whether it passes now.
pub type Probe = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = bool> + Send>> + Send + Sync>;

/// How long `/readyz` waits for the database before calling it unreachable.
const DATABASE_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Clone)]
pub struct Ops {
    pub metrics: Arc<Metrics>,
    pub store: Arc<dyn Store>,
    /// The platforms Spar serves, each with whether its connection is up.
    pub surfaces: Vec<(&'static str, Probe)>,
}

impl Ops {
    /// Whether each part is ready, by name.
    pub async fn readiness(&self) -> Vec<(&'static str, bool)> {
        // A read that touches a table: the database is there, migrated and answering.
        let ping = EventKey {
            platform: "readiness".into(),
            event_id: String::new(),
        };
        let database = tokio::time::timeout(DATABASE_TIMEOUT, self.store.event_processed(&ping))
            .await
            .is_ok_and(|answered| answered.is_ok());
        let mut parts = vec![("database", database)];
        for (name, probe) in &self.surfaces {
            parts.push((name, probe().await));
        }
        parts
    }

    /// Scrapes what is counted at scrape time (drills by phase) and renders everything.
    pub async fn metrics_text(&self) -> String {
        self.metrics.render()
    }
}

/// Serves the three routes on `addr`; returns the address bound (port 0 picks one).
pub async fn serve(addr: SocketAddr, ops: Ops) -> anyhow::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen for metrics on {addr}: {e}"))?;
    let bound = listener
        .local_addr()
        .map_err(|e| anyhow::anyhow!("cannot read the metrics address: {e}"))?;
    let app = Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready))
        .with_state(ops);
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "the metrics server stopped");
        }
    });
    Ok(bound)
}

async fn metrics(State(ops): State<Ops>) -> impl IntoResponse {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        ops.metrics_text().await,
    )
}

async fn ready(State(ops): State<Ops>) -> impl IntoResponse {
    let parts = ops.readiness().await;
    let body: String = parts
        .iter()
        .map(|(name, ok)| format!("{name}: {}\n", if *ok { "ok" } else { "not ready" }))
        .collect();
    let status = if parts.iter().all(|(_, ok)| *ok) {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, body)
}

/// Resolves when the process is asked to stop: SIGTERM (a supervisor, a deploy) or
/// Ctrl-C.
pub async fn stop_requested() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
