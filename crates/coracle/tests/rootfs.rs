//! The container's filesystem: mounts and their options (config.md
//! "Mounts"), root.readonly, default devices and symlinks, linux.devices,
//! maskedPaths and readonlyPaths, --no-pivot, and symlinks planted in the
//! rootfs that must never lead a mount or a device node outside it.

mod common;

use common::*;
use serde_json::json;
use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;

/// Runs `script` in the bundle, returning stdout (asserting success).
fn run_ok(t: &Test, b: &mut Bundle, script: &str) -> String {
    b.sh(script);
    t.run(b).ok().stdout
}

#[test]
fn tmpfs_with_size_mode_and_flags() {
    let t = Test::new();
    let mut b = t.bundle(&[]);
    b.mount(
        json!({"destination": "/data", "type": "tmpfs", "source": "tmpfs",
                   "options": ["size=2m", "mode=0710", "nosuid", "nodev", "noexec"]}),
    );
    let out = run_ok(&t, &mut b, "stat -c %a /data; cat /proc/self/mountinfo");
    let (mode, mountinfo) = out.split_once('\n').unwrap();
    assert_eq!(mode, "710");
    let m = mount_at(mountinfo, "/data");
    assert_eq!(m.fstype, "tmpfs");
    assert!(
        m.has("nosuid") && m.has("nodev") && m.has("noexec"),
        "{m:?}"
    );
    assert!(m.has_super("size=2048k"), "{m:?}");
    assert!(m.has_super("mode=710"), "{m:?}");
}

#[test]
fn bind_read_only_host_dir() {
    let t = Test::new();
    let host_dir = t.host_dir("ro-src");
    fs::write(host_dir.join("file"), "from-host\n").unwrap();
    let mut b = t.bundle(&[]);
    b.mount(
        json!({"destination": "/ro", "type": "bind", "source": host_dir,
                   "options": ["bind", "ro"]}),
    );
    let out = run_ok(
        &t,
        &mut b,
        "cat /ro/file; touch /ro/new 2>&1 && echo WROTE; echo x >> /ro/file 2>&1 || echo refused",
    );
    assert!(out.starts_with("from-host\n"), "{out}");
    assert!(out.contains("Read-only file system"), "{out}");
    assert!(!out.contains("WROTE"), "{out}");
    assert!(!host_dir.join("new").exists());
    assert_eq!(read(&host_dir.join("file")), "from-host\n");
}

#[test]
fn bind_flags_nosuid_nodev_noexec() {
    let t = Test::new();
    let host_dir = t.host_dir("flags-src");
    let mut b = t.bundle(&[]);
    b.mount(
        json!({"destination": "/flags", "type": "bind", "source": host_dir,
                   "options": ["rbind", "rw", "nosuid", "nodev", "noexec"]}),
    );
    let out = run_ok(
        &t,
        &mut b,
        "cp /bin/busybox /flags/bb; /flags/bb true 2>/dev/null && echo EXECUTED; grep ' /flags ' /proc/self/mountinfo",
    );
    assert!(
        !out.contains("EXECUTED"),
        "ran a program from a noexec mount: {out}"
    );
    let m = mount_at(&out, "/flags");
    assert!(
        m.has("rw") && m.has("nosuid") && m.has("nodev") && m.has("noexec"),
        "{m:?}"
    );
    // The write went through to the host.
    assert!(host_dir.join("bb").exists());
}

#[test]
fn bind_is_not_recursive_but_rbind_is() {
    let t = Test::new();
    let src = t.host_dir("tree");
    let _sub = HostMount::tmpfs(&src.join("sub"));
    fs::write(src.join("sub/inner"), "inner\n").unwrap();
    let mut b = t.bundle(&[]);
    b.mount(json!({"destination": "/plain", "type": "bind", "source": src, "options": ["bind"]}));
    b.mount(json!({"destination": "/rec", "type": "bind", "source": src, "options": ["rbind"]}));
    let out = run_ok(
        &t,
        &mut b,
        "cat /plain/sub/inner 2>/dev/null || echo plain-empty; cat /rec/sub/inner",
    );
    assert_eq!(out, "plain-empty\ninner\n");
}

#[test]
fn rro_is_recursively_read_only() {
    let t = Test::new();
    let src = t.host_dir("rro-tree");
    let _sub = HostMount::tmpfs(&src.join("sub"));
    let mut b = t.bundle(&[]);
    b.mount(
        json!({"destination": "/rro", "type": "bind", "source": src, "options": ["rbind", "rro"]}),
    );
    b.mount(
        json!({"destination": "/ro", "type": "bind", "source": src, "options": ["rbind", "ro"]}),
    );
    let out = run_ok(
        &t,
        &mut b,
        "touch /rro/top 2>/dev/null || echo rro-top-refused; \
         touch /rro/sub/x 2>/dev/null || echo rro-sub-refused; \
         touch /ro/top 2>/dev/null || echo ro-top-refused; \
         grep -E ' /rro(/sub)? ' /proc/self/mountinfo",
    );
    assert!(
        out.contains("rro-top-refused\nrro-sub-refused\nro-top-refused\n"),
        "{out}"
    );
    assert!(mount_at(&out, "/rro").has("ro"), "{out}");
    assert!(mount_at(&out, "/rro/sub").has("ro"), "{out}");
    assert!(!src.join("top").exists() && !src.join("sub/x").exists());
}

/// Recursive flags (`rnosuid`, `rnodev`, `rnoexec`, `rrelatime`, set over
/// the whole tree) reach the submounts of an rbind; plain ones only its
/// top: a program on the submount runs through the plain bind only.
#[test]
fn recursive_flags_reach_submounts() {
    let t = Test::new();
    let src = t.host_dir("rflags-tree");
    let sub = HostMount::tmpfs(&src.join("sub"));
    // An atime rule of the submount's own, which rrelatime replaces.
    host(
        "mount",
        &["-o", "remount,bind,noatime", sub.0.to_str().unwrap()],
    );
    let mut b = t.bundle(&[]);
    let recursive = ["rbind", "rnosuid", "rnodev", "rnoexec", "rrelatime"];
    b.mount(json!({"destination": "/r", "type": "bind", "source": src, "options": recursive}));
    let plain = ["rbind", "nosuid", "nodev", "noexec", "relatime"];
    b.mount(json!({"destination": "/p", "type": "bind", "source": src, "options": plain}));
    let out = run_ok(
        &t,
        &mut b,
        "printf '#!/bin/sh\\necho p-ran\\n' > /r/sub/run; chmod +x /r/sub/run; \
         /r/sub/run 2>/dev/null || echo r-refused; /p/sub/run; cat /proc/self/mountinfo",
    );
    assert!(out.starts_with("r-refused\np-ran\n"), "{out}");
    for point in ["/r", "/r/sub", "/p"] {
        let m = mount_at(&out, point);
        let all = ["nosuid", "nodev", "noexec", "relatime"];
        assert!(all.iter().all(|o| m.has(o)), "{m:?}");
    }
    let plain_sub = mount_at(&out, "/p/sub");
    assert!(
        !plain_sub.has("nosuid") && !plain_sub.has("noexec") && plain_sub.has("noatime"),
        "{plain_sub:?}"
    );
}

/// The atime options: `noatime`; `strictatime` (neither relatime nor
/// noatime); `nodiratime`, with the default relatime; `relatime`.
#[test]
fn atime_options() {
    let t = Test::new();
    let mut b = t.bundle(&[]);
    for (dest, option) in [
        ("/noatime", "noatime"),
        ("/strictatime", "strictatime"),
        ("/nodiratime", "nodiratime"),
        ("/relatime", "relatime"),
    ] {
        b.mount(
            json!({"destination": dest, "type": "tmpfs", "source": "tmpfs", "options": [option]}),
        );
    }
    let out = run_ok(&t, &mut b, "cat /proc/self/mountinfo");
    let m = mount_at(&out, "/noatime");
    assert!(m.has("noatime") && !m.has("relatime"), "{m:?}");
    let m = mount_at(&out, "/strictatime");
    assert!(!m.has("noatime") && !m.has("relatime"), "{m:?}");
    let m = mount_at(&out, "/nodiratime");
    assert!(m.has("nodiratime") && m.has("relatime"), "{m:?}");
    let m = mount_at(&out, "/relatime");
    assert!(m.has("relatime") && !m.has("nodiratime"), "{m:?}");
}

/// `sync` and `dirsync` are the filesystem's options, `nosymfollow` the
/// mount's: a symbolic link on it is not followed.
#[test]
fn sync_dirsync_and_nosymfollow() {
    let t = Test::new();
    let mut b = t.bundle(&[]);
    for option in ["sync", "dirsync", "nosymfollow"] {
        let dest = format!("/{option}");
        b.mount(
            json!({"destination": dest, "type": "tmpfs", "source": "tmpfs", "options": [option]}),
        );
    }
    let out = run_ok(
        &t,
        &mut b,
        "for d in /sync /nosymfollow; do echo in-$d > $d/target; ln -s target $d/link; done; \
         cat /nosymfollow/link 2>&1 || echo not-followed; cat /sync/link; cat /proc/self/mountinfo",
    );
    let (links, mountinfo) = out
        .split_once("in-/sync\n")
        .unwrap_or_else(|| panic!("a link on /sync was not followed: {out}"));
    assert!(
        links.ends_with("Too many levels of symbolic links\nnot-followed\n"),
        "{out}"
    );
    let m = mount_at(mountinfo, "/sync");
    assert!(m.has_super("sync") && !m.has("nosymfollow"), "{m:?}");
    assert!(
        mount_at(mountinfo, "/dirsync").has_super("dirsync"),
        "{mountinfo}"
    );
    assert!(
        mount_at(mountinfo, "/nosymfollow").has("nosymfollow"),
        "{mountinfo}"
    );
}

/// `linux.rootfsPropagation` sets the propagation of the container's root
/// mount. The rootfs is a shared mount on the host, so that a slave has a
/// master: `shared` (a peer group of the container's, itself the host's
/// slave, so nothing leaks out), `slave`, `private`, `unbindable`.
#[test]
fn rootfs_propagation() {
    let t = Test::new();
    if skip_unless_coracle("rootfsPropagation on the root mount (runc 1.1 refuses unbindable)") {
        return;
    }
    for (propagation, tag) in [
        ("shared", Some("shared:")),
        ("slave", Some("master:")),
        ("private", None),
        ("unbindable", Some("unbindable")),
    ] {
        let mut b = t.bundle(&[]);
        let rootfs = b.rootfs();
        let path = rootfs.to_str().unwrap();
        host("mount", &["--bind", path, path]);
        let _shared = HostMount(rootfs.clone());
        host("mount", &["--make-shared", path]);
        b.config["linux"]["rootfsPropagation"] = json!(propagation);
        let out = run_ok(&t, &mut b, "cat /proc/self/mountinfo");
        let root = mount_at(&out, "/");
        match tag {
            Some(tag) => assert!(
                root.optional.iter().any(|o| o.starts_with(tag)),
                "{propagation}: {root:?}"
            ),
            None => assert!(root.optional.is_empty(), "{propagation}: {root:?}"),
        }
        if propagation == "slave" {
            assert!(
                !root.optional.iter().any(|o| o.starts_with("shared:")),
                "{root:?}"
            );
        }
    }
}

#[test]
fn mount_propagation_flags() {
    let t = Test::new();
    let src = t.host_dir("prop-src");
    let mut b = t.bundle(&[]);
    b.mount(json!({"destination": "/shared", "type": "bind", "source": src, "options": ["rbind", "rshared"]}));
    b.mount(json!({"destination": "/private", "type": "bind", "source": src, "options": ["rbind", "rprivate"]}));
    b.mount(json!({"destination": "/tmpshared", "type": "tmpfs", "source": "tmpfs", "options": ["shared"]}));
    let out = run_ok(&t, &mut b, "cat /proc/self/mountinfo");
    let shared = mount_at(&out, "/shared");
    assert!(
        shared.optional.iter().any(|o| o.starts_with("shared:")),
        "{shared:?}"
    );
    let private = mount_at(&out, "/private");
    assert!(private.optional.is_empty(), "{private:?}");
    let tmp = mount_at(&out, "/tmpshared");
    assert!(
        tmp.optional.iter().any(|o| o.starts_with("shared:")),
        "{tmp:?}"
    );
}

/// A host mount made under an rslave bind after the container started
/// propagates into the container.
#[test]
fn rslave_receives_host_mounts() {
    let t = Test::new();
    let src = t.host_dir("slave-src");
    // A shared mount on the host, so that the container's copy can be its slave.
    host(
        "mount",
        &["--bind", src.to_str().unwrap(), src.to_str().unwrap()],
    );
    let _self_bind = HostMount(src.clone());
    host("mount", &["--make-shared", src.to_str().unwrap()]);
    let mut b = t.bundle(&[]);
    let out = b.out_dir(&t);
    b.mount(json!({"destination": "/slave", "type": "bind", "source": src, "options": ["rbind", "rslave"]}));
    // Waits (bounded) for the marker the host mounts after start.
    b.sh(
        ": > /out/ready; i=0; while [ ! -e /slave/sub/marker ] && [ $i -lt 1200 ]; do \
          sleep 0.05; i=$((i+1)); done; cat /slave/sub/marker > /out/seen; \
          grep ' /slave ' /proc/self/mountinfo > /out/mountinfo",
    );
    let c = t.create(&b);
    c.start();
    wait_for_file(&out.join("ready"));
    let sub = HostMount::tmpfs(&src.join("sub"));
    fs::write(src.join("sub/marker"), "propagated\n").unwrap();
    c.wait_stopped();
    assert_eq!(read(&out.join("seen")), "propagated\n");
    let m = mount_at(&read(&out.join("mountinfo")), "/slave");
    assert!(m.optional.iter().any(|o| o.starts_with("master:")), "{m:?}");
    drop(sub);
}

#[test]
fn mounts_are_applied_in_order() {
    let t = Test::new();
    let host_dir = t.host_dir("order-src");
    fs::write(host_dir.join("f"), "bound\n").unwrap();
    let mut b = t.bundle(&[]);
    // The bind's mount point only exists inside the tmpfs mounted first.
    b.mount(json!({"destination": "/layer", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]}));
    b.mount(json!({"destination": "/layer/deep/bind", "type": "bind", "source": host_dir, "options": ["rbind"]}));
    // A second tmpfs on the same place hides the first one.
    b.mount(json!({"destination": "/twice", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]}));
    b.mount(json!({"destination": "/twice", "type": "tmpfs", "source": "tmpfs", "options": ["size=2m"]}));
    let out = run_ok(
        &t,
        &mut b,
        "cat /layer/deep/bind/f; cat /proc/self/mountinfo",
    );
    assert!(out.starts_with("bound\n"), "{out}");
    let all = parse_mountinfo(&out);
    let layer = all.iter().position(|m| m.mount_point == "/layer").unwrap();
    let bind = all
        .iter()
        .position(|m| m.mount_point == "/layer/deep/bind")
        .unwrap();
    assert!(layer < bind);
    assert!(mount_at(&out, "/twice").has_super("size=2048k"), "{out}");
}

#[test]
fn bind_mount_of_a_file() {
    let t = Test::new();
    let host_file = t.dir.join("hosts-file");
    fs::write(&host_file, "127.0.0.1 bound-file\n").unwrap();
    let mut b = t.bundle(&[]);
    b.mount(json!({"destination": "/etc/hosts", "type": "bind", "source": host_file, "options": ["bind", "ro"]}));
    assert_eq!(
        run_ok(&t, &mut b, "cat /etc/hosts"),
        "127.0.0.1 bound-file\n"
    );
}

#[test]
fn tmpcopyup_keeps_the_content() {
    let t = Test::new();
    let mut b = t.bundle(&[]);
    b.mount(json!({"destination": "/etc", "type": "tmpfs", "source": "tmpfs", "options": ["tmpcopyup"]}));
    let out = run_ok(
        &t,
        &mut b,
        "grep -c user /etc/passwd; echo new > /etc/new && cat /etc/new; grep ' /etc ' /proc/self/mountinfo",
    );
    assert!(out.starts_with("1\nnew\n"), "{out}");
    assert_eq!(mount_at(&out, "/etc").fstype, "tmpfs");
    // Copied up, not written through.
    assert!(!b.rootfs().join("etc/new").exists());
}

#[test]
fn readonly_root() {
    let t = Test::new();
    let mut b = t.bundle(&[]);
    b.config["root"]["readonly"] = json!(true);
    let out = run_ok(
        &t,
        &mut b,
        "touch /x 2>&1 || true; echo ok > /dev/shm/w && cat /dev/shm/w; cat /proc/self/mountinfo",
    );
    assert!(out.contains("Read-only file system"), "{out}");
    assert!(out.contains("ok\n"), "other mounts stay writable: {out}");
    assert!(mount_at(&out, "/").has("ro"), "{out}");
    assert!(!b.rootfs().join("x").exists());
}

#[test]
fn default_devices() {
    let t = Test::new();
    let mut b = t.bundle(&[]);
    let out = run_ok(
        &t,
        &mut b,
        "for d in null zero full random urandom tty; do stat -c '%n %F %t:%T' /dev/$d; done; \
         echo discard > /dev/null && head -c 4 /dev/zero | od -An -tx1 | tr -d ' '; \
         echo x > /dev/full 2>/dev/null || echo full-refuses",
    );
    let want = [
        "/dev/null character special file 1:3",
        "/dev/zero character special file 1:5",
        "/dev/full character special file 1:7",
        "/dev/random character special file 1:8",
        "/dev/urandom character special file 1:9",
        "/dev/tty character special file 5:0",
    ];
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(&lines[..6], &want, "{out}");
    assert_eq!(lines[6], "00000000");
    assert_eq!(lines[7], "full-refuses");
}

#[test]
fn custom_device() {
    let t = Test::new();
    let mut b = t.bundle(&[]);
    b.config["linux"]["devices"] = json!([{
        "path": "/dev/mynull", "type": "c", "major": 1, "minor": 3,
        "fileMode": 0o662, "uid": 1000, "gid": 1000
    }, {
        "path": "/dev/sub/myzero", "type": "c", "major": 1, "minor": 5
    }]);
    let out = run_ok(
        &t,
        &mut b,
        "stat -c '%F %t:%T %a %u:%g' /dev/mynull; echo x > /dev/mynull && echo writes; \
         head -c 2 /dev/sub/myzero | od -An -tx1 | tr -d ' '",
    );
    assert_eq!(
        out,
        "character special file 1:3 662 1000:1000\nwrites\n0000\n"
    );
}

#[test]
fn devpts_and_ptmx() {
    let t = Test::new();
    let mut b = t.bundle(&[]);
    let out = run_ok(
        &t,
        &mut b,
        "grep ' /dev/pts ' /proc/self/mountinfo; stat -L -c '%t:%T %d' /dev/ptmx; stat -c '%t:%T %d' /dev/pts/ptmx",
    );
    let m = mount_at(&out, "/dev/pts");
    assert_eq!(m.fstype, "devpts");
    assert!(m.has_super("ptmxmode=666"), "{m:?}");
    let lines: Vec<&str> = out.lines().collect();
    let (ptmx, pts_ptmx) = (lines[lines.len() - 2], lines[lines.len() - 1]);
    assert!(ptmx.starts_with("5:2 "), "{out}");
    // /dev/ptmx leads to this container's devpts instance.
    assert_eq!(ptmx, pts_ptmx, "{out}");
}

#[test]
fn default_symlinks() {
    let t = Test::new();
    let mut b = t.bundle(&[]);
    let out = run_ok(
        &t,
        &mut b,
        "for l in fd stdin stdout stderr; do readlink /dev/$l; done",
    );
    assert_eq!(
        out,
        "/proc/self/fd\n/proc/self/fd/0\n/proc/self/fd/1\n/proc/self/fd/2\n"
    );
}

#[test]
fn shm_and_mqueue() {
    let t = Test::new();
    let mut b = t.bundle(&[]);
    let out = run_ok(
        &t,
        &mut b,
        "grep -E ' /dev/(shm|mqueue) ' /proc/self/mountinfo",
    );
    assert_eq!(mount_at(&out, "/dev/shm").fstype, "tmpfs");
    assert_eq!(mount_at(&out, "/dev/mqueue").fstype, "mqueue");
}

#[test]
fn masked_paths() {
    let t = Test::new();
    let mut b = t.bundle(&[]);
    fs::create_dir_all(b.rootfs().join("secret-dir")).unwrap();
    fs::write(b.rootfs().join("secret-dir/key"), "dir-secret\n").unwrap();
    fs::write(b.rootfs().join("secret-file"), "file-secret\n").unwrap();
    let masked = b.config["linux"]["maskedPaths"].as_array_mut().unwrap();
    masked.push(json!("/secret-dir"));
    masked.push(json!("/secret-file"));
    masked.push(json!("/does/not/exist"));
    let out = run_ok(
        &t,
        &mut b,
        "echo kcore=$(cat /proc/kcore | wc -c); echo dir=$(ls -A /secret-dir | wc -l); \
         echo file=$(cat /secret-file | wc -c); echo firmware=$(ls -A /sys/firmware | wc -l); \
         touch /secret-dir/new 2>/dev/null && echo WROTE; echo done",
    );
    assert_eq!(out, "kcore=0\ndir=0\nfile=0\nfirmware=0\ndone\n");
    // Masking hides, it does not delete.
    assert_eq!(read(&b.rootfs().join("secret-file")), "file-secret\n");
    assert!(!b.rootfs().join("does").exists());
}

#[test]
fn readonly_paths() {
    let t = Test::new();
    let mut b = t.bundle(&[]);
    fs::create_dir_all(b.rootfs().join("ro-dir")).unwrap();
    b.config["linux"]["readonlyPaths"]
        .as_array_mut()
        .unwrap()
        .push(json!("/ro-dir"));
    let out = run_ok(
        &t,
        &mut b,
        "touch /ro-dir/x 2>&1 || true; echo 1 > /proc/sys/kernel/domainname 2>&1 || true; \
         grep -E ' /(ro-dir|proc/sys) ' /proc/self/mountinfo",
    );
    assert!(
        out.contains("touch: /ro-dir/x: Read-only file system"),
        "{out}"
    );
    assert!(mount_at(&out, "/ro-dir").has("ro"), "{out}");
    assert!(mount_at(&out, "/proc/sys").has("ro"), "{out}");
}

#[test]
fn no_pivot() {
    let t = Test::new();
    let mut b = t.bundle(&[]);
    let out_dir = b.out_dir(&t);
    b.sh(
        "ls / > /out/ls; [ -e /work ] || [ -e /tmp/coracle-test-is-host ] && echo HOST; echo done",
    );
    fs::write("/tmp/coracle-test-is-host", "").ok();
    let out = t.run_with(&b, &["--no-pivot"]).ok();
    let _ = fs::remove_file("/tmp/coracle-test-is-host");
    assert_eq!(out.stdout, "done\n");
    let ls = read(&out_dir.join("ls"));
    assert!(
        ls.contains("bin\n") && ls.contains("etc\n") && ls.contains("out\n"),
        "{ls}"
    );
}

// --- symlinks planted in the rootfs ---------------------------------------

/// A host directory that a container must never touch, with its listing.
fn host_target(t: &Test, name: &str) -> std::path::PathBuf {
    let d = t.host_dir(name);
    fs::write(d.join("canary"), "untouched\n").unwrap();
    d
}

/// Runs `script`: the runtime may refuse the bundle (non-zero exit), or run
/// it, and then the script must really have run (a marker in /out).
#[track_caller]
fn run_or_refuse(t: &Test, b: &mut Bundle, script: &str) {
    let out = b.out_dir(t);
    b.sh(&format!("{script}; echo ran > /out/ran"));
    let res = t.run(b);
    if res.success() {
        assert_eq!(
            read(&out.join("ran")),
            "ran\n",
            "exit 0 but the container did not run: {res}"
        );
    }
}

#[track_caller]
fn assert_untouched(t: &Test, d: &Path) {
    let names: Vec<String> = fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        ["canary"],
        "something was created in {}",
        d.display()
    );
    assert_eq!(read(&d.join("canary")), "untouched\n");
    let mounts = mounts_under(d);
    assert!(mounts.is_empty(), "mounted on the host: {mounts:?}");
    let _ = t;
}

/// Without a tmpfs on /dev the runtime creates the default devices in the
/// rootfs's /dev, where the container planted symlinks to the host.
#[test]
fn dev_symlinks_never_create_devices_outside() {
    let t = Test::new();
    let target = host_target(&t, "dev-target");
    let mut b = t.bundle(&[]);
    b.without_mount("/dev")
        .without_mount("/dev/pts")
        .without_mount("/dev/shm")
        .without_mount("/dev/mqueue");
    let dev = b.rootfs().join("dev");
    for name in ["null", "zero", "full", "tty", "random", "urandom", "evil"] {
        symlink(target.join(name), dev.join(name)).unwrap();
    }
    symlink(&target, dev.join("pts")).unwrap();
    b.config["linux"]["devices"] =
        json!([{"path": "/dev/evil", "type": "c", "major": 1, "minor": 3}]);
    run_or_refuse(&t, &mut b, "true");
    assert_untouched(&t, &target);
}

#[test]
fn dev_itself_a_symlink_to_the_host() {
    let t = Test::new();
    let target = host_target(&t, "devdir-target");
    let mut b = t.bundle(&[]);
    b.without_mount("/dev")
        .without_mount("/dev/pts")
        .without_mount("/dev/shm")
        .without_mount("/dev/mqueue");
    fs::remove_dir(b.rootfs().join("dev")).unwrap();
    symlink(&target, b.rootfs().join("dev")).unwrap();
    b.config["linux"]["devices"] =
        json!([{"path": "/dev/evil", "type": "c", "major": 1, "minor": 3}]);
    run_or_refuse(&t, &mut b, "true");
    assert_untouched(&t, &target);
}

#[test]
fn mount_destination_symlink_stays_inside() {
    let t = Test::new();
    let target = host_target(&t, "mnt-target");
    let mut b = t.bundle(&[]);
    // An absolute link: resolved in the container's root it is
    // ROOTFS/<target path>, never the host's target.
    symlink(&target, b.rootfs().join("link")).unwrap();
    symlink(
        "../../../../../../..".to_string() + target.to_str().unwrap(),
        b.rootfs().join("rel-link"),
    )
    .unwrap();
    b.mount(
        json!({"destination": "/link", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]}),
    );
    b.mount(json!({"destination": "/rel-link/sub", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]}));
    b.mount(json!({"destination": "/link/bind", "type": "bind", "source": t.host_dir("bind-src"), "options": ["rbind"]}));
    run_or_refuse(
        &t,
        &mut b,
        "touch /link/written /rel-link/sub/written 2>/dev/null; true",
    );
    assert_untouched(&t, &target);
}

#[test]
fn masked_path_symlink_stays_inside() {
    let t = Test::new();
    let target = host_target(&t, "mask-target");
    let mut b = t.bundle(&[]);
    symlink(target.join("canary"), b.rootfs().join("masked-link")).unwrap();
    symlink(&target, b.rootfs().join("ro-link")).unwrap();
    b.config["linux"]["maskedPaths"]
        .as_array_mut()
        .unwrap()
        .push(json!("/masked-link"));
    b.config["linux"]["readonlyPaths"]
        .as_array_mut()
        .unwrap()
        .push(json!("/ro-link"));
    run_or_refuse(&t, &mut b, "true");
    assert_untouched(&t, &target);
    // Still readable and writable on the host: no mount landed on it.
    fs::write(target.join("canary"), "untouched\n").unwrap();
}

#[test]
fn rootfs_permissions_preserved() {
    let t = Test::new();
    let mut b = t.bundle(&[]);
    fs::set_permissions(b.rootfs().join("tmp"), fs::Permissions::from_mode(0o1777)).unwrap();
    assert_eq!(run_ok(&t, &mut b, "stat -c %a /tmp"), "1777\n");
}
