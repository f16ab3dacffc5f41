//! `iotctl hub`: run the local hub until Ctrl-C (or SIGTERM).
//!
//! ```text
//! iotctl hub --mqtt 127.0.0.1:1883 --http 127.0.0.1:8080 --db iot-hub.db
//! MQTT broker on 127.0.0.1:1883
//! HTTP API on http://127.0.0.1:8080
//! ```

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use hub::{Database, Durability, Hub, HubConfig};

use crate::error::CliError;

/// Arguments of `iotctl hub`.
#[derive(Debug, Args)]
#[command(after_help = "\
On first start with an empty database the hub provisions the demo product CS0SLTKSYA (the \
env-monitor thing model) and its device dev1, so the tutorial's credentials work unchanged. \
See docs/hub.md for the HTTP API.")]
pub struct HubArgs {
    /// Address of the MQTT broker (port 0 picks a free port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:1883")]
    mqtt: SocketAddr,

    /// Address of the HTTP API (port 0 picks a free port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    http: SocketAddr,

    /// Database file, created on first start.
    #[arg(
        long,
        value_name = "PATH",
        default_value = "iot-hub.db",
        conflicts_with = "memory"
    )]
    db: PathBuf,

    /// Keep everything in memory instead of a file (lost on exit).
    #[arg(long)]
    memory: bool,

    /// fsync every commit, so acknowledged data also survives power loss (slower).
    #[arg(long)]
    sync_full: bool,

    /// Seconds an HTTP control or action request waits for the device's reply.
    #[arg(long, value_name = "SECS", default_value_t = 5)]
    reply_timeout: u64,

    /// Do not provision the demo product and device into an empty database.
    #[arg(long)]
    no_demo: bool,
}

/// Starts listening for Ctrl-C, and SIGTERM on Unix; the returned future ends at the first of them.
///
/// The handlers are installed here, before the hub prints its addresses: a script that waits for them and then
/// stops the hub must find the signal handled, not fall to the default action.
#[cfg(unix)]
fn stop_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    })
}

/// Starts listening for Ctrl-C; the returned future ends when it comes.
#[cfg(not(unix))]
fn stop_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::windows::ctrl_c;
    let mut interrupt = ctrl_c()?;
    Ok(async move {
        interrupt.recv().await;
    })
}

/// Runs the hub in the foreground.
pub fn run(args: &HubArgs, out: &mut impl Write) -> Result<(), CliError> {
    let config = HubConfig {
        mqtt_addr: args.mqtt,
        http_addr: args.http,
        database: if args.memory {
            Database::InMemory
        } else {
            Database::File(args.db.clone())
        },
        durability: if args.sync_full {
            Durability::Full
        } else {
            Durability::Normal
        },
        reply_timeout: Duration::from_secs(args.reply_timeout),
        provision_demo: !args.no_demo,
        ..HubConfig::default()
    };
    // The hub runs on its own threads; this small runtime only waits for it and for the signal.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(CliError::Runtime)?;
    runtime.block_on(async {
        let stop = stop_signal().map_err(CliError::Signals)?;
        let hub = Hub::start(config).await.map_err(CliError::Hub)?;
        writeln!(out, "MQTT broker on {}", hub.mqtt_addr()).map_err(CliError::Output)?;
        writeln!(out, "HTTP API on http://{}", hub.http_addr()).map_err(CliError::Output)?;
        out.flush().map_err(CliError::Output)?;
        stop.await;
        hub.shutdown().await;
        writeln!(out, "hub stopped").map_err(CliError::Output)
    })
}
