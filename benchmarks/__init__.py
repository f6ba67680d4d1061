"""Dealrooms benchmark suite (run with `./dev bench`)."""
