//! A sensor suite: the reference node's four MQ sensors and one DHT, sampled
//! together into the thing model's values.
//!
//! [`EnvironmentSensors`] is what a device runtime drives: `sample` on every
//! report interval, `calibrate` for the `calibrate` action, `r0`/`restore_r0`
//! to keep calibration in flash. [`Suite`] implements it for any four
//! [`AnalogInput`]s and any [`ClimateSensor`]; the simulator implements it too.
//!
//! # Failures
//!
//! One failing sensor does not hide the others. `sample` returns `Ok` when at
//! least one sensor produced a value, with each failure listed in
//! [`EnvSample::faults`]; it returns [`SuiteError`] (carrying every failure)
//! only when no sensor produced anything. Each [`SensorFault`] names the sensor
//! as the thing model's `sensor_fault.sensor` does (`"MQ2"`, ..., `"DHT11"`) and
//! gives `error_code` = [`ErrorKind::code`].
//!
//! A DHT read refused as too soon is not a fault: the last reading, if younger
//! than [`Suite::CLIMATE_MAX_AGE_MS`], is used instead.

use core::num::NonZeroU16;

use crate::adc::AnalogInput;
use crate::mq::{MqSensor, R0};
use crate::{Climate, ClimateSensor, Error as _, ErrorKind};

/// A sensor of the suite, named as in the thing model's `sensor_fault` event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SensorId {
    /// MQ-2 (`"MQ2"`).
    Mq2,
    /// MQ-4 (`"MQ4"`).
    Mq4,
    /// MQ-7 (`"MQ7"`).
    Mq7,
    /// MQ-135 (`"MQ135"`).
    Mq135,
    /// The DHT11 (`"DHT11"`; also used for a DHT22 in its place).
    Dht11,
}

impl SensorId {
    /// All sensors, in report order.
    pub const ALL: [Self; 5] = [Self::Mq2, Self::Mq4, Self::Mq7, Self::Mq135, Self::Dht11];

    /// The thing model's name (`sensor_fault.sensor` enum key).
    ///
    /// ```
    /// use sensors::suite::SensorId;
    ///
    /// assert_eq!(SensorId::Mq135.as_str(), "MQ135");
    /// assert_eq!(SensorId::parse("DHT11"), Some(SensorId::Dht11));
    /// assert_eq!(SensorId::parse("dht11"), None);
    /// ```
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Mq2 => "MQ2",
            Self::Mq4 => "MQ4",
            Self::Mq7 => "MQ7",
            Self::Mq135 => "MQ135",
            Self::Dht11 => "DHT11",
        }
    }

    /// The sensor for a thing-model name (exact, case-sensitive).
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

impl core::fmt::Display for SensorId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A gas sensor of the suite: the thing model's `calibrate.sensor` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum GasSensorId {
    /// MQ-2 (`"MQ2"`).
    Mq2,
    /// MQ-4 (`"MQ4"`).
    Mq4,
    /// MQ-7 (`"MQ7"`).
    Mq7,
    /// MQ-135 (`"MQ135"`).
    Mq135,
}

impl GasSensorId {
    /// All gas sensors.
    pub const ALL: [Self; 4] = [Self::Mq2, Self::Mq4, Self::Mq7, Self::Mq135];

    /// The thing model's name.
    ///
    /// ```
    /// use sensors::suite::GasSensorId;
    ///
    /// assert_eq!(GasSensorId::parse("MQ7"), Some(GasSensorId::Mq7));
    /// assert_eq!(GasSensorId::parse("DHT11"), None);
    /// ```
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        SensorId::from_gas(self).as_str()
    }

    /// The gas sensor for a thing-model name (exact, case-sensitive).
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

impl SensorId {
    const fn from_gas(gas: GasSensorId) -> Self {
        match gas {
            GasSensorId::Mq2 => Self::Mq2,
            GasSensorId::Mq4 => Self::Mq4,
            GasSensorId::Mq7 => Self::Mq7,
            GasSensorId::Mq135 => Self::Mq135,
        }
    }
}

impl From<GasSensorId> for SensorId {
    fn from(gas: GasSensorId) -> Self {
        Self::from_gas(gas)
    }
}

impl core::fmt::Display for GasSensorId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which sensor failed and how: the thing model's `sensor_fault` event.
///
/// ```
/// use sensors::{suite::{SensorFault, SensorId}, ErrorKind};
///
/// let f = SensorFault { sensor: SensorId::Dht11, kind: ErrorKind::Checksum };
/// assert_eq!((f.sensor.as_str(), f.error_code()), ("DHT11", 3));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[error("sensor {sensor} failed: {kind}")]
pub struct SensorFault {
    /// The sensor.
    pub sensor: SensorId,
    /// What went wrong.
    pub kind: ErrorKind,
}

impl SensorFault {
    /// The `error_code` for the `sensor_fault` event ([`ErrorKind::code`]).
    #[must_use]
    pub const fn error_code(&self) -> u8 {
        self.kind.code()
    }
}

impl crate::Error for SensorFault {
    fn kind(&self) -> ErrorKind {
        self.kind
    }
}

/// The failures of one sample, at most one per sensor.
///
/// ```
/// use sensors::{suite::{Faults, SensorFault, SensorId}, ErrorKind};
///
/// let mut faults = Faults::new();
/// faults.push(SensorFault { sensor: SensorId::Mq7, kind: ErrorKind::OutOfRange });
/// assert_eq!(faults.len(), 1);
/// assert_eq!(faults.get(SensorId::Mq7).map(|f| f.error_code()), Some(5));
/// assert!(faults.get(SensorId::Mq2).is_none());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Faults {
    slots: [Option<SensorFault>; 5],
}

impl Faults {
    /// No faults.
    #[must_use]
    pub const fn new() -> Self {
        Self { slots: [None; 5] }
    }

    /// Record a fault, replacing an earlier one for the same sensor.
    pub fn push(&mut self, fault: SensorFault) {
        let index = match fault.sensor {
            SensorId::Mq2 => 0,
            SensorId::Mq4 => 1,
            SensorId::Mq7 => 2,
            SensorId::Mq135 => 3,
            SensorId::Dht11 => 4,
        };
        if let Some(slot) = self.slots.get_mut(index) {
            *slot = Some(fault);
        }
    }

    /// The fault of `sensor`, if it failed.
    #[must_use]
    pub fn get(&self, sensor: SensorId) -> Option<SensorFault> {
        self.iter().find(|f| f.sensor == sensor)
    }

    /// The faults, in report order.
    pub fn iter(&self) -> impl Iterator<Item = SensorFault> + '_ {
        self.slots.iter().flatten().copied()
    }

    /// How many sensors failed.
    #[must_use]
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// True when no sensor failed.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// `sample` produced nothing: every sensor failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[error("no sensor produced a value ({} failed); report each fault and check the sensors' supply", faults.len())]
pub struct SuiteError {
    /// Every sensor's failure.
    pub faults: Faults,
}

impl crate::Error for SuiteError {
    /// The kind of the first failure ([`ErrorKind::Other`] if none is listed).
    fn kind(&self) -> ErrorKind {
        self.faults
            .iter()
            .next()
            .map_or(ErrorKind::Other, |f| f.kind)
    }
}

/// One gas reading in a sample.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct GasValue {
    /// Concentration in ppm.
    pub ppm: f32,
    /// The heater has not finished warming up: the value is not meaningful yet.
    pub warming_up: bool,
    /// Temperature/humidity correction was applied (MQ-135).
    pub compensated: bool,
}

impl GasValue {
    /// The concentration rounded to whole ppm (the thing model's int), 0 for
    /// anything negative or NaN, saturating at `u32::MAX`.
    ///
    /// ```
    /// use sensors::suite::GasValue;
    ///
    /// let v = GasValue { ppm: 412.6, warming_up: false, compensated: true };
    /// assert_eq!(v.ppm_rounded(), 413);
    /// ```
    #[must_use]
    pub fn ppm_rounded(&self) -> u32 {
        libm::roundf(self.ppm) as u32
    }
}

/// One sample of the whole suite.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct EnvSample {
    /// The `now_ms` the sample was taken at.
    pub taken_at_ms: u64,
    /// MQ-2 (property `MQ2`), if it read.
    pub mq2: Option<GasValue>,
    /// MQ-135 (property `MQ135`), if it read.
    pub mq135: Option<GasValue>,
    /// MQ-4 (property `MQ4`), if it read.
    pub mq4: Option<GasValue>,
    /// MQ-7 (property `MQ7`), if it read.
    pub mq7: Option<GasValue>,
    /// Temperature and humidity (properties `DHT11_T`, `DHT11_H`), if known.
    pub climate: Option<Climate>,
    /// The sensors that failed this time.
    pub faults: Faults,
}

impl EnvSample {
    /// The reading of one gas sensor.
    #[must_use]
    pub fn gas(&self, sensor: GasSensorId) -> Option<GasValue> {
        match sensor {
            GasSensorId::Mq2 => self.mq2,
            GasSensorId::Mq4 => self.mq4,
            GasSensorId::Mq7 => self.mq7,
            GasSensorId::Mq135 => self.mq135,
        }
    }

    /// `MQ2` as the thing model's int ppm.
    #[must_use]
    pub fn mq2_ppm(&self) -> Option<u32> {
        self.mq2.map(|v| v.ppm_rounded())
    }

    /// `MQ135` as the thing model's int ppm.
    #[must_use]
    pub fn mq135_ppm(&self) -> Option<u32> {
        self.mq135.map(|v| v.ppm_rounded())
    }

    /// `MQ4` as the thing model's int ppm.
    #[must_use]
    pub fn mq4_ppm(&self) -> Option<u32> {
        self.mq4.map(|v| v.ppm_rounded())
    }

    /// `MQ7` as the thing model's int ppm.
    #[must_use]
    pub fn mq7_ppm(&self) -> Option<u32> {
        self.mq7.map(|v| v.ppm_rounded())
    }

    /// `DHT11_T` as the thing model's int °C.
    #[must_use]
    pub fn temperature_c(&self) -> Option<i32> {
        self.climate.map(|c| c.temperature_c_rounded())
    }

    /// `DHT11_H` as the thing model's int %.
    #[must_use]
    pub fn humidity_pct(&self) -> Option<u8> {
        self.climate.map(|c| c.humidity_pct_rounded())
    }

    /// True if any gas reading was taken during warm-up.
    #[must_use]
    pub fn warming_up(&self) -> bool {
        [self.mq2, self.mq135, self.mq4, self.mq7]
            .iter()
            .flatten()
            .any(|v| v.warming_up)
    }
}

/// What a device runtime needs from its sensors.
///
/// Time is passed in as `now_ms`, a monotonic millisecond clock the runtime
/// owns (warm-up, DHT minimum interval); implementations never read a clock.
#[allow(async_fn_in_trait)] // as embedded-hal-async: no `Send` bound, executors are local
pub trait EnvironmentSensors {
    /// Read every sensor once.
    ///
    /// # Errors
    ///
    /// [`SuiteError`] only when no sensor produced a value; partial failures are
    /// in [`EnvSample::faults`].
    async fn sample(&mut self, now_ms: u64) -> Result<EnvSample, SuiteError>;

    /// Calibrate one gas sensor in its reference atmosphere (clean air; ambient
    /// CO₂ for the MQ-135), keep the new `R0` and return it in kΩ (the
    /// `calibrate` action's `r0` output).
    ///
    /// # Errors
    ///
    /// The failing sensor and why, e.g. [`ErrorKind::NotReady`] during warm-up.
    async fn calibrate(&mut self, sensor: GasSensorId, now_ms: u64) -> Result<f32, SensorFault>;

    /// The current `R0` of a gas sensor, to save after calibration.
    fn r0(&self, sensor: GasSensorId) -> Option<R0>;

    /// Restore a saved `R0`.
    fn restore_r0(&mut self, sensor: GasSensorId, r0: R0);
}

/// Four MQ sensors and a climate sensor, wired as on the reference node.
///
/// ```
/// # fn block_on<F: core::future::Future>(f: F) -> F::Output {
/// #     let mut f = core::pin::pin!(f);
/// #     let mut cx = core::task::Context::from_waker(core::task::Waker::noop());
/// #     loop { if let core::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
/// # }
/// use sensors::{adc::AnalogInput, mq::{self, Config, MqSensor, R0}, Climate, ClimateSensor, ErrorKind};
/// use sensors::suite::{EnvironmentSensors, GasSensorId, SensorId, Suite};
///
/// struct Fixed(f32);
/// impl AnalogInput for Fixed {
///     type Error = ErrorKind;
///     fn read_millivolts(&mut self) -> Result<f32, ErrorKind> { Ok(self.0) }
/// }
/// struct Room;
/// impl ClimateSensor for Room {
///     type Error = ErrorKind;
///     async fn read_climate(&mut self, _: u64) -> Result<Climate, ErrorKind> {
///         Ok(Climate { temperature_c: 20.0, humidity_pct: 33.0 })
///     }
/// }
///
/// let mut suite = Suite::new(
///     MqSensor::new(Fixed(1000.0), Config::new(mq::MQ2), 0),
///     MqSensor::new(Fixed(1000.0), Config::new(mq::MQ4), 0),
///     MqSensor::new(Fixed(0.0), Config::new(mq::MQ7), 0), // not connected
///     MqSensor::new(Fixed(1000.0), Config::new(mq::MQ135), 0),
///     Room,
/// );
/// for sensor in GasSensorId::ALL {
///     suite.restore_r0(sensor, R0::from_kilohms(10.0).unwrap());
/// }
/// let sample = block_on(suite.sample(300_000)).unwrap();
/// assert!(sample.mq2_ppm().is_some());
/// assert_eq!(sample.temperature_c(), Some(20));
/// assert!(sample.mq7.is_none());
/// assert_eq!(sample.faults.get(SensorId::Mq7).map(|f| f.error_code()), Some(5));
/// ```
#[derive(Debug)]
pub struct Suite<A2, A4, A7, A135, C> {
    /// The MQ-2.
    pub mq2: MqSensor<A2>,
    /// The MQ-4.
    pub mq4: MqSensor<A4>,
    /// The MQ-7.
    pub mq7: MqSensor<A7>,
    /// The MQ-135.
    pub mq135: MqSensor<A135>,
    /// The DHT (or any climate sensor).
    pub climate: C,
    last_climate: Option<(Climate, u64)>,
    calibration_samples: NonZeroU16,
}

impl<A2, A4, A7, A135, C> Suite<A2, A4, A7, A135, C>
where
    A2: AnalogInput,
    A4: AnalogInput,
    A7: AnalogInput,
    A135: AnalogInput,
    C: ClimateSensor,
{
    /// A climate reading older than this is not used for the MQ-135 correction
    /// nor in place of a too-soon DHT read (60 s).
    pub const CLIMATE_MAX_AGE_MS: u64 = 60_000;
    /// Back-to-back conversions averaged by `calibrate` (default 50).
    pub const DEFAULT_CALIBRATION_SAMPLES: NonZeroU16 = match NonZeroU16::new(50) {
        Some(n) => n,
        None => NonZeroU16::MIN,
    };

    /// Wire the suite.
    pub fn new(
        mq2: MqSensor<A2>,
        mq4: MqSensor<A4>,
        mq7: MqSensor<A7>,
        mq135: MqSensor<A135>,
        climate: C,
    ) -> Self {
        Self {
            mq2,
            mq4,
            mq7,
            mq135,
            climate,
            last_climate: None,
            calibration_samples: Self::DEFAULT_CALIBRATION_SAMPLES,
        }
    }

    /// Change how many conversions `calibrate` averages.
    #[must_use]
    pub fn with_calibration_samples(mut self, samples: NonZeroU16) -> Self {
        self.calibration_samples = samples;
        self
    }

    /// The last good climate reading, if younger than
    /// [`Self::CLIMATE_MAX_AGE_MS`] at `now_ms`.
    pub fn recent_climate(&self, now_ms: u64) -> Option<Climate> {
        self.last_climate
            .filter(|(_, at)| now_ms.saturating_sub(*at) <= Self::CLIMATE_MAX_AGE_MS)
            .map(|(c, _)| c)
    }

    async fn read_climate(&mut self, now_ms: u64, faults: &mut Faults) -> Option<Climate> {
        match self.climate.read_climate(now_ms).await {
            Ok(c) => {
                self.last_climate = Some((c, now_ms));
                Some(c)
            }
            Err(e) if e.kind() == ErrorKind::NotReady => self.recent_climate(now_ms),
            Err(e) => {
                faults.push(SensorFault {
                    sensor: SensorId::Dht11,
                    kind: e.kind(),
                });
                None
            }
        }
    }
}

fn read_gas<A: AnalogInput>(
    sensor: &mut MqSensor<A>,
    id: SensorId,
    now_ms: u64,
    climate: Option<Climate>,
    faults: &mut Faults,
) -> Option<GasValue> {
    match sensor.read(now_ms, climate) {
        Ok(r) => Some(GasValue {
            ppm: r.ppm,
            warming_up: r.warming_up,
            compensated: r.compensated,
        }),
        Err(e) => {
            faults.push(SensorFault {
                sensor: id,
                kind: e.kind(),
            });
            None
        }
    }
}

fn calibrate_gas<A: AnalogInput>(
    sensor: &mut MqSensor<A>,
    id: GasSensorId,
    now_ms: u64,
    samples: NonZeroU16,
    climate: Option<Climate>,
) -> Result<f32, SensorFault> {
    sensor
        .calibrate(now_ms, samples, climate)
        .map(R0::kilohms)
        .map_err(|e| SensorFault {
            sensor: id.into(),
            kind: e.kind(),
        })
}

impl<A2, A4, A7, A135, C> EnvironmentSensors for Suite<A2, A4, A7, A135, C>
where
    A2: AnalogInput,
    A4: AnalogInput,
    A7: AnalogInput,
    A135: AnalogInput,
    C: ClimateSensor,
{
    /// Reads the climate sensor first, so the MQ-135 reading is corrected with
    /// this sample's temperature and humidity (or the last ones, if younger than
    /// [`Suite::CLIMATE_MAX_AGE_MS`]).
    async fn sample(&mut self, now_ms: u64) -> Result<EnvSample, SuiteError> {
        let mut faults = Faults::new();
        let climate = self.read_climate(now_ms, &mut faults).await;
        let correction = climate.or_else(|| self.recent_climate(now_ms));
        let sample = EnvSample {
            taken_at_ms: now_ms,
            mq2: read_gas(&mut self.mq2, SensorId::Mq2, now_ms, None, &mut faults),
            mq135: read_gas(
                &mut self.mq135,
                SensorId::Mq135,
                now_ms,
                correction,
                &mut faults,
            ),
            mq4: read_gas(&mut self.mq4, SensorId::Mq4, now_ms, None, &mut faults),
            mq7: read_gas(&mut self.mq7, SensorId::Mq7, now_ms, None, &mut faults),
            climate,
            faults,
        };
        for fault in faults.iter() {
            debug!(
                "{} fault, code {}",
                fault.sensor.as_str(),
                fault.error_code()
            );
        }
        let nothing = sample.climate.is_none()
            && GasSensorId::ALL
                .into_iter()
                .all(|s| sample.gas(s).is_none());
        if nothing {
            Err(SuiteError { faults })
        } else {
            Ok(sample)
        }
    }

    /// For the MQ-135 the correction uses the last climate reading, read now if
    /// none is recent; a climate failure here only leaves `R0` uncorrected.
    async fn calibrate(&mut self, sensor: GasSensorId, now_ms: u64) -> Result<f32, SensorFault> {
        let samples = self.calibration_samples;
        match sensor {
            GasSensorId::Mq2 => calibrate_gas(&mut self.mq2, sensor, now_ms, samples, None),
            GasSensorId::Mq4 => calibrate_gas(&mut self.mq4, sensor, now_ms, samples, None),
            GasSensorId::Mq7 => calibrate_gas(&mut self.mq7, sensor, now_ms, samples, None),
            GasSensorId::Mq135 => {
                let climate = match self.recent_climate(now_ms) {
                    Some(c) => Some(c),
                    None => self.read_climate(now_ms, &mut Faults::new()).await,
                };
                calibrate_gas(&mut self.mq135, sensor, now_ms, samples, climate)
            }
        }
    }

    fn r0(&self, sensor: GasSensorId) -> Option<R0> {
        match sensor {
            GasSensorId::Mq2 => self.mq2.r0(),
            GasSensorId::Mq4 => self.mq4.r0(),
            GasSensorId::Mq7 => self.mq7.r0(),
            GasSensorId::Mq135 => self.mq135.r0(),
        }
    }

    fn restore_r0(&mut self, sensor: GasSensorId, r0: R0) {
        match sensor {
            GasSensorId::Mq2 => self.mq2.set_r0(r0),
            GasSensorId::Mq4 => self.mq4.set_r0(r0),
            GasSensorId::Mq7 => self.mq7.set_r0(r0),
            GasSensorId::Mq135 => self.mq135.set_r0(r0),
        }
    }
}
