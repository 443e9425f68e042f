//! The Markdown rendering: what a pull request shows (GitHub-flavoured).
//!
//! Layout, top to bottom:
//! 1. a title line;
//! 2. a `> [!CAUTION]` block listing every object the plan deletes or replaces, and why, and
//!    every object it forgets (it leaves state and stays in the cloud);
//! 3. the plan's warnings (e.g. `--target`);
//! 4. a summary table of actions per provider (the type prefix before `:`) with totals, and
//!    the summary sentence;
//! 5. a note saying what was cut, when the rendering had to be shortened; the results of the
//!    configuration's checks (a `> [!WARNING]` block listing those that failed or are known
//!    only after apply, passing ones counted; one line when all passed);
//! 6. changes made outside plinth (drift), apart from the intended changes;
//! 7. each changed resource in a collapsible `<details>` section, grouped by action (objects
//!    imported as they are in an `Import` group, with what was read; those that only move in
//!    a `Move` group, one line each), with
//!    attribute-level diffs (long strings and embedded YAML/JSON as unified diffs); in a plan
//!    with modules, grouped first by module instance — the root module, then each instance
//!    (`module.app["orders"]`, nested ones after their parent) under a heading with its counts
//!    (a collapsed `<details>` when it has more than ten entries), its addresses shown
//!    relative to it;
//! 8. output changes;
//! 9. a Mermaid graph of the changed resources and their dependencies (when there are any),
//!    module instances drawn as (nested) subgraphs.
//!
//! Sensitive values are shown as `(sensitive)` unless [`MarkdownOptions::show_sensitive`]:
//! they are hidden before any text is built, so they never reach a diff. Unknown values are
//! shown as `(known after apply)`.
//!
//! The result never exceeds [`MarkdownOptions::max_chars`] characters. When the full
//! rendering would, it is shortened progressively — attribute details of the largest
//! resources first, then the graph, then the lists themselves (module instances none of whose
//! entries fit are still listed, by their counts) — and a note says what was cut.
//!
//! The parts, each in its own module, lowest first (every dependency points to an earlier
//! one): `options`, `syntax`, `words` (leaves); `rich`, `values`; `entries` (diff rows and
//! blocks); `item` (an entry with or without details); `changes` (the item of each change);
//! `mermaid`; `overview` (caution block, notices, summary table), `checks`, `sections` (drift,
//! settled records, outputs); `doc` (the whole document, built once); `layout` (the document
//! with cuts applied); `budget` (choosing the cuts that fit).

mod budget;
mod changes;
mod checks;
mod doc;
mod entries;
mod findings;
mod item;
mod layout;
mod mermaid;
mod options;
mod overview;
mod rich;
mod sections;
mod syntax;
mod values;
mod words;

use plinth_plan::Plan;

pub use options::{GITHUB_COMMENT_LIMIT, MarkdownOptions};

/// Renders a plan as GitHub-flavoured Markdown of at most `opts.max_chars` characters.
pub fn render(plan: &Plan, opts: &MarkdownOptions) -> String {
    let doc = doc::Doc::build(plan, opts);
    budget::fit(&doc, opts.max_chars)
}
