# fish completion for coracle(8).
# Generated from crates/coracle/src/table.rs; do not edit.
# Regenerate with: cargo run -p coracle --bin coracle-docs

# Prints the name of the command called $argv[1].
function __coracle_canonical
    switch $argv[1]
        case 'ls'
            echo list
        case '*'
            echo $argv[1]
    end
end

# Succeeds when flag $argv[2] of command $argv[1] ("" for the global flags) takes a value.
function __coracle_takes_value
    switch "$argv[1] $argv[2]"
        case ' --root' ' --log' ' --log-format' ' --cgroup-manager' ' --rootless' 'create -b' 'create --bundle' 'create --pid-file' 'create --console-socket' 'create --preserve-fds' 'run -b' 'run --bundle' 'run --pid-file' 'run --console-socket' 'run --preserve-fds' 'exec -p' 'exec --process' 'exec --console-socket' 'exec --pid-file' 'exec --cwd' 'exec -e' 'exec --env' 'exec -u' 'exec --user' 'exec -g' 'exec --additional-gids' 'exec -c' 'exec --cap' 'exec --preserve-fds' 'exec --process-label' 'exec --apparmor' 'list -f' 'list --format' 'ps -f' 'ps --format' 'update -r' 'update --resources' 'update --blkio-weight' 'update --cpu-period' 'update --cpu-quota' 'update --cpu-share' 'update --cpu-shares' 'update --cpu-rt-period' 'update --cpu-rt-runtime' 'update --cpuset-cpus' 'update --cpuset-mems' 'update --memory' 'update --memory-reservation' 'update --memory-swap' 'update --pids-limit' 'update --l3-cache-schema' 'update --mem-bw-schema' 'events --interval' 'spec -b' 'spec --bundle'
            return 0
        case '*'
            return 1
    end
end

# Prints the position of the argument of command $argv[1] that takes every remaining word.
function __coracle_rest_at
    switch $argv[1]
        case 'exec'
            echo 1
        case 'ps'
            echo 1
    end
end

# Prints the commands, each with a tab and its summary.
function __coracle_commands
    printf '%s\t%s\n' create 'create a container'
    printf '%s\t%s\n' start 'start a created container'
    printf '%s\t%s\n' run 'create and start a container'
    printf '%s\t%s\n' state 'print a container\'s state as JSON'
    printf '%s\t%s\n' kill 'send a signal to a container\'s process'
    printf '%s\t%s\n' delete 'delete a stopped or created container'
    printf '%s\t%s\n' exec 'run a new process in a container'
    printf '%s\t%s\n' list 'list containers'
    printf '%s\t%s\n' ls 'list containers'
    printf '%s\t%s\n' ps 'list a container\'s processes'
    printf '%s\t%s\n' pause 'freeze a container\'s processes'
    printf '%s\t%s\n' resume 'thaw a paused container'
    printf '%s\t%s\n' update 'change a container\'s resource limits'
    printf '%s\t%s\n' events 'print a container\'s events and statistics'
    printf '%s\t%s\n' features 'print the features this runtime supports, as JSON'
    printf '%s\t%s\n' spec 'write a starting config.json'
    printf '%s\t%s\n' checkpoint 'not supported: checkpoint a container'
    printf '%s\t%s\n' restore 'not supported: restore a checkpointed container'
    printf '%s\t%s\n' help 'show help for coracle or a command'
end

# Prints flag $argv[1] as the lookups spell it: -root becomes --root.
function __coracle_long
    if string match -qr -- '^(--.*|-.)$' $argv[1]
        printf '%s\n' $argv[1]
    else
        printf '%s\n' -$argv[1]
    end
end

# Reads the words before the cursor and prints five lines: the command ("-"
# before there is one), how many of its arguments are given, "rest" once its
# last argument takes every word ("-" before), the flag waiting for a value
# ("-" for none), and the value of a --root given before the command. Words
# are compared with `string match`, which no word can be mistaken for an
# operator of.
function __coracle_scan
    set -l words (commandline -opc)
    set -e words[1]
    set -l command -
    set -l count 0
    set -l rest -
    set -l pending -
    set -l root
    set -l ended
    set -l rest_at
    for word in $words
        if not string match -q -- - $pending
            string match -q -- - $command; and string match -q -- --root $pending
            and set root $word
            set pending -
        else if string match -q -- rest $rest
            set count (math $count + 1)
        else if string match -q -- -- $word
            if string match -q -- - $command
                set ended 1
            else
                set rest rest
            end
        else if string match -qr -- '^-.' $word; and test -z "$ended"
            set -l long (__coracle_long $word)
            if string match -q -- '*=*' $long
                string match -q -- - $command; and string match -q -- '--root=*' $long
                and set root (string replace -- --root= '' $long)
            else if __coracle_takes_value (string replace -r -- '^-$' '' $command) $long
                set pending $long
            end
        else if string match -q -- - $command
            set command (__coracle_canonical $word)
            set rest_at (__coracle_rest_at $command)
        else
            set count (math $count + 1)
        end
        string match -q -- - $command; or test "$count" != "$rest_at"; or set rest rest
    end
    printf '%s\n' $command $count $rest $pending "$root"
end

# Succeeds when the flags of command $argv[1] ("-" for the global flags)
# apply to the word under the cursor.
function __coracle_flags_of
    set -l state (__coracle_scan)
    string match -q -- $argv[1] $state[1]; and string match -q -- - $state[3]
end

# Succeeds when the word under the cursor is argument $argv[2] (from 0) of
# command $argv[1] ("-" for the command itself).
function __coracle_arg
    set -l state (__coracle_scan)
    string match -q -- $argv[1] $state[1]; and string match -q -- - $state[4]
    and test $state[2] = $argv[2]
end

# Succeeds when the word under the cursor belongs to the argument of command
# $argv[1] that starts at $argv[2] and takes every remaining word.
function __coracle_arg_from
    set -l state (__coracle_scan)
    string match -q -- $argv[1] $state[1]; and string match -q -- - $state[4]
    and test $state[2] -ge $argv[2]
end

# Prints the ids of the containers under the state root given on the line.
function __coracle_container_ids
    set -l state (__coracle_scan)
    set -l program (commandline -opc)[1]
    set -l root
    test -n "$state[5]"; and set root --root $state[5]
    $program $root list -q 2>/dev/null
end

complete -c coracle -f
complete -c coracle -n '__coracle_flags_of -' -l root -x -a '(__fish_complete_directories)' -d 'directory holding the containers\' state'
complete -c coracle -n '__coracle_flags_of -' -l log -r -F -d 'append log lines and errors to FILE (default: stderr)'
complete -c coracle -n '__coracle_flags_of -' -l log-format -x -a 'text json' -d 'format of the log lines'
complete -c coracle -n '__coracle_flags_of -' -l debug -d 'log the time each phase of the command takes'
complete -c coracle -n '__coracle_flags_of -' -l systemd-cgroup -d 'manage cgroups through systemd'
complete -c coracle -n '__coracle_flags_of -' -l cgroup-manager -x -a 'cgroupfs systemd' -d 'cgroup manager; systemd is --systemd-cgroup'
complete -c coracle -n '__coracle_flags_of -' -l rootless -x -a 'true false auto' -d 'accepted for compatibility; ignored'
complete -c coracle -n '__coracle_flags_of -' -s v -l version -d 'print the version'
complete -c coracle -n '__coracle_flags_of -' -s h -l help -d 'show this help'
complete -c coracle -n '__coracle_arg - 0' -a '(__coracle_commands)'
complete -c coracle -n '__coracle_flags_of create' -s b -l bundle -x -a '(__fish_complete_directories)' -d 'the bundle directory (default: current directory)'
complete -c coracle -n '__coracle_flags_of create' -l pid-file -r -F -d 'write the process\'s pid to FILE'
complete -c coracle -n '__coracle_flags_of create' -l console-socket -r -F -d 'send the terminal\'s master fd to this unix socket'
complete -c coracle -n '__coracle_flags_of create' -l no-pivot -d 'use chroot rather than pivot_root (for a ramdisk root)'
complete -c coracle -n '__coracle_flags_of create' -l no-new-keyring -d 'keep the caller\'s session keyring'
complete -c coracle -n '__coracle_flags_of create' -l preserve-fds -x -d 'pass N file descriptors after stderr (3…) to the process'
complete -c coracle -n '__coracle_flags_of create' -s h -l help -d 'show this help'
complete -c coracle -n '__coracle_flags_of start' -s h -l help -d 'show this help'
complete -c coracle -n '__coracle_arg start 0' -a '(__coracle_container_ids)'
complete -c coracle -n '__coracle_flags_of run' -s b -l bundle -x -a '(__fish_complete_directories)' -d 'the bundle directory (default: current directory)'
complete -c coracle -n '__coracle_flags_of run' -l pid-file -r -F -d 'write the process\'s pid to FILE'
complete -c coracle -n '__coracle_flags_of run' -l console-socket -r -F -d 'send the terminal\'s master fd to this unix socket'
complete -c coracle -n '__coracle_flags_of run' -l no-pivot -d 'use chroot rather than pivot_root (for a ramdisk root)'
complete -c coracle -n '__coracle_flags_of run' -l no-new-keyring -d 'keep the caller\'s session keyring'
complete -c coracle -n '__coracle_flags_of run' -l preserve-fds -x -d 'pass N file descriptors after stderr (3…) to the process'
complete -c coracle -n '__coracle_flags_of run' -s d -l detach -d 'return once the process is started'
complete -c coracle -n '__coracle_flags_of run' -l keep -d 'do not delete the container after it exits'
complete -c coracle -n '__coracle_flags_of run' -s h -l help -d 'show this help'
complete -c coracle -n '__coracle_flags_of state' -s h -l help -d 'show this help'
complete -c coracle -n '__coracle_arg state 0' -a '(__coracle_container_ids)'
complete -c coracle -n '__coracle_flags_of kill' -s a -l all -d 'signal every process in the container'
complete -c coracle -n '__coracle_flags_of kill' -s h -l help -d 'show this help'
complete -c coracle -n '__coracle_arg kill 0' -a '(__coracle_container_ids)'
complete -c coracle -n '__coracle_flags_of delete' -s f -l force -d 'kill the container first if it still runs'
complete -c coracle -n '__coracle_flags_of delete' -s h -l help -d 'show this help'
complete -c coracle -n '__coracle_arg delete 0' -a '(__coracle_container_ids)'
complete -c coracle -n '__coracle_flags_of exec' -s p -l process -r -F -d 'process.json describing the process'
complete -c coracle -n '__coracle_flags_of exec' -s t -l tty -d 'attach a new terminal'
complete -c coracle -n '__coracle_flags_of exec' -l console-socket -r -F -d 'send the terminal\'s master fd to this unix socket'
complete -c coracle -n '__coracle_flags_of exec' -s d -l detach -d 'return once the process is started'
complete -c coracle -n '__coracle_flags_of exec' -l pid-file -r -F -d 'write the process\'s pid to FILE'
complete -c coracle -n '__coracle_flags_of exec' -l cwd -x -a '(__fish_complete_directories)' -d 'working directory in the container'
complete -c coracle -n '__coracle_flags_of exec' -s e -l env -x -d 'set an environment variable'
complete -c coracle -n '__coracle_flags_of exec' -s u -l user -x -d 'user and group ids to run as'
complete -c coracle -n '__coracle_flags_of exec' -s g -l additional-gids -x -d 'add a supplementary group'
complete -c coracle -n '__coracle_flags_of exec' -s c -l cap -x -d 'add a capability'
complete -c coracle -n '__coracle_flags_of exec' -l no-new-privs -d 'set no_new_privileges'
complete -c coracle -n '__coracle_flags_of exec' -l preserve-fds -x -d 'pass N file descriptors after stderr (3…) to the process'
complete -c coracle -n '__coracle_flags_of exec' -l process-label -x -d 'SELinux label of the process'
complete -c coracle -n '__coracle_flags_of exec' -l apparmor -x -d 'AppArmor profile of the process'
complete -c coracle -n '__coracle_flags_of exec' -s h -l help -d 'show this help'
complete -c coracle -n '__coracle_arg exec 0' -a '(__coracle_container_ids)'
complete -c coracle -n '__coracle_flags_of list' -s f -l format -x -a 'table json' -d 'output format'
complete -c coracle -n '__coracle_flags_of list' -s q -l quiet -d 'print only the container ids'
complete -c coracle -n '__coracle_flags_of list' -s h -l help -d 'show this help'
complete -c coracle -n '__coracle_flags_of ps' -s f -l format -x -a 'table json' -d 'output format'
complete -c coracle -n '__coracle_flags_of ps' -s h -l help -d 'show this help'
complete -c coracle -n '__coracle_arg ps 0' -a '(__coracle_container_ids)'
complete -c coracle -n '__coracle_flags_of pause' -s h -l help -d 'show this help'
complete -c coracle -n '__coracle_arg pause 0' -a '(__coracle_container_ids)'
complete -c coracle -n '__coracle_flags_of resume' -s h -l help -d 'show this help'
complete -c coracle -n '__coracle_arg resume 0' -a '(__coracle_container_ids)'
complete -c coracle -n '__coracle_flags_of update' -s r -l resources -r -F -d 'linux.resources JSON; \'-\' reads stdin'
complete -c coracle -n '__coracle_flags_of update' -l blkio-weight -x -d 'block I/O weight, 10 to 1000'
complete -c coracle -n '__coracle_flags_of update' -l cpu-period -x -d 'CPU CFS period'
complete -c coracle -n '__coracle_flags_of update' -l cpu-quota -x -d 'CPU CFS quota per period'
complete -c coracle -n '__coracle_flags_of update' -l cpu-share -x -d 'relative CPU share'
complete -c coracle -n '__coracle_flags_of update' -l cpu-shares -x -d 'the same as --cpu-share'
complete -c coracle -n '__coracle_flags_of update' -l cpu-rt-period -x -d 'real-time period'
complete -c coracle -n '__coracle_flags_of update' -l cpu-rt-runtime -x -d 'real-time runtime per period'
complete -c coracle -n '__coracle_flags_of update' -l cpuset-cpus -x -d 'CPUs to run on (0-3,5)'
complete -c coracle -n '__coracle_flags_of update' -l cpuset-mems -x -d 'memory nodes to use'
complete -c coracle -n '__coracle_flags_of update' -l memory -x -d 'memory limit (512k, 64m, 2g…; -1: none)'
complete -c coracle -n '__coracle_flags_of update' -l memory-reservation -x -d 'memory soft limit'
complete -c coracle -n '__coracle_flags_of update' -l memory-swap -x -d 'memory plus swap limit'
complete -c coracle -n '__coracle_flags_of update' -l pids-limit -x -d 'maximum number of processes (-1: none)'
complete -c coracle -n '__coracle_flags_of update' -l l3-cache-schema -x -d 'Intel RDT L3 cache schema'
complete -c coracle -n '__coracle_flags_of update' -l mem-bw-schema -x -d 'Intel RDT memory bandwidth schema'
complete -c coracle -n '__coracle_flags_of update' -s h -l help -d 'show this help'
complete -c coracle -n '__coracle_arg update 0' -a '(__coracle_container_ids)'
complete -c coracle -n '__coracle_flags_of events' -l interval -x -d 'time between statistics (500ms, 5s, 1m…)'
complete -c coracle -n '__coracle_flags_of events' -l stats -d 'print statistics once and exit'
complete -c coracle -n '__coracle_flags_of events' -s h -l help -d 'show this help'
complete -c coracle -n '__coracle_arg events 0' -a '(__coracle_container_ids)'
complete -c coracle -n '__coracle_flags_of features' -s h -l help -d 'show this help'
complete -c coracle -n '__coracle_flags_of spec' -s b -l bundle -x -a '(__fish_complete_directories)' -d 'the bundle directory (default: current directory)'
complete -c coracle -n '__coracle_flags_of spec' -l rootless -d 'make it runnable by an unprivileged user'
complete -c coracle -n '__coracle_flags_of spec' -s h -l help -d 'show this help'
complete -c coracle -n '__coracle_flags_of checkpoint' -s h -l help -d 'show this help'
complete -c coracle -n '__coracle_flags_of restore' -s h -l help -d 'show this help'
complete -c coracle -n '__coracle_flags_of help' -s h -l help -d 'show this help'
complete -c coracle -n '__coracle_arg help 0' -a '(__coracle_commands)'
