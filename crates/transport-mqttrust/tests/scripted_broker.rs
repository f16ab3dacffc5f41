//! Edge cases a real broker will not produce on demand, against a scripted MQTT 3.1.1 peer on the loopback: every
//! CONNACK return code, SUBACK failures, missing acknowledgements, a PUBLISH before the SUBACK, a cancelled publish and a
//! broker that hangs up. These need no Mosquitto and always run.
#![cfg(feature = "tokio")]

use std::net::SocketAddr;
use std::time::Duration;

use embassy_time::Duration as EmbassyDuration;
use iot_transport::{ConnectOptions, ConnectRefusal, Error as _, ErrorKind, QoS, Transport};
use iot_transport_mqttrust::{Link, MqttrustTransport, Timeouts, TokioTcp};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const TIMEOUTS: Timeouts = Timeouts {
    connect: EmbassyDuration::from_secs(2),
    ack: EmbassyDuration::from_millis(300),
};

macro_rules! transport {
    ($mqtt:ident, $broker:expr) => {
        let link = Link::<256, 1024>::with_timeouts(TIMEOUTS);
        let driver = core::pin::pin!(link.driver::<_, 1024, 1024>(&TokioTcp, $broker));
        let mut $mqtt = MqttrustTransport::new(&link, driver);
    };
}

/// Accepts one connection, checks the CONNECT and answers it with `reason`, then runs `script`.
async fn broker<F, Fut>(reason: u8, script: F) -> (SocketAddr, tokio::task::JoinHandle<()>)
where
    F: FnOnce(TcpStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let (header, body) = read_packet(&mut stream).await;
        assert_eq!(header, 0x10, "CONNECT first");
        // Protocol name "MQTT", level 4 (MQTT 3.1.1); flags: user name, password, clean session; no will, no retain.
        assert_eq!(&body[..7], b"\x00\x04MQTT\x04");
        assert_eq!(body[7], 0b1100_0010);
        // CONNACK: no session present, the return code.
        stream.write_all(&[0x20, 0x02, 0x00, reason]).await.unwrap();
        script(stream).await;
    });
    (address, task)
}

/// SUBSCRIBE body: packet id, one filter, its QoS. Returns the packet id and the filter.
fn subscription(body: &[u8]) -> ([u8; 2], String) {
    let at = 2;
    let len = usize::from(u16::from_be_bytes([body[at], body[at + 1]]));
    let filter = String::from_utf8(body[at + 2..at + 2 + len].to_vec()).unwrap();
    assert_eq!(
        body.len(),
        at + 2 + len + 1,
        "exactly one filter per SUBSCRIBE"
    );
    ([body[0], body[1]], filter)
}

#[tokio::test]
async fn every_connack_return_code_maps_to_its_refusal() {
    let cases = [
        (1, ConnectRefusal::UnacceptableProtocolVersion),
        (2, ConnectRefusal::IdentifierRejected),
        (3, ConnectRefusal::ServerUnavailable),
        (4, ConnectRefusal::BadCredentials),
        (5, ConnectRefusal::NotAuthorized),
        (9, ConnectRefusal::Other(9)),
    ];
    for (reason, refusal) in cases {
        let (address, task) = broker(reason, |_| async {}).await;
        transport!(mqtt, address);
        let err = mqtt.connect(&OPTIONS).await.unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::Refused(refusal),
            "reason {reason:#x}: {err}"
        );
        assert_eq!(
            mqtt.receive().await.unwrap_err().kind(),
            ErrorKind::NotConnected
        );
        task.await.unwrap();
    }
}

#[tokio::test]
async fn a_suback_failure_is_subscribe_refused_and_the_connection_stays() {
    let (address, task) = broker(0, |mut stream| async move {
        // mqttrust sends a refused SUBSCRIBE three times (its own retry) before it reports the refusal.
        let (header, body) = refuse_subscriptions(&mut stream, 3).await;
        assert_eq!(
            header, 0x30,
            "QoS 0 PUBLISH, retain off, after exactly three refusals"
        );
        assert_eq!(body, b"\x00\x01tdata");
    })
    .await;
    transport!(mqtt, address);
    mqtt.connect(&OPTIONS).await.unwrap();
    let err = mqtt
        .subscribe("$thing/x/y", QoS::AtLeastOnce)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::SubscribeRefused, "{err}");
    mqtt.publish("t", b"data", QoS::AtMostOnce).await.unwrap();
    task.await.unwrap();
}

/// Answers `count` SUBSCRIBEs for `$thing/x/y` or `a/b` with the failure code 0x80; returns the next packet.
async fn refuse_subscriptions(stream: &mut TcpStream, count: usize) -> (u8, Vec<u8>) {
    for _ in 0..count {
        let (header, body) = read_packet(stream).await;
        assert_eq!(header, 0x82, "SUBSCRIBE");
        let ([hi, lo], filter) = subscription(&body);
        assert!(filter == "$thing/x/y" || filter == "a/b", "{filter}");
        // SUBACK: packet id, failure 0x80.
        stream.write_all(&[0x90, 0x03, hi, lo, 0x80]).await.unwrap();
    }
    read_packet(stream).await
}

#[tokio::test]
async fn a_publish_arriving_before_the_suback_is_kept_for_receive() {
    let (address, task) = broker(0, |mut stream| async move {
        let (_, body) = read_packet(&mut stream).await;
        let ([hi, lo], _) = subscription(&body);
        // PUBLISH QoS 0 "a/b" "early", then the SUBACK.
        stream.write_all(b"\x30\x0a\x00\x03a/bearly").await.unwrap();
        stream.write_all(&[0x90, 0x03, hi, lo, 0x01]).await.unwrap();
        let (header, body) = read_packet(&mut stream).await;
        assert_eq!(header, 0x32);
        let [hi, lo] = publish_id(&body);
        stream.write_all(b"\x30\x09\x00\x03a/blate").await.unwrap();
        stream.write_all(&[0x40, 0x02, hi, lo]).await.unwrap();
        let _ = read_packet(&mut stream).await;
    })
    .await;
    transport!(mqtt, address);
    mqtt.connect(&OPTIONS).await.unwrap();
    mqtt.subscribe("a/+", QoS::AtLeastOnce).await.unwrap();
    mqtt.publish("up", b"1", QoS::AtLeastOnce).await.unwrap();
    let first = mqtt.receive().await.unwrap();
    assert_eq!((first.topic, first.payload), ("a/b", &b"early"[..]));
    let second = mqtt.receive().await.unwrap();
    assert_eq!((second.topic, second.payload), ("a/b", &b"late"[..]));
    mqtt.disconnect().await.unwrap();
    task.await.unwrap();
}

#[tokio::test]
async fn a_call_after_a_cancelled_publish_gets_its_own_answer() {
    let (address, task) = broker(0, |mut stream| async move {
        let (header, body) = read_packet(&mut stream).await;
        assert_eq!(header, 0x32);
        let [p_hi, p_lo] = publish_id(&body);
        // The PUBACK comes after the call gave up waiting; the driver still finishes that request.
        tokio::time::sleep(Duration::from_millis(500)).await;
        stream.write_all(&[0x40, 0x02, p_hi, p_lo]).await.unwrap();
        // The next call's SUBSCRIBE is refused, so its answer cannot be mistaken for the publish's success.
        let (header, _) = refuse_subscriptions(&mut stream, 3).await;
        assert_eq!(header, 0xe0, "DISCONNECT");
    })
    .await;
    let link = Link::<256, 1024>::with_timeouts(Timeouts {
        ack: EmbassyDuration::from_secs(5),
        ..TIMEOUTS
    });
    let driver = core::pin::pin!(link.driver::<_, 1024, 1024>(&TokioTcp, address));
    let mut mqtt = MqttrustTransport::new(&link, driver);
    mqtt.connect(&OPTIONS).await.unwrap();
    // The runtime races calls against timers; this one loses while waiting for its PUBACK.
    let cancelled = tokio::time::timeout(
        Duration::from_millis(200),
        mqtt.publish("t", b"x", QoS::AtLeastOnce),
    )
    .await;
    assert!(cancelled.is_err());
    let err = tokio::time::timeout(
        Duration::from_secs(3),
        mqtt.subscribe("a/b", QoS::AtLeastOnce),
    )
    .await
    .expect("answered before the driver's own ack timeout")
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::SubscribeRefused, "{err}");
    mqtt.disconnect().await.unwrap();
    task.await.unwrap();
}

// The tests and helpers shared with the other embedded-nal-async adapter.
include!("../../transport/testing/nal_scripted_broker.rs");

#[tokio::test]
async fn a_zero_keep_alive_is_refused_before_connecting() {
    transport!(mqtt, "127.0.0.1:1".parse().unwrap());
    let no_keep_alive = ConnectOptions {
        keep_alive_secs: 0,
        ..OPTIONS
    };
    let err = mqtt.connect(&no_keep_alive).await.unwrap_err();
    assert!(err.to_string().contains("keep-alive"), "{err}");
}
