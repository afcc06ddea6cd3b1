"""Execute a notebook headless, as a user would open it, and collect what it printed and drew."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def execute_notebook(name: str, env: dict[str, str], timeout: int = 300) -> tuple[str, int]:
    """Run ``notebooks/<name>`` with extra environment variables.

    Returns:
        (all text output joined, number of figures drawn). Fails the test on any error output.
    """
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    path = NOTEBOOKS / name
    notebook = nbformat.read(path, as_version=4)
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # the kernel inherits this process's environment
    try:
        nbclient.NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                                resources={"metadata": {"path": str(path.parent)}}).execute()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    texts, figures = [], 0
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            assert output.get("output_type") != "error", output
            data = output.get("data", {})
            figures += "image/png" in data
            texts.append(output.get("text", "") or str(data.get("text/plain", "")))
    return "\n".join(texts), figures
