//! Bad input never crashes the hub: after each kind of garbage the hub still serves a correct device.

use rumqttc::QoS;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::*;

async fn still_serves(hub: &hub::Hub) {
    let mut dev1 = Device::dev1(hub).await;
    let reply = dev1
        .property(json!({"method":"report","params":{"MQ2":7}}))
        .await;
    assert_eq!(reply["code"], 0);
}

#[tokio::test]
async fn garbage_bytes_on_the_mqtt_port() {
    let hub = hub().await;
    let inputs: [&[u8]; 5] = [
        b"GET / HTTP/1.1\r\n\r\n",
        &[0x10, 0xff, 0xff, 0xff, 0xff, 0x7f], // CONNECT with an invalid remaining length
        &[
            0x10, 0x0c, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x09, 0x02, 0x00, 0x3c, 0x00, 0x00,
        ], // level 9
        &[0x30, 0x05, 0x00, 0x01, b'a', b'x', b'y'], // PUBLISH before CONNECT
        &[0xff; 64],
    ];
    for input in inputs {
        let mut stream = tokio::net::TcpStream::connect(hub.mqtt_addr())
            .await
            .unwrap();
        let _ = stream.write_all(input).await;
        let mut buf = [0u8; 64];
        // The hub answers or closes; either way the read ends (bounded by WAIT).
        let _ = tokio::time::timeout(WAIT, stream.read(&mut buf))
            .await
            .expect("hub reacts to garbage");
    }
    still_serves(&hub).await;
    hub.shutdown().await;
}

#[tokio::test]
async fn garbage_payloads_on_every_up_topic() {
    let hub = hub().await;
    let mut dev1 = Device::dev1(&hub).await;
    let deep = "[".repeat(16_000);
    let payloads: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"null".to_vec(),
        b"\xff\xfe\xfd".to_vec(),
        deep.into_bytes(),
        br#"{"method":7,"clientToken":{"a":[1,2]}}"#.to_vec(),
        br#"{"method":"report","clientToken":"x","params":{"MQ2":1e999}}"#.to_vec(),
        br#"{"method":"report","clientToken":"x","params":{"MQ2":{"a":{"b":{"c":[[[[1]]]]}}}}}"#
            .to_vec(),
        br#"{"method":"report","clientToken":"x","timestamp":"soon","params":{}}"#.to_vec(),
        br#"{"method":"events_post","clientToken":"x","events":[null,1,"a"]}"#.to_vec(),
        br#"{"method":"control_reply","clientToken":"unknown","code":0}"#.to_vec(),
        br#"{"method":"action_reply","clientToken":5}"#.to_vec(),
        br#"{"type":"report_version","report":{"version":5}}"#.to_vec(),
        br#"{"type":"get","resource":"time"}"#.to_vec(),
    ];
    for topic in [
        "$thing/up/property/{pid}/{dn}",
        "$thing/up/event/{pid}/{dn}",
        "$thing/up/action/{pid}/{dn}",
        "$thing/up/service/{pid}/{dn}",
        "$thing/up/raw/{pid}/{dn}",
        "$ota/report/{pid}/{dn}",
        "$sys/operation/{pid}/{dn}",
    ] {
        let topic = dev1.topic(topic);
        for payload in &payloads {
            dev1.publish_bytes(&topic, QoS::AtLeastOnce, payload.clone())
                .await;
        }
    }
    // Replies to the garbage (400/403/406 on property and event topics) arrive first; the report's reply is the
    // last message, and it is a success.
    let token = dev1.token();
    dev1.publish(
        "$thing/up/property/{pid}/{dn}",
        &json!({"method":"report","clientToken":token,"params":{"MQ2":8}}),
    )
    .await;
    loop {
        let (_, reply) = dev1.next_message().await;
        if reply.get("clientToken") == Some(&json!(token)) {
            assert_eq!(reply["code"], 0, "{reply}");
            break;
        }
        if let Some(code) = reply.get("code") {
            assert_ne!(code, 0, "garbage was accepted: {reply}");
        }
    }
    still_serves(&hub).await;
    hub.shutdown().await;
}

#[tokio::test]
async fn garbage_http_requests() {
    let hub = hub().await;
    let base = format!("http://{}", hub.http_addr());
    for (path, body) in [
        ("/api/devices/CS0SLTKSYA/dev1/control", b"not json".to_vec()),
        (
            "/api/devices/CS0SLTKSYA/dev1/control",
            b"{\"params\":[1]}".to_vec(),
        ),
        (
            "/api/devices/CS0SLTKSYA/dev1/control",
            "[".repeat(10_000).into_bytes(),
        ),
        (
            "/api/devices/CS0SLTKSYA/dev1/actions/calibrate",
            b"{\"params\":null}".to_vec(),
        ),
        ("/api/products", b"\xff\xff".to_vec()),
        ("/api/products", b"{}".to_vec()),
        ("/api/products/CS0SLTKSYA/devices", b"{\"name\":5}".to_vec()),
    ] {
        let (status, body) = http("POST", format!("{base}{path}"), Some(body)).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert!(body["error"].is_string());
    }
    let (status, _) = get(&hub, "/api/devices/lowercase1/dev1").await;
    assert_eq!(status, 404);
    still_serves(&hub).await;
    hub.shutdown().await;
}
