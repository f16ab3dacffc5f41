//! The environment monitor on Linux: the project's main job.
//!
//! `cargo run --release -p linux-node` with no arguments starts the local hub in-process, runs the device runtime
//! on simulated sensors against the hub's demo device and prints every report, reply, control and event as it
//! happens. With connection settings it reports to Tencent Cloud IoT Explorer (or an external hub) instead, and
//! with a hardware config it reads real sensors: the DHT11 through the GPIO character device and the MQ modules
//! through IIO ADC channels. See `docs/getting-started.md`.
//!
//! The library side exists so that the end-to-end tests and the latency bench drive the same wiring as the binary:
//! [`node::RunningNode::spawn`] starts a node on its own thread and streams [`events::NodeEvent`]s.

pub mod config;
pub mod events;
pub mod hardware;
pub mod local_hub;
pub mod node;
pub mod platform;
pub mod simulated;
