#!/bin/bash
# Build a small OCI bundle around Debian's static busybox.
#
#   scripts/make-bundle.sh DIR [ARG...]
#
# DIR/rootfs holds /bin/busybox with a symlink for every applet, /etc/passwd and
# /etc/group (root and a uid 1000 "user"), and empty /proc /sys /dev /tmp.
# DIR/config.json runs ARG... (default: sh -c 'echo hello from coracle') with
# terminal false, so `coracle run --bundle DIR ID` prints straight to stdout.
# The config is written here (with jq), not by `coracle spec`, so the bundle
# does not depend on the runtime under test.
set -euo pipefail

usage() {
	echo "usage: $0 DIR [ARG...]" >&2
	exit 2
}

[ $# -ge 1 ] || usage
dir=$1
shift
[ $# -gt 0 ] || set -- sh -c 'echo hello from coracle'

busybox=${BUSYBOX:-/bin/busybox}
[ -x "$busybox" ] || {
	echo "$0: $busybox not found (apt-get install busybox-static)" >&2
	exit 1
}
# A dynamic busybox would need the host's libraries inside the rootfs.
ldd_out=$(ldd "$busybox" 2>&1 || true)
if [[ $ldd_out != *"not a dynamic executable"* ]]; then
	echo "$0: $busybox is not statically linked (apt-get install busybox-static)" >&2
	exit 1
fi
command -v jq >/dev/null || {
	echo "$0: jq not found (apt-get install jq)" >&2
	exit 1
}

rootfs=$dir/rootfs
if [ -e "$rootfs" ] || [ -e "$dir/config.json" ]; then
	echo "$0: $dir already holds a bundle" >&2
	exit 1
fi

mkdir -p "$rootfs"/{bin,etc,proc,sys,dev,tmp,root,home/user}
chmod 1777 "$rootfs/tmp"
chmod 0700 "$rootfs/root"
cp "$busybox" "$rootfs/bin/busybox"
chmod 0755 "$rootfs/bin/busybox"
for applet in $("$busybox" --list); do
	[ "$applet" = busybox ] || ln -s busybox "$rootfs/bin/$applet"
done
# Some programs expect /sbin and /usr/bin; all applets live in /bin.
ln -s bin "$rootfs/sbin"
mkdir -p "$rootfs/usr"
ln -s ../bin "$rootfs/usr/bin"
ln -s ../bin "$rootfs/usr/sbin"

cat >"$rootfs/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
user:x:1000:1000:user:/home/user:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$rootfs/etc/group" <<'EOF'
root:x:0:
tty:x:5:
user:x:1000:
nogroup:x:65534:
EOF
chown 1000:1000 "$rootfs/home/user" 2>/dev/null || true

# One --arg per argument: jq would parse a "-c" given among --args as its own option.
args='[]'
for arg in "$@"; do
	args=$(jq -cn --argjson args "$args" --arg arg "$arg" '$args + [$arg]')
done
jq -n --argjson args "$args" '{
  ociVersion: "1.0.2",
  process: {
    terminal: false,
    user: {uid: 0, gid: 0},
    args: $args,
    env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root"],
    cwd: "/",
    capabilities: {
      bounding: ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      effective: ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      permitted: ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
    },
    rlimits: [{type: "RLIMIT_NOFILE", hard: 1024, soft: 1024}],
    noNewPrivileges: true
  },
  root: {path: "rootfs", readonly: true},
  hostname: "coracle",
  mounts: [
    {destination: "/proc", type: "proc", source: "proc"},
    {destination: "/dev", type: "tmpfs", source: "tmpfs",
     options: ["nosuid", "strictatime", "mode=755", "size=65536k"]},
    {destination: "/dev/pts", type: "devpts", source: "devpts",
     options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
    {destination: "/dev/shm", type: "tmpfs", source: "shm",
     options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
    {destination: "/dev/mqueue", type: "mqueue", source: "mqueue",
     options: ["nosuid", "noexec", "nodev"]},
    {destination: "/sys", type: "sysfs", source: "sysfs",
     options: ["nosuid", "noexec", "nodev", "ro"]},
    {destination: "/tmp", type: "tmpfs", source: "tmpfs",
     options: ["nosuid", "nodev", "mode=1777"]}
  ],
  linux: {
    namespaces: [
      {type: "pid"}, {type: "network"}, {type: "ipc"}, {type: "uts"}, {type: "mount"}
    ],
    maskedPaths: [
      "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
      "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
      "/proc/sched_debug", "/sys/firmware", "/proc/scsi"
    ],
    readonlyPaths: [
      "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"
    ]
  }
}' >"$dir/config.json"

echo "bundle ready: $dir (run: coracle run --bundle $dir ID)" >&2
