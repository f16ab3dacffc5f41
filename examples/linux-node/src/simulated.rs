//! The simulated sensors of the default run: one seeded room, calibrated and warm from the start.

use sensors::mq::R0;
use sensors::sim::{Event, SimConfig, SimSuite, Simulator};
use sensors::suite::{EnvSample, EnvironmentSensors, GasSensorId, SensorFault, SuiteError};

/// How long the simulated heaters have been on when the node starts: the simulator models a cold element's low
/// resistance right after power-on, which would make the very first reading wrong.
pub const POWERED_BEFORE_START_MS: u64 = 60_000;

/// The smoke spike `--simulate-smoke-at` injects: 3000 ppm on the MQ-2 (three times the default threshold),
/// rising over 5 s and decaying over a minute.
pub const SMOKE_SPIKE: Event = Event::SmokeSpike {
    peak_ppm: 3000.0,
    rise_ms: 5_000,
    decay_ms: 60_000,
};

/// The simulated suite on the node's clock: node time `t` is simulation time `t + POWERED_BEFORE_START_MS`.
#[derive(Debug)]
pub struct Room {
    suite: SimSuite,
}

impl Room {
    /// The simulator handle, e.g. to inject events with [`inject`].
    pub fn simulator(&self) -> &Simulator {
        self.suite.simulator()
    }
}

/// Schedules `event` at node time `at_ms` (milliseconds since the node started).
pub fn inject(simulator: &Simulator, at_ms: u64, event: Event) {
    simulator.inject(at_ms.saturating_add(POWERED_BEFORE_START_MS), event);
}

impl EnvironmentSensors for Room {
    async fn sample(&mut self, now_ms: u64) -> Result<EnvSample, SuiteError> {
        self.suite
            .sample(now_ms.saturating_add(POWERED_BEFORE_START_MS))
            .await
    }

    async fn calibrate(&mut self, sensor: GasSensorId, now_ms: u64) -> Result<f32, SensorFault> {
        self.suite
            .calibrate(sensor, now_ms.saturating_add(POWERED_BEFORE_START_MS))
            .await
    }

    fn r0(&self, sensor: GasSensorId) -> Option<R0> {
        self.suite.r0(sensor)
    }

    fn restore_r0(&mut self, sensor: GasSensorId, r0: R0) {
        self.suite.restore_r0(sensor, r0);
    }
}

/// A simulated room and the node's suite on it.
///
/// The heaters count as warm and every MQ sensor starts with the room's true `R0`, as if it had been calibrated
/// before: readings are meaningful at once and the `calibrate` action works from the first second.
pub fn room(seed: u64) -> (Simulator, Room) {
    let config = SimConfig {
        seed,
        preheat_ms: 0,
        ..SimConfig::default()
    };
    let r0_ohms = config.r0_ohms;
    let sim = Simulator::new(config);
    let mut suite = sim.suite();
    for (sensor, ohms) in GasSensorId::ALL.into_iter().zip(r0_ohms) {
        // The defaults are finite and positive; a refused value would leave that sensor uncalibrated, which the
        // runtime reports as a sensor fault.
        if let Ok(r0) = R0::from_ohms(ohms) {
            suite.restore_r0(sensor, r0);
        }
    }
    (sim, Room { suite })
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::future::Future;

    /// Runs a future that completes on its first poll, as the simulator's do.
    fn ready<F: Future>(future: F) -> F::Output {
        let future = core::pin::pin!(future);
        match future.poll(&mut core::task::Context::from_waker(
            core::task::Waker::noop(),
        )) {
            core::task::Poll::Ready(output) => output,
            core::task::Poll::Pending => panic!("the simulator never waits"),
        }
    }

    fn sample(room: &mut Room, now_ms: u64) -> EnvSample {
        ready(room.sample(now_ms)).unwrap()
    }

    #[test]
    fn the_first_reading_is_already_warm() {
        let (_sim, mut room) = room(7);
        let first = sample(&mut room, 0);
        let later = sample(&mut room, 60_000);
        let (a, b) = (first.mq135_ppm().unwrap(), later.mq135_ppm().unwrap());
        assert!(
            a.abs_diff(b) < 100,
            "first {a} ppm vs a minute later {b} ppm"
        );
    }

    #[test]
    fn the_room_reads_clean_air_then_smoke() {
        let (sim, mut room) = room(7);
        let clean = sample(&mut room, 1_000);
        assert!(clean.faults.is_empty(), "{:?}", clean.faults);
        let before = clean.mq2_ppm().unwrap();
        assert!(
            before < 1000,
            "clean air should stay below the default threshold, got {before} ppm"
        );
        assert!(clean.temperature_c().is_some());
        inject(&sim, 2_000, SMOKE_SPIKE);
        let during = sample(&mut room, 2_000 + 5_000).mq2_ppm().unwrap();
        assert!(
            during > 1000,
            "the spike should cross the default threshold, got {during} ppm"
        );
    }

    #[test]
    fn calibration_works_at_once() {
        let (_sim, mut room) = room(7);
        let r0_kilohms = ready(room.calibrate(GasSensorId::Mq2, 0)).unwrap();
        assert!((r0_kilohms - 9.8).abs() < 1.0, "{r0_kilohms}");
    }
}
