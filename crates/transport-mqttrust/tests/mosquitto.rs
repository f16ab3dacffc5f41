//! Interop with a real Mosquitto over MQTT 3.1.1. `bash .ci/interop.sh` starts one and sets the variables below;
//! without `IOT_MQTT_TEST_BROKER` every test here prints that it skipped and returns.
//!
//! * `IOT_MQTT_TEST_BROKER` — `host:port` of an anonymous plain listener
//! * `IOT_MQTT_TEST_AUTH_BROKER`, `IOT_MQTT_TEST_AUTH_USER`, `IOT_MQTT_TEST_AUTH_PASSWORD` — a listener with a
//!   password file and no anonymous access
#![cfg(feature = "tokio")]

use iot_transport_mqttrust::{Link, MqttrustTransport as Adapter, TokioTcp};

/// Client id prefix, so the adapters' runs against the same broker never share a session.
const ADAPTER: &str = "mqttrust";

// The tests themselves are shared with the other embedded-nal-async adapter.
include!("../../transport/testing/nal_mosquitto.rs");
