//! ADS1115 analog input through the `ads1x1x` driver (feature `ads1x1x`).
//!
//! The RP2040 has three free ADC pins for four MQ sensors, so boards commonly add
//! an ADS1115: 16 bits, four single-ended inputs, I²C. The four inputs share one
//! converter; [`Ads1115`] owns it in a `RefCell` and hands out one
//! [`Ads1115Channel`] per input, each an [`AnalogInput`].
//!
//! Power the ADS1115 from the MQ modules' 5 V and use the ±6.144 V range, so
//! that the whole 0–5 V output is measurable without a divider (the inputs must
//! stay below VDD + 0.3 V). Conversions are one-shot: the adapter starts one and
//! polls the config register until it is done, at most
//! [`Ads1115::DEFAULT_MAX_POLLS`] times. At the default 128 SPS a conversion
//! takes ~8 ms; select 860 SPS with
//! `device_mut().set_data_rate(DataRate16Bit::Sps860)` for ~1.2 ms.

use core::cell::RefCell;

use ads1x1x::{channel, ic, mode, Ads1x1x, FullScaleRange, TargetAddr};
use embedded_hal::i2c::I2c;

use super::AnalogInput;
use crate::ErrorKind;

/// The `ads1x1x` device type this adapter drives.
pub type Ads1115Device<I2C> = Ads1x1x<I2C, ic::Ads1115, ic::Resolution16Bit, mode::OneShot>;

/// A single-ended ADS1115 input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Ads1115Input {
    /// AIN0 against GND.
    A0,
    /// AIN1 against GND.
    A1,
    /// AIN2 against GND.
    A2,
    /// AIN3 against GND.
    A3,
}

/// ADS1115 adapter errors; `E` is the I²C error.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Ads1115Error<E> {
    /// The I²C transfer failed.
    #[error("ADS1115 I2C error: {0:?}; check SDA/SCL, pull-ups and the ADDR pin")]
    I2c(E),
    /// The driver rejected a parameter.
    #[error("ADS1115 driver rejected its input data")]
    InvalidInput,
    /// The conversion did not finish within the poll limit.
    #[error(
        "ADS1115 conversion did not finish after {polls} polls; check the data rate and the device"
    )]
    Timeout {
        /// Polls made.
        polls: u32,
    },
    /// The input is at the top of the range: the voltage is unknown.
    #[error(
        "ADS1115 input clipped at {full_scale_mv} mV; use a wider full-scale range or a divider"
    )]
    Clipped {
        /// The configured full-scale voltage in mV.
        full_scale_mv: f32,
    },
    /// Another channel handle is using the converter right now (re-entrant use).
    #[error("ADS1115 is in use by another channel; read channels one after another")]
    Busy,
}

impl<E: core::fmt::Debug> crate::Error for Ads1115Error<E> {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::I2c(_) => ErrorKind::Bus,
            Self::Timeout { .. } => ErrorKind::Timeout,
            Self::Clipped { .. } => ErrorKind::OutOfRange,
            Self::InvalidInput | Self::Busy => ErrorKind::Other,
        }
    }
}

impl<E> From<ads1x1x::Error<E>> for Ads1115Error<E> {
    fn from(e: ads1x1x::Error<E>) -> Self {
        match e {
            ads1x1x::Error::I2C(e) => Self::I2c(e),
            ads1x1x::Error::InvalidInputData => Self::InvalidInput,
        }
    }
}

/// The full-scale voltage of a PGA range, in mV.
#[must_use]
pub const fn full_scale_millivolts(range: FullScaleRange) -> f32 {
    match range {
        FullScaleRange::Within6_144V => 6144.0,
        FullScaleRange::Within4_096V => 4096.0,
        FullScaleRange::Within2_048V => 2048.0,
        FullScaleRange::Within1_024V => 1024.0,
        FullScaleRange::Within0_512V => 512.0,
        FullScaleRange::Within0_256V => 256.0,
    }
}

/// An ADS1115 shared by up to four channel handles.
pub struct Ads1115<I2C> {
    device: RefCell<Ads1115Device<I2C>>,
    full_scale_mv: f32,
    max_polls: u32,
}

impl<I2C, E> Ads1115<I2C>
where
    I2C: I2c<Error = E>,
{
    /// Polls before giving up, counting the one that starts the conversion (each
    /// one an I²C register read).
    pub const DEFAULT_MAX_POLLS: u32 = 2_000;

    /// Take the bus, address the device and set its full-scale range.
    ///
    /// # Errors
    ///
    /// [`Ads1115Error::I2c`] if the range cannot be written.
    pub fn new(
        i2c: I2C,
        address: TargetAddr,
        range: FullScaleRange,
    ) -> Result<Self, Ads1115Error<E>> {
        let mut device = Ads1x1x::new_ads1115(i2c, address);
        device.set_full_scale_range(range)?;
        Ok(Self {
            device: RefCell::new(device),
            full_scale_mv: full_scale_millivolts(range),
            max_polls: Self::DEFAULT_MAX_POLLS,
        })
    }

    /// Change the poll limit.
    #[must_use]
    pub fn with_max_polls(mut self, max_polls: u32) -> Self {
        self.max_polls = max_polls;
        self
    }

    /// A handle reading one input.
    pub fn channel(&self, input: Ads1115Input) -> Ads1115Channel<'_, I2C> {
        Ads1115Channel { adc: self, input }
    }

    /// The `ads1x1x` device, e.g. to set the data rate. Changing the full-scale
    /// range here would make the millivolt conversion wrong; create a new adapter
    /// instead.
    pub fn device_mut(&mut self) -> &mut Ads1115Device<I2C> {
        self.device.get_mut()
    }

    /// Give the bus back.
    pub fn release(self) -> I2C {
        self.device.into_inner().destroy_ads1115()
    }

    fn convert(&self, input: Ads1115Input) -> Result<f32, Ads1115Error<E>> {
        let mut device = self
            .device
            .try_borrow_mut()
            .map_err(|_| Ads1115Error::Busy)?;
        let mut polls = 0;
        let counts = loop {
            let result = match input {
                Ads1115Input::A0 => device.read(channel::SingleA0),
                Ads1115Input::A1 => device.read(channel::SingleA1),
                Ads1115Input::A2 => device.read(channel::SingleA2),
                Ads1115Input::A3 => device.read(channel::SingleA3),
            };
            match result {
                Ok(counts) => break counts,
                Err(nb::Error::Other(e)) => return Err(e.into()),
                Err(nb::Error::WouldBlock) => {
                    polls += 1;
                    if polls > self.max_polls {
                        return Err(Ads1115Error::Timeout { polls });
                    }
                }
            }
        };
        if counts == i16::MAX {
            return Err(Ads1115Error::Clipped {
                full_scale_mv: self.full_scale_mv,
            });
        }
        // Single-ended inputs only read slightly negative (offset) near 0 V.
        let counts = counts.max(0);
        Ok(f32::from(counts) * self.full_scale_mv / 32_768.0)
    }
}

impl<I2C> core::fmt::Debug for Ads1115<I2C> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Ads1115")
            .field("full_scale_mv", &self.full_scale_mv)
            .field("max_polls", &self.max_polls)
            .finish_non_exhaustive()
    }
}

/// One input of a shared [`Ads1115`].
#[derive(Debug)]
pub struct Ads1115Channel<'a, I2C> {
    adc: &'a Ads1115<I2C>,
    input: Ads1115Input,
}

impl<I2C, E> AnalogInput for Ads1115Channel<'_, I2C>
where
    I2C: I2c<Error = E>,
    E: core::fmt::Debug,
{
    type Error = Ads1115Error<E>;

    fn read_millivolts(&mut self) -> Result<f32, Self::Error> {
        self.adc.convert(self.input)
    }
}
