//! DHT11 (and DHT22/AM2302) temperature and humidity sensors.
//!
//! The single-wire protocol (Aosong DHT11 datasheet §5, AM2302 datasheet §7):
//!
//! ```text
//! host:   ‾‾‾\______ ≥18 ms (DHT11) / ≥1 ms (DHT22) ______/‾‾ release
//! sensor:                                        20–40 µs  \__80 µs__/‾‾80 µs‾‾\
//! then 40 bits, MSB first:  \__50 µs__/‾‾ 26–28 µs = 0 | 70 µs = 1 ‾‾\  ...
//! ```
//!
//! The 5 bytes are humidity (integral, decimal), temperature (integral,
//! decimal), and a checksum, the low byte of the sum of the first four.
//!
//! The pure core is [`decode`] / [`decode_dht22`]; the pin code ([`Dht`],
//! blocking, and [`DhtAsync`]) only measures pulses.
//!
//! # Minimum interval
//!
//! The sensor needs quiet time between transmissions (DHT11: 1 s, DHT22: 2 s,
//! [`Model::min_interval_ms`]). The drivers take the runtime's clock as a
//! `now_ms: u64` argument (no clock trait) and answer a read that comes sooner
//! than that after the previous *attempt* with [`Error::TooSoon`], without
//! touching the line; the last good reading stays available from
//! `last_reading()`. A clock that goes backwards lets the next read through.

mod asynch;
mod blocking;

pub use asynch::DhtAsync;
pub use blocking::Dht;

use core::convert::Infallible;

use crate::{Climate, ErrorKind};

/// The sensor model: sets the start pulse, the interval and the data format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Model {
    /// DHT11: integral bytes plus a tenths byte each, 0–50 °C (newer parts
    /// −20–60 °C with a sign bit), 20–90 % RH.
    Dht11,
    /// DHT22 / AM2302: 16-bit tenths, −40–80 °C, 0–100 % RH.
    Dht22,
}

impl Model {
    /// How long the host holds the line low to start a read, in µs
    /// (DHT11: at least 18 ms, 20 ms used; DHT22: at least 1 ms, 1.1 ms used).
    #[must_use]
    pub const fn start_low_us(self) -> u32 {
        match self {
            Self::Dht11 => 20_000,
            Self::Dht22 => 1_100,
        }
    }

    /// The minimum time between two reads, in ms (DHT11 1 s, DHT22 2 s).
    #[must_use]
    pub const fn min_interval_ms(self) -> u64 {
        match self {
            Self::Dht11 => 1_000,
            Self::Dht22 => 2_000,
        }
    }

    /// Decode a frame in this model's format.
    ///
    /// # Errors
    ///
    /// As [`decode`] / [`decode_dht22`].
    pub fn decode(self, bytes: [u8; 5]) -> Result<Reading, Error<Infallible>> {
        match self {
            Self::Dht11 => decode(bytes),
            Self::Dht22 => decode_dht22(bytes),
        }
    }
}

/// Where in the frame an edge did not come in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Stage {
    /// The sensor's 80 µs low response did not end.
    ResponseLow,
    /// The sensor's 80 µs high response did not end.
    ResponseHigh,
    /// The 50 µs low before data bit `n` (0..40) did not end.
    BitLow(u8),
    /// The high pulse of data bit `n` (0..40) did not end.
    BitHigh(u8),
}

/// DHT errors; `E` is the pin's error ([`Infallible`] for [`decode`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error<E> {
    /// The pin reported an error.
    #[error("DHT data pin error: {0:?}")]
    Pin(E),
    /// The sensor never pulled the line low after the start pulse.
    #[error(
        "DHT sensor did not respond; check its supply, the data wiring and the 4.7–10 kΩ pull-up"
    )]
    NoResponse,
    /// An edge inside the response or the data did not come in time.
    #[error("DHT line stuck during {stage:?}; retry, and check the pull-up and cable length if it persists")]
    Timeout {
        /// Where the frame stopped.
        stage: Stage,
    },
    /// The checksum byte does not match the data.
    #[error("DHT checksum mismatch (computed {expected:#04x}, received {actual:#04x}); retry after the minimum interval")]
    Checksum {
        /// Low byte of the sum of the four data bytes.
        expected: u8,
        /// The checksum byte received.
        actual: u8,
    },
    /// The frame's checksum is right but its values are impossible (humidity
    /// above 100 %, a tenths digit above 9, a temperature outside −40–80 °C).
    /// Often the wrong [`Model`].
    #[error("DHT frame {bytes:02x?} decodes to an impossible value; check the configured model (DHT11 vs DHT22)")]
    Implausible {
        /// The frame received.
        bytes: [u8; 5],
    },
    /// Read again before the model's minimum interval; nothing was sent.
    #[error(
        "DHT read {retry_in_ms} ms too soon; wait for the minimum interval or use the last reading"
    )]
    TooSoon {
        /// Milliseconds until a read is allowed.
        retry_in_ms: u64,
    },
}

impl<E: core::fmt::Debug> crate::Error for Error<E> {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Pin(_) => ErrorKind::Bus,
            Self::NoResponse | Self::Timeout { .. } => ErrorKind::Timeout,
            Self::Checksum { .. } => ErrorKind::Checksum,
            Self::Implausible { .. } => ErrorKind::OutOfRange,
            Self::TooSoon { .. } => ErrorKind::NotReady,
        }
    }
}

impl Error<Infallible> {
    /// Carry a decode error into a driver error type.
    #[must_use]
    pub fn widen<E>(self) -> Error<E> {
        match self {
            Self::Pin(never) => match never {},
            Self::NoResponse => Error::NoResponse,
            Self::Timeout { stage } => Error::Timeout { stage },
            Self::Checksum { expected, actual } => Error::Checksum { expected, actual },
            Self::Implausible { bytes } => Error::Implausible { bytes },
            Self::TooSoon { retry_in_ms } => Error::TooSoon { retry_in_ms },
        }
    }
}

/// A decoded reading, in tenths so the DHT11's decimal bytes are kept exactly.
///
/// ```
/// use sensors::dht11::Reading;
///
/// let r = Reading { humidity_permille: 455, temperature_decicelsius: -12 };
/// assert_eq!(r.humidity_pct(), 45.5);
/// assert_eq!(r.temperature_c(), -1.2);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Reading {
    /// Relative humidity in tenths of a percent (455 = 45.5 % RH).
    pub humidity_permille: u16,
    /// Temperature in tenths of a degree Celsius (−12 = −1.2 °C).
    pub temperature_decicelsius: i16,
}

impl Reading {
    /// Temperature in °C.
    #[must_use]
    pub fn temperature_c(&self) -> f32 {
        f32::from(self.temperature_decicelsius) / 10.0
    }

    /// Relative humidity in %.
    #[must_use]
    pub fn humidity_pct(&self) -> f32 {
        f32::from(self.humidity_permille) / 10.0
    }

    /// As a [`Climate`].
    #[must_use]
    pub fn climate(&self) -> Climate {
        Climate {
            temperature_c: self.temperature_c(),
            humidity_pct: self.humidity_pct(),
        }
    }
}

/// The checksum over the four data bytes: the low byte of their sum.
#[must_use]
pub fn checksum(data: [u8; 4]) -> u8 {
    data.iter().fold(0u8, |acc, b| acc.wrapping_add(*b))
}

fn verify(bytes: [u8; 5]) -> Result<(), Error<Infallible>> {
    let [b0, b1, b2, b3, actual] = bytes;
    let expected = checksum([b0, b1, b2, b3]);
    if expected == actual {
        Ok(())
    } else {
        Err(Error::Checksum { expected, actual })
    }
}

const MAX_HUMIDITY_PERMILLE: u16 = 1000;
const TEMPERATURE_RANGE_DECICELSIUS: core::ops::RangeInclusive<i16> = -400..=800;

fn plausible(bytes: [u8; 5], reading: Reading) -> Result<Reading, Error<Infallible>> {
    if reading.humidity_permille <= MAX_HUMIDITY_PERMILLE
        && TEMPERATURE_RANGE_DECICELSIUS.contains(&reading.temperature_decicelsius)
    {
        Ok(reading)
    } else {
        Err(Error::Implausible { bytes })
    }
}

/// Decode a DHT11 frame: humidity integral + tenths, temperature integral +
/// tenths (bit 7 of the tenths byte is the sign on parts that go below 0 °C),
/// checksum.
///
/// # Errors
///
/// [`Error::Checksum`] on a mismatch, [`Error::Implausible`] for tenths above 9
/// or values out of range.
///
/// ```
/// use sensors::dht11::{decode, Error, Reading};
///
/// // 45.0 % RH, 23.4 °C.
/// let r = decode([45, 0, 23, 4, 72])?;
/// assert_eq!(r, Reading { humidity_permille: 450, temperature_decicelsius: 234 });
/// assert_eq!(decode([45, 0, 23, 4, 73]), Err(Error::Checksum { expected: 72, actual: 73 }));
/// # Ok::<(), Error<core::convert::Infallible>>(())
/// ```
pub fn decode(bytes: [u8; 5]) -> Result<Reading, Error<Infallible>> {
    verify(bytes)?;
    let [humidity, humidity_tenths, temperature, temperature_tenths, _] = bytes;
    let negative = temperature_tenths & 0x80 != 0;
    let temperature_tenths = temperature_tenths & 0x7F;
    if humidity_tenths > 9 || temperature_tenths > 9 {
        return Err(Error::Implausible { bytes });
    }
    let magnitude = i16::from(temperature) * 10 + i16::from(temperature_tenths);
    plausible(
        bytes,
        Reading {
            humidity_permille: u16::from(humidity) * 10 + u16::from(humidity_tenths),
            temperature_decicelsius: if negative { -magnitude } else { magnitude },
        },
    )
}

/// Decode a DHT22/AM2302 frame: 16-bit humidity in tenths, 16-bit temperature
/// in tenths with bit 15 as the sign (sign-magnitude, not two's complement),
/// checksum.
///
/// # Errors
///
/// [`Error::Checksum`] on a mismatch, [`Error::Implausible`] for values out of
/// range.
///
/// ```
/// use sensors::dht11::{decode_dht22, Reading};
///
/// // 65.2 % RH, −10.1 °C (AM2302 datasheet example).
/// let r = decode_dht22([0x02, 0x8C, 0x80, 0x65, 0x73])?;
/// assert_eq!(r, Reading { humidity_permille: 652, temperature_decicelsius: -101 });
/// # Ok::<(), sensors::dht11::Error<core::convert::Infallible>>(())
/// ```
pub fn decode_dht22(bytes: [u8; 5]) -> Result<Reading, Error<Infallible>> {
    verify(bytes)?;
    let [h_hi, h_lo, t_hi, t_lo, _] = bytes;
    let humidity_permille = u16::from_be_bytes([h_hi, h_lo]);
    // At most 0x7FFF, so the cast to i16 is lossless.
    let magnitude = u16::from_be_bytes([t_hi & 0x7F, t_lo]) as i16;
    let temperature_decicelsius = if t_hi & 0x80 != 0 {
        -magnitude
    } else {
        magnitude
    };
    plausible(
        bytes,
        Reading {
            humidity_permille,
            temperature_decicelsius,
        },
    )
}

/// Encode a reading as a DHT11 frame (the inverse of [`decode`]), as a sensor
/// would send it. Used by the simulator and tests.
///
/// # Errors
///
/// [`Error::Implausible`] if the reading cannot be represented (humidity above
/// 100 % or temperature outside −40–80 °C); the bytes carried are all zero.
///
/// ```
/// use sensors::dht11::{decode, encode, Reading};
///
/// let r = Reading { humidity_permille: 381, temperature_decicelsius: -57 };
/// assert_eq!(decode(encode(r)?)?, r);
/// # Ok::<(), sensors::dht11::Error<core::convert::Infallible>>(())
/// ```
pub fn encode(reading: Reading) -> Result<[u8; 5], Error<Infallible>> {
    let bad = Error::Implausible { bytes: [0; 5] };
    if reading.humidity_permille > MAX_HUMIDITY_PERMILLE
        || !TEMPERATURE_RANGE_DECICELSIUS.contains(&reading.temperature_decicelsius)
    {
        return Err(bad);
    }
    let h = reading.humidity_permille;
    let t = reading.temperature_decicelsius.unsigned_abs();
    let humidity = u8::try_from(h / 10).map_err(|_| bad)?;
    let humidity_tenths = u8::try_from(h % 10).map_err(|_| bad)?;
    let temperature = u8::try_from(t / 10).map_err(|_| bad)?;
    let mut temperature_tenths = u8::try_from(t % 10).map_err(|_| bad)?;
    if reading.temperature_decicelsius < 0 {
        temperature_tenths |= 0x80;
    }
    let data = [humidity, humidity_tenths, temperature, temperature_tenths];
    Ok([data[0], data[1], data[2], data[3], checksum(data)])
}

/// The minimum-interval rule and the last good reading, shared by both drivers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pacing {
    min_interval_ms: u64,
    last_attempt_ms: Option<u64>,
    last_reading: Option<(Reading, u64)>,
}

impl Pacing {
    pub(crate) const fn new(model: Model) -> Self {
        Self {
            min_interval_ms: model.min_interval_ms(),
            last_attempt_ms: None,
            last_reading: None,
        }
    }

    /// Admit an attempt at `now_ms` (and record it), or say how long to wait.
    pub(crate) fn admit<E>(&mut self, now_ms: u64) -> Result<(), Error<E>> {
        if let Some(last) = self.last_attempt_ms {
            let ready_at = last.saturating_add(self.min_interval_ms);
            if now_ms >= last && now_ms < ready_at {
                return Err(Error::TooSoon {
                    retry_in_ms: ready_at - now_ms,
                });
            }
        }
        self.last_attempt_ms = Some(now_ms);
        Ok(())
    }

    pub(crate) fn finish<E>(
        &mut self,
        model: Model,
        frame: Result<[u8; 5], Error<E>>,
        now_ms: u64,
    ) -> Result<Reading, Error<E>> {
        let reading = model.decode(frame?).map_err(Error::widen)?;
        self.last_reading = Some((reading, now_ms));
        Ok(reading)
    }
}

/// Bit-level frame assembly from pulse measurements, shared by both drivers.
#[derive(Debug, Default)]
struct Frame {
    bytes: [u8; 5],
}

impl Frame {
    fn set_bit(&mut self, index: u8, one: bool) {
        if one {
            if let Some(byte) = self.bytes.get_mut(usize::from(index / 8)) {
                *byte |= 0x80 >> (index % 8);
            }
        }
    }
}

/// Number of data bits in a frame.
const BITS: u8 = 40;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pacing_enforces_interval_from_last_attempt() {
        let mut p = Pacing::new(Model::Dht11);
        assert!(p.admit::<()>(5_000).is_ok());
        assert_eq!(
            p.admit::<()>(5_400),
            Err(Error::TooSoon { retry_in_ms: 600 })
        );
        assert!(p.admit::<()>(6_000).is_ok());
        // A clock that went backwards lets the read through.
        assert!(p.admit::<()>(10).is_ok());
    }

    #[test]
    fn frame_sets_bits_msb_first() {
        let mut f = Frame::default();
        f.set_bit(0, true);
        f.set_bit(15, true);
        f.set_bit(39, true);
        f.set_bit(40, true); // outside the frame: ignored
        assert_eq!(f.bytes, [0x80, 0x01, 0, 0, 0x01]);
    }

    #[test]
    fn decode_dht11_negative_and_tenths() {
        let data = [30, 5, 2, 0x83];
        let r = decode([data[0], data[1], data[2], data[3], checksum(data)]).unwrap();
        assert_eq!(r.humidity_permille, 305);
        assert_eq!(r.temperature_decicelsius, -23);
    }

    #[test]
    fn decode_rejects_impossible_values() {
        let data = [101, 0, 20, 0];
        let bytes = [data[0], data[1], data[2], data[3], checksum(data)];
        assert_eq!(decode(bytes), Err(Error::Implausible { bytes }));
        let data = [50, 12, 20, 0];
        let bytes = [data[0], data[1], data[2], data[3], checksum(data)];
        assert_eq!(decode(bytes), Err(Error::Implausible { bytes }));
    }
}
