//! Fault knobs: `--fail <msg_name>[:<count>][=<retval>]` makes a message's reply carry an
//! error retval (default -1, UNSPECIFIED) without touching the state, for `count` requests
//! or forever; `--latency <us>` delays every request on the main thread.
//!
//! Only messages answered by one reply with a retval can fail; dumps cannot (they have no
//! retval), and the server refuses such a knob when it starts.

use std::str::FromStr;

/// One `--fail` knob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailSpec {
    /// The message name without CRC, e.g. `create_loopback`.
    pub name: String,
    /// How many requests fail; `None` means all of them.
    pub count: Option<u32>,
    pub retval: i32,
}

/// Why a `--fail` argument does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FailParseError {
    #[error("empty message name in fail spec {0:?}")]
    EmptyName(String),
    #[error("bad count in fail spec {0:?}")]
    BadCount(String),
    #[error("bad retval in fail spec {0:?}")]
    BadRetval(String),
}

impl FromStr for FailSpec {
    type Err = FailParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (rest, retval) = match s.split_once('=') {
            Some((r, v)) => (
                r,
                v.parse::<i32>()
                    .map_err(|_| FailParseError::BadRetval(s.to_owned()))?,
            ),
            None => (s, -1),
        };
        let (name, count) = match rest.split_once(':') {
            Some((n, c)) => (
                n,
                Some(
                    c.parse::<u32>()
                        .map_err(|_| FailParseError::BadCount(s.to_owned()))?,
                ),
            ),
            None => (rest, None),
        };
        if name.is_empty() {
            return Err(FailParseError::EmptyName(s.to_owned()));
        }
        Ok(FailSpec {
            name: name.to_owned(),
            count,
            retval,
        })
    }
}

/// The active `--fail` knobs.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    specs: Vec<FailSpec>,
}

impl Faults {
    pub fn new(specs: Vec<FailSpec>) -> Self {
        Faults { specs }
    }

    pub fn add(&mut self, spec: FailSpec) {
        self.specs.push(spec);
    }

    /// The retval the next `name` request must fail with, if a knob still applies.
    pub fn take(&mut self, name: &str) -> Option<i32> {
        let spec = self
            .specs
            .iter_mut()
            .find(|s| s.name == name && s.count != Some(0))?;
        if let Some(c) = &mut spec.count {
            *c -= 1;
        }
        Some(spec.retval)
    }

    pub fn is_empty(&self) -> bool {
        self.specs.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fail_specs_parse_and_count_down() {
        let spec: FailSpec = "create_loopback:2=-31".parse().expect("spec");
        assert_eq!(spec.name, "create_loopback");
        assert_eq!((spec.count, spec.retval), (Some(2), -31));
        let always: FailSpec = "ip_route_add_del".parse().expect("spec");
        assert_eq!((always.count, always.retval), (None, -1));
        assert!("x:y".parse::<FailSpec>().is_err());
        assert!(":3".parse::<FailSpec>().is_err());
        assert!("x=abc".parse::<FailSpec>().is_err());
        let mut f = Faults::new(vec![spec, always]);
        assert_eq!(f.take("create_loopback"), Some(-31));
        assert_eq!(f.take("create_loopback"), Some(-31));
        assert_eq!(f.take("create_loopback"), None);
        assert_eq!(f.take("ip_route_add_del"), Some(-1));
        assert_eq!(f.take("ip_route_add_del"), Some(-1));
        assert_eq!(f.take("show_version"), None);
    }
}
