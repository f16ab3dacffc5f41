//! The adapter's error type.

use core::time::Duration;

use iot_transport::{ConnectRefusal, ErrorKind};

/// What went wrong in a [`RumqttcTransport`](crate::RumqttcTransport) call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The broker answered the CONNECT with a refusal code (MQTT 3.1.1 §3.2.2.3).
    #[error(
        "broker refused the connection ({0:?}); for IoT Explorer check the device PSK, the clock and expiry in the \
         signed username, and that the device exists and is enabled"
    )]
    Refused(ConnectRefusal),
    /// A call that needs a connection was made without one.
    #[error("not connected; call connect first (after a lost connection, connect again)")]
    NotConnected,
    /// The connection dropped.
    #[error("connection to the broker lost ({reason}); connect again")]
    Disconnected {
        /// What the MQTT client reported.
        reason: String,
    },
    /// The TCP or TLS connection could not be opened.
    #[error("could not connect to {host}:{port} ({reason}); check the host name, port, TLS settings and network")]
    Network {
        /// Broker host.
        host: String,
        /// Broker port.
        port: u16,
        /// What failed.
        reason: String,
    },
    /// The broker did not answer in time.
    #[error("the broker sent no {waiting_for} within {after:?}; the link may be stalled, reconnect if it persists")]
    Timeout {
        /// The packet awaited: CONNACK, SUBACK or PUBACK.
        waiting_for: &'static str,
        /// How long the adapter waited.
        after: Duration,
    },
    /// The broker answered a SUBSCRIBE with the failure code 0x80.
    #[error("broker refused the subscription to {filter:?}; check that the device may subscribe to this topic")]
    SubscribeRefused {
        /// The refused topic filter.
        filter: String,
    },
    /// The payload is larger than the cloud accepts or than the configured packet limit.
    #[error("payload of {len} bytes is larger than the {limit}-byte limit (protocol.md §3.5); send less data per message")]
    PayloadTooLarge {
        /// Payload length.
        len: usize,
        /// The limit it broke.
        limit: usize,
    },
    /// A topic name (publish) or topic filter (subscribe) is not valid MQTT.
    #[error("{topic:?} is not a valid MQTT topic {what}; topic names carry no wildcards and must not be empty")]
    InvalidTopic {
        /// The offending topic.
        topic: String,
        /// "name" or "filter".
        what: &'static str,
    },
    /// The connect options cannot be sent as given.
    #[error("invalid connect options: {0}")]
    InvalidOptions(&'static str),
    /// `connect` was called outside a tokio runtime.
    #[error("no tokio runtime is running; call connect from inside a tokio runtime")]
    NoRuntime,
    /// The broker broke the MQTT protocol.
    #[error("the broker broke the MQTT protocol ({0}); reconnect")]
    Protocol(String),
    /// The TLS settings could not be turned into a rustls configuration.
    #[cfg(feature = "tls")]
    #[error("invalid TLS settings: {0}")]
    Tls(#[from] crate::tls::TlsError),
}

impl iot_transport::Error for Error {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Refused(code) => ErrorKind::Refused(*code),
            Self::NotConnected => ErrorKind::NotConnected,
            Self::Disconnected { .. } | Self::Network { .. } => ErrorKind::Disconnected,
            Self::Timeout { .. } => ErrorKind::Timeout,
            Self::SubscribeRefused { .. } => ErrorKind::SubscribeRefused,
            Self::PayloadTooLarge { .. } => ErrorKind::PayloadTooLarge,
            Self::Protocol(_) => ErrorKind::Protocol,
            Self::InvalidTopic { .. } | Self::InvalidOptions(_) | Self::NoRuntime => {
                ErrorKind::Other
            }
            #[cfg(feature = "tls")]
            Self::Tls(_) => ErrorKind::Other,
        }
    }
}

/// Maps rumqttc's CONNACK return code onto the trait's refusal reasons.
pub(crate) fn refusal(code: rumqttc::ConnectReturnCode) -> ConnectRefusal {
    use rumqttc::ConnectReturnCode as Code;
    match code {
        Code::RefusedProtocolVersion => ConnectRefusal::UnacceptableProtocolVersion,
        Code::BadClientId => ConnectRefusal::IdentifierRejected,
        Code::ServiceUnavailable => ConnectRefusal::ServerUnavailable,
        Code::BadUserNamePassword => ConnectRefusal::BadCredentials,
        Code::NotAuthorized => ConnectRefusal::NotAuthorized,
        // Only reached if rumqttc reported success as a refusal; keep the wire value.
        Code::Success => ConnectRefusal::Other(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use iot_transport::Error as _;

    #[test]
    fn connack_codes_map_to_refusals() {
        use rumqttc::ConnectReturnCode as Code;
        assert_eq!(
            refusal(Code::RefusedProtocolVersion),
            ConnectRefusal::UnacceptableProtocolVersion
        );
        assert_eq!(
            refusal(Code::BadClientId),
            ConnectRefusal::IdentifierRejected
        );
        assert_eq!(
            refusal(Code::ServiceUnavailable),
            ConnectRefusal::ServerUnavailable
        );
        assert_eq!(
            refusal(Code::BadUserNamePassword),
            ConnectRefusal::BadCredentials
        );
        assert_eq!(refusal(Code::NotAuthorized), ConnectRefusal::NotAuthorized);
    }

    #[test]
    fn kinds_tell_the_runtime_what_happened() {
        let lost = Error::Disconnected {
            reason: "reset".into(),
        };
        assert_eq!(lost.kind(), ErrorKind::Disconnected);
        let unreachable = Error::Network {
            host: "h".into(),
            port: 1,
            reason: "refused".into(),
        };
        assert_eq!(unreachable.kind(), ErrorKind::Disconnected);
        assert_eq!(Error::NotConnected.kind(), ErrorKind::NotConnected);
        let big = Error::PayloadTooLarge {
            len: 20_000,
            limit: 16_384,
        };
        assert_eq!(big.kind(), ErrorKind::PayloadTooLarge);
        assert_eq!(
            Error::Refused(ConnectRefusal::BadCredentials).kind(),
            ErrorKind::Refused(ConnectRefusal::BadCredentials)
        );
    }
}
