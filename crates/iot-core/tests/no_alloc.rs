//! The hot paths make no heap allocation. `allocation_counter` installs a counting `#[global_allocator]` (this
//! workspace forbids the `unsafe` one needs in its own code) and counts per thread.

use std::hint::black_box;

use iot_core::codec::{decode, ControlReply, Down, Encode, ParamValue, ReplyCode, Report};

const CONTROL: &[u8] = br#"{"method":"control","clientToken":"clientToken-2fd030d1-8c1e-4b7a-9f20-6d3c5a1b7e44","params":{"alarm_enabled":0,"report_interval":10,"smoke_threshold":1500,"name":"lab \"north\"","ratio":0.25,"led":true}}"#;

#[test]
fn counter_sees_allocations() {
    let info = allocation_counter::measure(|| {
        black_box(Vec::<u8>::with_capacity(16));
    });
    assert!(info.count_total >= 1, "the counter must see an allocation");
}

#[test]
fn encoding_the_seed_report_does_not_allocate() {
    let mut buf = [0u8; 256];
    let mut len = 0;
    let info = allocation_counter::measure(|| {
        let params = [
            ("MQ2", ParamValue::Int(30)),
            ("MQ135", ParamValue::Int(95)),
            ("MQ4", ParamValue::Int(30)),
            ("MQ7", ParamValue::Int(20)),
            ("DHT11_T", ParamValue::Int(14)),
            ("DHT11_H", ParamValue::Int(70)),
        ];
        let report = Report {
            client_token: "123".into(),
            timestamp_ms: None,
            params: black_box(&params),
        };
        len = report.encode(black_box(&mut buf)).expect("fits");
        assert_eq!(report.encoded_len(), Ok(len));
        // Floats, strings needing escapes and an error path too.
        let more = [
            ("t", ParamValue::Float(21.5)),
            ("s", ParamValue::String("a\"b\n")),
            ("f", ParamValue::Float32(2.8)),
        ];
        let other = Report {
            client_token: "124".into(),
            timestamp_ms: Some(1_700_000_000_000),
            params: black_box(&more),
        };
        let mut scratch = [0u8; 256];
        black_box(other.encode(&mut scratch).expect("fits"));
        black_box(other.encode(&mut [0u8; 8]).expect_err("too small"));
    });
    assert_eq!(
        &buf[..len],
        br#"{"method":"report","clientToken":"123","params":{"MQ2":30,"MQ135":95,"MQ4":30,"MQ7":20,"DHT11_T":14,"DHT11_H":70}}"#
    );
    assert_eq!(info.count_total, 0, "encoding allocated: {info:?}");
}

#[test]
fn decoding_a_control_and_replying_does_not_allocate() {
    let mut seen = 0;
    let mut reply_len = 0;
    let mut out = [0u8; 128];
    let info = allocation_counter::measure(|| {
        let Ok(Down::Control(control)) = decode(black_box(CONTROL)) else {
            panic!("control expected")
        };
        for (id, value) in control.params() {
            seen += 1;
            let mut text = [0u8; 32];
            black_box(id.unescape_into(&mut text).expect("fits"));
            black_box((value.as_i64(), value.as_f64(), value.as_bool()));
            if let Some(s) = value.as_str() {
                black_box(s.unescape_into(&mut text).expect("fits"));
            }
        }
        let reply = ControlReply {
            client_token: control.client_token().into(),
            code: ReplyCode::Success,
            status: None,
        };
        reply_len = reply.encode(&mut out).expect("fits");
    });
    assert_eq!(seen, 6);
    assert!(out[..reply_len]
        .starts_with(br#"{"method":"control_reply","clientToken":"clientToken-2fd030d1"#));
    assert_eq!(info.count_total, 0, "decoding allocated: {info:?}");
}
