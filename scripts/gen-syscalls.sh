#!/bin/sh
# Regenerates coracle's seccomp syscall tables (name -> number, one file per
# architecture) from libseccomp and the kernel's uapi headers, which are used
# at development time only.
#
# Names: every syscall name libseccomp knows (the __SNR_ macros of its
# header), resolved for each architecture with scmp_sys_resolver, plus every
# __NR_ name of the kernel headers that libseccomp does not know (the calls
# newer than libseccomp). Names that do not exist on an architecture resolve
# to a negative pseudo-number and are left out of that table. x32 numbers
# carry __X32_SYSCALL_BIT. A name both sources know must get the same number
# from both, or the script fails.
#
# Numbers above LAST_NR are left out: they are the syscalls newer than the
# kernel the tables describe, which must keep answering ENOSYS (so that a
# newer libc falls back) instead of a profile's default action.
#
# On x86 libseccomp resolves the socket and SysV IPC calls to pseudo-numbers
# (-101..-224) because they were once reachable only through socketcall(2)
# and ipc(2); when it adds a rule it filters their direct syscalls too, so
# the table takes those numbers from the kernel's unistd_32.h. The x86 file
# also gets the call numbers of the two multiplexers (SYS_* of linux/net.h,
# the IPC calls of linux/ipc.h), which a rule on such a call covers too.
#
# The headers: HEADERS (default /usr/include) must hold asm/unistd_{64,32,x32}.h
# and linux/{net,ipc}.h of at least that kernel. Debian 12's own are older;
# a newer linux-libc-dev unpacked into /tmp does, e.g. from trixie-backports
# (a private apt source list, so that the host's stays as it is):
#   echo 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie-backports main' >/tmp/apt/sources.list
#   apt-get -o Dir::Etc::SourceList=/tmp/apt/sources.list -o Dir::Etc::SourceParts=/dev/null \
#       -o Dir::State::Lists=/tmp/apt/lists -o Dir::Cache=/tmp/apt/cache update  (and then download)
#   dpkg-deb -x linux-libc-dev_*.deb /tmp/libc-dev && HEADERS=/tmp/libc-dev/usr/include scripts/gen-syscalls.sh
#
# Needs the Debian packages libseccomp-dev (the header) and seccomp
# (scmp_sys_resolver). Run from anywhere; rewrites
# crates/libcoracle/src/seccomp/syscalls/{x86_64,x86,x32}.rs.
set -eu

# file_setattr: the last syscall of Linux 6.17 and 6.18 (listns, 470, came
# with 6.19).
LAST_NR=469
LAST_KERNEL=6.18

header=/usr/include/seccomp-syscalls.h
headers=${HEADERS:-/usr/include}
asm="$headers/x86_64-linux-gnu/asm"
out_dir="$(cd "$(dirname "$0")/.." && pwd)/crates/libcoracle/src/seccomp/syscalls"
version="$(dpkg-query -W -f '${Version}' libseccomp2 2>/dev/null || echo unknown)"
names="$(grep -o '#define __SNR_[A-Za-z0-9_]*' "$header" | sed 's/#define __SNR_//' | LC_ALL=C sort -u)"

# "name number" for every __NR_ macro of a unistd header; x32's numbers are
# written (__X32_SYSCALL_BIT + N).
header_pairs() {
    awk '$1 == "#define" && $2 ~ /^__NR_/ {
        name = substr($2, 6); nr = $0
        sub(/^[^ ]+ +[^ ]+ +/, "", nr); gsub(/[()]/, "", nr)
        if (nr ~ /^__X32_SYSCALL_BIT \+ [0-9]+$/) { split(nr, w, " "); nr = 1073741824 + w[3] }
        if (nr ~ /^[0-9]+$/) print name, nr
    }' "$1"
}

# The number of NAME in a "name number" list, or nothing.
lookup() { awk -v n="$1" '$1 == n { print $2 }'; }

# "name number" pairs of one architecture: libseccomp's, then the header's
# names libseccomp lacks, numbers above LAST_NR left out.
arch_pairs() {
    arch=$1 kernel="$(header_pairs "$2")" base=$3
    for name in $names; do
        nr="$(scmp_sys_resolver -a "$arch" "$name")"
        if [ "$arch" = x86 ] && [ "$nr" -le -101 ] && [ "$nr" -ge -224 ]; then
            nr="$(echo "$kernel" | lookup "$name")"
        fi
        case "$nr" in -* | "") continue ;; esac
        theirs="$(echo "$kernel" | lookup "$name")"
        if [ -n "$theirs" ] && [ "$theirs" != "$nr" ]; then
            echo "$arch $name: libseccomp says $nr, the kernel headers $theirs" >&2
            exit 1
        fi
        echo "$name $nr"
    done
    echo "$kernel" | while read -r name nr; do
        [ $((nr - base)) -le $LAST_NR ] || continue
        case " $(echo $names) " in *" $name "*) continue ;; esac
        echo "$name $nr"
    done
}

# The multiplexed calls of x86: "name multiplexer call", from the SYS_*
# macros of linux/net.h (socketcall) and the IPC calls of linux/ipc.h.
multiplexed() {
    awk '$1 == "#define" && $2 ~ /^SYS_[A-Z0-9]+$/ && $3 ~ /^[0-9]+$/ {
        print tolower(substr($2, 5)), "socketcall", $3 }' "$headers/linux/net.h"
    awk '$1 == "#define" && $2 ~ /^(SEM|MSG|SHM)[A-Z]+$/ && $3 ~ /^[0-9]+$/ {
        print tolower($2), "ipc", $3 }' "$headers/linux/ipc.h"
}

for arch in x86_64 x86 x32; do
    case $arch in
        x86_64) unistd="$asm/unistd_64.h" base=0 ;;
        x86) unistd="$asm/unistd_32.h" base=0 ;;
        x32) unistd="$asm/unistd_x32.h" base=1073741824 ;;
    esac
    file="$out_dir/$arch.rs"
    pairs="$(arch_pairs "$arch" "$unistd" "$base")"
    {
        echo "//! Syscall numbers of the $arch ABI, generated by scripts/gen-syscalls.sh"
        echo "//! from libseccomp $version and the uapi headers, up to Linux $LAST_KERNEL."
        echo "//! Do not edit by hand."
        echo
        echo "/// Every syscall name known on $arch with its number, sorted by"
        echo "/// length, then name (most comparisons of a lookup are then integer ones)."
        echo "pub static BY_NAME: &[(&str, u32)] = &["
        echo "$pairs" | awk '{ print length($1), $1, $2 }' | LC_ALL=C sort -k1,1n -k2,2 |
            awk '{ printf "    (\"%s\", %s),\n", $2, $3 }'
        echo "];"
        echo
        echo "/// The distinct syscall numbers of $arch, ascending."
        echo "pub static NUMBERS: &[u32] = &["
        echo "$pairs" | awk '{ print $2 }' | sort -n -u | awk '{ printf "    %s,\n", $1 }'
        echo "];"
        if [ $arch = x86 ]; then
            echo
            echo "/// The socket and SysV IPC calls reachable through a multiplexer, sorted"
            echo "/// by name: (name, the multiplexer's number, the call's number, which the"
            echo "/// multiplexer takes as its first argument)."
            echo "pub static MULTIPLEXED: &[(&str, u32, u32)] = &["
            multiplexed | LC_ALL=C sort -k1,1 | while read -r name mux call; do
                printf '    ("%s", %s, %s),\n' "$name" "$(echo "$pairs" | lookup "$mux")" "$call"
            done
            echo "];"
        fi
    } >"$file"
    # The project's formatting (cargo fmt would otherwise rewrap NUMBERS).
    rustfmt --edition 2021 "$file"
    echo "$file: $(echo "$pairs" | wc -l) syscalls"
done
