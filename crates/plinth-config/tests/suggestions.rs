//! The configuration's "did you mean" suggestions are plinth's one algorithm
//! (`plinth_expr::did_you_mean`), not a second one of its own.

#[test]
fn the_configuration_suggests_with_the_expression_algorithm() {
    // Only the shared algorithm matches a qualified name by its last part (the configuration
    // used to score with Jaro-Winkler and suggested nothing here).
    assert_eq!(
        plinth_config::did_you_mean("shout", ["fake.shout", "lower"]).as_deref(),
        Some("fake.shout")
    );
    assert_eq!(
        plinth_config::did_you_mean("reosurce", ["resource", "output"]).as_deref(),
        Some("resource")
    );
    assert_eq!(
        plinth_config::did_you_mean("zzzzzz", ["resource", "output"]),
        None
    );
}
