//! The board without the SDK: the network comes up, the broker is reached over TCP, and the sensors are sampled
//! and logged every 10 s. Use it to check the wiring before provisioning a device; its flash size is the
//! baseline the SDK's share is measured against (docs/firmware.md).

use embassy_net::dns::DnsQueryType;
use embassy_net::tcp::TcpSocket;
use embassy_net::Stack;
use embassy_time::{Duration, Instant, Timer};
use sensors::suite::EnvironmentSensors;

use crate::board::BoardSuite;
use crate::config;

/// Samples and probes forever.
pub async fn run(stack: Stack<'static>, mut sensors: BoardSuite) -> ! {
    let mut rx = [0u8; 256];
    let mut tx = [0u8; 256];
    loop {
        match sensors.sample(Instant::now().as_millis()).await {
            Ok(sample) => log::info!("sample: {sample:?}"),
            Err(e) => log::warn!("no sensor answered: {e}"),
        }
        probe_broker(stack, &mut rx, &mut tx).await;
        Timer::after_secs(10).await;
    }
}

/// Resolves the broker and opens (then closes) a TCP connection to it.
async fn probe_broker(stack: Stack<'static>, rx: &mut [u8], tx: &mut [u8]) {
    if !stack.is_config_up() {
        log::info!("network: waiting for an address (DHCP)");
        return;
    }
    let address = match stack.dns_query(config::BROKER_HOST, DnsQueryType::A).await {
        Ok(addresses) => match addresses.first() {
            Some(address) => *address,
            None => {
                log::warn!("DNS: no address for {}", config::BROKER_HOST);
                return;
            }
        },
        Err(e) => {
            log::warn!("DNS: cannot resolve {}: {:?}", config::BROKER_HOST, e);
            return;
        }
    };
    let mut socket = TcpSocket::new(stack, rx, tx);
    socket.set_timeout(Some(Duration::from_secs(10)));
    match socket.connect((address, config::BROKER_PORT)).await {
        Ok(()) => log::info!("broker {}:{} reachable", address, config::BROKER_PORT),
        Err(e) => log::warn!(
            "broker {}:{} unreachable: {}",
            address,
            config::BROKER_PORT,
            e
        ),
    }
    socket.close();
    socket.flush().await.ok();
}
