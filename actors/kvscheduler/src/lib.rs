//! placeholder: the scheduler core (issue 4) lands here.
