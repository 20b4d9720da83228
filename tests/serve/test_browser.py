"""The pad in a real browser: Debian's Chromium, headless, driven through Selenium.

`make test` installs chromium and chromium-driver and sets BASSNET_REQUIRE_BROWSER=1, so there
a missing browser fails the test; elsewhere it is skipped with the reason. The screenshot goes
to $BASSNET_SCREENSHOT when set (`make screenshot` → docs/pad.png), else to the test's folder;
it shows the model $BASSNET_SCREENSHOT_MODEL (a shipped model's name or a model file; the
shipped A1 when unset), with its prior's density over the pad where the model has one.
"""

import io
import json
import os
import time
import urllib.request
from pathlib import Path

import mido
import pytest

from bassnet.serve.browser import headless_chromium, installed
from tests.serve.conftest import shown_name

PRIOR_MODEL, NO_PRIOR_MODEL = "A1 10-40", "A2 10-40"  # tests/serve/conftest.py


@pytest.fixture(scope="module")
def browser():
    if not installed():
        message = "Chromium/ChromeDriver not installed (apt install chromium chromium-driver)"
        if os.environ.get("BASSNET_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    driver = headless_chromium()
    yield driver
    driver.quit()


def wait_for(driver, script, timeout=60.0):
    """Poll a JavaScript expression until it is truthy; returns its value."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = driver.execute_script(f"return {script}")
        if value:
            return value
        time.sleep(0.1)
    status = driver.execute_script("return document.getElementById('status').textContent")
    raise AssertionError(f"timed out waiting for {script}; page says: {status}")


def click_pad(driver, fx, fy):
    """Click the pad at a fraction (fx, fy) of its width and height from the top left."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    pad = driver.find_element(By.ID, "pad")
    size = pad.size
    dx, dy = (fx - 0.5) * size["width"], (fy - 0.5) * size["height"]
    ActionChains(driver).move_to_element_with_offset(pad, int(dx), int(dy)).click().perform()


def test_a_user_picks_a_song_moves_on_the_pad_hears_two_basses_and_exports(browser, server,
                                                                           tmp_path):  # fmt: skip
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    browser.get(server + "/")
    wait_for(browser, "window.padState && window.padState.results.length >= 1")
    # the shipped A1 model (unless the screenshot asks for another): trained, with the map of
    # its training data on the pad
    Select(browser.find_element(By.ID, "model")).select_by_value(shown_name())
    songs = Select(browser.find_element(By.ID, "song"))
    songs.select_by_index(1)  # another song than the first
    wait_for(browser, "padState.song && padState.results.length >= 2 && !padState.busy")
    assert browser.execute_script("return padState.model.name") == shown_name()
    if browser.execute_script("return padState.model.has_prior"):  # its density on the shot
        wait_for(browser, "padState.density.mode === 'song' && padState.density.data.song === "
                          "padState.song")  # fmt: skip
    before = browser.execute_script("return padState.results.length")

    click_pad(browser, 0.2, 0.8)
    wait_for(browser, f"padState.results.length >= {before + 1} && !padState.busy")
    click_pad(browser, 0.8, 0.2)
    wait_for(browser, f"padState.results.length >= {before + 2} && !padState.busy")
    first, second = browser.execute_script("return padState.results.slice(-2)")
    assert browser.execute_script("return padState.results.length") == before + 2  # 1 per click
    assert first["z"][0] < second["z"][0] and first["z"][1] < second["z"][1]  # pad orientation
    assert first["samples"] == second["samples"] > 0  # both decoded by the browser, full length
    assert first["checksum"] != second["checksum"]  # two different basses
    wav = [urllib.request.urlopen(server + r["urls"]["bass_wav"]).read() for r in (first, second)]
    assert wav[0] != wav[1]

    # play, so the page mixes the two sources; then the export links of the last bass
    browser.find_element(By.ID, "play").click()
    wait_for(browser, "padState.playing")
    assert browser.find_element(By.ID, "play").text == "Stop"
    midi_link = browser.find_element(By.ID, "export-midi")
    assert "disabled" not in midi_link.get_attribute("class")
    midi = mido.MidiFile(file=io.BytesIO(urllib.request.urlopen(midi_link.get_attribute("href"))
                                         .read()))  # fmt: skip
    assert any(m.type == "note_on" for m in midi) or second["notes"] == 0
    status = browser.find_element(By.ID, "status").text
    assert "ready in" in status and "error" not in browser.find_element(
        By.ID, "status").get_attribute("class")  # fmt: skip

    shot = Path(os.environ.get("BASSNET_SCREENSHOT") or tmp_path / "pad.png")
    shot.parent.mkdir(parents=True, exist_ok=True)
    size = browser.get_window_size()
    browser.set_window_size(size["width"], 900)  # tall enough for the density's legend
    browser.save_screenshot(str(shot))
    browser.set_window_size(size["width"], size["height"])
    assert shot.stat().st_size > 10_000
    browser.find_element(By.ID, "play").click()  # stop


def test_a_bad_upload_gets_a_clear_message_in_the_page(browser, server, tmp_path):
    from selenium.webdriver.common.by import By

    browser.get(server + "/")
    wait_for(browser, "window.padState && padState.results.length >= 1 && !padState.busy")
    junk = tmp_path / "letter.wav"
    junk.write_bytes(b"Dear bass player, " * 200)
    browser.find_element(By.ID, "upload").send_keys(str(junk))
    wait_for(browser, "document.getElementById('status').classList.contains('error')")
    text = browser.find_element(By.ID, "status").text
    assert text.startswith("Upload refused:") and "letter.wav: unreadable audio" in text
    status = json.loads(urllib.request.urlopen(server + "/api/models").read())
    assert status["models"]  # the server is still up


def pad_pixels(driver):
    """The pad as the user sees it (map, density, dot): a (480, 480, 3) int array of its
    content box, one pixel per CSS pixel."""
    import numpy as np
    from PIL import Image

    # the viewport's picture, cut where the page says the pad is (an element screenshot can
    # be cut a scroll away from it after a control below the pad was used)
    left, top, ratio = driver.execute_script(
        "const pad = document.getElementById('pad'); pad.scrollIntoView({block: 'nearest'});"
        "const box = pad.getBoundingClientRect();"
        "return [box.left + pad.clientLeft, box.top + pad.clientTop, window.devicePixelRatio]"
    )
    assert ratio == 1
    shot = Image.open(io.BytesIO(driver.get_screenshot_as_png())).convert("RGB")
    box = (round(left), round(top), round(left) + 480, round(top) + 480)
    return np.asarray(shot.crop(box), dtype=int)


def at(image, extent, z, half=4):
    """The mean colour (C,) of the (2·half+1)² pixels around point z of the pad."""
    x0, x1, y0, y1 = extent
    col = round((z[0] - x0) / (x1 - x0) * image.shape[1])
    row = round((y1 - z[1]) / (y1 - y0) * image.shape[0])
    patch = image[row - half : row + half + 1, col - half : col + half + 1]
    return patch.reshape(-1, image.shape[-1]).mean(0)


def set_mode(driver, mode):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    Select(driver.find_element(By.ID, "density-mode")).select_by_value(mode)
    wait_for(driver, f"document.getElementById('pad-density').dataset.mode === '{mode}'")


def test_the_pad_shows_where_the_songs_bass_probably_lies_over_the_song_and_as_it_plays(
    browser, server
):
    import numpy as np
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    browser.get(server + "/")
    wait_for(browser, "window.padState && padState.results.length >= 1 && !padState.busy")
    Select(browser.find_element(By.ID, "model")).select_by_value(PRIOR_MODEL)
    Select(browser.find_element(By.ID, "song")).select_by_index(1)
    song = wait_for(browser, "padState.song")
    wait_for(browser, f"padState.density.mode === 'song' && padState.density.data.song === "
                      f"'{song}' && padState.density.data.model === '{PRIOR_MODEL}'")  # fmt: skip
    data = browser.execute_script("return padState.density.data")
    extent = browser.execute_script("return padState.model.extent")
    assert data == json.loads(urllib.request.urlopen(
        f"{server}/api/density?model=A1%2010-40&song={song}").read())  # fmt: skip
    means, weights = np.array(data["means"]), np.array(data["weights"])
    densest = int(np.argmax(data["average"]))

    # whole song: the layer glows (magenta: less green) over the densest component's mean, on
    # the pad's own z axes, and leaves the pad far from every component as it was
    on = pad_pixels(browser)
    peak = browser.execute_script("return padState.density.peak")
    assert np.linalg.norm(np.array(peak) - means[densest]) < 0.1
    set_mode(browser, "off")
    off = pad_pixels(browser)
    glow = off[..., 1] - on[..., 1]  # how much green the layer took away
    far = [extent[1] - 0.05, extent[3] - 0.05]  # the top right corner
    assert at(glow[..., None], extent, means[densest])[0] > 40
    assert abs(at(glow[..., None], extent, far)[0]) < 3
    assert browser.execute_script("return padState.density.weights") is None

    # as it plays, stopped at a moment where another component leads: the weights of that
    # moment, drawn where that component lies
    set_mode(browser, "playing")
    lead = weights.argmax(1)
    i = int(np.argmax(weights[np.arange(len(weights)), lead] - weights[:, densest]))
    assert lead[i] != densest, "this test's prior should not give one component all the song"
    browser.execute_script(f"padState.offset = {data['times'][i]}")
    wait_for(browser, f"padState.density.mode === 'playing' && "
                      f"Math.abs(padState.density.time - {data['times'][i]}) < 1e-9")  # fmt: skip
    np.testing.assert_allclose(browser.execute_script("return padState.density.weights"),
                               weights[i], atol=1e-9)  # fmt: skip
    peak = browser.execute_script("return padState.density.peak")
    assert np.linalg.norm(np.array(peak) - means[lead[i]]) < 0.1
    moment = pad_pixels(browser)
    change = on[..., 1:2] - moment[..., 1:2]  # green taken away since the whole song's layer
    assert at(change, extent, means[lead[i]])[0] > 10  # more glow where it leads now
    assert at(change, extent, means[densest])[0] < -10  # less where the whole song's leads

    # playing: the layer follows the playback position
    browser.execute_script("padState.offset = 0")
    draws = int(browser.find_element(By.ID, "pad-density").get_attribute("data-draws"))
    browser.find_element(By.ID, "play").click()
    wait_for(browser, "padState.playing && padState.density.time > 0.6")
    assert int(browser.find_element(By.ID, "pad-density").get_attribute("data-draws")) > draws + 3
    t, drawn = browser.execute_script("return [padState.density.time, padState.density.weights]")
    expected = [np.interp(t, data["times"], weights[:, k]) for k in range(weights.shape[1])]
    np.testing.assert_allclose(drawn, expected, atol=1e-9)
    browser.find_element(By.ID, "play").click()  # stop
    set_mode(browser, "song")
    assert browser.execute_script("return padState.density.weights") == data["average"]

    # a model without a prior: a note, nothing drawn; back to one with a prior: drawn again
    Select(browser.find_element(By.ID, "model")).select_by_value(NO_PRIOR_MODEL)
    wait_for(browser, "padState.model.name === 'A2 10-40' && padState.density.note")
    note = browser.find_element(By.ID, "density-note").text
    assert note == "Model A2 10-40 has no prior p(z|x): no density to show where to click."
    assert browser.execute_script("return padState.density.data") is None
    assert browser.find_element(By.ID, "pad-density").get_attribute("data-mode") == "off"
    assert not browser.find_element(By.ID, "density-mode").is_enabled()
    Select(browser.find_element(By.ID, "model")).select_by_value(PRIOR_MODEL)
    wait_for(browser, "padState.density.mode === 'song' && padState.density.data")
    assert browser.find_element(By.ID, "density-note").text == ""
