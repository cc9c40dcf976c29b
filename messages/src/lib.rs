//! The agent's vocabulary: keys and labels, Ligato-compatible protobuf models, the model
//! registry (key templates), proto3 JSON, and the value type every other crate passes around.
//!
//! No actix, no tokio, no IO: everything here is plain data and pure functions.

pub mod key;
pub mod proto;
pub mod value;

pub use key::{Key, MicroserviceLabel};
pub use value::{ProtoValue, Value};
