//! Signal names, as `kill` and the engines write them.

/// The named signals of Linux, without their `SIG` prefix (aliases
/// included).
const SIGNALS: [(&str, i32); 34] = [
    ("HUP", libc::SIGHUP),
    ("INT", libc::SIGINT),
    ("QUIT", libc::SIGQUIT),
    ("ILL", libc::SIGILL),
    ("TRAP", libc::SIGTRAP),
    ("ABRT", libc::SIGABRT),
    ("IOT", libc::SIGABRT),
    ("BUS", libc::SIGBUS),
    ("FPE", libc::SIGFPE),
    ("KILL", libc::SIGKILL),
    ("USR1", libc::SIGUSR1),
    ("SEGV", libc::SIGSEGV),
    ("USR2", libc::SIGUSR2),
    ("PIPE", libc::SIGPIPE),
    ("ALRM", libc::SIGALRM),
    ("TERM", libc::SIGTERM),
    ("STKFLT", libc::SIGSTKFLT),
    ("CHLD", libc::SIGCHLD),
    ("CLD", libc::SIGCHLD),
    ("CONT", libc::SIGCONT),
    ("STOP", libc::SIGSTOP),
    ("TSTP", libc::SIGTSTP),
    ("TTIN", libc::SIGTTIN),
    ("TTOU", libc::SIGTTOU),
    ("URG", libc::SIGURG),
    ("XCPU", libc::SIGXCPU),
    ("XFSZ", libc::SIGXFSZ),
    ("VTALRM", libc::SIGVTALRM),
    ("PROF", libc::SIGPROF),
    ("WINCH", libc::SIGWINCH),
    ("IO", libc::SIGIO),
    ("POLL", libc::SIGPOLL),
    ("PWR", libc::SIGPWR),
    ("SYS", libc::SIGSYS),
];

/// Parses a signal: a number (`"9"`), a name with or without `SIG` in any
/// case (`"KILL"`, `"SIGKILL"`, `"sigterm"`), or a real-time signal
/// (`"RTMIN"`, `"SIGRTMIN+3"`, `"RTMAX-1"`, numbered as the C library and
/// kill(1) number them); `"0"`, which signals nothing and only checks
/// that the process exists (runc takes any number). `None` for anything
/// else.
pub fn parse_signal(s: &str) -> Option<i32> {
    let (min, max) = (libc::SIGRTMIN(), libc::SIGRTMAX());
    if let Some(number) = decimal(s) {
        return (0..=max).contains(&number).then_some(number);
    }
    let upper = s.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    if let Some(&(_, number)) = SIGNALS.iter().find(|(known, _)| *known == name) {
        return Some(number);
    }
    let number = if let Some(rest) = name.strip_prefix("RTMIN") {
        min.checked_add(offset(rest, '+')?)?
    } else if let Some(rest) = name.strip_prefix("RTMAX") {
        max.checked_sub(offset(rest, '-')?)?
    } else {
        return None;
    };
    (min..=max).contains(&number).then_some(number)
}

/// A number written with decimal digits only (no sign, no spaces).
fn decimal(s: &str) -> Option<i32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// The offset after `RTMIN`/`RTMAX`: nothing (0) or `sign` and a number.
fn offset(rest: &str, sign: char) -> Option<i32> {
    if rest.is_empty() {
        return Some(0);
    }
    decimal(rest.strip_prefix(sign)?)
}

#[cfg(test)]
mod tests {
    use super::parse_signal;

    #[test]
    fn numbers() {
        assert_eq!(parse_signal("9"), Some(9));
        assert_eq!(parse_signal("15"), Some(15));
        assert_eq!(parse_signal("64"), Some(64));
        assert_eq!(parse_signal("0"), Some(0));
        assert_eq!(parse_signal("65"), None);
        assert_eq!(parse_signal("-9"), None);
        assert_eq!(parse_signal("+9"), None);
        assert_eq!(parse_signal(" 9"), None);
        assert_eq!(parse_signal("99999999999"), None);
    }

    #[test]
    fn names() {
        assert_eq!(parse_signal("KILL"), Some(9));
        assert_eq!(parse_signal("SIGKILL"), Some(9));
        assert_eq!(parse_signal("sigterm"), Some(15));
        assert_eq!(parse_signal("Term"), Some(15));
        assert_eq!(parse_signal("HUP"), Some(1));
        assert_eq!(parse_signal("SIGWINCH"), Some(28));
        assert_eq!(parse_signal("CLD"), Some(17));
        assert_eq!(parse_signal("IOT"), Some(6));
        assert_eq!(parse_signal("SIGPWR"), Some(30));
        assert_eq!(parse_signal("SIGSYS"), Some(31));
        assert_eq!(parse_signal(""), None);
        assert_eq!(parse_signal("SIG"), None);
        assert_eq!(parse_signal("SIGFOO"), None);
        assert_eq!(parse_signal("SIGSIGKILL"), None);
    }

    #[test]
    fn real_time_signals() {
        let (min, max) = (libc::SIGRTMIN(), libc::SIGRTMAX());
        assert_eq!((min, max), (34, 64), "glibc on Linux");
        assert_eq!(parse_signal("RTMIN"), Some(34));
        assert_eq!(parse_signal("SIGRTMIN+3"), Some(37));
        assert_eq!(parse_signal("sigrtmin+30"), Some(64));
        assert_eq!(parse_signal("RTMIN+31"), None);
        assert_eq!(parse_signal("RTMAX"), Some(64));
        assert_eq!(parse_signal("SIGRTMAX-2"), Some(62));
        assert_eq!(parse_signal("RTMAX-30"), Some(34));
        assert_eq!(parse_signal("RTMAX-31"), None);
        assert_eq!(parse_signal("RTMIN-1"), None);
        assert_eq!(parse_signal("RTMAX+1"), None);
        assert_eq!(parse_signal("RTMIN+"), None);
        assert_eq!(parse_signal("RTMIN3"), None);
        assert_eq!(parse_signal("RTMIN+2147483647"), None);
        assert_eq!(parse_signal("RTMAX-2147483647"), None);
    }
}
