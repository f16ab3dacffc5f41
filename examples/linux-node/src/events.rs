//! What the node did, as owned values: printed as human-readable lines and handed to tests and benches.
//!
//! The runtime reports [`RuntimeEvent`]s that borrow its buffers; [`Tap`] turns each into a [`NodeEvent`], prints
//! it (when asked) and sends it on a channel, so a test can await "the next report reply" with a timeout instead of
//! sleeping.

use std::collections::HashMap;
use std::fmt;
use std::io::Write;
use std::time::{Duration, Instant};

use iot_runtime::{MessageKind, Observer, RuntimeEvent};
use serde_json::Value;
use tokio::sync::mpsc::UnboundedSender;

/// One thing the node did or saw.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeEvent {
    /// A CONNECT is about to be sent.
    Connecting {
        /// 1 for the first attempt after a loss, then 2, 3, …
        attempt: u32,
    },
    /// The session is up (CONNECT and every SUBSCRIBE succeeded).
    Connected,
    /// A connect attempt failed.
    ConnectFailed {
        /// Why.
        error: String,
        /// How long until the next attempt.
        retry_in: Duration,
    },
    /// An established connection was lost.
    Disconnected {
        /// Why.
        error: String,
        /// How long until the next attempt.
        retry_in: Duration,
    },
    /// A message was published.
    Published {
        /// Its topic.
        topic: String,
        /// Its JSON payload.
        payload: Value,
    },
    /// A report or event was accepted into the offline queue.
    Queued {
        /// `true` for a report, `false` for an event.
        report: bool,
        /// Its `clientToken`.
        client_token: String,
        /// Messages in the queue now.
        queue_len: usize,
    },
    /// The queue was full and dropped its oldest message.
    DroppedOldest {
        /// Dropped since boot.
        total: u32,
    },
    /// A queued report or event got its reply.
    Answered {
        /// `report_reply`, `event_reply`, …
        method: String,
        /// The reply code.
        code: i64,
        /// The request's `clientToken`.
        client_token: String,
        /// From the moment the message was queued to the reply, if it was queued in this run.
        latency: Option<Duration>,
    },
    /// A queued message was given up after its retries.
    GaveUp {
        /// Its `clientToken`.
        client_token: String,
    },
    /// A `control` was answered.
    Control {
        /// Reply code: 0 applied, 403/406 refused, −1 failed.
        code: i64,
        /// Its `params`.
        params: Value,
    },
    /// A pending control from `get_status_reply` was handled.
    PendingControl {
        /// Reply code.
        code: i64,
        /// `data.control`.
        params: Value,
    },
    /// An `action` was answered.
    Action {
        /// Its `actionId`.
        action_id: String,
        /// Reply code.
        code: i64,
    },
    /// The `$sys` time answer arrived.
    TimeSynced {
        /// Unix time, ms.
        unix_ms: u64,
    },
    /// The controllable settings changed.
    SettingsChanged {
        /// Report period, ms.
        report_interval_ms: u32,
        /// Smoke threshold, ppm.
        smoke_threshold_ppm: u32,
        /// Alarm switch.
        alarm_enabled: bool,
    },
    /// `gas_alarm` was raised.
    AlarmRaised {
        /// MQ-2 reading, ppm.
        value_ppm: u32,
        /// Threshold, ppm.
        threshold_ppm: u32,
    },
    /// The alarm re-armed.
    AlarmCleared,
    /// A sensor started failing.
    SensorFault {
        /// Which sensor.
        sensor: String,
        /// The event's `error_code`.
        error_code: u8,
    },
    /// A message that could not be handled.
    Ignored {
        /// Its topic.
        topic: String,
    },
}

fn json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()))
}

fn json_text(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
}

impl NodeEvent {
    /// The owned form of a runtime event, or `None` for the ones the node does not show (samples, incoming
    /// messages: their effect is shown instead).
    pub fn from_runtime(event: &RuntimeEvent<'_>, now_ms: u64) -> Option<Self> {
        let retry_in = |at: u64| Duration::from_millis(at.saturating_sub(now_ms));
        Some(match *event {
            RuntimeEvent::Connecting { attempt } => Self::Connecting { attempt },
            RuntimeEvent::Connected => Self::Connected,
            RuntimeEvent::ConnectFailed { error, retry_at_ms } => Self::ConnectFailed {
                error: error.to_string(),
                retry_in: retry_in(retry_at_ms),
            },
            RuntimeEvent::Disconnected { error, retry_at_ms } => Self::Disconnected {
                error: error.to_string(),
                retry_in: retry_in(retry_at_ms),
            },
            RuntimeEvent::Published { topic, payload } => Self::Published {
                topic: topic.to_owned(),
                payload: json(payload),
            },
            RuntimeEvent::Queued {
                kind,
                client_token,
                queue_len,
            } => Self::Queued {
                report: kind == MessageKind::Report,
                client_token: client_token.to_owned(),
                queue_len,
            },
            RuntimeEvent::DroppedOldest { total } => Self::DroppedOldest { total },
            RuntimeEvent::Answered {
                method,
                code,
                client_token,
            } => Self::Answered {
                method: method.as_str().to_owned(),
                code: code.as_i64(),
                client_token: client_token.to_owned(),
                latency: None,
            },
            RuntimeEvent::GaveUp { client_token, .. } => Self::GaveUp {
                client_token: client_token.to_owned(),
            },
            RuntimeEvent::Control { code, params } => Self::Control {
                code: code.as_i64(),
                params: json_text(params),
            },
            RuntimeEvent::PendingControl { code, params } => Self::PendingControl {
                code: code.as_i64(),
                params: json_text(params),
            },
            RuntimeEvent::Action { action_id, code } => Self::Action {
                action_id: action_id.to_owned(),
                code: code.as_i64(),
            },
            RuntimeEvent::TimeSynced { unix_ms } => Self::TimeSynced { unix_ms },
            RuntimeEvent::SettingsChanged { settings } => Self::SettingsChanged {
                report_interval_ms: settings.report_interval_ms,
                smoke_threshold_ppm: settings.smoke_threshold_ppm,
                alarm_enabled: settings.alarm_enabled,
            },
            RuntimeEvent::AlarmRaised {
                value_ppm,
                threshold_ppm,
            } => Self::AlarmRaised {
                value_ppm,
                threshold_ppm,
            },
            RuntimeEvent::AlarmCleared => Self::AlarmCleared,
            RuntimeEvent::SensorFault { fault } => Self::SensorFault {
                sensor: fault.sensor.to_string(),
                error_code: fault.error_code(),
            },
            RuntimeEvent::Ignored { topic } => Self::Ignored {
                topic: topic.to_owned(),
            },
            _ => return None,
        })
    }

    /// The `method` of a published message.
    pub fn published_method(&self) -> Option<&str> {
        match self {
            Self::Published { payload, .. } => payload.get("method").and_then(Value::as_str),
            _ => None,
        }
    }
}

/// `{"a":1,"b":2}` as `a=1 b=2`.
fn pairs(params: &Value) -> String {
    match params {
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => format!("{k}={s}"),
                other => format!("{k}={other}"),
            })
            .collect::<Vec<_>>()
            .join(" "),
        other => other.to_string(),
    }
}

fn token_of(payload: &Value) -> &str {
    payload
        .get("clientToken")
        .and_then(Value::as_str)
        .unwrap_or("-")
}

fn outcome(code: i64) -> &'static str {
    match code {
        0 => "ok",
        403 => "refused: not in the thing model or read-only",
        406 => "refused: value out of range or of the wrong type",
        -1 => "failed on the device",
        _ => "refused",
    }
}

impl fmt::Display for NodeEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Connecting { attempt } => write!(f, "connecting (attempt {attempt})"),
            Self::Connected => {
                f.write_str("connected; subscribed to the property, event, action and $sys topics")
            }
            Self::ConnectFailed { error, retry_in } => {
                write!(
                    f,
                    "connect failed: {error}; next attempt in {:.1} s",
                    retry_in.as_secs_f32()
                )
            }
            Self::Disconnected { error, retry_in } => {
                write!(
                    f,
                    "disconnected: {error}; reconnecting in {:.1} s",
                    retry_in.as_secs_f32()
                )
            }
            Self::Published { payload, .. } => {
                let method = payload.get("method").and_then(Value::as_str).unwrap_or("?");
                match method {
                    "report" => write!(
                        f,
                        "report   {}  [{}]",
                        pairs(&payload["params"]),
                        token_of(payload)
                    ),
                    "event_post" => write!(
                        f,
                        "event    {} {}  [{}]",
                        payload
                            .get("eventId")
                            .and_then(Value::as_str)
                            .unwrap_or("?"),
                        pairs(&payload["params"]),
                        token_of(payload)
                    ),
                    "action_reply" => write!(
                        f,
                        "action   reply code={} {}  [{}]",
                        payload.get("code").unwrap_or(&Value::Null),
                        pairs(payload.get("response").unwrap_or(&Value::Null)),
                        token_of(payload)
                    ),
                    "control_reply" => write!(
                        f,
                        "control  reply code={}  [{}]",
                        payload.get("code").unwrap_or(&Value::Null),
                        token_of(payload)
                    ),
                    other => write!(f, "sent     {other}  [{}]", token_of(payload)),
                }
            }
            Self::Queued {
                report,
                client_token,
                queue_len,
            } => write!(
                f,
                "queued   {} [{client_token}] while offline ({queue_len} waiting)",
                if *report { "report" } else { "event" }
            ),
            Self::DroppedOldest { total } => {
                write!(
                    f,
                    "queue full: dropped the oldest message ({total} dropped so far)"
                )
            }
            Self::Answered {
                method,
                code,
                client_token,
                latency,
            } => {
                write!(
                    f,
                    "reply    {method} code={code} {}  [{client_token}]",
                    outcome(*code)
                )?;
                if let Some(latency) = latency {
                    write!(f, " in {:.1} ms", latency.as_secs_f64() * 1e3)?;
                }
                Ok(())
            }
            Self::GaveUp { client_token } => {
                write!(f, "gave up [{client_token}]: no reply after every retry")
            }
            Self::Control { code, params } => {
                write!(f, "control  {} → {}", pairs(params), outcome(*code))
            }
            Self::PendingControl { code, params } => {
                write!(
                    f,
                    "control  {} (pending since offline) → {}",
                    pairs(params),
                    outcome(*code)
                )
            }
            Self::Action { action_id, code } => {
                write!(f, "action   {action_id} → {}", outcome(*code))
            }
            Self::TimeSynced { unix_ms } => {
                write!(f, "time     synced over $sys: {unix_ms} ms since 1970")
            }
            Self::SettingsChanged {
                report_interval_ms,
                smoke_threshold_ppm,
                alarm_enabled,
            } => write!(
                f,
                "settings report every {} s, smoke threshold {smoke_threshold_ppm} ppm, alarm {}",
                f64::from(*report_interval_ms) / 1000.0,
                if *alarm_enabled { "on" } else { "off" }
            ),
            Self::AlarmRaised {
                value_ppm,
                threshold_ppm,
            } => write!(
                f,
                "ALARM    smoke {value_ppm} ppm above {threshold_ppm} ppm"
            ),
            Self::AlarmCleared => f.write_str("alarm    cleared"),
            Self::SensorFault { sensor, error_code } => {
                write!(f, "fault    {sensor} error_code={error_code}")
            }
            Self::Ignored { topic } => write!(f, "ignored  a message on {topic}"),
        }
    }
}

/// The node's observer: converts, timestamps, prints and forwards every event.
#[derive(Debug)]
pub struct Tap {
    started: Instant,
    print: bool,
    sender: Option<UnboundedSender<NodeEvent>>,
    queued_at: HashMap<String, Instant>,
    connected: bool,
}

impl Tap {
    /// A tap that prints when `print` and forwards to `sender` when given.
    pub fn new(print: bool, sender: Option<UnboundedSender<NodeEvent>>) -> Self {
        Self {
            started: Instant::now(),
            print,
            sender,
            queued_at: HashMap::new(),
            connected: false,
        }
    }

    fn handle(&mut self, mut event: NodeEvent) {
        match &mut event {
            NodeEvent::Connected => self.connected = true,
            NodeEvent::Disconnected { .. } | NodeEvent::ConnectFailed { .. } => {
                self.connected = false
            }
            NodeEvent::Queued { client_token, .. } => {
                self.queued_at.insert(client_token.clone(), Instant::now());
            }
            NodeEvent::Answered {
                client_token,
                latency,
                ..
            } => {
                *latency = self
                    .queued_at
                    .remove(client_token.as_str())
                    .map(|at| at.elapsed())
            }
            NodeEvent::GaveUp { client_token } => {
                self.queued_at.remove(client_token.as_str());
            }
            _ => {}
        }
        if self.print && self.worth_printing(&event) {
            let elapsed = self.started.elapsed().as_secs_f64();
            let mut out = std::io::stdout().lock();
            // A closed stdout (a pipe whose reader left) must not stop the node.
            let _ = writeln!(out, "[{elapsed:9.3}] {event}");
        }
        if let Some(sender) = &self.sender {
            // The receiver may have gone (a test that has seen enough); the node keeps running.
            let _ = sender.send(event);
        }
    }

    fn worth_printing(&self, event: &NodeEvent) -> bool {
        match event {
            // While connected every queued message is published at once, and the publish is shown.
            NodeEvent::Queued { .. } => !self.connected,
            // The connect sequence and the $sys time request (no method) are shown by their effect.
            NodeEvent::Published { .. } => !matches!(
                event.published_method(),
                None | Some("get_status" | "clear_control" | "report_info" | "control_reply")
            ),
            _ => true,
        }
    }
}

/// Adapts a [`Tap`] to the runtime's observer, with the runtime's clock for "retry in".
#[derive(Debug)]
pub struct TapObserver<F> {
    tap: Tap,
    now_ms: F,
}

impl<F: Fn() -> u64> TapObserver<F> {
    /// Wraps `tap`; `now_ms` reads the runtime's clock.
    pub fn new(tap: Tap, now_ms: F) -> Self {
        Self { tap, now_ms }
    }
}

impl<F: Fn() -> u64> Observer for TapObserver<F> {
    fn on_event(&mut self, event: &RuntimeEvent<'_>) {
        if let Some(event) = NodeEvent::from_runtime(event, (self.now_ms)()) {
            self.tap.handle(event);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_report_prints_its_values_and_token() {
        let event = NodeEvent::Published {
            topic: "$thing/up/property/CS0SLTKSYA/dev1".into(),
            payload: json!({"method":"report","clientToken":"r-7","params":{"MQ2":30,"DHT11_T":24}}),
        };
        assert_eq!(event.to_string(), "report   DHT11_T=24 MQ2=30  [r-7]");
    }

    #[test]
    fn a_refused_control_says_why() {
        let event = NodeEvent::Control {
            code: 406,
            params: json!({"report_interval": 0}),
        };
        assert_eq!(
            event.to_string(),
            "control  report_interval=0 → refused: value out of range or of the wrong type"
        );
    }

    #[test]
    fn the_tap_measures_queue_to_reply_latency_and_forwards() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut tap = Tap::new(false, Some(tx));
        tap.handle(NodeEvent::Queued {
            report: true,
            client_token: "r-1".into(),
            queue_len: 1,
        });
        tap.handle(NodeEvent::Answered {
            method: "report_reply".into(),
            code: 0,
            client_token: "r-1".into(),
            latency: None,
        });
        assert!(matches!(rx.try_recv(), Ok(NodeEvent::Queued { .. })));
        match rx.try_recv() {
            Ok(NodeEvent::Answered {
                latency: Some(latency),
                ..
            }) => assert!(latency < Duration::from_secs(1)),
            other => panic!("expected an answered event with a latency, got {other:?}"),
        }
        // A reply to a message queued before this run (unknown token) has no latency.
        tap.handle(NodeEvent::Answered {
            method: "report_reply".into(),
            code: 0,
            client_token: "r-0".into(),
            latency: None,
        });
        assert!(matches!(
            rx.try_recv(),
            Ok(NodeEvent::Answered { latency: None, .. })
        ));
    }
}
