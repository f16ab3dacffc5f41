//! Restart persistence: a hub restarted on the same database file keeps its registry and device data.

use hub::{Database, HubConfig};
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn registry_and_data_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let config = HubConfig {
        database: Database::File(dir.path().join("hub.db")),
        ..HubConfig::ephemeral()
    };

    let hub = start(config.clone()).await;
    let (_, body) = post(
        &hub,
        "/api/products/CS0SLTKSYA/devices",
        &json!({"name":"dev9"}),
    )
    .await;
    let psk = body["psk"].as_str().unwrap().to_owned();
    let mut dev1 = Device::dev1(&hub).await;
    let reply = dev1
        .property(json!({"method":"report","params":{"MQ2":42}}))
        .await;
    assert_eq!(reply["code"], 0);
    let alarm = json!({"method":"event_post","eventId":"gas_alarm","params":{"sensor":"MQ2","value":42,"threshold":1}});
    assert_eq!(dev1.event(alarm).await["code"], 0);
    drop(dev1);
    let (status, _) = post(
        &hub,
        "/api/devices/CS0SLTKSYA/dev1/control",
        &json!({"params":{"report_interval":30}}),
    )
    .await;
    assert_eq!(status, 202, "dev1 is offline, so the control is pending");
    hub.shutdown().await;

    // Same file, new hub: the demo is not provisioned twice, and everything acknowledged is there.
    let hub = start(config).await;
    let (_, state) = get(&hub, "/api/devices/CS0SLTKSYA/dev1").await;
    assert_eq!(state["reported"]["MQ2"], 42, "{state}");
    assert_eq!(state["pending_control"], json!({"report_interval":30}));
    let (_, events) = get(&hub, "/api/devices/CS0SLTKSYA/dev1/events").await;
    assert_eq!(events["events"][0]["eventId"], "gas_alarm");
    let mut dev9 = Device::connect(hub.mqtt_addr(), "dev9", &good("dev9", &psk))
        .await
        .expect("dev9 still registered");
    dev9.subscribe_own().await;
    let reply = dev9.property(json!({"method":"get_status"})).await;
    assert_eq!(reply["code"], 0);
    hub.shutdown().await;
}
