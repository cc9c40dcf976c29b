//! One client connection: reads frames, hands them to the main thread in arrival order
//! (several at once when the client pipelines), writes the answers, and writes what the main
//! thread pushes (interface events, a close). A frame the codec rejects (a length above the
//! cap or below 2 bytes: garbage) drops this connection and only this one.
//!
//! It deliberately decides nothing about messages; the main thread does.

use futures::{FutureExt, StreamExt};
use tokio::io::AsyncWriteExt;
use tokio::net::UnixStream;
use tokio::sync::{mpsc, oneshot};
use tokio_util::codec::FramedRead;

use binapi::codec::frame::FrameCodec;

use super::main_thread::{Job, Push};

/// Frames handed to the main thread in one job at most.
const MAX_BATCH: usize = 256;

/// Serves one accepted connection until the client leaves, sends garbage, is deleted or the
/// main thread goes away.
pub async fn serve(stream: UnixStream, main: mpsc::UnboundedSender<Job>) {
    let (push_tx, mut push_rx) = mpsc::unbounded_channel();
    let (reg_tx, reg_rx) = oneshot::channel();
    if main
        .send(Job::Register {
            push: push_tx,
            reply: reg_tx,
        })
        .is_err()
    {
        return;
    }
    let Ok(reg) = reg_rx.await else {
        return;
    };
    let (read, mut write) = stream.into_split();
    let mut frames = FramedRead::new(read, FrameCodec::default());
    loop {
        tokio::select! {
            biased;
            push = push_rx.recv() => match push {
                Some(Push::Frames(bytes)) => {
                    if write.write_all(&bytes).await.is_err() {
                        break;
                    }
                }
                Some(Push::Close) | None => break,
            },
            frame = frames.next() => {
                let mut batch = match frame {
                    None => break,
                    Some(Err(e)) => {
                        tracing::debug!(handle = reg.handle, error = %e, "bad frame, dropping the connection");
                        break;
                    }
                    Some(Ok(p)) => vec![p],
                };
                let mut garbage = false;
                while batch.len() < MAX_BATCH {
                    match frames.next().now_or_never() {
                        Some(Some(Ok(p))) => batch.push(p),
                        Some(Some(Err(e))) => {
                            tracing::debug!(handle = reg.handle, error = %e, "bad frame, dropping the connection");
                            garbage = true;
                            break;
                        }
                        Some(None) | None => break,
                    }
                }
                let (tx, rx) = oneshot::channel();
                if main.send(Job::Requests { reg, payloads: batch, reply: tx }).is_err() {
                    break;
                }
                let Ok(out) = rx.await else {
                    break;
                };
                if !out.bytes.is_empty() && write.write_all(&out.bytes).await.is_err() {
                    break;
                }
                if out.close || garbage {
                    break;
                }
            }
        }
    }
    let _ = write.shutdown().await;
    let _ = main.send(Job::Unregister(reg));
}
