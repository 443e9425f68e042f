//! Developer tasks for plinth, run as `cargo xtask <task>`.
//!
//! - `gen-scale`: writes a layered DAG of `core:data` or `core:sleep` resources for the scale
//!   benchmark (see `scripts/bench.sh` and BENCHMARKS.md); with `--modules M`, a root calling
//!   one module M times (`for_each`), the module holding that DAG.
//! - `gen-identities`, `gen-estate`: the cloud-scale workloads of `scripts/bench-cloud.sh`
//!   (see [`estate`]).

mod estate;
mod modules;
mod scale;

use std::path::PathBuf;
use std::process::ExitCode;

use scale::{Kind, Spec};

const USAGE: &str = "\
Usage: cargo xtask gen-identities --count N --out DIR
       cargo xtask gen-estate [--objects N] [--clusters K] [--seed S] --out DIR
       cargo xtask gen-scale --resources N --out DIR [OPTIONS]

gen-identities writes DIR/main.toml: one resource group and N user-assigned identities in
it (N + 1 objects).

gen-estate writes a mixed Azure + Kubernetes estate: DIR/main.toml with K clusters (each a
resource group, an AKS cluster and a Service Bus namespace) and a `[module.cK]` call per
cluster, whose `providers.kubernetes` names that cluster, over its applications;
DIR/modules/workload/main.toml with one application's 9 objects (queue, identity, two
federated credentials, role assignment; Namespace, ServiceAccount, ConfigMap, KEDA
TriggerAuthentication). As many applications as fit in N objects [default N: 2000, K: 4,
S: 1]. Both print a JSON summary on stdout.

gen-scale --resources N --out DIR [OPTIONS]

Writes DIR/main.toml: N resources in a layered DAG where every resource of layer k > 0
references 1-3 resources of earlier layers (one always from layer k-1). Prints a JSON
summary on stdout.

With --modules M, writes DIR/main.toml calling DIR/modules/layered/ with for_each over M
keys, and the module: the same kind of DAG of N/M resources (references inside the
instance), every value prefixed with the `prefix` input, the first layer reading the `seed`
input, outputs `first_id` and `last` read by a root resource. M x N/M + 2 objects in all.

Options:
  --resources N        number of resources (required)
  --out DIR            output directory, created if missing (required)
  --layers L           number of layers [default: 10]
  --seed S             seed of the pseudo-random choices [default: 1]
  --sleep              core:sleep resources (depends_on) instead of core:data (${...})
  --expressive         core:data resources that use locals, for-expressions, conditionals
                       and functions in every resource (same graph and inputs)
  --duration-ms A..B   create_duration range for --sleep, in ms [default: 200..1000]
  --touch F            change the input value of a fraction F (0..1) of core:data resources,
                       same graph otherwise: regenerate over an applied DIR to benchmark an
                       incremental plan (with --modules: of the module's resources, so in
                       every instance) [default: 0]
  --modules M          M module instances of N/M resources each (N must be a multiple of M;
                       not with --sleep or --expressive)
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("gen-scale") => parse_gen(&args[1..]).and_then(|(job, out)| run_gen(&job, &out)),
        Some("gen-identities") => parse_cloud(&args[1..], false).and_then(|job| run_cloud(&job)),
        Some("gen-estate") => parse_cloud(&args[1..], true).and_then(|job| run_cloud(&job)),
        Some("-h" | "--help" | "help") | None => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Some(other) => Err(format!("unknown task `{other}`\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn parse_num<T: std::str::FromStr>(flag: &str, v: &str) -> Result<T, String> {
    v.parse()
        .map_err(|_| format!("{flag}: `{v}` is not a valid number"))
}

fn parse_gen(args: &[String]) -> Result<(Gen, PathBuf), String> {
    let mut resources = None;
    let mut out: Option<PathBuf> = None;
    let mut layers = 10usize;
    let mut seed = 1u64;
    let mut sleep = false;
    let mut expressive = false;
    let mut range = (200u64, 1000u64);
    let mut touch = 0.0f64;
    let mut modules = None;
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        if flag == "-h" || flag == "--help" {
            return Err(USAGE.to_string());
        }
        if flag == "--sleep" {
            sleep = true;
            continue;
        }
        if flag == "--expressive" {
            expressive = true;
            continue;
        }
        // Accept both `--flag value` and `--flag=value`.
        let (name, inline) = match flag.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (flag.as_str(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| it.next().cloned())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match name {
            "--resources" => resources = Some(parse_num::<usize>(name, &value()?)?),
            "--out" => out = Some(PathBuf::from(value()?)),
            "--layers" => layers = parse_num(name, &value()?)?,
            "--seed" => seed = parse_num(name, &value()?)?,
            "--touch" => touch = parse_num(name, &value()?)?,
            "--modules" => modules = Some(parse_num::<usize>(name, &value()?)?),
            "--duration-ms" => {
                let v = value()?;
                range = match v.split_once("..") {
                    Some((a, b)) => (parse_num(name, a)?, parse_num(name, b)?),
                    None => {
                        let ms = parse_num(name, &v)?;
                        (ms, ms)
                    }
                };
                if range.0 > range.1 {
                    return Err(format!("--duration-ms: empty range `{v}`"));
                }
            }
            other => return Err(format!("unknown option `{other}`\n\n{USAGE}")),
        }
    }
    let resources = resources.ok_or("--resources is required")?;
    if resources == 0 {
        return Err("--resources must be at least 1".into());
    }
    if layers == 0 {
        return Err("--layers must be at least 1".into());
    }
    if !(0.0..=1.0).contains(&touch) {
        return Err("--touch must be between 0 and 1".into());
    }
    if let Some(m) = modules {
        if m == 0 {
            return Err("--modules must be at least 1".into());
        }
        if sleep || expressive {
            return Err(
                "--modules generates core:data resources: drop --sleep/--expressive".into(),
            );
        }
        if resources % m != 0 {
            return Err(format!(
                "--resources {resources} is not a multiple of --modules {m}: every instance \
                 holds the same number of resources (try --resources {})",
                (resources / m).max(1) * m
            ));
        }
    }
    let kind = match (sleep, expressive) {
        (true, true) => return Err("--sleep and --expressive cannot be combined".into()),
        (true, false) => Kind::Sleep {
            min_ms: range.0,
            max_ms: range.1,
        },
        (false, true) => Kind::Expressive,
        (false, false) => Kind::Data,
    };
    let spec = Spec {
        resources,
        layers,
        seed,
        kind,
        touch,
    };
    let out = out.ok_or("--out is required")?;
    Ok((Gen { spec, modules }, out))
}

/// A parsed `gen-scale`: the DAG to generate and, with `--modules`, how many instances of
/// the module hold it (`spec.resources` is then the total).
#[derive(Debug)]
struct Gen {
    spec: Spec,
    modules: Option<usize>,
}

/// A parsed `gen-identities` (`estate: None`) or `gen-estate`.
#[derive(Debug)]
struct Cloud {
    count: usize,
    estate: Option<estate::EstateSpec>,
    out: PathBuf,
}

fn parse_cloud(args: &[String], is_estate: bool) -> Result<Cloud, String> {
    let task = if is_estate {
        "gen-estate"
    } else {
        "gen-identities"
    };
    let mut count = None;
    let mut objects = 2000usize;
    let mut clusters = 4usize;
    let mut seed = 1u64;
    let mut out = None;
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        if flag == "-h" || flag == "--help" {
            return Err(USAGE.to_string());
        }
        let (name, inline) = match flag.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (flag.as_str(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| it.next().cloned())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match (name, is_estate) {
            ("--out", _) => out = Some(PathBuf::from(value()?)),
            ("--count", false) => count = Some(parse_num::<usize>(name, &value()?)?),
            ("--objects", true) => objects = parse_num(name, &value()?)?,
            ("--clusters", true) => clusters = parse_num(name, &value()?)?,
            ("--seed", true) => seed = parse_num(name, &value()?)?,
            (other, _) => return Err(format!("{task}: unknown option `{other}`\n\n{USAGE}")),
        }
    }
    let out = out.ok_or_else(|| format!("{task}: --out is required"))?;
    if !is_estate {
        let count = count.ok_or("gen-identities: --count is required")?;
        if count == 0 {
            return Err("gen-identities: --count must be at least 1".into());
        }
        return Ok(Cloud {
            count,
            estate: None,
            out,
        });
    }
    if clusters == 0 {
        return Err("gen-estate: --clusters must be at least 1".into());
    }
    let least = clusters * estate::PER_CLUSTER + estate::PER_APP;
    if objects < least {
        return Err(format!(
            "gen-estate: --objects {objects} is too few for {clusters} clusters: each takes \
             {} objects and an application {} (try --objects {least} or fewer --clusters)",
            estate::PER_CLUSTER,
            estate::PER_APP
        ));
    }
    Ok(Cloud {
        count: 0,
        estate: Some(estate::EstateSpec {
            objects,
            clusters,
            seed,
        }),
        out,
    })
}

fn run_cloud(job: &Cloud) -> Result<(), String> {
    let root = job.out.join("main.toml");
    let summary = match &job.estate {
        None => {
            let text = estate::identities(job.count);
            write_file(&root, &text)?;
            serde_json::json!({
                "file": root.display().to_string(),
                "bytes": text.len(),
                "identities": job.count,
                "objects": job.count + 1,
            })
        }
        Some(spec) => {
            let e = estate::generate(spec);
            let text = e.render_root(spec.seed);
            let module = job.out.join(estate::MODULE_DIR).join("main.toml");
            let module_text = estate::render_module();
            write_file(&root, &text)?;
            write_file(&module, &module_text)?;
            let per_cluster: Vec<usize> = (0..e.clusters).map(|c| e.on(c).count()).collect();
            serde_json::json!({
                "file": root.display().to_string(),
                "module_file": module.display().to_string(),
                "bytes": text.len() + module_text.len(),
                "clusters": e.clusters,
                "applications": e.apps.len(),
                "applications_per_cluster": per_cluster,
                "objects": e.objects(),
                "azure_objects": e.clusters * estate::PER_CLUSTER + e.apps.len() * 5,
                "kubernetes_objects": e.apps.len() * 4,
                "seed": spec.seed,
            })
        }
    };
    println!("{summary}");
    Ok(())
}

/// Writes `text` to `path`, creating its directory.
fn write_file(path: &std::path::Path, text: &str) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    }
    std::fs::write(path, text).map_err(|e| format!("writing {}: {e}", path.display()))
}

fn run_gen(job: &Gen, out: &std::path::Path) -> Result<(), String> {
    match job.modules {
        Some(m) => run_gen_modules(&job.spec, m, out),
        None => run_gen_flat(&job.spec, out),
    }
}

fn run_gen_modules(spec: &Spec, instances: usize, out: &std::path::Path) -> Result<(), String> {
    let per = spec.resources / instances;
    let graph = scale::generate(&Spec {
        resources: per,
        ..spec.clone()
    });
    let root = out.join("main.toml");
    let module = out.join(modules::MODULE_DIR).join("main.toml");
    let root_text = modules::render_root(&graph, instances);
    let module_text = modules::render_module(&graph);
    write_file(&root, &root_text)?;
    write_file(&module, &module_text)?;
    let summary = serde_json::json!({
        "file": root.display().to_string(),
        "module_file": module.display().to_string(),
        "bytes": root_text.len() + module_text.len(),
        "instances": instances,
        "resources_per_instance": graph.nodes.len(),
        "resources": instances * graph.nodes.len() + modules::ROOT_RESOURCES,
        "layers": graph.layers,
        "references_per_instance": graph.edges(),
        "max_layer_width": graph.max_layer_width(),
        "touched_per_instance": graph.nodes.iter().filter(|n| n.touched).count(),
        "seed": spec.seed,
    });
    println!("{summary}");
    Ok(())
}

/// The most a generated file holds (plinth's limit is 16 MiB per file).
const PART_BYTES: usize = 4 << 20;

/// `text` cut before `[resource.` lines into pieces of at most about `max` bytes (a piece
/// holds at least one resource; the first keeps everything before the first resource).
fn split_at_resources(text: &str, max: usize) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut last_cut = 0;
    let mut at = 0;
    while let Some(i) = text[at..].find("\n[resource.") {
        let cut = at + i + 1;
        if cut - start > max && last_cut > start {
            parts.push(&text[start..last_cut]);
            start = last_cut;
        }
        last_cut = cut;
        at = cut;
    }
    if text.len() - start > max && last_cut > start {
        parts.push(&text[start..last_cut]);
        start = last_cut;
    }
    parts.push(&text[start..]);
    parts
}

fn run_gen_flat(spec: &Spec, out: &std::path::Path) -> Result<(), String> {
    let graph = scale::generate(spec);
    let file = out.join("main.toml");
    let text = graph.render(spec.kind);
    // plinth reads files of up to 16 MiB: a large graph goes into several files.
    let parts = split_at_resources(&text, PART_BYTES);
    for (i, part) in parts.iter().enumerate() {
        let name = match i {
            0 => "main.toml".to_string(),
            _ => format!("resources-{i:03}.toml"),
        };
        write_file(&out.join(name), part)?;
    }
    let mut summary = serde_json::json!({
        "file": file.display().to_string(),
        "files": parts.len(),
        "bytes": text.len(),
        "resources": graph.nodes.len(),
        "layers": graph.layers,
        "references": graph.edges(),
        "max_layer_width": graph.max_layer_width(),
        "seed": spec.seed,
    });
    match spec.kind {
        Kind::Data | Kind::Expressive => {
            summary["touched"] = graph.nodes.iter().filter(|n| n.touched).count().into();
        }
        Kind::Sleep { .. } => {
            summary["critical_path_ms"] = graph.critical_path_ms().into();
            summary["total_sleep_ms"] = graph
                .nodes
                .iter()
                .map(|n| n.duration_ms)
                .sum::<u64>()
                .into();
        }
    }
    println!("{summary}");
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn large_graphs_are_split_at_resource_boundaries() {
        let text = "# head\n\n[resource.a]\nx = 1\n\n[resource.b]\nx = 2\n\n[resource.c]\nx = 3\n";
        let parts = super::split_at_resources(text, 20);
        assert_eq!(parts.concat(), text);
        assert!(parts.len() > 1, "{parts:?}");
        for p in &parts[1..] {
            assert!(p.starts_with("[resource."), "{p:?}");
        }
        assert_eq!(super::split_at_resources(text, 1 << 20), vec![text]);
    }

    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn parses_sleep_flags() {
        let (Gen { spec, modules }, out) = parse_gen(&args(
            "--sleep --resources 60 --layers=6 --duration-ms 200..1000 --out /tmp/x",
        ))
        .unwrap();
        assert_eq!(modules, None);
        assert_eq!(out, PathBuf::from("/tmp/x"));
        assert_eq!(spec.resources, 60);
        assert_eq!(spec.layers, 6);
        assert_eq!(
            spec.kind,
            Kind::Sleep {
                min_ms: 200,
                max_ms: 1000
            }
        );
    }

    #[test]
    fn rejects_bad_flags() {
        assert!(parse_gen(&args("--out /tmp/x")).is_err());
        assert!(parse_gen(&args("--resources ten --out /tmp/x")).is_err());
        assert!(parse_gen(&args("--resources 10 --out /tmp/x --bogus")).is_err());
        assert!(parse_gen(&args("--resources 10 --out /tmp/x --duration-ms 9..1")).is_err());
    }

    #[test]
    fn parses_and_checks_modules() {
        let (g, _) = parse_gen(&args("--resources 10000 --modules 100 --out /tmp/x")).unwrap();
        assert_eq!((g.modules, g.spec.resources), (Some(100), 10000));
        assert_eq!(g.spec.kind, Kind::Data);
        let err = |s: &str| parse_gen(&args(s)).unwrap_err();
        assert!(err("--resources 1001 --modules 10 --out /tmp/x").contains("--resources 1000"));
        assert!(err("--resources 10 --modules 0 --out /tmp/x").contains("at least 1"));
        assert!(err("--resources 10 --modules 2 --sleep --out /tmp/x").contains("--sleep"));
        assert!(err("--resources 10 --modules 2 --expressive --out /tmp/x").contains("--sleep"));
    }

    #[test]
    fn writes_the_root_and_the_module() {
        let dir = std::env::temp_dir().join(format!("xtask-gen-modules-{}", std::process::id()));
        let (g, _) =
            parse_gen(&args("--resources 60 --modules 3 --layers 4 --out /tmp/x")).unwrap();
        run_gen(&g, &dir).unwrap();
        let root = std::fs::read_to_string(dir.join("main.toml")).unwrap();
        let module = std::fs::read_to_string(dir.join("modules/layered/main.toml")).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(root.contains("for_each = [\"i0\", \"i1\", \"i2\"]"));
        assert_eq!(module.matches("[resource.").count(), 20);
        assert!(root.contains("62 objects in all"));
    }
}
