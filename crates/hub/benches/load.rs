//! Load bench: N simulated devices report through the hub, each waiting for its `report_reply` before the next
//! report (closed loop). Prints report→reply latency percentiles and the throughput.
//!
//! ```text
//! cargo bench -p hub --bench load                         # 50 devices × 200 reports, WAL + synchronous=NORMAL
//! HUB_BENCH_DEVICES=10 HUB_BENCH_REPORTS=100 HUB_BENCH_SYNC=full cargo bench -p hub --bench load
//! ```
//!
//! Everything runs on 127.0.0.1 in this process: the hub on its own runtime, the devices on another.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hub::{Database, Durability, Hub, HubConfig};
use iot_core::credentials::{ConnId, DeviceIdentity, Expiry, SignOptions};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde_json::{json, Value};

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// Registers a device through the HTTP API and returns its PSK.
fn add_device(http: &str, name: &str) -> String {
    let agent: ureq::Agent = ureq::Agent::config_builder().build().into();
    let body: Value = agent
        .post(&format!("http://{http}/api/products/CS0SLTKSYA/devices"))
        .send_json(json!({ "name": name }))
        .expect("device added")
        .body_mut()
        .read_json()
        .expect("JSON answer");
    body["psk"].as_str().expect("psk").to_owned()
}

/// One device: connects, subscribes, then sends `reports` reports one after the other; returns the latencies.
async fn device(
    mqtt: std::net::SocketAddr,
    name: String,
    psk: String,
    reports: usize,
) -> Vec<Duration> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let identity = DeviceIdentity::new("CS0SLTKSYA", &name, &psk).unwrap();
    let creds = identity
        .sign(&SignOptions::new(
            ConnId::new("B3NCH").unwrap(),
            Expiry::At(now + 3600),
        ))
        .unwrap();
    let mut options = MqttOptions::new(creds.client_id(), mqtt.ip().to_string(), mqtt.port());
    options.set_credentials(creds.username(), creds.password());
    options.set_keep_alive(Duration::from_secs(60));
    let (client, mut eventloop) = AsyncClient::new(options, 16);
    client
        .subscribe(
            format!("$thing/down/property/CS0SLTKSYA/{name}"),
            QoS::AtMostOnce,
        )
        .await
        .unwrap();
    let up = format!("$thing/up/property/CS0SLTKSYA/{name}");
    let mut latencies = Vec::with_capacity(reports);
    let mut sent_at = None;
    let mut sent = 0;
    loop {
        match eventloop.poll().await.expect("connection stays up") {
            Event::Incoming(Packet::SubAck(_)) | Event::Incoming(Packet::Publish(_)) => {
                if let Some(t) = sent_at.take() {
                    latencies.push(Instant::elapsed(&t));
                }
                if sent == reports {
                    return latencies;
                }
                let value = (sent % 1000) as i64;
                let report = json!({"method":"report","clientToken":format!("{name}-{sent}"),
                                    "params":{"MQ2":value,"MQ7":value,"DHT11_T":20,"DHT11_H":50}});
                client
                    .publish(up.clone(), QoS::AtMostOnce, false, report.to_string())
                    .await
                    .unwrap();
                sent_at = Some(Instant::now());
                sent += 1;
            }
            _ => {}
        }
    }
}

fn main() {
    let devices = env_number("HUB_BENCH_DEVICES", 50);
    let reports = env_number("HUB_BENCH_REPORTS", 200);
    let durability = match std::env::var("HUB_BENCH_SYNC").as_deref() {
        Ok("full") => Durability::Full,
        _ => Durability::Normal,
    };
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let config =
            HubConfig { database: Database::File(dir.path().join("bench.db")), durability, ..HubConfig::ephemeral() };
        let hub = Hub::start(config).await.expect("hub starts");
        let http = hub.http_addr().to_string();
        let mut psks = Vec::new();
        for i in 0..devices {
            let name = format!("bench{i}");
            let http = http.clone();
            let psk = tokio::task::spawn_blocking(move || add_device(&http, &name)).await.unwrap();
            psks.push(psk);
        }
        let started = Instant::now();
        let tasks: Vec<_> = psks
            .into_iter()
            .enumerate()
            .map(|(i, psk)| tokio::spawn(device(hub.mqtt_addr(), format!("bench{i}"), psk, reports)))
            .collect();
        let mut all = Vec::with_capacity(devices * reports);
        for task in tasks {
            all.extend(task.await.unwrap());
        }
        let elapsed = started.elapsed();
        all.sort();
        println!(
            "hub load: {devices} devices x {reports} reports ({durability:?}): {} replies in {:.2} s = {:.0} reports/s; \
             report->reply latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            all.len(),
            elapsed.as_secs_f64(),
            all.len() as f64 / elapsed.as_secs_f64(),
            percentile(&all, 0.50).as_secs_f64() * 1e3,
            percentile(&all, 0.99).as_secs_f64() * 1e3,
            all.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
        );
        hub.shutdown().await;
    });
}
