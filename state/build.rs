//! Enables the slow lease-timing tests (they wait for real lease periods to pass, ~30 s in
//! all) when `PLINTH_SLOW_TESTS=1`, as CI sets it (`.ci/run`). Without it they are reported
//! as ignored, and `cargo test -p plinth-state -- --include-ignored` still runs them.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(plinth_slow_tests)");
    println!("cargo::rerun-if-env-changed=PLINTH_SLOW_TESTS");
    if std::env::var_os("PLINTH_SLOW_TESTS").is_some_and(|v| v == "1") {
        println!("cargo::rustc-cfg=plinth_slow_tests");
    }
}
