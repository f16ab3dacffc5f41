//! Every sample of `shared/vectors/messages.json`: down messages decode into the right view with fields equal to
//! `serde_json`'s reading of the same text; up messages re-encode, from the sample's fields, into JSON equal in
//! meaning to the sample (and byte for byte where the sample is compact).

use iot_core::codec::{
    accurate_time_ms, decode, ActionReply, AlertFenceEventReply, ClearControl, ClientToken,
    ControlReply, Down, Encode, Event, EventPost, EventType, EventsPost, GetModelDefine, GetStatus,
    MessageView, Method, OtaResultCode, OtaState, Param, ParamValue, ParamView, ParamsView,
    ReplyCode, Report, ReportInfo, ReportProgress, ReportVersion, TimeRequest, UnbindDeviceRequest,
};
use iot_core::json::Str;
use serde_json::{Map, Value as Json};

fn samples() -> Vec<Json> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/vectors/messages.json"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    let Json::Array(samples) = serde_json::from_str(&text).expect("messages.json is JSON") else {
        panic!("messages.json is not an array")
    };
    samples
}

fn field<'j>(msg: &'j Json, key: &str) -> &'j Json {
    msg.get(key)
        .unwrap_or_else(|| panic!("sample lacks `{key}`: {msg}"))
}

fn text<'j>(msg: &'j Json, key: &str) -> &'j str {
    field(msg, key)
        .as_str()
        .unwrap_or_else(|| panic!("`{key}` is not a string"))
}

fn opt_text<'j>(msg: &'j Json, key: &str) -> Option<&'j str> {
    msg.get(key).map(|v| v.as_str().expect("a string"))
}

fn same_str(view: Option<Str<'_>>, json: Option<&Json>) -> bool {
    match (view, json) {
        (None, None) => true,
        (Some(s), Some(Json::String(j))) => s.eq_str(j),
        _ => false,
    }
}

/// Whether a received value equals `serde_json`'s reading of it (numbers compared by value).
fn same_value(view: ParamView<'_>, json: &Json) -> bool {
    match json {
        Json::Null => view.value().is_null(),
        Json::Bool(b) => view.as_bool() == Some(*b),
        Json::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => view.as_i64() == Some(i),
            (None, Some(u)) => view.as_u64() == Some(u),
            _ => view.as_i64().is_none() && view.as_f64() == n.as_f64(),
        },
        Json::String(s) => view.as_str().is_some_and(|v| v.eq_str(s)),
        Json::Array(items) => view.as_array().is_some_and(|a| {
            a.len() == items.len() && a.iter().zip(items).all(|(v, j)| same_value(v, j))
        }),
        Json::Object(members) => view.as_struct().is_some_and(|p| same_params(p, members)),
    }
}

fn same_params(view: ParamsView<'_>, json: &Map<String, Json>) -> bool {
    view.len() == json.len()
        && view.iter().all(|(id, v)| {
            let id = id.as_plain().expect("ids need no unescaping");
            json.get(id).is_some_and(|j| same_value(v, j))
        })
}

fn same_params_json(view: Option<ParamsView<'_>>, json: Option<&Json>) -> bool {
    match (view, json) {
        (None, None) => true,
        (Some(v), Some(Json::Object(m))) => same_params(v, m),
        _ => false,
    }
}

fn code_of(msg: &Json) -> ReplyCode {
    ReplyCode::from_i64(field(msg, "code").as_i64().expect("integer code"))
}

/// Checks one down sample; returns the variant's method/type for the coverage count.
fn check_down(name: &str, raw: &str, msg: &Json) {
    let down = decode(raw.as_bytes()).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert!(
        same_str(down.client_token(), msg.get("clientToken")),
        "{name}: clientToken"
    );
    if let Some(method) = opt_text(msg, "method") {
        if !matches!(down, Down::Unknown(_)) {
            assert_eq!(down.method().map(Method::as_str), Some(method), "{name}");
        }
    }
    match (name, down) {
        (
            "report_reply"
            | "report_reply_error_400"
            | "report_reply_error_403"
            | "report_reply_error_405"
            | "report_reply_error_406"
            | "report_reply_error_503",
            Down::ReportReply(r),
        )
        | ("clear_control_reply", Down::ClearControlReply(r))
        | ("report_info_reply", Down::ReportInfoReply(r))
        | ("event_reply", Down::EventReply(r))
        | ("events_reply", Down::EventsReply(r)) => {
            assert_eq!(r.code(), code_of(msg), "{name}");
            assert!(same_str(r.status(), msg.get("status")), "{name}: status");
            assert!(same_str(r.version(), msg.get("version")), "{name}: version");
            match (r.data(), msg.get("data")) {
                (None, None) => {}
                (Some(v), Some(j)) => assert!(same_value(ParamView::new(v), j), "{name}: data"),
                other => panic!("{name}: data {other:?}"),
            }
            if let Some(expected) = name.strip_prefix("report_reply_error_") {
                assert_eq!(r.code().as_i64().to_string(), expected);
                assert!(!r.code().is_success());
            }
        }
        ("control", Down::Control(c)) => {
            let Json::Object(params) = field(msg, "params") else {
                panic!()
            };
            assert!(same_params(c.params(), params), "{name}: params");
            assert_eq!(c.params().len(), 3);
            assert_eq!(c.timestamp(), None);
        }
        ("get_status_reply" | "get_status_reply_empty", Down::GetStatusReply(g)) => {
            assert_eq!(g.code(), code_of(msg));
            assert!(same_str(g.status(), msg.get("status")));
            assert!(same_str(g.status_type(), msg.get("type")));
            let data = field(msg, "data");
            assert!(
                same_params_json(g.reported(), data.get("reported")),
                "{name}"
            );
            assert!(same_params_json(g.control(), data.get("control")), "{name}");
            if name == "get_status_reply" {
                assert_eq!(g.control().map(|c| c.len()), Some(2));
            } else {
                assert!(g.reported().is_none() && g.control().is_none());
            }
        }
        ("action" | "action_doc_example", Down::Action(a)) => {
            assert!(a.action_id().eq_str(text(msg, "actionId")));
            assert_eq!(a.timestamp(), field(msg, "timestamp").as_u64());
            let Json::Object(params) = field(msg, "params") else {
                panic!()
            };
            assert!(same_params(a.params(), params), "{name}: params");
        }
        ("unbind_device", Down::UnbindDevice(s)) | ("bind_device", Down::BindDevice(s)) => {
            assert_eq!(s.timestamp(), field(msg, "timestamp").as_u64());
            assert_eq!(s.method().as_str(), text(msg, "method"));
        }
        ("alert_fence_event", Down::AlertFenceEvent(a)) => {
            let data = field(msg, "data");
            assert_eq!(a.timestamp(), field(msg, "timestamp").as_u64());
            assert!(same_str(a.alert_type(), data.get("alert_type")));
            assert!(same_str(a.alert_condition(), data.get("alert_condition")));
            assert!(same_str(a.fence_name(), data.get("fence_name")));
            assert_eq!(a.alarm_time(), field(data, "alarm_time").as_u64());
            assert_eq!(a.longitude(), field(data, "long").as_f64());
            assert_eq!(a.latitude(), field(data, "lat").as_f64());
        }
        ("sys_time_response", Down::Time(t)) => {
            let (t1, t2) = (
                field(msg, "ntptime1").as_u64().unwrap(),
                field(msg, "ntptime2").as_u64().unwrap(),
            );
            assert_eq!(t.time_secs(), field(msg, "time").as_u64());
            assert_eq!(t.ntp_time1_ms(), Some(t1));
            assert_eq!(t.ntp_time2_ms(), Some(t2));
            // protocol.md §6.2 step 4, with a 200 ms round trip.
            let expected = (t1 + t2 + 200) / 2;
            assert_eq!(t.accurate_time_ms(5_000, 5_200), Some(expected));
            assert_eq!(accurate_time_ms(t1, t2, 5_000, 5_200), expected);
        }
        ("ota_report_version_rsp", Down::ReportVersionRsp(r)) => {
            assert_eq!(Some(r.result_code()), field(msg, "result_code").as_i64());
            assert!(r.is_success());
            assert!(same_str(r.result_msg(), msg.get("result_msg")));
            assert!(same_str(r.version(), msg.get("version")));
        }
        ("ota_update_firmware", Down::UpdateFirmware(u)) => {
            assert!(u.url().eq_str(text(msg, "url")));
            assert!(u.md5sum().eq_str(text(msg, "md5sum")));
            let md5: String = u.md5().iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(md5, text(msg, "md5sum"));
            assert_eq!(Some(u.file_size()), field(msg, "file_size").as_u64());
            assert!(u.version().eq_str(text(msg, "version")));
            let user = u.user_defined().expect("user_defined");
            assert!(user.eq_str(text(msg, "user_defined")));
            // user_defined is itself JSON text once unescaped.
            let inner: Json = serde_json::from_str(&user.to_string()).unwrap();
            assert_eq!(inner["time"], "2024-05-16");
        }
        (name, down) => panic!("{name}: unexpected decoding {down:?}"),
    }
}

/// Leaks a string: the encoder structs borrow, and these tests build them from many samples.
fn leak(s: impl Into<String>) -> &'static str {
    Box::leak(s.into().into_boxed_str())
}

/// A sample's parameter value as a [`ParamValue`], read through the view so that member order is kept (`serde_json`'s
/// map sorts keys). Nested storage is leaked: this is a test.
fn param_value(view: ParamView<'_>) -> ParamValue<'static> {
    if let Some(i) = view.as_i64() {
        ParamValue::Int(i)
    } else if let Some(u) = view.as_u64() {
        ParamValue::Timestamp(u)
    } else if let Some(f) = view.as_f64() {
        ParamValue::Float(f)
    } else if let Some(b) = view.as_bool() {
        ParamValue::Bool(b)
    } else if let Some(s) = view.as_str() {
        ParamValue::String(leak(s.to_string()))
    } else if let Some(a) = view.as_array() {
        ParamValue::Array(Box::leak(
            a.iter().map(param_value).collect::<Vec<_>>().into(),
        ))
    } else if let Some(members) = view.as_struct() {
        ParamValue::Struct(params(members))
    } else {
        panic!("unexpected parameter {view:?}")
    }
}

fn params(members: ParamsView<'_>) -> &'static [Param<'static>] {
    Box::leak(
        members
            .iter()
            .map(|(id, v)| (leak(id.to_string()), param_value(v)))
            .collect::<Vec<_>>()
            .into(),
    )
}

fn params_of(obj: iot_core::json::Object<'_>, key: &str) -> &'static [Param<'static>] {
    let value = obj.get(key).unwrap_or_else(|| panic!("no `{key}`"));
    params(ParamView::new(value).as_struct().expect("params object"))
}

fn obj_text(obj: iot_core::json::Object<'_>, key: &str) -> &'static str {
    leak(
        obj.get(key)
            .and_then(|v| v.as_str())
            .expect("string member")
            .to_string(),
    )
}

fn event(obj: iot_core::json::Object<'_>) -> Event<'static> {
    Event {
        event_id: obj_text(obj, "eventId"),
        event_type: EventType::parse(obj_text(obj, "type")).expect("event type"),
        timestamp_ms: obj
            .get("timestamp")
            .and_then(|v| v.as_number())
            .and_then(|n| n.as_u64()),
        params: params_of(obj, "params"),
    }
}

fn ota_state(name: &str) -> OtaState {
    [
        OtaState::Downloading,
        OtaState::Burning,
        OtaState::Done,
        OtaState::Fail,
    ]
    .into_iter()
    .find(|s| s.as_str() == name)
    .expect("OTA state")
}

fn encode_all(m: &dyn Fn(&mut [u8]) -> Result<usize, iot_core::codec::CodecError>) -> Vec<u8> {
    let mut buf = vec![0u8; 1024];
    let n = m(&mut buf).expect("encodes");
    buf.truncate(n);
    buf
}

fn encoded<M: Encode>(m: &M) -> Vec<u8> {
    let out = encode_all(&|b| m.encode(b));
    assert_eq!(m.encoded_len(), Ok(out.len()), "encoded_len matches");
    out
}

/// Re-encodes one up sample from its fields.
fn encode_up(name: &str, raw: &str, msg: &Json) -> Vec<u8> {
    // Tokens from received text are echoed verbatim; the view over the sample provides one.
    let view = MessageView::new_checked(raw.as_bytes()).expect("up sample parses");
    let token = || -> ClientToken<'_> { text(msg, "clientToken").into() };
    let code = || code_of(msg);
    match opt_text(msg, "method").or(opt_text(msg, "type")) {
        Some("report") => encoded(&Report {
            client_token: token(),
            timestamp_ms: msg.get("timestamp").and_then(Json::as_u64),
            params: params_of(view.object(), "params"),
        }),
        Some("control_reply") => encoded(&ControlReply {
            client_token: view.client_token().expect("token").into(),
            code: code(),
            status: opt_text(msg, "status"),
        }),
        Some("get_status") => encoded(&GetStatus {
            client_token: token(),
            status_type: opt_text(msg, "type"),
            show_meta: msg
                .get("showmeta")
                .map(|v| v.as_i64().expect("showmeta int") != 0),
        }),
        Some("clear_control") => encoded(&ClearControl {
            client_token: token(),
        }),
        Some("get_model_define") => encoded(&GetModelDefine {
            client_token: token(),
        }),
        Some("report_info") => {
            let p = field(msg, "params");
            let labels: Vec<(&str, &str)> = view
                .params()
                .and_then(|p| p.get("device_label"))
                .and_then(|v| v.as_struct())
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| {
                            (
                                leak(k.to_string()),
                                leak(v.as_str().expect("label").to_string()),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            encoded(&ReportInfo {
                client_token: token(),
                module_hardinfo: opt_text(p, "module_hardinfo"),
                module_softinfo: opt_text(p, "module_softinfo"),
                fw_ver: text(p, "fw_ver"),
                imei: opt_text(p, "imei"),
                mac: opt_text(p, "mac"),
                lat: opt_text(p, "lat"),
                lon: opt_text(p, "lon"),
                name: opt_text(p, "name"),
                device_label: &labels,
            })
        }
        Some("event_post") => encoded(&EventPost {
            client_token: token(),
            version: opt_text(msg, "version"),
            event: event(view.object()),
        }),
        Some("events_post") => {
            let events: Vec<Event<'_>> = view
                .get("events")
                .and_then(|v| v.as_array())
                .expect("events array")
                .iter()
                .map(|e| event(e.as_object().expect("event object")))
                .collect();
            encoded(&EventsPost {
                client_token: token(),
                events: &events,
            })
        }
        Some("action_reply") => encoded(&ActionReply {
            client_token: view.client_token().expect("token").into(),
            code: code(),
            status: opt_text(msg, "status"),
            response: params_of(view.object(), "response"),
        }),
        Some("alert_fence_event_reply") => encoded(&AlertFenceEventReply {
            client_token: view.client_token().expect("token").into(),
            timestamp_ms: msg.get("timestamp").and_then(Json::as_u64),
            code: code(),
            status: opt_text(msg, "status"),
        }),
        Some("unbind_device_request") => encoded(&UnbindDeviceRequest {
            client_token: token(),
            device_name: text(msg, "deviceName"),
            product_id: text(msg, "productId"),
        }),
        Some("get") => {
            assert_eq!(field(msg, "resource"), &serde_json::json!(["time"]));
            encoded(&TimeRequest)
        }
        Some("report_version") => encoded(&ReportVersion {
            version: text(field(msg, "report"), "version"),
        }),
        Some("report_progress") => {
            let report = field(msg, "report");
            let progress = field(report, "progress");
            encoded(&ReportProgress {
                state: ota_state(text(progress, "state")),
                percent: opt_text(progress, "percent").map(|p| p.parse().expect("percent")),
                result_code: OtaResultCode(text(progress, "result_code").parse().expect("code")),
                result_msg: text(progress, "result_msg"),
                version: text(report, "version"),
            })
        }
        other => panic!("{name}: no encoder for {other:?}"),
    }
}

/// Samples written with spaces between members (as the C SDK formats them); all others must match byte for byte.
const SPACED: [&str; 2] = ["get_status_c_sdk", "sys_time_request"];

#[test]
fn every_sample_round_trips() {
    let samples = samples();
    assert!(samples.len() >= 40, "expected the full sample set");
    let (mut up, mut down) = (0, 0);
    for sample in &samples {
        let name = text(sample, "name");
        let raw = text(sample, "json");
        let msg: Json = serde_json::from_str(raw).unwrap_or_else(|e| panic!("{name}: {e}"));
        match text(sample, "direction") {
            "down" => {
                check_down(name, raw, &msg);
                down += 1;
            }
            "up" => {
                let out = encode_up(name, raw, &msg);
                let back: Json = serde_json::from_slice(&out).unwrap_or_else(|e| {
                    panic!(
                        "{name}: our output is not JSON ({e}): {}",
                        String::from_utf8_lossy(&out)
                    )
                });
                assert_eq!(back, msg, "{name}: {}", String::from_utf8_lossy(&out));
                if !SPACED.contains(&name) {
                    assert_eq!(String::from_utf8_lossy(&out), raw, "{name}: bytes");
                }
                up += 1;
            }
            other => panic!("{name}: direction {other}"),
        }
    }
    assert_eq!(up + down, samples.len());
    assert!(up >= 20 && down >= 20, "up {up}, down {down}");
}

#[test]
fn down_samples_fail_cleanly_when_truncated() {
    for sample in samples() {
        if text(&sample, "direction") != "down" {
            continue;
        }
        let raw = text(&sample, "json").as_bytes();
        for cut in 0..raw.len() {
            assert!(
                decode(&raw[..cut]).is_err(),
                "{}: prefix of {cut} bytes decoded",
                text(&sample, "name")
            );
        }
    }
}

#[test]
fn up_samples_are_readable_as_messages() {
    for sample in samples() {
        if text(&sample, "direction") != "up" {
            continue;
        }
        let msg: Json = serde_json::from_str(text(&sample, "json")).unwrap();
        let view = MessageView::new_checked(text(&sample, "json").as_bytes()).unwrap();
        assert!(same_str(view.method_name(), msg.get("method")));
        assert!(same_str(view.client_token(), msg.get("clientToken")));
        if let Some(m) = opt_text(&msg, "method") {
            assert_eq!(view.method().map(Method::as_str), Some(m));
        }
        assert!(same_params_json(view.params(), msg.get("params")));
    }
}
