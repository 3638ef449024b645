#!/usr/bin/env python3
"""Run the course notebooks and render them as a static HTML site (index in Japanese + one page each).

    render_site.py [--mode fast|default|full] [--no-run] [--solutions] [--out DIR] [NOTEBOOK...]

Without NOTEBOOK: every notebooks/NN_*.ipynb. First runs them through run_notebooks.py (a fresh kernel
each, LESSON8_MODE=<mode>, the same checks as the tests; executed copies in target/executed/<mode>), then
converts each executed copy with nbconvert's lab template into <out>/<stem>.html, figures embedded as
data: URIs (the pages need no other file), and writes <out>/index.html, whose titles are the notebooks'
first headings. --no-run renders the executed copies already in target/executed/<mode>. Exercises are run
as the students see them (unanswered, ⏳) unless --solutions. Default out: target/site.
Exits 1 if a notebook failed its run (the site is still written, to look at).
"""
import argparse
import datetime
import html
import re
import subprocess
import sys
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter

ROOT = Path(__file__).resolve().parents[2]
LECTURE = "アドバンストビジョン 第8回「画像とTransformer」"


def first_heading(nb, fallback):
    """The text of the notebook's first Markdown heading (# ...), without the #s."""
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            m = re.match(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$", line)
            if m and m.group(1):
                return m.group(1)
    return fallback


def inline_text(markdown):
    """A heading's Markdown as plain text for HTML (code spans and emphasis marks dropped)."""
    return re.sub(r"[`*_]", "", markdown)


def external_references(page):
    """src= attributes of <img> that are not data: URIs (a page must need no other file for its figures)."""
    return [src for src in re.findall(r"<img\b[^>]*?\bsrc=[\"']([^\"']+)", page) if not src.startswith("data:")]


def render_page(nb, title, exporter):
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    nav = ('<nav style="max-width:1200px;margin:0.5em auto;padding:0 1em;font-family:sans-serif">'
           '<a href="index.html">← 目次に戻る</a></nav>')
    return re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + nav, body, count=1)


def index_page(entries, mode, how):
    items = "\n".join(
        f'    <li><a href="{html.escape(page)}">{html.escape(inline_text(title))}</a>'
        f'{"" if ok else " <strong>（実行に失敗しました）</strong>"}</li>'
        for page, title, ok in entries)
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!DOCTYPE html>
<html lang="ja">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(LECTURE)}: Java ノートブック</title>
<style>
body {{ font-family: sans-serif; max-width: 50em; margin: 2em auto; padding: 0 1em; line-height: 1.6; }}
li {{ margin: 0.4em 0; }}
small {{ color: #555; }}
</style>
</head>
<body>
<h1>{html.escape(LECTURE)}</h1>
<p>講義（千葉工業大学 上田隆一, CC-BY-SA 4.0）の話題 — ViT、Image GPT、DiT、CLIP、DALL·E、GLIDE、unCLIP — を、
Java（DJL + PyTorch）で実装し、CPU で実際に学習させるノートブック集です。各ページは実行済みのノートブックで、
図はページに埋め込まれています。自分で動かすにはリポジトリの README の <code>./course start</code> をご覧ください。</p>
<ul>
{items}
</ul>
<p><small>モード: {html.escape(mode)}、{how}、{when} に生成（<code>./course render</code>）。
本文 CC-BY-SA 4.0 / コード Apache-2.0。</small></p>
</body>
</html>
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebooks", nargs="*", type=Path)
    ap.add_argument("--mode", choices=["fast", "default", "full"], default="default")
    ap.add_argument("--no-run", action="store_true", help="render the executed copies in target/executed/<mode> as they are")
    ap.add_argument("--solutions", action="store_true", help="run the exercises' reference solutions")
    ap.add_argument("--out", type=Path, default=ROOT / "target" / "site", help="where the site goes (default target/site)")
    args = ap.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    sources = [p.resolve() for p in args.notebooks] or sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
    if not sources:
        raise SystemExit("render: no notebooks found in notebooks/")
    for p in sources:
        if p.suffix != ".ipynb" or not p.is_file():
            raise SystemExit(f"render: {p} is not a notebook file (give paths like notebooks/00_introduction.ipynb)")
    executed_dir = ROOT / "target" / "executed" / args.mode

    run_ok = True
    if not args.no_run:
        cmd = [sys.executable, "-u", str(ROOT / "lib" / "tools" / "run_notebooks.py"), "--mode", args.mode,
               *(["--solutions"] if args.solutions else []), *map(str, sources)]
        run_ok = subprocess.run(cmd, cwd=ROOT).returncode == 0
    failed = set()
    if not run_ok:  # which ones: the runner's FAIL lines are in its CSV
        csv_file = ROOT / "target" / "test-logs" / f"notebooks-{args.mode}.csv"
        for line in csv_file.read_text().splitlines()[1:] if csv_file.is_file() else []:
            stem, _, _, status, *_ = line.split(",")
            if status == "fail":
                failed.add(stem)

    missing = [p.name for p in sources if not (executed_dir / p.name).is_file()]
    if missing:
        raise SystemExit(f"render: no executed copy of {', '.join(missing)} in {executed_dir.relative_to(ROOT)}; "
                         f"run ./course render --mode {args.mode} without --no-run")
    args.out.mkdir(parents=True, exist_ok=True)
    exporter = HTMLExporter(template_name="lab", embed_images=True)
    entries, total = [], 0
    for src in sources:
        nb = nbformat.read(executed_dir / src.name, as_version=4)
        title = first_heading(nbformat.read(src, as_version=4), src.stem)
        page = render_page(nb, inline_text(title), exporter)
        outside = external_references(page)
        if outside:
            raise SystemExit(f"render: {src.stem}'s page refers to image files {outside[:3]}; figures must be embedded")
        name = src.stem + ".html"
        (args.out / name).write_text(page, encoding="utf-8")
        size = (args.out / name).stat().st_size
        total += size
        entries.append((name, title, src.stem not in failed))
        print(f"render: {rel(args.out / name)}  {size / 2**20:.2f} MB  {inline_text(title)}")
    index = args.out / "index.html"
    how = ("既存の実行結果を変換" if args.no_run else
           "演習は解答を入れて実行" if args.solutions else "演習は未回答（⏳）のまま実行")
    index.write_text(index_page(entries, args.mode, how), encoding="utf-8")
    total += index.stat().st_size
    print(f"render: {rel(index)}; site {rel(args.out)}: {len(entries) + 1} files, {total / 2**20:.2f} MB ({args.mode} mode)")
    if not run_ok:
        print(f"render: FAILED: {len(failed) or 'some'} notebook(s) failed their run"
              + (f" ({', '.join(sorted(failed))})" if failed else "") + "; the pages show them as they ran. Do not publish this site.")
        return 1
    return 0


def rel(path):
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


if __name__ == "__main__":
    sys.exit(main())
