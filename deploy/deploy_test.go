// Package deploy_test validates what deploy/ ships, offline: the compose
// file against the compose-spec schema (compose-go, the loader Docker
// Compose itself uses), the Kubernetes manifests against the Kubernetes
// OpenAPI schemas (kubeconform, strict, with the schemas committed under
// testdata/ by internal/genschemas), the NATS config the Helm values merge
// with the server's own parser, and the properties the issue asks of all.
package deploy_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/yannh/kubeconform/pkg/validator"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// loadCompose loads compose.yaml as `docker compose` would, from a copy of
// the compose directory whose .env is env.example with test secrets.
func loadCompose(t *testing.T, composeYAML []byte) (*types.Project, error) {
	t.Helper()
	dir := t.TempDir()
	// The NATS configs are mounted from ../nats.
	if err := os.MkdirAll(filepath.Join(dir, "compose"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(filepath.Join(dir, "nats"), os.DirFS("nats")); err != nil {
		t.Fatal(err)
	}
	env, err := os.ReadFile("compose/env.example")
	if err != nil {
		t.Fatal(err)
	}
	env = bytes.Replace(env, []byte("NUDGE_NATS_PASSWORD=\n"), []byte("NUDGE_NATS_PASSWORD=nats-secret\n"), 1)
	env = bytes.Replace(env, []byte("POSTGRES_PASSWORD=\n"), []byte("POSTGRES_PASSWORD=pg-secret\n"), 1)
	for name, b := range map[string][]byte{"compose.yaml": composeYAML, ".env": env} {
		if err := os.WriteFile(filepath.Join(dir, "compose", name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	opts, err := cli.NewProjectOptions([]string{filepath.Join(dir, "compose", "compose.yaml")},
		cli.WithWorkingDirectory(filepath.Join(dir, "compose")),
		cli.WithEnvFiles(filepath.Join(dir, "compose", ".env")), cli.WithDotEnv, cli.WithName("nudge"))
	if err != nil {
		t.Fatal(err)
	}
	return opts.LoadProject(context.Background())
}

func TestComposeValidatesAndStartsInOrder(t *testing.T) {
	raw, err := os.ReadFile("compose/compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := loadCompose(t, raw)
	if err != nil {
		t.Fatalf("compose.yaml does not load against the compose-spec schema: %v", err)
	}
	want := []string{"migrate", "nats-1", "nats-2", "nats-3", "nudge-1", "nudge-2", "postgres", "proxy"}
	if got := p.ServiceNames(); !slices.Equal(sorted(got), want) {
		t.Fatalf("services %v, want %v", got, want)
	}

	// One published port, the proxy's; metrics and NATS monitoring stay inside.
	for name, s := range p.Services {
		for _, port := range s.Ports {
			if name != "proxy" || port.Published != "8080" || port.Target != 8080 {
				t.Errorf("%s publishes %s:%d: only the proxy's 8080 may be published", name, port.Published, port.Target)
			}
		}
	}
	if len(p.Services["proxy"].Ports) != 1 {
		t.Errorf("proxy ports %v, want one", p.Services["proxy"].Ports)
	}
	proxy := strings.Join(p.Services["proxy"].Command, " ")
	for _, upstream := range []string{"nudge-1:8080", "nudge-2:8080"} {
		if !strings.Contains(proxy, upstream) {
			t.Errorf("the proxy does not balance to %s: %s", upstream, proxy)
		}
	}

	// Migrations once, before any replica; every start health-gated.
	if got := strings.Join(p.Services["migrate"].Command, " "); got != "migrate up" {
		t.Errorf("migrate runs %q", got)
	}
	needs := func(svc, dep, cond string) {
		t.Helper()
		if d, ok := p.Services[svc].DependsOn[dep]; !ok || d.Condition != cond {
			t.Errorf("%s depends on %s with %+v, want condition %s", svc, dep, d, cond)
		}
	}
	needs("migrate", "postgres", types.ServiceConditionHealthy)
	needs("proxy", "nudge-1", types.ServiceConditionHealthy)
	needs("proxy", "nudge-2", types.ServiceConditionHealthy)
	for _, n := range []string{"nudge-1", "nudge-2"} {
		s := p.Services[n]
		needs(n, "migrate", types.ServiceConditionCompletedSuccessfully)
		for _, nats := range []string{"nats-1", "nats-2", "nats-3"} {
			needs(n, nats, types.ServiceConditionHealthy)
		}
		env := s.Environment
		for k, v := range map[string]string{"NUDGE_NO_MIGRATE": "true", "NUDGE_METRICS_LISTEN": ":9090", "NUDGE_REPLICAS": "3",
			"NUDGE_DATABASE_URL": "postgres://nudge:pg-secret@postgres:5432/nudge?sslmode=disable"} {
			if env[k] == nil || *env[k] != v {
				t.Errorf("%s: %s = %v, want %q", n, k, env[k], v)
			}
		}
		if s.HealthCheck == nil || !slices.Contains(s.HealthCheck.Test, "probe") {
			t.Errorf("%s has no health check through nudge probe: %+v", n, s.HealthCheck)
		}
	}
	for _, n := range []string{"nats-1", "nats-2", "nats-3", "postgres"} {
		if p.Services[n].HealthCheck == nil {
			t.Errorf("%s has no health check: nothing could wait for it", n)
		}
	}
	for _, n := range []string{"nats-1", "nats-2", "nats-3"} {
		for _, v := range p.Services[n].Volumes {
			if v.Type == types.VolumeTypeBind {
				if _, err := os.Stat(v.Source); err != nil {
					t.Errorf("%s mounts %s: %v", n, v.Source, err)
				}
			}
		}
	}
}

// The schema check is real: a misspelled key and a mistyped value fail.
func TestComposeSchemaRejectsMistakes(t *testing.T) {
	for name, y := range map[string]string{
		"unknown key":   "services:\n  a:\n    image: x\n    restrat: always\n",
		"mistyped port": "services:\n  a:\n    image: x\n    ports: {a: b}\n",
	} {
		if _, err := loadCompose(t, []byte(y)); err == nil {
			t.Errorf("%s: loaded without an error", name)
		}
	}
}

// kubernetesVersion is the Kubernetes release whose OpenAPI spec the
// committed schemas come from (go run ./deploy/internal/genschemas).
const kubernetesVersion = "1.37.2"

// schemaLocation is kubeconform's default layout, on disk:
// testdata/kubernetes-schemas/v1.37.2-standalone-strict/deployment-apps-v1.json.
const schemaLocation = "testdata/kubernetes-schemas/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json"

// manifestFiles lists the Kubernetes manifests; *-values.yaml are Helm
// values, not manifests (the generator skips them the same way).
func manifestFiles(t *testing.T) []string {
	t.Helper()
	all, err := filepath.Glob("kubernetes/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, f := range all {
		if !strings.HasSuffix(f, "-values.yaml") {
			files = append(files, f)
		}
	}
	if len(files) == 0 {
		t.Fatal("no manifests in kubernetes/")
	}
	return files
}

// validateManifests validates every document of a multi-document YAML
// stream with kubeconform against the committed schemas, strictly (unknown
// fields and duplicate keys fail) and offline. A kind without a schema is an
// error, not a skip. It returns the number of valid documents and an error
// naming every failure.
func validateManifests(t *testing.T, name string, raw []byte) (int, error) {
	t.Helper()
	loc, err := filepath.Abs(schemaLocation)
	if err != nil {
		t.Fatal(err)
	}
	v, err := validator.New([]string{loc}, validator.Opts{KubernetesVersion: kubernetesVersion, Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	var (
		valid int
		errs  []error
	)
	for _, r := range v.Validate(name, io.NopCloser(bytes.NewReader(raw))) {
		switch r.Status {
		case validator.Valid:
			valid++
		case validator.Empty:
		default:
			e := fmt.Errorf("%s: %v", name, r.Err)
			if sig, err := r.Resource.Signature(); err == nil {
				e = fmt.Errorf("%s: %s %s %q: %v", name, sig.Version, sig.Kind, sig.Name, r.Err)
			}
			errs = append(errs, e)
		}
	}
	return valid, errors.Join(errs...)
}

// decodeManifests decodes every document of a multi-document YAML file
// into the Kubernetes API types, for the property checks below (the schema
// check is validateManifests).
func decodeManifests(t *testing.T, raw []byte) ([]runtime.Object, error) {
	t.Helper()
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, appsv1.AddToScheme, batchv1.AddToScheme, networkingv1.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	dec := serializer.NewCodecFactory(scheme, serializer.EnableStrict).UniversalDeserializer()
	r := utilyaml.NewYAMLReader(bufioReader(raw))
	var out []runtime.Object
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(stripComments(doc))) == 0 {
			continue
		}
		obj, _, err := dec.Decode(doc, nil, nil)
		if err != nil {
			return nil, err
		}
		out = append(out, obj)
	}
}

// Every document of every manifest validates against the Kubernetes schemas.
func TestKubernetesManifestsValidateAgainstSchemas(t *testing.T) {
	for _, f := range manifestFiles(t) {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		valid, err := validateManifests(t, f, raw)
		if err != nil {
			t.Errorf("%s does not validate against the Kubernetes %s schemas:\n%v", f, kubernetesVersion, err)
		}
		if docs := countDocuments(t, raw); valid != docs || valid == 0 {
			t.Errorf("%s: %d of %d documents validated", f, valid, docs)
		}
	}
}

// The schema check is real: a mistyped value, an unknown field, a missing
// required field, a wrong apiVersion and a kind without a schema all fail,
// while the same manifest without the mistake passes.
func TestKubernetesSchemasRejectMistakes(t *testing.T) {
	const deployment = `apiVersion: apps/v1
kind: Deployment
metadata: {name: x}
spec:
  replicas: 2
  selector: {matchLabels: {app: x}}
  template:
    metadata: {labels: {app: x}}
    spec:
      containers:
        - {name: x, image: x, ports: [{containerPort: 8080}]}
`
	if _, err := validateManifests(t, "good", []byte(deployment)); err != nil {
		t.Fatalf("a correct Deployment fails: %v", err)
	}
	for name, c := range map[string]struct{ old, new, want string }{
		"mistyped replicas":        {"replicas: 2", `replicas: "two"`, "/spec/replicas': got string, want integer"},
		"unknown field":            {"containers:", "contaners:", "'contaners' not allowed"},
		"unknown nested field":     {"containerPort: 8080", "containerPort: 8080, hostPorts: 1", "'hostPorts' not allowed"},
		"mistyped port":            {"containerPort: 8080", "containerPort: eighty", "containerPort': got string, want integer"},
		"missing required field":   {"  selector: {matchLabels: {app: x}}\n", "", "missing property 'selector'"},
		"duplicate key":            {"  replicas: 2\n", "  replicas: 2\n  replicas: 3\n", `key "replicas" already set`},
		"unserved apiVersion":      {"apps/v1", "apps/v1beta1", "could not find schema for Deployment"},
		"wrong group for the kind": {"apiVersion: apps/v1", "apiVersion: v1", "could not find schema for Deployment"},
		"kind without a schema":    {"apiVersion: apps/v1\nkind: Deployment", "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor", "could not find schema for ServiceMonitor"},
	} {
		bad := strings.Replace(deployment, c.old, c.new, 1)
		if bad == deployment {
			t.Fatalf("%s: the replacement did not apply", name)
		}
		_, err := validateManifests(t, name, []byte(bad))
		switch {
		case err == nil:
			t.Errorf("%s: validated without an error", name)
		case !strings.Contains(err.Error(), c.want):
			t.Errorf("%s: failed, but not with %q: %v", name, c.want, err)
		}
	}
}

func TestKubernetesManifests(t *testing.T) {
	raw, err := os.ReadFile("kubernetes/nudge.yaml")
	if err != nil {
		t.Fatal(err)
	}
	objs, err := decodeManifests(t, raw)
	if err != nil {
		t.Fatalf("kubernetes/nudge.yaml does not decode into the Kubernetes API types: %v", err)
	}
	var (
		secret  *corev1.Secret
		deploy  *appsv1.Deployment
		job     *batchv1.Job
		svc     *corev1.Service
		ingress *networkingv1.Ingress
	)
	for _, o := range objs {
		switch o := o.(type) {
		case *corev1.Secret:
			secret = o
		case *appsv1.Deployment:
			deploy = o
		case *batchv1.Job:
			job = o
		case *corev1.Service:
			svc = o
		case *networkingv1.Ingress:
			ingress = o
		}
	}
	if secret == nil || deploy == nil || job == nil || svc == nil || ingress == nil {
		t.Fatalf("want a Secret, Deployment, Job, Service and Ingress; got %d objects", len(objs))
	}

	// The Secret holds every setting serve requires (see serveCmd.validate).
	for _, k := range []string{"NUDGE_DATABASE_URL", "NUDGE_API_TOKEN", "NUDGE_NATS_PASSWORD", "NUDGE_PUBLIC_URL",
		"NUDGE_PRACTICE_NAME", "NUDGE_PRACTICE_ADDRESS", "NUDGE_TWILIO_ACCOUNT_SID", "NUDGE_TWILIO_AUTH_TOKEN",
		"NUDGE_TWILIO_FROM", "NUDGE_SENDGRID_API_KEY", "NUDGE_SENDGRID_FROM", "NUDGE_SENDGRID_WEBHOOK_KEY"} {
		if secret.StringData[k] == "" {
			t.Errorf("the Secret lacks %s", k)
		}
	}

	pod := deploy.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("deployment containers: %d", len(pod.Containers))
	}
	c := pod.Containers[0]
	for name, p := range map[string]*corev1.Probe{"startup": c.StartupProbe, "readiness": c.ReadinessProbe, "liveness": c.LivenessProbe} {
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Port.String() != "metrics" {
			t.Errorf("%s probe %+v, want an HTTP probe on the metrics port", name, p)
		}
	}
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Errorf("resources %+v, want cpu and memory requests and a memory limit", c.Resources)
	}
	if len(c.EnvFrom) != 1 || c.EnvFrom[0].SecretRef == nil || c.EnvFrom[0].SecretRef.Name != secret.Name {
		t.Errorf("the deployment does not take its settings from the %s Secret", secret.Name)
	}
	if pod.SecurityContext == nil || pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot {
		t.Error("the pod may run as root")
	}
	ann := deploy.Spec.Template.Annotations
	if ann["prometheus.io/scrape"] != "true" || ann["prometheus.io/port"] != "9090" {
		t.Errorf("scrape annotations %v", ann)
	}
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	if env["NUDGE_METRICS_LISTEN"] != ":9090" || env["NUDGE_NO_MIGRATE"] != "true" {
		t.Errorf("deployment env %v: want metrics on :9090 and migrations left to the Job", env)
	}

	if args := job.Spec.Template.Spec.Containers[0].Args; !slices.Equal(args, []string{"migrate", "up"}) {
		t.Errorf("migration Job runs %v", args)
	}
	// The Service and Ingress expose the API port only, over TLS.
	for _, p := range svc.Spec.Ports {
		if p.TargetPort.String() != "http" {
			t.Errorf("the Service exposes %s", p.TargetPort.String())
		}
	}
	if len(ingress.Spec.TLS) == 0 || ingress.Spec.TLS[0].SecretName == "" {
		t.Error("the Ingress has no TLS")
	}
	if b := ingress.Spec.Rules[0].HTTP.Paths[0].Backend.Service; b == nil || b.Name != svc.Name || b.Port.Name != "http" {
		t.Errorf("the Ingress routes to %+v", b)
	}
}

// The NATS settings the Helm values merge into the chart's nats.conf
// (config.merge) are rendered as the chart renders them — JSON, with each
// "<< $VAR >>" unquoted into a variable reference — and parsed by the
// server's own parser; the password comes from the nudge Secret's key.
func TestNATSHelmValuesMergeParses(t *testing.T) {
	raw, err := os.ReadFile("kubernetes/nats-values.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var values struct {
		Config struct {
			Merge map[string]any `json:"merge"`
		} `json:"config"`
		Container struct {
			Env map[string]struct {
				ValueFrom corev1.EnvVarSource `json:"valueFrom"`
			} `json:"env"`
		} `json:"container"`
	}
	if err := yaml.Unmarshal(raw, &values); err != nil {
		t.Fatal(err)
	}
	if len(values.Config.Merge) == 0 {
		t.Fatal("nats-values.yaml merges no config")
	}
	// toPrettyRawJson: indented, without HTML escaping.
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(values.Config.Merge); err != nil {
		t.Fatal(err)
	}
	conf := regexp.MustCompile(`"<<\s+(.*)\s+>>"`).ReplaceAll(b.Bytes(), []byte("${1}"))
	path := filepath.Join(t.TempDir(), "nats.conf")
	if err := os.WriteFile(path, conf, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("NUDGE_NATS_PASSWORD", "secret-from-env")
	opts, err := server.ProcessConfigFile(path)
	if err != nil {
		t.Fatalf("the merged config does not parse:\n%s\n%v", conf, err)
	}
	if !opts.JetStream || !opts.SyncAlways {
		t.Errorf("jetstream=%v sync_always=%v, want both", opts.JetStream, opts.SyncAlways)
	}
	// nudge.yaml connects as NUDGE_NATS_USER=nudge with the Secret's password.
	if opts.Username != "nudge" || opts.Password != "secret-from-env" {
		t.Errorf("user %q password %q: want nudge and the password from NUDGE_NATS_PASSWORD", opts.Username, opts.Password)
	}
	if ref := values.Container.Env["NUDGE_NATS_PASSWORD"].ValueFrom.SecretKeyRef; ref == nil || ref.Name != "nudge" || ref.Key != "NUDGE_NATS_PASSWORD" {
		t.Errorf("the NATS container does not take NUDGE_NATS_PASSWORD from the nudge Secret: %+v", ref)
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func bufioReader(b []byte) *bufio.Reader { return bufio.NewReader(bytes.NewReader(b)) }

// countDocuments counts the documents of a YAML stream that are more than
// comments.
func countDocuments(t *testing.T, raw []byte) int {
	t.Helper()
	r := utilyaml.NewYAMLReader(bufioReader(raw))
	n := 0
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return n
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(bytes.TrimSpace(stripComments(doc))) > 0 {
			n++
		}
	}
}

// stripComments drops comment lines, to tell an empty document.
func stripComments(doc []byte) []byte {
	var out [][]byte
	for _, line := range bytes.Split(doc, []byte("\n")) {
		if !bytes.HasPrefix(bytes.TrimSpace(line), []byte("#")) {
			out = append(out, line)
		}
	}
	return bytes.Join(out, []byte("\n"))
}
