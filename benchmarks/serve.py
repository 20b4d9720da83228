"""Benchmark: how fast the pad of `bassnet serve` answers a click, for a 30-second song.

Renders one A1 song of 30 s, starts the real app on a local port (shipped A1 model), loads the
song once (its CQT and the model's mix factors are then kept), and clicks the pad at random
points:
- over HTTP: the time from the request to the bass WAV downloaded (`/api/generate` + the WAV),
  and the server's own compute time;
- in Debian's Chromium (headless, when installed): the page's own measurement from the click
  to the bass decoded by Web Audio and ready to play (`padState.results[].latencyMs`).
Prints medians and the 90th percentile; the issue's target is < 1 s from click to audio.
Writes benchmarks/results/serve.json.

Usage: python benchmarks/serve.py [--seconds 30] [--clicks 12] [--model A1] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import socket
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np
import uvicorn
from common import machine, render_a1_song

from bassnet.serve import browser
from bassnet.serve.app import create_app
from bassnet.serve.studio import Studio, dataset_songs, shipped_and_trained

RESULTS = Path(__file__).parent / "results" / "serve.json"


def post(url: str, body: dict) -> dict:
    request = urllib.request.Request(url, json.dumps(body).encode(),
                                     {"Content-Type": "application/json"})  # fmt: skip
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read())


def start(studio: Studio) -> tuple[uvicorn.Server, str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(studio), host="127.0.0.1", port=port,
                                           log_level="warning"))  # fmt: skip
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{port}"


def stats(values: list[float]) -> dict:
    return {"median_ms": round(float(np.median(values)), 1),
            "p90_ms": round(float(np.percentile(values, 90)), 1), "n": len(values)}  # fmt: skip


def browser_latencies(base: str, song: str, model: str, clicks: int, seed: int) -> list[float]:
    """Click the pad in headless Chromium; the page's click → decoded-bass latencies (ms)."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    driver = browser.headless_chromium()

    def wait(script: str) -> None:
        deadline = time.time() + 120
        while not driver.execute_script(f"return {script}"):
            if time.time() > deadline:
                raise TimeoutError(script)
            time.sleep(0.02)

    try:
        driver.get(base + "/")
        wait("window.padState && padState.results.length >= 1 && !padState.busy")
        Select(driver.find_element(By.ID, "model")).select_by_value(model)
        Select(driver.find_element(By.ID, "song")).select_by_value(song)
        wait(f"padState.song === '{song}' && padState.model.name === '{model}' && "
             "!padState.busy && !padState.pending")  # fmt: skip
        pad = driver.find_element(By.ID, "pad")
        rng = np.random.default_rng(seed)
        for _ in range(clicks):
            done = driver.execute_script("return padState.results.length")
            dx, dy = rng.uniform(-0.45, 0.45, 2) * pad.size["width"]
            ActionChains(driver).move_to_element_with_offset(
                pad, int(dx), int(dy)
            ).click().perform()
            wait(f"padState.results.length > {done} && !padState.busy")
        return driver.execute_script(
            f"return padState.results.slice(-{clicks}).map(r => r.latencyMs)"
        )
    finally:
        driver.quit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--clicks", type=int, default=12)
    parser.add_argument("--model", default="A1")
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args()

    results: dict = {"machine": machine(), "model": args.model}
    with tempfile.TemporaryDirectory() as tmp:
        render_a1_song(Path(tmp) / "datasets" / "A1", args.seconds, 4242)
        songs = dataset_songs(Path(tmp) / "datasets")
        song = next(iter(songs))
        studio = Studio(shipped_and_trained(None), songs, Path(tmp) / "uploads")
        server, base = start(studio)
        results["song_seconds"] = round(studio.song(song).seconds, 2)

        started = time.perf_counter()
        post(base + "/api/generate", {"song": song, "model": args.model, "z": [0.0, 0.0]})
        results["first_click_ms"] = round(1000 * (time.perf_counter() - started), 1)

        rng = np.random.default_rng(0)
        extent = studio.model(args.model).describe()["extent"]
        round_trips, computes = [], []
        for _ in range(args.clicks):
            z = [float(rng.uniform(extent[0], extent[1])), float(rng.uniform(extent[2], extent[3]))]
            started = time.perf_counter()
            result = post(base + "/api/generate", {"song": song, "model": args.model, "z": z})
            urllib.request.urlopen(base + result["urls"]["bass_wav"]).read()
            round_trips.append(1000 * (time.perf_counter() - started))
            computes.append(result["compute_ms"])
        results["http_click_to_wav"] = stats(round_trips)
        results["server_compute"] = stats(computes)
        if browser.installed():
            latencies = browser_latencies(base, song, args.model, args.clicks, 1)
            results["browser_click_to_decoded_audio"] = stats(latencies)
        server.should_exit = True

    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    print(f"pad, {results['song_seconds']:.0f}-s song, model {args.model}: first click "
          f"{results['first_click_ms']:.0f} ms (CQT + mix factors), then click → WAV over HTTP "
          f"{results['http_click_to_wav']['median_ms']:.0f} ms median "
          f"(p90 {results['http_click_to_wav']['p90_ms']:.0f})", end="")  # fmt: skip
    if "browser_click_to_decoded_audio" in results:
        b = results["browser_click_to_decoded_audio"]
        print(f", in Chromium click → decoded audio {b['median_ms']:.0f} ms median "
              f"(p90 {b['p90_ms']:.0f})", end="")  # fmt: skip
    print(f" → {args.out}")


if __name__ == "__main__":
    main()
