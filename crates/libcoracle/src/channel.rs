//! The channel between the runtime and a process it starts in a container
//! (the init, or an exec'd process): one `SOCK_SEQPACKET` socket pair, small
//! binary messages, no JSON. A message too long for one packet (a state
//! document with large annotations) travels in a memfd sent with a packet
//! that says so: nothing is ever cut.
//!
//! The child reports the step that failed and its errno; the runtime tells
//! the child when the steps only it can do (cgroup, id maps, hooks) are done.
//! The child's end is close-on-exec, so a successful `execve` reads as the
//! channel closing.

use crate::sys;
use std::fs::File;
use std::io::{self, Read, Seek, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use thiserror::Error;

/// A message on the channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// Runtime → child: the id mappings are in place; go on.
    Go,
    /// Runtime → child: the child is in its cgroup now (on cgroup v1, where
    /// it joins after the clone).
    CgroupJoined,
    /// Child → runtime: the mounts are done; run the runtime-side
    /// `prestart` and `createRuntime` hooks now.
    RunCreateHooks,
    /// Runtime → child: those hooks succeeded; here is the state document
    /// the container-side hooks get on stdin.
    HooksDone(String),
    /// Child → runtime: ready (the init now waits for `start`), with the
    /// child's phase trace.
    Ready(String),
    /// Child → runtime: the namespaces the init creates itself (after
    /// joining a user namespace by path) exist now. Sent with a pidfd when
    /// the init had to fork to get into its new pid or time namespace: the
    /// sender exits, and that child, a child of the runtime's, is the init.
    Unshared,
    /// Child → runtime: the seccomp notify listener, sent with its
    /// descriptor (see [`Channel::send_listener`]).
    Listener,
    /// Child → runtime: a step failed.
    Failed {
        /// The errno of the failure, 0 when none.
        errno: i32,
        /// What failed, as one line.
        message: String,
    },
}

/// Errors of the channel itself.
#[derive(Debug, Error)]
pub enum ChannelError {
    /// The socket pair could not be made or used.
    #[error("channel to the container process: {0}")]
    Io(#[from] io::Error),
    /// The other side closed its end.
    #[error("the container process exited before it was set up")]
    Closed,
    /// A message that does not decode.
    #[error("channel to the container process: malformed message")]
    Malformed,
}

const TAG_GO: u8 = 1;
const TAG_RUN_CREATE_HOOKS: u8 = 2;
const TAG_HOOKS_DONE: u8 = 3;
const TAG_READY: u8 = 4;
const TAG_FAILED: u8 = 5;
const TAG_CGROUP_JOINED: u8 = 6;
const TAG_LISTENER: u8 = 7;
const TAG_UNSHARED: u8 = 8;
/// The message is in the memfd sent with this one-byte packet.
const TAG_IN_MEMFD: u8 = 9;
/// The longest message sent inline, and the receive buffer.
const MAX_MESSAGE: usize = 16 * 1024;

/// One end of the channel.
#[derive(Debug)]
pub struct Channel(OwnedFd);

impl Channel {
    /// A connected pair: (runtime's end, child's end).
    pub fn pair() -> Result<(Channel, Channel), ChannelError> {
        let (a, b) = sys::socket::seqpacket_pair()?;
        Ok((Channel(a), Channel(b)))
    }

    /// Sends one message, in a memfd when it is longer than a packet.
    pub fn send(&self, message: &Message) -> Result<(), ChannelError> {
        let bytes = encode(message);
        if bytes.len() <= MAX_MESSAGE {
            sys::socket::send_with_fds(self.0.as_fd(), &bytes, &[])?;
            return Ok(());
        }
        let spilled = spill(&bytes)?;
        sys::socket::send_with_fds(self.0.as_fd(), &[TAG_IN_MEMFD], &[spilled.as_raw_fd()])?;
        Ok(())
    }

    /// Sends one short message (a few bytes: none that needs a memfd) with
    /// a descriptor.
    pub fn send_fd(&self, message: &Message, fd: BorrowedFd<'_>) -> Result<(), ChannelError> {
        let bytes = encode(message);
        if bytes.len() > MAX_MESSAGE {
            return Err(ChannelError::Malformed);
        }
        sys::socket::send_with_fds(self.0.as_fd(), &bytes, &[fd.as_raw_fd()])?;
        Ok(())
    }

    /// Sends [`Message::Listener`] with the seccomp listener `fd`: nothing
    /// but the one `sendmsg`, not even an allocation (the init's calls
    /// after installing a filter may wait for the agent).
    pub fn send_listener(&self, fd: BorrowedFd<'_>) -> Result<(), ChannelError> {
        sys::socket::send_with_fds(self.0.as_fd(), &[TAG_LISTENER], &[fd.as_raw_fd()])?;
        Ok(())
    }

    /// Receives one message; [`ChannelError::Closed`] when the peer is gone.
    pub fn recv(&self) -> Result<Message, ChannelError> {
        self.recv_with_fd().map(|(message, _)| message)
    }

    /// Receives one message and the descriptor sent with it, if any.
    pub fn recv_with_fd(&self) -> Result<(Message, Option<OwnedFd>), ChannelError> {
        let mut buf = vec![0u8; MAX_MESSAGE];
        let (len, fd) = sys::socket::recv_with_fd(self.0.as_fd(), &mut buf)?;
        if len == 0 {
            return Err(ChannelError::Closed);
        }
        match (&buf[..len], fd) {
            ([TAG_IN_MEMFD], Some(spilled)) => {
                let mut whole = Vec::new();
                File::from(spilled).read_to_end(&mut whole)?;
                Ok((decode(&whole)?, None))
            }
            (bytes, fd) => Ok((decode(bytes)?, fd)),
        }
    }

    /// Receives a message and expects it to be `expected`; a `Failed`
    /// message becomes an error carrying the child's report.
    pub fn expect(&self, expected: &Message) -> Result<(), ChannelError> {
        match self.recv()? {
            ref got if got == expected => Ok(()),
            _ => Err(ChannelError::Malformed),
        }
    }
}

fn encode(message: &Message) -> Vec<u8> {
    match message {
        Message::Go => vec![TAG_GO],
        Message::CgroupJoined => vec![TAG_CGROUP_JOINED],
        Message::Listener => vec![TAG_LISTENER],
        Message::Unshared => vec![TAG_UNSHARED],
        Message::RunCreateHooks => vec![TAG_RUN_CREATE_HOOKS],
        Message::HooksDone(state) => tagged(TAG_HOOKS_DONE, state.as_bytes()),
        Message::Ready(trace) => tagged(TAG_READY, trace.as_bytes()),
        Message::Failed { errno, message } => {
            let mut out = tagged(TAG_FAILED, &errno.to_le_bytes());
            out.extend_from_slice(message.as_bytes());
            out
        }
    }
}

fn tagged(tag: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + payload.len());
    out.push(tag);
    out.extend_from_slice(payload);
    out
}

/// A memfd holding `bytes`, its offset back at the start for the reader
/// (sent descriptors share the offset).
fn spill(bytes: &[u8]) -> io::Result<File> {
    let mut file = File::from(sys::fs::memfd_sealable(c"coracle-message")?);
    file.write_all(bytes)?;
    file.rewind()?;
    Ok(file)
}

fn decode(bytes: &[u8]) -> Result<Message, ChannelError> {
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    match bytes {
        [TAG_GO] => Ok(Message::Go),
        [TAG_CGROUP_JOINED] => Ok(Message::CgroupJoined),
        [TAG_LISTENER] => Ok(Message::Listener),
        [TAG_UNSHARED] => Ok(Message::Unshared),
        [TAG_RUN_CREATE_HOOKS] => Ok(Message::RunCreateHooks),
        [TAG_HOOKS_DONE, rest @ ..] => Ok(Message::HooksDone(text(rest))),
        [TAG_READY, rest @ ..] => Ok(Message::Ready(text(rest))),
        [TAG_FAILED, a, b, c, d, rest @ ..] => Ok(Message::Failed {
            errno: i32::from_le_bytes([*a, *b, *c, *d]),
            message: text(rest),
        }),
        _ => Err(ChannelError::Malformed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_over_a_socket_pair() {
        let (parent, child) = Channel::pair().unwrap();
        let messages = [
            Message::Go,
            Message::CgroupJoined,
            Message::Listener,
            Message::Unshared,
            Message::RunCreateHooks,
            Message::HooksDone("{}".into()),
            Message::Ready("mounts: 1.000 ms".into()),
            Message::Failed {
                errno: 2,
                message: "mount proc on /proc".into(),
            },
        ];
        for message in &messages {
            child.send(message).unwrap();
            assert_eq!(&parent.recv().unwrap(), message);
        }
        drop(child);
        assert!(matches!(parent.recv(), Err(ChannelError::Closed)));
    }

    #[test]
    fn a_message_longer_than_a_packet_arrives_whole() {
        let (parent, child) = Channel::pair().unwrap();
        let state = format!(r#"{{"annotations":{{"big":"{}"}}}}"#, "x".repeat(300_000));
        parent.send(&Message::HooksDone(state.clone())).unwrap();
        let (message, fd) = child.recv_with_fd().unwrap();
        assert_eq!(message, Message::HooksDone(state));
        assert!(fd.is_none());
        child.send(&Message::Go).unwrap();
        assert_eq!(parent.recv().unwrap(), Message::Go);
    }
}
