//! Connect sequence, reports, time sync, reconnects, back-off and the offline queue, against the fake cloud.

mod common;

use common::*;
use embassy_futures::block_on;
use iot_core::codec::Method;
use iot_core::credentials::{Username, EXPIRY_NEVER};
use iot_core::topic::TopicKind;
use iot_runtime::testing::{Op, VirtualClock};
use iot_transport::QoS;

#[test]
fn connect_signs_subscribes_and_runs_the_connect_sequence() {
    big_stack(|| {
        let clock = VirtualClock::new(0);
        let mut rt = runtime::<_, 8>(&clock, cloud(), scripted(), |_| {});
        block_on(rt.run_until(3_000));
        let cloud = rt.transport().broker();
        let records = cloud.records();
        // CONNECT first, accepted (the fake cloud checks the password with the device's PSK).
        let connect = &records[0];
        assert_eq!(connect.op, Op::Connect);
        assert!(connect.accepted, "password must verify");
        let (pid, dn, _) = device();
        assert_eq!(connect.topic.as_str(), format!("{pid}{dn}"));
        let username = Username::parse(connect.text()).unwrap();
        assert_eq!(username.conn_id().len(), 5);
        // No wall clock before the first time sync: a TTL policy signs with "never".
        assert_eq!(username.expiry(), EXPIRY_NEVER);
        // One filter per SUBSCRIBE, every down topic (protocol.md §11.7-8).
        let filters: Vec<&str> = records[1..7].iter().map(|r| r.topic.as_str()).collect();
        assert!(records[1..7].iter().all(|r| r.op == Op::Subscribe));
        assert_eq!(
            filters,
            [
                topic(TopicKind::PROPERTY_DOWN),
                topic(TopicKind::EVENT_DOWN),
                topic(TopicKind::ACTION_DOWN),
                topic(TopicKind::SERVICE_DOWN),
                topic(TopicKind::OtaUpdate),
                topic(TopicKind::SysOperationResult),
            ]
        );
        // Then report_info, the time request (QoS 0), get_status, and the report sampled at boot.
        let publishes: Vec<_> = records.iter().filter(|r| r.op == Op::Publish).collect();
        assert_eq!(publishes[0].method(), Some(Method::ReportInfo));
        assert_eq!(json(publishes[0].text())["params"]["fw_ver"], "1.2.3");
        assert_eq!(publishes[1].topic.as_str(), topic(TopicKind::SysOperation));
        assert_eq!(publishes[1].qos, Some(QoS::AtMostOnce));
        assert_eq!(publishes[1].text(), r#"{"type":"get","resource":["time"]}"#);
        assert_eq!(publishes[2].method(), Some(Method::GetStatus));
        assert_eq!(publishes[3].method(), Some(Method::Report));
        assert_eq!(publishes[3].qos, Some(QoS::AtLeastOnce));
        // The time answer set the wall clock: fake cloud time is 1_700_000_000_000 + virtual time.
        let unix = rt.unix_time_ms().unwrap();
        assert!(
            unix.abs_diff(1_700_000_000_000 + clock.now()) <= 20,
            "{unix}"
        );
        assert!(rt.is_connected());
        assert_eq!(rt.stats().connects, 1);
        assert_eq!(rt.observer_mut().count("TimeSynced"), 1);
    });
}

#[test]
fn expiry_uses_the_wall_clock_when_there_is_one() {
    big_stack(|| {
        let clock = VirtualClock::new(0);
        clock.set_wall_clock(Some(1_800_000_000_000));
        let mut rt = runtime::<_, 8>(&clock, cloud(), scripted(), |_| {});
        block_on(rt.run_until(1));
        let connect = &rt.transport().broker().records()[0];
        let username = Username::parse(connect.text()).unwrap();
        assert_eq!(username.expiry(), 1_800_000_000 + 3600);
    });
}

#[test]
fn reports_every_interval_and_matches_replies_by_token() {
    big_stack(|| {
        let clock = VirtualClock::new(0);
        let mut rt = runtime::<_, 8>(&clock, cloud(), scripted(), |_| {});
        block_on(rt.run_until(60_100));
        let cloud = rt.transport().broker();
        let reports: Vec<_> = cloud
            .published(TopicKind::PROPERTY_UP)
            .filter(|r| r.method() == Some(Method::Report))
            .collect();
        let times: Vec<u64> = reports.iter().map(|r| r.at_ms).collect();
        // Sampled at 0, 5, …, 60 s; the boot report goes out right after the connect sequence.
        assert_eq!(times.len(), 13, "{times:?}");
        for (i, t) in times.iter().enumerate().skip(1) {
            assert_eq!(*t, i as u64 * 5_000);
        }
        let tokens: std::collections::HashSet<_> = reports
            .iter()
            .map(|r| r.client_token().unwrap().to_owned())
            .collect();
        assert_eq!(tokens.len(), 13, "tokens are unique");
        // After the time sync every report carries the sample's time in ms.
        let last = json(reports[12].text());
        assert_eq!(last["timestamp"], 1_700_000_000_000u64 + 60_000);
        assert!(
            json(reports[0].text()).get("timestamp").is_none(),
            "boot sample predates the sync"
        );
        let params = &last["params"];
        assert_eq!(params["MQ2"], 100);
        assert_eq!(params["DHT11_T"], 21);
        assert_eq!(params["report_interval"], 5);
        assert_eq!(params["smoke_threshold"], 1000);
        assert_eq!(params["alarm_enabled"], 1);
        assert_eq!(rt.stats().answered, 13);
        assert_eq!(rt.queue_len(), 0, "every reply matched its report");
        assert_eq!(rt.observer_mut().count("Answered"), 13);
    });
}
