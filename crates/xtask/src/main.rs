//! Developer tasks for plinth, run as `cargo xtask <task>`.
//!
//! - `gen-scale`: writes a layered DAG of `core:data` or `core:sleep` resources for the scale
//!   benchmark (see `scripts/bench.sh` and BENCHMARKS.md).

mod scale;

use std::path::PathBuf;
use std::process::ExitCode;

use scale::{Kind, Spec};

const USAGE: &str = "\
Usage: cargo xtask gen-scale --resources N --out DIR [OPTIONS]

Writes DIR/main.toml: N resources in a layered DAG where every resource of layer k > 0
references 1-3 resources of earlier layers (one always from layer k-1). Prints a JSON
summary on stdout.

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
                       incremental plan [default: 0]
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("gen-scale") => parse_gen(&args[1..]).and_then(|(spec, out)| run_gen(&spec, &out)),
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

fn parse_gen(args: &[String]) -> Result<(Spec, PathBuf), String> {
    let mut resources = None;
    let mut out = None;
    let mut layers = 10usize;
    let mut seed = 1u64;
    let mut sleep = false;
    let mut expressive = false;
    let mut range = (200u64, 1000u64);
    let mut touch = 0.0f64;
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
    Ok((spec, out.ok_or("--out is required")?))
}

fn run_gen(spec: &Spec, out: &std::path::Path) -> Result<(), String> {
    let graph = scale::generate(spec);
    std::fs::create_dir_all(out).map_err(|e| format!("creating {}: {e}", out.display()))?;
    let file = out.join("main.toml");
    let text = graph.render(spec.kind);
    std::fs::write(&file, &text).map_err(|e| format!("writing {}: {e}", file.display()))?;
    let mut summary = serde_json::json!({
        "file": file.display().to_string(),
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
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn parses_sleep_flags() {
        let (spec, out) = parse_gen(&args(
            "--sleep --resources 60 --layers=6 --duration-ms 200..1000 --out /tmp/x",
        ))
        .unwrap();
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
}
