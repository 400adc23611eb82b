#!/usr/bin/env bash
# Boot a throwaway QEMU guest and run one command in it: see README.md here.
#
#   scripts/guest/run.sh --mode v1|v2|systemd [--workdir DIR] [--rw DIR]...
#                        [--ro DIR]... [--env NAME=VALUE]... [--timeout SECS] -- COMMAND...
#
# The guest runs a Debian linux-image-amd64 kernel (unpacked into a cache,
# never installed on the host), sees the host's / read-only with a tmpfs
# overlay on top, the work dir (and every --rw DIR) read-write at their host
# paths, every --ro DIR read-only (cached) at its host path, and has no
# network device. COMMAND runs in the work dir; its output
# comes out on this script's standard output and its exit code becomes this
# script's. Exit codes of the script itself: 124 the --timeout ran out,
# 125 the guest could not be set up, booted or did not report an exit code.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${CORACLE_GUEST_CACHE:-/var/cache/coracle-guest}
KERNEL_SERIES=${CORACLE_GUEST_KERNEL_SERIES:-6.1}
MEM=${CORACLE_GUEST_MEM:-4096}
SMP=${CORACLE_GUEST_SMP:-2}
RETRIES=${CORACLE_GUEST_RETRIES:-2}
# Modules the initramfs loads (their dependencies come from modules.dep).
MODULES="virtio_pci virtio_console netfs fscache 9pnet 9pnet_virtio 9p overlay"

log() { [ -n "${QUIET:-}" ] || echo "coracle-guest: $*" >&2; }
fail() {
    echo "coracle-guest: ERROR: $*" >&2
    exit 125
}

usage() {
    sed -n '2,13s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
    exit 2
}

MODE='' WORKDIR='' TIMEOUT=3600 BOOT_TIMEOUT='' KERNEL_OVERRIDE='' QUIET=''
RW_DIRS=() RO_DIRS=() ENV_ARGS=()
while [ $# -gt 0 ]; do
    case "$1" in
    --mode) MODE=${2:?}; shift 2 ;;
    --mode=*) MODE=${1#*=}; shift ;;
    --workdir) WORKDIR=${2:?}; shift 2 ;;
    --workdir=*) WORKDIR=${1#*=}; shift ;;
    --rw) RW_DIRS+=("${2:?}"); shift 2 ;;
    --rw=*) RW_DIRS+=("${1#*=}"); shift ;;
    --ro) RO_DIRS+=("${2:?}"); shift 2 ;;
    --ro=*) RO_DIRS+=("${1#*=}"); shift ;;
    --env) ENV_ARGS+=("${2:?}"); shift 2 ;;
    --env=*) ENV_ARGS+=("${1#*=}"); shift ;;
    --timeout) TIMEOUT=${2:?}; shift 2 ;;
    --timeout=*) TIMEOUT=${1#*=}; shift ;;
    --boot-timeout) BOOT_TIMEOUT=${2:?}; shift 2 ;;
    --boot-timeout=*) BOOT_TIMEOUT=${1#*=}; shift ;;
    --kernel) KERNEL_OVERRIDE=${2:?}; shift 2 ;;
    --kernel=*) KERNEL_OVERRIDE=${1#*=}; shift ;;
    -q | --quiet) QUIET=1; shift ;;
    -h | --help) usage ;;
    --) shift; break ;;
    *) echo "coracle-guest: unknown argument '$1'" >&2; usage ;;
    esac
done
[ $# -gt 0 ] || usage
case "$MODE" in v1 | v2 | systemd) ;; *) usage ;; esac
[[ "$TIMEOUT" =~ ^[0-9]+$ ]] || fail "--timeout wants whole seconds, got '$TIMEOUT'"
[ "$(id -u)" = 0 ] || fail "run as root (QEMU shares / with passthrough permissions)"
if [ -z "$WORKDIR" ]; then
    WORKDIR=$(git -C "$SCRIPT_DIR" rev-parse --show-toplevel 2>/dev/null) ||
        WORKDIR=$(cd "$SCRIPT_DIR/../.." && pwd)
fi
WORKDIR=$(realpath -e "$WORKDIR") || fail "no work dir $WORKDIR"
for i in "${!RW_DIRS[@]}"; do
    RW_DIRS[i]=$(realpath -e "${RW_DIRS[i]}") || fail "no directory ${RW_DIRS[i]}"
done
for i in "${!RO_DIRS[@]}"; do
    RO_DIRS[i]=$(realpath -e "${RO_DIRS[i]}") || fail "no directory ${RO_DIRS[i]}"
done
# The guest mounts its own /, /proc, /sys, /dev and /run: a share there would
# hide them or hand the host's to the guest.
for d in "$WORKDIR" "${RW_DIRS[@]}" "${RO_DIRS[@]}"; do
    case "$d" in
    / | /proc | /proc/* | /sys | /sys/* | /dev | /dev/* | /run | /run/*)
        fail "refusing to share $d with the guest"
        ;;
    esac
done
[ -n "${CORACLE_GUEST_KERNEL:-}" ] && [ -z "$KERNEL_OVERRIDE" ] &&
    KERNEL_OVERRIDE=$CORACLE_GUEST_KERNEL

# --- packages ------------------------------------------------------------

apt_install() { # [apt-get options] packages...
    log "installing $*"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" \
        >"$CACHE/apt.log" 2>&1 || {
        tail -20 "$CACHE/apt.log" >&2
        fail "apt-get install $* failed (log: $CACHE/apt.log)"
    }
}

apt_updated=
apt_update() {
    [ -z "$apt_updated" ] || return 0
    apt-get update -q >"$CACHE/apt.log" 2>&1 || {
        tail -20 "$CACHE/apt.log" >&2
        fail "apt-get update failed"
    }
    apt_updated=1
}

# QEMU comes from backports: Debian 12's own qemu-system-x86 conflicts with
# the backported qemu-utils this machine has.
ensure_qemu() {
    command -v qemu-system-x86_64 >/dev/null && return 0
    local codename
    codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
    if ! grep -rqs -- "$codename-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
        log "adding the $codename-backports apt source"
        cat >/etc/apt/sources.list.d/coracle-"$codename"-backports.sources <<EOF
Types: deb
URIs: http://deb.debian.org/debian
Suites: $codename-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
        apt_updated=
    fi
    apt_update
    apt_install -t "$codename-backports" qemu-system-x86
}

ensure_packages() {
    local need=()
    # The initramfs needs a static busybox (the dynamic one has no libc there).
    dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' ||
        need+=(busybox-static)
    command -v xz >/dev/null || need+=(xz-utils)
    if [ "$MODE" = systemd ]; then
        [ -x /lib/systemd/systemd ] || need+=(systemd)
        command -v dbus-daemon >/dev/null || need+=(dbus)
    fi
    if [ ${#need[@]} -gt 0 ]; then
        apt_update
        apt_install "${need[@]}"
    fi
    ensure_qemu
}

# --- kernel --------------------------------------------------------------

# The package linux-image-amd64 of the newest $KERNEL_SERIES.x version
# depends on (e.g. linux-image-6.1.0-56-amd64).
kernel_package() {
    local ver
    ver=$(apt-cache madison linux-image-amd64 | awk -v s="$KERNEL_SERIES." \
        'index($3, s) == 1 { print $3 }' | sort -V | tail -1)
    if [ -z "$ver" ]; then
        apt_update
        ver=$(apt-cache madison linux-image-amd64 | awk -v s="$KERNEL_SERIES." \
            'index($3, s) == 1 { print $3 }' | sort -V | tail -1)
    fi
    [ -n "$ver" ] || fail "no linux-image-amd64 $KERNEL_SERIES.x in the apt sources"
    apt-cache show "linux-image-amd64=$ver" |
        sed -n 's/^Depends: .*\(linux-image-[0-9][^ ,]*\).*/\1/p' | head -1
}

# vmlinuz is a bzImage: find the compressed kernel in it and unpack the ELF
# vmlinux, which QEMU starts through the PVH entry point (no decompression
# in the guest: seconds saved under software emulation).
extract_vmlinux() { # bzImage out
    local off
    off=$(LC_ALL=C grep -abo $'\xfd7zXZ\x00' "$1" | head -1 | cut -d: -f1) || true
    [ -n "$off" ] || return 1
    tail -c +$((off + 1)) "$1" | xz -dcq >"$2.tmp" 2>/dev/null || true
    [ "$(head -c 4 "$2.tmp" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] || {
        rm -f "$2.tmp"
        return 1
    }
    mv "$2.tmp" "$2"
}

# Fill $CACHE/kernel/<kver>/ once: the unpacked package, modules.dep, vmlinux.
ensure_kernel() {
    local dir=$CACHE/kernel
    if [ -f "$dir/current" ] && [ -d "$dir/$(cat "$dir/current")/root/lib/modules" ]; then
        KVER=$(cat "$dir/current")
    else
        local pkg tmp
        pkg=$(kernel_package)
        [ -n "$pkg" ] || fail "cannot tell which kernel package linux-image-amd64 uses"
        log "fetching $pkg into $dir (unpacked, not installed)"
        mkdir -p "$dir"
        tmp=$(mktemp -d "$dir/tmp.XXXXXX")
        (cd "$tmp" && apt-get download -q "$pkg" >download.log 2>&1) || {
            cat "$tmp/download.log" >&2
            rm -rf "$tmp"
            fail "apt-get download $pkg failed"
        }
        dpkg-deb -x "$tmp"/*.deb "$tmp/root" || fail "dpkg-deb -x $pkg failed"
        rm -f "$tmp"/*.deb "$tmp/download.log"
        KVER=$(ls "$tmp/root/lib/modules")
        busybox depmod -b "$tmp/root" "$KVER" || fail "depmod for $KVER failed"
        if grep -q '^CONFIG_PVH=y' "$tmp/root/boot/config-$KVER"; then
            extract_vmlinux "$tmp/root/boot/vmlinuz-$KVER" "$tmp/vmlinux" ||
                log "no vmlinux from vmlinuz-$KVER: booting the bzImage"
        fi
        rm -rf "${dir:?}/$KVER"
        mv "$tmp" "$dir/$KVER"
        echo "$KVER" >"$dir/current"
    fi
    KDIR=$dir/$KVER
    MODDIR=$KDIR/root/lib/modules/$KVER
    if [ -n "$KERNEL_OVERRIDE" ]; then
        [ -f "$KERNEL_OVERRIDE" ] || fail "kernel image $KERNEL_OVERRIDE does not exist"
        KERNEL=$KERNEL_OVERRIDE
    elif [ -f "$KDIR/vmlinux" ]; then
        KERNEL=$KDIR/vmlinux
    else
        KERNEL=$KDIR/root/boot/vmlinuz-$KVER
    fi
}

# --- initramfs -----------------------------------------------------------

# Print the modules.dep paths of $MODULES and their dependencies, each after
# everything it needs.
module_load_order() {
    local -A seen=()
    local order=()
    visit() {
        local path=$1 line dep
        [ -z "${seen[$path]:-}" ] || return 0
        seen[$path]=1
        line=$(grep -m1 "^$path:" "$MODDIR/modules.dep") || fail "$path not in modules.dep"
        for dep in ${line#*:}; do visit "$dep"; done
        order+=("$path")
    }
    local m path
    for m in $MODULES; do
        path=$(grep -m1 -o "^[^:]*/$m\.ko[^:]*:" "$MODDIR/modules.dep") ||
            fail "module $m not found in $MODDIR/modules.dep"
        visit "${path%:}"
    done
    printf '%s\n' "${order[@]}"
}

# Build (or reuse) the initramfs: static busybox, init.sh as /init, modules.
ensure_initramfs() {
    local order key tmp
    order=$(module_load_order)
    key=$( {
        echo "$KVER"
        echo "$order"
        sha256sum /bin/busybox "$SCRIPT_DIR/init.sh" | cut -d' ' -f1
    } | sha256sum | cut -c1-16)
    INITRD=$CACHE/initramfs-$KVER-$key.cpio.gz
    # Work trees may hold different init.sh versions: each keeps its own
    # image while used; an image unused for two days goes.
    find "$CACHE" -maxdepth 1 -name 'initramfs-*.cpio.gz' -mtime +2 -delete
    if [ -f "$INITRD" ]; then
        touch "$INITRD"
        return 0
    fi
    log "building $INITRD"
    tmp=$(mktemp -d "$CACHE/tmp.XXXXXX")
    mkdir -p "$tmp/bin" "$tmp/lib/modules"
    cp /bin/busybox "$tmp/bin/busybox"
    install -m 0755 "$SCRIPT_DIR/init.sh" "$tmp/init"
    local path
    while read -r path; do
        mkdir -p "$tmp/lib/modules/$(dirname "$path")"
        cp "$MODDIR/$path" "$tmp/lib/modules/$path"
    done <<<"$order"
    echo "$order" >"$tmp/lib/modules/load.list"
    (cd "$tmp" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1) >"$INITRD.tmp" ||
        fail "building the initramfs failed"
    rm -rf "$tmp"
    mv "$INITRD.tmp" "$INITRD"
}

# --- the job -------------------------------------------------------------

quote() { # print its argument as one single-quoted sh word
    printf "'%s'" "${1//\'/\'\\\'\'}"
}

write_job() {
    {
        echo "MODE=$MODE"
        echo "KVER=$(quote "$KVER")"
        echo "MODDIR=$(quote "$MODDIR")"
        local i=0 d
        for d in "$WORKDIR" "${RW_DIRS[@]}"; do
            echo "share rw$i $(quote "$d") rw"
            i=$((i + 1))
        done
        # After the read-write ones: a read-only dir may lie inside one.
        i=0
        for d in "${RO_DIRS[@]}"; do
            echo "share ro$i $(quote "$d") ro"
            i=$((i + 1))
        done
    } >"$CTL/job.env"
    {
        echo "cd $(quote "$WORKDIR") || exit 126"
        local name
        for name in PATH CARGO_HOME RUSTUP_HOME CARGO_TARGET_DIR RUST_BACKTRACE \
            RUST_LOG RUST_TEST_THREADS TERM; do
            [ -n "${!name:-}" ] && echo "export $name=$(quote "${!name}")"
        done
        echo "export HOME=/root CORACLE_GUEST=$MODE"
        local kv
        for kv in "${ENV_ARGS[@]}"; do
            [[ "$kv" == [A-Za-z_]*=* ]] || fail "--env wants NAME=VALUE, got '$kv'"
            echo "export ${kv%%=*}=$(quote "${kv#*=}")"
        done
        printf 'exec'
        local a
        for a in "$@"; do printf ' %s' "$(quote "$a")"; done
        echo
    } >"$CTL/command.sh"
}

# --- QEMU ----------------------------------------------------------------

# KVM only where it can run a stock kernel: /dev/kvm here may be a PVM
# device, usable only when the CPU itself shows vmx/svm.
choose_accel() {
    case "${CORACLE_GUEST_ACCEL:-auto}" in
    kvm) ACCEL=kvm ;;
    tcg) ACCEL=tcg ;;
    *)
        if [ -r /dev/kvm ] && [ -w /dev/kvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo; then
            ACCEL=kvm
        else
            ACCEL=tcg
        fi
        ;;
    esac
    if [ -z "$BOOT_TIMEOUT" ]; then
        case "$ACCEL/$MODE" in
        kvm/*) BOOT_TIMEOUT=30 ;;
        tcg/v1 | tcg/v2) BOOT_TIMEOUT=60 ;;
        tcg/systemd) BOOT_TIMEOUT=120 ;;
        esac
    fi
}

qemu_command() {
    local append="console=ttyS0 quiet loglevel=3 panic=-1 mitigations=off"
    case "$MODE" in
    # v1: the guest's init mounts every controller as a v1 hierarchy.
    v2) append+=" cgroup_no_v1=all" ;;
    systemd)
        append+=" systemd.unified_cgroup_hierarchy=1 systemd.unit=coracle-guest.target"
        append+=" systemd.show_status=error systemd.log_target=console"
        ;;
    esac
    append+=" ${CORACLE_GUEST_APPEND:-}"
    # shellcheck disable=SC2054 # commas belong to QEMU's option values
    QEMU=(qemu-system-x86_64 -name coracle-guest -nodefaults -no-user-config
        -machine q35 -smp "$SMP" -m "$MEM" -display none -vga none -no-reboot
        -nic none
        -kernel "$KERNEL" -initrd "$INITRD" -append "$append"
        -serial "file:$RUN/console.log"
        -chardev stdio,id=out,signal=off
        -device virtio-serial-pci,id=vser
        -device virtserialport,bus=vser.0,chardev=out,name=coracle.out
        -fsdev local,id=hostroot,path=/,security_model=passthrough,readonly=on,multidevs=remap
        -device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot
        -fsdev "local,id=ctl,path=$CTL,security_model=passthrough"
        -device virtio-9p-pci,fsdev=ctl,mount_tag=ctl)
    if [ "$ACCEL" = kvm ]; then
        QEMU+=(-accel kvm -cpu host)
    else
        # shellcheck disable=SC2054
        QEMU+=(-accel tcg,thread=multi -cpu max)
    fi
    local i=0 d
    for d in "$WORKDIR" "${RW_DIRS[@]}"; do
        QEMU+=(-fsdev "local,id=rw$i,path=${d//,/,,},security_model=passthrough,multidevs=remap"
            -device "virtio-9p-pci,fsdev=rw$i,mount_tag=rw$i")
        i=$((i + 1))
    done
    i=0
    for d in "${RO_DIRS[@]}"; do
        QEMU+=(-fsdev "local,id=ro$i,path=${d//,/,,},security_model=passthrough,readonly=on,multidevs=remap"
            -device "virtio-9p-pci,fsdev=ro$i,mount_tag=ro$i")
        i=$((i + 1))
    done
}

QPID=''
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
    if [ -n "$QPID" ] && kill -0 "$QPID" 2>/dev/null; then
        kill "$QPID" 2>/dev/null || true
        wait "$QPID" 2>/dev/null || true
    fi
    if [ -n "${RUN:-}" ]; then
        if [ -n "${CORACLE_GUEST_KEEP:-}" ]; then
            echo "coracle-guest: kept $RUN" >&2
        else
            rm -rf "$RUN"
        fi
    fi
}

show_console() {
    [ -s "$RUN/console.log" ] || return 0
    cp "$RUN/console.log" "$CACHE/last-failed-$MODE-console.log" 2>/dev/null || true
    echo "coracle-guest: ---- guest console (last 30 lines of $1) ----" >&2
    tail -30 "$RUN/console.log" 2>/dev/null | tr -d '\r' >&2 || true
    echo "coracle-guest: ---- end of guest console" \
        "(whole log: $CACHE/last-failed-$MODE-console.log) ----" >&2
}

now() { echo "${EPOCHREALTIME/./}"; } # microseconds
secs() { printf '%d.%01d' $(($1 / 1000000)) $(($1 % 1000000 / 100000)); }

brief() { # the command on one short line, for the log
    local s="$*"
    s=${s//$'\n'/ }
    [ ${#s} -le 100 ] || s="${s:0:97}..."
    echo "$s"
}

# When the guest wrote "started" (the host stamps 9p writes with its clock).
started_at() {
    local t
    t=$(stat -c %.6Y "$CTL/started")
    echo "${t/./}"
}

# One boot. Sets OUTCOME to finished, stalled (the command never started),
# crashed (started, no exit code) or timeout.
boot_once() {
    rm -f "$CTL/started" "$CTL/rc" "$CTL/rc.tmp" "$RUN/console.log"
    local t0 t_started='' t_end
    t0=$(now)
    # Standard input is a FIFO that never reaches end-of-file: at EOF QEMU
    # would close the stdio chardev, and the guest's writes to the output
    # port would block forever.
    rm -f "$RUN/stdin"
    mkfifo "$RUN/stdin"
    "${QEMU[@]}" <>"$RUN/stdin" &
    QPID=$!
    while kill -0 "$QPID" 2>/dev/null; do
        if [ -z "$t_started" ] && [ -e "$CTL/started" ]; then
            t_started=$(started_at)
            log "$MODE guest booted in $(secs $((t_started - t0))) s ($ACCEL), running: $(brief "$@")"
        fi
        if [ "$(now)" -ge "$DEADLINE" ]; then
            kill "$QPID" 2>/dev/null || true
            wait "$QPID" 2>/dev/null || true
            QPID=
            OUTCOME=timeout
            return
        fi
        if [ -z "$t_started" ] && [ $(($(now) - t0)) -ge $((BOOT_TIMEOUT * 1000000)) ]; then
            kill "$QPID" 2>/dev/null || true
            wait "$QPID" 2>/dev/null || true
            QPID=
            log "the $MODE guest did not start the command within $BOOT_TIMEOUT s: QEMU killed"
            OUTCOME=stalled
            return
        fi
        sleep 0.1
    done
    local qrc=0
    wait "$QPID" || qrc=$?
    QPID=
    t_end=$(now)
    if [ -f "$CTL/rc" ]; then
        if [ -z "$t_started" ]; then
            t_started=$(started_at)
            log "$MODE guest booted in $(secs $((t_started - t0))) s ($ACCEL), ran: $(brief "$@")"
        fi
        log "$MODE guest: command exited $(cat "$CTL/rc") after $(secs $((t_end - t_started))) s" \
            "(whole run $(secs $((t_end - t0))) s)"
        OUTCOME=finished
    elif [ -e "$CTL/started" ]; then
        log "QEMU exited with status $qrc after the command started"
        OUTCOME=crashed
    else
        log "QEMU exited with status $qrc before the command started"
        OUTCOME=stalled
    fi
}

main() {
    mkdir -p "$CACHE"
    exec 9>"$CACHE/.lock"
    flock 9
    ensure_packages
    ensure_kernel
    ensure_initramfs
    exec 9>&-
    choose_accel

    RUN=$(mktemp -d /tmp/coracle-guest.XXXXXX)
    CTL=$RUN/ctl
    mkdir "$CTL"
    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    write_job "$@"
    qemu_command
    DEADLINE=$(($(now) + TIMEOUT * 1000000))

    local attempt
    for ((attempt = 0; attempt <= RETRIES; attempt++)); do
        boot_once "$@"
        case "$OUTCOME" in
        finished) exit "$(cat "$CTL/rc")" ;;
        timeout)
            show_console "the timed-out boot"
            echo "coracle-guest: ERROR: --timeout $TIMEOUT s ran out; QEMU killed" >&2
            exit 124
            ;;
        crashed)
            show_console "the boot"
            fail "the $MODE guest stopped without reporting the command's exit code"
            ;;
        stalled)
            show_console "the failed boot"
            log "boot attempt $((attempt + 1)) of $((RETRIES + 1)) failed"
            ;;
        esac
    done
    fail "the $MODE guest failed to boot $((RETRIES + 1)) times (kernel $KERNEL); nothing ran"
}

main "$@"
