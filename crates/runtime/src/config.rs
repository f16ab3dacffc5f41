//! What a device is and how its runtime behaves: identity, thing model, defaults, timeouts, back-off.

use iot_core::credentials::{DeviceIdentity, SdkAppId, SignMethod, DEFAULT_TTL_SECS};
use iot_core::model::ThingModel;

/// Property id of the report period, in seconds (a `rw` int of the environment-monitor model).
pub const REPORT_INTERVAL: &str = "report_interval";
/// Property id of the smoke alarm threshold, in ppm.
pub const SMOKE_THRESHOLD: &str = "smoke_threshold";
/// Property id of the alarm switch.
pub const ALARM_ENABLED: &str = "alarm_enabled";
/// Event posted when smoke crosses the threshold (type `alert`; params `sensor`, `value`, `threshold`).
pub const GAS_ALARM: &str = "gas_alarm";
/// Event posted when a sensor starts failing (type `fault`; params `sensor`, `error_code`).
pub const SENSOR_FAULT: &str = "sensor_fault";
/// Action that recalibrates one gas sensor (input `sensor`; outputs `r0` in kΩ and `result`).
pub const CALIBRATE: &str = "calibrate";

/// The cloud accepts at most one CONNECT per device every 5 s (protocol.md §3.5, §11.9). The runtime never
/// connects more often, whatever the back-off settings say.
pub const MIN_CONNECT_SPACING_MS: u64 = 5_000;

/// Largest keep-alive the cloud accepts, in seconds (protocol.md §3.5).
pub const MAX_KEEP_ALIVE_SECS: u16 = 900;

/// How the expiry in the MQTT username is chosen on every connect (protocol.md §3.2, §10.2, §11.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ExpiryPolicy {
    /// Now + `secs`, from the time synced over `$sys` or the platform's wall clock. Before any wall clock is known
    /// (a first connect without a real-time clock) the runtime signs with "never" instead.
    Ttl {
        /// Lifetime of each signature, in seconds.
        secs: u64,
    },
    /// Always `2147483647`, for devices without a reliable clock.
    Never,
}

/// The values of the runtime's controllable properties (`report_interval`, `smoke_threshold`, `alarm_enabled`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Settings {
    /// Milliseconds between two reports. Controls set it in whole seconds (the model's `report_interval`, 1 to
    /// 3600 s); a shorter period can be configured at boot for tests, and is reported as 1 s.
    pub report_interval_ms: u32,
    /// MQ-2 reading above which `gas_alarm` is posted, in ppm.
    pub smoke_threshold_ppm: u32,
    /// Whether `gas_alarm` is posted and the alarm output driven at all.
    pub alarm_enabled: bool,
}

/// Everything the runtime needs to know before it starts. Build it with [`Config::new`], then change fields.
///
/// The PSK lives inside `identity` and is never logged.
#[derive(Debug, Clone)]
pub struct Config<'a> {
    /// `ProductId`, `DeviceName` and PSK, validated.
    pub identity: DeviceIdentity<'a>,
    /// sdkappid in the username (protocol.md §11.1); default [`SdkAppId::DEFAULT`].
    pub sdk_app_id: SdkAppId,
    /// HMAC of the password (protocol.md §11.2); default HMAC-SHA256.
    pub sign_method: SignMethod,
    /// Expiry of each signature; default a TTL of [`DEFAULT_TTL_SECS`].
    pub expiry: ExpiryPolicy,
    /// MQTT keep-alive, 1 to 900 s (protocol.md §3.5); default 240 s, as the C SDK's data template.
    pub keep_alive_secs: u16,
    /// The product's thing model, used to validate controls and actions and to clamp reported values.
    pub model: ThingModel<'a>,
    /// Firmware version sent as `fw_ver` in `report_info` (protocol.md §4.3).
    pub firmware_version: &'a str,
    /// Settings at boot; default the model's `start` values (`report_interval` 5 s, `smoke_threshold` 1000 ppm) and
    /// `alarm_enabled` on.
    pub initial: Settings,
    /// The alarm re-arms only once smoke falls below `smoke_threshold − alarm_hysteresis_ppm`; default 100 ppm.
    pub alarm_hysteresis_ppm: u32,
    /// How long to wait for a reply (`report_reply`, `event_reply`, `get_status_reply`, the time answer) before
    /// sending the request again; default 5 s.
    pub reply_timeout_ms: u32,
    /// How many times a request is sent again after a reply timeout before it is given up; default 3.
    pub max_retries: u8,
    /// First reconnect delay, before jitter; default 5 s.
    pub backoff_min_ms: u32,
    /// Largest reconnect delay (the cap); default 60 s.
    pub backoff_max_ms: u32,
    /// A connection that lasted this long resets the back-off; shorter ones keep growing it. Default 30 s.
    pub stable_after_ms: u32,
    /// Queued messages published but not yet answered, at most; default 4.
    pub max_in_flight: u8,
    /// Least time between two publishes from the offline queue; default 100 ms, which keeps a flush under the
    /// cloud's 10 QoS 1 messages per second (protocol.md §3.5). A local hub can take 0.
    pub publish_spacing_ms: u32,
}

/// Why a [`Config`] cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ConfigError {
    /// `firmware_version` is empty.
    #[error("firmware_version is empty; report_info requires fw_ver (protocol.md §4.3)")]
    EmptyFirmwareVersion,
    /// `initial.report_interval_ms` is 0.
    #[error("report interval is 0 ms; use at least 1 ms (controls allow 1 s to 3600 s)")]
    ZeroReportInterval,
    /// `keep_alive_secs` is outside 1..=900.
    #[error("keep-alive of {secs} s is outside 1..=900 s, the range the cloud accepts (protocol.md §3.5)")]
    KeepAlive {
        /// The value given.
        secs: u16,
    },
    /// `backoff_min_ms` is 0 or above `backoff_max_ms`.
    #[error("back-off {min_ms}..{max_ms} ms is empty; set 0 < backoff_min_ms <= backoff_max_ms")]
    Backoff {
        /// The first delay.
        min_ms: u32,
        /// The cap.
        max_ms: u32,
    },
    /// `reply_timeout_ms` is 0.
    #[error("reply timeout is 0 ms; give replies time to arrive (5000 ms is the default)")]
    ZeroReplyTimeout,
    /// `max_in_flight` is 0.
    #[error("max_in_flight is 0, so nothing queued could ever be sent; use at least 1")]
    ZeroInFlight,
}

impl<'a> Config<'a> {
    /// A configuration with the project defaults (protocol.md §11) and the model's start values.
    pub fn new(
        identity: DeviceIdentity<'a>,
        model: ThingModel<'a>,
        firmware_version: &'a str,
    ) -> Self {
        let start = |id: &str, default: u32| {
            model
                .property(id)
                .and_then(|p| p.data_type().start())
                .filter(|v| v.is_finite() && *v >= 0.0 && *v <= f64::from(u32::MAX))
                // In range (checked above): the cast keeps the value, rounding a fraction down.
                .map_or(default, |v| v as u32)
        };
        Self {
            identity,
            sdk_app_id: SdkAppId::DEFAULT,
            sign_method: SignMethod::HmacSha256,
            expiry: ExpiryPolicy::Ttl {
                secs: DEFAULT_TTL_SECS,
            },
            keep_alive_secs: 240,
            model,
            firmware_version,
            initial: Settings {
                report_interval_ms: start(REPORT_INTERVAL, 5).max(1).saturating_mul(1000),
                smoke_threshold_ppm: start(SMOKE_THRESHOLD, 1000),
                alarm_enabled: true,
            },
            alarm_hysteresis_ppm: 100,
            reply_timeout_ms: 5_000,
            max_retries: 3,
            backoff_min_ms: 5_000,
            backoff_max_ms: 60_000,
            stable_after_ms: 30_000,
            max_in_flight: 4,
            publish_spacing_ms: 100,
        }
    }

    /// Checks the values that would make the runtime misbehave.
    ///
    /// # Errors
    /// The first [`ConfigError`] found.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.firmware_version.is_empty() {
            return Err(ConfigError::EmptyFirmwareVersion);
        }
        if self.initial.report_interval_ms == 0 {
            return Err(ConfigError::ZeroReportInterval);
        }
        if self.keep_alive_secs == 0 || self.keep_alive_secs > MAX_KEEP_ALIVE_SECS {
            return Err(ConfigError::KeepAlive {
                secs: self.keep_alive_secs,
            });
        }
        if self.backoff_min_ms == 0 || self.backoff_min_ms > self.backoff_max_ms {
            return Err(ConfigError::Backoff {
                min_ms: self.backoff_min_ms,
                max_ms: self.backoff_max_ms,
            });
        }
        if self.reply_timeout_ms == 0 {
            return Err(ConfigError::ZeroReplyTimeout);
        }
        if self.max_in_flight == 0 {
            return Err(ConfigError::ZeroInFlight);
        }
        Ok(())
    }
}
