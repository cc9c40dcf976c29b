//! Planning: load each release's `.api.json` files, pick the agent's messages and the types they use, and decide
//! which generated items releases can share.
//!
//! Two releases share an item when its whole definition is identical: same fields all the way down, same CRC
//! (messages), and for requests the same reply or details. An item with one definition is named
//! `CamelName`; one with several is named `CamelName_v<release>` after the first release that defines it.
//! This module deliberately produces data only; [`super::emit`] turns it into Rust text.

use super::model::{AliasDef, ApiFile, EnumDef, Field, Record, Repeat, Service, parse_api_file};
use crate::codec::message::{HeaderShape, MessageKind};
use crate::error::Error;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// A release the generator emits a module for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReleaseSpec {
    /// The VPP version, also the folder name under the API dir, e.g. `23.06`.
    pub version: &'static str,
    /// The Rust module name, e.g. `vpp2306`.
    pub module: &'static str,
}

/// A user type as the generator sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum TypeDef {
    Struct(Record),
    Union(Record),
    Enum(EnumDef),
    Alias(AliasDef),
}

/// One release's files, merged.
#[derive(Debug, Clone)]
pub struct ReleaseApi {
    pub spec: ReleaseSpec,
    /// memclnt first (VPP numbers its messages from 1), then the rest by path.
    pub files: Vec<ApiFile>,
    pub types: BTreeMap<String, TypeDef>,
    /// Message name -> (definition, module).
    pub messages: BTreeMap<String, (Record, String)>,
    pub services: BTreeMap<String, Service>,
    /// The agent messages this release defines, sorted.
    pub needed: Vec<String>,
}

/// A message to emit once, shared by the releases listed.
#[derive(Debug, Clone)]
pub struct PlannedMessage {
    pub rust_name: String,
    pub record: Record,
    pub kind: MessageKind,
    pub shape: HeaderShape,
    /// Index of the first release defining it; type references resolve there.
    pub release: usize,
    pub reply: Option<String>,
    pub details: Option<String>,
}

/// A type to emit once.
#[derive(Debug, Clone)]
pub struct PlannedType {
    pub rust_name: String,
    pub def: TypeDef,
    pub release: usize,
}

/// Everything the emitter needs.
#[derive(Debug, Clone)]
pub struct Plan {
    pub releases: Vec<ReleaseApi>,
    pub types: Vec<PlannedType>,
    pub messages: Vec<PlannedMessage>,
    /// Per release: type name -> Rust name.
    pub type_names: Vec<BTreeMap<String, String>>,
    /// Per release: message name -> Rust name.
    pub message_names: Vec<BTreeMap<String, String>>,
}

fn gen_err(path: &str, reason: impl Into<String>) -> Error {
    Error::Generate {
        path: path.to_string(),
        reason: reason.into(),
    }
}

/// `sw_interface_details` -> `SwInterfaceDetails`.
pub fn camel(name: &str) -> String {
    name.split('_')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// `vl_api_prefix_t` -> `Some("prefix")`.
pub fn user_type(ty: &str) -> Option<&str> {
    ty.strip_prefix("vl_api_")
        .and_then(|t| t.strip_suffix("_t"))
}

fn collect_files(
    dir: &Path,
    rel: &str,
    out: &mut Vec<(String, std::path::PathBuf)>,
) -> Result<(), Error> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| gen_err(&dir.display().to_string(), e.to_string()))?;
    for entry in entries {
        let entry = entry.map_err(|e| gen_err(&dir.display().to_string(), e.to_string()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let rel_name = if rel.is_empty() {
            name.clone()
        } else {
            format!("{rel}/{name}")
        };
        let path = entry.path();
        if path.is_dir() {
            collect_files(&path, &rel_name, out)?;
        } else if name.ends_with(".api.json") {
            out.push((rel_name, path));
        }
    }
    Ok(())
}

/// Loads and merges one release folder.
pub fn load_release(
    api_dir: &Path,
    spec: ReleaseSpec,
    agent: &BTreeSet<String>,
) -> Result<ReleaseApi, Error> {
    let dir = api_dir.join(spec.version);
    let mut found = Vec::new();
    collect_files(&dir, "", &mut found)?;
    let mut files = Vec::new();
    for (rel, path) in found {
        let text = std::fs::read_to_string(&path).map_err(|e| gen_err(&rel, e.to_string()))?;
        files.push(parse_api_file(&rel, &text)?);
    }
    files.sort_by(|a, b| (a.module != "memclnt", &a.path).cmp(&(b.module != "memclnt", &b.path)));
    let mut types = BTreeMap::new();
    let mut messages = BTreeMap::new();
    let mut services = BTreeMap::new();
    for f in &files {
        let defs = f
            .structs
            .iter()
            .map(|r| TypeDef::Struct(r.clone()))
            .chain(f.unions.iter().map(|r| TypeDef::Union(r.clone())))
            .chain(f.enums.iter().map(|e| TypeDef::Enum(e.clone())))
            .chain(f.aliases.iter().map(|a| TypeDef::Alias(a.clone())));
        for def in defs {
            let name = type_def_name(&def).to_string();
            if let Some(old) = types.get(&name) {
                if *old != def {
                    return Err(gen_err(
                        &f.path,
                        format!("type {name} is defined differently in two files"),
                    ));
                }
            } else {
                types.insert(name, def);
            }
        }
        for m in &f.messages {
            if messages
                .insert(m.name.clone(), (m.clone(), f.module.clone()))
                .is_some()
            {
                return Err(gen_err(
                    &f.path,
                    format!("message {} is defined twice", m.name),
                ));
            }
        }
        for s in &f.services {
            services.insert(s.request.clone(), s.clone());
        }
    }
    let needed = agent
        .iter()
        .filter(|n| messages.contains_key(*n))
        .cloned()
        .collect();
    Ok(ReleaseApi {
        spec,
        files,
        types,
        messages,
        services,
        needed,
    })
}

pub fn type_def_name(def: &TypeDef) -> &str {
    match def {
        TypeDef::Struct(r) | TypeDef::Union(r) => &r.name,
        TypeDef::Enum(e) => &e.name,
        TypeDef::Alias(a) => &a.name,
    }
}

/// GoVPP's header-shape rule: the names of the fields after `_vl_msg_id`.
pub fn header_shape(record: &Record) -> HeaderShape {
    let name = |i: usize| record.fields.get(i).map(|f| f.name.as_str());
    match (name(1), name(2)) {
        (Some("client_index"), Some("context")) => HeaderShape::Request,
        (Some("context"), _) => HeaderShape::Reply,
        (Some("client_index"), _) => HeaderShape::Event,
        _ => HeaderShape::Other,
    }
}

fn message_kind(rel: &ReleaseApi, name: &str, shape: HeaderShape) -> MessageKind {
    if let Some(s) = rel.services.get(name) {
        return if s.stream && s.stream_msg.is_none() {
            MessageKind::Dump
        } else {
            MessageKind::Request
        };
    }
    for s in rel.services.values() {
        if s.reply.as_deref() == Some(name) {
            return if s.stream && s.stream_msg.is_none() {
                MessageKind::Details
            } else {
                MessageKind::Reply
            };
        }
        if s.stream_msg.as_deref() == Some(name) {
            return MessageKind::Details;
        }
        if s.events.iter().any(|e| e == name) {
            return MessageKind::Event;
        }
    }
    match shape {
        HeaderShape::Event => MessageKind::Event,
        _ if name.ends_with("_reply") => MessageKind::Reply,
        _ if name.ends_with("_details") => MessageKind::Details,
        _ => MessageKind::Other,
    }
}

struct Keys<'a> {
    rel: &'a ReleaseApi,
    memo: BTreeMap<String, String>,
}

impl Keys<'_> {
    fn field_key(&mut self, f: &Field) -> Result<String, Error> {
        let ty = match user_type(&f.ty) {
            Some(t) => self.type_key(t)?,
            None => f.ty.clone(),
        };
        Ok(format!("{}:{}:{:?}:{:?}", f.name, ty, f.repeat, f.default))
    }

    fn fields_key(&mut self, fields: &[Field]) -> Result<String, Error> {
        let keys: Vec<String> = fields
            .iter()
            .map(|f| self.field_key(f))
            .collect::<Result<_, _>>()?;
        Ok(keys.join(","))
    }

    fn type_key(&mut self, name: &str) -> Result<String, Error> {
        if let Some(k) = self.memo.get(name) {
            return Ok(k.clone());
        }
        let def = self
            .rel
            .types
            .get(name)
            .ok_or_else(|| {
                gen_err(
                    self.rel.spec.version,
                    format!("unknown type vl_api_{name}_t"),
                )
            })?
            .clone();
        let key = match &def {
            TypeDef::Struct(r) => format!("struct {name}{{{}}}", self.fields_key(&r.fields)?),
            TypeDef::Union(r) => format!("union {name}{{{}}}", self.fields_key(&r.fields)?),
            TypeDef::Enum(e) => format!("enum {name}:{}:{}:{:?}", e.repr, e.flags, e.members),
            TypeDef::Alias(a) => {
                let target = match user_type(&a.ty) {
                    Some(t) => self.type_key(t)?,
                    None => a.ty.clone(),
                };
                format!("alias {name}={target}[{:?}]", a.length)
            }
        };
        self.memo.insert(name.to_string(), key.clone());
        Ok(key)
    }

    fn message_key(&mut self, name: &str) -> Result<String, Error> {
        let (record, _) = self
            .rel
            .messages
            .get(name)
            .ok_or_else(|| gen_err(self.rel.spec.version, format!("unknown message {name}")))?
            .clone();
        let shape = header_shape(&record);
        let kind = message_kind(self.rel, name, shape);
        let mut key = format!(
            "msg {name}:{:?}:{kind:?}:{}",
            record.crc,
            self.fields_key(&record.fields)?
        );
        if let Some(s) = self.rel.services.get(name).cloned() {
            for answer in s.reply.iter().chain(s.stream_msg.iter()) {
                if self.rel.messages.contains_key(answer) {
                    key.push_str(&format!("->{}", self.message_key(answer)?));
                }
            }
        }
        Ok(key)
    }
}

fn closure(rel: &ReleaseApi, fields: &[Field], seen: &mut BTreeSet<String>) -> Result<(), Error> {
    for f in fields {
        if let Some(t) = user_type(&f.ty) {
            visit_type(rel, t, seen)?;
        }
    }
    Ok(())
}

fn visit_type(rel: &ReleaseApi, name: &str, seen: &mut BTreeSet<String>) -> Result<(), Error> {
    if !seen.insert(name.to_string()) {
        return Ok(());
    }
    match rel.types.get(name) {
        Some(TypeDef::Struct(r)) | Some(TypeDef::Union(r)) => closure(rel, &r.fields, seen),
        Some(TypeDef::Alias(a)) => match user_type(&a.ty) {
            Some(t) => visit_type(rel, t, seen),
            None => Ok(()),
        },
        Some(TypeDef::Enum(_)) => Ok(()),
        None => Err(gen_err(
            rel.spec.version,
            format!("unknown type vl_api_{name}_t"),
        )),
    }
}

/// Names each distinct variant: `Camel` when there is one, `Camel_v<release digits>` otherwise.
fn name_variants(
    variants: &BTreeMap<String, Vec<(String, usize)>>,
    releases: &[ReleaseApi],
) -> BTreeMap<(String, String), String> {
    let mut out = BTreeMap::new();
    for (name, list) in variants {
        for (key, first) in list {
            let rust = if list.len() == 1 {
                camel(name)
            } else {
                let digits: String = releases[*first]
                    .spec
                    .version
                    .chars()
                    .filter(char::is_ascii_digit)
                    .collect();
                format!("{}_v{digits}", camel(name))
            };
            out.insert((name.clone(), key.clone()), rust);
        }
    }
    out
}

/// Builds the plan for the given releases (oldest first) and agent message list.
pub fn plan(releases: Vec<ReleaseApi>) -> Result<Plan, Error> {
    let mut type_variants: BTreeMap<String, Vec<(String, usize)>> = BTreeMap::new();
    let mut msg_variants: BTreeMap<String, Vec<(String, usize)>> = BTreeMap::new();
    let mut type_keys = Vec::new();
    let mut msg_keys = Vec::new();
    for (idx, rel) in releases.iter().enumerate() {
        let mut seen = BTreeSet::new();
        for m in &rel.needed {
            if let Some((record, _)) = rel.messages.get(m) {
                closure(rel, &record.fields, &mut seen)?;
            }
        }
        let mut keys = Keys {
            rel,
            memo: BTreeMap::new(),
        };
        let mut tk = BTreeMap::new();
        for t in &seen {
            let key = keys.type_key(t)?;
            let list = type_variants.entry(t.clone()).or_default();
            if !list.iter().any(|(k, _)| *k == key) {
                list.push((key.clone(), idx));
            }
            tk.insert(t.clone(), key);
        }
        let mut mk = BTreeMap::new();
        for m in &rel.needed {
            let key = keys.message_key(m)?;
            let list = msg_variants.entry(m.clone()).or_default();
            if !list.iter().any(|(k, _)| *k == key) {
                list.push((key.clone(), idx));
            }
            mk.insert(m.clone(), key);
        }
        type_keys.push(tk);
        msg_keys.push(mk);
    }
    let type_rust = name_variants(&type_variants, &releases);
    let msg_rust = name_variants(&msg_variants, &releases);
    let type_names: Vec<BTreeMap<String, String>> = type_keys
        .iter()
        .map(|tk| {
            tk.iter()
                .map(|(n, k)| (n.clone(), type_rust[&(n.clone(), k.clone())].clone()))
                .collect()
        })
        .collect();
    let message_names: Vec<BTreeMap<String, String>> = msg_keys
        .iter()
        .map(|mk| {
            mk.iter()
                .map(|(n, k)| (n.clone(), msg_rust[&(n.clone(), k.clone())].clone()))
                .collect()
        })
        .collect();
    let mut types = Vec::new();
    for (name, list) in &type_variants {
        for (key, first) in list {
            let def = releases[*first].types[name].clone();
            types.push(PlannedType {
                rust_name: type_rust[&(name.clone(), key.clone())].clone(),
                def,
                release: *first,
            });
        }
    }
    let mut messages = Vec::new();
    for (name, list) in &msg_variants {
        for (key, first) in list {
            let rel = &releases[*first];
            let (record, _) = rel.messages[name].clone();
            let shape = header_shape(&record);
            let kind = message_kind(rel, name, shape);
            let names = &message_names[*first];
            let answer = |m: Option<&String>| m.and_then(|m| names.get(m)).cloned();
            let service = rel.services.get(name);
            let (reply, details) = match (kind, service) {
                (MessageKind::Request, Some(s)) if s.stream_msg.is_none() => {
                    (answer(s.reply.as_ref()), None)
                }
                (MessageKind::Dump, Some(s)) => (None, answer(s.reply.as_ref())),
                _ => (None, None),
            };
            messages.push(PlannedMessage {
                rust_name: msg_rust[&(name.clone(), key.clone())].clone(),
                record,
                kind,
                shape,
                release: *first,
                reply,
                details,
            });
        }
    }
    let all: BTreeSet<&String> = types.iter().map(|t| &t.rust_name).collect();
    if let Some(clash) = messages.iter().find(|m| all.contains(&m.rust_name)) {
        return Err(gen_err(
            "plan",
            format!("{} is both a type and a message", clash.rust_name),
        ));
    }
    Ok(Plan {
        releases,
        types,
        messages,
        type_names,
        message_names,
    })
}

/// Whether a field is the count of a later variable-length array in the same list.
pub fn is_count_field(fields: &[Field], name: &str) -> bool {
    fields
        .iter()
        .any(|f| matches!(&f.repeat, Repeat::Counted(c) if c == name))
}
