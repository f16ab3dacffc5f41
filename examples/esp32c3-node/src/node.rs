//! The IoT Explorer node: the runtime over this board's transport, sensors, alarm output, clock and RNG.
//! Everything it does — signing in, reporting, controls, actions, alarms, reconnecting — is `iot-runtime`'s.

use core::net::{IpAddr, SocketAddr};
use core::pin::pin;

use embassy_net::dns::DnsQueryType;
use embassy_net::tcp::client::{TcpClient, TcpClientState};
use embassy_net::Stack;
use embassy_time::{Duration, Instant, Timer};
use esp_hal::gpio::{Level, Output};
use esp_hal::rng::Rng;
use iot_core::credentials::{DeviceIdentity, Psk};
use iot_core::model::ThingModel;
use iot_runtime::{Actuators, Clock, Config, Observer, Runtime, RuntimeEvent};
use iot_transport_mqttrust::{Link, MqttrustTransport};
use static_cell::StaticCell;

use crate::board::BoardSuite;
use crate::config;

/// The environment monitor's thing model (`models/env-monitor.json`, the file imported into the IoT Explorer
/// console), minified by build.rs.
const MODEL_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/env-monitor.min.json"));

/// Offline-queue slots: reports and events kept across a disconnect (each slot 256 bytes + 24).
const QUEUE_SLOTS: usize = 8;
/// Bytes per queued message (a report of this model takes at most 235, an event 182: docs/runtime.md).
const SLOT_BYTES: usize = 256;
/// Largest MQTT payload sent or received (reports take at most 256; a `get_status_reply` with every
/// reported property about 600).
const PAYLOAD: usize = 1024;
/// Bytes of received messages kept for the runtime while it is busy.
const QUEUE: usize = 2048;
/// mqttrust's packet rings, received and sent: a payload plus its topic and header.
const RING: usize = PAYLOAD + 512;
/// The TCP socket's buffers, each way.
const TCP_BUFFER: usize = 1536;

/// embassy-time (esp-rtos's time driver) as the runtime's clock, read in milliseconds.
pub struct EmbassyClock;

impl Clock for EmbassyClock {
    fn now_ms(&self) -> u64 {
        Instant::now().as_millis()
    }

    async fn sleep_until(&self, deadline_ms: u64) {
        Timer::at(Instant::from_millis(deadline_ms)).await;
    }
}

/// The alarm output (GPIO6, active high).
pub struct Alarm(pub Output<'static>);

impl Actuators for Alarm {
    async fn set_alarm(&mut self, on: bool) {
        self.0.set_level(Level::from(on));
    }
}

/// Logs what the node does (esp-println, shown by `espflash --monitor`).
pub struct Log;

impl Observer for Log {
    fn on_event(&mut self, event: &RuntimeEvent<'_>) {
        match event {
            RuntimeEvent::Connecting { attempt } => {
                log::info!("connecting (attempt {})", attempt)
            }
            RuntimeEvent::Connected => log::info!("connected"),
            RuntimeEvent::ConnectFailed { error, retry_at_ms } => {
                log::warn!("connect failed: {error}; retry at {retry_at_ms} ms");
            }
            RuntimeEvent::Disconnected { error, retry_at_ms } => {
                log::warn!("disconnected: {error}; retry at {retry_at_ms} ms");
            }
            RuntimeEvent::Control { code, .. } => log::info!("control answered: {}", code.as_i64()),
            RuntimeEvent::Action { action_id, code } => {
                log::info!("action {action_id} answered: {}", code.as_i64())
            }
            RuntimeEvent::AlarmRaised {
                value_ppm,
                threshold_ppm,
            } => {
                log::warn!("gas alarm: {value_ppm} ppm > {threshold_ppm} ppm");
            }
            RuntimeEvent::AlarmCleared => log::info!("gas alarm cleared"),
            RuntimeEvent::SensorFault { fault } => log::warn!("sensor fault: {fault}"),
            RuntimeEvent::DroppedOldest { total } => {
                log::warn!("offline queue full: {total} dropped")
            }
            _ => {}
        }
    }
}

/// Logs why the node cannot start, every minute, forever: a configuration error does not go away by
/// restarting. Rebuild with correct values (docs/firmware.md).
async fn halt(why: &str) -> ! {
    loop {
        log::error!("{why}");
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
                    log::info!("broker {} is {address}", config::BROKER_HOST);
                    return SocketAddr::new(IpAddr::from(*address), config::BROKER_PORT);
                }
                log::warn!("DNS: no address for {}", config::BROKER_HOST);
            }
            Err(e) => log::warn!("DNS: cannot resolve {}: {e:?}", config::BROKER_HOST),
        }
        Timer::after_secs(5).await;
    }
}

/// Builds the runtime over MQTT (mqttrust) on the board's TCP/IP stack and runs it forever.
pub async fn run(
    stack: Stack<'static>,
    sensors: BoardSuite,
    alarm: Output<'static>,
    rng: Rng,
) -> ! {
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
    let config = Config::new(identity, model, env!("CARGO_PKG_VERSION"));

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
        Alarm(alarm),
        EmbassyClock,
        rng,
    );
    let mut runtime = match runtime {
        Ok(runtime) => runtime.with_observer(Log),
        Err(e) => halt_with(e).await,
    };
    match runtime.run().await {}
}

async fn halt_with(error: iot_runtime::ConfigError) -> ! {
    loop {
        log::error!("runtime configuration refused: {error}");
        Timer::after_secs(60).await;
    }
}
