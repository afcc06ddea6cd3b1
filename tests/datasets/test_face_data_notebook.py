"""notebooks/face_data.ipynb runs headless, with the real data and without it."""

from __future__ import annotations

import pytest
from notebook_runner import execute_notebook

NOTEBOOK = "face_data.ipynb"


def test_notebook_degrades_without_the_data(tmp_path):
    text, figures = execute_notebook(NOTEBOOK, {"GANS_SHARED_DATA": str(tmp_path / "absent")})
    assert "SKIPPING the figures" in text and figures == 0


@pytest.mark.faces
def test_notebook_draws_crops_and_label_distributions(shared_data):
    pytest.importorskip("mtcnn")
    pytest.importorskip("cv2")
    text, figures = execute_notebook(NOTEBOOK, {"GANS_SHARED_DATA": str(shared_data), "FACE_NOTEBOOK_PHOTOS": "6"})
    assert "kept 6 of 7" in text and "not_a_photo.jpg: unreadable" in text
    assert "disagreeing_groups" in text and "202599" in text
    assert figures == 4  # crops beside photos, UTKFace histograms, CelebA attributes, CelebA faces
