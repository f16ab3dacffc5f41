//! The simulator: deterministic, physically plausible, events at runtime.
#![cfg(feature = "sim")]

use sensors::sim::{Event, Fault, SimConfig, SimSuite, Simulator};
use sensors::suite::{EnvSample, GasSensorId, SensorId};
use sensors::ErrorKind;

const MINUTE: u64 = 60_000;
const HOUR: u64 = 60 * MINUTE;
/// Past the default 3-minute preheat.
const WARM: u64 = 10 * MINUTE;

fn calibrated(seed: u64) -> (Simulator, SimSuite) {
    let sim = Simulator::new(SimConfig {
        seed,
        ..SimConfig::default()
    });
    let mut suite = sim.suite();
    for sensor in GasSensorId::ALL {
        suite.calibrate_now(sensor, WARM).unwrap();
    }
    (sim, suite)
}

fn run(suite: &mut SimSuite, from: u64, to: u64, step: u64) -> Vec<EnvSample> {
    (from..to)
        .step_by(step as usize)
        .map(|t| suite.sample_now(t).unwrap())
        .collect()
}

#[test]
fn same_seed_same_values_other_seed_other_values() {
    let (_, mut a) = calibrated(42);
    let (_, mut b) = calibrated(42);
    let (_, mut c) = calibrated(43);
    let sa = run(&mut a, WARM, WARM + 20 * MINUTE, MINUTE);
    let sb = run(&mut b, WARM, WARM + 20 * MINUTE, MINUTE);
    let sc = run(&mut c, WARM, WARM + 20 * MINUTE, MINUTE);
    assert_eq!(sa, sb);
    assert_ne!(sa, sc);
}

#[test]
fn clean_air_readings_are_plausible_and_noisy() {
    let (_, mut suite) = calibrated(1);
    let samples = run(&mut suite, WARM + MINUTE, WARM + 61 * MINUTE, MINUTE);
    for s in &samples {
        assert!(s.faults.is_empty(), "{:?}", s.faults);
        assert!(!s.warming_up());
        let co2 = s.mq135_ppm().unwrap();
        assert!((300..1000).contains(&co2), "CO2 {co2}");
        assert!(s.mq2_ppm().unwrap() < 20, "MQ2 {:?}", s.mq2);
        assert!(s.mq7_ppm().unwrap() < 20, "MQ7 {:?}", s.mq7);
        assert!((15..35).contains(&s.temperature_c().unwrap()));
        assert!((20..=90).contains(&s.humidity_pct().unwrap()));
    }
    let mq2: Vec<f32> = samples.iter().map(|s| s.mq2.unwrap().ppm).collect();
    let distinct = mq2.windows(2).filter(|w| w[0] != w[1]).count();
    assert!(distinct > 50, "readings should carry noise: {mq2:?}");
}

#[test]
fn daily_cycle_is_warm_in_the_afternoon_and_humid_at_night() {
    let sim = Simulator::new(SimConfig {
        start_time_of_day_ms: 0,
        ..SimConfig::default()
    });
    let afternoon = sim.truth(15 * HOUR);
    let night = sim.truth(3 * HOUR);
    assert!(
        (afternoon.temperature_c - 28.0).abs() < 0.01,
        "{afternoon:?}"
    );
    assert!((night.temperature_c - 20.0).abs() < 0.01, "{night:?}");
    assert!(night.humidity_pct > afternoon.humidity_pct + 20.0);
    // Occupancy CO2 in the day, none at night.
    assert!(sim.truth(14 * HOUR).mq135_ppm > night.mq135_ppm + 150.0);
}

#[test]
fn calibrated_readings_track_the_truth() {
    let (sim, mut suite) = calibrated(9);
    for t in (WARM + MINUTE..WARM + 3 * HOUR).step_by(10 * MINUTE as usize) {
        let s = suite.sample_now(t).unwrap();
        let truth = sim.truth(t);
        for sensor in GasSensorId::ALL {
            let read = f64::from(s.gas(sensor).unwrap().ppm);
            let want = f64::from(truth.ppm(sensor));
            // Noise (2 %), drift since calibration and the power-law slope.
            assert!(
                (read - want).abs() / want < 0.35,
                "{sensor} at {t}: {read} vs {want}"
            );
        }
        let climate = s.climate.unwrap();
        // DHT11 accuracy ±2 °C / ±5 %RH.
        assert!((climate.temperature_c - truth.temperature_c).abs() < 2.5);
        assert!((climate.humidity_pct - truth.humidity_pct).abs() < 5.0);
    }
}

#[test]
fn smoke_spike_rises_and_decays() {
    let (sim, mut suite) = calibrated(3);
    let start = WARM + MINUTE;
    let before = suite.sample_now(start).unwrap().mq2.unwrap().ppm;
    sim.inject(
        start,
        Event::SmokeSpike {
            peak_ppm: 2000.0,
            rise_ms: 30_000,
            decay_ms: 5 * MINUTE,
        },
    );
    let peak = suite.sample_now(start + 30_000).unwrap();
    let later = suite.sample_now(start + 30 * MINUTE).unwrap();
    let peak_ppm = peak.mq2.unwrap().ppm;
    assert!(
        peak_ppm > 1000.0 && peak_ppm > 100.0 * before,
        "{before} -> {peak_ppm}"
    );
    // The MQ-135 sees some of it too.
    assert!(peak.mq135_ppm().unwrap() > 900);
    assert!(later.mq2.unwrap().ppm < 0.05 * peak_ppm, "{:?}", later.mq2);
}

#[test]
fn co_and_methane_leaks_reach_their_sensors() {
    let (sim, mut suite) = calibrated(4);
    let start = WARM + MINUTE;
    sim.inject(
        start,
        Event::CoLeak {
            ppm: 150.0,
            ramp_ms: MINUTE,
            duration_ms: 20 * MINUTE,
        },
    );
    sim.inject(
        start + 2 * MINUTE,
        Event::MethaneLeak {
            ppm: 5000.0,
            ramp_ms: MINUTE,
            duration_ms: 10 * MINUTE,
        },
    );
    let s = suite.sample_now(start + 5 * MINUTE).unwrap();
    assert!((120..200).contains(&s.mq7_ppm().unwrap()), "{:?}", s.mq7);
    assert!(s.mq4_ppm().unwrap() > 3000, "{:?}", s.mq4);
    let after = suite.sample_now(start + 40 * MINUTE).unwrap();
    assert!(after.mq7_ppm().unwrap() < 30 && after.mq4_ppm().unwrap() < 100);
}

#[test]
fn injected_faults_become_typed_sensor_faults() {
    let (sim, mut suite) = calibrated(5);
    let t = WARM + MINUTE;
    sim.inject(
        t,
        Event::SensorFault {
            sensor: SensorId::Mq2,
            fault: Fault::Disconnected,
            duration_ms: Some(MINUTE),
        },
    );
    sim.inject(
        t,
        Event::SensorFault {
            sensor: SensorId::Mq7,
            fault: Fault::Shorted,
            duration_ms: None,
        },
    );
    sim.inject(
        t,
        Event::SensorFault {
            sensor: SensorId::Dht11,
            fault: Fault::Corrupted,
            duration_ms: None,
        },
    );
    let s = suite.sample_now(t + 1_000).unwrap();
    let faults: Vec<(SensorId, ErrorKind)> = s.faults.iter().map(|f| (f.sensor, f.kind)).collect();
    assert_eq!(
        faults,
        vec![
            (SensorId::Mq2, ErrorKind::OutOfRange),
            (SensorId::Mq7, ErrorKind::OutOfRange),
            (SensorId::Dht11, ErrorKind::Checksum),
        ]
    );
    assert!(s.mq4.is_some() && s.mq135.is_some());
    // The MQ2 fault has expired; the others last until cleared.
    let s = suite.sample_now(t + 2 * MINUTE).unwrap();
    assert!(s.mq2.is_some() && s.mq7.is_none());
    sim.clear_events();
    let s = suite.sample_now(t + 3 * MINUTE).unwrap();
    assert!(s.faults.is_empty(), "{:?}", s.faults);
}

#[test]
fn events_can_be_injected_from_another_thread() {
    let (sim, mut suite) = calibrated(6);
    let handle = sim.clone();
    std::thread::spawn(move || {
        handle.set_time(WARM + MINUTE);
        handle.inject_now(Event::SensorFault {
            sensor: SensorId::Mq135,
            fault: Fault::NoResponse,
            duration_ms: None,
        });
    })
    .join()
    .unwrap();
    let s = suite.sample_now(WARM + 2 * MINUTE).unwrap();
    assert_eq!(
        s.faults.get(SensorId::Mq135).map(|f| f.error_code()),
        Some(2)
    );
}

#[test]
fn warm_up_is_flagged_and_reads_high() {
    let sim = Simulator::new(SimConfig::default());
    let mut suite = sim.suite();
    let warm_r0: Vec<_> = {
        let mut s = sim.suite();
        GasSensorId::ALL
            .map(|g| s.calibrate_now(g, WARM).unwrap())
            .to_vec()
    };
    // Calibration is refused during warm-up.
    let fault = suite.calibrate_now(GasSensorId::Mq2, 10_000).unwrap_err();
    assert_eq!(fault.kind, ErrorKind::NotReady);
    use sensors::suite::EnvironmentSensors;
    for (g, kohm) in GasSensorId::ALL.into_iter().zip(warm_r0) {
        suite.restore_r0(g, sensors::mq::R0::from_kilohms(kohm).unwrap());
    }
    let cold = suite.sample_now(5_000).unwrap();
    assert!(cold.warming_up());
    // A cold element has a low Rs: the reading overshoots.
    let truth = sim.truth(5_000);
    assert!(cold.mq2.unwrap().ppm > 2.0 * truth.mq2_ppm);
}

#[test]
fn mq135_compensation_brings_hot_humid_readings_closer() {
    let sim = Simulator::new(SimConfig {
        temperature_mean_c: 32.0,
        temperature_swing_c: 0.0,
        humidity_mean_pct: 85.0,
        humidity_swing_pct: 0.0,
        gas_noise: 0.0,
        adc_noise_mv: 0.0,
        ..SimConfig::default()
    });
    let mut suite = sim.suite();
    // Calibrate as if at the datasheet's 20 °C / 33 %RH reference: R0 is the true one.
    let true_r0 = sim.config().r0_ohms[3];
    use sensors::suite::EnvironmentSensors;
    suite.restore_r0(
        GasSensorId::Mq135,
        sensors::mq::R0::from_ohms(true_r0).unwrap(),
    );
    let s = suite.sample_now(WARM).unwrap();
    let truth = sim.truth(WARM).mq135_ppm;
    let compensated = s.mq135.unwrap();
    assert!(compensated.compensated);
    let mut raw = sim.mq_sensor(GasSensorId::Mq135);
    raw.set_r0(sensors::mq::R0::from_ohms(true_r0).unwrap());
    let uncompensated = raw.read(WARM, None).unwrap().ppm;
    assert!(
        (compensated.ppm - truth).abs() < 0.5 * (uncompensated - truth).abs(),
        "truth {truth}, compensated {}, raw {uncompensated}",
        compensated.ppm
    );
}
