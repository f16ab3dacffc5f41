//! Wi-Fi through the Pico W's CYW43439: PWR GPIO23, DIO GPIO24, CS GPIO25, CLK GPIO29, driven by PIO0 and DMA
//! channel 0 (cyw43-pio). The chip's firmware is not in the repository: the build reads it from the directory
//! in `CYW43_FIRMWARE_DIR` (files `43439A0.bin`, `43439A0_clm.bin`, `nvram_rp2040.bin`; see docs/firmware.md).

use cyw43::{aligned_bytes, JoinOptions, PowerManagementMode};
use cyw43_pio::{PioSpi, DEFAULT_CLOCK_DIVIDER};
use embassy_executor::Spawner;
use embassy_net::{Stack, StackResources};
use embassy_rp::dma;
use embassy_rp::gpio::{Level, Output};
use embassy_rp::peripherals::{DMA_CH0, PIN_23, PIN_24, PIN_25, PIN_29, PIO0};
use embassy_rp::pio::Pio;
use embassy_rp::Peri;
use embassy_time::Timer;
use static_cell::StaticCell;

use crate::{config, Irqs, SOCKETS};

/// The CYW43439's pins and peripherals.
pub struct Cyw43Pins {
    /// Power enable.
    pub pwr: Peri<'static, PIN_23>,
    /// Data in/out.
    pub dio: Peri<'static, PIN_24>,
    /// Chip select.
    pub cs: Peri<'static, PIN_25>,
    /// Clock.
    pub clk: Peri<'static, PIN_29>,
    /// The PIO block running the half-duplex SPI.
    pub pio: Peri<'static, PIO0>,
    /// Its DMA channel.
    pub dma: Peri<'static, DMA_CH0>,
}

type Bus = PioSpi<'static, PIO0, 0>;

#[embassy_executor::task]
async fn wifi_task(runner: cyw43::Runner<'static, cyw43::SpiBus<Output<'static>, Bus>>) -> ! {
    runner.run().await
}

#[embassy_executor::task]
async fn net_task(mut runner: embassy_net::Runner<'static, cyw43::NetDriver<'static>>) -> ! {
    runner.run().await
}

#[embassy_executor::task]
async fn join_task(mut control: cyw43::Control<'static>, stack: Stack<'static>) -> ! {
    loop {
        if !stack.is_link_up() {
            defmt::info!("joining Wi-Fi network {}", config::WIFI_SSID);
            let options = if config::WIFI_PASSWORD.is_empty() {
                JoinOptions::new_open()
            } else {
                JoinOptions::new(config::WIFI_PASSWORD.as_bytes())
            };
            if let Err(e) = control.join(config::WIFI_SSID, options).await {
                defmt::warn!("Wi-Fi join failed: {}; retrying in 5 s", e);
                Timer::after_secs(5).await;
                continue;
            }
            defmt::info!("Wi-Fi joined");
        }
        stack.wait_link_down().await;
        defmt::warn!("Wi-Fi link lost");
    }
}

/// Powers the CYW43439 up, loads its firmware, starts the IP stack (DHCP) and keeps the Wi-Fi joined.
pub async fn start(spawner: Spawner, pins: Cyw43Pins, seed: u64) -> Stack<'static> {
    let firmware = aligned_bytes!(concat!(
        env!(
            "CYW43_FIRMWARE_DIR",
            "set CYW43_FIRMWARE_DIR to the directory holding 43439A0.bin, 43439A0_clm.bin and nvram_rp2040.bin (see docs/firmware.md)"
        ),
        "/43439A0.bin"
    ));
    let clm = aligned_bytes!(concat!(env!("CYW43_FIRMWARE_DIR"), "/43439A0_clm.bin"));
    let nvram = aligned_bytes!(concat!(env!("CYW43_FIRMWARE_DIR"), "/nvram_rp2040.bin"));

    let pwr = Output::new(pins.pwr, Level::Low);
    let cs = Output::new(pins.cs, Level::High);
    let mut pio = Pio::new(pins.pio, Irqs);
    let spi = PioSpi::new(
        &mut pio.common,
        pio.sm0,
        DEFAULT_CLOCK_DIVIDER,
        pio.irq0,
        cs,
        pins.dio,
        pins.clk,
        dma::Channel::new(pins.dma, Irqs),
    );

    static STATE: StaticCell<cyw43::State> = StaticCell::new();
    let (device, mut control, runner) =
        cyw43::new(STATE.init(cyw43::State::new()), pwr, spi, firmware, nvram).await;
    spawner.spawn(defmt::unwrap!(wifi_task(runner)));
    control.init(clm).await;
    control
        .set_power_management(PowerManagementMode::PowerSave)
        .await;

    static RESOURCES: StaticCell<StackResources<SOCKETS>> = StaticCell::new();
    let (stack, runner) = embassy_net::new(
        device,
        embassy_net::Config::dhcpv4(Default::default()),
        RESOURCES.init(StackResources::new()),
        seed,
    );
    spawner.spawn(defmt::unwrap!(net_task(runner)));
    spawner.spawn(defmt::unwrap!(join_task(control, stack)));
    stack
}
