//! The MQ sensors' analog inputs: an ADS1115 on I2C0 and, with the `onchip-adc` feature, the RP2040's ADC.

use embassy_rp::i2c::{Blocking, I2c};
use embassy_rp::peripherals::I2C0;
use sensors::adc::ads1115::{Ads1115, Ads1115Channel};
use sensors::adc::AnalogInput;
use sensors::{Error as _, ErrorKind};

/// The I²C bus the ADS1115 is on.
pub type I2cBus = I2c<'static, I2C0, Blocking>;

/// An ADS1115 input, or nothing when the chip did not answer at boot: then every read fails with
/// [`ErrorKind::Bus`], which the runtime reports as the sensor's fault instead of stopping the node.
pub enum AdsInput {
    /// A working ADS1115 channel.
    Present(Ads1115Channel<'static, I2cBus>),
    /// The ADS1115 was not found.
    Absent,
}

impl AnalogInput for AdsInput {
    type Error = ErrorKind;

    fn read_millivolts(&mut self) -> Result<f32, ErrorKind> {
        match self {
            Self::Present(channel) => channel.read_millivolts().map_err(|e| e.kind()),
            Self::Absent => Err(ErrorKind::Bus),
        }
    }
}

/// Hands out the ADS1115's inputs, or [`AdsInput::Absent`] for each if the chip was not found.
pub fn ads_input(
    ads: Option<&'static Ads1115<I2cBus>>,
    input: sensors::adc::ads1115::Ads1115Input,
) -> AdsInput {
    ads.map_or(AdsInput::Absent, |ads| {
        AdsInput::Present(ads.channel(input))
    })
}

/// One input of the RP2040's ADC (12 bits, 3.3 V reference), sharing the converter with the others.
///
/// The MQ modules' output reaches 5 V, above the ADC's range: put a divider in front (10 kΩ from `AO` to the
/// pin, 20 kΩ from the pin to GND) and wrap the channel in [`sensors::adc::Divided`].
#[cfg(feature = "onchip-adc")]
pub struct RpChannel {
    adc: &'static core::cell::RefCell<embassy_rp::adc::Adc<'static, embassy_rp::adc::Blocking>>,
    channel: embassy_rp::adc::Channel<'static>,
}

#[cfg(feature = "onchip-adc")]
impl RpChannel {
    /// A channel on `adc`.
    pub fn new(
        adc: &'static core::cell::RefCell<embassy_rp::adc::Adc<'static, embassy_rp::adc::Blocking>>,
        channel: embassy_rp::adc::Channel<'static>,
    ) -> Self {
        Self { adc, channel }
    }
}

#[cfg(feature = "onchip-adc")]
impl AnalogInput for RpChannel {
    type Error = ErrorKind;

    fn read_millivolts(&mut self) -> Result<f32, ErrorKind> {
        // Another handle holding the converter is a programming error, not a sensor fault.
        let mut adc = self.adc.try_borrow_mut().map_err(|_| ErrorKind::Other)?;
        // `blocking_read` fails with `ConversionFailed` when the ADC flags an error.
        let counts = adc
            .blocking_read(&mut self.channel)
            .map_err(|_| ErrorKind::Bus)?;
        sensors::adc::counts_to_millivolts(counts.into(), 12, 3300.0).map_err(|e| e.kind())
    }
}
