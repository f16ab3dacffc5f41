//! `iotctl hub` as a real process: data the hub acknowledged survives `kill -9`, and the HTTP commands work
//! against it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use iot_core::credentials::{ConnId, DeviceIdentity, Expiry, SignOptions};
use rumqttc::{Client, Event, MqttOptions, Packet, QoS};
use serde_json::{json, Value};

const IOTCTL: &str = env!("CARGO_BIN_EXE_iotctl");

struct RunningHub {
    child: Child,
    mqtt: String,
    http: String,
}

impl Drop for RunningHub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `iotctl hub` on OS-picked ports and reads the bound addresses it prints.
fn start_hub(db: &std::path::Path) -> RunningHub {
    let mut child = Command::new(IOTCTL)
        .args([
            "hub",
            "--mqtt",
            "127.0.0.1:0",
            "--http",
            "127.0.0.1:0",
            "--db",
        ])
        .arg(db)
        .stdout(Stdio::piped())
        .spawn()
        .expect("iotctl starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mqtt = lines.next().unwrap().unwrap();
    let http = lines.next().unwrap().unwrap();
    RunningHub {
        child,
        mqtt: mqtt
            .strip_prefix("MQTT broker on ")
            .expect(&mqtt)
            .to_owned(),
        http: http.strip_prefix("HTTP API on ").expect(&http).to_owned(),
    }
}

fn iotctl(hub: &RunningHub, args: &[&str]) -> (bool, String) {
    let output = Command::new(IOTCTL)
        .args(args)
        .args(["--hub", &hub.http])
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8(output.stdout).unwrap(),
    )
}

/// Connects as `CS0SLTKSYA/{device}`, sends one report and returns the hub's `report_reply`.
fn report(hub: &RunningHub, device: &str, psk: &str, params: Value) -> Value {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let identity = DeviceIdentity::new("CS0SLTKSYA", device, psk).unwrap();
    let creds = identity
        .sign(&SignOptions::new(
            ConnId::new("K1LL9").unwrap(),
            Expiry::At(now + 600),
        ))
        .unwrap();
    let (host, port) = hub.mqtt.rsplit_once(':').unwrap();
    let mut options = MqttOptions::new(creds.client_id(), host, port.parse().unwrap());
    options.set_credentials(creds.username(), creds.password());
    let (client, mut connection) = Client::new(options, 10);
    client
        .subscribe(
            format!("$thing/down/property/CS0SLTKSYA/{device}"),
            QoS::AtLeastOnce,
        )
        .unwrap();
    let message = json!({"method":"report","clientToken":"k-1","params":params});
    let mut sent = false;
    for event in connection.iter() {
        match event.expect("connection stays up") {
            Event::Incoming(Packet::SubAck(_)) if !sent => {
                client
                    .publish(
                        format!("$thing/up/property/CS0SLTKSYA/{device}"),
                        QoS::AtLeastOnce,
                        false,
                        message.to_string(),
                    )
                    .unwrap();
                sent = true;
            }
            Event::Incoming(Packet::Publish(p)) => {
                return serde_json::from_slice(&p.payload).unwrap()
            }
            _ => {}
        }
    }
    panic!("connection ended before the reply");
}

#[test]
fn acknowledged_data_survives_kill_9_and_cli_commands_work() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hub.db");

    let hub = start_hub(&db);
    let (ok, psk) = iotctl(&hub, &["device", "add", "CS0SLTKSYA", "cellar"]);
    assert!(ok);
    let psk = psk.trim().to_owned();
    assert_eq!(psk.len(), 24, "{psk}");
    let reply = report(&hub, "cellar", &psk, json!({"MQ2":77,"DHT11_T":12}));
    assert_eq!(reply["code"], 0, "{reply}");
    let (ok, out) = iotctl(&hub, &["control", "CS0SLTKSYA/dev1", "report_interval=15"]);
    assert!(ok);
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap()["pending"],
        true
    );
    let (ok, _) = iotctl(&hub, &["control", "CS0SLTKSYA/dev1", "MQ2=1"]);
    assert!(!ok, "read-only property refused");

    // SIGKILL: no shutdown code runs.
    drop(hub);

    let hub = start_hub(&db);
    let (ok, devices) = iotctl(&hub, &["devices"]);
    assert!(ok);
    assert!(devices.contains("CS0SLTKSYA/cellar"), "{devices}");
    let state: Value = {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(10)))
            .build()
            .into();
        let url = format!("{}/api/devices/CS0SLTKSYA/cellar", hub.http);
        agent
            .get(&url)
            .call()
            .unwrap()
            .body_mut()
            .read_json()
            .unwrap()
    };
    assert_eq!(state["reported"], json!({"DHT11_T":12,"MQ2":77}), "{state}");
    let reply = report(&hub, "cellar", &psk, json!({"MQ2":78}));
    assert_eq!(reply["code"], 0, "the device's PSK survived too");
    let (_, dev1) = iotctl(&hub, &["devices"]);
    assert!(dev1.contains("CS0SLTKSYA/dev1"));
}
