//! The [`Transport`] implementation.
//!
//! rumqttc's `EventLoop` must be polled continuously to read packets, answer acknowledgements and send PINGREQs, and
//! its `poll` is not documented as cancel-safe. So each connection gets a tokio task (the driver) that polls the
//! event loop and nothing else; it hands received PUBLISH packets to [`receive`](Transport::receive) through a bounded
//! channel and acknowledgements to `subscribe`/`publish` through a second one. Channel receives are cancel-safe,
//! so the runtime may race `receive` against timers freely. The driver never reconnects: when the connection
//! fails it ends, closing both channels, and the runtime decides when to connect again (protocol.md §10.11).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use iot_transport::{ConnectOptions, Incoming, QoS, Transport, MAX_PAYLOAD_LEN};
use rumqttc::{
    AsyncClient, ConnectionError, Event, EventLoop, MqttOptions, NetworkOptions, Outgoing, Packet,
    Publish, SubscribeReasonCode,
};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::config::{Config, Security};
use crate::error::{refusal, Error};

/// Requests rumqttc may hold before `AsyncClient` calls wait; the adapter has at most one in flight plus a
/// DISCONNECT, and left-overs of cancelled calls.
const REQUEST_CAPACITY: usize = 10;

/// How long `disconnect` waits for the DISCONNECT to be written before closing the socket anyway.
const DISCONNECT_GRACE: Duration = Duration::from_secs(2);

/// An acknowledgement-related event, in the order the event loop produced it.
#[derive(Debug)]
enum Progress {
    /// A PUBLISH left, with the packet id rumqttc gave it (0 at QoS 0).
    Published(u16),
    /// A SUBSCRIBE left, with its packet id.
    Subscribed(u16),
    /// A PUBACK arrived.
    PubAck(u16),
    /// A SUBACK arrived.
    SubAck(rumqttc::SubAck),
}

/// One live connection: the client handle, the driver task and the channels it feeds.
struct Session {
    client: AsyncClient,
    messages: mpsc::Receiver<Publish>,
    acks: mpsc::UnboundedReceiver<Progress>,
    driver: JoinHandle<()>,
    /// Why the driver stopped, written by the driver just before it ends.
    end_reason: Arc<Mutex<Option<String>>>,
    /// PUBLISH requests handed to rumqttc, and `Published` events consumed so far. rumqttc serves requests in
    /// order and reports each with one `Outgoing::Publish`, so request number n owns the n-th event, even when an
    /// earlier `publish` call was cancelled before reading its own.
    publishes_requested: u64,
    publishes_seen: u64,
    /// The same bookkeeping for SUBSCRIBE.
    subscribes_requested: u64,
    subscribes_seen: u64,
}

impl Session {
    fn end_reason(&self) -> String {
        self.end_reason
            .lock()
            .ok()
            .and_then(|reason| reason.clone())
            .unwrap_or_else(|| "the connection closed".to_owned())
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // Closes the socket without a DISCONNECT; `disconnect` sends one first.
        self.driver.abort();
    }
}

/// MQTT 3.1.1 [`Transport`] over rumqttc, for `std` targets running tokio.
///
/// Create it once with a [`Config`]; every [`connect`](Transport::connect) opens a fresh connection with the
/// credentials it is given. Must be used inside a tokio runtime (it spawns one task per connection).
///
/// ```no_run
/// use iot_transport::{ConnectOptions, QoS, Transport};
/// use iot_transport_rumqttc::{Config, RumqttcTransport};
///
/// # async fn demo() -> Result<(), iot_transport_rumqttc::Error> {
/// let mut mqtt = RumqttcTransport::new(Config::tencent_cloud_tcp("1A17RZR3XX"))?;
/// mqtt.connect(&ConnectOptions {
///     client_id: "1A17RZR3XXdev1",
///     username: "1A17RZR3XXdev1;12010126;a1b2c;2147483647",
///     password: "…;hmacsha256",
///     keep_alive_secs: 240,
///     clean_session: true,
/// })
/// .await?;
/// mqtt.subscribe("$thing/down/property/1A17RZR3XX/dev1", QoS::AtLeastOnce).await?;
/// let message = mqtt.receive().await?;
/// println!("{} {} bytes", message.topic, message.payload.len());
/// # Ok(()) }
/// ```
pub struct RumqttcTransport {
    config: Config,
    #[cfg(feature = "tls")]
    tls: Option<Arc<rustls::ClientConfig>>,
    session: Option<Session>,
    /// The message the last `receive` returned; `Incoming` borrows from it.
    current: Option<Publish>,
    dropped: Arc<AtomicU64>,
}

impl RumqttcTransport {
    /// Creates a disconnected transport. With TLS this checks the certificates and key.
    pub fn new(config: Config) -> Result<Self, Error> {
        #[cfg(feature = "tls")]
        let tls = match &config.security {
            Security::Tls(tls) => Some(tls.build()?),
            Security::Tcp => None,
        };
        Ok(Self {
            config,
            #[cfg(feature = "tls")]
            tls,
            session: None,
            current: None,
            dropped: Arc::new(AtomicU64::new(0)),
        })
    }

    /// The settings in use.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Whether a connection is up (as far as the adapter knows: a lost connection shows at the next call).
    pub fn is_connected(&self) -> bool {
        self.session
            .as_ref()
            .is_some_and(|s| !s.driver.is_finished())
    }

    /// Received messages dropped because [`Config::incoming_capacity`] was full, since creation.
    pub fn dropped_messages(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    fn mqtt_options(&self, options: &ConnectOptions<'_>) -> Result<MqttOptions, Error> {
        if options.client_id.is_empty() && !options.clean_session {
            return Err(Error::InvalidOptions(
                "a persistent session (clean_session = false) needs a client id",
            ));
        }
        let mut mqtt = MqttOptions::new(
            options.client_id,
            self.config.host.clone(),
            self.config.port,
        );
        mqtt.set_credentials(options.username, options.password)
            // rumqttc accepts 0 (off) or whole seconds ≥ 1, which a u16 of seconds always is.
            .set_keep_alive(Duration::from_secs(u64::from(options.keep_alive_secs)))
            .set_clean_session(options.clean_session)
            .set_max_packet_size(self.config.max_packet_size, self.config.max_packet_size);
        match &self.config.security {
            Security::Tcp => {}
            #[cfg(feature = "tls")]
            Security::Tls(_) => {
                if let Some(tls) = &self.tls {
                    mqtt.set_transport(rumqttc::Transport::tls_with_config(
                        rumqttc::TlsConfiguration::Rustls(tls.clone()),
                    ));
                }
            }
        }
        Ok(mqtt)
    }

    fn session(&mut self) -> Result<&mut Session, Error> {
        self.session.as_mut().ok_or(Error::NotConnected)
    }

    /// Ends the session after the driver stopped, and says why.
    fn lost(&mut self) -> Error {
        let reason = self
            .session
            .take()
            .map_or_else(|| "the connection closed".to_owned(), |s| s.end_reason());
        Error::Disconnected { reason }
    }

    /// Waits for the next acknowledgement event, or fails when the connection is lost.
    async fn next_ack(
        &mut self,
        waiting_for: &'static str,
        deadline: tokio::time::Instant,
    ) -> Result<Progress, Error> {
        let session = self.session()?;
        match tokio::time::timeout_at(deadline, session.acks.recv()).await {
            Ok(Some(ack)) => Ok(ack),
            Ok(None) => Err(self.lost()),
            Err(_) => Err(Error::Timeout {
                waiting_for,
                after: self.config.ack_timeout,
            }),
        }
    }
}

impl Transport for RumqttcTransport {
    type Error = Error;

    async fn connect(&mut self, options: &ConnectOptions<'_>) -> Result<(), Error> {
        // Contract: close any previous connection first.
        self.session = None;
        self.current = None;
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| Error::NoRuntime)?;
        let mqtt = self.mqtt_options(options)?;
        let (client, mut eventloop) = AsyncClient::new(mqtt, REQUEST_CAPACITY);
        let mut network = NetworkOptions::new();
        network.set_connection_timeout(self.config.connect_timeout.as_secs().max(1));
        // Small request/reply messages: send each at once instead of waiting for the peer's delayed ACK.
        network.set_tcp_nodelay(true);
        eventloop.set_network_options(network);

        // The first poll opens TCP (and TLS), sends CONNECT and reads the CONNACK.
        match eventloop.poll().await {
            Ok(Event::Incoming(Packet::ConnAck(_))) => {}
            Ok(other) => return Err(Error::Protocol(format!("expected CONNACK, got {other:?}"))),
            Err(ConnectionError::ConnectionRefused(code)) => {
                return Err(Error::Refused(refusal(code)))
            }
            Err(ConnectionError::NetworkTimeout) => {
                return Err(Error::Timeout {
                    waiting_for: "CONNACK",
                    after: self.config.connect_timeout,
                })
            }
            Err(ConnectionError::NotConnAck(packet)) => {
                return Err(Error::Protocol(format!("expected CONNACK, got {packet:?}")))
            }
            Err(e) => {
                return Err(Error::Network {
                    host: self.config.host.clone(),
                    port: self.config.port,
                    reason: e.to_string(),
                })
            }
        }

        let (message_tx, messages) = mpsc::channel(self.config.incoming_capacity.max(1));
        let (ack_tx, acks) = mpsc::unbounded_channel();
        let end_reason = Arc::new(Mutex::new(None));
        let driver = runtime.spawn(drive(
            eventloop,
            message_tx,
            ack_tx,
            self.dropped.clone(),
            end_reason.clone(),
        ));
        self.session = Some(Session {
            client,
            messages,
            acks,
            driver,
            end_reason,
            publishes_requested: 0,
            publishes_seen: 0,
            subscribes_requested: 0,
            subscribes_seen: 0,
        });
        Ok(())
    }

    async fn subscribe(&mut self, filter: &str, qos: QoS) -> Result<(), Error> {
        let session = self.session()?;
        if !rumqttc::valid_filter(filter) {
            return Err(Error::InvalidTopic {
                topic: filter.to_owned(),
                what: "filter",
            });
        }
        // protocol.md §3.5: one topic filter per SUBSCRIBE.
        if session
            .client
            .subscribe(filter, to_rumqttc(qos))
            .await
            .is_err()
        {
            return Err(self.lost());
        }
        let session = self.session()?;
        session.subscribes_requested += 1;
        let mine = session.subscribes_requested;
        let deadline = tokio::time::Instant::now() + self.config.ack_timeout;
        let mut packet_id = None;
        loop {
            match self.next_ack("SUBACK", deadline).await? {
                Progress::Subscribed(pkid) => {
                    let session = self.session()?;
                    session.subscribes_seen += 1;
                    if session.subscribes_seen == mine {
                        packet_id = Some(pkid);
                    }
                }
                Progress::SubAck(ack) if Some(ack.pkid) == packet_id => {
                    return match ack.return_codes.first() {
                        Some(SubscribeReasonCode::Success(_)) => Ok(()),
                        _ => Err(Error::SubscribeRefused {
                            filter: filter.to_owned(),
                        }),
                    };
                }
                Progress::Published(_) => {
                    if let Ok(session) = self.session() {
                        session.publishes_seen += 1;
                    }
                }
                // Acknowledgements of cancelled calls.
                Progress::SubAck(_) | Progress::PubAck(_) => {}
            }
        }
    }

    async fn publish(&mut self, topic: &str, payload: &[u8], qos: QoS) -> Result<(), Error> {
        // protocol.md §11.4: refuse before sending; also stay inside rumqttc's packet limit, which would otherwise
        // end the connection. Overhead: fixed header 5, topic length 2, topic, packet id 2.
        let packet_room = self.config.max_packet_size.saturating_sub(9 + topic.len());
        let limit = MAX_PAYLOAD_LEN.min(packet_room);
        if payload.len() > limit {
            return Err(Error::PayloadTooLarge {
                len: payload.len(),
                limit,
            });
        }
        let session = self.session()?;
        if topic.is_empty() || !rumqttc::valid_topic(topic) {
            return Err(Error::InvalidTopic {
                topic: topic.to_owned(),
                what: "name",
            });
        }
        // protocol.md §3.5: never retain.
        if session
            .client
            .publish(topic, to_rumqttc(qos), false, payload.to_vec())
            .await
            .is_err()
        {
            return Err(self.lost());
        }
        let session = self.session()?;
        session.publishes_requested += 1;
        let mine = session.publishes_requested;
        let deadline = tokio::time::Instant::now() + self.config.ack_timeout;
        let mut packet_id = None;
        loop {
            match self.next_ack("PUBACK", deadline).await? {
                Progress::Published(pkid) => {
                    let session = self.session()?;
                    session.publishes_seen += 1;
                    if session.publishes_seen == mine {
                        if qos == QoS::AtMostOnce {
                            // Written to the socket; nothing more comes back at QoS 0.
                            return Ok(());
                        }
                        packet_id = Some(pkid);
                    }
                }
                Progress::PubAck(pkid) if Some(pkid) == packet_id => return Ok(()),
                Progress::Subscribed(_) => {
                    if let Ok(session) = self.session() {
                        session.subscribes_seen += 1;
                    }
                }
                Progress::PubAck(_) | Progress::SubAck(_) => {}
            }
        }
    }

    async fn receive(&mut self) -> Result<Incoming<'_>, Error> {
        self.current = None;
        let session = self.session()?;
        // Cancel-safe: `mpsc::Receiver::recv` loses nothing when its future is dropped.
        match session.messages.recv().await {
            Some(publish) => {
                let publish = self.current.insert(publish);
                Ok(Incoming {
                    topic: &publish.topic,
                    payload: &publish.payload,
                })
            }
            // The driver ended and every queued message has been handed out.
            None => Err(self.lost()),
        }
    }

    async fn disconnect(&mut self) -> Result<(), Error> {
        self.current = None;
        let Some(mut session) = self.session.take() else {
            return Ok(());
        };
        if session.driver.is_finished() {
            return Ok(());
        }
        if session.client.disconnect().await.is_ok() {
            // The driver ends once the DISCONNECT is written; dropping the session then closes the socket.
            let _ = tokio::time::timeout(DISCONNECT_GRACE, &mut session.driver).await;
        }
        Ok(())
    }
}

fn to_rumqttc(qos: QoS) -> rumqttc::QoS {
    match qos {
        QoS::AtMostOnce => rumqttc::QoS::AtMostOnce,
        QoS::AtLeastOnce => rumqttc::QoS::AtLeastOnce,
    }
}

/// Polls the event loop until the connection ends; never reconnects.
async fn drive(
    mut eventloop: EventLoop,
    messages: mpsc::Sender<Publish>,
    acks: mpsc::UnboundedSender<Progress>,
    dropped: Arc<AtomicU64>,
    end_reason: Arc<Mutex<Option<String>>>,
) {
    let reason = loop {
        let ack = match eventloop.poll().await {
            Ok(Event::Incoming(Packet::Publish(publish))) => {
                if let Err(mpsc::error::TrySendError::Full(publish)) = messages.try_send(publish) {
                    dropped.fetch_add(1, Ordering::Relaxed);
                    log::warn!("receive queue full, dropped a message on {}", publish.topic);
                }
                continue;
            }
            Ok(Event::Incoming(Packet::PubAck(ack))) => Progress::PubAck(ack.pkid),
            Ok(Event::Incoming(Packet::SubAck(ack))) => Progress::SubAck(ack),
            Ok(Event::Outgoing(Outgoing::Publish(pkid))) => Progress::Published(pkid),
            Ok(Event::Outgoing(Outgoing::Subscribe(pkid))) => Progress::Subscribed(pkid),
            Ok(Event::Outgoing(Outgoing::Disconnect)) => {
                break "disconnected on request".to_owned()
            }
            Ok(Event::Incoming(Packet::Disconnect)) => {
                break "the broker sent DISCONNECT".to_owned()
            }
            Ok(_) => continue,
            Err(e) => break e.to_string(),
        };
        // The receiving side is gone only when the session was dropped; then nothing waits for acks.
        let _ = acks.send(ack);
    };
    log::debug!("MQTT connection ended: {reason}");
    if let Ok(mut slot) = end_reason.lock() {
        *slot = Some(reason);
    }
}
