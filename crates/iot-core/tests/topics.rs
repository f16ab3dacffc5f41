//! Topic building and parsing (protocol.md §4.1, §6.1, §6.2), checked against the shared message
//! samples and with property tests.
#![allow(missing_docs)]

use iot_core::topic::{Direction, Name, ThingChannel, Topic, TopicError, TopicKind, TOPIC_MAX_LEN};
use proptest::prelude::*;
use serde_json::Value;

const MESSAGES: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/vectors/messages.json"
));

const PID: &str = "CS0SLTKSYA";
const DEV: &str = "dev1";

/// Expands a `topic_template` of messages.json with the environment monitor's ids.
fn expand(template: &str) -> String {
    template
        .replace("{ProductId}", PID)
        .replace("{DeviceName}", DEV)
}

// Every sample's topic parses, has the sample's direction, and prints back unchanged.
#[test]
fn message_sample_topics_parse_with_their_direction() {
    let samples: Value = serde_json::from_str(MESSAGES).expect("messages.json is valid JSON");
    let samples = samples.as_array().expect("array of samples");
    assert!(!samples.is_empty());
    for sample in samples {
        let template = sample["topic_template"].as_str().expect("topic_template");
        let text = expand(template);
        let topic = Topic::parse(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(topic.product_id(), PID);
        assert_eq!(topic.device_name(), DEV);
        assert_eq!(topic.to_string(), text);
        let direction = match sample["direction"].as_str().expect("direction") {
            "up" => Direction::Up,
            "down" => Direction::Down,
            other => panic!("unknown direction {other}"),
        };
        assert_eq!(topic.direction(), direction, "{text}");
    }
}

// The full table of protocol.md §4.1, §6.1 and §6.2, spelled out.
#[test]
fn every_kind_formats_as_documented() {
    let expected = [
        (TopicKind::PROPERTY_UP, "$thing/up/property/P/D"),
        (TopicKind::PROPERTY_DOWN, "$thing/down/property/P/D"),
        (TopicKind::EVENT_UP, "$thing/up/event/P/D"),
        (TopicKind::EVENT_DOWN, "$thing/down/event/P/D"),
        (TopicKind::ACTION_UP, "$thing/up/action/P/D"),
        (TopicKind::ACTION_DOWN, "$thing/down/action/P/D"),
        (TopicKind::SERVICE_UP, "$thing/up/service/P/D"),
        (TopicKind::SERVICE_DOWN, "$thing/down/service/P/D"),
        (TopicKind::RAW_UP, "$thing/up/raw/P/D"),
        (TopicKind::RAW_DOWN, "$thing/down/raw/P/D"),
        (TopicKind::OtaReport, "$ota/report/P/D"),
        (TopicKind::OtaUpdate, "$ota/update/P/D"),
        (TopicKind::SysOperation, "$sys/operation/P/D"),
        (TopicKind::SysOperationResult, "$sys/operation/result/P/D"),
    ];
    assert_eq!(expected.len(), TopicKind::ALL.len());
    for ((kind, text), listed) in expected.into_iter().zip(TopicKind::ALL) {
        assert_eq!(kind, listed);
        let topic = Topic::new(kind, "P", "D").expect("valid");
        assert_eq!(topic.to_string(), text);
        assert_eq!(topic.format::<32>().expect("fits").as_str(), text);
        assert_eq!(topic.encoded_len(), text.len());
        let up = text.contains("/up/")
            || text.starts_with("$ota/report")
            || text == "$sys/operation/P/D";
        assert_eq!(topic.is_up(), up, "{text}");
        assert_eq!(topic.is_down(), !up, "{text}");
        assert_eq!(Topic::parse(text), Ok(topic));
    }
}

#[test]
fn subscriptions_are_the_down_topics() {
    let subs = Topic::subscriptions(PID, DEV).expect("valid");
    let texts: Vec<String> = subs.iter().map(ToString::to_string).collect();
    assert_eq!(
        texts,
        [
            "$thing/down/property/CS0SLTKSYA/dev1",
            "$thing/down/event/CS0SLTKSYA/dev1",
            "$thing/down/action/CS0SLTKSYA/dev1",
            "$thing/down/service/CS0SLTKSYA/dev1",
            "$ota/update/CS0SLTKSYA/dev1",
            "$sys/operation/result/CS0SLTKSYA/dev1",
        ]
    );
    assert!(subs.iter().all(Topic::is_down));
    // Offsets refer to the first subscription, the property topic.
    assert_eq!(
        Topic::subscriptions(PID, "dev#"),
        Err(TopicError::Wildcard {
            name: Name::DeviceName,
            offset: "$thing/down/property/CS0SLTKSYA/dev".len(),
            character: '#'
        })
    );
    assert_eq!(
        Topic::subscriptions("", DEV),
        Err(TopicError::Empty {
            name: Name::ProductId
        })
    );
}

#[test]
fn parse_errors() {
    let cases: [(&str, TopicError); 16] = [
        ("", TopicError::UnknownPrefix),
        ("$thing", TopicError::UnknownPrefix),
        ("thing/up/property/P/D", TopicError::UnknownPrefix),
        ("$Thing/up/property/P/D", TopicError::UnknownPrefix),
        ("$thing/sideways/property/P/D", TopicError::UnknownPrefix),
        ("$thing/up/shadow/P/D", TopicError::UnknownPrefix),
        ("$ota/download/P/D", TopicError::UnknownPrefix),
        ("$sys/operation/other/P/D", TopicError::UnknownPrefix),
        ("$shadow/operation/P/D", TopicError::UnknownPrefix),
        (
            "$thing/up/property/P",
            TopicError::LevelCount {
                expected: 5,
                found: 4,
            },
        ),
        (
            "$thing/up/property/P/D/x",
            TopicError::LevelCount {
                expected: 5,
                found: 6,
            },
        ),
        (
            "$ota/report/P",
            TopicError::LevelCount {
                expected: 4,
                found: 3,
            },
        ),
        (
            "$thing/up/property//D",
            TopicError::Empty {
                name: Name::ProductId,
            },
        ),
        (
            "$thing/up/property/P/",
            TopicError::Empty {
                name: Name::DeviceName,
            },
        ),
        (
            "$thing/up/property/P+/D",
            TopicError::Wildcard {
                name: Name::ProductId,
                offset: 20,
                character: '+',
            },
        ),
        (
            "$sys/operation/P/D\0",
            TopicError::IllegalCharacter {
                name: Name::DeviceName,
                offset: 18,
                character: '\0',
            },
        ),
    ];
    for (text, error) in cases {
        assert_eq!(Topic::parse(text), Err(error), "{text:?}");
    }
    let long = format!("$thing/up/property/P/{}", "d".repeat(TOPIC_MAX_LEN));
    assert_eq!(
        Topic::parse(&long),
        Err(TopicError::TooLong { len: long.len() })
    );
    // Exactly 255 bytes is allowed.
    let name = "d".repeat(TOPIC_MAX_LEN - "$thing/up/property/P/".len());
    let max = format!("$thing/up/property/P/{name}");
    assert_eq!(max.len(), TOPIC_MAX_LEN);
    let topic = Topic::parse(&max).expect("255 bytes is allowed");
    assert_eq!(topic.format::<TOPIC_MAX_LEN>().expect("fits").as_str(), max);
}

#[test]
fn new_rejects_what_parse_rejects() {
    assert_eq!(
        Topic::new(TopicKind::EVENT_UP, "P/Q", "D"),
        Err(TopicError::IllegalCharacter {
            name: Name::ProductId,
            offset: "$thing/up/event/P".len(),
            character: '/'
        })
    );
    assert_eq!(
        Topic::new(TopicKind::EVENT_UP, "P", ""),
        Err(TopicError::Empty {
            name: Name::DeviceName
        })
    );
    let long = "d".repeat(TOPIC_MAX_LEN);
    assert!(matches!(
        Topic::new(TopicKind::OtaReport, "P", &long),
        Err(TopicError::TooLong { .. })
    ));
    let topic = Topic::new(TopicKind::EVENT_UP, PID, DEV).expect("valid");
    assert_eq!(
        topic.format::<10>(),
        Err(TopicError::BufferTooSmall {
            needed: topic.encoded_len(),
            capacity: 10
        })
    );
    let mut sink = String::new();
    topic
        .write_to(&mut sink)
        .expect("String accepts everything");
    assert_eq!(sink, "$thing/up/event/CS0SLTKSYA/dev1");
}

#[test]
fn kind_accessors() {
    assert_eq!(
        TopicKind::thing(Direction::Down, ThingChannel::Service),
        TopicKind::SERVICE_DOWN
    );
    for kind in TopicKind::ALL {
        let topic = Topic::new(kind, PID, DEV).expect("valid");
        assert_eq!(topic.kind(), kind);
        assert_eq!(topic.direction(), kind.direction());
        assert!(topic.to_string().starts_with(kind.prefix()));
    }
    for kind in TopicKind::SUBSCRIPTIONS {
        assert_eq!(kind.direction(), Direction::Down);
    }
}

fn kind_strategy() -> impl Strategy<Value = TopicKind> {
    prop::sample::select(TopicKind::ALL.to_vec())
}

/// A topic level: any characters but `/`, `+`, `#` and NUL.
fn level_strategy() -> impl Strategy<Value = String> {
    "[^/+#\\x00]{1,40}"
}

proptest! {
    #[test]
    fn generated_topics_round_trip(kind in kind_strategy(), pid in level_strategy(), dev in level_strategy()) {
        let topic = Topic::new(kind, &pid, &dev).expect("valid levels");
        let text = topic.to_string();
        prop_assert_eq!(Topic::parse(&text), Ok(topic));
        prop_assert_eq!(topic.encoded_len(), text.len());
        let formatted = topic.format::<TOPIC_MAX_LEN>().expect("fits");
        prop_assert_eq!(formatted.as_str(), text.as_str());
    }

    #[test]
    fn arbitrary_strings_never_panic(text in "\\PC{0,300}") {
        if let Ok(topic) = Topic::parse(&text) {
            prop_assert_eq!(topic.to_string(), text);
        }
    }

    #[test]
    fn arbitrary_levels_never_panic(kind in kind_strategy(), text in "[$a-z/+#]{0,80}", pid in "\\PC{0,20}", dev in "\\PC{0,20}") {
        let _ = Topic::parse(&text);
        if let Ok(topic) = Topic::new(kind, &pid, &dev) {
            let text = topic.to_string();
            prop_assert_eq!(Topic::parse(&text), Ok(topic));
        }
    }
}
