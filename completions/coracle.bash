# bash completion for coracle(8).
# Generated from crates/coracle/src/table.rs; do not edit.
# Regenerate with: cargo run -p coracle --bin coracle-docs

_coracle_command_names='create start run state kill delete exec list ls ps pause resume update events features spec checkpoint restore help'

# Prints the name of the command called $1.
_coracle_canonical() {
	case $1 in
	ls) echo list ;;
	*) printf '%s\n' "$1" ;;
	esac
}

# Prints the flags of command $1 ("" for the global flags).
_coracle_flags() {
	case $1 in
	'') echo '--root --log --log-format --debug --systemd-cgroup --cgroup-manager --rootless -v --version -h --help' ;;
	'create') echo '-b --bundle --pid-file --console-socket --no-pivot --no-new-keyring --preserve-fds -h --help' ;;
	'start') echo '-h --help' ;;
	'run') echo '-b --bundle --pid-file --console-socket --no-pivot --no-new-keyring --preserve-fds -d --detach --keep -h --help' ;;
	'state') echo '-h --help' ;;
	'kill') echo '-a --all -h --help' ;;
	'delete') echo '-f --force -h --help' ;;
	'exec') echo '-p --process -t --tty --console-socket -d --detach --pid-file --cwd -e --env -u --user -g --additional-gids -c --cap --no-new-privs --preserve-fds --process-label --apparmor -h --help' ;;
	'list') echo '-f --format -q --quiet -h --help' ;;
	'ps') echo '-f --format -h --help' ;;
	'pause') echo '-h --help' ;;
	'resume') echo '-h --help' ;;
	'update') echo '-r --resources --blkio-weight --cpu-period --cpu-quota --cpu-share --cpu-shares --cpu-rt-period --cpu-rt-runtime --cpuset-cpus --cpuset-mems --memory --memory-reservation --memory-swap --pids-limit --l3-cache-schema --mem-bw-schema -h --help' ;;
	'events') echo '--interval --stats -h --help' ;;
	'features') echo '-h --help' ;;
	'spec') echo '-b --bundle --rootless -h --help' ;;
	'checkpoint') echo '-h --help' ;;
	'restore') echo '-h --help' ;;
	'help') echo '-h --help' ;;
	esac
}

# Succeeds when flag $2 of command $1 takes a value.
_coracle_takes_value() {
	case "$1 $2" in
	' --root' | ' --log' | ' --log-format' | ' --cgroup-manager' | ' --rootless' | 'create -b' | 'create --bundle' | 'create --pid-file' | 'create --console-socket' | 'create --preserve-fds' | 'run -b' | 'run --bundle' | 'run --pid-file' | 'run --console-socket' | 'run --preserve-fds' | 'exec -p' | 'exec --process' | 'exec --console-socket' | 'exec --pid-file' | 'exec --cwd' | 'exec -e' | 'exec --env' | 'exec -u' | 'exec --user' | 'exec -g' | 'exec --additional-gids' | 'exec -c' | 'exec --cap' | 'exec --preserve-fds' | 'exec --process-label' | 'exec --apparmor' | 'list -f' | 'list --format' | 'ps -f' | 'ps --format' | 'update -r' | 'update --resources' | 'update --blkio-weight' | 'update --cpu-period' | 'update --cpu-quota' | 'update --cpu-share' | 'update --cpu-shares' | 'update --cpu-rt-period' | 'update --cpu-rt-runtime' | 'update --cpuset-cpus' | 'update --cpuset-mems' | 'update --memory' | 'update --memory-reservation' | 'update --memory-swap' | 'update --pids-limit' | 'update --l3-cache-schema' | 'update --mem-bw-schema' | 'events --interval' | 'spec -b' | 'spec --bundle') return 0 ;;
	*) return 1 ;;
	esac
}

# Offers the values of flag $2 of command $1 that start with $3.
_coracle_value() {
	case "$1 $2" in
	' --root') _coracle_dirs "$3" ;;
	' --log') _coracle_files "$3" ;;
	' --log-format') _coracle_words 'text json' "$3" ;;
	' --cgroup-manager') _coracle_words 'cgroupfs systemd' "$3" ;;
	' --rootless') _coracle_words 'true false auto' "$3" ;;
	'create -b' | 'create --bundle') _coracle_dirs "$3" ;;
	'create --pid-file') _coracle_files "$3" ;;
	'create --console-socket') _coracle_files "$3" ;;
	'run -b' | 'run --bundle') _coracle_dirs "$3" ;;
	'run --pid-file') _coracle_files "$3" ;;
	'run --console-socket') _coracle_files "$3" ;;
	'exec -p' | 'exec --process') _coracle_files "$3" ;;
	'exec --console-socket') _coracle_files "$3" ;;
	'exec --pid-file') _coracle_files "$3" ;;
	'exec --cwd') _coracle_dirs "$3" ;;
	'list -f' | 'list --format') _coracle_words 'table json' "$3" ;;
	'ps -f' | 'ps --format') _coracle_words 'table json' "$3" ;;
	'update -r' | 'update --resources') _coracle_files "$3" ;;
	'spec -b' | 'spec --bundle') _coracle_dirs "$3" ;;
	esac
}

# Prints the position of the argument of command $1 that takes every remaining word.
_coracle_rest_at() {
	case $1 in
	exec) echo 1 ;;
	ps) echo 1 ;;
	esac
}

# Prints what argument $2 (from 0) of command $1 is: id or command.
_coracle_arg_kind() {
	case "$1 $2" in
	'start 0') echo id ;;
	'state 0') echo id ;;
	'kill 0') echo id ;;
	'delete 0') echo id ;;
	'exec 0') echo id ;;
	'ps 0') echo id ;;
	'pause 0') echo id ;;
	'resume 0') echo id ;;
	'update 0') echo id ;;
	'events 0') echo id ;;
	'help 0') echo command ;;
	esac
}

# Offers the words of $1 that start with $2.
_coracle_words() {
	mapfile -t COMPREPLY < <(compgen -W "$1" -- "$2")
}

# Offers the files whose names start with $1.
_coracle_files() {
	compopt -o filenames 2>/dev/null
	mapfile -t COMPREPLY < <(compgen -f -- "$1")
}

# Offers the directories whose names start with $1.
_coracle_dirs() {
	compopt -o filenames 2>/dev/null
	mapfile -t COMPREPLY < <(compgen -d -- "$1")
}

# Prints flag $1 as the lookups spell it: -root becomes --root.
_coracle_long() {
	case $1 in
	--* | -?) printf '%s\n' "$1" ;;
	*) printf '%s\n' "-$1" ;;
	esac
}

# Reads COMP_WORDS[1] up to COMP_WORDS[$1] (excluded) into the caller's
# command, count (its arguments so far), rest (set once its last argument
# takes every word), pending (a flag still waiting for its value) and root
# (the --root option to pass on to `coracle list`).
_coracle_scan() {
	local i word ended='' rest_at=''
	for ((i = 1; i < $1; i++)); do
		word=${COMP_WORDS[i]}
		if [[ ${COMP_WORDS[i + 1]} == = ]] && ((i + 2 < $1)); then
			word+="=${COMP_WORDS[i + 2]}"
			((i += 2))
		fi
		if [[ -n $pending ]]; then
			[[ -z $command && $pending == --root ]] && root=(--root "$word")
			pending=''
		elif [[ -n $rest ]]; then
			((count++))
		elif [[ $word == -- ]]; then
			if [[ -n $command ]]; then rest=1; else ended=1; fi
		elif [[ $word == -?* && -z $ended ]]; then
			word=$(_coracle_long "$word")
			if [[ $word == *=* ]]; then
				[[ -z $command && ${word%%=*} == --root ]] && root=(--root "${word#*=}")
			elif _coracle_takes_value "$command" "$word"; then
				pending=$word
			fi
		elif [[ -z $command ]]; then
			command=$(_coracle_canonical "$word")
			rest_at=$(_coracle_rest_at "$command")
		else
			((count++))
		fi
		[[ -n $command && $count == "$rest_at" ]] && rest=1
	done
}

# Completes COMP_WORDS[COMP_CWORD], the word under the cursor.
_coracle() {
	local cur=${COMP_WORDS[COMP_CWORD]} end=$COMP_CWORD flag='' keep=''
	# bash splits --flag=value into three words: --flag, = and value.
	if [[ $cur == = ]]; then
		end=$((COMP_CWORD - 1)) cur=''
	elif [[ ${COMP_WORDS[COMP_CWORD - 1]} == = ]]; then
		end=$((COMP_CWORD - 2))
	elif [[ $cur == -*=* ]]; then
		flag=${cur%%=*} keep=${cur%%=*}= cur=${cur#*=}
	fi
	COMPREPLY=()
	if ((end < COMP_CWORD)); then
		flag=${COMP_WORDS[end]}
		[[ $flag == -?* ]] || return 0
	fi
	local command='' count=0 rest='' pending=''
	local -a root=()
	_coracle_scan "$end"
	[[ -z $flag ]] && flag=$pending
	if [[ -n $flag ]]; then
		_coracle_value "$command" "$(_coracle_long "$flag")" "$cur"
		[[ -n $keep ]] && COMPREPLY=("${COMPREPLY[@]/#/$keep}")
	elif [[ -z $rest && $cur == -* ]]; then
		_coracle_words "$(_coracle_flags "$command")" "$cur"
	elif [[ -z $command ]]; then
		_coracle_words "$_coracle_command_names" "$cur"
	else
		case $(_coracle_arg_kind "$command" "$count") in
		id) _coracle_words "$("${COMP_WORDS[0]}" "${root[@]}" list -q 2>/dev/null)" "$cur" ;;
		command) _coracle_words "$_coracle_command_names" "$cur" ;;
		esac
	fi
	return 0
}

complete -F _coracle coracle
