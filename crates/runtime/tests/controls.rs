//! Controls, pending controls at boot, and actions: validation against the thing model, application, replies
//! with the cloud's token.

mod common;

use common::*;
use embassy_futures::block_on;
use iot_core::codec::Method;
use iot_core::topic::TopicKind;
use iot_runtime::testing::{Mailbox, ScriptedSensors, VirtualClock};
use iot_runtime::Settings;
use sensors::suite::{GasSensorId, SensorFault, SensorId};

/// Delivers `payload` on `kind` at `at`, runs until `at + 1 s` and returns the replies published since `at`.
fn exchange<S: sensors::suite::EnvironmentSensors, const N: usize>(
    rt: &mut Rt<'_, S, N>,
    kind: TopicKind,
    payload: &str,
    at: u64,
    reply_kind: TopicKind,
    method: Method,
) -> Vec<serde_json::Value> {
    assert!(rt
        .transport_mut()
        .inbox_mut()
        .deliver(at, &topic(kind), payload.as_bytes()));
    block_on(rt.run_until(at + 1_000));
    rt.transport()
        .broker()
        .published(reply_kind)
        .filter(|r| r.at_ms >= at && r.method() == Some(method))
        .map(|r| json(r.text()))
        .collect()
}

fn control_reply<S: sensors::suite::EnvironmentSensors, const N: usize>(
    rt: &mut Rt<'_, S, N>,
    payload: &str,
    at: u64,
) -> serde_json::Value {
    let replies = exchange(
        rt,
        TopicKind::PROPERTY_DOWN,
        payload,
        at,
        TopicKind::PROPERTY_UP,
        Method::ControlReply,
    );
    assert_eq!(replies.len(), 1, "{replies:?}");
    replies.into_iter().next().unwrap()
}

const DEFAULTS: Settings = Settings {
    report_interval_ms: 5_000,
    smoke_threshold_ppm: 1000,
    alarm_enabled: true,
};

#[test]
fn shared_control_sample_is_applied_and_answered_with_its_token() {
    big_stack(|| {
        let clock = VirtualClock::new(0);
        let mut rt = runtime::<_, 8>(&clock, cloud(), scripted(), |_| {});
        block_on(rt.run_until(2_000));
        assert_eq!(rt.settings(), DEFAULTS);
        let reply = control_reply(&mut rt, &sample("control"), 2_500);
        assert_eq!(
            reply["clientToken"],
            "clientToken-2fd030d1-8c1e-4b7a-9f20-6d3c5a1b7e44"
        );
        assert_eq!(reply["code"], 0);
        assert_eq!(
            rt.settings(),
            Settings {
                report_interval_ms: 10_000,
                smoke_threshold_ppm: 1500,
                alarm_enabled: false
            }
        );
        assert_eq!(rt.stats().controls_applied, 1);
        assert_eq!(rt.observer_mut().count("SettingsChanged"), 1);
        // Runtime-owned properties never reach the firmware hook.
        assert!(rt.actuators().applied.is_empty());
    });
}

#[test]
fn escaped_tokens_are_echoed_byte_for_byte() {
    big_stack(|| {
        let clock = VirtualClock::new(0);
        let mut rt = runtime::<_, 8>(&clock, cloud(), scripted(), |_| {});
        block_on(rt.run_until(2_000));
        let control = r#"{"method":"control","clientToken":"146761681::a\"b\u00e9","params":{"smoke_threshold":1200}}"#;
        assert!(rt.transport_mut().inbox_mut().deliver(
            2_500,
            &topic(TopicKind::PROPERTY_DOWN),
            control.as_bytes()
        ));
        block_on(rt.run_until(3_000));
        let reply = rt
            .transport()
            .broker()
            .published(TopicKind::PROPERTY_UP)
            .find(|r| r.method() == Some(Method::ControlReply))
            .unwrap()
            .text()
            .to_owned();
        assert!(
            reply.contains(r#""clientToken":"146761681::a\"b\u00e9""#),
            "{reply}"
        );
        assert_eq!(rt.settings().smoke_threshold_ppm, 1200);
    });
}

#[test]
fn refused_controls_apply_nothing_and_carry_the_model_code() {
    big_stack(|| {
        let clock = VirtualClock::new(0);
        let mut rt = runtime::<_, 8>(&clock, cloud(), scripted(), |_| {});
        block_on(rt.run_until(2_000));
        let cases = [
            // 403: not in the model.
            (r#"{"power_switch":1}"#, 403),
            // 403: read-only; the valid smoke_threshold before it is not applied either.
            (r#"{"smoke_threshold":1500,"MQ2":5}"#, 403),
            // 406: out of range, and wrong type.
            (r#"{"report_interval":0}"#, 406),
            (r#"{"alarm_enabled":1,"smoke_threshold":20000}"#, 406),
            (r#"{"report_interval":"fast"}"#, 406),
        ];
        let mut at = 2_500;
        for (params, code) in cases {
            let payload =
                format!(r#"{{"method":"control","clientToken":"ct-{at}","params":{params}}}"#);
            let reply = control_reply(&mut rt, &payload, at);
            assert_eq!(reply["code"], code, "{params}");
            assert_eq!(reply["clientToken"], format!("ct-{at}"));
            assert!(reply["status"].as_str().is_some_and(|s| !s.is_empty()));
            assert_eq!(rt.settings(), DEFAULTS, "nothing applied for {params}");
            at += 1_000;
        }
        assert!(rt.actuators().applied.is_empty());
        assert_eq!(rt.stats().controls_refused, 5);
        assert_eq!(rt.stats().controls_applied, 0);
        assert_eq!(rt.observer_mut().count("SettingsChanged"), 0);
    });
}

#[test]
fn report_interval_control_changes_the_cadence() {
    big_stack(|| {
        let clock = VirtualClock::new(0);
        let mut rt = runtime::<_, 8>(&clock, cloud(), scripted(), |_| {});
        block_on(rt.run_until(20_500));
        let control = r#"{"method":"control","clientToken":"c1","params":{"report_interval":1}}"#;
        assert_eq!(control_reply(&mut rt, control, 20_500)["code"], 0);
        block_on(rt.run_until(26_000));
        let times: Vec<u64> = rt
            .transport()
            .broker()
            .published(TopicKind::PROPERTY_UP)
            .filter(|r| r.method() == Some(Method::Report))
            .map(|r| r.at_ms)
            .collect();
        // Every 5 s up to 20 s; the last sample was at 20 s, so the next is due at 21 s, then every second.
        assert_eq!(
            &times[1..],
            [5_000, 10_000, 15_000, 20_000, 21_000, 22_000, 23_000, 24_000, 25_000]
        );
        let last = rt
            .transport()
            .broker()
            .published(TopicKind::PROPERTY_UP)
            .filter(|r| r.method() == Some(Method::Report))
            .last()
            .map(|r| json(r.text()))
            .unwrap();
        assert_eq!(last["params"]["report_interval"], 1);

        // Back to an hour: counted from the last sample.
        let control =
            r#"{"method":"control","clientToken":"c2","params":{"report_interval":3600}}"#;
        assert_eq!(control_reply(&mut rt, control, 26_100)["code"], 0);
        let before = rt.stats().samples;
        block_on(rt.run_until(3_000_000));
        assert_eq!(rt.stats().samples, before, "no sample before 3626 s");
        block_on(rt.run_until(3_626_001));
        assert_eq!(rt.stats().samples, before + 1);
    });
}

#[test]
fn other_properties_go_to_the_firmware_which_may_refuse() {
    // A model with one more controllable property than the runtime owns.
    let model: &'static str = Box::leak(
        model_text()
            .replacen(
                r#""properties": ["#,
                r#""properties": [{"id":"fan","name":"fan","mode":"rw","define":{"type":"bool","mapping":{"0":"off","1":"on"}}},"#,
                1,
            )
            .into_boxed_str(),
    );
    big_stack(move || {
        let clock = VirtualClock::new(0);
        let mut rt = runtime::<_, 8>(&clock, cloud(), scripted(), |c| {
            c.model = iot_core::model::ThingModel::parse(model).unwrap();
        });
        block_on(rt.run_until(2_000));
        let ok =
            r#"{"method":"control","clientToken":"f1","params":{"fan":1,"smoke_threshold":900}}"#;
        assert_eq!(control_reply(&mut rt, ok, 2_000)["code"], 0);
        assert_eq!(rt.actuators().applied.len(), 1);
        assert_eq!(rt.actuators().applied[0].0.as_str(), "fan");
        assert_eq!(rt.actuators().applied[0].1.as_str(), "1");
        assert_eq!(rt.settings().smoke_threshold_ppm, 900);

        rt.actuators_mut().refuse = true;
        let refused = r#"{"method":"control","clientToken":"f2","params":{"fan":0}}"#;
        let reply = control_reply(&mut rt, refused, 4_000);
        assert_eq!(reply["code"], -1, "the firmware failed (eDEAL_FAIL)");
        assert!(reply["status"].as_str().unwrap().starts_with("fan:"));
    });
}

#[test]
fn pending_control_at_boot_is_applied_then_cleared_with_the_same_token() {
    big_stack(|| {
        let clock = VirtualClock::new(0);
        let mut cloud = cloud();
        cloud.pending_control =
            Some(r#"{"smoke_threshold":1500,"alarm_enabled":0}"#.try_into().unwrap());
        let mut rt = runtime::<_, 8>(&clock, cloud, scripted(), |_| {});
        block_on(rt.run_until(2_000));
        assert_eq!(
            rt.settings(),
            Settings {
                report_interval_ms: 5_000,
                smoke_threshold_ppm: 1500,
                alarm_enabled: false
            }
        );
        let cloud = rt.transport().broker();
        let property_up: Vec<_> = cloud.published(TopicKind::PROPERTY_UP).collect();
        let get_status = property_up
            .iter()
            .position(|r| r.method() == Some(Method::GetStatus))
            .unwrap();
        let clear = property_up
            .iter()
            .position(|r| r.method() == Some(Method::ClearControl))
            .unwrap();
        assert!(clear > get_status);
        let token = property_up[get_status].client_token().unwrap();
        assert_eq!(
            property_up[clear].client_token(),
            Some(token),
            "clear_control reuses the get_status token"
        );
        assert_eq!(cloud.cleared_with.len(), 1);
        assert_eq!(cloud.cleared_with[0].as_str(), token);
        assert!(cloud.pending_control.is_none());
        assert_eq!(rt.observer_mut().count("PendingControl"), 1);

        // A reconnect asks again; nothing is pending, so nothing is cleared.
        rt.transport_mut()
            .broker_mut()
            .outages
            .push((10_000, 12_000))
            .unwrap();
        block_on(rt.run_until(40_000));
        let cloud = rt.transport().broker();
        assert_eq!(
            cloud
                .published(TopicKind::PROPERTY_UP)
                .filter(|r| r.method() == Some(Method::GetStatus))
                .count(),
            2
        );
        assert_eq!(
            cloud
                .published(TopicKind::PROPERTY_UP)
                .filter(|r| r.method() == Some(Method::ClearControl))
                .count(),
            1
        );
    });
}

#[test]
fn invalid_pending_control_is_not_applied_but_cleared() {
    big_stack(|| {
        let clock = VirtualClock::new(0);
        let mut cloud = cloud();
        cloud.pending_control = Some(r#"{"smoke_threshold":99999}"#.try_into().unwrap());
        let mut rt = runtime::<_, 8>(&clock, cloud, scripted(), |_| {});
        block_on(rt.run_until(2_000));
        assert_eq!(rt.settings(), DEFAULTS);
        assert!(
            rt.transport().broker().pending_control.is_none(),
            "cleared, so it is not redelivered forever"
        );
        assert!(rt
            .observer_mut()
            .0
            .iter()
            .any(|e| e.starts_with("PendingControl") && e.contains("InvalidValue")));
    });
}

#[test]
fn calibrate_action_round_trips_with_its_outputs() {
    big_stack(|| {
        let clock = VirtualClock::new(0);
        let mut rt = runtime::<_, 8>(&clock, cloud(), scripted(), |_| {});
        block_on(rt.run_until(2_000));
        let replies = exchange(
            &mut rt,
            TopicKind::ACTION_DOWN,
            &sample("action"),
            2_000,
            TopicKind::ACTION_UP,
            Method::ActionReply,
        );
        assert_eq!(replies.len(), 1);
        let reply = &replies[0];
        assert_eq!(reply["clientToken"], "20a4ccfd-d308-11e9-86c6-5254008a4f10");
        assert_eq!(reply["code"], 0);
        assert_eq!(reply["response"]["r0"], 9.83);
        assert_eq!(reply["response"]["result"], 0);
        assert_eq!(rt.sensors().calibrated, Some((GasSensorId::Mq2, 2_000)));

        // A failed calibration still answers, with result 1 and the reason.
        rt.sensors_mut().calibration = Err(SensorFault {
            sensor: SensorId::Mq7,
            kind: sensors::ErrorKind::NotReady,
        });
        let action = r#"{"method":"action","clientToken":"a2","actionId":"calibrate","timestamp":1,"params":{"sensor":"MQ7"}}"#;
        let reply = &exchange(
            &mut rt,
            TopicKind::ACTION_DOWN,
            action,
            4_000,
            TopicKind::ACTION_UP,
            Method::ActionReply,
        )[0];
        assert_eq!(reply["code"], 0);
        assert_eq!(reply["response"]["result"], 1);
        assert!(reply["status"].as_str().unwrap().contains("MQ7"));

        // The model refuses a sensor outside the mapping (406) and an unknown action (403); nothing runs.
        rt.sensors_mut().calibrated = None;
        let bad_input = r#"{"method":"action","clientToken":"a3","actionId":"calibrate","params":{"sensor":"DHT11"}}"#;
        let reply = &exchange(
            &mut rt,
            TopicKind::ACTION_DOWN,
            bad_input,
            6_000,
            TopicKind::ACTION_UP,
            Method::ActionReply,
        )[0];
        assert_eq!(reply["code"], 406);
        assert_eq!(reply["response"], serde_json::json!({}));
        let unknown = r#"{"method":"action","clientToken":"a4","actionId":"openDoor","params":{}}"#;
        let reply = &exchange(
            &mut rt,
            TopicKind::ACTION_DOWN,
            unknown,
            8_000,
            TopicKind::ACTION_UP,
            Method::ActionReply,
        )[0];
        assert_eq!(reply["code"], 403);
        assert_eq!(reply["clientToken"], "a4");
        assert_eq!(rt.sensors().calibrated, None);
        assert_eq!(rt.stats().actions, 4);
    });
}

#[test]
fn messages_for_other_devices_and_garbage_are_ignored() {
    big_stack(|| {
        let clock = VirtualClock::new(0);
        let mut rt = runtime::<_, 8>(&clock, cloud(), ScriptedSensors::default(), |_| {});
        block_on(rt.run_until(2_000));
        let (pid, _, _) = device();
        let control = r#"{"method":"control","clientToken":"x","params":{"smoke_threshold":1}}"#;
        let other = format!("$thing/down/property/{pid}/someone_else");
        assert!(rt
            .transport_mut()
            .inbox_mut()
            .deliver(2_100, &other, control.as_bytes()));
        assert!(rt.transport_mut().inbox_mut().deliver(
            2_200,
            &topic(TopicKind::PROPERTY_DOWN),
            b"not json"
        ));
        block_on(rt.run_until(3_000));
        assert_eq!(rt.settings(), DEFAULTS);
        assert_eq!(rt.stats().ignored, 2);
        assert!(rt
            .transport()
            .broker()
            .published(TopicKind::PROPERTY_UP)
            .all(|r| r.method() != Some(Method::ControlReply)));
    });
}
