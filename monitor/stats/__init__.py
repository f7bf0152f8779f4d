"""Pure statistics: distributions, score estimates, paired tests, power. No I/O."""
