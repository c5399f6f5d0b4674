"""One stage run as a context (docs/design.md §3): where it is built, its manifest, the ownership of its directory
and its summary, shared by the step, refinement and geometric stages (:mod:`train.pipeline.stages`).

:func:`stage_run` decides from the stage's fingerprint whether the stage is finished (it yields None: skip it),
resumed in place (a new or interrupted stage) or rebuilt *beside* the old directory (``<stage>.rebuild``, which
replaces the old one only once the rebuild has finished: a failed rebuild never costs a finished stage). Inside the
context the stage writes its manifest (:class:`train.pipeline.manifest.StageManifest`), runs its phases
(:meth:`StageRun.phases`: timings, and ``failed`` with the failed phase on a :class:`StageFailed`) and names its
outputs; a context left without an exception finishes the manifest (``done``, output hashes) and promotes the
rebuild. The run lock of the output root is taken once per command (:class:`train.pipeline.lock.RunLock`).
"""
from __future__ import annotations

import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

from kitti.errors import OutputDirError
from train.pipeline.manifest import StageManifest, changed_outputs, fingerprint, is_finished, read_manifest
from train.pipeline.runner import StageFailed

REPO = Path(__file__).resolve().parents[2]
#: a stage rebuilt over a finished one is built in ``<stage><REBUILD_SUFFIX>`` and replaces it when finished
REBUILD_SUFFIX = ".rebuild"


@dataclass
class StageRun:
    """A stage being built: ``work`` is its directory now (the stage itself, or its rebuild beside it)."""

    name: str
    work: Path
    manifest: StageManifest
    #: the manifest's ``outputs``, named by the stage before the context ends
    outputs: dict[str, Any] = field(default_factory=dict)

    def phases(self, phases: list[tuple[str, Callable[[], object]]]) -> None:
        """Run the phases in order, recording each one's time; a :class:`StageFailed` marks the manifest
        ``failed`` with the phase and propagates."""
        for phase, action in phases:
            print(f"[{self.name}] {phase}")
            started = time.monotonic()
            try:
                action()
            except StageFailed:
                self.manifest.data["failed_phase"] = phase
                self.manifest.finish({}, status="failed")
                raise
            self.manifest.record_timing(phase, time.monotonic() - started)


@contextmanager
def stage_run(stage: Path, parameters: Mapping[str, Any], inputs: Mapping[str, str], force: bool,
              quiet: bool = False) -> Iterator[StageRun | None]:
    """The context of one stage run (module docstring); None when the stage is finished with the same fingerprint
    (skipped, said unless ``quiet``)."""
    work = _prepare(stage, stage.name, fingerprint(parameters, inputs), force, quiet)
    if work is None:
        yield None
        return
    run = StageRun(stage.name, work, StageManifest(work, stage.name, parameters, inputs, REPO))
    yield run
    run.manifest.finish(run.outputs)
    _promote(work, stage)


def _rebuild_reason(stage: Path, stage_fingerprint: str, force: bool) -> str | None:
    """Why ``stage`` cannot be skipped nor resumed in place (None: skip it if finished, else resume it)."""
    if not stage.exists() or not any(stage.iterdir()):
        return None
    if force:
        return "--force"
    manifest = read_manifest(stage)
    if manifest is None:
        return "no readable manifest (unknown state)"
    if manifest.get("fingerprint") != stage_fingerprint:
        return "inputs or parameters changed"
    if manifest.get("status") == "done":
        changed = changed_outputs(stage, manifest)
        if changed:
            return f"outputs changed or corrupt since it finished ({', '.join(changed[:3])})"
    return None


def _prepare(stage: Path, name: str, stage_fingerprint: str, force: bool, quiet: bool = False) -> Path | None:
    """The directory the stage must be built in, or None when it is finished with the same inputs (skip it; said
    unless ``quiet``).

    That is ``stage`` itself for a new or interrupted stage (resumed), else ``<stage>.rebuild`` beside it: the old
    stage stays untouched until :func:`_promote` replaces it with the finished rebuild."""
    reason = _rebuild_reason(stage, stage_fingerprint, force)
    if reason is None and is_finished(stage, stage_fingerprint):
        if not quiet:
            print(f"[{name}] finished with the same inputs: skipped ({stage})")
        return None
    if reason is None:
        stage.mkdir(parents=True, exist_ok=True)
        return stage
    work = stage.with_name(stage.name + REBUILD_SUFFIX)
    if work.exists() and (force or _rebuild_reason(work, stage_fingerprint, False) is not None):
        _remove_tree(work)  # an earlier rebuild with other inputs: never a finished stage
    print(f"[{name}] {reason}: rebuilding in {work} (the old stage is replaced once the rebuild has finished)")
    work.mkdir(parents=True, exist_ok=True)
    return work


def _remove_tree(path: Path) -> None:
    """Delete a stage directory this pipeline made; a symbolic link (or a file) in its place is refused, never
    followed (:mod:`kitti.outputs`)."""
    if path.is_symlink() or not path.is_dir():
        raise OutputDirError(path, "is a symbolic link or a file where the pipeline keeps a stage directory: "
                                   "refusing to delete it; move it away")
    shutil.rmtree(path)


def _promote(work: Path, stage: Path) -> None:
    """Replace ``stage`` by its finished rebuild ``work`` (no-op when the stage was built in place)."""
    if work == stage:
        return
    old = stage.with_name(stage.name + ".previous")
    if old.exists() or old.is_symlink():
        _remove_tree(old)
    if stage.exists():
        stage.rename(old)
    work.rename(stage)
    if old.exists():
        _remove_tree(old)
