//! `Config::validate`: each setting that would make the runtime misbehave is refused with its own error, and
//! `Runtime::new` refuses such a configuration before anything runs.

mod common;

use common::*;
use iot_runtime::testing::{RecordingActuators, SplitMix64, VirtualClock};
use iot_runtime::{Config, ConfigError, Runtime, MAX_KEEP_ALIVE_SECS};

fn refused(edit: impl FnOnce(&mut Config<'static>)) -> ConfigError {
    let mut config = config();
    edit(&mut config);
    match config.validate() {
        Err(e) => e,
        Ok(()) => panic!("the configuration was accepted"),
    }
}

#[test]
fn the_defaults_are_valid_and_the_keep_alive_range_is_inclusive() {
    assert_eq!(config().validate(), Ok(()));
    for secs in [1, MAX_KEEP_ALIVE_SECS] {
        let mut config = config();
        config.keep_alive_secs = secs;
        assert_eq!(config.validate(), Ok(()), "keep-alive {secs} s");
    }
    let mut config = config();
    (config.backoff_min_ms, config.backoff_max_ms) = (7_000, 7_000);
    assert_eq!(config.validate(), Ok(()), "a fixed back-off");
}

#[test]
fn each_bad_setting_has_its_own_error() {
    assert_eq!(
        refused(|c| c.firmware_version = ""),
        ConfigError::EmptyFirmwareVersion
    );
    assert_eq!(
        refused(|c| c.initial.report_interval_ms = 0),
        ConfigError::ZeroReportInterval
    );
    for secs in [0, MAX_KEEP_ALIVE_SECS + 1, u16::MAX] {
        assert_eq!(
            refused(|c| c.keep_alive_secs = secs),
            ConfigError::KeepAlive { secs }
        );
    }
    assert_eq!(
        refused(|c| c.backoff_min_ms = 0),
        ConfigError::Backoff {
            min_ms: 0,
            max_ms: config().backoff_max_ms
        }
    );
    assert_eq!(
        refused(|c| (c.backoff_min_ms, c.backoff_max_ms) = (10_000, 9_999)),
        ConfigError::Backoff {
            min_ms: 10_000,
            max_ms: 9_999
        }
    );
    assert_eq!(
        refused(|c| c.reply_timeout_ms = 0),
        ConfigError::ZeroReplyTimeout
    );
    assert_eq!(refused(|c| c.max_in_flight = 0), ConfigError::ZeroInFlight);
}

#[test]
fn the_messages_name_the_setting_and_the_fix() {
    let keep_alive = refused(|c| c.keep_alive_secs = 901).to_string();
    assert!(
        keep_alive.contains("901 s") && keep_alive.contains("1..=900"),
        "{keep_alive}"
    );
    let backoff = refused(|c| (c.backoff_min_ms, c.backoff_max_ms) = (5, 4)).to_string();
    assert!(
        backoff.contains("5..4 ms") && backoff.contains("backoff_min_ms <= backoff_max_ms"),
        "{backoff}"
    );
    let in_flight = refused(|c| c.max_in_flight = 0).to_string();
    assert!(in_flight.contains("at least 1"), "{in_flight}");
}

#[test]
fn runtime_new_refuses_an_invalid_configuration() {
    big_stack(|| {
        let clock = VirtualClock::new(0);
        let mut config = config();
        config.reply_timeout_ms = 0;
        type Plain<'c> = Runtime<
            'static,
            Mock<'c>,
            iot_runtime::testing::ScriptedSensors,
            RecordingActuators,
            &'c VirtualClock,
            SplitMix64,
            (),
            4,
            256,
        >;
        let result = Plain::new(
            config,
            Mock::new(&clock, cloud()),
            scripted(),
            RecordingActuators::default(),
            &clock,
            SplitMix64(7),
        );
        assert_eq!(result.err(), Some(ConfigError::ZeroReplyTimeout));
    });
}
