-- The ledger remembers each loaded file's modification time beside its size and path, so the
-- ingest pass skips a file whose (path, size, mtime) equals a loaded entry without reading and
-- hashing it again (ingest/loader.py: unchanged_files). Rows from before have NULL: those files
-- are hashed once more at the next pass, which fills it in.
ALTER TABLE raw.loaded_files ADD COLUMN IF NOT EXISTS file_mtime_ns bigint;
CREATE INDEX IF NOT EXISTS loaded_files_path ON raw.loaded_files (source, file_path);
