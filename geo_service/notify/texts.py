"""What each kind of message says in its subject and first line, written once."""

from __future__ import annotations

from geo_service.i18n import N_, Message

# Officials: the unit's queue got something that needs them.
UNIT_KINDS = ("created", "transferred_in", "reopened", "deadline_soon", "deadline_missed")
# Citizens following a report: its public steps.
CITIZEN_KINDS = ("created", "acknowledged", "in_progress", "resolved", "rejected", "transferred")
# What a webhook may ask for: every kind above.
WEBHOOK_EVENTS = tuple(dict.fromkeys(UNIT_KINDS + CITIZEN_KINDS))

UNIT_SUBJECTS: dict[str, Message] = {
    "created": N_("New report #{id} for your unit: {category}"),
    "transferred_in": N_("Report #{id} transferred to your unit: {category}"),
    "reopened": N_("Report #{id} reopened by its reporter: {category}"),
    "deadline_soon": N_("Report #{id} is due within 2 working hours: {category}"),
    "deadline_missed": N_("Report #{id} missed its deadline: {category}"),
}
UNIT_INTROS: dict[str, Message] = {
    "created": N_("A new report was routed to your unit."),
    "transferred_in": N_("Another unit transferred this report to yours."),
    "reopened": N_("The reporter says the problem is not fixed; the report is back in your queue."),
    "deadline_soon": N_("This report is due within 2 working hours."),
    "deadline_missed": N_("This report is past its deadline."),
}
CITIZEN_SUBJECTS: dict[str, Message] = {
    "created": N_("We received your report #{id}: {category}"),
    "acknowledged": N_("Report #{id} was acknowledged"),
    "in_progress": N_("Report #{id} is being handled"),
    "resolved": N_("Report #{id} was resolved"),
    "rejected": N_("Report #{id} was rejected"),
    "transferred": N_("Report #{id} was transferred to another unit"),
    "alert": N_("New report near you #{id}: {category}"),
}
CITIZEN_INTROS: dict[str, Message] = {
    "created": N_(
        "Thank you. Your report was received and sent to {unit}. Keep this link to follow it."
    ),
    "acknowledged": N_("{unit} has seen the report and will handle it."),
    "in_progress": N_("{unit} is working on it."),
    "resolved": N_("{unit} says the problem is resolved."),
    "rejected": N_("{unit} rejected the report."),
    "transferred": N_("The report was transferred to {unit}, which will handle it."),
    "alert": N_("A new report was made in an area you follow."),
}
WHY: dict[str, Message] = {
    "unit": N_("You get this because this address receives the mail of {unit}."),
    "reporter": N_("You get this because you made this report and left this address."),
    "follower": N_('You get this because you said "me too" on this report.'),
    "alert": N_("You get this because you subscribed to alerts for this area."),
}

FOLLOW_SUBJECT = N_("You follow report #{id}: {category}")
FOLLOW_INTRO = N_('You said "me too": we will tell you when {unit} moves it on.')
DIGEST_SUBJECT = N_("{unit}: {n} reports need you")
CONFIRM_SUBJECT = N_("Confirm your alerts for new reports")
