//! The traits a platform implements besides the transport and the sensors: a clock, the actuators, and an
//! observer that sees what the runtime does.

use iot_core::codec::{Method, ParamView, ReplyCode};
use iot_transport::ErrorKind;
use sensors::suite::{EnvSample, SensorFault};

use crate::config::Settings;

/// Time for the runtime: a monotonic millisecond counter and a way to wait for a moment on it.
///
/// On embassy: `now_ms` is `Instant::now().as_millis()` and `sleep_until` is
/// `Timer::at(Instant::from_millis(ms)).await`. On a host: milliseconds since start and `tokio::time::sleep_until`.
#[allow(async_fn_in_trait)] // as embedded-hal-async: no `Send` bound, executors are local
pub trait Clock {
    /// Milliseconds since an arbitrary start; never goes backwards.
    fn now_ms(&self) -> u64;

    /// Returns once [`now_ms`](Self::now_ms) has reached `deadline_ms` (at once if it already has). Must be
    /// cancel-safe: the runtime races it against `receive`.
    async fn sleep_until(&self, deadline_ms: u64);

    /// Unix time in milliseconds from a platform clock (an RTC, the host's system time), if there is one. Used
    /// until the first `$sys` time sync (protocol.md §6.2) has answered; the synced time wins afterwards.
    fn unix_time_ms(&self) -> Option<u64> {
        None
    }
}

/// Why a control could not be applied by [`Actuators::apply_control`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ControlError {
    /// The firmware does not handle this property.
    #[error(
        "this firmware does not handle the property; implement Actuators::apply_control for it"
    )]
    Unsupported,
    /// The output could not be driven.
    #[error("the output could not be set; check the hardware")]
    Failed,
}

/// The device's outputs: the alarm, and any controllable property the runtime does not own.
#[allow(async_fn_in_trait)]
pub trait Actuators {
    /// Drive the alarm output (buzzer, LED, relay): on when `gas_alarm` is raised, off when smoke falls back below
    /// the threshold minus the hysteresis or when `alarm_enabled` is switched off.
    async fn set_alarm(&mut self, on: bool);

    /// Apply one property of a validated `control` that is not `report_interval`, `smoke_threshold` or
    /// `alarm_enabled` (the runtime applies those itself). The default refuses, so the cloud learns that the
    /// firmware does not handle it (`control_reply` code −1).
    ///
    /// # Errors
    /// [`ControlError`] when the value could not be applied.
    async fn apply_control(&mut self, id: &str, value: ParamView<'_>) -> Result<(), ControlError> {
        let _ = (id, value);
        Err(ControlError::Unsupported)
    }
}

/// Which offline-queue message something happened to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum MessageKind {
    /// A `report` on `$thing/up/property`.
    Report,
    /// An `event_post` on `$thing/up/event`.
    Event,
}

/// Something the runtime did or saw, for logs and displays. Borrowed data lives only for the call.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum RuntimeEvent<'a> {
    /// A CONNECT is about to be sent.
    Connecting {
        /// 1 for the first attempt after a loss, then 2, 3, …
        attempt: u32,
    },
    /// CONNECT, every SUBSCRIBE and nothing else failed: the session is up.
    Connected,
    /// The CONNECT or a SUBSCRIBE failed.
    ConnectFailed {
        /// Why.
        error: ErrorKind,
        /// When the next attempt is due, on the runtime's clock.
        retry_at_ms: u64,
    },
    /// An established connection was lost.
    Disconnected {
        /// Why.
        error: ErrorKind,
        /// When the next attempt is due.
        retry_at_ms: u64,
    },
    /// A message was published (and, at QoS 1, acknowledged by the broker).
    Published {
        /// Its topic.
        topic: &'a str,
        /// Its payload, JSON.
        payload: &'a [u8],
    },
    /// A message arrived.
    Received {
        /// Its topic.
        topic: &'a str,
        /// Its payload.
        payload: &'a [u8],
    },
    /// The sensors were read.
    Sampled {
        /// What they read.
        sample: &'a EnvSample,
    },
    /// A report or event was put in the offline queue.
    Queued {
        /// Which.
        kind: MessageKind,
        /// Its `clientToken`.
        client_token: &'a str,
        /// Messages in the queue now.
        queue_len: usize,
    },
    /// The queue was full: its oldest message was dropped to make room.
    DroppedOldest {
        /// Messages dropped this way since boot.
        total: u32,
    },
    /// A queued message got its reply; it left the queue.
    Answered {
        /// `report_reply`, `event_reply` or `events_reply`.
        method: Method,
        /// Its code: 0 accepted, anything else refused (the message is not sent again).
        code: ReplyCode,
        /// The request's `clientToken`.
        client_token: &'a str,
    },
    /// A queued message was sent [`Config::max_retries`](crate::Config::max_retries) + 1 times without a reply
    /// and was given up.
    GaveUp {
        /// Which.
        kind: MessageKind,
        /// Its `clientToken`.
        client_token: &'a str,
    },
    /// A `control` was answered.
    Control {
        /// The reply code: 0 applied, 403/406 refused by the thing model (nothing applied), −1 the firmware failed.
        code: ReplyCode,
        /// The `params` object as received.
        params: &'a str,
    },
    /// A pending control from `get_status_reply` was handled (and will be cleared).
    PendingControl {
        /// As for [`RuntimeEvent::Control`].
        code: ReplyCode,
        /// `data.control` as received.
        params: &'a str,
    },
    /// An `action` was answered.
    Action {
        /// Its `actionId`.
        action_id: &'a str,
        /// The reply code.
        code: ReplyCode,
    },
    /// The `$sys` time answer arrived (protocol.md §6.2).
    TimeSynced {
        /// Unix time in ms when it arrived.
        unix_ms: u64,
    },
    /// A control changed the runtime's settings (persist them here if they should survive a reboot).
    SettingsChanged {
        /// The new settings.
        settings: Settings,
    },
    /// `gas_alarm` was raised.
    AlarmRaised {
        /// The MQ-2 reading, ppm.
        value_ppm: u32,
        /// The threshold it exceeded.
        threshold_ppm: u32,
    },
    /// The alarm re-armed (smoke fell below the threshold minus the hysteresis, or the alarm was disabled).
    AlarmCleared,
    /// A sensor started failing; `sensor_fault` was queued.
    SensorFault {
        /// Which sensor and how.
        fault: SensorFault,
    },
    /// A message that could not be handled: not JSON, a required field missing, a foreign topic.
    Ignored {
        /// Its topic.
        topic: &'a str,
    },
}

/// Sees every [`RuntimeEvent`]. The default does nothing; `()` is the observer that ignores everything.
pub trait Observer {
    /// Called as things happen; keep it short, the loop waits for it.
    fn on_event(&mut self, event: &RuntimeEvent<'_>) {
        let _ = event;
    }
}

impl Observer for () {}

impl<O: Observer + ?Sized> Observer for &mut O {
    fn on_event(&mut self, event: &RuntimeEvent<'_>) {
        (**self).on_event(event);
    }
}

/// An [`Observer`] from a closure: `ObserverFn(|e: &RuntimeEvent<'_>| println!("{e:?}"))`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ObserverFn<F>(pub F);

impl<F: FnMut(&RuntimeEvent<'_>)> Observer for ObserverFn<F> {
    fn on_event(&mut self, event: &RuntimeEvent<'_>) {
        (self.0)(event);
    }
}

impl<C: Clock + ?Sized> Clock for &C {
    fn now_ms(&self) -> u64 {
        (**self).now_ms()
    }

    async fn sleep_until(&self, deadline_ms: u64) {
        (**self).sleep_until(deadline_ms).await;
    }

    fn unix_time_ms(&self) -> Option<u64> {
        (**self).unix_time_ms()
    }
}

impl<A: Actuators + ?Sized> Actuators for &mut A {
    async fn set_alarm(&mut self, on: bool) {
        (**self).set_alarm(on).await;
    }

    async fn apply_control(&mut self, id: &str, value: ParamView<'_>) -> Result<(), ControlError> {
        (**self).apply_control(id, value).await
    }
}
