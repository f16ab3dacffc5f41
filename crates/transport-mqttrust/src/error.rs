//! The adapter's error type.

use iot_transport::link::HandleError;
use iot_transport::{ConnectRefusal, ErrorKind};

use crate::link::Failure;

/// What went wrong in a [`MqttrustTransport`](crate::MqttrustTransport) call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The broker refused the CONNECT (MQTT 3.1.1 §3.2.2.3 return code).
    #[error(
        "broker refused the connection ({0:?}); for IoT Explorer check the device PSK, the clock and \
         expiry in the signed username, and that the device exists and is enabled"
    )]
    Refused(ConnectRefusal),
    /// A call that needs a connection was made without one.
    #[error("not connected; call connect first (after a lost connection, connect again)")]
    NotConnected,
    /// The connection dropped.
    #[error("connection to the broker lost ({reason}); connect again")]
    Disconnected {
        /// What happened.
        reason: &'static str,
    },
    /// The TCP connection could not be opened.
    #[error(
        "could not open a TCP connection to the broker ({0:?}); check the address and the network"
    )]
    Network(embedded_io_async::ErrorKind),
    /// The broker did not answer in time.
    #[error("no {waiting_for} in time; the link may be stalled, reconnect if it persists")]
    Timeout {
        /// What the adapter waited for.
        waiting_for: &'static str,
    },
    /// The broker answered the SUBSCRIBE with the failure code 0x80.
    #[error(
        "broker refused the subscription; check that the device may subscribe to this topic filter"
    )]
    SubscribeRefused,
    /// The payload is larger than 16 KB, than `PAYLOAD` or than the TX buffer can hold.
    #[error("payload of {len} bytes does not fit (limit {limit}: 16 KB per protocol.md §3.5, PAYLOAD and TX); send less")]
    PayloadTooLarge {
        /// Payload length.
        len: usize,
        /// The smaller of 16 KB and `PAYLOAD` (the TX buffer may be smaller still).
        limit: usize,
    },
    /// A topic name contains wildcards or is empty, or a filter is empty.
    #[error(
        "not a valid MQTT topic {what}: names must be non-empty without + or #, filters non-empty"
    )]
    InvalidTopic {
        /// "name" or "filter".
        what: &'static str,
    },
    /// A string does not fit its fixed-size buffer.
    #[error("{field} is {len} bytes, more than the {capacity} bytes reserved for it")]
    TooLong {
        /// Which argument.
        field: &'static str,
        /// Its length.
        len: usize,
        /// The room for it.
        capacity: usize,
    },
    /// The settings cannot be used with mqttrust.
    #[error("invalid settings: {0}")]
    Options(&'static str),
    /// mqttrust's in-flight or subscription slots are used up.
    #[error("mqttrust has no free slot (in-flight publishes or subscriptions); retry later or subscribe to fewer filters")]
    NotReady,
    /// The broker broke the MQTT protocol.
    #[error("the broker broke the MQTT protocol; reconnect")]
    Protocol,
}

impl iot_transport::Error for Error {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Refused(code) => ErrorKind::Refused(*code),
            Self::NotConnected => ErrorKind::NotConnected,
            Self::Disconnected { .. } | Self::Network(_) => ErrorKind::Disconnected,
            Self::Timeout { .. } => ErrorKind::Timeout,
            Self::SubscribeRefused => ErrorKind::SubscribeRefused,
            Self::PayloadTooLarge { .. } => ErrorKind::PayloadTooLarge,
            Self::Protocol => ErrorKind::Protocol,
            Self::InvalidTopic { .. }
            | Self::TooLong { .. }
            | Self::Options(_)
            | Self::NotReady => ErrorKind::Other,
        }
    }
}

impl From<Failure> for Error {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::Refused(code) => Self::Refused(code),
            Failure::Network(kind) => Self::Network(kind),
            Failure::Timeout(waiting_for) => Self::Timeout { waiting_for },
            Failure::SubscribeRefused => Self::SubscribeRefused,
            Failure::Lost(reason) => Self::Disconnected { reason },
            Failure::Protocol => Self::Protocol,
            Failure::TooLarge => Self::PayloadTooLarge { len: 0, limit: 0 },
            Failure::Options(what) => Self::Options(what),
            Failure::NotReady => Self::NotReady,
            Failure::NotConnected => Self::NotConnected,
        }
    }
}

impl From<HandleError> for Error {
    fn from(error: HandleError) -> Self {
        match error {
            HandleError::NotReady => Self::NotReady,
            HandleError::NotConnected => Self::NotConnected,
            HandleError::Disconnected { reason } => Self::Disconnected { reason },
            HandleError::Protocol => Self::Protocol,
            HandleError::InvalidTopic { what } => Self::InvalidTopic { what },
            HandleError::TooLong {
                field,
                len,
                capacity,
            } => Self::TooLong {
                field,
                len,
                capacity,
            },
            HandleError::PayloadTooLarge { len, limit } => Self::PayloadTooLarge { len, limit },
        }
    }
}
