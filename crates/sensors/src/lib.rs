#![doc = include_str!("../README.md")]
#![no_std]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

// This mod MUST go first, so that the others see its macros.
#[macro_use]
mod fmt;

pub mod adc;
mod climate;
pub mod dht11;
mod error;
pub mod mq;
mod race;
#[cfg(feature = "sim")]
pub mod sim;
pub mod suite;

pub use climate::{Climate, ClimateSensor};
pub use error::{Error, ErrorKind};
