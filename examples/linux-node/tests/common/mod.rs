//! Shared set-up of the end-to-end tests: an in-process hub on 127.0.0.1, a node against it, HTTP helpers.

#![allow(dead_code)] // each test binary uses a different part

use std::net::SocketAddr;
use std::time::Duration;

use hub::{Hub, HubConfig};
use linux_node::config::{DeviceCredentials, Remote, Secret};
use linux_node::events::NodeEvent;
use linux_node::node::{NodeSensors, NodeSpec, RunningNode, Tuning};
use linux_node::simulated;
use sensors::sim::Simulator;
use serde_json::Value;

/// The demo device's path in the HTTP API.
pub const DEVICE: &str = "CS0SLTKSYA/dev1";

/// Generous limit for anything that should take milliseconds on an idle machine (CI shares 2 cores).
pub const SOON: Duration = Duration::from_secs(10);

/// The demo device on `mqtt`.
pub fn remote(mqtt: SocketAddr) -> Remote {
    Remote {
        host: mqtt.ip().to_string(),
        port: mqtt.port(),
        tls: false,
        ca_file: None,
        device: DeviceCredentials {
            product_id: hub::DEMO_PRODUCT_ID.to_owned(),
            device_name: hub::DEMO_DEVICE_NAME.to_owned(),
            device_psk: Secret::new(hub::DEMO_DEVICE_PSK),
        },
    }
}

/// Runtime settings for a local hub: no publish spacing, quick reconnects.
pub fn tuning(report_interval_s: u32) -> Tuning {
    Tuning {
        report_interval_ms: report_interval_s * 1000,
        publish_spacing_ms: 0,
        ..Tuning::default()
    }
}

/// A node on simulated sensors against `mqtt`; returns the simulator to inject events.
pub fn start_node(mqtt: SocketAddr, tuning: Tuning) -> (RunningNode, Simulator) {
    let (simulator, room) = simulated::room(7);
    let node = RunningNode::spawn(NodeSpec {
        remote: remote(mqtt),
        sensors: NodeSensors::Simulated(Box::new(room)),
        alarm: None,
        tuning,
        print: false,
    })
    .unwrap();
    (node, simulator)
}

/// An ephemeral hub (in-memory database, free ports).
pub async fn start_hub() -> Hub {
    Hub::start(HubConfig::ephemeral()).await.unwrap()
}

/// `GET {http}{path}` as JSON. Blocking: the hub and the node run on their own threads.
pub fn get(http: SocketAddr, path: &str) -> Value {
    let url = format!("http://{http}{path}");
    ureq::get(&url)
        .call()
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
        .body_mut()
        .read_json()
        .unwrap()
}

/// `POST {http}{path}` with a JSON body; returns the status and the JSON answer.
pub fn post(http: SocketAddr, path: &str, body: &Value) -> (u16, Value) {
    let url = format!("http://{http}{path}");
    let mut response = ureq::post(&url)
        .config()
        .http_status_as_error(false)
        .build()
        .send_json(body)
        .unwrap_or_else(|e| panic!("POST {url}: {e}"));
    let status = response.status().as_u16();
    (status, response.body_mut().read_json().unwrap())
}

/// Waits for the next event matching `matches`, failing the test with what was seen instead.
pub async fn expect(
    node: &mut RunningNode,
    what: &str,
    timeout: Duration,
    matches: impl FnMut(&NodeEvent) -> bool,
) -> NodeEvent {
    match node.wait_for(timeout, matches).await {
        Ok(event) => event,
        Err(seen) => panic!(
            "no {what} within {timeout:?}; saw {} events: {seen:#?}",
            seen.len()
        ),
    }
}

/// A `report_reply` with code 0.
pub fn report_accepted(event: &NodeEvent) -> bool {
    matches!(event, NodeEvent::Answered { method, code: 0, .. } if method == "report_reply")
}

/// A published report.
pub fn is_report(event: &NodeEvent) -> bool {
    event.published_method() == Some("report")
}

/// The params of a published message.
pub fn params(event: &NodeEvent) -> &Value {
    match event {
        NodeEvent::Published { payload, .. } => &payload["params"],
        other => panic!("not a published message: {other:?}"),
    }
}

/// Stops the node from a blocking thread and returns its summary.
pub async fn stop(node: RunningNode) -> linux_node::node::Summary {
    tokio::task::spawn_blocking(move || node.stop())
        .await
        .unwrap()
        .unwrap()
}
