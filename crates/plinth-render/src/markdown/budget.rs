//! The size budget: the output never exceeds the character limit. When the full document
//! would, detail is dropped progressively — attribute details of the largest resources first,
//! then the graph, then the lists themselves — and as a last resort the text is cut.

use super::doc::Doc;
use super::item::Item;
use super::layout::Cuts;
use super::mermaid::Graph;

/// Shortens the document until it fits in `max_chars` characters.
pub(super) fn fit(doc: &Doc, max_chars: usize) -> String {
    let len = |s: &str| s.chars().count();
    let items: Vec<&Item> = doc.items().collect();
    // Items whose details can be dropped, the largest saving first.
    let mut order: Vec<usize> = (0..items.len())
        .filter(|&i| items[i].has_details())
        .collect();
    order.sort_by_key(|&i| std::cmp::Reverse(items[i].savings()));
    // The document with the details of the `k` largest items dropped.
    let render = |k: usize, cut_graph: bool, limit: usize| {
        let mut dropped = vec![false; items.len()];
        for &i in order.iter().take(k) {
            dropped[i] = true;
        }
        let cuts = Cuts {
            dropped,
            cut_graph,
            limit,
        };
        doc.assemble(&cuts, max_chars)
    };

    let full = render(0, false, usize::MAX);
    if len(&full) <= max_chars {
        return full;
    }
    // 1. Drop attribute details, the largest first; 2. if that is not enough, leave the
    // graph out too (and again drop only as many details as needed).
    let drawn = matches!(doc.graph, Some(Graph::Drawn(_)));
    let graph_options: &[bool] = if drawn { &[false, true] } else { &[false] };
    for &cut_graph in graph_options {
        let all = render(order.len(), cut_graph, usize::MAX);
        if len(&all) > max_chars {
            continue;
        }
        // The smallest number of dropped details that fits.
        let (mut lo, mut hi, mut best) = (0usize, order.len(), all);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let s = render(mid, cut_graph, usize::MAX);
            if len(&s) <= max_chars {
                hi = mid;
                best = s;
            } else {
                lo = mid + 1;
            }
        }
        return best;
    }
    // 3. Truncate the lists: the largest number of entries per list that fits.
    let cut_graph = drawn;
    let mut best = render(order.len(), cut_graph, 0);
    if len(&best) > max_chars {
        return hard_cut(&best, max_chars);
    }
    let (mut lo, mut hi) = (0usize, doc.longest_list());
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        let s = render(order.len(), cut_graph, mid);
        if len(&s) <= max_chars {
            lo = mid;
            best = s;
        } else {
            hi = mid - 1;
        }
    }
    best
}

/// The last resort when even the bare summary does not fit: cut the text itself.
fn hard_cut(s: &str, max_chars: usize) -> String {
    const TAIL: &str = "\n\n… (cut to fit the length limit)\n";
    let tail_len = TAIL.chars().count();
    if max_chars <= tail_len {
        return s.chars().take(max_chars).collect();
    }
    let mut out: String = s.chars().take(max_chars - tail_len).collect();
    out.push_str(TAIL);
    out
}
