"""Telling people, as the API sets it: units' addresses and digests and webhooks (admins),
an official's own copy, area alerts (anyone), and the outbox's failures (admins)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.api import deps
from geo_service.api import errors as api_errors
from geo_service.auth import User
from geo_service.notify import manage

router = APIRouter(prefix="/api/v1", tags=["notifications"])
admin_only = deps.require_roles("admin")
officials = deps.require_roles("unit_staff", "unit_manager")
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
MessageId = Annotated[int, Path(ge=1, le=2**63 - 1)]
WRITE = Depends(deps.write_connection, scope="function")


@router.get("/units/{code}/notifications", responses=api_errors.responses(401, 403, 404))
async def get_unit_notifications(
    code: Annotated[str, Path(max_length=64)],
    _: User = Depends(admin_only),
    conn: AsyncConnection = Depends(deps.read_connection),
) -> manage.UnitNotifications:
    """Where a unit's mail goes, and whether it comes report by report or as a digest."""
    return await manage.unit_notifications(conn, code)


@router.put("/units/{code}/notifications", responses=api_errors.responses(401, 403, 404, 422))
async def put_unit_notifications(
    code: Annotated[str, Path(max_length=64)],
    body: manage.UnitNotifications,
    _: User = Depends(admin_only),
    conn: AsyncConnection = WRITE,
) -> manage.UnitNotifications:
    """Set a unit's addresses (exactly these) and its choice of each report or a digest
    every ``digest_hours`` hours."""
    return await manage.set_unit_notifications(conn, code, body)


@router.get("/me/notifications", responses=api_errors.responses(401, 403))
async def get_my_copy(
    user: User = Depends(officials), conn: AsyncConnection = Depends(deps.read_connection)
) -> manage.MyCopy:
    """Whether you get your own copy of your unit's mail, and where."""
    return await manage.my_copy(conn, user.id)


@router.put("/me/notifications", responses=api_errors.responses(401, 403, 409, 422))
async def put_my_copy(
    body: manage.MyCopy, user: User = Depends(officials), conn: AsyncConnection = WRITE
) -> manage.MyCopy:
    """Turn your own copy of your unit's mail on or off."""
    return await manage.set_my_copy(conn, user.id, user.unit_id, body)


@router.post("/alerts", status_code=202, responses=api_errors.responses(422))
async def post_alert(
    body: manage.AlertIn, conn: AsyncConnection = WRITE, lang: str = Depends(deps.lang)
) -> dict[str, Any]:
    """Ask for a mail about each new report in a ward or around a point (optionally one
    category group). A confirmation link is mailed; nothing else is sent until it is
    followed, and an unconfirmed request is dropped after ALERT_CONFIRM_DAYS."""
    sub = await manage.subscribe_alert(conn, body, lang)
    return {"id": sub, "status": "confirmation_sent"}


@router.get("/webhooks", responses=api_errors.responses(401, 403))
async def list_webhooks(
    _: User = Depends(admin_only), conn: AsyncConnection = Depends(deps.read_connection)
) -> list[dict[str, Any]]:
    """Registered webhooks (never their secrets)."""
    return await manage.webhooks(conn)


@router.post("/webhooks", status_code=201, responses=api_errors.responses(401, 403, 404, 422))
async def post_webhook(
    body: manage.WebhookIn, _: User = Depends(admin_only), conn: AsyncConnection = WRITE
) -> dict[str, Any]:
    """Register a webhook. Each delivery is a JSON POST signed in ``X-GS-Signature-256``
    (``sha256=`` HMAC-SHA256 of the body with ``secret``, shown in this answer only), with
    ``X-GS-Event`` and ``X-GS-Delivery`` (the same on every retry of one delivery)."""
    return await manage.create_webhook(conn, body)


@router.delete(
    "/webhooks/{hook_id}", status_code=204, responses=api_errors.responses(401, 403, 404)
)
async def delete_webhook(
    hook_id: Id, _: User = Depends(admin_only), conn: AsyncConnection = WRITE
) -> None:
    """Stop a webhook (its delivery log stays)."""
    await manage.disable_webhook(conn, hook_id)


@router.get("/webhooks/{hook_id}/deliveries", responses=api_errors.responses(401, 403))
async def webhook_deliveries(
    hook_id: Id,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    _: User = Depends(admin_only),
    conn: AsyncConnection = Depends(deps.read_connection),
) -> list[dict[str, Any]]:
    """A webhook's delivery log: each delivery with its attempts, newest first."""
    return await manage.messages(conn, status=None, webhook=hook_id, limit=limit)


@router.get("/outbox", responses=api_errors.responses(401, 403))
async def outbox(
    status: Literal["pending", "held", "sent", "failed", "discarded", "digested", "skipped"]
    | None = "failed",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    _: User = Depends(admin_only),
    conn: AsyncConnection = Depends(deps.read_connection),
) -> list[dict[str, Any]]:
    """Mails and webhook calls, by default those that failed after their last attempt."""
    return await manage.messages(conn, status=status, webhook=None, limit=limit)


@router.post(
    "/outbox/{message_id}/retry", status_code=202, responses=api_errors.responses(401, 403, 409)
)
async def retry_message(
    message_id: MessageId, _: User = Depends(admin_only), conn: AsyncConnection = WRITE
) -> dict[str, Any]:
    """Send a failed message again, with a fresh set of attempts."""
    await manage.retry(conn, message_id)
    return {"id": message_id, "status": "pending"}


@router.post("/outbox/{message_id}/discard", responses=api_errors.responses(401, 403, 409))
async def discard_message(
    message_id: MessageId, _: User = Depends(admin_only), conn: AsyncConnection = WRITE
) -> dict[str, Any]:
    """Give up on a failed message."""
    await manage.discard(conn, message_id)
    return {"id": message_id, "status": "discarded"}
