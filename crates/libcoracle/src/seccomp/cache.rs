//! An on-disk cache of compiled filters, keyed by a hash of the canonical
//! profile (its serialization).
//!
//! An entry stores the profile bytes next to the program, so a hash
//! collision is detected by comparing them, and a checksum over the whole
//! entry, so a damaged file reads as a miss (and is then rewritten). Writes
//! go to a temporary file renamed into place: a reader sees either the old
//! or the new entry. The cache is an optimisation only: any failure to read
//! or write it falls back to compiling.
//!
//! The directory must be writable by the runtime only (it is trusted: a
//! program read from it is installed as is).

use crate::sys::seccomp::SockFilter;
use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// Changes whenever the compiler's output for a profile may change (table
/// regeneration, code generation), so that older entries miss.
const COMPILER_REVISION: u32 = 1;

const MAGIC: &[u8; 8] = b"crclsecc";
/// magic, revision, profile length, instruction count, checksum.
const HEADER_LEN: usize = 8 + 4 + 4 + 4 + 8;

/// The compiled program stored for `profile` in `dir`, if a valid entry is
/// there.
pub fn load(dir: &Path, profile: &[u8]) -> Option<Vec<SockFilter>> {
    let data = fs::read(entry_path(dir, profile)).ok()?;
    decode(&data, profile)
}

/// Stores `program` compiled from `profile` in `dir`, replacing any entry.
/// Failures are ignored (the next run compiles again).
pub fn store(dir: &Path, profile: &[u8], program: &[SockFilter]) {
    let path = entry_path(dir, profile);
    let tmp = temp_path(&path);
    let written = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .and_then(|mut file| file.write_all(&encode(profile, program)))
        .and_then(|()| fs::rename(&tmp, &path));
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
}

fn entry_path(dir: &Path, profile: &[u8]) -> PathBuf {
    let mut hash = Fnv::default();
    hash.write(&COMPILER_REVISION.to_le_bytes());
    hash.write(profile);
    dir.join(format!("seccomp-{:016x}.bpf", hash.0))
}

/// A name no other writer uses at the same time: pid plus a counter.
fn temp_path(path: &Path) -> PathBuf {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{}.{n}.tmp", std::process::id()));
    PathBuf::from(name)
}

fn encode(profile: &[u8], program: &[SockFilter]) -> Vec<u8> {
    let mut body = Vec::with_capacity(profile.len() + program.len() * 8);
    body.extend_from_slice(profile);
    for insn in program {
        body.extend_from_slice(&insn.code.to_le_bytes());
        body.extend_from_slice(&[insn.jt, insn.jf]);
        body.extend_from_slice(&insn.k.to_le_bytes());
    }
    let mut out = Vec::with_capacity(HEADER_LEN + body.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&COMPILER_REVISION.to_le_bytes());
    out.extend_from_slice(&(profile.len() as u32).to_le_bytes());
    out.extend_from_slice(&(program.len() as u32).to_le_bytes());
    out.extend_from_slice(&checksum(&body).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

fn decode(data: &[u8], profile: &[u8]) -> Option<Vec<SockFilter>> {
    let (header, body) = data.split_at_checked(HEADER_LEN)?;
    let word = |at: usize| u32::from_le_bytes(header[at..at + 4].try_into().unwrap());
    let sum = u64::from_le_bytes(header[20..28].try_into().unwrap());
    if &header[..8] != MAGIC || word(8) != COMPILER_REVISION || checksum(body) != sum {
        return None;
    }
    let (profile_len, count) = (word(12) as usize, word(16) as usize);
    let (stored_profile, insns) = body.split_at_checked(profile_len)?;
    if stored_profile != profile || insns.len() != count * 8 {
        return None;
    }
    let program = insns
        .chunks_exact(8)
        .map(|b| SockFilter {
            code: u16::from_le_bytes([b[0], b[1]]),
            jt: b[2],
            jf: b[3],
            k: u32::from_le_bytes([b[4], b[5], b[6], b[7]]),
        })
        .collect();
    Some(program)
}

fn checksum(data: &[u8]) -> u64 {
    let mut hash = Fnv::default();
    hash.write(data);
    hash.0
}

/// FNV-1a, 64 bits: stable across builds (unlike std's hasher), and
/// collisions are harmless here since entries are compared in full.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn write(&mut self, data: &[u8]) {
        for &byte in data {
            self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::TempDir;
    use super::*;

    fn program() -> Vec<SockFilter> {
        vec![
            SockFilter {
                code: 0x20,
                jt: 0,
                jf: 0,
                k: 4,
            },
            SockFilter {
                code: 0x15,
                jt: 1,
                jf: 2,
                k: 0xc000_003e,
            },
            SockFilter {
                code: 0x06,
                jt: 0,
                jf: 0,
                k: 0x7fff_0000,
            },
        ]
    }

    #[test]
    fn round_trip_and_miss_on_other_profile() {
        let dir = TempDir::new("cache");
        assert_eq!(load(&dir.0, b"{a}"), None);
        store(&dir.0, b"{a}", &program());
        assert_eq!(load(&dir.0, b"{a}"), Some(program()));
        assert_eq!(load(&dir.0, b"{b}"), None);
        // No temporary file is left behind.
        assert_eq!(fs::read_dir(&dir.0).unwrap().count(), 1);
    }

    #[test]
    fn a_colliding_entry_is_not_used() {
        let dir = TempDir::new("collide");
        // Another profile's entry under this profile's name.
        fs::write(entry_path(&dir.0, b"{a}"), encode(b"{b}", &program())).unwrap();
        assert_eq!(load(&dir.0, b"{a}"), None);
    }

    #[test]
    fn corrupt_entries_are_ignored_and_rewritten() {
        let dir = TempDir::new("corrupt");
        let path = entry_path(&dir.0, b"{a}");
        let mut data = encode(b"{a}", &program());
        let last = data.len() - 1;
        data[last] ^= 1;
        fs::write(&path, &data).unwrap();
        assert_eq!(load(&dir.0, b"{a}"), None);
        fs::write(&path, &data[..10]).unwrap();
        assert_eq!(load(&dir.0, b"{a}"), None);
        store(&dir.0, b"{a}", &program());
        assert_eq!(load(&dir.0, b"{a}"), Some(program()));
    }
}
