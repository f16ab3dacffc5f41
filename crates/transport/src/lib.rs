//! The MQTT transport the device runtime is generic over.
//!
//! One small async trait, [`Transport`], with the five operations a Tencent Cloud IoT Explorer device needs:
//! connect with credentials, subscribe, publish at QoS 0 or 1, receive the next message, disconnect. Adapters
//! implement it over a concrete MQTT client (rumqttc on `std`, mqttrust and minimq on `no_std`); the runtime and its
//! tests see only this trait. The crate knows nothing of the protocol's topics or JSON, and nothing of sensors.
//!
//! The cloud's MQTT limits shape the trait (protocol.md §3.5):
//! * no QoS 2 ([`QoS`] has two levels), no retain, no will: adapters never set them;
//! * one topic filter per SUBSCRIBE ([`Transport::subscribe`] takes one filter);
//! * payloads up to 16 KB (protocol.md §11.4): adapters refuse larger publishes with
//!   [`ErrorKind::PayloadTooLarge`] before sending.
#![no_std]
#![allow(async_fn_in_trait)]

use core::fmt;

#[cfg(feature = "link")]
pub mod link;
#[cfg(feature = "link")]
pub mod queue;

/// Largest payload a publish may carry, in bytes (protocol.md §3.5, §11.4).
pub const MAX_PAYLOAD_LEN: usize = 16 * 1024;

/// Delivery guarantee of a publish or subscription. The cloud has no QoS 2 (protocol.md §3.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum QoS {
    /// Fire and forget.
    AtMostOnce,
    /// Acknowledged by the broker (PUBACK).
    AtLeastOnce,
}

/// What a CONNECT carries. Build the strings with `iot_core::credentials`.
#[derive(Clone, Copy)]
pub struct ConnectOptions<'a> {
    /// `ProductId + DeviceName` (protocol.md §3.2).
    pub client_id: &'a str,
    /// `{clientid};{sdkappid};{connid};{expiry}`.
    pub username: &'a str,
    /// `{hex hmac};hmacsha256` or `;hmacsha1`. Never logged.
    pub password: &'a str,
    /// Keep-alive interval; the cloud accepts 0–900 s (protocol.md §3.5).
    pub keep_alive_secs: u16,
    /// Start a clean session (the SDK default).
    pub clean_session: bool,
}

impl fmt::Debug for ConnectOptions<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectOptions")
            .field("client_id", &self.client_id)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("keep_alive_secs", &self.keep_alive_secs)
            .field("clean_session", &self.clean_session)
            .finish()
    }
}

/// A PUBLISH received from the broker, borrowed from the transport's buffer until the next call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Incoming<'a> {
    /// The topic it was published on.
    pub topic: &'a str,
    /// Its payload.
    pub payload: &'a [u8],
}

/// Why the broker refused a CONNECT (MQTT 3.1.1 §3.2.2.3 return codes, or the MQTT 5 reason code mapped onto
/// them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ConnectRefusal {
    /// 1: the broker does not speak this protocol level.
    UnacceptableProtocolVersion,
    /// 2: the client identifier was refused.
    IdentifierRejected,
    /// 3: the service is unavailable.
    ServerUnavailable,
    /// 4: bad user name or password — for IoT Explorer a wrong PSK, clock or expiry.
    BadCredentials,
    /// 5: not authorized — for IoT Explorer an unknown or disabled device.
    NotAuthorized,
    /// Any other code.
    Other(u8),
}

impl ConnectRefusal {
    /// Maps an MQTT 3.1.1 CONNACK return code (non-zero).
    pub fn from_v3_code(code: u8) -> Self {
        match code {
            1 => Self::UnacceptableProtocolVersion,
            2 => Self::IdentifierRejected,
            3 => Self::ServerUnavailable,
            4 => Self::BadCredentials,
            5 => Self::NotAuthorized,
            other => Self::Other(other),
        }
    }
}

/// The kind of a transport error: what the runtime needs to decide whether to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ErrorKind {
    /// The broker refused the CONNECT. Retrying with the same credentials will not help for
    /// [`ConnectRefusal::BadCredentials`] and [`ConnectRefusal::NotAuthorized`].
    Refused(ConnectRefusal),
    /// An operation needs a connection and there is none.
    NotConnected,
    /// The connection dropped (network error, broker closed it, keep-alive expired).
    Disconnected,
    /// The broker did not answer in time (CONNACK, SUBACK, PUBACK).
    Timeout,
    /// The broker refused a subscription (SUBACK failure code).
    SubscribeRefused,
    /// A publish larger than [`MAX_PAYLOAD_LEN`] or than the adapter's buffers.
    PayloadTooLarge,
    /// A QoS the adapter cannot provide.
    UnsupportedQoS,
    /// The peer broke the MQTT protocol.
    Protocol,
    /// Anything else.
    Other,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Refused(r) => write!(f, "broker refused the connection: {r:?}"),
            Self::NotConnected => f.write_str("not connected"),
            Self::Disconnected => f.write_str("connection lost"),
            Self::Timeout => f.write_str("broker did not answer in time"),
            Self::SubscribeRefused => f.write_str("broker refused the subscription"),
            Self::PayloadTooLarge => f.write_str("payload too large"),
            Self::UnsupportedQoS => f.write_str("QoS not supported by this transport"),
            Self::Protocol => f.write_str("MQTT protocol violation"),
            Self::Other => f.write_str("transport error"),
        }
    }
}

/// A transport error: any type that can say which [`ErrorKind`] it is.
pub trait Error: fmt::Debug {
    /// The kind of error.
    fn kind(&self) -> ErrorKind;
}

impl Error for ErrorKind {
    fn kind(&self) -> ErrorKind {
        *self
    }
}

/// An MQTT 3.1.1 (or 5) client connection, as the device runtime uses it.
///
/// Contract for implementations:
/// * [`connect`](Transport::connect) closes any previous connection first, then opens the network connection and
///   completes the CONNECT/CONNACK handshake. After it fails, the transport is disconnected.
/// * [`subscribe`](Transport::subscribe) sends one SUBSCRIBE with one filter and returns when the SUBACK grants it.
/// * [`publish`](Transport::publish) never sets retain. At QoS 1 it returns when the PUBACK arrives.
/// * Messages that arrive while `subscribe` or `publish` wait for their acknowledgement are kept and handed out by
///   later [`receive`](Transport::receive) calls, in order; an adapter that must drop one (its buffer is full)
///   reports it through its own counters, never silently.
/// * [`receive`](Transport::receive) waits for the next PUBLISH and services keep-alive meanwhile. It is
///   cancel-safe: the runtime races it against timers, and dropping its future loses no message.
/// * After any error of kind [`ErrorKind::Disconnected`], every call but `connect` fails with
///   [`ErrorKind::NotConnected`] until the next successful `connect`.
pub trait Transport {
    /// The adapter's error type.
    type Error: Error;

    /// Connects and logs in.
    async fn connect(&mut self, options: &ConnectOptions<'_>) -> Result<(), Self::Error>;

    /// Subscribes to one topic filter.
    async fn subscribe(&mut self, filter: &str, qos: QoS) -> Result<(), Self::Error>;

    /// Publishes a message.
    async fn publish(&mut self, topic: &str, payload: &[u8], qos: QoS) -> Result<(), Self::Error>;

    /// Waits for the next incoming message.
    async fn receive(&mut self) -> Result<Incoming<'_>, Self::Error>;

    /// Disconnects cleanly (sends DISCONNECT when connected).
    async fn disconnect(&mut self) -> Result<(), Self::Error>;
}
