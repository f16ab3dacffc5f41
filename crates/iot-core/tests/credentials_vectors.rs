//! MQTT credentials against the shared vectors (protocol.md §3.2, §8), error cases, property
//! tests and the no-allocation guarantee.
#![allow(missing_docs)]

use iot_core::credentials::{
    rand_core::RngCore, validate_device_name, validate_product_id, verify_password, ConnId,
    CredentialsError, DeviceIdentity, Expiry, Field, Psk, SdkAppId, SignMethod, SignOptions,
    Username, CLIENT_ID_CAPACITY, DEVICE_NAME_MAX_LEN, PASSWORD_CAPACITY, PRODUCT_ID_MAX_LEN,
    PSK_MAX_LEN, USERNAME_CAPACITY,
};
use proptest::prelude::*;
use serde_json::Value;

const VECTORS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/vectors/credentials.json"
));

const TUTORIAL_PSK: &str = "IyXmUW5sU/q1vnb5yzTkeQ==";

fn vectors() -> Value {
    serde_json::from_str(VECTORS).expect("credentials.json is valid JSON")
}

fn text<'v>(entry: &'v Value, key: &str) -> &'v str {
    entry[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} is a string in {entry}"))
}

fn tutorial() -> DeviceIdentity<'static> {
    DeviceIdentity::new("CS0SLTKSYA", "dev1", TUTORIAL_PSK).expect("tutorial identity is valid")
}

/// The entry's sign method; `None` for an `hmacsha1` entry when this build leaves HMAC-SHA1 out (the error says so).
fn method_of(entry: &Value) -> Option<SignMethod> {
    match text(entry, "method").parse::<SignMethod>() {
        Ok(method) => Some(method),
        Err(CredentialsError::Sha1NotBuilt) if !cfg!(feature = "hmac-sha1") => None,
        Err(e) => panic!("method of {entry}: {e}"),
    }
}

/// HMAC-SHA1 when it is built in, else HMAC-SHA256.
fn sha1_if_built(sha1: bool) -> SignMethod {
    #[cfg(feature = "hmac-sha1")]
    if sha1 {
        return SignMethod::HmacSha1;
    }
    let _ = sha1;
    SignMethod::HmacSha256
}

fn sign_entry(entry: &Value) -> Option<iot_core::credentials::MqttCredentials> {
    let device = DeviceIdentity::new(
        text(entry, "product_id"),
        text(entry, "device_name"),
        text(entry, "device_psk"),
    )
    .expect("vector identity is valid");
    let sdk_app_id: u32 = text(entry, "sdkappid").parse().expect("sdkappid is a u32");
    let expiry = entry["expiry"].as_u64().expect("expiry is a u64");
    let method = method_of(entry)?;
    let options = SignOptions::new(
        ConnId::new(text(entry, "connid")).expect("vector connid is valid"),
        Expiry::At(expiry),
    )
    .with_method(method)
    .with_sdk_app_id(SdkAppId(sdk_app_id));
    Some(device.sign(&options).expect("signing succeeds"))
}

// protocol.md §8: every mqtt_password entry, field by field.
#[test]
fn every_mqtt_password_vector_signs_exactly() {
    let vectors = vectors();
    let entries = vectors["mqtt_password"]
        .as_array()
        .expect("mqtt_password array");
    assert!(entries.len() >= 10, "expected the full vector set");
    let mut signed = 0;
    for entry in entries {
        let Some(creds) = sign_entry(entry) else {
            continue;
        };
        assert_eq!(creds.client_id(), text(entry, "clientid"), "{entry}");
        assert_eq!(creds.username(), text(entry, "username"), "{entry}");
        assert_eq!(creds.password(), text(entry, "password"), "{entry}");
        signed += 1;
    }
    let sha256 = entries
        .iter()
        .filter(|e| text(e, "method") == "hmacsha256")
        .count();
    if cfg!(feature = "hmac-sha1") {
        assert_eq!(signed, entries.len(), "every vector signs");
    } else {
        assert_eq!(signed, sha256, "every hmacsha256 vector signs");
    }
    assert!(sha256 > 0);
}

// The verifying side accepts exactly what the vectors say and reports the method.
#[test]
fn every_mqtt_password_vector_verifies() {
    let vectors = vectors();
    for entry in vectors["mqtt_password"]
        .as_array()
        .expect("mqtt_password array")
    {
        let psk = Psk::from_base64(text(entry, "device_psk")).expect("psk decodes");
        let username = text(entry, "username");
        let password = text(entry, "password");
        let Some(method) = method_of(entry) else {
            assert_eq!(
                verify_password(&psk, username, password),
                Err(CredentialsError::Sha1NotBuilt),
                "{entry}"
            );
            continue;
        };
        assert_eq!(
            verify_password(&psk, username, password),
            Ok(method),
            "{entry}"
        );

        let parsed = Username::parse(username).expect("vector username parses");
        assert_eq!(parsed.client_id(), text(entry, "clientid"));
        assert_eq!(parsed.conn_id(), text(entry, "connid"));
        assert_eq!(parsed.expiry(), entry["expiry"].as_u64().expect("u64"));
        assert_eq!(parsed.sdk_app_id().to_string(), text(entry, "sdkappid"));
        assert_eq!(
            parsed.device_name(text(entry, "product_id")),
            Some(text(entry, "device_name"))
        );

        // Upper-case hex is the same HMAC.
        let upper = password.replacen(
            password.split(';').next().expect("token"),
            &password
                .split(';')
                .next()
                .expect("token")
                .to_ascii_uppercase(),
            1,
        );
        assert_eq!(verify_password(&psk, username, &upper), Ok(method));
    }
}

#[cfg(feature = "hmac-sha1")]
#[test]
fn hmac_sha1_primitive_vectors() {
    let vectors = vectors();
    let entries = vectors["hmac_sha1_primitive"].as_array().expect("array");
    assert!(!entries.is_empty());
    for entry in entries {
        let key_hex = text(entry, "key_hex");
        let key: Vec<u8> = (0..key_hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&key_hex[i..i + 2], 16).expect("hex"))
            .collect();
        assert_eq!(
            key.len() as u64,
            entry["key_len"].as_u64().expect("key_len")
        );
        let psk = Psk::from_bytes(&key).expect("key fits");
        let mac = psk.hmac(SignMethod::HmacSha1, text(entry, "message").as_bytes());
        assert_eq!(mac.to_string(), text(entry, "hmac_sha1_hex"), "{entry}");
        assert_eq!(mac.as_bytes().len(), 20);
    }
}

#[test]
fn verification_rejects_tampering() {
    let creds = tutorial()
        .sign(&SignOptions::new(
            ConnId::new("ZR5GT").expect("valid"),
            Expiry::At(2_623_045_740),
        ))
        .expect("signs");
    let psk = Psk::from_base64(TUTORIAL_PSK).expect("decodes");
    let other = Psk::from_base64("u/nAbSmZKbCW7lugludvLg==").expect("decodes");
    let (token, _) = creds.password().split_once(';').expect("has ;");

    assert_eq!(
        verify_password(&other, creds.username(), creds.password()),
        Err(CredentialsError::PasswordMismatch)
    );
    // Right HMAC, wrong method suffix: the SHA-1 check wants 40 digits (or is not built in).
    assert_eq!(
        verify_password(&psk, creds.username(), &format!("{token};hmacsha1")),
        Err(if cfg!(feature = "hmac-sha1") {
            CredentialsError::PasswordMalformed
        } else {
            CredentialsError::Sha1NotBuilt
        })
    );
    assert_eq!(
        verify_password(&psk, creds.username(), &format!("{token};hmacmd5")),
        Err(CredentialsError::UnknownSignMethod)
    );
    assert_eq!(
        verify_password(&psk, creds.username(), token),
        Err(CredentialsError::PasswordMalformed)
    );
    let mut flipped = token.to_owned();
    let last = if flipped.ends_with('0') { "1" } else { "0" };
    flipped.replace_range(63..64, last);
    assert_eq!(
        verify_password(&psk, creds.username(), &format!("{flipped};hmacsha256")),
        Err(CredentialsError::PasswordMismatch)
    );
    assert_eq!(
        verify_password(
            &psk,
            creds.username(),
            &format!("{}z;hmacsha256", &token[..63])
        ),
        Err(CredentialsError::PasswordMalformed)
    );
}

#[test]
fn psk_errors() {
    assert_eq!(Psk::from_base64("").err(), Some(CredentialsError::PskEmpty));
    assert_eq!(
        Psk::from_base64("IyXmUW5sU/q1vnb5yzTkeQ=").err(),
        Some(CredentialsError::PskNotBase64 { offset: 22 })
    );
    assert_eq!(
        Psk::from_base64(" IyXmUW5sU/q1vnb5yzTkeQ==").err(),
        Some(CredentialsError::PskNotBase64 { offset: 0 })
    );
    assert_eq!(
        Psk::from_base64("IyXmUW5sU/q1vnb5yzTkeQ==\n").err(),
        Some(CredentialsError::PskNotBase64 { offset: 24 })
    );
    assert_eq!(
        Psk::from_base64("IyXmUW5sU_q1vnb5yzTkeQ==").err(),
        Some(CredentialsError::PskNotBase64 { offset: 9 })
    );
    assert_eq!(
        Psk::from_base64("pässwort").err(),
        Some(CredentialsError::PskNotBase64 { offset: 1 })
    );
    // 48 bytes is the C SDK maximum (protocol.md §3.2 step 3); 49 is one too many.
    let b48 = "QUFB".repeat(16);
    assert_eq!(
        Psk::from_base64(&b48).map(|p| p.byte_len()),
        Ok(PSK_MAX_LEN)
    );
    let b49 = "QUFB".repeat(16) + "QQ==";
    assert_eq!(
        Psk::from_base64(&b49).err(),
        Some(CredentialsError::PskTooLong { len: 49 })
    );
    assert_eq!(
        Psk::from_bytes(&[1; 49]).err(),
        Some(CredentialsError::PskTooLong { len: 49 })
    );
    assert_eq!(Psk::from_bytes(&[]).err(), Some(CredentialsError::PskEmpty));
    assert_eq!(
        DeviceIdentity::new("CS0SLTKSYA", "dev1", &b49).err(),
        Some(CredentialsError::PskTooLong { len: 49 })
    );
    assert_eq!(
        DeviceIdentity::new("CS0SLTKSYA", "dev1", "not base64!").err(),
        Some(CredentialsError::PskNotBase64 { offset: 3 })
    );
}

#[test]
fn identifier_errors() {
    let long_pid = "P".repeat(PRODUCT_ID_MAX_LEN + 1);
    assert_eq!(
        DeviceIdentity::new(&long_pid, "dev1", TUTORIAL_PSK).err(),
        Some(CredentialsError::TooLong {
            field: Field::ProductId,
            len: PRODUCT_ID_MAX_LEN + 1,
            max: PRODUCT_ID_MAX_LEN
        })
    );
    let long_name = "d".repeat(DEVICE_NAME_MAX_LEN + 1);
    assert_eq!(
        DeviceIdentity::new("CS0SLTKSYA", &long_name, TUTORIAL_PSK).err(),
        Some(CredentialsError::TooLong {
            field: Field::DeviceName,
            len: DEVICE_NAME_MAX_LEN + 1,
            max: DEVICE_NAME_MAX_LEN
        })
    );
    assert!(validate_product_id(&"P".repeat(PRODUCT_ID_MAX_LEN)).is_ok());
    assert!(validate_device_name(&"d".repeat(DEVICE_NAME_MAX_LEN)).is_ok());
    assert_eq!(
        DeviceIdentity::new("CS0SLTKSYA", "gerät", TUTORIAL_PSK).err(),
        Some(CredentialsError::NonAscii {
            field: Field::DeviceName,
            offset: 3
        })
    );
    assert_eq!(
        DeviceIdentity::new("产品", "dev1", TUTORIAL_PSK).err(),
        Some(CredentialsError::NonAscii {
            field: Field::ProductId,
            offset: 0
        })
    );
    assert_eq!(
        DeviceIdentity::new("", "dev1", TUTORIAL_PSK).err(),
        Some(CredentialsError::Empty {
            field: Field::ProductId
        })
    );
    assert_eq!(
        DeviceIdentity::new("CS0SLTKSYA", "", TUTORIAL_PSK).err(),
        Some(CredentialsError::Empty {
            field: Field::DeviceName
        })
    );
    for (name, bad) in [("dev 1", ' '), ("dev/1", '/'), ("dev+1", '+'), ("d;1", ';')] {
        let offset = name.find(bad).expect("present");
        assert_eq!(
            validate_device_name(name),
            Err(CredentialsError::IllegalCharacter {
                field: Field::DeviceName,
                offset,
                character: bad
            }),
            "{name}"
        );
    }
    assert_eq!(
        validate_product_id("CS0.SLTKSYA"),
        Err(CredentialsError::IllegalCharacter {
            field: Field::ProductId,
            offset: 3,
            character: '.'
        })
    );
    for ok in ["a.b", "a:b", "a@b", "a-b_c", "AZaz09"] {
        assert!(validate_device_name(ok).is_ok(), "{ok}");
    }
}

#[test]
fn conn_id_errors() {
    assert_eq!(
        ConnId::new("").err(),
        Some(CredentialsError::Empty {
            field: Field::ConnId
        })
    );
    assert_eq!(
        ConnId::new("ab-cd").err(),
        Some(CredentialsError::IllegalCharacter {
            field: Field::ConnId,
            offset: 2,
            character: '-'
        })
    );
    assert_eq!(
        ConnId::new(&"a".repeat(33)).err(),
        Some(CredentialsError::TooLong {
            field: Field::ConnId,
            len: 33,
            max: 32
        })
    );
    assert_eq!(
        ConnId::new("é").err(),
        Some(CredentialsError::NonAscii {
            field: Field::ConnId,
            offset: 0
        })
    );
}

#[test]
fn expiry_helpers() {
    assert_eq!(Expiry::Never.unix_seconds(), 2_147_483_647);
    assert_eq!(Expiry::after(100, 3600).unix_seconds(), 3700);
    assert_eq!(Expiry::after(u64::MAX - 1, 3600), Expiry::At(u64::MAX));
    let creds = tutorial()
        .sign(&SignOptions::new(
            ConnId::new("Xy7Qp").expect("valid"),
            Expiry::Never,
        ))
        .expect("signs");
    assert!(creds.username().ends_with(";2147483647"));
    assert!(creds.username().contains(";12010126;"), "default sdkappid");
    assert!(creds.password().ends_with(";hmacsha256"), "default method");
}

#[test]
fn username_parse_errors() {
    assert_eq!(
        Username::parse("CS0SLTKSYAdev1;12010126;ZR5GT").err(),
        Some(CredentialsError::UsernameFieldCount { found: 3 })
    );
    assert_eq!(
        Username::parse("a;1;b;2;c").err(),
        Some(CredentialsError::UsernameFieldCount { found: 5 })
    );
    assert_eq!(
        Username::parse("CS0SLTKSYAdev1;+12010126;ZR5GT;1").err(),
        Some(CredentialsError::NotANumber {
            field: Field::SdkAppId
        })
    );
    assert_eq!(
        Username::parse("CS0SLTKSYAdev1;4294967296;ZR5GT;1").err(),
        Some(CredentialsError::NotANumber {
            field: Field::SdkAppId
        })
    );
    assert_eq!(
        Username::parse("CS0SLTKSYAdev1;12010126;ZR5GT;").err(),
        Some(CredentialsError::NotANumber {
            field: Field::Expiry
        })
    );
    assert_eq!(
        Username::parse("CS0SLTKSYAdev1;12010126;ZR5GT;18446744073709551616").err(),
        Some(CredentialsError::NotANumber {
            field: Field::Expiry
        })
    );
    assert_eq!(
        Username::parse(";12010126;ZR5GT;1").err(),
        Some(CredentialsError::Empty {
            field: Field::ClientId
        })
    );
    assert_eq!(
        Username::parse("CS0SLTKSYAdev1;12010126;ZR-GT;1").err(),
        Some(CredentialsError::IllegalCharacter {
            field: Field::ConnId,
            offset: 2,
            character: '-'
        })
    );
    let long = "a".repeat(USERNAME_CAPACITY + 1);
    assert!(matches!(
        Username::parse(&long),
        Err(CredentialsError::TooLong {
            field: Field::Username,
            ..
        })
    ));
    let user = Username::parse("CS0SLTKSYAdev1;21010406;ZR5GT;1700000000").expect("parses");
    assert_eq!(user.sdk_app_id(), SdkAppId::OFFICIAL_SDK);
    assert!(user.is_expired(1_700_000_000));
    assert!(!user.is_expired(1_699_999_999));
    assert_eq!(user.device_name("OTHER"), None);
    assert_eq!(user.device_name("CS0SLTKSYAdev1"), None);
}

// The longest accepted inputs fill, and fit, the stated capacities.
#[test]
fn capacities_hold_the_longest_inputs() {
    let pid = "P".repeat(PRODUCT_ID_MAX_LEN);
    let name = "d".repeat(DEVICE_NAME_MAX_LEN);
    let psk = "QUFB".repeat(16);
    let device = DeviceIdentity::new(&pid, &name, &psk).expect("valid");
    let options = SignOptions::new(
        ConnId::new(&"c".repeat(32)).expect("valid"),
        Expiry::At(u64::MAX),
    )
    .with_sdk_app_id(SdkAppId(u32::MAX));
    let creds = device.sign(&options).expect("fits");
    assert_eq!(creds.client_id().len(), CLIENT_ID_CAPACITY);
    assert_eq!(creds.username().len(), USERNAME_CAPACITY);
    assert_eq!(creds.password().len(), PASSWORD_CAPACITY);
    assert!(Username::parse(creds.username()).is_ok());
    assert_eq!(
        verify_password(device.psk(), creds.username(), creds.password()),
        Ok(SignMethod::HmacSha256)
    );
}

/// A deterministic `RngCore` (`SplitMix64`) for tests.
struct SplitMix(u64);

impl RngCore for SplitMix {
    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn fill_bytes(&mut self, dst: &mut [u8]) {
        for chunk in dst.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
}

#[test]
fn random_conn_ids_are_valid_and_vary() {
    let mut rng = SplitMix(7);
    let ids: Vec<String> = (0..64)
        .map(|_| ConnId::random(&mut rng).as_str().to_owned())
        .collect();
    for id in &ids {
        assert_eq!(id.len(), 5);
        assert!(id.bytes().all(|b| b.is_ascii_alphanumeric()), "{id}");
        assert!(ConnId::new(id).is_ok());
    }
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert!(
        unique.len() > 60,
        "64 draws from 62^5 should hardly collide"
    );
}

#[test]
fn debug_output_hides_secrets() {
    let device = tutorial();
    let shown = format!("{device:?}");
    assert!(!shown.contains(TUTORIAL_PSK), "{shown}");
    let creds = device
        .sign(&SignOptions::new(
            ConnId::new("ZR5GT").expect("valid"),
            Expiry::At(2_623_045_740),
        ))
        .expect("signs");
    let shown = format!("{creds:?}");
    assert!(!shown.contains("2debdc61b009ef8d"), "{shown}");
    let error = Psk::from_base64("IyXmUW5s!/q1vnb5yzTkeQ==").expect_err("invalid");
    assert!(!error.to_string().contains("IyXmUW5s"), "{error}");
}

// Signing is heap-free: the counter sees an allocation when there is one, and none while signing.
#[test]
fn signing_does_not_allocate() {
    let device = tutorial();
    let options = SignOptions::new(
        ConnId::new("ZR5GT").expect("valid"),
        Expiry::At(2_623_045_740),
    );
    let mut rng = SplitMix(1);

    let baseline = allocation_counter::measure(|| {
        std::hint::black_box(Vec::<u8>::with_capacity(16));
    });
    assert!(
        baseline.count_total >= 1,
        "the counter must see allocations"
    );

    let mut password_len = 0;
    let info = allocation_counter::measure(|| {
        let device = DeviceIdentity::new("CS0SLTKSYA", "dev1", TUTORIAL_PSK).expect("valid");
        let options =
            SignOptions::new(ConnId::random(&mut rng), Expiry::after(1_700_000_000, 3600));
        let creds = device.sign(&options).expect("signs");
        password_len = creds.password().len();
        let creds = std::hint::black_box(&device).sign(&SignOptions::new(
            ConnId::new("ZR5GT").expect("valid"),
            Expiry::Never,
        ));
        std::hint::black_box(creds).expect("signs");
    });
    assert_eq!(password_len, 75);
    assert_eq!(info.count_total, 0, "signing allocated: {info:?}");

    let creds = device.sign(&options).expect("signs");
    let info = allocation_counter::measure(|| {
        let psk = Psk::from_base64(TUTORIAL_PSK).expect("valid");
        let user = Username::parse(creds.username()).expect("parses");
        std::hint::black_box(user);
        std::hint::black_box(verify_password(&psk, creds.username(), creds.password()))
            .expect("verifies");
    });
    assert_eq!(info.count_total, 0, "verification allocated: {info:?}");
}

proptest! {
    // Arbitrary text never panics any entry point, and whatever is accepted signs and verifies.
    #[test]
    fn arbitrary_inputs_never_panic(
        pid in "\\PC{0,40}",
        name in "\\PC{0,60}",
        psk in "\\PC{0,80}",
        conn in "\\PC{0,40}",
    ) {
        let _ = ConnId::new(&conn);
        let _ = Psk::from_base64(&psk);
        let _ = Username::parse(&format!("{pid}{name};{conn};{psk}"));
        if let Ok(psk_value) = Psk::from_base64(&psk) {
            let _ = verify_password(&psk_value, &name, &conn);
        }
        if let (Ok(device), Ok(conn_id)) = (DeviceIdentity::new(&pid, &name, &psk), ConnId::new(&conn)) {
            let creds = device.sign(&SignOptions::new(conn_id, Expiry::Never));
            let creds = creds.expect("validated inputs always sign");
            prop_assert!(Username::parse(creds.username()).is_ok());
            prop_assert_eq!(
                verify_password(device.psk(), creds.username(), creds.password()),
                Ok(SignMethod::HmacSha256)
            );
        }
    }

    // Inputs drawn from the accepted alphabets always sign, and the username parses back.
    #[test]
    fn valid_inputs_round_trip(
        pid in "[A-Za-z0-9_-]{1,32}",
        name in "[A-Za-z0-9_.:@-]{1,48}",
        key in proptest::collection::vec(any::<u8>(), 1..=48),
        conn in "[A-Za-z0-9]{1,32}",
        sdk in any::<u32>(),
        expiry in any::<u64>(),
        sha1 in any::<bool>(),
    ) {
        let psk = Psk::from_bytes(&key).expect("length in range");
        let device = DeviceIdentity::with_psk(&pid, &name, psk).expect("valid identity");
        let method = sha1_if_built(sha1);
        let options = SignOptions::new(ConnId::new(&conn).expect("valid"), Expiry::At(expiry))
            .with_method(method)
            .with_sdk_app_id(SdkAppId(sdk));
        let creds = device.sign(&options).expect("signs");
        let client_id = format!("{pid}{name}");
        prop_assert_eq!(creds.client_id(), client_id.as_str());
        let user = Username::parse(creds.username()).expect("parses");
        prop_assert_eq!(user.client_id(), client_id.as_str());
        prop_assert_eq!(user.sdk_app_id(), SdkAppId(sdk));
        prop_assert_eq!(user.conn_id(), conn.as_str());
        prop_assert_eq!(user.expiry(), expiry);
        prop_assert_eq!(user.device_name(&pid), Some(name.as_str()));
        prop_assert_eq!(verify_password(device.psk(), creds.username(), creds.password()), Ok(method));
    }

    // Any byte string that encodes to base64 decodes back, up to 48 bytes.
    #[test]
    fn base64_psk_lengths(key in proptest::collection::vec(any::<u8>(), 0..=60)) {
        let encoded = base64_encode(&key);
        match Psk::from_base64(&encoded) {
            Ok(psk) => {
                prop_assert!(!key.is_empty() && key.len() <= PSK_MAX_LEN);
                prop_assert_eq!(psk.byte_len(), key.len());
                let expected = Psk::from_bytes(&key).expect("fits");
                prop_assert_eq!(psk.hmac(SignMethod::HmacSha256, b"m"), expected.hmac(SignMethod::HmacSha256, b"m"));
            }
            Err(CredentialsError::PskEmpty) => prop_assert!(key.is_empty()),
            Err(CredentialsError::PskTooLong { len }) => {
                prop_assert!(key.len() > PSK_MAX_LEN);
                prop_assert_eq!(len, key.len());
            }
            Err(other) => prop_assert!(false, "unexpected {other:?}"),
        }
    }
}

/// Padded standard base64, written out here so the test does not depend on the decoder it checks.
fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}
