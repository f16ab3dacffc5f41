//! The async DHT driver on a simulated line in virtual time: futures register
//! the instant they wait for, and a small executor jumps the clock to the
//! earliest one, so races between an edge and a timeout resolve by time.

mod common;

use std::cell::RefCell;
use std::convert::Infallible;
use std::future::{poll_fn, Future};
use std::pin::pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use common::{with_checksum, Waveform};
use sensors::dht11::{DhtAsync, Error, Model, Reading, Stage};
use sensors::{Climate, ClimateSensor};

/// The data line: the host pulls it low or releases it; once released after a
/// long-enough start pulse, the sensor plays its waveform.
struct Line {
    now_us: u64,
    host_low_since: Option<u64>,
    sensor_started: Option<u64>,
    min_start_us: u64,
    waveform: Waveform,
    wakeups: Vec<u64>,
}

impl Line {
    fn level(&self, t: u64) -> bool {
        if self.host_low_since.is_some() {
            return false;
        }
        match self.sensor_started {
            Some(start) => self.waveform.level_at(t - start),
            None => true,
        }
    }

    fn next_at(&self, level: bool) -> Option<u64> {
        if self.level(self.now_us) == level {
            return Some(self.now_us);
        }
        let start = self.sensor_started?;
        self.waveform
            .next_at(self.now_us - start, level)
            .map(|t| t + start)
    }
}

type Shared = Rc<RefCell<Line>>;

struct VirtualPin(Shared);
struct VirtualDelay(Shared);

impl embedded_hal::digital::ErrorType for VirtualPin {
    type Error = Infallible;
}

impl embedded_hal::digital::OutputPin for VirtualPin {
    fn set_low(&mut self) -> Result<(), Infallible> {
        let mut line = self.0.borrow_mut();
        line.host_low_since = Some(line.now_us);
        line.sensor_started = None;
        Ok(())
    }

    fn set_high(&mut self) -> Result<(), Infallible> {
        let mut line = self.0.borrow_mut();
        if let Some(since) = line.host_low_since.take() {
            if line.now_us - since >= line.min_start_us {
                line.sensor_started = Some(line.now_us);
            }
        }
        Ok(())
    }
}

impl VirtualPin {
    async fn wait_level(&mut self, level: bool) -> Result<(), Infallible> {
        poll_fn(|_| {
            let mut line = self.0.borrow_mut();
            match line.next_at(level) {
                Some(t) if t <= line.now_us => Poll::Ready(Ok(())),
                Some(t) => {
                    line.wakeups.push(t);
                    Poll::Pending
                }
                None => Poll::Pending,
            }
        })
        .await
    }
}

impl embedded_hal_async::digital::Wait for VirtualPin {
    async fn wait_for_high(&mut self) -> Result<(), Infallible> {
        self.wait_level(true).await
    }
    async fn wait_for_low(&mut self) -> Result<(), Infallible> {
        self.wait_level(false).await
    }
    async fn wait_for_rising_edge(&mut self) -> Result<(), Infallible> {
        self.wait_level(false).await?;
        self.wait_level(true).await
    }
    async fn wait_for_falling_edge(&mut self) -> Result<(), Infallible> {
        self.wait_level(true).await?;
        self.wait_level(false).await
    }
    async fn wait_for_any_edge(&mut self) -> Result<(), Infallible> {
        let now = self.0.borrow().level(self.0.borrow().now_us);
        self.wait_level(!now).await
    }
}

impl embedded_hal_async::delay::DelayNs for VirtualDelay {
    async fn delay_ns(&mut self, ns: u32) {
        let deadline = self.0.borrow().now_us + u64::from(ns).div_ceil(1000);
        poll_fn(|_| {
            let mut line = self.0.borrow_mut();
            if line.now_us >= deadline {
                Poll::Ready(())
            } else {
                line.wakeups.push(deadline);
                Poll::Pending
            }
        })
        .await
    }
}

/// Run `future` to completion, jumping the clock to the earliest wake-up.
fn run<F: Future>(line: &Shared, future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        let mut l = line.borrow_mut();
        let next = l
            .wakeups
            .drain(..)
            .min()
            .expect("the driver waits for nothing: it would hang");
        assert!(next > l.now_us, "time must move forward");
        l.now_us = next;
    }
}

fn setup(model: Model, waveform: Waveform) -> (Shared, DhtAsync<VirtualPin, VirtualDelay>) {
    let line = Rc::new(RefCell::new(Line {
        now_us: 0,
        host_low_since: None,
        sensor_started: None,
        // Datasheets: DHT11 needs ≥ 18 ms, DHT22 ≥ 1 ms (some parts 800 µs).
        min_start_us: match model {
            Model::Dht11 => 18_000,
            Model::Dht22 => 1_000,
        },
        waveform,
        wakeups: Vec::new(),
    }));
    let dht = DhtAsync::new(VirtualPin(line.clone()), VirtualDelay(line.clone()), model);
    (line, dht)
}

#[test]
fn good_dht11_frame() {
    let bytes = with_checksum([45, 0, 23, 4]);
    let (line, mut dht) = setup(Model::Dht11, Waveform::frame(bytes));
    let reading = run(&line, dht.read(5_000)).unwrap();
    assert_eq!(
        reading,
        Reading {
            humidity_permille: 450,
            temperature_decicelsius: 234
        }
    );
    // 20 ms start pulse plus ~4 ms of frame, in virtual time.
    let elapsed = line.borrow().now_us;
    assert!((23_000..26_000).contains(&elapsed), "{elapsed} µs");
}

#[test]
fn good_dht22_frame_through_the_climate_trait() {
    let bytes = [0x02, 0x8C, 0x80, 0x65, 0x73];
    let (line, mut dht) = setup(Model::Dht22, Waveform::frame(bytes));
    let climate = run(&line, dht.read_climate(0)).unwrap();
    assert_eq!(
        climate,
        Climate {
            temperature_c: -10.1,
            humidity_pct: 65.2
        }
    );
}

#[test]
fn every_bit_position_is_decoded() {
    let bytes = with_checksum([0b1010_1010, 0b0000_0001, 0b0111_1111, 0b1000_0000]);
    let (line, mut dht) = setup(Model::Dht22, Waveform::frame(bytes));
    assert_eq!(run(&line, dht.read(0)), Err(Error::Implausible { bytes }));
}

#[test]
fn checksum_error() {
    let mut bytes = with_checksum([45, 0, 23, 4]);
    bytes[4] = bytes[4].wrapping_add(2);
    let (line, mut dht) = setup(Model::Dht11, Waveform::frame(bytes));
    assert_eq!(
        run(&line, dht.read(0)),
        Err(Error::Checksum {
            expected: 72,
            actual: 74
        })
    );
}

#[test]
fn stuck_line_times_out_after_the_edge_timeout() {
    let bytes = with_checksum([45, 0, 23, 4]);
    let (line, mut dht) = setup(Model::Dht11, Waveform::truncated(bytes, 20, Some(false)));
    // After bit 19 the line stays low: bit 20's low never ends.
    assert_eq!(
        run(&line, dht.read(0)),
        Err(Error::Timeout {
            stage: Stage::BitLow(20)
        })
    );
}

#[test]
fn start_pulse_too_short_for_the_model_gets_no_response() {
    // A DHT11 driven with the DHT22's 1.1 ms start pulse does not wake up.
    let bytes = with_checksum([45, 0, 23, 4]);
    let line_model = Model::Dht11;
    let (line, _) = setup(line_model, Waveform::frame(bytes));
    let mut dht22_driver = DhtAsync::new(
        VirtualPin(line.clone()),
        VirtualDelay(line.clone()),
        Model::Dht22,
    );
    assert_eq!(run(&line, dht22_driver.read(0)), Err(Error::NoResponse));
    // The answer comes after the edge timeout: 1.1 ms + 300 µs.
    assert_eq!(
        line.borrow().now_us,
        1_100 + u64::from(DhtAsync::<VirtualPin, VirtualDelay>::EDGE_TIMEOUT_US)
    );
}

#[test]
fn too_soon_reads_do_not_touch_the_line() {
    let bytes = with_checksum([50, 0, 21, 0]);
    let (line, mut dht) = setup(Model::Dht11, Waveform::frame(bytes));
    run(&line, dht.read(1_000)).unwrap();
    let t = line.borrow().now_us;
    assert_eq!(
        run(&line, dht.read(1_999)),
        Err(Error::TooSoon { retry_in_ms: 1 })
    );
    assert_eq!(line.borrow().now_us, t);
    assert_eq!(
        dht.last_reading().map(|(r, at)| (r.humidity_permille, at)),
        Some((500, 1_000))
    );
}
