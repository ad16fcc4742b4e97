"""The importer refuses a wrong file with a message that says what to do: coordinates that are
not longitude/latitude or are swapped, a projected file without a CRS, a ward missing, a gap
between wards, codes stored as numbers. ``--dry-run`` prints the same checks and writes nothing.

Each story takes Hanoi's real 2025 wards and breaks them the way files get broken."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import numpy as np
import shapely
from sqlalchemy import Engine, text

from boundaries.cli import load_options
from boundaries.importer import load_boundary_set
from geo_service.cli import build_parser
from geo_service.config import Settings
from geo_service.profile import load_profile
from tests.conftest import cli
from tests.reform_data import WARDS_2025, wards, wards_file

COUNT_SQL = text(
    "SELECT (SELECT count(*) FROM boundary_sets), (SELECT count(*) FROM areas),"
    " (SELECT count(*) FROM area_pieces)"
)


def load(database_url: str, path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """An operator loads a ward file valid from the 2025 reform (the city limit of that day
    is hanoi-city-2025), checking only (--dry-run) unless the test says otherwise."""
    return cli(
        database_url, "boundaries", "load", str(path), "--set", "candidate", "--level", "ward",
        "--full-name-field", "fullName", "--valid-from", "2025-07-01", *extra,
    )  # fmt: skip


def test_a_file_in_lat_lon_order_is_refused_and_loads_with_swap_xy(
    tmp_path: Path, database_url: str
) -> None:
    frame = wards()
    frame["geometry"] = shapely.transform(frame.geometry.values, lambda c: c[:, ::-1])
    path = wards_file(tmp_path / "latlon.geojson", frame)
    refused = load(database_url, path, "--dry-run")
    assert refused.returncode == 2
    assert "latitudes reach 106.02, beyond ±90" in refused.stderr
    assert "look swapped (lat,lon order)" in refused.stderr
    assert "--swap-xy" in refused.stderr
    fixed = load(database_url, path, "--swap-xy", "--dry-run")
    assert fixed.returncode == 0, fixed.stderr
    assert "126 features, 3,359.18 km²" in fixed.stdout
    assert "every code of the active set hanoi-wards-2025 is kept" in fixed.stdout
    assert "the wards cover the city limit hanoi-city-2025" in fixed.stdout


def test_a_projected_file_without_a_crs_is_refused_until_its_crs_is_given(
    tmp_path: Path, database_url: str
) -> None:
    frame = wards().to_crs(3857)  # web mercator metres, written without a crs member
    path = wards_file(tmp_path / "mercator.geojson", frame)
    refused = load(database_url, path, "--dry-run")
    assert refused.returncode == 2
    assert "not longitude/latitude" in refused.stderr
    assert "does not say in which CRS" in refused.stderr
    assert "--crs" in refused.stderr
    given = load(database_url, path, "--crs", "EPSG:3857", "--dry-run")
    assert given.returncode == 0, given.stderr
    assert "3,359.18 km²" in given.stdout


def test_a_file_far_from_the_city_is_refused(tmp_path: Path, database_url: str) -> None:
    frame = wards()
    frame["geometry"] = shapely.transform(frame.geometry.values, lambda c: c + np.array([20, 0]))
    refused = load(database_url, wards_file(tmp_path / "elsewhere.geojson", frame), "--dry-run")
    assert refused.returncode == 2
    assert "km from the city's centre" in refused.stderr
    assert "not this city's map" in refused.stderr


def test_a_missing_ward_is_refused_by_its_code_and_the_gap_it_leaves(
    tmp_path: Path, database_url: str, engine: Engine
) -> None:
    frame = wards()
    path = wards_file(tmp_path / "125.geojson", frame[frame.code != "00070"])
    with engine.connect() as conn:
        before = conn.execute(COUNT_SQL).one()
    refused = load(database_url, path)
    assert refused.returncode == 2
    assert "refused, nothing was loaded" in refused.stderr
    assert "1 code of the active set hanoi-wards-2025 is not in this set" in refused.stderr
    assert "00070 Hoàn Kiếm" in refused.stderr
    assert "--allow-removed" in refused.stderr
    # Hoàn Kiếm's 1.9 km² is a hole in the city now, reported where it is.
    assert "1 part of the city limit hanoi-city-2025 is in no ward" in refused.stderr
    assert "1,909,124 m² at lat 21.03257, lon 105.84971" in refused.stderr
    with engine.connect() as conn:
        assert conn.execute(COUNT_SQL).one() == before


def test_a_ward_shrunk_by_100_m_leaves_gaps_reported_with_area_and_place(
    tmp_path: Path, database_url: str
) -> None:
    frame = wards()
    utm = frame.to_crs(32648)  # UTM 48N: metres
    shrunk = utm.geometry[frame.code == "00070"].buffer(-100)
    frame.loc[frame.code == "00070", "geometry"] = shrunk.to_crs(4326)
    refused = load(database_url, wards_file(tmp_path / "shrunk.geojson", frame), "--dry-run")
    assert refused.returncode == 2
    assert "REFUSED gaps:" in refused.stdout
    assert "of the city limit hanoi-city-2025" in refused.stdout
    gap_lines = [line for line in refused.stdout.splitlines() if " m² at lat " in line]
    assert gap_lines and all("lat 21.0" in line for line in gap_lines)
    assert "Every part of the city must be in one ward" in refused.stdout
    assert "the load would be refused" in refused.stdout


def test_codes_stored_as_numbers_are_refused_unless_their_width_is_given(
    tmp_path: Path, database_url: str
) -> None:
    frame = wards()
    path = wards_file(tmp_path / "numbers.geojson", frame.assign(code=frame.code.astype(int)))
    refused = load(database_url, path, "--dry-run")
    assert refused.returncode == 2
    assert "holds numbers (4, 8, 25, …)" in refused.stderr
    assert "leading zeros are lost" in refused.stderr and "--code-width" in refused.stderr
    padded = load(database_url, path, "--code-width", "5", "--dry-run")
    assert padded.returncode == 0, padded.stderr
    assert "every code of the active set hanoi-wards-2025 is kept" in padded.stdout


def test_a_dry_run_prints_the_checks_and_writes_nothing(
    tmp_path: Path, database_url: str, engine: Engine
) -> None:
    path = wards_file(tmp_path / "same.geojson", wards())
    with engine.connect() as conn:
        before = conn.execute(COUNT_SQL).one()
    result = load(database_url, path, "--dry-run")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "dry run: boundary set 'candidate' (ward): 126 features, 3,359.18 km²" in lines
    assert any(line.startswith("ok      overlaps:") for line in lines)
    assert any(line.startswith("ok      gaps:") for line in lines)
    assert any(line.startswith("ok      inside the city limit:") for line in lines)
    assert lines[-1] == "nothing was written"
    with engine.connect() as conn:
        assert conn.execute(COUNT_SQL).one() == before


def test_codes_read_as_text_keep_their_leading_zeros(tmp_path: Path, engine: Engine) -> None:
    path = wards_file(tmp_path / "text.geojson", wards())
    args = build_parser().parse_args(
        ["boundaries", "load", str(path), "--set", "copy", "--level", "ward"]
    )
    opts, _ = load_options(args, load_profile(Settings().city_profile))
    opts.valid_from = dt.date(2025, 7, 1)
    with engine.connect() as conn:
        summary = load_boundary_set(conn, path, opts)
        codes = conn.execute(
            text("SELECT code FROM areas WHERE set_id = :s ORDER BY code LIMIT 3"),
            {"s": summary.set_id},
        ).scalars()
        assert list(codes) == ["00004", "00008", "00025"]
        conn.rollback()


def test_the_profiles_attribution_and_tolerances_apply_to_a_file_loaded_by_hand(
    tmp_path: Path, engine: Engine
) -> None:
    """The operator names only the file and a new set: the city profile's entry for a file
    of that name gives the fields, validity, attribution, licence and tolerances."""
    path = Path(shutil.copy(WARDS_2025, tmp_path))
    args = build_parser().parse_args(["boundaries", "load", str(path), "--set", "by-hand"])
    opts, note = load_options(args, load_profile(Settings().city_profile))
    assert (
        note == "using the city profile's entry for 'hanoi-wards-2025' (hanoi_wards_2025.geojson)"
    )
    with engine.connect() as conn:
        summary = load_boundary_set(conn, path, opts)
        row = conn.execute(
            text(
                "SELECT level, valid_from, attribution, licence, gap_tolerance_m2,"
                " overlap_tolerance_m2 FROM boundary_sets WHERE id = :s"
            ),
            {"s": summary.set_id},
        ).one()
        full_name = conn.execute(
            text("SELECT full_name FROM areas WHERE set_id = :s AND code = '00070'"),
            {"s": summary.set_id},
        ).scalar()
        conn.rollback()
    assert row.level == "ward" and row.valid_from == dt.date(2025, 7, 1)
    assert "sapnhap.bando.com.vn" in row.attribution and "MIT" in row.licence
    assert (row.gap_tolerance_m2, row.overlap_tolerance_m2) == (1, 1)
    assert full_name == "Phường Hoàn Kiếm"  # the profile's full_name_field
