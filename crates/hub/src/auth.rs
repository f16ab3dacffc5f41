//! Authentication of MQTT CONNECT packets against the registry (protocol.md §3.2).

use iot_core::credentials::{
    verify_password, CredentialsError, Psk, SdkAppId, SignMethod, Username,
};

use crate::acl::DeviceId;

/// The parts of a CONNECT packet that authentication looks at.
#[derive(Debug, Clone, Copy)]
pub struct ConnectRequest<'a> {
    /// MQTT clientId.
    pub client_id: &'a str,
    /// MQTT username, if sent.
    pub username: Option<&'a str>,
    /// MQTT password bytes, if sent.
    pub password: Option<&'a [u8]>,
    /// Whether the CONNECT carries a Will message.
    pub has_will: bool,
}

/// Why a CONNECT is refused. The text never contains the password or the PSK.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The clientId is not `ProductId + DeviceName` with a ten-character ProductId.
    #[error("clientId {0:?} is not ProductId (10 characters) + DeviceName")]
    BadClientId(String),
    /// The clientId names no registered device.
    #[error("device {0} is not registered; add it with `iotctl device add`")]
    UnknownDevice(DeviceId),
    /// No username or no password.
    #[error("CONNECT has no {0}; key devices must send the signed username and password")]
    MissingField(&'static str),
    /// The username or password is not UTF-8 or not of the protocol's form.
    #[error("malformed credentials: {0}")]
    Malformed(CredentialsError),
    /// The username's clientId differs from the CONNECT's clientId.
    #[error("username is for clientId {username:?} but the CONNECT clientId is {client_id:?}")]
    ClientIdMismatch {
        /// The clientId inside the username.
        username: String,
        /// The CONNECT's clientId.
        client_id: String,
    },
    /// The sdkappid is neither of the two the platform uses.
    #[error("sdkappid {0} is not accepted; use 12010126 or 21010406")]
    SdkAppId(u32),
    /// The username's expiry is not in the future.
    #[error("credentials expired at {expiry} (now {now}); sign them again")]
    Expired {
        /// Expiry from the username, Unix seconds.
        expiry: u64,
        /// The hub's clock, Unix seconds.
        now: u64,
    },
    /// The HMAC does not match.
    #[error("password signature does not match the registered PSK")]
    BadSignature,
    /// The stored PSK cannot be used.
    #[error("registered PSK of {0} is unusable; re-create the device")]
    BadStoredPsk(DeviceId),
    /// The CONNECT carries a Will, which the platform does not support (protocol.md §3.5).
    #[error("Will messages are not supported (protocol.md §3.5); connect without a Will")]
    WillNotSupported,
}

/// CONNACK return code family of a refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalCode {
    /// 4: bad username or password (the credentials themselves are wrong).
    BadUsernameOrPassword,
    /// 5: not authorized (the identity is not allowed to connect).
    NotAuthorized,
}

impl Refusal {
    /// The CONNACK code this refusal is answered with.
    pub fn code(&self) -> RefusalCode {
        match self {
            Self::BadClientId(_)
            | Self::UnknownDevice(_)
            | Self::BadStoredPsk(_)
            | Self::WillNotSupported => RefusalCode::NotAuthorized,
            Self::MissingField(_)
            | Self::Malformed(_)
            | Self::ClientIdMismatch { .. }
            | Self::SdkAppId(_)
            | Self::Expired { .. }
            | Self::BadSignature => RefusalCode::BadUsernameOrPassword,
        }
    }
}

/// The two sdkappid values devices send (protocol.md §3.2, §10.1).
pub const ACCEPTED_SDK_APP_IDS: [SdkAppId; 2] = [SdkAppId::DEFAULT, SdkAppId::OFFICIAL_SDK];

/// Checks a CONNECT. `lookup_psk` returns the device's registered base64 PSK, or `None` when the device is unknown;
/// `now_unix_secs` is the hub's clock.
pub fn authenticate(
    request: &ConnectRequest<'_>,
    now_unix_secs: u64,
    lookup_psk: impl FnOnce(&DeviceId) -> Option<String>,
) -> Result<(DeviceId, SignMethod), Refusal> {
    // protocol.md §3.2 step 1: clientId = ProductId + DeviceName.
    let device = DeviceId::from_client_id(request.client_id)
        .ok_or_else(|| Refusal::BadClientId(request.client_id.into()))?;
    if request.has_will {
        return Err(Refusal::WillNotSupported);
    }
    let username = request.username.ok_or(Refusal::MissingField("username"))?;
    let password = request.password.ok_or(Refusal::MissingField("password"))?;
    let password = core::str::from_utf8(password)
        .map_err(|_| Refusal::Malformed(CredentialsError::PasswordMalformed))?;

    // Step 2: username = clientId;sdkappid;connid;expiry.
    let parsed = Username::parse(username).map_err(Refusal::Malformed)?;
    if parsed.client_id() != request.client_id {
        return Err(Refusal::ClientIdMismatch {
            username: parsed.client_id().into(),
            client_id: request.client_id.into(),
        });
    }
    if !ACCEPTED_SDK_APP_IDS.contains(&parsed.sdk_app_id()) {
        return Err(Refusal::SdkAppId(parsed.sdk_app_id().0));
    }
    if parsed.is_expired(now_unix_secs) {
        return Err(Refusal::Expired {
            expiry: parsed.expiry(),
            now: now_unix_secs,
        });
    }

    // Steps 3–5: HMAC of the username with the decoded PSK, compared in constant time by iot-core.
    let psk_text = lookup_psk(&device).ok_or_else(|| Refusal::UnknownDevice(device.clone()))?;
    let psk = Psk::from_base64(&psk_text).map_err(|_| Refusal::BadStoredPsk(device.clone()))?;
    match verify_password(&psk, username, password) {
        Ok(method) => Ok((device, method)),
        Err(CredentialsError::PasswordMismatch) => Err(Refusal::BadSignature),
        Err(other) => Err(Refusal::Malformed(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    const NOW: u64 = 1_700_000_000;

    fn vectors() -> Vec<Value> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/vectors/credentials.json"
        );
        let text = std::fs::read_to_string(path).unwrap();
        let doc: Value = serde_json::from_str(&text).unwrap();
        doc["mqtt_password"].as_array().unwrap().clone()
    }

    fn request<'a>(client_id: &'a str, username: &'a str, password: &'a str) -> ConnectRequest<'a> {
        ConnectRequest {
            client_id,
            username: Some(username),
            password: Some(password.as_bytes()),
            has_will: false,
        }
    }

    #[test]
    fn every_shared_vector_authenticates_against_its_psk() {
        let mut checked = 0;
        for v in vectors() {
            let (client_id, username, password) = (
                v["clientid"].as_str().unwrap(),
                v["username"].as_str().unwrap(),
                v["password"].as_str().unwrap(),
            );
            let psk = v["device_psk"].as_str().unwrap().to_owned();
            let expiry = v["expiry"].as_u64().unwrap();
            if DeviceId::from_client_id(client_id).is_none() {
                continue;
            }
            let result = authenticate(&request(client_id, username, password), expiry - 1, |_| {
                Some(psk.clone())
            });
            let (device, method) = result.unwrap_or_else(|e| panic!("{username}: {e}"));
            assert_eq!(device.client_id(), client_id);
            assert_eq!(method.as_str(), v["method"].as_str().unwrap());
            // The same credentials one second after expiry are refused.
            let late = authenticate(&request(client_id, username, password), expiry, |_| {
                Some(psk.clone())
            });
            assert!(matches!(late, Err(Refusal::Expired { .. })), "{late:?}");
            checked += 1;
        }
        assert!(checked >= 5, "only {checked} vectors checked");
    }

    #[test]
    fn refusals_name_the_problem() {
        let v = &vectors()[0];
        let (client_id, username, password) = (
            v["clientid"].as_str().unwrap(),
            v["username"].as_str().unwrap(),
            v["password"].as_str().unwrap(),
        );
        let psk = || Some(v["device_psk"].as_str().unwrap().to_owned());

        let wrong_psk = authenticate(&request(client_id, username, password), NOW, |_| {
            Some("u/nAbSmZKbCW7lugludvLg==".into())
        });
        assert_eq!(wrong_psk, Err(Refusal::BadSignature));
        assert_eq!(
            wrong_psk.unwrap_err().code(),
            RefusalCode::BadUsernameOrPassword
        );

        let unknown = authenticate(&request(client_id, username, password), NOW, |_| None);
        assert!(matches!(unknown, Err(Refusal::UnknownDevice(_))));
        assert_eq!(unknown.unwrap_err().code(), RefusalCode::NotAuthorized);

        let other_client =
            authenticate(&request("CS0SLTKSYAdev2", username, password), NOW, |_| {
                psk()
            });
        assert!(matches!(
            other_client,
            Err(Refusal::ClientIdMismatch { .. })
        ));

        let bad_app = username.replace("12010126", "12345678");
        assert_eq!(
            authenticate(&request(client_id, &bad_app, password), NOW, |_| psk()),
            Err(Refusal::SdkAppId(12_345_678))
        );

        let mut tampered = password.to_owned();
        tampered.replace_range(0..1, if tampered.starts_with('0') { "1" } else { "0" });
        assert_eq!(
            authenticate(&request(client_id, username, &tampered), NOW, |_| psk()),
            Err(Refusal::BadSignature)
        );

        assert!(matches!(
            authenticate(&request(client_id, "not-a-username", password), NOW, |_| {
                psk()
            }),
            Err(Refusal::Malformed(_))
        ));
        assert!(matches!(
            authenticate(
                &request(client_id, username, "deadbeef;hmacmd5"),
                NOW,
                |_| psk()
            ),
            Err(Refusal::Malformed(_))
        ));
        let mut will = request(client_id, username, password);
        will.has_will = true;
        assert_eq!(
            authenticate(&will, NOW, |_| psk()),
            Err(Refusal::WillNotSupported)
        );
        let mut anonymous = request(client_id, username, password);
        anonymous.username = None;
        assert_eq!(
            authenticate(&anonymous, NOW, |_| psk()),
            Err(Refusal::MissingField("username"))
        );
        assert!(matches!(
            authenticate(&request("short", username, password), NOW, |_| psk()),
            Err(Refusal::BadClientId(_))
        ));
    }

    #[test]
    fn refusal_texts_never_contain_the_secret() {
        let v = &vectors()[0];
        let psk_text = v["device_psk"].as_str().unwrap();
        let password = v["password"].as_str().unwrap();
        let all = [
            Refusal::BadSignature,
            Refusal::Malformed(CredentialsError::PasswordMalformed),
            Refusal::Expired { expiry: 1, now: 2 },
        ];
        for refusal in all {
            let text = refusal.to_string();
            assert!(
                !text.contains(psk_text) && !text.contains(password),
                "{text}"
            );
        }
    }
}
