"""Kanal's own rendition of an image for one network (Pillow; no Django).

What the editor approved must fit the strictest server that will receive it
(Bluesky's PDSes refuse more than 1,000,000 bytes; Instagram takes JPEG only,
between 4:5 and 1.91:1). Instead of letting a network refuse the post at
publish time, Kanal makes each network's rendition itself, from that
network's ``Capabilities``:

- **format**: kept when the network takes it, else JPEG (PNG or WebP for an
  image with transparency, where the network takes those);
- **orientation**: the EXIF rotation is applied to the pixels;
- **aspect ratio**: outside the network's range the image is *padded* (never
  cropped: nothing the editor approved, or the alt text describes, is cut
  away) with white to the nearest allowed ratio;
- **pixels**: scaled down to the network's pixel ceiling;
- **bytes**: re-encoded at the highest quality that fits (a binary search
  from 95 down to 60), then scaled down step by step if even that is too
  big;
- **metadata**: EXIF, XMP, IPTC and comments (camera, GPS position, names)
  are removed, losslessly where nothing else changes (JPEG segments and PNG
  chunks are dropped, the pixels untouched); the colour profile is kept.

``plan_image`` predicts from what is known without the file (type, bytes,
width, height) what ``fit_image`` will do, cheaply, for the editor's preview.
``fit_image`` does it and says what it did (``Rendition.changes``). Input is
untrusted: a file that cannot be read, or that unpacks to more than
``MAX_SOURCE_PIXELS``, raises ``CannotFit`` with a Danish message.
"""

from __future__ import annotations

import hashlib
import io
import math
import struct
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from PIL import Image, ImageOps, UnidentifiedImageError

from .base import Capabilities, MediaItem

#: Kanal refuses to unpack more (a small file can claim 100,000 × 100,000).
MAX_SOURCE_PIXELS = 80_000_000
QUALITY_MAX = 95
QUALITY_MIN = 60
#: Rounds of scaling down when even the lowest quality is too big.
MAX_SCALE_ROUNDS = 10
PAD_COLOUR = (255, 255, 255)

FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif",
           "WEBP": "image/webp"}
PIL_FORMAT = {mime: name for name, mime in FORMATS.items()}
EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif",
              "image/webp": ".webp"}
DEFAULT_FORMATS = frozenset({"image/jpeg", "image/png"})

#: What ``Rendition.changes`` and ``Plan.changes`` name.
CHANGES = ("format", "orientation", "padded", "pixels", "bytes", "metadata",
           "animation")


class CannotFit(ValueError):
    """The image cannot be made to fit; ``message`` (Danish) says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Change:
    """One thing Kanal did (or will do) to the image; ``detail`` has the
    numbers a message needs (sizes in bytes, pixels, ratios, MIME types)."""

    code: str
    detail: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    """What ``fit_image`` will do, predicted without reading the file."""

    mime_type: str
    width: int | None
    height: int | None
    changes: tuple[Change, ...]

    def has(self, code: str) -> bool:
        return any(c.code == code for c in self.changes)


@dataclass(frozen=True)
class Rendition:
    """The network's rendition and what was done to make it."""

    item: MediaItem
    changes: tuple[Change, ...]
    original_bytes: int

    @property
    def changed(self) -> bool:
        return bool(self.changes)

    def has(self, code: str) -> bool:
        return any(c.code == code for c in self.changes)


def caps_key(caps: Capabilities) -> str:
    """A short key for what in ``caps`` shapes a rendition (for caching)."""
    parts = (
        ",".join(sorted(caps.image_formats)), caps.max_image_bytes,
        caps.max_image_pixels, caps.min_aspect_ratio, caps.max_aspect_ratio,
        "fit-1",
    )
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


# --------------------------------------------------------------------------
# Decisions shared by the plan and the fit


def _allowed(caps: Capabilities) -> frozenset[str]:
    return frozenset(caps.image_formats) or DEFAULT_FORMATS


def target_mime(mime: str, *, transparent: bool, caps: Capabilities) -> str:
    """The rendition's type: the original's when the network takes it."""
    allowed = _allowed(caps)
    if mime in allowed:
        return mime
    if transparent:
        for candidate in ("image/png", "image/webp"):
            if candidate in allowed:
                return candidate
    if "image/jpeg" in allowed:
        return "image/jpeg"
    return sorted(allowed)[0]


def padded_size(width: int, height: int, caps: Capabilities) -> tuple[int, int]:
    """``(width, height)`` after padding to the network's aspect range."""
    ratio = width / height
    if caps.min_aspect_ratio and ratio < caps.min_aspect_ratio - 1e-9:
        return math.ceil(height * caps.min_aspect_ratio), height
    if caps.max_aspect_ratio and ratio > caps.max_aspect_ratio + 1e-9:
        return width, math.ceil(width / caps.max_aspect_ratio)
    return width, height


def pixel_scale(width: int, height: int, caps: Capabilities) -> float:
    """The factor (≤ 1) that brings ``width × height`` under the ceiling."""
    limit = caps.max_image_pixels
    if not limit or width * height <= limit:
        return 1.0
    return math.sqrt((limit - 1) / (width * height)) * 0.999


def _scaled(size: tuple[int, int], factor: float) -> tuple[int, int]:
    return max(1, int(size[0] * factor)), max(1, int(size[1] * factor))


def plan_image(
    *, mime_type: str, size: int, width: int | None, height: int | None,
    caps: Capabilities,
) -> Plan:
    """What ``fit_image`` will do to an image known by its type, bytes and
    dimensions (the EXIF rotation and metadata are not known here)."""
    changes: list[Change] = []
    transparent = mime_type in ("image/png", "image/gif", "image/webp")
    target = target_mime(mime_type, transparent=transparent, caps=caps)
    if target != mime_type:
        changes.append(Change("format", {"from": mime_type, "to": target}))
    w, h = width, height
    if w and h:
        padded = padded_size(w, h, caps)
        if padded != (w, h):
            changes.append(Change("padded", {"from_ratio": w / h,
                                             "to_ratio": padded[0] / padded[1]}))
            w, h = padded
        factor = pixel_scale(w, h, caps)
        if factor < 1:
            scaled = _scaled((w, h), factor)
            changes.append(Change("pixels", {"from": (w, h), "to": scaled,
                                             "limit": caps.max_image_pixels}))
            w, h = scaled
    limit = caps.max_image_bytes
    if limit and size > limit:
        changes.append(Change("bytes", {"from": size, "limit": limit}))
    return Plan(mime_type=target, width=w, height=h, changes=tuple(changes))


# --------------------------------------------------------------------------
# The fit


def fit_media(
    items: Iterable[MediaItem], caps: Capabilities
) -> tuple[Rendition, ...]:
    """Each image fitted to ``caps``; videos and items without bytes as they are."""
    return tuple(fit_image(item, caps) for item in items)


def fit_image(item: MediaItem, caps: Capabilities) -> Rendition:
    """The rendition of ``item`` for the network whose limits are ``caps``."""
    if item.kind != "image" or not item.data:
        return Rendition(item, (), item.size)
    data = item.data
    image = _open(data)
    try:
        return _fit(item, image, caps)
    finally:
        image.close()


def _open(data: bytes) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.width * image.height > MAX_SOURCE_PIXELS:
                image.close()
                raise CannotFit(
                    "too_many_pixels",
                    f"Billedet er {image.width} × {image.height} pixel; Kanal "
                    f"laver højst udgaver af billeder på "
                    f"{MAX_SOURCE_PIXELS // 1_000_000} megapixel. Gem det mindre.",
                )
            image.load()
            return image
    except CannotFit:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning,
            UnidentifiedImageError, OSError, SyntaxError, ValueError,
            struct.error) as e:
        raise CannotFit(
            "unreadable",
            "Kanal kunne ikke læse billedet og derfor ikke lave netværkets "
            "udgave af det. Gem det igen som JPEG eller PNG, og læg det op igen.",
        ) from e


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )


def _fit(item: MediaItem, image: Image.Image, caps: Capabilities) -> Rendition:
    original = len(item.data)
    limit = caps.max_image_bytes
    source = FORMATS.get(image.format or "", "")
    animated = bool(getattr(image, "is_animated", False)) and getattr(
        image, "n_frames", 1) > 1
    orientation = image.getexif().get(0x0112, 1) if hasattr(image, "getexif") \
        else 1
    transparent = _has_alpha(image)
    target = target_mime(source, transparent=transparent, caps=caps)
    upright = (image.height, image.width) if orientation in (5, 6, 7, 8) \
        else image.size
    padded = padded_size(*upright, caps)
    factor = pixel_scale(*padded, caps)
    geometry_changes = padded != upright or factor < 1
    fits_bytes = not limit or original <= limit

    if animated and target == source and not geometry_changes and fits_bytes:
        return Rendition(item, (), original)  # an animation the network takes
    if (target == source and not animated and orientation == 1
            and not geometry_changes):
        stripped, removed = strip_metadata(item.data, source)
        if stripped is not None and (not limit or len(stripped) <= limit):
            changes = (Change("metadata"),) if removed else ()
            return Rendition(_with(item, stripped, source, image.size), changes,
                             original)

    changes: list[Change] = []
    if animated:
        image.seek(0)
        changes.append(Change("animation"))
        if target == "image/gif":
            target = target_mime("", transparent=transparent, caps=caps)
    work = image.copy() if orientation == 1 else ImageOps.exif_transpose(image)
    if orientation != 1:
        changes.append(Change("orientation"))
    if padded != work.size:
        changes.append(Change("padded", {"from_ratio": work.width / work.height,
                                         "to_ratio": padded[0] / padded[1]}))
        work = _pad(work, padded)
    if factor < 1:
        size = _scaled(work.size, factor)
        changes.append(Change("pixels", {"from": work.size, "to": size,
                                         "limit": caps.max_image_pixels}))
        work = work.resize(size, Image.Resampling.LANCZOS)
    icc = image.info.get("icc_profile")
    encoded, quality, target = _encode_to_fit(work, target, limit, icc, caps)
    if target != source:
        changes.insert(0, Change("format", {"from": source or image.format or "",
                                            "to": target}))
    if limit and original > limit:
        changes.append(Change("bytes", {"from": original, "to": len(encoded[0]),
                                        "limit": limit, "quality": quality,
                                        "size": encoded[1]}))
    if _has_metadata(image):
        changes.append(Change("metadata"))
    return Rendition(_with(item, encoded[0], target, encoded[1]), tuple(changes),
                     original)


def _with(item: MediaItem, data: bytes, mime: str, size: tuple[int, int]
          ) -> MediaItem:
    stem = (item.filename or "billede").rsplit(".", 1)[0]
    return replace(item, data=data, mime_type=mime, width=size[0],
                   height=size[1], filename=stem + EXTENSIONS.get(mime, ""))


def _pad(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    mode = "RGBA" if _has_alpha(image) else "RGB"
    colour = (*PAD_COLOUR, 0) if mode == "RGBA" else PAD_COLOUR
    canvas = Image.new(mode, size, colour)
    canvas.paste(image.convert(mode), ((size[0] - image.width) // 2,
                                       (size[1] - image.height) // 2))
    return canvas


def _ready_for(image: Image.Image, mime: str) -> Image.Image:
    if mime == "image/jpeg":
        if _has_alpha(image):
            rgba = image.convert("RGBA")
            flat = Image.new("RGB", image.size, PAD_COLOUR)
            flat.paste(rgba, mask=rgba.getchannel("A"))
            return flat
        return image if image.mode in ("RGB", "L", "CMYK") else image.convert("RGB")
    if mime == "image/webp":
        return image if image.mode in ("RGB", "RGBA") else image.convert(
            "RGBA" if _has_alpha(image) else "RGB")
    if mime == "image/png":
        return image if image.mode in ("RGB", "RGBA", "L", "LA", "P", "1") \
            else image.convert("RGBA" if _has_alpha(image) else "RGB")
    return image


def _save(image: Image.Image, mime: str, quality: int | None, icc,
          *, final: bool = True) -> bytes:
    """``final=False`` is the quicker trial encoding of the quality search
    (without Huffman optimisation it is a little bigger, never smaller)."""
    out = io.BytesIO()
    options: dict = {}
    if icc:
        options["icc_profile"] = icc
    # Pillow writes some of ``info`` (a JPEG comment, GIF extensions) back
    # out: the rendition carries nothing of the original's metadata.
    kept = image.info
    image.info = {k: v for k, v in kept.items() if k == "transparency"}
    if mime == "image/jpeg":
        options.update(quality=quality, optimize=final)
    elif mime == "image/webp":
        options.update(quality=quality, method=4)
    elif mime == "image/png":
        options.update(optimize=True)
    try:
        image.save(out, PIL_FORMAT[mime], **options)
    finally:
        image.info = kept
    return out.getvalue()


def _encode_to_fit(
    image: Image.Image, mime: str, limit: int | None, icc,
    caps: Capabilities,
) -> tuple[tuple[bytes, tuple[int, int]], int | None, str]:
    """``((bytes, size), quality, mime)``: the best encoding under ``limit``."""
    for _round in range(MAX_SCALE_ROUNDS):
        ready = _ready_for(image, mime)
        if mime in ("image/jpeg", "image/webp"):
            found = _best_quality(ready, mime, limit, icc)
            if found is not None:
                return (found[0], ready.size), found[1], mime
            smallest = len(_save(ready, mime, QUALITY_MIN, icc, final=False))
        else:
            data = _save(ready, mime, None, icc)
            if not limit or len(data) <= limit:
                return (data, ready.size), None, mime
            if "image/jpeg" in _allowed(caps) and not _has_alpha(image):
                mime = "image/jpeg"  # a photo saved as PNG: JPEG is far smaller
                continue
            smallest = len(data)
        shrink = max(0.5, min(0.9, math.sqrt(limit / smallest) * 0.95))
        image = image.resize(_scaled(image.size, shrink), Image.Resampling.LANCZOS)
    raise CannotFit(
        "cannot_shrink",
        "Kanal kunne ikke gøre billedet lille nok til netværket uden at ødelægge "
        "det. Vælg et andet billede eller et udsnit af det.",
    )


def _best_quality(image: Image.Image, mime: str, limit: int | None, icc
                  ) -> tuple[bytes, int] | None:
    best = _save(image, mime, QUALITY_MAX, icc)
    if not limit or len(best) <= limit:
        return best, QUALITY_MAX
    low, high, found = QUALITY_MIN, QUALITY_MAX - 1, None
    while low <= high:
        middle = (low + high) // 2
        if len(_save(image, mime, middle, icc, final=False)) <= limit:
            found, low = middle, middle + 1
        else:
            high = middle - 1
    if found is None:
        return None
    # The final encoding is optimised, so it is no bigger than the trial, and
    # a step or two up may fit as well: take the highest that does.
    data = _save(image, mime, found, icc)
    while found < QUALITY_MAX - 1:
        higher = _save(image, mime, found + 1, icc)
        if len(higher) > limit:
            break
        data, found = higher, found + 1
    return data, found


# --------------------------------------------------------------------------
# Metadata


def _has_metadata(image: Image.Image) -> bool:
    info = image.info
    if any(key in info for key in ("exif", "xmp", "XML:com.adobe.xmp",
                                   "comment", "photoshop", "iptc")):
        return True
    return bool(getattr(image, "text", None))


# JPEG segments that carry metadata: APP1 (EXIF, XMP), APP13 (IPTC), COM.
_JPEG_DROP = frozenset({0xE1, 0xED, 0xFE})
# PNG chunks that carry metadata.
_PNG_DROP = frozenset({b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"tIME"})
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def strip_metadata(data: bytes, mime: str) -> tuple[bytes | None, bool]:
    """``(data without metadata, whether any was removed)``, losslessly.

    JPEG and PNG only; ``(None, False)`` for another type or a file whose
    structure is not what it should be (the caller re-encodes instead).
    """
    try:
        if mime == "image/jpeg":
            return _strip_jpeg(data)
        if mime == "image/png":
            return _strip_png(data)
    except (IndexError, struct.error, ValueError):
        return None, False
    if mime in ("image/gif", "image/webp"):
        return data, False
    return None, False


def _strip_jpeg(data: bytes) -> tuple[bytes | None, bool]:
    if data[:2] != b"\xff\xd8":
        return None, False
    out = bytearray(b"\xff\xd8")
    position, removed = 2, False
    while position < len(data):
        if data[position] != 0xFF:
            return None, False
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker == 0xDA or marker == 0xD9:  # start of scan / end: copy the rest
            out += data[position:]
            return bytes(out), removed
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            out += data[position:position + 2]
            position += 2
            continue
        length = struct.unpack(">H", data[position + 2:position + 4])[0]
        end = position + 2 + length
        if length < 2 or end > len(data):
            return None, False
        if marker in _JPEG_DROP:
            removed = True
        else:
            out += data[position:end]
        position = end
    return None, False


def _strip_png(data: bytes) -> tuple[bytes | None, bool]:
    if not data.startswith(_PNG_SIGNATURE):
        return None, False
    out = bytearray(_PNG_SIGNATURE)
    position, removed = len(_PNG_SIGNATURE), False
    while position < len(data):
        length = struct.unpack(">I", data[position:position + 4])[0]
        kind = data[position + 4:position + 8]
        end = position + 12 + length
        if end > len(data):
            return None, False
        if kind in _PNG_DROP:
            removed = True
        else:
            out += data[position:end]
        position = end
        if kind == b"IEND":
            return bytes(out), removed
    return None, False
