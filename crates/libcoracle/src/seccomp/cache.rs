//! An on-disk cache of compiled filters, keyed by a hash of the canonical
//! profile (its serialization) and of the build that compiled it.
//!
//! An entry stores its key (build and profile) next to the program, so a
//! hash collision is detected by comparing them, and a checksum over the
//! whole entry, so a damaged file reads as a miss (and is then rewritten).
//! Writes go to a temporary file renamed into place: a reader sees either
//! the old or the new entry. The cache is an optimisation only: any failure
//! to read or write it falls back to compiling.
//!
//! A program read from the cache is installed as is, so an entry is only
//! trusted when nobody else could have written it: the directory and the
//! entry must belong to the runtime's user and be writable by nobody else
//! (the entry a regular file, not a link). Anything else reads as a miss,
//! and nothing is written into such a directory.

use crate::sys::seccomp::SockFilter;
use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// The build that compiles: another version or commit of the compiler may
/// compile a profile differently, so its entries must miss. (A build
/// without git is told apart by its version only.)
const BUILD: &str = concat!(env!("CARGO_PKG_VERSION"), "+", env!("CORACLE_GIT_COMMIT"));

/// The layout of an entry file.
const FORMAT: u32 = 2;

const MAGIC: &[u8; 8] = b"crclsecc";
/// magic, format, key length, instruction count, checksum.
const HEADER_LEN: usize = 8 + 4 + 4 + 4 + 8;

/// The compiled program stored for `profile` in `dir`, if a valid entry of
/// this build is there and can be trusted.
pub fn load(dir: &Path, profile: &[u8]) -> Option<Vec<SockFilter>> {
    if !trusted(&fs::symlink_metadata(dir).ok()?) {
        return None;
    }
    let key = Key::of(profile);
    let mut file = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(entry_path(dir, &key))
        .ok()?;
    let meta = file.metadata().ok()?;
    if !meta.is_file() || !trusted(&meta) {
        return None;
    }
    let mut data = Vec::with_capacity(meta.len() as usize);
    file.read_to_end(&mut data).ok()?;
    decode(&data, &key)
}

/// Whether a cache directory or entry could only have been written by the
/// runtime: its user owns it and nobody else may write to it.
fn trusted(meta: &fs::Metadata) -> bool {
    meta.uid() == crate::sys::process::geteuid() && meta.mode() & 0o022 == 0
}

/// The key of an entry: the build that compiled it and the profile, laid
/// out in the entry as the build, a NUL, then the profile. It only borrows
/// them: a profile is hashed, written and compared where it lies, never
/// copied into a key of its own.
#[derive(Debug, Clone, Copy)]
struct Key<'a> {
    build: &'a str,
    profile: &'a [u8],
}

impl<'a> Key<'a> {
    /// The key of `profile` for this build.
    fn of(profile: &'a [u8]) -> Self {
        Key {
            build: BUILD,
            profile,
        }
    }

    /// The key's bytes, in the order of the entry.
    fn parts(&self) -> [&'a [u8]; 3] {
        [self.build.as_bytes(), b"\0", self.profile]
    }

    fn len(&self) -> usize {
        self.parts().iter().map(|part| part.len()).sum()
    }

    /// Whether `stored`, an entry's key, is this one.
    fn matches(&self, stored: &[u8]) -> bool {
        let mut rest = stored;
        stored.len() == self.len()
            && self.parts().iter().all(|part| {
                let (head, tail) = rest.split_at(part.len());
                rest = tail;
                head == *part
            })
    }
}

/// Stores `program` compiled from `profile` in `dir`, replacing any entry.
/// Failures are ignored (the next run compiles again).
pub fn store(dir: &Path, profile: &[u8], program: &[SockFilter]) {
    if !fs::symlink_metadata(dir).is_ok_and(|meta| meta.is_dir() && trusted(&meta)) {
        return;
    }
    let key = Key::of(profile);
    let path = entry_path(dir, &key);
    let tmp = temp_path(&path);
    let written = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .and_then(|mut file| file.write_all(&encode(&key, program)))
        .and_then(|()| fs::rename(&tmp, &path));
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
}

fn entry_path(dir: &Path, key: &Key<'_>) -> PathBuf {
    let mut hash = Fnv::default();
    for part in key.parts() {
        hash.write(part);
    }
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

fn encode(key: &Key<'_>, program: &[SockFilter]) -> Vec<u8> {
    let mut body = Vec::with_capacity(key.len() + program.len() * 8);
    for part in key.parts() {
        body.extend_from_slice(part);
    }
    for insn in program {
        body.extend_from_slice(&insn.code.to_le_bytes());
        body.extend_from_slice(&[insn.jt, insn.jf]);
        body.extend_from_slice(&insn.k.to_le_bytes());
    }
    let mut out = Vec::with_capacity(HEADER_LEN + body.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT.to_le_bytes());
    out.extend_from_slice(&(key.len() as u32).to_le_bytes());
    out.extend_from_slice(&(program.len() as u32).to_le_bytes());
    out.extend_from_slice(&checksum(&body).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

fn decode(data: &[u8], key: &Key<'_>) -> Option<Vec<SockFilter>> {
    let (header, body) = data.split_at_checked(HEADER_LEN)?;
    let word = |at: usize| u32::from_le_bytes(header[at..at + 4].try_into().unwrap());
    let sum = u64::from_le_bytes(header[20..28].try_into().unwrap());
    if &header[..8] != MAGIC || word(8) != FORMAT || checksum(body) != sum {
        return None;
    }
    let (key_len, count) = (word(12) as usize, word(16) as usize);
    let (stored_key, insns) = body.split_at_checked(key_len)?;
    if !key.matches(stored_key) || insns.len() != count * 8 {
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
        // Another profile's entry, and another build's, under this one's name.
        let path = entry_path(&dir.0, &Key::of(b"{a}"));
        fs::write(&path, encode(&Key::of(b"{b}"), &program())).unwrap();
        assert_eq!(load(&dir.0, b"{a}"), None);
        let other_build = Key {
            build: "0.0.1+elsewhere",
            profile: b"{a}",
        };
        fs::write(&path, encode(&other_build, &program())).unwrap();
        assert_eq!(load(&dir.0, b"{a}"), None);
        fs::write(&path, encode(&Key::of(b"{a}"), &program())).unwrap();
        assert_eq!(load(&dir.0, b"{a}"), Some(program()));
    }

    #[test]
    fn keys_match_their_own_bytes_only() {
        let key = Key {
            build: "b",
            profile: b"{a}",
        };
        assert!(key.matches(b"b\0{a}"));
        for other in [b"b\0{a".as_slice(), b"b\0{a}}", b"b{\0a}", b"c\0{a}", b""] {
            assert!(!key.matches(other), "{other:?}");
        }
    }

    #[test]
    fn entries_others_could_have_written_are_not_used() {
        use std::os::unix::fs::PermissionsExt;
        let dir = TempDir::new("trust");
        store(&dir.0, b"{a}", &program());
        let path = entry_path(&dir.0, &Key::of(b"{a}"));
        let mode = |path: &Path, mode| fs::set_permissions(path, fs::Permissions::from_mode(mode));
        // A valid entry, but writable by the group, or by everyone.
        for bad in [0o620, 0o602] {
            mode(&path, bad).unwrap();
            assert_eq!(load(&dir.0, b"{a}"), None, "{bad:o}");
        }
        mode(&path, 0o600).unwrap();
        assert_eq!(load(&dir.0, b"{a}"), Some(program()));
        // Another user's entry.
        std::os::unix::fs::chown(&path, Some(1000), None).unwrap();
        assert_eq!(load(&dir.0, b"{a}"), None);
        std::os::unix::fs::chown(&path, Some(crate::sys::process::geteuid()), None).unwrap();
        // A link to an entry.
        let link = dir.0.join("elsewhere.bpf");
        fs::rename(&path, &link).unwrap();
        std::os::unix::fs::symlink(&link, &path).unwrap();
        assert_eq!(load(&dir.0, b"{a}"), None);
        fs::remove_file(&path).unwrap();
        fs::rename(&link, &path).unwrap();
        // A directory others may write to: no entry is read, none written.
        mode(&dir.0, 0o777).unwrap();
        assert_eq!(load(&dir.0, b"{a}"), None);
        fs::remove_file(&path).unwrap();
        store(&dir.0, b"{a}", &program());
        assert!(!path.exists());
    }

    #[test]
    fn corrupt_entries_are_ignored_and_rewritten() {
        let dir = TempDir::new("corrupt");
        let path = entry_path(&dir.0, &Key::of(b"{a}"));
        let mut data = encode(&Key::of(b"{a}"), &program());
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
