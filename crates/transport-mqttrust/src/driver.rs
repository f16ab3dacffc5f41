//! The driver future: owns mqttrust's `State`, runs its `MqttStack` for one connection at a time and serves the
//! handle's requests through its `MqttClient`.
//!
//! mqttrust reconnects on its own and keeps the CONNACK code to itself; the adapter needs neither. So the stack gets
//! its TCP connections from [`OneShot`], which opens one connection per `connect` request and refuses the stack's
//! own reconnect attempts (with a back-off of `None` the stack then stops), and which reads the CONNACK return code
//! off the first four bytes the broker sends (MQTT 3.1.1 §3.2: `0x20 0x02 flags code`).

use core::cell::Cell;
use core::convert::Infallible;
use core::future::poll_fn;
use core::net::SocketAddr;
use core::pin::Pin;
use core::task::Poll;

use embassy_futures::select::{select, Either};
use embassy_futures::yield_now;
use embassy_sync::blocking_mutex::raw::NoopRawMutex;
use embassy_time::{with_timeout, Duration};
use embedded_io_async::{Error as _, ErrorKind, ErrorType, Read, Write};
use embedded_nal_async::TcpConnect;
use futures_util::Stream;
use heapless::String;
use iot_transport::ConnectRefusal;
use mqttrust::transport::embedded_nal::NalTransport;
use mqttrust::{
    Config, IpBroker, MqttClient, Publish, QoS, State, Subscribe, SubscribeTopic, Subscription,
};

use iot_transport::link::{
    LinkState, Request, CLIENT_ID_CAPACITY, PASSWORD_CAPACITY, USERNAME_CAPACITY,
};

use crate::link::{Failure, Link};

/// Subscriptions one connection can hold: mqttrust's `MAX_SUBSCRIBERS` (8 by default).
pub const MAX_SUBSCRIPTIONS: usize = mqttrust::crate_config::MAX_SUBSCRIBERS;

/// Longest wait for a PUBACK: mqttrust's first publish attempt gives up after 5 s and sends the message again.
const PUBLISH_RESEND_GUARD: Duration = Duration::from_millis(4500);

/// What [`OneShot`] saw of its connection.
#[derive(Default)]
struct Report {
    /// The first bytes the broker sent, for the CONNACK.
    first: Cell<[u8; 4]>,
    seen: Cell<usize>,
    /// Why opening TCP failed.
    network: Cell<Option<ErrorKind>>,
    /// Whether the one connection was handed out.
    spent: Cell<bool>,
}

impl Report {
    fn observe(&self, bytes: &[u8]) {
        let mut first = self.first.get();
        let mut seen = self.seen.get();
        for &byte in bytes {
            let Some(slot) = first.get_mut(seen) else {
                break;
            };
            *slot = byte;
            seen += 1;
        }
        self.first.set(first);
        self.seen.set(seen);
    }

    /// The CONNACK return code, once its four bytes went by.
    fn connack_code(&self) -> Option<u8> {
        let [kind, len, _flags, code] = self.first.get();
        (self.seen.get() >= 4 && kind == 0x20 && len == 0x02).then_some(code)
    }
}

/// A `TcpConnect` that opens one connection, then refuses.
struct OneShot<'a, N> {
    network: &'a N,
    report: &'a Report,
}

impl<N: TcpConnect> TcpConnect for OneShot<'_, N> {
    type Error = ErrorKind;
    type Connection<'b>
        = Tap<'b, N::Connection<'b>>
    where
        Self: 'b;

    async fn connect<'b>(&'b self, remote: SocketAddr) -> Result<Self::Connection<'b>, ErrorKind> {
        if self.report.spent.replace(true) {
            // The stack trying to reconnect: the runtime decides when to connect again (protocol.md §10.11).
            return Err(ErrorKind::NotConnected);
        }
        match self.network.connect(remote).await {
            Ok(inner) => Ok(Tap {
                inner,
                report: self.report,
            }),
            Err(e) => {
                self.report.network.set(Some(e.kind()));
                Err(e.kind())
            }
        }
    }
}

/// A connection that shows the first bytes it reads to a [`Report`].
struct Tap<'a, C> {
    inner: C,
    report: &'a Report,
}

impl<C> ErrorType for Tap<'_, C> {
    type Error = ErrorKind;
}

impl<C: Read> Read for Tap<'_, C> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        let n = self.inner.read(buf).await.map_err(|e| e.kind())?;
        if self.report.seen.get() < 4 {
            self.report.observe(buf.get(..n).unwrap_or_default());
        }
        Ok(n)
    }
}

impl<C: Write> Write for Tap<'_, C> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, ErrorKind> {
        self.inner.write(buf).await.map_err(|e| e.kind())
    }

    async fn flush(&mut self) -> Result<(), ErrorKind> {
        self.inner.flush().await.map_err(|e| e.kind())
    }
}

/// How a connection's request loop ended.
enum End {
    /// The handle asked for a new connection (request id).
    Reconnect(u32),
    /// The handle asked to disconnect (request id).
    Disconnect(u32),
}

/// Runs the adapter: see [`Link::driver`].
pub(crate) async fn run<N, const P: usize, const Q: usize, const TX: usize, const RX: usize>(
    link: &Link<P, Q>,
    network: &N,
    broker: SocketAddr,
) -> Infallible
where
    N: TcpConnect,
{
    let mut state = State::<NoopRawMutex, TX, RX>::new();
    let mut next_connect: Option<u32> = None;
    loop {
        let id = match next_connect.take() {
            Some(id) => id,
            None => {
                link.core.request_waiting().await;
                match link.core.take_request() {
                    Some((id, Request::Connect)) => id,
                    Some((id, _)) => {
                        link.core
                            .answer(id, Err(Failure::NotConnected), Some(LinkState::Down))
                            .await;
                        continue;
                    }
                    None => continue,
                }
            }
        };
        if let Ok(mut queue) = link.core.incoming.try_borrow_mut() {
            queue.clear();
        }

        // The credentials must outlive the stack, whose configuration borrows them.
        let mut client_id: String<CLIENT_ID_CAPACITY> = String::new();
        let mut username: String<USERNAME_CAPACITY> = String::new();
        let mut password: String<PASSWORD_CAPACITY> = String::new();
        let keep_alive_secs = match link.core.data.try_borrow() {
            Ok(data) => {
                client_id.clone_from(&data.client_id);
                username.clone_from(&data.username);
                password.clone_from(&data.password);
                data.keep_alive_secs
            }
            Err(_) => {
                link.core
                    .answer(id, Err(Failure::NotReady), Some(LinkState::Down))
                    .await;
                continue;
            }
        };
        let Ok(mqtt_client_id) = client_id.as_str().try_into() else {
            link.core
                .answer(
                    id,
                    Err(Failure::Options(
                        "client id longer than mqttrust's 64 bytes",
                    )),
                    Some(LinkState::Down),
                )
                .await;
            continue;
        };
        let config = Config::builder()
            .client_id(mqtt_client_id)
            .keepalive_interval(Duration::from_secs(u64::from(keep_alive_secs)))
            .connect_timeout(link.timeouts.connect)
            // Never retry: a failed or lost connection ends `MqttStack::run`.
            .backoff_algo(|_| None)
            .maybe_username((!username.is_empty()).then_some(username.as_str()))
            .maybe_password((!password.is_empty()).then_some(password.as_bytes()))
            .build();

        let report = Report::default();
        let one_shot = OneShot {
            network,
            report: &report,
        };
        let mut transport = NalTransport::new(&one_shot, IpBroker::from(broker));
        let (mut stack, client) = mqttrust::new(&mut state, config);

        let end = match select(stack.run(&mut transport), serve(&client, link, id)).await {
            Either::First(()) => None,
            Either::Second(end) => Some(end),
        };
        match end {
            None => {
                // The stack stopped: the connection failed or was lost.
                let exchange = link
                    .core
                    .exchange
                    .try_borrow()
                    .map(|e| (e.in_progress, e.state));
                let (in_progress, state) = exchange.unwrap_or((None, LinkState::Down));
                let lost = LinkState::Lost("the broker closed the connection or stopped answering");
                if in_progress == Some(id) && report.connack_code() == Some(0) {
                    // Accepted, then closed before the request loop ran: connect succeeded, the loss shows next.
                    link.core.answer(id, Ok(()), Some(lost)).await;
                } else if let Some(request) = in_progress {
                    let failure = if request == id {
                        connect_failure(&report)
                    } else {
                        Failure::Lost("the connection closed")
                    };
                    link.core
                        .answer(request, Err(failure), Some(LinkState::Down))
                        .await;
                } else if state == LinkState::Up {
                    link.core.set_state(lost);
                    yield_now().await;
                }
            }
            Some(End::Reconnect(next)) => next_connect = Some(next),
            Some(End::Disconnect(request)) => {
                let result = stack
                    .disconnect(&mut transport)
                    .await
                    .map_err(|_| Failure::Lost("network error"));
                link.core
                    .answer(request, result, Some(LinkState::Down))
                    .await;
            }
        }
    }
}

/// Why the connection attempt behind request `id` failed.
fn connect_failure(report: &Report) -> Failure {
    if let Some(kind) = report.network.get() {
        return Failure::Network(kind);
    }
    match report.connack_code() {
        Some(0) => Failure::Lost("the connection closed right after the CONNACK"),
        Some(code) => Failure::Refused(ConnectRefusal::from_v3_code(code)),
        None if report.seen.get() > 0 => Failure::Protocol,
        None => Failure::Timeout("CONNACK"),
    }
}

/// Serves one connection: answers the connect request once the CONNACK accepted it, then handles requests and
/// copies received messages into the link until the handle asks for a new connection or a disconnect. Returns only
/// then; a lost connection ends the stack instead, which drops this future.
async fn serve<'a, 'b, const P: usize, const Q: usize>(
    client: &'b MqttClient<'a, NoopRawMutex>,
    link: &Link<P, Q>,
    connect_id: u32,
) -> End {
    client.wait_connected().await;
    link.core
        .answer(connect_id, Ok(()), Some(LinkState::Up))
        .await;

    let mut subscriptions: heapless::Vec<Subscription<'a, 'b, NoopRawMutex, 1>, MAX_SUBSCRIPTIONS> =
        heapless::Vec::new();
    loop {
        match select(
            next_messages(&mut subscriptions, link),
            link.core.request_waiting(),
        )
        .await
        {
            Either::First(()) => yield_now().await,
            Either::Second(()) => {
                let Some((id, request)) = link.core.take_request() else {
                    continue;
                };
                let result = match request {
                    Request::Connect => return End::Reconnect(id),
                    Request::Disconnect => return End::Disconnect(id),
                    Request::Subscribe { at_least_once } => {
                        subscribe(client, link, at_least_once, &mut subscriptions).await
                    }
                    Request::Publish { at_least_once } => {
                        publish(client, link, at_least_once).await
                    }
                };
                link.core.answer(id, result, None).await;
            }
        }
    }
}

/// Waits until at least one subscription has a message and copies every ready one into the link.
///
/// Each subscription reads mqttrust's receive ring at its own position, one frame per poll, skipping frames its
/// filter does not match. Polling all of them every time keeps them in step, so messages leave in arrival order.
async fn next_messages<const P: usize, const Q: usize>(
    subscriptions: &mut [Subscription<'_, '_, NoopRawMutex, 1>],
    link: &Link<P, Q>,
) {
    poll_fn(|cx| {
        let mut any = false;
        for subscription in subscriptions.iter_mut() {
            if let Poll::Ready(Some(message)) = Pin::new(subscription).poll_next(cx) {
                link.core
                    .push_incoming(message.topic_name(), message.payload());
                any = true;
            }
        }
        if any {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
}

fn qos(at_least_once: bool) -> QoS {
    if at_least_once {
        QoS::AtLeastOnce
    } else {
        QoS::AtMostOnce
    }
}

// The handle writes `link.core.data` only between requests (after `settle`), so this borrow never meets another.
#[expect(
    clippy::await_holding_refcell_ref,
    reason = "the request's arguments are read while it is sent"
)]
async fn subscribe<'a, 'b, const P: usize, const Q: usize>(
    client: &'b MqttClient<'a, NoopRawMutex>,
    link: &Link<P, Q>,
    at_least_once: bool,
    subscriptions: &mut heapless::Vec<Subscription<'a, 'b, NoopRawMutex, 1>, MAX_SUBSCRIPTIONS>,
) -> Result<(), Failure> {
    if subscriptions.is_full() {
        return Err(Failure::Options(
            "mqttrust holds at most 8 subscriptions per connection",
        ));
    }
    let data = link.core.data.try_borrow().map_err(|_| Failure::NotReady)?;
    // protocol.md §3.5: one topic filter per SUBSCRIBE.
    let topics = [SubscribeTopic::builder()
        .topic_path(data.topic.as_str())
        .maximum_qos(qos(at_least_once))
        .build()];
    let subscribe = Subscribe::builder().topics(&topics).build();
    // mqttrust retries a SUBSCRIBE itself (after 3, 6, 9 s); the adapter's own limit comes first.
    let subscription = match with_timeout(link.timeouts.ack, client.subscribe::<1>(subscribe)).await
    {
        Err(_) => return Err(Failure::Timeout("SUBACK")),
        Ok(Err(e)) => return Err(client_failure(e)),
        Ok(Ok(subscription)) => subscription,
    };
    subscriptions
        .push(subscription)
        .map_err(|_| Failure::NotReady)
}

// See `subscribe`.
#[expect(
    clippy::await_holding_refcell_ref,
    reason = "the request's arguments are read while it is sent"
)]
async fn publish<const P: usize, const Q: usize>(
    client: &MqttClient<'_, NoopRawMutex>,
    link: &Link<P, Q>,
    at_least_once: bool,
) -> Result<(), Failure> {
    let data = link.core.data.try_borrow().map_err(|_| Failure::NotReady)?;
    // protocol.md §3.5: never retain.
    let publish = Publish::builder()
        .topic_name(data.topic.as_str())
        .payload(data.payload.as_slice())
        .qos(qos(at_least_once))
        .retain(false)
        .build();
    // mqttrust re-sends an unacknowledged PUBLISH after 5 s under a new packet id (a duplicate for the broker);
    // the adapter's own limit comes first.
    let limit = link.timeouts.ack.min(PUBLISH_RESEND_GUARD);
    match with_timeout(limit, client.publish(publish)).await {
        Err(_) => Err(Failure::Timeout("PUBACK")),
        Ok(Err(e)) => Err(client_failure(e)),
        Ok(Ok(())) => Ok(()),
    }
}

fn client_failure(e: mqttrust::Error) -> Failure {
    use mqttrust::Error as E;
    match e {
        E::BadTopicFilter => Failure::SubscribeRefused,
        E::Overflow => Failure::TooLarge,
        E::MaxInflight | E::TooManyClients | E::StateMismatch => Failure::NotReady,
        E::Timeout => Failure::Timeout("acknowledgement"),
        E::Read | E::Write => Failure::Lost("network error"),
        _ => Failure::Protocol,
    }
}
