#!/usr/bin/env bash
# Run the cgroup test binaries on the host (cgroup v1) and in the throwaway
# guests (classic cgroup v1; pure cgroup v2; cgroup v2 under systemd), one
# boot per guest:
#
#   scripts/guest/test.sh [--where host,v1,v2,systemd] [--tests NAME,...|all] [-- TEST-ARGS...]
#
# --tests picks the test binaries: integration tests by target name, and
# "unit" for libcoracle's unit tests, filtered to cgroups:: (default:
# unit,cgroups,cgroup_limits,update_events,systemd; "all" runs every test
# binary of the workspace, unfiltered). TEST-ARGS go to each binary (a name
# filter, --test-threads N). The binaries are built once on the host (cargo
# test --no-run, honouring CARGO_TARGET_DIR) and run in each place from
# their package's directory with CORACLE_EXPECT_CGROUP=v1|v2|systemd, so a
# place that is not what it should be fails instead of skipping. Fails if
# any place fails, a guest cannot boot, or a place ran no test at all (all
# skipped); ends with the line "cgroups: N passed, M failed" (N without the
# skipped tests).
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(git -C "$SCRIPT_DIR" rev-parse --show-toplevel)
WHERE=host,v1,v2,systemd
TESTS=unit,cgroups,cgroup_limits,update_events,systemd
while [ $# -gt 0 ]; do
    case "$1" in
    --where) WHERE=${2:?}; shift 2 ;;
    --where=*) WHERE=${1#*=}; shift ;;
    --tests) TESTS=${2:?}; shift 2 ;;
    --tests=*) TESTS=${1#*=}; shift ;;
    --) shift; break ;;
    *) sed -n '2,18s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2; exit 2 ;;
    esac
done
T0=${EPOCHREALTIME/./}

# The chosen test executables, each with its package directory and its
# own filter (libcoracle's unit tests: cgroups::), from cargo's messages
# (one JSON object per line).
TRIPLES=()
while IFS= read -r line; do
    exe=$(grep -o '"executable":"[^"]*"' <<<"$line" | cut -d'"' -f4) || true
    manifest=$(grep -o '"manifest_path":"[^"]*"' <<<"$line" | cut -d'"' -f4) || true
    target=$(grep -o '"target":{[^}]*}' <<<"$line") || true
    name=$(grep -o '"name":"[^"]*"' <<<"$target" | cut -d'"' -f4) || true
    kind=$(grep -o '"kind":\["[^"]*"' <<<"$target" | cut -d'"' -f4) || true
    [ -n "$exe" ] || continue
    if [ "$TESTS" = all ]; then
        TRIPLES+=("$(dirname "$manifest")" "$exe" "")
    elif [ "$name/$kind" = libcoracle/lib ] && [[ ",$TESTS," == *",unit,"* ]]; then
        TRIPLES+=("$(dirname "$manifest")" "$exe" "cgroups::")
    elif [ "$kind" = test ] && [[ ",$TESTS," == *",$name,"* ]]; then
        TRIPLES+=("$(dirname "$manifest")" "$exe" "")
    fi
done < <(cd "$REPO" && cargo test --workspace --no-run --message-format=json |
    grep '"reason":"compiler-artifact"' | grep '"profile":{[^}]*"test":true')
[ ${#TRIPLES[@]} -gt 0 ] || { echo "test.sh: no test binary named $TESTS" >&2; exit 1; }
BINARIES=$((${#TRIPLES[@]} / 3))

# Runs in each place (bash from the host's root, which the guests share).
# Each binary's output goes to stdout; then one line per binary that died
# without a test result, and the number of tests that skipped themselves.
# shellcheck disable=SC2016 # expanded by that bash
RUNNER='n=$1; shift; dirs=(); bins=(); filters=()
for ((i = 0; i < n; i++)); do dirs+=("$1"); bins+=("$2"); filters+=("$3"); shift 3; done
CORACLE_TEST_SKIP_LOG=$(mktemp /tmp/coracle-skips.XXXXXX)
export CORACLE_TEST_SKIP_LOG
log=$(mktemp /tmp/coracle-test-log.XXXXXX)
rc=0
for i in "${!bins[@]}"; do
    f=${filters[i]}
    echo "==> ${bins[i]##*/} ${f:+$f }$*"
    brc=0
    (cd "${dirs[i]}" && "${bins[i]}" ${f:+"$f"} "$@") 2>&1 | tee "$log"
    brc=${PIPESTATUS[0]}
    if [ "$brc" != 0 ]; then
        rc=1
        grep -q "^test result: " "$log" ||
            echo "runner: ${bins[i]##*/} exited $brc without a test result"
    fi
done
echo "runner: $(wc -l <"$CORACLE_TEST_SKIP_LOG") tests skipped themselves"
rm -f "$CORACLE_TEST_SKIP_LOG" "$log"
exit $rc'

# Sums the counts of a place's output: sets PASSED, FAILED, SKIPPED.
count_results() { # output-file
    PASSED=0 FAILED=0 SKIPPED=0
    local p f
    while read -r p f; do
        PASSED=$((PASSED + p)) FAILED=$((FAILED + f))
    done < <(sed -n 's/^test result: [A-Za-z]*\. \([0-9]*\) passed; \([0-9]*\) failed;.*/\1 \2/p' "$1")
    FAILED=$((FAILED + $(grep -c '^runner: .* without a test result$' "$1" || true)))
    SKIPPED=$(sed -n 's/^runner: \([0-9]*\) tests skipped themselves$/\1/p' "$1" | tail -1)
    SKIPPED=${SKIPPED:-0}
}

# The guests run the binaries from the target directory shared read-only
# and cached (their /tmp is a fresh tmpfs, and an uncached read-write share
# costs a third of a second per exec of a debug build under emulation).
# The tests' busybox rootfs, which they would build there on first use,
# is built first.
TARGET=$(realpath -m "${CARGO_TARGET_DIR:-$REPO/target}")
[ -x "$TARGET/tmp/busybox-bundle/rootfs/bin/busybox" ] ||
    "$REPO/scripts/make-bundle.sh" "$TARGET/tmp/busybox-bundle" >/dev/null
SHARES=(--ro "$TARGET")

OUT=$(mktemp -d /tmp/coracle-guest-test.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
declare -A RESULT=()
TOTAL_PASSED=0 TOTAL_FAILED=0
for place in ${WHERE//,/ }; do
    case "$place" in
    host | v1) expect=v1 ;;
    v2 | systemd) expect=$place ;;
    *) echo "test.sh: unknown place '$place'" >&2; exit 2 ;;
    esac
    echo "===== $place: $BINARIES test binaries, args: $*"
    cmd=(bash -c "$RUNNER" runner "$BINARIES" "${TRIPLES[@]}" "$@")
    rc=0
    t_place=${EPOCHREALTIME/./}
    case "$place" in
    host) CORACLE_EXPECT_CGROUP=$expect "${cmd[@]}" | tee "$OUT/$place" || rc=${PIPESTATUS[0]} ;;
    *) "$SCRIPT_DIR/run.sh" --mode "$place" --workdir "$REPO" "${SHARES[@]}" \
        --env "CORACLE_EXPECT_CGROUP=$expect" -- "${cmd[@]}" | tee "$OUT/$place" ||
        rc=${PIPESTATUS[0]} ;;
    esac
    count_results "$OUT/$place"
    ran=$((PASSED - SKIPPED))
    TOTAL_PASSED=$((TOTAL_PASSED + ran)) TOTAL_FAILED=$((TOTAL_FAILED + FAILED))
    secs=$(((${EPOCHREALTIME/./} - t_place) / 1000000))
    counts="$ran passed, $FAILED failed, $SKIPPED skipped, ${secs} s"
    case "$rc" in
    0) if [ "$ran" -gt 0 ]; then
        RESULT[$place]="ok ($counts)"
    else
        RESULT[$place]="FAILED (no test ran: $counts)"
    fi ;;
    124) RESULT[$place]="FAILED (timed out; $counts)" ;;
    125) RESULT[$place]="FAILED (the guest did not boot or report)" ;;
    *) RESULT[$place]="FAILED (exit $rc; $counts)" ;;
    esac
done

status=0
echo "===== summary ($(((${EPOCHREALTIME/./} - T0) / 1000000)) s)"
for place in ${WHERE//,/ }; do
    echo "$place: ${RESULT[$place]}"
    [[ "${RESULT[$place]}" == ok* ]] || status=1
done
echo "cgroups: $TOTAL_PASSED passed, $TOTAL_FAILED failed"
exit $status
