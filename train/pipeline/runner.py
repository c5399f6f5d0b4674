"""Run a stage's commands as subprocesses: output copied to a log file in the stage directory (and, for the command
in the foreground, to the terminal, so its progress bar shows), and a failure reported with the log's last lines."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Sequence

from kitti.errors import InputError


class StageFailed(InputError):
    """A command of a stage failed (its own ``error:`` line and log tail are in the message), or a stage input is
    missing; the message names the command, its exit code and its log."""


@dataclass(frozen=True)
class Command:
    """One subprocess of a stage: ``name`` (for messages and timings), ``argv``, and the ``log`` file it writes."""

    name: str
    argv: tuple[str, ...]
    log: Path


def _copy(source: BinaryIO, log: BinaryIO, echo: bool) -> None:
    for chunk in iter(lambda: source.read1(4096), b""):  # type: ignore[attr-defined]
        log.write(chunk)
        log.flush()
        if echo:
            sys.stderr.buffer.write(chunk)
            sys.stderr.buffer.flush()


def _tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_bytes().decode(errors="replace").replace("\r", "\n")
    except FileNotFoundError:
        return ""
    kept = [line for line in text.splitlines() if line.strip()][-lines:]
    return "\n".join("    " + line for line in kept)


def run_commands(commands: Sequence[Command], cwd: Path, foreground: int = 0) -> dict[str, float]:
    """Run ``commands`` in parallel (one command: just that); ``commands[foreground]`` is echoed to the terminal.

    If any command fails the others are terminated and :class:`StageFailed` is raised. Returns seconds per command.
    Parallel commands share the cores: each gets ``cores / len(commands)`` OpenMP/torch threads (unless the caller
    set ``OMP_NUM_THREADS``), since oversubscribed torch processes run many times slower.
    """
    started = time.monotonic()
    env = dict(os.environ)
    if len(commands) > 1 and "OMP_NUM_THREADS" not in env:
        env["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // len(commands)))
    running: list[tuple[Command, subprocess.Popen, threading.Thread, BinaryIO]] = []
    for index, command in enumerate(commands):
        command.log.parent.mkdir(parents=True, exist_ok=True)
        log = open(command.log, "ab")
        log.write(f"\n$ {' '.join(command.argv)}\n".encode())
        process = subprocess.Popen(command.argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        thread = threading.Thread(target=_copy, args=(process.stdout, log, index == foreground), daemon=True)
        thread.start()
        running.append((command, process, thread, log))
    seconds: dict[str, float] = {}
    failure: tuple[Command, int] | None = None
    try:
        pending = list(running)
        while pending:
            for entry in list(pending):
                command, process, _, _ = entry
                code = process.poll()
                if code is None:
                    continue
                pending.remove(entry)
                seconds[command.name] = time.monotonic() - started
                if code != 0 and failure is None:
                    failure = (command, code)
                    for _, other, _, _ in pending:
                        other.terminate()
            time.sleep(0.2)
    finally:
        for _, process, thread, log in running:
            if process.poll() is None:
                process.kill()
            process.wait()
            thread.join(timeout=5)
            log.close()
    if failure is not None:
        command, code = failure
        raise StageFailed(f"{command.name} failed (exit code {code}); log: {command.log}\n{_tail(command.log)}")
    return seconds
