//! `iot_core::codec` on target: up messages encode to the exact text of messages.json, down
//! messages decode to the fields they carry, and a control is checked against the environment
//! monitor's thing model and answered with the reply code (protocol.md §4.3, §4.4).

use iot_core::codec::{
    decode, ActionReply, CodecError, ControlReply, Down, Encode, Event, EventPost, EventType,
    ParamValue, ReplyCode, Report,
};
use iot_core::json::Value;
use iot_core::model::ThingModel;

use super::{message, parse_file, ENV_MONITOR_MODEL, MESSAGES_JSON};
use crate::harness::{Failure, Outcome, Runner};
use crate::{check, check_eq, ok, some};

/// The codec tests.
pub fn run(r: &mut Runner) {
    r.test("codec::report_encodes_the_seed_report", report);
    r.test("codec::control_decodes_validates_and_is_answered", control);
    r.test("codec::bad_control_is_answered_with_403", bad_control);
    r.test("codec::action_decodes_and_is_answered", action);
    r.test("codec::event_post_encodes", event_post);

    let Some(doc) = parse_file(r, "messages.json (codec)", MESSAGES_JSON) else {
        return;
    };
    let mut down = 0;
    for entry in doc.as_array().into_iter().flat_map(|a| a.iter()) {
        let Some(e) = entry.as_object() else {
            continue;
        };
        let is_down = e
            .get("direction")
            .and_then(|d| d.as_str())
            .is_some_and(|d| d.eq_str("down"));
        if !is_down {
            continue;
        }
        down += 1;
        let name = e
            .get("name")
            .and_then(|n| n.as_str())
            .and_then(|n| n.as_plain())
            .unwrap_or("?");
        r.test(format_args!("codec::decode[{name}]"), || {
            decode_entry(entry)
        });
    }
    r.test("codec::messages.json has down messages", || {
        check!(down > 0);
        Ok(())
    });
}

/// The environment monitor's readings as messages.json's `report` carries them.
const READINGS: [(&str, ParamValue<'static>); 6] = [
    ("MQ2", ParamValue::Int(30)),
    ("MQ135", ParamValue::Int(95)),
    ("MQ4", ParamValue::Int(30)),
    ("MQ7", ParamValue::Int(20)),
    ("DHT11_T", ParamValue::Int(14)),
    ("DHT11_H", ParamValue::Int(70)),
];

/// Encodes `message` and compares it with the messages.json entry `name`.
fn encodes_to(message_to_send: &impl Encode, name: &str) -> Result<usize, Failure> {
    let mut expected = [0u8; 512];
    let expected = message(name, &mut expected)?;
    let mut buf = [0u8; 512];
    let n = ok!(message_to_send.encode(&mut buf));
    check_eq!(
        core::str::from_utf8(some!(buf.get(..n))),
        Ok(expected),
        "{name}"
    );
    check_eq!(ok!(message_to_send.encoded_len()), n, "{name}");
    Ok(n)
}

fn report() -> Outcome {
    let report = Report {
        client_token: "123".into(),
        timestamp_ms: None,
        params: &READINGS,
    };
    let n = encodes_to(&report, "report")?;
    // A buffer one byte short reports the exact size.
    let mut short = [0u8; 512];
    let short = some!(short.get_mut(..n - 1));
    check_eq!(
        report.encode(short),
        Err(CodecError::BufferTooSmall {
            needed: n,
            capacity: n - 1
        })
    );
    // What the device sends passes the thing model.
    let mut buf = [0u8; 512];
    let n = ok!(report.encode(&mut buf));
    let doc = ok!(Value::parse(some!(buf.get(..n))));
    let params = some!(doc
        .as_object()
        .and_then(|o| o.get("params"))
        .and_then(|p| p.as_object()));
    let model = ok!(ThingModel::parse(ENV_MONITOR_MODEL));
    check_eq!(model.check_report(params), Ok(()));
    Ok(())
}

fn control() -> Outcome {
    let mut payload = [0u8; 512];
    let payload = message("control", &mut payload)?;
    let down = ok!(decode(payload.as_bytes()));
    let Down::Control(control) = down else {
        check!(false, "decoded as {:?}", down);
        return Err(Failure);
    };
    check!(control
        .client_token()
        .eq_str("clientToken-2fd030d1-8c1e-4b7a-9f20-6d3c5a1b7e44"));
    check_eq!(control.timestamp(), None);
    let params = control.params();
    check_eq!(params.len(), 3);
    check_eq!(some!(params.get("alarm_enabled")).as_bool(), Some(false));
    check_eq!(some!(params.get("report_interval")).as_i64(), Some(10));
    check_eq!(some!(params.get("smoke_threshold")).as_i64(), Some(1500));
    check!(params.get("MQ2").is_none());

    let model = ok!(ThingModel::parse(ENV_MONITOR_MODEL));
    check_eq!(model.check_control(params.object()), Ok(()));

    let reply = ControlReply {
        client_token: control.client_token().into(),
        code: ReplyCode::Success,
        status: None,
    };
    encodes_to(&reply, "control_reply")?;
    Ok(())
}

fn bad_control() -> Outcome {
    let payload =
        br#"{"method":"control","clientToken":"ct-7","params":{"report_interval":5,"MQ2":1}}"#;
    let Down::Control(control) = ok!(decode(payload)) else {
        check!(false, "not decoded as a control");
        return Err(Failure);
    };
    let model = ok!(ThingModel::parse(ENV_MONITOR_MODEL));
    let rejection = some!(model.check_control(control.params().object()).err());
    check_eq!(rejection.id, "MQ2");
    let code = ReplyCode::from_i64(i64::from(rejection.code()));
    check_eq!(code, ReplyCode::UnknownIdentifier);
    let reply = ControlReply {
        client_token: control.client_token().into(),
        code,
        status: Some("MQ2 is read-only"),
    };
    let mut buf = [0u8; 128];
    let n = ok!(reply.encode(&mut buf));
    check_eq!(
        some!(buf.get(..n)),
        br#"{"method":"control_reply","clientToken":"ct-7","code":403,"status":"MQ2 is read-only"}"#
            .as_slice()
    );
    Ok(())
}

fn action() -> Outcome {
    let mut payload = [0u8; 512];
    let payload = message("action", &mut payload)?;
    let Down::Action(action) = ok!(decode(payload.as_bytes())) else {
        check!(false, "not decoded as an action");
        return Err(Failure);
    };
    check!(action.action_id().eq_str("calibrate"));
    check!(action
        .client_token()
        .eq_str("20a4ccfd-d308-11e9-86c6-5254008a4f10"));
    check_eq!(action.timestamp(), Some(1_700_000_000_000));
    let sensor = some!(some!(action.params().get("sensor")).as_str());
    check!(sensor.eq_str("MQ2"));
    let model = ok!(ThingModel::parse(ENV_MONITOR_MODEL));
    check_eq!(
        model.check_action_input("calibrate", action.params().object()),
        Ok(())
    );

    let response = [
        ("r0", ParamValue::Float(9.83)),
        ("result", ParamValue::Int(0)),
    ];
    let reply = ActionReply {
        client_token: action.client_token().into(),
        code: ReplyCode::Success,
        status: Some("action execute success!"),
        response: &response,
    };
    encodes_to(&reply, "action_reply")?;
    Ok(())
}

fn event_post() -> Outcome {
    let params = [
        ("sensor", ParamValue::StringEnum("MQ2")),
        ("value", ParamValue::Int(1250)),
        ("threshold", ParamValue::Int(1000)),
    ];
    let post = EventPost {
        client_token: "CS0SLTKSYA-4".into(),
        version: Some("1.0"),
        event: Event {
            event_id: "gas_alarm",
            event_type: EventType::Alert,
            timestamp_ms: Some(1_700_000_000_000),
            params: &params,
        },
    };
    encodes_to(&post, "event_post")?;
    Ok(())
}

/// Decodes one down message of messages.json and checks that its kind matches its `method`.
fn decode_entry(entry: Value<'static>) -> Outcome {
    let json = some!(entry
        .as_object()
        .and_then(|e| e.get("json"))
        .and_then(|j| j.as_str()));
    let mut payload = [0u8; 512];
    let payload = ok!(json.unescape_into(&mut payload));
    let down = ok!(decode(payload.as_bytes()));
    let doc = ok!(Value::parse(payload.as_bytes()));
    let method = doc
        .as_object()
        .and_then(|o| o.get("method"))
        .and_then(|m| m.as_str());
    if let Some(method) = method {
        let decoded = some!(down.method(), "decoded as {:?}", down);
        check!(
            method.eq_str(decoded.as_str()),
            "`{}` decoded as {:?}",
            method,
            down
        );
    }
    if let Some(token) = doc
        .as_object()
        .and_then(|o| o.get("clientToken"))
        .and_then(|t| t.as_str())
    {
        check_eq!(down.client_token(), Some(token));
    }
    Ok(())
}
