#!/usr/bin/env python3
"""Write the course notebooks exactly as Jupyter saves them, so that opening one leaves git clean.

    normalize_notebooks.py [--check] [--language-info-from NOTEBOOK] [NOTEBOOK...]

Without NOTEBOOK: every notebooks/NN_*.ipynb. Each notebook is written in nbformat's own layout (what
JupyterLab's save goes through: indent 1, sorted keys, non-ASCII kept, sources as lists of lines, a final
newline), with outputs cleared, execution counts null, nbclient's timing metadata removed and
metadata.language_info exactly as the lesson8-java kernel reports it in its kernel_info_reply (the kernel
is started once for this; --language-info-from takes it from an executed copy instead, e.g.
target/executed/fast/00_introduction.ipynb). Running it twice changes nothing the second time.

--check writes nothing: it lists the notebooks that differ from their normalised form and exits 1. The
Java version in language_info.version depends on the machine's JDK, so the check keeps the committed
version string and compares everything else (run on another JDK, the fix rewrites the version, as
JupyterLab itself would there).
"""
import argparse
import copy
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
KERNEL = "lesson8-java"
FIX_COMMAND = ".venv/bin/python lib/tools/normalize_notebooks.py"


def kernel_language_info(kernel=KERNEL, timeout=120):
    """The language_info of the kernel's kernel_info_reply (starts and stops the kernel)."""
    import subprocess

    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name=kernel, startup_timeout=timeout, stderr=subprocess.DEVNULL)
    try:
        msg_id = kc.kernel_info()
        reply = kc.get_shell_msg(timeout=timeout)
        while reply["parent_header"].get("msg_id") != msg_id:
            reply = kc.get_shell_msg(timeout=timeout)
        return dict(reply["content"]["language_info"])
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def language_info_from(path):
    info = nbformat.read(path, as_version=4).metadata.get("language_info")
    if not info:
        raise SystemExit(f"normalize: {path} has no metadata.language_info (use an executed copy, "
                         "e.g. target/executed/fast/00_introduction.ipynb)")
    return dict(info)


def normalize(nb, language_info):
    """Returns a normalised deep copy of a notebook (NotebookNode, version 4)."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.metadata.pop("execution", None)  # nbclient's timing (record_timing)
    nb.metadata["language_info"] = nbformat.from_dict(copy.deepcopy(language_info))
    return nb


def normalized_text(text, language_info):
    """The text a notebook file should have, given its current text."""
    nb = nbformat.reads(text, as_version=4)
    out = nbformat.writes(normalize(nb, language_info))
    return out if out.endswith("\n") else out + "\n"


def committed_version_kept(text, language_info):
    """language_info with the version string the file already has (the check is JDK-independent)."""
    info = dict(language_info)
    current = nbformat.reads(text, as_version=4).metadata.get("language_info", {})
    if "version" in info and "version" in current:
        info["version"] = current["version"]
    return info


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebooks", nargs="*", type=Path)
    ap.add_argument("--check", action="store_true", help="change nothing; exit 1 if a notebook is not normalised")
    ap.add_argument("--language-info-from", type=Path, metavar="NOTEBOOK",
                    help="take language_info from this (executed) notebook instead of asking the kernel")
    args = ap.parse_args()
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
    if not paths:
        raise SystemExit("normalize: no notebooks found in notebooks/")
    for p in paths:
        if not p.is_file():
            raise SystemExit(f"normalize: {p} is not a file")
    if args.language_info_from:
        info = language_info_from(args.language_info_from)
    else:
        try:
            info = kernel_language_info()
        except Exception as e:  # NoSuchKernel, startup timeout
            raise SystemExit(f"normalize: could not ask the {KERNEL} kernel for its language_info ({type(e).__name__}: {e}); "
                             "run ./course setup first, or pass --language-info-from target/executed/fast/00_introduction.ipynb")
    differ, changed = [], []
    for p in paths:
        text = p.read_text(encoding="utf-8")
        want = normalized_text(text, committed_version_kept(text, info) if args.check else info)
        if text == want:
            continue
        name = p.resolve().relative_to(ROOT) if p.resolve().is_relative_to(ROOT) else p
        if args.check:
            differ.append(str(name))
        else:
            p.write_text(want, encoding="utf-8")
            changed.append(str(name))
    if args.check:
        if differ:
            print(f"normalize: {len(differ)} of {len(paths)} notebooks are not in Jupyter's saved form "
                  f"(opening them in JupyterLab would change them): {', '.join(differ)}\n"
                  f"  run {FIX_COMMAND} to fix")
            return 1
        print(f"normalize: all {len(paths)} notebooks in Jupyter's saved form")
        return 0
    print(f"normalize: {len(changed)} of {len(paths)} notebooks rewritten" + (f": {', '.join(changed)}" if changed else "")
          + f" (language_info: {info.get('name')} {info.get('version', '')})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
