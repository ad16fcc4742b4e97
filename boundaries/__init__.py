"""Administrative boundaries: the data we ship and the importer that loads it into PostGIS."""

from pathlib import Path

from sqlalchemy import text

DATA_DIR = Path(__file__).resolve().parent / "data"

# What every page and map must credit: the active sets' attributions, once each. A set derived
# from another (the city outline dissolved from the wards) repeats its source's text and adds
# to it, so a text found inside another one is left out rather than shown twice.
ATTRIBUTIONS_SQL = text(
    """
    SELECT DISTINCT a.attribution
      FROM boundary_sets a
     WHERE a.active AND a.attribution <> ''
       AND NOT EXISTS (
             SELECT 1 FROM boundary_sets b
              WHERE b.active AND b.attribution <> a.attribution
                AND strpos(b.attribution, a.attribution) > 0)
     ORDER BY a.attribution
    """
)
