//! `vpp-xconnect`: L2 cross-connects (`config/vpp/l2/v2/xconnect/<rx>`): everything received
//! on the rx interface is sent out of the tx interface (one direction, as in Ligato).
//!
//! It depends on both interfaces (`rx-interface`, `tx-interface`); a new tx interface
//! re-creates it. Retrieve reads `l2_xconnect_dump` and names interfaces by their tag.

use std::sync::Arc;

use kvscheduler::{Dependency, Descriptor, KvError, Metadata, MetadataView, Origin, Retrieved};
use messages::proto::vpp_l2::XConnectPair;
use messages::{Key, Value};

use crate::api::ApiHandle;
use crate::descriptors::{
    XCONNECT, XCONNECT_PREFIX, interface_key, interface_names, model, sw_if_index,
};

/// See the module docs.
#[derive(Debug)]
pub struct XConnectDescriptor {
    api: ApiHandle,
}

impl XConnectDescriptor {
    pub fn new(api: ApiHandle) -> Self {
        XConnectDescriptor { api }
    }

    fn apply(&self, md: &MetadataView<'_>, value: &Value, enable: bool) -> Result<(), KvError> {
        let x = model::<XConnectPair>(value, "xconnect pair")?;
        let rx = sw_if_index(md, &x.receive_interface)?;
        let tx = sw_if_index(md, &x.transmit_interface)?;
        self.api.get().set_xconnect(rx, tx, enable)?;
        Ok(())
    }
}

impl Descriptor for XConnectDescriptor {
    fn name(&self) -> &str {
        XCONNECT
    }

    fn key_selector(&self, key: &Key) -> bool {
        key.has_prefix(XCONNECT_PREFIX)
    }

    fn nb_key_prefix(&self) -> Option<&str> {
        Some(XCONNECT_PREFIX)
    }

    fn validate(&self, _key: &Key, value: &Value) -> Result<(), KvError> {
        let x = model::<XConnectPair>(value, "xconnect pair")?;
        if x.receive_interface.is_empty() {
            return Err(KvError::invalid(
                "receive_interface is empty",
                &["receive_interface"],
            ));
        }
        if x.transmit_interface.is_empty() {
            return Err(KvError::invalid(
                "transmit_interface is empty",
                &["transmit_interface"],
            ));
        }
        Ok(())
    }

    fn dependencies(&self, _key: &Key, value: &Value) -> Vec<Dependency> {
        let Some(x) = messages::value::downcast::<XConnectPair>(&**value) else {
            return Vec::new();
        };
        vec![
            Dependency::on_key("rx-interface", interface_key(&x.receive_interface)),
            Dependency::on_key("tx-interface", interface_key(&x.transmit_interface)),
        ]
    }

    fn create(
        &self,
        md: &MetadataView<'_>,
        _key: &Key,
        value: &Value,
    ) -> Result<Option<Metadata>, KvError> {
        self.apply(md, value, true)?;
        Ok(None)
    }

    fn delete(
        &self,
        md: &MetadataView<'_>,
        _key: &Key,
        value: &Value,
        _metadata: Option<&Metadata>,
    ) -> Result<(), KvError> {
        self.apply(md, value, false)
    }

    fn retrieve(
        &self,
        _md: &MetadataView<'_>,
        _correlate: &[(Key, Value)],
    ) -> Result<Option<Vec<Retrieved>>, KvError> {
        let names = interface_names(&self.api)?;
        let pairs = self.api.get().dump_xconnects()?;
        let out = pairs
            .into_iter()
            .filter_map(|(rx, tx)| {
                let x = XConnectPair {
                    receive_interface: names.get(&rx)?.clone(),
                    transmit_interface: names.get(&tx)?.clone(),
                };
                Some(Retrieved {
                    key: Key::from(format!("{XCONNECT_PREFIX}{}", x.receive_interface)),
                    value: Arc::new(x),
                    metadata: None,
                    origin: Origin::FromNb,
                })
            })
            .collect();
        Ok(Some(out))
    }
}
