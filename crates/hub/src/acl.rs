//! Device identities and the per-topic authorization rules.
//!
//! A device may publish only to its own up topics and subscribe only to its own down topics (protocol.md §4.1,
//! §6.1, §6.2). Everything else is refused by the broker hooks and never delivered.

use std::fmt;

/// Length of a Tencent ProductId (`CS0SLTKSYA`, `J5M4D6INI9`, … protocol.md §8).
pub const PRODUCT_ID_LEN: usize = 10;
/// Longest DeviceName the hub accepts (the console's limit).
pub const DEVICE_NAME_MAX_LEN: usize = 48;

/// True for a valid ProductId: exactly ten ASCII capital letters or digits.
///
/// The fixed length is what makes a clientId (`ProductId + DeviceName`, no separator, protocol.md §3.2) split
/// unambiguously.
pub fn is_valid_product_id(product_id: &str) -> bool {
    product_id.len() == PRODUCT_ID_LEN
        && product_id
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// True for a valid DeviceName: 1 to 48 ASCII letters, digits or `_ - . : @`.
///
/// None of these can be an MQTT wildcard or a topic separator, so a device name never widens a topic rule.
pub fn is_valid_device_name(device_name: &str) -> bool {
    (1..=DEVICE_NAME_MAX_LEN).contains(&device_name.len())
        && device_name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':' | b'@'))
}

/// A device: ProductId plus DeviceName.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeviceId {
    /// ProductId (ten characters).
    pub product_id: String,
    /// DeviceName.
    pub device_name: String,
}

impl DeviceId {
    /// Builds an identity from its parts, if both are valid.
    pub fn new(product_id: &str, device_name: &str) -> Option<Self> {
        (is_valid_product_id(product_id) && is_valid_device_name(device_name)).then(|| Self {
            product_id: product_id.to_owned(),
            device_name: device_name.to_owned(),
        })
    }

    /// Splits an MQTT clientId into ProductId (the first ten characters) and DeviceName (protocol.md §3.2).
    pub fn from_client_id(client_id: &str) -> Option<Self> {
        let product_id = client_id.get(..PRODUCT_ID_LEN)?;
        let device_name = client_id.get(PRODUCT_ID_LEN..)?;
        Self::new(product_id, device_name)
    }

    /// The MQTT clientId: `ProductId + DeviceName`.
    pub fn client_id(&self) -> String {
        format!("{}{}", self.product_id, self.device_name)
    }

    /// The topic of a message from the hub to this device.
    pub fn down_topic(&self, kind: DownTopic) -> String {
        let (pid, dn) = (&self.product_id, &self.device_name);
        match kind {
            DownTopic::Property => format!("$thing/down/property/{pid}/{dn}"),
            DownTopic::Event => format!("$thing/down/event/{pid}/{dn}"),
            DownTopic::Action => format!("$thing/down/action/{pid}/{dn}"),
            DownTopic::OtaUpdate => format!("$ota/update/{pid}/{dn}"),
            DownTopic::SysResult => format!("$sys/operation/result/{pid}/{dn}"),
        }
    }
}

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.product_id, self.device_name)
    }
}

/// A topic a device may publish to, by the service that handles it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpTopic {
    /// `$thing/up/property/{pid}/{dn}`: report, `get_status`, `clear_control`, `report_info`, `control_reply`.
    Property,
    /// `$thing/up/event/{pid}/{dn}`: `event_post`, `events_post`.
    Event,
    /// `$thing/up/action/{pid}/{dn}`: `action_reply`.
    Action,
    /// `$thing/up/service/{pid}/{dn}`: service-topic methods (accepted, not interpreted).
    Service,
    /// `$thing/up/raw/{pid}/{dn}`: passthrough data (accepted, not interpreted).
    Raw,
    /// `$ota/report/{pid}/{dn}`: `report_version`, `report_progress`.
    OtaReport,
    /// `$sys/operation/{pid}/{dn}`: time requests.
    SysOperation,
}

/// A topic the hub publishes to a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DownTopic {
    /// `$thing/down/property/{pid}/{dn}`.
    Property,
    /// `$thing/down/event/{pid}/{dn}`.
    Event,
    /// `$thing/down/action/{pid}/{dn}`.
    Action,
    /// `$ota/update/{pid}/{dn}`.
    OtaUpdate,
    /// `$sys/operation/result/{pid}/{dn}`.
    SysResult,
}

const THING_KINDS: [(&str, UpTopic); 5] = [
    ("property", UpTopic::Property),
    ("event", UpTopic::Event),
    ("action", UpTopic::Action),
    ("service", UpTopic::Service),
    ("raw", UpTopic::Raw),
];

/// The service behind a topic `device` publishes to, or `None` when the device may not publish there.
pub fn classify_publish(device: &DeviceId, topic: &str) -> Option<UpTopic> {
    let levels: Vec<&str> = topic.split('/').collect();
    let own = |pid: &str, dn: &str| pid == device.product_id && dn == device.device_name;
    match levels.as_slice() {
        ["$thing", "up", kind, pid, dn] if own(pid, dn) => THING_KINDS
            .iter()
            .find(|(name, _)| name == kind)
            .map(|(_, up)| *up),
        ["$ota", "report", pid, dn] if own(pid, dn) => Some(UpTopic::OtaReport),
        ["$sys", "operation", pid, dn] if own(pid, dn) => Some(UpTopic::SysOperation),
        _ => None,
    }
}

/// True when `device` may subscribe to `filter`: one of its own down topics, where only the data-template kind
/// (`$thing/down/+/{pid}/{dn}`) may be a `+` wildcard, since every topic that filter matches belongs to the device.
pub fn may_subscribe(device: &DeviceId, filter: &str) -> bool {
    let levels: Vec<&str> = filter.split('/').collect();
    let own = |pid: &str, dn: &str| pid == device.product_id && dn == device.device_name;
    match levels.as_slice() {
        ["$thing", "down", kind, pid, dn] if own(pid, dn) => {
            *kind == "+" || THING_KINDS.iter().any(|(name, _)| name == kind)
        }
        ["$ota", "update", pid, dn] | ["$sys", "operation", "result", pid, dn] => own(pid, dn),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev1() -> DeviceId {
        DeviceId::new("CS0SLTKSYA", "dev1").unwrap()
    }

    #[test]
    fn client_id_splits_after_ten_characters() {
        assert_eq!(DeviceId::from_client_id("CS0SLTKSYAdev1"), Some(dev1()));
        assert_eq!(dev1().client_id(), "CS0SLTKSYAdev1");
        assert_eq!(
            DeviceId::from_client_id("CS0SLTKSYA"),
            None,
            "empty device name"
        );
        assert_eq!(
            DeviceId::from_client_id("cs0sltksyadev1"),
            None,
            "lower-case product id"
        );
        assert_eq!(
            DeviceId::from_client_id("CS0SLTKSYAdev/1"),
            None,
            "topic separator in the name"
        );
        assert_eq!(
            DeviceId::from_client_id("CS0SLTKSYAdev+"),
            None,
            "wildcard in the name"
        );
        assert_eq!(DeviceId::from_client_id("CS0SLTKSY"), None);
        assert_eq!(
            DeviceId::from_client_id("CS0SLTKSYÄdev"),
            None,
            "multi-byte character at the split"
        );
        assert!(DeviceId::from_client_id("J5M4D6INI9pi_dht11").is_some());
        assert!(DeviceId::from_client_id("CS0SLTKSYAenv-mon_01").is_some());
    }

    #[test]
    fn publish_only_to_own_up_topics() {
        let d = dev1();
        assert_eq!(
            classify_publish(&d, "$thing/up/property/CS0SLTKSYA/dev1"),
            Some(UpTopic::Property)
        );
        assert_eq!(
            classify_publish(&d, "$thing/up/event/CS0SLTKSYA/dev1"),
            Some(UpTopic::Event)
        );
        assert_eq!(
            classify_publish(&d, "$thing/up/action/CS0SLTKSYA/dev1"),
            Some(UpTopic::Action)
        );
        assert_eq!(
            classify_publish(&d, "$ota/report/CS0SLTKSYA/dev1"),
            Some(UpTopic::OtaReport)
        );
        assert_eq!(
            classify_publish(&d, "$sys/operation/CS0SLTKSYA/dev1"),
            Some(UpTopic::SysOperation)
        );
        for refused in [
            "$thing/up/property/CS0SLTKSYA/dev2",
            "$thing/down/property/CS0SLTKSYA/dev1",
            "$thing/up/other/CS0SLTKSYA/dev1",
            "$thing/up/property/CS0SLTKSYA/dev1/extra",
            "$ota/update/CS0SLTKSYA/dev1",
            "$sys/operation/result/CS0SLTKSYA/dev1",
            "CS0SLTKSYA/dev1/data",
            "",
        ] {
            assert_eq!(classify_publish(&d, refused), None, "{refused}");
        }
    }

    #[test]
    fn subscribe_only_to_own_down_topics() {
        let d = dev1();
        for allowed in [
            "$thing/down/property/CS0SLTKSYA/dev1",
            "$thing/down/action/CS0SLTKSYA/dev1",
            "$thing/down/+/CS0SLTKSYA/dev1",
            "$ota/update/CS0SLTKSYA/dev1",
            "$sys/operation/result/CS0SLTKSYA/dev1",
        ] {
            assert!(may_subscribe(&d, allowed), "{allowed}");
        }
        for refused in [
            "#",
            "$thing/#",
            "$thing/down/property/CS0SLTKSYA/+",
            "$thing/down/property/+/dev1",
            "$thing/down/property/CS0SLTKSYA/dev2",
            "$thing/up/property/CS0SLTKSYA/dev1",
            "$thing/down/#",
            "$ota/update/CS0SLTKSYA/#",
            "$sys/operation/CS0SLTKSYA/dev1",
        ] {
            assert!(!may_subscribe(&d, refused), "{refused}");
        }
    }
}
