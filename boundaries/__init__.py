"""Administrative boundaries: the data we ship and the importer that loads it into PostGIS."""

from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
