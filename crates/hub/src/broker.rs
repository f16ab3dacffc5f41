//! The MQTT broker: rmqtt with the hub's hooks for authentication, authorization and message routing.
//!
//! rmqtt calls the hooks below for every CONNECT, SUBSCRIBE and PUBLISH:
//!
//! | hook | decision |
//! |---|---|
//! | `ClientAuthenticate` | [`crate::auth::authenticate`] against the registry; refused → CONNACK 4 or 5 |
//! | `ClientSubscribeCheckAcl` | [`crate::acl::may_subscribe`]; refused → SUBACK failure (0x80) |
//! | `MessagePublishCheckAcl` | own up topic and §3.5 limits; refused → dropped, or the connection closed |
//! | `MessagePublish` | an accepted up message goes to the data-template service |
//! | `ClientConnected` / `ClientDisconnected` | the device's online flag |
//!
//! rmqtt itself keeps one session per clientId: a second CONNECT with the same clientId kicks the first
//! connection (protocol.md §3.5 "one connection per device credential").

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use rmqtt::codec::types::{Publish as CodecPublish, QoS};
use rmqtt::codec::v5::SubscribeAckReason;
use rmqtt::context::ServerContext;
use rmqtt::hook::{Handler, HookResult, Parameter, ReturnType, Type};
use rmqtt::net::Builder;
use rmqtt::session::SessionState;
use rmqtt::types::{
    AuthResult, ConnectInfo, From, Id, Publish, PublishAclResult, SubscribeAclResult,
};

use crate::acl::{classify_publish, may_subscribe, DeviceId, UpTopic};
use crate::auth::{ConnectRequest, RefusalCode};
use crate::service::{ConnectionKey, Service};

/// Largest publish payload, in bytes (protocol.md §3.5 and §11.4: 16 KB).
pub const MAX_PAYLOAD_BYTES: usize = 16 * 1024;

/// Room for the fixed header, topic and packet id on top of the payload limit. Topics are at most 255 bytes
/// (protocol.md §3.5), so a legal PUBLISH always fits; a larger packet closes the connection at the codec.
const MAX_PACKET_BYTES: u32 = (MAX_PAYLOAD_BYTES + 1024) as u32;

/// KeepAlive range the platform accepts (protocol.md §3.5: 0–900 s).
const MAX_KEEPALIVE_SECS: u16 = 900;

/// Why a device's PUBLISH is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublishRefusal {
    /// Not one of the device's own up topics: dropped (MQTT 3.1.1 §3.3.5 lets the server acknowledge and drop).
    Topic,
    /// QoS 2, which the platform does not support: the connection is closed.
    Qos2,
    /// The retain flag, which the platform does not support: the connection is closed.
    Retain,
    /// Payload above [`MAX_PAYLOAD_BYTES`]: the connection is closed.
    TooLarge(usize),
}

impl PublishRefusal {
    fn closes_connection(&self) -> bool {
        !matches!(self, Self::Topic)
    }

    fn describe(&self) -> String {
        match self {
            Self::Topic => "topic is not one of the device's own up topics".into(),
            Self::Qos2 => "QoS 2 is not supported (protocol.md §3.5)".into(),
            Self::Retain => "retained messages are not supported (protocol.md §3.5)".into(),
            Self::TooLarge(len) => {
                format!("payload of {len} bytes exceeds {MAX_PAYLOAD_BYTES} (protocol.md §3.5)")
            }
        }
    }
}

/// The decision for one PUBLISH from a device: the service for its topic, or why it is refused.
pub fn check_publish(
    device: &DeviceId,
    topic: &str,
    qos: QoS,
    retain: bool,
    payload_len: usize,
) -> Result<UpTopic, PublishRefusal> {
    if qos == QoS::ExactlyOnce {
        return Err(PublishRefusal::Qos2);
    }
    if retain {
        return Err(PublishRefusal::Retain);
    }
    if payload_len > MAX_PAYLOAD_BYTES {
        return Err(PublishRefusal::TooLarge(payload_len));
    }
    classify_publish(device, topic).ok_or(PublishRefusal::Topic)
}

/// Sends messages from the hub to devices through the broker's router.
#[derive(Clone)]
pub struct Downlink {
    scx: ServerContext,
    from: From,
}

impl Downlink {
    fn new(scx: ServerContext) -> Self {
        let id = Id::new(scx.node.id(), 0, None, None, "iot-hub".into(), None);
        Self {
            scx,
            from: From::from_system(id),
        }
    }

    /// Publishes `payload` on `topic` (QoS 1, not retained) to whoever subscribed to it.
    pub async fn publish(&self, topic: String, payload: Vec<u8>) {
        let publish = CodecPublish {
            dup: false,
            retain: false,
            qos: QoS::AtLeastOnce,
            topic: topic.into(),
            packet_id: None,
            payload: payload.into(),
            properties: None,
        };
        let result = SessionState::forwards(
            &self.scx,
            self.from.clone(),
            Publish::from(publish),
            false,
            None,
        )
        .await;
        if let Err(e) = result {
            log::warn!("could not route a hub message: {e}");
        }
    }
}

/// The running broker's context, needed to route messages.
pub struct Broker {
    /// Address the MQTT listener is bound to.
    pub local_addr: SocketAddr,
    /// Routes hub messages to devices.
    pub downlink: Downlink,
    scx: ServerContext,
    listener: Option<rmqtt::net::Listener>,
}

/// Errors while starting the broker.
#[derive(Debug, thiserror::Error)]
#[error("cannot listen for MQTT on {addr}: {reason}; pick a free address with --mqtt")]
pub struct BrokerError {
    addr: SocketAddr,
    reason: String,
}

impl Broker {
    /// Binds the MQTT listener and builds the broker context (not yet serving).
    pub async fn bind(addr: SocketAddr) -> Result<Self, BrokerError> {
        let bind_err = |reason: String| BrokerError { addr, reason };
        // The busy check refuses CONNECTs when the machine's CPU load is high; a development hub shares the
        // machine with builds and tests, so it must not refuse for that.
        let scx = ServerContext::new().busy_check_enable(false).build().await;
        let listener = Builder::new()
            .name("hub/tcp")
            .laddr(addr)
            .allow_anonymous(false)
            .max_packet_size(MAX_PACKET_BYTES)
            .max_qos_allowed(QoS::AtLeastOnce)
            .max_keepalive(MAX_KEEPALIVE_SECS)
            // protocol.md §3.5: a persistent session keeps at most 150 QoS 1 messages, for 24 h.
            .session_expiry_interval(Duration::from_secs(24 * 60 * 60))
            .max_mqueue_len(150)
            // Replies are small and latency matters more than packet count: without this Nagle's algorithm
            // holds each reply back until the device's delayed ACK, ~40 ms per report.
            .nodelay(true)
            // A restarted hub must get its port back while the old connections sit in TIME_WAIT.
            .reuseaddr(Some(true))
            .bind()
            .and_then(|l| l.tcp())
            .map_err(|e| bind_err(e.to_string()))?;
        let local_addr = listener.local_addr().map_err(|e| bind_err(e.to_string()))?;
        let downlink = Downlink::new(scx.clone());
        Ok(Self {
            local_addr,
            downlink,
            scx,
            listener: Some(listener),
        })
    }

    /// Registers the hooks and serves connections until the task is dropped.
    pub async fn serve(mut self, service: Arc<Service>) {
        let register = self.scx.extends.hook_mgr().register();
        for typ in [
            Type::ClientAuthenticate,
            Type::ClientSubscribeCheckAcl,
            Type::MessagePublishCheckAcl,
            Type::MessagePublish,
            Type::ClientConnected,
            Type::ClientDisconnected,
        ] {
            register
                .add(
                    typ,
                    Box::new(Hooks {
                        service: service.clone(),
                        scx: self.scx.clone(),
                    }),
                )
                .await;
        }
        register.start().await;
        let Some(listener) = self.listener.take() else {
            return;
        };
        let server = rmqtt::server::MqttServer::new(self.scx.clone())
            .listener_by_id(listener, 1)
            .build();
        if let Err(e) = server.run().await {
            log::error!("MQTT broker stopped: {e}");
        }
    }
}

struct Hooks {
    service: Arc<Service>,
    scx: ServerContext,
}

/// How often [`settle_previous_session`] tries to take over the previous session before leaving it to rmqtt.
const SETTLE_ATTEMPTS: u32 = 50;

/// Pause between two of those tries.
const SETTLE_PAUSE: Duration = Duration::from_millis(10);

/// Ends the previous connection of an authenticated CONNECT before rmqtt's handshake does, when nothing of the
/// previous session is to be kept.
///
/// A second login kicks the first (protocol.md §3.5). rmqtt kicks by messaging the old session and waiting for
/// its answer. A closing clean session drops its message queue, kick included, so when the old connection is
/// itself closing at that moment (a device that drops its socket and logs in again at once, which is what a
/// reconnecting device does) the answer never comes and rmqtt refuses the new login with CONNACK 3 "server
/// unavailable". The platform accepts such a login, so the hub kicks here, retrying until the old session has
/// answered or is gone, and rmqtt then finds no session to kick.
///
/// That is done when the new CONNECT starts clean or the old session was clean: either way nothing carries over.
/// A persistent session taken over by a persistent CONNECT is left to rmqtt, whose kick hands its queued messages
/// to the new connection; such a session reads the kick in rmqtt's offline loop and always answers.
async fn settle_previous_session(scx: &ServerContext, id: &Id, clean_start: bool) {
    for _ in 0..SETTLE_ATTEMPTS {
        let entry = scx.extends.shared().await.entry(id.clone());
        if !entry.exist() {
            return;
        }
        if !clean_start && !ends_with_connection(entry.session()).await {
            return;
        }
        // Another CONNECT with this client id holds the entry: its handshake decides, as in rmqtt.
        let Ok(mut locked) = entry.try_lock().await else {
            return;
        };
        match locked.kick(true, true, false).await {
            Ok(_) => return,
            Err(e) => log::debug!(
                "{:?}: previous session still closing ({e}); retrying",
                id.client_id
            ),
        }
        drop(locked);
        tokio::time::sleep(SETTLE_PAUSE).await;
    }
}

/// Whether `session` ends with its connection: an MQTT 3.1.1 clean session, or an MQTT 5 session whose CONNECT
/// set no expiry interval (its DISCONNECT may not raise it from 0, MQTT 5.0 §3.14.2.2.2).
async fn ends_with_connection(session: Option<rmqtt::session::Session>) -> bool {
    let Some(session) = session else {
        return true;
    };
    match session.connect_info().await.as_deref() {
        Ok(ConnectInfo::V3(_, connect)) => connect.clean_session,
        Ok(ConnectInfo::V5(_, connect)) => connect.session_expiry_interval_secs == 0,
        Err(_) => false,
    }
}

fn connection_key(id: &Id) -> ConnectionKey {
    ConnectionKey {
        remote_addr: id.remote_addr,
        created_ms: id.create_time,
    }
}

#[async_trait]
impl Handler for Hooks {
    async fn hook(&self, param: &Parameter, acc: Option<HookResult>) -> ReturnType {
        match param {
            Parameter::ClientAuthenticate(info) => {
                let request = ConnectRequest {
                    client_id: info.client_id(),
                    username: info.username().map(|u| &**u),
                    password: info.password().map(|p| &p[..]),
                    has_will: info.last_will().is_some(),
                };
                let result = match self.service.authenticate(&request).await {
                    Ok(device) => {
                        log::info!("{device} authenticated from {:?}", info.ipaddress());
                        settle_previous_session(&self.scx, info.id(), info.clean_start()).await;
                        AuthResult::Allow(false, None)
                    }
                    Err(refusal) => {
                        log::warn!(
                            "CONNECT of {:?} from {:?} refused: {refusal}",
                            request.client_id,
                            info.ipaddress()
                        );
                        match refusal.code() {
                            RefusalCode::BadUsernameOrPassword => AuthResult::BadUsernameOrPassword,
                            RefusalCode::NotAuthorized => AuthResult::NotAuthorized,
                        }
                    }
                };
                (false, Some(HookResult::AuthResult(result)))
            }
            Parameter::ClientSubscribeCheckAcl(session, subscribe) => {
                let filter: &str = &subscribe.topic_filter;
                let allowed = DeviceId::from_client_id(&session.id.client_id)
                    .is_some_and(|device| may_subscribe(&device, filter));
                let result = if allowed {
                    SubscribeAclResult::new_success(subscribe.opts.qos(), None)
                } else {
                    log::warn!(
                        "SUBSCRIBE of {:?} to {filter:?} refused: not one of its down topics",
                        session.id.client_id
                    );
                    SubscribeAclResult::new_failure(SubscribeAckReason::NotAuthorized)
                };
                (false, Some(HookResult::SubscribeAclResult(result)))
            }
            Parameter::MessagePublishCheckAcl(session, publish) => {
                let decision = match DeviceId::from_client_id(&session.id.client_id) {
                    Some(device) => check_publish(
                        &device,
                        &publish.topic,
                        publish.qos,
                        publish.retain,
                        publish.payload.len(),
                    ),
                    None => Err(PublishRefusal::Topic),
                };
                let result = match decision {
                    Ok(_) => PublishAclResult::allow(),
                    Err(refusal) => {
                        log::warn!(
                            "PUBLISH of {:?} to {:?} refused: {}{}",
                            session.id.client_id,
                            publish.topic,
                            refusal.describe(),
                            if refusal.closes_connection() {
                                "; closing the connection"
                            } else {
                                "; dropped"
                            }
                        );
                        PublishAclResult::rejected(refusal.closes_connection(), None)
                    }
                };
                (false, Some(HookResult::PublishAclResult(result)))
            }
            Parameter::MessagePublish(Some(session), _from, publish) => {
                // rmqtt runs this hook before the ACL hook, so the same decision is taken here and only accepted
                // messages reach the service.
                if let Some(device) = DeviceId::from_client_id(&session.id.client_id) {
                    if let Ok(up) = check_publish(
                        &device,
                        &publish.topic,
                        publish.qos,
                        publish.retain,
                        publish.payload.len(),
                    ) {
                        self.service.handle_up(&device, up, &publish.payload).await;
                    }
                }
                (true, acc)
            }
            Parameter::ClientConnected(session) => {
                if let Some(device) = DeviceId::from_client_id(&session.id.client_id) {
                    self.service.connected(device, connection_key(&session.id));
                }
                (true, acc)
            }
            Parameter::ClientDisconnected(session, reason) => {
                if let Some(device) = DeviceId::from_client_id(&session.id.client_id) {
                    log::info!("{device} disconnected: {reason:?}");
                    self.service
                        .disconnected(&device, connection_key(&session.id));
                }
                (true, acc)
            }
            _ => (true, acc),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publish_limits_of_section_3_5() {
        let d = DeviceId::new("CS0SLTKSYA", "dev1").unwrap();
        let up = "$thing/up/property/CS0SLTKSYA/dev1";
        assert_eq!(
            check_publish(&d, up, QoS::AtMostOnce, false, 10),
            Ok(UpTopic::Property)
        );
        assert_eq!(
            check_publish(&d, up, QoS::AtLeastOnce, false, MAX_PAYLOAD_BYTES),
            Ok(UpTopic::Property)
        );
        assert_eq!(
            check_publish(&d, up, QoS::ExactlyOnce, false, 10),
            Err(PublishRefusal::Qos2)
        );
        assert_eq!(
            check_publish(&d, up, QoS::AtMostOnce, true, 10),
            Err(PublishRefusal::Retain)
        );
        assert_eq!(
            check_publish(&d, up, QoS::AtMostOnce, false, MAX_PAYLOAD_BYTES + 1),
            Err(PublishRefusal::TooLarge(MAX_PAYLOAD_BYTES + 1))
        );
        assert_eq!(
            check_publish(
                &d,
                "$thing/up/property/CS0SLTKSYA/dev2",
                QoS::AtMostOnce,
                false,
                10
            ),
            Err(PublishRefusal::Topic)
        );
        assert!(!PublishRefusal::Topic.closes_connection());
        assert!(PublishRefusal::Qos2.closes_connection());
    }
}
