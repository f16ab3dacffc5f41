//! A local Tencent Cloud IoT Explorer.
//!
//! The hub behaves like IoT Explorer toward devices, so a device (this project's, the official C SDK, or any MQTT
//! client) can be developed and tested without the cloud:
//!
//! - an MQTT broker (rmqtt) that authenticates every CONNECT against the registry (protocol.md §3.2), lets a
//!   device publish only to its own up topics and subscribe only to its own down topics, and enforces the limits of
//!   protocol.md §3.5;
//! - the data-template service (protocol.md §4, §6.1, §6.2) with validation by `iot_core::model`;
//! - a registry and history in SQLite;
//! - an HTTP API (axum) to list devices, read their state and history, and send control and action requests.
//!
//! The hub runs on its own threads and async runtime, so it can be embedded in any program:
//!
//! ```no_run
//! # async fn demo() -> Result<(), hub::HubError> {
//! let hub = hub::Hub::start(hub::HubConfig::ephemeral()).await?;
//! println!("MQTT on {}, HTTP on {}", hub.mqtt_addr(), hub.http_addr());
//! hub.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! See `docs/hub.md` for the rules, the HTTP API and how to run it.

#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod acl;
pub mod api;
pub mod auth;
pub mod broker;
pub mod config;
pub mod model;
pub mod psk;
pub mod service;
pub mod store;

use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::oneshot;

pub use config::{Database, Durability, HubConfig};

use crate::broker::Broker;
use crate::service::{now_ms, Service, ServiceConfig, ServiceError};
use crate::store::{Store, StoreError};

/// ProductId of the demo product provisioned on first start.
pub const DEMO_PRODUCT_ID: &str = "CS0SLTKSYA";
/// DeviceName of the demo device provisioned on first start.
pub const DEMO_DEVICE_NAME: &str = "dev1";
/// PSK of the demo device: the tutorial's own secret (protocol.md §8.1 vector 1), so its credentials work here.
pub const DEMO_DEVICE_PSK: &str = "IyXmUW5sU/q1vnb5yzTkeQ==";
/// Thing model of the demo product (`models/env-monitor.json`).
pub const DEMO_MODEL: &str = include_str!("../../../models/env-monitor.json");

/// Errors while starting the hub.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    /// The database could not be opened or provisioned.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The service could not load the registry.
    #[error(transparent)]
    Service(#[from] ServiceError),
    /// The MQTT listener could not bind.
    #[error(transparent)]
    Broker(#[from] broker::BrokerError),
    /// The HTTP listener could not bind.
    #[error("cannot listen for HTTP on {addr}: {source}; pick a free address with --http")]
    Http {
        /// The requested address.
        addr: SocketAddr,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The hub's threads could not start.
    #[error("cannot start the hub's runtime: {0}")]
    Runtime(std::io::Error),
    /// The hub thread ended before reporting that it was ready.
    #[error("the hub stopped while starting; see the log for the cause")]
    Aborted,
}

/// A running hub. Dropping it stops the hub too; [`Hub::shutdown`] also waits until it has stopped.
#[derive(Debug)]
pub struct Hub {
    mqtt_addr: SocketAddr,
    http_addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    stopped: Option<oneshot::Receiver<()>>,
    thread: Option<JoinHandle<()>>,
}

struct Ready {
    mqtt_addr: SocketAddr,
    http_addr: SocketAddr,
}

impl Hub {
    /// Opens the database (provisioning the demo product and device on first start), binds both listeners and
    /// starts serving on the hub's own runtime. Returns once both listeners accept connections.
    ///
    /// # Errors
    /// [`HubError`] when the database cannot be opened or an address cannot be bound.
    pub async fn start(config: HubConfig) -> Result<Self, HubError> {
        let (ready_tx, ready_rx) = oneshot::channel::<Result<Ready, HubError>>();
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let (stopped_tx, stopped_rx) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("iot-hub".into())
            .spawn(move || run(config, ready_tx, stop_rx, stopped_tx))
            .map_err(HubError::Runtime)?;
        let ready = ready_rx.await.map_err(|_| HubError::Aborted)??;
        Ok(Self {
            mqtt_addr: ready.mqtt_addr,
            http_addr: ready.http_addr,
            stop: Some(stop_tx),
            stopped: Some(stopped_rx),
            thread: Some(thread),
        })
    }

    /// The address the MQTT listener is bound to (with the real port when the config asked for port 0).
    pub fn mqtt_addr(&self) -> SocketAddr {
        self.mqtt_addr
    }

    /// The address the HTTP API is bound to.
    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    /// Stops accepting connections, closes every device connection and the database, and waits until the hub's
    /// threads have ended.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(stopped) = self.stopped.take() {
            let _ = stopped.await;
        }
        // The thread has sent `stopped` as its last action, so this join returns at once.
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The hub thread: its own runtime, so that shutting the runtime down ends every connection task at once.
fn run(
    config: HubConfig,
    ready: oneshot::Sender<Result<Ready, HubError>>,
    stop: oneshot::Receiver<()>,
    stopped: oneshot::Sender<()>,
) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(config.worker_threads.max(1))
        .thread_name("iot-hub-worker")
        .enable_all()
        .build();
    let runtime = match runtime {
        Ok(rt) => rt,
        Err(e) => {
            let _ = ready.send(Err(HubError::Runtime(e)));
            return;
        }
    };
    runtime.block_on(async move {
        match serve(config).await {
            Ok((addrs, tasks)) => {
                log::info!(
                    "hub serving MQTT on {} and HTTP on {}",
                    addrs.mqtt_addr,
                    addrs.http_addr
                );
                if ready.send(Ok(addrs)).is_err() {
                    return;
                }
                // A dropped `Hub` also closes the channel, which ends the wait the same way.
                let _ = stop.await;
                log::info!("hub shutting down");
                for task in tasks {
                    task.abort();
                }
            }
            Err(e) => {
                let _ = ready.send(Err(e));
            }
        }
    });
    // Ends every remaining task (device connections, pending requests) and closes their sockets.
    runtime.shutdown_timeout(Duration::from_secs(2));
    let _ = stopped.send(());
}

fn provision_demo(store: &Store) -> Result<(), StoreError> {
    if !store.has_no_products()? {
        return Ok(());
    }
    let now = now_ms();
    store.add_product(DEMO_PRODUCT_ID, DEMO_MODEL, now)?;
    store.add_device(DEMO_PRODUCT_ID, DEMO_DEVICE_NAME, DEMO_DEVICE_PSK, now)?;
    log::info!("provisioned demo product {DEMO_PRODUCT_ID} and device {DEMO_DEVICE_NAME}");
    Ok(())
}

async fn serve(config: HubConfig) -> Result<(Ready, Vec<tokio::task::JoinHandle<()>>), HubError> {
    let store = Store::open(&config.database, config.durability)?;
    if config.provision_demo {
        provision_demo(&store)?;
    }
    let broker = Broker::bind(config.mqtt_addr).await?;
    let http = tokio::net::TcpListener::bind(config.http_addr)
        .await
        .map_err(|source| HubError::Http {
            addr: config.http_addr,
            source,
        })?;
    let http_addr = http.local_addr().map_err(|source| HubError::Http {
        addr: config.http_addr,
        source,
    })?;
    let service_config = ServiceConfig {
        reply_timeout: config.reply_timeout,
        timestamp_tolerance: config.timestamp_tolerance,
    };
    let service = Arc::new(Service::new(
        Arc::new(store),
        broker.downlink.clone(),
        service_config,
    )?);
    let ready = Ready {
        mqtt_addr: broker.local_addr,
        http_addr,
    };

    let mqtt_task = tokio::spawn(broker.serve(service.clone()));
    let app = api::router(service);
    let http_task = tokio::spawn(async move {
        if let Err(e) = axum::serve(http, app).await {
            log::error!("HTTP API stopped: {e}");
        }
    });
    Ok((ready, vec![mqtt_task, http_task]))
}
