"""The pad's HTTP side: a FastAPI app over a `Studio`, and the static page in `static/`.

    GET  /                               the page
    GET  /api/models                     models: name, label, window, pad extent
    GET  /api/models/{name}/pad.png      the pad's picture (density of µ, pattern regions)
    GET  /api/songs                      songs to pick from
    POST /api/songs?name=FILE            upload a song (the request body is the file)
    GET  /api/songs/{id}/mix             the song's audio, for playback
    POST /api/generate                   {song, model, z: [z1, z2]} or {song, model, path:
                                         [[time_s, z1, z2], ...]} → a result with its links
    GET  /api/results/{id}/{file}        bass.wav, bass.mid, mix_bass.wav, path.csv

Errors come back as JSON {"detail": message} with a status that says what kind: 400 bad
input, 404 unknown id, 413 too large or too long, 503 busy.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel

from bassnet.errors import BassnetError
from bassnet.serve.studio import Busy, NotFound, Studio, TooLarge

STATIC = Path(__file__).parent / "static"
FILES = {
    "bass.wav": "audio/wav",
    "bass.mid": "audio/midi",
    "mix_bass.wav": "audio/wav",
    "path.csv": "text/csv",
}
STATUS = {NotFound: 404, TooLarge: 413, Busy: 503}


class GenerateRequest(BaseModel):
    song: str
    model: str
    z: list[float] | None = None
    path: list[list[float]] | None = None


def create_app(studio: Studio) -> FastAPI:
    """The app serving `studio` (see the module doc for its routes)."""
    app = FastAPI(title="BassNet pad", docs_url=None, redoc_url=None)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.exception_handler(BassnetError)
    async def _bassnet_error(request: Request, err: BassnetError) -> JSONResponse:
        return JSONResponse({"detail": str(err)}, status_code=STATUS.get(type(err), 400))

    @app.get("/")
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    @app.get("/api/models")
    def models() -> dict:
        # a model file that does not load is left out of the list (and said in the log), so one
        # bad file under models/ does not take the page down
        listed = []
        for name in list(studio.models):
            try:
                listed.append(studio.model(name).describe())
            except BassnetError as err:
                warnings.warn(f"model {name!r} left out: {err}", stacklevel=1)
        return {"models": listed}

    @app.get("/api/models/{name}/pad.png")
    def pad(name: str) -> Response:
        return Response(studio.pad_image(name), media_type="image/png",
                        headers={"Cache-Control": "max-age=3600"})  # fmt: skip

    @app.get("/api/songs")
    def songs() -> dict:
        return {"songs": studio.song_list()}

    @app.post("/api/songs")
    async def upload(request: Request, name: str = "upload") -> dict:
        # The body goes to disk as it arrives: an oversized upload is refused after at most
        # the limit, and memory holds one chunk at a time.
        length = request.headers.get("content-length", "")
        studio.check_upload_size(name, int(length) if length.isdigit() else 0)
        received = studio.new_upload_path()
        try:
            with open(received, "wb") as spool:
                async for chunk in request.stream():
                    studio.check_upload_size(name, spool.tell() + len(chunk))
                    spool.write(chunk)
            song = await run_in_threadpool(studio.add_upload_file, name, received)
        finally:
            received.unlink(missing_ok=True)
        return song.describe()

    @app.get("/api/songs/{song_id}/mix")
    def mix(song_id: str) -> FileResponse:
        path = studio.song_files.get(song_id)
        if path is None:
            raise NotFound(f"no song {song_id!r}")
        return FileResponse(path)

    @app.post("/api/generate")
    def generate(request: GenerateRequest) -> dict:
        result = studio.generate(request.song, request.model, request.z, request.path)
        base = f"/api/results/{result.id}"
        urls = {"bass_wav": f"{base}/bass.wav", "midi": f"{base}/bass.mid",
                "mix_wav": f"{base}/mix_bass.wav"}  # fmt: skip
        if result.path_csv is not None:
            urls["path_csv"] = f"{base}/path.csv"
        return {"id": result.id, "song": result.song, "model": result.model,
                "notes": result.notes, "compute_ms": round(result.compute_ms, 1),
                "warnings": result.warnings, "urls": urls}  # fmt: skip

    @app.get("/api/results/{result_id}/{file}")
    def result_file(result_id: str, file: str) -> Response:
        if file not in FILES:
            raise NotFound(f"no file {file!r} (there are {', '.join(FILES)})")
        result = studio.result(result_id)
        if file == "bass.wav":
            body = result.wav
        elif file == "bass.mid":
            body = result.midi
        elif file == "mix_bass.wav":
            body = studio.mix_with_bass(result_id)
        else:
            if result.path_csv is None:
                raise NotFound(f"result {result_id} was made at a point, not along a path")
            body = result.path_csv.encode()
        stem = f"bass-{result.song}-{result.id}"
        name = {
            "bass.wav": f"{stem}.wav",
            "bass.mid": f"{stem}.mid",
            "mix_bass.wav": f"{stem}-with-mix.wav",
            "path.csv": f"{stem}-path.csv",
        }[file]
        disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
        return Response(body, media_type=FILES[file], headers=disposition)

    return app
