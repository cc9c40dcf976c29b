//! Rust text for planned types and messages: one struct (or newtype) per item with `Default` (JSON defaults
//! applied), [`crate::codec::Wire`] and, for messages, [`crate::codec::message::Message`] and the service traits.
//!
//! The output is plain, deterministic text; it is not run through rustfmt (the crate marks the generated
//! module `#[rustfmt::skip]`). This module deliberately does not decide sharing or names ([`super::plan`] does)
//! and does not write files.

use super::model::{AliasDef, EnumDef, Field, Record, Repeat};
use super::plan::{Plan, PlannedMessage, PlannedType, TypeDef, is_count_field, user_type};
use crate::codec::message::HeaderShape;
use crate::error::Error;
use serde_json::Value;
use std::fmt::Write as _;

const KEYWORDS: &[&str] = &[
    "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for",
    "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return",
    "self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where",
    "while", "async", "await", "dyn", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "gen",
];

/// A field name as a Rust identifier (`type` -> `type_`).
pub fn ident(name: &str) -> String {
    if KEYWORDS.contains(&name) {
        format!("{name}_")
    } else {
        name.to_string()
    }
}

fn err(what: impl Into<String>) -> Error {
    Error::Generate {
        path: "emit".to_string(),
        reason: what.into(),
    }
}

fn is_scalar(ty: &str) -> bool {
    matches!(
        ty,
        "u8" | "i8" | "u16" | "i16" | "u32" | "i32" | "u64" | "i64" | "bool" | "f64"
    )
}

fn scalar_size(ty: &str) -> Option<usize> {
    match ty {
        "u8" | "i8" | "bool" => Some(1),
        "u16" | "i16" => Some(2),
        "u32" | "i32" => Some(4),
        "u64" | "i64" | "f64" => Some(8),
        _ => None,
    }
}

/// Emits code in the context of one release (for resolving type names).
#[derive(Debug)]
pub struct Emitter<'a> {
    pub plan: &'a Plan,
    pub release: usize,
}

impl Emitter<'_> {
    fn type_name(&self, ty: &str) -> Result<String, Error> {
        if is_scalar(ty) {
            return Ok(ty.to_string());
        }
        let t = user_type(ty).ok_or_else(|| err(format!("unknown field type {ty}")))?;
        self.plan.type_names[self.release]
            .get(t)
            .cloned()
            .ok_or_else(|| err(format!("type {t} was not planned")))
    }

    fn type_def(&self, ty: &str) -> Option<&TypeDef> {
        user_type(ty).and_then(|t| self.plan.releases[self.release].types.get(t))
    }

    /// The wire size of a fixed-size type; an error for variable-size ones.
    fn static_size(&self, ty: &str, repeat: &Repeat) -> Result<usize, Error> {
        let one = match (ty, repeat) {
            ("string", Repeat::Fixed(n)) => return Ok(*n),
            (_, Repeat::Counted(_) | Repeat::VarString) => {
                return Err(err(format!("{ty} is variable-size inside a union")));
            }
            _ => match scalar_size(ty) {
                Some(s) => s,
                None => match self.type_def(ty) {
                    Some(TypeDef::Struct(r)) => {
                        let mut sum = 0;
                        for f in &r.fields {
                            sum += self.static_size(&f.ty, &f.repeat)?;
                        }
                        sum
                    }
                    Some(TypeDef::Union(r)) => {
                        let mut max = 0;
                        for f in &r.fields {
                            max = max.max(self.static_size(&f.ty, &f.repeat)?);
                        }
                        max
                    }
                    Some(TypeDef::Enum(e)) => {
                        scalar_size(&e.repr).ok_or_else(|| err("bad enum repr"))?
                    }
                    Some(TypeDef::Alias(a)) => {
                        self.static_size(&a.ty, &a.length.map_or(Repeat::One, Repeat::Fixed))?
                    }
                    None => return Err(err(format!("unknown type {ty}"))),
                },
            },
        };
        Ok(match repeat {
            Repeat::Fixed(n) => one * n,
            _ => one,
        })
    }

    fn field_type(&self, f: &Field) -> Result<String, Error> {
        Ok(match (&f.repeat, f.ty.as_str()) {
            (Repeat::Fixed(_) | Repeat::VarString, "string") => "String".to_string(),
            (Repeat::One, _) => self.type_name(&f.ty)?,
            (Repeat::Fixed(n), _) => format!("[{}; {n}]", self.type_name(&f.ty)?),
            (Repeat::Counted(_), _) => format!("Vec<{}>", self.type_name(&f.ty)?),
            (Repeat::VarString, _) => {
                return Err(err(format!("{}: var array of {}", f.name, f.ty)));
            }
        })
    }

    fn default_expr(&self, f: &Field) -> Result<String, Error> {
        let fixed_array = matches!(f.repeat, Repeat::Fixed(_)) && f.ty != "string";
        if fixed_array {
            return Ok("std::array::from_fn(|_| Default::default())".to_string());
        }
        let Some(v) = &f.default else {
            return Ok("Default::default()".to_string());
        };
        if f.repeat != Repeat::One {
            return Ok("Default::default()".to_string());
        }
        let truthy = match v {
            Value::Bool(b) => *b,
            Value::String(s) => s == "true",
            Value::Number(n) => n.as_f64().is_some_and(|x| x != 0.0),
            _ => false,
        };
        let literal = |ty: &str| -> Result<String, Error> {
            Ok(match ty {
                "bool" => truthy.to_string(),
                "f64" => format!("{:?}_f64", v.as_f64().unwrap_or(0.0)),
                _ => format!(
                    "{}_{ty}",
                    v.as_u64()
                        .or_else(|| v.as_i64().map(|x| x as u64))
                        .unwrap_or(0)
                ),
            })
        };
        if is_scalar(&f.ty) {
            return literal(&f.ty);
        }
        let name = self.type_name(&f.ty)?;
        match self.type_def(&f.ty) {
            Some(TypeDef::Enum(e)) => Ok(format!("{name}({})", literal(&e.repr)?)),
            Some(TypeDef::Alias(a)) if a.length.is_none() && is_scalar(&a.ty) => {
                Ok(format!("{name}({})", literal(&a.ty)?))
            }
            _ => Ok("Default::default()".to_string()),
        }
    }

    /// Struct fields, `Default`, `Wire` and the end of the struct for a field list.
    fn body(
        &self,
        out: &mut String,
        rust_name: &str,
        fields: &[Field],
        derive: &str,
    ) -> Result<(), Error> {
        let visible: Vec<&Field> = fields
            .iter()
            .filter(|f| !is_count_field(fields, &f.name))
            .collect();
        let _ = writeln!(out, "#[derive({derive})]");
        if visible.is_empty() {
            let _ = writeln!(out, "pub struct {rust_name} {{}}\n");
        } else {
            let _ = writeln!(out, "pub struct {rust_name} {{");
            for f in &visible {
                let _ = writeln!(out, "    pub {}: {},", ident(&f.name), self.field_type(f)?);
            }
            let _ = writeln!(out, "}}\n");
        }
        let _ = writeln!(out, "impl Default for {rust_name} {{");
        let _ = writeln!(out, "    fn default() -> Self {{");
        if visible.is_empty() {
            let _ = writeln!(out, "        Self {{}}");
        } else {
            let _ = writeln!(out, "        Self {{");
            for f in &visible {
                let _ = writeln!(
                    out,
                    "            {}: {},",
                    ident(&f.name),
                    self.default_expr(f)?
                );
            }
            let _ = writeln!(out, "        }}");
        }
        let _ = writeln!(out, "    }}\n}}\n");
        self.wire_impl(out, rust_name, fields, &visible)
    }

    fn wire_impl(
        &self,
        out: &mut String,
        rust_name: &str,
        fields: &[Field],
        visible: &[&Field],
    ) -> Result<(), Error> {
        let vla_of = |count: &str| {
            fields
                .iter()
                .find(|f| matches!(&f.repeat, Repeat::Counted(c) if c == count))
                .map(|f| ident(&f.name))
        };
        let (o, r) = if fields.is_empty() {
            ("_out", "_r")
        } else {
            ("out", "r")
        };
        let _ = writeln!(out, "impl Wire for {rust_name} {{");
        // wire_len
        let mut parts = Vec::new();
        for f in fields {
            let id = ident(&f.name);
            parts.push(match (&f.repeat, f.ty.as_str()) {
                _ if vla_of(&f.name).is_some() => scalar_size(&f.ty)
                    .ok_or_else(|| err(format!("count {} is not an integer", f.name)))?
                    .to_string(),
                (Repeat::Fixed(n), "string") => n.to_string(),
                (Repeat::VarString, _) => format!("codec::var_string_len(&self.{id})"),
                (Repeat::Counted(_), _) => {
                    format!("self.{id}.iter().map(Wire::wire_len).sum::<usize>()")
                }
                _ => format!("self.{id}.wire_len()"),
            });
        }
        let len = if parts.is_empty() {
            "0".to_string()
        } else {
            parts.join("\n            + ")
        };
        let _ = writeln!(
            out,
            "    fn wire_len(&self) -> usize {{\n        {len}\n    }}"
        );
        // encode
        let _ = writeln!(
            out,
            "    fn encode(&self, {o}: &mut Vec<u8>) -> Result<(), CodecError> {{"
        );
        for f in fields {
            let id = ident(&f.name);
            let name = &f.name;
            let line = match (&f.repeat, f.ty.as_str()) {
                _ if vla_of(&f.name).is_some() => {
                    let vla = vla_of(&f.name).unwrap_or_default();
                    let ty = &f.ty;
                    format!(
                        "codec::vla_count::<{ty}>(\"{vla}\", self.{vla}.len(), {ty}::MAX as u64)?.encode(out)?;"
                    )
                }
                (Repeat::Fixed(n), "string") => {
                    format!("codec::encode_fixed_string(out, \"{name}\", &self.{id}, {n})?;")
                }
                (Repeat::VarString, _) => {
                    format!("codec::encode_var_string(out, \"{name}\", &self.{id})?;")
                }
                (Repeat::Counted(_), _) => {
                    format!("for v in &self.{id} {{\n            v.encode(out)?;\n        }}")
                }
                _ => format!("self.{id}.encode(out)?;"),
            };
            let _ = writeln!(out, "        {line}");
        }
        let _ = writeln!(out, "        Ok(())\n    }}");
        // decode
        let _ = writeln!(
            out,
            "    fn decode({r}: &mut Reader<'_>) -> Result<Self, CodecError> {{"
        );
        for f in fields {
            let id = ident(&f.name);
            let line = match (&f.repeat, f.ty.as_str()) {
                _ if vla_of(&f.name).is_some() => {
                    format!("let f_{id} = {}::decode(r)? as usize;", f.ty)
                }
                (Repeat::Fixed(n), "string") => {
                    format!("let f_{id} = codec::decode_fixed_string(r, {n})?;")
                }
                (Repeat::VarString, _) => format!("let f_{id} = codec::decode_var_string(r)?;"),
                (Repeat::Counted(c), _) => {
                    let count = ident(c);
                    if !fields.iter().any(|g| g.name == *c) {
                        return Err(err(format!(
                            "{rust_name}.{}: count field {c} is missing",
                            f.name
                        )));
                    }
                    format!(
                        "let f_{id} = codec::decode_vla(r, \"{}\", f_{count})?;",
                        f.name
                    )
                }
                (Repeat::Fixed(n), "u8") => format!("let f_{id} = r.array::<{n}>()?;"),
                _ => format!("let f_{id} = <{}>::decode(r)?;", self.field_type(f)?),
            };
            let _ = writeln!(out, "        {line}");
        }
        if visible.is_empty() {
            let _ = writeln!(out, "        Ok(Self {{}})");
        } else {
            let _ = writeln!(out, "        Ok(Self {{");
            for f in visible {
                let id = ident(&f.name);
                let _ = writeln!(out, "            {id}: f_{id},");
            }
            let _ = writeln!(out, "        }})");
        }
        let _ = writeln!(out, "    }}\n}}\n");
        Ok(())
    }

    fn emit_enum(&self, out: &mut String, rust_name: &str, e: &EnumDef) -> Result<(), Error> {
        let repr = &e.repr;
        if scalar_size(repr).is_none() {
            return Err(err(format!("enum {} has repr {repr}", e.name)));
        }
        let kind = if e.flags { "flag set" } else { "enum" };
        let _ = writeln!(
            out,
            "/// VPP {kind} `{}` ({repr} on the wire); values outside the constants decode as they are.",
            e.name
        );
        let _ = writeln!(
            out,
            "#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]"
        );
        let _ = writeln!(
            out,
            "#[repr(transparent)]\npub struct {rust_name}(pub {repr});\n"
        );
        let _ = writeln!(out, "impl {rust_name} {{");
        for (m, v) in &e.members {
            let _ = writeln!(out, "    pub const {m}: Self = Self({v});");
        }
        let _ = writeln!(out, "\n    /// The member name of a known value.");
        let _ = writeln!(
            out,
            "    pub const fn name(self) -> Option<&'static str> {{\n        match self.0 {{"
        );
        let mut seen = std::collections::BTreeSet::new();
        for (m, v) in &e.members {
            if seen.insert(*v) {
                let _ = writeln!(out, "            {v} => Some(\"{m}\"),");
            }
        }
        let _ = writeln!(out, "            _ => None,\n        }}\n    }}\n");
        let _ = writeln!(out, "    /// Whether every bit of `other` is set.");
        let _ = writeln!(
            out,
            "    pub const fn contains(self, other: Self) -> bool {{\n        self.0 & other.0 == other.0\n    }}\n}}\n"
        );
        let _ = writeln!(
            out,
            "impl std::ops::BitOr for {rust_name} {{\n    type Output = Self;"
        );
        let _ = writeln!(
            out,
            "    fn bitor(self, rhs: Self) -> Self {{\n        Self(self.0 | rhs.0)\n    }}\n}}\n"
        );
        let _ = writeln!(out, "impl std::fmt::Debug for {rust_name} {{");
        let _ = writeln!(
            out,
            "    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {{"
        );
        let _ = writeln!(
            out,
            "        match self.name() {{\n            Some(n) => write!(f, \"{rust_name}::{{n}}\"),"
        );
        let _ = writeln!(
            out,
            "            None => write!(f, \"{rust_name}({{}})\", self.0),\n        }}\n    }}\n}}\n"
        );
        let _ = writeln!(out, "impl Wire for {rust_name} {{");
        let _ = writeln!(
            out,
            "    fn wire_len(&self) -> usize {{\n        {}\n    }}",
            scalar_size(repr).unwrap_or(4)
        );
        let _ = writeln!(
            out,
            "    fn encode(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {{\n        self.0.encode(out)\n    }}"
        );
        let _ = writeln!(
            out,
            "    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {{\n        Ok(Self(<{repr}>::decode(r)?))\n    }}\n}}\n"
        );
        Ok(())
    }

    fn emit_alias(&self, out: &mut String, rust_name: &str, a: &AliasDef) -> Result<(), Error> {
        let _ = writeln!(
            out,
            "/// VPP alias `{}`: encoded exactly as `{}`{}.",
            a.name,
            a.ty,
            a.length.map(|n| format!("[{n}]")).unwrap_or_default()
        );
        if !is_scalar(&a.ty) && a.length.is_none() {
            let _ = writeln!(out, "pub type {rust_name} = {};\n", self.type_name(&a.ty)?);
            return Ok(());
        }
        let inner = self.type_name(&a.ty)?;
        let (ty, decode, default) = match a.length {
            None => (
                inner.clone(),
                format!("<{inner}>::decode(r)?"),
                "Default::default()".to_string(),
            ),
            Some(n) if a.ty == "u8" => (
                format!("[u8; {n}]"),
                format!("r.array::<{n}>()?"),
                format!("[0; {n}]"),
            ),
            Some(n) => (
                format!("[{inner}; {n}]"),
                format!("<[{inner}; {n}]>::decode(r)?"),
                "std::array::from_fn(|_| Default::default())".to_string(),
            ),
        };
        let derive = if a.ty == "f64" {
            "Debug, Clone, Copy, PartialEq, PartialOrd"
        } else if is_scalar(&a.ty) {
            "Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord"
        } else {
            "Debug, Clone, PartialEq"
        };
        let _ = writeln!(
            out,
            "#[derive({derive})]\npub struct {rust_name}(pub {ty});\n"
        );
        let _ = writeln!(
            out,
            "impl Default for {rust_name} {{\n    fn default() -> Self {{\n        Self({default})\n    }}\n}}\n"
        );
        let _ = writeln!(out, "impl Wire for {rust_name} {{");
        let _ = writeln!(
            out,
            "    fn wire_len(&self) -> usize {{\n        self.0.wire_len()\n    }}"
        );
        let _ = writeln!(
            out,
            "    fn encode(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {{\n        self.0.encode(out)\n    }}"
        );
        let _ = writeln!(
            out,
            "    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {{\n        Ok(Self({decode}))\n    }}\n}}\n"
        );
        Ok(())
    }

    fn emit_union(&self, out: &mut String, rust_name: &str, u: &Record) -> Result<(), Error> {
        let mut size = 0;
        for f in &u.fields {
            size = size.max(self.static_size(&f.ty, &f.repeat)?);
        }
        let _ = writeln!(
            out,
            "/// VPP union `{}`: {size} bytes; the chosen member sits at offset 0, zero-filled.",
            u.name
        );
        let _ = writeln!(
            out,
            "#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]\npub struct {rust_name}(pub [u8; {size}]);\n"
        );
        let _ = writeln!(
            out,
            "impl Default for {rust_name} {{\n    fn default() -> Self {{\n        Self([0; {size}])\n    }}\n}}\n"
        );
        let _ = writeln!(out, "impl {rust_name} {{");
        for f in &u.fields {
            let id = ident(&f.name);
            let ty = self.field_type(f)?;
            let _ = writeln!(out, "    /// The union holding member `{}`.", f.name);
            let _ = writeln!(
                out,
                "    pub fn from_{}(v: &{ty}) -> Result<Self, CodecError> {{\n        Ok(Self(codec::union_from(\"{}\", v)?))\n    }}",
                f.name, f.name
            );
            let _ = writeln!(
                out,
                "    /// Member `{}` read from the union's bytes.",
                f.name
            );
            let _ = writeln!(
                out,
                "    pub fn {id}(&self) -> Result<{ty}, CodecError> {{\n        codec::union_get(&self.0)\n    }}"
            );
        }
        let _ = writeln!(out, "}}\n");
        let _ = writeln!(out, "impl Wire for {rust_name} {{");
        let _ = writeln!(
            out,
            "    fn wire_len(&self) -> usize {{\n        {size}\n    }}"
        );
        let _ = writeln!(
            out,
            "    fn encode(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {{\n        out.extend_from_slice(&self.0);\n        Ok(())\n    }}"
        );
        let _ = writeln!(
            out,
            "    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {{\n        Ok(Self(r.array::<{size}>()?))\n    }}\n}}\n"
        );
        Ok(())
    }

    /// One planned type.
    pub fn emit_type(&self, out: &mut String, t: &PlannedType) -> Result<(), Error> {
        match &t.def {
            TypeDef::Struct(r) => {
                let _ = writeln!(out, "/// VPP type `{}`.", r.name);
                self.body(out, &t.rust_name, &r.fields, "Debug, Clone, PartialEq")
            }
            TypeDef::Union(u) => self.emit_union(out, &t.rust_name, u),
            TypeDef::Enum(e) => self.emit_enum(out, &t.rust_name, e),
            TypeDef::Alias(a) => self.emit_alias(out, &t.rust_name, a),
        }
    }

    /// One planned message.
    pub fn emit_message(&self, out: &mut String, m: &PlannedMessage) -> Result<(), Error> {
        let skip = match m.shape {
            HeaderShape::Request => 3,
            HeaderShape::Reply | HeaderShape::Event => 2,
            HeaderShape::Other => 1,
        };
        let body = &m.record.fields[skip.min(m.record.fields.len())..];
        let name = &m.record.name;
        let crc = m.record.crc.clone().unwrap_or_default();
        let _ = writeln!(
            out,
            "/// `{name}_{crc}` ({:?}, header {:?}).",
            m.kind, m.shape
        );
        self.body(out, &m.rust_name, body, "Debug, Clone, PartialEq")?;
        let rust = &m.rust_name;
        let _ = writeln!(out, "impl Message for {rust} {{");
        let _ = writeln!(out, "    const NAME: &'static str = \"{name}\";");
        let _ = writeln!(out, "    const CRC: &'static str = \"{crc}\";");
        let _ = writeln!(out, "    const NAME_CRC: &'static str = \"{name}_{crc}\";");
        let _ = writeln!(
            out,
            "    const KIND: MessageKind = MessageKind::{:?};",
            m.kind
        );
        let _ = writeln!(
            out,
            "    const SHAPE: HeaderShape = HeaderShape::{:?};",
            m.shape
        );
        if body
            .iter()
            .any(|f| f.name == "retval" && f.ty == "i32" && f.repeat == Repeat::One)
        {
            let _ = writeln!(
                out,
                "    fn retval(&self) -> Option<i32> {{\n        Some(self.retval)\n    }}"
            );
        }
        let _ = writeln!(out, "}}\n");
        if let Some(reply) = &m.reply {
            let _ = writeln!(
                out,
                "impl Request for {rust} {{\n    type Reply = {reply};\n}}\n"
            );
        }
        if let Some(details) = &m.details {
            let _ = writeln!(
                out,
                "impl Dump for {rust} {{\n    type Details = {details};\n}}\n"
            );
        }
        Ok(())
    }
}
