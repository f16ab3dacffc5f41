//! MQ-7: carbon monoxide, with a hydrogen cross-sensitivity.
//!
//! Curves: `MQSensorsLib` (miguel5612, `examples/MQ-7`), fitted to the Hanwei MQ-7
//! datasheet's sensitivity figure. Clean-air ratio: datasheet, `Rs/R0 = 27.5`.
//!
//! The datasheet drives the heater in cycles (5.0 V for 60 s, then 1.4 V for
//! 90 s) and reads CO at the end of the low phase. This driver does not switch
//! the heater; on a module with a constant 5 V heater readings are indicative
//! only (see `docs/sensors.md`).

use super::{Compensation, Gas, GasCurve, Model, Reference};

/// `Rs/R0` in clean air (datasheet).
pub const CLEAN_AIR_RATIO: f32 = 27.5;
/// Carbon monoxide: `ppm = 99.042 · ratio^−1.518` (`MQSensorsLib`).
pub const CO: GasCurve = GasCurve::new(Gas::Co, 99.042, -1.518);
/// Hydrogen: `ppm = 69.014 · ratio^−1.374` (`MQSensorsLib`).
pub const H2: GasCurve = GasCurve::new(Gas::H2, 69.014, -1.374);
/// All MQ-7 curves.
pub const CURVES: [GasCurve; 2] = [CO, H2];

/// The MQ-7 model: CO by default, `R0` from the clean-air ratio.
pub const MODEL: Model = Model {
    name: "MQ-7",
    clean_air_ratio: CLEAN_AIR_RATIO,
    default_gas: CO,
    default_reference: Reference::CleanAirRatio(CLEAN_AIR_RATIO),
    compensation: Compensation::None,
    curves: &CURVES,
};
