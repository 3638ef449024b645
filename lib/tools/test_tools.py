#!/usr/bin/env python3
"""Unit tests of the notebook tools that need no kernel: the figure count and check of run_notebooks.py,
notebooks/figures.json, and the layout of normalize_notebooks.py (on synthetic notebooks).

    test_tools.py

Prints unittest's report, then "tools: N passed, N failed"; exits 1 on failure.
"""
import json
import sys
import unittest
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

sys.path.insert(0, str(Path(__file__).resolve().parent))
import normalize_notebooks  # noqa: E402
import run_notebooks  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
PNG = "iVBORw0KGgo="  # content does not matter to the count
LANGUAGE_INFO = {"codemirror_mode": "java", "file_extension": ".jshell", "mimetype": "text/x-java-source",
                 "name": "Java", "pygments_lexer": "java", "version": "17.0.15+6-Debian-1deb12u1"}


def notebook(*outputs_per_cell):
    nb = new_notebook()
    nb.cells.append(new_markdown_cell("# 99 テスト"))
    for outputs in outputs_per_cell:
        cell = new_code_cell("Display.show(x);")
        cell.outputs = list(outputs)
        nb.cells.append(cell)
    return nb


def image(kind="display_data", mime="image/png"):
    if kind == "execute_result":
        return new_output("execute_result", data={mime: PNG, "text/plain": "img"}, execution_count=1)
    return new_output(kind, data={mime: PNG, "text/plain": "img"})


def text(line):
    return new_output("stream", name="stdout", text=line + "\n")


class CountImages(unittest.TestCase):
    def test_counts_image_outputs_of_every_kind(self):
        nb = notebook([image(), text("step 1")],
                      [image("execute_result", "image/svg+xml"), image(mime="image/jpeg")],
                      [new_output("display_data", data={"text/html": "<table></table>", "text/plain": "t"})],
                      [new_output("error", ename="E", evalue="boom", traceback=[])])
        self.assertEqual(run_notebooks.count_images(nb), 3)

    def test_text_and_html_are_not_figures(self):
        nb = notebook([text("[display] image 28x28")],
                      [new_output("display_data", data={"text/html": "<b>x</b>", "text/plain": "x"})])
        self.assertEqual(run_notebooks.count_images(nb), 0)

    def test_survives_a_json_round_trip(self):  # executed copies are read back from disk
        nb = nbformat.reads(nbformat.writes(notebook([image(), image()], [image()])), as_version=4)
        self.assertEqual(run_notebooks.count_images(nb), 3)


class CheckFigures(unittest.TestCase):
    expected = {"99_test": {"fast": 2, "default": 3}, "97_same": 2}

    def test_enough_figures_pass(self):
        problems, count = run_notebooks.check_figures(self.expected, "99_test", "fast", notebook([image(), image()]))
        self.assertEqual((problems, count), ([], 2))

    def test_too_few_figures_name_notebook_count_and_minimum(self):
        nb = notebook([image()], [text("[display] image 28x28")], [text("[display] chart 'loss'")])
        problems, count = run_notebooks.check_figures(self.expected, "99_test", "default", nb)
        self.assertEqual(count, 1)
        self.assertEqual(len(problems), 1)
        for part in ("99_test", "shows 1 figures", "at least 3", "default", "[display] image 28x28", "1 more"):
            self.assertIn(part, problems[0])

    def test_one_number_holds_for_every_mode(self):
        for mode in ("fast", "default", "full"):
            self.assertEqual(run_notebooks.check_figures(self.expected, "97_same", mode, notebook([image(), image()]))[0], [])
            problems, _ = run_notebooks.check_figures(self.expected, "97_same", mode, notebook([image()]))
            self.assertIn("97_same shows 1 figures (image outputs), expected at least 2 in mode " + mode, problems[0])

    def test_undeclared_notebook_or_mode_fails(self):
        for stem, mode in (("98_other", "fast"), ("99_test", "full")):
            problems, _ = run_notebooks.check_figures(self.expected, stem, mode, notebook([image()]))
            self.assertEqual(len(problems), 1)
            self.assertIn("no figure minimum declared", problems[0])

    def test_figures_json_declares_every_notebook_and_mode(self):
        figures = json.loads((ROOT / "notebooks" / "figures.json").read_text())
        stems = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9]*.ipynb"))
        self.assertTrue(stems)
        for stem in stems:
            for mode in ("fast", "default", "full"):
                value = figures.get(stem)
                value = value.get(mode) if isinstance(value, dict) else value
                self.assertTrue(isinstance(value, int) and not isinstance(value, bool) and value >= 1,
                                f"notebooks/figures.json: {stem}.{mode} must be a whole number >= 1, is {value!r}")


class Normalize(unittest.TestCase):
    def dirty(self):
        nb = notebook([image(), text("hi")])
        nb.cells[1].execution_count = 7
        nb.cells[1].metadata["execution"] = {"iopub.execute_input": "2025-01-01T00:00:00Z"}
        nb.cells[1].metadata["tags"] = ["exercise"]
        nb.cells[0].source = "# 99 テスト\n\n本文 — ü"
        nb.metadata["language_info"] = {"name": "java", "file_extension": ".jshell"}
        nb.metadata["kernelspec"] = {"display_name": "Java (lesson 8, DJL)", "language": "java", "name": "lesson8-java"}
        return json.dumps(nb, indent=2, ensure_ascii=True)  # another layout: ASCII escapes, indent 2, source strings

    def test_layout_is_nbformats_and_content_is_cleared(self):
        out = normalize_notebooks.normalized_text(self.dirty(), LANGUAGE_INFO)
        self.assertTrue(out.endswith("}\n"))
        self.assertIn('\n "cells": [\n  {\n', out)  # indent 1
        self.assertIn("本文 — ü", out)  # ensure_ascii=False
        self.assertIn('"source": [\n    "# 99 テスト\\n",\n', out)  # sources as lists of lines
        data = json.loads(out)
        self.assertEqual(list(data), sorted(data))  # sorted keys
        code = data["cells"][1]
        self.assertEqual((code["outputs"], code["execution_count"]), ([], None))
        self.assertEqual(code["metadata"], {"tags": ["exercise"]})
        self.assertEqual(data["metadata"]["language_info"], LANGUAGE_INFO)
        self.assertEqual(data["metadata"]["kernelspec"]["name"], "lesson8-java")

    def test_is_what_nbformat_write_produces_and_idempotent(self):
        once = normalize_notebooks.normalized_text(self.dirty(), LANGUAGE_INFO)
        self.assertEqual(normalize_notebooks.normalized_text(once, LANGUAGE_INFO), once)
        nb = nbformat.reads(once, as_version=4)
        self.assertEqual(nbformat.writes(nb) + "\n", once)

    def test_check_keeps_the_committed_java_version(self):
        once = normalize_notebooks.normalized_text(self.dirty(), LANGUAGE_INFO)
        other_jdk = dict(LANGUAGE_INFO, version="21.0.2+13")
        kept = normalize_notebooks.committed_version_kept(once, other_jdk)
        self.assertEqual(normalize_notebooks.normalized_text(once, kept), once)
        other_name = dict(LANGUAGE_INFO, name="java")
        kept = normalize_notebooks.committed_version_kept(once, other_name)
        self.assertNotEqual(normalize_notebooks.normalized_text(once, kept), once)


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=2).result
    failed = len(result.failures) + len(result.errors)
    print(f"tools: {result.testsRun - failed} passed, {failed} failed")
    sys.exit(1 if failed or not result.wasSuccessful() else 0)
