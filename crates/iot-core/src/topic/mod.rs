#![doc = include_str!("README.md")]

use core::fmt;

use heapless::String;

/// Longest topic in bytes (protocol.md §3.5: "Length ≤ 255 bytes (UTF-8)").
pub const TOPIC_MAX_LEN: usize = 255;

/// Which way a topic carries messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Direction {
    /// Device → cloud: the device publishes.
    Up,
    /// Cloud → device: the device subscribes.
    Down,
}

impl Direction {
    /// The topic level: `"up"` or `"down"`.
    ///
    /// ```
    /// assert_eq!(iot_core::topic::Direction::Down.as_str(), "down");
    /// ```
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Up => "up",
            Self::Down => "down",
        }
    }
}

/// The third level of a `$thing/...` topic (protocol.md §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ThingChannel {
    /// `property`: reports, control and status.
    Property,
    /// `event`: event posts and their replies.
    Event,
    /// `action`: actions and their replies.
    Action,
    /// `service`: platform services (binding, fences, ...).
    Service,
    /// `raw`: binary passthrough for custom-protocol products.
    Raw,
}

impl ThingChannel {
    /// Every channel, in the order of the protocol.md §4.1 table.
    pub const ALL: [Self; 5] = [
        Self::Property,
        Self::Event,
        Self::Action,
        Self::Service,
        Self::Raw,
    ];

    /// The topic level, e.g. `"property"`.
    ///
    /// ```
    /// assert_eq!(iot_core::topic::ThingChannel::Raw.as_str(), "raw");
    /// ```
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Property => "property",
            Self::Event => "event",
            Self::Action => "action",
            Self::Service => "service",
            Self::Raw => "raw",
        }
    }

    /// The channel named by a topic level.
    fn from_level(level: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == level)
    }
}

/// What a topic is for; the part of a [`Topic`] other than product id and device name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum TopicKind {
    /// `$thing/{up,down}/{channel}/{ProductId}/{DeviceName}` (protocol.md §4.1).
    Thing {
        /// `up` or `down`.
        direction: Direction,
        /// `property`, `event`, `action`, `service` or `raw`.
        channel: ThingChannel,
    },
    /// `$ota/report/{ProductId}/{DeviceName}`: version and progress reports (protocol.md §6.1).
    OtaReport,
    /// `$ota/update/{ProductId}/{DeviceName}`: firmware updates from the cloud (protocol.md §6.1).
    OtaUpdate,
    /// `$sys/operation/{ProductId}/{DeviceName}`: time requests (protocol.md §6.2).
    SysOperation,
    /// `$sys/operation/result/{ProductId}/{DeviceName}`: time responses (protocol.md §6.2).
    SysOperationResult,
}

impl TopicKind {
    /// `$thing/up/property`.
    pub const PROPERTY_UP: Self = Self::thing(Direction::Up, ThingChannel::Property);
    /// `$thing/down/property`.
    pub const PROPERTY_DOWN: Self = Self::thing(Direction::Down, ThingChannel::Property);
    /// `$thing/up/event`.
    pub const EVENT_UP: Self = Self::thing(Direction::Up, ThingChannel::Event);
    /// `$thing/down/event`.
    pub const EVENT_DOWN: Self = Self::thing(Direction::Down, ThingChannel::Event);
    /// `$thing/up/action`.
    pub const ACTION_UP: Self = Self::thing(Direction::Up, ThingChannel::Action);
    /// `$thing/down/action`.
    pub const ACTION_DOWN: Self = Self::thing(Direction::Down, ThingChannel::Action);
    /// `$thing/up/service`.
    pub const SERVICE_UP: Self = Self::thing(Direction::Up, ThingChannel::Service);
    /// `$thing/down/service`.
    pub const SERVICE_DOWN: Self = Self::thing(Direction::Down, ThingChannel::Service);
    /// `$thing/up/raw`.
    pub const RAW_UP: Self = Self::thing(Direction::Up, ThingChannel::Raw);
    /// `$thing/down/raw`.
    pub const RAW_DOWN: Self = Self::thing(Direction::Down, ThingChannel::Raw);

    /// Every kind: the ten `$thing` topics, then OTA and `$sys`.
    pub const ALL: [Self; 14] = [
        Self::PROPERTY_UP,
        Self::PROPERTY_DOWN,
        Self::EVENT_UP,
        Self::EVENT_DOWN,
        Self::ACTION_UP,
        Self::ACTION_DOWN,
        Self::SERVICE_UP,
        Self::SERVICE_DOWN,
        Self::RAW_UP,
        Self::RAW_DOWN,
        Self::OtaReport,
        Self::OtaUpdate,
        Self::SysOperation,
        Self::SysOperationResult,
    ];

    /// The down topics a data-template device subscribes after every connect: property, event,
    /// action and service (protocol.md §11.8), OTA updates (§6.1) and time responses (§6.2).
    /// `raw` is left out: only custom-protocol products use it.
    pub const SUBSCRIPTIONS: [Self; 6] = [
        Self::PROPERTY_DOWN,
        Self::EVENT_DOWN,
        Self::ACTION_DOWN,
        Self::SERVICE_DOWN,
        Self::OtaUpdate,
        Self::SysOperationResult,
    ];

    /// A `$thing` kind.
    ///
    /// ```
    /// use iot_core::topic::{Direction, ThingChannel, TopicKind};
    /// assert_eq!(TopicKind::thing(Direction::Up, ThingChannel::Event), TopicKind::EVENT_UP);
    /// ```
    #[must_use]
    pub const fn thing(direction: Direction, channel: ThingChannel) -> Self {
        Self::Thing { direction, channel }
    }

    /// Which way messages on this kind of topic go.
    ///
    /// ```
    /// use iot_core::topic::{Direction, TopicKind};
    /// assert_eq!(TopicKind::OtaReport.direction(), Direction::Up);
    /// assert_eq!(TopicKind::SysOperationResult.direction(), Direction::Down);
    /// ```
    #[must_use]
    pub const fn direction(self) -> Direction {
        match self {
            Self::Thing { direction, .. } => direction,
            Self::OtaReport | Self::SysOperation => Direction::Up,
            Self::OtaUpdate | Self::SysOperationResult => Direction::Down,
        }
    }

    /// The levels before the product id, joined by `/`, e.g. `"$ota/update"`.
    ///
    /// ```
    /// use iot_core::topic::TopicKind;
    /// assert_eq!(TopicKind::SERVICE_DOWN.prefix(), "$thing/down/service");
    /// assert_eq!(TopicKind::SysOperationResult.prefix(), "$sys/operation/result");
    /// ```
    #[must_use]
    pub const fn prefix(self) -> &'static str {
        match self {
            Self::Thing { direction, channel } => match (direction, channel) {
                (Direction::Up, ThingChannel::Property) => "$thing/up/property",
                (Direction::Up, ThingChannel::Event) => "$thing/up/event",
                (Direction::Up, ThingChannel::Action) => "$thing/up/action",
                (Direction::Up, ThingChannel::Service) => "$thing/up/service",
                (Direction::Up, ThingChannel::Raw) => "$thing/up/raw",
                (Direction::Down, ThingChannel::Property) => "$thing/down/property",
                (Direction::Down, ThingChannel::Event) => "$thing/down/event",
                (Direction::Down, ThingChannel::Action) => "$thing/down/action",
                (Direction::Down, ThingChannel::Service) => "$thing/down/service",
                (Direction::Down, ThingChannel::Raw) => "$thing/down/raw",
            },
            Self::OtaReport => "$ota/report",
            Self::OtaUpdate => "$ota/update",
            Self::SysOperation => "$sys/operation",
            Self::SysOperationResult => "$sys/operation/result",
        }
    }
}

/// Which name in a topic an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Name {
    /// The `ProductId` level.
    ProductId,
    /// The `DeviceName` level.
    DeviceName,
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::ProductId => "product id",
            Self::DeviceName => "device name",
        })
    }
}

/// Why a topic could not be built or parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum TopicError {
    /// The topic does not start with a known `$thing/...`, `$ota/...` or `$sys/...` prefix.
    #[error(
        "topic does not start with $thing/{{up,down}}/{{property,event,action,service,raw}}, \
         $ota/{{report,update}} or $sys/operation[/result]; check the topic against protocol.md §4.1"
    )]
    UnknownPrefix,
    /// The prefix is known but the number of `/`-separated levels is wrong.
    #[error(
        "topic has {found} levels but this kind has {expected} (prefix, product id, device name); \
         remove extra '/' or add the missing level"
    )]
    LevelCount {
        /// Levels this kind of topic has.
        expected: usize,
        /// Levels found.
        found: usize,
    },
    /// The product id or device name is empty.
    #[error("{name} in the topic is empty; fill it in")]
    Empty {
        /// Which name.
        name: Name,
    },
    /// A name contains an MQTT wildcard (`+` or `#`), which topic names must not have.
    #[error("{name} in the topic has the wildcard {character:?} at byte {offset}; topic names cannot contain '+' or '#'")]
    Wildcard {
        /// Which name.
        name: Name,
        /// Byte offset in the whole topic.
        offset: usize,
        /// `'+'` or `'#'`.
        character: char,
    },
    /// A name contains `/` (it would add a level) or NUL (forbidden by MQTT 3.1.1 §4.7.3).
    #[error("{name} in the topic has the character {character:?} at byte {offset}, which a topic level cannot contain")]
    IllegalCharacter {
        /// Which name.
        name: Name,
        /// Byte offset in the whole topic.
        offset: usize,
        /// `'/'` or `'\0'`.
        character: char,
    },
    /// The topic is longer than [`TOPIC_MAX_LEN`] bytes.
    #[error("topic is {len} bytes long but at most 255 are allowed; shorten the product id or device name")]
    TooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// [`Topic::format`] was given too small a capacity.
    #[error("topic needs {needed} bytes but the buffer holds {capacity}; use a larger capacity (255 always fits)")]
    BufferTooSmall {
        /// Bytes the topic needs ([`Topic::encoded_len`]).
        needed: usize,
        /// The capacity given.
        capacity: usize,
    },
}

/// One concrete topic: a [`TopicKind`] for one device. See the [module docs](self).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Topic<'a> {
    kind: TopicKind,
    product_id: &'a str,
    device_name: &'a str,
}

impl<'a> Topic<'a> {
    /// A topic of `kind` for one device.
    ///
    /// # Errors
    ///
    /// [`TopicError::Empty`], [`TopicError::Wildcard`], [`TopicError::IllegalCharacter`] or
    /// [`TopicError::TooLong`]; offsets are into the topic as [`Topic::write_to`] would write it.
    ///
    /// ```
    /// use iot_core::topic::{Name, Topic, TopicError, TopicKind};
    /// let topic = Topic::new(TopicKind::OtaReport, "CS0SLTKSYA", "dev1")?;
    /// assert_eq!(topic.to_string(), "$ota/report/CS0SLTKSYA/dev1");
    /// assert_eq!(
    ///     Topic::new(TopicKind::OtaReport, "CS0SLTKSYA", "dev+1"),
    ///     Err(TopicError::Wildcard { name: Name::DeviceName, offset: 26, character: '+' })
    /// );
    /// # Ok::<(), TopicError>(())
    /// ```
    pub fn new(
        kind: TopicKind,
        product_id: &'a str,
        device_name: &'a str,
    ) -> Result<Self, TopicError> {
        let topic = Self {
            kind,
            product_id,
            device_name,
        };
        topic.validate()?;
        Ok(topic)
    }

    /// The down topics of [`TopicKind::SUBSCRIPTIONS`] for one device, in that order.
    ///
    /// # Errors
    ///
    /// As [`Topic::new`], for the first of the topics that fails (offsets are into that topic).
    ///
    /// ```
    /// use iot_core::topic::Topic;
    /// let subs = Topic::subscriptions("CS0SLTKSYA", "dev1")?;
    /// assert_eq!(subs[0].to_string(), "$thing/down/property/CS0SLTKSYA/dev1");
    /// assert_eq!(subs[5].to_string(), "$sys/operation/result/CS0SLTKSYA/dev1");
    /// # Ok::<(), iot_core::topic::TopicError>(())
    /// ```
    pub fn subscriptions(
        product_id: &'a str,
        device_name: &'a str,
    ) -> Result<[Self; TopicKind::SUBSCRIPTIONS.len()], TopicError> {
        for kind in TopicKind::SUBSCRIPTIONS {
            Self::new(kind, product_id, device_name)?;
        }
        Ok(TopicKind::SUBSCRIPTIONS.map(|kind| Self {
            kind,
            product_id,
            device_name,
        }))
    }

    /// Parses a topic name, borrowing product id and device name from `topic`.
    ///
    /// # Errors
    ///
    /// [`TopicError::TooLong`], [`TopicError::UnknownPrefix`], [`TopicError::LevelCount`], and
    /// the name errors of [`Topic::new`].
    ///
    /// ```
    /// use iot_core::topic::{Topic, TopicError, TopicKind};
    /// let topic = Topic::parse("$sys/operation/result/CS0SLTKSYA/dev1")?;
    /// assert_eq!(topic.kind(), TopicKind::SysOperationResult);
    /// assert_eq!(topic.product_id(), "CS0SLTKSYA");
    /// assert_eq!(
    ///     Topic::parse("$thing/up/property/CS0SLTKSYA"),
    ///     Err(TopicError::LevelCount { expected: 5, found: 4 })
    /// );
    /// assert_eq!(Topic::parse("$thing/sideways/property/P/D"), Err(TopicError::UnknownPrefix));
    /// # Ok::<(), TopicError>(())
    /// ```
    pub fn parse(topic: &'a str) -> Result<Self, TopicError> {
        if topic.len() > TOPIC_MAX_LEN {
            return Err(TopicError::TooLong { len: topic.len() });
        }
        let found = topic.split('/').count();
        let mut levels = topic.split('/');
        let first = levels.next().unwrap_or_default();
        let second = levels.next().ok_or(TopicError::UnknownPrefix)?;
        let kind = match (first, second) {
            ("$thing", direction) => {
                let direction = match direction {
                    "up" => Direction::Up,
                    "down" => Direction::Down,
                    _ => return Err(TopicError::UnknownPrefix),
                };
                let channel = levels
                    .next()
                    .and_then(ThingChannel::from_level)
                    .ok_or(TopicError::UnknownPrefix)?;
                TopicKind::thing(direction, channel)
            }
            ("$ota", "report") => TopicKind::OtaReport,
            ("$ota", "update") => TopicKind::OtaUpdate,
            // `$sys/operation/result/{pid}/{dn}` has five levels; with four, "result" would be
            // the product id of a `$sys/operation` topic.
            ("$sys", "operation") if found == 5 => {
                if levels.next() != Some("result") {
                    return Err(TopicError::UnknownPrefix);
                }
                TopicKind::SysOperationResult
            }
            ("$sys", "operation") => TopicKind::SysOperation,
            _ => return Err(TopicError::UnknownPrefix),
        };
        let expected = kind.prefix().split('/').count() + 2;
        if found != expected {
            return Err(TopicError::LevelCount { expected, found });
        }
        let (Some(product_id), Some(device_name)) = (levels.next(), levels.next()) else {
            return Err(TopicError::LevelCount { expected, found });
        };
        Self::new(kind, product_id, device_name)
    }

    /// What the topic is for.
    ///
    /// ```
    /// use iot_core::topic::{Topic, TopicKind};
    /// let topic = Topic::new(TopicKind::EVENT_UP, "P", "D")?;
    /// assert_eq!(topic.kind(), TopicKind::EVENT_UP);
    /// # Ok::<(), iot_core::topic::TopicError>(())
    /// ```
    #[must_use]
    pub const fn kind(&self) -> TopicKind {
        self.kind
    }

    /// The `ProductId` level.
    ///
    /// ```
    /// use iot_core::topic::{Topic, TopicKind};
    /// assert_eq!(Topic::new(TopicKind::EVENT_UP, "P", "D")?.product_id(), "P");
    /// # Ok::<(), iot_core::topic::TopicError>(())
    /// ```
    #[must_use]
    pub const fn product_id(&self) -> &'a str {
        self.product_id
    }

    /// The `DeviceName` level.
    ///
    /// ```
    /// use iot_core::topic::{Topic, TopicKind};
    /// assert_eq!(Topic::new(TopicKind::EVENT_UP, "P", "D")?.device_name(), "D");
    /// # Ok::<(), iot_core::topic::TopicError>(())
    /// ```
    #[must_use]
    pub const fn device_name(&self) -> &'a str {
        self.device_name
    }

    /// Which way messages on this topic go.
    ///
    /// ```
    /// use iot_core::topic::{Direction, Topic, TopicKind};
    /// assert_eq!(Topic::new(TopicKind::OtaUpdate, "P", "D")?.direction(), Direction::Down);
    /// # Ok::<(), iot_core::topic::TopicError>(())
    /// ```
    #[must_use]
    pub const fn direction(&self) -> Direction {
        self.kind.direction()
    }

    /// Whether the device publishes on this topic.
    ///
    /// ```
    /// use iot_core::topic::{Topic, TopicKind};
    /// assert!(Topic::new(TopicKind::SysOperation, "P", "D")?.is_up());
    /// # Ok::<(), iot_core::topic::TopicError>(())
    /// ```
    #[must_use]
    pub const fn is_up(&self) -> bool {
        matches!(self.direction(), Direction::Up)
    }

    /// Whether the device subscribes to this topic.
    ///
    /// ```
    /// use iot_core::topic::{Topic, TopicKind};
    /// assert!(Topic::new(TopicKind::PROPERTY_DOWN, "P", "D")?.is_down());
    /// # Ok::<(), iot_core::topic::TopicError>(())
    /// ```
    #[must_use]
    pub const fn is_down(&self) -> bool {
        matches!(self.direction(), Direction::Down)
    }

    /// Length of the topic in bytes, as [`Topic::write_to`] writes it.
    ///
    /// ```
    /// use iot_core::topic::{Topic, TopicKind};
    /// let topic = Topic::new(TopicKind::PROPERTY_UP, "CS0SLTKSYA", "dev1")?;
    /// assert_eq!(topic.encoded_len(), topic.to_string().len());
    /// # Ok::<(), iot_core::topic::TopicError>(())
    /// ```
    #[must_use]
    pub const fn encoded_len(&self) -> usize {
        self.kind.prefix().len() + 1 + self.product_id.len() + 1 + self.device_name.len()
    }

    /// Writes `{prefix}/{ProductId}/{DeviceName}`.
    ///
    /// # Errors
    ///
    /// Whatever `out` returns.
    ///
    /// ```
    /// use iot_core::topic::{Topic, TopicKind};
    /// let mut out = heapless::String::<64>::new();
    /// Topic::new(TopicKind::EVENT_DOWN, "CS0SLTKSYA", "dev1")?.write_to(&mut out)?;
    /// assert_eq!(out, "$thing/down/event/CS0SLTKSYA/dev1");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn write_to<W: fmt::Write + ?Sized>(&self, out: &mut W) -> fmt::Result {
        out.write_str(self.kind.prefix())?;
        out.write_char('/')?;
        out.write_str(self.product_id)?;
        out.write_char('/')?;
        out.write_str(self.device_name)
    }

    /// The topic in a fixed-capacity string. `N` = [`TOPIC_MAX_LEN`] always suffices.
    ///
    /// # Errors
    ///
    /// [`TopicError::BufferTooSmall`] if the topic is longer than `N`.
    ///
    /// ```
    /// use iot_core::topic::{Topic, TopicError, TopicKind};
    /// let topic = Topic::new(TopicKind::ACTION_UP, "CS0SLTKSYA", "dev1")?;
    /// assert_eq!(topic.format::<40>()?, "$thing/up/action/CS0SLTKSYA/dev1");
    /// assert_eq!(topic.format::<8>(), Err(TopicError::BufferTooSmall { needed: 32, capacity: 8 }));
    /// # Ok::<(), TopicError>(())
    /// ```
    pub fn format<const N: usize>(&self) -> Result<String<N>, TopicError> {
        let too_small = TopicError::BufferTooSmall {
            needed: self.encoded_len(),
            capacity: N,
        };
        if self.encoded_len() > N {
            return Err(too_small);
        }
        let mut out = String::new();
        self.write_to(&mut out).map_err(|_| too_small)?;
        Ok(out)
    }

    /// Checks the names and the total length.
    fn validate(&self) -> Result<(), TopicError> {
        let product_start = self.kind.prefix().len() + 1;
        let device_start = product_start + self.product_id.len() + 1;
        validate_name(Name::ProductId, self.product_id, product_start)?;
        validate_name(Name::DeviceName, self.device_name, device_start)?;
        let len = self.encoded_len();
        if len > TOPIC_MAX_LEN {
            return Err(TopicError::TooLong { len });
        }
        Ok(())
    }
}

impl fmt::Display for Topic<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_to(f)
    }
}

/// Checks one name level; `start` is its offset in the topic.
fn validate_name(name: Name, level: &str, start: usize) -> Result<(), TopicError> {
    if level.is_empty() {
        return Err(TopicError::Empty { name });
    }
    for (i, character) in level.char_indices() {
        let offset = start + i;
        match character {
            // MQTT 3.1.1 §4.7.1: wildcards may appear in filters, never in topic names.
            '+' | '#' => {
                return Err(TopicError::Wildcard {
                    name,
                    offset,
                    character,
                })
            }
            // MQTT 3.1.1 §4.7.3: topics must not contain U+0000.
            '/' | '\0' => {
                return Err(TopicError::IllegalCharacter {
                    name,
                    offset,
                    character,
                })
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_levels_match_kind() {
        for kind in TopicKind::ALL {
            let levels = kind.prefix().split('/').count();
            let expected = match kind {
                TopicKind::Thing { .. } | TopicKind::SysOperationResult => 3,
                TopicKind::OtaReport | TopicKind::OtaUpdate | TopicKind::SysOperation => 2,
            };
            assert_eq!(levels, expected, "{kind:?}");
        }
    }

    #[test]
    fn sys_operation_with_product_named_result() {
        let topic = Topic::parse("$sys/operation/result/dev1").unwrap();
        assert_eq!(topic.kind(), TopicKind::SysOperation);
        assert_eq!(topic.product_id(), "result");
        assert_eq!(
            Topic::parse("$sys/operation/other/P/D"),
            Err(TopicError::UnknownPrefix)
        );
    }

    #[test]
    fn offsets_point_into_the_topic() {
        let text = "$ota/update/P#/D";
        assert_eq!(
            Topic::parse(text),
            Err(TopicError::Wildcard {
                name: Name::ProductId,
                offset: 13,
                character: '#'
            })
        );
        assert_eq!(text.as_bytes()[13], b'#');
    }
}
