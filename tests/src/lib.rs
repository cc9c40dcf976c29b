//! Support code for the whole-agent tests in `tests/tests/`: nothing here yet beyond the
//! crate itself; harness helpers land here as the running agent does.
