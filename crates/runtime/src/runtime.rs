//! The async loop: asks the [`Core`] what is due, does it over the transport, sensors and actuators, and waits
//! for the next message or deadline in between.

use core::convert::Infallible;
use core::fmt::Write as _;

use embassy_futures::select::{select, Either};
use heapless::String;
use iot_core::codec::{
    decode, ActionReply, ActionView, ControlReply, Down, Encode, ParamValue, ParamsView, ReplyCode,
};
use iot_core::credentials::rand_core::RngCore;
use iot_core::credentials::ConnId;
use iot_core::topic::{Topic, TopicKind};
use iot_transport::{ConnectOptions, Error as _, ErrorKind, QoS, Transport};
use sensors::suite::{EnvironmentSensors, GasSensorId};

use crate::config::{Config, ConfigError, Settings, CALIBRATE};
use crate::machine::{
    client_token, is_link_error, Action, Core, Outgoing, Setting, Stats, Status, TOPIC_CAPACITY,
};
use crate::platform::{Actuators, Clock, MessageKind, Observer, RuntimeEvent};

/// A message the loop is about to publish from its transmit buffer.
struct Reply {
    kind: TopicKind,
    qos: QoS,
    len: usize,
}

/// The device runtime: one node loop for every platform.
///
/// * `T`: the MQTT [`Transport`]; `S`: the [`EnvironmentSensors`]; `A`: the [`Actuators`]; `C`: the [`Clock`];
///   `R`: an RNG (`rand_core` 0.9) for connids, jitter and the boot id; `O`: the [`Observer`].
/// * `N`: offline-queue slots; `SLOT`: bytes per slot (also the size of the transmit buffer). A report of the
///   environment monitor takes at most 235 bytes, an event at most 182, so the default 256 fits both.
///
/// RAM: about `N × (SLOT + 24) + SLOT + 520` bytes plus the transport, sensors and futures (see
/// `docs/runtime.md`).
pub struct Runtime<'a, T, S, A, C, R, O = (), const N: usize = 8, const SLOT: usize = 256> {
    core: Core<'a, N, SLOT>,
    transport: T,
    sensors: S,
    actuators: A,
    clock: C,
    rng: R,
    observer: O,
    tx: [u8; SLOT],
    alarm_driven: bool,
}

impl<'a, T, S, A, C, R, const N: usize, const SLOT: usize> Runtime<'a, T, S, A, C, R, (), N, SLOT>
where
    T: Transport,
    S: EnvironmentSensors,
    A: Actuators,
    C: Clock,
    R: RngCore,
{
    /// A runtime that will sample and connect as soon as it runs. Draws a random boot id from `rng`: it prefixes
    /// every `clientToken`, so tokens stay unique across reboots.
    ///
    /// # Errors
    /// [`ConfigError`] from [`Config::validate`].
    pub fn new(
        config: Config<'a>,
        transport: T,
        sensors: S,
        actuators: A,
        clock: C,
        mut rng: R,
    ) -> Result<Self, ConfigError> {
        config.validate()?;
        let boot_id = rng.next_u32();
        let now = clock.now_ms();
        Ok(Self {
            core: Core::new(config, boot_id, now),
            transport,
            sensors,
            actuators,
            clock,
            rng,
            observer: (),
            tx: [0; SLOT],
            alarm_driven: false,
        })
    }
}

impl<'a, T, S, A, C, R, O, const N: usize, const SLOT: usize> Runtime<'a, T, S, A, C, R, O, N, SLOT>
where
    T: Transport,
    S: EnvironmentSensors,
    A: Actuators,
    C: Clock,
    R: RngCore,
    O: Observer,
{
    /// The same runtime reporting to `observer`.
    pub fn with_observer<P: Observer>(self, observer: P) -> Runtime<'a, T, S, A, C, R, P, N, SLOT> {
        Runtime {
            core: self.core,
            transport: self.transport,
            sensors: self.sensors,
            actuators: self.actuators,
            clock: self.clock,
            rng: self.rng,
            observer,
            tx: self.tx,
            alarm_driven: self.alarm_driven,
        }
    }

    /// The current values of the controllable properties.
    pub fn settings(&self) -> Settings {
        self.core.settings()
    }

    /// Counters since boot.
    pub fn stats(&self) -> Stats {
        self.core.stats
    }

    /// Messages waiting in the offline queue (in flight included).
    pub fn queue_len(&self) -> usize {
        self.core.queue.len()
    }

    /// The `clientToken`s of the queued messages, oldest first.
    pub fn queued_tokens(&self) -> impl Iterator<Item = (MessageKind, crate::Token)> + '_ {
        let boot_id = self.core.boot_id();
        self.core
            .queue_entries()
            .map(move |e| (e.kind, client_token(boot_id, e.seq)))
    }

    /// The random prefix of this boot's `clientToken`s.
    pub fn boot_id(&self) -> u32 {
        self.core.boot_id()
    }

    /// Whether a session is established.
    pub fn is_connected(&self) -> bool {
        self.core.is_connected()
    }

    /// Whether the alarm is raised.
    pub fn alarm_active(&self) -> bool {
        self.core.alarm_active()
    }

    /// Unix time in ms now: synced over `$sys`, else the platform's wall clock, else unknown.
    pub fn unix_time_ms(&self) -> Option<u64> {
        let now = self.clock.now_ms();
        self.core.wall_ms(now).or_else(|| self.clock.unix_time_ms())
    }

    /// The configuration.
    pub fn config(&self) -> &Config<'a> {
        &self.core.config
    }

    /// The transport.
    pub fn transport(&self) -> &T {
        &self.transport
    }

    /// The transport, mutably (a test injects messages through it).
    pub fn transport_mut(&mut self) -> &mut T {
        &mut self.transport
    }

    /// The sensors.
    pub fn sensors(&self) -> &S {
        &self.sensors
    }

    /// The sensors, mutably.
    pub fn sensors_mut(&mut self) -> &mut S {
        &mut self.sensors
    }

    /// The actuators.
    pub fn actuators(&self) -> &A {
        &self.actuators
    }

    /// The actuators, mutably.
    pub fn actuators_mut(&mut self) -> &mut A {
        &mut self.actuators
    }

    /// The clock.
    pub fn clock(&self) -> &C {
        &self.clock
    }

    /// The observer, mutably.
    pub fn observer_mut(&mut self) -> &mut O {
        &mut self.observer
    }

    /// Runs forever. Cancel-safe at every await in the sense that state stays consistent: a queued message whose
    /// publish was interrupted is sent again; a reply being sent is lost.
    pub async fn run(&mut self) -> Infallible {
        loop {
            self.run_until(u64::MAX).await;
        }
    }

    /// Runs until the clock reaches `deadline_ms`.
    pub async fn run_until(&mut self, deadline_ms: u64) {
        loop {
            let now = self.clock.now_ms();
            if now >= deadline_ms {
                return;
            }
            match self.core.poll(now, true, &mut self.observer) {
                Action::Sample => self.sample().await,
                Action::Connect => self.connect(now).await,
                Action::Send(out) => self.send(out, now).await,
                Action::Wait(at) => self.wait(at.min(deadline_ms)).await,
            }
        }
    }

    /// Delivers what is queued (while connected, for at most `timeout_ms`), then disconnects. Returns how many
    /// messages are still queued. Sampling stops meanwhile. Call [`run`](Self::run) again to resume.
    pub async fn shutdown(&mut self, timeout_ms: u64) -> usize {
        let deadline = self.clock.now_ms().saturating_add(timeout_ms);
        loop {
            let now = self.clock.now_ms();
            if now >= deadline || !self.core.is_connected() || self.core.queue.is_empty() {
                break;
            }
            match self.core.poll(now, false, &mut self.observer) {
                Action::Send(out) => self.send(out, now).await,
                Action::Wait(at) => self.wait(at.min(deadline)).await,
                Action::Sample | Action::Connect => break,
            }
        }
        let _ = self.transport.disconnect().await;
        self.core.closed(self.clock.now_ms());
        self.core.queue.len()
    }

    async fn sample(&mut self) {
        sample_once(
            &mut self.core,
            &mut self.sensors,
            &mut self.actuators,
            &self.clock,
            &mut self.observer,
            &mut self.alarm_driven,
        )
        .await;
    }

    async fn connect(&mut self, now: u64) {
        let attempt = self.core.connecting(now);
        self.observer
            .on_event(&RuntimeEvent::Connecting { attempt });
        let conn_id = ConnId::random(&mut self.rng);
        let wall = self.core.wall_ms(now).or_else(|| self.clock.unix_time_ms());
        let identity = &self.core.config.identity;
        let (product_id, device_name) = (identity.product_id(), identity.device_name());
        let result = match (
            self.core.sign(conn_id, wall),
            Topic::subscriptions(product_id, device_name),
        ) {
            (Ok(credentials), Ok(_)) => {
                let options = ConnectOptions {
                    client_id: credentials.client_id(),
                    username: credentials.username(),
                    password: credentials.password(),
                    keep_alive_secs: self.core.config.keep_alive_secs,
                    clean_session: true,
                };
                let transport = &mut self.transport;
                let establish = async {
                    transport.connect(&options).await.map_err(|e| e.kind())?;
                    // protocol.md §3.5, §11.7–8: one filter per SUBSCRIBE, every down topic, after every connect.
                    for kind in TopicKind::SUBSCRIPTIONS {
                        let filter: String<TOPIC_CAPACITY> =
                            Topic::new(kind, product_id, device_name)
                                .and_then(|t| t.format())
                                .map_err(|_| ErrorKind::Other)?;
                        transport
                            .subscribe(&filter, QoS::AtLeastOnce)
                            .await
                            .map_err(|e| e.kind())?;
                    }
                    Ok::<(), ErrorKind>(())
                };
                // Sampling goes on while a slow CONNECT waits for its CONNACK.
                let sampling = sample_forever(
                    &mut self.core,
                    &mut self.sensors,
                    &mut self.actuators,
                    &self.clock,
                    &mut self.observer,
                    &mut self.alarm_driven,
                );
                match select(establish, sampling).await {
                    Either::First(result) => result,
                    Either::Second(never) => match never {},
                }
            }
            // Unreachable with a validated identity; retried like any failure rather than stopping the device.
            _ => Err(ErrorKind::Other),
        };
        let now = self.clock.now_ms();
        match result {
            Ok(()) => {
                info!("connected (attempt {})", attempt);
                self.core.connected(now);
                self.observer.on_event(&RuntimeEvent::Connected);
            }
            Err(error) => {
                let _ = self.transport.disconnect().await;
                let retry_at_ms = self.core.connect_failed(now, error, self.rng.next_u32());
                warn!(
                    "connect failed ({}); next attempt at {} ms",
                    error, retry_at_ms
                );
                self.observer
                    .on_event(&RuntimeEvent::ConnectFailed { error, retry_at_ms });
            }
        }
    }

    async fn send(&mut self, out: Outgoing, now: u64) {
        let identity = &self.core.config.identity;
        let (product_id, device_name) = (identity.product_id(), identity.device_name());
        let result = match out {
            Outgoing::Queued(seq) => match self.core.queued(seq) {
                Some((kind, payload)) => {
                    publish(
                        &mut self.transport,
                        &mut self.observer,
                        kind,
                        product_id,
                        device_name,
                        payload,
                        QoS::AtLeastOnce,
                    )
                    .await
                }
                None => return,
            },
            other => match self.core.encode(other, &mut self.tx) {
                Ok((kind, qos, len)) => {
                    let payload = self.tx.get(..len).unwrap_or(&[]);
                    publish(
                        &mut self.transport,
                        &mut self.observer,
                        kind,
                        product_id,
                        device_name,
                        payload,
                        qos,
                    )
                    .await
                }
                Err(e) => {
                    warn!("cannot encode a message: {}", e);
                    Err(Failure::Message)
                }
            },
        };
        match result {
            Ok(()) => self.core.sent(out, now),
            Err(failure) => self.failed(out, failure).await,
        }
    }

    async fn failed(&mut self, out: Outgoing, failure: Failure) {
        let now = self.clock.now_ms();
        let link = match failure {
            Failure::Link(_) => true,
            Failure::Message => false,
        };
        if let Some(retry_at_ms) = self.core.send_failed(out, link, now, self.rng.next_u32()) {
            let error = match failure {
                Failure::Link(kind) => kind,
                Failure::Message => ErrorKind::Other,
            };
            warn!(
                "connection lost ({}); next attempt at {} ms",
                error, retry_at_ms
            );
            let _ = self.transport.disconnect().await;
            self.observer
                .on_event(&RuntimeEvent::Disconnected { error, retry_at_ms });
        }
    }

    async fn wait(&mut self, at: u64) {
        if !self.core.is_connected() {
            self.clock.sleep_until(at).await;
            return;
        }
        let reply = match select(self.transport.receive(), self.clock.sleep_until(at)).await {
            Either::Second(()) => return,
            Either::First(Err(e)) => Err(e.kind()),
            Either::First(Ok(message)) => {
                let now = self.clock.now_ms();
                self.observer.on_event(&RuntimeEvent::Received {
                    topic: message.topic,
                    payload: message.payload,
                });
                Ok(handle_message(
                    &mut self.core,
                    &mut self.sensors,
                    &mut self.actuators,
                    &self.clock,
                    &mut self.observer,
                    &mut self.tx,
                    &mut self.alarm_driven,
                    message.topic,
                    message.payload,
                    now,
                )
                .await)
            }
        };
        match reply {
            Ok(None) => {}
            Ok(Some(reply)) => {
                let identity = &self.core.config.identity;
                let payload = self.tx.get(..reply.len).unwrap_or(&[]);
                let result = publish(
                    &mut self.transport,
                    &mut self.observer,
                    reply.kind,
                    identity.product_id(),
                    identity.device_name(),
                    payload,
                    reply.qos,
                )
                .await;
                if let Err(Failure::Link(kind)) = result {
                    self.link_lost(kind).await;
                }
            }
            Err(kind) => self.link_lost(kind).await,
        }
    }

    async fn link_lost(&mut self, error: ErrorKind) {
        let now = self.clock.now_ms();
        let retry_at_ms = self.core.link_lost(now, self.rng.next_u32());
        warn!(
            "connection lost ({}); next attempt at {} ms",
            error, retry_at_ms
        );
        let _ = self.transport.disconnect().await;
        self.observer
            .on_event(&RuntimeEvent::Disconnected { error, retry_at_ms });
    }
}

/// Why a publish failed.
#[derive(Debug, Clone, Copy)]
enum Failure {
    /// The connection is gone.
    Link(ErrorKind),
    /// This message cannot be sent (too large, unsupported QoS, unencodable).
    Message,
}

async fn publish<T: Transport, O: Observer>(
    transport: &mut T,
    observer: &mut O,
    kind: TopicKind,
    product_id: &str,
    device_name: &str,
    payload: &[u8],
    qos: QoS,
) -> Result<(), Failure> {
    let topic: String<TOPIC_CAPACITY> = Topic::new(kind, product_id, device_name)
        .and_then(|t| t.format())
        .map_err(|_| Failure::Message)?;
    match transport.publish(&topic, payload, qos).await {
        Ok(()) => {
            observer.on_event(&RuntimeEvent::Published {
                topic: &topic,
                payload,
            });
            Ok(())
        }
        Err(e) if is_link_error(e.kind()) => Err(Failure::Link(e.kind())),
        Err(e) => {
            warn!("publish refused: {}", e.kind());
            Err(Failure::Message)
        }
    }
}

async fn drive_alarm<const N: usize, const SLOT: usize, A: Actuators>(
    core: &Core<'_, N, SLOT>,
    actuators: &mut A,
    driven: &mut bool,
) {
    let wanted = core.alarm_active();
    if wanted != *driven {
        actuators.set_alarm(wanted).await;
        *driven = wanted;
    }
}

async fn sample_once<const N: usize, const SLOT: usize, S, A, C, O>(
    core: &mut Core<'_, N, SLOT>,
    sensors: &mut S,
    actuators: &mut A,
    clock: &C,
    observer: &mut O,
    alarm_driven: &mut bool,
) where
    S: EnvironmentSensors,
    A: Actuators,
    C: Clock,
    O: Observer,
{
    let now = clock.now_ms();
    let result = sensors.sample(now).await;
    let wall = core.wall_ms(now).or_else(|| clock.unix_time_ms());
    core.on_sample(&result, now, wall, observer);
    drive_alarm(core, actuators, alarm_driven).await;
}

async fn sample_forever<const N: usize, const SLOT: usize, S, A, C, O>(
    core: &mut Core<'_, N, SLOT>,
    sensors: &mut S,
    actuators: &mut A,
    clock: &C,
    observer: &mut O,
    alarm_driven: &mut bool,
) -> Infallible
where
    S: EnvironmentSensors,
    A: Actuators,
    C: Clock,
    O: Observer,
{
    loop {
        clock.sleep_until(core.next_sample_at()).await;
        sample_once(core, sensors, actuators, clock, observer, alarm_driven).await;
    }
}

/// Handles one received message; returns the reply to publish from `tx`, if any.
#[allow(clippy::too_many_arguments)]
async fn handle_message<const N: usize, const SLOT: usize, S, A, C, O>(
    core: &mut Core<'_, N, SLOT>,
    sensors: &mut S,
    actuators: &mut A,
    clock: &C,
    observer: &mut O,
    tx: &mut [u8; SLOT],
    alarm_driven: &mut bool,
    topic: &str,
    payload: &[u8],
    now: u64,
) -> Option<Reply>
where
    S: EnvironmentSensors,
    A: Actuators,
    C: Clock,
    O: Observer,
{
    let identity = &core.config.identity;
    let ours = Topic::parse(topic).ok().filter(|t| {
        t.is_down()
            && t.product_id() == identity.product_id()
            && t.device_name() == identity.device_name()
    });
    let message = ours.and_then(|_| decode(payload).ok());
    let Some(message) = message else {
        core.stats.ignored += 1;
        debug!("ignored a message on {}", topic);
        observer.on_event(&RuntimeEvent::Ignored { topic });
        return None;
    };
    match message {
        Down::ReportReply(reply) | Down::EventReply(reply) | Down::EventsReply(reply) => {
            core.on_reply(&reply, observer);
            None
        }
        Down::GetStatusReply(status) => {
            if !core.on_status_reply(&status) {
                return None;
            }
            // protocol.md §4.3 "get_status", §10.8: apply data.control, then clear it with the same token.
            if let Some(control) = status.control().filter(|c| !c.is_empty()) {
                let (code, _) = apply_control(core, actuators, observer, control, now).await;
                drive_alarm(core, actuators, alarm_driven).await;
                observer.on_event(&RuntimeEvent::PendingControl {
                    code,
                    params: control.raw(),
                });
                core.clear_pending_control();
            }
            None
        }
        Down::Control(control) => {
            let (code, status) =
                apply_control(core, actuators, observer, control.params(), now).await;
            drive_alarm(core, actuators, alarm_driven).await;
            observer.on_event(&RuntimeEvent::Control {
                code,
                params: control.params().raw(),
            });
            // protocol.md §4.3 "control", §10.7: the cloud's clientToken, echoed verbatim.
            let reply = ControlReply {
                client_token: control.client_token().into(),
                code,
                status: status.as_deref(),
            };
            encode_reply(&reply, TopicKind::PROPERTY_UP, tx)
        }
        Down::Action(action) => {
            core.stats.actions += 1;
            run_action(core, sensors, clock, observer, &action, tx).await
        }
        Down::Time(time) => {
            core.on_time(&time, now, observer);
            None
        }
        _ => None,
    }
}

fn encode_reply<M: Encode>(message: &M, kind: TopicKind, tx: &mut [u8]) -> Option<Reply> {
    match message.encode(tx) {
        Ok(len) => Some(Reply {
            kind,
            qos: QoS::AtLeastOnce,
            len,
        }),
        Err(e) => {
            warn!("reply not sent: {}", e);
            None
        }
    }
}

/// Validates a control against the thing model and applies it: the runtime's own properties first-hand, the
/// others through [`Actuators::apply_control`]. Nothing is applied when the model refuses it.
async fn apply_control<const N: usize, const SLOT: usize, A: Actuators, O: Observer>(
    core: &mut Core<'_, N, SLOT>,
    actuators: &mut A,
    observer: &mut O,
    params: ParamsView<'_>,
    now: u64,
) -> (ReplyCode, Option<Status>) {
    if let Err(refusal) = core.check_control(params) {
        core.stats.controls_refused += 1;
        return (refusal.code, Some(refusal.status));
    }
    let mut changed = false;
    let mut outcome = (ReplyCode::Success, None);
    for (id, value) in params.iter() {
        // The model accepted every id, and model ids are plain identifiers, so none is escaped.
        let Some(id) = id.as_plain() else {
            outcome = failure("a property id is escaped", "");
            break;
        };
        match core.apply_setting(id, value, now, observer) {
            Setting::Applied => changed = true,
            Setting::Invalid => {
                outcome = failure("the runtime cannot use this value: ", id);
                break;
            }
            Setting::NotOwned => {
                if let Err(e) = actuators.apply_control(id, value).await {
                    let mut status = Status::new();
                    let _ = write!(status, "{id}: {e}");
                    outcome = (ReplyCode::DEVICE_FAILURE, Some(status));
                    break;
                }
            }
        }
    }
    if changed {
        observer.on_event(&RuntimeEvent::SettingsChanged {
            settings: core.settings(),
        });
    }
    if outcome.0.is_success() {
        core.stats.controls_applied += 1;
    } else {
        core.stats.controls_refused += 1;
    }
    outcome
}

fn failure(what: &str, id: &str) -> (ReplyCode, Option<Status>) {
    let mut status = Status::new();
    let _ = status.push_str(what);
    let _ = status.push_str(id);
    (ReplyCode::DEVICE_FAILURE, Some(status))
}

/// Runs an `action` and encodes its `action_reply` (protocol.md §4.3 "action"): 403/406 when the model refuses
/// the input, the `calibrate` outputs (`r0` kΩ, `result` 0 ok / 1 failed) otherwise.
async fn run_action<const N: usize, const SLOT: usize, S, C, O>(
    core: &mut Core<'_, N, SLOT>,
    sensors: &mut S,
    clock: &C,
    observer: &mut O,
    action: &ActionView<'_>,
    tx: &mut [u8],
) -> Option<Reply>
where
    S: EnvironmentSensors,
    C: Clock,
    O: Observer,
{
    let id = action.action_id();
    let mut status = Status::new();
    let mut outputs: Option<(f32, i64)> = None;
    let code = match core
        .config
        .model
        .check_action_input(id.raw(), action.params().object())
    {
        Err(rejection) => {
            let _ = write!(status, "{rejection}");
            ReplyCode::from_i64(i64::from(rejection.code()))
        }
        Ok(()) if id.eq_str(CALIBRATE) => {
            let sensor = action
                .params()
                .get("sensor")
                .and_then(|v| v.as_str())
                .and_then(|s| s.as_plain())
                .and_then(GasSensorId::parse);
            match sensor {
                None => {
                    let _ = status.push_str("calibrate needs `sensor`: MQ2, MQ4, MQ7 or MQ135");
                    ReplyCode::InvalidValue
                }
                Some(sensor) => {
                    match sensors.calibrate(sensor, clock.now_ms()).await {
                        Ok(r0) if r0.is_finite() => {
                            let _ = status.push_str("calibrated");
                            outputs = Some((r0, 0));
                        }
                        Ok(_) => {
                            let _ = status.push_str("calibration gave no finite R0");
                            outputs = Some((0.0, 1));
                        }
                        Err(fault) => {
                            let _ = write!(status, "{fault}");
                            outputs = Some((0.0, 1));
                        }
                    }
                    ReplyCode::Success
                }
            }
        }
        Ok(()) => {
            let _ = status.push_str("action not implemented by this firmware");
            ReplyCode::DEVICE_FAILURE
        }
    };
    observer.on_event(&RuntimeEvent::Action {
        action_id: id.raw(),
        code,
    });
    let response = outputs.map(|(r0, result)| {
        [
            ("r0", ParamValue::Float32(r0)),
            ("result", ParamValue::Enum(result)),
        ]
    });
    let reply = ActionReply {
        client_token: action.client_token().into(),
        code,
        status: Some(status.as_str()).filter(|s| !s.is_empty()),
        response: response.as_ref().map_or(&[], |r| r.as_slice()),
    };
    encode_reply(&reply, TopicKind::ACTION_UP, tx)
}
