//! The data-template service: what the hub does with each device message, and the requests of the HTTP API.
//!
//! Up messages are handled in the order a device sent them (rmqtt calls the publish hook from the device's own
//! session task), so a `get_status` after a `report` sees that report. Accepted data is committed to SQLite before
//! the reply is published: a reply means the data is stored.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};
use tokio::sync::oneshot;

use crate::acl::{is_valid_device_name, DeviceId, DownTopic, UpTopic};
use crate::auth::{authenticate, ConnectRequest, Refusal};
use crate::broker::Downlink;
use crate::model::{ModelRefusal, ProductModel, Rejection};
use crate::psk::{client_token, generate_psk, RandomError};
use crate::store::{EventRecord, PropertyValue, Store, StoreError};

/// Identifies one MQTT connection of a device, so that the late disconnect of a kicked connection does not mark
/// the new one offline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionKey {
    /// Peer address.
    pub remote_addr: Option<SocketAddr>,
    /// When rmqtt created the connection's id, Unix ms.
    pub created_ms: i64,
}

/// Errors of API requests, mapped to HTTP statuses by the API layer.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Unknown product or device.
    #[error("{0} does not exist")]
    NotFound(String),
    /// The request's content is invalid; `code` is the protocol reply code when the thing model refused it.
    #[error("{reason}")]
    Invalid {
        /// 403/406 from the thing model, or `None` for a malformed request.
        code: Option<u16>,
        /// What was wrong.
        reason: String,
    },
    /// The thing already exists.
    #[error("{0} exists already")]
    Conflict(String),
    /// The device is not connected (actions are not queued).
    #[error("device {0} is offline; actions are only sent to connected devices")]
    Offline(DeviceId),
    /// The device did not answer in time.
    #[error("device did not reply to {client_token} within {waited:?}; is it subscribed to its down topics?")]
    Timeout {
        /// The request's clientToken.
        client_token: String,
        /// How long the hub waited.
        waited: Duration,
    },
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The CSPRNG failed.
    #[error(transparent)]
    Random(#[from] RandomError),
    /// A blocking task could not run.
    #[error("hub internal task failed: {0}")]
    Internal(String),
}

impl From<ModelRefusal> for ServiceError {
    fn from(e: ModelRefusal) -> Self {
        Self::Invalid {
            code: None,
            reason: e.to_string(),
        }
    }
}

/// Answer to a control request.
#[derive(Debug, Clone, PartialEq)]
pub enum ControlOutcome {
    /// The device answered `control_reply`.
    Replied {
        /// The control's clientToken.
        client_token: String,
        /// The device's reply code (0 = applied).
        code: i64,
        /// The device's status text, if any.
        status: Option<String>,
    },
    /// The device is offline; the values wait in `data.control` of its next `get_status_reply`.
    Pending {
        /// The control's clientToken.
        client_token: String,
    },
}

/// Answer to an action request.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionOutcome {
    /// The action's clientToken.
    pub client_token: String,
    /// The device's reply code.
    pub code: i64,
    /// The device's status text, if any.
    pub status: Option<String>,
    /// The action's output parameters.
    pub response: Value,
    /// Set when `response` does not match the thing model's output definition.
    pub response_error: Option<Rejection>,
}

/// A device's state for the API.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceStatus {
    /// Whether it is connected now.
    pub online: bool,
    /// Latest reported value per property.
    pub reported: Vec<PropertyValue>,
    /// Control values waiting for the device.
    pub pending_control: Vec<(String, Value)>,
    /// The params of its last `report_info`.
    pub info: Option<Value>,
    /// The version from its last OTA `report_version`.
    pub firmware_version: Option<String>,
}

type WaiterKey = (DeviceId, String);

/// Settings the service uses.
#[derive(Debug, Clone, Copy)]
pub struct ServiceConfig {
    /// How long API requests wait for a device reply.
    pub reply_timeout: Duration,
    /// Largest accepted distance between a message timestamp and the hub's clock.
    pub timestamp_tolerance: Option<Duration>,
}

/// The data-template service shared by the broker hooks and the HTTP API.
pub struct Service {
    store: Arc<Store>,
    models: RwLock<HashMap<String, Arc<ProductModel>>>,
    online: Mutex<HashMap<DeviceId, ConnectionKey>>,
    waiters: Mutex<HashMap<WaiterKey, oneshot::Sender<Value>>>,
    downlink: Downlink,
    config: ServiceConfig,
}

/// Current time in Unix milliseconds.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // The maps hold plain data that stays consistent even if a holder panicked.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The reply method of a request method (protocol.md §4.3).
fn reply_method(method: &str) -> String {
    match method {
        "event_post" => "event_reply".into(),
        "events_post" => "events_reply".into(),
        other => format!("{other}_reply"),
    }
}

/// A timestamp in ms from a number or a numeric string (protocol.md §10.5).
fn timestamp_ms(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

impl Service {
    /// A service over `store`, loading every registered thing model.
    pub fn new(
        store: Arc<Store>,
        downlink: Downlink,
        config: ServiceConfig,
    ) -> Result<Self, ServiceError> {
        let mut models = HashMap::new();
        for (product_id, text) in store.products()? {
            match ProductModel::parse(text) {
                Ok(model) => {
                    models.insert(product_id, Arc::new(model));
                }
                // A model that an older hub accepted but this one refuses: its devices get 503 until it is fixed.
                Err(e) => log::error!("thing model of {product_id} is not usable: {e}"),
            }
        }
        Ok(Self {
            store,
            models: RwLock::new(models),
            online: Mutex::new(HashMap::new()),
            waiters: Mutex::new(HashMap::new()),
            downlink,
            config,
        })
    }

    async fn db<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, ServiceError> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || f(&store))
            .await
            .map_err(|e| ServiceError::Internal(e.to_string()))?
            .map_err(ServiceError::from)
    }

    fn model(&self, product_id: &str) -> Option<Arc<ProductModel>> {
        self.models
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(product_id)
            .cloned()
    }

    // -----------------------------------------------------------------------------------------------------------
    // Connections

    /// Authenticates a CONNECT against the registry.
    pub async fn authenticate(&self, request: &ConnectRequest<'_>) -> Result<DeviceId, Refusal> {
        let now_secs = u64::try_from(now_ms() / 1000).unwrap_or(0);
        // The PSK is looked up first (off the async threads); `authenticate` then does every check.
        let psk = match DeviceId::from_client_id(request.client_id) {
            Some(device) => {
                let (pid, dn) = (device.product_id.clone(), device.device_name.clone());
                match self.db(move |s| s.device_psk(&pid, &dn)).await {
                    Ok(psk) => psk,
                    Err(e) => {
                        log::error!("registry lookup for {device} failed: {e}");
                        None
                    }
                }
            }
            None => None,
        };
        authenticate(request, now_secs, |_| psk).map(|(device, _method)| device)
    }

    /// Marks a device online.
    pub fn connected(&self, device: DeviceId, key: ConnectionKey) {
        lock(&self.online).insert(device, key);
    }

    /// Marks a device offline, unless a newer connection replaced this one.
    pub fn disconnected(&self, device: &DeviceId, key: ConnectionKey) {
        let mut online = lock(&self.online);
        if online.get(device) == Some(&key) {
            online.remove(device);
        }
    }

    /// Whether a device is connected.
    pub fn is_online(&self, device: &DeviceId) -> bool {
        lock(&self.online).contains_key(device)
    }

    // -----------------------------------------------------------------------------------------------------------
    // Device messages

    async fn send(&self, device: &DeviceId, kind: DownTopic, message: &Value) {
        self.downlink
            .publish(device.down_topic(kind), message.to_string().into_bytes())
            .await;
    }

    /// Handles one accepted PUBLISH from `device`.
    pub async fn handle_up(&self, device: &DeviceId, topic: UpTopic, payload: &[u8]) {
        match topic {
            UpTopic::Property => self.on_property(device, payload).await,
            UpTopic::Event => self.on_event(device, payload).await,
            UpTopic::Action => self.on_action(device, payload),
            UpTopic::OtaReport => self.on_ota(device, payload).await,
            UpTopic::SysOperation => self.on_sys(device, payload).await,
            UpTopic::Service | UpTopic::Raw => {
                log::debug!(
                    "{device}: {} bytes on {topic:?} accepted, not interpreted",
                    payload.len()
                );
            }
        }
    }

    /// Builds a reply carrying the request's clientToken verbatim (protocol.md §10.7).
    fn reply(method: &str, token: Option<&Value>, code: u16, status: &str) -> Map<String, Value> {
        let mut reply = Map::new();
        reply.insert("method".into(), Value::String(method.into()));
        if let Some(token) = token {
            reply.insert("clientToken".into(), token.clone());
        }
        reply.insert("code".into(), Value::from(code));
        reply.insert("status".into(), Value::String(status.into()));
        reply
    }

    fn check_timestamp(&self, message: &Value) -> Result<Option<i64>, Rejection> {
        let Some(raw) = message.get("timestamp") else {
            return Ok(None);
        };
        let ts = timestamp_ms(raw).ok_or_else(|| Rejection {
            code: 406,
            reason: "timestamp must be Unix milliseconds".into(),
        })?;
        if let Some(tolerance) = self.config.timestamp_tolerance {
            let tolerance_ms = i64::try_from(tolerance.as_millis()).unwrap_or(i64::MAX);
            if ts.abs_diff(now_ms()) > tolerance_ms.unsigned_abs() {
                // protocol.md §4.2: more than 24 h from the server's time → 405; the timestamp is in ms.
                return Err(Rejection {
                    code: 405,
                    reason: format!("timestamp {ts} is more than {tolerance:?} from the hub's clock (it is in ms)"),
                });
            }
        }
        Ok(Some(ts))
    }

    async fn on_property(&self, device: &DeviceId, payload: &[u8]) {
        let message: Value = match serde_json::from_slice(payload) {
            Ok(m @ Value::Object(_)) => m,
            _ => {
                // protocol.md §4.4: 400, payload is not JSON. Without a method the reply is a report_reply.
                log::warn!("{device}: property message is not a JSON object");
                let reply = Self::reply("report_reply", None, 400, "payload is not a JSON object");
                self.send(device, DownTopic::Property, &Value::Object(reply))
                    .await;
                return;
            }
        };
        let token = message.get("clientToken");
        let method = message.get("method").and_then(Value::as_str).unwrap_or("");
        let reply = match method {
            "report" => self.on_report(device, &message).await,
            "get_status" => self.on_get_status(device, &message).await,
            "clear_control" => self.on_clear_control(device, token).await,
            "report_info" => self.on_report_info(device, &message).await,
            "get_model_define" => self.on_get_model_define(device, token),
            "control_reply" => {
                self.resolve(device, token, message.clone());
                return;
            }
            _ => {
                log::warn!("{device}: unknown property method {method:?}");
                let name = if method.is_empty() {
                    "report_reply".into()
                } else {
                    reply_method(method)
                };
                Self::reply(&name, token, 403, "unknown method")
            }
        };
        self.send(device, DownTopic::Property, &Value::Object(reply))
            .await;
    }

    fn rejection_reply(
        method: &str,
        token: Option<&Value>,
        rejection: &Rejection,
    ) -> Map<String, Value> {
        Self::reply(method, token, rejection.code, &rejection.reason)
    }

    async fn on_report(&self, device: &DeviceId, message: &Value) -> Map<String, Value> {
        let token = message.get("clientToken");
        let result = self.accept_report(device, message).await;
        match result {
            Ok(()) => Self::reply("report_reply", token, 0, "success"),
            Err(rejection) => {
                log::info!(
                    "{device}: report refused ({}): {}",
                    rejection.code,
                    rejection.reason
                );
                Self::rejection_reply("report_reply", token, &rejection)
            }
        }
    }

    async fn accept_report(&self, device: &DeviceId, message: &Value) -> Result<(), Rejection> {
        let Some(Value::Object(params)) = message.get("params") else {
            return Err(Rejection {
                code: 406,
                reason: "params must be a JSON object".into(),
            });
        };
        let timestamp = self.check_timestamp(message)?.unwrap_or_else(now_ms);
        let model = self.model(&device.product_id).ok_or_else(no_model)?;
        model.check_report(&Value::Object(params.clone()).to_string())?;
        let values: Vec<(String, Value)> =
            params.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        let (pid, dn) = (device.product_id.clone(), device.device_name.clone());
        let token = token_text(message);
        // A resent report (same clientToken) is answered like the first but stored once.
        self.db(move |s| s.store_report(&pid, &dn, token.as_deref(), &values, timestamp))
            .await
            .map(drop)
            .map_err(internal)
    }

    async fn on_get_status(&self, device: &DeviceId, message: &Value) -> Map<String, Value> {
        let token = message.get("clientToken");
        let deliver_token = token.map(|t| t.as_str().map_or_else(|| t.to_string(), str::to_owned));
        let (pid, dn) = (device.product_id.clone(), device.device_name.clone());
        let result = self
            .db(move |s| {
                let reported = s.reported(&pid, &dn)?;
                let control = s.pending_control(&pid, &dn, deliver_token.as_deref())?;
                Ok((reported, control))
            })
            .await;
        match result {
            Ok((reported, control)) => {
                let mut data = Map::new();
                if !reported.is_empty() {
                    let reported: Map<String, Value> = reported
                        .into_iter()
                        .map(|p| (p.property, p.value))
                        .collect();
                    data.insert("reported".into(), Value::Object(reported));
                }
                if !control.is_empty() {
                    data.insert(
                        "control".into(),
                        Value::Object(control.into_iter().collect()),
                    );
                }
                let mut reply = Self::reply("get_status_reply", token, 0, "success");
                reply.insert("type".into(), Value::String("report".into()));
                reply.insert("data".into(), Value::Object(data));
                reply
            }
            Err(e) => Self::reply("get_status_reply", token, 503, &e.to_string()),
        }
    }

    async fn on_clear_control(
        &self,
        device: &DeviceId,
        token: Option<&Value>,
    ) -> Map<String, Value> {
        let token_text = token
            .map(|t| t.as_str().map_or_else(|| t.to_string(), str::to_owned))
            .unwrap_or_default();
        let (pid, dn) = (device.product_id.clone(), device.device_name.clone());
        match self
            .db(move |s| s.clear_control(&pid, &dn, &token_text))
            .await
        {
            Ok(()) => Self::reply("clear_control_reply", token, 0, "success"),
            Err(e) => Self::reply("clear_control_reply", token, 503, &e.to_string()),
        }
    }

    async fn on_report_info(&self, device: &DeviceId, message: &Value) -> Map<String, Value> {
        let token = message.get("clientToken");
        let Some(info @ Value::Object(_)) = message.get("params").cloned() else {
            return Self::reply(
                "report_info_reply",
                token,
                406,
                "params must be a JSON object",
            );
        };
        let (pid, dn) = (device.product_id.clone(), device.device_name.clone());
        match self.db(move |s| s.set_info(&pid, &dn, &info)).await {
            Ok(()) => Self::reply("report_info_reply", token, 0, "success"),
            Err(e) => Self::reply("report_info_reply", token, 503, &e.to_string()),
        }
    }

    fn on_get_model_define(&self, device: &DeviceId, token: Option<&Value>) -> Map<String, Value> {
        let model = self
            .model(&device.product_id)
            .and_then(|m| serde_json::from_str::<Value>(m.text()).ok());
        match model {
            Some(model) => {
                let mut reply = Self::reply("get_model_define_reply", token, 0, "success");
                reply.insert("model".into(), model);
                reply
            }
            None => Self::reply(
                "get_model_define_reply",
                token,
                503,
                "no thing model registered",
            ),
        }
    }

    async fn on_event(&self, device: &DeviceId, payload: &[u8]) {
        let message: Value = match serde_json::from_slice(payload) {
            Ok(m @ Value::Object(_)) => m,
            _ => {
                log::warn!("{device}: event message is not a JSON object");
                let reply = Self::reply("event_reply", None, 400, "payload is not a JSON object");
                self.send(device, DownTopic::Event, &Value::Object(reply))
                    .await;
                return;
            }
        };
        let token = message.get("clientToken");
        let method = message.get("method").and_then(Value::as_str).unwrap_or("");
        let result = match method {
            "event_post" => {
                self.accept_events(device, std::slice::from_ref(&message), &message)
                    .await
            }
            "events_post" => match message.get("events") {
                Some(Value::Array(events)) => self.accept_events(device, events, &message).await,
                _ => Err(Rejection {
                    code: 406,
                    reason: "events must be a JSON array".into(),
                }),
            },
            _ => Err(Rejection {
                code: 403,
                reason: "unknown method".into(),
            }),
        };
        let name = if method.is_empty() {
            "event_reply".into()
        } else {
            reply_method(method)
        };
        let mut reply = match result {
            Ok(()) => Self::reply(&name, token, 0, "success"),
            Err(rejection) => {
                log::info!(
                    "{device}: {method} refused ({}): {}",
                    rejection.code,
                    rejection.reason
                );
                Self::rejection_reply(&name, token, &rejection)
            }
        };
        // protocol.md §4.3 "event_post": the reply also carries version and data.
        reply.insert("version".into(), Value::String("1.0".into()));
        reply.insert("data".into(), json!({}));
        self.send(device, DownTopic::Event, &Value::Object(reply))
            .await;
    }

    /// Validates every event, then stores them all in one transaction: all or nothing.
    async fn accept_events(
        &self,
        device: &DeviceId,
        events: &[Value],
        message: &Value,
    ) -> Result<(), Rejection> {
        let model = self.model(&device.product_id).ok_or_else(no_model)?;
        let message_ts = self.check_timestamp(message)?;
        let mut records = Vec::with_capacity(events.len());
        for event in events {
            let Some(event_id) = event.get("eventId").and_then(Value::as_str) else {
                return Err(Rejection {
                    code: 406,
                    reason: "eventId must be a string".into(),
                });
            };
            let event_type = event.get("type").and_then(Value::as_str);
            let params = match event.get("params") {
                Some(p @ Value::Object(_)) => p.clone(),
                None => json!({}),
                Some(_) => {
                    return Err(Rejection {
                        code: 406,
                        reason: "params must be a JSON object".into(),
                    })
                }
            };
            model.check_event(event_id, event_type, &params.to_string())?;
            let ts = self
                .check_timestamp(event)?
                .or(message_ts)
                .unwrap_or_else(now_ms);
            records.push(EventRecord {
                event_id: event_id.to_owned(),
                event_type: event_type.map(str::to_owned),
                params,
                timestamp_ms: ts,
            });
        }
        let (pid, dn) = (device.product_id.clone(), device.device_name.clone());
        let token = token_text(message);
        self.db(move |s| s.store_events(&pid, &dn, token.as_deref(), &records))
            .await
            .map(drop)
            .map_err(internal)
    }

    fn on_action(&self, device: &DeviceId, payload: &[u8]) {
        match serde_json::from_slice::<Value>(payload) {
            Ok(message)
                if message.get("method").and_then(Value::as_str) == Some("action_reply") =>
            {
                let token = message.get("clientToken").cloned();
                self.resolve(device, token.as_ref(), message);
            }
            _ => {
                log::warn!("{device}: message on the action topic is not an action_reply; ignored")
            }
        }
    }

    async fn on_ota(&self, device: &DeviceId, payload: &[u8]) {
        let Ok(message) = serde_json::from_slice::<Value>(payload) else {
            log::warn!("{device}: OTA message is not JSON; ignored");
            return;
        };
        match message.get("type").and_then(Value::as_str) {
            // protocol.md §6.1 step 1.
            Some("report_version") => {
                let version = message
                    .pointer("/report/version")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                let reply = match version {
                    Some(version) => {
                        let (pid, dn, v) = (
                            device.product_id.clone(),
                            device.device_name.clone(),
                            version.clone(),
                        );
                        match self
                            .db(move |s| s.set_firmware_version(&pid, &dn, &v))
                            .await
                        {
                            Ok(()) => {
                                json!({"result_code":0,"result_msg":"success","type":"report_version_rsp","version":version})
                            }
                            Err(e) => {
                                json!({"result_code":503,"result_msg":e.to_string(),"type":"report_version_rsp","version":version})
                            }
                        }
                    }
                    None => {
                        json!({"result_code":1,"result_msg":"report.version must be a string","type":"report_version_rsp"})
                    }
                };
                self.send(device, DownTopic::OtaUpdate, &reply).await;
            }
            Some("report_progress") => {
                let state = message
                    .pointer("/report/progress/state")
                    .and_then(Value::as_str)
                    .unwrap_or("?");
                let percent = message
                    .pointer("/report/progress/percent")
                    .map(Value::to_string)
                    .unwrap_or_default();
                log::info!("{device}: OTA progress {state} {percent}");
            }
            other => log::warn!("{device}: OTA message type {other:?} ignored"),
        }
    }

    async fn on_sys(&self, device: &DeviceId, payload: &[u8]) {
        let Ok(message) = serde_json::from_slice::<Value>(payload) else {
            log::warn!("{device}: $sys message is not JSON; ignored");
            return;
        };
        let asks_time = message.get("type").and_then(Value::as_str) == Some("get")
            && message
                .get("resource")
                .and_then(Value::as_array)
                .is_some_and(|r| r.iter().any(|x| x.as_str() == Some("time")));
        if !asks_time {
            log::warn!("{device}: $sys request {message} not understood; ignored");
            return;
        }
        // protocol.md §6.2: time in seconds, ntptime1 (receive) and ntptime2 (send) in ms.
        let received = now_ms();
        let sent = now_ms();
        let reply =
            json!({"type":"get","time":received / 1000,"ntptime1":received,"ntptime2":sent});
        self.send(device, DownTopic::SysResult, &reply).await;
    }

    fn resolve(&self, device: &DeviceId, token: Option<&Value>, message: Value) {
        let Some(token) = token.and_then(Value::as_str) else {
            log::warn!("{device}: reply without a string clientToken ignored");
            return;
        };
        let waiter = lock(&self.waiters).remove(&(device.clone(), token.to_owned()));
        match waiter {
            Some(tx) => {
                let _ = tx.send(message);
            }
            None => {
                log::warn!("{device}: reply {token:?} matches no pending request (late or unknown)")
            }
        }
    }

    /// Publishes a request and waits for the reply with the same clientToken.
    async fn request(
        &self,
        device: &DeviceId,
        kind: DownTopic,
        token: &str,
        message: Value,
    ) -> Result<Value, ServiceError> {
        let key = (device.clone(), token.to_owned());
        let (tx, rx) = oneshot::channel();
        lock(&self.waiters).insert(key.clone(), tx);
        self.send(device, kind, &message).await;
        let waited = self.config.reply_timeout;
        match tokio::time::timeout(waited, rx).await {
            Ok(Ok(reply)) => Ok(reply),
            _ => {
                lock(&self.waiters).remove(&key);
                Err(ServiceError::Timeout {
                    client_token: token.to_owned(),
                    waited,
                })
            }
        }
    }

    // -----------------------------------------------------------------------------------------------------------
    // API requests

    async fn known_device(
        &self,
        product_id: &str,
        device_name: &str,
    ) -> Result<DeviceId, ServiceError> {
        let device = DeviceId::new(product_id, device_name)
            .ok_or_else(|| ServiceError::NotFound(format!("device {product_id}/{device_name}")))?;
        let (pid, dn) = (device.product_id.clone(), device.device_name.clone());
        if self.db(move |s| s.device_exists(&pid, &dn)).await? {
            Ok(device)
        } else {
            Err(ServiceError::NotFound(format!("device {device}")))
        }
    }

    fn model_for_api(&self, device: &DeviceId) -> Result<Arc<ProductModel>, ServiceError> {
        self.model(&device.product_id).ok_or_else(|| {
            ServiceError::Internal(format!("no usable thing model for {}", device.product_id))
        })
    }

    /// Sets properties of a device: pushed and answered when it is online, queued when offline.
    pub async fn control(
        &self,
        product_id: &str,
        device_name: &str,
        params: Value,
    ) -> Result<ControlOutcome, ServiceError> {
        let device = self.known_device(product_id, device_name).await?;
        let Value::Object(params) = params else {
            return Err(ServiceError::Invalid {
                code: None,
                reason: "params must be a JSON object".into(),
            });
        };
        if params.is_empty() {
            return Err(ServiceError::Invalid {
                code: None,
                reason: "params is empty; name at least one property".into(),
            });
        }
        let model = self.model_for_api(&device)?;
        model
            .check_control(&Value::Object(params.clone()).to_string())
            .map_err(|r| ServiceError::Invalid {
                code: Some(r.code),
                reason: r.reason,
            })?;
        let client_token = client_token()?;
        if !self.is_online(&device) {
            let values: Vec<(String, Value)> = params.into_iter().collect();
            let (pid, dn) = (device.product_id.clone(), device.device_name.clone());
            self.db(move |s| s.add_pending_control(&pid, &dn, &values))
                .await?;
            return Ok(ControlOutcome::Pending { client_token });
        }
        // protocol.md §4.3 "control".
        let message = json!({"method":"control","clientToken":client_token,"params":params});
        let reply = self
            .request(&device, DownTopic::Property, &client_token, message)
            .await?;
        Ok(ControlOutcome::Replied {
            client_token,
            code: reply.get("code").and_then(Value::as_i64).unwrap_or(-1),
            status: reply
                .get("status")
                .and_then(Value::as_str)
                .map(str::to_owned),
        })
    }

    /// Calls an action on a connected device and returns its reply.
    pub async fn action(
        &self,
        product_id: &str,
        device_name: &str,
        action_id: &str,
        params: Value,
    ) -> Result<ActionOutcome, ServiceError> {
        let device = self.known_device(product_id, device_name).await?;
        let model = self.model_for_api(&device)?;
        if !params.is_object() {
            return Err(ServiceError::Invalid {
                code: None,
                reason: "params must be a JSON object".into(),
            });
        }
        model
            .check_action_input(action_id, &params.to_string())
            .map_err(|r| ServiceError::Invalid {
                code: Some(r.code),
                reason: r.reason,
            })?;
        if !self.is_online(&device) {
            return Err(ServiceError::Offline(device));
        }
        let client_token = client_token()?;
        // protocol.md §4.3 "action": the C SDK requires clientToken, actionId, timestamp and params.
        let message = json!({
            "method":"action","clientToken":client_token,"actionId":action_id,"timestamp":now_ms(),"params":params
        });
        let reply = self
            .request(&device, DownTopic::Action, &client_token, message)
            .await?;
        let response = reply.get("response").cloned().unwrap_or_else(|| json!({}));
        let response_error = model
            .check_action_output(action_id, &response.to_string())
            .err();
        Ok(ActionOutcome {
            client_token,
            code: reply.get("code").and_then(Value::as_i64).unwrap_or(-1),
            status: reply
                .get("status")
                .and_then(Value::as_str)
                .map(str::to_owned),
            response,
            response_error,
        })
    }

    /// Every device with its online flag.
    pub async fn devices(&self) -> Result<Vec<(DeviceId, bool)>, ServiceError> {
        let rows = self.db(|s| s.devices()).await?;
        Ok(rows
            .into_iter()
            .filter_map(|row| DeviceId::new(&row.product_id, &row.device_name))
            .map(|d| {
                let online = self.is_online(&d);
                (d, online)
            })
            .collect())
    }

    /// A device's state.
    pub async fn device_status(
        &self,
        product_id: &str,
        device_name: &str,
    ) -> Result<DeviceStatus, ServiceError> {
        let device = self.known_device(product_id, device_name).await?;
        let (pid, dn) = (device.product_id.clone(), device.device_name.clone());
        let (reported, pending_control, (info, firmware_version)) = self
            .db(move |s| {
                Ok((
                    s.reported(&pid, &dn)?,
                    s.pending_control(&pid, &dn, None)?,
                    s.info(&pid, &dn)?,
                ))
            })
            .await?;
        Ok(DeviceStatus {
            online: self.is_online(&device),
            reported,
            pending_control,
            info,
            firmware_version,
        })
    }

    /// Recent values of one property, newest first.
    pub async fn history(
        &self,
        product_id: &str,
        device_name: &str,
        property: String,
        limit: u32,
    ) -> Result<Vec<PropertyValue>, ServiceError> {
        let device = self.known_device(product_id, device_name).await?;
        self.db(move |s| s.history(&device.product_id, &device.device_name, &property, limit))
            .await
    }

    /// Recent events, newest first.
    pub async fn events(
        &self,
        product_id: &str,
        device_name: &str,
        limit: u32,
    ) -> Result<Vec<EventRecord>, ServiceError> {
        let device = self.known_device(product_id, device_name).await?;
        self.db(move |s| s.events(&device.product_id, &device.device_name, limit))
            .await
    }

    /// Registers a product from its thing-model export; returns its ProductId.
    pub async fn add_product(&self, model_json: String) -> Result<String, ServiceError> {
        let model = ProductModel::parse(model_json)?;
        let product_id = model.product_id().to_owned();
        let (pid, text) = (product_id.clone(), model.text().to_owned());
        self.db(move |s| s.add_product(&pid, &text, now_ms()))
            .await
            .map_err(|e| match e {
                ServiceError::Store(StoreError::Exists(what)) => ServiceError::Conflict(what),
                other => other,
            })?;
        self.models
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(product_id.clone(), Arc::new(model));
        Ok(product_id)
    }

    /// Registers a device with a fresh PSK from the CSPRNG; returns the PSK (base64).
    pub async fn add_device(
        &self,
        product_id: &str,
        device_name: &str,
    ) -> Result<String, ServiceError> {
        if !is_valid_device_name(device_name) {
            return Err(ServiceError::Invalid {
                code: None,
                reason: format!(
                    "device name {device_name:?} must be 1–48 letters, digits or _ - . : @"
                ),
            });
        }
        let psk = generate_psk()?;
        let (pid, dn, key) = (product_id.to_owned(), device_name.to_owned(), psk.clone());
        self.db(move |s| s.add_device(&pid, &dn, &key, now_ms()))
            .await
            .map_err(|e| match e {
                ServiceError::Store(StoreError::Exists(what)) => ServiceError::Conflict(what),
                ServiceError::Store(StoreError::Missing(what)) => ServiceError::NotFound(what),
                other => other,
            })?;
        Ok(psk)
    }

    /// Every registered product id.
    pub fn product_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .models
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .keys()
            .cloned()
            .collect();
        ids.sort();
        ids
    }
}

fn no_model() -> Rejection {
    Rejection {
        code: 503,
        reason: "the product has no usable thing model".into(),
    }
}

fn internal(e: ServiceError) -> Rejection {
    log::error!("storing device data failed: {e}");
    Rejection {
        code: 503,
        reason: "internal error: the hub could not store the data".into(),
    }
}

/// The message's clientToken as text (a token sent as a number is kept in its JSON form).
fn token_text(message: &Value) -> Option<String> {
    match message.get("clientToken")? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_methods() {
        assert_eq!(reply_method("report"), "report_reply");
        assert_eq!(reply_method("event_post"), "event_reply");
        assert_eq!(reply_method("events_post"), "events_reply");
    }

    #[test]
    fn timestamps_accept_numbers_and_strings() {
        assert_eq!(timestamp_ms(&json!(1628646783000_i64)), Some(1628646783000));
        assert_eq!(timestamp_ms(&json!("1628646783000")), Some(1628646783000));
        assert_eq!(timestamp_ms(&json!(true)), None);
    }
}
