"""The pipeline's stages and the commands each runs (docs/design.md §3, with the published scripts' flaws fixed).

Every stage works in its own directory (:mod:`train.pipeline.layout`) in three phases:

1. data: frustum sets (step 0: jittered real frustums + proxies; step S >= 1: real frustums + proxies / pasted
   instances from step S-1's pseudo-labels; refinement: regions around step K's pseudo-boxes);
2. training (resumes from ``model_last.pth``; skipped when ``model_final.pth`` exists);
3. in parallel, predictions for val + KITTI evaluation (``_last_val/``) and pseudo-labels for the train frames
   (``_last_train/``); a failure of either fails the stage.

A stage whose manifest says ``done`` with the same fingerprint (parameters + content hashes of its inputs) and whose
output files still have their recorded hashes is skipped; an interrupted one resumes (each phase skips or resumes
its own finished work). One whose inputs changed, whose outputs changed or are corrupt, whose manifest is unreadable
(unknown state) or that is ``--force``d is rebuilt from scratch *beside* the old directory (``<stage>.rebuild``),
which it replaces only once the rebuild has finished: a failed rebuild never costs a finished stage. Nothing here
reads the 3D fields of real objects' labels: the data phase reads 2D labels (``weak``) and only the evaluation, which
reports, reads 3D ground truth.
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

from kitti.data_args import DataArgs, FrameArgs, InjectionArgs, PseudoArgs, StepArgs
from kitti.geometric.run import code_digest
from kitti.options_cli import to_argv
from kitti.runner import hash_dir, hash_files
from train.args import EvalArgs, PseudoLabelArgs, TrainArgs
from train.pipeline.fusion import PUBLISHED, final_labels_intact, publish_fused
from train.pipeline.layout import FINAL_LABELS_DIR, GEOMETRIC_DIR, refine_dir, step_dir
from train.pipeline.manifest import read_manifest
from train.pipeline.options import RunOptions
from train.pipeline.runner import Command, StageFailed, run_commands
from train.pipeline.stage_run import stage_run

REPO = Path(__file__).resolve().parents[2]
VAL_DIR, TRAIN_DIR = "_last_val", "_last_train"
VAL_METRICS = f"{VAL_DIR}/metrics.json"
PSEUDO_METRICS = f"{TRAIN_DIR}/pseudo_quality.json"
#: the manifest outputs of a step (and of the refinement, which adds its final labels)
STEP_OUTPUTS = {"checkpoint": "model_final.pth", "val_predictions": f"{VAL_DIR}/data", "val_metrics": VAL_METRICS,
                "pseudo_labels": f"{TRAIN_DIR}/data", "pseudo_quality": PSEUDO_METRICS}


def _python(module: str, *args: str | Path) -> tuple[str, ...]:
    return (sys.executable, "-m", module, *(str(a) for a in args))


def _command(module: str, options: object, *extra: str | Path) -> tuple[str, ...]:
    """``python -m module`` with the flags of ``options`` (the dataclass its command line is generated from)
    and ``extra`` arguments of its own."""
    return _python(module, *to_argv(options), *extra)


def _source_fields(opts: RunOptions, stage: Path) -> dict[str, Any]:
    """The :class:`kitti.data_args.DataArgs` fields every data command of a stage shares."""
    fields: dict[str, Any] = {"output": stage, "data": str(opts.data), "points": opts.points, "seed": opts.seed,
                              "workers": opts.workers, "data_config": opts.data_config}
    if opts.points != "lidar":
        # dense pseudo-LiDAR thinned to a 64-beam-like scan (a dense map gives ~20x the points of a scan)
        fields.update(depth_dir=opts.depth_dir, beams64=True)
    return fields


def ensure_depth(opts: RunOptions, stage: Path) -> None:
    """With DA3 depth as (part of) the point source, generate the depth maps the frames still miss (the generator
    skips finished frames, so this is cheap once they exist)."""
    if opts.points == "lidar" or opts.depth_dir != "DA3_depth_results":
        return
    for split in (opts.train_split, opts.val_split):
        run_commands([Command("depth", _python(
            "kitti.generate_da3_depth", "--data_path", opts.data, "--split", "training", "--split-file",
            opts.data / "ImageSets" / f"{split}.txt", "--model", opts.da3_model), stage / "logs" / "depth.log")],
            cwd=REPO)


def _label_inputs(opts: RunOptions) -> dict[str, str]:
    """Content hashes of what every stage reads from the data set (2D labels are read from these files)."""
    data = opts.data
    return {
        "label_2": hash_dir(data / "training" / "label_2", "*.txt"),
        "splits": hash_files([data / "ImageSets" / f"{opts.train_split}.txt",
                              data / "ImageSets" / f"{opts.val_split}.txt"]),
        "config": hash_files([opts.config]),
    }


def _require(path: Path, what: str) -> None:
    if not path.exists():
        raise StageFailed(f"missing input: {what} ({path}); run the earlier stage first")


def _evaluate_phase(opts: RunOptions, stage: Path, weights: Path, val_set: Path, pseudo_set: Path) -> dict[str, float]:
    val = EvalArgs(weights=weights, data=opts.data, gpu=opts.gpu, frustums=val_set, split=opts.val_split,
                   output=stage / VAL_DIR)
    pseudo = PseudoLabelArgs(weights=weights, data=opts.data, gpu=opts.gpu, frustums=pseudo_set,
                             split=opts.train_split, output=stage / TRAIN_DIR)
    return run_commands([
        Command("val", _command("train.test_net_det", val), stage / "logs" / "val.log"),
        Command("pseudo", _command("train.gen_pseudo", pseudo), stage / "logs" / "pseudo.log"),
    ], cwd=REPO)


def _train_phase(opts: RunOptions, stage: Path, config: Path, step: int, frustums: Path,
                 supervision: str) -> dict[str, float]:
    if (stage / "model_final.pth").is_file():
        print(f"[{stage.name}] training already finished (model_final.pth), skipped")
        return {}
    args = TrainArgs(config=config, step=step, ratio=opts.ratio, output=stage, frustums=frustums,
                     supervision=supervision, resume=(stage / "model_last.pth").is_file(), gpu=opts.gpu,
                     overrides=opts.overrides)
    return run_commands([Command("train", _command("train.train_net_det", args), stage / "logs" / "train.log")],
                        cwd=REPO)


def _step_inputs(opts: RunOptions, step: int) -> tuple[dict[str, str], dict[str, Any]]:
    """The content hashes a step depends on, and the trusted-fit fields of its data commands (the geometric
    labeller's stage runs first when the step uses trusted fits)."""
    inputs = _label_inputs(opts)
    if step > 0:
        previous = step_dir(opts.output, step - 1, opts.ratio) / TRAIN_DIR / "data"
        _require(previous, f"step {step - 1} pseudo-labels")
        inputs["previous_pseudo_labels"] = hash_dir(previous, "*.txt")
    trusted: dict[str, Any] = {}
    if opts.uses_trusted_fits:
        fits = run_geometric(opts, quiet=True)
        inputs["geometric_labels"] = hash_dir(fits, "*.txt")
        trusted = {"trusted_dir": str(fits), "trusted_min_score": opts.trusted_min_score}
    return inputs, trusted


def _step_data(opts: RunOptions, stage: Path, step: int, trusted: dict[str, Any]) -> list[Command]:
    """The data commands of step ``step``, in order (the injection needs the instance library)."""
    source = {**_source_fields(opts, stage), "split": opts.train_split, "supervision": opts.supervision}
    val_split = ("--val-split", opts.val_split)
    log = stage / "logs" / "data.log"
    if step == 0:
        return [Command("frustums", _command("kitti.frustum_extractor", DataArgs(**source, **trusted), *val_split,
                                             "--set", "train", "--set", "val", "--set", "pseudo"), log)]
    pseudo = {**source, **trusted, "step": step - 1,
              "pseudo_dir": str(step_dir(opts.output, step - 1, opts.ratio) / TRAIN_DIR / "data")}
    return [
        Command("instances", _command("kitti.generate_instances_insert", StepArgs(**pseudo)), log),
        Command("injection", _command("kitti.frustum_pseudolabeling", InjectionArgs(**pseudo, ratio=opts.ratio)),
                log),
        Command("frustums", _command("kitti.frustum_extractor", DataArgs(**source), *val_split,
                                     "--set", "val", "--set", "pseudo"), log),
    ]


def run_step(opts: RunOptions, step: int, force: bool = False) -> Path:
    """Run pseudo-labelling step ``step`` (0 = proxies only; >= 1 uses step ``step - 1``'s pseudo-labels)."""
    final = step_dir(opts.output, step, opts.ratio)
    inputs, trusted = _step_inputs(opts, step)
    with stage_run(final, opts.parameters(f"step_{step}"), inputs, force) as run:
        if run is None:
            return final
        stage = run.work
        shutil.copyfile(opts.config, stage / "config_source.yaml")

        def data() -> None:
            ensure_depth(opts, stage)
            for command in _step_data(opts, stage, step, trusted):
                run_commands([command], cwd=REPO)

        run.phases([
            ("data", data),
            ("train", lambda: _train_phase(opts, stage, opts.config, step, stage / "frustums_train.npz",
                                           opts.supervision)),
            ("val + pseudo-labels", lambda: _evaluate_phase(opts, stage, stage / "model_final.pth",
                                                             stage / "frustums_val.npz",
                                                             stage / "frustums_pseudo.npz")),
        ])
        run.outputs.update(STEP_OUTPUTS)
    return final


def _published_before_records(stage: Path, target: Path) -> list[str]:
    """The final label files a finished refinement ``stage`` published into ``target`` before the folder had a
    record of them (``published.json``): its manifest names ``target`` as its final labels, and they are the
    stage's pseudo-label files and their source sidecars."""
    manifest = read_manifest(stage) or {}
    outputs = manifest.get("outputs")
    if (target / PUBLISHED).exists() or not isinstance(outputs, dict) or outputs.get("final_labels") != str(target):
        return []
    stems = [path.stem for path in (stage / TRAIN_DIR / "data").glob("*.txt")]
    return [name for stem in stems for name in (f"{stem}.txt", f"{stem}.source.json")]


def _refinement_inputs(opts: RunOptions, from_step: int) -> tuple[dict[str, str], Path | None]:
    """The content hashes the refinement depends on, and the geometric labels it fuses in (None: not fused; the
    geometric labeller's stage runs first when they are)."""
    source_stage = step_dir(opts.output, from_step, opts.ratio)
    train_labels, val_labels = source_stage / TRAIN_DIR / "data", source_stage / VAL_DIR / "data"
    _require(train_labels, f"step {from_step} pseudo-labels")
    _require(val_labels, f"step {from_step} val predictions")
    inputs = {**_label_inputs(opts), "refine_config": hash_files([opts.refine_config]),
              "pseudo_labels": hash_dir(train_labels, "*.txt"), "val_predictions": hash_dir(val_labels, "*.txt")}
    fits: Path | None = None
    if opts.fuses_final_labels or opts.uses_trusted_fits:
        geometric = run_geometric(opts, quiet=True)
        inputs["geometric_labels"] = hash_dir(geometric, "*.txt")
        fits = geometric if opts.fuses_final_labels else None
    return inputs, fits


def _refinement_data(opts: RunOptions, stage: Path, from_step: int) -> None:
    """The refinement sets: train + pseudo from step ``from_step``'s pseudo-labels (the train set's targets with the
    trusted geometric fits in place of the pseudo-boxes they match, when the run uses trusted fits), val from its val
    predictions."""
    ensure_depth(opts, stage)
    source_stage = step_dir(opts.output, from_step, opts.ratio)
    trusted: dict[str, Any] = {}
    if opts.uses_trusted_fits:  # kitti.prepare_data_refine uses them for the train set only
        trusted = {"trusted_dir": str(opts.output / GEOMETRIC_DIR), "trusted_min_score": opts.trusted_min_score}
    for pseudo_dir, sets, fits in ((source_stage / TRAIN_DIR / "data", ("--set", "train", "--set", "pseudo"), trusted),
                                   (source_stage / VAL_DIR / "data", ("--set", "val"), {})):
        args = PseudoArgs(**_source_fields(opts, stage), **fits, split=opts.train_split, pseudo_dir=str(pseudo_dir))
        run_commands([Command("refine data", _command("kitti.prepare_data_refine", args, "--val-split",
                                                      opts.val_split, *sets), stage / "logs" / "data.log")],
                     cwd=REPO)


def run_refinement(opts: RunOptions, from_step: int, force: bool = False) -> Path:
    """The refinement stage on step ``from_step``'s pseudo-labels; copies its final pseudo-labels (train frames) to
    ``<output>/label_2_pseudo/``."""
    final = refine_dir(opts.output)
    inputs, fits = _refinement_inputs(opts, from_step)
    target = opts.output / FINAL_LABELS_DIR
    with stage_run(final, {**opts.parameters("refinement"), "from_step": from_step}, inputs, force) as run:
        if run is None:
            if not final_labels_intact(target):  # the final labels are covered by their own hashes (published.json)
                print(f"[{final.name}] {target} differs from what was published: publishing it again from the stage")
                publish_fused(final / TRAIN_DIR / "data", fits, target, opts.fusion_min_score,
                              opts.agreement_classes, _published_before_records(final, target))
            return final
        stage = run.work
        shutil.copyfile(opts.refine_config, stage / "config_source.yaml")
        run.phases([
            ("data", lambda: _refinement_data(opts, stage, from_step)),
            # the refinement network is supervised by the pseudo-boxes (its samples carry them as 3D targets)
            ("train", lambda: _train_phase(opts, stage, opts.refine_config, from_step + 1,
                                           stage / "refine_train.npz", "full")),
            ("val + pseudo-labels", lambda: _evaluate_phase(opts, stage, stage / "model_final.pth",
                                                             stage / "refine_val.npz", stage / "refine_pseudo.npz")),
            ("final labels", lambda: publish_fused(stage / TRAIN_DIR / "data", fits, target, opts.fusion_min_score,
                                                   opts.agreement_classes)),
        ])
        run.outputs.update({**STEP_OUTPUTS, "final_labels": str(target)})
    return final


def run_geometric(opts: RunOptions, force: bool = False, quiet: bool = False) -> Path:
    """The geometric labeller (:mod:`kitti.geometric`, training-free, 2D boxes only) on the train frames into
    ``<output>/geometric_labels/%06d.txt``: the baseline of the summary, and the trusted fits of the steps and the
    fused final labels (which call it ``quiet``: a finished labeller stage is reused without a message)."""
    final = opts.output / GEOMETRIC_DIR
    data = opts.data
    inputs = {"label_2": hash_dir(data / "training" / "label_2", "*.txt"),
              "split": hash_files([data / "ImageSets" / f"{opts.train_split}.txt"]), "labeller_code": code_digest()}
    parameters = {"data": str(data.resolve()), "points": opts.points, "train_split": opts.train_split,
                  "stage": "geometric", **({"depth_dir": opts.depth_dir} if opts.points != "lidar" else {})}
    with stage_run(final, parameters, inputs, force, quiet) as run:
        if run is None:
            return final
        stage = run.work
        command = _command("kitti.geometric_labeller", FrameArgs(
            output=stage, data=str(data), split=opts.train_split, points=opts.points, depth_dir=opts.depth_dir,
            workers=opts.workers))

        def label() -> None:
            ensure_depth(opts, stage)
            run_commands([Command("geometric", command, stage / "logs" / "geometric.log")], cwd=REPO)

        run.phases([("labels", label)])
        run.outputs["labels"] = str(final)
    return final
