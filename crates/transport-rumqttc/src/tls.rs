//! TLS settings: which roots to trust and an optional client certificate (protocol.md §3.3, §3.4, §11.13).
//!
//! rustls runs with the `ring` provider, chosen explicitly so the process-wide default provider does not matter
//! and no aws-lc (cmake) build is needed. rustls has no TLS-PSK (protocol.md §3.2), so key devices use server
//! authentication plus the HMAC password, and certificate devices use mutual TLS.
//!
//! Risk noted in protocol.md §3.4: rustls (webpki) only matches the host name against the certificate's
//! subjectAltName, never the CN. If the cloud's leaf certificate carries the name only in its CN, the handshake
//! fails with a name-mismatch error; use plain TCP on 1883 then.

use std::sync::Arc;

use rustls::client::ClientConfig;
use rustls::RootCertStore;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// The Tencent IoT root CA (`C=CN, O=Tencent, OU=Tencent Iothub, CN=www.tencent.com`, valid until 2032-11-23;
/// SHA-256 fingerprint `3B:1F:A1:E1:…:78:E7:40`), as built into the official C SDK (protocol.md §3.4).
pub const TENCENT_IOT_CA_PEM: &[u8] = include_bytes!("../certs/tencent-iot-ca.pem");

/// Why TLS settings could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// The CA PEM holds no certificate rustls accepts.
    #[error(
        "the CA PEM holds no usable certificate ({reason}); pass the broker's root CA in PEM form"
    )]
    InvalidCa {
        /// What was wrong.
        reason: String,
    },
    /// The client certificate chain could not be read.
    #[error("the client certificate PEM holds no usable certificate ({reason}); pass the device certificate in PEM form")]
    InvalidClientCertificate {
        /// What was wrong.
        reason: String,
    },
    /// The client private key could not be read.
    #[error("the client private key PEM holds no usable key ({reason}); pass the device key (PKCS#8, PKCS#1 or SEC1 PEM)")]
    InvalidPrivateKey {
        /// What was wrong.
        reason: String,
    },
    /// rustls refused the settings (for example a key that does not match the certificate).
    #[error("rustls refused the TLS settings: {0}")]
    Rustls(#[from] rustls::Error),
}

/// Which certificate authorities the adapter trusts for the broker's certificate.
#[derive(Clone, PartialEq, Eq)]
enum Roots {
    /// The bundled [`TENCENT_IOT_CA_PEM`].
    TencentIot,
    /// A caller-supplied PEM bundle (self-hosted brokers, test CAs).
    Pem(Vec<u8>),
}

/// TLS settings for [`Config::tls`](crate::Config::tls).
///
/// ```
/// use iot_transport_rumqttc::TlsConfig;
/// // Key device on the real cloud: trust the bundled Tencent CA, send the HMAC password.
/// let tls = TlsConfig::tencent_iot();
/// # let _ = tls;
/// ```
#[derive(Clone)]
pub struct TlsConfig {
    roots: Roots,
    client_auth: Option<(Vec<u8>, Vec<u8>)>,
}

impl TlsConfig {
    /// Trust the bundled Tencent IoT CA only (protocol.md §3.4).
    pub fn tencent_iot() -> Self {
        Self {
            roots: Roots::TencentIot,
            client_auth: None,
        }
    }

    /// Trust the certificates in `ca_pem` only (a self-hosted broker's CA).
    pub fn with_ca_pem(ca_pem: impl Into<Vec<u8>>) -> Self {
        Self {
            roots: Roots::Pem(ca_pem.into()),
            client_auth: None,
        }
    }

    /// Log in with a client certificate (mutual TLS, protocol.md §3.3): the device certificate chain and its
    /// private key, both PEM. The cloud then ignores the password.
    #[must_use]
    pub fn with_client_auth(
        mut self,
        cert_chain_pem: impl Into<Vec<u8>>,
        private_key_pem: impl Into<Vec<u8>>,
    ) -> Self {
        self.client_auth = Some((cert_chain_pem.into(), private_key_pem.into()));
        self
    }

    /// Whether a client certificate is configured.
    pub fn has_client_auth(&self) -> bool {
        self.client_auth.is_some()
    }

    /// Builds the rustls client configuration, checking every PEM.
    pub(crate) fn build(&self) -> Result<Arc<ClientConfig>, TlsError> {
        let ca_pem = match &self.roots {
            Roots::TencentIot => TENCENT_IOT_CA_PEM,
            Roots::Pem(pem) => pem.as_slice(),
        };
        let mut roots = RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(ca_pem) {
            let cert = cert.map_err(|e| TlsError::InvalidCa {
                reason: e.to_string(),
            })?;
            roots.add(cert).map_err(|e| TlsError::InvalidCa {
                reason: e.to_string(),
            })?;
        }
        if roots.is_empty() {
            return Err(TlsError::InvalidCa {
                reason: "no CERTIFICATE block".into(),
            });
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots);
        let config = match &self.client_auth {
            None => builder.with_no_client_auth(),
            Some((cert_pem, key_pem)) => {
                let chain = CertificateDer::pem_slice_iter(cert_pem)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| TlsError::InvalidClientCertificate {
                        reason: e.to_string(),
                    })?;
                if chain.is_empty() {
                    return Err(TlsError::InvalidClientCertificate {
                        reason: "no CERTIFICATE block".into(),
                    });
                }
                let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| {
                    TlsError::InvalidPrivateKey {
                        reason: e.to_string(),
                    }
                })?;
                builder.with_client_auth_cert(chain, key)?
            }
        };
        Ok(Arc::new(config))
    }
}

impl core::fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let roots = match self.roots {
            Roots::TencentIot => "Tencent IoT CA",
            Roots::Pem(_) => "custom CA",
        };
        // The private key is a secret: say only whether there is one.
        f.debug_struct("TlsConfig")
            .field("roots", &roots)
            .field("client_auth", &self.client_auth.is_some())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_tencent_ca_loads() {
        let config = TlsConfig::tencent_iot().build();
        assert!(config.is_ok(), "{config:?}");
    }

    #[test]
    fn the_bundled_ca_is_the_one_protocol_md_names() {
        let certs: Vec<_> = CertificateDer::pem_slice_iter(TENCENT_IOT_CA_PEM)
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(certs.len(), 1);
        // protocol.md §3.4: serial B335C229D83B6C73 appears in the DER right after the version field.
        let serial = [0xB3, 0x35, 0xC2, 0x29, 0xD8, 0x3B, 0x6C, 0x73];
        assert!(certs[0].windows(serial.len()).any(|w| w == serial));
    }

    #[test]
    fn a_ca_without_certificates_is_refused() {
        let err = TlsConfig::with_ca_pem("not a pem").build().unwrap_err();
        assert!(matches!(err, TlsError::InvalidCa { .. }), "{err:?}");
    }

    #[test]
    fn a_client_certificate_without_key_is_refused() {
        let err = TlsConfig::tencent_iot()
            .with_client_auth(
                TENCENT_IOT_CA_PEM,
                "-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n",
            )
            .build()
            .unwrap_err();
        assert!(
            matches!(
                err,
                TlsError::InvalidPrivateKey { .. } | TlsError::Rustls(_)
            ),
            "{err:?}"
        );
    }

    #[test]
    fn debug_does_not_print_the_key() {
        let tls = TlsConfig::tencent_iot().with_client_auth("cert", "very-secret-key");
        let shown = format!("{tls:?}");
        assert!(!shown.contains("very-secret-key"), "{shown}");
        assert!(tls.has_client_auth());
    }
}
