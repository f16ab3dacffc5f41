//! Report→reply latency on loopback through the hub: the node (runtime, rumqttc transport, simulated sensors)
//! reports to an in-process hub and the time from a report entering the queue to its `report_reply` is recorded.
//!
//! `cargo bench -p linux-node --bench latency` prints p50/p90/p99/max over `SAMPLES` reports (about 12 s).

use std::time::Duration;

use hub::{Hub, HubConfig};
use linux_node::config::{DeviceCredentials, Remote, Secret};
use linux_node::events::NodeEvent;
use linux_node::node::{NodeSensors, NodeSpec, RunningNode, Tuning};
use linux_node::simulated;

/// Reports measured.
const SAMPLES: usize = 200;
/// Reports ignored first (connect sequence, first allocations).
const WARM_UP: usize = 10;
/// One report every 50 ms: well apart, so each is measured alone rather than behind another in the queue.
const REPORT_INTERVAL_MS: u32 = 50;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    // Nearest rank; `sorted` is not empty.
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async {
        let hub = Hub::start(HubConfig::ephemeral()).await.expect("hub");
        let (_sim, room) = simulated::room(1);
        let mut node = RunningNode::spawn(NodeSpec {
            remote: Remote {
                host: hub.mqtt_addr().ip().to_string(),
                port: hub.mqtt_addr().port(),
                tls: false,
                ca_file: None,
                device: DeviceCredentials {
                    product_id: hub::DEMO_PRODUCT_ID.to_owned(),
                    device_name: hub::DEMO_DEVICE_NAME.to_owned(),
                    device_psk: Secret::new(hub::DEMO_DEVICE_PSK),
                },
            },
            sensors: NodeSensors::Simulated(Box::new(room)),
            alarm: None,
            tuning: Tuning {
                report_interval_ms: REPORT_INTERVAL_MS,
                publish_spacing_ms: 0,
                ..Tuning::default()
            },
            print: false,
        })
        .expect("node");

        let mut latencies = Vec::with_capacity(SAMPLES);
        let mut seen = 0;
        while latencies.len() < SAMPLES {
            let event = node
                .wait_for(
                    Duration::from_secs(10),
                    |e| matches!(e, NodeEvent::Answered { method, .. } if method == "report_reply"),
                )
                .await
                .expect("a report_reply within 10 s");
            if let NodeEvent::Answered {
                code,
                latency: Some(latency),
                ..
            } = event
            {
                assert_eq!(code, 0, "report refused");
                seen += 1;
                if seen > WARM_UP {
                    latencies.push(latency);
                }
            }
        }
        tokio::task::spawn_blocking(move || node.stop())
            .await
            .expect("join")
            .expect("node stop");
        hub.shutdown().await;

        latencies.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        println!(
            "report→reply over loopback through the hub, {} reports every {REPORT_INTERVAL_MS} ms: \
             p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms, min {:.2} ms",
            latencies.len(),
            ms(percentile(&latencies, 50.0)),
            ms(percentile(&latencies, 90.0)),
            ms(percentile(&latencies, 99.0)),
            ms(latencies[latencies.len() - 1]),
            ms(latencies[0]),
        );
    });
}
