//! `gas_alarm` edges with hysteresis, the alarm switch, and `sensor_fault` once per onset.

mod common;

use common::*;
use embassy_futures::block_on;
use iot_core::codec::Method;
use iot_core::topic::TopicKind;
use iot_runtime::testing::VirtualClock;
use sensors::suite::{Faults, SensorFault, SensorId};
use sensors::ErrorKind;

fn events(
    rt: &Rt<'_, iot_runtime::testing::ScriptedSensors, 8>,
    id: &str,
) -> Vec<serde_json::Value> {
    rt.transport()
        .broker()
        .published(TopicKind::EVENT_UP)
        .filter(|r| r.method() == Some(Method::EventPost))
        .map(|r| json(r.text()))
        .filter(|e| e["eventId"] == id)
        .collect()
}

/// Sets the MQ-2 reading and runs two samples (10 s).
fn smoke(rt: &mut Rt<'_, iot_runtime::testing::ScriptedSensors, 8>, ppm: f32, until: u64) {
    rt.sensors_mut().mq2_ppm = ppm;
    block_on(rt.run_until(until));
}

#[test]
fn gas_alarm_is_edge_triggered_with_hysteresis() {
    big_stack(|| {
        let clock = VirtualClock::new(0);
        let mut rt = runtime::<_, 8>(&clock, cloud(), scripted(), |_| {});
        smoke(&mut rt, 100.0, 9_000);
        assert!(events(&rt, "gas_alarm").is_empty());
        assert!(!rt.actuators().alarm);

        // Above the threshold (1000): one alarm, however long it stays there.
        smoke(&mut rt, 1_200.0, 39_000);
        let alarms = events(&rt, "gas_alarm");
        assert_eq!(alarms.len(), 1);
        assert_eq!(alarms[0]["type"], "alert");
        assert_eq!(
            alarms[0]["params"],
            serde_json::json!({"sensor":"MQ2","value":1200,"threshold":1000})
        );
        assert!(alarms[0]["timestamp"].as_u64().unwrap() > 1_700_000_000_000);
        assert!(rt.actuators().alarm);
        assert!(rt.alarm_active());

        // Below the threshold but within the 100 ppm hysteresis: still latched, no new alarm after rising again.
        smoke(&mut rt, 950.0, 49_000);
        assert!(rt.actuators().alarm);
        smoke(&mut rt, 1_300.0, 59_000);
        assert_eq!(events(&rt, "gas_alarm").len(), 1);

        // Below threshold − hysteresis: re-armed and the output released; the next crossing alarms again.
        smoke(&mut rt, 850.0, 69_000);
        assert!(!rt.actuators().alarm);
        assert!(!rt.alarm_active());
        smoke(&mut rt, 1_100.0, 79_000);
        let alarms = events(&rt, "gas_alarm");
        assert_eq!(alarms.len(), 2);
        assert_eq!(alarms[1]["params"]["value"], 1100);
        assert_eq!(rt.actuators().alarm_switches, 3, "on, off, on");
        assert_eq!(rt.observer_mut().count("AlarmRaised"), 2);
        assert_eq!(rt.observer_mut().count("AlarmCleared"), 1);
        // Events leave the queue on their event_reply.
        assert_eq!(rt.queue_len(), 0);
    });
}

#[test]
fn threshold_follows_controls() {
    big_stack(|| {
        let clock = VirtualClock::new(0);
        let mut rt = runtime::<_, 8>(&clock, cloud(), scripted(), |_| {});
        smoke(&mut rt, 700.0, 9_000);
        assert!(events(&rt, "gas_alarm").is_empty());
        let control = r#"{"method":"control","clientToken":"t","params":{"smoke_threshold":500}}"#;
        assert!(iot_runtime::testing::Mailbox::deliver(
            rt.transport_mut().inbox_mut(),
            9_500,
            &topic(TopicKind::PROPERTY_DOWN),
            control.as_bytes()
        ));
        block_on(rt.run_until(16_000));
        let alarms = events(&rt, "gas_alarm");
        assert_eq!(alarms.len(), 1);
        assert_eq!(alarms[0]["params"]["threshold"], 500);
    });
}

#[test]
fn disabled_alarm_posts_nothing_and_disabling_releases_the_output() {
    big_stack(|| {
        let clock = VirtualClock::new(0);
        let mut rt = runtime::<_, 8>(&clock, cloud(), scripted(), |c| {
            c.initial.alarm_enabled = false
        });
        smoke(&mut rt, 5_000.0, 30_000);
        assert!(events(&rt, "gas_alarm").is_empty());
        assert_eq!(rt.actuators().alarm_switches, 0);

        // Enabled with smoke present: it alarms; disabled again: the output drops at once, with no new event.
        let enable = r#"{"method":"control","clientToken":"on","params":{"alarm_enabled":1}}"#;
        let disable = r#"{"method":"control","clientToken":"off","params":{"alarm_enabled":0}}"#;
        let property_down = topic(TopicKind::PROPERTY_DOWN);
        let inbox = rt.transport_mut().inbox_mut();
        assert!(iot_runtime::testing::Mailbox::deliver(
            inbox,
            30_100,
            &property_down,
            enable.as_bytes()
        ));
        block_on(rt.run_until(36_000));
        assert_eq!(events(&rt, "gas_alarm").len(), 1);
        assert!(rt.actuators().alarm);
        let inbox = rt.transport_mut().inbox_mut();
        assert!(iot_runtime::testing::Mailbox::deliver(
            inbox,
            36_100,
            &property_down,
            disable.as_bytes()
        ));
        block_on(rt.run_until(36_200));
        assert!(!rt.actuators().alarm);
        block_on(rt.run_until(60_000));
        assert_eq!(events(&rt, "gas_alarm").len(), 1);
    });
}

#[test]
fn warming_up_readings_never_alarm() {
    big_stack(|| {
        let clock = VirtualClock::new(0);
        let mut sensors = scripted();
        sensors.warming_up = true;
        sensors.mq2_ppm = 8_000.0;
        let mut rt = runtime::<_, 8>(&clock, cloud(), sensors, |_| {});
        block_on(rt.run_until(30_000));
        assert!(events(&rt, "gas_alarm").is_empty());
        // They are still reported, clamped to the model's range (0..=10000).
        rt.sensors_mut().mq2_ppm = 25_000.0;
        block_on(rt.run_until(36_000));
        let last = rt
            .transport()
            .broker()
            .published(TopicKind::PROPERTY_UP)
            .filter(|r| r.method() == Some(Method::Report))
            .last()
            .map(|r| json(r.text()))
            .unwrap();
        assert_eq!(last["params"]["MQ2"], 10_000);
    });
}

#[test]
fn sensor_fault_is_posted_once_per_onset() {
    big_stack(|| {
        let clock = VirtualClock::new(0);
        let mut rt = runtime::<_, 8>(&clock, cloud(), scripted(), |_| {});
        block_on(rt.run_until(4_000));
        let mut faults = Faults::new();
        faults.push(SensorFault {
            sensor: SensorId::Dht11,
            kind: ErrorKind::Timeout,
        });
        rt.sensors_mut().faults = faults;
        block_on(rt.run_until(24_000));
        let posted = events(&rt, "sensor_fault");
        assert_eq!(posted.len(), 1, "four failing samples, one onset");
        assert_eq!(posted[0]["type"], "fault");
        assert_eq!(
            posted[0]["params"],
            serde_json::json!({"sensor":"DHT11","error_code":2})
        );
        // The failing sensor's values are left out of the reports meanwhile.
        let last = rt
            .transport()
            .broker()
            .published(TopicKind::PROPERTY_UP)
            .filter(|r| r.method() == Some(Method::Report))
            .last()
            .map(|r| json(r.text()))
            .unwrap();
        assert!(last["params"].get("DHT11_T").is_none());
        assert_eq!(last["params"]["MQ2"], 100);

        // "Not ready" neither ends nor starts a failure.
        let mut not_ready = Faults::new();
        not_ready.push(SensorFault {
            sensor: SensorId::Dht11,
            kind: ErrorKind::NotReady,
        });
        rt.sensors_mut().faults = not_ready;
        block_on(rt.run_until(34_000));
        rt.sensors_mut().faults = faults;
        block_on(rt.run_until(44_000));
        assert_eq!(events(&rt, "sensor_fault").len(), 1);

        // Recovery, then a new failure: a second event. Every sensor failing: no report, an event per sensor.
        rt.sensors_mut().faults = Faults::new();
        block_on(rt.run_until(54_000));
        rt.sensors_mut().faults = faults;
        block_on(rt.run_until(64_000));
        assert_eq!(events(&rt, "sensor_fault").len(), 2);
        let reports_before = rt.stats().reports_queued;
        let mut all = Faults::new();
        for sensor in SensorId::ALL {
            all.push(SensorFault {
                sensor,
                kind: ErrorKind::Bus,
            });
        }
        rt.sensors_mut().faults = all;
        rt.sensors_mut().fail_all = true;
        block_on(rt.run_until(74_000));
        assert_eq!(rt.stats().reports_queued, reports_before);
        // DHT11 was already failing; the four MQ sensors start now.
        assert_eq!(events(&rt, "sensor_fault").len(), 6);
        assert_eq!(rt.observer_mut().count("SensorFault"), 6);
    });
}
