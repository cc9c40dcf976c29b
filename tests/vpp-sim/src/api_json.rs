//! The `.api.json` files of each simulated release, compiled into the simulator: served by
//! `get_api_json` (releases that have it) and read for the module versions `api_versions`
//! reports. The files are binapi's vendored copies (`binapi/api/<release>/`).
//!
//! It deliberately does not derive the message table from them; binapi's release modules do.

use std::collections::HashMap;
use std::sync::OnceLock;

macro_rules! files {
    ($rel:literal: $($dir:literal / $file:literal),* $(,)?) => {
        &[$((
            concat!($dir, "/", $file, ".api.json"),
            include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"), "/../../binapi/api/", $rel, "/", $dir, "/", $file, ".api.json"
            )),
        )),*]
    };
}

type Files = &'static [(&'static str, &'static str)];

const V2101: Files = files!("21.01":
    "core"/"af_packet", "core"/"ethernet_types", "core"/"fib_types", "core"/"interface",
    "core"/"interface_types", "core"/"ip", "core"/"ip_neighbor", "core"/"ip_types", "core"/"l2",
    "core"/"memclnt", "core"/"mfib_types", "core"/"tapv2", "core"/"vpe", "core"/"vpe_types",
    "core"/"vxlan", "plugins"/"memif",
);

const V2306: Files = files!("23.06":
    "core"/"ethernet_types", "core"/"fib_types", "core"/"interface", "core"/"interface_types",
    "core"/"ip", "core"/"ip_neighbor", "core"/"ip_types", "core"/"l2", "core"/"memclnt",
    "core"/"mfib_types", "core"/"tapv2", "core"/"vlib", "core"/"vpe", "core"/"vpe_types",
    "plugins"/"af_packet", "plugins"/"memif", "plugins"/"vxlan",
);

const V2506: Files = files!("25.06":
    "core"/"ethernet_types", "core"/"fib_types", "core"/"interface", "core"/"interface_types",
    "core"/"ip", "core"/"ip_neighbor", "core"/"ip_types", "core"/"l2", "core"/"memclnt",
    "core"/"mfib_types", "core"/"tapv2", "core"/"vlib", "core"/"vpe", "core"/"vpe_types",
    "plugins"/"af_packet", "plugins"/"memif", "plugins"/"vxlan",
);

/// The `.api.json` files of a release: (path under the release folder, content).
pub fn files(version: &str) -> Files {
    match version {
        "21.01" => V2101,
        "23.06" => V2306,
        "25.06" => V2506,
        _ => &[],
    }
}

/// `get_api_json`'s answer: a JSON array of every file object.
pub fn api_json(version: &str) -> String {
    let mut out = String::from("[");
    for (i, (_, content)) in files(version).iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(content.trim());
    }
    out.push(']');
    out
}

/// `options.version` of each module (file name without `.api.json`), parsed once.
pub fn module_versions(version: &str) -> &'static HashMap<String, [u32; 3]> {
    static PARSED: OnceLock<HashMap<&'static str, HashMap<String, [u32; 3]>>> = OnceLock::new();
    static EMPTY: OnceLock<HashMap<String, [u32; 3]>> = OnceLock::new();
    let parsed = PARSED.get_or_init(|| {
        ["21.01", "23.06", "25.06"]
            .into_iter()
            .map(|v| (v, parse_versions(files(v))))
            .collect()
    });
    parsed
        .get(version)
        .unwrap_or_else(|| EMPTY.get_or_init(HashMap::new))
}

fn parse_versions(files: Files) -> HashMap<String, [u32; 3]> {
    let mut out = HashMap::new();
    for (path, content) in files {
        let Ok(json) = serde_json::from_str::<serde_json::Value>(content) else {
            tracing::warn!(path, "api json does not parse");
            continue;
        };
        let module = path
            .rsplit('/')
            .next()
            .unwrap_or(path)
            .trim_end_matches(".api.json")
            .to_owned();
        let mut v = [0u32; 3];
        if let Some(s) = json
            .get("options")
            .and_then(|o| o.get("version"))
            .and_then(|v| v.as_str())
        {
            for (slot, part) in v.iter_mut().zip(s.split('.')) {
                *slot = part.parse().unwrap_or(0);
            }
        }
        out.insert(module, v);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_release_has_its_files_and_versions() {
        for r in binapi::RELEASES {
            assert!(!files(r.version).is_empty(), "{}", r.version);
            let versions = module_versions(r.version);
            assert_ne!(versions.get("interface"), None, "{}", r.version);
            assert_ne!(versions.get("interface"), Some(&[0, 0, 0]));
        }
        let json: serde_json::Value =
            serde_json::from_str(&api_json("25.06")).expect("get_api_json is valid json");
        assert_eq!(json.as_array().map(Vec::len), Some(17));
    }
}
