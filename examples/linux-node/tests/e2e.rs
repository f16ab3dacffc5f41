//! End to end: the node (runtime + rumqttc transport + simulated sensors, as `cargo run -p linux-node` wires them)
//! against an in-process hub on 127.0.0.1, driven through the hub's HTTP API. Every wait is bounded and awaits an
//! event; nothing sleeps for a fixed time.

mod common;

use std::time::{Duration, Instant};

use common::*;
use linux_node::events::NodeEvent;
use linux_node::simulated;
use sensors::sim::Event;
use serde_json::{json, Value};

#[tokio::test]
async fn reports_reach_the_hub_state() {
    let hub = start_hub().await;
    let (mut node, _sim) = start_node(hub.mqtt_addr(), tuning(1));

    let report = expect(&mut node, "published report", SOON, is_report).await;
    let NodeEvent::Published { payload, .. } = &report else {
        unreachable!()
    };
    let token = payload["clientToken"].as_str().unwrap().to_owned();
    let reply = expect(&mut node, "report_reply", SOON, report_accepted).await;
    assert!(
        matches!(&reply, NodeEvent::Answered { client_token, .. } if *client_token == token),
        "the first reply should answer the first report: {reply:?}"
    );

    let state = get(hub.http_addr(), &format!("/api/devices/{DEVICE}"));
    assert_eq!(state["online"], json!(true), "{state}");
    let sent = params(&report);
    for property in ["MQ2", "MQ135", "MQ4", "MQ7", "DHT11_T", "DHT11_H"] {
        assert!(
            sent.get(property).is_some(),
            "the report lacks {property}: {sent}"
        );
        assert_eq!(
            state["reported"][property], sent[property],
            "{property}: hub state {state} vs report {sent}"
        );
    }
    // The runtime's own properties are reported too.
    assert_eq!(state["reported"]["report_interval"], json!(1));
    assert_eq!(state["reported"]["alarm_enabled"], json!(1));
    // report_info reached the registry.
    assert_eq!(
        state["info"]["fw_ver"],
        json!(linux_node::node::FIRMWARE_VERSION),
        "{state}"
    );

    let summary = stop(node).await;
    assert_eq!(summary.undelivered, 0);
    hub.shutdown().await;
}

/// Real time between consecutive published reports, over the next `count` intervals.
async fn report_gaps(node: &mut linux_node::node::RunningNode, count: usize) -> Vec<Duration> {
    let mut last = None;
    let mut gaps = Vec::new();
    while gaps.len() < count {
        expect(node, "published report", SOON, is_report).await;
        let now = Instant::now();
        if let Some(previous) = last.replace(now) {
            gaps.push(now - previous);
        }
    }
    gaps
}

#[tokio::test]
async fn a_report_interval_control_changes_the_cadence() {
    let hub = start_hub().await;
    let (mut node, _sim) = start_node(hub.mqtt_addr(), tuning(1));
    expect(&mut node, "report_reply", SOON, report_accepted).await;

    let before = report_gaps(&mut node, 2).await;
    for gap in &before {
        assert!(
            (Duration::from_millis(700)..Duration::from_millis(1500)).contains(gap),
            "at report_interval 1 reports should be ~1 s apart: {before:?}"
        );
    }

    let (status, answer) = post(
        hub.http_addr(),
        &format!("/api/devices/{DEVICE}/control"),
        &json!({"params": {"report_interval": 3}}),
    );
    assert_eq!((status, &answer["code"]), (200, &json!(0)), "{answer}");
    expect(&mut node, "settings change", SOON, |e| {
        matches!(
            e,
            NodeEvent::SettingsChanged {
                report_interval_ms: 3000,
                ..
            }
        )
    })
    .await;

    // The first report after the control may still be on the old schedule; the ones after it are not.
    let after = report_gaps(&mut node, 3).await;
    for gap in after.iter().skip(1) {
        assert!(
            (Duration::from_millis(2500)..Duration::from_millis(3700)).contains(gap),
            "at report_interval 3 reports should be ~3 s apart: {after:?}"
        );
    }
    let state = get(hub.http_addr(), &format!("/api/devices/{DEVICE}"));
    assert_eq!(state["reported"]["report_interval"], json!(3), "{state}");

    // A value outside the model's range is refused by the hub before it reaches the device.
    let (status, answer) = post(
        hub.http_addr(),
        &format!("/api/devices/{DEVICE}/control"),
        &json!({"params": {"report_interval": 0}}),
    );
    assert_eq!((status, &answer["code"]), (400, &json!(406)), "{answer}");

    stop(node).await;
    hub.shutdown().await;
}

#[tokio::test]
async fn smoke_raises_gas_alarm_only_while_the_alarm_is_enabled() {
    let hub = start_hub().await;
    let (mut node, sim) = start_node(hub.mqtt_addr(), tuning(1));
    expect(&mut node, "report_reply", SOON, report_accepted).await;

    let (status, answer) = post(
        hub.http_addr(),
        &format!("/api/devices/{DEVICE}/control"),
        &json!({"params": {"alarm_enabled": 0}}),
    );
    assert_eq!((status, &answer["code"]), (200, &json!(0)), "{answer}");
    expect(&mut node, "alarm switched off", SOON, |e| {
        matches!(
            e,
            NodeEvent::SettingsChanged {
                alarm_enabled: false,
                ..
            }
        )
    })
    .await;

    // Smoke well above the 1000 ppm threshold within a second, for minutes.
    simulated::inject(
        &sim,
        0,
        Event::SmokeSpike {
            peak_ppm: 4000.0,
            rise_ms: 500,
            decay_ms: 600_000,
        },
    );
    // Two smoky reports go out and no alarm is raised.
    let mut smoky = 0;
    while smoky < 2 {
        let event = expect(&mut node, "smoky report", SOON, |e| {
            is_report(e) || matches!(e, NodeEvent::AlarmRaised { .. })
        })
        .await;
        assert!(
            !matches!(event, NodeEvent::AlarmRaised { .. }),
            "the alarm is disabled"
        );
        let mq2 = params(&event)["MQ2"].as_u64().unwrap();
        if mq2 > 1000 {
            assert_eq!(params(&event)["alarm_enabled"], json!(0));
            smoky += 1;
        }
    }
    let events = get(hub.http_addr(), &format!("/api/devices/{DEVICE}/events"));
    assert_eq!(events["events"], json!([]), "{events}");

    // Switching the alarm on with smoke present raises it at the next sample.
    let (status, answer) = post(
        hub.http_addr(),
        &format!("/api/devices/{DEVICE}/control"),
        &json!({"params": {"alarm_enabled": 1}}),
    );
    assert_eq!((status, &answer["code"]), (200, &json!(0)), "{answer}");
    let raised = expect(&mut node, "gas alarm", SOON, |e| {
        matches!(e, NodeEvent::AlarmRaised { .. })
    })
    .await;
    let NodeEvent::AlarmRaised {
        value_ppm,
        threshold_ppm,
    } = raised
    else {
        unreachable!()
    };
    assert_eq!(threshold_ppm, 1000);
    assert!(value_ppm > 1000);
    expect(
        &mut node,
        "event_reply",
        SOON,
        |e| matches!(e, NodeEvent::Answered { method, code: 0, .. } if method == "event_reply"),
    )
    .await;

    let events = get(hub.http_addr(), &format!("/api/devices/{DEVICE}/events"));
    let list = events["events"].as_array().unwrap();
    assert_eq!(
        list.len(),
        1,
        "exactly one gas_alarm (edge-triggered): {events}"
    );
    let alarm = &list[0];
    assert_eq!(alarm["eventId"], json!("gas_alarm"), "{alarm}");
    assert_eq!(alarm["type"], json!("alert"), "{alarm}");
    assert_eq!(alarm["params"]["sensor"], json!("MQ2"), "{alarm}");
    assert_eq!(alarm["params"]["threshold"], json!(1000), "{alarm}");
    assert_eq!(alarm["params"]["value"], json!(value_ppm), "{alarm}");

    // Further smoky samples do not raise it again.
    for _ in 0..2 {
        let event = expect(&mut node, "report", SOON, |e| {
            is_report(e) || matches!(e, NodeEvent::AlarmRaised { .. })
        })
        .await;
        assert!(is_report(&event), "raised twice: {event:?}");
    }

    stop(node).await;
    hub.shutdown().await;
}

#[tokio::test]
async fn the_calibrate_action_round_trips_through_the_api() {
    let hub = start_hub().await;
    let (mut node, _sim) = start_node(hub.mqtt_addr(), tuning(5));
    expect(&mut node, "report_reply", SOON, report_accepted).await;

    let (status, answer) = post(
        hub.http_addr(),
        &format!("/api/devices/{DEVICE}/actions/calibrate"),
        &json!({"params": {"sensor": "MQ2"}}),
    );
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["code"], json!(0), "{answer}");
    assert_eq!(answer["response"]["result"], json!(0), "{answer}");
    // The simulated MQ-2's true R0 is 9.8 kΩ (sensors::sim::SimConfig), drifting 0.2 %/day.
    let r0 = answer["response"]["r0"].as_f64().unwrap();
    assert!((9.0..10.6).contains(&r0), "r0 {r0} kΩ: {answer}");
    expect(
        &mut node,
        "action event",
        SOON,
        |e| matches!(e, NodeEvent::Action { action_id, code: 0 } if action_id == "calibrate"),
    )
    .await;

    // An input outside the model is refused by the hub with the model's code.
    let (status, answer) = post(
        hub.http_addr(),
        &format!("/api/devices/{DEVICE}/actions/calibrate"),
        &json!({"params": {"sensor": "MQ9"}}),
    );
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["code"], json!(406), "{answer}");

    stop(node).await;
    hub.shutdown().await;
}

#[tokio::test]
async fn a_control_sent_while_offline_is_applied_at_connect() {
    let hub = start_hub().await;
    // The device has never connected: the hub keeps the control as pending (protocol.md §4.3 get_status).
    let (status, answer) = post(
        hub.http_addr(),
        &format!("/api/devices/{DEVICE}/control"),
        &json!({"params": {"smoke_threshold": 1500}}),
    );
    assert_eq!(
        (status, &answer["pending"]),
        (202, &json!(true)),
        "{answer}"
    );

    let (mut node, _sim) = start_node(hub.mqtt_addr(), tuning(1));
    let applied = expect(&mut node, "pending control", SOON, |e| {
        matches!(e, NodeEvent::PendingControl { .. })
    })
    .await;
    assert!(
        matches!(&applied, NodeEvent::PendingControl { code: 0, params } if params["smoke_threshold"] == json!(1500)),
        "{applied:?}"
    );
    // The next report carries the new threshold, and the hub no longer holds the control.
    let report = expect(&mut node, "report with the new threshold", SOON, |e| {
        is_report(e) && params(e)["smoke_threshold"] == json!(1500)
    })
    .await;
    assert!(is_report(&report));
    expect(&mut node, "report_reply", SOON, report_accepted).await;
    let state = get(hub.http_addr(), &format!("/api/devices/{DEVICE}"));
    assert_eq!(state["pending_control"], json!({}), "{state}");
    assert_eq!(state["reported"]["smoke_threshold"], json!(1500), "{state}");

    stop(node).await;
    hub.shutdown().await;
}

#[tokio::test]
async fn stopping_flushes_and_disconnects() {
    let hub = start_hub().await;
    let (mut node, _sim) = start_node(hub.mqtt_addr(), tuning(1));
    expect(&mut node, "report_reply", SOON, report_accepted).await;
    let summary = stop(node).await;
    assert_eq!(summary.undelivered, 0);
    assert_eq!(summary.stats.gave_up, 0);
    assert!(summary.stats.answered >= 1);
    // The hub sees the device leave.
    let deadline = Instant::now() + SOON;
    loop {
        let devices = get(hub.http_addr(), "/api/devices");
        let online = devices
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["device_name"] == json!("dev1"))
            .map(|d| d["online"].clone());
        if online == Some(Value::Bool(false)) {
            break;
        }
        assert!(Instant::now() < deadline, "still online: {devices}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    hub.shutdown().await;
}
