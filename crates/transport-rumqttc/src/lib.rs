#![doc = include_str!("../README.md")]

mod config;
mod error;
#[cfg(feature = "tls")]
mod tls;
mod transport;

pub use config::{tencent_cloud_host, Config, Security, PORT_TCP, PORT_TLS};
pub use error::Error;
#[cfg(feature = "tls")]
pub use tls::{TlsConfig, TlsError, TENCENT_IOT_CA_PEM};
pub use transport::RumqttcTransport;
