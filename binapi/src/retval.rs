//! VPP's API return codes (`retval`): 0 is success, negative values are `VNET_API_ERROR_*`.
//!
//! The table is copied from VPP's `src/vnet/api_errno.h` / `src/vnet/error.h` (same values as GoVPP's
//! `api/errors.go`) for the codes up to -152, plus -165 (`EAGAIN`, cursor streams).
//! It deliberately covers only VNET codes: plugin-specific codes render as "unknown error".

/// `(retval, symbolic name, meaning)` for the known codes.
pub const RETVALS: &[(i32, &str, &str)] = &[
    (-1, "UNSPECIFIED", "unspecified error"),
    (-2, "INVALID_SW_IF_INDEX", "invalid sw_if_index"),
    (-3, "NO_SUCH_FIB", "no such fib / vrf"),
    (-4, "NO_SUCH_INNER_FIB", "no such inner fib / vrf"),
    (-5, "NO_SUCH_LABEL", "no such label"),
    (-6, "NO_SUCH_ENTRY", "no such entry"),
    (-7, "INVALID_VALUE", "invalid value"),
    (-8, "INVALID_VALUE_2", "invalid value #2"),
    (-9, "UNIMPLEMENTED", "unimplemented"),
    (-10, "INVALID_SW_IF_INDEX_2", "invalid sw_if_index #2"),
    (-11, "SYSCALL_ERROR_1", "system call error #1"),
    (-12, "SYSCALL_ERROR_2", "system call error #2"),
    (-13, "SYSCALL_ERROR_3", "system call error #3"),
    (-14, "SYSCALL_ERROR_4", "system call error #4"),
    (-15, "SYSCALL_ERROR_5", "system call error #5"),
    (-16, "SYSCALL_ERROR_6", "system call error #6"),
    (-17, "SYSCALL_ERROR_7", "system call error #7"),
    (-18, "SYSCALL_ERROR_8", "system call error #8"),
    (-19, "SYSCALL_ERROR_9", "system call error #9"),
    (-20, "SYSCALL_ERROR_10", "system call error #10"),
    (-30, "FEATURE_DISABLED", "feature disabled by configuration"),
    (-31, "INVALID_REGISTRATION", "invalid registration"),
    (-50, "NEXT_HOP_NOT_IN_FIB", "next hop not in fib"),
    (-51, "UNKNOWN_DESTINATION", "unknown destination"),
    (-52, "NO_PATHS_IN_ROUTE", "no paths specified in route"),
    (
        -53,
        "NEXT_HOP_NOT_FOUND_MP",
        "next hop not found (multipath)",
    ),
    (
        -54,
        "NO_MATCHING_INTERFACE",
        "no matching interface for probe",
    ),
    (-55, "INVALID_VLAN", "invalid vlan"),
    (-56, "VLAN_ALREADY_EXISTS", "vlan subif already exists"),
    (-57, "INVALID_SRC_ADDRESS", "invalid src address"),
    (-58, "INVALID_DST_ADDRESS", "invalid dst address"),
    (-59, "ADDRESS_LENGTH_MISMATCH", "address length mismatch"),
    (
        -60,
        "ADDRESS_NOT_FOUND_FOR_INTERFACE",
        "address not found for interface",
    ),
    (-61, "ADDRESS_NOT_DELETABLE", "address not deletable"),
    (-62, "IP6_NOT_ENABLED", "ip6 not enabled"),
    (-63, "NO_SUCH_NODE", "no such graph node"),
    (-64, "NO_SUCH_NODE2", "no such graph node #2"),
    (-65, "NO_SUCH_TABLE", "no such table"),
    (-66, "NO_SUCH_TABLE2", "no such table #2"),
    (-67, "NO_SUCH_TABLE3", "no such table #3"),
    (-68, "SUBIF_ALREADY_EXISTS", "subinterface already exists"),
    (-69, "SUBIF_CREATE_FAILED", "subinterface creation failed"),
    (-70, "INVALID_MEMORY_SIZE", "invalid memory size requested"),
    (-71, "INVALID_INTERFACE", "invalid interface"),
    (
        -72,
        "INVALID_VLAN_TAG_COUNT",
        "invalid number of tags for requested operation",
    ),
    (-73, "INVALID_ARGUMENT", "invalid argument"),
    (-74, "UNEXPECTED_INTF_STATE", "unexpected interface state"),
    (-75, "TUNNEL_EXIST", "tunnel already exists"),
    (-76, "INVALID_DECAP_NEXT", "invalid decap-next"),
    (-77, "RESPONSE_NOT_READY", "response not ready"),
    (-78, "NOT_CONNECTED", "not connected to the data plane"),
    (-79, "IF_ALREADY_EXISTS", "interface already exists"),
    (
        -80,
        "BOND_SLAVE_NOT_ALLOWED",
        "operation not allowed on slave of bondethernet",
    ),
    (-81, "VALUE_EXIST", "value already exists"),
    (-82, "SAME_SRC_DST", "source and destination are the same"),
    (-91, "CLASSIFY_TABLE_NOT_FOUND", "classify table not found"),
    (
        -94,
        "INCORRECT_ADJACENCY_TYPE",
        "invalid adjacency type for this operation",
    ),
    (-97, "INVALID_ADDRESS_FAMILY", "invalid address family"),
    (
        -98,
        "INVALID_SUB_SW_IF_INDEX",
        "invalid sub-interface sw_if_index",
    ),
    (-99, "TABLE_TOO_BIG", "table too big"),
    (
        -100,
        "CANNOT_ENABLE_DISABLE_FEATURE",
        "cannot enable/disable feature",
    ),
    (-105, "ADDRESS_IN_USE", "address in use"),
    (-106, "ADDRESS_NOT_IN_USE", "address not in use"),
    (-107, "QUEUE_FULL", "queue full"),
    (
        -114,
        "ADDRESS_FOUND_FOR_INTERFACE",
        "address found for interface",
    ),
    (-116, "ENTRY_ALREADY_EXISTS", "entry already exists"),
    (-119, "BD_ALREADY_EXISTS", "bridge domain already exists"),
    (-120, "BD_IN_USE", "bridge domain has member interfaces"),
    (
        -121,
        "BD_NOT_MODIFIABLE",
        "bridge domain 0 can't be deleted/modified",
    ),
    (
        -122,
        "BD_ID_EXCEED_MAX",
        "bridge domain id exceeds 16m limit",
    ),
    (-123, "SUBIF_DOESNT_EXIST", "subinterface doesn't exist"),
    (-125, "INVALID_QUEUE", "invalid queue"),
    (-126, "UNSUPPORTED", "unsupported"),
    (
        -127,
        "DUPLICATE_IF_ADDRESS",
        "address already present on another interface",
    ),
    (-144, "INIT_FAILED", "initialization failed"),
    (-145, "NETLINK_ERROR", "netlink error"),
    (-147, "INSTANCE_IN_USE", "instance in use"),
    (-150, "INVALID_VALUE_3", "invalid value #3"),
    (
        -151,
        "NON_ETHERNET",
        "interface is not an ethernet interface",
    ),
    (
        -152,
        "BD_ALREADY_HAS_BVI",
        "bridge domain already has a bvi interface",
    ),
    (-165, "EAGAIN", "try again (cursor stream continues)"),
];

/// The symbolic name of a return code, e.g. `INVALID_SW_IF_INDEX` for -2.
pub fn retval_name(retval: i32) -> Option<&'static str> {
    lookup(retval).map(|(_, name, _)| *name)
}

/// What a return code means, in VPP's words; "success" for 0 and "unknown error" for codes not in the table.
pub fn retval_meaning(retval: i32) -> &'static str {
    match retval {
        0 => "success",
        _ => lookup(retval).map_or("unknown error", |(_, _, text)| *text),
    }
}

/// Codes after which the same request may succeed if sent again unchanged.
pub fn retval_is_transient(retval: i32) -> bool {
    matches!(retval, -77 | -107 | -165)
}

fn lookup(retval: i32) -> Option<&'static (i32, &'static str, &'static str)> {
    RETVALS.iter().find(|(rv, _, _)| *rv == retval)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_codes_have_names() {
        assert_eq!(retval_name(-1), Some("UNSPECIFIED"));
        assert_eq!(retval_name(-2), Some("INVALID_SW_IF_INDEX"));
        assert_eq!(retval_meaning(-3), "no such fib / vrf");
        assert_eq!(retval_meaning(0), "success");
        assert_eq!(retval_meaning(-9999), "unknown error");
    }

    #[test]
    fn table_has_no_duplicate_codes_and_is_ordered() {
        for pair in RETVALS.windows(2) {
            assert!(pair[0].0 > pair[1].0, "{:?} before {:?}", pair[0], pair[1]);
        }
    }
}
