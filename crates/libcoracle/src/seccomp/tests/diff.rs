//! The differential test: the same profiles compiled by coracle and by
//! libseccomp (through python3-seccomp, the way runc feeds it), both
//! programs run in the interpreter over every syscall number of every ABI
//! and over argument values around each condition, and their answers
//! compared.
//!
//! Two differences are by design and checked as such:
//! - a number missing from the ABI's syscall table gets `ENOSYS` from
//!   coracle where libseccomp applies a refusing default action;
//! - the profiles here never make entries with different actions overlap
//!   for one call, where libseccomp's answer depends on entry order and
//!   coracle picks the most restrictive action.

use super::interp::{self, Call};
use super::podman::{podman_seccomp, MANY_CAPS, PODMAN_DEFAULT_CAPS};
use super::TempDir;
use crate::seccomp::arch::{Arch, X32_SYSCALL_BIT};
use crate::seccomp::profile::{Action, Cond, Op, Profile, Rule};
use crate::seccomp::SeccompPlan;
use crate::spec::{Seccomp, SeccompArg, SeccompSyscall};
use crate::sys::seccomp::SockFilter;
use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

/// Builds each profile with libseccomp as runc does: entries whose action
/// is the default are skipped (libseccomp refuses them), unknown names are
/// skipped, and a bad architecture kills the process. Programs are written
/// to DIR/N.bpf.
const LIBSECCOMP_SCRIPT: &str = r#"
import json, sys, seccomp
def action(name, ret):
    e = 1 if ret is None else ret
    return {"SCMP_ACT_ALLOW": seccomp.ALLOW, "SCMP_ACT_ERRNO": seccomp.ERRNO(e),
            "SCMP_ACT_KILL": seccomp.KILL, "SCMP_ACT_KILL_THREAD": seccomp.KILL,
            "SCMP_ACT_KILL_PROCESS": seccomp.KILL_PROCESS, "SCMP_ACT_TRAP": seccomp.TRAP,
            "SCMP_ACT_TRACE": seccomp.TRACE(e), "SCMP_ACT_LOG": seccomp.LOG,
            "SCMP_ACT_NOTIFY": seccomp.NOTIFY}[name]
OPS = {"SCMP_CMP_NE": seccomp.NE, "SCMP_CMP_LT": seccomp.LT, "SCMP_CMP_LE": seccomp.LE,
       "SCMP_CMP_EQ": seccomp.EQ, "SCMP_CMP_GE": seccomp.GE, "SCMP_CMP_GT": seccomp.GT,
       "SCMP_CMP_MASKED_EQ": seccomp.MASKED_EQ}
ARCHES = {"SCMP_ARCH_X86": seccomp.Arch.X86, "SCMP_ARCH_X32": seccomp.Arch.X32}
specs = json.load(open(sys.argv[1]))
for i, spec in enumerate(specs):
    default = action(spec["defaultAction"], spec.get("defaultErrnoRet"))
    f = seccomp.SyscallFilter(default)
    f.set_attr(seccomp.Attr.ACT_BADARCH, seccomp.KILL_PROCESS)
    arches = [seccomp.Arch.X86_64]
    for a in spec.get("architectures", []):
        if a in ARCHES:
            f.add_arch(ARCHES[a])
            arches.append(ARCHES[a])
    for entry in spec.get("syscalls", []):
        act = action(entry["action"], entry.get("errnoRet"))
        if act == default:
            continue
        args = [seccomp.Arg(a["index"], OPS[a["op"]], a["value"], a.get("valueTwo", 0))
                for a in entry.get("args", [])]
        for name in entry["names"]:
            if seccomp.resolve_syscall(seccomp.Arch.NATIVE, name) == -1:
                continue
            # A name without a number on any of the filter's arches changes
            # nothing, but trips a libseccomp 2.5.4 bug with x32 (the
            # syscall number is never loaded).
            if all(seccomp.resolve_syscall(a, name) < 0 for a in arches):
                continue
            try:
                f.add_rule(act, name, *args)
            except Exception as e:
                raise Exception("profile %d: %s %s: %s" % (i, name, json.dumps(entry), e))
    with open("%s/%d.bpf" % (sys.argv[2], i), "wb") as out:
        f.export_bpf(out)
"#;

/// The programs libseccomp builds for `specs`.
fn libseccomp_programs(specs: &[Seccomp]) -> Vec<Vec<SockFilter>> {
    let dir = TempDir::new("diff");
    let input = dir.0.join("specs.json");
    std::fs::write(&input, serde_json::to_vec(specs).unwrap()).unwrap();
    let output = Command::new("/usr/bin/python3")
        .arg("-c")
        .arg(LIBSECCOMP_SCRIPT)
        .arg(&input)
        .arg(&dir.0)
        .output()
        .expect("run /usr/bin/python3");
    assert!(
        output.status.success(),
        "libseccomp reference failed (needs the python3-seccomp package): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    (0..specs.len())
        .map(|i| interp::from_bytes(&std::fs::read(dir.0.join(format!("{i}.bpf"))).unwrap()))
        .collect()
}

/// Argument values worth trying for conditions on one argument.
fn interesting(values: impl IntoIterator<Item = u64>) -> BTreeSet<u64> {
    let mut out: BTreeSet<u64> = [0, 1, 0x7fff_ffff, 0xffff_ffff, 1 << 32, u64::MAX].into();
    for v in values {
        for w in [
            v,
            v.wrapping_add(1),
            v.wrapping_sub(1),
            v ^ (1 << 32),
            v & 0xffff_ffff,
        ] {
            out.insert(w);
            out.insert(w | 0xffff_ffff_0000_0000);
        }
    }
    out
}

/// A tiny deterministic generator (xorshift64*), for sampling and for
/// random profiles.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// The calls to try: every number of each ABI with zero arguments, special
/// numbers and a foreign architecture, and for syscalls with conditions the
/// combinations of interesting values of their conditioned arguments.
fn calls(seccomp: &Seccomp, rng: &mut Rng) -> Vec<Call> {
    let abis = [
        (Arch::X86_64, 0u32),
        (Arch::X32, X32_SYSCALL_BIT),
        (Arch::X86, 0),
    ];
    let mut calls = Vec::new();
    for (arch, base) in abis {
        for nr in (0..=600).map(|n| base + n) {
            calls.push(Call {
                arch: arch.audit_arch(),
                nr,
                args: [0; 6],
            });
            calls.push(Call {
                arch: arch.audit_arch(),
                nr,
                args: [u64::MAX; 6],
            });
        }
        for nr in [X32_SYSCALL_BIT - 1, 0x7fff_ffff, 0x8000_0000, u32::MAX] {
            calls.push(Call {
                arch: arch.audit_arch(),
                nr,
                args: [0; 6],
            });
        }
        // Per syscall, the values each conditioned argument is compared with.
        let mut conditioned: BTreeMap<u32, BTreeMap<usize, Vec<u64>>> = BTreeMap::new();
        for entry in &seccomp.syscalls {
            for nr in entry.names.iter().filter_map(|n| arch.resolve(n)) {
                for arg in &entry.args {
                    let values = conditioned
                        .entry(nr)
                        .or_default()
                        .entry(arg.index as usize)
                        .or_default();
                    values.extend([arg.value, arg.value_two, arg.value & arg.value_two]);
                }
            }
        }
        for (nr, by_index) in conditioned {
            let axes: Vec<(usize, Vec<u64>)> = by_index
                .into_iter()
                .map(|(i, v)| (i, interesting(v).into_iter().collect()))
                .collect();
            let total: usize = axes.iter().map(|(_, v)| v.len()).product();
            let mut push = |pick: &mut dyn FnMut(usize, &[u64]) -> u64| {
                let mut args = [0u64; 6];
                for (i, (index, values)) in axes.iter().enumerate() {
                    args[*index] = pick(i, values);
                }
                calls.push(Call {
                    arch: arch.audit_arch(),
                    nr,
                    args,
                });
            };
            if total <= 4000 {
                for combo in 0..total {
                    let mut rest = combo;
                    push(&mut |_, values| {
                        let v = values[rest % values.len()];
                        rest /= values.len();
                        v
                    });
                }
            } else {
                for _ in 0..4000 {
                    push(&mut |_, values| *rng.pick(values));
                }
            }
        }
    }
    calls.push(Call {
        arch: 0xc000_00b7,
        nr: 0,
        args: [0; 6],
    }); // aarch64
    calls.push(Call {
        arch: 0x4000_0028,
        nr: 1,
        args: [0; 6],
    }); // arm
    calls
}

/// The ABI a call belongs to, as both filters split them.
fn abi_of(profile: &Profile<'_>, call: &Call) -> Option<Arch> {
    let x32 = profile.arches.contains(&Arch::X32);
    match call.arch {
        0xc000_003e if call.nr < X32_SYSCALL_BIT => Some(Arch::X86_64),
        // -1 is an unknown native number unless x32 takes it.
        0xc000_003e if call.nr == u32::MAX && !x32 => Some(Arch::X86_64),
        0xc000_003e => Some(Arch::X32),
        0x4000_0003 => Some(Arch::X86),
        _ => None,
    }
}

/// The entries of `profile` naming the syscall `nr` of `abi`.
fn entries_for<'p>(profile: &'p Profile<'_>, abi: Arch, nr: u32) -> Vec<&'p Rule<'p>> {
    profile
        .rules
        .iter()
        .filter(|r| r.names.iter().any(|n| abi.resolve(n) == Some(nr)))
        .collect()
}

fn holds(cond: &Cond, args: &[u64; 6], narrow: bool) -> bool {
    let cut = |v: u64| if narrow { v & 0xffff_ffff } else { v };
    let (arg, value) = (cut(args[usize::from(cond.index)]), cut(cond.value));
    match cond.op {
        Op::Eq => arg == value,
        Op::Ne => arg != value,
        Op::Lt => arg < value,
        Op::Le => arg <= value,
        Op::Gt => arg > value,
        Op::Ge => arg >= value,
        Op::MaskedEq => arg & value == cut(cond.value_two) & value,
    }
}

/// The answer the documented semantics give (see `compile`), computed
/// directly from the profile.
fn oracle(profile: &Profile<'_>, call: &Call) -> u32 {
    let Some(abi) = abi_of(profile, call).filter(|a| profile.arches.contains(a)) else {
        return Action::KillProcess.ret();
    };
    if abi.numbers().binary_search(&call.nr).is_err() {
        return if profile.default.refuses() {
            Action::Errno(libc::ENOSYS as u16).ret()
        } else {
            profile.default.ret()
        };
    }
    let entries: Vec<_> = entries_for(profile, abi, call.nr)
        .into_iter()
        .filter(|r| r.action != profile.default)
        .collect();
    if let Some(first) = entries.iter().find(|r| r.conds.is_empty()) {
        return first.action.ret();
    }
    let narrow = abi.has_32bit_args();
    entries
        .iter()
        .filter(|r| r.conds.iter().all(|c| holds(c, &call.args, narrow)))
        .min_by_key(|r| r.action.rank())
        .map_or(profile.default.ret(), |r| r.action.ret())
}

/// Where libseccomp 2.5.4 departs from the AND/OR semantics:
/// - two conditional entries of one syscall comparing the same argument,
///   one of them with an ordering operator: its rule tree (as
///   `export_pfc` prints it) is right, but the BPF generated from it loses
///   matches that fall through a branch without action;
/// - an entry whose conditions always hold (a MASKED_EQ whose mask is 0 in
///   the ABI's argument width) becomes an unconditional entry, which then
///   decides alone.
fn libseccomp_weak_spot(profile: &Profile<'_>, call: &Call) -> bool {
    let Some(abi) = abi_of(profile, call) else {
        return false;
    };
    let entries = entries_for(profile, abi, call.nr);
    let width = if abi.has_32bit_args() {
        0xffff_ffff
    } else {
        u64::MAX
    };
    let trivial = |c: &Cond| c.op == Op::MaskedEq && c.value & width == 0;
    if entries
        .iter()
        .any(|e| !e.conds.is_empty() && e.conds.iter().all(trivial))
    {
        return true;
    }
    let ordering = |op: Op| matches!(op, Op::Lt | Op::Le | Op::Gt | Op::Ge);
    entries.iter().enumerate().any(|(i, a)| {
        entries[i + 1..].iter().any(|b| {
            a.conds.iter().any(|ca| {
                b.conds
                    .iter()
                    .any(|cb| ca.index == cb.index && (ordering(ca.op) || ordering(cb.op)))
            })
        })
    })
}

/// Runs our program and libseccomp's for `seccomp` over [`calls`]: ours
/// must always give the oracle's answer; libseccomp's must too, except on
/// numbers missing from the tables (where it gives the default action) and
/// in its weak spot. Returns the number of weak-spot deviations.
fn compare(
    name: &str,
    seccomp: &Seccomp,
    ours: &[SockFilter],
    theirs: &[SockFilter],
    rng: &mut Rng,
) -> usize {
    let profile = Profile::parse(seccomp).unwrap();
    let mut mismatches = Vec::new();
    let mut deviations = 0;
    let calls = calls(seccomp, rng);
    for call in &calls {
        let (a, b, want) = (
            interp::run(ours, call),
            interp::run(theirs, call),
            oracle(&profile, call),
        );
        let unknown = abi_of(&profile, call)
            .filter(|abi| profile.arches.contains(abi))
            .is_some_and(|abi| abi.numbers().binary_search(&call.nr).is_err());
        let theirs_ok = if unknown {
            b == profile.default.ret()
        } else {
            b == want
        };
        if a != want || !theirs_ok && !libseccomp_weak_spot(&profile, call) {
            mismatches.push(format!(
                "{call:x?}: coracle {a:#x}, libseccomp {b:#x}, oracle {want:#x}"
            ));
        } else if !theirs_ok {
            deviations += 1;
        }
    }
    assert!(
        mismatches.is_empty(),
        "{name}: {} of {} calls differ, e.g.\n{}",
        mismatches.len(),
        calls.len(),
        mismatches[..mismatches.len().min(20)].join("\n")
    );
    deviations
}

fn ours(seccomp: &Seccomp) -> Vec<SockFilter> {
    SeccompPlan::from_spec(seccomp, None).unwrap().0.program
}

#[test]
fn podman_profile_matches_libseccomp() {
    let specs = [
        podman_seccomp(PODMAN_DEFAULT_CAPS),
        podman_seccomp(MANY_CAPS),
    ];
    let theirs = libseccomp_programs(&specs);
    let mut rng = Rng(0x5eed);
    for (i, (spec, theirs)) in specs.iter().zip(&theirs).enumerate() {
        let ours = ours(spec);
        println!(
            "podman profile {i}: coracle {} instructions, libseccomp {}",
            ours.len(),
            theirs.len()
        );
        let deviations = compare(
            &format!("podman profile {i}"),
            spec,
            &ours,
            theirs,
            &mut rng,
        );
        assert_eq!(deviations, 0, "podman profile {i}");
    }
}

/// Syscalls present on x86_64, x86 and x32 that libseccomp does not
/// multiplex (no socketcall/ipc) and the init does not need after install.
const POOL: &[&str] = &[
    "getpid",
    "getppid",
    "personality",
    "umask",
    "dup",
    "dup3",
    "pipe2",
    "kill",
    "tgkill",
    "fchmod",
    "fchown",
    "ioctl",
    "prctl",
    "clone",
    "unshare",
    "setns",
    "mount",
    "umount2",
    "getrandom",
    "memfd_create",
    "lseek",
    "madvise",
    "mprotect",
    "sched_yield",
    "mkdirat",
    "unlinkat",
    "renameat2",
    "fchdir",
    "chroot",
    "sethostname",
    "setuid",
    "setgid",
    "capset",
    "no_such_syscall",
    "s390_runtime_instr",
    "arch_prctl",
    "modify_ldt",
];

const VALUES: &[u64] = &[
    0,
    1,
    2,
    5,
    8,
    0xff,
    0x7e02_0000,
    0x7fff_ffff,
    0xffff_ffff,
    1 << 32,
    0x1_0000_0005,
    0xffff_ffff_0000_0000,
    u64::MAX,
];

const OPS: &[&str] = &[
    "SCMP_CMP_NE",
    "SCMP_CMP_LT",
    "SCMP_CMP_LE",
    "SCMP_CMP_EQ",
    "SCMP_CMP_GE",
    "SCMP_CMP_GT",
    "SCMP_CMP_MASKED_EQ",
];

/// (action, errnoRet) choices; NOTIFY only as a rule action.
fn random_action(rng: &mut Rng, notify: bool) -> (String, Option<u32>) {
    let actions = [
        "SCMP_ACT_ALLOW",
        "SCMP_ACT_ERRNO",
        "SCMP_ACT_KILL_PROCESS",
        "SCMP_ACT_KILL_THREAD",
        "SCMP_ACT_TRAP",
        "SCMP_ACT_LOG",
        "SCMP_ACT_TRACE",
        "SCMP_ACT_NOTIFY",
    ];
    let action = *rng.pick(&actions[..if notify { 8 } else { 7 }]);
    let errno = match action {
        "SCMP_ACT_ERRNO" | "SCMP_ACT_TRACE" => [None, Some(1), Some(22), Some(38)][rng.below(4)],
        _ => None,
    };
    (action.to_string(), errno)
}

/// A profile whose conditional entries for one syscall share one action
/// (so they never overlap with different actions), with up to three
/// entries of up to three conditions on distinct arguments, and now and
/// then an unconditional entry with any action.
fn random_profile(rng: &mut Rng) -> Seccomp {
    let (default_action, default_errno_ret) = random_action(rng, false);
    let arches = ["SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64"];
    let architectures = arches
        .iter()
        .filter(|_| rng.below(2) == 0)
        .map(|a| a.to_string())
        .collect();
    let mut syscalls = Vec::new();
    for _ in 0..1 + rng.below(12) {
        let name = rng.pick(POOL).to_string();
        if syscalls
            .iter()
            .any(|s: &SeccompSyscall| s.names.contains(&name))
        {
            continue;
        }
        let conditional_action = random_action(rng, true);
        for _ in 0..1 + rng.below(3) {
            let unconditional = rng.below(4) == 0;
            let (action, errno_ret) = if unconditional {
                random_action(rng, true)
            } else {
                conditional_action.clone()
            };
            let mut indices: Vec<u32> = (0..6).collect();
            let args = (0..if unconditional { 0 } else { 1 + rng.below(3) })
                .map(|_| SeccompArg {
                    index: indices.remove(rng.below(indices.len())),
                    value: *rng.pick(VALUES),
                    value_two: *rng.pick(VALUES),
                    op: rng.pick(OPS).to_string(),
                })
                .collect();
            syscalls.push(SeccompSyscall {
                names: vec![name.clone()],
                action,
                errno_ret,
                args,
            });
        }
    }
    Seccomp {
        default_action,
        default_errno_ret,
        architectures,
        listener_path: Some("/agent.sock".into()),
        syscalls,
        ..Seccomp::default()
    }
}

#[test]
fn random_profiles_match_libseccomp() {
    let mut rng = Rng(0x00c0_ac1e);
    let specs: Vec<Seccomp> = (0..40).map(|_| random_profile(&mut rng)).collect();
    let theirs = libseccomp_programs(&specs);
    let mut deviations = 0;
    for (i, (spec, theirs)) in specs.iter().zip(&theirs).enumerate() {
        let name = format!(
            "random profile {i} {}",
            serde_json::to_string(spec).unwrap()
        );
        deviations += compare(&name, spec, &ours(spec), theirs, &mut rng);
    }
    println!("libseccomp deviations from the AND/OR semantics in its weak spot: {deviations}");
}
