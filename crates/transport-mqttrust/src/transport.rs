//! The [`Transport`] handle.

use core::convert::Infallible;
use core::future::{poll_fn, Future};
use core::pin::Pin;
use core::task::Poll;

use embassy_futures::select::{select, Either};
use heapless::Vec;
use iot_transport::{ConnectOptions, Incoming, QoS, Transport, MAX_PAYLOAD_LEN};

use crate::error::Error;
use crate::link::{Failure, Link, LinkState, Request, TOPIC_CAPACITY};

/// MQTT 3.1.1 [`Transport`] over mqttrust; see the [crate documentation](crate) for the set-up.
///
/// `D` is the driver future returned by [`Link::driver`]; the handle polls it whenever one of its calls waits, so
/// the connection makes progress (reads, acknowledgements, keep-alive) only while a call is awaited. The runtime's
/// `receive` loop keeps it going.
pub struct MqttrustTransport<'a, D, const PAYLOAD: usize, const QUEUE: usize> {
    link: &'a Link<PAYLOAD, QUEUE>,
    driver: Pin<&'a mut D>,
    /// The message the last `receive` returned; `Incoming` borrows from here.
    topic: Vec<u8, TOPIC_CAPACITY>,
    payload: Vec<u8, PAYLOAD>,
}

impl<'a, D, const PAYLOAD: usize, const QUEUE: usize> MqttrustTransport<'a, D, PAYLOAD, QUEUE>
where
    D: Future<Output = Infallible>,
{
    /// A disconnected handle over `link` and the driver future made from the same link.
    pub fn new(link: &'a Link<PAYLOAD, QUEUE>, driver: Pin<&'a mut D>) -> Self {
        Self {
            link,
            driver,
            topic: Vec::new(),
            payload: Vec::new(),
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
    fn require_up(&self) -> Result<(), Error> {
        let mut exchange = self
            .link
            .exchange
            .try_borrow_mut()
            .map_err(|_| Error::NotReady)?;
        match exchange.state {
            LinkState::Up => Ok(()),
            LinkState::Down => Err(Error::NotConnected),
            LinkState::Lost(reason) => {
                exchange.state = LinkState::Down;
                Err(Error::Disconnected { reason })
            }
        }
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
    async fn call(&mut self, request: Request) -> Result<(), Failure> {
        let link = self.link;
        let id = {
            let mut exchange = link
                .exchange
                .try_borrow_mut()
                .map_err(|_| Failure::NotReady)?;
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
}

fn copy_str<const N: usize>(
    field: &'static str,
    from: &str,
    to: &mut heapless::String<N>,
) -> Result<(), Error> {
    to.clear();
    to.push_str(from).map_err(|_| Error::TooLong {
        field,
        len: from.len(),
        capacity: N,
    })
}

impl<D, const PAYLOAD: usize, const QUEUE: usize> Transport
    for MqttrustTransport<'_, D, PAYLOAD, QUEUE>
where
    D: Future<Output = Infallible>,
{
    type Error = Error;

    async fn connect(&mut self, options: &ConnectOptions<'_>) -> Result<(), Error> {
        if !options.clean_session {
            // Each connection gets a fresh mqttrust stack, whose first CONNECT always sets clean session.
            return Err(Error::Options(
                "the mqttrust adapter always starts a clean session; set clean_session",
            ));
        }
        if options.keep_alive_secs == 0 {
            // mqttrust pings every keep-alive interval; with 0 it would ping without pause.
            return Err(Error::Options(
                "the mqttrust adapter needs a keep-alive of at least 1 s",
            ));
        }
        self.settle().await;
        {
            let mut data = self
                .link
                .data
                .try_borrow_mut()
                .map_err(|_| Error::NotReady)?;
            copy_str("client id", options.client_id, &mut data.client_id)?;
            copy_str("user name", options.username, &mut data.username)?;
            copy_str("password", options.password, &mut data.password)?;
            data.keep_alive_secs = options.keep_alive_secs;
        }
        self.topic.clear();
        self.payload.clear();
        self.call(Request::Connect).await.map_err(Error::from)
    }

    async fn subscribe(&mut self, filter: &str, qos: QoS) -> Result<(), Error> {
        self.require_up()?;
        if filter.is_empty() {
            return Err(Error::InvalidTopic { what: "filter" });
        }
        self.settle().await;
        {
            let mut data = self
                .link
                .data
                .try_borrow_mut()
                .map_err(|_| Error::NotReady)?;
            copy_str("topic filter", filter, &mut data.topic)?;
        }
        self.call(Request::Subscribe {
            at_least_once: qos == QoS::AtLeastOnce,
        })
        .await
        .map_err(Error::from)
    }

    async fn publish(&mut self, topic: &str, payload: &[u8], qos: QoS) -> Result<(), Error> {
        let limit = MAX_PAYLOAD_LEN.min(PAYLOAD);
        if payload.len() > limit {
            return Err(Error::PayloadTooLarge {
                len: payload.len(),
                limit,
            });
        }
        self.require_up()?;
        if topic.is_empty() || topic.contains(['+', '#']) {
            return Err(Error::InvalidTopic { what: "name" });
        }
        self.settle().await;
        {
            let mut data = self
                .link
                .data
                .try_borrow_mut()
                .map_err(|_| Error::NotReady)?;
            copy_str("topic", topic, &mut data.topic)?;
            data.payload.clear();
            data.payload
                .extend_from_slice(payload)
                .map_err(|_| Error::PayloadTooLarge {
                    len: payload.len(),
                    limit,
                })?;
        }
        match self
            .call(Request::Publish {
                at_least_once: qos == QoS::AtLeastOnce,
            })
            .await
        {
            Ok(()) => Ok(()),
            Err(Failure::TooLarge) => Err(Error::PayloadTooLarge {
                len: payload.len(),
                limit,
            }),
            Err(failure) => Err(failure.into()),
        }
    }

    async fn receive(&mut self) -> Result<Incoming<'_>, Error> {
        let Self {
            link,
            driver,
            topic,
            payload,
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
                LinkState::Down => Poll::Ready(Err(Error::NotConnected)),
                LinkState::Lost(reason) => {
                    exchange.state = LinkState::Down;
                    Poll::Ready(Err(Error::Disconnected { reason }))
                }
            }
        });
        // Cancel-safe: the message is moved out of the queue only in the poll that returns it.
        match select(next, driver.as_mut()).await {
            Either::First(result) => result?,
            Either::Second(never) => match never {},
        }
        let topic = core::str::from_utf8(topic).map_err(|_| Error::Protocol)?;
        Ok(Incoming { topic, payload })
    }

    async fn disconnect(&mut self) -> Result<(), Error> {
        match self.require_up() {
            Ok(()) => {}
            Err(Error::NotConnected | Error::Disconnected { .. }) => return Ok(()),
            Err(e) => return Err(e),
        }
        self.settle().await;
        self.call(Request::Disconnect).await.map_err(Error::from)
    }
}
