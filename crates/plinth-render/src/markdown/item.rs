//! A list entry — one resource, or one change made outside plinth — that can be shown with
//! its details (a collapsible `<details>` block) or cut down to its one line; the titled
//! sections that hold them; the groups of sections of one module instance, under a heading
//! with its counts; the verb shown before an address ("create", "destroy", "import",
//! "forget").

use std::fmt::Write;

use plinth_plan::{Action, DeclKind, ResourceChange};

use super::rich::Rich;
use super::syntax::{code, html, md_text};

/// One entry of a list that can be shown with its details or as a single line.
pub(super) struct Item {
    /// With details (a `<details>` block), or the line itself when there are none.
    pub(super) full: String,
    /// One Markdown list line.
    pub(super) short: String,
}

impl Item {
    pub(super) fn new(
        verb: &str,
        address: &str,
        type_name: &str,
        notes: &Rich,
        body: String,
    ) -> Item {
        let mut short = format!(
            "- **{}** {} ({})",
            md_text(verb),
            code(address),
            md_text(type_name)
        );
        if !notes.is_empty() {
            let _ = write!(short, " — {}", notes.md());
        }
        let full = if body.trim().is_empty() {
            short.clone()
        } else {
            let mut summary = format!(
                "<b>{}</b> <code>{}</code> ({})",
                html(verb),
                html(address),
                html(type_name)
            );
            if !notes.is_empty() {
                let _ = write!(summary, " — {}", notes.html());
            }
            format!(
                "<details><summary>{summary}</summary>\n\n{}\n\n</details>",
                body.trim()
            )
        };
        Item { full, short }
    }

    pub(super) fn has_details(&self) -> bool {
        self.full != self.short
    }

    pub(super) fn savings(&self) -> usize {
        self.full
            .chars()
            .count()
            .saturating_sub(self.short.chars().count())
    }
}

/// A titled list of items.
pub(super) struct Section {
    /// The heading and any introduction.
    pub(super) head: String,
    pub(super) items: Vec<Item>,
}

/// The sections of one module instance, under its heading. In a plan without modules there
/// is one group, the root module's, without a heading.
pub(super) struct Group {
    pub(super) head: Option<GroupHead>,
    pub(super) sections: Vec<Section>,
}

/// The heading of a module instance's group: `module.app["orders"]: 3 to add, 1 to change`.
pub(super) struct GroupHead {
    /// The module instance's path (`module.app["orders"]`); `None` for the root module.
    pub(super) module: Option<String>,
    /// What it does: `3 to add, 1 to change`.
    pub(super) counts: String,
    /// Shown as a collapsible `<details>` block (it has many changes).
    pub(super) collapsed: bool,
}

impl GroupHead {
    /// A Markdown heading.
    pub(super) fn heading(&self) -> String {
        match &self.module {
            Some(m) => format!("#### {}: {}", code(m), md_text(&self.counts)),
            None => format!("#### Root module: {}", md_text(&self.counts)),
        }
    }

    /// The summary line of a `<details>` block (HTML: Markdown is not parsed there).
    pub(super) fn summary(&self) -> String {
        match &self.module {
            Some(m) => format!("<code>{}</code>: {}", html(m), html(&self.counts)),
            None => format!("Root module: {}", html(&self.counts)),
        }
    }

    /// One list line, when the group's entries are cut.
    pub(super) fn line(&self) -> String {
        match &self.module {
            Some(m) => format!("- {}: {} (not listed)", code(m), md_text(&self.counts)),
            None => format!("- Root module: {} (not listed)", md_text(&self.counts)),
        }
    }
}

/// The verb shown before an address: an import says so first ("import", "import and
/// update"); a data source removed from state and an object left in place are forgotten.
pub(super) fn verb(c: &ResourceChange) -> &'static str {
    match (c.action, c.kind, c.importing.is_some()) {
        (Action::Update, _, true) => "import and update",
        (Action::Replace, _, true) => "import and replace",
        (_, _, true) => "import",
        (Action::Delete, DeclKind::Data, _) => "forget",
        (Action::Delete, _, _) => "destroy",
        (a, _, _) => a.as_str(),
    }
}
