//! proto3 JSON for any message of the descriptor pool, the way Ligato reads and writes it:
//! output with original field names (`phys_address`) and enum names (`"TAP"`), defaults
//! omitted; input accepting original or lowerCamel names and enums by name or number, and
//! rejecting unknown fields, wrong types and trailing garbage with the path of the field.

use prost_reflect::{DeserializeOptions, DynamicMessage, MessageDescriptor, SerializeOptions};

use crate::error::ModelError;

/// Parses `bytes` as proto3 JSON of `desc`; `key` names the value in errors.
pub fn decode(
    desc: MessageDescriptor,
    key: &str,
    bytes: &[u8],
) -> Result<DynamicMessage, ModelError> {
    let invalid = |field: Option<String>, err: &serde_json::Error| ModelError::InvalidValue {
        key: key.to_owned(),
        message: desc.full_name().to_owned(),
        field,
        reason: strip_location(&err.to_string()),
        location: (err.line() > 0).then(|| (err.line(), err.column())),
    };
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let mut track = serde_path_to_error::Track::new();
    let opts = DeserializeOptions::new().deny_unknown_fields(true);
    let result = DynamicMessage::deserialize_with_options(
        desc.clone(),
        serde_path_to_error::Deserializer::new(&mut de, &mut track),
        &opts,
    );
    let msg = match result {
        Ok(msg) => msg,
        Err(err) => {
            let path = track.path().to_string();
            let field = (!path.is_empty() && path != "." && path != "?").then_some(path);
            return Err(invalid(field, &err));
        }
    };
    de.end().map_err(|e| invalid(None, &e))?;
    Ok(msg)
}

/// Serialises with original field names, enum names, defaults omitted.
pub fn encode(msg: &DynamicMessage) -> String {
    let opts = SerializeOptions::new().use_proto_field_name(true);
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::new(&mut out);
    // Serialising a well-formed DynamicMessage into memory cannot fail.
    if msg.serialize_with_options(&mut ser, &opts).is_err() {
        return String::from("{}");
    }
    String::from_utf8(out).unwrap_or_else(|_| String::from("{}"))
}

/// serde_json appends " at line L column C"; the location is reported separately.
fn strip_location(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg.to_owned(),
    }
}
