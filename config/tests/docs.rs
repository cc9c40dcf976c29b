//! docs/configuration.md is generated from the config tables; this test fails when the file is
//! out of date. Regenerate it with `UPDATE_DOCS=1 cargo test -p vpp-agent-config --test docs`.

use std::path::PathBuf;

#[test]
fn configuration_reference_is_up_to_date() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/configuration.md");
    let generated = config::table::markdown();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, &generated).expect("write docs/configuration.md");
        return;
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == generated,
        "docs/configuration.md is out of date with config/src/table.rs; regenerate it with \
         `UPDATE_DOCS=1 cargo test -p vpp-agent-config --test docs`"
    );
}
