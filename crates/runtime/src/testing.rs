//! Test doubles for the runtime (feature `testing`): a virtual clock, a scripted mock transport, a fake cloud,
//! scripted sensors, recording actuators and a seeded RNG. All `no_std` and heap-free, so the same doubles run
//! in host tests and in on-target (QEMU) tests.
//!
//! * [`VirtualClock`]: time moves only when the runtime sleeps, and jumps straight to the next thing that can
//!   happen (its deadline, or the next scripted delivery), so hours of device time run in milliseconds.
//! * [`MockTransport`]: a [`Transport`] whose broker side is a [`Broker`] you provide. It keeps an inbox of
//!   messages (and link drops) scheduled at virtual times and delivers them through `receive`.
//! * [`FakeCloud`]: a [`Broker`] that records every CONNECT, SUBSCRIBE and PUBLISH and answers like IoT Explorer
//!   (`report_reply`, `event_reply`, `get_status_reply` with a pending control, `clear_control_reply`,
//!   `report_info_reply`, the `$sys` time), with latency, outages and unanswered reports on demand.
//!
//! Drive a runtime with `embassy_futures::block_on(runtime.run_until(t))`, change the script, run further.

use core::cell::Cell;
use core::future::{poll_fn, Future};
use core::pin::Pin;
use core::task::{Context, Poll};

use heapless::{String, Vec};
use iot_core::codec::{MessageView, Method, ParamView};
use iot_core::credentials::rand_core::RngCore;
use iot_core::credentials::{verify_password, Psk};
use iot_core::json::Writer;
use iot_core::topic::{Topic, TopicKind};
use iot_transport::{ConnectOptions, ErrorKind, Incoming, QoS, Transport};
use sensors::mq::R0;
use sensors::suite::{
    EnvSample, EnvironmentSensors, Faults, GasSensorId, GasValue, SensorFault, SuiteError,
};
use sensors::Climate;

use crate::platform::{Actuators, Clock, ControlError};

/// Topic capacity of recorded and scheduled messages.
pub const TOPIC_CAPACITY: usize = 128;

// ---------------------------------------------------------------------------------------------------------------
// Clock

/// A clock whose time advances only when someone sleeps on it.
///
/// A sleep jumps to its deadline, unless the [`MockTransport`] has something to deliver earlier: then it stops
/// there and lets `receive` (raced against it) take the message first.
#[derive(Debug)]
pub struct VirtualClock {
    now: Cell<u64>,
    /// The earliest time the transport can deliver something, while a `receive` is waiting.
    horizon: Cell<u64>,
    unix_at_zero: Cell<Option<u64>>,
}

impl VirtualClock {
    /// A clock at `start_ms`, without a wall clock.
    #[must_use]
    pub const fn new(start_ms: u64) -> Self {
        Self {
            now: Cell::new(start_ms),
            horizon: Cell::new(u64::MAX),
            unix_at_zero: Cell::new(None),
        }
    }

    /// The current virtual time.
    pub fn now(&self) -> u64 {
        self.now.get()
    }

    /// Moves time forward by `ms` (never backwards).
    pub fn advance(&self, ms: u64) {
        self.now.set(self.now.get().saturating_add(ms));
    }

    /// Gives the platform a wall clock: Unix ms = `unix_at_zero_ms` + virtual time.
    pub fn set_wall_clock(&self, unix_at_zero_ms: Option<u64>) {
        self.unix_at_zero.set(unix_at_zero_ms);
    }
}

/// The future of [`VirtualClock::sleep_until`].
#[derive(Debug)]
pub struct Sleep<'c> {
    clock: &'c VirtualClock,
    deadline: u64,
}

impl Future for Sleep<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let clock = self.clock;
        let now = clock.now.get();
        if now >= self.deadline {
            return Poll::Ready(());
        }
        let target = self.deadline.min(clock.horizon.get()).max(now);
        clock.now.set(target);
        if target >= self.deadline {
            Poll::Ready(())
        } else {
            // Something is due for `receive` now: let the executor poll it.
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

impl Clock for VirtualClock {
    fn now_ms(&self) -> u64 {
        self.now.get()
    }

    async fn sleep_until(&self, deadline_ms: u64) {
        Sleep {
            clock: self,
            deadline: deadline_ms,
        }
        .await;
    }

    fn unix_time_ms(&self) -> Option<u64> {
        self.unix_at_zero
            .get()
            .map(|base| base.saturating_add(self.now.get()))
    }
}

/// Resets the clock's horizon when a `receive` stops waiting.
struct HorizonGuard<'c>(&'c VirtualClock);

impl Drop for HorizonGuard<'_> {
    fn drop(&mut self) {
        self.0.horizon.set(u64::MAX);
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Inbox and broker

/// Where a [`Broker`] puts what the device will receive.
pub trait Mailbox {
    /// Delivers `payload` on `topic` at `at_ms` (or, if the device is not connected then, once it is). Returns
    /// false when the inbox is full or the message too large.
    fn deliver(&mut self, at_ms: u64, topic: &str, payload: &[u8]) -> bool;

    /// Cuts the connection at `at_ms`: the next operation after it fails with `Disconnected`, and messages due
    /// by then that were not received are lost with the connection.
    fn drop_link(&mut self, at_ms: u64) -> bool;
}

#[derive(Debug, Clone)]
enum Delivery<const BYTES: usize> {
    Message {
        topic: String<TOPIC_CAPACITY>,
        payload: Vec<u8, BYTES>,
    },
    DropLink,
}

#[derive(Debug, Clone)]
struct Scheduled<const BYTES: usize> {
    at: u64,
    order: u32,
    what: Delivery<BYTES>,
}

/// Messages and link drops scheduled for the device: up to `CAP` of them, payloads up to `BYTES` bytes.
#[derive(Debug)]
pub struct Inbox<const CAP: usize, const BYTES: usize> {
    entries: Vec<Scheduled<BYTES>, CAP>,
    order: u32,
    /// Entries refused because the inbox was full or a payload too large.
    pub overflowed: u32,
}

impl<const CAP: usize, const BYTES: usize> Inbox<CAP, BYTES> {
    /// An empty inbox.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            entries: Vec::new(),
            order: 0,
            overflowed: 0,
        }
    }

    /// Entries waiting.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is waiting.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn schedule(&mut self, at: u64, what: Delivery<BYTES>) -> bool {
        let order = self.order;
        self.order = self.order.wrapping_add(1);
        let ok = self.entries.push(Scheduled { at, order, what }).is_ok();
        if !ok {
            self.overflowed += 1;
        }
        ok
    }

    /// Index of the earliest entry (by time, then by scheduling order).
    fn earliest(&self, only_messages: bool) -> Option<usize> {
        self.entries
            .iter()
            .enumerate()
            .filter(|(_, e)| !only_messages || matches!(e.what, Delivery::Message { .. }))
            .min_by_key(|(_, e)| (e.at, e.order))
            .map(|(i, _)| i)
    }
}

impl<const CAP: usize, const BYTES: usize> Default for Inbox<CAP, BYTES> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const CAP: usize, const BYTES: usize> Mailbox for Inbox<CAP, BYTES> {
    fn deliver(&mut self, at_ms: u64, topic: &str, payload: &[u8]) -> bool {
        let (Ok(topic), Ok(payload)) = (String::try_from(topic), Vec::from_slice(payload)) else {
            self.overflowed += 1;
            return false;
        };
        self.schedule(at_ms, Delivery::Message { topic, payload })
    }

    fn drop_link(&mut self, at_ms: u64) -> bool {
        self.schedule(at_ms, Delivery::DropLink)
    }
}

/// The broker (and cloud) side of a [`MockTransport`]: decides the outcome of each operation and may schedule
/// messages for the device.
pub trait Broker {
    /// A CONNECT at `now_ms`.
    ///
    /// # Errors
    /// The error the transport's `connect` returns.
    fn connect(
        &mut self,
        now_ms: u64,
        options: &ConnectOptions<'_>,
        mailbox: &mut dyn Mailbox,
    ) -> Result<(), ErrorKind>;

    /// A SUBSCRIBE at `now_ms`.
    ///
    /// # Errors
    /// The error the transport's `subscribe` returns.
    fn subscribe(
        &mut self,
        now_ms: u64,
        filter: &str,
        qos: QoS,
        mailbox: &mut dyn Mailbox,
    ) -> Result<(), ErrorKind>;

    /// A PUBLISH at `now_ms` (returning `Ok` stands for the PUBACK at QoS 1).
    ///
    /// # Errors
    /// The error the transport's `publish` returns.
    fn publish(
        &mut self,
        now_ms: u64,
        topic: &str,
        payload: &[u8],
        qos: QoS,
        mailbox: &mut dyn Mailbox,
    ) -> Result<(), ErrorKind>;

    /// A DISCONNECT at `now_ms`.
    fn disconnect(&mut self, now_ms: u64) {
        let _ = now_ms;
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Transport

/// A [`Transport`] over a [`Broker`], on a [`VirtualClock`]. Follows the trait's contract: `receive` is
/// cancel-safe, and after a `Disconnected` error every call but `connect` fails with `NotConnected`.
#[derive(Debug)]
pub struct MockTransport<'c, B, const INBOX: usize = 32, const BYTES: usize = 512> {
    clock: &'c VirtualClock,
    broker: B,
    inbox: Inbox<INBOX, BYTES>,
    connected: bool,
    current_topic: String<TOPIC_CAPACITY>,
    current_payload: Vec<u8, BYTES>,
}

/// What `receive` found.
enum Found {
    Message(usize),
    Dropped,
    NotConnected,
}

impl<'c, B: Broker, const INBOX: usize, const BYTES: usize> MockTransport<'c, B, INBOX, BYTES> {
    /// A disconnected transport.
    pub fn new(clock: &'c VirtualClock, broker: B) -> Self {
        Self {
            clock,
            broker,
            inbox: Inbox::new(),
            connected: false,
            current_topic: String::new(),
            current_payload: Vec::new(),
        }
    }

    /// The broker.
    pub fn broker(&self) -> &B {
        &self.broker
    }

    /// The broker, mutably (change the script between runs).
    pub fn broker_mut(&mut self) -> &mut B {
        &mut self.broker
    }

    /// The inbox, to schedule messages and link drops from a test.
    pub fn inbox_mut(&mut self) -> &mut Inbox<INBOX, BYTES> {
        &mut self.inbox
    }

    /// Whether the mock connection is up.
    pub fn is_connected(&self) -> bool {
        self.connected
    }

    /// Applies link drops due by `now`; true when an open connection was cut.
    fn settle(&mut self, now: u64) -> bool {
        let mut cut = false;
        while let Some(i) = self
            .inbox
            .entries
            .iter()
            .position(|e| e.at <= now && matches!(e.what, Delivery::DropLink))
        {
            let at = self.inbox.entries.get(i).map_or(now, |e| e.at);
            self.inbox.entries.swap_remove(i);
            if self.connected {
                self.connected = false;
                cut = true;
                // What was on its way over the dead connection is lost with it.
                self.inbox
                    .entries
                    .retain(|e| !(e.at <= at && matches!(e.what, Delivery::Message { .. })));
            }
        }
        cut
    }

    fn check_link(&mut self) -> Result<(), ErrorKind> {
        if self.settle(self.clock.now()) {
            return Err(ErrorKind::Disconnected);
        }
        if self.connected {
            Ok(())
        } else {
            Err(ErrorKind::NotConnected)
        }
    }

    fn after(&mut self, result: Result<(), ErrorKind>) -> Result<(), ErrorKind> {
        if matches!(
            result,
            Err(ErrorKind::Disconnected | ErrorKind::Timeout | ErrorKind::Protocol)
        ) {
            self.connected = false;
        }
        result
    }
}

impl<B: Broker, const INBOX: usize, const BYTES: usize> Transport
    for MockTransport<'_, B, INBOX, BYTES>
{
    type Error = ErrorKind;

    async fn connect(&mut self, options: &ConnectOptions<'_>) -> Result<(), ErrorKind> {
        let now = self.clock.now();
        self.settle(now);
        if self.connected {
            self.broker.disconnect(now);
            self.connected = false;
        }
        self.broker.connect(now, options, &mut self.inbox)?;
        self.connected = true;
        Ok(())
    }

    async fn subscribe(&mut self, filter: &str, qos: QoS) -> Result<(), ErrorKind> {
        self.check_link()?;
        let result = self
            .broker
            .subscribe(self.clock.now(), filter, qos, &mut self.inbox);
        self.after(result)
    }

    async fn publish(&mut self, topic: &str, payload: &[u8], qos: QoS) -> Result<(), ErrorKind> {
        self.check_link()?;
        if payload.len() > iot_transport::MAX_PAYLOAD_LEN {
            return Err(ErrorKind::PayloadTooLarge);
        }
        let result = self
            .broker
            .publish(self.clock.now(), topic, payload, qos, &mut self.inbox);
        self.after(result)
    }

    async fn receive(&mut self) -> Result<Incoming<'_>, ErrorKind> {
        let clock = self.clock;
        let _guard = HorizonGuard(clock);
        let found = poll_fn(|_cx| {
            let now = clock.now();
            if self.settle(now) {
                return Poll::Ready(Found::Dropped);
            }
            if !self.connected {
                return Poll::Ready(Found::NotConnected);
            }
            let next = self.inbox.earliest(false);
            match next.and_then(|i| self.inbox.entries.get(i).map(|e| (i, e.at))) {
                Some((i, at)) if at <= now => Poll::Ready(Found::Message(i)),
                Some((_, at)) => {
                    clock.horizon.set(at);
                    Poll::Pending
                }
                None => {
                    clock.horizon.set(u64::MAX);
                    Poll::Pending
                }
            }
        })
        .await;
        match found {
            Found::Dropped => Err(ErrorKind::Disconnected),
            Found::NotConnected => Err(ErrorKind::NotConnected),
            Found::Message(i) => {
                let entry = self.inbox.entries.remove(i);
                if let Delivery::Message { topic, payload } = entry.what {
                    self.current_topic = topic;
                    self.current_payload = payload;
                }
                Ok(Incoming {
                    topic: &self.current_topic,
                    payload: &self.current_payload,
                })
            }
        }
    }

    async fn disconnect(&mut self) -> Result<(), ErrorKind> {
        if self.connected {
            self.broker.disconnect(self.clock.now());
            self.connected = false;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Fake cloud

/// What was done to the broker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// CONNECT: the record's topic holds the client id, its payload the username (the password is checked, not
    /// kept).
    Connect,
    /// SUBSCRIBE: the record's topic is the filter.
    Subscribe,
    /// PUBLISH.
    Publish,
    /// DISCONNECT.
    Disconnect,
}

/// One recorded operation.
#[derive(Debug, Clone)]
pub struct Record<const BYTES: usize> {
    /// Virtual time of the operation.
    pub at_ms: u64,
    /// Which operation.
    pub op: Op,
    /// Topic, filter or client id.
    pub topic: String<TOPIC_CAPACITY>,
    /// Payload, or username for a CONNECT.
    pub payload: Vec<u8, BYTES>,
    /// QoS of a SUBSCRIBE or PUBLISH.
    pub qos: Option<QoS>,
    /// Whether the broker accepted it.
    pub accepted: bool,
}

impl<const BYTES: usize> Record<BYTES> {
    /// The payload as text (empty if it is not UTF-8).
    pub fn text(&self) -> &str {
        core::str::from_utf8(&self.payload).unwrap_or("")
    }

    /// The payload's `method`, if it is a JSON message with a plain one.
    pub fn method(&self) -> Option<Method> {
        MessageView::new_checked(&self.payload).ok()?.method()
    }

    /// The payload's `clientToken`, if plain.
    pub fn client_token(&self) -> Option<&str> {
        MessageView::new_checked(&self.payload)
            .ok()?
            .client_token()?
            .as_plain()
    }
}

/// A [`Broker`] that behaves like IoT Explorer for one device and records everything. Public fields are the
/// script; change them between runs.
#[derive(Debug)]
pub struct FakeCloud<const LOG: usize = 128, const BYTES: usize = 512> {
    /// When set, CONNECT passwords are checked against it (`Refused(BadCredentials)` on mismatch).
    pub psk: Option<Psk>,
    /// Delay of every answer, ms.
    pub latency_ms: u64,
    /// `[start, end)` periods when the broker is unreachable: CONNECT fails with `Disconnected`, and a connection
    /// open when one starts is cut.
    pub outages: Vec<(u64, u64), 8>,
    /// `code` of every `report_reply`.
    pub report_code: i64,
    /// This many reports from now on get no reply at all.
    pub unanswered_reports: u32,
    /// Whether `get_status` is answered.
    pub answer_get_status: bool,
    /// `data.control` of the next `get_status_reply` (a JSON object), until a `clear_control` with that reply's
    /// token clears it.
    pub pending_control: Option<String<256>>,
    /// Unix ms at virtual time 0 for the `$sys` time answer; `None`: time requests go unanswered.
    pub unix_at_zero_ms: Option<u64>,
    /// Tokens of the `clear_control`s that cleared the pending control.
    pub cleared_with: Vec<String<64>, 8>,
    last_status_token: Option<String<64>>,
    log: Vec<Record<BYTES>, LOG>,
    /// Operations not recorded because the log was full.
    pub log_overflow: u32,
}

impl<const LOG: usize, const BYTES: usize> Default for FakeCloud<LOG, BYTES> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const LOG: usize, const BYTES: usize> FakeCloud<LOG, BYTES> {
    /// A cloud that answers everything after 20 ms, with code 0 and the time at Unix 1 700 000 000 000 ms.
    #[must_use]
    pub fn new() -> Self {
        Self {
            psk: None,
            latency_ms: 20,
            outages: Vec::new(),
            report_code: 0,
            unanswered_reports: 0,
            answer_get_status: true,
            pending_control: None,
            unix_at_zero_ms: Some(1_700_000_000_000),
            cleared_with: Vec::new(),
            last_status_token: None,
            log: Vec::new(),
            log_overflow: 0,
        }
    }

    /// Every recorded operation, in order.
    pub fn records(&self) -> &[Record<BYTES>] {
        &self.log
    }

    /// Forgets the records.
    pub fn clear_records(&mut self) {
        self.log.clear();
    }

    /// Accepted publishes on topics of `kind`.
    pub fn published(&self, kind: TopicKind) -> impl Iterator<Item = &Record<BYTES>> {
        self.log.iter().filter(move |r| {
            r.op == Op::Publish
                && r.accepted
                && Topic::parse(&r.topic).is_ok_and(|t| t.kind() == kind)
        })
    }

    /// Times of every CONNECT attempt.
    pub fn connect_times(&self) -> impl Iterator<Item = u64> + '_ {
        self.log
            .iter()
            .filter(|r| r.op == Op::Connect)
            .map(|r| r.at_ms)
    }

    fn in_outage(&self, now: u64) -> bool {
        self.outages.iter().any(|(s, e)| (*s..*e).contains(&now))
    }

    fn record(
        &mut self,
        at_ms: u64,
        op: Op,
        topic: &str,
        payload: &[u8],
        qos: Option<QoS>,
        accepted: bool,
    ) {
        let topic = String::try_from(topic).unwrap_or_default();
        let payload = Vec::from_slice(payload).unwrap_or_default();
        let record = Record {
            at_ms,
            op,
            topic,
            payload,
            qos,
            accepted,
        };
        if self.log.push(record).is_err() {
            self.log_overflow += 1;
        }
    }

    /// Sends `{"method":…,"clientToken":…,"code":…,"status":…}` (plus `extra` members) on the down topic.
    #[allow(clippy::too_many_arguments)]
    fn reply(
        &self,
        mailbox: &mut dyn Mailbox,
        now: u64,
        kind: TopicKind,
        product_id: &str,
        device_name: &str,
        method: &str,
        token: Option<&str>,
        code: i64,
        extra: &str,
    ) {
        let mut buf = [0u8; BYTES];
        let mut w = Writer::new(&mut buf);
        w.raw("{\"method\":");
        w.string(method);
        if let Some(token) = token {
            w.raw(",\"clientToken\":");
            w.raw(token);
        }
        w.raw(",\"code\":");
        w.i64(code);
        w.raw(",\"status\":");
        w.string(if code == 0 { "success" } else { "refused" });
        w.raw(extra);
        w.raw("}");
        if let (Ok(len), Ok(topic)) = (
            w.finish(),
            Topic::new(kind, product_id, device_name).and_then(|t| t.format::<TOPIC_CAPACITY>()),
        ) {
            mailbox.deliver(now + self.latency_ms, &topic, buf.get(..len).unwrap_or(&[]));
        }
    }

    fn answer(&mut self, now: u64, topic: &str, payload: &[u8], mailbox: &mut dyn Mailbox) {
        let Ok(topic) = Topic::parse(topic) else {
            return;
        };
        let (pid, dn) = (topic.product_id(), topic.device_name());
        if topic.kind() == TopicKind::SysOperation {
            if let Some(base) = self.unix_at_zero_ms {
                // A symmetric path: the request reached the server half the latency after it was sent, and the
                // answer takes the other half (protocol.md §6.2 assumes the same).
                let t = base + now + self.latency_ms / 2;
                let mut buf = [0u8; 128];
                let mut w = Writer::new(&mut buf);
                w.raw("{\"type\":\"get\",\"time\":");
                w.u64(t / 1000);
                w.raw(",\"ntptime1\":");
                w.u64(t);
                w.raw(",\"ntptime2\":");
                w.u64(t);
                w.raw("}");
                if let (Ok(len), Ok(down)) = (
                    w.finish(),
                    Topic::new(TopicKind::SysOperationResult, pid, dn)
                        .and_then(|t| t.format::<TOPIC_CAPACITY>()),
                ) {
                    mailbox.deliver(now + self.latency_ms, &down, buf.get(..len).unwrap_or(&[]));
                }
            }
            return;
        }
        let Ok(message) = MessageView::new_checked(payload) else {
            return;
        };
        // Tokens are echoed exactly as sent, quotes and escapes included.
        let token = message.client_token().map(|t| t.quoted());
        let plain_token = message.client_token().and_then(|t| t.as_plain());
        match (topic.kind(), message.method()) {
            (TopicKind::Thing { .. }, Some(Method::Report)) => {
                if self.unanswered_reports > 0 {
                    self.unanswered_reports -= 1;
                    return;
                }
                let code = self.report_code;
                self.reply(
                    mailbox,
                    now,
                    TopicKind::PROPERTY_DOWN,
                    pid,
                    dn,
                    "report_reply",
                    token,
                    code,
                    "",
                );
            }
            (TopicKind::Thing { .. }, Some(Method::GetStatus)) if self.answer_get_status => {
                self.last_status_token = plain_token.and_then(|t| String::try_from(t).ok());
                let mut extra: String<320> = String::new();
                let _ = extra.push_str(",\"type\":\"report\",\"data\":{");
                if let Some(control) = &self.pending_control {
                    let _ = extra.push_str("\"control\":");
                    let _ = extra.push_str(control);
                }
                let _ = extra.push('}');
                self.reply(
                    mailbox,
                    now,
                    TopicKind::PROPERTY_DOWN,
                    pid,
                    dn,
                    "get_status_reply",
                    token,
                    0,
                    &extra,
                );
            }
            (TopicKind::Thing { .. }, Some(Method::ClearControl)) => {
                let same =
                    plain_token.is_some() && plain_token == self.last_status_token.as_deref();
                if same && self.pending_control.take().is_some() {
                    if let Some(t) = plain_token.and_then(|t| String::try_from(t).ok()) {
                        let _ = self.cleared_with.push(t);
                    }
                }
                self.reply(
                    mailbox,
                    now,
                    TopicKind::PROPERTY_DOWN,
                    pid,
                    dn,
                    "clear_control_reply",
                    token,
                    0,
                    "",
                );
            }
            (TopicKind::Thing { .. }, Some(Method::ReportInfo)) => {
                self.reply(
                    mailbox,
                    now,
                    TopicKind::PROPERTY_DOWN,
                    pid,
                    dn,
                    "report_info_reply",
                    token,
                    0,
                    "",
                );
            }
            (TopicKind::Thing { .. }, Some(Method::EventPost)) => {
                self.reply(
                    mailbox,
                    now,
                    TopicKind::EVENT_DOWN,
                    pid,
                    dn,
                    "event_reply",
                    token,
                    0,
                    ",\"version\":\"1.0\",\"data\":{}",
                );
            }
            (TopicKind::Thing { .. }, Some(Method::EventsPost)) => {
                self.reply(
                    mailbox,
                    now,
                    TopicKind::EVENT_DOWN,
                    pid,
                    dn,
                    "events_reply",
                    token,
                    0,
                    ",\"data\":{}",
                );
            }
            _ => {}
        }
    }
}

impl<const LOG: usize, const BYTES: usize> Broker for FakeCloud<LOG, BYTES> {
    fn connect(
        &mut self,
        now_ms: u64,
        options: &ConnectOptions<'_>,
        mailbox: &mut dyn Mailbox,
    ) -> Result<(), ErrorKind> {
        let result =
            if self.in_outage(now_ms) {
                Err(ErrorKind::Disconnected)
            } else if self.psk.as_ref().is_some_and(|psk| {
                verify_password(psk, options.username, options.password).is_err()
            }) {
                Err(ErrorKind::Refused(
                    iot_transport::ConnectRefusal::BadCredentials,
                ))
            } else {
                Ok(())
            };
        self.record(
            now_ms,
            Op::Connect,
            options.client_id,
            options.username.as_bytes(),
            None,
            result.is_ok(),
        );
        if result.is_ok() {
            if let Some(start) = self
                .outages
                .iter()
                .map(|(s, _)| *s)
                .filter(|s| *s > now_ms)
                .min()
            {
                mailbox.drop_link(start);
            }
        }
        result
    }

    fn subscribe(
        &mut self,
        now_ms: u64,
        filter: &str,
        qos: QoS,
        _mailbox: &mut dyn Mailbox,
    ) -> Result<(), ErrorKind> {
        self.record(now_ms, Op::Subscribe, filter, &[], Some(qos), true);
        Ok(())
    }

    fn publish(
        &mut self,
        now_ms: u64,
        topic: &str,
        payload: &[u8],
        qos: QoS,
        mailbox: &mut dyn Mailbox,
    ) -> Result<(), ErrorKind> {
        if self.in_outage(now_ms) {
            self.record(now_ms, Op::Publish, topic, payload, Some(qos), false);
            return Err(ErrorKind::Disconnected);
        }
        self.record(now_ms, Op::Publish, topic, payload, Some(qos), true);
        self.answer(now_ms, topic, payload, mailbox);
        Ok(())
    }

    fn disconnect(&mut self, now_ms: u64) {
        self.record(now_ms, Op::Disconnect, "", &[], None, true);
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Sensors, actuators, RNG

/// Sensors whose readings are set by the test: an MQ-2 value (the other gases and the climate are fixed),
/// faults, and the outcome of `calibrate`.
#[derive(Debug, Clone)]
pub struct ScriptedSensors {
    /// The MQ-2 reading, ppm.
    pub mq2_ppm: f32,
    /// Whether gas readings are flagged as warming up.
    pub warming_up: bool,
    /// Sensors failing in the next samples (their readings are left out).
    pub faults: Faults,
    /// Every sensor fails: `sample` returns an error.
    pub fail_all: bool,
    /// What `calibrate` returns.
    pub calibration: Result<f32, SensorFault>,
    /// The last `calibrate` call: sensor and time.
    pub calibrated: Option<(GasSensorId, u64)>,
    /// Samples taken.
    pub samples: u32,
}

impl Default for ScriptedSensors {
    fn default() -> Self {
        Self {
            mq2_ppm: 100.0,
            warming_up: false,
            faults: Faults::new(),
            fail_all: false,
            calibration: Ok(9.83),
            calibrated: None,
            samples: 0,
        }
    }
}

impl EnvironmentSensors for ScriptedSensors {
    async fn sample(&mut self, now_ms: u64) -> Result<EnvSample, SuiteError> {
        self.samples += 1;
        if self.fail_all {
            return Err(SuiteError {
                faults: self.faults,
            });
        }
        let gas = |ppm: f32, sensor: sensors::suite::SensorId, faults: &Faults| {
            faults.get(sensor).is_none().then_some(GasValue {
                ppm,
                warming_up: self.warming_up,
                compensated: false,
            })
        };
        use sensors::suite::SensorId;
        Ok(EnvSample {
            taken_at_ms: now_ms,
            mq2: gas(self.mq2_ppm, SensorId::Mq2, &self.faults),
            mq135: gas(420.0, SensorId::Mq135, &self.faults),
            mq4: gas(5.0, SensorId::Mq4, &self.faults),
            mq7: gas(3.0, SensorId::Mq7, &self.faults),
            climate: self
                .faults
                .get(SensorId::Dht11)
                .is_none()
                .then_some(Climate {
                    temperature_c: 21.0,
                    humidity_pct: 40.0,
                }),
            faults: self.faults,
        })
    }

    async fn calibrate(&mut self, sensor: GasSensorId, now_ms: u64) -> Result<f32, SensorFault> {
        self.calibrated = Some((sensor, now_ms));
        self.calibration
    }

    fn r0(&self, _sensor: GasSensorId) -> Option<R0> {
        None
    }

    fn restore_r0(&mut self, _sensor: GasSensorId, _r0: R0) {}
}

/// Actuators that remember what they were told.
#[derive(Debug, Clone, Default)]
pub struct RecordingActuators {
    /// The alarm output.
    pub alarm: bool,
    /// How many times the alarm output was switched.
    pub alarm_switches: u32,
    /// Properties applied through `apply_control`: id and raw JSON value.
    pub applied: Vec<(String<32>, String<32>), 8>,
    /// Refuse every `apply_control` with [`ControlError::Failed`].
    pub refuse: bool,
}

impl Actuators for RecordingActuators {
    async fn set_alarm(&mut self, on: bool) {
        self.alarm = on;
        self.alarm_switches += 1;
    }

    async fn apply_control(&mut self, id: &str, value: ParamView<'_>) -> Result<(), ControlError> {
        if self.refuse {
            return Err(ControlError::Failed);
        }
        let id = String::try_from(id).unwrap_or_default();
        let value = String::try_from(value.raw()).unwrap_or_default();
        let _ = self.applied.push((id, value));
        Ok(())
    }
}

/// `SplitMix64`: a tiny seeded RNG for deterministic tests (not for cryptography).
#[derive(Debug, Clone)]
pub struct SplitMix64(pub u64);

impl RngCore for SplitMix64 {
    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn fill_bytes(&mut self, dst: &mut [u8]) {
        for chunk in dst.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(bytes.get(..chunk.len()).unwrap_or(&[]));
        }
    }
}
