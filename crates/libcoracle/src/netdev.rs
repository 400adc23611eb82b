//! `linux.netDevices` (config-linux.md "Network Devices"): devices of the
//! runtime's network namespace moved into the container's, renamed, with
//! their permanent global addresses and up.
//!
//! The runtime does it after the clone and before the init goes on, with
//! a minimal route netlink client (no crate): `RTM_GETADDR` to keep the
//! addresses (a move flushes them), one `RTM_NEWLINK` carrying both the
//! target namespace (`IFLA_NET_NS_FD`) and the new name (`IFLA_IFNAME`,
//! which the kernel applies in the target, where a `%d` template gets a
//! free number), then `RTM_NEWADDR` and `RTM_NEWLINK` (up) through a
//! socket made inside the container's namespace.
//!
//! The devices are not moved back at delete (the specification forbids
//! it): the kernel returns physical devices to the initial namespace and
//! destroys virtual ones when the container's namespace goes.

use crate::namespaces::{Kind, NamespacePlan};
use crate::spec::Linux;
use crate::sys;
use crate::sys::netlink;
use std::ffi::CString;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

/// What went wrong with a network device.
#[derive(Debug, thiserror::Error)]
pub enum NetDevError {
    /// A device name that cannot be used.
    #[error("linux.netDevices: {device}: {why}")]
    Invalid {
        /// The entry's key.
        device: String,
        /// What is wrong.
        why: String,
    },
    /// A step of the move failed.
    #[error("linux.netDevices: {device}: {step}: {source}")]
    Os {
        /// The entry's key.
        device: String,
        /// The step, such as "move into the container's namespace".
        step: &'static str,
        /// The OS error.
        source: io::Error,
    },
}

/// One device to move.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Device {
    /// The name in the runtime's namespace.
    host: String,
    /// The name in the container's, possibly a `%d` template.
    inside: String,
}

/// The validated `linux.netDevices`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetDevicePlan {
    devices: Vec<Device>,
}

/// Interface names are at most IFNAMSIZ - 1 bytes.
const MAX_NAME: usize = libc::IFNAMSIZ - 1;

impl NetDevicePlan {
    /// Checks the names and that each device is in the runtime's network
    /// namespace now, and that the container has a network namespace of
    /// its own to receive them.
    pub fn from_spec(
        linux: Option<&Linux>,
        namespaces: &NamespacePlan,
    ) -> Result<NetDevicePlan, NetDevError> {
        let Some(entries) = linux.map(|l| &l.net_devices).filter(|d| !d.is_empty()) else {
            return Ok(NetDevicePlan::default());
        };
        let mut devices = Vec::with_capacity(entries.len());
        for (host, entry) in entries {
            let invalid = |why: String| NetDevError::Invalid {
                device: host.clone(),
                why,
            };
            if !namespaces.has(Kind::Network) {
                return Err(invalid(
                    "needs the container's own network namespace".into(),
                ));
            }
            check_name(host, false).map_err(invalid)?;
            let inside = entry.name.clone().filter(|n| !n.is_empty());
            let inside = inside.unwrap_or_else(|| host.clone());
            check_name(&inside, true).map_err(|why| invalid(format!("name {inside:?}: {why}")))?;
            let name = CString::new(host.as_str()).expect("checked for NUL");
            netlink::if_nametoindex(&name)
                .map_err(|_| invalid("no such device in the runtime's network namespace".into()))?;
            devices.push(Device {
                host: host.clone(),
                inside,
            });
        }
        Ok(NetDevicePlan { devices })
    }

    /// Whether there is nothing to move.
    pub fn is_empty(&self) -> bool {
        self.devices.is_empty()
    }

    /// Runtime side, after the clone and before the init goes on: moves
    /// every device into the container's network namespace (the one it
    /// joins, or the init's new one).
    pub fn move_into(&self, namespaces: &NamespacePlan, pid: i32) -> Result<(), NetDevError> {
        let Some(first) = self.devices.first() else {
            return Ok(());
        };
        let fail = |step| {
            move |source| NetDevError::Os {
                device: first.host.clone(),
                step,
                source,
            }
        };
        let opened;
        let target = match namespaces.joined(Kind::Network) {
            Some(fd) => fd,
            None => {
                let path = CString::new(format!("/proc/{pid}/ns/net")).expect("digits");
                opened = sys::fs::openat(None, &path, libc::O_RDONLY, 0)
                    .map_err(fail("open the container's network namespace"))?;
                opened.as_fd()
            }
        };
        let host = Route::new(netlink::route_socket().map_err(fail("open a netlink socket"))?);
        let inside = Route::new(socket_in(target).map_err(fail("open a netlink socket inside"))?);
        for device in &self.devices {
            device.move_to(&host, &inside, target)?;
        }
        Ok(())
    }
}

impl Device {
    fn move_to(
        &self,
        host: &Route,
        inside: &Route,
        target: BorrowedFd<'_>,
    ) -> Result<(), NetDevError> {
        let fail = |step| {
            move |source| NetDevError::Os {
                device: self.host.clone(),
                step,
                source,
            }
        };
        let template = self.inside.contains("%d");
        // The kernel would move the device under its old name and fail
        // the rename only then, inside, where the device is lost with
        // the namespace: a taken name is refused first.
        if !template && inside.link_index(LinkBy::Name(&self.inside)).is_ok() {
            return Err(fail("check the name inside")(io::Error::from_raw_os_error(
                libc::EEXIST,
            )));
        }
        let index = host
            .link_index(LinkBy::Name(&self.host))
            .map_err(fail("find the device"))?;
        let addresses = host
            .permanent_global_addresses(index)
            .map_err(fail("read its addresses"))?;
        host.move_link(index, target, &self.inside)
            .map_err(fail("move into the container's network namespace"))?;
        let moved = if template {
            // The kernel keeps the index when it is free in the target.
            inside.link_index(LinkBy::Index(index))
        } else {
            inside.link_index(LinkBy::Name(&self.inside))
        }
        .map_err(fail("find the moved device"))?;
        for address in &addresses {
            inside
                .add_address(moved, address)
                .map_err(fail("restore an address"))?;
        }
        inside.set_up(moved).map_err(fail("set it up"))
    }
}

/// Checks an interface name: 1 to 15 bytes, no `/`, `:`, whitespace or
/// NUL, not `.` or `..`; a `%d` template only where the kernel picks.
fn check_name(name: &str, template_allowed: bool) -> Result<(), String> {
    if name.is_empty() || name.len() > MAX_NAME {
        return Err(format!("an interface name has 1 to {MAX_NAME} bytes"));
    }
    if name == "." || name == ".." {
        return Err("is not an interface name".into());
    }
    if name.contains(['/', ':', '\0']) || name.contains(char::is_whitespace) {
        return Err("must not contain '/', ':', NUL or whitespace".into());
    }
    let templates = name.matches('%').count();
    if templates > 0 && !(template_allowed && templates == 1 && name.contains("%d")) {
        return Err("only a new name may be a template, with one %d".into());
    }
    Ok(())
}

/// A route netlink socket of the container's namespace: the runtime steps
/// into the namespace for the `socket` call and back (it is
/// single-threaded; the socket stays bound to the namespace).
fn socket_in(target: BorrowedFd<'_>) -> io::Result<OwnedFd> {
    let own = sys::fs::openat(None, c"/proc/self/ns/net", libc::O_RDONLY, 0)?;
    sys::process::setns(target, libc::CLONE_NEWNET)?;
    let socket = netlink::route_socket();
    // Failing to return would leave the runtime in the container's
    // namespace: that must not go unnoticed.
    sys::process::setns(own.as_fd(), libc::CLONE_NEWNET)?;
    socket
}

/// An address to restore: family, prefix length, scope, and its
/// `IFA_ADDRESS`/`IFA_LOCAL`/`IFA_BROADCAST` attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Address {
    family: u8,
    prefix_len: u8,
    scope: u8,
    attrs: Vec<(u16, Vec<u8>)>,
}

/// How a link is looked up.
#[derive(Debug, Clone, Copy)]
enum LinkBy<'a> {
    Name(&'a str),
    Index(u32),
}

const NLMSG_HDRLEN: usize = 16;
const IFINFOMSG_LEN: usize = 16;
const IFADDRMSG_LEN: usize = 8;
const IFLA_IFNAME: u16 = 3;
const IFLA_NET_NS_FD: u16 = 28;
const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;
const IFA_BROADCAST: u16 = 4;
const IFA_FLAGS: u16 = 8;
const IFA_F_PERMANENT: u32 = 0x80;
const RT_SCOPE_UNIVERSE: u8 = 0;

/// A route netlink socket and the sequence numbers of its requests.
struct Route {
    socket: OwnedFd,
    seq: std::cell::Cell<u32>,
}

impl Route {
    fn new(socket: OwnedFd) -> Route {
        Route {
            socket,
            seq: std::cell::Cell::new(0),
        }
    }

    /// A request of `typ` with `flags` (`NLM_F_REQUEST` added) and the
    /// fixed-size `body`; attributes are appended with [`push_attr`].
    fn request(&self, typ: u16, flags: u16, body: &[u8]) -> Vec<u8> {
        self.seq.set(self.seq.get() + 1);
        let mut msg = Vec::with_capacity(256);
        msg.extend_from_slice(&0u32.to_ne_bytes());
        msg.extend_from_slice(&typ.to_ne_bytes());
        msg.extend_from_slice(&(flags | libc::NLM_F_REQUEST as u16).to_ne_bytes());
        msg.extend_from_slice(&self.seq.get().to_ne_bytes());
        msg.extend_from_slice(&0u32.to_ne_bytes());
        msg.extend_from_slice(body);
        msg
    }

    /// Sends `msg` and collects the payloads of the replies of its type
    /// `reply` until the acknowledgement, `NLMSG_DONE` or an error.
    fn exchange(&self, mut msg: Vec<u8>, reply: u16) -> io::Result<Vec<Vec<u8>>> {
        let len = msg.len() as u32;
        msg[..4].copy_from_slice(&len.to_ne_bytes());
        netlink::send(self.socket.as_fd(), &msg)?;
        let seq = self.seq.get();
        let mut buf = vec![0u8; 64 * 1024];
        let mut replies = Vec::new();
        loop {
            let n = netlink::recv(self.socket.as_fd(), &mut buf)?;
            for (typ, msg_seq, payload) in messages(&buf[..n])? {
                if msg_seq != seq {
                    continue;
                }
                match typ as i32 {
                    libc::NLMSG_DONE => return Ok(replies),
                    libc::NLMSG_ERROR => {
                        let code = i32::from_ne_bytes(field(payload, 0)?);
                        return match code {
                            0 => Ok(replies),
                            code => Err(io::Error::from_raw_os_error(-code)),
                        };
                    }
                    _ if typ == reply => replies.push(payload.to_vec()),
                    _ => {}
                }
            }
        }
    }

    /// The index of a link, by name or by index (to check it is there).
    fn link_index(&self, by: LinkBy<'_>) -> io::Result<u32> {
        let index = match by {
            LinkBy::Index(index) => index as i32,
            LinkBy::Name(_) => 0,
        };
        let mut msg = self.request(
            libc::RTM_GETLINK,
            libc::NLM_F_ACK as u16,
            &ifinfomsg(index, 0, 0),
        );
        if let LinkBy::Name(name) = by {
            push_attr(&mut msg, IFLA_IFNAME, &nul_terminated(name));
        }
        let replies = self.exchange(msg, libc::RTM_NEWLINK)?;
        let reply = replies
            .first()
            .ok_or_else(|| io::Error::from_raw_os_error(libc::ENODEV))?;
        Ok(i32::from_ne_bytes(field(reply, 4)?) as u32)
    }

    /// The addresses of link `index` that are permanent and of global
    /// scope, any family (what config-linux.md requires to keep).
    fn permanent_global_addresses(&self, index: u32) -> io::Result<Vec<Address>> {
        let flags = (libc::NLM_F_DUMP) as u16;
        let msg = self.request(libc::RTM_GETADDR, flags, &[0u8; IFADDRMSG_LEN]);
        let mut kept = Vec::new();
        for payload in self.exchange(msg, libc::RTM_NEWADDR)? {
            let header: [u8; IFADDRMSG_LEN] = field(&payload, 0)?;
            let mut flags = u32::from(header[2]);
            let (scope, owner) = (header[3], u32::from_ne_bytes(field(&header, 4)?));
            let mut attrs = Vec::new();
            for (typ, value) in attributes(&payload[IFADDRMSG_LEN..])? {
                match typ {
                    IFA_FLAGS => flags = u32::from_ne_bytes(field(value, 0)?),
                    IFA_ADDRESS | IFA_LOCAL | IFA_BROADCAST => attrs.push((typ, value.to_vec())),
                    _ => {}
                }
            }
            if owner == index && scope == RT_SCOPE_UNIVERSE && flags & IFA_F_PERMANENT != 0 {
                kept.push(Address {
                    family: header[0],
                    prefix_len: header[1],
                    scope,
                    attrs,
                });
            }
        }
        Ok(kept)
    }

    /// Moves link `index` into the namespace `target`, named `name` there.
    fn move_link(&self, index: u32, target: BorrowedFd<'_>, name: &str) -> io::Result<()> {
        let body = ifinfomsg(index as i32, 0, 0);
        let mut msg = self.request(libc::RTM_NEWLINK, libc::NLM_F_ACK as u16, &body);
        push_attr(
            &mut msg,
            IFLA_NET_NS_FD,
            &(target.as_raw_fd() as u32).to_ne_bytes(),
        );
        push_attr(&mut msg, IFLA_IFNAME, &nul_terminated(name));
        self.exchange(msg, 0).map(drop)
    }

    fn add_address(&self, index: u32, address: &Address) -> io::Result<()> {
        let mut body = vec![address.family, address.prefix_len, 0, address.scope];
        body.extend_from_slice(&index.to_ne_bytes());
        let flags = (libc::NLM_F_ACK | libc::NLM_F_CREATE | libc::NLM_F_EXCL) as u16;
        let mut msg = self.request(libc::RTM_NEWADDR, flags, &body);
        for (typ, value) in &address.attrs {
            push_attr(&mut msg, *typ, value);
        }
        self.exchange(msg, 0).map(drop)
    }

    fn set_up(&self, index: u32) -> io::Result<()> {
        let up = libc::IFF_UP as u32;
        let body = ifinfomsg(index as i32, up, up);
        let msg = self.request(libc::RTM_NEWLINK, libc::NLM_F_ACK as u16, &body);
        self.exchange(msg, 0).map(drop)
    }
}

/// `struct ifinfomsg` with `AF_UNSPEC`.
fn ifinfomsg(index: i32, flags: u32, change: u32) -> [u8; IFINFOMSG_LEN] {
    let mut body = [0u8; IFINFOMSG_LEN];
    body[4..8].copy_from_slice(&index.to_ne_bytes());
    body[8..12].copy_from_slice(&flags.to_ne_bytes());
    body[12..16].copy_from_slice(&change.to_ne_bytes());
    body
}

fn nul_terminated(name: &str) -> Vec<u8> {
    let mut bytes = name.as_bytes().to_vec();
    bytes.push(0);
    bytes
}

/// Appends a `struct rtattr` and pads to 4 bytes.
fn push_attr(msg: &mut Vec<u8>, typ: u16, value: &[u8]) {
    let len = (4 + value.len()) as u16;
    msg.extend_from_slice(&len.to_ne_bytes());
    msg.extend_from_slice(&typ.to_ne_bytes());
    msg.extend_from_slice(value);
    msg.resize(msg.len().next_multiple_of(4), 0);
}

/// `N` bytes of `bytes` at `at`, or `EBADMSG` when the message is short.
fn field<const N: usize>(bytes: &[u8], at: usize) -> io::Result<[u8; N]> {
    bytes
        .get(at..at + N)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| io::Error::from_raw_os_error(libc::EBADMSG))
}

/// The messages of a datagram: (type, sequence number, payload).
fn messages(mut data: &[u8]) -> io::Result<Vec<(u16, u32, &[u8])>> {
    let mut out = Vec::new();
    while data.len() >= NLMSG_HDRLEN {
        let len = u32::from_ne_bytes(field(data, 0)?) as usize;
        if len < NLMSG_HDRLEN || len > data.len() {
            return Err(io::Error::from_raw_os_error(libc::EBADMSG));
        }
        let typ = u16::from_ne_bytes(field(data, 4)?);
        let seq = u32::from_ne_bytes(field(data, 8)?);
        out.push((typ, seq, &data[NLMSG_HDRLEN..len]));
        data = &data[len.next_multiple_of(4).min(data.len())..];
    }
    Ok(out)
}

/// The attributes after a message's fixed part: (type, value).
fn attributes(mut data: &[u8]) -> io::Result<Vec<(u16, &[u8])>> {
    let mut out = Vec::new();
    while data.len() >= 4 {
        let len = u16::from_ne_bytes(field(data, 0)?) as usize;
        if len < 4 || len > data.len() {
            return Err(io::Error::from_raw_os_error(libc::EBADMSG));
        }
        let typ = u16::from_ne_bytes(field(data, 2)?) & 0x3fff;
        out.push((typ, &data[4..len]));
        data = &data[len.next_multiple_of(4).min(data.len())..];
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert!(check_name("eth0", false).is_ok());
        assert!(check_name("eth%d", true).is_ok());
        for (bad, template) in [
            ("", true),
            ("a-name-of-16-byt", true),
            ("a/b", true),
            ("a b", true),
            ("..", true),
            ("eth%d", false),
            ("e%d%d", true),
            ("eth%s", true),
        ] {
            assert!(check_name(bad, template).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn attributes_are_padded_and_parsed_back() {
        let mut msg = Vec::new();
        push_attr(&mut msg, IFLA_IFNAME, &nul_terminated("veth1"));
        push_attr(&mut msg, IFLA_NET_NS_FD, &7u32.to_ne_bytes());
        assert_eq!(msg.len(), 12 + 8);
        let parsed = attributes(&msg).unwrap();
        assert_eq!(parsed[0], (IFLA_IFNAME, &b"veth1\0"[..]));
        assert_eq!(parsed[1], (IFLA_NET_NS_FD, &7u32.to_ne_bytes()[..]));
        assert!(attributes(&[9, 0, 1, 0]).is_err());
    }

    #[test]
    fn a_device_of_the_runtime_namespace_is_required() {
        let spec: crate::spec::Spec = serde_json::from_value(serde_json::json!({
            "ociVersion": "1.2.0",
            "linux": {"namespaces": [{"type": "network"}], "netDevices": {"lo": {}}}
        }))
        .unwrap();
        let namespaces = NamespacePlan::from_spec(&spec).unwrap();
        let plan = NetDevicePlan::from_spec(spec.linux.as_ref(), &namespaces).unwrap();
        assert_eq!(plan.devices[0].inside, "lo");
        let missing: crate::spec::Spec = serde_json::from_value(serde_json::json!({
            "ociVersion": "1.2.0",
            "linux": {"namespaces": [{"type": "network"}], "netDevices": {"nope0": {"name": "eth0"}}}
        }))
        .unwrap();
        let err = NetDevicePlan::from_spec(missing.linux.as_ref(), &namespaces).unwrap_err();
        assert_eq!(
            err.to_string(),
            "linux.netDevices: nope0: no such device in the runtime's network namespace"
        );
        let no_ns = NamespacePlan::from_spec(&crate::spec::Spec::default()).unwrap();
        let err = NetDevicePlan::from_spec(spec.linux.as_ref(), &no_ns).unwrap_err();
        assert!(err
            .to_string()
            .ends_with("needs the container's own network namespace"));
    }
}
