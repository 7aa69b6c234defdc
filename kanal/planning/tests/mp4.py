"""Build small, valid ISO base media files (MP4/MOV) for tests.

Only the boxes a parser needs to find duration, codec and dimensions: ftyp,
moov (mvhd, trak (tkhd, mdia (mdhd, hdlr, minf (stbl (stsd))))), mdat.
"""

from __future__ import annotations

import struct


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def full_box(kind: bytes, payload: bytes, version: int = 0, flags: int = 0) -> bytes:
    return box(kind, struct.pack(">I", (version << 24) | flags) + payload)


MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)


def mvhd(timescale: int, duration: int) -> bytes:
    return full_box(
        b"mvhd",
        struct.pack(">IIII", 0, 0, timescale, duration)
        + struct.pack(">IH", 0x10000, 0x100)
        + b"\0" * 10
        + MATRIX
        + b"\0" * 24
        + struct.pack(">I", 2),
    )


def tkhd(width: int, height: int, duration: int) -> bytes:
    return full_box(
        b"tkhd",
        struct.pack(">IIIII", 0, 0, 1, 0, duration)
        + b"\0" * 8
        + struct.pack(">hhhH", 0, 0, 0, 0)
        + MATRIX
        + struct.pack(">II", width << 16, height << 16),
        flags=3,
    )


def mdhd(timescale: int, duration: int) -> bytes:
    return full_box(
        b"mdhd", struct.pack(">IIIIHH", 0, 0, timescale, duration, 0x55C4, 0)
    )


def hdlr(handler: bytes) -> bytes:
    return full_box(b"hdlr", struct.pack(">I", 0) + handler + b"\0" * 12 + b"kanal\0")


def visual_entry(codec: bytes, width: int, height: int) -> bytes:
    return box(
        codec,
        b"\0" * 6
        + struct.pack(">H", 1)
        + b"\0" * 16
        + struct.pack(">HH", width, height)
        + struct.pack(">II", 0x480000, 0x480000)
        + b"\0" * 4
        + struct.pack(">H", 1)
        + b"\0" * 32
        + struct.pack(">Hh", 0x18, -1),
    )


def stsd(entry: bytes) -> bytes:
    return full_box(b"stsd", struct.pack(">I", 1) + entry)


def video_trak(codec: bytes, width: int, height: int, seconds: float) -> bytes:
    timescale = 1000
    duration = int(seconds * timescale)
    stbl = box(b"stbl", stsd(visual_entry(codec, width, height)))
    minf = box(b"minf", stbl)
    mdia = box(b"mdia", mdhd(timescale, duration) + hdlr(b"vide") + minf)
    return box(b"trak", tkhd(width, height, duration) + mdia)


def mp4(
    *,
    seconds: float = 5.0,
    width: int = 1280,
    height: int = 720,
    codec: bytes = b"avc1",
    brand: bytes = b"isom",
    media_bytes: int = 2048,
    with_video: bool = True,
    trailer: bytes = b"",
) -> bytes:
    """A small MP4 (or MOV with ``brand=b"qt  "``) that plays ``seconds``."""
    ftyp = box(b"ftyp", brand + struct.pack(">I", 0x200) + brand + b"mp41")
    traks = video_trak(codec, width, height, seconds) if with_video else b""
    moov = box(b"moov", mvhd(1000, int(seconds * 1000)) + traks)
    mdat = box(b"mdat", b"\x00\x00\x00\x10" + b"\x65" * (media_bytes - 4))
    return ftyp + moov + mdat + trailer
