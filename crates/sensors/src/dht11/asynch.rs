//! Async DHT driver: waits for edges and races them against delays.

use embedded_hal::digital::OutputPin;
use embedded_hal_async::delay::DelayNs;
use embedded_hal_async::digital::Wait;

use super::{Error, Frame, Model, Pacing, Reading, Stage, BITS};
use crate::race::{race, Either};
use crate::{Climate, ClimateSensor};

/// A DHT11/DHT22 read with embedded-hal-async `Wait` and `DelayNs`.
///
/// No clock is needed: each wait for a level is raced against a delay
/// ([`DhtAsync::EDGE_TIMEOUT_US`]) that turns a stuck line into an error, and a
/// data bit is decided by racing the end of its high pulse against
/// [`DhtAsync::BIT_THRESHOLD_US`]: a 0 (26–28 µs high) ends first, a 1 (70 µs)
/// does not. The threshold sits below the midpoint to absorb the wake-up
/// latency of the rising-edge wait (a few µs on an RP2040 or ESP32-C3 at full
/// clock). Waits are on levels, not edges, so an edge that happens before the
/// wait is armed is not lost.
///
/// The start pulse is awaited (`delay_us`), so other tasks run during the 20 ms.
///
/// ```
/// # fn block_on<F: core::future::Future>(f: F) -> F::Output {
/// #     let mut f = core::pin::pin!(f);
/// #     let mut cx = core::task::Context::from_waker(core::task::Waker::noop());
/// #     loop { if let core::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
/// # }
/// use embedded_hal_mock::eh1::{delay::NoopDelay, digital::{Mock, State, Transaction}};
/// use sensors::dht11::{DhtAsync, Error, Model};
///
/// // The line reports an error when the driver starts waiting for the answer.
/// let expected = [
///     Transaction::set(State::Low),
///     Transaction::set(State::High),
///     Transaction::wait_for_state(State::Low).with_error(
///         embedded_hal_mock::eh1::MockError::Io(std::io::ErrorKind::Other),
///     ),
/// ];
/// let mut dht = DhtAsync::new(Mock::new(&expected), NoopDelay::new(), Model::Dht22);
/// assert!(matches!(block_on(dht.read(0)), Err(Error::Pin(_))));
/// let (mut pin, _) = dht.release();
/// pin.done();
/// ```
#[derive(Debug)]
pub struct DhtAsync<P, D> {
    pin: P,
    delay: D,
    model: Model,
    pacing: Pacing,
}

impl<P, D> DhtAsync<P, D>
where
    P: Wait + OutputPin,
    D: DelayNs,
{
    /// Longest wait for any level change, in µs (the longest legitimate level is
    /// the 80 µs response; the first answer may take up to 200 µs on a DHT22).
    pub const EDGE_TIMEOUT_US: u32 = 300;
    /// A data bit's high pulse still going after this many µs is a 1.
    pub const BIT_THRESHOLD_US: u32 = 40;

    /// A driver for `model` on `pin`; the line should idle high (released).
    pub fn new(pin: P, delay: D, model: Model) -> Self {
        Self {
            pin,
            delay,
            model,
            pacing: Pacing::new(model),
        }
    }

    /// The model.
    pub fn model(&self) -> Model {
        self.model
    }

    /// Read once at `now_ms` (the runtime's monotonic clock).
    ///
    /// # Errors
    ///
    /// As [`Dht::read`](super::Dht::read).
    pub async fn read(&mut self, now_ms: u64) -> Result<Reading, Error<P::Error>> {
        self.pacing.admit(now_ms)?;
        let frame = self.transfer().await;
        if let Err(e) = &frame {
            warn!("DHT read failed: {}", crate::Error::kind(e));
        }
        self.pacing.finish(self.model, frame, now_ms)
    }

    /// The last good reading and the `now_ms` it was taken at.
    pub fn last_reading(&self) -> Option<(Reading, u64)> {
        self.pacing.last_reading
    }

    /// Give the pin and delay back.
    pub fn release(self) -> (P, D) {
        (self.pin, self.delay)
    }

    /// Wait until the line is at `high`, or fail with `timeout` after
    /// [`Self::EDGE_TIMEOUT_US`].
    async fn level(&mut self, high: bool, timeout: Error<P::Error>) -> Result<(), Error<P::Error>> {
        let waited = if high {
            race(
                self.pin.wait_for_high(),
                self.delay.delay_us(Self::EDGE_TIMEOUT_US),
            )
            .await
        } else {
            race(
                self.pin.wait_for_low(),
                self.delay.delay_us(Self::EDGE_TIMEOUT_US),
            )
            .await
        };
        match waited {
            Either::First(result) => result.map_err(Error::Pin),
            Either::Second(()) => Err(timeout),
        }
    }

    async fn transfer(&mut self) -> Result<[u8; 5], Error<P::Error>> {
        self.pin.set_low().map_err(Error::Pin)?;
        self.delay.delay_us(self.model.start_low_us()).await;
        self.pin.set_high().map_err(Error::Pin)?;

        self.level(false, Error::NoResponse).await?;
        let stage = |stage| Error::Timeout { stage };
        self.level(true, stage(Stage::ResponseLow)).await?;
        self.level(false, stage(Stage::ResponseHigh)).await?;

        let mut frame = Frame::default();
        for bit in 0..BITS {
            self.level(true, stage(Stage::BitLow(bit))).await?;
            let short = race(
                self.pin.wait_for_low(),
                self.delay.delay_us(Self::BIT_THRESHOLD_US),
            )
            .await;
            match short {
                Either::First(result) => result.map_err(Error::Pin)?,
                Either::Second(()) => {
                    frame.set_bit(bit, true);
                    self.level(false, stage(Stage::BitHigh(bit))).await?;
                }
            }
        }
        Ok(frame.bytes)
    }
}

impl<P, D> ClimateSensor for DhtAsync<P, D>
where
    P: Wait + OutputPin,
    P::Error: core::fmt::Debug,
    D: DelayNs,
{
    type Error = Error<P::Error>;

    async fn read_climate(&mut self, now_ms: u64) -> Result<Climate, Self::Error> {
        self.read(now_ms).await.map(|r| r.climate())
    }
}
