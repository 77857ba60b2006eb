package scenarios

import (
	"os"
	"testing"
)

// The format's tests cover what image: means (observe, streams, topology) as if a testbed
// ran such services; TestImageServicesRefused checks that, as things are, none loads.
func TestMain(m *testing.M) {
	imageServicesRun = true
	os.Exit(m.Run())
}
