//! The IoT Explorer node on embassy, shared by the firmware examples (`examples/rp2040-node`,
//! `examples/esp32c3-node`).
//!
//! A firmware crate is only the board's wiring: pins, the ADC, the network stack, the RNG. It hands them to
//! [`run_node`], which resolves the broker, opens the MQTT connection (mqttrust over embassy-net's TCP) and runs
//! `iot-runtime` forever. [`config`] holds the credentials and broker, read from the environment at build time.
//!
//! Features: `sdk` (the node; without it only [`config`] is here, for a bring-up build), `wifi` (the Wi-Fi
//! settings in [`config`]), and exactly one of `defmt` and `log` for the node's log.
#![no_std]

#[macro_use]
mod fmt;

pub mod config;
#[cfg(feature = "sdk")]
mod node;

#[cfg(feature = "sdk")]
pub use node::{
    run_node, AlarmPin, EmbassyClock, Log, Settings, PAYLOAD, QUEUE, QUEUE_SLOTS, RING, SLOT_BYTES,
    TCP_BUFFER,
};
