"""Request bodies that are JSON or a form with photos: a report, a status change with photos
of the fix. Read once here, with the same limits and the same errors for both."""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError
from starlette.datastructures import UploadFile

from geo_service import errors
from geo_service.config import Settings
from geo_service.errors import Invalid, TooLarge, Unsupported, field_message
from geo_service.i18n import N_

M = TypeVar("M", bound=BaseModel)
FORMS = ("multipart/form-data", "application/x-www-form-urlencoded")


def content_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def check_length(request: Request, limit: int) -> None:
    """Refuse a body declared larger than ``limit`` before reading any of it."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise TooLarge(
            N_(
                "the request is {size:,} bytes; the limit is {limit:,}",
                size=int(declared),
                limit=limit,
            )
        )


async def form_fields(
    request: Request, settings: Settings, *, max_fields: int, keep_empty: tuple[str, ...]
) -> tuple[dict[str, Any], list[UploadFile]]:
    """A form's fields (each at most once; empty ones dropped unless in ``keep_empty``, so an
    empty required field says "too short", not "missing") and its photos."""
    form = await request.form(max_files=settings.max_photos + 1, max_fields=max_fields)
    fields: dict[str, Any] = {}
    uploads: list[UploadFile] = []
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            if key != "photos":
                raise Invalid(field_message(key, N_("only the field 'photos' takes files")), key)
            uploads.append(value)
        elif key in fields:
            raise Invalid(field_message(key, N_("given more than once")), key)
        elif key != "csrf_token" and (value != "" or key in keep_empty):
            fields[key] = value
    if len(uploads) > settings.max_photos:
        message = N_("at most {n} photos", n=settings.max_photos)
        raise Invalid(field_message("photos", message), "photos")
    return fields, uploads


async def read_with_photos(
    request: Request,
    model: type[M],
    settings: Settings,
    *,
    max_fields: int = 40,
    keep_empty: tuple[str, ...] = (),
) -> tuple[M, list[UploadFile]]:
    """``model`` from a JSON body, or from a form (multipart with photos, or urlencoded)."""
    check_length(request, settings.max_photos * settings.photo_max_bytes + 256 * 1024)
    kind = content_type(request)
    try:
        if kind == "application/json":
            return model.model_validate_json(await request.body()), []
        if kind in FORMS:
            fields, uploads = await form_fields(
                request, settings, max_fields=max_fields, keep_empty=keep_empty
            )
            return model.model_validate(fields), uploads
    except ValidationError as exc:
        raise errors.invalid(list(exc.errors())) from None
    raise Unsupported(
        field_message("content-type", N_("send application/json or multipart/form-data")),
        "content-type",
    )
