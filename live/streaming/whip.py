"""WHIP (RFC 9725) and WHEP endpoints and live HLS files, as Starlette routes.

    POST    /whip/{slug}            publish (Bearer stream key)  -> 201 + answer
    DELETE  /whip/{slug}/{session}  stop publishing (Bearer stream key)
    POST    /whep/{slug}            view                          -> 201 + answer
    DELETE  /whep/{slug}/{session}  stop viewing
    PATCH   .../{session}           405: no trickle ICE or ICE restart (RFC 9725 4.3.1)
    OPTIONS any of these            CORS, and the ICE servers as Link headers
    GET     /live/{slug}/master.m3u8, index.m3u8, seg_NNNNN.ts, subs.m3u8, sub_NNNNN.vtt
    The sign-language interpreter's stream, the same with its own key (Bearer interpreter key):
    POST /whip/{slug}/interpreter, DELETE /whip/{slug}/interpreter/{session},
    POST /whep/{slug}/interpreter, DELETE /whep/{slug}/interpreter/{session},
    GET  /live/{slug}/interpreter/index.m3u8 (and its segments)
            (once the HLS writer has failed, e.g. on a full disk, the playlist is served
            from memory with #EXT-X-ENDLIST, so what was written stays playable)

The `LiveStreams` instance is taken from the lifespan state (`request.state.streams`).
The interpreter's stream is a stream of its own in it, named `interpreter_name(slug)`
(`{slug}_interpreter`: event slugs have no `_`, so it never names an event's main stream);
it has its own recording and live HLS folder, and is finished into the archive beside the
main recording.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from live.errors import BadRequest, NotFound, SalenError, Unauthorized
from live.ops.accel import file_response
from stream.hls import PLAYLIST, SEGMENT_NAME
from stream.manager import LiveStreams, check_name
from stream.subtitles import MASTER, SUBTITLE_NAME, SUBTITLES

KeyCheck = Callable[[Request, str, str], Awaitable[bool | None]]
WatchCheck = Callable[[Request, str], Awaitable[bool]]
MAX_SDP_BYTES = 64 * 1024
CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST, DELETE, PATCH, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Content-Type, If-Match",
    "Access-Control-Expose-Headers": "Location, ETag, Link, Retry-After, Accept-Patch",
    "Access-Control-Max-Age": "600",
}
# A CDN in front may hold the live playlist for half a segment (segments are ~2 s), so a
# crowd costs the origin about one request a second per edge; segments never change.
PLAYLIST_CACHE = "public, max-age=1"
SEGMENT_CACHE = "public, max-age=86400, immutable"
Endpoint = Callable[[Request], Awaitable[Response]]
INTERPRETER = "_interpreter"


def interpreter_name(slug: str) -> str:
    """The stream name of the event's sign-language interpreter."""
    return f"{check_name(slug)}{INTERPRETER}"


def interpreter_of(name: str) -> str | None:
    """The event slug when `name` is an interpreter's stream, else None."""
    return name.removesuffix(INTERPRETER) if name.endswith(INTERPRETER) else None


def routes(check_stream_key: KeyCheck, may_watch: WatchCheck | None = None,
           check_interpreter_key: KeyCheck | None = None) -> list[Route]:
    """The streaming routes; `check_stream_key(request, slug, token)` is True, False, or None
    (no such slug); `may_watch(request, slug)`, when given, is False for a stream the caller
    may not watch (WHEP and live HLS then answer 404); `check_interpreter_key`, when given,
    checks the interpreter's key and adds the interpreter's routes."""

    async def check_watch(request: Request, slug: str) -> None:
        if may_watch is not None and not await may_watch(request, slug):
            raise NotFound(f"No event {slug!r}.", code="stream.unknown")

    async def whip_post(request: Request) -> Response:
        slug = check_name(request.path_params["slug"])
        await _authorise(request, slug, check_stream_key)
        session = await _streams(request).publish(slug, await _sdp_body(request))
        return _created(request, f"/whip/{slug}/{session.id}", session.id, session.answer)

    async def whip_delete(request: Request) -> Response:
        slug = check_name(request.path_params["slug"])
        await _authorise(request, slug, check_stream_key)
        await _streams(request).end_publish(slug, request.path_params["session"])
        return Response(status_code=200, headers=CORS)

    async def whep_post(request: Request) -> Response:
        slug = check_name(request.path_params["slug"])
        await check_watch(request, slug)
        session = await _streams(request).add_viewer(slug, await _sdp_body(request))
        return _created(request, f"/whep/{slug}/{session.id}", session.id, session.answer)

    async def whep_delete(request: Request) -> Response:
        slug = check_name(request.path_params["slug"])
        await _streams(request).remove_viewer(slug, request.path_params["session"])
        return Response(status_code=200, headers=CORS)

    async def hls_file(request: Request) -> Response:
        slug = check_name(request.path_params["slug"])
        await check_watch(request, slug)
        return await _hls_file(request, slug)

    main = [
        Route("/whip/{slug}", _guard(whip_post), methods=["POST"]),
        Route("/whip/{slug}", _options, methods=["OPTIONS"]),
        Route("/whip/{slug}/{session}", _guard(whip_delete), methods=["DELETE"]),
        Route("/whip/{slug}/{session}", _patch, methods=["PATCH"]),
        Route("/whip/{slug}/{session}", _options, methods=["OPTIONS"]),
        Route("/whep/{slug}", _guard(whep_post), methods=["POST"]),
        Route("/whep/{slug}", _options, methods=["OPTIONS"]),
        Route("/whep/{slug}/{session}", _guard(whep_delete), methods=["DELETE"]),
        Route("/whep/{slug}/{session}", _patch, methods=["PATCH"]),
        Route("/whep/{slug}/{session}", _options, methods=["OPTIONS"]),
        Route("/live/{slug}/{file}", _guard(hls_file), methods=["GET", "HEAD"]),
    ]
    if check_interpreter_key is None:
        return main
    return [*_interpreter_routes(check_interpreter_key, check_watch), *main]


def _interpreter_routes(
    check_key: KeyCheck, check_watch: Callable[[Request, str], Awaitable[None]]
) -> list[Route]:
    """The interpreter's WHIP, WHEP and live HLS: the main routes' twins on its own stream."""

    async def whip_post(request: Request) -> Response:
        slug = check_name(request.path_params["slug"])
        await _authorise(request, slug, check_key)
        session = await _streams(request).publish(interpreter_name(slug), await _sdp_body(request))
        return _created(request, f"/whip/{slug}/interpreter/{session.id}", session.id,
                        session.answer)

    async def whip_delete(request: Request) -> Response:
        slug = check_name(request.path_params["slug"])
        await _authorise(request, slug, check_key)
        await _streams(request).end_publish(interpreter_name(slug), request.path_params["session"])
        return Response(status_code=200, headers=CORS)

    async def whep_post(request: Request) -> Response:
        slug = check_name(request.path_params["slug"])
        await check_watch(request, slug)
        session = await _streams(request).add_viewer(interpreter_name(slug),
                                                      await _sdp_body(request))
        return _created(request, f"/whep/{slug}/interpreter/{session.id}", session.id,
                        session.answer)

    async def whep_delete(request: Request) -> Response:
        slug = check_name(request.path_params["slug"])
        await _streams(request).remove_viewer(interpreter_name(slug),
                                              request.path_params["session"])
        return Response(status_code=200, headers=CORS)

    async def hls_file(request: Request) -> Response:
        slug = check_name(request.path_params["slug"])
        await check_watch(request, slug)
        return await _hls_file(request, interpreter_name(slug))

    return [
        Route("/whip/{slug}/interpreter", _guard(whip_post), methods=["POST"]),
        Route("/whip/{slug}/interpreter/{session}", _guard(whip_delete), methods=["DELETE"]),
        Route("/whip/{slug}/interpreter/{session}", _patch, methods=["PATCH"]),
        Route("/whip/{slug}/interpreter/{session}", _options, methods=["OPTIONS"]),
        Route("/whep/{slug}/interpreter", _guard(whep_post), methods=["POST"]),
        Route("/whep/{slug}/interpreter/{session}", _guard(whep_delete), methods=["DELETE"]),
        Route("/whep/{slug}/interpreter/{session}", _patch, methods=["PATCH"]),
        Route("/whep/{slug}/interpreter/{session}", _options, methods=["OPTIONS"]),
        Route("/live/{slug}/interpreter/{file}", _guard(hls_file), methods=["GET", "HEAD"]),
    ]


def _streams(request: Request) -> LiveStreams:
    streams = getattr(request.state, "streams", None)
    if not isinstance(streams, LiveStreams):
        raise TypeError("request.state.streams must be the app's LiveStreams (lifespan state)")
    return streams


def _guard(endpoint: Endpoint) -> Endpoint:
    """Turn Salen errors into JSON replies that still carry the CORS headers."""

    async def guarded(request: Request) -> Response:
        try:
            return await endpoint(request)
        except SalenError as exc:
            return JSONResponse(exc.as_dict(), exc.status, headers={**CORS, **exc.headers})

    return guarded


async def _authorise(request: Request, slug: str, check: KeyCheck) -> None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    challenge = {"WWW-Authenticate": 'Bearer realm="salen"'}
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(
            "A stream key is needed: Authorization: Bearer <key>.",
            code="stream.key_missing",
            headers=challenge,
        )
    verdict = await check(request, slug, token.strip())
    if verdict is None:
        raise NotFound(f"No event {slug!r}.", code="stream.unknown")
    if not verdict:
        raise Unauthorized("Wrong stream key.", code="stream.key_wrong", headers=challenge)


async def _sdp_body(request: Request) -> str:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/sdp":
        raise BadRequest("The body must be application/sdp.", code="sdp.content_type")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_SDP_BYTES:
            raise BadRequest("The SDP offer is too large.", code="sdp.too_large")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest("The SDP offer is not UTF-8.", code="sdp.malformed") from exc


def _created(request: Request, location: str, etag: str, answer: str) -> Response:
    response = Response(answer, status_code=201, media_type="application/sdp")
    response.headers.update(CORS)
    response.headers["Location"] = location
    response.headers["ETag"] = f'"{etag}"'
    for link in _streams(request).ice.link_headers():
        response.headers.append("Link", link)
    return response


async def _options(request: Request) -> Response:
    response = Response(status_code=204, headers=CORS)
    streams = getattr(request.state, "streams", None)
    if isinstance(streams, LiveStreams) and "access-control-request-method" not in request.headers:
        for link in streams.ice.link_headers():
            response.headers.append("Link", link)
    return response


async def _patch(request: Request) -> Response:
    """Trickle ICE and ICE restarts are not supported: 405, as RFC 9725 asks."""
    return Response(
        "Trickle ICE is not supported; send all candidates in the offer.",
        status_code=405,
        headers={**CORS, "Allow": "DELETE, OPTIONS"},
    )


async def _hls_file(request: Request, slug: str) -> Response:
    name = request.path_params["file"]
    folder = _streams(request).hls_folder(slug)
    if name in (PLAYLIST, MASTER, SUBTITLES):
        media_type, cache = "application/vnd.apple.mpegurl", PLAYLIST_CACHE
    elif SEGMENT_NAME.fullmatch(name):
        media_type, cache = "video/mp2t", SEGMENT_CACHE
    elif SUBTITLE_NAME.fullmatch(name):
        media_type, cache = "text/vtt; charset=utf-8", SEGMENT_CACHE
    else:
        raise NotFound("No such file.", code="hls.unknown")
    headers = {"Cache-Control": cache, "Access-Control-Allow-Origin": "*"}
    stopped = _streams(request).stopped_playlist(slug) if name == PLAYLIST else None
    if stopped is not None:  # its writer failed (disk full): ended, so players stop waiting
        return Response(stopped, media_type=media_type, headers=headers)
    path = folder / name
    if not path.is_file():
        raise NotFound("The stream has no live HLS now.", code="hls.missing")
    return file_response(request, path, media_type, headers)
