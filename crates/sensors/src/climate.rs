//! Temperature and humidity: the value type the DHT drivers produce and the MQ-135
//! correction consumes, and the trait a sensor suite reads it through.

/// Air temperature and relative humidity.
///
/// ```
/// use sensors::Climate;
///
/// let c = Climate { temperature_c: 23.6, humidity_pct: 41.4 };
/// assert_eq!(c.temperature_c_rounded(), 24);
/// assert_eq!(c.humidity_pct_rounded(), 41);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Climate {
    /// Air temperature in °C.
    pub temperature_c: f32,
    /// Relative humidity in % (0..=100).
    pub humidity_pct: f32,
}

impl Climate {
    /// Temperature rounded to the nearest whole °C, as the thing model's
    /// `DHT11_T` property (int, °C) carries it.
    #[must_use]
    pub fn temperature_c_rounded(&self) -> i32 {
        // `as` saturates for floats; a NaN becomes 0, which no driver produces.
        libm::roundf(self.temperature_c) as i32
    }

    /// Humidity rounded to the nearest whole %, clamped to 0..=100, as the thing
    /// model's `DHT11_H` property (int, %) carries it.
    #[must_use]
    pub fn humidity_pct_rounded(&self) -> u8 {
        libm::roundf(self.humidity_pct.clamp(0.0, 100.0)) as u8
    }
}

/// A source of [`Climate`] readings, read with the time the runtime's clock gives.
///
/// Implemented by the blocking [`Dht`](crate::dht11::Dht), the async
/// [`DhtAsync`](crate::dht11::DhtAsync) and, with the `sim` feature, the
/// simulator's DHT. The blocking driver runs to completion inside `read` (about
/// 5 ms for a DHT22, 25 ms for a DHT11), which an async runtime should know.
///
/// ```
/// use sensors::{Climate, ClimateSensor, ErrorKind};
///
/// /// A sensor that always reads the same air, e.g. for a bench setup.
/// struct Fixed(Climate);
///
/// impl ClimateSensor for Fixed {
///     type Error = ErrorKind;
///     async fn read_climate(&mut self, _now_ms: u64) -> Result<Climate, ErrorKind> {
///         Ok(self.0)
///     }
/// }
/// # let _ = Fixed(Climate { temperature_c: 20.0, humidity_pct: 50.0 });
/// ```
#[allow(async_fn_in_trait)] // as embedded-hal-async: no `Send` bound, executors are local
pub trait ClimateSensor {
    /// The sensor's error.
    type Error: crate::Error;

    /// Read temperature and humidity. `now_ms` is a monotonic millisecond clock
    /// owned by the runtime; drivers use it to enforce their minimum interval.
    ///
    /// # Errors
    ///
    /// The driver's error: see its `kind()` for whether to retry.
    async fn read_climate(&mut self, now_ms: u64) -> Result<Climate, Self::Error>;
}
