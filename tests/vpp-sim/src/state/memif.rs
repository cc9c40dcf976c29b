//! memif socket files as `memif_socket_filename_add_del` manages them: id 0 is VPP's default
//! socket (`/run/vpp/memif.sock`) and cannot be changed; an id in use by a memif interface
//! cannot be deleted or re-pointed (-74); a memif needs its socket id registered first (-6).
//!
//! It keeps only the file names; no socket is opened and no peer ever connects.

use super::{IfKind, NONE, Retval, Vpp, VppResult};

/// The socket file VPP registers under id 0 at start.
pub const DEFAULT_MEMIF_SOCKET: &str = "/run/vpp/memif.sock";

impl Vpp {
    fn memif_socket_in_use(&self, socket_id: u32) -> bool {
        self.interfaces()
            .any(|i| matches!(i.kind, IfKind::Memif { socket_id: s, .. } if s == socket_id))
    }

    /// `memif_socket_filename_add_del`: ids 0 and `~0` are -73; add needs a file name (-73)
    /// and replaces the name of an unused id (same name: no-op; used: -74); delete of an
    /// unknown id is -73, of a used one -74.
    pub fn memif_socket_add_del(
        &mut self,
        is_add: bool,
        socket_id: u32,
        filename: &str,
    ) -> VppResult<()> {
        if socket_id == 0 || socket_id == NONE {
            return Err(Retval::INVALID_ARGUMENT);
        }
        if !is_add {
            if !self.memif_sockets.contains_key(&socket_id) {
                return Err(Retval::INVALID_ARGUMENT);
            }
            if self.memif_socket_in_use(socket_id) {
                return Err(Retval::UNEXPECTED_INTF_STATE);
            }
            self.memif_sockets.remove(&socket_id);
            return Ok(());
        }
        if filename.is_empty() {
            return Err(Retval::INVALID_ARGUMENT);
        }
        if let Some(existing) = self.memif_sockets.get(&socket_id) {
            if existing == filename {
                return Ok(());
            }
            if self.memif_socket_in_use(socket_id) {
                return Err(Retval::UNEXPECTED_INTF_STATE);
            }
        }
        self.memif_sockets.insert(socket_id, filename.to_owned());
        Ok(())
    }

    /// `memif_socket_filename_add_del_v2` (add): `~0` picks the lowest free id; returns it.
    pub fn memif_socket_add_v2(&mut self, socket_id: u32, filename: &str) -> VppResult<u32> {
        let id = if socket_id == NONE {
            (1..NONE)
                .find(|id| !self.memif_sockets.contains_key(id))
                .ok_or(Retval::INVALID_ARGUMENT)?
        } else {
            socket_id
        };
        self.memif_socket_add_del(true, id, filename)?;
        Ok(id)
    }

    /// Registered socket files: (id, file name), by id.
    pub fn memif_sockets(&self) -> impl Iterator<Item = (u32, &str)> {
        self.memif_sockets.iter().map(|(id, f)| (*id, f.as_str()))
    }
}
