//! Benchmark of a 10,000-interface plus 50,000-route resync into vpp-sim next to a raw replay
//! of the same requests; filled in by a later commit, so for now it only builds.

fn main() {}
