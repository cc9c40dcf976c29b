//! The `.api.json` model the generator works on: files, messages, types, fields and services, parsed from
//! `serde_json::Value` with an error naming the file and the entry for anything unexpected.
//!
//! This module deliberately keeps only what code generation needs (no comments, counters or paths) and does not
//! resolve type references across files; [`super::plan`] does that.

use crate::error::Error;
use serde_json::Value;
use std::collections::BTreeMap;

/// How a field repeats.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Repeat {
    /// A single value.
    One,
    /// `N` values (`N` bytes for a fixed string).
    Fixed(usize),
    /// A variable-length array whose count is the earlier field named here.
    Counted(String),
    /// A `string name[]`: u32 length and bytes.
    VarString,
}

/// One field of a message, struct or union.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The `.api.json` type: `u32`, `string`, `vl_api_prefix_t`, ...
    pub ty: String,
    pub name: String,
    pub repeat: Repeat,
    /// The JSON `default` option, if any.
    pub default: Option<Value>,
}

/// A message, struct (`types`) or union: a name and fields.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub name: String,
    pub fields: Vec<Field>,
    /// For messages: the CRC as 8 lowercase hex digits, without `0x`.
    pub crc: Option<String>,
}

/// An enum or enumflag.
#[derive(Debug, Clone, PartialEq)]
pub struct EnumDef {
    pub name: String,
    /// `u8`, `u16` or `u32`.
    pub repr: String,
    pub members: Vec<(String, u64)>,
    pub flags: bool,
}

/// An alias: a name for another type, possibly as a fixed array.
#[derive(Debug, Clone, PartialEq)]
pub struct AliasDef {
    pub name: String,
    pub ty: String,
    pub length: Option<usize>,
}

/// A service entry: which message answers a request.
#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    pub request: String,
    /// `None` when the JSON says `"null"` (no reply at all).
    pub reply: Option<String>,
    pub stream: bool,
    pub stream_msg: Option<String>,
    pub events: Vec<String>,
}

/// One parsed `.api.json` file.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiFile {
    /// Path relative to the release folder, e.g. `core/interface.api.json`.
    pub path: String,
    /// The module name, i.e. the file name without `.api.json`.
    pub module: String,
    /// `vl_api_version`, e.g. `0x49616418`.
    pub version_crc: String,
    pub messages: Vec<Record>,
    pub structs: Vec<Record>,
    pub unions: Vec<Record>,
    pub enums: Vec<EnumDef>,
    pub aliases: Vec<AliasDef>,
    pub services: Vec<Service>,
}

fn bad(path: &str, what: impl Into<String>) -> Error {
    Error::Generate {
        path: path.to_string(),
        reason: what.into(),
    }
}

fn as_str<'a>(path: &str, v: &'a Value, what: &str) -> Result<&'a str, Error> {
    v.as_str()
        .ok_or_else(|| bad(path, format!("{what} is not a string")))
}

fn as_array<'a>(path: &str, v: &'a Value, what: &str) -> Result<&'a [Value], Error> {
    v.as_array()
        .map(Vec::as_slice)
        .ok_or_else(|| bad(path, format!("{what} is not a list")))
}

fn parse_field(path: &str, owner: &str, v: &[Value]) -> Result<Field, Error> {
    let what = format!("field of {owner}");
    let ty = as_str(path, v.first().unwrap_or(&Value::Null), &what)?.to_string();
    let name = as_str(path, v.get(1).unwrap_or(&Value::Null), &what)?.to_string();
    let mut rest: Vec<&Value> = v[2.min(v.len())..].iter().collect();
    let mut default = None;
    if let Some(Value::Object(opts)) = rest.last() {
        default = opts.get("default").cloned();
        rest.pop();
    }
    let repeat = match rest.as_slice() {
        [] => Repeat::One,
        [n] | [n, Value::Null] => {
            let n = n
                .as_u64()
                .ok_or_else(|| bad(path, format!("{owner}.{name}: array size is not a number")))?;
            match (n, ty.as_str()) {
                (0, "string") => Repeat::VarString,
                (0, _) => {
                    return Err(bad(
                        path,
                        format!("{owner}.{name}: legacy rest-of-message arrays are not supported"),
                    ));
                }
                (n, _) => Repeat::Fixed(n as usize),
            }
        }
        [_, count] => Repeat::Counted(as_str(path, count, &what)?.to_string()),
        _ => return Err(bad(path, format!("{owner}.{name}: unexpected field shape"))),
    };
    Ok(Field {
        ty,
        name,
        repeat,
        default,
    })
}

fn parse_record(path: &str, v: &Value, is_message: bool) -> Result<Record, Error> {
    let items = as_array(path, v, "entry")?;
    let name = as_str(path, items.first().unwrap_or(&Value::Null), "entry name")?.to_string();
    let mut fields = Vec::new();
    let mut crc = None;
    for item in &items[1..] {
        match item {
            Value::Array(f) => fields.push(parse_field(path, &name, f)?),
            Value::Object(o) => {
                if let Some(c) = o.get("crc") {
                    let c = as_str(path, c, "crc")?;
                    let hex = c.strip_prefix("0x").unwrap_or(c);
                    crc = Some(format!("{:0>8}", hex.to_ascii_lowercase()));
                }
            }
            _ => return Err(bad(path, format!("{name}: unexpected entry item"))),
        }
    }
    if is_message && crc.is_none() {
        return Err(bad(path, format!("message {name} has no crc")));
    }
    Ok(Record { name, fields, crc })
}

fn parse_enum(path: &str, v: &Value, flags: bool) -> Result<EnumDef, Error> {
    let items = as_array(path, v, "enum")?;
    let name = as_str(path, items.first().unwrap_or(&Value::Null), "enum name")?.to_string();
    let mut members = Vec::new();
    let mut repr = "u32".to_string();
    for item in &items[1..] {
        match item {
            Value::Array(m) => {
                let id = as_str(path, m.first().unwrap_or(&Value::Null), "enum member")?;
                let val = m
                    .get(1)
                    .and_then(Value::as_u64)
                    .ok_or_else(|| bad(path, format!("{name}.{id}: value is not a number")))?;
                members.push((id.to_string(), val));
            }
            Value::Object(o) => {
                if let Some(t) = o.get("enumtype") {
                    repr = as_str(path, t, "enumtype")?.to_string();
                }
            }
            _ => return Err(bad(path, format!("{name}: unexpected enum item"))),
        }
    }
    Ok(EnumDef {
        name,
        repr,
        members,
        flags,
    })
}

/// Parses one `.api.json` text; `path` is only used in errors and in the output.
pub fn parse_api_file(path: &str, text: &str) -> Result<ApiFile, Error> {
    let root: Value = serde_json::from_str(text).map_err(|e| bad(path, format!("json: {e}")))?;
    let list = |key: &str| -> Result<&[Value], Error> {
        match root.get(key) {
            None => Ok(&[]),
            Some(v) => as_array(path, v, key),
        }
    };
    let file_name = path.rsplit('/').next().unwrap_or(path);
    let module = file_name
        .strip_suffix(".api.json")
        .unwrap_or(file_name)
        .to_string();
    let messages = list("messages")?
        .iter()
        .map(|m| parse_record(path, m, true))
        .collect::<Result<_, _>>()?;
    let structs = list("types")?
        .iter()
        .map(|m| parse_record(path, m, false))
        .collect::<Result<_, _>>()?;
    let unions = list("unions")?
        .iter()
        .map(|m| parse_record(path, m, false))
        .collect::<Result<_, _>>()?;
    let mut enums: Vec<EnumDef> = list("enums")?
        .iter()
        .map(|e| parse_enum(path, e, false))
        .collect::<Result<_, _>>()?;
    for e in list("enumflags")? {
        enums.push(parse_enum(path, e, true)?);
    }
    let mut aliases = Vec::new();
    if let Some(obj) = root.get("aliases").and_then(Value::as_object) {
        let sorted: BTreeMap<_, _> = obj.iter().collect();
        for (name, def) in sorted {
            let ty = as_str(path, def.get("type").unwrap_or(&Value::Null), "alias type")?;
            let length = def
                .get("length")
                .and_then(Value::as_u64)
                .map(|n| n as usize);
            aliases.push(AliasDef {
                name: name.clone(),
                ty: ty.to_string(),
                length,
            });
        }
    }
    let mut services = Vec::new();
    if let Some(obj) = root.get("services").and_then(Value::as_object) {
        let sorted: BTreeMap<_, _> = obj.iter().collect();
        for (request, def) in sorted {
            let reply = def.get("reply").and_then(Value::as_str);
            let events = match def.get("events") {
                Some(v) => as_array(path, v, "events")?
                    .iter()
                    .map(|e| as_str(path, e, "event").map(str::to_string))
                    .collect::<Result<_, _>>()?,
                None => Vec::new(),
            };
            services.push(Service {
                request: request.clone(),
                reply: reply.filter(|r| *r != "null").map(str::to_string),
                stream: def.get("stream").and_then(Value::as_bool).unwrap_or(false),
                stream_msg: def
                    .get("stream_msg")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                events,
            });
        }
    }
    let version_crc = root
        .get("vl_api_version")
        .and_then(Value::as_str)
        .unwrap_or("0x0")
        .to_string();
    Ok(ApiFile {
        path: path.to_string(),
        module,
        version_crc,
        messages,
        structs,
        unions,
        enums,
        aliases,
        services,
    })
}
