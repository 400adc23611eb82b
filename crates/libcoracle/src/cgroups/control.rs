//! Writing and reading control files, with errors that name the
//! configuration field a value comes from.

use super::CgroupError;
use std::borrow::Cow;
use std::fs::{self, OpenOptions};
use std::io::{self, Write as _};
use std::path::Path;

/// Writes `value` to the control file `path` in one `write(2)`, as cgroupfs
/// wants. The file is never created: its absence means the kernel lacks the
/// feature, which the caller reports.
pub(crate) fn write_control(path: &Path, value: &str) -> io::Result<()> {
    OpenOptions::new()
        .write(true)
        .open(path)?
        .write_all(value.as_bytes())
}

/// Reads the control file `path`.
pub(crate) fn read_control(path: &Path) -> Result<String, CgroupError> {
    fs::read_to_string(path).map_err(|source| CgroupError::Read {
        path: path.to_owned(),
        source,
    })
}

/// A value for a control file, with the field it comes from.
pub(crate) struct Setting {
    file: Cow<'static, str>,
    value: String,
    field: &'static str,
}

impl Setting {
    pub(crate) fn new(
        file: impl Into<Cow<'static, str>>,
        value: String,
        field: &'static str,
    ) -> Setting {
        Setting {
            file: file.into(),
            value,
            field,
        }
    }

    pub(crate) fn apply(&self, dir: &Path) -> Result<(), CgroupError> {
        self.try_apply(dir)
            .map_err(|source| self.error(dir, source))
    }

    /// Writes the value if the file exists; `Ok(false)` when it does not.
    pub(crate) fn apply_if_present(&self, dir: &Path) -> Result<bool, CgroupError> {
        match self.try_apply(dir) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(self.error(dir, e)),
        }
    }

    fn try_apply(&self, dir: &Path) -> io::Result<()> {
        write_control(&dir.join(&*self.file), &self.value)
    }

    fn error(&self, dir: &Path, source: io::Error) -> CgroupError {
        let path = dir.join(&*self.file);
        if source.kind() == io::ErrorKind::NotFound {
            CgroupError::MissingFile {
                field: self.field,
                path,
            }
        } else {
            CgroupError::Refused {
                field: self.field.to_owned(),
                path,
                value: self.value.clone(),
                source,
            }
        }
    }
}

/// Writes two settings the kernel checks against each other: `first` then
/// `second`, or, when the kernel refuses `first` (`EINVAL`) because of the
/// current value of `second` (a limit raised above it, say), `second` then
/// `first`. Both orders are needed to raise and to lower; no read needed.
pub(crate) fn set_pair(
    dir: &Path,
    first: Option<Setting>,
    second: Option<Setting>,
) -> Result<(), CgroupError> {
    match (first, second) {
        (Some(first), Some(second)) => match first.try_apply(dir) {
            Ok(()) => second.apply(dir),
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
                second.apply(dir)?;
                first.apply(dir)
            }
            Err(e) => Err(first.error(dir, e)),
        },
        (first, second) => [first, second]
            .into_iter()
            .flatten()
            .try_for_each(|s| s.apply(dir)),
    }
}

/// Writes `value` to a control file with no configuration field behind it.
pub(crate) fn write(path: &Path, value: &str) -> Result<(), CgroupError> {
    write_control(path, value).map_err(|source| CgroupError::Write {
        path: path.to_owned(),
        value: value.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_control_file_names_the_field() {
        let err = Setting::new("memory.nope", "1".into(), "linux.resources.memory.kernel")
            .apply(Path::new("/nonexistent-coracle-dir"))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "linux.resources.memory.kernel: the kernel has no /nonexistent-coracle-dir/memory.nope (controller feature not available)"
        );
    }

    #[test]
    fn a_refused_write_names_the_field() {
        // Writing to a directory fails as a refused value would.
        let err = Setting::new("", "0".into(), "linux.resources.memory.useHierarchy")
            .apply(Path::new("/"))
            .unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("linux.resources.memory.useHierarchy: write 0 to /: "),
            "{text}"
        );
    }
}
