//! Handing the user-notification listener to the seccomp agent at
//! `linux.seccomp.listenerPath`, as config-linux.md's "container process
//! state" message.

use super::SeccompError;
use crate::spec::State;
use crate::sys::socket;
use serde::Serialize;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::path::Path;

/// The name of the listener in the message's `fds`.
const SECCOMP_FD_NAME: &str = "seccompFd";

/// config-linux.md's container process state.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ContainerProcessState<'a> {
    oci_version: &'a str,
    fds: [&'static str; 1],
    pid: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<&'a str>,
    state: &'a State,
}

/// The JSON message sent with the listener: the container process `pid`,
/// `metadata` (`listenerMetadata`) and the container's `state`.
pub fn listener_message(state: &State, metadata: Option<&str>, pid: i32) -> Vec<u8> {
    let message = ContainerProcessState {
        oci_version: &state.oci_version,
        fds: [SECCOMP_FD_NAME],
        pid,
        metadata,
        state,
    };
    // Serializing plain strings, integers and maps cannot fail.
    serde_json::to_vec(&message).expect("container process state serializes")
}

/// Connects to the agent's socket `listener_path` (`AF_UNIX`,
/// `SOCK_STREAM`), sends `state_json` (see [`listener_message`]) with the
/// listener `fd` in one `SCM_RIGHTS` message, and closes the connection.
pub fn send_listener(
    listener_path: &str,
    state_json: &[u8],
    fd: BorrowedFd<'_>,
) -> Result<(), SeccompError> {
    let failed = |step: &'static str| {
        move |source| SeccompError::Listener {
            path: listener_path.to_string(),
            step,
            source,
        }
    };
    let sock = socket::connect_unix(Path::new(listener_path)).map_err(failed("connect"))?;
    socket::send_with_fds(sock.as_fd(), state_json, &[fd.as_raw_fd()]).map_err(failed("send"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Status;
    use std::os::fd::OwnedFd;
    use std::os::unix::net::UnixListener;

    fn state() -> State {
        State {
            oci_version: "1.2.0".into(),
            id: "c1".into(),
            status: Status::Creating,
            pid: Some(4422),
            bundle: "/b".into(),
            annotations: [("k".to_string(), "v".to_string())].into(),
        }
    }

    #[test]
    fn message_follows_the_specification() {
        let json: serde_json::Value =
            serde_json::from_slice(&listener_message(&state(), Some("MKNOD=1"), 4422)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "ociVersion": "1.2.0",
                "fds": ["seccompFd"],
                "pid": 4422,
                "metadata": "MKNOD=1",
                "state": {"ociVersion": "1.2.0", "id": "c1", "status": "creating",
                          "pid": 4422, "bundle": "/b", "annotations": {"k": "v"}},
            })
        );
        let json: serde_json::Value =
            serde_json::from_slice(&listener_message(&state(), None, 1)).unwrap();
        assert!(json.get("metadata").is_none());
    }

    #[test]
    fn the_agent_receives_message_and_fd() {
        let dir = super::super::tests::TempDir::new("agent");
        let path = dir.0.join("agent.sock");
        let listener = UnixListener::bind(&path).unwrap();
        // Any descriptor stands in for the seccomp listener here.
        let (r, _w) = crate::sys::fs::pipe().unwrap();
        let message = listener_message(&state(), None, 7);
        send_listener(path.to_str().unwrap(), &message, r.as_fd()).unwrap();
        let (conn, _) = listener.accept().unwrap();
        let mut buf = vec![0u8; 4096];
        let (n, fd): (usize, Option<OwnedFd>) =
            socket::recv_with_fd(conn.as_fd(), &mut buf).unwrap();
        assert_eq!(&buf[..n], &message[..]);
        assert!(fd.is_some());
        // The connection was closed after the one message.
        assert_eq!(socket::recv_with_fd(conn.as_fd(), &mut buf).unwrap().0, 0);
    }

    #[test]
    fn a_missing_agent_is_an_error() {
        let (r, _w) = crate::sys::fs::pipe().unwrap();
        let err = send_listener("/nonexistent/agent.sock", b"{}", r.as_fd()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "send seccomp listener to /nonexistent/agent.sock: connect: No such file or directory (os error 2)"
        );
    }
}
