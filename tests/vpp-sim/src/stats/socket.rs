//! The stats socket, as VPP serves it (`vlib/stats/init.c`): a `SOCK_SEQPACKET` unix socket
//! that answers each connection with one message carrying the segment's memfd by
//! `SCM_RIGHTS`, then closes it. A VPP restart removes and re-creates the socket (a new inode
//! for clients that watch it) with the new segment behind it.
//!
//! It also ticks the heartbeat once a second, as VPP's stats collector does. It deliberately
//! serves nothing else on the socket.

use std::fs::File;
use std::io::IoSlice;
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustix::net::{
    AddressFamily, SendAncillaryBuffer, SendAncillaryMessage, SendFlags, SocketAddrUnix,
    SocketFlags, SocketType,
};
use tokio::sync::{mpsc, watch};

use crate::server::main_thread::Job;

/// Binds a `SOCK_SEQPACKET` listener at `path`, replacing a stale socket file.
pub fn bind(path: &Path) -> std::io::Result<OwnedFd> {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let fd = rustix::net::socket_with(
        AddressFamily::UNIX,
        SocketType::SEQPACKET,
        SocketFlags::NONBLOCK | SocketFlags::CLOEXEC,
        None,
    )?;
    rustix::net::bind(&fd, &SocketAddrUnix::new(path)?)?;
    rustix::net::listen(&fd, 64)?;
    Ok(fd)
}

/// Sends `segment` on a connected socket, as VPP does: no payload, one fd.
pub fn send_segment(conn: impl AsFd, segment: &File) -> std::io::Result<()> {
    let fds = [segment.as_fd()];
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
    let mut control = SendAncillaryBuffer::new(&mut space);
    control.push(SendAncillaryMessage::ScmRights(&fds));
    rustix::net::sendmsg(
        conn,
        &[IoSlice::new(&[])],
        &mut control,
        SendFlags::NOSIGNAL,
    )?;
    Ok(())
}

/// Serves the stats socket at `path` (already bound to `first`, so it listens before the
/// simulator reports ready) until the task is dropped: hands out the current segment,
/// re-creates the socket when the segment changes (a restart), and sends the main thread a
/// heartbeat tick every second.
pub async fn serve(
    path: PathBuf,
    first: OwnedFd,
    mut segment: watch::Receiver<Arc<File>>,
    main: mpsc::UnboundedSender<Job>,
) {
    let mut first = Some(first);
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        // std's and tokio's unix listeners only wrap the fd and call accept(2), which works on a
        // SOCK_SEQPACKET socket as well; the accepted "stream" is a seqpacket connection.
        let bound = match first.take() {
            Some(fd) => Ok(fd),
            None => bind(&path),
        };
        let listener = match bound.and_then(|fd| {
            tokio::net::UnixListener::from_std(std::os::unix::net::UnixListener::from(fd))
        }) {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(socket = %path.display(), error = %e, "stats socket not served");
                return;
            }
        };
        tracing::info!(socket = %path.display(), "vpp-sim stats socket listening");
        loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((conn, _)) => {
                        let file = segment.borrow().clone();
                        if let Err(e) = send_segment(&conn, &file) {
                            tracing::debug!(error = %e, "stats segment not sent");
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "stats accept failed"),
                },
                changed = segment.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    break;
                }
                _ = tick.tick() => {
                    if main.send(Job::StatsTick).is_err() {
                        return;
                    }
                }
            }
        }
        drop(listener);
        let _ = std::fs::remove_file(&path);
    }
}
