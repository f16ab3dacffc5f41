//! MQ math against values computed here, in f64, from the published formulas
//! and constants (typed in again, so a wrong constant in the crate fails too).

use std::num::NonZeroU16;

use proptest::prelude::*;
use sensors::adc::AnalogInput;
use sensors::mq::{
    self, mq135, mq2, mq4, mq7, Circuit, Compensation, Config, Curve, Error, MqSensor, Reference,
    R0,
};
use sensors::{Climate, Error as _, ErrorKind};

fn expect_ppm(a: f64, b: f64, ratio: f64) -> f64 {
    a * ratio.powf(b)
}

fn close(actual: f32, expected: f64, rel: f64) {
    let err = ((f64::from(actual) - expected) / expected).abs();
    assert!(err < rel, "{actual} vs {expected} (relative error {err})");
}

#[test]
fn published_curves_match_their_constants() {
    // (curve in the crate, a, b) from MQSensorsLib as quoted in the issue.
    let table: [(mq::GasCurve, f64, f64); 15] = [
        (mq2::LPG, 574.25, -2.222),
        (mq2::H2, 987.99, -2.162),
        (mq2::CO, 36974.0, -3.109),
        (mq2::ALCOHOL, 3616.1, -2.675),
        (mq2::PROPANE, 658.71, -2.168),
        (mq4::CH4, 1012.7, -2.786),
        (mq4::LPG, 3811.9, -3.113),
        (mq7::CO, 99.042, -1.518),
        (mq7::H2, 69.014, -1.374),
        (mq135::CO2, 110.47, -2.862),
        (mq135::NH4, 102.2, -2.473),
        (mq135::CO, 605.18, -3.937),
        (mq135::ALCOHOL, 77.255, -3.18),
        (mq135::TOLUENE, 44.947, -3.445),
        (mq135::ACETONE, 34.668, -3.369),
    ];
    for (gas, a, b) in table {
        for ratio in [0.3_f64, 1.0, 2.5, 9.83] {
            let got = mq::ppm(ratio as f32, gas.curve).unwrap();
            close(got, expect_ppm(a, b, ratio), 1e-5);
        }
    }
    assert_eq!(mq2::CLEAN_AIR_RATIO, 9.83);
    assert_eq!(mq4::CLEAN_AIR_RATIO, 4.4);
    assert_eq!(mq7::CLEAN_AIR_RATIO, 27.5);
    assert_eq!(mq135::CLEAN_AIR_RATIO, 3.6);
}

#[test]
fn clean_air_ratio_gives_nonsense_co2_so_mq135_calibrates_on_ambient() {
    let co2_at_clean_air = mq::ppm(3.6, mq135::CO2.curve).unwrap();
    close(co2_at_clean_air, expect_ppm(110.47, -2.862, 3.6), 1e-5);
    assert!(co2_at_clean_air < 5.0, "{co2_at_clean_air}");
    assert_eq!(mq::MQ135.default_reference, mq135::ambient_co2(400.0));
    assert!(matches!(mq::MQ2.default_reference, Reference::CleanAirRatio(r) if r == 9.83));
}

#[test]
fn r0_from_each_reference() {
    let rs = 45_000.0_f64;
    let r0 = mq::r0_from(rs as f32, Reference::CleanAirRatio(27.5)).unwrap();
    close(r0.ohms(), rs / 27.5, 1e-6);
    // R0 = Rs · (a / 400)^(1/b)
    let r0 = mq::r0_from(rs as f32, mq135::ambient_co2(400.0)).unwrap();
    let expected = rs * (110.47_f64 / 400.0).powf(1.0 / -2.862);
    close(r0.ohms(), expected, 1e-5);
    // ... which makes the curve read the reference at that Rs.
    let back = mq::ppm((rs / f64::from(r0.ohms())) as f32, mq135::CO2.curve).unwrap();
    close(back, 400.0, 1e-4);
}

#[test]
fn rs_from_the_divider_and_fault_thresholds() {
    let c = Circuit {
        supply_millivolts: 5000.0,
        load_resistance_ohms: 1000.0,
        ..Circuit::DEFAULT
    };
    for v in [10.0_f64, 333.0, 2500.0, 4900.0] {
        close(
            c.rs_ohms(v as f32).unwrap(),
            1000.0 * (5000.0 - v) / v,
            1e-6,
        );
    }
    assert_eq!(c.rs_ohms(0.0), Err(Error::OpenCircuit { millivolts: 0.0 }));
    assert_eq!(c.rs_ohms(4.9), Err(Error::OpenCircuit { millivolts: 4.9 }));
    assert_eq!(
        c.rs_ohms(4996.0),
        Err(Error::Saturated {
            millivolts: 4996.0,
            supply_millivolts: 5000.0
        })
    );
    assert!(matches!(c.rs_ohms(6000.0), Err(Error::Saturated { .. })));
    assert!(matches!(
        c.rs_ohms(f32::NAN),
        Err(Error::InvalidValue { .. })
    ));
    assert_eq!(c.rs_ohms(0.0).unwrap_err().kind(), ErrorKind::OutOfRange);
    // output_millivolts is the inverse.
    close(
        c.output_millivolts(c.rs_ohms(1234.0).unwrap()),
        1234.0,
        1e-5,
    );
}

#[test]
fn georgk_correction_factor() {
    for (t, h) in [
        (20.0_f64, 33.0_f64),
        (5.0, 80.0),
        (35.0, 20.0),
        (-10.0, 60.0),
    ] {
        let expected = 0.00035 * t * t - 0.02718 * t + 1.39538 - (h - 33.0) * 0.0018;
        close(mq135::correction_factor(t as f32, h as f32), expected, 1e-5);
    }
}

#[test]
fn invalid_inputs_are_errors_not_nan() {
    assert!(mq::ppm(0.0, mq2::LPG.curve).is_err());
    assert!(mq::ppm(-1.0, mq2::LPG.curve).is_err());
    assert!(mq::ppm(f32::INFINITY, mq2::LPG.curve).is_err());
    assert!(mq::ppm(1.0, Curve::new(0.0, -2.0)).is_err());
    assert!(mq::ratio_at(100.0, Curve::new(100.0, 0.0)).is_err());
    assert!(mq::r0_from(0.0, Reference::CleanAirRatio(9.83)).is_err());
    assert!(mq::r0_from(10.0, Reference::CleanAirRatio(0.0)).is_err());
    assert!(R0::from_ohms(f32::NAN).is_err());
    assert!(R0::from_le_bytes([0, 0, 0, 0]).is_err());
}

/// A settable voltage source.
struct Source(f32);

impl AnalogInput for Source {
    type Error = ErrorKind;
    fn read_millivolts(&mut self) -> Result<f32, ErrorKind> {
        if self.0 < 0.0 {
            Err(ErrorKind::Bus)
        } else {
            Ok(self.0)
        }
    }
}

#[test]
fn driver_reads_ppm_from_voltage() {
    let mut config = Config::new(mq::MQ7);
    config.preheat_ms = 60_000;
    let mut s = MqSensor::new(Source(400.0), config, 1_000);
    assert_eq!(s.read(100_000, None), Err(Error::NotCalibrated));
    assert_eq!(
        s.read(100_000, None).unwrap_err().kind(),
        ErrorKind::NotCalibrated
    );
    s.set_r0(R0::from_ohms(5_000.0).unwrap());
    let r = s.read(100_000, None).unwrap();
    let rs = 10_000.0 * (5000.0 - 400.0) / 400.0;
    close(r.rs_ohms, rs, 1e-6);
    close(r.ratio, rs / 5_000.0, 1e-6);
    close(r.ppm, expect_ppm(99.042, -1.518, rs / 5_000.0), 1e-5);
    assert!(!r.warming_up && !r.compensated);
    assert_eq!(r.millivolts, 400.0);
}

#[test]
fn warm_up_flags_readings_and_blocks_calibration() {
    let mut s = MqSensor::new(Source(1000.0), Config::new(mq::MQ2), 10_000);
    s.set_r0(R0::from_kilohms(10.0).unwrap());
    assert_eq!(s.warm_up_remaining_ms(10_000), Some(180_000));
    assert!(s.read(20_000, None).unwrap().warming_up);
    let n = NonZeroU16::new(4).unwrap();
    let err = s.calibrate(20_000, n, None).unwrap_err();
    assert_eq!(
        err,
        Error::WarmingUp {
            remaining_ms: 170_000
        }
    );
    assert_eq!(err.kind(), ErrorKind::NotReady);
    // R0 untouched by the refused calibration.
    assert_eq!(s.r0(), Some(R0::from_kilohms(10.0).unwrap()));
    assert!(!s.read(190_000, None).unwrap().warming_up);
    // Power cycling restarts the warm-up.
    s.power_on(200_000);
    assert!(s.read(200_001, None).unwrap().warming_up);
}

#[test]
fn calibration_in_clean_air_then_reading_gives_the_clean_air_value() {
    let mut s = MqSensor::new(Source(1000.0), Config::new(mq::MQ2), 0);
    let r0 = s
        .calibrate(200_000, NonZeroU16::new(10).unwrap(), None)
        .unwrap();
    let rs = 10_000.0 * 4000.0 / 1000.0;
    close(r0.ohms(), rs / 9.83, 1e-5);
    // Same air: Rs/R0 = 9.83 → a · 9.83^b.
    close(
        s.read(200_000, None).unwrap().ppm,
        expect_ppm(574.25, -2.222, 9.83),
        1e-4,
    );
}

#[test]
fn mq135_calibration_and_reading_with_correction() {
    let climate = Climate {
        temperature_c: 30.0,
        humidity_pct: 70.0,
    };
    let cf = 0.00035 * 900.0 - 0.02718 * 30.0 + 1.39538 - (70.0 - 33.0) * 0.0018;
    let mut s = MqSensor::new(Source(2000.0), Config::new(mq::MQ135), 0);
    assert_eq!(s.config().compensation, Compensation::GeorgK);
    let r0 = s
        .calibrate(500_000, NonZeroU16::new(3).unwrap(), Some(climate))
        .unwrap();
    let rs_corrected = 10_000.0 * 3000.0 / 2000.0 / cf;
    close(
        r0.ohms(),
        rs_corrected * (110.47_f64 / 400.0).powf(1.0 / -2.862),
        1e-4,
    );
    let r = s.read(500_000, Some(climate)).unwrap();
    assert!(r.compensated);
    close(r.rs_ohms, rs_corrected, 1e-5);
    close(r.ppm, 400.0, 1e-4);
    // Without climate data the reading is uncorrected, and says so.
    let raw = s.read(500_000, None).unwrap();
    assert!(!raw.compensated);
    close(
        raw.ppm,
        expect_ppm(110.47, -2.862, rs_corrected * cf / f64::from(r0.ohms())),
        1e-4,
    );
}

#[test]
fn adc_errors_keep_their_kind_and_faults_are_typed() {
    let mut s = MqSensor::new(Source(-1.0), Config::new(mq::MQ4), 0);
    s.set_r0(R0::from_kilohms(20.0).unwrap());
    let err = s.read(0, None).unwrap_err();
    assert_eq!(err, Error::Adc(ErrorKind::Bus));
    assert_eq!(err.kind(), ErrorKind::Bus);
    s.input_mut().0 = 0.0;
    assert_eq!(
        s.read(0, None).unwrap_err(),
        Error::OpenCircuit { millivolts: 0.0 }
    );
    s.input_mut().0 = 5000.0;
    assert!(matches!(s.read(0, None), Err(Error::Saturated { .. })));
}

proptest! {
    #[test]
    fn ratio_and_ppm_are_inverse(ppm in 1.0f32..10_000.0, gas in 0usize..15) {
        let curves = [
            mq2::LPG, mq2::H2, mq2::CO, mq2::ALCOHOL, mq2::PROPANE, mq4::CH4, mq4::LPG,
            mq7::CO, mq7::H2, mq135::CO2, mq135::NH4, mq135::CO, mq135::ALCOHOL,
            mq135::TOLUENE, mq135::ACETONE,
        ];
        let curve = curves[gas].curve;
        let ratio = mq::ratio_at(ppm, curve).unwrap();
        let back = mq::ppm(ratio, curve).unwrap();
        prop_assert!(((back - ppm) / ppm).abs() < 1e-4, "{} -> {} -> {}", ppm, ratio, back);
    }

    #[test]
    fn known_concentration_calibration_reads_back_the_reference(
        rs in 100.0f32..1.0e6, reference in 100.0f32..5_000.0,
    ) {
        let r0 = mq::r0_from(rs, mq135::ambient_co2(reference)).unwrap();
        let back = mq::ppm(rs / r0.ohms(), mq135::CO2.curve).unwrap();
        prop_assert!(((back - reference) / reference).abs() < 1e-4);
    }

    #[test]
    fn rs_is_positive_and_decreasing_in_voltage(v in 5.0f32..4994.0) {
        let c = Circuit::DEFAULT;
        let rs = c.rs_ohms(v).unwrap();
        let rs_higher = c.rs_ohms(v + 1.0).unwrap();
        prop_assert!(rs > 0.0 && rs_higher < rs);
    }

    #[test]
    fn any_voltage_gives_a_value_or_a_typed_error(v in proptest::num::f32::ANY) {
        match Circuit::DEFAULT.rs_ohms(v) {
            Ok(rs) => prop_assert!(rs.is_finite() && rs > 0.0),
            Err(e) => prop_assert_eq!(e.kind(), ErrorKind::OutOfRange),
        }
    }

    #[test]
    fn r0_bytes_round_trip(kohm in 0.001f32..1000.0) {
        let r0 = R0::from_kilohms(kohm).unwrap();
        prop_assert_eq!(R0::from_le_bytes(r0.to_le_bytes()).unwrap(), r0);
    }
}
