//! The Kubernetes manifests under `deploy/kubernetes/` and the container
//! image definition, read the way the cluster and the builder would: the
//! profile Job is Indexed with completions = parallelism = IMGPERF_SHARDS,
//! runs `--shard auto` with `--start-at` set at submission, reads the
//! prompts ConfigMap and writes to the shared volume the merge Job reads;
//! every container's arguments parse as an imgperf command line.

use clap::Parser;
use imgperf::cli::{Cli, Command};
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

fn deploy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy")
}

/// Every document of every YAML file, by kind and name.
fn manifests() -> HashMap<(String, String), Value> {
    let mut out = HashMap::new();
    let dir = deploy().join("kubernetes");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    files.sort();
    assert!(files.len() >= 4, "{files:?}");
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for doc in serde_yaml_ng::Deserializer::from_str(&text) {
            let v: Value = serde::Deserialize::deserialize(doc)
                .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            let kind = v["kind"].as_str().expect("kind").to_owned();
            let name = v["metadata"]["name"].as_str().expect("name").to_owned();
            assert!(v["apiVersion"].is_string(), "{}", f.display());
            out.insert((kind, name), v);
        }
    }
    out
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(|s| s.as_str().expect("a string").to_owned())
        .collect()
}

fn env(container: &Value) -> HashMap<String, String> {
    container["env"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| Some((e["name"].as_str()?.into(), e["value"].as_str()?.into())))
                .collect()
        })
        .unwrap_or_default()
}

/// The container's args with `$(VAR)` expanded from its env, as the kubelet does.
fn expanded(container: &Value, start: &str) -> Vec<String> {
    let env = env(container);
    strs(&container["args"])
        .into_iter()
        .map(|mut a| {
            for (k, v) in &env {
                a = a.replace(&format!("$({k})"), &v.replace("__START_AT__", start));
            }
            a
        })
        .collect()
}

fn flag<'a>(args: &'a [String], name: &str) -> &'a str {
    let i = args
        .iter()
        .position(|a| a == name)
        .unwrap_or_else(|| panic!("{name} in {args:?}"));
    &args[i + 1]
}

/// The volume (by name) mounted at the start of `path`, and the mount point.
fn volume_for<'a>(pod: &'a Value, path: &str) -> (&'a Value, String) {
    let c = &pod["containers"][0];
    let mount = c["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| path.starts_with(m["mountPath"].as_str().unwrap()))
        .unwrap_or_else(|| panic!("no volume mounted for {path}"));
    let name = &mount["name"];
    let vol = pod["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| &v["name"] == name)
        .unwrap();
    (vol, mount["mountPath"].as_str().unwrap().to_owned())
}

#[test]
fn kubernetes_manifests_make_one_sharded_benchmark_and_its_merge() {
    let m = manifests();
    let job = &m[&("Job".into(), "imgperf-profile".into())];
    let spec = &job["spec"];
    assert_eq!(spec["completionMode"], "Indexed");
    let n = spec["completions"].as_u64().unwrap();
    assert!(n > 1);
    assert_eq!(
        spec["parallelism"].as_u64(),
        Some(n),
        "all shards run at once"
    );
    let pod = &spec["template"]["spec"];
    assert_eq!(pod["restartPolicy"], "Never");
    let c = &pod["containers"][0];
    assert_eq!(env(c)["IMGPERF_SHARDS"], n.to_string());
    assert_eq!(
        env(c)["IMGPERF_START_AT"],
        "__START_AT__",
        "set at submission"
    );
    let start = "2030-01-01T00:00:00Z";
    let args = expanded(c, start);
    assert_eq!(args[0], "profile");
    assert_eq!(flag(&args, "--shard"), "auto");
    assert_eq!(flag(&args, "--start-at"), start);
    assert!(args.contains(&"--random-seed".to_owned()));
    // The arguments are a valid imgperf command line.
    let mut argv = vec!["imgperf".to_owned()];
    argv.extend(args.iter().cloned());
    let Command::Profile(p) = Cli::try_parse_from(&argv).unwrap().command else {
        panic!("not profile")
    };
    assert_eq!(p.scale.shard.as_deref(), Some("auto"));

    // Prompts from the ConfigMap.
    let input = flag(&args, "--input-file");
    let (vol, at) = volume_for(pod, input);
    let cm_name = vol["configMap"]["name"].as_str().unwrap();
    let cm = &m[&("ConfigMap".into(), cm_name.into())];
    let key = input.strip_prefix(&format!("{at}/")).unwrap();
    let prompts = cm["data"][key].as_str().unwrap();
    for line in prompts.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        assert!(v["text"].is_string(), "{line}");
    }

    // Shard directories on the shared volume; the merge Job reads the same place.
    let artifacts = flag(&args, "--artifact-dir").to_owned();
    let (runs, _) = volume_for(pod, &artifacts);
    let claim = runs["persistentVolumeClaim"]["claimName"].as_str().unwrap();
    let pvc = &m[&("PersistentVolumeClaim".into(), claim.into())];
    assert_eq!(strs(&pvc["spec"]["accessModes"]), ["ReadWriteMany"]);

    let merge = &m[&("Job".into(), "imgperf-merge".into())];
    let mpod = &merge["spec"]["template"]["spec"];
    assert_eq!(merge["spec"]["completions"], 1);
    let mc = &mpod["containers"][0];
    assert_eq!(mc["image"], c["image"], "one image for both steps");
    let margs = expanded(mc, start);
    assert_eq!(margs[0], "merge");
    assert_eq!(
        margs.last().unwrap(),
        &artifacts,
        "merges where the shards write"
    );
    assert!(
        flag(&margs, "--wait").parse::<f64>().unwrap() > 0.0,
        "waits for the workers"
    );
    let (mruns, _) = volume_for(mpod, &artifacts);
    assert_eq!(mruns["persistentVolumeClaim"]["claimName"], claim);
    let mut argv = vec!["imgperf".to_owned()];
    argv.extend(margs);
    assert!(matches!(
        Cli::try_parse_from(&argv).unwrap().command,
        Command::Merge(_)
    ));
}

#[test]
fn container_image_is_a_static_binary_on_a_small_base() {
    let text = std::fs::read_to_string(deploy().join("Dockerfile")).unwrap();
    let froms: Vec<&str> = text.lines().filter(|l| l.starts_with("FROM ")).collect();
    assert_eq!(froms.len(), 2, "multi-stage: {froms:?}");
    assert!(froms[0].contains(" AS build"));
    assert!(froms[1].contains("distroless/static"), "{}", froms[1]);
    assert!(text.contains("--target x86_64-unknown-linux-musl"));
    assert!(text.contains("COPY --from=build /imgperf /usr/local/bin/imgperf"));
    assert!(text.contains("ENTRYPOINT [\"/usr/local/bin/imgperf\"]"));
    let ignore = std::fs::read_to_string(deploy().join("../.dockerignore")).unwrap();
    assert!(ignore.lines().any(|l| l == "target"));
}
