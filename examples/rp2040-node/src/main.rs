//! The environment monitor node on an RP2040.
//!
//! This crate is only the board's wiring: pins, the ADC, the network stack, the clock, the RNG and the
//! credentials. The node itself — connecting, reporting, controls, actions, alarms, reconnecting — is the
//! `iot-runtime` crate, the same code that runs on Linux and the ESP32-C3, run over embassy-net by `iot-embassy-node`
//! (which also holds the build-time credentials, `iot_embassy_node::config`).
//!
//! Network: a W5500 Ethernet controller (W5500-EVB-Pico, default feature `w5500`) or the Pico W's CYW43439 (`pico-w`).
//! Sensors: a DHT11 and four MQ gas sensors through an ADS1115 (or three on the on-chip ADC, `onchip-adc`).
//! Build, flash and wiring: docs/firmware.md.
#![no_std]
#![no_main]

mod analog;
mod board;
#[cfg(not(feature = "sdk"))]
mod bringup;
#[cfg(feature = "pico-w")]
mod net_cyw43;
#[cfg(feature = "w5500")]
mod net_w5500;

#[cfg(all(feature = "w5500", feature = "pico-w"))]
compile_error!(
    "choose one network: the default `w5500`, or `--no-default-features --features sdk,pico-w`"
);
#[cfg(not(any(feature = "w5500", feature = "pico-w")))]
compile_error!("choose a network: feature `w5500` (the default) or `pico-w`");

use embassy_executor::Spawner;
use embassy_net::Stack;
use embassy_rp::clocks::RoscRng;
use embassy_rp::flash::{Blocking, Flash};
use embassy_rp::gpio::{Level, Output};
use embassy_rp::peripherals::FLASH;
use embassy_rp::Peri;
use embassy_time::{Instant, Timer};
use iot_embassy_node::config;
use {defmt_rtt as _, panic_probe as _};

/// Sockets of the IP stack: DHCP, DNS, the MQTT connection and one spare.
pub const SOCKETS: usize = 4;

/// The on-board flash's size (W5500-EVB-Pico and Pico W: 2 MiB).
const FLASH_SIZE: usize = 2 * 1024 * 1024;

// `bind_interrupts!` defines the interrupt vectors, which is `unsafe` by nature.
#[allow(unsafe_code)]
mod irqs {
    embassy_rp::bind_interrupts!(
    /// The interrupts the drivers wait on.
    pub struct Irqs {
        DMA_IRQ_0 => embassy_rp::dma::InterruptHandler<embassy_rp::peripherals::DMA_CH0>,
            embassy_rp::dma::InterruptHandler<embassy_rp::peripherals::DMA_CH1>;
        #[cfg(feature = "pico-w")]
        PIO0_IRQ_0 => embassy_rp::pio::InterruptHandler<embassy_rp::peripherals::PIO0>;
    });
}
pub use irqs::Irqs;

/// Logs why the board cannot go on, waits 5 s (for the log to be read) and resets it.
pub async fn fatal(why: &str) -> ! {
    defmt::error!("{}; resetting in 5 s", why);
    Timer::after_secs(5).await;
    cortex_m::peripheral::SCB::sys_reset()
}

/// A locally administered MAC address from the flash chip's unique ID, stable across boots.
#[cfg_attr(not(feature = "w5500"), allow(dead_code))]
fn mac_address(flash: Peri<'static, FLASH>) -> [u8; 6] {
    let mut flash = Flash::<_, Blocking, FLASH_SIZE>::new_blocking(flash);
    let mut uid = [0u8; 8];
    if flash.blocking_unique_id(&mut uid).is_err() {
        defmt::warn!("cannot read the flash unique ID; using a fixed MAC address");
    }
    // Fold the 8 ID bytes into 5; 0x02 marks the address locally administered and unicast.
    let [a, b, c, d, e, f, g, h] = uid;
    [0x02, a ^ f, b ^ g, c ^ h, d, e]
}

#[embassy_executor::main]
async fn main(spawner: Spawner) {
    let p = embassy_rp::init(Default::default());
    let booted_ms = Instant::now().as_millis();
    let mut rng = RoscRng;
    defmt::info!(
        "{}: device {}/{}, broker {}:{}",
        env!("CARGO_PKG_NAME"),
        config::PRODUCT_ID,
        config::DEVICE_NAME,
        config::BROKER_HOST,
        config::BROKER_PORT
    );

    #[cfg(feature = "w5500")]
    let stack: Stack<'static> = {
        let pins = net_w5500::W5500Pins {
            spi: p.SPI0,
            miso: p.PIN_16,
            cs: p.PIN_17,
            sck: p.PIN_18,
            mosi: p.PIN_19,
            reset: p.PIN_20,
            int: p.PIN_21,
            tx_dma: p.DMA_CH0,
            rx_dma: p.DMA_CH1,
        };
        net_w5500::start(spawner, pins, mac_address(p.FLASH), rng.next_u64()).await
    };
    #[cfg(feature = "pico-w")]
    let stack: Stack<'static> = {
        let pins = net_cyw43::Cyw43Pins {
            pwr: p.PIN_23,
            dio: p.PIN_24,
            cs: p.PIN_25,
            clk: p.PIN_29,
            pio: p.PIO0,
            dma: p.DMA_CH0,
        };
        net_cyw43::start(spawner, pins, rng.next_u64()).await
    };

    let sensors = board::sensors(
        board::SensorPins {
            i2c: p.I2C0,
            sda: p.PIN_4,
            scl: p.PIN_5,
            dht: p.PIN_2,
            #[cfg(feature = "onchip-adc")]
            adc: board::OnChipAdcPins {
                adc: p.ADC,
                mq2: p.PIN_26,
                mq4: p.PIN_27,
                mq7: p.PIN_28,
            },
        },
        booted_ms,
    );
    // The gas alarm output (buzzer or LED, active high) on GPIO15.
    let alarm = Output::new(p.PIN_15, Level::Low);

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
