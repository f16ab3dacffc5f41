//! Signing the tutorial device's MQTT credentials (protocol.md §3.2) with `iot-core`, beside a straightforward
//! `std` implementation of the same algorithm in the same run: the way the tutorial's Python script does it,
//! with owned `String`s, a heap-decoded key and `format!`-built hex.
//!
//! Run: `cargo bench -p iot-benches --bench credentials -- --warm-up-time 1 --measurement-time 3`.

use std::fmt::Write as _;
use std::hint::black_box;

use base64ct::{Base64, Encoding as _};
use criterion::{criterion_group, criterion_main, Criterion};
use hmac::{Hmac, KeyInit, Mac};
use iot_core::credentials::{ConnId, DeviceIdentity, Expiry, SignOptions};
use sha2::Sha256;

const PRODUCT: &str = "CS0SLTKSYA";
const DEVICE: &str = "dev1";
const PSK: &str = "IyXmUW5sU/q1vnb5yzTkeQ==";
const PASSWORD: &str =
    "2debdc61b009ef8d09597f106f6f8ca36f101415459b0623780a81e711e7257c;hmacsha256";

/// The baseline: clientid, username and password as owned strings.
fn sign_with_std(
    product: &str,
    device: &str,
    psk: &str,
    conn_id: &str,
    expiry: u64,
) -> (String, String, String) {
    let client_id = format!("{product}{device}");
    let username = format!("{client_id};12010126;{conn_id};{expiry}");
    let key = Base64::decode_vec(psk).unwrap_or_default();
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(&key).unwrap_or_else(|_| unreachable!());
    mac.update(username.as_bytes());
    let digest = mac.finalize().into_bytes();
    let mut password = String::new();
    for byte in digest.iter() {
        let _ = write!(password, "{byte:02x}");
    }
    password.push_str(";hmacsha256");
    (client_id, username, password)
}

fn sign(c: &mut Criterion) {
    // Both sides produce the tutorial's password; a bench of a wrong result would mean nothing.
    assert_eq!(
        sign_with_std(PRODUCT, DEVICE, PSK, "ZR5GT", 2_623_045_740).2,
        PASSWORD
    );
    let options = SignOptions::new(
        ConnId::new("ZR5GT").unwrap_or_else(|_| unreachable!()),
        Expiry::At(2_623_045_740),
    );
    let ours = DeviceIdentity::new(PRODUCT, DEVICE, PSK).and_then(|d| d.sign(&options));
    assert_eq!(
        ours.map(|c| c.password().to_owned()).as_deref(),
        Ok(PASSWORD)
    );

    let mut group = c.benchmark_group("sign_hmacsha256");
    group.bench_function("iot_core", |b| {
        b.iter(|| {
            DeviceIdentity::new(black_box(PRODUCT), black_box(DEVICE), black_box(PSK))
                .and_then(|d| d.sign(black_box(&options)))
        })
    });
    group.bench_function("std_strings", |b| {
        b.iter(|| {
            sign_with_std(
                black_box(PRODUCT),
                black_box(DEVICE),
                black_box(PSK),
                black_box("ZR5GT"),
                2_623_045_740,
            )
        })
    });
    group.finish();
}

criterion_group!(benches, sign);
criterion_main!(benches);
