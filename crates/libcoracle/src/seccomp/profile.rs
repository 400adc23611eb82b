//! Validation of `linux.seccomp` into a checked profile: actions, operators,
//! architectures and flags decoded, every error naming its field.

use super::arch::{parse_arch, Arch};
use super::SeccompError;
use crate::spec::{Seccomp, SeccompArg, SeccompSyscall};
use crate::sys::seccomp as sys;

/// What a filter tells the kernel to do with a syscall.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// `SCMP_ACT_KILL_PROCESS`.
    KillProcess,
    /// `SCMP_ACT_KILL_THREAD` (and `SCMP_ACT_KILL`).
    KillThread,
    /// `SCMP_ACT_TRAP`: deliver SIGSYS.
    Trap,
    /// `SCMP_ACT_ERRNO`: fail with this errno.
    Errno(u16),
    /// `SCMP_ACT_NOTIFY`: ask the listener.
    Notify,
    /// `SCMP_ACT_TRACE`: tell the ptracer, with this data.
    Trace(u16),
    /// `SCMP_ACT_LOG`: allow and log.
    Log,
    /// `SCMP_ACT_ALLOW`.
    Allow,
}

/// The action names of the specification, as `features` reports them.
pub const KNOWN_ACTIONS: &[&str] = &[
    "SCMP_ACT_KILL",
    "SCMP_ACT_KILL_PROCESS",
    "SCMP_ACT_KILL_THREAD",
    "SCMP_ACT_TRAP",
    "SCMP_ACT_ERRNO",
    "SCMP_ACT_TRACE",
    "SCMP_ACT_ALLOW",
    "SCMP_ACT_LOG",
    "SCMP_ACT_NOTIFY",
];

/// The errno `errnoRet` defaults to.
const DEFAULT_ERRNO: u16 = libc::EPERM as u16;

impl Action {
    /// The `SECCOMP_RET_*` value a filter returns for this action.
    pub fn ret(self) -> u32 {
        match self {
            Action::KillProcess => 0x8000_0000,
            Action::KillThread => 0,
            Action::Trap => 0x0003_0000,
            Action::Errno(errno) => 0x0005_0000 | u32::from(errno),
            Action::Notify => 0x7fc0_0000,
            Action::Trace(data) => 0x7ff0_0000 | u32::from(data),
            Action::Log => 0x7ffc_0000,
            Action::Allow => 0x7fff_0000,
        }
    }

    /// The kernel's precedence of actions, most restrictive first: when
    /// several rules match one call, the lowest rank wins (as between
    /// stacked filters).
    pub fn rank(self) -> u8 {
        match self {
            Action::KillProcess => 0,
            Action::KillThread => 1,
            Action::Trap => 2,
            Action::Errno(_) => 3,
            Action::Notify => 4,
            Action::Trace(_) => 5,
            Action::Log => 6,
            Action::Allow => 7,
        }
    }

    /// Whether the action refuses the call (kills, traps or fails it), so
    /// that a number the kernel may not know can get `ENOSYS` instead.
    pub fn refuses(self) -> bool {
        self.rank() <= Action::Errno(0).rank()
    }

    /// Decodes `name` with its optional `errnoRet`; `field` names the
    /// action's JSON field for errors.
    fn parse(name: &str, errno_ret: Option<u32>, field: &str) -> Result<Action, SeccompError> {
        let data = |errno: Option<u32>| -> Result<u16, SeccompError> {
            let Some(errno) = errno else {
                return Ok(DEFAULT_ERRNO);
            };
            u16::try_from(errno).map_err(|_| {
                invalid(
                    errno_field(field),
                    format!("{errno} does not fit the 16 bits of a seccomp return value"),
                )
            })
        };
        let action = match name {
            "SCMP_ACT_KILL" | "SCMP_ACT_KILL_THREAD" => Action::KillThread,
            "SCMP_ACT_KILL_PROCESS" => Action::KillProcess,
            "SCMP_ACT_TRAP" => Action::Trap,
            "SCMP_ACT_ERRNO" => return Ok(Action::Errno(data(errno_ret)?)),
            "SCMP_ACT_TRACE" => return Ok(Action::Trace(data(errno_ret)?)),
            "SCMP_ACT_NOTIFY" => Action::Notify,
            "SCMP_ACT_LOG" => Action::Log,
            "SCMP_ACT_ALLOW" => Action::Allow,
            _ => return Err(invalid(field.to_string(), format!("unknown action {name}"))),
        };
        if errno_ret.is_some() {
            return Err(invalid(
                errno_field(field),
                format!("{name} takes no errno"),
            ));
        }
        Ok(action)
    }
}

/// The errno field beside an action field: `defaultAction` has
/// `defaultErrnoRet`, `syscalls[i].action` has `syscalls[i].errnoRet`.
fn errno_field(action_field: &str) -> String {
    match action_field.strip_suffix("defaultAction") {
        Some(prefix) => format!("{prefix}defaultErrnoRet"),
        None => action_field.replace(".action", ".errnoRet"),
    }
}

fn invalid(field: String, reason: String) -> SeccompError {
    SeccompError::Invalid { field, reason }
}

/// An argument comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `SCMP_CMP_NE`.
    Ne,
    /// `SCMP_CMP_LT` (unsigned).
    Lt,
    /// `SCMP_CMP_LE` (unsigned).
    Le,
    /// `SCMP_CMP_EQ`.
    Eq,
    /// `SCMP_CMP_GE` (unsigned).
    Ge,
    /// `SCMP_CMP_GT` (unsigned).
    Gt,
    /// `SCMP_CMP_MASKED_EQ`: `arg & value == valueTwo`.
    MaskedEq,
}

/// The operator names of the specification, as `features` reports them.
pub const KNOWN_OPERATORS: &[&str] = &[
    "SCMP_CMP_NE",
    "SCMP_CMP_LT",
    "SCMP_CMP_LE",
    "SCMP_CMP_EQ",
    "SCMP_CMP_GE",
    "SCMP_CMP_GT",
    "SCMP_CMP_MASKED_EQ",
];

impl Op {
    fn parse(name: &str) -> Option<Op> {
        Some(match name {
            "SCMP_CMP_NE" => Op::Ne,
            "SCMP_CMP_LT" => Op::Lt,
            "SCMP_CMP_LE" => Op::Le,
            "SCMP_CMP_EQ" => Op::Eq,
            "SCMP_CMP_GE" => Op::Ge,
            "SCMP_CMP_GT" => Op::Gt,
            "SCMP_CMP_MASKED_EQ" => Op::MaskedEq,
            _ => return None,
        })
    }
}

/// One condition on a syscall argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cond {
    /// Argument index, 0 to 5.
    pub index: u8,
    /// Operator.
    pub op: Op,
    /// `value` (the mask for MASKED_EQ).
    pub value: u64,
    /// `valueTwo` (the compared value for MASKED_EQ).
    pub value_two: u64,
}

impl Cond {
    /// The condition as an ABI with 32-bit arguments sees it: libseccomp
    /// compares only the low halves there, and so do we.
    pub fn truncated(self) -> Cond {
        Cond {
            value: self.value & 0xffff_ffff,
            value_two: self.value_two & 0xffff_ffff,
            ..self
        }
    }
}

/// One validated `syscalls[]` entry, or one of the rules an entry becomes
/// (see `entry_rules`): all its conditions must hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule<'a> {
    /// The syscall names (not yet resolved: that is per ABI).
    pub names: &'a [String],
    /// What to do when the rule matches.
    pub action: Action,
    /// Conditions, ANDed.
    pub conds: Vec<Cond>,
}

/// The rules of one entry with these conditions. As runc and crun do it:
/// libseccomp takes at most one condition per argument in a rule, so an
/// entry with two conditions on the same argument becomes one rule per
/// condition, and its conditions are then ORed (all of them, also those on
/// the other arguments); any other entry is one rule, its conditions ANDed.
fn entry_rules(names: &[String], action: Action, conds: Vec<Cond>) -> Vec<Rule<'_>> {
    let repeated = conds
        .iter()
        .enumerate()
        .any(|(i, c)| conds[..i].iter().any(|d| d.index == c.index));
    if !repeated {
        return vec![Rule {
            names,
            action,
            conds,
        }];
    }
    conds
        .into_iter()
        .map(|cond| Rule {
            names,
            action,
            conds: vec![cond],
        })
        .collect()
}

/// A validated `linux.seccomp`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile<'a> {
    /// Action for calls no rule matches.
    pub default: Action,
    /// The ABIs to filter: native x86_64 first, then the listed ones.
    pub arches: Vec<Arch>,
    /// Rules in profile order.
    pub rules: Vec<Rule<'a>>,
}

/// The syscall that hands the listener from the init (or an exec'd
/// process) to the runtime, right after the filter is installed: a
/// `SCMP_ACT_NOTIFY` on it would wait for an agent that cannot have the
/// listener yet. Every later call may be notified (the agent then has the
/// listener and must answer them), as with runc, which refuses only
/// `write`, its own hand-over call; crun refuses nothing.
const NOT_NOTIFIABLE: &[&str] = &["sendmsg"];

impl<'a> Profile<'a> {
    /// Validates `seccomp`'s default action, architectures and rules.
    pub fn parse(seccomp: &'a Seccomp) -> Result<Profile<'a>, SeccompError> {
        let default = Action::parse(
            &seccomp.default_action,
            seccomp.default_errno_ret,
            "linux.seccomp.defaultAction",
        )?;
        if default == Action::Notify {
            return Err(invalid(
                "linux.seccomp.defaultAction".into(),
                "SCMP_ACT_NOTIFY cannot be the default action (the runtime's own calls would wait for the agent)".into(),
            ));
        }
        let mut rules = Vec::with_capacity(seccomp.syscalls.len());
        for (i, syscall) in seccomp.syscalls.iter().enumerate() {
            rules.extend(parse_entry(i, syscall)?);
        }
        check_listener(seccomp, &rules)?;
        Ok(Profile {
            default,
            arches: parse_arches(&seccomp.architectures)?,
            rules,
        })
    }
}

/// Whether `seccomp` has a `SCMP_ACT_NOTIFY` rule, so that installing it
/// yields a listener. Only looks at action names: cheap enough for a cache hit.
pub fn uses_notify(seccomp: &Seccomp) -> bool {
    seccomp
        .syscalls
        .iter()
        .any(|s| s.action == "SCMP_ACT_NOTIFY")
}

/// Validates `syscalls[i]` into its rules.
fn parse_entry(i: usize, syscall: &SeccompSyscall) -> Result<Vec<Rule<'_>>, SeccompError> {
    let field = format!("linux.seccomp.syscalls[{i}]");
    if syscall.names.is_empty() {
        return Err(invalid(
            format!("{field}.names"),
            "must name at least one syscall".into(),
        ));
    }
    let action = Action::parse(
        &syscall.action,
        syscall.errno_ret,
        &format!("{field}.action"),
    )?;
    let conds = syscall
        .args
        .iter()
        .enumerate()
        .map(|(j, arg)| parse_cond(arg, &format!("{field}.args[{j}]")))
        .collect::<Result<Vec<_>, _>>()?;
    if action == Action::Notify {
        if let Some(name) = syscall
            .names
            .iter()
            .find(|n| NOT_NOTIFIABLE.contains(&n.as_str()))
        {
            return Err(invalid(
                format!("{field}.names"),
                format!("SCMP_ACT_NOTIFY cannot apply to {name}, which hands the listener to the runtime"),
            ));
        }
    }
    Ok(entry_rules(&syscall.names, action, conds))
}

fn parse_cond(arg: &SeccompArg, field: &str) -> Result<Cond, SeccompError> {
    let op = Op::parse(&arg.op).ok_or_else(|| {
        invalid(
            format!("{field}.op"),
            format!("unknown operator {}", arg.op),
        )
    })?;
    let index = u8::try_from(arg.index)
        .ok()
        .filter(|i| *i < 6)
        .ok_or_else(|| {
            invalid(
                format!("{field}.index"),
                format!("{} is not an argument index (0 to 5)", arg.index),
            )
        })?;
    Ok(Cond {
        index,
        op,
        value: arg.value,
        value_two: arg.value_two,
    })
}

fn parse_arches(names: &[String]) -> Result<Vec<Arch>, SeccompError> {
    let mut arches = vec![Arch::X86_64];
    for (i, name) in names.iter().enumerate() {
        match parse_arch(name) {
            None => {
                return Err(invalid(
                    format!("linux.seccomp.architectures[{i}]"),
                    format!("unknown architecture {name}"),
                ))
            }
            // Another host's architecture: its calls never reach this kernel.
            Some(None) => {}
            Some(Some(arch)) => arches.push(arch),
        }
    }
    arches.sort();
    arches.dedup();
    Ok(arches)
}

fn check_listener(seccomp: &Seccomp, rules: &[Rule<'_>]) -> Result<(), SeccompError> {
    if seccomp.listener_metadata.is_some() && seccomp.listener_path.is_none() {
        return Err(invalid(
            "linux.seccomp.listenerMetadata".into(),
            "set without listenerPath".into(),
        ));
    }
    let notify = rules.iter().any(|r| r.action == Action::Notify);
    if notify && seccomp.listener_path.as_deref().unwrap_or("").is_empty() {
        return Err(invalid(
            "linux.seccomp.listenerPath".into(),
            "required when SCMP_ACT_NOTIFY is used".into(),
        ));
    }
    if notify && !sys::action_available(Action::Notify.ret()) {
        return Err(invalid(
            "linux.seccomp.syscalls".into(),
            "SCMP_ACT_NOTIFY is not supported by this kernel".into(),
        ));
    }
    Ok(())
}

/// The `SECCOMP_FILTER_FLAG_*` names of the specification and their bits.
pub const KNOWN_FLAGS: &[(&str, u32)] = &[
    ("SECCOMP_FILTER_FLAG_TSYNC", sys::FLAG_TSYNC),
    ("SECCOMP_FILTER_FLAG_LOG", sys::FLAG_LOG),
    ("SECCOMP_FILTER_FLAG_SPEC_ALLOW", sys::FLAG_SPEC_ALLOW),
    (
        "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
        sys::FLAG_WAIT_KILLABLE_RECV,
    ),
];

/// Whether the running kernel supports the flag `bit`.
pub fn flag_supported(bit: u32) -> bool {
    // WAIT_KILLABLE_RECV is only valid together with NEW_LISTENER.
    let probe = if bit == sys::FLAG_WAIT_KILLABLE_RECV {
        bit | sys::FLAG_NEW_LISTENER
    } else {
        bit
    };
    sys::filter_flags_known(probe)
}

/// Decodes `flags` into the bits to install with, given whether the filter
/// has a listener; a flag unknown or unsupported by the kernel is an error.
pub fn parse_flags(flags: &[String], listener: bool) -> Result<u32, SeccompError> {
    let mut bits = 0;
    for (i, name) in flags.iter().enumerate() {
        let field = || format!("linux.seccomp.flags[{i}]");
        let (_, bit) = KNOWN_FLAGS
            .iter()
            .find(|(n, _)| n == name)
            .ok_or_else(|| invalid(field(), format!("unknown flag {name}")))?;
        if !flag_supported(*bit) {
            return Err(invalid(
                field(),
                format!("{name} is not supported by this kernel"),
            ));
        }
        bits |= bit;
    }
    if listener {
        bits |= sys::FLAG_NEW_LISTENER;
        // The kernel refuses TSYNC with NEW_LISTENER unless a failed thread
        // sync may be reported as ESRCH.
        if bits & sys::FLAG_TSYNC != 0 {
            bits |= sys::FLAG_TSYNC_ESRCH;
        }
    } else {
        // Only meaningful for notifications, and refused without a listener.
        bits &= !sys::FLAG_WAIT_KILLABLE_RECV;
    }
    Ok(bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seccomp(json: &str) -> Seccomp {
        serde_json::from_str(json).unwrap()
    }

    fn error(json: &str) -> String {
        let s = seccomp(json);
        Profile::parse(&s)
            .and_then(|_| parse_flags(&s.flags, uses_notify(&s)))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn actions_decode_with_their_errno() {
        let s = seccomp(
            r#"{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":38,"syscalls":[
            {"names":["a"],"action":"SCMP_ACT_KILL"},
            {"names":["a"],"action":"SCMP_ACT_TRACE"},
            {"names":["a"],"action":"SCMP_ACT_ERRNO"},
            {"names":["a"],"action":"SCMP_ACT_TRACE","errnoRet":7}]}"#,
        );
        let p = Profile::parse(&s).unwrap();
        assert_eq!(p.default, Action::Errno(38));
        let actions: Vec<_> = p.rules.iter().map(|r| r.action).collect();
        assert_eq!(
            actions,
            [
                Action::KillThread,
                Action::Trace(1),
                Action::Errno(1),
                Action::Trace(7)
            ]
        );
        assert_eq!(p.arches, [Arch::X86_64]);
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            (
                r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["a"],"action":"SCMP_ACT_ALLOW"},{"names":["b"],"action":"SCMP_ACT_FOO"}]}"#,
                "linux.seccomp.syscalls[1].action: unknown action SCMP_ACT_FOO",
            ),
            (
                r#"{"defaultAction":"SCMP_ACT_NOPE"}"#,
                "linux.seccomp.defaultAction: unknown action SCMP_ACT_NOPE",
            ),
            (
                r#"{"defaultAction":"SCMP_ACT_ALLOW","defaultErrnoRet":1}"#,
                "linux.seccomp.defaultErrnoRet: SCMP_ACT_ALLOW takes no errno",
            ),
            (
                r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["a"],"action":"SCMP_ACT_LOG","errnoRet":1}]}"#,
                "linux.seccomp.syscalls[0].errnoRet: SCMP_ACT_LOG takes no errno",
            ),
            (
                r#"{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":70000}"#,
                "linux.seccomp.defaultErrnoRet: 70000 does not fit the 16 bits of a seccomp return value",
            ),
            (
                r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["a"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":1,"op":"SCMP_CMP_EQ"},{"index":1,"value":1,"op":"SCMP_CMP_SIMILAR"}]}]}"#,
                "linux.seccomp.syscalls[0].args[1].op: unknown operator SCMP_CMP_SIMILAR",
            ),
            (
                r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["a"],"action":"SCMP_ACT_ERRNO","args":[{"index":6,"value":1,"op":"SCMP_CMP_EQ"}]}]}"#,
                "linux.seccomp.syscalls[0].args[0].index: 6 is not an argument index (0 to 5)",
            ),
            (
                r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":[],"action":"SCMP_ACT_ERRNO"}]}"#,
                "linux.seccomp.syscalls[0].names: must name at least one syscall",
            ),
            (
                r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86","SCMP_ARCH_PDP11"]}"#,
                "linux.seccomp.architectures[1]: unknown architecture SCMP_ARCH_PDP11",
            ),
            (
                r#"{"defaultAction":"SCMP_ACT_ALLOW","flags":["SECCOMP_FILTER_FLAG_LOG","SECCOMP_FILTER_FLAG_FAST"]}"#,
                "linux.seccomp.flags[1]: unknown flag SECCOMP_FILTER_FLAG_FAST",
            ),
            (
                r#"{"defaultAction":"SCMP_ACT_NOTIFY"}"#,
                "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action (the runtime's own calls would wait for the agent)",
            ),
            (
                r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_NOTIFY"}]}"#,
                "linux.seccomp.listenerPath: required when SCMP_ACT_NOTIFY is used",
            ),
            (
                r#"{"defaultAction":"SCMP_ACT_ALLOW","listenerMetadata":"x"}"#,
                "linux.seccomp.listenerMetadata: set without listenerPath",
            ),
            (
                r#"{"defaultAction":"SCMP_ACT_ALLOW","listenerPath":"/s","syscalls":[{"names":["mkdir","sendmsg"],"action":"SCMP_ACT_NOTIFY"}]}"#,
                "linux.seccomp.syscalls[0].names: SCMP_ACT_NOTIFY cannot apply to sendmsg, which hands the listener to the runtime",
            ),
        ];
        for (json, want) in cases {
            assert_eq!(error(json), want, "{json}");
        }
    }

    #[test]
    fn conditions_on_one_argument_split_the_entry() {
        let s = seccomp(
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
            {"names":["a"],"action":"SCMP_ACT_ERRNO","args":[
                {"index":0,"value":1,"op":"SCMP_CMP_EQ"},{"index":1,"value":5,"op":"SCMP_CMP_EQ"}]},
            {"names":["b"],"action":"SCMP_ACT_ERRNO","args":[
                {"index":0,"value":1,"op":"SCMP_CMP_EQ"},{"index":1,"value":5,"op":"SCMP_CMP_EQ"},
                {"index":0,"value":2,"op":"SCMP_CMP_EQ"}]}]}"#,
        );
        let p = Profile::parse(&s).unwrap();
        let conds: Vec<(&str, Vec<(u8, u64)>)> = p
            .rules
            .iter()
            .map(|r| {
                let c = r.conds.iter().map(|c| (c.index, c.value)).collect();
                (r.names[0].as_str(), c)
            })
            .collect();
        assert_eq!(
            conds,
            [
                ("a", vec![(0, 1), (1, 5)]),
                ("b", vec![(0, 1)]),
                ("b", vec![(1, 5)]),
                ("b", vec![(0, 2)]),
            ]
        );
    }

    #[test]
    fn foreign_arches_are_skipped_and_native_always_present() {
        let s = seccomp(
            r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X32","SCMP_ARCH_AARCH64","SCMP_ARCH_X86","SCMP_ARCH_X86_64","SCMP_ARCH_X86"]}"#,
        );
        assert_eq!(
            Profile::parse(&s).unwrap().arches,
            [Arch::X86_64, Arch::X86, Arch::X32]
        );
    }

    #[test]
    fn flags_follow_the_listener() {
        let all: Vec<String> = KNOWN_FLAGS.iter().map(|(n, _)| n.to_string()).collect();
        let bits = parse_flags(&all, false).unwrap();
        assert_eq!(bits, sys::FLAG_TSYNC | sys::FLAG_LOG | sys::FLAG_SPEC_ALLOW);
        let bits = parse_flags(&all, true).unwrap();
        assert_eq!(
            bits,
            sys::FLAG_TSYNC
                | sys::FLAG_LOG
                | sys::FLAG_SPEC_ALLOW
                | sys::FLAG_WAIT_KILLABLE_RECV
                | sys::FLAG_NEW_LISTENER
                | sys::FLAG_TSYNC_ESRCH
        );
    }
}
