"""Multipart uploads streamed straight to disk (never held in memory) from request.stream().

Text fields and file names holding a NUL are refused with `invalid_text` (`live.bounds`).
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from live.bounds import TEXT_MESSAGE, text_problem
from live.errors import BadRequest, Invalid

MAX_FIELD_BYTES = 64_000  # small text fields (CSRF token, titles, language)


@dataclass
class Upload:
    """The text fields of a form and the files written to disk, by field name."""

    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    filenames: dict[str, str] = field(default_factory=dict)

    def discard(self) -> None:
        """Delete every file written (after a refusal, or once moved elsewhere)."""
        for path in self.files.values():
            path.unlink(missing_ok=True)


def _text(field: str, value: str) -> str:
    """`value`, unless it holds a NUL (a text field or a file name never does)."""
    if text_problem(value):
        raise Invalid(TEXT_MESSAGE, code="invalid_text", fields={field: TEXT_MESSAGE})
    return value


class _Receiver:
    """Callbacks for python-multipart: route each part to a file or to a bounded buffer."""

    def __init__(self, folder: Path, max_file_bytes: int) -> None:
        self.folder, self.max_file_bytes = folder, max_file_bytes
        self.upload = Upload()
        self.header_field = b""
        self.header_value = b""
        self.headers: dict[bytes, bytes] = {}
        self.name = ""
        self.sink: IO[bytes] | None = None
        self.buffer = bytearray()
        self.written = 0

    def on_part_begin(self) -> None:
        self.headers, self.buffer, self.sink, self.written = {}, bytearray(), None, 0

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        self.headers[self.header_field.lower()] = self.header_value
        self.header_field, self.header_value = b"", b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self.headers.get(b"content-disposition", b""))
        self.name = options.get(b"name", b"").decode("utf-8", "replace")
        filename = options.get(b"filename")
        if filename is not None:
            name = _text(self.name, filename.decode("utf-8", "replace"))
            original = Path(name.replace("\\", "/")).name
            suffix = Path(original).suffix.lower()[:10]
            path = self.folder / f"upload-{secrets.token_hex(8)}{suffix}"
            self.upload.files[self.name] = path
            self.upload.filenames[self.name] = original
            self.sink = path.open("wb")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self.sink is not None:
            self.written += len(chunk)
            if self.written > self.max_file_bytes:
                raise Invalid("The file is larger than this form accepts.", code="upload.too_large")
            self.sink.write(chunk)
        else:
            self.buffer += chunk
            if len(self.buffer) > MAX_FIELD_BYTES:
                raise Invalid("A form field is too long.", code="upload.field_too_long")

    def on_part_end(self) -> None:
        if self.sink is not None:
            self.sink.close()
            self.sink = None
            if self.written == 0:  # an empty file input: the browser sent no file
                self.upload.files.pop(self.name).unlink(missing_ok=True)
                self.upload.filenames.pop(self.name, None)
        else:
            self.upload.fields[self.name] = _text(self.name, self.buffer.decode("utf-8", "replace"))

    def close(self) -> None:
        if self.sink is not None:
            self.sink.close()


async def receive_upload(request: Request, folder: Path, max_file_bytes: int) -> Upload:
    """Parse a multipart/form-data request body chunk by chunk, writing files into `folder`."""
    kind, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise BadRequest("Send the form as multipart/form-data.", code="upload.not_multipart")
    folder.mkdir(parents=True, exist_ok=True)
    receiver = _Receiver(folder, max_file_bytes)
    callbacks = {
        name: getattr(receiver, name)
        for name in (
            "on_part_begin",
            "on_header_field",
            "on_header_value",
            "on_header_end",
            "on_headers_finished",
            "on_part_data",
            "on_part_end",
        )
    }
    parser = MultipartParser(boundary, callbacks)  # type: ignore[arg-type]
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except MultipartParseError as exc:
        receiver.close()
        receiver.upload.discard()
        raise BadRequest("The form data could not be read.", code="upload.malformed") from exc
    except BaseException:
        receiver.close()
        receiver.upload.discard()
        raise
    return receiver.upload


@contextlib.contextmanager
def cleaned(upload: Upload) -> Iterator[Upload]:
    """Delete the upload's leftover files however the block ends."""
    try:
        yield upload
    finally:
        upload.discard()
