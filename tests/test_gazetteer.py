"""The gazetteer reads a written address the way people write them: today's ward names or
the pre-2025 ones, with or without diacritics, in any case, with the usual abbreviations."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.ext.asyncio import create_async_engine

from boundaries import DATA_DIR
from geo_service import gazetteer
from geo_service.config import Settings
from geo_service.errors import DomainError, Invalid
from geo_service.profile import load_profile

PROFILE = load_profile(Settings().city_profile)
RULES = PROFILE.gazetteer
T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine off the main thread (Playwright's sync API owns the main loop)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def resolve_all(database_url: str, addresses: list[str]) -> list[gazetteer.Place | DomainError]:
    async def go() -> list[gazetteer.Place | DomainError]:
        engine = create_async_engine(database_url)
        out: list[gazetteer.Place | DomainError] = []
        async with engine.connect() as conn:
            for address in addresses:
                try:
                    out.append(await gazetteer.resolve(conn, address, RULES))
                except DomainError as exc:
                    out.append(exc)
        await engine.dispose()
        return out

    return run(go())


def test_names_are_compared_without_diacritics_case_or_punctuation() -> None:
    assert gazetteer.normalise("Phường Văn Miếu - Quốc Tử Giám") == "phuong van mieu quoc tu giam"
    assert gazetteer.normalise("ĐỐNG ĐA") == "dong da"
    # The two ways of placing the tone mark (Hoà / Hòa) and decomposed input agree.
    assert gazetteer.normalise("Yên Hoà") == gazetteer.normalise("Yên Hòa") == "yen hoa"
    assert gazetteer.normalise("Ho\u0300a") == "hoa"
    assert gazetteer.normalise("P. Kim Liên", RULES.abbreviations) == "phuong kim lien"
    assert gazetteer.normalise("TT Văn Điển", RULES.abbreviations) == "thi tran van dien"


def test_the_free_text_list_of_merged_wards_becomes_names() -> None:
    names = gazetteer.parse_former_names(
        "Phường Quán Thánh, một phần diện tích TN, quy mô dân số của các phường Cửa Nam, "
        "Điện Biên, Phường Quang Trung (quận Đống Đa) (phần còn lại sau khi sáp nhập vào "
        "phường Đống Đa), Xã Tam Hiệp (huyện Thanh Trì) và Thị trấn Văn Điển, "
        "phần còn lại của phường Thanh Nhàn sau khi sắp xếp",
        RULES,
    )
    assert [(n.unit_type, n.name, n.qualifier) for n in names] == [
        ("Phường", "Quán Thánh", None),
        ("Phường", "Cửa Nam", None),
        ("Phường", "Điện Biên", None),
        ("Phường", "Quang Trung", "quận Đống Đa"),
        ("Xã", "Tam Hiệp", "huyện Thanh Trì"),
        ("Thị trấn", "Văn Điển", None),
        ("Phường", "Thanh Nhàn", None),
    ]


def test_the_gazetteer_is_built_once_for_the_active_ward_set(engine: Engine) -> None:
    with engine.connect() as conn:
        per_ward = conn.execute(
            text(
                "SELECT count(DISTINCT p.area_id) AS wards, count(*) FILTER (WHERE p.former)"
                " AS former FROM place_names p JOIN boundary_sets b ON b.id = p.set_id"
                " WHERE b.active AND b.level = 'ward'"
            )
        ).one()
    assert per_ward.wards == 126
    assert per_ward.former > 500


def test_every_ward_is_found_by_its_own_name_in_any_spelling(database_url: str) -> None:
    with (DATA_DIR / "hanoi_wards_2025.geojson").open(encoding="utf-8") as fh:
        wards = [f["properties"] for f in json.load(fh)["features"]]
    addresses = [f"Số 1, {w['fullName']}, {PROFILE.city.name}" for w in wards]
    addresses += [f"so 1 {w['fullNameEn'].upper()}" for w in wards]
    found = resolve_all(database_url, addresses)
    expected = [w["code"] for w in wards] * 2
    wrong = [
        (a, f) for a, f, code in zip(addresses, found, expected, strict=True)
        if not isinstance(f, gazetteer.Place) or f.ward_code != code
    ]  # fmt: skip
    assert not wrong, wrong[:5]


def test_a_pre_2025_ward_absorbed_whole_leads_to_its_new_ward(database_url: str) -> None:
    with (DATA_DIR / "hanoi_wards_2025.geojson").open(encoding="utf-8") as fh:
        wards = [f["properties"] for f in json.load(fh)["features"]]
    current = {gazetteer.normalise(w["name"]) for w in wards}
    homes: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for w in wards:
        for n in gazetteer.parse_former_names(w["truocSapNhap"], RULES):
            homes[(n.unit_type or "", n.name, n.qualifier or "")].add(w["code"])
    # Names that went to exactly one ward and are not also a ward's name today.
    whole = {
        key: next(iter(codes))
        for key, codes in homes.items()
        if len(codes) == 1
        and gazetteer.normalise(key[1]) not in current
        and sum(1 for k in homes if gazetteer.normalise(k[1]) == gazetteer.normalise(key[1])) == 1
    }
    assert len(whole) > 200
    keys = sorted(whole)
    addresses = [f"ngõ 3, {t.lower()} {gazetteer.normalise(name)} {q}" for t, name, q in keys]
    found = resolve_all(database_url, addresses)
    wrong = [
        (a, f) for a, f, key in zip(addresses, found, keys, strict=True)
        if not isinstance(f, gazetteer.Place) or f.ward_code != whole[key]
    ]  # fmt: skip
    assert not wrong, wrong[:5]


@pytest.mark.parametrize(
    ("address", "words"),
    [
        ("Khu phố cổ", "no ward name recognised"),
        ("phường Kim Mã, quận Ba Đình", "ambiguous"),
        ("", "no ward name recognised"),
    ],
)
def test_an_address_that_names_no_ward_or_several_is_refused(
    database_url: str, address: str, words: str
) -> None:
    (result,) = resolve_all(database_url, [address])
    assert isinstance(result, Invalid)
    assert result.field == "address_string"
    assert words in str(result.message)


def test_the_point_given_for_a_ward_lies_in_that_ward(database_url: str, engine: Engine) -> None:
    (place,) = resolve_all(database_url, ["phường Hoàn Kiếm"])
    assert isinstance(place, gazetteer.Place)
    with engine.connect() as conn:
        code = conn.execute(
            text("SELECT code FROM gs_locate(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))"),
            {"lon": place.lon, "lat": place.lat},
        ).scalar()
    assert code == place.ward_code
