package workload

import "math/rand/v2"

// Every random stream of the workload is a PCG whose 128-bit state is derived from the
// run's seed, the stream's purpose and the client's process number. PCG has a single
// cycle: two generators seeded with nearby or equal words replay each other, so seeding
// with seed+proc made client p+1 of seed s the same stream as client p of seed s+1,
// and with the planner's own word client 0 replayed the plan's random numbers. Hashing
// the triple instead puts every stream at an unrelated point of the cycle.

// Stream purposes: part of the hash, so that a client's operations and its retry
// jitter never share a state.
const (
	streamOps    uint64 = 0x6f7073       // "ops": the operation generator (NewGenerator)
	streamJitter uint64 = 0x6a6974746572 // "jitter": retry back-off jitter (newClient)
)

// newStream returns the random stream of one purpose for client proc of a run with
// seed.
func newStream(seed int64, purpose uint64, proc int) *rand.Rand {
	return rand.New(rand.NewPCG(streamSeed(seed, purpose, proc)))
}

// streamSeed mixes (seed, purpose, proc) into the two words of a PCG state through
// SplitMix64's finaliser, a bijection of 64-bit words with full avalanche: each input
// word goes through it in turn, so every bit of each affects every bit of the result.
func streamSeed(seed int64, purpose uint64, proc int) (uint64, uint64) {
	h := mix64(uint64(seed))
	h = mix64(h ^ purpose)
	h = mix64(h ^ uint64(int64(proc)))
	return h, mix64(h ^ 0x9e3779b97f4a7c15)
}

// mix64 is SplitMix64's step: add the golden gamma, then the finaliser.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
