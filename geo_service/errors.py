"""The domain's refusals: what went wrong, in words a person can act on, and which field of
the request was at fault. Domain code raises these and knows nothing of HTTP; each edge maps
them once: the JSON API (``geo_service.api.errors``: one body shape, the status per kind),
Open311 (its errors array) and the HTML pages (an error page in the page's language).

Messages are ``N_("...", **params)`` (geo_service.i18n.Message): translated at the edge into
the language of the request or the page, so a Vietnamese page never shows an English text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from geo_service.i18n import N_, Message


class DomainError(Exception):
    """A request refused. ``field`` names the request's field at fault (the API's own name
    for it), ``errors`` lists several (field, message) at once, ``context`` carries facts a
    client may act on (the transitions allowed now, the current version)."""

    code: ClassVar[str] = "error"

    def __init__(
        self,
        message: Message | str,
        field: str | None = None,
        *,
        errors: Sequence[tuple[str, Message | str]] = (),
        context: Mapping[str, Any] | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field
        self.errors = list(errors) or ([(field, message)] if field else [])
        self.context = dict(context or {})
        self.retry_after = retry_after


class NotFound(DomainError):
    """Nothing by that name or id, or nothing the caller may see (the same answer)."""

    code = "not_found"


class Conflict(DomainError):
    """The request is well formed but the state forbids it now (a stale version, a closed
    report, a name taken)."""

    code = "conflict"


class Invalid(DomainError):
    """A field's value is wrong: missing, malformed, out of range, or naming nothing."""

    code = "invalid"


class Unauthenticated(DomainError):
    """No valid credential: log in first."""

    code = "unauthenticated"


class Forbidden(DomainError):
    """The caller is known but may not do this."""

    code = "forbidden"


class TooLarge(DomainError):
    """The request or a file in it is larger than allowed."""

    code = "too_large"


class Unsupported(DomainError):
    """A body in a format we do not read (content type, file type)."""

    code = "unsupported"


class TooMany(DomainError):
    """Too many attempts or requests from this caller for now: ``retry_after`` seconds."""

    code = "too_many"


class Unavailable(DomainError):
    """The service cannot answer now (the database is away, too much heavy work at once):
    try again after ``retry_after`` seconds."""

    code = "unavailable"


KINDS: tuple[type[DomainError], ...] = (
    NotFound,
    Conflict,
    Invalid,
    Unauthenticated,
    Forbidden,
    TooLarge,
    Unsupported,
    TooMany,
    Unavailable,
)


# Pydantic's checks, in our words and catalogs: its own messages are English only. The
# placeholders are the ``ctx`` pydantic gives with each error type.
VALIDATION_MESSAGES: dict[str, Message] = {
    "missing": N_("is required"),
    "extra_forbidden": N_("is not a field of this request"),
    "json_invalid": N_("the body is not valid JSON"),
    "json_type": N_("the body is not valid JSON"),
    "model_type": N_("must be an object"),
    "model_attributes_type": N_("must be an object"),
    "dict_type": N_("must be an object"),
    "list_type": N_("must be a list"),
    "string_type": N_("must be text"),
    "string_too_short": N_("must have at least {min_length} characters"),
    "string_too_long": N_("must have at most {max_length} characters"),
    "string_pattern_mismatch": N_("is not in the expected form"),
    "too_short": N_("must have at least {min_length} items"),
    "too_long": N_("must have at most {max_length} items"),
    "int_type": N_("must be a whole number"),
    "int_parsing": N_("must be a whole number"),
    "int_from_float": N_("must be a whole number"),
    "int_parsing_size": N_("is too large"),
    "float_type": N_("must be a number"),
    "float_parsing": N_("must be a number"),
    "finite_number": N_("must be a finite number"),
    "bool_type": N_("must be true or false"),
    "bool_parsing": N_("must be true or false"),
    "greater_than": N_("must be more than {gt}"),
    "greater_than_equal": N_("must be at least {ge}"),
    "less_than": N_("must be less than {lt}"),
    "less_than_equal": N_("must be at most {le}"),
    "literal_error": N_("must be one of {expected}"),
    "enum": N_("must be one of {expected}"),
    "date_type": N_("must be a date such as 2025-07-01"),
    "date_parsing": N_("must be a date such as 2025-07-01"),
    "date_from_datetime_parsing": N_("must be a date such as 2025-07-01"),
    "date_from_datetime_inexact": N_("must be a date such as 2025-07-01"),
    "datetime_type": N_("must be a date and time such as 2025-07-01T08:00:00+07:00"),
    "datetime_parsing": N_("must be a date and time such as 2025-07-01T08:00:00+07:00"),
    "datetime_from_date_parsing": N_("must be a date and time such as 2025-07-01T08:00:00+07:00"),
    "value_error": N_("is not valid"),
    "url_parsing": N_("must be a URL"),
    "url_scheme": N_("must be a URL starting with {expected_schemes}"),
}
NOT_VALID = N_("is not valid")
_LOCATIONS = ("body", "query", "path", "form", "header", "cookie")


def field_name(loc: Sequence[Any]) -> str:
    """``("body", "lat")`` as the client named it: ``lat``; a list item ``photos.1``."""
    parts = [str(p) for p in loc if p not in _LOCATIONS]
    return ".".join(parts) or "request"


def validation_errors(errors: Sequence[Mapping[str, Any]]) -> list[tuple[str, Message]]:
    """Pydantic's (or FastAPI's) errors as (field, message) in our words."""
    out: list[tuple[str, Message]] = []
    for err in errors:
        template = VALIDATION_MESSAGES.get(str(err.get("type")), NOT_VALID)
        ctx = {k: str(v) for k, v in (err.get("ctx") or {}).items()}
        try:
            template.msgid.format(**ctx)
            message = Message(template.msgid, ctx)
        except (KeyError, IndexError):
            message = NOT_VALID
        out.append((field_name(err.get("loc", ())), message))
    return out


def invalid(
    errors: Sequence[Mapping[str, Any]], *, rename: Mapping[str, str] | None = None
) -> Invalid:
    """One Invalid for all of a model's errors (``rename``: our field names as this client
    calls them, e.g. Open311's ``long`` for ``lon``)."""
    named = [((rename or {}).get(f, f), m) for f, m in validation_errors(errors)]
    first_field, first = named[0] if named else ("request", NOT_VALID)
    return Invalid(field_message(first_field, first), first_field, errors=named)


def field_message(field: str, message: Message | str) -> Message:
    """ "lat: must be at most 90": the field, then what is wrong with it."""
    return N_("{field}: {message}", field=field, message=message)
