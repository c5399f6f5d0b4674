"""The review page in headless Chromium (Selenium): every frame listed, filters, box selection and its highlight in
both views, accept / reject with notes kept in localStorage, export -> ``apply`` -> label files compared box by box,
and a screenshot. Skips, saying what is missing, without chromium / chromedriver / selenium."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import cv2
import pytest

from kitti.io.labels import read_labels
from tests.kitti.review.browser import missing, start_chromium
from tests.kitti.review.test_review import frame_payload, index_payload

REPO = Path(__file__).resolve().parents[3]
YELLOW_NEAR = """
const ctx = document.getElementById(arguments[0]).getContext('2d'), r = 3;
const d = ctx.getImageData(Math.round(arguments[1]) - r, Math.round(arguments[2]) - r, 2 * r + 1, 2 * r + 1).data;
for (let i = 0; i < d.length; i += 4) if (d[i] > 200 && d[i + 1] > 200 && d[i + 2] < 80) return true;
return false;"""


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Path]]:
    reason = missing()
    if reason:
        pytest.skip(reason)
    downloads = tmp_path_factory.mktemp("downloads")
    driver = start_chromium(tmp_path_factory.mktemp("profile"), downloads)
    yield driver, downloads
    driver.quit()


def wait(condition: Any, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting for the page")


def open_page(driver: Any, run: Path) -> None:
    """Load the page with empty localStorage and wait until the first frame is shown."""
    driver.get((run / "review" / "index.html").as_uri())
    driver.execute_script("localStorage.clear()")
    driver.refresh()
    wait(lambda: driver.execute_script("return document.body.dataset.ready === '1'"))


def listed(driver: Any) -> list[str]:
    return driver.execute_script("return [...document.querySelectorAll('#frame-list li')].map(li => li.dataset.frame)")


def rows(driver: Any) -> list[int]:
    return driver.execute_script("return [...document.querySelectorAll('#boxes tbody tr')].map(r => +r.dataset.box)")


def css(driver: Any, selector: str) -> Any:
    return driver.find_element("css selector", selector)


def stored(driver: Any) -> dict:
    return driver.execute_script("return JSON.parse(localStorage.getItem('kitti-review:' + REVIEW_INDEX.review_id))")


def show_frame(driver: Any, name: str) -> None:
    css(driver, f'#frame-list li[data-frame="{name}"]').click()
    wait(lambda: css(driver, "#frame-title").text == f"frame {name}" and rows(driver) is not None)


def test_every_frame_listed(browser: tuple[Any, Path], built_run: tuple[Path, dict]) -> None:
    driver, _ = browser
    run, labels = built_run
    open_page(driver, run)
    assert listed(driver) == [f"{frame:06d}" for frame in sorted(labels)]
    assert css(driver, "#counts").text == f"{len(labels)} of {len(labels)} frames listed, " \
                                          f"{sum(map(len, labels.values()))} boxes"
    assert rows(driver) == list(range(len(labels[min(labels)])))
    assert "; boxes: learned " in css(driver, "#run-info").text  # named as the run summary names them
    assert "alpi" not in css(driver, "#boxes tbody").text and "learned" in css(driver, "#boxes tbody").text
    assert driver.get_log("browser") == []  # no script errors, no failed loads


def test_filter_by_class_and_score(browser: tuple[Any, Path], built_run: tuple[Path, dict]) -> None:
    driver, _ = browser
    run, _ = built_run
    files = {p.stem: read_labels(p) for p in sorted((run / "label_2_pseudo").glob("*.txt"))}
    open_page(driver, run)
    css(driver, '#f-class input[value="Car"]').click()
    assert listed(driver) == [name for name, objs in files.items() if any(o.type != "Car" for o in objs)]
    for name in listed(driver):
        show_frame(driver, name)
        assert rows(driver) == [i for i, o in enumerate(files[name]) if o.type != "Car"]
    css(driver, '#f-class input[value="Car"]').click()
    assert len(listed(driver)) == len(files)
    box = css(driver, "#f-score-min")
    box.clear()
    box.send_keys("0.5\t")
    assert listed(driver) == [name for name, objs in files.items() if any(o.score >= 0.5 for o in objs)]
    for name in listed(driver):
        show_frame(driver, name)
        assert rows(driver) == [i for i, o in enumerate(files[name]) if o.score >= 0.5]


def test_select_box_highlights_it_in_both_views(browser: tuple[Any, Path], built_run: tuple[Path, dict]) -> None:
    driver, _ = browser
    run, _ = built_run
    open_page(driver, run)
    name = listed(driver)[0]
    index, payload = index_payload(run), frame_payload(run, name)
    def front_in_image(box: dict) -> list[float] | None:
        """Midpoint of the projected front bottom edge (corners 0-1), when it lies inside the image."""
        if not box["img"]:
            return None
        u, v = ((a + b) / 2 for a, b in zip(*box["img"][:2]))
        return [u, v] if 5 < u < payload["width"] - 5 and 5 < v < payload["height"] - 5 else None

    box = max((b for b in payload["boxes"] if front_in_image(b)), key=lambda b: b["points"])
    bev = index["bev"]
    front = [(a + b) / 2 for a, b in zip(*box["bev"][:2])]
    bev_px = ((front[0] - bev["x"][0]) / bev["res"], (bev["z"][1] - front[1]) / bev["res"])
    img_px = front_in_image(box)
    assert not driver.execute_script(YELLOW_NEAR, "bev-canvas", *bev_px)
    assert not driver.execute_script(YELLOW_NEAR, "image-canvas", *img_px)
    css(driver, f'#boxes tbody tr[data-box="{box["id"]}"] td').click()
    assert css(driver, f'#boxes tbody tr[data-box="{box["id"]}"]').get_attribute("class") == "selected"
    assert len(driver.find_elements("css selector", "#boxes tbody tr.selected")) == 1
    assert driver.execute_script(YELLOW_NEAR, "bev-canvas", *bev_px)
    assert driver.execute_script(YELLOW_NEAR, "image-canvas", *img_px)
    css(driver, "body").send_keys("n")  # keyboard: next box
    following = rows(driver)[rows(driver).index(box["id"]) + 1] if box["id"] != rows(driver)[-1] else box["id"]
    assert css(driver, "#boxes tbody tr.selected").get_attribute("data-box") == str(following)


def test_accept_reject_and_notes_persist(browser: tuple[Any, Path], built_run: tuple[Path, dict]) -> None:
    driver, _ = browser
    run, _ = built_run
    open_page(driver, run)
    name = listed(driver)[0]
    css(driver, '#boxes tbody tr[data-box="0"] button.acc').click()
    css(driver, '#boxes tbody tr[data-box="1"] button.rej').click()
    css(driver, '#boxes tbody tr[data-box="2"] td').click()
    css(driver, "body").send_keys("r")
    note = css(driver, '#boxes tbody tr[data-box="0"] td.note input')
    note.send_keys("checked against the image\t")
    assert "accept" in css(driver, '#boxes tbody tr[data-box="0"]').get_attribute("class").split()
    assert "reject" in css(driver, '#boxes tbody tr[data-box="1"]').get_attribute("class").split()
    expected = {"0": {"decision": "accept", "note": "checked against the image"},
                "1": {"decision": "reject", "note": ""}, "2": {"decision": "reject", "note": ""}}
    assert stored(driver)["frames"][name]["boxes"] == expected
    css(driver, "#frame-reject").click()
    assert "reject" in css(driver, f'#frame-list li[data-frame="{name}"]').get_attribute("class").split()
    driver.refresh()  # decisions survive a reload (localStorage)
    wait(lambda: driver.execute_script("return document.body.dataset.ready === '1'"))
    assert stored(driver)["frames"][name] == {"decision": "reject", "note": "", "boxes": expected}
    assert "reject" in css(driver, '#boxes tbody tr[data-box="1"]').get_attribute("class").split()
    assert css(driver, '#boxes tbody tr[data-box="0"] td.note input').get_attribute("value") == \
        "checked against the image"


def test_export_then_apply(browser: tuple[Any, Path], run_copy: Path, tmp_path: Path) -> None:
    driver, downloads = browser
    open_page(driver, run_copy)
    first, second, third = listed(driver)
    css(driver, '#boxes tbody tr[data-box="0"] button.acc').click()
    css(driver, '#boxes tbody tr[data-box="2"] button.acc').click()
    css(driver, '#boxes tbody tr[data-box="1"] button.rej').click()
    css(driver, "body").send_keys("j")  # keyboard: next frame, accept it, reject its first box
    wait(lambda: css(driver, "#frame-title").text == f"frame {second}")
    css(driver, "body").send_keys("A")
    css(driver, '#boxes tbody tr[data-box="0"] td').click()
    css(driver, "body").send_keys("r")
    for old in downloads.glob("*"):
        old.unlink()
    css(driver, "#export").click()
    exported = wait(lambda: [p for p in downloads.glob("decisions*.json")])[0]
    wait(lambda: exported.stat().st_size > 0 and json.loads(exported.read_text()))
    out = tmp_path / "label_2"
    proc = subprocess.run([sys.executable, "-m", "kitti.review", "apply", "--run", str(run_copy), "--decisions",
                           str(exported), "--out", str(out)], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    source = {name: read_labels(run_copy / "label_2_pseudo" / f"{name}.txt") for name in (first, second, third)}
    expected = {first: [source[first][0], source[first][2]], second: source[second][1:], third: []}
    assert sorted(p.stem for p in out.glob("*.txt")) == sorted(expected)
    for name, boxes in expected.items():
        written = read_labels(out / f"{name}.txt")
        assert len(written) == len(boxes)
        for got, want in zip(written, boxes):  # box by box, every field
            assert (got.type, got.box2d, got.dims, got.location, got.ry, got.score, got.alpha) == \
                (want.type, want.box2d, want.dims, want.location, want.ry, want.score, want.alpha)


def test_screenshot(browser: tuple[Any, Path], built_run: tuple[Path, dict], tmp_path: Path) -> None:
    driver, _ = browser
    run, _ = built_run
    open_page(driver, run)
    css(driver, '#boxes tbody tr[data-box="1"] td').click()
    path = tmp_path / "review.png"
    assert driver.save_screenshot(str(path))
    image = cv2.imread(str(path))
    assert image.shape[0] > 500 and image.shape[1] > 1000 and image.std() > 20


def test_url_fragment_loads_only_listed_frames(browser: tuple[Any, Path], run_copy: Path) -> None:
    """A crafted link ``index.html#../../evil`` must not make the page load a script from outside its folder: the
    page loads only frames its own index lists (issue 21 item 6)."""
    driver, _ = browser
    (run_copy / "evil.js").write_text("window.PWNED = 1;\n")
    (run_copy / "review" / "evil.js").write_text("window.PWNED = 2;\n")
    for fragment in ("../../evil", "../evil", "..%2F..%2Fevil"):
        driver.get((run_copy / "review" / "index.html").as_uri() + "#" + fragment)
        wait(lambda: driver.execute_script("return document.body.dataset.ready === '1'"))
        assert driver.execute_script("return window.PWNED === undefined")
        assert css(driver, "#frame-title").text == f"frame {listed(driver)[0]}"
