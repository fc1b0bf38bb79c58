"""Tandem's benchmarks (`make bench`): measured rates and ratios, printed, never asserted."""
