//! The node: the runtime over mqttrust on embassy-net, with embassy-time as its clock. Everything it does —
//! signing in, reporting, controls, actions, alarms, reconnecting — is `iot-runtime`'s.

use core::convert::Infallible;
use core::net::{IpAddr, SocketAddr};
use core::pin::pin;

use embassy_net::dns::DnsQueryType;
use embassy_net::tcp::client::{TcpClient, TcpClientState};
use embassy_net::Stack;
use embassy_time::{Duration, Instant, Timer};
use embedded_hal::digital::{OutputPin, PinState};
use iot_core::credentials::{DeviceIdentity, Psk};
use iot_core::model::ThingModel;
use iot_runtime::rand_core::RngCore;
use iot_runtime::{Actuators, Clock, Config, ConfigError, Observer, Runtime, RuntimeEvent};
use iot_transport_mqttrust::{Link, MqttrustTransport};
use sensors::suite::EnvironmentSensors;
use static_cell::StaticCell;

use crate::config;

/// The environment monitor's thing model (`models/env-monitor.json`, the file imported into the IoT Explorer
/// console), minified by build.rs.
const MODEL_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/env-monitor.min.json"));

/// Offline-queue slots: reports and events kept across a disconnect (each slot 256 bytes + 24).
pub const QUEUE_SLOTS: usize = 8;
/// Bytes per queued message (a report of this model takes at most 235, an event 182: docs/runtime.md).
pub const SLOT_BYTES: usize = 256;
/// Largest MQTT payload sent or received (reports take at most 256; a `get_status_reply` with every
/// reported property about 600).
pub const PAYLOAD: usize = 1024;
/// Bytes of received messages kept for the runtime while it is busy.
pub const QUEUE: usize = 2048;
/// mqttrust's packet rings, received and sent: a payload plus its topic and header.
pub const RING: usize = PAYLOAD + 512;
/// The TCP socket's buffers, each way.
pub const TCP_BUFFER: usize = 1536;

/// What the node is, besides its build-time [`config`]: the firmware's own settings.
#[derive(Clone, Copy)]
pub struct Settings {
    /// The firmware version reported to the cloud (the firmware crate's `env!("CARGO_PKG_VERSION")`).
    pub firmware_version: &'static str,
}

/// embassy-time as the runtime's clock (the board's time driver, read in milliseconds).
pub struct EmbassyClock;

impl Clock for EmbassyClock {
    fn now_ms(&self) -> u64 {
        Instant::now().as_millis()
    }

    async fn sleep_until(&self, deadline_ms: u64) {
        Timer::at(Instant::from_millis(deadline_ms)).await;
    }
}

/// The alarm output on a GPIO pin, active high: high while the gas alarm is raised.
///
/// Any embedded-hal output whose writes cannot fail (embassy-rp's and esp-hal's `Output`).
pub struct AlarmPin<P>(pub P);

impl<P: OutputPin<Error = Infallible>> Actuators for AlarmPin<P> {
    async fn set_alarm(&mut self, on: bool) {
        match self.0.set_state(PinState::from(on)) {
            Ok(()) => {}
            Err(never) => match never {},
        }
    }
}

/// Logs what the node does, over defmt or `log` (the crate's feature).
pub struct Log;

impl Observer for Log {
    fn on_event(&mut self, event: &RuntimeEvent<'_>) {
        match event {
            RuntimeEvent::Connecting { attempt } => info!("connecting (attempt {})", attempt),
            RuntimeEvent::Connected => info!("connected"),
            RuntimeEvent::ConnectFailed { error, retry_at_ms } => {
                warn!("connect failed: {}; retry at {} ms", error, retry_at_ms);
            }
            RuntimeEvent::Disconnected { error, retry_at_ms } => {
                warn!("disconnected: {}; retry at {} ms", error, retry_at_ms);
            }
            RuntimeEvent::Control { code, .. } => info!("control answered: {}", code.as_i64()),
            RuntimeEvent::Action { action_id, code } => {
                info!("action {} answered: {}", action_id, code.as_i64());
            }
            RuntimeEvent::AlarmRaised {
                value_ppm,
                threshold_ppm,
            } => warn!("gas alarm: {} ppm > {} ppm", value_ppm, threshold_ppm),
            RuntimeEvent::AlarmCleared => info!("gas alarm cleared"),
            RuntimeEvent::SensorFault { fault } => warn!("sensor fault: {}", fault),
            RuntimeEvent::DroppedOldest { total } => warn!("offline queue full: {} dropped", total),
            _ => {}
        }
    }
}

/// Logs why the node cannot start, every minute, forever: a configuration error does not go away by
/// restarting. Rebuild with correct values (docs/firmware.md).
async fn halt(why: &str) -> ! {
    loop {
        error!("{}", why);
        Timer::after_secs(60).await;
    }
}

/// [`halt`] for a configuration the runtime refused.
async fn halt_with(error: ConfigError) -> ! {
    loop {
        error!("runtime configuration refused: {}", error);
        Timer::after_secs(60).await;
    }
}

/// The broker's address: waits for the network, then resolves [`config::BROKER_HOST`] (an IPv4 address
/// resolves to itself), retrying every 5 s. Resolved once per boot.
async fn broker(stack: Stack<'static>) -> SocketAddr {
    loop {
        stack.wait_config_up().await;
        match stack.dns_query(config::BROKER_HOST, DnsQueryType::A).await {
            Ok(addresses) => {
                if let Some(address) = addresses.first() {
                    info!("broker {} is {}", config::BROKER_HOST, address);
                    return SocketAddr::new(IpAddr::from(*address), config::BROKER_PORT);
                }
                warn!("DNS: no address for {}", config::BROKER_HOST);
            }
            Err(e) => warn!("DNS: cannot resolve {}: {:?}", config::BROKER_HOST, e),
        }
        Timer::after_secs(5).await;
    }
}

/// Builds the runtime over MQTT (mqttrust) on the board's TCP/IP stack and runs it forever, driving
/// `actuators` (an [`AlarmPin`] on most boards).
///
/// The credentials and broker come from [`config`]; a malformed value, or a configuration the runtime refuses,
/// is logged every minute instead (rebuild with correct values). Call it once: the TCP client's state is a
/// `static`.
pub async fn run_node<S, A, R>(
    stack: Stack<'static>,
    sensors: S,
    actuators: A,
    rng: R,
    settings: Settings,
) -> !
where
    S: EnvironmentSensors,
    A: Actuators,
    R: RngCore,
{
    let Ok(psk) = Psk::from_base64(config::DEVICE_PSK) else {
        halt("IOT_DEVICE_PSK is not a device key (the base64 text the console shows); rebuild with it").await
    };
    let identity =
        match DeviceIdentity::with_psk(config::PRODUCT_ID, config::DEVICE_NAME, psk) {
            Ok(identity) => identity,
            Err(_) => halt(
                "IOT_PRODUCT_ID or IOT_DEVICE_NAME is malformed; rebuild with the console's values",
            )
            .await,
        };
    let model = match ThingModel::parse(MODEL_JSON) {
        Ok(model) => model,
        Err(_) => halt("the bundled thing model does not parse").await,
    };
    let config = Config::new(identity, model, settings.firmware_version);

    let broker = broker(stack).await;
    static TCP: StaticCell<TcpClientState<1, TCP_BUFFER, TCP_BUFFER>> = StaticCell::new();
    let mut tcp = TcpClient::new(stack, TCP.init(TcpClientState::new()));
    // A dead peer shows as a timeout instead of a connection that hangs; the keep-alive is 240 s.
    tcp.set_timeout(Some(Duration::from_secs(300)));
    let link = Link::<PAYLOAD, QUEUE>::new();
    let driver = pin!(link.driver::<_, RING, RING>(&tcp, broker));
    let transport = MqttrustTransport::new(&link, driver);
    let runtime = Runtime::<_, _, _, _, _, (), QUEUE_SLOTS, SLOT_BYTES>::new(
        config,
        transport,
        sensors,
        actuators,
        EmbassyClock,
        rng,
    );
    let mut runtime = match runtime {
        Ok(runtime) => runtime.with_observer(Log),
        Err(e) => halt_with(e).await,
    };
    match runtime.run().await {}
}
