//! The system-call ABIs a filter can cover on an x86_64 host, and the names
//! of every architecture libseccomp (and so the specification) knows.

use super::syscalls;

/// `__X32_SYSCALL_BIT`: set in the syscall number of every x32 call, which
/// shares `AUDIT_ARCH_X86_64` with native calls.
pub const X32_SYSCALL_BIT: u32 = 0x4000_0000;

/// An ABI of this host that a filter handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Arch {
    /// Native x86_64, always covered.
    X86_64,
    /// 32-bit x86 (`SCMP_ARCH_X86`).
    X86,
    /// x32 (`SCMP_ARCH_X32`): the x86_64 ABI with 32-bit pointers.
    X32,
}

impl Arch {
    /// The `AUDIT_ARCH_*` value a filter sees in `seccomp_data.arch`.
    pub fn audit_arch(self) -> u32 {
        match self {
            // AUDIT_ARCH_X86_64 = EM_X86_64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE
            Arch::X86_64 | Arch::X32 => 0xc000_003e,
            // AUDIT_ARCH_I386 = EM_386 | __AUDIT_ARCH_LE
            Arch::X86 => 0x4000_0003,
        }
    }

    /// Whether arguments are 32 bits wide in this ABI. As libseccomp does,
    /// conditions then compare only the low half of an argument.
    pub fn has_32bit_args(self) -> bool {
        matches!(self, Arch::X86 | Arch::X32)
    }

    /// This ABI's syscall table: (name, number) sorted by (length, name).
    fn by_name(self) -> &'static [(&'static str, u32)] {
        match self {
            Arch::X86_64 => syscalls::x86_64::BY_NAME,
            Arch::X86 => syscalls::x86::BY_NAME,
            Arch::X32 => syscalls::x32::BY_NAME,
        }
    }

    /// The distinct syscall numbers this ABI knows, ascending.
    pub fn numbers(self) -> &'static [u32] {
        match self {
            Arch::X86_64 => syscalls::x86_64::NUMBERS,
            Arch::X86 => syscalls::x86::NUMBERS,
            Arch::X32 => syscalls::x32::NUMBERS,
        }
    }

    /// The number of the syscall `name` in this ABI, if it has one.
    pub fn resolve(self, name: &str) -> Option<u32> {
        let table = self.by_name();
        table
            .binary_search_by(|(n, _)| (n.len(), *n).cmp(&(name.len(), name)))
            .ok()
            .map(|i| table[i].1)
    }

    /// The multiplexer that also reaches the syscall `name` in this ABI, as
    /// (the multiplexer's number, the call number it takes as its first
    /// argument): on x86 the socket calls go through `socketcall(2)` and the
    /// SysV IPC calls through `ipc(2)`, besides their own numbers.
    pub fn multiplexer(self, name: &str) -> Option<(u32, u32)> {
        if self != Arch::X86 {
            return None;
        }
        let table = syscalls::x86::MULTIPLEXED;
        table
            .binary_search_by(|(n, _, _)| (*n).cmp(name))
            .ok()
            .map(|i| (table[i].1, table[i].2))
    }

    /// The syscall numbers this ABI's filter section dispatches on:
    /// x86_64 and x32 split one number space on the x32 bit.
    pub fn number_space(self) -> (u32, u32) {
        match self {
            Arch::X86_64 => (0, X32_SYSCALL_BIT - 1),
            Arch::X32 => (X32_SYSCALL_BIT, u32::MAX),
            Arch::X86 => (0, u32::MAX),
        }
    }
}

/// Every `SCMP_ARCH_*` name of the specification with the ABI it means on
/// this host, `None` for the architectures of other hosts (accepted and
/// skipped, as a profile written for several hosts lists them all).
pub const KNOWN_ARCHS: &[(&str, Option<Arch>)] = &[
    ("SCMP_ARCH_X86", Some(Arch::X86)),
    ("SCMP_ARCH_X86_64", Some(Arch::X86_64)),
    ("SCMP_ARCH_X32", Some(Arch::X32)),
    ("SCMP_ARCH_ARM", None),
    ("SCMP_ARCH_AARCH64", None),
    ("SCMP_ARCH_MIPS", None),
    ("SCMP_ARCH_MIPS64", None),
    ("SCMP_ARCH_MIPS64N32", None),
    ("SCMP_ARCH_MIPSEL", None),
    ("SCMP_ARCH_MIPSEL64", None),
    ("SCMP_ARCH_MIPSEL64N32", None),
    ("SCMP_ARCH_PPC", None),
    ("SCMP_ARCH_PPC64", None),
    ("SCMP_ARCH_PPC64LE", None),
    ("SCMP_ARCH_S390", None),
    ("SCMP_ARCH_S390X", None),
    ("SCMP_ARCH_PARISC", None),
    ("SCMP_ARCH_PARISC64", None),
    ("SCMP_ARCH_RISCV64", None),
    ("SCMP_ARCH_LOONGARCH64", None),
    ("SCMP_ARCH_M68K", None),
    ("SCMP_ARCH_SH", None),
    ("SCMP_ARCH_SHEB", None),
];

/// Looks up an `SCMP_ARCH_*` name: `None` if unknown, `Some(None)` if it is
/// another host's architecture.
pub fn parse_arch(name: &str) -> Option<Option<Arch>> {
    KNOWN_ARCHS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, arch)| *arch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_sorted_and_resolve() {
        for arch in [Arch::X86_64, Arch::X86, Arch::X32] {
            let key = |name: &'static str| (name.len(), name);
            assert!(arch.by_name().windows(2).all(|w| key(w[0].0) < key(w[1].0)));
            assert!(arch.numbers().windows(2).all(|w| w[0] < w[1]));
            let (lo, hi) = arch.number_space();
            assert!(arch.numbers().iter().all(|nr| (lo..=hi).contains(nr)));
        }
        assert_eq!(Arch::X86_64.resolve("read"), Some(0));
        assert_eq!(Arch::X86.resolve("read"), Some(3));
        assert_eq!(Arch::X32.resolve("read"), Some(X32_SYSCALL_BIT));
        assert_eq!(Arch::X86_64.resolve("socketcall"), None);
        assert_eq!(Arch::X86_64.resolve("no_such_syscall"), None);
        assert_eq!(Arch::X86_64.resolve("mseal"), Some(462));
        assert_eq!(Arch::X86.resolve("file_setattr"), Some(469));
        // listns (470) came after the kernel the tables describe.
        assert_eq!(Arch::X86_64.resolve("listns"), None);
    }

    #[test]
    fn multiplexed_calls() {
        let table = syscalls::x86::MULTIPLEXED;
        assert!(table.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(Arch::X86.multiplexer("socket"), Some((102, 1)));
        assert_eq!(Arch::X86.multiplexer("sendmmsg"), Some((102, 20)));
        assert_eq!(Arch::X86.multiplexer("semop"), Some((117, 1)));
        assert_eq!(Arch::X86.multiplexer("shmctl"), Some((117, 24)));
        assert_eq!(Arch::X86.multiplexer("getpid"), None);
        assert_eq!(Arch::X86_64.multiplexer("socket"), None);
        // Every multiplexer is a syscall of x86 itself.
        for (_, mux, _) in table {
            assert!(Arch::X86.numbers().contains(mux));
        }
    }

    #[test]
    fn arch_names() {
        assert_eq!(parse_arch("SCMP_ARCH_X32"), Some(Some(Arch::X32)));
        assert_eq!(parse_arch("SCMP_ARCH_AARCH64"), Some(None));
        assert_eq!(parse_arch("SCMP_ARCH_VAX"), None);
    }
}
