//! The sensors as wired on this board (see docs/firmware.md for the table):
//!
//! * DHT11 DATA on GPIO2 (open drain, 4.7–10 kΩ pull-up to 3.3 V; 3-pin modules have it);
//! * ADS1115 on I2C0 (SDA GPIO4, SCL GPIO5, ADDR to GND: address 0x48), ±6.144 V range, 860 SPS, inputs
//!   A0 MQ-2, A1 MQ-4, A2 MQ-7, A3 MQ-135;
//! * with `onchip-adc`: MQ-2, MQ-4, MQ-7 on GPIO26, GPIO27, GPIO28 (ADC0–2), each behind a 10 kΩ / 20 kΩ divider,
//!   and MQ-135 on the ADS1115's A3.

use ads1x1x::{DataRate16Bit, FullScaleRange, TargetAddr};
use embassy_rp::gpio::{Level, OutputOpenDrain};
use embassy_rp::i2c::{self, I2c};
use embassy_rp::peripherals::{I2C0, PIN_2, PIN_4, PIN_5};
use embassy_rp::Peri;
use embassy_time::Delay;
use sensors::adc::ads1115::{Ads1115, Ads1115Input};
use sensors::dht11::{DhtAsync, Model};
use sensors::mq::{self, MqSensor};
use sensors::suite::Suite;
use static_cell::StaticCell;

use crate::analog::{ads_input, AdsInput, I2cBus};

/// The DHT11 on its open-drain pin.
pub type Climate = DhtAsync<OutputOpenDrain<'static>, Delay>;

/// The MQ-2, MQ-4 and MQ-7 inputs.
#[cfg(not(feature = "onchip-adc"))]
pub type GasInput = AdsInput;
/// The MQ-2, MQ-4 and MQ-7 inputs.
#[cfg(feature = "onchip-adc")]
pub type GasInput = sensors::adc::Divided<crate::analog::RpChannel>;

/// The board's sensor suite.
pub type BoardSuite = Suite<GasInput, GasInput, GasInput, AdsInput, Climate>;

/// The sensors' pins and peripherals.
pub struct SensorPins {
    /// I2C0, for the ADS1115.
    pub i2c: Peri<'static, I2C0>,
    /// SDA.
    pub sda: Peri<'static, PIN_4>,
    /// SCL.
    pub scl: Peri<'static, PIN_5>,
    /// The DHT11's data line.
    pub dht: Peri<'static, PIN_2>,
    /// The on-chip ADC and its three inputs.
    #[cfg(feature = "onchip-adc")]
    pub adc: OnChipAdcPins,
}

/// The on-chip ADC and the three pins the MQ-2, MQ-4 and MQ-7 dividers feed.
#[cfg(feature = "onchip-adc")]
pub struct OnChipAdcPins {
    /// The converter.
    pub adc: Peri<'static, embassy_rp::peripherals::ADC>,
    /// ADC0, MQ-2.
    pub mq2: Peri<'static, embassy_rp::peripherals::PIN_26>,
    /// ADC1, MQ-4.
    pub mq4: Peri<'static, embassy_rp::peripherals::PIN_27>,
    /// ADC2, MQ-7.
    pub mq7: Peri<'static, embassy_rp::peripherals::PIN_28>,
}

/// The MQ circuit of the common breakout boards: 5 V supply, 10 kΩ load. Measure both on your modules and
/// change them here (docs/sensors.md §1).
fn mq_config(model: mq::Model) -> mq::Config {
    let mut config = mq::Config::new(model);
    config.circuit.supply_millivolts = 5000.0;
    config.circuit.load_resistance_ohms = 10_000.0;
    config
}

/// Brings the ADS1115 up, or reports it missing (its inputs then read as bus faults).
fn ads1115(i2c: I2cBus) -> Option<&'static Ads1115<I2cBus>> {
    static ADS: StaticCell<Ads1115<I2cBus>> = StaticCell::new();
    match Ads1115::new(i2c, TargetAddr::default(), FullScaleRange::Within6_144V) {
        Ok(mut ads) => {
            if ads
                .device_mut()
                .set_data_rate(DataRate16Bit::Sps860)
                .is_err()
            {
                defmt::warn!("ADS1115: cannot set 860 SPS; conversions stay at 128 SPS");
            }
            Some(&*ADS.init(ads))
        }
        Err(_) => {
            defmt::error!("ADS1115 not found at 0x48 on I2C0 (SDA GPIO4, SCL GPIO5); the MQ sensors will report bus faults");
            None
        }
    }
}

/// Wires the suite. `now_ms` is when the MQ heaters were powered (boot): their warm-up counts from it.
pub fn sensors(pins: SensorPins, now_ms: u64) -> BoardSuite {
    // Standard mode: the ADS1115 takes 400 kHz too, but long wires to a sensor board are happier at 100 kHz.
    let i2c = I2c::new_blocking(pins.i2c, pins.scl, pins.sda, i2c::Config::default());
    let ads = ads1115(i2c);

    #[cfg(not(feature = "onchip-adc"))]
    let (in2, in4, in7) = (
        ads_input(ads, Ads1115Input::A0),
        ads_input(ads, Ads1115Input::A1),
        ads_input(ads, Ads1115Input::A2),
    );
    #[cfg(feature = "onchip-adc")]
    let (in2, in4, in7) = on_chip_inputs(pins.adc);

    let mut dht_pin = OutputOpenDrain::new(pins.dht, Level::High);
    dht_pin.set_pullup(true);
    Suite::new(
        MqSensor::new(in2, mq_config(mq::MQ2), now_ms),
        MqSensor::new(in4, mq_config(mq::MQ4), now_ms),
        MqSensor::new(in7, mq_config(mq::MQ7), now_ms),
        MqSensor::new(
            ads_input(ads, Ads1115Input::A3),
            mq_config(mq::MQ135),
            now_ms,
        ),
        DhtAsync::new(dht_pin, Delay, Model::Dht11),
    )
}

#[cfg(feature = "onchip-adc")]
fn on_chip_inputs(pins: OnChipAdcPins) -> (GasInput, GasInput, GasInput) {
    use core::cell::RefCell;

    use embassy_rp::adc::{self, Adc, Blocking, Channel};
    use embassy_rp::gpio::Pull;
    use sensors::adc::Divided;

    use crate::analog::RpChannel;

    static ADC: StaticCell<RefCell<Adc<'static, Blocking>>> = StaticCell::new();
    let adc: &'static RefCell<_> = ADC.init(RefCell::new(Adc::new_blocking(
        pins.adc,
        adc::Config::default(),
    )));
    // 10 kΩ from the module's AO to the pin, 20 kΩ from the pin to GND: 5 V becomes 3.33 V.
    let divided = |channel| {
        defmt::unwrap!(Divided::new(RpChannel::new(adc, channel), 10_000.0, 20_000.0).ok())
    };
    (
        divided(Channel::new_pin(pins.mq2, Pull::None)),
        divided(Channel::new_pin(pins.mq4, Pull::None)),
        divided(Channel::new_pin(pins.mq7, Pull::None)),
    )
}
