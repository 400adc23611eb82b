# shellcheck shell=bash disable=SC2034,SC2154,SC2016 # variables shared with engine-test.sh; $ for the container's shell
# Kubernetes as the kubelet sees it: containerd's CRI plugin (Debian's
# containerd 1.6, runtime.v1 on containerd's own socket), configured with
# the runtime `coracle` of docs/engines/containerd.md, and spoken to over
# gRPC as the kubelet does (scripts/engines/cri.py): a host-network pod
# with the runtime handler `coracle`, a container in it, ExecSync,
# UpdateContainerResources, stopping and removing. No container commands
# of its own, so it has its own checks (e_checks) instead of the matrix.
#
# The daemon is private: its root, state, sockets, CNI directories (none
# used: the pod has the host's network), the shim's runtime root (its Root
# option) and the pods' logs are in $tmp; its images, busybox and a
# "pause" image that sleeps, are imported into the k8s.io namespace
# without a registry.

cri() { /usr/bin/python3 "$here/engines/cri.py" "$tmp/containerd.sock" "$@"; }
ctr_k8s() { ctr --address "$tmp/containerd.sock" --namespace k8s.io "$@"; }

pause_image=localhost/coracle-pause:test
# The pods' cgroups, as the kubelet's cgroupfs driver names them.
cgroup_root=kubepods
# The pods this run made, for e_teardown.
pod_ids=()

# containerd's configuration: the page's config.toml (the runtime path is
# the one under test), with the shim's Root option added to its runtime's
# options, and what keeps this containerd to itself.
containerd_config() {
	local cri='plugins."io.containerd.grpc.v1.cri"' snippet
	snippet=$(doc_snippet containerd config.toml)
	cat <<-EOF
		root = "$tmp/containerd-root"
		state = "$tmp/containerd-state"
	EOF
	awk -v options="[$cri.containerd.runtimes.coracle.options]" \
		-v root="  Root = \"$tmp/runc-root\"" '{ print } $0 == options { print root }' <<<"$snippet"
	cat <<-EOF

		[grpc]
		  address = "$tmp/containerd.sock"
		[ttrpc]
		  address = "$tmp/containerd.sock.ttrpc"
		[plugins."io.containerd.internal.v1.opt"]
		  path = "$tmp/containerd-opt"
		[$cri]
		  sandbox_image = "$pause_image"
		  stream_server_address = "127.0.0.1"
		  stream_server_port = "0"
		  # Where AppArmor is on, the CRI plugin would load a profile of its
		  # own into the kernel.
		  disable_apparmor = true
		  # The CRI plugin gives the pause container an oom_score_adj of
		  # -998, which no runtime can set without CAP_SYS_RESOURCE (which
		  # some sandboxes' root lacks): then the scores stay at containerd's.
		  restrict_oom_score_adj = $(has_capability 24 && echo false || echo true)
		[$cri.cni]
		  bin_dir = "$tmp/cni/bin"
		  conf_dir = "$tmp/cni/net.d"
	EOF
}

# Whether this shell has capability NUMBER (24 is CAP_SYS_RESOURCE).
has_capability() {
	local mask
	mask=$(awk '$1 == "CapEff:" {print $2}' /proc/self/status)
	(((0x$mask >> $1) & 1))
}

e_setup() {
	require_tools "containerd python3-grpcio" containerd ctr containerd-shim-runc-v2 \
		/usr/bin/python3 && require_python_grpc || return 1
	# The shims' sockets go under /run/containerd whatever the configuration.
	remember_host_dirs /run/containerd
	remember_cgroup_dirs "$cgroup_root"
	containerd_config >"$tmp/containerd.toml"
	grep -q '^  Root = ' "$tmp/containerd.toml" || {
		echo "engine-test: docs/engines/containerd.md's config.toml has no runtimes.coracle.options" >&2
		return 1
	}
	make_image_tar "$tmp/pause.tar" "$pause_image" '["sleep", "infinity"]'
	start_daemon containerd "$tmp/containerd.sock" containerd --config "$tmp/containerd.toml" || return 1
	ctr_k8s images import "$image_tar" >/dev/null || return 1
	ctr_k8s images import "$tmp/pause.tar" >/dev/null || return 1
	# The shim gives the runtime --root ROOT/NAMESPACE.
	runtime_root=$tmp/runc-root/k8s.io
}

e_teardown() {
	local pod name
	for pod in "${pod_ids[@]}"; do cri stopp "$pod"; cri rmp "$pod"; done
	# Whatever a failed call left.
	for name in $(ctr_k8s tasks ls -q); do ctr_k8s tasks rm -f "$name"; done
	for name in $(ctr_k8s containers ls -q); do ctr_k8s containers rm "$name"; done
	stop_daemon containerd
	unmount_under "$tmp"
	remove_created_host_dirs
	remove_created_cgroup_dirs
}

# pod_config FILE NAME UID: a PodSandboxConfig as the kubelet sends it for a
# host-network pod (which needs no CNI): an IPC namespace of its own, a pid
# namespace per container, a cgroup parent of the kubelet's cgroupfs
# layout, a log directory (made first, as the kubelet does) and the
# runtime's default seccomp profile.
pod_config() {
	local file=$1 name=$2 uid=$3
	mkdir -p "$tmp/pods/default_${name}_$uid"
	jq -n --arg name "$name" --arg uid "$uid" --arg logs "$tmp/pods/default_${name}_$uid" \
		--arg parent "/$cgroup_root/burstable/pod$uid" '{
		metadata: {name: $name, uid: $uid, namespace: "default", attempt: 0},
		log_directory: $logs,
		linux: {
			cgroup_parent: $parent,
			security_context: {
				namespace_options: {network: "NODE", pid: "CONTAINER", ipc: "POD"},
				seccomp: {profile_type: "RuntimeDefault"}
			}
		}
	}' >"$file"
}

# container_config FILE NAME MEMORY CMD...: a ContainerConfig of $image
# running CMD with a memory limit, logging to NAME/0.log in the pod's log
# directory (the kubelet's layout), under the runtime's default seccomp
# profile: what the kubelet asks for when a pod's seccompProfile is
# RuntimeDefault (as the restricted Pod Security Standard requires) or
# the kubelet's seccompDefault is on; else CRI means unconfined.
container_config() {
	local file=$1 name=$2 memory=$3 command='[]' arg
	shift 3
	for arg in "$@"; do
		command=$(jq -cn --argjson command "$command" --arg arg "$arg" '$command + [$arg]')
	done
	jq -n --arg name "$name" --arg image "$image" --argjson memory "$memory" \
		--argjson command "$command" '{
		metadata: {name: $name, attempt: 0},
		image: {image: $image},
		command: $command,
		log_path: ($name + "/0.log"),
		linux: {
			resources: {memory_limit_in_bytes: $memory},
			security_context: {
				namespace_options: {network: "NODE", pid: "CONTAINER", ipc: "POD"},
				seccomp: {profile_type: "RuntimeDefault"}
			}
		}
	}' >"$file"
}

# Whether the cgroup directories named after ID are all PARENT/ID (and
# there are some).
cgroups_under() {
	local parent=$1 id=$2 dirs elsewhere
	dirs=$(cgroup_dirs_named "$id")
	elsewhere=$(grep -v "/$parent/$id\$" <<<"$dirs")
	if [ -z "$dirs" ]; then
		echo "no cgroups"
	elif [ -n "$elsewhere" ]; then
		echo "elsewhere: $elsewhere"
	else
		echo under
	fi
}

# The first line of the container's log.
first_log_line() {
	head -n 1 "$1" 2>&1
}

e_checks() {
	local uid pod ctr logs
	check_match "Version: containerd's CRI plugin answers, runtime.v1" 0 "containerd * v1" cri version

	uid=$(cat /proc/sys/kernel/random/uuid)
	pod_config "$tmp/bad-pod.json" "coracle-e2e-$$-bad" "$uid"
	check_error "RunPodSandbox with an unknown handler: refused, naming it" \
		'*no runtime for "no-such-handler" is configured*' \
		cri runp "$tmp/bad-pod.json" no-such-handler

	uid=$(cat /proc/sys/kernel/random/uuid)
	logs=$tmp/pods/default_coracle-e2e-$$_$uid
	pod_config "$tmp/pod.json" "coracle-e2e-$$" "$uid"
	capture cri runp "$tmp/pod.json" coracle
	if [ "$code" != 0 ]; then
		fail "RunPodSandbox (handler coracle): exit $code; stderr: $err"
		return
	fi
	pod=$out
	pod_ids+=("$pod")
	pass "RunPodSandbox (handler coracle)"
	check "PodSandboxStatus: ready, handler coracle" 0 "SANDBOX_READY coracle" cri inspectp "$pod"
	check "the sandbox: coracle holds it, running" 0 "running" runtime_status "$pod"

	# A container that logs, then ends on TERM (`sleep & wait` lets the
	# shell run its trap at once).
	container_config "$tmp/container.json" main 67108864 \
		sh -c 'echo started; trap "exit 0" TERM; while :; do sleep 1 & wait $!; done'
	capture cri create "$pod" "$tmp/pod.json" "$tmp/container.json"
	if [ "$code" != 0 ]; then
		fail "CreateContainer (memory limit 64 MiB): exit $code; stderr: $err"
		return
	fi
	ctr=$out
	pass "CreateContainer (memory limit 64 MiB)"
	check "StartContainer" 0 "" cri start "$ctr"
	check "ContainerStatus: running" 0 "CONTAINER_RUNNING 0" cri inspect "$ctr"
	check "the container: coracle holds it, running" 0 "running" runtime_status "$ctr"
	check "the container's cgroups: under the pod's cgroup parent" 0 "under" \
		cgroups_under "$cgroup_root/burstable/pod$uid" "$ctr"
	check "ExecSync: output and exit code" 3 "hi" cri exec "$ctr" sh -c 'echo hi; exit 3'
	check_match "ExecSync: in the container's own pid namespace" 0 "sh -c echo started*" \
		cri exec "$ctr" sh -c 'tr "\0" " " </proc/1/cmdline'
	check_error "ExecSync of a missing program: the runtime's error reaches the kubelet" \
		"*${coracle:+coracle exec}*/no-such-program*" cri exec "$ctr" /no-such-program
	check "memory_limit_in_bytes 64 MiB: read inside" 0 "67108864" \
		cri exec "$ctr" sh -c "$memory_probe"
	check "seccomp RuntimeDefault: the container's process is filtered" 0 "2" \
		cri exec "$ctr" sh -c "sed -n 's/^Seccomp:\t*//p' /proc/1/status"
	check_match "the container's log: its output, in CRI's format" 0 "* stdout F started" \
		first_log_line "$logs/main/0.log"
	capture cri update "$ctr" 134217728
	[ "$code" = 0 ] || fail "UpdateContainerResources 128 MiB: exit $code; stderr: $err"
	check "UpdateContainerResources 128 MiB: read inside" 0 "134217728" \
		cri exec "$ctr" sh -c "$memory_probe"

	check "StopContainer" 0 "" cri stop "$ctr" 10
	check_match "ContainerStatus: exited on TERM, exit code 0" 0 "CONTAINER_EXITED 0*" cri inspect "$ctr"
	# The shim deletes the container from the runtime once it has exited.
	check_match "StopContainer: coracle says stopped (or has deleted it)" 0 "@(stopped|gone)" \
		runtime_status "$ctr"
	check "RemoveContainer" 0 "" cri rm "$ctr"
	check_error "RemoveContainer: containerd forgets it" "*NOT_FOUND*" cri inspect "$ctr"
	check "RemoveContainer: nothing left (state, cgroups)" 0 "none" nothing_left_of "$ctr"

	check "StopPodSandbox" 0 "" cri stopp "$pod"
	check "PodSandboxStatus: not ready" 0 "SANDBOX_NOTREADY coracle" cri inspectp "$pod"
	check "RemovePodSandbox" 0 "" cri rmp "$pod"
	check_error "RemovePodSandbox: containerd forgets it" "*NOT_FOUND*" cri inspectp "$pod"
	check "RemovePodSandbox: nothing left (state, cgroups)" 0 "none" nothing_left_of "$pod"
}
