-- Uploads of any media kind (image, video, audio), with what was measured
-- when they arrived, so a task can check them without reading them again.
ALTER TABLE upload ADD COLUMN kind text NOT NULL DEFAULT 'image';
ALTER TABLE upload ADD COLUMN format text NOT NULL DEFAULT '';
ALTER TABLE upload ADD COLUMN duration_s double precision NOT NULL DEFAULT 0;
ALTER TABLE upload ADD COLUMN faces integer NOT NULL DEFAULT -1;
