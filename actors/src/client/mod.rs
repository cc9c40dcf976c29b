//! Client v2: a typed API to configure the agent, with the transport hidden (Ligato's
//! `clientv2`).
//!
//! Two calls, on any [`Client`]:
//! - [`Client::resync`]: replace all config of this client by the values put
//!   (`client.resync().put(&iface).put(&bd).send().await`);
//! - [`Client::change`]: incremental puts and deletes committed atomically
//!   (`client.change().put(&iface).delete(&old_bd).send().await`).
//!
//! Either can be planned instead of run: [`Request::dry_run`] returns the planned operations
//! and changes nothing. Values are the prost model messages of [`messages::proto`]; their keys
//! come from the model registry ([`Registry::key_of`]), so users never write keys.
//!
//! Two transports:
//! - [`LocalClient`]: in-process; sends [`crate::msg::ClientTxn`] to the agent's orchestrator as
//!   its own source (`local`) and returns the scheduler's [`kvscheduler::TxnReport`].
//! - [`RemoteClient`]: writes to a KV store under `/vnf-agent/<label>/` through `connectors`,
//!   one store transaction per request where the store has them, and returns what the store
//!   can say ([`RemoteReport`]).
//!
//! Bad input (a message of no registered model, a key of no model) fails the request before
//! anything is sent, with an error naming the message or key.

mod local;
mod remote;

use std::collections::HashMap;
use std::future::Future;

use messages::{Key, ModelError, ProtoValue, Registry, Value};

pub use local::LocalClient;
pub use remote::{RemoteClient, RemoteReport};

/// What can go wrong with a client request.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// A value or key of no registered model (nothing was sent).
    #[error("{0}")]
    Model(Box<ModelError>),
    /// Deletes belong to changes; a resync lists what stays.
    #[error(
        "delete of {key} in a resync: a resync lists the values to keep, delete by leaving them out"
    )]
    DeleteInResync { key: Key },
    /// The agent refused or could not run the transaction.
    #[error("the agent did not run the transaction: {0}")]
    Agent(#[from] kvscheduler::KvError),
    /// The agent's orchestrator is gone (the agent stopped).
    #[error("the agent's orchestrator is not running: {0}")]
    Mailbox(#[from] actix::MailboxError),
    /// The store refused a read or write.
    #[error("{0}")]
    Store(#[from] connectors::ConnectorError),
    /// A value that does not encode as proto3 JSON for the store.
    #[error("value of {key} does not encode: {source}")]
    Encode { key: Key, source: Box<ModelError> },
}

impl From<ModelError> for ClientError {
    fn from(e: ModelError) -> Self {
        ClientError::Model(Box::new(e))
    }
}

/// A request's puts (`Some`) and deletes (`None`), by model key.
pub type Changes = Vec<(Key, Option<Value>)>;

/// A transport of Client v2. Implementors provide [`Client::registry`] and [`Client::commit`];
/// users call [`Client::resync`] and [`Client::change`].
pub trait Client {
    /// What a committed (or planned) request returns.
    type Report;

    /// The models the client knows.
    fn registry(&self) -> &Registry;

    /// Runs (or with `dry_run` plans) one request: `resync` replaces the client's whole config
    /// by the puts in `changes`. Keys are unique within `changes`.
    fn commit(
        &self,
        resync: bool,
        changes: Changes,
        dry_run: bool,
    ) -> impl Future<Output = Result<Self::Report, ClientError>>;

    /// A request replacing all config of this client by the values put.
    fn resync(&self) -> Request<'_, Self>
    where
        Self: Sized,
    {
        Request::new(self, true)
    }

    /// A request of incremental puts and deletes, committed atomically.
    fn change(&self) -> Request<'_, Self>
    where
        Self: Sized,
    {
        Request::new(self, false)
    }
}

/// A resync or change being built; nothing happens until [`Request::send`] or
/// [`Request::dry_run`].
#[must_use = "a request does nothing until sent"]
pub struct Request<'c, C: Client> {
    client: &'c C,
    resync: bool,
    changes: Changes,
    /// The first bad input; reported by `send`/`dry_run`, nothing sent.
    error: Option<ClientError>,
}

impl<C: Client> std::fmt::Debug for Request<'_, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("resync", &self.resync)
            .field("changes", &self.changes)
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl<'c, C: Client> Request<'c, C> {
    fn new(client: &'c C, resync: bool) -> Self {
        Request {
            client,
            resync,
            changes: Vec::new(),
            error: None,
        }
    }

    fn fail(&mut self, e: ClientError) {
        if self.error.is_none() {
            self.error = Some(e);
        }
    }

    /// Puts a model message (an interface, a bridge domain, ...); its key comes from the
    /// registry.
    pub fn put<M: ProtoValue + Clone>(self, msg: &M) -> Self {
        self.put_value(messages::value::value(msg.clone()))
    }

    /// Puts a value already wrapped as [`Value`].
    pub fn put_value(mut self, value: Value) -> Self {
        match self.client.registry().key_of(&*value) {
            Ok(key) => self.changes.push((key, Some(value))),
            Err(e) => self.fail(e.into()),
        }
        self
    }

    /// Deletes the value with this message's key (only the key fields matter).
    pub fn delete<M: ProtoValue>(mut self, msg: &M) -> Self {
        match self.client.registry().key_of(msg) {
            Ok(key) => self.delete_checked(key),
            Err(e) => self.fail(e.into()),
        }
        self
    }

    /// Deletes a value by its model key (`config/vpp/v2/interfaces/tap1`).
    pub fn delete_key(mut self, key: &str) -> Self {
        match self.client.registry().parse_key(key) {
            Ok(_) => self.delete_checked(Key::from(key)),
            Err(e) => self.fail(e.into()),
        }
        self
    }

    fn delete_checked(&mut self, key: Key) {
        if self.resync {
            self.fail(ClientError::DeleteInResync { key });
        } else {
            self.changes.push((key, None));
        }
    }

    /// The changes, one per key (the last one of a key wins, in its first position).
    fn into_parts(self) -> Result<(&'c C, bool, Changes), ClientError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let mut at: HashMap<Key, usize> = HashMap::new();
        let mut changes: Changes = Vec::with_capacity(self.changes.len());
        for (key, value) in self.changes {
            match at.get(&key) {
                Some(&i) => changes[i].1 = value,
                None => {
                    at.insert(key.clone(), changes.len());
                    changes.push((key, value));
                }
            }
        }
        Ok((self.client, self.resync, changes))
    }

    /// Commits the request and returns the client's report.
    pub async fn send(self) -> Result<C::Report, ClientError> {
        let (client, resync, changes) = self.into_parts()?;
        client.commit(resync, changes, false).await
    }

    /// Plans the request without executing anything: the report lists the planned operations.
    pub async fn dry_run(self) -> Result<C::Report, ClientError> {
        let (client, resync, changes) = self.into_parts()?;
        client.commit(resync, changes, true).await
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use messages::proto::vpp_interfaces::Interface;

    use super::*;

    /// Records what reaches the transport.
    struct Recorder {
        registry: Registry,
        seen: RefCell<Vec<(bool, Changes, bool)>>,
    }

    impl Client for Recorder {
        type Report = ();

        fn registry(&self) -> &Registry {
            &self.registry
        }

        async fn commit(
            &self,
            resync: bool,
            changes: Changes,
            dry_run: bool,
        ) -> Result<(), ClientError> {
            self.seen.borrow_mut().push((resync, changes, dry_run));
            Ok(())
        }
    }

    fn iface(name: &str, mtu: u32) -> Interface {
        Interface {
            name: name.to_owned(),
            mtu,
            ..Default::default()
        }
    }

    fn mtu(v: &Option<Value>) -> Option<u32> {
        v.as_ref()
            .and_then(|v| messages::value::downcast::<Interface>(&**v))
            .map(|i| i.mtu)
    }

    #[actix_rt::test]
    async fn one_change_per_key_the_last_wins_in_its_first_place() {
        let c = Recorder {
            registry: Registry::builtin(),
            seen: RefCell::new(Vec::new()),
        };
        c.change()
            .put(&iface("a", 1))
            .put(&iface("b", 1))
            .put(&iface("a", 2))
            .delete(&iface("b", 0))
            .dry_run()
            .await
            .expect("dry run");
        let seen = c.seen.borrow();
        let (resync, changes, dry_run) = &seen[0];
        assert!(!resync && *dry_run);
        let got: Vec<(String, Option<u32>)> = changes
            .iter()
            .map(|(k, v)| (k.to_string(), mtu(v)))
            .collect();
        assert_eq!(
            got,
            [
                ("config/vpp/v2/interfaces/a".to_owned(), Some(2)),
                ("config/vpp/v2/interfaces/b".to_owned(), None)
            ]
        );
    }

    #[actix_rt::test]
    async fn bad_input_never_reaches_the_transport() {
        let c = Recorder {
            registry: Registry::builtin(),
            seen: RefCell::new(Vec::new()),
        };
        let unknown = messages::proto::ligato::kvscheduler::ValueStatus::default();
        let e = c.change().put(&iface("a", 1)).put(&unknown).send().await;
        assert!(matches!(e, Err(ClientError::Model(_))));
        let e = c.change().delete_key("no/such/model").send().await;
        assert_eq!(
            e.err().map(|e| e.to_string()).as_deref(),
            Some(r#"key "no/such/model" matches no registered model"#)
        );
        let e = c.resync().delete(&iface("a", 1)).send().await;
        assert!(matches!(e, Err(ClientError::DeleteInResync { .. })));
        assert!(c.seen.borrow().is_empty());
    }
}
