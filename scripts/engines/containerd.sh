# shellcheck shell=bash disable=SC2034,SC2154 # variables shared with engine-test.sh
# containerd (Debian's 1.6) with coracle as the binary of its runc shim
# (io.containerd.runc.v2), driven by ctr: a private containerd with its
# root, state and sockets in $tmp, containers in the "default" namespace,
# every one made with containerd's default seccomp profile (--seccomp).

ns=default
ctr_() { ctr --address "$tmp/containerd.sock" --namespace "$ns" "$@"; }

# What every `ctr run` gets: the runtime, its state root and the FIFOs'
# place; and what every container's spec gets: containerd's default seccomp
# profile.
ctr_runtime=()
ctr_spec=(--seccomp)

e_setup() {
	require_tools "containerd python3-grpcio" containerd ctr containerd-shim-runc-v2 \
		/usr/bin/python3 && require_python_grpc || return 1
	# The shims' sockets go under /run/containerd whatever the configuration.
	remember_host_dirs /run/containerd
	remember_cgroup_dirs "$ns"
	cat >"$tmp/containerd.toml" <<-EOF
		version = 2
		root = "$tmp/containerd-root"
		state = "$tmp/containerd-state"
		disabled_plugins = ["io.containerd.grpc.v1.cri"]
		[grpc]
		  address = "$tmp/containerd.sock"
		[ttrpc]
		  address = "$tmp/containerd.sock.ttrpc"
		[plugins."io.containerd.internal.v1.opt"]
		  path = "$tmp/containerd-opt"
	EOF
	start_daemon containerd "$tmp/containerd.sock" containerd --config "$tmp/containerd.toml" || return 1
	ctr_ images import "$image_tar" >/dev/null || return 1
	ctr_runtime=(--runc-binary "$runtime" --runc-root "$tmp/runc-root" --fifo-dir "$tmp/fifo")
	# The shim gives the runtime --root RUNC_ROOT/NAMESPACE.
	runtime_root=$tmp/runc-root/$ns
	# ctr 1.6 has no --cap-drop ALL: each of containerd's default ones.
	mapfile -t default_caps < <(ctr oci spec | jq -r '.process.capabilities.bounding[]')
}

e_teardown() {
	local name
	for name in $(ctr_ tasks ls -q); do ctr_ tasks rm -f "$name"; done
	for name in $(ctr_ containers ls -q); do ctr_ containers rm "$name"; done
	ctr_ images rm "$image" >/dev/null
	stop_daemon containerd
	unmount_under "$tmp"
	remove_created_host_dirs
	remove_created_cgroup_dirs
}

# ctr's flags for the matrix's options; pids= and user=, which ctr 1.6 has
# no flags for, are left to spec_edits, for a --config spec.
ctr_options() {
	local option cap
	for option in "$@"; do
		case $option in
		tty) echo -t ;;
		memory=*) printf '%s\n' --memory-limit "${option#memory=}" ;;
		read-only) echo --read-only ;;
		cap-drop-all) for cap in "${default_caps[@]}"; do printf '%s\n' --cap-drop "$cap"; done ;;
		pid-host) printf '%s\n' --with-ns "pid:/proc/$$/ns/pid" ;;
		cgroup-view) printf '%s\n' --mount type=cgroup,src=cgroup,dst=/sys/fs/cgroup,options=ro:nosuid:noexec:nodev ;;
		pids=* | user=*) ;;
		*) echo "containerd: unknown option $option" >&2; return 1 ;;
		esac
	done
}

# The jq edits of a spec for the options ctr cannot express.
spec_edits() {
	local option edits=.
	for option in "$@"; do
		case $option in
		pids=*) edits+=" | .linux.resources.pids = {limit: ${option#pids=}}" ;;
		user=*)
			local ids=${option#user=}
			edits+=" | .process.user = {uid: ${ids%:*}, gid: ${ids#*:}}"
			;;
		esac
	done
	echo "$edits"
}

run_count=0

# ctr_run NAME FLAG...: `ctr run` of $cmd in container NAME with ctr's
# flags $opts and FLAG..., or, when the options ask for what ctr has no
# flag for, with the spec that containerd makes for the same flags (its
# default seccomp profile included) plus those fields, through --config.
ctr_run() {
	local name=$1 edits
	shift
	edits=$(spec_edits "${given[@]}")
	if [ "$edits" = . ]; then
		ctr_ run "${ctr_runtime[@]}" "${ctr_spec[@]}" "$@" "${opts[@]}" "$image" "$name" "${cmd[@]}"
		return
	fi
	# The command goes in by jq: `ctr containers create` takes a -c among
	# the command's words for its own --config.
	ctr_ containers create "${ctr_spec[@]}" "${opts[@]}" "$image" "$name-spec" >/dev/null || return
	local args='[]' arg
	for arg in "${cmd[@]}"; do
		args=$(jq -cn --argjson args "$args" --arg arg "$arg" '$args + [$arg]')
	done
	ctr_ containers info "$name-spec" |
		jq --arg rootfs "$tmp/bundle/rootfs" --argjson args "$args" \
			".Spec | .root.path = \$rootfs | .process.args = \$args | $edits" >"$tmp/$name.json"
	ctr_ containers rm "$name-spec"
	ctr_ run "${ctr_runtime[@]}" "$@" --config "$tmp/$name.json" "$name"
}

e_run() {
	local given opts cmd
	split_options ctr_options "$@"
	run_count=$((run_count + 1))
	local name=coracle-e2e-$$-$run_count
	if [[ " ${opts[*]} " == *" -t "* ]]; then
		# ctr -t wants a terminal of its own.
		with_tty ctr --address "$tmp/containerd.sock" --namespace "$ns" run --rm \
			"${ctr_runtime[@]}" "${ctr_spec[@]}" "${opts[@]}" "$image" "$name" "${cmd[@]}"
	else
		ctr_run "$name" --rm
	fi
}

e_run_detached() {
	local name=$1 given opts cmd
	shift
	split_options ctr_options "$@"
	ctr_run "$name" -d >/dev/null
}

e_id() { echo "$1"; }

e_status() {
	local status
	status=$(ctr_ tasks ls | awk -v n="$1" '$1 == n {print $3}')
	case $status in
	RUNNING) echo running ;;
	PAUSED | PAUSING) echo paused ;;
	STOPPED) echo exited ;;
	# No task, CREATED, UNKNOWN…: never taken for a stop.
	*) echo "${status:-no task}" ;;
	esac
}

exec_count=0
e_exec() {
	exec_count=$((exec_count + 1))
	if [ "$1" = tty ]; then
		shift
		# ctr resizes the terminal once more after a short process has
		# ended and complains on it (with runc too): not the runtime's.
		with_tty ctr --address "$tmp/containerd.sock" --namespace "$ns" tasks exec -t \
			--exec-id "exec-$exec_count" "$@" | grep -v 'cannot resize a stopped container'
	else
		ctr_ tasks exec --exec-id "exec-$exec_count" "$@"
	fi
}

# `ctr tasks ps` asks the shim, which asks the runtime (`ps --format json`).
e_top() { ctr_ tasks ps "$1" | tail -n +2 | awk '{print $1}'; }

e_pause() { ctr_ tasks pause "$1"; }
e_unpause() { ctr_ tasks resume "$1"; }
e_update_memory() {
	/usr/bin/python3 "$here/engines/containerd.py" "$tmp/containerd.sock" "$ns" "$1" \
		"{\"memory\":{\"limit\":$2}}"
}
e_kill() { ctr_ tasks kill -s "SIG$2" "$1"; }
e_stop() { ctr_ tasks kill -s SIGTERM "$1"; }
e_rm() { ctr_ tasks rm "$1" && ctr_ containers rm "$1"; }
e_rm_force() { ctr_ tasks rm -f "$1" && ctr_ containers rm "$1"; }
e_exists() { ctr_ containers info "$1" >/dev/null 2>&1; }

e_extra_checks() {
	# A create that coracle refuses: its error, from the JSON log the shim
	# reads, reaches ctr's user, and nothing is left.
	local given=() opts=() cmd=(true)
	check_error "create: the runtime's error reaches the engine's user" \
		"*${coracle:+coracle create: linux.rootfsPropagation}*bogus*" \
		ctr_run coracle-e2e-$$-bad --rm --rootfs-propagation bogus
	ctr_ containers rm "coracle-e2e-$$-bad" >/dev/null 2>&1
	check "create refused: nothing left (state, cgroups)" 0 "none" \
		nothing_left_of "coracle-e2e-$$-bad"
}
