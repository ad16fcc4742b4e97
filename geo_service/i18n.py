"""Languages: gettext catalogs (one ``.po`` file per language under ``geo_service/locale``)
read by Babel when the process starts, and the choice of language for each request.

Message ids are the English texts, written where they are used: ``_("Send the report")`` in
templates (Jinja2's i18n extension), ``gettext(lang, "...")`` in Python, ``GS.t("...")`` in the
pages' scripts, and ``N_("...")`` for a text that is translated later, when the language of
whoever reads it is known (an error raised deep in domain code, rendered at the HTTP edge).
Placeholders are ``{name}``, filled after translation. A third language is one new catalog:
``pybabel init -D messages -d geo_service/locale -l fr -i <template>`` (see docs/i18n.md).

The language comes from the ``gs_lang`` cookie (set by the switch on each page, ``/lang/vi`` or
``/lang/en``), else from the browser's ``Accept-Language``, else the default (Vietnamese).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"
DEFAULT_LANG = "vi"
LANG_COOKIE = "gs_lang"
Lang = str


def _catalog_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def available_languages() -> tuple[str, ...]:
    """Every language with a catalog, the default first."""
    found = sorted(p.parent.parent.name for p in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
    return tuple(sorted(found, key=lambda code: code != DEFAULT_LANG))


LANGUAGES: tuple[str, ...] = available_languages()
LANGUAGE_NAMES: dict[str, str] = {
    code: (name := str(Locale.parse(code).get_display_name(code)))[:1].upper() + name[1:]
    for code in LANGUAGES
}


def read_catalog(lang: str) -> Catalog:
    with _catalog_path(lang).open("rb") as fh:
        return read_po(fh, locale=lang, domain=DOMAIN)


@cache
def translations(lang: str) -> Translations:
    """The language's catalog, compiled in memory when first asked (no ``.mo`` files to build
    or to get out of date). Fuzzy entries are not used: a translator has not confirmed them."""
    buf = io.BytesIO()
    write_mo(buf, read_catalog(lang), use_fuzzy=False)
    buf.seek(0)
    return Translations(fp=buf, domain=DOMAIN)


def gettext(lang: str, msgid: str, /, **params: object) -> str:
    """``msgid`` in ``lang`` (the English text if the catalog lacks it), placeholders filled."""
    text = translations(lang if lang in LANGUAGES else DEFAULT_LANG).gettext(msgid)
    return text.format(**params) if params else text


def ngettext(lang: str, singular: str, plural: str, n: int, /, **params: object) -> str:
    """The singular or plural form for ``n`` (the catalog's plural rule; Vietnamese has one
    form), placeholders filled; ``n`` is a placeholder too."""
    text = translations(lang if lang in LANGUAGES else DEFAULT_LANG).ngettext(singular, plural, n)
    return text.format(n=n, **params)


@dataclass(frozen=True)
class Message:
    """A text to translate once its reader's language is known: an error raised in domain
    code, say, shown at the HTTP edge in the language of the request or the page."""

    msgid: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def render(self, lang: str) -> str:
        params = {k: _render(v, lang) for k, v in self.params.items()}
        return gettext(lang, self.msgid, **params)

    def __str__(self) -> str:  # logs and the CLI read English
        return self.render("en")


def _render(value: object, lang: str) -> object:
    return value.render(lang) if isinstance(value, Message) else value


def N_(msgid: str, /, **params: object) -> Message:
    """Mark ``msgid`` for the catalogs and translate it later (see Message)."""
    return Message(msgid, params)


def render(text: str | Message, lang: str) -> str:
    return text.render(lang) if isinstance(text, Message) else text


def join(parts: Iterable[str | Message], lang: str, sep: str = "; ") -> str:
    return sep.join(render(p, lang) for p in parts)


def gettext_for(lang: str) -> Callable[..., str]:
    """``_("Send the report")`` / ``_("Photos (up to {n})", n=3)`` for templates."""

    def _(msgid: str, **params: object) -> str:
        return gettext(lang, msgid, **params)

    return _


# Being moved to the catalogs (geo_service/locale): the old keyed texts.
MESSAGES: dict[str, dict[Lang, str]] = {
    # Shared layout
    "app.title": {"vi": "Phản ánh hiện trường", "en": "Street problem reports"},
    "app.tagline": {
        "vi": "Chụp, ghim, gửi: phản ánh được chuyển ngay đến đơn vị xử lý.",
        "en": "Snap, pin, send: your report goes straight to the unit that must fix it.",
    },
    "nav.report": {"vi": "Gửi phản ánh", "en": "Report a problem"},
    "nav.map": {"vi": "Bản đồ phản ánh", "en": "Reports map"},
    "nav.figures": {"vi": "Số liệu", "en": "Figures"},
    "nav.api": {"vi": "API", "en": "API"},
    # Figures page
    "figures.heading": {"vi": "Kết quả tiếp nhận và xử lý", "en": "Reports received and handled"},
    "figures.period": {"vi": "Thời gian", "en": "Period"},
    "period.30": {"vi": "30 ngày qua", "en": "Last 30 days"},
    "period.90": {"vi": "90 ngày qua", "en": "Last 90 days"},
    "period.365": {"vi": "12 tháng qua", "en": "Last 12 months"},
    "period.all": {"vi": "Từ đầu", "en": "Since the start"},
    "figures.show": {"vi": "Xem", "en": "Show"},
    "figures.range": {
        "vi": "Phản ánh gửi từ {start} đến {end}",
        "en": "Reports sent {start} to {end}",
    },
    "figures.range_all": {"vi": "Mọi phản ánh đến {end}", "en": "Every report up to {end}"},
    "figures.received": {"vi": "Đã tiếp nhận", "en": "Received"},
    "figures.resolved": {"vi": "Đã xử lý xong", "en": "Resolved"},
    "figures.open": {"vi": "Đang xử lý", "en": "Being handled"},
    "figures.overdue": {"vi": "Quá hạn", "en": "Overdue"},
    "figures.on_time": {"vi": "Xử lý đúng hạn", "en": "Resolved on time"},
    "figures.median": {"vi": "Thời gian xử lý (trung vị)", "en": "Time to resolve (median)"},
    "figures.satisfaction": {"vi": "Hài lòng", "en": "Satisfied"},
    "figures.days": {"vi": "{n} ngày", "en": "{n} days"},
    "figures.of_received": {"vi": "{n} phản ánh", "en": "{n} reports"},
    "figures.of_resolved": {"vi": "trong số đã xử lý xong", "en": "of those resolved"},
    "figures.of_ratings": {"vi": "trong {n} lượt đánh giá", "en": "of {n} ratings"},
    "figures.by_ward": {"vi": "Theo phường, xã", "en": "By ward"},
    "figures.by_unit": {"vi": "Theo đơn vị xử lý", "en": "By unit"},
    "figures.by_category": {"vi": "Theo loại sự việc", "en": "By kind of problem"},
    "figures.col_name": {"vi": "Tên", "en": "Name"},
    "figures.how": {
        "vi": "Cách tính: “đang xử lý” là phản ánh chưa xử lý xong hay bị từ chối; “quá hạn” là "
        "phản ánh đang xử lý đã qua hạn; “đúng hạn” và thời gian xử lý tính trên các phản ánh đã "
        "xử lý xong; “hài lòng” là tỉ lệ đánh giá hài lòng của người gửi. Phản ánh trùng được "
        "tính vào phản ánh gốc. Số liệu lấy trực tiếp từ cơ sở dữ liệu, cũng có tại",
        "en": "How these are counted: “being handled” is every report not yet resolved or "
        "rejected; “overdue” is one of those past its deadline; “on time” and the time to "
        "resolve count resolved reports; “satisfied” is the share of reporters' ratings that "
        "said so. A duplicate counts with its original. The figures come straight from the "
        "database, and are also at",
    },
    "figures.none": {
        "vi": "Chưa có phản ánh nào trong thời gian này.",
        "en": "No reports in this period.",
    },
    "nav.skip": {"vi": "Bỏ qua đến nội dung chính", "en": "Skip to main content"},
    "lang.switch": {"vi": "English", "en": "Tiếng Việt"},
    "lang.switch_label": {"vi": "Chuyển sang tiếng Anh", "en": "Switch to Vietnamese"},
    "map.label": {"vi": "Bản đồ", "en": "Map"},
    "map.no_tiles": {
        "vi": "Không tải được nền bản đồ; ranh giới phường/xã vẫn hiển thị.",
        "en": "The base map could not load; ward boundaries are still shown.",
    },
    # Report page
    "report.heading": {"vi": "Gửi phản ánh", "en": "Report a problem"},
    "report.step_pin": {
        "vi": "1. Chạm vào bản đồ để ghim vị trí sự việc",
        "en": "1. Tap the map to pin where the problem is",
    },
    "report.map_help": {
        "vi": "Chạm hoặc nhấp vào bản đồ để đặt ghim. Bàn phím: dùng phím mũi tên để di "
        "chuyển bản đồ, rồi nhấn Enter để ghim tại tâm bản đồ.",
        "en": "Tap or click the map to drop the pin. Keyboard: move the map with the arrow "
        "keys, then press Enter to pin its centre.",
    },
    "report.use_location": {"vi": "Dùng vị trí của tôi", "en": "Use my location"},
    "report.pin_centre": {"vi": "Ghim tại tâm bản đồ", "en": "Pin the map centre"},
    "report.locating": {"vi": "Đang xác định vị trí…", "en": "Finding the place…"},
    "report.no_pin": {"vi": "Chưa có vị trí.", "en": "No place pinned yet."},
    "report.ward": {"vi": "Phường/xã", "en": "Ward"},
    "report.unit": {"vi": "Đơn vị xử lý", "en": "Handled by"},
    "report.geo_denied": {
        "vi": "Không lấy được vị trí của thiết bị. Hãy chạm vào bản đồ.",
        "en": "Your device's location is not available. Please tap the map.",
    },
    "report.photo_gps": {
        "vi": "Đã đặt ghim theo vị trí GPS trong ảnh.",
        "en": "The pin was placed at the photo's GPS position.",
    },
    "report.step_what": {"vi": "2. Sự việc là gì?", "en": "2. What is the problem?"},
    "report.category": {"vi": "Loại sự việc", "en": "Kind of problem"},
    "report.choose_category": {"vi": "— Chọn loại sự việc —", "en": "— Choose a kind —"},
    "report.description": {"vi": "Mô tả ngắn", "en": "Short description"},
    "report.description_hint": {
        "vi": "Ví dụ: rác thải tồn đọng trước số nhà 12 từ hai ngày nay.",
        "en": "For example: garbage piled up in front of no. 12 for two days.",
    },
    "report.photos": {"vi": "Ảnh (tối đa {n})", "en": "Photos (up to {n})"},
    "report.photos_hint": {
        "vi": "Ảnh được thu nhỏ trên máy bạn trước khi gửi.",
        "en": "Photos are made smaller on your device before sending.",
    },
    "report.photos_too_many": {
        "vi": "Chỉ gửi được tối đa {n} ảnh; các ảnh thừa đã bị bỏ.",
        "en": "At most {n} photos can be sent; the extra ones were left out.",
    },
    "report.photo_remove": {"vi": "Bỏ ảnh", "en": "Remove photo"},
    "report.photo_alt": {"vi": "Ảnh {n}", "en": "Photo {n}"},
    "report.step_contact": {
        "vi": "3. Liên hệ (không bắt buộc)",
        "en": "3. Contact (optional)",
    },
    "report.contact_hint": {
        "vi": "Chỉ cán bộ xử lý thấy thông tin này; không bao giờ công khai.",
        "en": "Only the staff handling the report see this; it is never published.",
    },
    "report.name": {"vi": "Họ tên", "en": "Name"},
    "report.phone": {"vi": "Số điện thoại", "en": "Phone"},
    "report.email": {"vi": "Thư điện tử", "en": "Email"},
    "report.send": {"vi": "Gửi phản ánh", "en": "Send the report"},
    "report.sending": {"vi": "Đang gửi…", "en": "Sending…"},
    "report.need_pin": {
        "vi": "Hãy ghim vị trí sự việc trên bản đồ.",
        "en": "Please pin the place on the map.",
    },
    "report.need_category": {"vi": "Hãy chọn loại sự việc.", "en": "Please choose a kind."},
    "report.need_description": {
        "vi": "Hãy viết một dòng mô tả.",
        "en": "Please write a line describing it.",
    },
    "report.refused": {
        "vi": "Không thể gửi phản ánh tại vị trí này:",
        "en": "A report cannot be sent from this place:",
    },
    "report.photo_unreadable": {
        "vi": "Không đọc được ảnh {name}.",
        "en": "The photo {name} could not be read.",
    },
    "report.error": {"vi": "Không gửi được:", "en": "Could not send:"},
    "report.network_error": {
        "vi": "Lỗi kết nối, hãy thử lại.",
        "en": "Connection error, please try again.",
    },
    "nearby.heading": {
        "vi": "Phản ánh tương tự gần đây",
        "en": "Similar open reports nearby",
    },
    "nearby.hint": {
        "vi": "Nếu đây là cùng một sự việc, hãy bấm “Tôi cũng gặp” thay vì gửi phản ánh mới.",
        "en": "If it is the same problem, press “Me too” instead of sending a new report.",
    },
    "nearby.plus_one": {"vi": "Tôi cũng gặp (+1)", "en": "Me too (+1)"},
    "nearby.metres": {"vi": "cách {m} m", "en": "{m} m away"},
    "nearby.followers": {"vi": "{n} người quan tâm", "en": "{n} following"},
    # Tracking page
    "track.heading": {"vi": "Theo dõi phản ánh", "en": "Track a report"},
    "track.sent": {
        "vi": "Đã gửi phản ánh. Hãy lưu đường dẫn dưới đây để theo dõi.",
        "en": "Your report was sent. Keep the link below to follow it.",
    },
    "track.link": {"vi": "Đường dẫn theo dõi", "en": "Tracking link"},
    "track.code": {"vi": "Mã theo dõi", "en": "Tracking code"},
    "track.copy": {"vi": "Sao chép", "en": "Copy"},
    "track.copied": {"vi": "Đã sao chép.", "en": "Copied."},
    "track.not_found": {
        "vi": "Không tìm thấy phản ánh với mã này.",
        "en": "No report has this tracking code.",
    },
    "track.status": {"vi": "Trạng thái", "en": "Status"},
    "track.category": {"vi": "Loại", "en": "Kind"},
    "track.ward": {"vi": "Phường/xã", "en": "Ward"},
    "track.unit": {"vi": "Đơn vị xử lý", "en": "Handled by"},
    "track.deadline": {"vi": "Hạn xử lý", "en": "Due by"},
    "track.created": {"vi": "Gửi lúc", "en": "Sent at"},
    "track.timeline": {"vi": "Diễn biến", "en": "Timeline"},
    "track.overdue": {"vi": "Quá hạn", "en": "Overdue"},
    "track.rate_heading": {"vi": "Đánh giá kết quả xử lý", "en": "Rate how it was handled"},
    "track.rating": {"vi": "Mức độ hài lòng", "en": "Satisfaction"},
    "track.comment": {"vi": "Nhận xét (không bắt buộc)", "en": "Comment (optional)"},
    "track.rate_send": {"vi": "Gửi đánh giá", "en": "Send rating"},
    "track.rated": {"vi": "Cảm ơn bạn đã đánh giá.", "en": "Thank you for your rating."},
    "track.your_rating": {"vi": "Đánh giá của bạn", "en": "Your rating"},
    "track.stars": {"vi": "{n} sao", "en": "{n} stars"},
    "track.reopen": {"vi": "Mở lại phản ánh", "en": "Reopen the report"},
    "track.photos": {"vi": "Ảnh", "en": "Photos"},
    "track.plus_one_done": {
        "vi": "Đã ghi nhận. Bạn đang theo dõi phản ánh này.",
        "en": "Noted. You are now following this report.",
    },
    "track.public_view": {
        "vi": "Trang công khai của phản ánh",
        "en": "The report's public page",
    },
    # Staff area (/staff)
    "staff.title": {"vi": "Khu vực cán bộ", "en": "Staff area"},
    "staff.queue": {"vi": "Hàng đợi", "en": "Queue"},
    "staff.maps": {"vi": "Bản đồ phân tích", "en": "Analysis maps"},
    "staff.assignee": {"vi": "Người xử lý", "en": "Assigned to"},
    "staff.nobody": {"vi": "Chưa giao", "en": "Nobody yet"},
    "staff.assign_heading": {"vi": "Giao việc và mức ưu tiên", "en": "Assignment and priority"},
    "staff.managers_only": {
        "vi": "Chỉ lãnh đạo đơn vị mới giao việc được.",
        "en": "Only the unit's managers assign reports.",
    },
    "staff.not_saved": {"vi": "Chưa lưu được thay đổi", "en": "The change was not saved"},
    "staff.only_mine": {"vi": "Giao cho tôi", "en": "Assigned to me"},
    "staff.more_filters": {"vi": "Lọc thêm", "en": "More filters"},
    "staff.any": {"vi": "Tất cả", "en": "Any"},
    "staff.created_from": {"vi": "Gửi từ ngày", "en": "Sent from"},
    "staff.created_to": {"vi": "đến ngày", "en": "to"},
    "staff.clear_filters": {"vi": "Bỏ lọc", "en": "Clear filters"},
    "staff.bad_filter": {"vi": "Bộ lọc không hợp lệ", "en": "These filters cannot be used"},
    "staff.map_heat": {"vi": "mật độ", "en": "heatmap"},
    "staff.map_hotspots": {"vi": "điểm nóng", "en": "hot spots"},
    "staff.map_wards": {"vi": "theo phường, xã", "en": "by ward"},
    "staff.logout": {"vi": "Đăng xuất", "en": "Log out"},
    "staff.login_heading": {"vi": "Đăng nhập cán bộ", "en": "Staff login"},
    "staff.username": {"vi": "Tên đăng nhập", "en": "Username"},
    "staff.password": {"vi": "Mật khẩu", "en": "Password"},
    "staff.login": {"vi": "Đăng nhập", "en": "Log in"},
    "staff.wrong_password": {
        "vi": "Sai tên đăng nhập hoặc mật khẩu.",
        "en": "Wrong username or password.",
    },
    "staff.paused": {
        "vi": "Nhập sai mật khẩu quá nhiều lần. Hãy thử lại sau {s} giây.",
        "en": "Too many wrong passwords. Try again in {s} seconds.",
    },
    "staff.disabled": {
        "vi": "Tài khoản này đã bị khoá. Hãy liên hệ quản trị viên.",
        "en": "This account is disabled. Please ask an administrator.",
    },
    "staff.login_missing": {
        "vi": "Hãy nhập tên đăng nhập và mật khẩu.",
        "en": "Please enter your username and password.",
    },
    "staff.not_staff": {
        "vi": "Trang này chỉ dành cho cán bộ các đơn vị.",
        "en": "This page is for the units' staff only.",
    },
    "staff.not_found": {
        "vi": "Không có phản ánh này trong đơn vị của bạn.",
        "en": "There is no such report in your unit.",
    },
    "staff.no_unit": {
        "vi": "Không có đơn vị này, hoặc bạn không xem được hàng đợi của đơn vị đó.",
        "en": "There is no such unit, or you may not see its queue.",
    },
    "staff.back": {"vi": "← Về hàng đợi", "en": "← Back to the queue"},
    "staff.queue_of": {"vi": "Phản ánh của {unit}", "en": "Reports for {unit}"},
    "staff.queue_all": {"vi": "Phản ánh của mọi đơn vị", "en": "Reports for every unit"},
    "staff.count_open": {"vi": "{n} chưa xong", "en": "{n} open"},
    "staff.count_overdue": {"vi": "{n} quá hạn", "en": "{n} overdue"},
    "staff.tab_open": {"vi": "Chưa xong", "en": "Open"},
    "staff.tab_received": {"vi": "Mới tiếp nhận", "en": "Received"},
    "staff.tab_acknowledged": {"vi": "Đã xác nhận", "en": "Acknowledged"},
    "staff.tab_in_progress": {"vi": "Đang xử lý", "en": "In progress"},
    "staff.tab_closed": {"vi": "Đã đóng", "en": "Closed"},
    "staff.search_label": {
        "vi": "Tìm theo mô tả, địa chỉ hoặc #số",
        "en": "Search the description, address or #number",
    },
    "staff.search": {"vi": "Tìm", "en": "Search"},
    "staff.only_overdue": {"vi": "Chỉ quá hạn", "en": "Overdue only"},
    "staff.map_label": {"vi": "Bản đồ các phản ánh", "en": "Map of the reports"},
    "staff.col_id": {"vi": "Số", "en": "No."},
    "staff.col_deadline": {"vi": "Hạn xử lý", "en": "Due by"},
    "staff.col_category": {"vi": "Loại", "en": "Kind"},
    "staff.col_place": {"vi": "Địa điểm", "en": "Place"},
    "staff.col_status": {"vi": "Trạng thái", "en": "Status"},
    "staff.col_priority": {"vi": "Mức ưu tiên", "en": "Priority"},
    "staff.overdue": {"vi": "Quá hạn", "en": "Overdue"},
    "staff.empty": {"vi": "Không có phản ánh nào.", "en": "No reports here."},
    "staff.pages": {"vi": "Các trang", "en": "Pages"},
    "staff.prev": {"vi": "← Trang trước", "en": "← Previous"},
    "staff.next": {"vi": "Trang sau →", "en": "Next →"},
    "staff.page": {"vi": "Trang {n}/{pages}", "en": "Page {n} of {pages}"},
    "staff.received_at": {"vi": "Tiếp nhận lúc", "en": "Received at"},
    "staff.unit": {"vi": "Đơn vị xử lý", "en": "Handled by"},
    "staff.reporter": {"vi": "Người phản ánh", "en": "Reporter"},
    "staff.plus_ones": {"vi": "Người cùng phản ánh", "en": "Others reporting it"},
    "staff.duplicate_of": {"vi": "Trùng với phản ánh số", "en": "Duplicate of report no."},
    "staff.photos": {"vi": "Ảnh hiện trường", "en": "Photos"},
    "staff.photo_n": {"vi": "Ảnh hiện trường {n}", "en": "Photo {n}"},
    "staff.fix_photo_n": {"vi": "Ảnh sau xử lý {n}", "en": "Photo of the fix {n}"},
    "staff.timeline": {"vi": "Diễn biến", "en": "Timeline"},
    "staff.internal": {"vi": "Nội bộ", "en": "Internal"},
    "staff.change_status": {"vi": "Chuyển trạng thái", "en": "Change the status"},
    "staff.to": {"vi": "Trạng thái mới", "en": "New status"},
    "staff.reason": {"vi": "Lý do", "en": "Reason"},
    "staff.transfer_unit": {
        "vi": "Chuyển đến đơn vị (mã đơn vị)",
        "en": "Transfer to the unit (its code)",
    },
    "staff.template": {"vi": "Mẫu trả lời", "en": "Response template"},
    "staff.no_template": {"vi": "— Không dùng mẫu —", "en": "— No template —"},
    "staff.public_comment": {
        "vi": "Trả lời công khai (người dân thấy)",
        "en": "Public answer (citizens see it)",
    },
    "staff.public_hint": {
        "vi": "Không ghi thông tin cá nhân của ai vào đây.",
        "en": "Never write anyone's personal details here.",
    },
    "staff.internal_note": {
        "vi": "Ghi chú nội bộ (không công khai)",
        "en": "Internal note (never published)",
    },
    "staff.fix_photos": {"vi": "Ảnh sau xử lý", "en": "Photos of the fix"},
    "staff.save": {"vi": "Lưu", "en": "Save"},
    "staff.saving": {"vi": "Đang lưu…", "en": "Saving…"},
    "staff.no_transitions": {
        "vi": "Phản ánh đã đóng, không chuyển trạng thái được nữa.",
        "en": "The report is closed; its status can no longer change.",
    },
    "staff.error": {"vi": "Không lưu được:", "en": "Not saved:"},
    "staff.network_error": {
        "vi": "Lỗi kết nối, hãy thử lại.",
        "en": "Connection error, please try again.",
    },
    "staff.changed_meanwhile": {
        "vi": "Người khác vừa cập nhật phản ánh này. Hãy tải lại trang rồi quyết định lại.",
        "en": "Someone else changed this report meanwhile. Reload the page and decide again.",
    },
    # Priorities
    "priority.low": {"vi": "Thấp", "en": "Low"},
    "priority.normal": {"vi": "Bình thường", "en": "Normal"},
    "priority.high": {"vi": "Cao", "en": "High"},
    "priority.urgent": {"vi": "Khẩn cấp", "en": "Urgent"},
    "track.share": {
        "vi": "Ai có đường dẫn này đều xem được diễn biến (không có thông tin cá nhân).",
        "en": "Anyone with this link can follow the timeline (no personal details are shown).",
    },
    "track.followed": {
        "vi": "Đã ghi nhận bạn cũng gặp sự việc này. Lưu đường dẫn để theo dõi.",
        "en": "Noted that this affects you too. Keep the link to follow it.",
    },
    "track.plus_ones": {"vi": "{n} người cũng gặp", "en": "{n} others affected"},
    "track.duplicate_of": {
        "vi": "Trùng với phản ánh #{id}, được xử lý cùng nhau.",
        "en": "Same problem as report #{id}; they are handled together.",
    },
    "track.satisfied": {"vi": "Sự việc đã được giải quyết chưa?", "en": "Was it fixed?"},
    "track.yes": {"vi": "Rồi", "en": "Yes"},
    "track.no": {"vi": "Chưa", "en": "No"},
    "track.reopen_heading": {"vi": "Chưa được xử lý?", "en": "Not fixed?"},
    "track.reopen_hint": {
        "vi": "Bạn có thể mở lại phản ánh đến {until}.",
        "en": "You can reopen the report until {until}.",
    },
    "track.reopen_comment": {"vi": "Điều gì vẫn chưa ổn?", "en": "What is still wrong?"},
    "track.reopened": {"vi": "Đã mở lại", "en": "Reopened"},
    "track.error": {"vi": "Không thực hiện được:", "en": "Could not do it:"},
    "track.need_stars": {"vi": "Hãy chọn số sao.", "en": "Please choose the stars."},
    "track.need_satisfied": {
        "vi": "Hãy cho biết sự việc đã được giải quyết chưa.",
        "en": "Please say whether it was fixed.",
    },
    "track.location": {"vi": "Vị trí", "en": "Place"},
    "track.by": {"vi": "bởi", "en": "by"},
    "actor.citizen": {"vi": "người dân", "en": "citizen"},
    "actor.staff": {"vi": "cán bộ", "en": "staff"},
    "actor.system": {"vi": "hệ thống", "en": "system"},
    "reason.not_competent": {"vi": "Không thuộc thẩm quyền", "en": "Not our competence"},
    "reason.not_a_problem": {
        "vi": "Không phải vi phạm, sự cố",
        "en": "Not a real problem",
    },
    "reason.duplicate": {"vi": "Trùng phản ánh khác", "en": "Duplicate of another report"},
    "reason.insufficient_information": {
        "vi": "Không đủ thông tin",
        "en": "Not enough information",
    },
    "reason.wrong_area": {"vi": "Ngoài địa bàn", "en": "Outside the unit's area"},
    "reason.not_fixed": {"vi": "Người dân báo chưa xử lý xong", "en": "Reported as not fixed"},
    "reason.other": {"vi": "Lý do khác", "en": "Other reason"},
    # Statuses
    "status.received": {"vi": "Đã tiếp nhận", "en": "Received"},
    "status.acknowledged": {"vi": "Đã xác nhận", "en": "Acknowledged"},
    "status.in_progress": {"vi": "Đang xử lý", "en": "In progress"},
    "status.resolved": {"vi": "Đã xử lý xong", "en": "Resolved"},
    "status.rejected": {"vi": "Từ chối", "en": "Rejected"},
    "status.transferred": {"vi": "Đã chuyển đơn vị", "en": "Transferred"},
    "status.reopened": {"vi": "Mở lại", "en": "Reopened"},
    # Public map
    "map.heading": {"vi": "Bản đồ phản ánh", "en": "Reports map"},
    "map.filters": {"vi": "Lọc", "en": "Filters"},
    "map.group": {"vi": "Nhóm sự việc", "en": "Kind of problem"},
    "map.all_groups": {"vi": "Tất cả", "en": "All"},
    "map.status": {"vi": "Trạng thái", "en": "Status"},
    "map.all_statuses": {"vi": "Tất cả", "en": "All"},
    "map.open": {"vi": "Chưa xong", "en": "Open"},
    "map.closed": {"vi": "Đã đóng", "en": "Closed"},
    "map.count": {"vi": "{n} phản ánh trong vùng nhìn", "en": "{n} reports in view"},
    "map.cluster": {
        "vi": "{n} phản ánh — phóng to để xem",
        "en": "{n} reports — zoom in to see them",
    },
    "map.open_report": {"vi": "Xem diễn biến", "en": "Open the timeline"},
    "map.legend": {"vi": "Chú giải", "en": "Legend"},
    "map.help": {
        "vi": "Số trong vòng tròn là số phản ánh ở khu vực đó: chọn để phóng to. Chọn một điểm "
        "để xem phản ánh. Bàn phím: Tab đến điểm, Enter để mở.",
        "en": "A number in a circle counts the reports there: select it to zoom in. Select a "
        "dot to see its report. Keyboard: Tab to a dot, Enter to open it.",
    },
}


def negotiate(accept_language: str | None, cookie: str | None = None) -> Lang:
    """The page language: the cookie the switch set, else the browser's best supported
    choice (``Accept-Language`` q-values; ``vi-VN`` counts as ``vi``), else Vietnamese."""
    if cookie in LANGUAGES:
        return str(cookie)
    best: tuple[float, int, str] | None = None
    for position, item in enumerate((accept_language or "").split(",")):
        tag, _, params = item.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in LANGUAGES:
            continue
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q <= 0:
            continue
        # Highest q wins; on a tie the earlier entry wins (negative position sorts later).
        candidate = (q, -position, primary)
        if best is None or candidate[:2] > best[:2]:
            best = candidate
    return best[2] if best else DEFAULT_LANG


def translate(lang: Lang, key: str, **values: object) -> str:
    """The text for ``key`` in ``lang``; a missing key raises KeyError so a typo in a
    template fails its test instead of showing a key to a citizen."""
    message = MESSAGES[key][lang]
    return message.format(**values) if values else message


def translator(lang: Lang) -> Callable[..., str]:
    """``_("key", n=3)`` for templates."""

    def _(key: str, **values: object) -> str:
        return translate(lang, key, **values)

    return _


def messages_for(lang: Lang, prefixes: tuple[str, ...] = ()) -> Mapping[str, str]:
    """The messages (optionally only those under some prefixes) in one language, for the
    pages' JavaScript."""
    return {
        key: texts[lang]
        for key, texts in MESSAGES.items()
        if not prefixes or key.startswith(prefixes)
    }
