package plan

import _ "embed"

// Schema is the plan file's JSON Schema, for editors (`inferbench schema`).
//
//go:embed schema.json
var Schema []byte
