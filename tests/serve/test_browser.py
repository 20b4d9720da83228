"""The pad in a real browser: Debian's Chromium, headless, driven through Selenium.

`make test` installs chromium and chromium-driver and sets BASSNET_REQUIRE_BROWSER=1, so there
a missing browser fails the test; elsewhere it is skipped with the reason. The screenshot goes
to $BASSNET_SCREENSHOT when set (`make screenshot` → docs/pad.png), else to the test's folder.
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
    # the shipped A1 model: trained, with the map of its training data on the pad
    Select(browser.find_element(By.ID, "model")).select_by_value("A1")
    songs = Select(browser.find_element(By.ID, "song"))
    songs.select_by_index(1)  # another song than the first
    wait_for(browser, "padState.song && padState.results.length >= 2 && !padState.busy")
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
    browser.save_screenshot(str(shot))
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
