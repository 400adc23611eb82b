//! `update`: new resource limits for a live container's cgroup (runc's
//! `update`, which engines call with a `linux.resources` document).

use super::{wrong_state, Error, Runtime};
use crate::cgroups::Cgroup;
use crate::spec::{Resources, Status};

impl Runtime {
    /// Applies `resources` to the cgroup of a created, running or paused
    /// container: the fields present change, the absent ones keep their
    /// values (see [`Cgroup::update`]). Holds the container's lock, so that
    /// no `delete` removes the cgroup meanwhile. The configuration on disk
    /// is left as it is: the cgroup's files are what `update` changes. When
    /// the cgroup joins a controller it was created without, the record
    /// says so afterwards (saved even if the update then fails: delete must
    /// find every directory).
    pub fn update(&self, id: &str, resources: &Resources) -> Result<(), Error> {
        let dir = self.root.open(id)?;
        let mut record = dir.load()?;
        let status = self.status_of(&record, dir.fifo_exists());
        if matches!(status, Status::Stopped | Status::Creating) {
            return Err(wrong_state(
                id,
                status,
                "only a created, running or paused container can be updated",
            ));
        }
        let mut cgroup = Cgroup::from_record(&record.cgroup);
        let updated = cgroup.update(resources);
        let now = cgroup.record();
        if now != record.cgroup {
            record.cgroup = now;
            dir.save(&record)?;
        }
        Ok(updated?)
    }
}
