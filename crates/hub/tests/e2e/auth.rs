//! CONNECT authentication (protocol.md §3.2) and one connection per device.

use iot_core::credentials::{SdkAppId, SignMethod};
use rumqttc::{ConnectReturnCode, ConnectionError};
use serde_json::{json, Value};

use crate::common::*;

fn refused(result: Result<Device, ConnectionError>) -> ConnectReturnCode {
    match result {
        Err(ConnectionError::ConnectionRefused(code)) => code,
        Err(other) => panic!("expected a CONNACK refusal, got {other}"),
        Ok(_) => panic!("expected a CONNACK refusal, the hub accepted"),
    }
}

#[tokio::test]
async fn both_sign_methods_and_both_sdk_app_ids_are_accepted() {
    let hub = hub().await;
    for method in [SignMethod::HmacSha256, SignMethod::HmacSha1] {
        for app in [SdkAppId::DEFAULT, SdkAppId::OFFICIAL_SDK] {
            let creds = sign("dev1", PSK, method, app, now_secs() + 60);
            let device = Device::connect(hub.mqtt_addr(), "dev1", &creds).await;
            assert!(device.is_ok(), "{method:?} {app:?}: {:?}", device.err());
        }
    }
    hub.shutdown().await;
}

#[tokio::test]
async fn the_tutorial_credentials_work_against_the_demo_device() {
    // protocol.md §8.1 vector 1, read from the shared vectors.
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/vectors/credentials.json"
    );
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let v = doc["mqtt_password"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["device_name"] == "dev1" && v["expiry"].as_u64().unwrap() > now_secs())
        .unwrap()
        .clone();
    let hub = hub().await;
    let result = connect_raw(
        hub.mqtt_addr(),
        v["clientid"].as_str().unwrap(),
        v["username"].as_str().unwrap(),
        v["password"].as_str().unwrap(),
    )
    .await;
    assert!(result.is_ok(), "{:?}", result.err());
    hub.shutdown().await;
}

#[tokio::test]
async fn bad_credentials_are_refused_with_the_right_connack() {
    let hub = hub().await;
    let addr = hub.mqtt_addr();
    let other_psk = "u/nAbSmZKbCW7lugludvLg==";

    let wrong_key = sign(
        "dev1",
        other_psk,
        SignMethod::HmacSha256,
        SdkAppId::DEFAULT,
        now_secs() + 60,
    );
    assert_eq!(
        refused(Device::connect(addr, "dev1", &wrong_key).await),
        ConnectReturnCode::BadUserNamePassword
    );

    let wrong_key_sha1 = sign(
        "dev1",
        other_psk,
        SignMethod::HmacSha1,
        SdkAppId::OFFICIAL_SDK,
        now_secs() + 60,
    );
    assert_eq!(
        refused(Device::connect(addr, "dev1", &wrong_key_sha1).await),
        ConnectReturnCode::BadUserNamePassword
    );

    let expired = sign(
        "dev1",
        PSK,
        SignMethod::HmacSha256,
        SdkAppId::DEFAULT,
        now_secs() - 10,
    );
    assert_eq!(
        refused(Device::connect(addr, "dev1", &expired).await),
        ConnectReturnCode::BadUserNamePassword
    );

    let unknown = sign(
        "ghost",
        PSK,
        SignMethod::HmacSha256,
        SdkAppId::DEFAULT,
        now_secs() + 60,
    );
    assert_eq!(
        refused(Device::connect(addr, "ghost", &unknown).await),
        ConnectReturnCode::NotAuthorized
    );

    // Valid username and password of dev1, presented under another clientId.
    let creds = good("dev1", PSK);
    let wrong_client =
        connect_raw(addr, "CS0SLTKSYAdev2", creds.username(), creds.password()).await;
    assert!(matches!(
        wrong_client,
        Err(ConnectionError::ConnectionRefused(
            ConnectReturnCode::BadUserNamePassword
        ))
    ));

    // sdkappid other than 12010126 / 21010406, correctly signed.
    let odd_app = sign(
        "dev1",
        PSK,
        SignMethod::HmacSha256,
        SdkAppId(12_345_678),
        now_secs() + 60,
    );
    assert_eq!(
        refused(Device::connect(addr, "dev1", &odd_app).await),
        ConnectReturnCode::BadUserNamePassword
    );

    let garbage = connect_raw(
        addr,
        "CS0SLTKSYAdev1",
        "CS0SLTKSYAdev1;12010126;x;y",
        "zz;hmacsha256",
    )
    .await;
    assert!(matches!(
        garbage,
        Err(ConnectionError::ConnectionRefused(
            ConnectReturnCode::BadUserNamePassword
        ))
    ));

    // The hub still serves a correct login afterwards.
    let mut dev1 = Device::dev1(&hub).await;
    let reply = dev1
        .property(json!({"method":"report","params":{"MQ2":1}}))
        .await;
    assert_eq!(reply["code"], 0);
    hub.shutdown().await;
}

#[tokio::test]
async fn a_second_login_kicks_the_first_connection() {
    let hub = hub().await;
    let mut first = Device::dev1(&hub).await;
    let mut second = Device::dev1(&hub).await;
    let reason = first.closed().await;
    assert!(!reason.is_empty());
    // The new connection is the device now: online, and served.
    let reply = second
        .property(json!({"method":"report","params":{"MQ7":3}}))
        .await;
    assert_eq!(reply["code"], 0);
    let (status, body) = get(&hub, "/api/devices/CS0SLTKSYA/dev1").await;
    assert_eq!(status, 200);
    assert_eq!(body["online"], true, "{body}");
    hub.shutdown().await;
}

#[tokio::test]
async fn a_device_that_drops_and_logs_in_again_at_once_is_accepted() {
    // A reconnecting device closes its socket and sends CONNECT straight away, while the hub may still be ending
    // the old session; the platform accepts that login, so the hub must too, every time. The clean-session flag
    // alternates in runs of two, so every pairing of old and new session kinds comes up.
    let hub = hub().await;
    let creds = good("dev1", PSK);
    let mut device = Device::connect(hub.mqtt_addr(), "dev1", &creds)
        .await
        .expect("first login");
    for attempt in 1..=40 {
        let clean = attempt % 4 < 2;
        drop(device);
        device = match Device::connect_session(hub.mqtt_addr(), "dev1", &creds, clean).await {
            Ok(d) => d,
            Err(e) => panic!(
                "login {attempt} (clean session {clean}) right after a disconnect was refused: {e:?}"
            ),
        };
    }
    device.subscribe_own().await;
    let reply = device
        .property(json!({"method":"report","params":{"MQ7":3}}))
        .await;
    assert_eq!(reply["code"], 0);
    hub.shutdown().await;
}

#[tokio::test]
async fn keepalive_above_900_seconds_is_refused() {
    let hub = hub().await;
    let creds = good("dev1", PSK);
    let mut options = rumqttc::MqttOptions::new(
        creds.client_id(),
        hub.mqtt_addr().ip().to_string(),
        hub.mqtt_addr().port(),
    );
    options.set_credentials(creds.username(), creds.password());
    options.set_keep_alive(std::time::Duration::from_secs(901));
    let (_client, mut eventloop) = rumqttc::AsyncClient::new(options, 4);
    let result = tokio::time::timeout(WAIT, eventloop.poll())
        .await
        .expect("CONNACK in time");
    assert!(
        matches!(
            result,
            Err(ConnectionError::ConnectionRefused(
                ConnectReturnCode::ServiceUnavailable
            ))
        ),
        "{result:?}"
    );
    // 900 s is allowed.
    let mut options = rumqttc::MqttOptions::new(
        creds.client_id(),
        hub.mqtt_addr().ip().to_string(),
        hub.mqtt_addr().port(),
    );
    options.set_credentials(creds.username(), creds.password());
    options.set_keep_alive(std::time::Duration::from_secs(900));
    let (_client, mut eventloop) = rumqttc::AsyncClient::new(options, 4);
    let result = tokio::time::timeout(WAIT, eventloop.poll())
        .await
        .expect("CONNACK in time");
    assert!(
        matches!(
            result,
            Ok(rumqttc::Event::Incoming(rumqttc::Packet::ConnAck(_)))
        ),
        "{result:?}"
    );
    hub.shutdown().await;
}
