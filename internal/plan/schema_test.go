package plan

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"testing"
)

var update = flag.Bool("update", false, "rewrite schema.json from the format's structs")

// TestSchemaFile keeps schema.json the schema of the format's structs:
// go generate ./internal/plan rewrites it.
func TestSchemaFile(t *testing.T) {
	got, err := generateSchema()
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(got) {
		t.Fatalf("the generated schema is not JSON:\n%s", got)
	}
	if *update {
		if err := os.WriteFile("schema.json", got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(got, Schema) {
		t.Errorf("schema.json is not the structs' schema: run go generate ./internal/plan")
	}
}
