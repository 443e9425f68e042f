//! Markdown rendering of plans for pull-request review (being written).
