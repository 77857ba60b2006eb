package scenarios

// The fault kinds, fixtures, workload kinds and invariants a scenario names are registered by the packages that
// implement them; a binary that validates scenarios links them in (mscli does through
// its runner), and so do these tests.
import (
	_ "github.com/mscli/mscli/chaos"
	_ "github.com/mscli/mscli/chaos/messages"
	_ "github.com/mscli/mscli/fixtures/bank"
	_ "github.com/mscli/mscli/fixtures/catalog"
	_ "github.com/mscli/mscli/fixtures/gateway"
	_ "github.com/mscli/mscli/fixtures/saga"
	_ "github.com/mscli/mscli/fixtures/telemetry"
	_ "github.com/mscli/mscli/invariants"
	_ "github.com/mscli/mscli/workload"
)
