//! CPU and memory-node lists in the kernel's list syntax: numbers and
//! ranges joined by commas (`0-3,7`), a range optionally with a stride
//! (`0-7:2/4`, the first 2 of every 4). The configuration gives them
//! (`linux.resources.cpu.cpus` and `mems`, `process.execCPUAffinity`,
//! `linux.memoryPolicy.nodes`) and the cpuset files show them; the one
//! parser here serves the cgroup drivers, systemd's `AllowedCPUs`, the
//! statistics and the process's affinity and memory policy alike.

/// Numbers stay below this: no Linux build has more CPUs (x86's `MAXSMP`
/// allows 8192) or memory nodes, and the bound keeps a list's bitmap small
/// whatever the configuration says.
pub const LIMIT: usize = 8192;

/// Why a text is not a list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ListError {
    /// Something other than numbers, ranges and strides.
    #[error("{0:?} is not a list such as \"0-3,7\"")]
    Syntax(String),
    /// A range whose end comes before its start, such as `3-1`.
    #[error("range {0} goes backwards")]
    Backwards(String),
    /// A number at or above the bound (the crate's [`LIMIT`], or the size of
    /// the mask asked for).
    #[error("{number} is above the highest number, {highest}")]
    TooHigh {
        /// The number.
        number: usize,
        /// The highest number allowed.
        highest: usize,
    },
}

/// The numbers of a list, as a bitmap: bit `n % 64` of word `n / 64` for
/// number `n`, without trailing empty words.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CpuList {
    words: Vec<u64>,
}

impl CpuList {
    /// Parses `list` as the kernel's list syntax, strictly: no blanks, no
    /// empty parts (a file's trailing newline is the reader's to trim). An
    /// empty text is the empty list, as it is in a cpuset file.
    pub fn parse(list: &str) -> Result<CpuList, ListError> {
        let mut parsed = CpuList::default();
        if list.is_empty() {
            return Ok(parsed);
        }
        let syntax = || ListError::Syntax(list.to_owned());
        for part in list.split(',') {
            let (range, stride) = match part.split_once(':') {
                Some((range, stride)) => (range, Some(stride)),
                None => (part, None),
            };
            let (first, last) = match range.split_once('-') {
                Some((first, last)) => (number(first, list)?, number(last, list)?),
                // A stride needs a range to step through.
                None if stride.is_none() => {
                    let n = number(range, list)?;
                    (n, n)
                }
                None => return Err(syntax()),
            };
            if first > last {
                return Err(ListError::Backwards(part.to_owned()));
            }
            // `used/group`: of every `group` numbers from `first`, the
            // first `used`.
            let (used, group) = match stride {
                Some(stride) => {
                    let (used, group) = stride.split_once('/').ok_or_else(syntax)?;
                    (number(used, list)?, number(group, list)?)
                }
                None => (1, 1),
            };
            if used == 0 || used > group {
                return Err(syntax());
            }
            for n in (first..=last).filter(|n| (n - first) % group < used) {
                parsed.insert(n);
            }
        }
        Ok(parsed)
    }

    fn insert(&mut self, n: usize) {
        let word = n / 64;
        if self.words.len() <= word {
            self.words.resize(word + 1, 0);
        }
        self.words[word] |= 1 << (n % 64);
    }

    /// The numbers, ascending (each below [`LIMIT`], so a `u16`).
    pub fn numbers(&self) -> impl Iterator<Item = u16> + '_ {
        self.words.iter().enumerate().flat_map(|(i, &word)| {
            (0..64)
                .filter(move |bit| word & (1 << bit) != 0)
                .map(move |bit| (i * 64 + bit) as u16)
        })
    }

    /// The bitmap as bytes, byte `n / 8` bit `n % 8` for number `n`, as
    /// systemd's `AllowedCPUs` and `AllowedMemoryNodes` take it.
    pub fn bytes(&self) -> Vec<u8> {
        let mut bytes: Vec<u8> = self.words.iter().flat_map(|w| w.to_le_bytes()).collect();
        while bytes.last() == Some(&0) {
            bytes.pop();
        }
        bytes
    }

    /// The bitmap in `N` words, as `sched_setaffinity` and `set_mempolicy`
    /// take it; refused when a number does not fit.
    pub fn words<const N: usize>(&self) -> Result<[u64; N], ListError> {
        let mut words = [0; N];
        if self.words.len() > N {
            let number = self.numbers().last().map_or(0, usize::from);
            let highest = N * 64 - 1;
            return Err(ListError::TooHigh { number, highest });
        }
        words[..self.words.len()].copy_from_slice(&self.words);
        Ok(words)
    }
}

/// A number of `list`: decimal digits only (`str::parse` would take a
/// sign), below [`LIMIT`].
fn number(text: &str, list: &str) -> Result<usize, ListError> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ListError::Syntax(list.to_owned()));
    }
    // Only digits: a parse can fail by overflowing alone.
    let number = text.parse().unwrap_or(usize::MAX);
    if number >= LIMIT {
        return Err(ListError::TooHigh {
            number,
            highest: LIMIT - 1,
        });
    }
    Ok(number)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbers(list: &str) -> Result<Vec<u16>, ListError> {
        CpuList::parse(list).map(|l| l.numbers().collect())
    }

    #[test]
    fn lists_expand_as_the_kernel_reads_them() {
        assert_eq!(numbers("0-3,7"), Ok(vec![0, 1, 2, 3, 7]));
        assert_eq!(numbers("5"), Ok(vec![5]));
        assert_eq!(numbers("0-7:2/4"), Ok(vec![0, 1, 4, 5]));
        assert_eq!(numbers("7,0-1,1"), Ok(vec![0, 1, 7]));
        assert_eq!(numbers(""), Ok(vec![]));
        for bad in [
            "x", "0-3:5/4", "0-3:1/0", "0-3:0/4", "1-", "0-3:2", "5:1/2", "1,,2", "-1", "+1",
            "0-1 ", "0\n",
        ] {
            assert_eq!(numbers(bad), Err(ListError::Syntax(bad.into())), "{bad:?}");
        }
        assert_eq!(numbers("3-1"), Err(ListError::Backwards("3-1".into())));
        let too_high = |number| ListError::TooHigh {
            number,
            highest: 8191,
        };
        assert_eq!(numbers("0-8192"), Err(too_high(8192)));
        assert_eq!(
            numbers("99999999999999999999999"),
            Err(too_high(usize::MAX))
        );
    }

    #[test]
    fn errors_say_what_is_wrong_in_one_line() {
        let error = |list| CpuList::parse(list).unwrap_err().to_string();
        assert_eq!(error("0-1 "), r#""0-1 " is not a list such as "0-3,7""#);
        assert_eq!(error("0,3-1"), "range 3-1 goes backwards");
        assert_eq!(error("9000"), "9000 is above the highest number, 8191");
    }

    #[test]
    fn bitmasks_have_a_bit_per_number() {
        let bytes = |list| CpuList::parse(list).unwrap().bytes();
        assert_eq!(bytes("0"), vec![0b1]);
        assert_eq!(bytes("0-1,9"), vec![0b11, 0b10]);
        assert_eq!(bytes(""), Vec::<u8>::new());
    }

    #[test]
    fn lists_become_masks() {
        let mask = |list| CpuList::parse(list).and_then(|l| l.words::<16>());
        assert_eq!(mask("0-3,7").unwrap()[0], 0b1000_1111);
        let mask_of = mask("64,1023").unwrap();
        assert_eq!((mask_of[1], mask_of[15]), (1, 1 << 63));
        assert_eq!(mask("").unwrap(), [0; 16]);
        for bad in ["a", "3-1", "1024", "1,,2", "-1"] {
            assert!(mask(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            mask("5,1024-1025").unwrap_err().to_string(),
            "1025 is above the highest number, 1023"
        );
    }
}
