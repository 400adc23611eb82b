# shellcheck shell=bash disable=SC2034,SC2154,SC2016 # variables shared with engine-test.sh; $ for the container's shell
# Podman (Debian's 4.3) with coracle as its runtime: storage (vfs) and
# configuration (CONTAINERS_CONF) in $tmp. Podman runs the runtime through
# conmon, with no --root: coracle keeps its state in its default root.

podman_() {
	podman --root "$tmp/root" --runroot "$tmp/runroot" --storage-driver vfs \
		--cgroup-manager cgroupfs --events-backend file "$@"
}

e_setup() {
	require_tools "podman conmon" podman conmon || return 1
	# Podman insists on a few host paths whatever its configuration (the
	# blob info cache of `podman load`, the network run dir).
	remember_host_dirs /var/lib/containers /run/containers
	remember_cgroup_dirs libpod_parent
	# The containers.conf of docs/engines/podman.md, with what keeps this
	# test's Podman private added to its tables.
	export CONTAINERS_CONF=$tmp/containers.conf
	doc_snippet podman containers.conf | awk -v tmp="$tmp" '
		{ print }
		$0 == "[engine]" {
			print "cgroup_manager = \"cgroupfs\""
			print "events_logger = \"file\""
			print "events_logfile_path = \"" tmp "/events.log\""
			print "tmp_dir = \"" tmp "/tmp\""
			print "volume_path = \"" tmp "/volumes\""
			print "static_dir = \"" tmp "/static\""
		}' >"$CONTAINERS_CONF"
	cat >>"$CONTAINERS_CONF" <<-EOF

		[containers]
		# This machine's hard RLIMIT_NOFILE is 20000 and the bounding set lacks
		# CAP_SYS_RESOURCE: Podman's defaults (1048576) could not be set.
		default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]

		[network]
		network_config_dir = "$tmp/networks"
	EOF
	grep -q '^runtime = "coracle"$' "$CONTAINERS_CONF" || {
		echo "engine-test: docs/engines/podman.md has no containers.conf naming coracle" >&2
		return 1
	}
	mkdir -p "$tmp/networks" "$tmp/tmp"
	podman_ load -q -i "$image_tar" >/dev/null
	# Podman gives no --root: the runtime's default.
	runtime_root=/run/$(basename "$runtime")
	[ -e "$runtime_root" ] || made_runtime_root=yes
}

e_teardown() {
	podman_ rm -af -t 0 >/dev/null 2>&1
	podman_ rmi -af >/dev/null 2>&1
	unmount_under "$tmp"
	remove_created_host_dirs
	remove_created_cgroup_dirs
	# The default root goes if this run made it, once no container is left
	# in it (only the seccomp cache).
	if [ -n "${made_runtime_root:-}" ]; then
		rm -rf "$runtime_root/.seccomp-cache"
		rmdir "$runtime_root"
	fi
}

e_run() {
	local given opts cmd
	split_options docker_cli_options "$@"
	podman_ run --rm --network none "${opts[@]}" "$image" "${cmd[@]}"
}

e_run_detached() {
	local name=$1 given opts cmd
	shift
	split_options docker_cli_options "$@"
	podman_ run -d --name "$name" --network none "${opts[@]}" "$image" "${cmd[@]}" >/dev/null
}

e_id() { podman_ inspect -f '{{.Id}}' "$1"; }

e_status() { podman_ inspect -f '{{.State.Status}}' "$1"; }

e_exec() {
	if [ "$1" = tty ]; then
		shift
		podman_ exec -t "$@"
	else
		podman_ exec "$@"
	fi
}

e_top() { podman_ top "$1" hpid | tail -n +2; }

e_pause() { podman_ pause "$1"; }
e_unpause() { podman_ unpause "$1"; }
e_update_memory() { podman_ update --memory "$2" "$1"; }
e_kill() { podman_ kill -s "$2" "$1"; }
e_stop() { podman_ stop -t 5 "$1"; }
e_rm() { podman_ rm "$1"; }
e_rm_force() { podman_ rm -f -t 0 "$1"; }
e_exists() { podman_ container exists "$1"; }

e_extra_checks() {
	check "info: coracle is the runtime" 0 "coracle" podman_ info --format '{{.Host.OCIRuntime.Name}}'
	# What the foundation's engine test asked for: no seccomp at all.
	check "run --security-opt seccomp=unconfined: output and exit code" 3 "hi 0" \
		podman_ run --rm --network none --security-opt seccomp=unconfined "$image" \
		sh -c "echo hi \$(sed -n 's/^Seccomp:\t*//p' /proc/self/status); exit 3"
	check "run: environment" 0 "bar" podman_ run --rm --network none -e FOO=bar "$image" \
		sh -c 'echo "$FOO"'
}
