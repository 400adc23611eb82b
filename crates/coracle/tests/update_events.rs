//! `update` and `events` wherever the tests run (see common/cg.rs): live
//! limits changed by runc's flags and by `linux.resources` documents (from
//! stdin and from a file) and read back from the host's files, from
//! systemd and from inside; device rules changed live; the statistics of
//! `events --stats`; an out-of-memory kill reported by the `events` stream,
//! which ends with the container.

mod common;

use common::*;
use serde_json::{json, Value};
use std::fs::{self, File};
use std::path::PathBuf;
use std::process::{Child, ExitStatus};

/// `update [args...] ID`.
fn update(c: &Container, args: &[&str]) -> Out {
    let mut all = vec!["update"];
    all.extend_from_slice(args);
    c.rt(&all, &[])
}

/// `update --resources - ID` with `resources` on stdin.
fn update_stdin(t: &Test, c: &Container, resources: &Value) -> Out {
    let path = t.dir.join(t.unique("resources.json"));
    fs::write(&path, resources.to_string()).unwrap();
    let mut cmd = t.command();
    cmd.args(["update", "--resources", "-", &c.id])
        .stdin(File::open(&path).unwrap());
    t.output(cmd)
}

/// The limits a test expects, per environment.
struct Limits<'a> {
    memory: &'a str,
    swap: &'a str,
    pids: &'a str,
}

/// Asserts the memory and pids limits in the host's files (and systemd's
/// view of the scope): `memory`/`swap` are the configuration's limit and
/// memory+swap limit, in bytes or "max".
#[track_caller]
fn assert_limits(place: &CgPlace, want: &Limits<'_>) {
    let read = |c, f| place.read(c, f);
    let v1_bytes = |v: &str| match v {
        // What cgroup v1 shows for "no limit": the largest page multiple.
        "max" => "9223372036854771712".to_string(),
        v => v.to_string(),
    };
    match cg_env() {
        CgEnv::V1 => {
            assert_eq!(
                read("memory", "memory.limit_in_bytes"),
                v1_bytes(want.memory)
            );
            assert_eq!(
                read("memory", "memory.memsw.limit_in_bytes"),
                v1_bytes(want.swap)
            );
        }
        CgEnv::V2 | CgEnv::Systemd => {
            assert_eq!(read("memory", "memory.max"), want.memory);
            let swap_only = match (want.memory, want.swap) {
                (_, "max") => "max".to_string(),
                (m, s) => (s.parse::<u64>().unwrap() - m.parse::<u64>().unwrap()).to_string(),
            };
            assert_eq!(read("memory", "memory.swap.max"), swap_only);
        }
    }
    assert_eq!(read("pids", "pids.max"), want.pids);
    if let Some(unit) = &place.unit {
        let infinity = |v: &str| {
            if v == "max" {
                "infinity".to_string()
            } else {
                v.to_string()
            }
        };
        let props = systemctl_show(unit, &["MemoryMax", "TasksMax"]);
        assert_eq!(props["MemoryMax"], infinity(want.memory), "{props:?}");
        assert_eq!(props["TasksMax"], infinity(want.pids), "{props:?}");
    }
}

#[test]
fn update_changes_live_limits() {
    let t = Test::new();
    let place = cg_place(&t);
    let mut b = t.bundle(&["sleep", "1000"]);
    b.cgroup(&place).resources(json!({
        "memory": {"limit": 64 * MIB, "swap": 128 * MIB, "reservation": 16 * MIB},
        "pids": {"limit": 50},
        "cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0", "mems": "0"}
    }));
    b.with_ns("cgroup", None);
    mount_cgroup(&mut b);
    let c = t.create_cg(&b);
    c.start();
    let (m64, m128) = ((64 * MIB).to_string(), (128 * MIB).to_string());
    assert_limits(
        &place,
        &Limits {
            memory: &m64,
            swap: &m128,
            pids: "50",
        },
    );

    // runc's flags, both spellings of values, runc's size units.
    let cpus = if std::thread::available_parallelism().unwrap().get() > 1 {
        "1"
    } else {
        "0"
    };
    update(
        &c,
        &[
            "--memory",
            "128m",
            "--memory-swap=256M",
            "--memory-reservation",
            "32MiB",
            "--pids-limit",
            "20",
            "--cpu-shares",
            "256",
            "--cpu-quota",
            "20000",
            "--cpu-period=50000",
            "--cpuset-cpus",
            cpus,
        ],
    )
    .ok();
    let m256 = (256 * MIB).to_string();
    assert_limits(
        &place,
        &Limits {
            memory: &m128,
            swap: &m256,
            pids: "20",
        },
    );
    match cg_env() {
        CgEnv::V1 => {
            assert_eq!(
                place.read("memory", "memory.soft_limit_in_bytes"),
                (32 * MIB).to_string()
            );
            assert_eq!(place.read("cpu", "cpu.shares"), "256");
            assert_eq!(place.read("cpu", "cpu.cfs_quota_us"), "20000");
            assert_eq!(place.read("cpu", "cpu.cfs_period_us"), "50000");
        }
        CgEnv::V2 | CgEnv::Systemd => {
            assert_eq!(place.read("memory", "memory.low"), (32 * MIB).to_string());
            assert_eq!(place.read("cpu", "cpu.weight"), "10");
            assert_eq!(place.read("cpu", "cpu.max"), "20000 50000");
        }
    }
    assert_eq!(place.read("cpuset", "cpuset.cpus"), cpus);
    let status = status_fields(&read(&PathBuf::from(format!("/proc/{}/status", c.pid))));
    assert_eq!(status["Cpus_allowed_list"], cpus);
    if let Some(unit) = &place.unit {
        assert_eq!(systemctl_show(unit, &["CPUWeight"])["CPUWeight"], "10");
    }
    // The container's own view of its cgroup follows.
    let seen = c.exec(&["cat", &inside("pids", "pids.max")]).ok();
    assert_eq!(seen.stdout, "20\n");
    update_blkio_weight(&c, &place);

    // A linux.resources document on stdin, as engines send it.
    update_stdin(
        &t,
        &c,
        &json!({"memory": {"limit": 96 * MIB, "swap": 192 * MIB}, "pids": {"limit": 30}}),
    )
    .ok();
    let (m96, m192) = ((96 * MIB).to_string(), (192 * MIB).to_string());
    assert_limits(
        &place,
        &Limits {
            memory: &m96,
            swap: &m192,
            pids: "30",
        },
    );

    // A document in a file; -1 lifts a limit.
    let file = t.dir.join("unlimited.json");
    fs::write(
        &file,
        json!({"memory": {"limit": -1, "swap": -1}, "pids": {"limit": -1}}).to_string(),
    )
    .unwrap();
    update(&c, &[&format!("--resources={}", file.display())]).ok();
    let unlimited = Limits {
        memory: "max",
        swap: "max",
        pids: "max",
    };
    assert_limits(&place, &unlimited);

    // What cannot be done changes nothing and says why in one line.
    let out = update(&c, &["--memory", "5x"]).fails_with_one_line();
    assert!(out.stderr.contains("--memory"), "{out}");
    let out = update(&c, &["--resources", "-", "--pids-limit", "5"]).fails_with_one_line();
    assert!(out.stderr.contains("cannot be used together"), "{out}");
    let out = update_stdin(&t, &c, &json!({"memory": {"limit": "x"}})).fails_with_one_line();
    assert!(
        out.stderr
            .contains("standard input: memory.limit: invalid type: string \"x\""),
        "{out}"
    );
    assert_limits(&place, &unlimited);
    let swappiness = json!({"memory": {"swappiness": 10}});
    let out = update_stdin(&t, &c, &swappiness);
    match cg_env() {
        CgEnv::V1 => {
            out.ok();
            assert_eq!(place.read("memory", "memory.swappiness"), "10");
        }
        CgEnv::V2 | CgEnv::Systemd => {
            let out = out.fails_with_one_line();
            assert!(out.stderr.contains("swappiness"), "{out}");
        }
    }
    assert_limits(&place, &unlimited);

    // A paused container takes updates and stays paused.
    c.rt(&["pause"], &[]).ok();
    update(&c, &["--pids-limit=40"]).ok();
    assert_eq!(place.read("pids", "pids.max"), "40");
    assert_eq!(c.status(), "paused");
    c.rt(&["resume"], &[]).ok();
}

/// `update --blkio-weight` read back from whichever weight file the kernel
/// has (io.weight is io.cost's 1..10000, BFQ's files the blkio range).
fn update_blkio_weight(c: &Container, place: &CgPlace) {
    let files = match cg_env() {
        CgEnv::V1 => [("blkio.weight", "300"), ("blkio.bfq.weight", "300")],
        CgEnv::V2 | CgEnv::Systemd => [
            ("io.weight", "default 2930"),
            ("io.bfq.weight", "default 300"),
        ],
    };
    let Some((file, want)) = files.iter().find(|(f, _)| place.file("blkio", f).exists()) else {
        let out = update(c, &["--blkio-weight", "300"]).fails_with_one_line();
        assert!(out.stderr.contains("blockIO.weight"), "{out}");
        return;
    };
    update(c, &["--blkio-weight", "300"]).ok();
    assert_eq!(place.read("blkio", file).lines().next().unwrap(), *want);
    if let Some(unit) = &place.unit {
        assert_eq!(systemctl_show(unit, &["IOWeight"])["IOWeight"], "2930");
    }
}

/// A container created without a controller gets it at `update`, as the
/// kubelet's CPU manager expects of a cpuset: on cgroup v1 the runtime
/// joins the hierarchy then, moving every process of the container (a
/// background child too); on cgroup v2 the controller was enabled at
/// create in the parent the runtime made. Then delete removes it all.
#[test]
fn update_adds_a_controller_the_container_was_created_without() {
    let t = Test::new();
    let place = cg_place_in_new_parent(&t);
    let mut b = t.bundle(&[]);
    b.cgroup(&place);
    b.sh("sleep 1000 & exec sleep 1000");
    let c = t.create_cg(&b);
    c.start();
    wait_for_comm(c.pid, "sleep");
    let child = wait_for_child(c.pid);
    update(&c, &["--cpuset-cpus", "0", "--cpuset-mems", "0"]).ok();
    assert_eq!(place.read("cpuset", "cpuset.cpus"), "0");
    assert_eq!(place.read("cpuset", "cpuset.mems"), "0");
    let procs = place.read("cpuset", "cgroup.procs");
    for pid in [c.pid, child] {
        assert!(
            procs.lines().any(|p| p == pid.to_string()),
            "{pid} in {procs}"
        );
        let status = status_fields(&read(&PathBuf::from(format!("/proc/{pid}/status"))));
        assert_eq!(status["Cpus_allowed_list"], "0", "{pid}");
    }
    let seen = c
        .exec(&["grep", "Cpus_allowed_list", "/proc/self/status"])
        .ok();
    assert_eq!(
        seen.stdout.split_whitespace().collect::<Vec<_>>(),
        ["Cpus_allowed_list:", "0"]
    );
    // The statistics show the cpuset (runc's cpuset section).
    let stats: Value =
        serde_json::from_str(&c.rt(&["events", "--stats"], &[]).ok().stdout).unwrap();
    let cpuset = &stats["data"]["cpuset"];
    assert_eq!(cpuset["cpus"], json!([0]), "{stats}");
    assert_eq!(cpuset["mems"], json!([0]), "{stats}");
    if cg_env() == CgEnv::V1 {
        assert_eq!(cpuset["sched_load_balance"], 1, "{stats}");
    }
    if let Some(unit) = &place.unit {
        let props = systemctl_show(unit, &["AllowedCPUs", "AllowedMemoryNodes"]);
        assert_eq!(props["AllowedCPUs"], "0", "{props:?}");
        assert_eq!(props["AllowedMemoryNodes"], "0", "{props:?}");
    }
    c.force_delete();
    assert!(
        place.existing_dirs().is_empty(),
        "cgroups left after delete"
    );
}

/// The only child of `pid`, once there is one (bounded poll).
#[track_caller]
fn wait_for_child(pid: i32) -> i32 {
    let end = std::time::Instant::now() + DEADLINE;
    loop {
        if let [child] = children_of(pid)[..] {
            return child;
        }
        assert!(std::time::Instant::now() < end, "{pid} has no child");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// runc's rule, which engines rely on: `--memory -1` without a word about
/// swap lifts the memory+swap limit too (memory+swap cannot stay below
/// an unlimited memory).
#[test]
fn lifting_the_memory_limit_lifts_swap_too() {
    let t = Test::new();
    let place = cg_place(&t);
    let mut b = t.bundle(&["sleep", "1000"]);
    b.cgroup(&place).resources(json!({
        "memory": {"limit": 64 * MIB, "swap": 128 * MIB}, "pids": {"limit": 50}
    }));
    let c = t.create_cg(&b);
    update(&c, &["--memory", "-1"]).ok();
    let lifted = Limits {
        memory: "max",
        swap: "max",
        pids: "50",
    };
    assert_limits(&place, &lifted);
    if let Some(unit) = &place.unit {
        let props = systemctl_show(unit, &["MemorySwapMax"]);
        assert_eq!(props["MemorySwapMax"], "infinity", "{props:?}");
    }
}

#[test]
fn update_changes_device_rules_live() {
    let t = Test::new();
    let place = cg_place(&t);
    let mut b = t.bundle(&["sleep", "1000"]);
    let _dev = plant_device(&t, &mut b);
    b.cgroup(&place);
    let c = t.create_cg(&b);
    c.start();
    let write = || {
        c.exec(&[
            "sh",
            "-c",
            "echo 'coracle test: device update' > /kmsg-node",
        ])
    };
    let out = write().fails();
    assert!(out.stderr.contains("Operation not permitted"), "{out}");

    let allow = json!({"devices": [
        {"allow": true, "type": "c", "major": 1, "minor": 11, "access": "w"}
    ]});
    update_stdin(&t, &c, &allow).ok();
    write().ok();
    if cg_env() == CgEnv::V1 {
        let list = place.read("devices", "devices.list");
        assert!(list.lines().any(|l| l == "c 1:11 w"), "{list}");
    }
    // The default devices stay whatever the update says.
    c.exec(&["sh", "-c", "head -c1 /dev/zero > /dev/null"]).ok();

    let deny = json!({"devices": [
        {"allow": false, "type": "c", "major": 1, "minor": 11, "access": "rwm"}
    ]});
    update_stdin(&t, &c, &deny).ok();
    let out = write().fails();
    assert!(out.stderr.contains("Operation not permitted"), "{out}");
}

#[test]
fn update_and_events_need_a_live_container() {
    let t = Test::new();
    let place = cg_place(&t);
    let mut b = t.bundle(&["true"]);
    b.cgroup(&place);
    let c = t.create_cg(&b);
    c.start();
    c.wait_stopped();
    let out = update(&c, &["--pids-limit", "10"]).fails_with_one_line();
    assert!(out.stderr.contains("stopped"), "{out}");
    let out = c.rt(&["events", "--stats"], &[]).fails_with_one_line();
    assert!(out.stderr.contains("stopped"), "{out}");
    t.rt(&["update", "--pids-limit", "10", "no-such-container"])
        .fails_with_one_line();
    t.rt(&["events", "no-such-container"]).fails_with_one_line();
    c.delete();
}

#[test]
fn events_stats_prints_one_object() {
    let t = Test::new();
    // Created without resources below a parent the runtime makes: on
    // cgroup v2 every controller must be enabled for the statistics (and
    // the update) all the same, as runc does.
    let place = cg_place_in_new_parent(&t);
    let mut b = t.bundle(&["sleep", "1000"]);
    b.cgroup(&place);
    let c = t.create_cg(&b);
    c.start();
    wait_for_comm(c.pid, "sleep");
    update(&c, &["--memory", "64m", "--pids-limit", "50"]).ok();
    if cg_env().unified() {
        // Block I/O is counted too (io.stat lists only devices used).
        assert!(place.file("io", "io.stat").exists(), "io not enabled");
    }
    for pause in [false, true] {
        if pause {
            c.rt(&["pause"], &[]).ok();
        }
        let out = c.rt(&["events", "--stats"], &[]).ok();
        assert_eq!(out.stdout.lines().count(), 1, "{out}");
        let event: Value = serde_json::from_str(&out.stdout).unwrap();
        assert_eq!(event["type"], "stats", "{out}");
        assert_eq!(event["id"], c.id.as_str(), "{out}");
        let data = &event["data"];
        assert_eq!(data["memory"]["usage"]["limit"], 64 * MIB, "{out}");
        assert!(
            data["memory"]["usage"]["usage"].as_u64().unwrap() > 0,
            "{out}"
        );
        assert_eq!(data["pids"]["current"], 1, "{out}");
        assert_eq!(data["pids"]["limit"], 50, "{out}");
        assert!(data["cpu"]["usage"]["total"].as_u64().unwrap() > 0, "{out}");
        assert!(data["cpu"]["throttling"]["periods"].is_u64(), "{out}");
        assert!(
            data["blkio"].is_object() && data["hugetlb"].is_object(),
            "{out}"
        );
        assert!(
            !data["memory"]["raw"].as_object().unwrap().is_empty(),
            "{out}"
        );
        if cg_env() == CgEnv::V1 {
            assert!(!data["cpu"]["usage"]["percpu"]
                .as_array()
                .unwrap()
                .is_empty());
        }
    }
    c.rt(&["resume"], &[]).ok();
    c.rt(&["events", "--interval", "0s"], &[])
        .fails_with_one_line();
}

/// A running `events` stream; killed (our own child) if the test fails.
struct EventStream {
    child: Child,
    out: PathBuf,
}

impl EventStream {
    fn start(t: &Test, id: &str, interval: &str) -> EventStream {
        let out = t.dir.join(t.unique("events.out"));
        let mut cmd = t.command();
        cmd.args(["events", "--interval", interval, id])
            .stdout(File::create(&out).unwrap())
            .stderr(File::create(out.with_extension("err")).unwrap());
        let child = cmd.spawn().expect("spawn events");
        EventStream { child, out }
    }

    /// Waits (bounded) for the stream to end by itself.
    fn wait(&mut self) -> ExitStatus {
        wait_child(&mut self.child, "events")
    }

    /// Every line, parsed.
    fn events(&self) -> Vec<Value> {
        read(&self.out)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
            .collect()
    }

    fn stderr(&self) -> String {
        read(&self.out.with_extension("err"))
    }
}

impl Drop for EventStream {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[test]
fn events_stream_reports_oom_and_ends_with_the_container() {
    let t = Test::new();
    // Created without a memory limit below a parent the runtime makes: the
    // memory controller must be there all the same for the update and the
    // watcher (on cgroup v2, enabled at create as runc does).
    let place = cg_place_in_new_parent(&t);
    let mut b = t.bundle(&[]);
    let out = b.out_dir(&t);
    b.cgroup(&place);
    // dd's 50 MB buffer is filled from /dev/zero.
    b.sh("while [ ! -e /out/go ]; do sleep 0.05; done; \
         dd if=/dev/zero of=/dev/null bs=50M count=1 2>/dev/null; echo $? > /out/dd; \
         exec sleep 1000");
    let c = t.create_cg(&b);
    c.start();
    // 8 MiB and no swap.
    update(&c, &["--memory", "8m", "--memory-swap", "8m"]).ok();
    let mut stream = EventStream::start(&t, &c.id, "100ms");
    // The first statistics come after the watcher is set up.
    wait_for_text(&stream.out, r#""type":"stats""#);
    fs::write(out.join("go"), "").unwrap();
    // Written once dd has ended (the file exists a moment before).
    let dd = wait_for_text(&out.join("dd"), "\n");
    assert_eq!(dd, "137\n", "dd was not killed");
    wait_for_text(&stream.out, r#""type":"oom""#);
    // The kernel counted the kill too (read while the cgroup exists:
    // systemd removes an emptied scope).
    let file = match cg_env() {
        CgEnv::V1 => "memory.oom_control",
        CgEnv::V2 | CgEnv::Systemd => "memory.events",
    };
    let counters = place.read("memory", file);
    let kills: u64 = counters
        .lines()
        .find_map(|l| l.strip_prefix("oom_kill "))
        .unwrap_or_else(|| panic!("no oom_kill in {counters}"))
        .parse()
        .unwrap();
    assert!(kills >= 1, "{counters}");

    c.rt(&["kill"], &["KILL"]).ok();
    let status = stream.wait();
    assert!(status.success(), "events: {status:?}: {}", stream.stderr());
    let events = stream.events();
    let oom = events.iter().filter(|e| e["type"] == "oom").count();
    assert!(oom >= 1, "{events:?}");
    for event in &events {
        assert_eq!(event["id"], c.id.as_str(), "{event}");
        match event["type"].as_str() {
            Some("oom") => assert_eq!(event, &json!({"type": "oom", "id": c.id})),
            Some("stats") => {
                assert_eq!(
                    event["data"]["memory"]["usage"]["limit"],
                    8 * MIB,
                    "{event}"
                )
            }
            _ => panic!("unexpected event {event}"),
        }
    }
}

#[test]
fn events_stream_ends_when_a_created_container_is_deleted() {
    let t = Test::new();
    let place = cg_place(&t);
    let mut b = t.bundle(&["sleep", "1000"]);
    b.cgroup(&place)
        .resources(json!({"memory": {"limit": 64 * MIB}}));
    let c = t.create_cg(&b);
    let mut stream = EventStream::start(&t, &c.id, "100ms");
    let text = wait_for_text(&stream.out, r#""type":"stats""#);
    assert!(text.contains(r#""pids":{"current":1"#), "{text}");
    c.force_delete();
    let status = stream.wait();
    assert!(status.success(), "events: {status:?}: {}", stream.stderr());
    assert!(stream.events().iter().all(|e| e["type"] == "stats"));
}
