#!/usr/bin/env bash
# Compare coracle with crun and runc on one busybox bundle, side by side.
#
#   bench/run.sh [--quick] [--runtimes "coracle crun runc"] [--out DIR]
#                [--runs N] [--many N] [--require NAME] [--no-doc]
#
# --quick       tiny counts (CI: proves the script works, < 2 minutes)
# --runtimes    names among coracle, crun, runc, or NAME=/path/to/binary
# --out DIR     where results go (default bench/results): latest.json and
#               latest.txt, or quick.json and quick.txt with --quick
# --runs N      paired iterations per variant (default 100; quick 3)
# --many N      containers for the batch figures (default 100; quick 5)
# --require R   fail if runtime R fails its smoke test (default: skip it)
# --no-doc      do not regenerate BENCHMARKS.md (a --quick run never does)
#
# Env: CORACLE=/path/to/coracle overrides target/release/coracle (which is
# built with `cargo build --release` when missing).
#
# Host changes: none, except that when crun is compared on a hybrid cgroup
# layout whose cgroup2 holds the hugetlb controller, the hugetlb v1 hierarchy
# is mounted at /sys/fs/cgroup/hugetlb (and left mounted) so crun 1.8.1 runs.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$HERE")
SECCOMP_PROFILE=/usr/share/containers/seccomp.json
# shellcheck source=bench/lib.sh
source "$HERE/lib.sh"

COMMAND="bench/run.sh${*:+ $*}"
quick=0 runtimes="coracle crun runc" out="$HERE/results" doc=1
runs= many= require=()
while [ $# -gt 0 ]; do
    case $1 in
        --quick) quick=1 ;;
        --runtimes) runtimes=$2; shift ;;
        --runtimes=*) runtimes=${1#*=} ;;
        --out) out=$2; shift ;;
        --out=*) out=${1#*=} ;;
        --runs) runs=$2; shift ;;
        --runs=*) runs=${1#*=} ;;
        --many) many=$2; shift ;;
        --many=*) many=${1#*=} ;;
        --require) require+=("$2"); shift ;;
        --require=*) require+=("${1#*=}") ;;
        --no-doc) doc=0 ;;
        -h | --help) sed -n '2,/^set -e/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;;
        *) die "unknown argument: $1 (see --help)" ;;
    esac
    shift
done
[ "$(id -u)" = 0 ] || die "must run as root (containers, cgroups, mounts)"

if [ $quick = 1 ]; then
    counts=(--runs "${runs:-3}" --warmup 1 --many "${many:-5}" --parallel 4
        --rss-reps 1 --hf-runs 5 --hf-warmup 1)
    name=quick doc=0
else
    counts=(--runs "${runs:-100}" --warmup 3 --many "${many:-100}" --parallel 4
        --rss-reps 5 --hf-runs 50 --hf-warmup 5)
    name=latest
fi

# Resolve each runtime to a binary.
names=() bins=()
for r in $runtimes; do
    case $r in
        *=*) names+=("${r%%=*}"); bins+=("${r#*=}"); continue ;;
    esac
    names+=("$r") bins+=("")
done
ensure_tools "${names[@]}"
for i in "${!names[@]}"; do
    [ -n "${bins[i]}" ] && continue
    case ${names[i]} in
        coracle)
            bin=${CORACLE:-${CARGO_TARGET_DIR:-$REPO/target}/release/coracle}
            if [ ! -x "$bin" ] && [ -z "${CORACLE:-}" ]; then
                say "building coracle (scripts/build-release.sh)"
                (cd "$REPO" && scripts/build-release.sh >&2) ||
                    say "warning: building coracle failed"
            fi
            bins[i]=$bin ;;
        *) bins[i]=$(command -v "${names[i]}" || echo "/usr/bin/${names[i]}") ;;
    esac
done
case " ${names[*]} " in *" crun "*) ensure_crun_cgroup_layout ;; esac

PYTHON=$(command -v /usr/bin/python3 || command -v python3)
WORK=$(mktemp -d /run/coracle-bench.XXXXXX)
PREFIX=coracle-bench-$$

on_exit() {
    local rc=$?
    set +e
    cleanup_leftovers "$WORK" "$PREFIX"
    if grep -q " $WORK/" /proc/self/mountinfo; then
        say "warning: mounts left under $WORK; not removing it"
    else
        rm -rf --one-file-system "$WORK"
    fi
    exit $rc
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "bundle in $WORK (busybox rootfs, config.json via jq)"
make_bundle "$WORK/bundle" >"$WORK/config-plain.json"
add_podman_seccomp "$WORK/config-plain.json" "$SECCOMP_PROFILE" >"$WORK/config-seccomp.json"
add_limits "$WORK/config-plain.json" >"$WORK/config-limits.json"

driver_rts=()
for i in "${!names[@]}"; do
    mkdir -p "$WORK/state/${names[i]}" "$WORK/bundles/${names[i]}"
    printf '%s\n' "${bins[i]}" >"$WORK/bin.${names[i]}"
    driver_rts+=(--runtime "${names[i]}=${bins[i]}")
done

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
"$PYTHON" "$HERE/driver.py" --work "$WORK" --cgroup-prefix "$PREFIX" \
    "${driver_rts[@]}" "${counts[@]}" --out "$WORK/raw.json"

layout=$(if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then echo "cgroup v2"
    elif [ -f /sys/fs/cgroup/unified/cgroup.controllers ]; then echo "cgroup v1 (hybrid)"
    else echo "cgroup v1"; fi)
machine="$(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)),"
machine+=" $(awk '/^MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo) RAM,"
machine+=" kernel $(uname -r), $layout, $(. /etc/os-release && echo "$PRETTY_NAME")"
load="load average $load_before before, $(cut -d' ' -f1-3 /proc/loadavg) after"
mkdir -p "$out"
jq --arg date "$(date -u '+%Y-%m-%d %H:%M UTC')" --arg machine "$machine" --arg load "$load" \
    --arg command "$COMMAND" \
    '{meta: {date: $date, machine: $machine, load: $load, command: $command}} + .' \
    "$WORK/raw.json" >"$out/$name.json"

doc_args=()
[ $doc = 1 ] && doc_args=(--doc "$REPO/BENCHMARKS.md")
"$PYTHON" "$HERE/report.py" "$out/$name.json" --table "$out/$name.txt" "${doc_args[@]}"
say "results: $out/$name.json, $out/$name.txt${doc_args:+, BENCHMARKS.md}"

for r in "${require[@]}"; do
    skipped=$(jq -r --arg r "$r" '.runtimes[$r].skipped // empty' "$out/$name.json")
    [ -z "$skipped" ] || die "required runtime $r was skipped: $skipped"
    jq -e --arg r "$r" '.runtimes[$r]' "$out/$name.json" >/dev/null ||
        die "required runtime $r was not benchmarked"
done
