CREATE OR REPLACE FUNCTION gs_defer(p_task text, p_args jsonb[], p_at timestamptz DEFAULT NULL)
RETURNS bigint[] LANGUAGE sql VOLATILE AS $$
  -- The outbox's one way into the job queue: one procrastinate job of task p_task per
  -- element of p_args, on the 'notify' queue, due at p_at (now when NULL). Called inside
  -- the transaction that makes the change, so the jobs commit or roll back with it; the
  -- worker (geo-service worker) is woken by procrastinate's NOTIFY at commit.
  SELECT procrastinate_defer_jobs_v1(array_agg(
           ROW('notify', p_task, 0, NULL, NULL, a, p_at)::procrastinate_job_to_defer_v1))
    FROM unnest(p_args) AS a
$$;
