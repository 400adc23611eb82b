# shellcheck shell=bash disable=SC2034,SC2154 # variables shared with engine-test.sh
# Docker (Debian's docker.io 20.10) with coracle as its default runtime:
# a private dockerd (and the containerd it starts) with its data, exec root,
# socket and pid file in $tmp, no bridge, no iptables rule. dockerd drives
# coracle through containerd's runc shim, the way it drives runc.

dockerd_bin=/usr/sbin/dockerd
# Debian's client, not a newer one that may come first on PATH.
docker_bin=/usr/bin/docker

docker_() {
	"$docker_bin" --host "unix://$tmp/docker.sock" "$@"
}

e_setup() {
	require_tools "docker.io containerd" "$dockerd_bin" "$docker_bin" containerd \
		containerd-shim-runc-v2 || return 1
	# dockerd writes its key here, and containerd's shims their sockets
	# under /run/containerd whatever the configuration.
	remember_host_dirs /etc/docker/key.json /run/docker /run/containerd
	remember_cgroup_dirs docker
	# The daemon.json of docs/engines/docker.md names the runtime.
	doc_snippet docker daemon.json >"$tmp/daemon.json"
	start_daemon dockerd "$tmp/docker.sock" "$dockerd_bin" --config-file "$tmp/daemon.json" \
		--data-root "$tmp/docker-data" --exec-root "$tmp/docker-exec" \
		--host "unix://$tmp/docker.sock" --pidfile "$tmp/docker-self.pid" \
		--bridge=none --iptables=false --ip6tables=false --ip-masq=false \
		--exec-opt native.cgroupdriver=cgroupfs || return 1
	# The API may answer a moment after the socket appears.
	local i
	for i in $(seq 1 100); do
		docker_ version >/dev/null 2>&1 && break
		sleep 0.1
	done
	docker_ load -q -i "$image_tar" >/dev/null
	# The runc shim runs its runtime with this --root (named after runc).
	runtime_root=$tmp/docker-exec/runtime-runc/moby
}

e_teardown() {
	local ids
	mapfile -t ids < <(docker_ ps -aq)
	[ ${#ids[@]} = 0 ] || docker_ rm -f "${ids[@]}" >/dev/null 2>&1
	stop_daemon dockerd
	unmount_under "$tmp"
	remove_created_host_dirs
	remove_created_cgroup_dirs
}

e_run() {
	local given opts cmd
	split_options docker_cli_options "$@"
	if [[ " ${opts[*]} " == *" -t "* ]]; then
		with_tty "$docker_bin" --host "unix://$tmp/docker.sock" run --rm --network none "${opts[@]}" "$image" "${cmd[@]}"
	else
		docker_ run --rm --network none "${opts[@]}" "$image" "${cmd[@]}"
	fi
}

e_run_detached() {
	local name=$1 given opts cmd
	shift
	split_options docker_cli_options "$@"
	docker_ run -d --name "$name" --network none "${opts[@]}" "$image" "${cmd[@]}" >/dev/null
}

e_id() { docker_ inspect -f '{{.Id}}' "$1"; }

e_status() { docker_ inspect -f '{{.State.Status}}' "$1"; }

e_exec() {
	if [ "$1" = tty ]; then
		shift
		with_tty "$docker_bin" --host "unix://$tmp/docker.sock" exec -t "$@"
	else
		docker_ exec "$@"
	fi
}

# `docker top` asks the runtime (`ps --format json`) for the pids.
e_top() { docker_ top "$1" -o pid | tail -n +2 | tr -d ' '; }

e_pause() { docker_ pause "$1"; }
e_unpause() { docker_ unpause "$1"; }
# Docker refuses a memory limit above the container's memory+swap limit
# unless both change.
e_update_memory() { docker_ update --memory "$2" --memory-swap "$(($2 * 2))" "$1"; }
e_kill() { docker_ kill -s "$2" "$1"; }
e_stop() { docker_ stop -t 5 "$1"; }
e_rm() { docker_ rm "$1"; }
e_rm_force() { docker_ rm -f "$1"; }
e_exists() { docker_ inspect "$1" >/dev/null 2>&1; }

# What Docker reads of the runtime itself.
docker_runtime_commit() { docker_ info -f '{{.RuncCommit.ID}}'; }
coracle_commit() { "$runtime" --version | sed -n 's/^commit: //p'; }

e_extra_checks() {
	check "info: coracle is the default runtime" 0 "coracle" docker_ info -f '{{.DefaultRuntime}}'
	check "info: the commit line of coracle --version" 0 "$(coracle_commit)" docker_runtime_commit
}
