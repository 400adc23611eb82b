//! CPU and memory-node lists in the kernel's list syntax (`0-3,7`, with
//! strides such as `0-7:2/4`), as `cpuset.cpus` shows them and as
//! `linux.resources.cpu.cpus` gives them: expanded for the statistics, and
//! as the bitmask that systemd's `AllowedCPUs` takes.

/// The numbers of a list, ascending as written; `None` when it is not one.
/// An empty list (or a lone newline) is no number.
pub(crate) fn expand(list: &str) -> Option<Vec<u16>> {
    let mut numbers = Vec::new();
    for part in list.trim().split(',').filter(|p| !p.is_empty()) {
        let (range, stride) = match part.split_once(':') {
            Some((range, stride)) => (range, Some(stride)),
            None => (part, None),
        };
        let (first, last) = match range.split_once('-') {
            Some((first, last)) => (first.parse().ok()?, last.parse().ok()?),
            None => {
                let n = range.parse().ok()?;
                (n, n)
            }
        };
        // `a-b:used/group`: in each group of `group` numbers from `a`, the
        // first `used`.
        let (used, group) = match stride {
            Some(stride) => {
                let (used, group) = stride.split_once('/')?;
                (used.parse().ok()?, group.parse().ok()?)
            }
            None => (1, 1),
        };
        if first > last || used == 0 || group == 0 || used > group {
            return None;
        }
        let mut n: u16 = first;
        loop {
            if (n - first) % group < used {
                numbers.push(n);
            }
            if n == last {
                break;
            }
            n += 1;
        }
    }
    Some(numbers)
}

/// The list as a bitmask, byte `i` bit `j` for number `8 * i + j` (systemd's
/// `AllowedCPUs` and `AllowedMemoryNodes`); `None` when it is not a list.
pub(crate) fn bitmask(list: &str) -> Option<Vec<u8>> {
    let numbers = expand(list)?;
    let mut mask = vec![0u8; numbers.iter().max().map_or(0, |n| usize::from(*n) / 8 + 1)];
    for n in numbers {
        mask[usize::from(n) / 8] |= 1 << (n % 8);
    }
    Some(mask)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_expand_as_the_kernel_reads_them() {
        assert_eq!(expand("0-3,7\n"), Some(vec![0, 1, 2, 3, 7]));
        assert_eq!(expand("5"), Some(vec![5]));
        assert_eq!(expand("0-7:2/4"), Some(vec![0, 1, 4, 5]));
        assert_eq!(expand(""), Some(vec![]));
        for bad in ["x", "3-1", "0-3:5/4", "0-3:1/0", "1-", "0-3:2"] {
            assert_eq!(expand(bad), None, "{bad}");
        }
    }

    #[test]
    fn bitmasks_have_a_bit_per_number() {
        assert_eq!(bitmask("0"), Some(vec![0b1]));
        assert_eq!(bitmask("0-1,9"), Some(vec![0b11, 0b10]));
        assert_eq!(bitmask(""), Some(vec![]));
    }
}
