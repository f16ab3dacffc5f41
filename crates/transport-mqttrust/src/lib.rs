//! MQTT 3.1.1 `iot_transport::Transport` adapter over mqttrust 1.0 for `no_std` targets (crate skeleton; the
//! adapter itself lands in the next commit).
#![no_std]
