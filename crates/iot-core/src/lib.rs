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
mod float;

pub mod codec;
pub mod credentials;
pub mod json;
pub mod model;
pub mod topic;
