package docker

import "errors"

// BreakFreezer makes every pause fail as runc does when a cgroup will not freeze.
func (e *Env) BreakFreezer() {
	e.noFreeze = errors.New("OCI runtime pause failed: unable to freeze: unknown")
}

// SnapshotFile is where a database node's named snapshot is kept.
func (e *Env) SnapshotFile(service, name string) string {
	return e.services[service].db.snapshotPath(name)
}
