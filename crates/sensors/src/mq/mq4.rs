//! MQ-4: methane (natural gas), with a lower LPG sensitivity.
//!
//! Curves: `MQSensorsLib` (miguel5612, `examples/MQ-4`), fitted to the Hanwei MQ-4
//! datasheet's sensitivity figure. Clean-air ratio: datasheet, `Rs/R0 = 4.4`.

use super::{Compensation, Gas, GasCurve, Model, Reference};

/// `Rs/R0` in clean air (datasheet).
pub const CLEAN_AIR_RATIO: f32 = 4.4;
/// Methane: `ppm = 1012.7 · ratio^−2.786` (`MQSensorsLib`).
pub const CH4: GasCurve = GasCurve::new(Gas::Ch4, 1012.7, -2.786);
/// LPG: `ppm = 3811.9 · ratio^−3.113` (`MQSensorsLib`).
pub const LPG: GasCurve = GasCurve::new(Gas::Lpg, 3811.9, -3.113);
/// All MQ-4 curves.
pub const CURVES: [GasCurve; 2] = [CH4, LPG];

/// The MQ-4 model: methane by default, `R0` from the clean-air ratio.
pub const MODEL: Model = Model {
    name: "MQ-4",
    clean_air_ratio: CLEAN_AIR_RATIO,
    default_gas: CH4,
    default_reference: Reference::CleanAirRatio(CLEAN_AIR_RATIO),
    compensation: Compensation::None,
    curves: &CURVES,
};
