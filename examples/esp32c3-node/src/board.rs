//! The sensors as wired on this board (see docs/firmware.md for the table):
//!
//! * MQ-2, MQ-4, MQ-7, MQ-135 on GPIO0, GPIO1, GPIO3, GPIO4 (ADC1 channels 0, 1, 3, 4; GPIO2 is a strapping
//!   pin), each behind a 10 kΩ / 10 kΩ divider;
//! * DHT11 DATA on GPIO10, open drain with the internal pull-up (and the module's 4.7–10 kΩ one).

use core::cell::RefCell;

use embassy_time::Delay;
use esp_hal::analog::adc::{Adc, AdcCalCurve, AdcConfig, Attenuation};
use esp_hal::gpio::{DriveMode, Flex, InputConfig, OutputConfig, Pull};
use esp_hal::peripherals::{ADC1, GPIO0, GPIO1, GPIO10, GPIO3, GPIO4};
use sensors::adc::Divided;
use sensors::dht11::{DhtAsync, Model};
use sensors::mq::{self, MqSensor};
use sensors::suite::Suite;
use static_cell::StaticCell;

use crate::analog::{Adc1, EspChannel};

/// A divided ADC1 input.
pub type GasInput<PIN> = Divided<EspChannel<PIN>>;

/// The DHT11 on its open-drain pin.
pub type Climate = DhtAsync<Flex<'static>, Delay>;

/// The board's sensor suite.
pub type BoardSuite = Suite<
    GasInput<GPIO0<'static>>,
    GasInput<GPIO1<'static>>,
    GasInput<GPIO3<'static>>,
    GasInput<GPIO4<'static>>,
    Climate,
>;

/// The sensors' pins and peripherals.
pub struct SensorPins {
    /// ADC1.
    pub adc: ADC1<'static>,
    /// MQ-2.
    pub mq2: GPIO0<'static>,
    /// MQ-4.
    pub mq4: GPIO1<'static>,
    /// MQ-7.
    pub mq7: GPIO3<'static>,
    /// MQ-135.
    pub mq135: GPIO4<'static>,
    /// The DHT11's data line.
    pub dht: GPIO10<'static>,
}

/// The MQ circuit of the common breakout boards: 5 V supply, 10 kΩ load. Measure both on your modules and
/// change them here (docs/sensors.md §1).
fn mq_config(model: mq::Model) -> mq::Config {
    let mut config = mq::Config::new(model);
    config.circuit.supply_millivolts = 5000.0;
    config.circuit.load_resistance_ohms = 10_000.0;
    config
}

/// 10 kΩ from the module's `AO` to the pin, 10 kΩ from the pin to GND: 5 V becomes 2.5 V.
fn divided<PIN>(channel: EspChannel<PIN>) -> GasInput<PIN> {
    match Divided::new(channel, 10_000.0, 10_000.0) {
        Ok(input) => input,
        // Both resistances are positive constants.
        Err(_) => unreachable!("the divider's resistances are valid constants"),
    }
}

/// Wires the suite. `now_ms` is when the MQ heaters were powered (boot): their warm-up counts from it.
pub fn sensors(pins: SensorPins, now_ms: u64) -> BoardSuite {
    let mut config = AdcConfig::new();
    let mq2 =
        config.enable_pin_with_cal::<_, AdcCalCurve<ADC1<'static>>>(pins.mq2, Attenuation::_11dB);
    let mq4 =
        config.enable_pin_with_cal::<_, AdcCalCurve<ADC1<'static>>>(pins.mq4, Attenuation::_11dB);
    let mq7 =
        config.enable_pin_with_cal::<_, AdcCalCurve<ADC1<'static>>>(pins.mq7, Attenuation::_11dB);
    let mq135 =
        config.enable_pin_with_cal::<_, AdcCalCurve<ADC1<'static>>>(pins.mq135, Attenuation::_11dB);
    static ADC: StaticCell<RefCell<Adc1>> = StaticCell::new();
    let adc: &'static RefCell<Adc1> = ADC.init(RefCell::new(Adc::new(pins.adc, config)));

    let mut dht = Flex::new(pins.dht);
    dht.apply_output_config(
        &OutputConfig::default()
            .with_drive_mode(DriveMode::OpenDrain)
            .with_pull(Pull::Up),
    );
    dht.apply_input_config(&InputConfig::default().with_pull(Pull::Up));
    dht.set_high();
    dht.set_output_enable(true);
    dht.set_input_enable(true);

    Suite::new(
        MqSensor::new(
            divided(EspChannel::new(adc, mq2)),
            mq_config(mq::MQ2),
            now_ms,
        ),
        MqSensor::new(
            divided(EspChannel::new(adc, mq4)),
            mq_config(mq::MQ4),
            now_ms,
        ),
        MqSensor::new(
            divided(EspChannel::new(adc, mq7)),
            mq_config(mq::MQ7),
            now_ms,
        ),
        MqSensor::new(
            divided(EspChannel::new(adc, mq135)),
            mq_config(mq::MQ135),
            now_ms,
        ),
        DhtAsync::new(dht, Delay, Model::Dht11),
    )
}
