//! Analog input: the one trait the MQ driver reads through, and its adapters.
//!
//! embedded-hal 1.0 has no ADC trait, so this crate defines [`AnalogInput`]: a
//! one-shot conversion returning millivolts at the pin. Boards implement it on
//! their own ADC (see below); the crate ships adapters for a voltage divider
//! ([`Divided`]), an ADS1115 channel (`ads1x1x` feature, module `ads1115`) and Linux
//! IIO sysfs (`linux` feature, module `iio`).
//!
//! # Implementing it for a board ADC
//!
//! Board ADCs share one converter between channels, so a channel handle borrows
//! the converter. Keep the converter in a `RefCell` (`no_std`, no allocation) and
//! give each MQ sensor a handle; a failed `try_borrow_mut` is a programming error
//! reported as [`ErrorKind::Other`].
//!
//! **embassy-rp** (RP2040: 12 bits, 3.3 V reference; the MQ modules' 5 V output
//! needs a divider, e.g. 10 kΩ over 20 kΩ, wrapped in [`Divided`]):
//!
//! ```text
//! use core::cell::RefCell;
//! use embassy_rp::adc::{Adc, Blocking, Channel};
//! use sensors::{adc::{counts_to_millivolts, AnalogInput}, ErrorKind};
//!
//! pub struct RpChannel<'a> {
//!     adc: &'a RefCell<Adc<'static, Blocking>>,
//!     channel: Channel<'static>,
//! }
//!
//! impl AnalogInput for RpChannel<'_> {
//!     type Error = ErrorKind;
//!     fn read_millivolts(&mut self) -> Result<f32, ErrorKind> {
//!         let mut adc = self.adc.try_borrow_mut().map_err(|_| ErrorKind::Other)?;
//!         // `blocking_read` fails with `ConversionFailed` when the ADC flags an error.
//!         let counts = adc.blocking_read(&mut self.channel).map_err(|_| ErrorKind::Bus)?;
//!         counts_to_millivolts(counts.into(), 12, 3300.0).map_err(|e| e.kind())
//!     }
//! }
//! ```
//!
//! **esp-hal** (ESP32-C3, `unstable` feature: `read_oneshot` returns
//! `nb::Result<u16, ()>`; with the `AdcCalCurve` scheme the value is already in
//! millivolts, with 11 dB attenuation up to about 2.5 V, so use a divider):
//!
//! ```text
//! use core::cell::RefCell;
//! use esp_hal::{analog::adc::{Adc, AdcCalCurve, AdcPin}, peripherals::ADC1, Blocking};
//! use sensors::{adc::AnalogInput, ErrorKind};
//!
//! pub struct EspChannel<'a, PIN> {
//!     adc: &'a RefCell<Adc<'static, ADC1<'static>, Blocking>>,
//!     pin: AdcPin<PIN, ADC1<'static>, AdcCalCurve<ADC1<'static>>>,
//! }
//!
//! impl<PIN: esp_hal::analog::adc::AdcChannel> AnalogInput for EspChannel<'_, PIN> {
//!     type Error = ErrorKind;
//!     fn read_millivolts(&mut self) -> Result<f32, ErrorKind> {
//!         let mut adc = self.adc.try_borrow_mut().map_err(|_| ErrorKind::Other)?;
//!         // Bounded poll instead of `nb::block!`, so a stuck converter is a timeout.
//!         for _ in 0..10_000 {
//!             match adc.read_oneshot(&mut self.pin) {
//!                 Ok(mv) => return Ok(f32::from(mv)),
//!                 Err(nb::Error::WouldBlock) => continue,
//!                 Err(nb::Error::Other(())) => return Err(ErrorKind::Bus),
//!             }
//!         }
//!         Err(ErrorKind::Timeout)
//!     }
//! }
//! ```

#[cfg(feature = "ads1x1x")]
pub mod ads1115;
#[cfg(feature = "linux")]
pub mod iio;

use crate::ErrorKind;

/// A one-shot analog conversion, in millivolts at the input.
///
/// ```
/// use sensors::{adc::AnalogInput, ErrorKind};
///
/// /// A fixed voltage, as a bench power supply would give.
/// struct Fixed(f32);
///
/// impl AnalogInput for Fixed {
///     type Error = ErrorKind;
///     fn read_millivolts(&mut self) -> Result<f32, ErrorKind> {
///         Ok(self.0)
///     }
/// }
///
/// assert_eq!(Fixed(1250.0).read_millivolts(), Ok(1250.0));
/// ```
pub trait AnalogInput {
    /// The converter's error.
    type Error: crate::Error;

    /// Start a conversion, wait for it, and return the input voltage in mV.
    ///
    /// # Errors
    ///
    /// The converter's error; an input beyond the converter's range should be
    /// reported with [`ErrorKind::OutOfRange`], not clamped.
    fn read_millivolts(&mut self) -> Result<f32, Self::Error>;
}

impl<T: AnalogInput + ?Sized> AnalogInput for &mut T {
    type Error = T::Error;

    fn read_millivolts(&mut self) -> Result<f32, Self::Error> {
        T::read_millivolts(self)
    }
}

/// Errors of the conversion helpers in this module.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum AdcError {
    /// The raw count does not fit the stated resolution.
    #[error("ADC count {counts} does not fit {bits} bits; check the resolution passed in")]
    CountOutOfRange {
        /// The count read.
        counts: u32,
        /// The resolution in bits.
        bits: u8,
    },
    /// The count is the converter's full-scale code: the input is at or above the
    /// reference and the true voltage is unknown.
    #[error(
        "ADC input clipped at full scale ({full_scale_mv} mV); add or adjust the voltage divider"
    )]
    Clipped {
        /// The full-scale voltage in mV.
        full_scale_mv: f32,
    },
    /// A parameter is not a finite positive number (or the resolution is 0 or
    /// above 31 bits).
    #[error("invalid ADC parameter `{what}`; it must be finite and positive")]
    InvalidParameter {
        /// Which parameter.
        what: &'static str,
    },
}

impl crate::Error for AdcError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::CountOutOfRange { .. } | Self::Clipped { .. } => ErrorKind::OutOfRange,
            Self::InvalidParameter { .. } => ErrorKind::Other,
        }
    }
}

/// Convert a raw unipolar count to millivolts: `counts × full_scale_mv / 2^bits`.
///
/// The full-scale code (`2^bits − 1`) is reported as [`AdcError::Clipped`]: the
/// input may be anywhere at or above the reference.
///
/// # Errors
///
/// [`AdcError::CountOutOfRange`] for a count wider than `bits`,
/// [`AdcError::Clipped`] for the full-scale code, [`AdcError::InvalidParameter`]
/// for `bits` outside 1..=31 or a non-positive reference.
///
/// ```
/// use sensors::adc::{counts_to_millivolts, AdcError};
///
/// // RP2040: 12 bits, 3.3 V reference.
/// let mv = counts_to_millivolts(2048, 12, 3300.0)?;
/// assert!((mv - 1650.0).abs() < 1e-3);
/// assert!(matches!(counts_to_millivolts(4095, 12, 3300.0), Err(AdcError::Clipped { .. })));
/// # Ok::<(), AdcError>(())
/// ```
pub fn counts_to_millivolts(counts: u32, bits: u8, full_scale_mv: f32) -> Result<f32, AdcError> {
    if bits == 0 || bits > 31 {
        return Err(AdcError::InvalidParameter { what: "bits" });
    }
    if !(full_scale_mv.is_finite() && full_scale_mv > 0.0) {
        return Err(AdcError::InvalidParameter {
            what: "full_scale_mv",
        });
    }
    let steps = 1u32 << bits;
    if counts >= steps {
        return Err(AdcError::CountOutOfRange { counts, bits });
    }
    if counts == steps - 1 {
        return Err(AdcError::Clipped { full_scale_mv });
    }
    // f64 keeps 31-bit counts exact; the result is well within f32's range.
    Ok((f64::from(counts) * f64::from(full_scale_mv) / f64::from(steps)) as f32)
}

/// An input behind a resistive divider: reports the voltage *before* the divider.
///
/// MQ modules run from 5 V and their output can reach the supply, above a 3.3 V
/// ADC's range. With `top_ohms` from the sensor output to the ADC pin and
/// `bottom_ohms` from the pin to ground, the sensor voltage is
/// `pin × (top + bottom) / bottom`.
///
/// ```
/// use sensors::{adc::{AnalogInput, Divided}, ErrorKind};
///
/// struct Pin(f32);
/// impl AnalogInput for Pin {
///     type Error = ErrorKind;
///     fn read_millivolts(&mut self) -> Result<f32, ErrorKind> { Ok(self.0) }
/// }
///
/// // 10 kΩ over 20 kΩ: 3.0 V at the pin is 4.5 V at the sensor.
/// let mut input = Divided::new(Pin(3000.0), 10_000.0, 20_000.0).unwrap();
/// assert!((input.read_millivolts().unwrap() - 4500.0).abs() < 1e-3);
/// ```
#[derive(Debug)]
pub struct Divided<A> {
    inner: A,
    factor: f32,
}

impl<A> Divided<A> {
    /// Wrap `inner`, a converter measuring the divider's midpoint.
    ///
    /// # Errors
    ///
    /// [`AdcError::InvalidParameter`] if a resistance is not finite and positive.
    pub fn new(inner: A, top_ohms: f32, bottom_ohms: f32) -> Result<Self, AdcError> {
        if !(top_ohms.is_finite() && top_ohms >= 0.0) {
            return Err(AdcError::InvalidParameter { what: "top_ohms" });
        }
        if !(bottom_ohms.is_finite() && bottom_ohms > 0.0) {
            return Err(AdcError::InvalidParameter {
                what: "bottom_ohms",
            });
        }
        Ok(Self {
            inner,
            factor: (top_ohms + bottom_ohms) / bottom_ohms,
        })
    }

    /// The multiplier applied to the pin voltage.
    #[must_use]
    pub fn factor(&self) -> f32 {
        self.factor
    }

    /// Give the wrapped converter back.
    pub fn into_inner(self) -> A {
        self.inner
    }
}

impl<A: AnalogInput> AnalogInput for Divided<A> {
    type Error = A::Error;

    fn read_millivolts(&mut self) -> Result<f32, Self::Error> {
        Ok(self.inner.read_millivolts()? * self.factor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_scale_linearly() {
        let mv = counts_to_millivolts(1000, 12, 3300.0).unwrap();
        assert!((mv - 1000.0 * 3300.0 / 4096.0).abs() < 1e-3);
        assert_eq!(counts_to_millivolts(0, 16, 4096.0).unwrap(), 0.0);
    }

    #[test]
    fn counts_reject_bad_input() {
        assert_eq!(
            counts_to_millivolts(4096, 12, 3300.0),
            Err(AdcError::CountOutOfRange {
                counts: 4096,
                bits: 12
            })
        );
        assert!(matches!(
            counts_to_millivolts(1, 0, 3300.0),
            Err(AdcError::InvalidParameter { what: "bits" })
        ));
        assert!(matches!(
            counts_to_millivolts(1, 12, f32::NAN),
            Err(AdcError::InvalidParameter { .. })
        ));
        assert_eq!(
            crate::Error::kind(&AdcError::Clipped {
                full_scale_mv: 3300.0
            }),
            ErrorKind::OutOfRange
        );
    }

    #[test]
    fn divider_rejects_zero_bottom() {
        assert!(Divided::new((), 10_000.0, 0.0).is_err());
        assert!((Divided::new((), 10_000.0, 20_000.0).unwrap().factor() - 1.5).abs() < 1e-6);
    }
}
