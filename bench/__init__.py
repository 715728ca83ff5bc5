"""Benchmarks: `make bench` seeds realistic volumes and prints `name: value unit` lines."""
