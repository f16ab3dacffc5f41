//! Deterministic simulated sensors for host nodes, the hub's fleet simulator and
//! tests (feature `sim`).
//!
//! A [`Simulator`] models one room: a daily temperature/humidity cycle, gas
//! baselines with slow drift and noise, occupancy CO₂, sensor ageing and heater
//! warm-up, plus events injected at runtime (smoke, a CO or methane leak, a
//! sensor fault). It is a cheap, cloneable handle (`Arc<Mutex<..>>`): give one
//! clone to the node and keep another to inject events from a test or a CLI.
//!
//! The simulated parts implement the crate's own traits, so the real conversion
//! code runs on them: [`SimAnalogInput`] is an [`AnalogInput`] producing the
//! voltage an MQ module would (through the configured load resistor and an
//! ADS1115-like quantisation), read by the ordinary [`MqSensor`]; [`SimDht`] is
//! a [`ClimateSensor`] that encodes a DHT frame and decodes it with
//! [`dht11::decode`], minimum interval included. [`SimSuite`] is the generic
//! [`Suite`] over them and implements [`EnvironmentSensors`].
//!
//! Everything random comes from one PCG32 stream seeded by
//! [`SimConfig::seed`]: the same seed and the same sequence of calls give the
//! same values. Noise-free values are available from [`Simulator::truth`].
//!
//! ```
//! # fn block_on<F: core::future::Future>(f: F) -> F::Output {
//! #     let mut f = core::pin::pin!(f);
//! #     let mut cx = core::task::Context::from_waker(core::task::Waker::noop());
//! #     loop { if let core::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
//! # }
//! use sensors::sim::{Event, SimConfig, Simulator};
//! use sensors::suite::{EnvironmentSensors, GasSensorId};
//!
//! let sim = Simulator::new(SimConfig { seed: 7, ..SimConfig::default() });
//! let mut suite = sim.suite();
//! let warm = 10 * 60_000; // after the heaters' preheat time
//! for sensor in GasSensorId::ALL {
//!     suite.calibrate_now(sensor, warm).unwrap();
//! }
//! let before = suite.sample_now(warm + 5_000).unwrap();
//! sim.inject(warm + 6_000, Event::SmokeSpike { peak_ppm: 3000.0, rise_ms: 10_000, decay_ms: 120_000 });
//! // The async trait method works the same under any executor.
//! let during = block_on(suite.sample(warm + 20_000)).unwrap();
//! assert!(during.mq2_ppm().unwrap() > 10 * before.mq2_ppm().unwrap().max(1));
//! ```

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::vec::Vec;

use core::convert::Infallible;
use core::f64::consts::TAU;
use core::future::Future;
use core::pin::{pin, Pin};
use core::task::{Context, Poll, Waker};

use rand_pcg::rand_core::{Rng, SeedableRng};
use rand_pcg::Pcg32;

use crate::adc::AnalogInput;
use crate::dht11::{self, Pacing, Reading};
use crate::mq::{self, mq135, Circuit, Config, MqSensor, R0};
use crate::suite::{
    EnvSample, EnvironmentSensors, GasSensorId, SensorFault, SensorId, Suite, SuiteError,
};
use crate::{Climate, ClimateSensor, ErrorKind};

const DAY_MS: f64 = 86_400_000.0;
const HOUR_MS: f64 = 3_600_000.0;

/// The room and sensor parameters of a simulation.
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    /// Seed of the random stream.
    pub seed: u64,
    /// Local time of day at `now_ms = 0`, in ms since midnight.
    pub start_time_of_day_ms: u64,
    /// Daily mean temperature, °C (the cycle peaks at 15:00).
    pub temperature_mean_c: f32,
    /// Half the daily temperature swing, °C.
    pub temperature_swing_c: f32,
    /// Daily mean relative humidity, % (lowest when warmest).
    pub humidity_mean_pct: f32,
    /// Half the daily humidity swing, %.
    pub humidity_swing_pct: f32,
    /// Outdoor CO₂, ppm.
    pub co2_baseline_ppm: f32,
    /// Extra CO₂ from people between 08:00 and 20:00 (peak at 14:00), ppm.
    pub co2_occupancy_ppm: f32,
    /// The MQ modules' circuit (supply, load resistor).
    pub circuit: Circuit,
    /// The true `R0` of MQ-2, MQ-4, MQ-7, MQ-135, ohms.
    pub r0_ohms: [f32; 4],
    /// `R0` drift from ageing, fraction per day (positive: the sensor grows less
    /// sensitive, reads low until recalibrated).
    pub ageing_per_day: f32,
    /// Relative noise on gas concentrations (standard deviation).
    pub gas_noise: f32,
    /// Noise at the ADC input, mV (standard deviation).
    pub adc_noise_mv: f32,
    /// ADC step, mV (0.1875: an ADS1115 at ±6.144 V).
    pub adc_step_mv: f32,
    /// When the heaters were powered, `now_ms`.
    pub powered_at_ms: u64,
    /// Heater preheat time, ms; `Rs` settles over it, and the drivers flag
    /// readings until it has passed.
    pub preheat_ms: u64,
    /// The simulated DHT's model.
    pub dht_model: dht11::Model,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            seed: 0x5EED,
            start_time_of_day_ms: 8 * 3_600_000,
            temperature_mean_c: 24.0,
            temperature_swing_c: 4.0,
            humidity_mean_pct: 50.0,
            humidity_swing_pct: 12.0,
            co2_baseline_ppm: 420.0,
            co2_occupancy_ppm: 250.0,
            circuit: Circuit::DEFAULT,
            r0_ohms: [9_800.0, 20_000.0, 4_500.0, 41_000.0],
            ageing_per_day: 0.002,
            gas_noise: 0.02,
            adc_noise_mv: 0.5,
            adc_step_mv: 0.1875,
            powered_at_ms: 0,
            preheat_ms: 180_000,
            dht_model: dht11::Model::Dht11,
        }
    }
}

/// How a simulated sensor fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    /// Unplugged: an MQ output reads 0 V, a DHT never answers.
    Disconnected,
    /// Shorted: an MQ output reads the supply, a DHT line stays low.
    Shorted,
    /// The converter or line times out.
    NoResponse,
    /// Data arrives corrupted: a DHT frame with a flipped bit (checksum error),
    /// an MQ converter reporting a bus error.
    Corrupted,
}

/// Something that happens in the room.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Event {
    /// Smoke: rises linearly to `peak_ppm` (as read by the MQ-2) over `rise_ms`,
    /// then decays with time constant `decay_ms`. The MQ-135 sees half of it,
    /// the MQ-7 a tenth (smoke carries CO).
    SmokeSpike {
        /// Peak, ppm.
        peak_ppm: f32,
        /// Rise time, ms.
        rise_ms: u64,
        /// Decay time constant, ms.
        decay_ms: u64,
    },
    /// Carbon monoxide: ramps to `ppm` (MQ-7) over `ramp_ms`, holds, and ramps
    /// down over `ramp_ms` after `duration_ms`. The MQ-2 sees a twentieth.
    CoLeak {
        /// Plateau, ppm.
        ppm: f32,
        /// Ramp time, ms.
        ramp_ms: u64,
        /// Time from start to the start of the ramp down, ms.
        duration_ms: u64,
    },
    /// Methane: as [`Event::CoLeak`] for the MQ-4; the MQ-2 sees a third.
    MethaneLeak {
        /// Plateau, ppm.
        ppm: f32,
        /// Ramp time, ms.
        ramp_ms: u64,
        /// Time from start to the start of the ramp down, ms.
        duration_ms: u64,
    },
    /// A sensor fails for `duration_ms`, or until [`Simulator::clear_events`].
    SensorFault {
        /// Which sensor.
        sensor: SensorId,
        /// How.
        fault: Fault,
        /// How long, ms (`None`: until cleared).
        duration_ms: Option<u64>,
    },
}

/// Noise-free state of the room and what each MQ sensor's default curve would
/// read, at one instant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Truth {
    /// Temperature, °C.
    pub temperature_c: f32,
    /// Relative humidity, %.
    pub humidity_pct: f32,
    /// LPG-equivalent seen by the MQ-2, ppm.
    pub mq2_ppm: f32,
    /// Methane seen by the MQ-4, ppm.
    pub mq4_ppm: f32,
    /// CO seen by the MQ-7, ppm.
    pub mq7_ppm: f32,
    /// CO₂ seen by the MQ-135, ppm.
    pub mq135_ppm: f32,
}

impl Truth {
    /// The concentration one gas sensor sees.
    #[must_use]
    pub fn ppm(&self, sensor: GasSensorId) -> f32 {
        match sensor {
            GasSensorId::Mq2 => self.mq2_ppm,
            GasSensorId::Mq4 => self.mq4_ppm,
            GasSensorId::Mq7 => self.mq7_ppm,
            GasSensorId::Mq135 => self.mq135_ppm,
        }
    }
}

#[derive(Debug)]
struct World {
    config: SimConfig,
    rng: Pcg32,
    /// Phases of the slow drift terms, per gas sensor.
    drift_phase: [[f64; 2]; 4],
    /// Fixed calibration error of the simulated DHT: (°C, %RH).
    dht_bias: (f32, f32),
    clock_ms: u64,
    events: Vec<(u64, Event)>,
}

fn gas_index(sensor: GasSensorId) -> usize {
    match sensor {
        GasSensorId::Mq2 => 0,
        GasSensorId::Mq4 => 1,
        GasSensorId::Mq7 => 2,
        GasSensorId::Mq135 => 3,
    }
}

fn model(sensor: GasSensorId) -> mq::Model {
    match sensor {
        GasSensorId::Mq2 => mq::MQ2,
        GasSensorId::Mq4 => mq::MQ4,
        GasSensorId::Mq7 => mq::MQ7,
        GasSensorId::Mq135 => mq::MQ135,
    }
}

/// Trapezoid 0 → 1 → 0: up over `ramp`, hold until `duration`, down over `ramp`.
fn trapezoid(dt: f64, ramp: f64, duration: f64) -> f64 {
    let ramp = ramp.max(1.0);
    if dt < ramp {
        dt / ramp
    } else if dt < duration {
        1.0
    } else {
        (1.0 - (dt - duration) / ramp).max(0.0)
    }
}

impl World {
    fn new(config: SimConfig) -> Self {
        let mut rng = Pcg32::seed_from_u64(config.seed);
        let mut drift_phase = [[0.0; 2]; 4];
        for phases in &mut drift_phase {
            for phase in phases.iter_mut() {
                *phase = unit(&mut rng) * TAU;
            }
        }
        // DHT11 datasheet accuracy: ±2 °C, ±5 %RH; draw a fixed offset within half of that.
        let dht_bias = (
            (unit(&mut rng) as f32 - 0.5) * 2.0,
            (unit(&mut rng) as f32 - 0.5) * 5.0,
        );
        Self {
            config,
            rng,
            drift_phase,
            dht_bias,
            clock_ms: 0,
            events: Vec::new(),
        }
    }

    fn gaussian(&mut self) -> f64 {
        // Box–Muller; 1 − u keeps the logarithm finite.
        let u1 = 1.0 - unit(&mut self.rng);
        let u2 = unit(&mut self.rng);
        (-2.0 * u1.ln()).sqrt() * (TAU * u2).cos()
    }

    fn fault(&self, sensor: SensorId, now_ms: u64) -> Option<Fault> {
        self.events
            .iter()
            .rev()
            .find_map(|(at, event)| match *event {
                Event::SensorFault {
                    sensor: s,
                    fault,
                    duration_ms,
                } if s == sensor
                    && now_ms >= *at
                    && duration_ms.is_none_or(|d| now_ms < at.saturating_add(d)) =>
                {
                    Some(fault)
                }
                _ => None,
            })
    }

    fn truth(&self, now_ms: u64) -> Truth {
        let c = &self.config;
        let t = now_ms as f64;
        let hour = ((c.start_time_of_day_ms as f64 + t) % DAY_MS) / HOUR_MS;
        let daily = (TAU * (hour - 15.0) / 24.0).cos() as f32;
        let temperature_c = c.temperature_mean_c + c.temperature_swing_c * daily;
        let humidity_pct = (c.humidity_mean_pct - c.humidity_swing_pct * daily).clamp(5.0, 95.0);

        // Slow baseline drift: two incommensurate periods (7 h, 31 h) per sensor.
        let drift = |i: usize| -> f64 {
            let [p1, p2] = self.drift_phase.get(i).copied().unwrap_or([0.0; 2]);
            0.06 * (TAU * t / (7.0 * HOUR_MS) + p1).sin()
                + 0.04 * (TAU * t / (31.0 * HOUR_MS) + p2).sin()
        };
        // Clean air reads what the default curve gives at the datasheet ratio.
        let clean = |sensor: GasSensorId| -> f64 {
            let m = model(sensor);
            f64::from(mq::ppm(m.clean_air_ratio, m.default_gas.curve).unwrap_or(1.0))
        };
        let occupied = if (8.0..20.0).contains(&hour) {
            (core::f64::consts::PI * (hour - 8.0) / 12.0).sin()
        } else {
            0.0
        };
        let mut mq2 = clean(GasSensorId::Mq2) * (1.0 + drift(0));
        let mut mq4 = clean(GasSensorId::Mq4) * (1.0 + drift(1));
        let mut mq7 = clean(GasSensorId::Mq7) * (1.0 + drift(2));
        let mut mq135 = (f64::from(c.co2_baseline_ppm) + f64::from(c.co2_occupancy_ppm) * occupied)
            * (1.0 + 0.5 * drift(3));

        for (at, event) in &self.events {
            if now_ms < *at {
                continue;
            }
            let dt = (now_ms - at) as f64;
            match *event {
                Event::SmokeSpike {
                    peak_ppm,
                    rise_ms,
                    decay_ms,
                } => {
                    let rise = (rise_ms as f64).max(1.0);
                    let level = if dt < rise {
                        dt / rise
                    } else {
                        (-(dt - rise) / (decay_ms as f64).max(1.0)).exp()
                    };
                    let ppm = f64::from(peak_ppm) * level;
                    mq2 += ppm;
                    mq135 += 0.5 * ppm;
                    mq7 += 0.1 * ppm;
                }
                Event::CoLeak {
                    ppm,
                    ramp_ms,
                    duration_ms,
                } => {
                    let ppm = f64::from(ppm) * trapezoid(dt, ramp_ms as f64, duration_ms as f64);
                    mq7 += ppm;
                    mq2 += ppm / 20.0;
                }
                Event::MethaneLeak {
                    ppm,
                    ramp_ms,
                    duration_ms,
                } => {
                    let ppm = f64::from(ppm) * trapezoid(dt, ramp_ms as f64, duration_ms as f64);
                    mq4 += ppm;
                    mq2 += ppm / 3.0;
                }
                Event::SensorFault { .. } => {}
            }
        }
        Truth {
            temperature_c,
            humidity_pct,
            mq2_ppm: mq2 as f32,
            mq4_ppm: mq4 as f32,
            mq7_ppm: mq7 as f32,
            mq135_ppm: mq135 as f32,
        }
    }

    fn millivolts(&mut self, sensor: GasSensorId) -> Result<f32, ErrorKind> {
        let now = self.clock_ms;
        match self.fault(sensor.into(), now) {
            Some(Fault::Disconnected) => return Ok(0.0),
            Some(Fault::Shorted) => return Ok(self.config.circuit.supply_millivolts),
            Some(Fault::NoResponse) => return Err(ErrorKind::Timeout),
            Some(Fault::Corrupted) => return Err(ErrorKind::Bus),
            None => {}
        }
        let truth = self.truth(now);
        let noise = 1.0 + f64::from(self.config.gas_noise) * self.gaussian();
        let ppm = (f64::from(truth.ppm(sensor)) * noise).max(1e-3) as f32;
        let m = model(sensor);
        let ratio = mq::ratio_at(ppm, m.default_gas.curve).map_err(|_| ErrorKind::Other)?;
        let days = now.saturating_sub(self.config.powered_at_ms) as f32 / DAY_MS as f32;
        let r0 = self
            .config
            .r0_ohms
            .get(gas_index(sensor))
            .copied()
            .unwrap_or(10_000.0)
            * (1.0 + self.config.ageing_per_day * days);
        let mut rs = ratio * r0;
        if sensor == GasSensorId::Mq135 {
            // The element's temperature/humidity dependence, as `GeorgK`'s fit describes it.
            rs *= mq135::correction_factor(truth.temperature_c, truth.humidity_pct);
        }
        // A cold element has a low resistance that rises as it heats.
        let since_power = now.saturating_sub(self.config.powered_at_ms) as f64;
        let tau = (self.config.preheat_ms as f64 / 3.0).max(1.0);
        rs *= (1.0 - 0.6 * (-since_power / tau).exp()) as f32;

        let circuit = self.config.circuit;
        let clean = f64::from(circuit.output_millivolts(rs));
        let noisy = clean + f64::from(self.config.adc_noise_mv) * self.gaussian();
        let step = f64::from(self.config.adc_step_mv).max(1e-6);
        let quantised = (noisy / step).round() * step;
        Ok(quantised.clamp(0.0, f64::from(circuit.supply_millivolts)) as f32)
    }

    fn dht_frame(&mut self, now_ms: u64) -> Result<[u8; 5], dht11::Error<Infallible>> {
        match self.fault(SensorId::Dht11, now_ms) {
            Some(Fault::Disconnected | Fault::NoResponse) => return Err(dht11::Error::NoResponse),
            Some(Fault::Shorted) => {
                return Err(dht11::Error::Timeout {
                    stage: dht11::Stage::ResponseLow,
                })
            }
            Some(Fault::Corrupted) | None => {}
        }
        let truth = self.truth(now_ms);
        let t = f64::from(truth.temperature_c + self.dht_bias.0) + 0.1 * self.gaussian();
        let h = f64::from(truth.humidity_pct + self.dht_bias.1) + 0.5 * self.gaussian();
        let reading = match self.config.dht_model {
            // The DHT11 reports whole % RH and tenths of °C.
            dht11::Model::Dht11 => Reading {
                humidity_permille: (h.clamp(0.0, 100.0).round() * 10.0) as u16,
                temperature_decicelsius: (t * 10.0).round().clamp(-400.0, 800.0) as i16,
            },
            dht11::Model::Dht22 => Reading {
                humidity_permille: (h.clamp(0.0, 100.0) * 10.0).round() as u16,
                temperature_decicelsius: (t * 10.0).round().clamp(-400.0, 800.0) as i16,
            },
        };
        let mut frame = match self.config.dht_model {
            dht11::Model::Dht11 => dht11::encode(reading)?,
            dht11::Model::Dht22 => {
                let h = reading.humidity_permille.to_be_bytes();
                let magnitude = reading.temperature_decicelsius.unsigned_abs().to_be_bytes();
                let sign = if reading.temperature_decicelsius < 0 {
                    0x80
                } else {
                    0
                };
                let data = [h[0], h[1], magnitude[0] | sign, magnitude[1]];
                [data[0], data[1], data[2], data[3], dht11::checksum(data)]
            }
        };
        if self.fault(SensorId::Dht11, now_ms) == Some(Fault::Corrupted) {
            // One bit flipped on the wire.
            let bit = self.rng.next_u32() % 32;
            if let Some(byte) = frame.get_mut((bit / 8) as usize) {
                *byte ^= 1 << (bit % 8);
            }
        }
        Ok(frame)
    }
}

/// A uniform sample in [0, 1) with 53 random bits.
fn unit(rng: &mut Pcg32) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// The simulation handle: clone it freely, all clones share one room.
#[derive(Debug, Clone)]
pub struct Simulator {
    world: Arc<Mutex<World>>,
}

impl Simulator {
    /// A room with `config`, clock at 0.
    #[must_use]
    pub fn new(config: SimConfig) -> Self {
        Self {
            world: Arc::new(Mutex::new(World::new(config))),
        }
    }

    fn lock(&self) -> MutexGuard<'_, World> {
        // A panic while holding the lock leaves plain numbers behind; keep going.
        self.world.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> SimConfig {
        self.lock().config.clone()
    }

    /// Set the simulation clock (used by [`SimAnalogInput`], which gets no time
    /// argument). [`SimSuite`] sets it on every call.
    pub fn set_time(&self, now_ms: u64) {
        self.lock().clock_ms = now_ms;
    }

    /// The simulation clock.
    #[must_use]
    pub fn time(&self) -> u64 {
        self.lock().clock_ms
    }

    /// Schedule `event` to start at `at_ms` (past times start it at once).
    pub fn inject(&self, at_ms: u64, event: Event) {
        self.lock().events.push((at_ms, event));
    }

    /// Start `event` at the current simulation time.
    pub fn inject_now(&self, event: Event) {
        let mut world = self.lock();
        let now = world.clock_ms;
        world.events.push((now, event));
    }

    /// Remove every event, past and scheduled.
    pub fn clear_events(&self) {
        self.lock().events.clear();
    }

    /// Noise-free values at `now_ms`.
    #[must_use]
    pub fn truth(&self, now_ms: u64) -> Truth {
        self.lock().truth(now_ms)
    }

    /// The analog input of one simulated MQ module.
    #[must_use]
    pub fn analog_input(&self, sensor: GasSensorId) -> SimAnalogInput {
        SimAnalogInput {
            sim: self.clone(),
            sensor,
        }
    }

    /// The simulated DHT.
    #[must_use]
    pub fn dht(&self) -> SimDht {
        let model = self.lock().config.dht_model;
        SimDht {
            sim: self.clone(),
            pacing: Pacing::new(model),
        }
    }

    /// A driver for one simulated MQ module, with the simulation's circuit and
    /// preheat time; not calibrated.
    #[must_use]
    pub fn mq_sensor(&self, sensor: GasSensorId) -> MqSensor<SimAnalogInput> {
        let (circuit, preheat_ms, powered_at_ms) = {
            let world = self.lock();
            (
                world.config.circuit,
                world.config.preheat_ms,
                world.config.powered_at_ms,
            )
        };
        let mut config = Config::new(model(sensor));
        config.circuit = circuit;
        config.preheat_ms = preheat_ms;
        MqSensor::new(self.analog_input(sensor), config, powered_at_ms)
    }

    /// The whole reference node's sensor suite; not calibrated.
    #[must_use]
    pub fn suite(&self) -> SimSuite {
        SimSuite {
            sim: self.clone(),
            inner: Suite::new(
                self.mq_sensor(GasSensorId::Mq2),
                self.mq_sensor(GasSensorId::Mq4),
                self.mq_sensor(GasSensorId::Mq7),
                self.mq_sensor(GasSensorId::Mq135),
                self.dht(),
            ),
        }
    }
}

/// A simulated MQ module output, read at the simulation clock.
#[derive(Debug, Clone)]
pub struct SimAnalogInput {
    sim: Simulator,
    sensor: GasSensorId,
}

impl AnalogInput for SimAnalogInput {
    type Error = ErrorKind;

    fn read_millivolts(&mut self) -> Result<f32, ErrorKind> {
        self.sim.lock().millivolts(self.sensor)
    }
}

/// A simulated DHT: the frame goes through [`dht11::decode`], and the minimum
/// interval is enforced as on hardware.
#[derive(Debug)]
pub struct SimDht {
    sim: Simulator,
    pacing: Pacing,
}

impl SimDht {
    /// Read at `now_ms`, as [`dht11::Dht::read`].
    ///
    /// # Errors
    ///
    /// [`dht11::Error::TooSoon`] within the minimum interval; the injected
    /// fault's error otherwise.
    pub fn read(&mut self, now_ms: u64) -> Result<Reading, dht11::Error<Infallible>> {
        self.pacing.admit(now_ms)?;
        let (model, frame) = {
            let mut world = self.sim.lock();
            (world.config.dht_model, world.dht_frame(now_ms))
        };
        self.pacing.finish(model, frame, now_ms)
    }
}

impl ClimateSensor for SimDht {
    type Error = dht11::Error<Infallible>;

    async fn read_climate(&mut self, now_ms: u64) -> Result<Climate, Self::Error> {
        self.read(now_ms).map(|r| r.climate())
    }
}

/// The simulated reference node: [`Suite`] over simulated parts, setting the
/// simulation clock on every call.
#[derive(Debug)]
pub struct SimSuite {
    sim: Simulator,
    inner: Suite<SimAnalogInput, SimAnalogInput, SimAnalogInput, SimAnalogInput, SimDht>,
}

impl SimSuite {
    /// The simulation handle, e.g. to inject events.
    #[must_use]
    pub fn simulator(&self) -> &Simulator {
        &self.sim
    }

    /// The wrapped suite.
    pub fn suite_mut(
        &mut self,
    ) -> &mut Suite<SimAnalogInput, SimAnalogInput, SimAnalogInput, SimAnalogInput, SimDht> {
        &mut self.inner
    }

    /// [`EnvironmentSensors::sample`] without an executor: the simulated parts
    /// never wait, so the future completes on its first poll.
    ///
    /// # Errors
    ///
    /// As [`EnvironmentSensors::sample`].
    pub fn sample_now(&mut self, now_ms: u64) -> Result<EnvSample, SuiteError> {
        let future = pin!(EnvironmentSensors::sample(self, now_ms));
        match poll_once(future) {
            Some(result) => result,
            // Unreachable with the simulated parts; report it rather than spin.
            None => Err(SuiteError {
                faults: crate::suite::Faults::new(),
            }),
        }
    }

    /// [`EnvironmentSensors::calibrate`] without an executor.
    ///
    /// # Errors
    ///
    /// As [`EnvironmentSensors::calibrate`].
    pub fn calibrate_now(&mut self, sensor: GasSensorId, now_ms: u64) -> Result<f32, SensorFault> {
        let future = pin!(EnvironmentSensors::calibrate(self, sensor, now_ms));
        poll_once(future).unwrap_or(Err(SensorFault {
            sensor: sensor.into(),
            kind: ErrorKind::Other,
        }))
    }
}

fn poll_once<F: Future>(future: Pin<&mut F>) -> Option<F::Output> {
    match future.poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => Some(out),
        Poll::Pending => None,
    }
}

impl EnvironmentSensors for SimSuite {
    async fn sample(&mut self, now_ms: u64) -> Result<EnvSample, SuiteError> {
        self.sim.set_time(now_ms);
        self.inner.sample(now_ms).await
    }

    async fn calibrate(&mut self, sensor: GasSensorId, now_ms: u64) -> Result<f32, SensorFault> {
        self.sim.set_time(now_ms);
        self.inner.calibrate(sensor, now_ms).await
    }

    fn r0(&self, sensor: GasSensorId) -> Option<R0> {
        self.inner.r0(sensor)
    }

    fn restore_r0(&mut self, sensor: GasSensorId, r0: R0) {
        self.inner.restore_r0(sensor, r0);
    }
}
