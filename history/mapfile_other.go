//go:build !linux

package history

import "os"

func mapFile(*os.File) ([]byte, func() error, error) { return nil, nil, errNotMapped }
