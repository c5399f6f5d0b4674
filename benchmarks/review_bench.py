"""Benchmark of the label review page on a KITTI-train-sized run (3,712 frames, fake labels, no training).

``python -m benchmarks.review_bench [--frames 3712] [--source-frames 6] [--workers 2] [--keep DIR]`` (from the
repository root: it reuses the test helpers in ``tests/kitti/review``):

1. generates a small synthetic world (``--source-frames``) and makes a ``--frames`` data set from it (frame ``i``
   hard-links the files of source frame ``i mod K``), then a fake run: ground truth with noise and a score column
   as ``label_2_pseudo`` (so every frame has its own labels);
2. times ``build_review`` (wall seconds, frames/s, size of the page);
3. opens the page in headless Chromium (fresh profile) and prints the time from navigation start until the page is
   usable (frame list filled, first frame's views and table drawn: ``REVIEW_READY_MS``), then the mean time to
   move to the next frame with the keyboard and to apply a class filter over all frames.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kitti.io.dataset import LAYOUT, KittiDataset, write_split
from kitti.review.build import build_review
from tests.kitti.review.browser import missing, start_chromium
from tests.kitti.review.fake_run import make_fake_run

KINDS = ("calib", "image_2", "label_2", "velodyne")


def replicate(source: Path, target: Path, frames: int) -> None:
    """A ``frames``-frame KITTI layout whose frame ``i`` is source frame ``i mod K`` (hard links, copies across
    file systems) with ``ImageSets/train.txt`` listing every frame."""
    dataset = KittiDataset(source)
    ids = dataset.frame_ids()
    for kind in KINDS:
        (target / "training" / kind).mkdir(parents=True, exist_ok=True)
    for frame in range(frames):
        for kind in KINDS:
            src = dataset.path(kind, ids[frame % len(ids)])
            dst = target / "training" / kind / LAYOUT[kind].format(frame)
            try:
                os.link(src, dst)
            except OSError:
                shutil.copyfile(src, dst)
    write_split(target / "ImageSets" / "train.txt", range(frames))


def measure_page(index: Path, profile: Path, moves: int = 20) -> dict[str, float]:
    """Milliseconds: navigation start -> usable, mean keyboard move to the next frame, class filter."""
    from selenium.webdriver.common.by import By

    driver = start_chromium(profile)
    try:
        driver.get(index.as_uri())
        deadline = time.monotonic() + 60
        while not driver.execute_script("return document.body.dataset.ready === '1'"):
            if time.monotonic() > deadline:
                raise RuntimeError("the page did not become usable in 60 s")
            time.sleep(0.01)
        ready = driver.execute_script("return window.REVIEW_READY_MS")
        listed = driver.execute_script("return document.querySelectorAll('#frame-list li').length")
        body = driver.find_element(By.CSS_SELECTOR, "body")
        start = time.perf_counter()
        for step in range(1, moves + 1):
            body.send_keys("j")
            title = f"frame {step:06d}"
            while driver.execute_script(
                    "return document.getElementById('frame-title').textContent !== arguments[0]"
                    " || !document.querySelector('#boxes tbody tr')", title):
                time.sleep(0.002)
        move = (time.perf_counter() - start) / moves * 1000
        start = time.perf_counter()
        driver.execute_script("document.querySelector('#f-class input[value=\"Car\"]').click()")
        driver.execute_script("return document.querySelectorAll('#frame-list li').length")
        filtered = (time.perf_counter() - start) * 1000
    finally:
        driver.quit()
    return {"ready_ms": ready, "listed": listed, "move_ms": move, "filter_ms": filtered}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=3712)
    parser.add_argument("--source-frames", type=int, default=6)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", type=Path, help="build here and keep it (default: a temporary directory)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        world, data, run = root / "world", root / "data", root / "run"
        subprocess.run([sys.executable, "-m", "kitti.synthetic", "--out", str(world), "--frames",
                        str(args.source_frames), "--seed", str(args.seed), "--workers", str(args.workers)],
                       check=True, capture_output=True)
        replicate(world, data, args.frames)
        labels = make_fake_run(data, run, seed=args.seed)
        boxes = sum(map(len, labels.values()))
        start = time.perf_counter()
        index = build_review(run, data, "train", workers=args.workers)
        seconds = time.perf_counter() - start
        size = sum(p.stat().st_size for p in (run / "review").rglob("*") if p.is_file())
        print(f"build: {args.frames} frames, {boxes} boxes, {seconds:.1f} s ({args.frames / seconds:.1f} frames/s, "
              f"{args.workers} workers); page {size / 1e6:.0f} MB, index "
              f"{(run / 'review' / 'index_data.js').stat().st_size / 1e6:.2f} MB")
        reason = missing()
        if reason:
            print(f"page timing skipped: {reason}")
            return
        page = measure_page(index, root / "profile")
        print(f"page: usable {page['ready_ms']:.0f} ms after navigation start ({page['listed']} frames listed); "
              f"next frame (keyboard) {page['move_ms']:.0f} ms; class filter over all frames "
              f"{page['filter_ms']:.0f} ms")


if __name__ == "__main__":
    main()
