#!/usr/bin/env bash
# Renders a plan's Markdown (the pull-request comment) as GitHub shows it and screenshots it,
# so that a change to the Markdown rendering can be looked at as a reviewer sees it:
# GitHub-flavoured Markdown by cmark-gfm (tables, autolinks, the tag filter, raw HTML such as
# <details>), GitHub's own stylesheet (github-markdown-css: tables as wide as their content,
# scrolling beyond the column; code blocks that scroll; prose and list lines that wrap), the
# `> [!CAUTION]` alerts as GitHub draws them, and ```mermaid blocks drawn by Mermaid, in
# headless Chromium, the page at GitHub's comment width.
#
#   scripts/render-markdown.sh [--open] [--width PX] INPUT OUTPUT.png
#
# INPUT is a Markdown file, or a saved plan (`plinth plan --out p.plan`), which is rendered
# with `plinth show INPUT --format markdown` ($PLINTH, else target/debug/plinth, else
# `cargo run -q --`). --open expands every <details> block (GitHub shows them collapsed).
# OUTPUT.html is written beside the screenshot.
#
# Installs what it needs when missing: chromium and cmark-gfm from Debian (apt-get, as root),
# and mermaid, github-markdown-css and puppeteer-core (which drives the system's chromium,
# it downloads no browser) from npm into $PLINTH_RENDER_TOOLS
# (default ~/.cache/plinth-render-markdown).
#
# For example, the flagship's first plan:
#
#   cp -r examples/aks-keda-workload-identity /tmp/flagship && cd /tmp/flagship
#   plinth plan --sim --out p.plan
#   scripts/render-markdown.sh --open p.plan first.png
set -euo pipefail

open_details=0
width=1012
while [[ $# -gt 0 ]]; do
  case "$1" in
    --open) open_details=1; shift ;;
    --width) width="$2"; shift 2 ;;
    -h|--help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    --) shift; break ;;
    -*) echo "render-markdown: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) break ;;
  esac
done
if [[ $# -ne 2 ]]; then
  echo "usage: scripts/render-markdown.sh [--open] [--width PX] INPUT OUTPUT.png" >&2
  exit 2
fi
input="$1"
output="$2"
[[ -f "$input" ]] || { echo "render-markdown: $input: no such file" >&2; exit 2; }
case "$output" in
  *.png) ;;
  *) echo "render-markdown: $output: the screenshot is a .png" >&2; exit 2 ;;
esac
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# --- tools -------------------------------------------------------------------------------
need_apt=()
command -v cmark-gfm >/dev/null || need_apt+=(cmark-gfm)
chromium_bin="$(command -v chromium || command -v chromium-browser || true)"
[[ -n "$chromium_bin" ]] || need_apt+=(chromium)
command -v node >/dev/null || need_apt+=(nodejs npm)
if [[ ${#need_apt[@]} -gt 0 ]]; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "render-markdown: needs ${need_apt[*]}: run 'sudo apt-get install -y ${need_apt[*]}'" >&2
    exit 1
  fi
  echo "render-markdown: installing ${need_apt[*]}" >&2
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need_apt[@]}" >/dev/null
  chromium_bin="$(command -v chromium || command -v chromium-browser)"
fi
tools="${PLINTH_RENDER_TOOLS:-$HOME/.cache/plinth-render-markdown}"
if [[ ! -f "$tools/node_modules/mermaid/dist/mermaid.min.js" \
   || ! -f "$tools/node_modules/github-markdown-css/github-markdown-light.css" \
   || ! -d "$tools/node_modules/puppeteer-core" ]]; then
  echo "render-markdown: installing mermaid, github-markdown-css and puppeteer-core into $tools" >&2
  mkdir -p "$tools"
  (cd "$tools" && { [[ -f package.json ]] || npm init -y >/dev/null; } \
    && PUPPETEER_SKIP_DOWNLOAD=1 npm i --no-audit --no-fund -s \
       mermaid@11 github-markdown-css@5 puppeteer-core@23 >/dev/null)
fi

# --- Markdown ----------------------------------------------------------------------------
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if [[ "$input" == *.md ]]; then
  cp "$input" "$work/plan.md"
else
  if [[ -n "${PLINTH:-}" ]]; then
    "$PLINTH" show "$input" --format markdown >"$work/plan.md"
  elif [[ -x "$repo/target/debug/plinth" ]]; then
    "$repo/target/debug/plinth" show "$input" --format markdown >"$work/plan.md"
  else
    (cd "$repo" && cargo run -q -- show "$(realpath "$input")" --format markdown) >"$work/plan.md"
  fi
fi
chars=$(wc -m <"$work/plan.md")
echo "render-markdown: $chars characters (GitHub's limit is 65536)" >&2

# GitHub's extensions; --unsafe keeps the raw HTML GitHub allows (<details>, <summary>,
# <code>, <b>); the tag filter escapes what it does not.
cmark-gfm --unsafe -e table -e strikethrough -e autolink -e tagfilter -e tasklist \
  "$work/plan.md" >"$work/body.html"

html="${output%.png}.html"
cat >"$work/shot.js" <<'JS'
const fs = require('fs');
const path = require('path');
const puppeteer = require('puppeteer-core');
const [bodyFile, htmlFile, pngFile, tools, chromium, width, open] = process.argv.slice(2);
let body = fs.readFileSync(bodyFile, 'utf8');
// GitHub's alerts: a blockquote whose first line is [!KIND].
body = body.replace(
  /<blockquote>\n<p>\[!(NOTE|TIP|IMPORTANT|WARNING|CAUTION)\]\n?/g,
  (_, kind) => {
    const title = kind[0] + kind.slice(1).toLowerCase();
    return `<blockquote class="markdown-alert markdown-alert-${kind.toLowerCase()}">` +
      `<p class="markdown-alert-title">${title}</p>\n<p>`;
  });
// Mermaid blocks, as GitHub draws them.
body = body.replace(/<pre><code class="language-mermaid">([\s\S]*?)<\/code><\/pre>/g,
  (_, src) => `<pre class="mermaid">${src}</pre>`);
if (open === '1') body = body.replace(/<details>/g, '<details open>');
const css = fs.readFileSync(
  path.join(tools, 'node_modules/github-markdown-css/github-markdown-light.css'), 'utf8');
const page = `<!doctype html><html><head><meta charset="utf-8">
<style>${css}
body { margin: 0; background: #fff; }
.markdown-body { box-sizing: border-box; max-width: ${width}px; padding: 16px 24px; }
blockquote.markdown-alert { padding: .5rem 1rem; margin-bottom: 16px; color: inherit;
  border-left: .25em solid #d1d9e0; }
.markdown-alert-title { font-weight: 500; display: flex; align-items: center; }
.markdown-alert-note { border-left-color: #0969da } .markdown-alert-note .markdown-alert-title { color: #0969da }
.markdown-alert-warning { border-left-color: #9a6700 } .markdown-alert-warning .markdown-alert-title { color: #9a6700 }
.markdown-alert-caution { border-left-color: #cf222e } .markdown-alert-caution .markdown-alert-title { color: #d1242f }
</style>
<script src="file://${path.join(tools, 'node_modules/mermaid/dist/mermaid.min.js')}"></script>
</head><body><article class="markdown-body">${body}</article>
<script>mermaid.initialize({ startOnLoad: false, securityLevel: 'strict' });
window.rendered = mermaid.run({ querySelector: 'pre.mermaid' }).then(() => 'ok', e => String(e));
</script></body></html>`;
fs.writeFileSync(htmlFile, page);
(async () => {
  const browser = await puppeteer.launch({
    executablePath: chromium,
    args: ['--no-sandbox', '--disable-gpu', '--allow-file-access-from-files'],
  });
  try {
    const tab = await browser.newPage();
    await tab.setViewport({ width: Number(width) + 48, height: 800 });
    await tab.goto('file://' + path.resolve(htmlFile), { waitUntil: 'load' });
    const result = await tab.evaluate(() => window.rendered);
    if (result !== 'ok') console.error('render-markdown: mermaid: ' + result);
    await tab.screenshot({ path: pngFile, fullPage: true });
  } finally {
    await browser.close();
  }
})().catch(e => { console.error('render-markdown: ' + e); process.exit(1); });
JS
NODE_PATH="$tools/node_modules" node "$work/shot.js" "$work/body.html" "$html" "$output" \
  "$tools" "$chromium_bin" "$width" "$open_details"
echo "render-markdown: wrote $output (and $html)" >&2
