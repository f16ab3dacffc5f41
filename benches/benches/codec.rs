//! The `iot-core` codec beside `serde_json` doing the same work, in one run (one machine, one build).
//!
//! * `encode_seed_report`: the environment monitor's report
//!   (`{"method":"report","clientToken":"123","params":{"MQ2":30,…,"DHT11_H":70}}`) from six sensor readings.
//!   `serde_json` serialises a derived struct with the same fields into a reused `Vec` — its fastest form, since the
//!   field names are compiled in — and, for reference, a `json!` value (which allocates the tree).
//! * `decode_control_6_params`: a `control` with six integer params, read into six named fields. `serde_json`
//!   deserialises a derived struct borrowing the token (again its fastest form), and a `serde_json::Value` (which
//!   allocates, as a map-based reader of open-ended params would).
//!
//! Run: `cargo bench -p iot-benches --bench codec -- --warm-up-time 1 --measurement-time 3`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use iot_core::codec::{decode, Down, Encode, ParamValue, Report};
use serde::{Deserialize, Serialize};

const SEED_REPORT: &str = r#"{"method":"report","clientToken":"123","params":{"MQ2":30,"MQ135":95,"MQ4":30,"MQ7":20,"DHT11_T":14,"DHT11_H":70}}"#;

const CONTROL: &[u8] = br#"{"method":"control","clientToken":"clientToken-2fd030d1-8c1e-4b7a-9f20-6d3c5a1b7e44","params":{"alarm_enabled":0,"report_interval":10,"smoke_threshold":1500,"MQ2":30,"DHT11_T":14,"DHT11_H":70}}"#;

/// The six readings, as a device holds them before reporting.
#[derive(Clone, Copy)]
struct Readings {
    mq2: i64,
    mq135: i64,
    mq4: i64,
    mq7: i64,
    dht11_t: i64,
    dht11_h: i64,
}

const READINGS: Readings = Readings {
    mq2: 30,
    mq135: 95,
    mq4: 30,
    mq7: 20,
    dht11_t: 14,
    dht11_h: 70,
};

#[derive(Serialize)]
struct SerdeReport<'a> {
    method: &'a str,
    #[serde(rename = "clientToken")]
    client_token: &'a str,
    params: SerdeReportParams,
}

#[derive(Serialize)]
struct SerdeReportParams {
    #[serde(rename = "MQ2")]
    mq2: i64,
    #[serde(rename = "MQ135")]
    mq135: i64,
    #[serde(rename = "MQ4")]
    mq4: i64,
    #[serde(rename = "MQ7")]
    mq7: i64,
    #[serde(rename = "DHT11_T")]
    dht11_t: i64,
    #[serde(rename = "DHT11_H")]
    dht11_h: i64,
}

fn ours_encode(r: Readings, buf: &mut [u8]) -> usize {
    let params = [
        ("MQ2", ParamValue::Int(r.mq2)),
        ("MQ135", ParamValue::Int(r.mq135)),
        ("MQ4", ParamValue::Int(r.mq4)),
        ("MQ7", ParamValue::Int(r.mq7)),
        ("DHT11_T", ParamValue::Int(r.dht11_t)),
        ("DHT11_H", ParamValue::Int(r.dht11_h)),
    ];
    let report = Report {
        client_token: "123".into(),
        timestamp_ms: None,
        params: &params,
    };
    report.encode(buf).unwrap_or(0)
}

fn serde_struct_encode(r: Readings, out: &mut Vec<u8>) -> usize {
    out.clear();
    let report = SerdeReport {
        method: "report",
        client_token: "123",
        params: SerdeReportParams {
            mq2: r.mq2,
            mq135: r.mq135,
            mq4: r.mq4,
            mq7: r.mq7,
            dht11_t: r.dht11_t,
            dht11_h: r.dht11_h,
        },
    };
    serde_json::to_writer(&mut *out, &report).map_or(0, |()| out.len())
}

fn serde_json_macro_encode(r: Readings, out: &mut Vec<u8>) -> usize {
    out.clear();
    let report = serde_json::json!({
        "method": "report",
        "clientToken": "123",
        "params": {
            "MQ2": r.mq2, "MQ135": r.mq135, "MQ4": r.mq4, "MQ7": r.mq7, "DHT11_T": r.dht11_t, "DHT11_H": r.dht11_h,
        },
    });
    serde_json::to_writer(&mut *out, &report).map_or(0, |()| out.len())
}

fn encode(c: &mut Criterion) {
    // All three produce the seed report (serde_json's `json!` map sorts the keys, so only its length matches).
    let mut buf = [0u8; 256];
    let n = ours_encode(READINGS, &mut buf);
    assert_eq!(&buf[..n], SEED_REPORT.as_bytes());
    let mut vec = Vec::with_capacity(256);
    let n = serde_struct_encode(READINGS, &mut vec);
    assert_eq!(&vec[..n], SEED_REPORT.as_bytes());
    assert_eq!(
        serde_json_macro_encode(READINGS, &mut vec),
        SEED_REPORT.len()
    );

    let mut group = c.benchmark_group("encode_seed_report");
    group.bench_function("iot_core", |b| {
        b.iter(|| ours_encode(black_box(READINGS), black_box(&mut buf)))
    });
    group.bench_function("serde_json_struct", |b| {
        b.iter(|| serde_struct_encode(black_box(READINGS), black_box(&mut vec)))
    });
    group.bench_function("serde_json_macro", |b| {
        b.iter(|| serde_json_macro_encode(black_box(READINGS), black_box(&mut vec)))
    });
    group.finish();
}

/// What a device takes from the control: its token (to echo) and six values.
#[derive(Default, PartialEq, Debug)]
struct Applied<'a> {
    token: &'a str,
    alarm_enabled: i64,
    report_interval: i64,
    smoke_threshold: i64,
    mq2: i64,
    dht11_t: i64,
    dht11_h: i64,
}

#[derive(Deserialize)]
struct SerdeControl<'a> {
    #[allow(dead_code)]
    method: &'a str,
    #[serde(rename = "clientToken", borrow)]
    client_token: &'a str,
    params: SerdeControlParams,
}

#[derive(Deserialize)]
struct SerdeControlParams {
    alarm_enabled: i64,
    report_interval: i64,
    smoke_threshold: i64,
    #[serde(rename = "MQ2")]
    mq2: i64,
    #[serde(rename = "DHT11_T")]
    dht11_t: i64,
    #[serde(rename = "DHT11_H")]
    dht11_h: i64,
}

fn ours_decode(payload: &[u8]) -> Applied<'_> {
    let mut applied = Applied::default();
    let Ok(Down::Control(control)) = decode(payload) else {
        return applied;
    };
    applied.token = control.client_token().raw();
    for (id, value) in control.params() {
        let Some(v) = value.as_i64() else { continue };
        let slot = match id.raw() {
            "alarm_enabled" => &mut applied.alarm_enabled,
            "report_interval" => &mut applied.report_interval,
            "smoke_threshold" => &mut applied.smoke_threshold,
            "MQ2" => &mut applied.mq2,
            "DHT11_T" => &mut applied.dht11_t,
            "DHT11_H" => &mut applied.dht11_h,
            _ => continue,
        };
        *slot = v;
    }
    applied
}

fn serde_struct_decode(payload: &[u8]) -> Applied<'_> {
    let Ok(c) = serde_json::from_slice::<SerdeControl<'_>>(payload) else {
        return Applied::default();
    };
    Applied {
        token: c.client_token,
        alarm_enabled: c.params.alarm_enabled,
        report_interval: c.params.report_interval,
        smoke_threshold: c.params.smoke_threshold,
        mq2: c.params.mq2,
        dht11_t: c.params.dht11_t,
        dht11_h: c.params.dht11_h,
    }
}

/// Owned token: a `Value` cannot lend its strings past its own lifetime.
fn serde_value_decode(payload: &[u8]) -> (String, [i64; 6]) {
    let mut values = [0i64; 6];
    let Ok(serde_json::Value::Object(mut msg)) = serde_json::from_slice(payload) else {
        return (String::new(), values);
    };
    let token = match msg.remove("clientToken") {
        Some(serde_json::Value::String(t)) => t,
        _ => String::new(),
    };
    if let Some(serde_json::Value::Object(params)) = msg.get("params") {
        for (id, value) in params {
            let Some(v) = value.as_i64() else { continue };
            let i = match id.as_str() {
                "alarm_enabled" => 0,
                "report_interval" => 1,
                "smoke_threshold" => 2,
                "MQ2" => 3,
                "DHT11_T" => 4,
                "DHT11_H" => 5,
                _ => continue,
            };
            values[i] = v;
        }
    }
    (token, values)
}

fn decode_control(c: &mut Criterion) {
    let expected = Applied {
        token: "clientToken-2fd030d1-8c1e-4b7a-9f20-6d3c5a1b7e44",
        alarm_enabled: 0,
        report_interval: 10,
        smoke_threshold: 1500,
        mq2: 30,
        dht11_t: 14,
        dht11_h: 70,
    };
    assert_eq!(ours_decode(CONTROL), expected);
    assert_eq!(serde_struct_decode(CONTROL), expected);
    assert_eq!(
        serde_value_decode(CONTROL),
        (expected.token.to_owned(), [0, 10, 1500, 30, 14, 70])
    );

    let mut group = c.benchmark_group("decode_control_6_params");
    group.bench_function("iot_core", |b| b.iter(|| ours_decode(black_box(CONTROL))));
    group.bench_function("serde_json_struct", |b| {
        b.iter(|| serde_struct_decode(black_box(CONTROL)))
    });
    group.bench_function("serde_json_value", |b| {
        b.iter(|| serde_value_decode(black_box(CONTROL)))
    });
    group.finish();
}

criterion_group!(benches, encode, decode_control);
criterion_main!(benches);
