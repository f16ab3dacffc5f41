//! Wiring: the runtime over the rumqttc transport, the chosen sensors, the alarm pin and a tokio clock, on a thread
//! of its own.
//!
//! The runtime is a `no_std` loop whose futures are not `Send`, so it runs on a dedicated thread with a
//! current-thread tokio runtime (which also drives the rumqttc connection task). [`RunningNode`] is the handle: it
//! streams [`NodeEvent`]s and stops the node, which first delivers what is queued.

use std::time::Duration;

use crate::simulated::Room;
use iot_core::credentials::{DeviceIdentity, Psk};
use iot_core::model::ThingModel;
use iot_runtime::{Clock, Config, Runtime, Stats};
use iot_transport_rumqttc::{RumqttcTransport, TlsConfig};
use sensors::suite::{EnvSample, EnvironmentSensors, GasSensorId, SensorFault, SuiteError};
use tokio::sync::{mpsc, oneshot};

use crate::config::Remote;
use crate::events::{NodeEvent, Tap, TapObserver};
use crate::hardware::{AlarmPin, HardwareSuite};
use crate::platform::{NodeActuators, TokioClock};

/// The environment monitor's thing model (the file the console imports and the hub provisions).
pub const MODEL_JSON: &str = include_str!("../../../models/env-monitor.json");

/// Firmware version sent in `report_info`.
pub const FIRMWARE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Offline-queue slots: a 30 s outage at ten reports a second (300 reports, plus events) fits with room to spare;
/// at the default 5 s interval it holds 40 minutes of reports.
pub const QUEUE_SLOTS: usize = 512;

/// Bytes per queue slot (the runtime's default; the largest report is 243 bytes).
pub const SLOT_BYTES: usize = 256;

/// How long Ctrl-C waits for the queue to drain before disconnecting.
pub const SHUTDOWN_FLUSH: Duration = Duration::from_secs(5);

/// Either sensor suite behind one type.
pub enum NodeSensors {
    /// The simulator.
    Simulated(Box<Room>),
    /// Real sensors.
    Hardware(Box<HardwareSuite>),
}

impl std::fmt::Debug for NodeSensors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Simulated(s) => f.debug_tuple("Simulated").field(s).finish(),
            // The GPIO handle has no Debug.
            Self::Hardware(_) => f.write_str("Hardware"),
        }
    }
}

impl EnvironmentSensors for NodeSensors {
    async fn sample(&mut self, now_ms: u64) -> Result<EnvSample, SuiteError> {
        match self {
            Self::Simulated(s) => s.sample(now_ms).await,
            Self::Hardware(s) => s.sample(now_ms).await,
        }
    }

    async fn calibrate(&mut self, sensor: GasSensorId, now_ms: u64) -> Result<f32, SensorFault> {
        let result = match self {
            Self::Simulated(s) => s.calibrate(sensor, now_ms).await,
            Self::Hardware(s) => s.calibrate(sensor, now_ms).await,
        };
        if let Ok(r0_kilohms) = result {
            // Real sensors: the value to keep as r0_kilohms in the config file.
            log::info!("{sensor} calibrated: R0 = {r0_kilohms:.2} kΩ");
        }
        result
    }

    fn r0(&self, sensor: GasSensorId) -> Option<sensors::mq::R0> {
        match self {
            Self::Simulated(s) => s.r0(sensor),
            Self::Hardware(s) => s.r0(sensor),
        }
    }

    fn restore_r0(&mut self, sensor: GasSensorId, r0: sensors::mq::R0) {
        match self {
            Self::Simulated(s) => s.restore_r0(sensor, r0),
            Self::Hardware(s) => s.restore_r0(sensor, r0),
        }
    }
}

/// Runtime settings a test or bench may change; the defaults are the project's (protocol.md §11).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tuning {
    /// Report interval at boot, ms. Controls set it in whole seconds (the model's `report_interval`); a test may
    /// start faster.
    pub report_interval_ms: u32,
    /// First reconnect delay, runtime ms.
    pub backoff_min_ms: u32,
    /// Reconnect delay cap, runtime ms.
    pub backoff_max_ms: u32,
    /// Reply timeout, runtime ms.
    pub reply_timeout_ms: u32,
    /// Least time between two queued publishes, runtime ms (0 for a local hub).
    pub publish_spacing_ms: u32,
    /// Queued messages in flight at once.
    pub max_in_flight: u8,
}

impl Default for Tuning {
    fn default() -> Self {
        Self {
            report_interval_ms: crate::config::DEFAULT_REPORT_INTERVAL_SECS * 1000,
            backoff_min_ms: 5_000,
            backoff_max_ms: 60_000,
            reply_timeout_ms: 5_000,
            publish_spacing_ms: 100,
            max_in_flight: 4,
        }
    }
}

/// Everything a node needs.
#[derive(Debug)]
pub struct NodeSpec {
    /// The broker and the device.
    pub remote: Remote,
    /// The sensors.
    pub sensors: NodeSensors,
    /// The alarm output.
    pub alarm: Option<AlarmPin>,
    /// Runtime settings.
    pub tuning: Tuning,
    /// Print each event as a line on stdout.
    pub print: bool,
}

/// Why the node could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The credentials are unusable.
    #[error("{0}")]
    Credentials(#[from] iot_core::credentials::CredentialsError),
    /// The thing model could not be read.
    #[error("the thing model models/env-monitor.json is not valid: {0}")]
    Model(String),
    /// The runtime refused its configuration.
    #[error("{0}")]
    Config(#[from] iot_runtime::ConfigError),
    /// The transport could not be created (TLS material).
    #[error("cannot set up the MQTT connection: {0}")]
    Transport(#[from] iot_transport_rumqttc::Error),
    /// The CA file could not be read.
    #[error("cannot read the CA file {path}: {source}")]
    CaFile {
        /// The file.
        path: std::path::PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The node's thread or async runtime could not start.
    #[error("cannot start the node's thread: {0}")]
    Thread(std::io::Error),
    /// The node's thread ended abnormally.
    #[error("the node's thread stopped unexpectedly")]
    Crashed,
}

/// What the node did, when it stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// The runtime's counters.
    pub stats: Stats,
    /// Messages still queued after the final flush (not delivered).
    pub undelivered: usize,
}

/// A node running on its own thread.
#[derive(Debug)]
pub struct RunningNode {
    events: mpsc::UnboundedReceiver<NodeEvent>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Result<Summary, NodeError>>>,
}

/// The transport for a remote: plain TCP, or TLS with the bundled Tencent CA or a given one.
fn transport(remote: &Remote) -> Result<RumqttcTransport, NodeError> {
    let config = if remote.tls {
        let tls = match &remote.ca_file {
            Some(path) => {
                let pem = std::fs::read(path).map_err(|source| NodeError::CaFile {
                    path: path.clone(),
                    source,
                })?;
                TlsConfig::with_ca_pem(pem)
            }
            None => TlsConfig::tencent_iot(),
        };
        iot_transport_rumqttc::Config::tls(remote.host.clone(), remote.port, tls)
    } else {
        iot_transport_rumqttc::Config::tcp(remote.host.clone(), remote.port)
    };
    Ok(RumqttcTransport::new(config)?)
}

async fn run(
    spec: NodeSpec,
    events: mpsc::UnboundedSender<NodeEvent>,
    stop: oneshot::Receiver<()>,
) -> Result<Summary, NodeError> {
    let NodeSpec {
        remote,
        sensors,
        alarm,
        tuning,
        print,
    } = spec;
    let psk = Psk::from_base64(remote.device.device_psk.expose())?;
    let identity =
        DeviceIdentity::with_psk(&remote.device.product_id, &remote.device.device_name, psk)?;
    let model = ThingModel::parse(MODEL_JSON).map_err(|e| NodeError::Model(e.to_string()))?;
    let mut config = Config::new(identity, model, FIRMWARE_VERSION);
    config.initial.report_interval_ms = tuning.report_interval_ms;
    config.backoff_min_ms = tuning.backoff_min_ms;
    config.backoff_max_ms = tuning.backoff_max_ms;
    config.reply_timeout_ms = tuning.reply_timeout_ms;
    config.publish_spacing_ms = tuning.publish_spacing_ms;
    config.max_in_flight = tuning.max_in_flight;

    let clock = TokioClock::new();
    let observer = TapObserver::new(Tap::new(print, Some(events)), move || clock.now_ms());
    let runtime: Runtime<'_, _, _, _, _, _, (), QUEUE_SLOTS, SLOT_BYTES> = Runtime::new(
        config,
        transport(&remote)?,
        sensors,
        NodeActuators::new(alarm),
        clock,
        rand::rng(),
    )?;
    // The queue lives inside the runtime (~150 KB): keep it on the heap, not on this thread's stack.
    let mut runtime = Box::new(runtime.with_observer(observer));
    tokio::select! {
        never = runtime.run() => match never {},
        _ = stop => {}
    }
    let flush_ms = u64::try_from(SHUTDOWN_FLUSH.as_millis()).unwrap_or(u64::MAX);
    let undelivered = runtime.shutdown(flush_ms).await;
    Ok(Summary {
        stats: runtime.stats(),
        undelivered,
    })
}

impl RunningNode {
    /// Starts the node on a new thread. It connects and reports at once.
    ///
    /// # Errors
    /// [`NodeError::Thread`] if the thread cannot start; configuration errors come back from [`stop`](Self::stop)
    /// (and end the event stream).
    pub fn spawn(spec: NodeSpec) -> Result<Self, NodeError> {
        let (event_tx, events) = mpsc::unbounded_channel();
        let (stop_tx, stop_rx) = oneshot::channel();
        let thread = std::thread::Builder::new()
            .name("linux-node".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(NodeError::Thread)?;
                rt.block_on(run(spec, event_tx, stop_rx))
            })
            .map_err(NodeError::Thread)?;
        Ok(Self {
            events,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// The next event, or `None` once the node has stopped.
    pub async fn next_event(&mut self) -> Option<NodeEvent> {
        self.events.recv().await
    }

    /// Waits up to `timeout` for an event that `matches`, skipping the others.
    ///
    /// # Errors
    /// The events seen meanwhile, when the time ran out or the node stopped first.
    pub async fn wait_for(
        &mut self,
        timeout: Duration,
        mut matches: impl FnMut(&NodeEvent) -> bool,
    ) -> Result<NodeEvent, Vec<NodeEvent>> {
        let mut skipped = Vec::new();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(event)) if matches(&event) => return Ok(event),
                Ok(Some(event)) => skipped.push(event),
                Ok(None) | Err(_) => return Err(skipped),
            }
        }
    }

    /// Whether the node's thread has ended (it only ends on its own when it could not start).
    pub fn is_finished(&self) -> bool {
        self.thread
            .as_ref()
            .is_none_or(std::thread::JoinHandle::is_finished)
    }

    /// Stops sampling, delivers what is queued (up to [`SHUTDOWN_FLUSH`]), disconnects and waits for the thread.
    /// Blocking: call it from `spawn_blocking` or a plain thread, not inside an async task.
    ///
    /// # Errors
    /// The error that stopped the node early, if any.
    pub fn stop(mut self) -> Result<Summary, NodeError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.thread.take() {
            Some(thread) => thread.join().map_err(|_| NodeError::Crashed)?,
            None => Err(NodeError::Crashed),
        }
    }

    /// The rest of the event stream, for a caller that wants to read events while another thread stops the node.
    pub fn take_events(&mut self) -> mpsc::UnboundedReceiver<NodeEvent> {
        let (_, empty) = mpsc::unbounded_channel();
        std::mem::replace(&mut self.events, empty)
    }
}

impl Drop for RunningNode {
    fn drop(&mut self) {
        // Without a stop signal the node would run on after its handle is gone.
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
