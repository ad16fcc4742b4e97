"""Boundary files for the reform stories, made from the wards we ship so that no test needs
data from elsewhere: the "old districts" a reform replaces, and the faulty files an importer
must refuse.

The old districts are Hanoi's 126 wards of 2025 dissolved five by five in the order of their
codes (the official codes run district by district, so neighbours mostly share a district),
plus one commune west of today's city limit that the old city had and the new one has not.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geopandas as gpd
from shapely.geometry import box, mapping
from shapely.ops import unary_union

from boundaries import DATA_DIR

WARDS_2025 = DATA_DIR / "hanoi_wards_2025.geojson"
# West of the 2025 city limit (which starts at 105.285 E): part of the old city only.
LOST_COMMUNE = box(105.20, 21.00, 105.24, 21.04)
LOST_POINT = (21.02, 105.22)  # lat, lon inside it
HOAN_KIEM = (21.0287, 105.8524)  # in ward 00070 and in the district holding it


def wards() -> gpd.GeoDataFrame:
    return gpd.read_file(WARDS_2025)


def feature_collection(features: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": features}


def write(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(json.dumps(document, ensure_ascii=False))
    return path


def old_districts(path: Path) -> tuple[Path, dict[str, str]]:
    """The old set as a GeoJSON file, and which district each 2025 ward was cut from."""
    frame = wards().sort_values("code").reset_index(drop=True)
    features, district_of = [], {}
    for start in range(0, len(frame), 5):
        group = frame.iloc[start : start + 5]
        code = f"D{start // 5 + 1:02d}"
        district_of.update({c: code for c in group["code"]})
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "code": code,
                    "name": f"Quận cũ {start // 5 + 1}",
                    "fullName": f"Quận cũ số {start // 5 + 1}",
                },
                "geometry": mapping(unary_union(list(group.geometry))),
            }
        )
    features.append(
        {
            "type": "Feature",
            "properties": {"code": "D99", "name": "Xã đã chuyển", "fullName": "Xã đã chuyển"},
            "geometry": mapping(LOST_COMMUNE),
        }
    )
    return write(path, feature_collection(features)), district_of


def wards_file(path: Path, frame: gpd.GeoDataFrame, **properties: Any) -> Path:
    """``frame`` written as GeoJSON (lon/lat, no crs member)."""
    features = [
        {
            "type": "Feature",
            "properties": {
                "code": row.code,
                "name": row["name"],
                "fullName": row.fullName,
                **{k: v(row) if callable(v) else v for k, v in properties.items()},
            },
            "geometry": mapping(row.geometry),
        }
        for _, row in frame.iterrows()
    ]
    return write(path, feature_collection(features))
