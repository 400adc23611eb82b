#!/bin/busybox sh
# The throwaway guest's side of scripts/guest/run.sh, run by static busybox.
#
# One file, three roles, chosen by the first argument:
#   (none)       the initramfs's /init: load the modules, mount the host's /
#                read-only over virtio-9p with a tmpfs overlay on top, the
#                shared directories read-write at their host paths, then hand
#                over to the mode's PID 1 (switch_root);
#   pid1 MODE    PID 1 of the guests without systemd: mount the cgroups of
#                MODE (v1: every controller its own v1 hierarchy, as a
#                classic v1 host; v2: cgroup2 with every controller enabled),
#                run the command, power off;
#   systemd-command  run the job's command under systemd (from the
#                coracle-guest-test.service unit).
# Every mode records the command's exit code (run_command).
#
# run.sh talks to the guest through the "ctl" 9p share (a per-run host
# directory): it writes job.env (what to mount) and command.sh (the command
# with its environment); the guest writes "started" when the command starts
# (the host's boot watchdog waits for it) and "rc" with its exit code.

BB=/run/coracle-guest/busybox
SELF=/run/coracle-guest/init.sh
CTL=/run/coracle-guest/ctl
# 9p options: big messages for throughput; the read-only host root may cache
# (nothing in the guest writes it), read-write shares must not.
P9="trans=virtio,version=9p2000.L,msize=512000"

say() { echo "coracle-guest: $*" >/dev/console; }

# Stop the guest at once: the host sees no "rc" and fails loudly.
die() {
    say "FATAL: $*"
    sync
    poweroff -f
    sleep 5
    echo o >/proc/sysrq-trigger
}

# Mount a 9p share by tag, retrying while virtio probing settles.
mount_9p() { # tag dir options
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        mount -t 9p -o "$P9,$3" "$1" "$2" 2>/dev/null && return 0
        sleep 0.2
    done
    mount -t 9p -o "$P9,$3" "$1" "$2" || die "mount 9p share $1 on $2 failed"
}

# Called from job.env: share TAG HOSTPATH rw|ro mounts a share at its host
# path inside the new root: read-write uncached (the host writes it too),
# or read-only and cached (what the host does not change meanwhile, such
# as test binaries: exec from an uncached share reads the whole file each
# time, a third of a second for a debug build under emulation).
SHARED=/run/coracle-guest
share() {
    mkdir -p "/newroot$2" || die "mkdir /newroot$2"
    case "$3" in
    ro) mount_9p "$1" "/newroot$2" ro,cache=loose ;;
    *) mount_9p "$1" "/newroot$2" cache=mmap ;;
    esac
    SHARED="$SHARED
$2"
}

# systemd-tmpfiles at boot empties /tmp (and may remove or chmod elsewhere):
# the shared directories are the host's own, so it must leave them alone.
protect_shares_from_tmpfiles() {
    d=/newroot/etc/systemd/system/systemd-tmpfiles-setup.service.d
    mkdir -p "$d"
    line="ExecStart=systemd-tmpfiles --create --remove --boot --exclude-prefix=/dev"
    while read -r p; do
        [ -n "$p" ] || continue
        # systemd unquoting: backslash and double quote escaped, % doubled.
        q=$(printf '%s' "$p" | sed -e 's/[\\"]/\\&/g' -e 's/%/%%/g')
        line="$line \"--exclude-prefix=$q\""
    done <<EOF2
$SHARED
EOF2
    printf '[Service]\nExecStart=\n%s\n' "$line" >"$d/coracle-guest.conf"
}

load_modules() {
    while read -r m; do
        insmod "/lib/modules/$m" || die "insmod $m failed"
    done </lib/modules/load.list
}

mount_root() {
    mkdir -p /lower /upper /newroot /ctl
    mount_9p hostroot /lower ro,cache=loose
    mount -t tmpfs -o mode=0755 tmpfs /upper || die "tmpfs for the overlay"
    mkdir -p /upper/upper /upper/work
    mount -t overlay -o lowerdir=/lower,upperdir=/upper/upper,workdir=/upper/work \
        overlay /newroot || die "overlay on /newroot failed"
    # The host root may carry a container marker: the guest is no container
    # (systemd would believe it and ignore the kernel command line).
    rm -f /newroot/.dockerenv /newroot/.containerenv
    # The host's /run and /tmp hold the host's runtime state: hide them.
    mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /newroot/run || die "tmpfs /run"
    mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /newroot/tmp || die "tmpfs /tmp"
    mkdir -p /newroot/run/coracle-guest/ctl
    mount_9p ctl /newroot/run/coracle-guest/ctl cache=none
    cp /bin/busybox /init /newroot/run/coracle-guest/ || die "copy busybox"
    mv /newroot/run/coracle-guest/init /newroot/run/coracle-guest/init.sh
    # The applets the later stages use, ahead of the host's tools in PATH
    # (the host's poweroff is systemctl's, useless without systemd).
    mkdir -p /newroot/run/coracle-guest/bin
    for a in cat hostname mkdir mount mv poweroff sh sleep sync; do
        ln -s ../busybox "/newroot/run/coracle-guest/bin/$a"
    done
}

# The kernel's modules (unpacked in run.sh's cache, which the host root share
# shows) at the path modprobe looks in, for tests that load modules.
bind_kernel_modules() {
    [ -n "${MODDIR:-}" ] && [ -d "/newroot$MODDIR" ] || return 0
    if ! mkdir -p "/newroot/lib/modules/$KVER" ||
        ! mount --bind "/newroot$MODDIR" "/newroot/lib/modules/$KVER"; then
        say "warning: cannot bind the kernel modules"
    fi
}

# Units for systemd mode: a target with only basic.target and the test
# service, and masks for what would fail or slow the boot without network.
write_systemd_units() {
    u=/newroot/etc/systemd/system
    mkdir -p "$u"
    cat >"$u/coracle-guest.target" <<'EOF'
[Unit]
Description=coracle throwaway guest
Requires=basic.target
After=basic.target
Wants=coracle-guest-test.service
AllowIsolate=yes
EOF
    cat >"$u/coracle-guest-test.service" <<'EOF'
[Unit]
Description=coracle guest test command
Requires=dbus.socket
After=basic.target dbus.socket
[Service]
Type=simple
Delegate=yes
StandardInput=null
StandardOutput=journal+console
ExecStart=/run/coracle-guest/busybox sh /run/coracle-guest/init.sh systemd-command
EOF
    # Masked: what needs hardware, network or a real disk, the host's own
    # services, and what only costs boot time here (seconds under TCG).
    for m in timers.target remote-fs.target network.target \
        networking.service getty.target console-getty.service \
        serial-getty@ttyS0.service cryptsetup.target integritysetup.target \
        veritysetup.target systemd-ask-password-console.path \
        proc-sys-fs-binfmt_misc.automount systemd-binfmt.service \
        sys-kernel-debug.mount sys-kernel-tracing.mount \
        sys-kernel-config.mount sys-fs-fuse-connections.mount \
        modprobe@configfs.service modprobe@drm.service modprobe@fuse.service \
        systemd-modules-load.service systemd-timesyncd.service \
        systemd-pstore.service systemd-firstboot.service \
        systemd-machine-id-commit.service systemd-repart.service \
        systemd-pcrphase-sysinit.service systemd-pcrphase.service \
        systemd-sysusers.service systemd-journal-flush.service \
        systemd-random-seed.service systemd-update-utmp.service \
        systemd-tmpfiles-clean.service systemd-tmpfiles-clean.timer \
        ldconfig.service e2scrub_reap.service postgresql.service \
        podman.service podman.socket podman-restart.service \
        podman-auto-update.service; do
        ln -sf /dev/null "$u/$m"
    done
    protect_shares_from_tmpfiles
    # Generators read fstab, crypttab, init scripts...: none applies, and
    # each costs time at every boot. The debug generator (systemd.mask= on
    # the kernel command line) stays.
    mkdir -p /newroot/etc/systemd/system-generators
    for g in /newroot/lib/systemd/system-generators/*; do
        case "${g##*/}" in systemd-debug-generator) continue ;; esac
        ln -sf /dev/null "/newroot/etc/systemd/system-generators/${g##*/}"
    done
}

stage_initramfs() {
    export PATH=/sbin:/usr/sbin:/bin:/usr/bin
    /bin/busybox mkdir -p /proc /sys /dev /sbin /usr/bin /usr/sbin /tmp
    /bin/busybox --install -s
    mount -t proc proc /proc
    mount -t sysfs sysfs /sys
    mount -t devtmpfs devtmpfs /dev
    load_modules
    mount_root
    # shellcheck disable=SC1091
    . /newroot/run/coracle-guest/ctl/job.env || die "read job.env"
    bind_kernel_modules
    for d in proc sys dev; do
        mount --move "/$d" "/newroot/$d" || die "move /$d"
    done
    case "$MODE" in
    v1 | v2)
        exec switch_root /newroot "$BB" sh "$SELF" pid1 "$MODE"
        ;;
    systemd)
        write_systemd_units
        exec switch_root /newroot /lib/systemd/systemd
        ;;
    esac
    die "unknown mode '$MODE'"
}

# The API file systems a host without systemd has, but cgroups.
mount_api_fs() {
    mkdir -p /dev/pts /dev/shm /dev/mqueue
    mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts /dev/pts
    mount -t tmpfs -o mode=1777,nosuid,nodev shm /dev/shm
    mount -t mqueue mqueue /dev/mqueue
}

# A pure cgroup v2 host: cgroup2 at /sys/fs/cgroup, and, as a real host's
# manager does, every controller usable below the root.
mount_cgroup_v2() {
    mount -t cgroup2 -o nsdelegate,memory_recursiveprot cgroup2 /sys/fs/cgroup ||
        die "mount cgroup2"
    # shellcheck disable=SC2013 # one line of space-separated names
    for c in $(cat /sys/fs/cgroup/cgroup.controllers); do
        echo "+$c" >/sys/fs/cgroup/cgroup.subtree_control ||
            say "warning: cannot enable controller $c"
    done
}

# A classic cgroup v1 host, laid out as systemd's legacy mode does: a tmpfs
# at /sys/fs/cgroup with every controller of /proc/cgroups as its own
# hierarchy (cpu with cpuacct and net_cls with net_prio sharing one, each
# name a symlink to it), the named systemd hierarchy, and cgroup2 at
# unified holding no controller. The v1 hierarchies are mounted first: a
# controller stays with the first hierarchy that takes it.
mount_cgroup_v1() {
    mount -t tmpfs -o mode=0755,nosuid,nodev,noexec tmpfs /sys/fs/cgroup ||
        die "tmpfs on /sys/fs/cgroup"
    # /proc/cgroups: subsys_name hierarchy num_cgroups enabled
    while read -r c _ _ enabled; do
        case "$c/$enabled" in
        \#* | */0 | cpuacct/* | net_prio/*) continue ;; # header, off, paired
        cpu/*) opts=cpu,cpuacct ;;
        net_cls/*) opts=net_cls,net_prio ;;
        *) opts=$c ;;
        esac
        mkdir -p "/sys/fs/cgroup/$opts"
        mount -t cgroup -o "nosuid,nodev,noexec,$opts" cgroup "/sys/fs/cgroup/$opts" ||
            die "mount the $opts cgroup v1 hierarchy"
        if [ "$opts" != "$c" ]; then
            for name in $(echo "$opts" | "$BB" tr , ' '); do
                "$BB" ln -s "$opts" "/sys/fs/cgroup/$name"
            done
        fi
    done </proc/cgroups
    mkdir -p /sys/fs/cgroup/systemd /sys/fs/cgroup/unified
    mount -t cgroup -o nosuid,nodev,noexec,none,name=systemd cgroup /sys/fs/cgroup/systemd ||
        die "mount the named systemd hierarchy"
    mount -t cgroup2 -o nosuid,nodev,noexec,nsdelegate cgroup2 /sys/fs/cgroup/unified ||
        die "mount cgroup2 on /sys/fs/cgroup/unified"
}

stage_pid1() { # mode
    mount_api_fs
    case "$1" in
    v1) mount_cgroup_v1 ;;
    v2) mount_cgroup_v2 ;;
    *) die "unknown cgroup mode '$1'" ;;
    esac
    hostname coracle-guest
    run_command
    sync
    poweroff -f
}

# The virtio-serial port whose host end is run.sh's standard output.
output_port() {
    for d in /sys/class/virtio-ports/*; do
        [ "$(cat "$d/name" 2>/dev/null)" = coracle.out ] && {
            echo "/dev/${d##*/}"
            return 0
        }
    done
    echo /dev/console
}

run_command() {
    port=$(output_port)
    : >"$CTL/started" || die "cannot write $CTL/started"
    "$BB" sh "$CTL/command.sh" </dev/null >"$port" 2>&1
    rc=$?
    echo "$rc" >"$CTL/rc.tmp" && mv "$CTL/rc.tmp" "$CTL/rc"
    sync
}

stage_systemd_command() {
    # The command sees a booted system: wait until the boot job is done.
    state=$(systemctl is-system-running --wait 2>&1)
    [ "$state" = running ] || say "system state after boot: $state"
    run_command
    systemctl poweroff -ff || poweroff -f
}

PATH=/run/coracle-guest/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
case "${1:-}" in
"") stage_initramfs ;;
pid1) stage_pid1 "${2:-}" ;;
systemd-command) stage_systemd_command ;;
*) die "unknown stage '$1'" ;;
esac
