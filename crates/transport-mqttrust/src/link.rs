//! State shared by the [`MqttrustTransport`](crate::MqttrustTransport) handle and its driver future.
//!
//! mqttrust's `MqttStack` and `MqttClient` borrow its `State` (the packet buffers) and the `Config` (the
//! credentials); such a self-referential group can only live inside an async function's state, the driver. The
//! handle and the driver share an [`iot_transport::link::LinkCore`] (see that module for how they exchange
//! requests).

use embassy_time::Duration;
use iot_transport::link::{LinkCore, LinkFailure};
use iot_transport::ConnectRefusal;

pub use iot_transport::link::{
    CLIENT_ID_CAPACITY, PASSWORD_CAPACITY, TOPIC_CAPACITY, USERNAME_CAPACITY,
};

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

impl LinkFailure for Failure {
    const NOT_READY: Self = Self::NotReady;

    fn is_too_large(&self) -> bool {
        matches!(self, Self::TooLarge)
    }
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
    pub(crate) core: LinkCore<Failure, PAYLOAD, QUEUE>,
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
            core: LinkCore::new(),
            timeouts,
        }
    }

    /// The driver future for a [`MqttrustTransport`](crate::MqttrustTransport) on this link: pin it, then pass it
    /// to [`MqttrustTransport::new`](crate::MqttrustTransport::new).
    ///
    /// It opens TCP connections to `broker` through `network` (any embedded-nal-async stack: embassy-net, or
    /// `TokioTcp` (feature `tokio`) on a host; a TLS stack that implements `TcpConnect` works the same way) and
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
        self.core.dropped_messages()
    }
}

impl<const PAYLOAD: usize, const QUEUE: usize> Default for Link<PAYLOAD, QUEUE> {
    fn default() -> Self {
        Self::new()
    }
}
