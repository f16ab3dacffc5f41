//! Edge cases a real broker will not produce on demand, against a scripted MQTT 5 peer on the loopback: CONNACK
//! reason codes, SUBACK failures, missing acknowledgements, a PUBLISH before the SUBACK, a cancelled publish and a
//! broker that hangs up. These need no Mosquitto and always run.
#![cfg(feature = "tokio")]

use std::net::SocketAddr;
use std::time::Duration;

use embassy_time::Duration as EmbassyDuration;
use iot_transport::{ConnectOptions, ConnectRefusal, Error as _, ErrorKind, QoS, Transport};
use iot_transport_minimq::{Link, MinimqTransport, Timeouts, TokioTcp};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const TIMEOUTS: Timeouts = Timeouts {
    connect: EmbassyDuration::from_secs(2),
    ack: EmbassyDuration::from_millis(300),
};

macro_rules! transport {
    ($mqtt:ident, $broker:expr) => {
        let link = Link::<256, 1024>::with_timeouts(TIMEOUTS);
        let driver = core::pin::pin!(link.driver::<_, 512, 1024>(&TokioTcp, $broker));
        let mut $mqtt = MinimqTransport::new(&link, driver);
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
        // Protocol name "MQTT", level 5; flags: user name, password, clean start; no will, no retain.
        assert_eq!(&body[..7], b"\x00\x04MQTT\x05");
        assert_eq!(body[7], 0b1100_0010);
        // CONNACK: no session present, the reason code, no properties.
        stream
            .write_all(&[0x20, 0x03, 0x00, reason, 0x00])
            .await
            .unwrap();
        script(stream).await;
    });
    (address, task)
}

/// SUBSCRIBE body: packet id, properties, one filter, options. Returns the packet id and the filter.
fn subscription(body: &[u8]) -> ([u8; 2], String) {
    let properties = usize::from(body[2]);
    let at = 3 + properties;
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
async fn connack_reason_codes_map_to_refusals() {
    let cases = [
        (0x84, ConnectRefusal::UnacceptableProtocolVersion),
        (0x85, ConnectRefusal::IdentifierRejected),
        (0x86, ConnectRefusal::BadCredentials),
        (0x87, ConnectRefusal::NotAuthorized),
        (0x88, ConnectRefusal::ServerUnavailable),
        (0x89, ConnectRefusal::ServerUnavailable),
        (0x9f, ConnectRefusal::Other(0x9f)),
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
        let (header, body) = read_packet(&mut stream).await;
        assert_eq!(header, 0x82, "SUBSCRIBE");
        let ([hi, lo], filter) = subscription(&body);
        assert_eq!(filter, "$thing/x/y");
        // SUBACK: packet id, no properties, reason 0x87 (not authorized).
        stream
            .write_all(&[0x90, 0x04, hi, lo, 0x00, 0x87])
            .await
            .unwrap();
        let (header, body) = read_packet(&mut stream).await;
        assert_eq!(header, 0x30, "QoS 0 PUBLISH, retain off");
        assert_eq!(body, b"\x00\x01t\x00data");
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

#[tokio::test]
async fn a_publish_arriving_before_the_suback_is_kept_for_receive() {
    let (address, task) = broker(0, |mut stream| async move {
        let (_, body) = read_packet(&mut stream).await;
        let ([hi, lo], _) = subscription(&body);
        // PUBLISH QoS 0 "a/b" (no properties) "early", then the SUBACK.
        stream
            .write_all(b"\x30\x0b\x00\x03a/b\x00early")
            .await
            .unwrap();
        stream
            .write_all(&[0x90, 0x04, hi, lo, 0x00, 0x01])
            .await
            .unwrap();
        let (header, body) = read_packet(&mut stream).await;
        assert_eq!(header, 0x32);
        let [hi, lo] = publish_id(&body);
        stream
            .write_all(b"\x30\x0a\x00\x03a/b\x00late")
            .await
            .unwrap();
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
        let (header, body) = read_packet(&mut stream).await;
        assert_eq!(header, 0x82, "the next call's SUBSCRIBE");
        let ([s_hi, s_lo], _) = subscription(&body);
        // Refused, so the answer cannot be mistaken for the publish's success.
        stream
            .write_all(&[0x90, 0x04, s_hi, s_lo, 0x00, 0x80])
            .await
            .unwrap();
        let _ = read_packet(&mut stream).await;
    })
    .await;
    let link = Link::<256, 1024>::with_timeouts(Timeouts {
        ack: EmbassyDuration::from_secs(5),
        ..TIMEOUTS
    });
    let driver = core::pin::pin!(link.driver::<_, 512, 1024>(&TokioTcp, address));
    let mut mqtt = MinimqTransport::new(&link, driver);
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
