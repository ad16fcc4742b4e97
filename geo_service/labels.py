"""The codes stored with reports, in words: a report's status, its priority, who changed it and
why. One translatable label per code, written once and used by the pages, their scripts
and the staff area, each in the reader's language.

A code without a label (a status or reason that a later version adds) shows as the code
itself rather than breaking the page.
"""

from __future__ import annotations

from geo_service import workflow
from geo_service.i18n import N_, Message, render

STATUSES: dict[str, Message] = {
    "received": N_("Received"),
    "acknowledged": N_("Acknowledged"),
    "in_progress": N_("In progress"),
    "resolved": N_("Resolved"),
    "rejected": N_("Rejected"),
    "transferred": N_("Transferred"),
    "reopened": N_("Reopened"),
}
PRIORITIES: dict[str, Message] = {
    "low": N_("Low"),
    "normal": N_("Normal"),
    "high": N_("High"),
    "urgent": N_("Urgent"),
}
ACTORS: dict[str, Message] = {
    "citizen": N_("citizen"),
    "staff": N_("staff"),
    "system": N_("system"),
}
# Why a report was rejected, transferred (the workflow's reasons) or reopened by its reporter.
REASONS: dict[str, Message] = {
    **workflow.REJECT_REASONS,
    **workflow.TRANSFER_REASONS,
    workflow.REOPEN_REASON: N_("Reported as not fixed"),
    # A boundary reform's activation moved the report on (geo_service.reform).
    "boundary_reform": N_("Boundary reform"),
}
KINDS: dict[str, dict[str, Message]] = {
    "status": STATUSES,
    "priority": PRIORITIES,
    "actor": ACTORS,
    "reason": REASONS,
}


def label(kind: str, code: str, lang: str) -> str:
    """``label("status", "in_progress", "vi")`` is "Đang xử lý"; an unknown code is itself."""
    text = KINDS[kind].get(code)
    return render(text, lang) if text is not None else code


def labels(kind: str, lang: str) -> dict[str, str]:
    """Every code of a kind with its label, for a page's script."""
    return {code: render(text, lang) for code, text in KINDS[kind].items()}
