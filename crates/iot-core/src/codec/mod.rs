//! Data-template, OTA and time-sync messages (protocol.md §4.2–4.4, §6.1–6.2): encoders for everything a device
//! sends, zero-copy views over everything it receives.
//!
//! The codec follows the smoltcp split between a wire view and a validated form (style.md §2):
//!
//! * **Up** (device → cloud): one plain struct per message ([`Report`], [`ControlReply`], [`EventPost`], …) that
//!   borrows its fields. [`Encode::encode`] writes it into a caller's `&mut [u8]` without allocating and returns the
//!   length; [`Encode::encoded_len`] measures it. Strings are JSON-escaped; property, event and action ids must be
//!   plain identifiers; a received `clientToken` is echoed byte for byte (protocol.md §10.7).
//! * **Down** (cloud → device): [`decode`] checks the payload once (size limit, UTF-8, JSON grammar) and returns a
//!   [`Down`] holding a typed view ([`ControlView`], [`ActionView`], [`ReplyView`], …). The views borrow the payload;
//!   after construction no accessor fails or panics. Parameters iterate as `(id, value)` pairs of
//!   [`json::Str`] and [`ParamView`]; strings stay escaped until asked for.
//!
//! Encode a report:
//!
//! ```
//! use iot_core::codec::{Encode, ParamValue, Report};
//!
//! let params = [("MQ2", ParamValue::Int(30)), ("DHT11_T", ParamValue::Float(14.5))];
//! let report = Report { client_token: "123".into(), timestamp_ms: None, params: &params };
//! let mut buf = [0u8; 128];
//! let n = report.encode(&mut buf)?;
//! assert_eq!(
//!     &buf[..n],
//!     br#"{"method":"report","clientToken":"123","params":{"MQ2":30,"DHT11_T":14.5}}"#
//! );
//! assert_eq!(report.encoded_len()?, n);
//! # Ok::<(), iot_core::codec::CodecError>(())
//! ```
//!
//! Decode a control and reply to it with the same token:
//!
//! ```
//! use iot_core::codec::{decode, ControlReply, Down, Encode, ReplyCode};
//!
//! let payload = br#"{"method":"control","clientToken":"ct-1::a","params":{"power_switch":1,"name":"desk"}}"#;
//! let Down::Control(control) = decode(payload)? else { panic!("not a control") };
//! for (id, value) in control.params() {
//!     if id.eq_str("power_switch") {
//!         assert_eq!(value.as_bool(), Some(true));
//!     }
//! }
//! let reply = ControlReply { client_token: control.client_token().into(), code: ReplyCode::Success, status: None };
//! let mut buf = [0u8; 96];
//! let n = reply.encode(&mut buf)?;
//! assert_eq!(&buf[..n], br#"{"method":"control_reply","clientToken":"ct-1::a","code":0}"#);
//! # Ok::<(), iot_core::codec::CodecError>(())
//! ```
//!
//! Unknown `method` (or `type`) values are not errors: [`decode`] returns [`Down::Unknown`] with a generic
//! [`MessageView`], because the service topic carries many methods this crate does not model (protocol.md §4.3,
//! "Service-topic methods") and a device should ignore them rather than fail. The per-message constructors
//! (`ControlView::new_checked`, …) do reject a different method with [`CodecError::UnexpectedMessage`].

use core::fmt;

use crate::json::{self, BufferTooSmall, JsonError};

mod down;
mod out;
mod params;
mod up;

pub use down::{
    accurate_time_ms, decode, ActionView, AlertFenceEventView, ControlView, Down,
    GetStatusReplyView, MessageView, ReplyView, ReportVersionRspView, ServiceNoticeView, TimeView,
    UpdateFirmwareView,
};
pub use params::{
    ArrayIter, ArrayView, Param, ParamValue, ParamView, ParamsIter, ParamsView, MAX_ID_LEN,
};
pub use up::{
    ActionReply, AlertFenceEventReply, ClearControl, ControlReply, Event, EventPost, EventType,
    EventsPost, GetModelDefine, GetStatus, OtaResultCode, OtaState, ReportInfo, ReportProgress,
    ReportVersion, TimeRequest, UnbindDeviceRequest,
};
// `Report` is re-exported separately so that it sits first in the docs' struct list next to the module example.
pub use up::Report;

/// Largest payload the codec accepts or produces, in bytes: 16 KB (protocol.md §3.5 "Payload size", §10.4,
/// §11.4). Explorer documents 64 KB for MQTT packets, but the Hub limit and the SDK documentation say 16 KB, and
/// the project enforces the smaller one.
pub const MAX_PAYLOAD_LEN: usize = 16 * 1024;

/// What went wrong while encoding or decoding a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum CodecError {
    /// The payload is larger than [`MAX_PAYLOAD_LEN`].
    #[error("payload is {len} bytes but the limit is {max} (protocol.md §11.4); split the data over several messages")]
    PayloadTooLarge {
        /// Size of the payload.
        len: usize,
        /// The limit, [`MAX_PAYLOAD_LEN`].
        max: usize,
    },
    /// The payload is not well-formed JSON.
    #[error("payload is not valid JSON: {0}")]
    Json(#[from] JsonError),
    /// The payload is JSON but not an object.
    #[error(
        "payload is not a JSON object; every message is an object with a `method` or `type` field"
    )]
    NotAnObject,
    /// A field the message needs is absent.
    #[error("field `{field}` is missing; the message cannot be handled without it")]
    MissingField {
        /// The field's name on the wire.
        field: &'static str,
    },
    /// A field holds the wrong kind of JSON value.
    #[error("field `{field}` should be {expected}; the sender does not follow protocol.md")]
    WrongType {
        /// The field's name on the wire.
        field: &'static str,
        /// What the field should hold.
        expected: &'static str,
    },
    /// A field has the right type but a value the protocol does not allow.
    #[error("field `{field}` {problem}")]
    InvalidField {
        /// The field's name on the wire.
        field: &'static str,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// A per-message view was given a different message.
    #[error("payload is not a `{expected}` message; use `codec::decode` to accept any message")]
    UnexpectedMessage {
        /// The `method` or `type` the view expects.
        expected: &'static str,
    },
    /// The output buffer is too small.
    #[error("buffer holds {capacity} bytes but the message needs {needed}; pass a buffer of at least {needed} bytes")]
    BufferTooSmall {
        /// Bytes the message needs.
        needed: usize,
        /// Bytes the buffer holds.
        capacity: usize,
    },
    /// A float parameter is NaN or infinite, which JSON cannot carry.
    #[error(
        "a float parameter is NaN or infinite, which JSON cannot carry; check the sensor reading"
    )]
    NonFiniteFloat,
    /// An empty `clientToken` was given for an outgoing message.
    #[error("clientToken is empty; the cloud pairs replies by token, so give each request a non-empty one")]
    EmptyClientToken,
    /// An id is empty, too long, or holds characters other than ASCII letters, digits and `_`.
    #[error("`{field}` holds an id that is not a thing-model identifier (1 to 64 ASCII letters, digits or `_`); use the id shown in the console")]
    InvalidIdentifier {
        /// Where the id was used: `params`, `eventId`, `actionId`, …
        field: &'static str,
    },
    /// Parameter values nest too deeply to be decoded again.
    #[error("parameter values nest deeper than {max} levels; flatten the struct or array")]
    TooDeep {
        /// The deepest nesting allowed inside `params`.
        max: usize,
    },
}

impl From<BufferTooSmall> for CodecError {
    fn from(e: BufferTooSmall) -> Self {
        Self::BufferTooSmall {
            needed: e.needed,
            capacity: e.capacity,
        }
    }
}

/// Encodes an up message into a caller's buffer, without allocating.
///
/// Implemented by every up message struct of this module. The trait is sealed: the set of messages is defined by
/// the protocol.
pub trait Encode: private::Sealed {
    /// Writes the message into `buf` and returns its length in bytes.
    ///
    /// # Errors
    /// * [`CodecError::BufferTooSmall`] with the exact size needed (the buffer's contents are then unspecified);
    /// * [`CodecError::PayloadTooLarge`] beyond [`MAX_PAYLOAD_LEN`];
    /// * [`CodecError::NonFiniteFloat`], [`CodecError::EmptyClientToken`], [`CodecError::InvalidIdentifier`],
    ///   [`CodecError::InvalidField`] or [`CodecError::TooDeep`] for input the protocol cannot carry.
    fn encode(&self, buf: &mut [u8]) -> Result<usize, CodecError> {
        let mut out = out::Out::new(buf);
        self.write(&mut out)?;
        out.finish()
    }

    /// The exact number of bytes [`Encode::encode`] writes.
    ///
    /// # Errors
    /// The same input errors as [`Encode::encode`] (never [`CodecError::BufferTooSmall`]).
    fn encoded_len(&self) -> Result<usize, CodecError> {
        let mut out = out::Out::new(&mut []);
        self.write(&mut out)?;
        let len = out.len();
        if len > MAX_PAYLOAD_LEN {
            return Err(CodecError::PayloadTooLarge {
                len,
                max: MAX_PAYLOAD_LEN,
            });
        }
        Ok(len)
    }
}

pub(crate) mod private {
    /// Seals [`super::Encode`]; `write` is the per-message body.
    pub trait Sealed {
        /// Writes the whole message.
        fn write(&self, out: &mut super::out::Out<'_>) -> Result<(), super::CodecError>;
    }
}

/// A data-template `method` value (protocol.md §4.3), named as on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Method {
    /// `report`: device reports property values.
    Report,
    /// `report_reply`: cloud acknowledges a report.
    ReportReply,
    /// `control`: cloud sets writable properties.
    Control,
    /// `control_reply`: device acknowledges a control.
    ControlReply,
    /// `get_status`: device asks for its latest state and pending control.
    GetStatus,
    /// `get_status_reply`: the state and pending control.
    GetStatusReply,
    /// `clear_control`: device drops the pending control.
    ClearControl,
    /// `clear_control_reply`: cloud acknowledges `clear_control`.
    ClearControlReply,
    /// `report_info`: device basic information.
    ReportInfo,
    /// `report_info_reply`: cloud acknowledges `report_info`.
    ReportInfoReply,
    /// `event_post`: one event.
    EventPost,
    /// `events_post`: several events.
    EventsPost,
    /// `event_reply`: cloud acknowledges `event_post`.
    EventReply,
    /// `events_reply`: cloud acknowledges `events_post`.
    EventsReply,
    /// `action`: cloud invokes an action.
    Action,
    /// `action_reply`: device returns the action's result.
    ActionReply,
    /// `get_model_define`: device asks for its thing model (V4 C SDK only).
    GetModelDefine,
    /// `get_model_define_reply`: the thing model.
    GetModelDefineReply,
    /// `bind_device`: a user bound the device (service topic).
    BindDevice,
    /// `unbind_device`: a user removed the device (service topic).
    UnbindDevice,
    /// `unbind_device_request`: device asks to be unbound (service topic).
    UnbindDeviceRequest,
    /// `unbind_device_reply`: cloud answers `unbind_device_request`.
    UnbindDeviceReply,
    /// `alert_fence_event`: geo-fence alarm (service topic).
    AlertFenceEvent,
    /// `alert_fence_event_reply`: device acknowledges a geo-fence alarm.
    AlertFenceEventReply,
}

impl Method {
    /// Every method, in declaration order.
    pub const ALL: [Self; 24] = [
        Self::Report,
        Self::ReportReply,
        Self::Control,
        Self::ControlReply,
        Self::GetStatus,
        Self::GetStatusReply,
        Self::ClearControl,
        Self::ClearControlReply,
        Self::ReportInfo,
        Self::ReportInfoReply,
        Self::EventPost,
        Self::EventsPost,
        Self::EventReply,
        Self::EventsReply,
        Self::Action,
        Self::ActionReply,
        Self::GetModelDefine,
        Self::GetModelDefineReply,
        Self::BindDevice,
        Self::UnbindDevice,
        Self::UnbindDeviceRequest,
        Self::UnbindDeviceReply,
        Self::AlertFenceEvent,
        Self::AlertFenceEventReply,
    ];

    /// The wire name.
    ///
    /// ```
    /// use iot_core::codec::Method;
    /// assert_eq!(Method::ControlReply.as_str(), "control_reply");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Report => "report",
            Self::ReportReply => "report_reply",
            Self::Control => "control",
            Self::ControlReply => "control_reply",
            Self::GetStatus => "get_status",
            Self::GetStatusReply => "get_status_reply",
            Self::ClearControl => "clear_control",
            Self::ClearControlReply => "clear_control_reply",
            Self::ReportInfo => "report_info",
            Self::ReportInfoReply => "report_info_reply",
            Self::EventPost => "event_post",
            Self::EventsPost => "events_post",
            Self::EventReply => "event_reply",
            Self::EventsReply => "events_reply",
            Self::Action => "action",
            Self::ActionReply => "action_reply",
            Self::GetModelDefine => "get_model_define",
            Self::GetModelDefineReply => "get_model_define_reply",
            Self::BindDevice => "bind_device",
            Self::UnbindDevice => "unbind_device",
            Self::UnbindDeviceRequest => "unbind_device_request",
            Self::UnbindDeviceReply => "unbind_device_reply",
            Self::AlertFenceEvent => "alert_fence_event",
            Self::AlertFenceEventReply => "alert_fence_event_reply",
        }
    }

    /// The method with wire name `name`, or `None` for a name this crate does not know.
    ///
    /// ```
    /// use iot_core::codec::Method;
    /// assert_eq!(Method::parse("control"), Some(Method::Control));
    /// assert_eq!(Method::parse("qqmusic_query"), None);
    /// ```
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "report" => Self::Report,
            "report_reply" => Self::ReportReply,
            "control" => Self::Control,
            "control_reply" => Self::ControlReply,
            "get_status" => Self::GetStatus,
            "get_status_reply" => Self::GetStatusReply,
            "clear_control" => Self::ClearControl,
            "clear_control_reply" => Self::ClearControlReply,
            "report_info" => Self::ReportInfo,
            "report_info_reply" => Self::ReportInfoReply,
            "event_post" => Self::EventPost,
            "events_post" => Self::EventsPost,
            "event_reply" => Self::EventReply,
            "events_reply" => Self::EventsReply,
            "action" => Self::Action,
            "action_reply" => Self::ActionReply,
            "get_model_define" => Self::GetModelDefine,
            "get_model_define_reply" => Self::GetModelDefineReply,
            "bind_device" => Self::BindDevice,
            "unbind_device" => Self::UnbindDevice,
            "unbind_device_request" => Self::UnbindDeviceRequest,
            "unbind_device_reply" => Self::UnbindDeviceReply,
            "alert_fence_event" => Self::AlertFenceEvent,
            "alert_fence_event_reply" => Self::AlertFenceEventReply,
            _ => return None,
        })
    }

    /// The method a reply to this one carries (`report` → `report_reply`), if the protocol defines one.
    pub const fn reply(self) -> Option<Self> {
        Some(match self {
            Self::Report => Self::ReportReply,
            Self::Control => Self::ControlReply,
            Self::GetStatus => Self::GetStatusReply,
            Self::ClearControl => Self::ClearControlReply,
            Self::ReportInfo => Self::ReportInfoReply,
            Self::EventPost => Self::EventReply,
            Self::EventsPost => Self::EventsReply,
            Self::Action => Self::ActionReply,
            Self::GetModelDefine => Self::GetModelDefineReply,
            Self::UnbindDeviceRequest => Self::UnbindDeviceReply,
            Self::AlertFenceEvent => Self::AlertFenceEventReply,
            _ => return None,
        })
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A reply `code` (protocol.md §4.4). Compare codes with `==`: `ReplyCode::Other(403)` equals
/// `ReplyCode::UnknownIdentifier`.
///
/// ```
/// use iot_core::codec::ReplyCode;
/// assert_eq!(ReplyCode::from_i64(406), ReplyCode::InvalidValue);
/// assert_eq!(ReplyCode::Other(0), ReplyCode::Success);
/// assert_eq!(ReplyCode::DEVICE_FAILURE.as_i64(), -1);
/// ```
#[derive(Debug, Clone, Copy)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ReplyCode {
    /// `0`: success.
    Success,
    /// `400`: the request payload is not JSON.
    NotJson,
    /// `403`: wrong `method`, or a property/event/action id that is not in the thing model (or, for a control,
    /// a read-only property).
    UnknownIdentifier,
    /// `405`: the timestamp is more than 24 h from server time.
    TimestampOutOfRange,
    /// `406`: a value of the wrong type or out of the defined range.
    InvalidValue,
    /// `503`: internal error on the platform; retry later.
    InternalError,
    /// Any other code.
    Other(i64),
}

impl ReplyCode {
    /// The code the C SDK sends in `control_reply`/`action_reply` when handling failed (`eDEAL_FAIL`,
    /// protocol.md §4.4).
    pub const DEVICE_FAILURE: Self = Self::Other(-1);

    /// The code for a wire value.
    pub const fn from_i64(code: i64) -> Self {
        match code {
            0 => Self::Success,
            400 => Self::NotJson,
            403 => Self::UnknownIdentifier,
            405 => Self::TimestampOutOfRange,
            406 => Self::InvalidValue,
            503 => Self::InternalError,
            other => Self::Other(other),
        }
    }

    /// The wire value.
    pub const fn as_i64(self) -> i64 {
        match self {
            Self::Success => 0,
            Self::NotJson => 400,
            Self::UnknownIdentifier => 403,
            Self::TimestampOutOfRange => 405,
            Self::InvalidValue => 406,
            Self::InternalError => 503,
            Self::Other(code) => code,
        }
    }

    /// Whether the code is `0`.
    pub const fn is_success(self) -> bool {
        self.as_i64() == 0
    }
}

impl PartialEq for ReplyCode {
    fn eq(&self, other: &Self) -> bool {
        self.as_i64() == other.as_i64()
    }
}

impl Eq for ReplyCode {}

impl core::hash::Hash for ReplyCode {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.as_i64().hash(state);
    }
}

impl From<i64> for ReplyCode {
    fn from(code: i64) -> Self {
        Self::from_i64(code)
    }
}

impl fmt::Display for ReplyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.as_i64())
    }
}

/// A `clientToken` for an outgoing message (protocol.md §4.2).
///
/// Tokens the device makes up are [`ClientToken::Text`] and get JSON-escaped. Tokens received from the cloud are
/// [`ClientToken::Received`] and are written back exactly as received, escapes included (protocol.md §10.7,
/// §11.12). Both convert with `.into()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ClientToken<'a> {
    /// A token made by the device, such as `"{ProductId}-{counter}"`.
    Text(&'a str),
    /// A token taken from a received message.
    Received(json::Str<'a>),
}

impl<'a> From<&'a str> for ClientToken<'a> {
    fn from(text: &'a str) -> Self {
        Self::Text(text)
    }
}

impl<'a> From<json::Str<'a>> for ClientToken<'a> {
    fn from(token: json::Str<'a>) -> Self {
        Self::Received(token)
    }
}

impl ClientToken<'_> {
    /// Whether the token has no characters.
    #[inline]
    pub fn is_empty(&self) -> bool {
        match self {
            Self::Text(t) => t.is_empty(),
            Self::Received(s) => s.raw().is_empty(),
        }
    }

    /// Compares the token's characters with `other` (after unescaping a received token).
    pub fn eq_str(&self, other: &str) -> bool {
        match self {
            Self::Text(t) => *t == other,
            Self::Received(s) => s.eq_str(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_names_round_trip() {
        for m in Method::ALL {
            assert_eq!(Method::parse(m.as_str()), Some(m));
        }
        assert_eq!(Method::parse("Report"), None);
        assert_eq!(Method::parse(""), None);
        assert_eq!(Method::Control.reply(), Some(Method::ControlReply));
        assert_eq!(Method::ControlReply.reply(), None);
    }

    #[test]
    fn every_reply_is_named_after_its_request() {
        let mut pairs = 0;
        for m in Method::ALL {
            let Some(reply) = m.reply() else {
                continue;
            };
            pairs += 1;
            // `event_post` → `event_reply`, `events_post` → `events_reply`, otherwise `{name}_reply`.
            let stem = m.as_str().strip_suffix("_post").unwrap_or(m.as_str());
            let stem = stem.strip_suffix("_request").unwrap_or(stem);
            assert_eq!(reply.as_str().strip_suffix("_reply"), Some(stem), "{m}");
            assert_eq!(reply.reply(), None, "a reply is not answered: {reply}");
        }
        // Every `*_reply` method answers exactly one request.
        let replies = Method::ALL
            .iter()
            .filter(|m| m.as_str().ends_with("_reply"));
        assert_eq!(replies.count(), pairs);
        assert_eq!(Method::BindDevice.reply(), None);
        assert_eq!(Method::UnbindDevice.reply(), None);
    }

    #[test]
    fn client_tokens_compare_by_their_characters() {
        let doc = json::Value::parse(br#"{"escaped":"a\u0062c","empty":""}"#).ok();
        let member = |key| {
            doc.and_then(|d| d.as_object())
                .and_then(|o| o.get(key))
                .and_then(|v| v.as_str())
        };
        let (Some(escaped), Some(empty)) = (member("escaped"), member("empty")) else {
            panic!("the test document parses");
        };
        let received = ClientToken::from(escaped);
        assert!(received.eq_str("abc"));
        assert!(!received.eq_str("a\\u0062c"));
        assert!(!received.eq_str("ab"));
        assert!(!received.is_empty());
        assert!(ClientToken::from(empty).is_empty());
        let text = ClientToken::from("abc");
        assert!(text.eq_str("abc") && !text.eq_str("abd"));
        assert!(ClientToken::Text("").is_empty());
    }

    #[test]
    fn reply_codes_compare_by_value() {
        for code in [0, 400, 403, 405, 406, 503, -1, 7] {
            assert_eq!(ReplyCode::from_i64(code).as_i64(), code);
            assert_eq!(ReplyCode::Other(code), ReplyCode::from_i64(code));
        }
        assert!(ReplyCode::Success.is_success());
        assert!(!ReplyCode::InvalidValue.is_success());
    }

    #[cfg(feature = "std")]
    #[test]
    fn equal_reply_codes_hash_alike_and_print_as_numbers() {
        use std::collections::HashSet;
        use std::string::ToString;
        let set: HashSet<ReplyCode> = [ReplyCode::Other(403), ReplyCode::from_i64(406)]
            .into_iter()
            .collect();
        assert!(set.contains(&ReplyCode::UnknownIdentifier));
        assert!(set.contains(&ReplyCode::InvalidValue));
        assert!(!set.contains(&ReplyCode::Success));
        assert_eq!(ReplyCode::UnknownIdentifier.to_string(), "403");
        assert_eq!(ReplyCode::Other(-7).to_string(), "-7");
        assert_eq!(ReplyCode::from(0), ReplyCode::Success);
    }
}
