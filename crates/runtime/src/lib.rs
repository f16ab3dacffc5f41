#![doc = include_str!("../README.md")]
#![no_std]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

// This mod MUST go first, so that the others see its macros.
#[macro_use]
mod fmt;

mod backoff;
mod config;
mod machine;
mod platform;
mod queue;
mod runtime;
#[cfg(feature = "testing")]
pub mod testing;

pub use crate::backoff::Backoff;
pub use crate::config::{
    Config, ConfigError, ExpiryPolicy, Settings, ALARM_ENABLED, CALIBRATE, GAS_ALARM,
    MAX_KEEP_ALIVE_SECS, MIN_CONNECT_SPACING_MS, REPORT_INTERVAL, SENSOR_FAULT, SMOKE_THRESHOLD,
};
pub use crate::machine::{client_token, parse_client_token, Stats, Token, TOKEN_CAPACITY};
pub use crate::platform::{
    Actuators, Clock, ControlError, MessageKind, Observer, ObserverFn, RuntimeEvent,
};
pub use crate::runtime::Runtime;

/// The `rand_core` (0.9) whose `RngCore` the runtime takes, as re-exported by `iot_core::credentials`.
pub use iot_core::credentials::rand_core;
