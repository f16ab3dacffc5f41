//! Where the broker is and how long to wait for it.

use core::time::Duration;

#[cfg(feature = "tls")]
use crate::TlsConfig;

/// Plain MQTT port (protocol.md §3.1).
pub const PORT_TCP: u16 = 1883;
/// MQTT over TLS port (protocol.md §3.1).
pub const PORT_TLS: u16 = 8883;

/// How the adapter reaches the broker.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Security {
    /// Plain TCP; the HMAC password travels in clear (protocol.md §11.13 allows it for key devices).
    Tcp,
    /// TLS through rustls.
    #[cfg(feature = "tls")]
    Tls(TlsConfig),
}

/// Settings of a [`RumqttcTransport`](crate::RumqttcTransport).
///
/// ```
/// use iot_transport_rumqttc::Config;
/// let config = Config::tencent_cloud_tcp("1A17RZR3XX");
/// assert_eq!(config.host, "1A17RZR3XX.iotcloud.tencentdevices.com");
/// assert_eq!(config.port, 1883);
/// ```
#[derive(Debug, Clone)]
pub struct Config {
    /// Broker host name or IP address; with TLS it is also the name checked against the certificate.
    pub host: String,
    /// Broker port.
    pub port: u16,
    /// Plain TCP or TLS.
    pub security: Security,
    /// Limit for opening TCP, the TLS handshake and the CONNACK together (whole seconds, at least 1).
    pub connect_timeout: Duration,
    /// Limit for a SUBACK or PUBACK.
    pub ack_timeout: Duration,
    /// Received messages kept until [`receive`](iot_transport::Transport::receive) takes them; when full, new
    /// messages are dropped and counted in [`dropped_messages`](crate::RumqttcTransport::dropped_messages).
    pub incoming_capacity: usize,
    /// Largest MQTT packet sent or accepted, in bytes. The default fits a 16 KB payload (protocol.md §3.5) plus a
    /// 255-byte topic and headers; the broker drops the connection on a larger incoming packet.
    pub max_packet_size: usize,
}

impl Config {
    /// Plain TCP to `host:port`.
    pub fn tcp(host: impl Into<String>, port: u16) -> Self {
        Self {
            host: host.into(),
            port,
            security: Security::Tcp,
            connect_timeout: Duration::from_secs(10),
            ack_timeout: Duration::from_secs(10),
            incoming_capacity: 64,
            max_packet_size: iot_transport::MAX_PAYLOAD_LEN + 1024,
        }
    }

    /// TLS to `host:port` with the given trust settings.
    #[cfg(feature = "tls")]
    pub fn tls(host: impl Into<String>, port: u16, tls: TlsConfig) -> Self {
        Self {
            security: Security::Tls(tls),
            ..Self::tcp(host, port)
        }
    }

    /// The IoT Explorer broker of a product (China region), plain TCP on 1883 (protocol.md §3.1).
    pub fn tencent_cloud_tcp(product_id: &str) -> Self {
        Self::tcp(tencent_cloud_host(product_id), PORT_TCP)
    }

    /// The IoT Explorer broker of a product (China region), TLS on 8883 trusting the bundled Tencent CA
    /// (protocol.md §3.1, §3.4).
    #[cfg(feature = "tls")]
    pub fn tencent_cloud_tls(product_id: &str) -> Self {
        Self::tls(
            tencent_cloud_host(product_id),
            PORT_TLS,
            TlsConfig::tencent_iot(),
        )
    }
}

/// `{ProductId}.iotcloud.tencentdevices.com` (protocol.md §3.1).
pub fn tencent_cloud_host(product_id: &str) -> String {
    format!("{product_id}.iotcloud.tencentdevices.com")
}
