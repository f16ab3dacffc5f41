//! Thing-model parsing and validation against the shared models and message samples (protocol.md §4.4, §5).

use iot_core::json::{Object, Value};
use iot_core::model::{EventType, Mode, ModelError, ThingModel, TypeKind, Violation};
use proptest::prelude::*;

const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared");

fn read(rel: &str) -> String {
    let path = format!("{SHARED}/{rel}");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

fn obj(text: &str) -> Object<'_> {
    Value::parse_str(text).unwrap().as_object().unwrap()
}

#[test]
fn shipped_model_is_the_shared_one() {
    let ours = include_str!("../../../models/env-monitor.json");
    let shared: serde_json::Value = serde_json::from_str(&read("models/env-monitor.json")).unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(ours).unwrap(),
        shared
    );
}

#[test]
fn all_types_model_parses_with_every_type() {
    let text = read("models/all-types.json");
    let model = ThingModel::parse(&text).unwrap();
    assert_eq!(model.product_id(), Some("0BCDALFUO8"));
    let kinds: Vec<TypeKind> = model.properties().map(|p| p.data_type().kind()).collect();
    for kind in [
        TypeKind::Bool,
        TypeKind::Int,
        TypeKind::Float,
        TypeKind::Enum,
        TypeKind::String,
        TypeKind::Timestamp,
        TypeKind::StringEnum,
        TypeKind::Struct,
        TypeKind::Array,
    ] {
        assert!(kinds.contains(&kind), "{kind} missing");
    }
    let temperature = model.property("temperature").unwrap();
    assert_eq!(temperature.mode(), Mode::ReadOnly);
    assert_eq!(temperature.data_type().min(), Some(-40.0));
    let position = model.property("position").unwrap().data_type();
    let members: Vec<&str> = position.members().map(|m| m.id()).collect();
    assert_eq!(members, ["longitude", "latitude"]);
    let points = model.property("points").unwrap().data_type();
    assert_eq!(points.element().unwrap().kind(), TypeKind::Struct);
    assert_eq!(
        model.event("low_voltage").unwrap().event_type(),
        EventType::Alert
    );
    assert_eq!(model.action("light_blink").unwrap().input().count(), 1);
}

#[test]
fn all_types_values() {
    let text = read("models/all-types.json");
    let m = ThingModel::parse(&text).unwrap();
    let ok = [
        r#"{"power_switch":1}"#,
        r#"{"power_switch":false}"#,
        r#"{"color":2}"#,
        r#"{"brightness":0}"#,
        r#"{"brightness":100}"#,
        r#"{"temperature":-40}"#,
        r#"{"temperature":36.6}"#,
        r#"{"name":"书房"}"#,
        r#"{"name":""}"#,
        r#"{"last_on":1700000000000}"#,
        r#"{"last_on":"1700000000000"}"#,
        r#"{"power":"medium"}"#,
        r#"{"position":{"longitude":113,"latitude":22}}"#,
        r#"{"position":{}}"#,
        r#"{"history":[0,50,100]}"#,
        r#"{"tags":["a","b\"c"]}"#,
        r#"{"points":[{"x":1.5,"y":99.9},{"x":0}]}"#,
    ];
    for params in ok {
        assert_eq!(m.check_report(obj(params)), Ok(()), "{params}");
    }
    let bad: &[(&str, &str, Violation)] = &[
        (
            r#"{"power_switch":2}"#,
            "power_switch",
            Violation::WrongType {
                expected: TypeKind::Bool,
                found: iot_core::json::ValueKind::Number,
            },
        ),
        (r#"{"color":3}"#, "color", Violation::NotInMapping),
        (
            r#"{"color":"1"}"#,
            "color",
            Violation::WrongType {
                expected: TypeKind::Enum,
                found: iot_core::json::ValueKind::String,
            },
        ),
        (r#"{"brightness":101}"#, "brightness", Violation::OutOfRange),
        (
            r#"{"brightness":1.5}"#,
            "brightness",
            Violation::NotAnInteger,
        ),
        (
            r#"{"temperature":125.1}"#,
            "temperature",
            Violation::OutOfRange,
        ),
        (r#"{"last_on":-1}"#, "last_on", Violation::NotAnInteger),
        (r#"{"last_on":"12a"}"#, "last_on", Violation::NotAnInteger),
        (r#"{"power":"max"}"#, "power", Violation::NotInMapping),
        (
            r#"{"position":{"longitude":181}}"#,
            "position",
            Violation::OutOfRange,
        ),
        (
            r#"{"position":{"altitude":1}}"#,
            "position",
            Violation::UnknownMember,
        ),
        (
            r#"{"position":[1,2]}"#,
            "position",
            Violation::WrongType {
                expected: TypeKind::Struct,
                found: iot_core::json::ValueKind::Array,
            },
        ),
        (r#"{"history":[0,101]}"#, "history", Violation::OutOfRange),
        (r#"{"points":[{"x":101}]}"#, "points", Violation::OutOfRange),
        (r#"{"nope":1}"#, "nope", Violation::UnknownId),
    ];
    for (params, id, violation) in bad {
        let r = m.check_report(obj(params)).unwrap_err();
        assert_eq!((r.id, r.violation), (*id, *violation), "{params}");
        assert_eq!(
            r.code(),
            if *violation == Violation::UnknownId {
                403
            } else {
                406
            }
        );
    }
    // String length counts characters, not bytes: 64 CJK characters fit `max: 64`.
    let long: String = "书".repeat(64);
    assert!(m
        .check_report(obj(&format!(r#"{{"name":"{long}"}}"#)))
        .is_ok());
    let text = format!(r#"{{"name":"{long}x"}}"#);
    let r = m.check_report(obj(&text)).unwrap_err();
    assert_eq!(r.violation, Violation::BadLength { length: 65 });
    let long_tag = "t".repeat(33);
    let text = format!(r#"{{"tags":["{long_tag}"]}}"#);
    let r = m.check_report(obj(&text)).unwrap_err();
    assert_eq!(r.violation, Violation::BadLength { length: 33 });
}

/// Every sample that carries environment-monitor ids validates against `models/env-monitor.json`.
#[test]
fn env_monitor_samples_validate() {
    let model_text = read("models/env-monitor.json");
    let m = ThingModel::parse(&model_text).unwrap();
    let samples: Vec<serde_json::Value> =
        serde_json::from_str(&read("vectors/messages.json")).unwrap();
    let env_ids = [
        "MQ2",
        "alarm_enabled",
        "gas_alarm",
        "calibrate",
        "sensor_fault",
        "\"r0\"",
    ];
    let mut checked = Vec::new();
    for sample in &samples {
        let name = sample["name"].as_str().unwrap();
        let json = sample["json"].as_str().unwrap();
        if !env_ids.iter().any(|id| json.contains(id)) {
            continue;
        }
        let doc = Value::parse_str(json).unwrap().as_object().unwrap();
        let method = doc.get("method").and_then(|v| v.as_str()).map(|s| s.raw());
        match method {
            Some("report") => m
                .check_report(doc.get("params").unwrap().as_object().unwrap())
                .unwrap(),
            Some("control") => m
                .check_control(doc.get("params").unwrap().as_object().unwrap())
                .unwrap(),
            Some("get_status_reply") => {
                let data = doc.get("data").unwrap().as_object().unwrap();
                m.check_report(data.get("reported").unwrap().as_object().unwrap())
                    .unwrap();
                m.check_control(data.get("control").unwrap().as_object().unwrap())
                    .unwrap();
            }
            Some("event_post") => {
                let id = doc.get("eventId").unwrap().as_str().unwrap().raw();
                let ty = doc.get("type").unwrap().as_str().unwrap().raw();
                m.check_event(
                    id,
                    Some(ty),
                    doc.get("params").unwrap().as_object().unwrap(),
                )
                .unwrap();
            }
            Some("events_post") => {
                for event in doc.get("events").unwrap().as_array().unwrap() {
                    let e = event.as_object().unwrap();
                    let id = e.get("eventId").unwrap().as_str().unwrap().raw();
                    let ty = e.get("type").unwrap().as_str().unwrap().raw();
                    m.check_event(id, Some(ty), e.get("params").unwrap().as_object().unwrap())
                        .unwrap();
                }
            }
            Some("action") => {
                let id = doc.get("actionId").unwrap().as_str().unwrap().raw();
                m.check_action_input(id, doc.get("params").unwrap().as_object().unwrap())
                    .unwrap();
            }
            Some("action_reply") => {
                // The reply does not name its action; the sample answers `calibrate`.
                m.check_action_output(
                    "calibrate",
                    doc.get("response").unwrap().as_object().unwrap(),
                )
                .unwrap();
            }
            other => panic!("sample {name} with method {other:?} is not covered"),
        }
        checked.push(name);
    }
    let expected = [
        "report",
        "control",
        "get_status_reply",
        "event_post",
        "events_post",
        "action",
        "action_reply",
    ];
    assert_eq!(checked, expected);
}

/// The trigger examples in the 403 and 406 samples' notes give those codes.
#[test]
fn error_sample_triggers() {
    let model_text = read("models/env-monitor.json");
    let m = ThingModel::parse(&model_text).unwrap();
    let samples: Vec<serde_json::Value> =
        serde_json::from_str(&read("vectors/messages.json")).unwrap();
    for (name, code) in [
        ("report_reply_error_403", 403),
        ("report_reply_error_406", 406),
    ] {
        let sample = samples.iter().find(|s| s["name"] == name).unwrap();
        let notes = sample["notes"].as_str().unwrap();
        let start = notes.find('{').unwrap();
        let end = notes.rfind('}').unwrap();
        let trigger = &notes[start..=end];
        let doc = Value::parse_str(trigger).unwrap().as_object().unwrap();
        let r = m
            .check_report(doc.get("params").unwrap().as_object().unwrap())
            .unwrap_err();
        assert_eq!(u64::from(r.code()), sample_code(sample), "{name}");
        assert_eq!(r.code(), code);
    }
}

fn sample_code(sample: &serde_json::Value) -> u64 {
    let body: serde_json::Value = serde_json::from_str(sample["json"].as_str().unwrap()).unwrap();
    body["code"].as_u64().unwrap()
}

#[test]
fn bad_models_name_the_problem() {
    let err = ThingModel::parse(r#"{"properties":[{"id":"x","mode":"rw"}]}"#).unwrap_err();
    assert_eq!(
        err,
        ModelError::MissingKey {
            section: "properties",
            index: 0,
            key: "define"
        }
    );
    assert!(err.to_string().contains("`define`"));
    let err = ThingModel::parse("{\"properties\":[").unwrap_err();
    assert!(matches!(err, ModelError::Json(_)));
}

proptest! {
    #[test]
    fn any_text_parses_or_errs(text in ".{0,200}") {
        let _ = ThingModel::parse(&text);
    }

    #[test]
    fn any_params_check_without_panic(text in r#"\{("[a-zA-Z_0-9]{1,8}":(-?[0-9]{1,25}(\.[0-9]{1,3})?|"[^"\\]{0,10}"|\[[0-9,]{0,10}\]|\{\}|true|null),?){0,6}\}"#) {
        let model_text = read("models/all-types.json");
        let m = ThingModel::parse(&model_text).unwrap();
        if let Ok(Value::Object(o)) = Value::parse_str(&text) {
            let _ = m.check_report(o);
            let _ = m.check_control(o);
            let _ = m.check_event("status_report", None, o);
            let _ = m.check_action_input("light_blink", o);
        }
    }

    #[test]
    fn int_range_is_exact(v in -100_000i64..100_000) {
        let model_text = read("models/env-monitor.json");
        let m = ThingModel::parse(&model_text).unwrap();
        let text = format!(r#"{{"report_interval":{v}}}"#);
        let result = m.check_control(obj(&text));
        prop_assert_eq!(result.is_ok(), (1..=3600).contains(&v));
    }
}
