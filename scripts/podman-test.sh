#!/bin/bash
# The engine test: Podman drives coracle as its OCI runtime.
#
#   scripts/podman-test.sh [--runtime PATH]
#
# PATH defaults to target/release/coracle, else target/debug/coracle; any
# runc-compatible runtime works (`--runtime /usr/bin/runc` checks this script
# itself). Needs root, podman, conmon, busybox-static and jq.
#
# Nothing outside a private temporary directory is touched: a local busybox
# image is imported without a registry (a tar of the rootfs made by
# scripts/make-bundle.sh), Podman's storage (--root, --runroot, vfs) and
# configuration (CONTAINERS_CONF) live in the temporary directory, and
# everything is removed on exit, failure included.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")

runtime=
while [ $# -gt 0 ]; do
	case $1 in
	--runtime) runtime=$2; shift 2 ;;
	--runtime=*) runtime=${1#--runtime=}; shift ;;
	*) echo "usage: $0 [--runtime PATH]" >&2; exit 2 ;;
	esac
done
if [ -z "$runtime" ]; then
	for candidate in "$top/target/release/coracle" "$top/target/debug/coracle" \
		"${CARGO_TARGET_DIR:-/nonexistent}/release/coracle" "${CARGO_TARGET_DIR:-/nonexistent}/debug/coracle"; do
		if [ -x "$candidate" ]; then runtime=$candidate; break; fi
	done
fi
[ -n "$runtime" ] && [ -x "$runtime" ] || { echo "$0: no runtime binary (build coracle first)" >&2; exit 2; }
runtime=$(realpath "$runtime")
# Podman tells JSON-speaking runtimes by name (runtime_supports_json).
name=$(basename "$runtime")

# Podman insists on a few host paths whatever its configuration (the blob
# info cache of `podman import`, the network run dir): remove those this
# run creates.
created=()
for d in /var/lib/containers /run/containers; do [ -e "$d" ] || created+=("$d"); done

tmp=$(mktemp -d /tmp/coracle-podman.XXXXXX)
image=localhost/coracle-busybox:test
ctr=coracle-podman-$$

podman_() {
	podman --root "$tmp/root" --runroot "$tmp/runroot" --storage-driver vfs \
		--cgroup-manager cgroupfs --events-backend file "$@"
}

cleanup() {
	set +e
	podman_ rm -af -t 0 >/dev/null 2>&1
	podman_ rmi -af >/dev/null 2>&1
	# Whatever Podman left mounted (shm of a container…), deepest first.
	awk -v d="$tmp" '$5 == d || index($5, d "/") == 1 {print $5}' /proc/self/mountinfo |
		sort -r | while read -r m; do umount -l "$m"; done
	rm -rf "$tmp"
	for d in "${created[@]}"; do rm -rf "$d"; done
}
trap cleanup EXIT

export CONTAINERS_CONF=$tmp/containers.conf
cat >"$CONTAINERS_CONF" <<EOF
[containers]
# This machine's hard RLIMIT_NOFILE is 20000 and the bounding set lacks
# CAP_SYS_RESOURCE: Podman's defaults (1048576) could not be set.
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]

[network]
network_config_dir = "$tmp/networks"

[engine]
runtime = "$name"
runtime_supports_json = ["$name", "coracle", "crun", "runc", "kata", "runsc", "youki", "krun"]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$tmp/events.log"
tmp_dir = "$tmp/tmp"
volume_path = "$tmp/volumes"
static_dir = "$tmp/static"

[engine.runtimes]
$name = ["$runtime"]
EOF
mkdir -p "$tmp/networks" "$tmp/tmp"

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "ok: $*"; }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }

# check DESCRIPTION WANT_CODE WANT_OUTPUT COMMAND...: runs COMMAND, compares.
check() {
	local what=$1 want_code=$2 want_out=$3
	shift 3
	local out code=0
	out=$("$@" 2>"$tmp/stderr") || code=$?
	out=${out//$'\r'/} # a terminal ends lines with \r\n
	if [ "$code" = "$want_code" ] && [ "$out" = "$want_out" ]; then
		pass "$what"
	else
		fail "$what: exit $code (want $want_code), output '$out' (want '$want_out'); stderr: $(cat "$tmp/stderr")"
	fi
}

echo "podman: runtime $name = $runtime"
"$here/make-bundle.sh" "$tmp/bundle" 2>/dev/null
tar -C "$tmp/bundle/rootfs" -cf "$tmp/rootfs.tar" .
podman_ import -q "$tmp/rootfs.tar" "$image" >/dev/null

check "podman uses the runtime" 0 "$name" podman_ info --format '{{.Host.OCIRuntime.Name}}'

run=(podman_ run --network none --security-opt seccomp=unconfined)
check "run: output and exit code" 3 "hi" "${run[@]}" --rm "$image" sh -c 'echo hi; exit 3'
check "run: environment and user" 0 "1000 bar" \
	"${run[@]}" --rm --user 1000:1000 -e FOO=bar "$image" sh -c 'echo "$(id -u) $FOO"'
check "run: tty" 0 "/dev/pts/0" "${run[@]}" --rm -t "$image" tty

if podman_ run -d --name "$ctr" --network none --security-opt seccomp=unconfined \
	"$image" sleep 1000 >"$tmp/id" 2>"$tmp/stderr"; then
	pass "run -d"
else
	fail "run -d: $(cat "$tmp/stderr")"
fi
check "inspect: running" 0 "running" podman_ inspect -f '{{.State.Status}}' "$ctr"
check "exec: output and exit code" 5 "from-exec" podman_ exec "$ctr" sh -c 'echo from-exec; exit 5'
check "exec: sees the container" 0 "1" podman_ exec "$ctr" sh -c 'pidof sleep'
check "stop" 0 "$ctr" podman_ stop -t 1 "$ctr"
check "inspect: exited" 0 "exited" podman_ inspect -f '{{.State.Status}}' "$ctr"
check "rm" 0 "$ctr" podman_ rm "$ctr"
check "ps -a: gone" 0 "" podman_ ps -a -q

echo "podman: $passed passed, $failed failed"
[ "$failed" = 0 ]
