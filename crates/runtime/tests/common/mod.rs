//! Shared setup: the shared vectors and thing model, a runtime over the mock transport and fake cloud.
#![allow(dead_code)]

use std::string::String;
use std::sync::OnceLock;
use std::vec::Vec;

use iot_core::credentials::DeviceIdentity;
use iot_core::model::ThingModel;
use iot_core::topic::TopicKind;
use iot_runtime::testing::{
    FakeCloud, MockTransport, RecordingActuators, ScriptedSensors, SplitMix64, VirtualClock,
};
use iot_runtime::{Config, Observer, Runtime, RuntimeEvent};

pub const LOG: usize = 1024;
pub const BYTES: usize = 384;
pub type Cloud = FakeCloud<LOG, BYTES>;
pub type Mock<'c> = MockTransport<'c, Cloud, 64, BYTES>;
pub type Rt<'c, S, const N: usize> =
    Runtime<'static, Mock<'c>, S, RecordingActuators, &'c VirtualClock, SplitMix64, Events, N, 256>;

fn shared(path: &str) -> String {
    let full = format!("{}/../../../shared/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("read {full}: {e}"))
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// The environment monitor's thing model, from `shared/models/env-monitor.json`.
pub fn model_text() -> &'static str {
    static TEXT: OnceLock<&'static str> = OnceLock::new();
    TEXT.get_or_init(|| leak(shared("models/env-monitor.json")))
}

/// The first MQTT password vector: product id, device name, PSK.
pub fn device() -> (&'static str, &'static str, &'static str) {
    static DEVICE: OnceLock<(&'static str, &'static str, &'static str)> = OnceLock::new();
    *DEVICE.get_or_init(|| {
        let v: serde_json::Value =
            serde_json::from_str(&shared("vectors/credentials.json")).unwrap();
        let first = &v["mqtt_password"][0];
        let field = |k: &str| leak(first[k].as_str().unwrap().to_owned());
        (
            field("product_id"),
            field("device_name"),
            field("device_psk"),
        )
    })
}

/// The `json` of a sample in `shared/vectors/messages.json`.
pub fn sample(name: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(&shared("vectors/messages.json")).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == name)
        .unwrap_or_else(|| panic!("no sample {name}"))["json"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub fn config() -> Config<'static> {
    let (pid, dn, psk) = device();
    let identity = DeviceIdentity::new(pid, dn, psk).unwrap();
    let model = ThingModel::parse(model_text()).unwrap();
    Config::new(identity, model, "1.2.3")
}

pub fn topic(kind: TopicKind) -> String {
    let (pid, dn) = (device().0, device().1);
    iot_core::topic::Topic::new(kind, pid, dn)
        .unwrap()
        .to_string()
}

/// Every event, as its `Debug` text.
#[derive(Debug, Default)]
pub struct Events(pub Vec<String>);

impl Observer for Events {
    fn on_event(&mut self, event: &RuntimeEvent<'_>) {
        self.0.push(format!("{event:?}"));
    }
}

impl Events {
    pub fn count(&self, prefix: &str) -> usize {
        self.0.iter().filter(|e| e.starts_with(prefix)).count()
    }
}

/// A cloud that checks passwords with the device's PSK.
pub fn cloud() -> Cloud {
    let mut cloud = Cloud::new();
    cloud.psk = Some(iot_core::credentials::Psk::from_base64(device().2).unwrap());
    cloud
}

pub fn runtime<'c, S: sensors::suite::EnvironmentSensors, const N: usize>(
    clock: &'c VirtualClock,
    cloud: Cloud,
    sensors: S,
    edit: impl FnOnce(&mut Config<'static>),
) -> Rt<'c, S, N> {
    let mut config = config();
    edit(&mut config);
    Runtime::new(
        config,
        Mock::new(clock, cloud),
        sensors,
        RecordingActuators::default(),
        clock,
        SplitMix64(7),
    )
    .unwrap()
    .with_observer(Events::default())
}

/// Runs `f` on a thread with a large stack: the recording mock keeps its log inline.
pub fn big_stack<F: FnOnce() + Send + 'static>(f: F) {
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap();
}

pub fn scripted() -> ScriptedSensors {
    ScriptedSensors::default()
}

/// Parsed JSON of a record's payload.
pub fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}
