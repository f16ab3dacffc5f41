//! MQ-series gas sensors: one generic driver and per-model constants.
//!
//! An MQ sensor is a heated tin-dioxide resistor `Rs` in series with a load
//! resistor `RL` across the supply `Vc`; the ADC measures the voltage over `RL`:
//!
//! ```text
//!   Vc ──[ Rs (sensor) ]──┬──[ RL ]── GND      Rs = RL · (Vc − Vout) / Vout
//!                         └── Vout → ADC
//! ```
//!
//! `Rs` falls as the gas concentration rises. Each datasheet plots `Rs/R0`
//! against ppm on log-log axes, which the power law `ppm = a · (Rs/R0)^b` fits
//! ([`Curve`]); `R0` is `Rs` in a known reference atmosphere ([`Reference`]),
//! found by calibration and saved as a plain value ([`R0`]).
//!
//! The pure math is here ([`ppm`], [`r0_from`], [`Circuit::rs_ohms`],
//! [`mq135::correction_factor`]); [`MqSensor`] wires it to an
//! [`AnalogInput`](crate::adc::AnalogInput) with a warm-up state.
//!
//! ```
//! use sensors::mq::{self, Reference};
//!
//! // MQ-2 in clean air reads Rs = 98.3 kΩ, so R0 = 98.3 / 9.83 = 10 kΩ ...
//! let r0 = mq::r0_from(98_300.0, Reference::CleanAirRatio(mq::mq2::CLEAN_AIR_RATIO))?;
//! assert!((r0.kilohms() - 10.0).abs() < 1e-3);
//! // ... and later Rs = 20 kΩ is Rs/R0 = 2, i.e. 574.25 · 2^−2.222 ≈ 123.1 ppm LPG.
//! let lpg = mq::ppm(20_000.0 / r0.ohms(), mq::mq2::LPG.curve)?;
//! assert!((lpg - 123.09).abs() < 0.01);
//! # Ok::<(), sensors::mq::Error>(())
//! ```

pub mod mq135;
pub mod mq2;
pub mod mq4;
pub mod mq7;
mod sensor;

pub use sensor::{Config, MqReading, MqSensor};

use core::convert::Infallible;

use crate::ErrorKind;

/// MQ-2 (LPG, propane, H₂, smoke): see [`mq2`].
pub const MQ2: Model = mq2::MODEL;
/// MQ-4 (methane, natural gas): see [`mq4`].
pub const MQ4: Model = mq4::MODEL;
/// MQ-7 (carbon monoxide): see [`mq7`].
pub const MQ7: Model = mq7::MODEL;
/// MQ-135 (air quality: CO₂, NH₃, alcohol, ...): see [`mq135`].
pub const MQ135: Model = mq135::MODEL;

/// Errors of the MQ math and driver. `E` is the analog input's error; the pure
/// functions use the default, [`Infallible`].
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error<E = Infallible> {
    /// The analog input failed.
    #[error("analog input failed: {0:?}")]
    Adc(E),
    /// The output is at (or near) 0 V: `Rs` is effectively infinite. The sensor
    /// or its heater is disconnected, or the ADC pin is not wired.
    #[error("MQ output {millivolts} mV is near 0 V (open circuit); check the sensor, its heater and the ADC wiring")]
    OpenCircuit {
        /// The measured output voltage in mV.
        millivolts: f32,
    },
    /// The output is at (or above) the supply: `Rs` is effectively zero, the
    /// input is shorted, or the divider/supply settings are wrong.
    #[error("MQ output {millivolts} mV is at or above the {supply_millivolts} mV supply (saturated); check for a short and the configured supply and divider")]
    Saturated {
        /// The measured output voltage in mV.
        millivolts: f32,
        /// The configured supply voltage in mV.
        supply_millivolts: f32,
    },
    /// No `R0` is known yet.
    #[error("MQ sensor has no R0; calibrate it in the reference atmosphere or restore a saved R0")]
    NotCalibrated,
    /// Calibration was asked for before the heater's preheat time passed.
    #[error(
        "MQ heater still warming up ({remaining_ms} ms left); calibrate after the preheat time"
    )]
    WarmingUp {
        /// Milliseconds until the preheat time has passed.
        remaining_ms: u64,
    },
    /// A number was not finite and positive (a ratio, ppm, resistance, `R0`).
    #[error("`{what}` must be finite and positive; check the configuration or the saved value")]
    InvalidValue {
        /// Which value.
        what: &'static str,
    },
}

impl<E: crate::Error> crate::Error for Error<E> {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Adc(e) => e.kind(),
            Self::OpenCircuit { .. } | Self::Saturated { .. } => ErrorKind::OutOfRange,
            Self::NotCalibrated => ErrorKind::NotCalibrated,
            Self::WarmingUp { .. } => ErrorKind::NotReady,
            Self::InvalidValue { .. } => ErrorKind::OutOfRange,
        }
    }
}

impl Error<Infallible> {
    /// Carry a math error into a driver error type.
    #[must_use]
    pub fn widen<E>(self) -> Error<E> {
        match self {
            Self::Adc(never) => match never {},
            Self::OpenCircuit { millivolts } => Error::OpenCircuit { millivolts },
            Self::Saturated {
                millivolts,
                supply_millivolts,
            } => Error::Saturated {
                millivolts,
                supply_millivolts,
            },
            Self::NotCalibrated => Error::NotCalibrated,
            Self::WarmingUp { remaining_ms } => Error::WarmingUp { remaining_ms },
            Self::InvalidValue { what } => Error::InvalidValue { what },
        }
    }
}

fn positive(value: f32, what: &'static str) -> Result<f32, Error> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(Error::InvalidValue { what })
    }
}

/// A log-log calibration curve: `ppm = a · (Rs/R0)^b`.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Curve {
    /// Scale factor `a` (ppm at `Rs/R0 = 1`).
    pub a: f32,
    /// Exponent `b` (negative: the resistance falls as the gas rises).
    pub b: f32,
}

impl Curve {
    /// A curve from its two constants.
    #[must_use]
    pub const fn new(a: f32, b: f32) -> Self {
        Self { a, b }
    }
}

/// Gases with published curves for the supported models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Gas {
    /// Liquefied petroleum gas.
    Lpg,
    /// Hydrogen.
    H2,
    /// Carbon monoxide.
    Co,
    /// Alcohol (ethanol).
    Alcohol,
    /// Propane.
    Propane,
    /// Methane (natural gas).
    Ch4,
    /// Carbon dioxide.
    Co2,
    /// Ammonium, as `MQSensorsLib` names the MQ-135 ammonia (NH₃) curve.
    Nh4,
    /// Toluene.
    Toluene,
    /// Acetone.
    Acetone,
}

/// A gas and its curve for one model.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct GasCurve {
    /// The gas.
    pub gas: Gas,
    /// Its curve.
    pub curve: Curve,
}

impl GasCurve {
    /// A gas with its curve constants.
    #[must_use]
    pub const fn new(gas: Gas, a: f32, b: f32) -> Self {
        Self {
            gas,
            curve: Curve::new(a, b),
        }
    }
}

/// How `R0` is found: which atmosphere the sensor sits in during calibration.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Reference {
    /// Clean air, where the datasheet gives `Rs/R0` (MQ-2 9.83, MQ-4 4.4,
    /// MQ-7 27.5): `R0 = Rs / ratio`.
    CleanAirRatio(f32),
    /// Air with a known concentration of the curve's gas, such as ambient CO₂
    /// for the MQ-135: `R0 = Rs · (a / ppm)^(1/b)`.
    KnownConcentration {
        /// The reference concentration in ppm.
        ppm: f32,
        /// The curve of that gas.
        curve: Curve,
    },
}

/// Sensor resistance in the reference atmosphere, in ohms.
///
/// A plain value to keep in flash or NVS: [`R0::to_le_bytes`] and
/// [`R0::from_le_bytes`] round-trip it exactly and reject garbage (erased flash
/// reads as `0xFF…`, a NaN).
///
/// ```
/// use sensors::mq::R0;
///
/// let r0 = R0::from_kilohms(12.5)?;
/// let saved = r0.to_le_bytes();
/// assert_eq!(R0::from_le_bytes(saved)?, r0);
/// assert!(R0::from_le_bytes([0xFF; 4]).is_err());
/// # Ok::<(), sensors::mq::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct R0 {
    ohms: f32,
}

impl R0 {
    /// `R0` from ohms.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidValue`] unless `ohms` is finite and positive.
    pub fn from_ohms(ohms: f32) -> Result<Self, Error> {
        Ok(Self {
            ohms: positive(ohms, "r0")?,
        })
    }

    /// `R0` from kilohms, the unit of the thing model's `calibrate` output.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidValue`] unless `kilohms` is finite and positive.
    pub fn from_kilohms(kilohms: f32) -> Result<Self, Error> {
        Self::from_ohms(kilohms * 1000.0)
    }

    /// The value in ohms.
    #[must_use]
    pub fn ohms(self) -> f32 {
        self.ohms
    }

    /// The value in kilohms.
    #[must_use]
    pub fn kilohms(self) -> f32 {
        self.ohms / 1000.0
    }

    /// The 4 bytes to store (little-endian IEEE 754 ohms).
    #[must_use]
    pub fn to_le_bytes(self) -> [u8; 4] {
        self.ohms.to_le_bytes()
    }

    /// Restore a value stored with [`R0::to_le_bytes`].
    ///
    /// # Errors
    ///
    /// [`Error::InvalidValue`] if the bytes are not a finite positive number
    /// (such as erased flash); calibrate again.
    pub fn from_le_bytes(bytes: [u8; 4]) -> Result<Self, Error> {
        Self::from_ohms(f32::from_le_bytes(bytes))
    }
}

/// Concentration from `Rs/R0` on a curve: `ppm = a · ratio^b`.
///
/// # Errors
///
/// [`Error::InvalidValue`] unless `ratio` and `a` are finite and positive and `b`
/// finite.
///
/// ```
/// use sensors::mq::{ppm, mq7};
///
/// // MQ-7 CO at Rs/R0 = 1: exactly a.
/// assert!((ppm(1.0, mq7::CO.curve)? - 99.042).abs() < 1e-3);
/// # Ok::<(), sensors::mq::Error>(())
/// ```
pub fn ppm(ratio: f32, curve: Curve) -> Result<f32, Error> {
    positive(ratio, "ratio")?;
    positive(curve.a, "curve.a")?;
    if !curve.b.is_finite() {
        return Err(Error::InvalidValue { what: "curve.b" });
    }
    let value = curve.a * libm::powf(ratio, curve.b);
    if value.is_finite() {
        Ok(value)
    } else {
        Err(Error::InvalidValue { what: "ppm" })
    }
}

/// The inverse of [`ppm`]: the `Rs/R0` at which a curve reads `ppm`,
/// `(ppm / a)^(1/b)`.
///
/// # Errors
///
/// [`Error::InvalidValue`] unless `ppm` and `a` are finite and positive and `b`
/// finite and non-zero.
///
/// ```
/// use sensors::mq::{ppm, ratio_at, mq4};
///
/// let ratio = ratio_at(1000.0, mq4::CH4.curve)?;
/// assert!((ppm(ratio, mq4::CH4.curve)? - 1000.0).abs() < 0.1);
/// # Ok::<(), sensors::mq::Error>(())
/// ```
pub fn ratio_at(ppm: f32, curve: Curve) -> Result<f32, Error> {
    positive(ppm, "ppm")?;
    positive(curve.a, "curve.a")?;
    if !(curve.b.is_finite() && curve.b != 0.0) {
        return Err(Error::InvalidValue { what: "curve.b" });
    }
    positive(libm::powf(ppm / curve.a, 1.0 / curve.b), "ratio")
}

/// `R0` from a sensor resistance measured in the reference atmosphere.
///
/// - [`Reference::CleanAirRatio`]`(k)`: `R0 = Rs / k`.
/// - [`Reference::KnownConcentration`]: `R0 = Rs · (a / ppm)^(1/b)`, so that the
///   curve reads exactly `ppm` at this `Rs`.
///
/// # Errors
///
/// [`Error::InvalidValue`] for a non-positive `rs_ohms` or reference value.
///
/// ```
/// use sensors::mq::{r0_from, mq135, Reference};
///
/// // MQ-135 in outdoor air (400 ppm CO2) with Rs = 30 kΩ.
/// let r0 = r0_from(30_000.0, mq135::ambient_co2(400.0))?;
/// let expected = 30_000.0 * libm::powf(110.47 / 400.0, 1.0 / -2.862);
/// assert!((r0.ohms() - expected).abs() < 1.0);
/// # Ok::<(), sensors::mq::Error>(())
/// ```
pub fn r0_from(rs_ohms: f32, reference: Reference) -> Result<R0, Error> {
    positive(rs_ohms, "rs_ohms")?;
    let ratio = match reference {
        Reference::CleanAirRatio(ratio) => positive(ratio, "clean_air_ratio")?,
        Reference::KnownConcentration { ppm, curve } => ratio_at(ppm, curve)?,
    };
    R0::from_ohms(rs_ohms / ratio)
}

/// The measuring circuit: supply, load resistor and the thresholds that turn a
/// dead or shorted sensor into an error instead of a silent zero.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Circuit {
    /// Sensor supply `Vc` in mV (5000 on the common modules; measure it, a USB
    /// supply is often 4.8 V).
    pub supply_millivolts: f32,
    /// Load resistor `RL` in ohms (datasheet: 10 kΩ; many breakout boards fit
    /// 1 kΩ, marked "102").
    pub load_resistance_ohms: f32,
    /// Below this output the sensor counts as an open circuit (default 5 mV,
    /// i.e. `Rs` ≈ 10 MΩ with a 10 kΩ load, beyond any live MQ element).
    pub open_circuit_below_millivolts: f32,
    /// Within this margin of the supply the output counts as saturated
    /// (default 5 mV).
    pub saturation_margin_millivolts: f32,
}

impl Circuit {
    /// 5 V supply, 10 kΩ load, 5 mV thresholds.
    pub const DEFAULT: Self = Self {
        supply_millivolts: 5000.0,
        load_resistance_ohms: 10_000.0,
        open_circuit_below_millivolts: 5.0,
        saturation_margin_millivolts: 5.0,
    };

    /// `Rs = RL · (Vc − Vout) / Vout`, with open-circuit and saturation checks.
    ///
    /// # Errors
    ///
    /// [`Error::OpenCircuit`] near 0 V, [`Error::Saturated`] near or above the
    /// supply, [`Error::InvalidValue`] for a non-finite voltage or a bad circuit.
    ///
    /// ```
    /// use sensors::mq::{Circuit, Error};
    ///
    /// let c = Circuit::DEFAULT;
    /// assert!((c.rs_ohms(2500.0)? - 10_000.0).abs() < 1e-2); // Rs = RL at Vc/2
    /// assert!(matches!(c.rs_ohms(0.0), Err(Error::OpenCircuit { .. })));
    /// assert!(matches!(c.rs_ohms(5000.0), Err(Error::Saturated { .. })));
    /// # Ok::<(), Error>(())
    /// ```
    pub fn rs_ohms(&self, output_millivolts: f32) -> Result<f32, Error> {
        let supply = positive(self.supply_millivolts, "supply_millivolts")?;
        let load = positive(self.load_resistance_ohms, "load_resistance_ohms")?;
        if !output_millivolts.is_finite() {
            return Err(Error::InvalidValue {
                what: "output_millivolts",
            });
        }
        if output_millivolts < self.open_circuit_below_millivolts.max(f32::MIN_POSITIVE) {
            return Err(Error::OpenCircuit {
                millivolts: output_millivolts,
            });
        }
        if output_millivolts >= supply - self.saturation_margin_millivolts.max(0.0) {
            return Err(Error::Saturated {
                millivolts: output_millivolts,
                supply_millivolts: supply,
            });
        }
        Ok(load * (supply - output_millivolts) / output_millivolts)
    }

    /// The output voltage for a sensor resistance (the inverse of
    /// [`Circuit::rs_ohms`], without thresholds): `Vc · RL / (Rs + RL)`.
    #[must_use]
    pub fn output_millivolts(&self, rs_ohms: f32) -> f32 {
        self.supply_millivolts * self.load_resistance_ohms / (rs_ohms + self.load_resistance_ohms)
    }
}

impl Default for Circuit {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Temperature and humidity correction of `Rs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Compensation {
    /// Use `Rs` as measured.
    None,
    /// `GeorgK`'s MQ-135 fit: `Rs / cf(t, h)`, see [`mq135::correction_factor`].
    GeorgK,
}

/// One model's published constants.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Model {
    /// Display name, e.g. `"MQ-135"`.
    pub name: &'static str,
    /// `Rs/R0` in clean air from the datasheet.
    pub clean_air_ratio: f32,
    /// The gas reported by default.
    pub default_gas: GasCurve,
    /// How `R0` is calibrated by default.
    pub default_reference: Reference,
    /// The correction applied by default.
    pub compensation: Compensation,
    /// All published curves for this model.
    pub curves: &'static [GasCurve],
}

impl Model {
    /// The curve for `gas`, if this model has one.
    ///
    /// ```
    /// use sensors::mq::{Gas, MQ2};
    ///
    /// assert_eq!(MQ2.curve(Gas::H2).map(|c| c.curve.a), Some(987.99));
    /// assert!(MQ2.curve(Gas::Co2).is_none());
    /// ```
    #[must_use]
    pub fn curve(&self, gas: Gas) -> Option<GasCurve> {
        self.curves.iter().copied().find(|c| c.gas == gas)
    }
}

/// Averages `Rs` over calibration samples and turns the mean into `R0`.
///
/// ```
/// use sensors::mq::{R0Accumulator, Reference};
///
/// let mut acc = R0Accumulator::new();
/// for rs in [9_800.0, 10_000.0, 10_200.0] {
///     acc.push(rs);
/// }
/// assert_eq!(acc.count(), 3);
/// let r0 = acc.finish(Reference::CleanAirRatio(1.0))?;
/// assert!((r0.ohms() - 10_000.0).abs() < 1e-2);
/// # Ok::<(), sensors::mq::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct R0Accumulator {
    sum: f64,
    count: u32,
}

impl R0Accumulator {
    /// An empty accumulator.
    #[must_use]
    pub const fn new() -> Self {
        Self { sum: 0.0, count: 0 }
    }

    /// Add one `Rs` sample in ohms; non-finite or non-positive samples are
    /// ignored (the driver never produces them).
    pub fn push(&mut self, rs_ohms: f32) {
        if rs_ohms.is_finite() && rs_ohms > 0.0 {
            self.sum += f64::from(rs_ohms);
            self.count = self.count.saturating_add(1);
        }
    }

    /// How many samples were added.
    #[must_use]
    pub const fn count(&self) -> u32 {
        self.count
    }

    /// `R0` from the mean `Rs`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidValue`] with no samples or a bad reference.
    pub fn finish(&self, reference: Reference) -> Result<R0, Error> {
        if self.count == 0 {
            return Err(Error::InvalidValue { what: "samples" });
        }
        r0_from((self.sum / f64::from(self.count)) as f32, reference)
    }
}
