//! Compiles a validated profile into a seccomp BPF program.
//!
//! Shape of the program:
//! 1. the ABI check: `seccomp_data.arch` selects a section, any other
//!    architecture is killed (`KILL_PROCESS`, as a bad-arch action);
//! 2. per ABI, a binary search over syscall-number ranges: each range
//!    leads to a return value or, for a syscall with argument rules, to a
//!    block testing them; x86_64 and x32 share an arch value and are told
//!    apart by the x32 bit of the number;
//! 3. per ABI, the distinct return instructions, shared by every branch.
//!
//! Semantics of the entries for one syscall, those of libseccomp as runc
//! and crun drive it wherever libseccomp's answer does not depend on its
//! internal rule ordering:
//! - entries whose action is the default action are ignored;
//! - an entry with two conditions on one argument is one rule per
//!   condition (see profile.rs), any other entry one rule;
//! - the first rule without conditions decides alone (libseccomp keeps
//!   the first unconditional rule and drops conditional ones);
//! - otherwise the conditions of one rule are ANDed and rules are ORed;
//!   when rules with different actions match the same call, the most
//!   restrictive action wins (the kernel's precedence between stacked
//!   filters), ties going to the earlier rule;
//! - a call no rule matches gets the default action.
//!
//! On x86 a rule on a socket call (`socket`, `bind`, ...) or a SysV IPC
//! call (`semop`, `shmget`, ...) also covers the same call made through its
//! multiplexer, `socketcall(SYS_x, args)` or `ipc(x, ...)`, as libseccomp
//! does: the multiplexer gets the rule with its first condition replaced by
//! "first argument == the call's number" (a condition of the rule on the
//! first argument is dropped: the real arguments are behind a pointer
//! there; conditions on the other arguments stay and compare the
//! multiplexer's own arguments, as libseccomp's do). Such a rule without
//! other conditions decides alone for its call number.
//!
//! Differences from libseccomp: a number this build's table does not know
//! (a syscall newer than the table, or a hole) gets `ENOSYS` rather than a
//! refusing default, so that programs fall back to older calls (`clone3` →
//! `clone`) instead of failing with `EPERM` or dying. Syscall names unknown
//! to an ABI's table are skipped, as runc and crun do. On x86 and x32
//! conditions compare only the low 32 bits of arguments and values, and
//! MASKED_EQ masks its value, as libseccomp does.

use super::arch::{Arch, X32_SYSCALL_BIT};
use super::bpf::{self, Asm, Label, JMP_JEQ_K, JMP_JGE_K, JMP_JGT_K};
use super::profile::{Action, Cond, Op, Profile};
use super::SeccompError;
use crate::sys::seccomp::SockFilter;

/// Compiles `profile` into a program the kernel accepts.
pub fn compile(profile: &Profile<'_>) -> Result<Vec<SockFilter>, SeccompError> {
    let mut asm = Asm::default();
    let bad_arch = asm.label();
    let sections: Vec<(Arch, Label)> = profile.arches.iter().map(|&a| (a, asm.label())).collect();
    dispatch_on_arch(&mut asm, &sections);
    let x32 = sections
        .iter()
        .find(|(a, _)| *a == Arch::X32)
        .map(|(_, l)| *l);
    for &(arch, label) in &sections {
        asm.bind(label);
        if arch != Arch::X32 {
            asm.load(bpf::OFFSET_NR);
        }
        if arch == Arch::X86_64 {
            split_off_x32(&mut asm, x32, bad_arch);
        }
        Section::new(&mut asm, arch.has_32bit_args()).emit(&segments(profile, arch));
    }
    asm.bind(bad_arch);
    asm.ret(Action::KillProcess.ret());

    let program = asm.finish();
    if program.len() > bpf::MAX_INSNS {
        return Err(SeccompError::TooLarge(program.len()));
    }
    Ok(program)
}

/// Jumps to the section of `seccomp_data.arch`, kills any other arch.
fn dispatch_on_arch(asm: &mut Asm, sections: &[(Arch, Label)]) {
    asm.load(bpf::OFFSET_ARCH);
    for &(arch, label) in sections {
        // x32 shares x86_64's arch value: it is reached from that section.
        if arch != Arch::X32 {
            let next = asm.label();
            asm.jump(JMP_JEQ_K, arch.audit_arch(), label, next);
            asm.bind(next);
        }
    }
    asm.ret(Action::KillProcess.ret());
}

/// In the x86_64 section (A holds the number): sends numbers with the x32
/// bit to the x32 section if the profile has one, else to `bad_arch`.
fn split_off_x32(asm: &mut Asm, x32: Option<Label>, bad_arch: Label) {
    let native = asm.label();
    if let Some(x32) = x32 {
        asm.jump(JMP_JGE_K, X32_SYSCALL_BIT, x32, native);
    } else {
        // Not -1 though (the number of syscall(-1), or of a call a tracer
        // cancelled): as with libseccomp it is an unknown native number.
        let x32_bit = asm.label();
        asm.jump(JMP_JGE_K, X32_SYSCALL_BIT, x32_bit, native);
        asm.bind(x32_bit);
        asm.jump(JMP_JEQ_K, u32::MAX, native, bad_arch);
    }
    asm.bind(native);
}

/// What the calls of a range of numbers lead to.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    /// A fixed return value.
    Ret(u32),
    /// Argument rules tried in order, then the fallback.
    Rules {
        rules: Vec<(Action, Vec<Cond>)>,
        fallback: Action,
    },
}

/// A range of syscall numbers starting at `start` and ending where the
/// next segment starts (or at the end of the ABI's number space).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Segment {
    start: u32,
    outcome: Outcome,
}

/// One rule naming a syscall.
#[derive(Debug, Clone, Copy)]
struct Mention<'p> {
    /// The syscall number (of the multiplexer for a multiplexed call).
    nr: u32,
    /// The rule's position in the profile.
    order: usize,
    /// The rule's action.
    action: Action,
    /// The rule's conditions.
    conds: &'p [Cond],
    /// For a call reached through a multiplexer: the call's number, which
    /// the multiplexer's first argument must equal.
    via: Option<u32>,
}

impl Mention<'_> {
    /// The conditions the filter tests: those of the rule, or for a
    /// multiplexed call the call number and the rule's conditions on the
    /// other arguments; cut to the low halves with 32-bit arguments.
    fn tested_conds(&self, narrow: bool) -> Vec<Cond> {
        let call = self.via.map(|call| Cond {
            index: 0,
            op: Op::Eq,
            value: u64::from(call),
            value_two: 0,
        });
        let own = self
            .conds
            .iter()
            .filter(|c| self.via.is_none() || c.index != 0);
        call.iter()
            .chain(own)
            .map(|c| if narrow { c.truncated() } else { *c })
            .collect()
    }

    /// Whether a multiplexed call's rule has no condition but the call
    /// number: it then decides alone for that number.
    fn bare_via(&self) -> Option<u32> {
        self.via.filter(|_| self.conds.iter().all(|c| c.index == 0))
    }
}

/// The rules naming a syscall of `arch`, by number, then profile order.
fn mentions<'p>(profile: &'p Profile<'_>, arch: Arch) -> Vec<Mention<'p>> {
    let mut out = Vec::new();
    for (order, rule) in profile.rules.iter().enumerate() {
        for name in rule.names {
            let mention = |nr, via| Mention {
                nr,
                order,
                action: rule.action,
                conds: &rule.conds,
                via,
            };
            if let Some(nr) = arch.resolve(name) {
                out.push(mention(nr, None));
            }
            if let Some((mux, call)) = arch.multiplexer(name) {
                out.push(mention(mux, Some(call)));
            }
        }
    }
    out.sort_by_key(|m| (m.nr, m.order));
    out
}

/// The ranges of `arch`'s number space with their outcomes, adjacent equal
/// returns merged.
fn segments(profile: &Profile<'_>, arch: Arch) -> Vec<Segment> {
    let mentions = mentions(profile, arch);
    let unknown = if profile.default.refuses() {
        Action::Errno(libc::ENOSYS as u16).ret()
    } else {
        profile.default.ret()
    };
    let (first, last) = arch.number_space();
    let mut out: Vec<Segment> = Vec::new();
    let mut push = |start: u32, outcome: Outcome| match out.last() {
        Some(prev) if prev.outcome == outcome && matches!(outcome, Outcome::Ret(_)) => {}
        _ => out.push(Segment { start, outcome }),
    };
    let mut cursor = Some(first);
    let mut rest = &mentions[..];
    for &nr in arch.numbers() {
        if let Some(gap) = cursor.filter(|&c| c < nr) {
            push(gap, Outcome::Ret(unknown));
        }
        let count = rest.iter().take_while(|m| m.nr == nr).count();
        let (entries, after) = rest.split_at(count);
        rest = after;
        push(nr, decide(entries, profile.default, arch.has_32bit_args()));
        cursor = nr.checked_add(1);
    }
    if let Some(c) = cursor.filter(|&c| c <= last) {
        push(c, Outcome::Ret(unknown));
    }
    out
}

/// The outcome of one syscall given the rules naming it, in profile order.
fn decide(entries: &[Mention<'_>], default: Action, narrow: bool) -> Outcome {
    // Rules that repeat the default action change nothing (libseccomp
    // refuses them, runc and crun skip them). An iterator made afresh for
    // each pass rather than a list of them: this runs for every number of
    // every ABI, and most numbers a rule names are decided by its first
    // unconditional rule, with nothing to allocate.
    let effective = || entries.iter().filter(|m| m.action != default);
    // As with libseccomp, the first rule without conditions decides alone.
    if let Some(m) = effective().find(|m| m.via.is_none() && m.conds.is_empty()) {
        return Outcome::Ret(m.action.ret());
    }
    // Likewise per multiplexed call: its first rule with no condition but
    // the call number (libseccomp drops the longer rules it prefixes).
    let first_bare = |call: u32| effective().position(|m| m.bare_via() == Some(call));
    let mut rules: Vec<(Action, Vec<Cond>)> = effective()
        .enumerate()
        .filter(|&(i, m)| {
            m.via
                .map_or(true, |call| first_bare(call).map_or(true, |b| b == i))
        })
        .map(|(_, m)| (m.action, m.tested_conds(narrow)))
        .collect();
    if rules.is_empty() {
        return Outcome::Ret(default.ret());
    }
    // Stable: ties keep profile order.
    rules.sort_by_key(|(action, _)| action.rank());
    Outcome::Rules {
        rules,
        fallback: default,
    }
}

/// The code of one ABI: the search tree, the argument blocks, and the
/// shared return instructions emitted last.
struct Section<'a> {
    asm: &'a mut Asm,
    narrow: bool,
    rets: Vec<(u32, Label)>,
}

impl<'a> Section<'a> {
    fn new(asm: &'a mut Asm, narrow: bool) -> Self {
        Section {
            asm,
            narrow,
            rets: Vec::new(),
        }
    }

    /// Emits the section for `segments` (A holds the syscall number).
    fn emit(mut self, segments: &[Segment]) {
        self.tree(segments);
        for (value, label) in std::mem::take(&mut self.rets) {
            self.asm.bind(label);
            self.asm.ret(value);
        }
    }

    /// The label of the shared `ret value`.
    fn ret_label(&mut self, value: u32) -> Label {
        if let Some((_, label)) = self.rets.iter().find(|(v, _)| *v == value) {
            return *label;
        }
        let label = self.asm.label();
        self.rets.push((value, label));
        label
    }

    /// Binary search over `segments`: `jge` on the first number of the
    /// upper half, the lower half emitted first. A half that is a single
    /// fixed return is not emitted: the jump targets its shared `ret`.
    fn tree(&mut self, segments: &[Segment]) {
        if let [segment] = segments {
            return match &segment.outcome {
                Outcome::Ret(value) => self.asm.ret(*value),
                Outcome::Rules { rules, fallback } => self.rules(rules, *fallback),
            };
        }
        let (low, high) = segments.split_at(segments.len() / 2);
        let (low_target, low_inline) = self.target(low);
        let (high_target, high_inline) = self.target(high);
        self.asm
            .jump(JMP_JGE_K, high[0].start, high_target, low_target);
        for (inline, half, label) in [
            (low_inline, low, low_target),
            (high_inline, high, high_target),
        ] {
            if inline {
                self.asm.bind(label);
                self.tree(half);
            }
        }
    }

    /// Where to jump for `half`, and whether its code must be emitted.
    fn target(&mut self, half: &[Segment]) -> (Label, bool) {
        match half {
            [Segment {
                outcome: Outcome::Ret(value),
                ..
            }] => (self.ret_label(*value), false),
            _ => (self.asm.label(), true),
        }
    }

    /// Tries `rules` in order; the first whose conditions all hold decides.
    fn rules(&mut self, rules: &[(Action, Vec<Cond>)], fallback: Action) {
        for (i, (action, conds)) in rules.iter().enumerate() {
            let last_rule = i + 1 == rules.len();
            let next = if last_rule {
                self.ret_label(fallback.ret())
            } else {
                self.asm.label()
            };
            let matched = self.ret_label(action.ret());
            for (j, cond) in conds.iter().enumerate() {
                let hold = if j + 1 == conds.len() {
                    matched
                } else {
                    self.asm.label()
                };
                self.cond(cond, hold, next);
                if j + 1 < conds.len() {
                    self.asm.bind(hold);
                }
            }
            if !last_rule {
                self.asm.bind(next);
            }
        }
    }

    /// Jumps to `yes` if `cond` holds, else to `no`.
    fn cond(&mut self, cond: &Cond, yes: Label, no: Label) {
        let index = cond.index;
        let (value, mask) = match cond.op {
            // As libseccomp: the compared value is masked too, so its bits
            // outside the mask are ignored rather than never matching.
            Op::MaskedEq => (cond.value_two & cond.value, Some(cond.value)),
            _ => (cond.value, None),
        };
        let (hi, lo) = ((value >> 32) as u32, value as u32);
        let load = |asm: &mut Asm, high: bool| {
            asm.load(bpf::offset_arg(index, high));
            if let Some(mask) = mask {
                asm.and(if high {
                    (mask >> 32) as u32
                } else {
                    mask as u32
                });
            }
        };
        // The low half decides; with 64-bit arguments the high half is
        // compared first and only an equal high half looks at the low one.
        let (code, lo_yes, lo_no) = match cond.op {
            Op::Eq | Op::MaskedEq => (JMP_JEQ_K, yes, no),
            Op::Ne => (JMP_JEQ_K, no, yes),
            Op::Gt => (JMP_JGT_K, yes, no),
            Op::Ge => (JMP_JGE_K, yes, no),
            Op::Lt => (JMP_JGE_K, no, yes),
            Op::Le => (JMP_JGT_K, no, yes),
        };
        if !self.narrow {
            let low = self.asm.label();
            load(self.asm, true);
            match cond.op {
                Op::Eq | Op::MaskedEq => self.asm.jump(JMP_JEQ_K, hi, low, no),
                Op::Ne => self.asm.jump(JMP_JEQ_K, hi, low, yes),
                Op::Gt | Op::Ge | Op::Lt | Op::Le => {
                    // Above: GT/GE hold, LT/LE fail; below: the reverse.
                    let (above, below) = match cond.op {
                        Op::Gt | Op::Ge => (yes, no),
                        _ => (no, yes),
                    };
                    let not_above = self.asm.label();
                    self.asm.jump(JMP_JGT_K, hi, above, not_above);
                    self.asm.bind(not_above);
                    self.asm.jump(JMP_JEQ_K, hi, low, below);
                }
            }
            self.asm.bind(low);
        }
        load(self.asm, false);
        self.asm.jump(code, lo, lo_yes, lo_no);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Seccomp;

    fn profile_segments(json: &str, arch: Arch) -> Vec<Segment> {
        let seccomp: Seccomp = serde_json::from_str(json).unwrap();
        segments(&Profile::parse(&seccomp).unwrap(), arch)
    }

    const ERRNO_EPERM: u32 = 0x0005_0001;
    const ERRNO_ENOSYS: u32 = 0x0005_0026;
    const ALLOW: u32 = 0x7fff_0000;

    #[test]
    fn ranges_merge_and_unknown_numbers_get_enosys() {
        let segs = profile_segments(
            r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[
                {"names":["read","write","open","close","no_such_call"],"action":"SCMP_ACT_ALLOW"}]}"#,
            Arch::X86_64,
        );
        let max = *Arch::X86_64.numbers().last().unwrap();
        assert_eq!(
            segs[..2],
            [
                Segment {
                    start: 0,
                    outcome: Outcome::Ret(ALLOW)
                },
                Segment {
                    start: 4,
                    outcome: Outcome::Ret(ERRNO_EPERM)
                },
            ]
        );
        // The hole 337..=423 of x86_64 and everything past the table.
        assert!(segs.contains(&Segment {
            start: 337,
            outcome: Outcome::Ret(ERRNO_ENOSYS)
        }));
        assert_eq!(
            segs.last(),
            Some(&Segment {
                start: max + 1,
                outcome: Outcome::Ret(ERRNO_ENOSYS)
            })
        );
    }

    #[test]
    fn allowing_default_keeps_unknown_numbers_allowed() {
        let segs = profile_segments(
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO"}]}"#,
            Arch::X86_64,
        );
        assert_eq!(
            segs,
            [
                Segment {
                    start: 0,
                    outcome: Outcome::Ret(ALLOW)
                },
                Segment {
                    start: 83,
                    outcome: Outcome::Ret(ERRNO_EPERM)
                },
                Segment {
                    start: 84,
                    outcome: Outcome::Ret(ALLOW)
                },
            ]
        );
    }

    /// The entries as mentions of one syscall, in this order.
    fn mentions_of<'a>(entries: &[(Action, &'a [Cond])]) -> Vec<Mention<'a>> {
        entries
            .iter()
            .enumerate()
            .map(|(order, &(action, conds))| Mention {
                nr: 7,
                order,
                action,
                conds,
                via: None,
            })
            .collect()
    }

    #[test]
    fn entries_combine_like_libseccomp() {
        let eq = |v| Cond {
            index: 0,
            op: Op::Eq,
            value: v,
            value_two: 0,
        };
        let (c1, c2) = ([eq(1)], [eq(2)]);
        let (c1, c2): (&[Cond], &[Cond]) = (&c1, &c2);
        // Conditional entries: the most restrictive matching one wins;
        // entries repeating the default are ignored.
        let entries = mentions_of(&[
            (Action::Errno(22), c1),
            (Action::Allow, c2),
            (Action::KillProcess, c2),
            (Action::Errno(1), c1),
        ]);
        assert_eq!(
            decide(&entries, Action::Errno(1), false),
            Outcome::Rules {
                rules: vec![
                    (Action::KillProcess, vec![eq(2)]),
                    (Action::Errno(22), vec![eq(1)]),
                    (Action::Allow, vec![eq(2)]),
                ],
                fallback: Action::Errno(1),
            }
        );
        // The first unconditional entry decides alone.
        let entries = mentions_of(&[
            (Action::KillProcess, c1),
            (Action::Allow, &[]),
            (Action::Errno(5), &[]),
        ]);
        assert_eq!(
            decide(&entries, Action::Errno(1), false),
            Outcome::Ret(ALLOW)
        );
        let entries = mentions_of(&[(Action::Errno(1), &[]), (Action::Allow, c1)]);
        assert_eq!(
            decide(&entries, Action::Errno(1), true),
            Outcome::Rules {
                rules: vec![(Action::Allow, vec![eq(1)])],
                fallback: Action::Errno(1)
            }
        );
    }

    #[test]
    fn x86_multiplexers_get_the_rules_of_their_calls() {
        let json = r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86"],"syscalls":[
            {"names":["socket"],"action":"SCMP_ACT_ERRNO","args":[
                {"index":0,"value":2,"op":"SCMP_CMP_EQ"},{"index":2,"value":6,"op":"SCMP_CMP_EQ"}]},
            {"names":["bind"],"action":"SCMP_ACT_ERRNO","args":[{"index":1,"value":9,"op":"SCMP_CMP_GT"}]},
            {"names":["bind","shmget"],"action":"SCMP_ACT_KILL_PROCESS"}]}"#;
        let at = |segs: &[Segment], nr: u32| {
            let i = segs.iter().rposition(|s| s.start <= nr).unwrap();
            segs[i].outcome.clone()
        };
        let eq = |index, value| Cond {
            index,
            op: Op::Eq,
            value,
            value_two: 0,
        };
        let segs = profile_segments(json, Arch::X86);
        // socket's first-argument condition gives way to SYS_SOCKET; the
        // bare bind rule (SYS_BIND) decides alone for bind.
        assert_eq!(
            at(&segs, 102),
            Outcome::Rules {
                rules: vec![
                    (Action::KillProcess, vec![eq(0, 2)]),
                    (Action::Errno(1), vec![eq(0, 1), eq(2, 6)]),
                ],
                fallback: Action::Allow,
            }
        );
        assert_eq!(
            at(&segs, 117),
            Outcome::Rules {
                rules: vec![(Action::KillProcess, vec![eq(0, 23)])],
                fallback: Action::Allow,
            }
        );
        // Their own numbers keep the rules as written.
        assert_eq!(at(&segs, 361), Outcome::Ret(Action::KillProcess.ret()));
        assert!(
            matches!(at(&segs, 359), Outcome::Rules { rules, .. } if rules[0].1 == [eq(0, 2), eq(2, 6)])
        );
        // x86_64 has no multiplexer.
        let segs = profile_segments(json, Arch::X86_64);
        assert!(matches!(at(&segs, 41), Outcome::Rules { .. }));
    }

    #[test]
    fn program_shape() {
        let seccomp: Seccomp = serde_json::from_str(
            r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86"],"syscalls":[
                {"names":["mkdir"],"action":"SCMP_ACT_ERRNO"},
                {"names":["personality"],"action":"SCMP_ACT_ERRNO",
                 "args":[{"index":0,"value":8,"op":"SCMP_CMP_NE"}]}]}"#,
        )
        .unwrap();
        let program = compile(&Profile::parse(&seccomp).unwrap()).unwrap();
        let (ld, jeq, jge, ret) = (bpf::LD_W_ABS, JMP_JEQ_K, JMP_JGE_K, bpf::RET_K);
        let i = |code, jt, jf, k| SockFilter { code, jt, jf, k };
        let expected = [
            // Arch dispatch: x86_64, x86, anything else killed.
            i(ld, 0, 0, 4),
            i(jeq, 2, 0, 0xc000_003e),
            i(jeq, 14, 0, 0x4000_0003),
            i(ret, 0, 0, 0x8000_0000),
            // x86_64: x32 numbers but -1 are a bad arch.
            i(ld, 0, 0, 0),
            i(jge, 0, 1, 0x4000_0000),
            i(jeq, 0, 19, 0xffff_ffff),
            // Search: mkdir (83) refused, personality (135) checked.
            i(jge, 1, 0, 84),
            i(jge, 7, 6, 83),
            i(jge, 0, 5, 135),
            i(jge, 4, 0, 136),
            // personality: arg 0 != 8 on both halves.
            i(ld, 0, 0, 0x14),
            i(jeq, 0, 3, 0),
            i(ld, 0, 0, 0x10),
            i(jeq, 0, 1, 8),
            i(ret, 0, 0, ALLOW),
            i(ret, 0, 0, ERRNO_EPERM),
            // x86: mkdir is 39, personality 136 with 32-bit arguments.
            i(ld, 0, 0, 0),
            i(jge, 1, 0, 40),
            i(jge, 5, 4, 39),
            i(jge, 0, 3, 136),
            i(jge, 2, 0, 137),
            i(ld, 0, 0, 0x10),
            i(jeq, 0, 1, 8),
            i(ret, 0, 0, ALLOW),
            i(ret, 0, 0, ERRNO_EPERM),
            // Bad arch.
            i(ret, 0, 0, 0x8000_0000),
        ];
        assert_eq!(program, expected);
    }

    #[test]
    fn programs_stay_within_kernel_limits() {
        // Every other syscall refused: the worst case for ranges.
        let names: Vec<String> = Arch::X86_64
            .numbers()
            .iter()
            .step_by(2)
            .map(|nr| {
                let table = super::super::syscalls::x86_64::BY_NAME;
                table.iter().find(|(_, n)| n == nr).unwrap().0.to_string()
            })
            .collect();
        let json = serde_json::json!({
            "defaultAction": "SCMP_ACT_ALLOW",
            "architectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"],
            "syscalls": [{"names": names, "action": "SCMP_ACT_ERRNO"}],
        });
        let seccomp: Seccomp = serde_json::from_value(json).unwrap();
        let program = compile(&Profile::parse(&seccomp).unwrap()).unwrap();
        assert!(program.len() <= bpf::MAX_INSNS);
        assert_eq!(program.last().map(|i| i.code), Some(bpf::RET_K));
    }
}
