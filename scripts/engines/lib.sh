# shellcheck shell=bash disable=SC2034,SC2154,SC2016 # variables shared with engine-test.sh; $ for the container's shell
# Shared by the engine tests (sourced by scripts/engine-test.sh): the
# runtime under test, a private temporary directory, the checks and their
# counts, the local busybox image, private daemons and clean-up.
#
# Every engine's adapter (podman.sh, docker.sh, containerd.sh) defines the
# same e_* functions, which matrix.sh calls; this file knows no engine.

# The runtime binary: $1, else scripts/build-release.sh's, else a plain
# `cargo build --release`'s (.cargo/config.toml names the target). A
# binary older than the sources is used, with a warning.
find_runtime() {
	local candidate
	for candidate in "$1" "$top/target/release/coracle" \
		"$top/target/x86_64-unknown-linux-gnu/release/coracle"; do
		if [ -n "$candidate" ] && [ -x "$candidate" ]; then
			if [ -z "$1" ] && [ -n "$(find "$top/crates" -name '*.rs' -newer "$candidate" -print -quit)" ]; then
				echo "engine-test: warning: $candidate is older than the sources" >&2
			fi
			realpath "$candidate"
			return
		fi
	done
	echo "engine-test: no runtime binary (run scripts/build-release.sh first)" >&2
	return 2
}

# Set when the runtime is coracle, for checks of its own wording (a test of
# the test with runc checks the rest).
coracle=
set_runtime() {
	runtime=$(find_runtime "$1") || return
	[[ $(basename "$runtime") == coracle* ]] && coracle=yes
	return 0
}

passed=0
failed=0
skipped=0
pass() { passed=$((passed + 1)); echo "ok: $engine: $*"; }
fail() { failed=$((failed + 1)); echo "FAIL: $engine: $*"; }
skip() { skipped=$((skipped + 1)); echo "skip: $engine: $*"; }

# Runs COMMAND, keeping its stdout (without a terminal's \r) in $out, its
# stderr in $err and its exit status in $code.
capture() {
	code=0
	out=$("$@" 2>"$tmp/stderr") || code=$?
	out=${out//$'\r'/}
	err=$(cat "$tmp/stderr")
}

# check WHAT WANT_CODE WANT_OUTPUT COMMAND...: the exit status and the whole
# output must match.
check() {
	local what=$1 want_code=$2 want_out=$3
	shift 3
	capture "$@"
	if [ "$code" = "$want_code" ] && [ "$out" = "$want_out" ]; then
		pass "$what"
	else
		fail "$what: exit $code (want $want_code), output '$out' (want '$want_out'); stderr: $err"
	fi
}

# check_match WHAT WANT_CODE PATTERN COMMAND...: the output must match the
# extended shell PATTERN (and the status WANT_CODE, or any failure for
# "fail").
check_match() {
	local what=$1 want_code=$2 pattern=$3
	shift 3
	capture "$@"
	local code_ok=false
	case $want_code in
	fail) [ "$code" != 0 ] && code_ok=true ;;
	*) [ "$code" = "$want_code" ] && code_ok=true ;;
	esac
	# shellcheck disable=SC2053 # the pattern is meant to match
	if $code_ok && [[ $out == $pattern ]]; then
		pass "$what"
	else
		fail "$what: exit $code (want $want_code), output '$out' (want $pattern); stderr: $err"
	fi
}

# check_error WHAT PATTERN COMMAND...: COMMAND must fail and say PATTERN
# (where an engine shows what the runtime wrote to its JSON log: on stderr,
# or on stdout for a process's own stream).
check_error() {
	local what=$1 pattern=$2
	shift 2
	capture "$@"
	# shellcheck disable=SC2053
	if [ "$code" != 0 ] && [[ "$out$err" == $pattern ]]; then
		pass "$what"
	else
		fail "$what: exit $code (want a failure), output '$out', stderr '$err' (want $pattern)"
	fi
}

# Runs COMMAND with a pseudo-terminal as its stdin and stdout, as a user at
# a terminal would (engines refuse -t without one, or tell the runtime so).
with_tty() {
	local line
	printf -v line '%q ' "$@"
	script -qec "$line" /dev/null </dev/null
}

# Shell commands that read the memory and pids limits from the cgroup v2 or
# v1 files, inside a container that mounts its own cgroup at /sys/fs/cgroup.
memory_probe='for f in memory.max memory/memory.limit_in_bytes; do
  [ -e /sys/fs/cgroup/$f ] && cat /sys/fs/cgroup/$f && break; done'
limits_probe="$memory_probe
for f in pids.max pids/pids.max; do
  [ -e /sys/fs/cgroup/\$f ] && cat /sys/fs/cgroup/\$f && break; done"

# require_tools PACKAGES TOOL...: whether every TOOL is there; if not, says
# which Debian PACKAGES bring them.
require_tools() {
	local packages=$1 tool
	shift
	for tool in "$@"; do
		command -v "$tool" >/dev/null || {
			echo "engine-test: $tool not found (apt-get install $packages)" >&2
			return 1
		}
	done
}

# Whether Debian's python3 has grpc, for the gRPC clients of containerd.
require_python_grpc() {
	/usr/bin/python3 -c 'import grpc' 2>/dev/null || {
		echo "engine-test: python3's grpc module not found (apt-get install python3-grpcio)" >&2
		return 1
	}
}

# split_options MAPPER OPTION... -- CMD...: the matrix's OPTIONs in $given,
# the engine's flags for them (MAPPER's output, one word a line) in $opts,
# and the command in $cmd.
split_options() {
	local mapper=$1
	shift
	given=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do given+=("$1"); shift; done
	shift
	mapfile -t opts < <("$mapper" "${given[@]}")
	cmd=("$@")
}

# The flags of Docker's command line, which Podman shares, for the
# matrix's options (one word a line).
docker_cli_options() {
	local option
	for option in "$@"; do
		case $option in
		tty) echo -t ;;
		memory=*) printf '%s\n' --memory "${option#memory=}" ;;
		pids=*) printf '%s\n' --pids-limit "${option#pids=}" ;;
		user=*) printf '%s\n' --user "${option#user=}" ;;
		read-only) echo --read-only ;;
		cap-drop-all) printf '%s\n' --cap-drop ALL ;;
		pid-host) printf '%s\n' --pid host ;;
		cgroup-view) ;; # both mount it anyway
		*) echo "$engine: unknown option $option" >&2; return 1 ;;
		esac
	done
}

# doc_snippet PAGE NAME: the code block that follows the line
# `<!-- engine-test: NAME -->` in docs/engines/PAGE.md, with the installed
# path /usr/local/bin/coracle replaced by the runtime under test, so that
# the configuration the docs show is the one tested.
doc_snippet() {
	local page=$top/docs/engines/$1.md
	awk -v marker="<!-- engine-test: $2 -->" '
		$0 == marker { found = 1; next }
		found && /^```/ { if (inside) exit; inside = 1; next }
		inside { print }
	' "$page" | sed "s|/usr/local/bin/coracle|$runtime|g"
}

# make_image_tar TAR NAME [CMD_JSON]: a docker-archive (docker load, ctr
# images import and podman load all take it) of a one-layer image holding
# the busybox rootfs of scripts/make-bundle.sh, tagged NAME, whose Cmd is
# CMD_JSON (default ["sh"]). Leaves the rootfs at $tmp/bundle/rootfs for
# engines that take a rootfs directory.
make_image_tar() {
	local tar=$1 name=$2 image_cmd=${3:-'["sh"]'} dir=$tmp/image layer config
	[ -d "$tmp/bundle/rootfs" ] || "$here/make-bundle.sh" "$tmp/bundle" 2>/dev/null
	mkdir -p "$dir"
	tar -C "$tmp/bundle/rootfs" -cf "$dir/layer.tar" .
	layer=$(sha256sum "$dir/layer.tar" | cut -d' ' -f1)
	mkdir "$dir/$layer"
	mv "$dir/layer.tar" "$dir/$layer/layer.tar"
	jq -cn --arg layer "sha256:$layer" --argjson cmd "$image_cmd" '{
		architecture: "amd64", os: "linux",
		config: {Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: $cmd},
		rootfs: {type: "layers", diff_ids: [$layer]}
	}' >"$dir/config.json"
	config=$(sha256sum "$dir/config.json" | cut -d' ' -f1)
	mv "$dir/config.json" "$dir/$config.json"
	jq -cn --arg config "$config.json" --arg layer "$layer/layer.tar" --arg name "$name" \
		'[{Config: $config, RepoTags: [$name], Layers: [$layer]}]' >"$dir/manifest.json"
	tar -C "$dir" -cf "$tar" manifest.json "$config.json" "$layer"
	rm -rf "$dir"
}

# start_daemon NAME SOCKET COMMAND...: starts a private daemon in the
# background (its output in $tmp/NAME.log, its pid in $tmp/NAME.pid) and
# waits until it listens on SOCKET.
start_daemon() {
	local name=$1 socket=$2
	shift 2
	"$@" >"$tmp/$name.log" 2>&1 &
	echo $! >"$tmp/$name.pid"
	local i
	for i in $(seq 1 300); do
		[ -S "$socket" ] && return 0
		kill -0 "$(cat "$tmp/$name.pid")" 2>/dev/null || break
		sleep 0.1
	done
	echo "engine-test: $name did not start; its log ends:" >&2
	tail -n 20 "$tmp/$name.log" >&2
	return 1
}

# stop_daemon NAME: SIGTERM to the daemon this run started (by its pid),
# SIGKILL after 20 s.
stop_daemon() {
	local pidfile=$tmp/$1.pid pid i
	[ -f "$pidfile" ] || return 0
	pid=$(cat "$pidfile")
	kill "$pid" 2>/dev/null || return 0
	for i in $(seq 1 200); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
}

# Host directories an engine creates whatever its configuration: those
# missing now are removed again by remove_created_host_dirs.
created_host_dirs=()
remember_host_dirs() {
	local d
	for d in "$@"; do [ -e "$d" ] || created_host_dirs+=("$d"); done
}
remove_created_host_dirs() {
	local d
	for d in "${created_host_dirs[@]}"; do rm -rf "$d"; done
}

# The cgroup directories (relative to each hierarchy) that an engine makes
# for its containers' parents (/docker, /default, libpod_parent/conmon…):
# those missing now are removed again, when empty, by
# remove_created_cgroup_dirs.
created_cgroup_dirs=()
remember_cgroup_dirs() {
	local rel hierarchy
	for rel in "$@"; do
		for hierarchy in $(cgroup_hierarchies); do
			[ -e "$hierarchy/$rel" ] || created_cgroup_dirs+=("$hierarchy/$rel")
		done
	done
}
remove_created_cgroup_dirs() {
	local d
	for d in "${created_cgroup_dirs[@]}"; do
		[ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	return 0
}

# Where cgroup hierarchies are mounted (v1 and v2).
cgroup_hierarchies() {
	awk '$9 == "cgroup" || $9 == "cgroup2" {print $5}' /proc/self/mountinfo
}

# Unmounts whatever is still mounted under DIR, deepest first.
unmount_under() {
	awk -v d="$1" '$5 == d || index($5, d "/") == 1 {print $5}' /proc/self/mountinfo |
		sort -r | while read -r m; do umount -l "$m"; done
}

# cgroup_dirs_named ID: the cgroup directories, in any hierarchy, whose name
# holds ID (what a deleted container must not leave).
cgroup_dirs_named() {
	find /sys/fs/cgroup -mindepth 2 -maxdepth 6 -type d -name "*$1*" 2>/dev/null
}
