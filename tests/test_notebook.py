"""The README's worked research question as a notebook (examples/research_question.ipynb) runs
end to end -- at tiny sizes: its "parameters" cell is followed by one that overrides the sizes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ROOT

NOTEBOOK = ROOT / "examples" / "research_question.ipynb"
TINY = {"SAMPLES": 32, "REPLICATES": 1, "EFFECT_REPLICATES": 3, "SCALE": 0.02, "HORIZON": 30, "WORKERS": 1}


def test_research_notebook_runs_end_to_end_at_tiny_sizes(tmp_path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    at = [i for i, c in enumerate(nb.cells) if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(at) == 1, "the notebook needs one cell tagged 'parameters'"
    out = tmp_path / "research"
    override = "\n".join(f"{k} = {v!r}" for k, v in {**TINY, "OUT": str(out)}.items())
    nb.cells.insert(at[0] + 1, nbformat.v4.new_code_cell(override))
    nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    for f in ("lhs/runs.parquet", "lhs/discovery/no_collapse/box.md", "lhs/discovery/no_collapse/trajectory.png",
              "lhs/discovery/no_collapse_levers/box.csv", "effects/effects/effects.csv",
              "effects/effects/effects.png", "effects/figures/curves_displaced_total.png"):
        assert (out / f).is_file(), f
    text = "\n".join(o.get("text", "") + str(o.get("data", {}).get("text/markdown", ""))
                     for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "Scenario discovery (PRIM): collapses == 0" in text
    assert "distinct posterior draws" in text
