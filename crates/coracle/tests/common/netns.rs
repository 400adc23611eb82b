//! Network namespaces of a test's own, removed on drop.

use super::*;

/// A named network namespace (`ip netns add`), deleted when dropped.
pub struct NetNs {
    pub name: String,
}

impl NetNs {
    pub fn new(t: &Test) -> NetNs {
        let name = t.unique("coracle-netns");
        host("ip", &["netns", "add", &name]);
        NetNs { name }
    }

    pub fn path(&self) -> String {
        format!("/run/netns/{}", self.name)
    }

    /// `net:[INODE]`, as readlink of /proc/PID/ns/net prints it.
    pub fn ns_link(&self) -> String {
        let ino = fs::metadata(self.path()).unwrap().ino();
        format!("net:[{ino}]")
    }
}

impl Drop for NetNs {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "delete", &self.name])
            .status();
    }
}
