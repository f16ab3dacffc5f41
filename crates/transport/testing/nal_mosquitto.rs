// The Mosquitto interop tests of the `no_std` adapters over embedded-nal-async (iot-transport-mqttrust,
// iot-transport-minimq), written once. Each adapter's `tests/mosquitto.rs` brings into scope `Adapter` (its
// transport type), `Link` and `TokioTcp` from the adapter, and `ADAPTER` (a client id prefix), then `include!`s
// this file. `bash .ci/interop.sh` starts a Mosquitto and sets the variables the tests read.

use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use iot_transport::{
    ConnectOptions, ConnectRefusal, Error as _, ErrorKind, QoS, Transport, MAX_PAYLOAD_LEN,
};
const WAIT: Duration = Duration::from_secs(5);
/// Room for a 16 KB payload plus topic and headers in the MQTT library's packet buffers.
const PACKET: usize = MAX_PAYLOAD_LEN + 512;

/// A `Link` sized for 16 KB payloads and four such messages queued.
type TestLink = Link<MAX_PAYLOAD_LEN, { 4 * (MAX_PAYLOAD_LEN + 300) }>;

/// Declares `$mqtt`, an `Adapter` to `$broker`, with its link and pinned driver on this stack frame.
macro_rules! transport {
    ($mqtt:ident, $broker:expr) => {
        let link = TestLink::new();
        let driver = core::pin::pin!(link.driver::<_, PACKET, PACKET>(&TokioTcp, $broker));
        let mut $mqtt = Adapter::new(&link, driver);
    };
}

fn broker(test: &str) -> Option<SocketAddr> {
    match std::env::var("IOT_MQTT_TEST_BROKER") {
        Ok(address) => Some(address.parse().expect("IOT_MQTT_TEST_BROKER is ip:port")),
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

fn required(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("IOT_MQTT_TEST_BROKER is set but {name} is not; use .ci/interop.sh")
    })
}

fn unique(test: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "{ADAPTER}-{test}-{}-{}",
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

async fn next<T: Transport>(mqtt: &mut T) -> (String, Vec<u8>) {
    let message = tokio::time::timeout(WAIT, mqtt.receive())
        .await
        .expect("a message within 5 s")
        .unwrap();
    (message.topic.to_owned(), message.payload.to_vec())
}

/// A plain rumqttc (MQTT 3.1.1) client, independent of the adapter, publishing one message at QoS 1.
async fn publish_from_other_client(broker: SocketAddr, topic: &str, payload: &[u8]) {
    let options =
        rumqttc::MqttOptions::new(unique("other"), broker.ip().to_string(), broker.port());
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
    let Some(address) = broker("publishes_at_qos0_and_qos1_come_back_through_the_broker") else {
        return;
    };
    let id = unique("roundtrip");
    transport!(mqtt, address);
    mqtt.connect(&options(&id, "", "", 30)).await.unwrap();
    assert!(mqtt.is_connected());
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
    let err = mqtt
        .publish(&format!("{id}/zero"), b"x", QoS::AtMostOnce)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotConnected);
}

#[tokio::test]
async fn receives_what_another_client_publishes() {
    let Some(address) = broker("receives_what_another_client_publishes") else {
        return;
    };
    let id = unique("other");
    transport!(mqtt, address);
    mqtt.connect(&options(&id, "", "", 30)).await.unwrap();
    mqtt.subscribe(&format!("{id}/down"), QoS::AtLeastOnce)
        .await
        .unwrap();
    publish_from_other_client(address, &format!("{id}/down"), b"{\"method\":\"control\"}").await;
    assert_eq!(
        next(&mut mqtt).await,
        (format!("{id}/down"), b"{\"method\":\"control\"}".to_vec())
    );
}

#[tokio::test]
async fn messages_that_arrive_while_waiting_for_acks_are_kept_in_order() {
    let Some(address) = broker("messages_that_arrive_while_waiting_for_acks_are_kept_in_order")
    else {
        return;
    };
    let id = unique("order");
    transport!(mqtt, address);
    mqtt.connect(&options(&id, "", "", 30)).await.unwrap();
    mqtt.subscribe(&format!("{id}/in/#"), QoS::AtLeastOnce)
        .await
        .unwrap();
    for n in 0..3 {
        publish_from_other_client(address, &format!("{id}/in/{n}"), format!("m{n}").as_bytes())
            .await;
    }
    // The three messages sit unread on the socket; these calls read past them to find their own acks.
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
    let Some(address) = broker("payloads_over_16_kb_are_refused_and_16_kb_passes") else {
        return;
    };
    let id = unique("size");
    transport!(mqtt, address);
    mqtt.connect(&options(&id, "", "", 30)).await.unwrap();
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
    let Some(address) = broker("keep_alive_pings_hold_an_idle_connection_open") else {
        return;
    };
    let id = unique("ping");
    transport!(mqtt, address);
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
    let Some(address) = broker("a_taken_over_session_reports_disconnected_then_not_connected")
    else {
        return;
    };
    let id = unique("takeover");
    transport!(first, address);
    first.connect(&options(&id, "", "", 30)).await.unwrap();
    {
        // A second connection with the same client id makes Mosquitto close the first (MQTT 3.1.1 §3.1.4;
        // MQTT 5 reason 0x8E).
        transport!(second, address);
        second.connect(&options(&id, "", "", 30)).await.unwrap();
        let err = tokio::time::timeout(WAIT, first.receive())
            .await
            .expect("the first connection ends")
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Disconnected, "{err}");
        second.disconnect().await.unwrap();
    }
    let err = first
        .subscribe(&format!("{id}/t"), QoS::AtMostOnce)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotConnected);
    assert_eq!(
        first.receive().await.unwrap_err().kind(),
        ErrorKind::NotConnected
    );
    first.connect(&options(&id, "", "", 30)).await.unwrap();
    first
        .subscribe(&format!("{id}/t"), QoS::AtMostOnce)
        .await
        .unwrap();
}

#[tokio::test]
async fn connect_refusals_map_to_connect_refusal() {
    let Some(_) = broker("connect_refusals_map_to_connect_refusal") else {
        return;
    };
    let address: SocketAddr = required("IOT_MQTT_TEST_AUTH_BROKER").parse().unwrap();
    let user = required("IOT_MQTT_TEST_AUTH_USER");
    let password = required("IOT_MQTT_TEST_AUTH_PASSWORD");
    let id = unique("refused");
    transport!(mqtt, address);
    // Mosquitto 2.0 answers a wrong password on a password-file listener with 3.1.1 return code 5, or MQTT 5
    // reason 0x87 (not authorized), not 0x86.
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
    let Some(address) = broker("an_unreachable_broker_is_a_disconnected_error") else {
        return;
    };
    // Port 1 on the loopback refuses TCP connections.
    transport!(mqtt, SocketAddr::new(address.ip(), 1));
    let err = mqtt
        .connect(&options(&unique("nowhere"), "", "", 30))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Disconnected, "{err}");
}
