//! The outage test (issue 5, "Proof"): the node reports every 100 ms; the hub is stopped for 30 s and restarted on
//! the same database and ports; every report made meanwhile must reach the hub's history, none twice.
//!
//! It takes about 40 s, so it is its own test binary: `cargo test -p linux-node --test outage`.
//!
//! The node connects through a forwarder owned by the test, which keeps the node's port while the hub restarts:
//! the hub's MQTT listener does not set `SO_REUSEADDR`, so rebinding its own port fails while the connections it
//! closed are in `TIME_WAIT` (60 s on Linux). With the hub down the forwarder refuses every connection, as a closed
//! port would.
//!
//! Controls set `report_interval` in whole seconds; the runtime's initial setting is in ms, so the node starts at
//! 100 ms. The reconnect back-off is capped at 10 s (default 60 s) so that the node is back soon after the hub.

mod common;

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use hub::{Database, Hub, HubConfig};
use linux_node::events::NodeEvent;
use linux_node::node::{RunningNode, Tuning};

/// The outage the issue asks for.
const OUTAGE: Duration = Duration::from_secs(30);

/// A TCP forwarder on a fixed port to wherever the hub currently listens (nowhere while it is down).
#[derive(Clone)]
struct Forwarder {
    upstream: Arc<Mutex<Option<SocketAddr>>>,
}

impl Forwarder {
    async fn start(upstream: SocketAddr) -> (Self, SocketAddr) {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let forwarder = Self {
            upstream: Arc::new(Mutex::new(Some(upstream))),
        };
        let shared = forwarder.clone();
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let target = *shared.upstream.lock().unwrap();
                tokio::spawn(async move {
                    // Hub down: close at once, like a refused connection.
                    let Some(target) = target else { return };
                    let Ok(mut server) = tokio::net::TcpStream::connect(target).await else {
                        return;
                    };
                    let _ = client.set_nodelay(true);
                    let _ = server.set_nodelay(true);
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                });
            }
        });
        (forwarder, addr)
    }

    fn point_to(&self, upstream: Option<SocketAddr>) {
        *self.upstream.lock().unwrap() = upstream;
    }
}

fn hub_config(db: &std::path::Path, mqtt: SocketAddr, http: SocketAddr) -> HubConfig {
    HubConfig {
        mqtt_addr: mqtt,
        http_addr: http,
        database: Database::File(db.to_owned()),
        ..HubConfig::ephemeral()
    }
}

/// What the test learns from the node's events.
#[derive(Default)]
struct Ledger {
    /// Every report token queued, with whether the node was connected at the time.
    queued: Vec<(String, bool)>,
    /// Accepted report replies, by token.
    accepted: HashMap<String, u32>,
    connected: bool,
    dropped: bool,
}

impl Ledger {
    fn note(&mut self, event: &NodeEvent) {
        match event {
            NodeEvent::Connected => self.connected = true,
            NodeEvent::Disconnected { .. } | NodeEvent::ConnectFailed { .. } => {
                self.connected = false
            }
            NodeEvent::Queued {
                report: true,
                client_token,
                ..
            } => self.queued.push((client_token.clone(), self.connected)),
            NodeEvent::Answered {
                method,
                code,
                client_token,
                ..
            } if method == "report_reply" => {
                assert_eq!(*code, 0, "report {client_token} refused");
                *self.accepted.entry(client_token.clone()).or_default() += 1;
            }
            NodeEvent::DroppedOldest { .. } | NodeEvent::GaveUp { .. } => self.dropped = true,
            _ => {}
        }
    }

    fn all_answered(&self) -> bool {
        self.queued
            .iter()
            .all(|(token, _)| self.accepted.contains_key(token))
    }
}

/// Feeds events into the ledger until `until` holds or `timeout` passes.
async fn follow(
    node: &mut RunningNode,
    ledger: &mut Ledger,
    timeout: Duration,
    until: impl Fn(&Ledger) -> bool,
) {
    let deadline = tokio::time::Instant::now() + timeout;
    while !until(ledger) {
        match tokio::time::timeout_at(deadline, node.next_event()).await {
            Ok(Some(event)) => ledger.note(&event),
            Ok(None) => panic!("the node stopped"),
            Err(_) => return,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_report_made_during_a_30_s_outage_arrives_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hub.db");
    let any = SocketAddr::from(([127, 0, 0, 1], 0));
    let hub = Hub::start(hub_config(&db, any, any)).await.unwrap();
    let http = hub.http_addr();
    let (forwarder, mqtt) = Forwarder::start(hub.mqtt_addr()).await;

    let tuning = Tuning {
        report_interval_ms: 100,
        backoff_max_ms: 10_000,
        publish_spacing_ms: 0,
        ..Tuning::default()
    };
    let (mut node, _sim) = start_node(mqtt, tuning);
    let mut ledger = Ledger::default();

    // Steady state: ten reports accepted.
    follow(&mut node, &mut ledger, SOON, |l| l.accepted.len() >= 10).await;
    assert!(
        ledger.accepted.len() >= 10,
        "the node did not report before the outage"
    );

    // The outage.
    forwarder.point_to(None);
    hub.shutdown().await;
    let down_at = Instant::now();
    follow(&mut node, &mut ledger, OUTAGE, |_| false).await;
    let outage = down_at.elapsed();
    // Same database, same HTTP port; MQTT on a fresh port behind the node's unchanged one.
    let hub = Hub::start(hub_config(&db, any, http)).await.unwrap();
    forwarder.point_to(Some(hub.mqtt_addr()));
    let offline: Vec<String> = ledger
        .queued
        .iter()
        .filter(|(_, connected)| !connected)
        .map(|(token, _)| token.clone())
        .collect();
    // 100 ms reports over 30 s: about 300 made while the hub was away.
    assert!(
        offline.len() >= 250,
        "only {} reports queued during a {outage:?} outage",
        offline.len()
    );

    // Back up: everything queued so far, and what the node made since, is answered.
    let flushed_by = Instant::now();
    follow(&mut node, &mut ledger, Duration::from_secs(60), |l| {
        l.connected && l.all_answered()
    })
    .await;
    assert!(
        ledger.all_answered(),
        "{} of {} reports unanswered after the hub came back",
        ledger
            .queued
            .iter()
            .filter(|(t, _)| !ledger.accepted.contains_key(t))
            .count(),
        ledger.queued.len()
    );
    let flush_time = flushed_by.elapsed();
    let summary = stop(node).await;
    assert_eq!(summary.undelivered, 0);
    assert!(!ledger.dropped, "a report was dropped or given up");
    assert_eq!(summary.stats.dropped_oldest, 0);
    assert_eq!(summary.stats.gave_up, 0);
    for token in &offline {
        assert!(
            ledger.accepted.contains_key(token),
            "offline report {token} never answered"
        );
    }

    // The hub's history holds one entry per report, each timestamp once (a report sent twice keeps its timestamp).
    let reports = usize::try_from(summary.stats.reports_queued).unwrap();
    let history = get(
        http,
        "/api/devices/CS0SLTKSYA/dev1/history?property=DHT11_T&limit=10000",
    );
    let values = history["values"].as_array().unwrap();
    let timestamps: Vec<i64> = values
        .iter()
        .map(|v| v["timestamp"].as_i64().unwrap())
        .collect();
    let distinct: HashSet<i64> = timestamps.iter().copied().collect();
    assert_eq!(
        distinct.len(),
        timestamps.len(),
        "{} duplicate report(s) in the hub's history",
        timestamps.len() - distinct.len()
    );
    assert_eq!(
        timestamps.len(),
        reports,
        "the node made {reports} reports, the hub's history has {}",
        timestamps.len()
    );
    println!(
        "outage {outage:?}: {} reports queued offline, {reports} in all, flushed in {flush_time:?}, history {} entries",
        offline.len(),
        timestamps.len()
    );
    hub.shutdown().await;
}
