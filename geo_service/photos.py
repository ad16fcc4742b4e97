"""Citizens' photos: accept real images only, keep a resized copy without EXIF (which can
hold the reporter's phone model and home location), and read the GPS position first so a
photo can place a report when the pin is missing."""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import warnings
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from geo_service.config import Settings
from geo_service.errors import (
    DomainError,
    Invalid,
    TooLarge,
    Unsupported,
    field_message,
)
from geo_service.i18n import N_

ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF", "MPO"}


@dataclass(frozen=True)
class StoredPhoto:
    file_name: str
    width: int
    height: int
    bytes: int
    gps: tuple[float, float] | None  # (lat, lon) from EXIF, before stripping
    created: bool  # False when the same picture was stored before (hash names dedupe)

    def discard(self, media_dir: Path) -> None:
        """Remove the file if this upload created it: the report it was for was not saved."""
        if self.created:
            (media_dir / "photos" / self.file_name).unlink(missing_ok=True)


def _rational(value: object) -> float:
    if isinstance(value, tuple):  # old-style (numerator, denominator)
        return float(value[0]) / float(value[1]) if value[1] else 0.0
    return float(value)  # type: ignore[arg-type]


def exif_gps(image: Image.Image) -> tuple[float, float] | None:
    """(lat, lon) from the EXIF GPS block, or None when absent or nonsensical."""
    try:
        gps = image.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    except Exception:  # a broken EXIF block must not reject an otherwise good photo
        return None
    if not gps:
        return None
    try:
        lat_dms, lon_dms = gps[ExifTags.GPS.GPSLatitude], gps[ExifTags.GPS.GPSLongitude]
        lat = sum(_rational(v) / 60**i for i, v in enumerate(lat_dms))
        lon = sum(_rational(v) / 60**i for i, v in enumerate(lon_dms))
        if str(gps.get(ExifTags.GPS.GPSLatitudeRef, "N")).upper().startswith("S"):
            lat = -lat
        if str(gps.get(ExifTags.GPS.GPSLongitudeRef, "E")).upper().startswith("W"):
            lon = -lon
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == 0 and lon == 0):
        return None
    return lat, lon


def process_photo(
    data: bytes,
    *,
    field: str,
    media_dir: Path,
    max_bytes: int,
    max_pixels: int,
    max_side: int,
) -> StoredPhoto:
    """Check, resize, strip and store one uploaded photo; refuse it naming ``field``."""
    if len(data) > max_bytes:
        message = N_("is {size:,} bytes; the limit is {limit:,}", size=len(data), limit=max_bytes)
        raise TooLarge(field_message(field, message), field)
    if not data:
        raise Invalid(field_message(field, N_("is empty")), field)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))
            if probe.format not in ACCEPTED_FORMATS:
                message = N_("is {kind}; send JPEG, PNG, WebP or GIF", kind=probe.format)
                raise Unsupported(field_message(field, message), field)
            if probe.width * probe.height > max_pixels:
                message = N_(
                    "has {width}x{height} pixels; the limit is {limit:,} pixels",
                    width=probe.width,
                    height=probe.height,
                    limit=max_pixels,
                )
                raise TooLarge(field_message(field, message), field)
            probe.verify()
            original = Image.open(io.BytesIO(data))
            gps = exif_gps(original)
            image: Image.Image = ImageOps.exif_transpose(original)
            image.load()
    except DomainError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        message = N_("is not an image we can read")
        raise Unsupported(field_message(field, message), field) from None
    except (OSError, SyntaxError, ValueError):
        message = N_("is a damaged or truncated image")
        raise Unsupported(field_message(field, message), field) from None

    image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    if image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85, optimize=True)  # no exif= : EXIF is dropped
    stored = out.getvalue()
    digest = hashlib.sha256(stored).hexdigest()
    file_name = f"{digest[:2]}/{digest}.jpg"
    path = media_dir / "photos" / file_name
    created = not path.exists()
    if created:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
        with os.fdopen(fd, "wb") as fh:
            fh.write(stored)
        os.replace(tmp, path)
    return StoredPhoto(file_name, image.width, image.height, len(stored), gps, created)


@asynccontextmanager
async def stored_uploads(
    uploads: Sequence[UploadFile], settings: Settings
) -> AsyncIterator[list[StoredPhoto]]:
    """Store a request's photos for the row that will name them. The files are written before
    that row; when the row is not written (bad input, a conflict, a lost connection) they are
    removed again, so a refused request leaves no orphan on disk."""
    photos: list[StoredPhoto] = []
    try:
        for i, upload in enumerate(uploads):
            raw = await upload.read(settings.photo_max_bytes + 1)
            photos.append(
                await run_in_threadpool(
                    process_photo,
                    raw,
                    field=f"photos[{i}]",
                    media_dir=settings.media_dir,
                    max_bytes=settings.photo_max_bytes,
                    max_pixels=settings.photo_max_pixels,
                    max_side=settings.photo_max_side,
                )
            )
        yield photos
    except BaseException:
        for photo in photos:
            photo.discard(settings.media_dir)
        raise
