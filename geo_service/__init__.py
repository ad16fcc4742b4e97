"""geo_service: citizens' pins become routed, tracked reports for a city's units."""

__version__ = "0.1.0"
