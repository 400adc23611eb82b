//! A mount's `options` (config.md, "Linux mount options"), parsed once in
//! the parent into what the container side passes to the kernel: `mount(2)`
//! flags, `mount_setattr` attributes for bind mounts, recursive attributes,
//! propagation changes, and the filesystem data string.

use crate::sys::mount::MountAttr;
use libc::c_ulong;
use std::ffi::CString;

/// The parsed options of one mount.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct MountOptions {
    /// `MS_*` flags for `mount(2)`, after applying the options in order
    /// (without `MS_BIND`/`MS_REC`, kept in `bind`).
    pub flags: c_ulong,
    /// `Some(recursive)` for `bind` / `rbind`.
    pub bind: Option<bool>,
    /// Attributes of the top mount of a bind, from the flag options: a
    /// bind ignores `mount(2)` flags, so they are applied with
    /// `mount_setattr`; flags not named keep the source's value.
    pub bind_attr: MountAttr,
    /// Attributes applied to the whole tree (`rro`, `rnosuid`…).
    pub recursive_attr: MountAttr,
    /// Propagation changes in order: `MS_SHARED`-like type and recursive.
    pub propagation: Vec<(u64, bool)>,
    /// `tmpcopyup`: copy the covered directory into the new tmpfs.
    pub tmpcopyup: bool,
    /// Options that are not flags, comma-joined for the filesystem.
    pub data: Option<CString>,
}

/// What one option does.
enum Effect {
    /// Sets `MS_*` bits.
    Set(c_ulong),
    /// Clears `MS_*` bits.
    Clear(c_ulong),
    /// `bind` (false) or `rbind` (true).
    Bind(bool),
    /// A propagation type, recursive or not.
    Propagation(c_ulong, bool),
    /// Sets `MOUNT_ATTR_*` bits on the whole tree.
    RecursiveSet(u64),
    /// Clears `MOUNT_ATTR_*` bits on the whole tree.
    RecursiveClear(u64),
    /// Sets the atime mode (`MOUNT_ATTR_RELATIME`…) on the whole tree.
    RecursiveAtime(u64),
    /// `tmpcopyup`.
    CopyUp,
    /// An idmapped mount, not supported yet.
    Idmap,
    /// `defaults`: nothing.
    Nothing,
}

fn effect(option: &str) -> Option<Effect> {
    use libc::*;
    use Effect::*;
    Some(match option {
        "defaults" => Nothing,
        "ro" => Set(MS_RDONLY),
        "rw" => Clear(MS_RDONLY),
        "nosuid" => Set(MS_NOSUID),
        "suid" => Clear(MS_NOSUID),
        "nodev" => Set(MS_NODEV),
        "dev" => Clear(MS_NODEV),
        "noexec" => Set(MS_NOEXEC),
        "exec" => Clear(MS_NOEXEC),
        "sync" => Set(MS_SYNCHRONOUS),
        "async" => Clear(MS_SYNCHRONOUS),
        "dirsync" => Set(MS_DIRSYNC),
        "remount" => Set(MS_REMOUNT),
        "mand" => Set(MS_MANDLOCK),
        "nomand" => Clear(MS_MANDLOCK),
        "noatime" => Set(MS_NOATIME),
        "atime" => Clear(MS_NOATIME),
        "nodiratime" => Set(MS_NODIRATIME),
        "diratime" => Clear(MS_NODIRATIME),
        "relatime" => Set(MS_RELATIME),
        "norelatime" => Clear(MS_RELATIME),
        "strictatime" => Set(MS_STRICTATIME),
        "nostrictatime" => Clear(MS_STRICTATIME),
        "lazytime" => Set(MS_LAZYTIME),
        "nolazytime" => Clear(MS_LAZYTIME),
        "iversion" => Set(MS_I_VERSION),
        "noiversion" => Clear(MS_I_VERSION),
        "silent" => Set(MS_SILENT),
        "loud" => Clear(MS_SILENT),
        "nosymfollow" => Set(MS_NOSYMFOLLOW),
        "symfollow" => Clear(MS_NOSYMFOLLOW),
        "bind" => Bind(false),
        "rbind" => Bind(true),
        "private" => Propagation(MS_PRIVATE, false),
        "rprivate" => Propagation(MS_PRIVATE, true),
        "shared" => Propagation(MS_SHARED, false),
        "rshared" => Propagation(MS_SHARED, true),
        "slave" => Propagation(MS_SLAVE, false),
        "rslave" => Propagation(MS_SLAVE, true),
        "unbindable" => Propagation(MS_UNBINDABLE, false),
        "runbindable" => Propagation(MS_UNBINDABLE, true),
        "rro" => RecursiveSet(MOUNT_ATTR_RDONLY),
        "rrw" => RecursiveClear(MOUNT_ATTR_RDONLY),
        "rnosuid" => RecursiveSet(MOUNT_ATTR_NOSUID),
        "rsuid" => RecursiveClear(MOUNT_ATTR_NOSUID),
        "rnodev" => RecursiveSet(MOUNT_ATTR_NODEV),
        "rdev" => RecursiveClear(MOUNT_ATTR_NODEV),
        "rnoexec" => RecursiveSet(MOUNT_ATTR_NOEXEC),
        "rexec" => RecursiveClear(MOUNT_ATTR_NOEXEC),
        "rnodiratime" => RecursiveSet(MOUNT_ATTR_NODIRATIME),
        "rdiratime" => RecursiveClear(MOUNT_ATTR_NODIRATIME),
        "rnosymfollow" => RecursiveSet(MOUNT_ATTR_NOSYMFOLLOW),
        "rsymfollow" => RecursiveClear(MOUNT_ATTR_NOSYMFOLLOW),
        "rnoatime" => RecursiveAtime(MOUNT_ATTR_NOATIME),
        // "atime"/"nostrictatime" only undo their opposite: the kernel's
        // default, relatime, is what mount(8) would leave.
        "ratime" | "rrelatime" | "rnostrictatime" => RecursiveAtime(MOUNT_ATTR_RELATIME),
        "rstrictatime" | "rnorelatime" => RecursiveAtime(MOUNT_ATTR_STRICTATIME),
        "tmpcopyup" => CopyUp,
        "idmap" | "ridmap" => Idmap,
        _ => return None,
    })
}

/// Every option [`parse`] takes but `idmap`/`ridmap` (refused: idmapped
/// mounts are not supported yet), for `features`' `mountOptions`.
const KNOWN: [&str; 60] = [
    "defaults",
    "ro",
    "rw",
    "nosuid",
    "suid",
    "nodev",
    "dev",
    "noexec",
    "exec",
    "sync",
    "async",
    "dirsync",
    "remount",
    "mand",
    "nomand",
    "noatime",
    "atime",
    "nodiratime",
    "diratime",
    "relatime",
    "norelatime",
    "strictatime",
    "nostrictatime",
    "lazytime",
    "nolazytime",
    "iversion",
    "noiversion",
    "silent",
    "loud",
    "nosymfollow",
    "symfollow",
    "bind",
    "rbind",
    "private",
    "rprivate",
    "shared",
    "rshared",
    "slave",
    "rslave",
    "unbindable",
    "runbindable",
    "rro",
    "rrw",
    "rnosuid",
    "rsuid",
    "rnodev",
    "rdev",
    "rnoexec",
    "rexec",
    "rnodiratime",
    "rdiratime",
    "rnosymfollow",
    "rsymfollow",
    "rnoatime",
    "ratime",
    "rrelatime",
    "rnostrictatime",
    "rstrictatime",
    "rnorelatime",
    "tmpcopyup",
];

/// The mount options this build recognizes (config.md "Linux mount
/// options"), for `features`.
pub fn known_mount_options() -> &'static [&'static str] {
    &KNOWN
}

/// The options whose meaning is the access-time mode.
const ATIME_FLAGS: c_ulong = libc::MS_NOATIME | libc::MS_RELATIME | libc::MS_STRICTATIME;

/// `MS_*` flags that a bind mount can change, and their `MOUNT_ATTR_*`.
const BIND_ATTRS: [(c_ulong, u64); 5] = [
    (libc::MS_RDONLY, libc::MOUNT_ATTR_RDONLY),
    (libc::MS_NOSUID, libc::MOUNT_ATTR_NOSUID),
    (libc::MS_NODEV, libc::MOUNT_ATTR_NODEV),
    (libc::MS_NOEXEC, libc::MOUNT_ATTR_NOEXEC),
    (libc::MS_NODIRATIME, libc::MOUNT_ATTR_NODIRATIME),
];

/// Parses `options`; the error is the problem, for the caller to prefix
/// with the mount's field name.
pub(crate) fn parse(options: &[String]) -> Result<MountOptions, String> {
    let mut parsed = MountOptions::default();
    let mut cleared: c_ulong = 0;
    let mut atime_named = false;
    let mut recursive_atime = None;
    let mut data: Vec<&str> = Vec::new();
    for option in options {
        let Some(effect) = effect(option) else {
            if option.contains('\0') {
                return Err(format!("option {option:?} contains a NUL byte"));
            }
            if !option.is_empty() {
                data.push(option);
            }
            continue;
        };
        match effect {
            Effect::Set(flag) => {
                parsed.flags |= flag;
                cleared &= !flag;
                atime_named |= flag & ATIME_FLAGS != 0;
            }
            Effect::Clear(flag) => {
                parsed.flags &= !flag;
                cleared |= flag;
                atime_named |= flag & ATIME_FLAGS != 0;
            }
            Effect::Bind(recursive) => {
                parsed.bind = Some(recursive || parsed.bind == Some(true));
            }
            Effect::Propagation(kind, recursive) => {
                parsed.propagation.push((kind, recursive));
            }
            Effect::RecursiveSet(attr) => {
                parsed.recursive_attr.set |= attr;
                parsed.recursive_attr.clear &= !attr;
            }
            Effect::RecursiveClear(attr) => {
                parsed.recursive_attr.clear |= attr;
                parsed.recursive_attr.set &= !attr;
            }
            Effect::RecursiveAtime(mode) => recursive_atime = Some(mode),
            Effect::CopyUp => parsed.tmpcopyup = true,
            Effect::Idmap => {
                return Err(format!(
                    "option {option:?}: idmapped mounts are not supported"
                ));
            }
            Effect::Nothing => {}
        }
    }
    if let Some(mode) = recursive_atime {
        parsed.recursive_attr.clear |= libc::MOUNT_ATTR__ATIME;
        parsed.recursive_attr.set |= mode;
    }
    parsed.bind_attr = bind_attr(parsed.flags, cleared, atime_named);
    if !data.is_empty() {
        // No NUL inside: checked above.
        parsed.data = CString::new(data.join(",")).ok();
    }
    Ok(parsed)
}

/// The `mount_setattr` change that gives a bind mount the flags named in
/// its options: named flags are set or cleared, the others kept.
fn bind_attr(flags: c_ulong, cleared: c_ulong, atime_named: bool) -> MountAttr {
    let mut attr = attr_of_flags(flags);
    attr.clear = attr_of_flags(cleared & !flags).set;
    if atime_named {
        attr.clear |= libc::MOUNT_ATTR__ATIME;
        // The kernel's precedence for mount(2): strictatime beats noatime,
        // and relatime is the default.
        attr.set |= if flags & libc::MS_STRICTATIME != 0 {
            libc::MOUNT_ATTR_STRICTATIME
        } else if flags & libc::MS_NOATIME != 0 {
            libc::MOUNT_ATTR_NOATIME
        } else {
            libc::MOUNT_ATTR_RELATIME
        };
    }
    attr
}

/// The `MOUNT_ATTR_*` bits to set for the `mount(2)` flags `flags` that
/// a bind mount can have (read-only, nosuid, nodev, noexec, nodiratime).
pub(crate) fn attr_of_flags(flags: c_ulong) -> MountAttr {
    let mut attr = MountAttr::default();
    for (flag, bit) in BIND_ATTRS {
        if flags & flag != 0 {
            attr.set |= bit;
        }
    }
    attr
}

/// Parses `linux.rootfsPropagation` into a propagation type and whether
/// the value asked for it recursively (the `r` forms runc also accepts).
pub(crate) fn parse_root_propagation(value: &str) -> Option<(c_ulong, bool)> {
    match value {
        "shared" => Some((libc::MS_SHARED, false)),
        "rshared" => Some((libc::MS_SHARED, true)),
        "slave" => Some((libc::MS_SLAVE, false)),
        "rslave" => Some((libc::MS_SLAVE, true)),
        "private" => Some((libc::MS_PRIVATE, false)),
        "rprivate" => Some((libc::MS_PRIVATE, true)),
        "unbindable" => Some((libc::MS_UNBINDABLE, false)),
        "runbindable" => Some((libc::MS_UNBINDABLE, true)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use libc::*;

    fn opts(list: &[&str]) -> Result<MountOptions, String> {
        parse(&list.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn flags_apply_in_order() {
        let o = opts(&["ro", "nosuid", "rw", "nodev", "noexec", "strictatime"]).unwrap();
        assert_eq!(o.flags, MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_STRICTATIME);
        assert_eq!(o.bind, None);
        assert_eq!(o.data, None);
    }

    #[test]
    fn every_flag_option_is_known() {
        for name in [
            "defaults",
            "ro",
            "rw",
            "suid",
            "nosuid",
            "dev",
            "nodev",
            "exec",
            "noexec",
            "sync",
            "async",
            "dirsync",
            "remount",
            "mand",
            "nomand",
            "atime",
            "noatime",
            "diratime",
            "nodiratime",
            "relatime",
            "norelatime",
            "strictatime",
            "nostrictatime",
            "lazytime",
            "nolazytime",
            "iversion",
            "noiversion",
            "silent",
            "loud",
            "nosymfollow",
            "symfollow",
            "bind",
            "rbind",
            "private",
            "rprivate",
            "shared",
            "rshared",
            "slave",
            "rslave",
            "unbindable",
            "runbindable",
            "rro",
            "rrw",
            "rnosuid",
            "rsuid",
            "rnodev",
            "rdev",
            "rnoexec",
            "rexec",
            "rnoatime",
            "ratime",
            "rrelatime",
            "rnorelatime",
            "rstrictatime",
            "rnostrictatime",
            "rnodiratime",
            "rdiratime",
            "rnosymfollow",
            "rsymfollow",
            "tmpcopyup",
        ] {
            assert_eq!(opts(&[name]).unwrap().data, None, "{name}");
        }
    }

    #[test]
    fn unknown_options_become_data() {
        let o = opts(&[
            "nosuid",
            "mode=755",
            "size=65536k",
            "newinstance",
            "",
            "gid=5",
        ])
        .unwrap();
        assert_eq!(o.flags, MS_NOSUID);
        assert_eq!(
            o.data.as_deref(),
            Some(c"mode=755,size=65536k,newinstance,gid=5")
        );
    }

    #[test]
    fn nul_in_data_is_refused() {
        assert!(opts(&["mode=7\u{0}55"]).unwrap_err().contains("NUL"));
    }

    #[test]
    fn idmap_is_refused() {
        let err = opts(&["rbind", "idmap"]).unwrap_err();
        assert!(
            err.contains("\"idmap\"") && err.contains("not supported"),
            "{err}"
        );
        assert!(opts(&["ridmap"]).is_err());
    }

    #[test]
    fn bind_and_rbind() {
        assert_eq!(opts(&["bind"]).unwrap().bind, Some(false));
        assert_eq!(opts(&["rbind"]).unwrap().bind, Some(true));
        assert_eq!(opts(&["rbind", "bind"]).unwrap().bind, Some(true));
        assert_eq!(opts(&["bind", "rbind"]).unwrap().bind, Some(true));
    }

    #[test]
    fn bind_attributes_set_named_and_clear_undone() {
        let o = opts(&["rbind", "ro", "nosuid", "exec"]).unwrap();
        assert_eq!(o.bind_attr.set, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID);
        assert_eq!(o.bind_attr.clear, MOUNT_ATTR_NOEXEC);
        assert_eq!(o.bind_attr.propagation, 0);
        // Nothing named: the source's attributes stay.
        assert_eq!(opts(&["bind"]).unwrap().bind_attr, MountAttr::default());
        // Set then cleared: only cleared.
        let o = opts(&["bind", "ro", "rw"]).unwrap();
        assert_eq!((o.bind_attr.set, o.bind_attr.clear), (0, MOUNT_ATTR_RDONLY));
    }

    #[test]
    fn bind_atime_follows_kernel_precedence() {
        let atime = |list: &[&str]| {
            let a = opts(list).unwrap().bind_attr;
            assert_eq!(a.clear & MOUNT_ATTR__ATIME, MOUNT_ATTR__ATIME);
            a.set & MOUNT_ATTR__ATIME
        };
        assert_eq!(atime(&["bind", "noatime"]), MOUNT_ATTR_NOATIME);
        assert_eq!(
            atime(&["bind", "noatime", "strictatime"]),
            MOUNT_ATTR_STRICTATIME
        );
        assert_eq!(atime(&["bind", "relatime"]), MOUNT_ATTR_RELATIME);
        assert_eq!(atime(&["bind", "noatime", "atime"]), MOUNT_ATTR_RELATIME);
    }

    #[test]
    fn recursive_attributes() {
        let o = opts(&["rbind", "rro", "rnosuid", "rexec", "rnoatime"]).unwrap();
        assert_eq!(
            o.recursive_attr.set,
            MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOATIME
        );
        assert_eq!(
            o.recursive_attr.clear,
            MOUNT_ATTR_NOEXEC | MOUNT_ATTR__ATIME
        );
        let o = opts(&["rro", "rrw"]).unwrap();
        assert_eq!(
            (o.recursive_attr.set, o.recursive_attr.clear),
            (0, MOUNT_ATTR_RDONLY)
        );
        let o = opts(&["rnoatime", "rstrictatime"]).unwrap();
        assert_eq!(o.recursive_attr.set, MOUNT_ATTR_STRICTATIME);
        // Recursive options are not mount(2) flags.
        assert_eq!(o.flags, 0);
    }

    #[test]
    fn every_known_option_parses() {
        for option in known_mount_options() {
            assert!(effect(option).is_some(), "{option}");
        }
    }

    #[test]
    fn propagation_keeps_order() {
        let o = opts(&["rbind", "rprivate", "shared"]).unwrap();
        assert_eq!(o.propagation, vec![(MS_PRIVATE, true), (MS_SHARED, false)]);
        assert_eq!(o.flags, 0);
    }

    #[test]
    fn tmpcopyup_and_remount() {
        let o = opts(&["tmpcopyup", "remount"]).unwrap();
        assert!(o.tmpcopyup);
        assert_eq!(o.flags, MS_REMOUNT);
    }

    #[test]
    fn root_propagation_values() {
        assert_eq!(parse_root_propagation("slave"), Some((MS_SLAVE, false)));
        assert_eq!(parse_root_propagation("rshared"), Some((MS_SHARED, true)));
        assert_eq!(
            parse_root_propagation("unbindable"),
            Some((MS_UNBINDABLE, false))
        );
        assert_eq!(parse_root_propagation("Shared"), None);
        assert_eq!(parse_root_propagation(""), None);
    }
}
