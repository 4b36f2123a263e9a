package kube

import (
	"slices"
	"sort"
)

// Permission is one kind of access inferbench makes to the Kubernetes API,
// as RBAC writes it: an API group ("" for the core group), a resource
// (with its subresource: "pods/log") and the verbs. All are namespaced:
// inferbench needs no ClusterRole.
type Permission struct {
	Group    string
	Resource string
	Verbs    []string
}

// PodWatchPermissions are the calls pod checks make today (Resolve,
// ListPods, the usage from metrics.k8s.io, the step's events). A test runs
// them on client-go's fake clientsets and compares the calls with this
// table, so a new call cannot go unlisted.
func PodWatchPermissions() []Permission {
	return []Permission{
		{Group: "apps", Resource: "deployments", Verbs: []string{"get"}}, // a target's deployment: its selector
		{Group: "", Resource: "services", Verbs: []string{"get"}},        // a target's service: its selector
		{Group: "", Resource: "pods", Verbs: []string{"list"}},           // the pods around each step
		{Group: "", Resource: "events", Verbs: []string{"list"}},         // the step's events
		{Group: "metrics.k8s.io", Resource: "pods", Verbs: []string{"list"}},
	}
}

// ScalePermissions are the calls of ScaleSource.Sample (replicas over
// time): the Deployment, the HorizontalPodAutoscalers (a refusal only
// turns the HPA's figures off), KServe's InferenceService and the pods.
func ScalePermissions() []Permission {
	return []Permission{
		{Group: "apps", Resource: "deployments", Verbs: []string{"get"}},
		{Group: "autoscaling", Resource: "horizontalpodautoscalers", Verbs: []string{"list"}},
		{Group: "serving.kserve.io", Resource: "inferenceservices", Verbs: []string{"get"}},
		{Group: "", Resource: "pods", Verbs: []string{"list"}},
	}
}

// LoaderPermissions are the calls of the loaders run as an Indexed Job
// (JobCoordinator, JobStation, ReadJob): the plan in a ConfigMap whose
// annotations carry the starts, the heartbeat and the loaders' arrivals
// (patch), the Job created and deleted, its pods listed and their logs
// read (each loader's result). A test runs them on the fake clientset and
// compares the calls with this table.
func LoaderPermissions() []Permission {
	return []Permission{
		{Group: "", Resource: "configmaps", Verbs: []string{"create", "get", "patch", "delete"}},
		{Group: "batch", Resource: "jobs", Verbs: []string{"create", "delete"}},
		{Group: "", Resource: "pods", Verbs: []string{"list"}},
		{Group: "", Resource: "pods/log", Verbs: []string{"get"}},
	}
}

// RequiredPermissions is everything inferbench calls, merged by group and
// resource, the verbs sorted: what deploy/role.yaml grants, no more.
func RequiredPermissions() []Permission {
	return MergePermissions(PodWatchPermissions(), ScalePermissions(), LoaderPermissions())
}

// MergePermissions merges tables by group and resource, the verbs of each
// sorted and without repeats, the rows sorted by group then resource.
func MergePermissions(tables ...[]Permission) []Permission {
	type key struct{ group, resource string }
	verbs := map[key][]string{}
	for _, t := range tables {
		for _, p := range t {
			k := key{p.Group, p.Resource}
			verbs[k] = append(verbs[k], p.Verbs...)
		}
	}
	out := make([]Permission, 0, len(verbs))
	for k, v := range verbs {
		sort.Strings(v)
		out = append(out, Permission{Group: k.group, Resource: k.resource, Verbs: slices.Compact(v)})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Group != out[j].Group {
			return out[i].Group < out[j].Group
		}
		return out[i].Resource < out[j].Resource
	})
	return out
}
