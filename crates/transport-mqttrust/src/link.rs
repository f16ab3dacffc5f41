//! State shared by the [`MqttrustTransport`](crate::MqttrustTransport) handle and its driver future.
//!
//! mqttrust's `MqttStack` and `MqttClient` borrow its `State` (the packet buffers) and the `Config` (the
//! credentials); such a self-referential group can only live inside an async function's state, the driver. The handle and the driver
//! run in the same task (the handle polls the driver while a call waits), so plain `RefCell`s suffice; every
//! borrow is short and never held across an `await` by the handle.

use core::cell::{Cell, RefCell};

use embassy_time::Duration;
use heapless::{String, Vec};
use iot_transport::ConnectRefusal;

use crate::queue::{FrameQueue, PushError};

/// Longest client id mqttrust accepts (its `MAX_CLIENT_ID_LEN`).
pub const CLIENT_ID_CAPACITY: usize = 64;
/// Longest username: `{clientid};{sdkappid};{connid};{expiry}` is about 75 bytes (protocol.md §3.2).
pub const USERNAME_CAPACITY: usize = 128;
/// Longest password: 64 hex digits plus `;hmacsha256` (protocol.md §3.2).
pub const PASSWORD_CAPACITY: usize = 128;
/// Longest topic or topic filter: the cloud allows 255 bytes (protocol.md §3.5).
pub const TOPIC_CAPACITY: usize = 256;

/// What the handle asks the driver to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Request {
    Connect,
    Subscribe { at_least_once: bool },
    Publish { at_least_once: bool },
    Disconnect,
}

/// What went wrong, as the driver reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    Refused(ConnectRefusal),
    Network(embedded_io_async::ErrorKind),
    Timeout(&'static str),
    SubscribeRefused,
    Lost(&'static str),
    Protocol,
    TooLarge,
    Options(&'static str),
    NotReady,
    NotConnected,
}

/// Connection state as the handle sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LinkState {
    /// No connection; calls fail with `NotConnected`.
    Down,
    /// Connected.
    Up,
    /// The driver lost the connection; the next call reports it once, then the state is `Down`.
    Lost(&'static str),
}

/// A request's arguments, copied in by the handle and read by the driver.
pub(crate) struct RequestData<const PAYLOAD: usize> {
    pub(crate) client_id: String<CLIENT_ID_CAPACITY>,
    pub(crate) username: String<USERNAME_CAPACITY>,
    pub(crate) password: String<PASSWORD_CAPACITY>,
    pub(crate) keep_alive_secs: u16,
    pub(crate) topic: String<TOPIC_CAPACITY>,
    pub(crate) payload: Vec<u8, PAYLOAD>,
}

/// The exchange slot and the connection state.
pub(crate) struct Exchange {
    /// Identifier of the latest request.
    pub(crate) last_id: u32,
    /// A request waiting for the driver to pick it up.
    pub(crate) posted: Option<(u32, Request)>,
    /// The request the driver is working on.
    pub(crate) in_progress: Option<u32>,
    /// The answer to a request.
    pub(crate) answer: Option<(u32, Result<(), Failure>)>,
    pub(crate) state: LinkState,
}

/// Timeouts the driver applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Opening TCP plus the CONNECT/CONNACK exchange.
    pub connect: Duration,
    /// Waiting for a SUBACK or PUBACK. For a PUBLISH it is capped at 4.5 s: mqttrust re-sends an unacknowledged
    /// PUBLISH after 5 s under a new packet id, which the broker would deliver as a second message.
    pub ack: Duration,
}

impl Timeouts {
    /// 10 s to connect, 4 s for an acknowledgement.
    pub const DEFAULT: Self = Self {
        connect: Duration::from_secs(10),
        ack: Duration::from_secs(4),
    };
}

impl Default for Timeouts {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Storage shared by one [`MqttrustTransport`](crate::MqttrustTransport) and its driver.
///
/// `PAYLOAD` is the largest publish payload the handle accepts (at most 16 KB are ever sent, protocol.md §3.5);
/// `QUEUE` is the number of bytes kept for received messages not yet taken by `receive` (each message costs its
/// topic, its payload and 4 bytes). Create it once, where it outlives the transport (a `static` through
/// `static_cell`, or a local in the task that runs the transport).
pub struct Link<const PAYLOAD: usize, const QUEUE: usize> {
    pub(crate) exchange: RefCell<Exchange>,
    pub(crate) data: RefCell<RequestData<PAYLOAD>>,
    pub(crate) incoming: RefCell<FrameQueue<QUEUE>>,
    pub(crate) dropped: Cell<u32>,
    pub(crate) timeouts: Timeouts,
}

impl<const PAYLOAD: usize, const QUEUE: usize> Link<PAYLOAD, QUEUE> {
    /// Empty storage with [`Timeouts::DEFAULT`].
    pub const fn new() -> Self {
        Self::with_timeouts(Timeouts::DEFAULT)
    }

    /// Empty storage with the given timeouts.
    pub const fn with_timeouts(timeouts: Timeouts) -> Self {
        Self {
            exchange: RefCell::new(Exchange {
                last_id: 0,
                posted: None,
                in_progress: None,
                answer: None,
                state: LinkState::Down,
            }),
            data: RefCell::new(RequestData {
                client_id: String::new(),
                username: String::new(),
                password: String::new(),
                keep_alive_secs: 0,
                topic: String::new(),
                payload: Vec::new(),
            }),
            incoming: RefCell::new(FrameQueue::new()),
            dropped: Cell::new(0),
            timeouts,
        }
    }

    /// The driver future for a [`MqttrustTransport`](crate::MqttrustTransport) on this link: pin it, then pass it
    /// to [`MqttrustTransport::new`](crate::MqttrustTransport::new).
    ///
    /// It opens TCP connections to `broker` through `network` (any embedded-nal-async stack: embassy-net, or
    /// [`TokioTcp`](crate::TokioTcp) on a host; a TLS stack that implements `TcpConnect` works the same way) and
    /// owns mqttrust's `State`: `TX` bytes queue outgoing packets (the largest PUBLISH must fit), `RX` bytes hold
    /// received PUBLISH packets until the handle copies them out (one must fit; mqttrust discards, without PUBACK,
    /// what does not). For 16 KB payloads use at least `PAYLOAD + 300` for both.
    pub fn driver<'a, N, const TX: usize, const RX: usize>(
        &'a self,
        network: &'a N,
        broker: core::net::SocketAddr,
    ) -> impl core::future::Future<Output = core::convert::Infallible> + 'a
    where
        N: embedded_nal_async::TcpConnect,
    {
        crate::driver::run::<N, PAYLOAD, QUEUE, TX, RX>(self, network, broker)
    }

    /// Received messages dropped because the queue was full, since creation.
    pub fn dropped_messages(&self) -> u32 {
        self.dropped.get()
    }

    /// Queues a received message; counts it as dropped when there is no room.
    pub(crate) fn push_incoming(&self, topic: &str, payload: &[u8]) {
        // `receive` copies a message into buffers of TOPIC_CAPACITY and PAYLOAD bytes; larger ones cannot be
        // handed out whole.
        let fits = topic.len() <= TOPIC_CAPACITY && payload.len() <= PAYLOAD;
        let pushed = match self.incoming.try_borrow_mut() {
            _ if !fits => Err(PushError::TooLarge),
            Ok(mut queue) => queue.push(topic, payload),
            Err(_) => Err(PushError::Full),
        };
        if pushed.is_err() {
            self.dropped.set(self.dropped.get().saturating_add(1));
        }
    }

    /// Driver side: takes the posted request, if any.
    pub(crate) fn take_request(&self) -> Option<(u32, Request)> {
        let mut exchange = self.exchange.try_borrow_mut().ok()?;
        let (id, request) = exchange.posted.take()?;
        exchange.in_progress = Some(id);
        Some((id, request))
    }

    /// Driver side: whether a request waits (without taking it).
    pub(crate) fn has_request(&self) -> bool {
        self.exchange.try_borrow().is_ok_and(|e| e.posted.is_some())
    }

    /// Driver side: answers request `id` and updates the connection state.
    pub(crate) fn answer(&self, id: u32, result: Result<(), Failure>, state: Option<LinkState>) {
        if let Ok(mut exchange) = self.exchange.try_borrow_mut() {
            exchange.in_progress = None;
            exchange.answer = Some((id, result));
            if let Some(state) = state {
                exchange.state = state;
            }
        }
    }

    /// Driver side: the connection ended without a request in progress.
    pub(crate) fn set_state(&self, state: LinkState) {
        if let Ok(mut exchange) = self.exchange.try_borrow_mut() {
            exchange.state = state;
        }
    }
}

impl<const PAYLOAD: usize, const QUEUE: usize> Default for Link<PAYLOAD, QUEUE> {
    fn default() -> Self {
        Self::new()
    }
}
