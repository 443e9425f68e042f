//! The scale-benchmark generator: a deterministic, layered DAG of `core:data` (or
//! `core:sleep`) resources, rendered as a plinth configuration.
//!
//! Layer 0 holds roots; every resource of layer `k > 0` references one resource of layer
//! `k - 1` (so the graph is exactly `layers` deep) and up to two more from any earlier
//! layer. References only ever point to earlier layers, so the graph is acyclic by
//! construction.

use std::fmt::Write as _;

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    /// Number of resources.
    pub resources: usize,
    /// Number of layers (clamped to `1..=resources`).
    pub layers: usize,
    /// Seed of the pseudo-random choices; the same spec always gives the same output.
    pub seed: u64,
    /// Resource kind.
    pub kind: Kind,
    /// Fraction (0..=1) of `core:data` resources whose input value is changed
    /// (`-v1` instead of `-v0`), to benchmark an incremental plan against an applied state.
    pub touch: f64,
}

/// Which built-in type the generated resources use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `core:data`, dependencies expressed as `${...}` references inside `input`.
    Data,
    /// `core:sleep` with a `create_duration` drawn from `min_ms..=max_ms`, dependencies
    /// expressed with `depends_on`.
    Sleep { min_ms: u64, max_ms: u64 },
    /// `core:data` like [`Kind::Data`], written the way a team writes a real estate: every
    /// resource uses locals, a for-expression over its references, conditionals and
    /// functions (the expression-language benchmark of BENCHMARKS.md).
    Expressive,
}

/// How a resource refers to one of its dependencies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefForm {
    /// `"${dep.id}"`
    Id,
    /// `"${dep.output.value}"` (a whole-string reference: keeps the value's type)
    Output,
    /// `"${dep.output.value}/<name>"` (string interpolation)
    Interpolated,
}

/// One generated resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub name: String,
    pub layer: usize,
    /// Indices into [`Graph::nodes`] of the resources this one depends on, each with the
    /// form of its reference.
    pub deps: Vec<(usize, RefForm)>,
    /// `create_duration` of a sleep resource, in milliseconds (0 for data).
    pub duration_ms: u64,
    /// Whether the input value was changed by `touch`.
    pub touched: bool,
}

/// A generated graph: nodes in topological order (every dependency precedes its dependent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Graph {
    pub nodes: Vec<Node>,
    pub layers: usize,
}

/// SplitMix64: small, fast and good enough for reproducible benchmark shapes.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        // Multiply-shift: unbiased enough for a benchmark generator.
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Half-open index ranges of each layer: sizes differ by at most one.
fn layer_bounds(resources: usize, layers: usize) -> Vec<(usize, usize)> {
    let (base, extra) = (resources / layers, resources % layers);
    let mut start = 0;
    (0..layers)
        .map(|k| {
            let len = base + usize::from(k < extra);
            let r = (start, start + len);
            start += len;
            r
        })
        .collect()
}

/// Builds the graph described by `spec`.
pub fn generate(spec: &Spec) -> Graph {
    let n = spec.resources;
    let layers = spec.layers.clamp(1, n.max(1));
    let bounds = layer_bounds(n, layers);
    let width = n.saturating_sub(1).to_string().len().max(1);
    let mut rng = Rng::new(spec.seed);
    // A separate stream, so that `touch` never changes the shape of the graph.
    let mut touch_rng = Rng::new(spec.seed.rotate_left(32) ^ 0x7043_4F55_4348);
    let mut nodes = Vec::with_capacity(n);
    for (layer, &(start, end)) in bounds.iter().enumerate() {
        for i in start..end {
            let mut deps: Vec<(usize, RefForm)> = Vec::new();
            if layer > 0 {
                let (prev_start, prev_end) = bounds[layer - 1];
                let wanted = 1 + rng.below(3) as usize;
                let first = prev_start + rng.below((prev_end - prev_start) as u64) as usize;
                let mut picks = vec![first];
                for _ in 1..wanted {
                    // Anywhere in the earlier layers: long edges as well as short ones.
                    let d = rng.below(prev_end as u64) as usize;
                    if !picks.contains(&d) {
                        picks.push(d);
                    }
                }
                for d in picks {
                    let form = match rng.below(3) {
                        0 => RefForm::Id,
                        1 => RefForm::Output,
                        _ => RefForm::Interpolated,
                    };
                    deps.push((d, form));
                }
            }
            let duration_ms = match spec.kind {
                Kind::Data | Kind::Expressive => 0,
                Kind::Sleep { min_ms, max_ms } => rng.range(min_ms, max_ms.max(min_ms)),
            };
            let touched = touch_rng.unit() < spec.touch;
            nodes.push(Node {
                name: format!("l{layer:02}_r{i:0width$}"),
                layer,
                deps,
                duration_ms,
                touched,
            });
        }
    }
    Graph { nodes, layers }
}

impl Graph {
    /// Number of dependency edges.
    pub fn edges(&self) -> usize {
        self.nodes.iter().map(|n| n.deps.len()).sum()
    }

    /// The longest chain of `duration_ms` along dependency edges: the lower bound of an
    /// apply's wall time when parallelism is not the limit.
    pub fn critical_path_ms(&self) -> u64 {
        // Nodes are in topological order, so one forward pass suffices.
        let mut finish = vec![0u64; self.nodes.len()];
        for (i, node) in self.nodes.iter().enumerate() {
            let ready = node.deps.iter().map(|&(d, _)| finish[d]).max().unwrap_or(0);
            finish[i] = ready + node.duration_ms;
        }
        finish.into_iter().max().unwrap_or(0)
    }

    /// The widest layer: how much parallelism the graph can use at most per layer.
    pub fn max_layer_width(&self) -> usize {
        let mut widths = vec![0usize; self.layers];
        for n in &self.nodes {
            widths[n.layer] += 1;
        }
        widths.into_iter().max().unwrap_or(0)
    }

    /// Renders the graph as a plinth configuration (one TOML document).
    pub fn render(&self, kind: Kind) -> String {
        let mut out = String::with_capacity(self.nodes.len() * 200);
        let _ = writeln!(
            out,
            "# Generated by `cargo xtask gen-scale`: {} resources in {} layers, {} references.\n",
            self.nodes.len(),
            self.layers,
            self.edges()
        );
        if kind == Kind::Expressive {
            out.push_str(EXPRESSIVE_HEADER);
        }
        for (i, node) in self.nodes.iter().enumerate() {
            let _ = writeln!(out, "[resource.{}]", node.name);
            match kind {
                Kind::Expressive => self.render_expressive(&mut out, i, node),
                Kind::Data => {
                    let _ = writeln!(out, "type = \"core:data\"");
                    self.render_data_input(&mut out, i, node, "", "");
                    out.push('\n');
                }
                Kind::Sleep { .. } => {
                    let _ = writeln!(out, "type = \"core:sleep\"");
                    let _ = writeln!(out, "create_duration = \"{}ms\"", node.duration_ms);
                    if !node.deps.is_empty() {
                        let names: Vec<String> = node
                            .deps
                            .iter()
                            .map(|&(d, _)| format!("\"{}\"", self.nodes[d].name))
                            .collect();
                        let _ = writeln!(out, "depends_on = [{}]", names.join(", "));
                    }
                    out.push('\n');
                }
            }
        }
        out
    }
}

impl Graph {
    /// The `input = { ... }` line of a [`Kind::Data`] resource: its sequence number, layer,
    /// value (`<value_prefix><name>-v0`, `-v1` when touched) and one `refJ` per dependency;
    /// `extra` (`, key = ...` pairs) is written after the value.
    pub fn render_data_input(
        &self,
        out: &mut String,
        i: usize,
        node: &Node,
        value_prefix: &str,
        extra: &str,
    ) {
        let rev = u8::from(node.touched);
        let _ = write!(
            out,
            "input = {{ seq = {i}, layer = {}, value = \"{value_prefix}{}-v{rev}\"{extra}",
            node.layer, node.name
        );
        for (j, &(d, form)) in node.deps.iter().enumerate() {
            let dep = &self.nodes[d].name;
            let _ = match form {
                RefForm::Id => write!(out, ", ref{j} = \"${{{dep}.id}}\""),
                RefForm::Output => write!(out, ", ref{j} = \"${{{dep}.output.value}}\""),
                RefForm::Interpolated => {
                    write!(out, ", ref{j} = \"${{{dep}.output.value}}/{}\"", node.name)
                }
            };
        }
        out.push_str(" }\n");
    }
}

/// The variable and locals every resource of [`Kind::Expressive`] uses.
const EXPRESSIVE_HEADER: &str = r#"[variable.env]
default = "prod"

[locals]
base = 0
ha = "${var.env == 'prod'}"

"#;

impl Graph {
    /// One [`Kind::Expressive`] resource: exactly the inputs of [`Kind::Data`] (sequence,
    /// layer, value, `refJ` per dependency), so plans, renderings and state are the same
    /// size and the difference measures the language: the input is one expression with
    /// locals, arithmetic, a conditional, a for-expression over the dependencies and a
    /// function.
    fn render_expressive(&self, out: &mut String, i: usize, node: &Node) {
        let name = &node.name;
        let value = format!("{name}-v{}", u8::from(node.touched));
        let refs: Vec<String> = node
            .deps
            .iter()
            .map(|&(d, form)| {
                let dep = &self.nodes[d].name;
                match form {
                    RefForm::Id => format!("{dep}.id"),
                    RefForm::Output => format!("{dep}.output.value"),
                    RefForm::Interpolated => format!("'${{{dep}.output.value}}/{name}'"),
                }
            })
            .collect();
        let _ = writeln!(out, "type = \"core:data\"");
        let _ = writeln!(
            out,
            "input = \"${{merge({{ seq = local.base + {i}, layer = {layer}, \
             value = local.ha ? '{value}' : '{name}-dev' }}, \
             {{ for j, r in [{refs}] : 'ref${{j}}' => r }})}}\"\n",
            layer = node.layer,
            refs = refs.join(", "),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(resources: usize, layers: usize, seed: u64) -> Spec {
        Spec {
            resources,
            layers,
            seed,
            kind: Kind::Data,
            touch: 0.0,
        }
    }

    #[test]
    fn output_is_deterministic_and_seed_dependent() {
        let a = generate(&spec(500, 7, 42));
        let b = generate(&spec(500, 7, 42));
        assert_eq!(a, b);
        assert_eq!(a.render(Kind::Data), b.render(Kind::Data));
        let c = generate(&spec(500, 7, 43));
        assert_ne!(a.render(Kind::Data), c.render(Kind::Data));
    }

    #[test]
    fn references_only_point_to_earlier_layers() {
        let g = generate(&spec(1000, 10, 7));
        assert_eq!(g.nodes.len(), 1000);
        for (i, node) in g.nodes.iter().enumerate() {
            if node.layer == 0 {
                assert!(node.deps.is_empty(), "{} is a root", node.name);
                continue;
            }
            assert!((1..=3).contains(&node.deps.len()), "{}", node.name);
            // One reference into the previous layer keeps the graph `layers` deep.
            assert!(
                node.deps
                    .iter()
                    .any(|&(d, _)| g.nodes[d].layer == node.layer - 1)
            );
            for &(d, _) in &node.deps {
                // Earlier layer, and earlier in the node order: acyclic by construction.
                assert!(g.nodes[d].layer < node.layer, "{} -> {}", node.name, d);
                assert!(d < i);
            }
            let mut uniq: Vec<_> = node.deps.iter().map(|&(d, _)| d).collect();
            uniq.sort_unstable();
            uniq.dedup();
            assert_eq!(uniq.len(), node.deps.len(), "duplicate dependency");
        }
    }

    #[test]
    fn rendered_references_name_existing_resources() {
        let g = generate(&spec(200, 5, 1));
        let text = g.render(Kind::Data);
        let names: std::collections::HashSet<_> = g.nodes.iter().map(|n| n.name.as_str()).collect();
        for piece in text.split("${").skip(1) {
            let name = piece.split('.').next().unwrap();
            assert!(names.contains(name), "dangling reference to {name}");
        }
        assert_eq!(text.matches("[resource.").count(), 200);
        assert_eq!(text.matches("${").count(), g.edges());
    }

    #[test]
    fn layers_are_balanced_and_clamped() {
        assert_eq!(layer_bounds(10, 3), vec![(0, 4), (4, 7), (7, 10)]);
        let g = generate(&spec(3, 10, 1));
        assert_eq!(g.layers, 3);
        assert_eq!(g.max_layer_width(), 1);
    }

    #[test]
    fn critical_path_is_the_longest_duration_chain() {
        let mk = |name: &str, layer, deps: Vec<usize>, ms| Node {
            name: name.into(),
            layer,
            deps: deps.into_iter().map(|d| (d, RefForm::Id)).collect(),
            duration_ms: ms,
            touched: false,
        };
        // a(100) -> c(50); b(300) -> c; a -> d(400): longest is a+d = 500 vs b+c = 350.
        let g = Graph {
            nodes: vec![
                mk("a", 0, vec![], 100),
                mk("b", 0, vec![], 300),
                mk("c", 1, vec![0, 1], 50),
                mk("d", 1, vec![0], 400),
            ],
            layers: 2,
        };
        assert_eq!(g.critical_path_ms(), 500);

        let s = Spec {
            kind: Kind::Sleep {
                min_ms: 200,
                max_ms: 1000,
            },
            ..spec(60, 6, 3)
        };
        let g = generate(&s);
        assert!(
            g.nodes
                .iter()
                .all(|n| (200..=1000).contains(&n.duration_ms))
        );
        let cp = g.critical_path_ms();
        // At least one resource per layer on the path, at most the maximum each.
        assert!((6 * 200..=6 * 1000).contains(&cp), "{cp}");
        let text = g.render(s.kind);
        assert_eq!(text.matches("core:sleep").count(), 60);
        assert!(!text.contains("${"));
    }

    #[test]
    fn expressive_resources_use_locals_for_expressions_and_conditionals() {
        let g = generate(&spec(50, 5, 2));
        let text = g.render(Kind::Expressive);
        assert_eq!(text.matches("[resource.").count(), 50);
        assert_eq!(text.matches("[locals]").count(), 1);
        for block in text.split("[resource.").skip(1) {
            for needle in ["local.base +", "local.ha ?", "for j, r in", "merge("] {
                assert!(block.contains(needle), "{needle} missing in {block}");
            }
        }
        // The same references as the plain rendering.
        let plain = g.render(Kind::Data);
        let deps = |t: &str| t.matches(".id").count() + t.matches(".output.value").count();
        assert_eq!(deps(&text), deps(&plain));
    }

    #[test]
    fn touch_changes_only_values() {
        let base = generate(&spec(1000, 10, 9));
        let touched = generate(&Spec {
            touch: 0.05,
            ..spec(1000, 10, 9)
        });
        let n = touched.nodes.iter().filter(|n| n.touched).count();
        assert!((20..=80).contains(&n), "{n}");
        for (a, b) in base.nodes.iter().zip(&touched.nodes) {
            assert_eq!((&a.name, &a.deps), (&b.name, &b.deps));
        }
    }
}
