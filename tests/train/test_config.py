"""Config schema: defaults are the paper's hyper-parameters, unknown keys and bad types are errors naming the file
and the dotted key, KEY=VALUE overrides, every shipped config loads."""
from __future__ import annotations

from pathlib import Path

import pytest

from train.config import ConfigError, config_from_dict, dump_config, load_config

REPO = Path(__file__).resolve().parents[2]


def test_defaults_are_the_paper_hyper_parameters() -> None:
    cfg = load_config(None)
    assert (cfg.train.lr, cfg.train.weight_decay, cfg.train.epochs, cfg.train.lr_steps) == (5e-4, 5e-5, 50, [20])
    assert cfg.data.num_samples == 1024 and cfg.data.strides == [0.25, 0.5, 1.0, 2.0]
    assert cfg.model.num_heading_bins == 12


@pytest.mark.parametrize("name", sorted(p.name for p in (REPO / "configs").glob("*.yaml")))
def test_shipped_configs_load(name: str) -> None:
    cfg = load_config(REPO / "configs" / name)
    assert config_from_dict(cfg.to_dict()) == cfg


def test_det_sample_is_the_paper_model() -> None:
    cfg = load_config(REPO / "configs" / "det_sample.yaml")
    assert cfg == load_config(None, ["train.batch_size=64", "test.batch_size=32"])


def test_unknown_key_names_file_and_dotted_key(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("train:\n  epochs: 3\n  learning_rate: 0.1\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml.*train\.learning_rate"):
        load_config(path)


def test_type_errors(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("train:\n  epochs: two\n")
    with pytest.raises(ConfigError, match="train.epochs"):
        load_config(path)
    with pytest.raises(ConfigError, match="data.strides"):
        load_config(None, ["data.strides=[1, 2]"])
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        load_config(None, ["train.epochs"])
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.yaml")


def test_overrides_parse_yaml_values() -> None:
    cfg = load_config(None, ["train.epochs=2", "model.pointnet=[[8],[8],[8],[8]]", "test.method=nms"])
    assert cfg.train.epochs == 2 and cfg.model.pointnet == [[8], [8], [8], [8]] and cfg.test.method == "nms"
    assert load_config(None, ["train.lr=1"]).train.lr == 1.0  # int accepted for a float
    assert "num_samples: 1024" in dump_config(load_config(None))


def test_switches_are_validated_booleans_and_lists() -> None:
    cfg = load_config(None, ["model.quality_head=false", "test.window=false", "test.score=fg"])
    assert cfg.model.quality_head is False and cfg.test.window is False and cfg.test.score == "fg"
    with pytest.raises(ConfigError, match="test.window"):
        load_config(None, ["test.window=1"])
    with pytest.raises(ConfigError, match="test.score"):
        load_config(None, ["test.score=iou"])
    with pytest.raises(ConfigError, match="box2d_occlusion_weights"):
        load_config(None, ["loss.box2d_occlusion_weights=[1, 0]"])
    with pytest.raises(ConfigError, match="box2d_truncation_weights"):
        load_config(None, ["loss.box2d_truncation_edges=[0.0]"])


def test_base_inheritance_and_errors_name_the_file(tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text(f"_base_: {REPO / 'configs' / 'demo.yaml'}\ntrain:\n  epochs: 7\n")
    (tmp_path / "top.yaml").write_text("_base_: base.yaml\ntrain:\n  lr: 0.01\n")
    cfg = load_config(tmp_path / "top.yaml")
    demo = load_config(REPO / "configs" / "demo.yaml")
    assert (cfg.train.epochs, cfg.train.lr, cfg.data) == (7, 0.01, demo.data)
    (tmp_path / "base.yaml").write_text("train:\n  epochz: 7\n")
    with pytest.raises(ConfigError, match=r"base\.yaml: unknown key 'train\.epochz'"):
        load_config(tmp_path / "top.yaml")
