#!/bin/bash
# The engine test: Podman, Docker and containerd drive coracle as their OCI
# runtime, with their default seccomp profiles, and the same checks run
# under each (scripts/engines/matrix.sh); and Kubernetes's view of it,
# containerd's CRI plugin spoken to as the kubelet does
# (scripts/engines/kubernetes.sh).
#
#   scripts/engine-test.sh [--engines podman,docker,containerd,kubernetes] [--runtime PATH]
#
# PATH defaults to target/release/coracle (scripts/build-release.sh), else
# target/x86_64-unknown-linux-gnu/release/coracle; any
# runc-compatible runtime works (`--runtime /usr/bin/runc` checks the test
# itself). Needs root, busybox-static, jq, util-linux (script), and per
# engine: podman and conmon; docker.io; containerd and python3-grpcio (also
# for kubernetes).
#
# Each engine runs in its own subshell with private daemons, storage and
# configuration in a temporary directory: a local busybox image is loaded
# without a registry, containers use no network, and on exit (failure
# included) the containers are removed, the daemons this run started are
# stopped by pid, and what they mounted or created is removed. It prints a
# line per check, a summary per engine, and ends with
# `engines: N passed, M failed`; it exits non-zero if any check failed.
set -uo pipefail
shopt -s extglob

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here") # used by lib.sh
engines=podman,docker,containerd,kubernetes
runtime_arg=
usage() {
	echo "usage: $0 [--engines podman,docker,containerd,kubernetes] [--runtime PATH]" >&2
	exit 2
}
while [ $# -gt 0 ]; do
	case $1 in
	--engines) engines=${2:-}; shift 2 || usage ;;
	--engines=*) engines=${1#--engines=}; shift ;;
	--runtime) runtime_arg=${2:-}; shift 2 || usage ;;
	--runtime=*) runtime_arg=${1#--runtime=}; shift ;;
	*) usage ;;
	esac
done
[ "$(id -u)" = 0 ] || { echo "$0: needs root" >&2; exit 2; }

# shellcheck source=engines/lib.sh source-path=SCRIPTDIR
. "$here/engines/lib.sh"
set_runtime "$runtime_arg" || exit 2
# shellcheck source=engines/matrix.sh
. "$here/engines/matrix.sh"

# One engine, in a subshell of its own: prints its checks and a summary
# line "ENGINE: N passed, M failed", and exits 1 if any check failed.
test_engine() {
	engine=$1
	local adapter=$here/engines/$engine.sh
	[ -f "$adapter" ] || { echo "engine-test: no engine named $engine" >&2; exit 1; }
	tmp=$(mktemp -d "/tmp/coracle-$engine.XXXXXX")
	image=localhost/coracle-busybox:test
	image_tar=$tmp/image.tar
	# shellcheck source=/dev/null
	. "$adapter"
	trap 'e_teardown >/dev/null 2>&1; rm -rf "$tmp"' EXIT
	echo "$engine: runtime $runtime"
	make_image_tar "$image_tar" "$image"
	if ! e_setup; then
		fail "setup: the engine did not start"
	elif declare -F e_checks >/dev/null; then
		e_checks # an engine that speaks no container commands of its own
	else
		run_matrix
	fi
	echo "$engine: $passed passed, $failed failed"
	[ "$failed" = 0 ]
}

total_passed=0
total_failed=0
status=0
for name in ${engines//,/ }; do
	echo
	(test_engine "$name") | tee "/tmp/coracle-engine-test.$$.$name"
	[ "${PIPESTATUS[0]}" = 0 ] || status=1
	summary=$(tail -n 1 "/tmp/coracle-engine-test.$$.$name")
	rm -f "/tmp/coracle-engine-test.$$.$name"
	if [[ $summary =~ ^$name:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
		total_passed=$((total_passed + BASH_REMATCH[1]))
		total_failed=$((total_failed + BASH_REMATCH[2]))
	else
		total_failed=$((total_failed + 1)) # it ended before its summary
		status=1
	fi
done
echo
echo "engines: $total_passed passed, $total_failed failed"
exit $status
