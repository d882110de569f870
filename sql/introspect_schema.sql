-- The schema of sql/introspect.sql, loaded into the schema first in search_path.
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN short_name AS varchar(80) CHECK (VALUE <> '');
CREATE TABLE people (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name short_name NOT NULL,
	mood mood NOT NULL DEFAULT 'ok',
	born date,
	score numeric(5,2) CHECK (score BETWEEN 0 AND 100),
	tags text[] COLLATE "C"
);
COMMENT ON TABLE people IS 'who is who';
COMMENT ON COLUMN people.score IS 'out of 100';
CREATE INDEX people_lower_name_idx ON people (lower(name));
CREATE TABLE visits (
	person_id bigint NOT NULL REFERENCES people ON DELETE CASCADE,
	at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (person_id, at)
);
CREATE VIEW cheerful AS SELECT id, name FROM people WHERE mood = 'happy';
CREATE FUNCTION visit_count(p bigint) RETURNS bigint
LANGUAGE sql STABLE RETURN (SELECT count(*) FROM visits WHERE person_id = p);
