//! The runtime over the real sensor simulator: smoke raises `gas_alarm`, `calibrate` measures the simulated R0,
//! and the RAM the runtime itself takes.

mod common;

use common::*;
use embassy_futures::block_on;
use iot_core::codec::Method;
use iot_core::topic::TopicKind;
use iot_runtime::testing::{Mailbox, VirtualClock};
use sensors::sim::{Event, SimConfig, Simulator};
use sensors::suite::GasSensorId;

#[test]
fn simulated_smoke_raises_one_gas_alarm_and_calibrate_measures_r0() {
    big_stack(|| {
        let warm = 10 * 60_000;
        let sim = Simulator::new(SimConfig {
            seed: 11,
            ..SimConfig::default()
        });
        let mut suite = sim.suite();
        for sensor in GasSensorId::ALL {
            suite.calibrate_now(sensor, warm).unwrap();
        }
        let clock = VirtualClock::new(warm);
        let mut rt = runtime::<_, 8>(&clock, cloud(), suite, |_| {});
        block_on(rt.run_until(warm + 30_000));
        let alarms = |rt: &Rt<'_, sensors::sim::SimSuite, 8>| {
            rt.transport()
                .broker()
                .published(TopicKind::EVENT_UP)
                .filter(|r| r.method() == Some(Method::EventPost))
                .map(|r| json(r.text()))
                .filter(|e| e["eventId"] == "gas_alarm")
                .collect::<Vec<_>>()
        };
        assert!(alarms(&rt).is_empty(), "clean air");
        let first = rt
            .transport()
            .broker()
            .published(TopicKind::PROPERTY_UP)
            .find(|r| r.method() == Some(Method::Report))
            .map(|r| json(r.text()))
            .unwrap();
        let mq2 = first["params"]["MQ2"].as_i64().unwrap();
        assert!((0..1000).contains(&mq2), "clean-air MQ2 {mq2}");
        assert!(first["params"]["DHT11_H"].as_i64().is_some());

        sim.inject(
            warm + 31_000,
            Event::SmokeSpike {
                peak_ppm: 3_000.0,
                rise_ms: 10_000,
                decay_ms: 600_000,
            },
        );
        block_on(rt.run_until(warm + 120_000));
        let raised = alarms(&rt);
        assert_eq!(raised.len(), 1, "edge-triggered: one alarm for one spike");
        assert!(raised[0]["params"]["value"].as_i64().unwrap() > 1000);
        assert!(rt.actuators().alarm);

        let action = sample("action");
        let at = warm + 121_000;
        assert!(rt.transport_mut().inbox_mut().deliver(
            at,
            &topic(TopicKind::ACTION_DOWN),
            action.as_bytes()
        ));
        block_on(rt.run_until(at + 1_000));
        let reply = rt
            .transport()
            .broker()
            .published(TopicKind::ACTION_UP)
            .map(|r| json(r.text()))
            .next()
            .unwrap();
        assert_eq!(reply["code"], 0);
        // Calibrating in smoke gives a low "clean air" R0: the firmware reports what it measured.
        let r0 = reply["response"]["r0"].as_f64().unwrap();
        assert!(r0 > 0.0 && r0.is_finite(), "{r0}");
        assert_eq!(reply["response"]["result"], 0);
    });
}

#[test]
fn runtime_ram_stays_small_for_a_cortex_m0() {
    use iot_runtime::testing::{
        FakeCloud, MockTransport, RecordingActuators, ScriptedSensors, SplitMix64,
    };
    use iot_runtime::Runtime;
    // The QEMU configuration: four 256-byte slots, a small mock.
    type Small<'c> = Runtime<
        'static,
        MockTransport<'c, FakeCloud<4, 256>, 4, 256>,
        ScriptedSensors,
        RecordingActuators,
        &'c VirtualClock,
        SplitMix64,
        (),
        4,
        256,
    >;
    let clock = VirtualClock::new(0);
    let transport = MockTransport::<'_, FakeCloud<4, 256>, 4, 256>::new(&clock, FakeCloud::new());
    let parts = core::mem::size_of_val(&transport)
        + core::mem::size_of::<ScriptedSensors>()
        + core::mem::size_of::<RecordingActuators>()
        + core::mem::size_of::<&VirtualClock>()
        + core::mem::size_of::<SplitMix64>();
    let mut rt: Small<'_> = Runtime::new(
        config(),
        transport,
        ScriptedSensors::default(),
        RecordingActuators::default(),
        &clock,
        SplitMix64(1),
    )
    .unwrap();
    let whole = core::mem::size_of::<Small<'_>>();
    let own = whole - parts;
    let future = core::mem::size_of_val(&rt.run_until(1));
    println!("runtime: {whole} bytes, of which {own} are the runtime's own; run_until future: {future} bytes");
    // Queue 4 × (256 + 24), transmit buffer 256, state and config: well under 2 KiB.
    assert!(
        own <= 4 * (256 + 24) + 256 + 640,
        "runtime's own state grew to {own} bytes"
    );
    // The future holds a pointer to the runtime and the state of its largest await: the CONNECT, with the signed
    // credentials and the sampler racing it (measured on a 64-bit host, debug build).
    assert!(future <= 2_048, "run_until future grew to {future} bytes");
    block_on(rt.run_until(20_000));
    assert!(rt.is_connected());
    assert_eq!(rt.queue_len(), 0);
}

#[test]
fn largest_report_and_event_fit_the_default_slot() {
    use iot_core::codec::{Encode, Event, EventPost, EventType, ParamValue, Report};
    let token = iot_runtime::client_token(u32::MAX, u32::MAX);
    let ten_k = ParamValue::Int(10_000);
    let params = [
        ("MQ2", ten_k),
        ("MQ135", ten_k),
        ("MQ4", ten_k),
        ("MQ7", ten_k),
        ("DHT11_T", ParamValue::Int(-20)),
        ("DHT11_H", ParamValue::Int(100)),
        ("alarm_enabled", ParamValue::Bool(true)),
        ("report_interval", ParamValue::Int(3600)),
        ("smoke_threshold", ten_k),
    ];
    let report = Report {
        client_token: token.as_str().into(),
        timestamp_ms: Some(9_999_999_999_999),
        params: &params,
    };
    let report_len = report.encoded_len().unwrap();
    let event_params = [
        ("sensor", ParamValue::StringEnum("MQ135")),
        ("value", ten_k),
        ("threshold", ten_k),
    ];
    let event = EventPost {
        client_token: token.as_str().into(),
        version: None,
        event: Event {
            event_id: "gas_alarm",
            event_type: EventType::Alert,
            timestamp_ms: Some(9_999_999_999_999),
            params: &event_params,
        },
    };
    let event_len = event.encoded_len().unwrap();
    println!("largest report {report_len} bytes, largest event {event_len} bytes");
    assert_eq!(report_len, 235);
    assert_eq!(event_len, 182);
    assert!(report_len <= 256 && event_len <= 256);
}
