"""Stage manifests (``manifest.json``): what ran, on which inputs, with which result; and input fingerprints.

A stage is *finished* when its manifest says ``status: done``, records the same fingerprint as the one the
stage would run with now (parameters + content hashes of its inputs), and every output file still has the content
hash recorded when the stage finished (``output_hashes``); a rerun skips it. Anything else reruns it (each step
inside a stage resumes or skips its own finished work). A manifest that is not a readable JSON object means an
unknown state: the stage is rebuilt.
"""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Mapping

from kitti.atomic import atomic_write_text, file_digest, read_json_or_none

MANIFEST = "manifest.json"


def git_commit(repo: Path) -> str:
    """The repository's HEAD commit (with ``-dirty`` when the work tree has changes), or ``unknown``."""
    try:
        head = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True,
                              check=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True, timeout=10).stdout.strip()
        return head + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def fingerprint(parameters: Mapping[str, Any], inputs: Mapping[str, str]) -> str:
    """One hash of a stage's parameters and its inputs' content hashes."""
    blob = json.dumps({"parameters": parameters, "inputs": inputs}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def read_manifest(stage_dir: Path) -> dict[str, Any] | None:
    """The stage's manifest, or None when there is none (or it is unreadable: then the stage simply reruns)."""
    return read_json_or_none(Path(stage_dir) / MANIFEST)


def is_finished(stage_dir: Path, stage_fingerprint: str) -> bool:
    """Done with ``stage_fingerprint`` (the outputs' hashes are checked separately: :func:`changed_outputs`)."""
    manifest = read_manifest(stage_dir)
    return bool(manifest and manifest.get("status") == "done" and manifest.get("fingerprint") == stage_fingerprint)


def _output_files(stage_dir: Path) -> list[Path]:
    """The stage's output files: everything but the manifest, the logs and hidden (temporary) files."""
    return sorted(p for p in stage_dir.rglob("*") if p.is_file() and p.name != MANIFEST
                  and not any(part.startswith(".") or part == "logs" for part in p.relative_to(stage_dir).parts))


def output_hashes(stage_dir: Path) -> dict[str, str]:
    """sha256 of every output file of the stage, by path relative to the stage directory."""
    stage_dir = Path(stage_dir)
    return {str(p.relative_to(stage_dir)): file_digest(p) for p in _output_files(stage_dir)}


def changed_outputs(stage_dir: Path, manifest: Mapping[str, Any]) -> list[str]:
    """Output files of a finished stage that are missing, new, or whose content differs from the hash recorded in
    its manifest (a truncated set, say); ``["<no output hashes>"]`` for a manifest that records none."""
    recorded = manifest.get("output_hashes")
    if not isinstance(recorded, dict):
        return ["<no output hashes>"]
    now = output_hashes(stage_dir)
    return sorted(name for name in set(recorded) | set(now) if recorded.get(name) != now.get(name))


class StageManifest:
    """Builds a stage's manifest and writes it atomically after every change of status or timing."""

    def __init__(self, stage_dir: Path, stage: str, parameters: Mapping[str, Any], inputs: Mapping[str, str],
                 repo: Path) -> None:
        self.path = Path(stage_dir) / MANIFEST
        self.data: dict[str, Any] = {
            "stage": stage,
            "status": "running",
            "command_line": sys.argv,
            "git_commit": git_commit(repo),
            "parameters": dict(parameters),
            "inputs": dict(inputs),
            "fingerprint": fingerprint(parameters, inputs),
            "outputs": {},
            "timings_s": {},
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        self.write()

    def write(self) -> None:
        atomic_write_text(self.path, json.dumps(self.data, indent=2, sort_keys=False) + "\n")

    def record_timing(self, phase: str, seconds: float) -> None:
        self.data["timings_s"][phase] = round(seconds, 2)
        self.write()

    def finish(self, outputs: Mapping[str, Any], status: str = "done") -> None:
        self.data["outputs"] = dict(outputs)
        if status == "done":
            self.data["output_hashes"] = output_hashes(self.path.parent)
        self.data["status"] = status
        self.data["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        self.write()
