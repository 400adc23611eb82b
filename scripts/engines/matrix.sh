# shellcheck shell=bash disable=SC2034,SC2154,SC2016 # variables shared with engine-test.sh; $ for the container's shell
# The checks every engine passes (sourced by scripts/engine-test.sh), in
# terms of the e_* functions that each engine's adapter defines:
#
#   e_setup / e_teardown      start the engine's private daemons and import
#                             $image_tar as $image / stop and remove all
#   e_run OPTION... -- CMD... run CMD in a new container in the foreground,
#                             removed after; its output and exit status
#   e_run_detached NAME OPTION... -- CMD...
#   e_id NAME                 the container's id as the runtime knows it
#   e_status NAME             running, paused or exited
#   e_exec [tty] NAME CMD...  a process in the running container
#   e_top NAME                the host pids of its processes, one a line
#   e_pause / e_unpause NAME
#   e_update_memory NAME BYTES
#   e_kill NAME SIGNAL        SIGNAL by name without SIG (USR1)
#   e_stop NAME / e_rm NAME / e_rm_force NAME
#   e_exists NAME             whether the engine still knows NAME
#   e_extra_checks            what only this engine has
#
# OPTIONs: tty, memory=BYTES, pids=N, user=UID:GID, read-only,
# cap-drop-all, pid-host, cgroup-view (the container's own cgroup at
# /sys/fs/cgroup, which Podman and Docker mount anyway). No option asks
# for a seccomp profile: every container runs under the engine's default.
#
# The adapter also sets $runtime_root, the --root its engine gives the
# runtime, so that the checks can ask coracle itself what it holds.

# coracle's view of container ID: its status, or "gone".
runtime_status() {
	"$runtime" --root "$runtime_root" state "$1" 2>/dev/null | jq -r .status || echo gone
}

# The init's pid as coracle recorded it.
runtime_pid() {
	"$runtime" --root "$runtime_root" state "$1" | jq -r .pid
}

# Whether coracle and the host's cgroups hold nothing more of container ID.
nothing_left_of() {
	local id=$1 dirs
	dirs=$(cgroup_dirs_named "$id")
	if [ "$(runtime_status "$id")" != gone ]; then
		echo "coracle still holds $id"
	elif [ -n "$dirs" ]; then
		echo "cgroups left: $dirs"
	else
		echo none
	fi
}

# Whether the host pids of container NAME include PID.
top_lists() {
	e_top "$1" | grep -qx "$2" && echo listed
}

# Waits up to 10 s for container NAME's status to become WANT; prints it.
status_becomes() {
	local name=$1 want=$2 i status
	for i in $(seq 1 100); do
		status=$(e_status "$name")
		[ "$status" = "$want" ] && break
		sleep 0.1
	done
	echo "$status"
}

run_matrix() {
	local me=$$ ctr=coracle-e2e-$$ id pid
	local zeros='0000000000000000'
	check "run: output and exit code" 3 "hi" e_run -- sh -c 'echo hi; exit 3'
	check "run: the engine's default seccomp filter is on" 0 "2" \
		e_run -- sh -c "sed -n 's/^Seccomp:\t*//p' /proc/self/status"
	check "run: a private pid namespace" 0 "private" \
		e_run -- sh -c "[ -d /proc/$me ] && echo host || echo private"
	# (ctr's terminal shows a NUL it writes first as ^@, with runc too.)
	check_match "run -t: a terminal" 0 "?(^@)/dev/pts/+([0-9])" e_run tty -- tty
	check "run --memory 64m --pids-limit 50: read inside" 0 $'67108864\n50' \
		e_run memory=67108864 pids=50 cgroup-view -- sh -c "$limits_probe"
	check "run --user 1000:1000" 0 "1000 1000" \
		e_run user=1000:1000 -- sh -c 'echo "$(id -u) $(id -g)"'
	check "run --read-only" 0 "read-only" \
		e_run read-only -- sh -c 'touch /probe 2>/dev/null && echo writable || echo read-only'
	check "run --cap-drop ALL: no capability left" 0 "$zeros"$'\n'"$zeros"$'\n'"$zeros" \
		e_run cap-drop-all -- sh -c 'grep -E "^Cap(Prm|Eff|Bnd)" /proc/self/status | cut -f2'
	check "run --pid host: the host's processes" 0 "host" \
		e_run pid-host -- sh -c "[ -d /proc/$me ] && echo host || echo private"

	# A container that ends on TERM and notes USR1; `sleep & wait` lets the
	# shell run its traps at once.
	capture e_run_detached "$ctr" cgroup-view -- sh -c \
		'trap "exit 0" TERM; trap "echo usr1 > /tmp/usr1" USR1; while :; do sleep 1 & wait $!; done'
	if [ "$code" != 0 ]; then
		fail "run -d: exit $code; stderr: $err"
		return
	fi
	pass "run -d"
	id=$(e_id "$ctr")
	check "detached: the engine says running" 0 "running" e_status "$ctr"
	check "detached: coracle holds it, running" 0 "running" runtime_status "$id"
	pid=$(runtime_pid "$id")
	check "exec: output and exit code" 5 "from-exec" e_exec "$ctr" sh -c 'echo from-exec; exit 5'
	check_match "exec: in the container's pid namespace" 0 "sh -c trap*" \
		e_exec "$ctr" sh -c 'tr "\0" " " </proc/1/cmdline'
	check_match "exec -t: a terminal" 0 "?(^@)/dev/pts/+([0-9])" e_exec tty "$ctr" tty
	check_error "exec: the runtime's error reaches the engine's user" "*${coracle:+coracle exec}*/no-such-program*" \
		e_exec "$ctr" /no-such-program
	check "top: lists the container's init (host pid $pid)" 0 "listed" top_lists "$ctr" "$pid"
	capture e_pause "$ctr"
	check "pause: the engine says paused" 0 "paused" status_becomes "$ctr" paused
	check "pause: coracle says paused" 0 "paused" runtime_status "$id"
	capture e_unpause "$ctr"
	check "unpause: running again" 0 "running" status_becomes "$ctr" running
	check "unpause: exec works again" 0 "thawed" e_exec "$ctr" echo thawed
	capture e_update_memory "$ctr" 134217728
	[ "$code" = 0 ] || fail "update --memory 128m: exit $code; stderr: $err"
	check "update --memory 128m: read inside" 0 "134217728" \
		e_exec "$ctr" sh -c "$memory_probe"
	capture e_kill "$ctr" USR1
	check "kill -s USR1: the container's trap ran" 0 "usr1" e_exec "$ctr" sh -c \
		'for i in $(seq 1 100); do [ -e /tmp/usr1 ] && break; sleep 0.1; done; cat /tmp/usr1'
	capture e_stop "$ctr"
	check "stop: exited" 0 "exited" status_becomes "$ctr" exited
	# The shims delete the container as soon as it has exited.
	check_match "stop: coracle says stopped (or has deleted it)" 0 "@(stopped|gone)" \
		runtime_status "$id"
	capture e_rm "$ctr"
	check "rm: the engine forgets it" 1 "" e_exists "$ctr"
	check "rm: nothing left (state, cgroups)" 0 "none" nothing_left_of "$id"

	capture e_run_detached "$ctr-f" -- sleep 1000
	if [ "$code" = 0 ]; then
		id=$(e_id "$ctr-f")
		capture e_rm_force "$ctr-f"
		check "rm -f of a running container: nothing left" 0 "none" nothing_left_of "$id"
	else
		fail "run -d (for rm -f): exit $code; stderr: $err"
	fi
	e_extra_checks
}
