//! Wi-Fi station (esp-radio) under embassy-net: DHCP, DNS, TCP. A task keeps the station associated.

use embassy_executor::Spawner;
use embassy_net::{Stack, StackResources};
use embassy_time::Timer;
use esp_hal::peripherals::WIFI;
use esp_radio::wifi::sta::StationConfig;
use esp_radio::wifi::{
    AuthenticationMethodConfig, Config, ControllerConfig, Interface, Password, Ssid, WifiController,
};
use static_cell::StaticCell;

use crate::{config, fatal, SOCKETS};

#[embassy_executor::task]
async fn net_task(mut runner: embassy_net::Runner<'static, Interface>) -> ! {
    runner.run().await
}

#[embassy_executor::task]
async fn wifi_task(mut controller: WifiController<'static>) -> ! {
    loop {
        log::info!("Wi-Fi: joining {}", config::WIFI_SSID);
        match controller.connect_async().await {
            Ok(_) => {
                log::info!("Wi-Fi: joined");
                if let Err(e) = controller.wait_for_disconnect_async().await {
                    log::warn!("Wi-Fi: {e:?}");
                }
                log::warn!("Wi-Fi: link lost");
            }
            Err(e) => {
                log::warn!("Wi-Fi: join failed: {e:?}; retrying in 5 s");
                Timer::after_secs(5).await;
            }
        }
    }
}

/// The station's configuration from the build-time SSID and password.
fn station() -> Result<StationConfig, &'static str> {
    let ssid =
        Ssid::try_from(config::WIFI_SSID).map_err(|_| "WIFI_SSID is longer than 32 bytes")?;
    let authentication = if config::WIFI_PASSWORD.is_empty() {
        AuthenticationMethodConfig::Open
    } else {
        let password = Password::try_from(config::WIFI_PASSWORD)
            .map_err(|_| "WIFI_PASSWORD is longer than 64 bytes")?;
        AuthenticationMethodConfig::WpaWpa2Personal(password)
    };
    Ok(StationConfig::default()
        .with_ssid(ssid)
        .with_authentication(authentication))
}

/// Starts Wi-Fi and the IP stack (DHCP), and returns the stack.
pub async fn start(spawner: Spawner, wifi: WIFI<'static>, seed: u64) -> Stack<'static> {
    let station = match station() {
        Ok(station) => station,
        Err(why) => fatal(why).await,
    };
    let interface = Interface::station();
    let controller = match WifiController::new(
        wifi,
        ControllerConfig::default().with_initial_config(Config::Station(station)),
    ) {
        Ok(controller) => controller,
        Err(_) => fatal("the Wi-Fi driver did not start").await,
    };
    spawner.spawn(unwrap_spawn(wifi_task(controller)));

    static RESOURCES: StaticCell<StackResources<SOCKETS>> = StaticCell::new();
    let (stack, runner) = embassy_net::new(
        interface,
        embassy_net::Config::dhcpv4(Default::default()),
        RESOURCES.init(StackResources::new()),
        seed,
    );
    spawner.spawn(unwrap_spawn(net_task(runner)));
    stack
}

/// A task's spawn token. Each task is spawned once, so its pool of one is never exhausted.
pub fn unwrap_spawn<S>(
    token: Result<embassy_executor::SpawnToken<S>, embassy_executor::SpawnError>,
) -> embassy_executor::SpawnToken<S> {
    match token {
        Ok(token) => token,
        Err(_) => unreachable!("each task is spawned once"),
    }
}
