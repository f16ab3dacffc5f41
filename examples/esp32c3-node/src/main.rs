//! The environment monitor node on an ESP32-C3 (or, with the `esp32c6` feature, an ESP32-C6).
//!
//! This crate is only the board's wiring: pins, the ADC, Wi-Fi and the network stack, the clock, the RNG and the
//! credentials. The node itself — connecting, reporting, controls, actions, alarms, reconnecting — is the
//! `iot-runtime` crate, the same code that runs on Linux and the RP2040, run over embassy-net by `iot-embassy-node`
//! (which also holds the build-time credentials, `iot_embassy_node::config`).
//!
//! Build, flash and wiring: docs/firmware.md.
#![no_std]
#![no_main]

mod analog;
mod board;
#[cfg(not(feature = "sdk"))]
mod bringup;
mod net;

#[cfg(all(feature = "esp32c3", feature = "esp32c6"))]
compile_error!(
    "choose one chip: the default `esp32c3`, or `--no-default-features --features sdk,esp32c6`"
);
#[cfg(not(any(feature = "esp32c3", feature = "esp32c6")))]
compile_error!("choose a chip: feature `esp32c3` (the default) or `esp32c6`");

use embassy_executor::Spawner;
use embassy_time::{Instant, Timer};
use esp_hal::clock::CpuClock;
use esp_hal::gpio::{Level, Output, OutputConfig};
use esp_hal::rng::Rng;
use esp_hal::timer::timg::TimerGroup;
use iot_embassy_node::config;
use {esp_alloc as _, esp_backtrace as _};

// The application descriptor the second-stage boot loader checks.
esp_bootloader_esp_idf::esp_app_desc!();

/// Sockets of the IP stack: DHCP, DNS, the MQTT connection and one spare.
pub const SOCKETS: usize = 4;

/// Logs why the board cannot go on, waits 5 s (for the log to be read) and restarts it.
pub async fn fatal(why: &str) -> ! {
    log::error!("{why}; restarting in 5 s");
    Timer::after_secs(5).await;
    esp_hal::system::software_reset()
}

#[esp_rtos::main]
async fn main(spawner: Spawner) -> ! {
    esp_println::logger::init_logger_from_env();
    let peripherals = esp_hal::init(esp_hal::Config::default().with_cpu_clock(CpuClock::max()));
    // The Wi-Fi driver allocates its buffers on this heap.
    esp_alloc::heap_allocator!(size: 72 * 1024);
    let timg0 = TimerGroup::new(peripherals.TIMG0);
    esp_rtos::start(timg0.timer0, peripherals.FROM_CPU_INTR0);

    let booted_ms = Instant::now().as_millis();
    let rng = Rng::new();
    log::info!(
        "{}: device {}/{}, broker {}:{}",
        env!("CARGO_PKG_NAME"),
        config::PRODUCT_ID,
        config::DEVICE_NAME,
        config::BROKER_HOST,
        config::BROKER_PORT
    );

    let seed = (u64::from(rng.random()) << 32) | u64::from(rng.random());
    let stack = net::start(spawner, peripherals.WIFI, seed).await;

    let sensors = board::sensors(
        board::SensorPins {
            adc: peripherals.ADC1,
            mq2: peripherals.GPIO0,
            mq4: peripherals.GPIO1,
            mq7: peripherals.GPIO3,
            mq135: peripherals.GPIO4,
            dht: peripherals.GPIO10,
        },
        booted_ms,
    );
    // The gas alarm output (buzzer or LED, active high) on GPIO6.
    let alarm = Output::new(peripherals.GPIO6, Level::Low, OutputConfig::default());

    #[cfg(feature = "sdk")]
    iot_embassy_node::run_node(
        stack,
        sensors,
        iot_embassy_node::AlarmPin(alarm),
        rng,
        iot_embassy_node::Settings {
            firmware_version: env!("CARGO_PKG_VERSION"),
        },
    )
    .await;
    #[cfg(not(feature = "sdk"))]
    {
        let _ = (alarm, rng);
        bringup::run(stack, sensors).await
    }
}
