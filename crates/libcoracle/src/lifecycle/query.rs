//! `state`, `list` and `ps`: reading containers without changing them.
//! Records are replaced atomically, so reading takes no lock.

use super::{state_document, Error, Runtime};
use crate::cgroups::Cgroup;
use crate::spec::{State, Status, OCI_VERSION};
use crate::state::Record;
use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// One line of `list`.
#[derive(Debug, Clone)]
pub struct ContainerSummary {
    /// The container's id.
    pub id: String,
    /// The init's pid (0 once stopped, and while creating).
    pub pid: i32,
    /// The status.
    pub status: Status,
    /// The bundle's path.
    pub bundle: String,
    /// The root filesystem's path.
    pub rootfs: String,
    /// When it was created (RFC 3339).
    pub created: String,
    /// The config's annotations.
    pub annotations: BTreeMap<String, String>,
    /// The user who created it.
    pub owner: String,
}

impl Runtime {
    /// The state of a container (runtime.md "Query State").
    pub fn state(&self, id: &str) -> Result<State, Error> {
        match self.root.peek(id)? {
            Some(record) => {
                let status = self.status_of(&record, self.root.fifo_exists(id));
                Ok(state_document(&record, status))
            }
            None => Ok(State {
                oci_version: OCI_VERSION.to_string(),
                id: id.to_string(),
                status: Status::Creating,
                pid: None,
                bundle: String::new(),
                annotations: Default::default(),
            }),
        }
    }

    /// Every container under the root, those being created included.
    pub fn list(&self) -> Result<Vec<ContainerSummary>, Error> {
        let mut out = Vec::new();
        let mut names = UserNames::default();
        for id in self.root.ids()? {
            let summary = match self.root.peek(&id) {
                Ok(Some(record)) => self.summary_of(&record, &mut names),
                // A create that has not written its record yet.
                Ok(None) => creating_summary(id, self.root.path(), &mut names),
                // Deleted meanwhile: not listed.
                Err(_) => continue,
            };
            out.push(summary);
        }
        Ok(out)
    }

    fn summary_of(&self, record: &Record, names: &mut UserNames) -> ContainerSummary {
        let status = self.status_of(record, self.root.fifo_exists(&record.id));
        ContainerSummary {
            id: record.id.clone(),
            pid: state_document(record, status).pid.unwrap_or(0),
            status,
            bundle: record.bundle.to_string_lossy().into_owned(),
            rootfs: record.rootfs.to_string_lossy().into_owned(),
            created: record.created.clone(),
            annotations: record.annotations.clone(),
            owner: names.name_of(record.owner),
        }
    }

    /// The host pids of every process in the container.
    pub fn ps(&self, id: &str) -> Result<Vec<i32>, Error> {
        let Some(record) = self.root.peek(id)? else {
            return Ok(Vec::new());
        };
        let mut pids = Cgroup::from_record(&record.cgroup).pids()?;
        if pids.is_empty() && record.init_alive() {
            pids.push(record.pid);
        }
        Ok(pids)
    }
}

/// A container whose create has not recorded anything yet: only its
/// directory (and its owner) is known.
fn creating_summary(id: String, root: &Path, names: &mut UserNames) -> ContainerSummary {
    let owner = std::fs::metadata(root.join(&id)).map_or(0, |m| m.uid());
    ContainerSummary {
        id,
        pid: 0,
        status: Status::Creating,
        bundle: String::new(),
        rootfs: String::new(),
        created: String::new(),
        annotations: BTreeMap::new(),
        owner: names.name_of(owner),
    }
}

/// Names of uids from /etc/passwd, read once for a whole listing.
#[derive(Default)]
struct UserNames {
    passwd: Option<String>,
}

impl UserNames {
    /// The name of `uid`, or the number when /etc/passwd has none.
    fn name_of(&mut self, uid: u32) -> String {
        let passwd = self
            .passwd
            .get_or_insert_with(|| std::fs::read_to_string("/etc/passwd").unwrap_or_default());
        passwd
            .lines()
            .find_map(|line| {
                let mut fields = line.split(':');
                let name = fields.next()?;
                let id = fields.nth(1)?.parse::<u32>().ok()?;
                (id == uid).then(|| name.to_string())
            })
            .unwrap_or_else(|| uid.to_string())
    }
}
