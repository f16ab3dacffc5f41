//! The ADS1115 adapter against recorded I²C transactions (register values from
//! the ADS1115 datasheet, §8.6: config 0x8583 at reset).
#![cfg(feature = "ads1x1x")]

use ads1x1x::{FullScaleRange, TargetAddr};
use embedded_hal::i2c::ErrorKind as I2cErrorKind;
use embedded_hal_mock::eh1::i2c::{Mock, Transaction as I2c};
use sensors::adc::ads1115::{Ads1115, Ads1115Error, Ads1115Input};
use sensors::adc::AnalogInput;
use sensors::{Error as _, ErrorKind};

const ADDR: u8 = 0x48;
const CONFIG: u8 = 0x01;
const CONVERSION: u8 = 0x00;
/// Reset config with PGA = 000 (±6.144 V).
const FSR_6V: u16 = 0x8583 & !0x0E00;
/// ... and MUX = 100 (AIN0 against GND).
const A0_IDLE: u16 = FSR_6V | 0x4000;
/// OS bit clear: conversion in progress.
const A0_BUSY: u16 = A0_IDLE & !0x8000;

fn be(v: u16) -> Vec<u8> {
    v.to_be_bytes().to_vec()
}

fn write_config(v: u16) -> I2c {
    let [hi, lo] = v.to_be_bytes();
    I2c::write(ADDR, vec![CONFIG, hi, lo])
}

fn one_shot(counts: i16) -> Vec<I2c> {
    vec![
        // Not busy: start a conversion on AIN0.
        I2c::write_read(ADDR, vec![CONFIG], be(FSR_6V)),
        write_config(A0_IDLE),
        // Busy once, then done: read the result.
        I2c::write_read(ADDR, vec![CONFIG], be(A0_BUSY)),
        I2c::write_read(ADDR, vec![CONFIG], be(A0_IDLE)),
        I2c::write_read(ADDR, vec![CONVERSION], counts.to_be_bytes().to_vec()),
    ]
}

#[test]
fn one_shot_read_in_millivolts() {
    let mut tx = vec![write_config(FSR_6V)];
    tx.extend(one_shot(16_384));
    let adc = Ads1115::new(
        Mock::new(&tx),
        TargetAddr::default(),
        FullScaleRange::Within6_144V,
    )
    .unwrap();
    let mut a0 = adc.channel(Ads1115Input::A0);
    // 16384 / 32768 × 6144 mV
    assert_eq!(a0.read_millivolts().unwrap(), 3072.0);
    adc.release().done();
}

#[test]
fn full_scale_code_is_clipped_not_a_value() {
    let mut tx = vec![write_config(FSR_6V)];
    tx.extend(one_shot(i16::MAX));
    let adc = Ads1115::new(
        Mock::new(&tx),
        TargetAddr::default(),
        FullScaleRange::Within6_144V,
    )
    .unwrap();
    let err = adc.channel(Ads1115Input::A0).read_millivolts().unwrap_err();
    assert_eq!(
        err,
        Ads1115Error::Clipped {
            full_scale_mv: 6144.0
        }
    );
    assert_eq!(err.kind(), ErrorKind::OutOfRange);
    adc.release().done();
}

#[test]
fn a_conversion_that_never_ends_times_out() {
    let mut tx = vec![
        write_config(FSR_6V),
        I2c::write_read(ADDR, vec![CONFIG], be(FSR_6V)),
        write_config(A0_IDLE),
    ];
    // The poll that starts the conversion counts too: start, busy, busy → 3 > 2.
    tx.extend((0..2).map(|_| I2c::write_read(ADDR, vec![CONFIG], be(A0_BUSY))));
    let adc = Ads1115::new(
        Mock::new(&tx),
        TargetAddr::default(),
        FullScaleRange::Within6_144V,
    )
    .unwrap()
    .with_max_polls(2);
    let err = adc.channel(Ads1115Input::A0).read_millivolts().unwrap_err();
    assert_eq!(err, Ads1115Error::Timeout { polls: 3 });
    assert_eq!(err.kind(), ErrorKind::Timeout);
    adc.release().done();
}

#[test]
fn bus_errors_are_bus_kind() {
    let mut tx = vec![write_config(FSR_6V)];
    tx.push(I2c::write_read(ADDR, vec![CONFIG], be(FSR_6V)).with_error(I2cErrorKind::Bus));
    let adc = Ads1115::new(
        Mock::new(&tx),
        TargetAddr::default(),
        FullScaleRange::Within6_144V,
    )
    .unwrap();
    let err = adc.channel(Ads1115Input::A0).read_millivolts().unwrap_err();
    assert_eq!(err, Ads1115Error::I2c(I2cErrorKind::Bus));
    assert_eq!(err.kind(), ErrorKind::Bus);
    adc.release().done();
}
