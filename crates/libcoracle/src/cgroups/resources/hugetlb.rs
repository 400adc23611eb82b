//! `linux.resources.hugepageLimits`: limits per huge page size.

use super::{invalid, CgroupError};
use crate::spec;

/// A limit for one huge page size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HugepageLimit {
    /// The size as the kernel names its control files (`2MB`, `1GB`,
    /// `64KB`), whatever spelling the configuration used (`2048KB`).
    pub(crate) size: String,
    /// Bytes.
    pub(crate) limit: u64,
}

/// Validates `linux.resources.hugepageLimits`.
pub(crate) fn hugepage_limits(
    limits: &[spec::HugepageLimit],
) -> Result<Vec<HugepageLimit>, CgroupError> {
    limits
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let bytes = page_size_bytes(&l.page_size).ok_or_else(|| {
                invalid(
                    &format!("linux.resources.hugepageLimits[{i}].pageSize"),
                    format!("{:?} is not a size such as \"2MB\" or \"1GB\"", l.page_size),
                )
            })?;
            Ok(HugepageLimit {
                size: kernel_size_name(bytes),
                limit: l.limit,
            })
        })
        .collect()
}

/// `<number><K|M|G|T>B` in base 1024.
fn page_size_bytes(text: &str) -> Option<u64> {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let (number, unit) = text.split_at(digits);
    let shift = match unit {
        "KB" => 10,
        "MB" => 20,
        "GB" => 30,
        "TB" => 40,
        _ => return None,
    };
    let number: u64 = number.parse().ok().filter(|n| *n > 0)?;
    number.checked_mul(1 << shift)
}

/// The name the hugetlb controller gives a page size in its file names:
/// whole gigabytes, else whole megabytes, else kilobytes.
fn kernel_size_name(bytes: u64) -> String {
    const KB: u64 = 1 << 10;
    const MB: u64 = 1 << 20;
    const GB: u64 = 1 << 30;
    if bytes >= GB {
        format!("{}GB", bytes / GB)
    } else if bytes >= MB {
        format!("{}MB", bytes / MB)
    } else {
        format!("{}KB", bytes / KB)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sizes(json: &str) -> Result<Vec<String>, String> {
        let limits: Vec<spec::HugepageLimit> = serde_json::from_str(json).unwrap();
        hugepage_limits(&limits)
            .map(|l| l.into_iter().map(|l| l.size).collect())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn sizes_take_the_kernel_spelling() {
        assert_eq!(
            sizes(
                r#"[{"pageSize":"2MB","limit":1},{"pageSize":"2048KB","limit":1},
                    {"pageSize":"1GB","limit":1},{"pageSize":"64KB","limit":1}]"#
            )
            .unwrap(),
            ["2MB", "2MB", "1GB", "64KB"]
        );
    }

    #[test]
    fn bad_sizes_name_the_field() {
        for bad in ["2M", "MB", "0MB", "2 MB", "-2MB", "99999999999TB"] {
            let err = sizes(&format!(r#"[{{"pageSize":"{bad}","limit":1}}]"#)).unwrap_err();
            assert!(
                err.starts_with("linux.resources.hugepageLimits[0].pageSize: "),
                "{bad}: {err}"
            );
        }
    }
}
