#!/usr/bin/env bash
# Run the workspace's test binaries on the host and in the throwaway guests,
# one boot per guest:
#
#   scripts/guest/test.sh [--where host,v2,systemd] [-- TEST-ARGS...]
#
# TEST-ARGS go to every test binary (default: "cgroups", the cgroup tests).
# The binaries are built once on the host (cargo test --no-run, honouring
# CARGO_TARGET_DIR) and run in each place from their package's directory.
# Fails if any place fails, and loudly if a guest cannot boot (run.sh's 125).
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(git -C "$SCRIPT_DIR" rev-parse --show-toplevel)
WHERE=host,v2,systemd
while [ $# -gt 0 ]; do
    case "$1" in
    --where) WHERE=${2:?}; shift 2 ;;
    --where=*) WHERE=${1#*=}; shift ;;
    --) shift; break ;;
    *) sed -n '2,11s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2; exit 2 ;;
    esac
done
[ $# -gt 0 ] || set -- cgroups

# Every test executable with its package directory, from cargo's messages.
PAIRS=()
while IFS= read -r line; do
    exe=$(grep -o '"executable":"[^"]*"' <<<"$line" | cut -d'"' -f4) || true
    manifest=$(grep -o '"manifest_path":"[^"]*"' <<<"$line" | cut -d'"' -f4) || true
    if [ -n "$exe" ]; then PAIRS+=("$(dirname "$manifest")" "$exe"); fi
done < <(cd "$REPO" && cargo test --workspace --no-run --message-format=json |
    grep '"reason":"compiler-artifact"' | grep '"profile":{[^}]*"test":true')
[ ${#PAIRS[@]} -gt 0 ] || { echo "test.sh: cargo built no test binary" >&2; exit 1; }

# Runs in each place (bash from the host's root, which the guests share).
# shellcheck disable=SC2016 # expanded by that bash
RUNNER='n=$1; shift; dirs=(); bins=()
for ((i = 0; i < n; i++)); do dirs+=("$1"); bins+=("$2"); shift 2; done
rc=0
for i in "${!bins[@]}"; do
    echo "==> ${bins[i]##*/} $*"
    (cd "${dirs[i]}" && "${bins[i]}" "$@") || rc=1
done
exit $rc'

declare -A RESULT=()
for place in ${WHERE//,/ }; do
    echo "===== $place: $((${#PAIRS[@]} / 2)) test binaries, args: $*"
    cmd=(bash -c "$RUNNER" runner $((${#PAIRS[@]} / 2)) "${PAIRS[@]}" "$@")
    rc=0
    case "$place" in
    host) "${cmd[@]}" || rc=$? ;;
    v2 | systemd) "$SCRIPT_DIR/run.sh" --mode "$place" --workdir "$REPO" -- "${cmd[@]}" || rc=$? ;;
    *) echo "test.sh: unknown place '$place'" >&2; rc=2 ;;
    esac
    case "$rc" in
    0) RESULT[$place]=ok ;;
    124) RESULT[$place]="FAILED (timed out)" ;;
    125) RESULT[$place]="FAILED (the guest did not boot or report)" ;;
    *) RESULT[$place]="FAILED (exit $rc)" ;;
    esac
done

status=0
echo "===== summary"
for place in ${WHERE//,/ }; do
    echo "$place: ${RESULT[$place]}"
    [ "${RESULT[$place]}" = ok ] || status=1
done
exit $status
