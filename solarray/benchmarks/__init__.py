"""Benchmarks every learned model is judged by: the benchmark Sun and the seed protocol."""
