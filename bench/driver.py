#!/usr/bin/env python3
"""Measurement driver of bench/run.sh (python3 stdlib only).

Runs every OCI runtime given on the same busybox bundle, each with its own
--root, and writes one JSON document of raw figures (report.py renders it).

How each figure is taken:
- A runtime command is started with posix_spawn and reaped with wait4: wall
  time from just before the spawn to the reap (perf_counter_ns), CPU = user +
  system of the command and of the children it waited for.
- This process is a child subreaper, so a container's init whose runtime has
  exited becomes our child: it is reaped (its rusage counts in the cycle's CPU)
  while later commands run, never left a zombie.
- Paired runs: in every iteration each runtime runs once, in a fresh random
  order; ratios are taken per iteration and their median reported.
- Peak RSS of create/exec/run also comes from GNU time (%M), and the waiting
  init's RSS from /proc/<pid>/status and smaps_rollup; state and list with
  100 containers present are timed in paired runs and by hyperfine.
"""
import argparse
import ctypes
import json
import os
import random
import select
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

PR_SET_CHILD_SUBREAPER = 36
ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
TIMEOUT = 30.0
VARIANTS = ("plain", "seccomp", "limits")
# The seccomp variant with each runtime's compiled-filter cache emptied
# before every create: what compiling and loading the profile costs when
# nothing was cached (a new profile, a new state root).
COLD = "seccomp_cold"
# Where runtimes keep compiled filters, under their --root: coracle's, and
# crun's (1.8.1 makes none here; later versions may).
SECCOMP_CACHES = (".seccomp-cache", ".cache/seccomp")


def say(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


class CmdError(Exception):
    """A runtime command failed, timed out, or its container misbehaved."""


class Run:
    """What one command cost: wall and CPU in seconds. (Its ru_maxrss is
    useless here: posix_spawn's child shares this process's memory until the
    exec, and the kernel keeps that peak; GNU time forks from a small process.)"""

    def __init__(self, wall, ru):
        self.wall = wall
        self.cpu = ru.ru_utime + ru.ru_stime
        self.reaped = {}


def try_reap(pid):
    """Reap pid if it is our exited child; its rusage, or None."""
    try:
        got, _, ru = os.wait4(pid, os.WNOHANG)
    except ChildProcessError:
        return None
    return ru if got == pid else None


class Bench:
    def __init__(self, args):
        self.a = args
        self.work = args.work
        self.rts = {}  # name -> binary
        for item in args.runtimes:
            name, path = item.split("=", 1)
            self.rts[name] = path
        self.skipped = {}
        self.samples = {}  # key -> rt -> {iteration: value}
        self.errors = {}  # key -> rt -> message
        self.extra = {}  # key -> rt -> free-form details
        self.live = {}  # id -> (rt, init pid or None)
        self.lock = threading.Lock()
        self.local = threading.local()
        self.counter = 0
        self.templates = {
            v: json.load(open(f"{self.work}/config-{v}.json")) for v in VARIANTS
        }
        self.templates[COLD] = self.templates["seccomp"]

    # ---- processes -------------------------------------------------------

    def spawn(self, argv, reap=(), timeout=TIMEOUT):
        """Run argv to completion, reaping the listed container inits if they
        exit meanwhile. Raises CmdError on a non-zero exit or a timeout."""
        errpath, actions = self.stdio()
        t0 = time.perf_counter_ns()
        try:
            pid = os.posix_spawn(argv[0], argv, ENV, file_actions=actions)
        except OSError as e:
            raise CmdError(f"{self.show(argv)}: {e.strerror}: {argv[0]}")
        fds = {os.pidfd_open(pid): pid}
        for other in reap:
            try:
                fds[os.pidfd_open(other)] = other
            except ProcessLookupError:
                pass
        poller = select.poll()
        for fd in fds:
            poller.register(fd, select.POLLIN)
        reaped, status, ru, t1 = {}, None, None, None
        try:
            while status is None:
                left = t0 / 1e9 + timeout - time.perf_counter_ns() / 1e9
                events = poller.poll(max(0, int(left * 1000))) if left > 0 else []
                if not events:
                    os.kill(pid, signal.SIGKILL)
                    os.wait4(pid, 0)
                    raise CmdError(f"{self.show(argv)}: timed out after {timeout:.0f} s")
                for fd, _ in events:
                    poller.unregister(fd)
                    who = fds[fd]
                    if who == pid:
                        _, status, ru = os.wait4(pid, 0)
                        t1 = time.perf_counter_ns()
                    else:
                        reaped[who] = try_reap(who)
        finally:
            for fd in fds:
                os.close(fd)
        if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
            why = (f"exit {os.WEXITSTATUS(status)}" if os.WIFEXITED(status)
                   else f"signal {os.WTERMSIG(status)}")
            raise CmdError(f"{self.show(argv)}: {why}: {self.stderr_tail(errpath)}")
        run = Run((t1 - t0) / 1e9, ru)
        run.reaped = reaped
        return run

    def stdio(self):
        """This thread's stdio for spawned commands: /dev/null in and out,
        stderr to a file emptied before each command (kept open, so that no
        open() is timed)."""
        t = self.local
        if not hasattr(t, "actions"):
            t.errpath = f"{self.work}/stderr.{threading.get_ident()}"
            null_r = os.open("/dev/null", os.O_RDONLY | os.O_CLOEXEC)
            null_w = os.open("/dev/null", os.O_WRONLY | os.O_CLOEXEC)
            t.err = os.open(t.errpath, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
            t.actions = [(os.POSIX_SPAWN_DUP2, null_r, 0), (os.POSIX_SPAWN_DUP2, null_w, 1),
                         (os.POSIX_SPAWN_DUP2, t.err, 2)]
        os.ftruncate(t.err, 0)
        return t.errpath, t.actions

    @staticmethod
    def show(argv):
        words = [os.path.basename(argv[0])]
        skip = False
        for w in argv[1:]:
            if skip:
                skip = False
            elif w == "--root":
                skip = True
            else:
                words.append(os.path.basename(w) if w.startswith("/") else w)
        return " ".join(words)

    @staticmethod
    def stderr_tail(path):
        try:
            lines = [l.strip() for l in open(path, errors="replace") if l.strip()]
        except OSError:
            return "(no stderr)"
        return lines[-1][:300] if lines else "(no stderr)"

    def wait_exit(self, pid, timeout=TIMEOUT):
        """Wait for a container init to exit; its rusage if it was our child."""
        try:
            fd = os.pidfd_open(pid)
        except ProcessLookupError:
            return None
        try:
            poller = select.poll()
            poller.register(fd, select.POLLIN)
            if not poller.poll(int(timeout * 1000)):
                raise CmdError(f"container init {pid} did not exit in {timeout:.0f} s")
        finally:
            os.close(fd)
        return try_reap(pid)

    def reap_strays(self):
        """Reap exited orphans (runtime helpers) that were reparented to us."""
        while True:
            try:
                got, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if got == 0:
                return

    # ---- containers ------------------------------------------------------

    def rt_argv(self, rt, *words):
        return [self.rts[rt], "--root", f"{self.work}/state/{rt}", *words]

    def new_bundle(self, rt, variant, args=("/bin/true",)):
        """A bundle directory of its own (config.json only; the rootfs is
        shared) whose cgroupsPath is unique to this run and container."""
        with self.lock:
            self.counter += 1
            cid = f"{variant}-{self.counter}"
        conf = dict(self.templates[variant])
        conf["process"] = dict(conf["process"], args=list(args))
        conf["linux"] = dict(conf["linux"], cgroupsPath=f"/{self.a.cgroup_prefix}/{rt}/{cid}")
        bundle = f"{self.work}/bundles/{rt}/{cid}"
        os.makedirs(bundle)
        with open(f"{bundle}/config.json", "w") as f:
            json.dump(conf, f)
        return cid, bundle

    def drop_bundle(self, bundle):
        for name in ("config.json", "pid"):
            try:
                os.unlink(f"{bundle}/{name}")
            except FileNotFoundError:
                pass
        os.rmdir(bundle)

    def clear_seccomp_cache(self, rt):
        """Empty the runtime's compiled-filter cache (untimed)."""
        for cache in SECCOMP_CACHES:
            shutil.rmtree(f"{self.work}/state/{rt}/{cache}", ignore_errors=True)

    def create(self, rt, cid, bundle, timed=None):
        """create --bundle B --pid-file P ID; returns (Run, init pid)."""
        self.live[cid] = (rt, None)
        argv = self.rt_argv(rt, "create", "--bundle", bundle, "--pid-file", f"{bundle}/pid", cid)
        if timed:
            argv = timed + argv
        run = self.spawn(argv)
        try:
            pid = int(open(f"{bundle}/pid").read().strip())
        except (OSError, ValueError) as e:
            raise CmdError(f"create {cid}: no usable --pid-file: {e}")
        self.live[cid] = (rt, pid)
        return run, pid

    def delete(self, rt, cid, pid=None, force=False):
        words = ["delete", "--force", cid] if force else ["delete", cid]
        run = self.spawn(self.rt_argv(rt, *words), reap=(pid,) if pid else ())
        if pid:
            self.wait_exit(pid, timeout=5)
        self.live.pop(cid, None)
        return run

    def forget(self, rt, cid, bundle):
        """Best-effort removal of a container after a failure."""
        _, pid = self.live.get(cid, (rt, None))
        try:
            self.delete(rt, cid, pid, force=True)
        except CmdError:
            pass
        self.live.pop(cid, None)
        try:
            self.drop_bundle(bundle)
        except OSError:
            pass

    def cleanup(self):
        for cid, (rt, pid) in list(self.live.items()):
            say(f"cleanup: {rt} delete --force {cid}")
            try:
                self.delete(rt, cid, pid, force=True)
            except CmdError as e:
                say(f"warning: {e}")
        self.reap_strays()

    # ---- one measurement each ------------------------------------------

    def cycle(self, rt, variant):
        """create, start, wait for /bin/true, delete: four commands."""
        cid, bundle = self.new_bundle(rt, variant)
        if variant == COLD:
            self.clear_seccomp_cache(rt)
        try:
            t0 = time.perf_counter_ns()
            c, pid = self.create(rt, cid, bundle)
            s = self.spawn(self.rt_argv(rt, "start", cid), reap=(pid,))
            init_ru = s.reaped.get(pid) or self.wait_exit(pid)
            d = self.delete(rt, cid)
            wall = (time.perf_counter_ns() - t0) / 1e9
        except CmdError:
            self.forget(rt, cid, bundle)
            raise
        self.drop_bundle(bundle)
        cpu = c.cpu + s.cpu + d.cpu
        if init_ru is not None:
            cpu += init_ru.ru_utime + init_ru.ru_stime
        return {"create.wall": c.wall, "create.cpu": c.cpu, "start.wall": s.wall,
                "start.cpu": s.cpu, "delete.wall": d.wall, "delete.cpu": d.cpu,
                "cycle.wall": wall, "cycle.cpu": cpu}

    def run_cmd(self, rt, variant, timed=None):
        """The `run` command: create + start + wait + delete in one process."""
        cid, bundle = self.new_bundle(rt, variant)
        if variant == COLD:
            self.clear_seccomp_cache(rt)
        self.live[cid] = (rt, None)
        argv = self.rt_argv(rt, "run", "--bundle", bundle, cid)
        try:
            r = self.spawn(timed + argv if timed else argv)
            if os.path.exists(f"{self.work}/state/{rt}/{cid}"):
                raise CmdError(f"run {cid}: the container was not deleted")
        except CmdError:
            self.forget(rt, cid, bundle)
            raise
        self.live.pop(cid, None)
        self.drop_bundle(bundle)
        return {"run.wall": r.wall, "run.cpu": r.cpu}

    def exec_cmd(self, rt, cid, timed=None):
        argv = self.rt_argv(rt, "exec", cid, "/bin/true")
        r = self.spawn(timed + argv if timed else argv)
        return {"exec.wall": r.wall, "exec.cpu": r.cpu}

    def start_sleeper(self, rt, variant):
        cid, bundle = self.new_bundle(rt, variant, args=("/bin/sleep", "100000"))
        try:
            _, pid = self.create(rt, cid, bundle)
            self.spawn(self.rt_argv(rt, "start", cid))
        except CmdError:
            self.forget(rt, cid, bundle)
            raise
        return cid, bundle, pid

    def stop_sleeper(self, rt, sleeper):
        cid, bundle, pid = sleeper
        self.forget(rt, cid, bundle)

    # ---- recording -------------------------------------------------------

    def record(self, key, rt, value, it=0):
        self.samples.setdefault(key, {}).setdefault(rt, {})[it] = value

    def fail(self, key, rt, err):
        self.errors.setdefault(key, {}).setdefault(rt, str(err))

    def order(self):
        names = [r for r in self.rts if r not in self.skipped]
        random.shuffle(names)
        return names

    # ---- phases ----------------------------------------------------------

    def smoke(self):
        for rt in list(self.rts):
            try:
                self.cycle(rt, "plain")
            except CmdError as e:
                self.skipped[rt] = f"smoke test (create, start, wait, delete) failed: {e}"
                say(f"SKIPPING {rt}: {self.skipped[rt]}")

    def harness_overhead(self):
        """The floors under the figures: the wall time of spawning and
        reaping a process that does nothing, and the peak RSS GNU time
        reports for a tiny static one (the forked copy of GNU time counts)."""
        for i in range(max(self.a.runs, 20)):
            self.record("harness.spawn", "harness", self.spawn(["/bin/true"]).wall, i)
        out = f"{self.work}/time.out"
        for i in range(5):
            self.spawn(["/usr/bin/time", "-f", "%M", "-o", out, "/bin/busybox", "true"])
            self.record("harness.rss", "harness", int(open(out).read().split()[-1]), i)

    def exits_with(self, argv, code):
        """True if argv exits with this status: proves that `run` and `exec`
        really ran the container's process and passed its status back."""
        try:
            self.spawn(argv)
        except CmdError as e:
            return f": exit {code}:" in str(e)
        return False

    def check_status(self, rt, variant, sleepers, broken):
        cid, bundle = self.new_bundle(rt, variant, args=("/bin/false",))
        if not self.exits_with(self.rt_argv(rt, "run", "--bundle", bundle, cid), 1):
            broken[(rt, "run")] = CmdError("run of /bin/false did not exit with status 1")
        self.forget(rt, cid, bundle)
        if rt in sleepers and not self.exits_with(
                self.rt_argv(rt, "exec", sleepers[rt][0], "/bin/false"), 1):
            broken[(rt, "exec")] = CmdError("exec of /bin/false did not exit with status 1")

    def paired(self, variant):
        """Alternating paired runs of run, the 4-command cycle and exec (not
        for the cold variant, whose point is create)."""
        a = self.a
        say(f"{variant}: {a.warmup} warm-up + {a.runs} paired iterations")
        sleepers, broken = {}, {}
        kinds = {
            "run": lambda rt: self.run_cmd(rt, variant),
            "cycle": lambda rt: self.cycle(rt, variant),
            "exec": lambda rt: self.exec_cmd(rt, sleepers[rt][0]),
        }
        if variant == COLD:
            del kinds["exec"]
        for rt in self.order():
            if "exec" in kinds:
                try:
                    sleepers[rt] = self.start_sleeper(rt, variant)
                except CmdError as e:
                    broken[(rt, "exec")] = e
            self.check_status(rt, variant, sleepers, broken)
        try:
            for it in range(a.warmup + a.runs):
                for kind, fn in kinds.items():
                    for rt in self.order():
                        if (rt, kind) in broken:
                            continue
                        try:
                            got = fn(rt)
                        except CmdError as e:
                            broken[(rt, kind)] = e
                            continue
                        if it >= a.warmup:
                            for k, v in got.items():
                                self.record(f"{variant}.{k}", rt, v, it)
            self.reap_strays()
            if variant != COLD:
                self.peak_rss(variant, sleepers, broken)
        finally:
            for rt, sl in sleepers.items():
                self.stop_sleeper(rt, sl)
        for (rt, kind), e in broken.items():
            for k in {"run": ("run.wall",), "cycle": ("cycle.wall", "create.wall"),
                      "exec": ("exec.wall",)}[kind]:
                self.fail(f"{variant}.{k}", rt, e)
            say(f"{variant}: {rt} {kind} failed: {e}")

    def peak_rss(self, variant, sleepers, broken):
        """Peak RSS of the runtime process per GNU time's %M (what
        `/usr/bin/time -v` prints as Maximum resident set size)."""
        out = f"{self.work}/time.out"
        timed = ["/usr/bin/time", "-f", "%M", "-o", out]

        def kib():
            return int(open(out).read().split()[-1])

        for rep in range(self.a.rss_reps):
            for rt in self.order():
                if (rt, "cycle") not in broken:
                    cid, bundle = self.new_bundle(rt, variant)
                    try:
                        _, pid = self.create(rt, cid, bundle, timed=timed)
                        self.record(f"rss.{variant}.create", rt, kib(), rep)
                    except CmdError as e:
                        self.fail(f"rss.{variant}.create", rt, e)
                    self.forget(rt, cid, bundle)
                if (rt, "run") not in broken:
                    try:
                        self.run_cmd(rt, variant, timed=timed)
                        self.record(f"rss.{variant}.run", rt, kib(), rep)
                    except CmdError as e:
                        self.fail(f"rss.{variant}.run", rt, e)
                if (rt, "exec") not in broken and rt in sleepers:
                    try:
                        self.exec_cmd(rt, sleepers[rt][0], timed=timed)
                        self.record(f"rss.{variant}.exec", rt, kib(), rep)
                    except CmdError as e:
                        self.fail(f"rss.{variant}.exec", rt, e)

    def many(self):
        """100 runs in a row; 100 creates with N workers; state and list
        with those containers present; the waiting inits' memory; delete."""
        a = self.a
        say(f"many: {a.many} runs in a row per runtime")
        for rt in self.order():
            t0 = time.perf_counter_ns()
            try:
                for _ in range(a.many):
                    self.run_cmd(rt, "plain")
                self.record("many.run_seq", rt, (time.perf_counter_ns() - t0) / 1e9)
            except CmdError as e:
                self.fail("many.run_seq", rt, e)

        say(f"many: {a.many} creates with {a.parallel} workers per runtime")
        created = {}
        try:
            for rt in self.order():
                bundles = [self.new_bundle(rt, "plain") for _ in range(a.many)]
                got = []
                t0 = time.perf_counter_ns()
                with ThreadPoolExecutor(a.parallel) as pool:
                    futs = [pool.submit(self.create, rt, cid, b) for cid, b in bundles]
                    for (cid, b), f in zip(bundles, futs):
                        try:
                            got.append((cid, b, f.result()[1]))
                        except CmdError as e:
                            self.fail("many.create_par", rt, e)
                            self.forget(rt, cid, b)
                wall = (time.perf_counter_ns() - t0) / 1e9
                created[rt] = got
                if len(got) == a.many:
                    self.record("many.create_par", rt, wall)
            self.init_memory(created)
            self.state_and_list(created)
        finally:
            say(f"many: deleting with {a.parallel} workers")
            for rt, got in created.items():
                t0 = time.perf_counter_ns()
                ok = True
                with ThreadPoolExecutor(a.parallel) as pool:
                    futs = [pool.submit(self.delete, rt, cid, pid, True) for cid, _, pid in got]
                    for (cid, b, _), f in zip(got, futs):
                        try:
                            f.result()
                            self.drop_bundle(b)
                        except CmdError as e:
                            ok = False
                            self.fail("many.delete_par", rt, e)
                if ok and len(got) == a.many:
                    self.record("many.delete_par", rt, (time.perf_counter_ns() - t0) / 1e9)
            self.reap_strays()

    def init_memory(self, created):
        """RSS of each created-but-not-started container's init."""
        for rt, got in created.items():
            for i, (cid, _, pid) in enumerate(got):
                try:
                    status = dict(l.split(":", 1) for l in open(f"/proc/{pid}/status"))
                    self.record("init.vmrss", rt, int(status["VmRSS"].split()[0]), i)
                    self.record("init.vmhwm", rt, int(status["VmHWM"].split()[0]), i)
                    for l in open(f"/proc/{pid}/smaps_rollup"):
                        if l.startswith("Pss:"):
                            self.record("init.pss", rt, int(l.split()[1]), i)
                except (OSError, KeyError, ValueError) as e:
                    self.fail("init.vmrss", rt, f"reading /proc/{pid}: {e}")

    def state_and_list(self, created):
        """`state ID` and `list` with the containers present: paired runs in
        alternating order, then hyperfine as a cross-check."""
        cmds = {}
        for rt, got in created.items():
            if not got:
                continue
            cid = got[len(got) // 2][0]
            for key, words in (("state", ["state", cid]), ("list", ["list"])):
                argv = self.rt_argv(rt, *words)
                try:
                    self.spawn(argv)
                    cmds[(key, rt)] = argv
                except CmdError as e:
                    self.fail(f"{key}.wall", rt, e)
        if not cmds:
            return
        say(f"many: state and list with {self.a.many} containers, paired")
        for it in range(self.a.warmup + self.a.runs):
            for key in ("state", "list"):
                for rt in self.order():
                    if (key, rt) not in cmds:
                        continue
                    try:
                        r = self.spawn(cmds[(key, rt)])
                    except CmdError as e:
                        self.fail(f"{key}.wall", rt, e)
                        del cmds[(key, rt)]
                        continue
                    if it >= self.a.warmup:
                        self.record(f"{key}.wall", rt, r.wall, it)
                        self.record(f"{key}.cpu", rt, r.cpu, it)
        self.hyperfine({f"{key}.{rt}": " ".join(argv) for (key, rt), argv in cmds.items()})

    def hyperfine(self, cmds):
        say(f"many: hyperfine state and list with {self.a.many} containers")
        out = f"{self.work}/hyperfine.json"
        argv = ["hyperfine", "-N", "--style", "basic", "--warmup", str(self.a.hf_warmup),
                "--runs", str(self.a.hf_runs), "--export-json", out]
        for name, cmd in cmds.items():
            argv += ["-n", name, cmd]
        with open(f"{self.work}/hyperfine.log", "w") as log:
            res = subprocess.run(argv, stdout=log, stderr=subprocess.STDOUT, env=ENV)
        if res.returncode != 0:
            for name in cmds:
                key, rt = name.split(".", 1)
                self.fail(f"{key}.hyperfine", rt, "hyperfine failed")
            return
        for r in json.load(open(out))["results"]:
            key, rt = r["command"].split(".", 1)
            for i, t in enumerate(r["times"]):
                self.record(f"{key}.hyperfine", rt, t, i)
            self.extra.setdefault(f"{key}.hyperfine_cpu_mean", {})[rt] = r["user"] + r["system"]

    def binaries(self):
        info = {}
        for rt, path in self.rts.items():
            d = {"path": path}
            try:
                d["size_bytes"] = os.stat(path).st_size
                d["file"] = run_text(["file", "-b", "-L", path])
                d["static"] = "statically linked" in d["file"] or "static-pie" in d["file"]
                d["libs"] = [] if d["static"] else shared_libs(path)
                d["version"] = run_text([path, "--version"]).splitlines()[0:2]
            except OSError as e:
                d["error"] = str(e)
            if rt in self.skipped:
                d["skipped"] = self.skipped[rt]
            info[rt] = d
        return info


def shared_libs(path):
    """Library names from ldd (the vDSO is not a file and is left out)."""
    libs = []
    for line in run_text(["ldd", path]).splitlines():
        words = line.split()
        if words and "vdso" not in words[0] and ("=>" in words or words[0].startswith("/")):
            libs.append(words[0])
    return libs


def run_text(argv):
    return subprocess.run(argv, capture_output=True, text=True, env=ENV).stdout.strip()


def summary(values):
    xs = sorted(values)
    s = {"n": len(xs), "median": statistics.median(xs), "min": xs[0], "max": xs[-1]}
    if len(xs) >= 2:
        q = statistics.quantiles(xs, n=4, method="inclusive")
        s["p25"], s["p75"] = q[0], q[2]
    else:
        s["p25"] = s["p75"] = xs[0]
    return s


def build_results(b):
    """Summaries per runtime and ratios to crun (paired per iteration when
    the figure was taken in paired runs)."""
    ref = "crun"
    out = {}
    for key in sorted(set(b.samples) | set(b.errors)):
        per = b.samples.get(key, {})
        entry = {"per_runtime": {rt: summary(v.values()) for rt, v in per.items() if v},
                 "ratio_to_crun": {}, "errors": b.errors.get(key, {})}
        for rt, v in per.items():
            if rt == ref or ref not in per or not v:
                continue
            if key.endswith(".hyperfine"):
                # hyperfine runs one command after another: not paired.
                ratios = [summary(v.values())["median"] / summary(per[ref].values())["median"]]
            else:
                ratios = [v[i] / per[ref][i] for i in v if i in per[ref] and per[ref][i] > 0]
            if ratios:
                entry["ratio_to_crun"][rt] = summary(ratios)
        out[key] = entry
    for key, per in b.extra.items():
        one = {rt: {"n": 1, "median": v, "min": v, "max": v, "p25": v, "p75": v}
               for rt, v in per.items()}
        ratios = {rt: summary([v / per[ref]])
                  for rt, v in per.items() if rt != ref and per.get(ref)}
        out[key] = {"per_runtime": one, "ratio_to_crun": ratios, "errors": {}}
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--work", required=True)
    p.add_argument("--runtime", dest="runtimes", action="append", default=[],
                   help="NAME=BINARY, repeatable")
    p.add_argument("--cgroup-prefix", required=True)
    p.add_argument("--runs", type=int, default=50)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--many", type=int, default=100)
    p.add_argument("--parallel", type=int, default=4)
    p.add_argument("--rss-reps", type=int, default=5)
    p.add_argument("--hf-runs", type=int, default=50)
    p.add_argument("--hf-warmup", type=int, default=5)
    p.add_argument("--out", required=True)
    a = p.parse_args()

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        sys.exit("bench: prctl(PR_SET_CHILD_SUBREAPER) failed")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    b = Bench(a)
    started = time.time()
    try:
        b.harness_overhead()
        b.smoke()
        if len(b.skipped) < len(b.rts):
            for v in VARIANTS + (COLD,):
                b.paired(v)
            b.many()
    finally:
        b.cleanup()
    doc = {
        "counts": {"runs": a.runs, "warmup": a.warmup, "many": a.many,
                   "parallel": a.parallel, "rss_reps": a.rss_reps, "hyperfine_runs": a.hf_runs},
        "duration_s": round(time.time() - started, 1),
        "runtimes": b.binaries(),
        "results": build_results(b),
    }
    with open(a.out, "w") as f:
        json.dump(doc, f, indent=1)
    if len(b.skipped) == len(b.rts):
        sys.exit("bench: every runtime failed its smoke test")


if __name__ == "__main__":
    main()
