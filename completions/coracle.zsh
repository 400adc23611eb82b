#compdef coracle
# zsh completion for coracle(8).
# Generated from crates/coracle/src/table.rs; do not edit.
# Regenerate with: cargo run -p coracle --bin coracle-docs

# Offers the ids of the containers under the state root named on the line.
_coracle_container_ids() {
	local -a ids
	ids=(${(f)"$(_call_program container-ids ${(q)_coracle_program} ${(q)_coracle_root[@]} list -q 2>/dev/null)"})
	_wanted container-ids expl 'container id' compadd -a ids
}

# Offers coracle's commands.
_coracle_commands() {
	local -a commands
	commands=(
		'create:create a container'
		'start:start a created container'
		'run:create and start a container'
		'state:print a container'\''s state as JSON'
		'kill:send a signal to a container'\''s process'
		'delete:delete a stopped or created container'
		'exec:run a new process in a container'
		'list:list containers'
		'ls:list containers'
		'ps:list a container'\''s processes'
		'pause:freeze a container'\''s processes'
		'resume:thaw a paused container'
		'update:change a container'\''s resource limits'
		'events:print a container'\''s events and statistics'
		'features:print the features this runtime supports, as JSON'
		'spec:write a starting config.json'
		'checkpoint:not supported\: checkpoint a container'
		'restore:not supported\: restore a checkpointed container'
		'help:show help for coracle or a command'
	)
	_describe -t commands 'coracle command' commands
}

# Completes the words after 'coracle create'.
_coracle_cmd_create() {
	_arguments -S \
		'(-b --bundle)-b+[the bundle directory (default: current directory)]:DIR:_files -/' \
		'(-b --bundle)--bundle=[the bundle directory (default: current directory)]:DIR:_files -/' \
		'--pid-file=[write the process'\''s pid to FILE]:FILE:_files' \
		'--console-socket=[send the terminal'\''s master fd to this unix socket]:SOCKET:_files' \
		'--no-pivot[use chroot rather than pivot_root (for a ramdisk root)]' \
		'--no-new-keyring[keep the caller'\''s session keyring]' \
		'--preserve-fds=[pass N file descriptors after stderr (3…) to the process]:N: ' \
		'(- : *)-h[show this help]' \
		'(- : *)--help[show this help]' \
		'1:container-id:_nothing'
}

# Completes the words after 'coracle start'.
_coracle_cmd_start() {
	_arguments -S \
		'(- : *)-h[show this help]' \
		'(- : *)--help[show this help]' \
		'1:container-id:_coracle_container_ids'
}

# Completes the words after 'coracle run'.
_coracle_cmd_run() {
	_arguments -S \
		'(-b --bundle)-b+[the bundle directory (default: current directory)]:DIR:_files -/' \
		'(-b --bundle)--bundle=[the bundle directory (default: current directory)]:DIR:_files -/' \
		'--pid-file=[write the process'\''s pid to FILE]:FILE:_files' \
		'--console-socket=[send the terminal'\''s master fd to this unix socket]:SOCKET:_files' \
		'--no-pivot[use chroot rather than pivot_root (for a ramdisk root)]' \
		'--no-new-keyring[keep the caller'\''s session keyring]' \
		'--preserve-fds=[pass N file descriptors after stderr (3…) to the process]:N: ' \
		'(-d --detach)-d[return once the process is started]' \
		'(-d --detach)--detach[return once the process is started]' \
		'--keep[do not delete the container after it exits]' \
		'(- : *)-h[show this help]' \
		'(- : *)--help[show this help]' \
		'1:container-id:_nothing'
}

# Completes the words after 'coracle state'.
_coracle_cmd_state() {
	_arguments -S \
		'(- : *)-h[show this help]' \
		'(- : *)--help[show this help]' \
		'1:container-id:_coracle_container_ids'
}

# Completes the words after 'coracle kill'.
_coracle_cmd_kill() {
	_arguments -S \
		'(-a --all)-a[signal every process in the container]' \
		'(-a --all)--all[signal every process in the container]' \
		'(- : *)-h[show this help]' \
		'(- : *)--help[show this help]' \
		'1:container-id:_coracle_container_ids' \
		'2::signal:_nothing'
}

# Completes the words after 'coracle delete'.
_coracle_cmd_delete() {
	_arguments -S \
		'(-f --force)-f[kill the container first if it still runs]' \
		'(-f --force)--force[kill the container first if it still runs]' \
		'(- : *)-h[show this help]' \
		'(- : *)--help[show this help]' \
		'1:container-id:_coracle_container_ids'
}

# Completes the words after 'coracle exec'.
_coracle_cmd_exec() {
	_arguments -S \
		'(-p --process)-p+[process.json describing the process]:FILE:_files' \
		'(-p --process)--process=[process.json describing the process]:FILE:_files' \
		'(-t --tty)-t[attach a new terminal]' \
		'(-t --tty)--tty[attach a new terminal]' \
		'--console-socket=[send the terminal'\''s master fd to this unix socket]:SOCKET:_files' \
		'(-d --detach)-d[return once the process is started]' \
		'(-d --detach)--detach[return once the process is started]' \
		'--pid-file=[write the process'\''s pid to FILE]:FILE:_files' \
		'--cwd=[working directory in the container]:DIR:_files -/' \
		'*-e+[set an environment variable]:KEY=VALUE: ' \
		'*--env=[set an environment variable]:KEY=VALUE: ' \
		'(-u --user)-u+[user and group ids to run as]:UID[\:GID]: ' \
		'(-u --user)--user=[user and group ids to run as]:UID[\:GID]: ' \
		'*-g+[add a supplementary group]:GID: ' \
		'*--additional-gids=[add a supplementary group]:GID: ' \
		'*-c+[add a capability]:CAP: ' \
		'*--cap=[add a capability]:CAP: ' \
		'--no-new-privs[set no_new_privileges]' \
		'--preserve-fds=[pass N file descriptors after stderr (3…) to the process]:N: ' \
		'--process-label=[SELinux label of the process]:LABEL: ' \
		'--apparmor=[AppArmor profile of the process]:PROFILE: ' \
		'(- : *)-h[show this help]' \
		'(- : *)--help[show this help]' \
		'1:container-id:_coracle_container_ids' \
		'*:command:_nothing'
}

# Completes the words after 'coracle list'.
_coracle_cmd_list() {
	_arguments -S \
		'(-f --format)-f+[output format]:FORMAT:(table json)' \
		'(-f --format)--format=[output format]:FORMAT:(table json)' \
		'(-q --quiet)-q[print only the container ids]' \
		'(-q --quiet)--quiet[print only the container ids]' \
		'(- : *)-h[show this help]' \
		'(- : *)--help[show this help]'
}

# Completes the words after 'coracle ps'.
_coracle_cmd_ps() {
	_arguments -S \
		'(-f --format)-f+[output format]:FORMAT:(table json)' \
		'(-f --format)--format=[output format]:FORMAT:(table json)' \
		'(- : *)-h[show this help]' \
		'(- : *)--help[show this help]' \
		'1:container-id:_coracle_container_ids' \
		'*:ps-args:_nothing'
}

# Completes the words after 'coracle pause'.
_coracle_cmd_pause() {
	_arguments -S \
		'(- : *)-h[show this help]' \
		'(- : *)--help[show this help]' \
		'1:container-id:_coracle_container_ids'
}

# Completes the words after 'coracle resume'.
_coracle_cmd_resume() {
	_arguments -S \
		'(- : *)-h[show this help]' \
		'(- : *)--help[show this help]' \
		'1:container-id:_coracle_container_ids'
}

# Completes the words after 'coracle update'.
_coracle_cmd_update() {
	_arguments -S \
		'(-r --resources)-r+[linux.resources JSON; '\''-'\'' reads stdin]:FILE:_files' \
		'(-r --resources)--resources=[linux.resources JSON; '\''-'\'' reads stdin]:FILE:_files' \
		'--blkio-weight=[block I/O weight, 10 to 1000]:WEIGHT: ' \
		'--cpu-period=[CPU CFS period]:USEC: ' \
		'--cpu-quota=[CPU CFS quota per period]:USEC: ' \
		'--cpu-share=[relative CPU share]:SHARES: ' \
		'--cpu-shares=[the same as --cpu-share]:SHARES: ' \
		'--cpu-rt-period=[real-time period]:USEC: ' \
		'--cpu-rt-runtime=[real-time runtime per period]:USEC: ' \
		'--cpuset-cpus=[CPUs to run on (0-3,5)]:CPUS: ' \
		'--cpuset-mems=[memory nodes to use]:NODES: ' \
		'--memory=[memory limit (512k, 64m, 2g…; -1: none)]:BYTES: ' \
		'--memory-reservation=[memory soft limit]:BYTES: ' \
		'--memory-swap=[memory plus swap limit]:BYTES: ' \
		'--pids-limit=[maximum number of processes (-1: none)]:N: ' \
		'--l3-cache-schema=[Intel RDT L3 cache schema]:SCHEMA: ' \
		'--mem-bw-schema=[Intel RDT memory bandwidth schema]:SCHEMA: ' \
		'(- : *)-h[show this help]' \
		'(- : *)--help[show this help]' \
		'1:container-id:_coracle_container_ids'
}

# Completes the words after 'coracle events'.
_coracle_cmd_events() {
	_arguments -S \
		'--interval=[time between statistics (500ms, 5s, 1m…)]:DURATION: ' \
		'--stats[print statistics once and exit]' \
		'(- : *)-h[show this help]' \
		'(- : *)--help[show this help]' \
		'1:container-id:_coracle_container_ids'
}

# Completes the words after 'coracle features'.
_coracle_cmd_features() {
	_arguments -S \
		'(- : *)-h[show this help]' \
		'(- : *)--help[show this help]'
}

# Completes the words after 'coracle spec'.
_coracle_cmd_spec() {
	_arguments -S \
		'(-b --bundle)-b+[the bundle directory (default: current directory)]:DIR:_files -/' \
		'(-b --bundle)--bundle=[the bundle directory (default: current directory)]:DIR:_files -/' \
		'--rootless[make it runnable by an unprivileged user]' \
		'(- : *)-h[show this help]' \
		'(- : *)--help[show this help]'
}

# Completes the words after 'coracle checkpoint'.
_coracle_cmd_checkpoint() {
	_arguments -S \
		'(- : *)-h[show this help]' \
		'(- : *)--help[show this help]' \
		'*:argument:_nothing'
}

# Completes the words after 'coracle restore'.
_coracle_cmd_restore() {
	_arguments -S \
		'(- : *)-h[show this help]' \
		'(- : *)--help[show this help]' \
		'*:argument:_nothing'
}

# Completes the words after 'coracle help'.
_coracle_cmd_help() {
	_arguments -S \
		'(- : *)-h[show this help]' \
		'(- : *)--help[show this help]' \
		'1::command:_coracle_commands'
}

# Completes a coracle command line.
_coracle() {
	local curcontext=$curcontext state state_descr line ret=1
	local _coracle_program=$words[1]
	local -a _coracle_root
	typeset -A opt_args
	_arguments -S \
		'--root=[directory holding the containers'\'' state]:DIR:_files -/' \
		'--log=[append log lines and errors to FILE (default: stderr)]:FILE:_files' \
		'--log-format=[format of the log lines]:FORMAT:(text json)' \
		'--debug[log the time each phase of the command takes]' \
		'--systemd-cgroup[manage cgroups through systemd]' \
		'--cgroup-manager=[cgroup manager; systemd is --systemd-cgroup]:MANAGER:(cgroupfs systemd)' \
		'--rootless=[accepted for compatibility; ignored]:VALUE:(true false auto)' \
		'(- : *)-v[print the version]' \
		'(- : *)--version[print the version]' \
		'(- : *)-h[show this help]' \
		'(- : *)--help[show this help]' \
		'1:command:_coracle_commands' \
		'*:: :->command' && ret=0
	if [[ $state == command ]]; then
		(( $+opt_args[--root] )) && _coracle_root=(--root "${(Q)opt_args[--root]}")
		curcontext=${curcontext%:*:*}:coracle-$words[1]:
		case $words[1] in
		create) _coracle_cmd_create && ret=0 ;;
		start) _coracle_cmd_start && ret=0 ;;
		run) _coracle_cmd_run && ret=0 ;;
		state) _coracle_cmd_state && ret=0 ;;
		kill) _coracle_cmd_kill && ret=0 ;;
		delete) _coracle_cmd_delete && ret=0 ;;
		exec) _coracle_cmd_exec && ret=0 ;;
		list | ls) _coracle_cmd_list && ret=0 ;;
		ps) _coracle_cmd_ps && ret=0 ;;
		pause) _coracle_cmd_pause && ret=0 ;;
		resume) _coracle_cmd_resume && ret=0 ;;
		update) _coracle_cmd_update && ret=0 ;;
		events) _coracle_cmd_events && ret=0 ;;
		features) _coracle_cmd_features && ret=0 ;;
		spec) _coracle_cmd_spec && ret=0 ;;
		checkpoint) _coracle_cmd_checkpoint && ret=0 ;;
		restore) _coracle_cmd_restore && ret=0 ;;
		help) _coracle_cmd_help && ret=0 ;;
		esac
	fi
	return ret
}

_coracle "$@"
