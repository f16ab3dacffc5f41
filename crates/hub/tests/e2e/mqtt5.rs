//! MQTT 5 clients get the same authentication, authorization and data-template service.

use std::time::Duration;

use iot_core::credentials::MqttCredentials;
use rumqttc::v5::mqttbytes::v5::{ConnectReturnCode, Packet, SubscribeReasonCode};
use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::{AsyncClient, ConnectionError, Event, EventLoop, MqttOptions};
use serde_json::{json, Value};

use crate::common::*;

async fn connect5(
    hub: &hub::Hub,
    creds: &MqttCredentials,
) -> Result<(AsyncClient, EventLoop), ConnectionError> {
    connect5_clean(hub, creds, true).await
}

/// [`connect5`] with the CONNECT's Clean Start flag chosen (the session expiry interval stays 0).
async fn connect5_clean(
    hub: &hub::Hub,
    creds: &MqttCredentials,
    clean_start: bool,
) -> Result<(AsyncClient, EventLoop), ConnectionError> {
    let addr = hub.mqtt_addr();
    let mut options = MqttOptions::new(creds.client_id(), addr.ip().to_string(), addr.port());
    options.set_credentials(creds.username(), creds.password());
    options.set_clean_start(clean_start);
    options.set_keep_alive(Duration::from_secs(30));
    let (client, mut eventloop) = AsyncClient::new(options, 16);
    loop {
        match tokio::time::timeout(WAIT, eventloop.poll())
            .await
            .expect("CONNACK in time")?
        {
            Event::Incoming(Packet::ConnAck(_)) => return Ok((client, eventloop)),
            _ => continue,
        }
    }
}

/// The next SUBACK or PUBLISH, skipping acknowledgements.
async fn next(eventloop: &mut EventLoop) -> Packet {
    loop {
        let event = tokio::time::timeout(WAIT, eventloop.poll())
            .await
            .expect("packet in time")
            .expect("connected");
        if let Event::Incoming(packet @ (Packet::SubAck(_) | Packet::Publish(_))) = event {
            return packet;
        }
    }
}

#[tokio::test]
async fn mqtt5_devices_are_authenticated_authorized_and_served() {
    let hub = hub().await;
    let wrong = good("dev1", "u/nAbSmZKbCW7lugludvLg==");
    let refused = connect5(&hub, &wrong).await.err();
    assert!(
        matches!(
            refused,
            Some(ConnectionError::ConnectionRefused(
                ConnectReturnCode::BadUserNamePassword
            ))
        ),
        "{refused:?}"
    );

    let (client, mut eventloop) = connect5(&hub, &good("dev1", PSK))
        .await
        .expect("dev1 connects over MQTT 5");
    client
        .subscribe("$thing/down/property/CS0SLTKSYA/dev2", QoS::AtLeastOnce)
        .await
        .unwrap();
    match next(&mut eventloop).await {
        Packet::SubAck(ack) => assert_ne!(
            ack.return_codes[0],
            SubscribeReasonCode::Success(QoS::AtLeastOnce)
        ),
        other => panic!("{other:?}"),
    }
    client
        .subscribe("$thing/down/property/CS0SLTKSYA/dev1", QoS::AtLeastOnce)
        .await
        .unwrap();
    match next(&mut eventloop).await {
        Packet::SubAck(ack) => assert_eq!(
            ack.return_codes[0],
            SubscribeReasonCode::Success(QoS::AtLeastOnce)
        ),
        other => panic!("{other:?}"),
    }
    let report = json!({"method":"report","clientToken":"v5-1","params":{"MQ2":12}});
    client
        .publish(
            "$thing/up/property/CS0SLTKSYA/dev1",
            QoS::AtLeastOnce,
            false,
            report.to_string(),
        )
        .await
        .unwrap();
    match next(&mut eventloop).await {
        Packet::Publish(p) => {
            let reply: Value = serde_json::from_slice(&p.payload).unwrap();
            assert_eq!(
                reply,
                json!({"method":"report_reply","clientToken":"v5-1","code":0,"status":"success"})
            );
        }
        other => panic!("{other:?}"),
    }
    hub.shutdown().await;
}

#[tokio::test]
async fn an_mqtt5_device_that_drops_and_logs_in_again_at_once_is_accepted() {
    // With no session expiry the old session ends with its connection, whatever the new CONNECT's Clean Start.
    let hub = hub().await;
    let creds = good("dev1", PSK);
    let mut connection = connect5(&hub, &creds).await.expect("first login");
    for attempt in 1..=30 {
        let clean_start = attempt % 2 == 0;
        drop(connection);
        connection = match connect5_clean(&hub, &creds, clean_start).await {
            Ok(c) => c,
            Err(e) => panic!(
                "login {attempt} (clean start {clean_start}) right after a disconnect was refused: {e:?}"
            ),
        };
    }
    drop(connection);
    hub.shutdown().await;
}
