//! Configuration of a [`Hub`](crate::Hub).

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

/// Where the hub keeps its registry and device data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// A SQLite file, created on first start; it survives restarts.
    File(PathBuf),
    /// A private in-memory database that disappears with the hub (tests, demos).
    InMemory,
}

/// How hard SQLite works to keep a committed transaction.
///
/// Both settings keep every acknowledged write across a crash or `kill -9` of the hub process, because WAL mode
/// commits by appending to the WAL file before the hub answers; they differ only on power loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// `synchronous=NORMAL`: no fsync per commit. A power cut may lose the last commits; a process crash does not.
    #[default]
    Normal,
    /// `synchronous=FULL`: fsync on every commit, so acknowledged data also survives power loss (slower).
    Full,
}

/// Settings of a hub.
#[derive(Debug, Clone)]
pub struct HubConfig {
    /// Address of the MQTT listener. Port 0 picks a free port (see [`Hub::mqtt_addr`](crate::Hub::mqtt_addr)).
    pub mqtt_addr: SocketAddr,
    /// Address of the HTTP API. Port 0 picks a free port (see [`Hub::http_addr`](crate::Hub::http_addr)).
    pub http_addr: SocketAddr,
    /// Where the registry and the device data live.
    pub database: Database,
    /// SQLite synchronous mode.
    pub durability: Durability,
    /// How long an HTTP control or action request waits for the device's reply.
    pub reply_timeout: Duration,
    /// Largest allowed difference between a message's `timestamp` and the hub's clock; `None` accepts any.
    /// protocol.md §4.2: the cloud answers 405 beyond 24 hours.
    pub timestamp_tolerance: Option<Duration>,
    /// Provision the demo product `CS0SLTKSYA` and device `dev1` when the database holds no product.
    pub provision_demo: bool,
    /// Worker threads of the hub's own async runtime.
    pub worker_threads: usize,
}

impl Default for HubConfig {
    /// The defaults of `iotctl hub`: MQTT on 127.0.0.1:1883, HTTP on 127.0.0.1:8080, `iot-hub.db` in the working
    /// directory.
    fn default() -> Self {
        Self {
            mqtt_addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 1883)),
            http_addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 8080)),
            database: Database::File(crate::store::default_database_path()),
            durability: Durability::Normal,
            reply_timeout: Duration::from_secs(5),
            timestamp_tolerance: Some(Duration::from_secs(24 * 60 * 60)),
            provision_demo: true,
            worker_threads: 2,
        }
    }
}

impl HubConfig {
    /// A hub for tests: both listeners on 127.0.0.1 with ports picked by the OS, an in-memory database, the demo
    /// product and device provisioned.
    pub fn ephemeral() -> Self {
        Self {
            mqtt_addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            http_addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            database: Database::InMemory,
            ..Self::default()
        }
    }
}
