//! The agent's vocabulary: keys and labels, Ligato-compatible protobuf models, the model
//! registry (key templates), proto3 JSON, and the value type every other crate passes around.
//!
//! No actix, no tokio, no IO: everything here is plain data and pure functions.

pub mod error;
pub mod json;
pub mod key;
pub mod model;
pub mod models;
pub mod proto;
pub mod registry;
pub mod value;

pub use error::{ErrorKind, ModelError};
pub use key::{Key, MicroserviceLabel};
pub use model::{Model, ModelSpec, NamedModel};
pub use registry::Registry;
pub use value::{ProtoValue, Value};
