//! The blocking DHT driver against recorded pin and delay transactions: the line
//! is modelled from the datasheet timings and sampled once per microsecond, as
//! the driver polls it.

mod common;

use common::{samples_until_end, with_checksum, Waveform};
use embedded_hal_mock::eh1::delay::{CheckedDelay, Transaction as DelayTx};
use embedded_hal_mock::eh1::digital::{Mock as PinMock, State, Transaction as PinTx};
use embedded_hal_mock::eh1::MockError;
use sensors::dht11::{Dht, Error, Model, Reading, Stage};
use sensors::{Error as _, ErrorKind};

const MAX_POLLS: u16 = Dht::<PinMock, CheckedDelay>::DEFAULT_MAX_POLLS;

/// The transactions of one read of `w`: start pulse, release, then one pin read
/// per µs with a 1 µs delay between reads.
fn recorded(model: Model, w: &Waveform) -> (Vec<PinTx>, Vec<DelayTx>) {
    let n = samples_until_end(w, u64::from(MAX_POLLS));
    let mut pin = vec![PinTx::set(State::Low), PinTx::set(State::High)];
    pin.extend((0..n).map(|t| {
        PinTx::get(if w.level_at(t) {
            State::High
        } else {
            State::Low
        })
    }));
    let mut delay = vec![DelayTx::delay_us(model.start_low_us())];
    delay.extend((1..n).map(|_| DelayTx::delay_us(1)));
    (pin, delay)
}

fn driver(model: Model, reads: &[Waveform]) -> Dht<PinMock, CheckedDelay> {
    let (mut pin, mut delay) = (Vec::new(), Vec::new());
    for w in reads {
        let (p, d) = recorded(model, w);
        pin.extend(p);
        delay.extend(d);
    }
    Dht::new(PinMock::new(&pin), CheckedDelay::new(&delay), model)
}

fn done(dht: Dht<PinMock, CheckedDelay>) {
    let (mut pin, mut delay) = dht.release();
    pin.done();
    delay.done();
}

#[test]
fn good_dht11_frame_decodes_with_decimal_bytes() {
    // 45.0 %RH, 23.4 °C
    let bytes = with_checksum([45, 0, 23, 4]);
    let mut dht = driver(Model::Dht11, &[Waveform::frame(bytes)]);
    let reading = dht.read(1_000).unwrap();
    assert_eq!(
        reading,
        Reading {
            humidity_permille: 450,
            temperature_decicelsius: 234
        }
    );
    assert_eq!(dht.last_reading(), Some((reading, 1_000)));
    done(dht);
}

#[test]
fn every_bit_position_is_decoded() {
    // Alternating and edge patterns exercise both pulse lengths at every jitter.
    let bytes = with_checksum([0b1010_1010, 0b0000_0001, 0b0111_1111, 0b1000_0000]);
    let mut dht = driver(Model::Dht22, &[Waveform::frame(bytes)]);
    // DHT22: humidity 0xAA01 tenths is implausible, which proves the bits arrived intact.
    assert_eq!(dht.read(0), Err(Error::Implausible { bytes }));
    done(dht);
}

#[test]
fn good_dht22_frame_with_negative_temperature() {
    // 65.2 %RH, −10.1 °C
    let bytes = [0x02, 0x8C, 0x80, 0x65, 0x73];
    let mut dht = driver(Model::Dht22, &[Waveform::frame(bytes)]);
    let r = dht.read(0).unwrap();
    assert_eq!(r.humidity_permille, 652);
    assert_eq!(r.temperature_decicelsius, -101);
    done(dht);
}

#[test]
fn checksum_error_is_reported_with_both_bytes() {
    let mut bytes = with_checksum([45, 0, 23, 4]);
    bytes[4] ^= 0x01;
    let mut dht = driver(Model::Dht11, &[Waveform::frame(bytes)]);
    let err = dht.read(0).unwrap_err();
    assert_eq!(
        err,
        Error::Checksum {
            expected: 72,
            actual: 73
        }
    );
    assert_eq!(err.kind(), ErrorKind::Checksum);
    assert_eq!(dht.last_reading(), None);
    done(dht);
}

#[test]
fn line_stuck_high_mid_frame_times_out_at_that_bit() {
    let bytes = with_checksum([45, 0, 23, 4]);
    let w = Waveform::truncated(bytes, 12, Some(true));
    let mut dht = driver(Model::Dht11, &[w]);
    let err = dht.read(0).unwrap_err();
    // Bit 12's low pulse was never driven: the line stays high from bit 11's high pulse on.
    assert_eq!(
        err,
        Error::Timeout {
            stage: Stage::BitHigh(11)
        }
    );
    assert_eq!(err.kind(), ErrorKind::Timeout);
    done(dht);
}

#[test]
fn line_stuck_low_during_response_times_out() {
    let w = Waveform::truncated([0; 5], 0, Some(false));
    // Segments: 30 µs high, 80 low, 80 high, then low forever: the response high ends,
    // then the first bit's low never does.
    let mut dht = driver(Model::Dht11, &[w]);
    assert_eq!(
        dht.read(0),
        Err(Error::Timeout {
            stage: Stage::BitLow(0)
        })
    );
    done(dht);
}

#[test]
fn silent_sensor_is_no_response() {
    let mut dht = driver(Model::Dht11, &[Waveform::silent()]);
    let err = dht.read(0).unwrap_err();
    assert_eq!(err, Error::NoResponse);
    assert_eq!(err.kind(), ErrorKind::Timeout);
    done(dht);
}

#[test]
fn minimum_interval_is_enforced_without_touching_the_line() {
    let first = with_checksum([40, 0, 20, 0]);
    let second = with_checksum([41, 0, 21, 5]);
    // Only two transfers are recorded: the too-soon read must not use the pin.
    let mut dht = driver(
        Model::Dht11,
        &[Waveform::frame(first), Waveform::frame(second)],
    );
    assert_eq!(dht.read(10_000).unwrap().humidity_permille, 400);
    let err = dht.read(10_400).unwrap_err();
    assert_eq!(err, Error::TooSoon { retry_in_ms: 600 });
    assert_eq!(err.kind(), ErrorKind::NotReady);
    // The last reading stays available meanwhile.
    assert_eq!(dht.last_reading().map(|(_, at)| at), Some(10_000));
    assert_eq!(dht.read(11_000).unwrap().temperature_decicelsius, 215);
    done(dht);
}

#[test]
fn failed_attempts_count_for_the_interval_too() {
    let mut dht = driver(Model::Dht22, &[Waveform::silent()]);
    assert_eq!(dht.read(0), Err(Error::NoResponse));
    assert_eq!(dht.read(1_999), Err(Error::TooSoon { retry_in_ms: 1 }));
    done(dht);
}

#[test]
fn pin_error_is_a_bus_error() {
    let pin = [
        PinTx::set(State::Low),
        PinTx::set(State::High),
        PinTx::get(State::High),
        PinTx::get(State::High).with_error(MockError::Io(std::io::ErrorKind::BrokenPipe)),
    ];
    let delay = [DelayTx::delay_us(20_000), DelayTx::delay_us(1)];
    let mut dht = Dht::new(PinMock::new(&pin), CheckedDelay::new(&delay), Model::Dht11);
    let err = dht.read(0).unwrap_err();
    assert!(matches!(
        err,
        Error::Pin(MockError::Io(std::io::ErrorKind::BrokenPipe))
    ));
    assert_eq!(err.kind(), ErrorKind::Bus);
    done(dht);
}

#[test]
fn a_smaller_poll_limit_fails_sooner() {
    // With 60 polls, the 80 µs response low is already "stuck".
    let bytes = with_checksum([45, 0, 23, 4]);
    let w = Waveform::frame(bytes);
    let n = samples_until_end(&w, 60);
    let mut pin = vec![PinTx::set(State::Low), PinTx::set(State::High)];
    pin.extend((0..n).map(|t| {
        PinTx::get(if w.level_at(t) {
            State::High
        } else {
            State::Low
        })
    }));
    let mut delay = vec![DelayTx::delay_us(20_000)];
    delay.extend((1..n).map(|_| DelayTx::delay_us(1)));
    let mut dht =
        Dht::new(PinMock::new(&pin), CheckedDelay::new(&delay), Model::Dht11).with_max_polls(60);
    assert_eq!(
        dht.read(0),
        Err(Error::Timeout {
            stage: Stage::ResponseLow
        })
    );
    done(dht);
}
