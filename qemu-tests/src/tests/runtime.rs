//! `iot_runtime` on target: one scripted session of the device runtime against the fake cloud of its
//! `testing` feature — the connect sequence, reports matched by token, a control, the `calibrate`
//! action, a dropped link and the reconnect — with the expectations of the host tests in
//! `crates/runtime/tests/session.rs` and `controls.rs` (protocol.md §3.2, §4.3, §4.4, §6.2).
//!
//! Time is the runtime's virtual clock, so the 40 s session takes milliseconds. The fake cloud
//! verifies each CONNECT password with the device's PSK. Its record log and the transport's inbox
//! are sized for the 16 KiB of RAM: the log is cleared between the phases.

use embassy_futures::block_on;
use heapless::String;
use iot_core::codec::Method;
use iot_core::credentials::{DeviceIdentity, Psk, Username};
use iot_core::json::{Object, Value};
use iot_core::model::ThingModel;
use iot_core::topic::{Topic, TopicKind};
use iot_runtime::testing::{
    FakeCloud, Mailbox, MockTransport, Op, Record, RecordingActuators, ScriptedSensors, SplitMix64,
    VirtualClock, TOPIC_CAPACITY,
};
use iot_runtime::{Config, Runtime, Settings};
use iot_transport::{ConnectOptions, Incoming, QoS, Transport};
use sensors::suite::GasSensorId;

use super::{message, parse_file, text, CREDENTIALS_JSON, ENV_MONITOR_MODEL};
use crate::harness::{Failure, Outcome, Runner};
use crate::{check, check_eq, ok, some};

/// Operations the fake cloud records between two clears.
const LOG: usize = 11;
/// Bytes of a recorded or delivered payload (the longest of the session, a report, takes at most
/// 235: docs/runtime.md).
const BYTES: usize = 240;
/// Messages the transport's inbox holds at once.
const INBOX: usize = 4;
/// Offline-queue slots of the runtime.
const SLOTS: usize = 2;

type Cloud = FakeCloud<LOG, BYTES>;
type Mock<'c> = MockTransport<'c, Cloud, INBOX, BYTES>;
type Rt<'m, 'c> = Runtime<
    'static,
    Lent<'m, Mock<'c>>,
    ScriptedSensors,
    RecordingActuators,
    &'c VirtualClock,
    SplitMix64,
    (),
    SLOTS,
    256,
>;

/// A transport lent to the runtime: the mock transport stays in the session's frame, so the 16 KiB of
/// RAM holds it once instead of once more inside the runtime while it is moved there.
struct Lent<'m, T>(&'m mut T);

impl<T: Transport> Transport for Lent<'_, T> {
    type Error = T::Error;

    async fn connect(&mut self, options: &ConnectOptions<'_>) -> Result<(), T::Error> {
        self.0.connect(options).await
    }

    async fn subscribe(&mut self, filter: &str, qos: QoS) -> Result<(), T::Error> {
        self.0.subscribe(filter, qos).await
    }

    async fn publish(&mut self, topic: &str, payload: &[u8], qos: QoS) -> Result<(), T::Error> {
        self.0.publish(topic, payload, qos).await
    }

    async fn receive(&mut self) -> Result<Incoming<'_>, T::Error> {
        self.0.receive().await
    }

    async fn disconnect(&mut self) -> Result<(), T::Error> {
        self.0.disconnect().await
    }
}

/// The fake cloud's Unix time at virtual time 0.
const UNIX_AT_ZERO_MS: u64 = 1_700_000_000_000;

/// The down topics the runtime subscribes to, in order (protocol.md §11.7–8).
const FILTERS: [TopicKind; 6] = [
    TopicKind::PROPERTY_DOWN,
    TopicKind::EVENT_DOWN,
    TopicKind::ACTION_DOWN,
    TopicKind::SERVICE_DOWN,
    TopicKind::OtaUpdate,
    TopicKind::SysOperationResult,
];

/// The device of the first `mqtt_password` vector: product id, device name, PSK.
struct Device {
    product_id: &'static str,
    device_name: &'static str,
    psk: &'static str,
}

/// The runtime tests: one session, phase by phase.
pub fn run(r: &mut Runner) {
    let Some(doc) = parse_file(r, "credentials.json (runtime)", CREDENTIALS_JSON) else {
        return;
    };
    let mut device = None;
    r.test("runtime::device_vector_reads", || {
        let vectors = some!(doc
            .as_object()
            .and_then(|o| o.get("mqtt_password"))
            .and_then(|v| v.as_array()));
        let first = some!(vectors.get(0).and_then(|v| v.as_object()));
        device = Some(Device {
            product_id: text(first, "product_id")?,
            device_name: text(first, "device_name")?,
            psk: text(first, "device_psk")?,
        });
        Ok(())
    });
    let Some(device) = device else {
        return;
    };

    session(r, &device);
}

/// The session: the mock transport with its fake cloud (about 7 KiB) and the runtime (about 2 KiB)
/// live in this frame; the phases, and the runtime's futures, run in frames of their own.
#[inline(never)]
fn session(r: &mut Runner, device: &Device) {
    let clock = VirtualClock::new(0);
    let Some(identity) =
        DeviceIdentity::new(device.product_id, device.device_name, device.psk).ok()
    else {
        r.test("runtime::device_identity_is_valid", || {
            check!(false, "the vector's device does not make an identity");
            Ok(())
        });
        return;
    };
    let Some(model) = ThingModel::parse(ENV_MONITOR_MODEL).ok() else {
        r.test("runtime::model_parses", || {
            check!(false, "env-monitor.json does not parse");
            Ok(())
        });
        return;
    };
    let mut mock = Mock::new(&clock, Cloud::new());
    let runtime = Runtime::new(
        Config::new(identity, model, "1.2.3"),
        Lent(&mut mock),
        ScriptedSensors::default(),
        RecordingActuators::default(),
        &clock,
        SplitMix64(7),
    );
    let mut runtime = runtime.ok();
    r.test("runtime::starts_with_the_shared_model_and_device", || {
        let rt = some!(runtime.as_mut(), "Runtime::new refused the configuration");
        let cloud = rt.transport_mut().0.broker_mut();
        cloud.psk = Some(ok!(Psk::from_base64(device.psk)));
        cloud.unix_at_zero_ms = Some(UNIX_AT_ZERO_MS);
        Ok(())
    });
    let Some(rt) = runtime.as_mut() else {
        return;
    };
    let mut first_conn_id: String<8> = String::new();
    r.test(
        "runtime::connect_signs_subscribes_and_runs_the_connect_sequence",
        || connect_sequence(rt, &clock, device, &mut first_conn_id),
    );
    r.test(
        "runtime::reports_every_interval_and_matches_replies_by_token",
        || reports(rt),
    );
    r.test(
        "runtime::control_is_applied_and_answered_with_its_token",
        || control(rt, device),
    );
    r.test(
        "runtime::calibrate_action_round_trips_with_its_outputs",
        || action(rt, device),
    );
    r.test(
        "runtime::dropped_link_reconnects_resubscribes_and_resigns",
        || reconnect(rt, device, &first_conn_id),
    );
}

/// The topic of `kind` for the device.
fn topic(device: &Device, kind: TopicKind) -> Result<String<TOPIC_CAPACITY>, Failure> {
    let topic = ok!(Topic::new(kind, device.product_id, device.device_name));
    Ok(ok!(topic.format::<TOPIC_CAPACITY>()))
}

/// Whether a record is a publish on a topic of `kind`.
fn on(record: &Record<BYTES>, kind: TopicKind) -> bool {
    Topic::parse(&record.topic).is_ok_and(|t| t.kind() == kind)
}

/// The accepted publishes with `method`, oldest first.
fn published<'a>(rt: &'a Rt<'_, '_>, method: Method) -> impl Iterator<Item = &'a Record<BYTES>> {
    rt.transport()
        .0
        .broker()
        .records()
        .iter()
        .filter(move |r| r.op == Op::Publish && r.accepted && r.method() == Some(method))
}

/// The top-level object of a record's payload.
fn object(record: &Record<BYTES>) -> Result<Object<'_>, Failure> {
    let doc = Value::parse(&record.payload).ok();
    Ok(some!(
        doc.and_then(|d| d.as_object()),
        "not a JSON object: {}",
        record.text()
    ))
}

/// The plain string at `key`.
fn string<'a>(object: Object<'a>, key: &str) -> Result<&'a str, Failure> {
    let value = some!(object.get(key), "no `{key}` in {}", object.raw());
    Ok(some!(
        value.as_str().and_then(|s| s.as_plain()),
        "`{key}` is not a plain string in {}",
        object.raw()
    ))
}

/// The integer at `key`.
fn int(object: Object<'_>, key: &str) -> Result<i64, Failure> {
    let value = some!(object.get(key), "no `{key}` in {}", object.raw());
    Ok(some!(
        value.as_i64(),
        "`{key}` is not an integer in {}",
        object.raw()
    ))
}

/// The object at `key`.
fn member<'a>(object: Object<'a>, key: &str) -> Result<Object<'a>, Failure> {
    let value = some!(object.get(key), "no `{key}` in {}", object.raw());
    Ok(some!(
        value.as_object(),
        "`{key}` is not an object in {}",
        object.raw()
    ))
}

/// Runs the runtime until virtual time `deadline_ms`, in a frame of its own.
#[inline(never)]
fn run_to(rt: &mut Rt<'_, '_>, deadline_ms: u64) {
    block_on(rt.run_until(deadline_ms));
}

/// Schedules the shared message sample `name` on the down topic `kind` at `at_ms` and returns its
/// clientToken. Its buffers are gone before the runtime runs.
#[inline(never)]
fn deliver_sample(
    rt: &mut Rt<'_, '_>,
    device: &Device,
    name: &str,
    kind: TopicKind,
    at_ms: u64,
) -> Result<String<64>, Failure> {
    let mut buf = [0u8; 192];
    let sample = message(name, &mut buf)?;
    let doc = ok!(Value::parse(sample.as_bytes()));
    let token = ok!(String::try_from(string(
        some!(doc.as_object()),
        "clientToken"
    )?));
    let down = topic(device, kind)?;
    check!(rt
        .transport_mut()
        .0
        .inbox_mut()
        .deliver(at_ms, &down, sample.as_bytes()));
    Ok(token)
}

#[inline(never)]
fn connect_sequence(
    rt: &mut Rt<'_, '_>,
    clock: &VirtualClock,
    device: &Device,
    first_conn_id: &mut String<8>,
) -> Outcome {
    run_to(rt, 3_000);
    let records = rt.transport().0.broker().records();
    // CONNECT first, accepted: the fake cloud verified the password with the device's PSK.
    let connect = some!(records.first());
    check_eq!(connect.op, Op::Connect);
    check!(connect.accepted, "the password must verify");
    check!(
        connect.topic.len() == device.product_id.len() + device.device_name.len()
            && connect.topic.starts_with(device.product_id)
            && connect.topic.ends_with(device.device_name),
        "client id {}",
        connect.topic.as_str()
    );
    let username = ok!(Username::parse(connect.text()));
    check_eq!(username.conn_id().len(), 5);
    ok!(first_conn_id.push_str(username.conn_id()));
    // One filter per SUBSCRIBE, every down topic.
    let subscribes = some!(records.get(1..7));
    for (record, kind) in subscribes.iter().zip(FILTERS) {
        check_eq!(record.op, Op::Subscribe);
        check_eq!(record.topic, topic(device, kind)?);
    }
    // Then report_info, the time request at QoS 0, get_status, and the report sampled at boot.
    let mut publishes = records.iter().filter(|r| r.op == Op::Publish);
    let info = some!(publishes.next());
    check_eq!(info.method(), Some(Method::ReportInfo));
    check_eq!(string(member(object(info)?, "params")?, "fw_ver")?, "1.2.3");
    let time = some!(publishes.next());
    check_eq!(time.topic, topic(device, TopicKind::SysOperation)?);
    check_eq!(time.qos, Some(QoS::AtMostOnce));
    check_eq!(time.text(), r#"{"type":"get","resource":["time"]}"#);
    check_eq!(some!(publishes.next()).method(), Some(Method::GetStatus));
    let report = some!(publishes.next());
    check_eq!(report.method(), Some(Method::Report));
    check_eq!(report.qos, Some(QoS::AtLeastOnce));
    // The time answer set the wall clock: fake cloud time is UNIX_AT_ZERO_MS + virtual time.
    let unix = some!(rt.unix_time_ms());
    check!(
        unix.abs_diff(UNIX_AT_ZERO_MS + clock.now()) <= 20,
        "unix time {unix} at virtual {}",
        clock.now()
    );
    check!(rt.is_connected());
    check_eq!(rt.stats().connects, 1);
    Ok(())
}

#[inline(never)]
fn reports(rt: &mut Rt<'_, '_>) -> Outcome {
    rt.transport_mut().0.broker_mut().clear_records();
    let answered_before = rt.stats().answered;
    run_to(rt, 15_100);
    let mut count = 0;
    let mut tokens: [String<32>; 3] = Default::default();
    for (i, report) in published(rt, Method::Report).enumerate() {
        // Sampled every 5 s (the model's start value of report_interval).
        check_eq!(report.at_ms, 5_000 * (i as u64 + 1));
        let token = some!(report.client_token());
        check!(
            !tokens.iter().any(|t| t.as_str() == token),
            "token {token} used twice"
        );
        if let Some(slot) = tokens.get_mut(i) {
            ok!(slot.push_str(token));
        }
        count += 1;
    }
    check_eq!(count, 3);
    let last = some!(published(rt, Method::Report).last());
    let report = object(last)?;
    // After the time sync every report carries the sample's Unix time in ms.
    check_eq!(int(report, "timestamp")?, (UNIX_AT_ZERO_MS + 15_000) as i64);
    let params = member(report, "params")?;
    check_eq!(int(params, "MQ2")?, 100);
    check_eq!(int(params, "DHT11_T")?, 21);
    check_eq!(int(params, "report_interval")?, 5);
    check_eq!(int(params, "smoke_threshold")?, 1000);
    check_eq!(int(params, "alarm_enabled")?, 1);
    // Every reply matched its report by clientToken.
    check_eq!(rt.stats().answered - answered_before, 3);
    check_eq!(rt.queue_len(), 0);
    Ok(())
}

#[inline(never)]
fn control(rt: &mut Rt<'_, '_>, device: &Device) -> Outcome {
    rt.transport_mut().0.broker_mut().clear_records();
    let token = deliver_sample(rt, device, "control", TopicKind::PROPERTY_DOWN, 16_000)?;
    run_to(rt, 17_000);
    let mut replies = published(rt, Method::ControlReply);
    let reply = object(some!(replies.next(), "no control_reply"))?;
    check!(replies.next().is_none(), "one control_reply");
    check_eq!(string(reply, "clientToken")?, token.as_str());
    check_eq!(int(reply, "code")?, 0);
    check_eq!(
        rt.settings(),
        Settings {
            report_interval_ms: 10_000,
            smoke_threshold_ppm: 1500,
            alarm_enabled: false,
        }
    );
    check_eq!(rt.stats().controls_applied, 1);
    // Runtime-owned properties never reach the firmware hook.
    check!(rt.actuators().applied.is_empty());
    Ok(())
}

#[inline(never)]
fn action(rt: &mut Rt<'_, '_>, device: &Device) -> Outcome {
    rt.transport_mut().0.broker_mut().clear_records();
    let token = deliver_sample(rt, device, "action", TopicKind::ACTION_DOWN, 18_000)?;
    run_to(rt, 19_000);
    let record = some!(published(rt, Method::ActionReply).next(), "no action_reply");
    check!(on(record, TopicKind::ACTION_UP));
    let reply = object(record)?;
    check_eq!(string(reply, "clientToken")?, token.as_str());
    check_eq!(int(reply, "code")?, 0);
    let response = member(reply, "response")?;
    let r0 = some!(response.get("r0").and_then(|v| v.as_f64()));
    let close = (r0 - 9.83).abs() < 1e-9;
    check!(close, "r0 in {}", response.raw());
    check_eq!(int(response, "result")?, 0);
    check_eq!(rt.sensors().calibrated, Some((GasSensorId::Mq2, 18_000)));
    check_eq!(rt.stats().actions, 1);
    Ok(())
}

#[inline(never)]
fn reconnect(rt: &mut Rt<'_, '_>, device: &Device, first_conn_id: &str) -> Outcome {
    rt.transport_mut().0.broker_mut().clear_records();
    check!(rt.transport_mut().0.inbox_mut().drop_link(20_000));
    run_to(rt, 40_000);
    let records = rt.transport().0.broker().records();
    let (at, connect) = some!(
        records
            .iter()
            .enumerate()
            .find(|(_, r)| r.op == Op::Connect && r.accepted),
        "no reconnect"
    );
    // The first retry after a loss waits the base back-off (5 s) with equal jitter, half to all of it;
    // the last CONNECT was 20 s before, so the 5 s spacing (protocol.md §3.5) holds.
    check!(
        (22_500..=25_000).contains(&connect.at_ms),
        "reconnected at {} ms",
        connect.at_ms
    );
    check_eq!(
        records.iter().filter(|r| r.op == Op::Connect).count(),
        1,
        "one reconnect"
    );
    // A fresh signature: a new connid.
    let username = ok!(Username::parse(connect.text()));
    check!(username.conn_id() != first_conn_id, "connid reused");
    // All six filters again, then the connect sequence.
    let subscribes = some!(records.get(at + 1..at + 7));
    for (record, kind) in subscribes.iter().zip(FILTERS) {
        check_eq!(record.op, Op::Subscribe);
        check_eq!(record.topic, topic(device, kind)?);
    }
    let mut after = records
        .iter()
        .skip(at + 7)
        .filter(|r| r.op == Op::Publish && r.accepted);
    check_eq!(some!(after.next()).method(), Some(Method::ReportInfo));
    check!(on(some!(after.next()), TopicKind::SysOperation));
    check_eq!(some!(after.next()).method(), Some(Method::GetStatus));
    check_eq!(rt.stats().disconnects, 1);
    check_eq!(rt.stats().connects, 2);
    check!(rt.is_connected());
    Ok(())
}
