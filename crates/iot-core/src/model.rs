//! Thing models (物模型): the console-export JSON, read in place, and validation of values against it.
//!
//! A product's thing model (protocol.md §5) lists its properties, events and actions with their data types. The
//! device needs it to answer `control` with the right reply code, and the hub needs it to answer `report`; both use
//! this one validator so that they cannot drift.
//!
//! # No allocation
//!
//! [`ThingModel::parse`] checks the whole export once (JSON grammar, every definition's type, limits and
//! mappings) and then keeps only views into the text. Firmware can therefore hold its model as a `&'static str`
//! from `include_str!` and validate on a microcontroller without a heap or fixed capacities. Lookups walk the text;
//! for the models the console allows (≤ 100 properties and events, protocol.md §3.5) that is a few microseconds.
//!
//! # Leniency
//!
//! Console exports write numeric limits as strings (`"min":"0"`); plain numbers are accepted too. Unknown keys
//! are ignored. `required` and `desc` may be missing. `mode` must be present on properties.
//!
//! # Reply codes
//!
//! Checks return a [`Rejection`] whose [`Rejection::code`] is the protocol's reply code (protocol.md §4.4): 403 for
//! an identifier that is not in the model or a control of a read-only property, 406 for a value of the wrong type
//! or out of range.
//!
//! ```
//! use iot_core::{json::Value, model::ThingModel};
//!
//! let model = ThingModel::parse(include_str!("../../../models/env-monitor.json")).unwrap();
//! let params = Value::parse(br#"{"report_interval":10,"alarm_enabled":1}"#).unwrap();
//! assert!(model.check_control(params.as_object().unwrap()).is_ok());
//!
//! let params = Value::parse(br#"{"MQ2":10}"#).unwrap();
//! let rejection = model.check_control(params.as_object().unwrap()).unwrap_err();
//! assert_eq!(rejection.code(), 403); // MQ2 is read-only
//! ```

use core::fmt;

use crate::json::{Array, JsonError, Object, Str, Value, ValueKind};

/// How deeply struct and array definitions may nest inside each other. The console allows a struct inside an array
/// (protocol.md §5: `arrayInfo.type = "struct"`), i.e. depth 2; the bound leaves room and keeps checks' recursion
/// fixed.
const MAX_TYPE_DEPTH: usize = 4;

/// Why a thing-model export was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ModelError {
    /// The text is not JSON.
    #[error("thing model is not valid JSON: {0}")]
    Json(#[from] JsonError),
    /// The top level is not an object.
    #[error("thing model must be a JSON object with `properties`, `events` and `actions`")]
    NotAnObject,
    /// A section (`properties`, `events`, `actions`, `params`, `input`, `output`, `specs`) is not an array.
    #[error("`{section}` must be an array in the thing model")]
    SectionNotArray {
        /// The section's key.
        section: &'static str,
    },
    /// An entry lacks a required key or has it with the wrong JSON type.
    #[error(
        "entry {index} of `{section}` has no valid `{key}`; re-export the model from the console"
    )]
    MissingKey {
        /// The section holding the entry.
        section: &'static str,
        /// Position in that section.
        index: usize,
        /// The missing key.
        key: &'static str,
    },
    /// An identifier is empty, too long or holds characters the protocol does not use.
    #[error("entry {index} of `{section}` has an invalid id; ids are 1-32 ASCII letters, digits and `_`")]
    BadId {
        /// The section holding the entry.
        section: &'static str,
        /// Position in that section.
        index: usize,
    },
    /// Two entries of one section share an id.
    #[error("entry {index} of `{section}` repeats an id used earlier in the same section")]
    DuplicateId {
        /// The section holding the entry.
        section: &'static str,
        /// Position of the second entry.
        index: usize,
    },
    /// `mode` is neither `r` nor `rw`.
    #[error("property {index} has `mode` other than \"r\" or \"rw\"")]
    BadMode {
        /// Position in `properties`.
        index: usize,
    },
    /// An event's `type` is not `info`, `alert` or `fault`.
    #[error("event {index} has `type` other than \"info\", \"alert\" or \"fault\"")]
    BadEventType {
        /// Position in `events`.
        index: usize,
    },
    /// A data type this implementation does not know.
    #[error("entry {index} of `{section}` has an unknown data type; known: bool, int, float, enum, string, timestamp, stringenum, struct, array")]
    UnknownType {
        /// The section holding the entry.
        section: &'static str,
        /// Position in that section.
        index: usize,
    },
    /// `min`, `max`, `start` or `step` is not a number (or a string holding one), or `min > max`.
    #[error("entry {index} of `{section}` has a bad `{key}` limit (must be a number, min <= max)")]
    BadLimit {
        /// The section holding the entry.
        section: &'static str,
        /// Position in that section.
        index: usize,
        /// The offending key.
        key: &'static str,
    },
    /// An enum mapping whose keys are not integers, or a missing mapping.
    #[error("entry {index} of `{section}` has a bad `mapping` (enum keys must be integers)")]
    BadMapping {
        /// The section holding the entry.
        section: &'static str,
        /// Position in that section.
        index: usize,
    },
    /// Struct or array definitions nest too deeply.
    #[error("entry {index} of `{section}` nests struct/array types too deeply")]
    TooDeep {
        /// The section holding the entry.
        section: &'static str,
        /// Position in that section.
        index: usize,
    },
}

/// The data types of protocol.md §5.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum TypeKind {
    /// `bool`: 0/1 on the wire.
    Bool,
    /// `int`, with `min`/`max`.
    Int,
    /// `float`, with `min`/`max`.
    Float,
    /// `enum`: an integer key of `mapping`.
    Enum,
    /// `string`, with a length range.
    String,
    /// `timestamp`: milliseconds, as a number or a string of digits.
    Timestamp,
    /// `stringenum`: a string key of `mapping`.
    StringEnum,
    /// `struct`: an object whose members are the `specs`.
    Struct,
    /// `array`: elements of one `arrayInfo` type.
    Array,
}

impl TypeKind {
    /// Parses the wire name.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "bool" => Self::Bool,
            "int" => Self::Int,
            "float" => Self::Float,
            "enum" => Self::Enum,
            "string" => Self::String,
            "timestamp" => Self::Timestamp,
            "stringenum" => Self::StringEnum,
            "struct" => Self::Struct,
            "array" => Self::Array,
            _ => return None,
        })
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bool => "bool",
            Self::Int => "int",
            Self::Float => "float",
            Self::Enum => "enum",
            Self::String => "string",
            Self::Timestamp => "timestamp",
            Self::StringEnum => "stringenum",
            Self::Struct => "struct",
            Self::Array => "array",
        }
    }
}

impl fmt::Display for TypeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Property access mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Mode {
    /// `r`: reported by the device only.
    ReadOnly,
    /// `rw`: also controllable from the cloud.
    ReadWrite,
}

/// Event severity, as in `event_post` (protocol.md §4.3); the same type the codec encodes.
pub use crate::codec::EventType;

/// A parsed thing model: views into the export's text, checked once by [`ThingModel::parse`].
#[derive(Clone, Copy, Debug)]
pub struct ThingModel<'a> {
    root: Object<'a>,
    properties: Option<Array<'a>>,
    events: Option<Array<'a>>,
    actions: Option<Array<'a>>,
}

/// A data-type definition (`define`, a struct member's `dataType`, or an array's `arrayInfo`).
#[derive(Clone, Copy, Debug)]
pub struct TypeDef<'a> {
    kind: TypeKind,
    def: Object<'a>,
}

/// One property of the model.
#[derive(Clone, Copy, Debug)]
pub struct Property<'a> {
    id: &'a str,
    mode: Mode,
    required: bool,
    ty: TypeDef<'a>,
    entry: Object<'a>,
}

/// One event of the model.
#[derive(Clone, Copy, Debug)]
pub struct Event<'a> {
    id: &'a str,
    event_type: EventType,
    params: Option<Array<'a>>,
    entry: Object<'a>,
}

/// One action of the model.
#[derive(Clone, Copy, Debug)]
pub struct Action<'a> {
    id: &'a str,
    input: Option<Array<'a>>,
    output: Option<Array<'a>>,
    entry: Object<'a>,
}

/// A named, typed parameter: an event parameter, an action input or output, or a struct member.
#[derive(Clone, Copy, Debug)]
pub struct Param<'a> {
    id: &'a str,
    ty: TypeDef<'a>,
}

// ---------------------------------------------------------------------------------------------------------------
// Parsing

impl<'a> ThingModel<'a> {
    /// Reads and checks a console export.
    ///
    /// # Errors
    /// [`ModelError`] naming the section, entry and key that is wrong.
    pub fn parse(text: &'a str) -> Result<Self, ModelError> {
        let root = Value::parse_str(text)?
            .as_object()
            .ok_or(ModelError::NotAnObject)?;
        let model = ThingModel {
            root,
            properties: section(root, "properties")?,
            events: section(root, "events")?,
            actions: section(root, "actions")?,
        };
        model.check_definitions()?;
        Ok(model)
    }

    fn check_definitions(&self) -> Result<(), ModelError> {
        for (index, entry) in entries(self.properties).enumerate() {
            let s = "properties";
            let entry = entry.as_object().ok_or(missing(s, index, "id"))?;
            let id = entry_id(entry, s, index)?;
            parse_mode(entry, index)?;
            let define = entry.get("define").and_then(|d| d.as_object());
            let define = define.ok_or(missing(s, index, "define"))?;
            check_type(define, s, index, 0)?;
            if self.properties().take(index).any(|p| p.id == id) {
                return Err(ModelError::DuplicateId { section: s, index });
            }
        }
        for (index, entry) in entries(self.events).enumerate() {
            let s = "events";
            let entry = entry.as_object().ok_or(missing(s, index, "id"))?;
            let id = entry_id(entry, s, index)?;
            let ty = entry.get("type").and_then(|t| t.as_str());
            let ty = ty.ok_or(missing(s, index, "type"))?;
            EventType::parse(ty.raw()).ok_or(ModelError::BadEventType { index })?;
            check_params(section(entry, "params")?, "params")?;
            if self.events().take(index).any(|e| e.id == id) {
                return Err(ModelError::DuplicateId { section: s, index });
            }
        }
        for (index, entry) in entries(self.actions).enumerate() {
            let s = "actions";
            let entry = entry.as_object().ok_or(missing(s, index, "id"))?;
            let id = entry_id(entry, s, index)?;
            check_params(section(entry, "input")?, "input")?;
            check_params(section(entry, "output")?, "output")?;
            if self.actions().take(index).any(|a| a.id == id) {
                return Err(ModelError::DuplicateId { section: s, index });
            }
        }
        Ok(())
    }

    /// `profile.ProductId`, when the export carries one.
    pub fn product_id(&self) -> Option<&'a str> {
        let profile = self.root.get("profile")?.as_object()?;
        profile.get("ProductId")?.as_str()?.as_plain()
    }

    /// The properties, in model order.
    pub fn properties(&self) -> impl Iterator<Item = Property<'a>> + 'a {
        entries(self.properties).filter_map(|v| Property::from_entry(v.as_object()?))
    }

    /// The events, in model order.
    pub fn events(&self) -> impl Iterator<Item = Event<'a>> + 'a {
        entries(self.events).filter_map(|v| Event::from_entry(v.as_object()?))
    }

    /// The actions, in model order.
    pub fn actions(&self) -> impl Iterator<Item = Action<'a>> + 'a {
        entries(self.actions).filter_map(|v| Action::from_entry(v.as_object()?))
    }

    /// The property `id`.
    pub fn property(&self, id: &str) -> Option<Property<'a>> {
        self.properties().find(|p| p.id == id)
    }

    /// The event `id`.
    pub fn event(&self, id: &str) -> Option<Event<'a>> {
        self.events().find(|e| e.id == id)
    }

    /// The action `id`.
    pub fn action(&self, id: &str) -> Option<Action<'a>> {
        self.actions().find(|a| a.id == id)
    }
}

fn entries<'a>(array: Option<Array<'a>>) -> impl Iterator<Item = Value<'a>> + 'a {
    array.into_iter().flat_map(|a| a.iter())
}

/// A section that may be absent (`[]` then) but, when present, is an array.
fn section<'a>(obj: Object<'a>, key: &'static str) -> Result<Option<Array<'a>>, ModelError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(a)) => Ok(Some(a)),
        Some(_) => Err(ModelError::SectionNotArray { section: key }),
    }
}

fn missing(section: &'static str, index: usize, key: &'static str) -> ModelError {
    ModelError::MissingKey {
        section,
        index,
        key,
    }
}

/// Identifiers on the console are letters, digits and underscores, at most 32 characters.
fn valid_id(id: &str) -> bool {
    (1..=32).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn entry_id<'a>(
    entry: Object<'a>,
    section: &'static str,
    index: usize,
) -> Result<&'a str, ModelError> {
    let id = entry.get("id").and_then(|v| v.as_str());
    let id = id.ok_or(missing(section, index, "id"))?;
    match id.as_plain() {
        Some(id) if valid_id(id) => Ok(id),
        _ => Err(ModelError::BadId { section, index }),
    }
}

fn parse_mode(entry: Object<'_>, index: usize) -> Result<Mode, ModelError> {
    let mode = entry.get("mode").and_then(|m| m.as_str());
    match mode.map(|m| m.raw()) {
        Some("r") => Ok(Mode::ReadOnly),
        Some("rw") => Ok(Mode::ReadWrite),
        Some(_) => Err(ModelError::BadMode { index }),
        None => Err(missing("properties", index, "mode")),
    }
}

fn check_params(params: Option<Array<'_>>, s: &'static str) -> Result<(), ModelError> {
    for (index, entry) in entries(params).enumerate() {
        let entry = entry.as_object().ok_or(missing(s, index, "id"))?;
        let id = entry_id(entry, s, index)?;
        let define = entry.get("define").and_then(|d| d.as_object());
        check_type(define.ok_or(missing(s, index, "define"))?, s, index, 0)?;
        let earlier = entries(params).take(index);
        if earlier
            .filter_map(|v| v.as_object()?.get("id")?.as_str())
            .any(|e| e.eq_str(id))
        {
            return Err(ModelError::DuplicateId { section: s, index });
        }
    }
    Ok(())
}

/// A numeric limit: a number, or a string holding one (console exports use strings). Empty strings count as
/// absent, as some exports leave `step` or `unit`-like fields blank.
fn limit(def: Object<'_>, key: &str) -> Result<Option<f64>, ()> {
    match def.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_f64().map(Some).ok_or(()),
        Some(Value::String(s)) => {
            let text = s.as_plain().ok_or(())?.trim();
            if text.is_empty() {
                Ok(None)
            } else {
                crate::float::parse_f64(text).map(Some).ok_or(())
            }
        }
        Some(_) => Err(()),
    }
}

fn type_kind(def: Object<'_>) -> Option<TypeKind> {
    TypeKind::parse(def.get("type")?.as_str()?.as_plain()?)
}

fn check_type(
    def: Object<'_>,
    s: &'static str,
    index: usize,
    depth: usize,
) -> Result<(), ModelError> {
    if depth > MAX_TYPE_DEPTH {
        return Err(ModelError::TooDeep { section: s, index });
    }
    let kind = type_kind(def).ok_or(ModelError::UnknownType { section: s, index })?;
    let bad = |key| ModelError::BadLimit {
        section: s,
        index,
        key,
    };
    match kind {
        TypeKind::Int | TypeKind::Float | TypeKind::String => {
            let min = limit(def, "min").map_err(|()| bad("min"))?;
            let max = limit(def, "max").map_err(|()| bad("max"))?;
            limit(def, "start").map_err(|()| bad("start"))?;
            limit(def, "step").map_err(|()| bad("step"))?;
            if let (Some(min), Some(max)) = (min, max) {
                if min > max {
                    return Err(bad("min"));
                }
            }
            if kind == TypeKind::String && min.is_some_and(|m| m < 0.0) {
                return Err(bad("min"));
            }
        }
        TypeKind::Enum | TypeKind::StringEnum => {
            let mapping = def.get("mapping").and_then(|m| m.as_object());
            let mapping = mapping.ok_or(ModelError::BadMapping { section: s, index })?;
            if kind == TypeKind::Enum
                && mapping.iter().any(|(k, _)| k.raw().parse::<i64>().is_err())
            {
                return Err(ModelError::BadMapping { section: s, index });
            }
        }
        TypeKind::Struct => {
            let specs = section(def, "specs")?;
            for (i, spec) in entries(specs).enumerate() {
                let spec = spec.as_object().ok_or(missing("specs", i, "id"))?;
                entry_id(spec, "specs", i)?;
                let dt = spec.get("dataType").and_then(|d| d.as_object());
                check_type(
                    dt.ok_or(missing("specs", i, "dataType"))?,
                    s,
                    index,
                    depth + 1,
                )?;
            }
        }
        TypeKind::Array => {
            let info = def.get("arrayInfo").and_then(|d| d.as_object());
            let info = info.ok_or(missing(s, index, "arrayInfo"))?;
            check_type(info, s, index, depth + 1)?;
        }
        TypeKind::Bool | TypeKind::Timestamp => {}
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------------------------
// Accessors

impl<'a> TypeDef<'a> {
    fn from_def(def: Object<'a>) -> Option<Self> {
        Some(TypeDef {
            kind: type_kind(def)?,
            def,
        })
    }

    /// The data type.
    pub fn kind(&self) -> TypeKind {
        self.kind
    }

    /// The definition object as it appears in the export.
    pub fn definition(&self) -> Object<'a> {
        self.def
    }

    /// `min`, for int, float and string (length) types.
    pub fn min(&self) -> Option<f64> {
        limit(self.def, "min").ok().flatten()
    }

    /// `max`, for int, float and string (length) types.
    pub fn max(&self) -> Option<f64> {
        limit(self.def, "max").ok().flatten()
    }

    /// `start`, the default value of int and float types.
    pub fn start(&self) -> Option<f64> {
        limit(self.def, "start").ok().flatten()
    }

    /// `unit`, when given.
    pub fn unit(&self) -> Option<Str<'a>> {
        self.def.get("unit")?.as_str()
    }

    /// `mapping` of enum, stringenum and bool types.
    pub fn mapping(&self) -> Option<Object<'a>> {
        self.def.get("mapping")?.as_object()
    }

    /// The members of a struct type.
    pub fn members(&self) -> impl Iterator<Item = Param<'a>> + 'a {
        let specs = self.def.get("specs").and_then(|s| s.as_array());
        entries(specs).filter_map(|v| {
            let spec = v.as_object()?;
            Some(Param {
                id: spec.get("id")?.as_str()?.as_plain()?,
                ty: TypeDef::from_def(spec.get("dataType")?.as_object()?)?,
            })
        })
    }

    /// The element type of an array type.
    pub fn element(&self) -> Option<Self> {
        TypeDef::from_def(self.def.get("arrayInfo")?.as_object()?)
    }

    /// Checks `value` against this type.
    ///
    /// # Errors
    /// The [`Violation`] found; its reply code is 406 except for unknown struct members.
    pub fn check(&self, value: Value<'_>) -> Result<(), Violation> {
        self.check_at(value, 0)
    }

    fn check_at(&self, value: Value<'_>, depth: usize) -> Result<(), Violation> {
        let wrong = || Violation::WrongType {
            expected: self.kind,
            found: value.kind(),
        };
        match self.kind {
            TypeKind::Bool => value.as_bool().map(drop).ok_or_else(wrong),
            TypeKind::Int => {
                let v = value.as_number().ok_or_else(wrong)?;
                let v = v.as_i64().ok_or(Violation::NotAnInteger)?;
                // i64 → f64 loses precision only beyond 2^53, far past any console limit.
                #[allow(clippy::cast_precision_loss)]
                self.in_range(v as f64)
            }
            TypeKind::Float => {
                let v = value.as_number().ok_or_else(wrong)?;
                self.in_range(v.as_f64().ok_or(Violation::OutOfRange)?)
            }
            TypeKind::Enum => {
                let v = value.as_number().ok_or_else(wrong)?;
                let v = v.as_i64().ok_or(Violation::NotAnInteger)?;
                let mapping = self.mapping().ok_or(Violation::NotInMapping)?;
                if mapping.iter().any(|(k, _)| k.raw().parse::<i64>() == Ok(v)) {
                    Ok(())
                } else {
                    Err(Violation::NotInMapping)
                }
            }
            TypeKind::StringEnum => {
                let v = value.as_str().ok_or_else(wrong)?;
                let mapping = self.mapping().ok_or(Violation::NotInMapping)?;
                if mapping.iter().any(|(k, _)| v.chars().eq(k.chars())) {
                    Ok(())
                } else {
                    Err(Violation::NotInMapping)
                }
            }
            TypeKind::String => {
                let v = value.as_str().ok_or_else(wrong)?;
                let len = v.char_count();
                #[allow(clippy::cast_precision_loss)]
                let lenf = len as f64;
                let too_short = self.min().is_some_and(|m| lenf < m);
                let too_long = self.max().is_some_and(|m| lenf > m);
                if too_short || too_long {
                    Err(Violation::BadLength { length: len })
                } else {
                    Ok(())
                }
            }
            TypeKind::Timestamp => match value {
                Value::Number(n) if n.as_u64().is_some() => Ok(()),
                Value::Number(_) => Err(Violation::NotAnInteger),
                // protocol.md §10.5: the console calls the time type a "string UTC ms" value.
                Value::String(s) => {
                    let digits = s.as_plain().ok_or(Violation::NotAnInteger)?;
                    if !digits.is_empty()
                        && digits.len() <= 20
                        && digits.bytes().all(|b| b.is_ascii_digit())
                    {
                        Ok(())
                    } else {
                        Err(Violation::NotAnInteger)
                    }
                }
                _ => Err(wrong()),
            },
            TypeKind::Struct => {
                if depth >= MAX_TYPE_DEPTH {
                    return Err(Violation::TooDeep);
                }
                let obj = value.as_object().ok_or_else(wrong)?;
                for (key, member) in obj.iter() {
                    let spec = self.members().find(|m| key.eq_str(m.id));
                    let spec = spec.ok_or(Violation::UnknownMember)?;
                    spec.ty.check_at(member, depth + 1)?;
                }
                Ok(())
            }
            TypeKind::Array => {
                if depth >= MAX_TYPE_DEPTH {
                    return Err(Violation::TooDeep);
                }
                let arr = value.as_array().ok_or_else(wrong)?;
                let element = self.element().ok_or_else(wrong)?;
                for item in arr.iter() {
                    element.check_at(item, depth + 1)?;
                }
                Ok(())
            }
        }
    }

    fn in_range(&self, v: f64) -> Result<(), Violation> {
        let below = self.min().is_some_and(|m| v < m);
        let above = self.max().is_some_and(|m| v > m);
        if below || above {
            Err(Violation::OutOfRange)
        } else {
            Ok(())
        }
    }
}

impl<'a> Property<'a> {
    fn from_entry(entry: Object<'a>) -> Option<Self> {
        let mode = match entry.get("mode")?.as_str()?.raw() {
            "r" => Mode::ReadOnly,
            "rw" => Mode::ReadWrite,
            _ => return None,
        };
        Some(Property {
            id: entry.get("id")?.as_str()?.as_plain()?,
            mode,
            required: entry
                .get("required")
                .and_then(|r| r.as_bool())
                .unwrap_or(false),
            ty: TypeDef::from_def(entry.get("define")?.as_object()?)?,
            entry,
        })
    }

    /// The identifier, as used in `params`.
    pub fn id(&self) -> &'a str {
        self.id
    }

    /// The display name.
    pub fn name(&self) -> Option<Str<'a>> {
        self.entry.get("name")?.as_str()
    }

    /// Read-only or read-write.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Whether the model marks it required.
    pub fn required(&self) -> bool {
        self.required
    }

    /// Its data type.
    pub fn data_type(&self) -> TypeDef<'a> {
        self.ty
    }
}

impl<'a> Event<'a> {
    fn from_entry(entry: Object<'a>) -> Option<Self> {
        Some(Event {
            id: entry.get("id")?.as_str()?.as_plain()?,
            event_type: EventType::parse(entry.get("type")?.as_str()?.raw())?,
            params: entry.get("params").and_then(|p| p.as_array()),
            entry,
        })
    }

    /// The identifier, as sent in `eventId`.
    pub fn id(&self) -> &'a str {
        self.id
    }

    /// The display name.
    pub fn name(&self) -> Option<Str<'a>> {
        self.entry.get("name")?.as_str()
    }

    /// Its severity, sent as `type`.
    pub fn event_type(&self) -> EventType {
        self.event_type
    }

    /// Its parameters.
    pub fn params(&self) -> impl Iterator<Item = Param<'a>> + 'a {
        params_of(self.params)
    }
}

impl<'a> Action<'a> {
    fn from_entry(entry: Object<'a>) -> Option<Self> {
        Some(Action {
            id: entry.get("id")?.as_str()?.as_plain()?,
            input: entry.get("input").and_then(|p| p.as_array()),
            output: entry.get("output").and_then(|p| p.as_array()),
            entry,
        })
    }

    /// The identifier, as sent in `actionId`.
    pub fn id(&self) -> &'a str {
        self.id
    }

    /// The display name.
    pub fn name(&self) -> Option<Str<'a>> {
        self.entry.get("name")?.as_str()
    }

    /// Input parameters (the `action`'s `params`).
    pub fn input(&self) -> impl Iterator<Item = Param<'a>> + 'a {
        params_of(self.input)
    }

    /// Output parameters (the `action_reply`'s `response`).
    pub fn output(&self) -> impl Iterator<Item = Param<'a>> + 'a {
        params_of(self.output)
    }
}

fn params_of<'a>(array: Option<Array<'a>>) -> impl Iterator<Item = Param<'a>> + 'a {
    entries(array).filter_map(|v| {
        let entry = v.as_object()?;
        Some(Param {
            id: entry.get("id")?.as_str()?.as_plain()?,
            ty: TypeDef::from_def(entry.get("define")?.as_object()?)?,
        })
    })
}

impl<'a> Param<'a> {
    /// The identifier.
    pub fn id(&self) -> &'a str {
        self.id
    }

    /// Its data type.
    pub fn data_type(&self) -> TypeDef<'a> {
        self.ty
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Validation of messages

/// What is wrong with one value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Violation {
    /// The identifier is not in the model (property, event, action or parameter).
    UnknownId,
    /// A control of a read-only property.
    ReadOnly,
    /// The event's `type` differs from the model's.
    EventTypeMismatch,
    /// The JSON type does not fit the data type.
    WrongType {
        /// What the model says.
        expected: TypeKind,
        /// What was sent.
        found: ValueKind,
    },
    /// A number with a fraction or exponent, or too large, where an integer is expected.
    NotAnInteger,
    /// Outside `min`..`max`.
    OutOfRange,
    /// A string whose length (in characters) is outside the model's `min`..`max`.
    BadLength {
        /// The string's length in characters.
        length: usize,
    },
    /// An enum or stringenum value that is not a key of `mapping`.
    NotInMapping,
    /// A struct member that the model does not define.
    UnknownMember,
    /// Values nest deeper than any model allows.
    TooDeep,
}

impl Violation {
    /// The reply code (protocol.md §4.4): 403 for unknown identifiers and read-only properties, 406 for values.
    pub fn code(&self) -> u16 {
        match self {
            Self::UnknownId | Self::ReadOnly => 403,
            _ => 406,
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownId => f.write_str("identifier is not defined in the thing model"),
            Self::ReadOnly => {
                f.write_str("property is read-only (mode \"r\") and cannot be controlled")
            }
            Self::EventTypeMismatch => f.write_str("event type differs from the thing model"),
            Self::WrongType { expected, found } => {
                write!(f, "expected {expected}, got {found}")
            }
            Self::NotAnInteger => f.write_str("expected an integer"),
            Self::OutOfRange => f.write_str("value is outside the thing model's min..max"),
            Self::BadLength { length } => {
                write!(
                    f,
                    "string length {length} is outside the thing model's min..max"
                )
            }
            Self::NotInMapping => f.write_str("value is not one of the thing model's mapping keys"),
            Self::UnknownMember => f.write_str("struct member is not defined in the thing model"),
            Self::TooDeep => f.write_str("value nests too deeply"),
        }
    }
}

/// A refused message: which identifier, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rejection<'m> {
    /// The offending identifier as it appears in the message, escapes included (a property, parameter, event or
    /// action id).
    pub id: &'m str,
    /// What is wrong.
    pub violation: Violation,
}

impl Rejection<'_> {
    /// The protocol reply code (403 or 406).
    pub fn code(&self) -> u16 {
        self.violation.code()
    }
}

impl fmt::Display for Rejection<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`: {}", self.id, self.violation)
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for Rejection<'_> {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "`{=str}`: {}", self.id, self.violation)
    }
}

fn reject(id: Str<'_>, violation: Violation) -> Rejection<'_> {
    Rejection {
        id: id.raw(),
        violation,
    }
}

fn reject_id(id: &str, violation: Violation) -> Rejection<'_> {
    Rejection { id, violation }
}

fn check_against<'m>(defined: Option<Array<'_>>, params: Object<'m>) -> Result<(), Rejection<'m>> {
    for (id, value) in params.iter() {
        let param = params_of(defined).find(|p| id.eq_str(p.id));
        let param = param.ok_or(reject(id, Violation::UnknownId))?;
        param.ty.check(value).map_err(|v| reject(id, v))?;
    }
    Ok(())
}

impl ThingModel<'_> {
    /// Checks the value of one property (as in `report`).
    ///
    /// # Errors
    /// [`Rejection`] with code 403 for an unknown id, 406 for a bad value.
    pub fn check_property<'m>(&self, id: &'m str, value: Value<'_>) -> Result<(), Rejection<'m>> {
        let property = self
            .property(id)
            .ok_or(reject_id(id, Violation::UnknownId))?;
        property.ty.check(value).map_err(|v| reject_id(id, v))
    }

    /// Checks the `params` of a `report` (protocol.md §4.3): every id must be a property; read-only ones included.
    ///
    /// # Errors
    /// The first [`Rejection`] found, in message order.
    pub fn check_report<'m>(&self, params: Object<'m>) -> Result<(), Rejection<'m>> {
        for (id, value) in params.iter() {
            let property = self.properties().find(|p| id.eq_str(p.id));
            let property = property.ok_or(reject(id, Violation::UnknownId))?;
            property.ty.check(value).map_err(|v| reject(id, v))?;
        }
        Ok(())
    }

    /// Checks the `params` of a `control` (protocol.md §4.3): like a report, and only `rw` properties may be set.
    ///
    /// # Errors
    /// The first [`Rejection`] found, in message order.
    pub fn check_control<'m>(&self, params: Object<'m>) -> Result<(), Rejection<'m>> {
        for (id, value) in params.iter() {
            let property = self.properties().find(|p| id.eq_str(p.id));
            let property = property.ok_or(reject(id, Violation::UnknownId))?;
            if property.mode != Mode::ReadWrite {
                return Err(reject(id, Violation::ReadOnly));
            }
            property.ty.check(value).map_err(|v| reject(id, v))?;
        }
        Ok(())
    }

    /// Checks an event post: the event must exist, its `type` (when sent) must match, and every parameter must be
    /// defined and valid.
    ///
    /// # Errors
    /// The first [`Rejection`] found.
    pub fn check_event<'m>(
        &self,
        event_id: &'m str,
        event_type: Option<&str>,
        params: Object<'m>,
    ) -> Result<(), Rejection<'m>> {
        let event = self
            .event(event_id)
            .ok_or(reject_id(event_id, Violation::UnknownId))?;
        if event_type.is_some_and(|t| t != event.event_type.as_str()) {
            return Err(reject_id(event_id, Violation::EventTypeMismatch));
        }
        check_against(event.params, params)
    }

    /// Checks an `action`'s `params` against the action's input definition.
    ///
    /// # Errors
    /// The first [`Rejection`] found.
    pub fn check_action_input<'m>(
        &self,
        action_id: &'m str,
        params: Object<'m>,
    ) -> Result<(), Rejection<'m>> {
        let action = self
            .action(action_id)
            .ok_or(reject_id(action_id, Violation::UnknownId))?;
        check_against(action.input, params)
    }

    /// Checks an `action_reply`'s `response` against the action's output definition.
    ///
    /// # Errors
    /// The first [`Rejection`] found.
    pub fn check_action_output<'m>(
        &self,
        action_id: &'m str,
        response: Object<'m>,
    ) -> Result<(), Rejection<'m>> {
        let action = self
            .action(action_id)
            .ok_or(reject_id(action_id, Violation::UnknownId))?;
        check_against(action.output, response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENV: &str = include_str!("../../../models/env-monitor.json");

    fn obj(text: &str) -> Object<'_> {
        Value::parse_str(text).unwrap().as_object().unwrap()
    }

    #[test]
    fn reads_env_monitor() {
        let m = ThingModel::parse(ENV).unwrap();
        assert_eq!(m.product_id(), Some("CS0SLTKSYA"));
        assert_eq!(m.properties().count(), 9);
        assert_eq!(m.events().count(), 2);
        assert_eq!(m.actions().count(), 1);
        let p = m.property("report_interval").unwrap();
        assert_eq!(p.mode(), Mode::ReadWrite);
        assert_eq!(p.data_type().kind(), TypeKind::Int);
        assert_eq!(p.data_type().min(), Some(1.0));
        assert_eq!(p.data_type().max(), Some(3600.0));
        assert_eq!(p.data_type().start(), Some(5.0));
        assert_eq!(m.event("gas_alarm").unwrap().event_type(), EventType::Alert);
        let outputs: heapless::Vec<&str, 4> = m
            .action("calibrate")
            .unwrap()
            .output()
            .map(|p| p.id())
            .collect();
        assert_eq!(outputs.as_slice(), ["r0", "result"]);
    }

    #[test]
    fn codes() {
        let m = ThingModel::parse(ENV).unwrap();
        assert!(m
            .check_report(obj(r#"{"MQ2":30,"DHT11_T":-20,"DHT11_H":100}"#))
            .is_ok());
        let r = m.check_report(obj(r#"{"MQ2":30,"MQ9":1}"#)).unwrap_err();
        assert_eq!((r.id, r.code()), ("MQ9", 403));
        let r = m.check_report(obj(r#"{"DHT11_H":150}"#)).unwrap_err();
        assert_eq!((r.id, r.violation), ("DHT11_H", Violation::OutOfRange));
        assert_eq!(r.code(), 406);
        let r = m.check_report(obj(r#"{"MQ2":"30"}"#)).unwrap_err();
        assert_eq!(r.code(), 406);
        let r = m.check_report(obj(r#"{"MQ2":30.5}"#)).unwrap_err();
        assert_eq!(r.violation, Violation::NotAnInteger);
        let r = m.check_control(obj(r#"{"alarm_enabled":2}"#)).unwrap_err();
        assert_eq!(r.code(), 406);
        assert!(m.check_control(obj(r#"{"alarm_enabled":true}"#)).is_ok());
        let r = m.check_control(obj(r#"{"DHT11_T":3}"#)).unwrap_err();
        assert_eq!((r.violation, r.code()), (Violation::ReadOnly, 403));
    }

    #[test]
    fn events_and_actions() {
        let m = ThingModel::parse(ENV).unwrap();
        let p = obj(r#"{"sensor":"MQ2","value":1250,"threshold":1000}"#);
        assert!(m.check_event("gas_alarm", Some("alert"), p).is_ok());
        let r = m.check_event("gas_alarm", Some("info"), p).unwrap_err();
        assert_eq!(r.violation, Violation::EventTypeMismatch);
        assert_eq!(m.check_event("nope", None, p).unwrap_err().code(), 403);
        let r = m
            .check_event("gas_alarm", None, obj(r#"{"sensor":"DHT11"}"#))
            .unwrap_err();
        assert_eq!(r.violation, Violation::NotInMapping);
        assert!(m
            .check_event("sensor_fault", None, obj(r#"{"sensor":"DHT11"}"#))
            .is_ok());
        assert!(m
            .check_action_input("calibrate", obj(r#"{"sensor":"MQ135"}"#))
            .is_ok());
        assert_eq!(
            m.check_action_input("calibrate", obj(r#"{"x":1}"#))
                .unwrap_err()
                .code(),
            403
        );
        assert!(m
            .check_action_output("calibrate", obj(r#"{"r0":9.83,"result":0}"#))
            .is_ok());
        let r = m
            .check_action_output("calibrate", obj(r#"{"result":2}"#))
            .unwrap_err();
        assert_eq!(r.violation, Violation::NotInMapping);
    }

    #[test]
    fn refuses_bad_models() {
        let cases: &[(&str, ModelError)] = &[
            ("[]", ModelError::NotAnObject),
            (
                r#"{"properties":{}}"#,
                ModelError::SectionNotArray {
                    section: "properties",
                },
            ),
            (
                r#"{"properties":[{"mode":"r","define":{"type":"int"}}]}"#,
                missing("properties", 0, "id"),
            ),
            (
                r#"{"properties":[{"id":"a b","mode":"r","define":{"type":"int"}}]}"#,
                ModelError::BadId {
                    section: "properties",
                    index: 0,
                },
            ),
            (
                r#"{"properties":[{"id":"a","mode":"x","define":{"type":"int"}}]}"#,
                ModelError::BadMode { index: 0 },
            ),
            (
                r#"{"properties":[{"id":"a","mode":"r","define":{"type":"double"}}]}"#,
                ModelError::UnknownType {
                    section: "properties",
                    index: 0,
                },
            ),
            (
                r#"{"properties":[{"id":"a","mode":"r","define":{"type":"int","min":"5","max":"1"}}]}"#,
                ModelError::BadLimit {
                    section: "properties",
                    index: 0,
                    key: "min",
                },
            ),
            (
                r#"{"properties":[{"id":"a","mode":"r","define":{"type":"int","max":"x"}}]}"#,
                ModelError::BadLimit {
                    section: "properties",
                    index: 0,
                    key: "max",
                },
            ),
            (
                r#"{"properties":[{"id":"a","mode":"r","define":{"type":"enum","mapping":{"x":"y"}}}]}"#,
                ModelError::BadMapping {
                    section: "properties",
                    index: 0,
                },
            ),
            (
                r#"{"properties":[{"id":"a","mode":"r","define":{"type":"int"}},{"id":"a","mode":"r","define":{"type":"int"}}]}"#,
                ModelError::DuplicateId {
                    section: "properties",
                    index: 1,
                },
            ),
            (
                r#"{"events":[{"id":"e","type":"boom"}]}"#,
                ModelError::BadEventType { index: 0 },
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(ThingModel::parse(text).unwrap_err(), *expected, "{text}");
        }
        assert!(matches!(ThingModel::parse("{"), Err(ModelError::Json(_))));
    }

    #[test]
    fn numbers_as_numbers_are_accepted() {
        let m = ThingModel::parse(r#"{"properties":[{"id":"a","mode":"rw","define":{"type":"float","min":-1.5,"max":2}}],"unknown":1}"#)
            .unwrap();
        assert!(m.check_control(obj(r#"{"a":2}"#)).is_ok());
        assert_eq!(
            m.check_control(obj(r#"{"a":2.01}"#)).unwrap_err().violation,
            Violation::OutOfRange
        );
    }
}
