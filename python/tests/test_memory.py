"""Model loading by several processes: the weights are a shared, clean file mapping."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TOOL = Path(__file__).resolve().parents[2] / "examples" / "ray" / "model_memory.py"


def test_workers_share_the_model_pages(model_path):
    result = subprocess.run([sys.executable, TOOL, "--workers", "3", "--json", str(model_path)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    import json

    report = json.loads(result.stdout)
    workers = report["workers"]
    assert len(workers) == 3
    size_kib = os.path.getsize(model_path) / 1024
    for w in workers:
        mapping = w["model_mapping"]
        assert mapping["Private_Dirty"] == 0  # nothing of the model was copied or written
        assert mapping["Anonymous"] == 0
        assert mapping["Rss"] <= size_kib + 4
        # Three processes map the same page-cache pages: each is charged a third or less.
        assert mapping["Pss"] <= mapping["Rss"] / 2 + 4, mapping
