package testbed

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
)

// PostgresBin finds the folder of PostgreSQL's server programs (initdb, postgres,
// pg_ctl, pg_isready): the one pg_ctl on the PATH points into, else the newest of
// Debian's /usr/lib/postgresql/<version>/bin.
func PostgresBin() (string, error) {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			return filepath.Dir(real), nil
		}
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	if len(matches) == 0 {
		return "", fmt.Errorf("PostgreSQL is not installed (no pg_ctl): run 'make deps' or apt-get install postgresql")
	}
	sort.Strings(matches)
	return filepath.Dir(matches[len(matches)-1]), nil
}

// PostgresUser is the user PostgreSQL runs as: nil (this process's) unless this
// process is root, which PostgreSQL refuses — then Debian's postgres user.
func PostgresUser() (uid, gid int, asOther bool, err error) {
	if os.Geteuid() != 0 {
		return 0, 0, false, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return 0, 0, false, fmt.Errorf("PostgreSQL refuses to run as root and there is no postgres user (install Debian's postgresql package): %v", err)
	}
	uid, _ = strconv.Atoi(u.Uid)
	gid, _ = strconv.Atoi(u.Gid)
	return uid, gid, true, nil
}
