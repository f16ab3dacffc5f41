//! Every device method's reply (protocol.md §4, §6.1, §6.2), with the shared message samples where they apply.

use rumqttc::QoS;
use serde_json::{json, Value};

use crate::common::*;

/// A message from `../shared/vectors/messages.json` by name.
fn sample(name: &str) -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/vectors/messages.json"
    );
    let all: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let entry = all
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == name)
        .unwrap_or_else(|| panic!("{name}"));
    serde_json::from_str(entry["json"].as_str().unwrap()).unwrap()
}

#[tokio::test]
async fn report_is_validated_stored_and_replied() {
    let hub = hub().await;
    let mut dev1 = Device::dev1(&hub).await;

    // The environment monitor's own report.
    let reply = dev1.property(sample("report")).await;
    assert_eq!(reply["method"], "report_reply");
    assert_eq!(reply["code"], 0);
    assert_eq!(reply["status"], "success");
    let (_, state) = get(&hub, "/api/devices/CS0SLTKSYA/dev1").await;
    assert_eq!(state["reported"]["MQ135"], 95, "{state}");
    assert_eq!(state["reported"]["DHT11_H"], 70);

    // 403: identifier not in the model.
    let reply = dev1
        .property(json!({"method":"report","params":{"power_switch":1}}))
        .await;
    assert_eq!(reply["code"], 403, "{reply}");
    // 406: wrong type, out of range, params not an object.
    for params in [
        json!({"MQ2":"high"}),
        json!({"DHT11_T":61}),
        json!({"report_interval":0}),
        json!([1]),
    ] {
        let reply = dev1
            .property(json!({"method":"report","params":params}))
            .await;
        assert_eq!(reply["code"], 406, "{params}: {reply}");
    }
    // 405: timestamp more than 24 h away (the documented sample's 2021 timestamp).
    let reply = dev1
        .property(json!({"method":"report","timestamp":1628646783000_i64,"params":{"MQ2":1}}))
        .await;
    assert_eq!(reply["code"], 405, "{reply}");
    let reply = dev1
        .property(json!({"method":"report","timestamp":now_ms(),"params":{"MQ2":2}}))
        .await;
    assert_eq!(reply["code"], 0, "{reply}");
    // 403: unknown method.
    let reply = dev1.property(json!({"method":"frobnicate"})).await;
    assert_eq!(
        (reply["method"].clone(), reply["code"].clone()),
        (json!("frobnicate_reply"), json!(403))
    );

    // Refused reports change nothing.
    let (_, history) = get(
        &hub,
        "/api/devices/CS0SLTKSYA/dev1/history?property=MQ2&limit=10",
    )
    .await;
    let values: Vec<Value> = history["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["value"].clone())
        .collect();
    assert_eq!(values, vec![json!(2), json!(30)], "{history}");
    hub.shutdown().await;
}

#[tokio::test]
async fn payload_that_is_not_json_gets_400() {
    let hub = hub().await;
    let mut dev1 = Device::dev1(&hub).await;
    let topic = dev1.topic("$thing/up/property/{pid}/{dn}");
    dev1.publish_bytes(
        &topic,
        QoS::AtLeastOnce,
        b"{\"method\":\"report\",".to_vec(),
    )
    .await;
    let (_, reply) = dev1.next_message().await;
    assert_eq!(reply["code"], 400, "{reply}");
    let topic = dev1.topic("$thing/up/event/{pid}/{dn}");
    dev1.publish_bytes(&topic, QoS::AtLeastOnce, b"\xff\xfe".to_vec())
        .await;
    let (topic, reply) = dev1.next_message().await;
    assert_eq!(topic, dev1.topic("$thing/down/event/{pid}/{dn}"));
    assert_eq!(reply["code"], 400, "{reply}");
    hub.shutdown().await;
}

#[tokio::test]
async fn get_status_returns_reported_state_and_clear_control_replies() {
    let hub = hub().await;
    let mut dev1 = Device::dev1(&hub).await;
    // Nothing yet: data is an empty object (protocol.md §4.3, observed).
    let reply = dev1.property(sample("get_status_c_sdk")).await;
    assert_eq!(reply["method"], "get_status_reply");
    assert_eq!(reply["code"], 0);
    assert_eq!(reply["type"], "report");
    assert_eq!(reply["data"], json!({}));

    dev1.property(json!({"method":"report","params":{"MQ2":30,"alarm_enabled":1}}))
        .await;
    let reply = dev1.property(sample("get_status")).await;
    assert_eq!(
        reply["data"]["reported"],
        json!({"MQ2":30,"alarm_enabled":1}),
        "{reply}"
    );
    assert!(reply["data"].get("control").is_none());

    let reply = dev1.property(sample("clear_control")).await;
    assert_eq!(
        (reply["method"].clone(), reply["code"].clone()),
        (json!("clear_control_reply"), json!(0))
    );
    hub.shutdown().await;
}

#[tokio::test]
async fn report_info_is_stored() {
    let hub = hub().await;
    let mut dev1 = Device::dev1(&hub).await;
    let reply = dev1.property(sample("report_info")).await;
    assert_eq!(
        (reply["method"].clone(), reply["code"].clone()),
        (json!("report_info_reply"), json!(0))
    );
    let (_, state) = get(&hub, "/api/devices/CS0SLTKSYA/dev1").await;
    assert_eq!(state["info"]["fw_ver"], "3.1.9", "{state}");
    let reply = dev1
        .property(json!({"method":"report_info","params":"ESP8266"}))
        .await;
    assert_eq!(reply["code"], 406);
    hub.shutdown().await;
}

#[tokio::test]
async fn events_are_validated_stored_and_replied() {
    let hub = hub().await;
    let mut dev1 = Device::dev1(&hub).await;
    let alarm = json!({"method":"event_post","version":"1.0","eventId":"gas_alarm","type":"alert",
                       "timestamp":now_ms(),"params":{"sensor":"MQ2","value":1500,"threshold":1000}});
    let reply = dev1.event(alarm).await;
    assert_eq!(reply["method"], "event_reply");
    assert_eq!(reply["code"], 0, "{reply}");
    assert_eq!(reply["version"], "1.0");
    assert_eq!(reply["data"], json!({}));

    let both = json!({"method":"events_post","events":[
        {"eventId":"sensor_fault","type":"fault","timestamp":now_ms(),"params":{"sensor":"DHT11","error_code":3}},
        {"eventId":"gas_alarm","type":"alert","params":{"sensor":"MQ7","value":80,"threshold":50}}]});
    let reply = dev1.event(both).await;
    assert_eq!(
        (reply["method"].clone(), reply["code"].clone()),
        (json!("events_reply"), json!(0)),
        "{reply}"
    );

    // 403 unknown event, 406 bad parameter; a refused events_post stores none of its events.
    let reply = dev1
        .event(json!({"method":"event_post","eventId":"PowerAlarm","params":{}}))
        .await;
    assert_eq!(reply["code"], 403);
    let reply = dev1
        .event(json!({"method":"events_post","events":[
        {"eventId":"gas_alarm","params":{"sensor":"MQ2","value":1,"threshold":1}},
        {"eventId":"gas_alarm","params":{"sensor":"XX","value":1,"threshold":1}}]}))
        .await;
    assert_eq!(reply["code"], 406, "{reply}");

    let (_, events) = get(&hub, "/api/devices/CS0SLTKSYA/dev1/events?limit=10").await;
    let ids: Vec<&str> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["eventId"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec!["gas_alarm", "sensor_fault", "gas_alarm"],
        "{events}"
    );
    assert_eq!(events["events"][0]["params"]["sensor"], "MQ7");
    assert_eq!(events["events"][2]["type"], "alert");
    hub.shutdown().await;
}

#[tokio::test]
async fn time_requests_get_the_hub_clock() {
    let hub = hub().await;
    let mut dev1 = Device::dev1(&hub).await;
    let before = now_ms();
    dev1.publish(
        "$sys/operation/{pid}/{dn}",
        &json!({"type":"get","resource":["time"]}),
    )
    .await;
    let (topic, reply) = dev1.next_message().await;
    let after = now_ms();
    assert_eq!(topic, "$sys/operation/result/CS0SLTKSYA/dev1");
    assert_eq!(reply["type"], "get");
    let ntp1 = reply["ntptime1"].as_i64().unwrap();
    let ntp2 = reply["ntptime2"].as_i64().unwrap();
    assert!(before <= ntp1 && ntp1 <= ntp2 && ntp2 <= after, "{reply}");
    assert_eq!(reply["time"].as_i64().unwrap(), ntp1 / 1000);
    hub.shutdown().await;
}

#[tokio::test]
async fn ota_report_version_is_answered_and_recorded() {
    let hub = hub().await;
    let mut dev1 = Device::dev1(&hub).await;
    dev1.publish(
        "$ota/report/{pid}/{dn}",
        &json!({"type":"report_version","report":{"version":"1.2.3"}}),
    )
    .await;
    let (topic, reply) = dev1.next_message().await;
    assert_eq!(topic, "$ota/update/CS0SLTKSYA/dev1");
    assert_eq!(
        reply,
        json!({"result_code":0,"result_msg":"success","type":"report_version_rsp","version":"1.2.3"})
    );
    let (_, state) = get(&hub, "/api/devices/CS0SLTKSYA/dev1").await;
    assert_eq!(state["firmware_version"], "1.2.3");
    hub.shutdown().await;
}

#[tokio::test]
async fn get_model_define_returns_the_thing_model() {
    let hub = hub().await;
    let mut dev1 = Device::dev1(&hub).await;
    let reply = dev1.property(json!({"method":"get_model_define"})).await;
    assert_eq!(reply["code"], 0);
    assert_eq!(reply["model"]["profile"]["ProductId"], "CS0SLTKSYA");
    assert_eq!(reply["model"]["actions"][0]["id"], "calibrate");
    hub.shutdown().await;
}

/// A device resends a report or event with the same clientToken after a lost reply or a reconnect (QoS 1
/// redelivery, the runtime's offline queue): both copies are answered, the history holds one.
#[tokio::test]
async fn a_resent_client_token_is_answered_but_stored_once() {
    let hub = hub().await;
    let mut dev1 = Device::dev1(&hub).await;
    let mut report = sample("report");
    report["clientToken"] = json!("boot7-1");
    for _ in 0..2 {
        dev1.publish("$thing/up/property/{pid}/{dn}", &report).await;
        let (_, reply) = dev1.next_message().await;
        assert_eq!(
            (reply["code"].clone(), reply["clientToken"].clone()),
            (json!(0), json!("boot7-1"))
        );
    }
    let mut event = sample("event_post");
    event["clientToken"] = json!("boot7-2");
    event["timestamp"] = json!(now_ms());
    for _ in 0..2 {
        dev1.publish("$thing/up/event/{pid}/{dn}", &event).await;
        let (_, reply) = dev1.next_message().await;
        assert_eq!(reply["code"], 0, "{reply}");
    }
    let (_, history) = get(
        &hub,
        "/api/devices/CS0SLTKSYA/dev1/history?property=MQ2&limit=10",
    )
    .await;
    assert_eq!(history["values"].as_array().unwrap().len(), 1, "{history}");
    let (_, events) = get(&hub, "/api/devices/CS0SLTKSYA/dev1/events?limit=10").await;
    assert_eq!(events["events"].as_array().unwrap().len(), 1, "{events}");
    hub.shutdown().await;
}
