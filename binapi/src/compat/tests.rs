//! Tests of the compatibility check against tables built the way VPP builds them for each shipped release.

use super::*;
use crate::{vpp2101, vpp2306, vpp2506};

fn table(release: &'static Release) -> MessageTable {
    MessageTable::for_release(release, 0)
}

#[test]
fn each_release_table_picks_its_own_release() {
    assert_eq!(
        choose_release(&table(&vpp2101::RELEASE), None)
            .map(|r| r.version)
            .ok(),
        Some("21.01")
    );
    assert_eq!(
        choose_release(&table(&vpp2306::RELEASE), None)
            .map(|r| r.version)
            .ok(),
        Some("23.06")
    );
    assert_eq!(
        choose_release(&table(&vpp2506::RELEASE), None)
            .map(|r| r.version)
            .ok(),
        Some("25.06")
    );
}

#[test]
fn a_2506_table_also_serves_2306_and_show_version_decides() {
    let report = Report::new(&table(&vpp2506::RELEASE), crate::RELEASES);
    let versions: Vec<_> = report.compatible().iter().map(|r| r.version).collect();
    assert_eq!(versions, ["23.06", "25.06"]);
    assert_eq!(
        report.choose(Some("23.06-release")).map(|r| r.version).ok(),
        Some("23.06")
    );
    assert_eq!(
        report.choose(Some("v25.06.1")).map(|r| r.version).ok(),
        Some("25.06")
    );
    // A version we do not ship, or one that is not compatible, falls back to the newest compatible.
    assert_eq!(
        report.choose(Some("24.10")).map(|r| r.version).ok(),
        Some("25.06")
    );
    assert_eq!(
        report.choose(Some("21.01")).map(|r| r.version).ok(),
        Some("25.06")
    );
    assert_eq!(
        report.choose(Some("23.061")).map(|r| r.version).ok(),
        Some("25.06")
    );
}

#[test]
fn the_first_mismatch_is_reported_with_both_crcs() {
    let t = table(&vpp2101::RELEASE);
    let err = check(&t, &vpp2306::RELEASE).expect_err("21.01 has old crcs");
    assert_eq!(err.release, "23.06");
    // Messages are checked by name, so the first differing one is alphabetical.
    assert_eq!(err.message, "af_packet_create_v2");
    assert_eq!(err.found, None);
    assert!(
        err.to_string()
            .contains("af_packet_create_v2_4aff0436 is missing")
    );
}

#[test]
fn a_changed_crc_is_rejected() {
    let mut entries: Vec<(u16, String)> = table(&vpp2306::RELEASE)
        .entries()
        .into_iter()
        .map(|(id, n)| (id, n.to_string()))
        .collect();
    for (_, n) in &mut entries {
        if n == "sw_interface_set_flags_f5aec1b8" {
            *n = "sw_interface_set_flags_deadbeef".into();
        }
    }
    let t = MessageTable::from_entries(entries);
    let err = check(&t, &vpp2306::RELEASE).expect_err("changed crc");
    assert_eq!(err.message, "sw_interface_set_flags");
    assert_eq!(err.found.as_deref(), Some("deadbeef"));
    let e = choose_release(&t, Some("23.06")).expect_err("nothing fits");
    assert_eq!(e.kind(), crate::ErrorKind::Incompatible);
    assert!(
        e.to_string()
            .contains("sw_interface_set_flags has crc deadbeef, expected f5aec1b8"),
        "{e}"
    );
}

#[test]
fn an_empty_table_matches_nothing() {
    let e = choose_release(&MessageTable::default(), None).expect_err("empty");
    assert!(
        e.to_string().starts_with("no compatible release: 21.01:"),
        "{e}"
    );
}
