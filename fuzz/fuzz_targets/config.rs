//! Any text as a configuration file: loading, validation, the graph and a plan against an
//! empty state (which evaluates every expression) report errors and never panic.
#![no_main]

use std::collections::BTreeMap;
use std::sync::Arc;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut sources = plinth_config::Sources::new();
    sources.add("main.toml".into(), "main.toml".into(), text.to_string());
    let mut config = match plinth_config::load_sources(sources) {
        Ok(c) => c,
        Err((s, d)) => {
            let _ = d.render(&s, false);
            return;
        }
    };
    let vars = match plinth_config::resolve_variables(&mut config, &Default::default()) {
        Ok(v) => v,
        Err(d) => {
            let _ = d.render(&config.sources, false);
            return;
        }
    };
    let mut registry = plinth_provider::Registry::new();
    registry.register(Arc::new(plinth_provider_core::CoreProvider::new()));
    let env = BTreeMap::new();
    let input = plinth_engine::PlanInput {
        workspace: plinth_engine::Workspace {
            config: &config,
            vars: &vars,
            env: &env,
            registry: &registry,
            dir: std::path::Path::new("/fuzz"),
        },
        state: None,
    };
    let opts = plinth_engine::PlanOptions {
        parallelism: 1,
        ..Default::default()
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    if let Err(d) = rt.block_on(plinth_engine::plan(&input, &opts, &plinth_engine::NoEvents)) {
        let _ = d.render(&config.sources, false);
    }
});
