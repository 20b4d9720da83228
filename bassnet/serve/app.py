"""The pad's HTTP side: a FastAPI app over a `Studio`, and the static page in `static/`.

    GET  /                               the page
    GET  /api/models                     models to pick from: name, label (none is loaded)
    GET  /api/models/{name}              a model, loaded on this first pick: window, pad extent
    GET  /api/models/{name}/pad.png      the pad's picture (density of µ, pattern regions)
    GET  /api/songs                      songs to pick from
    POST /api/songs?name=FILE            upload a song (the request body is the file, sent as
                                         application/octet-stream or audio/*)
    GET  /api/songs/{id}/mix             the song's audio, for playback
    GET  /api/density?model=M&song=ID    the song's density over the pad from the model's
                                         prior p(z|x): components, per-time and average
                                         weights (404 for a model without a prior)
    POST /api/generate                   {song, model, z: [z1, z2]} or {song, model, path:
                                         [[time_s, z1, z2], ...]} → a result with its links
    GET  /api/results/{id}/{file}        bass.wav, bass.mid, mix_bass.wav, path.csv

Errors come back as JSON {"detail": message} with a status that says what kind: 400 bad
input, 403 a request from another site, 404 unknown id, 413 too large or too long, 415 a
write without its content type, 503 busy.

Other web pages the user visits must not drive the pad. A request whose Host is not a name of
the served address is refused (DNS rebinding: another site's name pointed at 127.0.0.1), and
so is a POST whose Origin is another site's, or whose content type is one a page can send to
another site without asking first (a CORS "simple" request): generate takes application/json,
an upload application/octet-stream or audio/*. The app sends no CORS headers, so a browser's
preflight for those fails and the request is never sent.
"""

from __future__ import annotations

import socket
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel

from bassnet.errors import BassnetError
from bassnet.serve.studio import Busy, NoPrior, NotFound, Studio, TooLarge

STATIC = Path(__file__).parent / "static"
FILES = {
    "bass.wav": "audio/wav",
    "bass.mid": "audio/midi",
    "mix_bass.wav": "audio/wav",
    "path.csv": "text/csv",
}
STATUS = {NotFound: 404, NoPrior: 404, TooLarge: 413, Busy: 503}
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
ANY_ADDRESS = {"0.0.0.0", "::", ""}
# content types a POST to each route needs: none is CORS-safelisted (text/plain, multipart/
# form-data, application/x-www-form-urlencoded), so a cross-site page cannot send them blind
WRITE_TYPES = {"/api/generate": ("application/json",),
               "/api/songs": ("application/octet-stream", "audio/")}  # fmt: skip


def host_names(host: str) -> set[str] | None:
    """The Host names a server listening on `host` answers to; None (any) when it listens on
    every address, as then the names it is reached by are not known."""
    if host in ANY_ADDRESS:
        return None
    names = {host.lower().strip("[]")}
    if names & LOOPBACK:
        names |= LOOPBACK
    else:  # this machine's own names, by which a LAN user reaches it
        names |= {socket.gethostname().lower(), socket.getfqdn().lower()}
    return names


def _hostname(netloc: str) -> str | None:
    """The host name of a Host header or an Origin's netloc ("[::1]:8000" → "::1")."""
    try:
        return urlsplit(f"//{netloc}").hostname
    except ValueError:
        return None


def refusal(method: str, path: str, headers, allowed: set[str] | None) -> tuple[int, str] | None:
    """(status, message) for a request another site could have made, else None: see the
    module doc. `headers` is a case-insensitive mapping, `allowed` from `host_names`."""
    host = headers.get("host", "")
    if allowed is not None and _hostname(host) not in allowed:
        return 403, f"this pad is not served as {host!r}"
    if method in ("GET", "HEAD", "OPTIONS"):
        return None
    origin = headers.get("origin")
    if origin is not None and (origin == "null" or urlsplit(origin).netloc.lower() != host.lower()):
        return 403, f"a request from another site ({origin}) may not change this pad"
    wanted = WRITE_TYPES.get(path)
    kind = headers.get("content-type", "").split(";")[0].strip().lower()
    if wanted and not any(kind == w or (w.endswith("/") and kind.startswith(w)) for w in wanted):
        return (
            415,
            f"{path} takes {' or '.join(w + '*' * w.endswith('/') for w in wanted)}, "
            f"not {kind or 'no content type'}",
        )
    return None


class GenerateRequest(BaseModel):
    song: str
    model: str
    z: list[float] | None = None
    path: list[list[float]] | None = None


def create_app(studio: Studio, host: str = "127.0.0.1") -> FastAPI:
    """The app serving `studio` (see the module doc for its routes), answering requests for
    the address `host` it listens on."""
    app = FastAPI(title="BassNet pad", docs_url=None, redoc_url=None)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    allowed = host_names(host)

    @app.middleware("http")
    async def _same_site_only(request: Request, call_next):
        refused = refusal(request.method, request.url.path, request.headers, allowed)
        if refused:
            return JSONResponse({"detail": refused[1]}, status_code=refused[0])
        return await call_next(request)

    @app.exception_handler(BassnetError)
    async def _bassnet_error(request: Request, err: BassnetError) -> JSONResponse:
        return JSONResponse({"detail": str(err)}, status_code=STATUS.get(type(err), 400))

    @app.get("/")
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    @app.get("/api/models")
    def models() -> dict:
        # listed without loading: a model file is read only when the user picks it
        return {"models": [entry.summary() for entry in studio.models.values()]}

    # {name:path}: a model given as `--model some/dir/model.pt` is named by its path; the
    # picture's route comes first, since a path's name would match it too
    @app.get("/api/models/{name:path}/pad.png")
    def pad(name: str) -> Response:
        return Response(studio.pad_image(name), media_type="image/png",
                        headers={"Cache-Control": "max-age=3600"})  # fmt: skip

    @app.get("/api/models/{name:path}")
    def model(name: str) -> dict:
        return studio.model(name).describe()  # a file that is no model: 400 with its reason

    @app.get("/api/songs")
    def songs() -> dict:
        return {"songs": studio.song_list()}

    @app.post("/api/songs")
    async def upload(request: Request, name: str = "upload") -> dict:
        # The body goes to disk as it arrives: an oversized upload is refused after at most
        # the limit, and memory holds one chunk at a time.
        studio.check_upload_name(name)
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

    @app.get("/api/density")
    def density(model: str, song: str) -> dict:
        return studio.density(song, model)

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
