//! Real sensors on a Linux board: the MQ modules through IIO ADC channels (`/sys/bus/iio/devices/iio:deviceN`),
//! the DHT11 and the alarm output through the GPIO character device (`/dev/gpiochipN`, linux-embedded-hal).
//!
//! The wiring comes from the config file:
//!
//! ```toml
//! [sensors]
//! source = "hardware"
//!
//! [sensors.hardware]
//! preheat_secs = 180          # heater warm-up after power-on; readings are flagged until then
//!
//! [sensors.hardware.dht11]
//! chip = "/dev/gpiochip0"
//! line = 4                    # BCM 4 on a Raspberry Pi; 4.7–10 kΩ pull-up to 3.3 V
//! model = "dht11"             # or "dht22"
//!
//! [sensors.hardware.mq2]
//! iio_device = "/sys/bus/iio/devices/iio:device0"
//! channel = 0
//! load_resistance_ohms = 1000 # "102" on most breakout boards
//! divider = { top_ohms = 10000, bottom_ohms = 20000 }   # 5 V output into a 3.3 V ADC
//! r0_kilohms = 9.8            # from a previous `calibrate`; without it readings wait for one
//! # [sensors.hardware.mq4], [sensors.hardware.mq7], [sensors.hardware.mq135]: the same keys
//!
//! [alarm]
//! chip = "/dev/gpiochip0"
//! line = 17
//! active_low = false
//! ```

use std::path::PathBuf;
use std::time::{Duration, Instant};

use embedded_hal::delay::DelayNs;
use embedded_hal::digital::OutputPin;
use linux_embedded_hal::gpio_cdev::{Chip, LineRequestFlags};
use linux_embedded_hal::{CdevPin, CdevPinError};
use sensors::adc::iio::{IioChannel, IioError};
use sensors::adc::{AdcError, Divided};
use sensors::dht11::{Dht, Model};
use sensors::mq::{self, Circuit, Config, MqSensor, R0};
use sensors::suite::{EnvironmentSensors, GasSensorId, Suite};
use serde::Deserialize;

/// GPIO consumer label shown by `gpioinfo`.
const CONSUMER: &str = "linux-node";

/// `[sensors.hardware]`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HardwareConfig {
    /// Heater warm-up after power-on, seconds (default 180: a warm restart; the datasheets ask for 24–48 h of
    /// burn-in before first use).
    #[serde(default = "default_preheat_secs")]
    pub preheat_secs: u64,
    /// The DHT11 (or DHT22).
    pub dht11: DhtConfig,
    /// MQ-2 smoke.
    pub mq2: MqChannelConfig,
    /// MQ-4 methane.
    pub mq4: MqChannelConfig,
    /// MQ-7 carbon monoxide.
    pub mq7: MqChannelConfig,
    /// MQ-135 air quality.
    pub mq135: MqChannelConfig,
}

fn default_preheat_secs() -> u64 {
    Config::DEFAULT_PREHEAT_MS / 1000
}

/// `[sensors.hardware.dht11]`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DhtConfig {
    /// GPIO character device.
    pub chip: PathBuf,
    /// Line offset on that chip.
    pub line: u32,
    /// `dht11` (default) or `dht22`.
    #[serde(default)]
    pub model: DhtModel,
}

/// The DHT model.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum DhtModel {
    /// DHT11.
    #[default]
    Dht11,
    /// DHT22 / AM2302.
    Dht22,
}

/// A resistive divider between an MQ module's output and the ADC pin.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DividerConfig {
    /// From the module output to the ADC pin, ohms.
    pub top_ohms: f32,
    /// From the ADC pin to ground, ohms.
    pub bottom_ohms: f32,
}

/// `[sensors.hardware.mqN]`: one MQ module on one IIO channel.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MqChannelConfig {
    /// The IIO device directory, e.g. `/sys/bus/iio/devices/iio:device0`.
    pub iio_device: PathBuf,
    /// The channel (`in_voltageN_raw`).
    pub channel: u8,
    /// Module supply, mV (default 5000; measure it, USB supplies are often 4.8 V).
    pub supply_millivolts: Option<f32>,
    /// Load resistor, ohms (default 10 kΩ as in the datasheet; many boards fit 1 kΩ).
    pub load_resistance_ohms: Option<f32>,
    /// A divider in front of the ADC.
    pub divider: Option<DividerConfig>,
    /// `R0` from a previous calibration, kΩ.
    pub r0_kilohms: Option<f32>,
}

/// `[alarm]`: an output driven while `gas_alarm` is active (buzzer, LED, relay).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AlarmPinConfig {
    /// GPIO character device.
    pub chip: PathBuf,
    /// Line offset.
    pub line: u32,
    /// Drive the line low to sound the alarm.
    #[serde(default)]
    pub active_low: bool,
}

/// Why the hardware could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum HardwareError {
    /// A GPIO chip or line could not be opened or requested.
    #[error(
        "cannot use GPIO line {line} of {chip}: {source}; check the chip path and line offset with `gpioinfo`, \
         and that the user may open the device (group gpio)"
    )]
    Gpio {
        /// The chip.
        chip: PathBuf,
        /// The line.
        line: u32,
        /// What gpio-cdev said.
        source: linux_embedded_hal::gpio_cdev::Error,
    },
    /// A GPIO operation failed after opening.
    #[error("GPIO operation failed: {0}")]
    Pin(#[from] CdevPinError),
    /// An IIO channel could not be opened.
    #[error("cannot open {sensor} on IIO channel {channel} of {device}: {source}")]
    Iio {
        /// Which MQ sensor.
        sensor: GasSensorId,
        /// The IIO device directory.
        device: PathBuf,
        /// The channel.
        channel: u8,
        /// What went wrong.
        source: IioError,
    },
    /// A divider or `R0` value is not usable.
    #[error("{sensor}: {what} in the config file is not usable ({detail}); give a finite positive value")]
    Parameter {
        /// Which MQ sensor.
        sensor: GasSensorId,
        /// The key.
        what: &'static str,
        /// Why.
        detail: String,
    },
}

/// A delay for bit-banging from user space: sleeps for waits of a millisecond or more (the DHT start pulse)
/// and spins for shorter ones, because `thread::sleep` overshoots microsecond waits by tens of microseconds,
/// far more than the DHT driver's per-poll budget (`sensors::dht11::Dht`).
#[derive(Debug, Clone, Copy, Default)]
pub struct SpinDelay;

impl DelayNs for SpinDelay {
    fn delay_ns(&mut self, ns: u32) {
        let wait = Duration::from_nanos(u64::from(ns));
        if wait >= Duration::from_millis(1) {
            std::thread::sleep(wait);
            return;
        }
        let start = Instant::now();
        while start.elapsed() < wait {
            std::hint::spin_loop();
        }
    }
}

/// An MQ module's input: an IIO channel behind an optional divider.
pub type MqInput = Divided<IioChannel>;
/// The DHT on a GPIO line.
pub type DhtSensor = Dht<CdevPin, SpinDelay>;
/// The reference node's suite on real hardware.
pub type HardwareSuite = Suite<MqInput, MqInput, MqInput, MqInput, DhtSensor>;

fn request_line(
    chip_path: &PathBuf,
    line: u32,
    flags: LineRequestFlags,
    value: u8,
) -> Result<CdevPin, HardwareError> {
    let gpio = |source| HardwareError::Gpio {
        chip: chip_path.clone(),
        line,
        source,
    };
    let mut chip = Chip::new(chip_path).map_err(gpio)?;
    let handle = chip
        .get_line(line)
        .map_err(gpio)?
        .request(flags, value, CONSUMER)
        .map_err(gpio)?;
    CdevPin::new(handle).map_err(gpio)
}

fn mq_sensor(
    id: GasSensorId,
    config: &MqChannelConfig,
    preheat_ms: u64,
) -> Result<(MqSensor<MqInput>, Option<R0>), HardwareError> {
    let channel = IioChannel::open(&config.iio_device, config.channel).map_err(|source| {
        HardwareError::Iio {
            sensor: id,
            device: config.iio_device.clone(),
            channel: config.channel,
            source,
        }
    })?;
    let divider = config.divider.unwrap_or(DividerConfig {
        top_ohms: 0.0,
        bottom_ohms: 1.0,
    });
    let input =
        Divided::new(channel, divider.top_ohms, divider.bottom_ohms).map_err(|e: AdcError| {
            HardwareError::Parameter {
                sensor: id,
                what: "divider",
                detail: e.to_string(),
            }
        })?;
    let model = match id {
        GasSensorId::Mq2 => mq::MQ2,
        GasSensorId::Mq4 => mq::MQ4,
        GasSensorId::Mq7 => mq::MQ7,
        GasSensorId::Mq135 => mq::MQ135,
    };
    let mut mq_config = Config::new(model);
    mq_config.circuit = Circuit {
        supply_millivolts: config
            .supply_millivolts
            .unwrap_or(Circuit::DEFAULT.supply_millivolts),
        load_resistance_ohms: config
            .load_resistance_ohms
            .unwrap_or(Circuit::DEFAULT.load_resistance_ohms),
        ..Circuit::DEFAULT
    };
    mq_config.preheat_ms = preheat_ms;
    let r0 = config
        .r0_kilohms
        .map(|kilohms| {
            R0::from_kilohms(kilohms).map_err(|e| HardwareError::Parameter {
                sensor: id,
                what: "r0_kilohms",
                detail: e.to_string(),
            })
        })
        .transpose()?;
    // The heaters are powered when the node starts: the runtime's clock starts at 0.
    Ok((MqSensor::new(input, mq_config, 0), r0))
}

/// Opens every sensor and restores the configured `R0` values.
///
/// # Errors
/// [`HardwareError`] naming the device that could not be opened.
pub fn open_suite(config: &HardwareConfig) -> Result<HardwareSuite, HardwareError> {
    let preheat_ms = config.preheat_secs.saturating_mul(1000);
    let (mq2, r0_2) = mq_sensor(GasSensorId::Mq2, &config.mq2, preheat_ms)?;
    let (mq4, r0_4) = mq_sensor(GasSensorId::Mq4, &config.mq4, preheat_ms)?;
    let (mq7, r0_7) = mq_sensor(GasSensorId::Mq7, &config.mq7, preheat_ms)?;
    let (mq135, r0_135) = mq_sensor(GasSensorId::Mq135, &config.mq135, preheat_ms)?;
    // Open drain, released (high): the DHT pulls the line low to answer, and reading an open-drain output returns
    // the line's level (gpiolib emulates open drain by switching to input when driven high).
    let pin = request_line(
        &config.dht11.chip,
        config.dht11.line,
        LineRequestFlags::OUTPUT | LineRequestFlags::OPEN_DRAIN,
        1,
    )?;
    let model = match config.dht11.model {
        DhtModel::Dht11 => Model::Dht11,
        DhtModel::Dht22 => Model::Dht22,
    };
    let mut suite = Suite::new(mq2, mq4, mq7, mq135, Dht::new(pin, SpinDelay, model));
    for (id, r0) in [
        (GasSensorId::Mq2, r0_2),
        (GasSensorId::Mq4, r0_4),
        (GasSensorId::Mq7, r0_7),
        (GasSensorId::Mq135, r0_135),
    ] {
        if let Some(r0) = r0 {
            suite.restore_r0(id, r0);
        }
    }
    Ok(suite)
}

/// The alarm output.
pub struct AlarmPin {
    pin: CdevPin,
    active_low: bool,
}

impl std::fmt::Debug for AlarmPin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlarmPin")
            .field("active_low", &self.active_low)
            .finish_non_exhaustive()
    }
}

impl AlarmPin {
    /// Requests the line as an output, alarm off.
    ///
    /// # Errors
    /// [`HardwareError::Gpio`].
    pub fn open(config: &AlarmPinConfig) -> Result<Self, HardwareError> {
        let off = u8::from(config.active_low);
        let pin = request_line(&config.chip, config.line, LineRequestFlags::OUTPUT, off)?;
        Ok(Self {
            pin,
            active_low: config.active_low,
        })
    }

    /// Sounds or silences the alarm.
    ///
    /// # Errors
    /// [`HardwareError::Pin`].
    pub fn set(&mut self, on: bool) -> Result<(), HardwareError> {
        if on != self.active_low {
            self.pin.set_high()?;
        } else {
            self.pin.set_low()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::FileConfig;
    use std::path::Path;

    const WIRING: &str = r#"
        [sensors]
        source = "hardware"
        [sensors.hardware.dht11]
        chip = "/dev/gpiochip0"
        line = 4
        [sensors.hardware.mq2]
        iio_device = "IIO"
        channel = 0
        load_resistance_ohms = 1000
        divider = { top_ohms = 10000, bottom_ohms = 20000 }
        r0_kilohms = 9.8
        [sensors.hardware.mq4]
        iio_device = "IIO"
        channel = 1
        [sensors.hardware.mq7]
        iio_device = "IIO"
        channel = 2
        [sensors.hardware.mq135]
        iio_device = "IIO"
        channel = 3
    "#;

    fn open_err(file: &FileConfig) -> HardwareError {
        match open_suite(file.sensors.hardware.as_ref().unwrap()) {
            Err(e) => e,
            Ok(_) => panic!("the wiring should not open"),
        }
    }

    fn fake_iio(dir: &Path) {
        for channel in 0..4 {
            std::fs::write(dir.join(format!("in_voltage{channel}_raw")), "1000\n").unwrap();
        }
        std::fs::write(dir.join("in_voltage_scale"), "1.0\n").unwrap();
    }

    #[test]
    fn the_wiring_parses_with_defaults() {
        let file = FileConfig::parse(WIRING, Path::new("node.toml")).unwrap();
        let hw = file.sensors.hardware.unwrap();
        assert_eq!(hw.preheat_secs, 180);
        assert_eq!(hw.dht11.model, DhtModel::Dht11);
        assert_eq!(hw.mq2.load_resistance_ohms, Some(1000.0));
        assert_eq!(hw.mq4.divider, None);
    }

    #[test]
    fn a_missing_gpio_chip_is_reported_with_its_path() {
        let dir = tempfile::tempdir().unwrap();
        fake_iio(dir.path());
        let text = WIRING
            .replace("IIO", &dir.path().display().to_string())
            .replace("/dev/gpiochip0", "/nonexistent/gpiochip9");
        let file = FileConfig::parse(&text, Path::new("node.toml")).unwrap();
        let err = open_err(&file);
        let message = err.to_string();
        assert!(
            matches!(err, HardwareError::Gpio { line: 4, .. }),
            "{message}"
        );
        assert!(message.contains("/nonexistent/gpiochip9"), "{message}");
    }

    #[test]
    fn a_missing_iio_channel_names_the_sensor() {
        let dir = tempfile::tempdir().unwrap();
        fake_iio(dir.path());
        std::fs::remove_file(dir.path().join("in_voltage2_raw")).unwrap();
        let text = WIRING.replace("IIO", &dir.path().display().to_string());
        let file = FileConfig::parse(&text, Path::new("node.toml")).unwrap();
        let err = open_err(&file);
        assert!(
            matches!(
                err,
                HardwareError::Iio {
                    sensor: GasSensorId::Mq7,
                    channel: 2,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn a_bad_r0_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        fake_iio(dir.path());
        let text = WIRING
            .replace("IIO", &dir.path().display().to_string())
            .replace("r0_kilohms = 9.8", "r0_kilohms = -1.0");
        let file = FileConfig::parse(&text, Path::new("node.toml")).unwrap();
        let err = open_err(&file);
        assert!(
            matches!(
                err,
                HardwareError::Parameter {
                    sensor: GasSensorId::Mq2,
                    what: "r0_kilohms",
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn spin_delay_waits_at_least_as_long_as_asked() {
        let mut delay = SpinDelay;
        for us in [1u32, 50, 1500] {
            let start = Instant::now();
            delay.delay_us(us);
            assert!(start.elapsed() >= Duration::from_micros(u64::from(us)));
        }
    }
}
