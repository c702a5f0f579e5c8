"""The revisions, one file each, numbered in sequence (see ctdata.store)."""
