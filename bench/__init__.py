"""The benchmark harness of `make bench` (see README.md)."""
