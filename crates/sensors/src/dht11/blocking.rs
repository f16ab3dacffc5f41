//! Blocking DHT driver: polls the line every microsecond.

use embedded_hal::delay::DelayNs;
use embedded_hal::digital::{InputPin, OutputPin};

use super::{Error, Frame, Model, Pacing, Reading, Stage, BITS};
use crate::{Climate, ClimateSensor};

/// A DHT11/DHT22 on one open-drain (or bidirectional) pin, read by polling.
///
/// embedded-hal has no clock, so pulse lengths are counted in polls: read the
/// pin, wait `delay_us(1)`, repeat. Each poll takes at least 1 µs plus the
/// pin-read overhead, so counts are *proportional* to time, not equal to it. The
/// driver never compares a count with an absolute time: a bit is 1 when its
/// high pulse lasted more polls than the 50 µs low pulse before it (26–28 µs vs
/// 70 µs high), which holds whatever the per-poll overhead, as long as a poll
/// stays well under ~20 µs. Interrupts that stretch one pulse can still flip a
/// bit; the checksum catches most of those, so run the read with interrupts
/// masked (a critical section of ~5 ms) if checksum errors are frequent.
///
/// Timeouts are counted the same way: a level held for more than
/// [`Dht::DEFAULT_MAX_POLLS`] polls (≥ 300 µs, where the longest legitimate
/// level is 80 µs) ends the read.
///
/// The pin must let the sensor pull the line low while the host "outputs" high:
/// an open-drain output with a 4.7–10 kΩ pull-up (e.g. embassy's `Flex` or
/// `OutputOpenDrain`, esp-hal's `Flex`), which implements both `InputPin` and
/// `OutputPin`.
///
/// ```
/// use embedded_hal_mock::eh1::{delay::NoopDelay, digital::{Mock, State, Transaction}};
/// use sensors::dht11::{Dht, Error, Model};
///
/// // A line that never answers: the sensor is missing.
/// let mut expected = vec![
///     Transaction::set(State::Low),
///     Transaction::set(State::High),
/// ];
/// expected.extend((0..=Dht::<Mock, NoopDelay>::DEFAULT_MAX_POLLS).map(|_| Transaction::get(State::High)));
/// let mut dht = Dht::new(Mock::new(&expected), NoopDelay::new(), Model::Dht11);
/// assert_eq!(dht.read(0), Err(Error::NoResponse));
/// // Too soon after that attempt: nothing is sent.
/// assert_eq!(dht.read(500), Err(Error::TooSoon { retry_in_ms: 500 }));
/// let (mut pin, _) = dht.release();
/// pin.done();
/// ```
#[derive(Debug)]
pub struct Dht<P, D> {
    pin: P,
    delay: D,
    model: Model,
    max_polls: u16,
    pacing: Pacing,
}

impl<P, D> Dht<P, D>
where
    P: InputPin + OutputPin,
    D: DelayNs,
{
    /// Polls after which a level counts as stuck.
    pub const DEFAULT_MAX_POLLS: u16 = 300;

    /// A driver for `model` on `pin`; the line should idle high (released).
    pub fn new(pin: P, delay: D, model: Model) -> Self {
        Self {
            pin,
            delay,
            model,
            max_polls: Self::DEFAULT_MAX_POLLS,
            pacing: Pacing::new(model),
        }
    }

    /// Change the stuck-level limit (polls of at least 1 µs each).
    #[must_use]
    pub fn with_max_polls(mut self, max_polls: u16) -> Self {
        self.max_polls = max_polls;
        self
    }

    /// The model.
    pub fn model(&self) -> Model {
        self.model
    }

    /// Read once at `now_ms` (the runtime's monotonic clock).
    ///
    /// # Errors
    ///
    /// [`Error::TooSoon`] within the model's minimum interval of the previous
    /// attempt (the line is not touched); [`Error::NoResponse`],
    /// [`Error::Timeout`], [`Error::Checksum`], [`Error::Implausible`] or
    /// [`Error::Pin`] from the transfer.
    pub fn read(&mut self, now_ms: u64) -> Result<Reading, Error<P::Error>> {
        self.pacing.admit(now_ms)?;
        let frame = self.transfer();
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

    /// Start pulse, then sample the line once per poll and measure runs.
    fn transfer(&mut self) -> Result<[u8; 5], Error<P::Error>> {
        self.pin.set_low().map_err(Error::Pin)?;
        self.delay.delay_us(self.model.start_low_us());
        self.pin.set_high().map_err(Error::Pin)?;

        // Runs of one level: 0 = released high until the sensor answers,
        // 1 = response low, 2 = response high, then low/high per bit.
        const RUNS: u8 = 3 + 2 * BITS;
        let mut frame = Frame::default();
        let mut level_high = true;
        let mut run: u16 = 0;
        let mut finished: u8 = 0;
        let mut last_low: u16 = 0;
        loop {
            let high = self.pin.is_high().map_err(Error::Pin)?;
            if high == level_high {
                run = run.saturating_add(1);
                if run > self.max_polls {
                    return Err(stuck(finished));
                }
            } else {
                if finished >= 3 {
                    let bit = (finished - 3) / 2;
                    if level_high {
                        // A 70 µs high is a 1, 26–28 µs a 0: compare with the 50 µs low.
                        frame.set_bit(bit, run > last_low);
                    } else {
                        last_low = run;
                    }
                }
                finished += 1;
                if finished == RUNS {
                    return Ok(frame.bytes);
                }
                level_high = high;
                run = 1;
            }
            self.delay.delay_us(1);
        }
    }
}

/// The error for a level that did not end, by the number of finished runs.
fn stuck<E>(finished: u8) -> Error<E> {
    match finished {
        0 => Error::NoResponse,
        1 => Error::Timeout {
            stage: Stage::ResponseLow,
        },
        2 => Error::Timeout {
            stage: Stage::ResponseHigh,
        },
        n => {
            let bit = (n - 3) / 2;
            Error::Timeout {
                stage: if (n - 3) % 2 == 0 {
                    Stage::BitLow(bit)
                } else {
                    Stage::BitHigh(bit)
                },
            }
        }
    }
}

impl<P, D> ClimateSensor for Dht<P, D>
where
    P: InputPin + OutputPin,
    P::Error: core::fmt::Debug,
    D: DelayNs,
{
    type Error = Error<P::Error>;

    /// Runs the blocking transfer to completion (≈ 5 ms plus the start pulse).
    async fn read_climate(&mut self, now_ms: u64) -> Result<Climate, Self::Error> {
        self.read(now_ms).map(|r| r.climate())
    }
}
