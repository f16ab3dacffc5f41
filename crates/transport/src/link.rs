//! The plumbing shared by the `no_std` adapters (`iot-transport-mqttrust`, `iot-transport-minimq`): a handle that
//! implements the [`Transport`](crate::Transport) calls and a driver future that owns the MQTT library's
//! self-referential state, exchanging requests and answers through a [`LinkCore`].
//!
//! The handle and the driver run in the same task (the handle polls the driver while a call waits), so plain
//! `RefCell`s suffice; every borrow is short and never held across an `await` by the handle. Nothing here knows
//! an MQTT library: each adapter supplies its driver, its failure type ([`LinkFailure`]) and its error type
//! (built from [`HandleError`] and the failure type).

use core::cell::{Cell, RefCell, RefMut};
use core::convert::Infallible;
use core::future::{poll_fn, Future};
use core::marker::PhantomData;
use core::pin::Pin;
use core::task::Poll;

use embassy_futures::select::{select, Either};
use embassy_futures::yield_now;
use heapless::{String, Vec};

use crate::queue::{FrameQueue, PushError};
use crate::{ConnectOptions, Incoming, QoS, MAX_PAYLOAD_LEN};

/// Longest client id: mqttrust's `MAX_CLIENT_ID_LEN`, also used by the minimq adapter.
pub const CLIENT_ID_CAPACITY: usize = 64;
/// Longest username: `{clientid};{sdkappid};{connid};{expiry}` is about 75 bytes (protocol.md §3.2).
pub const USERNAME_CAPACITY: usize = 128;
/// Longest password: 64 hex digits plus `;hmacsha256` (protocol.md §3.2).
pub const PASSWORD_CAPACITY: usize = 128;
/// Longest topic or topic filter: the cloud allows 255 bytes (protocol.md §3.5).
pub const TOPIC_CAPACITY: usize = 256;

/// What the handle asks the driver to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    /// Close any connection, then connect with the credentials in [`RequestData`].
    Connect,
    /// Subscribe to the filter in [`RequestData::topic`].
    Subscribe {
        /// QoS 1 rather than QoS 0.
        at_least_once: bool,
    },
    /// Publish [`RequestData::payload`] on [`RequestData::topic`].
    Publish {
        /// QoS 1 rather than QoS 0.
        at_least_once: bool,
    },
    /// Send DISCONNECT and close the connection.
    Disconnect,
}

/// Connection state as the handle sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    /// No connection; calls fail with `NotConnected`.
    Down,
    /// Connected.
    Up,
    /// The driver lost the connection; the next call reports it once, then the state is `Down`.
    Lost(&'static str),
}

/// A request's arguments, copied in by the handle and read by the driver.
pub struct RequestData<const PAYLOAD: usize> {
    /// CONNECT client id.
    pub client_id: String<CLIENT_ID_CAPACITY>,
    /// CONNECT user name.
    pub username: String<USERNAME_CAPACITY>,
    /// CONNECT password. Never logged.
    pub password: String<PASSWORD_CAPACITY>,
    /// CONNECT keep-alive.
    pub keep_alive_secs: u16,
    /// SUBSCRIBE filter or PUBLISH topic.
    pub topic: String<TOPIC_CAPACITY>,
    /// PUBLISH payload.
    pub payload: Vec<u8, PAYLOAD>,
}

/// The exchange slot and the connection state; `F` is the adapter's driver failure.
pub struct Exchange<F> {
    /// Identifier of the latest request.
    pub last_id: u32,
    /// A request waiting for the driver to pick it up.
    pub posted: Option<(u32, Request)>,
    /// The request the driver is working on.
    pub in_progress: Option<u32>,
    /// The answer to a request.
    pub answer: Option<(u32, Result<(), F>)>,
    /// Connection state.
    pub state: LinkState,
}

/// Storage shared by one adapter handle ([`Handle`]) and its driver.
///
/// `PAYLOAD` is the largest publish payload the handle accepts; `QUEUE` is the number of bytes kept for received
/// messages not yet taken by `receive` (each message costs its topic, its payload and 4 bytes).
pub struct LinkCore<F, const PAYLOAD: usize, const QUEUE: usize> {
    /// Requests, answers and the connection state.
    pub exchange: RefCell<Exchange<F>>,
    /// The arguments of the current request.
    pub data: RefCell<RequestData<PAYLOAD>>,
    /// Received messages not yet handed out.
    pub incoming: RefCell<FrameQueue<QUEUE>>,
    dropped: Cell<u32>,
}

impl<F, const PAYLOAD: usize, const QUEUE: usize> LinkCore<F, PAYLOAD, QUEUE> {
    /// Empty storage, disconnected.
    pub const fn new() -> Self {
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
        }
    }

    /// Received messages dropped because the queue was full, since creation.
    pub fn dropped_messages(&self) -> u32 {
        self.dropped.get()
    }

    /// Driver side: queues a received message; counts it as dropped when there is no room.
    pub fn push_incoming(&self, topic: &str, payload: &[u8]) {
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
    pub fn take_request(&self) -> Option<(u32, Request)> {
        let mut exchange = self.exchange.try_borrow_mut().ok()?;
        let (id, request) = exchange.posted.take()?;
        exchange.in_progress = Some(id);
        Some((id, request))
    }

    /// Driver side: waits until the handle posts a request and takes it.
    pub async fn next_request(&self) -> (u32, Request) {
        // No waker is registered: the handle posts requests only while it polls this future in the same task,
        // right before polling the driver.
        poll_fn(|_| self.take_request().map_or(Poll::Pending, Poll::Ready)).await
    }

    /// Driver side: resolves when a request is waiting, without taking it. No waker: the handle posts requests
    /// only while it polls this future's task, right before polling the driver.
    pub async fn request_waiting(&self) {
        poll_fn(|_| {
            if self.exchange.try_borrow().is_ok_and(|e| e.posted.is_some()) {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
        .await;
    }

    /// Driver side: answers request `id`, updates the connection state, and lets the handle's future see the
    /// answer (same task: yields once).
    pub async fn answer(&self, id: u32, result: Result<(), F>, state: Option<LinkState>) {
        if let Ok(mut exchange) = self.exchange.try_borrow_mut() {
            exchange.in_progress = None;
            exchange.answer = Some((id, result));
            if let Some(state) = state {
                exchange.state = state;
            }
        }
        yield_now().await;
    }

    /// Driver side: the connection ended without a request in progress.
    pub fn set_state(&self, state: LinkState) {
        if let Ok(mut exchange) = self.exchange.try_borrow_mut() {
            exchange.state = state;
        }
    }
}

impl<F, const PAYLOAD: usize, const QUEUE: usize> Default for LinkCore<F, PAYLOAD, QUEUE> {
    fn default() -> Self {
        Self::new()
    }
}

/// What an adapter's driver reports when a request fails.
pub trait LinkFailure: Copy {
    /// The link's state was borrowed elsewhere or the MQTT library has no room now; retry later.
    const NOT_READY: Self;

    /// Whether the packet did not fit the library's buffers (reported as a too-large payload).
    fn is_too_large(&self) -> bool;
}

/// A failure the [`Handle`] detects itself, before or after asking the driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandleError {
    /// The link's state was borrowed elsewhere; retry later.
    NotReady,
    /// A call that needs a connection was made without one.
    NotConnected,
    /// The driver lost the connection.
    Disconnected {
        /// What happened.
        reason: &'static str,
    },
    /// A received topic is not UTF-8.
    Protocol,
    /// A topic name contains wildcards or is empty, or a filter is empty.
    InvalidTopic {
        /// "name" or "filter".
        what: &'static str,
    },
    /// A string does not fit its fixed-size buffer.
    TooLong {
        /// Which argument.
        field: &'static str,
        /// Its length.
        len: usize,
        /// The room for it.
        capacity: usize,
    },
    /// The payload is larger than 16 KB, than `PAYLOAD` or than the driver's buffer.
    PayloadTooLarge {
        /// Payload length.
        len: usize,
        /// The smaller of 16 KB and `PAYLOAD`.
        limit: usize,
    },
}

/// The handle side of an adapter: implements the [`Transport`](crate::Transport) calls over a [`LinkCore`] and
/// the driver future `D`, which it polls whenever one of its calls waits, so the connection makes progress
/// (reads, acknowledgements, keep-alive) only while a call is awaited. `F` is the driver's failure type, `E` the
/// adapter's error type, built from the handle's own [`HandleError`]s and from `F`.
pub struct Handle<'a, D, F, E, const PAYLOAD: usize, const QUEUE: usize> {
    link: &'a LinkCore<F, PAYLOAD, QUEUE>,
    driver: Pin<&'a mut D>,
    /// The message the last `receive` returned; `Incoming` borrows from here.
    topic: Vec<u8, TOPIC_CAPACITY>,
    payload: Vec<u8, PAYLOAD>,
    error: PhantomData<fn() -> E>,
}

impl<'a, D, F, E, const PAYLOAD: usize, const QUEUE: usize> Handle<'a, D, F, E, PAYLOAD, QUEUE>
where
    D: Future<Output = Infallible>,
    F: LinkFailure,
    E: From<HandleError> + From<F>,
{
    /// A disconnected handle over `link` and the driver future made from the same link.
    pub fn new(link: &'a LinkCore<F, PAYLOAD, QUEUE>, driver: Pin<&'a mut D>) -> Self {
        Self {
            link,
            driver,
            topic: Vec::new(),
            payload: Vec::new(),
            error: PhantomData,
        }
    }

    /// Received messages dropped because the queue was full, since the link was created.
    pub fn dropped_messages(&self) -> u32 {
        self.link.dropped_messages()
    }

    /// Whether the handle believes it is connected (a lost connection shows at the next call).
    pub fn is_connected(&self) -> bool {
        self.link
            .exchange
            .try_borrow()
            .is_ok_and(|e| e.state == LinkState::Up)
    }

    /// Checks the connection state before a call: `Lost` is reported once as `Disconnected`, then `Down`.
    fn require_up(&self) -> Result<(), HandleError> {
        let mut exchange = self
            .link
            .exchange
            .try_borrow_mut()
            .map_err(|_| HandleError::NotReady)?;
        match exchange.state {
            LinkState::Up => Ok(()),
            LinkState::Down => Err(HandleError::NotConnected),
            LinkState::Lost(reason) => {
                exchange.state = LinkState::Down;
                Err(HandleError::Disconnected { reason })
            }
        }
    }

    /// The request arguments, to copy a call's arguments in (only between requests, after `settle`).
    fn data(&self) -> Result<RefMut<'a, RequestData<PAYLOAD>>, HandleError> {
        self.link
            .data
            .try_borrow_mut()
            .map_err(|_| HandleError::NotReady)
    }

    /// Drives the driver until no request is in progress (a cancelled call may have left one).
    async fn settle(&mut self) {
        let link = self.link;
        let idle = poll_fn(|_| match link.exchange.try_borrow() {
            Ok(exchange) if exchange.in_progress.is_none() => Poll::Ready(()),
            _ => Poll::Pending,
        });
        match select(idle, self.driver.as_mut()).await {
            Either::First(()) => {}
            Either::Second(never) => match never {},
        }
    }

    /// Posts `request` (its arguments already copied into the link) and drives the driver until it is answered.
    async fn call(&mut self, request: Request) -> Result<(), F> {
        let link = self.link;
        let id = {
            let mut exchange = link.exchange.try_borrow_mut().map_err(|_| F::NOT_READY)?;
            exchange.last_id = exchange.last_id.wrapping_add(1);
            let id = exchange.last_id;
            // A request a cancelled call posted but the driver never took is replaced: it was never sent.
            exchange.posted = Some((id, request));
            exchange.answer = None;
            id
        };
        let answered = poll_fn(|_| {
            let Ok(mut exchange) = link.exchange.try_borrow_mut() else {
                return Poll::Pending;
            };
            match exchange.answer {
                Some((answered, result)) if answered == id => {
                    exchange.answer = None;
                    Poll::Ready(result)
                }
                _ => Poll::Pending,
            }
        });
        match select(answered, self.driver.as_mut()).await {
            Either::First(result) => result,
            Either::Second(never) => match never {},
        }
    }

    /// [`Transport::connect`](crate::Transport::connect), after the adapter checked the options it cannot
    /// honour.
    pub async fn connect(&mut self, options: &ConnectOptions<'_>) -> Result<(), E> {
        self.settle().await;
        {
            let mut data = self.data()?;
            copy_str("client id", options.client_id, &mut data.client_id)?;
            copy_str("user name", options.username, &mut data.username)?;
            copy_str("password", options.password, &mut data.password)?;
            data.keep_alive_secs = options.keep_alive_secs;
        }
        self.topic.clear();
        self.payload.clear();
        self.call(Request::Connect).await.map_err(E::from)
    }

    /// [`Transport::subscribe`](crate::Transport::subscribe).
    pub async fn subscribe(&mut self, filter: &str, qos: QoS) -> Result<(), E> {
        self.require_up()?;
        if filter.is_empty() {
            return Err(HandleError::InvalidTopic { what: "filter" }.into());
        }
        self.settle().await;
        {
            let mut data = self.data()?;
            copy_str("topic filter", filter, &mut data.topic)?;
        }
        self.call(Request::Subscribe {
            at_least_once: qos == QoS::AtLeastOnce,
        })
        .await
        .map_err(E::from)
    }

    /// [`Transport::publish`](crate::Transport::publish).
    pub async fn publish(&mut self, topic: &str, payload: &[u8], qos: QoS) -> Result<(), E> {
        let limit = MAX_PAYLOAD_LEN.min(PAYLOAD);
        let too_large = HandleError::PayloadTooLarge {
            len: payload.len(),
            limit,
        };
        if payload.len() > limit {
            return Err(too_large.into());
        }
        self.require_up()?;
        if topic.is_empty() || topic.contains(['+', '#']) {
            return Err(HandleError::InvalidTopic { what: "name" }.into());
        }
        self.settle().await;
        {
            let mut data = self.data()?;
            copy_str("topic", topic, &mut data.topic)?;
            data.payload.clear();
            data.payload
                .extend_from_slice(payload)
                .map_err(|_| too_large)?;
        }
        match self
            .call(Request::Publish {
                at_least_once: qos == QoS::AtLeastOnce,
            })
            .await
        {
            Ok(()) => Ok(()),
            Err(failure) if failure.is_too_large() => Err(too_large.into()),
            Err(failure) => Err(failure.into()),
        }
    }

    /// [`Transport::receive`](crate::Transport::receive).
    pub async fn receive(&mut self) -> Result<Incoming<'_>, E> {
        let Self {
            link,
            driver,
            topic,
            payload,
            ..
        } = self;
        let link = *link;
        let next = poll_fn(|_| {
            // Queued messages first, also after the connection was lost: nothing received is withheld.
            if let Ok(mut queue) = link.incoming.try_borrow_mut() {
                if queue.pop_into(topic, payload) {
                    return Poll::Ready(Ok(()));
                }
            }
            let Ok(mut exchange) = link.exchange.try_borrow_mut() else {
                return Poll::Pending;
            };
            match exchange.state {
                LinkState::Up => Poll::Pending,
                LinkState::Down => Poll::Ready(Err(HandleError::NotConnected)),
                LinkState::Lost(reason) => {
                    exchange.state = LinkState::Down;
                    Poll::Ready(Err(HandleError::Disconnected { reason }))
                }
            }
        });
        // Cancel-safe: the message is moved out of the queue only in the poll that returns it.
        match select(next, driver.as_mut()).await {
            Either::First(result) => result?,
            Either::Second(never) => match never {},
        }
        let topic = core::str::from_utf8(topic).map_err(|_| HandleError::Protocol)?;
        Ok(Incoming { topic, payload })
    }

    /// [`Transport::disconnect`](crate::Transport::disconnect).
    pub async fn disconnect(&mut self) -> Result<(), E> {
        match self.require_up() {
            Ok(()) => {}
            Err(HandleError::NotConnected | HandleError::Disconnected { .. }) => return Ok(()),
            Err(e) => return Err(e.into()),
        }
        self.settle().await;
        self.call(Request::Disconnect).await.map_err(E::from)
    }
}

fn copy_str<const N: usize>(
    field: &'static str,
    from: &str,
    to: &mut String<N>,
) -> Result<(), HandleError> {
    to.clear();
    to.push_str(from).map_err(|_| HandleError::TooLong {
        field,
        len: from.len(),
        capacity: N,
    })
}
