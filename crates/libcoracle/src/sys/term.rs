//! Terminals: pseudo-terminal pairs, window sizes, sessions and the
//! controlling terminal.

use super::check;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// Unlocks the peer of the pty master `master` (`unlockpt`), so that it can
/// be opened.
pub fn unlock_pty(master: BorrowedFd<'_>) -> io::Result<()> {
    let unlock: libc::c_int = 0;
    // SAFETY: TIOCSPTLCK reads one int, which `unlock` is.
    check(unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSPTLCK, &unlock) })?;
    Ok(())
}

/// Opens the peer of the pty master `master` through the master itself
/// (`TIOCGPTPEER`), never by a path: `O_RDWR | O_NOCTTY | O_CLOEXEC`.
pub fn open_pty_peer(master: BorrowedFd<'_>) -> io::Result<OwnedFd> {
    let flags = libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC;
    // SAFETY: TIOCGPTPEER takes the open flags as an integer and returns a
    // new descriptor.
    let fd = check(unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCGPTPEER, flags) })?;
    // SAFETY: the descriptor is new and ours.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// The number `N` of the pty whose master is `master` (its peer is
/// `/dev/pts/N` in its devpts instance).
pub fn pty_number(master: BorrowedFd<'_>) -> io::Result<u32> {
    let mut number: libc::c_uint = 0;
    // SAFETY: TIOCGPTN writes one unsigned int, which `number` is.
    check(unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCGPTN, &mut number) })?;
    Ok(number)
}

/// Sets the window size of the terminal `fd` to `rows` × `columns`.
pub fn set_window_size(fd: BorrowedFd<'_>, rows: u16, columns: u16) -> io::Result<()> {
    let size = libc::winsize {
        ws_row: rows,
        ws_col: columns,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads one winsize, which `size` is.
    check(unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCSWINSZ, &size) })?;
    Ok(())
}

/// The window size of the terminal `fd`, as `(rows, columns)`.
pub fn window_size(fd: BorrowedFd<'_>) -> io::Result<(u16, u16)> {
    let mut size = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes one winsize, which `size` is.
    check(unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCGWINSZ, &mut size) })?;
    Ok((size.ws_row, size.ws_col))
}

/// Starts a new session with the caller as its leader (and no controlling
/// terminal).
pub fn setsid() -> io::Result<()> {
    // SAFETY: setsid takes no arguments.
    check(unsafe { libc::setsid() })?;
    Ok(())
}

/// Makes the terminal `fd` the controlling terminal of the caller's session
/// (`TIOCSCTTY`, without stealing it from another session).
pub fn set_controlling_terminal(fd: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: TIOCSCTTY takes an integer argument (0: do not steal).
    check(unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCSCTTY, 0) })?;
    Ok(())
}

/// The terminal attributes of `fd`, or `None` when it is not a terminal.
pub fn attributes(fd: BorrowedFd<'_>) -> Option<libc::termios> {
    // SAFETY: termios is plain data that tcgetattr fills.
    let mut attrs: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: `attrs` is valid and ours; a non-terminal fails with ENOTTY.
    let ret = unsafe { libc::tcgetattr(fd.as_raw_fd(), &mut attrs) };
    (ret == 0).then_some(attrs)
}

/// Sets the terminal attributes of `fd`.
pub fn set_attributes(fd: BorrowedFd<'_>, attrs: &libc::termios) -> io::Result<()> {
    // SAFETY: `attrs` is a valid termios.
    check(unsafe { libc::tcsetattr(fd.as_raw_fd(), libc::TCSANOW, attrs) })?;
    Ok(())
}

/// `attrs` in raw mode: no echo, no line editing, no signal keys, so that
/// every key reaches the container's terminal as typed.
pub fn raw(mut attrs: libc::termios) -> libc::termios {
    // SAFETY: cfmakeraw only changes the flags of the struct we own.
    unsafe { libc::cfmakeraw(&mut attrs) };
    attrs
}
