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

fn reports(cloud: &Cloud) -> Vec<(u64, String)> {
    cloud
        .published(TopicKind::PROPERTY_UP)
        .filter(|r| r.method() == Some(Method::Report))
        .map(|r| (r.at_ms, r.client_token().unwrap().to_owned()))
        .collect()
}

#[test]
fn unanswered_report_is_sent_again_with_the_same_token_after_the_timeout() {
    big_stack(|| {
        let clock = VirtualClock::new(0);
        let mut cloud = cloud();
        cloud.unanswered_reports = 2;
        let mut rt = runtime::<_, 8>(&clock, cloud, scripted(), |c| {
            c.initial.report_interval_ms = 3_600_000
        });
        block_on(rt.run_until(20_000));
        let sent = reports(rt.transport().broker());
        // Sent, no reply for 5 s, sent again, no reply, sent a third time and answered.
        assert_eq!(sent.len(), 3, "{sent:?}");
        assert!(
            sent.iter().all(|(_, t)| *t == sent[0].1),
            "same clientToken every time"
        );
        assert_eq!(sent[1].0 - sent[0].0, 5_000);
        assert_eq!(sent[2].0 - sent[1].0, 5_000);
        let stats = rt.stats();
        assert_eq!((stats.resent, stats.answered, stats.gave_up), (2, 1, 0));
        assert_eq!(rt.queue_len(), 0);
    });
}

#[test]
fn report_is_given_up_after_every_retry() {
    big_stack(|| {
        let clock = VirtualClock::new(0);
        let mut cloud = cloud();
        cloud.unanswered_reports = u32::MAX;
        let mut rt = runtime::<_, 8>(&clock, cloud, scripted(), |c| {
            c.initial.report_interval_ms = 3_600_000;
            c.max_retries = 2;
        });
        block_on(rt.run_until(60_000));
        assert_eq!(
            reports(rt.transport().broker()).len(),
            3,
            "first send and two retries"
        );
        assert_eq!(rt.stats().gave_up, 1);
        assert_eq!(rt.queue_len(), 0);
        assert_eq!(rt.observer_mut().count("GaveUp"), 1);
    });
}

#[test]
fn refused_report_leaves_the_queue_and_is_counted() {
    big_stack(|| {
        let clock = VirtualClock::new(0);
        let mut cloud = cloud();
        cloud.report_code = 406;
        let mut rt = runtime::<_, 8>(&clock, cloud, scripted(), |_| {});
        block_on(rt.run_until(10_100));
        assert_eq!(
            reports(rt.transport().broker()).len(),
            3,
            "no resend of a refused report"
        );
        assert_eq!(rt.stats().refused, 3);
        assert_eq!(rt.queue_len(), 0);
    });
}

#[test]
fn reconnects_with_capped_jittered_backoff_never_within_5_s() {
    big_stack(|| {
        let clock = VirtualClock::new(0);
        let mut cloud = cloud();
        cloud.outages.push((0, 400_000)).unwrap();
        let mut rt = runtime::<_, 8>(&clock, cloud, scripted(), |_| {});
        block_on(rt.run_until(500_000));
        let times: Vec<u64> = rt.transport().broker().connect_times().collect();
        assert!(times.len() >= 10, "{times:?}");
        assert_eq!(times[0], 0);
        let connected_at = *times.last().unwrap();
        assert!(
            (400_000..=460_000).contains(&connected_at),
            "reconnects within one capped delay: {times:?}"
        );
        let backoff = iot_runtime::Backoff::new(5_000, 60_000);
        for (n, pair) in times.windows(2).enumerate() {
            let gap = pair[1] - pair[0];
            let base = backoff.base_delay_ms(n as u32);
            assert!(gap >= 5_000, "two CONNECTs within 5 s: {times:?}");
            assert!(gap <= 60_000, "above the cap: {times:?}");
            assert!(
                (base / 2).max(5_000) <= gap && gap <= base,
                "gap {gap} outside [{}, {base}]",
                base / 2
            );
        }
        // Jitter: the capped gaps are not all equal.
        let capped: Vec<u64> = times.windows(2).skip(5).map(|p| p[1] - p[0]).collect();
        assert!(capped.iter().any(|g| *g != capped[0]), "{capped:?}");
        assert!(rt.is_connected());
        assert_eq!(rt.stats().connect_failures as usize, times.len() - 1);
    });
}

#[test]
fn refused_credentials_back_off_to_the_cap_at_once() {
    big_stack(|| {
        let clock = VirtualClock::new(0);
        let mut cloud = cloud();
        cloud.psk = Some(iot_core::credentials::Psk::from_bytes(b"some other key!!").unwrap());
        let mut rt = runtime::<_, 8>(&clock, cloud, scripted(), |_| {});
        block_on(rt.run_until(200_000));
        let times: Vec<u64> = rt.transport().broker().connect_times().collect();
        assert!(
            times
                .windows(2)
                .all(|p| (30_000..=60_000).contains(&(p[1] - p[0]))),
            "{times:?}"
        );
        assert!(rt
            .observer_mut()
            .0
            .iter()
            .any(|e| e.contains("BadCredentials")));
    });
}

#[test]
fn reconnect_resubscribes_and_reruns_the_connect_sequence() {
    big_stack(|| {
        let clock = VirtualClock::new(0);
        let mut cloud = cloud();
        cloud.outages.push((30_000, 40_000)).unwrap();
        let mut rt = runtime::<_, 8>(&clock, cloud, scripted(), |_| {});
        block_on(rt.run_until(90_000));
        let records = rt.transport().broker().records();
        let connects: Vec<usize> = records
            .iter()
            .enumerate()
            .filter(|(_, r)| r.op == Op::Connect && r.accepted)
            .map(|(i, _)| i)
            .collect();
        assert_eq!(connects.len(), 2, "one reconnect");
        let second = connects[1];
        assert!(records[second].at_ms >= 40_000);
        let subs: Vec<&str> = records[second + 1..second + 7]
            .iter()
            .filter(|r| r.op == Op::Subscribe)
            .map(|r| r.topic.as_str())
            .collect();
        assert_eq!(subs.len(), 6, "all six filters again");
        let after: Vec<_> = records[second..]
            .iter()
            .filter(|r| r.op == Op::Publish && r.accepted)
            .take(3)
            .map(|r| r.method())
            .collect();
        assert_eq!(
            after,
            [Some(Method::ReportInfo), None, Some(Method::GetStatus)]
        );
        // A second username: a fresh connid for the new signature.
        let users: Vec<&str> = connects.iter().map(|i| records[*i].text()).collect();
        assert_ne!(
            Username::parse(users[0]).unwrap().conn_id(),
            Username::parse(users[1]).unwrap().conn_id()
        );
        assert_eq!(rt.stats().disconnects, 1);
        assert_eq!(rt.observer_mut().count("Disconnected"), 1);
        assert_eq!(rt.observer_mut().count("TimeSynced"), 2);
    });
}

#[test]
fn reports_made_offline_are_flushed_in_order_after_reconnect() {
    big_stack(|| {
        let clock = VirtualClock::new(0);
        let mut cloud = cloud();
        cloud.outages.push((10_500, 40_000)).unwrap();
        let mut rt = runtime::<_, 64>(&clock, cloud, scripted(), |c| {
            c.initial.report_interval_ms = 1_000
        });
        block_on(rt.run_until(120_000));
        let sent = reports(rt.transport().broker());
        let seq = |t: &str| iot_runtime::parse_client_token(rt.boot_id(), t).unwrap();
        // Every sample from 0 to 119 s reached the cloud, in sampling order, each token once.
        let mut tokens: Vec<u32> = sent.iter().map(|(_, t)| seq(t)).collect();
        let published = tokens.len();
        tokens.dedup();
        assert_eq!(published, tokens.len(), "no token twice");
        assert!(tokens.windows(2).all(|w| w[0] < w[1]), "in order");
        assert_eq!(rt.stats().reports_queued, 120);
        assert_eq!(tokens.len(), 120);
        // The ones sampled during the outage (11 s to 39 s) went out only after the reconnect.
        let reconnect = rt.transport().broker().connect_times().last().unwrap();
        let offline: Vec<_> = sent
            .iter()
            .filter(|(at, _)| *at >= reconnect && *at < reconnect + 5_000)
            .collect();
        assert!(
            offline.len() >= 29,
            "{} flushed right after reconnect",
            offline.len()
        );
        assert_eq!(rt.queue_len(), 0);
        assert_eq!(rt.stats().dropped_oldest, 0);
        assert_eq!(rt.stats().answered, 120);
    });
}

#[test]
fn full_queue_drops_the_oldest_and_counts() {
    big_stack(|| {
        let clock = VirtualClock::new(0);
        let mut cloud = cloud();
        cloud.outages.push((0, 30_000)).unwrap();
        let mut rt = runtime::<_, 4>(&clock, cloud, scripted(), |c| {
            c.initial.report_interval_ms = 1_000
        });
        block_on(rt.run_until(29_500));
        // 30 samples (0..=29 s), four slots.
        assert_eq!(rt.stats().reports_queued, 30);
        assert_eq!(rt.stats().dropped_oldest, 26);
        assert_eq!(rt.queue_len(), 4);
        assert_eq!(rt.observer_mut().count("DroppedOldest"), 26);
        let kept: Vec<u32> = rt
            .queued_tokens()
            .map(|(_, t)| iot_runtime::parse_client_token(rt.boot_id(), &t).unwrap())
            .collect();
        block_on(rt.run_until(120_000));
        let sent = reports(rt.transport().broker());
        let first_four: Vec<u32> = sent
            .iter()
            .take(4)
            .map(|(_, t)| iot_runtime::parse_client_token(rt.boot_id(), t).unwrap())
            .collect();
        assert_eq!(kept, [26, 27, 28, 29], "the newest four survive");
        // Until the reconnect more were dropped the same way; the four left went out first, oldest first.
        let dropped = rt.stats().dropped_oldest;
        assert!(dropped > 26);
        assert_eq!(first_four, [dropped, dropped + 1, dropped + 2, dropped + 3]);
    });
}

#[test]
fn a_report_cut_off_before_its_reply_is_resent_with_its_token() {
    big_stack(|| {
        let clock = VirtualClock::new(0);
        let mut cloud = cloud();
        cloud.latency_ms = 2_000;
        // The link dies one second after the 10 s report's PUBACK, before its reply.
        cloud.outages.push((11_000, 12_000)).unwrap();
        let mut rt = runtime::<_, 8>(&clock, cloud, scripted(), |_| {});
        block_on(rt.run_until(40_000));
        let sent = reports(rt.transport().broker());
        let at_10 = sent.iter().find(|(at, _)| *at == 10_000).unwrap().1.clone();
        let copies: Vec<_> = sent.iter().filter(|(_, t)| *t == at_10).collect();
        assert_eq!(copies.len(), 2, "sent again after the reconnect: {sent:?}");
        assert!(copies[1].0 >= 12_000);
        // Same token and same bytes: a receiver that drops repeated tokens stores it once.
        let payloads: Vec<_> = rt
            .transport()
            .broker()
            .published(TopicKind::PROPERTY_UP)
            .filter(|r| r.client_token() == Some(at_10.as_str()))
            .map(|r| r.payload.clone())
            .collect();
        assert_eq!(payloads[0], payloads[1]);
        assert_eq!(rt.queue_len(), 0);
    });
}

#[test]
fn shutdown_flushes_the_queue_and_disconnects() {
    big_stack(|| {
        let clock = VirtualClock::new(0);
        let mut cloud = cloud();
        cloud.unanswered_reports = 1;
        let mut rt = runtime::<_, 8>(&clock, cloud, scripted(), |_| {});
        block_on(rt.run_until(1_000));
        assert_eq!(rt.queue_len(), 1, "the boot report awaits its reply");
        let left = block_on(rt.shutdown(10_000));
        assert_eq!(left, 0, "resent after the timeout and answered");
        assert!(!rt.is_connected());
        let last = rt.transport().broker().records().last().unwrap();
        assert_eq!(last.op, Op::Disconnect);
        assert_eq!(rt.stats().samples, 1, "no sampling while draining");
    });
}

#[test]
fn thirty_second_outage_at_ten_reports_a_second_loses_nothing() {
    big_stack(|| {
        let clock = VirtualClock::new(0);
        let mut cloud = cloud();
        cloud.latency_ms = 2;
        cloud.outages.push((2_000, 32_000)).unwrap();
        let mut rt = runtime::<_, 512>(&clock, cloud, scripted(), |c| {
            c.initial.report_interval_ms = 100;
            c.publish_spacing_ms = 0;
        });
        // The back-off reaches 20-40 s gaps during the outage, so the reconnect comes by 77 s at the latest.
        block_on(rt.run_until(90_000));
        assert!(rt.transport().broker().connect_times().last().unwrap() >= 32_000);
        // Stop sampling and let the last replies arrive.
        let left = block_on(rt.shutdown(5_000));
        assert_eq!(left, 0);
        let sent = reports(rt.transport().broker());
        let boot = rt.boot_id();
        let mut unique: Vec<u32> = sent
            .iter()
            .map(|(_, t)| iot_runtime::parse_client_token(boot, t).unwrap())
            .collect();
        unique.sort_unstable();
        unique.dedup();
        let stats = rt.stats();
        assert_eq!(stats.reports_queued, 900, "a sample every 100 ms for 90 s");
        assert_eq!(
            unique.len(),
            900,
            "every report made during the outage arrived"
        );
        assert_eq!(stats.answered, 900, "and each was answered once");
        assert_eq!(rt.transport().broker().log_overflow, 0);
        assert_eq!(stats.dropped_oldest + stats.gave_up + stats.refused, 0);
        // The reported interval is the nearest whole second the model allows.
        let last = rt
            .transport()
            .broker()
            .published(TopicKind::PROPERTY_UP)
            .filter(|r| r.method() == Some(Method::Report))
            .last()
            .map(|r| json(r.text()))
            .unwrap();
        assert_eq!(last["params"]["report_interval"], 1);
    });
}
