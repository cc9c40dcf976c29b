//! [`ErrorReply`]: how each reply type looks when VPP refuses a request (the retval set, an
//! index field `~0` where VPP leaves it unset), used for real refusals and for `--fail`.
//!
//! Only reply types are listed here; requests and details never carry a retval.

use binapi::messages as m;
use binapi::types::InterfaceIndex;

use crate::state::NONE;

/// A reply that can carry a failing retval.
pub trait ErrorReply: binapi::Message {
    fn with_retval(retval: i32) -> Self;
}

macro_rules! error_reply {
    ($($t:ty $({ $($f:ident: $v:expr),* })?;)*) => {
        $(impl ErrorReply for $t {
            #[allow(clippy::needless_update)]
            fn with_retval(retval: i32) -> Self {
                Self { retval, $($($f: $v,)*)? ..Default::default() }
            }
        })*
    };
}

error_reply! {
    m::CreateLoopbackReply { sw_if_index: InterfaceIndex(NONE) };
    m::CreateLoopbackInstanceReply { sw_if_index: InterfaceIndex(NONE) };
    m::DeleteLoopbackReply;
    m::SwInterfaceSetFlagsReply;
    m::SwInterfaceAddDelAddressReply;
    m::SwInterfaceSetTableReply;
    m::SwInterfaceSetMacAddressReply;
    m::SwInterfaceSetMtuReply;
    m::HwInterfaceSetMtuReply;
    m::SwInterfaceTagAddDelReply;
    m::SwInterfaceSetRxModeReply;
    m::SwInterfaceSetUnnumberedReply;
    m::WantInterfaceEventsReply;
    m::TapCreateV2Reply { sw_if_index: InterfaceIndex(NONE) };
    m::TapCreateV3Reply { sw_if_index: InterfaceIndex(NONE) };
    m::TapDeleteV2Reply;
    m::MemifSocketFilenameAddDelReply;
    m::MemifSocketFilenameAddDelV2Reply { socket_id: NONE };
    m::MemifCreateReply { sw_if_index: InterfaceIndex(NONE) };
    m::MemifCreateV2Reply { sw_if_index: InterfaceIndex(NONE) };
    m::MemifDeleteReply;
    m::AfPacketCreateReply { sw_if_index: InterfaceIndex(NONE) };
    m::AfPacketCreateV2Reply { sw_if_index: InterfaceIndex(NONE) };
    m::AfPacketCreateV3Reply { sw_if_index: InterfaceIndex(NONE) };
    m::AfPacketDeleteReply;
    m::VxlanAddDelTunnelReply { sw_if_index: InterfaceIndex(NONE) };
    m::VxlanAddDelTunnelV2Reply { sw_if_index: InterfaceIndex(NONE) };
    m::VxlanAddDelTunnelV3Reply { sw_if_index: InterfaceIndex(NONE) };
    m::BridgeDomainAddDelReply;
    m::BridgeDomainAddDelV2Reply { bd_id: NONE };
    m::SwInterfaceSetL2BridgeReply;
    m::SwInterfaceSetL2XconnectReply;
    m::L2fibAddDelReply;
    m::IpTableAddDelReply;
    m::IpTableAddDelV2Reply;
    m::IpRouteAddDelReply { stats_index: NONE };
    m::IpRouteAddDelV2Reply { stats_index: NONE };
    m::IpNeighborAddDelReply { stats_index: NONE };
    m::ControlPingReply;
    m::ShowVersionReply;
    m::ShowVpeSystemTimeReply;
    m::ShowThreadsReply;
    m::ApiVersionsReply;
    m::CliInbandReply;
    m::GetApiJsonReply;
    m::GetFirstMsgIdReply { first_msg_id: 0xffff };
    m::MemclntKeepaliveReply;
    m::CreateSubifReply { sw_if_index: InterfaceIndex(NONE) };
    m::CreateVlanSubifReply { sw_if_index: InterfaceIndex(NONE) };
    m::DeleteSubifReply;
}
