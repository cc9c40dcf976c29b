//! `show` commands in VPP's output layout (filled in with the server).
