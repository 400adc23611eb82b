//! `linux.seccomp` rules through the binary, continued from seccomp.rs:
//! the actions TRAP, TRACE and LOG, KILL_THREAD told apart from
//! KILL_PROCESS, the x86 socket and IPC multiplexers, several conditions
//! on one argument, and syscalls newer than libseccomp that the tables
//! know. Each effect is seen from inside the container, by small static C
//! programs where busybox cannot show it.

mod common;

use common::*;
use serde_json::json;

/// Runs `args` in a container of bundle `b` whose profile gives mkdir
/// `action`.
fn mkdir_with(t: &Test, b: &mut Bundle, action: &str, args: &[&str]) -> Out {
    b.args(args);
    b.config["linux"]["seccomp"] = allow_but(json!([
        {"names": ["mkdir", "mkdirat"], "action": action}
    ]));
    t.run(b)
}

#[test]
fn trap_delivers_sigsys_to_the_process() {
    let t = Test::new();
    let mut b = helper_bundle(
        &t,
        "trapped",
        r#"
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
static volatile int trapped = -1;
static void on_sigsys(int sig, siginfo_t *info, void *ctx) {
    (void)sig, (void)ctx;
    trapped = info->si_syscall;
}
int main(void) {
    struct sigaction sa = {0};
    sa.sa_sigaction = on_sigsys;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSYS, &sa, 0);
    mkdir("/tmp/trapped", 0755);
    printf("SIGSYS for syscall %d\n", trapped);
    return 0;
}
"#,
    );
    // A handler sees the trapped call; without one SIGSYS kills.
    let out = mkdir_with(&t, &mut b, "SCMP_ACT_TRAP", &["trapped"]).ok();
    assert_eq!(out.stdout, "SIGSYS for syscall 83\n", "{out}");
    assert!(!b.rootfs().join("tmp/trapped").exists());
    let out = mkdir_with(&t, &mut b, "SCMP_ACT_TRAP", &["mkdir", "/tmp/x"]);
    assert_eq!(out.code, Some(128 + SIGSYS), "{out}");
}

#[test]
fn trace_without_a_tracer_fails_with_enosys_and_log_allows() {
    let t = Test::new();
    let mut b = t.bundle(&[]);
    let script = "mkdir /tmp/d 2>&1; [ -d /tmp/d ] && echo made; grep ^Seccomp: /proc/self/status";
    let out = mkdir_with(&t, &mut b, "SCMP_ACT_TRACE", &["sh", "-c", script]).ok();
    assert!(out.stdout.contains("Function not implemented"), "{out}");
    assert!(!out.stdout.contains("made"), "{out}");
    let out = mkdir_with(&t, &mut b, "SCMP_ACT_LOG", &["sh", "-c", script]).ok();
    assert_eq!(out.stdout, "made\nSeccomp:\t2\n", "{out}");
}

/// A program whose second thread calls mkdir while the first waits for it.
const THREADED_MKDIR: &str = r#"
#include <pthread.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
static void *worker(void *arg) {
    (void)arg;
    mkdir("/tmp/from-thread", 0755);
    write(1, "worker went on\n", 15);
    return NULL;
}
int main(void) {
    pthread_t th;
    pthread_create(&th, NULL, worker, NULL);
    pthread_join(th, NULL);
    write(1, "main survived\n", 14);
    return 0;
}
"#;

#[test]
fn kill_thread_kills_the_thread_and_kill_process_the_process() {
    let t = Test::new();
    let mut b = helper_bundle(&t, "threaded", THREADED_MKDIR);
    for action in ["SCMP_ACT_KILL_THREAD", "SCMP_ACT_KILL"] {
        let out = mkdir_with(&t, &mut b, action, &["threaded"]).ok();
        assert_eq!(out.stdout, "main survived\n", "{action}: {out}");
    }
    let out = mkdir_with(&t, &mut b, "SCMP_ACT_KILL_PROCESS", &["threaded"]);
    assert_eq!(out.code, Some(128 + SIGSYS), "{out}");
    assert_eq!(out.stdout, "", "{out}");
}

/// Socket and SysV IPC calls made through the i386 ABI (`int $0x80` from
/// a 64-bit program: pointers must then lie below 4 GiB), directly and
/// through the multiplexers socketcall(2) and ipc(2), and natively.
const I386_CALLS: &str = r#"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/socket.h>
static long i386(long nr, long a, long b, long c, long d) {
    long ret;
    __asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a), "c"(b), "d"(c), "S"(d)
                     : "memory", "r8", "r9", "r10", "r11");
    return ret;
}
static void show(const char *what, long ret) {
    printf("%s: %s\n", what, ret < 0 ? strerror(-ret) : "ok");
}
static long native(long ret) { return ret < 0 ? -errno : ret; }
int main(void) {
    unsigned *args = mmap(0, 4096, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
    show("x86_64 socket unix", native(socket(AF_UNIX, SOCK_STREAM, 0)));
    show("x86_64 socket inet", native(socket(AF_INET, SOCK_STREAM, 0)));
    show("x86 socket unix", i386(359, AF_UNIX, SOCK_STREAM, 0, 0));
    show("x86 socket inet", i386(359, AF_INET, SOCK_STREAM, 0, 0));
    args[0] = AF_UNIX, args[1] = SOCK_STREAM, args[2] = 0, args[3] = (unsigned)(long)(args + 8);
    show("x86 socketcall(SYS_SOCKET) unix", i386(102, 1, (long)args, 0, 0));
    show("x86 socketcall(SYS_SOCKETPAIR) unix", i386(102, 8, (long)args, 0, 0));
    show("x86_64 shmget", native(shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600)));
    show("x86 shmget", i386(395, IPC_PRIVATE, 4096, IPC_CREAT | 0600, 0));
    show("x86 ipc(SHMGET)", i386(117, 23, IPC_PRIVATE, 4096, IPC_CREAT | 0600));
    show("x86 ipc(SEMGET)", i386(117, 2, IPC_PRIVATE, 1, IPC_CREAT | 0600));
    return 0;
}
"#;

#[test]
fn x86_socket_and_ipc_rules_cover_their_multiplexers() {
    let t = Test::new();
    let mut b = helper_bundle(&t, "i386calls", I386_CALLS);
    let out = t.run(&b).ok();
    assert!(
        out.stdout.lines().all(|l| l.ends_with(": ok")),
        "without a filter every call works: {out}"
    );
    // socket(AF_INET) and shmget are refused, by their own numbers and
    // through the multiplexers. socketcall cannot see the family (its
    // arguments are behind a pointer): it refuses every socket(), as
    // libseccomp does for runc and crun.
    b.config["linux"]["seccomp"] = allow_but(json!([
        {"names": ["socket"], "action": "SCMP_ACT_ERRNO", "errnoRet": 97,
         "args": [{"index": 0, "value": 2, "op": "SCMP_CMP_EQ"}]},
        {"names": ["shmget"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}
    ]));
    let out = t.run(&b).ok();
    let refused_family = "Address family not supported by protocol";
    let expected = [
        ("x86_64 socket unix", "ok"),
        ("x86_64 socket inet", refused_family),
        ("x86 socket unix", "ok"),
        ("x86 socket inet", refused_family),
        ("x86 socketcall(SYS_SOCKET) unix", refused_family),
        ("x86 socketcall(SYS_SOCKETPAIR) unix", "ok"),
        ("x86_64 shmget", "Permission denied"),
        ("x86 shmget", "Permission denied"),
        ("x86 ipc(SHMGET)", "Permission denied"),
        ("x86 ipc(SEMGET)", "ok"),
    ];
    let lines: Vec<String> = expected.iter().map(|(w, r)| format!("{w}: {r}")).collect();
    assert_eq!(out.stdout.lines().collect::<Vec<_>>(), lines, "{out}");
}

#[test]
fn conditions_on_one_argument_are_ored_with_all_the_others() {
    let t = Test::new();
    let mut b = helper_bundle(
        &t,
        "getppid_with",
        r#"
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(int argc, char **argv) {
    for (int i = 1; i + 1 < argc; i += 2) {
        long a = strtol(argv[i], 0, 0), b = strtol(argv[i + 1], 0, 0);
        long r = syscall(SYS_getppid, a, b, 0, 0, 0, 0);
        printf("(%ld,%ld) %s\n", a, b, r < 0 ? "refused" : "allowed");
    }
    return 0;
}
"#,
    );
    // Two conditions on argument 0 and one on argument 1 in one entry:
    // runc 1.1.5 and crun 1.8.1 make each its own rule, so any one refuses.
    b.args(&[
        "getppid_with",
        "1",
        "0",
        "2",
        "0",
        "0",
        "5",
        "1",
        "5",
        "0",
        "0",
        "3",
        "7",
    ]);
    b.config["linux"]["seccomp"] = allow_but(json!([
        {"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 77, "args": [
            {"index": 0, "value": 1, "op": "SCMP_CMP_EQ"},
            {"index": 0, "value": 2, "op": "SCMP_CMP_EQ"},
            {"index": 1, "value": 5, "op": "SCMP_CMP_EQ"}]}
    ]));
    let out = t.run(&b).ok();
    assert_eq!(
        out.stdout,
        "(1,0) refused\n(2,0) refused\n(0,5) refused\n(1,5) refused\n(0,0) allowed\n(3,7) allowed\n",
        "{out}"
    );
}

#[test]
fn syscalls_newer_than_libseccomp_are_known() {
    if skip_unless_coracle("runc's libseccomp 2.5.4 does not know these names") {
        return;
    }
    let t = Test::new();
    let mut b = helper_bundle(
        &t,
        "newcalls",
        r#"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
int main(void) {
    const struct { const char *name; long nr; } calls[] = {
        {"statmount", 457}, {"mseal", 462}, {"listmount", 458}, {"listns", 470},
    };
    for (int i = 0; i < 4; i++) {
        errno = 0;
        long r = syscall(calls[i].nr, 0, 0, 1, 0, 0, 0);
        printf("%s: %s\n", calls[i].name, r < 0 ? strerror(errno) : "ok");
    }
    return 0;
}
"#,
    );
    // The kernel's own answers (bad arguments, or ENOSYS where it lacks
    // the call).
    let kernel = run_unfiltered(&t, &mut b);
    // Allowed, the kernel answers as without a filter; known but not
    // allowed, the default action (whatever the kernel); newer than Linux
    // 6.18 (listns), unknown to the filter: ENOSYS.
    b.config["linux"]["seccomp"] = refuse_but(&["statmount", "mseal"]);
    let out = t.run(&b).ok();
    let answers = |out: &Out| -> Vec<(String, String)> {
        out.stdout
            .lines()
            .map(|l| {
                let (name, answer) = l.split_once(": ").unwrap();
                (name.to_string(), answer.to_string())
            })
            .collect()
    };
    let (kernel, filtered) = (answers(&kernel), answers(&out));
    assert_eq!(kernel.len(), 4, "{kernel:?}");
    assert_eq!(filtered.len(), 4, "{out}");
    const ENOSYS: &str = "Function not implemented";
    let mut unseen = Vec::new();
    for ((name, bare), (_, got)) in kernel.iter().zip(&filtered) {
        match name.as_str() {
            "listmount" => assert_eq!(got, "Operation not permitted", "{name}: {out}"),
            _ if bare == ENOSYS => unseen.push(name.as_str()),
            "listns" => assert_eq!(got, ENOSYS, "{name} (the kernel: {bare}): {out}"),
            _ => assert_eq!(got, bare, "{name}, allowed: {out}"),
        }
    }
    if unseen.len() == 3 {
        skip_test(&format!(
            "the kernel has none of {unseen:?} (ENOSYS without a filter): \
             only listmount's refusal is seen"
        ));
    } else if !unseen.is_empty() {
        eprintln!("not seen here: {unseen:?} (ENOSYS without a filter too)");
    }
}
