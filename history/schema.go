package history

import (
	"bytes"
	_ "embed"
)

//go:embed effect.schema.json
var effectSchema []byte

// EffectSchema is the JSON Schema (draft 2020-12) of one effects record (Effect): what a
// service's effects endpoint serves, one per line, and what effects.jsonl holds. It is
// stricter than the decoder in one way: it rejects fields the record does not have.
func EffectSchema() []byte { return bytes.Clone(effectSchema) }
