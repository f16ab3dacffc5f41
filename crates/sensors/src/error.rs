//! The error trait every driver error implements, in the shape of embedded-hal's
//! `digital::Error`: a runtime decides whether to retry from [`ErrorKind`] alone.

/// A sensor error that can be classified.
///
/// Every error type of this crate implements it, and so must the error of any
/// [`AnalogInput`](crate::adc::AnalogInput) a board provides.
///
/// ```
/// use sensors::{Error, ErrorKind};
///
/// #[derive(Debug)]
/// struct ConversionFailed;
///
/// impl Error for ConversionFailed {
///     fn kind(&self) -> ErrorKind {
///         ErrorKind::Bus
///     }
/// }
///
/// assert_eq!(ConversionFailed.kind().code(), 1);
/// ```
pub trait Error: core::fmt::Debug {
    /// What went wrong, in the crate's fixed vocabulary.
    fn kind(&self) -> ErrorKind;
}

/// The kinds of sensor failure, with a stable numeric code for the thing model's
/// `sensor_fault.error_code` (0..=255; 0 is never used for a fault).
///
/// ```
/// use sensors::ErrorKind;
///
/// assert_eq!(ErrorKind::Checksum.code(), 3);
/// assert_eq!(ErrorKind::from_code(3), Some(ErrorKind::Checksum));
/// assert!(ErrorKind::Timeout.is_transient());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ErrorKind {
    /// The bus or pin under the sensor failed (GPIO, I²C, sysfs read). Check the
    /// wiring and the HAL's error.
    #[error("bus or pin error; check the wiring and the HAL's error")]
    Bus,
    /// The sensor did not answer in time (no response, a missing edge, an ADC
    /// conversion that never finished). The sensor may be missing or unpowered.
    #[error("sensor did not answer in time; check power, pull-up and wiring")]
    Timeout,
    /// Data arrived but its checksum did not match. Usually noise or a long cable;
    /// retry after the sensor's minimum interval.
    #[error("checksum mismatch; retry, and shorten the cable if it persists")]
    Checksum,
    /// The sensor needs a calibration value (MQ `R0`) before it can convert.
    #[error("sensor is not calibrated; run calibration or restore a saved R0")]
    NotCalibrated,
    /// The value is outside what the sensor can report: an open circuit, a
    /// saturated input, or an implausible decoded value.
    #[error("value out of range (open circuit, saturated input or implausible data); check the sensor and its divider")]
    OutOfRange,
    /// The sensor is not ready yet: heater still warming up, or read again
    /// before its minimum interval. Retry later.
    #[error("sensor not ready (warming up or read too soon); retry later")]
    NotReady,
    /// Anything else, such as an invalid configuration value.
    #[error("other sensor error; see the driver's error for details")]
    Other,
}

impl ErrorKind {
    /// The stable code reported as `error_code` in the thing model's
    /// `sensor_fault` event: 1 bus, 2 timeout, 3 checksum, 4 not calibrated,
    /// 5 out of range, 6 not ready, 255 other.
    #[must_use]
    pub const fn code(self) -> u8 {
        match self {
            Self::Bus => 1,
            Self::Timeout => 2,
            Self::Checksum => 3,
            Self::NotCalibrated => 4,
            Self::OutOfRange => 5,
            Self::NotReady => 6,
            Self::Other => 255,
        }
    }

    /// The kind for a code from [`ErrorKind::code`], if it is one.
    #[must_use]
    pub const fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(Self::Bus),
            2 => Some(Self::Timeout),
            3 => Some(Self::Checksum),
            4 => Some(Self::NotCalibrated),
            5 => Some(Self::OutOfRange),
            6 => Some(Self::NotReady),
            255 => Some(Self::Other),
            _ => None,
        }
    }

    /// Whether retrying later may succeed without anyone touching the hardware
    /// (timeouts, checksum errors, not-ready).
    #[must_use]
    pub const fn is_transient(self) -> bool {
        matches!(self, Self::Timeout | Self::Checksum | Self::NotReady)
    }
}

impl Error for ErrorKind {
    fn kind(&self) -> ErrorKind {
        *self
    }
}

impl Error for core::convert::Infallible {
    fn kind(&self) -> ErrorKind {
        match *self {}
    }
}
