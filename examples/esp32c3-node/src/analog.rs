//! The MQ sensors' analog input: ADC1 with the curve-fitting calibration, which reads in millivolts.
//!
//! With 11 dB attenuation the calibrated range ends near 2.5 V, so each MQ module's output (up to 5 V) goes
//! through a divider: 10 kΩ from `AO` to the pin, 10 kΩ from the pin to GND, wrapped in
//! [`sensors::adc::Divided`].

use core::cell::RefCell;

use esp_hal::analog::adc::{Adc, AdcCalCurve, AdcChannel, AdcPin};
use esp_hal::peripherals::ADC1;
use esp_hal::Blocking;
use sensors::adc::AnalogInput;
use sensors::ErrorKind;

/// ADC1, shared by the channels.
pub type Adc1 = Adc<'static, ADC1<'static>, Blocking>;

/// One ADC1 input.
pub struct EspChannel<PIN> {
    adc: &'static RefCell<Adc1>,
    pin: AdcPin<PIN, ADC1<'static>, AdcCalCurve<ADC1<'static>>>,
}

impl<PIN> EspChannel<PIN> {
    /// Polls before a conversion counts as stuck (a one-shot conversion takes tens of µs).
    const MAX_POLLS: u32 = 10_000;

    /// A channel of `adc` on `pin`, enabled with calibration in the ADC's configuration.
    pub fn new(
        adc: &'static RefCell<Adc1>,
        pin: AdcPin<PIN, ADC1<'static>, AdcCalCurve<ADC1<'static>>>,
    ) -> Self {
        Self { adc, pin }
    }
}

impl<PIN: AdcChannel> AnalogInput for EspChannel<PIN> {
    type Error = ErrorKind;

    fn read_millivolts(&mut self) -> Result<f32, ErrorKind> {
        // Another handle holding the converter is a programming error, not a sensor fault.
        let mut adc = self.adc.try_borrow_mut().map_err(|_| ErrorKind::Other)?;
        // A bounded poll instead of `nb::block!`, so a stuck converter is a timeout.
        for _ in 0..Self::MAX_POLLS {
            match adc.read_oneshot(&mut self.pin) {
                // With `AdcCalCurve` the value is already in millivolts.
                Ok(millivolts) => return Ok(f32::from(millivolts)),
                Err(nb::Error::WouldBlock) => continue,
                Err(nb::Error::Other(())) => return Err(ErrorKind::Bus),
            }
        }
        Err(ErrorKind::Timeout)
    }
}
