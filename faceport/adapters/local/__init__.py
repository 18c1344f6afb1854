"""The embedded local shape: SQLite, files on disk, an in-process worker pool."""
