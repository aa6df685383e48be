"""Data: readers, the synthetic Sun, preprocessing, the Ray Data ingest pipeline, training datasets."""
