//go:build !linux

package history

func adviseHuge([]byte) {}
