//! Edge cases a real broker will not produce on demand, against a scripted MQTT 3.1.1 peer on the loopback: every
//! CONNACK refusal code, a SUBACK failure, missing acknowledgements, a PUBLISH that arrives before the SUBACK and a
//! broker that hangs up. These need no Mosquitto and always run.

use std::time::Duration;

use iot_transport::{ConnectOptions, ConnectRefusal, Error as _, ErrorKind, QoS, Transport};
use iot_transport_rumqttc::{Config, RumqttcTransport};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const OPTIONS: ConnectOptions<'static> = ConnectOptions {
    client_id: "PRODUCT001dev1",
    username: "PRODUCT001dev1;12010126;a1b2c;2147483647",
    password: "secret;hmacsha256",
    keep_alive_secs: 30,
    clean_session: true,
};

/// One MQTT packet: the first header byte and the body after the remaining length.
async fn read_packet(stream: &mut TcpStream) -> (u8, Vec<u8>) {
    let header = stream.read_u8().await.expect("packet header");
    let mut len = 0usize;
    for shift in 0..4 {
        let byte = stream.read_u8().await.expect("remaining length");
        len |= usize::from(byte & 0x7f) << (7 * shift);
        if byte & 0x80 == 0 {
            break;
        }
    }
    let mut body = vec![0; len];
    stream.read_exact(&mut body).await.expect("packet body");
    (header, body)
}

/// Accepts one connection, reads the CONNECT and answers it with `connack_code`, then runs `script`.
async fn broker<F, Fut>(connack_code: u8, script: F) -> (u16, tokio::task::JoinHandle<()>)
where
    F: FnOnce(TcpStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let (header, body) = read_packet(&mut stream).await;
        assert_eq!(header, 0x10, "CONNECT first");
        // Protocol name "MQTT", level 4 (MQTT 3.1.1), flags: username, password, clean session; no will, no retain.
        assert_eq!(&body[..7], b"\x00\x04MQTT\x04");
        assert_eq!(body[7], 0b1100_0010);
        stream
            .write_all(&[0x20, 0x02, 0x00, connack_code])
            .await
            .unwrap();
        script(stream).await;
    });
    (port, task)
}

fn transport(port: u16) -> RumqttcTransport {
    let mut config = Config::tcp("127.0.0.1", port);
    config.ack_timeout = Duration::from_millis(300);
    RumqttcTransport::new(config).unwrap()
}

fn packet_id(body: &[u8]) -> [u8; 2] {
    [body[0], body[1]]
}

#[tokio::test]
async fn every_connack_refusal_code_maps_to_its_reason() {
    let cases = [
        (1, ConnectRefusal::UnacceptableProtocolVersion),
        (2, ConnectRefusal::IdentifierRejected),
        (3, ConnectRefusal::ServerUnavailable),
        (4, ConnectRefusal::BadCredentials),
        (5, ConnectRefusal::NotAuthorized),
    ];
    for (code, refusal) in cases {
        let (port, task) = broker(code, |_| async {}).await;
        let mut mqtt = transport(port);
        let err = mqtt.connect(&OPTIONS).await.unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::Refused(refusal),
            "code {code}: {err}"
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
    let (port, task) = broker(0, |mut stream| async move {
        let (header, body) = read_packet(&mut stream).await;
        assert_eq!(header, 0x82, "SUBSCRIBE");
        // packet id, then exactly one filter (protocol.md §3.5) and its QoS byte.
        assert_eq!(&body[2..], b"\x00\x0a$thing/x/y\x01");
        let [hi, lo] = packet_id(&body);
        stream.write_all(&[0x90, 0x03, hi, lo, 0x80]).await.unwrap();
        let (header, body) = read_packet(&mut stream).await;
        assert_eq!(header, 0x30, "QoS 0 PUBLISH, retain off");
        assert_eq!(body, b"\x00\x01tdata");
    })
    .await;
    let mut mqtt = transport(port);
    mqtt.connect(&OPTIONS).await.unwrap();
    let err = mqtt
        .subscribe("$thing/x/y", QoS::AtLeastOnce)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::SubscribeRefused);
    mqtt.publish("t", b"data", QoS::AtMostOnce).await.unwrap();
    task.await.unwrap();
}

#[tokio::test]
async fn a_missing_suback_or_puback_times_out() {
    let (port, task) = broker(0, |mut stream| async move {
        assert_eq!(read_packet(&mut stream).await.0, 0x82);
        let (header, body) = read_packet(&mut stream).await;
        assert_eq!(header, 0x32, "QoS 1 PUBLISH, retain off");
        assert_eq!(&body[..3], b"\x00\x01t");
        // Answers neither; keeps the socket open until the client is done.
        let _ = read_packet(&mut stream).await;
    })
    .await;
    let mut mqtt = transport(port);
    mqtt.connect(&OPTIONS).await.unwrap();
    let err = mqtt.subscribe("a/b", QoS::AtLeastOnce).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    let err = mqtt.publish("t", b"x", QoS::AtLeastOnce).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    mqtt.disconnect().await.unwrap();
    task.await.unwrap();
}

#[tokio::test]
async fn a_publish_arriving_before_the_suback_is_kept_for_receive() {
    let (port, task) = broker(0, |mut stream| async move {
        let (_, body) = read_packet(&mut stream).await;
        let [hi, lo] = packet_id(&body);
        stream.write_all(b"\x30\x0a\x00\x03a/bearly").await.unwrap();
        stream.write_all(&[0x90, 0x03, hi, lo, 0x01]).await.unwrap();
        let (header, body) = read_packet(&mut stream).await;
        assert_eq!(header, 0x32);
        let id = &body[4..6];
        stream.write_all(b"\x30\x09\x00\x03a/blate").await.unwrap();
        stream.write_all(&[0x40, 0x02, id[0], id[1]]).await.unwrap();
        let _ = read_packet(&mut stream).await;
    })
    .await;
    let mut mqtt = transport(port);
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
async fn a_broker_hanging_up_is_disconnected_then_not_connected() {
    let (port, task) = broker(0, |stream| async move { drop(stream) }).await;
    let mut mqtt = transport(port);
    mqtt.connect(&OPTIONS).await.unwrap();
    task.await.unwrap();
    let err = mqtt.receive().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Disconnected, "{err}");
    assert_eq!(
        mqtt.publish("t", b"x", QoS::AtMostOnce)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotConnected
    );
}

#[tokio::test]
async fn calls_before_connect_are_not_connected() {
    let mut mqtt = transport(1);
    assert_eq!(
        mqtt.subscribe("a", QoS::AtMostOnce)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotConnected
    );
    assert_eq!(
        mqtt.publish("a", b"", QoS::AtMostOnce)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotConnected
    );
    assert_eq!(
        mqtt.receive().await.unwrap_err().kind(),
        ErrorKind::NotConnected
    );
    assert!(mqtt.disconnect().await.is_ok());
}

#[test]
fn connect_outside_a_tokio_runtime_is_an_error_not_a_panic() {
    let mut mqtt = transport(1);
    let err = futures_lite_block_on(mqtt.connect(&OPTIONS)).unwrap_err();
    assert!(err.to_string().contains("tokio runtime"), "{err}");
}

/// Polls a future to completion on this thread without any runtime.
fn futures_lite_block_on<F: std::future::Future>(future: F) -> F::Output {
    use std::task::{Context, Poll, Waker};
    let mut future = std::pin::pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}
