//! Signing cost of the MQTT credentials (protocol.md §3.2) for the tutorial device.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use iot_core::credentials::{
    verify_password, ConnId, DeviceIdentity, Expiry, SdkAppId, SignMethod, SignOptions,
};

fn sign(c: &mut Criterion) {
    let device = DeviceIdentity::new("CS0SLTKSYA", "dev1", "IyXmUW5sU/q1vnb5yzTkeQ==")
        .expect("tutorial identity is valid");
    let conn_id = ConnId::new("ZR5GT").expect("tutorial connid is valid");
    let sha256 = SignOptions::new(conn_id, Expiry::At(2_623_045_740));
    let sha1 = sha256
        .clone()
        .with_method(SignMethod::HmacSha1)
        .with_sdk_app_id(SdkAppId::OFFICIAL_SDK);

    let mut group = c.benchmark_group("credentials");
    group.bench_function("sign_hmacsha256", |b| {
        b.iter(|| black_box(&device).sign(black_box(&sha256)))
    });
    group.bench_function("sign_hmacsha1", |b| {
        b.iter(|| black_box(&device).sign(black_box(&sha1)))
    });
    group.bench_function("decode_psk_and_sign_hmacsha256", |b| {
        b.iter(|| {
            DeviceIdentity::new(
                black_box("CS0SLTKSYA"),
                black_box("dev1"),
                black_box("IyXmUW5sU/q1vnb5yzTkeQ=="),
            )
            .and_then(|d| d.sign(&sha256))
        })
    });
    let signed = device.sign(&sha256).expect("signing succeeds");
    group.bench_function("verify_hmacsha256", |b| {
        b.iter(|| {
            verify_password(
                black_box(device.psk()),
                black_box(signed.username()),
                black_box(signed.password()),
            )
        })
    });
    group.finish();
}

criterion_group!(benches, sign);
criterion_main!(benches);
