"""Open311 GeoReport v2: the same reports, categories and routing in the format existing
civic-issue clients speak (http://wiki.open311.org/GeoReport_v2)."""
