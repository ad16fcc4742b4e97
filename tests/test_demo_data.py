"""Demo data looks like a city's year of reports and is routed like live ones."""

from __future__ import annotations

from sqlalchemy import Engine, text

from geo_service.config import Settings
from geo_service.demo import generate_demo_reports


def test_demo_reports_are_routed_clustered_and_have_consistent_histories(
    database_url: str, engine: Engine
) -> None:
    settings = Settings(database_url=database_url)
    stored = generate_demo_reports(2000, settings=settings, seed=7, say=lambda _: None)
    assert stored == 2000
    with engine.connect() as conn:
        r = conn.execute(
            text(
                """
                SELECT count(*) AS n,
                       count(DISTINCT ward_code) AS wards,
                       count(DISTINCT category_id) AS categories,
                       count(*) FILTER (WHERE unit_id <> gs_route(category_id, geom, ward_code,
                                                                  priority)) AS misrouted,
                       count(*) FILTER (WHERE ward_code <> (SELECT code FROM gs_locate(geom)))
                         AS misplaced,
                       count(*) FILTER (WHERE status = 'resolved') * 1.0 / count(*) AS resolved,
                       min(created_at) > now() - interval '366 days' AS within_a_year,
                       count(*) FILTER (WHERE ward_code = '00070') AS hoan_kiem
                  FROM reports WHERE source = 'demo'
                """
            )
        ).one()
        broken_histories = conn.execute(
            text(
                """
                SELECT count(*) FROM reports r
                 WHERE r.source = 'demo' AND (
                   (SELECT e.to_status FROM report_events e WHERE e.report_id = r.id
                     ORDER BY e.at DESC, e.id DESC LIMIT 1) <> r.status
                   OR (SELECT min(e.at) FROM report_events e WHERE e.report_id = r.id)
                      <> r.created_at
                   OR (SELECT max(e.at) FROM report_events e WHERE e.report_id = r.id)
                      <> r.updated_at
                   OR EXISTS (SELECT 1 FROM report_events e WHERE e.report_id = r.id
                                 AND e.at < r.created_at)
                   OR (r.closed_at IS NULL) <> (r.status NOT IN ('resolved', 'rejected')))
                """
            )
        ).scalar()
    assert r.n == 2000 and r.misrouted == 0 and r.misplaced == 0
    assert r.categories == 14 and r.wards > 40
    assert 0.6 < r.resolved < 0.95  # a plausible mix, not all closed nor all open
    assert r.within_a_year
    # Clustered: tiny central Hoàn Kiếm (0.2 % of the city's area) gets far more than 0.2 %.
    assert r.hoan_kiem > 2000 * 0.01
    assert broken_histories == 0
    with engine.connect() as conn:
        life = conn.execute(
            text(
                """
                SELECT count(*) FILTER (WHERE r.reopened) AS reopened,
                       count(*) FILTER (WHERE EXISTS (SELECT 1 FROM report_events e
                                          WHERE e.report_id = r.id
                                            AND e.to_status = 'transferred')) AS transferred,
                       count(*) FILTER (WHERE r.status NOT IN ('resolved', 'rejected')
                                          AND r.deadline_at < now()) AS overdue,
                       count(g.report_id) * 1.0 / count(*) FILTER (WHERE r.status = 'resolved')
                         AS rated,
                       avg(g.satisfied::int) AS satisfied,
                       count(*) FILTER (WHERE g.created_at < r.closed_at
                                           OR g.report_id IS NOT NULL
                                              AND r.status <> 'resolved') AS odd_ratings,
                       count(*) FILTER (WHERE r.deadline_at
                                              < gs_deadline(r.created_at, r.category_id))
                         AS early_deadlines
                  FROM reports r LEFT JOIN ratings g ON g.report_id = r.id
                 WHERE r.source = 'demo'
                """
            )
        ).one()
    assert life.reopened > 0 and life.transferred > 20 and life.overdue > 0
    assert 0.35 < life.rated < 0.55 and 0.55 < life.satisfied < 0.70  # iHanoi: about 62 %
    assert life.odd_ratings == 0 and life.early_deadlines == 0
