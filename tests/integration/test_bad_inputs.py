"""The bad-input corpus of issue 12, run in-process through each entry point's ``main``: one row per malformed or
hostile input, with the expected exit status and the file (or flag) the one ``error:`` line must name; no
traceback. Then the data-loss cases, which assert by content hash that the user's files and a finished stage's
files are unchanged. Every row works on a symlinked clone of the session's tiny synthetic world (a mutated file is
unlinked first, so the shared world is never written)."""
from __future__ import annotations

import hashlib
import json
import os
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import cv2
import numpy as np
import pytest
import torch

from kitti.atomic import atomic_save_npz, read_npz
from kitti.errors import CheckpointError, InputError, KittiFormatError, OutputDirError
from kitti.frustum.store import NAN7, FrustumSample, is_complete, manifest_path, write_frustum_set
from kitti.io.dataset import read_split
from train.config import load_config
from train.model import FConvNet
from train.pipeline.layout import step_dir
from train.pipeline.manifest import MANIFEST, StageManifest, changed_outputs, fingerprint, read_manifest
from train.pipeline.stage_run import REBUILD_SUFFIX, _prepare, _promote

REPO = Path(__file__).resolve().parents[2]
STAGE_FILES = ("model_final.pth", "frustums_train.npz", "_last_train/data/000000.txt", "_last_val/metrics.json")


# ---------------------------------------------------------------------------------------------------------------
# helpers


def _clone(world: Path, dest: Path) -> Path:
    """A KITTI root whose data files are symlinks to ``world``'s and ImageSets copies (no synthetic manifest: it
    stands for the user's own data set)."""
    for path in world.rglob("*"):
        if path.is_file() and path.name != "synthetic_manifest.json":
            target = dest / path.relative_to(world)
            target.parent.mkdir(parents=True, exist_ok=True)
            if "training" in target.relative_to(dest).parts:
                target.symlink_to(path)
            else:
                target.write_bytes(path.read_bytes())
    return dest


def _put(path: Path, data: bytes | str) -> None:
    """Replace ``path`` (possibly a symlink into the shared world) by a new file holding ``data``."""
    path.unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)


def _digests(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root`` (through symlinks), by relative path."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _npz_bytes(**arrays: np.ndarray) -> bytes:
    import io
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _sample(class_id: int = 0) -> FrustumSample:
    box = np.array([10, 10, 60, 50], np.float32)
    return FrustumSample(frame_id=0, label_line=1, class_id=class_id, kind=0, box2d=box, box2d_target=box,
                         frustum_angle=0.0, has_3d=False, box3d=NAN7, depth_window=np.array([5, 20], np.float32),
                         prev_box3d=NAN7, score_2d=1.0, P2=np.eye(3, 4, dtype=np.float32),
                         image_size=np.array([375, 1242], np.int32), points=np.ones((8, 4), np.float32),
                         seg=np.zeros(8, np.int8))


def _finished_stage(stage: Path, stage_fingerprint: str = "0" * 64) -> dict[str, str]:
    """A stage directory as a finished run leaves it (manifest ``done``, output hashes); returns its digests."""
    for name in STAGE_FILES:
        _put(stage / name, f"{name} of a finished stage\n")
    atomic_save_npz(stage / "frustums_train.npz", points=np.arange(1000.0))
    manifest = StageManifest(stage, stage.name, {}, {}, REPO)
    manifest.data["fingerprint"] = stage_fingerprint
    manifest.finish({"checkpoint": "model_final.pth"})
    return _digests(stage)


@dataclass
class Ctx:
    """What a row works on: a clone of the world, a scratch directory, and a train / a val frame id."""

    root: Path
    tmp: Path
    train: int
    val: int

    def file(self, kind: str, frame: int | None = None, ext: str = "txt") -> Path:
        return self.root / "training" / kind / f"{self.train if frame is None else frame:06d}.{ext}"


def _pipeline(ctx: Ctx, *extra: str, output: Path | None = None, config: str = "configs/demo.yaml") -> list[str]:
    return ["step", "--step", "0", "--data", str(ctx.root), "--output", str(output or ctx.tmp / "out"),
            "--config", str(REPO / config) if not config.startswith("/") else config,
            "--refine-config", str(REPO / "configs/demo_refine.yaml"), "--gpu", "-1", "--workers", "1", *extra]


def _check(ctx: Ctx, *extra: str) -> list[str]:
    return ["--root", str(ctx.root), "--split", "train", *extra]


def _label_line(x1: float, y1: float, x2: float, y2: float) -> str:
    return f"Car 0.00 0 -1.57 {x1} {y1} {x2} {y2} 1.50 1.60 3.90 2.00 1.60 20.00 -1.57\n"


def _calib_lines(ctx: Ctx) -> list[str]:
    return ctx.file("calib").read_text().splitlines(keepends=True)


def _replace_line(ctx: Ctx, name: str, new: str) -> None:
    lines = _calib_lines(ctx)
    _put(ctx.file("calib"), "".join(new if line.startswith(name + ":") else line for line in lines))


def _write_set(path: Path, class_id: int = 0) -> Path:
    write_frustum_set(path, [_sample(class_id)], {}, set="val")
    return path


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    _put(path, data[: len(data) // 2])


def _checkpoint(path: Path, mismatch: bool = False, pickled: bool = False) -> Path:
    tiny = ["data.num_samples=64", "data.strides=[1.0, 2.0, 4.0, 8.0]", "data.max_depth=72.0",
            "data.group_sizes=[8, 8, 8, 8]", "model.pointnet=[[8, 8], [8, 8], [16], [16]]", "model.deconv=8"]
    cfg = load_config(None, tiny)
    state: dict = {"model": FConvNet(cfg).state_dict(), "config": cfg.to_dict()}
    if mismatch:
        state["config"] = load_config(None, [*tiny[:-2], "model.pointnet=[[16], [16], [16], [16]]"]).to_dict()
    if pickled:
        state["meta"] = Ctx  # a class: only unpickling can restore it
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, path)
    return path


def _read_only(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o555)
    return path


# ---------------------------------------------------------------------------------------------------------------
# the corpus: (name, module, setup -> argv, expected exit code, text the error line must contain)

Setup = Callable[[Ctx], Sequence[str]]


def _row(name: str, module: str, setup: Setup, code: int, names: Callable[[Ctx], str] | str,
         marks: tuple = ()) -> object:
    return pytest.param(module, setup, code, names, id=name, marks=marks)


def _split_unicode(ctx: Ctx) -> list[str]:
    _put(ctx.root / "ImageSets" / "train.txt", "00000\u00b2\n")
    return _check(ctx)


def _split_binary(ctx: Ctx) -> list[str]:
    _put(ctx.root / "ImageSets" / "train.txt", b"\xff\xfe\x00\x01")
    return _check(ctx)


def _depth_strings(ctx: Ctx) -> list[str]:
    _put(ctx.file("depth_2", ext="npz"), _npz_bytes(depth=np.array([["far", "near"]])))
    return _check(ctx)


def _depth_sky_shape(ctx: Ctx) -> list[str]:
    depth = read_npz(ctx.file("depth_2", ext="npz"), "depth")["depth"]
    _put(ctx.file("depth_2", ext="npz"), _npz_bytes(depth=depth, sky=np.zeros((3, 3), bool)))
    return _check(ctx)


def _depth_truncated(ctx: Ctx) -> list[str]:
    _truncate(ctx.file("depth_2", ext="npz"))
    return _check(ctx)


def _label(ctx: Ctx, line: str) -> list[str]:
    _put(ctx.file("label_2"), line)
    return _check(ctx)


def _velodyne_empty(ctx: Ctx) -> list[str]:
    _put(ctx.file("velodyne", ext="bin"), b"")
    return _check(ctx)


def _image_small(ctx: Ctx) -> list[str]:
    _put(ctx.file("image_2", ext="png"), cv2.imencode(".png", np.zeros((120, 400, 3), np.uint8))[1].tobytes())
    return _check(ctx)


def _calib_r0_zero(ctx: Ctx) -> list[str]:
    _replace_line(ctx, "R0_rect", "R0_rect: " + " ".join(["0.0"] * 9) + "\n")
    return _check(ctx)


def _calib_two_p2(ctx: Ctx) -> list[str]:
    p2 = next(line for line in _calib_lines(ctx) if line.startswith("P2:"))
    _put(ctx.file("calib"), "".join(_calib_lines(ctx)) + p2)
    return _check(ctx)


def _visualize_bad_calib(ctx: Ctx) -> list[str]:
    _replace_line(ctx, "P2", "P2: 1 2 three\n")
    return ["--root", str(ctx.root), "--frames", str(ctx.train), "--out", str(ctx.tmp / "renders")]


def _visualize_set(ctx: Ctx, corrupt: Callable[[Path], None]) -> list[str]:
    path = _write_set(ctx.tmp / "frustums_val.npz")
    corrupt(path)
    return ["--root", str(ctx.root), "--frustum-set", str(path), "--out", str(ctx.tmp / "renders")]


def _class_id_out_of_range(path: Path) -> None:
    _write_set(path, class_id=7)


def _eval(ctx: Ctx, preds: Path, *extra: str) -> list[str]:
    return ["--gt-dir", str(ctx.root / "training" / "label_2"), "--pred-dir", str(preds),
            "--split", str(ctx.root / "ImageSets" / "val.txt"), *extra]


def _eval_pred_is_dir(ctx: Ctx) -> list[str]:
    (ctx.tmp / "pred" / f"{ctx.val:06d}.txt").mkdir(parents=True)
    return _eval(ctx, ctx.tmp / "pred")


def _eval_json_is_dir(ctx: Ctx) -> list[str]:
    (ctx.tmp / "pred").mkdir()
    (ctx.tmp / "result.json").mkdir()
    return _eval(ctx, ctx.tmp / "pred", "--json", str(ctx.tmp / "result.json"))


def _eval_gt_inverted(ctx: Ctx) -> list[str]:
    (ctx.tmp / "pred").mkdir()
    _put(ctx.file("label_2", ctx.val), _label_line(300, 150, 200, 250))
    return _eval(ctx, ctx.tmp / "pred")


def _train_truncated_set(ctx: Ctx) -> list[str]:
    path = _write_set(ctx.tmp / "frustums_train.npz")
    _truncate(path)
    return ["--config", str(REPO / "configs/demo.yaml"), "--frustums", str(path), "--output", str(ctx.tmp / "stage"),
            "--gpu", "-1"]


def _train_output_file(ctx: Ctx) -> list[str]:
    path = _write_set(ctx.tmp / "frustums_train.npz")
    _put(ctx.tmp / "stage", "a file\n")
    return ["--config", str(REPO / "configs/demo.yaml"), "--frustums", str(path), "--output", str(ctx.tmp / "stage"),
            "--gpu", "-1"]


def _test_net(ctx: Ctx, weights: Path) -> list[str]:
    return ["--weights", str(weights), "--frustums", str(ctx.tmp / "none.npz"), "--data", str(ctx.root),
            "--output", str(ctx.tmp / "val"), "--gpu", "-1"]


def _frustums_inverted_label(ctx: Ctx) -> list[str]:
    _put(ctx.file("label_2"), _label_line(300, 150, 200, 250))
    return ["--data", str(ctx.root), "--output", str(ctx.tmp / "stage"), "--split", "train", "--set", "train",
            "--workers", "2"]  # a worker process raises: the error crosses the process boundary (picklable)


def _output_file(ctx: Ctx) -> list[str]:
    _put(ctx.tmp / "out", "a file\n")
    return _pipeline(ctx)


def _empty_val(ctx: Ctx) -> list[str]:
    _put(ctx.root / "ImageSets" / "val.txt", "")
    return _pipeline(ctx)


def _config_dir(ctx: Ctx) -> list[str]:
    (ctx.tmp / "configs").mkdir()
    return _pipeline(ctx, config=str(ctx.tmp / "configs"))


def _p2(ctx: Ctx, **changes: float) -> None:
    """Replace entries of P2 (``fu``, ``fv``, ``cu``, ``cv`` or ``row2`` = the whole third row set to 0)."""
    values = next(line for line in _calib_lines(ctx) if line.startswith("P2:")).split()[1:]
    for key, index in (("fu", 0), ("fv", 5), ("cu", 2), ("cv", 6)):
        if key in changes:
            values[index] = repr(changes[key])
    if "row2" in changes:
        values[8:12] = ["0"] * 4
    _replace_line(ctx, "P2", "P2: " + " ".join(values) + "\n")


def _geo(ctx: Ctx) -> list[str]:
    return ["--data", str(ctx.root), "--split", "train", "--output", str(ctx.tmp / "geo"), "--workers", "1"]


def _geo_label(ctx: Ctx, line: str) -> list[str]:
    _put(ctx.file("label_2"), line)
    return _geo(ctx)


def _geo_tiny_image(ctx: Ctx) -> list[str]:
    _put(ctx.file("image_2", ext="png"), cv2.imencode(".png", np.zeros((1, 1, 3), np.uint8))[1].tobytes())
    return _geo(ctx)


def _two_problems(ctx: Ctx) -> list[str]:
    _put(ctx.file("label_2"), _label_line(100, 150, 200, 150))
    _put(ctx.file("velodyne", ext="bin"), b"")
    return _check(ctx)


def _extract(ctx: Ctx, *extra: str, config: str | None = None) -> list[str]:
    argv = ["--data", str(ctx.root), "--output", str(ctx.tmp / "stage"), "--workers", "1", *extra]
    if config is not None:
        _put(ctx.tmp / "data.yaml", config)
        argv += ["--data-config", str(ctx.tmp / "data.yaml")]
    return argv


def _data_config_path(ctx: Ctx, kind: str) -> list[str]:
    path = ctx.tmp / "data.yaml"
    if kind == "binary":
        _put(path, b"frustums:\n  copies: \xff\xfe\n")
    elif kind == "dir":
        path.mkdir()
    else:  # a symbolic link loop
        path.symlink_to(ctx.tmp / "loop.yaml")
        (ctx.tmp / "loop.yaml").symlink_to(path)
    return ["--data", str(ctx.root), "--output", str(ctx.tmp / "stage"), "--data-config", str(path)]


#: a 300-byte YAML alias bomb: 9 ** 9 leaves once expanded
ALIAS_BOMB = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(8)) + \
    "frustums:\n  copies: *i\n"

FLOW_BOMB = "{a: &a [x,x,x,x,x,x,x,x,x], " + ", ".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]" for i in range(8)) + "}"


def _deep(depth: int = 100_000) -> str:
    return "[" * depth + "]" * depth


def _review_with(ctx: Ctx, name: str, content: bytes | str, command: str = "apply") -> list[str]:
    run = _review_run(ctx)
    decisions = _decisions(ctx, run)
    _put(run / "review" / name, content) if name != "decisions" else _put(decisions, content)
    if command == "build":
        (run / "label_2_pseudo" / f"{ctx.train:06d}.txt").write_text("")  # forces a rebuild
        return ["build", "--run", str(run), "--data", str(ctx.root), "--split", "train", "--workers", "1"]
    return ["apply", "--run", str(run), "--decisions", str(decisions), "--out", str(ctx.tmp / "reviewed")]


def _box_id(ctx: Ctx, key: str) -> list[str]:
    run = _review_run(ctx)
    decisions = _decisions(ctx, run)
    content = json.loads(decisions.read_text())
    content["frames"] = {f"{ctx.train:06d}": {"decision": None, "boxes": {key: {"decision": "accept"}}}}
    decisions.write_text(json.dumps(content))
    return ["apply", "--run", str(run), "--decisions", str(decisions), "--out", str(ctx.tmp / "reviewed")]


def _checkpoint_fields(ctx: Ctx, **fields: object) -> list[str]:
    path = _checkpoint(ctx.tmp / "odd.pth")
    state = torch.load(path, weights_only=True)
    state.update(fields)
    torch.save(state, path)
    return _test_net(ctx, path)


ROOT_USER = hasattr(os, "geteuid") and os.geteuid() == 0
LABEL = lambda c: f"label_2/{c.train:06d}.txt:1"  # noqa: E731

CORPUS = [
    # split files
    _row("split-unicode-digit", "kitti.check_dataset", _split_unicode, 2, "ImageSets/train.txt:1"),
    _row("split-not-utf8", "kitti.check_dataset", _split_binary, 2, "ImageSets/train.txt"),
    # depth maps
    _row("depth-strings", "kitti.check_dataset", _depth_strings, 2, lambda c: f"depth_2/{c.train:06d}.npz"),
    _row("depth-sky-shape", "kitti.check_dataset", _depth_sky_shape, 2, lambda c: f"depth_2/{c.train:06d}.npz"),
    _row("depth-truncated", "kitti.check_dataset", _depth_truncated, 2, lambda c: f"depth_2/{c.train:06d}.npz"),
    # data that used to pass kitti.check_dataset
    _row("label-negative-box", "kitti.check_dataset", lambda c: _label(c, _label_line(-40, 150, 200, 250)), 2, LABEL),
    _row("label-inverted-box", "kitti.check_dataset", lambda c: _label(c, _label_line(300, 150, 200, 250)), 2, LABEL),
    _row("velodyne-empty", "kitti.check_dataset", _velodyne_empty, 2, lambda c: f"velodyne/{c.train:06d}.bin"),
    _row("image-wrong-size", "kitti.check_dataset", _image_small, 2, lambda c: f"image_2/{c.train:06d}.png"),
    _row("calib-r0-zero", "kitti.check_dataset", _calib_r0_zero, 2, lambda c: f"calib/{c.train:06d}.txt"),
    _row("calib-two-p2", "kitti.check_dataset", _calib_two_p2, 2,
         lambda c: f"calib/{c.train:06d}.txt:{len(_calib_lines(c))}: P2 given twice"),
    # impossible geometry: refused by the readers, so every command says the same (issue 21 item 7)
    _row("label-zero-area-box", "kitti.check_dataset", lambda c: _label(c, _label_line(100, 150, 200, 150)), 2,
         lambda c: f"label_2/{c.train:06d}.txt:1: 2D box is empty"),
    _row("geometric-zero-area-box", "kitti.geometric_labeller",
         lambda c: _geo_label(c, _label_line(100, 150, 200, 150)), 2,
         lambda c: f"label_2/{c.train:06d}.txt:1: 2D box is empty"),
    _row("geometric-box-outside-image", "kitti.geometric_labeller",
         lambda c: _geo_label(c, _label_line(2000, 100, 2100, 200)), 2, "does not lie in the 1242x375 image"),
    _row("geometric-box-past-the-border", "kitti.geometric_labeller",
         lambda c: _geo_label(c, _label_line(-1e6, 100, 1e6, 200)), 2, "does not lie in the 1242x375 image"),
    _row("frustums-box-outside-image", "kitti.frustum.engine",
         lambda c: (_put(c.file("label_2"), _label_line(2000, 100, 2100, 200)), _extract(c))[1], 2,
         "does not lie in the 1242x375 image"),
    _row("geometric-inverted-box", "kitti.geometric_labeller",
         lambda c: _geo_label(c, _label_line(300, 150, 200, 250)), 2, "x2 < x1"),
    _row("geometric-huge-focal", "kitti.geometric_labeller", lambda c: (_p2(c, fu=1e12, fv=1e12), _geo(c))[1], 2,
         lambda c: f"calib/{c.train:06d}.txt:3: P2: focal lengths"),
    _row("geometric-p2-third-row-zero", "kitti.geometric_labeller", lambda c: (_p2(c, row2=0), _geo(c))[1], 2,
         "expected a rectified camera projection"),
    _row("geometric-negative-principal-point", "kitti.geometric_labeller",
         lambda c: (_p2(c, cu=-600.0), _geo(c))[1], 2, "principal point"),
    _row("geometric-1x1-image", "kitti.geometric_labeller", _geo_tiny_image, 2, "image is 1x1 px"),
    _row("eval-gt-zero-area-box", "kitti.eval",
         lambda c: ((c.tmp / "pred").mkdir(), _put(c.file("label_2", c.val), _label_line(100, 150, 200, 150)),
                    _eval(c, c.tmp / "pred"))[2], 2, "2D box is empty"),
    _row("check-reports-every-problem", "kitti.check_dataset", _two_problems, 2, "(1 of 2 problems"),
    # issue 21: JSON records (one reader: object, UTF-8, bounded depth), ids, configs, arguments
    _row("review-manifest-truncated", "kitti.review", lambda c: _review_with(c, "manifest.json", '{"frames": '), 2,
         "review/manifest.json: not valid JSON"),
    _row("review-manifest-list", "kitti.review", lambda c: _review_with(c, "manifest.json", "[]"), 2,
         "review/manifest.json: expected the review manifest (a JSON object)"),
    _row("review-manifest-not-utf8", "kitti.review", lambda c: _review_with(c, "manifest.json", b"\xff\xfe{}"), 2,
         "review/manifest.json: not UTF-8"),
    _row("review-manifest-unreadable-build", "kitti.review",
         lambda c: _review_with(c, "manifest.json", "[", command="build"), 2, "manifest.json is unreadable"),
    _row("decisions-deeply-nested", "kitti.review", lambda c: _review_with(c, "decisions", _deep()), 2,
         "decisions.json: nested too deeply"),
    _row("decisions-nested-40", "kitti.review",
         lambda c: _review_with(c, "decisions", '{"frames": ' + _deep(40) + "}"), 2, "nested more than 32"),
    _row("review-box-id-superscript", "kitti.review", lambda c: _box_id(c, "\u00b2"), 2, "unknown box id"),
    _row("review-box-id-huge", "kitti.review", lambda c: _box_id(c, "9" * 5000), 2, "unknown box id"),
    _row("checkpoint-config-not-sections", "train.test_net_det",
         lambda c: _checkpoint_fields(c, config={"data": [[1]]}), 2, "odd.pth: malformed"),
    _row("checkpoint-epoch-text", "train.test_net_det", lambda c: _checkpoint_fields(c, epoch="many"), 2,
         "odd.pth: malformed"),
    _row("data-config-not-utf8", "kitti.frustum.engine", lambda c: _data_config_path(c, "binary"), 2,
         "data.yaml: not UTF-8"),
    _row("data-config-is-dir", "kitti.frustum.engine", lambda c: _data_config_path(c, "dir"), 2,
         "data.yaml: is a directory"),
    _row("data-config-symlink-loop", "kitti.frustum.engine", lambda c: _data_config_path(c, "loop"), 2,
         "data.yaml: cannot be read"),
    _row("data-config-alias-bomb", "kitti.frustum.engine", lambda c: _extract(c, config=ALIAS_BOMB), 2,
         "expands to more than"),
    _row("data-config-nan-height", "kitti.frustum.engine",
         lambda c: _extract(c, config="frustums:\n  min_height_px: .nan\n"), 2, "frustums.min_height_px: expected a"),
    _row("data-config-huge-copies", "kitti.frustum.engine",
         lambda c: _extract(c, config=f"frustums:\n  copies: {10**30}\n"), 2, "frustums.copies: expected a finite"),
    _row("data-config-inf-jitter", "kitti.frustum.engine",
         lambda c: _extract(c, config="refine:\n  jitter: .inf\n"), 2, "refine.jitter"),
    _row("extractor-negative-copies", "kitti.frustum.engine", lambda c: _extract(c, "--copies", "-5"), 2,
         "--copies -5: expected a value in 1..100"),
    _row("extractor-nan-min-height", "kitti.frustum.engine", lambda c: _extract(c, "--min-height", "nan"), 2,
         "--min-height nan"),
    _row("extractor-trusted-score-nan", "kitti.frustum.engine", lambda c: _extract(c, "--trusted-min-score", "nan"),
         2, "--trusted-min-score nan"),
    _row("refine-negative-copies", "kitti.prepare_data_refine",
         lambda c: _extract(c, "--pseudo-dir", str(c.tmp), "--copies", "0"), 2, "--copies 0"),
    _row("override-nan-lr", "train.pipeline", lambda c: _pipeline(c, "train.lr=.nan"), 2,
         "train.lr: expected a finite"),
    _row("override-alias-bomb", "train.pipeline", lambda c: _pipeline(c, "train.lr_steps=" + FLOW_BOMB), 2,
         "expands to more than"),
    _row("config-alias-bomb", "train.pipeline",
         lambda c: (_put(c.tmp / "bomb.yaml", ALIAS_BOMB.replace("frustums:\n  copies: *i", "train: {}")),
                    _pipeline(c, config=str(c.tmp / "bomb.yaml")))[1], 2, "bomb.yaml: not valid YAML"),
    _row("synthetic-zero-frames", "kitti.synthetic", lambda c: ["--out", str(c.tmp / "w"), "--frames", "0"], 2,
         "--frames 0"),
    _row("synthetic-val-fraction-2", "kitti.synthetic",
         lambda c: ["--out", str(c.tmp / "w"), "--frames", "2", "--val-fraction", "2"], 2, "--val-fraction 2.0"),
    _row("synthetic-val-fraction-nan", "kitti.synthetic",
         lambda c: ["--out", str(c.tmp / "w"), "--frames", "2", "--val-fraction", "nan"], 2, "--val-fraction nan"),
    _row("demo-zero-frames", "train.pipeline", lambda c: _pipeline(c, "--demo", "--frames", "0"), 2, "--frames"),
    _row("geometric-output-is-file", "kitti.geometric_labeller",
         lambda c: (_put(c.tmp / "f", "x"), _geo(c)[:-3] + [str(c.tmp / "f"), "--workers", "1"])[1], 2,
         "f: is not a directory"),
    _row("apply-out-is-file", "kitti.review", lambda c: (_put(c.tmp / "f", "x"), _apply(c, c.tmp / "f"))[1], 2,
         "f: is not a directory"),
    _row("review-dir-is-file", "kitti.review", lambda c: (
        _review_run(c), __import__("shutil").rmtree(c.tmp / "run" / "review"), _put(c.tmp / "run" / "review", "x"),
        ["build", "--run", str(c.tmp / "run"), "--data", str(c.root), "--workers", "1"])[3], 2,
        "review: is not a directory"),
    _row("review-summary-deeply-nested", "kitti.review", lambda c: (
        _review_run(c), _put(c.tmp / "run" / "summary.json", '{"run": ' + _deep() + "}"),
        ["build", "--run", str(c.tmp / "run"), "--workers", "1"])[2], 2, "data/kitti/training: not a directory"),
    # kitti.visualize (it had no error handler)
    _row("visualize-bad-calib", "kitti.visualize", _visualize_bad_calib, 2, lambda c: f"calib/{c.train:06d}.txt:3"),
    _row("visualize-truncated-set", "kitti.visualize", lambda c: _visualize_set(c, _truncate), 2, "frustums_val.npz"),
    _row("set-class-id-out-of-range", "kitti.visualize", lambda c: _visualize_set(c, _class_id_out_of_range), 2,
         "frustums_val.npz"),
    # kitti.eval
    _row("eval-prediction-is-dir", "kitti.eval", _eval_pred_is_dir, 2, lambda c: f"pred/{c.val:06d}.txt"),
    _row("eval-json-is-dir", "kitti.eval", _eval_json_is_dir, 2, "result.json"),
    _row("eval-gt-inverted-box", "kitti.eval", _eval_gt_inverted, 2, lambda c: f"label_2/{c.val:06d}.txt:1"),
    # the frustum builders (errors raised in worker processes)
    _row("frustums-inverted-label", "kitti.frustum.engine", _frustums_inverted_label, 2, LABEL),
    # training and inference
    _row("train-truncated-set", "train.train_net_det", _train_truncated_set, 2, "frustums_train.npz"),
    _row("train-output-is-file", "train.train_net_det", _train_output_file, 2, "stage: is not a directory"),
    _row("checkpoint-config-mismatch", "train.test_net_det",
         lambda c: _test_net(c, _checkpoint(c.tmp / "mismatch.pth", mismatch=True)), 2, "mismatch.pth"),
    _row("checkpoint-pickled", "train.test_net_det",
         lambda c: _test_net(c, _checkpoint(c.tmp / "evil.pth", pickled=True)), 2, "evil.pth: refused"),
    # the pipeline: overrides, configs, outputs, splits
    _row("override-invalid-yaml", "train.pipeline", lambda c: _pipeline(c, "train.epochs=[1"), 2, "train.epochs=[1"),
    _row("override-yaml-tag", "train.pipeline", lambda c: _pipeline(c, "train.epochs=!!python/name:os.system"), 2,
         "train.epochs=!!python/name:os.system"),
    _row("override-unknown-key", "train.pipeline", lambda c: _pipeline(c, "train.epochz=1"), 2,
         "override(s) train.epochz=1: unknown key 'train.epochz'"),
    _row("override-negative-epochs", "train.pipeline", lambda c: _pipeline(c, "train.epochs=-3"), 2, "train.epochs"),
    _row("override-zero-samples", "train.pipeline", lambda c: _pipeline(c, "data.num_samples=0"), 2,
         "data.num_samples"),
    _row("config-is-dir", "train.pipeline", _config_dir, 2, "configs: is a directory"),
    _row("output-is-file", "train.pipeline", _output_file, 2, "out: is not a directory"),
    _row("output-read-only", "train.pipeline", lambda c: _pipeline(c, output=_read_only(c.tmp / "ro") / "out"), 2,
         "ro: is not writable", marks=(pytest.mark.skipif(ROOT_USER, reason="root writes anywhere"),)),
    _row("output-inside-data", "train.pipeline", lambda c: _pipeline(c, output=c.root / "output"), 2,
         "lies inside the data set"),
    _row("output-is-data", "train.pipeline", lambda c: _pipeline(c, output=c.root), 2, "lies inside the data set"),
    _row("val-split-empty", "train.pipeline", _empty_val, 2, "ImageSets/val.txt"),
    # the synthetic generator
    _row("synthetic-into-kitti-root", "kitti.synthetic",
         lambda c: ["--out", str(c.root), "--frames", "1", "--workers", "1"], 2, "not made by kitti.synthetic"),
    _row("synthetic-into-file", "kitti.synthetic",
         lambda c: (_put(c.tmp / "f", "x"), ["--out", str(c.tmp / "f"), "--frames", "1"])[1], 2, "f: is not a dir"),
]


def _main(module: str) -> Callable[[Sequence[str]], int]:
    import importlib
    try:
        return importlib.import_module(f"{module}.__main__").main
    except ModuleNotFoundError:
        return importlib.import_module(module).main


@pytest.fixture
def ctx(world: Path, tmp_path: Path) -> Ctx:
    root = _clone(world, tmp_path / "kitti")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    return Ctx(root, scratch, read_split(root / "ImageSets" / "train.txt")[0],
               read_split(root / "ImageSets" / "val.txt")[0])


@pytest.mark.parametrize("module, setup, code, names", CORPUS)
def test_bad_input(module: str, setup: Setup, code: int, names: Callable[[Ctx], str] | str, ctx: Ctx,
                   capsys: pytest.CaptureFixture) -> None:
    argv = list(setup(ctx))
    assert _main(module)(argv) == code
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in err, err
    expected = names(ctx) if callable(names) else names
    assert expected in errors[0], errors[0]
    assert "weights_only=False" not in err


def test_unexpected_errors_keep_their_traceback(monkeypatch: pytest.MonkeyPatch, ctx: Ctx) -> None:
    """Only input errors become an ``error:`` line: a bug (here a ValueError inside the reader) propagates."""
    import kitti.check_dataset as check

    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("a bug, not an input error")
    monkeypatch.setattr(check, "collect_stats", broken)
    with pytest.raises(ValueError, match="a bug"):
        check.main(_check(ctx))


def test_input_errors_pickle() -> None:
    for error in (KittiFormatError("a/b.txt", "bad", 3), CheckpointError("m.pth", "refused"), InputError("plain"),
                  OutputDirError("out", "is a file")):
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error) and str(copy) == str(error)


def test_inverted_predicted_box_is_counted_not_fatal(ctx: Ctx, capsys: pytest.CaptureFixture) -> None:
    """The official protocol accepts a detector's inverted 2D box (no 2D overlap): a counting warning, exit 0."""
    from kitti.eval.__main__ import main
    _put(ctx.tmp / "pred" / f"{ctx.val:06d}.txt", _label_line(300, 150, 200, 250).rstrip() + " 0.9\n"
         + _label_line(100, 150, 200, 250).rstrip() + " 0.8\n")
    assert main(_eval(ctx, ctx.tmp / "pred")) == 0
    assert "warning: 1 predicted 2D boxes with x2 < x1 or y2 < y1 in 1 files" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------------------------
# data loss: nothing of the user's, nothing of a finished stage, is lost


def test_synthetic_never_writes_into_a_foreign_directory(kitti_like: Path, capsys: pytest.CaptureFixture) -> None:
    from kitti.synthetic.__main__ import main
    before = _digests(kitti_like)
    assert main(["--out", str(kitti_like), "--frames", "2", "--workers", "1"]) == 2
    assert "not made by kitti.synthetic" in capsys.readouterr().err
    assert _digests(kitti_like) == before


@pytest.fixture
def kitti_like(world: Path, tmp_path: Path) -> Path:
    """A real copy (no symlinks) of one frame of a KITTI root without a synthetic manifest: the user's data."""
    root = tmp_path / "user_kitti"
    for kind, ext in (("calib", "txt"), ("image_2", "png"), ("label_2", "txt"), ("velodyne", "bin")):
        _put(root / "training" / kind / f"000000.{ext}", (world / "training" / kind / f"000000.{ext}").read_bytes())
    _put(root / "ImageSets" / "train.txt", "000000\n")
    return root


@pytest.mark.parametrize("extra, config", [
    (("train.epochz=1",), "configs/demo.yaml"),
    (("train.epochs=oops",), "configs/demo.yaml"),
    ((), "BAD_YAML"),
])
def test_bad_rerun_keeps_a_finished_stage(ctx: Ctx, extra: tuple[str, ...], config: str,
                                          capsys: pytest.CaptureFixture) -> None:
    from train.pipeline.__main__ import main
    stage = step_dir(ctx.tmp / "out", 0, 100)
    before = _finished_stage(stage)
    if config == "BAD_YAML":
        _put(ctx.tmp / "bad.yaml", "train: {epochs: [1\n")
        config = str(ctx.tmp / "bad.yaml")
    assert main(_pipeline(ctx, *extra, config=config)) == 2
    assert capsys.readouterr().err.startswith("error:")
    assert _digests(stage) == before
    assert sorted(p.name for p in stage.parent.iterdir()) == [stage.name]  # nothing written beside it either


def test_failed_rebuild_keeps_the_finished_stage(ctx: Ctx, capsys: pytest.CaptureFixture) -> None:
    """Inputs changed (another fingerprint) and the rebuild fails in its data phase: the finished stage is intact;
    the failed rebuild lies beside it."""
    from train.pipeline.__main__ import main
    stage = step_dir(ctx.tmp / "out", 0, 100)
    before = _finished_stage(stage, "f" * 64)
    _put(ctx.file("label_2"), "Car 0.00 0 -1.57 not numbers\n")  # only the data phases read it
    # with trusted geometric fits (the default) the geometric stage reads the labels first and fails
    assert main(_pipeline(ctx)) == 2
    err = capsys.readouterr().err
    assert "error: geometric failed" in err and f"label_2/{ctx.train:06d}.txt:1" in err
    assert _digests(stage) == before
    # ALPI as published: the step's own data phase fails, beside the finished stage
    assert main(_pipeline(ctx, "--trusted-fits", "none")) == 2
    err = capsys.readouterr().err
    assert "error: frustums failed" in err and f"label_2/{ctx.train:06d}.txt:1" in err
    assert _digests(stage) == before
    assert (stage.parent / (stage.name + REBUILD_SUFFIX) / MANIFEST).is_file()


def test_rebuild_replaces_the_stage_only_when_finished(tmp_path: Path) -> None:
    stage = tmp_path / "carpedcyc_step_00"
    before = _finished_stage(stage, "a" * 64)
    work = _prepare(stage, stage.name, "b" * 64, force=False)
    assert work is not None and work != stage and _digests(stage) == before
    _put(work / "model_final.pth", "new weights\n")
    _promote(work, stage)
    assert not work.exists() and (stage / "model_final.pth").read_text() == "new weights\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [stage.name]


def test_corrupt_stage_output_is_detected_not_skipped(tmp_path: Path) -> None:
    stage = tmp_path / "carpedcyc_step_00"
    before = _finished_stage(stage, "c" * 64)
    assert _prepare(stage, stage.name, "c" * 64, force=False) is None  # intact: skipped
    _truncate(stage / "frustums_train.npz")
    manifest = read_manifest(stage)
    assert manifest is not None and changed_outputs(stage, manifest) == ["frustums_train.npz"]
    work = _prepare(stage, stage.name, "c" * 64, force=False)
    assert work == stage.parent / (stage.name + REBUILD_SUFFIX)
    assert set(_digests(stage)) == set(before)  # the old stage is untouched until the rebuild finishes
    with pytest.raises(KittiFormatError, match="frustums_train.npz: not a readable frustum set .npz"):
        read_npz(stage / "frustums_train.npz", "frustum set")


def test_corrupt_frustum_set_is_rebuilt_not_up_to_date(tmp_path: Path) -> None:
    path = tmp_path / "frustums_train.npz"
    write_frustum_set(path, [_sample()], {}, inputs={"a": 1})
    manifest = json.loads(manifest_path(path).read_text())
    assert is_complete(path, manifest["inputs"])
    _truncate(path)
    assert not is_complete(path, manifest["inputs"])


@pytest.mark.parametrize("content", [b"[]", b"\xff\xfe\x00garbage", b"{\"status\": ", b"null"])
def test_unreadable_stage_manifest_means_rebuild(tmp_path: Path, content: bytes) -> None:
    stage = tmp_path / "carpedcyc_step_00"
    before = _finished_stage(stage, "d" * 64)
    _put(stage / MANIFEST, content)
    assert read_manifest(stage) is None
    work = _prepare(stage, stage.name, fingerprint({}, {}), force=False)
    assert work == stage.parent / (stage.name + REBUILD_SUFFIX)
    assert {k: v for k, v in _digests(stage).items() if k != MANIFEST} == \
        {k: v for k, v in before.items() if k != MANIFEST}


def test_atomic_writes_honour_the_umask(tmp_path: Path) -> None:
    from kitti.atomic import atomic_write_text
    mask = os.umask(0o022)
    os.umask(mask)
    atomic_write_text(tmp_path / "labels.txt", "x\n")
    assert (tmp_path / "labels.txt").stat().st_mode & 0o777 == 0o666 & ~mask != 0o600


# ---------------------------------------------------------------------------------------------------------------
# issue 21: a command deletes or replaces only files it wrote itself (its manifest lists them); it refuses an
# output that holds other files, an output inside the data set, and links leading out of the output. Every case
# hashes the user's files before and after.


def _geometric(ctx: Ctx, output: Path | str, split: str = "train") -> list[str]:
    return ["--data", str(ctx.root), "--split", split, "--output", str(output), "--workers", "1"]


def _review_run(ctx: Ctx) -> Path:
    """A run with fake final labels on the clone and its review page built."""
    from kitti.review.build import build_review
    from tests.kitti.review.fake_run import make_fake_run
    run = ctx.tmp / "run"
    make_fake_run(ctx.root, run, seed=1)
    build_review(run, ctx.root, split="train", workers=1)
    return run


def _decisions(ctx: Ctx, run: Path) -> Path:
    review_id = json.loads((run / "review" / "manifest.json").read_text())["review_id"]
    path = ctx.tmp / "decisions.json"
    path.write_text(json.dumps({"format": "kitti-review-decisions", "version": 1, "review_id": review_id,
                                "frames": {}}))
    return path


def _apply(ctx: Ctx, out: Path) -> list[str]:
    run = _review_run(ctx)
    return ["apply", "--run", str(run), "--decisions", str(_decisions(ctx, run)), "--out", str(out),
            "--keep-undecided"]


def _notes(ctx: Ctx) -> Path:
    notes = ctx.tmp / "notes"
    _put(notes / "todo.txt", "call the lab\n")
    _put(notes / "plan.md", "# plan\n")
    return notes


def _repo_like(ctx: Ctx, monkeypatch: pytest.MonkeyPatch) -> str:
    """``--output .`` from a folder like the repository's root (requirements.txt)."""
    repo = ctx.tmp / "repo"
    _put(repo / "requirements.txt", "numpy\n")
    _put(repo / "requirements-test.txt", "pytest\n")
    monkeypatch.chdir(repo)
    return "."


def _linked_final_labels(ctx: Ctx) -> list[str]:
    out = ctx.tmp / "out"
    out.mkdir()
    (out / "label_2_pseudo").symlink_to(ctx.root / "training" / "label_2")
    return _pipeline(ctx, output=out)


def _linked_stage_inside(ctx: Ctx) -> list[str]:
    out = ctx.tmp / "out"
    _put(out / "label_2_pseudo" / "000000.txt", "final labels\n")
    (out / "geometric_labels").symlink_to(out / "label_2_pseudo")
    return _pipeline(ctx, output=out)


def _linked_review_frames(ctx: Ctx) -> list[str]:
    run = _review_run(ctx)
    photos = ctx.tmp / "photos"
    _put(photos / f"{ctx.train:06d}.jpg", b"holiday photo")
    _put(photos / "999999.js", "my script\n")
    import shutil
    shutil.rmtree(run / "review" / "frames")
    (run / "review" / "frames").symlink_to(photos)
    return ["build", "--run", str(run), "--data", str(ctx.root), "--split", "train", "--workers", "1"]


def _foreign_review_frames(ctx: Ctx) -> list[str]:
    run = _review_run(ctx)
    _put(run / "review" / "frames" / "holiday.jpg", b"a photo the user put there")
    return ["build", "--run", str(run), "--data", str(ctx.root), "--split", "train", "--workers", "1"]


def _tampered_review_manifest(ctx: Ctx) -> list[str]:
    run = _review_run(ctx)
    path = run / "review" / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["frames"]["../../evil"] = {"sha256": None, "boxes": 0}
    path.write_text(json.dumps(manifest))
    return ["apply", "--run", str(run), "--decisions", str(_decisions(ctx, run)), "--out", str(ctx.tmp / "out" / "a")]


def _photos(ctx: Ctx) -> Path:
    """A folder of the user's pictures, one named like a render."""
    photos = ctx.tmp / "photos"
    _put(photos / f"{ctx.train:06d}.png", b"holiday photo")
    return photos


def _report_over(ctx: Ctx, command: str, path: Path) -> list[str]:
    """``--json`` of a reporting command pointed at ``path`` (a file of the user's, or a path among the data)."""
    preds = ctx.tmp / "pred"
    _put(preds / f"{ctx.val:06d}.txt", _label_line(100, 150, 200, 250).rstrip("\n") + " 0.9\n")
    if command == "check_dataset":
        return _check(ctx, "--json", str(path))
    return _eval(ctx, preds, "--json", str(path))


# (name, module, setup -> (argv, protected folder), error text)
LOSS = [
    ("geometric-into-label_2", "kitti.geometric_labeller",
     lambda c, m: (_geometric(c, c.root / "training" / "label_2"), c.root), "lies inside the data set"),
    ("geometric-into-imagesets", "kitti.geometric_labeller",
     lambda c, m: (_geometric(c, c.root / "ImageSets"), c.root), "lies inside the data set"),
    ("geometric-into-notes", "kitti.geometric_labeller",
     lambda c, m: (_geometric(c, _notes(c)), c.tmp / "notes"), "holds 1 file(s) this command did not write"),
    ("geometric-into-repo-root", "kitti.geometric_labeller",
     lambda c, m: (_geometric(c, _repo_like(c, m)), c.tmp / "repo"), "requirements-test.txt, requirements.txt"),
    ("apply-into-label_2", "kitti.review", lambda c, m: (_apply(c, c.root / "training" / "label_2"), c.root),
     "lies inside the data set"),
    ("apply-over-reviewed-labels", "kitti.review",
     lambda c, m: (_apply(c, c.tmp / "run" / "label_2_pseudo"), c.tmp / "run" / "label_2_pseudo"),
     "the label folder under review"),
    ("apply-into-notes", "kitti.review", lambda c, m: (_apply(c, _notes(c)), c.tmp / "notes"),
     "this command did not write"),
    ("apply-tampered-frame-name", "kitti.review", lambda c, m: (_tampered_review_manifest(c), c.tmp),
     "'../../evil' is not a frame id"),
    ("pipeline-linked-final-labels", "train.pipeline", lambda c, m: (_linked_final_labels(c), c.root),
     "label_2_pseudo: is a symbolic link leading out of"),
    ("pipeline-stage-linked-inside-output", "train.pipeline", lambda c, m: (_linked_stage_inside(c), c.tmp / "out"),
     "geometric_labels: is a symbolic link inside"),
    ("review-linked-frames", "kitti.review", lambda c, m: (_linked_review_frames(c), c.tmp / "photos"),
     "frames: is a symbolic link"),
    ("review-foreign-frames", "kitti.review", lambda c, m: (_foreign_review_frames(c), c.tmp / "run" / "review"),
     "holiday.jpg"),
    ("eval-json-over-a-label", "kitti.eval",
     lambda c, m: (_report_over(c, "eval", c.file("label_2", c.val)), c.root), "--json"),
    ("eval-json-over-notes", "kitti.eval",
     lambda c, m: (_report_over(c, "eval", _notes(c) / "todo.txt"), c.tmp / "notes"), "is not a JSON report"),
    ("diagnose-json-into-calib", "kitti.eval.diagnose",
     lambda c, m: (_report_over(c, "diagnose", c.file("calib")), c.root), "--json"),
    ("visualize-into-image_2", "kitti.visualize",
     lambda c, m: (["--root", str(c.root), "--frames", str(c.train), "--out", str(c.root / "training" / "image_2")],
                   c.root), "lies inside the data set"),
    ("visualize-into-photos", "kitti.visualize",
     lambda c, m: (["--root", str(c.root), "--frames", str(c.train), "--out", str(_photos(c))], c.tmp / "photos"),
     "this command did not write"),
    ("extractor-into-training", "kitti.frustum_extractor",
     lambda c, m: (["--data", str(c.root), "--output", str(c.root / "training"), "--workers", "1"], c.root),
     "lies inside the data set"),
    ("check-json-into-data", "kitti.check_dataset",
     lambda c, m: (_report_over(c, "check_dataset", c.root / "ImageSets" / "stats.json"), c.root), "lies inside"),
]


@pytest.mark.parametrize("module, setup, message", [pytest.param(m, s, t, id=n) for n, m, s, t in LOSS])
def test_no_data_loss(module: str, setup: Callable, message: str, ctx: Ctx, monkeypatch: pytest.MonkeyPatch,
                      capsys: pytest.CaptureFixture) -> None:
    argv, protected = setup(ctx, monkeypatch)
    before, data_before = _digests(protected), _digests(ctx.root)
    capsys.readouterr()
    assert _main(module)(argv) == 2
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in err, err
    assert message in errors[0], errors[0]
    assert _digests(protected) == before
    assert _digests(ctx.root) == data_before
    assert not list(ctx.tmp.parent.rglob("evil*"))  # nothing written outside the named output


def test_geometric_rerun_replaces_only_its_own_files(ctx: Ctx, monkeypatch: pytest.MonkeyPatch) -> None:
    """Interrupted (here: an exception after the first frame, as SIGKILL leaves it), the rerun finishes to the
    labels of an uninterrupted run; another split then removes only the files the manifest lists; a file the user
    adds is refused, not deleted."""
    import kitti.geometric.run as run
    from kitti.geometric_labeller import main
    reference, out = ctx.tmp / "reference", ctx.tmp / "out"
    assert main(_geometric(ctx, reference)) == 0
    real_label_one, calls = run.label_one, []

    def dying(cfg: object, frame: int) -> object:
        if calls:
            raise KeyboardInterrupt  # killed after the first frame
        calls.append(frame)
        return real_label_one(cfg, frame)
    monkeypatch.setattr(run, "label_one", dying)
    with pytest.raises(KeyboardInterrupt):
        main(_geometric(ctx, out))
    assert json.loads((out / "geometric_manifest.json").read_text())["status"] == "running"
    monkeypatch.setattr(run, "label_one", real_label_one)
    assert main(_geometric(ctx, out)) == 0
    labels = lambda d: {p.name: p.read_bytes() for p in d.glob("*.txt")}  # noqa: E731
    assert labels(out) == labels(reference) and labels(out)
    assert main(_geometric(ctx, out, split="val")) == 0  # other inputs: the train files (ours) are removed
    assert sorted(labels(out)) == [f"{f:06d}.txt" for f in read_split(ctx.root / "ImageSets" / "val.txt")]
    _put(out / "mine.txt", "the user's\n")
    assert main(_geometric(ctx, out, split="train")) == 2
    assert (out / "mine.txt").read_text() == "the user's\n"


@pytest.mark.parametrize("content", [b"[]", b"\xff\xfe", b"{\"inputs\": ", b"{}"])
def test_geometric_unreadable_manifest_is_one_error(ctx: Ctx, content: bytes, capsys: pytest.CaptureFixture) -> None:
    from kitti.geometric_labeller import main
    out = ctx.tmp / "out"
    assert main(_geometric(ctx, out)) == 0
    before = _digests(out)
    _put(out / "geometric_manifest.json", content)
    capsys.readouterr()
    assert main(_geometric(ctx, out)) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {out}: its manifest is unreadable") and err.count("\n") == 1, err
    assert {k: v for k, v in _digests(out).items() if k != "geometric_manifest.json"} == \
        {k: v for k, v in before.items() if k != "geometric_manifest.json"}


def test_review_build_interrupted_then_rerun(ctx: Ctx, monkeypatch: pytest.MonkeyPatch) -> None:
    """A build killed after its first frame (an exception here; SIGKILL leaves the same files plus hidden
    temporaries) reruns to the same page; frames a later build no longer shows are removed, nothing else."""
    from kitti.review import build, export
    from kitti.review.build import build_review
    from tests.kitti.review.fake_run import make_fake_run
    reference, run = ctx.tmp / "reference", ctx.tmp / "run"
    make_fake_run(ctx.root, reference, seed=1)
    make_fake_run(ctx.root, run, seed=1)
    build_review(reference, ctx.root, workers=1)
    real, calls = export.export_frame, []

    def dying(inputs: object, frame: int) -> object:
        if calls:
            raise KeyboardInterrupt
        calls.append(frame)
        return real(inputs, frame)
    monkeypatch.setattr(export, "export_frame", dying)
    with pytest.raises(KeyboardInterrupt):
        build_review(run, ctx.root, workers=1)
    _put(run / "review" / "frames" / f".{ctx.train:06d}.jpg.x1y2.tmp", b"half")
    monkeypatch.setattr(export, "export_frame", real)
    build_review(run, ctx.root, workers=1)
    frames = lambda r: {p.name: p.read_bytes() for p in (r / "review" / "frames").glob("[0-9]*")}  # noqa: E731
    assert frames(run) == frames(reference) and frames(run)
    manifest = json.loads((run / "review" / "manifest.json").read_text())
    assert manifest["frames"] == json.loads((reference / "review" / "manifest.json").read_text())["frames"]
    build_review(run, ctx.root, split="val", workers=1)
    val = {f"{f:06d}" for f in read_split(ctx.root / "ImageSets" / "val.txt")}
    assert {name.split(".")[0].removesuffix("_bev") for name in frames(run)} == val
    assert build.MANIFEST == "manifest.json"


def test_apply_rerun_replaces_only_its_own_files(ctx: Ctx) -> None:
    from kitti.review.__main__ import main
    out = ctx.tmp / "reviewed"
    argv = _apply(ctx, out)
    assert main(argv) == 0 and main(argv) == 0  # its own files: replaced
    written = sorted(p.name for p in out.glob("*.txt"))
    assert written == [f"{f:06d}.txt" for f in read_split(ctx.root / "ImageSets" / "train.txt")]
    _put(out / "notes.txt", "mine\n")
    assert main(argv) == 2 and (out / "notes.txt").read_text() == "mine\n"


def test_publish_keeps_a_record_and_refuses_foreign_or_linked_folders(tmp_path: Path) -> None:
    from kitti.io.labels import write_labels
    from train.pipeline.fusion import PUBLISHED, final_labels_intact, publish_fused
    learned, target = tmp_path / "learned", tmp_path / "out" / "label_2_pseudo"
    write_labels(learned / "000001.txt", [])
    write_labels(learned / "000002.txt", [])
    publish_fused(learned, None, target, 0.5)
    assert final_labels_intact(target) and (target / PUBLISHED).is_file()
    (target / "000002.txt").unlink()
    assert not final_labels_intact(target)
    publish_fused(learned, None, target, 0.5)
    assert final_labels_intact(target)
    (learned / "000002.txt").unlink()  # a stale file of ours is removed
    publish_fused(learned, None, target, 0.5)
    assert sorted(p.name for p in target.glob("*.txt")) == ["000001.txt"]
    user = tmp_path / "user_labels"
    _put(user / "000001.txt", "the user's\n")
    with pytest.raises(OutputDirError, match="did not write"):
        publish_fused(learned, None, user, 0.5)
    linked = tmp_path / "out2" / "label_2_pseudo"
    linked.parent.mkdir()
    linked.symlink_to(user)
    with pytest.raises(OutputDirError, match="is a symbolic link"):
        publish_fused(learned, None, linked, 0.5)
    assert (user / "000001.txt").read_text() == "the user's\n"


def test_lock_in_the_way_is_one_error(ctx: Ctx, capsys: pytest.CaptureFixture) -> None:
    from train.pipeline.__main__ import main
    (ctx.tmp / "out" / ".lock").mkdir(parents=True)
    assert main(_pipeline(ctx)) == 2
    assert ".lock: cannot be used as the run's lock file" in capsys.readouterr().err


def test_json_reader_refuses_what_is_not_a_bounded_object(tmp_path: Path) -> None:
    from kitti.atomic import read_json_object, read_json_or_none
    cases = {"list.json": b"[]", "latin1.json": b"{\"a\": \"\xe9\"}", "deep.json": _deep().encode(),
             "deep40.json": b'{"a": ' + _deep(40).encode() + b"}", "truncated.json": b'{"a": '}
    for name, content in cases.items():
        _put(tmp_path / name, content)
        with pytest.raises(KittiFormatError, match=name):
            read_json_object(tmp_path / name, "a record")
        assert read_json_or_none(tmp_path / name) is None
    (tmp_path / "dir.json").mkdir()
    with pytest.raises(KittiFormatError, match="dir.json: is a directory"):
        read_json_object(tmp_path / "dir.json", "a record")
    _put(tmp_path / "ok.json", '{"a": [[1]]}')
    assert read_json_object(tmp_path / "ok.json", "a record") == {"a": [[1]]}


def test_train_log_and_model_config_are_checked(tmp_path: Path) -> None:
    from kitti.depth.da3_model import ModelError, _read_model_name
    from train.train_net_det import _read_log
    _put(tmp_path / "train_log.jsonl", '{"epoch": 0}\n[1]\n')
    with pytest.raises(KittiFormatError, match="train_log.jsonl:2: expected a training log record"):
        _read_log(tmp_path / "train_log.jsonl", 5)
    _put(tmp_path / "train_log.jsonl", '{"epoch": 0}\n{"epoch": "1"}\n')
    with pytest.raises(KittiFormatError, match="train_log.jsonl:2: expected an integer 'epoch'"):
        _read_log(tmp_path / "train_log.jsonl", 5)
    _put(tmp_path / "config.json", _deep())
    with pytest.raises(ModelError, match="config.json: nested too deeply"):
        _read_model_name(tmp_path / "config.json")


def test_full_disk_is_an_output_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    from kitti.atomic import atomic_write_text

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OutputDirError, match="labels.txt: cannot be written"):
        atomic_write_text(tmp_path / "labels.txt", "x\n")
    assert list(tmp_path.iterdir()) == []  # no temporary file left


def test_stage_directories_that_are_links_are_never_removed(tmp_path: Path) -> None:
    from train.pipeline.stage_run import _remove_tree
    user = tmp_path / "user"
    _put(user / "precious.txt", "mine\n")
    (tmp_path / "carpedcyc_step_00.rebuild").symlink_to(user)
    with pytest.raises(OutputDirError, match="symbolic link"):
        _remove_tree(tmp_path / "carpedcyc_step_00.rebuild")
    assert (user / "precious.txt").read_text() == "mine\n"


def test_odd_frame_names_are_not_frames(ctx: Ctx, capsys: pytest.CaptureFixture) -> None:
    """Files named like frames with non-ASCII digits (``str.isdigit`` accepts '²') are ignored, not a crash."""
    from kitti.check_dataset import main
    from kitti.outputs import frame_id
    _put(ctx.root / "training" / "calib" / "00000\u00b2.txt", "P2: 1\n")
    assert main(["--root", str(ctx.root)]) == 0
    assert "Traceback" not in capsys.readouterr().err
    assert [frame_id(t) for t in ("000012", "00000\u00b2", "12", "9" * 11, "0012a3")] == [12, None, None, None, None]


def test_final_labels_published_before_records_are_adopted(tmp_path: Path) -> None:
    """A run finished before label_2_pseudo had published.json: its finished refinement stage names the folder as
    its final labels, so the files it published there (same names) are replaced, not refused."""
    from kitti.io.labels import write_labels
    from train.pipeline.fusion import PUBLISHED, publish_fused
    from train.pipeline.stages import TRAIN_DIR, _published_before_records
    stage, target = tmp_path / "carpedcyc_train_refine", tmp_path / "label_2_pseudo"
    write_labels(stage / TRAIN_DIR / "data" / "000001.txt", [])
    publish_fused(stage / TRAIN_DIR / "data", None, target, 0.5)
    (target / PUBLISHED).unlink()  # as an older version left it
    assert _published_before_records(stage, target) == []  # the stage does not name the folder: refused
    with pytest.raises(OutputDirError, match="did not write"):
        publish_fused(stage / TRAIN_DIR / "data", None, target, 0.5)
    StageManifest(stage, stage.name, {}, {}, REPO).finish({"final_labels": str(target)})
    adopt = _published_before_records(stage, target)
    assert adopt == ["000001.txt", "000001.source.json"]
    publish_fused(stage / TRAIN_DIR / "data", None, target, 0.5, adopt=adopt)
    assert (target / PUBLISHED).is_file()
