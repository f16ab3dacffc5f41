//! Ethernet through a W5500 controller on SPI0, as wired on the W5500-EVB-Pico: MISO GPIO16, CS GPIO17, SCK GPIO18,
//! MOSI GPIO19, RST GPIO20, INT GPIO21. The W5500 runs in MACRAW mode; embassy-net does IP, DHCP, DNS and TCP.

use embassy_executor::Spawner;
use embassy_net::{Stack, StackResources};
use embassy_net_wiznet::chip::W5500;
use embassy_net_wiznet::{Device, Runner, State};
use embassy_rp::gpio::{Input, Level, Output, Pull};
use embassy_rp::peripherals::{
    DMA_CH0, DMA_CH1, PIN_16, PIN_17, PIN_18, PIN_19, PIN_20, PIN_21, SPI0,
};
use embassy_rp::spi::{self, Async, Spi};
use embassy_rp::Peri;
use embassy_time::Delay;
use embedded_hal_bus::spi::ExclusiveDevice;
use static_cell::StaticCell;

use crate::{fatal, Irqs, SOCKETS};

type SpiDevice = ExclusiveDevice<Spi<'static, SPI0, Async>, Output<'static>, Delay>;

/// The W5500's pins and peripherals.
pub struct W5500Pins {
    /// SPI0.
    pub spi: Peri<'static, SPI0>,
    /// MISO.
    pub miso: Peri<'static, PIN_16>,
    /// Chip select.
    pub cs: Peri<'static, PIN_17>,
    /// SCK.
    pub sck: Peri<'static, PIN_18>,
    /// MOSI.
    pub mosi: Peri<'static, PIN_19>,
    /// Reset (active low).
    pub reset: Peri<'static, PIN_20>,
    /// Interrupt (active low).
    pub int: Peri<'static, PIN_21>,
    /// DMA channel for SPI transmit.
    pub tx_dma: Peri<'static, DMA_CH0>,
    /// DMA channel for SPI receive.
    pub rx_dma: Peri<'static, DMA_CH1>,
}

#[embassy_executor::task]
async fn ethernet_task(
    runner: Runner<'static, W5500, SpiDevice, Input<'static>, Output<'static>>,
) -> ! {
    runner.run().await
}

#[embassy_executor::task]
async fn net_task(mut runner: embassy_net::Runner<'static, Device<'static>>) -> ! {
    runner.run().await
}

/// Resets the W5500, starts its driver and the IP stack (DHCP), and returns the stack.
pub async fn start(spawner: Spawner, pins: W5500Pins, mac: [u8; 6], seed: u64) -> Stack<'static> {
    let mut config = spi::Config::default();
    // The W5500 takes up to 80 MHz; the RP2040's SPI divides clk_peri (125 MHz) down to 62.5 MHz at most.
    config.frequency = 50_000_000;
    let bus = Spi::new(
        pins.spi,
        pins.sck,
        pins.mosi,
        pins.miso,
        pins.tx_dma,
        pins.rx_dma,
        Irqs,
        config,
    );
    let cs = Output::new(pins.cs, Level::High);
    let device = match ExclusiveDevice::new(bus, cs, Delay) {
        Ok(device) => device,
        Err(_) => fatal("cannot drive the W5500's chip-select pin").await,
    };
    let int = Input::new(pins.int, Pull::Up);
    let reset = Output::new(pins.reset, Level::High);

    static STATE: StaticCell<State<4, 4>> = StaticCell::new();
    let (device, runner) =
        match embassy_net_wiznet::new(mac, STATE.init(State::new()), device, int, reset).await {
            Ok(parts) => parts,
            Err(_) => {
                fatal("the W5500 did not answer; check the SPI wiring and its 3.3 V supply").await
            }
        };
    spawner.spawn(defmt::unwrap!(ethernet_task(runner)));

    static RESOURCES: StaticCell<StackResources<SOCKETS>> = StaticCell::new();
    let (stack, runner) = embassy_net::new(
        device,
        embassy_net::Config::dhcpv4(Default::default()),
        RESOURCES.init(StackResources::new()),
        seed,
    );
    spawner.spawn(defmt::unwrap!(net_task(runner)));
    stack
}
