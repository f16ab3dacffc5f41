//! `iot_core::credentials` on target: every `mqtt_password` vector of credentials.json signs to
//! exactly its client id, username and password (protocol.md §3.2), and the HMAC-SHA1 primitive
//! vectors match.

use iot_core::credentials::{
    verify_password, ConnId, CredentialsError, DeviceIdentity, Expiry, Psk, SdkAppId, SignMethod,
    SignOptions, Username, PASSWORD_CAPACITY, PSK_MAX_LEN,
};
use iot_core::json::{Object, Value};

use super::{parse_file, text, unsigned, TextBuf, CREDENTIALS_JSON};
use crate::harness::{Failure, Outcome, Runner};
use crate::{check, check_eq, ok, some};

/// The credential tests.
pub fn run(r: &mut Runner) {
    let Some(doc) = parse_file(r, "credentials.json", CREDENTIALS_JSON) else {
        return;
    };
    let doc = doc.as_object();
    let section = |key| {
        doc.and_then(|d| d.get(key))
            .and_then(|s| s.as_array())
            .into_iter()
            .flat_map(|a| a.iter())
    };

    let mut signed = 0;
    for (i, vector) in section("mqtt_password").enumerate() {
        signed += 1;
        let field = |key| {
            vector
                .as_object()
                .and_then(|v| v.get(key))
                .and_then(|s| s.as_str())
                .and_then(|s| s.as_plain())
                .unwrap_or("?")
        };
        r.test(
            format_args!(
                "credentials::mqtt_password[{i}] {} {} sdkappid {}",
                field("clientid"),
                field("method"),
                field("sdkappid")
            ),
            || sign_vector(vector),
        );
    }
    let mut primitives = 0;
    for (i, vector) in section("hmac_sha1_primitive").enumerate() {
        primitives += 1;
        r.test(
            format_args!("credentials::hmac_sha1_primitive[{i}]"),
            || hmac_sha1_vector(vector),
        );
    }
    r.test("credentials::vectors_present", || {
        check!(signed > 0, "credentials.json has no mqtt_password vectors");
        check!(
            primitives > 0,
            "credentials.json has no hmac_sha1_primitive vectors"
        );
        Ok(())
    });
    r.test("credentials::bad_psk_is_refused", || {
        check_eq!(
            Psk::from_base64("IyXm!W5s").err(),
            Some(CredentialsError::PskNotBase64 { offset: 4 })
        );
        check_eq!(Psk::from_base64("").err(), Some(CredentialsError::PskEmpty));
        Ok(())
    });
}

/// Signs one `mqtt_password` vector and checks the three outputs exactly, then checks the
/// verifying side against the same vector.
fn sign_vector(vector: Value<'static>) -> Outcome {
    let v = some!(vector.as_object(), "the vector is not an object");
    let product_id = text(v, "product_id")?;
    let device_name = text(v, "device_name")?;
    let device_psk = text(v, "device_psk")?;
    let conn_id = text(v, "connid")?;
    let expiry = unsigned(v, "expiry")?;
    let sdk_app_id = SdkAppId(ok!(text(v, "sdkappid")?.parse::<u32>()));
    let method: SignMethod = ok!(text(v, "method")?.parse());
    let client_id = text(v, "clientid")?;
    let username = text(v, "username")?;
    let password = text(v, "password")?;

    let device = ok!(DeviceIdentity::new(product_id, device_name, device_psk));
    let options = SignOptions::new(ok!(ConnId::new(conn_id)), Expiry::At(expiry))
        .with_method(method)
        .with_sdk_app_id(sdk_app_id);
    let creds = ok!(device.sign(&options));
    check_eq!(creds.client_id(), client_id);
    check_eq!(creds.username(), username);
    check_eq!(creds.password(), password);

    // The verifying side: the username splits back into its fields, the password verifies, and
    // a password with one hex digit changed does not.
    let user = ok!(Username::parse(username));
    check_eq!(user.client_id(), client_id);
    check_eq!(user.sdk_app_id(), sdk_app_id);
    check_eq!(user.conn_id(), conn_id);
    check_eq!(user.expiry(), expiry);
    check_eq!(user.device_name(product_id), Some(device_name));
    let psk = ok!(Psk::from_base64(device_psk));
    check_eq!(verify_password(&psk, username, password), Ok(method));
    let mut tampered = [0u8; PASSWORD_CAPACITY];
    let tampered = some!(tampered.get_mut(..password.len()));
    tampered.copy_from_slice(password.as_bytes());
    let first = some!(tampered.first_mut());
    *first = if *first == b'0' { b'1' } else { b'0' };
    let tampered = ok!(core::str::from_utf8(tampered));
    check_eq!(
        verify_password(&psk, username, tampered),
        Err(CredentialsError::PasswordMismatch)
    );
    Ok(())
}

/// HMAC-SHA1 of `message` under the key given in hex.
fn hmac_sha1_vector(vector: Value<'static>) -> Outcome {
    let v: Object<'_> = some!(vector.as_object(), "the vector is not an object");
    let mut key = [0u8; PSK_MAX_LEN];
    let key = decode_hex(text(v, "key_hex")?, &mut key)?;
    check_eq!(key.len() as u64, unsigned(v, "key_len")?);
    let message = text(v, "message")?;
    let expected = text(v, "hmac_sha1_hex")?;
    let psk = ok!(Psk::from_bytes(key));
    let mac = psk.hmac(SignMethod::HmacSha1, message.as_bytes());
    check_eq!(mac.as_bytes().len(), 20);
    let shown = some!(TextBuf::<64>::display(&mac));
    check_eq!(shown.as_str(), expected);
    Ok(())
}

/// Decodes lowercase or uppercase hex into the start of `out`.
fn decode_hex<'b>(hex: &str, out: &'b mut [u8]) -> Result<&'b [u8], Failure> {
    check!(hex.len().is_multiple_of(2), "odd number of hex digits");
    let out = some!(
        out.get_mut(..hex.len() / 2),
        "more than {} bytes",
        PSK_MAX_LEN
    );
    for (byte, pair) in out.iter_mut().zip(hex.as_bytes().chunks_exact(2)) {
        let pair = ok!(core::str::from_utf8(pair));
        *byte = ok!(u8::from_str_radix(pair, 16));
    }
    Ok(out)
}
