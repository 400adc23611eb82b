//! What the container must not reach of the host: the caller's session
//! keyring (runc's `_ses.ID` keyring and `--no-new-keyring`), each checked
//! from inside the container.

mod common;

use common::*;
use serde_json::json;
use std::ffi::CString;
use std::path::PathBuf;

/// `KEY_POS_ALL`: every permission for the key's possessors, none for its
/// user, group or others. Only a process whose keyrings lead to the key
/// sees it in /proc/keys; the host's root as such does not.
const POSSESSOR_ONLY: u32 = 0x3f00_0000;

/// Gives the calling thread, and so the runtime it spawns, a session
/// keyring of its own holding one key visible only to its possessors;
/// returns the key's description.
fn session_keyring_with_a_secret(t: &Test) -> String {
    let ring = CString::new(t.unique("coracle-test-keyring")).unwrap();
    let secret = t.unique("coracle-test-secret");
    let description = CString::new(secret.clone()).unwrap();
    let payload = b"top secret";
    // SAFETY: keyctl and add_key read the NUL-terminated strings and the
    // payload, which outlive the calls; the credentials of this thread
    // alone change (libtest runs each test on a thread of its own).
    let (ring_id, key_id) = unsafe {
        let ring_id = libc::syscall(
            libc::SYS_keyctl,
            libc::KEYCTL_JOIN_SESSION_KEYRING,
            ring.as_ptr(),
        );
        let key_id = libc::syscall(
            libc::SYS_add_key,
            c"user".as_ptr(),
            description.as_ptr(),
            payload.as_ptr(),
            payload.len(),
            libc::KEY_SPEC_SESSION_KEYRING,
        );
        (ring_id, key_id)
    };
    assert!(
        ring_id > 0 && key_id > 0,
        "keyctl: {}",
        std::io::Error::last_os_error()
    );
    for id in [ring_id, key_id] {
        // SAFETY: KEYCTL_SETPERM takes two integers.
        let rc =
            unsafe { libc::syscall(libc::SYS_keyctl, libc::KEYCTL_SETPERM, id, POSSESSOR_ONLY) };
        assert_eq!(rc, 0, "KEYCTL_SETPERM: {}", std::io::Error::last_os_error());
    }
    assert!(
        read(std::path::Path::new("/proc/keys")).contains(&secret),
        "the test does not see its own key"
    );
    secret
}

/// A bundle whose init writes what it sees in /proc/keys (unmasked) to
/// OUT/keys and sleeps; returns OUT.
fn keys_bundle(t: &Test) -> (Bundle, PathBuf) {
    let mut b = t.bundle(&[]);
    let out = b.out_dir(t);
    b.config["linux"]["maskedPaths"]
        .as_array_mut()
        .unwrap()
        .retain(|p| p != "/proc/keys");
    b.sh("cat /proc/keys > /out/keys; exec sleep 1000");
    (b, out)
}

/// What the init and an `exec`'d process see in /proc/keys.
fn keys_seen(c: &Container<'_>, out: &std::path::Path) -> [String; 2] {
    c.start();
    wait_for_comm(c.pid, "sleep");
    let init = read(&out.join("keys"));
    let exec = c.exec(&["cat", "/proc/keys"]).ok().stdout;
    [init, exec]
}

#[test]
fn the_container_gets_a_session_keyring_of_its_own() {
    let t = Test::new();
    let secret = session_keyring_with_a_secret(&t);
    let (b, out) = keys_bundle(&t);
    let c = t.create(&b);
    for (who, keys) in ["init", "exec"].iter().zip(keys_seen(&c, &out)) {
        assert!(
            !keys.contains(&secret),
            "{who} sees the caller's key:\n{keys}"
        );
        let own = format!("_ses.{}", c.id);
        assert!(keys.contains(&own), "{who} is not in {own}:\n{keys}");
    }
}

/// The serial numbers of the keyrings named `name` in a /proc/keys listing.
fn keyring_serials<'a>(keys: &'a str, name: &str) -> Vec<&'a str> {
    keys.lines()
        .filter(|line| line.ends_with(&format!(" {name}: empty")))
        .filter_map(|line| line.split_whitespace().next())
        .collect()
}

/// In a user namespace an `exec`'d process joins the keyring while it still
/// has the host's uid, which does not own it: the init must have made it
/// searchable for others, or the process gets a new keyring of that name.
/// The host's uid 0 is mapped too (as 65536), so that such a second
/// keyring, owned by it, would show in /proc/keys inside. (runc's exec
/// joins as the container's root, the owner, whose permissions lack the
/// search that runc grants only to others: it gets a second keyring.)
#[test]
fn exec_joins_the_containers_keyring_in_a_user_namespace() {
    if skip_unless_coracle("joining the init's keyring from exec in a user namespace") {
        return;
    }
    let t = Test::new();
    let (mut b, out) = keys_bundle(&t);
    b.with_ns("user", None);
    let map = json!([
        {"containerID": 0, "hostID": 100000, "size": 65536},
        {"containerID": 65536, "hostID": 0, "size": 1}
    ]);
    b.config["linux"]["uidMappings"] = map.clone();
    b.config["linux"]["gidMappings"] = map;
    let c = t.create(&b);
    let own = format!("_ses.{}", c.id);
    let [init, exec] = keys_seen(&c, &out);
    let serials = keyring_serials(&init, &own);
    assert_eq!(serials.len(), 1, "the init is not in {own}:\n{init}");
    assert_eq!(
        keyring_serials(&exec, &own),
        serials,
        "init:\n{init}\nexec:\n{exec}"
    );
}

#[test]
fn no_new_keyring_keeps_the_callers_session_keyring() {
    let t = Test::new();
    let secret = session_keyring_with_a_secret(&t);
    let (b, out) = keys_bundle(&t);
    let c = t
        .try_create(&b, &["--no-new-keyring"])
        .unwrap_or_else(|out| panic!("create failed: {out}"));
    for (who, keys) in ["init", "exec"].iter().zip(keys_seen(&c, &out)) {
        assert!(
            keys.contains(&secret),
            "{who} lost the caller's key:\n{keys}"
        );
    }
}
