//! The driver future: owns the minimq session and its buffers, opens connections and serves the handle's
//! requests. It never reconnects on its own; it waits for the next `Connect` request (protocol.md §10.11: the
//! runtime paces reconnects).

use core::convert::Infallible;
use core::net::SocketAddr;

use embassy_futures::select::{select, Either};
use embassy_futures::yield_now;
use embassy_time::{with_deadline, Instant};
use embedded_io_async::Error as _;
use embedded_nal_async::TcpConnect;
use heapless::String;
use iot_transport::ConnectRefusal;
use minimq::{
    Buffers, ConfigBuilder, Connection, Error as MqttError, Io, Op, PeerError, PubError,
    Publication, QoS, ReasonCode, ResourceError, Session, SubscriptionOptions, TopicFilter,
};

use iot_transport::link::{
    LinkState, Request, CLIENT_ID_CAPACITY, PASSWORD_CAPACITY, USERNAME_CAPACITY,
};

use crate::link::{Failure, Link};

/// Runs the adapter: see [`Link::driver`].
pub(crate) async fn run<N, const P: usize, const Q: usize, const RX: usize, const TX: usize>(
    link: &Link<P, Q>,
    network: &N,
    broker: SocketAddr,
) -> Infallible
where
    N: TcpConnect,
{
    let mut rx = [0u8; RX];
    let mut tx = [0u8; TX];
    let mut next_connect: Option<u32> = None;
    loop {
        let id = match next_connect.take() {
            Some(id) => id,
            None => match link.core.next_request().await {
                (id, Request::Connect) => id,
                (id, _) => {
                    link.core
                        .answer(id, Err(Failure::NotConnected), Some(LinkState::Down))
                        .await;
                    continue;
                }
            },
        };
        if let Ok(mut queue) = link.core.incoming.try_borrow_mut() {
            queue.clear();
        }

        // The credentials must outlive the session, which borrows them.
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

        let deadline = Instant::now() + link.timeouts.connect;
        let io = match with_deadline(deadline, network.connect(broker)).await {
            Ok(Ok(io)) => io,
            Ok(Err(e)) => {
                link.core
                    .answer(id, Err(Failure::Network(e.kind())), Some(LinkState::Down))
                    .await;
                continue;
            }
            Err(_) => {
                link.core
                    .answer(
                        id,
                        Err(Failure::Timeout("TCP connection")),
                        Some(LinkState::Down),
                    )
                    .await;
                continue;
            }
        };

        // A fresh session per connection (the credentials change on every connect): clean start, and a session
        // expiry of 0 so the broker keeps nothing after the connection ends.
        let config = ConfigBuilder::new(Buffers::new(&mut rx, &mut tx))
            .keepalive_interval(keep_alive_secs)
            .session_expiry_interval(0)
            .client_id(&client_id);
        let config = match config {
            Ok(config) if username.is_empty() && password.is_empty() => Ok(config),
            Ok(config) => config.auth(&username, password.as_bytes()),
            Err(e) => Err(e),
        };
        let Ok(config) = config else {
            link.core
                .answer(
                    id,
                    Err(Failure::Options(
                        "minimq refused the client id or credentials",
                    )),
                    Some(LinkState::Down),
                )
                .await;
            continue;
        };
        let mut session = Session::new(config);
        let mut conn = match with_deadline(deadline, session.connect(io)).await {
            Ok(Ok(conn)) => conn,
            Ok(Err(e)) => {
                link.core
                    .answer(id, Err(connect_failure(e)), Some(LinkState::Down))
                    .await;
                continue;
            }
            Err(_) => {
                link.core
                    .answer(id, Err(Failure::Timeout("CONNACK")), Some(LinkState::Down))
                    .await;
                continue;
            }
        };
        link.core.answer(id, Ok(()), Some(LinkState::Up)).await;

        // Serve requests until the connection ends or the handle asks for a new one.
        loop {
            match select(conn.poll(), link.core.request_waiting()).await {
                Either::First(Ok(Some(message))) => {
                    link.core.push_incoming(message.topic(), message.payload());
                    yield_now().await;
                }
                Either::First(Ok(None)) => {}
                Either::First(Err(e)) => {
                    if !conn.is_connected() {
                        link.core.set_state(LinkState::Lost(lost_reason(&e)));
                        yield_now().await;
                        break;
                    }
                    // A failure reason for an operation nobody waits for any more (its call was cancelled).
                }
                Either::Second(()) => {
                    let Some((id, request)) = link.core.take_request() else {
                        continue;
                    };
                    let result = match request {
                        Request::Connect => {
                            // Contract: connect closes the previous connection. Dropping it closes the socket.
                            next_connect = Some(id);
                            break;
                        }
                        Request::Disconnect => {
                            let result = conn
                                .disconnect()
                                .await
                                .map_err(|e| session_failure(&conn, e));
                            link.core.answer(id, result, Some(LinkState::Down)).await;
                            break;
                        }
                        Request::Subscribe { at_least_once } => {
                            subscribe(&mut conn, link, at_least_once).await
                        }
                        Request::Publish { at_least_once } => {
                            publish(&mut conn, link, at_least_once).await
                        }
                    };
                    if conn.is_connected() {
                        link.core.answer(id, result, None).await;
                    } else {
                        let result = result.and(Err(Failure::Lost("the connection closed")));
                        link.core.answer(id, result, Some(LinkState::Down)).await;
                        break;
                    }
                }
            }
        }
    }
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
async fn subscribe<IO: Io, const P: usize, const Q: usize>(
    conn: &mut Connection<'_, '_, IO>,
    link: &Link<P, Q>,
    at_least_once: bool,
) -> Result<(), Failure> {
    let op = {
        let data = link.core.data.try_borrow().map_err(|_| Failure::NotReady)?;
        let options = SubscriptionOptions::default().maximum_qos(qos(at_least_once));
        // protocol.md §3.5: one topic filter per SUBSCRIBE.
        let filter = [TopicFilter::new(data.topic.as_str()).options(options)];
        conn.subscribe(&filter, &[])
            .await
            .map_err(|e| session_failure(conn, e))?
    };
    wait_for(conn, link, op, "SUBACK").await
}

// The handle writes `link.core.data` only between requests (after `settle`), so this borrow never meets another.
#[expect(
    clippy::await_holding_refcell_ref,
    reason = "the request's arguments are read while it is sent"
)]
async fn publish<IO: Io, const P: usize, const Q: usize>(
    conn: &mut Connection<'_, '_, IO>,
    link: &Link<P, Q>,
    at_least_once: bool,
) -> Result<(), Failure> {
    let op = {
        let data = link.core.data.try_borrow().map_err(|_| Failure::NotReady)?;
        // protocol.md §3.5: never retain (Publication defaults to not retained).
        let publication = Publication::bytes(data.topic.as_str(), data.payload.as_slice())
            .qos(qos(at_least_once));
        match conn.publish(publication).await {
            Ok(op) => op,
            Err(PubError::Session(e)) => return Err(session_failure(conn, e)),
            Err(PubError::Payload(())) => return Err(Failure::TooLarge),
        }
    };
    match op {
        // QoS 0: written and flushed.
        None => Ok(()),
        Some(op) => wait_for(conn, link, op, "PUBACK").await,
    }
}

/// Drives the connection until `op` is acknowledged, keeping messages that arrive meanwhile.
async fn wait_for<IO: Io, const P: usize, const Q: usize>(
    conn: &mut Connection<'_, '_, IO>,
    link: &Link<P, Q>,
    op: Op,
    ack: &'static str,
) -> Result<(), Failure> {
    let deadline = Instant::now() + link.timeouts.ack;
    loop {
        if conn.is_complete(&op) {
            return Ok(());
        }
        if conn.is_invalidated(&op) || !conn.is_connected() {
            return Err(Failure::Lost("the connection closed"));
        }
        let error = match with_deadline(deadline, conn.poll()).await {
            Err(_) => return Err(Failure::Timeout(ack)),
            Ok(Ok(Some(message))) => {
                link.core.push_incoming(message.topic(), message.payload());
                continue;
            }
            Ok(Ok(None)) => continue,
            Ok(Err(e)) => e,
        };
        match error {
            // minimq marks the operation complete, then reports the failure code of its acknowledgement.
            MqttError::Peer(PeerError::Rejected(code)) if conn.is_complete(&op) => {
                let code = u8::from(code);
                return Err(if ack == "SUBACK" {
                    Failure::SubscribeRefused(code)
                } else {
                    Failure::PublishRefused(code)
                });
            }
            e if !conn.is_connected() => return Err(session_failure(conn, e)),
            // A failure code for an operation whose call was cancelled earlier.
            _ => {}
        }
    }
}

/// Maps an error of a live session.
fn session_failure<IO: Io, E>(conn: &Connection<'_, '_, IO>, e: MqttError<E>) -> Failure {
    if !conn.is_connected() {
        return Failure::Lost(lost_reason(&e));
    }
    match e {
        MqttError::Resource(ResourceError::BufferTooSmall | ResourceError::PacketTooLarge) => {
            Failure::TooLarge
        }
        MqttError::NotReady | MqttError::Resource(_) => Failure::NotReady,
        MqttError::InvalidRequest => Failure::Options("minimq refused the topic or QoS"),
        MqttError::Peer(PeerError::Rejected(code)) => Failure::PublishRefused(u8::from(code)),
        _ => Failure::Protocol,
    }
}

fn lost_reason<E>(e: &MqttError<E>) -> &'static str {
    match e {
        MqttError::Disconnected => {
            "the broker closed the connection or stopped answering keep-alive pings"
        }
        MqttError::Transport(_) | MqttError::WriteZero => "network error",
        MqttError::Peer(_) => "the broker sent an invalid packet",
        _ => "the connection closed",
    }
}

/// Maps a failed CONNECT.
fn connect_failure<E: embedded_io_async::Error>(e: MqttError<E>) -> Failure {
    match e {
        MqttError::Peer(PeerError::Rejected(code)) => Failure::Refused(refusal(code)),
        MqttError::Transport(e) => Failure::Network(e.kind()),
        MqttError::Disconnected | MqttError::WriteZero => {
            Failure::Lost("the broker closed the connection during CONNECT")
        }
        MqttError::Resource(_) => {
            Failure::Options("TX buffer too small for the CONNECT packet; raise TX")
        }
        _ => Failure::Protocol,
    }
}

/// MQTT 5 CONNACK reason codes onto the 3.1.1 refusal reasons the trait uses (MQTT 5.0 §3.2.2.2).
pub(crate) fn refusal(code: ReasonCode) -> ConnectRefusal {
    match code {
        ReasonCode::UnsupportedProtocol => ConnectRefusal::UnacceptableProtocolVersion,
        ReasonCode::ClientIdentifierInvalid => ConnectRefusal::IdentifierRejected,
        ReasonCode::ServerUnavailable | ReasonCode::ServerBusy => ConnectRefusal::ServerUnavailable,
        ReasonCode::BadUsernameOrPassword => ConnectRefusal::BadCredentials,
        ReasonCode::NotAuthorized => ConnectRefusal::NotAuthorized,
        other => ConnectRefusal::Other(u8::from(other)),
    }
}
