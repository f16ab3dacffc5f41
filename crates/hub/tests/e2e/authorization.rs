//! Per-topic authorization and the MQTT limits of protocol.md §3.5.

use rumqttc::{QoS, SubscribeReasonCode};
use serde_json::json;

use crate::common::*;

async fn dev2(hub: &hub::Hub) -> Device {
    let (status, body) = post(
        hub,
        "/api/products/CS0SLTKSYA/devices",
        &json!({"name":"dev2"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let psk = body["psk"].as_str().unwrap().to_owned();
    let mut d = Device::connect(hub.mqtt_addr(), "dev2", &good("dev2", &psk))
        .await
        .unwrap();
    d.subscribe_own().await;
    d
}

#[tokio::test]
async fn subscribing_outside_own_down_topics_is_refused() {
    let hub = hub().await;
    let mut dev1 = Device::dev1(&hub).await;
    for filter in [
        "#",
        "$thing/#",
        "$thing/down/property/CS0SLTKSYA/dev2",
        "$thing/down/property/CS0SLTKSYA/+",
        "$thing/up/property/CS0SLTKSYA/dev1",
        "$ota/update/CS0SLTKSYA/#",
    ] {
        assert_eq!(
            dev1.subscribe(filter).await,
            SubscribeReasonCode::Failure,
            "{filter}"
        );
    }
    assert!(matches!(
        dev1.subscribe("$thing/down/+/CS0SLTKSYA/dev1").await,
        SubscribeReasonCode::Success(_)
    ));
    hub.shutdown().await;
}

#[tokio::test]
async fn publishing_outside_own_up_topics_is_dropped_and_never_delivered() {
    let hub = hub().await;
    let mut dev1 = Device::dev1(&hub).await;
    let mut dev2 = dev2(&hub).await;

    // Forged messages from dev1: a control into dev2's down topic, and a report as dev2.
    let forged_control =
        json!({"method":"control","clientToken":"forged","params":{"report_interval":1}});
    dev1.publish_bytes(
        "$thing/down/property/CS0SLTKSYA/dev2",
        QoS::AtLeastOnce,
        forged_control.to_string().into(),
    )
    .await;
    let forged_report = json!({"method":"report","clientToken":"forged","params":{"MQ2":9999}});
    dev1.publish_bytes(
        "$thing/up/property/CS0SLTKSYA/dev2",
        QoS::AtMostOnce,
        forged_report.to_string().into(),
    )
    .await;
    dev1.publish_bytes("some/other/topic", QoS::AtMostOnce, b"x".to_vec())
        .await;

    // dev1's session handles its messages in order, so once this round trip is done the forged ones were handled.
    let reply = dev1
        .property(json!({"method":"report","params":{"MQ2":5}}))
        .await;
    assert_eq!(reply["code"], 0, "dev1 stays connected and served");
    // Anything routed to dev2 earlier would arrive before the reply to this request.
    let reply = dev2.property(json!({"method":"get_status"})).await;
    assert_eq!(reply["method"], "get_status_reply");
    assert_eq!(
        reply["data"],
        json!({}),
        "nothing was stored as dev2: {reply}"
    );

    let (_, body) = get(&hub, "/api/devices/CS0SLTKSYA/dev2").await;
    assert_eq!(body["reported"], json!({}));
    hub.shutdown().await;
}

#[tokio::test]
async fn qos2_publish_closes_the_connection() {
    let hub = hub().await;
    let mut dev1 = Device::dev1(&hub).await;
    let topic = dev1.topic("$thing/up/property/{pid}/{dn}");
    dev1.publish_bytes(
        &topic,
        QoS::ExactlyOnce,
        json!({"method":"report","params":{}}).to_string().into(),
    )
    .await;
    dev1.closed().await;
    hub.shutdown().await;
}

#[tokio::test]
async fn retained_publish_closes_the_connection() {
    let hub = hub().await;
    let mut dev1 = Device::dev1(&hub).await;
    let topic = dev1.topic("$thing/up/property/{pid}/{dn}");
    dev1.client
        .publish(topic, QoS::AtMostOnce, true, b"{}".to_vec())
        .await
        .unwrap();
    dev1.closed().await;
    hub.shutdown().await;
}

#[tokio::test]
async fn payload_above_16_kb_closes_the_connection_and_16_kb_passes() {
    let hub = hub().await;
    let mut dev1 = Device::dev1(&hub).await;
    let topic = dev1.topic("$thing/up/service/{pid}/{dn}");
    // Exactly 16 KB is allowed (the service topic is accepted without a reply).
    dev1.publish_bytes(&topic, QoS::AtLeastOnce, vec![b' '; 16 * 1024])
        .await;
    let reply = dev1
        .property(json!({"method":"report","params":{"MQ4":1}}))
        .await;
    assert_eq!(reply["code"], 0);
    dev1.publish_bytes(&topic, QoS::AtLeastOnce, vec![b' '; 16 * 1024 + 1])
        .await;
    dev1.closed().await;
    hub.shutdown().await;
}
