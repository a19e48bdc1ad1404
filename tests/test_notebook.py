"""The worked notebook, notebooks/explore.ipynb: committed without outputs, and executed top to
bottom (nbclient, the venv's own ipykernel) so that a library change that breaks it fails here."""
from __future__ import annotations

import json
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "explore.ipynb"
CELL_TIMEOUT = 180  # seconds per cell; the whole notebook takes ~10 s here
PROBE = "import sys, kg\nprint(sys.prefix)\nprint(kg.__file__)"


def test_notebook_committed_without_outputs():
    """Outputs are stripped in git: clear them before committing (Jupyter: Edit → Clear
    Outputs of All Cells, or `jupyter nbconvert --clear-output --inplace`)."""
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    dirty = [cell.get("id", i) for i, cell in enumerate(nb["cells"]) if cell["cell_type"] == "code"
             and (cell.get("outputs") or cell.get("execution_count") is not None
                  or "execution" in cell.get("metadata", {}))]
    assert not dirty, f"{NOTEBOOK.name}: cells with outputs or execution counts: {dirty}"
    assert not [c for c in nb["cells"] if c.get("attachments")], "no pasted attachments, please"
    assert nb["metadata"]["kernelspec"]["name"] == "python3"


def test_notebook_is_valid_nbformat():
    import nbformat

    nbformat.validate(nbformat.read(NOTEBOOK, as_version=4))


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """The notebook run in a fresh working directory, the store in another temp directory
    (KZRU_STORE), the outputs at the default ./kg-out; a last probe cell (added to the copy
    in memory only) reports which Python the kernel is."""
    import nbformat
    from nbclient import NotebookClient

    workdir = tmp_path_factory.mktemp("notebook-cwd")
    store = tmp_path_factory.mktemp("notebook-store") / "store"
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(PROBE, id="kernel-probe"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KZRU_STORE", str(store))
        mp.delenv("KZRU_OUT", raising=False)
        client = NotebookClient(nb, kernel_name="python3", timeout=CELL_TIMEOUT, startup_timeout=60,
                                resources={"metadata": {"path": str(workdir)}})
        client.execute()  # raises CellExecutionError (with the cell and traceback) on any error
    return {"nb": nb, "cells": {c.get("id"): c for c in nb.cells}, "workdir": workdir,
            "store": store, "out": workdir / "kg-out"}


def _text(cell) -> str:
    """Everything a cell showed: streams, plain-text and HTML reprs."""
    parts = []
    for out in cell.get("outputs", []):
        if out["output_type"] == "stream":
            parts.append(out["text"])
        elif "data" in out:
            parts += [out["data"].get("text/plain", ""), out["data"].get("text/html", "")]
    return "\n".join(parts)


def test_notebook_runs_without_errors_or_warnings(executed):
    for cell in executed["nb"].cells:
        if cell.cell_type != "code":
            continue
        for out in cell.outputs:
            assert out["output_type"] != "error", f"cell {cell.id}: {out.get('ename')}: {out.get('evalue')}"
            assert not (out["output_type"] == "stream" and out["name"] == "stderr"), \
                f"cell {cell.id} wrote to stderr:\n{out['text']}"


def test_notebook_kernel_is_this_python(executed):
    import kg

    lines = _text(executed["cells"]["kernel-probe"]).split()
    assert lines == [sys.prefix, kg.__file__], "the notebook ran in another Python than the tests"


def test_notebook_uses_the_paths_it_is_given(executed):
    assert (executed["store"] / "CURRENT").exists(), "KZRU_STORE was not used for the store"
    assert not (executed["workdir"] / "kg-store").exists()
    assert str(executed["store"]) in _text(executed["cells"]["setup"])


@pytest.mark.parametrize("cell, expected", [
    ("build", ["visited", "said"]),
    ("visits", ["Kassym-Jomart Tokayev", "Moscow", "<table"]),
    ("met", ["'Putin' is 'Vladimir Putin'", "Kassym-Jomart Tokayev"]),
    ("evidence", ["Moscow", "#char=", "visits"]),
    ("corroboration", ["corroborated_confidence"]),
    ("centrality", ["Kazakhstan", "pagerank", "betweenness"]),
    ("ego", ["linked to both:", "Kazakhstan", "Russia"]),
    ("kzru", ["Kazakhstan → Russia"]),
    ("viz", ["srcdoc=", "<iframe"]),
    ("export-peek", ["kzr:person_kassym-jomart-tokayev", "visited"]),
])
def test_notebook_shows(executed, cell, expected):
    shown = _text(executed["cells"][cell])
    for text in expected:
        assert text in shown, f"cell {cell} does not show {text!r}"


def test_notebook_exports_read_back(executed):
    out = executed["out"]
    assert (out / "kzru.ttl").stat().st_size > 0 and (out / "kzru.jsonld").stat().st_size > 0
    m = re.search(r"Turtle: (\d+) triples; JSON-LD: (\d+) quads", _text(executed["cells"]["export-read"]))
    assert m and int(m.group(1)) > 0 and int(m.group(2)) >= int(m.group(1))


class _External(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("src", "href") and value and re.match(r"\s*(https?:)?//", value):
                self.found.append(f"<{tag} {name}={value}>")


def test_notebook_view_needs_no_network(executed):
    page = executed["out"] / "kz-ru-ego.html"
    parser = _External()
    parser.feed(page.read_text(encoding="utf-8"))
    assert not parser.found, parser.found
    assert "Kazakhstan" in page.read_text(encoding="utf-8")
