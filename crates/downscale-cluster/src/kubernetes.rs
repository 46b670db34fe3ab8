//! Kubernetes manifests for one task of a run: a ConfigMap with the parameter file and the configuration, an
//! Indexed Job whose pods each run `downscale task` for one shard (`completionMode: Indexed`, the shard number from
//! the `JOB_COMPLETION_INDEX` the Job controller sets), retried per index (`backoffLimitPerIndex`, Kubernetes 1.33
//! and later), and for a sharded task a suspended Job that publishes the store from the shards once they are done.
//! No Kubernetes client is involved: a Job cannot wait for another Job, so the manifests are applied with `kubectl
//! apply -f`, the shards' Job waited for with `kubectl wait --for=condition=complete`, and the publishing Job then
//! released by un-suspending it; the next task's manifests follow.
//!
//! These manifests follow the Kubernetes API's documented fields but have not been run against a live cluster by
//! this project's tests, which check them against a golden file only.

use blake2::{Blake2s256, Digest};
use serde_json::{Value, json};

/// What one task's manifests need.
#[derive(Debug, Clone)]
pub struct IndexedJob<'a> {
    /// The run id: names the objects (made DNS-safe) and labels them.
    pub run_id: &'a str,
    /// The task's id in its flow.
    pub task_id: &'a str,
    /// Its shard count, or `None` for a task that is not sharded (one pod without `--shard`).
    pub shards: Option<usize>,
    /// The container image holding the `downscale` binary.
    pub image: &'a str,
    /// CPUs of each pod (its request and the task's threads).
    pub cpus: u32,
    /// Memory of each pod in bytes (its request and limit, and the task's budget).
    pub memory: u64,
    /// Pods running at once.
    pub parallelism: usize,
    /// How many times a failed index is retried.
    pub backoff_limit_per_index: u32,
    /// The parameter file's text, mounted as `/etc/downscale/params.json`.
    pub parameters: &'a str,
    /// The configuration the pods read, as YAML, mounted as `/etc/downscale/downscale.yaml`.
    pub configuration: &'a str,
    /// The Secret whose keys become the pods' environment (the object store's endpoint and credentials).
    pub secret: &'a str,
}

/// Where the ConfigMap is mounted in the pods.
const MOUNT: &str = "/etc/downscale";

impl IndexedJob<'_> {
    /// The ConfigMap, the Job of the task (or its shards) and, for a sharded task, the suspended publishing Job.
    pub fn manifests(&self) -> Vec<Value> {
        // Object names are at most 63 characters: a prefix of the run id, made unique by a digest of all of it.
        let digest = Blake2s256::digest(self.run_id.as_bytes());
        let hex: String = digest[..4].iter().map(|byte| format!("{byte:02x}")).collect();
        let base = format!("{}-{hex}", dns_name(&format!("downscale-{}", self.run_id), 30));
        let config_name = format!("{base}-config");
        let job_name = dns_name(&format!("{base}-{}", self.task_id), 55);
        let labels = json!({
            "app.kubernetes.io/name": "downscale",
            "downscale/run": dns_name(self.run_id, 63),
            "downscale/task": dns_name(self.task_id, 63),
        });
        let config_map = json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": config_name, "labels": labels},
            "data": {"params.json": self.parameters, "downscale.yaml": self.configuration},
        });
        let mut args = self.task_args();
        if self.shards.is_some() {
            // Kubernetes substitutes $(NAME) in args from the container's environment.
            args.extend(["--shard".to_string(), "$(JOB_COMPLETION_INDEX)".to_string()]);
        }
        let completions = self.shards.unwrap_or(1);
        let mut spec = json!({
            "completionMode": "Indexed",
            "completions": completions,
            "parallelism": self.parallelism.clamp(1, completions),
            "backoffLimitPerIndex": self.backoff_limit_per_index,
        });
        spec["template"] = self.pod(&labels, &config_name, args);
        let job = json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": job_name, "labels": labels}, "spec": spec});
        let mut manifests = vec![config_map, job];
        if self.shards.is_some() {
            let mut args = self.task_args();
            args.push("--publish".to_string());
            let spec = json!({
                "suspend": true,
                "completions": 1,
                "backoffLimit": self.backoff_limit_per_index,
                "template": self.pod(&labels, &config_name, args),
            });
            let name = format!("{job_name}-publish");
            manifests.push(json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name, "labels": labels}, "spec": spec}));
        }
        manifests
    }

    /// The `downscale task` arguments of the task's pods, before `--shard` or `--publish`.
    fn task_args(&self) -> Vec<String> {
        vec![
            "--config".to_string(),
            format!("{MOUNT}/downscale.yaml"),
            // The pod's share of the node: its CPUs as threads, its memory as the task's budget.
            "--set".to_string(),
            format!("runtimes.local.threads={}", self.cpus),
            "--set".to_string(),
            format!("runtimes.local.memory_limit={}", self.memory),
            "task".to_string(),
            "--runtime".to_string(),
            "local".to_string(),
            "--param-file".to_string(),
            format!("{MOUNT}/params.json"),
            "--task".to_string(),
            self.task_id.to_string(),
        ]
    }

    /// A pod template running `downscale` with `args`, the ConfigMap mounted and the Secret as its environment.
    fn pod(&self, labels: &Value, config_name: &str, args: Vec<String>) -> Value {
        let resources = json!({
            "requests": {"cpu": self.cpus.to_string(), "memory": self.memory.to_string()},
            "limits": {"memory": self.memory.to_string()},
        });
        json!({
            "metadata": {"labels": labels},
            "spec": {
                "restartPolicy": "Never",
                "containers": [{
                    "name": "task",
                    "image": self.image,
                    "command": ["downscale"],
                    "args": args,
                    "envFrom": [{"secretRef": {"name": self.secret, "optional": true}}],
                    "resources": resources,
                    "volumeMounts": [{"name": "config", "mountPath": MOUNT, "readOnly": true}],
                }],
                "volumes": [{"name": "config", "configMap": {"name": config_name}}],
            },
        })
    }
}

/// `text` as a Kubernetes object name (RFC 1123 label: lower-case letters, digits and `-`, starting and ending with
/// a letter or digit) of at most `limit` characters.
fn dns_name(text: &str, limit: usize) -> String {
    let mut name = String::with_capacity(text.len());
    for c in text.chars() {
        let c = c.to_ascii_lowercase();
        let c = if c.is_ascii_alphanumeric() { c } else { '-' };
        if !(c == '-' && name.ends_with('-')) {
            name.push(c);
        }
    }
    name.truncate(limit);
    name.trim_matches('-').to_string()
}

#[cfg(test)]
mod tests {
    use super::dns_name;

    #[test]
    fn names_are_dns_labels() {
        assert_eq!(
            dns_name("bcsd_E-OBS_CNRM-CM5_r1i1p1_rcp85_tas_35_45_-10_5", 63),
            "bcsd-e-obs-cnrm-cm5-r1i1p1-rcp85-tas-35-45-10-5"
        );
        assert_eq!(dns_name("__a.b__", 63), "a-b");
        assert_eq!(dns_name("abcdef-ghij", 7), "abcdef");
    }
}
