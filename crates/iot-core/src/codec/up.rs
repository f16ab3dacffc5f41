//! Up messages (device → cloud): one struct per message, encoded by [`Encode`](super::Encode).
//!
//! Field order follows the samples in protocol.md §4.3 and §6.1–6.2 (and `shared/vectors/messages.json`), so
//! encoded messages read like the documentation's.

use super::out::Out;
use super::params::{is_identifier, write_params, Param};
use super::private::Sealed;
use super::{ClientToken, CodecError, Encode, ReplyCode};

/// `{"method":"<name>","clientToken":` as one constant.
macro_rules! head {
    ($method:literal) => {
        concat!("{\"method\":\"", $method, "\",\"clientToken\":").as_bytes()
    };
}

/// Writes a `clientToken` value: device text escaped, a received token verbatim (protocol.md §10.7).
#[inline(always)]
fn write_token(out: &mut Out<'_>, token: &ClientToken<'_>) -> Result<(), CodecError> {
    if token.is_empty() {
        return Err(CodecError::EmptyClientToken);
    }
    match token {
        ClientToken::Text(text) => out.string(text),
        ClientToken::Received(s) => out.put(s.quoted().as_bytes()),
    }
    Ok(())
}

/// Writes `"<field>":"<escaped text>"` after checking the text is not empty.
fn write_required_str(
    out: &mut Out<'_>,
    key: &[u8],
    text: &str,
    field: &'static str,
) -> Result<(), CodecError> {
    if text.is_empty() {
        return Err(CodecError::InvalidField {
            field,
            problem: "is empty; it is required",
        });
    }
    out.put(key);
    out.string(text);
    Ok(())
}

/// Writes `,"code":<code>[,"status":"<status>"]}`.
fn write_code_status(out: &mut Out<'_>, code: ReplyCode, status: Option<&str>) {
    out.put(b",\"code\":");
    out.i64(code.as_i64());
    if let Some(status) = status {
        out.put(b",\"status\":");
        out.string(status);
    }
}

fn write_id(
    out: &mut Out<'_>,
    key: &[u8],
    id: &str,
    field: &'static str,
) -> Result<(), CodecError> {
    if !is_identifier(id) {
        return Err(CodecError::InvalidIdentifier { field });
    }
    out.put(key);
    out.byte(b'"');
    out.put(id.as_bytes());
    out.byte(b'"');
    Ok(())
}

macro_rules! encode_impl {
    ($($t:ident),*) => {$(
        impl Encode for $t<'_> {}
    )*};
}

/// `report`: property values (protocol.md §4.3). Sent on `$thing/up/property`, answered by `report_reply`.
///
/// ```
/// use iot_core::codec::{Encode, ParamValue, Report};
///
/// let params = [("power_switch", ParamValue::Bool(true)), ("brightness", ParamValue::Int(32))];
/// let report = Report { client_token: "123".into(), timestamp_ms: Some(1628646783000), params: &params };
/// let mut buf = [0u8; 128];
/// let n = report.encode(&mut buf)?;
/// assert_eq!(
///     &buf[..n],
///     br#"{"method":"report","clientToken":"123","timestamp":1628646783000,"params":{"power_switch":1,"brightness":32}}"#
/// );
/// # Ok::<(), iot_core::codec::CodecError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Report<'a> {
    /// Pairs the report with its `report_reply`.
    pub client_token: ClientToken<'a>,
    /// Milliseconds since the Unix epoch; without it the server uses its own clock (protocol.md §4.2).
    pub timestamp_ms: Option<u64>,
    /// Property ids and values.
    pub params: &'a [Param<'a>],
}

impl Sealed for Report<'_> {
    #[inline]
    fn write(&self, out: &mut Out<'_>) -> Result<(), CodecError> {
        out.put(head!("report"));
        write_token(out, &self.client_token)?;
        if let Some(ms) = self.timestamp_ms {
            out.put(b",\"timestamp\":");
            out.u64(ms);
        }
        out.put(b",\"params\":");
        write_params(out, self.params, "params", 0)?;
        out.byte(b'}');
        Ok(())
    }
}

/// `control_reply`: the device's answer to a `control` (protocol.md §4.3). Echo the control's token:
/// `client_token: control.client_token().into()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ControlReply<'a> {
    /// The token of the `control` being answered.
    pub client_token: ClientToken<'a>,
    /// `0` when the values were applied.
    pub code: ReplyCode,
    /// Optional message; the C SDK omits it when empty.
    pub status: Option<&'a str>,
}

impl Sealed for ControlReply<'_> {
    fn write(&self, out: &mut Out<'_>) -> Result<(), CodecError> {
        out.put(head!("control_reply"));
        write_token(out, &self.client_token)?;
        write_code_status(out, self.code, self.status);
        out.byte(b'}');
        Ok(())
    }
}

/// `get_status`: asks for the latest reported state and any pending control (protocol.md §4.3).
///
/// `status_type` (`"type"` on the wire, documented value `"report"`) and `show_meta` are optional; the C SDK
/// sends neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GetStatus<'a> {
    /// Pairs the request with its `get_status_reply` (and later `clear_control`).
    pub client_token: ClientToken<'a>,
    /// `"type"`: which state to return, `"report"`.
    pub status_type: Option<&'a str>,
    /// `"showmeta"`: include metadata (`1`) or not (`0`).
    pub show_meta: Option<bool>,
}

impl Sealed for GetStatus<'_> {
    fn write(&self, out: &mut Out<'_>) -> Result<(), CodecError> {
        out.put(head!("get_status"));
        write_token(out, &self.client_token)?;
        if let Some(t) = self.status_type {
            write_required_str(out, b",\"type\":", t, "type")?;
        }
        if let Some(show) = self.show_meta {
            out.put(b",\"showmeta\":");
            out.byte(if show { b'1' } else { b'0' });
        }
        out.byte(b'}');
        Ok(())
    }
}

/// `clear_control`: drops the pending control after it was applied, with the `get_status_reply`'s token
/// (protocol.md §4.3, §11.10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClearControl<'a> {
    /// The token of the `get_status_reply` whose control was applied.
    pub client_token: ClientToken<'a>,
}

impl Sealed for ClearControl<'_> {
    fn write(&self, out: &mut Out<'_>) -> Result<(), CodecError> {
        out.put(head!("clear_control"));
        write_token(out, &self.client_token)?;
        out.byte(b'}');
        Ok(())
    }
}

/// `get_model_define`: asks for the thing model (V4 C SDK only, protocol.md §4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GetModelDefine<'a> {
    /// Pairs the request with its reply.
    pub client_token: ClientToken<'a>,
}

impl Sealed for GetModelDefine<'_> {
    fn write(&self, out: &mut Out<'_>) -> Result<(), CodecError> {
        out.put(head!("get_model_define"));
        write_token(out, &self.client_token)?;
        out.byte(b'}');
        Ok(())
    }
}

/// `report_info`: device basic information (protocol.md §4.3).
///
/// `fw_ver` is required; `module_hardinfo` and `module_softinfo` are required when a communication module is
/// present; the rest are optional. Strings are sent as given (`lat`/`lon` are strings on the wire).
///
/// ```
/// use iot_core::codec::{Encode, ReportInfo};
///
/// let info = ReportInfo {
///     fw_ver: "3.1.9",
///     device_label: &[("append_info", "rack 4")],
///     ..ReportInfo::new("L4WG9V9M2M-0".into(), "3.1.9")
/// };
/// let mut buf = [0u8; 160];
/// let n = info.encode(&mut buf)?;
/// assert_eq!(
///     &buf[..n],
///     br#"{"method":"report_info","clientToken":"L4WG9V9M2M-0","params":{"fw_ver":"3.1.9","device_label":{"append_info":"rack 4"}}}"#
/// );
/// # Ok::<(), iot_core::codec::CodecError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportInfo<'a> {
    /// Pairs the message with its `report_info_reply`.
    pub client_token: ClientToken<'a>,
    /// Communication module hardware, e.g. `"ESP8266"`.
    pub module_hardinfo: Option<&'a str>,
    /// Communication module firmware, e.g. `"V1.0"`.
    pub module_softinfo: Option<&'a str>,
    /// Device firmware version (required).
    pub fw_ver: &'a str,
    /// IMEI.
    pub imei: Option<&'a str>,
    /// MAC address.
    pub mac: Option<&'a str>,
    /// Latitude, as a decimal string.
    pub lat: Option<&'a str>,
    /// Longitude, as a decimal string.
    pub lon: Option<&'a str>,
    /// Device name.
    pub name: Option<&'a str>,
    /// Free key/value pairs, sent as `device_label` when not empty.
    pub device_label: &'a [(&'a str, &'a str)],
}

impl<'a> ReportInfo<'a> {
    /// The required fields only.
    pub fn new(client_token: ClientToken<'a>, fw_ver: &'a str) -> Self {
        Self {
            client_token,
            module_hardinfo: None,
            module_softinfo: None,
            fw_ver,
            imei: None,
            mac: None,
            lat: None,
            lon: None,
            name: None,
            device_label: &[],
        }
    }
}

impl Sealed for ReportInfo<'_> {
    fn write(&self, out: &mut Out<'_>) -> Result<(), CodecError> {
        out.put(head!("report_info"));
        write_token(out, &self.client_token)?;
        out.put(b",\"params\":{");
        let mut first = true;
        let mut field = |out: &mut Out<'_>, key: &str, value: Option<&str>| {
            if let Some(v) = value {
                if !first {
                    out.byte(b',');
                }
                first = false;
                out.byte(b'"');
                out.put(key.as_bytes());
                out.put(b"\":");
                out.string(v);
            }
        };
        field(out, "module_hardinfo", self.module_hardinfo);
        field(out, "module_softinfo", self.module_softinfo);
        if self.fw_ver.is_empty() {
            return Err(CodecError::InvalidField {
                field: "fw_ver",
                problem: "is empty; it is required",
            });
        }
        field(out, "fw_ver", Some(self.fw_ver));
        field(out, "imei", self.imei);
        field(out, "lat", self.lat);
        field(out, "lon", self.lon);
        field(out, "mac", self.mac);
        field(out, "name", self.name);
        if !self.device_label.is_empty() {
            out.put(b",\"device_label\":");
            let mut sep = b'{';
            for (key, value) in self.device_label {
                if key.is_empty() {
                    return Err(CodecError::InvalidField {
                        field: "device_label",
                        problem: "has an empty key; give every label a name",
                    });
                }
                out.byte(sep);
                sep = b',';
                out.string(key);
                out.byte(b':');
                out.string(value);
            }
            out.byte(b'}');
        }
        out.put(b"}}");
        Ok(())
    }
}

/// An event's `type` (protocol.md §4.3 `event_post`, §5 "Event").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum EventType {
    /// `info`
    Info,
    /// `alert`
    Alert,
    /// `fault`
    Fault,
}

impl EventType {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Alert => "alert",
            Self::Fault => "fault",
        }
    }

    /// The type named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "info" => Some(Self::Info),
            "alert" => Some(Self::Alert),
            "fault" => Some(Self::Fault),
            _ => None,
        }
    }
}

/// One event: the body of `event_post`, or an element of `events_post`'s `events`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Event<'a> {
    /// The event's id in the thing model.
    pub event_id: &'a str,
    /// Must match the thing model's type for the event.
    pub event_type: EventType,
    /// Milliseconds since the Unix epoch (protocol.md §4.2); the C SDK always sends it.
    pub timestamp_ms: Option<u64>,
    /// The event's parameters.
    pub params: &'a [Param<'a>],
}

impl Event<'_> {
    /// Writes `"eventId":…,"type":…[,"timestamp":…],"params":{…}` (no braces).
    fn write_fields(&self, out: &mut Out<'_>) -> Result<(), CodecError> {
        write_id(out, b"\"eventId\":", self.event_id, "eventId")?;
        out.put(b",\"type\":\"");
        out.put(self.event_type.as_str().as_bytes());
        out.byte(b'"');
        if let Some(ms) = self.timestamp_ms {
            out.put(b",\"timestamp\":");
            out.u64(ms);
        }
        out.put(b",\"params\":");
        write_params(out, self.params, "params", 0)
    }
}

/// `event_post`: one event, flat (protocol.md §4.3, §11.11). Sent on `$thing/up/event` (`QoS` 1 in the C SDK),
/// answered by `event_reply`.
///
/// ```
/// use iot_core::codec::{Encode, Event, EventPost, EventType, ParamValue};
///
/// let params = [("Voltage", ParamValue::Float(2.8)), ("Percent", ParamValue::Int(20))];
/// let post = EventPost {
///     client_token: "123".into(),
///     version: Some("1.0"),
///     event: Event { event_id: "PowerAlarm", event_type: EventType::Fault, timestamp_ms: Some(1212121221000), params: &params },
/// };
/// let mut buf = [0u8; 192];
/// let n = post.encode(&mut buf)?;
/// assert_eq!(
///     &buf[..n],
///     br#"{"method":"event_post","clientToken":"123","version":"1.0","eventId":"PowerAlarm","type":"fault","timestamp":1212121221000,"params":{"Voltage":2.8,"Percent":20}}"#
/// );
/// # Ok::<(), iot_core::codec::CodecError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EventPost<'a> {
    /// Pairs the post with its `event_reply`.
    pub client_token: ClientToken<'a>,
    /// Protocol version; defaults to `"1.0"` when absent (the C SDK omits it).
    pub version: Option<&'a str>,
    /// The event.
    pub event: Event<'a>,
}

impl Sealed for EventPost<'_> {
    fn write(&self, out: &mut Out<'_>) -> Result<(), CodecError> {
        out.put(head!("event_post"));
        write_token(out, &self.client_token)?;
        if let Some(version) = self.version {
            write_required_str(out, b",\"version\":", version, "version")?;
        }
        out.byte(b',');
        self.event.write_fields(out)?;
        out.byte(b'}');
        Ok(())
    }
}

/// `events_post`: several events in one message (protocol.md §4.3, §11.11), answered by `events_reply`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EventsPost<'a> {
    /// Pairs the post with its `events_reply`.
    pub client_token: ClientToken<'a>,
    /// At least one event.
    pub events: &'a [Event<'a>],
}

impl Sealed for EventsPost<'_> {
    fn write(&self, out: &mut Out<'_>) -> Result<(), CodecError> {
        if self.events.is_empty() {
            return Err(CodecError::InvalidField {
                field: "events",
                problem: "is empty; send at least one event",
            });
        }
        out.put(head!("events_post"));
        write_token(out, &self.client_token)?;
        out.put(b",\"events\":");
        let mut sep = b'[';
        for event in self.events {
            out.byte(sep);
            sep = b',';
            out.byte(b'{');
            event.write_fields(out)?;
            out.byte(b'}');
        }
        out.put(b"]}");
        Ok(())
    }
}

/// `action_reply`: the result of an `action`, with the action's token echoed verbatim and its output
/// parameters in `response` (protocol.md §4.3). Sent on `$thing/up/action` (`QoS` 1 in the C SDK).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ActionReply<'a> {
    /// The token of the `action` being answered.
    pub client_token: ClientToken<'a>,
    /// `0` on success; the C SDK sends `-1` ([`ReplyCode::DEVICE_FAILURE`]) on failure.
    pub code: ReplyCode,
    /// Optional message.
    pub status: Option<&'a str>,
    /// The action's output parameters (`{}` when there are none).
    pub response: &'a [Param<'a>],
}

impl Sealed for ActionReply<'_> {
    fn write(&self, out: &mut Out<'_>) -> Result<(), CodecError> {
        out.put(head!("action_reply"));
        write_token(out, &self.client_token)?;
        write_code_status(out, self.code, self.status);
        out.put(b",\"response\":");
        write_params(out, self.response, "response", 0)?;
        out.byte(b'}');
        Ok(())
    }
}

/// `unbind_device_request`: the device asks to be unbound from its user (service topic, protocol.md §4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnbindDeviceRequest<'a> {
    /// Pairs the request with `unbind_device_reply`.
    pub client_token: ClientToken<'a>,
    /// The device's name.
    pub device_name: &'a str,
    /// The device's product id.
    pub product_id: &'a str,
}

impl Sealed for UnbindDeviceRequest<'_> {
    fn write(&self, out: &mut Out<'_>) -> Result<(), CodecError> {
        out.put(head!("unbind_device_request"));
        write_token(out, &self.client_token)?;
        write_required_str(out, b",\"deviceName\":", self.device_name, "deviceName")?;
        write_required_str(out, b",\"productId\":", self.product_id, "productId")?;
        out.byte(b'}');
        Ok(())
    }
}

/// `alert_fence_event_reply`: acknowledges a geo-fence alarm (service topic, protocol.md §4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlertFenceEventReply<'a> {
    /// The token of the `alert_fence_event`.
    pub client_token: ClientToken<'a>,
    /// Milliseconds since the Unix epoch.
    pub timestamp_ms: Option<u64>,
    /// `0` on success.
    pub code: ReplyCode,
    /// Optional message.
    pub status: Option<&'a str>,
}

impl Sealed for AlertFenceEventReply<'_> {
    fn write(&self, out: &mut Out<'_>) -> Result<(), CodecError> {
        out.put(head!("alert_fence_event_reply"));
        write_token(out, &self.client_token)?;
        if let Some(ms) = self.timestamp_ms {
            out.put(b",\"timestamp\":");
            out.u64(ms);
        }
        write_code_status(out, self.code, self.status);
        out.byte(b'}');
        Ok(())
    }
}

encode_impl!(
    Report,
    ControlReply,
    GetStatus,
    ClearControl,
    GetModelDefine,
    ReportInfo,
    EventPost,
    EventsPost,
    ActionReply,
    UnbindDeviceRequest,
    AlertFenceEventReply,
    ReportVersion,
    ReportProgress
);

/// The time request on `$sys/operation` (protocol.md §6.2): `{"type":"get","resource":["time"]}`. Record the
/// device's send time, then feed the answer ([`TimeView`](super::TimeView)) to
/// [`accurate_time_ms`](super::accurate_time_ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TimeRequest;

impl Sealed for TimeRequest {
    fn write(&self, out: &mut Out<'_>) -> Result<(), CodecError> {
        out.put(br#"{"type":"get","resource":["time"]}"#);
        Ok(())
    }
}

impl Encode for TimeRequest {}

/// OTA `report_version` on `$ota/report` (protocol.md §6.1 step 1), answered by `report_version_rsp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportVersion<'a> {
    /// The running firmware version.
    pub version: &'a str,
}

impl Sealed for ReportVersion<'_> {
    fn write(&self, out: &mut Out<'_>) -> Result<(), CodecError> {
        write_required_str(
            out,
            br#"{"type":"report_version","report":{"version":"#,
            self.version,
            "version",
        )?;
        out.put(b"}}");
        Ok(())
    }
}

/// OTA progress `state` (protocol.md §6.1 steps 3–4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum OtaState {
    /// `downloading`, reported about once a second with a percentage.
    Downloading,
    /// `burning`: about to write the image.
    Burning,
    /// `done`: the upgrade succeeded.
    Done,
    /// `fail`, with a negative [`OtaResultCode`].
    Fail,
}

impl OtaState {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Downloading => "downloading",
            Self::Burning => "burning",
            Self::Done => "done",
            Self::Fail => "fail",
        }
    }
}

/// OTA `result_code` (protocol.md §6.1 step 4; the C SDK's `IOT_OTAReportType`). Sent as a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct OtaResultCode(pub i32);

impl OtaResultCode {
    /// `0`: no error.
    pub const SUCCESS: Self = Self(0);
    /// `-1`: download timed out.
    pub const DOWNLOAD_TIMEOUT: Self = Self(-1);
    /// `-2`: firmware file not found.
    pub const FILE_NOT_FOUND: Self = Self(-2);
    /// `-3`: download signature expired (authentication failed).
    pub const AUTH_FAIL: Self = Self(-3);
    /// `-4`: MD5 mismatch.
    pub const MD5_MISMATCH: Self = Self(-4);
    /// `-5`: flashing the update failed.
    pub const UPDATE_FAILED: Self = Self(-5);
}

/// OTA `report_progress` on `$ota/report` (protocol.md §6.1 steps 3–4). `percent` and `result_code` are sent as
/// strings, as the C SDK does.
///
/// ```
/// use iot_core::codec::{Encode, OtaResultCode, OtaState, ReportProgress};
///
/// let progress = ReportProgress {
///     state: OtaState::Downloading,
///     percent: Some(31),
///     result_code: OtaResultCode::SUCCESS,
///     result_msg: "",
///     version: "1.3.0",
/// };
/// let mut buf = [0u8; 160];
/// let n = progress.encode(&mut buf)?;
/// assert_eq!(
///     &buf[..n],
///     br#"{"type":"report_progress","report":{"progress":{"state":"downloading","percent":"31","result_code":"0","result_msg":""},"version":"1.3.0"}}"#
/// );
/// # Ok::<(), iot_core::codec::CodecError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportProgress<'a> {
    /// Where the upgrade stands.
    pub state: OtaState,
    /// Download progress, 0–100; the C SDK sends it while downloading only.
    pub percent: Option<u8>,
    /// `0`, or the failure reason with [`OtaState::Fail`].
    pub result_code: OtaResultCode,
    /// Free text; the C SDK sends `""`, or `"time_out"` on every failure.
    pub result_msg: &'a str,
    /// The version being installed.
    pub version: &'a str,
}

impl Sealed for ReportProgress<'_> {
    fn write(&self, out: &mut Out<'_>) -> Result<(), CodecError> {
        out.put(br#"{"type":"report_progress","report":{"progress":{"state":""#);
        out.put(self.state.as_str().as_bytes());
        out.byte(b'"');
        if let Some(percent) = self.percent {
            if percent > 100 {
                return Err(CodecError::InvalidField {
                    field: "percent",
                    problem: "is above 100; report a percentage",
                });
            }
            out.put(b",\"percent\":\"");
            out.i64(i64::from(percent));
            out.byte(b'"');
        }
        out.put(b",\"result_code\":\"");
        out.i64(i64::from(self.result_code.0));
        out.put(b"\",\"result_msg\":");
        out.string(self.result_msg);
        write_required_str(out, b"},\"version\":", self.version, "version")?;
        out.put(b"}}");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::super::ParamValue;
    use super::*;
    use crate::json::Value;
    use std::vec;

    fn encode(m: &impl Encode) -> Result<heapless::String<512>, CodecError> {
        let mut buf = [0u8; 512];
        let n = m.encode(&mut buf)?;
        assert_eq!(m.encoded_len(), Ok(n));
        let mut s = heapless::String::new();
        s.push_str(core::str::from_utf8(&buf[..n]).unwrap())
            .unwrap();
        Ok(s)
    }

    #[test]
    fn seed_report_is_byte_exact() {
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
            params: &params,
        };
        const SEED: &str = r#"{"method":"report","clientToken":"123","params":{"MQ2":30,"MQ135":95,"MQ4":30,"MQ7":20,"DHT11_T":14,"DHT11_H":70}}"#;
        assert_eq!(encode(&report).unwrap(), SEED);
        let mut short = [0u8; 40];
        assert_eq!(
            report.encode(&mut short),
            Err(CodecError::BufferTooSmall {
                needed: SEED.len(),
                capacity: 40
            })
        );
        let mut exact = [0u8; SEED.len()];
        assert_eq!(report.encode(&mut exact), Ok(SEED.len()));
    }

    #[test]
    fn tokens_are_escaped_or_echoed() {
        let reply = |token| ControlReply {
            client_token: token,
            code: ReplyCode::Success,
            status: Some("ok \"done\""),
        };
        assert_eq!(
            encode(&reply("a\"b".into())).unwrap(),
            r#"{"method":"control_reply","clientToken":"a\"b","code":0,"status":"ok \"done\""}"#
        );
        let received = Value::parse(br#""x\u0041::1""#).unwrap().as_str().unwrap();
        assert_eq!(
            encode(&reply(received.into())).unwrap(),
            r#"{"method":"control_reply","clientToken":"x\u0041::1","code":0,"status":"ok \"done\""}"#
        );
        assert_eq!(encode(&reply("".into())), Err(CodecError::EmptyClientToken));
        let empty = Value::parse(br#""""#).unwrap().as_str().unwrap();
        assert_eq!(
            encode(&reply(empty.into())),
            Err(CodecError::EmptyClientToken)
        );
    }

    #[test]
    fn rejects_invalid_input() {
        let nan = [("t", ParamValue::Float(f64::NAN))];
        let report = Report {
            client_token: "1".into(),
            timestamp_ms: None,
            params: &nan,
        };
        assert_eq!(encode(&report), Err(CodecError::NonFiniteFloat));
        let event = Event {
            event_id: "bad id",
            event_type: EventType::Info,
            timestamp_ms: None,
            params: &[],
        };
        let post = EventPost {
            client_token: "1".into(),
            version: None,
            event,
        };
        assert_eq!(
            encode(&post),
            Err(CodecError::InvalidIdentifier { field: "eventId" })
        );
        let posts = EventsPost {
            client_token: "1".into(),
            events: &[],
        };
        assert!(matches!(
            encode(&posts),
            Err(CodecError::InvalidField {
                field: "events",
                ..
            })
        ));
        let progress = ReportProgress {
            state: OtaState::Downloading,
            percent: Some(101),
            result_code: OtaResultCode::SUCCESS,
            result_msg: "",
            version: "1",
        };
        assert!(matches!(
            encode(&progress),
            Err(CodecError::InvalidField {
                field: "percent",
                ..
            })
        ));
        assert!(matches!(
            encode(&ReportVersion { version: "" }),
            Err(CodecError::InvalidField {
                field: "version",
                ..
            })
        ));
        assert!(matches!(
            encode(&ReportInfo::new("1".into(), "")),
            Err(CodecError::InvalidField {
                field: "fw_ver",
                ..
            })
        ));
        let bad_response = [("x y", ParamValue::Int(1))];
        let reply = ActionReply {
            client_token: "1".into(),
            code: ReplyCode::Success,
            status: None,
            response: &bad_response,
        };
        assert_eq!(
            encode(&reply),
            Err(CodecError::InvalidIdentifier { field: "response" })
        );
    }

    #[test]
    fn payload_limit_is_enforced() {
        let big = "x".repeat(super::super::MAX_PAYLOAD_LEN);
        let params = [("blob", ParamValue::String(&big))];
        let report = Report {
            client_token: "1".into(),
            timestamp_ms: None,
            params: &params,
        };
        let len = big.len() + r#"{"method":"report","clientToken":"1","params":{"blob":""}}"#.len();
        assert_eq!(
            report.encoded_len(),
            Err(CodecError::PayloadTooLarge {
                len,
                max: super::super::MAX_PAYLOAD_LEN
            })
        );
        let mut buf = vec![0u8; len];
        assert!(matches!(
            report.encode(&mut buf),
            Err(CodecError::PayloadTooLarge { .. })
        ));
    }
}
