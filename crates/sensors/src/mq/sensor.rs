//! The generic MQ driver over an [`AnalogInput`].

use core::num::NonZeroU16;

use super::{mq135, Circuit, Compensation, Error, GasCurve, Model, R0Accumulator, Reference, R0};
use crate::{adc::AnalogInput, Climate};

/// Driver configuration; [`Config::new`] takes a model's defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Config {
    /// The model's constants.
    pub model: Model,
    /// The gas to report.
    pub gas: GasCurve,
    /// The atmosphere calibration assumes.
    pub reference: Reference,
    /// Supply, load resistor and fault thresholds.
    pub circuit: Circuit,
    /// Heater warm-up after power-on, in ms, during which readings are flagged
    /// and calibration is refused (default 180 000: three minutes).
    pub preheat_ms: u64,
    /// Temperature/humidity correction of `Rs`.
    pub compensation: Compensation,
}

impl Config {
    /// Default heater warm-up: 3 minutes. The datasheets ask for 24–48 h of
    /// burn-in before first use; this only covers a warm restart.
    pub const DEFAULT_PREHEAT_MS: u64 = 180_000;

    /// A model's default gas, reference and correction, with the default
    /// circuit (5 V, 10 kΩ) and preheat time.
    ///
    /// ```
    /// use sensors::mq::{Compensation, Config, MQ135};
    ///
    /// let config = Config::new(MQ135);
    /// assert_eq!(config.compensation, Compensation::GeorgK);
    /// assert_eq!(config.gas, sensors::mq::mq135::CO2);
    /// ```
    #[must_use]
    pub const fn new(model: Model) -> Self {
        Self {
            model,
            gas: model.default_gas,
            reference: model.default_reference,
            circuit: Circuit::DEFAULT,
            preheat_ms: Self::DEFAULT_PREHEAT_MS,
            compensation: model.compensation,
        }
    }
}

/// One conversion.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MqReading {
    /// Concentration of the configured gas, in ppm.
    pub ppm: f32,
    /// `Rs/R0` (after correction).
    pub ratio: f32,
    /// Sensor resistance in ohms (after correction).
    pub rs_ohms: f32,
    /// The measured output voltage in mV.
    pub millivolts: f32,
    /// True while the heater's preheat time has not passed: the value is not
    /// yet meaningful (it drifts fast as the element heats).
    pub warming_up: bool,
    /// True if the temperature/humidity correction was applied.
    pub compensated: bool,
}

/// A generic MQ sensor: converts its analog input to ppm.
///
/// ```
/// use sensors::{adc::AnalogInput, mq::{Config, MqSensor, MQ2, R0}, ErrorKind};
///
/// struct Fixed(f32);
/// impl AnalogInput for Fixed {
///     type Error = ErrorKind;
///     fn read_millivolts(&mut self) -> Result<f32, ErrorKind> { Ok(self.0) }
/// }
///
/// // Vout = 1250 mV over RL = 10 kΩ from 5 V: Rs = 30 kΩ.
/// let mut mq2 = MqSensor::new(Fixed(1250.0), Config::new(MQ2), 0);
/// mq2.set_r0(R0::from_kilohms(10.0).unwrap());
/// let reading = mq2.read(200_000, None).unwrap();
/// assert!((reading.rs_ohms - 30_000.0).abs() < 0.5);
/// assert!(!reading.warming_up);
/// let expected = 574.25 * libm::powf(3.0, -2.222);
/// assert!((reading.ppm - expected).abs() < 1e-3);
/// ```
#[derive(Debug)]
pub struct MqSensor<A> {
    input: A,
    config: Config,
    r0: Option<R0>,
    powered_since_ms: u64,
}

impl<A: AnalogInput> MqSensor<A> {
    /// A sensor on `input`, whose heater was powered at `powered_since_ms` on
    /// the runtime's monotonic clock. Not calibrated yet: restore a saved `R0`
    /// with [`MqSensor::set_r0`] or run [`MqSensor::calibrate`].
    pub const fn new(input: A, config: Config, powered_since_ms: u64) -> Self {
        Self {
            input,
            config,
            r0: None,
            powered_since_ms,
        }
    }

    /// The configuration.
    pub const fn config(&self) -> &Config {
        &self.config
    }

    /// The current `R0`, if calibrated or restored.
    pub const fn r0(&self) -> Option<R0> {
        self.r0
    }

    /// Restore a saved `R0`.
    pub fn set_r0(&mut self, r0: R0) {
        self.r0 = Some(r0);
    }

    /// Record that the heater was (re)powered at `now_ms`: restarts warm-up.
    pub fn power_on(&mut self, now_ms: u64) {
        self.powered_since_ms = now_ms;
    }

    /// Milliseconds of warm-up left at `now_ms`, or `None` once preheated.
    pub fn warm_up_remaining_ms(&self, now_ms: u64) -> Option<u64> {
        let ready_at = self.powered_since_ms.saturating_add(self.config.preheat_ms);
        (now_ms < ready_at).then(|| ready_at - now_ms)
    }

    /// Measure the sensor resistance (corrected when configured and `climate`
    /// is given): returns `(millivolts, rs_ohms, compensated)`.
    ///
    /// # Errors
    ///
    /// [`Error::Adc`], [`Error::OpenCircuit`], [`Error::Saturated`], or
    /// [`Error::InvalidValue`] for a bad circuit configuration.
    pub fn measure(
        &mut self,
        climate: Option<Climate>,
    ) -> Result<(f32, f32, bool), Error<A::Error>> {
        let millivolts = self.input.read_millivolts().map_err(Error::Adc)?;
        let rs = self
            .config
            .circuit
            .rs_ohms(millivolts)
            .map_err(Error::widen)?;
        match (self.config.compensation, climate) {
            (Compensation::GeorgK, Some(c)) => {
                let cf = mq135::correction_factor(c.temperature_c, c.humidity_pct);
                if !(cf.is_finite() && cf > 0.0) {
                    return Err(Error::InvalidValue {
                        what: "correction_factor",
                    });
                }
                Ok((millivolts, rs / cf, true))
            }
            _ => Ok((millivolts, rs, false)),
        }
    }

    /// Read the configured gas at `now_ms`. `climate` feeds the correction
    /// (MQ-135); without it the reading is uncorrected and says so.
    ///
    /// During warm-up the reading is returned with `warming_up` set.
    ///
    /// # Errors
    ///
    /// [`Error::NotCalibrated`] without `R0`; otherwise as [`MqSensor::measure`].
    pub fn read(
        &mut self,
        now_ms: u64,
        climate: Option<Climate>,
    ) -> Result<MqReading, Error<A::Error>> {
        let r0 = self.r0.ok_or(Error::NotCalibrated)?;
        let (millivolts, rs_ohms, compensated) = self.measure(climate)?;
        let ratio = rs_ohms / r0.ohms();
        let ppm = super::ppm(ratio, self.config.gas.curve).map_err(Error::widen)?;
        let warming_up = self.warm_up_remaining_ms(now_ms).is_some();
        if warming_up {
            debug!("MQ reading during warm-up: {} ppm", ppm);
        }
        Ok(MqReading {
            ppm,
            ratio,
            rs_ohms,
            millivolts,
            warming_up,
            compensated,
        })
    }

    /// Calibrate: average `Rs` over `samples` back-to-back conversions in the
    /// reference atmosphere, store the resulting `R0` and return it.
    ///
    /// Back-to-back samples only average ADC noise; to average over minutes,
    /// feed [`MqSensor::measure`] results to an
    /// [`R0Accumulator`](super::R0Accumulator) yourself.
    ///
    /// # Errors
    ///
    /// [`Error::WarmingUp`] before the preheat time; otherwise as
    /// [`MqSensor::measure`]. The stored `R0` is unchanged on error.
    pub fn calibrate(
        &mut self,
        now_ms: u64,
        samples: NonZeroU16,
        climate: Option<Climate>,
    ) -> Result<R0, Error<A::Error>> {
        if let Some(remaining_ms) = self.warm_up_remaining_ms(now_ms) {
            return Err(Error::WarmingUp { remaining_ms });
        }
        let mut acc = R0Accumulator::new();
        for _ in 0..samples.get() {
            let (_, rs, _) = self.measure(climate)?;
            acc.push(rs);
        }
        let r0 = acc.finish(self.config.reference).map_err(Error::widen)?;
        debug!(
            "MQ calibrated: R0 = {} ohm over {} samples",
            r0.ohms(),
            samples.get()
        );
        self.r0 = Some(r0);
        Ok(r0)
    }

    /// The analog input, e.g. to reconfigure it.
    pub fn input_mut(&mut self) -> &mut A {
        &mut self.input
    }

    /// Give the analog input back.
    pub fn release(self) -> A {
        self.input
    }
}
