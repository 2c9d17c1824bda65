// Command genschemas writes the JSON schemas that deploy/deploy_test.go
// validates the Kubernetes manifests against (with kubeconform), from the
// official Kubernetes OpenAPI spec: api/openapi-spec/swagger.json of the
// k8s.io/kubernetes module, fetched through the Go module proxy.
//
// Only the kinds the manifests in deploy/kubernetes use are written, one file
// each, named as kubeconform's default schema location names them
// (deployment-apps-v1.json, secret-v1.json, ...) in a directory named as
// kubeconform's (<version>-standalone-strict). The conversion follows
// openapi2jsonschema --kubernetes --expanded --stand-alone --strict, which
// produces kubeconform's own schema set:
//
//   - apiVersion and kind are restricted to the kind's group, version and
//     name (from x-kubernetes-group-version-kind);
//   - every object with properties gets additionalProperties: false (an
//     unknown field fails), the document root included;
//   - a schema of format int-or-string becomes oneOf string or integer, and
//     Quantity becomes oneOf string or number (as kubectl accepts);
//   - x-kubernetes-* extensions and descriptions are dropped (the validator
//     ignores both; dropping them keeps the committed files small);
//   - each file is standalone: the definitions it refers to, and only those,
//     are carried in its "definitions" (the spec's own #/definitions/ refs
//     then resolve inside the file, recursive types included).
//
// Run from the repository root (see deploy/README.md):
//
//	go run ./deploy/internal/genschemas
//
// It fails on a kind the spec does not define (a custom resource: its
// schema must come from its CRD) and on a schema keyword it does not know.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

const (
	intOrString = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
	quantity    = "io.k8s.apimachinery.pkg.api.resource.Quantity"
)

func main() {
	version := flag.String("kubernetes", "v1.37.2", "version of the k8s.io/kubernetes module whose api/openapi-spec/swagger.json is read")
	spec := flag.String("spec", "", "read this swagger.json instead of the module's (its version is still taken from -kubernetes)")
	manifests := flag.String("manifests", "deploy/kubernetes", "directory of the manifests whose kinds get a schema (*-values.yaml are Helm values, not manifests)")
	out := flag.String("out", "deploy/testdata/kubernetes-schemas", "schema root; files go to <out>/<version>-standalone-strict")
	flag.Parse()
	log.SetFlags(0)

	kinds, err := manifestKinds(*manifests)
	if err != nil {
		log.Fatal(err)
	}
	path := *spec
	if path == "" {
		if path, err = downloadSpec(*version); err != nil {
			log.Fatal(err)
		}
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	var doc struct {
		Swagger     string         `json:"swagger"`
		Definitions map[string]any `json:"definitions"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		log.Fatalf("%s: %v", path, err)
	}
	if doc.Swagger != "2.0" || len(doc.Definitions) == 0 {
		log.Fatalf("%s: not a Swagger 2.0 document with definitions", path)
	}

	dir := filepath.Join(*out, *version+"-standalone-strict")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		log.Fatal(err)
	}
	// Files of kinds no manifest uses any more go.
	old, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		log.Fatal(err)
	}
	written := map[string]bool{}
	for _, k := range kinds {
		name, schema, err := kindSchema(doc.Definitions, k, *version)
		if err != nil {
			log.Fatal(err)
		}
		b, err := json.MarshalIndent(schema, "", " ")
		if err != nil {
			log.Fatal(err)
		}
		file := filepath.Join(dir, name)
		if err := os.WriteFile(file, append(b, '\n'), 0o644); err != nil {
			log.Fatal(err)
		}
		written[file] = true
		fmt.Printf("%s (%s, %d bytes)\n", file, k, len(b)+1)
	}
	for _, f := range old {
		if !written[f] {
			if err := os.Remove(f); err != nil {
				log.Fatal(err)
			}
			fmt.Printf("removed %s\n", f)
		}
	}
}

// gvk is an apiVersion and kind as written in a manifest.
type gvk struct{ APIVersion, Kind string }

func (k gvk) String() string { return k.APIVersion + " " + k.Kind }

func (k gvk) groupVersion() (group, version string) {
	if g, v, ok := strings.Cut(k.APIVersion, "/"); ok {
		return g, v
	}
	return "", k.APIVersion
}

// fileName is kubeconform's default template,
// {{ .ResourceKind }}{{ .KindSuffix }}.json: the lower-case kind, the first
// label of the group if any, and the version.
func (k gvk) fileName() string {
	group, version := k.groupVersion()
	name := strings.ToLower(k.Kind)
	if group != "" {
		name += "-" + strings.ToLower(strings.Split(group, ".")[0])
	}
	return name + "-" + strings.ToLower(version) + ".json"
}

// manifestKinds lists the distinct apiVersion/kind pairs of every document of
// every manifest in dir.
func manifestKinds(dir string) ([]gvk, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	seen := map[gvk]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "-values.yaml") {
			continue
		}
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(raw)))
		for {
			d, err := r.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %v", f, err)
			}
			var k gvk
			if err := yaml.Unmarshal(d, &k); err != nil {
				return nil, fmt.Errorf("%s: %v", f, err)
			}
			if k == (gvk{}) {
				continue // comments only
			}
			if k.APIVersion == "" || k.Kind == "" {
				return nil, fmt.Errorf("%s: a document without apiVersion or kind (%v)", f, k)
			}
			seen[k] = true
		}
	}
	if len(seen) == 0 {
		return nil, fmt.Errorf("no manifests in %s (run from the repository root)", dir)
	}
	return slices.SortedFunc(maps.Keys(seen), func(a, b gvk) int { return strings.Compare(a.String(), b.String()) }), nil
}

// downloadSpec fetches k8s.io/kubernetes@version into the module cache
// (outside this module: it does not enter go.mod) and returns the path of its
// swagger.json.
func downloadSpec(version string) (string, error) {
	cmd := exec.Command("go", "mod", "download", "-json", "k8s.io/kubernetes@"+version)
	cmd.Dir = os.TempDir()
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GO111MODULE=on")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go mod download k8s.io/kubernetes@%s: %v", version, err)
	}
	var m struct{ Dir, Error string }
	if err := json.Unmarshal(out, &m); err != nil {
		return "", err
	}
	if m.Error != "" {
		return "", errors.New(m.Error)
	}
	return filepath.Join(m.Dir, "api", "openapi-spec", "swagger.json"), nil
}

// kindSchema returns the file name and the standalone strict schema of k.
func kindSchema(defs map[string]any, k gvk, version string) (string, map[string]any, error) {
	group, ver := k.groupVersion()
	var root string
	for name, d := range defs {
		ext, _ := d.(map[string]any)["x-kubernetes-group-version-kind"].([]any)
		for _, e := range ext {
			e, _ := e.(map[string]any)
			if e["group"] == group && e["version"] == ver && e["kind"] == k.Kind {
				if root != "" {
					return "", nil, fmt.Errorf("%v: defined by both %s and %s", k, root, name)
				}
				root = name
			}
		}
	}
	if root == "" {
		return "", nil, fmt.Errorf("%v: not in the Kubernetes %s spec (a custom resource's schema comes from its CRD)", k, version)
	}

	// The definitions root refers to, transitively.
	carried := map[string]any{}
	var visit func(name string) error
	visit = func(name string) error {
		if _, ok := carried[name]; ok {
			return nil
		}
		d, ok := defs[name]
		if !ok {
			return fmt.Errorf("%v: %s refers to the undefined %s", k, root, name)
		}
		carried[name] = nil // placeholder: cycles stop here
		s, err := convert(d, name)
		if err != nil {
			return fmt.Errorf("%v: %s: %v", k, name, err)
		}
		carried[name] = s
		for _, r := range refs(s, nil) {
			if err := visit(r); err != nil {
				return err
			}
		}
		return nil
	}
	top, err := convert(defs[root], root)
	if err != nil {
		return "", nil, fmt.Errorf("%v: %s: %v", k, root, err)
	}
	schema := top.(map[string]any)
	for _, r := range refs(schema, nil) {
		if err := visit(r); err != nil {
			return "", nil, err
		}
	}

	props, _ := schema["properties"].(map[string]any)
	for field, value := range map[string]string{"apiVersion": k.APIVersion, "kind": k.Kind} {
		p, ok := props[field].(map[string]any)
		if !ok {
			return "", nil, fmt.Errorf("%v: %s has no %s property", k, root, field)
		}
		p["enum"] = []any{value}
	}
	schema["type"] = "object"
	schema["additionalProperties"] = false
	schema["$schema"] = "http://json-schema.org/draft-04/schema#"
	schema["$comment"] = fmt.Sprintf("%v: definition %s of k8s.io/kubernetes@%s api/openapi-spec/swagger.json, converted by deploy/internal/genschemas", k, root, version)
	if len(carried) > 0 {
		schema["definitions"] = carried
	}
	return k.fileName(), schema, nil
}

// refs appends the definition names s refers to.
func refs(s any, out []string) []string {
	switch s := s.(type) {
	case map[string]any:
		for k, v := range s {
			if r, ok := v.(string); ok && k == "$ref" {
				out = append(out, strings.TrimPrefix(r, "#/definitions/"))
			} else {
				out = refs(v, out)
			}
		}
	case []any:
		for _, v := range s {
			out = refs(v, out)
		}
	}
	return out
}

// convert returns the strict JSON schema (draft 4) of one OpenAPI definition.
func convert(def any, name string) (any, error) {
	switch name {
	case intOrString:
		return map[string]any{"oneOf": []any{map[string]any{"type": "string"}, map[string]any{"type": "integer"}}}, nil
	case quantity:
		return map[string]any{"oneOf": []any{map[string]any{"type": "string"}, map[string]any{"type": "number"}}}, nil
	}
	return convertSchema(def)
}

// convertSchema walks one schema, knowing which keywords hold schemas, so a
// property that happens to be named like a keyword is left alone.
func convertSchema(s any) (any, error) {
	m, ok := s.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("a schema that is not an object: %v", s)
	}
	if m["format"] == "int-or-string" {
		return map[string]any{"oneOf": []any{map[string]any{"type": "string"}, map[string]any{"type": "integer"}}}, nil
	}
	out := map[string]any{}
	for k, v := range m {
		var err error
		switch {
		case k == "description" || strings.HasPrefix(k, "x-kubernetes-"):
			continue
		case k == "$ref":
			r, ok := v.(string)
			if !ok || !strings.HasPrefix(r, "#/definitions/") {
				return nil, fmt.Errorf("$ref %v outside #/definitions/", v)
			}
			out[k] = r
		case k == "type" || k == "format" || k == "required" || k == "enum" || k == "default":
			out[k] = v
		case k == "properties":
			props, ok := v.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("properties: %v", v)
			}
			conv := map[string]any{}
			for p, ps := range props {
				if conv[p], err = convertSchema(ps); err != nil {
					return nil, fmt.Errorf("%s: %v", p, err)
				}
			}
			out[k] = conv
		case k == "additionalProperties" || k == "items" || k == "not":
			if b, ok := v.(bool); ok && k == "additionalProperties" {
				out[k] = b
			} else if out[k], err = convertSchema(v); err != nil {
				return nil, fmt.Errorf("%s: %v", k, err)
			}
		case k == "allOf" || k == "anyOf" || k == "oneOf":
			list, ok := v.([]any)
			if !ok {
				return nil, fmt.Errorf("%s: %v", k, v)
			}
			conv := make([]any, len(list))
			for i, e := range list {
				if conv[i], err = convertSchema(e); err != nil {
					return nil, fmt.Errorf("%s[%d]: %v", k, i, err)
				}
			}
			out[k] = conv
		default:
			return nil, fmt.Errorf("schema keyword %q is not handled by the generator", k)
		}
	}
	if _, ok := out["properties"]; ok {
		if _, set := out["additionalProperties"]; !set {
			out["additionalProperties"] = false
		}
	}
	return out, nil
}
