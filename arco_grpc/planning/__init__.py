"""Pure planning: backfill ids, chunk plans (index -> partitions) and run keys."""
