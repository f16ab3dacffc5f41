//! Down messages (cloud → device): zero-copy views built once by [`decode`] or a view's `new_checked`.
//!
//! Every constructor checks the payload's size (≤ [`MAX_PAYLOAD_LEN`]), UTF-8 and JSON grammar once, then reads the
//! top-level members in one pass. Required fields missing or of the wrong JSON type give a [`CodecError`] naming
//! the field; unknown members are ignored; when a member appears twice, the first one counts (as
//! [`json::Object::get`] does). After construction no accessor fails or panics.

use core::fmt;

use super::params::{timestamp, ParamsView};
use super::{CodecError, Method, ReplyCode, MAX_PAYLOAD_LEN};
use crate::json::{Object, Str, Value};

/// Any received message, by kind. Built by [`decode`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Down<'a> {
    /// `report_reply` on `$thing/down/property`.
    ReportReply(ReplyView<'a>),
    /// `control` on `$thing/down/property`: answer with [`ControlReply`](super::ControlReply).
    Control(ControlView<'a>),
    /// `get_status_reply` on `$thing/down/property`.
    GetStatusReply(GetStatusReplyView<'a>),
    /// `clear_control_reply` on `$thing/down/property`.
    ClearControlReply(ReplyView<'a>),
    /// `report_info_reply` on `$thing/down/property`.
    ReportInfoReply(ReplyView<'a>),
    /// `event_reply` on `$thing/down/event`.
    EventReply(ReplyView<'a>),
    /// `events_reply` on `$thing/down/event`.
    EventsReply(ReplyView<'a>),
    /// `action` on `$thing/down/action`: answer with [`ActionReply`](super::ActionReply).
    Action(ActionView<'a>),
    /// `bind_device` on `$thing/down/service`.
    BindDevice(ServiceNoticeView<'a>),
    /// `unbind_device` on `$thing/down/service`.
    UnbindDevice(ServiceNoticeView<'a>),
    /// `unbind_device_reply` on `$thing/down/service`.
    UnbindDeviceReply(ReplyView<'a>),
    /// `alert_fence_event` on `$thing/down/service`: answer with
    /// [`AlertFenceEventReply`](super::AlertFenceEventReply).
    AlertFenceEvent(AlertFenceEventView<'a>),
    /// The time answer on `$sys/operation/result` (`"type":"get"`).
    Time(TimeView<'a>),
    /// `report_version_rsp` on `$ota/update`.
    ReportVersionRsp(ReportVersionRspView<'a>),
    /// `update_firmware` on `$ota/update`.
    UpdateFirmware(UpdateFirmwareView<'a>),
    /// A well-formed message whose `method` (or `type`) this crate does not handle: other service-topic methods,
    /// `get_model_define_reply`, remote SSH on `$sys`, or an up message. Ignore it, or read it through the view.
    Unknown(MessageView<'a>),
}

impl<'a> Down<'a> {
    /// The message's `clientToken`, when it has one (OTA and time messages have none).
    pub fn client_token(&self) -> Option<Str<'a>> {
        match self {
            Self::ReportReply(r)
            | Self::ClearControlReply(r)
            | Self::ReportInfoReply(r)
            | Self::EventReply(r)
            | Self::EventsReply(r)
            | Self::UnbindDeviceReply(r) => r.client_token(),
            Self::Control(c) => Some(c.client_token()),
            Self::GetStatusReply(g) => g.client_token(),
            Self::Action(a) => Some(a.client_token()),
            Self::BindDevice(s) | Self::UnbindDevice(s) => s.client_token(),
            Self::AlertFenceEvent(a) => Some(a.client_token()),
            Self::Unknown(m) => m.client_token(),
            Self::Time(_) | Self::ReportVersionRsp(_) | Self::UpdateFirmware(_) => None,
        }
    }

    /// The message's data-template method, when it has a known one.
    pub fn method(&self) -> Option<Method> {
        Some(match self {
            Self::ReportReply(_) => Method::ReportReply,
            Self::Control(_) => Method::Control,
            Self::GetStatusReply(_) => Method::GetStatusReply,
            Self::ClearControlReply(_) => Method::ClearControlReply,
            Self::ReportInfoReply(_) => Method::ReportInfoReply,
            Self::EventReply(_) => Method::EventReply,
            Self::EventsReply(_) => Method::EventsReply,
            Self::Action(_) => Method::Action,
            Self::BindDevice(_) => Method::BindDevice,
            Self::UnbindDevice(_) => Method::UnbindDevice,
            Self::UnbindDeviceReply(_) => Method::UnbindDeviceReply,
            Self::AlertFenceEvent(_) => Method::AlertFenceEvent,
            Self::Unknown(m) => return m.method(),
            Self::Time(_) | Self::ReportVersionRsp(_) | Self::UpdateFirmware(_) => return None,
        })
    }
}

/// Decodes any down message: data-template messages by `method`, `$ota` and `$sys` messages by `type`.
///
/// ```
/// use iot_core::codec::{decode, Down, ReplyCode};
///
/// match decode(br#"{"method":"report_reply","clientToken":"123","code":0,"status":"success"}"#)? {
///     Down::ReportReply(reply) => {
///         assert_eq!(reply.code(), ReplyCode::Success);
///         assert!(reply.client_token().is_some_and(|t| t.eq_str("123")));
///     }
///     other => panic!("unexpected {other:?}"),
/// }
/// # Ok::<(), iot_core::codec::CodecError>(())
/// ```
///
/// # Errors
/// [`CodecError::PayloadTooLarge`], [`CodecError::Json`], [`CodecError::NotAnObject`]; a message with neither
/// `method` nor `type` gives [`CodecError::MissingField`]; a known message with a required field missing or of the
/// wrong type gives [`CodecError::MissingField`], [`CodecError::WrongType`] or [`CodecError::InvalidField`]. An
/// unknown method is not an error: it gives [`Down::Unknown`].
pub fn decode(payload: &[u8]) -> Result<Down<'_>, CodecError> {
    // Validation collects what the data-template views need in the same pass; `$sys`/`$ota` messages are read
    // again (they are rare).
    let mut f = Fields::empty(Object::EMPTY);
    let object = f.parse_into(payload)?;
    if let Some(method) = f.method {
        let known = with_plain(string(method, "method")?, Method::parse);
        return Ok(match known {
            Some(Method::ReportReply) => Down::ReportReply(ReplyView::from_fields(&f)?),
            Some(Method::Control) => Down::Control(ControlView::from_fields(&f)?),
            Some(Method::GetStatusReply) => {
                Down::GetStatusReply(GetStatusReplyView::from_fields(&f)?)
            }
            Some(Method::ClearControlReply) => Down::ClearControlReply(ReplyView::from_fields(&f)?),
            Some(Method::ReportInfoReply) => Down::ReportInfoReply(ReplyView::from_fields(&f)?),
            Some(Method::EventReply) => Down::EventReply(ReplyView::from_fields(&f)?),
            Some(Method::EventsReply) => Down::EventsReply(ReplyView::from_fields(&f)?),
            Some(Method::Action) => Down::Action(ActionView::from_fields(&f)?),
            Some(Method::BindDevice) => Down::BindDevice(ServiceNoticeView::from_fields(&f)?),
            Some(Method::UnbindDevice) => Down::UnbindDevice(ServiceNoticeView::from_fields(&f)?),
            Some(Method::UnbindDeviceReply) => Down::UnbindDeviceReply(ReplyView::from_fields(&f)?),
            Some(Method::AlertFenceEvent) => {
                Down::AlertFenceEvent(AlertFenceEventView::from_fields(&f)?)
            }
            _ => Down::Unknown(MessageView::from_fields(&f)?),
        });
    }
    let Some(kind) = f.kind else {
        return Err(CodecError::MissingField { field: "method" });
    };
    Ok(match with_plain(string(kind, "type")?, type_name) {
        Some(TypeName::Get) => Down::Time(TimeView::from_object(object)?),
        Some(TypeName::ReportVersionRsp) => {
            Down::ReportVersionRsp(ReportVersionRspView::from_object(object)?)
        }
        Some(TypeName::UpdateFirmware) => {
            Down::UpdateFirmware(UpdateFirmwareView::from_object(object)?)
        }
        None => Down::Unknown(MessageView::from_fields(&f)?),
    })
}

/// `type` values of `$sys` and `$ota` messages this module decodes.
#[derive(Clone, Copy)]
enum TypeName {
    Get,
    ReportVersionRsp,
    UpdateFirmware,
}

fn type_name(name: &str) -> Option<TypeName> {
    match name {
        "get" => Some(TypeName::Get),
        "report_version_rsp" => Some(TypeName::ReportVersionRsp),
        "update_firmware" => Some(TypeName::UpdateFirmware),
        _ => None,
    }
}

/// Checks size, UTF-8 and grammar, and that the payload is an object.
fn parse_object(payload: &[u8]) -> Result<Object<'_>, CodecError> {
    check_size(payload)?;
    Value::parse(payload)?
        .as_object()
        .ok_or(CodecError::NotAnObject)
}

/// A payload longer than the protocol allows is refused before it is read (protocol.md §3.5).
#[inline]
fn check_size(payload: &[u8]) -> Result<(), CodecError> {
    if payload.len() > MAX_PAYLOAD_LEN {
        return Err(CodecError::PayloadTooLarge {
            len: payload.len(),
            max: MAX_PAYLOAD_LEN,
        });
    }
    Ok(())
}

/// Calls `f` with the unescaped text of a short string (keys, method and type names). Strings that need more than
/// 32 bytes unescaped are passed as `""`, which matches no name.
#[inline(always)]
fn with_plain<R>(s: Str<'_>, f: impl FnOnce(&str) -> R) -> R {
    if let Some(plain) = s.as_plain() {
        return f(plain);
    }
    let mut buf = [0u8; 32];
    match s.unescape_into(&mut buf) {
        Ok(text) => f(text),
        Err(_) => f(""),
    }
}

/// Top-level member names the views read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    Method,
    Type,
    ClientToken,
    Code,
    Status,
    Version,
    Data,
    Params,
    Timestamp,
    ActionId,
    Time,
    NtpTime1,
    NtpTime2,
    ResultCode,
    ResultMsg,
    Url,
    Md5sum,
    FileSize,
    UserDefined,
}

#[inline(always)]
fn field_name(name: &str) -> Option<Field> {
    Some(match name {
        "method" => Field::Method,
        "type" => Field::Type,
        "clientToken" => Field::ClientToken,
        "code" => Field::Code,
        "status" => Field::Status,
        "version" => Field::Version,
        "data" => Field::Data,
        "params" => Field::Params,
        "timestamp" => Field::Timestamp,
        "actionId" => Field::ActionId,
        "time" => Field::Time,
        "ntptime1" => Field::NtpTime1,
        "ntptime2" => Field::NtpTime2,
        "result_code" => Field::ResultCode,
        "result_msg" => Field::ResultMsg,
        "url" => Field::Url,
        "md5sum" => Field::Md5sum,
        "file_size" => Field::FileSize,
        "user_defined" => Field::UserDefined,
        _ => return None,
    })
}

/// The top-level members a view may need, collected in one pass (first occurrence wins).
struct Fields<'a> {
    object: Object<'a>,
    method: Option<Value<'a>>,
    kind: Option<Value<'a>>,
    client_token: Option<Value<'a>>,
    code: Option<Value<'a>>,
    status: Option<Value<'a>>,
    version: Option<Value<'a>>,
    data: Option<Value<'a>>,
    params: Option<Value<'a>>,
    timestamp: Option<Value<'a>>,
    action_id: Option<Value<'a>>,
}

impl<'a> Fields<'a> {
    /// Validates `payload` (size, UTF-8, grammar, an object) and collects the members in the same pass.
    /// Filled in place: the struct is large enough that returning it costs a copy.
    #[inline]
    fn parse_into(&mut self, payload: &'a [u8]) -> Result<Object<'a>, CodecError> {
        check_size(payload)?;
        let object = Value::parse_visiting(payload, |key, value| self.take(key, value))?
            .as_object()
            .ok_or(CodecError::NotAnObject)?;
        self.object = object;
        Ok(object)
    }

    /// Collects the members of an already validated object.
    fn collect(object: Object<'a>) -> Self {
        let mut f = Self::empty(object);
        for (key, value) in object {
            f.take(key, value);
        }
        f
    }

    fn empty(object: Object<'a>) -> Self {
        Self {
            object,
            method: None,
            kind: None,
            client_token: None,
            code: None,
            status: None,
            version: None,
            data: None,
            params: None,
            timestamp: None,
            action_id: None,
        }
    }

    /// Keeps `value` if `key` is a member the views read and was not seen before.
    #[inline(always)]
    fn take(&mut self, key: Str<'a>, value: Value<'a>) {
        let slot = match with_plain(key, field_name) {
            Some(Field::Method) => &mut self.method,
            Some(Field::Type) => &mut self.kind,
            Some(Field::ClientToken) => &mut self.client_token,
            Some(Field::Code) => &mut self.code,
            Some(Field::Status) => &mut self.status,
            Some(Field::Version) => &mut self.version,
            Some(Field::Data) => &mut self.data,
            Some(Field::Params) => &mut self.params,
            Some(Field::Timestamp) => &mut self.timestamp,
            Some(Field::ActionId) => &mut self.action_id,
            _ => return,
        };
        if slot.is_none() {
            *slot = Some(value);
        }
    }

    /// The method, which must be one of `expected`.
    fn method(&self, expected: &[Method], name: &'static str) -> Result<Method, CodecError> {
        let method = string(required(self.method, "method")?, "method")?;
        with_plain(method, Method::parse)
            .filter(|m| expected.contains(m))
            .ok_or(CodecError::UnexpectedMessage { expected: name })
    }
}

fn required<T>(value: Option<T>, field: &'static str) -> Result<T, CodecError> {
    value.ok_or(CodecError::MissingField { field })
}

fn string<'a>(value: Value<'a>, field: &'static str) -> Result<Str<'a>, CodecError> {
    value.as_str().ok_or(CodecError::WrongType {
        field,
        expected: "a string",
    })
}

fn opt_string<'a>(
    value: Option<Value<'a>>,
    field: &'static str,
) -> Result<Option<Str<'a>>, CodecError> {
    value.map(|v| string(v, field)).transpose()
}

fn object_field<'a>(value: Value<'a>, field: &'static str) -> Result<Object<'a>, CodecError> {
    value.as_object().ok_or(CodecError::WrongType {
        field,
        expected: "an object",
    })
}

fn integer(value: Value<'_>, field: &'static str) -> Result<i64, CodecError> {
    value.as_i64().ok_or(CodecError::WrongType {
        field,
        expected: "an integer",
    })
}

/// A non-negative integer, as a number or a decimal string (protocol.md §10.5).
fn unsigned(value: Value<'_>, field: &'static str) -> Result<u64, CodecError> {
    timestamp(value).ok_or(CodecError::WrongType {
        field,
        expected: "a non-negative integer (number or decimal string)",
    })
}

fn opt_unsigned(value: Option<Value<'_>>, field: &'static str) -> Result<Option<u64>, CodecError> {
    value.map(|v| unsigned(v, field)).transpose()
}

/// A `clientToken` a reply must echo: a non-empty string.
fn token<'a>(value: Option<Value<'a>>) -> Result<Str<'a>, CodecError> {
    let token = string(required(value, "clientToken")?, "clientToken")?;
    if token.raw().is_empty() {
        return Err(CodecError::InvalidField {
            field: "clientToken",
            problem: "is empty, so no reply can be paired with the request",
        });
    }
    Ok(token)
}

/// Any message, without interpretation: the generic view behind [`Down::Unknown`], also usable for up messages
/// (a local cloud emulator reads reports with it).
///
/// ```
/// use iot_core::codec::{Method, MessageView};
///
/// let m = MessageView::new_checked(br#"{"method":"report","clientToken":"1","params":{"MQ2":30}}"#)?;
/// assert_eq!(m.method(), Some(Method::Report));
/// assert_eq!(m.params().and_then(|p| p.get("MQ2")).and_then(|v| v.as_i64()), Some(30));
/// # Ok::<(), iot_core::codec::CodecError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct MessageView<'a> {
    object: Object<'a>,
    method: Option<Str<'a>>,
    kind: Option<Str<'a>>,
    client_token: Option<Str<'a>>,
}

impl<'a> MessageView<'a> {
    /// Checks size, UTF-8 and grammar, and that the payload is an object.
    ///
    /// # Errors
    /// [`CodecError::PayloadTooLarge`], [`CodecError::Json`], [`CodecError::NotAnObject`]; [`CodecError::WrongType`]
    /// when `method`, `type` or `clientToken` is present but not a string.
    pub fn new_checked(payload: &'a [u8]) -> Result<Self, CodecError> {
        Self::from_object(parse_object(payload)?)
    }

    fn from_object(object: Object<'a>) -> Result<Self, CodecError> {
        Self::from_fields(&Fields::collect(object))
    }

    fn from_fields(f: &Fields<'a>) -> Result<Self, CodecError> {
        Ok(Self {
            object: f.object,
            method: opt_string(f.method, "method")?,
            kind: opt_string(f.kind, "type")?,
            client_token: opt_string(f.client_token, "clientToken")?,
        })
    }

    /// The `method` member as sent.
    pub fn method_name(&self) -> Option<Str<'a>> {
        self.method
    }

    /// The `method`, when it is one this crate knows.
    pub fn method(&self) -> Option<Method> {
        self.method.and_then(|m| with_plain(m, Method::parse))
    }

    /// The `type` member (`$ota`, `$sys` messages; also events and `get_status`).
    pub fn message_type(&self) -> Option<Str<'a>> {
        self.kind
    }

    /// The `clientToken`.
    pub fn client_token(&self) -> Option<Str<'a>> {
        self.client_token
    }

    /// The `params` member, when it is an object.
    pub fn params(&self) -> Option<ParamsView<'a>> {
        self.object
            .get("params")
            .and_then(|v| v.as_object())
            .map(ParamsView::new)
    }

    /// The `timestamp` member, as a number or decimal string.
    pub fn timestamp(&self) -> Option<u64> {
        self.object.get("timestamp").and_then(timestamp)
    }

    /// Any top-level member.
    pub fn get(&self, key: &str) -> Option<Value<'a>> {
        self.object.get(key)
    }

    /// The whole message.
    pub fn object(&self) -> Object<'a> {
        self.object
    }
}

impl fmt::Debug for MessageView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("MessageView").field(&self.object).finish()
    }
}

/// A reply with `code` and `status`: `report_reply`, `clear_control_reply`, `report_info_reply`, `event_reply`,
/// `events_reply`, `unbind_device_reply` (protocol.md §4.3–4.4). Match it to the request by `clientToken` plus
/// method (§11.12).
///
/// The `clientToken` is optional here: when the cloud cannot parse a request (code 400) it is not documented
/// what, if anything, it echoes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ReplyView<'a> {
    method: Method,
    client_token: Option<Str<'a>>,
    code: ReplyCode,
    status: Option<Str<'a>>,
    version: Option<Str<'a>>,
    data: Option<Value<'a>>,
}

const REPLY_METHODS: [Method; 6] = [
    Method::ReportReply,
    Method::ClearControlReply,
    Method::ReportInfoReply,
    Method::EventReply,
    Method::EventsReply,
    Method::UnbindDeviceReply,
];

impl<'a> ReplyView<'a> {
    /// Checks the payload and reads one of the reply methods above.
    ///
    /// # Errors
    /// As [`decode`]; [`CodecError::UnexpectedMessage`] for other methods; `code` is required.
    pub fn new_checked(payload: &'a [u8]) -> Result<Self, CodecError> {
        Self::from_object(parse_object(payload)?)
    }

    fn from_object(object: Object<'a>) -> Result<Self, CodecError> {
        Self::from_fields(&Fields::collect(object))
    }

    fn from_fields(f: &Fields<'a>) -> Result<Self, CodecError> {
        let method = f.method(&REPLY_METHODS, "…_reply")?;
        Ok(Self {
            method,
            client_token: opt_string(f.client_token, "clientToken")?,
            code: ReplyCode::from_i64(integer(required(f.code, "code")?, "code")?),
            status: opt_string(f.status, "status")?,
            version: opt_string(f.version, "version")?,
            data: f.data,
        })
    }

    /// Which reply this is.
    pub fn method(&self) -> Method {
        self.method
    }

    /// The request's token, when echoed.
    pub fn client_token(&self) -> Option<Str<'a>> {
        self.client_token
    }

    /// The result (protocol.md §4.4).
    pub fn code(&self) -> ReplyCode {
        self.code
    }

    /// The free-form message (`"success"`, an error description, or empty).
    pub fn status(&self) -> Option<Str<'a>> {
        self.status
    }

    /// `version` (event replies).
    pub fn version(&self) -> Option<Str<'a>> {
        self.version
    }

    /// `data` (event replies carry `{}`).
    pub fn data(&self) -> Option<Value<'a>> {
        self.data
    }
}

impl fmt::Debug for ReplyView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReplyView")
            .field("method", &self.method)
            .field("client_token", &self.client_token)
            .field("code", &self.code)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// `control`: the cloud sets writable properties (protocol.md §4.3). Apply `params`, then send a
/// [`ControlReply`](super::ControlReply) with the same token.
///
/// ```
/// use iot_core::codec::ControlView;
///
/// let c = ControlView::new_checked(br#"{"method":"control","clientToken":"t1","params":{"alarm_enabled":true,"smoke_threshold":1500}}"#)?;
/// assert!(c.client_token().eq_str("t1"));
/// let mut ids = c.params().iter();
/// let (id, value) = ids.next().unwrap();
/// assert!(id.eq_str("alarm_enabled"));
/// assert_eq!(value.as_bool(), Some(true));
/// # Ok::<(), iot_core::codec::CodecError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ControlView<'a> {
    client_token: Str<'a>,
    params: ParamsView<'a>,
    timestamp: Option<u64>,
}

impl<'a> ControlView<'a> {
    /// Checks the payload and reads a `control`.
    ///
    /// # Errors
    /// As [`decode`]; [`CodecError::UnexpectedMessage`] for another method; `clientToken` (non-empty) and
    /// `params` (an object) are required.
    pub fn new_checked(payload: &'a [u8]) -> Result<Self, CodecError> {
        Self::from_object(parse_object(payload)?)
    }

    fn from_object(object: Object<'a>) -> Result<Self, CodecError> {
        Self::from_fields(&Fields::collect(object))
    }

    fn from_fields(f: &Fields<'a>) -> Result<Self, CodecError> {
        f.method(&[Method::Control], "control")?;
        Ok(Self {
            client_token: token(f.client_token)?,
            params: ParamsView::new(object_field(required(f.params, "params")?, "params")?),
            timestamp: opt_unsigned(f.timestamp, "timestamp")?,
        })
    }

    /// The token to echo in the reply.
    pub fn client_token(&self) -> Str<'a> {
        self.client_token
    }

    /// The properties to set.
    pub fn params(&self) -> ParamsView<'a> {
        self.params
    }

    /// `timestamp`, if the cloud sent one.
    pub fn timestamp(&self) -> Option<u64> {
        self.timestamp
    }
}

impl fmt::Debug for ControlView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ControlView")
            .field("client_token", &self.client_token)
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

/// `get_status_reply`: the latest reported state and the control set while the device was offline
/// (protocol.md §4.3). After applying [`control`](Self::control), send
/// [`ClearControl`](super::ClearControl) with this reply's token (§11.10).
///
/// `data` may be `{}` or absent; both parts are then `None`. The older `data.report` is read when
/// `data.reported` is absent.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct GetStatusReplyView<'a> {
    client_token: Option<Str<'a>>,
    code: ReplyCode,
    status: Option<Str<'a>>,
    status_type: Option<Str<'a>>,
    reported: Option<ParamsView<'a>>,
    control: Option<ParamsView<'a>>,
}

impl<'a> GetStatusReplyView<'a> {
    /// Checks the payload and reads a `get_status_reply`.
    ///
    /// # Errors
    /// As [`decode`]; [`CodecError::UnexpectedMessage`] for another method; `code` is required, and `data`,
    /// `data.reported` and `data.control` must be objects when present.
    pub fn new_checked(payload: &'a [u8]) -> Result<Self, CodecError> {
        Self::from_object(parse_object(payload)?)
    }

    fn from_object(obj: Object<'a>) -> Result<Self, CodecError> {
        Self::from_fields(&Fields::collect(obj))
    }

    fn from_fields(f: &Fields<'a>) -> Result<Self, CodecError> {
        f.method(&[Method::GetStatusReply], "get_status_reply")?;
        let (mut reported, mut legacy, mut control) = (None, None, None);
        if let Some(data) = f.data {
            for (key, value) in object_field(data, "data")? {
                let slot = match with_plain(key, |k| match k {
                    "reported" => Some(0),
                    "report" => Some(1),
                    "control" => Some(2),
                    _ => None,
                }) {
                    Some(0) => &mut reported,
                    Some(1) => &mut legacy,
                    Some(2) => &mut control,
                    _ => continue,
                };
                if slot.is_none() {
                    *slot = Some(value);
                }
            }
        }
        let params = |v: Option<Value<'a>>, field: &'static str| {
            v.map(|v| object_field(v, field).map(ParamsView::new))
                .transpose()
        };
        let reported = match reported {
            Some(_) => params(reported, "data.reported")?,
            None => params(legacy, "data.report")?,
        };
        Ok(Self {
            client_token: opt_string(f.client_token, "clientToken")?,
            code: ReplyCode::from_i64(integer(required(f.code, "code")?, "code")?),
            status: opt_string(f.status, "status")?,
            status_type: opt_string(f.kind, "type")?,
            reported,
            control: params(control, "data.control")?,
        })
    }

    /// The `get_status` token, to reuse in `clear_control`.
    pub fn client_token(&self) -> Option<Str<'a>> {
        self.client_token
    }

    /// The result.
    pub fn code(&self) -> ReplyCode {
        self.code
    }

    /// The free-form message.
    pub fn status(&self) -> Option<Str<'a>> {
        self.status
    }

    /// `type` (`"report"`).
    pub fn status_type(&self) -> Option<Str<'a>> {
        self.status_type
    }

    /// `data.reported` (or the older `data.report`): the latest reported values.
    pub fn reported(&self) -> Option<ParamsView<'a>> {
        self.reported
    }

    /// `data.control`: values set while the device was offline, still to apply.
    pub fn control(&self) -> Option<ParamsView<'a>> {
        self.control
    }
}

impl fmt::Debug for GetStatusReplyView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GetStatusReplyView")
            .field("client_token", &self.client_token)
            .field("code", &self.code)
            .field("reported", &self.reported)
            .field("control", &self.control)
            .finish_non_exhaustive()
    }
}

/// `action`: the cloud invokes an action (protocol.md §4.3). Run it, then send an
/// [`ActionReply`](super::ActionReply) with the same token.
///
/// `timestamp` is read as sent, number or string; its unit varies (ms by the current docs, s in the docs'
/// example).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ActionView<'a> {
    client_token: Str<'a>,
    action_id: Str<'a>,
    timestamp: Option<u64>,
    params: ParamsView<'a>,
}

impl<'a> ActionView<'a> {
    /// Checks the payload and reads an `action`.
    ///
    /// # Errors
    /// As [`decode`]; [`CodecError::UnexpectedMessage`] for another method; `clientToken` (non-empty),
    /// `actionId` and `params` are required.
    pub fn new_checked(payload: &'a [u8]) -> Result<Self, CodecError> {
        Self::from_object(parse_object(payload)?)
    }

    fn from_object(obj: Object<'a>) -> Result<Self, CodecError> {
        Self::from_fields(&Fields::collect(obj))
    }

    fn from_fields(f: &Fields<'a>) -> Result<Self, CodecError> {
        f.method(&[Method::Action], "action")?;
        Ok(Self {
            client_token: token(f.client_token)?,
            action_id: string(required(f.action_id, "actionId")?, "actionId")?,
            timestamp: opt_unsigned(f.timestamp, "timestamp")?,
            params: ParamsView::new(object_field(required(f.params, "params")?, "params")?),
        })
    }

    /// The token to echo in the reply.
    pub fn client_token(&self) -> Str<'a> {
        self.client_token
    }

    /// The action's id in the thing model.
    pub fn action_id(&self) -> Str<'a> {
        self.action_id
    }

    /// `timestamp` as sent.
    pub fn timestamp(&self) -> Option<u64> {
        self.timestamp
    }

    /// The action's input parameters.
    pub fn params(&self) -> ParamsView<'a> {
        self.params
    }
}

impl fmt::Debug for ActionView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActionView")
            .field("client_token", &self.client_token)
            .field("action_id", &self.action_id)
            .field("timestamp", &self.timestamp)
            .field("params", &self.params)
            .finish()
    }
}

/// `bind_device` / `unbind_device` on the service topic (protocol.md §4.3): a user bound or removed the device.
/// No reply is needed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ServiceNoticeView<'a> {
    method: Method,
    client_token: Option<Str<'a>>,
    timestamp: Option<u64>,
}

impl<'a> ServiceNoticeView<'a> {
    /// Checks the payload and reads `bind_device` or `unbind_device`.
    ///
    /// # Errors
    /// As [`decode`]; [`CodecError::UnexpectedMessage`] for another method.
    pub fn new_checked(payload: &'a [u8]) -> Result<Self, CodecError> {
        Self::from_object(parse_object(payload)?)
    }

    fn from_object(obj: Object<'a>) -> Result<Self, CodecError> {
        Self::from_fields(&Fields::collect(obj))
    }

    fn from_fields(f: &Fields<'a>) -> Result<Self, CodecError> {
        let method = f.method(
            &[Method::BindDevice, Method::UnbindDevice],
            "bind_device/unbind_device",
        )?;
        Ok(Self {
            method,
            client_token: opt_string(f.client_token, "clientToken")?,
            timestamp: opt_unsigned(f.timestamp, "timestamp")?,
        })
    }

    /// [`Method::BindDevice`] or [`Method::UnbindDevice`].
    pub fn method(&self) -> Method {
        self.method
    }

    /// `clientToken`.
    pub fn client_token(&self) -> Option<Str<'a>> {
        self.client_token
    }

    /// `timestamp` as sent.
    pub fn timestamp(&self) -> Option<u64> {
        self.timestamp
    }
}

/// `alert_fence_event` on the service topic (protocol.md §4.3): a geo-fence alarm. Acknowledge it with
/// [`AlertFenceEventReply`](super::AlertFenceEventReply).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct AlertFenceEventView<'a> {
    client_token: Str<'a>,
    timestamp: Option<u64>,
    data: Object<'a>,
}

impl<'a> AlertFenceEventView<'a> {
    /// Checks the payload and reads an `alert_fence_event`.
    ///
    /// # Errors
    /// As [`decode`]; [`CodecError::UnexpectedMessage`] for another method; `clientToken` and `data` (an object)
    /// are required.
    pub fn new_checked(payload: &'a [u8]) -> Result<Self, CodecError> {
        Self::from_object(parse_object(payload)?)
    }

    fn from_object(obj: Object<'a>) -> Result<Self, CodecError> {
        Self::from_fields(&Fields::collect(obj))
    }

    fn from_fields(f: &Fields<'a>) -> Result<Self, CodecError> {
        f.method(&[Method::AlertFenceEvent], "alert_fence_event")?;
        Ok(Self {
            client_token: token(f.client_token)?,
            timestamp: opt_unsigned(f.timestamp, "timestamp")?,
            data: object_field(required(f.data, "data")?, "data")?,
        })
    }

    /// The token to echo in the reply.
    pub fn client_token(&self) -> Str<'a> {
        self.client_token
    }

    /// `timestamp` (ms) as sent.
    pub fn timestamp(&self) -> Option<u64> {
        self.timestamp
    }

    /// The whole `data` object.
    pub fn data(&self) -> Object<'a> {
        self.data
    }

    /// `data.alert_type`: `In`, `Out` or `InOrOut`.
    pub fn alert_type(&self) -> Option<Str<'a>> {
        self.data.get("alert_type").and_then(|v| v.as_str())
    }

    /// `data.alert_condition`: `In`, `Out` or `InOrOut`.
    pub fn alert_condition(&self) -> Option<Str<'a>> {
        self.data.get("alert_condition").and_then(|v| v.as_str())
    }

    /// `data.alarm_time`.
    pub fn alarm_time(&self) -> Option<u64> {
        self.data.get("alarm_time").and_then(timestamp)
    }

    /// `data.fence_name`.
    pub fn fence_name(&self) -> Option<Str<'a>> {
        self.data.get("fence_name").and_then(|v| v.as_str())
    }

    /// `data.long`: longitude in degrees.
    pub fn longitude(&self) -> Option<f64> {
        self.data.get("long").and_then(|v| v.as_f64())
    }

    /// `data.lat`: latitude in degrees.
    pub fn latitude(&self) -> Option<f64> {
        self.data.get("lat").and_then(|v| v.as_f64())
    }
}

/// The time answer on `$sys/operation/result` (protocol.md §6.2):
/// `{"type":"get","time":…,"ntptime1":…,"ntptime2":…}`.
///
/// ```
/// use iot_core::codec::{decode, Down};
///
/// let Down::Time(t) = decode(br#"{"type":"get","time":1621562342,"ntptime1":1621562342773,"ntptime2":1621562342773}"#)? else {
///     unreachable!()
/// };
/// // Sent at device clock 10_000 ms, answered at 10_120 ms: the answer is 60 ms old.
/// assert_eq!(t.accurate_time_ms(10_000, 10_120), Some(1621562342773 + 60));
/// # Ok::<(), iot_core::codec::CodecError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct TimeView<'a> {
    time_secs: Option<u64>,
    ntp_time1_ms: Option<u64>,
    ntp_time2_ms: Option<u64>,
    object: Object<'a>,
}

impl<'a> TimeView<'a> {
    /// Checks the payload and reads a time answer.
    ///
    /// # Errors
    /// As [`decode`]; [`CodecError::UnexpectedMessage`] unless `type` is `"get"`; [`CodecError::MissingField`]
    /// when neither `time` nor `ntptime1`/`ntptime2` is present.
    pub fn new_checked(payload: &'a [u8]) -> Result<Self, CodecError> {
        Self::from_object(parse_object(payload)?)
    }

    fn from_object(object: Object<'a>) -> Result<Self, CodecError> {
        let (mut kind, mut time, mut ntp1, mut ntp2) = (None, None, None, None);
        for (key, value) in object {
            let slot = match with_plain(key, field_name) {
                Some(Field::Type) => &mut kind,
                Some(Field::Time) => &mut time,
                Some(Field::NtpTime1) => &mut ntp1,
                Some(Field::NtpTime2) => &mut ntp2,
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(value);
            }
        }
        let kind = string(required(kind, "type")?, "type")?;
        if !kind.eq_str("get") {
            return Err(CodecError::UnexpectedMessage { expected: "get" });
        }
        let view = Self {
            time_secs: opt_unsigned(time, "time")?,
            ntp_time1_ms: opt_unsigned(ntp1, "ntptime1")?,
            ntp_time2_ms: opt_unsigned(ntp2, "ntptime2")?,
            object,
        };
        if view.time_secs.is_none() && (view.ntp_time1_ms.is_none() || view.ntp_time2_ms.is_none())
        {
            return Err(CodecError::MissingField { field: "time" });
        }
        Ok(view)
    }

    /// `time`: server time in seconds.
    pub fn time_secs(&self) -> Option<u64> {
        self.time_secs
    }

    /// `ntptime1`: server receive time in ms.
    pub fn ntp_time1_ms(&self) -> Option<u64> {
        self.ntp_time1_ms
    }

    /// `ntptime2`: server send time in ms.
    pub fn ntp_time2_ms(&self) -> Option<u64> {
        self.ntp_time2_ms
    }

    /// The whole message.
    pub fn object(&self) -> Object<'a> {
        self.object
    }

    /// The current Unix time in ms at the moment the answer arrived: [`accurate_time_ms`] when both ntp times are
    /// present, else `time × 1000` as the Hub C SDK falls back to (protocol.md §6.2). `device_send_ms` and
    /// `device_recv_ms` are readings of any device clock in ms (only their difference matters).
    pub fn accurate_time_ms(&self, device_send_ms: u64, device_recv_ms: u64) -> Option<u64> {
        match (self.ntp_time1_ms, self.ntp_time2_ms) {
            (Some(t1), Some(t2)) => Some(accurate_time_ms(t1, t2, device_send_ms, device_recv_ms)),
            _ => self.time_secs.and_then(|s| s.checked_mul(1000)),
        }
    }
}

/// NTP-style time (protocol.md §6.2 step 4): `(ntptime1 + ntptime2 + device_recv − device_send) / 2`, in ms.
///
/// The server's two stamps average to the middle of the round trip; adding half the round trip gives the time at
/// arrival. A receive time before the send time (a clock that went backwards) counts as a zero round trip; the
/// sum never overflows.
///
/// ```
/// use iot_core::codec::accurate_time_ms;
/// assert_eq!(accurate_time_ms(1_000, 1_002, 50, 150), 1_051);
/// assert_eq!(accurate_time_ms(1_000, 1_000, 150, 50), 1_000);
/// ```
pub fn accurate_time_ms(
    ntp_time1_ms: u64,
    ntp_time2_ms: u64,
    device_send_ms: u64,
    device_recv_ms: u64,
) -> u64 {
    let round_trip = device_recv_ms.saturating_sub(device_send_ms);
    let sum = u128::from(ntp_time1_ms) + u128::from(ntp_time2_ms) + u128::from(round_trip);
    u64::try_from(sum / 2).unwrap_or(u64::MAX)
}

/// OTA `report_version_rsp` on `$ota/update` (protocol.md §6.1 step 1). A non-zero `result_code` means the
/// version report was rejected.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ReportVersionRspView<'a> {
    result_code: i64,
    result_msg: Option<Str<'a>>,
    version: Option<Str<'a>>,
}

impl<'a> ReportVersionRspView<'a> {
    /// Checks the payload and reads a `report_version_rsp`.
    ///
    /// # Errors
    /// As [`decode`]; [`CodecError::UnexpectedMessage`] for another `type`; `result_code` is required.
    pub fn new_checked(payload: &'a [u8]) -> Result<Self, CodecError> {
        Self::from_object(parse_object(payload)?)
    }

    fn from_object(object: Object<'a>) -> Result<Self, CodecError> {
        let (mut kind, mut code, mut msg, mut version) = (None, None, None, None);
        for (key, value) in object {
            let slot = match with_plain(key, field_name) {
                Some(Field::Type) => &mut kind,
                Some(Field::ResultCode) => &mut code,
                Some(Field::ResultMsg) => &mut msg,
                Some(Field::Version) => &mut version,
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(value);
            }
        }
        expect_type(kind, "report_version_rsp")?;
        Ok(Self {
            result_code: integer(required(code, "result_code")?, "result_code")?,
            result_msg: opt_string(msg, "result_msg")?,
            version: opt_string(version, "version")?,
        })
    }

    /// `result_code`: `0` on success.
    pub fn result_code(&self) -> i64 {
        self.result_code
    }

    /// Whether `result_code` is `0`.
    pub fn is_success(&self) -> bool {
        self.result_code == 0
    }

    /// `result_msg`.
    pub fn result_msg(&self) -> Option<Str<'a>> {
        self.result_msg
    }

    /// `version`: the version the cloud recorded.
    pub fn version(&self) -> Option<Str<'a>> {
        self.version
    }
}

fn expect_type(kind: Option<Value<'_>>, expected: &'static str) -> Result<(), CodecError> {
    let kind = string(required(kind, "type")?, "type")?;
    if kind.eq_str(expected) {
        Ok(())
    } else {
        Err(CodecError::UnexpectedMessage { expected })
    }
}

/// OTA `update_firmware` on `$ota/update` (protocol.md §6.1 step 2): download `url`, check the MD5, install.
///
/// ```
/// use iot_core::codec::UpdateFirmwareView;
///
/// let u = UpdateFirmwareView::new_checked(
///     br#"{"file_size":1501696,"md5sum":"a15d5deaf37bf6698cf9a21ec672166d","type":"update_firmware","url":"https://x/y","version":"v1.0.1"}"#,
/// )?;
/// assert_eq!(u.file_size(), 1501696);
/// assert_eq!(u.md5()[..2], [0xa1, 0x5d]);
/// assert!(u.user_defined().is_none());
/// # Ok::<(), iot_core::codec::CodecError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct UpdateFirmwareView<'a> {
    url: Str<'a>,
    md5: [u8; 16],
    md5sum: Str<'a>,
    file_size: u64,
    version: Str<'a>,
    user_defined: Option<Str<'a>>,
}

impl<'a> UpdateFirmwareView<'a> {
    /// Checks the payload and reads an `update_firmware`.
    ///
    /// # Errors
    /// As [`decode`]; [`CodecError::UnexpectedMessage`] for another `type`; `url`, `md5sum` (32 hex digits),
    /// `file_size` (number or decimal string) and `version` are required, `url` and `version` non-empty.
    pub fn new_checked(payload: &'a [u8]) -> Result<Self, CodecError> {
        Self::from_object(parse_object(payload)?)
    }

    fn from_object(object: Object<'a>) -> Result<Self, CodecError> {
        let (mut kind, mut url, mut md5sum, mut size, mut version, mut user) =
            (None, None, None, None, None, None);
        for (key, value) in object {
            let slot = match with_plain(key, field_name) {
                Some(Field::Type) => &mut kind,
                Some(Field::Url) => &mut url,
                Some(Field::Md5sum) => &mut md5sum,
                Some(Field::FileSize) => &mut size,
                Some(Field::Version) => &mut version,
                Some(Field::UserDefined) => &mut user,
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(value);
            }
        }
        expect_type(kind, "update_firmware")?;
        let url = non_empty(string(required(url, "url")?, "url")?, "url")?;
        let md5sum = string(required(md5sum, "md5sum")?, "md5sum")?;
        let md5 = parse_md5(md5sum).ok_or(CodecError::InvalidField {
            field: "md5sum",
            problem: "is not 32 hexadecimal digits; the firmware cannot be verified",
        })?;
        Ok(Self {
            url,
            md5,
            md5sum,
            file_size: unsigned(required(size, "file_size")?, "file_size")?,
            version: non_empty(string(required(version, "version")?, "version")?, "version")?,
            user_defined: opt_string(user, "user_defined")?,
        })
    }

    /// `url`: where to download the image (escaped as received; unescape before use).
    pub fn url(&self) -> Str<'a> {
        self.url
    }

    /// `md5sum` as sent.
    pub fn md5sum(&self) -> Str<'a> {
        self.md5sum
    }

    /// The MD5 digest to check the image against.
    pub fn md5(&self) -> [u8; 16] {
        self.md5
    }

    /// `file_size` in bytes.
    pub fn file_size(&self) -> u64 {
        self.file_size
    }

    /// `version`: the target version.
    pub fn version(&self) -> Str<'a> {
        self.version
    }

    /// `user_defined`: free text set in the console (often itself JSON), when present.
    pub fn user_defined(&self) -> Option<Str<'a>> {
        self.user_defined
    }
}

fn non_empty<'a>(s: Str<'a>, field: &'static str) -> Result<Str<'a>, CodecError> {
    if s.raw().is_empty() {
        Err(CodecError::InvalidField {
            field,
            problem: "is empty",
        })
    } else {
        Ok(s)
    }
}

fn parse_md5(s: Str<'_>) -> Option<[u8; 16]> {
    let hex = s.as_plain()?.as_bytes();
    if hex.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    for (byte, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
        let digit = |c: u8| char::from(c).to_digit(16);
        let (hi, lo) = match pair {
            [hi, lo] => (digit(*hi)?, digit(*lo)?),
            _ => return None,
        };
        *byte = u8::try_from(hi << 4 | lo).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_control() {
        let Down::Control(c) = decode(
            br#"{"method":"control","clientToken":"a\"b","params":{"x":1,"s":"q\n","st":{"a":[1,2]}}}"#,
        )
        .unwrap() else {
            panic!()
        };
        assert!(c.client_token().eq_str("a\"b"));
        assert_eq!(c.client_token().raw(), "a\\\"b");
        let p = c.params();
        assert_eq!(p.len(), 3);
        assert_eq!(p.get("x").unwrap().as_i64(), Some(1));
        assert!(p.get("s").unwrap().as_str().unwrap().eq_str("q\n"));
        let st = p.get("st").unwrap().as_struct().unwrap();
        let arr = st.get("a").unwrap().as_array().unwrap();
        assert_eq!(arr.len(), 2);
        assert_eq!(arr.get(1).unwrap().as_i64(), Some(2));
    }

    #[test]
    fn missing_and_wrong_fields_are_named() {
        let cases: [(&[u8], CodecError); 12] = [
            (br#"{}"#, CodecError::MissingField { field: "method" }),
            (br#"[1]"#, CodecError::NotAnObject),
            (br#"{"method":1}"#, CodecError::WrongType { field: "method", expected: "a string" }),
            (br#"{"method":"control","params":{}}"#, CodecError::MissingField { field: "clientToken" }),
            (br#"{"method":"control","clientToken":"t"}"#, CodecError::MissingField { field: "params" }),
            (
                br#"{"method":"control","clientToken":"t","params":[]}"#,
                CodecError::WrongType { field: "params", expected: "an object" },
            ),
            (br#"{"method":"report_reply","clientToken":"t"}"#, CodecError::MissingField { field: "code" }),
            (
                br#"{"method":"report_reply","code":"0"}"#,
                CodecError::WrongType { field: "code", expected: "an integer" },
            ),
            (br#"{"method":"action","clientToken":"t","params":{}}"#, CodecError::MissingField { field: "actionId" }),
            (br#"{"type":"get"}"#, CodecError::MissingField { field: "time" }),
            (br#"{"type":"report_version_rsp"}"#, CodecError::MissingField { field: "result_code" }),
            (
                br#"{"type":"update_firmware","url":"u","md5sum":"zz","file_size":1,"version":"1"}"#,
                CodecError::InvalidField {
                    field: "md5sum",
                    problem: "is not 32 hexadecimal digits; the firmware cannot be verified",
                },
            ),
        ];
        for (payload, expected) in cases {
            assert_eq!(
                decode(payload),
                Err(expected),
                "{}",
                core::str::from_utf8(payload).unwrap()
            );
        }
        assert!(matches!(
            decode(br#"{"method":"control","clientToken":"","params":{}}"#),
            Err(CodecError::InvalidField {
                field: "clientToken",
                ..
            })
        ));
    }

    #[test]
    fn unknown_methods_are_not_errors() {
        let Down::Unknown(m) =
            decode(br#"{"method":"qqmusic_query","clientToken":"t","x":1}"#).unwrap()
        else {
            panic!()
        };
        assert!(m.method_name().unwrap().eq_str("qqmusic_query"));
        assert_eq!(m.method(), None);
        assert_eq!(m.get("x").unwrap().as_i64(), Some(1));
        let Down::Unknown(m) = decode(br#"{"type":"ssh","switch":1}"#).unwrap() else {
            panic!()
        };
        assert!(m.message_type().unwrap().eq_str("ssh"));
        let Down::Unknown(m) =
            decode(br#"{"method":"report","clientToken":"1","params":{}}"#).unwrap()
        else {
            panic!()
        };
        assert_eq!(m.method(), Some(Method::Report));
    }

    #[test]
    fn per_message_views_check_the_method() {
        let reply = br#"{"method":"report_reply","clientToken":"1","code":0}"#;
        assert_eq!(
            ControlView::new_checked(reply),
            Err(CodecError::UnexpectedMessage {
                expected: "control"
            })
        );
        assert!(ReplyView::new_checked(reply).is_ok());
        assert_eq!(
            UpdateFirmwareView::new_checked(br#"{"type":"report_version_rsp","result_code":0}"#),
            Err(CodecError::UnexpectedMessage {
                expected: "update_firmware"
            })
        );
    }

    #[test]
    fn escaped_keys_and_method_names_are_read() {
        let Down::Control(c) =
            decode(br#"{"\u006dethod":"contr\u006fl","client\u0054oken":"t","params":{"a":1}}"#)
                .unwrap()
        else {
            panic!()
        };
        assert!(c.client_token().eq_str("t"));
    }

    #[test]
    fn first_duplicate_wins() {
        let Down::Control(c) =
            decode(br#"{"method":"control","clientToken":"a","clientToken":"b","params":{}}"#)
                .unwrap()
        else {
            panic!()
        };
        assert!(c.client_token().eq_str("a"));
    }

    #[test]
    fn size_limit() {
        let mut big = [b' '; MAX_PAYLOAD_LEN + 1];
        big[0] = b'{';
        big[MAX_PAYLOAD_LEN] = b'}';
        assert_eq!(
            decode(&big),
            Err(CodecError::PayloadTooLarge {
                len: MAX_PAYLOAD_LEN + 1,
                max: MAX_PAYLOAD_LEN
            })
        );
        assert_eq!(
            decode(&big[1..]),
            Err(CodecError::Json(crate::json::JsonError::UnexpectedByte {
                offset: MAX_PAYLOAD_LEN - 1,
                byte: b'}'
            }))
        );
    }

    #[test]
    fn time_falls_back_to_seconds() {
        let Down::Time(t) = decode(br#"{"type":"get","time":1621562342}"#).unwrap() else {
            panic!()
        };
        assert_eq!(t.accurate_time_ms(0, 500), Some(1_621_562_342_000));
        let Down::Time(t) = decode(br#"{"type":"get","time":"18446744073709551615"}"#).unwrap()
        else {
            panic!()
        };
        assert_eq!(t.accurate_time_ms(0, 0), None);
        assert_eq!(accurate_time_ms(u64::MAX, u64::MAX, 0, u64::MAX), u64::MAX);
    }

    #[test]
    fn md5_parses() {
        let s = Value::parse(br#""A15d5deaf37bf6698cf9a21ec672166d""#)
            .unwrap()
            .as_str()
            .unwrap();
        let md5 = parse_md5(s).unwrap();
        assert_eq!(md5[0], 0xa1);
        assert_eq!(md5[15], 0x6d);
        for bad in [
            &br#""a15d""#[..],
            br#""g15d5deaf37bf6698cf9a21ec672166d""#,
            br#""+15d5deaf37bf6698cf9a21ec672166d""#,
        ] {
            let s = Value::parse(bad).unwrap().as_str().unwrap();
            assert_eq!(parse_md5(s), None);
        }
    }
}
