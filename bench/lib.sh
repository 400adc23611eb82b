# Helpers for bench/run.sh: tools, the busybox bundle, the one allowed cgroup
# change for crun, and cleanup. Sourced, not executed.

# Print a progress line on stderr so stdout carries only the results table.
say() { printf 'bench: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

# Install the public tools the benchmark uses when one is missing (Debian).
ensure_tools() {
    local missing=() pkg
    command -v hyperfine >/dev/null || missing+=(hyperfine)
    command -v jq >/dev/null || missing+=(jq)
    [ -x /usr/bin/time ] || missing+=(time)
    { [ -x /bin/busybox ] && file -L /bin/busybox | grep -q 'statically linked'; } || missing+=(busybox-static)
    command -v file >/dev/null || missing+=(file)
    for pkg in "$@"; do
        case $pkg in
            crun) command -v crun >/dev/null || missing+=(crun) ;;
            runc) command -v runc >/dev/null || missing+=(runc) ;;
        esac
    done
    # Podman's default seccomp profile ships in containers-common.
    [ -f "$SECCOMP_PROFILE" ] || missing+=(golang-github-containers-common)
    [ ${#missing[@]} -eq 0 ] && return 0
    say "installing missing packages: ${missing[*]}"
    apt-get update -qq >&2 || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2 ||
        die "could not install ${missing[*]}"
}

# crun 1.8.1 refuses a hybrid layout while a controller sits in cgroup2. On
# this host that controller is hugetlb: mounting its v1 hierarchy moves it out
# of cgroup2. This is the one host change allowed; it is never undone.
ensure_crun_cgroup_layout() {
    local unified=/sys/fs/cgroup/unified mnt=/sys/fs/cgroup/hugetlb created=
    [ "$(stat -f -c %T /sys/fs/cgroup)" = tmpfs ] || return 0 # pure v2 or none
    [ -f "$unified/cgroup.controllers" ] || return 0            # not hybrid
    mountpoint -q "$mnt" && return 0
    grep -qw hugetlb "$unified/cgroup.controllers" || return 0
    [ -d "$mnt" ] || { mkdir "$mnt" && created=1; }
    if mount -t cgroup -o hugetlb cgroup "$mnt"; then
        say "note: mounted the hugetlb v1 hierarchy at $mnt so that crun accepts the hybrid layout (left mounted)"
    else
        [ -n "$created" ] && rmdir "$mnt"
        say "warning: could not mount the hugetlb v1 hierarchy; crun may refuse to run"
    fi
}

# The benchmark's bundle: the project's busybox bundle (scripts/make-bundle.sh,
# what `runc spec` writes) running /bin/true, with Podman's default
# capabilities, no /tmp mount, and an absolute root.path so that every
# container shares one rootfs. The driver fills in linux.cgroupsPath and
# process.args for each container. Writes DIR/rootfs and prints the config.
make_bundle() {
    local dir=$1
    "$REPO/scripts/make-bundle.sh" "$dir" /bin/true >/dev/null
    jq --arg rootfs "$dir/rootfs" '
      ["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_FOWNER","CAP_FSETID","CAP_KILL",
       "CAP_NET_BIND_SERVICE","CAP_SETFCAP","CAP_SETGID","CAP_SETPCAP",
       "CAP_SETUID","CAP_SYS_CHROOT"] as $caps |
      .process.capabilities = {bounding: $caps, effective: $caps, permitted: $caps}
      | .process.env = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"]
      | .root.path = $rootfs | .hostname = "bench"
      | .mounts |= map(select(.destination != "/tmp"))
      | .linux.cgroupsPath = ""
      | .linux.resources = {devices: [{allow: false, access: "rwm"}]}' "$dir/config.json"
}

# Podman's seccomp.json (containers' format, with arch and capability
# conditions) turned into linux.seccomp for x86_64 and the bundle's
# capabilities, as Podman does before it calls the runtime.
add_podman_seccomp() {
    local base=$1 profile=$2
    jq --slurpfile p "$profile" '
      $p[0] as $prof |
      .process.capabilities.bounding as $caps |
      def wanted:
        ((.includes.arches // []) as $a | ($a == [] or ($a | index("amd64")) != null)) and
        ((.includes.caps // []) | all(. as $c | $caps | index($c) != null)) and
        ((.excludes.arches // []) | index("amd64") == null) and
        ((.excludes.caps // []) | all(. as $c | $caps | index($c) == null));
      .linux.seccomp = {
        defaultAction: $prof.defaultAction,
        architectures: ($prof.archMap[] | select(.architecture == "SCMP_ARCH_X86_64")
                        | [.architecture] + .subArchitectures),
        syscalls: [$prof.syscalls[] | select(wanted)
                   | {names, action}
                     + (if .errnoRet != null then {errnoRet} else {} end)
                     + (if (.args // []) != [] then {args} else {} end)]
      }
      + (if $prof.defaultErrnoRet != null then {defaultErrnoRet: $prof.defaultErrnoRet} else {} end)
    ' "$base"
}

# Memory, pids and CPU limits on top of the base config.
add_limits() {
    jq '.linux.resources += {
          memory: {limit: 268435456},
          pids: {limit: 128},
          cpu: {shares: 512, quota: 50000, period: 100000}
        }' "$1"
}

# Delete whatever containers are left in a runtime's state root (by the name
# of their state directories), then remove this run's cgroups. Called from the
# exit trap after the driver's own cleanup, so normally it finds nothing.
cleanup_leftovers() {
    local work=$1 prefix=$2 rt bin root id d
    for root in "$work"/state/*; do
        [ -d "$root" ] || continue
        rt=${root##*/}
        bin=$(cat "$work/bin.$rt" 2>/dev/null) || continue
        for id in $({ timeout 20 "$bin" --root "$root" list -q 2>/dev/null
            find "$root" -mindepth 1 -maxdepth 1 -type d ! -name '.*' -printf '%f\n'; } | sort -u); do
            say "cleanup: $rt delete --force $id"
            timeout 20 "$bin" --root "$root" delete --force "$id" >/dev/null 2>&1 || true
        done
    done
    # Runtimes remove a container's own cgroup on delete, not the parents
    # they created on the way: remove this run's tree in every hierarchy.
    for d in /sys/fs/cgroup/*/"$prefix" /sys/fs/cgroup/"$prefix"; do
        [ -d "$d" ] || continue
        find "$d" -depth -type d -exec rmdir {} + 2>/dev/null ||
            say "warning: could not remove cgroup $d"
    done
}
