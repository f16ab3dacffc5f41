//! Property tests: encode → decode gives back the same parameters for every value type; no input makes the
//! decoder panic; truncated messages are rejected.

use iot_core::codec::{
    decode, ActionReply, Down, Encode, Event, EventPost, EventType, MessageView, Param, ParamValue,
    ParamView, ParamsView, ReplyCode, Report,
};
use iot_core::json::Value;
use proptest::prelude::*;

/// An owned parameter tree, turned into borrowed [`ParamValue`]s for encoding.
#[derive(Debug, Clone)]
enum P {
    Int(i64),
    Float(f64),
    Float32(f32),
    Bool(bool),
    Str(String),
    Enum(i64),
    StrEnum(String),
    Timestamp(u64),
    Struct(Vec<(String, Self)>),
    Array(Vec<Self>),
}

/// Leaks the nested storage a borrowed [`ParamValue`] needs; proptest cases are small.
fn lower(p: &P) -> ParamValue<'static> {
    match p {
        P::Int(v) => ParamValue::Int(*v),
        P::Float(v) => ParamValue::Float(*v),
        P::Float32(v) => ParamValue::Float32(*v),
        P::Bool(v) => ParamValue::Bool(*v),
        P::Str(s) => ParamValue::String(Box::leak(s.clone().into_boxed_str())),
        P::Enum(v) => ParamValue::Enum(*v),
        P::StrEnum(s) => ParamValue::StringEnum(Box::leak(s.clone().into_boxed_str())),
        P::Timestamp(v) => ParamValue::Timestamp(*v),
        P::Struct(members) => ParamValue::Struct(lower_params(members)),
        P::Array(items) => ParamValue::Array(Box::leak(
            items.iter().map(lower).collect::<Vec<_>>().into(),
        )),
    }
}

fn lower_params(members: &[(String, P)]) -> &'static [Param<'static>] {
    Box::leak(
        members
            .iter()
            .map(|(id, v)| (&*Box::leak(id.clone().into_boxed_str()), lower(v)))
            .collect::<Vec<_>>()
            .into(),
    )
}

/// Bit for bit; with `compact-floats`, the feature's contract instead: bit for bit where its fast path applies
/// (up to 15 significant digits, decimal exponent within ±22), within 4 units in the last place elsewhere.
fn same_f64(got: f64, expected: f64) -> bool {
    if cfg!(feature = "compact-floats") {
        let text = format!("{expected:e}");
        let digits = text
            .split('e')
            .next()
            .unwrap_or("")
            .bytes()
            .filter(u8::is_ascii_digit)
            .count();
        let exp: i32 = text
            .split('e')
            .nth(1)
            .and_then(|e| e.parse().ok())
            .unwrap_or(i32::MAX);
        let fast = digits <= 15 && (-22..=22).contains(&(exp + 1 - digits as i32));
        if fast {
            got.to_bits() == expected.to_bits()
        } else {
            got.to_bits().abs_diff(expected.to_bits()) <= 4
                || (got - expected).abs() <= 4.0 * 4.9e-324
        }
    } else {
        got.to_bits() == expected.to_bits()
    }
}

/// Whether the decoded value is the one encoded, exactly (floats bit for bit, see [`same_f64`]).
fn same(expected: &P, got: ParamView<'_>) -> bool {
    match expected {
        P::Int(v) | P::Enum(v) => got.as_i64() == Some(*v),
        P::Float(v) => got.as_f64().is_some_and(|g| same_f64(g, *v)),
        P::Float32(v) => got.raw().parse::<f32>().map(f32::to_bits) == Ok(v.to_bits()),
        P::Bool(v) => got.as_bool() == Some(*v) && got.as_i64() == Some(i64::from(*v)),
        P::Str(s) | P::StrEnum(s) => got.as_str().is_some_and(|g| {
            let mut buf = vec![0u8; g.unescaped_len()];
            g.eq_str(s) && g.unescape_into(&mut buf).ok() == Some(s.as_str())
        }),
        P::Timestamp(v) => got.as_timestamp() == Some(*v) && got.as_u64() == Some(*v),
        P::Struct(members) => got.as_struct().is_some_and(|p| same_params(members, p)),
        P::Array(items) => got.as_array().is_some_and(|a| {
            a.len() == items.len() && a.iter().zip(items).all(|(g, e)| same(e, g))
        }),
    }
}

fn same_params(expected: &[(String, P)], got: ParamsView<'_>) -> bool {
    got.len() == expected.len()
        && got
            .iter()
            .zip(expected)
            .all(|((id, v), (eid, e))| id.eq_str(eid) && same(e, v))
}

/// Strings heavy in what needs escaping: quotes, backslashes, every control character, non-ASCII, plus anything.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[\"\\\\/\\x00-\\x1f\\x7f a-zA-Z0-9é中😀\u{2028}\u{fffd}]{0,24}",
        any::<String>(),
    ]
}

fn id() -> impl Strategy<Value = String> {
    "[A-Za-z_][A-Za-z0-9_]{0,20}"
}

fn finite_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>().prop_filter("finite", |f| f.is_finite()),
        (-1.0e6..1.0e6f64),
        Just(0.0),
        Just(-0.0),
        Just(f64::MAX),
        Just(f64::MIN_POSITIVE),
        Just(5e-324),
    ]
}

fn value() -> impl Strategy<Value = P> {
    let leaf = prop_oneof![
        any::<i64>().prop_map(P::Int),
        finite_f64().prop_map(P::Float),
        any::<f32>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(P::Float32),
        any::<bool>().prop_map(P::Bool),
        text().prop_map(P::Str),
        (-5i64..100).prop_map(P::Enum),
        text().prop_map(P::StrEnum),
        any::<u64>().prop_map(P::Timestamp),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec((id(), inner.clone()), 0..6).prop_map(P::Struct),
            prop::collection::vec(inner, 0..6).prop_map(P::Array),
        ]
    })
}

fn params() -> impl Strategy<Value = Vec<(String, P)>> {
    prop::collection::vec((id(), value()), 0..10)
}

fn encode_to_vec(m: &impl Encode) -> Vec<u8> {
    let len = m.encoded_len().expect("measures");
    let mut buf = vec![0u8; len];
    assert_eq!(m.encode(&mut buf), Ok(len));
    buf
}

/// Calls every accessor of a decoded message, recursively, so that a panic anywhere would surface.
fn exercise(down: &Down<'_>) {
    fn walk(v: ParamView<'_>) {
        let _ = (
            v.as_i64(),
            v.as_u64(),
            v.as_f64(),
            v.as_bool(),
            v.as_timestamp(),
        );
        if let Some(s) = v.as_str() {
            let mut buf = [0u8; 64];
            let _ = s.unescape_into(&mut buf);
            let _ = s.chars().count();
        }
        if let Some(p) = v.as_struct() {
            p.iter().for_each(|(_, v)| walk(v));
        }
        if let Some(a) = v.as_array() {
            a.iter().for_each(walk);
        }
    }
    let _ = (down.client_token(), down.method(), format!("{down:?}"));
    match down {
        Down::Control(c) => c.params().iter().for_each(|(_, v)| walk(v)),
        Down::Action(a) => a.params().iter().for_each(|(_, v)| walk(v)),
        Down::GetStatusReply(g) => {
            for p in [g.reported(), g.control()].into_iter().flatten() {
                p.iter().for_each(|(_, v)| walk(v));
            }
        }
        Down::Time(t) => {
            let _ = t.accurate_time_ms(u64::MAX, 0);
            let _ = t.accurate_time_ms(0, u64::MAX);
        }
        Down::Unknown(m) => {
            if let Some(p) = m.params() {
                p.iter().for_each(|(_, v)| walk(v));
            }
            let _ = m.timestamp();
        }
        _ => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn report_params_round_trip(
        token in text().prop_filter("non-empty", |t| !t.is_empty()),
        timestamp in proptest::option::of(any::<u64>()),
        params in params(),
    ) {
        let report = Report { client_token: token.as_str().into(), timestamp_ms: timestamp, params: lower_params(&params) };
        let bytes = encode_to_vec(&report);
        let text = std::str::from_utf8(&bytes).expect("UTF-8");
        // serde_json agrees that the output is JSON.
        prop_assert!(serde_json::from_str::<serde_json::Value>(text).is_ok(), "{}", text);
        let view = MessageView::new_checked(&bytes).expect("decodes");
        prop_assert!(view.client_token().expect("token").eq_str(&token));
        prop_assert_eq!(view.timestamp(), timestamp);
        prop_assert!(same_params(&params, view.params().expect("params")), "{}", text);
        // Every strict prefix is rejected.
        for cut in [0, 1, bytes.len() / 2, bytes.len() - 1] {
            prop_assert!(MessageView::new_checked(&bytes[..cut]).is_err());
        }
    }

    #[test]
    fn event_and_action_params_round_trip(params in params(), response in params()) {
        let post = EventPost {
            client_token: "t-1".into(),
            version: None,
            event: Event { event_id: "ev", event_type: EventType::Alert, timestamp_ms: Some(1), params: lower_params(&params) },
        };
        let bytes = encode_to_vec(&post);
        let view = MessageView::new_checked(&bytes).expect("decodes");
        let got = view.params().expect("params");
        prop_assert!(same_params(&params, got));

        let reply = ActionReply {
            client_token: "t-2".into(),
            code: ReplyCode::Success,
            status: Some("ok"),
            response: lower_params(&response),
        };
        let bytes = encode_to_vec(&reply);
        let view = MessageView::new_checked(&bytes).expect("decodes");
        let got = view.get("response").and_then(|v| ParamView::new(v).as_struct()).expect("response");
        prop_assert!(same_params(&response, got));
    }

    #[test]
    fn decoded_values_forward_verbatim(params in params()) {
        // Encode, decode, then forward every decoded value as `ParamValue::Raw`: the text must not change.
        let report = Report { client_token: "1".into(), timestamp_ms: None, params: lower_params(&params) };
        let first = encode_to_vec(&report);
        let view = MessageView::new_checked(&first).expect("decodes");
        let forwarded: Vec<Param<'_>> = view
            .params()
            .expect("params")
            .iter()
            .map(|(id, v)| (id.as_plain().expect("plain id"), ParamValue::from(v)))
            .collect();
        let again = Report { client_token: "1".into(), timestamp_ms: None, params: &forwarded };
        prop_assert_eq!(encode_to_vec(&again), first);
    }

    #[test]
    fn short_buffers_report_the_exact_size(params in params(), cut in any::<prop::sample::Index>()) {
        let report = Report { client_token: "abc".into(), timestamp_ms: None, params: lower_params(&params) };
        let len = report.encoded_len().expect("measures");
        let capacity = cut.index(len);
        let mut buf = vec![0u8; capacity];
        prop_assert_eq!(
            report.encode(&mut buf),
            Err(iot_core::codec::CodecError::BufferTooSmall { needed: len, capacity })
        );
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(down) = decode(&bytes) {
            exercise(&down);
        }
    }

    #[test]
    fn json_like_bytes_never_panic(
        bytes in prop::collection::vec(prop::sample::select(b"{}[]\":,0123456789-.eE+ tfnrulsaxmethodcp\\_".to_vec()), 0..256)
    ) {
        if let Ok(down) = decode(&bytes) {
            exercise(&down);
        }
    }

    #[test]
    fn mutated_messages_never_panic(
        which in 0usize..SEEDS.len(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..6),
    ) {
        let mut bytes = SEEDS[which].as_bytes().to_vec();
        for (at, byte, op) in edits {
            let i = at.index(bytes.len() + 1);
            match op {
                0 if i < bytes.len() => bytes[i] = byte,
                1 => bytes.insert(i, byte),
                _ if i < bytes.len() => { bytes.remove(i); }
                _ => {}
            }
        }
        if let Ok(down) = decode(&bytes) {
            exercise(&down);
        }
    }

    #[test]
    fn well_formed_json_with_wrong_shapes_is_an_error_not_a_panic(
        method in prop::sample::select(vec![
            "report_reply", "control", "get_status_reply", "clear_control_reply", "report_info_reply",
            "event_reply", "events_reply", "action", "bind_device", "unbind_device", "unbind_device_reply",
            "alert_fence_event",
        ]),
        token in prop_oneof![Just("\"t\"".to_owned()), Just("1".to_owned()), Just("null".to_owned()), Just("\"\"".to_owned())],
        code in prop_oneof![Just("0".to_owned()), Just("\"0\"".to_owned()), Just("1e400".to_owned()), Just("-99999999999999999999".to_owned())],
        body in prop_oneof![Just("{}".to_owned()), Just("[]".to_owned()), Just("7".to_owned()), Just("{\"reported\":[]}".to_owned())],
    ) {
        let text = format!(
            r#"{{"method":"{method}","clientToken":{token},"code":{code},"params":{body},"data":{body},"actionId":{token},"timestamp":{code}}}"#
        );
        prop_assert!(Value::parse(text.as_bytes()).is_ok(), "{}", text);
        if let Ok(down) = decode(text.as_bytes()) {
            exercise(&down);
        }
    }
}

const SEEDS: [&str; 6] = [
    r#"{"method":"control","clientToken":"clientToken-2fd030d1","params":{"alarm_enabled":0,"report_interval":10,"s":{"a":[1,"x\"y"]}}}"#,
    r#"{"method":"get_status_reply","clientToken":"C-1","code":0,"status":"success","type":"report","data":{"reported":{"MQ2":30},"control":{"alarm_enabled":0}}}"#,
    r#"{"method":"action","clientToken":"20a4","actionId":"calibrate","timestamp":"1700000000000","params":{"sensor":"MQ2"}}"#,
    r#"{"type":"get","time":1621562342,"ntptime1":1621562342773,"ntptime2":1621562342773}"#,
    r#"{"file_size":1501696,"md5sum":"a15d5deaf37bf6698cf9a21ec672166d","type":"update_firmware","url":"https://x","user_defined":"{\"t\":1}","version":"v1.0.1"}"#,
    r#"{"method":"event_reply","clientToken":"C-4","version":"1.0","code":0,"status":"","data":{}}"#,
];

#[test]
fn seeds_decode() {
    for seed in SEEDS {
        let down = decode(seed.as_bytes()).unwrap_or_else(|e| panic!("{seed}: {e}"));
        assert!(!matches!(down, Down::Unknown(_)), "{seed}");
        exercise(&down);
    }
}
