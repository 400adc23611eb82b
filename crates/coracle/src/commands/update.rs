//! `update`: the new `linux.resources`, from a JSON document (`--resources
//! FILE`, `-` for stdin, as engines send it) or from runc's flags, with
//! their value forms (sizes such as `512m`, `-1` for unlimited).

use super::Error;
use crate::args::{self, Matches};
use libcoracle::spec::{BlockIo, Cpu, Memory, Pids, Resources};
use std::io::Read;
use std::path::PathBuf;

/// The flags that set a resource (all but `--resources`).
const RESOURCE_FLAGS: [&str; 15] = [
    "blkio-weight",
    "cpu-period",
    "cpu-quota",
    "cpu-share",
    "cpu-shares",
    "cpu-rt-period",
    "cpu-rt-runtime",
    "cpuset-cpus",
    "cpuset-mems",
    "memory",
    "memory-reservation",
    "memory-swap",
    "pids-limit",
    "l3-cache-schema",
    "mem-bw-schema",
];

/// The resources `update` asks for. A document and flags do not mix:
/// runc would silently ignore the flags.
pub(super) fn resources(call: &Matches) -> Result<Resources, Error> {
    let flags_given: Vec<&str> = RESOURCE_FLAGS
        .into_iter()
        .filter(|flag| given(call, flag))
        .collect();
    match (call.value("resources"), flags_given.first()) {
        (Some(_), Some(flag)) => Err(Error::UpdateConflict(flag)),
        (Some(source), None) => read_document(source),
        (None, _) => from_flags(call),
    }
}

/// Reads a `linux.resources` document from a file or, for `-`, stdin.
fn read_document(source: &str) -> Result<Resources, Error> {
    let path = PathBuf::from(if source == "-" {
        "standard input"
    } else {
        source
    });
    let mut text = Vec::new();
    let read = match source {
        "-" => std::io::stdin().lock().read_to_end(&mut text).map(drop),
        file => std::fs::read(file).map(|bytes| text = bytes),
    };
    read.map_err(|source| Error::Io {
        step: "read",
        path: path.clone(),
        source,
    })?;
    libcoracle::spec::decode(&text).map_err(|source| Error::BadResources { path, source })
}

/// The resources of runc's flags; a flag absent leaves its field absent
/// (unchanged). As in runc, `--blkio-weight 0` and `--pids-limit 0` change
/// nothing.
fn from_flags(call: &Matches) -> Result<Resources, Error> {
    for unsupported in ["l3-cache-schema", "mem-bw-schema"] {
        if given(call, unsupported) {
            return Err(Error::NotSupportedFlag {
                flag: unsupported,
                why: "coracle does not manage Intel RDT",
            });
        }
    }
    let shares = match call.number::<u64>("cpu-share")? {
        Some(shares) => Some(shares),
        None => call.number("cpu-shares")?,
    };
    let cpu = Cpu {
        shares,
        quota: call.number("cpu-quota")?,
        period: call.number("cpu-period")?,
        realtime_runtime: call.number("cpu-rt-runtime")?,
        realtime_period: call.number("cpu-rt-period")?,
        cpus: call.value("cpuset-cpus").map(str::to_string),
        mems: call.value("cpuset-mems").map(str::to_string),
        ..Cpu::default()
    };
    let memory = Memory {
        limit: size_flag(call, "memory")?,
        reservation: size_flag(call, "memory-reservation")?,
        swap: size_flag(call, "memory-swap")?,
        ..Memory::default()
    };
    let weight = call.number::<u16>("blkio-weight")?.filter(|w| *w != 0);
    let pids_limit = call.number::<i64>("pids-limit")?.filter(|l| *l != 0);
    let cpu_given = cpu.shares.is_some()
        || cpu.quota.is_some()
        || cpu.period.is_some()
        || cpu.realtime_runtime.is_some()
        || cpu.realtime_period.is_some()
        || cpu.cpus.is_some()
        || cpu.mems.is_some();
    let memory_given =
        memory.limit.is_some() || memory.reservation.is_some() || memory.swap.is_some();
    Ok(Resources {
        cpu: cpu_given.then_some(cpu),
        memory: memory_given.then_some(memory),
        pids: pids_limit.map(|limit| Pids { limit }),
        block_io: weight.map(|weight| BlockIo {
            weight: Some(weight),
            ..BlockIo::default()
        }),
        ..Resources::default()
    })
}

/// Whether flag `flag` (which has no default) is on the command line.
fn given(call: &Matches, flag: &str) -> bool {
    call.value(flag).is_some()
}

/// A size flag's value in bytes; `-1` is unlimited.
fn size_flag(call: &Matches, flag: &'static str) -> Result<Option<i64>, Error> {
    let Some(text) = call.value(flag) else {
        return Ok(None);
    };
    match text {
        "-1" => Ok(Some(-1)),
        _ => parse_size(text).map(Some).ok_or_else(|| {
            Error::Usage(args::Error::BadValue {
                flag,
                value: text.to_string(),
                expected: "a size in bytes such as 1048576, 512k, 64m or 2g, or -1".to_string(),
            })
        }),
    }
}

/// A size as runc reads it (docker's `RAMInBytes`): a number, possibly
/// with a fraction, an optional space, and an optional unit of binary
/// multiples `k`, `m`, `g`, `t` or `p` (any case), optionally followed by
/// `i` and `b`/`B` (`64m`, `64MB`, `64MiB`, `1.5g`, `100 k`).
fn parse_size(text: &str) -> Option<i64> {
    let number_end = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(number_end);
    let unit = unit.strip_prefix(' ').unwrap_or(unit).to_ascii_lowercase();
    let unit = unit.strip_suffix('b').unwrap_or(&unit);
    let unit = unit.strip_suffix('i').unwrap_or(unit);
    let shift = match unit {
        "" if !text.ends_with(['i', 'I']) => 0,
        "k" => 10,
        "m" => 20,
        "g" => 30,
        "t" => 40,
        "p" => 50,
        _ => return None,
    };
    let (whole, fraction) = match number.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (number, None),
    };
    if whole.is_empty() || fraction.is_some_and(|f| f.is_empty() || f.contains('.')) {
        return None;
    }
    match fraction {
        None => whole.parse::<i64>().ok()?.checked_mul(1 << shift),
        // As docker does: a float, truncated.
        Some(_) => {
            let bytes = number.parse::<f64>().ok()? * (1u64 << shift) as f64;
            (bytes < i64::MAX as f64).then_some(bytes as i64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::{parse_command, Parsed};

    fn call(line: &str) -> Matches {
        let words: Vec<String> = line.split_whitespace().map(str::to_string).collect();
        match parse_command(&words) {
            Ok(Parsed::Go(matches)) => matches,
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn sizes_read_like_runc() {
        for (text, bytes) in [
            ("0", 0),
            ("1048576", 1 << 20),
            ("512k", 512 << 10),
            ("512K", 512 << 10),
            ("64m", 64 << 20),
            ("64MB", 64 << 20),
            ("64MiB", 64 << 20),
            ("64mb", 64 << 20),
            ("2g", 2 << 30),
            ("1t", 1 << 40),
            ("1.5g", 3 << 29),
            ("100 k", 100 << 10),
            ("7b", 7),
        ] {
            assert_eq!(parse_size(text), Some(bytes), "{text}");
        }
        for bad in [
            "", "k", "-5", "1.2.3", "1.", ".5", "5x", "5kk", "5i", "1  k",
        ] {
            assert_eq!(parse_size(bad), None, "{bad:?}");
        }
        assert_eq!(parse_size("9999999999p"), None);
    }

    #[test]
    fn flags_become_resources() {
        let m = call(
            "update --memory 64m --memory-swap=-1 --memory-reservation=32M --cpu-share 512 \
             --cpu-quota=-1 --cpu-period 100000 --cpu-rt-period 1000000 --cpu-rt-runtime 950000 \
             --cpuset-cpus 0-1 --cpuset-mems=0 --pids-limit 20 --blkio-weight 300 ID",
        );
        let r = resources(&m).unwrap();
        let memory = r.memory.unwrap();
        assert_eq!(memory.limit, Some(64 << 20));
        assert_eq!(memory.swap, Some(-1));
        assert_eq!(memory.reservation, Some(32 << 20));
        let cpu = r.cpu.unwrap();
        assert_eq!(cpu.shares, Some(512));
        assert_eq!(cpu.quota, Some(-1));
        assert_eq!(cpu.period, Some(100_000));
        assert_eq!(cpu.realtime_period, Some(1_000_000));
        assert_eq!(cpu.realtime_runtime, Some(950_000));
        assert_eq!(cpu.cpus.as_deref(), Some("0-1"));
        assert_eq!(cpu.mems.as_deref(), Some("0"));
        assert_eq!(r.pids.unwrap().limit, 20);
        assert_eq!(r.block_io.unwrap().weight, Some(300));
        assert!(r.devices.is_empty() && r.hugepage_limits.is_empty());
    }

    #[test]
    fn absent_flags_change_nothing() {
        let r = resources(&call("update --pids-limit 0 --blkio-weight 0 ID")).unwrap();
        assert!(r.pids.is_none() && r.block_io.is_none());
        assert!(r.memory.is_none() && r.cpu.is_none());
        let r = resources(&call("update --cpu-shares 100 ID")).unwrap();
        assert_eq!(r.cpu.unwrap().shares, Some(100));
        let r = resources(&call("update --pids-limit=-1 ID")).unwrap();
        assert_eq!(r.pids.unwrap().limit, -1);
    }

    #[test]
    fn bad_values_and_mixtures_are_refused() {
        let err = |line: &str| resources(&call(line)).unwrap_err().to_string();
        assert!(err("update --memory 5x ID").starts_with("invalid value '5x' for --memory"));
        assert!(err("update --cpu-quota x ID").starts_with("invalid value 'x' for --cpu-quota"));
        assert_eq!(
            err("update --resources - --memory 1m ID"),
            "--resources and --memory cannot be used together"
        );
        assert!(err("update --l3-cache-schema L3:0=f ID").contains("Intel RDT"));
    }

    #[test]
    fn documents_are_read_from_files() {
        let path = std::env::temp_dir().join(format!("coracle-update-{}.json", std::process::id()));
        std::fs::write(&path, r#"{"memory":{"limit":1048576},"pids":{"limit":5}}"#).unwrap();
        let m = call(&format!("update --resources={} ID", path.display()));
        let parsed = resources(&m);
        std::fs::write(&path, "{").unwrap();
        let broken = resources(&m);
        std::fs::remove_file(&path).unwrap();
        let r = parsed.unwrap();
        assert_eq!(r.memory.unwrap().limit, Some(1 << 20));
        assert_eq!(r.pids.unwrap().limit, 5);
        assert!(broken
            .unwrap_err()
            .to_string()
            .starts_with(&format!("parse resources {}: ", path.display())));
    }
}
