"""Loopback fakes of the platform APIs, for tests and benchmarks (never a public host)."""
