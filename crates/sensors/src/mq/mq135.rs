//! MQ-135: air quality (CO₂, ammonia, CO, alcohol, toluene, acetone).
//!
//! Curves: `MQSensorsLib` (miguel5612, `examples/MQ-135`), fitted to the Hanwei
//! MQ-135 datasheet's sensitivity figure. Clean-air ratio: datasheet,
//! `Rs/R0 = 3.6`. Temperature/humidity correction: `GeorgK`'s MQ135 Arduino
//! library (`MQ135.h`: `CORA`, `CORB`, `CORC`, `CORD`).
//!
//! # Calibrating for CO₂
//!
//! The datasheet's clean-air ratio is useless for the CO₂ curve: at
//! `Rs/R0 = 3.6` it reads `110.47 · 3.6^−2.862 ≈ 2.8 ppm`, while outdoor air holds
//! about 400 ppm. So the default reference is ambient CO₂ ([`ambient_co2`]):
//! calibrate outdoors or in a well-ventilated room, and `R0` is chosen so the
//! curve reads exactly that concentration.

use super::{Compensation, Gas, GasCurve, Model, Reference};

/// `Rs/R0` in clean air (datasheet). Not used for CO₂; see the module docs.
pub const CLEAN_AIR_RATIO: f32 = 3.6;
/// CO₂: `ppm = 110.47 · ratio^−2.862` (`MQSensorsLib`).
pub const CO2: GasCurve = GasCurve::new(Gas::Co2, 110.47, -2.862);
/// Ammonium (the library's name for the NH₃ curve): `ppm = 102.2 · ratio^−2.473`.
pub const NH4: GasCurve = GasCurve::new(Gas::Nh4, 102.2, -2.473);
/// Carbon monoxide: `ppm = 605.18 · ratio^−3.937` (`MQSensorsLib`).
pub const CO: GasCurve = GasCurve::new(Gas::Co, 605.18, -3.937);
/// Alcohol: `ppm = 77.255 · ratio^−3.18` (`MQSensorsLib`).
pub const ALCOHOL: GasCurve = GasCurve::new(Gas::Alcohol, 77.255, -3.18);
/// Toluene: `ppm = 44.947 · ratio^−3.445` (`MQSensorsLib`).
pub const TOLUENE: GasCurve = GasCurve::new(Gas::Toluene, 44.947, -3.445);
/// Acetone: `ppm = 34.668 · ratio^−3.369` (`MQSensorsLib`).
pub const ACETONE: GasCurve = GasCurve::new(Gas::Acetone, 34.668, -3.369);
/// All MQ-135 curves.
pub const CURVES: [GasCurve; 6] = [CO2, NH4, CO, ALCOHOL, TOLUENE, ACETONE];

/// Ambient CO₂ assumed during calibration, in ppm. The long-standing convention;
/// outdoor air is nearer 420 ppm today, so pass the local value to
/// [`ambient_co2`] when it is known.
pub const AMBIENT_CO2_PPM: f32 = 400.0;

/// `GeorgK` `CORA`: quadratic temperature term, per °C².
pub const CORRECTION_A: f32 = 0.000_35;
/// `GeorgK` `CORB`: linear temperature term, per °C.
pub const CORRECTION_B: f32 = 0.027_18;
/// `GeorgK` `CORC`: constant term.
pub const CORRECTION_C: f32 = 1.395_38;
/// `GeorgK` `CORD`: humidity term, per % RH away from 33 % RH.
pub const CORRECTION_D: f32 = 0.0018;

/// The MQ-135 model: CO₂ by default, `R0` from ambient CO₂ (400 ppm), `GeorgK`
/// temperature/humidity correction.
pub const MODEL: Model = Model {
    name: "MQ-135",
    clean_air_ratio: CLEAN_AIR_RATIO,
    default_gas: CO2,
    default_reference: ambient_co2(AMBIENT_CO2_PPM),
    compensation: Compensation::GeorgK,
    curves: &CURVES,
};

/// The calibration reference "this air holds `ppm` CO₂".
///
/// ```
/// use sensors::mq::{mq135, Reference};
///
/// assert!(matches!(mq135::ambient_co2(420.0), Reference::KnownConcentration { ppm, .. } if ppm == 420.0));
/// ```
#[must_use]
pub const fn ambient_co2(ppm: f32) -> Reference {
    Reference::KnownConcentration {
        ppm,
        curve: CO2.curve,
    }
}

/// `GeorgK`'s correction factor:
/// `cf = 0.00035·t² − 0.02718·t + 1.39538 − (h − 33)·0.0018`;
/// the corrected resistance is `Rs / cf`. It is 1 near 20 °C / 33 % RH, the
/// datasheet's reference conditions.
///
/// ```
/// use sensors::mq::mq135::correction_factor;
///
/// let cf = correction_factor(20.0, 33.0);
/// assert!((cf - (0.00035 * 400.0 - 0.02718 * 20.0 + 1.39538)).abs() < 1e-6);
/// ```
#[must_use]
pub fn correction_factor(temperature_c: f32, humidity_pct: f32) -> f32 {
    CORRECTION_A * temperature_c * temperature_c - CORRECTION_B * temperature_c + CORRECTION_C
        - (humidity_pct - 33.0) * CORRECTION_D
}
