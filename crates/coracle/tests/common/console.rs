//! The console socket (`--console-socket`): receiving the pty master
//! the runtime sends, and reading from it.

use super::*;

/// A listening unix socket for `--console-socket`.
pub struct ConsoleSocket {
    pub path: PathBuf,
    listener: UnixListener,
}

impl ConsoleSocket {
    pub fn new(t: &Test) -> ConsoleSocket {
        let path = t.dir.join(format!("{}.sock", t.unique("console")));
        let listener = UnixListener::bind(&path).unwrap();
        ConsoleSocket { path, listener }
    }

    pub fn path_str(&self) -> String {
        self.path.to_string_lossy().into_owned()
    }

    /// Accepts the runtime's connection and receives the pty master it sends
    /// with SCM_RIGHTS (bounded wait).
    #[track_caller]
    pub fn receive(&self) -> OwnedFd {
        self.listener.set_nonblocking(true).unwrap();
        let end = Instant::now() + DEADLINE;
        let stream = loop {
            match self.listener.accept() {
                Ok((s, _)) => break s,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    assert!(
                        Instant::now() < end,
                        "nobody connected to the console socket"
                    );
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(e) => panic!("accept on the console socket: {e}"),
            }
        };
        stream.set_nonblocking(false).unwrap();
        stream.set_read_timeout(Some(DEADLINE)).unwrap();
        recv_fd(stream.as_raw_fd()).expect("no fd received on the console socket")
    }
}

/// Receives one fd passed with SCM_RIGHTS on a connected unix socket.
pub fn recv_fd(sock: RawFd) -> Option<OwnedFd> {
    let mut data = [0u8; 4096];
    let mut iov = libc::iovec {
        iov_base: data.as_mut_ptr().cast(),
        iov_len: data.len(),
    };
    // u64 elements keep the control buffer aligned for cmsghdr.
    let mut control = [0u64; 64];
    // SAFETY: an all-zero msghdr is a valid empty value.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&control) as _;
    // SAFETY: msg points at live buffers of the declared sizes.
    let n = unsafe { libc::recvmsg(sock, &mut msg, libc::MSG_CMSG_CLOEXEC) };
    if n < 0 {
        panic!(
            "recvmsg on the console socket: {}",
            std::io::Error::last_os_error()
        );
    }
    // SAFETY: msg was filled by recvmsg; the CMSG macros walk its control
    // buffer within msg_controllen.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_RIGHTS {
                let fd = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg) as *const libc::c_int);
                return Some(OwnedFd::from_raw_fd(fd));
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    None
}

/// Reads a pty master until the other side is closed (EIO) or EOF, bounded
/// by [`DEADLINE`]. Returns the text with `\r\n` turned into `\n`.
pub fn read_pty(master: OwnedFd) -> String {
    let mut file = fs::File::from(master);
    let fd = file.as_raw_fd();
    let end = Instant::now() + DEADLINE;
    let mut buf = Vec::new();
    loop {
        let mut pfd = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let rc = unsafe { libc::poll(&mut pfd, 1, 100) };
        if rc == 0 {
            assert!(
                Instant::now() < end,
                "pty still open after {DEADLINE:?}; read so far: {:?}",
                String::from_utf8_lossy(&buf)
            );
            continue;
        }
        let mut chunk = [0u8; 4096];
        match file.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.raw_os_error() == Some(libc::EIO) => break,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => panic!("read the pty: {e}"),
        }
    }
    String::from_utf8_lossy(&buf).replace("\r\n", "\n")
}
