// Scripted-broker tests the `no_std` adapters over embedded-nal-async (iot-transport-mqttrust,
// iot-transport-minimq) share, written once. Each adapter's `tests/scripted_broker.rs` defines `transport!` (its
// transport over a `Link::<256, 1024>` with short timeouts) and `broker(reason, script)` (a one-connection peer
// that checks the CONNECT of its MQTT version and answers it with `reason`), then `include!`s this file.

const OPTIONS: ConnectOptions<'static> = ConnectOptions {
    client_id: "PRODUCT001dev1",
    username: "device",
    password: "secret",
    keep_alive_secs: 30,
    clean_session: true,
};

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

/// QoS 1 PUBLISH body: topic, packet id, (MQTT 5: properties,) payload. Returns the packet id.
fn publish_id(body: &[u8]) -> [u8; 2] {
    let len = usize::from(u16::from_be_bytes([body[0], body[1]]));
    [body[2 + len], body[3 + len]]
}

#[tokio::test]
async fn a_missing_suback_or_puback_times_out() {
    let (address, task) = broker(0, |mut stream| async move {
        assert_eq!(read_packet(&mut stream).await.0, 0x82);
        assert_eq!(
            read_packet(&mut stream).await.0,
            0x32,
            "QoS 1 PUBLISH, retain off"
        );
        // Answers neither; waits for the DISCONNECT.
        assert_eq!(read_packet(&mut stream).await.0, 0xe0);
    })
    .await;
    transport!(mqtt, address);
    mqtt.connect(&OPTIONS).await.unwrap();
    let err = mqtt.subscribe("a/b", QoS::AtLeastOnce).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    let err = mqtt.publish("t", b"x", QoS::AtLeastOnce).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    mqtt.disconnect().await.unwrap();
    task.await.unwrap();
}

#[tokio::test]
async fn a_broker_hanging_up_is_disconnected_then_not_connected() {
    let (address, task) = broker(0, |stream| async move { drop(stream) }).await;
    transport!(mqtt, address);
    mqtt.connect(&OPTIONS).await.unwrap();
    task.await.unwrap();
    let err = tokio::time::timeout(Duration::from_secs(3), mqtt.receive())
        .await
        .unwrap()
        .unwrap_err();
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
async fn calls_before_connect_and_bad_arguments_fail_cleanly() {
    transport!(mqtt, "127.0.0.1:1".parse().unwrap());
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
    // The link was built with PAYLOAD = 256.
    let err = mqtt
        .publish("a", &[0; 257], QoS::AtMostOnce)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PayloadTooLarge);
    let persistent = ConnectOptions {
        clean_session: false,
        ..OPTIONS
    };
    assert_eq!(
        mqtt.connect(&persistent).await.unwrap_err().kind(),
        ErrorKind::Other
    );
    let long = "x".repeat(200);
    let err = mqtt
        .connect(&ConnectOptions {
            username: &long,
            ..OPTIONS
        })
        .await
        .unwrap_err();
    assert!(err.to_string().contains("user name"), "{err}");
}
