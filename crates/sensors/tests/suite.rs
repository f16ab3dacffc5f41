//! The generic suite: per-sensor faults, the too-soon DHT rule, calibration.

use std::cell::Cell;
use std::future::Future;
use std::pin::pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use sensors::adc::AnalogInput;
use sensors::mq::{self, Config, MqSensor, R0};
use sensors::suite::{EnvironmentSensors, GasSensorId, SensorId, Suite};
use sensors::{Climate, ClimateSensor, Error as _, ErrorKind};

fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("these fakes never wait"),
    }
}

/// A voltage shared with the test, so it can change between samples.
#[derive(Clone)]
struct Knob(Rc<Cell<f32>>);

impl AnalogInput for Knob {
    type Error = ErrorKind;
    fn read_millivolts(&mut self) -> Result<f32, ErrorKind> {
        match self.0.get() {
            v if v < 0.0 => Err(ErrorKind::Timeout),
            v => Ok(v),
        }
    }
}

/// A climate sensor that answers from a script.
struct Scripted(Vec<Result<Climate, ErrorKind>>);

impl ClimateSensor for Scripted {
    type Error = ErrorKind;
    async fn read_climate(&mut self, _now_ms: u64) -> Result<Climate, ErrorKind> {
        self.0.remove(0)
    }
}

const ROOM: Climate = Climate {
    temperature_c: 26.0,
    humidity_pct: 60.0,
};

type TestSuite = Suite<Knob, Knob, Knob, Knob, Scripted>;

fn suite(volts: [&Knob; 4], script: Vec<Result<Climate, ErrorKind>>) -> TestSuite {
    let [a, b, c, d] = volts.map(Clone::clone);
    Suite::new(
        MqSensor::new(a, Config::new(mq::MQ2), 0),
        MqSensor::new(b, Config::new(mq::MQ4), 0),
        MqSensor::new(c, Config::new(mq::MQ7), 0),
        MqSensor::new(d, Config::new(mq::MQ135), 0),
        Scripted(script),
    )
}

fn knob(mv: f32) -> Knob {
    Knob(Rc::new(Cell::new(mv)))
}

const WARM: u64 = 200_000;

#[test]
fn sample_reports_values_and_per_sensor_faults() {
    let (k2, k4, k7, k135) = (knob(1000.0), knob(0.0), knob(-1.0), knob(1500.0));
    let mut s = suite([&k2, &k4, &k7, &k135], vec![Ok(ROOM)]);
    for id in [GasSensorId::Mq2, GasSensorId::Mq7, GasSensorId::Mq135] {
        s.restore_r0(id, R0::from_kilohms(10.0).unwrap());
    }
    let sample = block_on(s.sample(WARM)).unwrap();
    assert_eq!(sample.taken_at_ms, WARM);
    // MQ2: Rs = 40 kΩ, ratio 4.
    let expected = 574.25 * 4f64.powf(-2.222);
    assert_eq!(sample.mq2_ppm(), Some(expected.round() as u32));
    assert_eq!(
        (sample.temperature_c(), sample.humidity_pct()),
        (Some(26), Some(60))
    );
    // MQ4 is not calibrated: its voltage is never converted, NotCalibrated comes first.
    let codes: Vec<(&str, u8)> = sample
        .faults
        .iter()
        .map(|f| (f.sensor.as_str(), f.error_code()))
        .collect();
    assert_eq!(codes, vec![("MQ4", 4), ("MQ7", 2)]);
    assert!(sample.mq4.is_none() && sample.mq7.is_none());
    // MQ135 was corrected with the DHT's reading of this sample.
    let mq135 = sample.mq135.unwrap();
    assert!(mq135.compensated && !mq135.warming_up);
    let cf = 0.00035 * 26.0f64.powi(2) - 0.02718 * 26.0 + 1.39538 - (60.0 - 33.0) * 0.0018;
    let rs = 10_000.0 * 3500.0 / 1500.0 / cf;
    let expected = 110.47 * (rs / 10_000.0).powf(-2.862);
    assert!((f64::from(mq135.ppm) - expected).abs() / expected < 1e-4);
}

#[test]
fn every_sensor_failing_is_a_suite_error_listing_all() {
    let k = knob(0.0);
    let mut s = suite([&k, &k, &k, &k], vec![Err(ErrorKind::Timeout)]);
    for id in GasSensorId::ALL {
        s.restore_r0(id, R0::from_kilohms(10.0).unwrap());
    }
    let err = block_on(s.sample(WARM)).unwrap_err();
    let faults: Vec<_> = err.faults.iter().map(|f| (f.sensor, f.kind)).collect();
    assert_eq!(
        faults,
        vec![
            (SensorId::Mq2, ErrorKind::OutOfRange),
            (SensorId::Mq4, ErrorKind::OutOfRange),
            (SensorId::Mq7, ErrorKind::OutOfRange),
            (SensorId::Mq135, ErrorKind::OutOfRange),
            (SensorId::Dht11, ErrorKind::Timeout),
        ]
    );
    assert_eq!(err.kind(), ErrorKind::OutOfRange);
}

#[test]
fn too_soon_dht_uses_the_recent_reading_without_a_fault() {
    let k = knob(1000.0);
    let mut s = suite(
        [&k, &k, &k, &k],
        vec![Ok(ROOM), Err(ErrorKind::NotReady), Err(ErrorKind::NotReady)],
    );
    for id in GasSensorId::ALL {
        s.restore_r0(id, R0::from_kilohms(10.0).unwrap());
    }
    block_on(s.sample(WARM)).unwrap();
    let second = block_on(s.sample(WARM + 500)).unwrap();
    assert_eq!(second.climate, Some(ROOM));
    assert!(second.faults.is_empty());
    // Too old to stand in: no climate, still no fault, MQ135 uncorrected.
    let late = block_on(s.sample(WARM + TestSuite::CLIMATE_MAX_AGE_MS + 1)).unwrap();
    assert_eq!(late.climate, None);
    assert!(late.faults.is_empty());
    assert!(!late.mq135.unwrap().compensated);
}

#[test]
fn calibrate_returns_kilohms_and_keeps_r0() {
    let (k2, k135) = (knob(1000.0), knob(1000.0));
    let other = knob(1000.0);
    // One climate read for the MQ135 calibration, one for the sample.
    let mut s = suite([&k2, &other, &other, &k135], vec![Ok(ROOM), Ok(ROOM)]);
    let kohm = block_on(s.calibrate(GasSensorId::Mq2, WARM)).unwrap();
    let expected = 10.0 * 4000.0 / 1000.0 / 9.83;
    assert!((f64::from(kohm) - expected).abs() < 1e-4, "{kohm}");
    assert_eq!(s.r0(GasSensorId::Mq2).map(R0::kilohms), Some(kohm));
    // MQ135: climate read on demand, R0 chosen so the corrected Rs reads 400 ppm.
    block_on(s.calibrate(GasSensorId::Mq135, WARM)).unwrap();
    let sample = block_on(s.sample(WARM)).unwrap();
    assert!((sample.mq135.unwrap().ppm - 400.0).abs() < 0.05);
}

#[test]
fn calibrate_during_warm_up_is_not_ready() {
    let k = knob(1000.0);
    let mut s = suite([&k, &k, &k, &k], vec![]);
    let fault = block_on(s.calibrate(GasSensorId::Mq7, 1_000)).unwrap_err();
    assert_eq!(
        (fault.sensor, fault.kind, fault.error_code()),
        (SensorId::Mq7, ErrorKind::NotReady, 6)
    );
    assert!(s.r0(GasSensorId::Mq7).is_none());
    assert!(fault.to_string().contains("MQ7"));
}

#[test]
fn warm_up_is_visible_in_the_sample() {
    let k = knob(1000.0);
    let mut s = suite([&k, &k, &k, &k], vec![Ok(ROOM)]);
    for id in GasSensorId::ALL {
        s.restore_r0(id, R0::from_kilohms(10.0).unwrap());
    }
    let sample = block_on(s.sample(1_000)).unwrap();
    assert!(sample.warming_up());
    assert!(sample.mq2.unwrap().warming_up);
}
