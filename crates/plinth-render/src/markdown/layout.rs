//! Putting the document together with cuts applied: which items keep their details, whether
//! the graph is drawn, how many entries each list shows, and the note saying what was cut.

use std::fmt::Write;

use super::doc::Doc;
use super::item::Section;
use super::mermaid::Graph;
use super::options::GITHUB_COMMENT_LIMIT;
use super::words::{capitalise, count_of, thousands};

/// What to cut.
pub(super) struct Cuts {
    /// Per item (drift items first, then change items in display order): show only its line.
    pub(super) dropped: Vec<bool>,
    /// Leave the graph out.
    pub(super) cut_graph: bool,
    /// Show at most this many entries of each list.
    pub(super) limit: usize,
}

impl Doc {
    /// Puts the document together with `cuts` applied.
    pub(super) fn assemble(&self, cuts: &Cuts, max_chars: usize) -> String {
        let mut blocks: Vec<String> = vec![self.title.clone()];
        let mut cut_parts: Vec<String> = Vec::new();
        let limit = cuts.limit;
        if !self.context.is_empty() {
            blocks.push(self.context.clone());
        }
        // Findings: a denied one first of all; warnings after the summary.
        let findings = self.findings.as_ref().map(|f| {
            let mut b = f.intro.clone();
            for l in f.lines.iter().take(limit) {
                b.push('\n');
                b.push_str(l);
            }
            if f.lines.len() > limit {
                let more = f.lines.len() - limit;
                let _ = write!(b, "\n> - … and {} more not listed here", thousands(more));
                cut_parts.push(format!(
                    "{} of the {} findings",
                    thousands(more),
                    thousands(f.lines.len())
                ));
            }
            (b, f.denied)
        });
        let mut findings_after = None;
        match findings {
            Some((b, true)) => blocks.push(b),
            Some((b, false)) => findings_after = Some(b),
            None => {}
        }

        if let Some((intro, lines)) = &self.caution {
            let mut b = intro.clone();
            for l in lines.iter().take(limit) {
                b.push('\n');
                b.push_str(l);
            }
            if lines.len() > limit {
                let more = lines.len() - limit;
                let _ = write!(b, "\n> - … and {} more not listed here", thousands(more));
                cut_parts.push(format!(
                    "{} of the {} entries of the list of deleted and replaced resources",
                    thousands(more),
                    thousands(lines.len())
                ));
            }
            blocks.push(b);
        }
        if !self.notices.is_empty() {
            blocks.push(self.notices.clone());
        }
        blocks.push(self.overview.clone());
        let note_at = blocks.len();
        if let Some(b) = findings_after {
            blocks.push(b);
        }
        if let Some((intro, lines)) = &self.checks {
            let mut b = intro.clone();
            for l in lines.iter().take(limit) {
                b.push('\n');
                b.push_str(l);
            }
            if lines.len() > limit {
                let more = lines.len() - limit;
                let _ = write!(b, "\n> - … and {} more not listed here", thousands(more));
                cut_parts.push(format!(
                    "{} of the {} checks that did not pass",
                    thousands(more),
                    thousands(lines.len())
                ));
            }
            // A block with an introduction only (every check passed) has no list.
            blocks.push(b.trim_end_matches("\n>").to_string());
        }

        let mut index = 0usize;
        // Of the items shown: how many have details, and how many of those were dropped.
        let mut with_details = 0usize;
        let mut dropped_details = 0usize;
        let mut render_section = |s: &Section, shown: &mut usize, blocks: &mut Vec<String>| {
            let mut body = s.head.clone();
            let mut prev_line = false;
            for item in &s.items {
                let i = index;
                index += 1;
                if *shown >= limit {
                    continue;
                }
                *shown += 1;
                let drop = cuts.dropped.get(i).copied().unwrap_or(false);
                if item.has_details() {
                    with_details += 1;
                    if drop {
                        dropped_details += 1;
                    }
                }
                let (text, line) = if drop || !item.has_details() {
                    (&item.short, true)
                } else {
                    (&item.full, false)
                };
                body.push_str(if line && prev_line { "\n" } else { "\n\n" });
                body.push_str(text);
                prev_line = line;
            }
            blocks.push(body);
        };

        if let Some(d) = &self.drift {
            let mut shown = 0;
            render_section(d, &mut shown, &mut blocks);
            if d.items.len() > shown {
                let more = d.items.len() - shown;
                blocks.push(format!("- … and {} more not listed here", thousands(more)));
                cut_parts.push(format!(
                    "{} of the {} entries about changes made outside plinth",
                    thousands(more),
                    thousands(d.items.len())
                ));
            }
        }
        if let Some(d) = &self.unmanaged {
            let mut shown = 0;
            render_section(d, &mut shown, &mut blocks);
            if d.items.len() > shown {
                let more = d.items.len() - shown;
                blocks.push(format!("- … and {} more not listed here", thousands(more)));
                cut_parts.push(format!(
                    "{} of the {} entries about changes outside plinth not managed here",
                    thousands(more),
                    thousands(d.items.len())
                ));
            }
        }
        if !self.settled.is_empty() {
            blocks.push(self.settled.clone());
        }
        if !self.groups.is_empty() {
            blocks.push(self.changes_head.clone());
            let mut shown = 0;
            let total: usize = self.change_sections().map(|s| s.items.len()).sum();
            // Module instances none of whose entries fit: listed by their headings (as many
            // as the limit allows), so every instance's counts stay visible.
            let mut unlisted: Vec<String> = Vec::new();
            let mut unlisted_more = 0usize;
            for g in &self.groups {
                if shown >= limit {
                    match &g.head {
                        Some(h) if unlisted.len() < limit => unlisted.push(h.line()),
                        Some(_) => unlisted_more += 1,
                        None => {}
                    }
                    continue;
                }
                let mut inner = Vec::new();
                for s in &g.sections {
                    if shown >= limit {
                        break;
                    }
                    render_section(s, &mut shown, &mut inner);
                }
                match &g.head {
                    None => blocks.extend(inner),
                    Some(h) if h.collapsed => blocks.push(format!(
                        "<details><summary>{}</summary>\n\n{}\n\n</details>",
                        h.summary(),
                        inner.join("\n\n")
                    )),
                    Some(h) => {
                        blocks.push(h.heading());
                        blocks.extend(inner);
                    }
                }
            }
            if total > shown {
                let more = total - shown;
                let mut lines = unlisted;
                if unlisted_more > 0 {
                    lines.push(format!(
                        "- … and {} more module instances",
                        thousands(unlisted_more)
                    ));
                }
                lines.push(format!(
                    "- … and {} more resource changes not listed here",
                    thousands(more)
                ));
                blocks.push(lines.join("\n"));
                cut_parts.push(format!(
                    "{} of the {} resource changes",
                    thousands(more),
                    thousands(total)
                ));
            }
        }
        if let Some((head, rows)) = &self.outputs {
            let mut b = head.clone();
            for r in rows.iter().take(limit) {
                b.push('\n');
                b.push_str(r);
            }
            if rows.len() > limit {
                let more = rows.len() - limit;
                let _ = write!(
                    b,
                    "\n\n… and {} more outputs not listed here",
                    thousands(more)
                );
                cut_parts.push(format!(
                    "{} of the {} outputs",
                    thousands(more),
                    thousands(rows.len())
                ));
            }
            blocks.push(b);
        }
        match &self.graph {
            Some(Graph::Drawn(_)) if cuts.cut_graph => {
                cut_parts.insert(0, GRAPH_PART.to_string());
            }
            Some(Graph::Drawn(g) | Graph::NotDrawn(g)) => blocks.push(g.clone()),
            None => {}
        }
        if dropped_details > 0 {
            let what = if dropped_details == with_details && with_details > 1 {
                "the attribute details of every resource".to_string()
            } else {
                format!(
                    "the attribute details of {} (the largest first)",
                    count_of(dropped_details, "resource")
                )
            };
            cut_parts.insert(0, what);
        }
        if !cut_parts.is_empty() {
            blocks.insert(note_at, cut_note(&cut_parts, max_chars));
        }
        let mut out = blocks.join("\n\n");
        out.push('\n');
        out
    }
}

/// How the note names a cut graph.
const GRAPH_PART: &str = "the dependency graph";

/// The note saying what was cut.
fn cut_note(parts: &[String], max_chars: usize) -> String {
    let list = match parts {
        [] => String::new(),
        [one] => one.clone(),
        [a, b] => format!("{a} and {b}"),
        [init @ .., last] => format!("{}, and {last}", init.join(", ")),
    };
    let limit = if max_chars == GITHUB_COMMENT_LIMIT {
        format!("GitHub's {}-character comment limit", thousands(max_chars))
    } else {
        format!("the {}-character limit", thousands(max_chars))
    };
    // Only "the dependency graph" alone is singular.
    let verb = if parts.len() == 1 && parts[0] == GRAPH_PART {
        "was"
    } else {
        "were"
    };
    format!(
        "> [!NOTE]\n> {} {verb} cut to stay under {limit}; run `plinth show` on the saved plan file for the full plan.",
        capitalise(&list)
    )
}
