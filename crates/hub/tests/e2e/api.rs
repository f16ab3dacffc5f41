//! The HTTP API: control and action round trips, pending control for offline devices, registry routes, errors.

use std::time::Duration;

use hub::HubConfig;
use serde_json::{json, Value};

use crate::common::*;

fn spawn_post(hub: &hub::Hub, path: &str, body: Value) -> tokio::task::JoinHandle<(u16, Value)> {
    let url = format!("http://{}{path}", hub.http_addr());
    tokio::spawn(http("POST", url, Some(body.to_string().into_bytes())))
}

#[tokio::test]
async fn control_is_pushed_to_an_online_device_and_its_reply_returned() {
    let hub = hub().await;
    let mut dev1 = Device::dev1(&hub).await;
    let call = spawn_post(
        &hub,
        "/api/devices/CS0SLTKSYA/dev1/control",
        json!({"params":{"report_interval":10}}),
    );
    let (topic, control) = dev1.next_message().await;
    assert_eq!(topic, "$thing/down/property/CS0SLTKSYA/dev1");
    assert_eq!(control["method"], "control");
    assert_eq!(control["params"], json!({"report_interval":10}));
    let token = control["clientToken"].as_str().unwrap().to_owned();
    dev1.publish(
        "$thing/up/property/{pid}/{dn}",
        &json!({"method":"control_reply","clientToken":token,"code":0,"status":"applied"}),
    )
    .await;
    let (status, body) = call.await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"clientToken":token,"code":0,"status":"applied"})
    );
    hub.shutdown().await;
}

#[tokio::test]
async fn invalid_control_is_refused_with_the_model_code() {
    let hub = hub().await;
    let path = "/api/devices/CS0SLTKSYA/dev1/control";
    let (status, body) = post(&hub, path, &json!({"params":{"MQ2":5}})).await;
    assert_eq!(
        (status, body["code"].clone()),
        (400, json!(403)),
        "read-only: {body}"
    );
    let (status, body) = post(&hub, path, &json!({"params":{"nope":5}})).await;
    assert_eq!(
        (status, body["code"].clone()),
        (400, json!(403)),
        "unknown: {body}"
    );
    let (status, body) = post(&hub, path, &json!({"params":{"report_interval":0}})).await;
    assert_eq!(
        (status, body["code"].clone()),
        (400, json!(406)),
        "out of range: {body}"
    );
    let (status, body) = post(&hub, path, &json!({"params":{"alarm_enabled":"yes"}})).await;
    assert_eq!(
        (status, body["code"].clone()),
        (400, json!(406)),
        "wrong type: {body}"
    );
    assert!(
        body["error"].as_str().unwrap().contains("alarm_enabled"),
        "{body}"
    );
    let (status, _) = post(&hub, path, &json!({"nothing":1})).await;
    assert_eq!(status, 400);
    let (status, _) = post(
        &hub,
        "/api/devices/CS0SLTKSYA/nobody/control",
        &json!({"params":{"report_interval":5}}),
    )
    .await;
    assert_eq!(status, 404);
    hub.shutdown().await;
}

#[tokio::test]
async fn control_for_an_offline_device_is_delivered_through_get_status_and_cleared() {
    let hub = hub().await;
    let path = "/api/devices/CS0SLTKSYA/dev1/control";
    let (status, body) = post(
        &hub,
        path,
        &json!({"params":{"alarm_enabled":0,"smoke_threshold":1500}}),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["pending"], true);
    let (_, state) = get(&hub, "/api/devices/CS0SLTKSYA/dev1").await;
    assert_eq!(state["online"], false);
    assert_eq!(
        state["pending_control"],
        json!({"alarm_enabled":0,"smoke_threshold":1500})
    );

    // The device comes online and asks for its state, as the C SDK does after connecting.
    let mut dev1 = Device::dev1(&hub).await;
    let reply = dev1.property(json!({"method":"get_status"})).await;
    assert_eq!(
        reply["data"]["control"],
        json!({"alarm_enabled":0,"smoke_threshold":1500}),
        "{reply}"
    );
    let token = reply["clientToken"].clone();
    // Applied; clear_control with the same clientToken (protocol.md §10.8).
    dev1.publish(
        "$thing/up/property/{pid}/{dn}",
        &json!({"method":"clear_control","clientToken":token}),
    )
    .await;
    let (_, cleared) = dev1.next_message().await;
    assert_eq!(
        (cleared["method"].clone(), cleared["code"].clone()),
        (json!("clear_control_reply"), json!(0))
    );
    let reply = dev1.property(json!({"method":"get_status"})).await;
    assert!(reply["data"].get("control").is_none(), "{reply}");
    let (_, state) = get(&hub, "/api/devices/CS0SLTKSYA/dev1").await;
    assert_eq!(state["pending_control"], json!({}));
    assert_eq!(state["online"], true);
    hub.shutdown().await;
}

#[tokio::test]
async fn action_round_trip_and_its_refusals() {
    let hub = hub().await;
    let path = "/api/devices/CS0SLTKSYA/dev1/actions/calibrate";
    let (status, body) = post(&hub, path, &json!({"params":{"sensor":"MQ2"}})).await;
    assert_eq!(status, 409, "offline: {body}");

    let mut dev1 = Device::dev1(&hub).await;
    let (status, body) = post(&hub, path, &json!({"params":{"sensor":"XX"}})).await;
    assert_eq!((status, body["code"].clone()), (400, json!(406)), "{body}");
    let (status, body) = post(
        &hub,
        "/api/devices/CS0SLTKSYA/dev1/actions/open_door",
        &json!({"params":{}}),
    )
    .await;
    assert_eq!((status, body["code"].clone()), (400, json!(403)), "{body}");

    let call = spawn_post(&hub, path, json!({"params":{"sensor":"MQ7"}}));
    let (topic, action) = dev1.next_message().await;
    assert_eq!(topic, "$thing/down/action/CS0SLTKSYA/dev1");
    assert_eq!(action["method"], "action");
    assert_eq!(action["actionId"], "calibrate");
    assert_eq!(action["params"], json!({"sensor":"MQ7"}));
    assert!(action["timestamp"].is_i64());
    let token = action["clientToken"].clone();
    dev1.publish(
        "$thing/up/action/{pid}/{dn}",
        &json!({"method":"action_reply","clientToken":token,"code":0,"status":"done","response":{"r0":12.5,"result":0}}),
    )
    .await;
    let (status, body) = call.await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["code"], 0);
    assert_eq!(body["clientToken"], token);
    assert_eq!(body["response"], json!({"r0":12.5,"result":0}));
    assert!(body.get("response_error").is_none());
    hub.shutdown().await;
}

#[tokio::test]
async fn a_device_that_does_not_answer_times_out() {
    let hub = start(HubConfig {
        reply_timeout: Duration::from_millis(300),
        ..HubConfig::ephemeral()
    })
    .await;
    let mut dev1 = Device::dev1(&hub).await;
    let (status, body) = post(
        &hub,
        "/api/devices/CS0SLTKSYA/dev1/control",
        &json!({"params":{"report_interval":7}}),
    )
    .await;
    assert_eq!(status, 504, "{body}");
    let (_, control) = dev1.next_message().await;
    assert_eq!(body["clientToken"], control["clientToken"]);
    // A late reply is ignored and the device keeps being served.
    dev1.publish(
        "$thing/up/property/{pid}/{dn}",
        &json!({"method":"control_reply","clientToken":control["clientToken"],"code":0}),
    )
    .await;
    let reply = dev1
        .property(json!({"method":"report","params":{"MQ2":1}}))
        .await;
    assert_eq!(reply["code"], 0);
    hub.shutdown().await;
}

#[tokio::test]
async fn products_and_devices_are_created_and_new_devices_log_in() {
    let hub = hub().await;
    let model = hub::DEMO_MODEL.replace("CS0SLTKSYA", "AB12CD34EF");
    let (status, body) = http(
        "POST",
        format!("http://{}/api/products", hub.http_addr()),
        Some(model.clone().into_bytes()),
    )
    .await;
    assert_eq!((status, body), (201, json!({"product_id":"AB12CD34EF"})));
    let (status, _) = http(
        "POST",
        format!("http://{}/api/products", hub.http_addr()),
        Some(model.into_bytes()),
    )
    .await;
    assert_eq!(status, 409);
    let (status, body) = http(
        "POST",
        format!("http://{}/api/products", hub.http_addr()),
        Some(b"{\"version\":1".to_vec()),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let (_, products) = get(&hub, "/api/products").await;
    assert_eq!(products, json!(["AB12CD34EF", "CS0SLTKSYA"]));

    let (status, body) = post(
        &hub,
        "/api/products/CS0SLTKSYA/devices",
        &json!({"name":"kitchen-1"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let psk = body["psk"].as_str().unwrap().to_owned();
    assert_eq!(psk.len(), 24, "16 bytes in base64");
    let (status, _) = post(
        &hub,
        "/api/products/CS0SLTKSYA/devices",
        &json!({"name":"kitchen-1"}),
    )
    .await;
    assert_eq!(status, 409);
    let (status, _) = post(
        &hub,
        "/api/products/CS0SLTKSYA/devices",
        &json!({"name":"bad/name"}),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = post(
        &hub,
        "/api/products/ZZZZZZZZZZ/devices",
        &json!({"name":"x"}),
    )
    .await;
    assert_eq!(status, 404);

    let mut kitchen = Device::connect(hub.mqtt_addr(), "kitchen-1", &good("kitchen-1", &psk))
        .await
        .unwrap();
    kitchen.subscribe_own().await;
    let reply = kitchen
        .property(json!({"method":"report","params":{"DHT11_T":21}}))
        .await;
    assert_eq!(reply["code"], 0);

    let (status, devices) = get(&hub, "/api/devices").await;
    assert_eq!(status, 200);
    assert_eq!(
        devices,
        json!([{"product_id":"CS0SLTKSYA","device_name":"dev1","online":false},
               {"product_id":"CS0SLTKSYA","device_name":"kitchen-1","online":true}])
    );
    hub.shutdown().await;
}

#[tokio::test]
async fn history_and_events_routes_check_their_queries() {
    let hub = hub().await;
    let mut dev1 = Device::dev1(&hub).await;
    for value in 1..=5 {
        dev1.property(json!({"method":"report","params":{"MQ2":value}}))
            .await;
    }
    let (status, body) = get(
        &hub,
        "/api/devices/CS0SLTKSYA/dev1/history?property=MQ2&limit=3",
    )
    .await;
    assert_eq!(status, 200);
    let values: Vec<i64> = body["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["value"].as_i64().unwrap())
        .collect();
    assert_eq!(values, vec![5, 4, 3]);
    assert!(body["values"][0]["timestamp"].as_i64().unwrap() > 0);
    let (status, _) = get(&hub, "/api/devices/CS0SLTKSYA/dev1/history").await;
    assert_eq!(status, 400, "property is required");
    let (status, _) = get(
        &hub,
        "/api/devices/CS0SLTKSYA/dev1/history?property=MQ2&limit=0",
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = get(&hub, "/api/devices/CS0SLTKSYA/dev1/events?limit=abc").await;
    assert_eq!(status, 400);
    let (status, body) = get(&hub, "/api/devices/CS0SLTKSYA/dev1/events").await;
    assert_eq!((status, body), (200, json!({"events":[]})));
    let (status, _) = get(&hub, "/api/devices/CS0SLTKSYA/ghost/events").await;
    assert_eq!(status, 404);
    hub.shutdown().await;
}
