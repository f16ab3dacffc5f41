//! The sans-IO core: every protocol decision of the runtime, as plain functions of the current time and of what
//! arrived. It never awaits; [`crate::Runtime`] asks it what to do next ([`Core::poll`]), does it, and reports
//! back.

use core::fmt::Write as _;

use heapless::{String, Vec};
use iot_core::codec::{
    ClearControl, CodecError, Encode, Event, EventPost, EventType, GetStatus, GetStatusReplyView,
    Method, Param, ParamValue, ParamView, ParamsView, ReplyCode, ReplyView, Report, ReportInfo,
    TimeRequest, TimeView,
};
use iot_core::credentials::{ConnId, CredentialsError, Expiry, MqttCredentials, SignOptions};
use iot_core::model::ThingModel;
use iot_core::topic::TopicKind;
use iot_transport::{ConnectRefusal, ErrorKind, QoS};
use sensors::suite::{EnvSample, SensorFault, SensorId, SuiteError};
use sensors::ErrorKind as SensorErrorKind;

use crate::backoff::Backoff;
use crate::config::{
    Config, ExpiryPolicy, Settings, ALARM_ENABLED, GAS_ALARM, REPORT_INTERVAL, SENSOR_FAULT,
    SMOKE_THRESHOLD,
};
use crate::platform::{MessageKind, Observer, RuntimeEvent};
use crate::queue::{Entry, OfflineQueue};

/// Bytes of a `clientToken` the runtime makes: `{boot id, 8 hex digits}-{sequence number}`.
pub const TOKEN_CAPACITY: usize = 8 + 1 + 10;

/// A `clientToken` made by the runtime.
pub type Token = String<TOKEN_CAPACITY>;

/// Longest topic the runtime builds: `$sys/operation/result/` plus the longest product id and device name.
pub(crate) const TOPIC_CAPACITY: usize = 128;

/// Status messages in replies.
pub(crate) type Status = String<96>;

/// The token of message `seq` in the boot `boot_id`. Tokens are unique per boot and, with a random boot id,
/// across reboots, so a receiver that drops repeated tokens never drops a new message.
#[must_use]
pub fn client_token(boot_id: u32, seq: u32) -> Token {
    let mut token = Token::new();
    // Cannot fail: 8 + 1 + 10 digits fit TOKEN_CAPACITY.
    let _ = write!(token, "{boot_id:08x}-{seq}");
    token
}

/// The sequence number of a token made by [`client_token`] in boot `boot_id`.
#[must_use]
pub fn parse_client_token(boot_id: u32, token: &str) -> Option<u32> {
    let (boot, seq) = token.split_once('-')?;
    if boot.len() != 8 || u32::from_str_radix(boot, 16).ok()? != boot_id {
        return None;
    }
    if seq.is_empty() || !seq.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    seq.parse().ok()
}

/// Counters since boot.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Stats {
    /// Sessions established (CONNECT and every SUBSCRIBE succeeded).
    pub connects: u32,
    /// CONNECT attempts that failed (or whose SUBSCRIBEs failed).
    pub connect_failures: u32,
    /// Established sessions that were lost.
    pub disconnects: u32,
    /// Sensor samples taken.
    pub samples: u32,
    /// Reports accepted into the queue.
    pub reports_queued: u32,
    /// Events accepted into the queue.
    pub events_queued: u32,
    /// Publishes of queued messages, resends included.
    pub published: u32,
    /// Queued messages sent again after a reply timeout.
    pub resent: u32,
    /// Queued messages answered with code 0.
    pub answered: u32,
    /// Queued messages answered with an error code (not sent again).
    pub refused: u32,
    /// Queued messages dropped because the queue was full (the oldest goes).
    pub dropped_oldest: u32,
    /// Queued messages given up after `max_retries` resends without a reply.
    pub gave_up: u32,
    /// Messages that could not be sent at all: larger than a queue slot or refused by the transport.
    pub undeliverable: u32,
    /// Controls applied (pending controls included).
    pub controls_applied: u32,
    /// Controls refused (403/406 by the thing model, or −1 from the firmware).
    pub controls_refused: u32,
    /// Actions answered.
    pub actions: u32,
    /// Received messages that were not understood or not for this device.
    pub ignored: u32,
}

/// A request of the connect sequence (time sync, `get_status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Request {
    /// To be sent; `attempts` sends went unanswered before.
    Due { attempts: u8 },
    /// Sent at `sent_at`, waiting for the answer.
    Waiting { sent_at: u64, attempts: u8 },
    /// Answered or given up.
    Done,
}

/// The state of one established session (protocol.md §4.3, §6.2, §10.8).
#[derive(Debug, Clone, Copy)]
struct Session {
    connected_at: u64,
    info_due: bool,
    info_seq: u32,
    time: Request,
    status: Request,
    status_seq: u32,
    /// `clear_control` to send, with the `get_status` token.
    clear: Option<u32>,
}

#[derive(Debug, Clone, Copy)]
enum Link {
    Down { next_attempt_at: u64 },
    Up(Session),
}

/// Something the core wants published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outgoing {
    ReportInfo,
    TimeRequest,
    GetStatus,
    ClearControl(u32),
    Queued(u32),
}

/// What the loop should do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// Read the sensors now.
    Sample,
    /// Send a CONNECT now.
    Connect,
    /// Publish this now.
    Send(Outgoing),
    /// Nothing is due before this time (receive meanwhile, when connected).
    Wait(u64),
}

/// Why a control is refused before anything is applied.
#[derive(Debug)]
pub(crate) struct Refusal {
    pub(crate) code: ReplyCode,
    pub(crate) status: Status,
}

/// What [`Core::apply_setting`] did with one property.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Setting {
    /// The runtime owns it and applied it.
    Applied,
    /// The runtime owns it but the value does not fit (a model with a different type for it).
    Invalid,
    /// Not a runtime property: the firmware applies it.
    NotOwned,
}

/// The runtime's state and decisions.
#[derive(Debug)]
pub(crate) struct Core<'a, const N: usize, const SLOT: usize> {
    pub(crate) config: Config<'a>,
    settings: Settings,
    boot_id: u32,
    next_seq: u32,
    pub(crate) queue: OfflineQueue<N, SLOT>,
    link: Link,
    backoff: Backoff,
    /// Unix ms minus monotonic ms, from the last time sync.
    clock_offset_ms: Option<i64>,
    alarm_armed: bool,
    alarm_active: bool,
    /// One bit per [`SensorId`] currently failing.
    faulted: u8,
    next_sample_at: u64,
    last_sample_at: Option<u64>,
    last_queue_publish_at: Option<u64>,
    pub(crate) stats: Stats,
}

fn sensor_bit(sensor: SensorId) -> u8 {
    match sensor {
        SensorId::Mq2 => 1,
        SensorId::Mq4 => 2,
        SensorId::Mq7 => 4,
        SensorId::Mq135 => 8,
        SensorId::Dht11 => 16,
    }
}

/// `value` clamped to the model's `min`..`max` for property `id`; `None` when the model has no such property.
fn clamp_to_model(model: &ThingModel<'_>, id: &str, value: i64) -> Option<i64> {
    let ty = model.property(id)?.data_type();
    let mut v = value;
    // Limits of int properties are integers; `as` saturates anything out of i64 range.
    if let Some(min) = ty.min().filter(|m| m.is_finite()) {
        v = v.max(min as i64);
    }
    if let Some(max) = ty.max().filter(|m| m.is_finite()) {
        v = v.min(max as i64);
    }
    Some(v)
}

/// The model's type for event `id` as the codec writes it, if the model defines the event.
fn event_type(model: &ThingModel<'_>, id: &str) -> Option<EventType> {
    EventType::parse(model.event(id)?.event_type().as_str())
}

/// Whether an error of this kind means the connection is gone (rather than one message being unsendable).
pub(crate) fn is_link_error(kind: ErrorKind) -> bool {
    !matches!(kind, ErrorKind::PayloadTooLarge | ErrorKind::UnsupportedQoS)
}

impl<'a, const N: usize, const SLOT: usize> Core<'a, N, SLOT> {
    /// A core for a validated `config`, booted at `now` with a random `boot_id`. The first sample and the first
    /// CONNECT are due at once.
    pub(crate) fn new(config: Config<'a>, boot_id: u32, now: u64) -> Self {
        Self {
            settings: config.initial,
            backoff: Backoff::new(config.backoff_min_ms, config.backoff_max_ms),
            config,
            boot_id,
            next_seq: 0,
            queue: OfflineQueue::new(),
            link: Link::Down {
                next_attempt_at: now,
            },
            clock_offset_ms: None,
            alarm_armed: true,
            alarm_active: false,
            faulted: 0,
            next_sample_at: now,
            last_sample_at: None,
            last_queue_publish_at: None,
            stats: Stats::default(),
        }
    }

    pub(crate) fn settings(&self) -> Settings {
        self.settings
    }

    pub(crate) fn boot_id(&self) -> u32 {
        self.boot_id
    }

    pub(crate) fn is_connected(&self) -> bool {
        matches!(self.link, Link::Up(_))
    }

    pub(crate) fn alarm_active(&self) -> bool {
        self.alarm_active
    }

    pub(crate) fn next_sample_at(&self) -> u64 {
        self.next_sample_at
    }

    fn alloc_seq(&mut self) -> u32 {
        let seq = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1);
        seq
    }

    /// Unix time in ms at monotonic `now`, from the last time sync.
    pub(crate) fn wall_ms(&self, now: u64) -> Option<u64> {
        let offset = self.clock_offset_ms?;
        u64::try_from(i128::from(now) + i128::from(offset)).ok()
    }

    /// The next thing to do at `now`. Handles reply timeouts on the way. `sampling: false` never asks for a
    /// sample or a CONNECT (used while draining at shutdown).
    pub(crate) fn poll<O: Observer>(
        &mut self,
        now: u64,
        sampling: bool,
        observer: &mut O,
    ) -> Action {
        if sampling && now >= self.next_sample_at {
            return Action::Sample;
        }
        let mut wake = if sampling {
            self.next_sample_at
        } else {
            u64::MAX
        };
        let timeout = u64::from(self.config.reply_timeout_ms);
        let max_retries = self.config.max_retries;
        let session = match &mut self.link {
            Link::Down { next_attempt_at } => {
                if !sampling {
                    return Action::Wait(wake);
                }
                if now >= *next_attempt_at {
                    return Action::Connect;
                }
                return Action::Wait(wake.min(*next_attempt_at));
            }
            Link::Up(session) => session,
        };
        // The connect sequence first (protocol.md §4.3, §6.2, §10.8): report_info, time, get_status, clear_control.
        if session.info_due {
            return Action::Send(Outgoing::ReportInfo);
        }
        for (request, out) in [
            (&mut session.time, Outgoing::TimeRequest),
            (&mut session.status, Outgoing::GetStatus),
        ] {
            match *request {
                Request::Due { .. } => return Action::Send(out),
                Request::Waiting { sent_at, attempts } => {
                    let deadline = sent_at.saturating_add(timeout);
                    if now < deadline {
                        wake = wake.min(deadline);
                    } else if attempts <= max_retries {
                        debug!("no answer to a connect-sequence request, sending it again");
                        *request = Request::Due { attempts };
                        return Action::Send(out);
                    } else {
                        warn!("no answer to a connect-sequence request; giving up");
                        *request = Request::Done;
                    }
                }
                Request::Done => {}
            }
        }
        if let Some(seq) = session.clear {
            return Action::Send(Outgoing::ClearControl(seq));
        }
        // Then the offline queue, oldest first.
        let boot_id = self.boot_id;
        let stats = &mut self.stats;
        let resent = self
            .queue
            .expire(now, timeout, max_retries.saturating_add(1), |entry| {
                stats.gave_up += 1;
                let token = client_token(boot_id, entry.seq);
                warn!("no reply after every retry; giving up {}", token.as_str());
                observer.on_event(&RuntimeEvent::GaveUp {
                    kind: entry.kind,
                    client_token: &token,
                });
            });
        self.stats.resent += resent;
        if let Some(seq) = self
            .queue
            .next_to_send(usize::from(self.config.max_in_flight))
        {
            let ready_at = self.last_queue_publish_at.map_or(now, |t| {
                t.saturating_add(u64::from(self.config.publish_spacing_ms))
            });
            if now >= ready_at {
                return Action::Send(Outgoing::Queued(seq));
            }
            wake = wake.min(ready_at);
        }
        if let Some(t) = self.queue.next_timeout(timeout) {
            wake = wake.min(t);
        }
        Action::Wait(wake)
    }

    // -----------------------------------------------------------------------------------------------------------
    // Connection

    /// Records a CONNECT going out at `now`; returns the attempt number since the last established session.
    pub(crate) fn connecting(&mut self, now: u64) -> u32 {
        self.backoff.connecting(now);
        self.backoff.failures() + 1
    }

    /// Fresh credentials: a new connid and an expiry from the policy (protocol.md §3.2, §11.3). `wall_ms` is the
    /// best Unix time known; without one a TTL policy signs with "never".
    pub(crate) fn sign(
        &self,
        conn_id: ConnId,
        wall_ms: Option<u64>,
    ) -> Result<MqttCredentials, CredentialsError> {
        let expiry = match (self.config.expiry, wall_ms) {
            (ExpiryPolicy::Ttl { secs }, Some(ms)) => Expiry::after(ms / 1000, secs),
            (ExpiryPolicy::Ttl { .. }, None) | (ExpiryPolicy::Never, _) => Expiry::Never,
        };
        let options = SignOptions::new(conn_id, expiry)
            .with_method(self.config.sign_method)
            .with_sdk_app_id(self.config.sdk_app_id);
        self.config.identity.sign(&options)
    }

    /// The session is up at `now`: queue the connect sequence.
    pub(crate) fn connected(&mut self, now: u64) {
        let info_seq = self.alloc_seq();
        let status_seq = self.alloc_seq();
        self.link = Link::Up(Session {
            connected_at: now,
            info_due: true,
            info_seq,
            time: Request::Due { attempts: 0 },
            status: Request::Due { attempts: 0 },
            status_seq,
            clear: None,
        });
        self.stats.connects += 1;
    }

    /// A CONNECT or SUBSCRIBE failed at `now`; returns when the next attempt is due.
    pub(crate) fn connect_failed(&mut self, now: u64, error: ErrorKind, random: u32) -> u64 {
        if matches!(
            error,
            ErrorKind::Refused(ConnectRefusal::BadCredentials | ConnectRefusal::NotAuthorized)
        ) {
            // Fresh signatures will not fix a wrong PSK or a disabled device: try rarely.
            self.backoff.saturate();
        }
        self.stats.connect_failures += 1;
        let at = self.backoff.next_attempt(now, random);
        self.link = Link::Down {
            next_attempt_at: at,
        };
        at
    }

    /// The established session was lost at `now`; returns when the next attempt is due.
    pub(crate) fn link_lost(&mut self, now: u64, random: u32) -> u64 {
        if let Link::Up(session) = self.link {
            if now.saturating_sub(session.connected_at) >= u64::from(self.config.stable_after_ms) {
                self.backoff.reset();
            }
            self.stats.disconnects += 1;
        }
        self.queue.requeue_in_flight();
        let at = self.backoff.next_attempt(now, random);
        self.link = Link::Down {
            next_attempt_at: at,
        };
        at
    }

    /// The runtime disconnected on purpose at `now`; the next CONNECT may go out when the spacing allows.
    pub(crate) fn closed(&mut self, now: u64) {
        self.queue.requeue_in_flight();
        self.link = Link::Down {
            next_attempt_at: now.saturating_add(crate::config::MIN_CONNECT_SPACING_MS),
        };
    }

    // -----------------------------------------------------------------------------------------------------------
    // Sending

    /// Encodes a non-queued message into `buf`: its topic kind, QoS and length.
    pub(crate) fn encode(
        &self,
        out: Outgoing,
        buf: &mut [u8],
    ) -> Result<(TopicKind, QoS, usize), CodecError> {
        let Link::Up(session) = self.link else {
            return Err(CodecError::InvalidField {
                field: "link",
                problem: "is down; nothing is sent without a session",
            });
        };
        match out {
            Outgoing::ReportInfo => {
                let token = client_token(self.boot_id, session.info_seq);
                let info = ReportInfo::new(token.as_str().into(), self.config.firmware_version);
                Ok((TopicKind::PROPERTY_UP, QoS::AtLeastOnce, info.encode(buf)?))
            }
            // protocol.md §6.2 step 2: the time request goes out at QoS 0.
            Outgoing::TimeRequest => Ok((
                TopicKind::SysOperation,
                QoS::AtMostOnce,
                TimeRequest.encode(buf)?,
            )),
            Outgoing::GetStatus => {
                let token = client_token(self.boot_id, session.status_seq);
                // The C SDK's form: method and token only (protocol.md §4.3 "get_status").
                let request = GetStatus {
                    client_token: token.as_str().into(),
                    status_type: None,
                    show_meta: None,
                };
                Ok((
                    TopicKind::PROPERTY_UP,
                    QoS::AtLeastOnce,
                    request.encode(buf)?,
                ))
            }
            Outgoing::ClearControl(seq) => {
                // protocol.md §10.8, §11.10: the same clientToken as the get_status whose control was applied.
                let token = client_token(self.boot_id, seq);
                let clear = ClearControl {
                    client_token: token.as_str().into(),
                };
                Ok((TopicKind::PROPERTY_UP, QoS::AtLeastOnce, clear.encode(buf)?))
            }
            Outgoing::Queued(_) => Err(CodecError::InvalidField {
                field: "queue",
                problem: "messages are sent from their slot",
            }),
        }
    }

    /// A queued message's topic kind and payload.
    pub(crate) fn queued(&self, seq: u32) -> Option<(TopicKind, &[u8])> {
        let entry = self.queue.get(seq)?;
        let kind = match entry.kind {
            MessageKind::Report => TopicKind::PROPERTY_UP,
            MessageKind::Event => TopicKind::EVENT_UP,
        };
        Some((kind, entry.payload()))
    }

    /// `out` was published at `now`.
    pub(crate) fn sent(&mut self, out: Outgoing, now: u64) {
        let Link::Up(session) = &mut self.link else {
            return;
        };
        match out {
            Outgoing::ReportInfo => session.info_due = false,
            Outgoing::TimeRequest => {
                if let Request::Due { attempts } = session.time {
                    session.time = Request::Waiting {
                        sent_at: now,
                        attempts: attempts.saturating_add(1),
                    };
                }
            }
            Outgoing::GetStatus => {
                if let Request::Due { attempts } = session.status {
                    session.status = Request::Waiting {
                        sent_at: now,
                        attempts: attempts.saturating_add(1),
                    };
                }
            }
            Outgoing::ClearControl(_) => session.clear = None,
            Outgoing::Queued(seq) => {
                self.queue.mark_sent(seq, now);
                self.last_queue_publish_at = Some(now);
                self.stats.published += 1;
            }
        }
    }

    /// `out` could not be published at `now`. When the link is gone (`link_error`), returns when the next CONNECT
    /// is due; otherwise the message itself is unsendable and is dropped.
    pub(crate) fn send_failed(
        &mut self,
        out: Outgoing,
        link_error: bool,
        now: u64,
        random: u32,
    ) -> Option<u64> {
        if link_error {
            return Some(self.link_lost(now, random));
        }
        self.stats.undeliverable += 1;
        match out {
            Outgoing::Queued(seq) => {
                if let Some(kind) = self.queue.get(seq).map(|e| e.kind) {
                    self.queue.remove(seq, kind);
                }
            }
            other => {
                if let Link::Up(session) = &mut self.link {
                    match other {
                        Outgoing::ReportInfo => session.info_due = false,
                        Outgoing::TimeRequest => session.time = Request::Done,
                        Outgoing::GetStatus => session.status = Request::Done,
                        Outgoing::ClearControl(_) | Outgoing::Queued(_) => session.clear = None,
                    }
                }
            }
        }
        None
    }

    // -----------------------------------------------------------------------------------------------------------
    // Sampling: reports, alarm edges, sensor faults

    /// Handles one sample taken at `now`: queues the report, `gas_alarm` on a rising edge, `sensor_fault` on each
    /// fault onset, and schedules the next sample. `wall_ms` stamps the messages when known.
    pub(crate) fn on_sample<O: Observer>(
        &mut self,
        result: &Result<EnvSample, SuiteError>,
        now: u64,
        wall_ms: Option<u64>,
        observer: &mut O,
    ) {
        self.stats.samples += 1;
        self.last_sample_at = Some(now);
        self.next_sample_at = now.saturating_add(u64::from(self.settings.report_interval_ms));
        let faults = match result {
            Ok(sample) => {
                observer.on_event(&RuntimeEvent::Sampled { sample });
                sample.faults
            }
            Err(e) => e.faults,
        };
        self.track_faults(faults.iter(), wall_ms, observer);
        if let Ok(sample) = result {
            self.track_alarm(sample, wall_ms, observer);
            self.queue_report(sample, wall_ms, observer);
        }
    }

    fn track_faults<O: Observer>(
        &mut self,
        faults: impl Iterator<Item = SensorFault>,
        wall_ms: Option<u64>,
        observer: &mut O,
    ) {
        let mut now_failing = 0u8;
        let mut not_ready = 0u8;
        let mut onsets: Vec<SensorFault, 5> = Vec::new();
        for fault in faults {
            let bit = sensor_bit(fault.sensor);
            // Not ready (warming up, read too soon) is not a failure: it neither starts nor ends one.
            if fault.kind == SensorErrorKind::NotReady {
                not_ready |= bit;
                continue;
            }
            now_failing |= bit;
            if self.faulted & bit == 0 {
                let _ = onsets.push(fault);
            }
        }
        self.faulted = now_failing | (self.faulted & not_ready);
        for fault in onsets {
            observer.on_event(&RuntimeEvent::SensorFault { fault });
            let Some(event_type) = event_type(&self.config.model, SENSOR_FAULT) else {
                continue;
            };
            let params = [
                ("sensor", ParamValue::StringEnum(fault.sensor.as_str())),
                ("error_code", ParamValue::Int(i64::from(fault.error_code()))),
            ];
            self.queue_event(SENSOR_FAULT, event_type, &params, wall_ms, observer);
        }
    }

    fn track_alarm<O: Observer>(
        &mut self,
        sample: &EnvSample,
        wall_ms: Option<u64>,
        observer: &mut O,
    ) {
        if !self.settings.alarm_enabled {
            return;
        }
        // A heater still warming up reads far off; it must not raise (or clear) the alarm.
        let Some(ppm) = sample
            .mq2
            .filter(|v| !v.warming_up)
            .map(|v| v.ppm_rounded())
        else {
            return;
        };
        let threshold = self.settings.smoke_threshold_ppm;
        if self.alarm_armed && ppm > threshold {
            self.alarm_armed = false;
            self.alarm_active = true;
            observer.on_event(&RuntimeEvent::AlarmRaised {
                value_ppm: ppm,
                threshold_ppm: threshold,
            });
            let Some(event_type) = event_type(&self.config.model, GAS_ALARM) else {
                return;
            };
            let value =
                clamp_to_model(&self.config.model, "MQ2", i64::from(ppm)).unwrap_or(i64::from(ppm));
            let params = [
                ("sensor", ParamValue::StringEnum(SensorId::Mq2.as_str())),
                ("value", ParamValue::Int(value)),
                ("threshold", ParamValue::Int(i64::from(threshold))),
            ];
            self.queue_event(GAS_ALARM, event_type, &params, wall_ms, observer);
        } else if !self.alarm_armed
            && ppm < threshold.saturating_sub(self.config.alarm_hysteresis_ppm)
        {
            self.alarm_armed = true;
            self.alarm_active = false;
            observer.on_event(&RuntimeEvent::AlarmCleared);
        }
    }

    fn queue_report<O: Observer>(
        &mut self,
        sample: &EnvSample,
        wall_ms: Option<u64>,
        observer: &mut O,
    ) {
        let model = self.config.model;
        let readings = [
            ("MQ2", sample.mq2_ppm().map(i64::from)),
            ("MQ135", sample.mq135_ppm().map(i64::from)),
            ("MQ4", sample.mq4_ppm().map(i64::from)),
            ("MQ7", sample.mq7_ppm().map(i64::from)),
            ("DHT11_T", sample.temperature_c().map(i64::from)),
            ("DHT11_H", sample.humidity_pct().map(i64::from)),
        ];
        let mut params: Vec<Param<'_>, 9> = Vec::new();
        for (id, value) in readings {
            if let Some(v) = value.and_then(|v| clamp_to_model(&model, id, v)) {
                let _ = params.push((id, ParamValue::Int(v)));
            }
        }
        if params.is_empty() {
            return;
        }
        // The runtime's own settings go with every report, so the cloud's state shows what the device runs with.
        let s = self.settings;
        if model.property(ALARM_ENABLED).is_some() {
            let _ = params.push((ALARM_ENABLED, ParamValue::Bool(s.alarm_enabled)));
        }
        for (id, v) in [
            (REPORT_INTERVAL, s.report_interval_ms.div_ceil(1000)),
            (SMOKE_THRESHOLD, s.smoke_threshold_ppm),
        ] {
            if model.property(id).is_some() {
                let _ = params.push((id, ParamValue::Int(i64::from(v))));
            }
        }
        let seq = self.alloc_seq();
        let token = client_token(self.boot_id, seq);
        let report = Report {
            client_token: token.as_str().into(),
            timestamp_ms: wall_ms,
            params: &params,
        };
        if self.push(seq, MessageKind::Report, &report, &token, observer) {
            self.stats.reports_queued += 1;
        }
    }

    fn queue_event<O: Observer>(
        &mut self,
        id: &str,
        event_type: EventType,
        params: &[Param<'_>],
        wall_ms: Option<u64>,
        observer: &mut O,
    ) {
        let seq = self.alloc_seq();
        let token = client_token(self.boot_id, seq);
        let post = EventPost {
            client_token: token.as_str().into(),
            version: None,
            event: Event {
                event_id: id,
                event_type,
                timestamp_ms: wall_ms,
                params,
            },
        };
        if self.push(seq, MessageKind::Event, &post, &token, observer) {
            self.stats.events_queued += 1;
        }
    }

    fn push<M: Encode, O: Observer>(
        &mut self,
        seq: u32,
        kind: MessageKind,
        message: &M,
        token: &str,
        observer: &mut O,
    ) -> bool {
        match self.queue.push(seq, kind, message) {
            Ok(pushed) => {
                if pushed.dropped_oldest {
                    self.stats.dropped_oldest += 1;
                    warn!("offline queue full; dropped the oldest message");
                    observer.on_event(&RuntimeEvent::DroppedOldest {
                        total: self.stats.dropped_oldest,
                    });
                }
                observer.on_event(&RuntimeEvent::Queued {
                    kind,
                    client_token: token,
                    queue_len: self.queue.len(),
                });
                true
            }
            Err(e) => {
                self.stats.undeliverable += 1;
                warn!("message not queued: {}", e);
                false
            }
        }
    }

    // -----------------------------------------------------------------------------------------------------------
    // Replies, time, controls

    /// A `report_reply`, `event_reply` or `events_reply`: the queued message with that token leaves the queue
    /// (protocol.md §11.12: matched by token and method). A 503 ("retry later", §4.4) leaves it in flight, so the
    /// reply timeout sends it again.
    pub(crate) fn on_reply<O: Observer>(&mut self, reply: &ReplyView<'_>, observer: &mut O) {
        let kind = match reply.method() {
            Method::ReportReply => MessageKind::Report,
            Method::EventReply | Method::EventsReply => MessageKind::Event,
            _ => return,
        };
        let Some(token) = reply.client_token().and_then(|t| t.as_plain()) else {
            return;
        };
        let Some(seq) = parse_client_token(self.boot_id, token) else {
            return;
        };
        if reply.code() == ReplyCode::InternalError {
            return;
        }
        if self.queue.remove(seq, kind) {
            if reply.code().is_success() {
                self.stats.answered += 1;
            } else {
                self.stats.refused += 1;
                warn!("message refused with code {}", reply.code().as_i64());
            }
            observer.on_event(&RuntimeEvent::Answered {
                method: reply.method(),
                code: reply.code(),
                client_token: token,
            });
        }
    }

    /// A `get_status_reply`: true when it answers this session's `get_status` (which is then done). A non-zero
    /// code leaves the request waiting, so it is sent again after the reply timeout.
    pub(crate) fn on_status_reply(&mut self, reply: &GetStatusReplyView<'_>) -> bool {
        let boot_id = self.boot_id;
        let Link::Up(session) = &mut self.link else {
            return false;
        };
        let matches = reply
            .client_token()
            .and_then(|t| t.as_plain())
            .and_then(|t| parse_client_token(boot_id, t))
            == Some(session.status_seq);
        if !matches || !matches!(session.status, Request::Waiting { .. }) {
            return false;
        }
        if !reply.code().is_success() {
            return false;
        }
        session.status = Request::Done;
        true
    }

    /// The pending control of this session's `get_status_reply` was handled: clear it with the same token.
    pub(crate) fn clear_pending_control(&mut self) {
        if let Link::Up(session) = &mut self.link {
            session.clear = Some(session.status_seq);
        }
    }

    /// The `$sys` time answer, received at `now` (protocol.md §6.2).
    pub(crate) fn on_time<O: Observer>(&mut self, time: &TimeView<'_>, now: u64, observer: &mut O) {
        let Link::Up(session) = &mut self.link else {
            return;
        };
        let Request::Waiting { sent_at, .. } = session.time else {
            return;
        };
        let Some(unix_ms) = time.accurate_time_ms(sent_at, now) else {
            return;
        };
        session.time = Request::Done;
        self.clock_offset_ms = i64::try_from(i128::from(unix_ms) - i128::from(now)).ok();
        observer.on_event(&RuntimeEvent::TimeSynced { unix_ms });
    }

    /// Checks a control against the thing model (protocol.md §4.3–4.4): 403 for an unknown or read-only
    /// property, 406 for a bad value.
    pub(crate) fn check_control(&self, params: ParamsView<'_>) -> Result<(), Refusal> {
        self.config
            .model
            .check_control(params.object())
            .map_err(|rejection| {
                let mut status = Status::new();
                let _ = write!(status, "{rejection}");
                Refusal {
                    code: ReplyCode::from_i64(i64::from(rejection.code())),
                    status,
                }
            })
    }

    /// Applies one validated property if the runtime owns it.
    pub(crate) fn apply_setting<O: Observer>(
        &mut self,
        id: &str,
        value: ParamView<'_>,
        now: u64,
        observer: &mut O,
    ) -> Setting {
        match id {
            REPORT_INTERVAL => {
                let Some(secs) = value
                    .as_i64()
                    .and_then(|v| u32::try_from(v).ok())
                    .filter(|v| *v > 0)
                else {
                    return Setting::Invalid;
                };
                let ms = secs.saturating_mul(1000);
                self.settings.report_interval_ms = ms;
                // The new cadence counts from the last sample: a shorter interval can make one due at once.
                let next = self
                    .last_sample_at
                    .map_or(now, |t| t.saturating_add(u64::from(ms)));
                self.next_sample_at = next.max(now);
                Setting::Applied
            }
            SMOKE_THRESHOLD => {
                let Some(ppm) = value.as_i64().and_then(|v| u32::try_from(v).ok()) else {
                    return Setting::Invalid;
                };
                self.settings.smoke_threshold_ppm = ppm;
                Setting::Applied
            }
            ALARM_ENABLED => {
                let Some(on) = value.as_bool() else {
                    return Setting::Invalid;
                };
                self.settings.alarm_enabled = on;
                if !on {
                    self.alarm_armed = true;
                    if self.alarm_active {
                        self.alarm_active = false;
                        observer.on_event(&RuntimeEvent::AlarmCleared);
                    }
                }
                Setting::Applied
            }
            _ => Setting::NotOwned,
        }
    }

    /// The messages in the queue, oldest first: kind, token sequence number, payload.
    pub(crate) fn queue_entries(&self) -> impl Iterator<Item = &Entry<SLOT>> {
        self.queue.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_reject_other_boots() {
        let t = client_token(0xdead_beef, 42);
        assert_eq!(t.as_str(), "deadbeef-42");
        assert_eq!(parse_client_token(0xdead_beef, &t), Some(42));
        assert_eq!(parse_client_token(0xdead_beee, &t), None);
        assert_eq!(parse_client_token(0xdead_beef, "deadbeef-"), None);
        assert_eq!(parse_client_token(0xdead_beef, "deadbeef-+1"), None);
        assert_eq!(
            parse_client_token(0xdead_beef, "clientToken-2fd030d1"),
            None
        );
        let longest = client_token(u32::MAX, u32::MAX);
        assert_eq!(longest.len(), TOKEN_CAPACITY);
    }
}
