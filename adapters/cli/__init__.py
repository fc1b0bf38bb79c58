"""The `tandem` command line (design section 9)."""
