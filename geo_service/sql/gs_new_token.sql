CREATE OR REPLACE FUNCTION gs_new_token() RETURNS text LANGUAGE sql VOLATILE AS $$
  -- 122 random bits, URL-safe, 22 characters: the public tracking token.
  SELECT rtrim(translate(encode(decode(replace(gen_random_uuid()::text, '-', ''), 'hex'),
                                'base64'), '+/', '-_'), '=')
$$;
