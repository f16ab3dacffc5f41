//! Interop with a real Mosquitto. `bash .ci/interop.sh` starts one and sets the variables below; without
//! `IOT_MQTT_TEST_BROKER` every test here prints that it skipped and returns.
//!
//! * `IOT_MQTT_TEST_BROKER` — `host:port` of an anonymous plain listener
//! * `IOT_MQTT_TEST_AUTH_BROKER`, `IOT_MQTT_TEST_AUTH_USER`, `IOT_MQTT_TEST_AUTH_PASSWORD` — a listener with a
//!   password file and no anonymous access
//! * `IOT_MQTT_TEST_TLS_BROKER`, `IOT_MQTT_TEST_MTLS_BROKER`, `IOT_MQTT_TEST_TLS_DIR` — TLS listeners (server
//!   authentication; client certificate required) and the directory with `ca.pem`, `client.pem`, `client.key`

use std::io::Write as _;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use iot_transport::{
    ConnectOptions, ConnectRefusal, Error as _, ErrorKind, QoS, Transport, MAX_PAYLOAD_LEN,
};
use iot_transport_rumqttc::{Config, RumqttcTransport};

const WAIT: Duration = Duration::from_secs(5);

/// The broker address, or `None` after printing why the test skips.
fn broker(test: &str) -> Option<(String, u16)> {
    match std::env::var("IOT_MQTT_TEST_BROKER") {
        Ok(address) => Some(split(&address)),
        Err(_) => {
            // Straight to stderr: the test harness captures `eprintln!` of passing tests, and a skip must show.
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED {test}: IOT_MQTT_TEST_BROKER is not set; run `bash .ci/interop.sh` to test against Mosquitto"
            );
            None
        }
    }
}

/// A further variable that `.ci/interop.sh` always sets next to `IOT_MQTT_TEST_BROKER`.
fn required(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("IOT_MQTT_TEST_BROKER is set but {name} is not; use .ci/interop.sh")
    })
}

fn split(address: &str) -> (String, u16) {
    let (host, port) = address
        .rsplit_once(':')
        .expect("broker address is host:port");
    (
        host.to_owned(),
        port.parse().expect("broker port is a number"),
    )
}

/// A client id and topic prefix no other test uses.
fn unique(test: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "rumqttc-{test}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

fn options<'a>(
    client_id: &'a str,
    username: &'a str,
    password: &'a str,
    keep_alive_secs: u16,
) -> ConnectOptions<'a> {
    ConnectOptions {
        client_id,
        username,
        password,
        keep_alive_secs,
        clean_session: true,
    }
}

async fn connected(host: &str, port: u16, client_id: &str) -> RumqttcTransport {
    let mut mqtt = RumqttcTransport::new(Config::tcp(host, port)).unwrap();
    mqtt.connect(&options(client_id, "", "", 30)).await.unwrap();
    mqtt
}

async fn next(mqtt: &mut RumqttcTransport) -> (String, Vec<u8>) {
    let message = tokio::time::timeout(WAIT, mqtt.receive())
        .await
        .expect("a message within 5 s")
        .unwrap();
    (message.topic.to_owned(), message.payload.to_vec())
}

/// A plain rumqttc client, independent of the adapter, publishing one message.
async fn publish_from_other_client(host: &str, port: u16, topic: &str, payload: &[u8]) {
    let options = rumqttc::MqttOptions::new(unique("other"), host, port);
    let (client, mut eventloop) = rumqttc::AsyncClient::new(options, 10);
    client
        .publish(topic, rumqttc::QoS::AtLeastOnce, false, payload.to_vec())
        .await
        .unwrap();
    let acked = async {
        loop {
            if let rumqttc::Event::Incoming(rumqttc::Packet::PubAck(_)) =
                eventloop.poll().await.unwrap()
            {
                break;
            }
        }
    };
    tokio::time::timeout(WAIT, acked)
        .await
        .expect("the other client's PUBACK");
    client.disconnect().await.unwrap();
    let _ = tokio::time::timeout(Duration::from_secs(1), eventloop.poll()).await;
}

#[tokio::test]
async fn publishes_at_qos0_and_qos1_come_back_through_the_broker() {
    let Some((host, port)) = broker("publishes_at_qos0_and_qos1_come_back_through_the_broker")
    else {
        return;
    };
    let id = unique("roundtrip");
    let mut mqtt = connected(&host, port, &id).await;
    mqtt.subscribe(&format!("{id}/+"), QoS::AtLeastOnce)
        .await
        .unwrap();
    mqtt.publish(&format!("{id}/zero"), b"qos0", QoS::AtMostOnce)
        .await
        .unwrap();
    mqtt.publish(&format!("{id}/one"), b"qos1", QoS::AtLeastOnce)
        .await
        .unwrap();
    assert_eq!(
        next(&mut mqtt).await,
        (format!("{id}/zero"), b"qos0".to_vec())
    );
    assert_eq!(
        next(&mut mqtt).await,
        (format!("{id}/one"), b"qos1".to_vec())
    );
    mqtt.disconnect().await.unwrap();
    assert_eq!(
        mqtt.publish(&format!("{id}/zero"), b"x", QoS::AtMostOnce)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotConnected
    );
}

#[tokio::test]
async fn receives_what_another_client_publishes() {
    let Some((host, port)) = broker("receives_what_another_client_publishes") else {
        return;
    };
    let id = unique("other");
    let mut mqtt = connected(&host, port, &id).await;
    mqtt.subscribe(&format!("{id}/down"), QoS::AtLeastOnce)
        .await
        .unwrap();
    publish_from_other_client(
        &host,
        port,
        &format!("{id}/down"),
        b"{\"method\":\"control\"}",
    )
    .await;
    assert_eq!(
        next(&mut mqtt).await,
        (format!("{id}/down"), b"{\"method\":\"control\"}".to_vec())
    );
}

#[tokio::test]
async fn messages_that_arrive_while_waiting_for_acks_are_kept_in_order() {
    let Some((host, port)) =
        broker("messages_that_arrive_while_waiting_for_acks_are_kept_in_order")
    else {
        return;
    };
    let id = unique("order");
    let mut mqtt = connected(&host, port, &id).await;
    mqtt.subscribe(&format!("{id}/in/#"), QoS::AtLeastOnce)
        .await
        .unwrap();
    for n in 0..3 {
        publish_from_other_client(
            &host,
            port,
            &format!("{id}/in/{n}"),
            format!("m{n}").as_bytes(),
        )
        .await;
    }
    // These wait for their own acknowledgements while the three messages are already there.
    mqtt.subscribe(&format!("{id}/more"), QoS::AtMostOnce)
        .await
        .unwrap();
    mqtt.publish(&format!("{id}/in/3"), b"m3", QoS::AtLeastOnce)
        .await
        .unwrap();
    for n in 0..4 {
        assert_eq!(
            next(&mut mqtt).await,
            (format!("{id}/in/{n}"), format!("m{n}").into_bytes())
        );
    }
    assert_eq!(mqtt.dropped_messages(), 0);
}

#[tokio::test]
async fn payloads_over_16_kb_are_refused_and_16_kb_passes() {
    let Some((host, port)) = broker("payloads_over_16_kb_are_refused_and_16_kb_passes") else {
        return;
    };
    let id = unique("size");
    let mut mqtt = connected(&host, port, &id).await;
    mqtt.subscribe(&format!("{id}/big"), QoS::AtLeastOnce)
        .await
        .unwrap();
    let too_big = vec![b'x'; MAX_PAYLOAD_LEN + 1];
    let err = mqtt
        .publish(&format!("{id}/big"), &too_big, QoS::AtLeastOnce)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PayloadTooLarge);
    let largest = vec![b'y'; MAX_PAYLOAD_LEN];
    mqtt.publish(&format!("{id}/big"), &largest, QoS::AtLeastOnce)
        .await
        .unwrap();
    let (topic, payload) = next(&mut mqtt).await;
    assert_eq!(topic, format!("{id}/big"));
    assert_eq!(payload, largest);
}

#[tokio::test]
async fn keep_alive_pings_hold_an_idle_connection_open() {
    let Some((host, port)) = broker("keep_alive_pings_hold_an_idle_connection_open") else {
        return;
    };
    let id = unique("ping");
    let mut mqtt = RumqttcTransport::new(Config::tcp(&host, port)).unwrap();
    // Mosquitto closes a connection that stays silent for 1.5 × keep-alive (1.5 s here).
    mqtt.connect(&options(&id, "", "", 1)).await.unwrap();
    mqtt.subscribe(&format!("{id}/t"), QoS::AtLeastOnce)
        .await
        .unwrap();
    // Idle for 4 s, racing receive against a timer as the runtime does (receive is cancel-safe).
    for _ in 0..8 {
        assert!(
            tokio::time::timeout(Duration::from_millis(500), mqtt.receive())
                .await
                .is_err()
        );
    }
    assert!(mqtt.is_connected());
    mqtt.publish(&format!("{id}/t"), b"still here", QoS::AtLeastOnce)
        .await
        .unwrap();
    assert_eq!(
        next(&mut mqtt).await,
        (format!("{id}/t"), b"still here".to_vec())
    );
}

#[tokio::test]
async fn a_taken_over_session_reports_disconnected_then_not_connected() {
    let Some((host, port)) = broker("a_taken_over_session_reports_disconnected_then_not_connected")
    else {
        return;
    };
    let id = unique("takeover");
    let mut first = connected(&host, port, &id).await;
    // A second connection with the same client id makes Mosquitto close the first (MQTT 3.1.1 §3.1.4).
    let mut second = connected(&host, port, &id).await;
    let err = tokio::time::timeout(WAIT, first.receive())
        .await
        .expect("the first connection ends")
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Disconnected);
    assert_eq!(
        first
            .subscribe(&format!("{id}/t"), QoS::AtMostOnce)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotConnected
    );
    assert_eq!(
        first.receive().await.unwrap_err().kind(),
        ErrorKind::NotConnected
    );
    // connect works again afterwards (and takes the session back).
    first.connect(&options(&id, "", "", 30)).await.unwrap();
    first
        .subscribe(&format!("{id}/t"), QoS::AtMostOnce)
        .await
        .unwrap();
    second.disconnect().await.unwrap();
}

#[tokio::test]
async fn connect_refusals_map_to_connect_refusal() {
    let Some(_) = broker("connect_refusals_map_to_connect_refusal") else {
        return;
    };
    let (host, port) = split(&required("IOT_MQTT_TEST_AUTH_BROKER"));
    let user = required("IOT_MQTT_TEST_AUTH_USER");
    let password = required("IOT_MQTT_TEST_AUTH_PASSWORD");
    let id = unique("refused");
    let mut mqtt = RumqttcTransport::new(Config::tcp(&host, port)).unwrap();

    // Mosquitto answers a wrong password on a password-file listener with 3.1.1 return code 5.
    let err = mqtt
        .connect(&options(&id, &user, "wrong password", 30))
        .await
        .unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Refused(ConnectRefusal::NotAuthorized),
        "{err}"
    );
    assert_eq!(
        mqtt.receive().await.unwrap_err().kind(),
        ErrorKind::NotConnected
    );

    // The right password logs in, so the credentials really travel in the CONNECT.
    mqtt.connect(&options(&id, &user, &password, 30))
        .await
        .unwrap();
    mqtt.subscribe(&format!("{id}/t"), QoS::AtMostOnce)
        .await
        .unwrap();
}

#[tokio::test]
async fn an_unreachable_broker_is_a_disconnected_error() {
    let Some((host, _)) = broker("an_unreachable_broker_is_a_disconnected_error") else {
        return;
    };
    // Port 1 on the loopback refuses TCP connections.
    let mut mqtt = RumqttcTransport::new(Config::tcp(&host, 1)).unwrap();
    let err = mqtt
        .connect(&options(&unique("nowhere"), "", "", 30))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Disconnected, "{err}");
}

#[cfg(feature = "tls")]
mod tls {
    use super::*;
    use iot_transport_rumqttc::TlsConfig;

    fn file(name: &str) -> Vec<u8> {
        let dir = required("IOT_MQTT_TEST_TLS_DIR");
        std::fs::read(format!("{dir}/{name}")).unwrap_or_else(|e| panic!("{dir}/{name}: {e}"))
    }

    #[tokio::test]
    async fn tls_with_server_authentication_round_trips() {
        let Some(_) = broker("tls_with_server_authentication_round_trips") else {
            return;
        };
        let (host, port) = split(&required("IOT_MQTT_TEST_TLS_BROKER"));
        let id = unique("tls");
        let mut mqtt = RumqttcTransport::new(Config::tls(
            &host,
            port,
            TlsConfig::with_ca_pem(file("ca.pem")),
        ))
        .unwrap();
        mqtt.connect(&options(&id, "", "", 30)).await.unwrap();
        mqtt.subscribe(&format!("{id}/t"), QoS::AtLeastOnce)
            .await
            .unwrap();
        mqtt.publish(&format!("{id}/t"), b"over tls", QoS::AtLeastOnce)
            .await
            .unwrap();
        assert_eq!(
            next(&mut mqtt).await,
            (format!("{id}/t"), b"over tls".to_vec())
        );
    }

    #[tokio::test]
    async fn the_tencent_ca_does_not_trust_a_foreign_broker() {
        let Some(_) = broker("the_tencent_ca_does_not_trust_a_foreign_broker") else {
            return;
        };
        let (host, port) = split(&required("IOT_MQTT_TEST_TLS_BROKER"));
        let mut mqtt =
            RumqttcTransport::new(Config::tls(&host, port, TlsConfig::tencent_iot())).unwrap();
        let err = mqtt
            .connect(&options(&unique("untrusted"), "", "", 30))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Disconnected, "{err}");
        assert!(err.to_string().contains("certificate"), "{err}");
    }

    #[tokio::test]
    async fn mutual_tls_logs_in_with_a_client_certificate() {
        let Some(_) = broker("mutual_tls_logs_in_with_a_client_certificate") else {
            return;
        };
        let (host, port) = split(&required("IOT_MQTT_TEST_MTLS_BROKER"));
        let id = unique("mtls");
        let tls = TlsConfig::with_ca_pem(file("ca.pem"))
            .with_client_auth(file("client.pem"), file("client.key"));
        let mut mqtt = RumqttcTransport::new(Config::tls(&host, port, tls)).unwrap();
        // protocol.md §3.3: with a certificate the password is not checked; send any.
        mqtt.connect(&options(&id, &id, "unused", 30))
            .await
            .unwrap();
        mqtt.subscribe(&format!("{id}/t"), QoS::AtLeastOnce)
            .await
            .unwrap();
        mqtt.publish(&format!("{id}/t"), b"mtls", QoS::AtLeastOnce)
            .await
            .unwrap();
        assert_eq!(next(&mut mqtt).await, (format!("{id}/t"), b"mtls".to_vec()));

        // Without the certificate the broker ends the handshake.
        let mut anonymous = RumqttcTransport::new(Config::tls(
            &host,
            port,
            TlsConfig::with_ca_pem(file("ca.pem")),
        ))
        .unwrap();
        let err = anonymous
            .connect(&options(&unique("mtls-anon"), "", "", 30))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Disconnected, "{err}");
    }
}
