//! Bridge domains, L2 membership (bridge and BVI ports, cross-connects) and the L2 FIB, with
//! VPP's strictness and its quirks: BD 0 is reserved; `sw_interface_set_l2_bridge` creates a
//! missing BD; FIB entries are keyed by (mac, bd_index) and outlive both their interface
//! ("Stale") and their BD (then reported under bd_id `~0` and impossible to delete).

use super::{IfKind, L2Mode, Mac, NONE, Retval, Vpp, VppResult};

/// Highest bridge-domain id VPP accepts.
pub const BD_ID_MAX: u32 = 0xFF_FFFF;

/// A bridge domain and its members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BridgeDomain {
    pub bd_id: u32,
    pub bd_index: u32,
    pub flood: bool,
    pub uu_flood: bool,
    pub forward: bool,
    pub learn: bool,
    pub arp_term: bool,
    pub arp_ufwd: bool,
    pub mac_age: u8,
    pub tag: String,
    /// (sw_if_index, split-horizon group), in the order they joined.
    pub members: Vec<(u32, u8)>,
    pub bvi: Option<u32>,
}

impl BridgeDomain {
    pub(crate) fn placeholder() -> Self {
        BridgeDomain::with_defaults(0, 0)
    }

    /// The features a BD gets when `sw_interface_set_l2_bridge` creates it implicitly.
    fn with_defaults(bd_id: u32, bd_index: u32) -> Self {
        BridgeDomain {
            bd_id,
            bd_index,
            flood: true,
            uu_flood: true,
            forward: true,
            learn: true,
            arp_term: false,
            arp_ufwd: false,
            mac_age: 0,
            tag: String::new(),
            members: Vec::new(),
            bvi: None,
        }
    }
}

/// Flags of a `bridge_domain_add_del` request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BdFlags {
    pub flood: bool,
    pub uu_flood: bool,
    pub forward: bool,
    pub learn: bool,
    pub arp_term: bool,
    pub arp_ufwd: bool,
    pub mac_age: u8,
    pub tag: String,
}

/// One L2 FIB entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FibEntry {
    pub sw_if_index: u32,
    pub static_mac: bool,
    pub filter_mac: bool,
    pub bvi_mac: bool,
}

impl Vpp {
    fn alloc_bd_index(&mut self) -> u32 {
        match self.bd_index_used.iter().position(|used| !used) {
            Some(i) => {
                self.bd_index_used[i] = true;
                i as u32
            }
            None => {
                self.bd_index_used.push(true);
                (self.bd_index_used.len() - 1) as u32
            }
        }
    }

    pub fn bridge_domain(&self, bd_id: u32) -> Option<&BridgeDomain> {
        self.bds.get(&bd_id)
    }

    /// Bridge domains as `bridge_domain_dump` lists them (BD 0 skipped), by id.
    pub fn bridge_domains(&self) -> impl Iterator<Item = &BridgeDomain> {
        self.bds.values().filter(|bd| bd.bd_id != 0)
    }

    /// The id of the live BD at `bd_index`, or `~0` when that BD was deleted.
    pub fn bd_id_of_index(&self, bd_index: u32) -> u32 {
        self.bds
            .values()
            .find(|bd| bd.bd_index == bd_index)
            .map(|bd| bd.bd_id)
            .unwrap_or(NONE)
    }

    /// `bridge_domain_add_del` (add): an existing id, 0 included, is -119; ids above 2^24-1
    /// are -122.
    pub fn bd_add(&mut self, bd_id: u32, flags: BdFlags) -> VppResult<()> {
        if bd_id > BD_ID_MAX {
            return Err(Retval::BD_ID_EXCEED_MAX);
        }
        if self.bds.contains_key(&bd_id) {
            return Err(Retval::BD_ALREADY_EXISTS);
        }
        let bd_index = self.alloc_bd_index();
        let mut bd = BridgeDomain::with_defaults(bd_id, bd_index);
        bd.flood = flags.flood;
        bd.uu_flood = flags.uu_flood;
        bd.forward = flags.forward;
        bd.learn = flags.learn;
        bd.arp_term = flags.arp_term;
        bd.arp_ufwd = flags.arp_ufwd;
        bd.mac_age = flags.mac_age;
        bd.tag = flags.tag;
        self.bds.insert(bd_id, bd);
        Ok(())
    }

    /// `bridge_domain_add_del_v2` (add): `~0` allocates the lowest unused id, returned.
    pub fn bd_add_v2(&mut self, bd_id: u32, flags: BdFlags) -> VppResult<u32> {
        let bd_id = if bd_id == NONE {
            (1..=BD_ID_MAX)
                .find(|id| !self.bds.contains_key(id))
                .ok_or(Retval::BD_ID_EXCEED_MAX)?
        } else {
            bd_id
        };
        self.bd_add(bd_id, flags)?;
        Ok(bd_id)
    }

    /// `bridge_domain_add_del` (delete): unknown -6, BD 0 -121, members -120. L2 FIB entries
    /// are not checked and stay behind.
    pub fn bd_del(&mut self, bd_id: u32) -> VppResult<()> {
        if bd_id == 0 {
            return Err(Retval::BD_NOT_MODIFIABLE);
        }
        let bd = self.bds.get(&bd_id).ok_or(Retval::NO_SUCH_ENTRY)?;
        if !bd.members.is_empty() {
            return Err(Retval::BD_IN_USE);
        }
        let index = bd.bd_index as usize;
        self.bds.remove(&bd_id);
        if let Some(slot) = self.bd_index_used.get_mut(index) {
            *slot = false;
        }
        Ok(())
    }

    /// Takes an interface out of whatever L2 mode it is in.
    pub(crate) fn leave_l2(&mut self, sw_if_index: u32) {
        let Some(iface) = self.interface(sw_if_index) else {
            return;
        };
        match iface.l2 {
            L2Mode::Bridge { bd_id, .. } => {
                if let Some(bd) = self.bds.get_mut(&bd_id) {
                    bd.members.retain(|(i, _)| *i != sw_if_index);
                    if bd.bvi == Some(sw_if_index) {
                        bd.bvi = None;
                    }
                }
            }
            L2Mode::Xconnect { .. } => {
                self.xconnects.remove(&sw_if_index);
            }
            L2Mode::L3 => {}
        }
        if let Ok(iface) = self.interface_mut(sw_if_index) {
            iface.l2 = L2Mode::L3;
        }
    }

    /// `sw_interface_set_l2_bridge`. With `enable`, a missing BD is created with default
    /// features, a second BVI is -152, and a BVI port installs a static BVI FIB entry for its
    /// MAC. Without `enable` the interface goes back to L3.
    pub fn set_l2_bridge(
        &mut self,
        sw_if_index: u32,
        bd_id: u32,
        port_type: u32,
        shg: u8,
        enable: bool,
    ) -> VppResult<()> {
        let mac = self
            .interface(sw_if_index)
            .ok_or(Retval::INVALID_SW_IF_INDEX)?
            .mac;
        if matches!(
            self.interface(sw_if_index).map(|i| &i.kind),
            Some(IfKind::Local)
        ) {
            return Err(Retval::INVALID_SW_IF_INDEX);
        }
        if !enable {
            self.leave_l2(sw_if_index);
            return Ok(());
        }
        if bd_id > BD_ID_MAX {
            return Err(Retval::BD_ID_EXCEED_MAX);
        }
        if port_type > 2 {
            return Err(Retval::INVALID_VALUE);
        }
        let bvi = port_type == 1;
        if bvi
            && let Some(bd) = self.bds.get(&bd_id)
            && bd.bvi.is_some_and(|b| b != sw_if_index)
        {
            return Err(Retval::BD_ALREADY_HAS_BVI);
        }
        self.leave_l2(sw_if_index);
        if !self.bds.contains_key(&bd_id) {
            let bd_index = self.alloc_bd_index();
            self.bds
                .insert(bd_id, BridgeDomain::with_defaults(bd_id, bd_index));
        }
        let bd = self.bds.get_mut(&bd_id).ok_or(Retval::NO_SUCH_ENTRY)?;
        bd.members.push((sw_if_index, shg));
        if bvi {
            bd.bvi = Some(sw_if_index);
        }
        let bd_index = bd.bd_index;
        if bvi {
            let entry = FibEntry {
                sw_if_index,
                static_mac: true,
                filter_mac: false,
                bvi_mac: true,
            };
            self.fib.insert((mac, bd_index), entry);
        }
        self.interface_mut(sw_if_index)?.l2 = L2Mode::Bridge { bd_id, bvi, shg };
        Ok(())
    }

    /// `l2fib_add_del`. Unknown BD: -6. Add (not filter): the interface must exist and be in
    /// bridge mode in any BD (-2); an existing (mac, bd) is overwritten. Delete: the entry
    /// must exist and a non-zero sw_if_index must match it (-6).
    #[allow(clippy::too_many_arguments)]
    pub fn l2fib_add_del(
        &mut self,
        mac: Mac,
        bd_id: u32,
        sw_if_index: u32,
        is_add: bool,
        static_mac: bool,
        filter_mac: bool,
        bvi_mac: bool,
    ) -> VppResult<()> {
        let bd_index = self.bds.get(&bd_id).ok_or(Retval::NO_SUCH_ENTRY)?.bd_index;
        if is_add {
            if !filter_mac {
                let iface = self
                    .interface(sw_if_index)
                    .ok_or(Retval::INVALID_SW_IF_INDEX)?;
                if !matches!(iface.l2, L2Mode::Bridge { .. }) {
                    return Err(Retval::INVALID_SW_IF_INDEX);
                }
            }
            let entry = FibEntry {
                sw_if_index,
                static_mac,
                filter_mac,
                bvi_mac,
            };
            self.fib.insert((mac, bd_index), entry);
            return Ok(());
        }
        let entry = self
            .fib
            .get(&(mac, bd_index))
            .ok_or(Retval::NO_SUCH_ENTRY)?;
        if sw_if_index != 0 && entry.sw_if_index != sw_if_index {
            return Err(Retval::NO_SUCH_ENTRY);
        }
        self.fib.remove(&(mac, bd_index));
        Ok(())
    }

    /// L2 FIB entries as `l2_fib_table_dump` returns them: `(bd_id, mac, entry)`, where the
    /// bd_id of an entry whose BD was deleted reads `~0`. `bd_id` `~0` means all; an unknown
    /// id gives nothing.
    pub fn l2fib_entries(&self, bd_id: u32) -> Vec<(u32, Mac, FibEntry)> {
        let filter = if bd_id == NONE {
            None
        } else {
            match self.bds.get(&bd_id) {
                Some(bd) => Some(bd.bd_index),
                None => return Vec::new(),
            }
        };
        self.fib
            .iter()
            .filter(|((_, idx), _)| filter.is_none_or(|f| f == *idx))
            .map(|((mac, idx), e)| (self.bd_id_of_index(*idx), *mac, *e))
            .collect()
    }

    /// Raw FIB entries keyed by (mac, bd_index), for `show l2fib`.
    pub fn l2fib_raw(&self) -> impl Iterator<Item = (&(Mac, u32), &FibEntry)> {
        self.fib.iter()
    }

    /// `sw_interface_set_l2_xconnect`: with `enable`, rx sends everything to tx (both must
    /// exist, -2); without, rx goes back to L3.
    pub fn set_l2_xconnect(&mut self, rx: u32, tx: u32, enable: bool) -> VppResult<()> {
        self.interface(rx).ok_or(Retval::INVALID_SW_IF_INDEX)?;
        if !enable {
            self.leave_l2(rx);
            return Ok(());
        }
        self.interface(tx).ok_or(Retval::INVALID_SW_IF_INDEX)?;
        self.leave_l2(rx);
        self.xconnects.insert(rx, tx);
        self.interface_mut(rx)?.l2 = L2Mode::Xconnect { tx };
        Ok(())
    }

    /// Cross-connects as `l2_xconnect_dump` returns them: (rx, tx).
    pub fn xconnects(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.xconnects.iter().map(|(rx, tx)| (*rx, *tx))
    }
}
