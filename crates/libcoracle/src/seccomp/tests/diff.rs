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
use crate::seccomp::profile::{Action, Cond, Op, Profile};
use crate::seccomp::SeccompPlan;
use crate::spec::{Seccomp, SeccompArg, SeccompSyscall};
use crate::sys::seccomp::SockFilter;
use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

/// Builds each profile with libseccomp as runc does: entries whose action
/// is the default are skipped (libseccomp refuses them), unknown names are
/// skipped, an entry with two conditions on one argument is added as one
/// rule per condition (libseccomp takes one condition per argument), and a
/// bad architecture kills the process. Programs are written to DIR/N.bpf;
/// libseccomp 2.5.4 loops forever on some profiles (two entries with an
/// ordering operator on one 64-bit argument), which get DIR/N.hung instead.
const LIBSECCOMP_SCRIPT: &str = r#"
import json, os, sys, time, seccomp
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
def has_number(arch, name):
    nr = seccomp.resolve_syscall(arch, name)
    # x86's socket and IPC calls resolve to their multiplexed pseudo-numbers.
    return nr >= 0 or (arch == seccomp.Arch.X86 and -224 <= nr <= -101)
def build(i, spec):
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
        indices = [a["index"] for a in entry.get("args", [])]
        rules = [[a] for a in args] if len(set(indices)) < len(indices) else [args]
        for name in entry["names"]:
            if seccomp.resolve_syscall(seccomp.Arch.NATIVE, name) == -1:
                continue
            # A name without a number on any of the filter's arches changes
            # nothing, but trips a libseccomp 2.5.4 bug with x32 (the
            # syscall number is never loaded).
            if not any(has_number(a, name) for a in arches):
                continue
            for rule in rules:
                try:
                    f.add_rule(act, name, *rule)
                except Exception as e:
                    raise Exception("profile %d: %s %s: %s" % (i, name, json.dumps(entry), e))
    with open("%s/%d.bpf" % (sys.argv[2], i), "wb") as out:
        f.export_bpf(out)
for i, spec in enumerate(json.load(open(sys.argv[1]))):
    pid = os.fork()
    if pid == 0:
        try:
            build(i, spec)
        except Exception as e:
            print(e, file=sys.stderr)
            os._exit(1)
        os._exit(0)
    deadline = time.monotonic() + 5
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            if status != 0:
                sys.exit("profile %d: libseccomp failed" % i)
            break
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            open("%s/%d.hung" % (sys.argv[2], i), "w").close()
            break
        time.sleep(0.002)
"#;

/// The programs libseccomp builds for `specs`, `None` where it hung.
fn libseccomp_programs(specs: &[Seccomp]) -> Vec<Option<Vec<SockFilter>>> {
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
    let program = |i: usize| {
        let bytes = std::fs::read(dir.0.join(format!("{i}.bpf"))).ok()?;
        Some(interp::from_bytes(&bytes))
    };
    (0..specs.len())
        .map(|i| {
            let hung = dir.0.join(format!("{i}.hung")).exists();
            assert!(
                hung || program(i).is_some(),
                "libseccomp made no program {i}"
            );
            program(i)
        })
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
        // A multiplexed call: the multiplexer with the call's number as its
        // first argument, and the entry's conditions on the other arguments.
        for entry in &seccomp.syscalls {
            for name in &entry.names {
                let direct = arch.resolve(name).map(|nr| (nr, None));
                let muxed = arch.multiplexer(name).map(|(mux, call)| (mux, Some(call)));
                for (nr, call) in direct.into_iter().chain(muxed) {
                    let by_index = conditioned.entry(nr).or_default();
                    if let Some(call) = call {
                        by_index.entry(0).or_default().push(u64::from(call));
                    }
                    for arg in entry.args.iter().filter(|a| call.is_none() || a.index != 0) {
                        let values = by_index.entry(arg.index as usize).or_default();
                        values.extend([arg.value, arg.value_two, arg.value & arg.value_two]);
                    }
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

/// A rule as it applies to one call.
struct Applied {
    action: Action,
    /// The call number a multiplexer's first argument selects, for a rule
    /// that reaches the call through its multiplexer.
    call: Option<u32>,
    /// The rule's conditions (for a multiplexed call, those on the other
    /// arguments than the first).
    own: Vec<Cond>,
}

impl Applied {
    /// What the filter compares: the call number, then the rule's own.
    fn conds(&self) -> Vec<Cond> {
        let call = self.call.map(|call| Cond {
            index: 0,
            op: Op::Eq,
            value: u64::from(call),
            value_two: 0,
        });
        call.into_iter().chain(self.own.iter().copied()).collect()
    }
}

/// The rules of `profile` that apply to `call` of `abi`, in profile order:
/// those naming its syscall, and on x86, when it is a multiplexer, those
/// naming the call its first argument selects (their first-argument
/// conditions dropped: that argument is the selector there).
fn applied(profile: &Profile<'_>, abi: Arch, call: &Call) -> Vec<Applied> {
    let selected = call.args[0] & 0xffff_ffff;
    let mut out = Vec::new();
    for rule in &profile.rules {
        for name in rule.names {
            if abi.resolve(name) == Some(call.nr) {
                out.push(Applied {
                    action: rule.action,
                    call: None,
                    own: rule.conds.clone(),
                });
            }
            match abi.multiplexer(name) {
                Some((mux, number)) if mux == call.nr && u64::from(number) == selected => {
                    out.push(Applied {
                        action: rule.action,
                        call: Some(number),
                        own: rule
                            .conds
                            .iter()
                            .filter(|c| c.index != 0)
                            .copied()
                            .collect(),
                    })
                }
                _ => {}
            }
        }
    }
    out
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
    let rules: Vec<Applied> = applied(profile, abi, call)
        .into_iter()
        .filter(|r| r.action != profile.default)
        .collect();
    // The first unconditional rule decides alone; so does, among the rules
    // of a multiplexed call, the first without conditions of its own.
    if let Some(first) = rules.iter().find(|r| r.call.is_none() && r.own.is_empty()) {
        return first.action.ret();
    }
    let bare = rules
        .iter()
        .position(|r| r.call.is_some() && r.own.is_empty());
    let narrow = abi.has_32bit_args();
    rules
        .iter()
        .enumerate()
        .filter(|&(i, r)| r.call.is_none() || bare.map_or(true, |b| b == i))
        .filter(|(_, r)| r.own.iter().all(|c| holds(c, &call.args, narrow)))
        .min_by_key(|(_, r)| r.action.rank())
        .map_or(profile.default.ret(), |(_, r)| r.action.ret())
}

/// Where libseccomp 2.5.4 departs from the AND/OR semantics:
/// - two conditional entries of one syscall comparing the same argument,
///   one of them with a condition other than EQ or MASKED_EQ (on any
///   argument): its rule tree (as `export_pfc` prints it) is right, but
///   the BPF generated from it loses matches that fall through a branch
///   without action;
/// - an entry whose conditions always hold (a MASKED_EQ whose mask is 0 in
///   the ABI's argument width) becomes an unconditional entry, which then
///   decides alone;
/// - a rule on a call that x86 reaches only through its multiplexer
///   (accept, send, recv, semop, semtimedop) also gets a rule on a pseudo
///   syscall number there, and the x86 program then loses rules, of other
///   syscalls too.
fn libseccomp_weak_spot(profile: &Profile<'_>, call: &Call) -> bool {
    let Some(abi) = abi_of(profile, call) else {
        return false;
    };
    let only_multiplexed =
        |name: &String| abi.multiplexer(name).is_some() && abi.resolve(name).is_none();
    if profile
        .rules
        .iter()
        .any(|r| r.action != profile.default && r.names.iter().any(only_multiplexed))
    {
        return true;
    }
    let rules = applied(profile, abi, call);
    let width = if abi.has_32bit_args() {
        0xffff_ffff
    } else {
        u64::MAX
    };
    let trivial = |c: &Cond| c.op == Op::MaskedEq && c.value & width == 0;
    if rules
        .iter()
        .any(|r| !r.own.is_empty() && r.own.iter().all(trivial))
    {
        return true;
    }
    let branching = |conds: &[Cond]| conds.iter().any(|c| !matches!(c.op, Op::Eq | Op::MaskedEq));
    let conds: Vec<Vec<Cond>> = rules.iter().map(Applied::conds).collect();
    conds.iter().enumerate().any(|(i, a)| {
        conds[i + 1..].iter().any(|b| {
            let shared = a.iter().any(|ca| b.iter().any(|cb| ca.index == cb.index));
            shared && (branching(a) || branching(b))
        })
    })
}

/// Runs our program and libseccomp's for `seccomp` over [`calls`]: ours
/// must always give the oracle's answer; libseccomp's must too (where it
/// made one), except on numbers missing from the tables (where it gives the
/// default action) and in its weak spot. Returns the number of weak-spot
/// deviations.
fn compare(
    name: &str,
    seccomp: &Seccomp,
    ours: &[SockFilter],
    theirs: Option<&[SockFilter]>,
    rng: &mut Rng,
) -> usize {
    let profile = Profile::parse(seccomp).unwrap();
    let mut mismatches = Vec::new();
    let mut deviations = 0;
    let calls = calls(seccomp, rng);
    for call in &calls {
        let (a, want) = (interp::run(ours, call), oracle(&profile, call));
        let Some(theirs) = theirs else {
            if a != want {
                mismatches.push(format!("{call:x?}: coracle {a:#x}, oracle {want:#x}"));
            }
            continue;
        };
        let b = interp::run(theirs, call);
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
        let theirs = theirs
            .as_deref()
            .expect("libseccomp builds Podman's profile");
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
            Some(theirs),
            &mut rng,
        );
        assert_eq!(deviations, 0, "podman profile {i}");
    }
}

/// Syscalls present on x86_64, x86 and x32 (some of them reached through
/// socketcall/ipc on x86, a few only there) that the init does not need
/// after install. The multiplexers themselves are left out: entries on them
/// with other actions could overlap with those of their calls.
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
    "socket",
    "bind",
    "connect",
    "listen",
    "accept",
    "accept4",
    "getsockname",
    "socketpair",
    "send",
    "recv",
    "sendto",
    "recvfrom",
    "shutdown",
    "setsockopt",
    "sendmmsg",
    "semop",
    "semget",
    "semctl",
    "semtimedop",
    "msgsnd",
    "msgrcv",
    "msgget",
    "msgctl",
    "shmat",
    "shmdt",
    "shmget",
    "shmctl",
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
/// entries of up to three conditions (now and then several on one
/// argument), and now and then an unconditional entry with any action
/// (the conditional entries' action for a call with a multiplexer).
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
        // Through x86's multiplexers an unconditional entry, or one with
        // conditions on the first argument only, becomes the rule "first
        // argument == the call's number", which libseccomp (so runc)
        // refuses to have with two actions.
        let multiplexed = Arch::X86.multiplexer(&name).is_some();
        for _ in 0..1 + rng.below(3) {
            let unconditional = rng.below(4) == 0;
            let (action, errno_ret) = if unconditional && !multiplexed {
                random_action(rng, true)
            } else {
                conditional_action.clone()
            };
            let mut indices: Vec<u32> = (0..6).collect();
            let repeat = rng.below(3) == 0;
            let args = (0..if unconditional { 0 } else { 1 + rng.below(3) })
                .map(|_| SeccompArg {
                    index: if repeat {
                        rng.below(2) as u32
                    } else {
                        indices.remove(rng.below(indices.len()))
                    },
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
    let specs: Vec<Seccomp> = (0..80).map(|_| random_profile(&mut rng)).collect();
    let theirs = libseccomp_programs(&specs);
    let hung = theirs.iter().filter(|t| t.is_none()).count();
    // Most profiles must be compared with libseccomp for the test to mean much.
    assert!(
        hung * 10 <= specs.len(),
        "libseccomp hung on {hung} profiles"
    );
    let mut deviations = 0;
    for (i, (spec, theirs)) in specs.iter().zip(&theirs).enumerate() {
        let name = format!(
            "random profile {i} {}",
            serde_json::to_string(spec).unwrap()
        );
        deviations += compare(&name, spec, &ours(spec), theirs.as_deref(), &mut rng);
    }
    println!("libseccomp deviations from the AND/OR semantics in its weak spot: {deviations}; hung on {hung} profiles");
}
