//! The [`Transport`] handle.

use core::convert::Infallible;
use core::future::Future;
use core::pin::Pin;

use iot_transport::link::Handle;
use iot_transport::{ConnectOptions, Incoming, QoS, Transport};

use crate::error::Error;
use crate::link::{Failure, Link};

/// MQTT 3.1.1 [`Transport`] over mqttrust; see the [crate documentation](crate) for the set-up.
///
/// `D` is the driver future returned by [`Link::driver`]; the handle polls it whenever one of its calls waits, so
/// the connection makes progress (reads, acknowledgements, keep-alive) only while a call is awaited. The runtime's
/// `receive` loop keeps it going.
pub struct MqttrustTransport<'a, D, const PAYLOAD: usize, const QUEUE: usize> {
    handle: Handle<'a, D, Failure, Error, PAYLOAD, QUEUE>,
}

impl<'a, D, const PAYLOAD: usize, const QUEUE: usize> MqttrustTransport<'a, D, PAYLOAD, QUEUE>
where
    D: Future<Output = Infallible>,
{
    /// A disconnected handle over `link` and the driver future made from the same link.
    pub fn new(link: &'a Link<PAYLOAD, QUEUE>, driver: Pin<&'a mut D>) -> Self {
        Self {
            handle: Handle::new(&link.core, driver),
        }
    }

    /// Received messages dropped because the queue was full, since the link was created.
    pub fn dropped_messages(&self) -> u32 {
        self.handle.dropped_messages()
    }

    /// Whether the handle believes it is connected (a lost connection shows at the next call).
    pub fn is_connected(&self) -> bool {
        self.handle.is_connected()
    }
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
        self.handle.connect(options).await
    }

    async fn subscribe(&mut self, filter: &str, qos: QoS) -> Result<(), Error> {
        self.handle.subscribe(filter, qos).await
    }

    async fn publish(&mut self, topic: &str, payload: &[u8], qos: QoS) -> Result<(), Error> {
        self.handle.publish(topic, payload, qos).await
    }

    async fn receive(&mut self) -> Result<Incoming<'_>, Error> {
        self.handle.receive().await
    }

    async fn disconnect(&mut self) -> Result<(), Error> {
        self.handle.disconnect().await
    }
}
