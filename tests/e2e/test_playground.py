"""The playground in headless Chromium against the session's real server: enter the key,
upload two photos, choose the second face of the target, run, see the result with its
download link and the task in the live list; then a failure shown as a readable message.
Screenshots of each state go to build/playground/ (the README's come from there)."""

from __future__ import annotations

import base64
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.test_serve import Server
from tests.support.images import coffee_jpeg, grace_hopper_jpeg, two_faces_jpeg

CHROMIUM = Path("/usr/bin/chromium")
# No network but loopback, no first-run work, no GPU: a headless browser that stays put.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = Path(__file__).resolve().parents[2] / "build" / "playground"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="Chromium is not installed at /usr/bin/chromium: `make test` installs it with "
    "apt-get when run as root; elsewhere `apt-get install chromium`",
)


@pytest.fixture
def page(live_server: Server) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 1000})
            yield context.new_page()
        finally:
            browser.close()


@pytest.fixture
def photos(tmp_path: Path) -> dict[str, Path]:
    files = {"hopper": grace_hopper_jpeg(), "two": two_faces_jpeg(), "coffee": coffee_jpeg()}
    for name, data in files.items():
        (tmp_path / f"{name}.jpg").write_bytes(data)
    return {name: tmp_path / f"{name}.jpg" for name in files}


def test_swap_the_second_face_then_see_a_failure(
    page: object, live_server: Server, photos: dict[str, Path]
) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True)
    page.goto(live_server.url + "/")
    page.click("#playground-link")
    expect(page).to_have_url(live_server.url + "/playground")

    page.fill("#api-key", live_server.api_key)
    page.click("#key-form button")
    expect(page.locator("#account")).to_contain_text("credits available")
    assert page.evaluate("sessionStorage.getItem('faceport-api-key')") == live_server.api_key

    page.set_input_files("#source-file", str(photos["hopper"]))
    page.set_input_files("#target-file", str(photos["two"]))
    faces = page.locator(".face")
    expect(faces).to_have_count(2, timeout=30_000)
    page.click(".face[data-index='1']")
    expect(page.locator(".face.chosen")).to_have_attribute("data-index", "1")
    expect(page.locator("#face-status")).to_contain_text("face 1 of 2")
    page.screenshot(path=str(SHOTS / "choose-face.png"))

    page.click("#run")
    result = page.locator("#after img#result")
    expect(result).to_be_visible(timeout=60_000)
    expect(page.locator("#error")).to_be_hidden()
    assert page.evaluate("document.querySelector('#result').naturalWidth") > 0  # it loaded
    href = page.get_attribute("#download", "href") or ""
    assert "/files/results/" in href
    row = page.locator("#tasks tbody tr").first
    expect(row).to_contain_text("face_swap")
    expect(row.locator("td.succeeded")).to_have_text("succeeded", timeout=10_000)
    task_id = row.get_attribute("data-id")
    with live_server.client() as api:
        task = api.get(f"/v1/tasks/{task_id}").json()
    assert task["params"]["target_index"] == 1  # the face that was clicked
    page.screenshot(path=str(SHOTS / "result.png"), full_page=True)

    page.check("input[name=mode][value=fusion]")
    expect(page.locator("#similarity-row")).to_be_visible()
    page.check("input[name=mode][value=swap]")
    drop_file(page, "#source-drop", photos["coffee"])  # dropped, not picked, this time
    expect(page.locator("#source-preview")).to_be_visible()
    page.set_input_files("#target-file", str(photos["two"]))
    expect(faces).to_have_count(2, timeout=30_000)
    page.click("#run")
    error = page.locator("#error")
    expect(error).to_be_visible(timeout=60_000)
    expect(error).to_contain_text("no_face_in_source: No face was found in the source image")
    page.screenshot(path=str(SHOTS / "failure.png"))


def drop_file(page: object, selector: str, path: Path) -> None:
    """Drop `path` on the element as a user dragging it from their desktop would."""
    from playwright.sync_api import Page

    assert isinstance(page, Page)
    transfer = page.evaluate_handle(
        """([name, b64]) => {
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const data = new DataTransfer();
            data.items.add(new File([bytes], name, { type: "image/jpeg" }));
            return data;
        }""",
        [path.name, base64.b64encode(path.read_bytes()).decode()],
    )
    page.dispatch_event(selector, "drop", {"dataTransfer": transfer})


def test_a_video_swap_shows_the_result_video(
    page: object, live_server: Server, photos: dict[str, Path], tmp_path: Path
) -> None:
    from playwright.sync_api import Page, expect

    from faceport.api.example_media import HOPPER_CLIP_MP4_B64

    assert isinstance(page, Page)
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(base64.b64decode(HOPPER_CLIP_MP4_B64))
    page.goto(live_server.url + "/playground")
    page.evaluate("key => sessionStorage.setItem('faceport-api-key', key)", live_server.api_key)
    page.reload()
    page.check("input[name=mode][value=video]")
    page.set_input_files("#source-file", str(photos["hopper"]))
    page.set_input_files("#target-file", str(clip))
    expect(page.locator("#target-video")).to_be_visible()
    page.click("#run")
    result = page.locator("#after video#result")
    expect(result).to_be_visible(timeout=60_000)
    assert "/files/results/" in (result.get_attribute("src") or "")
    expect(page.locator("#tasks tbody tr").first).to_contain_text("video_face_swap")


def test_a_wrong_key_is_a_readable_message(page: object, live_server: Server) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    page.goto(live_server.url + "/playground")
    page.fill("#api-key", "fpk_not_a_real_key")
    page.click("#key-form button")
    expect(page.locator("#error")).to_contain_text("invalid_api_key: The API key is not valid.")
