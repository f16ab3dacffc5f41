#![doc = include_str!("../README.md")]
#![cfg_attr(not(feature = "tokio"), no_std)]

mod driver;
mod error;
mod link;
#[cfg(feature = "tokio")]
mod tokio;
mod transport;

pub use driver::MAX_SUBSCRIPTIONS;
pub use error::Error;
pub use link::{
    Link, Timeouts, CLIENT_ID_CAPACITY, PASSWORD_CAPACITY, TOPIC_CAPACITY, USERNAME_CAPACITY,
};
#[cfg(feature = "tokio")]
pub use tokio::TokioTcp;
pub use transport::MqttrustTransport;
