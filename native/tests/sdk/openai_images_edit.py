"""The official `openai` Python SDK against `imgperf serve-mock`.

Usage: python openai_images_edit.py BASE_URL DIALECT WORKDIR

Calls `client.images.edit(...)` as a user of the SDK would: one image, a list
of images (sent as `image[]`), a mask, and a stream of partial images
(OpenAI dialect); checks what comes back and prints one line per call.
"""

import base64
import io
import struct
import sys
import zlib

from openai import OpenAI


def png(width, height, rgb):
    """A real PNG of one colour (no imaging library needed)."""

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes(rgb) * width
    raw = zlib.compress(row * height)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def size_of(b64):
    """(format, width, height) from the image's header."""
    data = base64.b64decode(b64)
    if data.startswith(b"\x89PNG"):
        return ("png",) + struct.unpack(">II", data[16:24])
    if data.startswith(b"\xff\xd8"):
        i = 2
        while i < len(data):
            marker, length = data[i + 1], struct.unpack(">H", data[i + 2 : i + 4])[0]
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                h, w = struct.unpack(">HH", data[i + 5 : i + 9])
                return ("jpeg", w, h)
            i += 2 + length
    raise AssertionError("not a PNG or JPEG: %r" % data[:8])


def main():
    base_url, dialect, workdir = sys.argv[1], sys.argv[2], sys.argv[3]
    client = OpenAI(base_url=base_url + "/v1", api_key="sk-imgperf-test", max_retries=0)
    ref = io.BytesIO(png(64, 48, (200, 120, 40)))
    ref.name = "ref.png"

    result = client.images.edit(
        model="black-forest-labs/FLUX.2-klein-4B",
        image=ref,
        prompt="Make the background a sunset",
        size="256x256",
        response_format="b64_json",
    )
    assert len(result.data) == 1, result
    fmt, w, h = size_of(result.data[0].b64_json)
    assert (w, h) == (256, 256), (fmt, w, h)
    print("edit: one image ->", fmt, w, h)

    path = workdir + "/second.png"
    with open(path, "wb") as f:
        f.write(png(32, 32, (10, 90, 200)))
    with open(path, "rb") as second:
        ref.seek(0)
        result = client.images.edit(
            model="black-forest-labs/FLUX.2-klein-4B",
            image=[ref, second],
            prompt="Put both in one scene",
            size="128x64",
            n=2,
            response_format="b64_json",
        )
    assert len(result.data) == 2, result
    assert all(size_of(d.b64_json)[1:] == (128, 64) for d in result.data)
    print("edit: two images, n=2 ->", [size_of(d.b64_json) for d in result.data])

    ref.seek(0)
    mask = io.BytesIO(png(64, 48, (0, 0, 0)))
    mask.name = "mask.png"
    result = client.images.edit(
        image=ref,
        mask=mask,
        prompt="Only the sky",
        size="64x64",
        response_format="b64_json",
    )
    assert size_of(result.data[0].b64_json)[1:] == (64, 64)
    print("edit: with a mask ->", size_of(result.data[0].b64_json))

    if dialect == "openai":
        ref.seek(0)
        events = list(
            client.images.edit(
                image=ref,
                prompt="Streamed",
                size="64x64",
                stream=True,
                partial_images=2,
            )
        )
        kinds = [e.type for e in events]
        assert kinds == [
            "image_edit.partial_image",
            "image_edit.partial_image",
            "image_edit.completed",
        ], kinds
        assert size_of(events[-1].b64_json)[1:] == (64, 64)
        print("edit: streamed ->", kinds)


if __name__ == "__main__":
    main()
