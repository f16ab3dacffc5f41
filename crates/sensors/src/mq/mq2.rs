//! MQ-2: LPG, propane, hydrogen, CO, alcohol (and smoke, which it is mostly
//! used for; there is no published smoke curve, the LPG curve is the default).
//!
//! Curves: `MQSensorsLib` (miguel5612, `examples/MQ-2`), fitted to the Hanwei MQ-2
//! datasheet's sensitivity figure. Clean-air ratio: datasheet, `Rs/R0 = 9.83`.

use super::{Compensation, Gas, GasCurve, Model, Reference};

/// `Rs/R0` in clean air (datasheet).
pub const CLEAN_AIR_RATIO: f32 = 9.83;
/// LPG: `ppm = 574.25 · ratio^−2.222` (`MQSensorsLib`).
pub const LPG: GasCurve = GasCurve::new(Gas::Lpg, 574.25, -2.222);
/// Hydrogen: `ppm = 987.99 · ratio^−2.162` (`MQSensorsLib`).
pub const H2: GasCurve = GasCurve::new(Gas::H2, 987.99, -2.162);
/// Carbon monoxide: `ppm = 36974 · ratio^−3.109` (`MQSensorsLib`).
pub const CO: GasCurve = GasCurve::new(Gas::Co, 36974.0, -3.109);
/// Alcohol: `ppm = 3616.1 · ratio^−2.675` (`MQSensorsLib`).
pub const ALCOHOL: GasCurve = GasCurve::new(Gas::Alcohol, 3616.1, -2.675);
/// Propane: `ppm = 658.71 · ratio^−2.168` (`MQSensorsLib`).
pub const PROPANE: GasCurve = GasCurve::new(Gas::Propane, 658.71, -2.168);
/// All MQ-2 curves.
pub const CURVES: [GasCurve; 5] = [LPG, H2, CO, ALCOHOL, PROPANE];

/// The MQ-2 model: LPG by default, `R0` from the clean-air ratio.
pub const MODEL: Model = Model {
    name: "MQ-2",
    clean_air_ratio: CLEAN_AIR_RATIO,
    default_gas: LPG,
    default_reference: Reference::CleanAirRatio(CLEAN_AIR_RATIO),
    compensation: Compensation::None,
    curves: &CURVES,
};
