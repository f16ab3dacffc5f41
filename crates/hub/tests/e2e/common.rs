//! Test harness: an in-process hub on 127.0.0.1 with OS-picked ports, plain MQTT devices (rumqttc) and an HTTP
//! client (ureq). Every wait is bounded by a timeout; nothing sleeps for a fixed time.

use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hub::{Hub, HubConfig};
use iot_core::credentials::{
    ConnId, DeviceIdentity, Expiry, MqttCredentials, SdkAppId, SignMethod, SignOptions,
};
use rumqttc::{
    AsyncClient, ConnectionError, Event, EventLoop, MqttOptions, Packet, QoS, SubscribeReasonCode,
};
use serde_json::{json, Value};
use tokio::sync::mpsc;

pub const PID: &str = "CS0SLTKSYA";
pub const PSK: &str = "IyXmUW5sU/q1vnb5yzTkeQ==";
/// Upper bound of any single wait in these tests.
pub const WAIT: Duration = Duration::from_secs(10);

pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

pub async fn start(config: HubConfig) -> Hub {
    Hub::start(config).await.expect("hub starts")
}

pub async fn hub() -> Hub {
    start(HubConfig {
        reply_timeout: Duration::from_secs(3),
        ..HubConfig::ephemeral()
    })
    .await
}

/// Signs credentials with iot-core, as a device does.
pub fn sign(
    device: &str,
    psk: &str,
    method: SignMethod,
    app: SdkAppId,
    expiry: u64,
) -> MqttCredentials {
    let identity = DeviceIdentity::new(PID, device, psk).unwrap();
    let options = SignOptions::new(ConnId::new("Ab3x9").unwrap(), Expiry::At(expiry))
        .with_method(method)
        .with_sdk_app_id(app);
    identity.sign(&options).unwrap()
}

pub fn good(device: &str, psk: &str) -> MqttCredentials {
    sign(
        device,
        psk,
        SignMethod::HmacSha256,
        SdkAppId::DEFAULT,
        now_secs() + 3600,
    )
}

/// What a device's connection saw.
#[derive(Debug)]
pub enum Incoming {
    Publish { topic: String, payload: Vec<u8> },
    SubAck(Vec<SubscribeReasonCode>),
    Closed(String),
}

pub struct Device {
    pub name: String,
    pub client: AsyncClient,
    rx: mpsc::UnboundedReceiver<Incoming>,
    task: tokio::task::JoinHandle<()>,
    counter: u32,
}

impl Drop for Device {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub async fn connect_raw(
    addr: SocketAddr,
    client_id: &str,
    username: &str,
    password: &str,
) -> Result<(AsyncClient, EventLoop), ConnectionError> {
    connect_session(addr, client_id, username, password, true).await
}

/// [`connect_raw`] with the CONNECT's clean-session flag chosen.
pub async fn connect_session(
    addr: SocketAddr,
    client_id: &str,
    username: &str,
    password: &str,
    clean_session: bool,
) -> Result<(AsyncClient, EventLoop), ConnectionError> {
    let mut options = MqttOptions::new(client_id, addr.ip().to_string(), addr.port());
    options.set_credentials(username, password);
    options.set_clean_session(clean_session);
    options.set_keep_alive(Duration::from_secs(30));
    options.set_max_packet_size(64 * 1024, 64 * 1024);
    let (client, mut eventloop) = AsyncClient::new(options, 64);
    loop {
        match tokio::time::timeout(WAIT, eventloop.poll())
            .await
            .expect("CONNACK in time")?
        {
            Event::Incoming(Packet::ConnAck(_)) => return Ok((client, eventloop)),
            _ => continue,
        }
    }
}

impl Device {
    pub async fn connect(
        addr: SocketAddr,
        name: &str,
        creds: &MqttCredentials,
    ) -> Result<Self, ConnectionError> {
        Self::connect_session(addr, name, creds, true).await
    }

    /// [`Device::connect`] with the CONNECT's clean-session flag chosen.
    pub async fn connect_session(
        addr: SocketAddr,
        name: &str,
        creds: &MqttCredentials,
        clean_session: bool,
    ) -> Result<Self, ConnectionError> {
        let (client, mut eventloop) = connect_session(
            addr,
            creds.client_id(),
            creds.username(),
            creds.password(),
            clean_session,
        )
        .await?;
        let (tx, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            loop {
                match eventloop.poll().await {
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        let _ = tx.send(Incoming::Publish {
                            topic: p.topic.clone(),
                            payload: p.payload.to_vec(),
                        });
                    }
                    Ok(Event::Incoming(Packet::SubAck(s))) => {
                        let _ = tx.send(Incoming::SubAck(s.return_codes));
                    }
                    Ok(_) => {}
                    Err(e) => {
                        let _ = tx.send(Incoming::Closed(e.to_string()));
                        return;
                    }
                }
            }
        });
        Ok(Self {
            name: name.to_owned(),
            client,
            rx,
            task,
            counter: 0,
        })
    }

    /// The demo device `dev1`, subscribed to its down topics.
    pub async fn dev1(hub: &Hub) -> Self {
        let mut d = Self::connect(hub.mqtt_addr(), "dev1", &good("dev1", PSK))
            .await
            .expect("dev1 connects");
        d.subscribe_own().await;
        d
    }

    pub fn topic(&self, pattern: &str) -> String {
        pattern.replace("{pid}", PID).replace("{dn}", &self.name)
    }

    pub async fn subscribe(&mut self, filter: &str) -> SubscribeReasonCode {
        self.client
            .subscribe(filter, QoS::AtLeastOnce)
            .await
            .unwrap();
        match self.next().await {
            Incoming::SubAck(codes) => codes[0],
            other => panic!("expected SUBACK for {filter}, got {other:?}"),
        }
    }

    pub async fn subscribe_own(&mut self) {
        for pattern in [
            "$thing/down/property/{pid}/{dn}",
            "$thing/down/event/{pid}/{dn}",
            "$thing/down/action/{pid}/{dn}",
            "$ota/update/{pid}/{dn}",
            "$sys/operation/result/{pid}/{dn}",
        ] {
            let filter = self.topic(pattern);
            let code = self.subscribe(&filter).await;
            assert!(
                matches!(code, SubscribeReasonCode::Success(_)),
                "{filter}: {code:?}"
            );
        }
    }

    pub async fn publish_bytes(&self, topic: &str, qos: QoS, payload: Vec<u8>) {
        self.client
            .publish(topic, qos, false, payload)
            .await
            .unwrap();
    }

    pub async fn publish(&self, pattern: &str, message: &Value) {
        let topic = self.topic(pattern);
        self.publish_bytes(&topic, QoS::AtLeastOnce, message.to_string().into_bytes())
            .await;
    }

    pub async fn next(&mut self) -> Incoming {
        tokio::time::timeout(WAIT, self.rx.recv())
            .await
            .expect("message in time")
            .expect("connection task alive")
    }

    /// The next PUBLISH received, as (topic, JSON).
    pub async fn next_message(&mut self) -> (String, Value) {
        match self.next().await {
            Incoming::Publish { topic, payload } => {
                let value = serde_json::from_slice(&payload)
                    .unwrap_or_else(|e| panic!("reply is not JSON: {e}"));
                (topic, value)
            }
            other => panic!("expected a message, got {other:?}"),
        }
    }

    /// Waits until the hub closes the connection.
    pub async fn closed(&mut self) -> String {
        loop {
            if let Incoming::Closed(reason) = self.next().await {
                return reason;
            }
        }
    }

    pub fn token(&mut self) -> String {
        self.counter += 1;
        format!("{PID}-{}", self.counter)
    }

    /// Publishes a data-template request and returns the reply from `reply_pattern`, checking that it echoes the
    /// clientToken.
    pub async fn request(&mut self, up: &str, reply_pattern: &str, mut message: Value) -> Value {
        let token = self.token();
        message["clientToken"] = json!(token);
        self.publish(up, &message).await;
        let (topic, reply) = self.next_message().await;
        assert_eq!(
            topic,
            self.topic(reply_pattern),
            "reply topic for {message}"
        );
        assert_eq!(
            reply["clientToken"],
            json!(token),
            "clientToken echoed in {reply}"
        );
        reply
    }

    pub async fn property(&mut self, message: Value) -> Value {
        self.request(
            "$thing/up/property/{pid}/{dn}",
            "$thing/down/property/{pid}/{dn}",
            message,
        )
        .await
    }

    pub async fn event(&mut self, message: Value) -> Value {
        self.request(
            "$thing/up/event/{pid}/{dn}",
            "$thing/down/event/{pid}/{dn}",
            message,
        )
        .await
    }
}

/// A blocking HTTP call on a blocking thread; returns status and JSON body.
pub async fn http(method: &'static str, url: String, body: Option<Vec<u8>>) -> (u16, Value) {
    tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(WAIT * 2))
            .build()
            .into();
        let response = match (method, body) {
            ("GET", _) => agent.get(&url).call(),
            ("POST", Some(body)) => agent
                .post(&url)
                .header("content-type", "application/json")
                .send(&body[..]),
            ("POST", None) => agent.post(&url).send_empty(),
            _ => unreachable!(),
        };
        let mut response = response.unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap();
        let value = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("{method} {url} answered non-JSON: {text}"));
        (status, value)
    })
    .await
    .unwrap()
}

pub async fn get(hub: &Hub, path: &str) -> (u16, Value) {
    http("GET", format!("http://{}{path}", hub.http_addr()), None).await
}

pub async fn post(hub: &Hub, path: &str, body: &Value) -> (u16, Value) {
    http(
        "POST",
        format!("http://{}{path}", hub.http_addr()),
        Some(body.to_string().into_bytes()),
    )
    .await
}
